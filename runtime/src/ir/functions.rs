//! The row function catalogue: `Function` (names, arities, result types) and
//! `Arity`.

use serde::{Deserialize, Serialize};

use super::DataType;

/// The row functions (semantics.md, "Functions"). A function is null when any
/// argument is null, except where said. Argument types are the checked ones, after
/// the casts `check` inserts: an int64 where a function computes on float64 is cast
/// (`sqrt(n)` is `sqrt(float64(n))`), and the arguments of `least`, `greatest` and
/// `nullif` are unified like `coalesce`'s (int64 with float64 gives float64).
///
/// | function | arguments | result | null also when |
/// |---|---|---|---|
/// | `abs(x)` | int64, float64 or decimal | type of x (int64 `abs(i64::MIN)` is an overflow error) | |
/// | `sqrt(x)`, `ln(x)`, `exp(x)` | float64 | float64 | `sqrt`: x < 0; `ln`: x <= 0 |
/// | `pow(x, y)` | float64, float64 | float64 | |
/// | `floor(x)`, `ceil(x)`, `round(x)` | int64 or float64 | type of x (ints unchanged) | |
/// | `least(a, b, ...)`, `greatest(a, b, ...)` | two or more of one type | that type | only when every argument is null |
/// | `nullif(a, b)` | two of one type | that type | a = b (a null b gives a) |
/// | `lower(s)`, `upper(s)` | string | string | |
/// | `length(s)` | string | int64 | |
/// | `starts_with(s, p)`, `ends_with(s, p)`, `contains(s, p)` | string, string | bool | |
/// | `concat(a, ...)` | one or more strings | string | |
/// | `substr(s, start[, len])` | string, int64[, int64] | string | len < 0 |
/// | `haversine(lat1, lon1, lat2, lon2)` | four float64 | float64 | |
/// | `size(xs)` | a list | int64 | |
/// | `element_at(xs, i)` (also `xs[i]`) | a list, int64 | the item type | i out of range (1-based, negative from the end), a null item |
/// | `contains(xs, v)` | a list, its item type | bool | not found and a null item present |
/// | `dot(a, b)`, `l2_distance(a, b)`, `cosine(a, b)` | two numeric lists | float64 | a null item, lengths differ; `cosine`: a zero norm |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Function {
    Abs,
    Sqrt,
    Ln,
    Exp,
    Pow,
    Floor,
    Ceil,
    Round,
    Least,
    Greatest,
    Nullif,
    Lower,
    Upper,
    Length,
    StartsWith,
    EndsWith,
    Contains,
    Concat,
    Substr,
    Haversine,
    Size,
    ElementAt,
    Dot,
    Cosine,
    L2Distance,
}

/// How many arguments a function takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arity {
    Exactly(usize),
    AtLeast(usize),
    /// From the first to the second, inclusive.
    Between(usize, usize),
}

impl Arity {
    pub fn accepts(self, n: usize) -> bool {
        match self {
            Arity::Exactly(k) => n == k,
            Arity::AtLeast(k) => n >= k,
            Arity::Between(lo, hi) => (lo..=hi).contains(&n),
        }
    }

    /// As a diagnostic says it: `1`, `at least 2`, `2 or 3`.
    pub fn describe(self) -> &'static str {
        match self {
            Arity::Exactly(1) => "1",
            Arity::Exactly(2) => "2",
            Arity::Exactly(3) => "3",
            Arity::Exactly(4) => "4",
            Arity::AtLeast(1) => "at least 1",
            Arity::AtLeast(2) => "at least 2",
            Arity::Between(2, 3) => "2 or 3",
            // No function has another arity (the tests of `Function::ALL` check it).
            _ => "another number of",
        }
    }
}

impl Function {
    /// Every function, in the order the docs list them.
    pub const ALL: [Function; 25] = [
        Function::Abs,
        Function::Sqrt,
        Function::Ln,
        Function::Exp,
        Function::Pow,
        Function::Floor,
        Function::Ceil,
        Function::Round,
        Function::Least,
        Function::Greatest,
        Function::Nullif,
        Function::Lower,
        Function::Upper,
        Function::Length,
        Function::StartsWith,
        Function::EndsWith,
        Function::Contains,
        Function::Concat,
        Function::Substr,
        Function::Haversine,
        Function::Size,
        Function::ElementAt,
        Function::Dot,
        Function::Cosine,
        Function::L2Distance,
    ];

