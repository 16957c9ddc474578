//! `AlertConfig::validate`: the config as written becomes [`CompiledAlerts`], the runtime form
//! (parsed selectors, compiled templates, durations in milliseconds). Every error names its key
//! path (`alert.rules[1].for`, `alert.rules[0].match[2]`, `alert.rules[3].annotations.summary`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use omen_core::{Labels, Selector};

use crate::adjust::Adjustments;
use crate::config::default_severity_level;
use crate::config::{ActionConfig, ActionOn, AlertConfig, Direction, RuleConfig};
use crate::maintenance::MaintenanceWindow;
use crate::selectors::selectors;
use crate::template::{Scope, TemplateId, Templates};
use crate::{Error, Result};

/// Each compiled config gets its own id, so that series states notice a reload.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The validated `[alert]` section: what the lifecycle, the grouper and the actions run on.
/// Cheap to share behind an `Arc`; build a new one to reload (series states re-bind to it by
/// rule name on their next sample, keeping firing alerts).
#[derive(Debug)]
pub struct CompiledAlerts {
    pub(crate) id: u64,
    pub(crate) rules: Vec<CompiledRule>,
    pub(crate) maintenance: Vec<MaintenanceWindow>,
    pub(crate) grouping: Grouping,
    pub(crate) actions: Vec<CompiledAction>,
    pub(crate) templates: Templates,
    pub(crate) adjustments: Arc<Adjustments>,
    pub(crate) external_url: String,
}

/// One rule, ready to run.
#[derive(Debug)]
pub(crate) struct CompiledRule {
    pub(crate) name: Arc<str>,
    pub(crate) selectors: Vec<Selector>,
    pub(crate) sensitivity: f64,
    pub(crate) direction: Direction,
    pub(crate) min_deviation: f64,
    pub(crate) min_relative_deviation: f64,
    pub(crate) for_ms: i64,
    pub(crate) keep_firing_for_ms: i64,
    pub(crate) hysteresis: f64,
    pub(crate) labels: Vec<(String, TemplateId)>,
    pub(crate) annotations: Vec<(String, TemplateId)>,
    /// `(min_score, level)`, ascending by score; level index `i + 1` is `levels[i]`.
    pub(crate) levels: Vec<(f64, String)>,
    /// Level index 0.
    pub(crate) default_level: String,
    pub(crate) flap_window_ms: i64,
    pub(crate) max_flips: u32,
}

impl CompiledRule {
    pub(crate) fn covers(&self, labels: &Labels) -> bool {
        self.selectors.is_empty() || self.selectors.iter().any(|s| s.matches(labels))
    }

    /// The level index reached by `score`.
    pub(crate) fn level_for(&self, score: f64) -> u8 {
        self.levels
            .iter()
            .take_while(|(min, _)| score >= *min)
            .count() as u8
    }

    /// The level's name.
    pub(crate) fn level_name(&self, level: u8) -> &str {
        match level {
            0 => &self.default_level,
            n => self
                .levels
                .get(usize::from(n) - 1)
                .map_or(&self.default_level, |(_, name)| name),
        }
    }
}

/// One action, ready to run.
#[derive(Debug)]
pub(crate) struct CompiledAction {
    pub(crate) name: String,
    pub(crate) selectors: Vec<Selector>,
    pub(crate) channel: String,
    pub(crate) body: Option<TemplateId>,
    pub(crate) on: ActionOn,
}

/// `[alert.grouping]` in milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grouping {
    /// The labels that make a group; `None`: all labels (`group_by = ["..."]`).
    pub group_by: Option<Vec<String>>,
    /// `group_wait` in ms.
    pub group_wait_ms: i64,
    /// `group_interval` in ms.
    pub group_interval_ms: i64,
    /// `repeat_interval` in ms.
    pub repeat_interval_ms: i64,
}

