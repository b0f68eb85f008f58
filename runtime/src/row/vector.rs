//! The vector arithmetic of `dot`, `cosine` and `l2_distance` (semantics.md "List
//! columns and embeddings"): plain float64 operations in index order, one function
//! each, called by every path (the batch and stream expressions, the reference), so
//! the bits agree by construction. Nulls and lengths are the callers' to check.

/// `Σ a[i]·b[i]`, summed from `0.0` in index order (never fused into an FMA).
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = 0.0;
    for (x, y) in a.iter().zip(b) {
        acc += x * y;
    }
    acc
}

/// `sqrt(Σ (a[i] - b[i])²)`, summed from `0.0` in index order.
pub fn l2_distance(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = 0.0;
    for (x, y) in a.iter().zip(b) {
        let d = x - y;
        acc += d * d;
    }
    acc.sqrt()
}

/// `dot(a, b) / (‖a‖ · ‖b‖)` with `‖a‖ = sqrt(dot(a, a))`; `None` when a norm is
/// zero (an empty list's is).
pub fn cosine(a: &[f64], b: &[f64]) -> Option<f64> {
    let (na, nb) = (dot(a, a).sqrt(), dot(b, b).sqrt());
    if na == 0.0 || nb == 0.0 {
        return None;
    }
    Some(dot(a, b) / (na * nb))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        assert_eq!(dot(&[1.0, 2.0, 3.0], &[4.0, -5.0, 6.0]), 12.0);
        assert_eq!(dot(&[], &[]), 0.0);
        assert_eq!(l2_distance(&[0.0, 0.0], &[3.0, 4.0]), 5.0);
        assert_eq!(cosine(&[1.0, 0.0], &[0.0, 2.0]), Some(0.0));
        assert_eq!(cosine(&[2.0, 0.0], &[3.0, 0.0]), Some(1.0));
        assert_eq!(
            cosine(&[1.0, 1.0], &[-1.0, -1.0]),
            Some(-2.0 / (2f64.sqrt() * 2f64.sqrt()))
        );
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 1.0]), None);
        assert_eq!(cosine(&[], &[]), None);
        // Index order, plain f64: 0.1*1 + 0.2*1 is 0.30000000000000004, not 0.3.
        assert_eq!(dot(&[0.1, 0.2], &[1.0, 1.0]), 0.1 + 0.2);
        assert!(dot(&[f64::NAN], &[1.0]).is_nan());
    }
}
