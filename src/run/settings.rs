//! The wrapper's inputs: the config file read fail-open, the ID resolved with
//! flag > environment > file > default, `--header` and `--data` read, and the one
//! place hb's own lines are printed.

use std::io::Read;

use clap::CommandFactory;

use super::endpoint::{self, Resolver};
use super::retry::{PingResult, status_text};
use crate::cli::{Cli, CreateArgs, PingOptions};
use crate::config::{self, ConfigSource, WrapperFile};

/// hb's own messages on stderr, one line each, silenced by `--quiet`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Say {
    quiet: bool,
}

impl Say {
    pub(super) fn new(quiet: bool) -> Self {
        Say { quiet }
    }

    pub(super) fn warn(&self, message: &str) {
        if !self.quiet {
            eprintln!("hb: {message}");
        }
    }

    /// Says what went wrong with a ping, if anything; true when it was delivered.
    pub(super) fn report(&self, what: &str, url: &str, delivery: &PingResult) -> bool {
        match delivery {
            PingResult::Delivered { .. } => return true,
            PingResult::Refused { status } if (300..400).contains(status) => self.warn(&format!(
                "{what} to {url} not delivered: the answer was {}, a redirect hb does not follow; give hb the URL it redirects to",
                status_text(*status)
            )),
            PingResult::Refused { status } => self.warn(&format!(
                "{what} to {url} was refused with {}; check the check's ID, ping key and server",
                status_text(*status)
            )),
            PingResult::NotDelivered { last, tries } => {
                let tries = match tries {
                    0 => String::new(),
                    1 => " after 1 try".into(),
                    n => format!(" after {n} tries"),
                };
                self.warn(&format!(
                    "{what} to {url} not delivered{tries}: {last}; check that the monitor is up and reachable"
                ))
            }
        }
        false
    }
}

/// Prints a usage error as clap does (exit code 2), for checks clap cannot make.
pub(super) fn usage_error(subcommand: &str, message: &str) -> i32 {
    let mut command = Cli::command();
    command.build();
    let error = match command.find_subcommand_mut(subcommand) {
        Some(sub) => sub.error(clap::error::ErrorKind::ValueValidation, message),
        None => command.error(clap::error::ErrorKind::ValueValidation, message),
    };
    let _ = error.print();
    crate::exit::USAGE
}

/// The config file's wrapper keys; a broken or unreadable file is reported and ignored.
fn load_file(config: &ConfigSource, say: &Say) -> WrapperFile {
    let text = match config.read() {
        Ok(Some(text)) => text,
        Ok(None) => return WrapperFile::default(),
        Err(e) => {
            say.warn(&format!("{e:#} (going on without it)"));
            return WrapperFile::default();
        }
    };
    WrapperFile::parse(&text, config).unwrap_or_else(|e| {
        say.warn(&format!("{e:#}; fix the file (going on without it)"));
        WrapperFile::default()
    })
}

/// The ping base URL of `id`. A URL needs no config file, so none is read for it.
pub(super) fn resolve_id(
    id: &str,
    options: &PingOptions,
    config: &ConfigSource,
    say: &Say,
) -> Result<String, String> {
    let needs_file = !(id.starts_with("http://") || id.starts_with("https://"));
    let file = if needs_file {
        load_file(config, say)
    } else {
        WrapperFile::default()
    };
    let server = config::pick(
        options.server.clone(),
        file.server.clone(),
        config::DEFAULT_SERVER.to_string(),
    );
    let ping_key = options.ping_key.clone().or(file.ping_key.clone());
    let resolver = Resolver {
        server: &server,
        ping_key: ping_key.as_deref(),
        checks: &file.checks,
    };
    endpoint::resolve(id, &resolver).map_err(|e| e.to_string())
}

