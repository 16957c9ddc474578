#![doc = include_str!("../README.md")]

mod error;
pub mod nab;

pub use error::{Error, Result};
