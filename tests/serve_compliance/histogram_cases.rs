//! The cases of `histograms_test.go`: native histograms, alone or with metadata and exemplars.

use super::case::{Build, Case, Expect, MINUTE, dual, v2};
use crate::support::compliance::{
    Buckets, HistogramSpec, LabelSet, RequestSpec, exemplar, hist, histogram, meta,
    metric_type as mt, name_only,
};

pub(crate) fn histograms_only(histograms: Vec<HistogramSpec>) -> RequestSpec {
    RequestSpec {
        histograms,
        ..RequestSpec::default()
    }
}

/// One histogram on `labels` with HISTOGRAM metadata `(help, unit)` for its name and an
/// exemplar of the histogram's sum.
pub(crate) fn histogram_family(
    labels: LabelSet,
    h: omen_remote_write::proto::v2::Histogram,
    (help, unit): (&'static str, &'static str),
    exemplar_labels: LabelSet,
) -> Build {
    let name = labels.iter().find(|(n, _)| *n == "__name__").unwrap().1;
    v2(RequestSpec {
        metadata: vec![meta(name_only(name), mt::HISTOGRAM, help, unit)],
        exemplars: vec![exemplar(labels.clone(), exemplar_labels, h.sum)],
        ..histograms_only(vec![hist(labels, h)])
    })
}

/// `histograms_test.go`.
pub(crate) fn cases(out: &mut Vec<Case>) {
    let b = |positive, negative, zero| Buckets {
        positive,
        negative,
        zero,
        ..Buckets::default()
    };
    let cases: [(&str, LabelSet, Buckets, bool); 6] = [
        (
            "basic_histogram",
            name_only("test_histogram"),
            b(true, true, true),
            true,
        ),
        (
            "custom_buckets_histogram",
            name_only("test_histogram"),
            Buckets {
                custom: true,
                ..b(true, false, false)
            },
            true,
        ),
        (
            "positive_only_histogram",
            vec![("__name__", "test_histogram"), ("job", "test")],
            b(true, false, true),
            true,
        ),
        (
            "negative_only_histogram",
            vec![("__name__", "test_histogram"), ("instance", "localhost")],
            b(false, true, false),
            true,
        ),
        (
            "minimal_histogram",
            name_only("minimal_hist"),
            b(false, false, true),
            true,
        ),
        (
            "bad_count_histogram",
            name_only("minimal_hist"),
            Buckets {
                bad_count: true,
                ..b(true, false, false)
            },
            false,
        ),
    ];
    for (name, labels, buckets, success) in cases {
        let build = v2(histograms_only(vec![hist(labels, histogram(1.0, buckets))]));
        let name = format!("TestHistograms/{name}");
        dual(out, &name, build, Expect::counts(0, 1, 0), success);
    }
    let all = b(true, true, true);
    let timed = HistogramSpec {
        created_ago_ms: Some(30 * MINUTE),
        ..hist(
            vec![("__name__", "request_duration_seconds"), ("job", "api")],
            histogram(1.5, all),
        )
    };
    let build = v2(histograms_only(vec![timed]));
    let one = Expect::counts(0, 1, 0);
    dual(out, "TestHistogramWithCreatedTimestamp/", build, one, true);
    let build = v2(histograms_only(vec![
        hist(
            vec![("__name__", "hist1"), ("job", "test")],
            histogram(10.5, b(true, false, true)),
        ),
        hist(
            vec![("__name__", "hist2"), ("job", "test")],
            histogram(5.2, b(false, true, false)),
        ),
    ]));
    dual(
        out,
        "TestMultipleHistograms/",
        build,
        Expect::counts(0, 2, 0),
        true,
    );
    let empty = hist(name_only("empty_hist"), histogram(0.0, Buckets::default()));
    let build = v2(histograms_only(vec![empty]));
    dual(out, "TestEmptyHistogram/", build, one, true);
    let duration = vec![("__name__", "request_duration_seconds"), ("job", "api")];
    let build = v2(RequestSpec {
        metadata: vec![meta(
            name_only("request_duration_seconds"),
            mt::HISTOGRAM,
            "HTTP request duration in seconds",
            "seconds",
        )],
        ..histograms_only(vec![hist(duration, histogram(2.5, all))])
    });
    dual(out, "TestHistogramWithMetadata/", build, one, true);
    let get = vec![
        ("__name__", "http_request_duration_seconds"),
        ("method", "GET"),
    ];
    let build = v2(RequestSpec {
        exemplars: vec![exemplar(
            get.clone(),
            vec![("trace_id", "abc123def456"), ("span_id", "span789")],
            1.23,
        )],
        ..histograms_only(vec![hist(get, histogram(1.23, b(true, false, true)))])
    });
    let with_exemplar = Expect::counts(0, 1, 1);
    dual(
        out,
        "TestHistogramWithExemplar/",
        build,
        with_exemplar,
        true,
    );
    let upload = vec![("__name__", "response_size_bytes"), ("service", "upload")];
    let build = histogram_family(
        upload,
        histogram(10485760.0, all),
        ("HTTP response size in bytes", "bytes"),
        vec![("trace_id", "large_upload_trace"), ("user_id", "user456")],
    );
    let name = "TestHistogramWithMetadataAndExemplar/";
    dual(out, name, build, with_exemplar, true);
    let build = v2(RequestSpec {
        metadata: vec![
            meta(
                name_only("cpu_usage_histogram"),
                mt::HISTOGRAM,
                "CPU usage distribution",
                "ratio",
            ),
            meta(
                name_only("memory_usage_histogram"),
                mt::HISTOGRAM,
                "Memory usage distribution",
                "bytes",
            ),
        ],
        ..histograms_only(vec![
            hist(
                vec![("__name__", "cpu_usage_histogram"), ("instance", "server1")],
                histogram(0.75, b(true, false, true)),
            ),
            hist(
                vec![
                    ("__name__", "memory_usage_histogram"),
                    ("instance", "server1"),
                ],
                histogram(8589934592.0, b(true, true, false)),
            ),
        ])
    });
    let name = "TestMultipleHistogramsWithMetadata/";
    dual(out, name, build, Expect::counts(0, 2, 0), true);
}
