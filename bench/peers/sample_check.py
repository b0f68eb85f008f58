"""Checks a training set too large for DuckDB's reference on a sample of its entities.

    python sample_check.py --spec tests/cases/synthetic/spec.json \\
        --events DIR/events.parquet --spine DIR/spine.parquet \\
        --featc DIR/featc.parquet --work DIR/sample [--users 300] [--max-events 2000]

A spine row's features depend only on its entity's events, so the rows of a sample
of users can be checked alone: this takes `--users` users of the spine (chosen by a
hash, among those with at most `--max-events` events, so the reference's range joins
stay small), writes their events and spine rows (with each row's position in the
whole spine, read as the file's row number), runs reference.py (DuckDB) on them and
compares its values with featc's rows at those positions (compare.py's rules).
Exits 0 when they agree.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spec", required=True)
    ap.add_argument("--events", required=True)
    ap.add_argument("--spine", required=True)
    ap.add_argument("--featc", required=True, help="featc's training set of the whole spine")
    ap.add_argument("--work", required=True, help="a folder for the sample's files")
    ap.add_argument("--key", default="user_id")
    ap.add_argument("--users", type=int, default=300)
    ap.add_argument("--max-events", type=int, default=2000)
    args = ap.parse_args()
    # reference.py runs in the sample's folder (its DuckDB spills there).
    for name in ("spec", "events", "spine", "featc", "work"):
        setattr(args, name, str(Path(getattr(args, name)).resolve()))
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    k = args.key
    con = duckdb.connect()
    con.execute("SET threads=2")
    # Users of the spine, a fixed one in a thousand by hash, with few enough events.
    con.execute(
        f"""CREATE TABLE users AS
        SELECT {k} FROM read_parquet('{args.events}')
        WHERE {k} IN (SELECT DISTINCT {k} FROM read_parquet('{args.spine}') WHERE hash({k}) % 1000 = 3)
        GROUP BY {k} HAVING count(*) <= {args.max_events}
        ORDER BY hash({k}) LIMIT {args.users}"""
    )
    con.execute(
        f"""COPY (SELECT * FROM read_parquet('{args.events}') WHERE {k} IN (SELECT {k} FROM users))
        TO '{work}/events.parquet' (FORMAT parquet)"""
    )
    con.execute(
        f"""COPY (SELECT * EXCLUDE (file_row_number), file_row_number AS __pos
                  FROM read_parquet('{args.spine}', file_row_number = true)
                  WHERE {k} IN (SELECT {k} FROM users) ORDER BY __pos)
        TO '{work}/spine_pos.parquet' (FORMAT parquet)"""
    )
    spine = pq.read_table(work / "spine_pos.parquet")
    positions = pa.array(spine.column("__pos").to_numpy())
    pq.write_table(spine.drop_columns(["__pos"]), work / "spine.parquet")
    pq.write_table(pq.read_table(args.featc).take(positions), work / "featc.parquet")
    users = con.execute("SELECT count(*) FROM users").fetchone()[0]
    events = con.execute(f"SELECT count(*) FROM read_parquet('{work}/events.parquet')").fetchone()[0]
    print(f"sample: {users} users, {events} events, {spine.num_rows} spine rows", file=sys.stderr)
    subprocess.run(
        [sys.executable, str(HERE / "reference.py"), "--spec", args.spec,
         "--events", str(work / "events.parquet"), "--spine", str(work / "spine.parquet"),
         "--out", str(work / "duckdb.parquet")],
        check=True, cwd=work,
    )
    return subprocess.run(
        [sys.executable, str(HERE / "compare.py"), str(work / "duckdb.parquet"), str(work / "featc.parquet")]
    ).returncode


if __name__ == "__main__":
    sys.exit(main())
