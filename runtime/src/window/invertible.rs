//! `InvertibleWindow`: a running state plus the aggregation's inverse; O(1) insert
//! and evict in any order (late inserts included).

use super::accumulator::assign_same;
use super::check::InputCheck;
use super::run::BufferRun;
use super::WindowAccumulator;
use crate::agg::{AggError, Invertible};
use crate::ir::AggKind;
use crate::snapshot::{Persist, Reader, SnapshotError, Writer};
use crate::value::Value;

#[derive(Debug, Clone)]
pub struct InvertibleWindow<A: Invertible> {
    agg: A,
    state: A::State,
    check: InputCheck,
}

impl<A: Invertible> InvertibleWindow<A> {
    pub fn new(agg: A, check: InputCheck) -> Self {
        let state = agg.identity();
        InvertibleWindow { agg, state, check }
    }
}

impl<A: Invertible> WindowAccumulator for InvertibleWindow<A> {
    #[inline]
    fn insert(&mut self, ts: i64, _seq: u64, v: &Value) {
        if self.check.accept(v) {
            self.agg.insert(&mut self.state, ts, v);
        }
    }

    #[inline]
    fn evict(&mut self, ts: i64, _seq: u64, v: &Value) {
        if self.check.fits(v) {
            self.agg.remove(&mut self.state, ts, v);
        }
    }

    fn finish(&self) -> Result<Value, AggError> {
        match self.check.error() {
            Some(e) => Err(e),
            None => self.agg.finish(&self.state),
        }
    }

    fn finish_as(&self, agg: AggKind) -> Option<Result<Value, AggError>> {
        let r = self.agg.finish_as(&self.state, agg, self.check.input())?;
        Some(match self.check.error_as(agg) {
            Some(e) => Err(e),
            None => r,
        })
    }

    fn approx_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.agg.state_bytes(&self.state)
    }

    fn reset(&mut self) {
        self.state = self.agg.identity();
        self.check.reset();
    }

    fn shrink_to_fit(&mut self) {
        self.agg.shrink_state(&mut self.state);
    }

    #[inline]
    fn fold_run(&mut self, run: &BufferRun<'_>, insert: bool) -> bool {
        // A typed run holds only values of the input type: the check has nothing to see.
        self.agg.fold_run(&mut self.state, run, insert)
    }

    #[inline]
    fn prefetch_heap(&self) {
        self.agg.prefetch_state(&self.state);
    }

    fn assign_from(&mut self, other: &dyn WindowAccumulator) -> bool {
        assign_same(self, other, |to, from: &Self| {
            to.state.clone_from(&from.state);
            to.check = from.check.clone();
        })
    }

    fn save(&self, w: &mut Writer) {
        self.check.save(w);
        self.state.save(w);
    }

    fn load(&mut self, r: &mut Reader<'_>) -> Result<(), SnapshotError> {
        self.check.load(r)?;
        self.state = A::State::load(r)?;
        Ok(())
    }
}
