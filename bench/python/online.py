"""What a model pays per online read from Python: the embedded store against
`featc.Client` on a `featc serve` over loopback, the same reads on the same state.

    python online.py --featc target/release/featc --data bench-data/synth_1e6_seed7_spine1e5 \
        --size 1e6 --reads 2000 --results results.jsonl

Both hold the synthetic case's 32 features over the same events: the embedded store
(`Project(CASE).online()`) is pushed the events in time order, 100 000 per push; the
server (`featc serve CASE --bootstrap --source events=... --clock events`) loads
them itself. Then, alternating embedded and remote, `--reads` reads of one random
user (and as many of 100 users) at the latest event time, every feature with its
status; each read is timed from the call to the pyarrow Table in hand. Checked: every
remote answer equals the embedded one (`Table.equals`, metadata included).

For one user, the embedded store's one-entity read is timed beside them
(`embedded_one`: `store.get_one({"user_id": u}, at=at, statuses=True)`, the same
user and time, from the call to the dict in hand). Checked: every such dict is the
embedded table's row without its key column (`to_pylist()[0]`, floats by their bits).
Then `--reads` more `get_one` reads of random users back to back
(`embedded_one_back_to_back`), nothing between them.
"""

from __future__ import annotations

import argparse
import random
import struct
import subprocess
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from common import CASE, ROOT, emit

import featc  # noqa: E402


def percentile(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


def same(a, b) -> bool:
    """`a` is `b`, floats by their bits (a NaN equals a NaN of its bits, -0.0 is not
    0.0), types and dict keys' order too."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return struct.pack("<d", a) == struct.pack("<d", b)
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--featc", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--size", required=True)
    ap.add_argument("--reads", type=int, default=2000)
    ap.add_argument("--results")
    args = ap.parse_args()

    data = Path(args.data).resolve()
    events = pq.read_table(data / "events.parquet")
    events = events.take(pc.sort_indices(events, sort_keys=[("ts", "ascending")]))
    at = events.column("ts")[-1].value
    users = pc.unique(events.column("user_id")).to_pylist()

    store = featc.Project(str(CASE)).online()
    for start in range(0, events.num_rows, 100_000):
        store.push("events", events.slice(start, 100_000))
    server = subprocess.Popen(
        [args.featc, "serve", str(CASE), "--bootstrap", "--source", f"events={data / 'events.parquet'}",
         "--clock", "events", "--listen", "127.0.0.1:0", "--quiet"],
        stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )
    try:
        line = server.stdout.readline()
        if not line:
            raise SystemExit(f"featc serve did not start (exit {server.wait()})")
        url = line.split()[-1]
        client = featc.Client(url)
        client.wait_ready(timeout=600)
        rng = random.Random(7)
        for batch in (1, 100):
            times = {"embedded": [], "client": []}
            if batch == 1:
                times["embedded_one"] = []
            equal = one_equal = True
            for i in range(args.reads + 100):
                keys = {"user_id": pa.array(rng.sample(users, batch), pa.int64())}
                t0 = time.perf_counter()
                ours = store.get(keys, at=at)
                t1 = time.perf_counter()
                theirs = client.get(keys, at=at)
                t2 = time.perf_counter()
                if batch == 1:
                    user = keys["user_id"][0].as_py()
                    t3 = time.perf_counter()
                    one = store.get_one({"user_id": user}, at=at, statuses=True)
                    t4 = time.perf_counter()
                    row = {k: v for k, v in ours.to_pylist()[0].items() if k != "user_id"}
                    one_equal = one_equal and same(one, row)
                if i >= 100:  # the first 100 warm both up
                    times["embedded"].append(t1 - t0)
                    times["client"].append(t2 - t1)
                    if batch == 1:
                        times["embedded_one"].append(t4 - t3)
                    equal = equal and theirs.equals(ours, check_metadata=True)
            for name, xs in times.items():
                emit(args.results, what=f"online:{name}", size=args.size, entities=batch, reads=len(xs),
                     p50_us=round(percentile(xs, 0.5) * 1e6, 1), p99_us=round(percentile(xs, 0.99) * 1e6, 1))
            checks = {f"{batch} entities: client == embedded": equal}
            if batch == 1:
                checks["1 entity: get_one == embedded's row"] = one_equal
            emit(args.results, what="online_checks", size=args.size, check=checks)
        # `get_one` back to back, as a model serving one prediction after another
        # calls it: above, each one follows a pyarrow import and an HTTP round trip,
        # which leave it the caches cold (`embedded_one`); here only the reads run.
        xs = []
        for i in range(args.reads + 100):
            user = rng.choice(users)
            t0 = time.perf_counter()
            store.get_one({"user_id": user}, at=at, statuses=True)
            t1 = time.perf_counter()
            if i >= 100:
                xs.append(t1 - t0)
        emit(args.results, what="online:embedded_one_back_to_back", size=args.size, entities=1, reads=len(xs),
             p50_us=round(percentile(xs, 0.5) * 1e6, 1), p99_us=round(percentile(xs, 0.99) * 1e6, 1))
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
