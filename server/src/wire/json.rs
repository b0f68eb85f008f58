//! Cells between JSON and featc's types: a request's key or pushed value (or a Kafka
//! record's) checked against its declared type, a feature value written back. Integers are exact
//! (int64 never passes through a float), floats are written in their shortest form
//! that reads back to the same bits, and the non-finite floats JSON cannot spell are
//! the strings `NaN`, `Infinity` and `-Infinity` both ways. A date is the string
//! `YYYY-MM-DD` both ways (`row::date`). A decimal is read from a string of its text or
//! an integer number and written as a string of its exact text (`row::decimal`).

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Decimal128Builder, Float64Builder, Int64Builder,
    StringBuilder, TimestampMicrosecondBuilder,
};
use featc_runtime::ir::{DataType, EpochUnit};
use featc_runtime::row::date::{format_date, parse_date, DateError};
use featc_runtime::row::decimal::{format_decimal, parse_decimal, DecimalError};
use featc_runtime::row::types::UTC;
use featc_runtime::value::Value;
use serde_json::Value as Json;

use super::time::{format_time, kind_of, parse_time_in, TimeError};

/// Why a JSON cell is not a value of its column's type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CellError {
    /// A value of another kind (the type's name, `kind_of`'s name for the value).
    Kind {
        expected: &'static str,
        found: &'static str,
    },
    /// An integer beyond int64 (as written).
    TooLarge(String),
    /// A number that is not an integer, for an int64 (as written).
    NotAnInteger(String),
    /// A string other than `NaN`, `Infinity` and `-Infinity`, for a float64.
    NotAFloat(String),
    Time(TimeError),
    Date(DateError),
    /// A list column's cell that is no JSON array of its items.
    List(String),
    Decimal(DecimalError),
    /// A JSON number with a fraction or an exponent, for a decimal: serde_json holds
    /// it as a float64 only, which may have rounded it (as written).
    DecimalNumber(String),
    /// A type no column has (lists are feature values only).
    NotAColumnType(&'static str),
}

impl std::fmt::Display for CellError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CellError::Kind { expected, found } => write!(f, "expected {expected}, found {found}"),
            CellError::TooLarge(n) => write!(f, "{n} does not fit in int64"),
            CellError::NotAnInteger(n) => write!(f, "expected int64, found the number {n}"),
            CellError::NotAFloat(s) => write!(f, "expected float64, found the string {s:?}"),
            CellError::Time(e) => write!(f, "{e}"),
            CellError::Date(e) => write!(f, "{e}"),
            CellError::List(e) => write!(f, "{e}"),
            CellError::Decimal(e) => write!(f, "{e}"),
            CellError::DecimalNumber(n) => write!(
                f,
                "the number {n} for a decimal: send a decimal with a fraction as a JSON string (\"{n}\"), which is never rounded"
            ),
            CellError::NotAColumnType(ty) => write!(f, "{ty} is not a column type"),
        }
    }
}

impl std::error::Error for CellError {}

/// One JSON cell as a value of `ty` (`Value::Null` for JSON null), or why not; an
/// integer time must be plausible microseconds (no source's `epoch` applies).
pub fn to_value(json: &Json, ty: DataType) -> Result<Value, CellError> {
    to_value_in(json, ty, None)
}

/// `to_value` for a column of a source whose integer times count `epoch`.
pub fn to_value_in(
    json: &Json,
    ty: DataType,
    epoch: Option<EpochUnit>,
) -> Result<Value, CellError> {
    let wrong = || CellError::Kind {
        expected: ty.kind_name(),
        found: kind_of(json),
    };
    Ok(match (ty, json) {
        (_, Json::Null) => Value::Null,
        (DataType::Int64, Json::Number(n)) => {
            Value::Int64(n.as_i64().ok_or_else(|| match n.as_u64() {
                Some(_) => CellError::TooLarge(n.to_string()),
                None => CellError::NotAnInteger(n.to_string()),
            })?)
        }
        (DataType::Float64, Json::Number(n)) => Value::Float64(n.as_f64().ok_or_else(wrong)?),
        (DataType::Float64, Json::String(s)) => Value::Float64(match s.as_str() {
            "NaN" => f64::NAN,
            "Infinity" => f64::INFINITY,
            "-Infinity" => f64::NEG_INFINITY,
            _ => return Err(CellError::NotAFloat(s.clone())),
        }),
        (DataType::String, Json::String(s)) => Value::String(Arc::from(s.as_str())),
        (DataType::Bool, Json::Bool(b)) => Value::Bool(*b),
        (DataType::Timestamp, j @ (Json::String(_) | Json::Number(_))) => {
            Value::Timestamp(parse_time_in(j, epoch).map_err(CellError::Time)?)
        }
        (DataType::Date, Json::String(s)) => Value::Date(parse_date(s).map_err(CellError::Date)?),
        (DataType::List(l), j @ Json::Array(_)) if !l.counted => {
            featc_runtime::row::list_column::json_list(j, l.item)
                .map_err(|e| CellError::List(e.to_string()))?
        }
        (DataType::Decimal { precision, scale }, Json::String(s)) => Value::decimal(
            parse_decimal(s, precision, scale).map_err(CellError::Decimal)?,
            precision,
            scale,
        ),
        // An integer number is exact; any other was held as a float64 by serde_json.
        (DataType::Decimal { precision, scale }, Json::Number(n)) if n.is_i64() || n.is_u64() => {
            Value::decimal(
                parse_decimal(&n.to_string(), precision, scale).map_err(CellError::Decimal)?,
                precision,
                scale,
            )
        }
        (DataType::Decimal { .. }, Json::Number(n)) => {
            return Err(CellError::DecimalNumber(n.to_string()))
        }
        _ => return Err(wrong()),
    })
}

