//! As-of lookups (semantics.md, "As-of lookups") by hand: the reference, the batch
//! plan (at DataFusion batch sizes 2, 7 and the default) and the stream agree bit for bit and give
//! the values worked out below: a lookup into another source at the event's exact
//! time (ties count), into the view's own source (the event itself counts), declared
//! before the views it looks up. The stream replay (in memory and on a disk tier)
//! gives the same values.

use datafusion::arrow::array::{Array, Int64Array};
use datafusion::arrow::record_batch::RecordBatch;

use super::equivalence::{
    batch, compile, hand_case, reference, stream, stream_tiered, DEFAULT_BATCH_SIZE,
};
use super::union_views::{taps, S, TAPS};
use featc_test_support::compare::bit_equal;

/// The int64 column `name`, nulls as `None`.
fn ints(out: &RecordBatch, name: &str) -> Vec<Option<i64>> {
    let c = out.column_by_name(name).expect("column");
    let c = c.as_any().downcast_ref::<Int64Array>().expect("int64");
    (0..c.len())
        .map(|i| (!c.is_null(i)).then(|| c.value(i)))
        .collect()
}

#[test]
fn lookups_read_other_views_at_each_events_time_in_reference_and_batch() {
    let mut case = hand_case(
        "    let tap_sum = tv.taps_sum_2s at k\n\
         \x20   let prior = counts.events_so_far at (k)\n\
         \x20   feature tap_sum_total = sum(tap_sum) over 10s\n\
         \x20   feature seen_prior = max(prior)\n\
         \x20   feature events_with_taps = count(*) where tap_sum > 0\n",
        &[(S, Some(5), None), (3 * S, Some(4), None)],
        &[0, S, 2 * S, 3 * S, 4 * S, 5 * S],
    );
    case.feat = format!(
        "{TAPS}{}view tv from taps by user {{ feature taps_sum_2s = sum(i) over 2s }}\n\
         view counts from events by user {{ feature events_so_far = count(*) }}\n",
        case.feat
    );
    case.taps = taps(&[(S, 1, Some(9)), (S, 1, Some(1)), (2 * S, 1, None)]);
    case.features = ["tap_sum_total", "seen_prior", "events_with_taps"]
        .map(String::from)
        .to_vec();
    let (project, ids) = compile(&case).unwrap_or_else(|e| panic!("{e}"));
    let expected = reference(&project, &ids, &case).expect("reference");
    for size in [2, 7, DEFAULT_BATCH_SIZE] {
        let actual = batch(&project, &ids, &case, size).expect("batch");
        bit_equal(&actual, &expected).unwrap_or_else(|d| panic!("batch (size {size}): {d}"));
    }
    let actual = stream(&project, &ids, &case).expect("stream");
    bit_equal(&actual, &expected).unwrap_or_else(|d| panic!("stream: {d}"));
    let actual = stream_tiered(&project, &ids, &case).expect("stream (disk tier)");
    bit_equal(&actual, &expected).unwrap_or_else(|d| panic!("stream (disk tier): {d}"));
    // The event at 1s sees the taps at 1s (9 + 1) and itself; the one at 3s sees the
    // null tap at 2s (a sum of nothing: 0) and both events.
    let six = |v: [Option<i64>; 6]| v.to_vec();
    assert_eq!(
        ints(&expected, "tap_sum_total"),
        six([Some(0), Some(10), Some(10), Some(10), Some(10), Some(10)])
    );
    assert_eq!(
        ints(&expected, "seen_prior"),
        six([None, Some(1), Some(1), Some(2), Some(2), Some(2)])
    );
    assert_eq!(
        ints(&expected, "events_with_taps"),
        six([Some(0), Some(1), Some(1), Some(1), Some(1), Some(1)])
    );
}

