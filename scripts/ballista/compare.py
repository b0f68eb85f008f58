"""Two training sets equal bit for bit: same schema (metadata too), same rows in the
same order, every cell the same bits (floats compared as their bit patterns, so NaN
and -0.0 count; nulls in the same places). Used by scripts/check-ballista.sh.

Usage: compare.py LOCAL CLUSTER (Parquet or CSV, by extension). Exits 1 with the
first difference."""

import sys

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as csv
import pyarrow.parquet as pq


def read(path):
    if path.endswith(".csv"):
        return csv.read_csv(path)
    return pq.read_table(path)


def same_bits(a, b):
    """Whether two arrays of one type hold the same bits in every valid cell."""
    if a.type != b.type or len(a) != len(b) or not a.is_null().equals(b.is_null()):
        return False
    t = a.type
    if pa.types.is_floating(t):
        as_int = {16: pa.int16(), 32: pa.int32(), 64: pa.int64()}[t.bit_width]
        return a.view(as_int).equals(b.view(as_int))
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return pc.list_value_length(a).equals(pc.list_value_length(b)) and same_bits(
            pc.list_flatten(a), pc.list_flatten(b)
        )
    return a.equals(b)


def main():
    local, cluster = read(sys.argv[1]), read(sys.argv[2])
    if not local.schema.equals(cluster.schema, check_metadata=True):
        sys.exit(f"schemas differ:\n{local.schema}\n---\n{cluster.schema}")
    if local.num_rows != cluster.num_rows:
        sys.exit(f"{cluster.num_rows} rows, the local run has {local.num_rows}")
    for name in local.column_names:
        a = local.column(name).combine_chunks()
        b = cluster.column(name).combine_chunks()
        if not same_bits(a, b):
            rows = [i for i in range(len(a)) if not same_bits(a.slice(i, 1), b.slice(i, 1))]
            sys.exit(f"column {name} differs at rows {rows[:5]} (of {len(rows)})")
    print(f"{local.num_rows} rows, {local.num_columns} columns: identical")


if __name__ == "__main__":
    main()
