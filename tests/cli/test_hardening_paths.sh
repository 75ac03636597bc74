#!/usr/bin/env bash
# Issue 13: mlc never writes or deletes outside MLC_HOME through a symbolic link inside it (exit 7,
# naming the link), no name can be taken for mlc's own bookkeeping, export --out never lands
# inside the home (exit 2), and a home that cannot be written is exit 8 with the OS's reason.
source "$(dirname "$0")/lib.sh"

D="$MLC_HOME/deployments"

# The mounts made below are undone however the suite ends.
cleanup_mounts() {
  local status=$? dir
  for dir in "$D/full" "$D" "$MLC_HOME"; do
    if mountpoint -q "$dir" 2> /dev/null; then umount "$dir"; fi
  done
  return $status
}
trap 'cleanup_mounts; on_exit' EXIT

# A version that can be deployed: 2 epochs of wine.
cat > "$WORK/wine.json" <<JSON
{
  "data": {"format": "csv", "path": "$MLC_TEST_DATA_DIR/wine.csv", "target": "class", "test_fraction": 0.2},
  "model": {"architecture": "mlp", "hidden_layers": [8]},
  "training": {"epochs": 2, "batch_size": 16, "seed": 3, "threads": 1,
               "optimizer": {"name": "adam", "learning_rate": 0.01}}
}
JSON
mlc -q train "$WORK/wine.json" --name m > /dev/null
take_through m:1 registered
mlc -q deploy m:1 --target staging > /dev/null
mlc -q deploy m:1 --target prod > /dev/null

# outside_dir NAME: a directory of the user's outside the home, with files mlc must never touch.
outside_dir() {
  local dir="$WORK/$1"
  mkdir -p "$dir/m"
  echo "the user's" > "$dir/keep.txt"
  echo "the user's" > "$dir/m/model.pt"
  printf '%s\n' "$dir"
}
# untouched DIR: its files are exactly what outside_dir made.
untouched() {
  [ "$(cd "$1" && find . | sort | tr '\n' ' ')" = ". ./keep.txt ./m ./m/model.pt " ] \
    || fail "$1 was changed: $(cd "$1" && find . | sort | tr '\n' ' ')"
  [ "$(cat "$1/keep.txt" "$1/m/model.pt")" = "the user's"$'\n'"the user's" ] || fail "$1: files changed"
}
link_error() { printf '%s' "$1: is a symbolic link; mlc never follows links inside its home"; }

# --- Item 1: links inside the home -------------------------------------------------------------

# The issue's example: deployments/prod is a link to the user's directory.
out=$(outside_dir prod-elsewhere)
mv "$D/prod" "$WORK/prod.saved"
ln -s "$out" "$D/prod"
before=$(catalogue_fingerprint)
expect_error 7 "$(link_error "$D/prod")" deploy m:1 --target prod
expect_error 7 "$(link_error "$D/prod")" retire --force m:1
expect_error 7 "$(link_error "$D/prod")" verify
expect_error 7 "$(link_error "$D/prod")" gc
[ "$(catalogue_fingerprint)" = "$before" ] || fail "a refused command changed the catalogue"
untouched "$out"
rm "$D/prod"; mv "$WORK/prod.saved" "$D/prod"
ok "deployments/TARGET a link: deploy, retire --force, verify and gc refuse (exit 7), its files untouched"

out=$(outside_dir name-elsewhere)
mv "$D/staging/m" "$WORK/m.saved"
ln -s "$out/m" "$D/staging/m"
before=$(catalogue_fingerprint)
expect_error 7 "$(link_error "$D/staging/m")" deploy m:1 --target staging
expect_error 7 "$(link_error "$D/staging/m")" retire --force m:1
expect_error 7 "$(link_error "$D/staging/m")" verify
[ "$(catalogue_fingerprint)" = "$before" ] || fail "a refused command changed the catalogue"
untouched "$out"
rm "$D/staging/m"; mv "$WORK/m.saved" "$D/staging/m"
ok "deployments/TARGET/NAME a link: deploy, retire --force and verify refuse (exit 7), its files untouched"

