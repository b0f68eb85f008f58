//! `Reader`: decodes what `Writer` wrote, checking every length against the bytes
//! left, so that malformed input is an error and never a panic or a huge allocation.
//! It carries the string interner of the state being loaded: every string cell comes
//! back shared, as ingest would have made it.

use std::sync::Arc;

use super::error::SnapshotError;
use crate::row::Interner;

/// Containers may claim at most this many elements of capacity (beyond what they
/// hold), so that a malformed capacity cannot ask for the whole address space.
const MAX_CAPACITY: usize = 1 << 32;

/// A snapshot body being read, front to back.
#[derive(Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    strings: Interner,
}

fn malformed(what: impl Into<String>) -> SnapshotError {
    SnapshotError::Malformed(what.into())
}

#[inline]
fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader {
            bytes,
            pos: 0,
            strings: Interner::default(),
        }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// An error unless every byte was read.
    pub fn finish(&self) -> Result<(), SnapshotError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(malformed(format!("{n} bytes left after the state"))),
        }
    }

    /// The interner strings are loaded through (swap a group's own in and out).
    pub(crate) fn strings_mut(&mut self) -> &mut Interner {
        &mut self.strings
    }

    #[inline]
    fn take(&mut self, n: usize) -> Result<&'a [u8], SnapshotError> {
        if n > self.remaining() {
            return Err(malformed(format!(
                "{n} bytes wanted at offset {}, {} left",
                self.pos,
                self.remaining()
            )));
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    #[inline]
    pub fn u8(&mut self) -> Result<u8, SnapshotError> {
        match self.bytes.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => Err(malformed("the body ends inside a value")),
        }
    }

    pub fn bool(&mut self) -> Result<bool, SnapshotError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(malformed(format!("{b} is not a boolean"))),
        }
    }

    #[inline]
    pub fn u64(&mut self) -> Result<u64, SnapshotError> {
        let mut v = 0u64;
        let mut shift = 0u32;
        loop {
            let b = self.u8()?;
            if shift == 63 && b > 1 {
                return Err(malformed("a varint overflows 64 bits"));
            }
            v |= u64::from(b & 0x7F) << shift;
            if b < 0x80 {
                return Ok(v);
            }
            shift += 7;
            if shift > 63 {
                return Err(malformed("a varint overflows 64 bits"));
            }
        }
    }

    pub fn u32(&mut self) -> Result<u32, SnapshotError> {
        u32::try_from(self.u64()?).map_err(|_| malformed("a 32-bit number overflows"))
    }

    pub fn usize(&mut self) -> Result<usize, SnapshotError> {
        usize::try_from(self.u64()?).map_err(|_| malformed("a size overflows"))
    }

    #[inline]
    pub fn i64(&mut self) -> Result<i64, SnapshotError> {
        Ok(unzigzag(self.u64()?))
    }

    pub fn i128(&mut self) -> Result<i128, SnapshotError> {
        let lo = self.i64()? as u64;
        let hi = self.i64()?;
        Ok((i128::from(hi) << 64) | i128::from(lo))
    }

    pub fn opt_i64(&mut self) -> Result<Option<i64>, SnapshotError> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(self.i64()?)),
            b => Err(malformed(format!("{b} is not an option tag"))),
        }
    }

    #[inline]
    pub fn f64(&mut self) -> Result<f64, SnapshotError> {
        let b = self.take(8)?;
        let mut w = [0u8; 8];
        w.copy_from_slice(b);
        Ok(f64::from_bits(u64::from_le_bytes(w)))
    }

    /// A count of things each encoded in at least `min_bytes` bytes: refused when
    /// the bytes left cannot hold that many (so nothing is allocated for it).
    pub fn count(&mut self, min_bytes: usize) -> Result<usize, SnapshotError> {
        let n = self.usize()?;
        if n.saturating_mul(min_bytes.max(1)) > self.remaining() {
            return Err(malformed(format!("a count of {n} exceeds the bytes left")));
        }
        Ok(n)
    }

    /// A capacity written beside a container of `len` elements: at least `len`,
    /// and bounded (see `MAX_CAPACITY`).
    pub fn capacity(&mut self, len: usize) -> Result<usize, SnapshotError> {
        let cap = self.usize()?;
        if cap < len || cap - len > MAX_CAPACITY {
            return Err(malformed(format!("capacity {cap} for {len} elements")));
        }
        Ok(cap)
    }

    pub fn bytes(&mut self) -> Result<&'a [u8], SnapshotError> {
        let n = self.count(1)?;
        self.take(n)
    }

    pub fn str(&mut self) -> Result<&'a str, SnapshotError> {
        std::str::from_utf8(self.bytes()?).map_err(|_| malformed("a string is not UTF-8"))
    }

    /// A string cell, shared through the interner like an ingested one.
    pub fn string(&mut self) -> Result<Arc<str>, SnapshotError> {
        let s = self.str()?;
        Ok(self.strings.get(s))
    }

    /// `Writer::words` of `n` words, appended to `out`.
    pub fn words_into(&mut self, n: usize, out: &mut Vec<u64>) -> Result<(), SnapshotError> {
        let raw = self.take(
            n.checked_mul(8)
                .ok_or_else(|| malformed("too many words"))?,
        )?;
        out.extend(raw.chunks_exact(8).map(|c| {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            u64::from_le_bytes(w)
        }));
        Ok(())
    }

    /// `Writer::deltas` of `n` numbers, appended to `out`.
    pub fn deltas_into(&mut self, n: usize, out: &mut Vec<i64>) -> Result<(), SnapshotError> {
        if n > self.remaining() {
            return Err(malformed(format!("{n} numbers exceed the bytes left")));
        }
        let mut prev = 0i64;
        for _ in 0..n {
            prev = prev.wrapping_add(self.i64()?);
            out.push(prev);
        }
        Ok(())
    }
}

