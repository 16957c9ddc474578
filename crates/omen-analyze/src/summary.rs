//! The summary `omen analyze` prints: what was read, what was found, and the most anomalous
//! series.

use std::fmt::Write as _;
use std::time::Duration;

use omen_engine::{ReplayReport, SeriesReport};

use crate::error::Result;
use omen_ingest::SeriesKeys;

/// One line of the top-series table.
#[derive(Debug)]
pub(crate) struct TopSeries {
    /// The series key, as the pipeline made it.
    pub(crate) key: Box<[u8]>,
    /// `name=value, ...`.
    pub(crate) name: String,
    pub(crate) peak_score: f64,
    intervals: usize,
    anomalous_points: u64,
    points: u64,
}

/// Totals over all workers and the top series.
#[derive(Debug)]
pub(crate) struct Summary {
    series: usize,
    points: u64,
    duplicates: u64,
    anomalous_points: u64,
    intervals: usize,
    anomalous_series: usize,
    top: Vec<TopSeries>,
}

impl Summary {
    /// Sum `reports` and keep the `top` series with the highest peak score among those with
    /// at least one anomaly interval.
    pub(crate) fn new(reports: &[ReplayReport], keys: &SeriesKeys, top: usize) -> Result<Self> {
        let mut summary = Self {
            series: 0,
            points: 0,
            duplicates: 0,
            anomalous_points: 0,
            intervals: 0,
            anomalous_series: 0,
            top: Vec::new(),
        };
        let mut ranked: Vec<(&SeriesReport, usize)> = Vec::new();
        for report in reports {
            let mut intervals = vec![0usize; report.series.len()];
            for (at, _) in &report.intervals {
                intervals[*at] += 1;
            }
            for (series, count) in report.series.iter().zip(intervals) {
                summary.series += 1;
                summary.points += series.points;
                summary.duplicates += series.duplicates;
                summary.anomalous_points += series.anomalous_points;
                summary.intervals += count;
                if count > 0 {
                    summary.anomalous_series += 1;
                    ranked.push((series, count));
                }
            }
        }
        ranked.sort_by(|a, b| {
            b.0.peak_score
                .total_cmp(&a.0.peak_score)
                .then(b.0.anomalous_points.cmp(&a.0.anomalous_points))
                .then(a.0.key.cmp(&b.0.key))
        });
        ranked.truncate(top);
        let names = keys.describe(ranked.iter().map(|(s, _)| &*s.key))?;
        summary.top = ranked
            .into_iter()
            .zip(names)
            .map(|((s, intervals), name)| TopSeries {
                key: s.key.clone(),
                name,
                peak_score: s.peak_score,
                intervals,
                anomalous_points: s.anomalous_points,
                points: s.points,
            })
            .collect();
        Ok(summary)
    }

    /// The most anomalous series, highest peak score first.
    pub(crate) fn top(&self) -> &[TopSeries] {
        &self.top
    }

    /// Series analysed.
    pub(crate) fn series(&self) -> usize {
        self.series
    }

    /// Points scored.
    pub(crate) fn points(&self) -> u64 {
        self.points
    }

    /// Series with at least one anomaly interval.
    pub(crate) fn anomalous_series(&self) -> usize {
        self.anomalous_series
    }

    /// Points judged anomalous.
    pub(crate) fn anomalous_points(&self) -> u64 {
        self.anomalous_points
    }

    /// Anomaly intervals.
    pub(crate) fn intervals(&self) -> usize {
        self.intervals
    }

    /// The summary as text, ending with a newline.
    pub(crate) fn render(
        &self,
        rows_read: u64,
        rows_written: u64,
        null_timestamps: u64,
        elapsed: Duration,
    ) -> String {
        let secs = elapsed.as_secs_f64();
        let mut out = String::new();
        let _ = writeln!(
            out,
            "analysed {} series, {} points in {:.2} s ({} points/s)",
            self.series,
            self.points,
            secs,
            thousands((self.points as f64 / secs.max(1e-9)) as u64)
        );
        let mut dropped = Vec::new();
        if self.duplicates > 0 {
            dropped.push(format!("{} duplicate timestamps", self.duplicates));
        }
        if null_timestamps > 0 {
            dropped.push(format!("{null_timestamps} null timestamps"));
        }
        if !dropped.is_empty() {
            let _ = writeln!(
                out,
                "dropped {} of {} rows read: {}",
                rows_read.saturating_sub(rows_written),
                rows_read,
                dropped.join(", ")
            );
        }
        let _ = writeln!(
            out,
            "anomalies: {} intervals, {} anomalous points, in {} of {} series",
            self.intervals, self.anomalous_points, self.anomalous_series, self.series
        );
        if !self.top.is_empty() {
            let _ = writeln!(out, "\ntop anomalous series, by peak score:");
            let _ = writeln!(
                out,
                "  {:>6}  {:>9}  {:>9}  {:>9}  series",
                "peak", "intervals", "anomalous", "points"
            );
            for t in &self.top {
                let _ = writeln!(
                    out,
                    "  {:>6.3}  {:>9}  {:>9}  {:>9}  {}",
                    t.peak_score, t.intervals, t.anomalous_points, t.points, t.name
                );
            }
            let _ = writeln!(out);
        }
        out
    }
}

/// 12345678 as `12,345,678`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        for (n, want) in [
            (0, "0"),
            (999, "999"),
            (1000, "1,000"),
            (12_345_678, "12,345,678"),
        ] {
            assert_eq!(thousands(n), want);
        }
    }
}
