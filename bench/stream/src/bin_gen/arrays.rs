//! A drawn chunk's columns as the Arrow arrays of the events schema. The numeric and
//! bit columns become arrays without a copy (their vectors are the arrays' buffers);
//! the category strings are built by the worker that encodes them.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::buffer::{BooleanBuffer, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};

use crate::chunk::{bit, Chunk};
use crate::params::CATEGORIES;

/// A column waiting to be made into its array.
pub type Column = Box<dyn FnOnce() -> ArrayRef + Send>;

/// The chunk's user ids (also read to mark the users seen) and every column in
/// schema order.
pub fn columns(chunk: Chunk) -> (Arc<Int64Array>, Vec<Column>) {
    let rows = chunk.rows;
    let bits = move |words: Vec<u64>| BooleanBuffer::new(Buffer::from_vec(words), 0, rows);
    let nulls = move |words: Vec<u64>| Some(NullBuffer::new(bits(words)));
    let user = Arc::new(Int64Array::new(ScalarBuffer::from(chunk.user), None));
    let ts: ArrayRef = Arc::new(
        TimestampMicrosecondArray::new(ScalarBuffer::from(chunk.ts), None).with_timezone("UTC"),
    );
    let amount: ArrayRef = Arc::new(Float64Array::new(
        ScalarBuffer::from(chunk.amount),
        nulls(chunk.amount_valid),
    ));
    let mobile: ArrayRef = Arc::new(BooleanArray::new(
        bits(chunk.mobile),
        nulls(chunk.mobile_valid),
    ));
    let (category, category_valid) = (chunk.category, chunk.category_valid);
    let user_column: ArrayRef = user.clone();
    let columns: Vec<Column> = vec![
        Box::new(move || user_column),
        Box::new(move || ts),
        Box::new(move || amount),
        Box::new(move || categories(&category, category_valid, rows)),
        Box::new(move || mobile),
    ];
    (user, columns)
}

/// The category strings (empty under a null).
fn categories(index: &[u8], valid: Vec<u64>, rows: usize) -> ArrayRef {
    let mut offsets = Vec::with_capacity(rows + 1);
    let mut values = Vec::with_capacity(rows * 6);
    offsets.push(0i32);
    for (r, &i) in index.iter().enumerate() {
        if bit(&valid, r) {
            values.extend_from_slice(CATEGORIES[i as usize].as_bytes());
        }
        offsets.push(values.len() as i32);
    }
    let nulls = NullBuffer::new(BooleanBuffer::new(Buffer::from_vec(valid), 0, rows));
    Arc::new(StringArray::new(
        OffsetBuffer::new(ScalarBuffer::from(offsets)),
        Buffer::from_vec(values),
        Some(nulls),
    ))
}
