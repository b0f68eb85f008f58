"""`featc.spark`: featc's training sets computed inside Spark's executors.

Spark does what it is good at: reading the user's tables, shuffling the spine rows and
the events by entity key, retrying failed tasks. featc does the rest: in each
partition, the rows and events of its keys go through featc's own point-in-time
operator (the code of `Project.training_set`, the same wheel on every executor); the
passes' columns meet again by spine row, derived features are computed by featc's
evaluator, and the rows come back in spine order. The result equals `featc
training-set` bit for bit. The share logic is engine-free (`featc._shares`).

A partition holds every event of its keys in one Python worker's memory: choose
`partitions` so that the largest fits (one key's events never split). The spine's row
order is its order as read (`monotonically_increasing_id`): give a spine read from
files, or one Spark computes the same way every time.
"""
import os
from typing import Any, Mapping, Optional, Sequence, Union

import pyarrow as pa

from . import _featc, _shares
from ._inputs import feature_names
from ._shares import ROW, TAG
from .project import Project

_SPARK_TYPES = {
    "int64": "bigint",
    "float64": "double",
    "string": "string",
    "bool": "boolean",
    "timestamp": "timestamp",
    "date": "date",
}


def training_set(
    spark: Any,
    project: Union[Project, str, "os.PathLike[str]"],
    spine: Any,
    sources: Mapping[str, Any],
    service: Optional[str] = None,
    features: Union[None, str, Sequence[str]] = None,
    *,
    spine_time: str = "ts",
    partitions: Optional[int] = None,
    task_partitions: int = 1,
    memory_limit: Union[None, int, str] = None,
    share_limit: Union[None, int, str] = "2GiB",
) -> Any:
    """The point-in-time training set of the Spark DataFrame `spine`, as a Spark
    DataFrame: the spine's columns unchanged, then one column per feature, rows in
    spine order, values equal to `featc training-set`'s bit for bit.

    `project`: a `featc.Project` or the path of its `.feat` files (read on the
    driver; executors get their text). `sources`: each source a requested feature
    reads, by name, as a Spark DataFrame (or a path Spark reads as Parquet).
    `service` or `features` choose the features, as in `Project.training_set`.
    `partitions`: how many shares the rows are shuffled into (default
    `spark.sql.shuffle.partitions`). `task_partitions` and `memory_limit` are featc's
    own inside one task (its `partitions`, default 1 so that one Spark core runs one
    task, and `memory_limit`). `share_limit` (bytes, or a size such as "2GiB"; None:
    none): the most Arrow bytes of rows one share may bring to its Python worker,
    which holds a share whole; a share that would pass it fails its task with a
    `MemoryError` naming the limit, before it is held (a key's rows are never split,
    so a hot key needs a higher limit and a worker with that much memory)."""
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import to_arrow_schema

    if service is not None and features is not None:
        raise TypeError("training_set: give service or features, not both")
    project = project if isinstance(project, Project) else Project(project)
    names = feature_names(features)
    passes = _shares.passes_of(project, service, names, sources)
    shares = int(partitions or spark.conf.get("spark.sql.shuffle.partitions"))
    if shares < 1:
        raise ValueError("training_set: partitions must be at least 1")
    texts = _shares.project_texts(project)
    declared = _shares.source_columns(project)
    frames = {name: _frame(spark, name, data) for name, data in sources.items()}
    _shares.check_columns(spine.columns, "spine", [spine_time] + [k for p in passes for k, _ in p[1]])

    spine_rows = spine.withColumn(ROW, F.monotonically_increasing_id())
    outputs, by_pass = _shares.output_types(
        project,
        to_arrow_schema(spine.schema),
        {n: to_arrow_schema(f.schema) for n, f in frames.items()},
        passes,
        service,
        names,
        spine_time,
    )
    options = {"partitions": task_partitions, "memory_limit": memory_limit}
    if share_limit is not None:
        options["share_limit"] = (str(share_limit), _featc.parse_size(str(share_limit)))

    if len(passes) == 1:
        # One entity: its pass carries the spine's columns and computes every output
        # (derived features included), with no join back.
        entity, keys, reads, aggregated = passes[0]
        whole = _shares.Pass(entity, keys, reads, aggregated, spine.columns, service, names, outputs)
        computed = _run_pass(declared, texts, whole, spine_rows, frames, spine_time, shares, options)
        # The sort samples its input in a job of its own: behind a shuffle, that job
        # and the sort both read the pass's shuffle output instead of running the
        # pass twice.
        return computed.repartition(shares, ROW).orderBy(ROW).drop(ROW)

    joined = spine_rows
    for entity, keys, reads, aggregated in passes:
        fields = [pa.field(n, t) for n, t in zip(aggregated, by_pass[entity, tuple(aggregated)])]
        one = _shares.Pass(entity, keys, reads, aggregated, [], None, aggregated, fields)
        computed = _run_pass(declared, texts, one, spine_rows, frames, spine_time, shares, options)
        joined = joined.join(computed, ROW, "left")

    spine_columns = spine.columns
    out_schema = _spark_schema(spine_rows.select(*spine_columns, ROW).schema, outputs)
    aggregated_types = {n: t for p in passes for n, t in zip(p[3], by_pass[p[0], tuple(p[3])])}
    assembly = _shares.Assembly(texts, aggregated_types, service, names, spine_time)

    def assemble(batches):
        for batch in batches:
            if batch.num_rows == 0:
                continue
            table = pa.Table.from_batches([batch])
            done = assembly.outputs(table)
            columns = [table.column(c) for c in spine_columns + [ROW]]
            columns += [_to_spark_array(done.column(i)) for i in range(done.num_columns)]
            yield from pa.Table.from_arrays(columns, names=out_schema.names).to_batches()

    return joined.mapInArrow(assemble, out_schema).orderBy(ROW).drop(ROW)


