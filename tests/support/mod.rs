//! Shared pieces of the tests that drive the real `hb` binary.

pub(crate) mod pg;
pub(crate) mod ping_server;

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use wait_timeout::ChildExt;

pub(crate) const UUID: &str = "0b9e5a2c-1111-4222-8333-444455556666";

/// `hb` with a clean environment: no HB_* variables, no proxies, no config file.
pub(crate) fn hb() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hb"));
    for var in [
        "HB_SERVER",
        "HB_PING_KEY",
        "HB_CONFIG",
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
    ] {
        command.env_remove(var);
    }
    command.env(
        "XDG_CONFIG_HOME",
        std::env::temp_dir().join("hb-tests-no-config-here"),
    );
    command.stdin(Stdio::null());
    command
}

/// Quick settings so failing pings cost little time.
pub(crate) const FAST: [&str; 6] = [
    "--ping-timeout",
    "1s",
    "--ping-budget",
    "3s",
    "--retries",
    "2",
];

pub(crate) struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Outcome {
    /// The lines hb itself wrote on stderr.
    pub(crate) fn hb_lines(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| l.starts_with("hb: "))
            .collect()
    }
}

/// Runs a command to its end (killing it after `limit`) and collects everything.
pub(crate) fn run(mut command: Command, limit: Duration) -> Outcome {
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let begin = Instant::now();
    let child = command.spawn().expect("spawn hb");
    finish(child, begin, limit)
}

/// Waits for a spawned command (stdout and stderr piped) and collects everything.
pub(crate) fn finish(mut child: Child, begin: Instant, limit: Duration) -> Outcome {
    let stdout = reader(child.stdout.take());
    let stderr = reader(child.stderr.take());
    let left = limit.saturating_sub(begin.elapsed());
    let status = match child.wait_timeout(left).expect("wait") {
        Some(status) => status,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "still running after {limit:?}: {:?}",
                stderr.join().unwrap()
            );
        }
    };
    let elapsed = begin.elapsed();
    Outcome {
        code: status.code(),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
        elapsed,
    }
}

fn reader<R: Read + Send + 'static>(source: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut source) = source {
            let mut bytes = Vec::new();
            let _ = source.read_to_end(&mut bytes);
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
        text
    })
}

/// Polls `condition` every 10 ms until it holds or `timeout` passes.
pub(crate) fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// True when no live process has this pid (a zombie counts as gone).
pub(crate) fn pid_gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

/// Waits for a file the job writes, and reads the pids in it.
pub(crate) fn read_pids(path: &Path) -> Vec<i32> {
    assert!(
        wait_until(Duration::from_secs(5), || std::fs::read_to_string(path)
            .is_ok_and(|t| t.ends_with('\n'))),
        "the job never wrote {}",
        path.display()
    );
    std::fs::read_to_string(path)
        .unwrap()
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect()
}

pub(crate) fn send_signal(pid: u32, signal: i32) {
    // SAFETY: kill(2) on a process this test started.
    unsafe {
        libc::kill(pid as i32, signal);
    }
}
