"""One Spark session shared by every `verify_engine.py spark` of a check run
(scripts/check-sql-engines.sh): `featc verify --sql-engine` starts its engine command
once per generated case, and a Spark session costs a JVM start each time, most of a
small case's run. This process starts the session once and answers requests on a Unix
socket until the check ends it.

    python spark_server.py SOCKET

A request is one JSON object, the client's side of the connection then shut for
writing: `{"sql": SCRIPT, "tables": {NAME: PARQUET_PATH}, "out": PARQUET_PATH}` runs
the script (its last statement's rows written to `out`, in the types pyarrow infers
from Spark's rows, as verify_engine.py writes them), answered `{"ok": true}` or
`{"error": MESSAGE}`. The check ends the server with SIGTERM. The socket file appears
only once the session is up, so a client may wait for it to exist.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import traceback
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402
from verify_engine import from_rows  # noqa: E402


def read_request(conn: socket.socket) -> dict:
    chunks = []
    while True:
        chunk = conn.recv(1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    return json.loads(b"".join(chunks))


def main() -> int:
    path = sys.argv[1]
    spark = run.Spark()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # Bound under a temporary name and renamed: the socket's name appears only once
    # it accepts connections.
    server.bind(path + ".starting")
    server.listen(4)
    os.rename(path + ".starting", path)
    try:
        while True:
            conn, _ = server.accept()
            with conn:
                request = read_request(conn)
                try:
                    tables = {name: Path(p) for name, p in request["tables"].items()}
                    pq.write_table(from_rows(*spark.run(request["sql"], tables)), request["out"])
                    reply = {"ok": True}
                except Exception:  # the engine's failure is the answer, not the server's end
                    reply = {"error": traceback.format_exc(limit=3)}
                conn.sendall(json.dumps(reply).encode())
    finally:
        server.close()
        spark.stop()
        Path(path).unlink(missing_ok=True)


def ask(path: str, request: dict) -> dict:
    """Sends `request` to the server at `path` and returns its answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(path)
        conn.sendall(json.dumps(request).encode())
        conn.shutdown(socket.SHUT_WR)
        return read_request(conn)


if __name__ == "__main__":
    sys.exit(main())
