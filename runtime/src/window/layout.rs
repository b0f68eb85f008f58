//! `RowLayout`: how the event buffer encodes one event's inputs and filter bits in
//! 64-bit words, so a buffered event costs a few words instead of a `Value` per input.

use crate::ir::DataType;
use crate::value::Value;

/// A 2-bit tag per word-stored input says what the row holds for it: 0 (the value of
/// freshly zeroed flag words) is null, then a value of the slot's type, or an odd one.
pub(crate) const TAG_VALUE: u64 = 1;
/// The value does not have the slot's declared type: it is kept whole in the buffer's
/// side table, so the accumulators still see (and report) the mismatch.
pub(crate) const TAG_ODD: u64 = 2;

/// Where one input slot lives in a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SlotStore {
    /// No feature reads the slot: nothing is stored, it reads as null.
    Unused,
    /// A fixed-width value in word `word` of the row's value words, with its tag at
    /// flag bit `tag`.
    Word { ty: DataType, word: usize, tag: u32 },
    /// A boolean entirely in flag bits: the tag at `tag`, the value at `tag + 2`.
    Bit { tag: u32 },
    /// A `Value` in the buffer's boxed cells (strings, or slots read with several types).
    Boxed { index: usize },
}

/// Row encoding shared by every key of a `KeySpec`.
///
/// A row is `stride` words: the event's `seq`, then `flag_words` words of bits (the
/// filters at bits `0..n_filters`, then the inputs' tags and boolean values), then one
/// word per `Word` slot. Invariant: decoding an encoded value gives back an equal
/// value, bit for bit (floats by their bits, so -0.0 and NaN payloads survive).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RowLayout {
    pub slots: Vec<SlotStore>,
    pub n_filters: usize,
    pub flag_words: usize,
    pub stride: usize,
    pub n_boxed: usize,
}

impl RowLayout {
    /// The layout for `n_inputs` slots whose readers declare `types[i]` (`None` when
    /// no feature reads slot `i`, `Some(None)` when readers disagree or the type has
    /// no fixed width) and `n_filters` filter bits.
    pub fn new(types: &[Option<Option<DataType>>], n_filters: usize) -> RowLayout {
        let mut bits = n_filters as u32;
        let (mut words, mut boxed) = (0, 0);
        let slots = types
            .iter()
            .map(|t| match t {
                None => SlotStore::Unused,
                Some(Some(DataType::Bool)) => {
                    bits += 3;
                    SlotStore::Bit { tag: bits - 3 }
                }
                Some(Some(
                    ty @ (DataType::Int64
                    | DataType::Float64
                    | DataType::Timestamp
                    | DataType::Date),
                )) => {
                    bits += 2;
                    words += 1;
                    SlotStore::Word {
                        ty: *ty,
                        word: words - 1,
                        tag: bits - 2,
                    }
                }
                Some(_) => {
                    boxed += 1;
                    SlotStore::Boxed { index: boxed - 1 }
                }
            })
            .collect();
        // Bit groups may straddle two flag words (`get_bits` joins them).
        let flag_words = (bits as usize).div_ceil(64).max(1);
        RowLayout {
            slots,
            n_filters,
            flag_words,
            stride: 1 + flag_words + words,
            n_boxed: boxed,
        }
    }

    /// The word offset (within a row) of the first value word.
    #[inline]
    pub fn value_base(&self) -> usize {
        1 + self.flag_words
    }

    /// Writes input `v` of slot `slot` into a row's zeroed flag words, value words and
    /// boxed cells; returns true when `v` does not have the slot's type (the row
    /// then tags it odd and its owner keeps it whole, see `TAG_ODD`).
    #[inline]
    pub fn encode(
        &self,
        slot: usize,
        v: &Value,
        flags: &mut [u64],
        values: &mut [u64],
        boxed: &mut [Value],
    ) -> bool {
        match (self.slots.get(slot), v) {
            (None | Some(SlotStore::Unused), _) | (_, Value::Null) => false,
            (Some(&SlotStore::Boxed { index }), _) => {
                boxed[index] = v.clone();
                false
            }
            (Some(&SlotStore::Word { ty, word, tag }), _) => match encode_word(ty, v) {
                Some(x) => {
                    values[word] = x;
                    set_bits(flags, tag, 2, TAG_VALUE);
                    false
                }
                None => {
                    set_bits(flags, tag, 2, TAG_ODD);
                    true
                }
            },
            (Some(&SlotStore::Bit { tag }), Value::Bool(x)) => {
                set_bits(flags, tag, 3, TAG_VALUE | (u64::from(*x) << 2));
                false
            }
            (Some(&SlotStore::Bit { tag }), _) => {
                set_bits(flags, tag, 3, TAG_ODD);
                true
            }
        }
    }

