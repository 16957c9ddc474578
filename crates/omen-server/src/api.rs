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
use omen_core::Selector;
use omen_engine::live::SeriesView;
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
    for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        if key == "match[]" {
            let selector = value
                .parse::<Selector>()
                .map_err(|err| format!("invalid match[] `{value}`: {err}"))?;
            selectors.push(selector);
        }
    }
    Ok(selectors)
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
    fn match_parameters_are_percent_decoded() {
        let parsed =
            selectors(Some("match%5B%5D=%7Bjob%3D%22node%22%7D&x=a+b&match[]=up")).unwrap();
        let texts: Vec<String> = parsed.iter().map(ToString::to_string).collect();
        assert_eq!(texts, [r#"{job="node"}"#, r#"{__name__="up"}"#]);
    }

    #[test]
    fn bad_selectors_are_named() {
        let err = selectors(Some("match[]=%7Bjob%3D%7D")).unwrap_err();
        assert!(err.contains("invalid match[]"), "{err}");
        assert!(selectors(None).unwrap().is_empty());
    }
}
