//! SplitMix64: a small deterministic generator, for tests that draw their own choices
//! from one seed (outside proptest's strategies), reproducible from the seed alone.

/// The generator's state.
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// SplitMix64's output for state `z` (the first draw of `SplitMix64::new(z)`): a
/// deterministic hash for jitter and batch sizes drawn from one seed and an index.
pub fn mix(z: u64) -> u64 {
    SplitMix64::new(z).next_u64()
}
