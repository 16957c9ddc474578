//! End to end with the real Prometheus and node-exporter (Debian's `prometheus` and
//! `prometheus-node-exporter`), started by hand on 127.0.0.1:
//!
//! 1. Prometheus scrapes node-exporter and Omen every second and remote-writes to Omen;
//! 2. Omen is stopped (SIGTERM) and started again mid-run; Prometheus retries meanwhile;
//! 3. scraping is switched off by a config reload, and once Prometheus has sent everything,
//!    the samples Omen took over its two runs equal the samples Prometheus delivered
//!    (attempted minus retried minus failed), with none failed or dropped;
//! 4. Prometheus can query `omen_anomaly_score`, scraped back from Omen's `/metrics`.
//!
//! `.ci/run` installs the packages and sets `OMEN_E2E_REQUIRED=1`, so there a missing binary
//! fails the test; elsewhere the test is skipped with a message.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::http;
use crate::support::process::{Process, find, wait_until};
use crate::support::server::{Server, free_port, metric_in};

fn spawn(binary: &Path, args: &[String], log: &Path) -> Process {
    let log = std::fs::File::create(log).unwrap();
    Process(
        Command::new(binary)
            .args(args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", binary.display())),
    )
}

fn prometheus_config(node: SocketAddr, omen: SocketAddr, scrape: bool) -> String {
    let scrapes = if scrape {
        format!(
            "scrape_configs:
  - job_name: node
    static_configs: [{{targets: ['{node}']}}]
  - job_name: omen
    static_configs: [{{targets: ['{omen}']}}]
"
        )
    } else {
        "scrape_configs: []\n".to_string()
    };
    // The remote_write block must not change between the two configs, so that the reload
    // keeps its queue (and its counters). Omen's own series are remote-written back to it
    // too: the README's example drops them with write_relabel_configs, but Prometheus 2.42
    // counts samples dropped that way in samples_dropped_total, which this test checks is 0.
    format!(
        "global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
{scrapes}remote_write:
  - url: http://{omen}/api/v1/write
    name: omen
    remote_timeout: 5s
    queue_config:
      max_samples_per_send: 500
      batch_send_deadline: 1s
      max_shards: 2
      min_backoff: 100ms
      max_backoff: 1s
    metadata_config:
      send: true
      send_interval: 2s
"
    )
}

/// The sum over every line of `page` whose name is `name` (any labels).
fn sum_of(page: &str, name: &str) -> f64 {
    page.lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[test]
fn prometheus_remote_writes_through_a_restart_without_losing_a_sample() {
    let (Some(prometheus), Some(node_exporter)) =
        (find("prometheus"), find("prometheus-node-exporter"))
    else {
        let message = "the real Prometheus and node-exporter are not installed \
                       (Debian packages prometheus and prometheus-node-exporter; .ci/run installs them)";
        assert!(std::env::var_os("OMEN_E2E_REQUIRED").is_none(), "{message}");
        eprintln!("skipped: {message}");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    let mut omen = Server::start(&work.join("omen-data"), None);

    let node = SocketAddr::from(([127, 0, 0, 1], free_port()));
    std::fs::create_dir_all(work.join("textfile")).unwrap();
    let _node = spawn(
        &node_exporter,
        &[
            format!("--web.listen-address={node}"),
            format!(
                "--collector.textfile.directory={}",
                work.join("textfile").display()
            ),
            "--no-collector.systemd".into(),
        ],
        &work.join("node-exporter.log"),
    );
    let prom = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let config = work.join("prometheus.yml");
    std::fs::write(&config, prometheus_config(node, omen.addr, true)).unwrap();
    let _prometheus = spawn(
        &prometheus,
        &[
            format!("--config.file={}", config.display()),
            format!("--storage.tsdb.path={}", work.join("prom-data").display()),
            format!("--web.listen-address={prom}"),
            "--storage.remote.flush-deadline=2s".into(),
            "--web.enable-lifecycle".into(),
        ],
        &work.join("prometheus.log"),
    );
    let prometheus_log =
        || std::fs::read_to_string(work.join("prometheus.log")).unwrap_or_default();
    wait_until("Prometheus to be ready", Duration::from_secs(60), || {
        http::get(prom, "/-/ready").is_ok_and(|r| r.status == 200)
    });

    // 1. Samples arrive.
    wait_until("the first samples at Omen", Duration::from_secs(60), || {
        omen.metric("omen_remote_write_samples_written_total")
            .is_some_and(|n| n > 0.0)
    });
    std::thread::sleep(Duration::from_secs(4));

    // 2. Omen goes away for a while, Prometheus retries, Omen comes back.
    let first_run = omen.stop();
    let written_before = written_in_log(&first_run);
    assert!(written_before > 0, "{first_run}");
    std::thread::sleep(Duration::from_secs(4));
    omen.restart();
    std::thread::sleep(Duration::from_secs(6));

    // 3. Stop scraping and let Prometheus send what it still holds.
    std::fs::write(&config, prometheus_config(node, omen.addr, false)).unwrap();
    let reload = http::request(prom, "POST", "/-/reload", &[], &[]).unwrap();
    assert_eq!(reload.status, 200, "reload: {}", reload.text());
    let mut last = (f64::NAN, f64::NAN);
    wait_until(
        "Prometheus to have sent everything",
        Duration::from_secs(60),
        || {
            let page = http::get(prom, "/metrics").unwrap().text();
            let pending = sum_of(&page, "prometheus_remote_storage_samples_pending");
            let attempted = sum_of(&page, "prometheus_remote_storage_samples_total");
            let omen_written = omen
                .metric("omen_remote_write_samples_written_total")
                .unwrap_or(0.0);
            let now = (attempted, omen_written);
            let settled = pending == 0.0 && now == last;
            last = now;
            settled
        },
    );
    std::thread::sleep(Duration::from_secs(3));
    let page = http::get(prom, "/metrics").unwrap().text();
    let attempted = sum_of(&page, "prometheus_remote_storage_samples_total");
    let retried = sum_of(&page, "prometheus_remote_storage_samples_retried_total");
    let failed = sum_of(&page, "prometheus_remote_storage_samples_failed_total");
    let dropped = sum_of(&page, "prometheus_remote_storage_samples_dropped_total");
    let written_after = omen
        .metric("omen_remote_write_samples_written_total")
        .unwrap();
    let delivered = attempted - retried - failed;
    eprintln!(
        "Prometheus attempted {attempted}, retried {retried}, failed {failed}, dropped {dropped}; \
         Omen took {written_before} + {written_after}"
    );
    assert_eq!(failed, 0.0, "no sample may fail\n{}", prometheus_log());
    assert_eq!(dropped, 0.0, "no sample may be dropped");
    assert!(retried > 0.0, "the restart made Prometheus retry");
    assert_eq!(
        written_before as f64 + written_after,
        delivered,
        "every sample Prometheus delivered reached Omen, once"
    );

    // 4. Prometheus scraped Omen's scores back and can query them (over the last minutes:
    //    since the reload they are stale, so an instant query alone would find none).
    let query = http::get(
        prom,
        "/api/v1/query?query=count(last_over_time(omen_anomaly_score%5B5m%5D))",
    )
    .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&query.body).unwrap();
    let count: f64 = json["data"]["result"][0]["value"][1]
        .as_str()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no omen_anomaly_score in Prometheus: {json}"));
    assert!(count > 10.0, "{json}");
    let page = http::get(omen.addr, "/metrics").unwrap().text();
    assert!(
        metric_in(&page, "omen_active_series").is_some_and(|n| n > 10.0),
        "{page}"
    );
    omen.stop();
}

/// `samples_written=N` from the line Omen logs when it stops.
fn written_in_log(log: &str) -> u64 {
    log.lines()
        .filter(|l| l.contains("stopped"))
        .find_map(|l| {
            let at = l.find("samples_written=")? + "samples_written=".len();
            l[at..]
                .split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no samples_written in the log:\n{log}"))
}
