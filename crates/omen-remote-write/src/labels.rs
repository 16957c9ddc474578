//! [`ValidatedLabels`]: a remote-write series' label set as the decoder checked it (owned
//! pairs, sorted by name), printed the Prometheus way.
//!
//! Not `omen_core::Labels`, the shared encoding of a modelled series: this is the owned
//! decoder's output ([`crate::WriteBatch`]) and the encoder's input, checked against the
//! remote-write rules (no empty values, unique names, a `__name__`). The live receiver reads
//! borrowed [`crate::SeriesRef`]s instead, whose pairs the engine encodes into its own form.

use std::fmt;

use crate::stats::InvalidReason;

/// The label holding the metric name.
pub const METRIC_NAME_LABEL: &str = "__name__";

/// A series' label set: non-empty, unique names, sorted by name (byte order), no empty values,
/// with a non-empty `__name__`. Built by the decoder, or by [`ValidatedLabels::new`], which checks the
/// same rules.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ValidatedLabels(Vec<(String, String)>);

impl ValidatedLabels {
    /// Validates and sorts `pairs` with the decoder's rules: no empty names, no duplicate
    /// names, a non-empty `__name__`; out-of-order labels are sorted and labels with an empty
    /// value removed.
    pub fn new<N, V>(
        pairs: impl IntoIterator<Item = (N, V)>,
    ) -> Result<ValidatedLabels, InvalidReason>
    where
        N: Into<String>,
        V: Into<String>,
    {
        let owned: Vec<(String, String)> = pairs
            .into_iter()
            .map(|(n, v)| (n.into(), v.into()))
            .collect();
        let mut pairs: Vec<(&str, &str)> = owned
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        crate::validate::check_labels(&mut pairs)?;
        let kept = pairs.iter().filter(|(_, v)| !v.is_empty());
        Ok(ValidatedLabels(
            kept.map(|&(n, v)| (n.to_owned(), v.to_owned())).collect(),
        ))
    }

    /// Wraps pairs that the caller has already validated and sorted.
    pub(crate) fn from_validated(pairs: Vec<(String, String)>) -> ValidatedLabels {
        ValidatedLabels(pairs)
    }

    /// The metric name (`__name__`).
    pub fn name(&self) -> Option<&str> {
        self.get(METRIC_NAME_LABEL)
    }

    /// The value of label `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .ok()
            .map(|i| self.0[i].1.as_str())
    }

    /// The pairs, sorted by name.
    pub fn as_slice(&self) -> &[(String, String)] {
        &self.0
    }

    /// Iterates over `(name, value)`, sorted by name.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + Clone {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The number of labels, `__name__` included.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no labels (never true for a validated set).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The pairs, sorted by name.
    pub fn into_vec(self) -> Vec<(String, String)> {
        self.0
    }
}

/// Prometheus form: `name{a="b", c="d"}`, or `name` alone, with `\\`, `"`, newline and carriage
/// return escaped in values, so that the result is always one line. A name or label name
/// outside the classic character set is quoted inside the braces, as Prometheus 3 prints
/// UTF-8 names: `{"my.metric", "my label"="x"}`.
impl fmt::Display for ValidatedLabels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_label_set(f, self.iter())
    }
}

/// Writes any label set (valid or not) in the form of [`ValidatedLabels`]' `Display`.
pub(crate) fn write_label_set<'a>(
    f: &mut impl fmt::Write,
    pairs: impl Iterator<Item = (&'a str, &'a str)> + Clone,
) -> fmt::Result {
    let name = pairs
        .clone()
        .find(|(n, _)| *n == METRIC_NAME_LABEL)
        .map(|(_, v)| v);
    let bare_name = name.filter(|n| is_legacy_metric_name(n));
    let mut first = true;
    if let Some(name) = bare_name {
        f.write_str(name)?;
        if pairs.clone().all(|(n, _)| n == METRIC_NAME_LABEL) {
            return Ok(());
        }
    }
    f.write_char('{')?;
    if let (Some(name), None) = (name, bare_name) {
        write_quoted(f, name)?;
        first = false;
    }
    for (n, v) in pairs.filter(|(n, _)| *n != METRIC_NAME_LABEL) {
        if !first {
            f.write_str(", ")?;
        }
        first = false;
        if is_legacy_label_name(n) {
            f.write_str(n)?;
        } else {
            write_quoted(f, n)?;
        }
        f.write_char('=')?;
        write_quoted(f, v)?;
    }
    f.write_char('}')
}

fn write_quoted(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '\\' => f.write_str("\\\\")?,
            '"' => f.write_str("\\\"")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

fn is_legacy_metric_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z' | b'A'..=b'Z' | b'_' | b':'))
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}

fn is_legacy_label_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z' | b'A'..=b'Z' | b'_'))
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> ValidatedLabels {
        ValidatedLabels::from_validated(
            pairs
                .iter()
                .map(|&(n, v)| (n.to_owned(), v.to_owned()))
                .collect(),
        )
    }

    #[test]
    fn display_table() {
        type Case = (
            &'static str,
            &'static [(&'static str, &'static str)],
            &'static str,
        );
        let cases: &[Case] = &[
            ("name only", &[("__name__", "up")], "up"),
            (
                "name and labels",
                &[("__name__", "up"), ("instance", "a:9100"), ("job", "node")],
                r#"up{instance="a:9100", job="node"}"#,
            ),
            (
                "escaping",
                &[("__name__", "m"), ("v", "a\"b\\c\nd\re")],
                r#"m{v="a\"b\\c\nd\re"}"#,
            ),
            ("no name", &[("job", "x")], r#"{job="x"}"#),
            ("empty", &[], "{}"),
            (
                "utf-8 names (compliance suite)",
                &[("__name__", "resource cpu usage"), ("job name", "testjob")],
                r#"{"resource cpu usage", "job name"="testjob"}"#,
            ),
            (
                "dotted name alone",
                &[("__name__", "resource.cpu")],
                r#"{"resource.cpu"}"#,
            ),
            (
                "colon name",
                &[("__name__", "job:rate5m"), ("a", "1")],
                r#"job:rate5m{a="1"}"#,
            ),
            (
                "upper-case label sorts first",
                &[("A", "1"), ("__name__", "m")],
                r#"m{A="1"}"#,
            ),
        ];
        for &(name, pairs, expected) in cases {
            assert_eq!(labels(pairs).to_string(), expected, "{name}");
        }
    }

    #[test]
    fn lookups() {
        let l = labels(&[("__name__", "up"), ("instance", "a"), ("job", "node")]);
        assert_eq!(l.name(), Some("up"));
        assert_eq!(l.get("job"), Some("node"));
        assert_eq!(l.get("zone"), None);
        assert_eq!(l.len(), 3);
        assert!(!l.is_empty());
        assert_eq!(
            l.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            ["__name__", "instance", "job"]
        );
        assert_eq!(labels(&[("job", "x")]).name(), None);
    }

    #[test]
    fn new_sorts_and_validates() {
        let l = ValidatedLabels::new([("job", "x"), ("__name__", "up")]).unwrap();
        assert_eq!(l.to_string(), r#"up{job="x"}"#);
        assert_eq!(
            ValidatedLabels::new([("job", "x")]),
            Err(InvalidReason::MissingMetricName)
        );
    }
}
