//! The row functions (`ir::Function`) for the oracle, written from semantics.md
//! ("Functions") on one row's values, sharing no code with the executors'
//! (`expr::functions`). The arguments are already evaluated: every argument of a
//! function is, like both sides of a binary operator.

use std::cmp::Ordering;

use super::value::{total_cmp, RValue};
use super::EvalError;
use crate::ir::Function;

/// `func` applied to one row's argument values. Errors are data (an int64
/// `abs` overflow; argument kinds a checked project never produces).
pub fn call(func: Function, args: Vec<RValue>) -> Result<RValue, EvalError> {
    match func {
        Function::Least => return Ok(extreme(args, Ordering::Less)),
        Function::Greatest => return Ok(extreme(args, Ordering::Greater)),
        Function::Nullif => return nullif(args),
        _ => {}
    }
    if args.iter().any(RValue::is_null) {
        return Ok(RValue::Null);
    }
    if matches!(args.first(), Some(RValue::List(_))) {
        return super::lists::call(func, &args);
    }
    let arg = |i: usize| {
        args.get(i).ok_or(EvalError::MissingArgument {
            function: func.name(),
            index: i,
        })
    };
    let float = |i: usize| -> Result<f64, EvalError> {
        match arg(i)? {
            RValue::Float(x) => Ok(*x),
            RValue::Int(x) => Ok(*x as f64),
            v => Err(EvalError::OperandKind {
                what: func.name(),
                found: v.kind_name(),
            }),
        }
    };
    let text = |i: usize| -> Result<&str, EvalError> {
        match arg(i)? {
            RValue::Str(s) => Ok(s.as_str()),
            v => Err(EvalError::OperandKind {
                what: func.name(),
                found: v.kind_name(),
            }),
        }
    };
    let int = |i: usize| -> Result<i64, EvalError> {
        match arg(i)? {
            RValue::Int(x) => Ok(*x),
            v => Err(EvalError::OperandKind {
                what: func.name(),
                found: v.kind_name(),
            }),
        }
    };
    Ok(match func {
        Function::Abs => match arg(0)? {
            RValue::Int(x) if *x == i64::MIN => {
                return Err(EvalError::AbsOverflow(*x));
            }
            RValue::Int(x) => RValue::Int(if *x < 0 { -*x } else { *x }),
            RValue::Dec(x, s) => super::decimal::abs(x, *s),
            _ => RValue::Float(f64::from_bits(float(0)?.to_bits() & !(1u64 << 63))),
        },
        Function::Sqrt => {
            let x = float(0)?;
            if x < 0.0 {
                RValue::Null
            } else {
                RValue::Float(x.sqrt())
            }
        }
        Function::Ln => {
            let x = float(0)?;
            if x > 0.0 || x.is_nan() {
                RValue::Float(x.ln())
            } else {
                RValue::Null
            }
        }
        Function::Exp => RValue::Float(float(0)?.exp()),
        Function::Pow => RValue::Float(float(0)?.powf(float(1)?)),
        Function::Floor | Function::Ceil | Function::Round => match arg(0)? {
            RValue::Int(x) => RValue::Int(*x),
            _ => {
                let x = float(0)?;
                RValue::Float(match func {
                    Function::Floor => x.floor(),
                    Function::Ceil => x.ceil(),
                    _ => x.round(),
                })
            }
        },
        Function::Lower => RValue::Str(text(0)?.to_lowercase()),
        Function::Upper => RValue::Str(text(0)?.to_uppercase()),
        Function::Length => RValue::Int(text(0)?.chars().count() as i64),
        Function::StartsWith => RValue::Bool(text(0)?.starts_with(text(1)?)),
        Function::EndsWith => RValue::Bool(text(0)?.ends_with(text(1)?)),
        Function::Contains => RValue::Bool(text(0)?.contains(text(1)?)),
        Function::Concat => {
            let mut out = String::new();
            for i in 0..args.len() {
                out.push_str(text(i)?);
            }
            RValue::Str(out)
        }
        Function::Substr => {
            let len = match args.len() {
                3 => Some(int(2)?),
                _ => None,
            };
            substr(text(0)?, int(1)?, len)
        }
        Function::Haversine => RValue::Float(haversine(float(0)?, float(1)?, float(2)?, float(3)?)),
        Function::Least | Function::Greatest | Function::Nullif => RValue::Null,
        Function::Size
        | Function::ElementAt
        | Function::Dot
        | Function::Cosine
        | Function::L2Distance => super::lists::call(func, &args)?,
    })
}

