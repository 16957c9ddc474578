//! `omen analyze --input PATH_OR_GLOB... --output DIR`: the batch pipeline of
//! [`omen_analyze`], with the settings of the command line and the configuration file.

use std::sync::Arc;

use anyhow::Result;
use omen_analyze::AnalyzeOptions;
use omen_config::Config;
use omen_ingest::TableOptions;

use crate::cli::AnalyzeArgs;

/// Run `omen analyze`.
pub(crate) fn run(args: &AnalyzeArgs) -> Result<()> {
    crate::allocator::keep_freed_memory();
    let config = Config::load(args.config.as_deref())?;
    let options = options(args, &config)?;
    let runtime = super::async_runtime()?;
    // The pipeline's errors name their step already (`cannot write scores.parquet: ...`), as
    // the command has always printed them: no context added here.
    let finished = runtime.block_on(omen_analyze::analyze(&options))?;
    print!("{finished}");
    Ok(())
}

/// The pipeline's settings from the command line and the configuration file.
fn options(args: &AnalyzeArgs, config: &Config) -> Result<AnalyzeOptions> {
    // `Config::load` validated the rules already, before any data was read.
    let alerts = if config.alert.rules.is_empty() {
        None
    } else {
        let compiled = config
            .alert
            .validate()
            .map_err(|err| anyhow::anyhow!("invalid setting {err}"))?;
        // Links in explanations as `omen serve` would make them.
        let external = config.server.external_url();
        Some(Arc::new(
            compiled.with_external_url(external.trim_end_matches('/')),
        ))
    };
    Ok(AnalyzeOptions {
        inputs: args.input.clone(),
        sql: args.sql.clone(),
        table: TableOptions {
            timestamp_column: args.timestamp_column.clone(),
            value_column: args.value_column.clone(),
            series_columns: args.series_columns.clone(),
        },
        output: args.output.clone(),
        report: args.report.clone(),
        top: args.top,
        detector: config.detector.clone(),
        verdict: config.verdict.clone(),
        alerts,
    })
}
