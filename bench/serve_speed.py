#!/usr/bin/python3
"""`mlc serve` beside the server a PyTorch user writes instead, measured with wrk on loopback.

Trains the Fashion-MNIST MLP of examples/fashion-mnist/mlp.json on a slice, exports, registers and
deploys it in a temporary MLC_HOME, then starts, on the same deployed model.pt:
  - mlc serve --target bench --port 0 (dynamic batching with its defaults),
  - mlc serve ... --max-batch-size 1 (no batching: what batching gives),
  - the peer: bench/peer_serve_flask.py (Flask + torch.jit.load) under gunicorn, 2 workers with
    one thread each and torch.set_num_threads(1) in each,
checks that they answer the same V2 infer request (one 28x28 test image as JSON, data flat) with
the same logits, and drives each with wrk at 1, 16 and 64 connections, alternating the servers.
Reports requests/s, p50 and p99 (wrk's own latency record), errors, the load average around each
run, the peak RSS of each server's process tree (VmHWM of the server and of its workers, summed),
and what one request costs inside mlc (its /metrics histograms before and after each run: queue,
forward pass, batch size, the rest being parse, serialise and HTTP), plus the JSON parse of the
same body timed in isolation (Python's json.loads; RapidJSON and nlohmann::json, compiled here).

Prints Markdown tables and writes every figure to a JSON file (--json-out; default beside the
temporary MLC_HOME, its path printed).

Usage: bench/serve_speed.py [--mlc build/bin/mlc] [--duration 10] [--connections 1,16,64]
                            [--no-batch-connections 16,64] [--wrk-threads 2] [--rounds 1]
                            [--train-limit 6000] [--json-out FILE] [--peer-only]
                            [--peer-env KEY=VALUE ...]
"""
import argparse
import gzip
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from benchlib import run_measured

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FASHION = "/usr/share/datasets/fashion-mnist"
TARGET, MODEL = "bench", "fmnist"
PEER_LABEL, MLC_LABEL, NO_BATCH_LABEL = "peer", "mlc", "mlc-no-batch"
DESCRIPTIONS = {MLC_LABEL: "mlc serve", NO_BATCH_LABEL: "mlc serve --max-batch-size 1",
                PEER_LABEL: "gunicorn + Flask + torch.jit (2 workers x 1 thread)"}

# Posts the body named by SERVE_BENCH_BODY; at the end prints one line of JSON with wrk's own
# counts and latency percentiles (microseconds), read back by run_wrk().
WRK_LUA = r"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open(os.getenv("SERVE_BENCH_BODY"), "rb"))
wrk.body = f:read("*a")
f:close()

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK_JSON {"requests": %d, "duration_us": %d, "connect_errors": %d, '
    .. '"read_errors": %d, "write_errors": %d, "non_2xx": %d, "timeouts": %d, "p50_us": %d, '
    .. '"p90_us": %d, "p99_us": %d, "mean_us": %.1f, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean,
    latency.max))
end
"""

# The JSON parse of the body in isolation, in the two C++ readers at hand: RapidJSON (what mlc
# serve parses with: ParseInsitu, the data read into floats) and nlohmann::json (DOM, the same).
PARSE_CPP = r"""
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>
#include <nlohmann/json.hpp>
#include <rapidjson/document.h>

template <typename F> static double mean_us(int runs, F f) {
  for (int i = 0; i < runs / 10; ++i) f();
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < runs; ++i) f();
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / runs;
}

