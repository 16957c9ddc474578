//! Durations as people write them (`"5m"`, `"1h 30m"`, `"90s"`), with errors that name the key:
//! serde does not tell a field's deserializer where it is, so each duration key has its own
//! function. Negative durations are refused by name rather than by humantime's parse error.

use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// Longest duration accepted: about 292 years, so that milliseconds fit in an `i64`.
const MAX_MS: u128 = i64::MAX as u128;

/// Parse `text` as a duration for `key`, or say why not, naming the key.
pub(crate) fn parse(key: &str, text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    if trimmed.starts_with('-') {
        return Err(format!(
            "{key}: `{text}` is negative; a duration is 0 or more, like \"5m\""
        ));
    }
    let value = humantime::parse_duration(trimmed).map_err(|err| {
        format!("{key}: `{text}` is not a duration ({err}); write it like \"15m\", \"1h 30m\" or \"90s\"")
    })?;
    if value.as_millis() > MAX_MS {
        return Err(format!("{key}: `{text}` is too long"));
    }
    Ok(value)
}

fn named<'de, D: Deserializer<'de>>(key: &str, deserializer: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(deserializer)
        .map_err(|err| serde::de::Error::custom(format!("{key}: {err}")))?;
    parse(key, &text).map_err(serde::de::Error::custom)
}

macro_rules! duration_keys {
    ($($fn_name:ident => $key:literal),* $(,)?) => {$(
        pub(super) fn $fn_name<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
            named($key, d)
        }
    )*};
}

duration_keys! {
    de_for => "for",
    de_keep_firing_for => "keep_firing_for",
    de_window => "flapping.window",
    de_group_wait => "grouping.group_wait",
    de_group_interval => "grouping.group_interval",
    de_repeat_interval => "grouping.repeat_interval",
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_or_name_their_key() {
        struct Case {
            text: &'static str,
            want: Result<u64, &'static str>,
        }
        let cases = [
            Case {
                text: "5m",
                want: Ok(300),
            },
            Case {
                text: "1h 30m",
                want: Ok(5400),
            },
            Case {
                text: "0s",
                want: Ok(0),
            },
            Case {
                text: "-5m",
                want: Err("for: `-5m` is negative"),
            },
            Case {
                text: "5",
                want: Err("for: `5` is not a duration"),
            },
            Case {
                text: "soon",
                want: Err("for: `soon` is not a duration"),
            },
            Case {
                text: "1000000000years",
                want: Err("too long"),
            },
        ];
        for case in cases {
            let got = parse("for", case.text).map(|d| d.as_secs());
            match (got, case.want) {
                (Ok(got), Ok(want)) => assert_eq!(got, want, "{}", case.text),
                (Err(got), Err(want)) => assert!(got.contains(want), "{}: {got}", case.text),
                (got, want) => panic!("{}: got {got:?}, want {want:?}", case.text),
            }
        }
    }
}
