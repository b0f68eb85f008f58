"""The embedded online store: replaying a case's events in time order and reading
each spine row at its time gives the training set's values bit for bit; pushes are
durable in a state directory; reads and pushes have the shapes `featc.Client` has."""
import datetime as dt
import inspect
import json

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import featc
from conftest import CASES, EXAMPLES, assert_same_bits, replay, run_cli, source_files


def test_replaying_a_case_equals_its_training_set(case):
    project = featc.Project(case)
    spine = pq.read_table(case / "spine.parquet")
    expected = project.training_set(spine, progress=False)
    events = {name: pq.read_table(path) for name, path in source_files(case).items()}
    with project.online() as store:
        read = replay(store, project, spine, events, features=project.features)
        features = project.features
        assert_same_bits(read.select(features), expected.select(features))
        m = store.metrics()
        assert m["events"] == sum(t.num_rows for t in events.values())
        assert m["late"] == 0


def test_a_store_with_its_entities_on_disk_equals_the_training_set(tmp_path):
    """With a state directory and a cache of 0 bytes, every entity is read from disk
    for each push and read: the values are still the training set's, also after the
    store is closed (a checkpoint without the entities) and reopened. One case: what
    this adds to `test_replaying_a_case_equals_its_training_set` (every case) is the
    package's state and memory limit; the disk tier itself answers as memory does on
    the two-source marketplace case in the server's suite
    (`serve_requests::a_disk_tier_with_a_tiny_cache_answers_as_memory_does`), which
    here took 90 of this suite's 220 seconds."""
    case = CASES / "synthetic"
    project = featc.Project(case)
    spine = pq.read_table(case / "spine.parquet")
    expected = project.training_set(spine, progress=False)
    events = {name: pq.read_table(path) for name, path in source_files(case).items()}
    features = project.features
    state = tmp_path / "state"
    with project.online(state, memory_limit=0) as store:
        read = replay(store, project, spine, events, features=features)
        assert_same_bits(read.select(features), expected.select(features))
        assert store.metrics()["events"] == sum(t.num_rows for t in events.values())
    with project.online(state, memory_limit=0) as store:
        assert "checkpoint" in store.recovered
        assert store.metrics()["events"] == sum(t.num_rows for t in events.values())


def test_a_service_with_request_fields_equals_the_training_set():
    from pyarrow import csv

    delivery = EXAMPLES / "delivery"
    project = featc.Project(delivery)
    spine = csv.read_csv(delivery / "data" / "spine.csv")
    expected = project.training_set(delivery / "data" / "spine.csv", service="eta_v2", progress=False)
    orders = csv.read_csv(delivery / "data" / "orders.csv")
    store = project.online()
    read = replay(store, project, expected.select(spine.column_names), {"orders": orders}, service="eta_v2")
    names = project.services["eta_v2"]
    assert_same_bits(read.select(names), expected.select(names))


def fraud_store():
    project = featc.Project(EXAMPLES / "fraud")
    store = project.online()
    store.push(
        "transactions",
        {
            "ts": [dt.datetime(2024, 3, 1, 12, 15), dt.datetime(2024, 3, 1, 12, 30)],
            "user_id": [7, 7],
            "merchant_id": ["m1", "m2"],
            "amount": [10.5, None],
            "category": ["food", "travel"],
            "is_mobile": [True, False],
        },
    )
    return project, store


def test_get_shapes_types_and_statuses():
    project, store = fraud_store()
    t = store.get({"user_id": [7, 8]}, features=["txn_count_1h", "amount_avg_7d", "last_country"], at="2024-03-01T13:00:00Z")
    assert t.column_names == [
        "user_id",
        "txn_count_1h",
        "amount_avg_7d",
        "last_country",
        "txn_count_1h__status",
        "amount_avg_7d__status",
        "last_country__status",
    ]
    assert t.schema.field("user_id").type == pa.int64()
    assert t.schema.field("txn_count_1h").type == pa.int64()
    assert t.schema.field("amount_avg_7d").type == pa.float64()
    assert t.column("txn_count_1h").to_pylist() == [2, 0]
    assert t.column("amount_avg_7d").to_pylist() == [10.5, None]
    assert t.column("txn_count_1h__status").to_pylist() == ["PRESENT", "NOT_FOUND"]
    assert t.column("amount_avg_7d__status").to_pylist() == ["PRESENT", "NOT_FOUND"]
    assert t.column("last_country__status").to_pylist() == ["NOT_FOUND", "NOT_FOUND"]
    # Windows decay when read later; the same time in any spelling reads the same.
    later = store.get({"user_id": [7]}, features="txn_count_1h", at=dt.datetime(2024, 3, 1, 14, 0), statuses=False)
    assert later.column_names == ["user_id", "txn_count_1h"]
    assert later.column("txn_count_1h").to_pylist() == [0]
    micros = 1709295300000000  # 2024-03-01T12:15:00Z: the window is (t - 1h, t]
    assert store.get({"user_id": [7]}, features="txn_count_1h", at=micros).column("txn_count_1h").to_pylist() == [1]


