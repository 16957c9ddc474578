//! The cases of `combined_test.go`: every kind of data in one request, edge cases, many series.

use super::case::{Case, Expect, HOUR, Level, MINUTE, dual, single, v2};
use super::exemplar_cases::with_exemplars;
use super::histogram_cases::{histogram_family, histograms_only};
use crate::support::compliance::{
    Buckets, ExemplarSpec, RequestSpec, SampleSpec, exemplar, hist, histogram, meta,
    metric_type as mt, name_only, sample, trace,
};

/// `combined_test.go`.
pub(crate) fn cases(out: &mut Vec<Case>) {
    let all = Buckets {
        positive: true,
        negative: true,
        zero: true,
        ..Buckets::default()
    };
    let pos_zero = Buckets {
        negative: false,
        ..all
    };
    let post = vec![
        ("__name__", "http_requests_total"),
        ("job", "api"),
        ("method", "POST"),
    ];
    let build = v2(RequestSpec {
        metadata: vec![meta(
            post.clone(),
            mt::COUNTER,
            "Total number of HTTP requests",
            "requests",
        )],
        exemplars: vec![exemplar(
            post.clone(),
            vec![("trace_id", "request_trace_123"), ("user_id", "user789")],
            1.0,
        )],
        ..RequestSpec::samples(vec![sample(post, 1.0)])
    });
    let name = "TestSamplesWithMetadataAndExemplars/";
    dual(out, name, build, Expect::counts(1, 0, 1), true);
    let auth = vec![
        ("__name__", "request_duration_seconds"),
        ("service", "auth"),
    ];
    let build = histogram_family(
        auth,
        histogram(0.456, all),
        ("HTTP request duration distribution", "seconds"),
        vec![("trace_id", "slow_request_trace"), ("endpoint", "/login")],
    );
    let name = "TestHistogramsWithMetadataAndExemplars/";
    dual(out, name, build, Expect::counts(0, 1, 1), true);
    let cpu = vec![("__name__", "cpu_usage"), ("instance", "server1")];
    let build = v2(RequestSpec {
        metadata: vec![
            meta(
                name_only("cpu_usage"),
                mt::GAUGE,
                "CPU usage ratio",
                "ratio",
            ),
            meta(
                name_only("memory_usage"),
                mt::GAUGE,
                "Memory usage in bytes",
                "bytes",
            ),
        ],
        exemplars: vec![exemplar(
            cpu.clone(),
            vec![("trace_id", "high_cpu_trace"), ("process", "worker")],
            0.85,
        )],
        ..RequestSpec::samples(vec![
            sample(cpu, 0.85),
            sample(
                vec![("__name__", "memory_usage"), ("instance", "server1")],
                8589934592.0,
            ),
        ])
    });
    dual(
        out,
        "TestComplexSamplesRequest/",
        build,
        Expect::counts(2, 0, 1),
        true,
    );
    let users = vec![
        ("__name__", "response_time_hist"),
        ("endpoint", "/api/v1/users"),
    ];
    let build = v2(RequestSpec {
        metadata: vec![
            meta(
                name_only("response_time_hist"),
                mt::HISTOGRAM,
                "Response time distribution",
                "seconds",
            ),
            meta(
                name_only("request_size_hist"),
                mt::HISTOGRAM,
                "Request size distribution",
                "bytes",
            ),
        ],
        exemplars: vec![exemplar(
            users.clone(),
            vec![("trace_id", "fast_response"), ("user", "premium")],
            0.125,
        )],
        ..histograms_only(vec![
            hist(users, histogram(0.125, pos_zero)),
            hist(
                vec![("__name__", "request_size_hist"), ("method", "POST")],
                histogram(
                    1024.0,
                    Buckets {
                        positive: false,
                        ..all
                    },
                ),
            ),
        ])
    });
    let name = "TestComplexHistogramsRequest/";
    dual(out, name, build, Expect::counts(0, 2, 1), true);
    let ok = vec![("__name__", "http_requests_total"), ("status", "200")];
    let build = v2(RequestSpec {
        metadata: vec![
            meta(
                name_only("http_requests_total"),
                mt::COUNTER,
                "Total HTTP requests",
                "requests",
            ),
            meta(
                name_only("temperature_celsius"),
                mt::GAUGE,
                "Temperature in Celsius",
                "celsius",
            ),
        ],
        exemplars: vec![exemplar(ok.clone(), trace("successful_request"), 1000.0)],
        ..RequestSpec::samples(vec![
            sample(ok, 1000.0),
            sample(
                vec![
                    ("__name__", "temperature_celsius"),
                    ("location", "datacenter1"),
                ],
                23.5,
            ),
        ])
    });
    let name = "TestMultipleMetricFamiliesSamples/";
    dual(out, name, build, Expect::counts(2, 0, 1), true);
    let handler = vec![
        ("__name__", "request_duration_seconds"),
        ("handler", "/metrics"),
    ];
    let build = histogram_family(
        handler,
        histogram(0.003, pos_zero),
        ("Request duration in seconds", "seconds"),
        vec![("trace_id", "metrics_scrape"), ("scraper", "prometheus")],
    );
    let name = "TestMultipleMetricFamiliesHistograms/";
    dual(out, name, build, Expect::counts(0, 1, 1), true);
    edge_cases(out);
    many_cases(out);
    let special = vec![
        ("__name__", "test_metric"),
        ("job", "test-job_with.special@chars"),
        ("instance", "localhost:9090"),
        ("environment", "test🚀"),
    ];
    let build = v2(RequestSpec {
        metadata: vec![meta(
            name_only("test_metric"),
            mt::GAUGE,
            "Test metric with special characters: äöü, newlines\nand \"quotes\"",
            "special/units",
        )],
        exemplars: vec![exemplar(
            special.clone(),
            vec![
                ("trace_id", "special_trace_äöü-123"),
                ("span_id", "span_with.dots-and_underscores"),
            ],
            42.0,
        )],
        ..RequestSpec::samples(vec![sample(special, 42.0)])
    });
    let name = "TestSpecialCharactersCombined/";
    dual(out, name, build, Expect::counts(1, 0, 1), true);
    let custom = vec![("__name__", "custom_latency_hist"), ("version", "v2")];
    let custom_buckets = Buckets {
        custom: true,
        ..Buckets::default()
    };
    let build = v2(RequestSpec {
        exemplars: vec![exemplar(
            custom.clone(),
            vec![("trace_id", "custom_bucket_trace"), ("bucket", "0.1")],
            0.05,
        )],
        ..histograms_only(vec![hist(custom, histogram(0.05, custom_buckets))])
    });
    let name = "TestCustomBucketsHistogramWithExemplar/";
    dual(out, name, build, Expect::counts(0, 1, 1), true);
}

