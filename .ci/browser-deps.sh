#!/usr/bin/env bash
# What the dashboard's browser tests need, installed only when missing: Debian's
# chromium and chromium-driver (never a browser download), and axe-core from npm into
# target/axe-core (its axe.min.js is injected into pages by the tests).
# Idempotent: a second run installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
# Fonts for legible screenshots (the browser runs without them, but renders boxes).
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need_apt+=(fonts-dejavu-core)
if [ ${#need_apt[@]} -gt 0 ]; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

axe_dir=target/axe-core
if [ ! -f "$axe_dir/node_modules/axe-core/axe.min.js" ]; then
  mkdir -p "$axe_dir"
  # A pinned major version; npm's cache makes a second install cheap.
  (cd "$axe_dir" && npm install --silent --no-audit --no-fund --no-save --prefix . axe-core@4 >/dev/null)
fi
test -f "$axe_dir/node_modules/axe-core/axe.min.js"
echo "browser deps: $(chromium --version 2>/dev/null | head -1); $(chromedriver --version 2>/dev/null | head -1); axe-core $(node -p "require('./$axe_dir/node_modules/axe-core/package.json').version")"
