//! Arguments of `omen bench`: the load generators.

use clap::{Args, Subcommand};

/// The load generators of `omen bench`.
#[derive(Debug, Subcommand)]
pub(crate) enum BenchCommand {
    /// Send remote-write traffic to a receiver (Omen, or Prometheus started with
    /// --web.enable-remote-write-receiver) and print samples/s and latency percentiles.
    RemoteWrite(BenchRemoteWriteArgs),
    /// Time the alert path: from an anomalous sample's request to its webhook, for a server
    /// run with benches/config/alert-latency.toml.
    AlertLatency(BenchAlertLatencyArgs),
}

/// Arguments of `omen bench alert-latency`.
#[derive(Debug, Args)]
pub(crate) struct BenchAlertLatencyArgs {
    /// The server's remote-write URL.
    #[arg(long, value_name = "URL")]
    pub(crate) url: String,

    /// Where to listen for the webhooks (the channel `probe` of the configuration).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9399")]
    pub(crate) hook_listen: std::net::SocketAddr,

    /// How many probes (alerts) to time.
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub(crate) probes: usize,
}

/// Arguments of `omen bench remote-write`.
#[derive(Debug, Args)]
#[command(after_help = "\
Every series gets one sample per round, at 15-second steps of event time, in round order, like
a Prometheus scraping every target at once. Values follow a daily cycle with noise, and a few
series carry counters, so that the receiver does the work it does for real traffic. Each
request holds --batch-series series with --batch-samples samples each, as Prometheus batches
them. A 429 or 5xx answer is retried after its Retry-After and counted.")]
pub(crate) struct BenchRemoteWriteArgs {
    /// The receiver's remote-write URL.
    #[arg(long, value_name = "URL")]
    pub(crate) url: String,

    /// How many series.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub(crate) series: usize,

    /// Samples per series.
    #[arg(long, value_name = "M", default_value_t = 100)]
    pub(crate) samples_per_series: usize,

    /// Requests in flight at once.
    #[arg(long, value_name = "C", default_value_t = 4)]
    pub(crate) concurrency: usize,

    /// The protocol: 1 (prometheus.WriteRequest) or 2 (io.prometheus.write.v2.Request).
    #[arg(long, value_name = "1|2", default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
    pub(crate) protocol: u8,

    /// Series per request.
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub(crate) batch_series: usize,

    /// Samples per series in one request.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub(crate) batch_samples: usize,

    /// Send at most this many samples per second (0: as fast as the receiver takes them), to
    /// measure latency at a given load.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub(crate) rate: u64,

    /// A bearer token to send.
    #[arg(long, value_name = "TOKEN")]
    pub(crate) bearer_token: Option<String>,

    /// Noise without any period. The default noise repeats every 1,000 samples, and Omen
    /// finds a short season in it after about 265 samples, which ends each series' season
    /// search; with this one series keep searching, as series without a season do for
    /// detector.season_search_ms: the most memory a series takes.
    #[arg(long)]
    pub(crate) aperiodic_noise: bool,
}
