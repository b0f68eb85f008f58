//! The aggregation catalogue: `AggKind` (names, parameters, result types, empty
//! values) and `Quantile`, the exact `p` of `percentile`.

use serde::{Deserialize, Serialize};

use super::{DataType, ListType, Scalar};

/// The `p` of `percentile(x, p)`: a fraction in [0, 1], exact (the decimal literal as
/// a reduced fraction, so `0.95` is 19/20 and `0.50` is `0.5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Quantile {
    num: u64,
    den: u64,
}

impl Quantile {
    /// `median(x)`'s quantile.
    pub const MEDIAN: Quantile = Quantile { num: 1, den: 2 };

    /// `num / den` reduced; `None` unless `0 <= num <= den` and `den > 0`.
    pub fn new(num: u64, den: u64) -> Option<Quantile> {
        if den == 0 || num > den {
            return None;
        }
        let (mut a, mut b) = (num, den);
        while b != 0 {
            (a, b) = (b, a % b);
        }
        Some(Quantile {
            num: num / a,
            den: den / a,
        })
    }

    /// The quantile a decimal literal spells (`0.95`, `1`, `0`, `.5` is not one: the
    /// language writes `0.5`); `None` for anything else or a value outside [0, 1].
    pub fn from_decimal(text: &str) -> Option<Quantile> {
        let (int, frac) = text.split_once('.').unwrap_or((text, ""));
        if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if !frac.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 18 {
            return None;
        }
        let den = 10u64.checked_pow(frac.len() as u32)?;
        let int: u64 = int.parse().ok()?;
        let frac_value: u64 = if frac.is_empty() {
            0
        } else {
            frac.parse().ok()?
        };
        let num = int.checked_mul(den)?.checked_add(frac_value)?;
        Quantile::new(num, den)
    }

    pub fn num(self) -> u64 {
        self.num
    }

    pub fn den(self) -> u64 {
        self.den
    }

    /// The 1-based rank of the value `percentile` picks among `n > 0` sorted values:
    /// the nearest rank `ceil(p * n)`, at least 1 (so `p = 0` is the minimum).
    pub fn rank(self, n: u64) -> u64 {
        let scaled = u128::from(self.num) * u128::from(n);
        let rank = scaled.div_ceil(u128::from(self.den));
        u64::try_from(rank).unwrap_or(n).clamp(1, n.max(1))
    }
}

/// The decimal it was written as (`0.95`, `0.5`, `1`): a reduced fraction of a
/// decimal literal has a denominator `2^a 5^b`, so it has a finite decimal form.
impl std::fmt::Display for Quantile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.num == self.den {
            return write!(f, "1");
        }
        if self.num == 0 {
            return write!(f, "0");
        }
        let mut digits = String::new();
        let mut rest = u128::from(self.num);
        let den = u128::from(self.den);
        // At most 60 digits: a denominator from an 18-digit literal needs 18.
        while rest != 0 && digits.len() < 60 {
            rest *= 10;
            digits.push(char::from(b'0' + (rest / den) as u8));
            rest %= den;
        }
        write!(f, "0.{digits}")
    }
}

/// The aggregations of semantics.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AggKind {
    /// `count(*)`
    CountStar,
    /// `count(x)`: non-null values
    Count,
    /// `count_if(p)`: rows where p is true
    CountIf,
    CountDistinct,
    Sum,
    Avg,
    Min,
    Max,
    VarPop,
    StddevPop,
    First,
    Last,
    /// `percentile(x, p)` (`median(x)` is `p = 0.5`): the nearest-rank percentile.
    Percentile(Quantile),
    /// `last_k(x, k)`: the `k` latest non-null values, newest first.
    LastK(u32),
    /// `first_k(x, k)`: the `k` earliest non-null values, oldest first.
    FirstK(u32),
    /// `top_k(x, k)`: the `k` most frequent non-null values with their counts.
    TopK(u32),
}

