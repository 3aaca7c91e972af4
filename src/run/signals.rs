//! Signals sent to hb. SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 go on
//! to the job's process group (held back until the job exists); the first four also
//! mean "stop": no new run starts and pings get at most 5 s more. SIGCHLD only wakes
//! the supervisor. The handlers write the signal number to a socket; a thread reads
//! it and acts, so nothing but a `send` runs in signal context.

use std::io::Read;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use super::ping::StopCap;

pub(super) const FORWARDED: [i32; 6] = [
    libc::SIGINT,
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
];

pub(super) fn is_stop(signal: i32) -> bool {
    matches!(
        signal,
        libc::SIGINT | libc::SIGTERM | libc::SIGHUP | libc::SIGQUIT
    )
}

pub(super) fn name(signal: i32) -> String {
    let known = match signal {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGXCPU => "SIGXCPU",
        _ => return format!("signal {signal}"),
    };
    known.to_string()
}

#[derive(Debug, Default)]
struct Slot {
    /// The running job's process group.
    group: Option<i32>,
    /// Signals that came before the job existed.
    pending: Vec<i32>,
    /// The first stop signal hb received.
    stop: Option<i32>,
}

/// Receives hb's signals for the whole life of the process.
pub(super) struct SignalRelay {
    slot: Arc<(Mutex<Slot>, Condvar)>,
    wake: UnixStream,
}

impl SignalRelay {
    pub(super) fn install(cap: StopCap) -> std::io::Result<Self> {
        let (signal_rx, signal_tx) = UnixStream::pair()?;
        let (wake, wake_tx) = UnixStream::pair()?;
        wake.set_nonblocking(true)?;
        let slot: Arc<(Mutex<Slot>, Condvar)> = Arc::default();

        // The write ends live as long as hb: the handlers may fire at any time.
        let signal_fd = std::mem::ManuallyDrop::new(signal_tx).as_raw_fd();
        for signal in FORWARDED {
            // SAFETY: the action only calls `send`, which is async-signal-safe.
            unsafe {
                signal_hook::low_level::register(signal, move || {
                    let byte = [signal as u8];
                    libc::send(signal_fd, byte.as_ptr().cast(), 1, libc::MSG_DONTWAIT);
                })?;
            }
        }
        signal_hook::low_level::pipe::register(libc::SIGCHLD, wake_tx.try_clone()?)?;

        let theirs = slot.clone();
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || relay(signal_rx, wake_tx, theirs, cap))?;
        Ok(SignalRelay { slot, wake })
    }

    /// The job's group now exists: signals go to it, including any held back.
    pub(super) fn attach(&self, group: i32) {
        let mut slot = self.lock();
        slot.group = Some(group);
        for signal in std::mem::take(&mut slot.pending) {
            send_to_group(group, signal);
        }
    }

    /// The job is gone: signals are held back again.
    pub(super) fn detach(&self) {
        self.lock().group = None;
    }

    /// The first stop signal hb received, if any.
    pub(super) fn stop_signal(&self) -> Option<i32> {
        self.lock().stop
    }

    /// Waits until `until` or a stop signal; returns the stop signal, if any.
    pub(super) fn wait_for_stop(&self, until: Instant) -> Option<i32> {
        let (lock, cv) = &*self.slot;
        let mut slot = lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let now = Instant::now();
            if slot.stop.is_some() || now >= until {
                return slot.stop;
            }
            slot = cv
                .wait_timeout(slot, until - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Readable when a child changed state or a stop signal came.
    pub(super) fn wake_fd(&self) -> RawFd {
        self.wake.as_raw_fd()
    }

    pub(super) fn clear_wake(&self) {
        let mut sink = [0u8; 64];
        while matches!((&self.wake).read(&mut sink), Ok(n) if n > 0) {}
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Slot> {
        self.slot.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn relay(
    mut signals: UnixStream,
    wake: UnixStream,
    slot: Arc<(Mutex<Slot>, Condvar)>,
    cap: StopCap,
) {
    let mut byte = [0u8; 1];
    while let Ok(1) = signals.read(&mut byte) {
        let signal = i32::from(byte[0]);
        let (lock, cv) = &*slot;
        let mut state = lock.lock().unwrap_or_else(|e| e.into_inner());
        match state.group {
            Some(group) => send_to_group(group, signal),
            None => state.pending.push(signal),
        }
        if is_stop(signal) {
            state.stop.get_or_insert(signal);
            cap.stop_now();
            cv.notify_all();
            poke(&wake);
        }
    }
}

/// Makes the wake socket readable.
fn poke(stream: &UnixStream) {
    // SAFETY: a valid socket and a one-byte buffer.
    unsafe {
        libc::send(
            stream.as_raw_fd(),
            [0u8].as_ptr().cast(),
            1,
            libc::MSG_DONTWAIT,
        );
    }
}

pub(super) fn send_to_group(group: i32, signal: i32) {
    // SAFETY: plain kill(2) on a process group we started.
    unsafe {
        libc::kill(-group, signal);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_usual_signals() {
        assert_eq!(name(libc::SIGTERM), "SIGTERM");
        assert_eq!(name(libc::SIGKILL), "SIGKILL");
        assert_eq!(name(63), "signal 63");
        assert!(is_stop(libc::SIGINT) && !is_stop(libc::SIGUSR1));
    }
}
