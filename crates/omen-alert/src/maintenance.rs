//! Maintenance windows: while one covers an alert, a pending alert cannot start firing, a
//! firing one is not updated or re-notified, and resolving still happens.
//!
//! A window is one-off (`start` ≤ t < `end`) or weekly (`days`, `from` ≤ time of day < `to`,
//! UTC). A weekly window whose `to` is not after `from` crosses midnight: `days = ["sat"]`,
//! `from = "22:00"`, `to = "02:00"` is Saturday 22:00 to Sunday 02:00. Its selectors see the
//! series' labels and `alertname`.

use omen_core::Selector;

use crate::config::MaintenanceConfig;
use crate::selectors::selectors;
use crate::time::parse_rfc3339_ms;
use crate::{Error, Result};

const DAY_MS: i64 = 86_400_000;
const MINUTE_MS: i64 = 60_000;
const DAY_NAMES: [[&str; 2]; 7] = [
    ["mon", "monday"],
    ["tue", "tuesday"],
    ["wed", "wednesday"],
    ["thu", "thursday"],
    ["fri", "friday"],
    ["sat", "saturday"],
    ["sun", "sunday"],
];

/// One compiled `[[alert.maintenance]]` entry.
#[derive(Debug, Clone)]
pub struct MaintenanceWindow {
    selectors: Vec<Selector>,
    when: When,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum When {
    Once {
        start_ms: i64,
        end_ms: i64,
    },
    Weekly {
        /// Bit 0 is Monday.
        days: u8,
        from_min: i64,
        to_min: i64,
    },
}

impl MaintenanceWindow {
    /// Compile `config`, the `index`th entry; errors name `alert.maintenance[index].<key>`.
    pub(crate) fn compile(index: usize, config: &MaintenanceConfig) -> Result<Self> {
        let key = |k: &str| format!("alert.maintenance[{index}].{k}");
        let selectors = selectors(&key("match"), &config.matchers)?;
        let once = config.start.is_some() || config.end.is_some();
        let weekly = !config.days.is_empty() || config.from.is_some() || config.to.is_some();
        let when = match (once, weekly) {
            (true, true) => {
                return Err(Error::config(
                    format!("alert.maintenance[{index}]"),
                    "give either start/end (one-off) or days/from/to (weekly), not both",
                ));
            }
            (false, false) => {
                return Err(Error::config(
                    format!("alert.maintenance[{index}]"),
                    "give start and end (RFC 3339), or from and to (HH:MM UTC) with optional days",
                ));
            }
            (true, false) => {
                let time = |k: &str, v: &Option<String>| -> Result<i64> {
                    let text = v
                        .as_deref()
                        .ok_or_else(|| Error::config(key(k), "is missing"))?;
                    parse_rfc3339_ms(text).map_err(|m| Error::config(key(k), m))
                };
                let start_ms = time("start", &config.start)?;
                let end_ms = time("end", &config.end)?;
                if end_ms <= start_ms {
                    return Err(Error::config(
                        key("end"),
                        format!(
                            "`{}` is not after start `{}`",
                            config.end.as_deref().unwrap_or(""),
                            config.start.as_deref().unwrap_or("")
                        ),
                    ));
                }
                When::Once { start_ms, end_ms }
            }
            (false, true) => {
                let mut days = 0u8;
                for (i, day) in config.days.iter().enumerate() {
                    let lower = day.trim().to_ascii_lowercase();
                    let Some(bit) = DAY_NAMES
                        .iter()
                        .position(|names| names.contains(&lower.as_str()))
                    else {
                        return Err(Error::config(
                            key(&format!("days[{i}]")),
                            format!(
                                "`{day}` is not a weekday; use mon, tue, wed, thu, fri, sat or sun"
                            ),
                        ));
                    };
                    days |= 1 << bit;
                }
                if days == 0 {
                    days = 0x7f;
                }
                let clock = |k: &str, v: &Option<String>, allow_24: bool| -> Result<i64> {
                    let text = v
                        .as_deref()
                        .ok_or_else(|| Error::config(key(k), "is missing"))?;
                    minutes_of_day(text, allow_24).map_err(|m| Error::config(key(k), m))
                };
                let from_min = clock("from", &config.from, false)?;
                let to_min = clock("to", &config.to, true)?;
                if from_min == to_min {
                    return Err(Error::config(
                        key("to"),
                        "equals `from`: the window would be empty",
                    ));
                }
                When::Weekly {
                    days,
                    from_min,
                    to_min,
                }
            }
        };
        Ok(Self { selectors, when })
    }

