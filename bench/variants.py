#!/usr/bin/python3
"""mlc export --variant (fp16, int8, onnx) on the Fashion-MNIST examples, beside PyTorch's own
torch.ao.quantization.quantize_dynamic on the same trained weights (the MLP and the LSTM).

For each architecture: mlc trains it (examples/fashion-mnist/ARCH.json, --epochs E), evaluates and
exports it, then makes its fp16 and int8 variants; mlc measures each beside the fp32 export on the
10,000 test images (accuracy, file size, median ms per sample at batch 1 and 64 on one thread).
For the MLP and the LSTM, the peer rebuilds the same network in Python from the fp32 export's
tensors (checked to give the export's outputs), quantises it with quantize_dynamic({nn.Linear},
qint8) ({nn.Linear, nn.LSTM} for the LSTM) on the same engine (onednn) and measures it the same way: 5 warm-up runs, then the median over 200
runs at batch 1 and 20 at batch 64, each run on the next test images.
The onnx variant, which mlc cannot run, is run and measured the same way by ONNX Runtime
(onnxruntime-node, one intra-op thread: bench/onnx_latency.js), installed as tests/cli/test_onnx.sh
installs it (into build/, from the npm registry) if it is not there yet.

    bench/variants.py [--epochs 1] [--archs mlp,lstm,cnn] [--kinds fp16,int8,onnx]

Prints a Markdown table for bench/README.md, and the load average before and after.
"""
import argparse
import gzip
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MLC = os.environ.get("MLC_BIN", os.path.join(ROOT, "build", "bin", "mlc"))
DATA = "/usr/share/datasets/fashion-mnist"
ORT_VERSION = "1.30.0"  # as tests/cli/test_onnx.sh
ORT_DIR = os.path.join(os.path.dirname(os.path.dirname(MLC)), f"onnxruntime-node-{ORT_VERSION}")


def mlc(*args, env):
    out = subprocess.run([MLC, "--json", *args], env=env, check=True, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL).stdout
    return json.loads(out)


def idx(name):
    with gzip.open(os.path.join(DATA, name)) as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def latency_ms(model, images, batch, runs):
    """Median wall milliseconds per sample of model(batch) over `runs`, after 5 warm-up runs."""
    times = []
    with torch.no_grad():
        for run in range(5 + runs):
            start = (run * batch) % (len(images) - batch)
            x = images[start:start + batch]
            began = time.perf_counter()
            model(x)
            if run >= 5:
                times.append((time.perf_counter() - began) * 1000 / batch)
    return statistics.median(times)


class PeerMlp(torch.nn.Module):
    """The MLP as a PyTorch user writes it, holding the fp32 export's tensors."""

    def __init__(self, script):
        super().__init__()
        self.register_buffer("mean", script.standardize_mean.clone())
        self.register_buffer("stddev", script.standardize_stddev.clone())
        names = sorted({n.rsplit("_", 1)[0] for n, _ in script.named_parameters()},
                       key=lambda n: int(n[2:]))
        self.layers = torch.nn.ModuleList()
        for name in names:
            weight = getattr(script, name + "_weight")
            layer = torch.nn.Linear(weight.shape[1], weight.shape[0])
            layer.weight.data.copy_(weight)
            layer.bias.data.copy_(getattr(script, name + "_bias"))
            self.layers.append(layer)

    def forward(self, x):
        x = ((x - self.mean) / self.stddev).reshape(x.shape[0], -1)
        for layer in self.layers[:-1]:
            x = torch.relu(layer(x))
        return self.layers[-1](x)


