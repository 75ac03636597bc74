#!/usr/bin/env python3
"""kill -9 at random moments of train, export, register --artifact and deploy, for test_crash.sh.

Usage: crash_trials.py MLC TRAIN_CONFIG ARTIFACT.pt... [--kills N]

MLC_HOME comes from the environment. Each trial starts one command, kills it with SIGKILL after a
random delay drawn from [0, the command's own duration when not killed: the median of its recent
undisturbed runs, so that the range follows the machine's load], then checks:
  - SQLite's PRAGMA integrity_check is ok and foreign_key_check finds nothing;
  - `mlc --json verify` exits 0: every artifact a version references is there with its sha256,
    every deployment directory holds what the catalogue says (a half-done change is finished, as
    SQLite finishes a hot journal, and reported as recovered), no directory the catalogue does not
    know;
  - the same command, run again, succeeds.
Trials go round the four commands (deploy, short and the subtle one, half of the time) until N of
them (default 50) were killed before they finished.
Prints a summary line; exits 1 with the first failure.
"""
import json
import os
import random
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import catalog_db  # noqa: E402  (beside this file)

HOME = os.environ["MLC_HOME"]


def fail(message):
    print(f"crash_trials: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def run(mlc, argv):
    result = subprocess.run([mlc, "--json"] + argv, capture_output=True, text=True)
    return result.returncode, result.stdout, result.stderr


def check_after_crash(mlc, what):
    con = catalog_db.Catalog()
    try:
        integrity = con.integrity()
    finally:
        con.close()
    if integrity != "ok":
        fail(f"after {what}: {integrity}")
    code, out, err = run(mlc, ["verify"])
    if code != 0:
        fail(f"after {what}: mlc verify exited {code}: {out} {err}")
    return json.loads(out)["recovered"]


def main():
    args = sys.argv[1:]
    kills_wanted = 50
    if "--kills" in args:
        at = args.index("--kills")
        kills_wanted = int(args[at + 1])
        del args[at:at + 2]
    mlc, config, artifacts = args[0], args[1], args[2:]
    rng = random.Random(int(os.environ.get("MLC_CRASH_SEED", "4")))

    def fresh_evaluated_version():
        """A version never exported: one the train trials left, evaluated now (else a new one)."""
        code, out, err = run(mlc, ["list", "t", "--state", "trained"])
        versions = [v["version"] for v in json.loads(out)["versions"]] if code == 0 else []
        if not versions:
            code, out, err = run(mlc, ["train", config, "--name", "t"])
            if code != 0:
                fail(f"train for an export trial: {err}")
            versions = [json.loads(out)["version"]]
        code, _, err = run(mlc, ["eval", f"t:{versions[-1]}"])
        if code != 0:
            fail(f"eval for an export trial: {err}")
        return versions[-1]

    # Deploy trials swap staging between versions registered from the artifacts.
    for artifact in artifacts[:2]:
        code, _, err = run(mlc, ["register", "--artifact", artifact, "--name", "d"])
        if code != 0:
            fail(f"register for the deploy trials: {err}")

    durations = {}  # kind -> recent undisturbed run times

    def timed(argv):
        started = time.monotonic()
        code, _, err = run(mlc, argv)
        durations.setdefault(argv[0], []).append(time.monotonic() - started)
        del durations[argv[0]][:-5]
        return code, err

    kills = {"train": 0, "export": 0, "register": 0, "deploy": 0}
    finished_first = recovered = trials = 0
    # Deploys are short and their directory swap is the subtle part: half the trials.
    kinds = ["train", "export", "deploy", "register", "deploy", "deploy"]
    while sum(kills.values()) < kills_wanted:
        kind = kinds[trials % len(kinds)]
        trials += 1
        if trials > 2 * kills_wanted:
            fail(f"only {sum(kills.values())} of {trials} trials were killed before finishing")
        if kind == "train":
            argv = ["train", config, "--name", "t"]
        elif kind == "export":
            argv = ["export", f"t:{fresh_evaluated_version()}", "--out", os.path.join(HOME, "..", "out", f"x{trials}.pt")]
        elif kind == "register":
            argv = ["register", "--artifact", rng.choice(artifacts), "--name", "r"]
        else:
            argv = ["deploy", f"d:{1 + trials % 2}", "--target", "staging"]
        if kind not in durations:  # one undisturbed run gives the range of the first random delay
            code, err = timed(argv)
            if code != 0:
                fail(f"{' '.join(argv)}: {err}")
            if kind == "export":
                argv[1] = f"t:{fresh_evaluated_version()}"
            elif kind == "deploy":
                argv[1] = "d:2" if argv[1] == "d:1" else "d:1"
        process = subprocess.Popen([mlc, "-q"] + argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0, sorted(durations[kind])[len(durations[kind]) // 2]))
        process.send_signal(signal.SIGKILL)
        process.wait()
        if process.returncode == -signal.SIGKILL:
            kills[kind] += 1
        else:
            finished_first += 1
        what = f"trial {trials} (kill -9 of mlc {' '.join(argv)})"
        recovered += len(check_after_crash(mlc, what))
        code, err = timed(argv)
        if code != 0:
            fail(f"{what}: running it again failed ({code}): {err}")
        check_after_crash(mlc, what + ", then run again")
    print(f"crash trials: {trials} trials, {sum(kills.values())} killed mid-run "
          f"({', '.join(f'{k} {n}' for k, n in kills.items())}), {finished_first} finished before the kill, "
          f"{recovered} half-done deployment changes finished by verify; every check passed")


if __name__ == "__main__":
    main()
