//! Finds a series' dominant period from the data itself, by autocorrelation.
//!
//! Samples are placed into a buffer of time slots (gaps are carried forward so that a lag in
//! slots is a lag in time). When the buffer is full, neighbouring slots are averaged in pairs
//! and the slot width doubles, so the buffer spans ever longer history in bounded memory
//! (`CAPACITY` slots). Each time it has filled up again, the autocorrelation of the linearly
//! detrended buffer is computed for every lag up to half its length, and the first strong,
//! prominent peak is taken as the period. A random walk or a trend has a slowly decaying
//! autocorrelation with no prominent peak, and noise has none above `MIN_PEAK`, so neither is
//! mistaken for a season. After `max_span_ms` of history without a season the search stops.
//!
//! The finder is only alive while a series warms up; once it has answered, its buffer is
//! dropped and only the seasonal profile is kept. But a series without a season keeps
//! searching for `max_span_ms` (22 days by default), so the buffer is most of what such a
//! series costs for three weeks, and a server holds one per series: it is kept small.
//!
//! Cost: `CAPACITY` slots of two bytes each (1.5 KiB) while searching (see [`slots`]), grown as
//! the series' history grows; each attempt is O(CAPACITY log CAPACITY).

mod autocorrelation;
mod first_samples;
mod slots;

use serde::de::{self, SeqAccess, Visitor};
use serde::ser::SerializeTuple;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use autocorrelation::{autocorrelation, autocorrelations};
use first_samples::FirstSamples;
use slots::{Slots, SlotsParts};

/// Slots in the buffer: 1.5 KiB, which a series holds for as long as its search runs (up to
/// three weeks without a season), so a server holds one per series and each byte counts a
/// million times. Fewer would be cheaper but coarser: the seasonal model's profile (up to 288
/// bins a period) starts from this history, and with 512 slots a daily season found after 2.7
/// days of 5-minute samples starts from 10-minute slots, which blurred the sharp edges of NAB's
/// artificial daily series into false alarms (NAB standard 59.8 to 56.4). 768 slots, which keep
/// 5-minute slots for 2.7 days, score as 1,024 did (NAB 59.70 / 48.63 / 65.67 against 59.58 /
/// 48.59 / 65.68); 12-bit codes for 1,024 slots, the same bytes, lost a window (59.10).
const CAPACITY: usize = 768;
/// Slots needed before the first attempt.
const FIRST_ATTEMPT: usize = 256;
/// A period must repeat at least this many times in the buffer.
const MIN_CYCLES: usize = 2;
/// Autocorrelation a peak must reach.
const MIN_PEAK: f64 = 0.3;
/// How far a peak must rise above the lowest autocorrelation at a shorter lag.
const MIN_PROMINENCE: f64 = 0.25;
/// A shorter lag wins over the highest peak when it reaches this fraction of it (the
/// fundamental rather than a multiple of it).
const FUNDAMENTAL_FRACTION: f64 = 0.85;
/// Smallest period, in slots.
const MIN_LAG: usize = 4;
/// Samples whose intervals fix the slot width.
const STEP_SAMPLES: usize = 9;

/// A season found in the data.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundSeason {
    /// The period in milliseconds.
    pub period_ms: i64,
    /// The autocorrelation at the period.
    pub strength: f64,
    /// The buffered history: (slot centre in ms, mean value), oldest first.
    pub history: Vec<(i64, f64)>,
    /// The typical interval between raw samples, in milliseconds.
    pub step_ms: i64,
}

/// The outcome of feeding one sample.
#[derive(Debug, Clone, PartialEq)]
pub enum Search {
    /// Still gathering history.
    Searching,
    /// A season was found.
    Found(FoundSeason),
    /// Enough history was seen and none was found.
    NoSeason,
}

