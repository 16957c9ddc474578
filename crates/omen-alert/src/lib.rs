#![doc = include_str!("../README.md")]

mod actions;
mod adjust;
mod alert;
pub mod alertmanager;
mod compile;
mod config;
mod error;
mod fingerprint;
mod grouper;
mod lifecycle;
mod maintenance;
mod selectors;
mod slot;
mod template;
#[cfg(test)]
mod testutil;
pub mod time;
pub mod webhook;

pub use actions::{ActionMatch, matching};
pub use adjust::{
    Adjustment, Adjustments, Change, DEVIATION_FLOOR_MARGIN, Effective, FALSE_POSITIVE_FACTOR,
    Note, SavedAdjustments,
};
pub use alert::{
    Alert, AlertEvent, AlertState, Deviation, EventKind, Explanation, ModelScore, series_url,
};
pub use compile::{CompiledAlerts, Grouping};
pub use config::{
    ActionConfig, ActionOn, AlertConfig, Direction, FlappingConfig, GroupingConfig,
    MaintenanceConfig, RuleConfig, SeverityLevelConfig, default_flapping_window, default_group_by,
    default_group_interval, default_group_wait, default_keep_firing_for, default_max_flips,
    default_repeat_interval, default_resolve_hysteresis, default_sensitivity,
    default_severity_level,
};
pub use error::{Error, Result};
pub use fingerprint::{fingerprint, idempotency_key};
pub use grouper::{Grouper, NotifyReason, WebhookNotification};
pub use lifecycle::{FiringState, Observation, Phase, SeriesAlerts};
pub use maintenance::MaintenanceWindow;
pub use slot::AlertSlot;
