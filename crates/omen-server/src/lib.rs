#![doc = include_str!("../README.md")]
//!
//! `omen serve`: the live path. Prometheus remote-writes to it; the streaming engine
//! (`omen_engine::live`) scores every sample; `/metrics` and the JSON API show the results.
//!
//! Threads: the HTTP server runs on a small tokio runtime (decoding happens there); the
//! engine's shards are threads of their own. Shutdown on SIGTERM or SIGINT: stop accepting
//! connections, finish the requests in flight, then let the engine score what is queued and
//! write its final snapshot.

mod api;
mod auth;
mod error;
mod exposition;
mod families;
mod logging;
mod metrics_page;
mod notify_metrics;
mod receiver_metrics;
mod write;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::middleware;
use axum::routing::{get, post};
use omen_alert_runtime::api::AlertApiHost;
use omen_alert_runtime::{AlertRuntime, RuntimeOptions, SystemClock};
use omen_config::Config;
use omen_core::Labels;
use omen_engine::live::{Engine, EngineOptions, RestoreOutcome};
use omen_remote_write::Limits;

pub use error::{Error, Result};
pub use logging::init_logging;

use families::FamilyTypes;
use receiver_metrics::ReceiverMetrics;

/// What every handler shares.
#[derive(Debug)]
struct AppState {
    engine: Engine,
    receiver: ReceiverMetrics,
    families: FamilyTypes,
    limits: Limits,
    /// False once shutdown has begun, so that `/-/ready` tells a load balancer to stop sending.
    ready: AtomicBool,
    /// The alert stage: rules, history, feedback, the notification outbox.
    alerting: AlertRuntime,
}

impl AlertApiHost for AppState {
    fn alerts(&self) -> &AlertRuntime {
        &self.alerting
    }

    fn rebaseline(&self, labels: &Labels) -> bool {
        self.engine.rebaseline(labels)
    }
}

/// Serve until SIGTERM or SIGINT: listen, restore the learned state, score what is written,
/// alert; then finish the requests in flight, score what is queued and write the final
/// snapshot. `config` is validated, with its secrets read (`ServerConfig::read_secrets`).
pub fn run(config: Config) -> Result<()> {
    let server = config.server.clone();
    // Bind first: a busy port is an error before a snapshot is read or a thread started.
    let listener = std::net::TcpListener::bind(server.listen)
        .map_err(|e| Error::io(format!("cannot listen on {}", server.listen), e))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::io("cannot make the listening socket non-blocking", e))?;
    std::fs::create_dir_all(&server.data_dir).map_err(|e| {
        let dir = server.data_dir.display();
        Error::io(format!("cannot create the data directory `{dir}`"), e)
    })?;
    let external_url = server.external_url();
    let (alerting, observer) = AlertRuntime::open(RuntimeOptions {
        alert: &config.alert,
        notify: &config.notify,
        external_url,
        resend_interval: server.alert_resend_interval,
        series_ttl: config.live.series_ttl,
        data_dir: &server.data_dir,
        clock: Arc::new(SystemClock),
    })?;
    let engine = Engine::start(EngineOptions {
        detector: config.detector.clone(),
        verdict: config.verdict.clone(),
        data_dir: Some(server.data_dir.clone()),
        observer: Some(Arc::new(observer)),
        ..EngineOptions::new(config.live.clone())
    })
    .map_err(Error::Engine)?;
    log_restore(&engine);
    let state = Arc::new(AppState {
        engine,
        receiver: ReceiverMetrics::new(),
        families: FamilyTypes::default(),
        limits: Limits {
            max_body_bytes: server.max_body_bytes,
            max_decoded_bytes: server.max_decoded_bytes,
        },
        ready: AtomicBool::new(true),
        alerting,
    });
    let credentials = Arc::new(auth::Credentials::new(&server.auth));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(
            std::thread::available_parallelism()
                .map_or(2, |n| n.get())
                .min(4),
        )
        .thread_name("omen-http")
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the async runtime", e))?;
    runtime.block_on(async {
        state.alerting.start_dispatcher()?;
        serve(Arc::clone(&state), credentials, listener).await
    })?;
    // Every request has been answered: score what is queued and write the final snapshot.
    let stopped = state.engine.shutdown();
    // Then the alert events of those last samples, and the notifications in flight.
    runtime.block_on(state.alerting.shutdown());
    drop(runtime);
    match stopped {
        Ok(Some(info)) => tracing::info!(
            series = info.series,
            bytes = info.bytes,
            seconds = info.duration.as_secs_f64(),
            path = %info.path.display(),
            "final snapshot written"
        ),
        Ok(None) => {}
        Err(err) => return Err(Error::Snapshot(err)),
    }
    let stats = state.engine.stats();
    tracing::info!(
        samples_written = state.receiver.samples_written.get(),
        samples_scored = stats.samples_scored,
        active_series = stats.active_series,
        "stopped"
    );
    Ok(())
}

async fn serve(
    state: Arc<AppState>,
    credentials: Arc<auth::Credentials>,
    listener: std::net::TcpListener,
) -> Result<()> {
    let protected = Router::new()
        .route("/api/v1/write", post(write::write))
        .route("/api/v1/series", get(api::series))
        .route("/api/v1/series/state", get(api::series_state))
        .route("/metrics", get(metrics_page::metrics))
        .merge(omen_alert_runtime::api::routes::<AppState>())
        .route_layer(middleware::from_fn_with_state(
            credentials.clone(),
            auth::require,
        ));
    let app = Router::new()
        .route("/-/healthy", get(|| async { "Omen is healthy.\n" }))
        .route("/-/ready", get(ready))
        .merge(protected)
        // The write handler enforces server.max_body_bytes itself, with its own 413.
        .layer(DefaultBodyLimit::disable())
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::from_std(listener)
        .map_err(|e| Error::io("cannot hand the listening socket to the async runtime", e))?;
    let local = listener
        .local_addr()
        .map_err(|e| Error::io("the listening socket has no address", e))?;
    tracing::info!(
        address = %local,
        auth = if credentials.is_open() { "none" } else { "required" },
        "listening; remote-write to http://{local}/api/v1/write"
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            state.ready.store(false, Ordering::SeqCst);
            tracing::info!("shutting down: finishing requests in flight");
        })
        .await
        .map_err(|e| Error::io("the HTTP server failed", e))
}

async fn ready(State(state): State<Arc<AppState>>) -> (StatusCode, &'static str) {
    if state.ready.load(Ordering::SeqCst) {
        (StatusCode::OK, "Omen is ready.\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "Omen is shutting down.\n")
    }
}

/// SIGTERM or SIGINT (Ctrl-C).
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

fn log_restore(engine: &Engine) {
    let report = engine.restore_report();
    let path = report
        .path
        .as_ref()
        .map_or_else(String::new, |p| p.display().to_string());
    match &report.outcome {
        RestoreOutcome::Restored { shards, .. } => tracing::info!(
            series = report.series,
            over_limit = report.over_limit,
            written_by_shards = shards,
            path,
            "restored the learned state"
        ),
        RestoreOutcome::NoDataDir | RestoreOutcome::NoSnapshot => {
            tracing::info!(path, "no snapshot yet: every series starts learning afresh");
        }
        RestoreOutcome::SettingsChanged => tracing::warn!(
            path,
            "the snapshot was written with other detector settings: every series starts afresh"
        ),
        RestoreOutcome::MovedAside { to, reason } => tracing::warn!(
            moved_to = %to.display(),
            reason,
            "the snapshot could not be read and was moved aside: every series starts afresh"
        ),
    }
}
