//! `RankState`'s tests: every rank against a plain sorted vector through each form
//! and each change of form, and snapshots of each form (and of the older encodings).

use super::chunks::CHUNK_MAX;
use super::*;
use crate::agg::{F64Word, Word};
use crate::value::Value;
use featc_test_support::rng::SplitMix64;

/// Every rank of `s` against a reference sorted vector, and the chunks' invariants
/// (none empty or too long, the index their last words).
pub(super) fn check(s: &RankState, want: &[u64]) {
    check_ranks(s, want);
    if let Form::Chunks(c) = &s.form {
        assert!(c.list().iter().all(|v| v.len() <= CHUNK_MAX));
    }
}

/// Every rank of `s` against `want`, and the chunks' invariants but their length.
pub(super) fn check_ranks(s: &RankState, want: &[u64]) {
    assert_eq!(s.len(), want.len() as u64);
    for (i, &w) in want.iter().enumerate() {
        assert_eq!(s.at_rank(i as u64 + 1), Some(w), "rank {}", i + 1);
    }
    assert_eq!(s.at_rank(0), None);
    assert_eq!(s.at_rank(want.len() as u64 + 1), None);
    if let Form::Chunks(c) = &s.form {
        assert!(c.list().iter().all(|v| !v.is_empty()));
        let ends: Vec<u64> = c.list().iter().filter_map(|v| v.last().copied()).collect();
        assert_eq!(c.ends(), ends.as_slice());
        let words: Vec<u64> = c.words().collect();
        assert_eq!(words, want);
    }
}

/// Does to `want` what `insert` and `remove` do to a `RankState`.
pub(super) fn reference_insert(want: &mut Vec<u64>, w: u64, count: u64) {
    let at = want.partition_point(|&v| v <= w);
    want.splice(at..at, std::iter::repeat_n(w, count as usize));
}

pub(super) fn reference_remove(want: &mut Vec<u64>, w: u64, count: u64) {
    let from = want.partition_point(|&v| v < w);
    let to = want.partition_point(|&v| v <= w);
    want.drain(from..from + (to - from).min(count as usize));
}

pub(super) fn is_inline(s: &RankState) -> bool {
    matches!(s.form, Form::Inline(_))
}

pub(super) fn is_small(s: &RankState) -> bool {
    matches!(s.form, Form::Small(_))
}

pub(super) fn round_trip(s: &RankState) -> Result<RankState, SnapshotError> {
    let mut w = Writer::new();
    s.save(&mut w);
    let bytes = w.into_bytes();
    RankState::load(&mut Reader::new(&bytes))
}

#[test]
fn chunks_answer_every_rank_like_a_sorted_vector_through_growth_and_shrinking() {
    let mut s = RankState::default();
    let mut want: Vec<u64> = Vec::new();
    let mut rng = SplitMix64::new(7);
    let mut next = || rng.below(700); // many duplicates
    for step in 0..6000 {
        let grow = step < 3000 || step % 3 == 0;
        if grow || want.is_empty() {
            let w = next();
            let count = if step % 97 == 0 { 3 } else { 1 };
            s.insert(w, count);
            reference_insert(&mut want, w, count);
        } else {
            let w = want[(next() as usize) % want.len()];
            let count = if step % 89 == 0 { 5 } else { 1 };
            s.remove(w, count);
            reference_remove(&mut want, w, count);
        }
        if step % 250 == 0 {
            check(&s, &want);
        }
    }
    check(&s, &want);
    // Back below half of SMALL: one vector again, then inline.
    while want.len() > 10 {
        let w = want.pop().unwrap_or(0);
        s.remove(w, 1);
    }
    assert!(is_small(&s));
    check(&s, &want);
    while want.len() > INLINE / 2 {
        let w = want.remove(0);
        s.remove(w, 1);
    }
    assert!(is_inline(&s));
    check(&s, &want);
}

#[test]
fn removing_copies_that_span_chunks_takes_them_all() {
    let mut s = RankState::default();
    s.insert(5, 2000);
    s.insert(1, 300);
    s.insert(9, 300);
    assert!(matches!(&s.form, Form::Chunks(c) if c.list().len() > 3));
    s.remove(5, 1999);
    assert_eq!(s.entries(), vec![(1, 300), (5, 1), (9, 300)]);
    s.remove(7, 1); // absent: nothing
    assert_eq!(s.len(), 601);
    let mut want = vec![1; 300];
    want.push(5);
    want.extend([9; 300]);
    check(&s, &want);
}

