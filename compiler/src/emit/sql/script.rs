//! The whole query: the spine's rows (`featc_spine`: the order column as the row's
//! identity, the time in microseconds, the keys and request fields, with the checks
//! featc makes of them), each group's CTEs (`group`), every aggregated feature's value
//! per spine row (`featc_values`), then the spine's own rows, unchanged and in the
//! order of the order column, with one column per requested feature (derived
//! features computed there, from the values).

use datafusion::sql::sqlparser::ast::{BinaryOperator, Expr, Query, SelectItem};

use super::ast::{
    all_of, and_all, binary, cast, col, cte, ident, is_null, item, join, order, qcol, query,
    select, table, table_name, JoinKind, SelectParts,
};
use super::dialect::{Flavor, SqlType};
use super::expr::{Blocked, Lowering};
use super::group::{group_sql, lower_slots, refusal};
use super::refusal::Refusal;
use super::strategy::Strategy;
use super::SqlOptions;
use featc_runtime::plan::{FeatureRef, Output, Plan};

/// The names the query reads: tables, spine columns.
pub struct Names<'a> {
    pub flavor: &'a dyn Flavor,
    pub options: &'a SqlOptions,
}

impl Names<'_> {
    /// The table holding source `source`.
    pub fn table<'b>(&'b self, source: &'b str) -> &'b str {
        self.options
            .tables
            .get(source)
            .map(String::as_str)
            .unwrap_or(source)
    }

    pub fn spine_cte(&self) -> &'static str {
        "featc_spine"
    }
}

/// The query computing `plan`'s training set, or every requested feature it refuses.
pub fn build(plan: &Plan, options: &SqlOptions) -> Result<(Query, Vec<String>), Vec<Refusal>> {
    let flavor = options.dialect.flavor();
    let q = flavor.quote();
    let names = Names { flavor, options };
    let source_column = |name: &str| col(q, name);
    let slots_lowering = Lowering {
        flavor,
        column: &source_column,
    };

    // Lower every group's slots; find what blocks each feature.
    let mut lowered = Vec::new();
    let mut blocked: Vec<(FeatureRef, Blocked)> = Vec::new();
    for (gi, g) in plan.groups.iter().enumerate() {
        let (inputs, predicates) = lower_slots(&slots_lowering, g);
        for (fi, f) in g.features.iter().enumerate() {
            if let Some(b) = refusal(g, f, &inputs, &predicates) {
                blocked.push((
                    FeatureRef {
                        group: gi,
                        feature: fi,
                    },
                    b,
                ));
            }
        }
        lowered.push((inputs, predicates));
    }
    let value_column = |name: &str| qcol(q, "v", name);
    let derived_lowering = Lowering {
        flavor,
        column: &value_column,
    };
    let mut derived_sql = Vec::new();
    let mut refusals: Vec<Refusal> = Vec::new();
    let refuse = |refusals: &mut Vec<Refusal>, feature: &str, b: Blocked| {
        if !refusals.iter().any(|r| r.feature == feature) {
            refusals.push(Refusal {
                feature: feature.to_string(),
                dialect: options.dialect,
                reason: b.reason,
                span: b.span,
            });
        }
    };
    for d in &plan.derived {
        let read_blocked = d.reads.iter().find_map(|r| {
            blocked
                .iter()
                .find(|(b, _)| b == r)
                .map(|(_, why)| why.clone())
        });
        match read_blocked.map_or_else(|| derived_lowering.lower(&d.expr), Err) {
            Ok(sql) => derived_sql.push(Some(sql)),
            Err(b) => {
                derived_sql.push(None);
                refuse(&mut refusals, &d.name, b);
            }
        }
    }
    for o in &plan.outputs {
        match o {
            Output::Aggregate(r) => {
                if let (Some((_, b)), Some(f)) =
                    (blocked.iter().find(|(x, _)| x == r), plan.feature(*r))
                {
                    refuse(&mut refusals, &f.name, b.clone());
                }
            }
            Output::Derived(d) => {
                if derived_sql.get(*d).is_none_or(Option::is_none) {
                    if let Some(d) = plan.derived.get(*d) {
                        if !refusals.iter().any(|r| r.feature == d.name) {
                            // Unreachable: a derived feature without SQL was refused above.
                            refusals.push(Refusal {
                                feature: d.name.clone(),
                                dialect: options.dialect,
                                reason: super::refusal::Reason::Operation {
                                    name: "an expression".into(),
                                },
                                span: d.span,
                            });
                        }
                    }
                }
            }
        }
    }
    if !refusals.is_empty() {
        return Err(refusals);
    }

    let mut ctes = vec![spine_cte(&names, plan)];
    let mut groups = Vec::new();
    for (gi, ((inputs, predicates), g)) in lowered.into_iter().zip(&plan.groups).enumerate() {
        let inputs: Vec<Expr> = inputs.into_iter().flatten().collect();
        let predicates: Vec<Expr> = predicates.into_iter().flatten().collect();
        let sql = group_sql(&names, gi, g, inputs, predicates);
        ctes.extend(sql.ctes.iter().cloned());
        groups.push(sql);
    }

    // Every aggregated feature's value, and the request fields, per spine row.
    let mut projection = vec![item(qcol(q, "s", "featc_row"), ident(q, "featc_row"))];
    for (g, sql) in plan.groups.iter().zip(&groups) {
        for (f, value) in g.features.iter().zip(&sql.values) {
            projection.push(item(value.clone(), ident(q, &f.name)));
        }
    }
    for field in plan.request_fields() {
        projection.push(item(qcol(q, "s", &field.field), ident(q, &field.column())));
    }
    let joins = groups
        .iter()
        .flat_map(|g| &g.parts)
        .map(|(name, alias)| {
            join(
                JoinKind::Left,
                table(table_name(q, name), Some(ident(q, alias))),
                binary(
                    qcol(q, alias, "featc_row"),
                    BinaryOperator::Eq,
                    qcol(q, "s", "featc_row"),
                ),
            )
        })
        .collect();
    ctes.push(cte(
        ident(q, "featc_values"),
        select(SelectParts {
            projection,
            from: table(table_name(q, names.spine_cte()), Some(ident(q, "s"))),
            joins,
            selection: None,
            group_by: Vec::new(),
        }),
    ));

    // The spine's rows, unchanged and in order, then the requested features.
    let order_column = qcol(q, "s", &options.spine_order);
    let mut projection: Vec<SelectItem> = vec![all_of(q, "s")];
    for o in &plan.outputs {
        let Some((name, _)) = plan.output(*o) else {
            continue;
        };
        let value = match o {
            Output::Aggregate(_) => Some(value_column(name)),
            Output::Derived(d) => derived_sql.get(*d).cloned().flatten(),
        };
        if let Some(value) = value {
            projection.push(item(value, ident(q, name)));
        }
    }
    let body = select(SelectParts {
        projection,
        from: table(table_name(q, &options.spine_table), Some(ident(q, "s"))),
        joins: vec![join(
            JoinKind::Left,
            table(table_name(q, "featc_values"), Some(ident(q, "v"))),
            binary(
                qcol(q, "v", "featc_row"),
                BinaryOperator::Eq,
                order_column.clone(),
            ),
        )],
        selection: None,
        group_by: Vec::new(),
    });
    let mut comments = vec![format!(
        "featc {} training set. Each feature by a RANGE frame over the events of its group with the spine rows as markers (frame), or by joining each spine row with the events of its window (join):",
        options.dialect.name()
    )];
    for (gi, (g, sql)) in plan.groups.iter().zip(&groups).enumerate() {
        if !g.union.is_empty() {
            let sources: Vec<&str> = g.union.iter().map(|m| m.source.as_str()).collect();
            comments.push(format!(
                "group {gi} reads the events of {} as one table (UNION ALL): each with its own time column, null in the columns it lacks",
                sources.join(", ")
            ));
        }
        for (f, (strategy, why)) in g.features.iter().zip(&sql.strategies) {
            let how = match strategy {
                Strategy::Frame => "frame",
                Strategy::Join => "join",
            };
            comments.push(format!("group {gi}, {}: {how}: {why}", f.name));
        }
    }
    Ok((query(ctes, body, vec![order(order_column, true)]), comments))
}

