//! A zero-copy protobuf wire-format reader for the decoders' hot path.
//!
//! The decoders read labels and samples straight from the decompressed body instead of
//! building `prost` messages first: `prost` allocates two buffers per label and grows every
//! `Vec` one element at a time, which made decoding four times slower than the rest of the
//! work. The rules are `prost`'s, so that both accept and refuse the same bodies (a property
//! test in `reference.rs` compares them): keys are varints of at most 32 bits with a field
//! number of at least 1 and a wire type of 0, 1, 2, 3 or 5 (4 only to end a group); varints
//! have at most 10 bytes and no bits past 64; unknown fields, groups included, are skipped; a
//! known field with another wire type is an error; nested messages must end exactly at their
//! length.

use std::fmt;

/// Groups (deprecated, only ever skipped) may nest this deep.
const MAX_GROUP_DEPTH: u32 = 64;

/// Why bytes are not a valid message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WireError(pub(crate) String);

impl WireError {
    fn new(what: &str) -> Self {
        WireError(what.to_owned())
    }

    /// Prefixes the message being read, innermost last: `TimeSeries.labels: Label: …`.
    pub(crate) fn within(self, message: &str) -> Self {
        WireError(format!("{message}: {}", self.0))
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<prost::DecodeError> for WireError {
    fn from(e: prost::DecodeError) -> Self {
        WireError(e.to_string())
    }
}

/// One field's value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Value<'a> {
    /// Wire type 0.
    Varint(u64),
    /// Wire type 1.
    Fixed64(u64),
    /// Wire type 5.
    Fixed32(u32),
    /// Wire type 2: the bytes, without their length.
    Bytes(&'a [u8]),
    /// Wire types 3..4: a group, already skipped.
    Group,
}

impl<'a> Value<'a> {
    #[inline]
    pub(crate) fn varint(self, field: &str) -> Result<u64, WireError> {
        match self {
            Value::Varint(v) => Ok(v),
            _ => Err(wrong_type(field, "varint")),
        }
    }

    #[inline]
    pub(crate) fn fixed64(self, field: &str) -> Result<u64, WireError> {
        match self {
            Value::Fixed64(v) => Ok(v),
            _ => Err(wrong_type(field, "64-bit")),
        }
    }

    #[inline]
    pub(crate) fn bytes(self, field: &str) -> Result<&'a [u8], WireError> {
        match self {
            Value::Bytes(b) => Ok(b),
            _ => Err(wrong_type(field, "length-delimited")),
        }
    }

    /// A repeated `uint32`: one unpacked varint, or a packed run appended to `out`.
    pub(crate) fn uint32s(self, field: &str, out: &mut Vec<u32>) -> Result<(), WireError> {
        match self {
            // `as u32` truncates, as prost does.
            Value::Varint(v) => out.push(v as u32),
            Value::Bytes(mut packed) => {
                while !packed.is_empty() {
                    let (v, n) = varint(packed)?;
                    out.push(v as u32);
                    packed = &packed[n..];
                }
            }
            _ => return Err(wrong_type(field, "varint or packed")),
        }
        Ok(())
    }
}

#[cold]
fn wrong_type(field: &str, expected: &str) -> WireError {
    WireError(format!("{field}: invalid wire type (expected {expected})"))
}

/// Reads the fields of one message, in order.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    /// The next `(field number, value)`, or `None` at the end of the message.
    #[inline(always)]
    pub(crate) fn next_field(&mut self) -> Result<Option<(u32, Value<'a>)>, WireError> {
        if self.buf.is_empty() {
            return Ok(None);
        }
        let (field, wire_type) = self.key()?;
        let value = match wire_type {
            0 => Value::Varint(self.varint()?),
            1 => Value::Fixed64(u64::from_le_bytes(self.take_array()?)),
            2 => {
                let len = self.varint()?;
                Value::Bytes(self.take(len)?)
            }
            3 => {
                self.skip_group(field, 1)?;
                Value::Group
            }
            4 => return Err(WireError::new("unexpected end group tag")),
            5 => Value::Fixed32(u32::from_le_bytes(self.take_array()?)),
            _ => unreachable!("key() refuses wire types 6 and 7"),
        };
        Ok(Some((field, value)))
    }

    #[inline]
    fn key(&mut self) -> Result<(u32, u8), WireError> {
        let key = self.varint()?;
        let key = u32::try_from(key).map_err(|_| WireError(format!("invalid key value: {key}")))?;
        let wire_type = (key & 7) as u8;
        if wire_type > 5 {
            return Err(WireError(format!("invalid wire type value: {wire_type}")));
        }
        let field = key >> 3;
        if field == 0 {
            return Err(WireError::new("invalid tag value: 0"));
        }
        Ok((field, wire_type))
    }

    #[inline]
    fn varint(&mut self) -> Result<u64, WireError> {
        // One byte: every key of these messages, most lengths.
        if let Some(&byte) = self.buf.first()
            && byte < 0x80
        {
            self.buf = &self.buf[1..];
            return Ok(u64::from(byte));
        }
        let (v, n) = varint(self.buf)?;
        self.buf = &self.buf[n..];
        Ok(v)
    }

