//! The Prometheus remote-write receiver compliance suite, ported to Rust and run against a
//! real `omen serve` over real HTTP.
//!
//! # Source
//!
//! `prometheus/compliance`, directory `remotewrite/receiver/` (Go, `go test`). It cannot run
//! here (no Go module proxy), so its cases are rewritten in Rust from these files:
//!
//! | file                  | commit                                     |
//! |-----------------------|--------------------------------------------|
//! | `helpers_test.go`     | `f7ecd7c27828d2c1bc7eb9c35ae85d84c49421bc` |
//! | `main_test.go`        | `f7ecd7c27828d2c1bc7eb9c35ae85d84c49421bc` |
//! | `request_test.go`     | `f7ecd7c27828d2c1bc7eb9c35ae85d84c49421bc` |
//! | `metric_test.go`      | `f7ecd7c27828d2c1bc7eb9c35ae85d84c49421bc` |
//! | `histograms_test.go`  | `f7ecd7c27828d2c1bc7eb9c35ae85d84c49421bc` |
//! | `metadata_test.go`    | `f7ecd7c27828d2c1bc7eb9c35ae85d84c49421bc` |
//! | `combined_test.go`    | `f7ecd7c27828d2c1bc7eb9c35ae85d84c49421bc` |
//! | `exemplar_test.go`    | `7667b56d892fbb4f4252287e50bbad6d2a8f6893` |
//! | `rw1_compat_test.go`  | `7667b56d892fbb4f4252287e50bbad6d2a8f6893` |
//!
//! The suite was later turned into a library (`compliance.go`, `metric.go`, `histograms.go`,
//! `exemplars.go`, `metadata.go`, `combined.go`, `request.go`, `request_validation.go`,
//! `rw1_compat.go` at `03b0b3dc1719f13398f3b26c9f65764837562851` and
//! `6447412ffeefc26da43f4c52563c8f78154ed8ad`). Its cases are the same; where it is stricter,
//! the stricter rule is used here (see "Validation").
//!
//! # How the cases map
//!
//! Each Go `t.Run` leaf is one row of [`cases`], named by its Go test path
//! (`TestSingleMetric/NaN/simple metric`), with the RFC level the suite tags it with:
//!
//! - `runComplianceTest(name, …, success)` gives a MUST row `name` and, when the case is to
//!   succeed, a SHOULD row `name returns 204` ([`dual`]);
//! - cases sent with `runRequest` directly are one row at the level of their Go test
//!   (`TestExemplarValidation`, `TestMetadataValidation`, `TestEdgeCaseCombinations`: SHOULD;
//!   `TestBadContentTypes`, `TestBadContentEncodings`, `TestCorruptRequestBody`: MUST;
//!   `TestRW1*`: MAY).
//!
//! Requests are built as the suite builds them (`support::compliance`, including labels sent
//! unsorted and a metadata field on every series), with timestamps at least 10 ms apart from one
//! request to the next (the suite's ticker). As in the suite, one receiver serves every case.
//!
//! # Validation
//!
//! [`validate`] is the suite's `validateResponse`: a missing `-Written` header counts as 0; an
//! exact status, when given, must match; then
//!
//! - 2xx: the case must be one that succeeds, and the three `-Written` headers must equal the
//!   counts sent;
//! - 4xx: not retryable, and 400 unless an exact status is given; no count above what was sent;
//! - 5xx: must be a retryable case (none is), no count above what was sent;
//! - anything else fails.
//!
//! Stricter than `helpers_test.go`, as in the library form: a `returns 204` row demands exactly
//! 204 (the `_test.go` form only checked 204 inside its 2xx branch, so a 400 passed it), and a
//! rejected `TestSingleMetric` case may write no sample (the library form expects 0 written).
//!
//! # Native histograms and exemplars
//!
//! Omen does not model either. The suite accepts two behaviours for a receiver that keeps none:
//! answer 2xx with `-Histograms-Written`/`-Exemplars-Written` equal to what was sent, or 400
//! with those headers at 0 (its 4xx branch only bounds the counts from above). Omen takes the
//! first: a well-formed histogram or exemplar on a valid series is accepted, counted as written
//! and not modelled, so that a Prometheus with native histograms enabled gets 204s rather than
//! a stream of 400s it can do nothing about. A malformed histogram (`bad_count_histogram`) is
//! refused like any invalid series: 400, nothing of that series written.
//!
//! Series with no sample and no histogram (`TestEdgeCaseCombinations/metadata_without_data`
//! and `exemplars_without_data`) are refused with 400 (`no_samples`): the 2.0 spec says a
//! series MUST carry one or the other, and the suite's validation accepts a 400 there.
//!
//! No case is inapplicable to Omen; [`Case::inapplicable`] is there for ones that would be.

