//! What a snapshot records of the graph and options that took it, so that `restore`
//! refuses state that would not mean the same thing to another graph, and can say
//! which features differ.
//!
//! A group's fingerprint is the xxh3 of the canonical JSON of its source and its
//! group plan with every span zeroed: spans only point into the `.feat` text, so
//! editing comments or moving declarations keeps a snapshot usable, while any change
//! to what the group computes (keys, expressions, filters, windows, ttl, feature
//! names, the source's columns or lateness) refuses it. The output node (which
//! features are served, services) is not part of it: it maps reads onto the groups
//! and holds no state.

use xxhash_rust::xxh3::xxh3_64;

use super::super::graph::{SourceOp, StreamGraph};
use super::super::policy::{LatePolicy, Options};
use crate::ir::{Expr, ExprKind, SourceSpan};
use crate::plan::GroupPlan;
use crate::snapshot::{Reader, SnapshotError, Writer};

/// The fingerprints of one graph under one set of options.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Fingerprint {
    /// Per source, in graph order: the hash of its declaration.
    sources: Vec<u64>,
    /// Per aggregate node, in graph order: its hash and its features' names.
    groups: Vec<(u64, Vec<String>)>,
    late_policy: LatePolicy,
    min_lateness_us: i64,
    fold_run: u32,
}

/// Zeroes the spans of an expression tree (deep trees grow the stack on demand).
#[recursive::recursive]
fn clear_expr(e: &mut Expr) {
    e.span = SourceSpan::default();
    match &mut e.kind {
        ExprKind::Column(_) | ExprKind::Literal(_) => {}
        ExprKind::Cast(x) | ExprKind::Not(x) | ExprKind::Neg(x) => clear_expr(x),
        ExprKind::Binary { lhs, rhs, .. } => {
            clear_expr(lhs);
            clear_expr(rhs);
        }
        ExprKind::IsNull { expr, .. } => clear_expr(expr),
        ExprKind::InList { expr, list, .. } => {
            clear_expr(expr);
            list.iter_mut().for_each(clear_expr);
        }
        ExprKind::Coalesce(args) | ExprKind::Call { args, .. } => {
            args.iter_mut().for_each(clear_expr)
        }
        ExprKind::Case {
            branches,
            otherwise,
        } => {
            for (c, v) in branches {
                clear_expr(c);
                clear_expr(v);
            }
            if let Some(o) = otherwise {
                clear_expr(o);
            }
        }
    }
}

fn hash_json(value: &impl serde::Serialize) -> u64 {
    // Serializing plain data with string keys cannot fail.
    xxh3_64(serde_json::to_string(value).unwrap_or_default().as_bytes())
}

/// The source declaration without its columns' spans.
fn source_of(op: &SourceOp) -> SourceOp {
    let mut op = op.clone();
    op.columns
        .iter_mut()
        .for_each(|c| c.span = SourceSpan::default());
    op
}

fn group_hash(source: Option<&SourceOp>, plan: &GroupPlan) -> u64 {
    let source = source.map(source_of);
    let mut plan = plan.clone();
    plan.span = SourceSpan::default();
    plan.features
        .iter_mut()
        .for_each(|f| f.span = SourceSpan::default());
    plan.inputs.iter_mut().for_each(clear_expr);
    plan.predicates.iter_mut().for_each(clear_expr);
    hash_json(&(source, &plan))
}

impl Fingerprint {
    pub fn of(graph: &StreamGraph, options: &Options) -> Fingerprint {
        Fingerprint {
            sources: graph
                .sources()
                .map(|(_, op)| hash_json(&source_of(op)))
                .collect(),
            groups: graph
                .aggregates()
                .map(|(_, op)| {
                    let hash = group_hash(graph.source(op.source), &op.plan);
                    (hash, op.plan.feature_names().map(String::from).collect())
                })
                .collect(),
            late_policy: options.late_policy,
            min_lateness_us: options.min_lateness_us,
            fold_run: options.fold_run,
        }
    }

    pub fn save(&self, w: &mut Writer) {
        w.usize(self.sources.len());
        self.sources.iter().for_each(|&h| w.u64(h));
        w.usize(self.groups.len());
        for (h, names) in &self.groups {
            w.u64(*h);
            w.usize(names.len());
            names.iter().for_each(|n| w.str(n));
        }
        w.u8(match self.late_policy {
            LatePolicy::Apply => 0,
            LatePolicy::DeadLetter => 1,
        });
        w.i64(self.min_lateness_us);
        w.u32(self.fold_run);
    }

    pub fn load(r: &mut Reader<'_>) -> Result<Fingerprint, SnapshotError> {
        let n = r.count(1)?;
        let sources = (0..n).map(|_| r.u64()).collect::<Result<_, _>>()?;
        let n = r.count(2)?;
        let mut groups = Vec::with_capacity(n);
        for _ in 0..n {
            let h = r.u64()?;
            let k = r.count(1)?;
            let names = (0..k)
                .map(|_| r.str().map(String::from))
                .collect::<Result<_, _>>()?;
            groups.push((h, names));
        }
        let late_policy = match r.u8()? {
            0 => LatePolicy::Apply,
            1 => LatePolicy::DeadLetter,
            b => return Err(SnapshotError::Malformed(format!("late policy {b}"))),
        };
        Ok(Fingerprint {
            sources,
            groups,
            late_policy,
            min_lateness_us: r.i64()?,
            fold_run: r.u32()?,
        })
    }

    fn describe_options(&self) -> String {
        format!(
            "late policy {:?}, minimum lateness {}us, fold run {}",
            self.late_policy, self.min_lateness_us, self.fold_run
        )
    }

    /// Ok when a runtime fingerprinted `self` can take the state of a snapshot
    /// fingerprinted `snapshot`; otherwise what differs.
    pub fn accept(&self, snapshot: &Fingerprint) -> Result<(), SnapshotError> {
        if self.sources != snapshot.sources || self.groups != snapshot.groups {
            let mut features: Vec<String> = Vec::new();
            for i in 0..self.groups.len().max(snapshot.groups.len()) {
                let (a, b) = (self.groups.get(i), snapshot.groups.get(i));
                if a.map(|g| g.0) != b.map(|g| g.0) || a.map(|g| &g.1) != b.map(|g| &g.1) {
                    for (_, names) in a.into_iter().chain(b) {
                        features.extend(names.iter().cloned());
                    }
                }
            }
            features.sort();
            features.dedup();
            return Err(SnapshotError::OtherGraph { features });
        }
        let options = |f: &Fingerprint| (f.late_policy, f.min_lateness_us, f.fold_run);
        if options(self) != options(snapshot) {
            return Err(SnapshotError::OtherOptions {
                snapshot: snapshot.describe_options(),
                runtime: self.describe_options(),
            });
        }
        Ok(())
    }
}
