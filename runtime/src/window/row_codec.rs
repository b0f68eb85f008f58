//! The event buffer's rows in a snapshot, compactly (they are most of an entity's
//! saved state): each row's `seq` as the difference from the row before, its flag
//! words as varints, only its non-zero value words (a null input leaves its word
//! zero), each by its slot's type (`ValueWord`: integers as varints, a float that is
//! a short decimal, like an amount in cents, as its digits), and its boxed cells
//! with each string written once per state and referred to by number after that.
//! Exact: every word and cell reads back bit for bit.

use std::sync::Arc;

use super::layout::{RowLayout, SlotStore};
use crate::ir::DataType;
use crate::snapshot::{Persist, Reader, SnapshotError, Writer};
use crate::value::Value;

/// Strings a state's table numbers; later ones are written whole every time (a
/// bound on the writer's linear search and on the reader's table).
const MAX_STRINGS: usize = 64;

fn malformed(what: impl Into<String>) -> SnapshotError {
    SnapshotError::Malformed(what.into())
}

/// Zigzag, as the writer's signed numbers: small differences of either sign are
/// small.
fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Decimal places a float is tried at (`10^0` to `10^MAX_PLACES`).
const MAX_PLACES: u32 = 4;

/// How a value word of a row is written, from its slot's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueWord {
    /// Raw, 8 bytes.
    Raw,
    /// An integer, timestamp or date: a zigzagged varint.
    Int,
    /// A float: `(zigzag(c) << 3) | (places + 1)` when the float is exactly
    /// `c / 10^places` (`|c| < 2^53`), else a 0 byte and the raw bits.
    Float,
}

/// The kind of each value word of `layout`'s rows.
fn value_words(layout: &RowLayout) -> Vec<ValueWord> {
    let mut kinds = vec![ValueWord::Raw; layout.stride - layout.value_base()];
    for slot in &layout.slots {
        if let SlotStore::Word { ty, word, .. } = *slot {
            if let Some(k) = kinds.get_mut(word) {
                *k = match ty {
                    DataType::Float64 => ValueWord::Float,
                    DataType::Int64 | DataType::Timestamp | DataType::Date => ValueWord::Int,
                    _ => ValueWord::Raw,
                };
            }
        }
    }
    kinds
}

/// `10^places` (exact in a float for `places <= 22`).
fn ten_to(places: u32) -> f64 {
    10f64.powi(places as i32)
}

/// `(c, places)` with `c / 10^places` giving back the float of `bits` bit for bit,
/// for the fewest places up to `MAX_PLACES`.
fn decimal(bits: u64) -> Option<(i64, u32)> {
    let x = f64::from_bits(bits);
    (0..=MAX_PLACES).find_map(|places| {
        let c = (x * ten_to(places)).round();
        if c.is_nan() || c.abs() >= 9_007_199_254_740_992.0 {
            return None;
        }
        // Checked as the reader computes it: through the integer (so -0.0, whose
        // integer is 0, stays raw).
        let c = c as i64;
        ((c as f64 / ten_to(places)).to_bits() == bits).then_some((c, places))
    })
}

fn save_value_word(w: &mut Writer, kind: ValueWord, x: u64) {
    match kind {
        ValueWord::Raw => w.words(&[x]),
        ValueWord::Int => w.u64(zigzag(x as i64)),
        ValueWord::Float => match decimal(x) {
            Some((c, places)) => w.u64((zigzag(c) << 3) | u64::from(places + 1)),
            None => {
                w.u8(0);
                w.words(&[x]);
            }
        },
    }
}

