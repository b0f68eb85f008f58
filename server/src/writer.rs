//! The server's writer: one thread owns the state's `Ledger` and drives it. It takes
//! checked pushes in arrival order and commits every push that arrived while the
//! previous fsync ran as one group (one log append, one fsync), logs and applies
//! rounds of sources read from elsewhere (Kafka) in the same sequence, and takes the
//! checkpoints, so the log order, the apply order and a checkpoint's coverage are one
//! sequence. A checkpoint failing after a step is reported here, never to the
//! step's pushes or round (they are durable in the log, which is kept). Whoever
//! watches the state change (the Redis sink) registers a `Watcher` and is told the
//! batches of every step; the writer does not know who they are.
//!
//! `WriterHandle` is the narrow door the API and Kafka get: push, apply a round.

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::record_batch::RecordBatch;
use tokio::sync::oneshot;

use crate::durable::DurableError;
use crate::state::{CheckedPush, Ledger, OnlineState, PushError, PushOutcome, Round, StateError};

/// Told of the batches every step of the writer applied (source, rows), after they
/// are visible to reads.
pub trait Watcher: Send {
    fn applied(&self, batches: &[(String, RecordBatch)]);
}

type Reply<T> = oneshot::Sender<Result<T, PushError>>;

enum Message {
    Push(CheckedPush, Reply<PushOutcome>),
    /// Apply a round of a source's records and move its position.
    Round(Round, SyncSender<Result<(), PushError>>),
    /// The state now holds the sources' history: checkpoint it, from this snapshot
    /// (taken while pushes were refused, so it is the state's).
    Bootstrapped {
        snapshot: Vec<u8>,
        reply: oneshot::Sender<Result<(), DurableError>>,
    },
    /// Tell this watcher of every step from now on; answered once it is registered.
    Watch(Box<dyn Watcher>, SyncSender<()>),
    /// Checkpoint and stop.
    Stop(oneshot::Sender<Result<(), DurableError>>),
}

/// How the API and Kafka reach the writer thread.
#[derive(Clone)]
pub struct WriterHandle {
    tx: Sender<Message>,
}

impl WriterHandle {
    /// Logs and applies a push; answers once it is durable and visible to reads.
    pub async fn push(&self, push: CheckedPush) -> Result<PushOutcome, PushError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Message::Push(push, reply))
            .map_err(|_| PushError::Stopped)?;
        answer.await.map_err(|_| PushError::Stopped)?
    }

    /// Applies a round of a source's records (from the source's thread, blocking
    /// until it is applied: at most one round waits while the next is read).
    pub fn apply_round(&self, round: Round) -> Result<(), PushError> {
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        self.tx
            .send(Message::Round(round, reply))
            .map_err(|_| PushError::Stopped)?;
        answer.recv().map_err(|_| PushError::Stopped)?
    }

    /// Checkpoints the bootstrapped state from `snapshot` (see `Message::Bootstrapped`).
    pub async fn bootstrapped(&self, snapshot: Vec<u8>) -> Result<(), StateError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Message::Bootstrapped { snapshot, reply })
            .map_err(|_| StateError::WriterStopped)?;
        Ok(answer.await.map_err(|_| StateError::WriterStopped)??)
    }

    /// Tells `watcher` of the batches of every later step. Returns once the writer
    /// has registered it: every step after the return is told, so a watcher that
    /// reads the state after it (the Redis sink's first listing) misses nothing.
    pub fn watch(&self, watcher: Box<dyn Watcher>) -> Result<(), StateError> {
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        self.tx
            .send(Message::Watch(watcher, reply))
            .map_err(|_| StateError::WriterStopped)?;
        answer.recv().map_err(|_| StateError::WriterStopped)
    }

    /// Checkpoints and stops the writer.
    pub async fn stop(&self) -> Result<(), StateError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Message::Stop(reply))
            .map_err(|_| StateError::WriterStopped)?;
        Ok(answer.await.map_err(|_| StateError::WriterStopped)??)
    }
}

/// The writer thread's state.
pub struct Writer {
    state: Arc<OnlineState>,
    ledger: Ledger,
    watchers: Vec<Box<dyn Watcher>>,
}

/// At most this many bytes of pushes go into one group commit.
const GROUP_BYTES: usize = 64 << 20;

impl Writer {
    /// Runs the writer over `state` and its `ledger` on its own thread until `stop`.
    pub fn spawn(
        state: Arc<OnlineState>,
        ledger: Ledger,
    ) -> std::io::Result<(WriterHandle, std::thread::JoinHandle<()>)> {
        let (tx, rx) = std::sync::mpsc::channel();
        let writer = Writer {
            state,
            ledger,
            watchers: Vec::new(),
        };
        let thread = std::thread::Builder::new()
            .name("featc-writer".into())
            .spawn(move || writer.run(rx))?;
        Ok((WriterHandle { tx }, thread))
    }

    fn run(mut self, rx: Receiver<Message>) {
        let interval = self.state.config().checkpoint_interval;
        loop {
            let first = match rx.recv_timeout(interval.min(Duration::from_secs(1))) {
                Ok(m) => m,
                Err(RecvTimeoutError::Timeout) => {
                    self.checkpoint_if_due();
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => return,
            };
            let mut group = Vec::new();
            let mut control = Vec::new();
            let mut bytes = 0;
            let mut next = Some(first);
            while let Some(m) = next.take() {
                match m {
                    Message::Push(p, reply) => {
                        bytes += p.batch().get_array_memory_size();
                        group.push((p, reply));
                    }
                    other => control.push(other),
                }
                if bytes < GROUP_BYTES && control.is_empty() {
                    next = rx.try_recv().ok();
                }
            }
            if !group.is_empty() {
                self.commit(group);
            }
            self.checkpoint_if_due();
            for m in control {
                match m {
                    Message::Bootstrapped { snapshot, reply } => {
                        let _ = reply.send(self.ledger.bootstrapped_from(&self.state, snapshot));
                    }
                    Message::Stop(reply) => {
                        let _ = reply.send(self.ledger.checkpoint(&self.state, None));
                        return;
                    }
                    Message::Round(round, reply) => {
                        let _ = reply.send(self.apply_round(round));
                        self.checkpoint_if_due();
                    }
                    Message::Watch(watcher, reply) => {
                        self.watchers.push(watcher);
                        let _ = reply.send(());
                    }
                    Message::Push(..) => {}
                }
            }
        }
    }

    /// Commits one group of pushes, tells the watchers, then answers.
    fn commit(&mut self, group: Vec<(CheckedPush, Reply<PushOutcome>)>) {
        let (pushes, replies): (Vec<_>, Vec<_>) = group.into_iter().unzip();
        let committed = self.ledger.commit(&self.state, pushes);
        self.tell(&committed.applied);
        for (reply, answer) in replies.into_iter().zip(committed.answers) {
            let _ = reply.send(answer);
        }
    }

    fn apply_round(&mut self, round: Round) -> Result<(), PushError> {
        let applied = self.ledger.apply_round(&self.state, round)?;
        self.tell(&applied);
        Ok(())
    }

    fn tell(&self, applied: &[(String, RecordBatch)]) {
        for w in &self.watchers {
            w.applied(applied);
        }
    }

    fn checkpoint_if_due(&mut self) {
        if let Err(e) = self.ledger.checkpoint_if_due(&self.state) {
            eprintln!("featc serve: checkpoint failed (the log is kept): {e}");
        }
    }
}
