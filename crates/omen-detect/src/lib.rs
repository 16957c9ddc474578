//! Omen's detectors.
mod ensemble;
pub use ensemble::{Ensemble, EnsembleConfig};
