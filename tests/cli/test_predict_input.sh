#!/usr/bin/env bash
# mlc predict REF --input: scoring data a user brings, with no label column. Tables by column name
# in any order, with an id passed through, missing cells and raw category strings (gzipped too);
# PNG and JPEG images, a directory of them, IDX, an infer request. The numbers equal `mlc predict`
# on the same rows and Python's torch.jit.load of the export; bad input is one line naming the
# file, line and column, and --output is then never written.
source "$(dirname "$0")/lib.sh"

# --- A table: the wine cultivar as a name, and a string category "region" -----------------------
# wines.csv trains; check.csv is the same table with one region training never saw (read as
# missing); new.csv holds check.csv's rows without the cultivar, columns shuffled, an id among them.
"$PYTHON" - "$MLC_TEST_DATA_DIR/wine-missing.csv" <<'PY'
import csv, random, sys
with open(sys.argv[1], newline="") as stream:
    header, *body = list(csv.reader(stream))
names, regions = ["barolo", "grignolino", "barbera"], ["north", "south", "east"]
table_header = header[:-1] + ["region", "cultivar"]
table = [row[:-1] + ["" if i % 17 == 5 else regions[i * 7 % 3], names[int(row[-1])]]
         for i, row in enumerate(body)]
def write(name, rows):
    with open(name, "w", newline="") as stream:
        csv.writer(stream, lineterminator="\n").writerows(rows)
write("wines.csv", [table_header] + table)
table[3][-2] = "west"
write("check.csv", [table_header] + table)
order = table_header[:-1]
random.Random(11).shuffle(order)
new_header = order[:5] + ["id"] + order[5:]
rows = [dict(zip(table_header, row), id=f"w{i:03d}") for i, row in enumerate(table)]
write("new.csv", [new_header] + [[row[name] for name in new_header] for row in rows])
PY
cat > wines.json <<JSON
{
  "data": {"format": "csv", "path": "$WORK/wines.csv", "target": "cultivar", "categorical": ["region"],
           "impute": {"strategy": "median"}, "test_fraction": 0.2},
  "model": {"architecture": "mlp", "hidden_layers": [16]},
  "training": {"epochs": 15, "batch_size": 16, "seed": 3, "threads": 1,
               "optimizer": {"name": "adam", "learning_rate": 0.01}}
}
JSON
mlc -q train wines.json --name wines > /dev/null

# same_numbers A.json B.json KEY_A KEY_B: every row's KEY_A of A's predictions equals KEY_B of B's
# within 1e-5 (one value or a list), rows in the same order.
same_numbers() {
  "$PYTHON" - "$@" <<'PY' || fail "$1 and $2 disagree"
import json, sys
a, b = (json.load(open(name))["predictions"] for name in sys.argv[1:3])
ka, kb = sys.argv[3:5]
assert len(a) == len(b), (len(a), len(b))
def values(v): return v if isinstance(v, list) else [v]
worst = max(abs(x - y) for ra, rb in zip(a, b) for x, y in zip(values(ra[ka]), values(rb[kb])))
assert worst <= 1e-5, worst
PY
}

run_mlc 0 --json predict wines --input new.csv
validate predict-input
printf '%s' "$OUT" > from-checkpoint.json
json_field "$OUT" "d['model_source'], d['input_kind'], d['rows'], d['class_names'], d['predictions'][7]['columns']" \
  | grep -qx "checkpoint csv 178 \['barbera', 'barolo', 'grignolino'\] {'id': 'w007'}" \
  || fail "scores of an unexported version: $OUT"
run_mlc 0 --json predict wines --data check.csv --limit 0
printf '%s' "$OUT" > predict.json
same_numbers from-checkpoint.json predict.json logits logits
ok "a table without its label, columns shuffled, missing cells, raw categories: the numbers of mlc predict"

mlc -q eval wines > /dev/null
mlc -q export wines --out "$WORK/wines-export/model.pt" > /dev/null
run_mlc 0 --json predict wines --input new.csv
printf '%s' "$OUT" > from-export.json
json_field "$OUT" "d['model_source']" | grep -qx export || fail "an exported version runs its model.pt: $OUT"
same_numbers from-export.json from-checkpoint.json logits logits
"$PYTHON" "$MLC_SOURCE_DIR/tests/python/compare_scores.py" "$WORK/wines-export/model.pt" \
  "$WORK/wines-export/model.manifest.json" new.csv from-export.json > /dev/null \
  || fail "Python's torch.jit.load disagrees with predict --input on the table"
