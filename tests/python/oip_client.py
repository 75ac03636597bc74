#!/usr/bin/python3
"""A client of the Open Inference Protocol V2 over HTTP/REST, written from the protocol text
(KServe's "Open Inference Protocol (V2 Inference Protocol)", as Triton and Seldon implement it),
not from mlc's sources, so that the tests of `mlc serve` check the protocol rather than mlc's own
reading of it. Python's standard library only: http.client, one keep-alive connection per client.

The endpoints it knows (all strings case-sensitive):
  GET  /v2/health/live                                   200 = live
  GET  /v2/health/ready                                  200 = ready
  GET  /v2                                               server metadata {name, version, extensions}
  GET  /v2/models/NAME[/versions/V]                      model metadata {name, versions, platform,
                                                         inputs, outputs}: tensors {name, datatype,
                                                         shape}, -1 for a variable dimension
  GET  /v2/models/NAME[/versions/V]/ready                200 = ready, {name, ready}
  POST /v2/models/NAME[/versions/V]/infer                {id?, parameters?, inputs: [{name, shape,
                                                         datatype, parameters?, data}], outputs?:
                                                         [{name, parameters?}]} ->
                                                         {model_name, model_version?, id?,
                                                         parameters?, outputs: [{name, shape,
                                                         datatype, parameters?, data}]}
  Errors: a status other than 200 with {"error": "..."}.
Tensor data are row-major, either flat or nested like the shape; BYTES elements are strings.

As a library: OipClient(host, port).infer(...) and friends. As a command, for shell tests:
  oip_client.py [--host H] --port P [--token T] [--header 'K: V'] METHOD PATH [BODY | @FILE]
prints the status code on the first line and the body after it; exits 0 whenever a response came
back (whatever its status), 1 if none did.
"""

import argparse
import http.client
import json
import math
import sys

DEFAULT_TIMEOUT = 10.0


class OipError(Exception):
    """A response that is not 200, with its status and the protocol's error message."""

    def __init__(self, status, message, body):
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message
        self.body = body


class ProtocolViolation(AssertionError):
    """A 200 response whose document does not follow the protocol."""


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-cased names
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def error_message(self):
        """The protocol's {"error": "..."}; raises ProtocolViolation if the body is not one."""
        try:
            document = self.json()
        except ValueError as error:
            raise ProtocolViolation(f"HTTP {self.status}: body is not JSON: {self.body[:200]!r}") from error
        if not isinstance(document, dict) or not isinstance(document.get("error"), str):
            raise ProtocolViolation(f"HTTP {self.status}: no error string in {document!r}")
        return document["error"]


def element_count(shape):
    count = 1
    for dimension in shape:
        count *= dimension
    return count


def flatten(data):
    """Row-major flattening of nested lists; a flat list is returned as it is."""
    if not isinstance(data, list):
        return [data]
    flat = []
    for item in data:
        flat.extend(flatten(item))
    return flat


