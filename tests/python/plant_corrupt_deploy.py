#!/usr/bin/python3
"""Runs `mlc deploy NAME:VERSION --target TARGET` and corrupts the model.pt it places before the
catalogue says so, for the live-swap test of `mlc serve`: the one way a server can be shown a
deployed version whose file does not match the catalogue's sha256 (deploy itself verifies the
store and copies fresh files, so nothing planted beforehand survives it).

usage: plant_corrupt_deploy.py MLC_BIN MLC_HOME TARGET NAME:VERSION EXPORTED_MODEL.pt

deploy copies the files into a new directory beside the live one (.NAME.new-*), fsyncs them,
exchanges the two directories (renameat2) and then commits the catalogue. The deploy runs under
strace, which holds its renameat2 back for 2 s (a wait that does not depend on how busy the
machine is, unlike racing the deploy); meanwhile this script flips 16 bytes in the middle of the
new model.pt, once it is whole (the size of EXPORTED_MODEL.pt, the same bytes).
Exits 0 when the live model.pt ends up differing from EXPORTED_MODEL.pt while the catalogue says
VERSION is deployed; 3 if the file could not be changed in time; 1 if the deploy failed.
"""

import hashlib
import os
import sqlite3
import subprocess
import sys
import time

LIMIT_SECONDS = 30
HOLD_EXCHANGE = "2s"



def untraceable_leak_check_off():
    """The environment for a command run under strace: LeakSanitizer cannot work under ptrace and
    says so in a report, which fails a sanitizer build's run, so leak checking is off for it."""
    env = dict(os.environ)
    options = env.get("ASAN_OPTIONS", "")
    env["ASAN_OPTIONS"] = (options + ":" if options else "") + "detect_leaks=0"
    return env

def sha256(path):
    with open(path, "rb") as stream:
        return hashlib.sha256(stream.read()).hexdigest()


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

    deploy = subprocess.Popen(["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=renameat2",
                               "-e", f"inject=renameat2:delay_enter={HOLD_EXCHANGE}:when=1",
                               mlc, "-q", "deploy", ref, "--target", target], stdout=subprocess.DEVNULL,
                              env=untraceable_leak_check_off())
    deadline = time.monotonic() + LIMIT_SECONDS
    planted = False
    try:
        while not planted and deploy.poll() is None and time.monotonic() < deadline:
            found = [entry for entry in os.listdir(parent) if entry.startswith(prefix)]
            model = os.path.join(parent, found[0], "model.pt") if found else None
            if model is None or not os.path.exists(model) or os.path.getsize(model) != size:
                time.sleep(0.001)
                continue
            if os.stat(live).st_ino != old_inode:
                break  # exchanged already: too late
            with open(model, "r+b") as stream:
                stream.seek(size // 2)
                middle = stream.read(16)
                stream.seek(size // 2)
                stream.write(bytes(b ^ 0xFF for b in middle))
                stream.flush()
                os.fsync(stream.fileno())
            planted = os.stat(live).st_ino == old_inode
        status = deploy.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if deploy.poll() is None:
            deploy.kill()
            deploy.wait()
    if status != 0:
        print(f"plant_corrupt_deploy: mlc deploy {ref} exited {status}", file=sys.stderr)
        return 1
    actual, expected = sha256(os.path.join(live, "model.pt")), sha256(exported)
    if not planted or actual == expected or deployed_version(home, target, name) != version:
        print(f"plant_corrupt_deploy: the deploy of {ref} was not caught in time", file=sys.stderr)
        return 3
    print(f"plant_corrupt_deploy: {target}/{name}/model.pt has sha256 {actual}, the catalogue's {ref} {expected}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
