//! A unified diff (three lines of context) of a file whose lines were replaced one for
//! one, as the rewrite does: no line is added or removed.

const CONTEXT: usize = 3;

/// `--- PATH` / `+++ PATH` and the hunks; empty when nothing changed. `old` and `new`
/// are the lines with their endings (as `crontab::lines` gives them).
pub fn unified(path: &str, old: &[&str], new: &[String]) -> String {
    assert_eq!(old.len(), new.len(), "lines are replaced one for one");
    let changed: Vec<usize> = (0..old.len()).filter(|&i| old[i] != new[i]).collect();
    if changed.is_empty() {
        return String::new();
    }
    let mut out = format!("--- {path}\n+++ {path}\n");
    // Group the changes whose contexts touch or overlap.
    let mut groups: Vec<(usize, usize)> = Vec::new();
    for &i in &changed {
        match groups.last_mut() {
            Some((_, last)) if i <= *last + 2 * CONTEXT + 1 => *last = i,
            _ => groups.push((i, i)),
        }
    }
    for (first, last) in groups {
        let start = first.saturating_sub(CONTEXT);
        let end = (last + CONTEXT + 1).min(old.len());
        let count = end - start;
        out.push_str(&format!(
            "@@ -{},{count} +{},{count} @@\n",
            start + 1,
            start + 1
        ));
        let mut i = start;
        while i < end {
            if old[i] == new[i] {
                push_line(&mut out, ' ', old[i]);
                i += 1;
                continue;
            }
            let run_end = (i..end).find(|&k| old[k] == new[k]).unwrap_or(end);
            for line in &old[i..run_end] {
                push_line(&mut out, '-', line);
            }
            for line in &new[i..run_end] {
                push_line(&mut out, '+', line);
            }
            i = run_end;
        }
    }
    out
}

fn push_line(out: &mut String, mark: char, line: &str) {
    out.push(mark);
    out.push_str(line);
    if !line.ends_with('\n') {
        out.push_str("\n\\ No newline at end of file\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunks_with_three_lines_of_context() {
        let old: Vec<String> = (1..=12).map(|i| format!("l{i}\n")).collect();
        let old_refs: Vec<&str> = old.iter().map(String::as_str).collect();
        let mut new = old.clone();
        new[1] = "L2\n".into();
        new[10] = "L11\n".into();
        let d = unified("/f", &old_refs, &new);
        assert_eq!(
            d,
            "--- /f\n+++ /f\n@@ -1,5 +1,5 @@\n l1\n-l2\n+L2\n l3\n l4\n l5\n@@ -8,5 +8,5 @@\n l8\n l9\n l10\n-l11\n+L11\n l12\n"
        );
        assert_eq!(unified("/f", &old_refs, &old), "");
        let d = unified("/g", &["a"], &["b".to_string()]);
        assert_eq!(
            d,
            "--- /g\n+++ /g\n@@ -1,1 +1,1 @@\n-a\n\\ No newline at end of file\n+b\n\\ No newline at end of file\n"
        );
    }
}
