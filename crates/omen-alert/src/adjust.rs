//! Per-series adjustments from user feedback, keyed by (rule, series labels).
//!
//! A false positive lowers the rule's sensitivity on that series (a factor, [`FALSE_POSITIVE_FACTOR`])
//! and raises its `min_deviation` to just above the false alert's peak deviation. Every
//! adjustment records who, when, why and an id, and can be listed and undone.
//!
//! The registry is shared (`Arc`) between the API that changes it and the shards that read it.
//! Every change bumps a generation counter; a series state reads the counter with one atomic
//! load per sample and re-reads its settings (under a read lock) only when it moved, so the
//! hot path takes no lock. Persisting is the caller's: [`Adjustments::save`] gives a serde form
//! and [`Adjustments::restore`] takes it back.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};

use omen_core::Labels;
use serde::{Deserialize, Serialize};

use crate::alert::Alert;
use crate::{Error, Result};

/// The sensitivity factor of one false positive.
pub const FALSE_POSITIVE_FACTOR: f64 = 0.8;

/// How far above the false alert's peak deviation the new floor is: 0.1 %.
pub const DEVIATION_FLOOR_MARGIN: f64 = 1.001;

/// What an adjustment changes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Change {
    /// Multiply the rule's sensitivity on this series (below 1: fewer alerts).
    SensitivityFactor {
        /// In (0, 10].
        factor: f64,
    },
    /// Raise the rule's `min_deviation` on this series to at least this.
    DeviationFloor {
        /// 0 or more.
        min_deviation: f64,
    },
}

/// Who made an adjustment, when, and why.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Note {
    /// A user or system name.
    pub author: String,
    /// Free text.
    pub reason: String,
    /// When (epoch ms), given by the caller.
    pub at_ms: i64,
    /// The alert that prompted it, if any.
    pub alert_id: Option<String>,
}

/// One recorded adjustment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Adjustment {
    /// Unique in the registry, never reused.
    pub id: u64,
    /// The rule's name.
    pub rule: String,
    /// The series' labels.
    pub series: BTreeMap<String, String>,
    /// What it changes.
    pub change: Change,
    /// Who made it.
    pub author: String,
    /// When (epoch ms).
    pub at_ms: i64,
    /// Why.
    pub reason: String,
    /// The alert that prompted it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_id: Option<String>,
}

/// The combined effect of a series' adjustments on one rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Effective {
    /// Product of the sensitivity factors (1 without any).
    pub sensitivity_factor: f64,
    /// Largest deviation floor (0 without any).
    pub min_deviation: f64,
}

impl Default for Effective {
    fn default() -> Self {
        Self {
            sensitivity_factor: 1.0,
            min_deviation: 0.0,
        }
    }
}

/// The serde form of the registry.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedAdjustments {
    /// The id the next adjustment gets (ids of undone adjustments are not reused).
    pub next_id: u64,
    /// Every live adjustment, by id.
    pub adjustments: Vec<Adjustment>,
}

/// The registry of adjustments.
#[derive(Debug, Default)]
pub struct Adjustments {
    generation: AtomicU64,
    inner: RwLock<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    next_id: u64,
    items: BTreeMap<u64, Adjustment>,
    /// rule → series → ids.
    index: HashMap<String, HashMap<Labels, Vec<u64>>>,
}

impl Inner {
    fn insert(&mut self, adjustment: Adjustment) {
        let series = labels_of(&adjustment.series);
        self.index
            .entry(adjustment.rule.clone())
            .or_default()
            .entry(series)
            .or_default()
            .push(adjustment.id);
        self.next_id = self.next_id.max(adjustment.id + 1);
        self.items.insert(adjustment.id, adjustment);
    }
}

fn labels_of(series: &BTreeMap<String, String>) -> Labels {
    let pairs: Vec<(String, String)> = series.clone().into_iter().collect();
    Labels::from_pairs(&pairs)
}

fn check(change: Change) -> Result<()> {
    match change {
        Change::SensitivityFactor { factor } if !(factor > 0.0 && factor <= 10.0) => {
            Err(Error::InvalidAdjustment(format!(
                "sensitivity factor must be in (0, 10], got {factor}"
            )))
        }
        Change::DeviationFloor { min_deviation }
            if !(min_deviation >= 0.0 && min_deviation.is_finite()) =>
        {
            Err(Error::InvalidAdjustment(format!(
                "deviation floor must be 0 or more, got {min_deviation}"
            )))
        }
        _ => Ok(()),
    }
}

