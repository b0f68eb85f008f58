//! `RunningWindow`: a lifetime accumulator (never evicted) for aggregations without
//! an inverse; the running monoid state.

use super::accumulator::assign_same;
use super::check::InputCheck;
use super::run::BufferRun;
use super::WindowAccumulator;
use crate::agg::{AggError, Aggregation};
use crate::snapshot::{Persist, Reader, SnapshotError, Writer};
use crate::value::Value;

#[derive(Debug, Clone)]
pub struct RunningWindow<A: Aggregation> {
    agg: A,
    state: A::State,
    check: InputCheck,
}

impl<A: Aggregation> RunningWindow<A> {
    pub fn new(agg: A, check: InputCheck) -> Self {
        let state = agg.identity();
        RunningWindow { agg, state, check }
    }
}

impl<A: Aggregation> WindowAccumulator for RunningWindow<A> {
    #[inline]
    fn insert(&mut self, ts: i64, _seq: u64, v: &Value) {
        if self.check.accept(v) {
            self.agg.insert(&mut self.state, ts, v);
        }
    }

    /// A lifetime accumulator is never evicted from; the call is ignored.
    fn evict(&mut self, _ts: i64, _seq: u64, _v: &Value) {}

    fn finish(&self) -> Result<Value, AggError> {
        match self.check.error() {
            Some(e) => Err(e),
            None => self.agg.finish(&self.state),
        }
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

    /// Evicting from a lifetime accumulator does nothing, typed or not.
    #[inline]
    fn fold_run(&mut self, run: &BufferRun<'_>, insert: bool) -> bool {
        !insert || self.agg.fold_run(&mut self.state, run, true)
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
