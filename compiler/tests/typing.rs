//! The typing rules of expressions: promotion, null typing, nullability, and what
//! the IR records for each construct.

use featc::ir::{DataType, ExprKind, Project};
use featc::SourceFile;

const HEADER: &str = "
source events {
    time ts
    columns {
        user_id: int64
        amount: float64?
        items: int64?
        count_n: int64
        category: string?
        name: string
        is_mobile: bool?
        settled: timestamp?
    }
}
entity user { key user_id: int64 }
";

fn compile(body: &str) -> Result<Project, Vec<&'static str>> {
    let text = format!(
        "{HEADER}\nview v from events by user {{\n{body}\n    feature n = count(*) over 1h\n}}\n"
    );
    let files = vec![SourceFile {
        name: "t.feat".into(),
        text,
    }];
    featc::compile(&files).map_err(|d| d.codes())
}

/// The type, nullability and printed form of `let x = EXPR`.
fn let_of(expr: &str) -> (DataType, bool, String) {
    let p =
        compile(&format!("let x = {expr}")).unwrap_or_else(|codes| panic!("`{expr}`: {codes:?}"));
    let e = &p.views[0].lets[0].expr;
    (e.ty, e.nullable, featc::print::ir::expr(e))
}

fn error_of(expr: &str) -> Vec<&'static str> {
    compile(&format!("let x = {expr}")).expect_err(expr)
}

#[test]
fn arithmetic_promotes_ints_next_to_floats() {
    assert_eq!(
        let_of("count_n + 1"),
        (DataType::Int64, false, "(count_n + 1)".into())
    );
    assert_eq!(
        let_of("count_n * 1.5"),
        (DataType::Float64, false, "(float64(count_n) * 1.5)".into())
    );
    assert_eq!(
        let_of("items - amount"),
        (DataType::Float64, true, "(float64(items) - amount)".into())
    );
    assert_eq!(
        let_of("-count_n"),
        (DataType::Int64, false, "(-count_n)".into())
    );
}

#[test]
fn division_is_float_and_nullable() {
    assert_eq!(
        let_of("count_n / 2"),
        (
            DataType::Float64,
            true,
            "(float64(count_n) / float64(2))".into()
        )
    );
    assert_eq!(
        let_of("count_n % 2"),
        (DataType::Int64, true, "(count_n % 2)".into())
    );
}

#[test]
fn comparisons_and_logic() {
    assert_eq!(
        let_of("amount > 100"),
        (DataType::Bool, true, "(amount > float64(100))".into())
    );
    assert_eq!(
        let_of("name = 'x'"),
        (DataType::Bool, false, "(name = 'x')".into())
    );
    assert_eq!(
        let_of("ts <= settled"),
        (DataType::Bool, true, "(ts <= settled)".into())
    );
    assert_eq!(let_of("not is_mobile or true").0, DataType::Bool);
    assert_eq!(
        let_of("amount is null"),
        (DataType::Bool, false, "(amount is null)".into())
    );
    assert_eq!(
        let_of("category not in ('a', 'b')"),
        (DataType::Bool, true, "(category not in ('a', 'b'))".into())
    );
    assert_eq!(
        let_of("count_n in (1, 2.5)").2,
        "(float64(count_n) in (float64(1), 2.5))"
    );
}

#[test]
fn nulls_take_their_type_from_context() {
    assert_eq!(
        let_of("coalesce(amount, null)"),
        (
            DataType::Float64,
            true,
            "coalesce(amount, null::float64)".into()
        )
    );
    assert_eq!(
        let_of("coalesce(items, 0)"),
        (DataType::Int64, false, "coalesce(items, 0)".into())
    );
    assert_eq!(let_of("coalesce(items, 0.5)").0, DataType::Float64);
    assert_eq!(let_of("amount = null").2, "(amount = null::float64)");
    assert_eq!(
        let_of("if(is_mobile, null, 1)").2,
        "case when is_mobile then null::int64 else 1 end"
    );
    assert_eq!(let_of("is_mobile and null").2, "(is_mobile and null::bool)");
    assert_eq!(error_of("null"), vec!["E0025"]);
    assert_eq!(error_of("coalesce(null, null)"), vec!["E0025"]);
    assert_eq!(error_of("null + null"), vec!["E0025"]);
}