/// `least` (`Less`) or `greatest`: the first non-null value that no other beats in
/// the total order; null when all are null.
fn extreme(args: Vec<RValue>, wins: Ordering) -> RValue {
    let mut best = RValue::Null;
    for v in args {
        if v.is_null() {
            continue;
        }
        if best.is_null() || total_cmp(&v, &best) == wins {
            best = v;
        }
    }
    best
}

/// `nullif(a, b)`: null when a is, or when b is not null and a = b by SQL's
/// equality (the zeros are equal, NaN equals NaN); otherwise a.
fn nullif(args: Vec<RValue>) -> Result<RValue, EvalError> {
    let mut args = args.into_iter();
    let (Some(a), Some(b)) = (args.next(), args.next()) else {
        return Err(EvalError::NullifArity);
    };
    let equal = match (&a, &b) {
        (RValue::Null, _) | (_, RValue::Null) => false,
        (RValue::Float(x), RValue::Float(y)) => x == y || (x.is_nan() && y.is_nan()),
        (RValue::Int(x), RValue::Int(y)) => x == y,
        (RValue::Str(x), RValue::Str(y)) => x == y,
        (RValue::Bool(x), RValue::Bool(y)) => x == y,
        (RValue::Ts(x), RValue::Ts(y)) => x == y,
        (RValue::Date(x), RValue::Date(y)) => x == y,
        (RValue::Dec(..), RValue::Dec(..)) => {
            super::decimal::compare(&a, &b) == Some(Ordering::Equal)
        }
        _ => {
            return Err(EvalError::NullifKinds {
                left: a.kind_name(),
                right: b.kind_name(),
            })
        }
    };
    Ok(if equal { RValue::Null } else { a })
}

/// The characters of `s` at 1-based positions `p` with `start <= p < start + len`
/// (`start <= p` without a length); null for a negative length.
fn substr(s: &str, start: i64, len: Option<i64>) -> RValue {
    if len.is_some_and(|l| l < 0) {
        return RValue::Null;
    }
    let start = i128::from(start);
    let end = len.map(|l| start + i128::from(l));
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        let p = i as i128 + 1;
        if p >= start && end.is_none_or(|e| p < e) {
            out.push(c);
        }
    }
    RValue::Str(out)
}