fn load_value_word(
    r: &mut Reader<'_>,
    kind: ValueWord,
    out: &mut Vec<u64>,
) -> Result<(), SnapshotError> {
    match kind {
        ValueWord::Raw => r.words_into(1, out),
        ValueWord::Int => {
            out.push(unzigzag(r.u64()?) as u64);
            Ok(())
        }
        ValueWord::Float => match r.u64()? {
            0 => r.words_into(1, out),
            v => {
                let tag = (v & 7) as u32;
                if tag == 0 || tag > MAX_PLACES + 1 {
                    return Err(malformed(format!("{tag} is not a float's tag")));
                }
                let places = tag - 1;
                let c = unzigzag(v >> 3) as f64;
                out.push((c / ten_to(places)).to_bits());
                Ok(())
            }
        },
    }
}

/// Writes the rows `words` (each `layout.stride` words).
pub(super) fn save_words(w: &mut Writer, words: &[u64], layout: &RowLayout) {
    let kinds = value_words(layout);
    let mut prev = 0u64;
    for row in words.chunks_exact(layout.stride) {
        w.u64(zigzag(row[0].wrapping_sub(prev) as i64));
        prev = row[0];
        for &flags in &row[1..layout.value_base()] {
            w.u64(flags);
        }
        // One presence mask per 64 value words, then the non-zero ones.
        for (chunk, kinds) in row[layout.value_base()..].chunks(64).zip(kinds.chunks(64)) {
            let present = chunk
                .iter()
                .enumerate()
                .filter(|(_, &x)| x != 0)
                .fold(0u64, |m, (i, _)| m | (1 << i));
            w.u64(present);
            for (&x, &kind) in chunk.iter().zip(kinds).filter(|(&x, _)| x != 0) {
                save_value_word(w, kind, x);
            }
        }
    }
}

/// Reads `rows` rows `save_words` wrote, appending their words to `out`.
pub(super) fn load_words(
    r: &mut Reader<'_>,
    rows: usize,
    layout: &RowLayout,
    out: &mut Vec<u64>,
) -> Result<(), SnapshotError> {
    // Each row takes at least a byte per seq, flag word and presence mask.
    let least = 1 + layout.flag_words;
    if rows.saturating_mul(least) > r.remaining() {
        return Err(malformed(format!("{rows} rows exceed the bytes left")));
    }
    let kinds = value_words(layout);
    let mut prev = 0u64;
    for _ in 0..rows {
        prev = prev.wrapping_add(unzigzag(r.u64()?) as u64);
        out.push(prev);
        for _ in 0..layout.flag_words {
            out.push(r.u64()?);
        }
        for kinds in kinds.chunks(64) {
            let n = kinds.len();
            let present = r.u64()?;
            if n < 64 && present >> n != 0 {
                return Err(malformed("a value word past the row"));
            }
            for (i, &kind) in kinds.iter().enumerate() {
                if present & (1 << i) != 0 {
                    load_value_word(r, kind, out)?;
                } else {
                    out.push(0);
                }
            }
        }
    }
    Ok(())
}

/// Writes boxed cells, numbering each string the first time it is written.
pub(super) fn save_cells(w: &mut Writer, cells: &[Value]) {
    let mut table: Vec<&str> = Vec::new();
    for v in cells {
        if let Value::String(s) = v {
            if let Some(i) = table.iter().position(|t| *t == &**s) {
                w.usize(1 + i);
                continue;
            }
            if table.len() < MAX_STRINGS {
                table.push(s);
            }
        }
        w.u8(0);
        v.save(w);
    }
}

