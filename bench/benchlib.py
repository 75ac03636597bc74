"""What the benchmark drivers share: running one process and measuring it."""
import os
import subprocess
import sys
import time


def run_measured(argv, env):
    """Runs argv (stderr discarded) and returns (stdout bytes, wall seconds, rusage). Exits the
    driver, naming the command, if it fails. ru_maxrss is the process's peak RSS in KiB;
    ru_utime + ru_stime its CPU time, which hardly depends on what else the machine runs."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(argv)} failed")
    return out, wall, usage


def mlc_blas_coretype():
    """The OPENBLAS_CORETYPE mlc sets before it loads libtorch (lib/core/compute_loader.cpp), by
    the same rule, or None where it sets none."""
    with open("/proc/cpuinfo") as f:
        flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    if {"avx512f", "avx512bw", "avx512vl"} <= set(flags):
        return "SkylakeX"
    if {"avx2", "fma"} <= set(flags):
        return "Haswell"
    return None


SGEMM = """
import sys, time, torch
torch.set_num_threads(int(sys.argv[1]))
a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
best = float("inf")
for i in range(13):
    start = time.perf_counter()
    a @ b
    if i >= 3:  # the first products warm the threads and caches
        best = min(best, time.perf_counter() - start)
print(2 * 2048 ** 3 / best / 1e9)
"""


def sgemm_gflops(threads, env):
    """The best of ten 2048x2048 fp32 matrix products through torch.mm (OpenBLAS) on `threads`
    threads, in GFLOP/s: the machine's ceiling for dense fp32 work at that moment."""
    out, _, _ = run_measured(["/usr/bin/python3", "-c", SGEMM, str(threads)], env)
    return float(out)
