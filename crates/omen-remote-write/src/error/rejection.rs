//! [`Rejection`]: a whole request refused, with the HTTP status to answer.

/// Why a whole request was refused. [`RejectReason::as_str`] is stable, for a metrics label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// `Content-Type` is not a remote-write protobuf message (415).
    UnsupportedContentType,
    /// `Content-Encoding` is not snappy (415).
    UnsupportedContentEncoding,
    /// The compressed body is larger than the limit (413).
    BodyTooLarge,
    /// The snappy header claims a decoded size larger than the limit (413).
    DecodedTooLarge,
    /// The body is not a valid snappy block (400).
    CorruptSnappy,
    /// The decoded body is not a valid protobuf message of the negotiated type (400).
    InvalidProtobuf,
    /// A 2.0 request whose symbol table does not start with `""` (400).
    BadSymbolTable,
}

impl RejectReason {
    /// Every reason, in declaration order (for pre-registering metrics).
    pub const ALL: [RejectReason; 7] = [
        RejectReason::UnsupportedContentType,
        RejectReason::UnsupportedContentEncoding,
        RejectReason::BodyTooLarge,
        RejectReason::DecodedTooLarge,
        RejectReason::CorruptSnappy,
        RejectReason::InvalidProtobuf,
        RejectReason::BadSymbolTable,
    ];

    /// A stable snake_case name, for a metrics label.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::UnsupportedContentType => "unsupported_content_type",
            RejectReason::UnsupportedContentEncoding => "unsupported_content_encoding",
            RejectReason::BodyTooLarge => "body_too_large",
            RejectReason::DecodedTooLarge => "decoded_too_large",
            RejectReason::CorruptSnappy => "corrupt_snappy",
            RejectReason::InvalidProtobuf => "invalid_protobuf",
            RejectReason::BadSymbolTable => "bad_symbol_table",
        }
    }

    /// The HTTP status that goes with the reason: 415, 413 or 400.
    pub fn status(self) -> u16 {
        match self {
            RejectReason::UnsupportedContentType | RejectReason::UnsupportedContentEncoding => 415,
            RejectReason::BodyTooLarge | RejectReason::DecodedTooLarge => 413,
            RejectReason::CorruptSnappy
            | RejectReason::InvalidProtobuf
            | RejectReason::BadSymbolTable => 400,
        }
    }
}

/// A request refused as a whole: nothing in it is ingested. `message` is one line for a person
/// (remote-write senders log the body verbatim and never parse it).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Rejection {
    /// The HTTP status to answer: 400, 413 or 415.
    pub status: u16,
    /// Why, as a stable enum.
    pub reason: RejectReason,
    /// What went wrong, for the response body and the log.
    pub message: String,
}

impl Rejection {
    /// A rejection with the status that goes with `reason`.
    pub fn new(reason: RejectReason, message: impl Into<String>) -> Self {
        Rejection {
            status: reason.status(),
            reason,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_have_distinct_names_and_the_right_status_class() {
        let cases: &[(RejectReason, u16)] = &[
            (RejectReason::UnsupportedContentType, 415),
            (RejectReason::UnsupportedContentEncoding, 415),
            (RejectReason::BodyTooLarge, 413),
            (RejectReason::DecodedTooLarge, 413),
            (RejectReason::CorruptSnappy, 400),
            (RejectReason::InvalidProtobuf, 400),
            (RejectReason::BadSymbolTable, 400),
        ];
        assert_eq!(cases.len(), RejectReason::ALL.len());
        let mut names: Vec<&str> = RejectReason::ALL.iter().map(|r| r.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), RejectReason::ALL.len());
        for &(reason, status) in cases {
            assert_eq!(reason.status(), status, "{}", reason.as_str());
            let rejection = Rejection::new(reason, "why");
            assert_eq!(rejection.status, status);
            assert_eq!(rejection.to_string(), "why");
        }
    }
}
