//! Decimals (semantics.md, "Decimals") by hand on every path: the project of
//! `tests/fixtures/decimals.feat` (exact sums, products and differences of decimals
//! of several scales with int64s, comparisons with an int64, selections, lists and a
//! derived feature) gives the same training set, bit for bit, from the reference,
//! the batch plan (batch sizes 2, 7, default) and streaming replays (in memory, on a
//! disk tier, and restored from a checkpoint half way), with the values worked out
//! below; events from `Decimal128` columns of another scale or `Decimal256` read
//! exactly, and a value with too many digits, or a sum past 38 digits, fails every
//! path alike.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Decimal128Array, Decimal256Array, Int64Array,
    TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{
    i256, DataType, Decimal128Type, Field, Float64Type, Int64Type, Schema, TimeUnit,
};
use datafusion::arrow::record_batch::RecordBatch;
use featc_runtime::ir::{ListType, Scalar};
use featc_runtime::row::decimal::format_decimal;
use featc_runtime::row::list::{json_text, list_at};
use featc_runtime::value::Value;
use featc_test_support::gen::GenCase;
use featc_test_support::hand_case::{hand_case, key_spine};

use super::equivalence::{batch, check, compile, reference, DEFAULT_BATCH_SIZE};

const DAY: i64 = 86_400_000_000;

/// An invoice: (time, customer, amount in cents, rate in 1/10000, quantity).
type Invoice = (i64, i64, i128, Option<i128>, Option<i64>);

const EVENTS: &[Invoice] = &[
    (DAY, 1, 12_050, Some(825), Some(2)),
    (2 * DAY, 1, -2_025, None, Some(1)),
    (2 * DAY, 2, 9_999, Some(1_000), None),
    (10 * DAY, 1, 12_050, Some(500), Some(3)),
];

fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// The invoices, amounts as `amount` gives them (a column of any decimal type).
fn invoices(rows: &[Invoice], amount: ArrayRef) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("ts", ts_type(), false),
        Field::new("customer_id", DataType::Int64, false),
        Field::new("amount", amount.data_type().clone(), false),
        Field::new("rate", DataType::Decimal128(5, 4), true),
        Field::new("qty", DataType::Int64, true),
    ]));
    let rates = Decimal128Array::from(rows.iter().map(|r| r.3).collect::<Vec<_>>())
        .with_precision_and_scale(5, 4)
        .expect("rates");
    let columns: Vec<ArrayRef> = vec![
        Arc::new(
            TimestampMicrosecondArray::from(rows.iter().map(|r| r.0).collect::<Vec<_>>())
                .with_timezone("UTC"),
        ),
        Arc::new(Int64Array::from(
            rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        )),
        amount,
        Arc::new(rates),
        Arc::new(Int64Array::from(
            rows.iter().map(|r| r.4).collect::<Vec<_>>(),
        )),
    ];
    RecordBatch::try_new(schema, columns).expect("invoices")
}

/// Amounts as `Decimal128(10, 2)` (the declared type), `Decimal128(20, 5)` (more
/// digits, trailing zeros) or `Decimal256(40, 2)`.
fn amounts(rows: &[Invoice], form: u8) -> ArrayRef {
    let cents = rows.iter().map(|r| r.2);
    match form {
        0 => Arc::new(
            Decimal128Array::from(cents.collect::<Vec<_>>())
                .with_precision_and_scale(10, 2)
                .expect("amounts"),
        ),
        1 => Arc::new(
            Decimal128Array::from(cents.map(|c| c * 1000).collect::<Vec<_>>())
                .with_precision_and_scale(20, 5)
                .expect("amounts"),
        ),
        _ => Arc::new(
            Decimal256Array::from(cents.map(i256::from_i128).collect::<Vec<_>>())
                .with_precision_and_scale(40, 2)
                .expect("amounts"),
        ),
    }
}

fn case(feat: String, events: RecordBatch, features: &[&str], seed: u64) -> GenCase {
    let spine = key_spine(
        "customer_id",
        &[
            (1, 0),
            (1, DAY),
            (1, 2 * DAY),
            (2, 5 * DAY),
            (1, 9 * DAY),
            (1, 10 * DAY),
            (3, 10 * DAY),
        ],
    );
    hand_case(feat, events, spine, features, seed)
}

