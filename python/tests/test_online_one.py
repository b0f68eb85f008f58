"""`OnlineStore.get_one`, the one-entity read with plain Python values: for every
entity and time of the example and fixture projects (present, null, unknown, past a
view's ttl, derived features with request fields, and every feature type: ints,
floats down to NaN payloads and -0.0, strings, bools, timestamps, dates, decimals,
lists and top_k entries), its dict is `get(...).to_pylist()[0]` without the key
columns, value for value and type for type (floats by their bits); it refuses what
`get` refuses, with the same exception class; its reads are logged like `get`'s."""
import datetime as dt
import decimal
import struct

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from pyarrow import csv

import featc
from conftest import EXAMPLES
from test_column_types import PROJECTS, spine as typed_spine, typed  # noqa: F401 (a fixture)
from test_float_bits import FEATURES as FLOAT_FEATURES, events as float_events, spine as float_spine, write_project
from test_online import fraud_store

UTC = dt.timezone.utc


def same(a, b, where="") -> None:
    """`a` is `b` as a training set's consumer sees it: the same types, dict keys in
    the same order, floats the same bits, decimals the same digits and exponent,
    datetimes the same instant and tzinfo."""
    assert type(a) is type(b), (where, a, b)
    if isinstance(a, float):
        assert struct.pack("<d", a) == struct.pack("<d", b), (where, a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b), (where, list(a), list(b))
        for k in a:
            same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), (where, a, b)
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{where}[{i}]")
    elif isinstance(a, decimal.Decimal):
        assert a.as_tuple() == b.as_tuple(), (where, a, b)
    elif isinstance(a, dt.datetime):
        assert a == b and a.tzinfo is b.tzinfo and a.fold == b.fold, (where, repr(a), repr(b))
    else:
        assert a == b, (where, a, b)


def table_answer(store, rows: pa.Table, drop, **read) -> dict:
    """`get`'s answer for the one row of `rows`, as a dict without `drop`'s columns."""
    answer = store.get(rows, **read).to_pylist()
    assert len(answer) == 1
    return {k: v for k, v in answer[0].items() if k not in drop}


def check(store, rows: pa.Table, keys: dict, request=None, **read) -> dict:
    """`get_one(keys)` equals `get(rows)`, with and without statuses; returns the
    answer with statuses."""
    for statuses in (False, True):
        one = store.get_one(keys, request=request, statuses=statuses, **read)
        want = table_answer(store, rows, rows.column_names, statuses=statuses, **read)
        same(one, want, f"{keys} {read}")
    return one


def micros(column) -> list:
    """A time column as integer microseconds (CSV times come in seconds or
    nanoseconds)."""
    return pc.cast(column, pa.timestamp("us", tz="UTC")).cast(pa.int64()).to_pylist()


def replay_reads(store, spine: pa.Table, events: dict, read_row, time_columns=None):
    """Pushes every event with time `<= t` (the `ts` column, or the source's in
    `time_columns`) before the spine rows at `t`, in time order, and calls
    `read_row(row_table, row_values, t)` for each spine row (`t` in microseconds,
    `row_values["ts"]` a UTC datetime)."""
    spine = spine.set_column(
        spine.column_names.index("ts"), "ts", pc.cast(spine.column("ts"), pa.timestamp("us", tz="UTC"))
    )
    spine = spine.take(pc.sort_indices(spine, sort_keys=[("ts", "ascending")]))
    queues = []
    for name, table in events.items():
        time = (time_columns or {}).get(name, "ts")
        table = table.take(pc.sort_indices(table, sort_keys=[(time, "ascending")]))
        queues.append([name, table, micros(table.column(time)), 0])
    for i, t in enumerate(micros(spine.column("ts"))):
        for queue in queues:
            name, table, ts, done = queue
            upto = done
            while upto < len(ts) and ts[upto] <= t:
                upto += 1
            if upto > done:
                store.push(name, table.slice(done, upto - done))
                queue[3] = upto
        row = spine.slice(i, 1)
        read_row(row, row.to_pylist()[0], t)


