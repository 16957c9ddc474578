//! `GET /metrics`: Omen's own metrics, then one gauge per modelled series for each of
//! `omen_anomaly_score`, `omen_expected`, `omen_lower` and `omen_upper`, with the series' own
//! labels and its name in `metric`, so that Prometheus can scrape them back and Grafana can chart value against band.
//!
//! The page is OpenMetrics text (what `prometheus-client` writes, and what Prometheus asks
//! for first). Stale series are left out, as Prometheus leaves them out of queries. Warming-up
//! series export their score (0) and band (NaN until the baseline exists), and
//! `omen_warming_up` says which they are.
//!
//! The page is sent as it is rendered, in parts of about `PART_BYTES`: with a million series it
//! is about a gigabyte of text (about 1 KiB a series over the five families), which a page
//! rendered whole held in memory for the length of the scrape (measured: 220 MB more RSS for
//! one scrape of 200,000 series). A shard's views are only held for reading while a part is
//! rendered, never while it waits for the client.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use omen_core::Status;
use omen_engine::live::{DropReason, EngineStats, SeriesView};
use tokio::sync::mpsc;

use super::AppState;
use super::exposition::{is_classic_label_name, write_gauge_header, write_sample};

/// The per-series families: name, help, and the number each takes from a view.
type SeriesFamily = (&'static str, &'static str, fn(&SeriesView) -> f64);

const SERIES_FAMILIES: [SeriesFamily; 5] = [
    (
        "omen_anomaly_score",
        "Anomaly score of the series' last sample, in [0, 1] (0.5: as rare as the target risk).",
        |view| view.score.score,
    ),
    (
        "omen_expected",
        "The value the baseline expected for the series' last sample.",
        |view| view.score.expected,
    ),
    (
        "omen_lower",
        "The lower edge of the series' normal band.",
        |view| view.score.lower,
    ),
    (
        "omen_upper",
        "The upper edge of the series' normal band.",
        |view| view.score.upper,
    ),
    (
        "omen_warming_up",
        "1 while the series' detector is still learning (no alerts), else 0.",
        |view| f64::from(u8::from(view.score.status == Status::WarmingUp)),
    ),
];

/// The size a part of the page is sent at.
const PART_BYTES: usize = 64 * 1024;
/// Parts rendered ahead of the client.
const PARTS_AHEAD: usize = 2;

/// The handler.
pub(crate) async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let state = Arc::clone(&state);
    let (parts, mut received) = mpsc::channel::<String>(PARTS_AHEAD);
    // Rendering a million series takes a while: keep it off the async workers.
    let renderer = tokio::task::spawn_blocking(move || render(&state, &parts));
    tokio::spawn(async move {
        if let Err(err) = renderer.await {
            // The page ends without `# EOF`, so the scrape fails rather than taking half a page.
            tracing::error!(error = %err, "rendering /metrics failed");
        }
    });
    let stream = futures::stream::poll_fn(move |cx| {
        received
            .poll_recv(cx)
            .map(|part| part.map(Ok::<_, Infallible>))
    });
    let mut response = Response::new(Body::from_stream(stream));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    response
}

/// The client went away: stop rendering.
struct Gone;

/// Render the page into `parts`, a part at a time.
fn render(state: &AppState, parts: &mpsc::Sender<String>) {
    let mut out = String::with_capacity(PART_BYTES + 4096);
    state.receiver.encode(&mut out);
    let stats = state.engine.stats();
    render_engine(&mut out, &stats, state);
    super::notify_metrics::render(&mut out, &state.alerting.stats().snapshot());
    if render_series(&mut out, state, parts).is_err() {
        return;
    }
    out.push_str("# EOF\n");
    let _ = parts.blocking_send(out);
}

/// Send what is rendered as one part of the page.
fn send(out: &mut String, parts: &mpsc::Sender<String>) -> Result<(), Gone> {
    let part = std::mem::replace(out, String::with_capacity(PART_BYTES + 4096));
    parts.blocking_send(part).map_err(|_| Gone)
}

fn counter(out: &mut String, name: &str, help: &str, value: u64) {
    out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} counter\n"));
    write_sample(out, &format!("{name}_total"), [], value as f64);
}

fn gauge(out: &mut String, name: &str, help: &str, value: f64) {
    write_gauge_header(out, name, help);
    write_sample(out, name, [], value);
}