fn fixture() -> String {
    std::fs::read_to_string(featc_test_support::paths::fixtures_dir().join("decimals.feat"))
        .expect("the decimals fixture")
}

const FEATURES: &[&str] = &[
    "total",
    "total_7d",
    "tax_7d",
    "avg_amount",
    "var_amount",
    "max_amount_7d",
    "min_rate",
    "last_amount",
    "first_amount",
    "median_amount",
    "distinct_amounts",
    "rates_known",
    "big_7d",
    "recent_amounts",
    "top_amounts",
    "lines",
    "net_max_7d",
    "halves",
    "abs_min",
    "exact_big",
    "fees",
    "refunds",
    "rate_sum",
    "listed",
    "capped",
    "banded",
    "small_sum",
    "total_both",
];

/// A decimal column's cells as their exact text, after checking its Arrow type.
fn texts(out: &RecordBatch, name: &str, precision: u8, scale: u8) -> Vec<Option<String>> {
    let c = out.column_by_name(name).expect("column");
    assert_eq!(
        c.data_type(),
        &DataType::Decimal128(precision, scale as i8),
        "{name}"
    );
    c.as_primitive::<Decimal128Type>()
        .iter()
        .map(|v| v.map(|v| format_decimal(v, scale)))
        .collect()
}

fn some(values: &[&str]) -> Vec<Option<String>> {
    values
        .iter()
        .map(|v| (!v.is_empty()).then(|| v.to_string()))
        .collect()
}

fn ints(out: &RecordBatch, name: &str) -> Vec<i64> {
    out.column_by_name(name)
        .expect("column")
        .as_primitive::<Int64Type>()
        .values()
        .to_vec()
}

fn floats(out: &RecordBatch, name: &str) -> Vec<Option<f64>> {
    out.column_by_name(name)
        .expect("column")
        .as_primitive::<Float64Type>()
        .iter()
        .collect()
}

fn lists(out: &RecordBatch, name: &str, counted: bool) -> Vec<String> {
    let c = out.column_by_name(name).expect("column");
    let ty = ListType {
        item: Scalar::Decimal {
            precision: 10,
            scale: 2,
        },
        counted,
    };
    (0..c.len())
        .map(
            |r| match list_at(c.as_ref(), ty, r).expect("a list of decimals") {
                Value::List(l) => json_text(&l),
                other => format!("{other:?}"),
            },
        )
        .collect()
}

