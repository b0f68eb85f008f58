//! The `featc` data commands on the fraud example: `training-set` and `replay` agree
//! byte for byte, and bad data stops with an error naming the source, column and row.

use std::path::{Path, PathBuf};

use crate::cli_common;

use cli_common::{featc, stderr};

/// A fresh scratch folder for one test.
fn scratch(test: &str) -> PathBuf {
    cli_common::scratch(&format!("cli_data/{test}"))
}

const SPINE: &str = "examples/fraud/data/spine.csv";
const TRANSACTIONS: &str = "examples/fraud/data/transactions.csv";

/// The fraud transactions with `edit` applied to every line (header included).
fn edited_transactions(dir: &Path, edit: impl Fn(usize, &str) -> Option<String>) -> String {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(TRANSACTIONS),
    )
    .expect("transactions");
    let lines: Vec<String> = text
        .lines()
        .enumerate()
        .filter_map(|(i, l)| edit(i, l))
        .collect();
    let path = dir.join("transactions.csv");
    std::fs::write(&path, lines.join("\n") + "\n").expect("write");
    path.display().to_string()
}

/// `featc COMMAND` (training-set or replay) on the fraud example with its
/// transactions read from `tx`, writing into `dir`.
fn run_with_transactions(command: &str, dir: &Path, tx: &str) -> std::process::Output {
    let out = dir.join("o.csv").display().to_string();
    featc(&[
        command,
        "examples/fraud",
        "--spine",
        SPINE,
        "--source",
        &format!("transactions={tx}"),
        "--out",
        &out,
    ])
}