fn render_engine(out: &mut String, stats: &EngineStats, state: &AppState) {
    counter(
        out,
        "omen_samples_scored",
        "Samples scored by a detector (warm-up included).",
        stats.samples_scored,
    );
    counter(
        out,
        "omen_samples_primed",
        "Counter samples that only primed the rate.",
        stats.samples_primed,
    );
    counter(
        out,
        "omen_stale_markers",
        "Staleness markers that ended a series' episode.",
        stats.stale_markers,
    );
    counter(
        out,
        "omen_counter_resets",
        "Counter resets seen.",
        stats.counter_resets,
    );
    counter(
        out,
        "omen_anomalous_samples",
        "Samples judged anomalous.",
        stats.anomalous_samples,
    );
    counter(
        out,
        "omen_anomaly_intervals_closed",
        "Anomaly intervals closed.",
        stats.intervals_closed,
    );
    counter(
        out,
        "omen_engine_rejected_samples",
        "Samples refused because a queue was full (answered 503; the sender retries them).",
        stats.samples_rejected,
    );
    out.push_str(
        "# HELP omen_samples_dropped Samples not modelled, by reason.\n\
         # TYPE omen_samples_dropped counter\n",
    );
    for reason in DropReason::ALL {
        write_sample(
            out,
            "omen_samples_dropped_total",
            [("reason", reason.as_str())],
            stats.dropped(reason) as f64,
        );
    }
    gauge(
        out,
        "omen_active_series",
        "Series modelled now.",
        stats.active_series as f64,
    );
    gauge(
        out,
        "omen_max_active_series",
        "The limit on modelled series (live.max_active_series).",
        stats.max_active_series as f64,
    );
    counter(
        out,
        "omen_series_created",
        "Series created since start.",
        stats.series_created,
    );
    counter(
        out,
        "omen_series_expired",
        "Series dropped after live.series_ttl without data.",
        stats.series_expired,
    );
    gauge(
        out,
        "omen_series_restored",
        "Series restored from the snapshot at start.",
        stats.series_restored as f64,
    );
    write_gauge_header(
        out,
        "omen_queue_samples",
        "Samples waiting in each shard's queue.",
    );
    for (shard, depth) in stats.queue_samples.iter().enumerate() {
        write_sample(
            out,
            "omen_queue_samples",
            [("shard", shard.to_string().as_str())],
            *depth as f64,
        );
    }
    gauge(
        out,
        "omen_queue_capacity_samples",
        "The capacity of each shard's queue, in samples.",
        stats.queue_capacity as f64,
    );
    counter(
        out,
        "omen_snapshots_written",
        "Snapshots of the learned state written.",
        stats.snapshots_written,
    );
    counter(
        out,
        "omen_snapshots_failed",
        "Snapshots that failed (the previous one is kept).",
        stats.snapshots_failed,
    );
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let age = if stats.snapshot_unix_ms == 0 {
        f64::NAN
    } else {
        now_ms.saturating_sub(stats.snapshot_unix_ms) as f64 / 1e3
    };
    gauge(
        out,
        "omen_snapshot_age_seconds",
        "Seconds since the last snapshot (NaN before the first).",
        age,
    );
    gauge(
        out,
        "omen_snapshot_duration_seconds",
        "How long the last snapshot took.",
        stats.snapshot_duration_seconds,
    );
    gauge(
        out,
        "omen_snapshot_bytes",
        "The last snapshot's size.",
        stats.snapshot_bytes as f64,
    );
    gauge(
        out,
        "omen_model_memory_bytes",
        "Memory of every series' state, in bytes asked of the allocator: states, views, labels, \
         models' buffers at capacity (season search, profiles), shard tables; kept up to date.",
        stats.state_bytes_estimate as f64,
    );
    gauge(
        out,
        "omen_metric_families_known",
        "Metric families whose type came in metadata.",
        state.families.len() as f64,
    );
}

fn render_series(
    out: &mut String,
    state: &AppState,
    parts: &mpsc::Sender<String>,
) -> Result<(), Gone> {
    for (family, help, value_of) in SERIES_FAMILIES {
        write_gauge_header(out, family, help);
        for shard in 0..state.engine.shard_count() {
            let mut from = 0;
            loop {
                let next = state.engine.visit_views(shard, from, |view| {
                    write_view(out, family, value_of, view);
                    out.len() < PART_BYTES
                });
                if out.len() >= PART_BYTES {
                    // Sent with the shard's views let go.
                    send(out, parts)?;
                }
                match next {
                    Some(slot) => from = slot,
                    None => break,
                }
            }
        }
    }
    Ok(())
}

/// One series' sample of one family (none for a stale series).
fn write_view(out: &mut String, family: &str, value_of: fn(&SeriesView) -> f64, view: &SeriesView) {
    if view.stale {
        return;
    }
    let value = value_of(view);
    // The series' name becomes the `metric` label (a label of its own by that name
    // becomes `exported_metric`, as Prometheus renames clashing target labels).
    let labels = std::iter::once(("metric", view.labels.metric_name())).chain(
        view.labels
            .iter()
            .filter(|(name, _)| *name != "__name__" && is_classic_label_name(name))
            .map(|(name, value)| {
                (
                    if name == "metric" {
                        "exported_metric"
                    } else {
                        name
                    },
                    value,
                )
            }),
    );
    write_sample(out, family, labels, value);
}
