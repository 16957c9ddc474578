//! The default detector: robust and seasonal baselines, a long memory of the level, a
//! change-point detector, and extreme-value tails that turn their evidence into one calibrated
//! score and one explanation.
//!
//! For each sample:
//! 1. The baseline is the seasonal model when it has found a season and predicts clearly
//!    better than the robust one (its residual σ is under `SEASONAL_ADVANTAGE` of the robust
//!    σ); otherwise the robust location.
//! 2. The standardised residual `z = (x − expected) / σ` is the spike evidence. σ is floored
//!    at a fraction of the long-run unclipped spread, so that bursts on a series that is
//!    nearly always constant are rare, not impossible.
//! 3. The [`LevelRarity`] model judges the value itself against a slow memory of the series'
//!    range: a value the series rarely or never reaches, however slowly it got there.
//! 4. Each kind of evidence goes through its own [`TailModel`], fitted on this series' own
//!    history, which gives a tail probability. Each probability is floored at the rate at
//!    which the series has already risen that far ([`Recurrence`]), so that a spike that keeps
//!    coming back stops paging. The three tails (spike, level above, level
//!    below) are combined with a Bonferroni bound (three times the smallest probability) and
//!    mapped to a score: 0.5 at the target risk.
//! 5. The models learn from the sample after it was scored (the score is causal). While the
//!    robust baseline's scale is still climbing to its level (checked once per scale
//!    half-life), its spike tail and recurrence record start again at each check: they learnt
//!    from inflated `|z|`. When the
//!    CUSUM confirms a level shift, both baselines move to the new level at once, so that a
//!    shift raises one alarm rather than a long run of them. The CUSUM is not scored itself:
//!    a shift big enough to matter shows as a spike at its start and, if it reaches an unusual
//!    level, as level rarity; scoring the CUSUM too added alarms on small wanders of the
//!    level (measured on NAB: 59.6 without, 57.0 with, standard profile).
//!
//! The band is `expected ± σ·u`, where `u` is the spike statistic at which the spike evidence
//! alone reaches the target risk: a value outside the band scores at least 0.5.
//!
//! State per series once warm: about 1.6 KiB with a season (the profile is most of it).

use std::sync::Arc;

use omen_core::{Detector, ModelKind, Sample, Score, Status};
use serde::{Deserialize, Serialize};

use crate::changepoint::Cusum;
use crate::level::LevelRarity;
use crate::recurrence::Recurrence;
use crate::robust::{RobustBaseline, ScaleCheck};
use crate::seasonal::{PhaseMemo, SeasonalBaseline};
use crate::tail::{QuantileMemo, TailModel, score_from_ln_risk};
use optional_ms::OptionalMs;

mod optional_ms;
mod settings;

pub use settings::EnsembleSettings;

/// The seasonal model is used when its σ is below this fraction of the robust σ.
const SEASONAL_ADVANTAGE: f64 = 0.8;
/// Samples of residual history used to estimate the size of a confirmed shift.
const SHIFT_WINDOW: usize = 3;
/// The prior of the spike tail: `|z|` of Gaussian noise exceeds 2.33 2 % of the time, by 0.39
/// on average.
const SPIKE_PRIOR: (f64, f64) = (2.33, 0.39);
/// σ is never below this fraction of the robust baseline's unclipped spread, so that on a
/// series that is nearly always constant a burst is rare, not impossible.
const SPREAD_FLOOR: f64 = 0.2;
/// How many tail probabilities the score takes the smallest of (spike, level above, level
/// below): the Bonferroni factor that keeps the combined false-alarm rate at the target risk.
const TESTS: f64 = 3.0;

/// Settings of the default ensemble. Every field has a default; see each `default_*`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnsembleConfig {
    /// Samples learned before the detector may alert.
    pub warm_up: u32,
    /// The tail probability that scores 0.5 (the risk of a false alarm per sample at the
    /// default alert threshold).
    pub target_risk: f64,
    /// Half-life of the robust location, in samples.
    pub location_half_life: f64,
    /// Half-life of the robust scale, in samples.
    pub scale_half_life: f64,
    /// How much history, in milliseconds, the season search may use before it gives up.
    pub season_search_ms: i64,
    /// CUSUM reference value (half the smallest shift worth finding), in σ.
    pub shift_k: f64,
    /// CUSUM level at which a shift is confirmed and the baselines move, in σ.
    pub shift_alarm: f64,
    /// Half-life, in samples, of the long memory that level rarity is judged against.
    pub level_half_life: f64,
}

