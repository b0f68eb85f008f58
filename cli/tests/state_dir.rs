//! `featc diff`'s verdict on a state directory (`featc_cli::state_dir`: would `featc
//! serve --state DIR` reuse a directory the old project's server wrote?), asked of the
//! server's own checks in process, on hand-written before/after projects (the library's
//! diff tests' `BASE`, compiler/tests/diff/base.feat, edited) and on every project of
//! the repository against itself.

use featc::diff::report::{ProjectDiff, StateDirectory};
use featc::ir;
use featc_cli::state_dir::check;
use featc_test_support::project::{compile_text, edited};

/// The project the library's diff tests edit.
const BASE: &str = include_str!("../../compiler/tests/diff/base.feat");

fn compile(text: &str) -> ir::Project {
    compile_text("p.feat", text)
}

/// `BASE` with each `(from, to)` replaced once (each `from` must be there).
fn edit(edits: &[(&str, &str)]) -> String {
    edited(BASE, edits)
}

/// The verdict for `BASE`'s state directory opened by `BASE` edited.
fn after(edits: &[(&str, &str)]) -> StateDirectory {
    check(&compile(BASE), &compile(&edit(edits)))
}

#[test]
fn a_column_no_feature_reads_refuses_the_state_directory() {
    // The server's identity holds the whole source: its state is not reused.
    let dir = after(&[(
        "n:        int64\n",
        "n:        int64\n        extra: string\n",
    )]);
    assert!(matches!(dir, StateDirectory::Refused { .. }), "{dir:?}");
}

#[test]
fn features_reordered_within_a_view_keep_the_state_directory() {
    // The snapshot fingerprint holds each group's features in plan order, and the new
    // project is planned in the layout the checkpoint records.
    let swapped = BASE.replace(
        "    feature count_1h = count(*) over 1h\n    feature sum_1d   = sum(amount) over 1d\n",
        "    feature sum_1d   = sum(amount) over 1d\n    feature count_1h = count(*) over 1h\n",
    );
    assert_ne!(swapped, BASE);
    let dir = check(&compile(BASE), &compile(&swapped));
    assert_eq!(dir, StateDirectory::Reused);
}

#[test]
fn views_and_features_reordered_keep_the_state_directory() {
    // Views swapped, features of a view reversed, a derived feature moved first: the
    // groups come out in another order unless planned in the checkpoint's layout.
    let text = r#"
source tx {
    time ts
    columns { user_id: int64  shop: string  amount: float64 }
}
entity user { key user_id: int64 }
entity shop { key shop: string }
view by_user from tx by user {
    feature n_1h   = count(*) over 1h
    feature sum_1d = sum(amount) over 1d
    feature max_7d = max(amount) over 7d
    feature avg_1d = sum_1d / n_1h
}
view by_shop from tx by shop {
    feature shop_n_1d = count(*) over 1d
    feature shop_last = last(amount)
}
"#;
    let reordered = r#"
source tx {
    time ts
    columns { user_id: int64  shop: string  amount: float64 }
}
entity user { key user_id: int64 }
entity shop { key shop: string }
view by_shop from tx by shop {
    feature shop_last = last(amount)
    feature shop_n_1d = count(*) over 1d
}
view by_user from tx by user {
    feature avg_1d = sum_1d / n_1h
    feature max_7d = max(amount) over 7d
    feature sum_1d = sum(amount) over 1d
    feature n_1h   = count(*) over 1h
}
"#;
    assert_eq!(
        featc::diff::diff(&compile(text), &compile(reordered)).expect("diffs"),
        ProjectDiff::default()
    );
    let dir = check(&compile(text), &compile(reordered));
    assert_eq!(dir, StateDirectory::Reused);
    // Without the layout, the groups' features come in another order: what the
    // layout is for.
    let plain = |t: &str| -> Vec<Vec<String>> {
        let p = compile(t);
        let plan = featc::lower::groups::plan_groups(&p, &p.all_features()).expect("plans");
        plan.groups
            .iter()
            .map(|g| g.feature_names().map(String::from).collect())
            .collect()
    };
    assert_eq!(
        plain(text),
        [
            vec!["n_1h", "sum_1d", "max_7d"],
            vec!["shop_n_1d", "shop_last"]
        ]
    );
    assert_eq!(
        plain(reordered),
        [
            vec!["shop_last", "shop_n_1d"],
            vec!["sum_1d", "n_1h", "max_7d"]
        ]
    );
}

#[test]
fn a_removed_derived_feature_keeps_the_state_directory() {
    // Derived features hold no state: the server's state directory is reused.
    let dir = after(&[("    feature vs_avg = checkout.amount / avg_1d\n", "")]);
    assert_eq!(dir, StateDirectory::Reused);
}

#[test]
fn a_location_change_keeps_the_state_directory() {
    // Where data comes from is not part of a server's state either.
    let dir = after(&[("file \"tx.csv\"", "file \"tx2.csv\"")]);
    assert_eq!(dir, StateDirectory::Reused);
}

#[test]
fn every_repository_project_keeps_its_own_state_directory() {
    let root = featc_test_support::paths::repo_root();
    let mut dirs = vec![
        root.join("examples/fraud"),
        root.join("examples/delivery"),
        root.join("tests/functions"),
    ];
    for entry in std::fs::read_dir(root.join("tests/cases")).expect("cases") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            dirs.push(path);
        }
    }
    for dir in dirs {
        let files = featc::files::read_project(std::slice::from_ref(&dir)).expect("reads");
        let project = featc::compile(&files).expect("compiles");
        assert_eq!(
            check(&project, &project),
            StateDirectory::Reused,
            "{}",
            dir.display()
        );
    }
}

/// A view gaining or losing a source changes its features' identity: the directory
/// is refused naming them, before any checkpoint is looked at.
#[test]
fn a_source_added_to_a_view_refuses_the_state_directory() {
    let one = r#"
source tx {
    time ts
    columns { user_id: int64  amount: float64 }
}
source logins {
    time at
    columns { user_id: int64 }
}
entity user { key user_id: int64 }
view activity from tx by user {
    feature n_1h = count(*) over 1h
}
view spend from tx by user {
    feature sum_1d = sum(amount) over 1d
}
"#;
    let two = one.replacen("from tx by", "from tx, logins by", 1);
    let refused = |dir: StateDirectory| match dir {
        StateDirectory::Refused {
            changed,
            added,
            removed,
        } => (changed, added, removed),
        other => panic!("{other:?}"),
    };
    let n = vec!["n_1h".to_string()];
    assert_eq!(
        refused(check(&compile(one), &compile(&two))),
        (n.clone(), vec![], vec![])
    );
    assert_eq!(
        refused(check(&compile(&two), &compile(one))),
        (n, vec![], vec![])
    );
    assert_eq!(
        check(&compile(&two), &compile(&two)),
        StateDirectory::Reused
    );
}
