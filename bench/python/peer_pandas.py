"""A hand-written pandas `merge_asof` pipeline against featc's Python training_set, on
the synthetic features that such a pipeline expresses.

    python peer_pandas.py --data bench-data/synth_1e6_seed7_spine1e5 --size 1e6 --runs 3 \
        --results results.jsonl

The pipeline (`pandas_pipeline`), from pandas DataFrames of the events and the spine:

- windowed counts, sums, averages and variances: per user cumulative sums in time order
  (count, count of non-null amounts, each `count_if`/`where` filter, sum and sum of
  squares of amount), read at `t` and at `t - W` with `merge_asof(direction="backward",
  allow_exact_matches=True)`; the window (t - W, t] is the difference (an event at
  exactly t - W is in both cumulative sums, so out of the window, as featc has it);
  one merge at t serves every window, one more per window length;
- lifetime count/sum/max: the cumulative value at t (max by `cummax`);
- `last(x)`: `merge_asof` backward on the rows where x (and the feature's filter) is
  non-null, sorted by (time, x) so that a tie on time takes the greatest value; over a
  window, `tolerance = W - 1us` (ts > t - W);
- `first(x) over W`: `merge_asof(direction="forward", allow_exact_matches=False)` at
  t - W on rows sorted by (time, x), kept when its time is <= t; lifetime `first`: each
  user's first row, kept when its time is <= t.

Not expressed (they need a sliding structure, not a difference of prefixes): windowed
min/max (`amount_min_7d`, `amount_max_1d`, `category_min_30d`) and count_distinct
(`category_distinct_7d`, `category_distinct_30d`): 27 of the 32 features.

Timed (median of --runs, inputs in memory before the timer for both): the pipeline, to a
DataFrame in spine order; `featc.Project(CASE).training_set(spine_df,
sources={"events": events_df}, features=FEATURES, progress=False)` on the same
DataFrames. Checked: the pipeline's values against featc's with bench/peers/compare.py's
rules (ints, strings, bools exact; floats to 1e-9 relative), column by column.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from common import CASE, compare_tables, emit, emit_times, rounds

import featc  # noqa: E402

HOUR = 3_600_000_000
DAY = 24 * HOUR
W = {"1h": HOUR, "1d": DAY, "7d": 7 * DAY, "30d": 30 * DAY}

# (feature, kind, window or None, inputs): kinds computed from prefix differences.
COUNTS = [  # count of rows where column `c` is 1
    ("txn_count_1h", "1h", "c_all"), ("txn_count_1d", "1d", "c_all"), ("txn_count_7d", "7d", "c_all"),
    ("txn_count_30d", "30d", "c_all"), ("txn_count_life", None, "c_all"),
    ("amount_count_7d", "7d", "c_amt"), ("mobile_count_7d", "7d", "c_mob"), ("big_count_1d", "1d", "c_big"),
    ("nonfood_count_1d", "1d", "c_nonfood"), ("small_mobile_count_30d", "30d", "c_smallmob"),
]
SUMS = [  # sum of column `s` (0 when empty)
    ("amount_sum_1h", "1h", "s_amt"), ("amount_sum_7d", "7d", "s_amt"), ("amount_sum_life", None, "s_amt"),
    ("mobile_amount_sum_7d", "7d", "s_mobamt"),
]
AVGS = [  # sum / count, null when the count is 0
    ("amount_avg_1d", "1d", "s_amt", "c_amt"), ("amount_avg_30d", "30d", "s_amt", "c_amt"),
    ("grocery_amount_avg_30d", "30d", "s_groc", "c_groc"),
]
VARS = [  # population variance from count, sum and sum of squares; stddev its root
    ("amount_stddev_7d", "7d", True), ("amount_var_30d", "30d", False),
]
# last(x) [over W]: (feature, window, value column, row filter name)
LASTS = [
    ("amount_last_1h", "1h", "amount", None), ("amount_last_life", None, "amount", None),
    ("category_last_life", None, "category", None), ("mobile_last_1d", "1d", "is_mobile", None),
    ("desktop_amount_last_7d", "7d", "amount", "desktop"),
]
FIRSTS = [("amount_first_7d", "7d", "amount"), ("category_first_life", None, "category")]
MAX_LIFE = [("amount_max_life", "amount")]

FEATURES_ORDERED = None  # filled from the project, in declaration order


def expressed() -> set[str]:
    names = {f for f, *_ in COUNTS} | {f for f, *_ in SUMS} | {f for f, *_ in AVGS} | {f for f, *_ in VARS}
    names |= {f for f, *_ in LASTS} | {f for f, *_ in FIRSTS} | {f for f, _ in MAX_LIFE}
    return names


def _micros(ts: pd.Series) -> np.ndarray:
    return ts.dt.as_unit("us").astype("int64").to_numpy()


def pandas_pipeline(events: pd.DataFrame, spine: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """The training set of `features` for `spine` (user_id, ts, ...), in spine order."""
    user = events["user_id"].to_numpy()
    t = _micros(events["ts"])
    amount = events["amount"].to_numpy(dtype="float64")
    category = events["category"]
    mobile = events["is_mobile"]
    has_amt = ~np.isnan(amount)
    mob_true = (mobile == True).to_numpy()  # noqa: E712  (None is not True)
    mob_known = mobile.notna().to_numpy()
    cat_known = category.notna().to_numpy()
    grocery = (category == "grocery").to_numpy()
    amt0 = np.where(has_amt, amount, 0.0)

    # Prefix sums per user in (time, amount) order; merge_asof needs them sorted by time.
    order = np.lexsort((amount, t))
    cols = {
        "c_all": np.ones(len(t), dtype=np.int64),
        "c_amt": has_amt.astype(np.int64),
        "c_mob": mob_true.astype(np.int64),
        "c_big": (has_amt & (amount > 100)).astype(np.int64),
        "c_nonfood": (cat_known & ~category.isin(["grocery", "dining"]).to_numpy()).astype(np.int64),
        "c_smallmob": (has_amt & (amount < 10) & mob_true).astype(np.int64),
        "c_groc": (has_amt & grocery).astype(np.int64),
        "s_amt": amt0,
        "s_amt2": amt0 * amt0,
        "s_mobamt": np.where(mob_true, amt0, 0.0),
        "s_groc": np.where(grocery, amt0, 0.0),
        "m_amt": np.where(has_amt, amount, -np.inf),
    }
    ev = pd.DataFrame({"user_id": user[order], "t": t[order], **{k: v[order] for k, v in cols.items()}})
    prefix_cols = [c for c in cols if c != "m_amt"]
    g = ev.groupby("user_id", sort=False)
    ev[prefix_cols] = g[prefix_cols].cumsum()
    ev["m_amt"] = g["m_amt"].cummax()

    n = len(spine)
    left = pd.DataFrame({"user_id": spine["user_id"].to_numpy(), "t": _micros(spine["ts"]), "row": np.arange(n)})
    left = left.sort_values("t", kind="stable", ignore_index=True)
    rows = left["row"].to_numpy()
    out: dict[str, object] = {}

    def put(name: str, values, dtype=None):
        full = np.empty(n, dtype=dtype or values.dtype)
        full[rows] = values
        out[name] = full

    def prefix_at(delta: int, names: list[str]) -> dict[str, np.ndarray]:
        m = pd.merge_asof(left.assign(t=left["t"] - delta)[["t", "user_id"]], ev[["t", "user_id", *names]],
                          on="t", by="user_id", direction="backward", allow_exact_matches=True)
        return {c: m[c].fillna(0).to_numpy() for c in names}

    want = set(features)
    need_at = {w: set() for w in [None, *W]}
    for f, w, c in COUNTS + SUMS:
        if f in want:
            need_at[w].add(c)
    for f, w, s, c in AVGS:
        if f in want:
            need_at[w] |= {s, c}
    for f, w, _ in VARS:
        if f in want:
            need_at[w] |= {"c_amt", "s_amt", "s_amt2"}
    at_t_cols = sorted(set().union(*need_at.values()))
    if any(f in want for f, _ in MAX_LIFE):
        at_t_cols.append("m_amt")
    at_t = prefix_at(0, at_t_cols)
    at_w = {w: prefix_at(W[w], sorted(cs)) for w, cs in need_at.items() if w is not None and cs}

    def window(w, c):
        return at_t[c] if w is None else at_t[c] - at_w[w][c]

    for f, w, c in COUNTS:
        if f in want:
            put(f, np.rint(window(w, c)).astype(np.int64))
    for f, w, s in SUMS:
        if f in want:
            put(f, window(w, s).astype(np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        for f, w, s, c in AVGS:
            if f in want:
                cnt = window(w, c)
                put(f, np.where(cnt > 0, window(w, s) / cnt, np.nan))
        for f, w, root in VARS:
            if f in want:
                cnt, s1, s2 = window(w, "c_amt"), window(w, "s_amt"), window(w, "s_amt2")
                var = np.maximum((s2 - s1 * s1 / cnt) / cnt, 0.0)
                put(f, np.where(cnt > 0, np.sqrt(var) if root else var, np.nan))
    for f, col in MAX_LIFE:
        if f in want:
            m = at_t["m_amt"]
            put(f, np.where(np.isfinite(m) & (m != 0) | (m == 0) & (at_t["c_amt"] > 0) if "c_amt" in at_t else np.isfinite(m), m, np.nan))

    values = {"amount": events["amount"], "category": category, "is_mobile": mobile}
    filters = {None: None, "desktop": ~mob_true}

    def rows_of(col: str, flt) -> pd.DataFrame:
        keep = values[col].notna().to_numpy()
        if flt is not None:
            keep &= filters[flt]
        r = pd.DataFrame({"user_id": user[keep], "t": t[keep], "v": values[col].to_numpy()[keep]})
        return r.sort_values(["t", "v"], kind="stable", ignore_index=True)

    for f, w, col, flt in LASTS:
        if f in want:
            r = rows_of(col, flt)
            m = pd.merge_asof(left[["t", "user_id"]], r, on="t", by="user_id", direction="backward",
                              allow_exact_matches=True, tolerance=None if w is None else W[w] - 1)
            put(f, m["v"].to_numpy(), dtype=object)
    for f, w, col in FIRSTS:
        if f in want:
            r = rows_of(col, None)
            if w is None:
                first = r.drop_duplicates("user_id", keep="first").set_index("user_id")
                ft = left["user_id"].map(first["t"]).to_numpy()
                fv = left["user_id"].map(first["v"]).to_numpy(dtype=object)
                put(f, np.where(ft <= left["t"].to_numpy(), fv, None), dtype=object)
            else:
                r = r.rename(columns={"t": "ev_t"}).assign(t=lambda d: d["ev_t"])
                m = pd.merge_asof(left.assign(t=left["t"] - W[w])[["t", "user_id"]], r, on="t", by="user_id",
                                  direction="forward", allow_exact_matches=False)
                ok = m["ev_t"].to_numpy() <= left["t"].to_numpy()  # NaN compares False
                put(f, np.where(ok, m["v"].to_numpy(dtype=object), None), dtype=object)

    result = spine.reset_index(drop=True).copy()
    for f in features:
        result[f] = out[f]
    return result


def to_arrow(df: pd.DataFrame, reference: pa.Schema) -> pa.Table:
    """The pipeline's frame as Arrow with featc's types (object columns of floats,
    strings and bools, NaN as null), for the comparison only (not timed)."""
    cols = []
    for field in reference:
        cols.append(pa.array(df[field.name], type=field.type, from_pandas=True))
    return pa.Table.from_arrays(cols, schema=pa.schema([pa.field(f.name, f.type) for f in reference]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--size", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--results")
    args = ap.parse_args()

    project = featc.Project(str(CASE))
    features = [f for f in project.features if f in expressed()]
    assert len(features) == len(expressed()), sorted(expressed() - set(project.features))

    spine_pa = pq.read_table(f"{args.data}/spine.parquet")
    events_pa = pq.read_table(f"{args.data}/events.parquet")
    spine_df, events_df = spine_pa.to_pandas(), events_pa.to_pandas()

    def run_featc():
        return featc.Project(str(CASE)).training_set(spine_df, sources={"events": events_df},
                                                     features=features, progress=False)

    def run_pandas():
        return pandas_pipeline(events_df, spine_df, features)

    times, last = rounds({"featc": run_featc, "pandas": run_pandas}, args.runs)
    emit_times(args.results, times, args.size, prefix="pandas_peer:", features=len(features))
    featc_table, pandas_df = last["featc"], last["pandas"]
    pandas_table = to_arrow(pandas_df, featc_table.schema)
    verdict = compare_tables(featc_table, pandas_table, features)
    emit(args.results, what="pandas_peer_checks", size=args.size, features=features,
         not_expressed=[f for f in project.features if f not in features], check=verdict)


if __name__ == "__main__":
    main()
