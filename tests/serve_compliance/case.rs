//! A row of the suite: its level, request and expectation, and the builders that make rows.

use std::fmt;
use std::rc::Rc;

use crate::support::compliance::RequestSpec;

/// The RFC level the suite tags a case with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Level {
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
pub(crate) struct Expect {
    pub(crate) samples: i64,
    pub(crate) histograms: i64,
    pub(crate) exemplars: i64,
    /// The request as a whole is to succeed (2xx).
    pub(crate) success: bool,
    /// Exactly this status.
    pub(crate) exact: Option<u16>,
    /// A 5xx is acceptable (the suite sets this for no case).
    pub(crate) retryable: bool,
}

impl Expect {
    pub(crate) fn counts(samples: i64, histograms: i64, exemplars: i64) -> Expect {
        Expect {
            samples,
            histograms,
            exemplars,
            ..Expect::default()
        }
    }

    pub(crate) fn succeeds(self) -> Expect {
        Expect {
            success: true,
            ..self
        }
    }
}

/// An HTTP request to `POST /api/v1/write`: headers and body.
pub(crate) struct Request {
    pub(crate) headers: Vec<(&'static str, &'static str)>,
    pub(crate) body: Vec<u8>,
}

/// Builds a case's request for a given "now" in milliseconds.
pub(crate) type Build = Rc<dyn Fn(i64) -> Request>;

/// One row: a leaf of the Go suite.
pub(crate) struct Case {
    pub(crate) name: String,
    pub(crate) level: Level,
    pub(crate) build: Build,
    pub(crate) expect: Expect,
    /// Why the case does not apply to Omen, if it does not (it is then listed, not sent).
    pub(crate) inapplicable: Option<&'static str>,
}

pub(crate) const MINUTE: i64 = 60_000;
pub(crate) const HOUR: i64 = 60 * MINUTE;

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
pub(crate) fn v2(spec: RequestSpec) -> Build {
    Rc::new(move |now| Request {
        headers: v2_headers(),
        body: omen_remote_write::compress(&spec.encode_v2(now)),
    })
}

/// The suite's `corruptRequestBody`: the first body byte replaced by `byte`.
pub(crate) fn corrupt(build: Build, byte: u8) -> Build {
    Rc::new(move |now| {
        let mut request = build(now);
        request.body[0] = byte;
        request
    })
}

/// The request of `build` with header `name` set to `value`.
pub(crate) fn with_header(build: Build, name: &'static str, value: &'static str) -> Build {
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
pub(crate) fn dual(out: &mut Vec<Case>, name: &str, build: Build, counts: Expect, success: bool) {
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
pub(crate) fn single(out: &mut Vec<Case>, name: &str, level: Level, build: Build, expect: Expect) {
    out.push(Case {
        name: name.to_owned(),
        level,
        build,
        expect,
        inapplicable: None,
    });
}
