//! The Redis side of the sink: a thread that writes the hashes the sink packed, while
//! the sink reads and packs the next ones (reading the state and waiting for Redis
//! overlap). A single Redis is sent the next job's transactions before it has
//! answered the previous one's (at most `IN_FLIGHT` jobs unanswered), so Redis never
//! idles while featc reads its answers and packs more. The jobs are a fixed set
//! (`JOBS`) that comes back once written: the sink takes one before it reads the
//! state for it, so a slow Redis slows the sink down instead of queueing memory. A
//! job that fails is handed back (its entities are read and written again), with
//! every job sent after it; the thread then reconnects with a backoff, and says when
//! the Redis it reached is a new process (it may have lost everything).

use std::collections::VecDeque;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::layout::Packed;
use super::sink::SinkCounters;
use super::store::{RedisError, RedisStore};

/// Jobs in all (being packed, queued, sent): the bound on what the sink holds.
const JOBS: usize = 4;
/// Jobs sent to a single Redis and not yet answered.
const IN_FLIGHT: usize = 2;

/// Hashes to write, the sink's slots they belong to, and when the oldest change they
/// carry happened (for the lag metric).
#[derive(Default)]
pub struct Job {
    pub hashes: Packed,
    pub slots: Vec<u32>,
    pub first_change: Option<Instant>,
}

impl Job {
    fn clear(&mut self) {
        self.hashes.clear();
        self.slots.clear();
        self.first_change = None;
    }
}

/// What the sink must do again.
pub enum Outcome {
    /// These slots' hashes may not be written.
    Failed(Vec<u32>),
    /// Redis restarted: every hash may be gone.
    Restarted,
}

pub struct HashSender {
    jobs: Option<Sender<Job>>,
    /// Jobs written (or failed and reported), empty, for the sink to fill again.
    free: Receiver<Job>,
    outcomes: Receiver<Outcome>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HashSender {
    pub fn start(store: RedisStore, counters: Arc<SinkCounters>) -> std::io::Result<HashSender> {
        // Unbounded channels, bounded by construction: only `JOBS` jobs exist.
        let (jobs, inbox) = std::sync::mpsc::channel();
        let (recycle, free) = std::sync::mpsc::channel();
        for _ in 0..JOBS {
            let _ = recycle.send(Job::default());
        }
        let (report, outcomes) = std::sync::mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("featc-redis-write".into())
            .spawn(move || {
                Writer {
                    store,
                    counters: &counters,
                    report,
                    recycle,
                    stop: stopping,
                    in_flight: VecDeque::with_capacity(IN_FLIGHT),
                    out: Vec::new(),
                    broken: false,
                }
                .run(inbox)
            })?;
        Ok(HashSender {
            jobs: Some(jobs),
            free,
            outcomes,
            stop,
            thread: Some(thread),
        })
    }

    /// An empty job to fill (waits while every job is queued or being written);
    /// `None` when the thread is gone.
    pub fn job(&self) -> Option<Job> {
        let mut job = self.free.recv().ok()?;
        job.clear();
        Some(job)
    }

    /// Queues a filled job; false when the thread is gone.
    pub fn send(&self, job: Job) -> bool {
        self.jobs.as_ref().is_some_and(|j| j.send(job).is_ok())
    }

    /// Gives back a job that will not be sent (the writer returns it, emptied).
    pub fn unused(&self, mut job: Job) {
        job.clear();
        let _ = self.send(job);
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

/// The writing thread's side.
struct Writer<'a> {
    store: RedisStore,
    counters: &'a SinkCounters,
    report: Sender<Outcome>,
    recycle: Sender<Job>,
    stop: Arc<AtomicBool>,
    /// Jobs sent, oldest first, whose answers are not read yet.
    in_flight: VecDeque<Job>,
    /// The bytes of one send.
    out: Vec<u8>,
    /// A write failed and the thread stopped before it connected again: the
    /// connection may be out of step with its answers, so nothing more is sent.
    broken: bool,
}

impl Writer<'_> {
    fn run(mut self, inbox: Receiver<Job>) {
        loop {
            // With answers to read, a new job is taken only if it is there already:
            // otherwise the oldest answers are read (blocking).
            let next = if self.in_flight.is_empty() {
                match inbox.recv() {
                    Ok(job) => Some(job),
                    Err(_) => break,
                }
            } else {
                inbox.try_recv().ok()
            };
            match next {
                Some(job) if job.hashes.is_empty() => self.done(job),
                Some(mut job) if self.broken => {
                    let _ = self
                        .report
                        .send(Outcome::Failed(std::mem::take(&mut job.slots)));
                    self.done(job);
                }
                Some(job) if self.store.pipelines() => {
                    if self.in_flight.len() >= IN_FLIGHT {
                        self.receive_oldest();
                    }
                    match self.store.send(&job.hashes, &mut self.out) {
                        Ok(()) => self.in_flight.push_back(job),
                        Err(e) => self.failed(job, e),
                    }
                }
                // A cluster: each node's pipeline is answered before the next job.
                Some(job) => match self.store.write(&job.hashes) {
                    Ok(done) => self.written(job, done),
                    Err(e) => self.failed(job, e),
                },
                None => self.receive_oldest(),
            }
        }
    }

    /// Reads the answers of the oldest job sent.
    fn receive_oldest(&mut self) {
        let Some(job) = self.in_flight.pop_front() else {
            return;
        };
        match self.store.receive(&job.hashes) {
            Ok(done) => self.written(job, done),
            Err(e) => self.failed(job, e),
        }
    }

    fn written(&mut self, job: Job, done: super::store::Written) {
        self.counters.written.fetch_add(done.written, Relaxed);
        self.counters.deleted.fetch_add(done.deleted, Relaxed);
        if let Some(first) = job.first_change {
            let lag = u64::try_from(first.elapsed().as_micros()).unwrap_or(u64::MAX);
            self.counters.lag_us.store(lag, Relaxed);
        }
        self.done(job);
    }

    /// Returns a job to the sink, empty.
    fn done(&mut self, mut job: Job) {
        job.clear();
        let _ = self.recycle.send(job);
    }

    /// A write failed: `job` and every job still unanswered (their answers are lost
    /// with the connection) go back to the sink as failed, then the thread
    /// reconnects before the next job (it would fail the same way).
    fn failed(&mut self, job: Job, e: RedisError) {
        self.counters.errors.fetch_add(1, Relaxed);
        let lost: Vec<Job> = std::iter::once(job)
            .chain(self.in_flight.drain(..))
            .collect();
        for mut job in lost {
            let _ = self
                .report
                .send(Outcome::Failed(std::mem::take(&mut job.slots)));
            self.done(job);
        }
        let mut backoff = Duration::from_millis(50);
        eprintln!("featc serve: redis sink: {e} (retrying in {backoff:?})");
        loop {
            if self.stop.load(Relaxed) {
                self.broken = true;
                break;
            }
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(Duration::from_secs(5));
            if let Ok(again) = RedisStore::connect(self.store.target()) {
                if again.run_id() != self.store.run_id() {
                    eprintln!(
                        "featc serve: redis sink: {} restarted: writing every entity again",
                        again.target().url
                    );
                    let _ = self.report.send(Outcome::Restarted);
                }
                self.store = again;
                break;
            }
            self.counters.errors.fetch_add(1, Relaxed);
        }
    }
}