/// The query `hb run --create …` adds to its pings (`create=1&interval=…`), or `None`
/// without `--create`. A value the monitor would refuse is a usage error here, before
/// the job: cron lines and time zones are read by the monitor's own (pure) schedule
/// code.
pub(super) fn create_query(create: &CreateArgs) -> Result<Option<String>, String> {
    if !create.create {
        return Ok(None);
    }
    let encode = crate::percent::percent_encode;
    let mut query = vec!["create=1".to_string()];
    if let Some(d) = create.interval {
        query.push(format!("interval={}", encode(&crate::duration::format(d))));
    }
    if let Some(cron) = &create.cron {
        crate::serve::schedule::Schedule::cron(cron, create.tz.as_deref().unwrap_or("UTC"))
            .map_err(|e| format!("--cron {cron:?}: {}", e.message))?;
        query.push(format!("cron={}", encode(cron)));
    }
    if let Some(expr) = &create.oncalendar {
        if expr.trim().is_empty() {
            return Err(
                "--oncalendar is empty; give a systemd OnCalendar= expression, e.g. \"*-*-* 02:00:00\"".into(),
            );
        }
        query.push(format!("oncalendar={}", encode(expr)));
    }
    if let Some(tz) = &create.tz {
        if create.cron.is_none() && create.oncalendar.is_none() {
            return Err(
                "--tz applies to --cron or --oncalendar; give one of them, or leave --tz out"
                    .into(),
            );
        }
        crate::serve::schedule::parse_tz(tz).map_err(|e| format!("--tz: {}", e.message))?;
        query.push(format!("tz={}", encode(tz)));
    }
    if let Some(d) = create.grace {
        query.push(format!("grace={}", encode(&crate::duration::format(d))));
    }
    Ok(Some(query.join("&")))
}

/// `base` with `query` added to its own.
pub(super) fn with_query(base: &str, query: &str) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}{query}")
}

/// `--header 'Name: value'`, each checked.
pub(super) fn parse_headers(raw: &[String]) -> Result<Vec<(String, String)>, String> {
    raw.iter().map(|text| parse_header(text)).collect()
}

fn parse_header(text: &str) -> Result<(String, String), String> {
    let bad = || {
        format!(
            "--header `{text}` is not `Name: value`; write it like --header 'Authorization: Bearer TOKEN'"
        )
    };
    let (name, value) = text.split_once(':').ok_or_else(bad)?;
    let (name, value) = (name.trim(), value.trim());
    ureq::http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad())?;
    ureq::http::HeaderValue::from_str(value).map_err(|_| bad())?;
    Ok((name.to_string(), value.to_string()))
}

