//! Running a detector over one window partition: the partition's rows arrive sorted by the
//! window's `ORDER BY`, and each gets one part of its score.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanBuilder, Float64Builder};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, Int64Type, TimeUnit};
use datafusion::common::{Result, exec_err};
use datafusion::error::DataFusionError;
use datafusion::logical_expr::PartitionEvaluator;
use omen_core::{Score, Status};
use omen_detect::EnsembleConfig;
use omen_engine::{SeriesReplay, Step, VerdictConfig};

use crate::window::Output;

/// The evaluator of one partition: a fresh replay of one series.
#[derive(Debug)]
pub(crate) struct DetectorEvaluator {
    output: Output,
    name: String,
    detector: EnsembleConfig,
    verdict: VerdictConfig,
}

impl DetectorEvaluator {
    pub(crate) fn new(
        output: Output,
        name: &str,
        arguments: usize,
        detector: EnsembleConfig,
        verdict: VerdictConfig,
    ) -> Result<Self> {
        if arguments != 2 {
            return exec_err!(
                "{name} got no timestamp: write {name}(value, ts), or order the window by the \
                 timestamp, {name}(value) OVER (PARTITION BY series ORDER BY ts)"
            );
        }
        Ok(Self {
            output,
            name: name.to_owned(),
            detector,
            verdict,
        })
    }
}

impl PartitionEvaluator for DetectorEvaluator {
    fn evaluate_all(&mut self, values: &[ArrayRef], num_rows: usize) -> Result<ArrayRef> {
        let [value, timestamp] = values else {
            return exec_err!("{} expects 2 arguments, got {}", self.name, values.len());
        };
        let value = cast(value, &DataType::Float64)?;
        let value = value.as_primitive::<Float64Type>();
        let timestamp = epoch_millis(&self.name, timestamp)?;
        let timestamp = timestamp.as_primitive::<Int64Type>();

        let mut replay = SeriesReplay::new(self.detector.clone(), self.verdict.clone())
            .map_err(|err| DataFusionError::Execution(format!("{}: {err}", self.name)))?;
        let mut column = OutputColumn::new(self.output, num_rows);
        for row in 0..num_rows {
            if value.is_null(row) || timestamp.is_null(row) {
                column.push_missing();
                continue;
            }
            let at = timestamp.value(row);
            match replay.step(b"", at, value.value(row)) {
                Step::Scored { score, .. } if score.status == Status::SkippedNotFinite => {
                    column.push_missing()
                }
                Step::Scored { score, anomaly } => column.push(&score, anomaly),
                Step::Duplicate => column.push_missing(),
                Step::OutOfOrder { last_ms } => {
                    let name = &self.name;
                    return exec_err!(
                        "{name}: a partition goes back in time (timestamp {at} after {last_ms}); \
                         order the window by the timestamp: \
                         {name}(value) OVER (PARTITION BY series ORDER BY ts)"
                    );
                }
            }
        }
        Ok(column.finish())
    }
}

/// The result column as it is built. A row is null when it has no score: its value or
/// timestamp was null, its value not finite, or its timestamp a duplicate of the previous row's.
enum OutputColumn {
    Number(Output, Float64Builder),
    Verdict(BooleanBuilder),
}

impl OutputColumn {
    fn new(output: Output, rows: usize) -> Self {
        match output {
            Output::Anomaly => Self::Verdict(BooleanBuilder::with_capacity(rows)),
            _ => Self::Number(output, Float64Builder::with_capacity(rows)),
        }
    }

    fn push_missing(&mut self) {
        match self {
            Self::Number(_, column) => column.append_null(),
            Self::Verdict(column) => column.append_null(),
        }
    }

    fn push(&mut self, score: &Score, anomaly: bool) {
        match self {
            Self::Number(output, column) => column.append_value(match output {
                Output::Score => score.score,
                Output::Expected => score.expected,
                Output::Lower => score.lower,
                Output::Upper => score.upper,
                Output::Anomaly => unreachable!("a verdict column holds booleans"),
            }),
            Self::Verdict(column) => column.append_value(anomaly),
        }
    }

    fn finish(self) -> ArrayRef {
        match self {
            Self::Number(_, mut column) => Arc::new(column.finish()),
            Self::Verdict(mut column) => Arc::new(column.finish()),
        }
    }
}

/// The timestamps as epoch milliseconds: Arrow timestamps of any unit are converted, integers
/// are taken as milliseconds already.
fn epoch_millis(name: &str, timestamp: &ArrayRef) -> Result<ArrayRef> {
    match timestamp.data_type() {
        DataType::Timestamp(TimeUnit::Millisecond, _) => Ok(cast(timestamp, &DataType::Int64)?),
        DataType::Timestamp(_, _) => {
            let millis = cast(timestamp, &DataType::Timestamp(TimeUnit::Millisecond, None))?;
            Ok(cast(&millis, &DataType::Int64)?)
        }
        t if t.is_integer() => Ok(cast(timestamp, &DataType::Int64)?),
        other => exec_err!(
            "{name}: the timestamp must be an Arrow timestamp or integer epoch milliseconds, \
             got {other}"
        ),
    }
}