ok "an exported version scores with its stored model.pt; Python's torch.jit.load agrees within 1e-5"

run_mlc 0 predict wines --input new.csv
printf '%s\n' "$OUT" > scores.csv
[ "$(head -1 scores.csv)" = "id,predicted_index,predicted_label,p_barbera,p_barolo,p_grignolino" ] \
  || fail "CSV header: $(head -1 scores.csv)"
[ "$(wc -l < scores.csv)" -eq 179 ] || fail "one CSV row per input row: $(wc -l < scores.csv)"
"$PYTHON" - <<'PY' || fail "the CSV says what --json says"
import csv, json
rows = list(csv.DictReader(open("scores.csv")))
scores = json.load(open("from-export.json"))["predictions"]
for row, score in zip(rows, scores):
    assert row["id"] == score["columns"]["id"]
    assert int(row["predicted_index"]) == score["predicted_index"] and row["predicted_label"] == score["predicted_label"]
    for name, p in zip(["barbera", "barolo", "grignolino"], score["probabilities"]):
        assert abs(float(row["p_" + name]) - p) <= 1e-7
PY
gzip -c new.csv > new.csv.gz
mkdir out
run_mlc 0 predict wines --input new.csv.gz --output out/scores.csv
[ "$OUT" = "scored 178 rows of $WORK/new.csv.gz with wines:1 into $WORK/out/scores.csv" ] || fail "summary: $OUT"
cmp -s scores.csv out/scores.csv || fail "a gzipped CSV and --output give the same CSV"
run_mlc 0 --json predict wines --input new.csv --output out/scores2.csv
validate predict-input
json_field "$OUT" "d['output'], 'predictions' in d" | grep -qx "$WORK/out/scores2.csv False" || fail "--json --output: $OUT"
cmp -s scores.csv out/scores2.csv || fail "--output holds the CSV with --json too"
ok "CSV on stdout or --output: id, predicted index and label, p_<class>; gzipped input reads the same"

# The same rows as an infer request of raw cells (BYTES), as `mlc serve` takes them.
"$PYTHON" - "$WORK/wines-export/model.manifest.json" <<'PY'
import csv, json, sys
features = json.load(open(sys.argv[1]))["feature_names"]
rows = list(csv.DictReader(open("new.csv")))[:4]
json.dump({"inputs": [{"name": "input", "shape": [4, len(features)], "datatype": "BYTES",
                       "data": [row[name] for row in rows for name in features]}]},
          open("wines-request.json", "w"))
PY
run_mlc 0 --json predict wines --input wines-request.json
validate predict-input
printf '%s' "$OUT" > from-request.json
"$PYTHON" -c "import json; d = json.load(open('from-export.json')); d['predictions'] = d['predictions'][:4]; json.dump(d, open('first-four.json', 'w'))"
same_numbers from-request.json first-four.json logits logits
json_field "$OUT" "d['input_kind'], [p['columns'] for p in d['predictions']][3]" | grep -qx "infer_request {'index': '3'}" \
  || fail "infer request rows: $OUT"
ok "an infer request of raw table cells scores as the CSV rows do"

# Regression: the alcohol of the same wines; the new table's alcohol column is passed through.
sed -e 's/"target": "cultivar"/"target": "alcohol", "task": "regression", "ignore": ["cultivar"]/' wines.json > alcohol.json
mlc -q train alcohol.json --name alcohol > /dev/null
run_mlc 0 --json predict alcohol --input new.csv
validate predict-input
printf '%s' "$OUT" > alcohol-scores.json
json_field "$OUT" "d['task'], 'class_names' in d, sorted(d['predictions'][0]['columns'])" \
  | grep -qx "regression False \['alcohol', 'id'\]" || fail "regression scores: $OUT"
