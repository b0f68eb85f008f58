//! What differs between the SQL dialects featc emits, as one trait: each dialect's
//! file (`spark.rs`, `duckdb.rs`, `postgres.rs`, `datafusion.rs`) implements it, and
//! the shared builder (`script`, `group`, `aggregate`, `expr`) asks it whenever the
//! dialects part ways. The defaults are the common SQL most of them accept.

use datafusion::sql::sqlparser::ast::{DataType, ExactNumberInfo, Expr, TimezoneInfo};
use datafusion::sql::sqlparser::dialect as parser;

use super::ast::{self, call, cast};
use super::expr::float;
use crate::ir::{self, Function};

/// A target of `featc build --emit sql`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    Spark,
    DuckDb,
    Postgres,
    DataFusion,
}

impl Dialect {
    pub const ALL: [Dialect; 4] = [
        Dialect::Spark,
        Dialect::DuckDb,
        Dialect::Postgres,
        Dialect::DataFusion,
    ];

    /// The name `--dialect` takes.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Spark => "spark",
            Dialect::DuckDb => "duckdb",
            Dialect::Postgres => "postgres",
            Dialect::DataFusion => "datafusion",
        }
    }

    pub fn by_name(name: &str) -> Option<Dialect> {
        Dialect::ALL.into_iter().find(|d| d.name() == name)
    }

    /// The dialect's differences.
    pub fn flavor(self) -> &'static dyn Flavor {
        match self {
            Dialect::Spark => &super::spark::Spark,
            Dialect::DuckDb => &super::duckdb::DuckDb,
            Dialect::Postgres => &super::postgres::Postgres,
            Dialect::DataFusion => &super::datafusion::DataFusion,
        }
    }

    /// sqlparser's dialect for it: what the emitted text parses back with.
    pub fn parser(self) -> Box<dyn parser::Dialect> {
        match self {
            Dialect::Spark => Box::new(parser::SparkSqlDialect {}),
            Dialect::DuckDb => Box::new(parser::DuckDbDialect {}),
            Dialect::Postgres => Box::new(parser::PostgreSqlDialect {}),
            Dialect::DataFusion => Box::new(parser::GenericDialect {}),
        }
    }
}

/// The types the emitted SQL casts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlType {
    Int64,
    Float64,
    /// An integer wide enough for an exact sum of int64s: `DECIMAL(38, 0)`.
    Wide,
    /// Text, for messages and string columns.
    Text,
    Bool,
    /// A point in time, as source time columns hold it.
    Timestamp,
    /// A calendar day (`DATE` in every dialect).
    Date,
}

/// The int64 operations featc fails on overflow that a flavor may compute checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckedOp {
    Add,
    Sub,
    Mul,
    Neg,
}

/// One dialect's differences (see the module docs).
pub trait Flavor: Sync {
    /// How identifiers are quoted.
    fn quote(&self) -> char {
        '"'
    }

    fn sql_type(&self, t: SqlType) -> DataType {
        match t {
            SqlType::Int64 => DataType::BigInt(None),
            SqlType::Float64 => DataType::Double(ExactNumberInfo::None),
            SqlType::Wide => DataType::Decimal(ExactNumberInfo::PrecisionAndScale(38, 0)),
            SqlType::Text => DataType::Varchar(None),
            SqlType::Bool => DataType::Boolean,
            SqlType::Timestamp => DataType::Timestamp(None, TimezoneInfo::None),
            SqlType::Date => DataType::Date,
        }
    }

    /// A timestamp as whole microseconds since the epoch (an int64).
    fn epoch_us(&self, ts: Expr) -> Expr;

    /// True when `x` (a float64) is a NaN.
    fn is_nan(&self, x: Expr) -> Expr {
        call("isnan", vec![x])
    }

    /// A null of type `t`, for a column a source of a union lacks (`union`): typed,
    /// so the union's column is typed alike whichever source comes first.
    fn null_of(&self, t: SqlType) -> Expr {
        cast(ast::null(), self.sql_type(t))
    }

    /// A string literal.
    fn string(&self, s: &str) -> Expr {
        ast::string(s)
    }

    /// An operand of an ordering comparison (`<`, `least`): strings compare by their
    /// bytes (semantics.md), which a dialect with collations must be told.
    fn collate(&self, x: Expr, _ty: ir::DataType) -> Expr {
        x
    }

