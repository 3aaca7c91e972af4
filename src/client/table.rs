//! Tables and words for people: aligned columns, colour only when asked (stdout is a
//! terminal and `NO_COLOR` is unset), times relative to now. Pure: the caller passes
//! the time and whether to colour.

use jiff::Timestamp;
use serde_json::Value;
use std::time::Duration;

/// How a cell is coloured on a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Red,
    Yellow,
    Green,
    Cyan,
    Dim,
    Bold,
}

impl Style {
    fn code(self) -> Option<&'static str> {
        match self {
            Style::Plain => None,
            Style::Red => Some("1;31"),
            Style::Yellow => Some("33"),
            Style::Green => Some("32"),
            Style::Cyan => Some("36"),
            Style::Dim => Some("2"),
            Style::Bold => Some("1"),
        }
    }

    /// The colour of a status word.
    pub fn of_status(status: &str) -> Style {
        match status {
            "down" => Style::Red,
            "late" => Style::Yellow,
            "up" => Style::Green,
            "running" => Style::Cyan,
            _ => Style::Dim,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub text: String,
    pub style: Style,
}

impl Cell {
    pub fn new(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            style: Style::Plain,
        }
    }

    pub fn styled(text: impl Into<String>, style: Style) -> Cell {
        Cell {
            text: text.into(),
            style,
        }
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell::new(text)
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell::new(text)
    }
}

/// Rows under an optional header, each column as wide as its widest cell, two spaces
/// between columns, no space at the end of a line.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

fn width(text: &str) -> usize {
    text.chars().count()
}

impl Table {
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        self.rows.push(row);
    }

    pub fn render(&self, colour: bool) -> String {
        let columns = self
            .rows
            .iter()
            .map(Vec::len)
            .chain([self.header.len()])
            .max()
            .unwrap_or(0);
        let mut widths = vec![0; columns];
        let header: Vec<Cell> = self
            .header
            .iter()
            .map(|h| Cell::styled(h.clone(), Style::Bold))
            .collect();
        let lines: Vec<&Vec<Cell>> = (!header.is_empty())
            .then_some(&header)
            .into_iter()
            .chain(self.rows.iter())
            .collect();
        for row in &lines {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(width(&cell.text));
            }
        }
        let mut out = String::new();
        for row in lines {
            let mut line = String::new();
            // Trailing empty cells leave no padding behind them.
            let last = row
                .iter()
                .rposition(|c| !c.text.is_empty())
                .map_or(0, |i| i + 1);
            for (i, cell) in row.iter().take(last).enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                let pad = if i + 1 < last {
                    widths[i] - width(&cell.text)
                } else {
                    0
                };
                match (colour, cell.style.code()) {
                    (true, Some(code)) if !cell.text.is_empty() => {
                        line.push_str(&format!("\x1b[{code}m{}\x1b[0m", cell.text));
                    }
                    _ => line.push_str(&cell.text),
                }
                line.push_str(&" ".repeat(pad));
            }
            out.push_str(&line);
            out.push('\n');
        }
        out
    }
}

/// A duration rounded for people: seconds under a minute, minutes under an hour,
/// hours and minutes under a day, then days and hours.
pub fn rough(d: Duration) -> String {
    let s = d.as_secs();
    let kept = match s {
        0..60 => s,
        60..3600 => s / 60 * 60,
        3600..86_400 => s / 60 * 60,
        _ => s / 3600 * 3600,
    };
    crate::duration::format(Duration::from_secs(kept))
}

/// `5m ago`, `in 2h`, `now`.
pub fn relative(t: Timestamp, now: Timestamp) -> String {
    let ms = t.as_millisecond() - now.as_millisecond();
    let d = Duration::from_millis(ms.unsigned_abs());
    if d < Duration::from_secs(1) {
        "now".into()
    } else if ms < 0 {
        format!("{} ago", rough(d))
    } else {
        format!("in {}", rough(d))
    }
}

