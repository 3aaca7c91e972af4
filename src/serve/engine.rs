//! The deadline engine: sleeps until the earliest deadline of any check, does what is
//! due (missed, stuck, slow, repeats, escalations), and sleeps again. A change that
//! brings a deadline forward wakes it; nothing scans all checks periodically.

use std::sync::Arc;
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
                eprintln!("hb: cannot record due alerts: {e}");
                break;
            }
        }
    }
}

pub async fn run(app: Arc<App>) {
    loop {
        app.mark_engine_awake();
        run_due(&app).await;
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
        }
    }
}
