#!/usr/bin/python3
"""Runs `mlc deploy NAME:VERSION --target TARGET` and corrupts the model.pt it places before the
catalogue says so, for the live-swap test of `mlc serve`: the one way a server can be shown a
deployed version whose file does not match the catalogue's sha256 (deploy itself verifies the
store and copies fresh files, so nothing planted beforehand survives it).

usage: plant_corrupt_deploy.py MLC_BIN MLC_HOME TARGET NAME:VERSION EXPORTED_MODEL.pt

deploy copies the files into a new directory beside the live one (.NAME.new-*), exchanges the two
and then commits the catalogue. This script watches for that directory, stops the deploy process
(SIGSTOP) until model.pt is there whole (the size of EXPORTED_MODEL.pt, the same bytes), flips
16 bytes in its middle, checks the catalogue does not yet name VERSION, and lets the deploy go on
(SIGCONT). Exits 0 when the live model.pt ends up differing from EXPORTED_MODEL.pt while the
catalogue says VERSION is deployed; 3 if the deploy was too quick to catch; 1 if the deploy failed.
"""

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time

LIMIT_SECONDS = 30


def sha256(path):
    with open(path, "rb") as stream:
        return hashlib.sha256(stream.read()).hexdigest()


def stopped(pid):
    """Whether the process no longer runs: stopped, or already gone (a zombie)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stream:
        state = stream.read().rsplit(")", 1)[1].split()[0]
    return state in ("T", "t", "Z", "X")


def deployed_version(home, target, name):
    uri = "file:" + os.path.join(home, "catalog.db") + "?mode=ro"
    with sqlite3.connect(uri, uri=True, timeout=5) as db:
        row = db.execute("SELECT v.version FROM deployments d JOIN models m ON m.id = d.model_id "
                         "JOIN versions v ON v.id = d.version_id WHERE m.name = ? AND d.target = ?",
                         (name, target)).fetchone()
    return str(row[0]) if row else None


def main(argv):
    if len(argv) != 6:
        print(__doc__.strip().splitlines()[4], file=sys.stderr)
        return 2
    mlc, home, target, ref, exported = argv[1:]
    name, _, version = ref.partition(":")
    parent = os.path.join(home, "deployments", target)
    live = os.path.join(parent, name)
    old_inode = os.stat(live).st_ino
    size = os.path.getsize(exported)
    prefix = f".{name}.new-"

    deploy = subprocess.Popen([mlc, "-q", "deploy", ref, "--target", target])
    deadline = time.monotonic() + LIMIT_SECONDS
    planted = None
    try:
        staged = None
        while planted is None and deploy.poll() is None and time.monotonic() < deadline:
            if staged is None:
                found = [entry for entry in os.listdir(parent) if entry.startswith(prefix)]
                if not found:
                    continue
                staged = os.path.join(parent, found[0])
            os.kill(deploy.pid, signal.SIGSTOP)
            while not stopped(deploy.pid) and time.monotonic() < deadline:
                time.sleep(0.0001)
            try:
                # Before the exchange the new files are under the staged name, after it under the
                # live one; the directory that is not the old live one is the new one.
                new = live if os.stat(live).st_ino != old_inode else staged
                model = os.path.join(new, "model.pt")
                if os.path.exists(model) and os.path.getsize(model) == size:
                    if deployed_version(home, target, name) == version:
                        planted = False  # the catalogue committed first: too late
                    else:
                        with open(model, "r+b") as stream:
                            stream.seek(size // 2)
                            middle = stream.read(16)
                            stream.seek(size // 2)
                            stream.write(bytes(b ^ 0xFF for b in middle))
                            stream.flush()
                            os.fsync(stream.fileno())
                        planted = True
            except FileNotFoundError:
                planted = False  # the staged directory is gone: the deploy has finished
            finally:
                os.kill(deploy.pid, signal.SIGCONT)
            if planted is None:
                time.sleep(0.0002)
        status = deploy.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if deploy.poll() is None:
            os.kill(deploy.pid, signal.SIGCONT)
            deploy.kill()
            deploy.wait()
    if status != 0:
        print(f"plant_corrupt_deploy: mlc deploy {ref} exited {status}", file=sys.stderr)
        return 1
    actual, expected = sha256(os.path.join(live, "model.pt")), sha256(exported)
    if not planted or actual == expected or deployed_version(home, target, name) != version:
        print(f"plant_corrupt_deploy: deploy of {ref} not caught in time (planted={planted})", file=sys.stderr)
        return 3
    print(f"plant_corrupt_deploy: {target}/{name}/model.pt has sha256 {actual}, the catalogue's {ref} {expected}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
