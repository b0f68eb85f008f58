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


def _float_bits(array: pa.Array) -> list:
    """A float array's values as the int64 (or int32) patterns of their bits, None
    where null: NaN payloads and the sign of zero count."""
    width = {64: pa.int64(), 32: pa.int32(), 16: pa.int16()}[array.type.bit_width]
    bits = pa.Array.from_buffers(width, len(array), [None, array.buffers()[1]], offset=array.offset)
    return [b if valid else None for b, valid in zip(bits.to_pylist(), array.is_valid().to_pylist())]


def _assert_array_bits(actual: pa.Array, expected: pa.Array, where: str) -> None:
    assert actual.type == expected.type, (where, actual.type, expected.type)
    assert len(actual) == len(expected), where
    assert actual.is_null().to_pylist() == expected.is_null().to_pylist(), (where, "nulls")
    t = expected.type
    if pa.types.is_floating(t):
        a, e = _float_bits(actual), _float_bits(expected)
        for i, (x, y) in enumerate(zip(a, e)):
            assert x == y, (where, i, actual[i].as_py(), expected[i].as_py(), "bits", x, y)
    elif pa.types.is_list(t) or pa.types.is_large_list(t):
        a, e = actual.value_lengths().fill_null(0), expected.value_lengths().fill_null(0)
        assert a.to_pylist() == e.to_pylist(), (where, "list lengths")
        _assert_array_bits(actual.flatten(), expected.flatten(), f"{where}[]")
    elif pa.types.is_struct(t):
        for k in range(t.num_fields):
            name = t.field(k).name
            _assert_array_bits(actual.field(k), expected.field(k), f"{where}.{name}")
    else:
        assert actual.to_pylist() == expected.to_pylist(), where


def assert_same_bits(actual: pa.Table, expected: pa.Table, check_metadata: bool = False) -> None:
    """Bit identity, as `Table.equals` does not check it (`-0.0 == 0.0` there, and a
    NaN is unequal to itself): the same column names and types, the same rows, nulls
    in the same places, and every float the same bits (compared as the integers of
    its bit pattern, so NaN payloads and the sign of zero count)."""
    assert actual.column_names == expected.column_names
    assert actual.schema.types == expected.schema.types, (actual.schema, expected.schema)
    assert actual.num_rows == expected.num_rows
    if check_metadata:
        assert actual.schema.metadata == expected.schema.metadata
    for name in expected.column_names:
        a = actual.column(name).combine_chunks()
        e = expected.column(name).combine_chunks()
        _assert_array_bits(a, e, name)


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
