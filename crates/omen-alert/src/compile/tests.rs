use super::*;
use crate::SeriesAlerts;
use crate::testutil::compile;

/// Parse and validate `text`; the error message of whichever step refused it.
fn refusal(text: &str) -> String {
    match toml::from_str::<AlertConfig>(text) {
        Err(err) => err.to_string(),
        Ok(config) => match config.validate() {
            Ok(_) => panic!("accepted:\n{text}"),
            Err(err) => err.to_string(),
        },
    }
}

#[test]
fn bad_configs_are_refused_naming_the_key() {
    struct Case {
        name: &'static str,
        toml: &'static str,
        /// Every one of these must be in the message.
        want: &'static [&'static str],
    }
    let cases = [
        Case {
            name: "unknown rule key",
            toml: "[[rules]]\nname = \"a\"\nsensitivty = 0.4",
            want: &["sensitivty"],
        },
        Case {
            name: "unknown top-level key",
            toml: "[groupings]\ngroup_wait = \"1s\"",
            want: &["groupings"],
        },
        Case {
            name: "rule without a name",
            toml: "[[rules]]\nsensitivity = 0.4",
            want: &["name"],
        },
        Case {
            name: "bad selector, with its index",
            toml: "[[rules]]\nname = \"a\"\nmatch = ['up', '{job=\"x\"']",
            want: &["alert.rules[0].match[1]", "expected `}`"],
        },
        Case {
            name: "template syntax error",
            toml: "[[rules]]\nname = \"a\"\n[[rules]]\nname = \"b\"\nannotations = { summary = \"{{ value \" }",
            want: &["alert.rules[1].annotations.summary", "bad template"],
        },
        Case {
            name: "unknown template variable",
            toml: "[[rules]]\nname = \"a\"\nlabels = { team = \"{{ tema }}\" }",
            want: &["alert.rules[0].labels.team", "unknown variable `tema`"],
        },
        Case {
            name: "negative duration",
            toml: "[[rules]]\nname = \"a\"\nfor = \"-5m\"",
            want: &["for", "negative"],
        },
        Case {
            name: "unparsable duration",
            toml: "[[rules]]\nname = \"a\"\nkeep_firing_for = \"soon\"",
            want: &["keep_firing_for", "not a duration"],
        },
        Case {
            name: "duration as a number",
            toml: "[[rules]]\nname = \"a\"\nfor = 300",
            want: &["for"],
        },
        Case {
            name: "sensitivity 0",
            toml: "[[rules]]\nname = \"a\"\nsensitivity = 0.0",
            want: &["alert.rules[0].sensitivity", "(0, 1)"],
        },
        Case {
            name: "sensitivity 1",
            toml: "[[rules]]\nname = \"a\"\nsensitivity = 1.0",
            want: &["alert.rules[0].sensitivity"],
        },
        Case {
            name: "sensitivity NaN",
            toml: "[[rules]]\nname = \"a\"\nsensitivity = nan",
            want: &["alert.rules[0].sensitivity"],
        },
        Case {
            name: "duplicate rule names",
            toml: "[[rules]]\nname = \"a\"\n[[rules]]\nname = \"b\"\n[[rules]]\nname = \"a\"",
            want: &["alert.rules[2].name", "unique"],
        },
        Case {
            name: "negative min_deviation",
            toml: "[[rules]]\nname = \"a\"\nmin_deviation = -1.0",
            want: &["alert.rules[0].min_deviation"],
        },
        Case {
            name: "hysteresis of a whole score",
            toml: "[[rules]]\nname = \"a\"\nresolve_hysteresis = 1.0",
            want: &["alert.rules[0].resolve_hysteresis"],
        },
        Case {
            name: "severity score out of range",
            toml: "[[rules]]\nname = \"a\"\n[[rules.severity]]\nmin_score = 1.5\nlevel = \"x\"",
            want: &["alert.rules[0].severity[0].min_score"],
        },
        Case {
            name: "templated default severity",
            toml: "[[rules]]\nname = \"a\"\nlabels = { severity = \"{{ rule }}\" }",
            want: &["alert.rules[0].labels.severity", "plain string"],
        },
        Case {
            name: "alertname as a rule label",
            toml: "[[rules]]\nname = \"a\"\nlabels = { alertname = \"b\" }",
            want: &["alert.rules[0].labels.alertname"],
        },
        Case {
            name: "invalid label name",
            toml: "[[rules]]\nname = \"a\"\nlabels = { \"team-x\" = \"b\" }",
            want: &["alert.rules[0].labels.team-x", "label name"],
        },
        Case {
            name: "empty flapping window",
            toml: "[[rules]]\nname = \"a\"\nflapping = { window = \"0s\" }",
            want: &["alert.rules[0].flapping.window"],
        },
        Case {
            name: "no flips allowed",
            toml: "[[rules]]\nname = \"a\"\nflapping = { max_flips = 0 }",
            want: &["alert.rules[0].flapping.max_flips"],
        },
        Case {
            name: "unknown direction",
            toml: "[[rules]]\nname = \"a\"\ndirection = \"sideways\"",
            want: &["sideways"],
        },
        Case {
            name: "maintenance end before start",
            toml: "[[maintenance]]\nstart = \"2026-12-27T08:00:00Z\"\nend = \"2026-12-24T18:00:00Z\"",
            want: &["alert.maintenance[0].end", "not after start"],
        },
        Case {
            name: "maintenance start not RFC 3339",
            toml: "[[maintenance]]\nstart = \"24 Dec 2026\"\nend = \"2026-12-24T18:00:00Z\"",
            want: &["alert.maintenance[0].start", "RFC 3339"],
        },
        Case {
            name: "maintenance with a start and no end",
            toml: "[[maintenance]]\nstart = \"2026-12-24T18:00:00Z\"",
            want: &["alert.maintenance[0].end", "missing"],
        },
        Case {
            name: "unknown weekday",
            toml: "[[maintenance]]\nstart = \"2026-12-24T18:00:00Z\"\nend = \"2026-12-25T18:00:00Z\"\n\
                   [[maintenance]]\ndays = [\"sun\", \"funday\"]\nfrom = \"02:00\"\nto = \"04:00\"",
            want: &["alert.maintenance[1].days[1]", "funday"],
        },
        Case {
            name: "bad time of day",
            toml: "[[maintenance]]\nfrom = \"2am\"\nto = \"04:00\"",
            want: &["alert.maintenance[0].from", "time of day"],
        },
        Case {
            name: "both kinds of maintenance window",
            toml: "[[maintenance]]\nstart = \"2026-12-24T18:00:00Z\"\nend = \"2026-12-25T18:00:00Z\"\nfrom = \"02:00\"\nto = \"04:00\"",
            want: &["alert.maintenance[0]", "not both"],
        },
        Case {
            name: "bad maintenance selector",
            toml: "[[maintenance]]\nmatch = ['{job=~\"(\"}']\nfrom = \"02:00\"\nto = \"04:00\"",
            want: &["alert.maintenance[0].match[0]"],
        },
        Case {
            name: "zero group_interval",
            toml: "[grouping]\ngroup_interval = \"0s\"",
            want: &["alert.grouping.group_interval"],
        },
        Case {
            name: "bad group_by label",
            toml: "[grouping]\ngroup_by = [\"alertname\", \"a-b\"]",
            want: &["alert.grouping.group_by[1]"],
        },
        Case {
            name: "... with other labels",
            toml: "[grouping]\ngroup_by = [\"...\", \"team\"]",
            want: &["alert.grouping.group_by", "..."],
        },
        Case {
            name: "unparsable group_wait",
            toml: "[grouping]\ngroup_wait = \"-1s\"",
            want: &["group_wait", "negative"],
        },
        Case {
            name: "action body template error",
            toml: "[[actions]]\nname = \"x\"\nchannel = \"c\"\nbody = \"{{ alert.labels | nope }}\"",
            want: &["alert.actions[0].body"],
        },
        Case {
            name: "action body with a rule-only context mistake",
            toml: "[[actions]]\nname = \"x\"\nchannel = \"c\"\nbody = \"{{ evnt }}\"",
            want: &["alert.actions[0].body", "unknown variable `evnt`"],
        },
        Case {
            name: "duplicate action names",
            toml: "[[actions]]\nname = \"x\"\nchannel = \"c\"\n[[actions]]\nname = \"x\"\nchannel = \"d\"",
            want: &["alert.actions[1].name"],
        },
        Case {
            name: "action without a channel",
            toml: "[[actions]]\nname = \"x\"",
            want: &["channel"],
        },
        Case {
            name: "action on an unknown event",
            toml: "[[actions]]\nname = \"x\"\nchannel = \"c\"\non = \"pending\"",
            want: &["pending"],
        },
        Case {
            name: "bad action selector",
            toml: "[[actions]]\nname = \"x\"\nchannel = \"c\"\nmatch = ['{severity=critical}']",
            want: &["alert.actions[0].match[0]"],
        },
    ];
    for case in cases {
        let message = refusal(case.toml);
        for want in case.want {
            assert!(
                message.contains(want),
                "{}: `{want}` not in: {message}",
                case.name
            );
        }
    }
}

