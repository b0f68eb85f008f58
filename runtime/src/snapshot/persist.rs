//! `Persist`: a type that writes itself into a snapshot and reads itself back, and
//! its implementations for the shared building blocks (numbers, options, pairs,
//! `Value`, `ValueKey`, `DataType`). Each state type of the window and aggregation
//! layers implements it beside its own (private) fields.

use super::error::SnapshotError;
use super::reader::Reader;
use super::writer::Writer;
use std::sync::Arc;

use crate::ir::{DataType, ListType, Scalar};
use crate::value::{List, Value, ValueKey};

/// Invariant: `load` of what `save` wrote gives a value equal to the saved one in
/// every observable way (results, future behaviour, capacities that memory figures
/// count); strings come back through the reader's interner.
pub trait Persist: Sized {
    fn save(&self, w: &mut Writer);
    fn load(r: &mut Reader<'_>) -> Result<Self, SnapshotError>;
}

impl Persist for u64 {
    fn save(&self, w: &mut Writer) {
        w.u64(*self);
    }
    fn load(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        r.u64()
    }
}

impl Persist for i64 {
    fn save(&self, w: &mut Writer) {
        w.i64(*self);
    }
    fn load(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        r.i64()
    }
}

impl Persist for i128 {
    fn save(&self, w: &mut Writer) {
        w.i128(*self);
    }
    fn load(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        r.i128()
    }
}

impl<T: Persist> Persist for Option<T> {
    fn save(&self, w: &mut Writer) {
        match self {
            None => w.u8(0),
            Some(x) => {
                w.u8(1);
                x.save(w);
            }
        }
    }
    fn load(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        match r.u8()? {
            0 => Ok(None),
            1 => Ok(Some(T::load(r)?)),
            b => Err(SnapshotError::Malformed(format!(
                "{b} is not an option tag"
            ))),
        }
    }
}

impl<A: Persist, B: Persist> Persist for (A, B) {
    fn save(&self, w: &mut Writer) {
        self.0.save(w);
        self.1.save(w);
    }
    fn load(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        Ok((A::load(r)?, B::load(r)?))
    }
}

/// A tag byte; a list type's tag (5 plain, 6 counted) is followed by its item's
/// (`date`, added after the lists, is 7; `decimal` is 9, then its precision and
/// scale).
impl Persist for DataType {
    fn save(&self, w: &mut Writer) {
        match self.scalar() {
            Some(s) => s.save(w),
            None => {
                if let DataType::List(l) = self {
                    w.u8(if l.counted { 6 } else { 5 });
                    l.item.save(w);
                }
            }
        }
    }
    fn load(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        Ok(match r.u8()? {
            b @ (5 | 6) => DataType::List(ListType {
                item: Scalar::load(r)?,
                counted: b == 6,
            }),
            b => scalar(b, r)?.data_type(),
        })
    }
}

fn scalar(tag: u8, r: &mut Reader<'_>) -> Result<Scalar, SnapshotError> {
    Ok(match tag {
        9 => {
            let (precision, scale) = decimal_parts(r)?;
            Scalar::Decimal { precision, scale }
        }
        0 => Scalar::Int64,
        1 => Scalar::Float64,
        2 => Scalar::String,
        3 => Scalar::Bool,
        4 => Scalar::Timestamp,
        7 => Scalar::Date,
        b => return Err(SnapshotError::Malformed(format!("{b} is not a type"))),
    })
}

impl Persist for Scalar {
    fn save(&self, w: &mut Writer) {
        w.u8(match self {
            Scalar::Int64 => 0,
            Scalar::Float64 => 1,
            Scalar::String => 2,
            Scalar::Bool => 3,
            Scalar::Timestamp => 4,
            Scalar::Date => 7,
            Scalar::Decimal { precision, scale } => {
                w.u8(9);
                w.u8(*precision);
                w.u8(*scale);
                return;
            }
        });
    }
    fn load(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        let tag = r.u8()?;
        scalar(tag, r)
    }
}

/// A tag byte, then the payload: floats by their bits (NaN payloads and signed
/// zeros survive), strings interned on load.
impl Persist for Value {
    fn save(&self, w: &mut Writer) {
        match self {
            Value::Null => w.u8(0),
            Value::Int64(x) => {
                w.u8(1);
                w.i64(*x);
            }
            Value::Float64(x) => {
                w.u8(2);
                w.f64(*x);
            }
            Value::Bool(b) => w.u8(if *b { 4 } else { 3 }),
            Value::String(s) => {
                w.u8(5);
                w.str(s);
            }
            Value::Timestamp(x) => {
                w.u8(6);
                w.i64(*x);
            }
            Value::Date(d) => {
                w.u8(8);
                w.i64(i64::from(*d));
            }
            Value::Decimal {
                unscaled,
                precision,
                scale,
            } => {
                w.u8(9);
                w.u8(*precision);
                w.u8(*scale);
                w.i128(unscaled.get());
            }
            Value::List(l) => {
                w.u8(7);
                l.item.save(w);
                w.usize(l.items.len());
                for v in &l.items {
                    v.save(w);
                }
                l.counts.save(w);
            }
        }
    }
    fn load(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        Ok(match r.u8()? {
            7 => {
                let item = Scalar::load(r)?;
                let n = r.count(1)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    // Items are scalars of the list's type: no list nests in a list.
                    let v = match r.u8()? {
                        7 => Err(SnapshotError::Malformed("a list in a list".to_string())),
                        tag => scalar_value(tag, r),
                    }?;
                    // A list column's items may be null (never a counted list's,
                    // checked once the counts are read).
                    if !v.fits(item.data_type()) {
                        return Err(SnapshotError::Malformed(format!(
                            "a {} item in a list of {}",
                            v.variant_name(),
                            item.name()
                        )));
                    }
                    items.push(v);
                }
                let counts = Option::<Vec<i64>>::load(r)?;
                if counts.is_some() && items.iter().any(Value::is_null) {
                    return Err(SnapshotError::Malformed(
                        "a null item in a counted list".to_string(),
                    ));
                }
                if counts.as_ref().is_some_and(|c| c.len() != items.len()) {
                    return Err(SnapshotError::Malformed(
                        "a counted list without one count per item".to_string(),
                    ));
                }
                Value::List(Arc::new(List {
                    item,
                    items,
                    counts,
                }))
            }
            tag => scalar_value(tag, r)?,
        })
    }
}