impl AlertConfig {
    /// Check everything and build the runtime form; the error names the first bad key.
    pub fn validate(&self) -> Result<CompiledAlerts> {
        let mut templates = Templates::new();
        let mut names = BTreeSet::new();
        let mut rules = Vec::with_capacity(self.rules.len());
        for (i, rule) in self.rules.iter().enumerate() {
            let key = format!("alert.rules[{i}]");
            if !names.insert(rule.name.as_str()) {
                return Err(Error::config(
                    format!("{key}.name"),
                    format!(
                        "`{}` is used by an earlier rule; names must be unique",
                        rule.name
                    ),
                ));
            }
            rules.push(compile_rule(&key, rule, &mut templates)?);
        }
        let maintenance = self
            .maintenance
            .iter()
            .enumerate()
            .map(|(i, m)| MaintenanceWindow::compile(i, m))
            .collect::<Result<_>>()?;
        let mut action_names = BTreeSet::new();
        let mut actions = Vec::with_capacity(self.actions.len());
        for (i, action) in self.actions.iter().enumerate() {
            let key = format!("alert.actions[{i}]");
            if action.name.trim().is_empty() {
                return Err(Error::config(format!("{key}.name"), "must not be empty"));
            }
            if !action_names.insert(action.name.as_str()) {
                return Err(Error::config(
                    format!("{key}.name"),
                    format!(
                        "`{}` is used by an earlier action; names must be unique",
                        action.name
                    ),
                ));
            }
            actions.push(compile_action(&key, action, &mut templates)?);
        }
        Ok(CompiledAlerts {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            rules,
            maintenance,
            grouping: self.compile_grouping()?,
            actions,
            templates,
            adjustments: Arc::default(),
            external_url: String::new(),
        })
    }

    fn compile_grouping(&self) -> Result<Grouping> {
        let g = &self.grouping;
        let all = g.group_by.iter().any(|l| l == "...");
        if all && g.group_by.len() > 1 {
            return Err(Error::config(
                "alert.grouping.group_by",
                "`...` groups by all labels and cannot be combined with label names",
            ));
        }
        for (i, label) in g.group_by.iter().enumerate() {
            if !all && !is_label_name(label) {
                return Err(Error::config(
                    format!("alert.grouping.group_by[{i}]"),
                    format!("`{label}` is not a label name"),
                ));
            }
        }
        let positive = |key: &str, d: Duration| -> Result<i64> {
            if d.is_zero() {
                return Err(Error::config(
                    format!("alert.grouping.{key}"),
                    "must be more than 0s",
                ));
            }
            Ok(ms(d))
        };
        Ok(Grouping {
            group_by: (!all).then(|| g.group_by.clone()),
            group_wait_ms: ms(g.group_wait),
            group_interval_ms: positive("group_interval", g.group_interval)?,
            repeat_interval_ms: positive("repeat_interval", g.repeat_interval)?,
        })
    }
}

fn compile_rule(key: &str, rule: &RuleConfig, templates: &mut Templates) -> Result<CompiledRule> {
    let at = |k: &str| format!("{key}.{k}");
    if rule.name.trim().is_empty() {
        return Err(Error::config(at("name"), "must not be empty"));
    }
    let selectors = selectors(&at("match"), &rule.matchers)?;
    if !(rule.sensitivity > 0.0 && rule.sensitivity < 1.0) {
        return Err(Error::config(
            at("sensitivity"),
            format!("must be in (0, 1), got {}", rule.sensitivity),
        ));
    }
    for (k, v) in [
        ("min_deviation", rule.min_deviation),
        ("min_relative_deviation", rule.min_relative_deviation),
    ] {
        if !(v >= 0.0 && v.is_finite()) {
            return Err(Error::config(at(k), format!("must be 0 or more, got {v}")));
        }
    }
    if !(rule.resolve_hysteresis >= 0.0 && rule.resolve_hysteresis < 1.0) {
        return Err(Error::config(
            at("resolve_hysteresis"),
            format!("must be in [0, 1), got {}", rule.resolve_hysteresis),
        ));
    }
    let mut default_level = default_severity_level();
    let mut labels = Vec::new();
    for (name, source) in &rule.labels {
        let k = at(&format!("labels.{name}"));
        if !is_label_name(name) || name.starts_with("__") {
            return Err(Error::config(
                k,
                "is not a label name (`[a-zA-Z_][a-zA-Z0-9_]*`, no `__` prefix)",
            ));
        }
        match name.as_str() {
            "alertname" => {
                return Err(Error::config(
                    k,
                    "is set from the rule's name; rename the rule instead",
                ));
            }
            "severity" if source.contains("{{") || source.contains("{%") => {
                return Err(Error::config(
                    k,
                    "is the default severity level and must be a plain string; use [[alert.rules.severity]] for levels by score",
                ));
            }
            "severity" => default_level = source.clone(),
            _ => labels.push((name.clone(), templates.add(&k, source, Scope::Rule)?)),
        }
    }
    let mut annotations = Vec::new();
    for (name, source) in &rule.annotations {
        let k = at(&format!("annotations.{name}"));
        annotations.push((name.clone(), templates.add(&k, source, Scope::Rule)?));
    }
    let mut levels = Vec::new();
    for (i, level) in rule.severity.iter().enumerate() {
        let k = |f: &str| at(&format!("severity[{i}].{f}"));
        if !(0.0..=1.0).contains(&level.min_score) {
            return Err(Error::config(
                k("min_score"),
                format!("must be in [0, 1], got {}", level.min_score),
            ));
        }
        if level.level.trim().is_empty() {
            return Err(Error::config(k("level"), "must not be empty"));
        }
        if levels.iter().any(|(min, _)| *min == level.min_score) {
            return Err(Error::config(
                k("min_score"),
                format!("{} is used by another level", level.min_score),
            ));
        }
        levels.push((level.min_score, level.level.clone()));
    }
    levels.sort_by(|a, b| a.0.total_cmp(&b.0));
    if levels.len() > 200 {
        return Err(Error::config(at("severity"), "at most 200 levels"));
    }
    if rule.flapping.window.is_zero() {
        return Err(Error::config(at("flapping.window"), "must be more than 0s"));
    }
    if rule.flapping.max_flips == 0 {
        return Err(Error::config(
            at("flapping.max_flips"),
            "must be at least 1",
        ));
    }
    Ok(CompiledRule {
        name: rule.name.as_str().into(),
        selectors,
        sensitivity: rule.sensitivity,
        direction: rule.direction,
        min_deviation: rule.min_deviation,
        min_relative_deviation: rule.min_relative_deviation,
        for_ms: ms(rule.for_duration),
        keep_firing_for_ms: ms(rule.keep_firing_for),
        hysteresis: rule.resolve_hysteresis,
        labels,
        annotations,
        levels,
        default_level,
        flap_window_ms: ms(rule.flapping.window),
        max_flips: rule.flapping.max_flips,
    })
}