def test_an_integer_read_time_is_microseconds_only_when_it_has_16_digits():
    # As `featc serve` reads an integer `at` (docs/semantics.md, "Integer times"):
    # epoch seconds or milliseconds are refused, never read as a 1970 instant.
    _, store = fraud_store()
    seconds = 1709295300  # 2024-03-01T12:15:00Z in seconds
    for integer, words in [(seconds, "10 digits look like `epoch s`"), (seconds * 1000, "13 digits look like `epoch ms`"), (0, "")]:
        with pytest.raises(featc.Error, match="at: the integer") as refused:
            store.get({"user_id": [7]}, features="txn_count_1h", at=integer)
        assert not isinstance(refused.value, featc.DataError)
        assert str(integer) in str(refused.value) and words in str(refused.value)
    micros = store.get({"user_id": [7]}, features="txn_count_1h", at=seconds * 1_000_000)
    typed = store.get({"user_id": [7]}, features="txn_count_1h", at=dt.datetime(2024, 3, 1, 12, 15))
    assert micros.equals(typed) and micros.column("txn_count_1h").to_pylist() == [1]
    # A typed time is never judged by its digits: 1970 is a time like any other.
    empty = featc.Project(EXAMPLES / "fraud").online()
    early = empty.get({"user_id": [7]}, features="txn_count_1h", at=dt.datetime(1970, 1, 1, 0, 0, 1))
    assert early.column("txn_count_1h__status").to_pylist() == ["NOT_FOUND"]


def test_a_service_reads_several_entities():
    project, store = fraud_store()
    t = store.get({"user_id": [7], "merchant_id": ["m1"]}, service="fraud_v1", at="2024-03-01T13:00:00Z", statuses=False)
    assert t.column_names == ["user_id", "merchant_id", *project.services["fraud_v1"]]
    assert t.column("pair_count_30d").to_pylist() == [1]


def test_pandas_and_polars_entities():
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    _, store = fraud_store()
    want = store.get({"user_id": [7]}, features="txn_count_1h", at="2024-03-01T13:00:00Z")
    assert store.get(pd.DataFrame({"user_id": [7]}), features="txn_count_1h", at=pd.Timestamp("2024-03-01 13:00", tz="UTC")).equals(want)
    assert store.get(pl.DataFrame({"user_id": [7]}), features="txn_count_1h", at="2024-03-01T13:00:00Z").equals(want)


def test_push_answers_and_idempotency():
    _, store = fraud_store()
    batch = {
        "ts": [dt.datetime(2024, 3, 1, 12, 45)],
        "user_id": [9],
        "merchant_id": ["m1"],
        "amount": [None],
        "category": ["food"],
        "is_mobile": [False],
    }
    assert store.push("transactions", batch, key="k1") == {"accepted": 1, "late": 0, "duplicate": False}
    assert store.push("transactions", batch, key="k1") == {"accepted": 1, "late": 0, "duplicate": True}
    t = store.get({"user_id": [9]}, features="txn_count_1h", at="2024-03-01T13:00:00Z")
    assert t.column("txn_count_1h").to_pylist() == [1]


def transactions_at(*times):
    n = len(times)
    return {
        "ts": list(times),
        "user_id": [3] * n,
        "merchant_id": ["m1"] * n,
        "amount": [1.0] * n,
        "category": ["food"] * n,
        "is_mobile": [False] * n,
    }


def test_a_push_past_max_future_is_refused_whole_naming_source_row_and_time():
    # The default bound is `featc serve --max-future`'s: an hour ahead of the wall clock.
    assert inspect.signature(featc.Project.online).parameters["max_future"].default == dt.timedelta(hours=1)
    store = featc.Project(EXAMPLES / "fraud").online()
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    ahead = now + dt.timedelta(hours=2)
    with pytest.raises(featc.DataError) as refused:
        store.push("transactions", transactions_at(now, ahead, ahead))
    message = str(refused.value)
    assert message.startswith("`transactions` row 1, column `ts`: event time " + ahead.strftime("%Y-%m-%dT%H:%M:%SZ")), message
    assert "more than 1h ahead of the wall clock (max_future) (2 rows are)" in message
    assert store.metrics()["events"] == 0, "nothing of a refused push is applied"
    assert store.push("transactions", transactions_at(now, now + dt.timedelta(minutes=30)))["accepted"] == 2


