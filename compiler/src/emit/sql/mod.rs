//! SQL for other engines (`featc build --emit sql --dialect D`): one query computing
//! the point-in-time training set of a `Plan` from a spine table and the source
//! tables, built as a sqlparser syntax tree (DataFusion's re-export) and printed for
//! one dialect. docs/scale-out.md states what it guarantees.
//!
//! The shared builder is `script` (the query), `group` (a group's CTEs, reading
//! `union` for a group over several sources), `strategy` (a frame or the join, per
//! feature), `frame` and `join` (each strategy's CTEs), `aggregate` (one feature's
//! aggregation), `expr` and `functions` (row expressions), over `ast`
//! (constructors); `dialect` is what differs between dialects, implemented once per
//! dialect (`spark`, `duckdb`, `postgres`, `datafusion`). A feature a dialect cannot
//! compute exactly is refused (`refusal`), never approximated.
//!
//! The spine-order contract: the spine table has a column (`spine_order`) whose
//! values are unique, non-null and give the spine's order; it is the spine row's
//! identity and the result is ordered by it. The result is every spine row, its
//! columns unchanged (`s.*`, the order column included), then one column per
//! requested feature.

mod aggregate;
pub mod ast;
pub(crate) mod datafusion;
pub mod dialect;
mod duckdb;
pub(crate) mod expr;
mod frame;
pub(crate) mod functions;
pub(crate) mod group;
mod join;
mod postgres;
pub mod refusal;
mod rows;
mod script;
mod spark;
mod strategy;
mod union;

use std::collections::HashMap;

use ::datafusion::sql::sqlparser::ast::Statement;

pub use dialect::Dialect;
pub use refusal::{Reason, Refusal};

use featc_runtime::plan::Plan;

/// The tables and columns the query reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlOptions {
    pub dialect: Dialect,
    /// Source name → table name (a source not listed is read from the table of its
    /// own name). A dotted name is qualified (`schema.table`).
    pub tables: HashMap<String, String>,
    pub spine_table: String,
    /// The spine's order column (see the module docs).
    pub spine_order: String,
    /// The spine's time column.
    pub spine_time: String,
}

impl SqlOptions {
    /// The defaults: sources read from tables of their names, the spine from `spine`,
    /// ordered by `spine_row`, its time in `ts`.
    pub fn new(dialect: Dialect) -> SqlOptions {
        SqlOptions {
            dialect,
            tables: HashMap::new(),
            spine_table: "spine".into(),
            spine_order: "spine_row".into(),
            spine_time: "ts".into(),
        }
    }
}

/// An emitted script: its statements, in order, and the comments printed before
/// them (which strategy computes each feature, and why).
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    pub comments: Vec<String>,
    pub statements: Vec<Statement>,
}

impl Script {
    /// The script's text: the comments as `--` lines, then each statement
    /// pretty-printed, ended by `;`. A comment holds no quote or `;`: tools that
    /// split a script at `;` outside quotes (scripts/sql-engines/run.py) do not know
    /// comments.
    pub fn text(&self) -> String {
        let plain = |c: &String| -> String {
            c.chars()
                .filter(|ch| !matches!(ch, ';' | '\'' | '"' | '`'))
                .collect()
        };
        let comments = self.comments.iter().map(|c| format!("-- {}\n", plain(c)));
        let statements = self.statements.iter().map(|s| format!("{s:#};\n"));
        comments.chain(statements).collect()
    }
}

/// The SQL computing `plan`'s training set for `options`, or every requested
/// feature the dialect cannot compute exactly.
pub fn emit(plan: &Plan, options: &SqlOptions) -> Result<Script, Vec<Refusal>> {
    let (query, comments) = script::build(plan, options)?;
    Ok(Script {
        comments,
        statements: vec![Statement::Query(Box::new(query))],
    })
}
