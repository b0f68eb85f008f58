"""Dates, decimals, list columns (embeddings), structs and maps through the package (docs/python.md,
"Types"): a training set from pyarrow tables equals the CLI's from the same data as
Parquet files, bit for bit and with the declared Arrow types, and replaying the events
into the embedded store, each spine row read at its time, gives the same values."""
import datetime as dt
import decimal
import random
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import featc
from conftest import ROOT, assert_same_bits, cli_training_set, replay

FIXTURES = ROOT / "tests" / "fixtures"
START = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
KEYS = 5


def times(rng: random.Random, n: int) -> list:
    """`n` event times over three weeks, some of them equal."""
    out = [START + dt.timedelta(hours=rng.randrange(0, 21 * 24)) for _ in range(n)]
    return sorted(out)


def maybe(rng: random.Random, value):
    return None if rng.random() < 0.15 else value


def bookings(rng: random.Random, n: int = 240) -> pa.Table:
    ts = times(rng, n)
    day = lambda t, back: (t - dt.timedelta(days=back)).date()  # noqa: E731
    return pa.table({
        "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "guest_id": pa.array([rng.randrange(KEYS) for _ in ts], pa.int64()),
        "check_in": pa.array([day(t, -rng.randrange(0, 30)) for t in ts], pa.date32()),
        "booked_on": pa.array([maybe(rng, day(t, rng.randrange(0, 60))) for t in ts], pa.date32()),
        "nights": pa.array([maybe(rng, rng.randrange(1, 9)) for _ in ts], pa.int64()),
    })


def invoices(rng: random.Random, n: int = 240) -> pa.Table:
    ts = times(rng, n)
    cents = lambda: decimal.Decimal(rng.randrange(-5_000, 100_000)).scaleb(-2)  # noqa: E731
    return pa.table({
        "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "customer_id": pa.array([rng.randrange(KEYS) for _ in ts], pa.int64()),
        "amount": pa.array([cents() for _ in ts], pa.decimal128(10, 2)),
        "rate": pa.array([maybe(rng, decimal.Decimal(rng.randrange(0, 3000)).scaleb(-4)) for _ in ts],
                         pa.decimal128(5, 4)),
        "qty": pa.array([maybe(rng, rng.randrange(0, 12)) for _ in ts], pa.int64()),
    })


def item_views(rng: random.Random, n: int = 240) -> pa.Table:
    ts = times(rng, n)
    vector = lambda: [rng.choice([-1.5, -0.25, 0.0, 0.5, 2.0, 3.75]) for _ in range(3)]  # noqa: E731
    return pa.table({
        "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "user_id": pa.array([rng.randrange(KEYS) for _ in ts], pa.int64()),
        "emb": pa.array([maybe(rng, vector()) for _ in ts], pa.list_(pa.float32())),
        "anchor": pa.array([maybe(rng, vector()) for _ in ts], pa.list_(pa.float64())),
        "prices": pa.array([maybe(rng, [rng.randrange(1, 500) for _ in range(rng.randrange(0, 4))]) for _ in ts],
                           pa.list_(pa.int64())),
        "labels": pa.array([maybe(rng, rng.sample("abq", rng.randrange(0, 3))) for _ in ts],
                           pa.list_(pa.string())),
    })


def orders(rng: random.Random, n: int = 240) -> pa.Table:
    """Struct and map columns: null structs and fields, empty and repeated-key maps."""
    ts = times(rng, n)
    geo = pa.struct([("lat", pa.float64()), ("lon", pa.float64())])
    address = pa.struct([("city", pa.string()), ("geo", geo), ("labels", pa.list_(pa.string()))])

    def one_address():
        return maybe(rng, {
            "city": maybe(rng, rng.choice(["Oslo", "Rome", "Lima"])),
            "geo": maybe(rng, {"lat": maybe(rng, rng.choice([0.5, 1.25, -2.0])), "lon": maybe(rng, 1.0)}),
            "labels": maybe(rng, rng.sample("abq", rng.randrange(0, 3))),
        })

    def one_map():
        keys = ["color", "size", "shape"]
        return maybe(rng, [(rng.choice(keys), maybe(rng, rng.choice([1.0, 2.5, 4.0])))
                           for _ in range(rng.randrange(0, 4))])
    return pa.table({
        "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "user_id": pa.array([rng.randrange(KEYS) for _ in ts], pa.int64()),
        "address": pa.array([one_address() for _ in ts], address),
        "attrs": pa.array([one_map() for _ in ts], pa.map_(pa.string(), pa.float64())),
    })


