//! The `metrics` table: Parquet files registered in a DataFusion session, optionally queried
//! with SQL, streamed as record batches.
//!
//! Reading keeps the files' own order when it can (one partition, files by path, rows as
//! stored), because metrics files are nearly always written in time order and a sort of
//! 100 million rows costs more than detecting on them. When the caller finds the order broken,
//! it asks for [`ReadOrder::SortedBySeriesAndTime`], which DataFusion sorts in parallel and
//! spills to disk beyond [`SORT_MEMORY_LIMIT`].

mod inputs;
mod layout;

use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{DataFrame, ParquetReadOptions, SessionConfig, SessionContext, col};

pub use inputs::{InputFile, expand_inputs, find_unreadable};
pub use layout::{Layout, LayoutKind, SeriesBatch, TableOptions, WIDE_SERIES_COLUMN};

use crate::{Error, Result};

/// The name the input files are registered under, for `--sql`.
pub const TABLE_NAME: &str = "metrics";

/// Memory DataFusion may use for a sort before it spills to disk.
pub const SORT_MEMORY_LIMIT: usize = 1 << 30;

/// Rows per record batch: four times DataFusion's default, which halved the per-batch costs
/// of routing and encoding scores (100 M points in `omen analyze`: 14.6 s -> 13.0 s).
const BATCH_SIZE: usize = 32768;

/// In which order [`MetricsTable::stream`] returns rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOrder {
    /// As stored: files by path, rows in file order (or as the SQL query returns them).
    AsStored,
    /// Sorted by the series columns, then the timestamp.
    SortedBySeriesAndTime,
}

/// Parquet inputs, the SQL over them and the layout of the result.
#[derive(Debug)]
pub struct MetricsTable {
    inputs: Vec<InputFile>,
    sql: Option<String>,
    layout: Layout,
    /// The query as planned by `open`, in a one-partition session: the stored-order read.
    stored_order: DataFrame,
}

impl MetricsTable {
    /// Expand and check the inputs, plan the query (`SELECT * FROM metrics` without `sql`) and
    /// find the layout of its result.
    pub async fn open(
        patterns: &[String],
        sql: Option<&str>,
        options: &TableOptions,
    ) -> Result<Self> {
        let inputs = expand_inputs(patterns)?;
        let sql = sql.map(str::to_owned);
        let stored_order = query(&session(1)?, &inputs, sql.as_deref()).await?;
        let layout = Layout::detect(stored_order.schema().inner().clone(), options)?;
        Ok(Self {
            inputs,
            sql,
            layout,
            stored_order,
        })
    }

    /// The input files, sorted by path.
    pub fn inputs(&self) -> &[InputFile] {
        &self.inputs
    }

    /// Rows in all input files, from their footers (the query may return fewer or more).
    pub fn input_rows(&self) -> u64 {
        self.inputs.iter().map(|f| f.rows).sum()
    }

    /// Whether a SQL query selects from the files.
    pub fn has_sql(&self) -> bool {
        self.sql.is_some()
    }

    /// The columns' roles in the query's result.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Run the query and stream its result in `order`.
    pub async fn stream(&self, order: ReadOrder) -> Result<SendableRecordBatchStream> {
        let stream = match order {
            ReadOrder::AsStored => self.stored_order.clone().execute_stream().await,
            ReadOrder::SortedBySeriesAndTime => {
                let partitions = std::thread::available_parallelism().map_or(2, |n| n.get());
                let frame = query(&session(partitions)?, &self.inputs, self.sql.as_deref()).await?;
                let schema = self.layout.input_schema().clone();
                let mut keys: Vec<_> = self
                    .layout
                    .series
                    .iter()
                    .map(|&at| col(format!("\"{}\"", schema.field(at).name())).sort(true, true))
                    .collect();
                keys.push(col(format!("\"{}\"", self.layout.timestamp_name())).sort(true, true));
                frame
                    .sort(keys)
                    .map_err(query_error)?
                    .execute_stream()
                    .await
            }
        };
        stream.map_err(query_error)
    }
}

/// Expand and check `patterns` and register the files as the table `metrics` in a new session
/// that uses every core, for queries of the caller's own (`omen sql`). Returns the session and
/// the input files, sorted by path.
pub async fn metrics_session(patterns: &[String]) -> Result<(SessionContext, Vec<InputFile>)> {
    let inputs = expand_inputs(patterns)?;
    let partitions = std::thread::available_parallelism().map_or(2, |n| n.get());
    let ctx = session(partitions)?;
    register_inputs(&ctx, &inputs).await?;
    Ok((ctx, inputs))
}

/// A session with `partitions` target partitions and a memory limit for sorts.
fn session(partitions: usize) -> Result<SessionContext> {
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_limit(SORT_MEMORY_LIMIT, 1.0)
        .build_arc()
        .map_err(query_error)?;
    let config = SessionConfig::new()
        .with_target_partitions(partitions)
        .with_batch_size(BATCH_SIZE);
    Ok(SessionContext::new_with_config_rt(config, runtime))
}

/// Register `inputs` as `metrics` in `ctx` and plan `sql` (everything without it).
async fn query(ctx: &SessionContext, inputs: &[InputFile], sql: Option<&str>) -> Result<DataFrame> {
    register_inputs(ctx, inputs).await?;
    let sql = sql.unwrap_or("SELECT * FROM metrics");
    ctx.sql(sql).await.map_err(|err| Error::Sql {
        message: err.to_string(),
    })
}

/// Register `inputs` as one table, `metrics`, in `ctx`.
async fn register_inputs(ctx: &SessionContext, inputs: &[InputFile]) -> Result<()> {
    let paths: Vec<String> = inputs
        .iter()
        .map(|f| {
            std::path::absolute(&f.path)
                .unwrap_or_else(|_| f.path.clone())
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let files = ctx
        .read_parquet(paths, ParquetReadOptions::default())
        .await
        .map_err(|err| Error::Query {
            message: format!("cannot open the input files as one table: {err}"),
        })?;
    ctx.register_table(TABLE_NAME, files.into_view())
        .map_err(query_error)?;
    Ok(())
}

fn query_error(err: datafusion::error::DataFusionError) -> Error {
    Error::Query {
        message: err.to_string(),
    }
}
