#!/usr/bin/env bash
# Shell completion (completions/mlc.bash, completions/_mlc): subcommands, flags, and model names,
# references and targets from the catalogue; silent without one. Then `cmake --install` puts the
# man pages and both completion files where man, bash-completion and zsh look for them.
source "$(dirname "$0")/lib.sh"
: "${MLC_BUILD_DIR:?}"

BASH_COMPLETION="$MLC_SOURCE_DIR/completions/mlc.bash"
ZSH_COMPLETION="$MLC_SOURCE_DIR/completions/_mlc"
mkdir bin && ln -s "$MLC_BIN" bin/mlc  # "mlc" on PATH, as users type it

# complete_bash WORD... : what bash's completion of mlc offers for the line "WORD..." with the
# cursor at its end (an empty last word completes after a space), one reply per line. bash
# splits the line at COMP_WORDBREAKS (NAME:1 is NAME, :, 1) before calling the function.
complete_bash() {
  PATH="$WORK/bin:$PATH" bash -c '
    source "$1"; shift
    COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
    COMP_WORDS=(); for word in "$@"; do
      while [[ $word == *:* ]]; do COMP_WORDS+=("${word%%:*}" :); word=${word#*:}; done
      COMP_WORDS+=("$word")
    done
    [[ ${COMP_WORDS[-1]} == "" && ${COMP_WORDS[-2]} == : ]] && unset "COMP_WORDS[-1]"
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    _mlc
    printf "%s\n" "${COMPREPLY[@]}"' complete_bash "$BASH_COMPLETION" "$@"
}

# bash: the function is registered and offers subcommands and flags.
out=$(bash -c 'source "$1" && complete -p mlc' _ "$BASH_COMPLETION")
[ "$out" = "complete -F _mlc mlc" ] || fail "complete -p mlc after sourcing: $out"
[ "$(complete_bash mlc dep)" = "deploy" ] || fail "mlc dep<TAB>: $(complete_bash mlc dep)"
[ "$(complete_bash "$MLC_BIN" dep)" = "deploy" ] || fail "$MLC_BIN dep<TAB>: $(complete_bash "$MLC_BIN" dep)"
[ "$(complete_bash mlc "" | wc -l)" -ge 18 ] || fail "mlc <TAB>: $(complete_bash mlc "")"
[ "$(complete_bash mlc deploy --ta)" = "--target" ] || fail "mlc deploy --ta<TAB>: $(complete_bash mlc deploy --ta)"
out=$(complete_bash mlc gc --)
for flag in --dry-run --purge-retired --min-age --home --json; do
  grep -qx -- "$flag" <<< "$out" || fail "mlc gc --<TAB> lacks $flag: $out"
done
grep -qx -- --target <<< "$out" && fail "mlc gc --<TAB> offers another command's flag: $out"
[ "$(complete_bash mlc list --state re | tr '\n' ' ')" = "registered retired " ] ||
  fail "mlc list --state re<TAB>: $(complete_bash mlc list --state re)"
ok "bash: complete -p mlc, mlc dep<TAB> is deploy, a subcommand's flags, --state's values"

# Without a catalogue: nothing offered, nothing printed, no home created.
out=$(complete_bash mlc show "" 2>&1)
[ -z "$out" ] || fail "mlc show <TAB> without a catalogue: '$out'"
[ ! -e "$MLC_HOME" ] || fail "completion created $MLC_HOME"
ok "bash: without a catalogue, silent and nothing created"

"$PYTHON" "$MLC_SOURCE_DIR/tests/cli/make_torchscript.py" byo.pt > /dev/null
mlc -q register --artifact byo.pt --name byo > /dev/null
mlc -q register --artifact byo.pt --name byo > /dev/null
mlc -q register --artifact byo.pt --name other > /dev/null
mlc -q deploy byo:1 --target staging > /dev/null
mlc -q alias byo champion 2 > /dev/null
[ "$(complete_bash mlc show "" | tr '\n' ' ')" = "byo other " ] || fail "mlc show <TAB>: $(complete_bash mlc show "")"
[ "$(complete_bash mlc show b | tr '\n' ' ')" = "byo byo:1 byo:2 byo@champion byo@staging " ] ||
  fail "mlc show b<TAB>: $(complete_bash mlc show b)"
[ "$(complete_bash mlc eval byo: | tr '\n' ' ')" = "1 2 " ] || fail "mlc eval byo:<TAB>: $(complete_bash mlc eval byo:)"
[ "$(complete_bash mlc deploy byo@s)" = "byo@staging" ] || fail "mlc deploy byo@s<TAB>: $(complete_bash mlc deploy byo@s)"
[ "$(complete_bash mlc deploy byo:2 --target "")" = "staging" ] ||
  fail "mlc deploy byo:2 --target <TAB>: $(complete_bash mlc deploy byo:2 --target "")"
[ "$(complete_bash mlc rollback o)" = "other" ] || fail "mlc rollback o<TAB>: $(complete_bash mlc rollback o)"
[ "$(complete_bash mlc alias byo "")" = "champion" ] || fail "mlc alias byo <TAB>: $(complete_bash mlc alias byo "")"
[ "$(complete_bash mlc alias byo champion "" | tr '\n' ' ')" = "1 2 " ] ||
  fail "mlc alias byo champion <TAB>: $(complete_bash mlc alias byo champion "")"
home=$MLC_HOME
out=$(unset MLC_HOME; complete_bash mlc --home "$home" history "" | tr '\n' ' ')
[ "$out" = "byo other " ] || fail "mlc --home DIR history <TAB>: $out"
ok "bash: models, NAME:VERSION, NAME@TARGET/ALIAS, targets, aliases, versions, --home"

# A name in the catalogue is data, never shell code: one planted behind mlc's back (sqlite3, a
# shared home) is offered as it is and runs nothing.
MLC_HOME="$WORK/hostile-home" mlc -q register --artifact byo.pt --name placeholder > /dev/null
"$PYTHON" -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('UPDATE models SET name = ?', ('\$(touch\${IFS}$WORK/PWNED)',)); c.commit()" \
  "$WORK/hostile-home/catalog.db"
out=$(MLC_HOME="$WORK/hostile-home" complete_bash mlc show "")
[ ! -e "$WORK/PWNED" ] || fail "completion ran code from a model name"
[ "$(head -1 <<< "$out")" = "\$(touch\${IFS}$WORK/PWNED)" ] || fail "the planted name is not offered as it is: $(printf %q "$out")"
ok "bash: a model name holding \$(...) is offered literally and runs nothing"

# zsh: the file parses, autoloads from $fpath, and offers the same words. compadd and
# _describe only work inside a completion widget, so stand-ins print what they are given.
command -v zsh > /dev/null || fail "zsh is not installed (scripts/install-deps.sh installs it)"
zsh -n "$ZSH_COMPLETION" || fail "zsh -n $ZSH_COMPLETION"
mkdir fpath && cp "$ZSH_COMPLETION" fpath/_mlc
complete_zsh() {
  PATH="$WORK/bin:$PATH" zsh -f -c '
    fpath=("$1" $fpath); shift
    autoload -Uz _mlc
    compadd() { [[ $1 == -- ]] && shift; print -l -- "$@"; }
    _describe() { print -l -- ${(P)${@[-1]}}; }
    _files() { print -- "(files)"; }
    words=("$@"); CURRENT=$#
    _mlc || true  # 1: nothing to offer' complete_zsh "$WORK/fpath" "$@"
}
grep -q "^deploy:Deploy a registered version" <<< "$(complete_zsh mlc dep)" || fail "zsh: mlc dep<TAB>: $(complete_zsh mlc dep)"
grep -qx -- --purge-retired <<< "$(complete_zsh mlc gc --)" || fail "zsh: mlc gc --<TAB>: $(complete_zsh mlc gc --)"
out=$(complete_zsh mlc show "" | LC_ALL=C sort | tr '\n' ' ')
[ "$out" = "byo byo:1 byo:2 byo@champion byo@staging other other:1 " ] || fail "zsh: mlc show <TAB>: $out"
[ "$(complete_zsh mlc deploy byo:2 --target "")" = "staging" ] || fail "zsh: --target <TAB>: $(complete_zsh mlc deploy byo:2 --target "")"
out=$(complete_zsh mlc --home "$WORK/none" show "" 2>&1)
[ -z "$out" ] && [ ! -e "$WORK/none" ] || fail "zsh without a catalogue: '$out'"
ok "zsh: _mlc loads and offers subcommands, flags, references and targets; silent without a catalogue"

# cmake --install: the man pages and the completion files land where their tools look.
cmake --install "$MLC_BUILD_DIR" --prefix "$WORK/p" > install.log || fail "cmake --install: $(cat install.log)"
for file in share/man/man1/mlc.1 share/bash-completion/completions/mlc share/zsh/site-functions/_mlc bin/mlc; do
  [ -f "$WORK/p/$file" ] || fail "cmake --install did not install $file"
done
cmp -s "$WORK/p/share/bash-completion/completions/mlc" "$BASH_COMPLETION" || fail "installed bash completion differs"
cmp -s "$WORK/p/share/zsh/site-functions/_mlc" "$ZSH_COMPLETION" || fail "installed zsh completion differs"
for command in $(complete_bash mlc ""); do
  page="$WORK/p/share/man/man1/mlc-$command.1"
  [ -f "$page" ] || fail "cmake --install did not install mlc-$command.1"
  MANWIDTH=80 man --warnings -l "$page" > page.txt 2> page.err
  [ ! -s page.err ] || fail "installed mlc-$command(1): $(cat page.err)"
done
out=$(PATH="$WORK/p/bin:$PATH" bash -c 'source "$1"; COMP_WORDS=(mlc dep); COMP_CWORD=1; _mlc; echo "${COMPREPLY[*]}"' _ \
  "$WORK/p/share/bash-completion/completions/mlc")
[ "$out" = "deploy" ] || fail "the installed completion with the installed mlc: $out"
ok "cmake --install: mlc.1, mlc-COMMAND.1 for each subcommand (rendering cleanly), bash and zsh completion"
