//! The durable outbox: every alert is stored before it is sent, sent at least once,
//! retried with backoff across restarts, and once recorded as delivered never sent
//! again. Deliveries run concurrently on blocking threads, with slots per channel, so
//! a receiver that hangs delays only its own channel; for each check and channel,
//! events go in the order they happened (a `down` in backoff holds back its `up`).

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::app::App;
use super::app::Options;
use super::notify::{self, ChannelKind, Delivery, Event, Policy};
use super::store::{AttemptRow, OutboxRow};

/// Deliveries in flight at once to one channel.
const SLOTS_PER_CHANNEL: usize = 8;
/// On a shared database, deliveries leased at once per channel (a lease is a commit, so
/// they are taken in batches; those beyond the channel's slots wait for one).
const LEASED_PER_CHANNEL: usize = 64;
/// Deliveries in flight at once in all.
const MAX_IN_FLIGHT: usize = 256;
/// The longest nap (a wall-clock change is noticed within it).
const MAX_NAP: Duration = Duration::from_secs(30);
/// One attempt's time limit.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
/// On a shared database: how long a node's lease on a delivery lasts. It is renewed
/// while the receiver is being asked, so a node that dies (or freezes) has its
/// deliveries taken over by the others this long after its last renewal.
pub const LEASE: Duration = Duration::from_secs(6);
/// How often leases on deliveries in flight are renewed.
const RENEW_EVERY: Duration = Duration::from_secs(2);
/// How long a failing delivery is retried before it is given up (and recorded so).
const GIVE_UP_AFTER: Duration = Duration::from_secs(24 * 3600);

/// The delay before retry number `attempts` (1-based): 5 s doubling to 15 min, with
/// ±20 % jitter drawn from `jitter` in [0, 1).
pub fn retry_delay(attempts: u32, jitter: f64) -> Duration {
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
    #[serde(default)]
    missed_slots: Option<u32>,
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
        missed_slots: e.missed_slots,
    })
}

/// Delivers one event to one named channel, blocking.
pub fn deliver_now(app: &App, channel: &str, event: &Event) -> Delivery {
    let kind = app.registry().channels.get(channel).map(|c| c.kind.clone());
    match kind {
        Some(kind) => {
            let policy = policy_for(&app.options(), channel, &kind);
            notify::deliver_with(&kind, event, DELIVERY_TIMEOUT, policy)
        }
        None => Delivery {
            ok: false,
            status_code: None,
            error: Some(format!("channel {channel:?} no longer exists")),
            permanent: true,
        },
    }
}

/// Whether a channel may reach private addresses: when the server allows it, or when
/// the config file declares the channel and its destination is still the file's.
pub fn policy_for(options: &Options, name: &str, kind: &ChannelKind) -> Policy {
    let from_file = options
        .declared_channels
        .get(name)
        .is_some_and(|declared| !declared.destination_changed(kind));
    Policy {
        allow_private: options.allow_private_targets || from_file,
    }
}

/// What to record after an attempt.
fn attempt_row(row: &OutboxRow, delivery: &Delivery, now: Timestamp) -> AttemptRow {
    let attempts = row.attempts + 1;
    let age = Duration::from_millis((now.as_millisecond() - row.created_ms).max(0) as u64);
    let give_up = !delivery.ok && !delivery.permanent && age >= GIVE_UP_AFTER;
    let done = delivery.ok || delivery.permanent || give_up;
    let next = now.as_millisecond() + retry_delay(attempts, fastrand::f64()).as_millis() as i64;
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

/// Gives a channel's slot back when dropped (also when an attempt panics).
struct Slot {
    channel: String,
    freed: mpsc::UnboundedSender<String>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let _ = self.freed.send(std::mem::take(&mut self.channel));
    }
}

