//! A series' label set, stored once per series, and the hash that routes it to a shard.
//!
//! The labels are encoded in one shared allocation as `name 0xFF value 0xFF ...`, sorted by
//! name (0xFF never occurs in UTF-8, so the encoding is unambiguous). The shard's index, the
//! published view and the snapshot all share it; cloning is a reference count.
//!
//! The routing hash is computed once per series as the receiver encodes its labels, and it keys
//! the shard's index as well as choosing the shard. Since the labels come from clients, it is
//! keyed with a secret chosen at start: with a fixed key anyone could compute label sets that
//! all share one hash (the mixing function is invertible) and turn a shard's index lookups into
//! scans. Nothing needs it to survive a restart: a snapshot re-routes its series on restore.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, OnceLock};

const SEPARATOR: u8 = 0xFF;

/// The label that holds the metric name.
pub(crate) const METRIC_NAME: &str = "__name__";

/// The labels of one series, `__name__` included, sorted by name.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Labels(Arc<[u8]>);

impl Labels {
    /// Labels from `(name, value)` pairs, sorted by name here if they are not already.
    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        let mut bytes = Vec::new();
        if pairs.is_sorted_by(|a, b| a.0 <= b.0) {
            encode(
                pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())),
                &mut bytes,
            );
        } else {
            let mut sorted: Vec<_> = pairs
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            sorted.sort();
            encode(sorted.into_iter(), &mut bytes);
        }
        Self(bytes.into())
    }

    /// Labels from an encoding made by [`encode`].
    pub(crate) fn from_trusted(bytes: &[u8]) -> Self {
        Self(bytes.into())
    }

    /// Labels from the encoding (a snapshot's), checked: UTF-8 and whole pairs.
    pub(crate) fn from_encoded(bytes: &[u8]) -> Option<Self> {
        if bytes.is_empty() {
            return Some(Self(bytes.into()));
        }
        if bytes.last() != Some(&SEPARATOR) {
            return None;
        }
        let parts = bytes[..bytes.len() - 1].split(|b| *b == SEPARATOR);
        let mut count = 0;
        for part in parts {
            std::str::from_utf8(part).ok()?;
            count += 1;
        }
        (count % 2 == 0).then(|| Self(bytes.into()))
    }

    /// The encoding: `name 0xFF value 0xFF ...`.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The `(name, value)` pairs, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        let body = self.0.strip_suffix(&[SEPARATOR]).unwrap_or(&[]);
        let mut parts = body
            .split(|b| *b == SEPARATOR)
            .map(|part| std::str::from_utf8(part).unwrap_or(""));
        // An empty body splits into one empty part, which makes no pair.
        std::iter::from_fn(move || {
            let name = parts.next()?;
            let value = parts.next()?;
            Some((name, value))
        })
    }

    /// The value of the label `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// The metric name (`__name__`), empty when there is none.
    pub fn metric_name(&self) -> &str {
        self.get(METRIC_NAME).unwrap_or("")
    }

    /// The pairs as owned strings.
    pub fn to_pairs(&self) -> Vec<(String, String)> {
        self.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    /// The stable hash that routes the series to a shard.
    pub fn route_hash(&self) -> u64 {
        route_hash(&self.0)
    }
}

impl Borrow<[u8]> for Labels {
    fn borrow(&self) -> &[u8] {
        &self.0
    }
}

/// Prometheus' text form: `name{a="x", b="y"}`.
impl fmt::Display for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.metric_name())?;
        f.write_str("{")?;
        let mut first = true;
        for (name, value) in self.iter().filter(|(n, _)| *n != "__name__") {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            write!(f, "{name}={value:?}")?;
        }
        f.write_str("}")
    }
}

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Append the encoding of sorted pairs to `out`.
pub(crate) fn encode<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>, out: &mut Vec<u8>) {
    for (name, value) in pairs {
        out.extend_from_slice(name.as_bytes());
        out.push(SEPARATOR);
        out.extend_from_slice(value.as_bytes());
        out.push(SEPARATOR);
    }
}

/// The routing hash of a label set's encoding (see [`encode`]): one pass over its bytes, so
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

    fn pairs(labels: &[(&str, &str)]) -> Vec<(String, String)> {
        labels
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn labels_round_trip_and_sort() {
        let sorted = pairs(&[("__name__", "up"), ("instance", "a:9100"), ("job", "node")]);
        let shuffled = pairs(&[("job", "node"), ("__name__", "up"), ("instance", "a:9100")]);
        let a = Labels::from_pairs(&sorted);
        let b = Labels::from_pairs(&shuffled);
        assert_eq!(a, b);
        assert_eq!(a.to_pairs(), sorted);
        assert_eq!(a.metric_name(), "up");
        assert_eq!(a.get("job"), Some("node"));
        assert_eq!(a.get("zone"), None);
        assert_eq!(a.to_string(), r#"up{instance="a:9100", job="node"}"#);
        assert_eq!(Labels::from_encoded(a.as_bytes()), Some(a.clone()));
        let empty = Labels::from_pairs(&[]);
        assert_eq!(empty.iter().count(), 0);
        assert_eq!(empty.to_string(), "{}");
        let with_empty_value = Labels::from_pairs(&pairs(&[("a", ""), ("b", "x")]));
        assert_eq!(with_empty_value.to_pairs(), pairs(&[("a", ""), ("b", "x")]));
    }

    #[test]
    fn bad_encodings_are_refused() {
        for (name, bytes) in [
            ("no final separator", &b"a\xffb"[..]),
            ("odd number of parts", b"a\xffb\xffc\xff"),
            ("not UTF-8", b"a\xff\xc3\x28\xff"),
        ] {
            assert_eq!(Labels::from_encoded(bytes), None, "{name}");
        }
    }

    /// `stable_hash`'s values are part of the snapshot format (its checksum): change them only
    /// with a reason. Routing is keyed per process: the same series goes to the same shard for
    /// the life of the process, and the key decides the hash.
    #[test]
    fn routing_is_stable_within_a_process_and_keyed() {
        let up = Labels::from_pairs(&pairs(&[("__name__", "up"), ("job", "node")]));
        let again = Labels::from_pairs(&pairs(&[("job", "node"), ("__name__", "up")]));
        assert_eq!(up.route_hash(), again.route_hash());
        assert_eq!(up.route_hash(), stable_hash(process_key(), up.as_bytes()));
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
            encode(pairs.iter().copied(), &mut key);
            route_hash(&key)
        };
        let a = hash_of(&[("ab", "c")]);
        let b = hash_of(&[("a", "bc")]);
        assert_ne!(a, b);
        // The shard is the hash's high bits, so every shard gets series.
        let mut counts = [0usize; 4];
        for i in 0..4000 {
            let labels = Labels::from_pairs(&pairs(&[("__name__", "x"), ("i", &i.to_string())]));
            counts[shard_of(labels.route_hash(), 4)] += 1;
        }
        assert!(
            counts.iter().all(|&c| (800..1200).contains(&c)),
            "{counts:?}"
        );
        assert_eq!(shard_of(u64::MAX, 3), 2);
        assert_eq!(shard_of(0, 3), 0);
    }
}
