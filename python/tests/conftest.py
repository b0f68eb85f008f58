"""Shared fixtures: the repository, featc's CLI binary, the acceptance cases."""
import os
import pathlib
import subprocess

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "cases"
EXAMPLES = ROOT / "examples"
CASE_NAMES = sorted(p.name for p in CASES.iterdir() if (p / "expected.parquet").exists())


def featc_bin() -> str:
    return os.environ.get("FEATC_BIN", str(ROOT / "target" / "debug" / "featc"))


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([featc_bin(), *args], capture_output=True, text=True, cwd=ROOT)


def cli_training_set(project, spine, out, *extra) -> pa.Table:
    done = run_cli("training-set", str(project), "--spine", str(spine), "--out", str(out), "--quiet", *extra)
    assert done.returncode == 0, done.stderr
    return pq.read_table(out)


@pytest.fixture(params=CASE_NAMES)
def case(request) -> pathlib.Path:
    return CASES / request.param


def source_files(case_dir: pathlib.Path):
    """The event files of a case, by source name (its `<source>.parquet`)."""
    return {p.stem: p for p in case_dir.glob("*.parquet") if p.stem not in ("spine", "expected")}


def assert_close(actual: pa.Table, expected: pa.Table) -> None:
    """The acceptance rule (tests/cases/README.md): same columns and rows, nulls in
    the same places, integers, strings and bools exact, floats within 1e-9."""
    assert actual.column_names == expected.column_names
    assert actual.num_rows == expected.num_rows
    for name in expected.column_names:
        a = actual.column(name).to_pylist()
        e = expected.column(name).to_pylist()
        if pa.types.is_floating(expected.schema.field(name).type):
            for i, (x, y) in enumerate(zip(a, e)):
                assert (x is None) == (y is None), (name, i, x, y)
                if x is not None:
                    assert abs(x - y) <= 1e-9 * max(1.0, abs(y)), (name, i, x, y)
        else:
            assert a == e, name


def replay(store, project, spine: pa.Table, events: dict, service=None, features=None, request_columns=()):
    """Pushes every event with `ts <= t` before reading the spine rows at `t`, in
    time order; the answers in spine order."""
    order = pc.sort_indices(spine, sort_keys=[("ts", "ascending")])
    spine_sorted = spine.take(order)
    times = spine_sorted.column("ts").cast(pa.int64()).to_pylist()
    queues = {}
    for name, table in events.items():
        table = table.take(pc.sort_indices(table, sort_keys=[("ts", "ascending")]))
        queues[name] = (table, table.column("ts").cast(pa.int64()).to_pylist(), [0])
    answers = []
    i = 0
    while i < len(times):
        t = times[i]
        j = i
        while j < len(times) and times[j] == t:
            j += 1
        for name, (table, ts, pos) in queues.items():
            k = pos[0]
            while k < len(ts) and ts[k] <= t:
                k += 1
            if k > pos[0]:
                store.push(name, table.slice(pos[0], k - pos[0]))
                pos[0] = k
        rows = spine_sorted.slice(i, j - i)
        answers.append(store.get(rows, service=service, features=features, at=t, statuses=False))
        i = j
    read = pa.concat_tables(answers)
    # Back to spine order.
    inverse = pc.sort_indices(order)
    return read.take(inverse)
