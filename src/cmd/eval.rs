//! `omen eval nab|alerts|labelled`: the command line turned into the runs' options
//! (`omen-eval-runner`).

use anyhow::Result;
use omen_config::Config;
use omen_eval_runner::{AlertsOptions, LabelledOptions, NabOptions};

use crate::cli::{EvalAlertsArgs, EvalLabelledArgs, EvalNabArgs};

pub(crate) fn nab(args: &EvalNabArgs) -> Result<()> {
    omen_eval_runner::nab::run(&NabOptions {
        data: args.data.clone(),
        out: args.out.clone(),
        json: args.json.clone(),
    })?;
    Ok(())
}

pub(crate) fn alerts(args: &EvalAlertsArgs) -> Result<()> {
    omen_eval_runner::alerts::run(&AlertsOptions {
        data: args.data.clone(),
        json: args.json.clone(),
    })?;
    Ok(())
}

pub(crate) fn labelled(args: &EvalLabelledArgs) -> Result<()> {
    let config = Config::load(args.config.as_deref())?;
    omen_eval_runner::labelled::run(&LabelledOptions {
        input: args.input.clone(),
        label_column: args.label_column.clone(),
        series_columns: args.series_columns.clone(),
        timestamp_column: args.timestamp_column.clone(),
        value_column: args.value_column.clone(),
        delay: args.delay,
        json: args.json.clone(),
        detector: config.detector,
        verdict: config.verdict,
    })?;
    Ok(())
}
