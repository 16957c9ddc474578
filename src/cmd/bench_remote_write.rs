//! `omen bench remote-write`: realistic remote-write traffic to any receiver, and how fast it
//! takes it.
//!
//! The series are split into `--concurrency` shards the way Prometheus splits them: each shard
//! sends its own series' requests one after another, so every series arrives in time order
//! however many requests are in flight. All bodies are encoded before the clock starts, so the
//! sender's share of the CPU is only HTTP, and the rate measured is the receiver's.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use omen_remote_write::{BodyEncoder, MetricType, Protocol, SeriesSamples, ValidatedLabels};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};

use crate::cli::BenchRemoteWriteArgs;

/// Event time between a series' samples, as with a 15 s scrape interval.
const STEP_MS: i64 = 15_000;
/// The first sample's time: now minus the whole run, so that a receiver with a "too old"
/// bound (Prometheus's own) accepts every sample.
fn first_timestamp_ms(samples_per_series: usize) -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    now - samples_per_series as i64 * STEP_MS
}

/// What a shard sends: its requests in order, each with its sample count.
struct ShardPlan {
    bodies: Vec<(Vec<u8>, u64)>,
}

/// What a shard saw.
#[derive(Default)]
struct ShardResult {
    samples: u64,
    requests: u64,
    retries: u64,
    failed: Vec<String>,
    latencies: Vec<Duration>,
}

pub(crate) fn run(args: &BenchRemoteWriteArgs) -> Result<()> {
    if args.series == 0 || args.samples_per_series == 0 || args.concurrency == 0 {
        bail!("--series, --samples-per-series and --concurrency must be above 0");
    }
    if args.batch_series == 0 || args.batch_samples == 0 {
        bail!("--batch-series and --batch-samples must be above 0");
    }
    let protocol = if args.protocol == 2 {
        Protocol::V2
    } else {
        Protocol::V1
    };
    let started = Instant::now();
    let plans = plan(args, protocol);
    let bytes: usize = plans
        .iter()
        .flat_map(|p| &p.bodies)
        .map(|b| b.0.len())
        .sum();
    let requests: usize = plans.iter().map(|p| p.bodies.len()).sum();
    eprintln!(
        "encoded {requests} requests ({:.1} MB, {} series x {} samples, protocol {}) in {:.1} s",
        bytes as f64 / 1e6,
        args.series,
        args.samples_per_series,
        args.protocol,
        started.elapsed().as_secs_f64()
    );
    let runtime = super::async_runtime()?;
    let (results, elapsed) = runtime.block_on(send_all(args, protocol, plans))?;
    report(&results, elapsed);
    let failed: Vec<&String> = results.iter().flat_map(|r| &r.failed).collect();
    if !failed.is_empty() {
        bail!(
            "{} requests failed; the first: {}",
            failed.len(),
            failed.first().map_or("", |s| s.as_str())
        );
    }
    Ok(())
}

/// The metric names the generated series cycle through: gauges and counters, as a host and a
/// service export them.
const METRICS: [(&str, MetricType); 6] = [
    ("node_load1", MetricType::Gauge),
    ("node_memory_MemAvailable_bytes", MetricType::Gauge),
    ("http_requests_total", MetricType::Counter),
    ("http_request_duration_seconds_p95", MetricType::Gauge),
    ("node_network_receive_bytes_total", MetricType::Counter),
    ("process_open_fds", MetricType::Gauge),
];

fn labels_of(series: usize) -> (ValidatedLabels, MetricType) {
    let (name, kind) = METRICS[series % METRICS.len()];
    let instance = format!("host-{:05}:9100", series / METRICS.len());
    let labels = ValidatedLabels::new([
        ("__name__", name),
        ("instance", &instance),
        ("job", "bench"),
    ])
    .expect("generated labels are valid");
    (labels, kind)
}

/// The value of series `series` at its sample `i`: a daily cycle, noise, and for counters the
/// running sum of a positive rate. The noise repeats every 1,000 samples unless `aperiodic`.
fn value_of(series: usize, i: usize, kind: MetricType, aperiodic: bool) -> f64 {
    let phase =
        (i as f64 * STEP_MS as f64 / 86_400_000.0 + series as f64 * 0.01) * std::f64::consts::TAU;
    let noise = if aperiodic {
        aperiodic_noise(((series as u64) << 32) | i as u64)
    } else {
        ((series as u64 * 7919 + i as u64 * 104_729) % 1000) as f64 / 1000.0
    };
    let level = 100.0 + (series % 97) as f64;
    match kind {
        MetricType::Counter => (level * i as f64) + noise,
        _ => level + 10.0 * phase.sin() + noise,
    }
}

/// Noise in [0, 1) with no period: SplitMix64's finaliser of `x`.
fn aperiodic_noise(x: u64) -> f64 {
    let mut x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    ((x ^ (x >> 31)) >> 11) as f64 / (1u64 << 53) as f64
}

