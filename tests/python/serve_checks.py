#!/usr/bin/python3
"""Checks of a running `mlc serve`, one group per subcommand, for tests/cli/test_serve*.sh.

usage: serve_checks.py GROUP PORT ARG...   (see each group's docstring)

Every request goes through oip_client.py (the protocol as its text says) or, where the point is
what a misbehaving client sends, through a raw socket. Every socket has a timeout. Exits 0 when
every check of the group holds, 1 with the first that does not (2 on bad usage).
Runs under Debian's /usr/bin/python3; torch and numpy are imported only by the groups that
compare numbers with torch.jit.load.
"""

import csv
import gzip
import http.client
import json
import math
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from table_encoding import MISSING, encode_rows  # noqa: E402
from oip_client import (OipClient, OipError, check_infer_response, outputs_by_name,  # noqa: E402
                        tensor)

HOST = "127.0.0.1"
TOLERANCE = 1e-5


class CheckFailed(Exception):
    pass


def require(condition, message):
    if not condition:
        raise CheckFailed(message)


def read_idx_images(path, count):
    """The first `count` images of an IDX file as lists of 28x28 ints (gzip + struct only)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as stream:
        _, type_code, rank = struct.unpack(">HBB", stream.read(4))
        require(type_code == 0x08, f"{path}: not unsigned bytes")
        dims = struct.unpack(f">{rank}I", stream.read(4 * rank))
        size = dims[1] * dims[2]
        data = stream.read(count * size)
    return [[list(data[i * size + r * dims[2]:i * size + (r + 1) * dims[2]]) for r in range(dims[1])]
            for i in range(count)]


def flat(images):
    return [value for image in images for row in image for value in row]


def close_enough(actual, expected, what):
    require(len(actual) == len(expected), f"{what}: {len(actual)} values, expected {len(expected)}")
    worst = max((abs(a - e) for a, e in zip(actual, expected)), default=0.0)
    require(worst <= TOLERANCE, f"{what}: differs from torch.jit.load by {worst:g} > {TOLERANCE:g}")
    return worst


def load_manifest(deployment):
    with open(os.path.join(deployment, "manifest.json"), encoding="utf-8") as stream:
        return json.load(stream)


def torch_outputs(deployment, rows):
    """torch.jit.load of the deployed model.pt on float32 rows, eval mode, no gradients."""
    import torch
    model = torch.jit.load(os.path.join(deployment, "model.pt"))
    model.eval()
    with torch.no_grad():
        result = model(torch.tensor(rows, dtype=torch.float32))
    return result


def softmax(row):
    top = max(row)
    exps = [math.exp(v - top) for v in row]
    total = sum(exps)
    return [e / total for e in exps]


def check_metadata(client, name, version, inputs, outputs):
    """Model metadata, with and without the version in the path."""
    for asked in (None, version):
        document = client.model_metadata(name, asked)
        where = f"GET /v2/models/{name}" + (f"/versions/{asked}" if asked else "")
        require(document.get("versions") == [version], f"{where}: versions {document.get('versions')}, expected [{version!r}]")
        require(document["platform"] == "pytorch_torchscript", f"{where}: platform {document['platform']!r}")
        # Tensors as name, datatype and shape; their optional "parameters" may say more.
        declared = [{k: t[k] for k in ("name", "datatype", "shape") if k in t} for t in document.get("inputs", [])]
        require(declared == inputs, f"{where}: inputs {document.get('inputs')}, expected {inputs}")
        found = {o["name"]: {k: o[k] for k in ("name", "datatype", "shape") if k in o}
                 for o in document.get("outputs", [])}
        expected = {o["name"]: o for o in outputs}
        require(found == expected, f"{where}: outputs {document.get('outputs')}, expected {outputs}")


def classifier_outputs(classes):
    return [{"name": "logits", "datatype": "FP32", "shape": [-1, classes]},
            {"name": "probabilities", "datatype": "FP32", "shape": [-1, classes]},
            {"name": "label", "datatype": "INT64", "shape": [-1]},
            {"name": "class_name", "datatype": "BYTES", "shape": [-1]}]


def check_classification(document, logits_expected, labels, rows, what):
    """Logits within 1e-5 of torch, probabilities its softmax, label its argmax, class_name."""
    outputs = outputs_by_name(document)
    require(set(outputs) == {"logits", "probabilities", "label", "class_name"},
            f"{what}: outputs {sorted(outputs)}")
    classes = len(labels)
    for name, datatype, shape in (("logits", "FP32", [rows, classes]), ("probabilities", "FP32", [rows, classes]),
                                  ("label", "INT64", [rows]), ("class_name", "BYTES", [rows])):
        require(outputs[name][1] == datatype, f"{what}: {name} datatype {outputs[name][1]}, expected {datatype}")
        require(outputs[name][0] == shape, f"{what}: {name} shape {outputs[name][0]}, expected {shape}")
    logits = outputs["logits"][2]
    worst = close_enough(logits, logits_expected, f"{what}: logits")
    for row in range(rows):
        expected_row = logits_expected[row * classes:(row + 1) * classes]
        close_enough(outputs["probabilities"][2][row * classes:(row + 1) * classes], softmax(expected_row),
                     f"{what}: probabilities of row {row}")
        best = max(range(classes), key=lambda c: expected_row[c])
        require(outputs["label"][2][row] == best, f"{what}: row {row}: label {outputs['label'][2][row]}, argmax is {best}")
        require(outputs["class_name"][2][row] == labels[best],
                f"{what}: row {row}: class_name {outputs['class_name'][2][row]!r}, expected {labels[best]!r}")
    return worst


def group_fmnist(port, name, version, deployment, images_path):
    """fmnist PORT NAME VERSION DEPLOYMENT_DIR IDX_IMAGES: an image classifier end to end."""
    manifest = load_manifest(deployment)
    labels = manifest["labels"]
    client = OipClient(HOST, port)
    check_metadata(client, name, version, [{"name": "input", "datatype": "FP32", "shape": [-1, 28, 28]}],
                   classifier_outputs(len(labels)))
    require(client.model_ready(name) and client.model_ready(name, version), f"{name} is not ready")

    images = read_idx_images(images_path, 32)
    expected = torch_outputs(deployment, images).flatten().tolist()
    # Flat data, integers as the pixels come; then the same tensor nested, as floats.
    batch = client.infer(name, [tensor("input", "FP32", flat(images), [32, 28, 28])], request_id="batch-32")
    require(batch.get("model_version") == version, f"model_version {batch.get('model_version')!r}, expected {version!r}")
    worst = check_classification(batch, expected, labels, 32, "32 images, flat data")
    nested = [[[float(v) for v in row] for row in image] for image in images]
    again = client.infer(name, [tensor("input", "FP32", nested)], request_id="nested")
    check_classification(again, expected, labels, 32, "32 images, nested data")
    require(outputs_by_name(again)["logits"][2] == outputs_by_name(batch)["logits"][2],
            "nested and flat data give different logits")

    # One image at a time, through the versioned path too, on one keep-alive connection.
    first_port = None
    for index in range(8):
        document = client.infer(name, [tensor("input", "FP32", [images[index]])], request_id=f"one-{index}",
                                version=version if index % 2 else None)
        check_classification(document, expected[index * 10:(index + 1) * 10], labels, 1, f"image {index} alone")
        if first_port is None:
            first_port = client.local_port()
        require(client.local_port() == first_port, "the server closed a keep-alive connection between requests")

    # The outputs the request names, and only those.
    for wanted in (["label"], ["class_name", "probabilities"], ["logits"]):
        document = client.infer(name, [tensor("input", "FP32", [images[0]])], outputs=wanted)
        require(sorted(o["name"] for o in document["outputs"]) == sorted(wanted),
                f"outputs {wanted} asked, got {[o['name'] for o in document['outputs']]}")
    document = client.infer(name, [tensor("input", "FP32", [images[0]])], outputs=["label"])
    require(outputs_by_name(document)["label"][2] == [max(range(10), key=lambda c: expected[c])],
            "the label alone differs from the argmax")
    # The binary tensor data extension (what Triton's clients send by default): the JSON header,
    # then the 32 images as little-endian FP32, gives the numbers JSON data gives.
    header = json.dumps({"id": "binary", "inputs": [{"name": "input", "shape": [32, 28, 28], "datatype": "FP32",
                                                     "parameters": {"binary_data_size": 32 * 784 * 4}}]}).encode()
    raw = struct.pack(f"<{32 * 784}f", *flat(images))
    response = client.request("POST", f"/v2/models/{name}/infer", header + raw,
                              {"Inference-Header-Content-Length": str(len(header)),
                               "Content-Type": "application/octet-stream"})
    require(response.status == 200, f"binary request: {response.status} {response.body[:200]!r}")
    binary = json.loads(response.body)
    check_classification(binary, expected, labels, 32, "32 images as binary data")
    require(outputs_by_name(binary)["logits"][2] == outputs_by_name(batch)["logits"][2],
            "binary and JSON data give different logits")
    print(f"{name}: 32 images flat, nested and binary, 8 alone: max |server - torch.jit.load| = {worst:.3g}")


def group_table(port, name, version, deployment, table_path):
    """table PORT NAME VERSION DEPLOYMENT_DIR TABLE.csv: a table model, classifier or regression,
    on every row of the table: raw strings (BYTES) and codes (FP32, null for missing)."""
    manifest = load_manifest(deployment)
    features = manifest["feature_names"]
    regression = manifest.get("task") == "regression"
    with open(table_path, newline="", encoding="utf-8") as stream:
        reader = csv.reader(stream)
        header = next(reader)
        rows = [row for row in reader if row]
    positions = [header.index(feature) for feature in features]
    raw = [[row[p] for p in positions] for row in rows]
    require(any(cell in MISSING for row in raw for cell in row), f"{table_path}: no missing cell to test with")
    encoded = encode_rows(rows, header, manifest)
    expected = torch_outputs(deployment, encoded).flatten().tolist()

    client = OipClient(HOST, port)
    outputs = ([{"name": "prediction", "datatype": "FP32", "shape": [-1, 1]}] if regression
               else classifier_outputs(len(manifest["labels"])))
    check_metadata(client, name, version, [{"name": "input", "datatype": "FP32", "shape": [-1, len(features)]}], outputs)

    as_bytes = client.infer(name, [tensor("input", "BYTES", raw)], request_id="raw")
    codes = [[None if math.isnan(v) else v for v in row] for row in encoded]
    as_codes = client.infer(name, [tensor("input", "FP32", codes)], request_id="codes")
    for document, what in ((as_bytes, "raw strings (BYTES)"), (as_codes, "codes (FP32, null for missing)")):
        require(document.get("model_version") == version, f"{what}: model_version {document.get('model_version')!r}")
        if regression:
            found = outputs_by_name(document)
            require(set(found) == {"prediction"}, f"{what}: outputs {sorted(found)}")
            require(found["prediction"][0] == [len(rows), 1] and found["prediction"][1] == "FP32",
                    f"{what}: prediction {found['prediction'][:2]}")
            worst = close_enough(found["prediction"][2], expected, f"{what}: predictions")
        else:
            worst = check_classification(document, expected, manifest["labels"], len(rows), what)
        print(f"{name}: {len(rows)} rows as {what}: max |server - torch.jit.load| = {worst:.3g}")

    # A cell that is not a number in a numeric column is refused, naming the column.
    numeric = next(f for f in features if f not in {c["name"] for s in manifest["preprocessing"]["steps"]
                                                     if s["op"] == "one_hot" for c in s["columns"]})
    bad = [list(raw[0])]
    bad[0][features.index(numeric)] = "plenty"
    response = client.infer_request(name, [tensor("input", "BYTES", bad)])
    require(response.status == 400, f"'plenty' in column {numeric}: status {response.status}, expected 400")
    message = response.error_message()
    require(numeric in message, f"'plenty' in column {numeric}: the error '{message}' does not name the column")
    # The connection and the server carry on.
    document = client.infer(name, [tensor("input", "BYTES", raw[:1])])
    check_infer_response(document, name)


def raw_exchange(port, payload, wait=5.0):
    """Sends payload on a fresh connection; returns what came back until close or `wait` s."""
    with socket.create_connection((HOST, port), timeout=wait) as sock:
        try:
            sock.sendall(payload)
        except OSError:
            return b"<send failed>"
        received = b""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                break
            except OSError:
                break
            if not chunk:
                break
            received += chunk
            if b"\r\n\r\n" in received:
                head, _, body = received.partition(b"\r\n\r\n")
                length = [int(line.split(b":")[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:")]
                if length and len(body) >= length[0]:
                    break
        return received


def status_of(raw):
    first = raw.split(b"\r\n", 1)[0]
    parts = first.split(b" ")
    return int(parts[1]) if len(parts) > 1 and parts[0].startswith(b"HTTP/1.") and parts[1].isdigit() else None


def group_isolation(port, name):
    """isolation PORT NAME: bad requests on other connections leave a keep-alive connection (and
    the server) serving."""
    image = [[0] * 28 for _ in range(28)]
    good = OipClient(HOST, port)
    good.infer(name, [tensor("input", "FP32", [image])])
    kept = good.local_port()
    infer_path = f"/v2/models/{name}/infer".encode()
    valid_body = json.dumps({"inputs": [tensor("input", "FP32", [image])]}).encode()
    binary_header = json.dumps({"inputs": [{"name": "input", "shape": [1, 28, 28], "datatype": "FP32",
                                            "parameters": {"binary_data_size": 784 * 4}}]}).encode()
    bad_requests = {
        "bytes that are not HTTP": b"\x00\xff\xfe GARBAGE \x16\x03\x01\r\n\r\n",
        "a TLS hello": bytes.fromhex("160301002a0100002603035a") + b"\x00" * 40,
        "invalid JSON": b"POST " + infer_path + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\n{\"inputs\"",
        "a header line of 200 KB": b"GET /v2 HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n",
        "a Content-Length beyond 64 bits": b"POST " + infer_path + b" HTTP/1.1\r\nHost: x\r\n"
                                           b"Content-Length: 99999999999999999999999\r\n\r\n{}",
        "a negative Content-Length": b"POST " + infer_path + b" HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n{}",
        "a bad chunk size": b"POST " + infer_path + b" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                            b"zz\r\n{}\r\n0\r\n\r\n",
        "a nesting 100,000 deep": b"POST " + infer_path + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n"
                                  + b"[" * 100_000 + b"]" * 100_000,
        "a request line of 100 KB": b"GET /" + b"v" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        "a nesting 1,000,000 deep": b"POST " + infer_path + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n"
                                    + b"[" * 1_000_000 + b"]" * 1_000_000,
        "a chunk extension of 8 MB": b"POST " + infer_path + b" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                     b"1;" + b"a" * 8_000_000,
        "a valid body and then more": b"POST " + infer_path + b" HTTP/1.1\r\nHost: x\r\nContent-Length: "
                                      + str(len(valid_body) + 1).encode() + b"\r\n\r\n" + valid_body + b"}",
        "binary data shorter than binary_data_size": b"POST " + infer_path + b" HTTP/1.1\r\nHost: x\r\n"
                                                     b"Inference-Header-Content-Length: " + str(len(binary_header)).encode()
                                                     + b"\r\nContent-Length: " + str(len(binary_header) + 100).encode()
                                                     + b"\r\n\r\n" + binary_header + b"\0" * 100,
        "HTTP/0.9": b"GET /v2\r\n\r\n",
    }
    for what, payload in bad_requests.items():
        answer = raw_exchange(port, payload, wait=3.0)
        status = status_of(answer)
        require(status is None or 400 <= status < 500,
                f"{what}: answered {answer[:120]!r}, expected a 4xx or a closed connection")
        document = good.infer(name, [tensor("input", "FP32", [image])])
        check_infer_response(document, name)
        require(good.local_port() == kept, f"after {what}: the other keep-alive connection was closed")
    for what in ("a valid body and then more", "binary data shorter than binary_data_size"):
        answer = raw_exchange(port, bad_requests[what], wait=3.0)
        require(status_of(answer) == 400 and b'"error"' in answer, f"{what}: answered {answer[:200]!r}, expected 400")
    # HEAD gets GET's headers and no body, so the keep-alive connection stays in step.
    connection = http.client.HTTPConnection(HOST, port, timeout=5)
    for method in ("HEAD", "GET"):
        connection.request(method, "/v2/health/ready")
        response = connection.getresponse()
        body = response.read()
        require(response.status == 200, f"{method} /v2/health/ready: {response.status}")
        require((body == b"") == (method == "HEAD"), f"{method} /v2/health/ready body: {body!r}")
    connection.request("PUT", "/v2/health/ready", body=b"{}")
    response = connection.getresponse()
    response.read()
    require(response.status == 405 and response.getheader("Allow") == "GET, HEAD",
            f"PUT /v2/health/ready: {response.status}, Allow {response.getheader('Allow')!r}")
    connection.close()
    fresh = OipClient(HOST, port)
    require(fresh.live() and fresh.ready(), "after the bad requests the server is not live and ready")
    print(f"{len(bad_requests)} kinds of bad request; the keep-alive connection served after each")


def group_idle(port, name, count):
    """idle PORT NAME COUNT: COUNT keep-alive connections, each after one request, stay open and
    idle, with 64 connections that never send a byte; a new client is served within 2 s."""
    count = int(count)
    idle = []
    for index in range(count):
        client = OipClient(HOST, port, timeout=5.0)
        response = client.request("GET", "/v2/health/live")
        require(response.status == 200, f"idle connection {index}: status {response.status}")
        idle.append(client)
    silent = [socket.create_connection((HOST, port), timeout=5.0) for _ in range(64)]
    image = [[0] * 28 for _ in range(28)]
    start = time.monotonic()
    fresh = OipClient(HOST, port, timeout=5.0)
    for _ in range(5):
        document = fresh.infer(name, [tensor("input", "FP32", [image])])
        check_infer_response(document, name)
    took = time.monotonic() - start
    require(took < 2.0, f"a new client took {took:.2f} s for 5 requests beside {count} idle connections")
    # The idle ones are still usable: keep-alive, not merely tolerated.
    for index in (0, count // 2, count - 1):
        response = idle[index].request("GET", "/v2/health/ready")
        require(response.status == 200, f"idle connection {index}, used again: status {response.status}")
    for client in idle:
        client.close()
    for sock in silent:
        sock.close()
    print(f"{count} idle keep-alive + 64 silent connections: a new client served 5 requests in {took * 1000:.0f} ms")


def slow_sender(port, path, results, index, limit):
    """Sends a request one byte a second until the server closes the connection (or `limit` s)."""
    request = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
               f"Content-Length: 100000\r\n\r\n" + "{" * 1000).encode()
    start = time.monotonic()
    sent = 0
    try:
        with socket.create_connection((HOST, port), timeout=limit) as sock:
            while time.monotonic() - start < limit:
                try:
                    sock.sendall(request[sent:sent + 1])
                except OSError:
                    break
                sent += 1
                sock.settimeout(1.0)
                try:
                    data = sock.recv(4096)
                except socket.timeout:
                    continue
                except OSError:
                    break
                # Closed (b"") or answered (408 or the like, then closed): cut off either way.
                break
    except OSError as error:
        results[index] = ("connect failed", repr(error))
        return
    results[index] = (time.monotonic() - start, sent)


def group_slowloris(port, name, read_timeout):
    """slowloris PORT NAME READ_TIMEOUT: 4 clients sending a request one byte a second and one
    that sends nothing do not block others, and are cut off about READ_TIMEOUT s after they
    connect (at most READ_TIMEOUT + 3 s)."""
    read_timeout = float(read_timeout)
    limit = read_timeout + 10
    results = {}
    threads = [threading.Thread(target=slow_sender, args=(port, f"/v2/models/{name}/infer", results, i, limit))
               for i in range(4)]
    for thread in threads:
        thread.start()
    silent = socket.create_connection((HOST, port), timeout=limit)
    silent_start = time.monotonic()
    image = [[0] * 28 for _ in range(28)]
    slowest = 0.0
    served = 0
    while any(thread.is_alive() for thread in threads):
        begin = time.monotonic()
        client = OipClient(HOST, port, timeout=5.0)
        check_infer_response(client.infer(name, [tensor("input", "FP32", [image])]), name)
        client.close()
        slowest = max(slowest, time.monotonic() - begin)
        served += 1
        time.sleep(0.2)
    for thread in threads:
        thread.join()
    try:
        silent.settimeout(max(0.1, limit - (time.monotonic() - silent_start)))
        silent.recv(4096)
    except OSError:
        pass
    silent_after = time.monotonic() - silent_start
    silent.close()
    require(slowest < 1.0, f"while slow clients were connected, a request took {slowest:.2f} s")
    require(served >= 5, f"only {served} requests served beside the slow clients")
    for index in range(4):
        after, sent = results.get(index, ("no result", 0))
        require(isinstance(after, float), f"slow client {index}: {after} {sent}")
        require(after <= read_timeout + 3,
                f"slow client {index} still connected after {after:.1f} s ({sent} bytes sent), "
                f"with a read timeout of {read_timeout:g} s")
    require(silent_after <= read_timeout + 3,
            f"a connection that sent nothing was open {silent_after:.1f} s, read timeout {read_timeout:g} s")
    cut = ", ".join(f"{results[i][0]:.1f}" for i in range(4))
    print(f"slow clients cut off after {cut} s, the silent one after {silent_after:.1f} s; "
          f"{served} requests served meanwhile, slowest {slowest * 1000:.0f} ms")


def group_oversize(port, name, limit, token=None):
    """oversize PORT NAME LIMIT [TOKEN]: bodies over --max-request-bytes LIMIT get 413, announced or
    chunked, without the server waiting for a body it will not read; the server carries on.
    TOKEN: the bearer token the server wants, sent with each request."""
    limit = int(limit)
    path = f"/v2/models/{name}/infer"
    authorization = f"Authorization: Bearer {token}\r\n" if token is not None else ""
    # Announced and never sent: the answer must come from the headers alone.
    begin = time.monotonic()
    answer = raw_exchange(port, f"POST {path} HTTP/1.1\r\nHost: x\r\n{authorization}Content-Type: application/json\r\n"
                                f"Content-Length: {limit * 100}\r\n\r\n".encode(), wait=3.0)
    require(status_of(answer) == 413, f"Content-Length {limit * 100} with no body: answered {answer[:160]!r}, expected 413")
    require(time.monotonic() - begin < 2.5, "413 only after waiting for the body")
    # Chunked, with no Content-Length to go by.
    chunk = b"[" + b"0," * (limit // 2) + b"0]"
    body = b"%x\r\n" % len(chunk) + chunk + b"\r\n0\r\n\r\n"
    answer = raw_exchange(port, f"POST {path} HTTP/1.1\r\nHost: x\r\n{authorization}Content-Type: application/json\r\n"
                                f"Transfer-Encoding: chunked\r\n\r\n".encode() + body, wait=3.0)
    require(status_of(answer) == 413, f"a chunked body of {len(chunk)} bytes: answered {answer[:160]!r}, expected 413")
    client = OipClient(HOST, port, token=token)
    require(client.live(), "not live after the 413s")
    print("413 from the headers alone and for a chunked body")


def group_auth(port, name, token):
    """auth PORT NAME TOKEN: a 401 carries WWW-Authenticate: Bearer (RFC 6750) and the protocol's
    error body; the token opens every endpoint."""
    anonymous = OipClient(HOST, port)
    for method, path in (("GET", "/v2"), ("GET", f"/v2/models/{name}"), ("GET", f"/v2/models/{name}/ready")):
        response = anonymous.request(method, path)
        require(response.status == 401, f"{method} {path} without a token: {response.status}")
        require(response.headers.get("www-authenticate", "").lower().startswith("bearer"),
                f"{method} {path}: a 401 without 'WWW-Authenticate: Bearer' (headers {response.headers})")
        response.error_message()
    client = OipClient(HOST, port, token=token)
    client.server_metadata()
    client.model_metadata(name)
    require(client.model_ready(name), "model ready with the token")
    check_infer_response(client.infer(name, [tensor("input", "FP32", [[[0] * 28] * 28])]), name)
    print("401 with WWW-Authenticate: Bearer; the token opens metadata, ready and infer")


def group_drain(port, name, server_pid):
    """drain PORT NAME SERVER_PID: SIGTERM while one request has its headers and half its body
    sent (in flight for certain: the server has begun reading it) and another was just sent to a
    server with a long --max-queue-delay-us (in flight too if the batcher waits for company; it
    may also have been answered before the signal): both are answered 200, and a connection made
    after the signal is not served."""
    server_pid = int(server_pid)
    image = [[7] * 28 for _ in range(28)]
    body = json.dumps({"id": "half", "inputs": [tensor("input", "FP32", [image])]}).encode()
    half = socket.create_connection((HOST, port), timeout=15)
    half.sendall(f"POST /v2/models/{name}/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {len(body)}\r\n\r\n".encode() + body[:len(body) // 2])
    queued_result = {}

    def queued():
        client = OipClient(HOST, port, timeout=15)
        try:
            queued_result["document"] = client.infer(name, [tensor("input", "FP32", [image])], request_id="queued")
        except Exception as error:  # noqa: BLE001 - reported below
            queued_result["error"] = repr(error)

    thread = threading.Thread(target=queued)
    thread.start()
    time.sleep(0.3)
    os.kill(server_pid, signal.SIGTERM)
    time.sleep(0.3)
    half.sendall(body[len(body) // 2:])
    refused = None
    try:
        late = OipClient(HOST, port, timeout=2)
        response = late.request("GET", "/v2/health/live")
        refused = f"a connection made after SIGTERM was served: {response.status}"
    except Exception:  # noqa: BLE001 - refused, reset or no answer: not served, as wanted
        pass
    half_answer = b""
    try:
        while True:
            chunk = half.recv(65536)
            if not chunk:
                break
            half_answer += chunk
            head, _, rest = half_answer.partition(b"\r\n\r\n")
            lengths = [int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
            if lengths and len(rest) >= lengths[0]:
                break
    except OSError as error:
        half_answer += f"<{error!r}>".encode()
    half.close()
    thread.join(15)
    require("document" in queued_result, f"the queued request was not answered: {queued_result.get('error')}")
    check_infer_response(queued_result["document"], name, "queued")
    require(status_of(half_answer) == 200,
            f"the request half sent at SIGTERM: answered {half_answer[:200]!r}, expected 200")
    require(b'"half"' in half_answer, "the half-sent request's answer does not echo its id")
    require(refused is None, refused or "")
    print("a queued request and a half-sent one answered 200 after SIGTERM; a new connection not served")


def parse_metrics(text):
    """{(name, frozenset(labels)): value} of the Prometheus text format, and the # TYPE lines."""
    samples, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, metric, kind = line.split(None, 3)
            types[metric] = kind
            continue
        if not line or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        if "{" in head:
            metric, _, label_text = head.partition("{")
            labels = []
            for part in label_text.rstrip("}").split('",'):
                if part:
                    key, _, val = part.partition("=")
                    labels.append((key.strip(), val.strip().strip('"')))
            labels = frozenset(labels)
        else:
            metric, labels = head, frozenset()
        samples[(metric, labels)] = float(value)
    return samples, types


