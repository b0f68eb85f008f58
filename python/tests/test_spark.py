"""`featc.spark.training_set` on real Spark (pyspark 3.5.8, Java 17): the public cases
and the examples, spines and sources read by Spark from Parquet, equal to `featc
training-set`'s output bit for bit on `local[2]`; with more shares than keys, with one
key holding most events, with a task killed mid-run (Spark retries it); and on a
standalone cluster (one master, two workers on loopback) in test_spark_cluster.py.

Run by scripts/python-test in the virtualenv of python/requirements-spark.txt, where
FEATC_REQUIRE_SPARK=1 makes a missing pyspark a failure, not a skip."""
import os
import pathlib
import sys

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import featc
from conftest import CASES, CASE_NAMES, EXAMPLES, assert_same_bits, cli_training_set, source_files

if os.environ.get("FEATC_REQUIRE_SPARK") == "1":
    import pyspark  # noqa: F401  (a failure here fails the run)
else:
    pytest.importorskip("pyspark")

import featc.spark  # noqa: E402


def spark_session(master: str):
    from pyspark.sql import SparkSession

    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    os.environ["PYSPARK_PYTHON"] = sys.executable
    return (
        SparkSession.builder.master(master)
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )


@pytest.fixture(scope="module")
def spark():
    # local[2, 4]: two cores, and a failed task retried up to 4 times, as on a cluster.
    session = spark_session("local[2,4]")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def collect(df) -> pa.Table:
    """A Spark DataFrame as an Arrow table, in its order."""
    batches = df._collect_as_arrow()
    return pa.Table.from_batches(batches) if batches else pa.Table.from_pylist([])


def like(actual: pa.Table, expected: pa.Table) -> pa.Table:
    """`actual`'s timestamps and lists in `expected`'s types: Spark hands timestamps
    out in its session zone (UTC here), the same microseconds, and a list as an array
    of nullable `element`s (featc writes non-null `item`s), the same values."""
    columns = []
    for name in expected.column_names:
        a, e = actual.column(name), expected.schema.field(name).type
        relabel = pa.types.is_timestamp(e) or pa.types.is_list(e)
        columns.append(a.cast(e) if relabel and a.type != e else a)
    return pa.Table.from_arrays(columns, names=expected.column_names)


def as_parquet(csv: pathlib.Path, out: pathlib.Path) -> pathlib.Path:
    """A CSV file as Parquet, its timestamps in microseconds (Spark 3.5 reads no
    nanosecond Parquet timestamps); the CLI reads the same file."""
    table = pacsv.read_csv(csv)
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.timestamp("us", tz=field.type.tz)))
    pq.write_table(table, out)
    return out


def inputs(name: str, tmp_path: pathlib.Path):
    """(project dir, spine Parquet, {source: Parquet}, training-set options) of a case
    or an example (whose CSV files are converted to Parquet first)."""
    if name in CASE_NAMES:
        case = CASES / name
        return case, case / "spine.parquet", source_files(case), {}
    folder = EXAMPLES / name
    data = folder / "data"
    spine = as_parquet(data / "spine.csv", tmp_path / "spine.parquet")
    sources = {p.stem: as_parquet(p, tmp_path / f"{p.stem}.parquet") for p in data.glob("*.csv") if p.stem != "spine"}
    options = {"service": "eta_v2"} if name == "delivery" else {}
    return folder, spine, sources, options


def expected_of(project_dir, spine, options, tmp_path, sources=None) -> pa.Table:
    """`featc training-set`'s output (the CLI), over the same Parquet files."""
    extra = []
    if "service" in options:
        extra += ["--service", options["service"]]
    for name, path in (sources or {}).items():
        extra += ["--source", f"{name}={path}"]
    return cli_training_set(project_dir, spine, tmp_path / "cli.parquet", *extra)


def run_spark(spark, project_dir, spine, sources, **options) -> pa.Table:
    frames = {n: spark.read.parquet(str(p)) for n, p in sources.items()}
    df = featc.spark.training_set(spark, featc.Project(project_dir), spark.read.parquet(str(spine)), frames, **options)
    return collect(df)


@pytest.mark.parametrize("name", CASE_NAMES + ["delivery", "fraud"])
def test_the_cases_and_examples_equal_the_cli_bit_for_bit(spark, name, tmp_path):
    project_dir, spine, sources, options = inputs(name, tmp_path)
    expected = expected_of(project_dir, spine, options, tmp_path, sources)
    ours = run_spark(spark, project_dir, spine, sources, **options)
    assert_same_bits(like(ours, expected), expected)


