//! One value across the boundary without Arrow, for the one-entity read
//! (`online_one`): a Python scalar as a featc `Value` of a declared type, and a
//! feature's `Value` as the Python object pyarrow's `to_pylist()` gives for its cell
//! of the table read (`TableRead::into_batch`), so both reads answer equal values.
//!
//! In: what `conform` accepts from the column pyarrow would infer for the scalar
//! (`pa.array([value])`), and nothing else: an int is int64 (also a float64, an
//! integer time by the plausibility rule, or an exact decimal), a float float64, a
//! str a string (also a date's `YYYY-MM-DD` or a decimal's text), a datetime a
//! timestamp (naive is UTC), a date a date (or its midnight UTC), a
//! `decimal.Decimal` a decimal when exact, None null. A numpy scalar is read as its
//! Python value (`item()`), a `datetime64` as the time it holds, nanoseconds floored.
//!
//! Out: int, float (the same bits), str, bool, `datetime` in UTC with the tzinfo
//! pyarrow gives (`zoneinfo`'s, or pytz's when installed: asked of pyarrow once),
//! `date`, `decimal.Decimal` with the scale's digits, lists of those, and a `top_k`
//! entry as `{"value": .., "count": ..}`; null as None.

use std::sync::Arc;

use featc_runtime::ir::{DataType, ListType, Scalar};
use featc_runtime::row::date::parse_date;
use featc_runtime::row::decimal::{fits, format_decimal, parse_decimal, pow10, DecimalError};
use featc_runtime::row::time::epoch_micros;
use featc_runtime::value::{List, Value};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{
    PyBool, PyDate, PyDateTime, PyDelta, PyDict, PyFloat, PyInt, PyList, PyString, PyType,
};
use pyo3::{intern, Py};

const DAY_US: i64 = 86_400_000_000;
/// `date(1970, 1, 1).toordinal()`: featc's day 0 in Python's proleptic ordinals.
const EPOCH_ORDINAL: i64 = 719_163;

/// `value` as a `Value` of type `ty`, or why it is not one (a message for the
/// column's error, in `conform`'s words where it has some). The outer error is
/// Python's own (a method of the value that raised).
pub fn value_of(value: &Bound<'_, PyAny>, ty: DataType) -> PyResult<Result<Value, String>> {
    if value.is_none() {
        return Ok(Ok(Value::Null));
    }
    // A bool is an int in Python: asked first, it is never read as 0 or 1.
    if let Ok(b) = value.cast::<PyBool>() {
        return Ok(match ty {
            DataType::Bool => Ok(Value::Bool(b.is_true())),
            _ => Err(wrong("bool", ty)),
        });
    }
    if value.is_instance_of::<PyInt>() {
        return Ok(match value.extract::<i64>() {
            Ok(i) => from_int(i, ty),
            Err(_) => Err(format!("{value} does not fit int64")),
        });
    }
    if let Ok(f) = value.cast::<PyFloat>() {
        return Ok(match ty {
            DataType::Float64 => Ok(Value::Float64(f.value())),
            _ => Err(wrong("float", ty)),
        });
    }
    if let Ok(s) = value.cast::<PyString>() {
        let text = s.to_cow()?;
        return Ok(match ty {
            DataType::String => Ok(Value::String(Arc::from(&*text))),
            DataType::Date => parse_date(&text)
                .map(Value::Date)
                .map_err(|e| e.to_string()),
            DataType::Decimal { precision, scale } => parse_decimal(&text, precision, scale)
                .map(|u| Value::decimal(u, precision, scale))
                .map_err(|e| e.to_string()),
            _ => Err(wrong("str", ty)),
        });
    }
    // A datetime is a date in Python: asked first.
    if value.is_instance_of::<PyDateTime>() {
        return Ok(match ty {
            DataType::Timestamp => Ok(Value::Timestamp(datetime_micros(value)?)),
            _ => Err(wrong("datetime", ty)),
        });
    }
    if value.is_instance_of::<PyDate>() {
        let day: i64 = value
            .call_method0(intern!(value.py(), "toordinal"))?
            .extract()?;
        let day = day - EPOCH_ORDINAL;
        return Ok(match ty {
            // Python's dates are featc's range exactly (0001-01-01 to 9999-12-31).
            DataType::Date => Ok(Value::Date(day as i32)),
            DataType::Timestamp => Ok(Value::Timestamp(day * DAY_US)),
            _ => Err(wrong("date", ty)),
        });
    }
    if value.is_instance(decimal_class(value.py())?.as_any())? {
        return match ty {
            DataType::Decimal { precision, scale } => decimal_of(value, precision, scale),
            _ => Ok(Err(wrong("Decimal", ty))),
        };
    }
    if let Some(inner) = numpy_value(value, ty)? {
        return Ok(inner);
    }
    let found = value.get_type().name()?.to_string();
    Ok(Err(wrong(&found, ty)))
}

