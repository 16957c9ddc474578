//! One live series: what arrives for it, and what each sample does to its state (ordering,
//! staleness, counters, scoring).

use std::sync::Arc;

use omen_core::{Labels, MetricKind, is_stale_marker};
use omen_detect::EnsembleSettings;
use serde::{Deserialize, Serialize};

use super::observer::ObserverSlot;
use crate::model::{Judged, SeriesModel};
use crate::{AnomalyInterval, VerdictConfig};

/// The samples of one series from one request.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesBatch {
    /// The series' labels, `__name__` included; sorted by name (sorted on arrival if not).
    pub labels: Vec<(String, String)>,
    /// The metric's kind, from metadata.
    pub kind: MetricKind,
    /// `(timestamp in Unix milliseconds, value)`, oldest first.
    pub samples: Vec<(i64, f64)>,
}

/// What one sample did to its series.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// Scored and judged. `value` is what the detector saw: the rate for a counter.
    Scored {
        value: f64,
        judged: Judged,
        /// A counter went down: the rate was taken from 0.
        counter_reset: bool,
    },
    /// The first sample of a counter (or the first after staleness): nothing to rate yet.
    Primed,
    /// A staleness marker: the episode ended, closing the open interval if any.
    Stale { closed: Option<AnomalyInterval> },
    /// The same timestamp as the series' last sample: dropped.
    Duplicate,
    /// Older than the series' last sample: dropped.
    OutOfOrder,
    /// NaN (other than the staleness marker) or infinite: skipped.
    NotFinite,
}

/// The state of one modelled series.
///
/// A server holds one per series, boxed, so its size decides the allocator's size class: at
/// 776 bytes it took mimalloc's 896-byte class, at 768 or less it takes the 768-byte one (128
/// bytes a series). The detector's recurrence records took it to 896 bytes; the detector's
/// settings, shared since (`omen_detect::EnsembleSettings`), brought it back to 760, in the
/// 768-byte class. The season search's bookkeeping (104 bytes) is now inline too, instead of
/// in a 128-byte block of its own, and the detector was trimmed by as much to make room (its
/// two optional timestamps a word each, the level memory's smoothing factor a shared setting,
/// the phase memo without an `Option`): exactly 768 bytes. The two optional values here are
/// therefore a value and a flag each, the flags sharing the padding after `stale` (an
/// `Option<i64>` takes two words).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Series {
    pub(crate) labels: Labels,
    pub(crate) kind: MetricKind,
    pub(crate) model: SeriesModel,
    /// The last accepted timestamp (scored, skipped as not finite, primed or stale), when
    /// `has_last`.
    last_ms: i64,
    /// A counter's previous raw sample, which the next one is rated against, when
    /// `has_counter_prev`.
    counter_prev: (i64, f64),
    has_last: bool,
    has_counter_prev: bool,
    /// The series' last sample was a staleness marker.
    pub(crate) stale: bool,
    /// When something last arrived for the series, in the engine clock's seconds.
    pub(crate) last_seen: u32,
    /// The observer's own state for this series (not in the snapshot).
    pub(crate) observer_slot: ObserverSlot,
}

impl Series {
    pub(crate) fn new(
        labels: Labels,
        kind: MetricKind,
        config: &Arc<EnsembleSettings>,
        now: u32,
    ) -> Self {
        Self {
            labels,
            kind,
            model: SeriesModel::new(config),
            last_ms: 0,
            counter_prev: (0, 0.0),
            has_last: false,
            has_counter_prev: false,
            stale: false,
            last_seen: now,
            observer_slot: ObserverSlot::default(),
        }
    }

    /// The last accepted timestamp (scored, skipped as not finite, primed or stale).
    pub(crate) fn last_ms(&self) -> Option<i64> {
        self.has_last.then_some(self.last_ms)
    }

    /// A counter's previous raw sample, which the next one is rated against.
    pub(crate) fn counter_prev(&self) -> Option<(i64, f64)> {
        self.has_counter_prev.then_some(self.counter_prev)
    }