#[test]
fn inline_holds_exactly_its_words_and_one_more_spills_to_a_vector() {
    let mut s = RankState::default();
    let mut want = Vec::new();
    for w in [40u64, 10, 30, 20] {
        s.insert(w, 1);
        reference_insert(&mut want, w, 1);
        assert!(is_inline(&s), "{want:?}");
        check(&s, &want);
    }
    assert_eq!(want.len(), INLINE);
    assert_eq!(s.bytes(), std::mem::size_of::<RankState>());
    s.insert(25, 1);
    reference_insert(&mut want, 25, 1);
    assert!(is_small(&s));
    check(&s, &want);
    assert!(s.bytes() > std::mem::size_of::<RankState>());
    // Back to INLINE words: still a vector (the boundary is not crossed back and
    // forth at every event), inline again only at half of INLINE.
    s.remove(40, 1);
    reference_remove(&mut want, 40, 1);
    assert!(is_small(&s));
    check(&s, &want);
    s.remove(10, 1);
    reference_remove(&mut want, 10, 1);
    assert!(is_small(&s));
    s.remove(25, 1);
    reference_remove(&mut want, 25, 1);
    assert_eq!(want.len(), INLINE / 2);
    assert!(is_inline(&s));
    check(&s, &want);
    // `shrink` takes a vector of up to INLINE words inline.
    for w in [1u64, 2, 3] {
        s.insert(w, 1);
        reference_insert(&mut want, w, 1);
    }
    s.remove(3, 1);
    reference_remove(&mut want, 3, 1);
    assert!(is_small(&s) && want.len() == INLINE);
    s.shrink();
    assert!(is_inline(&s));
    check(&s, &want);
}

#[test]
fn duplicates_cross_the_inline_boundary_by_their_count() {
    let mut s = RankState::default();
    let mut want = Vec::new();
    s.insert(7, 3);
    reference_insert(&mut want, 7, 3);
    assert!(is_inline(&s));
    s.insert(7, 1);
    reference_insert(&mut want, 7, 1);
    assert!(is_inline(&s));
    check(&s, &want);
    s.remove(7, 2);
    reference_remove(&mut want, 7, 2);
    s.insert(3, 3); // 2 + 3 copies: past INLINE at once
    reference_insert(&mut want, 3, 3);
    assert!(is_small(&s));
    check(&s, &want);
    s.remove(3, 10); // more copies than held: all of them
    reference_remove(&mut want, 3, 10);
    assert_eq!(want, vec![7, 7]);
    assert!(is_inline(&s));
    check(&s, &want);
    s.remove(7, 1);
    s.remove(8, 1); // absent: nothing
    s.remove(7, 5);
    assert!(s.is_empty() && is_inline(&s));
    // From empty, more copies than fit inline go straight to a vector.
    s.insert(9, INLINE as u64 + 1);
    assert!(is_small(&s));
    check(&s, &[9; INLINE + 1]);
    let mut big = RankState::default();
    big.insert(9, SMALL as u64 + 1);
    assert!(matches!(big.form, Form::Chunks(_)));
    big.remove(9, SMALL as u64);
    assert!(is_inline(&big));
    check(&big, &[9]);
}

#[test]
fn floats_rank_in_the_total_order_inline_and_past_it() {
    // semantics.md, Ordering: IEEE total order, -0.0 below +0.0, NaN above +inf
    // (every NaN one value, whatever its sign).
    let negative_nan = f64::from_bits(f64::NAN.to_bits() | (1 << 63));
    let word = |x: f64| F64Word::from_stored(x.to_bits());
    let words = |xs: &[f64]| xs.iter().map(|&x| word(x)).collect::<Vec<u64>>();
    let ranks = |s: &RankState| {
        (1..=s.len())
            .filter_map(|r| s.at_rank(r))
            .collect::<Vec<_>>()
    };
    let mut s = RankState::default();
    for x in [negative_nan, 0.0, f64::INFINITY, -0.0] {
        s.insert(word(x), 1);
    }
    assert!(is_inline(&s));
    let order = words(&[-0.0, 0.0, f64::INFINITY, f64::NAN]);
    assert!(order.windows(2).all(|p| p[0] < p[1]));
    assert_eq!(ranks(&s), order);
    let first = s.at_rank(1).map(F64Word::value);
    assert!(matches!(first, Some(Value::Float64(x)) if x == 0.0 && x.is_sign_negative()));
    let last = s.at_rank(4).map(F64Word::value);
    assert!(matches!(last, Some(Value::Float64(x)) if x.is_nan()));
    s.insert(word(f64::NEG_INFINITY), 1);
    s.insert(word(f64::NAN), 1);
    assert!(is_small(&s));
    let order = words(&[
        f64::NEG_INFINITY,
        -0.0,
        0.0,
        f64::INFINITY,
        f64::NAN,
        f64::NAN,
    ]);
    assert_eq!(ranks(&s), order);
    // Removing a NaN of either sign removes one NaN.
    s.remove(word(f64::NAN), 1);
    s.remove(word(negative_nan), 1);
    s.remove(word(f64::NEG_INFINITY), 1);
    s.remove(word(f64::INFINITY), 1);
    assert!(is_inline(&s));
    assert_eq!(ranks(&s), words(&[-0.0, 0.0]));
}