impl Adjustments {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Bumped by every change; series states compare it with the one they read.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn bump(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Record one adjustment of `rule` on `series`; returns its id.
    pub fn add(&self, rule: &str, series: &Labels, change: Change, note: Note) -> Result<u64> {
        check(change)?;
        let id = {
            let mut inner = self.write();
            let id = inner.next_id.max(1);
            inner.insert(Adjustment {
                id,
                rule: rule.to_string(),
                series: series
                    .iter()
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect(),
                change,
                author: note.author,
                at_ms: note.at_ms,
                reason: note.reason,
                alert_id: note.alert_id,
            });
            id
        };
        self.bump();
        Ok(id)
    }

    /// Feedback that `alert` was a false positive: the rule's sensitivity on its series is
    /// multiplied by [`FALSE_POSITIVE_FACTOR`], and its deviation floor raised to just above
    /// the alert's peak deviation (when known). Returns the new adjustments' ids.
    pub fn false_positive(&self, alert: &Alert, note: Note) -> Result<Vec<u64>> {
        let series = labels_of(&alert.series);
        let note = Note {
            alert_id: note.alert_id.or_else(|| Some(alert.id.clone())),
            ..note
        };
        let mut ids = vec![self.add(
            &alert.rule,
            &series,
            Change::SensitivityFactor {
                factor: FALSE_POSITIVE_FACTOR,
            },
            note.clone(),
        )?];
        let peak = alert.explanation.peak_deviation;
        if peak.is_finite() && peak > 0.0 {
            ids.push(self.add(
                &alert.rule,
                &series,
                Change::DeviationFloor {
                    min_deviation: peak * DEVIATION_FLOOR_MARGIN,
                },
                note,
            )?);
        }
        Ok(ids)
    }

    /// Remove an adjustment; returns it.
    pub fn undo(&self, id: u64) -> Result<Adjustment> {
        let removed = {
            let mut inner = self.write();
            let removed = inner
                .items
                .remove(&id)
                .ok_or(Error::UnknownAdjustment(id))?;
            let series = labels_of(&removed.series);
            if let Some(by_series) = inner.index.get_mut(&removed.rule) {
                if let Some(ids) = by_series.get_mut(&series) {
                    ids.retain(|&i| i != id);
                    if ids.is_empty() {
                        by_series.remove(&series);
                    }
                }
                if by_series.is_empty() {
                    inner.index.remove(&removed.rule);
                }
            }
            removed
        };
        self.bump();
        Ok(removed)
    }

    /// Every adjustment, by id.
    pub fn list(&self) -> Vec<Adjustment> {
        self.read().items.values().cloned().collect()
    }

    /// The adjustments of `rule` on `series`.
    pub fn for_series(&self, rule: &str, series: &Labels) -> Vec<Adjustment> {
        let inner = self.read();
        let ids = inner.index.get(rule).and_then(|m| m.get(series));
        ids.into_iter()
            .flatten()
            .filter_map(|id| inner.items.get(id).cloned())
            .collect()
    }

    /// The combined effect on `rule` for `series`.
    pub fn effective(&self, rule: &str, series: &Labels) -> Effective {
        let inner = self.read();
        let mut effective = Effective::default();
        let Some(ids) = inner.index.get(rule).and_then(|m| m.get(series)) else {
            return effective;
        };
        for change in ids
            .iter()
            .filter_map(|id| inner.items.get(id))
            .map(|a| a.change)
        {
            match change {
                Change::SensitivityFactor { factor } => effective.sensitivity_factor *= factor,
                Change::DeviationFloor { min_deviation } => {
                    effective.min_deviation = effective.min_deviation.max(min_deviation);
                }
            }
        }
        effective
    }

    /// The serde form, to persist.
    pub fn save(&self) -> SavedAdjustments {
        let inner = self.read();
        SavedAdjustments {
            next_id: inner.next_id,
            adjustments: inner.items.values().cloned().collect(),
        }
    }

    /// A registry from its saved form; refuses duplicate ids and out-of-range values.
    pub fn restore(saved: SavedAdjustments) -> Result<Self> {
        let mut inner = Inner {
            next_id: saved.next_id,
            ..Inner::default()
        };
        for adjustment in saved.adjustments {
            check(adjustment.change)?;
            if inner.items.contains_key(&adjustment.id) {
                return Err(Error::InvalidAdjustment(format!(
                    "id {} appears twice",
                    adjustment.id
                )));
            }
            inner.insert(adjustment);
        }
        Ok(Self {
            generation: AtomicU64::new(1),
            inner: RwLock::new(inner),
        })
    }
}

#[cfg(test)]
mod tests;
