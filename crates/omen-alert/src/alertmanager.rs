//! Alerts as Prometheus itself POSTs them to Alertmanager's `/api/v2/alerts`: a JSON array of
//! `labels`, `annotations`, `startsAt`, `endsAt`, `generatorURL`, no status (Alertmanager
//! derives it from `endsAt`). Times are RFC 3339 in UTC with milliseconds.
//!
//! A firing alert's `endsAt` is `now + 4 × resend` as in Prometheus, so that Alertmanager
//! resolves it by itself if Omen stops sending; the caller re-sends firing alerts every
//! `resend`. A resolved alert carries its real end. Omen's explanation goes into the
//! annotation `omen_explanation` as compact JSON. For an `Updated` event with `replaces` (a
//! severity rise changes the labels), send the replaced alert too: it is resolved, so
//! Alertmanager ends the old label set at once instead of after its `endsAt`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::alert::{Alert, AlertState, series_url};
use crate::time::rfc3339_millis;

/// The annotation that carries [`Explanation`](crate::Explanation) as compact JSON.
pub const EXPLANATION_ANNOTATION: &str = "omen_explanation";

/// One element of the array POSTed to `/api/v2/alerts` (Alertmanager's `PostableAlert`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PostableAlert {
    /// Rendered annotations plus `omen_explanation`.
    pub annotations: BTreeMap<String, String>,
    /// RFC 3339 with milliseconds.
    pub ends_at: String,
    /// RFC 3339 with milliseconds.
    pub starts_at: String,
    /// Omen's JSON API for the series.
    #[serde(rename = "generatorURL")]
    pub generator_url: String,
    /// The alert's labels (its identity in Alertmanager).
    pub labels: BTreeMap<String, String>,
}

/// One alert in Alertmanager's form. `generator_url_base` is Omen's external URL (empty: the
/// URL already in the explanation); `now_ms` is the time of this send.
pub fn postable_alert(
    alert: &Alert,
    generator_url_base: &str,
    resend: Duration,
    now_ms: i64,
) -> PostableAlert {
    let ends_at_ms = match (alert.state, alert.ends_at_ms) {
        (AlertState::Resolved, Some(end)) => end.max(alert.starts_at_ms),
        _ => {
            let resend_ms = i64::try_from(resend.as_millis()).unwrap_or(i64::MAX / 8);
            now_ms
                .max(alert.starts_at_ms)
                .saturating_add(resend_ms.saturating_mul(4))
        }
    };
    let mut annotations = alert.annotations.clone();
    if let Ok(json) = serde_json::to_string(&alert.explanation) {
        annotations.insert(EXPLANATION_ANNOTATION.into(), json);
    }
    PostableAlert {
        annotations,
        ends_at: rfc3339_millis(ends_at_ms),
        starts_at: rfc3339_millis(alert.starts_at_ms),
        generator_url: if generator_url_base.is_empty() {
            alert.explanation.series_url.clone()
        } else {
            series_url(generator_url_base, &alert.series)
        },
        labels: alert.labels.clone(),
    }
}

/// The alerts in Alertmanager's form, in order.
pub fn postable_alerts(
    alerts: &[Alert],
    generator_url_base: &str,
    resend: Duration,
    now_ms: i64,
) -> Vec<PostableAlert> {
    alerts
        .iter()
        .map(|a| postable_alert(a, generator_url_base, resend, now_ms))
        .collect()
}

/// The request body for `POST /api/v2/alerts` (`Content-Type: application/json`).
pub fn postable_body(
    alerts: &[Alert],
    generator_url_base: &str,
    resend: Duration,
    now_ms: i64,
) -> Vec<u8> {
    serde_json::to_vec(&postable_alerts(alerts, generator_url_base, resend, now_ms))
        .unwrap_or_else(|_| b"[]".to_vec())
}