#[test]
fn decimals_agree_on_every_path_with_the_worked_values() {
    for form in 0..3 {
        // Seed 2 also restores the disk-tier replay from a checkpoint half way.
        for seed in [1, 2] {
            let case = case(
                fixture(),
                invoices(EVENTS, amounts(EVENTS, form)),
                FEATURES,
                seed,
            );
            check(&case).unwrap_or_else(|d| panic!("amounts form {form}, seed {seed}: {d}"));
        }
        let case = case(
            fixture(),
            invoices(EVENTS, amounts(EVENTS, form)),
            FEATURES,
            1,
        );
        let (project, ids) = compile(&case).expect("compiles");
        let out = reference(&project, &ids, &case).expect("reference");
        // Spine rows: customer 1 at 0, 1d, 2d; customer 2 at 5d; customer 1 at 9d and
        // 10d; an unknown customer at 10d. Windows of 7d: at 9d, (2d, 9d] is empty.
        assert_eq!(
            texts(&out, "total", 38, 2),
            some(&["0.00", "120.50", "100.25", "99.99", "100.25", "220.75", "0.00"])
        );
        assert_eq!(
            texts(&out, "total_7d", 38, 2),
            some(&["0.00", "120.50", "100.25", "99.99", "0.00", "120.50", "0.00"])
        );
        // amount * coalesce(rate, 0): decimal(10, 2) * decimal(23, 4), scale 6.
        assert_eq!(
            texts(&out, "tax_7d", 38, 6),
            some(&[
                "0.000000", "9.941250", "9.941250", "9.999000", "0.000000", "6.025000", "0.000000"
            ])
        );
        // The exact mean rounded once: 220.75 / 3 is the float division of exact
        // operands, so Rust's `/` gives the correctly rounded value.
        assert_eq!(
            floats(&out, "avg_amount"),
            [
                None,
                Some(120.5),
                Some(50.125),
                Some(99.99),
                Some(50.125),
                Some(220.75 / 3.0),
                None
            ]
        );
        assert_eq!(floats(&out, "var_amount")[1], Some(0.0));
        assert_eq!(
            texts(&out, "max_amount_7d", 10, 2),
            some(&["", "120.50", "120.50", "99.99", "", "120.50", ""])
        );
        assert_eq!(
            texts(&out, "min_rate", 5, 4),
            some(&["", "0.0825", "0.0825", "0.1000", "0.0825", "0.0500", ""])
        );
        assert_eq!(
            texts(&out, "last_amount", 10, 2),
            some(&["", "120.50", "-20.25", "99.99", "-20.25", "120.50", ""])
        );
        assert_eq!(
            texts(&out, "first_amount", 10, 2),
            some(&["", "120.50", "120.50", "99.99", "120.50", "120.50", ""])
        );
        // Nearest rank: of -20.25, 120.50 the first; of -20.25, 120.50, 120.50 the second.
        assert_eq!(
            texts(&out, "median_amount", 10, 2),
            some(&["", "120.50", "-20.25", "99.99", "-20.25", "120.50", ""])
        );
        assert_eq!(ints(&out, "distinct_amounts"), [0, 1, 2, 1, 2, 2, 0]);
        assert_eq!(ints(&out, "rates_known"), [0, 1, 1, 1, 1, 2, 0]);
        // `amount >= 100` compares exactly with an int64: 99.99 is not.
        assert_eq!(ints(&out, "big_7d"), [0, 1, 1, 0, 0, 1, 0]);
        assert_eq!(
            lists(&out, "recent_amounts", false),
            [
                "[]",
                r#"["120.50"]"#,
                r#"["-20.25","120.50"]"#,
                r#"["99.99"]"#,
                r#"["-20.25","120.50"]"#,
                r#"["120.50","-20.25"]"#,
                "[]"
            ]
        );
        assert_eq!(
            lists(&out, "top_amounts", true),
            [
                "[]",
                r#"[{"value":"120.50","count":1}]"#,
                r#"[{"value":"-20.25","count":1},{"value":"120.50","count":1}]"#,
                r#"[{"value":"99.99","count":1}]"#,
                r#"[{"value":"-20.25","count":1},{"value":"120.50","count":1}]"#,
                r#"[{"value":"120.50","count":2},{"value":"-20.25","count":1}]"#,
                "[]"
            ]
        );
        // amount * qty (an int64 as decimal(19, 0)): 241.00, -20.25, null, 361.50.
        assert_eq!(
            texts(&out, "lines", 38, 2),
            some(&["0.00", "241.00", "220.75", "0.00", "220.75", "582.25", "0.00"])
        );
        // amount - coalesce(rate, 0): decimal(24, 4).
        assert_eq!(
            texts(&out, "net_max_7d", 24, 4),
            some(&["", "120.4175", "120.4175", "99.8900", "", "120.4500", ""])
        );
        assert_eq!(
            floats(&out, "halves"),
            [
                Some(0.0),
                Some(60.25),
                Some(50.125),
                Some(49.995),
                Some(50.125),
                Some(110.375),
                Some(0.0)
            ]
        );
        assert_eq!(
            texts(&out, "abs_min", 10, 2),
            some(&["", "120.50", "20.25", "99.99", "20.25", "20.25", ""])
        );
        // Literals beside a decimal are exact: `120.50` is decimal(5, 2), `1.05`
        // decimal(3, 2) (a product of scale 4, summed as decimal(38, 4)), `-0.5`
        // decimal(1, 1).
        assert_eq!(ints(&out, "exact_big"), [0, 1, 1, 0, 1, 2, 0]);
        assert_eq!(
            texts(&out, "fees", 38, 4),
            some(&["0.0000", "126.5250", "105.2625", "104.9895", "105.2625", "231.7875", "0.0000"])
        );
        assert_eq!(ints(&out, "refunds"), [0, 0, 1, 0, 1, 1, 0]);
        // Among values that take one type: `coalesce(rate, 0.0125)` is decimal(5, 4)
        // (0.0825, 0.0125 for the null rate, 0.0500; 0.1000).
        assert_eq!(
            texts(&out, "rate_sum", 38, 4),
            some(&["0.0000", "0.0825", "0.0950", "0.1000", "0.0950", "0.1450", "0.0000"])
        );
        // 120.50 and 99.99 match exactly (as float64s, 99.99 would be compared to
        // the decimal's nearest float64).
        assert_eq!(ints(&out, "listed"), [0, 1, 1, 1, 1, 2, 0]);
        // least(amount, 100.00): 100.00, -20.25, 100.00; 99.99.
        assert_eq!(
            texts(&out, "capped", 38, 2),
            some(&["0.00", "100.00", "79.75", "99.99", "79.75", "179.75", "0.00"])
        );
        // amount * 0.9 (scale 3) when above 100, else 0.5 (0.500): 108.450, 0.500;
        // 0.500 (99.99 is not above 100).
        assert_eq!(
            texts(&out, "banded", 38, 3),
            some(&["0.000", "108.450", "108.950", "0.500", "108.950", "217.400", "0.000"])
        );
        // if(amount < 100, amount, 0.00): 0.00, -20.25, 0.00; 99.99.
        assert_eq!(
            texts(&out, "small_sum", 38, 2),
            some(&["0.00", "0.00", "-20.25", "99.99", "-20.25", "-20.25", "0.00"])
        );
        // A derived feature: decimal(38, 2) + decimal(38, 2) is decimal(38, 2).
        assert_eq!(
            texts(&out, "total_both", 38, 2),
            some(&["0.00", "241.00", "200.50", "199.98", "100.25", "341.25", "0.00"])
        );
    }
}

