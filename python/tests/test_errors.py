"""Every error path raises a `featc.Error` subclass whose message says what is wrong
and where: compile errors (the CLI's text, and the diagnostics as data), unknown
names, missing columns, wrong types, bad values, a closed store."""
import datetime as dt
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import featc
from conftest import CASES, EXAMPLES, run_cli

BROKEN = """source events {
    time ts
    columns { user_id: int64  amount: float64 }
    file "events.parquet"
}
entity user { key user_id: int64 }
view spend from events by user {
    feature total = sum(amonut) over 1d
}
"""


def test_a_compile_error_has_the_cli_text_and_the_diagnostics(tmp_path):
    (tmp_path / "broken.feat").write_text(BROKEN)
    with pytest.raises(featc.CompileError) as caught:
        featc.Project(tmp_path)
    e = caught.value
    cli = run_cli("check", str(tmp_path))
    assert cli.returncode == 1
    assert str(e) == cli.stderr.rstrip("\n")
    [d] = e.diagnostics
    assert d.code == "E0004"
    assert d.file == str(tmp_path / "broken.feat")
    assert (d.line, d.column) == (8, 25)
    assert "amonut" in d.message
    assert d.hint and "amount" in d.hint
    assert isinstance(e, featc.Error)


def test_no_feat_files_is_an_error(tmp_path):
    with pytest.raises(featc.Error, match="no .feat files"):
        featc.Project(tmp_path)
    with pytest.raises(featc.Error, match="cannot read"):
        featc.Project(tmp_path / "missing")


def synthetic():
    case = CASES / "synthetic"
    return case, featc.Project(case), pq.read_table(case / "spine.parquet")


def test_unknown_names():
    case, project, spine = synthetic()
    with pytest.raises(featc.UnknownNameError, match="no feature `txn_count_7` .*did you mean `txn_count_7d`"):
        project.training_set(spine, features=["txn_count_7"], progress=False)
    with pytest.raises(featc.UnknownNameError, match="no service `nope`"):
        project.training_set(spine, service="nope", progress=False)
    with pytest.raises(featc.UnknownNameError, match="no source `evnts` .*did you mean `events`"):
        project.training_set(spine, sources={"evnts": spine}, progress=False)
    with pytest.raises(LookupError):
        project.online().get({"user_id": [1]}, features=["nope"], at=0)
    with pytest.raises(featc.UnknownNameError, match="unknown service"):
        project.online().get({"user_id": [1]}, service="nope", at=0)
    with pytest.raises(featc.UnknownNameError, match="no source `nope`"):
        project.online().push("nope", spine)


def test_a_spine_without_its_key_or_time_column():
    case, project, spine = synthetic()
    with pytest.raises(featc.DataError, match="spine: column `user_id` is missing .*it has: ts, label"):
        project.training_set(spine.drop_columns(["user_id"]), progress=False)
    with pytest.raises(featc.DataError, match="spine: column `ts` is missing"):
        project.training_set(spine.rename_columns(["user_id", "time", "label"]), progress=False)
    with pytest.raises(featc.DataError, match="null in the time column `ts` \\(row 2\\)"):
        ts = pa.array([0, None] + [0] * (spine.num_rows - 2), pa.timestamp("us", tz="UTC"))
        project.training_set(spine.set_column(1, "ts", ts), progress=False)


def test_a_column_of_the_wrong_type():
    case, project, spine = synthetic()
    with pytest.raises(featc.DataError, match="spine: column `user_id` should be int64, but the data has Utf8"):
        project.training_set(spine.set_column(0, "user_id", spine.column("user_id").cast(pa.string())), progress=False)
    events = pq.read_table(case / "events.parquet")
    bad = events.set_column(events.schema.get_field_index("amount"), "amount", events.column("amount").cast(pa.string()))
    with pytest.raises(featc.DataError, match="source `events`: column `amount` should be float64, but the data has Utf8"):
        project.training_set(spine, sources={"events": bad}, progress=False)


def test_pandas_integers_with_missing_values_get_a_hint():
    pd = pytest.importorskip("pandas")
    case, project, spine = synthetic()
    df = spine.to_pandas()
    df["user_id"] = df["user_id"].astype("float64")
    with pytest.raises(featc.DataError, match='should be int64.*astype\\("Int64"\\)'):
        project.training_set(df, progress=False)


def test_a_bad_cell_in_a_file_is_located(tmp_path):
    fraud = tmp_path / "fraud"
    shutil.copytree(EXAMPLES / "fraud", fraud)
    path = fraud / "data" / "transactions.csv"
    lines = path.read_text().splitlines()
    cells = lines[3].split(",")
    header = lines[0].split(",")
    cells[header.index("amount")] = "twelve"
    lines[3] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(featc.DataError, match="transactions.csv:4, column `amount`"):
        featc.Project(fraud).training_set(fraud / "data" / "spine.csv", progress=False)


def test_a_missing_input_file():
    case, project, spine = synthetic()
    with pytest.raises(featc.DataError, match="cannot read `/nonexistent.parquet`"):
        project.training_set("/nonexistent.parquet", progress=False)


def test_bad_inputs_are_type_errors():
    case, project, spine = synthetic()
    with pytest.raises(TypeError, match="spine: expected a pyarrow Table"):
        project.training_set(42, progress=False)
    with pytest.raises(TypeError, match="service or features, not both"):
        project.training_set(spine, service="a", features=["b"], progress=False)
    with pytest.raises(TypeError, match="at: expected"):
        project.online().get({"user_id": [1]}, at=[1])


def test_bad_pushes_are_refused_whole():
    project = featc.Project(EXAMPLES / "fraud")
    store = project.online()
    good = {
        "ts": [dt.datetime(2024, 3, 1, 12, 0)] * 2,
        "user_id": [1, 2],
        "merchant_id": ["m", "m"],
        "amount": [1.0, 2.0],
        "category": ["food", None],
        "is_mobile": [True, False],
    }
    with pytest.raises(featc.DataError, match="column `category`: null in a column that is not nullable"):
        store.push("transactions", good)
    assert store.metrics()["events"] == 0
    missing = {k: v for k, v in good.items() if k != "merchant_id"}
    with pytest.raises(featc.DataError, match="merchant_id"):
        store.push("transactions", missing)
    typed = dict(good, category=["food", "x"], user_id=["1", "2"])
    with pytest.raises(featc.DataError, match="user_id"):
        store.push("transactions", typed)
    assert store.metrics()["events"] == 0


# A read time (a bare integer 0 is no time: only 16-digit microseconds are).
AT = "2024-03-01T12:00:00Z"


def test_a_read_missing_a_key_column_or_request_field():
    project = featc.Project(EXAMPLES / "fraud")
    store = project.online()
    with pytest.raises(featc.DataError, match="column `merchant_id`"):
        store.get({"user_id": [1]}, service="fraud_v1", at=AT)
    delivery = featc.Project(EXAMPLES / "delivery")
    names = delivery.services["eta_v2"]
    with pytest.raises(featc.DataError, match="entities.*column"):
        keys = {c["name"]: [1] for e in delivery.catalog()["entities"] for c in e["keys"]}
        delivery.online().get(keys, service="eta_v2", at=AT)
    assert names


def test_a_state_directory_of_other_features_is_refused(tmp_path):
    featc.Project(EXAMPLES / "fraud").online(tmp_path / "state").close()
    with pytest.raises(featc.StateError, match="built for other features"):
        featc.Project(CASES / "synthetic").online(tmp_path / "state")
