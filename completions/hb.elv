
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
            cand checks 'List, show, add, change, pause, resume and delete checks on the monitor'
            cand channels 'List the monitor''s alert channels, or send a test alert'
            cand status 'One screen: how many checks are in each status, then each check that is not up'
            cand config 'Config as code, both ways: export the monitor''s checks and channels, check a file, plan it'
            cand db 'The monitor''s database: copy it between SQLite and PostgreSQL'
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
            cand --interval 'The new check''s interval [default: 1d]'
            cand --cron 'The new check''s cron line, instead'
            cand --oncalendar 'The new check''s systemd OnCalendar= expression, instead'
            cand --tz 'The time zone of --cron or --oncalendar [default: UTC]'
            cand --grace 'The new check''s grace period'
            cand --config 'Configuration file [default: hb/config.toml in the platform config dir]'
            cand -q 'Print nothing of hb''s own on stderr (the job''s output still passes through)'
            cand --quiet 'Print nothing of hb''s own on stderr (the job''s output still passes through)'
            cand --no-start 'Do not send the start signal'
            cand --create 'Ask the monitor to create the check (named by its slug) if it does not exist'
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
            cand --db 'SQLite database file, or postgres://USER@HOST/DB [default: hb/hb.db in the platform data dir]'
            cand --base-url 'Public URL used in ping_url and alert links [default: http:// + the request''s Host]'
            cand --ping-key 'The key in slug ping URLs (/api/v1/ping/{key}/{slug})'
            cand --log-format 'How log lines on stderr are written: text for people, json (one object a line) for machines'
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
        &'hb;checks'= {
            cand --status 'Only checks with this status'
            cand --tag 'Only checks with this tag'
            cand --server 'The monitor''s base URL [default: server in the config file, else http://localhost:8080]'
            cand --api-key 'The API key sent as ''Authorization: Bearer KEY'' [default: api_key in the config file]'
            cand --config 'Configuration file [default: hb/config.toml in the platform config dir]'
            cand --json 'Print the API''s JSON instead of a table'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand list 'List checks (the default)'
            cand show 'Show one check'
            cand add 'Create a check; prints its uuid'
            cand edit 'Change a check: each flag given replaces that setting'
            cand pause 'Pause a check: no alerts until it is pinged or resumed'
            cand resume 'Resume a paused check (it becomes new)'
            cand rm 'Delete a check and its history'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hb;checks;list'= {
            cand --status 'Only checks with this status'
            cand --tag 'Only checks with this tag'
            cand --server 'The monitor''s base URL [default: server in the config file, else http://localhost:8080]'
            cand --api-key 'The API key sent as ''Authorization: Bearer KEY'' [default: api_key in the config file]'
            cand --config 'Configuration file [default: hb/config.toml in the platform config dir]'
            cand --json 'Print the API''s JSON instead of a table'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hb;checks;show'= {
            cand --server 'The monitor''s base URL [default: server in the config file, else http://localhost:8080]'
            cand --api-key 'The API key sent as ''Authorization: Bearer KEY'' [default: api_key in the config file]'
            cand --config 'Configuration file [default: hb/config.toml in the platform config dir]'
            cand --json 'Print the API''s JSON'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hb;checks;add'= {
            cand --interval 'Expect a ping every DURATION (e.g. 24h)'
            cand --cron 'Expect a ping at the times of a cron line (e.g. "0 3 * * *")'
            cand --oncalendar 'Expect a ping at the times of a systemd OnCalendar= expression'
            cand --tz 'The IANA time zone of --cron or --oncalendar [default: UTC]'
            cand --grace 'How long after the due time the check goes down [default: scales with the period]'
            cand --max-runtime 'How long a started run may go on before it is stuck [default: the grace]'
            cand --tag 'A tag (repeatable; given, they replace the check''s tags)'
            cand --channel 'A channel to alert (repeatable; given, they replace the check''s channels) [default: every channel]'
            cand --description 'What the check is about'
            cand --owner 'Who to ask about it'
            cand --server 'The monitor''s base URL [default: server in the config file, else http://localhost:8080]'
            cand --api-key 'The API key sent as ''Authorization: Bearer KEY'' [default: api_key in the config file]'
            cand --config 'Configuration file [default: hb/config.toml in the platform config dir]'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hb;checks;edit'= {
            cand --name 'A new name'
            cand --interval 'Expect a ping every DURATION (e.g. 24h)'
            cand --cron 'Expect a ping at the times of a cron line (e.g. "0 3 * * *")'
            cand --oncalendar 'Expect a ping at the times of a systemd OnCalendar= expression'
            cand --tz 'The IANA time zone of --cron or --oncalendar [default: UTC]'
            cand --grace 'How long after the due time the check goes down [default: scales with the period]'
            cand --max-runtime 'How long a started run may go on before it is stuck [default: the grace]'
            cand --tag 'A tag (repeatable; given, they replace the check''s tags)'
            cand --channel 'A channel to alert (repeatable; given, they replace the check''s channels) [default: every channel]'
            cand --description 'What the check is about'
            cand --owner 'Who to ask about it'
            cand --server 'The monitor''s base URL [default: server in the config file, else http://localhost:8080]'
            cand --api-key 'The API key sent as ''Authorization: Bearer KEY'' [default: api_key in the config file]'
            cand --config 'Configuration file [default: hb/config.toml in the platform config dir]'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hb;checks;pause'= {
            cand --server 'The monitor''s base URL [default: server in the config file, else http://localhost:8080]'
            cand --api-key 'The API key sent as ''Authorization: Bearer KEY'' [default: api_key in the config file]'
            cand --config 'Configuration file [default: hb/config.toml in the platform config dir]'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hb;checks;resume'= {
            cand --server 'The monitor''s base URL [default: server in the config file, else http://localhost:8080]'
            cand --api-key 'The API key sent as ''Authorization: Bearer KEY'' [default: api_key in the config file]'
            cand --config 'Configuration file [default: hb/config.toml in the platform config dir]'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hb;checks;rm'= {
            cand --server 'The monitor''s base URL [default: server in the config file, else http://localhost:8080]'
            cand --api-key 'The API key sent as ''Authorization: Bearer KEY'' [default: api_key in the config file]'
            cand --config 'Configuration file [default: hb/config.toml in the platform config dir]'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hb;checks;help'= {
            cand list 'List checks (the default)'
            cand show 'Show one check'
            cand add 'Create a check; prints its uuid'
            cand edit 'Change a check: each flag given replaces that setting'
            cand pause 'Pause a check: no alerts until it is pinged or resumed'
            cand resume 'Resume a paused check (it becomes new)'
            cand rm 'Delete a check and its history'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hb;checks;help;list'= {
        }
        &'hb;checks;help;show'= {
        }
        &'hb;checks;help;add'= {
        }
        &'hb;checks;help;edit'= {
        }
        &'hb;checks;help;pause'= {
        }
        &'hb;checks;help;resume'= {
        }
        &'hb;checks;help;rm'= {
        }
        &'hb;checks;help;help'= {
        }
        &'hb;channels'= {
            cand --server 'The monitor''s base URL [default: server in the config file, else http://localhost:8080]'
            cand --api-key 'The API key sent as ''Authorization: Bearer KEY'' [default: api_key in the config file]'
            cand --config 'Configuration file [default: hb/config.toml in the platform config dir]'
            cand --json 'Print the API''s JSON instead of a table'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand list 'List channels (the default)'
            cand test 'Send a test alert through a channel'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hb;channels;list'= {
            cand --server 'The monitor''s base URL [default: server in the config file, else http://localhost:8080]'
            cand --api-key 'The API key sent as ''Authorization: Bearer KEY'' [default: api_key in the config file]'
            cand --config 'Configuration file [default: hb/config.toml in the platform config dir]'
            cand --json 'Print the API''s JSON instead of a table'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hb;channels;test'= {
            cand --server 'The monitor''s base URL [default: server in the config file, else http://localhost:8080]'
            cand --api-key 'The API key sent as ''Authorization: Bearer KEY'' [default: api_key in the config file]'
            cand --config 'Configuration file [default: hb/config.toml in the platform config dir]'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hb;channels;help'= {
            cand list 'List channels (the default)'
            cand test 'Send a test alert through a channel'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hb;channels;help;list'= {
        }
        &'hb;channels;help;test'= {
        }
        &'hb;channels;help;help'= {
        }
        &'hb;status'= {
            cand --server 'The monitor''s base URL [default: server in the config file, else http://localhost:8080]'
            cand --api-key 'The API key sent as ''Authorization: Bearer KEY'' [default: api_key in the config file]'
            cand --config 'Configuration file [default: hb/config.toml in the platform config dir]'
            cand --json 'Print JSON: the counts and the checks that are not up'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hb;config'= {
            cand --server 'The monitor''s base URL [default: server in the config file, else http://localhost:8080]'
            cand --api-key 'The API key sent as ''Authorization: Bearer KEY'' [default: api_key in the config file]'
            cand --config 'Configuration file [default: hb/config.toml in the platform config dir]'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand export 'Print the monitor''s checks and channels as a config file (TOML)'
            cand check 'Validate a config file: exit 0, or 2 with FILE:LINE: problem'
            cand plan 'Print what loading a config file would create, change and unmanage on the monitor (nothing is changed)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hb;config;export'= {
            cand --server 'The monitor''s base URL [default: server in the config file, else http://localhost:8080]'
            cand --api-key 'The API key sent as ''Authorization: Bearer KEY'' [default: api_key in the config file]'
            cand --config 'Configuration file [default: hb/config.toml in the platform config dir]'
            cand --with-secrets 'Write secrets (tokens, keys, passwords) instead of "••••"; needs a full API key'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hb;config;check'= {
            cand --server 'The monitor''s base URL [default: server in the config file, else http://localhost:8080]'
            cand --api-key 'The API key sent as ''Authorization: Bearer KEY'' [default: api_key in the config file]'
            cand --config 'Configuration file [default: hb/config.toml in the platform config dir]'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hb;config;plan'= {
            cand --server 'The monitor''s base URL [default: server in the config file, else http://localhost:8080]'
            cand --api-key 'The API key sent as ''Authorization: Bearer KEY'' [default: api_key in the config file]'
            cand --config 'Configuration file [default: hb/config.toml in the platform config dir]'
            cand --json 'Print the API''s JSON'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hb;config;help'= {
            cand export 'Print the monitor''s checks and channels as a config file (TOML)'
            cand check 'Validate a config file: exit 0, or 2 with FILE:LINE: problem'
            cand plan 'Print what loading a config file would create, change and unmanage on the monitor (nothing is changed)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hb;config;help;export'= {
        }
        &'hb;config;help;check'= {
        }
        &'hb;config;help;plan'= {
        }
        &'hb;config;help;help'= {
        }
        &'hb;db'= {
            cand --config 'Configuration file [default: hb/config.toml in the platform config dir]'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand copy 'Copy every check, ping, flip, channel, delivery and the monitor''s secret from one database to another'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hb;db;copy'= {
            cand --config 'Configuration file [default: hb/config.toml in the platform config dir]'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hb;db;help'= {
            cand copy 'Copy every check, ping, flip, channel, delivery and the monitor''s secret from one database to another'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hb;db;help;copy'= {
        }
        &'hb;db;help;help'= {
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
            cand checks 'List, show, add, change, pause, resume and delete checks on the monitor'
            cand channels 'List the monitor''s alert channels, or send a test alert'
            cand status 'One screen: how many checks are in each status, then each check that is not up'
            cand config 'Config as code, both ways: export the monitor''s checks and channels, check a file, plan it'
            cand db 'The monitor''s database: copy it between SQLite and PostgreSQL'
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
        &'hb;help;checks'= {
            cand list 'List checks (the default)'
            cand show 'Show one check'
            cand add 'Create a check; prints its uuid'
            cand edit 'Change a check: each flag given replaces that setting'
            cand pause 'Pause a check: no alerts until it is pinged or resumed'
            cand resume 'Resume a paused check (it becomes new)'
            cand rm 'Delete a check and its history'
        }
        &'hb;help;checks;list'= {
        }
        &'hb;help;checks;show'= {
        }
        &'hb;help;checks;add'= {
        }
        &'hb;help;checks;edit'= {
        }
        &'hb;help;checks;pause'= {
        }
        &'hb;help;checks;resume'= {
        }
        &'hb;help;checks;rm'= {
        }
        &'hb;help;channels'= {
            cand list 'List channels (the default)'
            cand test 'Send a test alert through a channel'
        }
        &'hb;help;channels;list'= {
        }
        &'hb;help;channels;test'= {
        }
        &'hb;help;status'= {
        }
        &'hb;help;config'= {
            cand export 'Print the monitor''s checks and channels as a config file (TOML)'
            cand check 'Validate a config file: exit 0, or 2 with FILE:LINE: problem'
            cand plan 'Print what loading a config file would create, change and unmanage on the monitor (nothing is changed)'
        }
        &'hb;help;config;export'= {
        }
        &'hb;help;config;check'= {
        }
        &'hb;help;config;plan'= {
        }
        &'hb;help;db'= {
            cand copy 'Copy every check, ping, flip, channel, delivery and the monitor''s secret from one database to another'
        }
        &'hb;help;db;copy'= {
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
