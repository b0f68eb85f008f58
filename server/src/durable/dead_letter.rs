//! A dead letter as the state directory keeps it: an event kept out of the state, with
//! its source, why, where it came from and the event itself. Logged with the round
//! that read it (`round`), saved in checkpoints (`checkpoint::Header`); the store that
//! bounds, counts and lists them is the core's (`state::dead_letters`).

/// Why an event was kept out of the state.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum DeadReason {
    /// Behind its source's watermark, under `--late dead-letter`.
    Late,
    /// Further ahead of the wall clock than `--max-future`.
    Future,
    /// A record that does not decode, or whose data the push check refuses.
    Invalid,
}

impl DeadReason {
    /// Every reason, in the order listings and metrics show them.
    pub const ALL: [DeadReason; 3] = [DeadReason::Late, DeadReason::Future, DeadReason::Invalid];

    /// The name clients filter by and metrics label with.
    pub fn name(self) -> &'static str {
        match self {
            DeadReason::Late => "late",
            DeadReason::Future => "future",
            DeadReason::Invalid => "invalid",
        }
    }

    pub fn from_name(name: &str) -> Option<DeadReason> {
        DeadReason::ALL.into_iter().find(|r| r.name() == name)
    }
}

/// An event kept out of the state.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DeadLetter {
    /// The source's canonical name.
    pub source: String,
    pub reason: DeadReason,
    /// Why, in words (the check's refusal, the watermark the event was behind).
    pub detail: String,
    /// Where the event came from, as its transport names it (a push and its key, a
    /// Kafka topic, partition and offset): opaque here.
    pub origin: serde_json::Value,
    /// The event: its columns as a JSON object when it decoded, else the record's
    /// value as text (cut to a bound by whoever made the letter).
    pub event: serde_json::Value,
}

/// A dead letter in the store: its place in the store's order, when it was kept (wall
/// clock, µs: retention counts from it), and its size as counted against the bound.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Kept {
    pub seq: u64,
    pub kept_at_us: i64,
    pub bytes: u64,
    #[serde(flatten)]
    pub letter: DeadLetter,
}

/// The dead letters of one (source, reason) over the state's life: all of them, and
/// their bytes, whether still kept or not.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Tally {
    pub total: u64,
    pub bytes: u64,
}

/// What a checkpoint saves of the dead-letter store.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SavedDeadLetters {
    /// The `seq` the next letter gets.
    pub next_seq: u64,
    /// The letters kept, oldest first.
    pub kept: Vec<Kept>,
    pub tallies: Vec<(String, DeadReason, Tally)>,
    /// Letters dropped to keep the store within its bound.
    pub evicted: u64,
    /// Letters dropped by a checkpoint after their retention.
    pub expired: u64,
}
