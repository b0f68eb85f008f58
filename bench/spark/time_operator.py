"""Times featc.spark.training_set on Spark local[N] over bench data (bench/spark.sh).

Prints one line per run, "featc.spark: <seconds>s <rows> rows", the seconds from
building the query to the last output row written as Parquet (Spark's session start
excluded, reading the inputs included), then where the time went: Spark's stages with
their wall time and summed task time (from Spark's own REST API on loopback), and
the output's agreement with featc training-set's file, checked bit for bit.
"""
import argparse
import json
import os
import sys
import time
import urllib.request

import pyarrow as pa
import pyarrow.parquet as pq


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True, help="folder with events.parquet, spine.parquet, featc.parquet")
    ap.add_argument("--case", required=True)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--partitions", type=int, default=8)
    ap.add_argument("--memory", default="6g")
    args = ap.parse_args()

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_SUBMIT_ARGS"] = f"--driver-memory {args.memory} pyspark-shell"
    from pyspark.sql import SparkSession

    import featc
    import featc.spark

    spark = (
        SparkSession.builder.master(f"local[{args.cores}]")
        .config("spark.ui.enabled", "true")
        .config("spark.ui.port", "0")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(args.partitions))
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    out = os.path.join(args.data, "spark_operator.parquet")
    started = time.perf_counter()
    df = featc.spark.training_set(
        spark,
        featc.Project(args.case),
        spark.read.parquet(os.path.join(args.data, "spine.parquet")),
        {"events": spark.read.parquet(os.path.join(args.data, "events.parquet"))},
    )
    df.write.mode("overwrite").parquet(out)
    secs = time.perf_counter() - started
    table = pq.read_table(out)
    print(f"featc.spark: {secs:.2f}s {table.num_rows} rows")

    ui = spark.sparkContext.uiWebUrl.replace(spark.sparkContext.uiWebUrl.split("//")[1].split(":")[0], "127.0.0.1")
    app = spark.sparkContext.applicationId
    with urllib.request.urlopen(f"{ui}/api/v1/applications/{app}/stages?details=false", timeout=10) as r:
        stages = json.load(r)
    for s in sorted(stages, key=lambda s: s["stageId"]):
        if s.get("status") != "COMPLETE":
            continue
        wall = 0.0
        if s.get("submissionTime") and s.get("completionTime"):
            from datetime import datetime

            fmt = "%Y-%m-%dT%H:%M:%S.%f%Z"
            t0 = datetime.strptime(s["submissionTime"].replace("GMT", "UTC"), fmt)
            t1 = datetime.strptime(s["completionTime"].replace("GMT", "UTC"), fmt)
            wall = (t1 - t0).total_seconds()
        print(
            f"  stage {s['stageId']:>3} {wall:7.2f}s wall {s['executorRunTime'] / 1000:7.2f}s tasks "
            f"{s['numTasks']:>3} tasks  shuffle write {s['shuffleWriteBytes'] / 2**20:8.1f} MiB  "
            f"{s['name'][:60]}"
        )
    spark.stop()

    expected = pq.read_table(os.path.join(args.data, "featc.parquet"))
    got = pa.Table.from_arrays(
        [table.column(n).cast(expected.schema.field(n).type) for n in expected.column_names],
        names=expected.column_names,
    )
    same = got.equals(expected)
    print(f"agree with featc training-set: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
