//! Crontabs read the way Vixie cron (Debian's cron, cronie) reads them, and the
//! byte-faithful rewrite of a job line. Pure: text in, jobs and new text out.
//!
//! - A line is blank, a comment (`#` first), an environment setting (`NAME = value`,
//!   the value optionally in single or double quotes) or a job.
//! - A job is five time fields, or a nickname (`@daily`, `@reboot`…), then the user
//!   (system crontabs only), then the command up to the end of the line.
//! - In the command, the first `%` not preceded by a backslash ends the command: what
//!   follows goes to its standard input, each further `%` a newline; `\%` is a `%`.
//! - `CRON_TZ` (else `TZ`) set above a job is the zone its schedule is read in.
//!
//! The rewrite replaces only the command's bytes before that `%`; every other byte
//! of the file (spacing, tabs, comments, settings, the `%` part) is kept.

/// One line of a crontab as cron sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Blank,
    Comment,
    Env {
        name: String,
        value: String,
    },
    Job(CronJob),
    /// A line cron would refuse (too few fields): left alone.
    Unreadable(String),
}

/// A job line: where its parts are, and what was in force at its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronJob {
    /// The schedule: five fields joined by one space, or the nickname (`@daily`).
    pub schedule: String,
    /// The user column of a system crontab.
    pub user: Option<String>,
    /// Byte range of the command (before the first unescaped `%`) in the line.
    pub command_start: usize,
    pub command_end: usize,
    /// `CRON_TZ`, else `TZ`, in force at this line.
    pub tz: Option<String>,
    /// `SHELL` in force at this line.
    pub shell: Option<String>,
    /// The text of a `# name: …` comment on the line just above.
    pub name_comment: Option<String>,
}

impl CronJob {
    /// The command as written in the crontab (`\%` still escaped).
    pub fn raw_command<'a>(&self, line: &'a str) -> &'a str {
        &line[self.command_start..self.command_end]
    }

    /// The command as the shell gets it (`\%` → `%`), trimmed.
    pub fn command(&self, line: &str) -> String {
        self.raw_command(line)
            .replace("\\%", "%")
            .trim()
            .to_string()
    }
}

/// The lines of `text`, each with its line ending (the last may have none).
pub fn lines(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

/// Reads every line of a crontab; `system` when lines have a user column.
pub fn parse(text: &str, system: bool) -> Vec<Entry> {
    let mut tz: Option<String> = None;
    let mut cron_tz: Option<String> = None;
    let mut shell: Option<String> = None;
    let mut previous_comment: Option<String> = None;
    let mut entries = Vec::new();
    for line in lines(text) {
        let body = line.trim_end_matches(['\n', '\r']);
        let trimmed = body.trim_start_matches([' ', '\t']);
        let entry = if trimmed.trim().is_empty() {
            Entry::Blank
        } else if trimmed.starts_with('#') {
            Entry::Comment
        } else if let Some((name, value)) = env_setting(trimmed) {
            match name.as_str() {
                "TZ" => tz = Some(value.clone()),
                "CRON_TZ" => cron_tz = Some(value.clone()),
                "SHELL" => shell = Some(value.clone()),
                _ => {}
            }
            Entry::Env { name, value }
        } else {
            match job(body, system) {
                Ok((schedule, user, command_start, command_end)) => Entry::Job(CronJob {
                    schedule,
                    user,
                    command_start,
                    command_end,
                    tz: cron_tz.clone().or_else(|| tz.clone()),
                    shell: shell.clone(),
                    name_comment: previous_comment.clone(),
                }),
                Err(why) => Entry::Unreadable(why),
            }
        };
        previous_comment = if entry == Entry::Comment {
            trimmed
                .trim_start_matches('#')
                .trim()
                .strip_prefix("name:")
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty())
        } else {
            None
        };
        entries.push(entry);
    }
    entries
}

/// `NAME=value`, `NAME = "value"`: a word (no blank) before the first `=`.
fn env_setting(line: &str) -> Option<(String, String)> {
    let (name, value) = line.split_once('=')?;
    let name = name.trim_end_matches([' ', '\t']);
    if name.is_empty() || name.contains([' ', '\t']) {
        return None;
    }
    let value = value.trim_matches([' ', '\t']);
    let unquoted = ['"', '\'']
        .iter()
        .find_map(|q| {
            value
                .strip_prefix(*q)
                .and_then(|v| v.strip_suffix(*q))
                .filter(|_| value.len() >= 2)
        })
        .unwrap_or(value);
    Some((name.to_string(), unquoted.to_string()))
}