/// "has type T, expected U", as `conform` says it of a column.
fn wrong(found: &str, ty: DataType) -> String {
    format!("has type {found}, expected {}", ty.name())
}

/// An int as type `ty`: int64 itself, float64 converted (Arrow's cast, `as`), an
/// integer time by the plausibility rule (no source, so no `epoch` unit), a decimal
/// exactly.
fn from_int(i: i64, ty: DataType) -> Result<Value, String> {
    match ty {
        DataType::Int64 => Ok(Value::Int64(i)),
        DataType::Float64 => Ok(Value::Float64(i as f64)),
        DataType::Timestamp => epoch_micros(i, None)
            .map(Value::Timestamp)
            .map_err(|e| e.to_string()),
        DataType::Decimal { precision, scale } => i128::from(i)
            .checked_mul(pow10(scale))
            .filter(|&u| fits(u, precision))
            .map(|u| Value::decimal(u, precision, scale))
            .ok_or_else(|| {
                DecimalError::TooManyDigits {
                    value: i.to_string(),
                    precision,
                    scale,
                }
                .to_string()
            }),
        _ => Err(wrong("int", ty)),
    }
}

/// A datetime as microseconds since the epoch, UTC (naive is UTC): its distance
/// from the epoch, which Python computes exactly (offsets applied).
fn datetime_micros(value: &Bound<'_, PyAny>) -> PyResult<i64> {
    let py = value.py();
    let aware = !value.call_method0(intern!(py, "utcoffset"))?.is_none();
    let epoch = epoch(py, aware)?;
    let delta = value.sub(epoch)?;
    let days: i64 = delta.getattr(intern!(py, "days"))?.extract()?;
    let seconds: i64 = delta.getattr(intern!(py, "seconds"))?.extract()?;
    let micros: i64 = delta.getattr(intern!(py, "microseconds"))?.extract()?;
    Ok(days * DAY_US + seconds * 1_000_000 + micros)
}

