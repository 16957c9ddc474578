//! Label, annotation and action-body templates (Jinja syntax, by minijinja).
//!
//! Templates are compiled when the config is validated, in one environment with strict
//! undefined behaviour (printing or testing an undefined value is an error) and no
//! auto-escaping. Validation refuses a syntax error, a variable that is not in the context
//! (checked statically, so it is found in every branch), and a template that fails to render
//! against a sample context. At run time a render error gives the text
//! `<template error: …>`, so that an alert is still sent and the mistake is visible.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use minijinja::value::{Enumerator, Object, Value};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};

use crate::{Error, Result};

/// The variables of a rule's label and annotation templates.
pub(crate) const RULE_VARS: &[&str] = &[
    "labels",
    "value",
    "expected",
    "lower",
    "upper",
    "score",
    "threshold",
    "peak_score",
    "deviation",
    "relative_deviation",
    "rule",
    "severity",
    "season_period",
    "change_point",
    "timestamp",
];

/// The variables an action's body has beyond [`RULE_VARS`].
pub(crate) const BODY_VARS: &[&str] = &[
    "annotations",
    "alert",
    "event",
    "state",
    "id",
    "fingerprint",
    "starts_at",
    "ends_at",
    "flapping",
];

/// Which context a template is rendered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// A rule's label or annotation.
    Rule,
    /// An action's body.
    Body,
}

/// A compiled template's handle (its name in the environment is its key path).
#[derive(Debug, Clone)]
pub(crate) struct TemplateId(Arc<str>);

/// Every template of one compiled config.
pub(crate) struct Templates {
    env: Environment<'static>,
}

impl fmt::Debug for Templates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Templates").finish_non_exhaustive()
    }
}

impl Templates {
    pub(crate) fn new() -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        Self { env }
    }

    /// Compile `source` as the template at `key` and check it against `scope`'s context.
    pub(crate) fn add(&mut self, key: &str, source: &str, scope: Scope) -> Result<TemplateId> {
        self.env
            .add_template_owned(key.to_string(), source.to_string())
            .map_err(|err| Error::config(key, format!("bad template: {}", describe(&err))))?;
        let template = self
            .env
            .get_template(key)
            .map_err(|err| Error::config(key, describe(&err)))?;
        let globals: Vec<&str> = self.env.globals().map(|(name, _)| name).collect();
        let known = |name: &str| {
            RULE_VARS.contains(&name)
                || (scope == Scope::Body && BODY_VARS.contains(&name))
                || globals.contains(&name)
        };
        let mut unknown: Vec<String> = template
            .undeclared_variables(false)
            .into_iter()
            .filter(|name| !known(name))
            .collect();
        if !unknown.is_empty() {
            unknown.sort();
            let known: Vec<&str> = match scope {
                Scope::Rule => RULE_VARS.to_vec(),
                Scope::Body => RULE_VARS.iter().chain(BODY_VARS).copied().collect(),
            };
            return Err(Error::config(
                key,
                format!(
                    "unknown variable `{}` in template; known: {}",
                    unknown.join("`, `"),
                    known.join(", ")
                ),
            ));
        }
        template
            .render(sample_context(scope))
            .map_err(|err| Error::config(key, format!("template fails: {}", describe(&err))))?;
        Ok(TemplateId(key.into()))
    }

    /// Render a template; a failure gives `<template error: …>`.
    pub(crate) fn render(&self, id: &TemplateId, context: &Value) -> String {
        match self.env.get_template(&id.0).and_then(|t| t.render(context)) {
            Ok(text) => text,
            Err(err) => format!("<template error: {}>", describe(&err)),
        }
    }
}

/// A minijinja error with its causes.
fn describe(err: &minijinja::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The values a rule template sees (see the README for their meaning).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Vars<'a> {
    pub(crate) labels: &'a BTreeMap<String, String>,
    pub(crate) value: f64,
    pub(crate) expected: f64,
    pub(crate) lower: f64,
    pub(crate) upper: f64,
    pub(crate) score: f64,
    pub(crate) threshold: f64,
    pub(crate) peak_score: f64,
    pub(crate) deviation: f64,
    pub(crate) relative_deviation: f64,
    pub(crate) rule: &'a str,
    pub(crate) severity: &'a str,
    pub(crate) season_period_ms: Option<i64>,
    pub(crate) change_point_ms: Option<i64>,
    pub(crate) timestamp_ms: i64,
}

/// A number, or `none` (printed `None`) when it is not finite.
fn number(x: f64) -> Value {
    if x.is_finite() {
        Value::from(x)
    } else {
        Value::from(())
    }
}

impl Vars<'_> {
    /// The context as a map, to which a body adds its own variables.
    pub(crate) fn map(&self) -> BTreeMap<String, Value> {
        let mut m = BTreeMap::new();
        let mut put = |k: &str, v: Value| {
            m.insert(k.to_string(), v);
        };
        put("labels", Value::from(self.labels.clone()));
        put("value", number(self.value));
        put("expected", number(self.expected));
        put("lower", number(self.lower));
        put("upper", number(self.upper));
        put("score", number(self.score));
        put("threshold", number(self.threshold));
        put("peak_score", number(self.peak_score));
        put("deviation", number(self.deviation));
        put("relative_deviation", number(self.relative_deviation));
        put("rule", Value::from(self.rule));
        put("severity", Value::from(self.severity));
        put(
            "season_period",
            self.season_period_ms
                .map_or(Value::from(()), |ms| Value::from(human_ms(ms))),
        );
        put(
            "change_point",
            self.change_point_ms.map_or(Value::from(()), |ms| {
                Value::from(crate::time::rfc3339_go(ms))
            }),
        );
        put(
            "timestamp",
            Value::from(crate::time::rfc3339_go(self.timestamp_ms)),
        );
        m
    }
}

