//! Temporary first ensemble: replaced by the full model set.
use omen_core::{Detector, ModelKind, Sample, Score, Status};
use serde::{Deserialize, Serialize};

/// Settings of the default ensemble.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnsembleConfig {
    /// Samples learned before scoring.
    pub warm_up: u32,
}

impl Default for EnsembleConfig {
    fn default() -> Self {
        Self { warm_up: 100 }
    }
}

/// The default detector.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ensemble {
    config: EnsembleConfig,
    n: u32,
    mean: f64,
    var: f64,
    last_ts: Option<i64>,
}

impl Ensemble {
    /// A fresh detector.
    pub fn new(config: EnsembleConfig) -> Self {
        Self { config, n: 0, mean: 0.0, var: 0.0, last_ts: None }
    }
}

impl Detector for Ensemble {
    fn name(&self) -> &'static str {
        "ensemble"
    }
    fn update(&mut self, s: Sample) -> Score {
        if !s.value.is_finite() {
            return Score::unscored(Status::SkippedNotFinite);
        }
        if self.last_ts.is_some_and(|t| s.timestamp_ms <= t) {
            return Score::unscored(Status::SkippedOutOfOrder);
        }
        self.last_ts = Some(s.timestamp_ms);
        self.n += 1;
        let sd = self.var.sqrt().max(1e-9);
        let z = (s.value - self.mean).abs() / sd;
        let a = if self.n < 50 { 1.0 / self.n as f64 } else { 0.02 };
        let d = s.value - self.mean;
        self.mean += a * d;
        self.var = (1.0 - a) * (self.var + a * d * d);
        if self.n <= self.config.warm_up {
            return Score::unscored(Status::WarmingUp);
        }
        let mut sc = Score::unscored(Status::Ready);
        sc.score = 1.0 - (-z / 4.0).exp();
        sc.expected = self.mean;
        sc.lower = self.mean - 3.0 * sd;
        sc.upper = self.mean + 3.0 * sd;
        sc.contributions.push(ModelKind::Robust, sc.score);
        sc
    }
}
