//! Native histogram checks. Omen does not model histograms: a well-formed one is accepted and
//! counted as written, and a series holding a malformed one is dropped (400), as Prometheus
//! refuses it. The rules are those of Prometheus' `Histogram.Validate` and
//! `FloatHistogram.Validate` (`model/histogram`):
//!
//! - the schema is exponential (-4 to 8) or custom buckets (-53);
//! - integer buckets use deltas, float buckets use absolute counts, never both kinds in one;
//! - the spans of each side cover exactly as many buckets as there are deltas or counts, and
//!   no span after the first has a negative offset;
//! - no bucket count (and no zero-bucket count) is negative;
//! - an integer histogram's count equals the zero bucket plus all buckets, or is at least that
//!   when the sum is NaN; a float histogram's count is not checked (rounding), as in Prometheus;
//! - custom buckets: no negative buckets, no zero bucket, bounds strictly increasing, and no
//!   bucket index past the last bound (whose index is the +Inf bucket); an exponential schema
//!   has no custom bounds.
//!
//! Remote-write 2.0's `Histogram` is 1.0's with a start timestamp (field 17) added, so one
//! check, on the 1.0 struct, serves both.

use crate::proto::v1::{BucketSpan, Histogram, HistogramCount, HistogramZeroCount};

/// The custom-buckets schema.
const CUSTOM_BUCKETS_SCHEMA: i32 = -53;

/// Why a histogram is malformed, for a person.
pub(crate) fn check_histogram(h: &Histogram) -> Result<(), String> {
    let custom = h.schema == CUSTOM_BUCKETS_SCHEMA;
    if !custom && !(-4..=8).contains(&h.schema) {
        return Err(format!("schema {} is neither -4 to 8 nor -53", h.schema));
    }
    let float = matches!(h.count, Some(HistogramCount::CountFloat(_)))
        || matches!(h.zero_count, Some(HistogramZeroCount::ZeroCountFloat(_)));
    let (positive, negative) = if float {
        if !h.positive_deltas.is_empty() || !h.negative_deltas.is_empty() {
            return Err("a float histogram with integer bucket deltas".into());
        }
        (
            float_buckets("positive", &h.positive_spans, &h.positive_counts)?,
            float_buckets("negative", &h.negative_spans, &h.negative_counts)?,
        )
    } else {
        if !h.positive_counts.is_empty() || !h.negative_counts.is_empty() {
            return Err("an integer histogram with float bucket counts".into());
        }
        (
            int_buckets("positive", &h.positive_spans, &h.positive_deltas)?,
            int_buckets("negative", &h.negative_spans, &h.negative_deltas)?,
        )
    };
    let zero = match h.zero_count {
        None => 0.0,
        Some(HistogramZeroCount::ZeroCountInt(n)) => n as f64,
        Some(HistogramZeroCount::ZeroCountFloat(n)) if n >= 0.0 => n,
        Some(HistogramZeroCount::ZeroCountFloat(n)) => {
            return Err(format!("zero bucket count {n} is negative"));
        }
    };
    if custom {
        check_custom(h, zero)?;
    } else if !h.custom_values.is_empty() {
        return Err("an exponential schema with custom bucket bounds".into());
    }
    // No count at all reads as an integer count of 0, as in Prometheus.
    let count = match h.count {
        Some(HistogramCount::CountFloat(_)) => return Ok(()),
        Some(HistogramCount::CountInt(n)) => n as f64,
        None => 0.0,
    };
    let in_buckets = zero + positive + negative;
    let consistent = if h.sum.is_nan() {
        in_buckets <= count
    } else {
        in_buckets == count
    };
    if consistent {
        Ok(())
    } else {
        Err(format!(
            "count {count} but {in_buckets} observations in the buckets"
        ))
    }
}

/// The custom-bucket rules; `zero` is the zero bucket's count.
fn check_custom(h: &Histogram, zero: f64) -> Result<(), String> {
    if !h.negative_spans.is_empty() || !h.negative_deltas.is_empty() {
        return Err("custom buckets with negative buckets".into());
    }
    if zero != 0.0 || h.zero_threshold != 0.0 {
        return Err("custom buckets with a zero bucket".into());
    }
    if !h.custom_values.windows(2).all(|w| w[0] < w[1]) {
        return Err("custom bucket bounds not strictly increasing".into());
    }
    let mut next = 0i64;
    for (i, span) in h.positive_spans.iter().enumerate() {
        if i == 0 && span.offset < 0 {
            return Err("custom buckets starting at a negative index".into());
        }
        next += i64::from(span.offset) + i64::from(span.length);
    }
    let last = next - 1;
    if last > h.custom_values.len() as i64 {
        return Err(format!(
            "custom bucket index {last} past the {} bounds",
            h.custom_values.len()
        ));
    }
    Ok(())
}

/// The spans cover exactly `buckets` buckets, and no span after the first goes backwards.
fn check_spans(side: &str, spans: &[BucketSpan], buckets: usize) -> Result<(), String> {
    if let Some(i) = spans.iter().skip(1).position(|s| s.offset < 0) {
        return Err(format!("{side} span {} has a negative offset", i + 1));
    }
    let covered: u64 = spans.iter().map(|s| u64::from(s.length)).sum();
    if covered != buckets as u64 {
        return Err(format!(
            "{side} spans cover {covered} buckets, {buckets} given"
        ));
    }
    Ok(())
}