def metric_sum(samples, metric, **labels):
    return sum(value for (name, found), value in samples.items()
               if name == metric and all((k, v) in found for k, v in labels.items()))


def fetch_metrics(port):
    client = OipClient(HOST, port)
    response = client.request("GET", "/metrics")
    require(response.status == 200, f"GET /metrics: {response.status}")
    content_type = response.headers.get("content-type", "")
    require(content_type.startswith("text/plain"), f"GET /metrics: Content-Type {content_type!r}")
    return response.body.decode("utf-8")


def promtool(text):
    run = subprocess.run(["promtool", "check", "metrics"], input=text.encode(), capture_output=True, timeout=30)
    problems = (run.stdout + run.stderr).decode().strip()
    require(run.returncode == 0 and not problems, f"promtool check metrics: exit {run.returncode}: {problems}")


def group_metrics(port, name, version):
    """metrics PORT NAME VERSION: /metrics passes promtool, has the issue's metrics, and its
    counters move with 5 good and 2 bad requests."""
    before_text = fetch_metrics(port)
    promtool(before_text)
    before, types = parse_metrics(before_text)
    for metric, kind in (("mlc_inference_requests_total", "counter"),
                         ("mlc_inference_request_duration_seconds", "histogram"),
                         ("mlc_inference_queue_duration_seconds", "histogram"),
                         ("mlc_inference_batch_size", "histogram"),
                         ("mlc_inference_requests_in_flight", "gauge"),
                         ("mlc_model_loads_total", "counter"),
                         ("mlc_model_swaps_total", "counter"),
                         ("process_resident_memory_bytes", "gauge")):
        declared = types.get(metric, types.get(metric[:-len("_total")] if metric.endswith("_total") else metric))
        require(declared == kind, f"# TYPE of {metric}: {declared}, expected {kind}")
    require(metric_sum(before, "process_resident_memory_bytes") > 1e6, "process_resident_memory_bytes")
    require(metric_sum(before, "mlc_model_loads_total", model=name) >= 1, f"no load of {name} counted")

    client = OipClient(HOST, port)
    image = [[3] * 28 for _ in range(28)]
    for _ in range(5):
        client.infer(name, [tensor("input", "FP32", [image])])
    for _ in range(2):
        response = client.infer_request(name, [tensor("input", "FP32", [image[:27]])])
        require(response.status == 400, f"a 27-row image: {response.status}")
    after_text = fetch_metrics(port)
    promtool(after_text)
    after, _ = parse_metrics(after_text)

    moved = metric_sum(after, "mlc_inference_requests_total", model=name) - \
        metric_sum(before, "mlc_inference_requests_total", model=name)
    require(moved == 7, f"mlc_inference_requests_total{{model={name}}} moved by {moved:g}, expected 7")
    good = metric_sum(after, "mlc_inference_requests_total", model=name, version=version) - \
        metric_sum(before, "mlc_inference_requests_total", model=name, version=version)
    require(good >= 5, f"mlc_inference_requests_total{{model={name},version={version}}} moved by {good:g}, expected >= 5")
    outcomes = {dict(labels).get("outcome") for (metric, labels), value in after.items()
                if metric == "mlc_inference_requests_total" and dict(labels).get("model") == name
                and value > before.get((metric, labels), 0)}
    require(len(outcomes) >= 2, f"5 good and 2 bad requests moved one outcome only: {outcomes}")
    timed = metric_sum(after, "mlc_inference_request_duration_seconds_count") - \
        metric_sum(before, "mlc_inference_request_duration_seconds_count")
    require(timed >= 5, f"mlc_inference_request_duration_seconds_count moved by {timed:g}")
    batches = metric_sum(after, "mlc_inference_batch_size_count") - metric_sum(before, "mlc_inference_batch_size_count")
    require(batches >= 1, f"mlc_inference_batch_size_count moved by {batches:g}")
    queued = metric_sum(after, "mlc_inference_queue_duration_seconds_count") - \
        metric_sum(before, "mlc_inference_queue_duration_seconds_count")
    require(queued >= 5, f"mlc_inference_queue_duration_seconds_count moved by {queued:g}")
    in_flight = metric_sum(after, "mlc_inference_requests_in_flight")
    require(in_flight == 0, f"mlc_inference_requests_in_flight is {in_flight:g} with nothing in flight")
    print(f"promtool clean; requests_total +7 over outcomes {sorted(o for o in outcomes if o)}")


