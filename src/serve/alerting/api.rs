//! The alert API: history, what fires now, feedback, and the adjustments feedback made.
//!
//! - `GET /api/v1/alerts[?alert_id=ID][&limit=N]`: alert events, newest first (default 100).
//! - `GET /api/v1/alerts/active`: the alerts firing now, with their explanations.
//! - `POST /api/v1/feedback` `{"alert_id", "verdict", "who", "why"}`, verdict one of
//!   `false_positive` (that series' rule gets less sensitive and its deviation floor rises
//!   above this alert's), `true_positive` (recorded), `expected_change` (the series'
//!   baseline is learned afresh).
//! - `GET /api/v1/feedback[?limit=N]`: the feedback given, newest first.
//! - `GET /api/v1/adjustments`; `DELETE /api/v1/adjustments/{id}`: list and undo.
//! - `GET /api/v1/notifications/dead-letters`: notifications given up on, with the reason.
//!
//! Answers use Prometheus' envelope (`{"status": "success", "data": ...}`); errors are
//! `{"status": "error", "errorType": ..., "error": ...}` with 400, 404 or 500.

use std::sync::{Arc, PoisonError};

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use omen_alert::Note;
use omen_engine::live::Labels;
use serde::Deserialize;
use serde_json::{Value, json};

use super::store::{FeedbackRow, Store};
use crate::serve::AppState;

fn ok(data: impl serde::Serialize) -> Response {
    Json(json!({"status": "success", "data": data})).into_response()
}

fn error(status: StatusCode, kind: &str, message: impl std::fmt::Display) -> Response {
    let body = json!({"status": "error", "errorType": kind, "error": message.to_string()});
    (status, Json(body)).into_response()
}

fn internal(err: anyhow::Error) -> Response {
    tracing::error!(error = %format!("{err:#}"), "alert API failed");
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "internal error; see Omen's log",
    )
}

/// `limit` and `alert_id` from a query string.
fn params(query: Option<&str>) -> Result<(usize, Option<String>), String> {
    let mut limit = 100;
    let mut alert_id = None;
    for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match &*key {
            "limit" => {
                limit = value
                    .parse::<usize>()
                    .ok()
                    .filter(|&n| (1..=10_000).contains(&n))
                    .ok_or_else(|| format!("limit `{value}` is not a number in 1..=10000"))?
            }
            "alert_id" => alert_id = Some(value.into_owned()),
            _ => {}
        }
    }
    Ok((limit, alert_id))
}

/// Run `read` on the store and answer its result (500 on a store error, logged).
fn from_store<T: serde::Serialize>(
    state: &AppState,
    read: impl FnOnce(&mut Store) -> anyhow::Result<T>,
) -> Response {
    let mut store = state
        .alerting
        .store
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    match read(&mut store) {
        Ok(data) => ok(data),
        Err(err) => internal(err),
    }
}

/// `GET /api/v1/alerts`.
pub(crate) async fn alerts(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
) -> Response {
    match params(query.as_deref()) {
        Ok((limit, alert_id)) => {
            from_store(&state, |store| store.events(alert_id.as_deref(), limit))
        }
        Err(message) => error(StatusCode::BAD_REQUEST, "bad_data", message),
    }
}

/// `GET /api/v1/alerts/active`.
pub(crate) async fn active(State(state): State<Arc<AppState>>) -> Response {
    from_store(&state, |store| {
        Ok(store
            .active()?
            .into_iter()
            .map(|a| a.alert)
            .collect::<Vec<_>>())
    })
}

/// The body of `POST /api/v1/feedback`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FeedbackRequest {
    alert_id: String,
    verdict: String,
    #[serde(default)]
    who: String,
    #[serde(default)]
    why: String,
}