run_mlc 0 --json predict alcohol --data check.csv --limit 0
printf '%s' "$OUT" > alcohol-predict.json
same_numbers alcohol-scores.json alcohol-predict.json predicted_value value
run_mlc 0 predict alcohol --input new.csv
expected=$("$PYTHON" -c "import csv; h = next(csv.reader(open('new.csv'))); print(','.join(c for c in h if c in ('id', 'alcohol')) + ',predicted_value')")
[ "$(printf '%s\n' "$OUT" | head -1)" = "$expected" ] || fail "regression CSV header: $(printf '%s\n' "$OUT" | head -1)"
ok "regression: the predicted value, other columns passed through in their order"

# --- Refusals: one line, exit 5 (4 for a missing file), nothing written ------------------------
col_of() { head -1 "$1" | tr ',' '\n' | grep -nx "$2" | cut -d: -f1; }
"$PYTHON" -c "
import csv
rows = list(csv.reader(open('new.csv')))
rows[2][rows[0].index('ash')] = 'abc'
csv.writer(open('bad-number.csv', 'w', newline=''), lineterminator='\n').writerows(rows)
drop = rows[0].index('ash')
csv.writer(open('no-ash.csv', 'w', newline=''), lineterminator='\n').writerows(r[:drop] + r[drop + 1:] for r in rows)
"
expect_error 5 "bad-number.csv:3:$(col_of new.csv ash): column 'ash': 'abc' is not a number" \
  predict wines --input bad-number.csv --output out/refused.csv
expect_error 5 "no-ash.csv: no column 'ash' (the model's features: alcohol, malic_acid, ash," \
  predict wines --input no-ash.csv --output out/refused.csv
: > empty.csv
expect_error 5 "empty.csv: empty CSV file, expected a header row" predict wines --input empty.csv --output out/refused.csv
head -1 new.csv > header-only.csv
expect_error 5 "header-only.csv: no rows after the header" predict wines --input header-only.csv --output out/refused.csv
echo hello > notes.txt
expect_error 5 "notes.txt: unknown kind of input; give a CSV table" predict wines --input notes.txt --output out/refused.csv
expect_error 4 "cannot open absent.csv: No such file or directory" predict wines --input absent.csv --output out/refused.csv
[ "$(ls out)" = "$(printf 'scores.csv\nscores2.csv')" ] || fail "a refused input leaves nothing in out/: $(ls -a out)"
ok "a bad number (file:line:column), a missing feature column, an empty file, an unknown kind: refused, nothing written"

expect_error 2 "--data excludes --input" predict wines --input new.csv --data check.csv
expect_error 2 "--output requires --input" predict wines --output out/x.csv
expect_error 2 "is inside MLC_HOME" predict wines --input new.csv --output "$MLC_HOME/catalog.db"
expect_error 2 "is the --input file" predict wines --input new.csv --output new.csv
[ -s new.csv ] || fail "the input was overwritten"
ok "--input with --data, --output without --input, into MLC_HOME or over the input: usage errors"

# A version registered from a TorchScript file trained elsewhere scores from its manifest.
"$PYTHON" "$MLC_SOURCE_DIR/tests/cli/make_torchscript.py" art.pt
echo '{"inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 4]}], "outputs": [{"name": "y", "datatype": "FP32", "shape": [-1, 3]}], "labels": ["a", "b", "c"]}' > art.json
mlc -q register --artifact art.pt --name art --manifest art.json > /dev/null
echo '{"inputs": [{"name": "x", "shape": [2, 4], "datatype": "FP32", "data": [[1, 2, 3, 4], [5, 6, 7, 8]]}]}' > art-request.json
run_mlc 0 --json predict art --input art-request.json
validate predict-input
printf '%s' "$OUT" > art-scores.json
"$PYTHON" - <<'PY' || fail "a registered artifact's scores differ from torch.jit.load's"
import json, torch
logits = torch.jit.load("art.pt")(torch.tensor([[1., 2, 3, 4], [5, 6, 7, 8]]))
scores = json.load(open("art-scores.json"))
assert scores["class_names"] == ["a", "b", "c"] and scores["model_source"] == "export"
for row, score in enumerate(scores["predictions"]):
    assert (torch.tensor(score["logits"]) - logits[row]).abs().max() <= 1e-5
PY
ok "a version registered from a TorchScript file scores an infer request with its manifest's labels"

