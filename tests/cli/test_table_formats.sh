#!/usr/bin/env bash
# Tables as they come: gzipped (by magic bytes), with ';' or tab delimiters (sniffed from the
# header, or data.delimiter), data.train_limit, and relative data paths resolved against the
# config file's directory or, with --set, against the current directory. The same rows in any of
# these forms make the same model.
source "$(dirname "$0")/lib.sh"

WINE="$MLC_TEST_DATA_DIR/wine.csv"
mkdir -p "$WORK/tables" "$WORK/configs" "$WORK/elsewhere"
tr ',' ';' < "$WINE" | gzip -n > "$WORK/tables/wine-semicolon.csv.gz"
tr ',' '\t' < "$WINE" > "$WORK/tables/wine.tsv"
gzip -n -c "$WINE" > "$WORK/tables/wine-gzipped-but-named.csv"  # gzip without the name saying so

# table_config FILE PATH: a wine config whose data.path is PATH, written to FILE.
table_config() {
  cat > "$1" <<JSON
{
  "data": {"format": "csv", "path": "$2", "target": "class"},
  "model": {"architecture": "mlp", "hidden_layers": [16]},
  "training": {"epochs": 5, "batch_size": 16, "seed": 3, "threads": 1,
               "optimizer": {"name": "adam", "learning_rate": 0.01}}
}
JSON
  echo "$1"
}
CONFIG=$(table_config "$WORK/configs/wine.json" "$WINE")

# accuracy REF: its test accuracy, evaluating it.
accuracy() {
  run_mlc 0 --json eval "$1"
  json_field "$OUT" "d['metrics']['accuracy'], d['samples']"
}

mlc -q train "$CONFIG" --name plain > /dev/null
expected=$(accuracy plain)
for file in wine-semicolon.csv.gz wine.tsv wine-gzipped-but-named.csv; do
  run_mlc 0 --json -q train "$CONFIG" --name "${file%%.*}" --set "data.path=$WORK/tables/$file"
  json_field "$OUT" "d['train_samples'], d['validation_samples']" | grep -qx "128 14" \
    || fail "$file: the same split as the plain CSV: $OUT"
  [ "$(accuracy "${file%%.*}")" = "$expected" ] || fail "$file: not the same model as from the plain CSV"
done
ok "a gzipped CSV (by its magic bytes), ';' and tab delimiters sniffed: the same rows, the same model"

run_mlc 0 -q train "$CONFIG" --name semicolon --set "data.path=$WORK/tables/wine-semicolon.csv.gz" \
  --set 'data.delimiter=;'
expect_error 5 "wine-semicolon.csv.gz: no column named 'class' (columns: alcohol;malic_acid;" \
  -q train "$CONFIG" --name semicolon --set "data.path=$WORK/tables/wine-semicolon.csv.gz" \
  --set 'data.delimiter=,'
run_mlc 0 -q train "$CONFIG" --name tab --set "data.path=$WORK/tables/wine.tsv" --set 'data.delimiter="\t"'
ok "data.delimiter, when given, is used instead of the sniffed one"

# A model trained on commas takes a test file with semicolons, and new rows with tabs.
run_mlc 0 --json eval plain --data "$WORK/tables/wine-semicolon.csv.gz"
json_field "$OUT" "d['samples'], d['on_test_split']" | grep -qx "178 False" || fail "eval --data ';': $OUT"
head -4 "$WORK/tables/wine.tsv" | cut -f1-13 > "$WORK/tables/new-tabs.csv"
run_mlc 0 predict plain --input "$WORK/tables/new-tabs.csv"
[ "$(printf '%s\n' "$OUT" | wc -l)" -eq 4 ] || fail "predict --input with tabs: $OUT"
ok "eval --data and predict --input sniff their file's own delimiter"