#[test]
fn training_set_and_replay_write_the_same_file() {
    let dir = scratch("same");
    let batch = dir.join("batch.csv").display().to_string();
    let replay = dir.join("replay.csv").display().to_string();
    let o = featc(&[
        "training-set",
        "examples/fraud",
        "--spine",
        SPINE,
        "--service",
        "fraud_v1",
        "--out",
        &batch,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = featc(&[
        "replay",
        "examples/fraud",
        "--spine",
        SPINE,
        "--service",
        "fraud_v1",
        "--out",
        &replay,
        "--disorder",
        "5m",
        "--batch-size",
        "13",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let batch = std::fs::read_to_string(batch).expect("batch output");
    let replay = std::fs::read_to_string(replay).expect("replay output");
    assert_eq!(batch, replay);
    let header = batch.lines().next().expect("a header");
    assert!(
        header.starts_with("user_id,merchant_id,ts,is_fraud,txn_count_1h,txn_count_7d,"),
        "{header}"
    );
    assert_eq!(batch.lines().count(), 301, "300 spine rows and a header");
}

#[test]
fn a_missing_source_column_is_named() {
    let dir = scratch("missing_column");
    // Drop the fourth column (`amount`) from every line.
    let tx = edited_transactions(&dir, |_, l| {
        let mut cells: Vec<&str> = l.split(',').collect();
        cells.remove(3);
        Some(cells.join(","))
    });
    let o = run_with_transactions("training-set", &dir, &tx);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("source `transactions`") && err.contains("`amount`"),
        "{err}"
    );
}

#[test]
fn a_null_in_a_key_column_declared_non_nullable_is_named() {
    let dir = scratch("null_key");
    let tx = edited_transactions(&dir, |i, l| {
        Some(if i == 5 {
            l.split_once(',').map(|(_, r)| format!(",{r}")).unwrap()
        } else {
            l.to_string()
        })
    });
    let o = run_with_transactions("training-set", &dir, &tx);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("source `transactions`") && err.contains("`user_id`"),
        "{err}"
    );
}

#[test]
fn a_spine_without_a_key_column_says_which() {
    let dir = scratch("spine_key");
    let spine_text =
        std::fs::read_to_string(featc_test_support::paths::repo_root().join(SPINE)).expect("spine");
    let cut: Vec<String> = spine_text
        .lines()
        .map(|l| {
            let mut cells: Vec<&str> = l.split(',').collect();
            cells.remove(1);
            cells.join(",")
        })
        .collect();
    let spine = dir.join("spine.csv");
    std::fs::write(&spine, cut.join("\n") + "\n").expect("write spine");
    let out = dir.join("o.csv").display().to_string();
    let o = featc(&[
        "training-set",
        "examples/fraud",
        "--spine",
        &spine.display().to_string(),
        "--out",
        &out,
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("spine") && err.contains("`merchant_id`"),
        "{err}"
    );
}

#[test]
fn import_spec_writes_a_project_that_checks() {
    let dir = scratch("import_spec");
    let out = dir.join("marketplace.feat").display().to_string();
    let o = featc(&["import-spec", "tests/cases/marketplace", "--out", &out]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).expect("the project");
    assert!(
        text.contains("service spec {") && text.contains("source reviews {"),
        "{text}"
    );
    let o = featc(&["check", &out]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = featc(&["import-spec", "examples/fraud"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("spec.json"), "{}", stderr(&o));
}

#[test]
fn an_unparsable_cell_names_the_source_column_and_row() {
    let dir = scratch("bad_cell");
    let tx = edited_transactions(&dir, |i, l| {
        Some(if i == 7 {
            let mut cells: Vec<&str> = l.split(',').collect();
            cells[3] = "twelve";
            cells.join(",")
        } else {
            l.to_string()
        })
    });
    for command in ["training-set", "replay"] {
        let o = run_with_transactions(command, &dir, &tx);
        assert_eq!(o.status.code(), Some(2), "{command}");
        let err = stderr(&o);
        assert!(
            err.contains("source `transactions`")
                && err.contains("`amount`")
                && err.contains("twelve"),
            "{command}: {err}"
        );
    }
}

/// The fraud spine with extra columns that type inference would change (a timestamp
/// read as a number, leading zeros lost, a type guessed from the first rows), and
/// optionally a column named like a feature.
fn spine_with_extra_columns(dir: &Path, clash: bool) -> String {
    let text =
        std::fs::read_to_string(featc_test_support::paths::repo_root().join(SPINE)).expect("spine");
    let (clash_head, clash_cell) = if clash {
        (",txn_count_1h", ",1")
    } else {
        ("", "")
    };
    let rows: Vec<&str> = text.lines().collect();
    let lines: Vec<String> = rows
        .iter()
        .enumerate()
        .map(|(i, l)| match i {
            0 => format!("{l},signup,zip,ticket{clash_head}"),
            _ => {
                // The last ticket is not a number: a type guessed from the first rows fails.
                let ticket = if i == rows.len() - 1 {
                    format!("T-{i}")
                } else {
                    i.to_string()
                };
                format!("{l},2023-12-01T08:30:00Z,02134,{ticket}{clash_cell}")
            }
        })
        .collect();
    let path = dir.join("spine.csv");
    std::fs::write(&path, lines.join("\n") + "\n").expect("write");
    path.display().to_string()
}

/// `featc COMMAND` (training-set or replay) on the fraud example with spine `spine`;
/// the output path is returned with the process output.
fn run_with_spine(command: &str, dir: &Path, spine: &str) -> (std::process::Output, String) {
    let out = dir.join(format!("{command}.csv")).display().to_string();
    let o = featc(&[command, "examples/fraud", "--spine", spine, "--out", &out]);
    (o, out)
}

#[test]
fn a_csv_spines_other_columns_come_out_as_written() {
    let dir = scratch("spine_text");
    let spine = spine_with_extra_columns(&dir, false);
    for command in ["training-set", "replay"] {
        let (o, out) = run_with_spine(command, &dir, &spine);
        assert!(o.status.success(), "{command}: {}", stderr(&o));
        let text = std::fs::read_to_string(&out).expect("output");
        let mut lines = text.lines();
        assert!(lines.next().expect("header").contains("signup,zip,ticket"));
        let rows: Vec<&str> = lines.collect();
        assert!(
            rows[0].contains(",2023-12-01T08:30:00Z,02134,1,"),
            "{command}: {}",
            rows[0]
        );
        let last = rows.last().expect("rows");
        assert!(
            last.contains(&format!(",02134,T-{},", rows.len())),
            "{command}: {last}"
        );
    }
}

#[test]
fn a_feature_named_like_a_spine_column_is_refused_by_both_paths() {
    let dir = scratch("spine_clash");
    let spine = spine_with_extra_columns(&dir, true);
    for command in ["training-set", "replay"] {
        let (o, _) = run_with_spine(command, &dir, &spine);
        assert!(!o.status.success(), "{command} accepted the clash");
        assert!(
            stderr(&o).contains("feature `txn_count_1h` has the name of a spine column"),
            "{command}: {}",
            stderr(&o)
        );
    }
}

/// The delivery example (percentiles, shifted windows, a freshness contract): the
/// streaming replay, events shuffled within the lateness, writes the training set's
/// bytes.
#[test]
fn the_delivery_example_replays_to_its_training_set() {
    let dir = scratch("delivery");
    let spine = "examples/delivery/data/spine.csv";
    let batch = dir.join("batch.csv").display().to_string();
    let replay = dir.join("replay.csv").display().to_string();
    let o = featc(&[
        "training-set",
        "examples/delivery",
        "--spine",
        spine,
        "--out",
        &batch,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = featc(&[
        "replay",
        "examples/delivery",
        "--spine",
        spine,
        "--out",
        &replay,
        "--disorder",
        "10m",
        "--batch-size",
        "7",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let batch = std::fs::read_to_string(batch).expect("batch output");
    assert_eq!(
        batch,
        std::fs::read_to_string(replay).expect("replay output")
    );
    assert_eq!(batch.lines().count(), 53, "52 spine rows and a header");

    // The service with request fields: the spine's coordinates and `items` columns.
    let batch = dir.join("eta_v2_batch.csv").display().to_string();
    let replay = dir.join("eta_v2_replay.csv").display().to_string();
    for (command, out) in [("training-set", &batch), ("replay", &replay)] {
        let o = featc(&[
            command,
            "examples/delivery",
            "--service",
            "eta_v2",
            "--spine",
            spine,
            "--out",
            out,
        ]);
        assert!(o.status.success(), "{command}: {}", stderr(&o));
    }
    let batch = std::fs::read_to_string(batch).expect("batch output");
    assert_eq!(
        batch,
        std::fs::read_to_string(replay).expect("replay output")
    );
    let header = batch.lines().next().unwrap_or_default();
    assert_eq!(
        header,
        "restaurant_id,ts,pickup_lat,pickup_lon,drop_lat,drop_lon,items,minutes_p50_7d,minutes_p90_trend,distance_km,eta_minutes,large_order"
    );
}

/// The checkout example (count windows, a view over two sources, chained as-of
/// lookups, dates, decimals, lists and embeddings): the streaming replay, events
/// shuffled within the lateness and looked-up values waiting for their sources,
/// writes the training set's bytes, for every feature and for its service.
#[test]
fn the_checkout_example_replays_to_its_training_set() {
    let dir = scratch("checkout");
    let spine = "examples/checkout/data/spine.csv";
    for service in [None, Some("fraud_v1")] {
        let mut outputs = Vec::new();
        for (command, extra) in [
            ("training-set", &[][..]),
            ("replay", &["--disorder", "5m", "--batch-size", "7"][..]),
        ] {
            let out = dir
                .join(format!("{command}-{}.csv", service.unwrap_or("all")))
                .display()
                .to_string();
            let mut args = vec![
                command,
                "examples/checkout",
                "--spine",
                spine,
                "--out",
                &out,
            ];
            if let Some(s) = service {
                args.extend(["--service", s]);
            }
            args.extend(extra);
            let o = featc(&args);
            assert!(o.status.success(), "{command} {service:?}: {}", stderr(&o));
            outputs.push(std::fs::read_to_string(&out).expect("output"));
        }
        assert_eq!(outputs[0], outputs[1], "{service:?}");
        assert_eq!(
            outputs[0].lines().count(),
            161,
            "160 spine rows and a header"
        );
    }
}

/// A small project whose features are lists of every kind of item: strings that need
/// escaping, floats with a signed zero, timestamps with a fraction of a second,
/// bools, counted lists, empty lists for an unknown entity and an empty window.
const LIST_PROJECT: &str = r#"
source events {
    time ts
    columns { user: int64  item: string  price: float64?  seen: timestamp  ok: bool }
    file "events.csv"
}
entity user { key user: int64 }
view v from events by user {
    feature items_last2   = last_k(item, 2) over 1d
    feature prices_first3 = first_k(price, 3)
    feature seen_last1    = last_k(seen, 1)
    feature ok_top        = top_k(ok, 2)
    feature items_top     = top_k(item, 5) over 1d
}
"#;

const LIST_EVENTS: &str = "ts,user,item,price,seen,ok
2024-03-01T00:00:00Z,1,\"a \"\"b\"\"\",1.5,2024-02-01T00:00:00Z,true
2024-03-01T00:00:01Z,1,c,-0.0,2024-02-01T00:00:00.000250Z,false
2024-03-01T00:00:01Z,1,a,,2024-02-01T00:00:00Z,true
2024-03-01T00:00:02Z,2,c,2.0,2024-02-01T00:00:00Z,true
";

const LIST_SPINE: &str = "user,ts
1,2024-03-01T00:00:05Z
2,2024-03-01T00:00:05Z
3,2024-03-01T00:00:05Z
1,2024-03-03T00:00:00Z
";

/// The cells of a CSV line (quoted fields with doubled quotes, as Arrow writes them).
fn csv_cells(line: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let (mut quoted, mut chars) = (false, line.chars().peekable());
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cells.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => cells.push(String::new()),
            (c, _) => cells.last_mut().unwrap().push(c),
        }
    }
    cells
}

/// List features in a training set: Arrow lists in Parquet (exact types), their JSON
/// text in CSV (exact text), the same values both ways and from `replay`.
#[test]
fn list_features_are_arrow_lists_in_parquet_and_json_text_in_csv() {
    use datafusion::arrow::datatypes::{DataType, Field, Fields, TimeUnit};
    use featc_runtime::row::list::{json_text, list_at, list_type_of};
    use featc_runtime::value::Value;
    use std::sync::Arc;

    let dir = scratch("lists");
    std::fs::write(dir.join("lists.feat"), LIST_PROJECT).expect("project");
    std::fs::write(dir.join("events.csv"), LIST_EVENTS).expect("events");
    std::fs::write(dir.join("spine.csv"), LIST_SPINE).expect("spine");
    let path = |name: &str| dir.join(name).display().to_string();
    for (command, out) in [
        ("training-set", "batch.csv"),
        ("training-set", "batch.parquet"),
        ("replay", "replay.parquet"),
    ] {
        let o = featc(&[
            command,
            &path(""),
            "--spine",
            &path("spine.csv"),
            "--out",
            &path(out),
        ]);
        assert!(o.status.success(), "{command} {out}: {}", stderr(&o));
    }

    let csv = std::fs::read_to_string(path("batch.csv")).expect("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "user,ts,items_last2,prices_first3,seen_last1,ok_top,items_top"
    );
    let rows: Vec<Vec<String>> = lines[1..].iter().map(|l| csv_cells(l)).collect();
    let want: [[&str; 5]; 4] = [
        [
            r#"["c","a"]"#,
            "[1.5,-0.0]",
            r#"["2024-02-01T00:00:00.000250Z"]"#,
            r#"[{"value":true,"count":2},{"value":false,"count":1}]"#,
            r#"[{"value":"a","count":1},{"value":"a \"b\"","count":1},{"value":"c","count":1}]"#,
        ],
        [
            r#"["c"]"#,
            "[2.0]",
            r#"["2024-02-01T00:00:00Z"]"#,
            r#"[{"value":true,"count":1}]"#,
            r#"[{"value":"c","count":1}]"#,
        ],
        ["[]", "[]", "[]", "[]", "[]"],
        [
            "[]",
            "[1.5,-0.0]",
            r#"["2024-02-01T00:00:00.000250Z"]"#,
            r#"[{"value":true,"count":2},{"value":false,"count":1}]"#,
            "[]",
        ],
    ];
    assert_eq!(rows.len(), want.len());
    for (row, want) in rows.iter().zip(&want) {
        assert_eq!(&row[2..], want.as_slice(), "{row:?}");
    }
    // A quoted cell is written as Arrow writes any quoted text.
    assert!(lines[1].contains(r#","[""c"",""a""]","#), "{}", lines[1]);

    let read = |name: &str| featc_test_support::parquet::read_parquet(Path::new(&path(name)));
    // An uncounted list's items are nullable (a list column's may be null); a counted
    // list's entries are not.
    let list = |item: DataType| DataType::List(Arc::new(Field::new("item", item, true)));
    let counted = |value: DataType| {
        let entry = DataType::Struct(Fields::from(vec![
            Field::new("value", value, false),
            Field::new("count", DataType::Int64, false),
        ]));
        DataType::List(Arc::new(Field::new("item", entry, false)))
    };
    let types = [
        list(DataType::Utf8),
        list(DataType::Float64),
        list(DataType::Timestamp(
            TimeUnit::Microsecond,
            Some("UTC".into()),
        )),
        counted(DataType::Boolean),
        counted(DataType::Utf8),
    ];
    for file in ["batch.parquet", "replay.parquet"] {
        let batch = read(file);
        for (i, ty) in types.iter().enumerate() {
            let column = batch.column(i + 2);
            assert_eq!(column.data_type(), ty, "{file} column {i}");
            let list_type = list_type_of(ty).expect("a featc list");
            for (r, row) in rows.iter().enumerate() {
                match list_at(column.as_ref(), list_type, r) {
                    Some(Value::List(l)) => assert_eq!(json_text(&l), row[i + 2], "{file}"),
                    other => panic!("{file} row {r} column {i}: {other:?}"),
                }
            }
        }
    }
}

/// A project whose view `spend` looks up `merchants.reports_30d` at each payment's
/// merchant, with its sources and a spine in `dir`: the `--source` arguments and the
/// spine's path.
fn lookup_project(dir: &Path) -> (String, Vec<String>, String) {
    std::fs::copy(
        featc_test_support::paths::fixtures_dir().join("lookup.feat"),
        dir.join("lookup.feat"),
    )
    .expect("project");
    std::fs::write(
        dir.join("payments.csv"),
        "ts,user_id,merchant_id,amount\n\
         2024-01-01T00:00:00Z,1,7,20.0\n\
         2024-01-02T00:00:00Z,1,7,10.0\n\
         2024-01-02T00:00:00Z,1,8,5.0\n",
    )
    .expect("payments");
    std::fs::write(
        dir.join("reports.csv"),
        "ts,merchant_id,fraud\n2024-01-01T12:00:00Z,7,true\n",
    )
    .expect("reports");
    std::fs::write(
        dir.join("spine.csv"),
        "user_id,ts\n1,2024-01-03T00:00:00Z\n",
    )
    .expect("spine");
    let path = |name: &str| dir.join(name).display().to_string();
    let sources = ["payments", "reports"]
        .iter()
        .map(|s| format!("{s}={}", path(&format!("{s}.csv"))))
        .collect();
    (path("lookup.feat"), sources, path("spine.csv"))
}

/// `featc training-set` computes an as-of lookup (the payment of 2024-01-01 came before
/// its merchant's report, the one of 2024-01-02 after it); `featc replay` gives the same
/// table, byte for byte; `--emit stream` shows the lookup in its group; the SQL refuses
/// the feature that reads it (E0055), never reading the lookup as a source column.
#[test]
fn a_lookup_is_computed_by_training_sets_and_replays() {
    let dir = scratch("lookup");
    let (project, sources, spine) = lookup_project(&dir);
    let with_sources = |args: &[&str]| -> std::process::Output {
        let mut all: Vec<&str> = args.to_vec();
        for s in &sources {
            all.extend(["--source", s.as_str()]);
        }
        featc(&all)
    };
    // The user's features (the spine has no merchant).
    let features = "reported_spend_7d,payments_7d";
    let out = dir.join("batch.csv").display().to_string();
    let o = with_sources(&[
        "training-set",
        &project,
        "--spine",
        &spine,
        "--features",
        features,
        "--out",
        &out,
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let written = std::fs::read_to_string(&out).expect("training set");
    assert_eq!(
        written,
        "user_id,ts,reported_spend_7d,payments_7d\n1,2024-01-03T00:00:00Z,10.0,3\n"
    );

    let replayed = dir.join("replay.csv").display().to_string();
    let o = with_sources(&[
        "replay",
        &project,
        "--spine",
        &spine,
        "--features",
        features,
        "--out",
        &replayed,
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&replayed).expect("replay"), written);

    let o = featc(&["build", &project, "--emit", "stream"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let printed = String::from_utf8_lossy(&o.stdout);
    assert!(
        printed.contains("merchants.reports_30d at merchant_id"),
        "{printed}"
    );

    let o = featc(&["build", &project, "--emit", "sql", "--dialect", "duckdb"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let said = stderr(&o);
    assert!(
        said.contains(
            "error[E0055]: feature `reported_spend_7d`: the duckdb SQL computes no as-of lookups"
        ),
        "{said}"
    );
    assert!(!said.contains("payments_7d"), "{said}");
}

/// `featc verify` compares the reference, the batch plan, the stream and the SQL on a
/// project with a lookup, the SQL leaving out (and naming) the feature that reads it.
#[test]
fn verify_leaves_a_lookup_out_of_the_sql_only() {
    let dir = scratch("lookup_verify");
    let (project, sources, _) = lookup_project(&dir);
    let mut args = vec!["verify", project.as_str(), "--cases", "2", "-q"];
    for s in &sources {
        args.extend(["--source", s.as_str()]);
    }
    let o = featc(&args);
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(0), "{text}{}", stderr(&o));
    assert!(!text.contains("note: stream leaves out"), "{text}");
    assert!(
        text.contains("note: sql leaves out `reported_spend_7d`: refused (E0055"),
        "{text}"
    );
    assert!(!text.contains("leaves out `payments_7d`"), "{text}");
    assert!(
        text.contains("every path agrees with the reference"),
        "{text}"
    );
}

/// `tests/fixtures/dates.feat`'s bookings as CSV: dates written `YYYY-MM-DD`
/// (`booked_on` of line `bad_line`, if any, replaced by `2024-02-30`).
fn dates_project(dir: &Path, bad_line: Option<usize>) -> (String, String, String) {
    std::fs::copy(
        featc_test_support::paths::fixtures_dir().join("dates.feat"),
        dir.join("dates.feat"),
    )
    .expect("project");
    let lines = [
        "ts,guest_id,check_in,booked_on,nights",
        "2024-03-01T00:00:00Z,1,2024-03-01,2024-02-27,2",
        "2024-03-02T00:00:00Z,1,2024-02-29,2024-02-29,1",
        "2024-03-02T00:00:00Z,2,2024-03-01,,3",
        "2024-03-10T00:00:00Z,1,2024-03-08,2024-03-01,",
    ];
    let text: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| match bad_line {
            Some(bad) if bad == i + 1 => l.replacen(",2024-02-29,1", ",2024-02-30,1", 1),
            _ => l.to_string(),
        })
        .collect();
    std::fs::write(dir.join("bookings.csv"), text.join("\n") + "\n").expect("bookings");
    std::fs::write(
        dir.join("spine.csv"),
        "guest_id,check_in,ts\n\
         1,2024-03-01,2024-03-01T00:00:00Z\n\
         2,2024-03-01,2024-03-05T00:00:00Z\n\
         1,2024-03-08,2024-03-10T00:00:00Z\n",
    )
    .expect("spine");
    let path = |name: &str| dir.join(name).display().to_string();
    (
        path("dates.feat"),
        format!("bookings={}", path("bookings.csv")),
        path("spine.csv"),
    )
}

/// Dates (semantics.md "Dates") through files: `YYYY-MM-DD` CSV cells and spine keys
/// in, `YYYY-MM-DD` CSV cells and list items and Parquet `Date32` out, the same from
/// `training-set` and `replay`; a cell that is no real day is named by file, line
/// and column by both.
#[test]
fn dates_read_and_write_as_days_in_csv_and_parquet() {
    use datafusion::arrow::datatypes::DataType;

    let dir = scratch("dates");
    let (project, source, spine) = dates_project(&dir, None);
    let features = "first_check_in,recent_bookings,arrivals,booked_days";
    let run = |command: &str, out: &str| {
        let out = dir.join(out).display().to_string();
        let o = featc(&[
            command,
            &project,
            "--spine",
            &spine,
            "--source",
            &source,
            "--features",
            features,
            "--out",
            &out,
            "-q",
        ]);
        (o, out)
    };
    let mut written = Vec::new();
    for (command, out) in [
        ("training-set", "batch.csv"),
        ("replay", "replay.csv"),
        ("training-set", "batch.parquet"),
    ] {
        let (o, out) = run(command, out);
        assert!(o.status.success(), "{command}: {}", stderr(&o));
        written.push(out);
    }
    let csv = std::fs::read_to_string(&written[0]).expect("csv");
    assert_eq!(
        csv,
        std::fs::read_to_string(&written[1]).expect("replay csv")
    );
    let rows: Vec<Vec<String>> = csv.lines().map(csv_cells).collect();
    assert_eq!(
        rows[0],
        [
            "guest_id",
            "check_in",
            "ts",
            "first_check_in",
            "recent_bookings",
            "arrivals",
            "booked_days"
        ]
    );
    let want = [
        [
            "2024-03-01",
            r#"["2024-02-27"]"#,
            "1",
            r#"[{"value":"2024-02-27","count":1}]"#,
        ],
        [
            "2024-03-01",
            "[]",
            "2",
            r#"[{"value":"2024-02-27","count":1}]"#,
        ],
        [
            "2024-02-29",
            r#"["2024-03-01","2024-02-29"]"#,
            "1",
            r#"[{"value":"2024-03-01","count":1}]"#,
        ],
    ];
    assert_eq!(rows.len(), want.len() + 1);
    for (row, want) in rows[1..].iter().zip(&want) {
        assert_eq!(&row[3..], want.as_slice(), "{row:?}");
    }
    assert_eq!(rows[3][1], "2024-03-08");
    let parquet = featc_test_support::parquet::read_parquet(Path::new(&written[2]));
    let first = parquet.column_by_name("first_check_in").expect("column");
    assert_eq!(first.data_type(), &DataType::Date32);

    let dir = scratch("bad_date");
    let (project, source, spine) = dates_project(&dir, Some(3));
    let mut said = Vec::new();
    for command in ["training-set", "replay"] {
        let out = dir.join("o.csv").display().to_string();
        let o = featc(&[
            command, &project, "--spine", &spine, "--source", &source, "--out", &out, "-q",
        ]);
        assert_eq!(o.status.code(), Some(2), "{command}: {}", stderr(&o));
        said.push(stderr(&o));
    }
    assert_eq!(said[0], said[1], "training-set and replay disagree");
    assert!(
        said[0].contains("bookings.csv:3, column `booked_on`: cannot read '2024-02-30' as date"),
        "{}",
        said[0]
    );
}

/// A spine row the features cannot be computed for is named as the spine's, even
/// when the features also read struct and map paths (which are no columns of the
/// source's file, so looking for a bad cell there must not report them missing).
#[test]
fn a_null_request_field_is_named_when_features_read_paths() {
    let dir = scratch("null_request_field");
    let spine = dir.join("spine.csv");
    std::fs::write(
        &spine,
        "ts,user_id,merchant_id,amount\n2024-06-30T01:09:54Z,1,m1,2.5\n2024-06-30T01:09:54Z,2,m2,\n",
    )
    .expect("spine");
    let out = dir.join("o.parquet").display().to_string();
    let spine = spine.display().to_string();
    let run = featc(&[
        "training-set",
        "examples/checkout",
        "--spine",
        &spine,
        "--features",
        "amount_vs_recent,ip_checked_30d",
        "--out",
        &out,
        "-q",
    ]);
    assert_eq!(run.status.code(), Some(2));
    let err = stderr(&run);
    assert!(
        err.contains(
            "spine row 2 has a null `amount`, which request `checkout` declares non-nullable"
        ),
        "{err}"
    );
}
