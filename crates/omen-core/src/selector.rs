//! Prometheus series selectors: `metric_name{label="value", other=~"re.*", x!="y", y!~"a|b"}`.
//!
//! The syntax is PromQL's instant vector selector without range or offset: an optional metric
//! name, then optional braces with comma-separated matchers (a trailing comma is allowed).
//! Strings are double-quoted or single-quoted with Go escapes (`\n`, `\t`, `\\`, `\"`, `\'`,
//! `\xHH`, `\uHHHH`, `\UHHHHHHHH`, ...), or backquoted and raw. Inside the braces a quoted name
//! may stand alone for the metric name and may name a label (`{"my.metric", "a.b"="c"}`), as
//! in Prometheus 3. Regular expressions are anchored at both ends, as in Prometheus
//! (`^(?:re)$`). A label that a series lacks has the empty value, so `{mode!~"idle"}` matches
//! a series without `mode`.

use std::fmt;
use std::str::FromStr;

use regex::Regex;

use crate::labels::Labels;

/// How one matcher compares a label's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    /// `=`: equal to the string.
    Equal,
    /// `!=`: not equal to the string.
    NotEqual,
    /// `=~`: matched whole by the regular expression.
    Regex,
    /// `!~`: not matched whole by the regular expression.
    NotRegex,
}

impl MatchOp {
    fn as_str(self) -> &'static str {
        match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regex => "=~",
            MatchOp::NotRegex => "!~",
        }
    }
}

/// One label matcher, such as `job="node"` or `mode!~"idle|iowait"`.
#[derive(Debug, Clone)]
pub struct Matcher {
    name: String,
    op: MatchOp,
    value: String,
    /// The anchored expression, for `=~` and `!~`.
    regex: Option<Regex>,
}

impl Matcher {
    /// A matcher of `name` against `value`; for the regex operators `value` is an expression
    /// (anchored here), and an invalid one is refused with the regex crate's message.
    pub fn new(name: &str, op: MatchOp, value: &str) -> Result<Self, String> {
        let regex = match op {
            MatchOp::Regex | MatchOp::NotRegex => Some(
                Regex::new(&format!("^(?:{value})$"))
                    .map_err(|err| format!("invalid regular expression `{value}`: {err}"))?,
            ),
            MatchOp::Equal | MatchOp::NotEqual => None,
        };
        Ok(Self {
            name: name.to_string(),
            op,
            value: value.to_string(),
            regex,
        })
    }

    /// The label name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The operator.
    pub fn op(&self) -> MatchOp {
        self.op
    }

    /// The string or the expression, as written (unanchored).
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Whether a label value (empty when the series lacks the label) satisfies the matcher.
    pub fn matches(&self, value: &str) -> bool {
        match (self.op, &self.regex) {
            (MatchOp::Equal, _) => value == self.value,
            (MatchOp::NotEqual, _) => value != self.value,
            (MatchOp::Regex, Some(re)) => re.is_match(value),
            (MatchOp::NotRegex, Some(re)) => !re.is_match(value),
            (MatchOp::Regex | MatchOp::NotRegex, None) => unreachable!("built by Matcher::new"),
        }
    }
}

/// A series selector: every matcher must hold.
#[derive(Debug, Clone)]
pub struct Selector {
    matchers: Vec<Matcher>,
}

impl Selector {
    /// The matchers, the metric name's first when it was written before the braces.
    pub fn matchers(&self) -> &[Matcher] {
        &self.matchers
    }

