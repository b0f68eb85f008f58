//! The event-time clocks of a source's partitions (e.g. a Kafka topic's): when a
//! source is fed by partitions, its watermark follows the slowest live partition, so
//! a partition that lags behind the others does not see its events counted late.
//!
//! A partition counts from its first event. One that the feeder declares idle (it
//! has been silent longer than the feeder's idle timeout) stops holding the watermark
//! back until its next event.

/// One partition's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PartitionClock {
    pub id: i32,
    /// The greatest event time it has delivered.
    pub max_ts: i64,
    pub idle: bool,
}

/// A source's partition clocks, by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Partitions {
    pub clocks: Vec<PartitionClock>,
}

impl Partitions {
    pub fn get(&self, id: i32) -> Option<&PartitionClock> {
        self.clocks.iter().find(|c| c.id == id)
    }

    /// The least greatest-event-time over the live (not idle) partitions other than
    /// `except`; `None` when there is none.
    pub fn low(&self, except: Option<i32>) -> Option<i64> {
        self.clocks
            .iter()
            .filter(|c| !c.idle && Some(c.id) != except)
            .map(|c| c.max_ts)
            .min()
    }

    /// Records that partition `id` delivered events up to `max_ts` (it is live again).
    pub fn advance(&mut self, id: i32, max_ts: i64) {
        match self.clocks.iter_mut().find(|c| c.id == id) {
            Some(c) => {
                c.max_ts = c.max_ts.max(max_ts);
                c.idle = false;
            }
            None => {
                self.clocks.push(PartitionClock {
                    id,
                    max_ts,
                    idle: false,
                });
                self.clocks.sort_by_key(|c| c.id);
            }
        }
    }

    /// Marks a partition idle or live; a partition never seen is left alone.
    pub fn set_idle(&mut self, id: i32, idle: bool) {
        if let Some(c) = self.clocks.iter_mut().find(|c| c.id == id) {
            c.idle = idle;
        }
    }
}

/// The smaller of two optional times (a missing one does not bound).
pub(crate) fn min_known(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}
