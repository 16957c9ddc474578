#![doc = include_str!("../README.md")]

mod evaluator;
mod window;

use datafusion::logical_expr::WindowUDF;
use datafusion::prelude::SessionContext;
use omen_detect::EnsembleConfig;
use omen_engine::VerdictConfig;

pub use window::{DetectorWindow, Output};

/// Omen's window functions, one per [`Output`], with these settings.
pub fn window_functions(detector: &EnsembleConfig, verdict: &VerdictConfig) -> Vec<WindowUDF> {
    Output::ALL
        .into_iter()
        .map(|output| {
            WindowUDF::from(DetectorWindow::new(
                output,
                detector.clone(),
                verdict.clone(),
            ))
        })
        .collect()
}

/// Register Omen's window functions in `ctx`.
pub fn register(ctx: &SessionContext, detector: &EnsembleConfig, verdict: &VerdictConfig) {
    for function in window_functions(detector, verdict) {
        ctx.register_udwf(function);
    }
}
