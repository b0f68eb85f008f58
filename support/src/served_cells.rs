//! Cells of an Arrow column and values of a JSON read of `featc serve` in one form, to
//! compare them bit for bit: floats by their bits, times in µs, lists as their JSON.

use serde_json::Value as Json;

/// A training set's cell as the JSON a read answers (floats by their bits).
pub fn expected_cell(array: &datafusion::arrow::array::ArrayRef, row: usize) -> Json {
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::{
        DataType, Float64Type, Int64Type, TimestampMicrosecondType,
    };
    if array.is_null(row) {
        return Json::Null;
    }
    match array.data_type() {
        DataType::Int64 => Json::from(array.as_primitive::<Int64Type>().value(row)),
        DataType::Float64 => {
            let f = array.as_primitive::<Float64Type>().value(row);
            Json::from(format!("bits:{:016x}", f.to_bits()))
        }
        DataType::Boolean => Json::from(array.as_boolean().value(row)),
        DataType::Utf8 => Json::from(array.as_string::<i32>().value(row)),
        DataType::Utf8View => Json::from(array.as_string_view().value(row)),
        DataType::Timestamp(_, _) => {
            Json::from(array.as_primitive::<TimestampMicrosecondType>().value(row))
        }
        // A list feature: its JSON, as a read answers it.
        DataType::List(_) => {
            use featc_runtime::row::list::{json_text, list_at, list_type_of};
            let ty = list_type_of(array.data_type()).expect("a featc list type");
            match list_at(array.as_ref(), ty, row) {
                Some(featc_runtime::value::Value::List(l)) => {
                    serde_json::from_str(&json_text(&l)).expect("list JSON")
                }
                other => panic!("not a list: {other:?}"),
            }
        }
        other => panic!("unexpected output type {other}"),
    }
}

/// A read's value in the same form (floats by their bits, times in µs).
pub fn served_cell(value: &Json, ty: &datafusion::arrow::datatypes::DataType) -> Json {
    use datafusion::arrow::datatypes::DataType;
    match (value, ty) {
        (Json::Null, _) => Json::Null,
        (v, DataType::Float64) => {
            let f = match v {
                Json::String(s) if s == "NaN" => f64::NAN,
                Json::String(s) if s == "Infinity" => f64::INFINITY,
                Json::String(s) if s == "-Infinity" => f64::NEG_INFINITY,
                v => v.as_f64().expect("a float"),
            };
            Json::from(format!("bits:{:016x}", f.to_bits()))
        }
        (Json::String(s), DataType::Timestamp(_, _)) => Json::from(micros_of(s)),
        (v, _) => v.clone(),
    }
}

/// An RFC 3339 time as the server prints it, in µs since the epoch (Arrow's parser:
/// the test support does not depend on the server).
fn micros_of(text: &str) -> i64 {
    use datafusion::arrow::array::{Array, AsArray, StringArray};
    use datafusion::arrow::compute::cast;
    use datafusion::arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
    let parsed = cast(
        &StringArray::from(vec![text]),
        &DataType::Timestamp(TimeUnit::Microsecond, None),
    )
    .unwrap_or_else(|e| panic!("{text:?} is not an RFC 3339 time: {e}"));
    assert!(!parsed.is_null(0), "{text:?} is not an RFC 3339 time");
    parsed.as_primitive::<TimestampMicrosecondType>().value(0)
}