/// The schedule, the user and the command's byte range of a job line.
fn job(line: &str, system: bool) -> Result<(String, Option<String>, usize, usize), String> {
    let bytes = line.as_bytes();
    let mut i = 0;
    let blank = |b: u8| b == b' ' || b == b'\t';
    let word = |i: &mut usize| -> Option<(usize, usize)> {
        while *i < bytes.len() && blank(bytes[*i]) {
            *i += 1;
        }
        let start = *i;
        while *i < bytes.len() && !blank(bytes[*i]) {
            *i += 1;
        }
        (*i > start).then_some((start, *i))
    };
    let first = word(&mut i).ok_or("an empty line")?;
    let schedule = if bytes[first.0] == b'@' {
        line[first.0..first.1].to_string()
    } else {
        let mut fields = vec![&line[first.0..first.1]];
        for _ in 0..4 {
            let (s, e) = word(&mut i).ok_or("fewer than 5 time fields")?;
            fields.push(&line[s..e]);
        }
        fields.join(" ")
    };
    let user = if system {
        let (s, e) = word(&mut i).ok_or("no user column")?;
        Some(line[s..e].to_string())
    } else {
        None
    };
    while i < bytes.len() && blank(bytes[i]) {
        i += 1;
    }
    if i >= bytes.len() {
        return Err("no command".into());
    }
    let start = i;
    let mut end = bytes.len();
    let mut k = start;
    while k < bytes.len() {
        match bytes[k] {
            b'\\' if bytes.get(k + 1) == Some(&b'%') => k += 2,
            b'%' => {
                end = k;
                break;
            }
            _ => k += 1,
        }
    }
    Ok((schedule, user, start, end))
}

/// How a command is wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrap {
    /// `hb run UUID -- COMMAND`: one program and its arguments (redirections allowed).
    Direct,
    /// `hb run UUID -- SHELL -c 'COMMAND'`: the shell would run several things.
    Shell,
}

/// Shell words that are not programs hb could start.
const SHELL_WORDS: [&str; 24] = [
    "if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case", "esac", "!",
    "{", "}", "cd", "export", "source", ".", "exec", "set", "ulimit", "umask", "eval",
];

/// Whether the shell would split `command` into several (a pipe, `;`, `&&`, `||`, `&`,
/// a subshell), or it starts with a variable assignment or a shell word: then it is run
/// through the shell. Quotes and backslashes are respected; `2>&1`, `>&2` and `&>` are
/// redirections, not `&`.
pub fn wrap_kind(command: &str) -> Wrap {
    let b = command.as_bytes();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < b.len() {
        let c = b[i];
        match quote {
            Some(q) => {
                if c == b'\\' && q == b'"' {
                    i += 1;
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                b'\\' => i += 1,
                b'\'' | b'"' => quote = Some(c),
                b'|' | b';' | b'(' | b')' | b'\n' | b'`' => {
                    if c == b'|' && i > 0 && b[i - 1] == b'>' {
                        // `>|`: a redirection.
                    } else if c == b'(' && i > 0 && b[i - 1] == b'$' {
                        // `$(…)`: expanded by the outer shell, before hb.
                        return Wrap::Shell;
                    } else {
                        return Wrap::Shell;
                    }
                }
                b'&' => {
                    let after_redirect = i > 0 && matches!(b[i - 1], b'>' | b'<');
                    let before_redirect = b.get(i + 1) == Some(&b'>');
                    if !after_redirect && !before_redirect {
                        return Wrap::Shell;
                    }
                }
                _ => {}
            },
        }
        i += 1;
    }
    let first = command.split_whitespace().next().unwrap_or("");
    if SHELL_WORDS.contains(&first) || is_assignment(first) {
        return Wrap::Shell;
    }
    Wrap::Direct
}

fn is_assignment(word: &str) -> bool {
    match word.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        None => false,
    }
}

/// The words of a command, quotes removed (enough for names and the wrapped test).
pub fn words(command: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = command.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some('"') if c == '\\' => {
                if let Some(n) = chars.next() {
                    current.push(n);
                }
            }
            Some(_) => current.push(c),
            None => match c {
                '\'' | '"' => {
                    quote = Some(c);
                    in_word = true;
                }
                '\\' => {
                    if let Some(n) = chars.next() {
                        current.push(n);
                    }
                    in_word = true;
                }
                ' ' | '\t' => {
                    if in_word {
                        out.push(std::mem::take(&mut current));
                        in_word = false;
                    }
                }
                _ => {
                    current.push(c);
                    in_word = true;
                }
            },
        }
    }
    if in_word {
        out.push(current);
    }
    out
}

/// Whether the command already goes through `hb run` (an `hb` program, then `run`).
pub fn is_wrapped(command: &str, hb_path: &str) -> bool {
    let w = words(command);
    match (w.first(), w.get(1)) {
        (Some(program), Some(second)) => {
            (program == hb_path || program.rsplit('/').next() == Some("hb")) && second == "run"
        }
        _ => false,
    }
}

