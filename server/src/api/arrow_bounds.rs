//! The bounds an Arrow IPC body is checked against before Arrow reads it. Arrow's
//! reader trusts what a stream declares: a message's length prefix, a body's length
//! and a compressed buffer's uncompressed size are each allocated (or decompressed
//! into) before anything says the bytes exist, so 8 bytes can cost 2 GiB and a
//! 26 KB lz4 body 1.4 GB. This walks the stream's framing first, without allocating:
//! every declared length must fit in the bytes actually present, the buffers must
//! decode to at most `Bounds::bytes` in all (compressed ones by their declared
//! size, and an lz4 buffer must not decompress to more than it declares), and no
//! column may declare more values than `Bounds::values`.

use std::io::Read;

use datafusion::arrow::ipc::{
    root_as_message, CompressionType, MessageHeader, RecordBatch as BatchHeader,
};

use super::bad;
use super::error::ApiError;

/// What one Arrow body may decode to.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// The bytes every buffer of the stream decodes to, summed (`--max-body`).
    pub bytes: usize,
    /// The values any one column (or the rows of a batch) may declare.
    pub values: usize,
}

/// The stream's continuation marker (before each message's length since Arrow 0.15).
const CONTINUATION: [u8; 4] = [0xff; 4];

/// Checks `body`'s framing against `bounds` (see the module docs).
pub fn check(body: &[u8], bounds: Bounds) -> Result<(), ApiError> {
    let mut at = 0usize;
    let mut decoded = 0usize;
    while body.len() - at >= 4 {
        let mut word = &body[at..at + 4];
        at += 4;
        if word == CONTINUATION {
            word = body
                .get(at..at + 4)
                .ok_or_else(|| refuse("ends inside a message's length"))?;
            at += 4;
        }
        let declared = i32::from_le_bytes([word[0], word[1], word[2], word[3]]);
        if declared == 0 {
            // The end-of-stream marker: Arrow reads nothing after it.
            return Ok(());
        }
        let meta_len = fits(i64::from(declared), body.len() - at, "a message's metadata")?;
        let message = root_as_message(&body[at..at + meta_len])
            .map_err(|e| refuse(&format!("a message's metadata is not valid: {e}")))?;
        at += meta_len;
        let body_len = fits(message.bodyLength(), body.len() - at, "a message's body")?;
        let data = &body[at..at + body_len];
        at += body_len;
        let batch = match message.header_type() {
            MessageHeader::RecordBatch => message.header_as_record_batch(),
            MessageHeader::DictionaryBatch => {
                message.header_as_dictionary_batch().and_then(|d| d.data())
            }
            _ => None,
        };
        if let Some(batch) = batch {
            decoded = decoded.saturating_add(batch_bytes(&batch, data, bounds)?);
            if decoded > bounds.bytes {
                return Err(refuse(&format!(
                    "its buffers decode to more than the limit of {} bytes (--max-body)",
                    bounds.bytes
                )));
            }
        }
    }
    Ok(())
}

/// A declared length that must be non-negative and at most `present` bytes.
fn fits(declared: i64, present: usize, what: &str) -> Result<usize, ApiError> {
    usize::try_from(declared)
        .ok()
        .filter(|n| *n <= present)
        .ok_or_else(|| {
            refuse(&format!(
                "{what} declares {declared} bytes where {present} remain"
            ))
        })
}

/// The bytes one batch's buffers decode to, after checking each lies in `data` and
/// the batch's declared value counts are within `bounds.values`.
fn batch_bytes(batch: &BatchHeader<'_>, data: &[u8], bounds: Bounds) -> Result<usize, ApiError> {
    let too_many = |n: i64| {
        refuse(&format!(
            "a batch declares {n} values in one column; at most {} are allowed",
            bounds.values
        ))
    };
    let values = |n: i64| usize::try_from(n).ok().filter(|n| *n <= bounds.values);
    values(batch.length()).ok_or_else(|| too_many(batch.length()))?;
    for node in batch.nodes().iter().flatten() {
        values(node.length()).ok_or_else(|| too_many(node.length()))?;
    }
    let codec = batch.compression().map(|c| c.codec());
    let mut total = 0usize;
    for buffer in batch.buffers().iter().flatten() {
        let offset = fits(buffer.offset(), data.len(), "a buffer's offset")?;
        let length = fits(buffer.length(), data.len() - offset, "a buffer")?;
        let bytes = &data[offset..offset + length];
        let size = match codec {
            None => length,
            Some(codec) => compressed_size(bytes, codec, bounds.bytes)?,
        };
        total = total.saturating_add(size);
        if total > bounds.bytes {
            break;
        }
    }
    Ok(total)
}

/// What a compressed buffer decodes to: its declared size (the first 8 bytes; -1:
/// stored uncompressed), checked against `limit` and, for lz4, against what it
/// actually decompresses to (Arrow's lz4 reads to the end whatever was declared;
/// its zstd stops at the declared size).
fn compressed_size(bytes: &[u8], codec: CompressionType, limit: usize) -> Result<usize, ApiError> {
    let Some(prefix) = bytes.get(..8) else {
        return Ok(bytes.len());
    };
    let mut size = [0u8; 8];
    size.copy_from_slice(prefix);
    let declared = i64::from_le_bytes(size);
    if declared == -1 {
        return Ok(bytes.len() - 8);
    }
    let declared = usize::try_from(declared)
        .ok()
        .filter(|n| *n <= limit)
        .ok_or_else(|| {
            refuse(&format!(
                "a compressed buffer declares {declared} bytes; the limit is {limit} (--max-body)"
            ))
        })?;
    if codec == CompressionType::LZ4_FRAME {
        let limit = u64::try_from(declared)
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        let mut decoder = lz4_flex::frame::FrameDecoder::new(&bytes[8..]).take(limit);
        let actual = std::io::copy(&mut decoder, &mut std::io::sink())
            .map_err(|e| refuse(&format!("a compressed buffer cannot be read: {e}")))?;
        if actual != limit - 1 {
            return Err(refuse(&format!(
                "a compressed buffer declares {declared} bytes but does not decompress to that"
            )));
        }
    }
    Ok(declared)
}

fn refuse(why: &str) -> ApiError {
    bad(
        "body",
        format!("cannot read the body as an Arrow IPC stream: {why}"),
    )
}
