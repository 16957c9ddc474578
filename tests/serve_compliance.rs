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
//!   succeed, a SHOULD row `name returns 204` ([`dual`](case::dual));
//! - cases sent with `runRequest` directly are one row at the level of their Go test
//!   (`TestExemplarValidation`, `TestMetadataValidation`, `TestEdgeCaseCombinations`: SHOULD;
//!   `TestBadContentTypes`, `TestBadContentEncodings`, `TestCorruptRequestBody`: MUST;
//!   `TestRW1*`: MAY).
//!
//! Requests are built as the suite builds them (`crate::support::compliance`, including labels sent
//! unsorted and a metadata field on every series), with timestamps at least 10 ms apart from one
//! request to the next (the suite's ticker). As in the suite, one receiver serves every case.
//!
//! The row type and its builders are in `case`, the cases of each Go file in a module of its
//! own (`request_cases`, `metric_cases`, `histogram_cases`, `exemplar_cases`, `metadata_cases`,
//! `combined_cases`, `rw1_cases`), and [`cases`] lists them in the order of the Go files.
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

mod case;
mod combined_cases;
mod exemplar_cases;
mod histogram_cases;
mod metadata_cases;
mod metric_cases;
mod request_cases;
mod rw1_cases;
mod validate;

use std::time::{SystemTime, UNIX_EPOCH};

use crate::support::http::{self, Response};
use crate::support::server::Server;
use case::{Case, Expect, Level};
use validate::validate;

/// Every case, in the order of the Go files.
fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    request_cases::cases(&mut out);
    metric_cases::cases(&mut out);
    histogram_cases::cases(&mut out);
    exemplar_cases::cases(&mut out);
    metadata_cases::cases(&mut out);
    combined_cases::cases(&mut out);
    rw1_cases::cases(&mut out);
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
