//! The default grace period: how long after a due time a missing ping is still fine.

use std::time::Duration;

use crate::serve::check::MAX_DURATION;

/// Default grace when none is given: `6.15 · period^0.56` seconds, rounded to whole
/// seconds and at least 1s. It scales with the period and stays inside the bands the
/// product promises: 2–3 min for 5 min, 10–15 min for 1 h, 30–60 min for 24 h and
/// 2–4 h for 7 d. Never more than [`MAX_DURATION`] (3650d), the longest grace one may give.
pub fn default_grace(period: Duration) -> Duration {
    let seconds = 6.15 * period.as_secs_f64().powf(0.56);
    // `as` saturates, so even an absurd period gives a finite grace.
    Duration::from_secs((seconds.round() as u64).max(1)).min(MAX_DURATION)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: u64 = 60;
    const HOUR: u64 = 3600;
    const DAY: u64 = 86_400;

    fn within(period: u64, low: u64, high: u64) -> u64 {
        let grace = default_grace(Duration::from_secs(period)).as_secs();
        assert!(
            (low..=high).contains(&grace),
            "period {period}s: grace {grace}s outside {low}..={high}"
        );
        grace
    }

    #[test]
    fn stays_inside_the_promised_bands() {
        assert_eq!(within(5 * MIN, 2 * MIN, 3 * MIN), 150);
        assert_eq!(within(HOUR, 10 * MIN, 15 * MIN), 603);
        assert_eq!(within(DAY, 30 * MIN, 60 * MIN), 3575);
        assert_eq!(within(7 * DAY, 2 * HOUR, 4 * HOUR), 10_631);
    }

    #[test]
    fn grows_with_the_period_and_is_at_least_one_second() {
        assert_eq!(default_grace(Duration::ZERO), Duration::from_secs(1));
        assert_eq!(
            default_grace(Duration::from_millis(10)),
            Duration::from_secs(1)
        );
        assert_eq!(
            default_grace(Duration::from_secs(1)),
            Duration::from_secs(6)
        );
        let mut previous = Duration::ZERO;
        for period in [
            1,
            60,
            300,
            900,
            3600,
            6 * 3600,
            86_400,
            604_800,
            31 * 86_400,
        ] {
            let grace = default_grace(Duration::from_secs(period));
            assert!(grace >= previous, "{period}");
            previous = grace;
        }
        assert!(default_grace(Duration::MAX) > Duration::from_secs(31 * 86_400));
        assert!(default_grace(Duration::MAX) <= MAX_DURATION);
    }
}
