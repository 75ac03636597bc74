#!/usr/bin/env bash
# Each example architecture of examples/fashion-mnist trains on a small slice, evaluates, exports,
# and Python's torch.jit.load gives mlc's outputs within 1e-5; model configs that cannot be built
# are refused before training with the key path and the reason.
source "$(dirname "$0")/lib.sh"
EXAMPLES="$MLC_SOURCE_DIR/examples/fashion-mnist"

# A slice small enough for CI, from the data files the suites use, on one thread (see
# compute_fixtures.hpp for why one).
slice=(--epochs 1 --set data.train_limit=300 --set data.test_limit=100 --set training.threads=1
       --set "data.train_images=$MLC_FASHION_MNIST_DIR/train-images-idx3-ubyte.gz"
       --set "data.train_labels=$MLC_FASHION_MNIST_DIR/train-labels-idx1-ubyte.gz"
       --set "data.test_images=$MLC_FASHION_MNIST_DIR/t10k-images-idx3-ubyte.gz"
       --set "data.test_labels=$MLC_FASHION_MNIST_DIR/t10k-labels-idx1-ubyte.gz")

# mlp.json with batch norm: the MLP itself goes through test_lifecycle.sh.
"$PYTHON" -c "import json,sys; c=json.load(open(sys.argv[1])); c['model']['batch_norm']=True; json.dump(c, open(sys.argv[2],'w'))" \
  "$EXAMPLES/mlp.json" "$WORK/mlp-bn.json"

for architecture in cnn lstm gru transformer mlp-bn; do
  config="$EXAMPLES/$architecture.json"
  [ "$architecture" = mlp-bn ] && config="$WORK/mlp-bn.json"
  run_mlc 0 --json train "$config" --name "$architecture" "${slice[@]}"
  json_field "$OUT" "d['train_samples']" | grep -qx 270 || fail "$architecture: train output: $OUT"
  run_mlc 0 --json eval "$architecture"
  json_field "$OUT" "d['samples'], d['metrics']['accuracy'] > 0.15" | grep -qx "100 True" \
    || fail "$architecture: one epoch on 270 images should beat chance: $OUT"
  run_mlc 0 -q export "$architecture" --out "$WORK/$architecture/model.pt"
  run_mlc 0 --json predict "$architecture" --limit 100
  printf '%s' "$OUT" > "$WORK/$architecture.predictions.json"
  "$PYTHON" "$MLC_SOURCE_DIR/tests/python/compare_torchscript.py" "$WORK/$architecture/model.pt" \
    "$MLC_FASHION_MNIST_DIR/t10k-images-idx3-ubyte.gz" "$WORK/$architecture.predictions.json" 100 \
    || fail "$architecture: Python's torch.jit.load disagrees with mlc"
  ok "$architecture trains, evaluates, exports; Python's torch.jit.load agrees within 1e-5"
done

before=$(catalogue_fingerprint)
unchanged() { [ "$(catalogue_fingerprint)" = "$before" ] || fail "$1 changed the catalogue or the store"; }

# bad_model NAME PYTHON [EXAMPLE]: writes NAME.json, the example EXAMPLE.json (cnn.json) with its
# "model" changed by the Python statements (on `m`, the model object).
bad_model() {
  "$PYTHON" - "$EXAMPLES/${3:-cnn}.json" "$WORK/$1.json" "$2" <<'PY'
import json, sys
config = json.load(open(sys.argv[1]))
m = config["model"]
exec(sys.argv[3])
json.dump(config, open(sys.argv[2], "w"))
PY
  echo "$WORK/$1.json"
}

expect_error 5 'model.layers[3].type: must be one of "conv2d",' \
  train "$(bad_model unknown 'm["layers"][3] = {"type": "conv3d"}')" --name bad "${slice[@]}"
unchanged "an unknown layer type"; ok "an unknown layer type is refused with its key path"

expect_error 5 "model.layers[6]: linear needs a flat input, but its input is 64x12x12" \
  train "$(bad_model no-flatten 'del m["layers"][6]')" --name bad "${slice[@]}"
unchanged "a linear layer on an image"
ok "a linear layer without flatten before it is refused before training"

expect_error 5 "model.layers[0].kernel_size: 29 is larger than the 28x28 input of this layer" \
  train "$(bad_model big-pool 'm["layers"].insert(0, {"type": "max_pool2d", "kernel_size": 29})')" \
  --name bad "${slice[@]}"
unchanged "a pool bigger than its input"
ok "a pool bigger than its input is refused before training"

expect_error 5 "model.nhead: 3 heads do not divide d_model 64" \
  train "$(bad_model heads 'm["nhead"] = 3' transformer)" --name bad "${slice[@]}"
unchanged "heads not dividing d_model"; ok "heads that do not divide d_model are refused"

expect_error 5 "model.layers[0].out_channels: must be an integer >= 1 and <= 1000000, got -32" \
  train "$(bad_model negative 'm["layers"][0]["out_channels"] = -32')" --name bad "${slice[@]}"
expect_error 5 "model.hidden_size: must be an integer >= 1 and <= 1000000, got 0" \
  train "$(bad_model zero 'm["hidden_size"] = 0' lstm)" --name bad "${slice[@]}"
unchanged "negative and zero sizes"; ok "negative and zero sizes are refused with their key path"