/// A time field of a check's JSON, relative to `now`; `-` when null.
pub fn time_field(value: &Value, now: Timestamp) -> String {
    value
        .as_str()
        .and_then(|t| t.parse::<Timestamp>().ok())
        .map(|t| relative(t, now))
        .unwrap_or_else(|| "-".into())
}

/// A check's schedule in a few words: `every 1d`, `0 3 * * * Europe/Paris`.
pub fn schedule_text(check: &Value) -> String {
    let tz = match check["tz"].as_str() {
        Some(tz) if tz != "UTC" => format!(" ({tz})"),
        _ => String::new(),
    };
    if let Some(interval) = check["interval"].as_str() {
        format!("every {interval}")
    } else if let Some(cron) = check["cron"].as_str() {
        format!("{cron}{tz}")
    } else {
        match &check["oncalendar"] {
            Value::String(expr) => format!("{}{tz}", expr.replace('\n', "; ")),
            Value::Array(exprs) => {
                let exprs: Vec<&str> = exprs.iter().filter_map(Value::as_str).collect();
                format!("{}{tz}", exprs.join("; "))
            }
            _ => "-".into(),
        }
    }
}

/// A list of strings as `a, b`; `empty` when there is none.
pub fn list_text(value: &Value, empty: &str) -> String {
    let items: Vec<&str> = value
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if items.is_empty() {
        empty.to_string()
    } else {
        items.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn columns_align_and_lines_end_without_spaces() {
        let mut table = Table::new(&["NAME", "STATUS", "TAGS"]);
        table.push(vec!["backup".into(), "up".into(), "db".into()]);
        table.push(vec!["a-much-longer-name".into(), "down".into(), "".into()]);
        table.push(vec!["é".into(), "paused".into(), "x, y".into()]);
        assert_eq!(
            table.render(false),
            "NAME                STATUS  TAGS\n\
             backup              up      db\n\
             a-much-longer-name  down\n\
             é                   paused  x, y\n"
        );
    }

    #[test]
    fn colour_wraps_the_text_and_keeps_the_alignment() {
        let mut table = Table::new(&[]);
        table.push(vec![
            Cell::styled("down", Style::of_status("down")),
            "backup".into(),
        ]);
        table.push(vec![Cell::styled("up", Style::of_status("up")), "x".into()]);
        assert_eq!(
            table.render(true),
            "\x1b[1;31mdown\x1b[0m  backup\n\x1b[32mup\x1b[0m    x\n"
        );
        assert_eq!(table.render(false), "down  backup\nup    x\n");
    }

    #[test]
    fn times_read_relative_to_now() {
        let now = t("2026-01-01T12:00:00Z");
        assert_eq!(relative(t("2026-01-01T11:59:30Z"), now), "30s ago");
        assert_eq!(relative(t("2026-01-01T11:54:59Z"), now), "5m ago");
        assert_eq!(relative(t("2026-01-01T14:05:10Z"), now), "in 2h5m");
        assert_eq!(relative(t("2025-12-29T10:00:00Z"), now), "3d2h ago");
        assert_eq!(relative(now, now), "now");
        assert_eq!(time_field(&json!(null), now), "-");
        assert_eq!(time_field(&json!("2026-01-01T11:00:00Z"), now), "1h ago");
    }

    #[test]
    fn schedules_and_lists_in_words() {
        assert_eq!(schedule_text(&json!({"interval": "1d"})), "every 1d");
        assert_eq!(
            schedule_text(&json!({"interval": null, "cron": "0 3 * * *", "tz": "Europe/Paris"})),
            "0 3 * * * (Europe/Paris)"
        );
        assert_eq!(
            schedule_text(&json!({"interval": null, "cron": "0 3 * * *", "tz": "UTC"})),
            "0 3 * * *"
        );
        assert_eq!(
            schedule_text(
                &json!({"interval": null, "cron": null, "oncalendar": "Mon *-*-* 02:00"})
            ),
            "Mon *-*-* 02:00"
        );
        assert_eq!(list_text(&json!(["a", "b"]), "-"), "a, b");
        assert_eq!(
            list_text(&json!(null), "(every channel)"),
            "(every channel)"
        );
    }
}
