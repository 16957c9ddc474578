//! Axes: UTC time ticks on round boundaries, and value labels that stay short.

use std::ops::Range;

use chrono::{DateTime, Datelike, NaiveDate};
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};

const SECOND: i64 = 1_000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
/// 1970-01-01 was a Thursday: weekly ticks are shifted by four days to fall on Mondays.
const MONDAY_OFFSET: i64 = 4 * DAY;

/// Tick spacings of fixed length, shortest first.
const FIXED_STEPS: [i64; 29] = [
    1,
    2,
    5,
    10,
    20,
    50,
    100,
    200,
    500,
    SECOND,
    2 * SECOND,
    5 * SECOND,
    10 * SECOND,
    15 * SECOND,
    30 * SECOND,
    MINUTE,
    2 * MINUTE,
    5 * MINUTE,
    10 * MINUTE,
    15 * MINUTE,
    30 * MINUTE,
    HOUR,
    2 * HOUR,
    3 * HOUR,
    6 * HOUR,
    12 * HOUR,
    DAY,
    2 * DAY,
    7 * DAY,
];

/// Tick spacings in calendar months, after the fixed ones.
const MONTH_STEPS: [i64; 9] = [1, 2, 3, 6, 12, 24, 60, 120, 240];

/// The spacing of the ticks of a time axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// A fixed number of milliseconds.
    Fixed(i64),
    /// A number of calendar months, ticks on the first of the month.
    Months(i64),
}

/// A time axis over Unix milliseconds whose ticks fall on round UTC times.
#[derive(Debug, Clone)]
pub(crate) struct TimeAxis {
    start: i64,
    end: i64,
    labels: usize,
}

impl TimeAxis {
    /// An axis from `start` to `end` (ms, `start < end`) with at most `labels` labelled ticks.
    pub(crate) fn new(start: i64, end: i64, labels: usize) -> Self {
        Self {
            start,
            end: end.max(start.saturating_add(1)),
            labels: labels.max(2),
        }
    }

    fn step(&self, max_ticks: usize) -> Step {
        choose_step(self.start, self.end, max_ticks)
    }
}

fn choose_step(start: i64, end: i64, max_ticks: usize) -> Step {
    let max_ticks = max_ticks.max(1);
    for step in FIXED_STEPS {
        if fixed_ticks(start, end, step, max_ticks).len() <= max_ticks {
            return Step::Fixed(step);
        }
    }
    for months in MONTH_STEPS {
        if month_ticks(start, end, months, max_ticks + 1).len() <= max_ticks {
            return Step::Months(months);
        }
    }
    Step::Months(*MONTH_STEPS.last().unwrap_or(&240))
}

/// Multiples of `step` (shifted to Mondays for weekly steps) within `start..=end`, at most `cap`.
fn fixed_ticks(start: i64, end: i64, step: i64, cap: usize) -> Vec<i64> {
    let offset = if step % (7 * DAY) == 0 {
        MONDAY_OFFSET
    } else {
        0
    };
    let count = (end - offset).div_euclid(step) - (start - offset - 1).div_euclid(step);
    let count = usize::try_from(count.max(0)).unwrap_or(0);
    if count > cap {
        // Only the count matters to the caller: do not build a huge vector.
        return vec![0; cap.saturating_add(1).min(count)];
    }
    let first = (start - offset + step - 1).div_euclid(step) * step + offset;
    (0..count as i64).map(|k| first + k * step).collect()
}

/// Firsts of the month, every `months` months counted from January of year 0, within
/// `start..=end`; at most `cap` of them.
fn month_ticks(start: i64, end: i64, months: i64, cap: usize) -> Vec<i64> {
    let Some(from) = DateTime::from_timestamp_millis(start) else {
        return Vec::new();
    };
    let mut index = i64::from(from.year()) * 12 + i64::from(from.month0());
    index = index.div_euclid(months) * months;
    let mut ticks = Vec::new();
    while ticks.len() < cap {
        let year = i32::try_from(index.div_euclid(12)).unwrap_or(i32::MAX);
        let month = u32::try_from(index.rem_euclid(12) + 1).unwrap_or(1);
        let Some(t) = NaiveDate::from_ymd_opt(year, month, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| d.and_utc().timestamp_millis())
        else {
            break;
        };
        if t > end {
            break;
        }
        if t >= start {
            ticks.push(t);
        }
        index += months;
    }
    ticks
}

impl Ranged for TimeAxis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = i64;

    fn map(&self, value: &i64, limit: (i32, i32)) -> i32 {
        let fraction = (*value as f64 - self.start as f64) / (self.end as f64 - self.start as f64);
        let pixel = f64::from(limit.0) + fraction * f64::from(limit.1 - limit.0);
        pixel
            .round()
            .clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<i64> {
        let max_ticks = hint.max_num_points();
        match self.step(max_ticks) {
            Step::Fixed(step) => fixed_ticks(self.start, self.end, step, max_ticks),
            Step::Months(months) => month_ticks(self.start, self.end, months, max_ticks),
        }
    }

    fn range(&self) -> Range<i64> {
        self.start..self.end
    }
}

impl ValueFormatter<i64> for TimeAxis {
    fn format_ext(&self, value: &i64) -> String {
        tick_label(*value, self.step(self.labels))
    }
}

/// A tick's label: as short as the spacing allows; a midnight tick on a sub-day axis shows the
/// date instead of `00:00`.
fn tick_label(ms: i64, step: Step) -> String {
    let Some(t) = DateTime::from_timestamp_millis(ms) else {
        return ms.to_string();
    };
    let format = match step {
        Step::Fixed(s) if s < SECOND => "%H:%M:%S%.3f",
        Step::Fixed(s) if s < MINUTE => "%H:%M:%S",
        Step::Fixed(s) if s < DAY && ms.rem_euclid(DAY) != 0 => "%H:%M",
        Step::Fixed(_) => "%b %-d",
        Step::Months(m) if m < 12 => "%b %Y",
        Step::Months(_) => "%Y",
    };
    t.format(format).to_string()
}

