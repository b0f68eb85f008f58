//! Freshness contracts (`freshness D` on a source or a view): how far behind a
//! source's events are, against the tightest contract declared on it, so that a
//! server can report a violation.

use super::runtime::StreamRuntime;

/// A source's freshness at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    /// The tightest contract declared on the source or its views (µs); `None`: none.
    pub contract_us: Option<i64>,
    /// `now` minus the source's latest event time (µs); `None` before any event.
    pub lag_us: Option<i64>,
}

impl Freshness {
    /// True when a contract is declared and the source breaks it: its latest event is
    /// older than the contract, or it has no event at all.
    pub fn violated(&self) -> bool {
        match (self.contract_us, self.lag_us) {
            (Some(contract), Some(lag)) => lag > contract,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }
}

impl StreamRuntime {
    /// The tightest freshness contract on `source` and its views (µs): `Some(None)`
    /// when none is declared, `None` for a source the graph does not read.
    pub fn freshness_contract(&self, source: &str) -> Option<Option<i64>> {
        let (_, op) = self.graph().sources().find(|(_, s)| s.name == source)?;
        Some(op.freshness_us)
    }

    /// Source `source`'s freshness at `now`; `None` for a source the graph does not
    /// read.
    pub fn freshness(&self, source: &str, now: i64) -> Option<Freshness> {
        Some(Freshness {
            contract_us: self.freshness_contract(source)?,
            lag_us: self
                .latest_event_time(source)
                .map(|t| now.saturating_sub(t)),
        })
    }
}
