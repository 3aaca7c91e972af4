//! The deadline engine: sleeps until the earliest deadline of any check, does what is
//! due (missed, stuck, slow, repeats, escalations), and sleeps again. A change that
//! brings a deadline forward wakes it; nothing scans all checks periodically.

use std::sync::Arc;
use std::time::Duration;

use super::app::App;

/// The longest nap, so a wall-clock jump (suspend, NTP step) is noticed.
const MAX_NAP: Duration = Duration::from_secs(30);

/// Does everything due now; returns once it is committed.
pub async fn run_due(app: &App) {
    if let Err(e) = app.change(|reg, now, ops| reg.tick(now, ops)).await {
        eprintln!("hb: cannot record due alerts: {e}");
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
