#![doc = include_str!("../README.md")]

mod alerts;
mod direct_file;
mod error;
mod options;
mod output;
mod own_pages;
mod pipeline;
mod progress;
mod report;
mod routing;
mod run;
mod scores_file;
mod summary;

pub use crate::error::{Error, Result};
pub use crate::options::AnalyzeOptions;
pub use crate::run::{Finished, analyze};
