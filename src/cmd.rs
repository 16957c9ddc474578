//! The subcommands' implementations, one module each.

mod alerts_export;
mod analyze;
mod bench_alert_latency;
mod bench_remote_write;
mod check_config;
mod datasets;
mod detect;
mod eval;
mod serve;
mod sql;

use anyhow::{Context, Result};

use crate::cli::{AlertsCommand, BenchCommand, Command, DatasetsCommand, EvalCommand};

/// Run one subcommand.
pub(crate) fn run(command: Command) -> Result<()> {
    match command {
        Command::Analyze(args) => analyze::run(&args),
        Command::Detect(args) => detect::run(&args),
        Command::Sql(args) => sql::run(&args),
        Command::Eval(EvalCommand::Nab(args)) => eval::nab(&args),
        Command::Eval(EvalCommand::Labelled(args)) => eval::labelled(&args),
        Command::Eval(EvalCommand::Alerts(args)) => eval::alerts(&args),
        Command::Datasets(DatasetsCommand::Generate(args)) => datasets::generate(&args),
        Command::Serve(args) => serve::run(&args),
        Command::CheckConfig(args) => check_config::run(&args),
        Command::Bench(BenchCommand::RemoteWrite(args)) => bench_remote_write::run(&args),
        Command::Bench(BenchCommand::AlertLatency(args)) => bench_alert_latency::run(&args),
        Command::Alerts(AlertsCommand::Export(args)) => alerts_export::run(&args),
    }
}

/// The async runtime that the commands reading through DataFusion run on.
fn async_runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
