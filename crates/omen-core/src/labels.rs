//! [`Labels`]: a series' label set, stored once per series.
//!
//! The labels are encoded in one shared allocation as `name 0xFF value 0xFF ...`, sorted by
//! name (0xFF never occurs in UTF-8, so the encoding is unambiguous). The live engine's index,
//! its published views, its snapshot and the alert stage all share it; cloning is a reference
//! count.

use std::borrow::Borrow;
use std::fmt;
use std::sync::Arc;

const SEPARATOR: u8 = 0xFF;

/// The label that holds the metric name.
pub const METRIC_NAME: &str = "__name__";

/// The labels of one series, `__name__` included, sorted by name.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Labels(Arc<[u8]>);

impl Labels {
    /// Labels from `(name, value)` pairs, sorted by name here if they are not already.
    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        Self::from_iter_sorting(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())))
    }

    /// Labels from borrowed `(name, value)` pairs, sorted by name here if they are not
    /// already.
    pub fn from_str_pairs(pairs: &[(&str, &str)]) -> Self {
        Self::from_iter_sorting(pairs.iter().copied())
    }

    fn from_iter_sorting<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)> + Clone) -> Self {
        let mut bytes = Vec::new();
        if pairs.clone().is_sorted_by(|a, b| a.0 <= b.0) {
            Self::encode_into(pairs, &mut bytes);
        } else {
            let mut sorted: Vec<_> = pairs.collect();
            sorted.sort();
            Self::encode_into(sorted.into_iter(), &mut bytes);
        }
        Self(bytes.into())
    }

    /// Labels from an encoding made by [`Labels::encode_into`], not checked (a label set that
    /// is not one reads as pairs of empty strings, never as a panic).
    pub fn from_trusted(bytes: &[u8]) -> Self {
        Self(bytes.into())
    }

    /// Labels from the encoding (a snapshot's), checked: UTF-8 and whole pairs.
    pub fn from_encoded(bytes: &[u8]) -> Option<Self> {
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

    /// Append the encoding of `(name, value)` pairs, sorted by name, to `out`: the bytes of
    /// [`Labels::as_bytes`].
    pub fn encode_into<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>, out: &mut Vec<u8>) {
        for (name, value) in pairs {
            out.extend_from_slice(name.as_bytes());
            out.push(SEPARATOR);
            out.extend_from_slice(value.as_bytes());
            out.push(SEPARATOR);
        }
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Owned pairs from borrowed ones.
    pub(crate) fn pairs(labels: &[(&str, &str)]) -> Vec<(String, String)> {
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
        assert_eq!(
            Labels::from_str_pairs(&[("job", "node"), ("__name__", "up")]),
            Labels::from_pairs(&pairs(&[("__name__", "up"), ("job", "node")]))
        );
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
}
