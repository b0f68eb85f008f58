//! The history as a server acknowledged it (`featc audit --state`): its archive of
//! the events its write-ahead log forgot at each checkpoint (one folder of Parquet
//! files per source, each event with its record's sequence number, `SEQ_COLUMN`),
//! after the sources' files when the state was loaded from them (`--bootstrap`).
//! Cut at a read's `applied_seq`, it is exactly what the server had applied when it
//! answered (the served log says so per read), which is how the audit tells an
//! event that arrived after the read from one the server never acknowledged; the
//! order it was acknowledged in also gives each read's staleness (`Arrivals`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType as ArrowType, TimestampMicrosecondType, UInt64Type};
use datafusion::functions_aggregate::expr_fn::min;
use datafusion::prelude::{col, ParquetReadOptions, SessionContext};
use featc_runtime::io::{declared_schema, Inputs, MemoryTable, SEQ_COLUMN};
use featc_runtime::ir::Project;
use featc_runtime::row::types::timestamp_type;

use super::error::AuditError;
use super::DeadEvent;

/// What a server's state directory says of the events it acknowledged.
#[derive(Debug, Clone, PartialEq)]
pub struct Acknowledged {
    /// Per source, its archive folder (a source without one had no event archived).
    pub archive: BTreeMap<String, PathBuf>,
    /// The state was loaded with the sources' history (their files) first.
    pub bootstrapped: bool,
    /// From which sequence number on the archive holds every record (`None`: the
    /// state has no archive).
    pub from: Option<u64>,
}

impl Acknowledged {
    /// Whether the archive holds every record the server applied (so a read can be
    /// recomputed from it).
    pub fn complete(&self) -> bool {
        self.from == Some(0)
    }

    /// The inputs of a recomputation from the acknowledged history, the records
    /// below `seq_below` only (all when `None`), without the server's dead letters:
    /// each source from its files when the state was bootstrapped from them (as
    /// `base` binds them), then its archive.
    pub fn history(
        &self,
        project: &Project,
        base: &Inputs,
        seq_below: Option<u64>,
        dead: &[DeadEvent],
    ) -> Inputs {
        let mut inputs = Inputs {
            seq_below,
            ..Inputs::default()
        };
        for source in &project.sources {
            let name = &source.name;
            match self.bootstrapped {
                true => {
                    if let Some(path) = base.files.get(name) {
                        inputs.files.insert(name.clone(), path.clone());
                    }
                    if let Some(table) = base.tables.get(name) {
                        inputs.tables.insert(name.clone(), table.clone());
                    }
                }
                // Nothing of the files: only what was pushed or consumed.
                false => {
                    let empty = MemoryTable::new(declared_schema(source), Vec::new());
                    inputs.tables.insert(name.clone(), empty);
                }
            }
            if let Some(folder) = self.archive.get(name) {
                inputs.also.insert(name.clone(), vec![folder.clone()]);
            }
        }
        DeadEvent::leave_out(dead, &mut inputs);
        inputs
    }

    /// `base` where every source with no file of its own (pushed or consumed only)
    /// reads the acknowledged history instead, so that the audit of a server fed
    /// only by pushes or Kafka needs no files.
    pub fn fill(&self, project: &Project, base: &mut Inputs) {
        for source in &project.sources {
            let name = &source.name;
            let bound = base.files.contains_key(name)
                || base.tables.contains_key(name)
                || source.location.is_some();
            if bound {
                continue;
            }
            base.tables.insert(
                name.clone(),
                MemoryTable::new(declared_schema(source), Vec::new()),
            );
            if let Some(folder) = self.archive.get(name) {
                base.also.insert(name.clone(), vec![folder.clone()]);
            }
        }
    }

    /// The arrival order of the archived events (for staleness).
    pub async fn arrivals(&self, project: &Project) -> Result<Arrivals, AuditError> {
        let ctx = SessionContext::new();
        let mut first_time: BTreeMap<u64, i64> = BTreeMap::new();
        for (name, folder) in &self.archive {
            let Some(source) = project.sources.iter().find(|s| s.name == *name) else {
                continue;
            };
            let error = |e: datafusion::error::DataFusionError| AuditError::Log {
                path: folder.clone(),
                message: e.strip_backtrace(),
            };
            let batches = ctx
                .read_parquet(
                    folder.to_string_lossy().as_ref(),
                    ParquetReadOptions::default(),
                )
                .await
                .and_then(|df| {
                    df.aggregate(
                        vec![col(SEQ_COLUMN)],
                        vec![min(col(&source.time_column)).alias("t")],
                    )
                })
                .map_err(error)?
                .collect()
                .await
                .map_err(error)?;
            for batch in batches {
                let seqs = cast(batch.column(0), &ArrowType::UInt64).map_err(AuditError::rows)?;
                let times = cast(batch.column(1), &timestamp_type()).map_err(AuditError::rows)?;
                let seqs = seqs.as_primitive::<UInt64Type>();
                let times = times.as_primitive::<TimestampMicrosecondType>();
                for i in (0..batch.num_rows()).filter(|&i| !times.is_null(i)) {
                    let t = first_time.entry(seqs.value(i)).or_insert(i64::MAX);
                    *t = (*t).min(times.value(i));
                }
            }
        }
        // From the last record back, the earliest event time at or after each.
        let mut suffix: Vec<(u64, i64)> = Vec::with_capacity(first_time.len());
        let mut earliest = i64::MAX;
        for (&seq, &t) in first_time.iter().rev() {
            earliest = earliest.min(t);
            suffix.push((seq, earliest));
        }
        suffix.reverse();
        Ok(Arrivals { suffix })
    }
}

/// The archived records in sequence order, each with the earliest event time of it
/// and every later record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Arrivals {
    suffix: Vec<(u64, i64)>,
}

impl Arrivals {
    /// How far behind the events that existed at its read time a read at `t` was,
    /// when it had applied the records below `applied` (µs): `t` minus the time of
    /// the oldest event at or before `t` that the server acknowledged only later; 0
    /// when it missed none.
    pub fn staleness(&self, t: i64, applied: u64) -> i64 {
        let at = self.suffix.partition_point(|(seq, _)| *seq < applied);
        match self.suffix.get(at) {
            Some(&(_, earliest)) if earliest <= t => t - earliest,
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staleness_is_the_age_of_the_oldest_event_acknowledged_after_the_read() {
        // Records 0..3 with their events' earliest times.
        let arrivals = Arrivals {
            suffix: vec![(0, 5), (1, 10), (2, 10), (3, 40)],
        };
        // Every record applied: nothing missed.
        assert_eq!(arrivals.staleness(100, 4), 0);
        // Records 1.. missed: the oldest of them happened at 10.
        assert_eq!(arrivals.staleness(100, 1), 90);
        // Record 3 missed, but its event is after the read: not stale.
        assert_eq!(arrivals.staleness(30, 3), 0);
        assert_eq!(arrivals.staleness(40, 3), 0);
        assert_eq!(arrivals.staleness(41, 3), 1);
    }
}
