#![doc = include_str!("../README.md")]

mod alerts;
mod direct_file;
mod error;
mod flag_chunk;
mod label_chunk;
mod options;
mod output;
mod own_chunks;
mod pipeline;
mod progress;
mod report;
mod routing;
mod run;
mod scores_file;
mod summary;
mod time_chunk;

pub use crate::error::{Error, Result};
pub use crate::options::AnalyzeOptions;
pub use crate::run::{Finished, analyze};
