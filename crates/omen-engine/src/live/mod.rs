//! The streaming engine of `omen serve`: every series' detector lives in one of N shards, each
//! a thread of its own off the async runtime, fed by a queue bounded in samples.
//!
//! - **Intake** ([`Engine::submit`]): filters series by the configured selectors, routes each
//!   to a shard by a stable hash of its labels, reserves room in every shard the request
//!   touches and sends, or refuses the whole request with [`Overloaded`] (503 with
//!   `Retry-After`) so that the sender retries; nothing is dropped silently.
//! - **Scoring** (one shard per thread): the same detector, verdict and interval code as the
//!   batch replay, so live and batch scores agree bit for bit. Counters are scored on their
//!   per-second rate (a decrease is a reset, as in `rate()`); staleness markers end a
//!   series' episode; duplicate, out-of-order and non-finite samples are dropped and counted.
//! - **Reading**: each shard publishes its series' latest [`SeriesView`]s into a table that
//!   readers take for reading ([`Engine::query`], [`Engine::for_each_series`]).
//! - **Lifetime**: series past `series_ttl` without data are dropped; new series past
//!   `max_active_series` are not modelled (counted, and logged once a minute).
//! - **Snapshots**: the state is written atomically to the data directory on an interval and
//!   at shutdown, and restored at start with any shard count.

mod clock;
mod config;
mod engine;
mod hash;
mod intake;
mod observer;
mod part;
mod series;
mod shard;
mod snapshot;
mod stats;
mod view;

#[cfg(test)]
mod tests;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{
    LiveConfig, default_max_active_series, default_queue_samples, default_series_ttl,
    default_shards, default_snapshot_interval,
};
pub use engine::{
    Accepted, Engine, EngineOptions, OverloadReason, Overloaded, RestoreOutcome, RestoreReport,
};
pub use intake::Intake;
pub use observer::{Observer, ObserverSlot, ScoredSample};
pub use omen_core::{STALE_NAN_BITS, is_stale_marker};
pub use series::SeriesBatch;
pub use snapshot::{
    FILE_NAME as SNAPSHOT_FILE_NAME, FORMAT_VERSION as SNAPSHOT_FORMAT_VERSION, SnapshotInfo,
};
pub use stats::{DropReason, EngineStats};
pub use view::SeriesView;
