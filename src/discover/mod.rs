//! `hb discover`: finds the scheduled jobs of a machine (crontabs, systemd timers),
//! proposes a check for each and the rewrite of each crontab line through `hb run`,
//! and with `--apply` creates the checks and writes the files.
//!
//! Reading and rewriting are pure ([`crontab`], [`systemd`], [`diff`]); this module
//! does the I/O at the edges: files, `crontab -l` / `crontab -`, the API.
//!
//! Choices (README says them too):
//! - A check's uuid is a v5 UUID of the file (as the system sees it, without `--root`;
//!   `crontab:USER` for a user crontab read with `crontab -l`) and the job's name, so
//!   it is the same on every run and survives a change of schedule or command.
//! - Names come from a `# name: …` comment on the line above, else from the command;
//!   a repeated name gets `-2`, `-3` in file order, lines already wrapped counted too,
//!   so wrapping some lines never renames the others.
//! - With `--root`, the invoking user's crontab (a thing of this host, not of the
//!   image) is not read; `--crontab FILE` still is.

pub mod crontab;
pub mod diff;
pub mod systemd;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::cli::DiscoverArgs;
use crate::config::{ConfigSource, DEFAULT_SERVER};
use crate::serve::schedule::{CalendarInput, Schedule};
use crontab::Entry;

/// The namespace of discovered checks' v5 UUIDs.
const NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_1e43_3b3a_4b7e_9d55_0b6c_1b0f_2a11);

/// Exit codes of §7.
const REFUSED: i32 = 1;
const USAGE: i32 = 2;
const UNREACHABLE: i32 = 3;