/// The buffer and bookkeeping of an ongoing search.
///
/// Serialised in its own compact form (see [`Serialize`] below), the only form read back.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodFinder {
    max_span_ms: i64,
    first_samples: FirstSamples,
    origin_ms: i64,
    slot_ms: i64,
    step_ms: i64,
    slots: Slots,
    next_attempt: usize,
}

impl PeriodFinder {
    /// A finder that gives up after `max_span_ms` of history without a season.
    pub fn new(max_span_ms: i64) -> Self {
        Self {
            // Any span reaches a negative one as soon as it reaches 0.
            max_span_ms: max_span_ms.max(0),
            first_samples: FirstSamples::default(),
            origin_ms: 0,
            slot_ms: 0,
            step_ms: 0,
            slots: Slots::default(),
            next_attempt: FIRST_ATTEMPT,
        }
    }

    /// Bytes this finder holds on the heap besides itself: its buffers' capacities.
    pub fn heap_bytes(&self) -> usize {
        self.first_samples.heap_bytes() + self.slots.heap_bytes()
    }

    /// Add one sample (finite value, increasing timestamps).
    pub fn push(&mut self, timestamp_ms: i64, value: f64) -> Search {
        if self.slot_ms == 0 {
            self.first_samples.push((timestamp_ms, value));
            if self.first_samples.len() < STEP_SAMPLES {
                return Search::Searching;
            }
            self.start_slots();
            return Search::Searching;
        }
        self.place(timestamp_ms, value);
        let filled = self.slots.len();
        if filled < self.next_attempt {
            return Search::Searching;
        }
        self.next_attempt = filled + CAPACITY / 4;
        if let Some(found) = self.attempt() {
            return Search::Found(found);
        }
        if self.span_ms() >= self.max_span_ms {
            return Search::NoSeason;
        }
        Search::Searching
    }

    fn start_slots(&mut self) {
        let first_samples = self.first_samples.take();
        let mut steps: Vec<i64> = first_samples
            .windows(2)
            .map(|w| w[1].0 - w[0].0)
            .filter(|d| *d > 0)
            .collect();
        steps.sort_unstable();
        self.step_ms = steps.get(steps.len() / 2).copied().unwrap_or(1).max(1);
        self.slot_ms = self.step_ms;
        self.origin_ms = first_samples[0].0;
        // The buffer grows as slots fill (see `Slots::place`): a young series holds what it
        // has seen, not the whole buffer.
        for (t, v) in first_samples {
            self.place(t, v);
        }
    }

    fn span_ms(&self) -> i64 {
        self.slots.len() as i64 * self.slot_ms
    }

    fn place(&mut self, timestamp_ms: i64, value: f64) {
        let mut slot = ((timestamp_ms - self.origin_ms) / self.slot_ms) as usize;
        while slot >= CAPACITY {
            self.halve();
            slot = ((timestamp_ms - self.origin_ms) / self.slot_ms) as usize;
        }
        self.slots.place(slot, value, CAPACITY);
    }

    /// Merge neighbouring slots pairwise; the slot width doubles.
    fn halve(&mut self) {
        // The samples a slot of the old width holds, at the series' usual step.
        let slot_weight = (self.slot_ms as f64 / self.step_ms as f64).max(1.0);
        self.slots.halve(slot_weight);
        self.slot_ms *= 2;
        self.next_attempt = self.slots.len().max(FIRST_ATTEMPT) + CAPACITY / 4;
    }

    fn attempt(&self) -> Option<FoundSeason> {
        let values = self.slots.values();
        let detrended = detrend(&values);
        if !above_resolution(&detrended, self.slots.unit()) {
            return None;
        }
        let lag = dominant_lag(&values)?;
        let strength = autocorrelation(&detrended, lag);
        let period_ms = snap_to_calendar(refine_lag(&detrended, lag) * self.slot_ms as f64);
        let history = values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                (
                    self.origin_ms + i as i64 * self.slot_ms + self.slot_ms / 2,
                    *v,
                )
            })
            .collect();
        Some(FoundSeason {
            period_ms,
            strength,
            history,
            step_ms: self.step_ms,
        })
    }
}

