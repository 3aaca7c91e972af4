//! `command`: runs a program for each alert.
//!
//! Settings: `argv` (a list: the program and its arguments; no shell unless you write
//! one, e.g. `["sh", "-c", "…"]`); optional `timeout` (a duration; default the delivery
//! timeout). The alert is in the environment (see [`environment`]); stdin is empty,
//! stdout is discarded, the end of stderr goes into the error. Ok iff it exits 0. On
//! timeout its whole process group is killed.

use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::Stdio;
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use serde_json::{Map, Value};
use wait_timeout::ChildExt;

use super::settings::Fields;
use super::{Delivery, Event, text};

/// How much of stderr's end is kept for the error message.
const STDERR_TAIL: usize = 400;
/// The largest value put in one environment variable (the kernel refuses > 128 KiB).
const ENV_MAX: usize = 100 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub argv: Vec<String>,
    pub timeout: Option<Duration>,
}

/// The variables the command gets: `HB_EVENT`, `HB_EVENT_ID`, `HB_CHECK_NAME`,
/// `HB_CHECK_UUID`, `HB_CHECK_SLUG`, `HB_STATUS`, `HB_REASON`, `HB_BODY`, `HB_AT`, and also
/// `HB_REPEAT`, `HB_CHECK_URL` and `HB_JSON` (the webhook's default JSON body), and
/// `HB_MISSED_SLOTS` on a `down` alert whose reason is `missed`.
pub fn environment(event: &Event) -> Vec<(&'static str, String)> {
    let vars = [
        ("HB_EVENT", event.event.clone()),
        ("HB_EVENT_ID", event.event_id.clone()),
        ("HB_CHECK_NAME", text::check_field(event, "name")),
        ("HB_CHECK_UUID", text::check_field(event, "uuid")),
        ("HB_CHECK_SLUG", text::check_field(event, "slug")),
        ("HB_STATUS", text::check_field(event, "status")),
        ("HB_REASON", event.reason.clone().unwrap_or_default()),
        ("HB_BODY", event.body.clone().unwrap_or_default()),
        ("HB_AT", text::rfc3339(event.at)),
        ("HB_REPEAT", event.repeat.to_string()),
        ("HB_CHECK_URL", event.check_url.clone()),
        ("HB_JSON", super::webhook::default_body(event).to_string()),
    ];
    let missed = event
        .missed_slots
        .map(|n| ("HB_MISSED_SLOTS", n.to_string()));
    vars.into_iter()
        .chain(missed)
        .map(|(k, v)| {
            let v = v.replace('\0', "");
            (k, text::clip_bytes(&v, ENV_MAX).to_string())
        })
        .collect()
}

impl Command {
    pub(super) fn from_fields(f: &mut Fields) -> Result<Command, String> {
        f.only(&["argv", "timeout"])?;
        let what =
            "a list: the program and its arguments, like [\"/usr/local/bin/alert\", \"--urgent\"]";
        let Some(argv) = f.opt_str_list("argv", what)? else {
            return Err(format!(
                "channel field \"argv\" is missing; a command channel needs {what}"
            ));
        };
        if f.raw("argv").is_some_and(|v| v.is_string()) {
            return Err(f.wrong(
                "argv",
                "is a string",
                &format!("{what}; for a shell line write [\"sh\", \"-c\", \"…\"]"),
            ));
        }
        if argv.iter().any(|a| a.contains('\0')) {
            return Err(f.wrong("argv", "contains a NUL character", what));
        }
        let timeout = f.opt_duration("timeout")?;
        Ok(Command { argv, timeout })
    }

    pub(super) fn to_json(&self, map: &mut Map<String, Value>) {
        map.insert("argv".into(), self.argv.clone().into());
        if let Some(t) = self.timeout {
            map.insert("timeout".into(), crate::duration::format(t).into());
        }
    }

