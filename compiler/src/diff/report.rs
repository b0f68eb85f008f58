//! The report `featc diff` prints: plain serde data, so the text printer and the JSON
//! (`--format json`, `diff_version` 1) say the same thing.

use serde::Serialize;

pub use super::meaning::{Owner, OwnerKind};

/// How two projects differ (see docs/diff.md).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ProjectDiff {
    /// Per view or service (its own derived features), the features added, removed and
    /// changed in meaning: the new project's owners in declaration order, then owners
    /// only the old one has.
    pub features: Vec<OwnerChanges>,
    pub services: ServiceChanges,
    pub online: OnlineState,
    /// Every change to a source (and to a view's freshness contract), informational:
    /// locations, topics and freshness change no value; a column's type, the lateness,
    /// delay or time column change the meaning of the features that read them, and are
    /// among those features' reasons too.
    pub sources: Vec<Note>,
    /// Docs, owners and tags, and features moved between views: informational.
    pub metadata: Vec<Note>,
    /// Whether the change fails a CI gate, and why.
    pub gate: Gate,
}

impl ProjectDiff {
    /// True when no feature, service or online state is affected (notes aside).
    pub fn no_meaning_change(&self) -> bool {
        self.features.is_empty()
            && self.services.added.is_empty()
            && self.services.removed.is_empty()
            && self.services.changed.is_empty()
    }
}

/// The features of one view (or one service's own) that differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnerChanges {
    pub owner: Owner,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<FeatureChange>,
    /// Added features whose meaning is that of a removed one (under the owner of the
    /// new name). Both names stay in `added` and `removed` (of their owners): to a
    /// service, a model or the online state, a new name is another feature.
    pub renamed: Vec<Renamed>,
}

/// A feature removed and one added with the same meaning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Renamed {
    pub from: String,
    pub to: String,
}

/// A feature whose meaning changed, with why, in human terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeatureChange {
    pub name: String,
    pub reasons: Vec<String>,
    /// The services (of both projects) that serve it.
    pub served_by: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ServiceChanges {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Services of both projects that serve something different.
    pub changed: Vec<ServiceChange>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceChange {
    pub name: String,
    /// Features it now serves and did not.
    pub gained: Vec<String>,
    /// Features it served and no longer does.
    pub lost: Vec<String>,
    /// Features it serves in both whose meaning changed.
    pub changed: Vec<String>,
    /// The features it serves in both come in another order.
    pub reordered: bool,
}

/// What the streaming runtime's state (`featc serve`) needs.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct OnlineState {
    /// Each view (or service) with an added, changed or removed feature.
    pub owners: Vec<OwnerState>,
    /// Whether `featc serve --state DIR` would take a directory the old project's
    /// server wrote; filled by the CLI (`featc_cli::state_dir`: the server's own
    /// checks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_directory: Option<StateDirectory>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnerState {
    pub owner: Owner,
    /// True when its window state must be rebuilt by replaying the source's history.
    pub rebuild: bool,
    /// The aggregations added or changed: what the replay is for.
    pub rebuild_for: Vec<Item>,
    /// Changes that need no state: derived features (computed at read time) and
    /// removals.
    pub no_rebuild: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    pub feature: String,
    pub change: Change,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Added,
    Changed,
    Removed,
}

impl Change {
    pub fn word(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Changed => "changed",
            Change::Removed => "removed",
        }
    }
}

/// What `featc serve --state DIR` does with a directory written for the old project
/// (under the same serve options).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum StateDirectory {
    /// Accepted, and a checkpoint in it loads: the state is reused as is.
    Reused,
    /// Refused: the features it was built for differ (the server's identity check,
    /// `durable::Identity::difference`); the server exits without serving.
    Refused {
        changed: Vec<String>,
        added: Vec<String>,
        removed: Vec<String>,
    },
    /// Its identity matches, but a checkpoint in it does not load into the new
    /// graph (the runtime's snapshot fingerprint); the server exits without serving.
    CheckpointRefused { message: String },
    /// A side's stream graph could not be built.
    Unknown { message: String },
    /// Not asked: the `featc` that made the report cannot run the server's checks
    /// (built without them); the message says why.
    NotChecked { message: String },
}

/// One informational change: what it is about (`source transactions`, `feature x`)
/// and what changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    pub subject: String,
    pub change: String,
}

/// The CI gate: fails when a service that remains serves a feature whose meaning
/// changed or no longer serves one, or when a service is removed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Gate {
    pub fails: bool,
    pub reasons: Vec<String>,
}
