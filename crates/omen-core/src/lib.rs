#![doc = include_str!("../README.md")]

mod detector;
mod error;
pub mod human_duration;
mod sample;
mod score;
mod staleness;

pub use detector::Detector;
pub use error::{Error, Result};
pub use sample::Sample;
pub use score::{Contribution, Contributions, ModelKind, Score, Status};
pub use staleness::{STALE_NAN_BITS, is_stale_marker};
