//! The snappy block format: on receipt the declared length is read and checked before
//! anything is allocated, then the body is decompressed; senders compress.

mod compress;
mod decompress;
mod header;

pub use compress::compress;
pub(crate) use compress::compress_into;
pub use decompress::decompress;
#[cfg(test)]
pub(crate) use header::declared_len;