mod support;

use std::fmt;
use std::rc::Rc;
use std::time::{SystemTime, UNIX_EPOCH};

use support::compliance::{
    Buckets, ExemplarSpec, HistogramSpec, LabelSet, RequestSpec, SampleSpec, encode_v1, exemplar,
    hist, histogram, job_instance, meta, metric_type as mt, name_only, sample, trace,
};
use support::http::{self, Response};
use support::server::Server;

/// The RFC level the suite tags a case with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    Must,
    Should,
    May,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
            Level::May => "MAY",
        })
    }
}

/// What the response must show (the suite's `requestParams`).
#[derive(Clone, Copy, Debug, Default)]
struct Expect {
    samples: i64,
    histograms: i64,
    exemplars: i64,
    /// The request as a whole is to succeed (2xx).
    success: bool,
    /// Exactly this status.
    exact: Option<u16>,
    /// A 5xx is acceptable (the suite sets this for no case).
    retryable: bool,
}

impl Expect {
    fn counts(samples: i64, histograms: i64, exemplars: i64) -> Expect {
        Expect {
            samples,
            histograms,
            exemplars,
            ..Expect::default()
        }
    }

    fn succeeds(self) -> Expect {
        Expect {
            success: true,
            ..self
        }
    }
}

/// An HTTP request to `POST /api/v1/write`: headers and body.
struct Request {
    headers: Vec<(&'static str, &'static str)>,
    body: Vec<u8>,
}

/// Builds a case's request for a given "now" in milliseconds.
type Build = Rc<dyn Fn(i64) -> Request>;

/// One row: a leaf of the Go suite.
struct Case {
    name: String,
    level: Level,
    build: Build,
    expect: Expect,
    /// Why the case does not apply to Omen, if it does not (it is then listed, not sent).
    inapplicable: Option<&'static str>,
}

const V2_CONTENT_TYPE: &str = "application/x-protobuf;proto=io.prometheus.write.v2.Request";

fn v2_headers() -> Vec<(&'static str, &'static str)> {
    vec![
        ("Content-Encoding", "snappy"),
        ("Content-Type", V2_CONTENT_TYPE),
        ("X-Prometheus-Remote-Write-Version", "2.0.0"),
        ("User-Agent", "omen-compliance-port"),
    ]
}

/// The suite's `generateRequest`: a 2.0 request, snappy-compressed.
fn v2(spec: RequestSpec) -> Build {
    Rc::new(move |now| Request {
        headers: v2_headers(),
        body: omen_remote_write::compress(&spec.encode_v2(now)),
    })
}

/// The suite's `corruptRequestBody`: the first body byte replaced by `byte`.
fn corrupt(build: Build, byte: u8) -> Build {
    Rc::new(move |now| {
        let mut request = build(now);
        request.body[0] = byte;
        request
    })
}

/// The request of `build` with header `name` set to `value`.
fn with_header(build: Build, name: &'static str, value: &'static str) -> Build {
    Rc::new(move |now| {
        let mut request = build(now);
        request
            .headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        request.headers.push((name, value));
        request
    })
}

/// The suite's `runComplianceTest`: a MUST row, and for a case that is to succeed a SHOULD row
/// that also demands 204.
fn dual(out: &mut Vec<Case>, name: &str, build: Build, counts: Expect, success: bool) {
    if success {
        out.push(Case {
            name: format!("{name} returns 204"),
            level: Level::Should,
            build: build.clone(),
            expect: Expect {
                exact: Some(204),
                ..counts.succeeds()
            },
            inapplicable: None,
        });
    }
    out.push(Case {
        name: name.to_owned(),
        level: Level::Must,
        build,
        expect: Expect { success, ..counts },
        inapplicable: None,
    });
}

/// A case sent once (the suite's `runRequest` called directly).
fn single(out: &mut Vec<Case>, name: &str, level: Level, build: Build, expect: Expect) {
    out.push(Case {
        name: name.to_owned(),
        level,
        build,
        expect,
        inapplicable: None,
    });
}