    /// Whether the window is open at `ms` (UTC).
    pub fn is_open(&self, ms: i64) -> bool {
        match self.when {
            When::Once { start_ms, end_ms } => (start_ms..end_ms).contains(&ms),
            When::Weekly {
                days,
                from_min,
                to_min,
            } => {
                let day = ms.div_euclid(DAY_MS);
                let minute = ms.rem_euclid(DAY_MS) / MINUTE_MS;
                // 1970-01-01 was a Thursday (index 3, Monday = 0).
                let weekday = (day + 3).rem_euclid(7) as u8;
                let yesterday = (weekday + 6) % 7;
                let on = |d: u8| days & (1 << d) != 0;
                if from_min < to_min {
                    on(weekday) && (from_min..to_min).contains(&minute)
                } else {
                    (on(weekday) && minute >= from_min) || (on(yesterday) && minute < to_min)
                }
            }
        }
    }

    /// Whether the window covers an alert whose labels `get` looks up.
    pub fn covers<'a>(&self, get: impl Fn(&str) -> Option<&'a str>, ms: i64) -> bool {
        self.is_open(ms)
            && (self.selectors.is_empty() || self.selectors.iter().any(|s| s.matches_by(&get)))
    }
}

/// `HH:MM` as minutes since midnight; `24:00` only when `allow_24`.
fn minutes_of_day(text: &str, allow_24: bool) -> Result<i64, String> {
    let bad = || format!("`{text}` is not a time of day; write it like \"02:00\" (UTC)");
    let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: i64 = h.parse().map_err(|_| bad())?;
    let m: i64 = m.parse().map_err(|_| bad())?;
    match (h, m) {
        (24, 0) if allow_24 => Ok(24 * 60),
        (0..=23, 0..=59) => Ok(h * 60 + m),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_rfc3339_ms;

    fn weekly(days: &[&str], from: &str, to: &str) -> MaintenanceWindow {
        let config = MaintenanceConfig {
            days: days.iter().map(|d| d.to_string()).collect(),
            from: Some(from.into()),
            to: Some(to.into()),
            ..MaintenanceConfig::default()
        };
        MaintenanceWindow::compile(0, &config).unwrap()
    }

    fn at(text: &str) -> i64 {
        parse_rfc3339_ms(text).unwrap()
    }

    #[test]
    fn weekly_windows_open_on_their_days_in_utc() {
        // 2026-11-22 is a Sunday.
        let sunday_night = weekly(&["sun"], "02:00", "04:00");
        let across_midnight = weekly(&["Saturday"], "22:00", "02:00");
        let every_day = weekly(&[], "12:00", "24:00");
        let cases = [
            (&sunday_night, "2026-11-22T02:00:00Z", true),
            (&sunday_night, "2026-11-22T03:59:59Z", true),
            (&sunday_night, "2026-11-22T04:00:00Z", false),
            (&sunday_night, "2026-11-22T01:59:59Z", false),
            (&sunday_night, "2026-11-23T03:00:00Z", false),
            (&sunday_night, "2026-11-29T03:00:00Z", true),
            (&sunday_night, "2026-11-22T04:00:00+02:00", true),
            (&across_midnight, "2026-11-21T23:00:00Z", true),
            (&across_midnight, "2026-11-22T01:00:00Z", true),
            (&across_midnight, "2026-11-22T23:00:00Z", false),
            (&across_midnight, "2026-11-21T21:59:00Z", false),
            (&every_day, "2026-11-25T23:59:59Z", true),
            (&every_day, "2026-11-25T11:00:00Z", false),
            (&every_day, "1969-12-31T13:00:00Z", true),
        ];
        for (window, time, want) in cases {
            assert_eq!(window.is_open(at(time)), want, "{time} in {window:?}");
        }
    }

    #[test]
    fn one_off_windows_are_half_open() {
        let config = MaintenanceConfig {
            start: Some("2026-12-24T18:00:00Z".into()),
            end: Some("2026-12-27T08:00:00Z".into()),
            matchers: vec![r#"{env="prod"}"#.into()],
            ..MaintenanceConfig::default()
        };
        let window = MaintenanceWindow::compile(0, &config).unwrap();
        assert!(window.is_open(at("2026-12-24T18:00:00Z")));
        assert!(!window.is_open(at("2026-12-27T08:00:00Z")));
        let prod = |name: &str| (name == "env").then_some("prod");
        let dev = |name: &str| (name == "env").then_some("dev");
        assert!(window.covers(prod, at("2026-12-25T00:00:00Z")));
        assert!(!window.covers(dev, at("2026-12-25T00:00:00Z")));
        assert!(!window.covers(prod, at("2026-12-28T00:00:00Z")));
    }

    #[test]
    fn clock_times_are_checked() {
        for (text, allow_24, want) in [
            ("02:00", false, Ok(120)),
            ("23:59", false, Ok(1439)),
            ("24:00", true, Ok(1440)),
            ("24:00", false, Err(())),
            ("2:00", false, Err(())),
            ("02:60", false, Err(())),
            ("noon", false, Err(())),
        ] {
            assert_eq!(
                minutes_of_day(text, allow_24).map_err(|_| ()),
                want,
                "{text}"
            );
        }
    }
}