def test_count_windows_equal_the_cli_bit_for_bit(spark, tmp_path):
    """The delivery example's count windows (`over 10 events`, `over 30d max 50 events`,
    a list over `5 events exclusive`): each share's operator cuts ties at the same
    events as the CLI, however Spark splits and orders the rows."""
    project_dir, spine, sources, _ = inputs("delivery", tmp_path)
    features = ["minutes_avg_last10", "minutes_max_30d_50", "items_last5_before"]
    extra = ["--features", ",".join(features)]
    for name, path in sources.items():
        extra += ["--source", f"{name}={path}"]
    expected = cli_training_set(project_dir, spine, tmp_path / "cli.parquet", *extra)
    for shares in (1, 7):
        ours = run_spark(spark, project_dir, spine, sources, features=features, partitions=shares)
        assert_same_bits(like(ours, expected), expected)


def test_a_share_over_its_limit_fails_its_task_naming_the_limit(spark, tmp_path):
    """A Python worker holds a share whole: one over `share_limit` is refused before
    it is held, with a message that names the limit (no worker runs out of memory)."""
    project_dir, spine, sources, options = inputs("fraud", tmp_path)
    with pytest.raises(Exception, match=r"share_limit=2KiB"):
        run_spark(spark, project_dir, spine, sources, share_limit="2KiB", partitions=2)
    with pytest.raises(ValueError, match="unit"):
        run_spark(spark, project_dir, spine, sources, share_limit="2 parsecs")


def test_more_shares_than_keys_and_a_single_share(spark, tmp_path):
    project_dir, spine, sources, options = inputs("fraud", tmp_path)
    expected = expected_of(project_dir, spine, options, tmp_path, sources)
    users = pc.count_distinct(pq.read_table(spine).column("user_id")).as_py()
    for shares in (1, 4 * users):
        ours = run_spark(spark, project_dir, spine, sources, partitions=shares)
        assert_same_bits(like(ours, expected), expected)


def test_one_key_holding_most_events(spark, tmp_path):
    case = CASES / "marketplace"
    orders = pq.read_table(case / "orders.parquet")
    # Nine orders in ten go to buyer 1 and seller "s0".
    hot = pa.array([i % 10 != 0 for i in range(orders.num_rows)])
    buyer = pc.if_else(hot, pa.scalar(1, orders.schema.field("buyer_id").type), orders.column("buyer_id"))
    seller = pc.if_else(hot, pa.scalar("s0", pa.string()), orders.column("seller_id"))
    orders = orders.set_column(orders.schema.get_field_index("buyer_id"), "buyer_id", buyer)
    orders = orders.set_column(orders.schema.get_field_index("seller_id"), "seller_id", seller)
    skewed = tmp_path / "orders.parquet"
    pq.write_table(orders, skewed)
    sources = {"orders": skewed, "reviews": case / "reviews.parquet"}
    expected = expected_of(case, case / "spine.parquet", {}, tmp_path, sources)
    ours = run_spark(spark, case, case / "spine.parquet", sources, partitions=3)
    assert_same_bits(like(ours, expected), expected)


def test_a_task_killed_mid_run_is_retried_and_changes_nothing(spark, tmp_path):
    case = CASES / "synthetic"
    expected = expected_of(case, case / "spine.parquet", {}, tmp_path)
    marker = tmp_path / "killed"
    # The Python functions Spark builds from here on carry this environment to the
    # workers it starts for them.
    spark.sparkContext.environment["FEATC_SPARK_KILL_ONCE"] = str(marker)
    try:
        ours = run_spark(spark, case, case / "spine.parquet", source_files(case))
    finally:
        spark.sparkContext.environment.pop("FEATC_SPARK_KILL_ONCE", None)
    assert marker.exists(), "no task was killed: the test proved nothing"
    assert_same_bits(like(ours, expected), expected)


def test_a_missing_source_or_column_is_named(spark, tmp_path):
    case = CASES / "marketplace"
    spine = spark.read.parquet(str(case / "spine.parquet"))
    orders = spark.read.parquet(str(case / "orders.parquet"))
    with pytest.raises(featc.DataError, match="source `reviews`"):
        featc.spark.training_set(spark, featc.Project(case), spine, {"orders": orders})
    reviews = spark.read.parquet(str(case / "reviews.parquet")).drop("stars")
    with pytest.raises(featc.DataError, match="source `reviews`: column `stars` is missing"):
        featc.spark.training_set(spark, featc.Project(case), spine, {"orders": orders, "reviews": reviews})
    with pytest.raises(featc.DataError, match="spine has no column `ts`"):
        featc.spark.training_set(spark, featc.Project(case), spine.drop("ts"), {"orders": orders, "reviews": reviews})


def test_the_scale_out_page_example_runs(spark, monkeypatch):
    """docs/scale-out.md's `python` blocks, run from the repository's root."""
    import re

    root = CASES.parents[1]
    text = (root / "docs" / "scale-out.md").read_text()
    blocks = re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)
    assert blocks, "docs/scale-out.md has a python block"
    monkeypatch.chdir(root)
    for block in blocks:
        # Spark's JVM resolves relative paths against its own working directory (this
        # folder): the page's paths, relative to the repository, are made absolute.
        block = block.replace('"tests/cases/', f'"{root}/tests/cases/')
        exec(compile(block, "docs/scale-out.md", "exec"), {"__name__": "docs_scale_out"})
