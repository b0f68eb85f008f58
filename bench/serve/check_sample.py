"""The user lists and the check sample of bench/serve_disk.sh.

    python check_sample.py prepare EVENTS OUT [--hot 1000] [--check 200] [--seed 7]
    python check_sample.py compare OUT PORT

prepare: reads the user ids of EVENTS (gen.py's events Parquet) one row group at a time
and writes, in OUT,
  users.txt         every user id that has an event, one a line (the uniform reads);
  hot.txt           --hot of them drawn once, uniformly (the hot set);
  check_spine.parquet  --check (user_id, ts) rows: half the users from the hot set,
                    half uniform over users.txt; ts at the latest event time (the
                    server's read time under --clock events) for a tenth of them, up
                    to a day after it for four tenths (the 1h and 1d windows partly
                    expired), else up to 40 days after it (the 7d and 30d ones too): a
                    server answers no read before its sources' watermark, so none is
                    earlier;
  lists.env         USERS, UID_MIN, UID_MAX, MAX_TS_US for the shell.
compare: reads OUT/check_spine.parquet and OUT/expected.parquet (`featc training-set`
on that spine, the features of read_ids.lua in the same order), asks the server at
127.0.0.1:PORT for each row at its ts (one entity per request, 32 features), and
compares every value: ints exactly, floats as JSON numbers parsed to float64 and
compared for equality (NaN as the server's "NaN"), strings, booleans and nulls.
Prints one line `check: ROWS reads x FEATURES features = N values, D different` and
the first differences; exits 1 when any differ.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import urllib.request
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

DAY_US = 86_400_000_000
FEATURES = (
    "txn_count_1h,txn_count_1d,txn_count_7d,txn_count_30d,txn_count_life,amount_count_7d,"
    "mobile_count_7d,big_count_1d,amount_sum_1h,amount_sum_7d,amount_sum_life,amount_avg_1d,"
    "amount_avg_30d,amount_min_7d,amount_max_1d,amount_max_life,amount_last_1h,amount_last_life,"
    "amount_first_7d,category_last_life,category_first_life,mobile_last_1d,category_min_30d,"
    "category_distinct_7d,category_distinct_30d,amount_stddev_7d,amount_var_30d,"
    "mobile_amount_sum_7d,grocery_amount_avg_30d,nonfood_count_1d,small_mobile_count_30d,"
    "desktop_amount_last_7d"
).split(",")


def user_ids(events: Path) -> tuple[np.ndarray, int]:
    """Sorted distinct user ids and the latest event time, one row group at a time."""
    f = pq.ParquetFile(events)
    seen = np.zeros(0, dtype=bool)
    max_ts = None
    for g in range(f.metadata.num_row_groups):
        t = f.read_row_group(g, columns=["user_id", "ts"])
        u = t.column("user_id").to_numpy(zero_copy_only=False)
        u = u[u >= 0]
        if len(u):
            top = int(u.max())
            if top >= len(seen):
                seen = np.concatenate([seen, np.zeros(top + 1 - len(seen), dtype=bool)])
            seen[u] = True
        ts = t.column("ts").cast(pa.int64()).drop_null().to_numpy()
        if len(ts):
            m = int(ts.max())
            max_ts = m if max_ts is None else max(max_ts, m)
    if max_ts is None:
        raise SystemExit(f"{events}: no events")
    return np.flatnonzero(seen).astype(np.int64), max_ts


def prepare(args: argparse.Namespace) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    users, max_ts = user_ids(Path(args.events))
    rng = np.random.default_rng(args.seed)
    hot = rng.choice(users, size=min(args.hot, len(users)), replace=False)
    np.savetxt(out / "users.txt", users, fmt="%d")
    np.savetxt(out / "hot.txt", hot, fmt="%d")
    half = args.check // 2
    check_users = np.concatenate([rng.choice(hot, size=half),
                                  rng.choice(users, size=args.check - half)])
    offset = rng.integers(0, 40 * DAY_US, size=args.check, dtype=np.int64)
    kind = rng.random(args.check)
    offset[kind < 0.5] //= 40
    offset[kind < 0.1] = 0
    order = rng.permutation(args.check)
    pq.write_table(pa.table({
        "user_id": pa.array(check_users[order], pa.int64()),
        "ts": pa.array(max_ts + offset[order], pa.timestamp("us", tz="UTC")),
    }), out / "check_spine.parquet")
    (out / "lists.env").write_text(
        f"USERS={len(users)}\nUID_MIN={users.min()}\nUID_MAX={users.max()}\nMAX_TS_US={max_ts}\n")
    print(f"{len(users)} users ({users.min()}..{users.max()}), hot set {len(hot)}, "
          f"check sample {args.check}, latest event {max_ts}")


def same(got, want) -> bool:
    if want is None:
        return got is None
    if isinstance(want, bool):
        return got is want
    if isinstance(want, float):
        if math.isnan(want):
            return got == "NaN"
        if math.isinf(want):
            return got == ("Infinity" if want > 0 else "-Infinity")
        return isinstance(got, (int, float)) and not isinstance(got, bool) and float(got) == want
    if isinstance(want, int):
        return isinstance(got, int) and not isinstance(got, bool) and got == want
    return got == want


def read(port: int, user: int, at_us: int) -> dict:
    body = json.dumps({"features": [f"user_txn:{n}" for n in FEATURES],
                       "entities": {"user_id": [user]}, "at": at_us}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/get-online-features", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as r:
        return json.loads(r.read())


def compare(args: argparse.Namespace) -> None:
    out = Path(args.out)
    spine = pq.read_table(out / "check_spine.parquet")
    want = pq.read_table(out / "expected.parquet")
    users = spine.column("user_id").to_pylist()
    times = spine.column("ts").cast(pa.int64()).to_pylist()
    if want.column("user_id").to_pylist() != users or \
            want.column("ts").cast(pa.int64()).to_pylist() != times:
        raise SystemExit("expected.parquet's rows are not the check spine's, in order")
    columns = {n: want.column(n).to_pylist() for n in FEATURES}
    problems, values = [], 0
    for row, (user, at) in enumerate(zip(users, times)):
        answer = read(args.port, user, at)
        names = answer["metadata"]["feature_names"]
        results = answer["results"]
        if names[1:] != FEATURES:
            raise SystemExit(f"the server answered the features {names[1:]}")
        for n, result in zip(FEATURES, results[1:]):
            values += 1
            got, cell = result["values"][0], columns[n][row]
            if not same(got, cell):
                problems.append(f"user {user} at {at}: {n} served {got!r}, training set {cell!r}")
    print(f"check: {len(users)} reads x {len(FEATURES)} features = {values} values, "
          f"{len(problems)} different")
    for p in problems[:20]:
        print(f"  {p}")
    sys.exit(1 if problems else 0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("events")
    p.add_argument("out")
    p.add_argument("--hot", type=int, default=1000)
    p.add_argument("--check", type=int, default=200)
    p.add_argument("--seed", type=int, default=7)
    c = sub.add_parser("compare")
    c.add_argument("out")
    c.add_argument("port", type=int)
    args = ap.parse_args()
    prepare(args) if args.cmd == "prepare" else compare(args)


if __name__ == "__main__":
    main()
