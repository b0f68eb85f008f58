//! Renders a crate's `tests/featc_values.rs`: the harness template, then one test
//! per case comparing the UDF's result (called through `__run`, as Arroyo calls it)
//! with featc's, floats by their bits.

use featc_runtime::ir::DataType;
use featc_runtime::value::Value;

use super::super::udf::{UdfKind, UdfSpec};
use super::vectors::{Case, Expected};

const HARNESS: &str = include_str!("../templates/featc_values.rs.txt");

/// How a column travels: float64 bits or int64 (timestamps as microseconds).
#[derive(Clone, Copy, PartialEq)]
enum Repr {
    Float,
    Int,
}

fn repr(ty: DataType) -> Repr {
    if ty == DataType::Float64 {
        Repr::Float
    } else {
        Repr::Int
    }
}

/// The representation of each argument column and of the result.
fn signature(spec: &UdfSpec) -> (Vec<Repr>, Repr) {
    let t = repr(spec.input);
    match spec.kind {
        UdfKind::Sum | UdfKind::Min | UdfKind::Max | UdfKind::Percentile(_) => (vec![t], t),
        UdfKind::Avg | UdfKind::VarPop | UdfKind::StddevPop => (vec![t], Repr::Float),
        UdfKind::CountDistinct => (vec![t], Repr::Int),
        UdfKind::First | UdfKind::Last => (vec![Repr::Int, t], t),
        UdfKind::CheckedNeg => (vec![Repr::Int], Repr::Int),
        UdfKind::CheckedAdd | UdfKind::CheckedSub | UdfKind::CheckedMul => {
            (vec![Repr::Int, Repr::Int], Repr::Int)
        }
    }
}

pub fn render(spec: &UdfSpec, cases: &[Case]) -> String {
    let name = spec.name();
    let (args, result) = signature(spec);
    let mut out = HARNESS.replace("__NAME__", &name);
    for case in cases {
        let columns: Vec<String> = case
            .args
            .iter()
            .zip(&args)
            .map(|(col, &r)| column(col, r))
            .collect();
        let call = format!("vec![{}]", columns.join(", "));
        out.push_str(&format!("\n#[test]\nfn {}() {{\n", case.name));
        out.push_str(&format!(
            "    // {} -> featc: {}\n",
            describe_args(&case.args),
            describe(&case.expected)
        ));
        match &case.expected {
            Expected::Error => out.push_str(&format!("    fails({call});\n")),
            Expected::Rows(rows) => {
                let (reader, want) = match result {
                    Repr::Float => ("result_f64", cells(rows, Repr::Float)),
                    Repr::Int => ("result_i64", cells(rows, Repr::Int)),
                };
                out.push_str(&format!("    let got = {reader}({call});\n"));
                out.push_str(&format!("    assert_eq!(got, [{}]);\n", want.join(", ")));
            }
        }
        out.push_str("}\n");
    }
    out
}

/// A column's constructor call.
fn column(values: &[Value], r: Repr) -> String {
    let ctor = match r {
        Repr::Float => "f64s",
        Repr::Int => "i64s",
    };
    format!("{ctor}(&[{}])", cells(values, r).join(", "))
}

/// Cells as `None` / `Some(bits)` / `Some(int)` literals.
fn cells(values: &[Value], r: Repr) -> Vec<String> {
    values
        .iter()
        .map(|v| match (v, r) {
            (Value::Float64(x), Repr::Float) => format!("Some(0x{:016x})", x.to_bits()),
            (Value::Int64(x) | Value::Timestamp(x), Repr::Int) => int_literal(*x),
            _ => "None".to_string(),
        })
        .collect()
}

/// An int64 literal; `i64::MIN` is written as such (`-9223372036854775808` is a
/// negated literal out of range).
fn int_literal(x: i64) -> String {
    match x {
        i64::MIN => "Some(i64::MIN)".into(),
        i64::MAX => "Some(i64::MAX)".into(),
        x => format!("Some({x})"),
    }
}

/// The most rows a comment shows.
const SHOWN_ROWS: usize = 6;

/// The input in words, a row per value (a tuple for several columns).
fn describe_args(args: &[Vec<Value>]) -> String {
    let rows = args.first().map_or(0, Vec::len);
    let row = |i: usize| {
        let cells: Vec<String> = args.iter().filter_map(|c| c.get(i)).map(show).collect();
        if cells.len() == 1 {
            cells.join("")
        } else {
            format!("({})", cells.join(", "))
        }
    };
    let mut shown: Vec<String> = (0..rows.min(SHOWN_ROWS)).map(row).collect();
    if rows > SHOWN_ROWS {
        shown.push(format!("... {rows} in all"));
    }
    format!("[{}]", shown.join(", "))
}

/// featc's result in words, for the reader of the test.
fn describe(expected: &Expected) -> String {
    match expected {
        Expected::Error => "an int64 overflow error".into(),
        Expected::Rows(rows) => {
            let shown: Vec<String> = rows.iter().map(show).collect();
            shown.join(", ")
        }
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Float64(x) => format!("{x:?}"),
        Value::Int64(x) | Value::Timestamp(x) => x.to_string(),
        other => format!("{other:?}"),
    }
}