    fn set_last_ms(&mut self, last: Option<i64>) {
        (self.has_last, self.last_ms) = (last.is_some(), last.unwrap_or(0));
    }

    fn set_counter_prev(&mut self, prev: Option<(i64, f64)>) {
        (self.has_counter_prev, self.counter_prev) = (prev.is_some(), prev.unwrap_or((0, 0.0)));
    }

    /// Take the kind a request says the series has. Unknown says nothing. A change between
    /// gauge and counter (metadata arriving after the first samples, or a changed exporter)
    /// starts the model afresh, since what it learned was another quantity. Returns whether
    /// the model was restarted.
    pub(crate) fn set_kind(&mut self, kind: MetricKind, config: &Arc<EnsembleSettings>) -> bool {
        if kind == MetricKind::Unknown || kind == self.kind {
            return false;
        }
        let restart = kind == MetricKind::Counter || self.kind == MetricKind::Counter;
        self.kind = kind;
        if restart {
            self.model = SeriesModel::new(config);
            self.set_counter_prev(None);
        }
        restart
    }

    /// Forget what the model learned; the next samples warm it up again. A counter keeps its
    /// previous sample, so its rate goes on without a gap.
    pub(crate) fn rebaseline(&mut self, config: &Arc<EnsembleSettings>) {
        self.model = SeriesModel::new(config);
    }

    /// Take one sample.
    pub(crate) fn step(&mut self, timestamp_ms: i64, raw: f64, verdict: &VerdictConfig) -> Outcome {
        match self.last_ms() {
            Some(last) if timestamp_ms == last => return Outcome::Duplicate,
            Some(last) if timestamp_ms < last => return Outcome::OutOfOrder,
            _ => {}
        }
        self.set_last_ms(Some(timestamp_ms));
        if is_stale_marker(raw) {
            // The episode ends: its interval closes, a counter must be primed again, and the
            // baseline is kept, so that a target back after a restart is not learned anew.
            self.stale = true;
            self.set_counter_prev(None);
            return Outcome::Stale {
                closed: self.model.tracker.finish(),
            };
        }
        if !raw.is_finite() {
            return Outcome::NotFinite;
        }
        self.stale = false;
        let (value, counter_reset) = match self.kind {
            MetricKind::Gauge | MetricKind::Unknown => (raw, false),
            MetricKind::Counter => {
                let previous = self.counter_prev();
                self.set_counter_prev(Some((timestamp_ms, raw)));
                let Some((prev_ms, prev)) = previous else {
                    return Outcome::Primed;
                };
                // As Prometheus' rate(): a decrease is a reset to 0, so the increase is the
                // whole new value.
                let reset = raw < prev;
                let increase = if reset { raw } else { raw - prev };
                let seconds = (timestamp_ms - prev_ms) as f64 / 1000.0;
                (increase / seconds, reset)
            }
        };
        Outcome::Scored {
            value,
            judged: self.model.judge(timestamp_ms, value, verdict),
            counter_reset,
        }
    }

    /// The snapshot's form of the series.
    pub(crate) fn record(&self) -> RecordRef<'_> {
        RecordRef {
            labels: self.labels.as_bytes(),
            kind: self.kind,
            last_ms: self.last_ms(),
            counter_prev: self.counter_prev(),
            stale: self.stale,
            model: &self.model,
        }
    }

    /// A series back from a snapshot, its detector given `settings` (the snapshot's header
    /// holds them once, and they were checked against the engine's); `None` when its labels
    /// are not a valid encoding.
    pub(crate) fn from_record(
        record: Record,
        settings: &Arc<EnsembleSettings>,
        now: u32,
    ) -> Option<Self> {
        let mut model = record.model;
        model.detector.set_settings(settings.clone());
        let mut series = Self {
            labels: Labels::from_encoded(&record.labels)?,
            kind: record.kind,
            model,
            last_ms: 0,
            counter_prev: (0, 0.0),
            has_last: false,
            has_counter_prev: false,
            stale: record.stale,
            last_seen: now,
            observer_slot: ObserverSlot::default(),
        };
        series.set_last_ms(record.last_ms);
        series.set_counter_prev(record.counter_prev);
        Some(series)
    }
}