/// Lookups that chain (a view looks up a feature computed from a lookup), a null key
/// (the feature's empty value) and a looked-up source's `delay`, by hand on both paths.
#[test]
fn chained_lookups_null_keys_and_delays_agree_in_reference_and_batch() {
    let mut case = hand_case(
        "    let chained = mid.tap_total at i\n\
         \x20   feature chained_max = max(chained)\n\
         \x20   feature chained_sum = sum(chained) over 10s\n",
        &[
            (S, Some(5), None),
            (3 * S, None, None),
            (4 * S, Some(5), None),
        ],
        &[0, S, 3 * S, 4 * S, 5 * S],
    );
    // Taps are seen 1s late (`delay 1s`); `tapped` counts them per code `i`, `mid`
    // sums, per code, what each of its events saw of them.
    case.feat = format!(
        "source taps {{ time at delay 1s columns {{ k: int64? i: int64? }} }}\n\
         entity code {{ key i: int64 }}\n\
         {}view mid from events by code {{\n\
         \x20   let seen = tapped.taps_so_far at i\n\
         \x20   feature tap_total = sum(seen)\n}}\n\
         view tapped from taps by code {{ feature taps_so_far = count(*) }}\n",
        case.feat
    );
    case.taps = taps(&[(S, 0, Some(5)), (2 * S, 0, Some(5)), (4 * S, 0, Some(1))]);
    case.features = ["chained_max", "chained_sum"].map(String::from).to_vec();
    let (project, ids) = compile(&case).unwrap_or_else(|e| panic!("{e}"));
    let expected = reference(&project, &ids, &case).expect("reference");
    for size in [2, 7, DEFAULT_BATCH_SIZE] {
        let actual = batch(&project, &ids, &case, size).expect("batch");
        bit_equal(&actual, &expected).unwrap_or_else(|d| panic!("batch (size {size}): {d}"));
    }
    let actual = stream(&project, &ids, &case).expect("stream");
    bit_equal(&actual, &expected).unwrap_or_else(|d| panic!("stream: {d}"));
    let actual = stream_tiered(&project, &ids, &case).expect("stream (disk tier)");
    bit_equal(&actual, &expected).unwrap_or_else(|d| panic!("stream (disk tier): {d}"));
    // Code 5's taps at 1s and 2s are seen from 2s and 3s: `mid`'s event at 1s saw
    // none, its event at 4s both, so `tap_total` of code 5 is 0 from 1s, 2 from 4s.
    // `v`'s event at 3s has no code: the empty value of a sum, 0.
    let five = |v: [Option<i64>; 5]| v.to_vec();
    assert_eq!(
        ints(&expected, "chained_max"),
        five([None, Some(0), Some(0), Some(2), Some(2)])
    );
    assert_eq!(
        ints(&expected, "chained_sum"),
        five([Some(0), Some(0), Some(0), Some(2), Some(2)])
    );
}

/// A lookup that no requested feature reads (through lets or `where`) is computed on
/// no path, so its source is not read: asking for `plain` alone reads `events` only,
/// the stream graph has no `taps`, and an overflow in the looked-up feature fails
/// nothing (a generated case found the stream graph and `sources_of` disagreeing).
#[test]
fn a_lookup_no_requested_feature_reads_is_neither_computed_nor_read() {
    let mut case = hand_case(
        "    let tapped = tv.taps_total at k\n\
         \x20   let doubled = tapped * 2\n\
         \x20   feature plain = count(*)\n\
         \x20   feature with_taps = sum(doubled)\n",
        &[(S, Some(5), None), (3 * S, Some(4), None)],
        &[0, 2 * S, 4 * S],
    );
    case.feat = format!(
        "{TAPS}{}view tv from taps by user {{ feature taps_total = sum(i) }}\n",
        case.feat
    );
    // Two taps whose sum overflows int64: `with_taps` fails on every path.
    case.taps = taps(&[(S, 1, Some(i64::MAX)), (S, 1, Some(1))]);
    case.features = vec!["plain".to_string()];
    let (project, ids) = compile(&case).unwrap_or_else(|e| panic!("{e}"));
    let read: Vec<&str> = featc_runtime::io::sources_of(&project, &ids)
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(read, ["events"]);
    let expected = reference(&project, &ids, &case).expect("reference");
    for size in [2, 7, DEFAULT_BATCH_SIZE] {
        let actual = batch(&project, &ids, &case, size).expect("batch");
        bit_equal(&actual, &expected).unwrap_or_else(|d| panic!("batch (size {size}): {d}"));
    }
    let actual = stream(&project, &ids, &case).expect("stream");
    bit_equal(&actual, &expected).unwrap_or_else(|d| panic!("stream: {d}"));
    assert_eq!(ints(&expected, "plain"), [Some(0), Some(1), Some(2)]);
    // Asked for, the lookup is read, with its source.
    case.features = vec!["with_taps".to_string()];
    let (project, ids) = compile(&case).unwrap_or_else(|e| panic!("{e}"));
    let read: Vec<&str> = featc_runtime::io::sources_of(&project, &ids)
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(read, ["events", "taps"]);
    assert!(reference(&project, &ids, &case).is_err());
}