/// The great-circle distance in km, in semantics.md's operation order.
fn haversine(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let d_phi = (lat2 - lat1).to_radians();
    let d_lambda = (lon2 - lon1).to_radians();
    let sin_half_phi = (d_phi / 2.0).sin();
    let sin_half_lambda = (d_lambda / 2.0).sin();
    let cosines = lat1.to_radians().cos() * lat2.to_radians().cos();
    let a = sin_half_phi * sin_half_phi + cosines * (sin_half_lambda * sin_half_lambda);
    let root = a.sqrt();
    let clamped = if root > 1.0 { 1.0 } else { root };
    6371.0 * 2.0 * clamped.asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(x: f64) -> RValue {
        RValue::Float(x)
    }

    fn bits(v: RValue) -> Option<u64> {
        match v {
            RValue::Float(x) => Some(x.to_bits()),
            _ => None,
        }
    }

    fn s(x: &str) -> RValue {
        RValue::Str(x.into())
    }

    #[test]
    fn abs_overflow_is_an_error_and_float_abs_clears_the_sign() {
        assert!(call(Function::Abs, vec![RValue::Int(i64::MIN)]).is_err());
        assert_eq!(
            call(Function::Abs, vec![RValue::Int(-5)]),
            Ok(RValue::Int(5))
        );
        assert_eq!(
            bits(call(Function::Abs, vec![f(-0.0)]).expect("abs")),
            Some(0.0f64.to_bits())
        );
        assert_eq!(call(Function::Abs, vec![RValue::Null]), Ok(RValue::Null));
    }

    #[test]
    fn domains_of_sqrt_and_ln() {
        assert_eq!(call(Function::Sqrt, vec![f(-1.0)]), Ok(RValue::Null));
        assert_eq!(
            bits(call(Function::Sqrt, vec![f(-0.0)]).expect("sqrt")),
            Some((-0.0f64).to_bits())
        );
        assert_eq!(call(Function::Sqrt, vec![RValue::Int(9)]), Ok(f(3.0)));
        assert_eq!(call(Function::Ln, vec![f(-0.0)]), Ok(RValue::Null));
        assert_eq!(call(Function::Ln, vec![f(0.0)]), Ok(RValue::Null));
        assert!(
            matches!(call(Function::Ln, vec![f(f64::NAN)]), Ok(RValue::Float(x)) if x.is_nan())
        );
        assert_eq!(call(Function::Round, vec![f(-2.5)]), Ok(f(-3.0)));
        assert_eq!(
            call(Function::Floor, vec![RValue::Int(-7)]),
            Ok(RValue::Int(-7))
        );
    }

    #[test]
    fn least_greatest_ignore_nulls_and_use_the_total_order() {
        let least = |a| call(Function::Least, a).expect("least");
        let greatest = |a| call(Function::Greatest, a).expect("greatest");
        assert_eq!(
            bits(least(vec![f(0.0), f(-0.0)])),
            Some((-0.0f64).to_bits())
        );
        assert_eq!(
            bits(greatest(vec![f(-0.0), f(0.0)])),
            Some(0.0f64.to_bits())
        );
        assert!(
            matches!(greatest(vec![f(f64::INFINITY), f(f64::NAN)]), RValue::Float(x) if x.is_nan())
        );
        assert_eq!(
            least(vec![f(f64::NAN), RValue::Null, f(f64::INFINITY)]),
            f(f64::INFINITY)
        );
        assert_eq!(least(vec![RValue::Null, RValue::Null]), RValue::Null);
        assert_eq!(
            greatest(vec![RValue::Null, RValue::Int(-1)]),
            RValue::Int(-1)
        );
        // Tied NaNs: the first.
        assert_eq!(
            bits(least(vec![f(-f64::NAN), f(f64::NAN)])),
            Some((-f64::NAN).to_bits())
        );
        assert_eq!(least(vec![s("b"), s("B"), s("ab")]), s("B"));
        assert_eq!(
            greatest(vec![RValue::Bool(false), RValue::Bool(true)]),
            RValue::Bool(true)
        );
    }

    #[test]
    fn nullif_with_signed_zeros_nan_and_nulls() {
        let nullif = |a, b| call(Function::Nullif, vec![a, b]).expect("nullif");
        assert_eq!(nullif(f(0.0), f(-0.0)), RValue::Null);
        assert_eq!(nullif(f(f64::NAN), f(-f64::NAN)), RValue::Null);
        assert_eq!(nullif(f(1.0), f(2.0)), f(1.0));
        assert_eq!(nullif(f(1.0), RValue::Null), f(1.0));
        assert_eq!(nullif(RValue::Null, f(1.0)), RValue::Null);
        assert_eq!(nullif(s("a"), s("A")), s("a"));
    }

    #[test]
    fn strings() {
        let substr3 = |x: &str, a: i64, b: i64| {
            call(Function::Substr, vec![s(x), RValue::Int(a), RValue::Int(b)]).expect("substr")
        };
        assert_eq!(substr3("héllo", 2, 2), s("él"));
        assert_eq!(substr3("héllo", 0, 2), s("h"));
        assert_eq!(substr3("héllo", -3, 10), s("héllo"));
        assert_eq!(substr3("héllo", 9, 1), s(""));
        assert_eq!(substr3("héllo", 1, -1), RValue::Null);
        assert_eq!(substr3("héllo", i64::MAX, i64::MAX), s(""));
        assert_eq!(
            call(Function::Substr, vec![s("héllo"), RValue::Int(4)]),
            Ok(s("lo"))
        );
        assert_eq!(call(Function::Upper, vec![s("straße")]), Ok(s("STRASSE")));
        assert_eq!(call(Function::Lower, vec![s("ÉCOLE")]), Ok(s("école")));
        assert_eq!(call(Function::Length, vec![s("école")]), Ok(RValue::Int(5)));
        assert_eq!(
            call(Function::Concat, vec![s("a"), RValue::Null]),
            Ok(RValue::Null)
        );
        assert_eq!(
            call(Function::Contains, vec![s("abc"), s("")]),
            Ok(RValue::Bool(true))
        );
    }

    #[test]
    fn haversine_known_distances() {
        let d = |a: f64, b: f64, c: f64, e: f64| match call(
            Function::Haversine,
            vec![f(a), f(b), f(c), f(e)],
        ) {
            Ok(RValue::Float(x)) => x,
            other => panic!("{other:?}"),
        };
        let paris_london = d(48.8530, 2.3499, 51.5080, -0.1281);
        assert!((paris_london - 343.5).abs() < 0.5, "{paris_london}");
        // New York (JFK) to Los Angeles (LAX): about 3974 km on this sphere.
        let jfk_lax = d(40.6413, -73.7781, 33.9416, -118.4085);
        assert!((jfk_lax - 3974.0).abs() < 5.0, "{jfk_lax}");
        assert_eq!(d(1.0, 2.0, 1.0, 2.0), 0.0);
        assert!(d(f64::NAN, 0.0, 0.0, 0.0).is_nan());
    }
}
