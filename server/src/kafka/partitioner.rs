//! The partition of a keyed record: Kafka's default partitioner, murmur2 of the key's
//! bytes made positive, modulo the topic's partitions. It is the Java producer's,
//! kafka-python's and librdkafka's `murmur2_random` (`cli/tests/kafka_partitioner.rs`
//! checks it against librdkafka), so a topic keyed by an entity and produced by any
//! of them puts each entity's records in the partition featc computes for it.

/// Kafka's murmur2 (`org.apache.kafka.common.utils.Utils.murmur2`): 32 bits, seed
/// `0x9747b28c`, the key read in little-endian words.
pub fn murmur2(data: &[u8]) -> i32 {
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let mut h: u32 = 0x9747_b28c ^ data.len() as u32;
    let mut words = data.chunks_exact(4);
    for w in &mut words {
        let mut k = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = words.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate().rev() {
            h ^= u32::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// The partition, of `partitions`, that a record with key `key` goes to (`None`
/// for a topic without partitions).
pub fn partition_of(key: &[u8], partitions: i32) -> Option<i32> {
    (partitions > 0).then(|| (murmur2(key) & 0x7fff_ffff) % partitions)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kafka's own vectors (`UtilsTest.testMurmur2`).
    #[test]
    fn kafkas_vectors() {
        for (key, hash) in [
            ("21", -973_932_308),
            ("foobar", -790_332_482),
            ("a-little-bit-long-string", -985_981_536),
            ("a-little-bit-longer-string", -1_486_304_829),
            (
                "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58_897_971,
            ),
            ("abc", 479_470_107),
        ] {
            assert_eq!(murmur2(key.as_bytes()), hash, "{key}");
        }
    }

    #[test]
    fn partitions_are_in_range_and_none_without_any() {
        for key in ["", "a", "user-17", "0123456789"] {
            for n in [1, 3, 7, 64] {
                let p = partition_of(key.as_bytes(), n).expect("some");
                assert!((0..n).contains(&p), "{key} of {n}: {p}");
            }
            assert_eq!(partition_of(key.as_bytes(), 0), None);
        }
    }
}
