#![doc = include_str!("../README.md")]

mod axis;
mod chart;
mod downsample;
mod error;
mod html;

pub use downsample::{MAX_DRAWN_POINTS, downsample};
pub use error::{Error, Result};

/// One anomaly interval of a series, shaded on its chart and listed in the table under it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IntervalMark {
    /// First anomalous sample, Unix milliseconds.
    pub start_ms: i64,
    /// Last anomalous sample, Unix milliseconds.
    pub end_ms: i64,
    /// The highest-scoring sample, Unix milliseconds.
    pub peak_ms: i64,
    /// Its score.
    pub peak_score: f64,
    /// What the engine says about the peak, in one line.
    pub explanation: String,
}

/// One series to chart: its samples, the engine's expectation and band, and its verdicts.
///
/// Every per-point vector is either as long as `timestamps_ms` or empty (empty `expected`,
/// `lower` and `upper` mean "unknown everywhere", an empty `anomaly` means "nothing anomalous").
/// A NaN (or infinite) value breaks the line or band it belongs to; so does a pause in the
/// timestamps of more than five times the usual step.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SeriesChart {
    /// The series' labels, e.g. `{__name__="orders_per_minute", instance="shop-3"}`.
    pub title: String,
    /// Sample timestamps, Unix milliseconds, ascending.
    pub timestamps_ms: Vec<i64>,
    /// Sample values.
    pub values: Vec<f64>,
    /// The expected value per sample; NaN where unknown (warm-up).
    pub expected: Vec<f64>,
    /// The band's lower edge per sample; NaN where unknown.
    pub lower: Vec<f64>,
    /// The band's upper edge per sample; NaN where unknown.
    pub upper: Vec<f64>,
    /// The engine's verdict per sample.
    pub anomaly: Vec<bool>,
    /// The series' anomaly intervals, in time order.
    pub intervals: Vec<IntervalMark>,
    /// The series' highest score, shown next to its title.
    pub peak_score: f64,
}

impl SeriesChart {
    /// Checks that the per-point vectors fit the timestamps and that time does not go backwards.
    pub fn validate(&self) -> Result<()> {
        let n = self.timestamps_ms.len();
        let check = |field: &'static str, got: usize, may_be_empty: bool| {
            if got == n || (may_be_empty && got == 0) {
                Ok(())
            } else {
                Err(Error::LengthMismatch {
                    series: self.title.clone(),
                    field,
                    expected: n,
                    got,
                })
            }
        };
        check("values", self.values.len(), false)?;
        check("expected", self.expected.len(), true)?;
        check("lower", self.lower.len(), true)?;
        check("upper", self.upper.len(), true)?;
        check("anomaly", self.anomaly.len(), true)?;
        if let Some(index) = self.timestamps_ms.windows(2).position(|w| w[1] < w[0]) {
            return Err(Error::Unordered {
                series: self.title.clone(),
                index: index + 1,
            });
        }
        Ok(())
    }
}

/// The whole report: a title, the run's summary and the charts, most anomalous first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    /// The page's title, e.g. `Omen analysis of shop.parquet`.
    pub title: String,
    /// Key/value rows shown under the title: series analysed, points, anomalies, input, ...
    pub summary: Vec<(String, String)>,
    /// One chart per series, drawn in this order.
    pub charts: Vec<SeriesChart>,
    /// Tables shown under the summary, before the charts.
    pub tables: Vec<Table>,
}

/// A plain table of text cells, with a heading and an optional note under it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    /// The table's heading.
    pub title: String,
    /// Column headers.
    pub columns: Vec<String>,
    /// Rows of cells, as many as `columns`.
    pub rows: Vec<Vec<String>>,
    /// A line under the table, e.g. how many rows were left out.
    pub note: Option<String>,
}

/// Renders the report as one self-contained HTML page (inline CSS and SVG, no script).
pub fn render_html(report: &Report) -> Result<String> {
    for series in &report.charts {
        series.validate()?;
    }
    html::page(report)
}

/// Renders the report (as [`render_html`]) and writes it to `out`.
pub fn write_html<W: std::io::Write>(report: &Report, mut out: W) -> Result<()> {
    let page = render_html(report)?;
    out.write_all(page.as_bytes())?;
    out.flush()?;
    Ok(())
}