/// `POST /api/v1/feedback`.
pub(crate) async fn feedback(
    State(state): State<Arc<AppState>>,
    body: axum::body::Bytes,
) -> Response {
    let request: FeedbackRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(err) => {
            return error(
                StatusCode::BAD_REQUEST,
                "bad_data",
                format!("invalid feedback: {err}"),
            );
        }
    };
    let alerting = &state.alerting;
    let alert = {
        let store = alerting
            .store
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match store.alert(&request.alert_id) {
            Ok(Some(alert)) => alert,
            Ok(None) => {
                return error(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    format!("no alert with id `{}`", request.alert_id),
                );
            }
            Err(err) => return internal(err),
        }
    };
    let now = omen_notify::now_ms();
    let note = Note {
        author: if request.who.is_empty() {
            "anonymous".into()
        } else {
            request.who.clone()
        },
        reason: request.why.clone(),
        at_ms: now,
        alert_id: Some(alert.id.clone()),
    };
    let adjustments = alerting.rules.adjustments();
    let made = match request.verdict.as_str() {
        "false_positive" => match adjustments.false_positive(&alert, note) {
            Ok(ids) => ids,
            Err(err) => return error(StatusCode::BAD_REQUEST, "bad_data", err),
        },
        "true_positive" => Vec::new(),
        "expected_change" => {
            let series: Vec<(String, String)> = alert.series.clone().into_iter().collect();
            let labels = Labels::from_pairs(&series);
            let engine_state = state.clone();
            let found =
                tokio::task::spawn_blocking(move || engine_state.engine.rebaseline(&labels)).await;
            if !matches!(found, Ok(true)) {
                tracing::info!(alert = %alert.id, "expected change for a series no longer modelled");
            }
            Vec::new()
        }
        other => {
            return error(
                StatusCode::BAD_REQUEST,
                "bad_data",
                format!(
                    "verdict `{other}` is not one of false_positive, true_positive, expected_change"
                ),
            );
        }
    };
    let row = FeedbackRow {
        seq: 0,
        at_ms: now,
        alert_id: alert.id.clone(),
        verdict: request.verdict,
        who: request.who,
        why: request.why,
        adjustments: made,
    };
    let mut store = alerting
        .store
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let saved = store
        .save_adjustments(&adjustments.save())
        .and_then(|()| store.add_feedback(&row));
    match saved {
        Ok(seq) => ok(FeedbackRow { seq, ..row }),
        Err(err) => internal(err),
    }
}

/// `GET /api/v1/feedback`.
pub(crate) async fn feedback_list(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
) -> Response {
    match params(query.as_deref()) {
        Ok((limit, _)) => from_store(&state, |store| store.feedback(limit)),
        Err(message) => error(StatusCode::BAD_REQUEST, "bad_data", message),
    }
}

/// `GET /api/v1/adjustments`.
pub(crate) async fn adjustments(State(state): State<Arc<AppState>>) -> Response {
    ok(state.alerting.rules.adjustments().list())
}

/// `DELETE /api/v1/adjustments/{id}`.
pub(crate) async fn undo(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<u64>() else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_data",
            format!("`{id}` is not an adjustment id"),
        );
    };
    let adjustments = state.alerting.rules.adjustments();
    let undone = match adjustments.undo(id) {
        Ok(undone) => undone,
        Err(err) => return error(StatusCode::NOT_FOUND, "not_found", err),
    };
    let mut store = state
        .alerting
        .store
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    match store.save_adjustments(&adjustments.save()) {
        Ok(()) => ok(undone),
        Err(err) => internal(err),
    }
}

/// `GET /api/v1/notifications/dead-letters`.
pub(crate) async fn dead_letters(State(state): State<Arc<AppState>>) -> Response {
    match state.alerting.outbox.dead_letters() {
        Ok(entries) => {
            let data: Vec<Value> = entries
                .iter()
                .map(|e| {
                    json!({"key": e.key, "channel": e.channel, "target": e.target, "attempts": e.attempts,
                        "reason": e.reason, "status": e.status, "created_at_ms": e.created_at_ms})
                })
                .collect();
            ok(data)
        }
        Err(err) => internal(err.into()),
    }
}
