#!/usr/bin/env bash
# Installs systemd-analyze (Debian's systemd package), which the oncalendar comparison
# test (tests/oncalendar_systemd.rs) runs. Does nothing when it is already there.
set -euo pipefail

if command -v systemd-analyze >/dev/null 2>&1; then
  exit 0
fi
sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)
# A container needs no init: install the package's files without starting anything.
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends systemd >/dev/null
command -v systemd-analyze >/dev/null 2>&1 || {
  echo "systemd-deps.sh: systemd is installed but systemd-analyze is not on PATH" >&2
  exit 1
}
