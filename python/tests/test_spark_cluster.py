"""`featc.spark.training_set` on a Spark standalone cluster started here on loopback
(one master, two workers with one core each, from the pyspark wheel's own
`bin/spark-class`), stopped at the end: the executors' Python workers run featc's
wheel, and the result equals `featc training-set`'s bit for bit.

The driver runs in a process of its own (a SparkSession is one per process, and the
other tests hold a local one)."""
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pyarrow as pa
import pyarrow.ipc as ipc
import pytest

from conftest import CASES, assert_same_bits, cli_training_set, source_files

if os.environ.get("FEATC_REQUIRE_SPARK") == "1":
    import pyspark
else:
    pyspark = pytest.importorskip("pyspark")

from test_spark import like  # noqa: E402

DRIVER = """
import os, sys, json
import pyarrow as pa, pyarrow.ipc as ipc
from pyspark.sql import SparkSession
import featc, featc.spark
master, case, sources, out = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
spark = (SparkSession.builder.master(master).config("spark.ui.enabled", "false")
         .config("spark.driver.host", "127.0.0.1").config("spark.sql.session.timeZone", "UTC")
         .config("spark.executor.memory", "768m").config("spark.sql.shuffle.partitions", "6")
         .getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
frames = {n: spark.read.parquet(p) for n, p in sources.items()}
df = featc.spark.training_set(spark, featc.Project(case), spark.read.parquet(os.path.join(case, "spine.parquet")), frames)
table = pa.Table.from_batches(df._collect_as_arrow())
# Executors that ran the job (the driver's own block manager is listed too).
executors = spark.sparkContext._jsc.sc().getExecutorMemoryStatus().size() - 1
with ipc.new_file(out, table.schema) as w:
    w.write_table(table)
print(json.dumps({"executors": executors}))
spark.stop()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    home = pathlib.Path(pyspark.__file__).parent
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}
    work = tmp_path_factory.mktemp("spark-cluster")
    port, ui = free_port(), free_port()
    master = f"spark://127.0.0.1:{port}"
    spark_class = str(home / "bin" / "spark-class")
    logs = []
    procs = []

    def start(name, *args):
        log = open(work / f"{name}.log", "w")
        logs.append(log)
        procs.append(
            subprocess.Popen([spark_class, *args], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        )

    try:
        start("master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port), "--webui-port", str(ui))
        for i in range(2):
            start(
                f"worker{i}",
                "org.apache.spark.deploy.worker.Worker", master, "--host", "127.0.0.1", "--cores", "1",
                "--memory", "1g", "--webui-port", str(free_port()), "--work-dir", str(work / f"work{i}"),
            )
        deadline = time.monotonic() + 90
        alive = 0
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{ui}/json/", timeout=2) as r:
                    alive = sum(1 for w in json.load(r).get("workers", []) if w.get("state") == "ALIVE")
            except OSError:
                alive = 0
            if alive == 2:
                break
            time.sleep(0.5)
        assert alive == 2, "the cluster's two workers did not register: " + (work / "master.log").read_text()[-2000:]
        yield master
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        for log in logs:
            log.close()


@pytest.mark.parametrize("name", ["marketplace", "synthetic"])
def test_a_standalone_cluster_gives_the_cli_bits(cluster, name, tmp_path):
    case = CASES / name
    sources = {n: str(p) for n, p in source_files(case).items()}
    out = tmp_path / "spark.arrow"
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, cluster, str(case), json.dumps(sources), str(out)],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert json.loads(done.stdout.strip().splitlines()[-1])["executors"] == 2, done.stdout
    with ipc.open_file(out) as f:
        ours = f.read_all()
    expected = cli_training_set(case, case / "spine.parquet", tmp_path / "cli.parquet")
    assert_same_bits(like(ours, expected), expected)
