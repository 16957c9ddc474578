//! The cases of `exemplar_test.go`: exemplars, their timestamps and special values, validation.

use super::case::{Case, Expect, HOUR, Level, MINUTE, dual, single, v2};
use super::metric_cases::special_values;
use crate::support::compliance::{
    ExemplarSpec, LabelSet, RequestSpec, SampleSpec, exemplar, name_only, sample, trace,
};

/// Samples with one exemplar each on the same series.
pub(crate) fn with_exemplars(
    samples: Vec<SampleSpec>,
    exemplars: Vec<ExemplarSpec>,
) -> RequestSpec {
    RequestSpec {
        samples,
        exemplars,
        ..RequestSpec::default()
    }
}

/// `exemplar_test.go`.
pub(crate) fn cases(out: &mut Vec<Case>) {
    let cases: [(&str, LabelSet, LabelSet, f64); 7] = [
        (
            "basic_exemplar",
            vec![("__name__", "http_requests_total"), ("job", "api")],
            trace("abc123def456"),
            1.0,
        ),
        (
            "exemplar_with_span_id",
            vec![("__name__", "request_duration_seconds"), ("method", "GET")],
            vec![("trace_id", "xyz789"), ("span_id", "span123")],
            0.125,
        ),
        (
            "exemplar_without_trace_id",
            vec![("__name__", "cpu_usage"), ("instance", "host1")],
            vec![("user_id", "user123")],
            0.85,
        ),
        (
            "exemplar_with_multiple_labels",
            vec![("__name__", "request_latency"), ("service", "auth")],
            vec![
                ("trace_id", "trace456"),
                ("user", "admin"),
                ("endpoint", "/login"),
            ],
            0.05,
        ),
        (
            "exemplar_no_labels",
            name_only("simple_counter"),
            vec![],
            1.0,
        ),
        (
            "exemplar_with_special_chars",
            name_only("test_metric"),
            trace("trace-with-dashes_and_underscores.123"),
            42.0,
        ),
        (
            "exemplar_with_unicode",
            vec![("__name__", "unicode_test"), ("region", "🌍")],
            trace("unicode_trace_测试"),
            100.0,
        ),
    ];
    let one_each = Expect::counts(1, 0, 1);
    for (name, labels, exemplar_labels, value) in cases {
        let build = v2(with_exemplars(
            vec![sample(labels.clone(), value)],
            vec![exemplar(labels, exemplar_labels, value)],
        ));
        dual(out, &format!("TestExemplars/{name}"), build, one_each, true);
    }
    let requests = vec![("__name__", "http_requests_total"), ("job", "api")];
    let build = v2(with_exemplars(
        vec![SampleSpec {
            created_ago_ms: Some(2 * HOUR),
            ..sample(requests.clone(), 250.0)
        }],
        vec![exemplar(
            requests,
            vec![("trace_id", "abc123"), ("span_id", "span456")],
            250.0,
        )],
    ));
    dual(
        out,
        "TestExemplarWithCreatedTimestamp/",
        build,
        one_each,
        true,
    );
    let series: [(LabelSet, LabelSet, f64); 3] = [
        (
            vec![("__name__", "request_duration"), ("method", "GET")],
            vec![("trace_id", "trace1"), ("span_id", "span1")],
            0.1,
        ),
        (
            vec![("__name__", "request_duration"), ("method", "POST")],
            vec![("trace_id", "trace2"), ("span_id", "span2")],
            0.25,
        ),
        (
            vec![("__name__", "error_count"), ("service", "payment")],
            vec![("trace_id", "trace3"), ("user", "test_user")],
            1.0,
        ),
    ];
    let build = v2(with_exemplars(
        series
            .iter()
            .map(|(l, _, v)| sample(l.clone(), *v))
            .collect(),
        series
            .iter()
            .map(|(l, e, v)| exemplar(l.clone(), e.clone(), *v))
            .collect(),
    ));
    let three_each = Expect::counts(3, 0, 3);
    dual(out, "TestMultipleExemplars/", build, three_each, true);
    let latency = name_only("latency_hist");
    let points = [
        (0.05, -HOUR, "old_trace"),
        (0.15, -MINUTE, "recent_trace"),
        (0.08, 0, "current_trace"),
    ];
    let build = v2(with_exemplars(
        points
            .iter()
            .map(|&(value, offset_ms, _)| SampleSpec {
                offset_ms,
                ..sample(latency.clone(), value)
            })
            .collect(),
        points
            .iter()
            .map(|&(value, offset_ms, id)| ExemplarSpec {
                offset_ms,
                ..exemplar(latency.clone(), trace(id), value)
            })
            .collect(),
    ));
    dual(out, "TestExemplarTimestamps/", build, three_each, true);
    for (name, labels, success) in [
        ("exemplar_without_name_label", vec![("job", "test")], false),
        ("exemplar_with_empty_name", vec![("__name__", "")], false),
        ("exemplar_with_valid_name", name_only("valid_metric"), true),
    ] {
        let build = v2(with_exemplars(
            vec![sample(labels.clone(), 1.0)],
            vec![exemplar(labels, trace("test_trace"), 1.0)],
        ));
        let expect = Expect {
            success,
            ..one_each
        };
        let name = format!("TestExemplarValidation/{name}");
        single(out, &name, Level::Should, build, expect);
    }
    for (name, value) in [
        ("zero_value", 0.0),
        ("negative_value", -123.456),
        ("large_value", 1e10),
        ("small_value", 1e-10),
        ("nan_value", special_values()[2].1),
        ("inf_value", f64::INFINITY),
        ("-inf_value", f64::NEG_INFINITY),
    ] {
        let build = v2(with_exemplars(
            vec![sample(name_only("test_metric"), value)],
            vec![exemplar(
                name_only("test_metric"),
                trace("special_value_trace"),
                value,
            )],
        ));
        let name = format!("TestExemplarSpecialValues/{name}");
        dual(out, &name, build, one_each, true);
    }
}
