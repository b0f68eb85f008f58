"""Delta tables for cli/tests/cli_delta.rs, written and read by the reference Python
library (`deltalake`, pinned in scripts/services/requirements.txt).

    python cli_delta.py history SOURCE.parquet TABLE COPIES
        Writes TABLE (a folder, or s3://bucket/prefix with the AWS_* environment) as
        three versions of SOURCE's rows: 0, the first half without the `express`
        column; 1, the second half appended with it (a nullable column added: the
        first half reads it as null); 2, a delete of every fifth order. Writes
        COPIES/v0.parquet, v1.parquet, v2.parquet: what each version holds, as
        `to_pyarrow_table()` reads it at that version.
    python cli_delta.py table SOURCE.parquet TABLE
        Writes TABLE as one version holding SOURCE's rows in their order.
    python cli_delta.py read TABLE PARQUET
        Prints, as JSON, TABLE's version, whether its rows equal PARQUET's (the same
        columns and values in the same order), and the featc entry of its last
        commit.
"""

import json
import os
import sys

import pyarrow.parquet as pq
from deltalake import DeltaTable, write_deltalake


def storage_options(table):
    """The S3 settings of the AWS_* environment, for an s3:// table (delta-rs's Python
    binding does not read AWS_ENDPOINT_URL itself)."""
    if not table.startswith("s3://"):
        return None
    return {
        "AWS_ACCESS_KEY_ID": os.environ["AWS_ACCESS_KEY_ID"],
        "AWS_SECRET_ACCESS_KEY": os.environ["AWS_SECRET_ACCESS_KEY"],
        "AWS_REGION": os.environ.get("AWS_REGION", "us-east-1"),
        "AWS_ENDPOINT_URL": os.environ["AWS_ENDPOINT_URL"],
        "AWS_ALLOW_HTTP": "true",
        # One writer at a time here: no lock table is needed to commit.
        "AWS_S3_ALLOW_UNSAFE_RENAME": "true",
    }


def history(source, table, copies):
    rows = pq.read_table(source)
    half = rows.num_rows // 2
    options = storage_options(table)
    first = rows.slice(0, half).drop_columns(["express"])
    write_deltalake(table, first, storage_options=options)
    write_deltalake(
        table,
        rows.slice(half),
        mode="append",
        schema_mode="merge",
        storage_options=options,
    )
    DeltaTable(table, storage_options=options).delete("order_id % 5 = 0")
    os.makedirs(copies, exist_ok=True)
    for version in range(3):
        held = DeltaTable(table, version=version, storage_options=options)
        pq.write_table(held.to_pyarrow_table(), os.path.join(copies, f"v{version}.parquet"))


def table(source, target):
    write_deltalake(target, pq.read_table(source), storage_options=storage_options(target))


def read(table, parquet):
    options = storage_options(table)
    held = DeltaTable(table, storage_options=options)
    read_back = held.to_pyarrow_table()
    expected = pq.read_table(parquet)
    expected = expected.replace_schema_metadata(None)
    # The same columns and values; the types as Parquet stores them (Delta's reader
    # may hand strings over in another Arrow layout).
    same = read_back.schema.names == expected.schema.names and read_back.cast(
        expected.schema
    ).equals(expected)
    last = held.history(1)[0]
    print(
        json.dumps(
            {
                "version": held.version(),
                "rows": read_back.num_rows,
                "equal": same,
                "operation": last.get("operation"),
                "featc": last.get("featc.source_versions"),
            }
        )
    )


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    {"history": history, "table": table, "read": read}[command](*args)
