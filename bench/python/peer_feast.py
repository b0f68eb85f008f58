"""Feast's `get_historical_features` against featc's Python training_set, on the
synthetic features that Feast expresses.

    python peer_feast.py --data bench-data/synth_1e6_seed7_spine1e5 --size 1e6 --runs 3 \
        --results results.jsonl

Feast (0.67, local provider; `--offline-store dask`, what `feast init` sets up, or
`duckdb`, Feast's DuckDB offline store through ibis) joins each spine row to the latest row of a feature view's source at or before the
row's time and within the view's ttl. It computes no aggregation: of the 32 synthetic
features it expresses the five `last(x) [over W]` ones, each as a feature view of its
own over a source prepared for it (pandas, before the timer, not counted):

- only the rows where x is non-null (and, for `desktop_amount_last_7d`, where the
  feature's `where` holds), because featc's `last` skips nulls and Feast takes the
  latest row whatever it holds;
- one row per (user, time), the greatest value, because Feast breaks ties on time
  arbitrarily and featc takes the greatest value;
- ttl `W - 1us`, because Feast keeps rows at exactly `t - ttl` and featc's window
  `(t - W, t]` does not (with the dask store; the duckdb store refuses such a ttl, so
  there it is `W`, and rows with an event at exactly `t - W` differ); no ttl for
  lifetime features.

Timed (median of --runs, inputs in memory for both): `store.get_historical_features(
entity_df, features).to_df()` on the spine (with a row number column, to restore
spine order after; Feast reorders rows), against `featc.Project(CASE).training_set(
spine_df, sources={"events": events_df}, features=FEATURES, progress=False)`.
Checked: Feast's values against featc's with bench/peers/compare.py's rules.
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from common import CASE, compare_tables, emit, emit_times, rounds

import featc  # noqa: E402

US = timedelta(microseconds=1)
# (feature, window, value column, row filter): featc's `last` features of the case.
LASTS = [
    ("amount_last_1h", timedelta(hours=1), "amount", None),
    ("amount_last_life", None, "amount", None),
    ("category_last_life", None, "category", None),
    ("mobile_last_1d", timedelta(days=1), "is_mobile", None),
    ("desktop_amount_last_7d", timedelta(days=7), "amount", "desktop"),
]


def prepare_sources(events: pd.DataFrame, folder: Path) -> dict[str, Path]:
    """One Parquet source per feature: its non-null (and filtered) rows, one per
    (user, time) holding the greatest value."""
    paths = {}
    for name, _, column, flt in LASTS:
        keep = events[column].notna()
        if flt == "desktop":
            keep &= events["is_mobile"] != True  # noqa: E712  (null is not True)
        rows = events.loc[keep, ["user_id", "ts", column]]
        rows = rows.sort_values(["user_id", "ts", column], kind="stable")
        rows = rows.drop_duplicates(["user_id", "ts"], keep="last")
        rows = rows.rename(columns={"ts": "event_timestamp", column: name})
        path = folder / f"{name}.parquet"
        rows.to_parquet(path, index=False)
        paths[name] = path
    return paths


def ttl(window: timedelta | None, offline_store: str) -> timedelta:
    """A view's ttl: none for a lifetime feature; `W - 1us`, so that Feast's rows at
    or after `t - ttl` are featc's `(t - W, t]`; but the duckdb store (through ibis)
    refuses a ttl with microseconds, so it gets `W` and keeps rows at exactly `t - W`
    that featc leaves out (the check counts them)."""
    if window is None:
        return timedelta(0)
    return window if offline_store == "duckdb" else window - US


def make_store(folder: Path, sources: dict[str, Path], offline_store: str):
    """A Feast repository in `folder` with one entity and one view per feature, over
    the offline store `offline_store` (`dask` or `duckdb`)."""
    from feast import Entity, FeatureStore, FeatureView, Field, FileSource, ValueType
    from feast.types import Bool, Float64, String

    (folder / "feature_store.yaml").write_text(
        "project: featc_bench\n"
        "registry: registry.db\n"
        "provider: local\n"
        "online_store:\n  type: sqlite\n  path: online.db\n"
        f"offline_store:\n  type: {offline_store}\n"
        "entity_key_serialization_version: 3\n"
    )
    user = Entity(name="user", join_keys=["user_id"], value_type=ValueType.INT64)
    types = {"amount": Float64, "category": String, "is_mobile": Bool}
    views = []
    for name, window, column, _ in LASTS:
        source = FileSource(name=f"{name}_src", path=str(sources[name]), timestamp_field="event_timestamp")
        views.append(
            FeatureView(
                name=f"{name}_view",
                entities=[user],
                ttl=ttl(window, offline_store),
                schema=[Field(name=name, dtype=types[column])],
                source=source,
                online=False,
            )
        )
    store = FeatureStore(repo_path=str(folder))
    store.apply([user, *views])
    return store, [f"{name}_view:{name}" for name, *_ in LASTS]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--size", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--results")
    ap.add_argument("--offline-store", default="dask", choices=["dask", "duckdb"])
    args = ap.parse_args()

    features = [name for name, *_ in LASTS]
    spine_pa = pq.read_table(f"{args.data}/spine.parquet")
    events_pa = pq.read_table(f"{args.data}/events.parquet")
    spine_df, events_df = spine_pa.to_pandas(), events_pa.to_pandas()

    folder = Path(tempfile.mkdtemp(prefix="featc-feast-"))
    store, refs = make_store(folder, prepare_sources(events_df, folder), args.offline_store)
    entity_df = pd.DataFrame(
        {
            "user_id": spine_df["user_id"],
            "event_timestamp": pd.to_datetime(spine_df["ts"], utc=True),
            "spine_row": range(len(spine_df)),
        }
    )

    def run_featc():
        return featc.Project(str(CASE)).training_set(spine_df, sources={"events": events_df},
                                                     features=features, progress=False)

    def run_feast():
        return store.get_historical_features(entity_df=entity_df, features=refs).to_df()

    feast = f"feast_{args.offline_store}"
    times, last = rounds({"featc": run_featc, feast: run_feast}, args.runs)
    emit_times(args.results, times, args.size, prefix=f"{feast}_peer:", features=len(features))
    featc_table, feast_df = last["featc"], last[feast]
    # Spine order, featc's types (Feast gives NaN for a missing float, None or NaN
    # for the others), for the comparison only.
    # Feast may answer fewer rows than the spine has (its dask store does): the rows
    # it left out compare as nulls and are counted.
    answered = feast_df["spine_row"].nunique()
    duplicated = len(feast_df) - answered
    feast_df = feast_df.drop_duplicates("spine_row").set_index("spine_row").reindex(range(len(spine_df)))
    cols = []
    for field in featc_table.schema:
        if field.name in features:
            values = feast_df[field.name].astype(object)
            cols.append(pa.array(values.where(values.notna(), None), type=field.type))
        else:
            cols.append(featc_table.column(field.name))
    feast_table = pa.Table.from_arrays(cols, schema=pa.schema([pa.field(f.name, f.type) for f in featc_table.schema]))
    verdict = compare_tables(featc_table, feast_table, features)
    verdict["spine rows answered"] = f"{answered} of {len(spine_df)}"
    verdict["spine rows answered twice"] = duplicated
    emit(args.results, what=f"{feast}_peer_checks", size=args.size, features=features, check=verdict)


if __name__ == "__main__":
    main()