run_mlc 0 --json -q train "$CONFIG" --name limited --set data.train_limit=60
json_field "$OUT" "d['train_samples'], d['validation_samples']" | grep -qx "60 14" \
  || fail "train_limit keeps 60 training rows and the validation rows: $OUT"
run_mlc 0 --json eval limited
limited_fingerprint=$(json_field "$OUT" "d['data_fingerprint'], d['samples']")
run_mlc 0 --json eval plain
[ "$(json_field "$OUT" "d['data_fingerprint'], d['samples']")" = "$limited_fingerprint" ] \
  || fail "train_limit changed the test split: $limited_fingerprint vs $OUT"
ok "data.train_limit keeps N training rows; the test split and its fingerprint are unchanged"

# Relative paths: in the config file against its directory, with --set against the current one.
cp "$WINE" "$WORK/tables/wine.csv"
RELATIVE=$(table_config "$WORK/configs/relative.json" "../tables/wine.csv")
cd "$WORK/elsewhere"
run_mlc 0 --json -q train ../configs/relative.json --name relative
run_mlc 0 --json show relative
[ "$(json_field "$OUT" "d['config']['data']['path']")" = "$WORK/tables/wine.csv" ] \
  || fail "a config's relative path is resolved against the config's directory: $OUT"
cd "$WORK/tables"
run_mlc 0 --json -q train "$RELATIVE" --name from-cwd --set data.path=wine.tsv
run_mlc 0 --json show from-cwd
json_field "$OUT" "d['config']['data']['path'], d['data_files'][0]['path']" \
  | grep -qx "$WORK/tables/wine.tsv $WORK/tables/wine.tsv" \
  || fail "--set data.path=REL is resolved against the current directory and recorded absolute: $OUT"
expect_error 4 "cannot open $WORK/elsewhere/wine.csv" \
  -q train "$CONFIG" --name missing --set data.path=../elsewhere/wine.csv
cd "$WORK"
# Through a link to the config's directory, "../" goes up from where the config really is.
mkdir -p real/cfg real/data && cp "$WINE" real/data/wine.csv && ln -s "$WORK/real/cfg" "$WORK/lnk"
table_config "$WORK/real/cfg/c.json" "../data/wine.csv" > /dev/null
run_mlc 0 --json -q train lnk/c.json --name linked
[ "$(json_field "$(mlc --json show linked)" "d['config']['data']['path']")" = "$WORK/real/data/wine.csv" ] \
  || fail "a relative path through a linked directory: $(mlc --json show linked)"
ok "relative data paths: against the config's directory in the file (through links as the kernel goes), the current directory with --set"

# Bad input: one line naming the key or the file, nothing recorded.
before=$(catalogue_fingerprint)
expect_error 5 "wine.json: data.delimiter: must be one of" -q train "$CONFIG" --name bad --set 'data.delimiter=;;'
expect_error 5 "wine.json: data.delimiter: must be one of" -q train "$CONFIG" --name bad --set 'data.delimiter='
expect_error 5 "wine.json: data.train_limit: must be an integer >= 1" -q train "$CONFIG" --name bad --set data.train_limit=0
head -c 200 "$WORK/tables/wine-semicolon.csv.gz" > "$WORK/tables/cut.csv.gz"
expect_error 5 "$WORK/tables/cut.csv.gz: truncated gzip stream" -q train "$CONFIG" --name bad --set "data.path=$WORK/tables/cut.csv.gz"
{ cat "$WORK/tables/wine-semicolon.csv.gz"; echo garbage; } > "$WORK/tables/trailing.csv.gz"
expect_error 5 "$WORK/tables/trailing.csv.gz: corrupt gzip stream (incorrect header check)" \
  -q train "$CONFIG" --name bad --set "data.path=$WORK/tables/trailing.csv.gz"
[ "$(catalogue_fingerprint)" = "$before" ] || fail "a refused train changed the catalogue"
ok "a bad delimiter, train_limit 0 and a cut or corrupt gzip file: one line naming the key or file (exit 5)"
