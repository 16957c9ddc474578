//! One series' chart as an SVG document, drawn with plotters' SVG backend.
//!
//! Layers, bottom to top: grid and axes, anomaly intervals (light red spans), the band
//! (lower..upper, light blue), the expected value (grey, dashed), the value (blue) and the
//! anomalous points (red dots). A NaN in a track, or a pause in the timestamps, breaks that
//! track: nothing is drawn across it, and no NaN ever reaches a coordinate.

use std::collections::HashSet;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::SeriesChart;
use crate::axis::{TimeAxis, ValueFormat};
use crate::downsample::{MAX_DRAWN_POINTS, downsample};
use crate::html::escape;

/// The chart's size in SVG user units; the page scales it to its width through the viewBox.
pub(crate) const WIDTH: u32 = 1000;
/// See [`WIDTH`].
pub(crate) const HEIGHT: u32 = 300;

const X_LABELS: usize = 8;
const Y_LABELS: usize = 6;
/// A pause longer than this many usual steps breaks the lines and the band.
const GAP_FACTOR: i64 = 5;
/// The font size plotters is told; its SVG backend writes `size / 1.24`, about 12.
const FONT_SIZE: f64 = 15.0;

const VALUE: RGBColor = RGBColor(9, 105, 218);
const BAND: RGBColor = RGBColor(84, 174, 255);
const ANOMALY: RGBColor = RGBColor(207, 34, 46);
const SPAN: RGBColor = RGBColor(255, 80, 80);
const GRID: RGBColor = RGBColor(232, 235, 239);
const AXIS: RGBColor = RGBColor(175, 184, 193);
const LABEL: RGBColor = RGBColor(87, 96, 106);
/// The expected line's colour, used by no other element: plotters' SVG backend cannot dash a
/// line, so the polylines of this exact colour get `stroke-dasharray` afterwards.
const EXPECTED: RGBColor = RGBColor(101, 109, 118);
const EXPECTED_STROKE: &str = "stroke=\"#656D76\"";
const EXPECTED_DASHED: &str = "stroke=\"#656D76\" stroke-dasharray=\"5 4\"";

/// The value at `i`, NaN where the vector is empty.
fn at(values: &[f64], i: usize) -> f64 {
    values.get(i).copied().unwrap_or(f64::NAN)
}

/// Where a track breaks: prefix counts of the samples that are invalid for the track or that
/// follow a pause, so that "nothing breaks between kept samples a and b" is one subtraction.
struct Breaks {
    prefix: Vec<u32>,
}

impl Breaks {
    fn new(n: usize, valid: impl Fn(usize) -> bool, pause_before: &[bool]) -> Self {
        let mut prefix = Vec::with_capacity(n + 1);
        let mut count = 0u32;
        prefix.push(0);
        for (i, &pause) in pause_before.iter().enumerate().take(n) {
            if !valid(i) || pause {
                count += 1;
            }
            prefix.push(count);
        }
        Self { prefix }
    }

    /// Whether the track runs unbroken from sample `a` to sample `b > a` (both valid).
    fn connected(&self, a: usize, b: usize) -> bool {
        self.prefix[b + 1] == self.prefix[a + 1]
    }
}

/// The kept samples of one track, split into runs that are drawn as one line or polygon each.
fn segments(kept: &[usize], valid: impl Fn(usize) -> bool, breaks: &Breaks) -> Vec<Vec<usize>> {
    let mut runs = Vec::new();
    let mut run: Vec<usize> = Vec::new();
    for &i in kept {
        if !valid(i) {
            if !run.is_empty() {
                runs.push(std::mem::take(&mut run));
            }
            continue;
        }
        if let Some(&last) = run.last()
            && !breaks.connected(last, i)
        {
            runs.push(std::mem::take(&mut run));
        }
        run.push(i);
    }
    if !run.is_empty() {
        runs.push(run);
    }
    runs
}