/// A float as JSON: a number, or `"NaN"`, `"Infinity"`, `"-Infinity"` where JSON has
/// none (what `to_value_in` reads back).
pub fn float_json(f: f64) -> Json {
    match serde_json::Number::from_f64(f) {
        Some(n) => Json::Number(n),
        None if f.is_nan() => Json::from("NaN"),
        None if f > 0.0 => Json::from("Infinity"),
        None => Json::from("-Infinity"),
    }
}

/// A feature value as JSON.
pub fn to_json(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Int64(i) => Json::from(*i),
        Value::Float64(f) => float_json(*f),
        Value::Bool(b) => Json::from(*b),
        Value::String(s) => Json::from(&**s),
        Value::Timestamp(t) => Json::from(format_time(*t)),
        Value::Date(d) => Json::from(format_date(*d)),
        // A string holding the exact text, so that no client rounds it.
        Value::Decimal {
            unscaled, scale, ..
        } => Json::from(format_decimal(unscaled.get(), *scale)),
        // A list as an array (a counted list's entries as `{"value": .., "count": ..}`),
        // its items spelled as above.
        Value::List(l) => featc_runtime::row::list::to_json(l),
    }
}

/// A feature value written as JSON into `out`, like `to_json` without building a
/// `Value` (the read path's answer is written straight into its bytes).
pub fn write_value(out: &mut Vec<u8>, value: &Value) {
    use std::io::Write;
    let _ = match value {
        Value::Null => out.write_all(b"null"),
        Value::Int64(i) => write!(out, "{i}"),
        Value::Float64(f) if f.is_finite() => {
            serde_json::to_writer(&mut *out, f).map_err(std::io::Error::other)
        }
        Value::Bool(b) => out.write_all(if *b { b"true" } else { b"false" }),
        Value::String(s) => serde_json::to_writer(&mut *out, &**s).map_err(std::io::Error::other),
        // The text a CSV cell holds: a counted entry's keys in the order `value, count`.
        Value::List(l) => out.write_all(featc_runtime::row::list::json_text(l).as_bytes()),
        other => serde_json::to_writer(&mut *out, &to_json(other)).map_err(std::io::Error::other),
    };
}

