//! [`decompress`]: a snappy block into protobuf bytes, within a size limit.

use super::header::declared_len;
use crate::error::{RejectReason, Rejection};

/// Decompresses a snappy **block** (not the framed format) body.
///
/// The varint header is read first: when the decoded length it declares is above
/// `max_decoded`, the body is refused with 413 before anything is allocated (a 20-byte body
/// can claim 4 GiB). A missing or malformed header, an empty body, a block that does not
/// decode, or one that decodes to a different length than declared is a 400. At most
/// `max_decoded` bytes are allocated.
pub fn decompress(body: &[u8], max_decoded: usize) -> Result<Vec<u8>, Rejection> {
    let corrupt = |why: String| {
        Rejection::new(
            RejectReason::CorruptSnappy,
            format!("snappy: corrupt input: {why}"),
        )
    };
    if body.is_empty() {
        return Err(corrupt("empty body".to_owned()));
    }
    let declared = declared_len(body).ok_or_else(|| corrupt("bad length header".to_owned()))?;
    if declared > max_decoded as u64 {
        return Err(Rejection::new(
            RejectReason::DecodedTooLarge,
            format!(
                "decoded body of {declared} bytes (snappy header) exceeds the limit of \
                 {max_decoded} bytes"
            ),
        ));
    }
    // `declared <= max_decoded`, so it fits in usize.
    let mut out = vec![0u8; declared as usize];
    let written = snap::raw::Decoder::new()
        .decompress(body, &mut out)
        .map_err(|e| corrupt(e.to_string()))?;
    if written != out.len() {
        return Err(corrupt(format!(
            "decoded {written} bytes, header said {}",
            out.len()
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compress(data: &[u8]) -> Vec<u8> {
        snap::raw::Encoder::new().compress_vec(data).unwrap()
    }

    #[test]
    fn decompress_table() {
        let hello = compress(b"hello, hello, hello remote write");
        let empty = compress(b"");
        let mut truncated = hello.clone();
        truncated.truncate(hello.len() - 3);
        let mut wrong_len = hello.clone();
        wrong_len[0] -= 1; // header says one byte fewer than the block holds
        // (name, body, limit, Ok(decoded) or Err(status))
        type Case = (&'static str, Vec<u8>, usize, Result<Vec<u8>, u16>);
        let cases: Vec<Case> = vec![
            (
                "round trip",
                hello.clone(),
                1024,
                Ok(b"hello, hello, hello remote write".to_vec()),
            ),
            (
                "exactly at the limit",
                hello.clone(),
                32,
                Ok(b"hello, hello, hello remote write".to_vec()),
            ),
            ("one over the limit", hello.clone(), 31, Err(413)),
            ("empty payload", empty, 0, Ok(Vec::new())),
            ("empty body", Vec::new(), 1024, Err(400)),
            (
                "4 GiB claim",
                vec![0x80, 0x80, 0x80, 0x80, 0x10, 0x00],
                1 << 20,
                Err(413),
            ),
            (
                "u64::MAX claim",
                vec![0xff; 9].into_iter().chain([0x01]).collect(),
                1 << 20,
                Err(413),
            ),
            ("header never ends", vec![0xff; 16], 1 << 20, Err(400)),
            ("truncated block", truncated, 1024, Err(400)),
            ("length mismatch", wrong_len, 1024, Err(400)),
            (
                "uncompressed protobuf",
                b"\x0a\x10\x0a\x08__name__".to_vec(),
                1024,
                Err(400),
            ),
            (
                "compliance: first byte corrupted",
                {
                    let mut b = hello.clone();
                    b[0] = 0xff;
                    b
                },
                1 << 20,
                Err(400),
            ),
        ];
        for (name, body, limit, expected) in cases {
            let got = decompress(&body, limit).map_err(|r| r.status);
            assert_eq!(got, expected, "{name}");
        }
    }

    #[test]
    fn too_large_is_413_with_the_numbers() {
        let r = decompress(&[0x80, 0x80, 0x80, 0x80, 0x10], 1000).unwrap_err();
        assert_eq!(r.reason, RejectReason::DecodedTooLarge);
        assert!(
            r.message.contains("4294967296") && r.message.contains("1000"),
            "{}",
            r.message
        );
    }
}
