//! Time as a dependency: everything that reads the time or waits takes a `Clock`,
//! so tests advance a `FakeClock` instead of sleeping.

use jiff::{SignedDuration, Timestamp};
use std::sync::Mutex;
use std::time::Duration;

pub trait Clock: Send + Sync {
    /// The wall clock.
    fn now(&self) -> Timestamp;
    /// Time elapsed on a clock that never jumps, from an arbitrary start; set against
    /// `now()` it shows when the wall clock was stepped.
    fn monotonic(&self) -> Duration;
    /// Whether this is the machine's real clock (which a shared database's clock may
    /// correct); a test's clock is left as the test sets it.
    fn is_system(&self) -> bool {
        false
    }
}

/// The real wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }

    fn monotonic(&self) -> Duration {
        static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        START.get_or_init(std::time::Instant::now).elapsed()
    }
    fn is_system(&self) -> bool {
        true
    }
}

/// A clock that moves only when told to.
#[derive(Debug)]
pub struct FakeClock(Mutex<(Timestamp, Duration)>);

impl FakeClock {
    pub fn new(start: Timestamp) -> Self {
        FakeClock(Mutex::new((start, Duration::ZERO)))
    }

    pub fn at(rfc3339: &str) -> Self {
        Self::new(rfc3339.parse().expect("a valid RFC 3339 time"))
    }

    /// Time passes: both clocks move.
    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap();
        now.0 = now
            .0
            .checked_add(SignedDuration::try_from(by).expect("a representable duration"))
            .expect("time within range");
        now.1 += by;
    }

    /// Time passes until `to` (which must not be earlier).
    pub fn set(&self, to: Timestamp) {
        let mut now = self.0.lock().unwrap();
        let by = now.0.duration_until(to);
        now.1 += Duration::try_from(by).unwrap_or_default();
        now.0 = to;
    }

    /// The wall clock is stepped (NTP, a suspended machine): only it moves.
    pub fn jump(&self, by: SignedDuration) {
        let mut now = self.0.lock().unwrap();
        now.0 = now.0.checked_add(by).expect("time within range");
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Timestamp {
        self.0.lock().unwrap().0
    }

    fn monotonic(&self) -> Duration {
        self.0.lock().unwrap().1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_clock_moves_only_when_told() {
        let clock = FakeClock::at("2026-01-01T00:00:00Z");
        assert_eq!(clock.now().to_string(), "2026-01-01T00:00:00Z");
        clock.advance(Duration::from_secs(90));
        assert_eq!(clock.now().to_string(), "2026-01-01T00:01:30Z");
    }
}