int main(int, char** argv) {
  std::stringstream text;
  text << std::ifstream(argv[1]).rdbuf();
  const std::string body = text.str();
  std::vector<float> data;
  const double rapid = mean_us(20000, [&] {
    std::string copy = body;
    rapidjson::Document doc;
    doc.ParseInsitu<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseStopWhenDoneFlag>(copy.data());
    const auto& values = doc["inputs"][0]["data"];
    data.clear();
    for (const auto& v : values.GetArray()) data.push_back(v.GetFloat());
  });
  const double nlohmann_us = mean_us(5000, [&] {
    const auto doc = nlohmann::json::parse(body);
    data = doc["inputs"][0]["data"].get<std::vector<float>>();
  });
  std::printf("{\"rapidjson_insitu_us\": %.2f, \"nlohmann_us\": %.2f, \"values\": %zu}\n", rapid,
              nlohmann_us, data.size());
}
"""

# The peer's own per-request work in isolation, in one Python process with one torch thread.
PEER_PARTS_PY = r"""
import json, sys, time, torch
torch.set_num_threads(1)
body = open(sys.argv[1]).read()
model = torch.jit.load(sys.argv[2]); model.eval()
def mean_us(runs, f):
    for _ in range(runs // 10): f()
    start = time.perf_counter()
    for _ in range(runs): f()
    return (time.perf_counter() - start) / runs * 1e6
doc = json.loads(body); data = doc["inputs"][0]["data"]
x = torch.tensor(data, dtype=torch.float32).reshape(1, 28, 28)
def forward():
    with torch.inference_mode():
        return model(x)
logits = forward()
def outputs():
    p = torch.softmax(logits, dim=1)
    return json.dumps({"logits": logits.flatten().tolist(), "probabilities": p.flatten().tolist(),
                       "label": logits.argmax(dim=1).tolist()})
print(json.dumps({"json_loads_us": mean_us(5000, lambda: json.loads(body)),
                  "torch_tensor_us": mean_us(5000, lambda: torch.tensor(data, dtype=torch.float32)),
                  "forward_us": mean_us(5000, forward),
                  "softmax_argmax_dumps_us": mean_us(5000, outputs)}))
"""


def mlc_run(mlc, env, *args):
    subprocess.run([mlc, "-q", *args], env=env, check=True, stdout=subprocess.DEVNULL)


def deploy_model(mlc, env, work, train_limit):
    """Trains, evaluates, exports, registers and deploys fmnist:1 to TARGET; returns its directory."""
    config = os.path.join(ROOT, "examples", "fashion-mnist", "mlp.json")
    mlc_run(mlc, env, "train", config, "--name", MODEL, "--epochs", "1", "--threads", "2",
            "--set", f"data.train_limit={train_limit}")
    mlc_run(mlc, env, "eval", f"{MODEL}:1")
    mlc_run(mlc, env, "export", f"{MODEL}:1", "--out", os.path.join(work, "export", f"{MODEL}.pt"))
    mlc_run(mlc, env, "register", f"{MODEL}:1")
    mlc_run(mlc, env, "deploy", f"{MODEL}:1", "--target", TARGET)
    return os.path.join(env["MLC_HOME"], "deployments", TARGET, MODEL)


def request_body(index):
    """The V2 infer request of test image `index`: raw pixel intensities as FP32, data flat."""
    with gzip.open(os.path.join(FASHION, "t10k-images-idx3-ubyte.gz"), "rb") as f:
        raw = f.read()
    pixels = raw[16 + 784 * index:16 + 784 * (index + 1)]
    return json.dumps({"id": "bench", "inputs": [{"name": "input", "shape": [1, 28, 28],
                                                  "datatype": "FP32",
                                                  "data": [float(p) for p in pixels]}]})


class Server:
    """One server under test, its process group started here and stopped by stop()."""

    def __init__(self, label, argv, env, log_path, pass_fds=(), port=None):
        self.label, self.argv, self.log_path, self.port = label, argv, log_path, port
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(argv, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     pass_fds=pass_fds, start_new_session=True)

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def log_tail(self):
        with open(self.log_path, "rb") as f:
            return f.read()[-2000:].decode(errors="replace")

    def check_alive(self):
        if self.proc.poll() is not None:
            sys.exit(f"{self.label} exited ({self.proc.returncode}):\n{self.log_tail()}")

    def wait_ready(self, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            if self.port is None:  # mlc serve --port 0 says which port it took
                m = re.search(r"listening on http://[^:]+:(\d+)", self.log_tail())
                self.port = int(m.group(1)) if m else None
            if self.port is not None:
                try:
                    with urllib.request.urlopen(self.url("/v2/health/ready"), timeout=2) as r:
                        if r.status == 200:
                            return
                except OSError:  # refused, or accepted by a backlog no worker reads yet
                    pass
            time.sleep(0.2)
        sys.exit(f"{self.label} not ready after {timeout} s:\n{self.log_tail()}")

    def pids(self):
        """The server and every process under it."""
        parents = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        parents.setdefault(int(f.read().rsplit(")", 1)[1].split()[1]), []).append(int(entry))
                except OSError:
                    pass
        tree, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo.extend(parents.get(pid, []))
        return tree

    def cpu_seconds(self):
        """User + system CPU time of the process tree so far."""
        ticks = 0
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                ticks += int(fields[11]) + int(fields[12])
            except OSError:
                pass
        return ticks / os.sysconf("SC_CLK_TCK")

    def peak_rss(self):
        """{pid: VmHWM in KiB} of the process tree, read while it runs."""
        peaks = {}
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/status") as f:
                    peaks[pid] = int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1))
            except (OSError, AttributeError):
                pass
        return peaks

    def stop(self):
        """SIGTERM, then the exit status (None if it had to be killed)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()
                return None
        self.log.close()
        return self.proc.returncode


def post(server, body):
    request = urllib.request.Request(server.url(f"/v2/models/{MODEL}/infer"), body.encode(),
                                     {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return json.loads(r.read())
    except OSError as e:
        sys.exit(f"{server.label} at {server.url('')}: {e}\n{server.log_tail()}")


def check_same_answer(servers, body):
    """Every server answers the body with the same outputs: logits within 1e-5, same label."""
    answers = {s.label: post(s, body) for s in servers}
    reference_label, reference = next(iter(answers.items()))
    outputs = {o["name"]: o for o in reference["outputs"]}
    for label, answer in answers.items():
        theirs = {o["name"]: o for o in answer["outputs"]}
        if sorted(theirs) != sorted(outputs):
            sys.exit(f"{label} returns outputs {sorted(theirs)}, {reference_label} {sorted(outputs)}")
        gap = max(abs(a - b) for a, b in zip(theirs["logits"]["data"], outputs["logits"]["data"]))
        if gap > 1e-5 or theirs["label"]["data"] != outputs["label"]["data"]:
            sys.exit(f"{label} and {reference_label} disagree: logits differ by {gap}")
    return {"outputs": sorted(outputs), "label": outputs["label"]["data"],
            "class_name": outputs.get("class_name", {}).get("data")}


def metric_sums(server):
    """{histogram: (sum, count)} from mlc's /metrics, summed over labels."""
    with urllib.request.urlopen(server.url("/metrics"), timeout=10) as r:
        text = r.read().decode()
    sums = {}
    for m in re.finditer(r"^(\w+)_(sum|count)(?:\{[^}]*\})? (\S+)$", text, re.M):
        pair = sums.setdefault(m.group(1), [0.0, 0.0])
        pair[0 if m.group(2) == "sum" else 1] += float(m.group(3))
    return sums


def request_costs(before, after):
    """Means over one run from two /metrics snapshots: what one request costs inside mlc."""
    def delta(name):
        b, a = before.get(name, [0, 0]), after.get(name, [0, 0])
        return a[0] - b[0], a[1] - b[1]
    req_sum, requests = delta("mlc_inference_request_duration_seconds")
    queue_sum, queued = delta("mlc_inference_queue_duration_seconds")
    fwd_sum, forwards = delta("mlc_inference_forward_duration_seconds")
    samples, batches = delta("mlc_inference_batch_size")
    if not requests or not forwards:
        return None
    request_us, queue_us = req_sum / requests * 1e6, queue_sum / max(queued, 1) * 1e6
    forward_us = fwd_sum / forwards * 1e6
    return {"requests": requests, "request_us": request_us, "queue_us": queue_us,
            "forward_per_batch_us": forward_us, "forward_per_sample_us": fwd_sum / max(samples, 1) * 1e6,
            "mean_batch_size": samples / max(batches, 1),
            "rest_us": request_us - queue_us - forward_us}


def machine_busy_seconds():
    """CPU time spent by everything on the machine so far (all cores, idle and iowait excluded)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def load_average():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def builds_running():
    """Compilers or build drivers running now: they skew every figure on a 2-core machine."""
    found = subprocess.run(["pgrep", "-f", "cmake --build|ninja|cc1plus"], capture_output=True, text=True)
    return [int(p) for p in found.stdout.split()]


def run_wrk(server, connections, threads, duration, lua, env):
    argv = ["wrk", "-t", str(min(threads, connections)), "-c", str(connections), "-d", f"{duration}s",
            "--latency", "--timeout", "10s", "-s", lua, server.url(f"/v2/models/{MODEL}/infer")]
    cpu_before, busy_before = server.cpu_seconds(), machine_busy_seconds()
    out, wall, usage = run_measured(argv, env)
    busy = machine_busy_seconds() - busy_before
    out = out.decode()
    m = re.search(r"^WRK_JSON (.*)$", out, re.M)
    if not m:
        sys.exit(f"wrk printed no summary:\n{out}")
    result = json.loads(m.group(1))
    result["requests_per_second"] = result["requests"] / (result["duration_us"] / 1e6)
    result["errors"] = sum(result[k] for k in ("connect_errors", "read_errors", "write_errors",
                                               "non_2xx", "timeouts"))
    result["command"] = " ".join(argv)
    # Where the two cores went: the server's CPU per request, and wrk's own share.
    server_cpu = server.cpu_seconds() - cpu_before
    result["server_cpu_percent"] = server_cpu / wall * 100
    result["server_cpu_us_per_request"] = server_cpu / max(result["requests"], 1) * 1e6
    wrk_cpu = usage.ru_utime + usage.ru_stime
    result["wrk_cpu_percent"] = wrk_cpu / wall * 100
    # Anything else the machine ran meanwhile (builds, tests): the noise in this run's figures.
    result["other_cpu_percent"] = max(busy - server_cpu - wrk_cpu, 0) / wall * 100
    return result


def machine():
    with open("/proc/cpuinfo") as f:
        cpu = re.search(r"model name\s*:\s*(.*)", f.read())
    with open("/proc/meminfo") as f:
        mem_kib = int(re.search(r"MemTotal:\s+(\d+)", f.read()).group(1))
    debian = open("/etc/debian_version").read().strip() if os.path.exists("/etc/debian_version") else "?"
    return {"cpu": cpu.group(1) if cpu else platform.processor(), "cores": os.cpu_count(),
            "memory_gib": round(mem_kib / 2**20, 1), "kernel": platform.release(), "debian": debian}


def build_type(mlc):
    cache = os.path.join(os.path.dirname(os.path.dirname(mlc)), "CMakeCache.txt")
    if os.path.exists(cache):
        m = re.search(r"^CMAKE_BUILD_TYPE:STRING=(.*)$", open(cache).read(), re.M)
        return m.group(1) if m else "?"
    return "?"


def parse_timings(work, body_path):
    """JSON parse of the body in isolation: C++ readers (if g++ builds the probe) and the peer's parts."""
    timings = {}
    source, probe = os.path.join(work, "parse.cpp"), os.path.join(work, "parse")
    with open(source, "w") as f:
        f.write(PARSE_CPP)
    if shutil.which("g++") and subprocess.run(["g++", "-O2", "-std=c++20", source, "-o", probe],
                                             capture_output=True).returncode == 0:
        timings.update(json.loads(subprocess.run([probe, body_path], capture_output=True, text=True,
                                                 check=True).stdout))
    return timings


def peer_parts(body_path, model_path, env):
    out = subprocess.run(["/usr/bin/python3", "-c", PEER_PARTS_PY, body_path, model_path], env=env,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def peer_environment(args, env, deployment):
    """The peer's environment: the deployment it serves and any --peer-env KEY=VALUE."""
    extra = dict(kv.split("=", 1) for kv in args.peer_env)
    return {**env, "MLC_PEER_MODEL_DIR": deployment, **extra}


def start_servers(args, mlc, env, work, deployment):
    servers = []
    if not args.peer_only:
        base = [mlc, "serve", "--target", TARGET, "--port", "0"]
        servers.append(Server(MLC_LABEL, base, env, os.path.join(work, "mlc.log")))
        if args.no_batch_connections:
            servers.append(Server(NO_BATCH_LABEL, base + ["--max-batch-size", "1"], env,
                                  os.path.join(work, "mlc-no-batch.log")))
    # gunicorn takes a socket bound here (fd://), so the port is known and nothing races for it.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(2048)
    peer_env = peer_environment(args, env, deployment)
    servers.append(Server(PEER_LABEL, ["gunicorn", "--workers", "2", "--threads", "1",
                                       "--worker-class", args.peer_worker_class,
                                       "--bind", f"fd://{listener.fileno()}",
                                       "--chdir", os.path.join(ROOT, "bench"), "peer_serve_flask:app"],
                          peer_env, os.path.join(work, "peer.log"), pass_fds=(listener.fileno(),),
                          port=listener.getsockname()[1]))
    listener.close()
    try:
        for s in servers:
            s.wait_ready()
    except BaseException:
        for s in servers:
            s.stop()
        raise
    return servers


def measure(args, servers, lua, wrk_env):
    """Every (server, connections) run, servers alternated within each step, order flipped per round."""
    runs = []
    for round_index in range(args.rounds):
        for connections in args.connections:
            step = [s for s in servers if s.label != NO_BATCH_LABEL
                    or connections in args.no_batch_connections]
            if round_index % 2:
                step.reverse()
            for server in step:
                server.check_alive()
                is_mlc = server.label != PEER_LABEL
                load_before, building = load_average(), builds_running()
                before = metric_sums(server) if is_mlc else None
                result = run_wrk(server, connections, args.wrk_threads, args.duration, lua, wrk_env)
                result.update(server=server.label, connections=connections, round=round_index + 1,
                              load_before=load_before, load_after=load_average(),
                              builds_running=bool(building or builds_running()))
                if is_mlc:
                    result["mlc_costs"] = request_costs(before, metric_sums(server))
                runs.append(result)
                print(f"  {server.label:13} c={connections:<3} {result['requests_per_second']:9,.0f} req/s"
                      f"  p99 {result['p99_us'] / 1000:6.2f} ms  other CPU {result['other_cpu_percent']:3.0f}%"
                      f"  load {result['load_before'][0]:.2f}"
                      f"{'  (build running)' if result['builds_running'] else ''}", file=sys.stderr)
    return runs


def median_of(runs, server, connections, key):
    values = [r[key] for r in runs if r["server"] == server and r["connections"] == connections]
    return statistics.median(values) if values else None


def report(args, runs, rss, costs_isolated, peer_costs, info):
    labels = [l for l in (MLC_LABEL, NO_BATCH_LABEL, PEER_LABEL) if any(r["server"] == l for r in runs)]
    print(f"\n{info['machine']['cores']} cores {info['machine']['cpu']}, wrk {args.duration} s per run, "
          f"{args.rounds} round(s), servers alternated; load average "
          f"{min(r['load_before'][0] for r in runs):.2f}..{max(r['load_after'][0] for r in runs):.2f} (1 min)\n")
    print("| server | connections | req/s | p50 ms | p99 ms | errors | server CPU us/req | "
          "server CPU % | wrk CPU % | other CPU % | load avg before |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for connections in args.connections:
        for label in labels:
            if median_of(runs, label, connections, "requests_per_second") is None:
                continue
            row = [median_of(runs, label, connections, k) for k in
                   ("requests_per_second", "p50_us", "p99_us", "errors", "server_cpu_us_per_request",
                    "server_cpu_percent", "wrk_cpu_percent", "other_cpu_percent")]
            load = statistics.median(r["load_before"][0] for r in runs
                                     if r["server"] == label and r["connections"] == connections)
            print(f"| {DESCRIPTIONS[label]} | {connections} | {row[0]:,.0f} | {row[1] / 1000:.2f} | "
                  f"{row[2] / 1000:.2f} | {row[3]:.0f} | {row[4]:.0f} | {row[5]:.0f} | {row[6]:.0f} | "
                  f"{row[7]:.0f} | {load:.2f} |")
    if MLC_LABEL in labels:
        print("\n| connections | mlc / peer req/s | mlc / mlc --max-batch-size 1 req/s | "
              "mlc p99 ms | peer p99 ms |")
        print("|---|---|---|---|---|")
        for connections in args.connections:
            mlc_rate = median_of(runs, MLC_LABEL, connections, "requests_per_second")
            peer_rate = median_of(runs, PEER_LABEL, connections, "requests_per_second")
            no_batch = median_of(runs, NO_BATCH_LABEL, connections, "requests_per_second")
            print(f"| {connections} | {mlc_rate / peer_rate:.2f}x | "
                  f"{f'{mlc_rate / no_batch:.2f}x' if no_batch else '-'} | "
                  f"{median_of(runs, MLC_LABEL, connections, 'p99_us') / 1000:.2f} | "
                  f"{median_of(runs, PEER_LABEL, connections, 'p99_us') / 1000:.2f} |")
        if 16 in args.connections:
            ratio = (median_of(runs, MLC_LABEL, 16, "requests_per_second")
                     / median_of(runs, PEER_LABEL, 16, "requests_per_second"))
            p99 = median_of(runs, MLC_LABEL, 16, "p99_us") / 1000
            verdict = "met" if ratio >= 3 and p99 < 5 else "MISSED"
            print(f"\nFloor at 16 connections (mlc >= 3x the peer's req/s, p99 < 5 ms): {verdict} "
                  f"({ratio:.2f}x, p99 {p99:.2f} ms); aim 5x.")
    print("\n| server | peak RSS MiB (process tree) | VmHWM per process MiB |")
    print("|---|---|---|")
    for label in labels:
        peaks = rss[label]
        print(f"| {DESCRIPTIONS[label]} | {sum(peaks.values()) / 1024:.0f} | "
              f"{', '.join(f'{v / 1024:.0f}' for v in peaks.values())} |")
    mlc_costs = [r for r in runs if r.get("mlc_costs")]
    if mlc_costs:
        print("\nInside mlc, means per run from /metrics (request: arrival to response; the rest is "
              "parse, serialise and HTTP):\n")
        print("| server | connections | request us | queue us | forward us per batch | "
              "mean batch | forward us per sample | rest us | wrk mean latency us |")
        print("|---|---|---|---|---|---|---|---|---|")
        for r in mlc_costs:
            c = r["mlc_costs"]
            print(f"| {DESCRIPTIONS[r['server']]} | {r['connections']} | {c['request_us']:.0f} | "
                  f"{c['queue_us']:.0f} | {c['forward_per_batch_us']:.0f} | {c['mean_batch_size']:.1f} | "
                  f"{c['forward_per_sample_us']:.1f} | {c['rest_us']:.0f} | {r['mean_us']:.0f} |")
    print("\nThe same body in isolation (one thread, mean us): "
          + ", ".join(f"{k} {v:.1f}" for k, v in {**costs_isolated, **peer_costs}.items()
                      if isinstance(v, float)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mlc", default=os.path.join(ROOT, "build", "bin", "mlc"))
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", default="1,16,64")
    parser.add_argument("--no-batch-connections", default="16,64",
                        help="connection counts also run against --max-batch-size 1 ('' for none)")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--train-limit", type=int, default=6000, help="training images for the model")
    parser.add_argument("--image", type=int, default=0, help="which test image the request carries")
    parser.add_argument("--peer-worker-class", default="sync",
                        help="gunicorn's worker class; sync is what --threads 1 gives")
    parser.add_argument("--peer-env", action="append", default=[], metavar="KEY=VALUE",
                        help="set in the peer's environment, e.g. OPENBLAS_CORETYPE=SkylakeX "
                             "(the kernels mlc picks on AVX-512; by default the peer gets OpenBLAS's own)")
    parser.add_argument("--json-out", help="where the results go (default: in the work directory)")
    parser.add_argument("--peer-only", action="store_true", help="measure the peer alone")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # the tables after the progress lines on stderr
    args.connections = [int(c) for c in args.connections.split(",")]
    args.no_batch_connections = [int(c) for c in args.no_batch_connections.split(",") if c]
    if args.peer_only:
        args.no_batch_connections = []
    mlc = os.path.abspath(args.mlc)
    for tool in ("wrk", "gunicorn"):
        if not shutil.which(tool):
            sys.exit(f"{tool} not found: apt-get install wrk gunicorn python3-flask")

    work = tempfile.mkdtemp(prefix="mlc-serve-bench-")
    env = dict(os.environ, MLC_HOME=os.path.join(work, "home"), MLC_ACTOR="bench")
    os.makedirs(os.path.join(work, "export"))
    deployment = deploy_model(mlc, env, work, args.train_limit)
    body = request_body(args.image)
    body_path, lua = os.path.join(work, "body.json"), os.path.join(work, "post.lua")
    with open(body_path, "w") as f:
        f.write(body)
    with open(lua, "w") as f:
        f.write(WRK_LUA)
    costs_isolated = parse_timings(work, body_path)
    peer_costs = peer_parts(body_path, os.path.join(deployment, "model.pt"),
                            peer_environment(args, env, deployment))
    if builds_running():
        print("warning: a build is running; the figures will be skewed", file=sys.stderr)

    servers = start_servers(args, mlc, env, work, deployment)
    exits = {}
    try:
        answer = check_same_answer(servers, body)
        wrk_env = dict(os.environ, SERVE_BENCH_BODY=body_path)
        for s in servers:  # warm-up, not recorded: first calls of TorchScript's profiling executor
            run_wrk(s, 16, args.wrk_threads, 2, lua, wrk_env)
        runs = measure(args, servers, lua, wrk_env)
        rss = {s.label: s.peak_rss() for s in servers}
    finally:
        for s in servers:
            exits[s.label] = s.stop()

    info = {"machine": machine(), "mlc": mlc, "build_type": build_type(mlc),
            "argv": sys.argv, "servers": {s.label: s.argv for s in servers},
            "request_bytes": len(body), "answer": answer, "exit_status": exits}
    report(args, runs, rss, costs_isolated, peer_costs, info)
    json_out = args.json_out or os.path.join(work, "serve_speed.json")
    with open(json_out, "w") as f:
        json.dump({**info, "runs": runs, "peak_rss_kib": {k: {str(p): v for p, v in peaks.items()}
                                                          for k, peaks in rss.items()},
                   "isolated_us": {**costs_isolated, **peer_costs}}, f, indent=1)
    print(f"\nJSON: {json_out}; servers' exit status: {exits}")


if __name__ == "__main__":
    main()
