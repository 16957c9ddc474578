#![doc = include_str!("../README.md")]

mod error;
pub mod labelled;
pub mod nab;
pub mod shop;

pub use error::{Error, Result};
