#!/usr/bin/env bash
# PostgreSQL for the tests on the shared store (tests/support/pg.rs starts a throwaway
# cluster with initdb and postgres). Idempotent: does nothing when initdb is there.
set -euo pipefail
if compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  exit 0
fi
if [ "$(id -u)" = 0 ]; then
  apt-get update -qq && apt-get install -y -qq postgresql
else
  sudo apt-get update -qq && sudo apt-get install -y -qq postgresql
fi
