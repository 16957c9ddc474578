//! The rendered page, end to end through the public API.

use omen_report::{
    Error, IntervalMark, MAX_DRAWN_POINTS, Report, SeriesChart, downsample, render_html, write_html,
};

const T0: i64 = 1_709_510_400_000; // 2024-03-04 00:00:00 UTC
const MINUTE: i64 = 60_000;

/// A sine series of `n` one-minute samples with a band of ±2 around it.
fn series(title: &str, n: usize) -> SeriesChart {
    let timestamps_ms: Vec<i64> = (0..n as i64).map(|i| T0 + i * MINUTE).collect();
    let expected: Vec<f64> = (0..n).map(|i| 10.0 + (i as f64 / 60.0).sin()).collect();
    SeriesChart {
        title: title.into(),
        values: expected.iter().map(|e| e + 0.5).collect(),
        lower: expected.iter().map(|e| e - 2.0).collect(),
        upper: expected.iter().map(|e| e + 2.0).collect(),
        expected,
        anomaly: vec![false; n],
        timestamps_ms,
        ..SeriesChart::default()
    }
}

fn svg_count(html: &str) -> usize {
    html.matches("<svg").count()
}

#[test]
fn nan_gaps_never_reach_the_page() {
    let mut chart = series("warm-up and holes", 500);
    for i in 0..120 {
        chart.expected[i] = f64::NAN;
        chart.lower[i] = f64::NAN;
        chart.upper[i] = f64::NAN;
    }
    for i in 250..260 {
        chart.values[i] = f64::NAN;
        chart.lower[i] = f64::NAN;
    }
    chart.values[300] = f64::INFINITY;
    chart.upper[400] = f64::NEG_INFINITY;
    chart.anomaly[255] = true; // anomalous but NaN: no dot, no crash
    chart.anomaly[301] = true;
    chart.intervals.push(IntervalMark {
        start_ms: T0 + 301 * MINUTE,
        end_ms: T0 + 301 * MINUTE,
        peak_ms: T0 + 301 * MINUTE,
        peak_score: f64::NAN,
        explanation: "one sample".into(),
    });
    let html = render_html(&Report {
        title: "gaps".into(),
        charts: vec![chart],
        ..Report::default()
    })
    .unwrap();
    assert!(!html.contains("NaN"), "NaN leaked into the page");
    assert!(
        !html.to_lowercase().contains("inf\""),
        "infinity leaked into the page"
    );
    assert_eq!(svg_count(&html), 1);
    // The band breaks at the warm-up end, at the hole and at the -inf: several polygons.
    assert!(html.matches("<polygon").count() >= 2);
    // The value line breaks at the hole and at +inf.
    assert!(html.matches("<polyline").count() >= 3);
}

#[test]
fn an_all_nan_series_still_renders() {
    let mut chart = series("nothing known", 50);
    chart.values = vec![f64::NAN; 50];
    chart.expected.clear();
    chart.lower.clear();
    chart.upper.clear();
    chart.anomaly.clear();
    let html = render_html(&Report {
        charts: vec![chart],
        ..Report::default()
    })
    .unwrap();
    assert!(!html.contains("NaN"));
    assert_eq!(svg_count(&html), 1);
}