/// The total of delta-encoded integer buckets, none negative.
fn int_buckets(side: &str, spans: &[BucketSpan], deltas: &[i64]) -> Result<f64, String> {
    check_spans(side, spans, deltas.len())?;
    let (mut bucket, mut total) = (0i64, 0f64);
    for &delta in deltas {
        bucket = bucket.saturating_add(delta);
        if bucket < 0 {
            return Err(format!("a {side} bucket count of {bucket}"));
        }
        total += bucket as f64;
    }
    Ok(total)
}

/// The total of float buckets, none negative.
fn float_buckets(side: &str, spans: &[BucketSpan], counts: &[f64]) -> Result<f64, String> {
    check_spans(side, spans, counts.len())?;
    if let Some(bad) = counts.iter().find(|c| c.is_nan() || **c < 0.0) {
        return Err(format!("a {side} bucket count of {bad}"));
    }
    Ok(counts.iter().sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(offset: i32, length: u32) -> BucketSpan {
        BucketSpan { offset, length }
    }

    /// The compliance suite's fixture: positive 1 3 4 7 8 (23), negative 1 2 (3), zero 1.
    fn full() -> Histogram {
        Histogram {
            count: Some(HistogramCount::CountInt(27)),
            sum: 1.0,
            zero_count: Some(HistogramZeroCount::ZeroCountInt(1)),
            positive_spans: vec![span(0, 3), span(2, 2)],
            positive_deltas: vec![1, 2, 1, 3, 1],
            negative_spans: vec![span(0, 2)],
            negative_deltas: vec![1, 1],
            ..Histogram::default()
        }
    }

    fn custom() -> Histogram {
        Histogram {
            count: Some(HistogramCount::CountInt(30)),
            schema: -53,
            custom_values: vec![0.1, 0.5, 1.0, 2.5, 5.0, 10.0],
            positive_spans: vec![span(0, 6)],
            positive_deltas: vec![2, 1, 2, 3, -1, -2],
            ..Histogram::default()
        }
    }

    fn float() -> Histogram {
        Histogram {
            count: Some(HistogramCount::CountFloat(3.5)),
            zero_count: Some(HistogramZeroCount::ZeroCountFloat(0.5)),
            positive_spans: vec![span(-2, 2)],
            positive_counts: vec![1.0, 2.0],
            ..Histogram::default()
        }
    }

    #[test]
    fn histogram_table() {
        // (name, histogram, valid)
        let cases: Vec<(&str, Histogram, bool)> = vec![
            ("full", full(), true),
            ("empty", Histogram::default(), true),
            ("custom buckets", custom(), true),
            ("float", float(), true),
            (
                "float count not checked",
                Histogram {
                    count: Some(HistogramCount::CountFloat(1.0)),
                    ..float()
                },
                true,
            ),
            (
                "bad count (the suite's bad_count_histogram)",
                Histogram {
                    count: Some(HistogramCount::CountInt(99)),
                    ..full()
                },
                false,
            ),
            (
                "count under the buckets with a NaN sum",
                Histogram {
                    count: Some(HistogramCount::CountInt(26)),
                    sum: f64::NAN,
                    ..full()
                },
                false,
            ),
            (
                "count over the buckets with a NaN sum",
                Histogram {
                    count: Some(HistogramCount::CountInt(30)),
                    sum: f64::NAN,
                    ..full()
                },
                true,
            ),
            (
                "spans cover more buckets than given",
                Histogram {
                    positive_spans: vec![span(0, 6)],
                    ..full()
                },
                false,
            ),
            (
                "negative offset after the first span",
                Histogram {
                    positive_spans: vec![span(0, 3), span(-1, 2)],
                    ..full()
                },
                false,
            ),
            (
                "negative bucket",
                Histogram {
                    count: Some(HistogramCount::CountInt(1)),
                    positive_spans: vec![span(0, 2)],
                    positive_deltas: vec![2, -3],
                    ..Histogram::default()
                },
                false,
            ),
            (
                "schema out of range",
                Histogram {
                    schema: 9,
                    ..full()
                },
                false,
            ),
            (
                "integer deltas in a float histogram",
                Histogram {
                    positive_deltas: vec![1, 1],
                    positive_counts: vec![],
                    ..float()
                },
                false,
            ),
            (
                "negative float bucket",
                Histogram {
                    positive_counts: vec![1.0, -2.0],
                    ..float()
                },
                false,
            ),
            (
                "custom buckets past the last bound",
                Histogram {
                    positive_spans: vec![span(2, 6)],
                    ..custom()
                },
                false,
            ),
            (
                "custom buckets up to the +Inf bucket",
                Histogram {
                    positive_spans: vec![span(1, 6)],
                    ..custom()
                },
                true,
            ),
            (
                "custom bounds not increasing",
                Histogram {
                    custom_values: vec![0.1, 0.5, 0.5, 2.5, 5.0, 10.0],
                    ..custom()
                },
                false,
            ),
            (
                "custom buckets with a zero bucket",
                Histogram {
                    count: Some(HistogramCount::CountInt(31)),
                    zero_count: Some(HistogramZeroCount::ZeroCountInt(1)),
                    ..custom()
                },
                false,
            ),
            (
                "exponential schema with custom bounds",
                Histogram {
                    custom_values: vec![1.0],
                    ..full()
                },
                false,
            ),
        ];
        for (name, h, valid) in cases {
            let got = check_histogram(&h);
            assert_eq!(got.is_ok(), valid, "{name}: {got:?}");
        }
    }

    #[test]
    fn the_reason_names_the_counts() {
        let h = Histogram {
            count: Some(HistogramCount::CountInt(99)),
            ..full()
        };
        assert_eq!(
            check_histogram(&h),
            Err("count 99 but 27 observations in the buckets".into())
        );
    }
}
