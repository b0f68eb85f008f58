//! The string row functions: `lower`, `upper`, `length`, `starts_with`, `ends_with`,
//! `contains`, `concat`, `substr` (semantics.md "Functions"). Characters are Unicode
//! scalar values (Rust `char`s); case mapping is Rust's full Unicode mapping
//! (`'ß'` upper-cases to `"SS"`); matching is on bytes, so an empty pattern matches.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, Int64Array, StringArray};
use datafusion::common::{exec_err, Result};

use super::{ints, rows, strs};
use crate::ir::Function;

/// The number of characters (Unicode scalar values) of `s`.
pub fn length(s: &str) -> i64 {
    i64::try_from(s.chars().count()).unwrap_or(i64::MAX)
}

/// `substr(s, start[, len])`: the characters at 1-based positions `p` with
/// `start <= p < start + len` (every `p >= start` without `len`) that `s` has, so a
/// start before 1 still counts its positions (`substr('abc', 0, 2)` is `'a'`) and a
/// start past the end gives `''`; null for a negative `len`.
pub fn substr(s: &str, start: i64, len: Option<i64>) -> Option<String> {
    let end = match len {
        Some(len) if len < 0 => return None,
        // i128: `start + len` cannot overflow.
        Some(len) => i128::from(start) + i128::from(len),
        None => i128::MAX,
    };
    let first = i128::from(start).max(1);
    if end <= first {
        return Some(String::new());
    }
    let skip = usize::try_from(first - 1).unwrap_or(usize::MAX);
    let take = usize::try_from(end - first).unwrap_or(usize::MAX);
    Some(s.chars().skip(skip).take(take).collect())
}

/// Evaluates a string function on its argument arrays.
pub(super) fn invoke(func: Function, args: &[ArrayRef]) -> Result<ArrayRef> {
    let out: ArrayRef = match func {
        Function::Lower | Function::Upper => {
            let a = strs(args, 0)?;
            let out: StringArray = a
                .iter()
                .map(|s| match func {
                    Function::Lower => s.map(str::to_lowercase),
                    _ => s.map(str::to_uppercase),
                })
                .collect();
            Arc::new(out)
        }
        Function::Length => {
            let out: Int64Array = strs(args, 0)?.iter().map(|s| s.map(length)).collect();
            Arc::new(out)
        }
        Function::StartsWith | Function::EndsWith | Function::Contains => {
            let (a, p) = (strs(args, 0)?, strs(args, 1)?);
            let out: BooleanArray = a
                .iter()
                .zip(p.iter())
                .map(|(s, p)| {
                    let (s, p) = (s?, p?);
                    Some(match func {
                        Function::StartsWith => s.starts_with(p),
                        Function::EndsWith => s.ends_with(p),
                        _ => s.contains(p),
                    })
                })
                .collect();
            Arc::new(out)
        }
        Function::Concat => {
            let parts = (0..args.len())
                .map(|i| strs(args, i))
                .collect::<Result<Vec<_>>>()?;
            let out: StringArray = (0..rows(args))
                .map(|r| {
                    let mut joined = String::new();
                    for part in &parts {
                        if part.is_null(r) {
                            return None;
                        }
                        joined.push_str(part.value(r));
                    }
                    Some(joined)
                })
                .collect();
            Arc::new(out)
        }
        Function::Substr => {
            let (s, start) = (strs(args, 0)?, ints(args, 1)?);
            let len = match args.len() {
                3 => Some(ints(args, 2)?),
                _ => None,
            };
            let out: StringArray = (0..rows(args))
                .map(|r| {
                    if s.is_null(r) || start.is_null(r) || len.is_some_and(|l| l.is_null(r)) {
                        return None;
                    }
                    substr(s.value(r), start.value(r), len.map(|l| l.value(r)))
                })
                .collect();
            Arc::new(out)
        }
        _ => return exec_err!("featc: `{}` is not a string function", func.name()),
    };
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substr_edges() {
        let s = "héllo";
        assert_eq!(substr(s, 1, Some(2)).as_deref(), Some("hé"));
        assert_eq!(substr(s, 2, None).as_deref(), Some("éllo"));
        assert_eq!(substr(s, 0, Some(2)).as_deref(), Some("h"));
        assert_eq!(substr(s, -1, Some(3)).as_deref(), Some("h"));
        assert_eq!(substr(s, -5, Some(3)).as_deref(), Some(""));
        assert_eq!(substr(s, -5, None).as_deref(), Some("héllo"));
        assert_eq!(substr(s, 5, Some(10)).as_deref(), Some("o"));
        assert_eq!(substr(s, 6, Some(1)).as_deref(), Some(""));
        assert_eq!(substr(s, 2, Some(0)).as_deref(), Some(""));
        assert_eq!(substr(s, 2, Some(-1)), None);
        assert_eq!(substr(s, i64::MAX, Some(i64::MAX)).as_deref(), Some(""));
        assert_eq!(substr(s, i64::MIN, Some(i64::MAX)).as_deref(), Some(""));
        assert_eq!(substr(s, i64::MIN, None).as_deref(), Some("héllo"));
        assert_eq!(substr("", 1, Some(1)).as_deref(), Some(""));
    }

    #[test]
    fn unicode_case_and_length() {
        assert_eq!(length("héllo"), 5);
        assert_eq!(length("👍🏽"), 2);
        assert_eq!(length(""), 0);
        let a: ArrayRef = Arc::new(StringArray::from(vec![Some("Straße"), None, Some("ΣΑΣ")]));
        let upper = invoke(Function::Upper, std::slice::from_ref(&a)).expect("upper");
        assert_eq!(
            upper.as_any().downcast_ref::<StringArray>(),
            Some(&StringArray::from(vec![Some("STRASSE"), None, Some("ΣΑΣ")]))
        );
        let lower = invoke(Function::Lower, &[a]).expect("lower");
        // Rust's mapping gives a final sigma at the end of a word.
        assert_eq!(
            lower.as_any().downcast_ref::<StringArray>(),
            Some(&StringArray::from(vec![Some("straße"), None, Some("σας")]))
        );
    }

    #[test]
    fn matching_and_concat_are_null_with_any_null_argument() {
        let s: ArrayRef = Arc::new(StringArray::from(vec![Some("abc"), Some("abc"), None]));
        let p: ArrayRef = Arc::new(StringArray::from(vec![Some(""), None, Some("a")]));
        for func in [Function::StartsWith, Function::EndsWith, Function::Contains] {
            let got = invoke(func, &[s.clone(), p.clone()]).expect("match");
            assert_eq!(
                got.as_any().downcast_ref::<BooleanArray>(),
                Some(&BooleanArray::from(vec![Some(true), None, None])),
                "{func:?}"
            );
        }
        let got = invoke(Function::Concat, &[s.clone(), p, s]).expect("concat");
        let got = got.as_any().downcast_ref::<StringArray>().expect("strings");
        assert_eq!(got.value(0), "abcabc");
        assert_eq!(got.null_count(), 2);
    }
}
