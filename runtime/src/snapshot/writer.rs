//! `Writer`: encodes a snapshot body one primitive at a time (see `Reader` for the
//! inverse): unsigned integers as LEB128 varints, signed ones zigzagged first, floats
//! and blocks of words as raw little-endian bytes.

/// A growing snapshot body. Encoding cannot fail; what is written is read back by
/// the `Reader` method of the same name.
#[derive(Debug, Default)]
pub struct Writer {
    buf: Vec<u8>,
}

/// Zigzag: small magnitudes of either sign become small unsigned numbers.
#[inline]
fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

impl Writer {
    pub fn new() -> Writer {
        Writer::default()
    }

    /// A writer with room for `bytes` (a good estimate saves copying a large body
    /// as it grows).
    pub fn with_capacity(bytes: usize) -> Writer {
        Writer {
            buf: Vec::with_capacity(bytes),
        }
    }

    /// The bytes written so far, to patch (a frame's header written last).
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.buf
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    #[inline]
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    #[inline]
    pub fn bool(&mut self, v: bool) {
        self.buf.push(u8::from(v));
    }

    #[inline]
    pub fn u64(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    #[inline]
    pub fn u32(&mut self, v: u32) {
        self.u64(u64::from(v));
    }

    #[inline]
    pub fn usize(&mut self, v: usize) {
        self.u64(v as u64);
    }

    #[inline]
    pub fn i64(&mut self, v: i64) {
        self.u64(zigzag(v));
    }

    /// Two words: the low one, then the high one (both zigzagged).
    pub fn i128(&mut self, v: i128) {
        self.i64(v as i64);
        self.i64((v >> 64) as i64);
    }

    #[inline]
    pub fn opt_i64(&mut self, v: Option<i64>) {
        match v {
            None => self.u8(0),
            Some(x) => {
                self.u8(1);
                self.i64(x);
            }
        }
    }

    /// The bits, raw (a float's bits are rarely small).
    #[inline]
    pub fn f64(&mut self, v: f64) {
        self.buf.extend_from_slice(&v.to_bits().to_le_bytes());
    }

    pub fn bytes(&mut self, b: &[u8]) {
        self.usize(b.len());
        self.buf.extend_from_slice(b);
    }

    pub fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    /// A block of words, raw and without its length (the reader is told it): rows
    /// of the event buffer are copied, not encoded, so a restore reads them at
    /// memory speed.
    pub fn words(&mut self, w: &[u64]) {
        self.buf.reserve(w.len() * 8);
        for x in w {
            self.buf.extend_from_slice(&x.to_le_bytes());
        }
    }

    /// An increasing (or mostly increasing) sequence as zigzagged differences: event
    /// times, which sit close together, take a byte or three each instead of eight.
    /// Without the length (the reader is told it).
    pub fn deltas(&mut self, v: &[i64]) {
        let mut prev = 0i64;
        for &x in v {
            self.i64(x.wrapping_sub(prev));
            prev = x;
        }
    }
}
