#!/usr/bin/env python3
"""One of the parallel workers of test_stress.sh: N mixed catalogue operations on model "s"
(register an artifact, deploy, rollback, alias, retire), chosen by a seeded random generator.

Usage: stress_worker.py MLC WORKER_ID OPERATIONS ARTIFACT.pt [ARTIFACT.pt ...]

Writes one JSON line per operation on stdout: {"op", "argv", "exit", "stderr", "out"}, where
"out" is the command's --json document when it succeeded.
"""
import json
import random
import subprocess
import sys


def main():
    mlc, worker, operations, artifacts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
    rng = random.Random(worker)
    mine = []  # version numbers this worker registered
    for _ in range(operations):
        op = "register" if not mine else rng.choices(
            ["register", "deploy", "rollback", "alias", "retire"], [7, 38, 20, 25, 10])[0]
        target = rng.choice(["staging", "production"])
        if op == "register":
            argv = ["register", "--artifact", rng.choice(artifacts), "--name", "s"]
        elif op == "deploy":
            argv = ["deploy", f"s:{rng.choice(mine)}", "--target", target]
        elif op == "rollback":
            argv = ["rollback", "s", "--target", target]
        elif op == "alias":
            argv = ["alias", "s", rng.choice(["champion", "challenger"]), str(rng.choice(mine))]
        else:
            argv = ["retire", f"s:{rng.choice(mine)}"] + (["--force"] if rng.random() < 0.5 else [])
        result = subprocess.run([mlc, "--json"] + argv, capture_output=True, text=True)
        record = {"op": op, "argv": argv, "exit": result.returncode, "stderr": result.stderr}
        if result.returncode == 0:
            record["out"] = json.loads(result.stdout)
            if op == "register":
                mine.append(record["out"]["version"])
        print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
