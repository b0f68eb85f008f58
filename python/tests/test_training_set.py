"""`Project.training_set` on the public cases and the examples: equal to
`expected.parquet`, and to the CLI's output bit for bit, whatever the inputs are
(paths, pyarrow, pandas, polars, streams)."""
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import featc
from conftest import EXAMPLES, assert_close, assert_same_bits, cli_training_set, source_files


def test_cases_match_expected_and_the_cli_bit_for_bit(case, tmp_path):
    project = featc.Project(case)
    ours = project.training_set(case / "spine.parquet", progress=False)
    assert_close(ours, pq.read_table(case / "expected.parquet"))
    cli = cli_training_set(case, case / "spine.parquet", tmp_path / "cli.parquet")
    assert ours.schema.remove_metadata() == cli.schema.remove_metadata()
    assert_same_bits(ours, cli)


def test_in_memory_inputs_give_the_same_bits(case):
    project = featc.Project(case)
    by_path = project.training_set(case / "spine.parquet", progress=False)
    spine = pq.read_table(case / "spine.parquet")
    sources = {name: pq.read_table(path) for name, path in source_files(case).items()}
    as_tables = project.training_set(spine, sources=sources, progress=False)
    assert_same_bits(as_tables, by_path)
    # Streams are read once, lazily; small batches change nothing.
    streams = {name: pa.RecordBatchReader.from_batches(t.schema, t.to_batches(max_chunksize=777)) for name, t in sources.items()}
    assert_same_bits(project.training_set(spine, sources=streams, progress=False), by_path)


def test_pandas_and_polars_inputs(case):
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    project = featc.Project(case)
    expected = project.training_set(case / "spine.parquet", progress=False)
    spine = pq.read_table(case / "spine.parquet")
    sources = {name: pq.read_table(path) for name, path in source_files(case).items()}
    # pandas: nanosecond timestamps, and the spine's time in another zone.
    # Integers with nulls stay integers with pandas' nullable dtype.
    nullable = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}.get
    spine_pd = spine.to_pandas(types_mapper=nullable)
    spine_pd["ts"] = spine_pd["ts"].dt.tz_convert("Asia/Kolkata")
    sources_pd = {name: t.to_pandas(types_mapper=nullable) for name, t in sources.items()}
    for df in sources_pd.values():
        df["ts"] = df["ts"].astype("datetime64[ns, UTC]")
    from_pandas = project.training_set(spine_pd, sources=sources_pd, progress=False)
    # The spine's columns come back as given (its time in its own zone); the
    # features are the same bits.
    features = [f for f in expected.column_names if f not in spine.column_names]
    assert_same_bits(from_pandas.select(features), expected.select(features))
    from_polars = project.training_set(
        pl.from_arrow(spine), sources={n: pl.from_arrow(t) for n, t in sources.items()}, progress=False
    )
    assert_same_bits(from_polars.select(features), expected.select(features))


def test_a_service_with_request_fields_and_lists(tmp_path):
    delivery = EXAMPLES / "delivery"
    project = featc.Project(delivery)
    ours = project.training_set(delivery / "data" / "spine.csv", service="eta_v2", progress=False)
    cli = cli_training_set(delivery, delivery / "data" / "spine.csv", tmp_path / "cli.parquet", "--service", "eta_v2")
    assert_same_bits(ours, cli)
    assert ours.column_names[-len(project.services["eta_v2"]):] == project.services["eta_v2"]


def test_features_by_name_in_the_order_given():
    fraud = EXAMPLES / "fraud"
    project = featc.Project(fraud)
    table = project.training_set(fraud / "data" / "spine.csv", features=["last_country", "txn_count_1h"], progress=False)
    assert table.column_names[-2:] == ["last_country", "txn_count_1h"]
    assert table.schema.field("txn_count_1h").type == pa.int64()
    assert table.schema.field("last_country").type == pa.string()


def test_progress_reports_phases_and_rows():
    fraud = EXAMPLES / "fraud"
    seen = []
    featc.Project(fraud).training_set(fraud / "data" / "spine.csv", progress=lambda *a: seen.append(a))
    phases = [p for p, _, _ in seen]
    assert phases[0] == "reading the spine"
    assert "computing features" in phases
    done, total = seen[-1][1], seen[-1][2]
    assert done == total == 300


def test_the_gil_is_released_while_computing():
    import threading
    import time

    import pyarrow.compute as pc

    case = EXAMPLES / "fraud"
    project = featc.Project(case)
    spine = pq.read_table(case / "data" / "spine.csv") if False else None
    from pyarrow import csv

    spine = csv.read_csv(case / "data" / "spine.csv")
    big = pa.concat_tables([spine] * 400)  # 120 000 rows
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.001)

    thread = threading.Thread(target=tick)
    thread.start()
    try:
        started = time.monotonic()
        project.training_set(big, progress=False)
        ended = time.monotonic()
    finally:
        stop.set()
        thread.join()
    during = [t for t in ticks if started < t < ended]
    # A held GIL would starve the other thread for the whole run.
    assert len(during) >= 5, (len(during), ended - started)


def test_partitions_memory_limit_and_passes_change_nothing_but_how_it_runs(case):
    project = featc.Project(case)
    default = project.training_set(case / "spine.parquet", progress=False)
    for partitions, limit, passes in [(1, None, None), (3, "64MiB", 2), (2, 64 << 20, 5)]:
        ours = project.training_set(
            case / "spine.parquet",
            progress=False,
            partitions=partitions,
            memory_limit=limit,
            passes=passes,
        )
        assert_same_bits(ours, default)
    with pytest.raises(ValueError, match="partitions must be at least 1"):
        project.training_set(case / "spine.parquet", progress=False, partitions=0)
    with pytest.raises(ValueError, match="passes must be at least 1"):
        project.training_set(case / "spine.parquet", progress=False, passes=0)
    # Bounded before any plan is made: a million passes would be a million merges.
    with pytest.raises(ValueError, match=r"passes must be at most 1024 \(got 1000000\)"):
        project.training_set(case / "spine.parquet", progress=False, passes=1_000_000)
    with pytest.raises(ValueError, match="partitions must be at most 1024"):
        project.training_set(case / "spine.parquet", progress=False, partitions=5000)
    with pytest.raises(ValueError, match="spill_limit: `lots` is not a size"):
        project.training_set(case / "spine.parquet", progress=False, spill_limit="lots")
    # A limit the spill stays under changes nothing.
    ours = project.training_set(case / "spine.parquet", progress=False, spill_limit="1GiB")
    assert_same_bits(ours, default)
    with pytest.raises(ValueError, match="memory_limit: `lots` is not a size"):
        project.training_set(case / "spine.parquet", progress=False, memory_limit="lots")
