//! Firing alerts saved before a restart, waiting for their series to come back: the observer
//! takes a series' states on its first sample, the hub resolves what is left at its deadline.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use omen_alert::FiringState;

/// Firing alerts saved before a restart, by the series' encoded labels: each taken by its
/// series when it first shows up again; what is left when the hub's deadline passes belongs
/// to series that did not come back, and the hub resolves it.
#[derive(Debug, Default)]
pub(crate) struct Restored {
    states: Mutex<HashMap<Vec<u8>, Vec<FiringState>>>,
    any: AtomicBool,
}

impl Restored {
    pub(crate) fn new(states: HashMap<Vec<u8>, Vec<FiringState>>) -> Self {
        Self {
            any: AtomicBool::new(!states.is_empty()),
            states: Mutex::new(states),
        }
    }

    /// The saved states of one series, taken.
    pub(crate) fn take(&self, series: &[u8]) -> Vec<FiringState> {
        if !self.any.load(Ordering::Relaxed) {
            return Vec::new();
        }
        let mut states = self.states.lock().unwrap_or_else(PoisonError::into_inner);
        let taken = states.remove(series).unwrap_or_default();
        if states.is_empty() {
            self.any.store(false, Ordering::Relaxed);
        }
        taken
    }

    /// Every series not claimed yet, taken.
    pub(crate) fn take_unclaimed(&self) -> Vec<Vec<u8>> {
        let mut states = self.states.lock().unwrap_or_else(PoisonError::into_inner);
        self.any.store(false, Ordering::Relaxed);
        states.drain().map(|(series, _)| series).collect()
    }
}
