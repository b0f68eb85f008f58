"""Runs every test binary of the workspace, as `cargo test --workspace` would, in two
lanes at once (scripts/test, step 4).

`cargo test` runs one test binary after the other. The CLI's suite (featc-cli) spends
most of its wall time waiting: on Kafka group rebalances, checkpoints, Redis Cluster
resharding and the `featc serve` processes it starts. Run alone, it is about half of
the suite's time with the CPU mostly idle. So it runs in a lane of its own, beside
every other binary run one after the other in the second lane; each binary still runs
its tests on as many threads as libtest chooses.

The binaries are the ones `cargo test --workspace --no-run` built (step 3, the same
features: never a rebuild), each run from its package's folder as cargo runs it. Each
binary's output goes to target/test-logs/; a binary that fails has its log printed. The
doc tests run last through cargo (they are not binaries). Exits 1 if anything failed.

    python3 scripts/test-binaries.py [-- LIBTEST_ARGS...]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Packages whose test binaries run in the waiting lane, beside the others.
WAITING_LANE = {"featc-cli"}


def package_name(package_id: str) -> str:
    """The name in a package id: `path+file:///w/cli#featc-cli@0.1.0`, or the folder's
    name where the id leaves it out (`path+file:///w/featc#0.1.0`)."""
    location, _, fragment = package_id.partition("#")
    if "@" in fragment:
        return fragment.split("@")[0]
    return location.rstrip("/").rsplit("/", 1)[-1]


def binaries() -> list[dict]:
    """Every test binary of the workspace build: package, target name, path, folder."""
    out = subprocess.run(
        ["cargo", "test", "--workspace", "--no-run", "--message-format=json"],
        cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True,
    ).stdout
    found = []
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") != "compiler-artifact" or not msg["profile"]["test"]:
            continue
        if not msg.get("executable"):
            continue
        manifest = Path(msg["manifest_path"])
        found.append({
            "package": package_name(msg["package_id"]),
            "target": msg["target"]["name"],
            "kind": msg["target"]["kind"][0],
            "path": msg["executable"],
            "dir": str(manifest.parent),
        })
    return found


class Lane(threading.Thread):
    """Runs its binaries one after the other, recording each outcome."""

    def __init__(self, name: str, items: list[dict], args: list[str], logs: Path, lock: threading.Lock):
        super().__init__(name=name)
        self.items, self.args, self.logs, self.lock = items, args, logs, lock
        self.failed: list[str] = []

    def run(self) -> None:
        for item in self.items:
            label = f"{item['package']} {item['kind']} {item['target']}"
            log = self.logs / f"{item['package']}-{item['kind']}-{item['target']}.txt"
            started = time.monotonic()
            env = dict(os.environ, CARGO_MANIFEST_DIR=item["dir"], CARGO_PKG_NAME=item["package"])
            with open(log, "w") as out:
                status = subprocess.run([item["path"], *self.args], cwd=item["dir"], env=env,
                                        stdout=out, stderr=subprocess.STDOUT).returncode
            took = time.monotonic() - started
            text = log.read_text(errors="replace")
            results = [ln for ln in text.splitlines() if ln.startswith("test result:")]
            summary = results[-1].removeprefix("test result: ") if results else "no result line"
            with self.lock:
                if status == 0:
                    print(f"test-binaries: {label}: {summary} ({took:.0f} s, {self.name} lane)", flush=True)
                else:
                    self.failed.append(label)
                    print(f"test-binaries: {label} FAILED (exit {status}, {took:.0f} s): its log, {log}:",
                          flush=True)
                    print(text, flush=True)


def main() -> int:
    args = sys.argv[1:]
    if args[:1] == ["--"]:
        args = args[1:]
    logs = ROOT / "target" / "test-logs"
    logs.mkdir(parents=True, exist_ok=True)
    found = binaries()
    lock = threading.Lock()
    waiting = Lane("waiting", [b for b in found if b["package"] in WAITING_LANE], args, logs, lock)
    busy = Lane("busy", [b for b in found if b["package"] not in WAITING_LANE], args, logs, lock)
    waiting.start()
    busy.start()
    waiting.join()
    busy.join()
    failed = waiting.failed + busy.failed
    # The doc tests, through cargo: they are compiled by rustdoc, not built by step 3.
    doc = subprocess.run(["cargo", "test", "--workspace", "--doc", "--quiet"], cwd=ROOT)
    if doc.returncode != 0:
        failed.append("doc tests")
    if failed:
        print(f"test-binaries: {len(failed)} failed: {', '.join(failed)}", flush=True)
        return 1
    print(f"test-binaries: {len(found)} binaries and the doc tests passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
