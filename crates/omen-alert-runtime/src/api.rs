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

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use omen_alert::Note;
use omen_core::Labels;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AlertRuntime;
use crate::store::{FeedbackRow, Store};

/// What the API needs from the server it is mounted in: the alert runtime, and a way to make
/// the engine learn a series afresh (feedback `expected_change`).
pub trait AlertApiHost: Send + Sync + 'static {
    /// The running alert stage.
    fn alerts(&self) -> &AlertRuntime;
    /// Forget what the series' model learned; false when the series is not modelled (any
    /// more). Called off the async runtime: it may block.
    fn rebaseline(&self, labels: &Labels) -> bool;
}

/// The routes of the alert API, for the server to merge behind its authentication.
pub fn routes<H: AlertApiHost>() -> Router<Arc<H>> {
    Router::new()
        .route("/api/v1/alerts", get(alerts::<H>))
        .route("/api/v1/alerts/active", get(active::<H>))
        .route(
            "/api/v1/feedback",
            axum::routing::post(feedback::<H>).get(feedback_list::<H>),
        )
        .route("/api/v1/adjustments", get(adjustments::<H>))
        .route("/api/v1/adjustments/{id}", delete(undo::<H>))
        .route("/api/v1/notifications/dead-letters", get(dead_letters::<H>))
}

fn ok(data: impl serde::Serialize) -> Response {
    Json(json!({"status": "success", "data": data})).into_response()
}

fn error(status: StatusCode, kind: &str, message: impl std::fmt::Display) -> Response {
    let body = json!({"status": "error", "errorType": kind, "error": message.to_string()});
    (status, Json(body)).into_response()
}

fn internal(err: impl std::fmt::Display) -> Response {
    tracing::error!(error = %err, "alert API failed");
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
    alerts: &AlertRuntime,
    read: impl FnOnce(&mut Store) -> crate::Result<T>,
) -> Response {
    let mut store = alerts
        .store()
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    match read(&mut store) {
        Ok(data) => ok(data),
        Err(err) => internal(err),
    }
}

/// `GET /api/v1/alerts`.
async fn alerts<H: AlertApiHost>(
    State(state): State<Arc<H>>,
    RawQuery(query): RawQuery,
) -> Response {
    match params(query.as_deref()) {
        Ok((limit, alert_id)) => from_store(state.alerts(), |store| {
            store.events(alert_id.as_deref(), limit)
        }),
        Err(message) => error(StatusCode::BAD_REQUEST, "bad_data", message),
    }
}

/// `GET /api/v1/alerts/active`.
async fn active<H: AlertApiHost>(State(state): State<Arc<H>>) -> Response {
    from_store(state.alerts(), |store| {
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
struct FeedbackRequest {
    alert_id: String,
    verdict: String,
    #[serde(default)]
    who: String,
    #[serde(default)]
    why: String,
}

/// `POST /api/v1/feedback`.
async fn feedback<H: AlertApiHost>(
    State(state): State<Arc<H>>,
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
    let alerting = state.alerts();
    let alert = {
        let store = alerting
            .store()
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
    let now = alerting.now_ms();
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
    let adjustments = alerting.rules().adjustments();
    let made = match request.verdict.as_str() {
        "false_positive" => match adjustments.false_positive(&alert, note) {
            Ok(ids) => ids,
            Err(err) => return error(StatusCode::BAD_REQUEST, "bad_data", err),
        },
        "true_positive" => Vec::new(),
        "expected_change" => {
            let series: Vec<(String, String)> = alert.series.clone().into_iter().collect();
            let labels = Labels::from_pairs(&series);
            let host = state.clone();
            let found = tokio::task::spawn_blocking(move || host.rebaseline(&labels)).await;
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
        .store()
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
async fn feedback_list<H: AlertApiHost>(
    State(state): State<Arc<H>>,
    RawQuery(query): RawQuery,
) -> Response {
    match params(query.as_deref()) {
        Ok((limit, _)) => from_store(state.alerts(), |store| store.feedback(limit)),
        Err(message) => error(StatusCode::BAD_REQUEST, "bad_data", message),
    }
}

/// `GET /api/v1/adjustments`.
async fn adjustments<H: AlertApiHost>(State(state): State<Arc<H>>) -> Response {
    ok(state.alerts().rules().adjustments().list())
}

/// `DELETE /api/v1/adjustments/{id}`.
async fn undo<H: AlertApiHost>(State(state): State<Arc<H>>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<u64>() else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_data",
            format!("`{id}` is not an adjustment id"),
        );
    };
    let adjustments = state.alerts().rules().adjustments();
    let undone = match adjustments.undo(id) {
        Ok(undone) => undone,
        Err(err) => return error(StatusCode::NOT_FOUND, "not_found", err),
    };
    let mut store = state
        .alerts()
        .store()
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    match store.save_adjustments(&adjustments.save()) {
        Ok(()) => ok(undone),
        Err(err) => internal(err),
    }
}

/// `GET /api/v1/notifications/dead-letters`.
async fn dead_letters<H: AlertApiHost>(State(state): State<Arc<H>>) -> Response {
    match state.alerts().outbox().dead_letters() {
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
        Err(err) => internal(err),
    }
}
