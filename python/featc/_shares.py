"""A training set computed share by share, for engines that shuffle rows by key
(`featc.spark`, `featc.dask`): what each engine's workers run on one share's Arrow
rows, and what the driver prepares for them. Engine-free: the engines only move rows.

A pass is one entity's aggregations (`Project._inner.entity_passes`). Its inputs, the
spine's rows and the events of each source it reads, travel as one table: a tag
column (0 the spine, `j` the j-th source), the key cast to its declared type
(`__featc_k<i>`, what the engine partitions by), and each input's columns side by side,
prefixed `s<tag>__`, null in the other inputs' rows. A share holds every row of its
keys, so featc's own operator over it gives those spine rows their exact values.
"""
import hashlib
import os
import tempfile
from typing import Any, Dict, List, Optional, Sequence

import pyarrow as pa

from .errors import DataError
from .project import Project

ROW = "__featc_row"
TAG = "__featc_tag"

_PROJECTS: Dict[str, Project] = {}


def key_columns(n: int) -> List[str]:
    """The names of a pass's partitioning key columns."""
    return [f"__featc_k{i}" for i in range(n)]


def prefixed(tag: int, column: str) -> str:
    return f"s{tag}__{column}"


class Pass:
    """What one pass computes: `aggregated` (the entity's aggregations, which decide
    the sources it reads, `reads`: (source, time column, key columns)) and its output:
    ROW, the `carried` spine columns, then the features `service`/`features` name,
    of Arrow fields `outputs`."""

    def __init__(self, entity, keys, reads, aggregated, carried, service, features, outputs):
        self.entity, self.keys, self.reads, self.aggregated = entity, keys, reads, aggregated
        self.carried, self.service, self.features, self.outputs = carried, service, features, list(outputs)


def held(batches, limit) -> List[pa.RecordBatch]:
    """A share's batches, held: refused with a `MemoryError` as soon as they pass
    `limit` (`(text, bytes)`, or None), before the next one is kept."""
    kept, total = [], 0
    for batch in batches:
        total += batch.nbytes
        if limit is not None and total > limit[1]:
            raise MemoryError(
                f"featc.spark: one share holds more than share_limit={limit[0]} of rows "
                f"({total} bytes so far): a key's events and spine rows are never split, so "
                "raise share_limit (and the Python workers' memory) or split the spine"
            )
        kept.append(batch)
    return kept


class Share:
    """What a worker needs to compute one pass's shares (picklable: no engine
    objects): the project's text, the inputs' column names (`columns[tag]`), the
    sources by tag, and the pass's output."""

    def __init__(self, texts, one: Pass, columns: Sequence[Sequence[str]], spine_time: str, options: Dict[str, Any]):
        self.texts = texts
        self.columns = [list(c) for c in columns]
        self.sources = [name for name, _, _ in one.reads]
        self.service, self.features = one.service, one.features
        self.carried = list(one.carried)
        self.n_outputs = len(one.outputs)
        self.spine_time = spine_time
        self.options = options

    def compute(self, batches) -> Optional[pa.Table]:
        """One share's rows (Arrow batches of the tagged layout, held within the
        options' `share_limit`) to (ROW, carried columns, outputs) in featc's types, or
        None when the share holds no spine row."""
        import pyarrow.compute as pc

        kept = held(batches, self.options.get("share_limit"))
        if not kept:
            return None
        table = pa.Table.from_batches(kept)
        tag = table.column(TAG)

        def of(j):
            rows = table.filter(pc.equal(tag, j))
            return pa.Table.from_arrays([rows.column(prefixed(j, n)) for n in self.columns[j]], names=self.columns[j])

        spine = of(0)
        if spine.num_rows == 0:
            return None
        fault_point()
        done = compiled(self.texts).training_set(
            spine,
            service=self.service,
            features=None if self.service is not None else self.features,
            sources={name: of(j) for j, name in enumerate(self.sources, start=1)},
            spine_time=self.spine_time,
            progress=False,
            partitions=self.options.get("partitions"),
            memory_limit=self.options.get("memory_limit"),
        )
        first = done.num_columns - self.n_outputs
        columns = [done.column(ROW)] + [done.column(c) for c in self.carried]
        columns += [done.column(i) for i in range(first, done.num_columns)]
        names = [ROW] + self.carried + [done.schema.field(i).name for i in range(first, done.num_columns)]
        return pa.Table.from_arrays(columns, names=names)


