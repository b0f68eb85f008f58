//! What `featc verify` found, per dataset, and its text: the datasets that agree in
//! one line each, then every disagreement with the entity, time, feature and each
//! path's value.

use std::fmt::Write;

use super::compare::Disagreement;
use super::dataset::{Dataset, RunSettings};

/// A path that failed where the reference answered (or the reverse), or answered
/// with another shape of table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PathFailure {
    pub path: String,
    pub message: String,
}

/// One dataset's outcome.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DatasetReport {
    pub label: String,
    pub events: usize,
    pub spine_rows: usize,
    pub features: usize,
    pub settings: RunSettings,
    /// The reference failed on this data (every path must fail too; those that did
    /// not are in `failures`).
    pub reference_error: Option<String>,
    pub failures: Vec<PathFailure>,
    /// Features a path does not compute (a dialect's refusals), and why.
    pub left_out: Vec<PathFailure>,
    /// Paths whose floats were held to a bound rather than to their bits.
    pub bounded: Vec<String>,
    /// The first disagreeing cells (`verify::SHOWN_PER_DATASET`).
    pub disagreements: Vec<Disagreement>,
    /// Every disagreeing cell, shown or not.
    pub disagreeing_cells: usize,
}

impl DatasetReport {
    pub fn new(dataset: &Dataset, features: usize) -> DatasetReport {
        DatasetReport {
            label: dataset.label.clone(),
            events: dataset.events(),
            spine_rows: dataset.spine.num_rows(),
            features,
            settings: dataset.settings,
            reference_error: None,
            failures: Vec::new(),
            left_out: Vec::new(),
            bounded: Vec::new(),
            disagreements: Vec::new(),
            disagreeing_cells: 0,
        }
    }

    pub fn agrees(&self) -> bool {
        self.failures.is_empty() && self.disagreeing_cells == 0
    }
}

/// The version of the JSON report's layout (`verify_version`), raised when a field
/// changes meaning or goes away.
pub const REPORT_VERSION: u32 = 1;

/// Every dataset's outcome, and what was left out of the run.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Report {
    /// `REPORT_VERSION`.
    pub verify_version: u32,
    /// The paths compared with the reference.
    pub paths: Vec<String>,
    pub datasets: Vec<DatasetReport>,
    /// What the run could not do, said once (no data for a source, features a path
    /// refuses).
    pub notes: Vec<String>,
}

impl Report {
    pub fn agrees(&self) -> bool {
        self.datasets.iter().all(DatasetReport::agrees)
    }

    pub fn disagreeing_cells(&self) -> usize {
        self.datasets.iter().map(|d| d.disagreeing_cells).sum()
    }

    /// The report as the CLI prints it.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "featc verify: reference vs {} on {} dataset{}",
            self.paths.join(", "),
            self.datasets.len(),
            plural(self.datasets.len())
        );
        for note in &self.notes {
            let _ = writeln!(out, "note: {note}");
        }
        // What a path leaves out is the same on every dataset: said once.
        let mut said: Vec<&PathFailure> = Vec::new();
        for left in self.datasets.iter().flat_map(|d| &d.left_out) {
            if !said.contains(&left) {
                said.push(left);
                let _ = writeln!(out, "note: {} {}", left.path, left.message);
            }
        }
        for d in &self.datasets {
            let status = if !d.agrees() {
                "DISAGREE"
            } else if d.reference_error.is_some() {
                "agree (every path fails)"
            } else {
                "agree"
            };
            let _ = writeln!(
                out,
                "  {:<10} {}: {} events, {} spine rows x {} features",
                status, d.label, d.events, d.spine_rows, d.features
            );
            if let Some(error) = &d.reference_error {
                let _ = writeln!(out, "             the reference fails: {error}");
            }
        }
        for d in self.datasets.iter().filter(|d| !d.agrees()) {
            write_dataset(&mut out, d);
        }
        let cells = self.disagreeing_cells();
        let failures: usize = self.datasets.iter().map(|d| d.failures.len()).sum();
        let mut bounded: Vec<&str> = Vec::new();
        for path in self.datasets.iter().flat_map(|d| &d.bounded) {
            if !bounded.contains(&path.as_str()) {
                bounded.push(path);
            }
        }
        if self.agrees() && bounded.is_empty() {
            let _ = writeln!(out, "every path agrees with the reference, bit for bit");
        } else if self.agrees() {
            let _ = writeln!(
                out,
                "every path agrees with the reference: bit for bit, but {}'s floats within docs/scale-out.md's bound",
                bounded.join(" and ")
            );
        } else {
            let _ = writeln!(
                out,
                "{cells} disagreeing cell{}, {failures} failed path run{}",
                plural(cells),
                plural(failures)
            );
        }
        out
    }
}

fn write_dataset(out: &mut String, d: &DatasetReport) {
    let s = d.settings;
    let _ = writeln!(
        out,
        "\n{}: batch size {}, {} partition{}; stream disorder {}us, {} events per ingest, seed {}",
        d.label,
        s.batch_rows,
        s.partitions,
        plural(s.partitions),
        s.disorder_us,
        s.ingest_rows,
        s.seed
    );
    for f in &d.failures {
        let _ = writeln!(out, "  {}: {}", f.path, f.message);
    }
    for c in &d.disagreements {
        let entity: Vec<String> = c.entity.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(
            out,
            "  row {}: {} at {}, feature `{}`",
            c.row,
            entity.join(", "),
            c.time,
            c.feature
        );
        for v in &c.values {
            let mark = if v.differs { "  <- differs" } else { "" };
            let _ = writeln!(out, "    {:<10} {}{mark}", v.path, v.value);
        }
    }
    let hidden = d.disagreeing_cells.saturating_sub(d.disagreements.len());
    if hidden > 0 {
        let _ = writeln!(out, "  ... and {hidden} more disagreeing cells");
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