#[test]
fn case_and_if_unify_branches() {
    let (ty, nullable, text) =
        let_of("case when amount < 10 then 1 when amount < 100 then 2.5 end");
    assert_eq!(
        (ty, nullable),
        (DataType::Float64, true),
        "no else: null when nothing matches"
    );
    assert_eq!(text, "case when (amount < float64(10)) then float64(1) when (amount < float64(100)) then 2.5 end");
    assert_eq!(
        let_of("if(is_mobile, 1, 2)"),
        (
            DataType::Int64,
            false,
            "case when is_mobile then 1 else 2 end".into()
        )
    );
    assert_eq!(error_of("if(amount, 1, 2)"), vec!["E0012"]);
    assert_eq!(
        error_of("case when true then 'a' else 1 end"),
        vec!["E0011"]
    );
    assert_eq!(error_of("if(true, 1)"), vec!["E0014"]);
    assert_eq!(error_of("coalesce()"), vec!["E0014"]);
}

#[test]
fn literals() {
    assert_eq!(let_of("-9223372036854775808").2, "-9223372036854775808");
    assert_eq!(error_of("9223372036854775808"), vec!["E0017"]);
    assert_eq!(error_of("1e999"), vec!["E0017"]);
    assert_eq!(let_of("'it''s'").2, "'it''s'");
}

#[test]
fn type_errors() {
    assert_eq!(error_of("name + 1"), vec!["E0011"]);
    assert_eq!(error_of("name + name"), vec!["E0011"]);
    assert_eq!(error_of("-name"), vec!["E0011"]);
    assert_eq!(error_of("is_mobile < 1"), vec!["E0011"]);
    assert_eq!(error_of("ts - settled"), vec!["E0011"]);
    assert_eq!(error_of("amount and true"), vec!["E0012"]);
    assert_eq!(error_of("not amount"), vec!["E0012"]);
    assert_eq!(error_of("category in (1, 2)"), vec!["E0011"]);
}

#[test]
fn a_broken_let_causes_no_follow_up_errors() {
    let codes = compile("let x = nope + 1\nlet y = x * 2\nfeature s = sum(y) over 1d")
        .expect_err("unknown column");
    assert_eq!(codes, vec!["E0004"]);
}

#[test]
fn lets_see_earlier_lets_and_features_see_lets() {
    let p =
        compile("let a = coalesce(amount, 0.0)\nlet b = a > 10\nfeature m = count_if(b) over 1d")
            .expect("ok");
    let v = &p.views[0];
    assert_eq!(v.lets.len(), 2);
    assert_eq!(v.lets[1].expr.ty, DataType::Bool);
    assert!(
        !v.lets[1].expr.nullable,
        "coalesce with a non-null fallback is not nullable"
    );
    assert!(
        matches!(v.features[0].aggregate().and_then(|a| a.arg.as_ref()).map(|a| &a.kind), Some(ExprKind::Column(c)) if c == "b")
    );
    assert_eq!(
        compile("let b = 1\nlet b = 2").expect_err("shadow"),
        vec!["E0023"]
    );
    assert_eq!(compile("let ts = 1").expect_err("shadow"), vec!["E0023"]);
}

#[test]
fn features_get_their_aggregation_types() {
    let p = compile(
        "feature a = sum(items) over 1d
         feature b = sum(amount) over 1d
         feature c = avg(items)
         feature d = max(ts) over 1h
         feature e = count_distinct(category) over 1h
         feature f = min(is_mobile)
         feature g = count_if(amount > 1) where category = 'x' over 500ms",
    )
    .expect("ok");
    let types: Vec<DataType> = p.views[0].features.iter().map(|f| f.ty).collect();
    use DataType::*;
    assert_eq!(
        types,
        vec![Int64, Float64, Float64, Timestamp, Int64, Bool, Int64, Int64]
    );
    let g = &p.views[0].features[6];
    let g = g.aggregate().expect("an aggregation");
    assert_eq!(g.window_us, Some(500_000));
    assert!(g.filter.is_some());
    let lifetime = p.views[0].features[2].aggregate().expect("an aggregation");
    assert_eq!(lifetime.window_us, None);
    assert_eq!(
        compile("feature z = avg(category) over 1d").expect_err("avg"),
        vec!["E0013"]
    );
    assert_eq!(
        compile("feature z = count() over 1d").expect_err("count()"),
        vec!["E0014"]
    );
    assert_eq!(
        compile("feature z = count(null) over 1d").expect_err("null"),
        vec!["E0025"]
    );
}

