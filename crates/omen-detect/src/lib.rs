#![doc = include_str!("../README.md")]

mod changepoint;
mod ensemble;
mod gate;
mod level;
mod period;
mod recurrence;
mod robust;
mod seasonal;
mod tail;
#[cfg(test)]
mod test_series;

pub use changepoint::{Cusum, CusumSettings, CusumStep};
pub use ensemble::{
    Ensemble, EnsembleConfig, EnsembleSettings, default_level_half_life,
    default_location_half_life, default_scale_half_life, default_season_search_ms,
    default_shift_alarm, default_shift_k, default_target_risk, default_warm_up,
};
pub use gate::{DEFAULT_REST_HALF_LIFE, EscalationGate};
pub use level::{LevelRarity, LevelSettings};
pub use period::{FoundSeason, PeriodFinder, Search};
pub use recurrence::Recurrence;
pub use robust::{RobustBaseline, RobustSettings, ScaleCheck};
pub use seasonal::{HoltWinters, MAX_BINS, SeasonalBaseline};
pub use tail::{TailModel, score_from_probability};
