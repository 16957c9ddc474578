//! Durations in configuration files as people write them: `"15m"`, `"1h 30m"`, `"90s"`,
//! `"500ms"`. Use with `#[serde(with = "omen_core::human_duration")]`.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serializer};

/// Write `value` as humantime text (`"1h 30m"`).
pub fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&humantime::format_duration(*value))
}

/// Read humantime text; the error quotes the text and shows how to write one.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(deserializer)?;
    humantime::parse_duration(&text).map_err(|err| {
        serde::de::Error::custom(format!(
            "`{text}` is not a duration ({err}); write it like \"15m\", \"1h 30m\" or \"90s\""
        ))
    })
}
