//! The check of a response against a row's expectation (the suite's `validateResponse`).

use super::case::Expect;
use crate::support::http::Response;

/// The suite's `validateResponse`, stricter where the library form is (see the module docs).
pub(crate) fn validate(expect: &Expect, response: &Response) -> Result<(), String> {
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
