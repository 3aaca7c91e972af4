
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'hb' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'hb'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'hb' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: hb/config.toml in the platform config dir]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run a command and report its start, exit code, duration and output')
            [CompletionResult]::new('ping', 'ping', [CompletionResultType]::ParameterValue, 'Send one ping (success, start, fail, log or an exit code)')
            [CompletionResult]::new('schedule', 'schedule', [CompletionResultType]::ParameterValue, 'Print the next due times of a cron expression, an interval or a systemd calendar event')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run the monitor: ping endpoints, schedules, alerts and the management API')
            [CompletionResult]::new('discover', 'discover', [CompletionResultType]::ParameterValue, 'Find cron jobs and systemd timers, propose a check for each and wrap them in hb run')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page, or write a page per subcommand into DIR')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hb;run' {
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The monitor''s base URL, for IDs that are UUIDs or slugs [default: http://localhost:8080]')
            [CompletionResult]::new('--ping-key', '--ping-key', [CompletionResultType]::ParameterName, 'The ping key used in slug URLs ({server}/api/v1/ping/{key}/{slug})')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Tries after the first one, for errors worth retrying')
            [CompletionResult]::new('--ping-timeout', '--ping-timeout', [CompletionResultType]::ParameterName, 'Time limit of one try (at least 100ms)')
            [CompletionResult]::new('--ping-budget', '--ping-budget', [CompletionResultType]::ParameterName, 'Total time all pings of one run may take, retries included')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Extra request header, ''Name: value'' (repeatable)')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Extra request header, ''Name: value'' (repeatable)')
            [CompletionResult]::new('--body-limit', '--body-limit', [CompletionResultType]::ParameterName, 'Bytes of output (the tail of stdout and stderr) sent with the end ping')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Stop the job (SIGTERM to its process group) when it runs longer (at least 1s); counts as exit code 124')
            [CompletionResult]::new('--kill-after', '--kill-after', [CompletionResultType]::ParameterName, 'After the timeout''s SIGTERM, wait this long before SIGKILL (0s: at once)')
            [CompletionResult]::new('--every', '--every', [CompletionResultType]::ParameterName, 'Run the command again and again, start to start (at least 1s apart), reporting each run')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: hb/config.toml in the platform config dir]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing of hb''s own on stderr (the job''s output still passes through)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing of hb''s own on stderr (the job''s output still passes through)')
            [CompletionResult]::new('--no-start', '--no-start', [CompletionResultType]::ParameterName, 'Do not send the start signal')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hb;ping' {
            [CompletionResult]::new('--data', '--data', [CompletionResultType]::ParameterName, 'Body to send: TEXT, @FILE, or - for stdin')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The monitor''s base URL, for IDs that are UUIDs or slugs [default: http://localhost:8080]')
            [CompletionResult]::new('--ping-key', '--ping-key', [CompletionResultType]::ParameterName, 'The ping key used in slug URLs ({server}/api/v1/ping/{key}/{slug})')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Tries after the first one, for errors worth retrying')
            [CompletionResult]::new('--ping-timeout', '--ping-timeout', [CompletionResultType]::ParameterName, 'Time limit of one try (at least 100ms)')
            [CompletionResult]::new('--ping-budget', '--ping-budget', [CompletionResultType]::ParameterName, 'Total time all pings of one run may take, retries included')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Extra request header, ''Name: value'' (repeatable)')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Extra request header, ''Name: value'' (repeatable)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: hb/config.toml in the platform config dir]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing of hb''s own on stderr (the job''s output still passes through)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing of hb''s own on stderr (the job''s output still passes through)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hb;schedule' {
            [CompletionResult]::new('--oncalendar', '--oncalendar', [CompletionResultType]::ParameterName, 'A systemd calendar event instead ("Mon..Fri *-*-* 02:00:00"); repeatable, due at any')
            [CompletionResult]::new('--tz', '--tz', [CompletionResultType]::ParameterName, 'IANA time zone the cron expression or calendar event is read in')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'How many due times to print')
            [CompletionResult]::new('--after', '--after', [CompletionResultType]::ParameterName, 'Print due times strictly after this RFC 3339 time [default: now]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: hb/config.toml in the platform config dir]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hb;serve' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address to listen on [default: 127.0.0.1:8080]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'SQLite database file [default: hb/hb.db in the platform data dir]')
            [CompletionResult]::new('--base-url', '--base-url', [CompletionResultType]::ParameterName, 'Public URL used in ping_url and alert links [default: http:// + the request''s Host]')
            [CompletionResult]::new('--ping-key', '--ping-key', [CompletionResultType]::ParameterName, 'The key in slug ping URLs (/api/v1/ping/{key}/{slug})')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: hb/config.toml in the platform config dir]')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Allow listening on a non-loopback address without an API key')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hb;discover' {
            [CompletionResult]::new('--crontab', '--crontab', [CompletionResultType]::ParameterName, 'Read this user-format crontab file instead of the invoking user''s (repeatable)')
            [CompletionResult]::new('--root', '--root', [CompletionResultType]::ParameterName, 'Read the system paths under DIR (an image); the invoking user''s crontab is then not read')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The monitor''s base URL, for --apply [default: http://localhost:8080]')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'The management API key, for --apply')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: hb/config.toml in the platform config dir]')
            [CompletionResult]::new('--system', '--system', [CompletionResultType]::ParameterName, 'Also read /etc/crontab and /etc/cron.d/* (with their user column)')
            [CompletionResult]::new('--systemd', '--systemd', [CompletionResultType]::ParameterName, 'Also read systemd timer units (OnCalendar=) from /etc, /run, /usr/lib and /lib')
            [CompletionResult]::new('--apply', '--apply', [CompletionResultType]::ParameterName, 'Create the checks through the API, then back up and rewrite the crontabs')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hb;completions' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: hb/config.toml in the platform config dir]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hb;man' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: hb/config.toml in the platform config dir]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hb;help' {
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run a command and report its start, exit code, duration and output')
            [CompletionResult]::new('ping', 'ping', [CompletionResultType]::ParameterValue, 'Send one ping (success, start, fail, log or an exit code)')
            [CompletionResult]::new('schedule', 'schedule', [CompletionResultType]::ParameterValue, 'Print the next due times of a cron expression, an interval or a systemd calendar event')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run the monitor: ping endpoints, schedules, alerts and the management API')
            [CompletionResult]::new('discover', 'discover', [CompletionResultType]::ParameterValue, 'Find cron jobs and systemd timers, propose a check for each and wrap them in hb run')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page, or write a page per subcommand into DIR')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hb;help;run' {
            break
        }
        'hb;help;ping' {
            break
        }
        'hb;help;schedule' {
            break
        }
        'hb;help;serve' {
            break
        }
        'hb;help;discover' {
            break
        }
        'hb;help;completions' {
            break
        }
        'hb;help;man' {
            break
        }
        'hb;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
