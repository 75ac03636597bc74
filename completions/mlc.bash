# bash completion for mlc. Installed as share/bash-completion/completions/mlc; or: source it.
#
# Subcommands and flags come from the mlc being completed (`mlc --help`, `mlc SUB --help`), so
# they never drift from the binary; model names, NAME:VERSION, NAME@TARGET, NAME@ALIAS and target
# names from its catalogue (`mlc --json list`, with the command line's --home). With no catalogue
# there is nothing to offer and nothing is printed: mlc's reading commands never create one.

# The mlc on the command line (a path, or the one on PATH).
_mlc_binary() {
  local mlc=${COMP_WORDS[0]}
  [[ $mlc == "~/"* ]] && mlc=$HOME/${mlc#"~/"}
  if [[ $mlc == */* ]]; then
    [[ -x $mlc ]] && printf '%s\n' "$mlc"
  else
    type -P "$mlc" || type -P mlc
  fi
}

# The option lines of a CLI11 help text as "NAME VALUE" lines: VALUE is 1 when the option takes
# a value (its name is followed by one space and a type: "--target TEXT"), else 0.
_mlc_help_flags() {
  "$@" --help 2> /dev/null | awk '
    /^[A-Za-z]+:$/ { options = ($0 == "Options:"); next }
    options && /^  -/ {
      takes = ($0 ~ /^  -[^ ]+ [A-Z]/); n = split($1, names, ",")
      for (i = 1; i <= n; ++i) print names[i], takes
    }'
}

# The catalogue as "KIND WORD" lines: model NAME, ref NAME:VERSION, ref NAME@TARGET,
# ref NAME@ALIAS, target TARGET, alias NAME ALIAS, version NAME VERSION. `mlc --json list`
# prints a document indented by 2 with sorted keys; a version's own keys are indented by 6, so
# its description and tags (deeper, or escaped inside one line) cannot pass for them.
_mlc_catalog() {
  local -a run=("$@" --json list)
  command -v timeout > /dev/null && run=(timeout 2 "${run[@]}")
  "${run[@]}" 2> /dev/null | awk '
    /^      "[a-z_]+": / {
      key = $1; gsub(/[":]/, "", key); value = $2; gsub(/[",]/, "", value)
      list = ""
      if (key == "model") model = value
      else if (key == "version") version = value
      else if ((key == "targets" || key == "aliases") && $2 == "[") list = key
      next
    }
    list != "" && /^        "/ { item = $1; gsub(/[",]/, "", item); items[list] = items[list] " " item; next }
    /^      \]/ { list = ""; next }
    /^    \}/ {
      if (model != "") {
        print "model", model; print "ref", model ":" version; print "version", model, version
        n = split(items["targets"], t, " ")
        for (i = 1; i <= n; ++i) { print "target", t[i]; print "ref", model "@" t[i] }
        n = split(items["aliases"], a, " ")
        for (i = 1; i <= n; ++i) { print "alias", model, a[i]; print "ref", model "@" a[i] }
      }
      model = ""; version = ""; items["targets"] = ""; items["aliases"] = ""
    }' | sort -u
}

# The words that start with PREFIX, one per line. Never `compgen -W`: it expands its word list
# ($(...), `...`, $VAR), and model, target and alias names come from a catalogue anyone with write
# access to the home could have filled.
_mlc_starting_with() {
  local prefix=$1 word
  shift
  for word in "$@"; do [[ $word == "$prefix"* ]] && printf '%s\n' "$word"; done
}

_mlc() {
  local mlc cur prev word command="" i
  local -a home=() positionals=() flags=() value_flags=() global_flags=() global_value_flags=()
  COMPREPLY=()
  mlc=$(_mlc_binary) || return 0
  [[ -n $mlc ]] || return 0

  # The word being completed, whole: bash splits NAME:VERSION at the colon (COMP_WORDBREAKS).
  cur=${COMP_WORDS[COMP_CWORD]}
  if [[ -n ${COMP_LINE+set} && -n ${COMP_POINT+set} ]]; then
    cur=${COMP_LINE:0:COMP_POINT}
    cur=${cur##*[[:space:]]}
  fi
  prev=${COMP_WORDS[COMP_CWORD - 1]}
  [[ $prev == : && $cur == *:* ]] && prev=${COMP_WORDS[COMP_CWORD - 3]}

  while read -r word takes; do
    global_flags+=("$word"); [[ $takes == 1 ]] && global_value_flags+=("$word")
  done < <(_mlc_help_flags "$mlc")

  # The subcommand, the positionals before the cursor and --home.
  for ((i = 1; i < COMP_CWORD; ++i)); do
    word=${COMP_WORDS[i]}
    case $word in
      --home) home=(--home "${COMP_WORDS[i + 1]}"); ((++i)) ;;
      --home=*) home=(--home "${word#--home=}") ;;
      -*)
        if [[ " ${global_value_flags[*]} ${value_flags[*]} " == *" $word "* ]]; then ((++i)); fi ;;
      :) ;;
      *)
        if [[ -z $command ]]; then
          command=$word
          while read -r word takes; do
            flags+=("$word"); [[ $takes == 1 ]] && value_flags+=("$word")
          done < <(_mlc_help_flags "$mlc" "$command")
        elif [[ ${COMP_WORDS[i - 1]} != : && ${COMP_WORDS[i + 1]} != : ]]; then
          positionals+=("$word")
        fi ;;
    esac
  done

  local -a words=()
  if [[ " ${global_value_flags[*]} ${value_flags[*]} " == *" $prev "* && $cur != -* ]]; then
    case $prev in
      --home) compopt -o filenames 2> /dev/null; mapfile -t COMPREPLY < <(compgen -d -- "$cur"); return 0 ;;
      --target) mapfile -t words < <(_mlc_catalog "$mlc" "${home[@]}" | awk '$1 == "target" { print $2 }') ;;
      --state) words=(trained evaluated exported registered deployed retired) ;;
      --name | --resume) mapfile -t words < <(_mlc_catalog "$mlc" "${home[@]}" | awk '$1 == "model" { print $2 }') ;;
      --data | --labels | --input | --output | --out | --artifact | --manifest | --token-file)
        compopt -o filenames 2> /dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return 0 ;;
      *) return 0 ;;  # a number, a gate, KEY=VALUE: nothing to offer
    esac
  elif [[ $cur == -* ]]; then
    words=("${flags[@]}" "${global_flags[@]}")
  elif [[ -z $command ]]; then
    mapfile -t words < <("$mlc" --help 2> /dev/null |
      awk '/^[A-Za-z]+:$/ { on = ($0 == "Subcommands:"); next } on && /^  [a-z]/ { print $1 }')
  else
    case $command in
      train) compopt -o filenames 2> /dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return 0 ;;
      verify | gc | serve) return 0 ;;
      list | rollback)
        ((${#positionals[@]} == 0)) || return 0
        mapfile -t words < <(_mlc_catalog "$mlc" "${home[@]}" | awk '$1 == "model" { print $2 }') ;;
      alias)
        case ${#positionals[@]} in
          0) mapfile -t words < <(_mlc_catalog "$mlc" "${home[@]}" | awk '$1 == "model" { print $2 }') ;;
          1) mapfile -t words < <(_mlc_catalog "$mlc" "${home[@]}" |
               awk -v m="${positionals[0]}" '$1 == "alias" && $2 == m { print $3 }') ;;
          2) mapfile -t words < <(_mlc_catalog "$mlc" "${home[@]}" |
               awk -v m="${positionals[0]}" '$1 == "version" && $2 == m { print $3 }') ;;
        esac ;;
      *)
        # A reference: model names; once the word names one model (NAME, NAME:, NAME@, or the
        # start of one name only), its versions, targets and aliases too.
        local catalog
        catalog=$(_mlc_catalog "$mlc" "${home[@]}")
        mapfile -t words < <(printf '%s\n' "$catalog" | awk '$1 == "model" { print $2 }')
        local -a models=()
        if [[ " ${words[*]} " == *" ${cur%%[:@]*} "* ]]; then
          models=("${cur%%[:@]*}")
        else
          mapfile -t models < <(_mlc_starting_with "${cur%%[:@]*}" "${words[@]}")
        fi
        if ((${#models[@]} == 1)); then
          mapfile -t -O "${#words[@]}" words < <(printf '%s\n' "$catalog" |
            awk -v m="${models[0]}" '$1 == "ref" && (index($2, m ":") == 1 || index($2, m "@") == 1) { print $2 }')
        fi ;;
    esac
  fi
  mapfile -t COMPREPLY < <(_mlc_starting_with "$cur" "${words[@]}")
  # bash inserts each reply in place of the text after the last word break, so a NAME:VERSION
  # reply loses what bash already holds before the colon.
  if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
    local colon_prefix=${cur%"${cur##*:}"}
    for i in "${!COMPREPLY[@]}"; do COMPREPLY[i]=${COMPREPLY[i]#"$colon_prefix"}; done
  fi
  return 0
}

complete -F _mlc mlc
