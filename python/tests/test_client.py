"""`featc.Client` against a real `featc serve` (the CLI binary the Rust tests built,
started on 127.0.0.1 by these tests and stopped after each): the same calls as the
embedded store answer the same tables bit for bit (columns, types, statuses,
metadata); replaying a case through the server equals its training set; refusals
raise the embedded store's exceptions; pushes are durable across a restart and
never applied twice."""
import datetime as dt
import socket
import subprocess

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import featc
from conftest import EXAMPLES, ROOT, assert_same_bits, featc_bin, replay, source_files


class Server:
    """`featc serve PROJECT ARGS`, on `port` (default: a free one)."""

    def __init__(self, project, *args, port=0, tmp_path=None):
        self.log = (tmp_path / f"serve-{port}.log").open("w") if tmp_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [featc_bin(), "serve", str(project), "--listen", f"127.0.0.1:{port}", "--quiet", *args],
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            cwd=ROOT,
        )
        line = self.proc.stdout.readline().strip()
        assert line.startswith("listening on http://"), line
        self.url = line[len("listening on ") :]
        self.port = int(self.url.rsplit(":", 1)[1])
        # It listens before it has loaded its sources' history (503 until then).
        featc.Client(self.url).wait_ready()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            assert self.proc.wait(timeout=60) == 0, "a graceful stop exits 0"


@pytest.fixture
def serve(tmp_path):
    started = []

    def start(project, *args, port=0):
        server = Server(project, *args, port=port, tmp_path=tmp_path)
        started.append(server)
        return server

    yield start
    for server in started:
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait()


TRANSACTIONS = {
    "ts": [dt.datetime(2024, 3, 1, 12, 15), dt.datetime(2024, 3, 1, 12, 30), dt.datetime(2024, 3, 1, 12, 40)],
    "user_id": [7, 7, 8],
    "merchant_id": ["m1", "m2", "m1"],
    "amount": [10.5, None, 3.25],
    "category": ["food", "travel", "dining"],
    "is_mobile": [True, False, None],
}


def test_the_client_answers_what_the_embedded_store_answers(serve):
    project = featc.Project(EXAMPLES / "fraud")
    server = serve(EXAMPLES / "fraud", "--clock", "events")
    store = project.online()
    with featc.Client(server.url) as client:
        for target in (store, client):
            assert target.push("transactions", TRANSACTIONS) == {"accepted": 3, "late": 0, "duplicate": False}
        entities = {"user_id": [7, 8, 9, None], "merchant_id": ["m1", "m2", "m1", "m9"]}
        for kwargs in (
            {"service": "fraud_v1"},
            {"features": ["txn_count_1h", "amount_avg_7d", "last_country", "user_spend:amount_sum_1d"]},
            {"features": "txn_count_1h", "statuses": False},
            {},
        ):
            for at in ("2024-03-01T13:00:00Z", dt.datetime(2024, 3, 3), 1709295300000000):
                ours = store.get(entities, at=at, **kwargs)
                theirs = client.get(entities, at=at, **kwargs)
                # Columns, types, values, statuses and the metadata.
                assert_same_bits(theirs, ours, check_metadata=True)
                assert theirs.schema.metadata[b"featc.at"] == ours.schema.metadata[b"featc.at"]
        # Without `at`, the server reads at its clock (--clock events: the latest event).
        now = client.get({"user_id": [7]}, features="txn_count_1h")
        assert now.schema.metadata[b"featc.at"] == b"2024-03-01T12:40:00Z"
        assert now.column("txn_count_1h").to_pylist() == [2]
        assert client.get_online_features({"user_id": [7]}, features="txn_count_1h").equals(now)
        m, e = client.metrics(), store.metrics()
        for name in ("events", "late", "dead_lettered", "null_keys", "entities"):
            assert m[name] == e[name], name
        assert m["watermarks"] == {k: v for k, v in e["watermarks"].items() if v is not None}
        assert m["server"]["featc_push_rows_accepted_total"] == 3


def test_replaying_a_case_through_the_server_equals_its_training_set(case, serve):
    project = featc.Project(case)
    spine = pq.read_table(case / "spine.parquet")
    expected = project.training_set(spine, progress=False)
    events = {name: pq.read_table(path) for name, path in source_files(case).items()}
    server = serve(case)
    client = featc.Client(server.url)
    read = replay(client, project, spine, events, features=project.features)
    assert_same_bits(read.select(project.features), expected.select(project.features))
    assert client.metrics()["events"] == sum(t.num_rows for t in events.values())


