//! The commit path. A change is applied to the registry under its lock and queued
//! here, in the same order, with the store operations that make it durable and the
//! [`Undo`] that takes it back out of memory. One writer thread commits whatever is
//! queued as one transaction (group commit, no fixed wait), each caller's operations
//! in a savepoint of their own.
//!
//! A change whose commit fails leaves no trace: the writer takes the registry lock,
//! undoes it, and with it every later change that touched the same check or channel
//! (they were computed on top of it); those callers get the error too. Changes that
//! did not build on a failed one are committed as if nothing happened. Only once a
//! group is settled does the commit watermark move, and the outbox sends nothing that
//! was queued by a change above the watermark.

use std::collections::{BTreeSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use tokio::sync::oneshot;

use super::registry::{Key, Registry, Undo};
use super::store::{Op, Store};

/// Most callers' changes committed in one transaction.
const MAX_GROUP: usize = 4096;

/// What the writer tells the rest of the monitor.
#[derive(Debug, Default)]
pub struct CommitState {
    /// Every change up to this number is settled (committed, or undone).
    pub committed: AtomicU64,
    /// Whether the last group was committed (false after a failed write, until one succeeds).
    pub healthy: AtomicBool,
    /// Whether the writer thread is running.
    pub running: AtomicBool,
}

type Answer = oneshot::Sender<Result<(), String>>;

/// One caller's change, queued.
pub struct Batch {
    pub seq: u64,
    pub ops: Vec<Op>,
    pub undo: Undo,
    done: Option<Answer>,
}

impl Batch {
    fn answer(&mut self, result: Result<(), String>) {
        if let Some(done) = self.done.take() {
            let _ = done.send(result);
        }
    }
}

enum Message {
    Batch(Batch),
    /// Commit everything queued before this, then end.
    Stop,
}

/// The sending side of the writer thread.
#[derive(Clone)]
pub struct Writer(mpsc::Sender<Message>);

impl Writer {
    /// Queues a change (call under the registry lock, so the queue's order is the order
    /// of the changes in memory); the receiver answers once it is settled.
    pub fn send(
        &self,
        seq: u64,
        ops: Vec<Op>,
        undo: Undo,
    ) -> oneshot::Receiver<Result<(), String>> {
        let (tx, rx) = oneshot::channel();
        if ops.is_empty() {
            let _ = tx.send(Ok(()));
            return rx;
        }
        let batch = Batch {
            seq,
            ops,
            undo,
            done: Some(tx),
        };
        if let Err(mpsc::SendError(Message::Batch(mut batch))) = self.0.send(Message::Batch(batch))
        {
            batch.answer(Err("the database writer has stopped".into()));
        }
        rx
    }

    /// Asks the thread to commit what is queued and end; join its handle to wait.
    pub fn stop(&self) {
        let _ = self.0.send(Message::Stop);
    }
}

/// Locks the registry; a registry left half-changed by a panic is never used again.
pub fn lock(registry: &Mutex<Registry>) -> std::sync::MutexGuard<'_, Registry> {
    match registry.lock() {
        Ok(guard) => guard,
        Err(_) => {
            eprintln!(
                "hb: internal error: a panic left the monitor's state half-changed; exiting so the service manager restarts hb from the database"
            );
            std::process::exit(crate::exit::FAILURE);
        }
    }
}

/// Starts the writer thread.
pub fn spawn(
    store: impl Store,
    registry: Arc<Mutex<Registry>>,
    state: Arc<CommitState>,
) -> (Writer, std::thread::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel::<Message>();
    state.running.store(true, Ordering::SeqCst);
    state.healthy.store(true, Ordering::SeqCst);
    let handle = std::thread::Builder::new()
        .name("hb-db-writer".into())
        .spawn(move || {
            run(store, &registry, &state, &rx);
            state.running.store(false, Ordering::SeqCst);
        })
        .expect("spawning a thread");
    (Writer(tx), handle)
}

