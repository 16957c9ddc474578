//! `omen analyze` end to end on a large generated history: points per second and peak memory,
//! beside a bare DataFusion scan of the same files.
//!
//! `cargo bench --bench analyze_throughput` generates (once, cached under
//! `target/bench-data/`) 10,000 series × 7 days at one-minute steps (100.8 M points, about
//! 1 GB of Parquet) with `omen datasets generate`, then measures:
//!
//! - a bare scan: DataFusion decoding every column of every row (`SELECT *`, counted), in one
//!   partition as analyze reads it, and in one partition per core;
//! - `omen analyze` itself, as a child process, with its wall time and peak resident memory
//!   (`wait4`'s `ru_maxrss`).
//!
//! `OMEN_BENCH_SERIES` and `OMEN_BENCH_DAYS` change the size. Under `cargo test` (no `--bench`
//! argument) it runs once on a small history, to keep the bench itself working.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
use futures::StreamExt;

struct Size {
    series: usize,
    days: u32,
    step_seconds: u32,
}

impl Size {
    fn points(&self) -> u64 {
        self.series as u64 * u64::from(self.days) * 86_400 / u64::from(self.step_seconds)
    }
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let benching = std::env::args().any(|a| a == "--bench");
    let size = if benching {
        Size {
            series: env_or("OMEN_BENCH_SERIES", 10_000),
            days: env_or("OMEN_BENCH_DAYS", 7),
            step_seconds: 60,
        }
    } else {
        Size {
            series: 20,
            days: 2,
            step_seconds: 300,
        }
    };
    let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target");
    let root = std::env::var_os("CARGO_TARGET_DIR").map_or(target, PathBuf::from);
    let data = root.join("bench-data").join(format!(
        "shop-{}x{}d-{}s",
        size.series, size.days, size.step_seconds
    ));
    generate(&data, &size);

    let pattern = data.join("*.parquet").to_string_lossy().into_owned();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (rows, scan_one) = runtime.block_on(scan(&data, 1));
    let (_, scan_all) = runtime.block_on(scan(&data, cores));
    assert_eq!(rows, size.points(), "the generated history has every point");

    let out = root.join("bench-data").join("analyze-out");
    let (elapsed, peak_rss) = run_analyze(&pattern, &out);
    let written = std::fs::metadata(out.join("scores.parquet")).unwrap().len();
    let _ = std::fs::remove_dir_all(&out);

    let per_second = |d: Duration| rows as f64 / d.as_secs_f64() / 1e6;
    println!(
        "analyze_throughput: {} series, {} points, {cores} cores",
        size.series, rows
    );
    println!(
        "  bare DataFusion scan, 1 partition:     {:>7.2} s  {:>7.1} M points/s",
        scan_one.as_secs_f64(),
        per_second(scan_one)
    );
    println!(
        "  bare DataFusion scan, {cores} partitions:    {:>7.2} s  {:>7.1} M points/s",
        scan_all.as_secs_f64(),
        per_second(scan_all)
    );
    println!(
        "  omen analyze:                          {:>7.2} s  {:>7.1} M points/s, peak RSS {} MiB, \
         scores.parquet {} MiB",
        elapsed.as_secs_f64(),
        per_second(elapsed),
        peak_rss / (1 << 20),
        written / (1 << 20)
    );
    println!(
        "  analyze / 1-partition scan time:       {:>7.1}x",
        elapsed.as_secs_f64() / scan_one.as_secs_f64()
    );
}

/// Generate the history into `dir` unless a finished one is already there.
fn generate(dir: &Path, size: &Size) {
    let done = dir.join(".complete");
    if done.exists() {
        return;
    }
    let started = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_omen"))
        .args(["datasets", "generate", "--out"])
        .arg(dir)
        .args(["--series", &size.series.to_string()])
        .args(["--days", &size.days.to_string()])
        .args(["--step-seconds", &size.step_seconds.to_string()])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("omen datasets generate runs");
    assert!(status.success(), "omen datasets generate failed");
    std::fs::write(&done, b"").unwrap();
    eprintln!(
        "analyze_throughput: generated {} in {:.1} s",
        dir.display(),
        started.elapsed().as_secs_f64()
    );
}

/// Decode every column of every row with DataFusion in `partitions` partitions.
async fn scan(dir: &Path, partitions: usize) -> (u64, Duration) {
    let ctx = SessionContext::new_with_config(
        SessionConfig::new()
            .with_target_partitions(partitions)
            .with_batch_size(8192),
    );
    let started = Instant::now();
    let frame = ctx
        .read_parquet(
            dir.to_string_lossy().into_owned(),
            ParquetReadOptions::default(),
        )
        .await
        .unwrap();
    let mut rows = 0;
    let mut streams = frame.execute_stream_partitioned().await.unwrap();
    let mut tasks = Vec::new();
    for mut stream in streams.drain(..) {
        tasks.push(tokio::spawn(async move {
            let mut n = 0_u64;
            while let Some(batch) = stream.next().await {
                n += batch.unwrap().num_rows() as u64;
            }
            n
        }));
    }
    for task in tasks {
        rows += task.await.unwrap();
    }
    (rows, started.elapsed())
}

/// Run `omen analyze` as a child and return its wall time and peak resident set size in bytes.
fn run_analyze(pattern: &str, out: &Path) -> (Duration, u64) {
    let started = Instant::now();
    #[expect(
        clippy::zombie_processes,
        reason = "reaped by wait4 below, which also gives its peak memory"
    )]
    let child = Command::new(env!("CARGO_BIN_EXE_omen"))
        .args(["analyze", "--input", pattern, "--output"])
        .arg(out)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("omen analyze starts");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet waited for; both pointers are valid for writes.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let elapsed = started.elapsed();
    assert_eq!(waited, pid, "wait4 failed");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "omen analyze failed"
    );
    // Linux reports ru_maxrss in KiB.
    (elapsed, usage.ru_maxrss as u64 * 1024)
}
