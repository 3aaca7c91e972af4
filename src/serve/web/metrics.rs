//! Per-check metrics for `/metrics` (PRODUCT.md §5), gathered in slices like every
//! read of all checks: `hb_check_up{name,slug}` (0 when down, else 1, as healthchecks'
//! `hc_check_up`), `hb_check_status{name,slug,status}` (1 for the current status),
//! and the last ping, last duration and next due time (left out while unknown).

use std::fmt::Write;

use super::READ_SLICE;
use crate::serve::app::App;
use crate::serve::status::Status;

struct Line {
    name: String,
    slug: String,
    status: Status,
    last_ping: Option<f64>,
    last_duration: Option<f64>,
    next_due: Option<f64>,
}

/// A label value in the Prometheus text format: `\`, `"` and newlines escaped.
pub(super) fn label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

fn seconds(t: jiff::Timestamp) -> f64 {
    t.as_millisecond() as f64 / 1000.0
}

/// The per-check lines, appended to `out`.
pub async fn per_check(app: &App, out: &mut String) {
    let now = app.now();
    let mut lines = Vec::new();
    let mut after = None;
    loop {
        after = app.registry().visit_slice(after.as_ref(), READ_SLICE, |e| {
            let (status, next_due, _) = e.state.view(&e.settings, now);
            lines.push(Line {
                name: label(&e.settings.name),
                slug: label(&e.settings.slug),
                status,
                last_ping: e.state.last_ping.map(seconds),
                last_duration: e.state.last_duration,
                next_due: next_due.map(seconds),
            });
        });
        if after.is_none() {
            break;
        }
        tokio::task::yield_now().await;
    }
    write_lines(&lines, out);
}

fn write_lines(lines: &[Line], out: &mut String) {
    let family = |out: &mut String, name: &str, help: &str| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
    };
    family(
        out,
        "hb_check_up",
        "Whether the check is not down (1) or down (0).",
    );
    for l in lines {
        let up = u8::from(l.status != Status::Down);
        let _ = writeln!(
            out,
            "hb_check_up{{name=\"{}\",slug=\"{}\"}} {up}",
            l.name, l.slug
        );
    }
    family(
        out,
        "hb_check_status",
        "The check's status (1 for the current one).",
    );
    for l in lines {
        let _ = writeln!(
            out,
            "hb_check_status{{name=\"{}\",slug=\"{}\",status=\"{}\"}} 1",
            l.name,
            l.slug,
            l.status.as_str()
        );
    }
    let optional = |out: &mut String, name: &str, help: &str, get: fn(&Line) -> Option<f64>| {
        family(out, name, help);
        for l in lines {
            if let Some(v) = get(l) {
                let _ = writeln!(out, "{name}{{name=\"{}\",slug=\"{}\"}} {v}", l.name, l.slug);
            }
        }
    };
    optional(
        out,
        "hb_check_last_ping_timestamp_seconds",
        "When the last success or failure ping came (Unix seconds).",
        |l| l.last_ping,
    );
    optional(
        out,
        "hb_check_last_duration_seconds",
        "How long the last finished run took.",
        |l| l.last_duration,
    );
    optional(
        out,
        "hb_check_next_due_timestamp_seconds",
        "When the next ping is due (Unix seconds).",
        |l| l.next_due,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped_and_unknowns_left_out() {
        assert_eq!(label("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
        let lines = vec![
            Line {
                name: label("say \"hi\""),
                slug: "say-hi".into(),
                status: Status::Down,
                last_ping: Some(1_767_225_600.5),
                last_duration: None,
                next_due: None,
            },
            Line {
                name: "b".into(),
                slug: "b".into(),
                status: Status::Late,
                last_ping: None,
                last_duration: Some(2.0),
                next_due: Some(1_767_229_200.0),
            },
        ];
        let mut out = String::new();
        write_lines(&lines, &mut out);
        assert!(
            out.contains("hb_check_up{name=\"say \\\"hi\\\"\",slug=\"say-hi\"} 0\n"),
            "{out}"
        );
        assert!(out.contains("hb_check_up{name=\"b\",slug=\"b\"} 1\n"));
        assert!(out.contains("hb_check_status{name=\"b\",slug=\"b\",status=\"late\"} 1\n"));
        assert!(out.contains("hb_check_last_ping_timestamp_seconds{name=\"say \\\"hi\\\"\",slug=\"say-hi\"} 1767225600.5\n"));
        assert!(!out.contains("hb_check_last_ping_timestamp_seconds{name=\"b\""));
        assert!(
            out.contains("hb_check_next_due_timestamp_seconds{name=\"b\",slug=\"b\"} 1767229200\n")
        );
        assert!(out.contains("# TYPE hb_check_last_duration_seconds gauge"));
    }
}
