//! What the lifecycle emits: an [`Alert`] with its labels, annotations and machine-readable
//! [`Explanation`], inside an [`AlertEvent`].

use std::collections::BTreeMap;

use omen_core::quote_label_value;
use serde::{Deserialize, Serialize};

use crate::fingerprint::idempotency_key;

/// Where an alert is in its episode, as receivers see it (pending alerts are not sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// Breaching for at least `for`, or within `keep_firing_for` of the last breach.
    Firing,
    /// Over: `ends_at_ms` says when.
    Resolved,
}

impl AlertState {
    /// `firing` or `resolved`, as Alertmanager writes the status.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Firing => "firing",
            AlertState::Resolved => "resolved",
        }
    }
}

/// What happened to an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The alert started firing (once per episode).
    Firing,
    /// A firing alert changed materially: its severity rose, or it became flapping.
    Updated,
    /// The episode ended.
    Resolved,
}

impl EventKind {
    /// `firing`, `updated` or `resolved`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Firing => "firing",
            EventKind::Updated => "updated",
            EventKind::Resolved => "resolved",
        }
    }
}

/// One alert of one rule on one series, as of one event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Stable for the episode: `{fingerprint of the labels without severity}-{starts_at_ms}`,
    /// so a severity rise keeps the id and a new episode gets a new one.
    pub id: String,
    /// Alertmanager's fingerprint of `labels` (see [`fingerprint`](crate::fingerprint())).
    pub fingerprint: String,
    /// The rule's name (also the `alertname` label).
    pub rule: String,
    /// Series labels (`__name__` as `metric`), then the rule's rendered labels, `alertname`
    /// and `severity`.
    pub labels: BTreeMap<String, String>,
    /// The rule's rendered annotations, with `summary` and `description` when it gives none.
    pub annotations: BTreeMap<String, String>,
    /// Firing or resolved.
    pub state: AlertState,
    /// When the alert started firing (sample time, epoch ms).
    pub starts_at_ms: i64,
    /// When it resolved; `None` while firing.
    pub ends_at_ms: Option<i64>,
    /// The first breaching sample of the episode (the start of `for`).
    pub active_at_ms: i64,
    /// Held firing because it flipped more than `flapping.max_flips` times in the window.
    pub flapping: bool,
    /// The series' own labels, `__name__` included, as the engine knows them.
    pub series: BTreeMap<String, String>,
    /// Why it fired.
    pub explanation: Explanation,
}

impl Alert {
    /// The `severity` label.
    pub fn severity(&self) -> &str {
        self.labels.get("severity").map_or("", String::as_str)
    }

    /// An idempotency key for delivering this event to `target` (an action or channel name):
    /// the same alert, event and target give the same key after a restart. An `Updated`
    /// event's key also covers the severity and the flapping flag, so each distinct update
    /// has its own key.
    pub fn idempotency_key(&self, target: &str, kind: EventKind) -> String {
        let flapping = if self.flapping { "flapping" } else { "" };
        match kind {
            EventKind::Updated => {
                idempotency_key(&[target, &self.id, kind.as_str(), self.severity(), flapping])
            }
            EventKind::Firing | EventKind::Resolved => {
                idempotency_key(&[target, &self.id, kind.as_str()])
            }
        }
    }
}

/// What a lifecycle step produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertEvent {
    /// Firing, updated or resolved.
    pub kind: EventKind,
    /// The alert as of this event.
    pub alert: Alert,
    /// For an update that changed the labels (a severity rise): the alert as it was last
    /// notified, marked resolved at this event's time, so that a receiver keyed by labels
    /// (Alertmanager) can end it.
    pub replaces: Option<Alert>,
}

/// Which way a value went from the expected value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Deviation {
    /// Above the expected value.
    Up,
    /// Below the expected value.
    Down,
    /// Equal, or there is no expected value.
    None,
}

/// One model's share of a score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelScore {
    /// `robust`, `seasonal`, `change_point`, `level` or `tail`.
    pub model: String,
    /// Its score in [0, 1].
    pub score: f64,
}

