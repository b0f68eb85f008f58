//! A dataset every path is run on: the sources' events, a spine, and how each path
//! is driven over them (batch sizes, partitions, the stream's disorder and ingest
//! chunks), drawn once per dataset so that a reported disagreement replays exactly.

use datafusion::arrow::record_batch::RecordBatch;
use rand::rngs::StdRng;
use rand::Rng;

/// The events of the sources the features read and the spine they are answered at.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// What the report calls it (`your data`, `generated case 3`).
    pub label: String,
    /// Each source's events, in no particular order, times in UTC microseconds: your
    /// data bound to its declared columns (`io::declared_schema`); a generated case's
    /// with its struct and map columns whole in place of their path columns
    /// (`generate`, `nested`).
    pub sources: Vec<(String, Vec<RecordBatch>)>,
    pub spine: RecordBatch,
    pub spine_time: String,
    pub settings: RunSettings,
}

impl Dataset {
    pub fn events(&self) -> usize {
        self.sources
            .iter()
            .flat_map(|(_, batches)| batches)
            .map(RecordBatch::num_rows)
            .sum()
    }
}

/// How the paths are driven over one dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RunSettings {
    /// Rows per batch of the batch plan (DataFusion's batch size).
    pub batch_rows: usize,
    /// Partitions of the batch plan.
    pub partitions: usize,
    /// The stream's events are shuffled within this many microseconds: at most the
    /// smallest lateness of the sources, so that no event is late.
    pub disorder_us: i64,
    /// Events per ingest call of the stream.
    pub ingest_rows: usize,
    /// The seed of the stream's shuffle.
    pub seed: u64,
}

impl RunSettings {
    /// Settings drawn from `rng`, with a disorder within `lateness_us`.
    pub fn draw(rng: &mut StdRng, lateness_us: i64) -> RunSettings {
        const BATCH_ROWS: [usize; 5] = [1, 2, 7, 64, 8192];
        const INGEST_ROWS: [usize; 5] = [1, 3, 17, 256, 4096];
        RunSettings {
            batch_rows: BATCH_ROWS[rng.random_range(0..BATCH_ROWS.len())],
            partitions: rng.random_range(1..=3),
            disorder_us: if lateness_us > 0 && rng.random_bool(0.75) {
                rng.random_range(0..=lateness_us)
            } else {
                0
            },
            ingest_rows: INGEST_ROWS[rng.random_range(0..INGEST_ROWS.len())],
            seed: rng.random(),
        }
    }
}
