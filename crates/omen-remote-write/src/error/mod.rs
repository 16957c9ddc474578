//! Errors: a request refused as a whole.

mod rejection;

pub use rejection::{RejectReason, Rejection};