def nest(flat, shape):
    """The inverse of flatten: flat row-major data as nested lists of `shape`."""
    if len(shape) <= 1:
        return list(flat)
    step = element_count(shape[1:])
    return [nest(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def shape_of(nested):
    shape = []
    while isinstance(nested, list):
        shape.append(len(nested))
        nested = nested[0] if nested else None
    return shape


def tensor(name, datatype, data, shape=None):
    """An input tensor; the shape defaults to that of nested `data`."""
    return {"name": name, "shape": shape if shape is not None else shape_of(data),
            "datatype": datatype, "data": data}


def model_path(name, version=None):
    path = f"/v2/models/{name}"
    if version is not None:
        path += f"/versions/{version}"
    return path


class OipClient:
    """One keep-alive HTTP/1.1 connection to an OIP server. Not thread-safe: one per thread."""

    def __init__(self, host, port, token=None, timeout=DEFAULT_TIMEOUT):
        self.host = host
        self.port = port
        self.token = token
        self.connection = http.client.HTTPConnection(host, port, timeout=timeout)

    def close(self):
        self.connection.close()

    def local_port(self):
        """The client side port of the open connection (None if none is open)."""
        sock = self.connection.sock
        return sock.getsockname()[1] if sock is not None else None

    def request(self, method, path, body=None, headers=None):
        all_headers = {"Accept": "application/json"}
        if self.token is not None:
            all_headers["Authorization"] = f"Bearer {self.token}"
        if body is not None:
            if not isinstance(body, (bytes, bytearray)):
                body = json.dumps(body).encode("utf-8")
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        self.connection.request(method, path, body=body, headers=all_headers)
        response = self.connection.getresponse()
        payload = response.read()
        return Response(response.status, {k.lower(): v for k, v in response.getheaders()}, payload)

    # Health: the status is the answer.
    def live(self):
        return self.request("GET", "/v2/health/live").status == 200

    def ready(self):
        return self.request("GET", "/v2/health/ready").status == 200

    def model_ready(self, name, version=None):
        return self.request("GET", model_path(name, version) + "/ready").status == 200

    # Metadata.
    def server_metadata(self):
        document = self._ok(self.request("GET", "/v2"))
        for key, kind in (("name", str), ("version", str), ("extensions", list)):
            if not isinstance(document.get(key), kind):
                raise ProtocolViolation(f"server metadata: '{key}' should be a {kind.__name__}: {document}")
        return document

    def model_metadata(self, name, version=None):
        document = self._ok(self.request("GET", model_path(name, version)))
        if document.get("name") != name:
            raise ProtocolViolation(f"model metadata of {name} names {document.get('name')!r}")
        if not isinstance(document.get("platform"), str):
            raise ProtocolViolation(f"model metadata: no platform string: {document}")
        if "versions" in document and not all(isinstance(v, str) for v in document["versions"]):
            raise ProtocolViolation(f"model metadata: versions are strings: {document}")
        for key in ("inputs", "outputs"):
            for entry in document.get(key, []):
                if not (isinstance(entry.get("name"), str) and isinstance(entry.get("datatype"), str)
                        and isinstance(entry.get("shape"), list)
                        and all(isinstance(d, int) and d >= -1 for d in entry["shape"])):
                    raise ProtocolViolation(f"model metadata: bad {key} tensor {entry}")
        return document

    # Inference.
    def infer_request(self, name, inputs, outputs=None, request_id=None, version=None):
        body = {"inputs": inputs}
        if request_id is not None:
            body["id"] = request_id
        if outputs is not None:
            body["outputs"] = [{"name": output} for output in outputs]
        return self.request("POST", model_path(name, version) + "/infer", body)

    def infer(self, name, inputs, outputs=None, request_id=None, version=None):
        """The response document, checked against the protocol; OipError if not 200."""
        document = self._ok(self.infer_request(name, inputs, outputs, request_id, version))
        check_infer_response(document, name, request_id)
        return document

    def _ok(self, response):
        if response.status != 200:
            raise OipError(response.status, response.error_message(), response.body)
        content_type = response.headers.get("content-type", "")
        if not content_type.startswith("application/json"):
            raise ProtocolViolation(f"Content-Type {content_type!r} is not application/json")
        return response.json()


def check_infer_response(document, name, request_id=None):
    if document.get("model_name") != name:
        raise ProtocolViolation(f"model_name {document.get('model_name')!r}, asked {name!r}")
    if "model_version" in document and not isinstance(document["model_version"], str):
        raise ProtocolViolation(f"model_version is not a string: {document['model_version']!r}")
    if request_id is not None and document.get("id") != request_id:
        raise ProtocolViolation(f"id {document.get('id')!r}, the request's was {request_id!r}")
    if not isinstance(document.get("outputs"), list):
        raise ProtocolViolation(f"no outputs list: {document}")
    for output in document["outputs"]:
        for key, kind in (("name", str), ("datatype", str), ("shape", list)):
            if not isinstance(output.get(key), kind):
                raise ProtocolViolation(f"output {output.get('name')!r}: '{key}' missing or not a {kind.__name__}")
        flat = flatten(output.get("data"))
        if len(flat) != element_count(output["shape"]):
            raise ProtocolViolation(f"output {output['name']}: {len(flat)} elements for shape {output['shape']}")


def outputs_by_name(document):
    """{name: (shape, datatype, flat data)} of an infer response; NaN for a JSON null."""
    found = {}
    for output in document["outputs"]:
        flat = [math.nan if value is None else value for value in flatten(output["data"])]
        found[output["name"]] = (output["shape"], output["datatype"], flat)
    return found


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token")
    parser.add_argument("--header", action="append", default=[], help="'Name: value'")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT)
    parser.add_argument("method")
    parser.add_argument("path")
    parser.add_argument("body", nargs="?")
    args = parser.parse_args(argv[1:])
    body = None
    if args.body is not None:
        if args.body.startswith("@"):
            with open(args.body[1:], "rb") as stream:
                body = stream.read()
        else:
            body = args.body.encode("utf-8")
    headers = dict(h.split(":", 1) for h in args.header)
    headers = {k.strip(): v.strip() for k, v in headers.items()}
    client = OipClient(args.host, args.port, args.token, args.timeout)
    try:
        response = client.request(args.method, args.path, body, headers)
    except (OSError, http.client.HTTPException) as error:
        print(f"oip_client: no response: {error!r}", file=sys.stderr)
        return 1
    finally:
        client.close()
    sys.stdout.write(f"{response.status}\n")
    sys.stdout.write(response.body.decode("utf-8", errors="replace"))
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
