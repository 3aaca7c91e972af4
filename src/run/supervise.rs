//! Runs one job: spawned without a shell as the leader of its own process group;
//! stdout and stderr passed through unmerged while their tail is kept; the terminal
//! handed to the job; `--timeout` enforced on the whole group; as PID 1, orphans
//! reaped. The run ends when the leader exits; output still coming is read for at
//! most 100 ms more. When to signal and when the run is over is decided in
//! `plan.rs`; this file does the system calls.

use std::ffi::OsString;
use std::fs::File;
use std::io::Write;
use std::mem::ManuallyDrop;
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::plan::{Action, Plan, Seen};
use super::settings::Say;
use super::signals::{self, SignalRelay};
use super::tail::Tail;
use super::terminal::Terminal;
use crate::duration;
use crate::exit::JobEnd;

pub(super) struct Job<'a> {
    pub argv: &'a [OsString],
    pub timeout: Option<Duration>,
    pub kill_after: Duration,
    pub body_limit: usize,
    /// Where a timeout's SIGTERM and SIGKILL are told (unless `--quiet`).
    pub say: Say,
}

pub(super) struct Finished {
    pub end: JobEnd,
    pub tail: Tail,
    /// Lines for the ping body on how the run ended, when that is worth saying.
    pub notes: Vec<String>,
}

pub(super) fn run_job(job: &Job, relay: Option<&SignalRelay>) -> Finished {
    let mut tail = Tail::new(job.body_limit);
    let terminal = Terminal::foreground();
    let mut command = Command::new(&job.argv[0]);
    command
        .args(&job.argv[1..])
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    if terminal.is_some() {
        // SAFETY: the closure only makes async-signal-safe calls.
        unsafe {
            command.pre_exec(|| {
                Terminal::take_in_child();
                Ok(())
            });
        }
    }
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) => return not_started(job.argv, &error, tail),
    };
    let leader = child.id() as i32;
    if let Some(terminal) = &terminal {
        terminal.give_to(leader);
    }
    if let Some(relay) = relay {
        relay.attach(leader);
    }

    let outputs = [
        child.stdout.take().map(|s| Stream::new(s.into(), 1)),
        child.stderr.take().map(|s| Stream::new(s.into(), 2)),
    ];
    let mut watch = Watch {
        leader,
        reap_all: std::process::id() == 1,
        terminal: terminal.as_ref(),
        outputs,
        status: None,
    };
    let started = Instant::now();
    let mut plan = Plan::new(job.timeout, job.kill_after, relay.is_none());
    let mut notes = Vec::new();

    loop {
        let at = started.elapsed();
        let leader_exited = watch.status.is_some();
        // Whether the group outlives its leader matters only once the leader is gone.
        let seen = Seen {
            at,
            leader_exited,
            outputs_closed: watch.outputs_closed(),
            group_alive: !leader_exited || group_alive(leader),
        };
        match plan.next(seen) {
            Action::Terminate => {
                signals::send_to_group(leader, libc::SIGTERM);
                signals::send_to_group(leader, libc::SIGCONT);
                let timeout = duration::format(job.timeout.unwrap_or_default());
                let kill_after = duration::format(job.kill_after);
                job.say.warn(&format!(
                    "{} timed out after {timeout}; sent SIGTERM to its process group (SIGKILL follows in {kill_after} if any of it is left)",
                    job.argv[0].to_string_lossy()
                ));
                notes.push(format!(
                    "timed out after {timeout}: SIGTERM sent to the job's process group"
                ));
            }
            Action::Kill => {
                signals::send_to_group(leader, libc::SIGKILL);
                let kill_after = duration::format(job.kill_after);
                job.say.warn(&format!(
                    "{} (or a process it started) still running {kill_after} after SIGTERM; sent SIGKILL to its process group",
                    job.argv[0].to_string_lossy()
                ));
                notes.push(format!(
                    "still running {kill_after} later: SIGKILL sent to the job's process group"
                ));
            }
            Action::WaitUntil(wake) => {
                watch.wait(relay, wake.map(|w| started + w), &mut tail);
                watch.reap();
            }
            Action::Done => break,
        }
    }

    if let Some(relay) = relay {
        relay.detach();
    }
    if let Some(terminal) = &terminal {
        terminal.take_back();
    }
    let status = watch.status.unwrap_or(0);
    let end = if plan.timed_out() {
        JobEnd::TimedOut
    } else if libc::WIFSIGNALED(status) {
        let signal = libc::WTERMSIG(status);
        notes.push(format!("the job was killed by {}", signals::name(signal)));
        JobEnd::Signaled(signal)
    } else {
        JobEnd::Exited(libc::WEXITSTATUS(status))
    };
    drop(child);
    Finished { end, tail, notes }
}

