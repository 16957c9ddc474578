//! The hashes of the live engine: the routing hash that sends a series to its shard, and the
//! stable hash behind it and the snapshot's checksum.
//!
//! The routing hash is computed once per series as the receiver encodes its labels, and it keys
//! the shard's index as well as choosing the shard. Since the labels come from clients, it is
//! keyed with a secret chosen at start: with a fixed key anyone could compute label sets that
//! all share one hash (the mixing function is invertible) and turn a shard's index lookups into
//! scans. Nothing needs it to survive a restart: a snapshot re-routes its series on restore.

use std::hash::{BuildHasher, RandomState};
use std::sync::OnceLock;

use omen_core::Labels;

/// The stable hash that routes a series to a shard (see [`route_hash`]).
pub(crate) fn route_hash_of(labels: &Labels) -> u64 {
    route_hash(labels.as_bytes())
}

/// The routing hash of a label set's encoding (see [`Labels::encode_into`]): one pass over its bytes, so
/// that a receiver hashes each series once, as it encodes it. Keyed per process (see the
/// module's doc): the same within a process, different in the next.
pub(crate) fn route_hash(encoded: &[u8]) -> u64 {
    stable_hash(process_key(), encoded)
}

/// This process's routing key, drawn once from the standard library's per-process random
/// hashing state.
fn process_key() -> u64 {
    static KEY: OnceLock<u64> = OnceLock::new();
    *KEY.get_or_init(|| RandomState::new().hash_one(0x6f6d_656e_6c69_7665_u64)) // "omenlive"
}

/// The shard of a routing hash among `shards` (the hash's high bits, evenly spread).
pub(crate) fn shard_of(hash: u64, shards: usize) -> usize {
    ((u128::from(hash) * shards as u128) >> 64) as usize
}

/// A 64-bit hash of `bytes`, chained on `seed`, defined here so that it never changes: the
/// snapshot's checksum and, with a secret seed, routing. With a known seed, not for
/// adversarial input.
pub(crate) fn stable_hash(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = seed ^ (bytes.len() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().expect("chunks of 8"));
        h = fmix64(h ^ word);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        h = fmix64(h ^ u64::from_le_bytes(word));
    }
    fmix64(h)
}

/// MurmurHash3's 64-bit finaliser: a bijection that mixes every bit into every other.
fn fmix64(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `stable_hash`'s values are part of the snapshot format (its checksum): change them only
    /// with a reason. Routing is keyed per process: the same series goes to the same shard for
    /// the life of the process, and the key decides the hash.
    #[test]
    fn routing_is_stable_within_a_process_and_keyed() {
        let up = Labels::from_str_pairs(&[("__name__", "up"), ("job", "node")]);
        let again = Labels::from_str_pairs(&[("job", "node"), ("__name__", "up")]);
        assert_eq!(route_hash_of(&up), route_hash_of(&again));
        assert_eq!(
            route_hash_of(&up),
            stable_hash(process_key(), up.as_bytes())
        );
        assert_ne!(stable_hash(1, up.as_bytes()), stable_hash(2, up.as_bytes()));
        assert_eq!(stable_hash(0, b""), 0, "{:#x}", stable_hash(0, b""));
        assert_eq!(
            stable_hash(1, b"omen"),
            0xfd0a_7f00_7b62_7e4b,
            "{:#x}",
            stable_hash(1, b"omen")
        );
        // Moving a byte between name and value changes the hash.
        let hash_of = |pairs: &[(&str, &str)]| {
            let mut key = Vec::new();
            Labels::encode_into(pairs.iter().copied(), &mut key);
            route_hash(&key)
        };
        let a = hash_of(&[("ab", "c")]);
        let b = hash_of(&[("a", "bc")]);
        assert_ne!(a, b);
        // The shard is the hash's high bits, so every shard gets series.
        let mut counts = [0usize; 4];
        for i in 0..4000 {
            let labels = Labels::from_str_pairs(&[("__name__", "x"), ("i", &i.to_string())]);
            counts[shard_of(route_hash_of(&labels), 4)] += 1;
        }
        assert!(
            counts.iter().all(|&c| (800..1200).contains(&c)),
            "{counts:?}"
        );
        assert_eq!(shard_of(u64::MAX, 3), 2);
        assert_eq!(shard_of(0, 3), 0);
    }
}
