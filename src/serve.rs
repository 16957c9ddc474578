//! `omen serve`: the live path. Prometheus remote-writes to it; the streaming engine
//! (`omen_engine::live`) scores every sample; `/metrics` and the JSON API show the results.
//!
//! Threads: the HTTP server runs on a small tokio runtime (decoding happens there); the
//! engine's shards are threads of their own. Shutdown on SIGTERM or SIGINT: stop accepting
//! connections, finish the requests in flight, then let the engine score what is queued and
//! write its final snapshot.

pub(crate) mod alerting;
mod api;
mod auth;
pub(crate) mod config;
mod exposition;
mod families;
mod metrics_page;
mod notify_metrics;
mod receiver_metrics;
mod write;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::middleware;
use axum::routing::{delete, get, post};
use omen_engine::live::{Engine, EngineOptions, RestoreOutcome};
use omen_remote_write::Limits;

use crate::cli::ServeArgs;
use crate::config::Config;
use families::FamilyTypes;
use receiver_metrics::ReceiverMetrics;

/// What every handler shares.
#[derive(Debug)]
pub(crate) struct AppState {
    engine: Engine,
    receiver: ReceiverMetrics,
    families: FamilyTypes,
    limits: Limits,
    /// False once shutdown has begun, so that `/-/ready` tells a load balancer to stop sending.
    ready: AtomicBool,
    /// The alert stage: rules, history, feedback, the notification outbox.
    alerting: alerting::Alerting,
}

pub(crate) fn run(args: &ServeArgs) -> Result<()> {
    init_logging();
    let mut config = Config::load(args.config.as_deref())?;
    if let Some(listen) = args.listen {
        config.server.listen = listen;
    }
    if let Some(dir) = &args.data_dir {
        config.server.data_dir = dir.clone();
    }
    let base = args
        .config
        .as_deref()
        .and_then(|p| p.parent())
        .unwrap_or(std::path::Path::new("."));
    config.server.read_secrets(base)?;
    let server = config.server.clone();
    // Bind first: a busy port is an error before a snapshot is read or a thread started.
    let listener = std::net::TcpListener::bind(server.listen)
        .with_context(|| format!("cannot listen on {}", server.listen))?;
    listener
        .set_nonblocking(true)
        .context("cannot make the listening socket non-blocking")?;
    std::fs::create_dir_all(&server.data_dir).with_context(|| {
        format!(
            "cannot create the data directory `{}`",
            server.data_dir.display()
        )
    })?;
    let (alerting, observer) = alerting::Alerting::open(&config, &server.data_dir)?;
    let engine = Engine::start(EngineOptions {
        detector: config.detector.clone(),
        verdict: config.verdict.clone(),
        data_dir: Some(server.data_dir.clone()),
        observer: Some(Arc::new(observer)),
        ..EngineOptions::new(config.live.clone())
    })
    .context("cannot start the detection engine")?;
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
        .context("cannot start the async runtime")?;
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
        Err(err) => return Err(err).context("the final snapshot failed"),
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
        .route("/api/v1/alerts", get(alerting::api::alerts))
        .route("/api/v1/alerts/active", get(alerting::api::active))
        .route(
            "/api/v1/feedback",
            post(alerting::api::feedback).get(alerting::api::feedback_list),
        )
        .route("/api/v1/adjustments", get(alerting::api::adjustments))
        .route("/api/v1/adjustments/{id}", delete(alerting::api::undo))
        .route(
            "/api/v1/notifications/dead-letters",
            get(alerting::api::dead_letters),
        )
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
        .context("cannot hand the listening socket to the async runtime")?;
    let local = listener
        .local_addr()
        .context("the listening socket has no address")?;
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
        .context("the HTTP server failed")
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

/// Log lines to stderr, at `info` unless `RUST_LOG` says otherwise.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only on a terminal: a log file or journal gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}