/// A decimal type's precision and scale, checked (`ir::decimal_type`).
fn decimal_parts(r: &mut Reader<'_>) -> Result<(u8, u8), SnapshotError> {
    let (precision, scale) = (r.u8()?, r.u8()?);
    match crate::ir::decimal_type(u64::from(precision), u64::from(scale)) {
        Some(_) => Ok((precision, scale)),
        None => Err(SnapshotError::Malformed(format!(
            "decimal({precision}, {scale}) is not a type"
        ))),
    }
}

/// The value of a scalar tag (`Value::save`'s 0 to 6, 8 and 9) read from `r`.
fn scalar_value(tag: u8, r: &mut Reader<'_>) -> Result<Value, SnapshotError> {
    Ok(match tag {
        0 => Value::Null,
        1 => Value::Int64(r.i64()?),
        2 => Value::Float64(r.f64()?),
        3 => Value::Bool(false),
        4 => Value::Bool(true),
        5 => Value::String(r.string()?),
        6 => Value::Timestamp(r.i64()?),
        8 => {
            let day = r.i64()?;
            Value::Date(
                i32::try_from(day)
                    .map_err(|_| SnapshotError::Malformed(format!("{day} is not a date")))?,
            )
        }
        9 => {
            let (precision, scale) = decimal_parts(r)?;
            let u = r.i128()?;
            if !crate::row::decimal::fits(u, precision) {
                return Err(SnapshotError::Malformed(format!(
                    "{u} does not fit decimal({precision}, {scale})"
                )));
            }
            Value::decimal(u, precision, scale)
        }
        b => return Err(SnapshotError::Malformed(format!("{b} is not a value tag"))),
    })
}

impl Persist for Vec<i64> {
    fn save(&self, w: &mut Writer) {
        w.usize(self.len());
        for x in self {
            w.i64(*x);
        }
    }
    fn load(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        let n = r.count(1)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(r.i64()?);
        }
        Ok(out)
    }
}

impl Persist for ValueKey {
    fn save(&self, w: &mut Writer) {
        self.0.save(w);
    }
    fn load(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        Ok(ValueKey(Value::load(r)?))
    }
}
