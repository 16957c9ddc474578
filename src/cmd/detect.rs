//! `omen detect FILE.csv [--out OUT.csv]`: run the default detector over one CSV series, in
//! file order, and write one result row per input row.
//!
//! The input is streamed row by row, so memory does not grow with the file. With `--out` the
//! results go to a temporary file in the same directory that is renamed over `OUT.csv` only
//! when everything succeeded, so a failure never leaves a partial file. Without it they go to
//! stdout, and a closed pipe (`omen detect x.csv | head`) ends the run quietly.

use std::fmt;
use std::io::{self, Read, Write};
use std::path::Path;

use anyhow::Result;
use omen_core::{Detector, Score, Status};
use omen_detect::{Ensemble, EnsembleConfig};
use omen_ingest::{CsvOptions, CsvReader, CsvRow};

use omen_ingest::write_atomically;

use crate::cli::DetectArgs;

/// The output columns, in order.
const HEADER: [&str; 7] = [
    "timestamp",
    "value",
    "anomaly_score",
    "expected",
    "lower",
    "upper",
    "status",
];

/// Run `omen detect`.
pub(crate) fn run(args: &DetectArgs) -> Result<()> {
    let options = CsvOptions::default()
        .with_timestamp_column(&args.timestamp_column)
        .with_value_column(&args.value_column);
    let reader = CsvReader::open(&args.file, &options).map_err(with_hint)?;
    let mut detector = Ensemble::new(EnsembleConfig::default());
    let summary = match &args.out {
        Some(out) => write_atomically(out, |file| -> Result<_> {
            score_rows(reader, &mut detector, file).map_err(|failure| failure.into_anyhow(out))
        })?,
        None => match score_rows(reader, &mut detector, &mut io::stdout().lock()) {
            Ok(summary) => summary,
            // The reader of our output has gone (`| head`): nobody wants the rest.
            Err(Failure::Output(err)) if err.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
            Err(failure) => return Err(failure.into_anyhow(Path::new("stdout"))),
        },
    };
    eprintln!("{summary}");
    if let Some(out) = &args.out {
        eprintln!("omen detect: wrote `{}`", out.display());
    }
    Ok(())
}

/// Add how to fix it, in this command's terms, to an error about the input's header.
fn with_hint(err: omen_ingest::Error) -> anyhow::Error {
    match err {
        omen_ingest::Error::MissingColumn { .. } | omen_ingest::Error::AmbiguousColumn { .. } => {
            anyhow::anyhow!(
                "{err}\nhint: name the columns to use with --timestamp-column and --value-column"
            )
        }
        err => err.into(),
    }
}

/// Why scoring stopped: the input (named in the error) or the output (named by the caller).
#[derive(Debug)]
enum Failure {
    Input(omen_ingest::Error),
    Output(io::Error),
}

impl Failure {
    fn into_anyhow(self, out: &Path) -> anyhow::Error {
        match self {
            Failure::Input(err) => err.into(),
            Failure::Output(err) => {
                anyhow::Error::new(err).context(format!("cannot write `{}`", out.display()))
            }
        }
    }
}

impl From<csv::Error> for Failure {
    fn from(err: csv::Error) -> Self {
        // Writing CSV can only fail on I/O; keep the io::Error so a broken pipe is recognised.
        Failure::Output(match err.into_kind() {
            csv::ErrorKind::Io(err) => err,
            other => io::Error::other(format!("{other:?}")),
        })
    }
}

/// Score every row of `reader` in order and write the results as CSV to `out`.
fn score_rows<R: Read>(
    mut reader: CsvReader<R>,
    detector: &mut dyn Detector,
    out: &mut dyn Write,
) -> Result<Summary, Failure> {
    let mut summary = Summary::new(reader.path());
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(HEADER)?;
    for row in reader.by_ref() {
        let row = row.map_err(Failure::Input)?;
        let score = detector.update(row.sample);
        summary.add(&row, &score);
        writer.write_field(&row.timestamp_text)?;
        writer.write_field(&row.value_text)?;
        writer.write_field(number(score.score))?;
        writer.write_field(number(score.expected))?;
        writer.write_field(number(score.lower))?;
        writer.write_field(number(score.upper))?;
        writer.write_field(status_name(score.status))?;
        writer.write_record(None::<&[u8]>)?;
    }
    writer.flush().map_err(Failure::Output)?;
    summary.rows = reader.stats().rows;
    Ok(summary)
}

/// A number cell: empty when the detector has no opinion (NaN).
fn number(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else {
        x.to_string()
    }
}

