//! Protobuf wire-format primitives for the encoder: lengths first, then bytes, straight from
//! Omen's types into one buffer (no intermediate prost structs, no string copies).

const VARINT: u32 = 0;
const FIXED64: u32 = 1;
const LEN: u32 = 2;

/// Bytes a varint of `v` takes.
pub(super) fn varint_len(v: u64) -> usize {
    // 1 byte per 7 bits, at least one.
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

pub(super) fn put_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

fn put_key(buf: &mut Vec<u8>, field: u32, wire_type: u32) {
    put_varint(buf, u64::from((field << 3) | wire_type));
}

/// Bytes of a length-delimited field (`field` < 16) holding `len` bytes.
pub(super) fn len_field_len(len: usize) -> usize {
    1 + varint_len(len as u64) + len
}

/// The key and length of a length-delimited field; the caller writes the `len` bytes.
pub(super) fn put_len_header(buf: &mut Vec<u8>, field: u32, len: usize) {
    put_key(buf, field, LEN);
    put_varint(buf, len as u64);
}

/// A `string`/`bytes` field, always written (a repeated element may be empty).
pub(super) fn put_bytes(buf: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    put_len_header(buf, field, bytes.len());
    buf.extend_from_slice(bytes);
}

/// Bytes of a proto3 `string` field, which is omitted when empty.
pub(super) fn string_field_len(s: &str) -> usize {
    if s.is_empty() {
        0
    } else {
        len_field_len(s.len())
    }
}

/// A proto3 `string` field, omitted when empty.
pub(super) fn put_string(buf: &mut Vec<u8>, field: u32, s: &str) {
    if !s.is_empty() {
        put_bytes(buf, field, s.as_bytes());
    }
}

/// Bytes of a `double` field, omitted when its bits are zero (so -0.0 is kept, as Go does).
pub(super) fn double_field_len(v: f64) -> usize {
    if v.to_bits() == 0 { 0 } else { 9 }
}

/// A `double` field, omitted when its bits are zero.
pub(super) fn put_double(buf: &mut Vec<u8>, field: u32, v: f64) {
    if v.to_bits() != 0 {
        put_key(buf, field, FIXED64);
        buf.extend_from_slice(&v.to_le_bytes());
    }
}

/// Bytes of an `int64`/`int32`/`uint32` field (two's complement varint), omitted when zero.
pub(super) fn int_field_len(v: i64) -> usize {
    if v == 0 { 0 } else { 1 + varint_len(v as u64) }
}

/// An `int64`/`int32`/`uint32` field, omitted when zero.
pub(super) fn put_int(buf: &mut Vec<u8>, field: u32, v: i64) {
    if v != 0 {
        put_key(buf, field, VARINT);
        put_varint(buf, v as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_lengths_match_the_encoding() {
        let cases: &[(u64, usize)] = &[
            (0, 1),
            (1, 1),
            (127, 1),
            (128, 2),
            (16_383, 2),
            (16_384, 3),
            (u64::from(u32::MAX), 5),
            (1 << 63, 10),
            (u64::MAX, 10),
        ];
        for &(v, len) in cases {
            let mut buf = Vec::new();
            put_varint(&mut buf, v);
            assert_eq!(buf.len(), len, "{v}");
            assert_eq!(varint_len(v), len, "{v}");
            assert_eq!(crate::snappy::declared_len(&buf), Some(v), "{v}");
        }
    }
}
