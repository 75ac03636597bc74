#!/usr/bin/env bash
# --help and man/mlc.1 document the same flags: for every subcommand `mlc --help` lists, each flag
# of `mlc SUB --help` is in the SYNOPSIS of man/mlc.1's "SUB" section and explained in it, and
# each flag that section's synopsis or option paragraphs document exists in `mlc SUB --help`.
# A flag added to the CLI without its man page text fails here, naming the subcommand and flag.
SELF=$(realpath "$0")
source "$(dirname "$0")/lib.sh"

MAN="${MLC_MAN_PAGE:-$MLC_SOURCE_DIR/man/mlc.1}"

# The flags of one CLI11 help text: its option lines ("  -h,--help ...", "  --limit INT ..."),
# one name per line, -h/--help left out (every command has them).
help_flags() {
  awk '/^[A-Za-z]+:$/ { options = ($0 == "Options:"); next }
       options && /^  -/ { n = split($1, names, ","); for (i = 1; i <= n; ++i) print names[i] }' |
    { grep -vx -e -h -e --help || true; } | sort -u
}

# The flags man/mlc.1's section ".SS SUB" documents, as "WHERE FLAG" lines: WHERE is "synopsis"
# (from ".SS SUB" to the first paragraph macro, and any later block starting ".B mlc SUB"),
# "option" (the tag line after ".TP") or "text" (anywhere else in the section). groff's escapes
# are undone first: \- is a dash, \fB \fI \fR \fP \& \(xx and quotes go.
man_flags() {
  awk -v command="$1" '
    function flags_of(line, where,    rest) {
      gsub(/\\-/, "-", line); gsub(/\\f[BIRP]|\\&|\\\(..|"/, "", line)
      rest = " " line
      while (match(rest, /[^A-Za-z0-9_.-]--?[A-Za-z][A-Za-z0-9-]*/)) {
        print where, substr(rest, RSTART + 1, RLENGTH - 1)
        rest = substr(rest, RSTART + RLENGTH)
      }
    }
    /^\.S[HS] / { in_section = ($1 == ".SS" && $2 == command); synopsis = in_section; tag = 0; next }
    !in_section { next }
    $1 == ".B" && $2 == "mlc" && $3 == command { synopsis = 1 }
    /^\.(PP|TP|IP|RS|LP|P)( |$)/ { synopsis = 0; tag = ($1 == ".TP"); next }
    synopsis { flags_of($0, "synopsis"); next }
    tag { flags_of($0, "option"); tag = 0; next }
    { flags_of($0, "text") }
  ' "$MAN" | sort -u
}

run_mlc 0 --help
commands=$(printf '%s\n' "$OUT" | awk '/^[A-Za-z]+:$/ { on = ($0 == "Subcommands:"); next } on && /^  [a-z]/ { print $1 }')
global=$(printf '%s\n' "$OUT" | help_flags)
[ "$(printf '%s\n' "$commands" | wc -l)" -ge 18 ] || fail "mlc --help lists too few subcommands: $commands"
sections=$(awk '$1 == ".SS" { print $2 }' "$MAN")
for command in $commands; do
  grep -qx "$command" <<< "$sections" ||
    fail "mlc $command: man/mlc.1 has no '.SS $command' section"
done
for section in $sections; do
  grep -qx "$section" <<< "$commands" ||
    fail "man/mlc.1 has a '.SS $section' section, but mlc --help has no subcommand $section"
done
ok "every subcommand of mlc --help has its section in man/mlc.1, and no section is left over"

problems=()
checked=0
for command in $commands; do
  run_mlc 0 "$command" --help
  cli=$(printf '%s\n' "$OUT" | help_flags)
  # A command with subcommands of its own (catalog copy): their flags belong to its section too.
  for sub in $(printf '%s\n' "$OUT" | awk '/^[A-Za-z]+:$/ { on = ($0 == "Subcommands:"); next } on && /^  [a-z]/ { print $1 }'); do
    run_mlc 0 "$command" "$sub" --help
    cli=$(printf '%s\n%s\n' "$cli" "$(printf '%s\n' "$OUT" | help_flags)" | grep -v '^$' | sort -u)
  done
  documented=$(man_flags "$command")
  for flag in $cli; do
    checked=$((checked + 1))
    grep -qx "synopsis $flag" <<< "$documented" ||
      problems+=("mlc $command: $flag is in 'mlc $command --help' but not in the synopsis of man/mlc.1's '$command' section")
    grep -Eqx "(option|text) $flag" <<< "$documented" ||
      problems+=("mlc $command: $flag is in 'mlc $command --help' but man/mlc.1's '$command' section never explains it (an option paragraph, .TP, or the text)")
  done
  for flag in $(printf '%s\n' "$documented" | awk '$1 != "text" { print $2 }' | sort -u); do
    grep -qx -- "$flag" <<< "$cli"$'\n'"$global" ||
      problems+=("mlc $command: man/mlc.1's '$command' section documents $flag, which 'mlc $command --help' does not have")
  done
done
if [ ${#problems[@]} -gt 0 ]; then
  printf 'FAIL: %s\n' "${problems[@]}" >&2
  fail "${#problems[@]} difference(s) between --help and man/mlc.1"
fi
[ "$checked" -ge 40 ] || fail "only $checked flags found in the subcommands' --help: is the parser broken?"
ok "$checked flags: each in its subcommand's man synopsis and explained there, and each documented flag in --help"

# The check itself: a flag that only --help has, and one that only the man page has, both fail.
[ -z "${MLC_MAN_PAGE:-}" ] || exit 0  # the runs below, on an altered copy of the page
sed 's/^\.SS gc$/.SS gc\n.B mlc gc\n.RB [ \\-\\-frobnicate ]/' "$MAN" > extra.1
TMPDIR="$WORK" MLC_MAN_PAGE="$WORK/extra.1" bash "$SELF" > /dev/null 2> extra.err && fail "a man-only flag passed the check"
grep -q "mlc gc: man/mlc.1's 'gc' section documents --frobnicate, which 'mlc gc --help' does not have" extra.err ||
  fail "a man-only flag is not named: $(cat extra.err)"
awk '!(/^\.RB \[ \\-\\-dry\\-run \]$/ && !done++) && !/^\.B \\-\\-dry\\-run$/' "$MAN" > missing.1
TMPDIR="$WORK" MLC_MAN_PAGE="$WORK/missing.1" bash "$SELF" > /dev/null 2> missing.err && fail "an undocumented flag passed the check"
grep -q "mlc gc: --dry-run is in 'mlc gc --help' but not in the synopsis of man/mlc.1's 'gc' section" missing.err ||
  fail "an undocumented flag is not named: $(cat missing.err)"
ok "a flag missing from the man page, or only in it, fails the check with the subcommand and the flag"

# The pages cut from man/mlc.1 at build time (cmake/man_pages.cmake): one per subcommand, each
# rendering without warnings, with its NAME, SYNOPSIS, DESCRIPTION and SEE ALSO mlc(1).
: "${MLC_BUILD_DIR:?}"
for command in $commands; do
  page="$MLC_BUILD_DIR/share/man/man1/mlc-$command.1"
  [ -f "$page" ] || fail "no $page: is cmake/man_pages.cmake run by the build?"
  MANWIDTH=80 man --warnings -l "$page" > page.txt 2> page.err
  [ ! -s page.err ] || fail "mlc-$command(1) has warnings: $(cat page.err)"
  for heading in NAME SYNOPSIS DESCRIPTION "GLOBAL OPTIONS" "SEE ALSO"; do
    grep -qx "$heading" page.txt || fail "mlc-$command(1) has no $heading"
  done
  grep -A1 -x NAME page.txt | grep -q "^ *mlc-$command - [a-z]" || fail "mlc-$command(1)'s NAME line: $(grep -A1 -x NAME page.txt)"
  grep -A1 -x SYNOPSIS page.txt | grep -q "^ *mlc $command" || fail "mlc-$command(1)'s SYNOPSIS: $(grep -A2 -x SYNOPSIS page.txt)"
  grep -A1 -x "SEE ALSO" page.txt | grep -q "mlc(1)" || fail "mlc-$command(1) does not refer to mlc(1)"
done
[ "$(ls "$MLC_BUILD_DIR/share/man/man1" | grep -c '^mlc-.*\.1$')" -eq "$(printf '%s\n' $commands | wc -l)" ] ||
  fail "pages for subcommands mlc does not have: $(ls "$MLC_BUILD_DIR/share/man/man1")"
ok "mlc-COMMAND(1) for each subcommand, cut from man/mlc.1, renders without warnings"
