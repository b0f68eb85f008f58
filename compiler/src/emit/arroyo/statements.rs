//! Constructors of the statements and clauses a pipeline has beyond a query:
//! `CREATE TABLE ... WITH (...)` (sources and sinks), `INSERT INTO ... SELECT`,
//! `SET updating_ttl`, intervals, `hop`/`tumble`, and aggregates with `FILTER`. They
//! build sqlparser syntax trees, like `emit::sql::ast`, never SQL text.

use datafusion::sql::sqlparser::ast::{
    helpers::attached_token::AttachedToken, helpers::stmt_create_table::CreateTableBuilder,
    ColumnDef, ColumnOption, ColumnOptionDef, CreateTableOptions, DataType as SqlDataType,
    ExactNumberInfo, Expr, GeneratedAs, GeneratedExpressionMode, Insert, Interval, ObjectName,
    Query, Set, SqlOption, Statement, TableObject, TimezoneInfo, Value,
};

use datafusion::sql::sqlparser::ast::Ident;
use datafusion::sql::sqlparser::keywords::ALL_KEYWORDS;

use crate::emit::sql::ast::{call, ident};
use crate::ir::DataType;

/// Identifiers are quoted with `"` (Arroyo's dialect is PostgreSQL's): names keep
/// their case and may be keywords (`window`, `end`).
pub const QUOTE: char = '"';

/// A table's name as Arroyo resolves it. Arroyo looks tables up by their unquoted
/// names: with `CREATE TABLE "transactions"` a query's `FROM "transactions"` failed
/// validation with "table 'transactions' not found" (Arroyo 0.16-dev, tried on
/// loopback: docs/scale-out.md), while the same names bare passed. So a name that
/// is a plain lowercase identifier and no SQL keyword is written bare; any other
/// (which Arroyo may not resolve) stays quoted so that it at least parses.
pub fn table_ident(name: &str) -> Ident {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    let keyword = ALL_KEYWORDS
        .binary_search(&name.to_ascii_uppercase().as_str())
        .is_ok();
    if plain && !keyword {
        Ident::new(name)
    } else {
        ident(QUOTE, name)
    }
}

/// A featc type as Arroyo's SQL type.
pub fn sql_type(ty: DataType) -> SqlDataType {
    match ty {
        DataType::Int64 => SqlDataType::BigInt(None),
        DataType::Float64 => SqlDataType::Double(ExactNumberInfo::None),
        DataType::String => SqlDataType::Text,
        DataType::Bool => SqlDataType::Boolean,
        DataType::Timestamp => SqlDataType::Timestamp(None, TimezoneInfo::None),
        // No accepted feature reads a date (`layout::refusal`, E0045): a source's
        // date column is carried as its JSON text, which Arroyo does not check (an
        // unread column may hold anything, semantics.md "What a run reads").
        DataType::Date => SqlDataType::Text,
        // Likewise for decimals (E0045): carried as text, read by no feature.
        DataType::Decimal { .. } => SqlDataType::Text,
        // Refused before a table is built (lists are features only: E0044).
        DataType::List(_) => SqlDataType::Text,
    }
}

/// A column of a `CREATE TABLE`.
pub struct Column {
    pub name: String,
    pub ty: SqlDataType,
    pub not_null: bool,
    /// `GENERATED ALWAYS AS (expr) STORED`: a virtual column Arroyo computes.
    pub generated: Option<Expr>,
}

impl Column {
    pub fn new(name: &str, ty: DataType, nullable: bool) -> Column {
        Column {
            name: name.to_string(),
            ty: sql_type(ty),
            not_null: !nullable,
            generated: None,
        }
    }

    fn def(self) -> ColumnDef {
        let mut options = Vec::new();
        if self.not_null {
            options.push(ColumnOption::NotNull);
        }
        if let Some(expr) = self.generated {
            options.push(ColumnOption::Generated {
                generated_as: GeneratedAs::Always,
                sequence_options: None,
                generation_expr: Some(expr),
                // PostgreSQL's grammar needs `STORED`; Arroyo reads the expression
                // alone (its virtual columns are computed as events are read).
                generation_expr_mode: Some(GeneratedExpressionMode::Stored),
                generated_keyword: true,
            });
        }
        ColumnDef {
            name: ident(QUOTE, &self.name),
            data_type: self.ty,
            options: options
                .into_iter()
                .map(|option| ColumnOptionDef { name: None, option })
                .collect(),
        }
    }
}

