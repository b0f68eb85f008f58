"""`featc.Client`: a `featc serve` from Python, with the calls and shapes of the
embedded store (`featc.OnlineStore`), so model code switches between the two by
changing one line.

Reads and pushes travel as Arrow IPC streams (docs/serving.md, "Arrow reads and
pushes"): the server answers a read with the very table the embedded store answers
(the same function builds both), so nothing is re-typed or re-parsed on this side.
Connections are kept alive, one per thread."""
import http.client
import json
import threading
import urllib.parse
import uuid
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import pyarrow as pa

from ._inputs import feature_names, to_arrow
from ._time import rfc3339, to_micros
from .errors import RemoteDataError, RemoteUnknownNameError, RequestError
from .online import rows_with_request

ARROW_STREAM = "application/vnd.apache.arrow.stream"

# A kept-alive connection the server has closed fails at once, before any answer:
# such a request is sent again, once, on a new connection.
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError)

# Which refusals are which of the embedded store's exceptions (the server's codes,
# docs/serving.md "Errors").
_UNKNOWN = {"unknown_feature", "unknown_service", "unknown_source"}
_DATA = {"missing_column", "unknown_column", "bad_value", "refused", "missing_key_column"}




def _ipc(data: Union[pa.Table, pa.RecordBatchReader]) -> pa.Buffer:
    """`data` as an Arrow IPC stream."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, data.schema) as writer:
        if isinstance(data, pa.Table):
            writer.write_table(data)
        else:
            for batch in data:
                writer.write_batch(batch)
    return sink.getvalue()


def _refusal(status: int, body: bytes) -> RequestError:
    """The server's JSON error as the exception the embedded store raises for the same
    problem (always also a `RequestError`, with `status`, `code` and `field`). The body
    is Feast's error detail (a JSON string holding an object) with featc's `code` and
    `field` in it (docs/serving.md, "Errors")."""
    try:
        error = json.loads(json.loads(body))
        code, field, message = error["code"], error.get("field"), error["message"]
    except (ValueError, KeyError, TypeError):
        code, field, message = "unexpected_answer", None, body[:500].decode("utf-8", "replace")
    field_text = field or ""
    if code in _UNKNOWN:
        cls = RemoteUnknownNameError
    elif code in _DATA or (code in ("bad_field", "missing_field") and field_text.startswith(("entities.", "df."))):
        cls = RemoteDataError
    else:
        cls = RequestError
    return cls(status, code, field, message)


class Client:
    """A client of `featc serve` at `url` (e.g. `http://127.0.0.1:6566`). `token` is
    sent with every request (`Authorization: Bearer`), `push_token` instead of it with
    pushes; `timeout` in seconds bounds each request."""

    def __init__(
        self,
        url: str = "http://127.0.0.1:6566",
        *,
        token: Optional[str] = None,
        push_token: Optional[str] = None,
        timeout: float = 30.0,
    ):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"Client: expected an http:// or https:// URL, got {url!r}")
        self.url = url.rstrip("/")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._token = token
        self._push_token = push_token if push_token is not None else token
        self._timeout = timeout
        self._local = threading.local()

    # -- HTTP ---------------------------------------------------------------------

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            conn = cls(self._host, self._port, timeout=self._timeout)
            self._local.conn = conn
        return conn

    def _drop_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def _request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: Optional[Dict[str, str]] = None,
        token: Optional[str] = None,
    ) -> Tuple[int, str, bytes]:
        """(status, content type, body) of one request; a request on a kept-alive
        connection the server had closed is sent again once on a new one."""
        headers = dict(headers or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if body is not None and not isinstance(body, (bytes, str)):
            body = memoryview(body)
        for attempt in (0, 1):
            conn = self._connection()
            reused = conn.sock is not None
            try:
                conn.request(method, self._prefix + path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
            except _STALE:
                self._drop_connection()
                if attempt == 0 and reused:
                    continue
                raise
            except BaseException:
                self._drop_connection()
                raise
            if response.getheader("Connection", "").lower() == "close":
                self._drop_connection()
            return response.status, response.getheader("Content-Type", ""), data
        raise AssertionError("unreachable")

    # -- the embedded store's calls -------------------------------------------------

    def get(
        self,
        entities: Any,
        service: Optional[str] = None,
        features: Union[None, str, Sequence[str]] = None,
        at: Any = None,
        request: Any = None,
        statuses: bool = True,
    ) -> pa.Table:
        """Features for every row of `entities` at time `at`, exactly as
        `OnlineStore.get` answers (same columns, types, statuses and metadata);
        `at=None` reads at now under the server's clock (`featc serve --clock`).
        Raises `UnknownNameError` or `DataError` (both also `RequestError`) where the
        embedded store raises them, `RequestError` for other refusals."""
        if service is not None and features is not None:
            raise TypeError("get: give service or features, not both")
        params = {}
        if service is not None:
            params["feature_service"] = service
        names = feature_names(features)
        if names is not None:
            params["features"] = ",".join(names)
        if isinstance(at, int) and not isinstance(at, bool):
            # As given: the server reads an integer only as 16-digit microseconds
            # and refuses any other (epoch seconds would otherwise read as 1970).
            params["at"] = str(at)
        elif at is not None:
            params["at"] = rfc3339(to_micros(at))
        if not statuses:
            params["statuses"] = "false"
        body = _ipc(rows_with_request(entities, request))
        status, kind, data = self._request(
            "POST",
            "/get-online-features?" + urllib.parse.urlencode(params),
            body,
            {"Content-Type": ARROW_STREAM},
            self._token,
        )
        if status != 200:
            raise _refusal(status, data)
        if not kind.startswith(ARROW_STREAM):
            raise RequestError(status, "unexpected_answer", None, f"expected an Arrow answer, got {kind!r}")
        return pa.ipc.open_stream(data).read_all()

    get_online_features = get

    def push(self, source: str, data: Any, key: Optional[str] = None) -> Dict[str, Any]:
        """Pushes events of `source`, as `OnlineStore.push`: checked whole and refused
        whole (`DataError` naming the column and row), durable (with `featc serve
        --state`) and visible to reads when this returns. A push with the `key` of one
        already applied is not applied again (`duplicate` is True). Without a `key`,
        one is made for this call, so that re-sending it after a lost connection can
        never apply it twice."""
        table = to_arrow(data, f"push to `{source}`")
        made_key = key is None
        headers = {
            "Content-Type": ARROW_STREAM,
            "Idempotency-Key": key if key is not None else f"featc-python-{uuid.uuid4().hex}",
        }
        query = urllib.parse.urlencode({"push_source_name": source})
        status, _, body = self._request("POST", "/push?" + query, _ipc(table), headers, self._push_token)
        if status != 200:
            raise _refusal(status, body)
        answer = json.loads(body)
        if made_key:
            # A key this call made was never used before it: a "duplicate" can only be
            # this call's own first attempt, answered but not received.
            answer["duplicate"] = False
        return {"accepted": answer["accepted"], "late": answer["late"], "duplicate": answer["duplicate"]}

    def metrics(self) -> Dict[str, Any]:
        """The embedded store's counters, from the server's `/metrics`: events, late,
        dead_lettered, null_keys, entities, expired_entities, state_bytes, and
        `watermarks` (µs, for the sources that have one); `server` has every sample
        of the page by name. Sent
        with the read token (the server guards `/metrics` like reads)."""
        status, _, body = self._request("GET", "/metrics", token=self._token)
        if status != 200:
            raise _refusal(status, body)
        samples: Dict[str, float] = {}
        watermarks: Dict[str, int] = {}
        for line in body.decode("utf-8").splitlines():
            if not line or line.startswith("#"):
                continue
            name, _, value = line.rpartition(" ")
            number = float(value)
            samples[name] = number
            prefix = 'featc_source_watermark_seconds{source="'
            if name.startswith(prefix):
                # Seconds as the shortest float: µs are recovered exactly by rounding.
                watermarks[name[len(prefix) : -2]] = round(number * 1e6)

        def count(name: str) -> int:
            return int(samples.get(name, 0))

        return {
            "events": count("featc_events_total"),
            "late": count("featc_late_events_total"),
            "dead_lettered": count("featc_dead_lettered_total"),
            "null_keys": count("featc_null_key_rows_total"),
            "entities": count("featc_entities"),
            "expired_entities": count("featc_entities_expired_total"),
            "state_bytes": count("featc_state_bytes"),
            "watermarks": watermarks,
            "server": samples,
        }

    def health(self) -> Dict[str, Any]:
        """`GET /health`: `{"status": "ready" | "bootstrapping" | "shutting_down", ...}`."""
        _, _, body = self._request("GET", "/health")
        return json.loads(body)

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Waits until the server answers reads (its bootstrap done); raises
        `TimeoutError` after `timeout` seconds."""
        import time

        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            try:
                last = self.health()
                if last.get("status") == "ready":
                    return
            except (OSError, http.client.HTTPException, ValueError) as e:
                last = e
            time.sleep(0.05)
        raise TimeoutError(f"{self.url} is not ready after {timeout} s (last: {last})")

    def close(self) -> None:
        """Closes this thread's connection (others close when their threads end)."""
        self._drop_connection()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"featc.Client({self.url!r})"
