//! The retry schedule: backon's exponential schedule (no jitter) gives the cap of each delay,
//! `initial · 2^(attempt-1)` up to `max`; the delay is drawn uniformly in `[0, cap)` ("full
//! jitter", which spreads the retries of many entries that failed together best). backon's own
//! jitter adds `[0, cap)` on top of the cap instead, so it is not used. A `Retry-After` from
//! the target is a floor: the next attempt is never earlier than it asked.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};

use crate::config::RetryConfig;

/// Past this many doublings every cap is `max` (2^40 · 1 ns is over 18 minutes).
const MAX_STEPS: u32 = 64;

/// The cap of the delay after failed attempt number `attempt` (1 for the first).
pub(super) fn cap(retry: &RetryConfig, attempt: u32) -> Duration {
    let steps = attempt.clamp(1, MAX_STEPS) as usize;
    ExponentialBuilder::new()
        .with_min_delay(retry.initial)
        .with_max_delay(retry.max)
        .with_factor(2.0)
        .without_max_times()
        .build()
        .nth(steps - 1)
        .unwrap_or(retry.max)
        .min(retry.max)
}

/// The delay before the next attempt, after failed attempt number `attempt`.
pub(super) fn delay(retry: &RetryConfig, attempt: u32, retry_after: Option<Duration>) -> Duration {
    let jittered = cap(retry, attempt).mul_f64(fastrand::f64());
    retry_after.map_or(jittered, |floor| jittered.max(floor))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retry(initial_ms: u64, max_ms: u64) -> RetryConfig {
        RetryConfig {
            initial: Duration::from_millis(initial_ms),
            max: Duration::from_millis(max_ms),
            give_up_after: Duration::from_secs(3600),
        }
    }

    #[test]
    fn caps_double_from_initial_up_to_max() {
        let retry = retry(500, 5 * 60 * 1000);
        let caps: Vec<u128> = (1..=12).map(|a| cap(&retry, a).as_millis()).collect();
        assert_eq!(
            caps,
            [
                500, 1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000, 300000, 300000
            ]
        );
        assert_eq!(cap(&retry, 10_000), Duration::from_secs(300));
        assert_eq!(cap(&retry, u32::MAX), Duration::from_secs(300));
    }

    #[test]
    fn delays_are_below_the_cap_and_spread() {
        let retry = retry(1000, 1000);
        let delays: Vec<Duration> = (0..200).map(|_| delay(&retry, 3, None)).collect();
        assert!(delays.iter().all(|d| *d < Duration::from_secs(1)));
        let low = delays
            .iter()
            .filter(|d| **d < Duration::from_millis(500))
            .count();
        assert!((40..=160).contains(&low), "{low} of 200 in the lower half");
    }

    #[test]
    fn retry_after_is_a_floor() {
        let retry = retry(10, 20);
        for _ in 0..20 {
            let d = delay(&retry, 1, Some(Duration::from_secs(3)));
            assert_eq!(d, Duration::from_secs(3));
        }
    }
}
