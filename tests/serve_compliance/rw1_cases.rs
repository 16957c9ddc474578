//! The cases of `rw1_compat_test.go`: Remote-Write 1.0 requests, one well-formed, one corrupt.

use std::rc::Rc;

use super::case::{Build, Case, Expect, Level, Request, corrupt, single};
use crate::support::compliance::{SampleSpec, encode_v1, job_instance, name_only, sample};

/// `rw1_compat_test.go`: a 1.0 body with the plain media type and no version header.
pub(crate) fn cases(out: &mut Vec<Case>) {
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