/// The first element of the compact form. The form of snapshot formats before 2 started with
/// `max_span_ms`, which is never negative; the snapshot's format version keeps such states
/// from reaching this code, and the tag refuses them if one does.
const COMPACT_TAG: i64 = -1;
/// Elements in the compact form.
const COMPACT_LEN: usize = 12;

/// A tuple: `COMPACT_TAG, max_span_ms, origin_ms, slot_ms, step_ms, next_attempt,
/// first_samples, lo, unit, open_sum, open_weight, codes` (the codes as little-endian bytes:
/// two bytes a slot, where a varint would take three for most codes).
impl Serialize for PeriodFinder {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (codes, lo, unit, open_sum, open_weight) = self.slots.parts();
        let mut t = serializer.serialize_tuple(COMPACT_LEN)?;
        t.serialize_element(&COMPACT_TAG)?;
        t.serialize_element(&self.max_span_ms)?;
        t.serialize_element(&self.origin_ms)?;
        t.serialize_element(&self.slot_ms)?;
        t.serialize_element(&self.step_ms)?;
        t.serialize_element(&(self.next_attempt as u64))?;
        t.serialize_element(self.first_samples.as_slice())?;
        t.serialize_element(&lo)?;
        t.serialize_element(&unit)?;
        t.serialize_element(&open_sum)?;
        t.serialize_element(&open_weight)?;
        t.serialize_element(&CodeBytes(codes))?;
        t.end()
    }
}

/// The codes as a sequence of bytes, without copying them.
struct CodeBytes<'a>(&'a [u16]);

impl Serialize for CodeBytes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(Some(2 * self.0.len()))?;
        for code in self.0 {
            for byte in code.to_le_bytes() {
                seq.serialize_element(&byte)?;
            }
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for PeriodFinder {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_tuple(COMPACT_LEN, FinderVisitor)
    }
}

struct FinderVisitor;

impl<'de> Visitor<'de> for FinderVisitor {
    type Value = PeriodFinder;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a season search's state")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PeriodFinder, A::Error> {
        let mut index = 0;
        macro_rules! element {
            ($ty:ty) => {
                element::<A, $ty>(&mut seq, &mut index)?
            };
        }
        let tag: i64 = element!(i64);
        if tag != COMPACT_TAG {
            return Err(de::Error::custom(
                "season search: not the compact form (a state of snapshot format 1)",
            ));
        }
        let max_span_ms = element!(i64);
        let origin_ms = element!(i64);
        let slot_ms = element!(i64);
        let step_ms = element!(i64);
        let next_attempt = element!(u64);
        let first_samples = element!(Vec<(i64, f64)>);
        let lo = element!(f64);
        let unit = element!(f64);
        let open_sum = element!(f64);
        let open_weight = element!(f64);
        let bytes = element!(Vec<u8>);
        if bytes.len() % 2 != 0 {
            return Err(de::Error::custom("season search: odd number of code bytes"));
        }
        let codes = bytes
            .chunks_exact(2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .collect();
        let parts = SlotsParts {
            codes,
            lo,
            unit,
            open_sum,
            open_weight,
        };
        let slots = Slots::from_parts(parts, CAPACITY)
            .ok_or_else(|| de::Error::custom("season search: bad slot buffer"))?;
        let finder = PeriodFinder {
            max_span_ms,
            first_samples: FirstSamples::from(first_samples),
            origin_ms,
            slot_ms,
            step_ms,
            slots,
            next_attempt: usize::try_from(next_attempt).unwrap_or(usize::MAX),
        };
        finder
            .check()
            .map_err(|what| de::Error::custom(format!("season search: {what}")))?;
        Ok(finder)
    }
}