def test_a_service_with_request_fields_through_the_server():
    from pyarrow import csv

    delivery = EXAMPLES / "delivery"
    project = featc.Project(delivery)
    spine = csv.read_csv(delivery / "data" / "spine.csv")
    expected = project.training_set(delivery / "data" / "spine.csv", service="eta_v2", progress=False)
    server = Server(delivery)
    try:
        client = featc.Client(server.url)
        read = replay(client, project, expected.select(spine.column_names), {"orders": csv.read_csv(delivery / "data" / "orders.csv")}, service="eta_v2")
        names = project.services["eta_v2"]
        assert_same_bits(read.select(names), expected.select(names))
    finally:
        server.stop()


def test_refusals_raise_the_embedded_stores_exceptions(serve):
    project = featc.Project(EXAMPLES / "fraud")
    server = serve(EXAMPLES / "fraud", "--clock", "events")
    client, store = featc.Client(server.url), project.online()
    client.push("transactions", TRANSACTIONS)
    store.push("transactions", TRANSACTIONS)

    def both(call, exception):
        """The same call on both raises `exception`; the client's is a RequestError."""
        with pytest.raises(exception) as embedded:
            call(store)
        with pytest.raises(exception) as remote:
            call(client)
        assert isinstance(remote.value, featc.RequestError)
        return str(embedded.value), remote.value

    _, e = both(lambda s: s.get({"user_id": [1]}, features=["txn_count_1"]), featc.UnknownNameError)
    assert (e.status, e.code, e.field) == (404, "unknown_feature", "features[0]")
    assert "did you mean `txn_count_1h`" in e.message
    _, e = both(lambda s: s.get({"user_id": [1]}, service="fraud_v2"), featc.UnknownNameError)
    assert e.code == "unknown_service" and "`fraud_v1`" in e.message
    _, e = both(lambda s: s.push("transaction", TRANSACTIONS), featc.UnknownNameError)
    assert e.code == "unknown_source" and "`transactions`" in e.message
    # An integer read time is microseconds only with 16 digits: epoch seconds are
    # refused on both, never read as a time in 1970.
    _, e = both(lambda s: s.get({"user_id": [1]}, features="txn_count_1h", at=1711842900), featc.Error)
    assert (e.status, e.field) == (400, "at"), e
    # A key column missing, or of a type that cannot be read as the key's.
    _, e = both(lambda s: s.get({"user": [1]}, features="txn_count_1h"), featc.DataError)
    assert e.field == "entities.user_id"
    _, e = both(lambda s: s.get({"user_id": ["1"]}, features="txn_count_1h"), featc.DataError)
    assert e.field == "entities.user_id"
    # Pushes: a null where none is allowed (named by column and row), a missing
    # column, an undeclared one (a typo is never dropped without a word).
    bad = dict(TRANSACTIONS, user_id=[7, None, 8])
    embedded, e = both(lambda s: s.push("transactions", bad), featc.DataError)
    assert (e.status, e.code, e.field) == (422, "bad_value", "df.user_id[1]")
    assert "user_id" in embedded and "1" in embedded
    missing = {k: v for k, v in TRANSACTIONS.items() if k != "user_id"}
    _, e = both(lambda s: s.push("transactions", missing), featc.DataError)
    assert (e.code, e.field) == ("missing_column", "df.user_id")
    typo = dict(TRANSACTIONS, amout=[1.0, 2.0, 3.0])
    embedded, e = both(lambda s: s.push("transactions", typo), featc.DataError)
    assert (e.code, e.field) == ("unknown_column", "df.amout")
    assert "did you mean `amount`" in embedded and "did you mean `amount`" in e.message
    # Nothing of a refused push was applied, on either side.
    at = "2024-03-01T13:00:00Z"
    assert client.get({"user_id": [7]}, features="txn_count_1h", at=at).equals(
        store.get({"user_id": [7]}, features="txn_count_1h", at=at)
    )
    assert client.metrics()["events"] == store.metrics()["events"] == 3
    # A read before the state's horizon is refused, never answered wrong.
    late = dict(TRANSACTIONS, ts=[dt.datetime(2024, 3, 20)] * 3)
    client.push("transactions", late)
    store.push("transactions", late)
    _, e = both(lambda s: s.get({"user_id": [7]}, features="txn_count_1h", at="2024-03-01T00:00:00Z"), featc.Error)
    assert (e.status, e.code) == (409, "read_before_horizon")
    with pytest.raises(TypeError):
        client.get({"user_id": [7]}, service="fraud_v1", features="txn_count_1h")


