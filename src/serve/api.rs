//! `GET /api/v1/series` and `GET /api/v1/series/state`: the series Omen models, as JSON.
//!
//! Both take Prometheus selectors in `match[]` (any number; a series is listed when it matches
//! one of them; none lists every series) and answer in Prometheus' API envelope:
//! `{"status": "success", "data": [...]}`, or `{"status": "error", "errorType": "bad_data",
//! "error": "..."}` with 400 for a bad selector.
//!
//! - `series`: per series its labels, last timestamp and value, score, expected value, band
//!   and verdict: what a dashboard needs.
//! - `series/state`: also the model's state: warm-up or ready, samples learned, the metric
//!   kind, staleness, the open anomaly interval, and what each model said.

use std::sync::Arc;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use omen_engine::live::{Selector, SeriesView};
use serde_json::{Map, Value, json};

use super::AppState;

/// `GET /api/v1/series`.
pub(crate) async fn series(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
) -> Response {
    respond(&state, query.as_deref(), false)
}

/// `GET /api/v1/series/state`.
pub(crate) async fn series_state(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
) -> Response {
    respond(&state, query.as_deref(), true)
}

fn respond(state: &AppState, query: Option<&str>, full: bool) -> Response {
    let selectors = match selectors(query) {
        Ok(selectors) => selectors,
        Err(message) => {
            let body = json!({"status": "error", "errorType": "bad_data", "error": message});
            return (StatusCode::BAD_REQUEST, Json(body)).into_response();
        }
    };
    let mut views = state.engine.query(&selectors);
    views.sort_by(|a, b| a.labels.as_bytes().cmp(b.labels.as_bytes()));
    let data: Vec<Value> = views.iter().map(|view| to_json(view, full)).collect();
    Json(json!({"status": "success", "data": data})).into_response()
}

/// The `match[]` parameters, parsed; other parameters are ignored.
fn selectors(query: Option<&str>) -> Result<Vec<Selector>, String> {
    let mut selectors = Vec::new();
    for (key, value) in form_urlencoded_pairs(query.unwrap_or("")) {
        if key == "match[]" {
            let selector = value
                .parse::<Selector>()
                .map_err(|err| format!("invalid match[] `{value}`: {err}"))?;
            selectors.push(selector);
        }
    }
    Ok(selectors)
}

/// `a=b&c=d` with percent-decoding and `+` as space, as browsers and curl send it.
fn form_urlencoded_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (key, value) = part.split_once('=').unwrap_or((part, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A float as JSON: a number, or null for NaN and infinities (JSON has neither).
fn number(value: f64) -> Value {
    serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number)
}

fn to_json(view: &SeriesView, full: bool) -> Value {
    let labels: Map<String, Value> = view
        .labels
        .iter()
        .map(|(name, value)| (name.to_string(), Value::String(value.to_string())))
        .collect();
    let score = &view.score;
    let mut object = json!({
        "labels": labels,
        "timestamp": view.timestamp_ms,
        "value": number(view.value),
        "score": number(score.score),
        "expected": number(score.expected),
        "lower": number(score.lower),
        "upper": number(score.upper),
        "anomaly": view.anomaly,
    });
    if full {
        let contributions: Map<String, Value> = score
            .contributions
            .iter()
            .map(|c| (c.model.as_str().to_string(), number(c.score)))
            .collect();
        let extra = json!({
            "kind": view.kind.as_str(),
            "raw_value": number(view.raw_value),
            "status": score.status,
            "stale": view.stale,
            "samples_learned": view.samples_learned,
            "interval_start": view.interval_start_ms,
            "contributions": contributions,
        });
        if let (Value::Object(object), Value::Object(extra)) = (&mut object, extra) {
            object.extend(extra);
        }
    }
    object
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_are_decoded() {
        let pairs =
            form_urlencoded_pairs("match%5B%5D=%7Bjob%3D%22node%22%7D&x=a+b&bad=%zz&end=%4");
        assert_eq!(
            pairs,
            [
                ("match[]".to_string(), "{job=\"node\"}".to_string()),
                ("x".into(), "a b".into()),
                ("bad".into(), "%zz".into()),
                ("end".into(), "%4".into()),
            ]
        );
    }

    #[test]
    fn bad_selectors_are_named() {
        let err = selectors(Some("match[]=%7Bjob%3D%7D")).unwrap_err();
        assert!(err.contains("invalid match[]"), "{err}");
        assert!(selectors(None).unwrap().is_empty());
    }
}