fn not_started(argv: &[OsString], error: &std::io::Error, tail: Tail) -> Finished {
    let program = argv[0].to_string_lossy();
    let (end, note) = if error.kind() == std::io::ErrorKind::NotFound {
        (
            JobEnd::NotFound,
            format!("cannot run `{program}`: command not found; check its name and PATH"),
        )
    } else {
        (
            JobEnd::CannotExecute,
            format!("cannot run `{program}`: {error}; check that it is an executable file"),
        )
    };
    Finished {
        end,
        tail,
        notes: vec![note],
    }
}

/// True while any process of the group is left.
fn group_alive(group: i32) -> bool {
    // SAFETY: signal 0 only checks for existence.
    unsafe { libc::kill(-group, 0) == 0 }
}

/// One of the job's output pipes and where it passes through to (1 or 2).
struct Stream {
    pipe: File,
    to: RawFd,
    /// hb's own stream failed (e.g. a closed pipe); the output is still kept.
    to_broken: bool,
}

impl Stream {
    fn new(pipe: std::os::fd::OwnedFd, to: RawFd) -> Self {
        Stream {
            pipe: File::from(pipe),
            to,
            to_broken: false,
        }
    }

    fn pass_through(&mut self, bytes: &[u8]) {
        if self.to_broken {
            return;
        }
        // SAFETY: fd 1 or 2, borrowed without closing it; unbuffered writes.
        let mut out = ManuallyDrop::new(unsafe { File::from_raw_fd(self.to) });
        if out.write_all(bytes).is_err() {
            self.to_broken = true;
        }
    }
}

struct Watch<'a> {
    leader: i32,
    reap_all: bool,
    terminal: Option<&'a Terminal>,
    outputs: [Option<Stream>; 2],
    /// The leader's wait status, once collected.
    status: Option<libc::c_int>,
}

impl Watch<'_> {
    fn outputs_closed(&self) -> bool {
        self.outputs.iter().all(Option::is_none)
    }

    /// Waits for output, a child's change of state or a signal, at most until `until`,
    /// and passes any output on.
    fn wait(&mut self, relay: Option<&SignalRelay>, until: Option<Instant>, tail: &mut Tail) {
        let mut fds: Vec<libc::pollfd> = Vec::with_capacity(3);
        for stream in self.outputs.iter().flatten() {
            fds.push(pollfd(stream.pipe.as_raw_fd()));
        }
        if let Some(relay) = relay {
            fds.push(pollfd(relay.wake_fd()));
        }
        let timeout_ms = match until {
            None => -1,
            Some(at) => {
                let left = at.saturating_duration_since(Instant::now());
                left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32
            }
        };
        // SAFETY: a valid array of pollfd.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
        if ready <= 0 {
            return;
        }
        if let Some(relay) = relay {
            relay.clear_wake();
        }
        let mut buffer = [0u8; 16 * 1024];
        for slot in self.outputs.iter_mut() {
            let Some(stream) = slot else { continue };
            let fd = stream.pipe.as_raw_fd();
            let Some(revents) = fds.iter().find(|p| p.fd == fd).map(|p| p.revents) else {
                continue;
            };
            if revents == 0 {
                continue;
            }
            // SAFETY: reading into a buffer we own.
            let n = unsafe { libc::read(fd, buffer.as_mut_ptr().cast(), buffer.len()) };
            if n > 0 {
                let bytes = &buffer[..n as usize];
                tail.push(bytes);
                stream.pass_through(bytes);
            } else if n == 0
                || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted
            {
                *slot = None;
            }
        }
    }

    /// Collects the leader's status (and, as PID 1, every orphan's) without blocking.
    fn reap(&mut self) {
        if self.status.is_some() && !self.reap_all {
            return;
        }
        let watch_stops = self.terminal.is_some() && !self.reap_all;
        loop {
            let mut status = 0;
            let target = if self.reap_all { -1 } else { self.leader };
            let flags = libc::WNOHANG | if watch_stops { libc::WUNTRACED } else { 0 };
            // SAFETY: waitpid with a valid status pointer.
            let pid = unsafe { libc::waitpid(target, &mut status, flags) };
            if pid <= 0 {
                return;
            }
            if pid != self.leader {
                continue;
            }
            if libc::WIFSTOPPED(status) {
                if let Some(terminal) = self.terminal {
                    terminal.suspend_with(self.leader);
                }
                continue;
            }
            self.status = Some(status);
            if !self.reap_all {
                return;
            }
        }
    }
}

fn pollfd(fd: RawFd) -> libc::pollfd {
    libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }
}