/// The status as written in the output, in snake_case.
fn status_name(status: Status) -> &'static str {
    match status {
        Status::WarmingUp => "warming_up",
        Status::Ready => "ready",
        Status::SkippedNotFinite => "skipped_not_finite",
        Status::SkippedOutOfOrder => "skipped_out_of_order",
    }
}

/// What a run did, printed to stderr at the end.
#[derive(Debug)]
struct Summary {
    input: String,
    rows: u64,
    scored: u64,
    warming_up: u64,
    not_finite: u64,
    out_of_order: u64,
    max: Option<MaxScore>,
}

/// The highest score and where it was (the first row, when several share it).
#[derive(Debug)]
struct MaxScore {
    score: f64,
    timestamp: String,
    line: u64,
}

impl Summary {
    fn new(input: &Path) -> Self {
        Self {
            input: input.display().to_string(),
            rows: 0,
            scored: 0,
            warming_up: 0,
            not_finite: 0,
            out_of_order: 0,
            max: None,
        }
    }

    fn add(&mut self, row: &CsvRow, score: &Score) {
        match score.status {
            Status::Ready => self.scored += 1,
            Status::WarmingUp => self.warming_up += 1,
            Status::SkippedNotFinite => self.not_finite += 1,
            Status::SkippedOutOfOrder => self.out_of_order += 1,
        }
        let higher = self.max.as_ref().is_none_or(|max| score.score > max.score);
        if score.is_ready() && score.score.is_finite() && higher {
            self.max = Some(MaxScore {
                score: score.score,
                timestamp: row.timestamp_text.clone(),
                line: row.line,
            });
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "omen detect: {} rows from `{}`: {} scored, {} warming up, {} skipped ({} not finite, \
             {} out of order)",
            self.rows,
            self.input,
            self.scored,
            self.warming_up,
            self.not_finite + self.out_of_order,
            self.not_finite,
            self.out_of_order,
        )?;
        match &self.max {
            Some(max) => write!(
                f,
                "omen detect: max score {:.4} at `{}` (line {})",
                max.score, max.timestamp, max.line
            ),
            None => write!(
                f,
                "omen detect: no row was scored, so there is no max score"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use omen_core::Sample;

    use super::*;

    /// A detector that replays fixed scores, to test the output independently of the model.
    #[derive(Debug)]
    struct Scripted(std::vec::IntoIter<Score>);

    impl Detector for Scripted {
        fn name(&self) -> &'static str {
            "scripted"
        }
        fn update(&mut self, _: Sample) -> Score {
            self.0.next().unwrap()
        }
    }

    fn ready(score: f64, expected: f64) -> Score {
        let mut s = Score::unscored(Status::Ready);
        s.score = score;
        s.expected = expected;
        s.lower = expected - 1.0;
        s.upper = expected + 1.0;
        s
    }

    #[test]
    fn writes_text_as_in_input_and_empty_cells_for_nan() {
        let input = "Time,Value\n\"2024-01-01 00:00:00\",1.50\n1704067260,nan\n1704067200,3\n\
                     1704067320,2\n";
        let reader = CsvReader::from_reader(
            input.as_bytes(),
            "in.csv",
            &CsvOptions::default().with_timestamp_column("time"),
        )
        .unwrap();
        let mut detector = Scripted(
            vec![
                Score::unscored(Status::WarmingUp),
                Score::unscored(Status::SkippedNotFinite),
                Score::unscored(Status::SkippedOutOfOrder),
                ready(0.25, 2.0),
            ]
            .into_iter(),
        );
        let mut out = Vec::new();
        let summary = score_rows(reader, &mut detector, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "timestamp,value,anomaly_score,expected,lower,upper,status\n\
             2024-01-01 00:00:00,1.50,0,,,,warming_up\n\
             1704067260,nan,0,,,,skipped_not_finite\n\
             1704067200,3,0,,,,skipped_out_of_order\n\
             1704067320,2,0.25,2,1,3,ready\n"
        );
        assert_eq!(
            summary.to_string(),
            "omen detect: 4 rows from `in.csv`: 1 scored, 1 warming up, 2 skipped (1 not finite, \
             1 out of order)\nomen detect: max score 0.2500 at `1704067320` (line 5)"
        );
    }

    #[test]
    fn an_input_error_stops_with_the_input_error() {
        let input = "timestamp,value\n0,1\n60,x\n";
        let reader =
            CsvReader::from_reader(input.as_bytes(), "in.csv", &CsvOptions::default()).unwrap();
        let mut detector = Ensemble::new(EnsembleConfig::default());
        let err = score_rows(reader, &mut detector, &mut Vec::new()).unwrap_err();
        assert!(matches!(err, Failure::Input(_)), "{err:?}");
    }
}