/// 1970-01-01T00:00: naive, or in UTC.
fn epoch(py: Python<'_>, aware: bool) -> PyResult<&Bound<'_, PyAny>> {
    static NAIVE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    static AWARE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let cell = if aware { &AWARE } else { &NAIVE };
    let epoch = cell.get_or_try_init(py, || {
        let datetime = py.import("datetime")?;
        let utc = datetime.getattr("timezone")?.getattr("utc")?;
        let tz = if aware { utc } else { py.None().into_bound(py) };
        let kwargs = PyDict::new(py);
        kwargs.set_item("tzinfo", tz)?;
        Ok::<_, PyErr>(
            datetime
                .getattr("datetime")?
                .call((1970, 1, 1), Some(&kwargs))?
                .unbind(),
        )
    })?;
    Ok(epoch.bind(py))
}

/// A `decimal.Decimal` as `decimal(precision, scale)`, exactly (never rounded:
/// digits beyond the scale must be zeros, as `to_decimal` reads a decimal column).
fn decimal_of(
    value: &Bound<'_, PyAny>,
    precision: u8,
    scale: u8,
) -> PyResult<Result<Value, String>> {
    let text = || value.str().map(|s| s.to_string()).unwrap_or_default();
    let (sign, digits, exponent): (u8, Vec<u8>, Bound<'_, PyAny>) = value
        .call_method0(intern!(value.py(), "as_tuple"))?
        .extract()?;
    // NaN and the infinities have a letter for an exponent.
    let Ok(mut exponent) = exponent.extract::<i64>() else {
        return Ok(Err(DecimalError::Text(text()).to_string()));
    };
    // value = digits * 10^exponent; trailing zeros moved into the exponent, so a
    // value with more digits than an i128 holds but few significant ones still reads.
    let mut digits = digits.as_slice();
    while let [rest @ .., 0] = digits {
        if rest.is_empty() {
            break;
        }
        digits = rest;
        exponent += 1;
    }
    let too_many = || {
        DecimalError::TooManyDigits {
            value: text(),
            precision,
            scale,
        }
        .to_string()
    };
    let mut u: i128 = 0;
    for &d in digits {
        match u.checked_mul(10).and_then(|u| u.checked_add(i128::from(d))) {
            Some(next) => u = next,
            None => return Ok(Err(too_many())),
        }
    }
    // The unscaled value is u * 10^shift.
    let shift = exponent + i64::from(scale);
    if u != 0 {
        if shift < 0 {
            return Ok(Err(DecimalError::TooManyFractionDigits {
                value: text(),
                scale,
            }
            .to_string()));
        }
        match u8::try_from(shift)
            .ok()
            .filter(|&s| s <= 38)
            .and_then(|s| u.checked_mul(pow10(s)))
        {
            Some(scaled) => u = scaled,
            None => return Ok(Err(too_many())),
        }
    }
    if !fits(u, precision) {
        return Ok(Err(too_many()));
    }
    Ok(Ok(Value::decimal(
        if sign == 1 { -u } else { u },
        precision,
        scale,
    )))
}

/// A numpy scalar's value (`None` when `value` is not one): a `datetime64` as its
/// time for a timestamp (nanoseconds floored, as featc reads a nanosecond column),
/// anything else as its Python value (`item()`).
fn numpy_value(value: &Bound<'_, PyAny>, ty: DataType) -> PyResult<Option<Result<Value, String>>> {
    let py = value.py();
    let module = value.get_type().module()?.to_string();
    if module.split('.').next() != Some("numpy") || !value.hasattr(intern!(py, "item"))? {
        return Ok(None);
    }
    let kind = value.get_type().name()?.to_string();
    if kind == "datetime64" {
        if ty != DataType::Timestamp {
            return Ok(Some(Err(wrong("numpy.datetime64", ty))));
        }
        let nanos: i64 = value
            .call_method1(intern!(py, "astype"), ("datetime64[ns]",))?
            .call_method1(intern!(py, "astype"), ("int64",))?
            .extract()?;
        // NaT is the smallest int64, and null as pyarrow reads it.
        return Ok(Some(Ok(match nanos {
            i64::MIN => Value::Null,
            _ => Value::Timestamp(nanos.div_euclid(1_000)),
        })));
    }
    let inner = value.call_method0(intern!(py, "item"))?;
    // Guards against an `item()` that answers another numpy value.
    if inner.get_type().module()?.to_string().starts_with("numpy") {
        return Ok(Some(Err(wrong(&format!("numpy.{kind}"), ty))));
    }
    value_of(&inner, ty).map(Some)
}

/// `decimal.Decimal`.
fn decimal_class(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    static DECIMAL: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    DECIMAL.import(py, "decimal", "Decimal")
}

/// `value` of a feature of type `ty` as pyarrow's `to_pylist()` gives its cell of
/// the table read. A value of another variant than the type is None, as the table's
/// column builder appends it (`ValuesBuilder::append`).
pub fn to_python<'py>(py: Python<'py>, value: &Value, ty: DataType) -> PyResult<Bound<'py, PyAny>> {
    match (ty, value) {
        (DataType::List(l), Value::List(list)) if list.list_type() == l => list_value(py, list),
        (DataType::List(_), _) => Ok(py.None().into_bound(py)),
        (_, v) => match ty.scalar() {
            Some(item) if matches_scalar(v, item) => scalar(py, v),
            _ => Ok(py.None().into_bound(py)),
        },
    }
}

