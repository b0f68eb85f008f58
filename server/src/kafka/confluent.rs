//! Confluent's wire framing of schema-registry records (`format ... confluent ID`):
//! magic byte 0, the schema id as four big-endian bytes, then for Protobuf the
//! message indexes (a zigzag varint count, then each index; `[0]` is the single byte
//! 0), then the payload. A record whose magic byte, id or indexes are not the
//! declared ones is refused naming both, never decoded with another schema.

use super::format::FormatError;

/// The payload of `record` framed with schema id `id`, after its header.
pub fn unframe(record: &[u8], id: u32) -> Result<&[u8], FormatError> {
    match record.first() {
        None => return Err("the record is empty: expected a Confluent header".into()),
        Some(0) => {}
        Some(b) => {
            return Err(FormatError(format!(
                "no Confluent header: the record starts with byte {b:#04x}, not the magic byte 0 \
                 (expected schema id {id})"
            )))
        }
    }
    let Some(bytes) = record.get(1..5) else {
        return Err(FormatError(format!(
            "the Confluent header is cut short after {} bytes (expected schema id {id})",
            record.len()
        )));
    };
    let found = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    if found != id {
        return Err(FormatError(format!(
            "the record carries schema id {found}, and the topic's records are of schema id {id}"
        )));
    }
    Ok(&record[5..])
}

/// The payload after a Protobuf record's message indexes, which must be `expected`
/// (the declared message's path in its file: `[0]` for the first message).
pub fn message_indexes<'a>(payload: &'a [u8], expected: &[i64]) -> Result<&'a [u8], FormatError> {
    let mut rest = payload;
    let count = zigzag(&mut rest)?;
    // `[0]`, the usual case, is written as a count of 0.
    let found: Vec<i64> = match count {
        0 => vec![0],
        n if n < 0 || n as usize > rest.len() => {
            return Err(FormatError(format!(
                "the Confluent message-index count {n} does not fit the record"
            )))
        }
        n => (0..n)
            .map(|_| zigzag(&mut rest))
            .collect::<Result<_, _>>()?,
    };
    if found != expected {
        return Err(FormatError(format!(
            "the record's message indexes are {found:?}, and the declared message's are \
             {expected:?}"
        )));
    }
    Ok(rest)
}

/// A zigzag-encoded varint read off the front of `bytes`.
fn zigzag(bytes: &mut &[u8]) -> Result<i64, FormatError> {
    let mut value: u64 = 0;
    for shift in (0..64).step_by(7) {
        let Some((&b, rest)) = bytes.split_first() else {
            return Err("the Confluent message indexes are cut short".into());
        };
        *bytes = rest;
        value |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok((value >> 1) as i64 ^ -((value & 1) as i64));
        }
    }
    Err("a Confluent message index is longer than a varint".into())
}

#[cfg(test)]
mod tests {
    use super::{message_indexes, unframe};

    #[test]
    fn a_header_is_checked_byte_by_byte_and_names_both_ids() {
        assert_eq!(unframe(&[0, 0, 0, 0, 42, 7, 8], 42), Ok(&[7u8, 8][..]));
        let other = unframe(&[0, 0, 0, 0, 7, 1], 42).unwrap_err().0;
        assert!(
            other.contains("schema id 7") && other.contains("42"),
            "{other}"
        );
        let bare = unframe(&[2, 1, 2, 3, 4, 5], 42).unwrap_err().0;
        assert!(bare.contains("magic byte") && bare.contains("42"), "{bare}");
        assert!(unframe(&[0, 0, 0], 42).unwrap_err().0.contains("cut short"));
        assert!(unframe(&[], 42).unwrap_err().0.contains("empty"));
    }

    #[test]
    fn message_indexes_are_zigzag_varints_with_a_short_form_for_the_first_message() {
        assert_eq!(message_indexes(&[0, 9], &[0]), Ok(&[9u8][..]));
        // [1, 2]: count 2 (zigzag 4), then 1 (2) and 2 (4).
        assert_eq!(message_indexes(&[4, 2, 4, 9], &[1, 2]), Ok(&[9u8][..]));
        let wrong = message_indexes(&[2, 2, 9], &[0]).unwrap_err().0;
        assert!(wrong.contains("[1]") && wrong.contains("[0]"), "{wrong}");
        assert!(message_indexes(&[0xff], &[0]).is_err());
        assert!(message_indexes(&[100], &[0]).is_err());
    }
}
