//! Helpers shared by the unit tests.

use omen_core::{Contributions, Labels, ModelKind, Score, Status};

use crate::{AlertConfig, CompiledAlerts};

/// Labels from pairs.
pub(crate) fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_str_pairs(pairs)
}

/// The series most tests use.
pub(crate) fn api_latency() -> Labels {
    labels(&[
        ("__name__", "http_latency_seconds"),
        ("instance", "a:9100"),
        ("job", "api"),
    ])
}

/// A config from TOML (the `[alert]` section's content), validated.
pub(crate) fn compile(toml_text: &str) -> CompiledAlerts {
    let config: AlertConfig =
        toml::from_str(toml_text).unwrap_or_else(|e| panic!("{e}\n{toml_text}"));
    config
        .validate()
        .unwrap_or_else(|e| panic!("{e}\n{toml_text}"))
}

/// The expected value of [`score`].
pub(crate) const EXPECTED: f64 = 100.0;

/// A ready score with band `EXPECTED ± 5` and two contributions.
pub(crate) fn score(s: f64) -> Score {
    let mut contributions = Contributions::default();
    contributions.push(ModelKind::Robust, s);
    contributions.push(ModelKind::Level, s / 2.0);
    Score {
        score: s,
        expected: EXPECTED,
        lower: EXPECTED - 5.0,
        upper: EXPECTED + 5.0,
        status: Status::Ready,
        contributions,
    }
}

/// A score that is not ready, however high.
pub(crate) fn unready(status: Status) -> Score {
    Score {
        score: 0.99,
        status,
        ..score(0.99)
    }
}
