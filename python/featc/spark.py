"""`featc.spark`: featc's training sets computed inside Spark's executors.

Spark does what it is good at: reading the user's tables, shuffling the spine rows and
the events by entity key, retrying failed tasks. featc does the rest: in each
partition, the rows and events of its keys go through featc's own point-in-time
operator (the code of `Project.training_set`, the same wheel on every executor); the
passes' columns meet again by spine row, derived features are computed by featc's
evaluator, and the rows come back in spine order. The result equals `featc
training-set` bit for bit.

A pass is one entity's aggregations (`Project._inner.entity_passes`): its spine rows
and the events of the sources it reads are tagged, unioned, hash-partitioned by the
entity's key (cast to its declared type, so equal keys meet whatever types the inputs
had) and handed to featc partition by partition (`mapInArrow`). A partition holds
every event of its keys in one Python worker's memory: choose `partitions` so that
the largest fits (one key's events never split).

The spine's row order is its order as read (`monotonically_increasing_id`): give a
spine read from files, or one Spark computes the same way every time.
"""
import hashlib
import os
import tempfile
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import pyarrow as pa

from ._inputs import feature_names
from .errors import DataError
from .project import Project

ROW = "__featc_row"
TAG = "__featc_tag"

_PROJECTS: Dict[str, Project] = {}

