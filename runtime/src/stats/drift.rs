//! Comparing a current table with a baseline, feature by feature (docs/stats.md): the
//! PSI over the baseline's bins, the KS statistic over numeric values, sorted by
//! severity; features of one table only are listed.

use serde::{Deserialize, Serialize};

use super::categorical::TOP;
use super::ks::ks_statistic;
use super::numeric::bin_counts;
use super::profile::{Profile, Sample};
use super::psi::psi;
use super::types::FeatureStats;

/// A feature drifts when its PSI or its KS statistic is above these (strictly).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    pub psi: f64,
    pub ks: f64,
}

impl Default for Thresholds {
    fn default() -> Thresholds {
        Thresholds { psi: 0.2, ks: 0.1 }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    pub baseline: String,
    pub current: String,
    pub thresholds: Thresholds,
    /// Features of both tables, most severe first.
    pub features: Vec<FeatureDrift>,
    pub only_in_baseline: Vec<String>,
    pub only_in_current: Vec<String>,
}

impl DriftReport {
    /// How many features are above a threshold.
    pub fn drifted(&self) -> usize {
        self.features.iter().filter(|f| f.drifted).count()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureDrift {
    pub name: String,
    /// The baseline's type (and the current's after a `/` when they differ).
    #[serde(rename = "type")]
    pub ty: String,
    pub baseline_fill_rate: f64,
    pub current_fill_rate: f64,
    pub psi: Option<f64>,
    /// Numeric features with the baseline's values at hand (a table, not statistics).
    pub ks: Option<f64>,
    pub drifted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Compares `current` (a table's profile, with its samples) with `baseline`.
pub fn compare(baseline: &Profile, current: &Profile, thresholds: Thresholds) -> DriftReport {
    let names =
        |p: &Profile| -> Vec<String> { p.stats.features.iter().map(|f| f.name.clone()).collect() };
    let (in_b, in_c) = (names(baseline), names(current));
    let mut features = Vec::new();
    for (bi, b) in baseline.stats.features.iter().enumerate() {
        let Some(ci) = in_c.iter().position(|n| *n == b.name) else {
            continue;
        };
        let c = &current.stats.features[ci];
        features.push(feature(
            b,
            baseline.sample(bi),
            c,
            current.sample(ci),
            thresholds,
        ));
    }
    let severity = |f: &FeatureDrift| {
        let psi = f
            .psi
            .map_or(0.0, |p| p / thresholds.psi.max(f64::MIN_POSITIVE));
        let ks =
            f.ks.map_or(0.0, |k| k / thresholds.ks.max(f64::MIN_POSITIVE));
        psi.max(ks)
    };
    features.sort_by(|a, b| {
        b.drifted
            .cmp(&a.drifted)
            .then_with(|| severity(b).total_cmp(&severity(a)))
            .then_with(|| a.name.cmp(&b.name))
    });
    DriftReport {
        baseline: baseline.stats.table.clone(),
        current: current.stats.table.clone(),
        thresholds,
        features,
        only_in_baseline: in_b.iter().filter(|n| !in_c.contains(n)).cloned().collect(),
        only_in_current: in_c.iter().filter(|n| !in_b.contains(n)).cloned().collect(),
    }
}

fn feature(
    b: &FeatureStats,
    b_sample: Option<&Sample>,
    c: &FeatureStats,
    c_sample: Option<&Sample>,
    thresholds: Thresholds,
) -> FeatureDrift {
    let mut out = FeatureDrift {
        name: b.name.clone(),
        ty: if b.ty == c.ty {
            b.ty.clone()
        } else {
            format!("{}/{}", b.ty, c.ty)
        },
        baseline_fill_rate: b.fill_rate,
        current_fill_rate: c.fill_rate,
        psi: None,
        ks: None,
        drifted: false,
        note: None,
    };
    let (b_nulls, c_nulls) = (b.rows - b.non_null, c.rows - c.non_null);
    match (&b.numeric, &c.numeric, &b.categorical, c_sample) {
        (Some(bn), Some(cn), _, Some(Sample::Numeric(values))) => {
            // Bins: null, NaN, then the baseline's decile bins (±inf in the end bins).
            let mut bb = vec![b_nulls, bn.nan];
            bb.extend(&bn.bins.counts);
            let mut cc = vec![c_nulls, cn.nan];
            let mut counts = bin_counts(&bn.bins.edges, values);
            if let Some(first) = counts.first_mut() {
                *first += cn.neg_inf;
            }
            if let Some(last) = counts.last_mut() {
                *last += cn.pos_inf;
            }
            cc.extend(counts);
            out.psi = psi(&bb, b.rows, &cc, c.rows);
            out.ks = match b_sample {
                Some(Sample::Numeric(base)) => ks_statistic(base, values),
                _ => {
                    out.note = Some("no KS: the baseline is a statistics file".to_string());
                    None
                }
            };
        }
        (_, _, Some(bc), Some(Sample::Categorical(counts))) if c.categorical.is_some() => {
            // Bins: null, the baseline's top values, every other value.
            let mut bb = vec![b_nulls];
            let mut cc = vec![c_nulls];
            let mut c_in_top = 0;
            for v in bc.top.iter().take(TOP) {
                bb.push(v.count);
                let n = counts.get(&v.value).copied().unwrap_or(0);
                c_in_top += n;
                cc.push(n);
            }
            bb.push(bc.other);
            cc.push(c.non_null - c_in_top);
            out.psi = psi(&bb, b.rows, &cc, c.rows);
        }
        _ => {
            out.note = Some(format!(
                "not compared: {} in the baseline, {} now",
                b.ty, c.ty
            ));
        }
    }
    if out.psi.is_none() && out.note.is_none() && (b.rows == 0 || c.rows == 0) {
        out.note = Some("not compared: a table has no rows".to_string());
    }
    out.drifted =
        out.psi.is_some_and(|p| p > thresholds.psi) || out.ks.is_some_and(|k| k > thresholds.ks);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::profile::{ColumnSelection, Profiler};
    use datafusion::arrow::array::{Float64Array, RecordBatch};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;

    fn profile(values: Vec<Option<f64>>) -> Profile {
        let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, true)]));
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![Arc::new(Float64Array::from(values))],
        )
        .unwrap();
        let mut p = Profiler::new("t", &schema, &ColumnSelection::default()).unwrap();
        p.add(&batch).unwrap();
        p.finish()
    }

