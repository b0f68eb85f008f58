"""`featc.OnlineStore`: online features from an embedded streaming runtime, with the
same shapes as `featc.Client` (a server's), so model code switches in one line."""
import json
from collections import abc
from typing import Any, Dict, Mapping, Optional, Sequence, Union

import pyarrow as pa

from ._inputs import feature_names, to_arrow
from ._time import to_micros




def rows_with_request(entities: Any, request: Any) -> pa.Table:
    """The rows of a read: `entities` (key columns, and request fields if it has
    them) with the columns of `request` added."""
    table = to_arrow(entities, "entities")
    if isinstance(table, pa.RecordBatchReader):
        table = table.read_all()
    if request is None:
        return table
    extra = to_arrow(request, "request")
    if isinstance(extra, pa.RecordBatchReader):
        extra = extra.read_all()
    if extra.num_rows != table.num_rows:
        raise ValueError(f"request has {extra.num_rows} rows but entities has {table.num_rows}")
    for name in extra.column_names:
        if name in table.column_names:
            table = table.drop_columns([name])
        table = table.append_column(name, extra.column(name))
    return table


def _scalars(values: Any, what: str) -> Dict[str, Any]:
    """`values` (a mapping of name -> one value) as a dict."""
    if isinstance(values, dict):
        return values
    if isinstance(values, abc.Mapping):
        return dict(values)
    raise TypeError(
        f"get_one: {what} must be a dict of name -> value for one entity, got {type(values).__name__}"
        " (get reads tables)"
    )


class OnlineStore:
    """Pushes events, reads features at a time. Use `with project.online(...) as
    store:` (or `close()`) to checkpoint and release a state directory."""

    def __init__(self, inner: Any):
        self._inner = inner

    @property
    def durable(self) -> bool:
        """Whether pushes are kept in a state directory."""
        return self._inner.durable

    @property
    def recovered(self) -> str:
        """What opening the store found."""
        return self._inner.recovered

    def push(self, source: str, data: Any, key: Optional[str] = None) -> Dict[str, Any]:
        """Pushes events of `source` (a table with its time column and the declared
        columns its features read): checked whole and refused whole (`DataError`
        naming the column and row), else durable (when the store is) and applied
        before this returns. A push with the `key` of one already applied is not
        applied again (`duplicate` is True)."""
        table = to_arrow(data, f"push to `{source}`")
        accepted, late, duplicate = self._inner.push(source, table, key)
        return {"accepted": accepted, "late": late, "duplicate": duplicate}

    def get(
        self,
        entities: Any,
        service: Optional[str] = None,
        features: Union[None, str, Sequence[str]] = None,
        at: Any = None,
        request: Any = None,
        statuses: bool = True,
    ) -> pa.Table:
        """Features for every row of `entities` (a dict of key columns, or a table
        that has them; request fields too, or in `request`) at time `at` (None: now;
        a datetime, an ISO 8601 string or integer microseconds, which must have 16
        digits, as `featc serve` reads an integer time: epoch seconds or
        milliseconds raise `featc.Error`, never read as 1970). Returns a pyarrow
        Table: the key columns, then one column per feature with the type a training
        set gives it, then (with `statuses`) `FEATURE__status` per feature:
        PRESENT, NULL_VALUE, NOT_FOUND, OUTSIDE_MAX_AGE or ERROR (why: the table's
        `featc.errors` metadata)."""
        if service is not None and features is not None:
            raise TypeError("get: give service or features, not both")
        rows = rows_with_request(entities, request)
        integer = isinstance(at, int) and not isinstance(at, bool)
        return self._inner.get(rows, service, feature_names(features), to_micros(at), integer, statuses)

    def get_one(
        self,
        keys: Mapping[str, Any],
        service: Optional[str] = None,
        features: Union[None, str, Sequence[str]] = None,
        at: Any = None,
        request: Optional[Mapping[str, Any]] = None,
        statuses: bool = False,
    ) -> Dict[str, Any]:
        """Features for one entity, the fast path for serving one prediction:
        `keys` is a dict of key column -> value (`{"user_id": 1234}`), `request`
        (or `keys`) holds a derived feature's request fields, `at` as `get` takes
        it. Returns a dict of feature -> value, then (with `statuses`)
        `FEATURE__status` -> status: `get(...).to_pylist()[0]` without the key
        columns, the same values (int, float, str, bool, UTC datetime, date,
        Decimal, lists; None for null), the same errors, but no pyarrow on the way
        in or out."""
        if service is not None and features is not None:
            raise TypeError("get_one: give service or features, not both")
        keys = _scalars(keys, "keys")
        if request is not None:
            request = _scalars(request, "request")
        integer = isinstance(at, int) and not isinstance(at, bool)
        return self._inner.get_one(keys, request, service, feature_names(features), to_micros(at), integer, statuses)

    def metrics(self) -> Dict[str, Any]:
        """Counters: events, late, dead_lettered, null_keys, entities (live),
        expired_entities (forgotten past their retention), state_bytes,
        each source's watermark (µs), and `checkpoint_error`: why the last checkpoint
        a push took failed (None once one succeeds; the push itself succeeded)."""
        return self._inner.metrics()

    def dead_letters(
        self,
        source: Optional[str] = None,
        reason: Optional[str] = None,
        origin: Optional[str] = None,
        after: Optional[int] = None,
        limit: int = 100,
    ) -> Dict[str, Any]:
        """The events kept out of the state (late under `late="dead-letter"`), oldest
        first: `featc serve`'s `GET /dead-letters` answer (docs/serving.md, "Dead
        letters"): `letters`, `next` (the `after` of the next page), `counts` by
        source and reason, and the store's bounds."""
        if limit < 0:
            raise ValueError("dead_letters: limit must be 0 or more")
        return json.loads(self._inner.dead_letters(source, reason, origin, after, limit))

    def checkpoint(self) -> None:
        """Writes the whole state to the state directory (reopening then loads it
        instead of replaying the log)."""
        self._inner.checkpoint()

    def close(self) -> None:
        self._inner.close()

    def __enter__(self) -> "OnlineStore":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"featc.OnlineStore({self.recovered})"