out=$(outside_dir deployments-elsewhere)
mv "$D" "$WORK/deployments.saved"
ln -s "$out" "$D"
expect_error 7 "$(link_error "$D")" deploy m:1 --target qa
expect_error 7 "$(link_error "$D")" retire --force m:1
expect_error 7 "$(link_error "$D")" verify
untouched "$out"
rm "$D"; mv "$WORK/deployments.saved" "$D"
ok "deployments itself a link: deploy, retire --force and verify refuse (exit 7), its files untouched"

out=$(outside_dir tmp-elsewhere)
mv "$MLC_HOME/tmp" "$WORK/tmp.saved"
ln -s "$out" "$MLC_HOME/tmp"
run_mlc 7 -q train "$WORK/wine.json" --name t
[ "$ERR" = "mlc: error: $(link_error "$MLC_HOME/tmp")" ] || fail "train with tmp a link: $ERR"
untouched "$out"
rm "$MLC_HOME/tmp"; mv "$WORK/tmp.saved" "$MLC_HOME/tmp"
rm -r "$MLC_HOME/runs"  # the refused train's run, kept for a resume
ok "tmp a link: refused (exit 7) where the home's layout is made, its files untouched"

# The home itself may be a link: the user chose it.
ln -s "$MLC_HOME" "$WORK/home-link"
MLC_HOME="$WORK/home-link" run_mlc 0 deploy m:1 --target qa
MLC_HOME="$WORK/home-link" run_mlc 0 verify
ok "a home that is itself a link works"

# --- Item 2: names that collide with bookkeeping ----------------------------------------------

bookkeeping="must not start with '.' (such names are mlc's own bookkeeping)"
expect_error 5 "model name '.m.new-1' $bookkeeping" train "$WORK/wine.json" --name .m.new-1
expect_error 5 "target '.m.new-1' $bookkeeping" deploy m:1 --target .m.new-1
expect_error 5 "alias '.champion' $bookkeeping" alias m .champion 1
expect_error 5 "target '.prod' $bookkeeping" rollback m --target .prod
expect_error 2 "model name '.m.new-1' $bookkeeping" deploy .m.new-1:1 --target prod
[ ! -e "$MLC_HOME/runs" ] || [ -z "$(ls -A "$MLC_HOME/runs")" ] || fail "a refused train left a run"
ok "names starting with '.' are refused for models, targets and aliases (exit 5; 2 inside a reference)"

# The issue's example: a directory named like an unfinished change of m, but not of mlc's shape,
# is nobody's leftover; m's live directory is kept and so is the hand-made one.
for name in .m.new-1 .m.removed-x .m.new-0123456789ABCDEF; do
  mkdir "$D/staging/$name"; echo "someone's" > "$D/staging/$name/model.pt"
done
live_before=$(sha256sum "$D/staging/m/model.pt")
run_mlc 0 --json verify
json_field "$OUT" "d['ok'], d['recovered']" | grep -qx "True \[\]" || fail "verify took a hand-made directory for a leftover: $OUT"
run_mlc 0 gc --min-age 0
run_mlc 0 deploy m:1 --target staging
[ "$(sha256sum "$D/staging/m/model.pt")" = "$live_before" ] || fail "m's live directory changed"
for name in .m.new-1 .m.removed-x .m.new-0123456789ABCDEF; do
  [ "$(cat "$D/staging/$name/model.pt")" = "someone's" ] || fail "$name was taken for m's leftover"
  rm -r "${D:?}/staging/$name"
done
ok "a hand-made .m.new-1 is not taken for a leftover of m by verify, gc or deploy; m stays deployed"

# --- Item 3: export --out inside the home ------------------------------------------------------

before=$(catalogue_fingerprint)
catalogue_sha=$(sha256sum < "$MLC_HOME/catalog.db")
for out in "$MLC_HOME/catalog.db" "$D/staging/m/model.pt" "$MLC_HOME/new/m.pt" "$MLC_HOME/../home/x.pt"; do
  expect_error 2 "--out $out is inside MLC_HOME ($MLC_HOME); export to a path outside it" export m:1 --out "$out"
