//! The cases of `metadata_test.go`: metadata of each metric type, with samples, validation.

use super::case::{Case, Expect, HOUR, Level, dual, single, v2};
use super::histogram_cases::histograms_only;
use crate::support::compliance::{
    Buckets, LabelSet, RequestSpec, SampleSpec, hist, histogram, meta, metric_type as mt,
    name_only, sample,
};

/// `metadata_test.go`.
pub(crate) fn cases(out: &mut Vec<Case>) {
    let cases: [(&str, LabelSet, i32, &'static str, &'static str); 10] = [
        (
            "counter_metadata",
            name_only("http_requests_total"),
            mt::COUNTER,
            "Total number of HTTP requests",
            "requests",
        ),
        (
            "gauge_metadata",
            name_only("cpu_usage_percent"),
            mt::GAUGE,
            "Current CPU usage percentage",
            "percent",
        ),
        (
            "histogram_metadata",
            name_only("request_duration_seconds"),
            mt::HISTOGRAM,
            "Request duration in seconds",
            "seconds",
        ),
        (
            "metadata_no_help_no_unit",
            name_only("simple_counter"),
            mt::COUNTER,
            "",
            "",
        ),
        (
            "metadata_with_special_chars",
            vec![("__name__", "test_metric"), ("job", "test")],
            mt::GAUGE,
            "Test metric with\nnewlines and \"quotes\"",
            "bytes/sec",
        ),
        (
            "unspecified_metadata_type",
            name_only("unknown_metric"),
            mt::UNSPECIFIED,
            "Unknown metric type",
            "",
        ),
        (
            "info_metadata_type",
            name_only("build_info"),
            mt::INFO,
            "Build information",
            "",
        ),
        (
            "stateset_metadata_type",
            name_only("node_state"),
            mt::STATESET,
            "Node state information",
            "",
        ),
        (
            "summary_metadata_type",
            name_only("request_latency_summary"),
            mt::SUMMARY,
            "Request latency summary",
            "seconds",
        ),
        (
            "gauge_histogram_metadata_type",
            name_only("temperature_histogram"),
            mt::GAUGE_HISTOGRAM,
            "Temperature distribution gauge histogram",
            "celsius",
        ),
    ];
    let all = Buckets {
        positive: true,
        negative: true,
        zero: true,
        ..Buckets::default()
    };
    for (name, labels, kind, help, unit) in cases {
        let metadata = vec![meta(labels.clone(), kind, help, unit)];
        // A histogram for histogram metadata, else a sample.
        let (spec, counts) = if kind == mt::HISTOGRAM {
            let h = hist(labels, histogram(1.0, all));
            (histograms_only(vec![h]), Expect::counts(0, 1, 0))
        } else {
            let s = sample(labels, 1.0);
            (RequestSpec::samples(vec![s]), Expect::counts(1, 0, 0))
        };
        let build = v2(RequestSpec { metadata, ..spec });
        dual(out, &format!("TestMetadata/{name}"), build, counts, true);
    }
    let one = Expect::counts(1, 0, 0);
    let requests_total = |job, value, created_ago_ms| {
        let s = SampleSpec {
            created_ago_ms,
            ..sample(
                vec![("__name__", "http_requests_total"), ("job", job)],
                value,
            )
        };
        v2(RequestSpec {
            metadata: vec![meta(
                name_only("http_requests_total"),
                mt::COUNTER,
                "Total HTTP requests",
                "requests",
            )],
            ..RequestSpec::samples(vec![s])
        })
    };
    let build = requests_total("api", 150.0, Some(HOUR));
    dual(
        out,
        "TestCounterMetadataWithCreatedTimestamp/",
        build,
        one,
        true,
    );
    let build = requests_total("test", 42.0, None);
    dual(out, "TestMetadataWithSamples/", build, one, true);
    let gauges: [(LabelSet, f64, &'static str, &'static str); 3] = [
        (
            name_only("cpu_usage"),
            85.5,
            "CPU usage percentage",
            "percent",
        ),
        (
            name_only("memory_usage"),
            4096000000.0,
            "Memory usage in bytes",
            "bytes",
        ),
        (
            vec![("__name__", "disk_usage"), ("device", "sda1")],
            75.2,
            "Disk usage percentage",
            "percent",
        ),
    ];
    let build = v2(RequestSpec {
        metadata: gauges
            .iter()
            .map(|(l, _, help, unit)| meta(l.clone(), mt::GAUGE, help, unit))
            .collect(),
        ..RequestSpec::samples(
            gauges
                .iter()
                .map(|(l, v, ..)| sample(l.clone(), *v))
                .collect(),
        )
    });
    dual(
        out,
        "TestMultipleMetadata/",
        build,
        Expect::counts(3, 0, 0),
        true,
    );
    let complex = vec![
        ("__name__", "http_request_duration_seconds"),
        ("job", "api-server"),
        ("instance", "localhost:8080"),
        ("method", "GET"),
        ("status", "200"),
        ("endpoint", "/api/v1/users"),
    ];
    let build = v2(RequestSpec {
        metadata: vec![meta(
            complex.clone(),
            mt::HISTOGRAM,
            "HTTP request duration in seconds",
            "seconds",
        )],
        ..histograms_only(vec![hist(complex, histogram(0.250, all))])
    });
    let name = "TestMetadataWithComplexLabels/";
    dual(out, name, build, Expect::counts(0, 1, 0), true);
    for (name, labels, kind, success) in [
        (
            "metadata_without_name_label",
            vec![("job", "test")],
            mt::COUNTER,
            false,
        ),
        (
            "metadata_with_empty_name",
            vec![("__name__", "")],
            mt::GAUGE,
            false,
        ),
        (
            "metadata_with_valid_name",
            name_only("valid_metric_name"),
            mt::COUNTER,
            true,
        ),
    ] {
        let build = v2(RequestSpec {
            metadata: vec![meta(labels.clone(), kind, "Test help", "unit")],
            ..RequestSpec::samples(vec![sample(labels, 1.0)])
        });
        let expect = Expect { success, ..one };
        let name = format!("TestMetadataValidation/{name}");
        single(out, &name, Level::Should, build, expect);
    }
}
