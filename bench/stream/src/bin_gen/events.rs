//! The events file, chunk by chunk, on `threads` threads: in each step the columns of
//! chunk i are encoded while the blocks of chunk i+1 are drawn (one task list, so a
//! core that finishes its column early draws blocks), then, on one thread, chunk i's
//! row group is appended and chunk i+1's ties and spine samples are taken. Memory holds
//! two chunks and the encoded columns of one, whatever the number of events.

use std::path::Path;
use std::time::{Duration, Instant};

use datafusion::parquet::arrow::arrow_writer::ArrowColumnChunk;
use datafusion::parquet::errors::Result;

use crate::arrays;
use crate::chunk::Chunk;
use crate::files::{self, EventsFile};
use crate::params::CATEGORY_P;
use crate::pool::{self, Task};
use crate::rng::cumulative;
use crate::seeds::{self, Stream};
use crate::sources::{Seen, Sources};
use crate::users::Users;

pub struct Plan {
    pub events: usize,
    pub chunk_rows: usize,
    pub seed: u64,
    pub threads: usize,
}

/// Where the time went: the parallel steps, and the single-threaded rest.
#[derive(Default)]
pub struct Times {
    pub parallel: Duration,
    pub append: Duration,
    pub ties_and_samples: Duration,
}

pub fn write(
    path: &Path,
    plan: &Plan,
    users: &Users,
    sources: &mut Sources,
    seen: &mut Seen,
) -> Result<Times> {
    let mut file = EventsFile::create(path)?;
    let schema = files::events_schema();
    let category_cumulative = cumulative(CATEGORY_P.iter().copied());
    let chunks = plan.events.div_ceil(plan.chunk_rows);
    let mut times = Times::default();
    // Drawn, tied and sampled: waiting for its columns to be encoded.
    let mut ready: Option<Chunk> = None;
    for step in 0..=chunks {
        let started = Instant::now();
        let mut next = (step < chunks).then(|| {
            let rows = plan.chunk_rows.min(plan.events - step * plan.chunk_rows);
            Chunk::new(step as u64, rows)
        });
        let encoding = ready.is_some();
        let writers = if encoding {
            file.column_writers()?
        } else {
            Vec::new()
        };
        let mut encoded: Vec<Option<Result<ArrowColumnChunk>>> =
            (0..writers.len()).map(|_| None).collect();
        {
            let mut tasks: Vec<Task<'_>> = Vec::new();
            if let Some(chunk) = ready.take() {
                let (user, columns) = arrays::columns(chunk);
                let fields = schema.fields().iter();
                for (((column, writer), field), slot) in columns
                    .into_iter()
                    .zip(writers)
                    .zip(fields)
                    .zip(&mut encoded)
                {
                    tasks.push(Box::new(move || {
                        *slot = Some(files::encode(writer, field, &column()));
                    }));
                }
                let seen = &mut *seen;
                tasks.push(Box::new(move || seen.mark(user.values())));
            }
            if let Some(chunk) = next.as_mut() {
                for block in chunk.blocks(plan.seed) {
                    let cumulative = &category_cumulative;
                    tasks.push(Box::new(move || block.draw(users, cumulative)));
                }
            }
            pool::run(plan.threads, tasks);
        }
        times.parallel += started.elapsed();

        let started = Instant::now();
        if encoding {
            let columns = encoded
                .into_iter()
                .map(|c| c.expect("every column task ran"))
                .collect::<Result<Vec<_>>>()?;
            file.append(columns)?;
        }
        times.append += started.elapsed();

        let started = Instant::now();
        if let Some(mut chunk) = next {
            let mut rng = seeds::rng(plan.seed, Stream::Chunk, chunk.index);
            let copies = crate::ties::copy(&mut chunk, &mut rng);
            let done = step * plan.chunk_rows + chunk.rows;
            sources.take(&mut rng, &chunk.user, &chunk.ts, &copies, done);
            ready = Some(chunk);
        }
        times.ties_and_samples += started.elapsed();
    }
    file.finish()?;
    Ok(times)
}