    /// The name as written in `.feat` files.
    pub fn name(self) -> &'static str {
        match self {
            Function::Abs => "abs",
            Function::Sqrt => "sqrt",
            Function::Ln => "ln",
            Function::Exp => "exp",
            Function::Pow => "pow",
            Function::Floor => "floor",
            Function::Ceil => "ceil",
            Function::Round => "round",
            Function::Least => "least",
            Function::Greatest => "greatest",
            Function::Nullif => "nullif",
            Function::Lower => "lower",
            Function::Upper => "upper",
            Function::Length => "length",
            Function::StartsWith => "starts_with",
            Function::EndsWith => "ends_with",
            Function::Contains => "contains",
            Function::Concat => "concat",
            Function::Substr => "substr",
            Function::Haversine => "haversine",
            Function::Size => "size",
            Function::ElementAt => "element_at",
            Function::Dot => "dot",
            Function::Cosine => "cosine",
            Function::L2Distance => "l2_distance",
        }
    }

    /// The function a `.feat` name calls.
    pub fn by_name(name: &str) -> Option<Function> {
        Function::ALL.into_iter().find(|f| f.name() == name)
    }

    pub fn arity(self) -> Arity {
        use Function::*;
        match self {
            Abs | Sqrt | Ln | Exp | Floor | Ceil | Round | Lower | Upper | Length | Size => {
                Arity::Exactly(1)
            }
            Pow | Nullif | StartsWith | EndsWith | Contains | ElementAt | Dot | Cosine
            | L2Distance => Arity::Exactly(2),
            Least | Greatest => Arity::AtLeast(2),
            Concat => Arity::AtLeast(1),
            Substr => Arity::Between(2, 3),
            Haversine => Arity::Exactly(4),
        }
    }

    /// The result type for checked arguments of types `args` (see the table above),
    /// or `None` when the function does not take them.
    pub fn result_type(self, args: &[DataType]) -> Option<DataType> {
        use DataType::*;
        use Function::*;
        if !self.arity().accepts(args.len()) {
            return None;
        }
        let all = |t: DataType| args.iter().all(|a| *a == t);
        match self {
            Abs => args
                .first()
                .copied()
                .filter(|t| t.is_numeric() || t.is_decimal()),
            Floor | Ceil | Round => args.first().copied().filter(|t| t.is_numeric()),
            Sqrt | Ln | Exp | Pow | Haversine => all(Float64).then_some(Float64),
            Least | Greatest | Nullif => args.first().copied().filter(|t| all(*t)),
            Lower | Upper | Concat => all(String).then_some(String),
            Length => all(String).then_some(Int64),
            StartsWith | EndsWith => all(String).then_some(Bool),
            Contains => match args {
                [List(l), v] => (!l.counted && *v == l.item.data_type()).then_some(Bool),
                _ => all(String).then_some(Bool),
            },
            Size => match args {
                [List(l)] if !l.counted => Some(Int64),
                _ => None,
            },
            ElementAt => match args {
                [List(l), Int64] if !l.counted => Some(l.item.data_type()),
                _ => None,
            },
            Dot | Cosine | L2Distance => args.iter().all(|a| numeric_list(*a)).then_some(Float64),
            Substr => {
                let ints = args.iter().skip(1).all(|a| *a == Int64);
                (args.first() == Some(&String) && ints).then_some(String)
            }
        }
    }

    /// Whether the function can be null when no argument is: `sqrt`, `ln` and
    /// `nullif` (their domains), `substr` with a length (a negative one), and the
    /// list functions but `size` and `contains` (whose list form the checker
    /// makes nullable: its string form never is null on values).
    pub fn null_on_values(self, args: usize) -> bool {
        match self {
            Function::Sqrt | Function::Ln | Function::Nullif => true,
            // A list's items may be null; an index may be out of range; lengths may
            // differ; a norm may be zero.
            Function::ElementAt | Function::Dot | Function::Cosine | Function::L2Distance => true,
            Function::Substr => args == 3,
            _ => false,
        }
    }
}

/// A list of int64 or float64 items (what `dot`, `cosine` and `l2_distance` take).
pub fn numeric_list(t: DataType) -> bool {
    matches!(
        t,
        DataType::List(l) if !l.counted && matches!(l.item, super::Scalar::Int64 | super::Scalar::Float64)
    )
}