/// Default `warm_up`: 100 samples.
pub fn default_warm_up() -> u32 {
    100
}
/// Default `target_risk`: 1e-4, about one false alarm per 10,000 samples of pure noise.
pub fn default_target_risk() -> f64 {
    1e-4
}
/// Default `location_half_life`: 10 samples.
pub fn default_location_half_life() -> f64 {
    10.0
}
/// Default `scale_half_life`: 120 samples.
pub fn default_scale_half_life() -> f64 {
    120.0
}
/// Default `season_search_ms`: 22 days, enough to see a weekly season three times.
pub fn default_season_search_ms() -> i64 {
    22 * 24 * 3_600_000
}
/// Default `shift_k`: 0.5 σ (finds shifts of about 1 σ and more).
pub fn default_shift_k() -> f64 {
    0.5
}
/// Default `shift_alarm`: 6 σ.
pub fn default_shift_alarm() -> f64 {
    6.0
}
/// Default `level_half_life`: 2,000 samples (about a week at 5-minute steps).
pub fn default_level_half_life() -> f64 {
    2_000.0
}

impl Default for EnsembleConfig {
    fn default() -> Self {
        Self {
            warm_up: default_warm_up(),
            target_risk: default_target_risk(),
            location_half_life: default_location_half_life(),
            scale_half_life: default_scale_half_life(),
            season_search_ms: default_season_search_ms(),
            shift_k: default_shift_k(),
            shift_alarm: default_shift_alarm(),
            level_half_life: default_level_half_life(),
        }
    }
}

impl EnsembleConfig {
    /// Check every setting; the error names the first bad one.
    pub fn validate(&self) -> omen_core::Result<()> {
        let bad = |name, reason: &str| {
            Err(omen_core::Error::InvalidSetting {
                name,
                reason: reason.to_string(),
            })
        };
        if !(self.target_risk > 0.0 && self.target_risk < 0.5) {
            return bad("target_risk", "must be in (0, 0.5)");
        }
        if !(self.location_half_life >= 1.0 && self.scale_half_life >= 1.0) {
            return bad("location_half_life", "half-lives must be at least 1 sample");
        }
        if self.level_half_life.is_nan() || self.level_half_life < 1.0 {
            return bad("level_half_life", "must be at least 1 sample");
        }
        if self.season_search_ms < 0 {
            return bad("season_search_ms", "must not be negative");
        }
        if !(self.shift_k >= 0.0 && self.shift_alarm > 0.0) {
            return bad("shift_alarm", "shift_k must be >= 0 and shift_alarm > 0");
        }
        Ok(())
    }
}

/// The default detector for one series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ensemble {
    /// Shared with every detector of the same settings; not in the serialized state (a snapshot
    /// stores the settings once: see [`Ensemble::set_settings`]).
    #[serde(skip, default = "settings::default_shared")]
    settings: Arc<EnsembleSettings>,
    samples: u64,
    last_timestamp_ms: OptionalMs,
    robust: RobustBaseline,
    seasonal: SeasonalBaseline,
    cusum: Cusum,
    /// Spike evidence of each baseline has its own tail: their residuals differ in kind, and
    /// the tail of one says nothing about the other's.
    robust_tail: TailModel,
    seasonal_tail: TailModel,
    /// How often each spike statistic has risen through fixed levels: a spike that keeps
    /// coming back (a cron job) is not rarer than its own record says.
    robust_recurrence: Recurrence,
    seasonal_recurrence: Recurrence,
    level: LevelRarity,
    recent_residuals: [f64; SHIFT_WINDOW],
    last_change_ms: OptionalMs,
    #[serde(skip)]
    memo: Memo,
}

/// Values derived from the state and the config, kept from one sample to the next to save a
/// `ln` or a `powf` per sample. Not state: not serialized, and ignored by `==`.
#[derive(Debug, Clone, Copy, Default)]
struct Memo {
    /// The band's tail quantile, reused while the tail's shape is the same.
    band: QuantileMemo,
    /// Where the last sample fell in the season.
    phase: PhaseMemo,
}

impl PartialEq for Memo {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Default for Ensemble {
    fn default() -> Self {
        Self::new(EnsembleConfig::default())
    }
}

impl Ensemble {
    /// A fresh detector with `config` (validate it first with [`EnsembleConfig::validate`]).
    ///
    /// ```
    /// use omen_core::{Detector, Sample};
    /// use omen_detect::{Ensemble, EnsembleConfig};
    /// let mut detector = Ensemble::new(EnsembleConfig::default());
    /// let mut last = None;
    /// for i in 0..500 {
    ///     let value = if i == 400 { 60.0 } else { 10.0 + (i % 7) as f64 * 0.1 };
    ///     last = Some(detector.update(Sample::new(i * 60_000, value)));
    ///     if i == 400 {
    ///         assert!(last.unwrap().score > 0.9);
    ///     }
    /// }
    /// assert!(last.unwrap().score < 0.5);
    /// ```
    pub fn new(config: EnsembleConfig) -> Self {
        Self::with_settings(EnsembleSettings::new(config))
    }