_SPARK_TYPES = {
    "int64": "bigint",
    "float64": "double",
    "string": "string",
    "bool": "boolean",
    "timestamp": "timestamp",
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
    task, and `memory_limit`)."""
    from pyspark.sql import functions as F

    if service is not None and features is not None:
        raise TypeError("training_set: give service or features, not both")
    project = project if isinstance(project, Project) else Project(project)
    names = feature_names(features)
    passes = project._inner.entity_passes(service, names)
    shares = int(partitions or spark.conf.get("spark.sql.shuffle.partitions"))
    if shares < 1:
        raise ValueError("training_set: partitions must be at least 1")
    for entity, _, reads, _ in passes:
        for name, _, _ in reads:
            if name not in sources:
                raise DataError(
                    f"featc.spark.training_set: no DataFrame for source `{name}`, which features of entity `{entity}` read"
                )
    texts = _project_texts(project)
    declared = {s["name"]: s for s in project.catalog()["sources"]}
    frames = {name: _frame(spark, name, data) for name, data in sources.items()}
    _check_columns(spine, "spine", [spine_time] + [k for p in passes for k, _ in p[1]])

    spine_rows = spine.withColumn(ROW, F.monotonically_increasing_id())
    arrow_of = _output_types(project, spine, frames, passes, service, names, spine_time)
    options = {"partitions": task_partitions, "memory_limit": memory_limit}

    if len(passes) == 1:
        # One entity: its pass carries the spine's columns and computes every output
        # (derived features included), with no join back.
        entity, keys, reads, aggregated = passes[0]
        whole = _Pass(entity, keys, reads, aggregated, spine.columns, service, names, arrow_of["outputs"])
        computed = _run_pass(texts, whole, spine_rows, frames, declared, spine_time, shares, options)
        # The sort samples its input in a job of its own: behind a shuffle, that job
        # and the sort both read the pass's shuffle output instead of running the
        # pass twice.
        return computed.repartition(shares, ROW).orderBy(ROW).drop(ROW)

    joined = spine_rows
    for entity, keys, reads, aggregated in passes:
        types = arrow_of["passes"][entity, tuple(aggregated)]
        fields = [pa.field(n, t) for n, t in zip(aggregated, types)]
        one = _Pass(entity, keys, reads, aggregated, [], None, aggregated, fields)
        joined = joined.join(_run_pass(texts, one, spine_rows, frames, declared, spine_time, shares, options), ROW, "left")

    spine_columns = spine.columns
    outputs = arrow_of["outputs"]
    out_schema = _spark_schema(spine_rows.select(*spine_columns, ROW).schema, outputs)
    aggregated_types = {n: t for p in passes for n, t in zip(p[3], arrow_of["passes"][p[0], tuple(p[3])])}

    def assemble(batches):
        inner = _compiled(texts)._inner
        for batch in batches:
            if batch.num_rows == 0:
                continue
            table = pa.Table.from_batches([batch])
            for name, ty in aggregated_types.items():
                at = table.schema.get_field_index(name)
                table = table.set_column(at, name, table.column(name).cast(ty))
            done = inner.assemble_outputs(table, service, names, spine_time)
            columns = [table.column(c) for c in spine_columns + [ROW]]
            columns += [_to_spark_array(done.column(i)) for i in range(done.num_columns)]
            names_out = spine_columns + [ROW] + [f.name for f in outputs]
            for b in pa.Table.from_arrays(columns, names=names_out).to_batches():
                yield b

    return joined.mapInArrow(assemble, out_schema).orderBy(ROW).drop(ROW)


class _Pass:
    """What one pass computes: `aggregated` (the entity's aggregations, which decide
    the sources it reads) and its output: `carried` spine columns, then the features
    `service`/`features` name, of Arrow fields `outputs`."""

    def __init__(self, entity, keys, reads, aggregated, carried, service, features, outputs):
        self.entity, self.keys, self.reads, self.aggregated = entity, keys, reads, aggregated
        self.carried, self.service, self.features, self.outputs = carried, service, features, outputs


def _run_pass(texts, one: "_Pass", spine_rows, frames, declared, spine_time, shares, options):
    """One pass, by spine row: ROW, the carried spine columns, its outputs."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    key_names = [k for k, _ in one.keys]
    key_types = [_SPARK_TYPES[t] for _, t in one.keys]
    canonical = [f"__featc_k{j}" for j in range(len(one.keys))]
    # Each input's columns side by side, prefixed `s<tag>__`: the spine's (row, key,
    # time, and the carried columns), then each source's declared columns. A row
    # fills its own input's columns; the others are null.
    if one.carried:
        spine_exprs = [F.col(ROW)] + [F.col(c) for c in one.carried]
    else:
        spine_exprs = [F.col(ROW)] + [F.col(k).cast(t).alias(k) for k, t in zip(key_names, key_types)] + [F.col(spine_time)]
    inputs = [("spine", spine_rows, spine_exprs, [F.col(k).cast(t) for k, t in zip(key_names, key_types)])]
    for name, time_column, key_columns in one.reads:
        frame = frames[name]
        columns = [c["name"] for c in declared[name]["columns"]]
        wanted = [time_column] + [c for c in columns if c != time_column]
        _check_columns(frame, f"source `{name}`", wanted)
        inputs.append((name, frame, [F.col(c) for c in wanted], [F.col(c).cast(t) for c, t in zip(key_columns, key_types)]))
    layouts = [frame.select(*exprs).schema for _, frame, exprs, _ in inputs]

    def tagged(tag, frame, exprs):
        columns = []
        for j, layout in enumerate(layouts):
            for k, field in enumerate(layout.fields):
                value = exprs[k] if j == tag else F.lit(None).cast(field.dataType)
                columns.append(value.alias(f"s{j}__{field.name}"))
        keys = [e.alias(c) for e, c in zip(inputs[tag][3], canonical)]
        return frame.select(F.lit(tag).alias(TAG), *keys, *columns)

    union = None
    for tag, (_, frame, exprs, _) in enumerate(inputs):
        part = tagged(tag, frame, exprs)
        union = part if union is None else union.unionByName(part)

    carried = [f for f in spine_rows.schema.fields if f.name in one.carried]
    schema = T.StructType(
        [T.StructField(ROW, T.LongType(), False)]
        + list(carried)
        + [T.StructField(f.name, _spark_type(f.type), True) for f in one.outputs]
    )
    names_in = [[f.name for f in layout.fields] for layout in layouts]
    # What the workers need, and nothing of the driver's (DataFrames do not pickle).
    source_names = [name for name, _, _, _ in inputs[1:]]
    service, features, n_outputs, carried_names = one.service, one.features, len(one.outputs), list(one.carried)

    def compute(batches):
        import pyarrow.compute as pc

        batches = list(batches)
        if not batches:
            return
        table = pa.Table.from_batches(batches)
        tag = table.column(TAG)

        def of(j):
            rows = table.filter(pc.equal(tag, j))
            return pa.Table.from_arrays([rows.column(f"s{j}__{n}") for n in names_in[j]], names=names_in[j])

        spine_part = of(0)
        if spine_part.num_rows == 0:
            return
        _fault_point()
        sources = {name: of(j) for j, name in enumerate(source_names, start=1)}
        done = _compiled(texts).training_set(
            spine_part,
            service=service,
            features=None if service is not None else features,
            sources=sources,
            spine_time=spine_time,
            progress=False,
            partitions=options["partitions"],
            memory_limit=options["memory_limit"],
        )
        first = done.num_columns - n_outputs
        out = [done.column(ROW)] + [done.column(c) for c in carried_names]
        out += [_to_spark_array(done.column(i)) for i in range(first, done.num_columns)]
        for b in pa.Table.from_arrays(out, names=schema.names).to_batches():
            yield b

    return union.repartition(shares, *[F.col(c) for c in canonical]).mapInArrow(compute, schema)


