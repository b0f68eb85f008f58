"""Point-in-time features with polars' rolling windows: the polars peer of the batch bench.

    python polars_rolling.py --spec tests/cases/synthetic/spec.json \\
        --events DIR/events.parquet --spine DIR/spine.parquet --out DIR/polars.parquet

    python polars_rolling.py --spec tests/cases/marketplace/spec.json \\
        --events orders=tests/cases/marketplace/orders.parquet \\
        --events reviews=tests/cases/marketplace/reviews.parquet \\
        --spine tests/cases/marketplace/spine.parquet --out DIR/polars.parquet \\
        --expected tests/cases/marketplace/expected.parquet

The same command line and output as reference.py (the spine unchanged and in order,
one column per feature, the `featc.features` metadata), written the way a polars user
writes point-in-time rolling features:

- per (source, entity column) the spine rows are appended to the events as marker rows
  (`__spine` true, `__rid` their spine position), and the frame is sorted by (key, ts),
  markers after the events of their own time;
- each window is one `rolling(index_column="ts", period=W, closed="right",
  group_by=key)`: polars' window of a row is every row of its key with t - W < ts <= t,
  decided by time (rows of equal time are all in), as docs/semantics.md asks;
- an aggregate sees event rows only: each feature's input is its value column with
  the marker rows and the rows its `where` (and count_if's predicate) does not keep
  turned to null (predicates go through `pl.sql_expr`, Kleene logic, kept when
  true), so the plain aggregates (sum, mean, min, max, var, std, count) stay on
  polars' rolling kernels;
- strings and bools that min/max/first/last/count_distinct read are coded as their
  position among the column's sorted values (an `Enum` of them; false < true), so
  they too stay on the numeric kernels and are decoded at the end;
- lifetime features are cumulative over the key (`cum_sum`, `cum_max`, `cum_min`,
  `forward_fill` ... `.over(key)`), the markers sorted after events of equal time so
  each marker sees every event with ts <= t; a lifetime aggregate with no cumulative
  form (avg, var, stddev, count_distinct) is a rolling window with a period past the
  data's span;
- first/last break ties on time by value (smallest first, greatest last): the value
  is first resolved per (key, ts) (`min`/`max` over a rolling window of 1us), then the
  first/last non-null of the window taken (`drop_nulls().first()`, the generic path);
- count_distinct has no rolling kernel in polars: a column with at most ONE_HOT_MAX
  values is one rolling count per value (`(x == v).sum() > 0`, summed), any other
  goes through `n_unique()` per window (the generic path, every window materialised).

Then only the marker rows are kept and put back in spine order.  The printed time
covers reading the parquet files, computing and writing the output; Python start-up
and imports are outside it.  `--expected FILE` also compares the output with FILE
(compare.py's rules) and exits 1 on a disagreement.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import OrderedDict
from datetime import timedelta
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from featspec import Feature, load_spec

KEY = "__key"
SPINE = "__spine"
RID = "__rid"
# Aggregates polars computes cumulatively over a key (lifetime windows).
CUMULATIVE = ("count", "count_if", "sum", "first", "last", "min", "max")
# count_distinct of a column with at most this many values is one rolling count per value.
ONE_HOT_MAX = 64


def parse_sources(items: list[str]) -> dict[str, str]:
    """['events=a.parquet', 'weather=b.parquet'] or ['a.parquet'] -> {name: path}.

    reference.py's own, repeated: the peers copied from outside the project
    (reference.py, featspec.py) stay as they came, and reference.py needs duckdb,
    which the test virtualenv that checks this peer does not have."""
    out: dict[str, str] = {}
    for item in items:
        name, _, path = item.rpartition("=")
        out[name or "events"] = path
    return out


def keep(pred: str | None) -> pl.Expr:
    """An event row that a SQL predicate keeps (true; false and null drop it)."""
    event = ~pl.col(SPINE)
    if pred is None:
        return event
    return event & pl.sql_expr(pred).fill_null(False)


def input_col(f: Feature) -> str:
    return f"__in_{f.name}"


def inputs(f: Feature, schema: pl.Schema) -> list[pl.Expr]:
    """The feature's input column: null on rows it must not see; for counts an 0/1 indicator."""
    name = input_col(f)
    if f.agg == "count_if":
        return [(keep(f.where) & pl.sql_expr(f.col).fill_null(False)).cast(pl.Int64).alias(name)]
    if f.agg == "count":
        cond = keep(f.where) if f.col is None else keep(f.where) & pl.col(f.col).is_not_null()
        return [cond.cast(pl.Int64).alias(name)]
    # Strings and bools as their position among the sorted values (see code): the
    # rolling kernels are numeric, and that order is docs/semantics.md's (strings by
    # bytes, false < true).
    col = pl.col(code_col(f.col) if coded(f, schema) else f.col)
    return [pl.when(keep(f.where)).then(col).alias(name)]


def tie_agg(f: Feature) -> pl.Expr:
    """Ties on time: first takes the smallest value, last the greatest. Over the rows of
    one (key, ts) (a rolling window of 1us), so every row of that time can carry it."""
    c = pl.col(input_col(f))
    return (c.min() if f.agg == "first" else c.max()).alias(f.name)


