//! Content negotiation: which message a request holds, from `Content-Type` and
//! `Content-Encoding`, or 415.

use crate::error::{RejectReason, Rejection};
use crate::protocol::{CONTENT_ENCODING, MEDIA_TYPE, Protocol};

/// Picks the protocol from the request headers (pass `None` for a missing header).
///
/// - `Content-Type` missing or empty, `application/x-protobuf`, or
///   `application/x-protobuf;proto=prometheus.WriteRequest` → [`Protocol::V1`];
///   `application/x-protobuf;proto=io.prometheus.write.v2.Request` → [`Protocol::V2`];
///   anything else → 415. Media type, parameter names and the message name are matched without
///   regard to ASCII case, spaces around `;` and `=` are ignored, a quoted value is unquoted,
///   empty parameters (`a;;b`, a trailing `;`) and unknown parameters (`charset=utf-8`) are
///   ignored; a parameter that is not `key=value` is a 415, as in Prometheus.
/// - `Content-Encoding` missing or empty → snappy, as Prometheus assumes ("don't break 1.0
///   clients"): a body that is not snappy then fails decompression with a 400 anyway.
///   `snappy` in any case → fine; anything else (`gzip`, `deflate`, `identity`, a list) → 415.
pub fn negotiate(
    content_type: Option<&str>,
    content_encoding: Option<&str>,
) -> Result<Protocol, Rejection> {
    let protocol = protocol_from_content_type(content_type.unwrap_or(""))?;
    check_content_encoding(content_encoding.unwrap_or(""))?;
    Ok(protocol)
}

fn protocol_from_content_type(content_type: &str) -> Result<Protocol, Rejection> {
    let content_type = content_type.trim();
    if content_type.is_empty() {
        return Ok(Protocol::V1);
    }
    let unsupported = |why: &str| {
        Rejection::new(
            RejectReason::UnsupportedContentType,
            format!(
                "unsupported Content-Type {content_type:?}: {why}; expected {MEDIA_TYPE} \
                 (remote-write 1.0) or {MEDIA_TYPE};proto={} (2.0)",
                Protocol::V2.message_name()
            ),
        )
    };
    let mut parts = content_type.split(';');
    let media_type = parts.next().unwrap_or("").trim();
    if !media_type.eq_ignore_ascii_case(MEDIA_TYPE) {
        return Err(unsupported("not a remote-write protobuf media type"));
    }
    for parameter in parts {
        let parameter = parameter.trim();
        if parameter.is_empty() {
            continue;
        }
        let Some((name, value)) = parameter.split_once('=') else {
            return Err(unsupported("a parameter is not key=value"));
        };
        if !name.trim().eq_ignore_ascii_case("proto") {
            continue;
        }
        // The first `proto=` decides, as in Prometheus.
        let value = unquote(value.trim());
        return [Protocol::V1, Protocol::V2]
            .into_iter()
            .find(|p| value.eq_ignore_ascii_case(p.message_name()))
            .ok_or_else(|| unsupported("unknown protobuf message"));
    }
    // No `proto=` parameter: 1.0.
    Ok(Protocol::V1)
}

fn unquote(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
        .trim()
}

fn check_content_encoding(content_encoding: &str) -> Result<(), Rejection> {
    let encoding = content_encoding.trim();
    if encoding.is_empty() || encoding.eq_ignore_ascii_case(CONTENT_ENCODING) {
        return Ok(());
    }
    Err(Rejection::new(
        RejectReason::UnsupportedContentEncoding,
        format!("unsupported Content-Encoding {encoding:?}: only {CONTENT_ENCODING} is accepted"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const V2: &str = "application/x-protobuf;proto=io.prometheus.write.v2.Request";

    #[test]
    fn negotiation_table() {
        // (name, Content-Type, Content-Encoding, expected protocol or status)
        type Case = (
            &'static str,
            Option<&'static str>,
            Option<&'static str>,
            Result<Protocol, u16>,
        );
        let cases: &[Case] = &[
            (
                "prometheus 1.0 sender",
                Some("application/x-protobuf"),
                Some("snappy"),
                Ok(Protocol::V1),
            ),
            (
                "missing content type",
                None,
                Some("snappy"),
                Ok(Protocol::V1),
            ),
            (
                "empty content type",
                Some(""),
                Some("snappy"),
                Ok(Protocol::V1),
            ),
            (
                "explicit 1.0 message",
                Some("application/x-protobuf;proto=prometheus.WriteRequest"),
                Some("snappy"),
                Ok(Protocol::V1),
            ),
            ("2.0 message", Some(V2), Some("snappy"), Ok(Protocol::V2)),
            (
                "2.0 with spaces and case",
                Some(" Application/X-Protobuf ; Proto = io.prometheus.write.v2.request "),
                Some(" Snappy "),
                Ok(Protocol::V2),
            ),
            (
                "2.0 quoted, extra parameter",
                Some(
                    "application/x-protobuf; charset=utf-8; proto=\"io.prometheus.write.v2.Request\"",
                ),
                Some("snappy"),
                Ok(Protocol::V2),
            ),
            (
                "trailing semicolon",
                Some("application/x-protobuf;"),
                Some("snappy"),
                Ok(Protocol::V1),
            ),
            ("missing content encoding", Some(V2), None, Ok(Protocol::V2)),
            (
                "empty content encoding",
                Some(V2),
                Some(""),
                Ok(Protocol::V2),
            ),
            // The compliance suite's exact-415 cases.
            (
                "compliance: application/json",
                Some("application/json"),
                Some("snappy"),
                Err(415),
            ),
            (
                "compliance: image/png",
                Some("image/png"),
                Some("snappy"),
                Err(415),
            ),
            ("compliance: gzip", Some(V2), Some("gzip"), Err(415)),
            ("compliance: deflate", Some(V2), Some("deflate"), Err(415)),
            (
                "gzip on 1.0",
                Some("application/x-protobuf"),
                Some("gzip"),
                Err(415),
            ),
            ("identity", Some(V2), Some("identity"), Err(415)),
            ("zstd", Some(V2), Some("zstd"), Err(415)),
            ("encoding list", Some(V2), Some("snappy, gzip"), Err(415)),
            (
                "unknown message",
                Some("application/x-protobuf;proto=io.prometheus.write.v3.Request"),
                Some("snappy"),
                Err(415),
            ),
            (
                "parameter without value",
                Some("application/x-protobuf;proto"),
                Some("snappy"),
                Err(415),
            ),
            (
                "protobuf prefix only",
                Some("application/x-protobuffer"),
                Some("snappy"),
                Err(415),
            ),
            ("text", Some("text/plain"), None, Err(415)),
        ];
        for &(name, content_type, encoding, expected) in cases {
            let got = negotiate(content_type, encoding).map_err(|r| r.status);
            assert_eq!(got, expected, "{name}");
        }
    }

    #[test]
    fn rejections_name_the_header_and_the_reason() {
        let r = negotiate(Some("application/json"), None).unwrap_err();
        assert_eq!(r.reason, RejectReason::UnsupportedContentType);
        assert!(r.message.contains("application/json"), "{}", r.message);
        let r = negotiate(Some(V2), Some("gzip")).unwrap_err();
        assert_eq!(r.reason, RejectReason::UnsupportedContentEncoding);
        assert!(r.message.contains("gzip"), "{}", r.message);
    }

    #[test]
    fn content_type_round_trips_through_negotiation() {
        for protocol in [Protocol::V1, Protocol::V2] {
            let ct = crate::protocol::content_type(protocol);
            assert_eq!(negotiate(Some(ct), Some(CONTENT_ENCODING)), Ok(protocol));
        }
    }
}