    /// Whether a series, given by a lookup of its label values, is selected.
    pub fn matches_by<'a>(&self, get: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.matchers
            .iter()
            .all(|m| m.matches(get(&m.name).unwrap_or("")))
    }

    /// Whether a series given as `(name, value)` pairs is selected.
    pub fn matches_pairs(&self, labels: &[(String, String)]) -> bool {
        self.matches_by(|name| {
            labels
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        })
    }

    /// Whether a series given as borrowed `(name, value)` pairs is selected.
    pub fn matches_str_pairs(&self, labels: &[(&str, &str)]) -> bool {
        self.matches_by(|name| labels.iter().find(|(n, _)| *n == name).map(|(_, v)| *v))
    }

    /// Whether a modelled series is selected.
    pub fn matches(&self, labels: &Labels) -> bool {
        self.matches_by(|name| labels.get(name))
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, m) in self.matchers.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}{}{:?}", m.name, m.op.as_str(), m.value)?;
        }
        f.write_str("}")
    }
}

impl FromStr for Selector {
    type Err = String;

    /// Parse a selector; the error says what was expected and at which column (from 1).
    fn from_str(text: &str) -> Result<Self, String> {
        Parser { text, at: 0 }.selector()
    }
}

struct Parser<'a> {
    text: &'a str,
    /// Byte offset of the next character.
    at: usize,
}

