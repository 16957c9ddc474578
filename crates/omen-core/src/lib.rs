#![doc = include_str!("../README.md")]

mod detector;
mod error;
mod sample;
mod score;

pub use detector::Detector;
pub use error::{Error, Result};
pub use sample::Sample;
pub use score::{Contribution, Contributions, ModelKind, Score, Status};
