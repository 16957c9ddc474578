//! The cases of `request_test.go`: bad content types and encodings, a corrupt body.

use super::case::{Case, Expect, Level, corrupt, single, v2, with_header};
use crate::support::compliance::{RequestSpec, name_only, sample};

/// `request_test.go`.
pub(crate) fn cases(out: &mut Vec<Case>) {
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
