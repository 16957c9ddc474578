//! The snapshot file: every series' state, written atomically, read back at start.
//!
//! One file, `live-state.bin` in the data directory:
//!
//! ```text
//! "OMENLIVE"  u32 format version (LE)  u32 header length  header (postcard)
//! record*     each: u32 length (LE, < 0xFFFF_FFFF)  record (postcard)
//! 0xFFFF_FFFF u64 record count (LE)  u64 checksum (LE)
//! ```
//!
//! The header holds the shard count at writing (for information: series are re-routed on
//! restore, so any shard count reads any file), the time, and the detector's settings; a
//! record is one series (labels, kind, ordering and counter state, detector, open interval).
//! The checksum is the stable hash (`hash::stable_hash`) chained over the header and every
//! record, so a truncated or damaged file is detected rather than half-read.
//!
//! The shards write their own records in turn into the same buffered file (one shard pauses at
//! a time, and nothing is gathered in memory); then the file is flushed, fsynced, renamed over
//! the previous snapshot, and the directory fsynced. A crash at any point leaves the previous
//! snapshot whole.

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use omen_detect::EnsembleConfig;
use serde::{Deserialize, Serialize};

use super::hash::stable_hash;
use super::series::{Record, RecordRef};

/// The snapshot's file name in the data directory.
pub const FILE_NAME: &str = "live-state.bin";
const MAGIC: &[u8; 8] = b"OMENLIVE";
/// The format this build writes and reads. Bumped whenever the detector's serialised state
/// changes (postcard is not self-describing): 2 stored a season search's buffer in its
/// compact form (two bytes a slot), 3 added the recurrence counts under the tails, 4 their
/// counts of sustained episodes, 5 stored the detector's settings in the header only, no longer
/// in every record, 6 dropped the level memory's smoothing factor from every record (it is a
/// setting, in the header).
pub const FORMAT_VERSION: u32 = 6;
// This build reads the format it writes and no other: versions 1 to 3 lack some of the
// recurrence counts, and 1 to 5 hold settings in every record, so their records cannot be read
// by this detector. Such a snapshot is moved aside and every series starts afresh.
const END: u32 = u32::MAX;
/// No record is near this; a longer length means a damaged file.
const MAX_RECORD: u32 = 64 << 20;
const SEED: u64 = 0x736e_6170_7368_6f74; // "snapshot"

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Header {
    pub(crate) shards: u32,
    pub(crate) written_unix_ms: u64,
    pub(crate) detector: EnsembleConfig,
}

impl Header {
    pub(crate) fn new(shards: usize, detector: &EnsembleConfig) -> Self {
        Self {
            shards: shards as u32,
            written_unix_ms: unix_ms(),
            detector: detector.clone(),
        }
    }
}

/// Milliseconds since the Unix epoch, now.
pub(crate) fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Records going into one snapshot.
#[derive(Debug)]
pub(crate) struct SnapshotWriter {
    out: CountingWriter,
    checksum: u64,
    records: u64,
    scratch: Vec<u8>,
}

impl SnapshotWriter {
    pub(crate) fn new(out: Box<dyn Write + Send>, header: &Header) -> io::Result<Self> {
        let mut writer = Self {
            out: CountingWriter {
                inner: out,
                bytes: 0,
            },
            checksum: SEED,
            records: 0,
            scratch: Vec::new(),
        };
        writer.out.write_all(MAGIC)?;
        writer.out.write_all(&FORMAT_VERSION.to_le_bytes())?;
        let header = postcard::to_stdvec(header).map_err(io::Error::other)?;
        writer.out.write_all(&(header.len() as u32).to_le_bytes())?;
        writer.out.write_all(&header)?;
        writer.checksum = stable_hash(writer.checksum, &header);
        Ok(writer)
    }

    pub(crate) fn record(&mut self, record: &RecordRef<'_>) -> io::Result<()> {
        self.scratch.clear();
        postcard::to_io(record, &mut self.scratch).map_err(io::Error::other)?;
        self.out
            .write_all(&(self.scratch.len() as u32).to_le_bytes())?;
        self.out.write_all(&self.scratch)?;
        self.checksum = stable_hash(self.checksum, &self.scratch);
        self.records += 1;
        Ok(())
    }

    /// Series written so far.
    pub(crate) fn records(&self) -> u64 {
        self.records
    }

    /// Write the trailer and flush; gives back the sink.
    pub(crate) fn finish(mut self) -> io::Result<(Box<dyn Write + Send>, u64)> {
        self.out.write_all(&END.to_le_bytes())?;
        self.out.write_all(&self.records.to_le_bytes())?;
        self.out.write_all(&self.checksum.to_le_bytes())?;
        self.out.flush()?;
        Ok((self.out.inner, self.out.bytes))
    }
}

struct CountingWriter {
    inner: Box<dyn Write + Send>,
    bytes: u64,
}

impl std::fmt::Debug for CountingWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CountingWriter")
            .field("bytes", &self.bytes)
            .finish()
    }
}

impl Write for CountingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A snapshot that was written.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotInfo {
    /// The file.
    pub path: PathBuf,
    /// Series in it.
    pub series: u64,
    /// Its size in bytes.
    pub bytes: u64,
    /// How long writing it took.
    pub duration: Duration,
}

