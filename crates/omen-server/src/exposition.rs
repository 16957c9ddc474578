//! The Prometheus text format for the per-series outputs (`omen_anomaly_score` and the band),
//! written straight from the engine's views.
//!
//! Omen's own counters go through `prometheus-client`; these series do not, because there can
//! be a million of them with label sets only known at run time, and copying each into a
//! registry on every scrape would double the work for nothing.

use std::fmt::Write as _;

use omen_core::quote_label_value;

/// Append `name{labels} value` (and a timestamp in ms when given) as one line.
pub(crate) fn write_sample<'a>(
    out: &mut String,
    name: &str,
    labels: impl IntoIterator<Item = (&'a str, &'a str)>,
    value: f64,
) {
    out.push_str(name);
    let mut first = true;
    for (label, label_value) in labels {
        out.push(if first { '{' } else { ',' });
        first = false;
        out.push_str(label);
        out.push('=');
        quote_label_value(out, label_value);
    }
    if !first {
        out.push('}');
    }
    out.push(' ');
    write_value(out, value);
    out.push('\n');
}

/// `# HELP` and `# TYPE gauge` lines for a family.
pub(crate) fn write_gauge_header(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
}

fn write_value(out: &mut String, value: f64) {
    if value.is_nan() {
        out.push_str("NaN");
    } else if value == f64::INFINITY {
        out.push_str("+Inf");
    } else if value == f64::NEG_INFINITY {
        out.push_str("-Inf");
    } else {
        let _ = write!(out, "{value}");
    }
}

/// Whether `name` is a label name the classic text format can carry unquoted
/// (`[a-zA-Z_][a-zA-Z0-9_]*`). Remote-write 2.0 allows any UTF-8; such labels are left out of
/// the exported series rather than breaking the page for a Prometheus 2.x scraper.
pub(crate) fn is_classic_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_written_in_the_text_format() {
        // (name, labels, value, the line written)
        type Case = (
            &'static str,
            Vec<(&'static str, &'static str)>,
            f64,
            &'static str,
        );
        let cases: [Case; 5] = [
            ("a", vec![], 1.5, "a 1.5\n"),
            ("a", vec![("job", "node")], 2.0, "a{job=\"node\"} 2\n"),
            (
                "a",
                vec![("x", "q\"\\\nz")],
                0.0,
                "a{x=\"q\\\"\\\\\\nz\"} 0\n",
            ),
            (
                "a",
                vec![("x", "1"), ("y", "2")],
                f64::NAN,
                "a{x=\"1\",y=\"2\"} NaN\n",
            ),
            ("a", vec![], f64::NEG_INFINITY, "a -Inf\n"),
        ];
        for (name, labels, value, want) in cases {
            let mut out = String::new();
            write_sample(&mut out, name, labels, value);
            assert_eq!(out, want);
        }
    }

    #[test]
    fn classic_label_names() {
        for (name, want) in [
            ("job", true),
            ("_a1", true),
            ("1a", false),
            ("a.b", false),
            ("", false),
        ] {
            assert_eq!(is_classic_label_name(name), want, "{name}");
        }
    }
}