class Assembly:
    """The last step of a project of several passes: the spine's rows beside every
    pass's aggregations (joined by ROW) to the requested outputs, derived features
    computed by featc's evaluator. Picklable."""

    def __init__(self, texts, aggregated_types: Dict[str, pa.DataType], service, features, spine_time: str):
        self.texts, self.aggregated_types = texts, aggregated_types
        self.service, self.features, self.spine_time = service, features, spine_time

    def outputs(self, table: pa.Table) -> pa.Table:
        """The outputs of `table`'s rows, one column per requested feature."""
        for name, ty in self.aggregated_types.items():
            at = table.schema.get_field_index(name)
            table = table.set_column(at, name, table.column(name).cast(ty))
        return compiled(self.texts)._inner.assemble_outputs(table, self.service, self.features, self.spine_time)


def passes_of(project: Project, service, features, sources) -> list:
    """The passes of the requested features; every source they read must be given."""
    passes = project._inner.entity_passes(service, features)
    for entity, _, reads, _ in passes:
        for name, _, _ in reads:
            if name not in sources:
                raise DataError(f"training_set: no data for source `{name}`, which features of entity `{entity}` read")
    return passes


def output_types(project: Project, spine: pa.Schema, sources: Dict[str, pa.Schema], passes, service, features, spine_time):
    """The Arrow fields of the outputs, and each pass's aggregations' types: featc run
    on the driver over empty inputs of the given schemas (what a share's run gives)."""
    spine_empty = spine.empty_table()
    empty = {name: schema.empty_table() for name, schema in sources.items()}

    def run(names, service=None, reads=None):
        wanted = {r[0] for p in passes for r in p[2]} if reads is None else {r[0] for r in reads}
        given = {n: t for n, t in empty.items() if n in wanted}
        return project.training_set(
            spine_empty, service=service, features=names, sources=given, spine_time=spine_time, progress=False
        ).schema

    full = run(features, service)
    outputs = [full.field(i) for i in range(spine_empty.num_columns, len(full))]
    by_pass = {}
    for entity, _, reads, aggregated in passes:
        schema = run(aggregated, reads=reads)
        by_pass[entity, tuple(aggregated)] = [schema.field(n).type for n in aggregated]
    return outputs, by_pass


def source_columns(project: Project) -> Dict[str, List[str]]:
    """Each source's declared columns, its time column first (from the catalog, read
    once per job)."""
    out = {}
    for source in project.catalog()["sources"]:
        time_column = source["time_column"]
        columns = [c["name"] for c in source["columns"]]
        out[source["name"]] = [time_column] + [c for c in columns if c != time_column]
    return out


def check_columns(have: Sequence[str], what: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in set(have)]
    if missing:
        raise DataError(f"training_set: {what} has no column `{missing[0]}` (it has: {', '.join(have)})")


def fault_point() -> None:
    """Fault injection for the tests: with FEATC_SPARK_KILL_ONCE naming a file that
    does not exist yet, the first task to get here creates it and kills its own
    Python worker, as a lost executor process would; the engine retries the task."""
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


def project_texts(project: Project) -> Dict[str, str]:
    """The project's `.feat` files by path relative to their common folder: what
    travels to the workers, which need not see the files."""
    paths = [os.path.abspath(p) for p in project.files]
    base = os.path.commonpath([os.path.dirname(p) for p in paths])
    texts = {}
    for p in paths:
        with open(p, encoding="utf-8") as f:
            texts[os.path.relpath(p, base)] = f.read()
    return texts


def compiled(texts: Dict[str, str]) -> Project:
    """The project of `texts`, compiled once per worker process."""
    digest = hashlib.sha256(repr(sorted(texts.items())).encode()).hexdigest()
    project = _PROJECTS.get(digest)
    if project is None:
        folder = os.path.join(tempfile.gettempdir(), f"featc-shares-{digest[:16]}")
        for rel, text in texts.items():
            path = os.path.join(folder, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            # Workers of one machine may write the same file at once: each its own
            # temporary, renamed over the same bytes.
            part = f"{path}.{os.getpid()}.part"
            with open(part, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(part, path)
        project = Project(folder)
        _PROJECTS[digest] = project
    return project
