//! The running monitor's shared state: the registry behind one lock, the database
//! writer, the clock, and the wake-ups of the deadline engine and the outbox.

use jiff::Timestamp;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use tokio::sync::Notify;

use super::registry::Registry;
use super::store::{History, Op, Writer};
use crate::clock::Clock;

/// Settings the HTTP layer reads on every request; replaced on SIGHUP.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Public URL for `ping_url` and links; else `http://` + the request's Host.
    pub base_url: Option<String>,
    pub ping_key: Option<String>,
    pub api_keys: Vec<String>,
}

#[derive(Debug, Default)]
pub struct Metrics {
    pub pings: [AtomicU64; 4],
    pub alerts_ok: AtomicU64,
    pub alerts_failed: AtomicU64,
}

pub struct App {
    registry: Mutex<Registry>,
    writer: Writer,
    pub history: Arc<dyn History>,
    pub clock: Arc<dyn Clock>,
    pub options: RwLock<Options>,
    pub metrics: Metrics,
    /// Wakes the deadline engine when a change brings a deadline forward.
    pub engine_wake: Notify,
    /// The deadline the engine sleeps until (ms), read and written under the registry lock.
    engine_until: AtomicI64,
    /// Wakes the outbox when a delivery is queued.
    pub outbox_wake: Notify,
}

impl App {
    pub fn new(
        registry: Registry,
        writer: Writer,
        history: Arc<dyn History>,
        clock: Arc<dyn Clock>,
        options: Options,
    ) -> App {
        App {
            registry: Mutex::new(registry),
            writer,
            history,
            clock,
            options: RwLock::new(options),
            metrics: Metrics::default(),
            engine_wake: Notify::new(),
            engine_until: AtomicI64::new(i64::MIN),
            outbox_wake: Notify::new(),
        }
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn options(&self) -> Options {
        self.options
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The registry, for reading. Changes go through [`App::change`].
    pub fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs a change on the registry, queues its store operations in order, and
    /// returns once they are committed.
    pub async fn change<T>(
        &self,
        f: impl FnOnce(&mut Registry, Timestamp, &mut Vec<Op>) -> T,
    ) -> Result<T, String> {
        let mut ops = Vec::new();
        let (value, committed, enqueued) = {
            let mut reg = self.registry();
            let now = self.now();
            let value = f(&mut reg, now, &mut ops);
            let enqueued = ops
                .iter()
                .any(|op| matches!(op, Op::Enqueue(_) | Op::Attempt(_)));
            if reg
                .next_deadline()
                .is_some_and(|t| t.as_millisecond() < self.engine_until.load(Ordering::Relaxed))
            {
                self.engine_wake.notify_one();
            }
            (value, self.writer.send(ops), enqueued)
        };
        committed
            .await
            .map_err(|_| "the database writer has stopped".to_string())??;
        if enqueued {
            self.outbox_wake.notify_one();
        }
        Ok(value)
    }

    /// The engine tells when it will next look (under the registry lock).
    pub(crate) fn set_engine_until(&self, reg: &Registry) -> Option<Timestamp> {
        let next = reg.next_deadline();
        self.engine_until.store(
            next.map_or(i64::MAX, |t| t.as_millisecond()),
            Ordering::Relaxed,
        );
        next
    }

    pub(crate) fn mark_engine_awake(&self) {
        self.engine_until.store(i64::MIN, Ordering::Relaxed);
    }
}
