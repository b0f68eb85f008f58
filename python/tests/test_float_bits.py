"""NaN, the infinities and -0.0 through `sum`, `avg`, `min`, `max`, `first` and `last`
(windowed and lifetime, and a derived feature over them), compared bit for bit
(`assert_same_bits`: floats as their bit patterns, so NaN payloads and the sign of zero
count) across `Project.training_set`, the embedded online store and `featc.Client`
against a real `featc serve`; and the values semantics.md gives (an exact zero sum
is +0.0, -0.0 orders below +0.0, NaN above +inf); and that the comparison itself tells
the zeros, NaN payloads and nulls apart."""
import datetime as dt
import math
import struct

import pyarrow as pa
import pytest

import featc
from conftest import assert_same_bits, replay
from test_client import Server

PROJECT = """
source tx {
    time ts
    columns {
        user_id: int64
        amount:  float64?
    }
}
entity user { key user_id: int64 }
view spend from tx by user {
    feature total    = sum(amount)
    feature total_1h = sum(amount) over 1h
    feature mean     = avg(amount)
    feature low      = min(amount)
    feature high     = max(amount)
    feature newest   = last(amount)
    feature oldest   = first(amount) over 1h
    feature spread   = high - low
}
"""

FEATURES = ["total", "total_1h", "mean", "low", "high", "newest", "oldest", "spread"]


def bits(pattern: int) -> float:
    return struct.unpack("<d", struct.pack("<Q", pattern))[0]


NAN = float("nan")
NEGATIVE_NAN = bits(0xFFF8_0000_0000_0000)
PAYLOAD_NAN = bits(0x7FF8_0000_0000_0001)
T0 = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.timezone.utc)


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


# (user, minute, amount): each user one case of semantics.md's float rules.
EVENTS = [
    (1, 0, -0.0),  # alone: sum and avg +0.0, min, max, first and last -0.0
    (2, 0, -0.0),  # both zeros tied on time: min/first -0.0, max/last +0.0
    (2, 0, 0.0),
    (3, 0, 1.0),  # NaN: sum and avg NaN, max NaN (above every number), min 1.0
    (3, 5, NAN),
    (4, 0, math.inf),  # both infinities: sum NaN
    (4, 1, -math.inf),
    (5, 0, NEGATIVE_NAN),  # NaNs of other bits, through last and first
    (5, 1, PAYLOAD_NAN),
    (6, 0, -0.0),  # -0.0 out of the 1h window at minute 90: the window's sum is +0.0
    (6, 80, None),
    (7, 0, 1e308),  # sum past the largest float: +inf; the exact sum is rounded once
    (7, 1, 1e308),
    (7, 2, -1e308),
]

SPINE_MINUTES = [0, 1, 2, 5, 30, 61, 90]


def events() -> pa.Table:
    return pa.table(
        {
            "ts": pa.array([at(m) for _, m, _ in EVENTS], pa.timestamp("us", tz="UTC")),
            "user_id": pa.array([u for u, _, _ in EVENTS], pa.int64()),
            "amount": pa.array([a for _, _, a in EVENTS], pa.float64()),
        }
    )


def spine() -> pa.Table:
    users = sorted({u for u, _, _ in EVENTS})
    rows = [(u, m) for m in SPINE_MINUTES for u in users]
    return pa.table(
        {
            "user_id": pa.array([u for u, _ in rows], pa.int64()),
            "ts": pa.array([at(m) for _, m in rows], pa.timestamp("us", tz="UTC")),
        }
    )


def write_project(tmp_path):
    (tmp_path / "floats.feat").write_text(PROJECT)
    return tmp_path


def value(table: pa.Table, feature: str, user: int, minute: int):
    users = table.column("user_id").to_pylist()
    times = table.column("ts").to_pylist()
    for i, (u, t) in enumerate(zip(users, times)):
        if u == user and t == at(minute):
            return table.column(feature)[i].as_py()
    raise KeyError((user, minute))


def sign_bit(x: float) -> bool:
    return math.copysign(1.0, x) < 0


def test_the_training_set_has_semantics_md_values(tmp_path):
    project = featc.Project(write_project(tmp_path))
    table = project.training_set(spine(), sources={"tx": events()}, progress=False)
    total, mean, low, high = (value(table, f, 1, 0) for f in ("total", "mean", "low", "high"))
    assert total == 0.0 and not sign_bit(total), "an exact zero sum is +0.0"
    assert mean == 0.0 and not sign_bit(mean)
    assert sign_bit(low) and sign_bit(high) and sign_bit(value(table, "newest", 1, 0))
    assert sign_bit(value(table, "low", 2, 0)) and sign_bit(value(table, "oldest", 2, 0))
    assert not sign_bit(value(table, "high", 2, 0)) and not sign_bit(value(table, "newest", 2, 0))
    assert math.isnan(value(table, "total", 3, 5)) and math.isnan(value(table, "high", 3, 5))
    assert value(table, "low", 3, 5) == 1.0
    assert math.isnan(value(table, "total", 4, 1)) and value(table, "spread", 4, 1) == math.inf
    assert math.isnan(value(table, "newest", 5, 1)) and math.isnan(value(table, "oldest", 5, 1))
    window = value(table, "total_1h", 6, 90)
    assert window == 0.0 and not sign_bit(window), "an empty window's sum is +0.0"
    assert value(table, "total", 7, 1) == math.inf
    assert value(table, "total", 7, 2) == 1e308, "the exact sum, rounded once"


def test_nan_and_negative_zero_are_the_same_bits_online_and_through_the_server(tmp_path):
    directory = write_project(tmp_path)
    project = featc.Project(directory)
    expected = project.training_set(spine(), sources={"tx": events()}, progress=False)
    with project.online() as store:
        embedded = replay(store, project, spine(), {"tx": events()}, features=FEATURES)
    assert_same_bits(embedded.select(FEATURES), expected.select(FEATURES))
    server = Server(directory, tmp_path=tmp_path)
    try:
        with featc.Client(server.url) as client:
            served = replay(client, project, spine(), {"tx": events()}, features=FEATURES)
    finally:
        server.stop()
    assert_same_bits(served.select(FEATURES), expected.select(FEATURES))


def test_the_comparison_tells_zeros_nan_payloads_and_nulls_apart():
    def table(*values):
        return pa.table({"x": pa.array(values, pa.float64())})

    assert_same_bits(table(NAN, -0.0, None), table(NAN, -0.0, None))
    for a, b in [
        (table(-0.0), table(0.0)),
        (table(NAN), table(NEGATIVE_NAN)),
        (table(NAN), table(PAYLOAD_NAN)),
        (table(None), table(0.0)),
    ]:
        with pytest.raises(AssertionError):
            assert_same_bits(a, b)
    def lists(*values):
        return pa.table({"x": pa.array([list(values)], pa.list_(pa.float64()))})

    assert_same_bits(lists(NAN, -0.0), lists(NAN, -0.0))
    with pytest.raises(AssertionError):
        assert_same_bits(lists(-0.0), lists(0.0))
