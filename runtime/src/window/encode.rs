//! Writes a batch's evaluated input and filter columns into the window state's row
//! encoding (`window::EncodedRows`) column by column, so that pushing each event
//! into its entity's buffer copies a few words.

use datafusion::arrow::array::Array;
use datafusion::arrow::buffer::BooleanBuffer;

use super::encoded::EncodedRows;
use super::layout::SlotStore;
use crate::ir::DataType;
use crate::row::{Cells, Interner};
use crate::value::Value;

/// Writes input column `cells` into slot `slot` of `rows` (one row per batch row).
/// A column of the slot's own type is copied by its storage; any other goes value by
/// value (kept whole where the types disagree, as the buffer keeps it).
pub(crate) fn encode_input(
    rows: &mut EncodedRows,
    slot: usize,
    cells: &Cells<'_>,
    strings: &mut Interner,
) {
    let n = rows.len();
    match (rows.store(slot), cells) {
        (SlotStore::Unused, _) => {}
        (
            SlotStore::Word {
                ty: DataType::Float64,
                word,
                tag,
            },
            Cells::Float64(a),
        ) => {
            for r in (0..n).filter(|&r| a.is_valid(r)) {
                rows.put_word(r, word, tag, a.value(r).to_bits());
            }
        }
        (
            SlotStore::Word {
                ty: DataType::Int64,
                word,
                tag,
            },
            Cells::Int64(a),
        ) => {
            for r in (0..n).filter(|&r| a.is_valid(r)) {
                rows.put_word(r, word, tag, a.value(r) as u64);
            }
        }
        (
            SlotStore::Word {
                ty: DataType::Timestamp,
                word,
                tag,
            },
            Cells::Timestamp(a),
        ) => {
            for r in (0..n).filter(|&r| a.is_valid(r)) {
                rows.put_word(r, word, tag, a.value(r) as u64);
            }
        }
        (
            SlotStore::Word {
                ty: DataType::Date,
                word,
                tag,
            },
            Cells::Date(a),
        ) => {
            for r in (0..n).filter(|&r| a.is_valid(r)) {
                rows.put_word(r, word, tag, i64::from(a.value(r)) as u64);
            }
        }
        (SlotStore::Bit { tag }, Cells::Bool(a)) => {
            let values = a.values();
            for r in (0..n).filter(|&r| a.is_valid(r)) {
                rows.put_bit(r, tag, values.value(r));
            }
        }
        (SlotStore::Boxed { index }, Cells::String(a)) => {
            for r in (0..n).filter(|&r| a.is_valid(r)) {
                rows.put_boxed(r, index, Value::String(strings.get(a.value(r))));
            }
        }
        _ => {
            for r in 0..n {
                rows.put_value(r, slot, &cells.get_interned(r, strings));
            }
        }
    }
}

/// Marks the rows passing filter slot `f` (`pass`, from `expr::mask::conjunction`).
pub(crate) fn encode_filter(rows: &mut EncodedRows, f: usize, pass: &BooleanBuffer) {
    let n = rows.len();
    for r in pass.set_indices().take_while(|&r| r < n) {
        rows.set_filter(r, f);
    }
}