/// Whether `value` (not null) is a value of type `item`.
fn matches_scalar(value: &Value, item: Scalar) -> bool {
    match (item, value) {
        (Scalar::Int64, Value::Int64(_))
        | (Scalar::Float64, Value::Float64(_))
        | (Scalar::String, Value::String(_))
        | (Scalar::Bool, Value::Bool(_))
        | (Scalar::Timestamp, Value::Timestamp(_))
        | (Scalar::Date, Value::Date(_)) => true,
        (
            Scalar::Decimal { precision, scale },
            Value::Decimal {
                precision: p,
                scale: s,
                ..
            },
        ) => (precision, scale) == (*p, *s),
        _ => false,
    }
}

/// A scalar value (of a matching type, or null) as its Python object.
fn scalar<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Int64(x) => x.into_pyobject(py)?.into_any(),
        Value::Float64(x) => PyFloat::new(py, *x).into_any(),
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Timestamp(us) => timestamp(py, *us)?,
        Value::Date(day) => date_class(py)?.call_method1(
            intern!(py, "fromordinal"),
            (i64::from(*day) + EPOCH_ORDINAL,),
        )?,
        Value::Decimal {
            unscaled, scale, ..
        } => decimal_class(py)?.call1((format_decimal(unscaled.get(), *scale),))?,
        Value::List(l) => list_value(py, l)?,
    })
}

/// A timestamp as pyarrow converts one of `timestamp[us, tz=UTC]`: the epoch in
/// pyarrow's UTC tzinfo plus the microseconds (out of Python's years, the
/// `OverflowError` pyarrow raises too).
fn timestamp<'py>(py: Python<'py>, us: i64) -> PyResult<Bound<'py, PyAny>> {
    let days = us.div_euclid(DAY_US);
    let within = us.rem_euclid(DAY_US);
    let overflow = || pyo3::exceptions::PyOverflowError::new_err("date value out of range");
    let days = i32::try_from(days).map_err(|_| overflow())?;
    let delta = PyDelta::new(
        py,
        days,
        (within / 1_000_000) as i32,
        (within % 1_000_000) as i32,
        false,
    )
    .map_err(|_| overflow())?;
    pyarrow_epoch(py)?.add(delta)
}

/// 1970-01-01T00:00Z as pyarrow converts it: its tzinfo is the one pyarrow gives
/// every UTC time (which depends on whether pytz is installed), asked once.
fn pyarrow_epoch(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    static EPOCH: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let epoch = EPOCH.get_or_try_init(py, || {
        let pa = py.import("pyarrow")?;
        let ty = pa.call_method1("timestamp", ("us", "UTC"))?;
        Ok::<_, PyErr>(
            pa.call_method1("scalar", (0, ty))?
                .call_method0("as_py")?
                .unbind(),
        )
    })?;
    Ok(epoch.bind(py))
}

/// `datetime.date`.
fn date_class(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    static DATE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    DATE.import(py, "datetime", "date")
}

/// A list as pyarrow converts its column's cell: its items (nulls as None), or
/// for a counted list (`top_k`) one `{"value", "count"}` dict per entry. An item
/// of another type fails the read, as it fails the table's column
/// (`list::list_array`).
fn list_value<'py>(py: Python<'py>, list: &List) -> PyResult<Bound<'py, PyAny>> {
    let out = PyList::empty(py);
    for (item, count) in list.entries() {
        let null_allowed = !matches!(list.item, Scalar::Decimal { .. });
        if !(matches_scalar(item, list.item) || (item.is_null() && null_allowed)) {
            return Err(crate::errors::error(
                py,
                "DataError",
                format!(
                    "a {} item in a {}",
                    item.variant_name(),
                    ListType {
                        item: list.item,
                        counted: list.counts.is_some()
                    }
                    .name()
                ),
            ));
        }
        let value = scalar(py, item)?;
        match count {
            Some(count) => {
                let entry = PyDict::new(py);
                entry.set_item(intern!(py, "value"), value)?;
                entry.set_item(intern!(py, "count"), count)?;
                out.append(entry)?;
            }
            None => out.append(value)?,
        }
    }
    Ok(out.into_any())
}