    /// The value of input slot `slot` in a row of flag words `flags`, value words
    /// `values` and boxed cells `boxed`; `odd` gives the value kept whole for an
    /// odd-tagged cell. Inverse of `encode`.
    #[inline]
    pub fn decode<'a>(
        &self,
        slot: usize,
        flags: &[u64],
        values: &[u64],
        boxed: &'a [Value],
        odd: impl FnOnce() -> &'a Value,
    ) -> Cell<'a> {
        match self.slots.get(slot) {
            None | Some(SlotStore::Unused) => Cell::Borrowed(&NULL),
            Some(&SlotStore::Word { ty, word, tag }) => match get_bits(flags, tag, 2) {
                TAG_VALUE => Cell::Owned(decode_word(ty, values[word])),
                TAG_ODD => Cell::Borrowed(odd()),
                _ => Cell::Borrowed(&NULL),
            },
            Some(&SlotStore::Bit { tag }) => {
                let bits = get_bits(flags, tag, 3);
                match bits & 3 {
                    TAG_VALUE => Cell::Owned(Value::Bool(bits >> 2 == 1)),
                    TAG_ODD => Cell::Borrowed(odd()),
                    _ => Cell::Borrowed(&NULL),
                }
            }
            Some(&SlotStore::Boxed { index }) => Cell::Borrowed(&boxed[index]),
        }
    }
}

const NULL: Value = Value::Null;

/// Reads `width` bits at bit `at` of a row's flag words.
#[inline]
pub(crate) fn get_bits(flags: &[u64], at: u32, width: u32) -> u64 {
    let (w, b) = ((at / 64) as usize, at % 64);
    let lo = flags[w] >> b;
    let v = if b + width > 64 {
        lo | (flags[w + 1] << (64 - b))
    } else {
        lo
    };
    v & ((1u64 << width) - 1)
}

/// Sets `width` bits at bit `at` of a row's flag words (they must be zero before).
#[inline]
pub(crate) fn set_bits(flags: &mut [u64], at: u32, width: u32, v: u64) {
    let (w, b) = ((at / 64) as usize, at % 64);
    flags[w] |= v << b;
    if b + width > 64 {
        flags[w + 1] |= v >> (64 - b);
    }
}

/// A cell read back from a row: fixed-width values are rebuilt, others borrowed.
pub(crate) enum Cell<'a> {
    Owned(Value),
    Borrowed(&'a Value),
}

impl Cell<'_> {
    #[inline]
    pub fn get(&self) -> &Value {
        match self {
            Cell::Owned(v) => v,
            Cell::Borrowed(v) => v,
        }
    }
}

/// The word encoding of a value of fixed-width type `ty` (`None`: another variant).
#[inline]
pub(crate) fn encode_word(ty: DataType, v: &Value) -> Option<u64> {
    match (ty, v) {
        (DataType::Int64, Value::Int64(x)) | (DataType::Timestamp, Value::Timestamp(x)) => {
            Some(*x as u64)
        }
        (DataType::Float64, Value::Float64(x)) => Some(x.to_bits()),
        (DataType::Date, Value::Date(d)) => Some(i64::from(*d) as u64),
        _ => None,
    }
}

/// The value of type `ty` a word encodes.
#[inline]
pub(crate) fn decode_word(ty: DataType, w: u64) -> Value {
    match ty {
        DataType::Float64 => Value::Float64(f64::from_bits(w)),
        DataType::Timestamp => Value::Timestamp(w as i64),
        // A date's word is its day widened (`encode_word`): the low 32 bits.
        DataType::Date => Value::Date(w as i64 as i32),
        _ => Value::Int64(w as i64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_round_trip_across_word_edges() {
        let mut f = [0u64; 2];
        set_bits(&mut f, 62, 3, 0b101);
        assert_eq!(get_bits(&f, 62, 3), 0b101);
        set_bits(&mut f, 5, 2, 0b10);
        assert_eq!(get_bits(&f, 5, 2), 0b10);
        assert_eq!(get_bits(&f, 62, 3), 0b101);
    }

    #[test]
    fn words_round_trip_bit_for_bit() {
        for v in [
            Value::Float64(-0.0),
            Value::Float64(f64::from_bits(0x7ff8_0000_0000_0001)),
            Value::Float64(f64::MIN_POSITIVE / 4.0),
        ] {
            let w = encode_word(DataType::Float64, &v).unwrap();
            let Value::Float64(back) = decode_word(DataType::Float64, w) else {
                panic!("not a float");
            };
            let Value::Float64(x) = v else { unreachable!() };
            assert_eq!(back.to_bits(), x.to_bits());
        }
        for ty in [DataType::Int64, DataType::Timestamp] {
            let v = if ty == DataType::Int64 {
                Value::Int64(i64::MIN)
            } else {
                Value::Timestamp(-1)
            };
            assert_eq!(decode_word(ty, encode_word(ty, &v).unwrap()), v);
        }
        for d in [
            Value::Date(-719_162),
            Value::Date(0),
            Value::Date(2_932_896),
        ] {
            let w = encode_word(DataType::Date, &d).unwrap();
            assert_eq!(decode_word(DataType::Date, w), d);
        }
        assert_eq!(encode_word(DataType::Int64, &Value::Float64(1.0)), None);
    }

    #[test]
    fn layout_places_bools_in_flags_and_strings_boxed() {
        let l = RowLayout::new(
            &[
                Some(Some(DataType::Float64)),
                Some(Some(DataType::Bool)),
                Some(Some(DataType::String)),
                None,
                Some(None),
            ],
            2,
        );
        assert_eq!(
            l.slots,
            vec![
                SlotStore::Word {
                    ty: DataType::Float64,
                    word: 0,
                    tag: 2
                },
                SlotStore::Bit { tag: 4 },
                SlotStore::Boxed { index: 0 },
                SlotStore::Unused,
                SlotStore::Boxed { index: 1 },
            ]
        );
        assert_eq!((l.flag_words, l.stride, l.n_boxed), (1, 3, 2));
    }
}
