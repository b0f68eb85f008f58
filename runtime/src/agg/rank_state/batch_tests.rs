//! Tests of a run's words merged in (or taken out) at once (`batch`): every form and
//! change of form in one run, duplicates, chunks emptied, the float order, and a model
//! check against a plain sorted vector over many random runs with snapshot round trips.

use super::batch::{RunWords, RUN_WORDS};
use super::chunks::CHUNK_MAX;
use super::tests::{
    check, check_ranks, is_inline, is_small, reference_insert, reference_remove, round_trip,
};
use super::*;
use crate::agg::{F64Word, Word};
use crate::value::Value;
use featc_test_support::rng::SplitMix64;

/// Applies `run` (in the order given, unsorted) as a fold run does, and the same to
/// the reference one word at a time.
fn apply(s: &mut RankState, want: &mut Vec<u64>, run: &[u64], insert: bool) {
    let mut gathered = RunWords::new();
    for &w in run {
        gathered.push(s, w, insert);
        if insert {
            reference_insert(want, w, 1);
        } else {
            reference_remove(want, w, 1);
        }
    }
    gathered.flush(s, insert);
}

fn is_chunks(s: &RankState) -> bool {
    matches!(s.form, Form::Chunks(_))
}

fn chunk_lens(s: &RankState) -> Vec<usize> {
    match &s.form {
        Form::Chunks(c) => c.list().iter().map(Vec::len).collect(),
        _ => Vec::new(),
    }
}

#[test]
fn one_run_crosses_every_form_boundary_both_ways() {
    let mut s = RankState::default();
    let mut want = Vec::new();
    apply(&mut s, &mut want, &[9, 3], true);
    assert!(is_inline(&s));
    check(&s, &want);
    // Inline to a vector: 2 + 3 words.
    apply(&mut s, &mut want, &[5, 1, 9], true);
    assert!(is_small(&s));
    check(&s, &want);
    // Inline straight to chunks in one run (past SMALL at once).
    let mut big = RankState::default();
    let mut big_want = Vec::new();
    let run: Vec<u64> = (0..RUN_WORDS as u64 * 3).map(|i| (i * 37) % 101).collect();
    apply(&mut big, &mut big_want, &run, true);
    assert!(is_chunks(&big));
    check(&big, &big_want);
    // A vector near SMALL to chunks.
    let run: Vec<u64> = (0..SMALL as u64 - 5).map(|i| i * 3).collect();
    apply(&mut s, &mut want, &run, true);
    assert!(is_small(&s));
    apply(&mut s, &mut want, &[4, 1000, 2, 2, 7, 8, 0, 999], true);
    assert!(is_chunks(&s));
    check(&s, &want);
    // Chunks back to a vector (below half of SMALL) in one run of removals.
    let mut gone: Vec<u64> = want.iter().copied().step_by(2).collect();
    gone.extend(want.iter().copied().skip(1).step_by(2).take(10));
    apply(&mut s, &mut want, &gone, false);
    assert!(want.len() < SMALL / 2 && is_small(&s), "{}", want.len());
    check(&s, &want);
    // Chunks straight to inline: all but two words out in one go.
    let gone: Vec<u64> = big_want[2..].to_vec();
    apply(&mut big, &mut big_want, &gone, false);
    assert!(is_inline(&big));
    check(&big, &big_want);
    // A vector to inline.
    let gone: Vec<u64> = want[1..want.len() - 1].to_vec();
    apply(&mut s, &mut want, &gone, false);
    assert_eq!(want.len(), 2);
    assert!(is_inline(&s));
    check(&s, &want);
}

#[test]
fn duplicates_in_a_run_and_already_held_keep_their_counts() {
    let mut s = RankState::default();
    let mut want = Vec::new();
    apply(&mut s, &mut want, &[7, 7, 7], true);
    apply(&mut s, &mut want, &[7, 3, 7, 7, 3, 7, 11], true);
    check(&s, &want);
    assert_eq!(s.entries(), vec![(3, 2), (7, 7), (11, 1)]);
    // More copies out than held, and absent words: only what is held goes.
    apply(&mut s, &mut want, &[7; 9], false);
    apply(&mut s, &mut want, &[1, 5, 3, 12, 3, 3], false);
    assert_eq!(s.entries(), vec![(11, 1)]);
    check(&s, &want);
    // Copies that span many chunks, in and out in runs.
    let mut s = RankState::default();
    let mut want = Vec::new();
    apply(&mut s, &mut want, &[1; 200], true);
    apply(&mut s, &mut want, &[5; RUN_WORDS * 4], true);
    apply(&mut s, &mut want, &[9; 200], true);
    assert!(chunk_lens(&s).len() > 8);
    check(&s, &want);
    let mut run = vec![5u64; RUN_WORDS * 3];
    run.extend([1, 9, 9, 4]);
    apply(&mut s, &mut want, &run, false);
    check(&s, &want);
    assert_eq!(s.entries(), vec![(1, 199), (5, RUN_WORDS as u64), (9, 198)]);
}

