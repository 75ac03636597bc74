#!/usr/bin/python3
"""Load for the live-swap test of `mlc serve` (tests/cli/test_serve_swap.sh), and its verdict.

usage: serve_load.py run PORT RECORDS.jsonl STOP_FILE MAX_SECONDS NAME:THREADS...
       serve_load.py check RECORDS.jsonl EVENTS.txt [MAX_LATENCY_SECONDS=0.5]

run: THREADS client threads per model NAME, each on its own keep-alive connection (oip_client),
send infer requests of one sample (of the shape the model's metadata gives) in a loop until STOP_FILE exists (or MAX_SECONDS pass), and record
every answer as a JSON line {start, end, model, status, version, error} (wall-clock seconds,
status 0 when no answer came: the connection broke). A broken connection is recorded and a new
one opened.

check: EVENTS.txt lines "BEGIN END MODEL VERSION WHAT": between BEGIN and END (wall clock) a
command changed what the target holds; from END on, MODEL should be served at VERSION ("-": not
served, 404). The first line of each model is its start (BEGIN = END = 0). Every answer must be
200 with the version the target held when the request began, or, while a change is under way
(from BEGIN to END + 1 s), the version before or after it; a model not served answers 404.
Each phase must have answers, no answer may take more than MAX_LATENCY_SECONDS, and no
connection may break. Prints, per change, how long after END the first answer of the new version
came and how many answers the phase had.
"""

import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oip_client import OipClient, check_infer_response, tensor  # noqa: E402

FOLLOW_WITHIN = 1.0  # seconds: model_version follows the target within a second of each change


def one_sample(client, model):
    """An input of one sample for `model`, of the shape its metadata gives (-1 taken as 1)."""
    declared = client.model_metadata(model)["inputs"][0]
    shape = [1 if dimension == -1 else dimension for dimension in declared["shape"]]
    count = 1
    for dimension in shape:
        count *= dimension
    return [tensor(declared["name"], declared["datatype"], [float(i % 256) for i in range(count)], shape)]


def client_loop(port, model, stop_file, deadline, records, lock):
    client = OipClient("127.0.0.1", port, timeout=10.0)
    inputs = one_sample(client, model)
    mine = []
    while time.time() < deadline and not os.path.exists(stop_file):
        start = time.time()
        record = {"start": start, "model": model, "status": 0, "version": None, "error": None}
        try:
            response = client.infer_request(model, inputs, outputs=["label"])
            record["status"] = response.status
            if response.status == 200:
                document = response.json()
                check_infer_response(document, model)
                record["version"] = document.get("model_version")
            else:
                record["error"] = response.error_message()
        except Exception as error:  # noqa: BLE001 - recorded, then a new connection
            record["error"] = repr(error)
            client.close()
            client = OipClient("127.0.0.1", port, timeout=10.0)
        record["end"] = time.time()
        mine.append(record)
    client.close()
    with lock:
        records.extend(mine)


def run(port, records_path, stop_file, max_seconds, *specs):
    deadline = time.time() + float(max_seconds)
    records, lock, threads = [], threading.Lock(), []
    for spec in specs:
        model, _, count = spec.partition(":")
        for _ in range(int(count or 1)):
            threads.append(threading.Thread(target=client_loop,
                                            args=(int(port), model, stop_file, deadline, records, lock)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    records.sort(key=lambda r: r["start"])
    with open(records_path, "w", encoding="utf-8") as stream:
        for record in records:
            stream.write(json.dumps(record) + "\n")
    print(f"serve_load: {len(records)} requests from {len(threads)} connections")
    return 0


def check(records_path, events_path, max_latency="0.5"):
    max_latency = float(max_latency)
    with open(records_path, encoding="utf-8") as stream:
        records = [json.loads(line) for line in stream if line.strip()]
    events = {}
    with open(events_path, encoding="utf-8") as stream:
        for line in stream:
            if line.strip():
                begin, end, model, version, what = line.split(None, 4)
                events.setdefault(model, []).append((float(begin), float(end), version, what.strip()))
    problems = []
    for model, changes in events.items():
        mine = [r for r in records if r["model"] == model]
        for record in mine:
            outcome = record["version"] if record["status"] == 200 else ("-" if record["status"] == 404 else None)
            if outcome is None:
                problems.append(f"{model}: status {record['status']} at {record['start']:.3f}: {record['error']}")
                continue
            # What the target held when the request began, and what any change under way allows.
            allowed = set()
            held = changes[0][2]
            for index, (begin, end, version, _) in enumerate(changes):
                if index == 0:
                    continue
                before = held
                if end + FOLLOW_WITHIN <= record["start"]:
                    held = version
                elif begin <= record["end"]:  # the request overlaps the change or its second
                    allowed.update({before, version})
                    held = version if end <= record["start"] else before
            allowed.add(held)
            if outcome not in allowed:
                problems.append(f"{model}: answered {outcome!r} (status {record['status']}) for a request of "
                                f"{record['start']:.3f}-{record['end']:.3f}; the target held {held!r}"
                                f"{' or ' + repr(sorted(allowed - {held})) if allowed - {held} else ''}")
            latency = record["end"] - record["start"]
            if latency > max_latency:
                problems.append(f"{model}: a request of {record['start']:.3f} took {latency:.3f} s")
        # Every phase had answers; how soon each change showed.
        for index, (begin, end, version, what) in enumerate(changes):
            following = changes[index + 1][0] if index + 1 < len(changes) else float("inf")
            phase = [r for r in mine if r["start"] >= end and r["end"] <= following]
            settled = [r for r in phase if r["start"] >= end + FOLLOW_WITHIN]
            if len(settled) < 5:
                problems.append(f"{model}: only {len(settled)} answers after '{what}' had settled")
            if index == 0:
                continue
            shown = [r for r in phase if (r["version"] if r["status"] == 200 else "-") == version]
            lag = f"{shown[0]['end'] - end:.3f} s" if shown else "never"
            latencies = sorted(r["end"] - r["start"] for r in phase) or [0.0]
            print(f"{model}: '{what}' -> {version}: first answer of it {lag} after the command returned; "
                  f"{len(phase)} answers, p50 {latencies[len(latencies) // 2] * 1000:.1f} ms, "
                  f"max {latencies[-1] * 1000:.1f} ms")
    if problems:
        for problem in problems[:20]:
            print(problem, file=sys.stderr)
        if len(problems) > 20:
            print(f"... and {len(problems) - 20} more", file=sys.stderr)
        return 1
    print(f"serve_load: {len(records)} answers, each as the target said")
    return 0


def main(argv):
    if len(argv) >= 7 and argv[1] == "run":
        return run(*argv[2:])
    if len(argv) in (4, 5) and argv[1] == "check":
        return check(*argv[2:])
    print(__doc__.strip().splitlines()[2], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
