//! [`compress`]: bytes into a snappy block, for senders and tests.

/// Compresses `data` into a snappy block (the format remote-write uses).
pub fn compress(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0; snap::raw::max_compress_len(data.len())];
    let n = compress_into(&mut snap::raw::Encoder::new(), data, &mut out);
    out.truncate(n);
    out
}

/// Compresses `data` into `out`, which must hold `snap::raw::max_compress_len(data.len())`
/// bytes; returns the compressed length.
pub(crate) fn compress_into(
    encoder: &mut snap::raw::Encoder,
    data: &[u8],
    out: &mut [u8],
) -> usize {
    // Only fails for inputs over 4 GiB or a short `out`, both excluded by the callers.
    encoder
        .compress(data, out)
        .expect("snappy block compression of a sized buffer")
}
