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
complete -c hb -n "__fish_hb_using_subcommand run" -l config -d 'Configuration file [default: hb/config.toml in the platform config dir]' -r -F
complete -c hb -n "__fish_hb_using_subcommand run" -s q -l quiet -d 'Print nothing of hb\'s own on stderr (the job\'s output still passes through)'
complete -c hb -n "__fish_hb_using_subcommand run" -l no-start -d 'Do not send the start signal'
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
complete -c hb -n "__fish_hb_using_subcommand serve" -l db -d 'SQLite database file [default: hb/hb.db in the platform data dir]' -r -F
complete -c hb -n "__fish_hb_using_subcommand serve" -l base-url -d 'Public URL used in ping_url and alert links [default: http:// + the request\'s Host]' -r
complete -c hb -n "__fish_hb_using_subcommand serve" -l ping-key -d 'The key in slug ping URLs (/api/v1/ping/{key}/{slug})' -r
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
complete -c hb -n "__fish_hb_using_subcommand completions" -l config -d 'Configuration file [default: hb/config.toml in the platform config dir]' -r -F
complete -c hb -n "__fish_hb_using_subcommand completions" -s h -l help -d 'Print help'
complete -c hb -n "__fish_hb_using_subcommand completions" -s V -l version -d 'Print version'
complete -c hb -n "__fish_hb_using_subcommand man" -l config -d 'Configuration file [default: hb/config.toml in the platform config dir]' -r -F
complete -c hb -n "__fish_hb_using_subcommand man" -s h -l help -d 'Print help'
complete -c hb -n "__fish_hb_using_subcommand man" -s V -l version -d 'Print version'
complete -c hb -n "__fish_hb_using_subcommand help; and not __fish_seen_subcommand_from run ping schedule serve discover completions man help" -f -a "run" -d 'Run a command and report its start, exit code, duration and output'
complete -c hb -n "__fish_hb_using_subcommand help; and not __fish_seen_subcommand_from run ping schedule serve discover completions man help" -f -a "ping" -d 'Send one ping (success, start, fail, log or an exit code)'
complete -c hb -n "__fish_hb_using_subcommand help; and not __fish_seen_subcommand_from run ping schedule serve discover completions man help" -f -a "schedule" -d 'Print the next due times of a cron expression, an interval or a systemd calendar event'
complete -c hb -n "__fish_hb_using_subcommand help; and not __fish_seen_subcommand_from run ping schedule serve discover completions man help" -f -a "serve" -d 'Run the monitor: ping endpoints, schedules, alerts and the management API'
complete -c hb -n "__fish_hb_using_subcommand help; and not __fish_seen_subcommand_from run ping schedule serve discover completions man help" -f -a "discover" -d 'Find cron jobs and systemd timers, propose a check for each and wrap them in hb run'
complete -c hb -n "__fish_hb_using_subcommand help; and not __fish_seen_subcommand_from run ping schedule serve discover completions man help" -f -a "completions" -d 'Print a shell completion script'
complete -c hb -n "__fish_hb_using_subcommand help; and not __fish_seen_subcommand_from run ping schedule serve discover completions man help" -f -a "man" -d 'Print the man page, or write a page per subcommand into DIR'
complete -c hb -n "__fish_hb_using_subcommand help; and not __fish_seen_subcommand_from run ping schedule serve discover completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
