//! Runs one job: spawned without a shell as the leader of its own process group;
//! stdout and stderr passed through unmerged while their tail is kept; the terminal
//! handed to the job; `--timeout` enforced on the whole group; as PID 1, orphans
//! reaped. The run ends when the leader exits; output still coming is read for at
//! most 100 ms more.

use std::ffi::OsString;
use std::fs::File;
use std::io::Write;
use std::mem::ManuallyDrop;
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::signals::{self, SignalRelay};
use super::tail::Tail;
use super::terminal::Terminal;
use crate::duration;
use crate::exit::JobEnd;

const DRAIN: Duration = Duration::from_millis(100);
/// How often to look again while waiting for the rest of a killed group.
const GROUP_TICK: Duration = Duration::from_millis(10);
/// How long to wait for a SIGKILLed group to disappear.
const AFTER_KILL: Duration = Duration::from_secs(1);

pub struct Job<'a> {
    pub argv: &'a [OsString],
    pub timeout: Option<Duration>,
    pub kill_after: Duration,
    pub body_limit: usize,
}

pub struct Finished {
    pub end: JobEnd,
    pub tail: Tail,
    /// Lines for the ping body on how the run ended, when that is worth saying.
    pub notes: Vec<String>,
}

pub fn run_job(job: &Job, relay: Option<&SignalRelay>) -> Finished {
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
    let term_at = job.timeout.map(|t| started + t);
    let mut timed_out = false;
    let mut kill_at: Option<Instant> = None;
    let mut killed_at: Option<Instant> = None;
    let mut exited_at: Option<Instant> = None;
    let mut notes = Vec::new();

    loop {
        let now = Instant::now();
        if term_at.is_some_and(|at| !timed_out && now >= at) {
            timed_out = true;
            signals::send_to_group(leader, libc::SIGTERM);
            signals::send_to_group(leader, libc::SIGCONT);
            kill_at = Some(now + job.kill_after);
            notes.push(format!(
                "timed out after {}: SIGTERM sent to the job's process group",
                duration::format(job.timeout.unwrap_or_default())
            ));
        }
        if kill_at.is_some_and(|at| now >= at) && killed_at.is_none() {
            signals::send_to_group(leader, libc::SIGKILL);
            killed_at = Some(now);
            kill_at = None;
            notes.push(format!(
                "still running {} later: SIGKILL sent to the job's process group",
                duration::format(job.kill_after)
            ));
        }
        if watch.status.is_some() {
            let exited = *exited_at.get_or_insert(now);
            let drained = watch.outputs_closed() || now >= exited + DRAIN;
            let group_done = !timed_out
                || !group_alive(leader)
                || killed_at.is_some_and(|at| now >= at + AFTER_KILL);
            if drained && group_done {
                break;
            }
        }
        let drain_end = exited_at
            .map(|at| at + DRAIN)
            .filter(|end| *end > now && !watch.outputs_closed());
        let tick = (relay.is_none() || exited_at.is_some() && timed_out).then(|| now + GROUP_TICK);
        let wake = [term_at.filter(|_| !timed_out), kill_at, drain_end, tick]
            .into_iter()
            .flatten()
            .min();
        watch.wait(relay, wake, &mut tail);
        watch.reap();
    }

    if let Some(relay) = relay {
        relay.detach();
    }
    if let Some(terminal) = &terminal {
        terminal.take_back();
    }
    let status = watch.status.unwrap_or(0);
    let end = if timed_out {
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
