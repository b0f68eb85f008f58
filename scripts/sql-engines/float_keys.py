"""Writes the float-key case's Parquet files (tests/sql-engines/float_keys): pings keyed
by -0.0, +0.0, NaNs of either sign and with payloads (written bit for bit: Parquet keeps
them), 1.5 and null, and a spine of those keys and one never seen. Each `v` is a power of
two, so a sum names the events it holds.

    python float_keys.py tests/sql-engines/float_keys
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

DAY0 = datetime(2024, 3, 1, tzinfo=timezone.utc)
NAN = 0x7FF8_0000_0000_0000
NEG_NAN = 0xFFF8_0000_0000_0000
ODD_NAN = 0x7FF8_0000_0000_0001
NEG_ODD_NAN = 0xFFF8_0000_0000_0001


def at(hours: float) -> datetime:
    return DAY0 + timedelta(hours=hours)


def floats(values: list) -> pa.Array:
    """float64s from Python floats or raw bits (ints), None for null, bit for bit."""
    bits = np.array(
        [0 if v is None else v if isinstance(v, int) else np.float64(v).view(np.uint64) for v in values],
        dtype=np.uint64,
    )
    mask = np.array([v is None for v in values])
    return pa.array(bits.view(np.float64), mask=mask, type=pa.float64())


def write(folder: Path) -> None:
    pings = [  # (hours after DAY0, spot, v)
        (0, NEG_NAN, 1.0),
        (1, NAN, 2.0),
        (2, NEG_NAN, 4.0),
        (3, -0.0, 8.0),
        (4, 0.0, 16.0),
        (5, 1.5, 32.0),
        (6, None, 64.0),
        (7, 0.0, 256.0),
        (36, ODD_NAN, 128.0),
        (37, NEG_ODD_NAN, 1024.0),
        (48, -0.0, 512.0),
    ]
    spine = [  # (spot, hours after DAY0), in no sorted order
        (NAN, 12),
        (0.0, 12),
        (-0.0, 12),
        (NEG_NAN, 1),
        (1.5, 12),
        (None, 12),
        (2.0, 12),
        (ODD_NAN, 38),
        (NEG_NAN, 38),
        (-0.0, 49),
        (0.0, 49),
        (NAN, 3),
    ]
    ts = pa.timestamp("us", tz="UTC")
    pq.write_table(
        pa.table({
            "ts": pa.array([at(h) for h, _, _ in pings], ts),
            "spot": floats([s for _, s, _ in pings]),
            "v": pa.array([v for _, _, v in pings], pa.float64()),
        }),
        folder / "pings.parquet",
    )
    pq.write_table(
        pa.table({
            "spot": floats([s for s, _ in spine]),
            "ts": pa.array([at(h) for _, h in spine], ts),
        }),
        folder / "spine.parquet",
    )


if __name__ == "__main__":
    write(Path(sys.argv[1]))
