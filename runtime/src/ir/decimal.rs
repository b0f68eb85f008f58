//! The decimal type rules (docs/semantics.md, "Decimals"): the result types of `+`,
//! `-`, `*`, of a unification (`coalesce`, `case`, `in`, ...) and of `sum`. One place,
//! so the checker, both executors and the reference agree on every type.

use super::types::{DataType, MAX_DECIMAL_PRECISION};

/// `decimal(precision, scale)` when both are in range (`1 <= p <= 38`, `s <= p`).
pub fn decimal_type(precision: u64, scale: u64) -> Option<DataType> {
    let max = u64::from(MAX_DECIMAL_PRECISION);
    ((1..=max).contains(&precision) && scale <= precision).then_some(DataType::Decimal {
        precision: precision as u8,
        scale: scale as u8,
    })
}

/// The type of `a + b` and `a - b` (an int64 operand is `decimal(19, 0)`): scale
/// `max(s1, s2)`, precision `min(38, max(p1 - s1, p2 - s2) + max(s1, s2) + 1)`.
/// `None` unless both are decimals or int64s and one at least is a decimal.
pub fn sum_type(a: DataType, b: DataType) -> Option<DataType> {
    if !(a.is_decimal() || b.is_decimal()) {
        return None;
    }
    let ((p1, s1), (p2, s2)) = (a.decimal_parts()?, b.decimal_parts()?);
    let scale = s1.max(s2);
    let digits = (p1 - s1).max(p2 - s2) + scale + 1;
    Some(DataType::Decimal {
        precision: digits.min(MAX_DECIMAL_PRECISION),
        scale,
    })
}

/// The type of `a * b`: scale `s1 + s2`, precision `min(38, p1 + p2 + 1)`; `Err` with
/// the scale when it is above 38 (E0056), `Ok(None)` when the operands are not a
/// decimal with a decimal or int64.
pub fn product_type(a: DataType, b: DataType) -> Result<Option<DataType>, u16> {
    if !(a.is_decimal() || b.is_decimal()) {
        return Ok(None);
    }
    let (Some((p1, s1)), Some((p2, s2))) = (a.decimal_parts(), b.decimal_parts()) else {
        return Ok(None);
    };
    let scale = u16::from(s1) + u16::from(s2);
    if scale > u16::from(MAX_DECIMAL_PRECISION) {
        return Err(scale);
    }
    let precision = (u16::from(p1) + u16::from(p2) + 1).min(u16::from(MAX_DECIMAL_PRECISION));
    Ok(Some(DataType::Decimal {
        precision: precision.max(scale) as u8,
        scale: scale as u8,
    }))
}

/// The one type decimals (and int64s) of several types unify to: the largest scale
/// and the most integer digits, `decimal(max(p_i - s_i) + max(s_i), max(s_i))`; `Err`
/// with the digits it needs when that is more than 38 (E0056); `Ok(None)` when the
/// types are not decimals and int64s with at least one decimal.
pub fn unify_type(types: &[DataType]) -> Result<Option<DataType>, u16> {
    if !types.iter().any(|t| t.is_decimal()) {
        return Ok(None);
    }
    let mut integer = 0u16;
    let mut scale = 0u8;
    for t in types {
        let Some((p, s)) = t.decimal_parts() else {
            return Ok(None);
        };
        integer = integer.max(u16::from(p - s));
        scale = scale.max(s);
    }
    let digits = integer + u16::from(scale);
    if digits > u16::from(MAX_DECIMAL_PRECISION) {
        return Err(digits);
    }
    Ok(Some(DataType::Decimal {
        precision: (digits as u8).max(1),
        scale,
    }))
}

/// `sum(x)`'s type for a decimal `x`: `decimal(38, s)`.
pub fn sum_result(input: DataType) -> Option<DataType> {
    match input {
        DataType::Decimal { scale, .. } => Some(DataType::Decimal {
            precision: MAX_DECIMAL_PRECISION,
            scale,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(precision: u8, scale: u8) -> DataType {
        DataType::Decimal { precision, scale }
    }

    #[test]
    fn result_types_follow_the_semantics_page() {
        assert_eq!(sum_type(d(10, 2), d(5, 4)), Some(d(13, 4)));
        assert_eq!(sum_type(d(10, 2), DataType::Int64), Some(d(22, 2)));
        assert_eq!(sum_type(d(38, 10), d(38, 0)), Some(d(38, 10)));
        assert_eq!(sum_type(DataType::Int64, DataType::Int64), None);
        assert_eq!(product_type(d(10, 2), d(5, 1)), Ok(Some(d(16, 3))));
        assert_eq!(product_type(d(38, 20), d(38, 19)), Err(39));
        assert_eq!(product_type(d(38, 19), d(38, 19)), Ok(Some(d(38, 38))));
        assert_eq!(unify_type(&[d(10, 2), d(5, 4)]), Ok(Some(d(12, 4))));
        assert_eq!(unify_type(&[d(3, 1), DataType::Int64]), Ok(Some(d(20, 1))));
        assert_eq!(unify_type(&[d(38, 0), d(10, 5)]), Err(43));
        assert_eq!(unify_type(&[DataType::Float64, d(10, 5)]), Ok(None));
        assert_eq!(decimal_type(39, 2), None);
        assert_eq!(decimal_type(0, 0), None);
        assert_eq!(decimal_type(5, 6), None);
        assert_eq!(decimal_type(38, 38), Some(d(38, 38)));
    }
}
