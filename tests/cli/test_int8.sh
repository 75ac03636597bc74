#!/usr/bin/env bash
# mlc export --variant int8 of every architecture (issue 9 item 2): static int8 for the CNN
# (calibrated on training samples), dynamic for the MLP, LSTM, GRU and transformer; each file
# loads in Python's torch.jit.load and gives, on the same 100 test images, the accuracy and loss
# mlc measured on it. --quantization picks the kind; static for a model without convolutions, and
# the option misused, are one line each and store nothing. About 40 s.
source "$(dirname "$0")/lib.sh"
EXAMPLES="$MLC_SOURCE_DIR/examples/fashion-mnist"

# One epoch on 270 images of the examples' architectures (as test_architectures.sh trains them).
slice=(--epochs 1 --set data.train_limit=300 --set data.test_limit=100 --set training.threads=1
       --set "data.train_images=$MLC_FASHION_MNIST_DIR/train-images-idx3-ubyte.gz"
       --set "data.train_labels=$MLC_FASHION_MNIST_DIR/train-labels-idx1-ubyte.gz"
       --set "data.test_images=$MLC_FASHION_MNIST_DIR/t10k-images-idx3-ubyte.gz"
       --set "data.test_labels=$MLC_FASHION_MNIST_DIR/t10k-labels-idx1-ubyte.gz")

# architecture | quantization | the layers left in fp32 | export's options
expected=(
  "cnn|static|[]|"
  "mlp|dynamic|[]|"
  "lstm|dynamic|[]|--quantization dynamic"
  "gru|dynamic|[]|"
  "transformer|dynamic|['layer_norm', 'attention']|"
)
for row in "${expected[@]}"; do
  IFS='|' read -r architecture quantization fp32_layers options <<< "$row"
  mlc -q train "$EXAMPLES/$architecture.json" --name "$architecture" "${slice[@]}" > /dev/null
  mlc -q eval "$architecture" > /dev/null
  # shellcheck disable=SC2086  # $options: none, or one flag and its value
  run_mlc 0 --json export "$architecture" --variant int8 ${options:-} --out "$WORK/dist/"; validate export
  printf '%s' "$OUT" > "$architecture.json"
  json_field "$OUT" "d['variant']['details']['quantization'], d['variant']['details']['fp32_layers']" \
    | grep -qxF "$quantization $fp32_layers" || fail "$architecture: export --variant int8: $OUT"
done
json_field "$(cat cnn.json)" "d['variant']['details']['calibration'], d['variant']['details']['quantized_conv_layers'], d['variant']['details']['fused_relu']" \
  | grep -qxF "{'method': 'min/max', 'samples': 270, 'seed': 0, 'split': 'train'} 2 3" || fail "the CNN's static int8 details: $(cat cnn.json)"
json_field "$(cat lstm.json)" "d['variant']['details']['quantized_recurrent_cells']" | grep -qx 1 || fail "the LSTM's int8 details: $(cat lstm.json)"
ok "int8 by architecture: static for the CNN (calibrated on its 270 training images), dynamic for the others (--quantization dynamic for the LSTM), recurrent layers included"

# Python runs each file on the first 100 test images (read here, not by mlc) in one batch, as mlc
# measured the test split, and gets the accuracy and the loss mlc recorded for it. First it runs
# 8 other images, as mlc runs every variant on 8 probe inputs before measuring it: onednn's dynamic
# int8 Linear keeps what it set up for the first batch size it sees, and set up for another size it
# rounds some logits differently (measured without that run: 4e-6 of the MLP's loss, 1.5e-5 of
# the transformer's; with it, equal).
timeout 120 "$PYTHON" - "$WORK" "$MLC_FASHION_MNIST_DIR" <<'PY' || fail "Python's torch.jit.load disagrees with mlc's measurement of an int8 file"
import gzip, json, sys, torch
torch.backends.quantized.engine = "onednn"
work, data = sys.argv[1], sys.argv[2]
count = 100
with gzip.open(f"{data}/t10k-images-idx3-ubyte.gz") as f:
    images = torch.frombuffer(bytearray(f.read()[16:16 + (count + 8) * 784]), dtype=torch.uint8)
with gzip.open(f"{data}/t10k-labels-idx1-ubyte.gz") as f:
    labels = torch.frombuffer(bytearray(f.read()[8:8 + count]), dtype=torch.uint8).long()
x = images.float().reshape(count + 8, 28, 28)
x, probe = x[:count], x[count:]
for architecture in ("cnn", "mlp", "lstm", "gru", "transformer"):
    measured = json.load(open(f"{work}/{architecture}.json"))["variant"]["variant"]["metrics"]
    with torch.no_grad():
        module = torch.jit.load(f"{work}/dist/{architecture}-v1-int8.pt")
        module(probe)
        logits = module(x)
    accuracy = (logits.argmax(1) == labels).double().mean().item()
    loss = torch.nn.functional.cross_entropy(logits, labels).item()
    assert accuracy == measured["accuracy"], (architecture, accuracy, measured["accuracy"])
    assert abs(loss - measured["loss"]) <= 1e-6 * max(1.0, loss), (architecture, loss, measured["loss"])
PY
ok "torch.jit.load in Python: each architecture's int8 file gives the accuracy and loss mlc measured on it"

# --- --quantization (dynamic of a CNN: tests/unit/compute/test_variants.cpp) -----------------------------
before=$(catalogue_fingerprint)
expect_error 6 "int8: static quantisation is for convolutional models; the MlcLstm model has recurrent layers (lstm) (use --quantization dynamic)" \
  export lstm --variant int8 --quantization static --variant-name s
expect_error 6 "the MlcTransformer model has attention layers" export transformer --variant int8 --quantization static --variant-name s
expect_error 6 "the MlcMlp model has no conv2d layer" export mlp --variant int8 --quantization static --variant-name s
expect_error 2 "--quantization needs --variant int8" export cnn --quantization static
expect_error 2 "--quantization needs --variant int8" export cnn --variant fp16 --quantization static
expect_error 2 "--quantization 'half': expected static or dynamic" export cnn --variant int8 --quantization half
[ "$(catalogue_fingerprint)" = "$before" ] || fail "a refused --quantization stored something"
json_field "$(mlc --json show lstm)" "[v['name'] for v in d['variants']]" | grep -qxF "['int8']" || fail "show lstm lists a refused variant"
ok "static int8 of an LSTM, a transformer or an MLP: exit 6, one line; --quantization without --variant int8 or unknown: exit 2; nothing stored"
