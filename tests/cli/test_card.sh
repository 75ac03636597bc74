#!/usr/bin/env bash
# mlc card: a model card per task (a Fashion-MNIST classifier, a regression on wine's alcohol), its
# SVG valid XML, its sections, the heat map's K*K cells, the data's sha256; hostile class names,
# description and tags escaped; headless Chromium renders it (a screenshot that is not blank, the
# svg elements in the DOM); --out refused inside the home, a missing parent, an unknown version;
# --json against its schema. About 20 s.
source "$(dirname "$0")/lib.sh"
check_card() { "$PYTHON" "$MLC_SOURCE_DIR/tests/cli/check_card.py" "$@" || fail "check_card.py $*"; }
data_sha256() { json_field "$(mlc --json show "$1")" "d['data_files'][0]['sha256']"; }

mlc -q train "$(tiny_fmnist_config)" --name fm > /dev/null
mlc -q eval fm > /dev/null
run_mlc 0 card fm
[ "$OUT" = "fm:1 card: $WORK/fm-v1-card/card.html and $WORK/fm-v1-card/card.md" ] || fail "card's line: $OUT"
check_card card fm-v1-card --classes 10 --sha256 "$(data_sha256 fm)"
grep -qF "T-shirt/top" fm-v1-card/card.html || fail "the class names are not in the card"
fingerprint=$(json_field "$(mlc --json show fm)" "d['evaluation']['data_fingerprint']")
for file in card.html card.md; do
  grep -qF "its test split, data fingerprint $fingerprint" "fm-v1-card/$file" || fail "$file does not say what the evaluation tested"
done
ok "a classifier's card (default ./NAME-vVERSION-card): valid SVG, every section, a 10x10 heat map, the data's sha256"

run_mlc 0 --json card fm --out "$WORK/cards"; validate card
[ "$(json_field "$OUT" "d['html'], d['markdown']")" = "$WORK/cards/card.html $WORK/cards/card.md" ] \
  || fail "--json paths: $OUT"
[ -z "$(find "$WORK/cards" -name '.*')" ] || fail "a temporary file was left: $(ls -a "$WORK/cards")"
MLC_COMPUTE_LIB=/nonexistent/libmlc_compute.so run_mlc 0 card fm --out "$WORK/cards"
ok "--json: model, version and the two absolute paths, valid against card.schema.json; written again without libtorch"

mlc -q train "$(alcohol_config 3)" --name alcohol > /dev/null
mlc -q eval alcohol > /dev/null
run_mlc 0 card alcohol --out alcohol-card
check_card card alcohol-card --regression --sha256 "$(data_sha256 alcohol)"
grep -qF "validation rmse" alcohol-card/card.html || fail "no rmse learning curve"
ok "a regression's card: valid SVG, rmse curve, residual quantiles, no heat map"

# Class names, a description and a tag that are markup. Quotes in a CSV cell are doubled.
"$PYTHON" - "$MLC_TEST_DATA_DIR/wine.csv" hostile.csv <<'PY'
import csv, sys
names = {"0": '<b>&"x', "1": "O'Neil <i>", "2": "plain|pipe"}
rows = list(csv.reader(open(sys.argv[1])))
with open(sys.argv[2], "w", newline="") as out:
    writer = csv.writer(out)
    writer.writerow(rows[0])
    writer.writerows(row[:-1] + [names[row[-1]]] for row in rows[1:])
PY
sed -e "s#$MLC_TEST_DATA_DIR/wine.csv#$WORK/hostile.csv#" -e 's/"epochs": 30/"epochs": 2/' "$(wine_config)" > hostile.json
mlc -q train hostile.json --name hostile > /dev/null
mlc -q eval hostile > /dev/null
mlc -q edit hostile --description '<script>alert(1)</script> & "q"' --tag 'k<&>=v"<x>' > /dev/null
run_mlc 0 card hostile --out hostile-card
check_card card hostile-card --classes 3 --sha256 "$(data_sha256 hostile)" \
  --hostile '<b>&"x' --hostile "O'Neil <i>" --hostile '<script>alert(1)</script>' --hostile 'k<&>=v"<x>'
grep -qF 'plain\|pipe' hostile-card/card.md || fail "a '|' in a Markdown cell is not escaped"
ok "class names, description and tags that are markup appear escaped in HTML, SVG and Markdown"

# A version registered from a TorchScript file: no config, no epochs, metrics its manifest states.
"$PYTHON" "$MLC_SOURCE_DIR/tests/cli/make_torchscript.py" byo.pt
echo '{"labels": ["a", "b", "c"], "metrics": {"accuracy": 0.93}}' > byo-manifest.json
mlc -q register --artifact byo.pt --name byo --manifest byo-manifest.json > /dev/null
run_mlc 0 card byo
for text in "self-reported (manifest), not measured by mlc" "No epochs recorded" "No training config" \
            "$(sha256sum byo.pt | cut -d' ' -f1)"; do
  grep -qF "$text" byo-v1-card/card.html || fail "the artifact's card lacks '$text'"
done
! grep -q 'class="cell"' byo-v1-card/card.html || fail "an artifact's card draws a confusion matrix it does not have"
ok "a registered artifact's card: its manifest's metrics labelled self-reported, no config or curves"

# Headless Chromium (Debian's chromium, scripts/install-deps.sh) renders the page.
command -v chromium > /dev/null || fail "chromium is missing (scripts/install-deps.sh)"
mkdir -p chrome-home
browse() { HOME="$WORK/chrome-home" timeout 60 chromium --headless --no-sandbox --disable-gpu "$@" 2> chromium.err; }
browse --screenshot="$WORK/card.png" --window-size=1200,2400 "file://$WORK/hostile-card/card.html" > /dev/null \
  || fail "chromium could not render the card: $(tail -3 chromium.err)"
check_card png "$WORK/card.png"
browse --dump-dom "file://$WORK/hostile-card/card.html" > dom.html || fail "chromium --dump-dom: $(tail -3 chromium.err)"
[ "$(grep -o '<svg ' dom.html | wc -l)" -eq "$(grep -o '<svg ' hostile-card/card.html | wc -l)" ] \
  || fail "the DOM lost svg elements: $(grep -c '<svg' dom.html)"
[ "$(grep -o '<rect class="cell"' dom.html | wc -l)" -eq 9 ] || fail "the DOM has no 3x3 heat map"
! grep -qF '<script>alert' dom.html || fail "the description became a script element"
ok "headless Chromium renders it: a screenshot with colour, the svg elements and heat map cells in the DOM"

expect_error 4 "model 'fm' has no version 9" card fm:9
expect_error 4 "no model named 'nope'" card nope
expect_error 2 "is inside MLC_HOME" card fm --out "$MLC_HOME/card"
[ ! -e "$MLC_HOME/card" ] || fail "a refused --out was created"
expect_error 2 "is inside MLC_HOME" card fm --out "$MLC_HOME"
[ -z "$(find "$MLC_HOME" -name 'card.*')" ] || fail "a card was written into the home"
expect_error 5 "--out $WORK/missing/card: its parent directory $WORK/missing does not exist" card fm --out "$WORK/missing/card"
[ ! -e "$WORK/missing" ] || fail "the missing parent was created"
touch a-file
expect_error 2 "--out a-file exists and is not a directory" card fm --out a-file
ok "unknown version or model (exit 4), --out inside the home (exit 2, nothing written), a missing parent (exit 5)"