def test_tokens_guard_reads_and_pushes(serve, tmp_path):
    (tmp_path / "read").write_text("r3ad\n")
    (tmp_path / "push").write_text("pu5h\n")
    server = serve(EXAMPLES / "fraud", "--read-token-file", str(tmp_path / "read"), "--push-token-file", str(tmp_path / "push"))
    at = "2024-03-01T13:00:00Z"
    with pytest.raises(featc.RequestError) as e:
        featc.Client(server.url).get({"user_id": [7]}, features="txn_count_1h", at=at)
    assert (e.value.status, e.value.code) == (401, "unauthorized")
    with pytest.raises(featc.RequestError) as e:
        featc.Client(server.url, token="r3ad").push("transactions", TRANSACTIONS)
    assert e.value.status == 401
    client = featc.Client(server.url, token="r3ad", push_token="pu5h")
    assert client.push("transactions", TRANSACTIONS)["accepted"] == 3
    assert client.get({"user_id": [7]}, features="txn_count_1h", at=at).column("txn_count_1h").to_pylist() == [2]
    # `/metrics` is guarded like reads: the client sends its read token.
    with pytest.raises(featc.RequestError) as e:
        featc.Client(server.url).metrics()
    assert e.value.status == 401
    assert client.metrics()["server"]["featc_unauthorized_total"] == 3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_pushes_survive_a_restart_and_are_applied_once(serve, tmp_path):
    state = tmp_path / "state"
    port = free_port()
    server = serve(EXAMPLES / "fraud", "--state", str(state), port=port)
    client = featc.Client(server.url)
    first = {k: v[:1] for k, v in TRANSACTIONS.items()}
    assert client.push("transactions", first, key="order-1") == {"accepted": 1, "late": 0, "duplicate": False}
    assert client.push("transactions", first, key="order-1") == {"accepted": 1, "late": 0, "duplicate": True}
    at = "2024-03-01T12:30:00Z"
    before = client.get({"user_id": [7]}, features="txn_count_1h", at=at)
    assert before.column("txn_count_1h").to_pylist() == [1]
    server.stop()
    # The same client, after a restart on the same port: its kept-alive connection is
    # gone, the request goes again on a new one; the state is what was acknowledged.
    serve(EXAMPLES / "fraud", "--state", str(state), port=port)
    client.wait_ready()
    assert client.get({"user_id": [7]}, features="txn_count_1h", at=at).equals(before)
    assert client.push("transactions", first, key="order-1")["duplicate"] is True
    # A key-less push gets a key of its own: two such pushes are two pushes.
    client.push("transactions", first)
    assert client.push("transactions", first)["duplicate"] is False
    assert client.get({"user_id": [7]}, features="txn_count_1h", at=at).column("txn_count_1h").to_pylist() == [3]


def test_inputs_of_every_kind_and_a_bad_url():
    import pandas as pd
    import polars as pl

    server = Server(EXAMPLES / "fraud")
    try:
        client = featc.Client(server.url + "/")
        frame = pd.DataFrame(TRANSACTIONS)  # nanosecond timestamps, object strings
        assert client.push("transactions", frame)["accepted"] == 3
        assert client.push("transactions", pl.DataFrame(pa.table(TRANSACTIONS)))["accepted"] == 3
        assert client.push("transactions", pa.table(TRANSACTIONS).to_reader())["accepted"] == 3
        keys = pd.DataFrame({"user_id": [7, 8]})
        got = client.get(keys, features="txn_count_1h", at=pd.Timestamp("2024-03-01T13:00:00Z"))
        assert got.column("txn_count_1h").to_pylist() == [6, 3]
        assert got.schema.field("user_id").type == pa.int64()
        empty = client.get({"user_id": pa.array([], pa.int64())}, features="txn_count_1h", at=1709294400000000)
        assert empty.num_rows == 0 and empty.column_names == ["user_id", "txn_count_1h", "txn_count_1h__status"]
    finally:
        server.stop()
    with pytest.raises(ValueError):
        featc.Client("127.0.0.1:6566")
    with pytest.raises(OSError):
        featc.Client(server.url, timeout=2).get({"user_id": [7]}, features="txn_count_1h")
