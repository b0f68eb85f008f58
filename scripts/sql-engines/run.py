"""Runs featc's emitted SQL on Spark, DuckDB and PostgreSQL for every public case and
compares each result with `featc training-set`'s output (bench/peers/compare.py's rule:
same rows in order, spine columns identical (float ones as keys: `float_spine`), nulls
in the same places, integers, strings and bools exact, floats within 1e-9 relative).
scripts/check-sql-engines.sh prepares WORK (per case: featc.parquet, spark.sql,
duckdb.sql, postgres.sql) and the PostgreSQL server, then runs this in its virtualenv.
Each case is named by its folder (its files in WORK under the folder's name).

    python run.py --work WORK --pg-port 55432 tests/cases/synthetic tests/cases/marketplace

Exit status 1 on any difference, with a report per case and engine.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench" / "peers"))
import compare  # noqa: E402

ORDER = "spine_row"


def statements(script: str) -> list[str]:
    """The script's statements: split at `;` ending a line outside quotes."""
    out, current, quote = [], [], None
    for ch in script:
        current.append(ch)
        if quote:
            if ch == quote:
                quote = None
        elif ch in ("'", '"', "`"):
            quote = ch
        elif ch == ";":
            text = "".join(current[:-1]).strip()
            if text:
                out.append(text)
            current = []
    rest = "".join(current).strip()
    if rest:
        out.append(rest)
    return out


def sources(case_dir: Path) -> dict[str, Path]:
    """Each source's Parquet file, by source name (the `file` the case declares)."""
    text = "\n".join(p.read_text() for p in sorted(case_dir.glob("*.feat")))
    out = {}
    for m in re.finditer(r'source\s+(\w+)\s*\{.*?file\s+"([^"]+)"', text, re.S):
        out[m.group(1)] = case_dir / m.group(2)
    return out


def ordered_spine(case_dir: Path, work: Path) -> Path:
    """The spine with its order column (row positions), written once per case."""
    spine = pq.read_table(case_dir / "spine.parquet")
    spine = spine.append_column(ORDER, pa.array(range(spine.num_rows), pa.int64()))
    path = work / "spine_ordered.parquet"
    pq.write_table(spine, path)
    return path


def conform(actual: pa.Table, expected: pa.Table) -> pa.Table:
    """The engine's result without the order column, each column as the expected type
    (engines return their own integer widths, string kinds and naive UTC times)."""
    columns = []
    for field in expected.schema:
        col = actual.column(field.name) if field.name in actual.column_names else None
        if col is None:
            raise ValueError(f"missing column {field.name}")
        if pa.types.is_timestamp(field.type) and pa.types.is_timestamp(col.type):
            micros = col.cast(pa.timestamp("us", tz=col.type.tz)).cast(pa.int64())
            col = micros.cast(field.type)
        elif col.type != field.type:
            col = col.cast(field.type)
        columns.append(col)
    return pa.table(columns, schema=expected.schema)


def from_rows(names: list[str], rows: list, expected: pa.Table) -> pa.Table:
    """Rows of Python values (Spark, PostgreSQL) as a table of the expected schema."""
    by_name = {n: [r[i] for r in rows] for i, n in enumerate(names)}
    arrays = []
    for field in expected.schema:
        values = by_name[field.name]
        if pa.types.is_floating(field.type):
            values = [None if v is None else float(v) for v in values]
        if pa.types.is_integer(field.type):
            values = [None if v is None else int(v) for v in values]
        arrays.append(pa.array(values, type=field.type))
    return pa.table(arrays, schema=expected.schema)


def float_spine(expected: pa.Table, actual: pa.Table, spine: list[str]) -> tuple[list[str], list[str]]:
    """The spine's float columns (as float keys are: every NaN one value, -0.0 not
    +0.0), which compare.py's equality cannot tell (it finds NaN unequal to NaN and
    -0.0 equal to +0.0): their names, and a problem for each that differs."""
    names = [n for n in spine if pa.types.is_floating(expected.schema.field(n).type)]
    problems = []

    def keyed(table: pa.Table, name: str) -> tuple[np.ndarray, np.ndarray]:
        col = table.column(name).combine_chunks()
        values = col.fill_null(0.0).to_numpy(zero_copy_only=False).astype(np.float64)
        bits = np.where(np.isnan(values), np.uint64(0x7FF8_0000_0000_0000), values.view(np.uint64))
        return bits, col.is_null().to_numpy(zero_copy_only=False)

    for name in names:
        if name not in actual.column_names or actual.num_rows != expected.num_rows:
            problems.append(f"spine column {name} is missing or of another length")
            continue
        (e, e_null), (a, a_null) = keyed(expected, name), keyed(actual, name)
        bad = np.flatnonzero((e_null != a_null) | (~e_null & (e != a)))
        if len(bad):
            r = int(bad[0])
            problems.append(f"spine column {name} differs in {len(bad)} rows, first row {r}: "
                            f"{expected.column(name)[r].as_py()!r} != {actual.column(name)[r].as_py()!r}")
    return names, problems


