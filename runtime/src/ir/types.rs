//! The value types of the language: `DataType`, its `Scalar` items and `ListType`.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// The value types of the language: the scalar types of columns and expressions,
/// and the list types that only some aggregations produce (`last_k`, `first_k`,
/// `top_k`). A list is never a source column, an entity key or an operand: no
/// expression reads one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataType {
    Int64,
    Float64,
    String,
    Bool,
    /// Microseconds since the Unix epoch, UTC.
    Timestamp,
    /// A calendar day: days since 1970-01-01 (Arrow `Date32`), 0001-01-01 to 9999-12-31.
    Date,
    /// An exact decimal: an i128 unscaled value `u` with `|u| < 10^precision`, worth
    /// `u * 10^-scale` (Arrow `Decimal128(precision, scale)`); `1 <= precision <= 38`,
    /// `scale <= precision` (`check` refuses anything else, E0056).
    Decimal {
        precision: u8,
        scale: u8,
    },
    /// A list-valued aggregation's result.
    List(ListType),
}

/// The scalar types, as the items of a list type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scalar {
    Int64,
    Float64,
    String,
    Bool,
    Timestamp,
    Date,
    Decimal { precision: u8, scale: u8 },
}

impl Scalar {
    /// Every scalar type without parameters, in `DataType`'s order (decimals have a
    /// type per precision and scale: `Scalar::Decimal` is not listed).
    pub const ALL: [Scalar; 6] = [
        Scalar::Int64,
        Scalar::Float64,
        Scalar::String,
        Scalar::Bool,
        Scalar::Timestamp,
        Scalar::Date,
    ];

    /// The same type as a `DataType`.
    pub fn data_type(self) -> DataType {
        match self {
            Scalar::Int64 => DataType::Int64,
            Scalar::Float64 => DataType::Float64,
            Scalar::String => DataType::String,
            Scalar::Bool => DataType::Bool,
            Scalar::Timestamp => DataType::Timestamp,
            Scalar::Date => DataType::Date,
            Scalar::Decimal { precision, scale } => DataType::Decimal { precision, scale },
        }
    }

    pub fn name(self) -> Cow<'static, str> {
        self.data_type().name()
    }
}

/// A list type: `list<T>` (`last_k`, `first_k`), or with `counted`, a list of
/// `(value, count)` entries, `list<struct<value: T, count: int64>>` (`top_k`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ListType {
    pub item: Scalar,
    pub counted: bool,
}

impl ListType {
    /// The name printers and messages use (`list<int64>`,
    /// `list<struct<value: string, count: int64>>`).
    pub fn name(self) -> Cow<'static, str> {
        use Scalar::*;
        Cow::Borrowed(match (self.item, self.counted) {
            (Decimal { .. }, false) => return Cow::Owned(format!("list<{}>", self.item.name())),
            (Decimal { .. }, true) => {
                return Cow::Owned(format!(
                    "list<struct<value: {}, count: int64>>",
                    self.item.name()
                ))
            }
            (Int64, false) => "list<int64>",
            (Float64, false) => "list<float64>",
            (String, false) => "list<string>",
            (Bool, false) => "list<bool>",
            (Timestamp, false) => "list<timestamp>",
            (Date, false) => "list<date>",
            (Int64, true) => "list<struct<value: int64, count: int64>>",
            (Float64, true) => "list<struct<value: float64, count: int64>>",
            (String, true) => "list<struct<value: string, count: int64>>",
            (Bool, true) => "list<struct<value: bool, count: int64>>",
            (Timestamp, true) => "list<struct<value: timestamp, count: int64>>",
            (Date, true) => "list<struct<value: date, count: int64>>",
        })
    }
}

impl DataType {
    /// The name used in `.feat` files and in printers (`decimal(12, 2)`: one space
    /// after the comma, everywhere).
    pub fn name(self) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            DataType::Int64 => "int64",
            DataType::Float64 => "float64",
            DataType::String => "string",
            DataType::Bool => "bool",
            DataType::Timestamp => "timestamp",
            DataType::Date => "date",
            DataType::Decimal { precision, scale } => {
                return Cow::Owned(format!("decimal({precision}, {scale})"))
            }
            DataType::List(l) => return l.name(),
        })
    }

    /// `name` where a static name will do (error values that must stay small): a
    /// decimal type is `decimal` there, whatever its precision and scale.
    pub fn kind_name(self) -> &'static str {
        match self.name() {
            Cow::Borrowed(name) => name,
            Cow::Owned(_) if self.list().is_some() => "list<decimal>",
            Cow::Owned(_) => "decimal",
        }
    }

    /// int64 or float64 (the types that mix, an int64 converted; decimals are exact
    /// numbers of their own, see `is_decimal`).
    pub fn is_numeric(self) -> bool {
        matches!(self, DataType::Int64 | DataType::Float64)
    }

    pub fn is_decimal(self) -> bool {
        matches!(self, DataType::Decimal { .. })
    }

    /// A decimal's precision and scale; an int64's as the decimal it acts as in
    /// decimal arithmetic and comparisons, `decimal(19, 0)`; `None` otherwise.
    pub fn decimal_parts(self) -> Option<(u8, u8)> {
        match self {
            DataType::Decimal { precision, scale } => Some((precision, scale)),
            DataType::Int64 => Some((19, 0)),
            _ => None,
        }
    }

    /// The type as a scalar; `None` for a list type.
    pub fn scalar(self) -> Option<Scalar> {
        Some(match self {
            DataType::Int64 => Scalar::Int64,
            DataType::Float64 => Scalar::Float64,
            DataType::String => Scalar::String,
            DataType::Bool => Scalar::Bool,
            DataType::Timestamp => Scalar::Timestamp,
            DataType::Date => Scalar::Date,
            DataType::Decimal { precision, scale } => Scalar::Decimal { precision, scale },
            DataType::List(_) => return None,
        })
    }

    /// The list type, for a list type.
    pub fn list(self) -> Option<ListType> {
        match self {
            DataType::List(l) => Some(l),
            _ => None,
        }
    }
}

impl std::fmt::Display for DataType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

/// The most digits a decimal has (Arrow `Decimal128`'s).
pub const MAX_DECIMAL_PRECISION: u8 = 38;

impl From<Scalar> for DataType {
    fn from(s: Scalar) -> DataType {
        s.data_type()
    }
}