impl AggKind {
    /// The function name as written in `.feat` files.
    pub fn name(self) -> &'static str {
        match self {
            AggKind::CountStar | AggKind::Count => "count",
            AggKind::CountIf => "count_if",
            AggKind::CountDistinct => "count_distinct",
            AggKind::Sum => "sum",
            AggKind::Avg => "avg",
            AggKind::Min => "min",
            AggKind::Max => "max",
            AggKind::VarPop => "var_pop",
            AggKind::StddevPop => "stddev_pop",
            AggKind::First => "first",
            AggKind::Last => "last",
            AggKind::Percentile(_) => "percentile",
            AggKind::LastK(_) => "last_k",
            AggKind::FirstK(_) => "first_k",
            AggKind::TopK(_) => "top_k",
        }
    }

    /// The largest `k` of `last_k`, `first_k` and `top_k` (a list feature's state and
    /// value stay bounded by it).
    pub const MAX_K: u32 = 1000;
    /// The largest `N` of a count window (`over N events`, `max N events`).
    pub const MAX_EVENTS: u32 = 100_000;

    /// The `k` of a list aggregation.
    pub fn list_length(self) -> Option<u32> {
        match self {
            AggKind::LastK(k) | AggKind::FirstK(k) | AggKind::TopK(k) => Some(k),
            _ => None,
        }
    }

    /// The arguments after the aggregated one, as written (`percentile(x, 0.95)`'s
    /// `0.95`); `None` for aggregations with one argument.
    pub fn parameters(self) -> Option<String> {
        match self {
            AggKind::Percentile(q) => Some(q.to_string()),
            AggKind::LastK(k) | AggKind::FirstK(k) | AggKind::TopK(k) => Some(k.to_string()),
            _ => None,
        }
    }

    /// The result type for an argument of type `arg` (`None` for `count(*)`), or
    /// `None` when the aggregation does not accept that type.
    pub fn result_type(self, arg: Option<DataType>) -> Option<DataType> {
        use DataType::*;
        // A list column (semantics.md "List columns and embeddings"): counted, kept
        // (`first`, `last`) or averaged element-wise; nothing else reads a list.
        if let Some(List(l)) = arg {
            return match self {
                _ if l.counted => None,
                AggKind::Count => Some(Int64),
                AggKind::First | AggKind::Last => Some(List(l)),
                AggKind::Avg if matches!(l.item, Scalar::Int64 | Scalar::Float64) => {
                    Some(List(ListType {
                        item: Scalar::Float64,
                        counted: false,
                    }))
                }
                _ => None,
            };
        }
        match (self, arg) {
            (AggKind::CountStar, None) => Some(Int64),
            (AggKind::Count | AggKind::CountDistinct, Some(_)) => Some(Int64),
            (AggKind::CountIf, Some(Bool)) => Some(Int64),
            (AggKind::Sum, Some(t @ (Int64 | Float64))) => Some(t),
            (AggKind::Sum, Some(t @ Decimal { .. })) => super::decimal::sum_result(t),
            (
                AggKind::Avg | AggKind::VarPop | AggKind::StddevPop,
                Some(Int64 | Float64 | Decimal { .. }),
            ) => Some(Float64),
            (AggKind::Min | AggKind::Max | AggKind::First | AggKind::Last, Some(t)) => Some(t),
            (AggKind::Percentile(_), Some(t @ (Int64 | Float64 | Decimal { .. }))) => Some(t),
            (AggKind::LastK(_) | AggKind::FirstK(_), Some(t)) => Some(List(ListType {
                item: t.scalar()?,
                counted: false,
            })),
            (AggKind::TopK(_), Some(t)) => Some(List(ListType {
                item: t.scalar()?,
                counted: true,
            })),
            _ => None,
        }
    }

    /// True when the value over an empty window is null (false: it is 0, or for a
    /// list aggregation the empty list).
    pub fn null_when_empty(self) -> bool {
        !matches!(
            self,
            AggKind::CountStar
                | AggKind::Count
                | AggKind::CountIf
                | AggKind::CountDistinct
                | AggKind::Sum
                | AggKind::LastK(_)
                | AggKind::FirstK(_)
                | AggKind::TopK(_)
        )
    }
}
