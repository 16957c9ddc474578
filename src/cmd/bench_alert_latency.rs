//! `omen bench alert-latency`: how long from an anomalous sample's request leaving to its
//! webhook arriving, through the whole alert path (intake, shard, rule, hub, durable outbox,
//! dispatcher, HTTP).
//!
//! It listens for webhooks itself, then sends probes one after another: each a new series
//! `omen_probe{probe="i"}` with a calm history (one request), then one obvious spike (its own
//! request, timed). A probe is done when a webhook naming its `probe` label arrives. Run the
//! server with `benches/config/alert-latency.toml` (group by `probe`, `group_wait = "0s"`), and
//! run `omen bench remote-write --rate N` beside it for the load.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use omen_remote_write::{BodyEncoder, MetricType, Protocol, SeriesSamples, ValidatedLabels};
use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE, HeaderMap, HeaderValue};

use crate::cli::BenchAlertLatencyArgs;

/// When each probe's webhook arrived.
type Arrivals = Arc<Mutex<HashMap<String, Instant>>>;

/// Calm samples before the spike: past the detector's warm-up of 100.
const HISTORY: i64 = 200;
const STEP_MS: i64 = 15_000;

pub(crate) fn run(args: &BenchAlertLatencyArgs) -> Result<()> {
    if args.probes == 0 {
        bail!("--probes must be above 0");
    }
    let runtime = super::async_runtime()?;
    runtime.block_on(probe_all(args))
}

async fn record(State(arrivals): State<Arrivals>, body: axum::body::Bytes) -> &'static str {
    let now = Instant::now();
    if let Ok(payload) = serde_json::from_slice::<serde_json::Value>(&body) {
        let alerts = payload["alerts"].as_array().cloned().unwrap_or_default();
        let mut arrivals = arrivals
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for alert in alerts {
            if let Some(probe) = alert["labels"]["probe"].as_str() {
                arrivals.entry(probe.to_owned()).or_insert(now);
            }
        }
    }
    "ok"
}

async fn probe_all(args: &BenchAlertLatencyArgs) -> Result<()> {
    let arrivals: Arrivals = Arc::default();
    let listener = tokio::net::TcpListener::bind(args.hook_listen)
        .await
        .with_context(|| format!("cannot listen for webhooks on {}", args.hook_listen))?;
    let app = Router::new()
        .route("/hook", post(record))
        .with_state(arrivals.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-protobuf"),
    );
    headers.insert(CONTENT_ENCODING, HeaderValue::from_static("snappy"));
    headers.insert(
        "X-Prometheus-Remote-Write-Version",
        HeaderValue::from_static("0.1.0"),
    );
    let client = reqwest::Client::builder()
        .default_headers(headers)
        .timeout(Duration::from_secs(30))
        .build()
        .context("cannot build the HTTP client")?;
    let mut encoder = BodyEncoder::new();
    let run = std::process::id();
    let mut latencies = Vec::new();
    let mut missed = 0;
    for i in 0..args.probes {
        let probe = format!("{run}-{i}");
        let labels = ValidatedLabels::new([("__name__", "omen_probe"), ("probe", probe.as_str())])
            .expect("probe labels are valid");
        let now_ms = omen_notify::now_ms();
        let calm: Vec<(i64, f64)> = (0..HISTORY)
            .map(|k| {
                (
                    now_ms - (HISTORY - k) * STEP_MS,
                    10.0 + (k % 7) as f64 * 0.1,
                )
            })
            .collect();
        let body = |samples: Vec<(i64, f64)>, encoder: &mut BodyEncoder| {
            let series = [SeriesSamples {
                labels: labels.clone(),
                samples,
                metric_type: Some(MetricType::Gauge),
            }];
            encoder.encode(Protocol::V1, &series, &[]).to_vec()
        };
        send(&client, &args.url, body(calm, &mut encoder)).await?;
        let spike = body(vec![(now_ms, 1_000.0)], &mut encoder);
        let sent = Instant::now();
        send(&client, &args.url, spike).await?;
        let deadline = sent + Duration::from_secs(10);
        loop {
            let arrived = arrivals
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(&probe)
                .copied();
            if let Some(at) = arrived {
                latencies.push(at.duration_since(sent));
                break;
            }
            if Instant::now() > deadline {
                missed += 1;
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    latencies.sort();
    let pct = |p: f64| -> f64 {
        if latencies.is_empty() {
            return f64::NAN;
        }
        let i = ((p * latencies.len() as f64).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[i].as_secs_f64() * 1e3
    };
    println!(
        "probes: {} alerted, {missed} without a webhook in 10 s",
        latencies.len()
    );
    println!(
        "spike request sent -> webhook received (ms): p50 {:.1}  p90 {:.1}  p99 {:.1}  max {:.1}",
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0)
    );
    if missed > 0 {
        bail!(
            "{missed} probes raised no webhook; is the server running with benches/config/alert-latency.toml?"
        );
    }
    Ok(())
}

async fn send(client: &reqwest::Client, url: &str, body: Vec<u8>) -> Result<()> {
    let response = client
        .post(url)
        .body(body)
        .send()
        .await
        .with_context(|| format!("cannot send to {url}"))?;
    if !response.status().is_success() {
        bail!("{url} answered {}", response.status());
    }
    Ok(())
}
