//! `featc::import`: a spec that cannot be imported gets an error naming the feature
//! and what is wrong, never a guess or a panic.

use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use featc::import::{import_spec, parse_spec, ImportError, SourceSchema};

fn events() -> SourceSchema {
    SourceSchema {
        name: "events".into(),
        file: "events.parquet".into(),
        schema: Schema::new(vec![
            Field::new(
                "ts",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                false,
            ),
            Field::new("user_id", DataType::Int64, true),
            Field::new("amount", DataType::Float64, true),
            Field::new("end", DataType::Utf8, true),
        ]),
    }
}

fn import(json: &str) -> Result<String, ImportError> {
    import_spec("test", &parse_spec(json)?, &[events()])
}

fn feature(fields: &str) -> String {
    format!(r#"[{{"name": "f", "entity_col": "user_id", {fields}}}]"#)
}

#[test]
fn a_valid_spec_compiles() {
    let text = import(&feature(r#""agg": "count_if", "col": "`end` = 'x' OR amount > 1", "window": "1h", "where": "amount IS NOT NULL""#))
        .expect("imports");
    assert!(
        text.contains(
            "feature f = count_if((`end` = 'x') or (amount > 1)) where amount is not null over 1h"
        ),
        "{text}"
    );
    let files = vec![featc::SourceFile {
        name: "i.feat".into(),
        text,
    }];
    if let Err(d) = featc::compile(&files) {
        panic!("{}", d.render(&files, false));
    }
}

#[test]
fn each_problem_is_named() {
    let cases = [
        (
            feature(r#""agg": "mode", "col": "amount""#),
            "unknown aggregation `mode`",
        ),
        (feature(r#""agg": "sum""#), "`sum` needs a column"),
        (
            feature(r#""agg": "sum", "col": "amout""#),
            "column `amout` is not in source `events`",
        ),
        (
            feature(r#""agg": "count", "window": "1 month""#),
            "the window `1 month`",
        ),
        (
            feature(r#""agg": "count", "where": "amount LIKE 'x%'""#),
            "cannot translate the predicate",
        ),
        (
            feature(r#""agg": "count", "source": "clicks""#),
            "reads source `clicks`",
        ),
        ("{\"name\": 1}".to_string(), "not a JSON list"),
    ];
    for (json, expected) in cases {
        let err = import(&json).expect_err(&json).to_string();
        assert!(err.contains(expected), "{json}: {err}");
    }
}