def statuses_of(answer: dict) -> set:
    return {v for k, v in answer.items() if k.endswith("__status")}


def test_fraud_reads_equal_the_tables_at_every_spine_time_and_later():
    project = featc.Project(EXAMPLES / "fraud")
    data = EXAMPLES / "fraud" / "data"
    events = {name: csv.read_csv(data / f"{name}.csv") for name in ("transactions", "logins")}
    spine = csv.read_csv(data / "spine.csv").select(["user_id", "merchant_id", "ts"])
    seen = set()
    fortnight = dt.timedelta(days=15)

    def read_row(rows, values, t):
        keys = {"user_id": values["user_id"], "merchant_id": values["merchant_id"]}
        seen.update(statuses_of(check(store, rows, keys, at=t)))
        seen.update(statuses_of(check(store, rows, keys, service="fraud_v1", at=values["ts"])))
        # Two weeks on: the logins view (ttl 14d) is past its max age.
        later = values["ts"] + fortnight
        seen.update(statuses_of(check(store, rows, keys, features=project.features, at=later)))
        # An unknown user, and a null key (an unknown entity too).
        unknown = {"user_id": [10**9 + values["user_id"]], "merchant_id": [values["merchant_id"]]}
        check(store, pa.table(unknown), {k: v[0] for k, v in unknown.items()}, at=t)
        nothing = pa.table({"user_id": pa.array([None], pa.int64()), "merchant_id": ["m1"]})
        check(store, nothing, {"user_id": None, "merchant_id": "m1"}, features=["txn_count_1h", "pair_count_30d"], at=t)

    with project.online() as store:
        replay_reads(store, spine, events, read_row)
    assert {"PRESENT", "NOT_FOUND", "OUTSIDE_MAX_AGE"} <= seen, seen


def test_derived_features_read_request_fields_from_request_or_keys():
    project = featc.Project(EXAMPLES / "delivery")
    data = EXAMPLES / "delivery" / "data"
    events = {name: csv.read_csv(data / f"{name}.csv") for name in ("orders", "cancellations")}
    spine = csv.read_csv(data / "spine.csv")
    fields = [c for c in spine.column_names if c not in ("restaurant_id", "ts")]
    seen = set()

    def read_row(rows, values, t):
        keys = {"restaurant_id": values["restaurant_id"]}
        request = {f: values[f] for f in fields}
        one = check(store, rows, keys, request=request, service="eta_v2", at=t)
        assert one["eta_minutes"] is not None
        # Every feature (lists, top_k entries, derived ones), the fields in `keys`.
        both = dict(keys, **request)
        seen.update(statuses_of(check(store, rows, both, features=project.features, at=t)))

    with project.online() as store:
        replay_reads(store, spine, events, read_row, time_columns={"cancellations": "cancelled_at"})
    assert "PRESENT" in seen
    # A request field given in both: `request`'s, as `get` takes `request`'s column.
    with project.online() as store:
        rows = pa.table({"restaurant_id": [1], "items": [2]})
        one = store.get_one({"restaurant_id": 1, "items": 2}, request={"items": 9, "pickup_lat": 1.0, "pickup_lon": 2.0,
                                                                     "drop_lat": 1.5, "drop_lon": 2.5},
                            features="large_order", at="2024-03-08T00:00:00Z")
        want = store.get(rows, features="large_order", at="2024-03-08T00:00:00Z", statuses=False,
                         request={"items": [9], "pickup_lat": [1.0], "pickup_lon": [2.0], "drop_lat": [1.5], "drop_lon": [2.5]})
        same(one, {"large_order": want.column("large_order")[0].as_py()})


