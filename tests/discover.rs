//! `hb discover` on fixture crontabs and timer units under a temporary `--root`, and
//! `--apply` against a real `hb serve`.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

use crate::serve_support::{ServeProcess, call, closed_port};

const HB: &str = env!("CARGO_BIN_EXE_hb");

fn hb_path() -> String {
    fs::canonicalize(HB).unwrap().display().to_string()
}

/// The user crontab: environment lines, `%`, a pipeline, a `# name:` comment, spacing
/// and tabs to keep, an `@reboot` line, two jobs with the same name, no final newline.
const USER_CRONTAB: &str = "MAILTO=\"ops@example.com\"
# nightly dump of the main database
0 3 * * * pg_dump mydb | gzip > /backups/db-$(date +\\%F).gz
*/5  *  * * *   /usr/bin/php -q /srv/www/cron.php   %input line%second\\%
CRON_TZ=Asia/Tokyo
# name: reports
15 6 * * 1-5\t/usr/local/bin/report --weekly
@reboot /usr/bin/warm-cache
0 * * * * /usr/bin/php -q /srv/www/cron.php
LANG=C FOO=bar
30 4 1 * * LANG=C /usr/bin/monthly 'it''s'";

const SYSTEM_CRONTAB: &str = "SHELL=/bin/bash
PATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin
# m h dom mon dow user\tcommand
17 *\t* * *\troot    cd / && run-parts --report /etc/cron.hourly
";

const CRON_D_BACKUP: &str = "CRON_TZ=America/New_York
# name: nightly-backup
30 2 * * * postgres /usr/local/bin/backup.sh --full /var/db > /var/log/backup.log 2>&1
@reboot root /usr/bin/warm-cache
";

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    user: PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    for d in [
        "etc/cron.d",
        "etc/systemd/system",
        "lib/systemd/system",
        "usr/lib/systemd/system",
    ] {
        fs::create_dir_all(root.join(d)).unwrap();
    }
    fs::write(root.join("etc/timezone"), "Europe/Paris\n").unwrap();
    fs::write(root.join("etc/crontab"), SYSTEM_CRONTAB).unwrap();
    fs::write(root.join("etc/cron.d/backup"), CRON_D_BACKUP).unwrap();
    fs::set_permissions(
        root.join("etc/cron.d/backup"),
        fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    // cron skips these names: so does discover.
    for skipped in ["backup.dpkg-old", "backup~", "#backup#", ".placeholder"] {
        fs::write(
            root.join("etc/cron.d").join(skipped),
            "* * * * * root /bin/never\n",
        )
        .unwrap();
    }
    fs::write(
        root.join("etc/systemd/system/report.timer"),
        "[Unit]\nDescription=report\n\n[Timer]\nOnCalendar=Mon..Fri *-*-* 02:00:00\nOnCalendar=Sat 04:00\nPersistent=true\n",
    )
    .unwrap();
    fs::write(
        root.join("lib/systemd/system/report.service"),
        "[Service]\nType=oneshot\nExecStart=/usr/bin/report --all\n",
    )
    .unwrap();
    // The same unit lower down is hidden by /etc; a timer without OnCalendar is not
    // a schedule.
    fs::write(
        root.join("usr/lib/systemd/system/report.timer"),
        "[Timer]\nOnCalendar=hourly\n",
    )
    .unwrap();
    fs::write(
        root.join("usr/lib/systemd/system/boot.timer"),
        "[Timer]\nOnBootSec=5min\n",
    )
    .unwrap();
    let user = dir.path().join("user.cron");
    fs::write(&user, USER_CRONTAB).unwrap();
    fs::set_permissions(&user, fs::Permissions::from_mode(0o600)).unwrap();
    Fixture {
        root,
        user,
        _dir: dir,
    }
}