/// Attempts one queued delivery and records the result. The channel's slot is given
/// back once the receiver has answered, not after the record is committed, so the
/// channel's next deliveries go out while this one is being recorded; the next event
/// of the same check and channel waits for the record (its lane).
async fn attempt(
    app: Arc<App>,
    row: OutboxRow,
    slot: Slot,
    sending: Option<Arc<tokio::sync::Semaphore>>,
) {
    // On a shared database: wait for one of the channel's slots, then check that this
    // node's leases were committed recently enough to still hold.
    let permit = match &sending {
        Some(slots) => slots.clone().acquire_owned().await.ok(),
        None => None,
    };
    if sending.is_some()
        && app
            .leases_renewed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_none_or(|at| at.elapsed() > LEASE - Duration::from_secs(2))
    {
        // This node stood still (frozen, starved, cut off) since its leases were last
        // committed: they may have lapsed, so another node may be sending this one.
        // Give it back rather than risk a second delivery.
        let id = row.id;
        let _ = app.change(|reg, _, ops| reg.release(&[id], ops)).await;
        app.outbox_wake.notify_one();
        return;
    }
    let row = with_payload(&app, row).await;
    if row.payload.is_empty() {
        // The database did not answer: give the delivery back and try again shortly,
        // rather than call an event that exists unreadable.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let id = row.id;
        let _ = app.change(|reg, _, ops| reg.release(&[id], ops)).await;
        app.outbox_wake.notify_one();
        return;
    }
    let check_name = event_of(&row).ok().and_then(|e| {
        e.check
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string)
    });
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
    drop(permit);
    drop(slot);
    let counter = if delivery.ok {
        &app.metrics.alerts_ok
    } else {
        &app.metrics.alerts_failed
    };
    counter.fetch_add(1, Ordering::Relaxed);
    let mut record = None;
    let recorded = app
        .change(|reg, now, ops| {
            let attempt = attempt_row(&row, &delivery, now);
            record = Some(attempt.clone());
            reg.record_attempt(attempt, ops)
        })
        .await;
    if let Some(record) = &record {
        delivery_line(&row, check_name.as_deref(), &delivery, record).emit();
    }
    if let Err(e) = recorded {
        super::log::error(
            "store",
            format!("cannot record a delivery of event {}: {e}", row.event_id),
        )
        .emit();
    }
    // The lane's next event, or a retry, may now go; the loop plans with it.
    app.outbox_wake.notify_one();
}

/// The log line of one delivery attempt: delivered, failed and retried, or given up.
fn delivery_line(
    row: &OutboxRow,
    check: Option<&str>,
    delivery: &Delivery,
    record: &AttemptRow,
) -> super::log::Line {
    let what = match check {
        Some(name) => format!("alert {} for check {name:?}", row.event),
        None => format!("alert {}", row.event),
    };
    let code = delivery
        .status_code
        .map(|c| format!(" ({c})"))
        .unwrap_or_default();
    let line = if delivery.ok {
        super::log::info(
            "alert",
            format!("{what} delivered to channel {:?}{code}", row.channel),
        )
    } else {
        let error = record.error.as_deref().unwrap_or("failed");
        let next = if record.done {
            "not retried".to_string()
        } else {
            let wait = (record.next_attempt_ms - record.at_ms).max(0) as u64;
            format!(
                "retried in {}",
                crate::duration::format(Duration::from_secs(wait.div_ceil(1000)))
            )
        };
        super::log::warn(
            "alert",
            format!(
                "{what} not delivered to channel {:?}{code}: {error}; {next}",
                row.channel
            ),
        )
    };
    line.field("alert", row.event.as_str())
        .field("event_id", row.event_id.as_str())
        .field("channel", row.channel.as_str())
        .field("check", check.map(str::to_string))
        .field("uuid", row.check_uuid.clone())
        .field("ok", delivery.ok)
        .field("status_code", delivery.status_code)
        .field("error", record.error.clone())
        .field("attempts", record.attempts)
        .field("done", record.done)
}