#[test]
fn every_form_answers_like_a_sorted_vector_around_the_inline_boundary() {
    let mut s = RankState::default();
    let mut want: Vec<u64> = Vec::new();
    let mut rng = SplitMix64::new(11);
    let mut next = || rng.next_u64() >> 33;
    let mut forms = [false; 2];
    for step in 0..20_000 {
        let r = next();
        // Hovers between empty and a dozen values, with duplicates.
        let grow = want.len() < 2 || (want.len() < 12 && r % 2 == 0);
        let count = 1 + (r >> 8) % 3 / 2;
        if grow {
            let w = (r >> 12) % 6;
            s.insert(w, count);
            reference_insert(&mut want, w, count);
        } else {
            let w = (r >> 12) % 7;
            s.remove(w, count);
            reference_remove(&mut want, w, count);
        }
        if step % 7 == 0 {
            s.shrink();
        }
        forms[0] |= is_inline(&s) && want.len() > INLINE / 2;
        forms[1] |= is_small(&s) && want.len() <= INLINE;
        check(&s, &want);
        assert!(want.len() <= INLINE || !is_inline(&s));
        assert!(round_trip(&s).is_ok_and(|l| l == s && l.bytes() == s.bytes()));
    }
    assert_eq!(forms, [true, true], "both forms held at the boundary");
}

#[test]
fn every_form_survives_a_snapshot_as_it_was() {
    for n in [0u64, 3, 5, 300, 5000] {
        let mut s = RankState::default();
        for i in 0..n {
            s.insert((i * 7919) % 613, 1);
        }
        let loaded = round_trip(&s);
        assert!(
            loaded.as_ref().is_ok_and(|l| *l == s),
            "{n}: {:?}",
            loaded.err()
        );
        assert_eq!(loaded.map(|l| l.bytes()).ok(), Some(s.bytes()));
    }
}

#[test]
fn snapshots_from_before_the_inline_form_load_as_they_were_saved() {
    // A single vector of two words with room for four (tag 0): a vector still.
    let mut w = Writer::new();
    w.usize(2);
    for (k, c) in [(3u64, 1u64), (8, 1)] {
        w.u64(k);
        w.u64(c);
    }
    w.u8(0);
    w.usize(4);
    let bytes = w.into_bytes();
    let old = RankState::load(&mut Reader::new(&bytes));
    assert!(old
        .as_ref()
        .is_ok_and(|s| matches!(&s.form, Form::Small(v) if v == &[3, 8] && v.capacity() == 4)));
    // Chunks of 512 words (tag 1), longer than any cut now: loaded, then kept right.
    let mut w = Writer::new();
    w.usize(1024);
    for k in 0..1024u64 {
        w.u64(k * 2);
        w.u64(1);
    }
    w.u8(1);
    w.usize(2);
    for _ in 0..2 {
        w.usize(512);
        w.usize(512);
    }
    let bytes = w.into_bytes();
    let loaded = RankState::load(&mut Reader::new(&bytes));
    assert!(loaded.is_ok(), "{:?}", loaded.err());
    let mut s = loaded.unwrap_or_default();
    let mut want: Vec<u64> = (0..1024u64).map(|k| k * 2).collect();
    assert_eq!(s.at_rank(600), Some(want[599]));
    s.insert(5, 1);
    reference_insert(&mut want, 5, 1);
    s.remove(2000, 1);
    reference_remove(&mut want, 2000, 1);
    check_ranks(&s, &want);
    // The chunk an insert reached is cut down to size; the other is as loaded.
    let lens: Vec<usize> = match &s.form {
        Form::Chunks(c) => c.list().iter().map(Vec::len).collect(),
        _ => Vec::new(),
    };
    assert_eq!(lens, vec![128, 128, 128, 64, 65, 511]);
    // An inline tag over more words than fit inline is refused.
    let mut w = Writer::new();
    w.usize(1);
    w.u64(1);
    w.u64(INLINE as u64 + 1);
    w.u8(2);
    let bytes = w.into_bytes();
    assert!(RankState::load(&mut Reader::new(&bytes)).is_err());
}