/// The next element of a finder's tuple, the `index`-th.
fn element<'de, A: SeqAccess<'de>, T: Deserialize<'de>>(
    seq: &mut A,
    index: &mut usize,
) -> Result<T, A::Error> {
    *index += 1;
    seq.next_element()?
        .ok_or_else(|| de::Error::invalid_length(*index - 1, &"a season search's state"))
}

impl PeriodFinder {
    /// Whether a restored finder can go on: what `push` relies on.
    fn check(&self) -> Result<(), &'static str> {
        if self.slot_ms == 0 {
            if self.slots.len() > 0 || self.first_samples.len() >= STEP_SAMPLES {
                return Err("slots without a slot width");
            }
            return Ok(());
        }
        if self.slot_ms < 0 || self.step_ms <= 0 || self.slot_ms < self.step_ms {
            return Err("bad slot width");
        }
        if self.slots.len() == 0 || self.slots.len() > CAPACITY {
            return Err("bad number of slots");
        }
        Ok(())
    }
}

/// Below this many steps of the buffer's quantisation (root mean square), what is left of a
/// series after its trend is mostly rounding.
const RESOLUTION_STEPS: f64 = 8.0;

/// Whether the detrended buffer varies by more than its rounding: on a smooth series (a ramp,
/// an uptime) the rounding is all that is left after the trend, and its pattern repeats, which
/// the autocorrelation would take for a season. Rounding is at most about a step (see
/// [`slots`]), a sixty-fourth of the variance allowed here, so it cannot make a peak either.
fn above_resolution(detrended: &[f64], unit: f64) -> bool {
    let n = detrended.len().max(1) as f64;
    let mean_square = detrended.iter().map(|v| v * v).sum::<f64>() / n;
    mean_square > (RESOLUTION_STEPS * unit).powi(2)
}

/// The values minus their least-squares line.
fn detrend(values: &[f64]) -> Vec<f64> {
    let n = values.len() as f64;
    let mean_x = (n - 1.0) / 2.0;
    let mean_y = values.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, y) in values.iter().enumerate() {
        let dx = i as f64 - mean_x;
        sxy += dx * (y - mean_y);
        sxx += dx * dx;
    }
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    values
        .iter()
        .enumerate()
        .map(|(i, y)| y - mean_y - slope * (i as f64 - mean_x))
        .collect()
}

/// The peak's lag to a fraction of a slot, by a parabola through the autocorrelation at
/// `lag − 1`, `lag` and `lag + 1`: after decimation a slot can be a large part of an hour, and
/// a period off by one slot drifts through the season day after day.
fn refine_lag(values: &[f64], lag: usize) -> f64 {
    let (a, b, c) = (
        autocorrelation(values, lag - 1),
        autocorrelation(values, lag),
        autocorrelation(values, lag + 1),
    );
    let curvature = a - 2.0 * b + c;
    if curvature >= 0.0 {
        return lag as f64;
    }
    lag as f64 + (0.5 * (a - c) / curvature).clamp(-0.5, 0.5)
}

/// Periods people's lives put into metrics: an hour, a day, a week.
const CALENDAR_PERIODS_MS: [i64; 3] = [3_600_000, 86_400_000, 604_800_000];
/// How close a found period must be to a calendar period to be taken as it.
const CALENDAR_TOLERANCE: f64 = 0.015;

/// A period within 1.5 % of an hour, a day or a week is taken as exactly that: estimates from a
/// few cycles are that noisy, and the true season of operations metrics is almost always one
/// of them.
fn snap_to_calendar(period_ms: f64) -> i64 {
    for calendar in CALENDAR_PERIODS_MS {
        if (period_ms / calendar as f64 - 1.0).abs() <= CALENDAR_TOLERANCE {
            return calendar;
        }
    }
    period_ms.round() as i64
}