    /// A fresh detector with shared settings: what a server holding many detectors uses, so
    /// that each does not carry its own copy.
    pub fn with_settings(settings: Arc<EnsembleSettings>) -> Self {
        let config = &settings.config;
        Self {
            robust: RobustBaseline::new(),
            seasonal: SeasonalBaseline::new(config.season_search_ms),
            cusum: Cusum::new(),
            robust_tail: TailModel::new(SPIKE_PRIOR.0, SPIKE_PRIOR.1),
            seasonal_tail: TailModel::new(SPIKE_PRIOR.0, SPIKE_PRIOR.1),
            robust_recurrence: Recurrence::default(),
            seasonal_recurrence: Recurrence::default(),
            level: LevelRarity::new(),
            settings,
            samples: 0,
            last_timestamp_ms: OptionalMs::NONE,
            recent_residuals: [0.0; SHIFT_WINDOW],
            last_change_ms: OptionalMs::NONE,
            memo: Memo::default(),
        }
    }

    /// Give a detector read back from a snapshot the settings it runs with (the snapshot holds
    /// them once, not per detector; until then it has the default ones).
    pub fn set_settings(&mut self, settings: Arc<EnsembleSettings>) {
        self.settings = settings;
    }

    /// The period of the season in use, in milliseconds, if one was found.
    pub fn season_period_ms(&self) -> Option<i64> {
        self.seasonal.model().map(|m| m.period_ms())
    }

    /// When the last level shift was confirmed.
    pub fn last_change_ms(&self) -> Option<i64> {
        self.last_change_ms.get()
    }

    /// Bytes this detector holds on the heap besides itself (capacities, not lengths): the
    /// season search's buffer or the seasonal profile; the other models are inline.
    pub fn heap_bytes(&self) -> usize {
        self.seasonal.heap_bytes()
    }

    /// Samples learned so far.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// True while the detector is still learning and must not alert.
    pub fn is_warming_up(&self) -> bool {
        self.samples <= self.settings.config.warm_up as u64
    }

    /// A baseline's σ, floored: never below a fraction of the robust baseline's long-run spread
    /// (bursty series; for the seasonal baseline this floor includes the season's swing, which
    /// makes it conservative on strongly seasonal series),
    /// and never zero, so that a constant series still has a scale to measure a change by.
    fn floor_sigma(&self, sigma: f64, expected: f64) -> f64 {
        sigma
            .max(SPREAD_FLOOR * self.robust.spread())
            .max(1e-9 * expected.abs().max(1e-3))
    }

    /// What each baseline expects for this sample, with its floored σ and the standardised
    /// residual (the seasonal one once a season is modelled). Computed once per sample: the
    /// baseline in use scores, and each teaches its own spike tail.
    /// `season_bin` is the seasonal model's profile bin of `timestamp_ms`, when there is a model.
    fn views(&self, season_bin: Option<usize>, value: f64) -> (BaselineView, Option<BaselineView>) {
        let view = |kind, expected: f64, sigma: f64| {
            let floored = self.floor_sigma(sigma, expected);
            BaselineView {
                kind,
                expected,
                sigma: floored,
                z: (value - expected) / floored,
            }
        };
        let robust = view(
            ModelKind::Robust,
            self.robust.location(),
            self.robust.sigma(),
        );
        let seasonal = self
            .seasonal
            .model()
            .zip(season_bin)
            .map(|(hw, bin)| view(ModelKind::Seasonal, hw.forecast_in_bin(bin), hw.sigma()));
        (robust, seasonal)
    }

    /// True when the seasonal baseline predicts clearly better than the robust one.
    fn prefers_seasonal(&self) -> bool {
        self.seasonal
            .model()
            .is_some_and(|hw| hw.sigma() < SEASONAL_ADVANTAGE * self.robust.sigma())
    }

