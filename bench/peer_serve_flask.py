"""The peer of `mlc serve` in bench/serve_speed.py: the server a PyTorch user writes instead.

Flask + torch.jit.load of the deployed TorchScript file, run under gunicorn with one intra-op
thread per worker, answering the same Open Inference Protocol V2 infer request as mlc with the
same outputs (logits, probabilities, label, class_name). It does what such a server usually does
and nothing more: no batching, one request at a time per worker.

    MLC_PEER_MODEL_DIR=DIR gunicorn --workers 2 --threads 1 --bind 127.0.0.1:8081 \
        --chdir bench peer_serve_flask:app

DIR is a deployment directory (MLC_HOME/deployments/TARGET/NAME: model.pt and manifest.json).
"""
import json
import os

import torch
from flask import Flask, jsonify, request

# gunicorn imports this module in each worker (no --preload), so each worker sets its own threads.
torch.set_num_threads(1)

MODEL_DIR = os.environ["MLC_PEER_MODEL_DIR"]
with open(os.path.join(MODEL_DIR, "manifest.json")) as f:
    MANIFEST = json.load(f)
MODEL = torch.jit.load(os.path.join(MODEL_DIR, "model.pt"))
MODEL.eval()
NAME = MANIFEST["name"]
VERSION = MANIFEST["versions"][0]
LABELS = MANIFEST["labels"]
INPUT_SHAPE = MANIFEST["inputs"][0]["shape"][1:]

app = Flask(__name__)


def error(message, status):
    return jsonify({"error": message}), status


def output(name, datatype, tensor):
    return {"name": name, "datatype": datatype, "shape": list(tensor.shape),
            "data": tensor.flatten().tolist()}


@app.get("/v2/health/ready")
def ready():
    return jsonify({"ready": True})


@app.post("/v2/models/<name>/infer")
def infer(name):
    if name != NAME:
        return error(f"unknown model '{name}'", 404)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not body.get("inputs"):
        return error("the body is not an infer request with inputs", 400)
    tensor = body["inputs"][0]
    try:
        x = torch.tensor(tensor["data"], dtype=torch.float32).reshape(tensor["shape"])
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        return error(f"input '{tensor.get('name')}': {e}", 400)
    if list(x.shape[1:]) != INPUT_SHAPE:
        return error(f"input '{tensor.get('name')}': shape {list(x.shape)}, expected [-1, "
                     f"{', '.join(map(str, INPUT_SHAPE))}]", 400)
    with torch.inference_mode():
        logits = MODEL(x)
    probabilities = torch.softmax(logits, dim=1)
    labels = logits.argmax(dim=1)
    outputs = [output("logits", "FP32", logits), output("probabilities", "FP32", probabilities),
               output("label", "INT64", labels),
               {"name": "class_name", "datatype": "BYTES", "shape": [len(labels)],
                "data": [LABELS[i] for i in labels.tolist()]}]
    wanted = {o.get("name") for o in body.get("outputs", [])}
    if wanted:
        outputs = [o for o in outputs if o["name"] in wanted]
    response = {"model_name": NAME, "model_version": VERSION, "outputs": outputs}
    if "id" in body:
        response["id"] = body["id"]
    return jsonify(response)
