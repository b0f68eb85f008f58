"""`featc.Project`: a compiled project, its training sets and its online store."""
import datetime as dt
import os
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import pyarrow as pa

from . import _featc
from ._inputs import feature_names, to_arrow, with_pandas_hint
from .errors import DataError
from ._progress import reporter
from ._time import timedelta_of
from .online import OnlineStore

PathLike = Union[str, "os.PathLike[str]"]




def _durations(value: Any) -> Any:
    """Turns every `*_us` entry of the catalog into a `timedelta` without the suffix."""
    if isinstance(value, list):
        return [_durations(v) for v in value]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k.endswith("_us") and (v is None or isinstance(v, int)):
                out[k[: -len("_us")]] = timedelta_of(v)
            else:
                out[k] = _durations(v)
        return out
    return value


class Project:
    """A featc project: the `.feat` files of `path` (a file or a folder searched
    recursively; several may be given), compiled as `featc check` compiles them.

    Raises `featc.CompileError` (the CLI's diagnostics, and `.diagnostics` as data)
    when the project has errors."""

    def __init__(self, path: Union[PathLike, Sequence[PathLike]], *more: PathLike):
        paths = [path] if isinstance(path, (str, os.PathLike)) else list(path)
        paths += list(more)
        self._inner = _featc.Project([os.fspath(p) for p in paths])

    @property
    def features(self) -> List[str]:
        """Every feature's name, in declaration order."""
        return self._inner.features

    @property
    def services(self) -> Dict[str, List[str]]:
        """Each service's features, in order."""
        return dict(self._inner.services)

    @property
    def files(self) -> List[str]:
        return self._inner.files

    def catalog(self) -> Dict[str, Any]:
        """What the project declares: sources, entities, requests, views, features and
        services, with types as `.feat` files spell them and durations as
        `timedelta`s."""
        return _durations(self._inner.catalog())

    def training_set(
        self,
        spine: Any,
        service: Optional[str] = None,
        features: Union[None, str, Sequence[str]] = None,
        sources: Optional[Mapping[str, Any]] = None,
        *,
        spine_time: str = "ts",
        progress: Any = None,
        batch_size: Optional[int] = None,
        partitions: Optional[int] = None,
        memory_limit: Union[None, int, str] = None,
        passes: Optional[int] = None,
        spill_limit: Union[None, int, str] = None,
    ) -> pa.Table:
        """The point-in-time training set of `spine`: its columns unchanged, then one
        column per feature evaluated at each row's time, exactly as `featc
        training-set` computes it (same columns, order, types and bits).

        `spine` and each of `sources` (by source name; the others are read from
        their declared files) may be a path to a Parquet or CSV file or folder, a
        pyarrow Table or RecordBatchReader, a pandas or polars DataFrame, or a dict
        of columns. `service` or `features` choose the features (default: every
        feature of the project's views). `progress`: None shows a bar in a terminal
        or a notebook, False none, or a callable taking (phase, done, total).
        `partitions` (default: the machine's cores), `memory_limit` (bytes, or a
        size such as "4GiB"; default: a sixth of the machine's memory) and `passes`
        (default 1: the work in that many passes by key share, which divides the
        disk its sorts spill to) are the CLI's `--partitions`, `--memory-limit` and
        `--passes` (each from 1 to 1024, else ValueError): they change how the work
        runs, never the result. `spill_limit`
        (bytes, or a size; default 100 GiB), the CLI's `--spill-limit`, bounds the disk
        the spill holds at once: a run that needs more raises `featc.Error`."""
        if service is not None and features is not None:
            raise TypeError("training_set: give service or features, not both")
        spine_arrow = to_arrow(spine, "spine", allow_path=True)
        bound = {name: to_arrow(data, f"source `{name}`", allow_path=True) for name, data in (sources or {}).items()}
        callback, close = reporter(progress)
        try:
            table, null_keys = self._inner.training_set(
                spine_arrow, service, feature_names(features), bound, spine_time, callback, batch_size,
                partitions, None if memory_limit is None else str(memory_limit), passes,
                None if spill_limit is None else str(spill_limit),
            )
        except DataError as e:
            raise with_pandas_hint(e, [spine, *(sources or {}).values()]) from None
        finally:
            close()
        skipped = {group: n for group, n in null_keys if n > 0}
        if skipped:
            table = table.replace_schema_metadata(
                {**(table.schema.metadata or {}), b"featc.null_key_rows": repr(skipped).encode()}
            )
        return table

    def online(
        self,
        state: Optional[PathLike] = None,
        *,
        late: str = "apply",
        min_lateness: Any = None,
        max_future: Optional[dt.timedelta] = dt.timedelta(microseconds=_featc.DEFAULT_MAX_FUTURE_US),
        log_served: Optional[PathLike] = None,
        memory_limit: Optional[int] = None,
    ) -> OnlineStore:
        """An embedded online store of every feature of the project, over featc's
        streaming runtime: in memory, or durable in the directory `state` (the
        format of `featc serve --state`: a push is logged and fsynced before it
        returns; reopening loads it). `late`: "apply" or "dead-letter" for events
        older than their source's watermark; `min_lateness`: a floor on every
        source's allowed lateness (a `timedelta`); `max_future`: a push with an
        event more than this ahead of the wall clock is refused whole (`DataError`
        naming the source, row and time), as `featc serve --max-future` (default 1h)
        refuses it; None: no bound; `log_served`: a folder every answered vector is
        appended to as Parquet, as `featc serve --log-served` writes it (the last
        file is completed by `close()`); `memory_limit`: with `state`, entity states
        live on disk there and the decoded ones kept in memory count at most this
        many bytes (default: a quarter of the machine's memory, as `featc serve
        --memory-limit`)."""
        floor = 0
        if min_lateness is not None:
            floor = min_lateness // dt.timedelta(microseconds=1)
        bound = None if max_future is None else max_future // dt.timedelta(microseconds=1)
        inner = self._inner.online(
            None if state is None else os.fspath(state),
            late,
            floor,
            bound,
            None if log_served is None else os.fspath(log_served),
            memory_limit,
        )
        return OnlineStore(inner)

    def __repr__(self) -> str:
        return f"featc.Project({len(self.features)} features, {len(self.services)} services, files={self.files})"
