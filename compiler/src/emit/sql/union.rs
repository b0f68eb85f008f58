//! A group over several sources (`GroupPlan::union`, semantics.md "Views over several
//! sources") as one table: the CTE `featc_union_N`, every member's rows under the
//! group's read columns, `UNION ALL`. A member gives its own time column as the
//! union's time column (`time()`), its name as `source()`, and a null of the
//! column's type for a column it lacks (`Flavor::null_of`), so the events CTE
//! (`group`) and every strategy after it read the union exactly as they read one
//! source's table. The names `time()` and `source()`, which no source column can
//! have, are quoted identifiers in every dialect.

use datafusion::sql::sqlparser::ast::{Cte, Expr, SelectItem};

use super::ast::{col, cte_union_all, ident, item, null, select, table, table_name, SelectParts};
use super::dialect::{Flavor, SqlType};
use super::script::Names;
use crate::ir::{self, DataType, ExprKind, SOURCE_NAME_COLUMN};
use featc_runtime::plan::{GroupPlan, UnionMember, UNION_TIME_COLUMN};

/// The name of group `index`'s union CTE.
pub fn union_name(index: usize) -> String {
    format!("featc_union_{index}")
}

/// Group `index`'s union CTE, named `union_name(index)`; `None` for a group over one
/// source, whose events read its table.
pub fn union_cte(names: &Names<'_>, index: usize, g: &GroupPlan) -> Option<Cte> {
    let q = names.flavor.quote();
    let read = g.columns_read();
    let mut selects = g.union.iter().map(|m| {
        let projection: Vec<SelectItem> = read
            .iter()
            .map(|c| item(member_column(names.flavor, g, m, c), ident(q, c)))
            .collect();
        select(SelectParts {
            projection,
            from: table(table_name(q, names.table(&m.source)), None),
            joins: Vec::new(),
            selection: None,
            group_by: Vec::new(),
        })
    });
    let first = selects.next()?;
    Some(cte_union_all(
        ident(q, &union_name(index)),
        first,
        selects.collect(),
    ))
}

/// Union column `c` of member `m`'s rows.
fn member_column(flavor: &dyn Flavor, g: &GroupPlan, m: &UnionMember, c: &str) -> Expr {
    let q = flavor.quote();
    if c == UNION_TIME_COLUMN {
        col(q, &m.time_column)
    } else if c == SOURCE_NAME_COLUMN {
        flavor.string(&m.source)
    } else if m.columns.iter().any(|own| own == c) {
        col(q, c)
    } else {
        typed_null(flavor, read_type(g, c))
    }
}

/// A null of type `ty` (`Flavor::null_of`). An unknown type (no expression reads
/// the column, which the plan rules out: only key columns are read otherwise, and
/// every member has them) stays a bare `NULL`, typed by the other members.
fn typed_null(flavor: &dyn Flavor, ty: Option<DataType>) -> Expr {
    let sql = match ty {
        Some(DataType::Int64) => SqlType::Int64,
        Some(DataType::Float64) => SqlType::Float64,
        Some(DataType::String) => SqlType::Text,
        Some(DataType::Bool) => SqlType::Bool,
        Some(DataType::Timestamp) => SqlType::Timestamp,
        Some(DataType::Date) => SqlType::Date,
        // No emitted feature reads a decimal (`expr`, E0041): a bare `NULL`.
        Some(DataType::List(_) | DataType::Decimal { .. }) | None => return null(),
    };
    flavor.null_of(sql)
}

/// The type the group's expressions read column `name` as (the plan carries no
/// source schema, but every column a member may lack is read by one of them).
fn read_type(g: &GroupPlan, name: &str) -> Option<DataType> {
    g.inputs
        .iter()
        .chain(&g.predicates)
        .find_map(|e| found(e, name).err())
}

/// `Err` with the type of the first `name` column in `e`, if any. It walks through
/// `try_map_children` (the one list of a node's children), which stops at the first
/// `Err`; the rebuilt nodes are leaves, never copies of the tree.
#[recursive::recursive]
fn found(e: &ir::Expr, name: &str) -> Result<ir::Expr, DataType> {
    if matches!(&e.kind, ExprKind::Column(c) if c == name) {
        return Err(e.ty);
    }
    e.kind.try_map_children(&mut |child| found(child, name))?;
    Ok(ir::Expr {
        kind: ExprKind::Literal(ir::Literal::Null),
        ty: e.ty,
        nullable: true,
        span: e.span,
    })
}
