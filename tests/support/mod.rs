//! Running the built `omen` binary from integration tests, as a user runs it.

// Not every helper is used by every build of the tests (some only by tests that skip here).
#![allow(dead_code)]

pub mod capture;
pub mod compliance;
pub mod http;
pub mod process;
pub mod server;

use std::ffi::OsStr;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use arrow::array::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// A finished run of the binary.
pub struct Run {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Run `omen` with `args` in the test's working directory.
pub fn omen<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    finish(Command::new(env!("CARGO_BIN_EXE_omen")).args(args))
}

/// Run `omen` with `args` and one environment variable set.
pub fn omen_with_env<I, S>(args: I, (name, value): (&str, &str)) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    finish(
        Command::new(env!("CARGO_BIN_EXE_omen"))
            .args(args)
            .env(name, value),
    )
}

/// Run `omen` with `args` in `cwd` (for defaults that are relative to the working directory).
pub fn omen_in<I, S>(args: I, cwd: &Path) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    finish(
        Command::new(env!("CARGO_BIN_EXE_omen"))
            .args(args)
            .current_dir(cwd),
    )
}

fn finish(command: &mut Command) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("the omen binary runs");
    Run {
        success: status.success(),
        stdout: String::from_utf8(stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(stderr).expect("stderr is UTF-8"),
    }
}

/// Every batch of the Parquet file at `path`.
pub fn read_parquet(path: &Path) -> Vec<RecordBatch> {
    ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap())
        .unwrap()
        .build()
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// `omen datasets generate` into `dir/data` at 5-minute steps; returns that directory.
pub fn generate_shop(dir: &Path, series: usize, days: u32) -> PathBuf {
    let data = dir.join("data");
    let run = omen([
        "datasets",
        "generate",
        "--out",
        data.to_str().unwrap(),
        "--series",
        &series.to_string(),
        "--days",
        &days.to_string(),
        "--step-seconds",
        "300",
    ]);
    assert!(run.success, "{}", run.stderr);
    data
}