/// Runs deliveries until the monitor stops; then waits for those in flight to be
/// answered and recorded (the caller bounds the wait).
pub async fn run(app: Arc<App>) {
    let (freed_tx, mut freed_rx) = mpsc::unbounded_channel::<String>();
    let mut busy_slots: HashMap<String, usize> = HashMap::new();
    // Shared database: each channel's sending slots (tasks beyond them wait).
    let mut sending: HashMap<String, Arc<tokio::sync::Semaphore>> = HashMap::new();
    let per_channel = if app.shared() {
        LEASED_PER_CHANNEL
    } else {
        SLOTS_PER_CHANNEL
    };
    let mut tasks = JoinSet::new();
    let mut busy = false;
    let mut last_renewal = std::time::Instant::now();
    loop {
        let stopping = app.stopping.load(Ordering::SeqCst);
        if stopping && tasks.is_empty() {
            return;
        }
        let mut next = None;
        // On a shared database one node at a time sends (see `App::leading`); the
        // others take over when its lease lapses.
        if !stopping && app.leading() {
            let now = app.now().as_millisecond();
            let committed = app.committed_seq();
            let room = MAX_IN_FLIGHT.saturating_sub(busy_slots.values().sum());
            let taken = {
                let mut reg = app.registry();
                let rows = reg.outbox.take_due(now, committed, room, |channel| {
                    per_channel.saturating_sub(busy_slots.get(channel).copied().unwrap_or(0))
                });
                next = reg.outbox.next_due_ms(committed);
                rows
            };
            let mut batch = Vec::new();
            for row in taken {
                *busy_slots.entry(row.channel.clone()).or_insert(0) += 1;
                let slot = Slot {
                    channel: row.channel.clone(),
                    freed: freed_tx.clone(),
                };
                if app.shared() {
                    let slots = sending
                        .entry(row.channel.clone())
                        .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(SLOTS_PER_CHANNEL)))
                        .clone();
                    batch.push((row, slot, slots));
                } else {
                    tasks.spawn(attempt(app.clone(), row, slot, None));
                }
            }
            if !batch.is_empty() {
                // Leased and sent off this loop, so leases of several batches share
                // commits and the loop goes on taking what is due.
                tasks.spawn(lease_and_send(app.clone(), batch));
            }
        }
        let idle = next.is_none() && tasks.is_empty();
        if busy && idle {
            release_memory();
        }
        busy = !idle;
        let now = app.now().as_millisecond();
        let nap = match next {
            // Due now but every slot of its channel is taken: a freed slot wakes us.
            Some(t) if t <= now => MAX_NAP,
            Some(t) => Duration::from_millis((t - now) as u64).min(MAX_NAP),
            None => MAX_NAP,
        };
        let renewing = app.shared() && !tasks.is_empty();
        if renewing && last_renewal.elapsed() >= RENEW_EVERY {
            renew_leases(&app).await;
            last_renewal = std::time::Instant::now();
        }
        let renew_in = RENEW_EVERY.saturating_sub(last_renewal.elapsed());
        tokio::select! {
            _ = tokio::time::sleep(nap) => {}
            _ = app.outbox_wake.notified() => {}
            _ = app.commits.remote_outbox.notified() => {}
            _ = tokio::time::sleep(renew_in), if renewing => {}
            Some(channel) = freed_rx.recv() => {
                if let Some(n) = busy_slots.get_mut(&channel) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        busy_slots.remove(&channel);
                    }
                }
            }
            Some(joined) = tasks.join_next(), if !tasks.is_empty() => {
                if let Err(e) = joined
                    && e.is_panic()
                {
                    super::log::error("alert", format!("a delivery attempt failed unexpectedly: {e}")).emit();
                }
            }
        }
    }
}

/// On a shared database: leases the rows taken to this node before any is sent (a
/// committed lease, so no other node sends them meanwhile). Returns the rows leased
/// and when; the others, which another node holds, wait for its lease to end.
async fn lease(app: &App, taken: Vec<OutboxRow>) -> Vec<OutboxRow> {
    let ids: Vec<i64> = taken.iter().map(|r| r.id).collect();
    let until = |now: Timestamp| now.as_millisecond() + LEASE.as_millis() as i64;
    let asked = std::time::Instant::now();
    match app
        .change(|reg, now, ops| reg.claim(&ids, now.as_millisecond(), until(now), ops))
        .await
    {
        Ok(leased) => {
            // The leases held before were renewed at least as recently as the last
            // renewal; these new ones are younger: the older time stands for all.
            let mut renewed = app.leases_renewed.lock().unwrap_or_else(|e| e.into_inner());
            let nothing_else_held = app.registry().leased_in_flight().len() == leased.len();
            if renewed.is_none() || nothing_else_held {
                *renewed = Some(asked);
            }
            drop(renewed);
            taken
                .into_iter()
                .filter(|r| leased.contains(&r.id))
                .collect()
        }
        Err(e) => {
            super::log::error("store", format!("cannot lease deliveries: {e}")).emit();
            Vec::new()
        }
    }
}

