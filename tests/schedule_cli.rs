//! `hb schedule`, driven through the real binary.

use assert_cmd::Command;

fn hb() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hb"))
}

/// Runs `hb schedule ARGS…`, expects exit 0 and nothing on stderr; returns the lines.
fn lines(args: &[&str]) -> Vec<String> {
    let out = hb().arg("schedule").args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{args:?}: {out:?}");
    assert!(out.stderr.is_empty(), "{args:?}: {out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Runs `hb schedule ARGS…`, expects exit 2, no output and a one-line `hb: ` error.
fn usage_error(args: &[&str]) -> String {
    let out = hb().arg("schedule").args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
    assert!(out.stdout.is_empty(), "{args:?}: {out:?}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.starts_with("hb: "), "{args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    stderr
}

#[test]
fn prints_ten_due_times_in_utc_by_default() {
    let out = lines(&["*/15 * * * *", "--after", "2026-01-01T00:00:00Z"]);
    assert_eq!(out.len(), 10);
    assert_eq!(out[0], "2026-01-01T00:15:00Z");
    assert_eq!(out[9], "2026-01-01T02:30:00Z");
}

#[test]
fn prints_in_the_zone_offset_across_the_spring_change() {
    // Europe/Paris skips 02:00-03:00 on 2026-03-29: 02:30 is due at 03:00.
    let out = lines(&[
        "30 2 * * *",
        "--tz",
        "Europe/Paris",
        "--after",
        "2026-03-27T12:00:00Z",
        "--count",
        "3",
    ]);
    assert_eq!(
        out,
        [
            "2026-03-28T02:30:00+01:00",
            "2026-03-29T03:00:00+02:00",
            "2026-03-30T02:30:00+02:00",
        ]
    );
}

#[test]
fn repeated_hour_fixed_time_once_and_every_n_minutes_in_both() {
    let fixed = lines(&[
        "30 1 * * *",
        "--tz",
        "America/New_York",
        "--after",
        "2026-10-31T12:00:00Z",
        "--count",
        "2",
    ]);
    assert_eq!(
        fixed,
        ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"]
    );
    let every = lines(&[
        "*/30 * * * *",
        "--tz",
        "America/New_York",
        "--after",
        "2026-11-01T05:00:00Z",
        "--count",
        "4",
    ]);
    assert_eq!(
        every,
        [
            "2026-11-01T01:30:00-04:00",
            "2026-11-01T01:00:00-05:00",
            "2026-11-01T01:30:00-05:00",
            "2026-11-01T02:00:00-05:00",
        ]
    );
}

#[test]
fn after_may_carry_an_offset_and_fractions() {
    let out = lines(&[
        "@daily",
        "--tz",
        "Asia/Kolkata",
        "--after",
        "2026-06-01T00:00:00.5+05:30",
        "--count",
        "2",
    ]);
    assert_eq!(
        out,
        ["2026-06-02T00:00:00+05:30", "2026-06-03T00:00:00+05:30"]
    );
}

#[test]
fn intervals_count_from_after() {
    let out = lines(&["90m", "--after", "2026-03-29T00:00:00Z", "--count", "3"]);
    assert_eq!(
        out,
        [
            "2026-03-29T01:30:00Z",
            "2026-03-29T03:00:00Z",
            "2026-03-29T04:30:00Z"
        ]
    );
    let paris = lines(&[
        "1h",
        "--tz",
        "Europe/Paris",
        "--after",
        "2026-03-29T00:00:00Z",
        "--count",
        "2",
    ]);
    assert_eq!(
        paris,
        ["2026-03-29T03:00:00+02:00", "2026-03-29T04:00:00+02:00"]
    );
}

#[test]
fn count_and_default_after() {
    assert_eq!(lines(&["@hourly", "--count", "3"]).len(), 3);
    assert!(lines(&["@hourly", "--count", "0"]).is_empty());
    // Without --after the times start after now.
    let now = jiff::Timestamp::now();
    let first: jiff::Timestamp = lines(&["1m", "--count", "1"])[0].parse().unwrap();
    assert!(
        first > now && first.as_second() <= now.as_second() + 61,
        "{first} {now}"
    );
}

#[test]
fn bad_input_is_a_usage_error() {
    let e = usage_error(&["61 * * * *"]);
    assert!(e.contains("minute 61 is out of range 0-59"), "{e}");
    let e = usage_error(&["* * * *"]);
    assert!(e.contains("expected 5 fields, found 4"), "{e}");
    let e = usage_error(&["0 0 * * * *"]);
    assert!(e.contains("seconds or years are not supported"), "{e}");
    let e = usage_error(&["@reboot"]);
    assert!(e.contains("@reboot"), "{e}");
    let e = usage_error(&["0 3 * * *", "--tz", "Mars/Base"]);
    assert!(
        e.contains("tz \"Mars/Base\" is not a known IANA time zone"),
        "{e}"
    );
    let e = usage_error(&["24h", "--tz", "Mars/Base"]);
    assert!(e.contains("Mars/Base"), "{e}");
    let e = usage_error(&["abc"]);
    assert!(
        e.contains("\"abc\" is neither an interval nor a cron expression"),
        "{e}"
    );
    let e = usage_error(&["500ms"]);
    assert!(e.contains("interval \"500ms\" is shorter than 1s"), "{e}");
    let e = usage_error(&["@daily", "--after", "yesterday"]);
    assert!(
        e.contains("--after \"yesterday\" is not an RFC 3339 time"),
        "{e}"
    );
    let e = usage_error(&["@daily", "--after", "2026-03-29T01:00:00"]);
    assert!(e.contains("RFC 3339"), "{e}");
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hb"))
        .args(["schedule", "* * * * *", "--count", "1000000"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 20];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(out.stderr.is_empty(), "{out:?}");
}

#[test]
fn oncalendar_prints_what_systemd_analyze_prints() {
    // `TZ=Europe/Paris systemd-analyze calendar --iterations=3
    //  --base-time='2026-03-28 12:00 UTC' '*-*-* 02:30'`: no 02:30 on the 29th.
    let out = lines(&[
        "--oncalendar",
        "*-*-* 02:30",
        "--tz",
        "Europe/Paris",
        "--count",
        "3",
        "--after",
        "2026-03-28T12:00:00Z",
    ]);
    assert_eq!(
        out,
        [
            "2026-03-30T02:30:00+02:00",
            "2026-03-31T02:30:00+02:00",
            "2026-04-01T02:30:00+02:00"
        ]
    );
    // Repeatable, and one expression a line: due at any of them.
    let out = lines(&[
        "--oncalendar",
        "Mon 09:00",
        "--oncalendar",
        "Fri 17:00\nSat 12:00",
        "--count",
        "3",
        "--after",
        "2026-01-01T00:00:00Z",
    ]);
    assert_eq!(
        out,
        [
            "2026-01-02T17:00:00Z",
            "2026-01-03T12:00:00Z",
            "2026-01-05T09:00:00Z"
        ]
    );
}

#[test]
fn oncalendar_errors_are_usage_errors() {
    let e = usage_error(&["--oncalendar", "*-*-* 25:00"]);
    assert!(e.contains("hour 25 is out of range 0-23"), "{e}");
    let e = usage_error(&["--oncalendar", "daily", "--tz", "Mars/Base"]);
    assert!(e.contains("Mars/Base"), "{e}");
    // The positional and --oncalendar are one or the other.
    let out = hb()
        .args(["schedule", "0 3 * * *", "--oncalendar", "daily"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = hb().arg("schedule").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
