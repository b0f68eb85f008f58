//! Property tests of the exact arithmetic: `ExactSum` and the avg / var_pop /
//! stddev_pop finishes against slow BigRational oracles.

use crate::algebra_support;

use algebra_support::{exact_avg, exact_var, rat, rat_int, round_rat, round_sqrt_rat};
use featc_runtime::exact::{self, ExactSum, SquareSum};
use num_rational::BigRational;
use num_traits::Zero;
use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, TestCaseError};

/// Finite f64s biased to the hard cases: any bit pattern (subnormals, huge), decimals,
/// powers of two at both ends of the range, and exact opposites for cancellation.
fn finite() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<u64>()
            .prop_map(f64::from_bits)
            .prop_filter("finite", |x| x.is_finite()),
        (-100_000i64..100_000).prop_map(|c| c as f64 / 100.0),
        (-1074i32..1024, any::<bool>()).prop_map(|(e, s)| {
            let x = 2f64.powi(e);
            if s {
                -x
            } else {
                x
            }
        }),
        Just(f64::MAX),
        Just(-f64::MAX),
        Just(f64::MIN_POSITIVE),
        Just(5e-324),
        Just(-0.0),
        (any::<u64>(), 0u64..8)
            .prop_map(|(b, k)| f64::from_bits((b & 0x000F_FFFF_FFFF_FFFF) | (k << 52))),
        (1u64..1 << 53, 900i32..1023).prop_map(|(m, e)| m as f64 * 2f64.powi(e - 52)),
    ]
}

/// A multiset with deliberate cancellation: some values come with their negation.
fn values() -> impl Strategy<Value = Vec<f64>> {
    (prop::collection::vec((finite(), any::<bool>()), 0..24)).prop_map(|v| {
        let mut out = Vec::new();
        for (x, pair) in v {
            out.push(x);
            if pair {
                out.push(-x);
            }
        }
        out
    })
}

fn exact_sum(xs: &[f64]) -> BigRational {
    xs.iter().fold(BigRational::zero(), |a, &x| a + rat(x))
}

fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, failure_persistence: Some(Box::new(FileFailurePersistence::Direct("proptest-regressions/algebra_exact.txt"))), ..ProptestConfig::default() })]

    #[test]
    fn sum_is_correctly_rounded(xs in values()) {
        let mut s = ExactSum::new();
        for &x in &xs {
            s.add_f64(x);
        }
        let want = round_rat(&exact_sum(&xs));
        prop_assert!(same(s.round(), want), "got {:e} want {:e}", s.round(), want);
    }

    #[test]
    fn sum_is_order_independent_and_retracts(
        xs in values(),
        extra in values(),
        order in any::<u64>(),
    ) {
        // Insert xs ++ extra in a scrambled order, then retract `extra` in another order.
        let mut all: Vec<f64> = xs.iter().chain(&extra).copied().collect();
        let mut rng = order;
        for i in (1..all.len()).rev() {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            all.swap(i, (rng >> 33) as usize % (i + 1));
        }
        let mut s = ExactSum::new();
        for (i, &x) in all.iter().enumerate() {
            s.add_f64(x);
            if (order >> (i % 64)) & 1 == 1 {
                // Carry propagation at arbitrary points must not change the value.
                s.normalize();
            }
        }
        for &x in extra.iter().rev() {
            s.sub_f64(x);
        }
        let want = round_rat(&exact_sum(&xs));
        prop_assert!(same(s.round(), want));
        for &x in &xs {
            s.sub_f64(x);
        }
        prop_assert_eq!(s.round().to_bits(), 0.0f64.to_bits());
        prop_assert!(s.to_bigint().is_zero());
    }

    #[test]
    fn merge_equals_adds(xs in values(), ys in values()) {
        let (mut a, mut b) = (ExactSum::new(), ExactSum::new());
        xs.iter().for_each(|&x| a.add_f64(x));
        ys.iter().for_each(|&y| b.add_f64(y));
        a.merge(&b);
        let all: Vec<f64> = xs.iter().chain(&ys).copied().collect();
        prop_assert!(same(a.round(), round_rat(&exact_sum(&all))));
        a.unmerge(&b);
        prop_assert!(same(a.round(), round_rat(&exact_sum(&xs))));
    }

    #[test]
    fn integer_sums_are_exact(xs in prop::collection::vec(any::<i64>(), 0..16), fs in values()) {
        let mut s = ExactSum::new();
        let mut want = exact_sum(&fs);
        for &f in &fs {
            s.add_f64(f);
        }
        for &x in &xs {
            s.add_i64(x);
            want += rat_int(x);
        }
        prop_assert!(same(s.round(), round_rat(&want)));
    }

    #[test]
    fn non_finite_inputs(xs in values(), inf in 0usize..3, ninf in 0usize..3, nan in 0usize..2) {
        let mut s = ExactSum::new();
        let mut ieee_parts = Vec::new();
        for &x in &xs {
            s.add_f64(x);
        }
        for _ in 0..inf { s.add_f64(f64::INFINITY); ieee_parts.push(f64::INFINITY); }
        for _ in 0..ninf { s.add_f64(f64::NEG_INFINITY); ieee_parts.push(f64::NEG_INFINITY); }
        for _ in 0..nan { s.add_f64(f64::NAN); ieee_parts.push(f64::NAN); }
        let want = if ieee_parts.is_empty() {
            round_rat(&exact_sum(&xs))
        } else {
            ieee_parts.iter().sum::<f64>()
        };
        prop_assert!(same(s.round(), want), "got {} want {}", s.round(), want);
        for _ in 0..inf { s.sub_f64(f64::INFINITY); }
        for _ in 0..ninf { s.sub_f64(f64::NEG_INFINITY); }
        for _ in 0..nan { s.sub_f64(f64::NAN); }
        prop_assert!(same(s.round(), round_rat(&exact_sum(&xs))));
    }

    #[test]
    fn avg_var_stddev_are_correctly_rounded(xs in values(), ints in prop::collection::vec(any::<i64>(), 0..6)) {
        let mut s1 = ExactSum::new();
        let mut s2 = SquareSum::new();
        let mut exact = Vec::new();
        for &x in &xs {
            s1.add_f64(x);
            s2.put_f64(x, false);
            exact.push(rat(x));
        }
        for &i in &ints {
            s1.add_i64(i);
            s2.put_i64(i, false);
            exact.push(rat_int(i));
        }
        let n = exact.len() as u64;
        if let Some(a) = exact_avg(&exact) {
            let got = exact::avg(&s1, n);
            prop_assert!(same(got, round_rat(&a)), "avg got {:e} want {:e}", got, round_rat(&a));
        }
        if let Some(v) = exact_var(&exact) {
            let got = exact::var_pop(&s1, &s2, n);
            prop_assert!(same(got, round_rat(&v)), "var got {:e} want {:e}", got, round_rat(&v));
            let got = exact::stddev_pop(&s1, &s2, n);
            let want = round_sqrt_rat(&v);
            prop_assert!(same(got, want), "stddev got {:e} want {:e}", got, want);
        }
    }

    #[test]
    fn moments_of_long_decimal_series(cents in prop::collection::vec(-10_000_000i64..10_000_000, 2..400), tiny in prop::option::of(-1074i32..-900)) {
        // Many amounts in cents make a numerator of 150+ bits, so the root's radicand
        // drops low bits into the sticky bit; a tiny value makes the scale very fine.
        let mut fs: Vec<f64> = cents.iter().map(|&c| c as f64 / 100.0).collect();
        if let Some(e) = tiny {
            fs.push(2f64.powi(e));
        }
        moments_match_the_oracle(&fs)?;
    }

    #[test]
    fn exact_roots_round_ties_to_even(a in (1u64 << 52)..(1u64 << 53), b in (1u64 << 52)..(1u64 << 53), e in -200i32..200) {
        // stddev of {x, -y} is (x + y) / 2 exactly: 54 significant bits when a + b
        // is odd, a tie the sticky bit must not break.
        moments_match_the_oracle(&[a as f64 * 2f64.powi(e), -(b as f64) * 2f64.powi(e)])?;
    }

    #[test]
    fn moments_of_small_values(xs in prop::collection::vec(-1000i64..1000, 1..30), scale in -60i32..60) {
        // Many equal-ish values: exercises exact-zero variance and tiny variances.
        let k = 2f64.powi(scale);
        let fs: Vec<f64> = xs.iter().map(|&x| x as f64 * k).collect();
        moments_match_the_oracle(&fs)?;
    }
}