def test_dates_decimals_lists_and_nested_paths_equal_the_tables(typed):  # noqa: F811
    project_dir, source, events, rows, _ = typed
    project = featc.Project(project_dir)
    keys = list(PROJECTS[project_dir.name][2])

    def read_row(row, values, t):
        one = {k: values[k] for k in keys}
        check(store, row.select(keys), one, features=project.features, at=t)
        if project_dir.name == "dates":
            # A date key as its text, as a table's string column reads it.
            text = {**one, "check_in": values["check_in"].isoformat()}
            texts = pa.table({k: [v] for k, v in text.items()})
            check(store, texts, text, features=project.features, at=t)

    with project.online() as store:
        replay_reads(store, rows, {source: events}, read_row)


def test_nan_and_negative_zero_are_the_same_bits(tmp_path):
    project = featc.Project(write_project(tmp_path))
    seen = []

    def read_row(row, values, t):
        keys = {"user_id": values["user_id"]}
        seen.append(check(store, row.select(["user_id"]), keys, features=FLOAT_FEATURES, at=t))

    with project.online() as store:
        replay_reads(store, float_spine(), {"tx": float_events()}, read_row)
    floats = [v for answer in seen for v in answer.values() if isinstance(v, float)]
    assert any(v != v for v in floats) and any(v == 0.0 and str(v) == "-0.0" for v in floats)


KEYED = """
source ev {
    time ts
    columns { t: timestamp  b: bool  f: float64  day: date  s: string  x: float64? }
}
entity thing { key (t: timestamp, b: bool, f: float64, day: date, s: string) }
view v from ev by thing {
    feature n = count(*)
    feature total = sum(x)
    feature last_t = last(ts)
    feature last_day = last(day)
}
request req { r_f: float64  r_d: decimal(6, 1)  r_t: timestamp  r_day: date  r_i: int64? }
service svc {
    n
    feature plus = total + req.r_f
    feature dd = req.r_d
    feature tt = req.r_t
    feature dy = req.r_day
    feature ii = req.r_i
}
"""

T = dt.datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
KEY = {"t": T, "b": True, "f": 2.5, "day": dt.date(2024, 3, 1), "s": "a"}
REQUEST = {"r_f": 1.5, "r_d": decimal.Decimal("2.5"), "r_t": T, "r_day": dt.date(2024, 2, 29), "r_i": 3}


def keyed_store(tmp_path):
    (tmp_path / "keyed.feat").write_text(KEYED)
    store = featc.Project(tmp_path).online()
    store.push("ev", {"ts": [T, T + dt.timedelta(minutes=1)], **{k: [v, v] for k, v in KEY.items()}, "x": [1.0, None]})
    return store


def both(store, keys: dict, request: dict, **read):
    """`get_one` and `get` on the same Python values (pyarrow infers the columns),
    equal; returns `get_one`'s answer."""
    rows = pa.table({k: [v] for k, v in keys.items()})
    table = pa.table({k: [v] for k, v in request.items()})
    for statuses in (True, False):
        one = store.get_one(keys, request=request, statuses=statuses, **read)
        answer = store.get(rows, request=table, statuses=statuses, **read).to_pylist()[0]
        same(one, {k: v for k, v in answer.items() if k not in keys}, f"{keys} {request}")
    return one


