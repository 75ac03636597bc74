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