def _run_pass(declared, texts, one: _shares.Pass, spine_rows, frames, spine_time, shares, options):
    """One pass, by spine row: ROW, the carried spine columns, its outputs."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    key_names = [k for k, _ in one.keys]
    key_types = [_SPARK_TYPES[t] for _, t in one.keys]
    canonical = _shares.key_columns(len(one.keys))
    if one.carried:
        spine_exprs = [F.col(ROW)] + [F.col(c) for c in one.carried]
    else:
        spine_exprs = [F.col(ROW)] + [F.col(k).cast(t).alias(k) for k, t in zip(key_names, key_types)] + [F.col(spine_time)]
    inputs = [(spine_rows, spine_exprs, [F.col(k).cast(t) for k, t in zip(key_names, key_types)])]
    for name, _, key_columns in one.reads:
        frame = frames[name]
        wanted = declared[name]
        _shares.check_columns(frame.columns, f"source `{name}`", wanted)
        inputs.append((frame, [F.col(c) for c in wanted], [F.col(c).cast(t) for c, t in zip(key_columns, key_types)]))
    layouts = [frame.select(*exprs).schema for frame, exprs, _ in inputs]

    def tagged(tag, frame, exprs, key_exprs):
        columns = []
        for j, layout in enumerate(layouts):
            for k, field in enumerate(layout.fields):
                value = exprs[k] if j == tag else F.lit(None).cast(field.dataType)
                columns.append(value.alias(_shares.prefixed(j, field.name)))
        keys = [e.alias(c) for e, c in zip(key_exprs, canonical)]
        return frame.select(F.lit(tag).alias(TAG), *keys, *columns)

    union = None
    for tag, (frame, exprs, key_exprs) in enumerate(inputs):
        part = tagged(tag, frame, exprs, key_exprs)
        union = part if union is None else union.unionByName(part)

    carried = [f for f in spine_rows.schema.fields if f.name in one.carried]
    schema = T.StructType(
        [T.StructField(ROW, T.LongType(), False)]
        + list(carried)
        + [T.StructField(f.name, _spark_type(f.type), True) for f in one.outputs]
    )
    # What the workers need, and nothing of the driver's (DataFrames do not pickle).
    share = _shares.Share(texts, one, [[f.name for f in layout.fields] for layout in layouts], spine_time, options)

    def compute(batches):
        done = share.compute(batches)
        if done is None:
            return
        columns = [_to_spark_array(c) for c in done.columns]
        yield from pa.Table.from_arrays(columns, names=schema.names).to_batches()

    return union.repartition(shares, *[F.col(c) for c in canonical]).mapInArrow(compute, schema)


def _frame(spark, name, data):
    if isinstance(data, (str, os.PathLike)):
        return spark.read.parquet(os.fspath(data))
    if not hasattr(data, "mapInArrow"):
        raise TypeError(f"featc.spark.training_set: source `{name}` must be a Spark DataFrame or a path, not {type(data).__name__}")
    return data


def _arrow_for_spark(t: pa.DataType) -> pa.DataType:
    """Spark's Arrow form of a featc type: timestamps in UTC (Spark's TimestampType)."""
    if pa.types.is_timestamp(t):
        return pa.timestamp("us", tz="UTC")
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return pa.list_(_arrow_for_spark(t.value_type))
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, _arrow_for_spark(f.type), True) for f in t])
    return t


def _to_spark_array(column):
    return column.cast(_arrow_for_spark(column.type))


def _spark_type(t: pa.DataType):
    from pyspark.sql.pandas.types import from_arrow_type

    return from_arrow_type(_arrow_for_spark(t))


def _spark_schema(spine_schema, outputs):
    from pyspark.sql import types as T

    return T.StructType(list(spine_schema.fields) + [T.StructField(f.name, _spark_type(f.type), True) for f in outputs])