/// The suite's `validateResponse`, stricter where the library form is (see the module docs).
fn validate(expect: &Expect, response: &Response) -> Result<(), String> {
    let written = |kind: &str| -> Result<i64, String> {
        let name = format!("X-Prometheus-Remote-Write-{kind}-Written");
        match response.header(&name) {
            None | Some("") => Ok(0),
            Some(v) => v
                .parse()
                .map_err(|_| format!("{name}: {v:?} is no integer")),
        }
    };
    let (samples, histograms, exemplars) = (
        written("Samples")?,
        written("Histograms")?,
        written("Exemplars")?,
    );
    let status = response.status;
    let check = |ok: bool, what: String| if ok { Ok(()) } else { Err(what) };
    if let Some(exact) = expect.exact {
        check(
            status == exact,
            format!("status {status}, expected exactly {exact}"),
        )?;
    }
    let at_most = || {
        check(
            samples <= expect.samples
                && histograms <= expect.histograms
                && exemplars <= expect.exemplars,
            format!(
                "written (samples, histograms, exemplars) = ({samples}, {histograms}, \
                 {exemplars}), more than sent ({}, {}, {})",
                expect.samples, expect.histograms, expect.exemplars
            ),
        )
    };
    match status / 100 {
        2 => {
            check(
                expect.success,
                format!("status {status} for a request to refuse"),
            )?;
            check(
                (samples, histograms, exemplars)
                    == (expect.samples, expect.histograms, expect.exemplars),
                format!(
                    "written (samples, histograms, exemplars) = ({samples}, {histograms}, \
                     {exemplars}), expected ({}, {}, {})",
                    expect.samples, expect.histograms, expect.exemplars
                ),
            )
        }
        4 => {
            check(
                !expect.retryable,
                format!("status {status} for a retryable case"),
            )?;
            if expect.exact.is_none() {
                check(status == 400, format!("status {status}, expected 400"))?;
            }
            at_most()
        }
        5 => {
            check(
                !expect.success,
                format!("status {status} for a request to accept"),
            )?;
            check(
                expect.retryable,
                format!("status {status} for a non-retryable case"),
            )?;
            at_most()
        }
        _ => Err(format!("status {status} is not 2xx, 4xx or 5xx")),
    }
}

/// `request_test.go`.
fn request_cases(out: &mut Vec<Case>) {
    let up = || v2(RequestSpec::samples(vec![sample(name_only("up"), 1.0)]));
    let unsupported = Expect {
        exact: Some(415),
        ..Expect::default()
    };
    for content_type in ["application/json", "image/png"] {
        let name = format!("TestBadContentTypes/{}", content_type.replace('/', "_"));
        let build = corrupt(with_header(up(), "Content-Type", content_type), b'0');
        single(out, &name, Level::Must, build, unsupported);
    }
    for encoding in ["gzip", "deflate"] {
        let name = format!("TestBadContentEncodings/{encoding}");
        let build = corrupt(with_header(up(), "Content-Encoding", encoding), b'0');
        single(out, &name, Level::Must, build, unsupported);
    }
    let build = corrupt(up(), b'0');
    single(
        out,
        "TestCorruptRequestBody",
        Level::Must,
        build,
        Expect::default(),
    );
}

