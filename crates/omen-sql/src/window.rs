//! The window functions' definitions: names, argument types, result fields, and the rewrite
//! that passes the window's `ORDER BY` column as the timestamp when the query gives none.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, FieldRef, TimeUnit};
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::expr::WindowFunction;
use datafusion::logical_expr::function::{
    PartitionEvaluatorArgs, WindowFunctionSimplification, WindowUDFFieldArgs,
};
use datafusion::logical_expr::{Expr, PartitionEvaluator, Signature, Volatility, WindowUDFImpl};
use omen_detect::EnsembleConfig;
use omen_engine::VerdictConfig;

use crate::evaluator::DetectorEvaluator;

/// Which part of the detector's answer a window function returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Output {
    /// The anomaly score in [0, 1] (`omen_score`).
    Score,
    /// The expected value (`omen_expected`).
    Expected,
    /// The lower edge of the normal band (`omen_lower`).
    Lower,
    /// The upper edge of the normal band (`omen_upper`).
    Upper,
    /// The verdict: warm and at or above the threshold (`omen_anomaly`).
    Anomaly,
}

impl Output {
    /// Every output, in the order the functions are registered.
    pub const ALL: [Output; 5] = [
        Output::Score,
        Output::Expected,
        Output::Lower,
        Output::Upper,
        Output::Anomaly,
    ];

    /// The SQL name of the function that returns this output.
    pub fn function_name(self) -> &'static str {
        match self {
            Output::Score => "omen_score",
            Output::Expected => "omen_expected",
            Output::Lower => "omen_lower",
            Output::Upper => "omen_upper",
            Output::Anomaly => "omen_anomaly",
        }
    }

    fn data_type(self) -> DataType {
        match self {
            Output::Anomaly => DataType::Boolean,
            _ => DataType::Float64,
        }
    }
}

/// One of Omen's window functions: a fresh default detector per window partition, fed the
/// partition's rows in order, returning one part of each row's score.
#[derive(Debug, Clone)]
pub struct DetectorWindow {
    output: Output,
    signature: Signature,
    detector: EnsembleConfig,
    verdict: VerdictConfig,
    /// The settings as JSON: DataFusion compares and hashes functions, and the settings hold
    /// floats, which have neither `Eq` nor `Hash`.
    settings_key: String,
}

impl DetectorWindow {
    /// The function for `output`, with these detector and verdict settings.
    pub fn new(output: Output, detector: EnsembleConfig, verdict: VerdictConfig) -> Self {
        let settings_key = serde_json::to_string(&(&detector, &verdict))
            .expect("detector settings serialise to JSON");
        Self {
            output,
            signature: Signature::user_defined(Volatility::Immutable),
            detector,
            verdict,
            settings_key,
        }
    }
}

impl PartialEq for DetectorWindow {
    fn eq(&self, other: &Self) -> bool {
        self.output == other.output && self.settings_key == other.settings_key
    }
}

impl Eq for DetectorWindow {}

impl Hash for DetectorWindow {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.output.hash(state);
        self.settings_key.hash(state);
    }
}

impl WindowUDFImpl for DetectorWindow {
    fn name(&self) -> &str {
        self.output.function_name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    /// `f(value)` or `f(value, timestamp)`: the value becomes a float; the timestamp may be an
    /// Arrow timestamp of any unit or integer epoch milliseconds.
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.name();
        let (value, timestamp) = match arg_types {
            [value] => (value, None),
            [value, timestamp] => (value, Some(timestamp)),
            _ => {
                return plan_err!(
                    "{name} takes the value and optionally the timestamp, \
                     {name}(value [, ts]); got {} arguments",
                    arg_types.len()
                );
            }
        };
        if !value.is_numeric() && !value.is_null() {
            return plan_err!("{name}: the value must be a number, got {value}");
        }
        let mut coerced = vec![DataType::Float64];
        if let Some(timestamp) = timestamp {
            coerced.push(timestamp_type(name, timestamp)?);
        }
        Ok(coerced)
    }

    fn partition_evaluator(
        &self,
        args: PartitionEvaluatorArgs,
    ) -> Result<Box<dyn PartitionEvaluator>> {
        Ok(Box::new(DetectorEvaluator::new(
            self.output,
            self.name(),
            args.input_fields().len(),
            self.detector.clone(),
            self.verdict.clone(),
        )?))
    }

    fn field(&self, field_args: WindowUDFFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(Field::new(
            field_args.name(),
            self.output.data_type(),
            true,
        )))
    }

    /// `f(value) OVER (... ORDER BY ts)` becomes `f(value, ts)`: a window function sees only
    /// its arguments, and the detector needs each row's time.
    fn simplify(&self) -> Option<WindowFunctionSimplification> {
        let name = self.name().to_owned();
        Some(Box::new(move |mut function: WindowFunction, _info| {
            if function.params.args.len() == 1 {
                let Some(first) = function.params.order_by.first() else {
                    return plan_err!(
                        "{name} needs the rows in time order: \
                         {name}(value) OVER (PARTITION BY series ORDER BY ts)"
                    );
                };
                function.params.args.push(first.expr.clone());
            }
            if let Some(first) = function.params.order_by.first()
                && !first.asc
            {
                return plan_err!(
                    "{name} reads each partition from the oldest row: \
                     order the window ascending (ORDER BY ts, not ORDER BY ts DESC)"
                );
            }
            Ok(Expr::from(function))
        }))
    }
}

/// The type the timestamp argument is cast to.
fn timestamp_type(name: &str, given: &DataType) -> Result<DataType> {
    match given {
        DataType::Timestamp(_, zone) => {
            Ok(DataType::Timestamp(TimeUnit::Millisecond, zone.clone()))
        }
        t if t.is_integer() => Ok(DataType::Int64),
        other => plan_err!(
            "{name}: the timestamp must be an Arrow timestamp or integer epoch milliseconds, \
             got {other}"
        ),
    }
}