/// Reads `n` cells `save_cells` wrote, appending them to `out`.
pub(super) fn load_cells(
    r: &mut Reader<'_>,
    n: usize,
    out: &mut Vec<Value>,
) -> Result<(), SnapshotError> {
    if n > r.remaining() {
        return Err(malformed("boxed cells exceed the bytes left"));
    }
    let mut table: Vec<Arc<str>> = Vec::new();
    for _ in 0..n {
        let v = match r.usize()? {
            0 => {
                let v = Value::load(r)?;
                if let (Value::String(s), true) = (&v, table.len() < MAX_STRINGS) {
                    table.push(Arc::clone(s));
                }
                v
            }
            i => match table.get(i - 1) {
                Some(s) => Value::String(Arc::clone(s)),
                None => return Err(malformed(format!("string {i} of {}", table.len()))),
            },
        };
        out.push(v);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::DataType;
    use proptest::prelude::*;

    fn layout(values: usize, bools: usize) -> RowLayout {
        let types = [DataType::Float64, DataType::Int64, DataType::Timestamp];
        let mut types: Vec<_> = (0..values).map(|i| Some(Some(types[i % 3]))).collect();
        types.extend(vec![Some(Some(DataType::Bool)); bools]);
        types.push(Some(Some(DataType::String)));
        RowLayout::new(&types, 3)
    }

    /// A word that is often zero, small, extreme, or a float with few decimals.
    fn word() -> impl Strategy<Value = u64> {
        prop_oneof![
            Just(0u64),
            Just(u64::MAX),
            0u64..300,
            any::<u64>(),
            (any::<i32>(), 0u32..7)
                .prop_map(|(c, p)| (f64::from(c) / 10f64.powi(p as i32)).to_bits()),
            Just((-0.0f64).to_bits()),
            Just(f64::NAN.to_bits()),
            Just(1e300f64.to_bits()),
        ]
    }

    fn cell() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            (0u8..80).prop_map(|i| Value::String(format!("s{i}").into())),
            any::<u64>().prop_map(|b| Value::Float64(f64::from_bits(b))),
            any::<i64>().prop_map(Value::Int64),
            any::<bool>().prop_map(Value::Bool),
        ]
    }

    proptest! {
        /// Any rows and cells read back bit for bit, and nothing is left over.
        #[test]
        fn rows_and_cells_round_trip(
            values in 0usize..70,
            bools in 0usize..30,
            rows in 0usize..12,
            seed in proptest::collection::vec(word(), 0..2000),
            cells in proptest::collection::vec(cell(), 0..200),
        ) {
            let layout = layout(values, bools);
            let words: Vec<u64> = (0..rows * layout.stride)
                .map(|i| seed.get(i).copied().unwrap_or(i as u64))
                .collect();
            let mut w = Writer::new();
            save_words(&mut w, &words, &layout);
            save_cells(&mut w, &cells);
            let bytes = w.into_bytes();
            let mut r = Reader::new(&bytes);
            let (mut words_back, mut cells_back) = (Vec::new(), Vec::new());
            prop_assert!(load_words(&mut r, rows, &layout, &mut words_back).is_ok());
            prop_assert!(load_cells(&mut r, cells.len(), &mut cells_back).is_ok());
            prop_assert!(r.finish().is_ok());
            prop_assert_eq!(words_back, words);
            let bits = |v: &Value| match v {
                Value::Float64(x) => format!("f{:x}", x.to_bits()),
                v => format!("{v:?}"),
            };
            prop_assert_eq!(
                cells_back.iter().map(bits).collect::<Vec<_>>(),
                cells.iter().map(bits).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn bad_references_and_words_are_errors() {
        let layout = layout(1, 0);
        // String 2 of an empty table; a presence bit past the row's one value word;
        // a float's tag of 6 decimal places, or none.
        let mut r = Reader::new(&[2]);
        assert!(load_cells(&mut r, 1, &mut Vec::new()).is_err());
        let mut r = Reader::new(&[0, 0, 2]);
        assert!(load_words(&mut r, 1, &layout, &mut Vec::new()).is_err());
        for tag in [7 | 8, 8] {
            let bytes = [0, 0, 1, tag];
            let mut r = Reader::new(&bytes);
            assert!(load_words(&mut r, 1, &layout, &mut Vec::new()).is_err());
        }
        let mut r = Reader::new(&[0, 0, 1, 3 | (2 << 3)]);
        let mut out = Vec::new();
        assert!(load_words(&mut r, 1, &layout, &mut out).is_ok());
        assert_eq!(out[2], 0.01f64.to_bits());
    }
}