/// A delivery queued by another node arrives without its event (the change log leaves
/// it out): it is read from the database before sending.
async fn with_payload(app: &Arc<App>, mut row: OutboxRow) -> OutboxRow {
    if !row.payload.is_empty() {
        return row;
    }
    let history = app.history.clone();
    let id = row.id;
    match tokio::task::spawn_blocking(move || history.outbox_payload(id)).await {
        Ok(Ok(Some(payload))) => row.payload = payload,
        Ok(Ok(None)) => {}
        Ok(Err(e)) => super::log::warn(
            "store",
            format!("cannot read the event of delivery {id}: {e:#}"),
        )
        .emit(),
        Err(e) => super::log::warn(
            "store",
            format!("cannot read the event of delivery {id}: {e}"),
        )
        .emit(),
    }
    row
}

/// On a shared database: leases a batch of deliveries, then sends those leased (each
/// waiting for one of its channel's slots); the others wait for another node's lease
/// to end.
async fn lease_and_send(app: Arc<App>, batch: Vec<(OutboxRow, Slot, Arc<tokio::sync::Semaphore>)>) {
    let rows: Vec<OutboxRow> = batch.iter().map(|(row, _, _)| row.clone()).collect();
    let leased: std::collections::HashSet<i64> =
        lease(&app, rows).await.iter().map(|row| row.id).collect();
    let mut sends = JoinSet::new();
    for (row, slot, slots) in batch {
        if leased.contains(&row.id) {
            sends.spawn(attempt(app.clone(), row, slot, Some(slots)));
        }
    }
    while let Some(joined) = sends.join_next().await {
        if let Err(e) = joined
            && e.is_panic()
        {
            super::log::error(
                "alert",
                format!("a delivery attempt failed unexpectedly: {e}"),
            )
            .emit();
        }
    }
    app.outbox_wake.notify_one();
}

/// Renews this node's leases on the deliveries it is sending (or waiting to send).
async fn renew_leases(app: &App) {
    let ids = app.registry().leased_in_flight();
    if ids.is_empty() {
        return;
    }
    let until = |now: Timestamp| now.as_millisecond() + LEASE.as_millis() as i64;
    let asked = std::time::Instant::now();
    match app
        .change(|reg, now, ops| reg.claim(&ids, now.as_millisecond(), until(now), ops))
        .await
    {
        Ok(_) => *app.leases_renewed.lock().unwrap_or_else(|e| e.into_inner()) = Some(asked),
        Err(e) => {
            super::log::warn("store", format!("cannot renew leases on deliveries: {e}")).emit()
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

    fn row(created_ms: i64) -> OutboxRow {
        OutboxRow {
            id: 7,
            event_id: "e".into(),
            event: "down".into(),
            channel: "hook".into(),
            check_uuid: None,
            payload: String::new(),
            attempts: 2,
            next_attempt_ms: created_ms,
            created_ms,
        }
    }

    #[test]
    fn an_attempt_is_done_when_delivered_permanent_or_a_day_old() {
        let now = Timestamp::from_millisecond(100_000_000).unwrap();
        let fresh = row(now.as_millisecond() - 1000);
        let ok = attempt_row(&fresh, &Delivery::success(Some(200)), now);
        assert!(ok.done && ok.ok && ok.attempts == 3);
        let again = attempt_row(&fresh, &Delivery::retryable(Some(503), "busy"), now);
        assert!(!again.done);
        assert!(
            again.next_attempt_ms >= now.as_millisecond() + 15_000,
            "{again:?}"
        );
        let never = attempt_row(&fresh, &Delivery::permanent(Some(404), "gone"), now);
        assert!(never.done && !never.ok);
        let old = row(now.as_millisecond() - GIVE_UP_AFTER.as_millis() as i64);
        let given_up = attempt_row(&old, &Delivery::retryable(None, "refused"), now);
        assert!(given_up.done && !given_up.ok);
        assert!(
            given_up
                .error
                .unwrap()
                .starts_with("gave up after 3 attempts")
        );
    }

    #[test]
    fn retry_delay_doubles_with_jitter_and_is_capped() {
        assert_eq!(retry_delay(1, 0.5), Duration::from_secs(5));
        assert_eq!(retry_delay(2, 0.5), Duration::from_secs(10));
        assert_eq!(retry_delay(3, 0.5), Duration::from_secs(20));
        assert_eq!(retry_delay(40, 0.5), Duration::from_secs(900));
        assert!(retry_delay(1, 0.0) >= Duration::from_secs(4));
        assert!(retry_delay(1, 0.999) <= Duration::from_secs(6));
    }
}