/// The name a command suggests: its program's base name and its first argument that
/// is not an option (its base name when a path), e.g. `backup.sh db`.
pub fn suggested_name(command: &str) -> String {
    // The simple commands, split at operators and parentheses.
    let mut commands: Vec<Vec<String>> = vec![Vec::new()];
    for word in words(command) {
        let trimmed = word.trim_matches(['(', ')']);
        let boundary = ["|", "||", "&&", ";", "&"].contains(&trimmed)
            || word.starts_with('(')
            || trimmed.is_empty();
        if boundary {
            commands.push(Vec::new());
        }
        if !trimmed.is_empty() && !["|", "||", "&&", ";", "&"].contains(&trimmed) {
            commands.last_mut().expect("one").push(trimmed.to_string());
        }
        if word.ends_with(')') || word.ends_with(';') {
            commands.push(Vec::new());
        }
    }
    // The first that runs a program of its own (not `cd /srv`, `test -x …`).
    const PLUMBING: [&str; 9] = [
        "cd", "test", "[", "true", ":", "export", "set", "umask", "sleep",
    ];
    let simple: Vec<Vec<String>> = commands
        .into_iter()
        .map(|c| {
            c.into_iter()
                .skip_while(|w| is_assignment(w))
                .collect::<Vec<_>>()
        })
        .filter(|c| !c.is_empty())
        .collect();
    let chosen = simple
        .iter()
        .find(|c| !PLUMBING.contains(&base_name(&c[0])))
        .or(simple.first());
    let Some(chosen) = chosen else {
        return "job".into();
    };
    let program = base_name(&chosen[0]).to_string();
    let mut argument = None;
    let mut skip_next = false;
    for word in &chosen[1..] {
        if skip_next {
            skip_next = false;
            continue;
        }
        let operator = word.trim_start_matches(|c: char| c.is_ascii_digit());
        if operator.starts_with(['>', '<']) {
            // A redirection: its target is the rest of the word, or the next word.
            skip_next = operator.trim_start_matches(['>', '<', '&', '|']).is_empty();
            continue;
        }
        if word.starts_with('-') || word.is_empty() {
            continue;
        }
        argument = Some(word);
        break;
    }
    match argument.map(|a| base_name(a.trim_end_matches('/'))) {
        Some(arg) if !arg.is_empty() => format!("{program} {arg}"),
        _ => program,
    }
}

fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// `text` in single quotes for a POSIX shell.
pub fn single_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// The line with its command wrapped: `HB run UUID -- COMMAND`, or
/// `HB run UUID -- SHELL -c 'COMMAND'`; every other byte as it was.
pub fn rewrite(line: &str, job: &CronJob, hb_path: &str, uuid: &str) -> String {
    let raw = job.raw_command(line);
    let kept = raw.trim_end_matches([' ', '\t']);
    let trailing = &raw[kept.len()..];
    let wrapped = match wrap_kind(&kept.replace("\\%", "%")) {
        Wrap::Direct => format!("{hb_path} run {uuid} -- {kept}"),
        Wrap::Shell => {
            let shell = job.shell.as_deref().unwrap_or("/bin/sh");
            format!("{hb_path} run {uuid} -- {shell} -c {}", single_quoted(kept))
        }
    };
    format!(
        "{}{wrapped}{trailing}{}",
        &line[..job.command_start],
        &line[job.command_end..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only_job(text: &str, system: bool) -> CronJob {
        parse(text, system)
            .into_iter()
            .find_map(|e| match e {
                Entry::Job(j) => Some(j),
                _ => None,
            })
            .expect("a job")
    }

    #[test]
    fn reads_lines_as_cron_does() {
        let text = "# comment\n\nSHELL=/bin/bash\nCRON_TZ = 'Europe/Paris'\nMAILTO=\"\"\n0 3 * * *\t/usr/bin/backup --full /srv/db\n@daily root run-parts /etc/cron.daily\n  bad line\n";
        let entries = parse(text, false);
        assert_eq!(entries[0], Entry::Comment);
        assert_eq!(entries[1], Entry::Blank);
        assert_eq!(
            entries[3],
            Entry::Env {
                name: "CRON_TZ".into(),
                value: "Europe/Paris".into()
            }
        );
        assert_eq!(
            entries[4],
            Entry::Env {
                name: "MAILTO".into(),
                value: "".into()
            }
        );
        let Entry::Job(job) = &entries[5] else {
            panic!("{:?}", entries[5])
        };
        assert_eq!(job.schedule, "0 3 * * *");
        assert_eq!(job.tz.as_deref(), Some("Europe/Paris"));
        assert_eq!(job.shell.as_deref(), Some("/bin/bash"));
        let line = lines(text)[5];
        assert_eq!(job.command(line), "/usr/bin/backup --full /srv/db");
        let Entry::Job(nick) = &entries[6] else {
            panic!()
        };
        assert_eq!(nick.schedule, "@daily");
        assert!(matches!(entries[7], Entry::Unreadable(_)));
        // A system crontab has a user column.
        let sys = only_job("*/5 * * * * www-data php /srv/cron.php\n", true);
        assert_eq!(sys.user.as_deref(), Some("www-data"));
        assert_eq!(
            sys.command("*/5 * * * * www-data php /srv/cron.php"),
            "php /srv/cron.php"
        );
    }

    #[test]
    fn percent_ends_the_command_unless_escaped() {
        let line = "0 0 * * * mail -s hi root%Dear root,%bye\n";
        let job = only_job(line, false);
        assert_eq!(job.raw_command(line), "mail -s hi root");
        let line = "0 0 * * * tar czf /b/$(date +\\%F).tgz /srv % x\n";
        let job = only_job(line, false);
        assert_eq!(job.raw_command(line), "tar czf /b/$(date +\\%F).tgz /srv ");
        assert_eq!(job.command(line), "tar czf /b/$(date +%F).tgz /srv");
    }

    #[test]
    fn tz_follows_position_and_cron_tz_wins() {
        let text = "1 * * * * a\nTZ=Asia/Tokyo\n2 * * * * b\nCRON_TZ=Europe/Paris\n3 * * * * c\n";
        let tzs: Vec<Option<String>> = parse(text, false)
            .into_iter()
            .filter_map(|e| match e {
                Entry::Job(j) => Some(j.tz),
                _ => None,
            })
            .collect();
        assert_eq!(
            tzs,
            [None, Some("Asia/Tokyo".into()), Some("Europe/Paris".into())]
        );
    }

    #[test]
    fn what_goes_through_the_shell() {
        for direct in [
            "/usr/bin/backup --full",
            "backup > /var/log/b.log 2>&1",
            "backup &> /dev/null",
            "backup >&2",
            "echo 'a | b; c && d'",
            "echo \"x & y\"",
            "echo a\\;b",
            "/bin/date +%F",
        ] {
            assert_eq!(wrap_kind(direct), Wrap::Direct, "{direct}");
        }
        for shell in [
            "pg_dump db | gzip > /b/db.gz",
            "cd /srv && make",
            "a || b",
            "a; b",
            "sleep 10 &",
            "(cd /x; y)",
            "FOO=bar backup",
            "cd /srv",
            "if true; then x; fi",
            "tar czf /b/$(date +%F).tgz /srv",
            "echo `date`",
        ] {
            assert_eq!(wrap_kind(shell), Wrap::Shell, "{shell}");
        }
    }

    #[test]
    fn rewrite_keeps_every_other_byte() {
        let line = "30  2\t* * *   /usr/bin/backup --full   %stdin\\%%more\n";
        let job = only_job(line, false);
        assert_eq!(
            rewrite(line, &job, "/usr/local/bin/hb", "U"),
            "30  2\t* * *   /usr/local/bin/hb run U -- /usr/bin/backup --full   %stdin\\%%more\n"
        );
        let line = "0 1 * * * pg_dump 'my db' | gzip > /b/$(date +\\%F).gz%x";
        let mut job = only_job(line, false);
        job.shell = Some("/bin/bash".into());
        assert_eq!(
            rewrite(line, &job, "/hb", "U"),
            "0 1 * * * /hb run U -- /bin/bash -c 'pg_dump '\\''my db'\\'' | gzip > /b/$(date +\\%F).gz'%x"
        );
    }

    #[test]
    fn names_and_wrapped_lines() {
        assert_eq!(
            suggested_name("/usr/local/bin/backup.sh --full /var/db/"),
            "backup.sh db"
        );
        assert_eq!(
            suggested_name("FOO=1 php -q /srv/www/cron.php"),
            "php cron.php"
        );
        assert_eq!(suggested_name("pg_dump mydb | gzip"), "pg_dump mydb");
        assert_eq!(suggested_name("run-parts"), "run-parts");
        assert_eq!(suggested_name("backup > /dev/null 2>&1"), "backup");
        assert_eq!(
            suggested_name("cd / && run-parts --report /etc/cron.hourly"),
            "run-parts cron.hourly"
        );
        assert_eq!(
            suggested_name(
                "test -x /usr/sbin/anacron || ( cd / && run-parts --report /etc/cron.daily )"
            ),
            "run-parts cron.daily"
        );
        assert_eq!(suggested_name("cd /srv"), "cd srv");
        assert!(is_wrapped(
            "/usr/local/bin/hb run abc -- x",
            "/usr/local/bin/hb"
        ));
        assert!(is_wrapped("hb run abc -- x", "/opt/hb"));
        assert!(!is_wrapped("hbx run abc", "/opt/hb"));
        assert!(!is_wrapped(
            "/usr/local/bin/hb ping abc",
            "/usr/local/bin/hb"
        ));
    }
}
