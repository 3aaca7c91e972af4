
use builtin;
use str;

set edit:completion:arg-completer[hb] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'hb'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'hb'= {
            cand --config 'Configuration file [default: hb/config.toml in the platform config dir]'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand run 'Run a command and report its start, exit code, duration and output'
            cand ping 'Send one ping (success, start, fail, log or an exit code)'
            cand schedule 'Print the next due times of a cron expression, an interval or a systemd calendar event'
            cand serve 'Run the monitor: ping endpoints, schedules, alerts and the management API'
            cand discover 'Find cron jobs and systemd timers, propose a check for each and wrap them in hb run'
            cand completions 'Print a shell completion script'
            cand man 'Print the man page, or write a page per subcommand into DIR'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hb;run'= {
            cand --server 'The monitor''s base URL, for IDs that are UUIDs or slugs [default: http://localhost:8080]'
            cand --ping-key 'The ping key used in slug URLs ({server}/api/v1/ping/{key}/{slug})'
            cand --retries 'Tries after the first one, for errors worth retrying'
            cand --ping-timeout 'Time limit of one try (at least 100ms)'
            cand --ping-budget 'Total time all pings of one run may take, retries included'
            cand -H 'Extra request header, ''Name: value'' (repeatable)'
            cand --header 'Extra request header, ''Name: value'' (repeatable)'
            cand --body-limit 'Bytes of output (the tail of stdout and stderr) sent with the end ping'
            cand --timeout 'Stop the job (SIGTERM to its process group) when it runs longer (at least 1s); counts as exit code 124'
            cand --kill-after 'After the timeout''s SIGTERM, wait this long before SIGKILL (0s: at once)'
            cand --every 'Run the command again and again, start to start (at least 1s apart), reporting each run'
            cand --config 'Configuration file [default: hb/config.toml in the platform config dir]'
            cand -q 'Print nothing of hb''s own on stderr (the job''s output still passes through)'
            cand --quiet 'Print nothing of hb''s own on stderr (the job''s output still passes through)'
            cand --no-start 'Do not send the start signal'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hb;ping'= {
            cand --data 'Body to send: TEXT, @FILE, or - for stdin'
            cand --server 'The monitor''s base URL, for IDs that are UUIDs or slugs [default: http://localhost:8080]'
            cand --ping-key 'The ping key used in slug URLs ({server}/api/v1/ping/{key}/{slug})'
            cand --retries 'Tries after the first one, for errors worth retrying'
            cand --ping-timeout 'Time limit of one try (at least 100ms)'
            cand --ping-budget 'Total time all pings of one run may take, retries included'
            cand -H 'Extra request header, ''Name: value'' (repeatable)'
            cand --header 'Extra request header, ''Name: value'' (repeatable)'
            cand --config 'Configuration file [default: hb/config.toml in the platform config dir]'
            cand -q 'Print nothing of hb''s own on stderr (the job''s output still passes through)'
            cand --quiet 'Print nothing of hb''s own on stderr (the job''s output still passes through)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hb;schedule'= {
            cand --oncalendar 'A systemd calendar event instead ("Mon..Fri *-*-* 02:00:00"); repeatable, due at any'
            cand --tz 'IANA time zone the cron expression or calendar event is read in'
            cand --count 'How many due times to print'
            cand --after 'Print due times strictly after this RFC 3339 time [default: now]'
            cand --config 'Configuration file [default: hb/config.toml in the platform config dir]'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hb;serve'= {
            cand --listen 'Address to listen on [default: 127.0.0.1:8080]'
            cand --db 'SQLite database file [default: hb/hb.db in the platform data dir]'
            cand --base-url 'Public URL used in ping_url and alert links [default: http:// + the request''s Host]'
            cand --ping-key 'The key in slug ping URLs (/api/v1/ping/{key}/{slug})'
            cand --config 'Configuration file [default: hb/config.toml in the platform config dir]'
            cand --insecure 'Allow listening on a non-loopback address without an API key'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hb;discover'= {
            cand --crontab 'Read this user-format crontab file instead of the invoking user''s (repeatable)'
            cand --root 'Read the system paths under DIR (an image); the invoking user''s crontab is then not read'
            cand --server 'The monitor''s base URL, for --apply [default: http://localhost:8080]'
            cand --api-key 'The management API key, for --apply'
            cand --config 'Configuration file [default: hb/config.toml in the platform config dir]'
            cand --system 'Also read /etc/crontab and /etc/cron.d/* (with their user column)'
            cand --systemd 'Also read systemd timer units (OnCalendar=) from /etc, /run, /usr/lib and /lib'
            cand --apply 'Create the checks through the API, then back up and rewrite the crontabs'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hb;completions'= {
            cand --config 'Configuration file [default: hb/config.toml in the platform config dir]'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hb;man'= {
            cand --config 'Configuration file [default: hb/config.toml in the platform config dir]'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hb;help'= {
            cand run 'Run a command and report its start, exit code, duration and output'
            cand ping 'Send one ping (success, start, fail, log or an exit code)'
            cand schedule 'Print the next due times of a cron expression, an interval or a systemd calendar event'
            cand serve 'Run the monitor: ping endpoints, schedules, alerts and the management API'
            cand discover 'Find cron jobs and systemd timers, propose a check for each and wrap them in hb run'
            cand completions 'Print a shell completion script'
            cand man 'Print the man page, or write a page per subcommand into DIR'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hb;help;run'= {
        }
        &'hb;help;ping'= {
        }
        &'hb;help;schedule'= {
        }
        &'hb;help;serve'= {
        }
        &'hb;help;discover'= {
        }
        &'hb;help;completions'= {
        }
        &'hb;help;man'= {
        }
        &'hb;help;help'= {
        }
    ]
    $completions[$command]
}