/// `featc_spine`: the row identity, time, keys and request fields of every spine row,
/// failing the query on a null time or a null in a non-nullable request field (featc
/// refuses such a spine).
fn spine_cte(names: &Names<'_>, plan: &Plan) -> datafusion::sql::sqlparser::ast::Cte {
    let f = names.flavor;
    let q = f.quote();
    let options = names.options;
    let order_column = col(q, &options.spine_order);
    let time = col(q, &options.spine_time);
    let mut projection = vec![
        item(order_column.clone(), ident(q, "featc_row")),
        item(f.epoch_us(time.clone()), ident(q, "featc_t")),
    ];
    let mut columns: Vec<&str> = Vec::new();
    for g in &plan.groups {
        for k in &g.keys {
            if !columns.contains(&k.name.as_str()) {
                columns.push(&k.name);
            }
        }
    }
    let fields = plan.request_fields();
    for field in &fields {
        if !columns.contains(&field.field.as_str()) {
            columns.push(&field.field);
        }
    }
    projection.extend(columns.iter().map(|c| item(col(q, c), ident(q, c))));
    let at_row = |what: String| {
        binary(
            f.string(&format!("featc: {what} at spine row ")),
            BinaryOperator::StringConcat,
            cast(order_column.clone(), f.sql_type(SqlType::Text)),
        )
    };
    let mut checks = vec![f.fail_if(
        is_null(time, false),
        at_row(format!(
            "the spine's time column `{}` is null",
            options.spine_time
        )),
    )];
    for field in fields.iter().filter(|field| !field.nullable) {
        checks.push(f.fail_if(
            is_null(col(q, &field.field), false),
            at_row(format!(
                "request field `{}` (not nullable) is null",
                field.column()
            )),
        ));
    }
    cte(
        ident(q, names.spine_cte()),
        select(SelectParts {
            projection,
            from: table(table_name(q, &options.spine_table), None),
            joins: Vec::new(),
            selection: Some(and_all(checks)),
            group_by: Vec::new(),
        }),
    )
}