/// Whether sample `i` comes after a pause of more than [`GAP_FACTOR`] usual steps.
fn pauses(timestamps_ms: &[i64]) -> Vec<bool> {
    let mut steps: Vec<i64> = timestamps_ms
        .windows(2)
        .map(|w| w[1].saturating_sub(w[0]))
        .filter(|&d| d > 0)
        .collect();
    let mut pause = vec![false; timestamps_ms.len()];
    if steps.len() < 2 {
        return pause;
    }
    let middle = steps.len() / 2;
    let usual = *steps.select_nth_unstable(middle).1;
    let limit = usual.saturating_mul(GAP_FACTOR);
    for (i, w) in timestamps_ms.windows(2).enumerate() {
        pause[i + 1] = w[1].saturating_sub(w[0]) > limit;
    }
    pause
}

/// Thins a run down to what one pixel column can show: per column, the first and last samples,
/// and with `extremes` also the lowest and highest by `key`. Order is kept.
fn per_column(
    run: &[usize],
    column: impl Fn(usize) -> i32,
    key: impl Fn(usize) -> f64,
    extremes: bool,
) -> Vec<usize> {
    let mut out = Vec::with_capacity(run.len().min(4 * WIDTH as usize));
    let mut start = 0;
    while start < run.len() {
        let col = column(run[start]);
        let mut end = start + 1;
        while end < run.len() && column(run[end]) == col {
            end += 1;
        }
        let group = &run[start..end];
        if group.len() <= 4 {
            out.extend_from_slice(group);
        } else {
            let mut picks = vec![group[0], group[group.len() - 1]];
            if extremes {
                let by_key = |a: &&usize, b: &&usize| key(**a).total_cmp(&key(**b));
                picks.extend(group.iter().min_by(by_key));
                picks.extend(group.iter().max_by(by_key));
            }
            picks.sort_unstable();
            picks.dedup();
            out.extend(picks);
        }
        start = end;
    }
    out
}

/// The value axis: values and expected values in full, the band only up to half the data's
/// span beyond them (a wide warm-up band must not flatten the series), plus a margin; not below
/// zero for data that is not.
fn y_range(series: &SeriesChart) -> (f64, f64) {
    let finite = |v: &&f64| v.is_finite();
    let fold = |range: Option<(f64, f64)>, v: &f64| match range {
        None => Some((*v, *v)),
        Some((lo, hi)) => Some((lo.min(*v), hi.max(*v))),
    };
    let core = series
        .values
        .iter()
        .chain(&series.expected)
        .filter(finite)
        .fold(None, fold);
    let band = series
        .lower
        .iter()
        .chain(&series.upper)
        .filter(finite)
        .fold(None, fold);
    let (lo, hi) = match (core, band) {
        (Some((lo, hi)), Some((band_lo, band_hi))) => {
            let reach = (hi - lo) * 0.5;
            (
                lo.min(band_lo.max(lo - reach)),
                hi.max(band_hi.min(hi + reach)),
            )
        }
        (Some(range), None) | (None, Some(range)) => range,
        (None, None) => (0.0, 1.0),
    };
    let pad = if hi > lo {
        (hi - lo) * 0.06
    } else {
        (lo.abs() * 0.1).max(1.0)
    };
    let bottom = if lo >= 0.0 && lo - pad < 0.0 {
        0.0
    } else {
        lo - pad
    };
    (bottom, hi + pad)
}

/// A chart with a sentence instead of data, the same size as the others.
fn placeholder(title: &str, message: &str) -> String {
    format!(
        "<svg class=\"chart\" role=\"img\" aria-label=\"{label}\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
         viewBox=\"0 0 {WIDTH} {HEIGHT}\" xmlns=\"http://www.w3.org/2000/svg\">\n\
         <rect x=\"0.5\" y=\"0.5\" width=\"{w}\" height=\"{h}\" fill=\"none\" stroke=\"#D0D7DE\"/>\n\
         <text x=\"{cx}\" y=\"{cy}\" text-anchor=\"middle\" fill=\"#57606A\">{text}</text>\n</svg>\n",
        label = escape(title),
        w = WIDTH - 1,
        h = HEIGHT - 1,
        cx = WIDTH / 2,
        cy = HEIGHT / 2,
        text = escape(message),
    )
}

