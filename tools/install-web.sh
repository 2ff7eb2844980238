#!/usr/bin/env bash
# Install the monitor page's npm packages (web/package-lock.json: jsroot) into web/node_modules.
# Idempotent; skipped with a note when npm is absent or offline (the jsroot test then skips).
# --ignore-scripts: jsroot's optional native helpers (canvas, gl) are for server-side drawing in
# node and are not needed to read or draw histograms in a browser.
set -uo pipefail
web="$(cd "$(dirname "$0")/.." && pwd)/web"
[ -f "$web/node_modules/jsroot/package.json" ] && [ "$web/node_modules/.package-lock.json" -nt "$web/package-lock.json" ] && exit 0
if ! command -v npm >/dev/null 2>&1; then
  echo "install-web: npm not found: web/node_modules not installed (the monitor page and the jsroot test need it)"
  exit 0
fi
echo "install-web: npm ci in web/"
(cd "$web" && npm ci --ignore-scripts --omit=optional --no-audit --no-fund >/dev/null) ||
  echo "install-web: npm ci failed (offline?): web/node_modules not installed"
exit 0
