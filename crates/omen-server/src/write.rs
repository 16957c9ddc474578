//! `POST /api/v1/write`: Prometheus remote-write 1.0 and 2.0 into the engine.
//!
//! The order of checks follows the spec and the compliance suite: the media type first (415),
//! then the body's length (413) before reading it all, the snappy header's claimed length
//! (413) before decompressing, then the protobuf (400). Invalid series are dropped and counted
//! while the valid ones are kept (a partial write, answered 400 with what was dropped). When
//! the engine's queues are full, nothing is taken and the answer is 503 with `Retry-After`, so
//! that Prometheus retries the same request.

use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use omen_engine::live::Intake;
use omen_remote_write::{Protocol, Rejection, WriteSummary, decompress, negotiate};

use super::AppState;
use super::families::own_kind;

/// The handler.
pub(crate) async fn write(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let (protocol, response) = answer(&state, &headers, body).await;
    let label = protocol.map_or("unknown", version_label);
    state.receiver.answered(label, response.status().as_u16());
    state
        .receiver
        .request_seconds
        .observe(started.elapsed().as_secs_f64());
    response
}

/// The `protocol` label of the request counter.
fn version_label(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::V1 => "1.0",
        Protocol::V2 => "2.0",
    }
}

async fn answer(state: &AppState, headers: &HeaderMap, body: Body) -> (Option<Protocol>, Response) {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let protocol = match negotiate(text(header::CONTENT_TYPE), text(header::CONTENT_ENCODING)) {
        Ok(protocol) => protocol,
        Err(rejection) => return (None, refuse(state, None, &rejection)),
    };
    let limits = &state.limits;
    let body = match to_bytes(body, limits.max_body_bytes).await {
        Ok(body) => body,
        Err(_) => {
            let rejection = Rejection::new(
                omen_remote_write::RejectReason::BodyTooLarge,
                format!(
                    "request body over the limit of {} bytes (server.max_body_bytes), or cut off",
                    limits.max_body_bytes
                ),
            );
            return (Some(protocol), refuse(state, Some(protocol), &rejection));
        }
    };
    let bytes = match decompress(&body, limits.max_decoded_bytes) {
        Ok(bytes) => bytes,
        Err(rejection) => return (Some(protocol), refuse(state, Some(protocol), &rejection)),
    };
    drop(body);
    // Each valid series goes straight into the engine's per-shard buffers as it is decoded,
    // borrowed from the body: no allocation per series. On an error nothing was queued.
    let mut intake = state.engine.intake();
    let mut samples = 0;
    let summary = omen_remote_write::decode_with(protocol, &bytes, |series| {
        samples += series.samples.len() as u64;
        intake.push(series.labels, own_kind(series.metric_type), series.samples);
    });
    match summary {
        Ok(summary) => (
            Some(protocol),
            ingest(state, protocol, summary, intake, samples),
        ),
        Err(rejection) => (Some(protocol), refuse(state, Some(protocol), &rejection)),
    }
}

/// A request refused as a whole: its status, a one-line message, and for 2.0 the written
/// headers (all 0).
fn refuse(state: &AppState, protocol: Option<Protocol>, rejection: &Rejection) -> Response {
    state.receiver.rejected(rejection.reason.as_str());
    tracing::debug!(
        reason = rejection.reason.as_str(),
        "remote-write request refused: {}",
        rejection.message
    );
    let status = StatusCode::from_u16(rejection.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = (status, format!("{}\n", rejection.message)).into_response();
    if protocol == Some(Protocol::V2) {
        written_headers(&mut response, [0, 0, 0]);
    }
    response
}

/// Counts a decoded request, gives its series their kinds, and queues them (or answers 503).
/// `samples` is how many float samples its valid series hold.
fn ingest(
    state: &AppState,
    protocol: Protocol,
    summary: WriteSummary,
    mut intake: Intake<'_>,
    samples: u64,
) -> Response {
    let WriteSummary {
        metadata, stats, ..
    } = &summary;
    let outcome = summary.outcome();
    let receiver = &state.receiver;
    receiver.samples_received.inc_by(stats.samples_received);
    receiver.samples_invalid.inc_by(stats.invalid_samples);
    receiver
        .histograms_received
        .inc_by(stats.histograms_received);
    receiver.exemplars_received.inc_by(stats.exemplars_received);
    receiver.metadata_received.inc_by(metadata.len() as u64);
    for (reason, count) in stats.invalid_series.iter() {
        receiver
            .invalid_series
            .get_or_create(&super::receiver_metrics::ReasonLabels {
                reason: reason.as_str(),
            })
            .inc_by(count);
    }
    // The request's own metadata (1.0 sends it after the series) counts for its series.
    state.families.learn(metadata);
    let known = state.families.read();
    intake.resolve_unknown_kinds(|name| known.kind_of(name));
    drop(known);
    if !intake.is_empty()
        && let Err(overloaded) = intake.submit()
    {
        state.receiver.rejected("overloaded");
        let seconds = overloaded.retry_after.as_secs().max(1);
        let mut response = (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("{overloaded}; retry after {seconds} s\n"),
        )
            .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        if protocol == Protocol::V2 {
            written_headers(&mut response, [0, 0, 0]);
        }
        return response;
    }
    receiver.samples_written.inc_by(samples);
    let mut response = match &outcome.message {
        None => StatusCode::NO_CONTENT.into_response(),
        Some(message) => {
            tracing::debug!("partial remote-write: {message}");
            (StatusCode::BAD_REQUEST, format!("{message}\n")).into_response()
        }
    };
    if protocol == Protocol::V2 {
        written_headers(
            &mut response,
            [
                outcome.samples_written,
                outcome.histograms_written,
                outcome.exemplars_written,
            ],
        );
    }
    response
}

fn written_headers(response: &mut Response, counts: [u64; 3]) {
    let names = [
        omen_remote_write::SAMPLES_WRITTEN_HEADER,
        omen_remote_write::HISTOGRAMS_WRITTEN_HEADER,
        omen_remote_write::EXEMPLARS_WRITTEN_HEADER,
    ];
    for (name, count) in names.into_iter().zip(counts) {
        response
            .headers_mut()
            .insert(name, HeaderValue::from(count));
    }
}
