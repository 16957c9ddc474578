//! Fewer points to draw than a series has, without losing what a person looks for.

/// How many points a chart draws at most, anomalous points aside (see [`downsample`]).
pub const MAX_DRAWN_POINTS: usize = 2_000;

/// Picks the samples of a series to draw, as ascending indices into its vectors.
///
/// A series of at most `max_points` samples (or of `max_points` below 4) is kept whole.
/// A longer one is cut into `(max_points - 2) / 2` buckets of equal time width; each keeps
/// the index of its smallest and of its largest finite value (so a one-sample spike stays
/// visible), and the first and last samples are kept so the line spans the whole range. Every
/// sample with `anomaly[i]` set is kept as well, whatever it costs. Hence at most `max_points`
/// indices plus one per anomalous sample.
///
/// NaN values are never picked by a bucket; where they break a line is decided on the full
/// series when drawing, not here.
pub fn downsample(
    timestamps_ms: &[i64],
    values: &[f64],
    anomaly: &[bool],
    max_points: usize,
) -> Vec<usize> {
    let n = timestamps_ms.len().min(values.len());
    if n <= max_points || max_points < 4 {
        return (0..n).collect();
    }
    let buckets = (max_points - 2) / 2;
    let t0 = i128::from(timestamps_ms[0]);
    let width = (i128::from(timestamps_ms[n - 1]) - t0 + 1).max(1);
    let last_bucket = buckets - 1;
    let bucket_of = |t: i64| -> usize {
        let b = (i128::from(t) - t0).max(0) * buckets as i128 / width;
        usize::try_from(b).map_or(last_bucket, |b| b.min(last_bucket))
    };

    let mut lowest: Vec<Option<usize>> = vec![None; buckets];
    let mut highest: Vec<Option<usize>> = vec![None; buckets];
    for (i, (&t, &v)) in timestamps_ms.iter().zip(values).take(n).enumerate() {
        if !v.is_finite() {
            continue;
        }
        let b = bucket_of(t);
        if lowest[b].is_none_or(|j| v < values[j]) {
            lowest[b] = Some(i);
        }
        if highest[b].is_none_or(|j| v > values[j]) {
            highest[b] = Some(i);
        }
    }

    let anomalous = anomaly.iter().take(n).filter(|&&a| a).count();
    let mut keep = Vec::with_capacity(2 * buckets + 2 + anomalous);
    keep.push(0);
    keep.push(n - 1);
    keep.extend(lowest.into_iter().flatten());
    keep.extend(highest.into_iter().flatten());
    keep.extend(
        anomaly
            .iter()
            .take(n)
            .enumerate()
            .filter_map(|(i, &a)| a.then_some(i)),
    );
    keep.sort_unstable();
    keep.dedup();
    keep
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_series_are_kept_whole() {
        let ts: Vec<i64> = (0..10).collect();
        let vs = vec![1.0; 10];
        assert_eq!(downsample(&ts, &vs, &[], 100), (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn long_series_keep_extremes_anomalies_and_a_bounded_count() {
        let n = 100_000;
        let ts: Vec<i64> = (0..n as i64)
            .map(|i| 1_700_000_000_000 + i * 60_000)
            .collect();
        let mut vs: Vec<f64> = (0..n).map(|i| (i as f64 / 500.0).sin()).collect();
        vs[54_321] = 1_000.0;
        vs[77_777] = -1_000.0;
        vs[123] = f64::NAN;
        let mut anomaly = vec![false; n];
        let marked = [5, 6, 7, 40_000, 99_998];
        for &i in &marked {
            anomaly[i] = true;
        }
        let keep = downsample(&ts, &vs, &anomaly, MAX_DRAWN_POINTS);
        assert!(
            keep.len() <= MAX_DRAWN_POINTS + marked.len(),
            "{}",
            keep.len()
        );
        assert!(keep.len() >= MAX_DRAWN_POINTS / 2);
        assert!(keep.contains(&54_321) && keep.contains(&77_777));
        assert!(!keep.contains(&123));
        for i in marked {
            assert!(keep.contains(&i), "anomalous {i} dropped");
        }
        assert_eq!(keep.first(), Some(&0));
        assert_eq!(keep.last(), Some(&(n - 1)));
        assert!(keep.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn every_anomalous_point_survives_even_when_most_are() {
        let n = 10_000;
        let ts: Vec<i64> = (0..n as i64).collect();
        let vs = vec![0.0; n];
        let anomaly: Vec<bool> = (0..n).map(|i| i % 3 == 0).collect();
        let keep = downsample(&ts, &vs, &anomaly, 100);
        for (i, &a) in anomaly.iter().enumerate() {
            assert!(!a || keep.contains(&i));
        }
    }
}