#[test]
fn a_run_of_removals_empties_whole_chunks() {
    let mut s = RankState::default();
    let mut want = Vec::new();
    let words: Vec<u64> = (0..2000u64).map(|i| i * 2).collect();
    for part in words.chunks(100) {
        apply(&mut s, &mut want, part, true);
    }
    let before = chunk_lens(&s);
    assert!(before.iter().all(|&n| n <= CHUNK_MAX) && before.len() > 10);
    check(&s, &want);
    // The whole of the third chunk and a few words on either side of it.
    let skip: usize = before[..2].iter().sum();
    let run: Vec<u64> = want[skip - 3..skip + before[2] + 3].to_vec();
    apply(&mut s, &mut want, &run, false);
    check(&s, &want);
    assert_eq!(chunk_lens(&s).len(), before.len() - 1);
    // The first and the last chunks entirely, the last word first.
    let mut run: Vec<u64> = want[want.len() - chunk_lens(&s)[chunk_lens(&s).len() - 1]..].to_vec();
    run.reverse();
    run.extend_from_slice(&want[..chunk_lens(&s)[0]]);
    apply(&mut s, &mut want, &run, false);
    check(&s, &want);
    // Every other chunk at once: the walk goes on past each emptied one.
    let mut run = Vec::new();
    let mut at = 0;
    for (k, n) in chunk_lens(&s).into_iter().enumerate() {
        if k % 2 == 0 {
            run.extend_from_slice(&want[at..at + n]);
        }
        at += n;
    }
    apply(&mut s, &mut want, &run, false);
    check(&s, &want);
}

#[test]
fn floats_in_a_run_rank_in_the_total_order() {
    // semantics.md, Ordering: IEEE total order, -0.0 below +0.0, NaN above +inf
    // (every NaN one value, whatever its sign).
    let negative_nan = f64::from_bits(f64::NAN.to_bits() | (1 << 63));
    let word = |x: f64| F64Word::from_stored(x.to_bits());
    let mut s = RankState::default();
    let mut want = Vec::new();
    let run = [
        f64::NAN,
        0.0,
        negative_nan,
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -1.5,
    ]
    .map(word);
    apply(&mut s, &mut want, &run, true);
    check(&s, &want);
    let order = [
        f64::NEG_INFINITY,
        -1.5,
        -0.0,
        0.0,
        f64::INFINITY,
        f64::NAN,
        f64::NAN,
    ]
    .map(word);
    assert!(order.windows(2).all(|p| p[0] <= p[1]));
    let ranks: Vec<u64> = (1..=s.len()).filter_map(|r| s.at_rank(r)).collect();
    assert_eq!(ranks, order);
    let first = s.at_rank(1).map(F64Word::value);
    assert!(matches!(first, Some(Value::Float64(x)) if x == f64::NEG_INFINITY));
    let zero = s.at_rank(3).map(F64Word::value);
    assert!(matches!(zero, Some(Value::Float64(x)) if x == 0.0 && x.is_sign_negative()));
    // A NaN of either sign takes one NaN out.
    apply(&mut s, &mut want, &[word(negative_nan), word(0.0)], false);
    let ranks: Vec<u64> = (1..=s.len()).filter_map(|r| s.at_rank(r)).collect();
    assert_eq!(
        ranks,
        [f64::NEG_INFINITY, -1.5, -0.0, f64::INFINITY, f64::NAN].map(word)
    );
    let last = s.at_rank(5).map(F64Word::value);
    assert!(matches!(last, Some(Value::Float64(x)) if x.is_nan()));
    check(&s, &want);
}

#[test]
fn random_runs_answer_like_a_sorted_vector_and_survive_snapshots() {
    let mut rng = SplitMix64::new(0x5eed);
    let mut next = move || rng.next_u64() >> 33;
    let mut s = RankState::default();
    let mut want: Vec<u64> = Vec::new();
    let mut seen = [false; 3];
    for step in 0..4000 {
        let r = next();
        // Runs of 0 to a few hundred words (past RUN_WORDS: several merges), the
        // state wandering from empty to a few thousand words and back.
        let len = match r % 8 {
            0 => (r >> 8) as usize % 400,
            1..=3 => (r >> 8) as usize % 6,
            _ => (r >> 8) as usize % 70,
        };
        let target = if (step / 500) % 2 == 0 { 3000 } else { 40 };
        let insert = want.len() < target && (r >> 20) % 3 != 0 || want.is_empty();
        let spread = 1 + (r >> 24) % 2000;
        let run: Vec<u64> = (0..len)
            .map(|_| {
                let v = next();
                if !insert && v % 5 != 0 && !want.is_empty() {
                    want[v as usize % want.len()] // mostly held words
                } else {
                    v % spread
                }
            })
            .collect();
        apply(&mut s, &mut want, &run, insert);
        seen[0] |= is_inline(&s);
        seen[1] |= is_small(&s);
        seen[2] |= is_chunks(&s);
        assert_eq!(s.len(), want.len() as u64, "step {step}");
        if step % 40 == 0 {
            check(&s, &want);
            let loaded = round_trip(&s);
            assert!(loaded.as_ref().is_ok_and(|l| *l == s), "{:?}", loaded.err());
        } else if let Some(&w) = want.last() {
            assert_eq!(s.at_rank(want.len() as u64), Some(w), "step {step}");
            assert_eq!(s.at_rank(1), want.first().copied(), "step {step}");
        }
    }
    assert_eq!(seen, [true; 3], "every form held");
    check_ranks(&s, &want);
}
