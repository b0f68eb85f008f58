"""The featc Python binding against the featc CLI: the same training set, timed both ways.

    python binding.py --featc target/release/featc --data bench-data/synth_1e6_seed7_spine1e5 \
        --size 1e6 --runs 5 --results results.jsonl

Measures, on the 32-feature synthetic case (tests/cases/synthetic), in rounds (each
round runs every variant once, in this order, so that the machine's drift hits every
variant alike; one untimed warm-up round first):

  cli          `featc training-set CASE --spine SPINE --source events=EVENTS --out OUT
               --quiet`, wall time of the whole process (start, compile, read, compute,
               write the Parquet output, fsync), from this process.
  py_paths     `featc.Project(CASE).training_set(SPINE, sources={"events": EVENTS},
               progress=False)`: compile + training set from the same paths, inside this
               Python process (interpreter start and `import featc` excluded).
  py_write     the same, then `pyarrow.parquet.write_table` of the result with the CLI's
               writer settings (zstd level 1, runtime/src/io/output.rs) and an fsync:
               the CLI's work, like for like. overhead = py_write / cli - 1.
  py_arrow     training_set of pyarrow Tables read before the timer (spine and events).
  py_pandas    training_set of pandas DataFrames made before the timer (`to_pandas()`
               of those Tables: numpy dtypes, object columns for strings and nullable
               bools); the conversion to Arrow inside featc is timed.
  py_polars    training_set of polars DataFrames made before the timer.

Checks (recorded as `check` records): the CLI's output file read back equals the Python
result (`Table.equals`, and the schemas field for field), the file the Python side
wrote read back equals the CLI's, and every in-memory variant's result equals it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from common import CASE, emit, emit_times, fsync_path, rounds

import featc  # noqa: E402  (imported before any timer)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--featc", required=True, help="the release featc binary")
    ap.add_argument("--data", required=True, help="folder with events.parquet and spine.parquet")
    ap.add_argument("--size", required=True, help="label of the data size (1e6, 1e7)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--results", help="JSON lines file to append to")
    ap.add_argument("--variants", default="cli,py_paths,py_write,py_arrow,py_pandas,py_polars")
    args = ap.parse_args()

    data = Path(args.data)
    spine, events = str(data / "spine.parquet"), str(data / "events.parquet")
    tmp = Path(tempfile.mkdtemp(prefix="featc-pybench-"))
    cli_out, py_out = tmp / "cli.parquet", tmp / "py.parquet"
    variants = args.variants.split(",")

    def run_cli():
        subprocess.run(
            [args.featc, "training-set", str(CASE), "--spine", spine, "--source", f"events={events}",
             "--out", str(cli_out), "--quiet"],
            check=True, stdout=subprocess.DEVNULL,
        )

    def run_paths():
        return featc.Project(str(CASE)).training_set(spine, sources={"events": events}, progress=False)

    def run_write():
        table = run_paths()
        pq.write_table(table, py_out, compression="zstd", compression_level=1)
        fsync_path(py_out)
        return table

    # In-memory inputs, made before any timer.
    spine_pa, events_pa = pq.read_table(spine), pq.read_table(events)
    spine_pd, events_pd = spine_pa.to_pandas(), events_pa.to_pandas()
    try:
        import polars as pl

        spine_pl, events_pl = pl.from_arrow(spine_pa), pl.from_arrow(events_pa)
    except ImportError:
        variants = [v for v in variants if v != "py_polars"]
    project = featc.Project(str(CASE))

    calls = {
        "cli": run_cli,
        "py_paths": run_paths,
        "py_write": run_write,
        "py_arrow": lambda: project.training_set(spine_pa, sources={"events": events_pa}, progress=False),
        "py_pandas": lambda: project.training_set(spine_pd, sources={"events": events_pd}, progress=False),
        "py_polars": lambda: project.training_set(spine_pl, sources={"events": events_pl}, progress=False),
    }
    times, last = rounds({v: calls[v] for v in variants}, args.runs, warmup=True)
    emit_times(args.results, times, args.size)

    # Checks: the CLI's file is the reference.
    cli_table = pq.read_table(cli_out)
    checks = {}
    for v, table in last.items():
        checks[f"{v} == cli file"] = bool(table.equals(cli_table)) and table.schema.equals(cli_table.schema)
    if "py_write" in variants:
        checks["py_write file == cli file"] = bool(pq.read_table(py_out).equals(cli_table))
    checks_meta = {
        "rows": cli_table.num_rows,
        "columns": cli_table.num_columns,
        "cli file bytes": os.path.getsize(cli_out),
        "py file bytes": os.path.getsize(py_out) if py_out.exists() else None,
    }
    emit(args.results, what="binding_checks", size=args.size, check=checks, info=checks_meta)
    for p in (cli_out, py_out):
        p.unlink(missing_ok=True)
    tmp.rmdir()
    if not all(checks.values()):
        raise SystemExit(f"binding.py: results differ: {checks}")


if __name__ == "__main__":
    main()