    #[inline]
    fn take(&mut self, len: u64) -> Result<&'a [u8], WireError> {
        if len > self.buf.len() as u64 {
            return Err(WireError::new("buffer underflow"));
        }
        let (head, rest) = self.buf.split_at(len as usize);
        self.buf = rest;
        Ok(head)
    }

    #[inline]
    fn take_array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let bytes = self.take(N as u64)?;
        Ok(bytes.try_into().unwrap_or([0; N]))
    }

    /// Skips a group's fields up to its end tag (for `field`).
    fn skip_group(&mut self, field: u32, depth: u32) -> Result<(), WireError> {
        if depth > MAX_GROUP_DEPTH {
            return Err(WireError::new("recursion limit reached"));
        }
        loop {
            if self.buf.is_empty() {
                return Err(WireError::new("invalid varint")); // the end tag is missing
            }
            let (inner, wire_type) = self.key()?;
            match wire_type {
                0 => drop(self.varint()?),
                1 => drop(self.take(8)?),
                2 => {
                    let len = self.varint()?;
                    self.take(len)?;
                }
                3 => self.skip_group(inner, depth + 1)?,
                4 if inner == field => return Ok(()),
                4 => return Err(WireError::new("unexpected end group tag")),
                _ => drop(self.take(4)?),
            }
        }
    }
}

/// A varint at the start of `buf` and its length, with prost's rules: at most 10 bytes, and
/// the 10th byte at most 1.
pub(crate) fn varint(buf: &[u8]) -> Result<(u64, usize), WireError> {
    let mut value: u64 = 0;
    for (i, &byte) in buf.iter().take(10).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            if i == 9 && byte > 1 {
                break;
            }
            return Ok((value, i + 1));
        }
    }
    Err(WireError::new("invalid varint"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(buf: &[u8]) -> Result<Vec<(u32, Value<'_>)>, WireError> {
        let mut reader = Reader::new(buf);
        let mut out = Vec::new();
        while let Some(f) = reader.next_field()? {
            out.push(f);
        }
        Ok(out)
    }

    #[test]
    fn reader_table() {
        type Case = (
            &'static str,
            &'static [u8],
            Result<Vec<(u32, Value<'static>)>, &'static str>,
        );
        let cases: &[Case] = &[
            ("empty", &[], Ok(vec![])),
            (
                "varint",
                &[0x08, 0x96, 0x01],
                Ok(vec![(1, Value::Varint(150))]),
            ),
            (
                "fixed64",
                &[0x09, 1, 0, 0, 0, 0, 0, 0, 0],
                Ok(vec![(1, Value::Fixed64(1))]),
            ),
            (
                "fixed32",
                &[0x0d, 2, 0, 0, 0],
                Ok(vec![(1, Value::Fixed32(2))]),
            ),
            (
                "bytes",
                &[0x12, 0x02, b'h', b'i'],
                Ok(vec![(2, Value::Bytes(b"hi"))]),
            ),
            (
                "group skipped",
                &[0x0b, 0x10, 0x01, 0x0c, 0x10, 0x05],
                Ok(vec![(1, Value::Group), (2, Value::Varint(5))]),
            ),
            (
                "nested group",
                &[0x0b, 0x13, 0x14, 0x0c],
                Ok(vec![(1, Value::Group)]),
            ),
            (
                "large field number",
                &[0xf8, 0xff, 0xff, 0xff, 0x0f, 0x00],
                Ok(vec![(536_870_911, Value::Varint(0))]),
            ),
            ("field zero", &[0x00, 0x00], Err("invalid tag value: 0")),
            ("wire type 6", &[0x0e], Err("invalid wire type value: 6")),
            ("wire type 7", &[0x0f], Err("invalid wire type value: 7")),
            (
                "key over 32 bits",
                &[0x80, 0x80, 0x80, 0x80, 0x10],
                Err("invalid key value: 4294967296"),
            ),
            ("stray end group", &[0x0c], Err("unexpected end group tag")),
            (
                "mismatched end group",
                &[0x0b, 0x14],
                Err("unexpected end group tag"),
            ),
            (
                "unterminated group",
                &[0x0b, 0x10, 0x01],
                Err("invalid varint"),
            ),
            ("truncated varint", &[0x08, 0x80], Err("invalid varint")),
            ("truncated fixed64", &[0x09, 1, 2], Err("buffer underflow")),
            (
                "length past the end",
                &[0x12, 0x05, b'h'],
                Err("buffer underflow"),
            ),
            (
                "11-byte varint",
                &[
                    0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00,
                ],
                Err("invalid varint"),
            ),
            (
                "varint over 64 bits",
                &[
                    0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
                ],
                Err("invalid varint"),
            ),
        ];
        for (name, buf, expected) in cases {
            let got = fields(buf).map_err(|e| e.0);
            assert_eq!(got, expected.clone().map_err(str::to_owned), "{name}");
        }
    }

    #[test]
    fn varints_agree_with_prost() {
        let values = [0, 1, 127, 128, 300, u64::from(u32::MAX), 1 << 56, u64::MAX];
        for v in values {
            let mut buf = Vec::new();
            prost::encoding::encode_varint(v, &mut buf);
            assert_eq!(varint(&buf), Ok((v, buf.len())), "{v}");
        }
    }

    #[test]
    fn uint32s_packed_and_unpacked() {
        let mut out = Vec::new();
        Value::Varint(7).uint32s("refs", &mut out).unwrap();
        Value::Bytes(&[0x01, 0x96, 0x01])
            .uint32s("refs", &mut out)
            .unwrap();
        Value::Varint(u64::from(u32::MAX) + 2)
            .uint32s("refs", &mut out)
            .unwrap();
        assert_eq!(out, [7, 1, 150, 1]);
        assert!(Value::Bytes(&[0x80]).uint32s("refs", &mut out).is_err());
        assert!(Value::Fixed64(1).uint32s("refs", &mut out).is_err());
    }
}
