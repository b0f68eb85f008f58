"""Feast's own SDK against `featc serve` (docs/serving.md, "Feast"): the Feast repo of
that section (its `feature_store.yaml` and definitions, taken from the page, so the page
is what runs), pointed at a server of examples/fraud; reads through
`FeatureStore.get_online_features` by features, by service, with full feature names and
with the composite key, every cell compared with `featc training-set` at the server's
read time; then `store.push` of new events and the same comparison with those events
added to the source's file; then the errors Feast raises for featc's refusals.

Usage: check.py FEATC WORK (run by scripts/check-feast.sh, from the repository root).
Exits 1 with the differences on any mismatch."""
import json
import math
import re
import runpy
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "examples" / "fraud"
# The spine's users and merchants, plus ones featc never saw (NOT_FOUND).
ROWS = 40
UNKNOWN = (987654, "m_nowhere")


def docs_blocks():
    """The yaml and python blocks of docs/serving.md's "Feast" section."""
    text = (ROOT / "docs" / "serving.md").read_text()
    section = text.split("\n## Feast\n", 1)[1].split("\n## ", 1)[0]
    yaml = re.findall(r"^```yaml\n(.*?)^```", section, flags=re.S | re.M)
    python = re.findall(r"^```python\n(.*?)^```", section, flags=re.S | re.M)
    assert len(yaml) == 1 and len(python) == 1, "the Feast section has one yaml and one python block"
    return yaml[0], python[0]


def start_server(featc, work):
    """`featc serve examples/fraud --bootstrap --clock events` on a free loopback port,
    once ready: (process, url)."""
    log = open(work / "serve.log", "w")
    proc = subprocess.Popen(
        [featc, "serve", str(PROJECT), "--listen", "127.0.0.1:0", "--bootstrap", "--clock", "events"],
        stdout=subprocess.PIPE, stderr=log, text=True, cwd=ROOT,
    )
    line = proc.stdout.readline()
    match = re.match(r"listening on (http://\S+)", line)
    if not match:
        proc.kill()
        raise SystemExit(f"featc serve did not start: {line!r}\n{(work / 'serve.log').read_text()}")
    url = match.group(1)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=5) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("featc serve did not finish its bootstrap in 120 s")