fn discover(f: &Fixture, extra: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(HB);
    cmd.arg("discover")
        .arg("--root")
        .arg(&f.root)
        .arg("--crontab")
        .arg(&f.user)
        .args(["--system", "--systemd"])
        .args(extra)
        .env_remove("HB_SERVER")
        .env_remove("HB_API_KEY")
        .env_remove("HB_CONFIG")
        .env("XDG_CONFIG_HOME", f.root.join("no-config"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn snapshot(root: &Path, user: &Path) -> Vec<(PathBuf, Vec<u8>, u32)> {
    let mut files = vec![user.to_path_buf(), root.join("etc/crontab")];
    let mut names: Vec<PathBuf> = fs::read_dir(root.join("etc/cron.d"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    files.extend(names);
    files
        .into_iter()
        .map(|p| {
            let bytes = fs::read(&p).unwrap();
            let mode = fs::metadata(&p).unwrap().permissions().mode() & 0o7777;
            (p, bytes, mode)
        })
        .collect()
}

/// The `[[check]]` tables of the output, parsed.
fn checks(out: &str) -> Vec<toml::Table> {
    let start = out.find("# [[check]] tables").expect("check tables");
    let end = out.find("\n# Changes").unwrap_or(out.len());
    let doc: toml::Table = toml::from_str(&out[start..end]).unwrap();
    doc["check"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_table().unwrap().clone())
        .collect()
}

fn by_name<'a>(checks: &'a [toml::Table], name: &str) -> &'a toml::Table {
    checks
        .iter()
        .find(|c| c["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no check {name}: {checks:?}"))
}

#[test]
fn discover_lists_jobs_proposes_checks_and_changes_nothing() {
    let f = fixture();
    let before = snapshot(&f.root, &f.user);
    let (code, out, err) = discover(&f, &[], &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(snapshot(&f.root, &f.user), before, "no side effects");

    let found = checks(&out);
    let names: Vec<&str> = found.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "pg_dump mydb",
            "php cron.php",
            "reports",
            "php cron.php-2",
            "monthly its",
            "run-parts cron.hourly",
            "nightly-backup",
            "report"
        ]
    );
    // Zones: the host's (from /etc/timezone under the root), else CRON_TZ at the line.
    assert_eq!(
        by_name(&found, "pg_dump mydb")["tz"].as_str(),
        Some("Europe/Paris")
    );
    assert_eq!(
        by_name(&found, "pg_dump mydb")["cron"].as_str(),
        Some("0 3 * * *")
    );
    assert_eq!(
        by_name(&found, "reports")["tz"].as_str(),
        Some("Asia/Tokyo")
    );
    assert_eq!(
        by_name(&found, "reports")["cron"].as_str(),
        Some("15 6 * * 1-5")
    );
    assert_eq!(
        by_name(&found, "nightly-backup")["tz"].as_str(),
        Some("America/New_York")
    );
    let report = by_name(&found, "report");
    assert_eq!(
        report["oncalendar"].as_array().unwrap().len(),
        2,
        "{report:?}"
    );
    assert_eq!(report["tz"].as_str(), Some("Europe/Paris"));
    // The job list shows user, command, @reboot and the service's ExecStart.
    assert!(out.contains("  user:     postgres\n"), "{out}");
    assert!(out.contains("  command:  /usr/bin/report --all\n"), "{out}");
    assert!(out.contains("@reboot has no schedule to watch"), "{out}");
    assert!(!out.contains("/bin/never"), "skipped cron.d names: {out}");
    assert!(
        !out.contains("OnBootSec") && !out.contains("hourly  (tz"),
        "{out}"
    );

    // The diff, byte for byte.
    let hb = hb_path();
    let uuid = |name: &str| by_name(&found, name)["uuid"].as_str().unwrap().to_string();
    let user = f.user.display();
    let expected_user = format!(
        "--- {user}
+++ {user}
@@ -1,11 +1,11 @@
 MAILTO=\"ops@example.com\"
 # nightly dump of the main database
-0 3 * * * pg_dump mydb | gzip > /backups/db-$(date +\\%F).gz
-*/5  *  * * *   /usr/bin/php -q /srv/www/cron.php   %input line%second\\%
+0 3 * * * {hb} run {pg} -- /bin/sh -c 'pg_dump mydb | gzip > /backups/db-$(date +\\%F).gz'
+*/5  *  * * *   {hb} run {php} -- /usr/bin/php -q /srv/www/cron.php   %input line%second\\%
 CRON_TZ=Asia/Tokyo
 # name: reports
-15 6 * * 1-5\t/usr/local/bin/report --weekly
+15 6 * * 1-5\t{hb} run {reports} -- /usr/local/bin/report --weekly
 @reboot /usr/bin/warm-cache
-0 * * * * /usr/bin/php -q /srv/www/cron.php
+0 * * * * {hb} run {php2} -- /usr/bin/php -q /srv/www/cron.php
 LANG=C FOO=bar
-30 4 1 * * LANG=C /usr/bin/monthly 'it''s'
\\ No newline at end of file
+30 4 1 * * {hb} run {monthly} -- /bin/sh -c 'LANG=C /usr/bin/monthly '\\''it'\\'''\\''s'\\'''
\\ No newline at end of file
",
        pg = uuid("pg_dump mydb"),
        php = uuid("php cron.php"),
        reports = uuid("reports"),
        php2 = uuid("php cron.php-2"),
        monthly = uuid("monthly its"),
    );
    assert!(
        out.contains(&expected_user),
        "{out}\n---- expected ----\n{expected_user}"
    );
    let system = f.root.join("etc/crontab").display().to_string();
    let expected_system = format!(
        "--- {system}
+++ {system}
@@ -1,4 +1,4 @@
 SHELL=/bin/bash
 PATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin
 # m h dom mon dow user\tcommand
-17 *\t* * *\troot    cd / && run-parts --report /etc/cron.hourly
+17 *\t* * *\troot    {hb} run {id} -- /bin/bash -c 'cd / && run-parts --report /etc/cron.hourly'
",
        id = uuid("run-parts cron.hourly")
    );
    assert!(out.contains(&expected_system), "{out}");
    let cron_d = f.root.join("etc/cron.d/backup").display().to_string();
    assert!(out.contains(&format!(
        "-30 2 * * * postgres /usr/local/bin/backup.sh --full /var/db > /var/log/backup.log 2>&1\n+30 2 * * * postgres {hb} run {} -- /usr/local/bin/backup.sh --full /var/db > /var/log/backup.log 2>&1\n",
        uuid("nightly-backup")
    )), "{out}");
    assert!(out.contains(&format!("--- {cron_d}\n")), "{out}");

    // Stable: the same run gives the same names and uuids.
    let (_, again, _) = discover(&f, &[], &[]);
    assert_eq!(again, out);
}

#[test]
fn apply_creates_checks_rewrites_with_backups_and_a_second_run_proposes_nothing() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("serve.toml");
    fs::write(
        &config,
        "allow_private_targets = true\napi_keys = [\"k3y\"]\n",
    )
    .unwrap();
    let config_arg = config.display().to_string();
    let serve = ServeProcess::start(&dir.path().join("hb.db"), &["--config", &config_arg], &[]);
    let before = snapshot(&f.root, &f.user);
    let (_, proposed, _) = discover(&f, &[], &[]);
    let found = checks(&proposed);

    // Without the key the monitor refuses: exit 1, nothing written.
    let (code, _, err) = discover(&f, &["--apply", "--server", &serve.base], &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("HB_API_KEY"), "{err}");
    assert_eq!(snapshot(&f.root, &f.user), before);
    // Unreachable: exit 3, nothing written.
    let nowhere = format!("http://127.0.0.1:{}", closed_port());
    let (code, _, err) = discover(&f, &["--apply", "--server", &nowhere], &[]);
    assert_eq!(code, 3, "{err}");
    assert_eq!(snapshot(&f.root, &f.user), before);

    let env = [("HB_SERVER", serve.base.as_str()), ("HB_API_KEY", "k3y")];
    let (code, out, err) = discover(&f, &["--apply"], &env);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("Created 8 check(s)"), "{out}");

    // Every proposed check exists with its uuid and schedule.
    for check in &found {
        let uuid = check["uuid"].as_str().unwrap();
        let answer = call(
            "GET",
            &serve.url(&format!("/api/v1/heartbeats/{uuid}")),
            None,
            &[("Authorization", "Bearer k3y")],
        );
        assert_eq!(answer.status, 200, "{}", answer.body);
        let shown = answer.json();
        assert_eq!(shown["name"], check["name"].as_str().unwrap());
        assert_eq!(shown["tz"], check["tz"].as_str().unwrap());
        match check.get("cron") {
            Some(cron) => assert_eq!(shown["cron"], cron.as_str().unwrap()),
            None => assert!(shown["oncalendar"].is_array(), "{shown}"),
        }
    }

    // Backups hold the old bytes with the old mode; the files keep their mode.
    for (path, bytes, mode) in &before {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let in_cron_d = path.parent().unwrap().ends_with("cron.d");
        let changed = path == &f.user || name == "crontab" || name == "backup";
        let backup = if in_cron_d {
            path.with_file_name(format!(".{name}.hb-backup"))
        } else {
            path.with_file_name(format!("{name}.hb-backup"))
        };
        if !changed {
            assert_eq!(&fs::read(path).unwrap(), bytes, "{name} untouched");
            assert!(!backup.exists(), "{}", backup.display());
            continue;
        }
        assert_eq!(&fs::read(&backup).unwrap(), bytes, "{}", backup.display());
        let now = fs::read(path).unwrap();
        assert_ne!(&now, bytes, "{name} rewritten");
        let now_mode = fs::metadata(path).unwrap().permissions().mode() & 0o7777;
        assert_eq!(now_mode, *mode, "{name} keeps its mode");
        // Byte-faithful: the same lines, each unchanged or its command wrapped.
        let old = String::from_utf8(bytes.clone()).unwrap();
        let new = String::from_utf8(now).unwrap();
        assert_eq!(
            old.split_inclusive('\n').count(),
            new.split_inclusive('\n').count()
        );
        for (a, b) in old.split_inclusive('\n').zip(new.split_inclusive('\n')) {
            if a != b {
                assert!(b.contains(&format!("{} run ", hb_path())), "{b}");
                assert_eq!(a.ends_with('\n'), b.ends_with('\n'));
            }
        }
    }
    let leftovers: Vec<String> = fs::read_dir(f.root.join("etc/cron.d"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("hb-new"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // A second run proposes no change: every line is wrapped (or @reboot). The timer
    // is not rewritten (its service is not discover's to change), so its check is
    // proposed again, and is found there already.
    let (code, again, _) = discover(&f, &[], &[]);
    assert_eq!(code, 0);
    assert!(!again.contains("\n--- "), "{again}");
    assert!(again.contains("already runs through hb run"), "{again}");
    let again_checks = checks(&again);
    assert_eq!(again_checks.len(), 1, "{again}");
    assert_eq!(again_checks[0]["uuid"], by_name(&found, "report")["uuid"]);
    let (code, again, _) = discover(&f, &["--apply"], &env);
    assert_eq!(code, 0);
    assert!(
        again.contains("Created 0 check(s)") && again.contains("(1 already there)"),
        "{again}"
    );
    // Once its ExecStart= runs through hb run, the timer is left alone too.
    let unit = f.root.join("lib/systemd/system/report.service");
    let report_uuid = by_name(&found, "report")["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    fs::write(
        &unit,
        format!(
            "[Service]\nExecStart=-{} run {report_uuid} -- /usr/bin/report --all\n",
            hb_path()
        ),
    )
    .unwrap();
    let (code, again, _) = discover(&f, &["--apply"], &env);
    assert_eq!(code, 0);
    assert!(!again.contains("[[check]]"), "{again}");
    assert!(again.contains("Nothing to apply."), "{again}");

    // The wrapped line runs the job through hb for real, `%` and all.
    let rewritten = fs::read_to_string(&f.user).unwrap();
    let line = rewritten
        .lines()
        .find(|l| l.contains("report --weekly"))
        .unwrap();
    assert!(line.starts_with("15 6 * * 1-5\t/"), "{line}");
    let names: Vec<Value> = found
        .iter()
        .map(|c| Value::from(c["name"].as_str().unwrap()))
        .collect();
    assert_eq!(names.len(), 8);
}

#[test]
fn the_user_crontab_goes_through_crontab_l_and_crontab_dash() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    fs::create_dir_all(&bin).unwrap();
    let table = dir.path().join("table");
    fs::write(&table, "# name: tick\n*/10 * * * * /usr/bin/tick --fast\n").unwrap();
    // A stand-in for crontab(1): -l prints the table, - replaces it.
    let fake = bin.join("crontab");
    fs::write(
        &fake,
        format!(
            "#!/bin/sh\ncase \"$1\" in\n  -l) cat '{t}' ;;\n  -) cat > '{t}' ;;\n  *) exit 1 ;;\nesac\n",
            t = table.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&fake, fs::Permissions::from_mode(0o755)).unwrap();
    let serve_dir = tempfile::tempdir().unwrap();
    let serve = ServeProcess::start(&serve_dir.path().join("hb.db"), &[], &[]);
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = |extra: &[&str]| {
        let out = Command::new(HB)
            .arg("discover")
            .args(extra)
            .env("PATH", &path)
            .env("HOME", dir.path())
            .env("USER", "alice")
            .env("HB_SERVER", &serve.base)
            .env_remove("HB_API_KEY")
            .env_remove("HB_CONFIG")
            .env("XDG_CONFIG_HOME", dir.path().join("no-config"))
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (code, out, err) = run(&[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("--- crontab:"), "{out}");
    assert!(out.contains("name = \"tick\""), "{out}");
    let (code, out, err) = run(&["--apply"]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(
        out.contains("Installed the new crontab with crontab -"),
        "{out}"
    );
    let now = fs::read_to_string(&table).unwrap();
    assert!(
        now.starts_with(&format!("# name: tick\n*/10 * * * * {} run ", hb_path())),
        "{now}"
    );
    assert!(now.ends_with(" -- /usr/bin/tick --fast\n"), "{now}");
    assert_eq!(
        fs::read_to_string(dir.path().join(".crontab.hb-backup")).unwrap(),
        "# name: tick\n*/10 * * * * /usr/bin/tick --fast\n"
    );
    let (_, again, _) = run(&[]);
    assert!(!again.contains("[[check]]"), "{again}");
}
