
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
            [CompletionResult]::new('checks', 'checks', [CompletionResultType]::ParameterValue, 'List, show, add, change, pause, resume and delete checks on the monitor')
            [CompletionResult]::new('channels', 'channels', [CompletionResultType]::ParameterValue, 'List the monitor''s alert channels, or send a test alert')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'One screen: how many checks are in each status, then each check that is not up')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Config as code, both ways: export the monitor''s checks and channels, check a file, plan it')
            [CompletionResult]::new('db', 'db', [CompletionResultType]::ParameterValue, 'The monitor''s database: copy it between SQLite and PostgreSQL')
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
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'The new check''s interval [default: 1d]')
            [CompletionResult]::new('--cron', '--cron', [CompletionResultType]::ParameterName, 'The new check''s cron line, instead')
            [CompletionResult]::new('--oncalendar', '--oncalendar', [CompletionResultType]::ParameterName, 'The new check''s systemd OnCalendar= expression, instead')
            [CompletionResult]::new('--tz', '--tz', [CompletionResultType]::ParameterName, 'The time zone of --cron or --oncalendar [default: UTC]')
            [CompletionResult]::new('--grace', '--grace', [CompletionResultType]::ParameterName, 'The new check''s grace period')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: hb/config.toml in the platform config dir]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing of hb''s own on stderr (the job''s output still passes through)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing of hb''s own on stderr (the job''s output still passes through)')
            [CompletionResult]::new('--no-start', '--no-start', [CompletionResultType]::ParameterName, 'Do not send the start signal')
            [CompletionResult]::new('--create', '--create', [CompletionResultType]::ParameterName, 'Ask the monitor to create the check (named by its slug) if it does not exist')
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
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'SQLite database file, or postgres://USER@HOST/DB [default: hb/hb.db in the platform data dir]')
            [CompletionResult]::new('--base-url', '--base-url', [CompletionResultType]::ParameterName, 'Public URL used in ping_url and alert links [default: http:// + the request''s Host]')
            [CompletionResult]::new('--ping-key', '--ping-key', [CompletionResultType]::ParameterName, 'The key in slug ping URLs (/api/v1/ping/{key}/{slug})')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'How log lines on stderr are written: text for people, json (one object a line) for machines')
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
        'hb;checks' {
            [CompletionResult]::new('--status', '--status', [CompletionResultType]::ParameterName, 'Only checks with this status')
            [CompletionResult]::new('--tag', '--tag', [CompletionResultType]::ParameterName, 'Only checks with this tag')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The monitor''s base URL [default: server in the config file, else http://localhost:8080]')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'The API key sent as ''Authorization: Bearer KEY'' [default: api_key in the config file]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: hb/config.toml in the platform config dir]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the API''s JSON instead of a table')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List checks (the default)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one check')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Create a check; prints its uuid')
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Change a check: each flag given replaces that setting')
            [CompletionResult]::new('pause', 'pause', [CompletionResultType]::ParameterValue, 'Pause a check: no alerts until it is pinged or resumed')
            [CompletionResult]::new('resume', 'resume', [CompletionResultType]::ParameterValue, 'Resume a paused check (it becomes new)')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Delete a check and its history')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hb;checks;list' {
            [CompletionResult]::new('--status', '--status', [CompletionResultType]::ParameterName, 'Only checks with this status')
            [CompletionResult]::new('--tag', '--tag', [CompletionResultType]::ParameterName, 'Only checks with this tag')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The monitor''s base URL [default: server in the config file, else http://localhost:8080]')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'The API key sent as ''Authorization: Bearer KEY'' [default: api_key in the config file]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: hb/config.toml in the platform config dir]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the API''s JSON instead of a table')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hb;checks;show' {
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The monitor''s base URL [default: server in the config file, else http://localhost:8080]')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'The API key sent as ''Authorization: Bearer KEY'' [default: api_key in the config file]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: hb/config.toml in the platform config dir]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the API''s JSON')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hb;checks;add' {
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Expect a ping every DURATION (e.g. 24h)')
            [CompletionResult]::new('--cron', '--cron', [CompletionResultType]::ParameterName, 'Expect a ping at the times of a cron line (e.g. "0 3 * * *")')
            [CompletionResult]::new('--oncalendar', '--oncalendar', [CompletionResultType]::ParameterName, 'Expect a ping at the times of a systemd OnCalendar= expression')
            [CompletionResult]::new('--tz', '--tz', [CompletionResultType]::ParameterName, 'The IANA time zone of --cron or --oncalendar [default: UTC]')
            [CompletionResult]::new('--grace', '--grace', [CompletionResultType]::ParameterName, 'How long after the due time the check goes down [default: scales with the period]')
            [CompletionResult]::new('--max-runtime', '--max-runtime', [CompletionResultType]::ParameterName, 'How long a started run may go on before it is stuck [default: the grace]')
            [CompletionResult]::new('--tag', '--tag', [CompletionResultType]::ParameterName, 'A tag (repeatable; given, they replace the check''s tags)')
            [CompletionResult]::new('--channel', '--channel', [CompletionResultType]::ParameterName, 'A channel to alert (repeatable; given, they replace the check''s channels) [default: every channel]')
            [CompletionResult]::new('--description', '--description', [CompletionResultType]::ParameterName, 'What the check is about')
            [CompletionResult]::new('--owner', '--owner', [CompletionResultType]::ParameterName, 'Who to ask about it')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The monitor''s base URL [default: server in the config file, else http://localhost:8080]')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'The API key sent as ''Authorization: Bearer KEY'' [default: api_key in the config file]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: hb/config.toml in the platform config dir]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hb;checks;edit' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'A new name')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Expect a ping every DURATION (e.g. 24h)')
            [CompletionResult]::new('--cron', '--cron', [CompletionResultType]::ParameterName, 'Expect a ping at the times of a cron line (e.g. "0 3 * * *")')
            [CompletionResult]::new('--oncalendar', '--oncalendar', [CompletionResultType]::ParameterName, 'Expect a ping at the times of a systemd OnCalendar= expression')
            [CompletionResult]::new('--tz', '--tz', [CompletionResultType]::ParameterName, 'The IANA time zone of --cron or --oncalendar [default: UTC]')
            [CompletionResult]::new('--grace', '--grace', [CompletionResultType]::ParameterName, 'How long after the due time the check goes down [default: scales with the period]')
            [CompletionResult]::new('--max-runtime', '--max-runtime', [CompletionResultType]::ParameterName, 'How long a started run may go on before it is stuck [default: the grace]')
            [CompletionResult]::new('--tag', '--tag', [CompletionResultType]::ParameterName, 'A tag (repeatable; given, they replace the check''s tags)')
            [CompletionResult]::new('--channel', '--channel', [CompletionResultType]::ParameterName, 'A channel to alert (repeatable; given, they replace the check''s channels) [default: every channel]')
            [CompletionResult]::new('--description', '--description', [CompletionResultType]::ParameterName, 'What the check is about')
            [CompletionResult]::new('--owner', '--owner', [CompletionResultType]::ParameterName, 'Who to ask about it')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The monitor''s base URL [default: server in the config file, else http://localhost:8080]')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'The API key sent as ''Authorization: Bearer KEY'' [default: api_key in the config file]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: hb/config.toml in the platform config dir]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hb;checks;pause' {
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The monitor''s base URL [default: server in the config file, else http://localhost:8080]')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'The API key sent as ''Authorization: Bearer KEY'' [default: api_key in the config file]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: hb/config.toml in the platform config dir]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hb;checks;resume' {
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The monitor''s base URL [default: server in the config file, else http://localhost:8080]')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'The API key sent as ''Authorization: Bearer KEY'' [default: api_key in the config file]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: hb/config.toml in the platform config dir]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hb;checks;rm' {
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The monitor''s base URL [default: server in the config file, else http://localhost:8080]')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'The API key sent as ''Authorization: Bearer KEY'' [default: api_key in the config file]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: hb/config.toml in the platform config dir]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hb;checks;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List checks (the default)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one check')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Create a check; prints its uuid')
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Change a check: each flag given replaces that setting')
            [CompletionResult]::new('pause', 'pause', [CompletionResultType]::ParameterValue, 'Pause a check: no alerts until it is pinged or resumed')
            [CompletionResult]::new('resume', 'resume', [CompletionResultType]::ParameterValue, 'Resume a paused check (it becomes new)')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Delete a check and its history')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hb;checks;help;list' {
            break
        }
        'hb;checks;help;show' {
            break
        }
        'hb;checks;help;add' {
            break
        }
        'hb;checks;help;edit' {
            break
        }
        'hb;checks;help;pause' {
            break
        }
        'hb;checks;help;resume' {
            break
        }
        'hb;checks;help;rm' {
            break
        }
        'hb;checks;help;help' {
            break
        }
        'hb;channels' {
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The monitor''s base URL [default: server in the config file, else http://localhost:8080]')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'The API key sent as ''Authorization: Bearer KEY'' [default: api_key in the config file]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: hb/config.toml in the platform config dir]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the API''s JSON instead of a table')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List channels (the default)')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Send a test alert through a channel')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hb;channels;list' {
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The monitor''s base URL [default: server in the config file, else http://localhost:8080]')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'The API key sent as ''Authorization: Bearer KEY'' [default: api_key in the config file]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: hb/config.toml in the platform config dir]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the API''s JSON instead of a table')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hb;channels;test' {
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The monitor''s base URL [default: server in the config file, else http://localhost:8080]')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'The API key sent as ''Authorization: Bearer KEY'' [default: api_key in the config file]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: hb/config.toml in the platform config dir]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hb;channels;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List channels (the default)')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Send a test alert through a channel')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hb;channels;help;list' {
            break
        }
        'hb;channels;help;test' {
            break
        }
        'hb;channels;help;help' {
            break
        }
        'hb;status' {
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The monitor''s base URL [default: server in the config file, else http://localhost:8080]')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'The API key sent as ''Authorization: Bearer KEY'' [default: api_key in the config file]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: hb/config.toml in the platform config dir]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON: the counts and the checks that are not up')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hb;config' {
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The monitor''s base URL [default: server in the config file, else http://localhost:8080]')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'The API key sent as ''Authorization: Bearer KEY'' [default: api_key in the config file]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: hb/config.toml in the platform config dir]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Print the monitor''s checks and channels as a config file (TOML)')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Validate a config file: exit 0, or 2 with FILE:LINE: problem')
            [CompletionResult]::new('plan', 'plan', [CompletionResultType]::ParameterValue, 'Print what loading a config file would create, change and unmanage on the monitor (nothing is changed)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hb;config;export' {
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The monitor''s base URL [default: server in the config file, else http://localhost:8080]')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'The API key sent as ''Authorization: Bearer KEY'' [default: api_key in the config file]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: hb/config.toml in the platform config dir]')
            [CompletionResult]::new('--with-secrets', '--with-secrets', [CompletionResultType]::ParameterName, 'Write secrets (tokens, keys, passwords) instead of "••••"; needs a full API key')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hb;config;check' {
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The monitor''s base URL [default: server in the config file, else http://localhost:8080]')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'The API key sent as ''Authorization: Bearer KEY'' [default: api_key in the config file]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: hb/config.toml in the platform config dir]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hb;config;plan' {
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The monitor''s base URL [default: server in the config file, else http://localhost:8080]')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'The API key sent as ''Authorization: Bearer KEY'' [default: api_key in the config file]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: hb/config.toml in the platform config dir]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the API''s JSON')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hb;config;help' {
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Print the monitor''s checks and channels as a config file (TOML)')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Validate a config file: exit 0, or 2 with FILE:LINE: problem')
            [CompletionResult]::new('plan', 'plan', [CompletionResultType]::ParameterValue, 'Print what loading a config file would create, change and unmanage on the monitor (nothing is changed)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hb;config;help;export' {
            break
        }
        'hb;config;help;check' {
            break
        }
        'hb;config;help;plan' {
            break
        }
        'hb;config;help;help' {
            break
        }
        'hb;db' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: hb/config.toml in the platform config dir]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('copy', 'copy', [CompletionResultType]::ParameterValue, 'Copy every check, ping, flip, channel, delivery and the monitor''s secret from one database to another')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hb;db;copy' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: hb/config.toml in the platform config dir]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hb;db;help' {
            [CompletionResult]::new('copy', 'copy', [CompletionResultType]::ParameterValue, 'Copy every check, ping, flip, channel, delivery and the monitor''s secret from one database to another')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hb;db;help;copy' {
            break
        }
        'hb;db;help;help' {
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
            [CompletionResult]::new('checks', 'checks', [CompletionResultType]::ParameterValue, 'List, show, add, change, pause, resume and delete checks on the monitor')
            [CompletionResult]::new('channels', 'channels', [CompletionResultType]::ParameterValue, 'List the monitor''s alert channels, or send a test alert')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'One screen: how many checks are in each status, then each check that is not up')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Config as code, both ways: export the monitor''s checks and channels, check a file, plan it')
            [CompletionResult]::new('db', 'db', [CompletionResultType]::ParameterValue, 'The monitor''s database: copy it between SQLite and PostgreSQL')
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
        'hb;help;checks' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List checks (the default)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one check')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Create a check; prints its uuid')
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Change a check: each flag given replaces that setting')
            [CompletionResult]::new('pause', 'pause', [CompletionResultType]::ParameterValue, 'Pause a check: no alerts until it is pinged or resumed')
            [CompletionResult]::new('resume', 'resume', [CompletionResultType]::ParameterValue, 'Resume a paused check (it becomes new)')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Delete a check and its history')
            break
        }
        'hb;help;checks;list' {
            break
        }
        'hb;help;checks;show' {
            break
        }
        'hb;help;checks;add' {
            break
        }
        'hb;help;checks;edit' {
            break
        }
        'hb;help;checks;pause' {
            break
        }
        'hb;help;checks;resume' {
            break
        }
        'hb;help;checks;rm' {
            break
        }
        'hb;help;channels' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List channels (the default)')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Send a test alert through a channel')
            break
        }
        'hb;help;channels;list' {
            break
        }
        'hb;help;channels;test' {
            break
        }
        'hb;help;status' {
            break
        }
        'hb;help;config' {
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Print the monitor''s checks and channels as a config file (TOML)')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Validate a config file: exit 0, or 2 with FILE:LINE: problem')
            [CompletionResult]::new('plan', 'plan', [CompletionResultType]::ParameterValue, 'Print what loading a config file would create, change and unmanage on the monitor (nothing is changed)')
            break
        }
        'hb;help;config;export' {
            break
        }
        'hb;help;config;check' {
            break
        }
        'hb;help;config;plan' {
            break
        }
        'hb;help;db' {
            [CompletionResult]::new('copy', 'copy', [CompletionResultType]::ParameterValue, 'Copy every check, ping, flip, channel, delivery and the monitor''s secret from one database to another')
            break
        }
        'hb;help;db;copy' {
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
