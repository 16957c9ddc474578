#![doc = include_str!("../README.md")]

mod detector;
mod error;
mod escape;
pub mod human_duration;
mod labels;
mod metric_kind;
mod sample;
mod score;
mod selector;
mod staleness;

pub use detector::Detector;
pub use error::{Error, Result};
pub use escape::{escape_label_value, quote_label_value};
pub use labels::{Labels, METRIC_NAME};
pub use metric_kind::MetricKind;
pub use sample::Sample;
pub use score::{Contribution, Contributions, ModelKind, Score, Status};
pub use selector::{MatchOp, Matcher, Selector};
pub use staleness::{STALE_NAN_BITS, is_stale_marker};
