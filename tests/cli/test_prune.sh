#!/usr/bin/env bash
# mlc export --variant prune --fraction F [--finetune-epochs N] (issue 9 item 4): a smaller dense
# model (fewer parameters, a smaller file), measured beside the fp32 export, listed by show,
# deployed as any variant and run by Python's torch.jit.load; the refusals the other variant suite
# does not cover (a fraction that is not a number or above 1, an LSTM): one line, nothing stored.
# The option checks shared with the other kinds are in test_variants.sh. About 10 s.
source "$(dirname "$0")/lib.sh"

# A wine MLP wide enough for the file's size to be the weights.
mlc -q train "$(wine_config)" --name w --set 'model.hidden_layers=[128,64]' --set training.epochs=10 > /dev/null
mlc -q eval w:1 > /dev/null

# --- refusals -------------------------------------------------------------------------------------
before=$(catalogue_fingerprint)
expect_error 2 "--fraction 1.5: expected a fraction of units to remove, 0 < F < 1" export w:1 --variant prune --fraction 1.5
expect_error 2 "--fraction" export w:1 --variant prune --fraction abc
expect_error 2 "--fraction needs --variant prune" export w:1 --variant int8 --fraction 0.5
expect_error 2 "--finetune-epochs 1000001: at most 1000000, as training.epochs" export w:1 --variant prune --fraction 0.5 --finetune-epochs 1000001
[ "$(catalogue_fingerprint)" = "$before" ] || fail "a refused prune option changed the catalogue or the store"
mlc -q train "$(wine_config)" --name r --set 'model={"architecture": "lstm", "hidden_size": 4}' --set training.epochs=1 > /dev/null
mlc -q eval r:1 > /dev/null
before=$(catalogue_fingerprint)
expect_error 6 "a lstm model cannot be pruned: --variant prune removes hidden units of mlp, cnn and transformer models only" \
  export r:1 --variant prune --fraction 0.5
[ "$(catalogue_fingerprint)" = "$before" ] || fail "a refused prune changed the catalogue or the store"
ok "--fraction 1.5 or abc, --fraction with another kind, --finetune-epochs 1000001: exit 2; an LSTM: exit 6; nothing stored"

# --- prune ----------------------------------------------------------------------------------------
mlc -q export w:1 --out "$WORK/dist/w-v1.pt" > /dev/null   # the fp32 export, for Python to compare
run_mlc 0 --json export w:1 --variant prune --fraction 0.5 --finetune-epochs 1 --out "$WORK/dist/"; validate export
json_field "$OUT" "d['variant']['name'], d['variant']['kind'], d['variant']['details']['method'], d['variant']['details']['fraction'], d['variant']['details']['finetune_epochs'], d['variant']['details']['model']['hidden_layers']" \
  | grep -qx "prune prune structured, L2 norm of incoming weights 0.5 1 \[64, 32\]" || fail "export --variant prune: $OUT"
json_field "$OUT" "[(l['name'], l['units_before'], l['units_after']) for l in d['variant']['details']['layers']]" \
  | grep -qx "\[('fc0', 128, 64), ('fc1', 64, 32)\]" || fail "the pruned layers: $OUT"
# 13*128+128 + 128*64+64 + 64*3+3 = 10243 parameters; 13*64+64 + 64*32+32 + 32*3+3 = 3075.
json_field "$OUT" "d['variant']['details']['parameters_before'], d['variant']['details']['parameters_after'], d['variant']['variant']['size_bytes'] < 0.5 * d['variant']['fp32']['size_bytes'], d['variant']['variant']['size_bytes'] == $(stat -c %s "$WORK/dist/w-v1-prune.pt"), abs(d['variant']['deltas']['accuracy']) <= 0.1" \
  | grep -qx "10243 3075 True True True" || fail "prune parameters, sizes, delta: $OUT"
ok "prune 0.5 with a fine-tune epoch: 128-64 hidden units become 64-32, 3075 parameters of 10243, under half the file, accuracy within 0.1"

run_mlc 0 show w:1
grep -q "^  variant      prune (prune): .* KiB (fp32 .* KiB); accuracy " <<< "$OUT" || fail "show: $OUT"
run_mlc 0 --json show w:1; validate show
json_field "$OUT" "[(v['name'], v['kind']) for v in d['variants']]" | grep -qx "\[('prune', 'prune')\]" || fail "show --json: $OUT"
ok "show lists the pruned variant"

mlc -q register w:1 > /dev/null
mlc -q deploy w:1 --target prod --variant prune > /dev/null
cmp -s "$MLC_HOME/deployments/prod/w/model.pt" "$WORK/dist/w-v1-prune.pt" || fail "the deployed file is not the pruned one"
timeout 120 "$PYTHON" - "$MLC_HOME/deployments/prod/w/model.pt" "$WORK/dist/w-v1.pt" "$MLC_TEST_DATA_DIR/wine.csv" <<'PY' || fail "Python's torch.jit.load on the pruned file"
import csv, sys, torch
pruned, fp32, table = sys.argv[1], sys.argv[2], sys.argv[3]
with open(table) as f:
    rows = list(csv.DictReader(f))
x = torch.tensor([[float(r[c]) for c in rows[0] if c != "class"] for r in rows])
model = torch.jit.load(pruned)
out, reference = model(x), torch.jit.load(fp32)(x)
assert out.shape == reference.shape, out.shape
count = lambda m: sum(p.numel() for p in m.parameters())
assert count(model) == 3075, count(model)
agree = (out.argmax(1) == reference.argmax(1)).float().mean().item()
assert agree >= 0.9, agree
PY
ok "deploy --variant prune places the file; Python's torch.jit.load runs it (3075 parameters, 90%+ the fp32 export's classes)"

