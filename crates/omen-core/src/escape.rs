//! Label values in Prometheus' text forms: the exposition format (`name{label="value"} 1`) and
//! PromQL selectors (`{label="value"}`) escape a label value the same way: backslash, double
//! quote and line feed, and nothing else.

/// Append `value` escaped for a double-quoted label value: `\` as `\\`, `"` as `\"`, a line
/// feed as `\n`; every other character as it is.
pub fn escape_label_value(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Append `value` as a double-quoted, escaped label value (see [`escape_label_value`]).
pub fn quote_label_value(out: &mut String, value: &str) {
    out.push('"');
    escape_label_value(out, value);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_backslash_quote_and_line_feed_are_escaped() {
        struct Case {
            name: &'static str,
            value: &'static str,
            quoted: &'static str,
        }
        let cases = [
            Case {
                name: "plain",
                value: "node",
                quoted: r#""node""#,
            },
            Case {
                name: "empty",
                value: "",
                quoted: r#""""#,
            },
            Case {
                name: "backslash, quote and line feed",
                value: "q\"\\\nz",
                quoted: r#""q\"\\\nz""#,
            },
            Case {
                name: "tab, carriage return and non-ASCII kept",
                value: "a\tb\rcé",
                quoted: "\"a\tb\rcé\"",
            },
        ];
        for case in cases {
            let mut out = String::new();
            quote_label_value(&mut out, case.value);
            assert_eq!(out, case.quoted, "{}", case.name);
            let mut escaped = String::new();
            escape_label_value(&mut escaped, case.value);
            assert_eq!(
                escaped,
                case.quoted[1..case.quoted.len() - 1],
                "{}",
                case.name
            );
        }
    }
}