    /// Runs the command once for `event`; bounded by the `timeout` setting, else `timeout`.
    pub fn run(&self, event: &Event, timeout: Duration) -> Delivery {
        let limit = self.timeout.unwrap_or(timeout);
        let Some(program) = self.argv.first() else {
            return Delivery::permanent(
                None,
                "the command channel has an empty argv; give the program to run",
            );
        };
        let mut command = std::process::Command::new(program);
        command
            .args(&self.argv[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0);
        for (k, v) in environment(event) {
            command.env(k, v);
        }
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) => {
                let why = match e.kind() {
                    std::io::ErrorKind::NotFound => "was not found".to_string(),
                    std::io::ErrorKind::PermissionDenied => "is not executable".to_string(),
                    _ => format!("could not be started ({e})"),
                };
                let error = format!("the command {program:?} {why}; fix argv");
                return match e.kind() {
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
                        Delivery::permanent(None, error)
                    }
                    _ => Delivery::retryable(None, error),
                };
            }
        };
        let pgid = child.id() as libc::pid_t;

        // Keep the end of stderr; the reader ends when every writer has closed it.
        let tail = Arc::new(Mutex::new(Vec::<u8>::new()));
        let (done_tx, done_rx) = mpsc::channel::<()>();
        if let Some(mut stderr) = child.stderr.take() {
            let tail = Arc::clone(&tail);
            let _ = std::thread::Builder::new()
                .name("hb-command-stderr".into())
                .spawn(move || {
                    let mut buf = [0u8; 4096];
                    while let Ok(n) = stderr.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        if let Ok(mut t) = tail.lock() {
                            t.extend_from_slice(&buf[..n]);
                            let excess = t.len().saturating_sub(STDERR_TAIL * 4);
                            t.drain(..excess);
                        }
                    }
                    let _ = done_tx.send(());
                });
        }

        let outcome = match child.wait_timeout(limit) {
            Ok(Some(status)) => Ok(status),
            Ok(None) => {
                // Still running: kill the whole group while its leader is not yet reaped
                // (so the group id cannot have been reused), then reap it.
                // SAFETY: kill(2) with a negative pid signals the process group we created.
                unsafe {
                    libc::kill(-pgid, libc::SIGKILL);
                }
                let _ = child.wait_timeout(Duration::from_secs(5));
                Err(format!(
                    "the command {program:?} did not finish within {} and was killed",
                    crate::duration::format(limit)
                ))
            }
            Err(e) => {
                // SAFETY: as above.
                unsafe {
                    libc::kill(-pgid, libc::SIGKILL);
                }
                let _ = child.wait_timeout(Duration::from_secs(5));
                Err(format!("waiting for the command {program:?} failed: {e}"))
            }
        };
        // Output still in the pipe comes in quickly; a background child that keeps stderr
        // open is not waited for.
        let _ = done_rx.recv_timeout(Duration::from_millis(200));
        let stderr_tail = {
            let bytes = tail.lock().map(|t| t.clone()).unwrap_or_default();
            let words = String::from_utf8_lossy(&bytes)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            let count = words.chars().count();
            if count > STDERR_TAIL {
                format!(
                    "…{}",
                    words.chars().skip(count - STDERR_TAIL).collect::<String>()
                )
            } else {
                words
            }
        };
        let with_stderr = |mut error: String| {
            if !stderr_tail.is_empty() {
                error.push_str(": ");
                error.push_str(&stderr_tail);
            }
            error
        };
        match outcome {
            Ok(status) if status.success() => Delivery::success(None),
            Ok(status) => {
                let how = match (status.code(), status.signal()) {
                    (Some(code), _) => format!("exited with code {code}"),
                    (None, Some(sig)) => format!("was killed by signal {sig}"),
                    (None, None) => format!("ended with {status}"),
                };
                Delivery::retryable(None, with_stderr(format!("the command {program:?} {how}")))
            }
            Err(error) => Delivery::retryable(None, with_stderr(error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(missed_slots: Option<u32>) -> Event {
        Event {
            event_id: "e".into(),
            event: "down".into(),
            check: json!({"name": "backup"}),
            reason: Some("missed".into()),
            at: "2026-01-01T00:00:00Z".parse().unwrap(),
            repeat: 0,
            body: None,
            check_url: String::new(),
            missed_slots,
        }
    }

    #[test]
    fn a_missed_down_alert_carries_hb_missed_slots() {
        let env = environment(&event(Some(3)));
        assert!(env.contains(&("HB_MISSED_SLOTS", "3".to_string())));
        let json = env.iter().find(|(k, _)| *k == "HB_JSON").unwrap();
        assert!(json.1.contains("\"missed_slots\":3"), "{}", json.1);
        let none = environment(&event(None));
        assert!(none.iter().all(|(k, _)| *k != "HB_MISSED_SLOTS"));
    }
}
