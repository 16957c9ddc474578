//! Renders a synthetic report to the path given as the first argument, to open in a browser:
//!
//! ```text
//! cargo run -p omen-report --example sample_report -- /tmp/report.html
//! ```
//!
//! With `--empty` after the path, the page of a run without anomalies.
//!
//! Three series: a week of orders a minute, a daily sine with a spike and a level shift (the
//! band adapts to the shift after two hours); a week of latency with a scrape outage and an
//! awkward label set that needs escaping; and the CPU of an instance that appeared late, scraped
//! every 30 s, with a stall.

use std::f64::consts::TAU;

use omen_report::{IntervalMark, Report, SeriesChart, render_html};

const MINUTE: i64 = 60_000;
/// 2024-03-04 00:00:00 UTC.
const START: i64 = 1_709_510_400_000;

/// A small deterministic noise source (xorshift), so the page is the same on every run.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    }
}

/// Three significant digits or so.
fn short(v: f64) -> String {
    match v.abs() {
        a if a >= 100.0 => format!("{v:.0}"),
        a if a >= 10.0 => format!("{v:.1}"),
        a if a >= 1.0 => format!("{v:.2}"),
        _ => format!("{v:.3}"),
    }
}

/// `12345` as `12,345`.
fn thousands(n: usize) -> String {
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

/// Fills in the verdicts and intervals from value versus band, as the engine would.
fn verdicts(chart: &mut SeriesChart, explain: &str) {
    let n = chart.timestamps_ms.len();
    chart.anomaly = (0..n)
        .map(|i| {
            let v = chart.values[i];
            v.is_finite()
                && chart.lower[i].is_finite()
                && (v < chart.lower[i] || v > chart.upper[i])
        })
        .collect();
    let score = |i: usize| {
        let width = (chart.upper[i] - chart.lower[i]).max(1e-9);
        let distance = (chart.values[i] - chart.expected[i]).abs() / width;
        (distance / (1.0 + distance)).clamp(0.0, 0.999)
    };
    let mut i = 0;
    while i < n {
        if !chart.anomaly[i] {
            i += 1;
            continue;
        }
        let start = i;
        let mut peak = i;
        while i < n && chart.anomaly[i] {
            if score(i) > score(peak) {
                peak = i;
            }
            i += 1;
        }
        let side = if chart.values[peak] > chart.upper[peak] {
            "above"
        } else {
            "below"
        };
        chart.intervals.push(IntervalMark {
            start_ms: chart.timestamps_ms[start],
            end_ms: chart.timestamps_ms[i - 1],
            peak_ms: chart.timestamps_ms[peak],
            peak_score: score(peak),
            explanation: format!(
                "value {} {side} the band {}..{} (expected {}); {explain}",
                short(chart.values[peak]),
                short(chart.lower[peak]),
                short(chart.upper[peak]),
                short(chart.expected[peak])
            ),
        });
        chart.peak_score = chart.peak_score.max(score(peak));
    }
}

fn orders(noise: &mut Noise) -> SeriesChart {
    let n = 7 * 24 * 60;
    let mut chart = SeriesChart {
        title: r#"{__name__="orders_per_minute", instance="shop-3", job="shop"}"#.into(),
        ..SeriesChart::default()
    };
    let spike = 3 * 24 * 60 + 14 * 60 + 20;
    let shift = 5 * 24 * 60 + 9 * 60;
    for i in 0..n {
        let t = START + i as i64 * MINUTE;
        let daily = (TAU * (i as f64 / 1440.0 - 0.3)).sin();
        let base = 120.0 + 60.0 * daily;
        let mut value = base + 8.0 * noise.next();
        if (spike..spike + 4).contains(&i) {
            value += 170.0;
        }
        if i >= shift {
            value -= 55.0;
        }
        // Warm-up: no expectation during the first day; after the shift, two hours to adapt.
        let (expected, half_width) = if i < 1440 {
            (f64::NAN, f64::NAN)
        } else if i >= shift + 120 {
            (base - 55.0, 16.0)
        } else {
            (base, 16.0)
        };
        chart.timestamps_ms.push(t);
        chart.values.push(value);
        chart.expected.push(expected);
        chart.lower.push(expected - half_width);
        chart.upper.push(expected + half_width);
    }
    verdicts(&mut chart, "robust 0.91, level 0.32, tail 0.10");
    chart
}

fn latency(noise: &mut Noise) -> SeriesChart {
    let mut chart = SeriesChart {
        title: r#"{__name__="http_request_duration_seconds:p99", path="/cart?a=1&b=<2>", quote="it's \"fine\""}"#.into(),
        ..SeriesChart::default()
    };
    let outage = (2 * 24 * 60 + 300)..(2 * 24 * 60 + 420);
    let slow = (4 * 24 * 60 + 600)..(4 * 24 * 60 + 690);
    for i in 0..7 * 24 * 60 {
        if outage.contains(&i) {
            continue; // scrape outage: no samples at all
        }
        let daily = (TAU * (i as f64 / 1440.0 - 0.25)).sin();
        let base = 0.21 + 0.05 * daily;
        let mut value = base + 0.02 * noise.next();
        if slow.contains(&i) {
            value += 0.16 + 0.03 * noise.next();
        }
        let expected = if i < 720 { f64::NAN } else { base };
        chart.timestamps_ms.push(START + i as i64 * MINUTE);
        chart.values.push(value);
        chart.expected.push(expected);
        chart.lower.push(expected - 0.035);
        chart.upper.push(expected + 0.035);
    }
    verdicts(&mut chart, "robust 0.88, level 0.12, tail 0.41");
    chart
}

fn cpu(noise: &mut Noise) -> SeriesChart {
    let mut chart = SeriesChart {
        title: r#"{__name__="node_cpu_utilisation", instance="shop-7"}"#.into(),
        ..SeriesChart::default()
    };
    // A new instance: it appears on Mar 8 at 12:00 and is scraped every 30 s.
    let first = 4 * 24 * 120 + 24 * 60;
    let stall = (first + 27 * 120)..(first + 27 * 120 + 25);
    for i in first..7 * 24 * 120 {
        let hours = i as f64 / 120.0;
        let base = 0.45 + 0.2 * (TAU * (hours / 24.0 - 0.35)).sin();
        let mut value = base + 0.03 * noise.next();
        if stall.contains(&i) {
            value = 0.02 + 0.01 * noise.next().abs();
        }
        let expected = if i < first + 240 { f64::NAN } else { base };
        chart.timestamps_ms.push(START + i as i64 * MINUTE / 2);
        chart.values.push(value);
        chart.expected.push(expected);
        chart.lower.push(expected - 0.08);
        chart.upper.push(expected + 0.08);
    }
    verdicts(&mut chart, "robust 0.97, level 0.05, tail 0.66");
    chart
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: sample_report OUTPUT.html [--empty]")?;
    let empty = args.next().as_deref() == Some("--empty");
    let mut noise = Noise(0x9E37_79B9_7F4A_7C15);
    let mut charts = vec![orders(&mut noise), latency(&mut noise), cpu(&mut noise)];
    if empty {
        // The page of a run that found nothing.
        charts.clear();
    }
    charts.sort_by(|a, b| b.peak_score.total_cmp(&a.peak_score));
    let points: usize = charts.iter().map(|c| c.timestamps_ms.len()).sum();
    let anomalies: usize = charts
        .iter()
        .map(|c| c.anomaly.iter().filter(|&&a| a).count())
        .sum();
    let report = Report {
        title: "Omen analysis of shop-demo.parquet".into(),
        summary: vec![
            ("input".into(), "shop-demo.parquet (synthetic)".into()),
            ("time range".into(), "2024-03-04 → 2024-03-11 UTC".into()),
            ("series analysed".into(), "3".into()),
            ("series with anomalies".into(), charts.len().to_string()),
            ("points".into(), thousands(points)),
            ("anomalous points".into(), thousands(anomalies)),
            (
                "intervals".into(),
                charts
                    .iter()
                    .map(|c| c.intervals.len())
                    .sum::<usize>()
                    .to_string(),
            ),
        ],
        charts,
        tables: Vec::new(),
    };
    std::fs::write(&path, render_html(&report)?)?;
    println!("wrote {path}");
    Ok(())
}
