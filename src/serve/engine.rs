//! The deadline engine: sleeps until the earliest deadline of any check, does what is
//! due (missed, stuck, slow, repeats, escalations), and sleeps again. A change that
//! brings a deadline forward wakes it; nothing scans all checks periodically.
//!
//! Each time it wakes it sets the wall clock against the monotonic one: a step of
//! more than a minute (NTP, a resumed machine) is treated like a restart, so alerts
//! that fell due only because of the step wait one grace period.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::app::App;

/// The longest nap, so a wall-clock jump (suspend, NTP step) is noticed.
const MAX_NAP: Duration = Duration::from_secs(30);

/// Checks handled per change: many checks due at once (a burst of alerts) are done
/// in slices, so pings are not held up behind the whole burst and the first alerts are
/// committed, and sent, before the last are worked out.
const TICK_SLICE: usize = 500;

/// Does everything due now; returns once it is committed.
pub async fn run_due(app: &App) {
    loop {
        match app
            .change(|reg, now, ops| reg.tick(now, TICK_SLICE, ops))
            .await
        {
            Ok(true) => continue,
            Ok(false) => break,
            Err(e) => {
                super::log::error("store", format!("cannot record due alerts: {e}")).emit();
                break;
            }
        }
    }
}

/// A wall-clock step larger than this, against the monotonic clock, is a jump.
const JUMP: Duration = Duration::from_secs(60);

/// Watches the wall clock against the monotonic clock.
pub struct JumpDetector {
    wall_ms: i64,
    mono: Duration,
}

impl JumpDetector {
    pub fn new(app: &App) -> JumpDetector {
        JumpDetector {
            wall_ms: app.now().as_millisecond(),
            mono: app.clock.monotonic(),
        }
    }

    /// Whether the wall clock moved forward more than [`JUMP`] beyond the time that
    /// passed since the last look.
    pub fn jumped(&mut self, app: &App) -> bool {
        self.saw(app.now().as_millisecond(), app.clock.monotonic())
    }

    /// The rule: the wall clock moved more than [`JUMP`] further than the monotonic one.
    fn saw(&mut self, wall_ms: i64, mono: Duration) -> bool {
        let wall = wall_ms - self.wall_ms;
        let passed = mono.saturating_sub(self.mono).as_millis() as i64;
        self.wall_ms = wall_ms;
        self.mono = mono;
        wall - passed > JUMP.as_millis() as i64
    }
}

pub async fn run(app: Arc<App>) {
    let mut clock = JumpDetector::new(&app);
    loop {
        if !app.leading() {
            // Another node runs the engine; this one looks again when it may take over.
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = app.commits.remote_engine.notified() => {}
            }
            continue;
        }
        app.mark_engine_awake();
        let jumped = clock.jumped(&app);
        if jumped {
            super::log::warn(
                "clock",
                "the wall clock jumped forward; checks that fell due because of it get one grace period",
            )
            .emit();
            if let Err(e) = app
                .change(|reg, now, ops| reg.on_clock_jump(now, ops))
                .await
            {
                super::log::error("store", format!("cannot record the clock jump: {e}")).emit();
            }
        }
        run_due(&app).await;
        if jumped {
            app.metrics.clock_jumps.fetch_add(1, Ordering::SeqCst);
        }
        let next = {
            let reg = app.registry();
            app.set_engine_until(&reg)
        };
        let nap = match next {
            Some(t) => {
                let ms = t.as_millisecond() - app.now().as_millisecond();
                Duration::from_millis(ms.max(0) as u64).min(MAX_NAP)
            }
            None => MAX_NAP,
        };
        tokio::select! {
            _ = tokio::time::sleep(nap) => {}
            _ = app.engine_wake.notified() => {}
            // Another node's change (shared database) may have moved a deadline.
            _ = app.commits.remote_engine.notified() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, FakeClock};

    fn jumped(clock: &FakeClock, last: &mut JumpDetector) -> bool {
        last.saw(clock.now().as_millisecond(), clock.monotonic())
    }

    #[test]
    fn time_passing_is_no_jump_a_step_is() {
        let clock = FakeClock::at("2026-01-01T00:00:00Z");
        let mut last = JumpDetector {
            wall_ms: clock.now().as_millisecond(),
            mono: clock.monotonic(),
        };
        clock.advance(Duration::from_secs(3 * 3600));
        assert!(
            !jumped(&clock, &mut last),
            "a long sleep of the engine is time passing"
        );
        clock.jump(jiff::SignedDuration::from_secs(59));
        assert!(
            !jumped(&clock, &mut last),
            "NTP slews and small steps are tolerated"
        );
        clock.jump(jiff::SignedDuration::from_mins(5));
        assert!(jumped(&clock, &mut last));
        clock.jump(jiff::SignedDuration::from_hours(-2));
        assert!(
            !jumped(&clock, &mut last),
            "a step back brings nothing forward"
        );
    }
}