def code_values(s: pl.Series) -> pl.Series:
    """The values a coded column takes, in order (strings by bytes, false < true)."""
    if s.dtype == pl.Boolean:
        return pl.Series(s.name, [False, True])
    return s.drop_nulls().unique().sort()


def code(col: str, values: pl.Series) -> pl.Expr:
    """A column as its position in `values` (null stays null)."""
    c = pl.col(col)
    if values.dtype == pl.Boolean:
        return c.cast(pl.UInt32)
    if values.dtype == pl.String:
        # An Enum of the sorted values: its codes are the positions (rank("dense") is
        # 30x slower on 1e7 strings).
        return c.cast(pl.Enum(values)).to_physical().cast(pl.UInt32)
    return (c.rank("dense") - 1).cast(pl.UInt32)


def code_col(col: str) -> str:
    return f"__code_{col}"


def coded(f: Feature, schema: pl.Schema) -> bool:
    """Whether the feature's input is its column's code (see inputs)."""
    return f.agg in ("min", "max", "count_distinct", "first", "last") and not schema[f.col].is_numeric()


def rolling_agg(f: Feature, schema: pl.Schema, distinct: dict[str, list]) -> pl.Expr:
    """The feature's aggregate inside a rolling window."""
    c = pl.col(input_col(f))
    a = f.agg
    if a in ("count", "count_if", "sum"):
        e = c.sum()
    elif a == "avg":
        e = c.mean()
    elif a in ("min", "max"):
        e = c.min() if a == "min" else c.max()
    elif a == "var_pop":
        e = c.var(ddof=0)
    elif a == "stddev_pop":
        e = c.std(ddof=0)
    elif a == "count_distinct" and len(distinct[f.col]) <= ONE_HOT_MAX:
        # polars has no rolling kernel for distinct counts: a low-cardinality column is
        # one rolling count per value (on the kernels), the values present summed.
        e = pl.sum_horizontal([(c == v).sum() > 0 for v in distinct[f.col]]).cast(pl.Int64)
    elif a == "count_distinct":
        # The generic path (every window materialised). A marker row is in its own
        # window and its input is null, so n_unique counts one null too much there
        # (only marker rows are kept); cheaper than drop_nulls per window.
        e = c.n_unique() - 1
    elif a == "last":
        e = c.drop_nulls().last()
    elif a == "first":
        e = c.drop_nulls().first()
    else:
        raise ValueError(a)
    return e.alias(f.name)


def cumulative_agg(f: Feature) -> pl.Expr:
    """The feature's lifetime value on each row: over every earlier row of its key."""
    c = pl.col(input_col(f))
    a = f.agg
    if a in ("count", "count_if"):
        e = c.cum_sum()
    elif a == "sum":
        e = c.fill_null(0).cum_sum()
    elif a in ("min", "max"):
        # cum_min/cum_max leave null rows null: carry the running value over them.
        e = (c.cum_min() if a == "min" else c.cum_max()).forward_fill()
    elif a == "last":
        e = c.forward_fill()
    elif a == "first":
        e = pl.when(c.is_not_null() & (c.is_not_null().cum_sum() == 1)).then(c).forward_fill()
    else:
        raise ValueError(a)
    return e.over(KEY).alias(f.name)


def result_type(f: Feature, schema: pl.Schema) -> pl.DataType:
    """The output type reference.py writes (docs/semantics.md's table)."""
    if f.agg in ("count", "count_if", "count_distinct"):
        return pl.Int64
    if f.agg in ("avg", "var_pop", "stddev_pop"):
        return pl.Float64
    t = schema[f.col]
    if f.agg == "sum":
        return pl.Int64 if t.is_integer() else pl.Float64
    return t


def is_cumulative(f: Feature, schema: pl.Schema) -> bool:
    return f.window_us is None and f.agg in CUMULATIVE