# fixture file, source name, events, the spine's key columns and their draws
PROJECTS = {
    "dates": ("bookings", bookings, {
        "guest_id": (pa.int64(), lambda rng: rng.randrange(KEYS + 1)),
        "check_in": (pa.date32(), lambda rng: (START + dt.timedelta(days=rng.randrange(0, 50))).date()),
    }),
    "decimals": ("invoices", invoices, {"customer_id": (pa.int64(), lambda rng: rng.randrange(KEYS + 1))}),
    "embeddings": ("item_views", item_views, {"user_id": (pa.int64(), lambda rng: rng.randrange(KEYS + 1))}),
    "nested": ("orders", orders, {"user_id": (pa.int64(), lambda rng: rng.randrange(KEYS + 1))}),
}


def spine(rng: random.Random, keys: dict, n: int = 60) -> pa.Table:
    columns = {"ts": pa.array(times(rng, n), pa.timestamp("us", tz="UTC"))}
    for name, (ty, draw) in keys.items():
        columns[name] = pa.array([draw(rng) for _ in range(n)], ty)
    return pa.table(columns)


@pytest.fixture(params=sorted(PROJECTS))
def typed(request, tmp_path):
    """A project of one fixture file, its events, its spine, and the Parquet copies."""
    name = request.param
    source, make, keys = PROJECTS[name]
    rng = random.Random(f"featc-{name}")
    project_dir = tmp_path / name
    project_dir.mkdir()
    shutil.copy(FIXTURES / f"{name}.feat", project_dir / f"{name}.feat")
    events = make(rng)
    rows = spine(rng, keys)
    pq.write_table(events, tmp_path / f"{source}.parquet")
    pq.write_table(rows, tmp_path / "spine.parquet")
    return project_dir, source, events, rows, tmp_path


def test_training_sets_from_tables_equal_the_cli_and_keep_the_types(typed):
    project_dir, source, events, rows, tmp = typed
    project = featc.Project(project_dir)
    ours = project.training_set(rows, sources={source: events}, progress=False)
    cli = cli_training_set(project_dir, tmp / "spine.parquet", tmp / "cli.parquet",
                           "--source", f"{source}={tmp / f'{source}.parquet'}")
    assert ours.schema.remove_metadata() == cli.schema.remove_metadata()
    assert_same_bits(ours, cli)
    types = {f.name: f.type for f in ours.schema}
    if project_dir.name == "dates":
        assert types["first_check_in"] == pa.date32()
        assert pa.types.is_list(types["recent_bookings"])
        assert types["recent_bookings"].value_type == pa.date32()
    if project_dir.name == "decimals":
        assert types["total"] == pa.decimal128(38, 2)
        assert types["last_amount"] == pa.decimal128(10, 2)
        assert types["halves"] == pa.float64()
    if project_dir.name == "embeddings":
        assert pa.types.is_list(types["mean_emb_3d"])
        assert types["mean_emb_3d"].value_type == pa.float64()
        assert types["last_cos"] == pa.float64()
    if project_dir.name == "nested":
        assert types["lat_sum"] == pa.float64()
        assert types["attr_sizes"] == pa.int64()
    # Something was computed: not every feature is null.
    assert any(ours.column(f).null_count < ours.num_rows for f in project.features)


def test_replaying_into_the_embedded_store_equals_the_training_set(typed):
    project_dir, source, events, rows, _ = typed
    project = featc.Project(project_dir)
    expected = project.training_set(rows, sources={source: events}, progress=False)
    with project.online() as store:
        read = replay(store, project, rows, {source: events}, features=project.features)
    assert_same_bits(read.select(project.features), expected.select(project.features))
