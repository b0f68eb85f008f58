"""Times featc's emitted SQL (`featc build --emit sql`) on DuckDB and on Spark in local
mode over the synthetic data of bench/peers/gen.py, printing seconds per engine.
Runs in scripts/check-sql-engines.sh's virtualenv (target/sql-engines-env):

    python bench/peers/gen.py --events 1e6 --spine 1e5 --seed 7 --out DIR
    target/sql-engines-env/bin/python bench/sql/time_sql.py --data DIR [--engines duckdb,spark] [--rounds 3]

The project is the public `synthetic` case (tests/cases/synthetic, 32 features), its
`events` source read from DIR/events.parquet and the spine from DIR/spine.parquet with
an order column added (its rows' positions). The result's row count is checked; the
values are checked by scripts/check-sql-engines.sh, not here.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts" / "sql-engines"))
from run import ORDER, Spark, statements  # noqa: E402


def emit(featc: str, dialect: str) -> str:
    project = ROOT / "tests" / "cases" / "synthetic"
    out = subprocess.run([featc, "build", str(project), "--emit", "sql", "--dialect", dialect],
                         check=True, capture_output=True, text=True)
    return out.stdout


def ordered_spine(data: Path, work: Path) -> Path:
    spine = pq.read_table(data / "spine.parquet")
    spine = spine.append_column(ORDER, pa.array(range(spine.num_rows), pa.int64()))
    path = work / "spine_ordered.parquet"
    pq.write_table(spine, path)
    return path


def time_duckdb(sql: str, events: Path, spine: Path) -> tuple[float, int]:
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"CREATE VIEW events AS SELECT * FROM read_parquet('{events}')")
    con.execute(f"CREATE VIEW spine AS SELECT * FROM read_parquet('{spine}')")
    t0 = time.perf_counter()
    result = None
    for stmt in statements(sql):
        result = con.sql(stmt)
    rows = result.to_arrow_table().num_rows
    return time.perf_counter() - t0, rows


class SparkTimer:
    def __init__(self) -> None:
        self.session = Spark().session

    def time(self, sql: str, events: Path, spine: Path) -> tuple[float, int]:
        self.session.read.parquet(str(events)).createOrReplaceTempView("events")
        self.session.read.parquet(str(spine)).createOrReplaceTempView("spine")
        t0 = time.perf_counter()
        frame = None
        for stmt in statements(sql):
            frame = self.session.sql(stmt)
        # Every column computed and thrown away: `count()` alone would let Spark
        # prune the feature columns and time only the joins.
        frame.write.format("noop").mode("overwrite").save()
        seconds = time.perf_counter() - t0
        return seconds, frame.count()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, type=Path, help="gen.py's output folder")
    ap.add_argument("--engines", default="duckdb,spark")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--featc", default=str(ROOT / "target" / "debug" / "featc"))
    args = ap.parse_args()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    events = args.data / "events.parquet"
    spine_rows = pq.read_metadata(args.data / "spine.parquet").num_rows
    status = 0
    with tempfile.TemporaryDirectory() as work:
        spine = ordered_spine(args.data, Path(work))
        spark = None
        for engine in args.engines.split(","):
            sql = emit(args.featc, engine)
            for r in range(args.rounds):
                if engine == "duckdb":
                    seconds, rows = time_duckdb(sql, events, spine)
                elif engine == "spark":
                    spark = spark or SparkTimer()
                    seconds, rows = spark.time(sql, events, spine)
                else:
                    raise SystemExit(f"no engine {engine} (duckdb, spark)")
                ok = "" if rows == spine_rows else f"  WRONG: {rows} rows, spine has {spine_rows}"
                status |= bool(ok)
                print(f"{engine} round {r + 1}: {seconds:.3f} s{ok}")
        if spark:
            spark.session.stop()
    return status


if __name__ == "__main__":
    sys.exit(main())