def run_duckdb(sql: str, tables: dict[str, Path]) -> pa.Table:
    """The script's last statement on DuckDB, each table a view of its Parquet file."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for name, path in tables.items():
        con.execute(f"CREATE VIEW \"{name}\" AS SELECT * FROM read_parquet('{path}')")
    result = None
    for stmt in statements(sql):
        result = con.sql(stmt)
    return result.to_arrow_table()


class Spark:
    """One local Spark session for every case."""

    def __init__(self) -> None:
        from pyspark.sql import SparkSession

        self.session = (
            SparkSession.builder.master("local[2]")
            .appName("featc-check-sql")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.host", "127.0.0.1")
            .getOrCreate()
        )
        self.session.sparkContext.setLogLevel("ERROR")

    def run(self, sql: str, tables: dict[str, Path]) -> tuple[list[str], list]:
        """The script's last statement: its column names and rows."""
        for name, path in tables.items():
            self.session.read.parquet(str(path)).createOrReplaceTempView(name)
        frame = None
        for stmt in statements(sql):
            frame = self.session.sql(stmt)
        return frame.columns, frame.collect()

    def stop(self) -> None:
        self.session.stop()


PG_TYPES = [
    (pa.types.is_integer, "bigint"),
    (pa.types.is_floating, "double precision"),
    (pa.types.is_boolean, "boolean"),
    (pa.types.is_timestamp, "timestamptz"),
    (lambda t: pa.types.is_string(t) or pa.types.is_large_string(t), "text"),
]


def pg_load(cur, name: str, table: pa.Table) -> None:
    """A Parquet table as a PostgreSQL table of the matching types, copied in binary:
    each float as its bits (a negative NaN stays one, as the Parquet file holds it;
    text would make it `NaN`)."""
    columns, types = [], []
    for field in table.schema:
        ty = next((pg for test, pg in PG_TYPES if test(field.type)), None)
        if ty is None:
            raise ValueError(f"{name}.{field.name}: no PostgreSQL type for {field.type}")
        columns.append(f'"{field.name}" {ty}')
        types.append(ty)
    # A binary timestamptz is a moment: a naive time is taken as UTC, as the text of
    # one was in the session's UTC.
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type) and field.type.tz is None:
            utc = table.column(i).cast(pa.timestamp(field.type.unit, tz="UTC"))
            table = table.set_column(i, field.name, utc)
    cur.execute(f'DROP TABLE IF EXISTS "{name}"')
    cur.execute(f'CREATE TABLE "{name}" ({", ".join(columns)})')
    names = ", ".join(f'"{f.name}"' for f in table.schema)
    with cur.copy(f'COPY "{name}" ({names}) FROM STDIN (FORMAT BINARY)') as copy:
        copy.set_types(types)
        for row in table.to_pylist():
            copy.write_row(list(row.values()))


def run_postgres(sql: str, tables: dict[str, Path], port: int) -> tuple[list[str], list]:
    """The script's last statement on PostgreSQL, each table loaded from its Parquet
    file: its column names and rows."""
    import psycopg

    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", autocommit=True) as con:
        cur = con.cursor()
        cur.execute("SET TimeZone = 'UTC'")
        for name, path in tables.items():
            pg_load(cur, name, pq.read_table(path))
        for stmt in statements(sql):
            cur.execute(stmt)
        names = [d.name for d in cur.description]
        return names, cur.fetchall()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", required=True, type=Path)
    ap.add_argument("--pg-port", required=True, type=int)
    ap.add_argument("cases", nargs="+", type=Path, help="the case folders")
    args = ap.parse_args()
    started = time.perf_counter()
    spark = Spark()
    failed = []
    try:
        for case_dir in args.cases:
            case, work = case_dir.name, args.work / case_dir.name
            featc = pq.read_table(work / "featc.parquet")
            spine = pq.read_table(case_dir / "spine.parquet")
            features = [n for n in featc.column_names if n not in spine.column_names]
            tables = {**sources(case_dir), "spine": ordered_spine(case_dir, work)}
            for engine in ("duckdb", "spark", "postgres"):
                sql = (work / f"{engine}.sql").read_text()
                t0 = time.perf_counter()
                try:
                    if engine == "duckdb":
                        raw = conform(run_duckdb(sql, tables), featc)
                    elif engine == "spark":
                        raw = conform(from_rows(*spark.run(sql, tables), featc), featc)
                    else:
                        raw = conform(from_rows(*run_postgres(sql, tables, args.pg_port), featc), featc)
                except Exception as e:  # the engine failed: that is a difference
                    first = "\n  ".join(str(e).strip().splitlines()[:3])
                    print(f"{case} on {engine}: FAILED: {first}")
                    failed.append((case, engine))
                    continue
                floats, problems = float_spine(featc, raw, spine.column_names)
                others = raw.drop_columns([f for f in floats if f in raw.column_names])
                report = compare.compare(featc.drop_columns(floats), others, features)
                report["problems"] += problems
                report["ok"] = report["ok"] and not problems
                took = time.perf_counter() - t0
                print(f"{case} on {engine} ({took:.1f} s): " + compare.format_report(report, "featc", engine))
                if not report["ok"]:
                    failed.append((case, engine))
    finally:
        spark.stop()
    print(f"sql engines: {len(args.cases) * 3 - len(failed)} agree, {len(failed)} differ "
          f"in {time.perf_counter() - started:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