    #[test]
    fn nulls_and_nans_have_bins_of_their_own() {
        // Baseline 1, NaN, 2, null: finite values {1, 2}, deciles by nearest rank
        // (ranks 1, 1, 1, 1, 1, 2, 2, 2, 2) → edges 1, 2. Bins: null, NaN, (-inf, 1],
        // (1, 2], (2, inf): baseline shares 1/4, 1/4, 1/4, 1/4, 0; current NaN, NaN, 1,
        // 2: 0, 1/2, 1/4, 1/4, 0. PSI = (ε - 1/4)·ln(ε / (1/4)) + (1/2 - 1/4)·ln 2
        // (the empty (2, inf) bin is ε on both sides: 0). KS over {1, 2} and {1, 2}: 0.
        let b = profile(vec![Some(1.0), Some(f64::NAN), Some(2.0), None]);
        let c = profile(vec![Some(f64::NAN), Some(f64::NAN), Some(1.0), Some(2.0)]);
        let report = compare(&b, &c, Thresholds::default());
        let x = &report.features[0];
        let eps = crate::stats::PSI_EPSILON;
        let by_hand = (eps - 0.25) * (eps / 0.25).ln() + 0.25 * 2f64.ln();
        let psi = x.psi.unwrap_or(f64::NAN);
        assert!((psi - by_hand).abs() < 1e-12, "{psi} vs {by_hand}");
        assert_eq!(x.ks, Some(0.0));
        assert!(x.drifted, "PSI {psi} > 0.2");
    }
}