def test_every_key_and_request_type_converts_as_the_table_path_does(tmp_path):
    store = keyed_store(tmp_path)
    at = T + dt.timedelta(minutes=5)
    base = both(store, KEY, REQUEST, service="svc", at=at)
    assert base["n"] == 2 and base["plus"] == 2.5 and base["dd"] == decimal.Decimal("2.5")
    assert base["tt"] == T and base["dy"] == dt.date(2024, 2, 29) and base["ii"] == 3
    # The same entity and fields, spelt every way `get` reads them.
    plus_two = dt.timezone(dt.timedelta(hours=2))
    for keys in [
        {**KEY, "t": T.replace(tzinfo=None)},  # naive is UTC
        {**KEY, "t": T.astimezone(plus_two)},  # another offset, the same instant
        {**KEY, "f": 2.5},
        {**KEY, "day": "2024-03-01"},  # a date's text
    ]:
        same(both(store, keys, REQUEST, service="svc", at=at), base)
    for request in [
        {**REQUEST, "r_f": 1.5},
        {**REQUEST, "r_d": decimal.Decimal("2.50")},  # fractional zeros beyond the scale
        {**REQUEST, "r_d": "2.5"},  # a decimal's text
        {**REQUEST, "r_t": int(T.timestamp()) * 1_000_000},  # 16-digit microseconds
        {**REQUEST, "r_day": "2024-02-29"},
    ]:
        same(both(store, KEY, request, service="svc", at=at), base)
    # Other values that convert: an int for a float64 or a decimal, a date for a
    # timestamp (its midnight UTC), null fields.
    ints = both(store, KEY, {**REQUEST, "r_f": 2, "r_d": 7}, service="svc", at=at)
    assert ints["plus"] == 3.0 and ints["dd"] == decimal.Decimal("7.0")
    midnight = both(store, KEY, {**REQUEST, "r_t": dt.date(2024, 3, 1)}, service="svc", at=at)
    assert midnight["tt"] == dt.datetime(2024, 3, 1, tzinfo=UTC)
    nulls = both(store, KEY, {**REQUEST, "r_i": None}, service="svc", at=at)
    assert nulls["ii"] is None
    # Another entity: unknown.
    assert both(store, {**KEY, "b": False}, REQUEST, service="svc", at=at)["n"] == 0
    # numpy scalars read as their values.
    np = pytest.importorskip("numpy")
    one = store.get_one({**KEY, "f": np.float64(2.5), "b": np.bool_(True), "t": np.datetime64("2024-03-01T12:00:00.000000999")},
                        request={**REQUEST, "r_i": np.int32(3), "r_f": np.float32(1.5)}, service="svc", at=at)
    same(one, base)
    # NaT is null, as pyarrow reads it: a null key, an unknown entity.
    nat = store.get_one({**KEY, "t": np.datetime64("NaT")}, request=REQUEST, service="svc", at=at)
    same(nat, both(store, {**KEY, "t": None}, REQUEST, service="svc", at=at))
    assert nat["n"] == 0


def test_decimals_and_times_that_do_not_fit_are_refused_like_the_tables(tmp_path):
    store = keyed_store(tmp_path)
    for request in [
        {**REQUEST, "r_d": decimal.Decimal("2.55")},  # more digits than the scale: never rounded
        {**REQUEST, "r_d": decimal.Decimal("123456.0")},  # more digits than the precision
        {**REQUEST, "r_d": 123456},
        {**REQUEST, "r_d": "2.55"},
        {**REQUEST, "r_t": int(T.timestamp())},  # epoch seconds: not microseconds
        {**REQUEST, "r_day": "2024-02-30"},
        {**REQUEST, "r_day": T},  # a datetime is not a date
        {**REQUEST, "r_f": decimal.Decimal("1.5")},  # a decimal is not a float
        {**REQUEST, "r_f": None},  # a null where the request's field is not nullable
    ]:
        rows = pa.table({k: [v] for k, v in KEY.items()})
        with pytest.raises(featc.Error) as table:
            store.get(rows, request=pa.table({k: [v] for k, v in request.items()}), service="svc", at=T)
        with pytest.raises(featc.Error) as one:
            store.get_one(KEY, request=request, service="svc", at=T)
        assert type(one.value) is type(table.value) is featc.DataError, (request, table.value, one.value)
        wrong = next(k for k in request if request[k] is not REQUEST[k])
        assert f"`{wrong}`" in str(one.value), one.value