/// A JSON column of cells as an Arrow array of `ty` (a column of a source whose
/// integer times count `epoch`); the error gives the row.
pub fn to_array(
    cells: &[Json],
    ty: DataType,
    epoch: Option<EpochUnit>,
) -> Result<ArrayRef, (usize, CellError)> {
    macro_rules! build {
        ($builder:expr, $variant:ident) => {{
            let mut b = $builder;
            for (row, cell) in cells.iter().enumerate() {
                match to_value_in(cell, ty, epoch).map_err(|m| (row, m))? {
                    Value::$variant(v) => b.append_value(v),
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish()) as ArrayRef
        }};
    }
    Ok(match ty {
        // A list column: each cell a JSON array (or null), read as every path reads
        // a list (`row::list_column`); a counted list is a feature value only.
        DataType::List(l) if !l.counted => {
            let mut values = Vec::with_capacity(cells.len());
            for (row, cell) in cells.iter().enumerate() {
                let v = featc_runtime::row::list_column::json_list(cell, l.item)
                    .map_err(|e| (row, CellError::List(e.to_string())))?;
                values.push(v);
            }
            featc_runtime::row::list::list_array(l, &values)
                .map_err(|e| (0, CellError::List(e.to_string())))?
        }
        DataType::List(_) => return Err((0, CellError::NotAColumnType(ty.kind_name()))),
        DataType::Int64 => build!(Int64Builder::with_capacity(cells.len()), Int64),
        DataType::Float64 => build!(Float64Builder::with_capacity(cells.len()), Float64),
        DataType::Bool => build!(BooleanBuilder::with_capacity(cells.len()), Bool),
        DataType::Timestamp => {
            let b = TimestampMicrosecondBuilder::with_capacity(cells.len()).with_timezone(UTC);
            build!(b, Timestamp)
        }
        DataType::Date => build!(Date32Builder::with_capacity(cells.len()), Date),
        DataType::Decimal { precision, scale } => {
            let mut b = Decimal128Builder::with_capacity(cells.len());
            for (row, cell) in cells.iter().enumerate() {
                match to_value_in(cell, ty, epoch)
                    .map_err(|m| (row, m))?
                    .as_decimal()
                {
                    Some((u, _)) => b.append_value(u),
                    None => b.append_null(),
                }
            }
            Arc::new(
                b.finish()
                    .with_precision_and_scale(precision, scale as i8)
                    .map_err(|_| (0, CellError::NotAColumnType("decimal")))?,
            )
        }
        DataType::String => {
            let mut b = StringBuilder::with_capacity(cells.len(), cells.len() * 8);
            for (row, cell) in cells.iter().enumerate() {
                match to_value_in(cell, ty, epoch).map_err(|m| (row, m))? {
                    Value::String(s) => b.append_value(&*s),
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn int64_is_exact_at_its_limits() {
        for i in [i64::MIN, -1, 0, i64::MAX] {
            assert_eq!(to_value(&json!(i), DataType::Int64), Ok(Value::Int64(i)));
            assert_eq!(to_json(&Value::Int64(i)), json!(i));
        }
        assert!(to_value(&json!(u64::MAX), DataType::Int64)
            .unwrap_err()
            .to_string()
            .contains("int64"));
        assert!(to_value(&json!(1.5), DataType::Int64).is_err());
        assert!(to_value(&json!("1"), DataType::Int64).is_err());
    }

    #[test]
    fn floats_round_trip_bit_for_bit_through_text() {
        for f in [
            0.1,
            -0.0,
            1e-310,
            f64::MAX,
            1.0 / 3.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            let text = serde_json::to_string(&to_json(&Value::Float64(f))).unwrap();
            let back: Json = serde_json::from_str(&text).unwrap();
            match to_value(&back, DataType::Float64).unwrap() {
                Value::Float64(g) => assert_eq!(g.to_bits(), f.to_bits(), "{text}"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn written_values_are_the_json_values() {
        for v in [
            Value::Null,
            Value::Int64(i64::MIN),
            Value::Float64(0.1),
            Value::Float64(-0.0),
            Value::Float64(1e-310),
            Value::Float64(f64::NAN),
            Value::Float64(f64::NEG_INFINITY),
            Value::Bool(false),
            Value::String(Arc::from("a \"quoted\" \u{1b} line")),
            Value::Timestamp(1_709_294_400_000_250),
            Value::Date(19_782),
        ] {
            let mut out = Vec::new();
            write_value(&mut out, &v);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                to_json(&v).to_string(),
                "{v:?}"
            );
        }
    }

    #[test]
    fn decimals_are_exact_text_both_ways() {
        use datafusion::arrow::array::AsArray;
        use datafusion::arrow::datatypes::Decimal128Type;
        let ty = DataType::Decimal {
            precision: 10,
            scale: 2,
        };
        for (given, unscaled) in [
            (json!("-12.30"), -1_230),
            (json!("5"), 500),
            (json!(".5"), 50),
            (json!(7), 700),
            (json!("99999999.99"), 9_999_999_999),
        ] {
            assert_eq!(
                to_value(&given, ty),
                Ok(Value::decimal(unscaled, 10, 2)),
                "{given}"
            );
        }
        assert_eq!(to_json(&Value::decimal(-1_230, 10, 2)), json!("-12.30"));
        let mut out = Vec::new();
        write_value(&mut out, &Value::decimal(5, 10, 2));
        assert_eq!(out, b"\"0.05\"");
        // Never rounded, never through a float: too many digits, or a fractional
        // JSON number, are refused.
        for bad in [json!("1.234"), json!("123456789"), json!(1.5), json!(true)] {
            assert!(to_value(&bad, ty).is_err(), "{bad}");
        }
        let column = to_array(&[json!("1.5"), Json::Null], ty, None).unwrap();
        let values = column.as_primitive::<Decimal128Type>();
        assert_eq!(values.iter().collect::<Vec<_>>(), vec![Some(150), None]);
    }

    #[test]
    fn dates_are_yyyy_mm_dd_strings_both_ways() {
        use datafusion::arrow::array::{Array, AsArray};
        use datafusion::arrow::datatypes::Date32Type;
        for (text, day) in [
            ("2024-02-29", 19_782),
            ("1970-01-01", 0),
            ("1969-12-31", -1),
            ("0001-01-01", -719_162),
            ("9999-12-31", 2_932_896),
        ] {
            assert_eq!(to_value(&json!(text), DataType::Date), Ok(Value::Date(day)));
            assert_eq!(to_json(&Value::Date(day)), json!(text));
        }
        assert_eq!(to_value(&Json::Null, DataType::Date), Ok(Value::Null));
        // Only the exact text of a real day: no numbers, times or loose spellings.
        for bad in [
            json!("2023-02-29"),
            json!("2024-1-05"),
            json!("2024-01-05T00:00:00Z"),
            json!(19_782),
            json!(true),
        ] {
            let err = to_value(&bad, DataType::Date).unwrap_err();
            assert!(err.to_string().contains("date"), "{bad}: {err}");
        }
        let column = to_array(&[json!("2024-01-02"), Json::Null], DataType::Date, None).unwrap();
        let days = column.as_primitive::<Date32Type>();
        assert_eq!((days.value(0), days.is_null(1)), (19_724, true));
        let (row, err) = to_array(
            &[json!("2024-01-02"), json!("2024-02-30")],
            DataType::Date,
            None,
        )
        .unwrap_err();
        assert_eq!(row, 1);
        assert_eq!(err, CellError::Date(DateError::Text("2024-02-30".into())));
    }

    #[test]
    fn lists_are_arrays_of_their_items_as_json() {
        use featc_runtime::ir::Scalar;
        use featc_runtime::value::List;
        let items = vec![
            Value::Timestamp(1_709_294_400_000_250),
            Value::Timestamp(-1),
            Value::Timestamp(0),
        ];
        let list = Value::List(Arc::new(List {
            item: Scalar::Timestamp,
            items: items.clone(),
            counts: None,
        }));
        assert_eq!(
            to_json(&list),
            Json::Array(items.iter().map(to_json).collect())
        );
        let floats = [0.1, -0.0, f64::NAN, f64::INFINITY];
        let counted = Value::List(Arc::new(List {
            item: Scalar::Float64,
            items: floats.iter().map(|f| Value::Float64(*f)).collect(),
            counts: Some(vec![4, 3, 2, 1]),
        }));
        let want: Vec<Json> = floats
            .iter()
            .zip([4, 3, 2, 1])
            .map(|(f, c)| json!({"value": to_json(&Value::Float64(*f)), "count": c}))
            .collect();
        assert_eq!(to_json(&counted), Json::Array(want));
        let mut out = Vec::new();
        write_value(&mut out, &counted);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            r#"[{"value":0.1,"count":4},{"value":-0.0,"count":3},{"value":"NaN","count":2},{"value":"Infinity","count":1}]"#
        );
        assert_eq!(
            serde_json::from_str::<Json>(&text).unwrap(),
            to_json(&counted)
        );
    }

    #[test]
    fn a_pushed_list_column_is_a_json_array_of_its_items() {
        let ty = DataType::List(featc_runtime::ir::ListType {
            item: featc_runtime::ir::Scalar::Float64,
            counted: false,
        });
        let cells = [json!([0.5, null, "NaN"]), Json::Null, json!([])];
        let column = to_array(&cells, ty, None).unwrap();
        let texts: Vec<String> = (0..3)
            .map(|r| {
                match featc_runtime::row::list_column::list_cell(
                    column.as_ref(),
                    featc_runtime::ir::Scalar::Float64,
                    r,
                ) {
                    Value::List(l) => featc_runtime::row::list::json_text(&l),
                    _ => "null".to_string(),
                }
            })
            .collect();
        assert_eq!(texts, [r#"[0.5,null,"NaN"]"#, "null", "[]"]);
        let (row, _) = to_array(&[json!([1.0]), json!("[1.0]")], ty, None).unwrap_err();
        assert_eq!(row, 1);
        assert!(to_value(&json!(["a"]), ty).is_err());
    }

    #[test]
    fn a_bad_cell_names_its_row() {
        let cells = [json!(1), json!(null), json!("x")];
        let (row, error) = to_array(&cells, DataType::Int64, None).unwrap_err();
        assert_eq!(
            (row, error.to_string()),
            (2, "expected int64, found a string".to_string())
        );
        assert_eq!(
            to_array(&cells[..2], DataType::Int64, None).unwrap().len(),
            2
        );
    }
}
