"""Checks that the Rust generator (bench/stream/src/bin_gen, `gen`) draws gen.py's chunked
distributions: compares a gen.py output folder with a Rust gen output folder of the
same size, and each with the distribution's nominal values where gen.py states them.

    python gen.py --events 1e6 --users 1e4 --spine 1e4 --chunk-rows 250000 --out PY
    gen --events 1e6 --users 1e4 --spine 1e4 --chunk-rows 250000 --out RS
    python check_gen.py PY RS

The two generators draw different random numbers (numpy's PCG64 against SplitMix64), so
no row is the same: every check is statistical. A share p measured on N rows is
compared with a tolerance of Z standard errors, Z = 6: sqrt(p(1-p)/N) against the
nominal value, sqrt(2) times that between the two folders (the difference of two
samples), so a correct generator fails with probability below 1e-8 per check while a
changed share (say 2% nulls becoming 3%) fails at 1e6 rows. Counts (the top user ranks)
use the Poisson difference, Z * sqrt(a + b). Amount quantiles use the standard error
of a sample quantile of the lognormal. Exits 1 if any check fails.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from statistics import NormalDist

import duckdb
import pyarrow.parquet as pq

START_US = 1_704_067_200_000_000  # 2024-01-01T00:00:00Z
DAY_US = 86_400_000_000
SPAN_US = 60 * DAY_US
WINDOWS_US = [3_600_000_000, DAY_US, 7 * DAY_US, 30 * DAY_US]
CATEGORIES = ["grocery", "fuel", "travel", "dining", "online", "pharmacy", "cash", "gaming"]
CATEGORY_P = [0.30, 0.15, 0.05, 0.20, 0.15, 0.07, 0.05, 0.03]
AMOUNT_MEAN, AMOUNT_SIGMA = 3.0, 1.2
Z = 6.0

failures: list[str] = []


def report(name: str, a, b, tol: str, ok: bool) -> None:
    def show(x):
        return f"{x:.6g}" if isinstance(x, float) else str(x)
    print(f"{'ok  ' if ok else 'FAIL'} {name:<34} gen.py {show(a):>14}  rust {show(b):>14}  {tol}")
    if not ok:
        failures.append(name)


def share(name: str, a: float, b: float, n_a: int, n_b: int, nominal: float | None = None,
          cluster: float = 1.0) -> None:
    """Two measured shares of one probability, and the nominal value if known. `cluster`:
    rows counted together (a copy and its source are drawn as one), which widens the
    standard error by its square root."""
    p = nominal if nominal is not None else (a * n_a + b * n_b) / max(n_a + n_b, 1)
    p = min(max(p, 1.0 / max(n_a, n_b, 1)), 1 - 1.0 / max(n_a, n_b, 1))
    tol = Z * math.sqrt(cluster * p * (1 - p) * (1 / max(n_a, 1) + 1 / max(n_b, 1)))
    ok = abs(a - b) <= tol
    note = f"|diff| {abs(a - b):.2e} <= {tol:.2e}"
    if nominal is not None:
        for x, n in ((a, n_a), (b, n_b)):
            t = Z * math.sqrt(p * (1 - p) / max(n, 1))
            ok = ok and abs(x - nominal) <= t
        note += f"; nominal {nominal:g} within {Z:g} s.e. each"
    report(name, a, b, note, ok)


def one(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchone()


def measure(folder: Path) -> dict:
    con = duckdb.connect()
    ev = f"read_parquet('{folder / 'events.parquet'}')"
    sp = f"read_parquet('{folder / 'spine.parquet'}')"
    con.execute(f"create view events as select user_id, epoch_us(ts) as t, amount, category, is_mobile from {ev}")
    con.execute(f"create view spine as select row_number() over () as i, user_id, epoch_us(ts) as t, label from {sp}")
    m: dict = {}
    m["schema_events"] = str(pq.read_schema(folder / "events.parquet"))
    m["schema_spine"] = str(pq.read_schema(folder / "spine.parquet"))
    m["row_groups"] = pq.ParquetFile(folder / "events.parquet").metadata.num_row_groups
    (m["n"], m["amount_null"], m["category_null"], m["mobile_null"], m["amount_n"], m["category_n"],
     m["mobile_n"], m["mobile_true"], m["t_min"], m["t_max"], m["users"], m["id_min"], m["id_max"],
     m["not_cents"]) = one(con, """
        select count(*), avg((amount is null)::int), avg((category is null)::int),
               avg((is_mobile is null)::int), count(amount), count(category), count(is_mobile),
               avg(is_mobile::int), min(t), max(t), count(distinct user_id), min(user_id),
               max(user_id), count(*) filter (where abs(amount * 100 - round(amount * 100)) > 1e-6)
        from events""")
    m["category"] = dict(con.execute(
        "select category, count(*) / sum(count(*)) over () from events where category is not null "
        "group by all").fetchall())
    m["quantiles"] = one(con, "select quantile_cont(amount, [0.1, 0.5, 0.9, 0.99]) from events")[0]
    (m["tied_rows"],) = one(con, """
        select coalesce(sum(c) filter (where c >= 2), 0) / sum(c)
        from (select count(*) as c from events group by user_id, t)""")
    days = [c for (c,) in con.execute(
        f"select count(*) from events group by (t - {START_US}) // {DAY_US} order by all").fetchall()]
    m["days"] = len(days)
    mean = sum(days) / len(days)
    m["day_cv"] = math.sqrt(sum((c - mean) ** 2 for c in days) / max(len(days) - 1, 1)) / mean
    m["top"] = [c for (c,) in con.execute(
        "select count(*) as c from events group by user_id order by c desc limit 100").fetchall()]

    (m["spine_n"], m["label"]) = one(con, "select count(*), avg(label::int) from spine")
    # Which spine rows sit on an event of their user (offset 0), on a window's edge
    # (t = e.ts + W: that event must be out), just inside (W - 1us), just out (W + 1us).
    offsets = [(0, "at_event")] + [(w + d, kind) for w in WINDOWS_US
                                   for d, kind in ((0, "edge"), (-1, "edge_inside"), (1, "edge_outside"))]
    values = ", ".join(f"({off}, '{kind}')" for off, kind in offsets)
    con.execute(f"create temp table offsets as select * from (values {values}) v(off, kind)")
    con.execute("create temp table ev_keys as select user_id, t, count(*) as c from events group by all")
    kinds = dict(con.execute("""
        select o.kind, count(distinct s.i)
        from spine s join ev_keys e on s.user_id = e.user_id
        join offsets o on s.t = e.t + o.off
        group by all""").fetchall())
    (kinds["at_tie"],) = one(con, """
        select count(distinct s.i) from spine s
        join ev_keys e on s.user_id = e.user_id and s.t = e.t and e.c >= 2""")
    (kinds["absent_user"],) = one(con, """
        select count(*) from spine s
        where not exists (select 1 from ev_keys e where e.user_id = s.user_id)""")
    (kinds["duplicate"],) = one(con, """
        select coalesce(sum(c - 1), 0) from (select count(*) c from spine group by user_id, t)""")
    m["spine_kinds"] = {k: kinds.get(k, 0) / m["spine_n"] for k in
                        ("at_event", "at_tie", "edge", "edge_inside", "edge_outside", "absent_user",
                         "duplicate")}
    return m


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    a, b = measure(Path(sys.argv[1])), measure(Path(sys.argv[2]))
    na, nb = a["n"], b["n"]

    report("events schema", "", "", "same Arrow schema", a["schema_events"] == b["schema_events"])
    report("spine schema", "", "", "same Arrow schema", a["schema_spine"] == b["schema_spine"])
    report("events rows", na, nb, "equal", na == nb)
    report("row groups", a["row_groups"], b["row_groups"], "equal", a["row_groups"] == b["row_groups"])
    share("amount null share", a["amount_null"], b["amount_null"], na, nb, 0.02)
    share("category null share", a["category_null"], b["category_null"], na, nb, 0.01)
    share("is_mobile null share", a["mobile_null"], b["mobile_null"], na, nb, 0.01)
    share("is_mobile true share", a["mobile_true"], b["mobile_true"], a["mobile_n"], b["mobile_n"], 0.4)
    for cat, p in zip(CATEGORIES, CATEGORY_P):
        share(f"category {cat}", a["category"].get(cat, 0.0), b["category"].get(cat, 0.0),
              a["category_n"], b["category_n"], p)
    report("amounts not in cents", a["not_cents"], b["not_cents"], "0", a["not_cents"] == b["not_cents"] == 0)
    # Rows in (user, ts) groups of two or more: the 2% copies and their sources
    # (the chance collisions of uniform microseconds are negligible).
    share("rows in (user, ts) ties", a["tied_rows"], b["tied_rows"], na, nb, cluster=2.0)
    for q, qa, qb in zip((0.1, 0.5, 0.9, 0.99), a["quantiles"], b["quantiles"]):
        z = NormalDist().inv_cdf(q)
        nominal = math.exp(AMOUNT_MEAN + AMOUNT_SIGMA * z)
        # Standard error of log(sample quantile): sigma * sqrt(q(1-q)/n) / phi(z).
        se = AMOUNT_SIGMA * math.sqrt(q * (1 - q)) / NormalDist().pdf(z)
        tol = Z * se * math.sqrt(1 / a["amount_n"] + 1 / b["amount_n"])
        each = [abs(math.log(x / nominal)) <= Z * se / math.sqrt(n) + 0.005 / nominal
                for x, n in ((qa, a["amount_n"]), (qb, b["amount_n"]))]
        report(f"amount p{round(q * 100)}", qa, qb,
               f"|log ratio| {abs(math.log(qa / qb)):.2e} <= {tol:.2e}; nominal {nominal:.4g}",
               abs(math.log(qa / qb)) <= tol and all(each))
    # The first and last event are within 20 mean gaps of the span's ends (a
    # probability of exp(-20) to be further by chance).
    gap = 20 * SPAN_US / min(na, nb)
    for key, edge in (("t_min", START_US), ("t_max", START_US + SPAN_US)):
        ok = all(START_US <= m[key] < START_US + SPAN_US and abs(m[key] - edge) <= gap for m in (a, b))
        report(f"ts {key[2:]} - span's end (s)", (a[key] - edge) / 1e6, (b[key] - edge) / 1e6,
               f"within [2024-01-01, +60d) and {gap / 1e6:.0f} s of the end", ok)
    report("days with events", a["days"], b["days"], "60", a["days"] == b["days"] == 60)
    # Uniform times: day counts are Poisson-like, coefficient of variation about
    # sqrt(60 / n); the sample's own spread is about 9% of that over 60 days.
    cv = math.sqrt(60 / min(na, nb))
    report("per-day count CV", a["day_cv"], b["day_cv"], f"each < {2 * cv:.2e} (2x Poisson)",
           a["day_cv"] < 2 * cv and b["day_cv"] < 2 * cv)
    report("distinct users seen", a["users"], b["users"], "within 1%",
           abs(a["users"] - b["users"]) <= 0.01 * max(a["users"], b["users"]))
    report("user id range", (a["id_min"], a["id_max"]), (b["id_min"], b["id_max"]),
           "from 1000, same", a["id_min"] == b["id_min"] == 1000 and a["id_max"] == b["id_max"])
    # Ranks by sorted frequency (the ids of a rank differ): each of the first ten, and
    # the first 10 and 100 together (more rows, so a tighter test of the skew).
    top = [(f"rank {r} user's share", [ca], [cb])
           for r, (ca, cb) in enumerate(zip(a["top"][:10], b["top"][:10]), 1)]
    top += [(f"top {k} users' share", a["top"][:k], b["top"][:k]) for k in (10, 100)]
    for name, ca, cb in top:
        ca, cb = sum(ca), sum(cb)
        tol = Z * math.sqrt(ca + cb)
        report(name, ca / na, cb / nb, f"|count diff| {abs(ca - cb)} <= {tol:.0f}", abs(ca - cb) <= tol)
    report("spine rows", a["spine_n"], b["spine_n"], "equal", a["spine_n"] == b["spine_n"])
    share("spine label share", a["label"], b["label"], a["spine_n"], b["spine_n"], 0.1)
    for kind, p in a["spine_kinds"].items():
        share(f"spine {kind} share", p, b["spine_kinds"][kind], a["spine_n"], b["spine_n"])
    edge_cases = [k for k in ("at_event", "at_tie", "edge", "edge_inside", "edge_outside", "absent_user",
                              "duplicate") if b["spine_kinds"][k] == 0]
    report("spine edge cases present", "", "", "each kind > 0", not edge_cases)
    if failures:
        print(f"\n{len(failures)} check(s) failed: {', '.join(failures)}")
        sys.exit(1)
    print("\nthe two generators' distributions agree")


if __name__ == "__main__":
    main()