/// The first strong, prominent autocorrelation peak, if any.
pub(crate) fn dominant_lag(values: &[f64]) -> Option<usize> {
    let x = detrend(values);
    let max_lag = x.len() / MIN_CYCLES;
    if max_lag <= MIN_LAG + 1 {
        return None;
    }
    let acf = autocorrelations(&x, max_lag);
    let mut peaks = Vec::new();
    let mut lowest_so_far = f64::INFINITY;
    for lag in 1..max_lag {
        lowest_so_far = lowest_so_far.min(acf[lag]);
        let is_peak = acf[lag] >= acf[lag - 1] && acf[lag] > acf[lag + 1];
        if lag >= MIN_LAG
            && is_peak
            && acf[lag] >= MIN_PEAK
            && acf[lag] - lowest_so_far >= MIN_PROMINENCE
        {
            peaks.push((lag, acf[lag]));
        }
    }
    let best = peaks.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    peaks
        .into_iter()
        .find(|p| p.1 >= FUNDAMENTAL_FRACTION * best)
        .map(|p| p.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_series::{DAY, MINUTE, wiggle};

    struct Case {
        name: &'static str,
        step_ms: i64,
        value: fn(i64, usize) -> f64,
        samples: usize,
        /// Expected period in ms (within 3 %), or None for no season.
        want: Option<i64>,
    }

    const CASES: &[Case] = &[
        Case {
            name: "daily sine at 5-minute steps",
            step_ms: 5 * MINUTE,
            value: |t, i| {
                10.0 + 5.0 * (t as f64 / DAY as f64 * std::f64::consts::TAU).sin() + wiggle(i)
            },
            samples: 288 * 5,
            want: Some(DAY),
        },
        Case {
            name: "daily square wave at 1-minute steps",
            step_ms: MINUTE,
            value: |t, _| if (t % DAY) < DAY / 2 { 0.0 } else { 80.0 },
            samples: 1440 * 4,
            want: Some(DAY),
        },
        Case {
            name: "hourly pattern at 1-minute steps with a spike",
            step_ms: MINUTE,
            value: |t, i| {
                let base = ((t / MINUTE) % 60) as f64;
                if i == 300 { 1e4 } else { base + wiggle(i) }
            },
            samples: 600,
            want: Some(60 * MINUTE),
        },
        Case {
            name: "white noise",
            step_ms: MINUTE,
            value: |_, i| wiggle(i),
            samples: 5000,
            want: None,
        },
        Case {
            name: "random walk",
            step_ms: MINUTE,
            value: |_, i| (0..i).map(wiggle).sum::<f64>(),
            samples: 3000,
            want: None,
        },
        Case {
            name: "linear trend",
            step_ms: MINUTE,
            value: |_, i| i as f64,
            samples: 3000,
            want: None,
        },
    ];

    fn run(case: &Case) -> Search {
        // Search for as long as the case runs.
        let mut finder = PeriodFinder::new(case.samples as i64 * case.step_ms - case.step_ms);
        for i in 0..case.samples {
            let t = i as i64 * case.step_ms;
            match finder.push(t, (case.value)(t, i)) {
                Search::Searching => {}
                done => return done,
            }
        }
        Search::Searching
    }

    #[test]
    fn cases() {
        for case in CASES {
            match (run(case), case.want) {
                (Search::Found(found), Some(want)) => {
                    let err = (found.period_ms - want).abs() as f64 / want as f64;
                    assert!(err < 0.03, "{}: found {} ms", case.name, found.period_ms);
                }
                (Search::NoSeason | Search::Searching, None) => {}
                (got, want) => panic!("{}: got {got:?}, want {want:?}", case.name),
            }
        }
    }

    #[test]
    fn gaps_keep_time_distance() {
        // A daily sine sampled every 5 minutes, with a 6-hour hole on day 2.
        let mut finder = PeriodFinder::new(10 * DAY);
        let mut found = None;
        for i in 0..288 * 6 {
            let t = i as i64 * 5 * MINUTE;
            if (DAY + 6 * 60 * MINUTE..DAY + 12 * 60 * MINUTE).contains(&t) {
                continue;
            }
            let v = (t as f64 / DAY as f64 * std::f64::consts::TAU).sin();
            if let Search::Found(f) = finder.push(t, v) {
                found = Some(f.period_ms);
                break;
            }
        }
        let period = found.expect("season found");
        assert!((period - DAY).abs() < DAY / 30, "{period}");
    }

    /// The compact form's elements, to write states a finder would not be in.
    #[derive(Debug, Clone, Serialize)]
    struct Compact {
        tag: i64,
        max_span_ms: i64,
        origin_ms: i64,
        slot_ms: i64,
        step_ms: i64,
        next_attempt: u64,
        first_samples: Vec<(i64, f64)>,
        lo: f64,
        unit: f64,
        open_sum: f64,
        open_weight: f64,
        codes: Vec<u8>,
    }

    #[test]
    fn snapshot_forms_round_trip_and_bad_ones_are_refused() {
        let feed = |n: usize| {
            let mut finder = PeriodFinder::new(40 * DAY);
            for i in 0..n {
                let t = i as i64 * MINUTE;
                let _ = finder.push(t, wiggle(i) * 1e3);
            }
            finder
        };
        for n in [0, 3, 9, 10, 500, 767, 768, 769, 5000] {
            let finder = feed(n);
            let bytes = postcard::to_stdvec(&finder).unwrap();
            assert_eq!(
                postcard::from_bytes::<PeriodFinder>(&bytes).unwrap(),
                finder,
                "{n}"
            );
            let json = serde_json::to_string(&finder).unwrap();
            assert_eq!(
                serde_json::from_str::<PeriodFinder>(&json).unwrap(),
                finder,
                "{n}"
            );
        }
        // A full buffer is 1.5 KiB of codes in the snapshot, not 768 floats.
        let full = postcard::to_stdvec(&feed(CAPACITY)).unwrap().len();
        assert!((1534..1700).contains(&full), "{full} bytes");

        // Ten closed slots of one minute and an open one: a state a finder can be in.
        let good = Compact {
            tag: COMPACT_TAG,
            max_span_ms: 40 * DAY,
            origin_ms: 0,
            slot_ms: MINUTE,
            step_ms: MINUTE,
            next_attempt: FIRST_ATTEMPT as u64,
            first_samples: Vec::new(),
            lo: 0.0,
            unit: 1.0,
            open_sum: 10.0,
            open_weight: 1.0,
            codes: (0..10u16).flat_map(|i| (i << 1).to_le_bytes()).collect(),
        };
        let restored: PeriodFinder =
            postcard::from_bytes(&postcard::to_stdvec(&good).unwrap()).unwrap();
        assert_eq!(restored.slots.len(), 11);
        // States no finder can be in are refused, not restored to fail later.
        let cases = [
            (
                "the form of snapshot format 1 (no compact tag)",
                Compact {
                    tag: DAY,
                    ..good.clone()
                },
            ),
            (
                "slots without a slot width",
                Compact {
                    slot_ms: 0,
                    step_ms: 0,
                    ..good.clone()
                },
            ),
            (
                "a slot width without a step",
                Compact {
                    step_ms: 0,
                    ..good.clone()
                },
            ),
            (
                "an odd number of code bytes",
                Compact {
                    codes: vec![0; 3],
                    ..good.clone()
                },
            ),
            (
                "more slots than fit (the 1,024 of builds before snapshot format 6)",
                Compact {
                    codes: vec![0; 2 * CAPACITY],
                    ..good.clone()
                },
            ),
            (
                "an open slot of no weight after closed slots",
                Compact {
                    open_weight: 0.0,
                    ..good.clone()
                },
            ),
        ];
        for (name, state) in cases {
            let bytes = postcard::to_stdvec(&state).unwrap();
            assert!(
                postcard::from_bytes::<PeriodFinder>(&bytes).is_err(),
                "{name}"
            );
        }
    }
}