/// `--data TEXT`, `--data @FILE` or `--data -` (stdin).
pub(super) fn read_data(data: Option<&str>) -> Result<Vec<u8>, String> {
    match data {
        None => Ok(Vec::new()),
        Some("-") => {
            let mut body = Vec::new();
            std::io::stdin().read_to_end(&mut body).map_err(|e| {
                format!("cannot read --data from stdin ({e}); pipe the text in or use --data TEXT")
            })?;
            Ok(body)
        }
        Some(text) => match text.strip_prefix('@') {
            Some(path) => std::fs::read(path).map_err(|e| {
                format!("cannot read --data file `{path}` ({e}); check the path after @")
            }),
            None => Ok(text.as_bytes().to_vec()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(server: Option<&str>, key: Option<&str>) -> PingOptions {
        PingOptions {
            server: server.map(str::to_string),
            ping_key: key.map(str::to_string),
            retries: 0,
            ping_timeout: std::time::Duration::from_secs(1),
            ping_budget: std::time::Duration::from_secs(1),
            headers: vec![],
            quiet: true,
        }
    }

    fn config_with(text: &str) -> (tempfile::TempDir, ConfigSource) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, text).unwrap();
        let source = ConfigSource::locate(Some(&path));
        (dir, source)
    }

    const UUID: &str = "0b9e5a2c-1111-4222-8333-444455556666";
    const QUIET: Say = Say { quiet: true };

    #[test]
    fn flag_beats_file_beats_default() {
        let (_dir, file) = config_with("server = \"http://from-file:1\"\nping_key = \"filekey\"\n");
        let by_flag =
            resolve_id(UUID, &options(Some("http://flag:2"), None), &file, &QUIET).unwrap();
        assert_eq!(by_flag, format!("http://flag:2/api/v1/ping/{UUID}"));
        let by_file = resolve_id(UUID, &options(None, None), &file, &QUIET).unwrap();
        assert_eq!(by_file, format!("http://from-file:1/api/v1/ping/{UUID}"));
        let slug = resolve_id("job", &options(None, Some("flagkey")), &file, &QUIET).unwrap();
        assert_eq!(slug, "http://from-file:1/api/v1/ping/flagkey/job");
        let none = ConfigSource {
            path: None,
            explicit: false,
        };
        let by_default = resolve_id(UUID, &options(None, None), &none, &QUIET).unwrap();
        assert_eq!(
            by_default,
            format!("http://localhost:8080/api/v1/ping/{UUID}")
        );
    }

    #[test]
    fn aliases_come_from_the_file_and_a_broken_file_is_ignored() {
        let (_dir, file) = config_with(&format!("[checks]\nbackup = \"{UUID}\"\n"));
        let alias = resolve_id("backup", &options(None, None), &file, &QUIET).unwrap();
        assert_eq!(alias, format!("http://localhost:8080/api/v1/ping/{UUID}"));
        let (_dir, broken) = config_with("server = \n");
        let url = resolve_id(UUID, &options(None, None), &broken, &QUIET).unwrap();
        assert!(url.starts_with("http://localhost:8080/"));
        let err = resolve_id("backup", &options(None, None), &broken, &QUIET).unwrap_err();
        assert!(err.contains("ping key"), "{err}");
    }

    #[test]
    fn create_asks_for_the_schedule_and_refuses_a_bad_one() {
        let none = CreateArgs::default();
        assert_eq!(create_query(&none), Ok(None));
        let daily = CreateArgs {
            create: true,
            ..Default::default()
        };
        assert_eq!(create_query(&daily).unwrap().unwrap(), "create=1");
        let cron = CreateArgs {
            create: true,
            cron: Some("0 3 * * *".into()),
            tz: Some("Europe/Paris".into()),
            grace: Some(std::time::Duration::from_secs(3600)),
            ..Default::default()
        };
        assert_eq!(
            create_query(&cron).unwrap().unwrap(),
            "create=1&cron=0%203%20%2A%20%2A%20%2A&tz=Europe%2FParis&grace=1h"
        );
        for (bad, says) in [
            (
                CreateArgs {
                    create: true,
                    cron: Some("61 * * * *".into()),
                    ..Default::default()
                },
                "--cron",
            ),
            (
                CreateArgs {
                    create: true,
                    cron: Some("0 3 * * *".into()),
                    tz: Some("Mars/Base".into()),
                    ..Default::default()
                },
                "Mars",
            ),
            (
                CreateArgs {
                    create: true,
                    tz: Some("UTC".into()),
                    ..Default::default()
                },
                "--tz applies",
            ),
        ] {
            let err = create_query(&bad).unwrap_err();
            assert!(err.contains(says), "{err}");
        }
        assert_eq!(
            with_query("http://h/p/k/s", "create=1"),
            "http://h/p/k/s?create=1"
        );
        assert_eq!(
            with_query("http://h/p?x=1", "create=1"),
            "http://h/p?x=1&create=1"
        );
    }

    #[test]
    fn headers_need_a_name_and_a_colon() {
        assert_eq!(
            parse_headers(&["X-Token:  abc ".into()]).unwrap(),
            vec![("X-Token".to_string(), "abc".to_string())]
        );
        assert_eq!(parse_headers(&["A: b: c".into()]).unwrap()[0].1, "b: c");
        for bad in ["novalue", ": x", "bad name: x", "X: a\nb"] {
            let err = parse_headers(&[bad.to_string()]).unwrap_err();
            assert!(err.contains("--header"), "{err}");
        }
    }

    #[test]
    fn data_comes_from_text_or_file() {
        assert_eq!(read_data(None).unwrap(), b"");
        assert_eq!(read_data(Some("hello")).unwrap(), b"hello");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("body.txt");
        std::fs::write(&path, "from file").unwrap();
        assert_eq!(
            read_data(Some(&format!("@{}", path.display()))).unwrap(),
            b"from file"
        );
        let err = read_data(Some("@/no/such/file")).unwrap_err();
        assert!(err.contains("/no/such/file"), "{err}");
    }
}