/// An empty vector with room for exactly `cap` elements (`Vec::try_reserve_exact`:
/// an allocation failure is an error, not an abort), so that a restored container
/// has the capacity, hence the memory and `Metrics::state_bytes`, it was saved with.
pub fn vec_with_capacity<T>(cap: usize) -> Result<Vec<T>, SnapshotError> {
    let mut v = Vec::new();
    v.try_reserve_exact(cap)
        .map_err(|e| malformed(format!("cannot allocate {cap} elements: {e}")))?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::super::writer::Writer;
    use super::*;

    #[test]
    fn every_primitive_reads_back_as_written() {
        let mut w = Writer::new();
        let ints = [0i64, 1, -1, 63, -64, 64, i64::MIN, i64::MAX];
        ints.iter().for_each(|&x| w.i64(x));
        [0u64, 127, 128, u64::MAX].iter().for_each(|&x| w.u64(x));
        w.i128(i128::MIN);
        w.i128(-3);
        w.f64(-0.0);
        w.opt_i64(None);
        w.opt_i64(Some(-5));
        w.str("grocery");
        w.str("grocery");
        w.deltas(&[5, 3, i64::MAX, i64::MIN]);
        w.words(&[1, u64::MAX]);
        let bytes = w.into_bytes();
        let mut r = Reader::new(&bytes);
        for &x in &ints {
            assert_eq!(r.i64().ok(), Some(x));
        }
        for x in [0u64, 127, 128, u64::MAX] {
            assert_eq!(r.u64().ok(), Some(x));
        }
        assert_eq!(r.i128().ok(), Some(i128::MIN));
        assert_eq!(r.i128().ok(), Some(-3));
        assert_eq!(r.f64().ok().map(f64::to_bits), Some((-0.0f64).to_bits()));
        assert_eq!(r.opt_i64().ok(), Some(None));
        assert_eq!(r.opt_i64().ok(), Some(Some(-5)));
        let (a, b) = (r.string().ok(), r.string().ok());
        assert!(matches!((&a, &b), (Some(a), Some(b)) if Arc::ptr_eq(a, b) && &**a == "grocery"));
        let mut ts = Vec::new();
        assert!(r.deltas_into(4, &mut ts).is_ok());
        assert_eq!(ts, [5, 3, i64::MAX, i64::MIN]);
        let mut words = Vec::new();
        assert!(r.words_into(2, &mut words).is_ok());
        assert_eq!(words, [1, u64::MAX]);
        assert!(r.finish().is_ok());
    }

    #[test]
    fn malformed_input_is_an_error() {
        // An eleven-byte varint, a count beyond the bytes left, a capacity below the
        // length, a string that is not UTF-8, and reading past the end.
        let mut r = Reader::new(&[0xFF; 11]);
        assert!(r.u64().is_err());
        let mut r = Reader::new(&[0xFF, 0xFF, 0xFF, 0xFF, 0x0F]);
        assert!(r.count(1).is_err());
        let mut r = Reader::new(&[2]);
        assert!(r.capacity(3).is_err());
        let mut r = Reader::new(&[1, 0xFF]);
        assert!(r.str().is_err());
        let mut r = Reader::new(&[]);
        assert!(r.u8().is_err());
        assert!(r.f64().is_err());
        let r = Reader::new(&[1]);
        assert!(r.finish().is_err());
    }
}
