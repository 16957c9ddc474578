//! The cases of `metric_test.go`: single and multiple float series, a counter.

use super::case::{Case, Expect, HOUR, dual, v2};
use crate::support::compliance::{
    LabelSet, RequestSpec, SampleSpec, job_instance, name_only, sample,
};

/// The float values every metric case is run with (`values` in `metric_test.go`).
pub(crate) fn special_values() -> [(&'static str, f64); 5] {
    [
        ("1.0", 1.0),
        (
            "StaleNaN",
            f64::from_bits(omen_remote_write::STALE_NAN_BITS),
        ),
        ("NaN", f64::from_bits(0x7ff8_0000_0000_0001)), // Prometheus' value.NormalNaN
        ("Inf", f64::INFINITY),
        ("-Inf", f64::NEG_INFINITY),
    ]
}

/// `metric_test.go`.
pub(crate) fn cases(out: &mut Vec<Case>) {
    let up_on = |instance| {
        vec![
            ("__name__", "up"),
            ("job", "testjob"),
            ("instance", instance),
        ]
    };
    let job_on = |instance| vec![("job", "testjob"), ("instance", instance)];
    for (value_name, v) in special_values() {
        let single_cases: [(&str, LabelSet, bool); 7] = [
            ("simple metric", name_only("up"), true),
            ("simple metric with multiple labels", job_instance(), true),
            (
                "simple metric with newlines",
                vec![
                    ("__name__", "up"),
                    ("job", "test\njob\n"),
                    ("instance", "localhost:9090"),
                ],
                true,
            ),
            (
                "simple metric with dots",
                vec![
                    ("__name__", "resource.cpu.usage"),
                    ("job.name", "testjob"),
                    ("instance.name", "localhost:9090"),
                ],
                true,
            ),
            (
                "simple metric with spaces",
                vec![
                    ("__name__", "resource cpu usage"),
                    ("job name", "testjob"),
                    ("instance name", "localhost:9090"),
                ],
                true,
            ),
            (
                "simple metric without name label",
                job_on("localhost:9090"),
                false,
            ),
            ("empty metric", vec![], false),
        ];
        for (name, labels, success) in single_cases {
            let build = v2(RequestSpec::samples(vec![sample(labels, v)]));
            // The library form expects nothing written for a refused series.
            let counts = Expect::counts(i64::from(success), 0, 0);
            let name = format!("TestSingleMetric/{value_name}/{name}");
            dual(out, &name, build, counts, success);
        }
        let instances = [
            "localhost:9090",
            "localhost:9091",
            "localhost:9092",
            "localhost:9093",
        ];
        let all_named = instances.map(|i| sample(up_on(i), v)).to_vec();
        let none_named = instances.map(|i| sample(job_on(i), v)).to_vec();
        let mut one_unnamed = all_named.clone();
        one_unnamed[0] = sample(job_on(instances[0]), v);
        for (name, samples, success, valid) in [
            ("multiple metrics", all_named, true, 4),
            ("multiple metrics, without name label", none_named, false, 0),
            (
                "multiple metrics, 1 without name label",
                one_unnamed,
                false,
                3,
            ),
        ] {
            let name = format!("TestMultipleMetrics/{value_name}/{name}");
            let build = v2(RequestSpec::samples(samples));
            dual(out, &name, build, Expect::counts(valid, 0, 0), success);
        }
    }
    let counter = SampleSpec {
        created_ago_ms: Some(HOUR),
        ..sample(
            vec![("__name__", "http_requests_total"), ("job", "api")],
            100.0,
        )
    };
    let build = v2(RequestSpec::samples(vec![counter]));
    dual(
        out,
        "TestCounterWithCreatedTimestamp/",
        build,
        Expect::counts(1, 0, 0),
        true,
    );
}