/// `86400000` as `1day`.
pub(crate) fn human_ms(ms: i64) -> String {
    humantime::format_duration(std::time::Duration::from_millis(ms.max(0) as u64)).to_string()
}

/// Labels that answer every name with a placeholder, for validation (the real series' labels
/// are not known then).
#[derive(Debug)]
struct AnyLabels;

impl Object for AnyLabels {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(Value::from(format!("<{key}>")))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Empty
    }
}

/// A context with every variable set to a plausible value.
fn sample_context(scope: Scope) -> Value {
    let empty = BTreeMap::new();
    let vars = Vars {
        labels: &empty,
        value: 42.0,
        expected: 40.0,
        lower: 35.0,
        upper: 45.0,
        score: 0.9,
        threshold: 0.5,
        peak_score: 0.95,
        deviation: 2.0,
        relative_deviation: 0.05,
        rule: "SampleRule",
        severity: "warning",
        season_period_ms: Some(86_400_000),
        change_point_ms: Some(0),
        timestamp_ms: 0,
    };
    let mut m = vars.map();
    m.insert("labels".into(), Value::from_object(AnyLabels));
    if scope == Scope::Body {
        m.insert("annotations".into(), Value::from_object(AnyLabels));
        m.insert("alert".into(), Value::from_object(AnyLabels));
        m.insert("event".into(), Value::from("firing"));
        m.insert("state".into(), Value::from("firing"));
        m.insert("id".into(), Value::from("0123456789abcdef-0"));
        m.insert("fingerprint".into(), Value::from("0123456789abcdef"));
        m.insert("starts_at".into(), Value::from("1970-01-01T00:00:00Z"));
        m.insert("ends_at".into(), Value::from(()));
        m.insert("flapping".into(), Value::from(false));
    }
    Value::from(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_templates_compile_and_render() {
        let labels: BTreeMap<String, String> = [("instance", "a:1"), ("job", "api")]
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        let vars = Vars {
            labels: &labels,
            value: 12.5,
            expected: f64::NAN,
            lower: 1.0,
            upper: 2.0,
            score: 0.97,
            threshold: 0.5,
            peak_score: 0.99,
            deviation: 10.5,
            relative_deviation: 5.25,
            rule: "R",
            severity: "critical",
            season_period_ms: Some(86_400_000),
            change_point_ms: None,
            timestamp_ms: 1_000,
        };
        let context = Value::from(vars.map());
        struct Case {
            source: &'static str,
            want: &'static str,
        }
        let cases = [
            Case {
                source: "{{ labels.instance }} is {{ value }}",
                want: "a:1 is 12.5",
            },
            Case {
                source: "{{ score | round(1) }}/{{ severity | upper }}/{{ rule }}",
                want: "1.0/CRITICAL/R",
            },
            Case {
                source: "{{ expected }} {{ change_point }} {{ season_period }}",
                want: "None None 1day",
            },
            Case {
                source: "{{ expected | default('unknown', true) }}",
                want: "unknown",
            },
            Case {
                source: "{{ labels.team | default('nobody') }}",
                want: "nobody",
            },
            Case {
                source: "{% if labels.team is defined %}x{% else %}y{% endif %}",
                want: "y",
            },
            Case {
                source: "{% for k, v in labels | items %}{{ k }}={{ v }};{% endfor %}",
                want: "instance=a:1;job=api;",
            },
            Case {
                source: "{{ timestamp }} <b>&</b>",
                want: "1970-01-01T00:00:01Z <b>&</b>",
            },
            Case {
                source: "{{ labels.team }}",
                want: "<template error: ",
            },
        ];
        let mut templates = Templates::new();
        for (i, case) in cases.iter().enumerate() {
            let id = templates
                .add(&format!("t{i}.html"), case.source, Scope::Rule)
                .unwrap_or_else(|e| panic!("{}: {e}", case.source));
            let got = templates.render(&id, &context);
            assert!(got.starts_with(case.want), "{}: {got}", case.source);
        }
    }

    #[test]
    fn bad_templates_are_refused_with_their_key() {
        struct Case {
            source: &'static str,
            scope: Scope,
            want: &'static str,
        }
        let cases = [
            Case {
                source: "{{ value",
                scope: Scope::Rule,
                want: "bad template",
            },
            Case {
                source: "{{ vlaue }}",
                scope: Scope::Rule,
                want: "unknown variable `vlaue`",
            },
            Case {
                source: "{% if score > 2 %}{{ nope }}{% endif %}",
                scope: Scope::Rule,
                want: "unknown variable `nope`",
            },
            Case {
                source: "{{ event }}",
                scope: Scope::Rule,
                want: "unknown variable `event`",
            },
            Case {
                source: "{{ value | no_such_filter }}",
                scope: Scope::Rule,
                want: "template fails",
            },
            Case {
                source: "{{ labels.job.missing }}",
                scope: Scope::Rule,
                want: "template fails",
            },
        ];
        for case in cases {
            let mut templates = Templates::new();
            let err = templates
                .add(
                    "alert.rules[3].annotations.summary",
                    case.source,
                    case.scope,
                )
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with("alert.rules[3].annotations.summary: ") && err.contains(case.want),
                "{}: {err}",
                case.source
            );
        }
        let mut templates = Templates::new();
        templates
            .add(
                "body",
                "{{ event }} {{ alert | tojson }} {{ annotations.summary }}",
                Scope::Body,
            )
            .unwrap();
    }
}