/// Why an alert fired, machine-readable. Unknown numbers (no expected value yet) are `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// The sample this explanation describes (epoch ms).
    pub timestamp_ms: i64,
    /// The value the detector judged (a counter's rate).
    #[serde(with = "nullable")]
    pub value: f64,
    /// The baseline's expected value.
    #[serde(with = "nullable")]
    pub expected: f64,
    /// Lower edge of the normal band.
    #[serde(with = "nullable")]
    pub lower: f64,
    /// Upper edge of the normal band.
    #[serde(with = "nullable")]
    pub upper: f64,
    /// The sample's score in [0, 1].
    pub score: f64,
    /// The firing threshold, `1 − sensitivity` after adjustments.
    pub threshold: f64,
    /// `value − expected` (signed).
    #[serde(with = "nullable")]
    pub deviation: f64,
    /// `(value − expected) / |expected|` (signed; infinite, so `null`, when expected is 0).
    #[serde(with = "nullable")]
    pub relative_deviation: f64,
    /// Which way the value went.
    pub direction: Deviation,
    /// Each model's score, as the detector gave them.
    pub contributions: Vec<ModelScore>,
    /// The last level shift the detector confirmed, if any.
    pub change_point_ms: Option<i64>,
    /// The season the detector found, if any.
    pub season_period_ms: Option<i64>,
    /// The rule's name.
    pub rule: String,
    /// The highest score of a breaching sample in this episode.
    pub peak_score: f64,
    /// The largest `|value − expected|` of a breaching sample in this episode.
    #[serde(with = "nullable")]
    pub peak_deviation: f64,
    /// Omen's JSON API for this series: `{base}/api/v1/series/state?match[]={selector}`.
    pub series_url: String,
}

/// `{base}/api/v1/series/state?match[]={selector}`, the selector naming every label of the
/// series (`{__name__="up",job="node"}`), URL-encoded.
pub fn series_url(base: &str, series: &BTreeMap<String, String>) -> String {
    let mut selector = String::from("{");
    for (i, (name, value)) in series.iter().enumerate() {
        if i > 0 {
            selector.push(',');
        }
        selector.push_str(name);
        selector.push('=');
        quote_label_value(&mut selector, value);
    }
    selector.push('}');
    let encoded: String = form_urlencoded::byte_serialize(selector.as_bytes()).collect();
    format!(
        "{}/api/v1/series/state?match[]={encoded}",
        base.trim_end_matches('/')
    )
}

/// `f64` fields written as `null` when not finite, and read back from `null` as NaN.
mod nullable {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
        if value.is_finite() {
            serializer.serialize_f64(*value)
        } else {
            serializer.serialize_none()
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(deserializer)?.unwrap_or(f64::NAN))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A series that ends before any ready sample (expiry after a restart) is explained with
    /// unknown numbers; the explanation must still read back from the alert store.
    #[test]
    fn an_explanation_of_unknown_numbers_round_trips_through_json() {
        let unknown = Explanation {
            timestamp_ms: 1,
            value: f64::NAN,
            expected: f64::NAN,
            lower: f64::NAN,
            upper: f64::NAN,
            score: 0.0,
            threshold: 0.5,
            deviation: f64::NAN,
            relative_deviation: f64::NAN,
            direction: Deviation::None,
            contributions: Vec::new(),
            change_point_ms: None,
            season_period_ms: None,
            rule: "r".into(),
            peak_score: 1.0,
            peak_deviation: f64::NAN,
            series_url: String::new(),
        };
        let json = serde_json::to_string(&unknown).unwrap();
        assert!(json.contains("\"value\":null"), "{json}");
        let back: Explanation = serde_json::from_str(&json).unwrap();
        assert!(back.value.is_nan() && back.expected.is_nan());
    }

    #[test]
    fn series_urls_select_exactly_the_series() {
        let series: BTreeMap<String, String> = [
            ("__name__", "http_requests_total"),
            ("path", "/a b\"c"),
            ("job", "api"),
        ]
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
        let url = series_url("http://omen:9310/", &series);
        assert_eq!(
            url,
            "http://omen:9310/api/v1/series/state?match[]=%7B__name__%3D%22http_requests_total%22%2Cjob%3D%22api%22%2Cpath%3D%22%2Fa+b%5C%22c%22%7D"
        );
        // The selector in it parses back to one that matches the series.
        let encoded = url.split_once("match[]=").unwrap().1;
        let decoded: String = form_urlencoded::parse(format!("m={encoded}").as_bytes())
            .next()
            .unwrap()
            .1
            .into_owned();
        let selector: omen_core::Selector = decoded.parse().unwrap();
        let pairs: Vec<_> = series.clone().into_iter().collect();
        assert!(selector.matches_pairs(&pairs));
        assert_eq!(
            series_url("", &BTreeMap::new()),
            "/api/v1/series/state?match[]=%7B%7D"
        );
    }
}
