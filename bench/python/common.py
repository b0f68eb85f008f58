"""Helpers shared by bench/python/*.py (timing, results files); measures nothing itself.

Every script of this folder writes its figures as one JSON object per line to the file
given by --results (appending), each with `what`, `size` and `runs` (seconds, in run
order) or `check` entries; bench/python/report.py turns the file into the table."""

from __future__ import annotations

import gc
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CASE = ROOT / "tests" / "cases" / "synthetic"

# compare.py of the DuckDB peer: the tolerance rules (floats 1e-9 relative or absolute,
# nulls in the same rows, everything else exact) every check here uses.
sys.path.insert(0, str(ROOT / "bench" / "peers"))


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """(wall seconds, result) of one call, after a full garbage collection so that a
    previous run's garbage is not collected inside this one."""
    gc.collect()
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def rounds(calls: dict[str, Callable[[], Any]], runs: int, warmup: bool = False):
    """Times every call once per round, in order, for `runs` rounds (after an untimed
    one with `warmup`: the page cache and the allocator), so that the machine's drift
    hits every variant alike. Returns the seconds of each call and its last result."""
    times: dict[str, list[float]] = {name: [] for name in calls}
    last: dict[str, Any] = {}
    for rnd in range(runs + int(warmup)):
        for name, fn in calls.items():
            secs, out = timed(fn)
            if rnd > 0 or not warmup:
                times[name].append(secs)
            if out is not None:
                last[name] = out
            del out
        if rnd > 0 or not warmup:
            print(f"  round {len(next(iter(times.values())))}: "
                  + ", ".join(f"{n} {t[-1]:.3f}" for n, t in times.items()), flush=True)
    return times, last


def emit_times(results: str | None, times: dict[str, list[float]], size: str, prefix: str = "",
               **extra: Any) -> None:
    """One record per variant: its runs and their median."""
    for name, runs in times.items():
        emit(results, what=prefix + name, size=size, runs=[round(t, 4) for t in runs],
             median=round(median(runs), 4), **extra)


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def emit(results: str | None, **record: Any) -> None:
    """Appends one record to the results file and echoes it on stderr."""
    line = json.dumps(record, default=str)
    print(line, file=sys.stderr, flush=True)
    if results:
        with open(results, "a") as f:
            f.write(line + "\n")


def fsync_path(path: str | os.PathLike) -> None:
    """Flushes a written file to disk, as the CLI does before renaming its output."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def compare_tables(expected, actual, features: list[str]) -> dict:
    """compare.py's verdict on `features` (spine columns must be identical), trimmed to
    what the report shows: ok, and per failing column its bad row count and examples."""
    from compare import compare

    rep = compare(expected, actual, features=features, max_examples=3)
    bad = {
        name: {"bad_rows": col["bad_rows"], "max_rel_err": col.get("max_rel_err"), "examples": col["examples"]}
        for name, col in rep["columns"].items()
        if col["bad_rows"]
    }
    return {"ok": rep["ok"], "problems": rep["problems"], "bad_columns": bad,
            "matched": [f for f in features if f not in bad]}