/// The float values every metric case is run with (`values` in `metric_test.go`).
fn special_values() -> [(&'static str, f64); 5] {
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
fn metric_cases(out: &mut Vec<Case>) {
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

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;

fn histograms_only(histograms: Vec<HistogramSpec>) -> RequestSpec {
    RequestSpec {
        histograms,
        ..RequestSpec::default()
    }
}

/// One histogram on `labels` with HISTOGRAM metadata `(help, unit)` for its name and an
/// exemplar of the histogram's sum.
fn histogram_family(
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
fn histogram_cases(out: &mut Vec<Case>) {
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

/// Samples with one exemplar each on the same series.
fn with_exemplars(samples: Vec<SampleSpec>, exemplars: Vec<ExemplarSpec>) -> RequestSpec {
    RequestSpec {
        samples,
        exemplars,
        ..RequestSpec::default()
    }
}

/// `exemplar_test.go`.
fn exemplar_cases(out: &mut Vec<Case>) {
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

/// `metadata_test.go`.
fn metadata_cases(out: &mut Vec<Case>) {
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

/// `combined_test.go`.
fn combined_cases(out: &mut Vec<Case>) {
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

/// `rw1_compat_test.go`: a 1.0 body with the plain media type and no version header.
fn rw1_cases(out: &mut Vec<Case>) {
    let rw1 = |samples: Vec<SampleSpec>| -> Build {
        Rc::new(move |now| Request {
            headers: vec![
                ("Content-Encoding", "snappy"),
                ("Content-Type", "application/x-protobuf"),
                ("User-Agent", "omen-compliance-port"),
            ],
            body: omen_remote_write::compress(&encode_v1(&samples, now)),
        })
    };
    let build = rw1(vec![
        sample(job_instance(), 1.0),
        sample(name_only("http_requests_total"), 100.0),
    ]);
    // A 1.0 answer has no -Written headers: 0 of each is what the suite expects.
    let name = "TestRW1BasicCompatibility";
    single(out, name, Level::May, build, Expect::default().succeeds());
    let build = corrupt(rw1(vec![sample(name_only("error_test"), 1.0)]), 0xFF);
    single(
        out,
        "TestRW1ErrorHandling",
        Level::May,
        build,
        Expect::default(),
    );
}

/// Every case, in the order of the Go files.
fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    request_cases(&mut out);
    metric_cases(&mut out);
    histogram_cases(&mut out);
    exemplar_cases(&mut out);
    metadata_cases(&mut out);
    combined_cases(&mut out);
    rw1_cases(&mut out);
    out
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// The result of one row.
enum Outcome {
    Pass(u16),
    Fail(String),
    Inapplicable(&'static str),
}

#[test]
fn the_receiver_passes_the_ported_compliance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), None);
    let cases = cases();
    let mut names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "case names are unique");

    let mut last = 0;
    let mut results = Vec::new();
    for case in &cases {
        let outcome = if let Some(why) = case.inapplicable {
            Outcome::Inapplicable(why)
        } else {
            // The suite's ticker: each request's "now" at least 10 ms after the last one's.
            let now = now_ms().max(last + 10);
            last = now;
            let request = (case.build)(now);
            let response = http::request(
                server.addr,
                "POST",
                "/api/v1/write",
                &request.headers,
                &request.body,
            )
            .expect("POST /api/v1/write");
            match validate(&case.expect, &response) {
                Ok(()) => Outcome::Pass(response.status),
                Err(why) => Outcome::Fail(format!("{why}; body: {:?}", response.text())),
            }
        };
        results.push((case, outcome));
    }

    let mut report = String::new();
    let mut failed = 0;
    for (case, outcome) in &results {
        let verdict = match outcome {
            Outcome::Pass(status) => format!("pass ({status})"),
            Outcome::Fail(why) => {
                failed += 1;
                format!("FAIL: {why}")
            }
            Outcome::Inapplicable(why) => format!("inapplicable: {why}"),
        };
        report.push_str(&format!("{:<6} {}: {verdict}\n", case.level, case.name));
    }
    for level in [Level::Must, Level::Should, Level::May] {
        let of_level = || results.iter().filter(|(c, _)| c.level == level);
        let passed = of_level()
            .filter(|(_, o)| matches!(o, Outcome::Pass(_)))
            .count();
        let total = of_level().count();
        report.push_str(&format!("{level}: {passed} of {total} pass\n"));
    }
    println!("{report}");
    assert_eq!(failed, 0, "{failed} compliance cases failed:\n{report}");
}

#[test]
fn the_validation_refuses_what_the_suite_refuses() {
    let response = |status, written: &[(&str, &str)]| Response {
        status,
        headers: written
            .iter()
            .map(|(k, v)| {
                (
                    format!("X-Prometheus-Remote-Write-{k}-Written"),
                    v.to_string(),
                )
            })
            .collect(),
        body: Vec::new(),
    };
    let one_sample = Expect::counts(1, 0, 0);
    let cases: [(&str, Expect, Response, bool); 10] = [
        (
            "204 with the count",
            one_sample.succeeds(),
            response(204, &[("Samples", "1")]),
            true,
        ),
        (
            "2xx without the header counts 0",
            one_sample.succeeds(),
            response(204, &[]),
            false,
        ),
        (
            "2xx for a request to refuse",
            one_sample,
            response(204, &[("Samples", "1")]),
            false,
        ),
        (
            "200 where exactly 204 is asked",
            Expect {
                exact: Some(204),
                ..one_sample.succeeds()
            },
            response(200, &[("Samples", "1")]),
            false,
        ),
        (
            "400 for a refused request",
            one_sample,
            response(400, &[("Samples", "0")]),
            true,
        ),
        (
            "a 4xx other than 400",
            one_sample,
            response(422, &[]),
            false,
        ),
        (
            "400 claiming more than sent",
            one_sample,
            response(400, &[("Samples", "2")]),
            false,
        ),
        (
            "5xx for a non-retryable case",
            one_sample,
            response(503, &[]),
            false,
        ),
        ("a 3xx", one_sample.succeeds(), response(302, &[]), false),
        (
            "a header that is no number",
            one_sample.succeeds(),
            response(204, &[("Samples", "one")]),
            false,
        ),
    ];
    for (name, expect, response, ok) in cases {
        assert_eq!(validate(&expect, &response).is_ok(), ok, "{name}");
    }
}
