//! How outcomes become hb's exit code. Documented in README ("Exit codes").

/// A usage error: a wrong flag, a malformed value, no command (clap's own code).
pub const USAGE: i32 = 2;
/// A runtime failure (e.g. `hb ping` could not deliver, `hb serve` could not start).
pub const FAILURE: i32 = 1;
/// The operator's command line (§7) could not reach the monitor.
pub const UNREACHABLE: i32 = 3;
/// The job ran past `--timeout` (as coreutils `timeout`).
pub const TIMEOUT: i32 = 124;
/// The command was found but could not be executed (permission, format).
pub const CANNOT_EXECUTE: i32 = 126;
/// The command was not found.
pub const NOT_FOUND: i32 = 127;

/// How a job ended, as seen by the supervisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobEnd {
    /// Exited with this code.
    Exited(i32),
    /// Killed by this signal.
    Signaled(i32),
    /// Ran past `--timeout` and was stopped.
    TimedOut,
    /// Could not be started: not found.
    NotFound,
    /// Could not be started: found but not executable.
    CannotExecute,
}

impl JobEnd {
    /// The exit code hb exits with, and reports to the monitor.
    pub fn code(self) -> i32 {
        match self {
            JobEnd::Exited(code) => code & 0xff,
            JobEnd::Signaled(signal) => 128 + signal,
            JobEnd::TimedOut => TIMEOUT,
            JobEnd::NotFound => NOT_FOUND,
            JobEnd::CannotExecute => CANNOT_EXECUTE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_each_outcome() {
        assert_eq!(JobEnd::Exited(0).code(), 0);
        assert_eq!(JobEnd::Exited(3).code(), 3);
        assert_eq!(JobEnd::Signaled(15).code(), 143);
        assert_eq!(JobEnd::Signaled(9).code(), 137);
        assert_eq!(JobEnd::TimedOut.code(), 124);
        assert_eq!(JobEnd::NotFound.code(), 127);
        assert_eq!(JobEnd::CannotExecute.code(), 126);
    }
}