const TIMER_DIRS: [&str; 4] = [
    "etc/systemd/system",
    "run/systemd/system",
    "usr/lib/systemd/system",
    "lib/systemd/system",
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum SourceKind {
    /// The invoking user's crontab through `crontab -l`.
    UserPipe,
    /// A user-format crontab file (`--crontab FILE`).
    UserFile,
    /// `/etc/crontab`: a user column.
    System,
    /// A file of `/etc/cron.d`: a user column; backed up as a dot-file.
    CronD,
}

/// A crontab as read.
#[derive(Debug)]
struct Source {
    kind: SourceKind,
    /// Where it is read and written (with `--root`).
    path: Option<PathBuf>,
    /// How it is shown, and what the uuids are made from (without `--root`).
    label: String,
    text: String,
}

#[derive(Debug, Clone, PartialEq)]
enum JobSchedule {
    Cron(String),
    Calendar(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
enum Status {
    /// A check is proposed (and the line rewritten, for a crontab).
    Proposed,
    Reboot,
    Wrapped,
    /// hb cannot read the schedule or zone; left alone.
    Unusable(String),
}

#[derive(Debug, Clone)]
struct Found {
    origin: String,
    schedule: JobSchedule,
    tz: String,
    user: String,
    command: String,
    name: String,
    uuid: Uuid,
    status: Status,
    /// For a crontab job: (source index, line index, the rewritten line).
    rewrite: Option<(usize, usize, String)>,
}

#[derive(Debug, Default, Deserialize)]
struct ClientFile {
    server: Option<String>,
    api_key: Option<String>,
}

/// Names made unique in order: `x`, `x-2`, `x-3`.
#[derive(Default)]
struct Names(HashMap<String, usize>);

impl Names {
    fn unique(&mut self, name: &str) -> String {
        let n = self.0.entry(name.to_string()).or_insert(0);
        *n += 1;
        if *n == 1 {
            name.to_string()
        } else {
            format!("{name}-{n}")
        }
    }
}

fn uuid_for(label: &str, name: &str) -> Uuid {
    Uuid::new_v5(&NAMESPACE, format!("{label}\n{name}").as_bytes())
}

/// `hb discover`.
pub fn cmd_discover(args: &DiscoverArgs, config: &ConfigSource) -> i32 {
    match discover(args, config) {
        Ok(code) => code,
        Err((code, message)) => {
            eprintln!("hb: {message}");
            code
        }
    }
}

type Outcome = Result<i32, (i32, String)>;

fn discover(args: &DiscoverArgs, config: &ConfigSource) -> Outcome {
    let hb_path = std::env::current_exe()
        .and_then(fs::canonicalize)
        .map(|p| p.display().to_string())
        .map_err(|e| (REFUSED, format!("cannot find hb's own path: {e}")))?;
    let root = args.root.clone().unwrap_or_else(|| PathBuf::from("/"));
    let host_tz = host_zone(&root, args.root.is_some());
    let user = invoking_user();

    let mut sources = Vec::new();
    if !args.crontab.is_empty() {
        for path in &args.crontab {
            let text = fs::read_to_string(path).map_err(|e| {
                (
                    USAGE,
                    format!("--crontab {}: cannot read it: {e}", path.display()),
                )
            })?;
            let absolute = fs::canonicalize(path).unwrap_or_else(|_| path.clone());
            sources.push(Source {
                kind: SourceKind::UserFile,
                label: absolute.display().to_string(),
                path: Some(absolute),
                text,
            });
        }
    } else if args.root.is_none() {
        match user_crontab() {
            Ok(Some(text)) => sources.push(Source {
                kind: SourceKind::UserPipe,
                path: None,
                label: format!("crontab:{user}"),
                text,
            }),
            Ok(None) => {}
            Err(e) => eprintln!("hb: the user crontab was not read: {e}"),
        }
    }
    if args.system {
        let crontab = root.join("etc/crontab");
        if let Ok(text) = fs::read_to_string(&crontab) {
            sources.push(Source {
                kind: SourceKind::System,
                path: Some(crontab),
                label: "/etc/crontab".into(),
                text,
            });
        }
        let mut names: Vec<String> = fs::read_dir(root.join("etc/cron.d"))
            .map(|dir| {
                dir.filter_map(|e| e.ok())
                    .filter(|e| e.path().is_file())
                    .filter_map(|e| e.file_name().into_string().ok())
                    .filter(|n| cron_d_name(n))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        for name in names {
            let path = root.join("etc/cron.d").join(&name);
            if let Ok(text) = fs::read_to_string(&path) {
                sources.push(Source {
                    kind: SourceKind::CronD,
                    path: Some(path),
                    label: format!("/etc/cron.d/{name}"),
                    text,
                });
            }
        }
    }

    let mut names = Names::default();
    let mut found = Vec::new();
    for (index, source) in sources.iter().enumerate() {
        crontab_jobs(
            index, source, &hb_path, &host_tz, &user, &mut names, &mut found,
        );
    }
    if args.systemd {
        timer_jobs(&root, &hb_path, &host_tz, &mut names, &mut found);
    }

    // The rewritten files.
    let mut new_texts: Vec<Option<String>> = vec![None; sources.len()];
    let mut diffs = String::new();
    for (index, source) in sources.iter().enumerate() {
        let old = crontab::lines(&source.text);
        let mut new: Vec<String> = old.iter().map(|l| l.to_string()).collect();
        for f in &found {
            if let Some((i, line, text)) = &f.rewrite
                && *i == index
            {
                new[*line] = text.clone();
            }
        }
        let shown = source
            .path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| source.label.clone());
        let d = diff::unified(&shown, &old, &new);
        if !d.is_empty() {
            diffs.push_str(&d);
            new_texts[index] = Some(new.concat());
        }
    }

    print!("{}", report(&found, &diffs, args.apply));
    if !args.apply {
        return Ok(0);
    }
    let proposed: Vec<&Found> = found
        .iter()
        .filter(|f| f.status == Status::Proposed)
        .collect();
    if proposed.is_empty() {
        println!("Nothing to apply.");
        return Ok(0);
    }
    create_checks(args, config, &proposed)?;
    for (index, text) in new_texts.iter().enumerate() {
        if let Some(text) = text {
            write_source(&sources[index], text)?;
        }
    }
    Ok(0)
}

/// run-parts' rule, which Debian's cron applies to /etc/cron.d: letters, digits, `_`
/// and `-` only (so no dot, `~` or `#`: package leftovers and editor backups).
fn cron_d_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The zone cron runs in: /etc/timezone, else where /etc/localtime points (under the
/// root), else (without a root) the system's zone as jiff finds it, else UTC.
fn host_zone(root: &Path, rooted: bool) -> String {
    if let Ok(text) = fs::read_to_string(root.join("etc/timezone"))
        && let Some(name) = text.lines().next().map(str::trim)
        && !name.is_empty()
        && jiff::tz::TimeZone::get(name).is_ok()
    {
        return name.to_string();
    }
    if let Ok(target) = fs::read_link(root.join("etc/localtime")) {
        let target = target.display().to_string();
        if let Some((_, name)) = target.split_once("zoneinfo/")
            && jiff::tz::TimeZone::get(name).is_ok()
        {
            return name.to_string();
        }
    }
    if !rooted && let Some(name) = jiff::tz::TimeZone::system().iana_name() {
        return name.to_string();
    }
    "UTC".into()
}

fn invoking_user() -> String {
    // SAFETY: getuid has no preconditions; getpwuid's answer is read at once, before
    // any other call could reuse its storage (this runs on one thread).
    unsafe {
        let uid = libc::getuid();
        let entry = libc::getpwuid(uid);
        if entry.is_null() || (*entry).pw_name.is_null() {
            format!("uid {uid}")
        } else {
            std::ffi::CStr::from_ptr((*entry).pw_name)
                .to_string_lossy()
                .into_owned()
        }
    }
}

/// `crontab -l`: `None` when the user has none.
fn user_crontab() -> Result<Option<String>, String> {
    let out = Command::new("crontab")
        .arg("-l")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("crontab -l: {e}"))?;
    if out.status.success() {
        return Ok(Some(String::from_utf8_lossy(&out.stdout).into_owned()));
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("no crontab") {
        Ok(None)
    } else {
        Err(format!("crontab -l: {}", stderr.trim()))
    }
}

/// The command inside a wrapped line (after `--`, and inside `SHELL -c '…'`), for its
/// name.
fn inner_command(command: &str) -> String {
    let words = crontab::words(command);
    let after: Vec<String> = words
        .iter()
        .skip_while(|w| *w != "--")
        .skip(1)
        .cloned()
        .collect();
    match after.as_slice() {
        [_, flag, script, ..] if flag == "-c" => script.clone(),
        _ => after.join(" "),
    }
}

fn crontab_jobs(
    index: usize,
    source: &Source,
    hb_path: &str,
    host_tz: &str,
    user: &str,
    names: &mut Names,
    found: &mut Vec<Found>,
) {
    let system = matches!(source.kind, SourceKind::System | SourceKind::CronD);
    let lines = crontab::lines(&source.text);
    for (line_index, entry) in crontab::parse(&source.text, system).into_iter().enumerate() {
        let Entry::Job(job) = entry else { continue };
        let line = lines[line_index];
        let command = job.command(line);
        let tz = job.tz.clone().unwrap_or_else(|| host_tz.to_string());
        let wrapped = crontab::is_wrapped(&command, hb_path);
        let base = job.name_comment.clone().unwrap_or_else(|| {
            crontab::suggested_name(&if wrapped {
                inner_command(&command)
            } else {
                command.clone()
            })
        });
        let name = names.unique(&base);
        let uuid = uuid_for(&source.label, &name);
        let status = if job.schedule.eq_ignore_ascii_case("@reboot") {
            Status::Reboot
        } else if wrapped {
            Status::Wrapped
        } else {
            match Schedule::cron(&job.schedule, &tz) {
                Ok(_) => Status::Proposed,
                Err(e) => Status::Unusable(e.message),
            }
        };
        let rewrite = (status == Status::Proposed).then(|| {
            (
                index,
                line_index,
                crontab::rewrite(line, &job, hb_path, &uuid.to_string()),
            )
        });
        found.push(Found {
            origin: format!("{}:{}", source.label, line_index + 1),
            schedule: JobSchedule::Cron(job.schedule.clone()),
            tz,
            user: job.user.clone().unwrap_or_else(|| user.to_string()),
            command,
            name,
            uuid,
            status,
            rewrite,
        });
    }
}

fn timer_jobs(
    root: &Path,
    hb_path: &str,
    host_tz: &str,
    names: &mut Names,
    found: &mut Vec<Found>,
) {
    // The first directory that has a unit wins, as in systemd.
    let mut units: Vec<(String, PathBuf, String)> = Vec::new();
    for dir in TIMER_DIRS {
        let Ok(entries) = fs::read_dir(root.join(dir)) else {
            continue;
        };
        let mut here: Vec<(String, PathBuf)> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| Some((e.file_name().into_string().ok()?, e.path())))
            .filter(|(n, p)| n.ends_with(".timer") && p.is_file())
            .collect();
        here.sort();
        for (name, path) in here {
            if !units.iter().any(|(n, _, _)| *n == name) {
                units.push((name.clone(), path, format!("/{dir}/{name}")));
            }
        }
    }
    units.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, path, label) in units {
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        let (calendar, service) = systemd::timer(&text, &name);
        if calendar.is_empty() {
            continue;
        }
        let exec_lines = TIMER_DIRS
            .iter()
            .find_map(|dir| fs::read_to_string(root.join(dir).join(&service)).ok())
            .map(|t| systemd::values(&t, "Service", "ExecStart"));
        let exec = exec_lines
            .as_ref()
            .map(|lines| lines.join("; "))
            .unwrap_or_else(|| format!("({service} not found)"));
        // ExecStart= prefixes (-, @, +, !, :) are systemd's, not the command's.
        let wrapped = exec_lines.iter().flatten().any(|line| {
            crontab::is_wrapped(line.trim_start_matches(['-', '@', '+', '!', ':']), hb_path)
        });
        let unique = names.unique(name.trim_end_matches(".timer"));
        let uuid = uuid_for(&label, &unique);
        let status = if wrapped {
            Status::Wrapped
        } else {
            match Schedule::oncalendar(&CalendarInput::Many(calendar.clone()), host_tz) {
                Ok(_) => Status::Proposed,
                Err(e) => Status::Unusable(e.message),
            }
        };
        found.push(Found {
            origin: label,
            schedule: JobSchedule::Calendar(calendar),
            tz: host_tz.to_string(),
            user: "root".into(),
            command: exec,
            name: unique,
            uuid,
            status,
            rewrite: None,
        });
    }
}

fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// What is printed: the jobs, the `[[check]]` tables, the diff.
fn report(found: &[Found], diffs: &str, apply: bool) -> String {
    let mut out = String::new();
    if found.is_empty() {
        out.push_str("No scheduled jobs found.\n");
        return out;
    }
    out.push_str("# Jobs found\n");
    for f in found {
        let schedule = match &f.schedule {
            JobSchedule::Cron(expr) => format!("cron {expr}"),
            JobSchedule::Calendar(exprs) => format!("OnCalendar={}", exprs.join(", ")),
        };
        let _ = writeln!(out, "{}", f.origin);
        let _ = writeln!(out, "  schedule: {schedule}  (tz {})", f.tz);
        let _ = writeln!(out, "  user:     {}", f.user);
        let _ = writeln!(out, "  command:  {}", f.command);
        match &f.status {
            Status::Proposed => {
                let _ = writeln!(out, "  check:    {}  {}", toml_string(&f.name), f.uuid);
            }
            Status::Reboot => out.push_str("  skipped:  @reboot has no schedule to watch\n"),
            Status::Wrapped => out.push_str("  skipped:  already runs through hb run\n"),
            Status::Unusable(why) => {
                let _ = writeln!(out, "  skipped:  {why}");
            }
        }
    }
    let proposed: Vec<&Found> = found
        .iter()
        .filter(|f| f.status == Status::Proposed)
        .collect();
    if proposed.is_empty() {
        out.push_str("\nNothing to propose: every job is monitored already or cannot be.\n");
        return out;
    }
    out.push_str("\n# [[check]] tables for hb's config file\n");
    for f in &proposed {
        let _ = writeln!(out, "\n# {}", f.origin);
        out.push_str("[[check]]\n");
        let _ = writeln!(out, "name = {}", toml_string(&f.name));
        let _ = writeln!(out, "uuid = \"{}\"", f.uuid);
        match &f.schedule {
            JobSchedule::Cron(expr) => {
                let _ = writeln!(out, "cron = {}", toml_string(expr));
            }
            JobSchedule::Calendar(exprs) if exprs.len() == 1 => {
                let _ = writeln!(out, "oncalendar = {}", toml_string(&exprs[0]));
            }
            JobSchedule::Calendar(exprs) => {
                let list: Vec<String> = exprs.iter().map(|e| toml_string(e)).collect();
                let _ = writeln!(out, "oncalendar = [{}]", list.join(", "));
            }
        }
        let _ = writeln!(out, "tz = {}", toml_string(&f.tz));
    }
    if !diffs.is_empty() {
        if apply {
            out.push_str("\n# Changes\n");
        } else {
            out.push_str("\n# Changes (nothing was changed: run again with --apply)\n");
        }
        out.push_str(diffs);
    }
    out
}

fn create_checks(args: &DiscoverArgs, config: &ConfigSource, found: &[&Found]) -> Outcome {
    let file: ClientFile = match config.read() {
        Ok(Some(text)) => toml::from_str(&text)
            .map_err(|e| (USAGE, crate::config::toml_error(config, &e).to_string()))?,
        Ok(None) => ClientFile::default(),
        Err(e) => return Err((USAGE, format!("{e:#}"))),
    };
    let server = args
        .server
        .clone()
        .or(file.server)
        .unwrap_or_else(|| DEFAULT_SERVER.to_string());
    let server = server.trim_end_matches('/').to_string();
    let api_key = args.api_key.clone().or(file.api_key);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(15)))
        .build()
        .into();
    let unreachable = |e: ureq::Error| {
        (
            UNREACHABLE,
            format!(
                "cannot reach the monitor at {server}: {e}; start hb serve, or set --server, HB_SERVER or server in the config file (nothing was changed)"
            ),
        )
    };
    let mut created = 0;
    for f in found {
        let mut body = json!({"name": f.name, "uuid": f.uuid.to_string(), "tz": f.tz});
        match &f.schedule {
            JobSchedule::Cron(expr) => body["cron"] = json!(expr),
            JobSchedule::Calendar(exprs) => body["oncalendar"] = json!(exprs),
        }
        let mut request = agent
            .post(format!("{server}/api/v1/heartbeats"))
            .header("Content-Type", "application/json");
        if let Some(key) = &api_key {
            request = request.header("Authorization", format!("Bearer {key}"));
        }
        let mut response = request.send(body.to_string()).map_err(unreachable)?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_string()
            .unwrap_or_default();
        match status {
            201 => created += 1,
            409 => {
                // Created by an earlier --apply that stopped before writing the files?
                let mut get = agent.get(format!("{server}/api/v1/heartbeats/{}", f.uuid));
                if let Some(key) = &api_key {
                    get = get.header("Authorization", format!("Bearer {key}"));
                }
                let existing = get.call().map_err(unreachable)?;
                if existing.status().as_u16() != 200 {
                    return Err((
                        REFUSED,
                        format!(
                            "the monitor refused check {}: {} (rename it with a \"# name: …\" comment above the line); nothing was written",
                            toml_string(&f.name),
                            error_text(&text)
                        ),
                    ));
                }
            }
            401 | 403 => {
                return Err((
                    REFUSED,
                    format!(
                        "the monitor refused the key ({status}: {}); set --api-key, HB_API_KEY or api_key in the config file; nothing was written",
                        error_text(&text)
                    ),
                ));
            }
            _ => {
                return Err((
                    REFUSED,
                    format!(
                        "the monitor refused check {} ({status}): {}; nothing was written",
                        toml_string(&f.name),
                        error_text(&text)
                    ),
                ));
            }
        }
    }
    println!(
        "Created {created} check(s) on {server} ({} already there).",
        found.len() - created
    );
    Ok(0)
}

fn error_text(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_string))
        .unwrap_or_else(|| body.trim().chars().take(300).collect())
}