/// A series as written to a snapshot (borrowed). Field for field the same as [`Record`].
#[derive(Debug, Serialize)]
pub(crate) struct RecordRef<'a> {
    labels: &'a [u8],
    kind: MetricKind,
    last_ms: Option<i64>,
    counter_prev: Option<(i64, f64)>,
    stale: bool,
    model: &'a SeriesModel,
}

/// A series as read from a snapshot.
#[derive(Debug, Deserialize)]
pub(crate) struct Record {
    labels: Vec<u8>,
    kind: MetricKind,
    last_ms: Option<i64>,
    counter_prev: Option<(i64, f64)>,
    stale: bool,
    model: SeriesModel,
}

#[cfg(test)]
mod tests {
    use omen_core::{STALE_NAN_BITS, Status};

    use super::*;

    const STALE: f64 = f64::from_bits(STALE_NAN_BITS);

    fn series(kind: MetricKind) -> Series {
        let labels = Labels::from_pairs(&[("__name__".into(), "x".into())]);
        Series::new(labels, kind, &EnsembleSettings::new(Default::default()), 0)
    }

    /// A short name for each outcome, with the value the detector saw.
    fn short(outcome: &Outcome) -> String {
        match outcome {
            Outcome::Scored {
                value,
                counter_reset: true,
                ..
            } => format!("reset {value}"),
            Outcome::Scored { value, .. } => format!("scored {value}"),
            Outcome::Primed => "primed".into(),
            Outcome::Stale { .. } => "stale".into(),
            Outcome::Duplicate => "duplicate".into(),
            Outcome::OutOfOrder => "out of order".into(),
            Outcome::NotFinite => "not finite".into(),
        }
    }

    #[test]
    fn a_series_fits_the_allocators_768_byte_class() {
        // Not a correctness matter, but 128 bytes a series: see `Series`. It took the 896-byte
        // class while every detector carried its own copy of the settings (896 bytes); with the
        // season search's bookkeeping inline, no byte is left before it goes back there.
        assert!(
            size_of::<Series>() <= 768,
            "Series is {} bytes",
            size_of::<Series>()
        );
    }