/// An amount with more fractional digits than the type's scale is refused on every
/// path (never rounded), naming the column.
#[test]
fn a_value_with_too_many_digits_is_refused_on_every_path() {
    let amounts: ArrayRef = Arc::new(
        Decimal128Array::from(vec![1_205_000, 1_205_001, 999_900, 1_205_000])
            .with_precision_and_scale(20, 4)
            .expect("amounts"),
    );
    let case = case(fixture(), invoices(EVENTS, amounts), &["total"], 1);
    let (project, ids) = compile(&case).expect("compiles");
    let error = reference(&project, &ids, &case).expect_err("too many digits");
    assert!(format!("{error}").contains("amount"), "{error}");
    let batch = batch(&project, &ids, &case, DEFAULT_BATCH_SIZE).expect_err("refused");
    assert!(format!("{batch}").contains("120.5001"), "{batch}");
    let graph = featc::lower::stream::lower_stream(&project, &ids).expect("graph");
    let mut rt = featc_runtime::stream::StreamRuntime::new(graph).expect("runtime");
    let stream = rt.ingest("invoices", &case.events).expect_err("refused");
    assert!(format!("{stream}").contains("amount"), "{stream}");
}

/// A sum past 38 digits and a product past its type's digits fail every path alike
/// (`check` compares the failures).
#[test]
fn overflows_past_38_digits_fail_every_path_alike() {
    let feat = "source invoices { time ts columns { customer_id: int64  amount: decimal(38, 0)  \
                rate: decimal(5, 4)?  qty: int64? } }\n\
                entity customer { key customer_id: int64 }\n\
                view billing from invoices by customer {\n\
                    feature total = sum(amount)\n\
                    feature doubled = max(amount * 2)\n\
                }\n";
    let big = 10i128.pow(37) * 6;
    let rows: &[Invoice] = &[(DAY, 1, big, None, None), (2 * DAY, 1, big, None, None)];
    let amounts: ArrayRef = Arc::new(
        Decimal128Array::from(vec![big, big])
            .with_precision_and_scale(38, 0)
            .expect("amounts"),
    );
    for feature in ["total", "doubled"] {
        let case = case(
            feat.to_string(),
            invoices(rows, Arc::clone(&amounts)),
            &[feature],
            1,
        );
        let (project, ids) = compile(&case).expect("compiles");
        assert!(reference(&project, &ids, &case).is_err(), "{feature}");
        check(&case).unwrap_or_else(|d| panic!("{feature}: {d}"));
    }
}
