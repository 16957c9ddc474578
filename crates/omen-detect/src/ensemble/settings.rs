//! What an ensemble derives from its configuration, kept once and shared by every detector made
//! with it.
//!
//! A server holds a detector per series, all with the same settings. Each one used to carry its
//! own copy of the configuration and of what its models derive from it (smoothing factors, the
//! CUSUM's levels, `ln(target_risk)`): 144 bytes a series, which, with everything else a series
//! holds, took it into the allocator's next size class. The detector now holds a reference.

use std::sync::{Arc, LazyLock};

use crate::changepoint::CusumSettings;
use crate::level::LevelSettings;
use crate::robust::RobustSettings;

use super::{EnsembleConfig, SHIFT_WINDOW};

/// The clip of the robust baseline's residuals, in σ.
const ROBUST_CLIP: f64 = 3.0;
/// The clip of the CUSUM's input, in σ.
const CUSUM_CLIP: f64 = 4.0;

/// An [`EnsembleConfig`] and the model settings derived from it.
#[derive(Debug, PartialEq)]
pub struct EnsembleSettings {
    pub(super) config: EnsembleConfig,
    pub(super) robust: RobustSettings,
    pub(super) cusum: CusumSettings,
    pub(super) level: LevelSettings,
    /// `ln(target_risk)`, which every score takes.
    pub(super) ln_risk: f64,
}

impl EnsembleSettings {
    /// The settings of `config` (validate it first with [`EnsembleConfig::validate`]), to share
    /// between detectors with [`Ensemble::with_settings`](super::Ensemble::with_settings).
    pub fn new(config: EnsembleConfig) -> Arc<Self> {
        Arc::new(Self {
            robust: RobustSettings::new(
                config.location_half_life,
                config.scale_half_life,
                ROBUST_CLIP,
            ),
            cusum: CusumSettings::new(
                config.shift_k,
                config.shift_alarm,
                CUSUM_CLIP,
                SHIFT_WINDOW as u32,
            ),
            level: LevelSettings::new(config.level_half_life),
            ln_risk: config.target_risk.ln(),
            config,
        })
    }

    /// The configuration these settings come from.
    pub fn config(&self) -> &EnsembleConfig {
        &self.config
    }
}

/// The default settings, made once: what a detector read back from a snapshot holds until its
/// owner gives it the settings it runs with (a snapshot does not store them per series).
pub(super) fn default_shared() -> Arc<EnsembleSettings> {
    static DEFAULT: LazyLock<Arc<EnsembleSettings>> =
        LazyLock::new(|| EnsembleSettings::new(EnsembleConfig::default()));
    DEFAULT.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_derive_from_their_config() {
        let config = EnsembleConfig {
            target_risk: 1e-3,
            ..EnsembleConfig::default()
        };
        let settings = EnsembleSettings::new(config.clone());
        assert_eq!(settings.config(), &config);
        assert_eq!(settings.ln_risk, 1e-3f64.ln());
        assert_eq!(
            *default_shared(),
            *EnsembleSettings::new(EnsembleConfig::default())
        );
        assert!(Arc::ptr_eq(&default_shared(), &default_shared()));
    }
}