def test_get_one_refuses_what_get_refuses():
    project, store = fraud_store()
    at = "2024-03-01T13:00:00Z"
    cases = [
        ({"user_id": 7}, dict(features=["txn_count_1"], at=at)),  # unknown feature
        ({"user_id": 7}, dict(service="fraud_v2", at=at)),  # unknown service
        ({"user_id": 7}, dict(service="fraud_v1", at=at)),  # `merchant_id` missing
        ({"merchant_id": "m1"}, dict(features="txn_count_1h", at=at)),  # `user_id` missing
        ({"user_id": "7"}, dict(features="txn_count_1h", at=at)),  # a string for an int64
        ({"user_id": 7.0}, dict(features="txn_count_1h", at=at)),  # a float for an int64
        ({"user_id": True}, dict(features="txn_count_1h", at=at)),  # a bool for an int64
        ({"user_id": 7, "merchant_id": 3}, dict(service="fraud_v1", at=at)),  # an int for a string
        ({"user_id": 7}, dict(features="txn_count_1h", at=1709295300)),  # epoch seconds
        ({"user_id": 7}, dict(features="txn_count_1h", at=1709295300000)),  # epoch milliseconds
        ({"user_id": 7}, dict(features="txn_count_1h", at=0)),
        ({"user_id": 7}, dict(features="txn_count_1h", at=True)),  # not a time
        ({"user_id": 7}, dict(features="txn_count_1h", at="yesterday")),
        ({"user_id": 7}, dict(features="txn_count_1h", service="fraud_v1", at=at)),  # both
    ]
    for keys, read in cases:
        with pytest.raises(Exception) as table:
            store.get({k: [v] for k, v in keys.items()}, **read)
        with pytest.raises(Exception) as one:
            store.get_one(keys, **read)
        assert type(one.value) is type(table.value), (keys, read, table.value, one.value)
        if isinstance(table.value, featc.UnknownNameError):
            assert str(one.value) == str(table.value)
            assert "did you mean" in str(one.value)
        if isinstance(one.value, featc.DataError):
            named = [k for k in ("user_id", "merchant_id") if f"`{k}`" in str(table.value)]
            assert named and all(f"`{k}`" in str(one.value) for k in named), (table.value, one.value)
        if "at: the integer" in str(table.value):
            assert str(one.value) == str(table.value)
    # A missing request field, and keys that are not one entity's dict.
    delivery = featc.Project(EXAMPLES / "delivery").online()
    with pytest.raises(featc.DataError, match="pickup_lat"):
        delivery.get_one({"restaurant_id": 1}, service="eta_v2", at=at)
    with pytest.raises(featc.DataError, match="pickup_lat"):
        delivery.get({"restaurant_id": [1]}, service="eta_v2", at=at)
    with pytest.raises(TypeError, match="get_one: keys must be a dict"):
        store.get_one([("user_id", 7)], features="txn_count_1h", at=at)
    with pytest.raises(featc.DataError, match="does not fit int64"):
        store.get_one({"user_id": 2**63}, features="txn_count_1h", at=at)
    store.close()
    with pytest.raises(featc.Error, match="closed"):
        store.get_one({"user_id": 7}, features="txn_count_1h", at=at)


def test_one_entity_reads_are_logged_like_a_servers(tmp_path):
    project = featc.Project(EXAMPLES / "fraud")
    log = tmp_path / "served"
    store = project.online(log_served=log)
    store.push("transactions", {"ts": [dt.datetime(2024, 3, 1, 12, 15)], "user_id": [7], "merchant_id": ["m1"],
                                "amount": [10.5], "category": ["food"], "is_mobile": [True]})
    assert store.get_one({"user_id": 7}, features="txn_count_1h", at="2024-03-01T13:00:00Z") == {"txn_count_1h": 1}
    store.get_one({"user_id": 8}, features="txn_count_1h", at="2024-03-01T13:00:00Z")
    store.close()
    [file] = sorted(log.glob("served-*.parquet"))
    rows = pq.read_table(file)
    assert rows.column("user_id").to_pylist() == [7, 8]
    assert rows.column("txn_count_1h").to_pylist() == [1, 0]
    assert rows.column("txn_count_1h__status").to_pylist() == ["PRESENT", "NOT_FOUND"]
