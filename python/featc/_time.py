"""Read times as featc's microseconds since the epoch (UTC), exactly: never through
a float."""
import datetime as _dt
import time
from typing import Any

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_US = _dt.timedelta(microseconds=1)


def now_us() -> int:
    return time.time_ns() // 1000


def to_micros(at: Any) -> int:
    """`at` as integer microseconds: None is now; an int is taken as microseconds; a
    datetime without a zone is UTC; a pandas Timestamp or numpy datetime64 keeps its
    nanoseconds floored (as the CLI converts nanosecond timestamps); a string is ISO
    8601 / RFC 3339."""
    if at is None:
        return now_us()
    if isinstance(at, bool):
        raise TypeError("at: expected a time, got a bool")
    if isinstance(at, int):
        return at
    module = type(at).__module__.split(".")[0]
    if module == "pandas" and hasattr(at, "value") and hasattr(at, "tz"):
        # A Timestamp: `value` is nanoseconds since the epoch, UTC.
        return int(at.value) // 1000
    if module == "numpy":
        import numpy as np

        if isinstance(at, np.datetime64):
            return int(at.astype("datetime64[ns]").astype("int64")) // 1000
    if isinstance(at, str):
        text = at.strip()
        if text.endswith("Z") or text.endswith("z"):
            text = text[:-1] + "+00:00"
        at = _dt.datetime.fromisoformat(text)
    if isinstance(at, _dt.datetime):
        if at.tzinfo is None:
            at = at.replace(tzinfo=_dt.timezone.utc)
        return (at - _EPOCH) // _US
    if isinstance(at, _dt.date):
        return to_micros(_dt.datetime(at.year, at.month, at.day))
    raise TypeError(f"at: expected None, a datetime, an ISO 8601 string or integer microseconds; got {type(at).__name__}")


def rfc3339(us: int) -> str:
    """Microseconds as RFC 3339 text in UTC, exactly: what a query string carries, since
    the server reads an integer time only as 16-digit microseconds (docs/semantics.md,
    "Time") and a read may be at any time. Beyond year 9999, the integer itself."""
    try:
        return (_EPOCH + _dt.timedelta(microseconds=us)).isoformat()
    except OverflowError:
        return str(us)


def timedelta_of(us: Any):
    """Microseconds as a timedelta (None stays None)."""
    return None if us is None else _dt.timedelta(microseconds=us)