/// Write a snapshot to `dir/live-state.bin` atomically. `fill` passes the writer through
/// every shard, which appends its series.
pub(crate) fn write(
    dir: &Path,
    header: &Header,
    fill: impl FnOnce(Box<SnapshotWriter>) -> io::Result<Box<SnapshotWriter>>,
) -> io::Result<SnapshotInfo> {
    let started = Instant::now();
    let path = dir.join(FILE_NAME);
    let temp = dir.join(format!("{FILE_NAME}.tmp"));
    let result = (|| {
        let file = File::create(&temp)?;
        let out = BufWriter::with_capacity(1 << 20, file.try_clone()?);
        let writer = Box::new(SnapshotWriter::new(Box::new(out), header)?);
        let writer = fill(writer)?;
        let series = writer.records();
        let (out, bytes) = writer.finish()?;
        drop(out);
        file.sync_all()?;
        fs::rename(&temp, &path)?;
        // The rename is durable once the directory is; some systems cannot sync one.
        if let Ok(dir) = File::open(dir) {
            let _ = dir.sync_all();
        }
        Ok((series, bytes))
    })();
    match result {
        Ok((series, bytes)) => Ok(SnapshotInfo {
            path,
            series,
            bytes,
            duration: started.elapsed(),
        }),
        Err(err) => {
            let _ = fs::remove_file(&temp);
            Err(err)
        }
    }
}

/// Why a snapshot could not be used.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The file could not be read at all (permissions, I/O): the operator must act.
    Io(io::Error),
    /// The file is damaged or of another format: it is moved aside.
    Unusable(String),
    /// The file is whole but was written with other detector settings.
    SettingsChanged,
}

impl From<io::Error> for ReadError {
    fn from(err: io::Error) -> Self {
        if err.kind() == io::ErrorKind::UnexpectedEof {
            ReadError::Unusable("the file is truncated".into())
        } else {
            ReadError::Io(err)
        }
    }
}

/// Read `path`, giving each record to `each` in file order; `Ok(None)` when there is no file.
/// On an error, records already given must be discarded by the caller.
pub(crate) fn read(
    path: &Path,
    detector: &EnsembleConfig,
    mut each: impl FnMut(Record) -> Result<(), String>,
) -> Result<Option<Header>, ReadError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(ReadError::Io(err)),
    };
    let mut input = BufReader::with_capacity(1 << 20, file);
    let unusable = |what: String| Err(ReadError::Unusable(what));
    let mut magic = [0u8; 8];
    input.read_exact(&mut magic)?;
    if &magic != MAGIC {
        return unusable("not an Omen live-state file (bad magic bytes)".into());
    }
    let version = read_u32(&mut input)?;
    if version != FORMAT_VERSION {
        return unusable(format!(
            "format version {version}; this build reads versions [{FORMAT_VERSION}]"
        ));
    }
    let mut buf = Vec::new();
    read_block(&mut input, &mut buf)?;
    let header: Header = match postcard::from_bytes(&buf) {
        Ok(header) => header,
        Err(err) => return unusable(format!("bad header: {err}")),
    };
    if header.detector != *detector {
        return Err(ReadError::SettingsChanged);
    }
    let mut checksum = stable_hash(SEED, &buf);
    let mut records = 0u64;
    loop {
        let len = read_u32(&mut input)?;
        if len == END {
            break;
        }
        if len > MAX_RECORD {
            return unusable(format!("record {records} claims {len} bytes"));
        }
        buf.resize(len as usize, 0);
        input.read_exact(&mut buf)?;
        checksum = stable_hash(checksum, &buf);
        let record: Record = match postcard::from_bytes(&buf) {
            Ok(record) => record,
            Err(err) => return unusable(format!("record {records} does not decode: {err}")),
        };
        if let Err(err) = each(record) {
            return unusable(format!("record {records}: {err}"));
        }
        records += 1;
    }
    let count = read_u64(&mut input)?;
    let want = read_u64(&mut input)?;
    if count != records {
        return unusable(format!(
            "the trailer counts {count} series, the file has {records}"
        ));
    }
    if want != checksum {
        return unusable("the checksum does not match (the file is damaged)".into());
    }
    if input.read(&mut [0u8; 1])? != 0 {
        return unusable("bytes after the trailer".into());
    }
    Ok(Some(header))
}

fn read_u32(input: &mut impl Read) -> io::Result<u32> {
    let mut bytes = [0u8; 4];
    input.read_exact(&mut bytes)?;
    Ok(u32::from_le_bytes(bytes))
}

fn read_u64(input: &mut impl Read) -> io::Result<u64> {
    let mut bytes = [0u8; 8];
    input.read_exact(&mut bytes)?;
    Ok(u64::from_le_bytes(bytes))
}

fn read_block(input: &mut impl Read, buf: &mut Vec<u8>) -> Result<(), ReadError> {
    let len = read_u32(input)?;
    if len > MAX_RECORD {
        return Err(ReadError::Unusable(format!("header claims {len} bytes")));
    }
    buf.resize(len as usize, 0);
    input.read_exact(buf)?;
    Ok(())
}

/// Move a file that cannot be used out of the way, keeping it for a person to look at:
/// `live-state.bin` becomes `live-state.bin.unusable-<unix seconds>`.
pub(crate) fn move_aside(path: &Path) -> io::Result<PathBuf> {
    let mut to = path.as_os_str().to_owned();
    to.push(format!(".unusable-{}", unix_ms() / 1000));
    let to = PathBuf::from(to);
    fs::rename(path, &to)?;
    Ok(to)
}