/// avg, var_pop and stddev_pop of the finite, non-empty `fs` equal the oracle's
/// correctly rounded values.
fn moments_match_the_oracle(fs: &[f64]) -> Result<(), TestCaseError> {
    let mut s1 = ExactSum::new();
    let mut s2 = SquareSum::new();
    for &x in fs {
        s1.add_f64(x);
        s2.put_f64(x, false);
    }
    let exact: Vec<BigRational> = fs.iter().map(|&x| rat(x)).collect();
    let n = fs.len() as u64;
    let v = exact_var(&exact).unwrap();
    prop_assert!(same(exact::var_pop(&s1, &s2, n), round_rat(&v)));
    prop_assert!(same(exact::stddev_pop(&s1, &s2, n), round_sqrt_rat(&v)));
    prop_assert!(same(
        exact::avg(&s1, n),
        round_rat(&exact_avg(&exact).unwrap())
    ));
    Ok(())
}

#[test]
fn edge_cases() {
    let mut s = ExactSum::new();
    assert_eq!(s.round().to_bits(), 0.0f64.to_bits());
    s.add_f64(-0.0);
    assert_eq!(
        s.round().to_bits(),
        0.0f64.to_bits(),
        "an exact zero is +0.0"
    );
    s.add_f64(f64::MAX);
    s.add_f64(f64::MAX);
    assert_eq!(s.round(), f64::INFINITY);
    s.sub_f64(f64::MAX);
    assert_eq!(s.round(), f64::MAX);
    let mut s = ExactSum::new();
    s.add_f64(0.1);
    s.add_f64(0.2);
    assert_eq!(s.round(), 0.30000000000000004);
    s.sub_f64(0.1);
    assert_eq!(s.round(), 0.2);
    // Non-finite finishes.
    let mut s1 = ExactSum::new();
    let s2 = SquareSum::new();
    s1.add_f64(f64::INFINITY);
    assert_eq!(exact::avg(&s1, 2), f64::INFINITY);
    assert!(exact::var_pop(&s1, &s2, 1).is_nan());
    assert!(exact::stddev_pop(&s1, &s2, 1).is_nan());
}

#[test]
fn many_adds_stay_exact() {
    let mut s = ExactSum::new();
    let x = f64::from_bits(0x3FFF_FFFF_FFFF_FFFF);
    for _ in 0..3_000_000 {
        s.add_f64(x);
    }
    let want = round_rat(&(rat(x) * rat_int(3_000_000)));
    assert_eq!(s.round().to_bits(), want.to_bits());
}

#[test]
fn square_root_counts_dropped_bits_as_sticky() {
    // r = 2^56 + 8 rounds to 53 bits as a tie; sqrt(r^2 * 2^20 + 1) is just above
    // r * 2^10, so it must round up. The radicand is wide enough that its low bits
    // are shifted out before the integer root, where only the sticky bit remembers them.
    let r = num_bigint::BigUint::from((1u64 << 56) + 8);
    let square = (&r * &r) << 20u32;
    let one = num_bigint::BigUint::from(1u32);
    let above = exact::round_sqrt_ratio(&(&square + &one), &one, 0);
    assert_eq!(above, ((1u64 << 52) + 1) as f64 * 2f64.powi(14));
    let tie = exact::round_sqrt_ratio(&square, &one, 0);
    assert_eq!(tie, 2f64.powi(66), "an exact tie rounds to even");
}