/// `TestEdgeCaseCombinations` of `combined_test.go`.
fn edge_cases(out: &mut Vec<Case>) {
    let build = v2(RequestSpec {
        metadata: vec![meta(
            name_only("orphan_metric"),
            mt::COUNTER,
            "Orphaned metric metadata",
            "count",
        )],
        unchecked: true,
        ..RequestSpec::default()
    });
    let name = "TestEdgeCaseCombinations/metadata_without_data";
    single(
        out,
        name,
        Level::Should,
        build,
        Expect::default().succeeds(),
    );
    let build = v2(RequestSpec {
        exemplars: vec![exemplar(
            name_only("orphan_metric"),
            trace("orphan_trace"),
            42.0,
        )],
        unchecked: true,
        ..RequestSpec::default()
    });
    let name = "TestEdgeCaseCombinations/exemplars_without_data";
    single(
        out,
        name,
        Level::Should,
        build,
        Expect::counts(0, 0, 1).succeeds(),
    );
    let build = v2(with_exemplars(
        vec![
            SampleSpec {
                offset_ms: -HOUR,
                ..sample(name_only("old_metric"), 1.0)
            },
            sample(name_only("new_metric"), 2.0),
        ],
        vec![ExemplarSpec {
            offset_ms: -30 * MINUTE,
            ..exemplar(name_only("old_metric"), trace("old_trace"), 1.0)
        }],
    ));
    let name = "TestEdgeCaseCombinations/mixed_timestamp_data";
    single(
        out,
        name,
        Level::Should,
        build,
        Expect::counts(2, 0, 1).succeeds(),
    );
}

/// `TestManySamples` and `TestManyHistograms` of `combined_test.go`: 50 series each with
/// metadata and an exemplar.
fn many_cases(out: &mut Vec<Case>) {
    // The label values must live as long as the cases: leak the 200 small strings.
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let mut counters = RequestSpec::default();
    let mut histograms = RequestSpec::default();
    for i in 0..50 {
        let name = leak(format!("counter_metric_{i}"));
        let labels = vec![("__name__", name), ("series", leak(format!("series_{i}")))];
        let value = f64::from(i * 100);
        counters.samples.push(sample(labels.clone(), value));
        let help = leak(format!("Counter metric number {i}"));
        let metadata = meta(name_only(name), mt::COUNTER, help, "count");
        counters.metadata.push(metadata);
        let trace_id = leak(format!("trace_{i}"));
        counters
            .exemplars
            .push(exemplar(labels, trace(trace_id), value));

        let name = leak(format!("histogram_metric_{i}"));
        let labels = vec![("__name__", name), ("bucket", leak(format!("bucket_{i}")))];
        let value = f64::from(i) / 10.0;
        let buckets = Buckets {
            positive: true,
            negative: i % 2 == 0,
            zero: true,
            ..Buckets::default()
        };
        histograms
            .histograms
            .push(hist(labels.clone(), histogram(value, buckets)));
        let help = leak(format!("Histogram metric number {i}"));
        let metadata = meta(name_only(name), mt::HISTOGRAM, help, "seconds");
        histograms.metadata.push(metadata);
        histograms
            .exemplars
            .push(exemplar(labels, trace(trace_id), value));
    }
    dual(
        out,
        "TestManySamples/",
        v2(counters),
        Expect::counts(50, 0, 50),
        true,
    );
    let build = v2(histograms);
    dual(
        out,
        "TestManyHistograms/",
        build,
        Expect::counts(0, 50, 50),
        true,
    );
}
