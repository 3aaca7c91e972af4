//! systemd timer units read as files: `OnCalendar=` of a `.timer`, and `ExecStart=` of
//! the service it starts. Pure: unit text in, settings out. Drop-ins (`*.d/*.conf`) are
//! not read.

/// The values of `key` in `section`, in order; an empty assignment resets the list, as
/// systemd has it. Lines ending in `\` continue on the next.
pub fn values(text: &str, section: &str, key: &str) -> Vec<String> {
    let mut joined: Vec<String> = Vec::new();
    let mut pending = String::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some(head) = line.strip_suffix('\\') {
            pending.push_str(head.trim_end());
            pending.push(' ');
            continue;
        }
        pending.push_str(line);
        joined.push(std::mem::take(&mut pending));
    }
    if !pending.is_empty() {
        joined.push(pending);
    }
    let mut current = String::new();
    let mut out = Vec::new();
    for line in joined {
        let line = line.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = name.trim().to_string();
            continue;
        }
        if current != section {
            continue;
        }
        if let Some((k, v)) = line.split_once('=')
            && k.trim() == key
        {
            let v = v.trim();
            if v.is_empty() {
                out.clear();
            } else {
                out.push(v.to_string());
            }
        }
    }
    out
}

/// A timer: its calendar events and the unit it starts (default: NAME.service).
pub fn timer(text: &str, unit_name: &str) -> (Vec<String>, String) {
    let on_calendar = values(text, "Timer", "OnCalendar");
    let unit = values(text, "Timer", "Unit")
        .pop()
        .unwrap_or_else(|| format!("{}.service", unit_name.trim_end_matches(".timer")));
    (on_calendar, unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_on_calendar_and_the_unit() {
        let text = "[Unit]\nDescription=x\n\n[Timer]\n# c\nOnCalendar=daily\nOnCalendar=\nOnCalendar=Mon..Fri 02:00\nOnCalendar = *-*-01 \\\n  06:00\nPersistent=true\n[Install]\nOnCalendar=ignored\n";
        let (calendar, unit) = timer(text, "backup.timer");
        assert_eq!(calendar, ["Mon..Fri 02:00", "*-*-01 06:00"]);
        assert_eq!(unit, "backup.service");
        let (_, unit) = timer("[Timer]\nUnit=other.service\n", "a.timer");
        assert_eq!(unit, "other.service");
        assert_eq!(
            values(
                "[Service]\nExecStart=/usr/bin/x --y\n",
                "Service",
                "ExecStart"
            ),
            ["/usr/bin/x --y"]
        );
    }
}
