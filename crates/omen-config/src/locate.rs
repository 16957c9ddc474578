//! Where a setting is written in a configuration file, so that an error can give its line.
//!
//! Syntax and type errors from `toml` already carry a line and column. A setting that parses
//! but is out of range is refused later, by a `validate()` whose message names the setting by
//! its dotted path (`verdict.threshold must be in (0, 1], got 7`); this module finds that path
//! in the file.

use toml::de::{DeTable, DeValue};

/// Every dotted key path in `text` with the 1-based line it is written on, or nothing when the
/// text does not parse.
pub(crate) fn key_lines(text: &str) -> Vec<(String, usize)> {
    let Ok(table) = DeTable::parse(text) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    walk(text, "", table.get_ref(), &mut found);
    found
}

fn walk(text: &str, prefix: &str, table: &DeTable<'_>, found: &mut Vec<(String, usize)>) {
    for (key, value) in table {
        let path = if prefix.is_empty() {
            key.get_ref().to_string()
        } else {
            format!("{prefix}.{}", key.get_ref())
        };
        found.push((path.clone(), line_of(text, key.span().start)));
        walk_value(text, &path, value.get_ref(), found);
    }
}

/// Into tables, and into arrays (of tables, as `[[alert.rules]]`), as `path[i]`.
fn walk_value(text: &str, path: &str, value: &DeValue<'_>, found: &mut Vec<(String, usize)>) {
    match value {
        DeValue::Table(inner) => walk(text, path, inner, found),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let path = format!("{path}[{i}]");
                found.push((path.clone(), line_of(text, item.span().start)));
                walk_value(text, &path, item.get_ref(), found);
            }
        }
        _ => {}
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line of the longest key path of `text` that `message` names, if any.
pub(crate) fn line_named_in(text: &str, message: &str) -> Option<(String, usize)> {
    key_lines(text)
        .into_iter()
        .filter(|(path, _)| names(message, path))
        .max_by_key(|(path, _)| path.len())
}

/// Whether `message` mentions `path` as a whole word (`a.b` is not named by `a.bc`).
fn names(message: &str, path: &str) -> bool {
    let is_key_char = |c: char| c.is_alphanumeric() || c == '_' || c == '.' || c == '-';
    message.match_indices(path).any(|(at, _)| {
        let before = message[..at].chars().next_back();
        let after = message[at + path.len()..].chars().next();
        !before.is_some_and(is_key_char) && !after.is_some_and(|c| is_key_char(c) && c != '.')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
# a comment
[detector]
warm_up = 10

[verdict]
threshold = 7.0
merge_gap = 5
";

    #[test]
    fn keys_are_found_on_their_lines() {
        let lines = key_lines(TEXT);
        assert!(lines.contains(&("detector".into(), 2)), "{lines:?}");
        assert!(lines.contains(&("detector.warm_up".into(), 3)));
        assert!(lines.contains(&("verdict.threshold".into(), 6)));
        assert!(lines.contains(&("verdict.merge_gap".into(), 7)));
    }

    #[test]
    fn the_longest_named_path_wins() {
        let cases = [
            (
                "verdict.threshold must be in (0, 1], got 7",
                Some(("verdict.threshold", 6)),
            ),
            ("verdict is wrong", Some(("verdict", 5))),
            ("verdict.thresholds is not a key", Some(("verdict", 5))),
            ("nothing named here", None),
        ];
        for (message, want) in cases {
            let got = line_named_in(TEXT, message);
            let got = got.as_ref().map(|(p, l)| (p.as_str(), *l));
            assert_eq!(got, want, "{message}");
        }
    }

    #[test]
    fn unparsable_text_has_no_keys() {
        assert!(key_lines("[broken").is_empty());
    }
}