def group_pit(src: pl.DataFrame, spine: pl.DataFrame, key: str, feats: list[Feature]) -> pl.DataFrame:
    """(__rid, feature...) for every spine row, from one source by one key."""
    schema = src.schema
    events = src.filter(pl.col(key).is_not_null()).with_columns(
        pl.col(key).alias(KEY), pl.lit(False).alias(SPINE), pl.lit(None, pl.UInt32).alias(RID))
    marks = spine.select(pl.col(key).cast(schema[key]).alias(KEY), pl.col("ts"),
                         pl.lit(True).alias(SPINE), pl.col(RID))
    cols = sorted({c for f in feats for c in _columns(f)} - {KEY, "ts"})
    events = events.select(KEY, "ts", SPINE, RID, *cols)
    marks = marks.with_columns(pl.lit(None, schema[c]).alias(c) for c in cols)
    # Markers after the events of their own time (false < true); cheaper than a
    # stable sort on (key, ts) (maintain_order: 2x slower at 1e7 rows here).
    frame = pl.concat([events, marks.select(events.columns)]).sort([KEY, "ts", SPINE])
    codes = sorted({f.col for f in feats if coded(f, schema)})
    # Each coded column's values in order: code i is values[i].
    values = {c: code_values(frame[c]) for c in codes}
    distinct = {f.col: list(range(len(values[f.col]))) if f.col in values
                else frame[f.col].drop_nulls().unique().to_list()
                for f in feats if f.agg == "count_distinct"}
    frame = (frame.with_columns(code(c, values[c]).alias(code_col(c)) for c in codes)
             .with_columns(e for f in feats for e in inputs(f, schema)))
    ends = [f for f in feats if f.agg in ("first", "last")]
    if ends:
        ties = frame.rolling(index_column="ts", period="1us", closed="right",
                             group_by=KEY).agg(tie_agg(f) for f in ends)
        frame = frame.with_columns(
            pl.when(pl.col(input_col(f)).is_not_null()).then(ties[f.name]).alias(input_col(f))
            for f in ends)
    out = frame.select(SPINE, RID)
    # Lifetime aggregates without a cumulative form: a window longer than the data.
    span = (frame["ts"].max() - frame["ts"].min()) // timedelta(microseconds=1) + 1 if len(frame) else 1

    cum = [f for f in feats if is_cumulative(f, schema)]
    if cum:
        out = out.with_columns(frame.select(cumulative_agg(f) for f in cum))
    windows: OrderedDict[int, list[Feature]] = OrderedDict()
    for f in feats:
        if f not in cum:
            windows.setdefault(f.window_us if f.window_us is not None else span, []).append(f)
    for w, fs in windows.items():
        rolled = frame.rolling(index_column="ts", period=f"{w}us", closed="right",
                               group_by=KEY).agg(rolling_agg(f, schema, distinct) for f in fs)
        if not (rolled[KEY].equals(frame[KEY], null_equal=True) and rolled["ts"].equals(frame["ts"])):
            raise AssertionError("polars' rolling output is not in its input's order")
        out = out.with_columns(rolled.select(f.name for f in fs))
    out = out.filter(pl.col(SPINE)).sort(RID)
    for f in feats:
        if coded(f, schema) and f.agg != "count_distinct":
            # Back from code to value.
            out = out.with_columns(values[f.col].gather(out[f.name]).alias(f.name))
    return out.select(RID, *(pl.col(f.name).cast(result_type(f, schema)) for f in feats))


def _columns(f: Feature) -> set[str]:
    from featspec import parse_predicate
    out = set()
    for pred in (f.where, f.col if f.agg == "count_if" else None):
        if pred:
            out |= parse_predicate(pred)[1]
    if f.col and f.agg != "count_if":
        out.add(f.col)
    return out


def polars_pit(feats: list[Feature], sources: dict[str, str], spine_path: str) -> pa.Table:
    """The spine table (unchanged, in order) plus one column per feature."""
    spine_arrow = pq.read_table(spine_path)
    spine = pl.from_arrow(spine_arrow).with_row_index(RID)
    groups: OrderedDict[tuple, list[Feature]] = OrderedDict()
    for f in feats:
        groups.setdefault((f.source, f.entity_col), []).append(f)
    loaded: dict[str, pl.DataFrame] = {}
    values: dict[str, pa.ChunkedArray] = {}
    for (src, key), fs in groups.items():
        if src not in loaded:
            loaded[src] = pl.read_parquet(sources[src])
        res = group_pit(loaded[src], spine, key, fs)
        if len(res) != len(spine) or not res[RID].equals(spine[RID]):
            raise AssertionError("result rows do not match spine rows")
        for f in fs:
            values[f.name] = _plain(res[f.name].to_arrow())
    out = spine_arrow
    for f in feats:
        out = out.append_column(f.name, values[f.name])
    meta = dict(out.schema.metadata or {})
    meta.pop(b"pandas", None)
    meta[b"featc.features"] = json.dumps([f.name for f in feats]).encode()
    return out.replace_schema_metadata(meta)


def _plain(arr: pa.Array) -> pa.Array:
    """polars hands strings over as views; reference.py writes plain strings."""
    if pa.types.is_string_view(arr.type) or pa.types.is_large_string(arr.type):
        return arr.cast(pa.string())
    return arr


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spec", required=True)
    ap.add_argument("--events", action="append", required=True, help="[name=]path.parquet (repeatable)")
    ap.add_argument("--spine", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--expected", help="compare the output with this file (compare.py's rules)")
    args = ap.parse_args()

    feats = load_spec(args.spec)
    sources = parse_sources(args.events)
    t0 = time.perf_counter()
    out = polars_pit(feats, sources, args.spine)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(out, args.out, compression="zstd")
    print(f"polars: {out.num_rows} rows x {len(feats)} features in {time.perf_counter() - t0:.2f}s "
          f"(polars {pl.__version__}, {pl.thread_pool_size()} threads)")
    print(f"wrote {args.out}")
    if args.expected:
        import compare
        report = compare.compare(pq.read_table(args.expected), out, [f.name for f in feats])
        print(compare.format_report(report, "expected", "polars"))
        if not report["ok"]:
            sys.exit(1)


if __name__ == "__main__":
    main()
