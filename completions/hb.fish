# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_hb_global_optspecs
    string join \n config= h/help V/version
end

function __fish_hb_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_hb_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_hb_using_subcommand
    set -l cmd (__fish_hb_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c hb -n "__fish_hb_needs_command" -l config -d 'Configuration file [default: hb/config.toml in the platform config dir]' -r -F
complete -c hb -n "__fish_hb_needs_command" -s h -l help -d 'Print help'
complete -c hb -n "__fish_hb_needs_command" -s V -l version -d 'Print version'
complete -c hb -n "__fish_hb_needs_command" -f -a "run" -d 'Run a command and report its start, exit code, duration and output'
complete -c hb -n "__fish_hb_needs_command" -f -a "ping" -d 'Send one ping (success, start, fail, log or an exit code)'
complete -c hb -n "__fish_hb_needs_command" -f -a "schedule" -d 'Print the next due times of a cron expression, an interval or a systemd calendar event'
complete -c hb -n "__fish_hb_needs_command" -f -a "serve" -d 'Run the monitor: ping endpoints, schedules, alerts and the management API'
complete -c hb -n "__fish_hb_needs_command" -f -a "discover" -d 'Find cron jobs and systemd timers, propose a check for each and wrap them in hb run'
complete -c hb -n "__fish_hb_needs_command" -f -a "checks" -d 'List, show, add, change, pause, resume and delete checks on the monitor'
complete -c hb -n "__fish_hb_needs_command" -f -a "channels" -d 'List the monitor\'s alert channels, or send a test alert'
complete -c hb -n "__fish_hb_needs_command" -f -a "status" -d 'One screen: how many checks are in each status, then each check that is not up'
complete -c hb -n "__fish_hb_needs_command" -f -a "config" -d 'Config as code, both ways: export the monitor\'s checks and channels, check a file, plan it'
complete -c hb -n "__fish_hb_needs_command" -f -a "db" -d 'The monitor\'s database: copy it between SQLite and PostgreSQL'
complete -c hb -n "__fish_hb_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c hb -n "__fish_hb_needs_command" -f -a "man" -d 'Print the man page, or write a page per subcommand into DIR'
complete -c hb -n "__fish_hb_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hb -n "__fish_hb_using_subcommand run" -l server -d 'The monitor\'s base URL, for IDs that are UUIDs or slugs [default: http://localhost:8080]' -r
complete -c hb -n "__fish_hb_using_subcommand run" -l ping-key -d 'The ping key used in slug URLs ({server}/api/v1/ping/{key}/{slug})' -r
complete -c hb -n "__fish_hb_using_subcommand run" -l retries -d 'Tries after the first one, for errors worth retrying' -r
complete -c hb -n "__fish_hb_using_subcommand run" -l ping-timeout -d 'Time limit of one try (at least 100ms)' -r
complete -c hb -n "__fish_hb_using_subcommand run" -l ping-budget -d 'Total time all pings of one run may take, retries included' -r
complete -c hb -n "__fish_hb_using_subcommand run" -s H -l header -d 'Extra request header, \'Name: value\' (repeatable)' -r
complete -c hb -n "__fish_hb_using_subcommand run" -l body-limit -d 'Bytes of output (the tail of stdout and stderr) sent with the end ping' -r
complete -c hb -n "__fish_hb_using_subcommand run" -l timeout -d 'Stop the job (SIGTERM to its process group) when it runs longer (at least 1s); counts as exit code 124' -r
complete -c hb -n "__fish_hb_using_subcommand run" -l kill-after -d 'After the timeout\'s SIGTERM, wait this long before SIGKILL (0s: at once)' -r
complete -c hb -n "__fish_hb_using_subcommand run" -l every -d 'Run the command again and again, start to start (at least 1s apart), reporting each run' -r
complete -c hb -n "__fish_hb_using_subcommand run" -l interval -d 'The new check\'s interval [default: 1d]' -r
complete -c hb -n "__fish_hb_using_subcommand run" -l cron -d 'The new check\'s cron line, instead' -r
complete -c hb -n "__fish_hb_using_subcommand run" -l oncalendar -d 'The new check\'s systemd OnCalendar= expression, instead' -r
complete -c hb -n "__fish_hb_using_subcommand run" -l tz -d 'The time zone of --cron or --oncalendar [default: UTC]' -r
complete -c hb -n "__fish_hb_using_subcommand run" -l grace -d 'The new check\'s grace period' -r
complete -c hb -n "__fish_hb_using_subcommand run" -l config -d 'Configuration file [default: hb/config.toml in the platform config dir]' -r -F
complete -c hb -n "__fish_hb_using_subcommand run" -s q -l quiet -d 'Print nothing of hb\'s own on stderr (the job\'s output still passes through)'
complete -c hb -n "__fish_hb_using_subcommand run" -l no-start -d 'Do not send the start signal'
complete -c hb -n "__fish_hb_using_subcommand run" -l create -d 'Ask the monitor to create the check (named by its slug) if it does not exist'
complete -c hb -n "__fish_hb_using_subcommand run" -s h -l help -d 'Print help'
complete -c hb -n "__fish_hb_using_subcommand run" -s V -l version -d 'Print version'
complete -c hb -n "__fish_hb_using_subcommand ping" -l data -d 'Body to send: TEXT, @FILE, or - for stdin' -r
complete -c hb -n "__fish_hb_using_subcommand ping" -l server -d 'The monitor\'s base URL, for IDs that are UUIDs or slugs [default: http://localhost:8080]' -r
complete -c hb -n "__fish_hb_using_subcommand ping" -l ping-key -d 'The ping key used in slug URLs ({server}/api/v1/ping/{key}/{slug})' -r
complete -c hb -n "__fish_hb_using_subcommand ping" -l retries -d 'Tries after the first one, for errors worth retrying' -r
complete -c hb -n "__fish_hb_using_subcommand ping" -l ping-timeout -d 'Time limit of one try (at least 100ms)' -r
complete -c hb -n "__fish_hb_using_subcommand ping" -l ping-budget -d 'Total time all pings of one run may take, retries included' -r
complete -c hb -n "__fish_hb_using_subcommand ping" -s H -l header -d 'Extra request header, \'Name: value\' (repeatable)' -r
complete -c hb -n "__fish_hb_using_subcommand ping" -l config -d 'Configuration file [default: hb/config.toml in the platform config dir]' -r -F
complete -c hb -n "__fish_hb_using_subcommand ping" -s q -l quiet -d 'Print nothing of hb\'s own on stderr (the job\'s output still passes through)'
complete -c hb -n "__fish_hb_using_subcommand ping" -s h -l help -d 'Print help'
complete -c hb -n "__fish_hb_using_subcommand ping" -s V -l version -d 'Print version'
complete -c hb -n "__fish_hb_using_subcommand schedule" -l oncalendar -d 'A systemd calendar event instead ("Mon..Fri *-*-* 02:00:00"); repeatable, due at any' -r
complete -c hb -n "__fish_hb_using_subcommand schedule" -l tz -d 'IANA time zone the cron expression or calendar event is read in' -r
complete -c hb -n "__fish_hb_using_subcommand schedule" -l count -d 'How many due times to print' -r
complete -c hb -n "__fish_hb_using_subcommand schedule" -l after -d 'Print due times strictly after this RFC 3339 time [default: now]' -r
complete -c hb -n "__fish_hb_using_subcommand schedule" -l config -d 'Configuration file [default: hb/config.toml in the platform config dir]' -r -F
complete -c hb -n "__fish_hb_using_subcommand schedule" -s h -l help -d 'Print help'
complete -c hb -n "__fish_hb_using_subcommand schedule" -s V -l version -d 'Print version'
complete -c hb -n "__fish_hb_using_subcommand serve" -l listen -d 'Address to listen on [default: 127.0.0.1:8080]' -r
complete -c hb -n "__fish_hb_using_subcommand serve" -l db -d 'SQLite database file, or postgres://USER@HOST/DB [default: hb/hb.db in the platform data dir]' -r -F
complete -c hb -n "__fish_hb_using_subcommand serve" -l base-url -d 'Public URL used in ping_url and alert links [default: http:// + the request\'s Host]' -r
complete -c hb -n "__fish_hb_using_subcommand serve" -l ping-key -d 'The key in slug ping URLs (/api/v1/ping/{key}/{slug})' -r
complete -c hb -n "__fish_hb_using_subcommand serve" -l log-format -d 'How log lines on stderr are written: text for people, json (one object a line) for machines' -r -f -a "text\t''
json\t''"
complete -c hb -n "__fish_hb_using_subcommand serve" -l config -d 'Configuration file [default: hb/config.toml in the platform config dir]' -r -F
complete -c hb -n "__fish_hb_using_subcommand serve" -l insecure -d 'Allow listening on a non-loopback address without an API key'
complete -c hb -n "__fish_hb_using_subcommand serve" -s h -l help -d 'Print help'
complete -c hb -n "__fish_hb_using_subcommand serve" -s V -l version -d 'Print version'
complete -c hb -n "__fish_hb_using_subcommand discover" -l crontab -d 'Read this user-format crontab file instead of the invoking user\'s (repeatable)' -r -F
complete -c hb -n "__fish_hb_using_subcommand discover" -l root -d 'Read the system paths under DIR (an image); the invoking user\'s crontab is then not read' -r -F
complete -c hb -n "__fish_hb_using_subcommand discover" -l server -d 'The monitor\'s base URL, for --apply [default: http://localhost:8080]' -r
complete -c hb -n "__fish_hb_using_subcommand discover" -l api-key -d 'The management API key, for --apply' -r
complete -c hb -n "__fish_hb_using_subcommand discover" -l config -d 'Configuration file [default: hb/config.toml in the platform config dir]' -r -F
complete -c hb -n "__fish_hb_using_subcommand discover" -l system -d 'Also read /etc/crontab and /etc/cron.d/* (with their user column)'
complete -c hb -n "__fish_hb_using_subcommand discover" -l systemd -d 'Also read systemd timer units (OnCalendar=) from /etc, /run, /usr/lib and /lib'
complete -c hb -n "__fish_hb_using_subcommand discover" -l apply -d 'Create the checks through the API, then back up and rewrite the crontabs'
complete -c hb -n "__fish_hb_using_subcommand discover" -s h -l help -d 'Print help'
complete -c hb -n "__fish_hb_using_subcommand discover" -s V -l version -d 'Print version'
complete -c hb -n "__fish_hb_using_subcommand checks; and not __fish_seen_subcommand_from list show add edit pause resume rm help" -l status -d 'Only checks with this status' -r -f -a "new\t''
up\t''
late\t''
down\t''
running\t''
paused\t''"
complete -c hb -n "__fish_hb_using_subcommand checks; and not __fish_seen_subcommand_from list show add edit pause resume rm help" -l tag -d 'Only checks with this tag' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and not __fish_seen_subcommand_from list show add edit pause resume rm help" -l server -d 'The monitor\'s base URL [default: server in the config file, else http://localhost:8080]' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and not __fish_seen_subcommand_from list show add edit pause resume rm help" -l api-key -d 'The API key sent as \'Authorization: Bearer KEY\' [default: api_key in the config file]' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and not __fish_seen_subcommand_from list show add edit pause resume rm help" -l config -d 'Configuration file [default: hb/config.toml in the platform config dir]' -r -F
complete -c hb -n "__fish_hb_using_subcommand checks; and not __fish_seen_subcommand_from list show add edit pause resume rm help" -l json -d 'Print the API\'s JSON instead of a table'
complete -c hb -n "__fish_hb_using_subcommand checks; and not __fish_seen_subcommand_from list show add edit pause resume rm help" -s h -l help -d 'Print help'
complete -c hb -n "__fish_hb_using_subcommand checks; and not __fish_seen_subcommand_from list show add edit pause resume rm help" -s V -l version -d 'Print version'
complete -c hb -n "__fish_hb_using_subcommand checks; and not __fish_seen_subcommand_from list show add edit pause resume rm help" -f -a "list" -d 'List checks (the default)'
complete -c hb -n "__fish_hb_using_subcommand checks; and not __fish_seen_subcommand_from list show add edit pause resume rm help" -f -a "show" -d 'Show one check'
complete -c hb -n "__fish_hb_using_subcommand checks; and not __fish_seen_subcommand_from list show add edit pause resume rm help" -f -a "add" -d 'Create a check; prints its uuid'
complete -c hb -n "__fish_hb_using_subcommand checks; and not __fish_seen_subcommand_from list show add edit pause resume rm help" -f -a "edit" -d 'Change a check: each flag given replaces that setting'
complete -c hb -n "__fish_hb_using_subcommand checks; and not __fish_seen_subcommand_from list show add edit pause resume rm help" -f -a "pause" -d 'Pause a check: no alerts until it is pinged or resumed'
complete -c hb -n "__fish_hb_using_subcommand checks; and not __fish_seen_subcommand_from list show add edit pause resume rm help" -f -a "resume" -d 'Resume a paused check (it becomes new)'
complete -c hb -n "__fish_hb_using_subcommand checks; and not __fish_seen_subcommand_from list show add edit pause resume rm help" -f -a "rm" -d 'Delete a check and its history'
complete -c hb -n "__fish_hb_using_subcommand checks; and not __fish_seen_subcommand_from list show add edit pause resume rm help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from list" -l status -d 'Only checks with this status' -r -f -a "new\t''
up\t''
late\t''
down\t''
running\t''
paused\t''"
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from list" -l tag -d 'Only checks with this tag' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from list" -l server -d 'The monitor\'s base URL [default: server in the config file, else http://localhost:8080]' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from list" -l api-key -d 'The API key sent as \'Authorization: Bearer KEY\' [default: api_key in the config file]' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from list" -l config -d 'Configuration file [default: hb/config.toml in the platform config dir]' -r -F
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from list" -l json -d 'Print the API\'s JSON instead of a table'
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from show" -l server -d 'The monitor\'s base URL [default: server in the config file, else http://localhost:8080]' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from show" -l api-key -d 'The API key sent as \'Authorization: Bearer KEY\' [default: api_key in the config file]' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from show" -l config -d 'Configuration file [default: hb/config.toml in the platform config dir]' -r -F
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from show" -l json -d 'Print the API\'s JSON'
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from add" -l interval -d 'Expect a ping every DURATION (e.g. 24h)' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from add" -l cron -d 'Expect a ping at the times of a cron line (e.g. "0 3 * * *")' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from add" -l oncalendar -d 'Expect a ping at the times of a systemd OnCalendar= expression' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from add" -l tz -d 'The IANA time zone of --cron or --oncalendar [default: UTC]' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from add" -l grace -d 'How long after the due time the check goes down [default: scales with the period]' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from add" -l max-runtime -d 'How long a started run may go on before it is stuck [default: the grace]' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from add" -l tag -d 'A tag (repeatable; given, they replace the check\'s tags)' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from add" -l channel -d 'A channel to alert (repeatable; given, they replace the check\'s channels) [default: every channel]' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from add" -l description -d 'What the check is about' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from add" -l owner -d 'Who to ask about it' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from add" -l server -d 'The monitor\'s base URL [default: server in the config file, else http://localhost:8080]' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from add" -l api-key -d 'The API key sent as \'Authorization: Bearer KEY\' [default: api_key in the config file]' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from add" -l config -d 'Configuration file [default: hb/config.toml in the platform config dir]' -r -F
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from add" -s V -l version -d 'Print version'
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from edit" -l name -d 'A new name' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from edit" -l interval -d 'Expect a ping every DURATION (e.g. 24h)' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from edit" -l cron -d 'Expect a ping at the times of a cron line (e.g. "0 3 * * *")' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from edit" -l oncalendar -d 'Expect a ping at the times of a systemd OnCalendar= expression' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from edit" -l tz -d 'The IANA time zone of --cron or --oncalendar [default: UTC]' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from edit" -l grace -d 'How long after the due time the check goes down [default: scales with the period]' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from edit" -l max-runtime -d 'How long a started run may go on before it is stuck [default: the grace]' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from edit" -l tag -d 'A tag (repeatable; given, they replace the check\'s tags)' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from edit" -l channel -d 'A channel to alert (repeatable; given, they replace the check\'s channels) [default: every channel]' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from edit" -l description -d 'What the check is about' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from edit" -l owner -d 'Who to ask about it' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from edit" -l server -d 'The monitor\'s base URL [default: server in the config file, else http://localhost:8080]' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from edit" -l api-key -d 'The API key sent as \'Authorization: Bearer KEY\' [default: api_key in the config file]' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from edit" -l config -d 'Configuration file [default: hb/config.toml in the platform config dir]' -r -F
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from edit" -s h -l help -d 'Print help'
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from edit" -s V -l version -d 'Print version'
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from pause" -l server -d 'The monitor\'s base URL [default: server in the config file, else http://localhost:8080]' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from pause" -l api-key -d 'The API key sent as \'Authorization: Bearer KEY\' [default: api_key in the config file]' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from pause" -l config -d 'Configuration file [default: hb/config.toml in the platform config dir]' -r -F
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from pause" -s h -l help -d 'Print help'
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from pause" -s V -l version -d 'Print version'
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from resume" -l server -d 'The monitor\'s base URL [default: server in the config file, else http://localhost:8080]' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from resume" -l api-key -d 'The API key sent as \'Authorization: Bearer KEY\' [default: api_key in the config file]' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from resume" -l config -d 'Configuration file [default: hb/config.toml in the platform config dir]' -r -F
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from resume" -s h -l help -d 'Print help'
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from resume" -s V -l version -d 'Print version'
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from rm" -l server -d 'The monitor\'s base URL [default: server in the config file, else http://localhost:8080]' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from rm" -l api-key -d 'The API key sent as \'Authorization: Bearer KEY\' [default: api_key in the config file]' -r
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from rm" -l config -d 'Configuration file [default: hb/config.toml in the platform config dir]' -r -F
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help'
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from rm" -s V -l version -d 'Print version'
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from help" -f -a "list" -d 'List checks (the default)'
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one check'
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from help" -f -a "add" -d 'Create a check; prints its uuid'
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from help" -f -a "edit" -d 'Change a check: each flag given replaces that setting'
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from help" -f -a "pause" -d 'Pause a check: no alerts until it is pinged or resumed'
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from help" -f -a "resume" -d 'Resume a paused check (it becomes new)'
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from help" -f -a "rm" -d 'Delete a check and its history'
complete -c hb -n "__fish_hb_using_subcommand checks; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hb -n "__fish_hb_using_subcommand channels; and not __fish_seen_subcommand_from list test help" -l server -d 'The monitor\'s base URL [default: server in the config file, else http://localhost:8080]' -r
complete -c hb -n "__fish_hb_using_subcommand channels; and not __fish_seen_subcommand_from list test help" -l api-key -d 'The API key sent as \'Authorization: Bearer KEY\' [default: api_key in the config file]' -r
complete -c hb -n "__fish_hb_using_subcommand channels; and not __fish_seen_subcommand_from list test help" -l config -d 'Configuration file [default: hb/config.toml in the platform config dir]' -r -F
complete -c hb -n "__fish_hb_using_subcommand channels; and not __fish_seen_subcommand_from list test help" -l json -d 'Print the API\'s JSON instead of a table'
complete -c hb -n "__fish_hb_using_subcommand channels; and not __fish_seen_subcommand_from list test help" -s h -l help -d 'Print help'
complete -c hb -n "__fish_hb_using_subcommand channels; and not __fish_seen_subcommand_from list test help" -s V -l version -d 'Print version'
complete -c hb -n "__fish_hb_using_subcommand channels; and not __fish_seen_subcommand_from list test help" -f -a "list" -d 'List channels (the default)'
complete -c hb -n "__fish_hb_using_subcommand channels; and not __fish_seen_subcommand_from list test help" -f -a "test" -d 'Send a test alert through a channel'
complete -c hb -n "__fish_hb_using_subcommand channels; and not __fish_seen_subcommand_from list test help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hb -n "__fish_hb_using_subcommand channels; and __fish_seen_subcommand_from list" -l server -d 'The monitor\'s base URL [default: server in the config file, else http://localhost:8080]' -r
complete -c hb -n "__fish_hb_using_subcommand channels; and __fish_seen_subcommand_from list" -l api-key -d 'The API key sent as \'Authorization: Bearer KEY\' [default: api_key in the config file]' -r
complete -c hb -n "__fish_hb_using_subcommand channels; and __fish_seen_subcommand_from list" -l config -d 'Configuration file [default: hb/config.toml in the platform config dir]' -r -F
complete -c hb -n "__fish_hb_using_subcommand channels; and __fish_seen_subcommand_from list" -l json -d 'Print the API\'s JSON instead of a table'
complete -c hb -n "__fish_hb_using_subcommand channels; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c hb -n "__fish_hb_using_subcommand channels; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c hb -n "__fish_hb_using_subcommand channels; and __fish_seen_subcommand_from test" -l server -d 'The monitor\'s base URL [default: server in the config file, else http://localhost:8080]' -r
complete -c hb -n "__fish_hb_using_subcommand channels; and __fish_seen_subcommand_from test" -l api-key -d 'The API key sent as \'Authorization: Bearer KEY\' [default: api_key in the config file]' -r
complete -c hb -n "__fish_hb_using_subcommand channels; and __fish_seen_subcommand_from test" -l config -d 'Configuration file [default: hb/config.toml in the platform config dir]' -r -F
complete -c hb -n "__fish_hb_using_subcommand channels; and __fish_seen_subcommand_from test" -s h -l help -d 'Print help'
complete -c hb -n "__fish_hb_using_subcommand channels; and __fish_seen_subcommand_from test" -s V -l version -d 'Print version'
complete -c hb -n "__fish_hb_using_subcommand channels; and __fish_seen_subcommand_from help" -f -a "list" -d 'List channels (the default)'
complete -c hb -n "__fish_hb_using_subcommand channels; and __fish_seen_subcommand_from help" -f -a "test" -d 'Send a test alert through a channel'
complete -c hb -n "__fish_hb_using_subcommand channels; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hb -n "__fish_hb_using_subcommand status" -l server -d 'The monitor\'s base URL [default: server in the config file, else http://localhost:8080]' -r
complete -c hb -n "__fish_hb_using_subcommand status" -l api-key -d 'The API key sent as \'Authorization: Bearer KEY\' [default: api_key in the config file]' -r
complete -c hb -n "__fish_hb_using_subcommand status" -l config -d 'Configuration file [default: hb/config.toml in the platform config dir]' -r -F
complete -c hb -n "__fish_hb_using_subcommand status" -l json -d 'Print JSON: the counts and the checks that are not up'
complete -c hb -n "__fish_hb_using_subcommand status" -s h -l help -d 'Print help'
complete -c hb -n "__fish_hb_using_subcommand status" -s V -l version -d 'Print version'
complete -c hb -n "__fish_hb_using_subcommand config; and not __fish_seen_subcommand_from export check plan help" -l server -d 'The monitor\'s base URL [default: server in the config file, else http://localhost:8080]' -r
complete -c hb -n "__fish_hb_using_subcommand config; and not __fish_seen_subcommand_from export check plan help" -l api-key -d 'The API key sent as \'Authorization: Bearer KEY\' [default: api_key in the config file]' -r
complete -c hb -n "__fish_hb_using_subcommand config; and not __fish_seen_subcommand_from export check plan help" -l config -d 'Configuration file [default: hb/config.toml in the platform config dir]' -r -F
complete -c hb -n "__fish_hb_using_subcommand config; and not __fish_seen_subcommand_from export check plan help" -s h -l help -d 'Print help'
complete -c hb -n "__fish_hb_using_subcommand config; and not __fish_seen_subcommand_from export check plan help" -s V -l version -d 'Print version'
complete -c hb -n "__fish_hb_using_subcommand config; and not __fish_seen_subcommand_from export check plan help" -f -a "export" -d 'Print the monitor\'s checks and channels as a config file (TOML)'
complete -c hb -n "__fish_hb_using_subcommand config; and not __fish_seen_subcommand_from export check plan help" -f -a "check" -d 'Validate a config file: exit 0, or 2 with FILE:LINE: problem'
complete -c hb -n "__fish_hb_using_subcommand config; and not __fish_seen_subcommand_from export check plan help" -f -a "plan" -d 'Print what loading a config file would create, change and unmanage on the monitor (nothing is changed)'
complete -c hb -n "__fish_hb_using_subcommand config; and not __fish_seen_subcommand_from export check plan help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hb -n "__fish_hb_using_subcommand config; and __fish_seen_subcommand_from export" -l server -d 'The monitor\'s base URL [default: server in the config file, else http://localhost:8080]' -r
complete -c hb -n "__fish_hb_using_subcommand config; and __fish_seen_subcommand_from export" -l api-key -d 'The API key sent as \'Authorization: Bearer KEY\' [default: api_key in the config file]' -r
complete -c hb -n "__fish_hb_using_subcommand config; and __fish_seen_subcommand_from export" -l config -d 'Configuration file [default: hb/config.toml in the platform config dir]' -r -F
complete -c hb -n "__fish_hb_using_subcommand config; and __fish_seen_subcommand_from export" -l with-secrets -d 'Write secrets (tokens, keys, passwords) instead of "••••"; needs a full API key'
complete -c hb -n "__fish_hb_using_subcommand config; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help'
complete -c hb -n "__fish_hb_using_subcommand config; and __fish_seen_subcommand_from export" -s V -l version -d 'Print version'
complete -c hb -n "__fish_hb_using_subcommand config; and __fish_seen_subcommand_from check" -l server -d 'The monitor\'s base URL [default: server in the config file, else http://localhost:8080]' -r
complete -c hb -n "__fish_hb_using_subcommand config; and __fish_seen_subcommand_from check" -l api-key -d 'The API key sent as \'Authorization: Bearer KEY\' [default: api_key in the config file]' -r
complete -c hb -n "__fish_hb_using_subcommand config; and __fish_seen_subcommand_from check" -l config -d 'Configuration file [default: hb/config.toml in the platform config dir]' -r -F
complete -c hb -n "__fish_hb_using_subcommand config; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c hb -n "__fish_hb_using_subcommand config; and __fish_seen_subcommand_from check" -s V -l version -d 'Print version'
complete -c hb -n "__fish_hb_using_subcommand config; and __fish_seen_subcommand_from plan" -l server -d 'The monitor\'s base URL [default: server in the config file, else http://localhost:8080]' -r
complete -c hb -n "__fish_hb_using_subcommand config; and __fish_seen_subcommand_from plan" -l api-key -d 'The API key sent as \'Authorization: Bearer KEY\' [default: api_key in the config file]' -r
complete -c hb -n "__fish_hb_using_subcommand config; and __fish_seen_subcommand_from plan" -l config -d 'Configuration file [default: hb/config.toml in the platform config dir]' -r -F
complete -c hb -n "__fish_hb_using_subcommand config; and __fish_seen_subcommand_from plan" -l json -d 'Print the API\'s JSON'
complete -c hb -n "__fish_hb_using_subcommand config; and __fish_seen_subcommand_from plan" -s h -l help -d 'Print help'
complete -c hb -n "__fish_hb_using_subcommand config; and __fish_seen_subcommand_from plan" -s V -l version -d 'Print version'
complete -c hb -n "__fish_hb_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "export" -d 'Print the monitor\'s checks and channels as a config file (TOML)'
complete -c hb -n "__fish_hb_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "check" -d 'Validate a config file: exit 0, or 2 with FILE:LINE: problem'
complete -c hb -n "__fish_hb_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "plan" -d 'Print what loading a config file would create, change and unmanage on the monitor (nothing is changed)'
complete -c hb -n "__fish_hb_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hb -n "__fish_hb_using_subcommand db; and not __fish_seen_subcommand_from copy help" -l config -d 'Configuration file [default: hb/config.toml in the platform config dir]' -r -F
complete -c hb -n "__fish_hb_using_subcommand db; and not __fish_seen_subcommand_from copy help" -s h -l help -d 'Print help'
complete -c hb -n "__fish_hb_using_subcommand db; and not __fish_seen_subcommand_from copy help" -s V -l version -d 'Print version'
complete -c hb -n "__fish_hb_using_subcommand db; and not __fish_seen_subcommand_from copy help" -f -a "copy" -d 'Copy every check, ping, flip, channel, delivery and the monitor\'s secret from one database to another'
complete -c hb -n "__fish_hb_using_subcommand db; and not __fish_seen_subcommand_from copy help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hb -n "__fish_hb_using_subcommand db; and __fish_seen_subcommand_from copy" -l config -d 'Configuration file [default: hb/config.toml in the platform config dir]' -r -F
complete -c hb -n "__fish_hb_using_subcommand db; and __fish_seen_subcommand_from copy" -s h -l help -d 'Print help'
complete -c hb -n "__fish_hb_using_subcommand db; and __fish_seen_subcommand_from copy" -s V -l version -d 'Print version'
complete -c hb -n "__fish_hb_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "copy" -d 'Copy every check, ping, flip, channel, delivery and the monitor\'s secret from one database to another'
complete -c hb -n "__fish_hb_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hb -n "__fish_hb_using_subcommand completions" -l config -d 'Configuration file [default: hb/config.toml in the platform config dir]' -r -F
complete -c hb -n "__fish_hb_using_subcommand completions" -s h -l help -d 'Print help'
complete -c hb -n "__fish_hb_using_subcommand completions" -s V -l version -d 'Print version'
complete -c hb -n "__fish_hb_using_subcommand man" -l config -d 'Configuration file [default: hb/config.toml in the platform config dir]' -r -F
complete -c hb -n "__fish_hb_using_subcommand man" -s h -l help -d 'Print help'
complete -c hb -n "__fish_hb_using_subcommand man" -s V -l version -d 'Print version'
complete -c hb -n "__fish_hb_using_subcommand help; and not __fish_seen_subcommand_from run ping schedule serve discover checks channels status config db completions man help" -f -a "run" -d 'Run a command and report its start, exit code, duration and output'
complete -c hb -n "__fish_hb_using_subcommand help; and not __fish_seen_subcommand_from run ping schedule serve discover checks channels status config db completions man help" -f -a "ping" -d 'Send one ping (success, start, fail, log or an exit code)'
complete -c hb -n "__fish_hb_using_subcommand help; and not __fish_seen_subcommand_from run ping schedule serve discover checks channels status config db completions man help" -f -a "schedule" -d 'Print the next due times of a cron expression, an interval or a systemd calendar event'
complete -c hb -n "__fish_hb_using_subcommand help; and not __fish_seen_subcommand_from run ping schedule serve discover checks channels status config db completions man help" -f -a "serve" -d 'Run the monitor: ping endpoints, schedules, alerts and the management API'
complete -c hb -n "__fish_hb_using_subcommand help; and not __fish_seen_subcommand_from run ping schedule serve discover checks channels status config db completions man help" -f -a "discover" -d 'Find cron jobs and systemd timers, propose a check for each and wrap them in hb run'
complete -c hb -n "__fish_hb_using_subcommand help; and not __fish_seen_subcommand_from run ping schedule serve discover checks channels status config db completions man help" -f -a "checks" -d 'List, show, add, change, pause, resume and delete checks on the monitor'
complete -c hb -n "__fish_hb_using_subcommand help; and not __fish_seen_subcommand_from run ping schedule serve discover checks channels status config db completions man help" -f -a "channels" -d 'List the monitor\'s alert channels, or send a test alert'
complete -c hb -n "__fish_hb_using_subcommand help; and not __fish_seen_subcommand_from run ping schedule serve discover checks channels status config db completions man help" -f -a "status" -d 'One screen: how many checks are in each status, then each check that is not up'
complete -c hb -n "__fish_hb_using_subcommand help; and not __fish_seen_subcommand_from run ping schedule serve discover checks channels status config db completions man help" -f -a "config" -d 'Config as code, both ways: export the monitor\'s checks and channels, check a file, plan it'
complete -c hb -n "__fish_hb_using_subcommand help; and not __fish_seen_subcommand_from run ping schedule serve discover checks channels status config db completions man help" -f -a "db" -d 'The monitor\'s database: copy it between SQLite and PostgreSQL'
complete -c hb -n "__fish_hb_using_subcommand help; and not __fish_seen_subcommand_from run ping schedule serve discover checks channels status config db completions man help" -f -a "completions" -d 'Print a shell completion script'
complete -c hb -n "__fish_hb_using_subcommand help; and not __fish_seen_subcommand_from run ping schedule serve discover checks channels status config db completions man help" -f -a "man" -d 'Print the man page, or write a page per subcommand into DIR'
complete -c hb -n "__fish_hb_using_subcommand help; and not __fish_seen_subcommand_from run ping schedule serve discover checks channels status config db completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hb -n "__fish_hb_using_subcommand help; and __fish_seen_subcommand_from checks" -f -a "list" -d 'List checks (the default)'
complete -c hb -n "__fish_hb_using_subcommand help; and __fish_seen_subcommand_from checks" -f -a "show" -d 'Show one check'
complete -c hb -n "__fish_hb_using_subcommand help; and __fish_seen_subcommand_from checks" -f -a "add" -d 'Create a check; prints its uuid'
complete -c hb -n "__fish_hb_using_subcommand help; and __fish_seen_subcommand_from checks" -f -a "edit" -d 'Change a check: each flag given replaces that setting'
complete -c hb -n "__fish_hb_using_subcommand help; and __fish_seen_subcommand_from checks" -f -a "pause" -d 'Pause a check: no alerts until it is pinged or resumed'
complete -c hb -n "__fish_hb_using_subcommand help; and __fish_seen_subcommand_from checks" -f -a "resume" -d 'Resume a paused check (it becomes new)'
complete -c hb -n "__fish_hb_using_subcommand help; and __fish_seen_subcommand_from checks" -f -a "rm" -d 'Delete a check and its history'
complete -c hb -n "__fish_hb_using_subcommand help; and __fish_seen_subcommand_from channels" -f -a "list" -d 'List channels (the default)'
complete -c hb -n "__fish_hb_using_subcommand help; and __fish_seen_subcommand_from channels" -f -a "test" -d 'Send a test alert through a channel'
complete -c hb -n "__fish_hb_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "export" -d 'Print the monitor\'s checks and channels as a config file (TOML)'
complete -c hb -n "__fish_hb_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "check" -d 'Validate a config file: exit 0, or 2 with FILE:LINE: problem'
complete -c hb -n "__fish_hb_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "plan" -d 'Print what loading a config file would create, change and unmanage on the monitor (nothing is changed)'
complete -c hb -n "__fish_hb_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "copy" -d 'Copy every check, ping, flip, channel, delivery and the monitor\'s secret from one database to another'