impl Parser<'_> {
    fn selector(mut self) -> Result<Selector, String> {
        let mut matchers = Vec::new();
        self.skip_space();
        if self.peek().is_some_and(is_name_start) {
            let name = self.name(true);
            matchers.push(Matcher::new("__name__", MatchOp::Equal, &name)?);
            self.skip_space();
        }
        if self.peek() == Some('{') {
            self.bump();
            self.braces(&mut matchers)?;
        }
        self.skip_space();
        if let Some(c) = self.peek() {
            return Err(self.error(&format!("unexpected `{c}`")));
        }
        if matchers.is_empty() {
            return Err(if self.text.trim().is_empty() {
                "empty selector; leave the list of matchers empty to model every series".into()
            } else {
                "`{}` selects every series; leave the list of matchers empty for that".into()
            });
        }
        Ok(Selector { matchers })
    }

    /// Matchers up to and including the closing brace.
    fn braces(&mut self, matchers: &mut Vec<Matcher>) -> Result<(), String> {
        loop {
            self.skip_space();
            match self.peek() {
                Some('}') => {
                    self.bump();
                    return Ok(());
                }
                None => return Err(self.error("expected `}`")),
                _ => {}
            }
            let start = self.at;
            let (name, quoted) = match self.peek() {
                Some(c) if is_name_start(c) => (self.name(false), false),
                Some('"' | '\'') => (self.string()?, true),
                Some(c) => return Err(self.error(&format!("expected a label name, got `{c}`"))),
                None => unreachable!("checked above"),
            };
            self.skip_space();
            let op = match self.peek() {
                Some('=') => {
                    self.bump();
                    if self.peek() == Some('~') {
                        self.bump();
                        Some(MatchOp::Regex)
                    } else {
                        Some(MatchOp::Equal)
                    }
                }
                Some('!') => {
                    self.bump();
                    match self.peek() {
                        Some('=') => {
                            self.bump();
                            Some(MatchOp::NotEqual)
                        }
                        Some('~') => {
                            self.bump();
                            Some(MatchOp::NotRegex)
                        }
                        _ => return Err(self.error("expected `!=` or `!~`")),
                    }
                }
                _ => None,
            };
            let matcher = match op {
                Some(op) => {
                    self.skip_space();
                    let value = match self.peek() {
                        Some('"' | '\'' | '`') => self.string()?,
                        _ => return Err(self.error("expected a quoted string")),
                    };
                    Matcher::new(&name, op, &value)
                        .map_err(|err| format!("at column {}: {err}", start + 1))?
                }
                // A quoted name alone is the metric name (Prometheus 3).
                None if quoted => Matcher::new("__name__", MatchOp::Equal, &name)?,
                None => {
                    return Err(self.error("expected one of `=`, `!=`, `=~`, `!~`"));
                }
            };
            matchers.push(matcher);
            self.skip_space();
            match self.peek() {
                Some(',') => self.bump(),
                Some('}') => {}
                Some(c) => return Err(self.error(&format!("expected `,` or `}}`, got `{c}`"))),
                None => return Err(self.error("expected `}`")),
            }
        }
    }

    /// A metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`) or a label name (no colons).
    fn name(&mut self, metric: bool) -> String {
        let start = self.at;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || c == '_' || (metric && c == ':') {
                self.bump();
            } else {
                break;
            }
        }
        self.text[start..self.at].to_string()
    }

    /// A quoted string, the quote being the next character.
    fn string(&mut self) -> Result<String, String> {
        let start = self.at;
        let quote = self.peek().expect("called on a quote");
        self.bump();
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                self.at = start;
                return Err(self.error("unterminated string"));
            };
            self.bump();
            match c {
                c if c == quote => return Ok(out),
                '\\' if quote != '`' => out.push(self.escape()?),
                '\n' if quote != '`' => {
                    return Err(self.error("newline in a string"));
                }
                c => out.push(c),
            }
        }
    }

    /// The character of an escape, after its backslash.
    fn escape(&mut self) -> Result<char, String> {
        let at = self.at;
        let Some(c) = self.peek() else {
            return Err(self.error("unterminated escape"));
        };
        self.bump();
        let hex = |p: &mut Self, digits: usize| -> Result<char, String> {
            let from = p.at;
            let code = p
                .text
                .get(from..from + digits)
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .and_then(char::from_u32)
                .ok_or_else(|| p.error(&format!("expected {digits} hex digits of a character")))?;
            p.at += digits;
            Ok(code)
        };
        Ok(match c {
            'a' => '\u{7}',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'v' => '\u{b}',
            '\\' | '"' | '\'' => c,
            'x' => hex(self, 2)?,
            'u' => hex(self, 4)?,
            'U' => hex(self, 8)?,
            other => {
                self.at = at;
                return Err(self.error(&format!("unknown escape `\\{other}`")));
            }
        })
    }

    fn peek(&self) -> Option<char> {
        self.text[self.at..].chars().next()
    }

    fn bump(&mut self) {
        if let Some(c) = self.peek() {
            self.at += c.len_utf8();
        }
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    fn error(&self, what: &str) -> String {
        let column = self.text[..self.at].chars().count() + 1;
        format!("at column {column}: {what}")
    }
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':'
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::tests::pairs;

    /// A selector's text and what it should give: its canonical form, or part of its error.
    struct Case {
        name: &'static str,
        text: &'static str,
        want: &'static str,
    }

    #[test]
    fn good_selectors_parse_to_their_matchers() {
        let cases = [
            Case {
                name: "metric name alone",
                text: "node_cpu_seconds_total",
                want: r#"{__name__="node_cpu_seconds_total"}"#,
            },
            Case {
                name: "recording rule name with colons",
                text: "job:http_requests:rate5m",
                want: r#"{__name__="job:http_requests:rate5m"}"#,
            },
            Case {
                name: "all four operators, spaces and a trailing comma",
                text: r#" { job = "node" , __name__=~"node_.*", instance!="x",mode!~'idle|iowait', } "#,
                want: r#"{job="node", __name__=~"node_.*", instance!="x", mode!~"idle|iowait"}"#,
            },
            Case {
                name: "name and braces",
                text: r#"up{job="api"}"#,
                want: r#"{__name__="up", job="api"}"#,
            },
            Case {
                name: "escapes and a raw string",
                text: r#"{a="q\"\\\n\u00e9", b=~`\d+\.\d+`}"#,
                want: r#"{a="q\"\\\né", b=~"\\d+\\.\\d+"}"#,
            },
            Case {
                name: "quoted metric and label names",
                text: r#"{"my.metric", "label.x"="v"}"#,
                want: r#"{__name__="my.metric", label.x="v"}"#,
            },
        ];
        for case in cases {
            let selector: Selector = case
                .text
                .parse()
                .unwrap_or_else(|e| panic!("{}: {e}", case.name));
            assert_eq!(selector.to_string(), case.want, "{}", case.name);
        }
    }

    #[test]
    fn bad_selectors_say_what_and_where() {
        let cases = [
            Case {
                name: "empty",
                text: "  ",
                want: "empty selector",
            },
            Case {
                name: "empty braces",
                text: "{}",
                want: "selects every series",
            },
            Case {
                name: "unclosed braces",
                text: r#"{job="node""#,
                want: "at column 12: expected `}`",
            },
            Case {
                name: "unterminated string",
                text: r#"{job="node}"#,
                want: "at column 6: unterminated string",
            },
            Case {
                name: "missing operator",
                text: r#"{job "node"}"#,
                want: "at column 6: expected one of `=`, `!=`, `=~`, `!~`",
            },
            Case {
                name: "bang without = or ~",
                text: r#"{job!"node"}"#,
                want: "at column 6: expected `!=` or `!~`",
            },
            Case {
                name: "unquoted value",
                text: "{job=node}",
                want: "at column 6: expected a quoted string",
            },
            Case {
                name: "bad regex",
                text: r#"{job=~"(node"}"#,
                want: "at column 2: invalid regular expression `(node`",
            },
            Case {
                name: "bad escape",
                text: r#"{job="a\qb"}"#,
                want: "at column 9: unknown escape `\\q`",
            },
            Case {
                name: "missing comma",
                text: r#"{a="1" b="2"}"#,
                want: "at column 8: expected `,` or `}`, got `b`",
            },
            Case {
                name: "range selector",
                text: "up[5m]",
                want: "at column 3: unexpected `[`",
            },
            Case {
                name: "label name starting with a digit",
                text: r#"{1a="x"}"#,
                want: "at column 2: expected a label name, got `1`",
            },
        ];
        for case in cases {
            let err = case.text.parse::<Selector>().unwrap_err();
            assert!(err.contains(case.want), "{}: {err}", case.name);
        }
    }

    #[test]
    fn matching_is_anchored_and_missing_labels_are_empty() {
        struct Case {
            name: &'static str,
            selector: &'static str,
            labels: &'static [(&'static str, &'static str)],
            want: bool,
        }
        let cpu = &[
            ("__name__", "node_cpu_seconds_total"),
            ("cpu", "0"),
            ("job", "node"),
            ("mode", "idle"),
        ];
        let up = &[("__name__", "up"), ("job", "api")];
        let cases = [
            Case {
                name: "name and label equal",
                selector: r#"node_cpu_seconds_total{job="node"}"#,
                labels: cpu,
                want: true,
            },
            Case {
                name: "regex is anchored: a prefix is not enough",
                selector: r#"{__name__=~"node_cpu"}"#,
                labels: cpu,
                want: false,
            },
            Case {
                name: "regex with wildcard",
                selector: r#"{__name__=~"node_.*"}"#,
                labels: cpu,
                want: true,
            },
            Case {
                name: "negative regex excludes",
                selector: r#"{mode!~"idle|iowait"}"#,
                labels: cpu,
                want: false,
            },
            Case {
                name: "negative regex on a missing label holds",
                selector: r#"{mode!~"idle|iowait"}"#,
                labels: up,
                want: true,
            },
            Case {
                name: "equal empty matches a missing label",
                selector: r#"up{instance=""}"#,
                labels: up,
                want: true,
            },
            Case {
                name: "not equal",
                selector: r#"{job!="api"}"#,
                labels: up,
                want: false,
            },
            Case {
                name: "every matcher must hold",
                selector: r#"{job="node", cpu="1"}"#,
                labels: cpu,
                want: false,
            },
        ];
        for case in cases {
            let selector: Selector = case.selector.parse().unwrap();
            let pairs = pairs(case.labels);
            assert_eq!(selector.matches_pairs(&pairs), case.want, "{}", case.name);
            let labels = Labels::from_pairs(&pairs);
            assert_eq!(
                selector.matches(&labels),
                case.want,
                "{} (Labels)",
                case.name
            );
        }
    }
}
