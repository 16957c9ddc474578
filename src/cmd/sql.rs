//! `omen sql QUERY --input PATH_OR_GLOB...`: run any SQL over Parquet metrics, with Omen's
//! detectors as window functions (`omen_score(value) OVER (PARTITION BY ... ORDER BY ts)`).
//!
//! The result is streamed: the first `--max-rows` rows are printed as a table, and with
//! `--output` every row goes to a Parquet or CSV file (through a temporary name, renamed into
//! place only when the query finished).

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use futures::StreamExt;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use omen_ingest::temporary_for;

use omen_config::Config;

use crate::cli::SqlArgs;

/// Run `omen sql`.
pub(crate) fn run(args: &SqlArgs) -> Result<()> {
    let config = Config::load(args.config.as_deref())?;
    let format = args.output.as_deref().map(OutputFormat::of).transpose()?;
    let runtime = super::async_runtime()?;
    runtime.block_on(query(args, &config, format))
}

/// What `--output` is written as, from its extension.
#[derive(Debug, Clone, Copy)]
enum OutputFormat {
    Parquet,
    Csv,
}

impl OutputFormat {
    fn of(path: &Path) -> Result<Self> {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("parquet") => Ok(Self::Parquet),
            Some(e) if e.eq_ignore_ascii_case("csv") => Ok(Self::Csv),
            _ => bail!(
                "cannot tell the format of `{}`: name the output FILE.parquet or FILE.csv",
                path.display()
            ),
        }
    }
}

async fn query(args: &SqlArgs, config: &Config, format: Option<OutputFormat>) -> Result<()> {
    let (ctx, inputs) = omen_ingest::metrics_session(&args.input).await?;
    omen_sql::register(&ctx, &config.detector, &config.verdict);
    let frame = ctx
        .sql(&args.query)
        .await
        .map_err(|err| omen_ingest::Error::Sql {
            message: err.find_root().to_string(),
        })?;
    let schema: SchemaRef = frame.schema().inner().clone();
    let mut stream = frame.execute_stream().await.map_err(query_failed)?;

    let mut sink = match (&args.output, format) {
        (Some(path), Some(format)) => Some(Sink::create(path, format, &schema)?),
        _ => None,
    };
    let mut shown: Vec<RecordBatch> = Vec::new();
    let (mut rows, mut shown_rows) = (0_u64, 0_usize);
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(query_failed)?;
        rows += batch.num_rows() as u64;
        if shown_rows < args.max_rows {
            let take = batch.num_rows().min(args.max_rows - shown_rows);
            shown.push(batch.slice(0, take));
            shown_rows += take;
        }
        if let Some(sink) = &mut sink {
            sink.write(&batch)?;
        }
    }

    if args.max_rows > 0 {
        let table = arrow::util::pretty::pretty_format_batches(&shown)
            .context("cannot format the result")?;
        let mut out = io::stdout().lock();
        // A closed pipe (`omen sql ... | head`) is not an error.
        let _ = writeln!(out, "{table}");
    }
    let more = rows.saturating_sub(shown_rows as u64);
    let files = inputs.len();
    match more {
        0 => eprintln!("omen sql: {rows} row(s) from {files} file(s)"),
        more => eprintln!(
            "omen sql: {rows} row(s) from {files} file(s); {more} not shown{}",
            if sink.is_some() {
                ""
            } else {
                " (--max-rows, or --output FILE to keep them all)"
            }
        ),
    }
    if let (Some(sink), Some(path)) = (sink, &args.output) {
        sink.finish(path)?;
        eprintln!("omen sql: wrote `{}`", path.display());
    }
    Ok(())
}

/// DataFusion wraps an error in the steps it went through ("Optimizer rule ... failed"), each
/// repeating the message; the root says what is wrong.
fn query_failed(err: datafusion::error::DataFusionError) -> anyhow::Error {
    anyhow::anyhow!("the query failed: {}", err.find_root())
}

/// The `--output` file while it is written: a temporary file beside it.
struct Sink {
    file: tempfile::NamedTempFile,
    writer: Writer,
}

enum Writer {
    Parquet(ArrowWriter<File>),
    Csv(csv::Writer<io::BufWriter<File>>),
}

impl Sink {
    fn create(path: &Path, format: OutputFormat, schema: &SchemaRef) -> Result<Self> {
        let file = temporary_for(path)?;
        let handle = file
            .reopen()
            .with_context(|| format!("cannot write `{}`", path.display()))?;
        let writer = match format {
            OutputFormat::Parquet => {
                let props = WriterProperties::builder()
                    .set_compression(Compression::SNAPPY)
                    .build();
                Writer::Parquet(
                    ArrowWriter::try_new(handle, schema.clone(), Some(props))
                        .with_context(|| format!("cannot write `{}`", path.display()))?,
                )
            }
            OutputFormat::Csv => {
                let mut writer = csv::Writer::from_writer(io::BufWriter::new(handle));
                writer.write_record(schema.fields().iter().map(|f| f.name().as_str()))?;
                Writer::Csv(writer)
            }
        };
        Ok(Self { file, writer })
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        match &mut self.writer {
            Writer::Parquet(writer) => writer.write(batch).context("cannot write the output")?,
            Writer::Csv(writer) => write_csv(writer, batch)?,
        }
        Ok(())
    }

    fn finish(self, path: &Path) -> Result<()> {
        let context = || format!("cannot write `{}`", path.display());
        match self.writer {
            Writer::Parquet(writer) => {
                writer.close().with_context(context)?;
            }
            Writer::Csv(writer) => {
                writer
                    .into_inner()
                    .map_err(|err| err.into_error())
                    .with_context(context)?
                    .flush()
                    .with_context(context)?;
            }
        }
        self.file.as_file().sync_all().with_context(context)?;
        self.file
            .persist(path)
            .map_err(|err| err.error)
            .with_context(context)?;
        Ok(())
    }
}

/// Every row of `batch` as CSV, each value as Arrow displays it (timestamps in RFC 3339,
/// NULL as an empty field).
fn write_csv(writer: &mut csv::Writer<io::BufWriter<File>>, batch: &RecordBatch) -> Result<()> {
    let options = FormatOptions::default();
    let formatters = batch
        .columns()
        .iter()
        .map(|column| ArrayFormatter::try_new(column.as_ref(), &options))
        .collect::<std::result::Result<Vec<_>, _>>()
        .context("cannot format the result as CSV")?;
    let mut record = Vec::with_capacity(formatters.len());
    for row in 0..batch.num_rows() {
        record.clear();
        record.extend(formatters.iter().map(|f| f.value(row).to_string()));
        writer
            .write_record(&record)
            .context("cannot write the output")?;
    }
    Ok(())
}
