//! `InputCheck`: the per-accumulator guard that turns values of the wrong variant
//! into an `AggError::TypeMismatch` at finish instead of a wrong number.

use crate::agg::AggError;
use crate::ir::{AggKind, DataType};
use crate::snapshot::{Persist, Reader, SnapshotError, Writer};
use crate::value::Value;

/// Invariant: once a mismatched value was seen, `finish` reports it until `reset`.
#[derive(Debug, Clone)]
pub struct InputCheck {
    agg: AggKind,
    /// `None`: any value is accepted (`count(*)`).
    input: Option<DataType>,
    /// The type of the first refused value (a null always fits). Three bytes in
    /// all: every accumulator of every entity carries one.
    mismatch: Option<DataType>,
}

impl InputCheck {
    pub fn new(agg: AggKind, input: Option<DataType>) -> InputCheck {
        InputCheck {
            agg,
            input,
            mismatch: None,
        }
    }

    /// True when `v` may be fed to the aggregation; records the mismatch otherwise.
    #[inline]
    pub fn accept(&mut self, v: &Value) -> bool {
        match self.input {
            Some(ty) if !v.fits(ty) => {
                self.mismatch = v.data_type();
                false
            }
            _ => true,
        }
    }

    /// The same test without recording (for eviction of values that were refused).
    #[inline]
    pub fn fits(&self, v: &Value) -> bool {
        self.input.is_none_or(|ty| v.fits(ty))
    }

    pub fn error(&self) -> Option<AggError> {
        self.error_as(self.agg)
    }

    /// `error`, reported for aggregation `agg` (a feature sharing this state).
    pub fn error_as(&self, agg: AggKind) -> Option<AggError> {
        self.mismatch.map(|found| AggError::TypeMismatch {
            agg,
            expected: self.input,
            found: found.kind_name(),
        })
    }

    /// The declared input type (`None`: any, for `count(*)`).
    pub fn input(&self) -> Option<DataType> {
        self.input
    }

    pub fn reset(&mut self) {
        self.mismatch = None;
    }

    /// The recorded mismatch (the aggregation and input come from the spec).
    pub fn save(&self, w: &mut Writer) {
        self.mismatch.save(w);
    }

    pub fn load(&mut self, r: &mut Reader<'_>) -> Result<(), SnapshotError> {
        self.mismatch = Option::<DataType>::load(r)?;
        Ok(())
    }
}