fn plan(args: &BenchRemoteWriteArgs, protocol: Protocol) -> Vec<ShardPlan> {
    let first_ms = first_timestamp_ms(args.samples_per_series);
    let shards: Vec<Vec<usize>> = (0..args.concurrency)
        .map(|shard| (shard..args.series).step_by(args.concurrency).collect())
        .collect();
    let series: Vec<(ValidatedLabels, MetricType)> = (0..args.series).map(labels_of).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = shards
            .iter()
            .map(|members| {
                let series = &series;
                scope.spawn(move || {
                    let mut encoder = BodyEncoder::new();
                    let mut bodies = Vec::new();
                    let mut round_start = 0;
                    while round_start < args.samples_per_series {
                        let round_end =
                            (round_start + args.batch_samples).min(args.samples_per_series);
                        for chunk in members.chunks(args.batch_series) {
                            let batch: Vec<SeriesSamples> = chunk
                                .iter()
                                .map(|&s| {
                                    let (labels, kind) = &series[s];
                                    SeriesSamples {
                                        labels: labels.clone(),
                                        samples: (round_start..round_end)
                                            .map(|i| {
                                                (
                                                    first_ms + i as i64 * STEP_MS,
                                                    value_of(s, i, *kind, args.aperiodic_noise),
                                                )
                                            })
                                            .collect(),
                                        metric_type: Some(*kind),
                                    }
                                })
                                .collect();
                            let samples = (batch.len() * (round_end - round_start)) as u64;
                            bodies.push((encoder.encode(protocol, &batch, &[]).to_vec(), samples));
                        }
                        round_start = round_end;
                    }
                    ShardPlan { bodies }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("encoder thread"))
            .collect()
    })
}

async fn send_all(
    args: &BenchRemoteWriteArgs,
    protocol: Protocol,
    plans: Vec<ShardPlan>,
) -> Result<(Vec<ShardResult>, Duration)> {
    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(omen_remote_write::content_type(protocol)),
    );
    headers.insert(CONTENT_ENCODING, HeaderValue::from_static("snappy"));
    headers.insert(
        "X-Prometheus-Remote-Write-Version",
        HeaderValue::from_static(protocol.version()),
    );
    if let Some(token) = &args.bearer_token {
        let value = HeaderValue::from_str(&format!("Bearer {token}"))
            .context("the bearer token is not a valid header value")?;
        headers.insert(reqwest::header::AUTHORIZATION, value);
    }
    let client = reqwest::Client::builder()
        .default_headers(headers)
        .user_agent(concat!("omen-bench/", env!("CARGO_PKG_VERSION")))
        .timeout(Duration::from_secs(30))
        .build()
        .context("cannot build the HTTP client")?;
    // Each shard's share of --rate, in samples per second.
    let shard_rate = (args.rate > 0).then(|| args.rate as f64 / plans.len() as f64);
    let started = Instant::now();
    let tasks: Vec<_> = plans
        .into_iter()
        .map(|plan| {
            let client = client.clone();
            let url = args.url.clone();
            tokio::spawn(async move { send_shard(client, url, plan, shard_rate).await })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.context("a sender task panicked")?);
    }
    Ok((results, started.elapsed()))
}

async fn send_shard(
    client: reqwest::Client,
    url: String,
    plan: ShardPlan,
    rate: Option<f64>,
) -> ShardResult {
    let mut result = ShardResult::default();
    let started = Instant::now();
    for (body, samples) in plan.bodies {
        if let Some(rate) = rate {
            // Start each request when the samples sent so far are due at `rate`.
            let due = started + Duration::from_secs_f64(result.samples as f64 / rate);
            tokio::time::sleep_until(due.into()).await;
        }
        let body = bytes_of(body);
        loop {
            let sent_at = Instant::now();
            let response = client.post(&url).body(body.clone()).send().await;
            result.requests += 1;
            match response {
                Ok(response) if response.status().is_success() => {
                    result.latencies.push(sent_at.elapsed());
                    result.samples += samples;
                    break;
                }
                Ok(response) if is_retryable(response.status()) => {
                    result.retries += 1;
                    let wait =
                        retry_after(response.headers()).unwrap_or(Duration::from_millis(100));
                    tokio::time::sleep(wait).await;
                }
                Ok(response) => {
                    let status = response.status();
                    let text = response.text().await.unwrap_or_default();
                    result.failed.push(format!("{status}: {}", text.trim()));
                    break;
                }
                Err(err) => {
                    result.failed.push(format!("{err}"));
                    break;
                }
            }
        }
    }
    result
}

/// A body that is cheap to send again (a reference-counted buffer).
fn bytes_of(body: Vec<u8>) -> axum::body::Bytes {
    axum::body::Bytes::from(body)
}

fn is_retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds: f64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs_f64(seconds.clamp(0.0, 5.0)))
}

fn report(results: &[ShardResult], elapsed: Duration) {
    let samples: u64 = results.iter().map(|r| r.samples).sum();
    let requests: u64 = results.iter().map(|r| r.requests).sum();
    let retries: u64 = results.iter().map(|r| r.retries).sum();
    let failed: usize = results.iter().map(|r| r.failed.len()).sum();
    let mut latencies: Vec<Duration> = results
        .iter()
        .flat_map(|r| r.latencies.iter().copied())
        .collect();
    latencies.sort_unstable();
    let at = |q: f64| -> f64 {
        if latencies.is_empty() {
            return f64::NAN;
        }
        let i = ((latencies.len() - 1) as f64 * q).round() as usize;
        latencies[i].as_secs_f64() * 1e3
    };
    println!(
        "samples written: {samples} in {:.2} s: {:.0} samples/s",
        elapsed.as_secs_f64(),
        samples as f64 / elapsed.as_secs_f64()
    );
    println!("requests: {requests} (retried after 429/5xx: {retries}, failed: {failed})");
    println!(
        "latency of accepted requests (ms): p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0)
    );
}