    fn learn(
        &mut self,
        timestamp_ms: i64,
        value: f64,
        season_bin: Option<usize>,
        shift: Option<f64>,
    ) {
        if self.robust.update(&self.settings.robust, value) == ScaleCheck::Climbing {
            // The robust σ grew over its last half-life: the `|z|` it gave were inflated, and
            // a tail or a recurrence record that learnt from them would keep the band too wide
            // and the series' spikes "routine" long after σ has reached its level (a short
            // series whose first samples were calm: 40× too wide for the rest of the file).
            // So both start again, until σ stops climbing.
            self.robust_tail = TailModel::new(SPIKE_PRIOR.0, SPIKE_PRIOR.1);
            self.robust_recurrence = Recurrence::default();
        }
        self.seasonal.update_in_bin(timestamp_ms, value, season_bin);
        if shift.is_some() {
            let mut recent = self.recent_residuals;
            recent.sort_by(f64::total_cmp);
            let delta = recent[SHIFT_WINDOW / 2];
            self.robust.shift(delta);
            if let Some(hw) = self.seasonal.model_mut() {
                hw.shift(delta);
            }
            self.last_change_ms = OptionalMs::some(timestamp_ms);
        }
    }
}

impl Detector for Ensemble {
    fn name(&self) -> &'static str {
        "ensemble"
    }

    fn update(&mut self, sample: Sample) -> Score {
        let Sample {
            timestamp_ms,
            value,
        } = sample;
        if !value.is_finite() {
            return Score::unscored(Status::SkippedNotFinite);
        }
        if self
            .last_timestamp_ms
            .get()
            .is_some_and(|last| timestamp_ms <= last)
        {
            return Score::unscored(Status::SkippedOutOfOrder);
        }
        self.last_timestamp_ms = OptionalMs::some(timestamp_ms);
        self.samples += 1;

        if self.samples == 1 {
            // Nothing to compare the first value with.
            self.learn(timestamp_ms, value, None, None);
            let mut score = Score::unscored(Status::WarmingUp);
            score.expected = value;
            return score;
        }

        // The phase is found once: scoring and learning use the same bin.
        let season_bin = self
            .seasonal
            .model()
            .map(|hw| hw.bin_at_memo(timestamp_ms, &mut self.memo.phase));
        let (robust, seasonal) = self.views(season_bin, value);
        let chosen = match seasonal {
            Some(view) if self.prefers_seasonal() => view,
            _ => robust,
        };
        let (expected, sigma, z, baseline_kind) =
            (chosen.expected, chosen.sigma, chosen.z, chosen.kind);
        let residual = value - expected;
        let (spike_tail, recurrence) = match baseline_kind {
            ModelKind::Seasonal => (&self.seasonal_tail, &self.seasonal_recurrence),
            _ => (&self.robust_tail, &self.robust_recurrence),
        };
        self.recent_residuals.rotate_left(1);
        self.recent_residuals[SHIFT_WINDOW - 1] = residual;

        let step = self.cusum.update(&self.settings.cusum, z);
        let p_spike = spike_tail
            .probability(spike_statistic(z))
            .max(recurrence.rate_at_least(spike_statistic(z)));
        let p_level = self
            .level
            .probability_then_update(&self.settings.level, value);
        let risk = self.settings.config.target_risk;
        let half_width = sigma * spike_tail.quantile_memo(risk / TESTS, &mut self.memo.band);
        self.robust_tail.update(spike_statistic(robust.z));
        self.robust_recurrence.update(spike_statistic(robust.z));
        if let Some(view) = seasonal {
            // The seasonal tail learns even while the robust baseline is the one in use.
            self.seasonal_tail.update(spike_statistic(view.z));
            self.seasonal_recurrence.update(spike_statistic(view.z));
        }
        self.learn(timestamp_ms, value, season_bin, step.shift);

        let warming = self.is_warming_up();
        let mut score = Score::unscored(if warming {
            Status::WarmingUp
        } else {
            Status::Ready
        });
        score.expected = expected;
        score.lower = expected - half_width;
        score.upper = expected + half_width;
        if warming {
            return score;
        }
        let ln_risk = self.settings.ln_risk;
        let spike_score = score_from_ln_risk((TESTS * p_spike).min(1.0), ln_risk);
        let level_score = score_from_ln_risk((TESTS * p_level).min(1.0), ln_risk);
        // The combined score is that of the smaller probability, which is one of the two
        // already scored.
        score.score = if p_spike <= p_level {
            spike_score
        } else {
            level_score
        };
        score.contributions.push(baseline_kind, spike_score);
        score.contributions.push(ModelKind::Level, level_score);
        score.contributions.push(ModelKind::Tail, score.score);
        score
    }
}

/// One baseline's view of a sample.
#[derive(Debug, Clone, Copy)]
struct BaselineView {
    kind: ModelKind,
    expected: f64,
    /// σ after the floor.
    sigma: f64,
    /// `(value − expected) / sigma`.
    z: f64,
}

/// The spike statistic: `|z|`.
fn spike_statistic(z: f64) -> f64 {
    z.abs()
}

#[cfg(test)]
mod tests;