fn run(
    mut store: impl Store,
    registry: &Mutex<Registry>,
    state: &CommitState,
    rx: &mpsc::Receiver<Message>,
) {
    let mut carried: VecDeque<Batch> = VecDeque::new();
    let mut stopping = false;
    loop {
        let mut group: Vec<Batch> = carried.drain(..).collect();
        if group.is_empty() {
            if stopping {
                return;
            }
            match rx.recv() {
                Ok(Message::Batch(batch)) => group.push(batch),
                Ok(Message::Stop) | Err(_) => return,
            }
        }
        while !stopping && group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(Message::Batch(batch)) => group.push(batch),
                Ok(Message::Stop) => stopping = true,
                Err(_) => break,
            }
        }
        let results = commit_group(&mut store, &group);
        let last_seq = group.last().map_or(0, |b| b.seq);
        if results.iter().all(Result::is_ok) {
            state.healthy.store(true, Ordering::SeqCst);
            state.committed.fetch_max(last_seq, Ordering::SeqCst);
            for batch in &mut group {
                batch.answer(Ok(()));
            }
            continue;
        }
        let first_error = results
            .iter()
            .find_map(|r| r.as_ref().err().cloned())
            .unwrap_or_default();
        eprintln!("hb: database write failed: {first_error}");
        state
            .healthy
            .store(results.iter().any(Result::is_ok), Ordering::SeqCst);
        // Undo, under the lock, what failed and everything queued that built on it.
        let mut later = Vec::new();
        {
            let mut reg = lock(registry);
            // Changes made since were queued under the lock: they are all in the queue.
            loop {
                match rx.try_recv() {
                    Ok(Message::Batch(batch)) => later.push(batch),
                    Ok(Message::Stop) => stopping = true,
                    Err(_) => break,
                }
            }
            let mut failed: BTreeSet<Key> = BTreeSet::new();
            let mut undone = Vec::new();
            for (batch, result) in group.iter_mut().zip(&results) {
                if result.is_err() {
                    failed.extend(batch.undo.keys().iter().cloned());
                    undone.push(std::mem::take(&mut batch.undo));
                }
            }
            let mut kept = VecDeque::new();
            for mut batch in later {
                if batch.undo.touches(&failed) {
                    failed.extend(batch.undo.keys().iter().cloned());
                    undone.push(std::mem::take(&mut batch.undo));
                    batch.answer(Err(format!(
                        "an earlier change to the same check could not be stored ({first_error})"
                    )));
                } else {
                    kept.push_back(batch);
                }
            }
            for undo in undone.into_iter().rev() {
                reg.undo(undo);
            }
            state.committed.fetch_max(last_seq, Ordering::SeqCst);
            carried = kept;
        }
        for (batch, result) in group.iter_mut().zip(results) {
            batch.answer(result);
        }
    }
}

/// Commits a group; one result per caller. A caller whose change touched what an
/// earlier failed caller touched fails too (its change was computed on top of it).
fn commit_group(store: &mut impl Store, group: &[Batch]) -> Vec<Result<(), String>> {
    let all = |e: String| vec![Err(e); group.len()];
    if let Err(e) = store.begin() {
        store.rollback();
        return all(format!("{e:#}"));
    }
    let mut failed: BTreeSet<Key> = BTreeSet::new();
    let mut first_error = String::new();
    let mut results = Vec::with_capacity(group.len());
    for batch in group {
        if !failed.is_empty() && batch.undo.touches(&failed) {
            failed.extend(batch.undo.keys().iter().cloned());
            results.push(Err(format!(
                "an earlier change to the same check could not be stored ({first_error})"
            )));
            continue;
        }
        match store.apply(&batch.ops) {
            Ok(()) => results.push(Ok(())),
            Err(e) => {
                let e = format!("{e:#}");
                if first_error.is_empty() {
                    first_error = e.clone();
                }
                failed.extend(batch.undo.keys().iter().cloned());
                results.push(Err(e));
            }
        }
    }
    if results.iter().any(Result::is_ok) {
        if let Err(e) = store.commit() {
            store.rollback();
            return all(format!("{e:#}"));
        }
    } else {
        store.rollback();
    }
    results
}
