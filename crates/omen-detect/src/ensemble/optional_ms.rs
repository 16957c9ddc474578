//! An optional timestamp in one word: `i64::MIN` stands for "none". An `Option<i64>` takes
//! two words, and every word of the detector is paid a million times on a busy server (it
//! decides whether a live series fits the allocator's 768-byte class).
//!
//! Serialized as `Option<i64>`, as the fields were before, so snapshots are unchanged. A real
//! timestamp of `i64::MIN` (292 million years before 1970) would read as none.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A timestamp in milliseconds, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OptionalMs(i64);

impl OptionalMs {
    pub(crate) const NONE: Self = Self(i64::MIN);

    pub(crate) fn get(self) -> Option<i64> {
        (self.0 != i64::MIN).then_some(self.0)
    }

    pub(crate) fn some(timestamp_ms: i64) -> Self {
        Self(timestamp_ms)
    }
}

impl Serialize for OptionalMs {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.get().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for OptionalMs {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Option::<i64>::deserialize(deserializer)?.map_or(Self::NONE, Self::some))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_word_and_serialized_as_an_option() {
        assert_eq!(size_of::<OptionalMs>(), 8);
        for value in [None, Some(0), Some(-5), Some(1_700_000_000_000)] {
            let ms = value.map_or(OptionalMs::NONE, OptionalMs::some);
            assert_eq!(ms.get(), value);
            let bytes = postcard::to_stdvec(&ms).unwrap();
            assert_eq!(bytes, postcard::to_stdvec(&value).unwrap());
            assert_eq!(postcard::from_bytes::<OptionalMs>(&bytes).unwrap(), ms);
        }
    }
}