def test_max_future_is_the_stores_option_and_none_lifts_it():
    project = featc.Project(EXAMPLES / "fraud")
    now = dt.datetime.now(dt.timezone.utc)
    tight = project.online(max_future=dt.timedelta(minutes=5))
    with pytest.raises(featc.DataError, match=r"row 0, column `ts`: .* more than 5m ahead .*\(max_future\)$"):
        tight.push("transactions", transactions_at(now + dt.timedelta(minutes=10)))
    assert tight.push("transactions", transactions_at(now + dt.timedelta(minutes=4)))["accepted"] == 1
    unbounded = project.online(max_future=None)
    far = dt.datetime(9999, 12, 31, 23, 59, 59)
    assert unbounded.push("transactions", transactions_at(far))["accepted"] == 1
    with pytest.raises(featc.Error, match="max_future must not be negative"):
        project.online(max_future=dt.timedelta(seconds=-1))


def test_a_durable_store_keeps_every_acknowledged_push(tmp_path):
    project = featc.Project(EXAMPLES / "fraud")
    state = tmp_path / "state"
    row = lambda minute, user: {  # noqa: E731
        "ts": [dt.datetime(2024, 3, 1, 12, minute)],
        "user_id": [user],
        "merchant_id": ["m1"],
        "amount": [2.0],
        "category": ["food"],
        "is_mobile": [True],
    }
    with project.online(state) as store:
        assert store.durable
        store.push("transactions", row(0, 1), key="a")
        store.push("transactions", row(1, 1))
    # Reopened from its checkpoint: the same values, and the key remembered.
    store = project.online(state)
    assert "checkpoint" in store.recovered
    assert store.push("transactions", row(0, 1), key="a")["duplicate"]
    store.push("transactions", row(2, 1))
    # Not closed (no checkpoint): the log alone must bring this push back.
    del store
    import gc

    gc.collect()
    store = project.online(state)
    assert "re-applied 1 logged pushes" in store.recovered
    t = store.get({"user_id": [1]}, features="txn_count_1h", at="2024-03-01T12:30:00Z")
    assert t.column("txn_count_1h").to_pylist() == [3]
    assert store.metrics()["events"] == 3
    store.close()
    store.close()
    with pytest.raises(featc.Error, match="closed"):
        store.metrics()


def test_reads_are_logged_like_a_servers(tmp_path):
    """`log_served`: every vector the store answers is a row of the served log, as
    `featc serve --log-served` writes it; `close()` completes the file."""
    project = featc.Project(EXAMPLES / "fraud")
    log = tmp_path / "served"
    store = project.online(log_served=log)
    store.push(
        "transactions",
        {
            "ts": [dt.datetime(2024, 3, 1, 12, 15)],
            "user_id": [7],
            "merchant_id": ["m1"],
            "amount": [10.5],
            "category": ["food"],
            "is_mobile": [True],
        },
    )
    store.get({"user_id": [7, 8]}, features="txn_count_1h", at="2024-03-01T13:00:00Z")
    store.close()
    files = sorted(log.glob("served-*.parquet"))
    assert len(files) == 1, list(log.iterdir())
    rows = pq.read_table(files[0])
    assert rows.column("user_id").to_pylist() == [7, 8]
    assert rows.column("txn_count_1h").to_pylist() == [1, 0]
    assert rows.column("txn_count_1h__status").to_pylist() == ["PRESENT", "NOT_FOUND"]
    assert rows.column("read_time").to_pylist() == [dt.datetime(2024, 3, 1, 13, tzinfo=dt.timezone.utc)] * 2
    assert b"featc.meanings" in rows.schema.metadata
    # `featc audit` recomputes those reads from the pushed event: every cell equal.
    events = pa.table(
        {
            "ts": pa.array([dt.datetime(2024, 3, 1, 12, 15)], pa.timestamp("us", tz="UTC")),
            "user_id": [7],
            "merchant_id": ["m1"],
            "amount": [10.5],
            "category": ["food"],
            "is_mobile": [True],
        }
    )
    pq.write_table(events, tmp_path / "transactions.parquet")
    audit = run_cli(
        "audit", str(EXAMPLES / "fraud"), "--served", str(log), "--format", "json", "-q",
        "--source", f"transactions={tmp_path / 'transactions.parquet'}",
    )
    assert audit.returncode == 0, audit.stderr
    report = json.loads(audit.stdout)
    assert report["cells"] == {"equal": 2, "explained": {}, "unexplained": 0}, report


