//! [`Protocol`] and the HTTP header names and values of remote-write.

/// Which remote-write message a body holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// Remote-write 1.0: `prometheus.WriteRequest`.
    V1,
    /// Remote-write 2.0: `io.prometheus.write.v2.Request`.
    V2,
}

impl Protocol {
    /// The protobuf message name, as in the `proto=` parameter of `Content-Type`.
    pub fn message_name(self) -> &'static str {
        match self {
            Protocol::V1 => "prometheus.WriteRequest",
            Protocol::V2 => "io.prometheus.write.v2.Request",
        }
    }

    /// The `X-Prometheus-Remote-Write-Version` a sender of this protocol sends.
    pub fn version(self) -> &'static str {
        match self {
            Protocol::V1 => "0.1.0",
            Protocol::V2 => "2.0.0",
        }
    }
}

/// The `Content-Type` to send with a body of `protocol`. For 1.0 it is the plain
/// `application/x-protobuf` every 1.0 receiver knows.
pub fn content_type(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::V1 => "application/x-protobuf",
        Protocol::V2 => "application/x-protobuf;proto=io.prometheus.write.v2.Request",
    }
}

/// The media type of every remote-write body.
pub const MEDIA_TYPE: &str = "application/x-protobuf";
/// The only `Content-Encoding` remote-write uses (snappy *block* format, not framed).
pub const CONTENT_ENCODING: &str = "snappy";
/// Request header naming the sender's protocol version (`0.1.0` or `2.0.0`).
pub const VERSION_HEADER: &str = "X-Prometheus-Remote-Write-Version";
/// 2.0 response header: float samples written.
pub const SAMPLES_WRITTEN_HEADER: &str = "X-Prometheus-Remote-Write-Samples-Written";
/// 2.0 response header: native histogram samples written.
pub const HISTOGRAMS_WRITTEN_HEADER: &str = "X-Prometheus-Remote-Write-Histograms-Written";
/// 2.0 response header: exemplars written.
pub const EXEMPLARS_WRITTEN_HEADER: &str = "X-Prometheus-Remote-Write-Exemplars-Written";