def read_time(url):
    """The server's read time (under `--clock events`, its latest event), which Feast's
    client does not show: asked with a plain request."""
    body = json.dumps({"features": ["txn_count_1h"], "entities": {"user_id": [1]}}).encode()
    request = urllib.request.Request(f"{url}/get-online-features", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.loads(r.read())["metadata"]["at"]


def feast_store(work, url):
    """The docs' Feast repo in WORK/repo, its online store the server at `url`, applied."""
    from feast import FeatureStore
    from feast.base_feature_view import BaseFeatureView
    from feast.data_source import DataSource
    from feast.entity import Entity
    from feast.feature_service import FeatureService

    yaml, python = docs_blocks()
    repo = work / "repo"
    repo.mkdir()
    (repo / "feature_store.yaml").write_text(yaml.replace("http://127.0.0.1:6566", url))
    (repo / "definitions.py").write_text(python)
    objects = runpy.run_path(str(repo / "definitions.py"))
    kinds = (BaseFeatureView, DataSource, Entity, FeatureService)
    store = FeatureStore(repo_path=str(repo))
    store.apply([o for o in objects.values() if isinstance(o, kinds)])
    return store


def expected(featc, work, at, rows, label, sources=()):
    """`featc training-set` of every feature at `at` for `rows` (user, merchant)."""
    spine = work / f"spine-{label}.csv"
    pd.DataFrame({
        "user_id": [u for u, _ in rows],
        "merchant_id": [m for _, m in rows],
        "ts": [at] * len(rows),
    }).to_csv(spine, index=False)
    out = work / f"expected-{label}.parquet"
    args = [featc, "training-set", str(PROJECT), "--spine", str(spine), "--out", str(out), "--quiet"]
    for s in sources:
        args += ["--source", s]
    subprocess.run(args, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return pd.read_parquet(out)


def same(got, want):
    """A served value against a training-set cell: exact, times as instants."""
    if want is None or (isinstance(want, float) and math.isnan(want)) or want is pd.NaT:
        return got is None
    if isinstance(want, pd.Timestamp):
        return got is not None and pd.Timestamp(got) == want
    if isinstance(want, float):
        return isinstance(got, (int, float)) and float(got) == want
    return got == want


def compare(what, answer, want, names, keys):
    """Every feature's column of Feast's answer (`names`: answer name -> training-set
    column) against the training set; the entity columns first, in the order sent."""
    problems = []
    if list(answer)[: len(keys)] != keys:
        problems.append(f"{what}: entity columns {list(answer)[:len(keys)]}, sent {keys}")
    for name, column in names.items():
        if name not in answer:
            problems.append(f"{what}: no `{name}` in the answer ({list(answer)})")
            continue
        for row, (got, cell) in enumerate(zip(answer[name], want[column])):
            cell = None if cell is pd.NaT else cell
            if not same(got, cell.item() if hasattr(cell, "item") else cell):
                problems.append(f"{what}: `{name}` row {row}: served {got!r}, training set {cell!r}")
    cells = len(names) * len(want)
    print(f"check-feast: {what}: {cells} cells, {len(problems)} different")
    return problems


def reads(store, want, rows, label):
    """Feast's reads in every mode, against the training set `want`."""
    views = {fv.name: [f.name for f in fv.features] for fv in store.list_feature_views()}
    computed = {v: fs for v, fs in views.items() if v not in ("transactions", "logins")}
    refs = [f"{v}:{f}" for v, fs in computed.items() for f in fs]
    users = [u for u, _ in rows]
    merchants = [m for _, m in rows]
    # `user_id` first: a read that sorted the entity columns would answer `merchant_id` first.
    entities = {"user_id": users, "merchant_id": merchants}
    problems = []
    answer = store.get_online_features(features=refs, entity_rows=entities).to_dict()
    problems += compare(f"{label}, by features", answer, want,
                        {r.split(":")[1]: r.split(":")[1] for r in refs}, ["user_id", "merchant_id"])
    service = store.get_feature_service("fraud_v1")
    answer = store.get_online_features(features=service, entity_rows=entities).to_dict()
    names = [f.name for p in service.feature_view_projections for f in p.features]
    problems += compare(f"{label}, by service fraud_v1", answer, want,
                        {n: n for n in names}, ["user_id", "merchant_id"])
    answer = store.get_online_features(features=refs, entity_rows=entities,
                                       full_feature_names=True).to_dict()
    problems += compare(f"{label}, full feature names", answer, want,
                        {r.replace(":", "__"): r.split(":")[1] for r in refs}, ["user_id", "merchant_id"])
    pair = [f"user_merchant_history:{f}" for f in computed["user_merchant_history"]]
    rows_as_dicts = [{"merchant_id": m, "user_id": u} for u, m in rows]
    answer = store.get_online_features(features=pair, entity_rows=rows_as_dicts).to_dict()
    problems += compare(f"{label}, composite key (rows, merchant_id first)", answer, want,
                        {r.split(":")[1]: r.split(":")[1] for r in pair}, ["merchant_id", "user_id"])
    return problems


def pushed_events(at):
    """New transactions just after the server's read time: one for a user featc has,
    three for one it never saw."""
    start = pd.Timestamp(at)
    times = [start + pd.Timedelta(seconds=s) for s in (1, 2, 3, 4)]
    return pd.DataFrame({
        "ts": times,
        "user_id": [14, UNKNOWN[0], UNKNOWN[0], UNKNOWN[0]],
        "merchant_id": ["m_grocer", UNKNOWN[1], UNKNOWN[1], "m_books"],
        "amount": [250.0, 12.5, None, 40.25],
        "category": ["travel", "dining", "grocery", "retail"],
        "is_mobile": [True, False, None, True],
    })


def with_events(work, events):
    """The transactions file with `events` appended, as `featc training-set --source`."""
    path = work / "transactions-pushed.csv"
    text = (PROJECT / "data" / "transactions.csv").read_text()
    lines = [
        ",".join([
            str(r.user_id), r.merchant_id, r.ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "" if pd.isna(r.amount) else repr(r.amount), r.category,
            "" if r.is_mobile is None else str(r.is_mobile).lower(),
        ])
        for r in events.itertuples()
    ]
    path.write_text(text.rstrip("\n") + "\n" + "\n".join(lines) + "\n")
    return f"transactions={path}"


def errors(store):
    """featc's refusals raise Feast's exceptions with featc's messages."""
    from feast.errors import FeastError, FeastObjectNotFoundException
    from feast.infra.online_stores.remote import post_remote_online_write

    problems = []
    try:
        store.get_online_features(features=["user_spend:txn_count_7"], entity_rows=[{"user_id": 1}])
        problems.append("an unknown feature was answered")
    except FeastObjectNotFoundException as e:
        if "did you mean `user_spend:txn_count_7d`" not in str(e):
            problems.append(f"unknown feature: {e}")
    try:
        post_remote_online_write(config=store.config, req_body={
            "feature_view_name": "user_spend", "df": {"user_id": [1]}, "allow_registry_cache": False})
        problems.append("a write to a view was accepted")
    except FeastError as e:
        if "is a featc view" not in str(e):
            problems.append(f"write to a view: {type(e).__name__}: {e}")
    print(f"check-feast: errors: {len(problems)} wrong")
    return problems


def main():
    featc, work = sys.argv[1], Path(sys.argv[2])
    spine = pd.read_csv(PROJECT / "data" / "spine.csv").head(ROWS)
    rows = list(zip(spine.user_id.tolist(), spine.merchant_id.tolist())) + [UNKNOWN]
    proc, url = start_server(featc, work)
    try:
        store = feast_store(work, url)
        at = read_time(url)
        problems = reads(store, expected(featc, work, at, rows, "history"), rows, f"at {at}")
        events = pushed_events(at)
        store.push("transactions", events)
        after = read_time(url)
        want = expected(featc, work, after, rows, "pushed", [with_events(work, events)])
        problems += reads(store, want, rows, f"after store.push, at {after}")
        if after == at:
            problems.append("store.push did not move the read time")
        problems += errors(store)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    if problems:
        print("\n".join(problems[:50]))
        raise SystemExit(1)


if __name__ == "__main__":
    main()