done
ln -s "$D/staging/m" "$WORK/into-home"
expect_error 2 "--out $WORK/into-home/model.pt is inside MLC_HOME" export m:1 --out "$WORK/into-home/model.pt"
ln -s "$MLC_HOME/catalog.db" "$WORK/catalog-link.pt"
expect_error 2 "--out $WORK/catalog-link.pt is inside MLC_HOME" export m:1 --out "$WORK/catalog-link.pt"
(cd "$MLC_HOME" && expect_error 2 "--out m.pt is inside MLC_HOME" export m:1 --out m.pt)
MLC_HOME="$WORK/home-link" expect_error 2 "--out $MLC_HOME/x.pt is inside MLC_HOME" export m:1 --out "$MLC_HOME/x.pt"
[ "$(catalogue_fingerprint)" = "$before" ] || fail "a refused export changed the home"
[ "$(sha256sum < "$MLC_HOME/catalog.db")" = "$catalogue_sha" ] || fail "catalog.db changed"
[ ! -e "$MLC_HOME/new" ] || fail "a refused export made a directory in the home"
run_mlc 0 export m:1 --out "$WORK/elsewhere/m.pt"
ok "export --out inside the home, directly, relatively or through a link, is refused (exit 2)"

# --- Item 13: a home that cannot be written ----------------------------------------------------

# read_only DIR: bind-mounts DIR read-only over itself (root ignores permissions, not a read-only
# mount); writable DIR undoes it.
read_only() { mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" "$1"; }
writable() { umount "$1"; }
if read_only "$D" 2> /dev/null; then
  before=$(catalogue_fingerprint)
  expect_error 8 "cannot create $D/qa2: Read-only file system" deploy m:1 --target qa2
  expect_error 8 "cannot remove $D/prod/m: Read-only file system" retire --force m:1
  [ "$(catalogue_fingerprint)" = "$before" ] || fail "a failed command changed the catalogue"
  writable "$D"
  read_only "$MLC_HOME"
  expect_error 8 "" deploy m:1 --target qa3
  expect_error 8 "" retire --force m:1
  writable "$MLC_HOME"
  [ "$(catalogue_fingerprint)" = "$before" ] || fail "a failed command changed the catalogue"
  ok "a read-only home or deployments directory: deploy and retire exit 8 naming the path and the reason"

  # A target directory on a full filesystem of its own.
  mkdir "$D/full"
  mount -t tmpfs -o size=64k tmpfs "$D/full"
  dd if=/dev/zero of="$D/full/filler" bs=4k count=64 2> /dev/null || true
  expect_error 8 "No space left on device" deploy m:1 --target full
  [ "$(ls -A "$D/full")" = filler ] || fail "a failed deploy left $(ls -A "$D/full")"
  umount "$D/full"
  rmdir "$D/full"
  [ "$(catalogue_fingerprint)" = "$before" ] || fail "a failed deploy changed the catalogue"
  ok "a full disk under deployments/: deploy exits 8 naming the reason, nothing left behind"
else
  echo "skip - cannot mount here (not root): read-only and full homes untested"
fi

# The catalogue and the store are files below the home too: a link there is refused, not opened.
mv "$MLC_HOME/catalog.db" "$WORK/catalog.saved"
ln -s "$WORK/catalog.saved" "$MLC_HOME/catalog.db"
expect_error 7 "$(link_error "$MLC_HOME/catalog.db")" list
expect_error 7 "$(link_error "$MLC_HOME/catalog.db")" deploy m:1 --target qa4
rm "$MLC_HOME/catalog.db"; mv "$WORK/catalog.saved" "$MLC_HOME/catalog.db"
sha=$(json_field "$(mlc --json show m:1)" "d['artifacts']['checkpoint_sha256']")
stored="$MLC_HOME/artifacts/sha256/${sha:0:2}/$sha"
mv "$stored" "$WORK/checkpoint.saved"; ln -s "$WORK/checkpoint.saved" "$stored"
run_mlc 7 --json verify; validate verify
json_field "$OUT" "[(p['kind'], p['subject']) for p in d['problems']]" \
  | grep -qx "\[('artifact_corrupt', 'm:1')\]" || fail "a linked store file: $OUT"
case "$OUT" in *"$(link_error "$stored")"*) ;; *) fail "verify does not name the link: $OUT" ;; esac
rm "$stored"; mv "$WORK/checkpoint.saved" "$stored"
run_mlc 0 verify
ok "a linked catalog.db is refused (exit 7); verify reports a linked store file without reading it"