def test_metrics_and_watermarks():
    _, store = fraud_store()
    m = store.metrics()
    assert {"events", "late", "dead_lettered", "null_keys", "entities", "state_bytes", "watermarks"} <= set(m)
    assert m["events"] == 2
    assert m["checkpoint_error"] is None
    assert m["watermarks"]["logins"] is None
    assert isinstance(m["watermarks"]["transactions"], int)


def test_a_durable_store_survives_its_features_reordered(tmp_path):
    """The features of a view in another order: the checkpoint still loads (the store
    is planned in the layout it records) and answers as before."""
    import shutil

    project_dir = tmp_path / "project"
    project_dir.mkdir()
    for name in ("features.feat", "sources.feat"):
        shutil.copy(EXAMPLES / "fraud" / name, project_dir / name)
    state = tmp_path / "state"
    rows = {
        "ts": [dt.datetime(2024, 3, 1, 12, m) for m in range(3)],
        "user_id": [1, 1, 2],
        "merchant_id": ["m1", "m2", "m1"],
        "amount": [2.0, 250.0, None],
        "category": ["food", "travel", "food"],
        "is_mobile": [True, False, True],
    }
    read = lambda store: store.get(  # noqa: E731
        {"user_id": [1, 2], "merchant_id": ["m1", "m1"]}, service="fraud_v1", at="2024-03-01T12:30:00Z"
    )
    with featc.Project(project_dir).online(state) as store:
        store.push("transactions", rows)
        before = read(store)
    lines = (project_dir / "features.feat").read_text().splitlines()
    end = next(i for i, line in enumerate(lines) if line.startswith("}"))
    slots = [i for i in range(end) if line_is_feature(lines[i])]
    assert len(slots) > 3
    reordered = list(lines)
    for slot, source in zip(slots, reversed(slots)):
        reordered[slot] = lines[source]
    (project_dir / "features.feat").write_text("\n".join(reordered) + "\n")
    store = featc.Project(project_dir).online(state)
    assert "checkpoint" in store.recovered
    assert read(store).equals(before)
    store.close()


def line_is_feature(line: str) -> bool:
    return line.strip().startswith("feature ")


def test_late_events_are_dead_letters_listed_paged_and_kept_across_a_reopen(tmp_path):
    project = featc.Project(EXAMPLES / "fraud")
    row = {"merchant_id": ["m1"], "amount": [5.0], "category": ["food"], "is_mobile": [None]}
    state = tmp_path / "state"
    with project.online(state, late="dead-letter") as store:
        store.push("transactions", {"ts": [dt.datetime(2024, 3, 31, 10, 0)], "user_id": [1], **row})
        for user in range(2, 7):
            late = {"ts": [dt.datetime(2024, 3, 31, 9, user)], "user_id": [user], **row}
            assert store.push("transactions", late, key=f"late-{user}")["late"] == 1
        first = store.dead_letters(limit=2)
        assert [l["event"]["user_id"] for l in first["letters"]] == [2, 3]
        assert first["letters"][0]["origin"] == {"push": {"key": "late-2"}}
        assert first["letters"][0]["event"]["is_mobile"] is None
        rest = store.dead_letters(after=first["next"], limit=10)
        assert [l["event"]["user_id"] for l in rest["letters"]] == [4, 5, 6]
        assert rest["next"] is None
        assert store.dead_letters(reason="future")["letters"] == []
        assert store.dead_letters(source="logins")["letters"] == []
        with pytest.raises(featc.UnknownNameError):
            store.dead_letters(source="transaction")
        with pytest.raises(featc.Error):
            store.dead_letters(reason="tardy")
        before = store.dead_letters(limit=1000)
    with project.online(state, late="dead-letter") as again:
        after = again.dead_letters(limit=1000)
        assert after["counts"] == before["counts"] == [
            {"source": "transactions", "reason": "late", "total": 5,
             "bytes": before["kept_bytes"], "kept": 5, "kept_bytes": before["kept_bytes"]}
        ]
        assert [l["event"] for l in after["letters"]] == [l["event"] for l in before["letters"]]
