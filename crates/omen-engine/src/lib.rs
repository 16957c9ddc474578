#![doc = include_str!("../README.md")]

mod error;
mod interval;
pub mod live;
mod model;
mod replay;
mod verdict;

pub use error::{Error, Result};
pub use interval::{AnomalyInterval, IntervalTracker};
pub use replay::{ReplayReport, SeriesId, SeriesReplay, SeriesReport, Step, StepContext};
pub use verdict::{VerdictConfig, default_merge_gap, default_threshold};
