//! The snappy block header: the decoded length as an unsigned LEB128 varint.

/// The decoded length a snappy block declares, or `None` when the header is missing,
/// truncated or longer than a `u64` (10 bytes).
pub(crate) fn declared_len(body: &[u8]) -> Option<u64> {
    let mut value: u64 = 0;
    for (i, &byte) in body.iter().take(10).enumerate() {
        let bits = u64::from(byte & 0x7f);
        if i == 9 && byte > 1 {
            return None; // more than 64 bits
        }
        value |= bits << (7 * i);
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_table() {
        let cases: &[(&str, &[u8], Option<u64>)] = &[
            ("empty", &[], None),
            ("zero", &[0x00], Some(0)),
            ("one byte", &[0x7f, 0xff], Some(127)),
            ("two bytes", &[0x80, 0x01], Some(128)),
            ("3661 (fixture 1)", &[0xcd, 0x1c], Some(3661)),
            ("4 GiB", &[0x80, 0x80, 0x80, 0x80, 0x10], Some(1 << 32)),
            (
                "u64::MAX",
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
                Some(u64::MAX),
            ),
            (
                "over 64 bits",
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02],
                None,
            ),
            ("truncated", &[0x80, 0x80], None),
            ("never ends", &[0x80; 12], None),
        ];
        for &(name, bytes, expected) in cases {
            assert_eq!(declared_len(bytes), expected, "{name}");
        }
    }
}