/// The series' chart as an `<svg class="chart">` element.
pub(crate) fn svg(series: &SeriesChart) -> Result<String, String> {
    let ts = &series.timestamps_ms;
    let n = ts.len();
    if n == 0 {
        return Ok(placeholder(&series.title, "no samples"));
    }
    let value = |i: usize| at(&series.values, i);
    let expected = |i: usize| at(&series.expected, i);
    let lower = |i: usize| at(&series.lower, i);
    let upper = |i: usize| at(&series.upper, i);
    let has_value = |i: usize| value(i).is_finite();
    let has_expected = |i: usize| expected(i).is_finite();
    let has_band = |i: usize| lower(i).is_finite() && upper(i).is_finite();

    let (x0, x1) = if ts[n - 1] > ts[0] {
        (ts[0], ts[n - 1])
    } else {
        (ts[0].saturating_sub(60_000), ts[0].saturating_add(60_000))
    };
    let (y0, y1) = y_range(series);
    let kept = downsample(ts, &series.values, &series.anomaly, MAX_DRAWN_POINTS);
    let pause_before = pauses(ts);
    let value_runs = segments(&kept, has_value, &Breaks::new(n, has_value, &pause_before));
    let expected_runs = segments(
        &kept,
        has_expected,
        &Breaks::new(n, has_expected, &pause_before),
    );
    let band_runs = segments(&kept, has_band, &Breaks::new(n, has_band, &pause_before));
    let format = ValueFormat::for_axis(y0, y1, Y_LABELS);
    let err = |e: &dyn std::fmt::Display| e.to_string();

    let mut out = String::new();
    {
        let root: DrawingArea<SVGBackend<'_>, Shift> =
            SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
        let mut chart = ChartBuilder::on(&root)
            .margin_top(12)
            .margin_right(24)
            .margin_bottom(4)
            .margin_left(4)
            .x_label_area_size(28)
            .y_label_area_size(60)
            .build_cartesian_2d(TimeAxis::new(x0, x1, X_LABELS), y0..y1)
            .map_err(|e| err(&e))?;
        let label_font = ("sans-serif", FONT_SIZE).into_font().color(&LABEL);
        chart
            .configure_mesh()
            .x_labels(X_LABELS)
            .y_labels(Y_LABELS)
            .y_label_formatter(&|v| format.format(*v))
            .label_style(label_font)
            .axis_style(AXIS)
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .set_all_tick_mark_size(4)
            .draw()
            .map_err(|e| err(&e))?;

        let area = chart.plotting_area();
        let column = |i: usize| chart.backend_coord(&(ts[i], y0)).0;
        let clamp = |v: f64| v.clamp(y0, y1);

        // Anomaly intervals, at least 3 px wide so a one-sample interval still shows.
        let min_width = ((x1 as f64 - x0 as f64) * 3.0 / f64::from(WIDTH)) as i64;
        for mark in &series.intervals {
            let (mut a, mut b) = (mark.start_ms.max(x0), mark.end_ms.min(x1));
            if b < a {
                continue;
            }
            if b - a < min_width {
                let middle = a + (b - a) / 2;
                a = (middle - min_width / 2).max(x0);
                b = (middle + min_width / 2).min(x1);
            }
            area.draw(&Rectangle::new([(a, y0), (b, y1)], SPAN.mix(0.14).filled()))
                .map_err(|e| err(&e))?;
        }

        for run in &band_runs {
            let run = per_column(run, column, upper, false);
            if run.len() < 2 {
                continue;
            }
            let outline: Vec<(i64, f64)> = run
                .iter()
                .map(|&i| (ts[i], clamp(upper(i))))
                .chain(run.iter().rev().map(|&i| (ts[i], clamp(lower(i)))))
                .collect();
            area.draw(&Polygon::new(outline, BAND.mix(0.28).filled()))
                .map_err(|e| err(&e))?;
        }

        for run in &expected_runs {
            let run = per_column(run, column, expected, true);
            let points: Vec<(i64, f64)> =
                run.iter().map(|&i| (ts[i], clamp(expected(i)))).collect();
            if points.len() >= 2 {
                area.draw(&PathElement::new(points, EXPECTED.stroke_width(1)))
                    .map_err(|e| err(&e))?;
            }
        }

        for run in &value_runs {
            let run = per_column(run, column, value, true);
            let points: Vec<(i64, f64)> = run.iter().map(|&i| (ts[i], value(i))).collect();
            if let [single] = points[..] {
                area.draw(&Circle::new(single, 1.5, VALUE.filled()))
                    .map_err(|e| err(&e))?;
            } else {
                area.draw(&PathElement::new(points, VALUE.stroke_width(1)))
                    .map_err(|e| err(&e))?;
            }
        }

        // Anomalous points: every one, but one dot per pixel is enough; smaller dots when
        // there are many, so that the line under a long incident stays readable.
        let mut seen = HashSet::new();
        let dots: Vec<(i64, f64)> = (0..n)
            .filter(|&i| series.anomaly.get(i) == Some(&true) && has_value(i))
            .map(|i| (ts[i], value(i)))
            .filter(|point| seen.insert(chart.backend_coord(point)))
            .collect();
        let radius = if dots.len() > 40 { 2 } else { 3 };
        for point in dots {
            area.draw(&Circle::new(point, radius, ANOMALY.filled()))
                .map_err(|e| err(&e))?;
        }
        root.present().map_err(|e| err(&e))?;
    }

    let opening = format!(
        "<svg class=\"chart\" role=\"img\" aria-label=\"{}\" ",
        escape(&series.title)
    );
    Ok(out
        .replacen("<svg ", &opening, 1)
        .replace(EXPECTED_STROKE, EXPECTED_DASHED))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_and_pauses_split_tracks() {
        let ts = [0, 10, 20, 30, 40, 1_000, 1_010, 1_020];
        let vs = [1.0, 2.0, f64::NAN, 3.0, 4.0, 5.0, 6.0, 7.0];
        let valid = |i: usize| vs[i].is_finite();
        let pause = pauses(&ts);
        assert_eq!(pause.iter().filter(|&&p| p).count(), 1);
        let breaks = Breaks::new(ts.len(), valid, &pause);
        let all: Vec<usize> = (0..ts.len()).collect();
        assert_eq!(
            segments(&all, valid, &breaks),
            vec![vec![0, 1], vec![3, 4], vec![5, 6, 7]]
        );
        // A NaN that downsampling skipped still breaks the line.
        assert_eq!(
            segments(&[0, 1, 3, 4], valid, &breaks),
            vec![vec![0, 1], vec![3, 4]]
        );
    }

    #[test]
    fn one_column_keeps_first_last_and_extremes() {
        let vs = [5.0, 1.0, 9.0, 4.0, 3.0, 6.0];
        let run: Vec<usize> = (0..vs.len()).collect();
        assert_eq!(per_column(&run, |_| 7, |i| vs[i], true), vec![0, 1, 2, 5]);
        assert_eq!(per_column(&run, |_| 7, |i| vs[i], false), vec![0, 5]);
        assert_eq!(per_column(&run, |i| i as i32, |i| vs[i], false), run);
    }

    #[test]
    fn y_range_starts_at_zero_for_positive_data_and_tames_wide_bands() {
        let series = SeriesChart {
            values: vec![10.0, 20.0],
            lower: vec![-1e9, 5.0],
            upper: vec![1e9, 25.0],
            ..SeriesChart::default()
        };
        let (lo, hi) = y_range(&series);
        assert!((3.0..5.0).contains(&lo), "{lo}");
        assert!((25.0..30.0).contains(&hi), "{hi}");
        let series = SeriesChart {
            values: vec![1.0, 20.0],
            ..SeriesChart::default()
        };
        assert_eq!(y_range(&series).0, 0.0);
        let series = SeriesChart {
            values: vec![-1.0, 20.0],
            ..SeriesChart::default()
        };
        assert!(y_range(&series).0 < -1.0);
    }
}
