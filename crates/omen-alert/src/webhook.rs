//! Alertmanager's webhook payload (version 4), field for field, so that any receiver written
//! for Alertmanager takes Omen's direct webhook. Each alert also carries an `omen` object with
//! its [`Explanation`]. Times are as Alertmanager writes them (Go's RFC 3339 with the
//! fraction's trailing zeros dropped); a firing alert ends at `0001-01-01T00:00:00Z`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::alert::{Alert, AlertState, Explanation};
use crate::compile::Grouping;
use crate::time::{GO_ZERO_TIME, rfc3339_go};

/// The JSON body of one webhook notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookPayload {
    /// The receiver's name.
    pub receiver: String,
    /// `firing` when any alert fires, else `resolved`.
    pub status: String,
    /// The group's alerts.
    pub alerts: Vec<WebhookAlert>,
    /// The labels the group is keyed by.
    pub group_labels: BTreeMap<String, String>,
    /// Labels every alert has with the same value.
    pub common_labels: BTreeMap<String, String>,
    /// Annotations every alert has with the same value.
    pub common_annotations: BTreeMap<String, String>,
    /// Omen's external URL.
    #[serde(rename = "externalURL")]
    pub external_url: String,
    /// Always `"4"`.
    pub version: String,
    /// `{}:{alertname="X"}`, as Alertmanager's root route writes it.
    pub group_key: String,
    /// Alerts left out (Omen leaves none out).
    pub truncated_alerts: u64,
}

/// One alert in a webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookAlert {
    /// `firing` or `resolved`.
    pub status: String,
    /// The alert's labels.
    pub labels: BTreeMap<String, String>,
    /// The alert's annotations.
    pub annotations: BTreeMap<String, String>,
    /// Go RFC 3339.
    pub starts_at: String,
    /// Go RFC 3339; `0001-01-01T00:00:00Z` while firing.
    pub ends_at: String,
    /// Omen's JSON API for the series.
    #[serde(rename = "generatorURL")]
    pub generator_url: String,
    /// Alertmanager's fingerprint of the labels.
    pub fingerprint: String,
    /// Omen's explanation (absent in Alertmanager's own payloads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub omen: Option<Explanation>,
}

impl WebhookAlert {
    /// The webhook form of `alert`.
    pub fn from_alert(alert: &Alert) -> Self {
        Self {
            status: alert.state.as_str().into(),
            labels: alert.labels.clone(),
            annotations: alert.annotations.clone(),
            starts_at: rfc3339_go(alert.starts_at_ms),
            ends_at: match (alert.state, alert.ends_at_ms) {
                (AlertState::Resolved, Some(end)) => rfc3339_go(end),
                _ => GO_ZERO_TIME.into(),
            },
            generator_url: alert.explanation.series_url.clone(),
            fingerprint: alert.fingerprint.clone(),
            omen: Some(alert.explanation.clone()),
        }
    }
}

/// The payload for a group's alerts.
pub fn payload(
    receiver: &str,
    group_labels: &BTreeMap<String, String>,
    alerts: &[Alert],
    external_url: &str,
) -> WebhookPayload {
    let firing = alerts.iter().any(|a| a.state == AlertState::Firing);
    WebhookPayload {
        receiver: receiver.into(),
        status: if firing { "firing" } else { "resolved" }.into(),
        alerts: alerts.iter().map(WebhookAlert::from_alert).collect(),
        group_labels: group_labels.clone(),
        common_labels: common(alerts.iter().map(|a| &a.labels)),
        common_annotations: common(alerts.iter().map(|a| &a.annotations)),
        external_url: external_url.into(),
        version: "4".into(),
        group_key: group_key(group_labels),
        truncated_alerts: 0,
    }
}

/// The pairs every map has.
fn common<'a>(
    mut maps: impl Iterator<Item = &'a BTreeMap<String, String>>,
) -> BTreeMap<String, String> {
    let Some(first) = maps.next() else {
        return BTreeMap::new();
    };
    let mut out = first.clone();
    for map in maps {
        out.retain(|k, v| map.get(k) == Some(v));
    }
    out
}

/// The labels of `labels` that `grouping` groups by (those the alert has).
pub fn group_labels(
    grouping: &Grouping,
    labels: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    match &grouping.group_by {
        None => labels.clone(),
        Some(names) => names
            .iter()
            .filter_map(|n| labels.get(n).map(|v| (n.clone(), v.clone())))
            .collect(),
    }
}

/// Alertmanager's group key for the root route: `{}:{a="x", b="y"}` (Go `%q` quoting).
pub fn group_key(group_labels: &BTreeMap<String, String>) -> String {
    let pairs: Vec<String> = group_labels
        .iter()
        .map(|(n, v)| format!("{n}={}", go_quote(v)))
        .collect();
    format!("{{}}:{{{}}}", pairs.join(", "))
}

/// Go's `strconv.Quote`, for the characters label values hold.
fn go_quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn group_keys_are_alertmanagers() {
        let cases = [
            (
                map(&[("alertname", "AlwaysFiring")]),
                r#"{}:{alertname="AlwaysFiring"}"#,
            ),
            (
                map(&[("team", "a\"b\\c\n"), ("alertname", "X")]),
                r#"{}:{alertname="X", team="a\"b\\c\n"}"#,
            ),
            (map(&[]), "{}:{}"),
        ];
        for (labels, want) in cases {
            assert_eq!(group_key(&labels), want);
        }
    }

    #[test]
    fn group_labels_keep_only_present_group_by_labels() {
        let grouping = Grouping {
            group_by: Some(vec!["alertname".into(), "team".into()]),
            group_wait_ms: 0,
            group_interval_ms: 1,
            repeat_interval_ms: 1,
        };
        let labels = map(&[("alertname", "X"), ("job", "api")]);
        assert_eq!(group_labels(&grouping, &labels), map(&[("alertname", "X")]));
        let all = Grouping {
            group_by: None,
            ..grouping
        };
        assert_eq!(group_labels(&all, &labels), labels);
    }
}
