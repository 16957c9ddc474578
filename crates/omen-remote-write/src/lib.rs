#![doc = include_str!("../README.md")]

mod batch;
mod collect;
mod decode;
mod decode_v1;
mod decode_v2;
mod encode;
mod error;
mod histogram;
mod labels;
mod limits;
mod metric_type;
mod negotiate;
mod outcome;
pub mod proto;
mod protocol;
#[cfg(test)]
mod reference;
mod snappy;
mod stats;
mod validate;
mod wire;

pub use batch::{Metadata, SeriesRef, SeriesSamples, WriteBatch, WriteSummary};
pub use decode::{decode, decode_request, decode_with};
pub use encode::{BodyEncoder, encode_v1, encode_v2};
pub use error::{RejectReason, Rejection};
pub use labels::{METRIC_NAME_LABEL, ValidatedLabels};
pub use limits::{Limits, check_body_len};
pub use metric_type::MetricType;
pub use negotiate::negotiate;
pub use omen_core::{STALE_NAN_BITS, is_stale_marker};
pub use outcome::Outcome;
pub use protocol::{
    CONTENT_ENCODING, EXEMPLARS_WRITTEN_HEADER, HISTOGRAMS_WRITTEN_HEADER, MEDIA_TYPE, Protocol,
    SAMPLES_WRITTEN_HEADER, VERSION_HEADER, content_type,
};
pub use snappy::{compress, decompress};
pub use stats::{InvalidCounts, InvalidReason, WriteStats};