/// Backs the file up, then replaces it atomically with the same mode and owner; a user
/// crontab goes through `crontab -`.
fn write_source(source: &Source, text: &str) -> Outcome {
    let failed = |what: String| (REFUSED, what);
    let Some(path) = &source.path else {
        let backup = dirs::home_dir()
            .unwrap_or_else(|| PathBuf::from("."))
            .join(".crontab.hb-backup");
        fs::write(&backup, &source.text).map_err(|e| {
            failed(format!(
                "cannot back up the crontab to {}: {e}",
                backup.display()
            ))
        })?;
        let mut child = Command::new("crontab")
            .arg("-")
            .stdin(Stdio::piped())
            .spawn()
            .map_err(|e| failed(format!("crontab -: {e}")))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(text.as_bytes())
                .map_err(|e| failed(format!("crontab -: {e}")))?;
        }
        let status = child
            .wait()
            .map_err(|e| failed(format!("crontab -: {e}")))?;
        if !status.success() {
            return Err(failed(format!(
                "crontab - refused the new crontab ({status}); the old one is in {}",
                backup.display()
            )));
        }
        println!(
            "Installed the new crontab with crontab - (backup: {}).",
            backup.display()
        );
        return Ok(0);
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let backup = if source.kind == SourceKind::CronD {
        dir.join(format!(".{file_name}.hb-backup"))
    } else {
        dir.join(format!("{file_name}.hb-backup"))
    };
    let meta = fs::metadata(path).map_err(|e| failed(format!("{}: {e}", path.display())))?;
    let mode = meta.permissions().mode() & 0o7777;
    let write = |target: &Path, bytes: &[u8]| -> std::io::Result<()> {
        let mut f = fs::File::create(target)?;
        f.write_all(bytes)?;
        f.set_permissions(fs::Permissions::from_mode(mode))?;
        // Keep the owner when we may (as root); a user keeps their own files anyway.
        let _ = std::os::unix::fs::fchown(&f, Some(meta.uid()), Some(meta.gid()));
        f.sync_all()
    };
    write(&backup, source.text.as_bytes())
        .map_err(|e| failed(format!("cannot write the backup {}: {e}", backup.display())))?;
    // A dot-file in the same directory: cron skips it, and the rename is atomic.
    let temp = dir.join(format!(".{file_name}.hb-new.{}", std::process::id()));
    write(&temp, text.as_bytes())
        .and_then(|()| fs::rename(&temp, path))
        .map_err(|e| {
            let _ = fs::remove_file(&temp);
            failed(format!(
                "cannot write {}: {e}; it is unchanged (backup: {})",
                path.display(),
                backup.display()
            ))
        })?;
    println!("Wrote {} (backup: {}).", path.display(), backup.display());
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_d_names_follow_run_parts() {
        for good in ["backup", "php8_2", "e2scrub-all"] {
            assert!(cron_d_name(good), "{good}");
        }
        for bad in [
            "backup.dpkg-old",
            "backup~",
            "#backup#",
            ".placeholder",
            "a b",
            "",
        ] {
            assert!(!cron_d_name(bad), "{bad}");
        }
    }

    #[test]
    fn names_are_made_unique_in_order_and_uuids_are_stable() {
        let mut names = Names::default();
        assert_eq!(names.unique("backup"), "backup");
        assert_eq!(names.unique("backup"), "backup-2");
        assert_eq!(names.unique("other"), "other");
        assert_eq!(names.unique("backup"), "backup-3");
        assert_eq!(uuid_for("/etc/crontab", "x"), uuid_for("/etc/crontab", "x"));
        assert_ne!(uuid_for("/etc/crontab", "x"), uuid_for("/etc/crontab", "y"));
        assert_eq!(uuid_for("/etc/crontab", "x").get_version_num(), 5);
    }

    #[test]
    fn the_inner_command_of_a_wrapped_line() {
        assert_eq!(
            inner_command("/hb run U -- /usr/bin/backup db"),
            "/usr/bin/backup db"
        );
        assert_eq!(
            inner_command("/hb run U -- /bin/sh -c 'pg_dump db | gzip'"),
            "pg_dump db | gzip"
        );
    }
}
