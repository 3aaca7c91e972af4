//! hb's one error type: what went wrong, in one sentence that names the thing and
//! the fix, and what it becomes — an exit code for a command (printed once, at the
//! top, by [`crate::run`]) and an HTTP status for an API answer.

use std::fmt;

#[derive(Debug)]
pub enum Error {
    /// Bad input: a wrong flag or value, a broken config file, a malformed request.
    /// Exit 2; HTTP 400.
    Invalid(String),
    /// No such thing. HTTP 404.
    NotFound(String),
    /// Taken, or changed meanwhile. HTTP 409.
    Conflict(String),
    /// Not for this caller, or not through the API at all. HTTP 403.
    Forbidden(String),
    /// Storage failed; nothing was changed, a retry is safe. HTTP 503.
    Unavailable(String),
    /// Anything else at run time (the database, the network, a background task), or
    /// the monitor refused what the operator's command asked. Exit 1.
    Failed(anyhow::Error),
    /// The operator's command could not reach the monitor. Exit 3.
    Unreachable(String),
}

impl Error {
    /// The process exit code this error ends a command with.
    pub fn code(&self) -> i32 {
        match self {
            Error::Invalid(_) => crate::exit::USAGE,
            Error::Unreachable(_) => crate::exit::UNREACHABLE,
            _ => crate::exit::FAILURE,
        }
    }

    /// The HTTP status this error answers a request with.
    pub fn status(&self) -> u16 {
        match self {
            Error::Invalid(_) => 400,
            Error::NotFound(_) => 404,
            Error::Conflict(_) => 409,
            Error::Forbidden(_) => 403,
            Error::Unavailable(_) | Error::Unreachable(_) => 503,
            Error::Failed(_) => 500,
        }
    }

    /// The sentence alone.
    pub fn message(&self) -> String {
        match self {
            Error::Invalid(m)
            | Error::NotFound(m)
            | Error::Conflict(m)
            | Error::Forbidden(m)
            | Error::Unavailable(m)
            | Error::Unreachable(m) => m.clone(),
            Error::Failed(e) => format!("{e:#}"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for Error {}

impl From<anyhow::Error> for Error {
    fn from(e: anyhow::Error) -> Error {
        Error::Failed(e)
    }
}

impl PartialEq for Error {
    fn eq(&self, other: &Error) -> bool {
        self.status() == other.status() && self.message() == other.message()
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses() {
        assert_eq!(Error::Invalid("x".into()).code(), 2);
        assert_eq!(Error::Invalid("x".into()).status(), 400);
        assert_eq!(Error::Unavailable("x".into()).code(), 1);
        assert_eq!(Error::Unavailable("x".into()).status(), 503);
        let failed = Error::from(anyhow::anyhow!("inner").context("outer"));
        assert_eq!(failed.to_string(), "outer: inner");
        assert_eq!(failed.code(), 1);
        assert_eq!(Error::Unreachable("x".into()).code(), 3);
    }
}