fn compile_action(
    key: &str,
    action: &ActionConfig,
    templates: &mut Templates,
) -> Result<CompiledAction> {
    if action.channel.trim().is_empty() {
        return Err(Error::config(
            format!("{key}.channel"),
            "must name a notify channel",
        ));
    }
    let body = match &action.body {
        Some(source) => Some(templates.add(&format!("{key}.body"), source, Scope::Body)?),
        None => None,
    };
    Ok(CompiledAction {
        name: action.name.clone(),
        selectors: selectors(&format!("{key}.match"), &action.matchers)?,
        channel: action.channel.clone(),
        body,
        on: action.on,
    })
}

/// Milliseconds of a validated duration (at most `i64::MAX`, checked when parsed).
fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// A Prometheus label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub(crate) fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl CompiledAlerts {
    /// Share an adjustments registry (keep the same one across reloads, or one restored from
    /// storage).
    pub fn with_adjustments(mut self, adjustments: Arc<Adjustments>) -> Self {
        self.adjustments = adjustments;
        self
    }

    /// The base of the URLs in explanations (`http://omen:9310`); default: relative URLs.
    pub fn with_external_url(mut self, base: &str) -> Self {
        self.external_url = base.trim_end_matches('/').to_string();
        self
    }

    /// The adjustments registry in use.
    pub fn adjustments(&self) -> &Arc<Adjustments> {
        &self.adjustments
    }

    /// The external URL given to [`with_external_url`](Self::with_external_url).
    pub fn external_url(&self) -> &str {
        &self.external_url
    }

    /// The grouping of the direct webhook.
    pub fn grouping(&self) -> &Grouping {
        &self.grouping
    }

    /// The rule names, in config order.
    pub fn rule_names(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|r| &*r.name)
    }

    /// The notify channels the actions name, so that the caller can check they exist.
    pub fn channels(&self) -> BTreeMap<&str, Vec<&str>> {
        let mut out: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for action in &self.actions {
            out.entry(action.channel.as_str())
                .or_default()
                .push(action.name.as_str());
        }
        out
    }

    /// Whether a maintenance window covers an alert of `rule` on a series (`get` looks up the
    /// series' labels) at `ms`.
    pub fn in_maintenance<'a>(
        &self,
        rule: &'a str,
        get: impl Fn(&str) -> Option<&'a str>,
        ms: i64,
    ) -> bool {
        let lookup = |name: &str| {
            if name == "alertname" {
                Some(rule)
            } else {
                get(name)
            }
        };
        self.maintenance.iter().any(|w| w.covers(lookup, ms))
    }
}

#[cfg(test)]
mod tests;
