//! The page around the charts: escaping, CSS, header, legend, sections and interval tables.

use std::fmt::Write as _;

use crate::axis::{duration, short, utc};
use crate::{Error, IntervalMark, Report, Result, SeriesChart, chart};

/// Interval rows shown before the rest fold into a `<details>`.
const VISIBLE_INTERVALS: usize = 10;

/// Escapes text for HTML and SVG content and for quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `1234567` as `1,234,567`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

const STYLE: &str = r#"
:root {
  --fg: #1f2328; --muted: #59636e; --border: #d1d9e0; --panel: #ffffff; --page: #f6f8fa;
  --blue: #0969da; --red: #cf222e;
  --sans: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Noto Sans", "Liberation Sans", Arial, sans-serif;
  --mono: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--page); color: var(--fg); font: 15px/1.5 var(--sans); }
main { max-width: 1100px; margin: 0 auto; padding: 28px 20px 40px; }
h1 { font-size: 1.6rem; margin: 0 0 16px; font-weight: 600; }
.summary { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px; margin: 0 0 18px; }
.summary div { background: var(--panel); border: 1px solid var(--border); border-radius: 8px; padding: 8px 12px; }
.summary dt { color: var(--muted); font-size: .75rem; text-transform: uppercase; letter-spacing: .04em; }
.summary dd { margin: 2px 0 0; font-weight: 600; overflow-wrap: anywhere; }
.legend { display: flex; flex-wrap: wrap; gap: 8px 22px; align-items: center; color: var(--muted); font-size: .85rem; margin: 0 0 8px; }
.legend span { display: inline-flex; align-items: center; gap: 7px; }
.legend i { display: inline-block; flex: none; }
.key-value { width: 26px; border-top: 2px solid #0969da; }
.key-expected { width: 26px; border-top: 2px dashed #656d76; }
.key-band { width: 26px; height: 12px; background: rgba(84, 174, 255, .28); }
.key-point { width: 8px; height: 8px; border-radius: 50%; background: #cf222e; }
.key-interval { width: 14px; height: 14px; background: rgba(255, 80, 80, .14); border: 1px solid rgba(255, 80, 80, .3); }
.toc { background: var(--panel); border: 1px solid var(--border); border-radius: 8px; padding: 6px 14px; margin: 14px 0 0; }
.toc table { width: 100%; border-collapse: collapse; font-size: .85rem; }
.toc td, .toc th { padding: 5px 6px; text-align: left; border-top: 1px solid #eef1f4; }
.toc tr:first-child th { border-top: 0; }
.toc th { color: var(--muted); font-weight: 600; }
.toc a { color: var(--blue); text-decoration: none; font-family: var(--mono); overflow-wrap: anywhere; }
.toc a:hover { text-decoration: underline; }
section.series { background: var(--panel); border: 1px solid var(--border); border-radius: 8px; padding: 14px 18px 12px; margin: 18px 0 0; }
.series-head { display: flex; align-items: baseline; gap: 10px; }
.series-head h2 { flex: 1; margin: 0; font: 600 .95rem/1.4 var(--mono); overflow-wrap: anywhere; }
.rank { color: var(--muted); font-weight: 600; }
.score { flex: none; background: #ffebe9; color: var(--red); border: 1px solid #ffcecb; border-radius: 999px; padding: 0 10px; font-size: .8rem; font-weight: 600; white-space: nowrap; }
.meta { color: var(--muted); font-size: .8rem; margin: 2px 0 6px; }
.scroll { overflow-x: auto; }
svg.chart { display: block; width: 100%; min-width: 720px; height: auto; }
svg.chart text { font-family: var(--sans); font-size: 12px; }
table.intervals { width: 100%; border-collapse: collapse; font-size: .82rem; margin-top: 6px; }
table.intervals th { text-align: left; color: var(--muted); font-weight: 600; padding: 6px 8px; border-bottom: 1px solid var(--border); white-space: nowrap; }
table.intervals td { padding: 6px 8px; border-bottom: 1px solid #eef1f4; vertical-align: top; }
table.intervals tr:last-child td { border-bottom: 0; }
td.time, td.num { white-space: nowrap; font-variant-numeric: tabular-nums; }
td.num { text-align: right; }
th.num { text-align: right !important; }
td.explanation { font-family: var(--mono); font-size: .78rem; overflow-wrap: anywhere; min-width: 22em; }
details { margin-top: 4px; font-size: .82rem; }
details summary { cursor: pointer; color: var(--blue); padding: 4px 8px; }
.none { color: var(--muted); font-size: .82rem; margin: 6px 0 2px; }
.empty { background: var(--panel); border: 1px solid var(--border); border-radius: 8px; padding: 28px; text-align: center; margin-top: 18px; }
.empty h2 { margin: 0 0 6px; font-size: 1.2rem; color: #1a7f37; }
.empty p { margin: 0; color: var(--muted); }
footer { color: var(--muted); font-size: .78rem; margin-top: 26px; text-align: center; }
"#;

const LEGEND: &str = r#"<div class="legend" aria-label="legend">
<span><i class="key-value"></i>value</span>
<span><i class="key-expected"></i>expected</span>
<span><i class="key-band"></i>normal band (lower..upper)</span>
<span><i class="key-point"></i>anomalous sample</span>
<span><i class="key-interval"></i>anomaly interval</span>
<span>times in UTC</span>
</div>
"#;

/// The whole page.
pub(crate) fn page(report: &Report) -> Result<String> {
    let mut out = String::with_capacity(64 * 1024 * (report.charts.len() + 1));
    let title = if report.title.is_empty() {
        "Omen report"
    } else {
        report.title.as_str()
    };
    let title = escape(title);
    // Writing to a String cannot fail: the `fmt::Result`s below are always Ok.
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"omen\">\n<title>{title}</title>\n\
         <style>{STYLE}</style>\n</head>\n<body>\n<main>\n<header>\n<h1>{title}</h1>\n"
    );
    if !report.summary.is_empty() {
        out.push_str("<dl class=\"summary\">\n");
        for (key, value) in &report.summary {
            let _ = writeln!(
                out,
                "<div><dt>{}</dt><dd>{}</dd></div>",
                escape(key),
                escape(value)
            );
        }
        out.push_str("</dl>\n");
    }
    out.push_str("</header>\n");
    for table in &report.tables {
        plain_table(&mut out, table);
    }

    if report.charts.is_empty() {
        out.push_str(
            "<section class=\"empty\">\n<h2>No anomalies</h2>\n\
             <p>No series had an anomaly in this run: there is nothing to chart.</p>\n</section>\n",
        );
    } else {
        out.push_str(LEGEND);
        if report.charts.len() > 1 {
            contents(&mut out, &report.charts);
        }
        for (rank, series) in report.charts.iter().enumerate() {
            section(&mut out, rank + 1, series)?;
        }
    }
    out.push_str(
        "<footer>Generated by Omen. All times are UTC.</footer>\n</main>\n</body>\n</html>\n",
    );
    Ok(out)
}

/// A [`Table`](crate::Table) as a section of its own.
fn plain_table(out: &mut String, table: &crate::Table) {
    let _ = write!(
        out,
        "<section class=\"toc\">\n<h2>{}</h2>\n<table>\n<tr>",
        escape(&table.title)
    );
    for column in &table.columns {
        let _ = write!(out, "<th>{}</th>", escape(column));
    }
    out.push_str("</tr>\n");
    for row in &table.rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", escape(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    if let Some(note) = &table.note {
        let _ = writeln!(out, "<p>{}</p>", escape(note));
    }
    out.push_str("</section>\n");
}

/// A table of the charted series, each linking to its section.
fn contents(out: &mut String, charts: &[SeriesChart]) {
    out.push_str(
        "<nav class=\"toc\">\n<table>\n<tr><th>#</th><th>series</th>\
         <th class=\"num\">peak score</th><th class=\"num\">intervals</th></tr>\n",
    );
    for (i, series) in charts.iter().enumerate() {
        let rank = i + 1;
        let _ = writeln!(
            out,
            "<tr><td>{rank}</td><td><a href=\"#series-{rank}\">{}</a></td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            escape(&series.title),
            short(series.peak_score),
            series.intervals.len()
        );
    }
    out.push_str("</table>\n</nav>\n");
}

/// One series: heading, facts, chart, intervals.
fn section(out: &mut String, rank: usize, series: &SeriesChart) -> Result<()> {
    let ts = &series.timestamps_ms;
    let anomalous = series.anomaly.iter().filter(|&&a| a).count();
    let _ = write!(
        out,
        "<section class=\"series\" id=\"series-{rank}\">\n<div class=\"series-head\">\
         <span class=\"rank\">#{rank}</span><h2>{}</h2>\
         <span class=\"score\">peak score {}</span></div>\n<p class=\"meta\">{} points",
        escape(&series.title),
        short(series.peak_score),
        thousands(ts.len()),
    );
    if let (Some(&first), Some(&last)) = (ts.first(), ts.last()) {
        let _ = write!(
            out,
            " · {} → {} UTC ({})",
            utc(first),
            utc(last),
            duration(last - first)
        );
    }
    let _ = writeln!(
        out,
        " · {} anomalous · {} interval{}</p>",
        thousands(anomalous),
        series.intervals.len(),
        if series.intervals.len() == 1 { "" } else { "s" }
    );

    let svg = chart::svg(series).map_err(|message| Error::Drawing {
        series: series.title.clone(),
        message,
    })?;
    out.push_str("<div class=\"scroll\">\n");
    out.push_str(&svg);
    out.push_str("</div>\n");

    if series.intervals.is_empty() {
        out.push_str("<p class=\"none\">No anomaly intervals.</p>\n");
    } else {
        let (shown, folded) = series
            .intervals
            .split_at(series.intervals.len().min(VISIBLE_INTERVALS));
        interval_table(out, shown, 1);
        if !folded.is_empty() {
            let _ = writeln!(
                out,
                "<details><summary>{} more interval{}</summary>",
                folded.len(),
                if folded.len() == 1 { "" } else { "s" }
            );
            interval_table(out, folded, shown.len() + 1);
            out.push_str("</details>\n");
        }
    }
    out.push_str("</section>\n");
    Ok(())
}

/// A table of intervals, numbered from `first_number`.
fn interval_table(out: &mut String, intervals: &[IntervalMark], first_number: usize) {
    out.push_str(
        "<div class=\"scroll\"><table class=\"intervals\">\n<tr><th>#</th><th>start (UTC)</th><th>end (UTC)</th>\
         <th>duration</th><th>peak at</th><th class=\"num\">peak score</th>\
         <th>explanation</th></tr>\n",
    );
    for (i, mark) in intervals.iter().enumerate() {
        let length = if mark.end_ms > mark.start_ms {
            duration(mark.end_ms - mark.start_ms)
        } else {
            "one sample".to_string()
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"time\">{}</td><td class=\"time\">{}</td>\
             <td class=\"time\">{}</td><td class=\"time\">{}</td><td class=\"num\">{}</td>\
             <td class=\"explanation\">{}</td></tr>",
            first_number + i,
            utc(mark.start_ms),
            utc(mark.end_ms),
            length,
            utc(mark.peak_ms),
            short(mark.peak_score),
            escape(&mark.explanation)
        );
    }
    out.push_str("</table></div>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape(r#"<script>alert("x&y's")</script>"#),
            "&lt;script&gt;alert(&quot;x&amp;y&#39;s&quot;)&lt;/script&gt;"
        );
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
