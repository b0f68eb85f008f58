//! `Persist`: a type that writes itself into a snapshot and reads itself back, and
//! its implementations for the shared building blocks (numbers, options, pairs,
//! `Value`, `ValueKey`, `DataType`). Each state type of the window and aggregation
//! layers implements it beside its own (private) fields.

use super::error::SnapshotError;
use super::reader::Reader;
use super::writer::Writer;
use crate::ir::DataType;
use crate::value::{Value, ValueKey};

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

impl Persist for DataType {
    fn save(&self, w: &mut Writer) {
        w.u8(match self {
            DataType::Int64 => 0,
            DataType::Float64 => 1,
            DataType::String => 2,
            DataType::Bool => 3,
            DataType::Timestamp => 4,
        });
    }
    fn load(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        Ok(match r.u8()? {
            0 => DataType::Int64,
            1 => DataType::Float64,
            2 => DataType::String,
            3 => DataType::Bool,
            4 => DataType::Timestamp,
            b => return Err(SnapshotError::Malformed(format!("{b} is not a type"))),
        })
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
        }
    }
    fn load(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        Ok(match r.u8()? {
            0 => Value::Null,
            1 => Value::Int64(r.i64()?),
            2 => Value::Float64(r.f64()?),
            3 => Value::Bool(false),
            4 => Value::Bool(true),
            5 => Value::String(r.string()?),
            6 => Value::Timestamp(r.i64()?),
            b => return Err(SnapshotError::Malformed(format!("{b} is not a value tag"))),
        })
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
