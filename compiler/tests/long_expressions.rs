//! Long inputs that check clean compile and run: a float `in` list of thousands of
//! literals (lowered to `=`s joined by `or`), a flat `or` chain of thousands of terms,
//! thousands of `where` clauses, a chain of lets as deep as the checker allows once
//! expanded, and an expression nested as deep as the parser allows go through every
//! printer, the batch plan, a replay and the reference interpreter, on the test
//! harness's 2 MiB thread stacks, and all paths agree. (These crashed with a stack
//! overflow.)

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use featc::SourceFile;
use featc_runtime::reference::{evaluate, SpineInput};
use featc_runtime::stream::{replay, ReplayOptions, Selection};

use featc_test_support::batch::training_set_in_memory;
use featc_test_support::compare::bit_equal;

const TERMS: usize = 4000;

fn project_text() -> String {
    let list: Vec<String> = (0..TERMS).map(|i| format!("{i}.5")).collect();
    let chain: Vec<String> = (0..TERMS).map(|i| format!("x = {i}.25")).collect();
    let wheres: Vec<String> = (0..2000).map(|i| format!("    where x > -{i}")).collect();
    // l253 is 254 levels deep once expanded (the checker allows 256).
    let lets: Vec<String> = (1..254)
        .map(|i| format!("    let l{i} = l{} + 1.0", i - 1))
        .collect();
    // 95 nested parentheses, each with an operator: near the parser's limit.
    let nested = (0..95).fold("x".to_string(), |e, _| format!("({e} * 1.0)"));
    format!(
        "source ev {{
    time ts
    columns {{ user_id: int64  x: float64? }}
}}
entity user {{ key user_id: int64 }}
view v from ev by user {{
{}
    let l0 = x
{}
    feature in_list = count(*) where x in ({}) over 1h
    feature or_chain = count(*) where {} over 1h
    feature let_chain = sum(l253) over 1h
    feature nested = sum({}) over 1h
}}
",
        wheres.join("\n"),
        lets.join("\n"),
        list.join(", "),
        chain.join(" or "),
        nested
    )
}

fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

fn events() -> RecordBatch {
    let xs = [1.5, 2.25, 3.0, 7.5, -0.5, 3999.5];
    let n = xs.len();
    let schema = Arc::new(Schema::new(vec![
        Field::new("ts", ts_type(), false),
        Field::new("user_id", DataType::Int64, false),
        Field::new("x", DataType::Float64, true),
    ]));
    let ts: Vec<i64> = (0..n as i64).map(|i| i * 1_000_000).collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(TimestampMicrosecondArray::from(ts).with_timezone("UTC")),
        Arc::new(Int64Array::from(vec![1; n])),
        Arc::new(Float64Array::from(xs.to_vec())),
    ];
    RecordBatch::try_new(schema, columns).expect("events")
}

fn spine() -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("user_id", DataType::Int64, false),
        Field::new("ts", ts_type(), false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(vec![1, 1])),
        Arc::new(TimestampMicrosecondArray::from(vec![2_500_000, 10_000_000]).with_timezone("UTC")),
    ];
    RecordBatch::try_new(schema, columns).expect("spine")
}

#[test]
fn long_lists_chains_wheres_and_lets_compile_and_run_on_every_path() {
    let files = [SourceFile {
        name: "long.feat".into(),
        text: project_text(),
    }];
    let project = featc::compile(&files)
        .unwrap_or_else(|d| panic!("checks clean: {}", d.render(&files, false)));
    let features = project.all_features();
    featc::print::ir::print_project(&project);
    let plan = featc::lower::groups::plan_groups(&project, &features).expect("plans");
    featc::print::plan::print_plan(&plan);
    featc::print::batch::explain_batch(&project, 2, 1).expect("batch plan");
    let graph = featc::lower::stream::lower_stream(&project, &features).expect("graph");
    featc::print::stream::print_stream(&graph);

    let events = events();
    let spine = spine();
    let spine_batches = [spine.clone()];
    let rt = tokio::runtime::Runtime::new().expect("tokio");
    let in_memory = HashMap::from([("ev".to_string(), events.clone())]);
    let batch = rt
        .block_on(training_set_in_memory(
            &project, &features, &in_memory, &spine, 4,
        ))
        .expect("batch");
    let sources = [("ev".to_string(), vec![events.clone()])];
    let (streamed, _) = replay(
        graph,
        &sources,
        &spine,
        "ts",
        &Selection::All,
        &ReplayOptions::default(),
    )
    .expect("replay");
    let reference = evaluate(
        &project,
        &features,
        &HashMap::from([("ev".to_string(), vec![events])]),
        SpineInput {
            batches: &spine_batches,
            time_column: "ts",
        },
    )
    .expect("reference");
    bit_equal(&batch, &reference).expect("batch == reference");
    bit_equal(&streamed, &reference).expect("stream == reference");
    // At 10s: every event in the hour; 1.5, 3999.5 and 7.5 are in the list, 2.25 in
    // the chain; -0.5 fails the view's `where x > -0` (the 0th where).
    let column = |name: &str| {
        let c = batch.column_by_name(name).expect("column");
        let c = c.as_any().downcast_ref::<Int64Array>().expect("int64");
        c.value(1)
    };
    assert_eq!(column("in_list"), 3);
    assert_eq!(column("or_chain"), 1);
}