    #[test]
    fn named_cases() {
        struct Case {
            name: &'static str,
            kind: MetricKind,
            samples: &'static [(i64, f64)],
            want: &'static [&'static str],
        }
        let cases = [
            Case {
                name: "a gauge is scored on its values",
                kind: MetricKind::Gauge,
                samples: &[(0, 5.0), (1000, 7.0)],
                want: &["scored 5", "scored 7"],
            },
            Case {
                name: "unknown is a gauge",
                kind: MetricKind::Unknown,
                samples: &[(0, 5.0)],
                want: &["scored 5"],
            },
            Case {
                name: "duplicate and out of order are dropped, the first value kept",
                kind: MetricKind::Gauge,
                samples: &[(1000, 1.0), (1000, 2.0), (500, 3.0), (2000, 4.0)],
                want: &["scored 1", "duplicate", "out of order", "scored 4"],
            },
            Case {
                name: "NaN and infinities are skipped but hold their timestamp",
                kind: MetricKind::Gauge,
                samples: &[
                    (0, 1.0),
                    (1000, f64::NAN),
                    (1000, 2.0),
                    (2000, f64::INFINITY),
                    (3000, 3.0),
                ],
                want: &[
                    "scored 1",
                    "not finite",
                    "duplicate",
                    "not finite",
                    "scored 3",
                ],
            },
            Case {
                name: "a counter is rated per second; the first sample primes",
                kind: MetricKind::Counter,
                samples: &[
                    (0, 100.0),
                    (10_000, 150.0),
                    (20_000, 150.0),
                    (30_000, 180.0),
                ],
                want: &["primed", "scored 5", "scored 0", "scored 3"],
            },
            Case {
                name: "a counter reset counts from 0, as rate() does",
                kind: MetricKind::Counter,
                samples: &[(0, 100.0), (10_000, 200.0), (20_000, 30.0), (30_000, 60.0)],
                want: &["primed", "scored 10", "reset 3", "scored 3"],
            },
            Case {
                name: "a counter's NaN does not move its previous value",
                kind: MetricKind::Counter,
                samples: &[(0, 100.0), (10_000, f64::NAN), (20_000, 300.0)],
                want: &["primed", "not finite", "scored 10"],
            },
            Case {
                name: "staleness ends the episode; the counter primes again",
                kind: MetricKind::Counter,
                samples: &[
                    (0, 100.0),
                    (10_000, 200.0),
                    (15_000, STALE),
                    (15_000, 5.0),
                    (20_000, 5.0),
                    (30_000, 25.0),
                ],
                want: &[
                    "primed",
                    "scored 10",
                    "stale",
                    "duplicate",
                    "primed",
                    "scored 2",
                ],
            },
        ];
        for case in cases {
            let mut s = series(case.kind);
            let got: Vec<String> = case
                .samples
                .iter()
                .map(|&(t, v)| short(&s.step(t, v, &VerdictConfig::default())))
                .collect();
            assert_eq!(got, case.want, "{}", case.name);
        }
    }

    #[test]
    fn staleness_keeps_the_baseline_and_closes_the_interval() {
        let mut s = series(MetricKind::Gauge);
        let verdict = VerdictConfig::default();
        for i in 0..300 {
            let value = 10.0 + (i % 5) as f64 * 0.1;
            s.step(i * 1000, value, &verdict);
        }
        let Outcome::Scored { judged, .. } = s.step(300_000, 90.0, &verdict) else {
            panic!()
        };
        assert!(judged.anomaly, "{judged:?}");
        assert!(s.model.tracker.open().is_some());
        let learned = s.model.detector.samples();
        let Outcome::Stale { closed } = s.step(301_000, STALE, &verdict) else {
            panic!()
        };
        assert_eq!(closed.map(|c| c.start_ms), Some(300_000));
        assert!(s.stale);
        assert_eq!(s.model.detector.samples(), learned);
        let Outcome::Scored { judged, .. } = s.step(400_000, 10.2, &verdict) else {
            panic!()
        };
        assert_eq!(judged.score.status, Status::Ready);
        assert!(!s.stale);
    }

    #[test]
    fn a_change_between_gauge_and_counter_restarts_the_model() {
        let config = EnsembleSettings::new(Default::default());
        let verdict = VerdictConfig::default();
        struct Case {
            name: &'static str,
            from: MetricKind,
            to: MetricKind,
            restart: bool,
            kind: MetricKind,
        }
        let cases = [
            Case {
                name: "unknown says nothing",
                from: MetricKind::Counter,
                to: MetricKind::Unknown,
                restart: false,
                kind: MetricKind::Counter,
            },
            Case {
                name: "unknown to gauge keeps the model",
                from: MetricKind::Unknown,
                to: MetricKind::Gauge,
                restart: false,
                kind: MetricKind::Gauge,
            },
            Case {
                name: "unknown to counter restarts",
                from: MetricKind::Unknown,
                to: MetricKind::Counter,
                restart: true,
                kind: MetricKind::Counter,
            },
            Case {
                name: "counter to gauge restarts",
                from: MetricKind::Counter,
                to: MetricKind::Gauge,
                restart: true,
                kind: MetricKind::Gauge,
            },
        ];
        for case in cases {
            let mut s = series(case.from);
            for i in 0..5 {
                s.step(i * 1000, i as f64, &verdict);
            }
            assert_eq!(s.set_kind(case.to, &config), case.restart, "{}", case.name);
            assert_eq!(s.kind, case.kind, "{}", case.name);
            let learned = s.model.detector.samples();
            assert_eq!(learned == 0, case.restart, "{}: {learned}", case.name);
        }
    }
}