#[test]
fn list_aggregations_are_list_typed_and_take_a_literal_k() {
    use featc::ir::{AggKind, ListType, Scalar};
    let p = compile(
        "feature a = last_k(amount, 3) over 1d
         feature b = first_k(name, 1)
         feature c = top_k(category, 1000) over 1h
         feature d = last_k(settled, 007) over 1h",
    )
    .expect("ok");
    let f = &p.views[0].features;
    let list = |item, counted| DataType::List(ListType { item, counted });
    assert_eq!(
        f.iter().map(|f| f.ty).take(4).collect::<Vec<_>>(),
        vec![
            list(Scalar::Float64, false),
            list(Scalar::String, false),
            list(Scalar::String, true),
            list(Scalar::Timestamp, false),
        ]
    );
    assert_eq!(
        f.iter()
            .filter_map(|f| f.aggregate().map(|a| a.agg))
            .take(4)
            .collect::<Vec<_>>(),
        vec![
            AggKind::LastK(3),
            AggKind::FirstK(1),
            AggKind::TopK(1000),
            AggKind::LastK(7)
        ]
    );
    // Never null without a ttl: an empty window is the empty list.
    assert!(!p.views[0].can_be_null(&f[0]));
    assert_eq!(f[0].ty.name(), "list<float64>");
    assert_eq!(f[2].ty.name(), "list<struct<value: string, count: int64>>");
    for bad in [
        "0",
        "-3",
        "1001",
        "2.5",
        "count_n",
        "1 + 1",
        "null",
        "'3'",
        "99999999999",
    ] {
        assert_eq!(
            compile(&format!("feature z = last_k(amount, {bad}) over 1d")).expect_err(bad),
            vec!["E0034"],
            "{bad}"
        );
    }
    assert_eq!(
        compile("feature z = top_k(amount) over 1d").expect_err("missing"),
        vec!["E0034"]
    );
    assert_eq!(
        compile("feature z = first_k(amount, 2, 3) over 1d").expect_err("three"),
        vec!["E0014"]
    );
    assert_eq!(
        compile("feature z = last_k(*) over 1d").expect_err("star"),
        vec!["E0015"]
    );
    // A list is not an operand: another feature cannot read one, nor a let.
    assert_eq!(
        compile("feature y = last_k(amount, 2)\nfeature z = max(y)").expect_err("read"),
        vec!["E0004"]
    );
}

#[test]
fn view_filters_combine_with_and() {
    let p = compile("where amount > 0\nwhere is_mobile\nttl 30d").expect("ok");
    let v = &p.views[0];
    assert_eq!(
        featc::print::ir::expr(v.filter.as_ref().expect("filter")),
        "((amount > float64(0)) and is_mobile)"
    );
    assert_eq!(v.ttl_us, Some(30 * 86_400_000_000));
    assert_eq!(v.key_columns, vec!["user_id"]);
}

