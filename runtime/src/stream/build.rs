//! Building a runtime's groups: one per aggregate node of the graph, then one per
//! group of each as-of lookup's plan (see `lookup`), each wired to the sources whose
//! batches it reads.

use std::sync::Arc;

use super::entities::TierState;
use super::error::StreamError;
use super::graph::NodeId;
use super::group::Group;
use super::lookup::{with_lookup_fields, LookupRead};
use super::policy::Options;
use super::runtime::SourceRt;
use super::union::union_of;
use crate::plan::GroupPlan;

/// Adds the group of `plan` (made for aggregate node `node`) to `groups`, with its
/// sources' indices to `sources_of`; `source` is the node's source when the graph
/// names one (a lookup's group finds its source by name). Its lookups are left for
/// the caller to resolve to groups (`LookupRead::group` is 0 until then).
#[allow(clippy::too_many_arguments)]
pub(crate) fn plan_group(
    node: NodeId,
    plan: &GroupPlan,
    sources: &mut [SourceRt],
    groups: &mut Vec<Group>,
    sources_of: &mut Vec<Vec<usize>>,
    options: &Options,
    tier: &Option<Arc<TierState>>,
    source: Option<usize>,
) -> Result<(), StreamError> {
    let position = |name: &str| {
        sources
            .iter()
            .position(|x| x.name == name)
            .ok_or_else(|| StreamError::UnknownSource(name.to_string()))
    };
    let s = match source {
        Some(s) => s,
        None => position(&plan.source)?,
    };
    // Over several sources, the group reads the union of their rows.
    let (rows, adapters) = if plan.union.is_empty() {
        (Arc::clone(&sources[s].schema), Vec::new())
    } else {
        let schema_of = |name: &str| {
            let src = sources.iter().find(|x| x.name == name)?;
            Some(Arc::clone(&src.schema))
        };
        union_of(plan, &schema_of)?
    };
    let mut lookups = Vec::with_capacity(plan.lookups.len());
    for l in &plan.lookups {
        let (_, ty) = l
            .plan
            .output_columns()
            .next()
            .ok_or_else(|| StreamError::Expr {
                context: format!("lookup `{}`", l.column),
                error: crate::expr::ExprError::Eval("it reads no feature".into()),
            })?;
        let key_cols = (l.keys.iter())
            .map(|k| {
                rows.index_of(k).map_err(|_| StreamError::MissingColumn {
                    table: plan.source.clone(),
                    column: k.clone(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let key_types = match l.plan.outputs.first() {
            Some(crate::plan::Output::Aggregate(r)) => l.plan.groups.get(r.group),
            _ => None,
        }
        .map(|g| g.keys.iter().map(|k| k.ty).collect())
        .unwrap_or_default();
        lookups.push(LookupRead {
            column: l.column.clone(),
            group: 0,
            feature: 0,
            key_cols,
            key_types,
            ty,
        });
    }
    let schema = with_lookup_fields(&rows, &lookups);
    let index = groups.len();
    let mut group = Group::new(node, index, plan, &schema, options.fold_run, tier.clone())?;
    group.rows_schema = rows;
    group.schema = schema;
    group.lookups = lookups;
    let mut members = vec![(s, plan.scanned_columns())];
    for (m, adapter) in plan.union.iter().zip(adapters) {
        let i = position(&m.source)?;
        if i != s {
            members.push((i, m.columns.clone()));
        } else {
            members[0].1 = m.columns.clone();
        }
        group.union.push((i, adapter));
    }
    for (i, read) in &members {
        let src = &mut sources[*i];
        for (c, column) in src.op.columns.iter().enumerate() {
            src.read[c] |= read.contains(&column.name);
        }
        src.groups.push(index);
    }
    sources_of.push(members.iter().map(|(i, _)| *i).collect());
    groups.push(group);
    Ok(())
}