/// `CREATE TABLE name (columns) WITH (key = value, ...)`.
/// Every option's value is a string (`key = 'value'`).
pub fn create_table(name: &str, columns: Vec<Column>, options: Vec<(&str, String)>) -> Statement {
    let with = options
        .into_iter()
        .map(|(key, value)| SqlOption::KeyValue {
            // A dotted key (`source.offset`) is one quoted identifier.
            key: match key.contains('.') {
                true => ident(QUOTE, key),
                false => datafusion::sql::sqlparser::ast::Ident::new(key),
            },
            value: Expr::Value(Value::SingleQuotedString(value).with_empty_span()),
        })
        .collect();
    let table = CreateTableBuilder::new(ObjectName::from(vec![table_ident(name)]))
        .columns(columns.into_iter().map(Column::def).collect())
        .table_options(CreateTableOptions::With(with))
        .build();
    Statement::CreateTable(table)
}

/// `INSERT INTO table query`.
pub fn insert(table: &str, query: Query) -> Statement {
    Statement::Insert(Insert {
        insert_token: AttachedToken::empty(),
        optimizer_hints: Vec::new(),
        or: None,
        ignore: false,
        into: true,
        table: TableObject::TableName(ObjectName::from(vec![table_ident(table)])),
        table_alias: None,
        columns: Vec::new(),
        overwrite: false,
        source: Some(Box::new(query)),
        assignments: Vec::new(),
        partitioned: None,
        after_columns: Vec::new(),
        has_table_keyword: false,
        on: None,
        returning: None,
        output: None,
        replace_into: false,
        priority: None,
        insert_alias: None,
        settings: None,
        format_clause: None,
        multi_table_insert_type: None,
        multi_table_into_clauses: Vec::new(),
        multi_table_when_clauses: Vec::new(),
        multi_table_else_clause: None,
    })
}

/// `SET name = value`.
pub fn set(name: &str, value: Expr) -> Statement {
    Statement::Set(Set::SingleAssignment {
        scope: None,
        hivevar: false,
        variable: ObjectName::from(vec![datafusion::sql::sqlparser::ast::Ident::new(name)]),
        values: vec![value],
    })
}

/// `INTERVAL 'N unit'` of `us` microseconds, in the largest unit that is exact.
pub fn interval(us: i64) -> Expr {
    let (n, unit) = if us % 86_400_000_000 == 0 {
        (us / 86_400_000_000, "day")
    } else if us % 1_000_000 == 0 {
        (us / 1_000_000, "second")
    } else if us % 1_000 == 0 {
        (us / 1_000, "millisecond")
    } else {
        (us, "microsecond")
    };
    let plural = if n == 1 { "" } else { "s" };
    Expr::Interval(Interval {
        value: Box::new(Expr::Value(
            Value::SingleQuotedString(format!("{n} {unit}{plural}")).with_empty_span(),
        )),
        leading_field: None,
        leading_precision: None,
        last_field: None,
        fractional_seconds_precision: None,
    })
}

/// The window of a windowed query: `tumble(W)` when the slide is the width,
/// `hop(slide, W)` otherwise.
pub fn window(slide_us: i64, width_us: i64) -> Expr {
    if slide_us == width_us {
        call("tumble", vec![interval(width_us)])
    } else {
        call("hop", vec![interval(slide_us), interval(width_us)])
    }
}

/// `aggregate FILTER (WHERE condition)` (`aggregate` is a function call; anything
/// else is returned as it is).
pub fn filtered(aggregate: Expr, condition: Option<Expr>) -> Expr {
    match (aggregate, condition) {
        (Expr::Function(mut f), Some(c)) => {
            f.filter = Some(Box::new(c));
            Expr::Function(f)
        }
        (aggregate, _) => aggregate,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_use_the_largest_exact_unit() {
        let text = |us| interval(us).to_string();
        assert_eq!(text(7 * 86_400_000_000), "INTERVAL '7 days'");
        assert_eq!(text(3_600_000_000), "INTERVAL '3600 seconds'");
        assert_eq!(text(1_000_000), "INTERVAL '1 second'");
        assert_eq!(text(1_500), "INTERVAL '1500 microseconds'");
        assert_eq!(text(2_000), "INTERVAL '2 milliseconds'");
    }

    #[test]
    fn a_window_as_wide_as_its_slide_tumbles() {
        assert_eq!(
            window(60_000_000, 60_000_000).to_string(),
            "tumble(INTERVAL '60 seconds')"
        );
        assert_eq!(
            window(60_000_000, 86_400_000_000).to_string(),
            "hop(INTERVAL '60 seconds', INTERVAL '1 day')"
        );
    }
}