    /// A value as `min`, `max`, first/last tie-breaks and percentiles order it
    /// (semantics.md, "Ordering": every NaN one value above +inf, strings by bytes):
    /// the dialect's own ordering unless it needs help.
    fn order_key(&self, x: Expr, ty: ir::DataType) -> Expr {
        self.collate(x, ty)
    }

    /// An entity key column of type `ty` as featc keys entities (a float64 key is its
    /// canonical bits: every NaN one key, `-0.0` and `+0.0` two): the dialect's own
    /// equality and grouping unless it needs help.
    fn key_operand(&self, x: Expr, _ty: ir::DataType) -> Expr {
        x
    }

    /// An operand of `=`, `<>` or `in` of type `ty` as featc compares it
    /// (semantics.md: `-0.0 = +0.0`, every NaN one value): the dialect's own
    /// equality unless it needs help.
    fn eq_operand(&self, x: Expr, _ty: ir::DataType) -> Expr {
        x
    }

    /// `VAR_POP(x)` (`stddev`: `STDDEV_POP(x)`) of a float64 column: NaN where the
    /// rows hold a NaN or an infinity (semantics.md: IEEE arithmetic on the values),
    /// the dialect's own function unless it needs help.
    fn var_pop(&self, stddev: bool, x: Expr) -> Expr {
        call(if stddev { "STDDEV_POP" } else { "VAR_POP" }, vec![x])
    }

    /// `MIN(x)` or `MAX(x)` of a column of type `ty`.
    fn min_max(&self, max: bool, x: Expr, _ty: ir::DataType) -> Expr {
        call(if max { "MAX" } else { "MIN" }, vec![x])
    }

    /// `x` (an exact integer of type `Wide`) as an int64, failing the query when it
    /// does not fit (`what` names the value in the error).
    fn checked_int64(&self, x: Expr, _what: &str) -> Expr {
        cast(x, self.sql_type(SqlType::Int64))
    }

    /// A condition that is true, or fails the query with `message` where `bad` holds
    /// (`message` is a string expression that is not a constant, so no planner
    /// evaluates it early): by default a failing cast of the message to an integer.
    fn fail_if(&self, bad: Expr, message: Expr) -> Expr {
        ast::case(
            vec![(
                bad,
                ast::eq(cast(message, self.sql_type(SqlType::Int64)), ast::int(0)),
            )],
            Some(ast::boolean(true)),
        )
    }

    /// Canonical values for `count_distinct`'s SQL equality (`-0.0` is `+0.0`, every
    /// NaN one value), where the dialect's `DISTINCT` compares bits.
    fn distinct_key(&self, x: Expr, ty: ir::DataType) -> Expr {
        match ty {
            ir::DataType::Float64 => ast::case(
                vec![
                    (self.is_nan(x.clone()), float(self, f64::NAN)),
                    (ast::eq(x.clone(), float(self, 0.0)), float(self, 0.0)),
                ],
                Some(x),
            ),
            _ => x,
        }
    }

    /// The row function `func` of checked arguments `args` (with their types), giving
    /// `ty`; `None` when the dialect has no exact equivalent.
    fn function(
        &self,
        func: Function,
        args: Vec<(Expr, ir::DataType)>,
        ty: ir::DataType,
    ) -> Option<Expr> {
        super::functions::portable(self, func, args, ty)
    }

    /// int64 `op` of `args` failing on overflow as featc does (semantics.md), or
    /// `None` when the dialect cannot (the feature is refused): no SQL dialect can;
    /// Arroyo calls a generated UDF.
    fn checked_int(&self, _op: CheckedOp, _args: Vec<Expr>) -> Option<Expr> {
        None
    }

    /// Whether the dialect folds a sliding frame's float64 `SUM`/`AVG` without
    /// subtracting the values that leave it (a fresh fold or a tree of partial sums),
    /// so a frame's float sum keeps the bound docs/scale-out.md states for any order
    /// of additions: Spark folds the frame afresh, DuckDB sums a segment tree,
    /// PostgreSQL has no inverse for float8 sums (it refolds).
    fn sliding_sum_folds(&self) -> bool {
        true
    }

    /// A `RANGE` frame's offset of `us` microseconds, against a bigint order key.
    fn frame_offset(&self, us: i64) -> Expr {
        ast::int(us)
    }

    /// Whether the dialect has float64 `%` (C's `fmod`).
    fn has_float_mod(&self) -> bool {
        true
    }
}