/// A UTC time as `2024-03-05 14:07:00`.
pub(crate) fn utc(ms: i64) -> String {
    match DateTime::from_timestamp_millis(ms) {
        Some(t) if ms.rem_euclid(SECOND) == 0 => t.format("%Y-%m-%d %H:%M:%S").to_string(),
        Some(t) => t.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
        None => format!("{ms} ms"),
    }
}

/// A duration as `45s`, `12m`, `3h 05m`, `2d 4h`.
pub(crate) fn duration(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < SECOND {
        return format!("{ms}ms");
    }
    let s = ms / SECOND;
    let (d, h, m, s) = (s / 86_400, s / 3_600 % 24, s / 60 % 60, s % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) if s == 0 => format!("{m}m"),
        (0, 0, _) => format!("{m}m {s:02}s"),
        (0, _, _) => format!("{h}h {m:02}m"),
        _ => format!("{d}d {h}h"),
    }
}

/// Value labels: one scale (with a k/M/G/T suffix) and as many decimals as the tick spacing needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ValueFormat {
    scale: f64,
    suffix: &'static str,
    decimals: usize,
}

impl ValueFormat {
    /// For an axis from `lo` to `hi` with about `ticks` labels.
    pub(crate) fn for_axis(lo: f64, hi: f64, ticks: usize) -> Self {
        let largest = lo.abs().max(hi.abs());
        let (scale, suffix) = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")]
            .into_iter()
            .find(|&(scale, _)| largest >= 10.0 * scale)
            .unwrap_or((1.0, ""));
        let step = (hi - lo).abs() / ticks.max(1) as f64 / scale;
        let decimals = if step > 0.0 && step.is_finite() {
            (-step.log10().floor()).clamp(0.0, 9.0) as usize
        } else {
            2
        };
        Self {
            scale,
            suffix,
            decimals,
        }
    }

    /// One label, trailing zeros trimmed.
    pub(crate) fn format(&self, value: f64) -> String {
        let mut text = format!("{:.*}", self.decimals, value / self.scale);
        if text.contains('.') {
            let trimmed = text.trim_end_matches('0').trim_end_matches('.').len();
            text.truncate(trimmed);
        }
        if text == "-0" {
            text = "0".into();
        }
        text.push_str(self.suffix);
        text
    }
}

/// A number for prose and tables: three significant digits or so, no exponent for usual sizes.
pub(crate) fn short(value: f64) -> String {
    if !value.is_finite() {
        return "–".into();
    }
    let magnitude = value.abs();
    if magnitude >= 100.0 || magnitude == 0.0 {
        format!("{value:.0}")
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else if magnitude >= 0.01 {
        format!("{value:.2}")
    } else {
        format!("{value:.2e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_709_251_200_000; // 2024-03-01 00:00:00 UTC, a Friday

    #[test]
    fn ticks_fall_on_round_times_and_respect_the_count() {
        let axis = TimeAxis::new(T0 + 7 * MINUTE, T0 + 7 * DAY, 8);
        let ticks = axis.key_points(8usize);
        assert!(!ticks.is_empty() && ticks.len() <= 8, "{ticks:?}");
        assert!(ticks.iter().all(|t| t % DAY == 0));
        let labels: Vec<String> = ticks.iter().map(|t| axis.format_ext(t)).collect();
        assert_eq!(labels[0], "Mar 2");

        let axis = TimeAxis::new(T0 + 5 * MINUTE, T0 + 6 * HOUR, 8);
        let ticks = axis.key_points(8usize);
        assert!(ticks.iter().all(|t| t % HOUR == 0), "{ticks:?}");
        assert_eq!(axis.format_ext(&ticks[0]), "01:00");

        let axis = TimeAxis::new(T0, T0 + 400 * DAY, 8);
        let ticks = axis.key_points(8usize);
        assert!(ticks.len() <= 8 && ticks.len() >= 3, "{ticks:?}");
        assert_eq!(axis.format_ext(&ticks[0]), "Mar 2024");
    }

    #[test]
    fn midnight_shows_the_date_on_sub_day_axes() {
        let axis = TimeAxis::new(T0 - 6 * HOUR, T0 + 18 * HOUR, 8);
        let labels: Vec<String> = axis
            .key_points(8usize)
            .iter()
            .map(|t| axis.format_ext(t))
            .collect();
        assert!(labels.contains(&"Mar 1".to_string()), "{labels:?}");
        assert!(labels.contains(&"06:00".to_string()), "{labels:?}");
    }

    #[test]
    fn value_labels_are_short_and_distinct() {
        let f = ValueFormat::for_axis(12_300.0, 12_400.0, 6);
        assert_eq!(f.format(12_320.0), "12.32k");
        assert_eq!(f.format(12_300.0), "12.3k");
        let f = ValueFormat::for_axis(0.0, 1.0, 6);
        assert_eq!(f.format(0.2), "0.2");
        assert_eq!(f.format(-0.0), "0");
        let f = ValueFormat::for_axis(0.0, 250.0, 6);
        assert_eq!(f.format(150.0), "150");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(45 * SECOND), "45s");
        assert_eq!(duration(12 * MINUTE), "12m");
        assert_eq!(duration(3 * HOUR + 5 * MINUTE), "3h 05m");
        assert_eq!(duration(2 * DAY + 4 * HOUR), "2d 4h");
        assert_eq!(utc(T0), "2024-03-01 00:00:00");
    }
}
