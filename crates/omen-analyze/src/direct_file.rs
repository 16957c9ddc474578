//! A file written around the page cache (`O_DIRECT`), for `scores.parquet`.
//!
//! `omen analyze` writes about 40 bytes per point: 4 GB for 100 million points. Through the
//! page cache, the kernel copies every byte into pages it has to find and zero first, and that
//! was 13 % of the CPU time of such a run (over 2 s of system time to write 3.4 GB with `dd`
//! here, 0.7 s with `oflag=direct`). Only `--report` reads the scores back, once, and then from
//! the disk instead of the cache; everything else gains by sending them straight to the disk
//! from one reused buffer.
//!
//! Direct I/O wants block-aligned buffers, offsets and lengths, so whole buffers of
//! [`BUFFER_BYTES`] are written, and the tail of the file is written in the ordinary way at
//! [`finish`](DirectFile::finish). Where the file system refuses direct I/O (tmpfs, some
//! network or overlay file systems, other systems than Linux) the file is written in the
//! ordinary way from the start, or from the refused write on: the same bytes either way.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// Bytes per write: large enough that each system call moves a lot, small enough to be
/// nothing next to the workers' row groups.
const BUFFER_BYTES: usize = 4 << 20;

/// The alignment direct I/O asks for on any common device (logical blocks of 512 or 4096).
const ALIGNMENT: usize = 4096;

/// A file being written, directly to the disk where the system allows it.
pub(crate) struct DirectFile {
    file: File,
    /// Holds [`BUFFER_BYTES`] from `start`, which is aligned to [`ALIGNMENT`].
    memory: Vec<u8>,
    start: usize,
    /// Bytes in the buffer.
    len: usize,
    /// Whether the file is open for direct I/O.
    direct: bool,
}

impl DirectFile {
    /// Open the existing, empty file at `path` for writing.
    pub(crate) fn open(path: &Path) -> io::Result<Self> {
        let (file, direct) = match open_direct(path) {
            Ok(file) => (file, true),
            Err(_) => (OpenOptions::new().write(true).open(path)?, false),
        };
        let memory = vec![0u8; BUFFER_BYTES + ALIGNMENT];
        let start = memory.as_ptr().align_offset(ALIGNMENT);
        Ok(Self {
            file,
            memory,
            start,
            len: 0,
            direct,
        })
    }

    /// Whether writes go around the page cache (for the tests).
    #[cfg(test)]
    pub(crate) fn is_direct(&self) -> bool {
        self.direct
    }

    /// Write what is left and return the file, to be synced by the caller.
    pub(crate) fn finish(mut self) -> io::Result<File> {
        if self.len > 0 {
            // The tail is not a whole block: write it the ordinary way.
            self.leave_direct_mode()?;
            let range = self.start..self.start + self.len;
            self.file.write_all(&self.memory[range])?;
            self.len = 0;
        }
        Ok(self.file)
    }

    /// Write the full buffer out.
    fn write_buffer(&mut self) -> io::Result<()> {
        let mut done = 0;
        while done < self.len {
            let from = self.start + done;
            match self.file.write(&self.memory[from..self.start + self.len]) {
                Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero)),
                Ok(n) => done += n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                // Refused (EINVAL): some file systems accept the flag at open and not at write,
                // and a short write leaves the rest unaligned. A refused write wrote nothing,
                // so the rest goes again the ordinary way.
                Err(err) if self.direct && err.raw_os_error() == Some(EINVAL) => {
                    self.leave_direct_mode()?
                }
                Err(err) => return Err(err),
            }
        }
        self.len = 0;
        if !self.direct {
            start_writeback(&self.file);
        }
        Ok(())
    }

    fn leave_direct_mode(&mut self) -> io::Result<()> {
        if self.direct {
            clear_direct_flag(&self.file)?;
            self.direct = false;
        }
        Ok(())
    }
}

impl Write for DirectFile {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = BUFFER_BYTES - self.len;
        let n = data.len().min(room);
        let at = self.start + self.len;
        self.memory[at..at + n].copy_from_slice(&data[..n]);
        self.len += n;
        if self.len == BUFFER_BYTES {
            self.write_buffer()?;
        }
        Ok(n)
    }

    /// Nothing: only whole buffers can go out before [`finish`](DirectFile::finish).
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(target_os = "linux")]
const EINVAL: i32 = libc::EINVAL;
#[cfg(not(target_os = "linux"))]
const EINVAL: i32 = 22;

#[cfg(target_os = "linux")]
fn open_direct(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_DIRECT)
        .open(path)
}

#[cfg(not(target_os = "linux"))]
fn open_direct(_path: &Path) -> io::Result<File> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

#[cfg(target_os = "linux")]
fn clear_direct_flag(file: &File) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor this File owns, with integer arguments only.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_DIRECT) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn clear_direct_flag(_file: &File) -> io::Result<()> {
    Ok(())
}

/// Ask the kernel to start writing the file's dirty pages now, without waiting for them, when
/// the page cache is used after all: otherwise nothing would be written before the final
/// `sync_all`, which then had the whole file to flush while every core sat idle.
#[cfg(target_os = "linux")]
fn start_writeback(file: &File) {
    use std::os::fd::AsRawFd;
    // SAFETY: a plain system call on an open descriptor; offset and length 0 mean "the whole
    // file". Failure is harmless: the final sync_all still flushes and reports errors.
    unsafe {
        libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_file: &File) {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes that show where each one came from.
    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
    }

    fn write_in_pieces(path: &Path, data: &[u8], piece: usize) -> bool {
        let mut file = DirectFile::open(path).unwrap();
        let direct = file.is_direct();
        for chunk in data.chunks(piece) {
            file.write_all(chunk).unwrap();
        }
        file.finish().unwrap().sync_all().unwrap();
        direct
    }

    #[test]
    fn the_file_holds_exactly_the_bytes_written() {
        let dir = tempfile::tempdir().unwrap();
        // Less than a buffer, exactly one, and several with a tail, in odd-sized pieces.
        for len in [0, 1, 4095, BUFFER_BYTES, 2 * BUFFER_BYTES + 12_345] {
            let path = dir.path().join(format!("f{len}"));
            File::create(&path).unwrap();
            let data = pattern(len);
            write_in_pieces(&path, &data, 100_003);
            assert_eq!(std::fs::read(&path).unwrap(), data, "{len} bytes");
        }
    }

    #[test]
    fn a_file_system_without_direct_io_gets_the_same_bytes() {
        // /dev/shm is tmpfs on Linux, which refuses O_DIRECT: the ordinary path is taken.
        let shm = Path::new("/dev/shm");
        if !shm.is_dir() {
            eprintln!("skipped: no /dev/shm on this system");
            return;
        }
        let dir = tempfile::tempdir_in(shm).unwrap();
        let path = dir.path().join("f");
        File::create(&path).unwrap();
        let data = pattern(BUFFER_BYTES + 999);
        write_in_pieces(&path, &data, 65_536);
        assert_eq!(std::fs::read(&path).unwrap(), data);
    }
}
