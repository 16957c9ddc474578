//! Exact line numbers for CSV records.
//!
//! The `csv` crate's own record positions are off after blank lines and in files with CRLF
//! line endings (rust-csv issues 208 and 395), and an operator needs the right line to fix a
//! file. [`LineCounter`] sits between the file and the CSV reader and notes where each `\n`
//! is; the reader's byte position after a record then gives the record's exact line.

use std::collections::VecDeque;
use std::io::{self, Read};

/// A reader that remembers the offsets of the `\n` bytes it has passed on and not yet counted.
///
/// Memory is bounded by the newlines in the CSV reader's read-ahead buffer.
#[derive(Debug)]
pub(crate) struct LineCounter<R> {
    inner: R,
    /// Bytes read so far.
    offset: u64,
    /// Offsets of newlines read but not yet counted.
    pending: VecDeque<u64>,
    /// Newlines counted so far.
    counted: u64,
    /// The offset of the last newline counted.
    last_counted: Option<u64>,
}

impl<R> LineCounter<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self {
            inner,
            offset: 0,
            pending: VecDeque::new(),
            counted: 0,
            last_counted: None,
        }
    }

    /// The 1-based line of the last byte before `end`, where `end` is the CSV reader's byte
    /// position right after a record. Calls must come with non-decreasing `end`.
    ///
    /// After a record the reader stands just past its `\n` (LF endings) or between its `\r` and
    /// `\n` (CRLF endings), or at the end of the file: in the first case the newlines before
    /// `end` include the record's own terminator, in the others they do not.
    pub(crate) fn line_ending_at(&mut self, end: u64) -> u64 {
        while let Some(&newline) = self.pending.front() {
            if newline >= end {
                break;
            }
            self.pending.pop_front();
            self.counted += 1;
            self.last_counted = Some(newline);
        }
        let ends_with_newline = end > 0 && self.last_counted == Some(end - 1);
        if ends_with_newline {
            self.counted
        } else {
            self.counted + 1
        }
    }
}

impl<R: Read> Read for LineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let start = self.offset;
        self.pending.extend(
            buf[..n]
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| start + i as u64),
        );
        self.offset += n as u64;
        Ok(n)
    }
}