class PeerLstm(torch.nn.Module):
    """The LSTM as a PyTorch user writes it (nn.LSTM, one layer, one direction, the last hidden
    state into nn.Linear), holding the fp32 export's tensors."""

    def __init__(self, script):
        super().__init__()
        self.register_buffer("mean", script.standardize_mean.clone())
        self.register_buffer("stddev", script.standardize_stddev.clone())
        weight_ih = script.rnn_weight_ih_l0
        self.lstm = torch.nn.LSTM(weight_ih.shape[1], weight_ih.shape[0] // 4, batch_first=True)
        for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
            getattr(self.lstm, name).data.copy_(getattr(script, "rnn_" + name))
        self.output = torch.nn.Linear(script.output_weight.shape[1], script.output_weight.shape[0])
        self.output.weight.data.copy_(script.output_weight)
        self.output.bias.data.copy_(script.output_bias)

    def forward(self, x):
        x = (x - self.mean) / self.stddev
        _, (hidden, _) = self.lstm(x.reshape(x.shape[0], x.shape[1], -1))
        return self.output(hidden[-1])


def peer_rows(fp32_file, images, labels, arch):
    torch.backends.quantized.engine = "onednn"
    script = torch.jit.load(fp32_file).eval()
    peer = (PeerMlp if arch == "mlp" else PeerLstm)(script).eval()
    with torch.no_grad():
        assert (peer(images[:256]) - script(images[:256])).abs().max().item() < 1e-4, "the peer is not the export"
    layers = {torch.nn.Linear} if arch == "mlp" else {torch.nn.Linear, torch.nn.LSTM}
    quantized = torch.ao.quantization.quantize_dynamic(peer, layers, dtype=torch.qint8)
    rows = []
    for label, model in (("PyTorch fp32 (nn.Module)", peer), ("PyTorch quantize_dynamic int8", quantized)):
        with torch.no_grad():
            accuracy = (model(images).argmax(1) == labels).float().mean().item()
        buffer = io.BytesIO()
        torch.save(model.state_dict(), buffer)  # the weights as PyTorch saves them
        size = buffer.getbuffer().nbytes
        rows.append((label, size, accuracy, latency_ms(model, images, 1, 200), latency_ms(model, images, 64, 20)))
    return rows


def onnxruntime_node():
    """NODE_PATH for onnxruntime-node, installed into the build tree if it is not there."""
    if not os.path.exists(os.path.join(ORT_DIR, "node_modules", "onnxruntime-node", "package.json")):
        subprocess.run(["npm", "install", "--prefix", ORT_DIR, "--no-audit", "--no-fund", "--loglevel=error",
                        f"onnxruntime-node@{ORT_VERSION}"], check=True, stdout=subprocess.DEVNULL,
                       env=dict(os.environ, ONNXRUNTIME_NODE_INSTALL="skip"))
    return os.path.join(ORT_DIR, "node_modules")


def onnx_row(onnx_file, images_file, labels, work):
    """Accuracy and latency of an ONNX file in ONNX Runtime, as mlc measures its variants."""
    logits_file = os.path.join(work, "onnx-logits.f32")
    out = subprocess.run(["node", os.path.join(ROOT, "bench", "onnx_latency.js"), onnx_file, images_file,
                          "28,28", logits_file], check=True, stdout=subprocess.PIPE,
                         env=dict(os.environ, NODE_PATH=onnxruntime_node())).stdout
    timing = json.loads(out)
    logits = torch.from_numpy(np.fromfile(logits_file, dtype="<f4").reshape(len(labels), -1))
    accuracy = (logits.argmax(1) == labels).float().mean().item()
    return accuracy, timing["batch1_ms"], timing["batch64_ms"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--archs", default="mlp,lstm,cnn")
    parser.add_argument("--kinds", default="fp16,int8,onnx")
    args = parser.parse_args()
    torch.set_num_threads(1)
    images = torch.from_numpy(idx("t10k-images-idx3-ubyte.gz").astype(np.float32))
    labels = torch.from_numpy(idx("t10k-labels-idx1-ubyte.gz").astype(np.int64))
    print(f"load average before: {os.getloadavg()}", file=sys.stderr)
    print("| model | variant | size KiB | test accuracy | delta (points) | ms/sample batch 1 | ms/sample batch 64 |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as work:
        env = dict(os.environ, MLC_HOME=os.path.join(work, "home"))
        for arch in args.archs.split(","):
            config = os.path.join(ROOT, "examples", "fashion-mnist", arch + ".json")
            version = mlc("train", config, "--name", arch, "--epochs", str(args.epochs), env=env)["version"]
            ref = f"{arch}:{version}"
            mlc("eval", ref, env=env)
            fp32_file = os.path.join(work, f"{arch}.pt")
            mlc("export", ref, "--out", fp32_file, env=env)
            for index, kind in enumerate(args.kinds.split(",")):
                exported = mlc("export", ref, "--variant", kind, "--out", work + "/", env=env)
                variant = exported["variant"]
                if index == 0:
                    base = variant["fp32"]
                    print(f"| {arch} | mlc fp32 | {base['size_bytes'] / 1024:.0f} | {base['metrics']['accuracy']:.4f} | "
                          f"| {base['latency_batch1_ms']:.4f} | {base['latency_batch64_ms']:.4f} |")
                measured = variant["variant"]
                if kind == "onnx":
                    images_file = os.path.join(work, "images.f32")
                    if not os.path.exists(images_file):
                        images.numpy().astype("<f4").tofile(images_file)
                    accuracy, batch1, batch64 = onnx_row(exported["model_file"], images_file, labels, work)
                    delta = round((accuracy - variant["fp32"]["metrics"]["accuracy"]) * 100, 2) + 0.0  # no "-0.00"
                    print(f"| {arch} | mlc onnx in ONNX Runtime {ORT_VERSION} | {measured['size_bytes'] / 1024:.0f} | "
                          f"{accuracy:.4f} | {delta:+.2f} | {batch1:.4f} | {batch64:.4f} |")
                    continue
                print(f"| {arch} | mlc {kind} | {measured['size_bytes'] / 1024:.0f} | {measured['metrics']['accuracy']:.4f} | "
                      f"{variant['deltas']['accuracy'] * 100:+.2f} | {measured['latency_batch1_ms']:.4f} | "
                      f"{measured['latency_batch64_ms']:.4f} |")
            if arch in ("mlp", "lstm"):
                rows = peer_rows(fp32_file, images, labels, arch)
                for label, size, accuracy, batch1, batch64 in rows:
                    delta = "" if "fp32" in label else f"{(accuracy - rows[0][2]) * 100:+.2f}"
                    print(f"| {arch} | {label} | {size / 1024:.0f} | {accuracy:.4f} | {delta} | {batch1:.4f} | {batch64:.4f} |")
            sys.stdout.flush()
    print(f"load average after: {os.getloadavg()}", file=sys.stderr)


if __name__ == "__main__":
    main()
