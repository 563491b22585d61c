#!/usr/bin/env bash
# Installs what the tests need beyond Go and PostgreSQL: Chromium for the
# Web UI browser test. Under CI that test fails without Chromium, so a failed
# install stops the run here with its cause; elsewhere the test skips and a
# failed install is only reported.
set -uo pipefail

if command -v chromium >/dev/null 2>&1 || [ -n "${CHROME_BIN:-}" ]; then
  exit 0
fi
missing() {
  if [ -n "${CI:-}" ]; then
    echo "error: $1; under CI the Web UI browser test needs it" >&2
    exit 1
  fi
  echo "note: $1; the Web UI browser test will skip" >&2
  exit 0
}
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  missing "Chromium is not installed (install the chromium package, or set CHROME_BIN)"
fi
echo "installing Chromium for the Web UI browser test"
export DEBIAN_FRONTEND=noninteractive
log="$(mktemp -t payflow-apt.XXXXXX)"
if ! { apt-get update -qq && apt-get install -y -qq chromium; } >"$log" 2>&1; then
  tail -20 "$log" >&2
  missing "could not install Chromium (apt-get log above)"
fi
exit 0