#[test]
fn numeric_functions_promote_ints_where_they_compute_on_floats() {
    use DataType::*;
    assert_eq!(
        let_of("abs(count_n)"),
        (Int64, false, "abs(count_n)".into())
    );
    assert_eq!(let_of("abs(amount)"), (Float64, true, "abs(amount)".into()));
    assert_eq!(
        let_of("sqrt(count_n)"),
        (Float64, true, "sqrt(float64(count_n))".into()),
        "sqrt is null below zero"
    );
    assert!(!let_of("exp(count_n)").1);
    assert!(let_of("ln(2.0)").1);
    assert_eq!(
        let_of("pow(count_n, 2)"),
        (Float64, false, "pow(float64(count_n), float64(2))".into())
    );
    assert_eq!(let_of("round(items)"), (Int64, true, "round(items)".into()));
    assert_eq!(let_of("floor(amount)").0, Float64);
    assert_eq!(
        let_of("haversine(amount, 2, count_n, 1.5)").2,
        "haversine(amount, float64(2), float64(count_n), 1.5)"
    );
    assert_eq!(error_of("abs(name)"), vec!["E0011"]);
    assert_eq!(error_of("sqrt(is_mobile)"), vec!["E0011"]);
    assert_eq!(error_of("pow(1.0)"), vec!["E0014"]);
    assert_eq!(error_of("abs(null)"), vec!["E0025"]);
    assert_eq!(let_of("sqrt(null)").0, Float64);
    assert_eq!(error_of("abs(-9223372036854775808)"), vec!["E0028"]);
    assert_eq!(
        error_of("abs(least(-9223372036854775808, 0))"),
        vec!["E0028"]
    );
    assert_eq!(let_of("abs(-9223372036854775807)").0, Int64);
}

#[test]
fn comparing_functions_unify_like_coalesce() {
    use DataType::*;
    assert_eq!(
        let_of("least(items, amount, 3)"),
        (
            Float64,
            false,
            "least(float64(items), amount, float64(3))".into()
        )
    );
    assert_eq!(
        let_of("greatest(items, amount)"),
        (Float64, true, "greatest(float64(items), amount)".into()),
        "null only when every argument is"
    );
    assert_eq!(let_of("greatest(settled, ts)").0, Timestamp);
    assert_eq!(
        let_of("least(name, null)"),
        (String, false, "least(name, null::string)".into())
    );
    assert_eq!(
        let_of("coalesce(least(null, null), 1)").2,
        "coalesce(least(null::int64, null::int64), 1)"
    );
    assert_eq!(
        let_of("nullif(count_n, 1.5)"),
        (Float64, true, "nullif(float64(count_n), 1.5)".into())
    );
    assert_eq!(error_of("least(name, 1)"), vec!["E0011"]);
    assert_eq!(error_of("greatest(1)"), vec!["E0014"]);
    assert_eq!(error_of("nullif(1, 2, 3)"), vec!["E0014"]);
    assert_eq!(error_of("least(null, null)"), vec!["E0025"]);
}

#[test]
fn string_functions() {
    use DataType::*;
    assert_eq!(let_of("upper(name)"), (String, false, "upper(name)".into()));
    assert_eq!(
        let_of("length(category)"),
        (Int64, true, "length(category)".into())
    );
    assert_eq!(
        let_of("contains(name, 'a')"),
        (Bool, false, "contains(name, 'a')".into())
    );
    assert_eq!(let_of("concat(name, null)").0, String);
    assert_eq!(
        let_of("substr(name, count_n, 2)"),
        (String, false, "substr(name, count_n, 2)".into()),
        "a length that is a literal >= 0 cannot make it null"
    );
    assert!(let_of("substr(name, 1, count_n)").1);
    assert!(let_of("substr(name, 1, -1)").1);
    assert!(!let_of("substr(name, 2)").1);
    assert_eq!(error_of("substr(name, 1.0)"), vec!["E0011"]);
    assert_eq!(error_of("substr(name)"), vec!["E0014"]);
    assert_eq!(error_of("concat()"), vec!["E0014"]);
    assert_eq!(error_of("lower(1)"), vec!["E0011"]);
    assert_eq!(error_of("starts_with(name, 1)"), vec!["E0011"]);
}

#[test]
fn unknown_functions_suggest_every_function() {
    assert_eq!(error_of("lenght(name)"), vec!["E0008"]);
    assert!(
        matches!(
            compile("let x = greatest(1, 2)").map(|p| p.views[0].lets[0].expr.kind.clone()),
            Ok(ExprKind::Call { .. })
        ),
        "a call of a row function is a Call"
    );
}
