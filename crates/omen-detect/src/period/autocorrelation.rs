//! Autocorrelation of a detrended buffer: one lag directly, or every lag at once by FFT.
//!
//! The season search needs the autocorrelation at every lag up to half the buffer, each time
//! the buffer fills up. Summed lag by lag that is O(n²) and was most of the cost of a series'
//! first weeks; through the power spectrum (Wiener–Khinchin) it is O(n log n). The two agree
//! to rounding (about 1e-12 here), which the search's thresholds do not notice.

use std::cell::RefCell;

use realfft::RealFftPlanner;
use realfft::num_complex::Complex;

/// Autocorrelation of zero-mean `values` at `lag`, normalised by the number of overlapping
/// pairs (the unbiased form): the biased form shrinks long lags and pulls peaks short.
pub(super) fn autocorrelation(values: &[f64], lag: usize) -> f64 {
    let cross: f64 = values
        .iter()
        .zip(values.get(lag..).unwrap_or_default())
        .map(|(a, b)| a * b)
        .sum();
    normalise(cross, energy(values), values.len(), lag)
}

/// `Σ v²`, the autocorrelation's denominator.
fn energy(values: &[f64]) -> f64 {
    values.iter().map(|v| v * v).sum()
}

/// The autocorrelation at `lag` from its sum of lagged products and the energy.
fn normalise(cross: f64, energy: f64, n: usize, lag: usize) -> f64 {
    if energy <= 0.0 || lag >= n {
        return 0.0;
    }
    (cross / (n - lag) as f64) / (energy / n as f64)
}

thread_local! {
    /// FFT plans by length: a detector thread searches with the same few buffer lengths, so
    /// each plan (its twiddle factors) is computed once per thread.
    static PLANNER: RefCell<RealFftPlanner<f64>> = RefCell::new(RealFftPlanner::new());
}

/// [`autocorrelation`] at every lag in `0..=max_lag`.
///
/// The buffer is zero-padded to a power of two of at least `n + max_lag` points, so that the
/// circular correlation the FFT computes equals the plain (linear) one at every lag asked for.
pub(super) fn autocorrelations(values: &[f64], max_lag: usize) -> Vec<f64> {
    let n = values.len();
    let energy = energy(values);
    if n == 0 || energy <= 0.0 {
        return vec![0.0; max_lag + 1];
    }
    let len = (n + max_lag + 1).next_power_of_two();
    let (forward, inverse) = PLANNER.with(|planner| {
        let mut planner = planner.borrow_mut();
        (planner.plan_fft_forward(len), planner.plan_fft_inverse(len))
    });
    let mut signal = vec![0.0; len];
    signal[..n].copy_from_slice(values);
    let mut spectrum = forward.make_output_vec();
    forward
        .process(&mut signal, &mut spectrum)
        .expect("buffer lengths come from the plan");
    for bin in &mut spectrum {
        *bin = Complex::new(bin.norm_sqr(), 0.0);
    }
    inverse
        .process(&mut spectrum, &mut signal)
        .expect("buffer lengths come from the plan");
    // realfft's inverse is unnormalised: every lag comes back multiplied by `len`.
    let scale = 1.0 / len as f64;
    (0..=max_lag)
        .map(|lag| normalise(signal[lag] * scale, energy, n, lag))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_series::wiggle;

    #[test]
    fn every_lag_at_once_matches_one_lag_at_a_time() {
        for n in [1, 5, 7, 8, 9, 16, 17, 100, 257, 1024] {
            let values: Vec<f64> = (0..n).map(|i| wiggle(i) * 1e3 + (i % 37) as f64).collect();
            let mean = values.iter().sum::<f64>() / n as f64;
            let values: Vec<f64> = values.iter().map(|v| v - mean).collect();
            let max_lag = n / 2 + 3;
            let all = autocorrelations(&values, max_lag);
            assert_eq!(all.len(), max_lag + 1);
            for (lag, got) in all.iter().enumerate() {
                let want = autocorrelation(&values, lag);
                assert!(
                    (got - want).abs() < 1e-9,
                    "n {n} lag {lag}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn silence_and_emptiness_have_no_correlation() {
        assert_eq!(autocorrelations(&[0.0; 40], 20), vec![0.0; 21]);
        assert_eq!(autocorrelations(&[], 3), vec![0.0; 4]);
    }
}
