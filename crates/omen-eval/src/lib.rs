#![doc = include_str!("../README.md")]

mod error;
pub mod nab;
pub mod shop;

pub use error::{Error, Result};