#[test]
fn good_configs_compile_to_runtime_settings() {
    let rules = compile(
        "[[rules]]\nname = \"a\"\nfor = \"1m\"\nkeep_firing_for = \"0s\"\nlabels = { severity = \"page\" }\n\
         [[rules.severity]]\nmin_score = 0.95\nlevel = \"critical\"\n\
         [[rules.severity]]\nmin_score = 0.8\nlevel = \"major\"\n\
         [[rules]]\nname = \"b\"\n\
         [grouping]\ngroup_by = [\"...\"]\nrepeat_interval = \"1h\"\n\
         [[actions]]\nname = \"p\"\nchannel = \"pager\"\n[[actions]]\nname = \"s\"\nchannel = \"pager\"",
    );
    assert_eq!(rules.rule_names().collect::<Vec<_>>(), ["a", "b"]);
    let a = &rules.rules[0];
    assert_eq!((a.for_ms, a.keep_firing_for_ms), (60_000, 0));
    let levels: Vec<_> = (0..=3)
        .map(|score| a.level_name(a.level_for(f64::from(score) * 0.32)))
        .collect();
    assert_eq!(levels, ["page", "page", "page", "critical"]);
    assert_eq!(a.level_name(a.level_for(0.85)), "major");
    assert_eq!(rules.rules[1].default_level, "warning");
    assert_eq!(
        *rules.grouping(),
        Grouping {
            group_by: None,
            group_wait_ms: 5_000,
            group_interval_ms: 60_000,
            repeat_interval_ms: 3_600_000
        }
    );
    assert_eq!(rules.channels()["pager"], ["p", "s"]);
    let other = compile("");
    assert_ne!(other.id, rules.id, "each compile has its own id");
}

#[test]
fn runtime_types_can_be_shared_across_shard_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<CompiledAlerts>();
    send_sync::<Adjustments>();
    send_sync::<SeriesAlerts>();
    send_sync::<crate::Grouper>();
    let rule_state = std::mem::size_of::<crate::lifecycle::RuleStateSize>();
    assert!(rule_state <= 136, "{rule_state} bytes per (rule, series)");
}
