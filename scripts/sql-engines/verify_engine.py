"""An engine for `featc verify --sql-engine DIALECT=COMMAND` (docs/verify.md): runs
the script `$FEATC_VERIFY_DIR/query.sql` on DuckDB, Spark (local mode) or
PostgreSQL over the tables `$FEATC_VERIFY_DIR/tables/NAME.parquet`, and writes the
last statement's rows to `$FEATC_VERIFY_DIR/result.parquet` in the engine's own
types (featc casts them to its own). The engines are run.py's.

    featc verify examples/fraud \\
        --sql-engine "duckdb=python scripts/sql-engines/verify_engine.py duckdb" \\
        --sql-engine "postgres=python scripts/sql-engines/verify_engine.py postgres --pg-port 5432"

With `FEATC_SPARK_SOCKET` set, Spark is the session of spark_server.py at that
socket (one JVM for a whole check) instead of a session of its own.

`--corrupt` changes one value of the result (the first non-null float, else integer,
of a column the spine does not have): the check that verify catches a wrong engine.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402


def from_rows(names: list[str], rows: list) -> pa.Table:
    """Rows of Python values as a table of the types pyarrow infers."""
    return pa.table({n: pa.array([r[i] for r in rows]) for i, n in enumerate(names)})


def corrupt(result: pa.Table, spine_columns: set[str]) -> pa.Table:
    """`result` with one value of a feature column changed."""
    for i, field in enumerate(result.schema):
        if field.name in spine_columns or field.name.startswith("featc_verify_"):
            continue
        if not (pa.types.is_floating(field.type) or pa.types.is_integer(field.type)):
            continue
        values = result.column(i).to_pylist()
        for row, v in enumerate(values):
            if v is not None:
                values[row] = v + 1
                return result.set_column(i, field, pa.array(values, field.type))
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("engine", choices=["duckdb", "spark", "postgres"])
    ap.add_argument("--pg-port", type=int, help="PostgreSQL on 127.0.0.1 at this port (postgres)")
    ap.add_argument("--corrupt", action="store_true", help="change one value (a test of verify)")
    args = ap.parse_args()
    work = Path(os.environ["FEATC_VERIFY_DIR"])
    sql = (work / "query.sql").read_text()
    tables = {p.stem: p for p in sorted((work / "tables").glob("*.parquet"))}
    if args.engine == "duckdb":
        result = run.run_duckdb(sql, tables)
    elif args.engine == "spark" and os.environ.get("FEATC_SPARK_SOCKET"):
        # The check's shared session (spark_server.py): no JVM start per case.
        import spark_server

        out = work / "spark-result.parquet"
        answer = spark_server.ask(os.environ["FEATC_SPARK_SOCKET"],
                                  {"sql": sql, "tables": {n: str(p) for n, p in tables.items()},
                                   "out": str(out)})
        if "error" in answer:
            print(answer["error"], file=sys.stderr)
            return 1
        result = pq.read_table(out)
    elif args.engine == "spark":
        spark = run.Spark()
        try:
            result = from_rows(*spark.run(sql, tables))
        finally:
            spark.stop()
    else:
        if args.pg_port is None:
            ap.error("postgres needs --pg-port")
        result = from_rows(*run.run_postgres(sql, tables, args.pg_port))
    if args.corrupt:
        spine = next((p for name, p in tables.items() if name.endswith("spine")), None)
        spine_columns = set(pq.read_schema(spine).names) if spine else set()
        result = corrupt(result, spine_columns)
    pq.write_table(result, work / "result.parquet")
    return 0


if __name__ == "__main__":
    sys.exit(main())