#[test]
fn text_is_escaped_everywhere() {
    let mut chart = series(r#"{job="<script>alert('x')</script>", a="b&c"}"#, 100);
    chart.intervals.push(IntervalMark {
        start_ms: T0,
        end_ms: T0 + 5 * MINUTE,
        peak_ms: T0 + 2 * MINUTE,
        peak_score: 0.9,
        explanation: "value <b>big</b> & \"odd\"".into(),
    });
    let report = Report {
        title: "<script>document.title</script>".into(),
        summary: vec![("in<put>".into(), "a&b \"c\"".into())],
        charts: vec![chart],
        tables: Vec::new(),
    };
    let html = render_html(&report).unwrap();
    assert!(!html.contains("<script"), "unescaped script tag");
    assert!(!html.contains("<b>"));
    assert!(html.contains("&lt;script&gt;document.title&lt;/script&gt;"));
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert!(html.contains("value &lt;b&gt;big&lt;/b&gt; &amp; &quot;odd&quot;"));
    assert!(html.contains("in&lt;put&gt;"));
    assert!(html.contains("a&amp;b &quot;c&quot;"));
}

#[test]
fn downsampling_keeps_the_maximum_and_every_anomaly_and_bounds_the_count() {
    let n = 100_000;
    let mut chart = series("long", n);
    chart.values[61_234] = 1e6;
    let anomalous = [3, 4, 5, 61_234, 70_001, 99_999];
    for i in anomalous {
        chart.anomaly[i] = true;
    }
    let kept = downsample(
        &chart.timestamps_ms,
        &chart.values,
        &chart.anomaly,
        MAX_DRAWN_POINTS,
    );
    assert!(kept.len() <= MAX_DRAWN_POINTS + anomalous.len());
    let max = kept
        .iter()
        .map(|&i| chart.values[i])
        .fold(f64::MIN, f64::max);
    assert_eq!(max, 1e6);
    for i in anomalous {
        assert!(kept.contains(&i));
    }

    // And the page stays small: a few hundred kB at most for 100k samples.
    let html = render_html(&Report {
        charts: vec![chart],
        ..Report::default()
    })
    .unwrap();
    assert!(html.len() < 250_000, "page is {} bytes", html.len());
    let dots = html.matches("<circle").count();
    assert!((1..=anomalous.len()).contains(&dots), "{dots} dots");
}

#[test]
fn an_empty_report_says_there_were_no_anomalies() {
    let report = Report {
        title: "Omen analysis".into(),
        summary: vec![("series analysed".into(), "42".into())],
        charts: Vec::new(),
        tables: Vec::new(),
    };
    let html = render_html(&report).unwrap();
    assert!(html.contains("No anomalies"));
    assert!(html.contains("series analysed") && html.contains("42"));
    assert_eq!(svg_count(&html), 0);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.trim_end().ends_with("</html>"));
}

#[test]
fn one_svg_per_chart_and_nothing_external() {
    let mut charts: Vec<SeriesChart> = (0..3).map(|i| series(&format!("s{i}"), 300)).collect();
    charts.push(SeriesChart {
        title: "no samples".into(),
        ..SeriesChart::default()
    });
    charts[0].anomaly[100] = true;
    charts[0].values[100] = 50.0;
    let html = render_html(&Report {
        title: "four".into(),
        summary: Vec::new(),
        charts,
        tables: Vec::new(),
    })
    .unwrap();
    assert_eq!(svg_count(&html), 4);
    assert_eq!(html.matches("</svg>").count(), 4);
    assert!(html.contains("viewBox=\"0 0 1000 300\""));
    assert!(!html.contains("<script"));
    assert!(!html.contains("src="));
    assert!(!html.contains("<link"));
    assert!(!html.contains("http://") || html.matches("http://").count() == 4); // xmlns only
    assert!(!html.contains("https://"));
}

#[test]
fn bad_input_is_an_error_not_a_broken_page() {
    let mut short = series("short", 10);
    short.lower.pop();
    let err = render_html(&Report {
        charts: vec![short],
        ..Report::default()
    })
    .unwrap_err();
    assert!(
        matches!(err, Error::LengthMismatch { field: "lower", .. }),
        "{err}"
    );

    let mut backwards = series("backwards", 10);
    backwards.timestamps_ms.swap(3, 4);
    let err = render_html(&Report {
        charts: vec![backwards],
        ..Report::default()
    })
    .unwrap_err();
    assert!(matches!(err, Error::Unordered { index: 4, .. }), "{err}");
}

#[test]
fn write_html_writes_the_same_page() {
    let report = Report {
        title: "t".into(),
        summary: Vec::new(),
        charts: vec![series("a", 20)],
        tables: Vec::new(),
    };
    let mut out = Vec::new();
    write_html(&report, &mut out).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        render_html(&report).unwrap()
    );
}
