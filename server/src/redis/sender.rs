//! The Redis side of the sink: a thread that writes the hashes the sink encoded,
//! while the sink reads and encodes the next ones (reading the state and waiting for
//! Redis overlap). At most one batch waits for it, so a slow Redis slows the sink
//! down instead of queueing memory. A batch that fails is handed back (its entities
//! are read and written again); the thread then reconnects with a backoff, and says
//! when the Redis it reached is a new process (it may have lost everything).

use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc::{Receiver, Sender, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::layout::HashWrite;
use super::sink::SinkCounters;
use super::store::RedisStore;

/// Hashes to write, the sink's slots they belong to, and when the oldest change they
/// carry happened (for the lag metric).
pub struct Job {
    pub hashes: Vec<(String, HashWrite)>,
    pub slots: Vec<u32>,
    pub first_change: Option<Instant>,
}

/// What the sink must do again.
pub enum Outcome {
    /// These slots' hashes may not be written.
    Failed(Vec<u32>),
    /// Redis restarted: every hash may be gone.
    Restarted,
}

pub struct HashSender {
    jobs: Option<SyncSender<Job>>,
    outcomes: Receiver<Outcome>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HashSender {
    pub fn start(store: RedisStore, counters: Arc<SinkCounters>) -> std::io::Result<HashSender> {
        let (jobs, inbox) = std::sync::mpsc::sync_channel(1);
        let (report, outcomes) = std::sync::mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("featc-redis-write".into())
            .spawn(move || write_jobs(store, &counters, inbox, report, stopping))?;
        Ok(HashSender {
            jobs: Some(jobs),
            outcomes,
            stop,
            thread: Some(thread),
        })
    }

    /// Queues a job (blocks while the previous one waits); false when the thread is
    /// gone.
    pub fn send(&self, job: Job) -> bool {
        self.jobs.as_ref().is_some_and(|j| j.send(job).is_ok())
    }

    /// What came back since the last call.
    pub fn outcomes(&self) -> Vec<Outcome> {
        self.outcomes.try_iter().collect()
    }

    /// Writes what is queued and stops; with `give_up`, a Redis that does not answer
    /// is not waited for. Returns what could not be written.
    pub fn finish(mut self, give_up: bool) -> Vec<Outcome> {
        self.stop.store(give_up, Relaxed);
        self.jobs = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.outcomes.try_iter().collect()
    }
}

fn write_jobs(
    mut store: RedisStore,
    counters: &SinkCounters,
    inbox: Receiver<Job>,
    report: Sender<Outcome>,
    stop: Arc<AtomicBool>,
) {
    for job in inbox {
        match store.write(&job.hashes) {
            Ok(done) => {
                counters.written.fetch_add(done.written, Relaxed);
                counters.deleted.fetch_add(done.deleted, Relaxed);
                if let Some(first) = job.first_change {
                    let lag = u64::try_from(first.elapsed().as_micros()).unwrap_or(u64::MAX);
                    counters.lag_us.store(lag, Relaxed);
                }
            }
            Err(e) => {
                counters.errors.fetch_add(1, Relaxed);
                let _ = report.send(Outcome::Failed(job.slots));
                let mut backoff = Duration::from_millis(50);
                eprintln!("featc serve: redis sink: {e} (retrying in {backoff:?})");
                // Reconnect before the next job (it would fail the same way).
                loop {
                    if stop.load(Relaxed) {
                        break;
                    }
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    if let Ok(again) = RedisStore::connect(store.target()) {
                        if again.run_id() != store.run_id() {
                            eprintln!(
                                "featc serve: redis sink: {} restarted: writing every entity again",
                                again.target().url
                            );
                            let _ = report.send(Outcome::Restarted);
                        }
                        store = again;
                        break;
                    }
                    counters.errors.fetch_add(1, Relaxed);
                }
            }
        }
    }
}
