//! The durable outbox: every alert is stored before it is sent, sent at least once,
//! retried with backoff across restarts, and once recorded as delivered never sent
//! again. Deliveries run concurrently on blocking threads.

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::app::App;
use super::notify::{self, Delivery, Event};
use super::store::{AttemptRow, Op, OutboxRow};

/// Deliveries in flight at once.
const CONCURRENCY: usize = 32;
/// One attempt's time limit.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a failing delivery is retried before it is given up (and recorded so).
const GIVE_UP_AFTER: Duration = Duration::from_secs(24 * 3600);

/// The delay before retry number `attempts` (1-based): 5 s doubling to 15 min, with
/// ±20 % jitter drawn from `jitter` in [0, 1).
pub fn backoff(attempts: u32, jitter: f64) -> Duration {
    let base = 5.0 * 2f64.powi(attempts.saturating_sub(1).min(20) as i32);
    let capped = base.min(15.0 * 60.0);
    Duration::from_secs_f64(capped * (0.8 + 0.4 * jitter))
}

/// The event as stored in the outbox.
#[derive(Deserialize)]
struct StoredEvent {
    event_id: String,
    event: String,
    check: Value,
    reason: Option<String>,
    at: Timestamp,
    repeat: u32,
    body: Option<String>,
    check_url: String,
}

fn event_of(row: &OutboxRow) -> Result<Event, String> {
    let e: StoredEvent = serde_json::from_str(&row.payload)
        .map_err(|e| format!("stored event is unreadable: {e}"))?;
    Ok(Event {
        event_id: e.event_id,
        event: e.event,
        check: e.check,
        reason: e.reason,
        at: e.at,
        repeat: e.repeat,
        body: e.body,
        check_url: e.check_url,
    })
}

/// Delivers one event to one named channel, blocking.
pub fn deliver_now(app: &App, channel: &str, event: &Event) -> Delivery {
    let kind = app.registry().channels.get(channel).map(|c| c.kind.clone());
    match kind {
        Some(kind) => notify::deliver(&kind, event, DELIVERY_TIMEOUT),
        None => Delivery {
            ok: false,
            status_code: None,
            error: Some(format!("channel {channel:?} no longer exists")),
            permanent: true,
        },
    }
}

/// What to record after an attempt.
fn settle(row: &OutboxRow, delivery: &Delivery, now: Timestamp) -> AttemptRow {
    let attempts = row.attempts + 1;
    let age = Duration::from_millis((now.as_millisecond() - row.created_ms).max(0) as u64);
    let give_up = !delivery.ok && !delivery.permanent && age >= GIVE_UP_AFTER;
    let done = delivery.ok || delivery.permanent || give_up;
    let next = now.as_millisecond() + backoff(attempts, fastrand::f64()).as_millis() as i64;
    AttemptRow {
        id: row.id,
        attempts,
        at_ms: now.as_millisecond(),
        next_attempt_ms: if done { now.as_millisecond() } else { next },
        done,
        ok: delivery.ok,
        status_code: delivery.status_code,
        error: match (&delivery.error, give_up) {
            (Some(e), true) => Some(format!("gave up after {attempts} attempts: {e}")),
            (e, _) => e.clone(),
        },
    }
}

/// Attempts one queued delivery and records the result. The delivery slot is given
/// back once the receiver has answered, not after the record is committed, so the
/// next deliveries go out while this one is being recorded.
async fn attempt(app: Arc<App>, row: OutboxRow, slot: OwnedSemaphorePermit) {
    let delivery = match event_of(&row) {
        Ok(event) => {
            let app2 = app.clone();
            let channel = row.channel.clone();
            tokio::task::spawn_blocking(move || deliver_now(&app2, &channel, &event))
                .await
                .unwrap_or_else(|e| Delivery {
                    ok: false,
                    status_code: None,
                    error: Some(format!("delivery failed: {e}")),
                    permanent: false,
                })
        }
        Err(e) => Delivery {
            ok: false,
            status_code: None,
            error: Some(e),
            permanent: true,
        },
    };
    drop(slot);
    app.outbox_wake.notify_one();
    let counter = if delivery.ok {
        &app.metrics.alerts_ok
    } else {
        &app.metrics.alerts_failed
    };
    counter.fetch_add(1, Ordering::Relaxed);
    let recorded = app
        .change(|reg, now, ops| {
            let result = settle(&row, &delivery, now);
            if !result.done {
                let mut again = row.clone();
                again.attempts = result.attempts;
                again.next_attempt_ms = result.next_attempt_ms;
                reg.outbox.insert((again.next_attempt_ms, again.id), again);
            }
            ops.push(Op::Attempt(result));
        })
        .await;
    if let Err(e) = recorded {
        eprintln!(
            "hb: cannot record a delivery of event {}: {e}",
            row.event_id
        );
    }
    // A retry may now be queued; the loop plans its next wake-up with it.
    app.outbox_wake.notify_one();
}

/// Takes the deliveries due now (at most `limit`).
fn take_due(app: &App, limit: usize) -> Vec<OutboxRow> {
    let now = app.now().as_millisecond();
    let mut reg = app.registry();
    let mut due = Vec::new();
    while due.len() < limit {
        match reg.outbox.first_key_value() {
            Some((&(t, _), _)) if t <= now => {
                let (_, row) = reg.outbox.pop_first().expect("a first entry exists");
                due.push(row);
            }
            _ => break,
        }
    }
    due
}

pub async fn run(app: Arc<App>) {
    let slots = Arc::new(Semaphore::new(CONCURRENCY));
    let mut busy = false;
    loop {
        let free = slots.available_permits();
        for row in take_due(&app, free) {
            let permit = slots
                .clone()
                .acquire_owned()
                .await
                .expect("semaphore never closes");
            let app = app.clone();
            tokio::spawn(async move {
                attempt(app, row, permit).await;
            });
        }
        let next = app.registry().next_delivery_ms();
        let idle = next.is_none() && slots.available_permits() == CONCURRENCY;
        if busy && idle {
            release_memory();
        }
        busy = !idle;
        let nap = match next {
            Some(_) if slots.available_permits() == 0 => Duration::from_secs(30),
            Some(t) => Duration::from_millis((t - app.now().as_millisecond()).max(0) as u64)
                .min(Duration::from_secs(30)),
            None => Duration::from_secs(30),
        };
        tokio::select! {
            _ = tokio::time::sleep(nap) => {}
            _ = app.outbox_wake.notified() => {}
        }
    }
}

/// After a burst of alerts, hands the memory its queue used back to the system
/// (glibc keeps freed memory otherwise).
fn release_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of the allocator's own heaps.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        assert_eq!(backoff(1, 0.5), Duration::from_secs(5));
        assert_eq!(backoff(2, 0.5), Duration::from_secs(10));
        assert_eq!(backoff(3, 0.5), Duration::from_secs(20));
        assert_eq!(backoff(40, 0.5), Duration::from_secs(900));
        assert!(backoff(1, 0.0) >= Duration::from_secs(4));
        assert!(backoff(1, 0.999) <= Duration::from_secs(6));
    }
}