# --- Images ------------------------------------------------------------------------------------
mlc -q train "$(tiny_fmnist_config)" --name fm > /dev/null
"$PYTHON" "$MLC_SOURCE_DIR/tests/python/image_files.py" "$MLC_FASHION_MNIST_DIR/t10k-images-idx3-ubyte.gz" 5 imgs
run_mlc 0 --json predict fm --input imgs/png
validate predict-input
printf '%s' "$OUT" > png.json
json_field "$OUT" "d['input_kind'], d['rows'], [p['columns']['file'] for p in d['predictions']]" \
  | grep -qx "images 5 \['000.png', '001.png', '002.png', '003.png', '004.png'\]" || fail "a directory of PNGs: $OUT"
run_mlc 0 --json predict fm --input imgs/images-idx3-ubyte
validate predict-input
printf '%s' "$OUT" > idx.json
same_numbers png.json idx.json logits logits
gzip -c imgs/images-idx3-ubyte > imgs/images-idx3-ubyte.gz
run_mlc 0 --json predict fm --input imgs/images-idx3-ubyte.gz
printf '%s' "$OUT" > idx-gz.json
same_numbers idx-gz.json idx.json logits logits
run_mlc 0 --json predict fm --input imgs/request.json
validate predict-input
printf '%s' "$OUT" > request.json
same_numbers request.json idx.json logits logits
ok "a directory of PNGs, IDX (gzipped too) and an infer request of the same images: the same numbers"

run_mlc 0 --json predict fm --input imgs/rgb.png
printf '%s' "$OUT" > rgb.json
"$PYTHON" -c "import json; d = json.load(open('png.json')); d['predictions'] = d['predictions'][:1]; json.dump(d, open('png0.json', 'w'))"
same_numbers rgb.json png0.json logits logits
run_mlc 0 --json predict fm --input imgs/blocky.jpg
printf '%s' "$OUT" > jpeg.json
run_mlc 0 --json predict fm --input imgs/blocky-idx3-ubyte
printf '%s' "$OUT" > blocky-idx.json
same_numbers jpeg.json blocky-idx.json logits logits
mkdir mixed && cp imgs/png/*.png imgs/blocky.jpg mixed/ && echo "not an image" > mixed/README.txt
run_mlc 0 predict fm --input mixed
[ "$(printf '%s\n' "$OUT" | cut -d, -f1 | tr '\n' ' ')" = "file 000.png 001.png 002.png 003.png 004.png blocky.jpg " ] \
  || fail "a directory's PNG and JPEG files in name order, other files left alone: $OUT"
ok "an RGB PNG as grayscale, a JPEG, a directory of PNG and JPEG files"

mlc -q eval fm > /dev/null
mlc -q export fm --out "$WORK/fm-export/model.pt" > /dev/null
run_mlc 0 --json predict fm --input imgs/images-idx3-ubyte
printf '%s' "$OUT" > idx-export.json
json_field "$OUT" "d['model_source']" | grep -qx export || fail "exported: $OUT"
same_numbers idx-export.json idx.json logits logits
"$PYTHON" "$MLC_SOURCE_DIR/tests/python/compare_scores.py" "$WORK/fm-export/model.pt" \
  "$WORK/fm-export/model.manifest.json" imgs/images-idx3-ubyte idx-export.json > /dev/null \
  || fail "Python's torch.jit.load disagrees with predict --input on images"
ok "images: the export's numbers, and Python's torch.jit.load agrees within 1e-5"

expect_error 5 "small.png: the image is 32x32 pixels, the model takes 28x28 (width x height)" \
  predict fm --input imgs/small.png --output out/refused.csv
cp imgs/small.png mixed/
expect_error 5 "mixed/small.png: the image is 32x32 pixels" predict fm --input mixed --output out/refused.csv
expect_error 5 "new.csv: a CSV table, but fm takes images of [28,28]" predict fm --input new.csv
expect_error 5 "images-idx3-ubyte: IDX images, but wines takes table rows" predict wines --input imgs/images-idx3-ubyte
[ ! -e out/refused.csv ] || fail "a refused image leaves no --output"
ok "an image of another size, alone or in a directory, and input of the wrong kind are refused"

run_mlc 0 --json predict fm --limit 3
validate predict
json_field "$OUT" "len(d['predictions']), sorted(d['predictions'][0])" \
  | grep -qx "3 \['class', 'index', 'label', 'logits', 'target'\]" || fail "predict on the test split: $OUT"
ok "predict without --input still runs the test split"
