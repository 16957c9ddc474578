//! Label-set validation shared by 1.0 and 2.0: the rules of the remote-write spec, applied to
//! one series at a time so that a bad series costs only itself.

use crate::labels::METRIC_NAME_LABEL;
use crate::stats::InvalidReason;

/// What [`check_labels`] found in a valid label set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Checked {
    /// The labels arrived out of order and were sorted.
    pub(crate) resorted: bool,
    /// Labels with an empty value, to leave out.
    pub(crate) empty_values: usize,
}

/// Checks one series' labels (already UTF-8), sorting them in place if needed:
///
/// 1. an empty label name → [`InvalidReason::EmptyLabelName`];
/// 2. labels not sorted by name → sorted (the spec says senders MUST sort, but Prometheus's
///    own receiver sorts instead of refusing, and the 2.0 compliance suite builds its label
///    sets from Go maps, so in random order);
/// 3. a repeated name → [`InvalidReason::DuplicateLabelName`];
/// 4. no `__name__`, or an empty one → [`InvalidReason::MissingMetricName`];
/// 5. other labels with an empty value are to be removed by the caller
///    ([`Checked::empty_values`] says how many): in
///    Prometheus an empty value is the same as no label, so `up{zone=""}` and `up` are one
///    series.
///
/// Linear in the number of labels when they arrive sorted (the normal case); allocates nothing.
pub(crate) fn check_labels(pairs: &mut [(&str, &str)]) -> Result<Checked, InvalidReason> {
    if pairs.iter().any(|(name, _)| name.is_empty()) {
        return Err(InvalidReason::EmptyLabelName);
    }
    // Strictly increasing names (the normal case) are sorted and unique in one pass.
    let mut resorted = false;
    if !pairs.is_sorted_by(|a, b| a.0 < b.0) {
        resorted = !pairs.is_sorted_by(|a, b| a.0 <= b.0);
        if resorted {
            pairs.sort_unstable_by(|a, b| a.0.cmp(b.0));
        }
        if pairs.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(InvalidReason::DuplicateLabelName);
        }
    }
    let has_name = pairs
        .binary_search_by(|(n, _)| (*n).cmp(METRIC_NAME_LABEL))
        .is_ok_and(|i| !pairs[i].1.is_empty());
    if !has_name {
        return Err(InvalidReason::MissingMetricName);
    }
    let empty_values = pairs.iter().filter(|(_, v)| v.is_empty()).count();
    Ok(Checked {
        resorted,
        empty_values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::ValidatedLabels;

    #[test]
    fn validation_table() {
        // (name, labels, Ok((printed, resorted, empty values dropped)) or Err(reason))
        type Expected = Result<(&'static str, bool, usize), InvalidReason>;
        type Case = (
            &'static str,
            &'static [(&'static str, &'static str)],
            Expected,
        );
        let cases: &[Case] = &[
            (
                "valid",
                &[("__name__", "up"), ("job", "x")],
                Ok((r#"up{job="x"}"#, false, 0)),
            ),
            ("name only", &[("__name__", "up")], Ok(("up", false, 0))),
            (
                "unsorted is sorted",
                &[("job", "x"), ("__name__", "up")],
                Ok((r#"up{job="x"}"#, true, 0)),
            ),
            (
                "empty value dropped",
                &[("__name__", "up"), ("job", ""), ("zone", "a")],
                Ok((r#"up{zone="a"}"#, false, 1)),
            ),
            (
                "utf-8 names",
                &[("__name__", "resource cpu usage"), ("job name", "testjob")],
                Ok((r#"{"resource cpu usage", "job name"="testjob"}"#, false, 0)),
            ),
            ("no labels", &[], Err(InvalidReason::MissingMetricName)),
            (
                "no name",
                &[("instance", "a"), ("job", "x")],
                Err(InvalidReason::MissingMetricName),
            ),
            (
                "empty name value",
                &[("__name__", "")],
                Err(InvalidReason::MissingMetricName),
            ),
            (
                "empty label name",
                &[("", "x"), ("__name__", "up")],
                Err(InvalidReason::EmptyLabelName),
            ),
            (
                "duplicate",
                &[("__name__", "up"), ("job", "a"), ("job", "b")],
                Err(InvalidReason::DuplicateLabelName),
            ),
            (
                "duplicate when unsorted",
                &[("job", "a"), ("__name__", "up"), ("job", "b")],
                Err(InvalidReason::DuplicateLabelName),
            ),
            (
                "duplicate name label",
                &[("__name__", "up"), ("__name__", "down")],
                Err(InvalidReason::DuplicateLabelName),
            ),
        ];
        for &(name, pairs, expected) in cases {
            let mut pairs = pairs.to_vec();
            let got = check_labels(&mut pairs).map(|c| {
                pairs.retain(|(_, v)| !v.is_empty());
                let labels = ValidatedLabels::from_validated(
                    pairs
                        .iter()
                        .map(|&(n, v)| (n.to_owned(), v.to_owned()))
                        .collect(),
                );
                (labels.to_string(), c.resorted, c.empty_values)
            });
            let expected = expected.map(|(s, r, d)| (s.to_owned(), r, d));
            assert_eq!(got, expected, "{name}");
        }
    }
}