def _fault_point() -> None:
    """Fault injection for the tests: with FEATC_SPARK_KILL_ONCE naming a file that
    does not exist yet, the first task to get here creates it and kills its own
    Python worker, as a lost executor process would; Spark retries the task."""
    marker = os.environ.get("FEATC_SPARK_KILL_ONCE")
    if not marker:
        return
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    os.close(fd)
    import signal

    os.kill(os.getpid(), signal.SIGKILL)


def _frame(spark, name, data):
    if isinstance(data, (str, os.PathLike)):
        return spark.read.parquet(os.fspath(data))
    if not hasattr(data, "mapInArrow"):
        raise TypeError(f"featc.spark.training_set: source `{name}` must be a Spark DataFrame or a path, not {type(data).__name__}")
    return data


def _check_columns(frame, what: str, columns: Sequence[str]) -> None:
    have = set(frame.columns)
    missing = [c for c in columns if c not in have]
    if missing:
        raise DataError(
            f"featc.spark.training_set: {what} has no column `{missing[0]}` (it has: {', '.join(frame.columns)})"
        )


def _output_types(project, spine, frames, passes, service, names, spine_time):
    """The Arrow types of the outputs and of each pass's aggregations: featc run on the
    driver over empty inputs of the given schemas (what a share's run gives)."""
    from pyspark.sql.pandas.types import to_arrow_schema

    spine_empty = to_arrow_schema(spine.schema).empty_table()
    empty = {name: to_arrow_schema(frame.schema).empty_table() for name, frame in frames.items()}

    def run(features, service=None, reads=None):
        wanted = {r[0] for p in passes for r in p[2]} if reads is None else {r[0] for r in reads}
        sources = {n: t for n, t in empty.items() if n in wanted}
        return project.training_set(
            spine_empty, service=service, features=features, sources=sources, spine_time=spine_time, progress=False
        ).schema

    full = run(names, service)
    outputs = [full.field(i) for i in range(spine_empty.num_columns, len(full))]
    by_pass = {}
    for entity, _, reads, aggregated in passes:
        schema = run(aggregated, reads=reads)
        by_pass[entity, tuple(aggregated)] = [schema.field(n).type for n in aggregated]
    return {"outputs": outputs, "passes": by_pass}


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


def _project_texts(project: Project) -> Dict[str, str]:
    """The project's `.feat` files by path relative to their common folder."""
    paths = [os.path.abspath(p) for p in project.files]
    base = os.path.commonpath([os.path.dirname(p) for p in paths])
    texts = {}
    for p in paths:
        with open(p, encoding="utf-8") as f:
            texts[os.path.relpath(p, base)] = f.read()
    return texts


def _compiled(texts: Dict[str, str]) -> Project:
    """The project of `texts`, compiled once per Python worker."""
    digest = hashlib.sha256(repr(sorted(texts.items())).encode()).hexdigest()
    project = _PROJECTS.get(digest)
    if project is None:
        folder = os.path.join(tempfile.gettempdir(), f"featc-spark-{digest[:16]}")
        for rel, text in texts.items():
            path = os.path.join(folder, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path + ".part", "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(path + ".part", path)
        project = Project(folder)
        _PROJECTS[digest] = project
    return project