def group_swap_metrics(port, name, swaps):
    """swap-metrics PORT NAME SWAPS: after the swap test, promtool is clean, mlc_model_swaps_total
    of NAME is at least SWAPS and its loads were counted under two outcomes (loaded and failed)."""
    text = fetch_metrics(port)
    promtool(text)
    samples, _ = parse_metrics(text)
    counted = metric_sum(samples, "mlc_model_swaps_total", model=name)
    require(counted >= int(swaps), f"mlc_model_swaps_total{{model={name}}} is {counted:g}, expected >= {swaps}")
    outcomes = {dict(labels).get("outcome") for (metric, labels), value in samples.items()
                if metric == "mlc_model_loads_total" and dict(labels).get("model") == name and value > 0}
    require(len(outcomes) >= 2, f"mlc_model_loads_total{{model={name}}} has outcomes {outcomes}: "
                                "the failed load is not counted apart")
    print(f"{name}: {counted:g} swaps, loads by outcome {sorted(o for o in outcomes if o)}")


GROUPS = {
    "swap-metrics": group_swap_metrics,
    "fmnist": group_fmnist,
    "table": group_table,
    "isolation": group_isolation,
    "idle": group_idle,
    "slowloris": group_slowloris,
    "oversize": group_oversize,
    "auth": group_auth,
    "drain": group_drain,
    "metrics": group_metrics,
}


def main(argv):
    if len(argv) < 3 or argv[1] not in GROUPS:
        print(f"usage: serve_checks.py {{{','.join(GROUPS)}}} PORT ARG...", file=sys.stderr)
        return 2
    try:
        GROUPS[argv[1]](int(argv[2]), *argv[3:])
    except (CheckFailed, AssertionError, OipError) as error:
        print(f"serve_checks {argv[1]}: {error}", file=sys.stderr)
        return 1
    except (OSError, ValueError, http.client.HTTPException) as error:
        print(f"serve_checks {argv[1]}: {error!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
