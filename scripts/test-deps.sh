#!/usr/bin/env bash
# Installs what the tests need beyond Go and PostgreSQL: Chromium for the
# Web UI browser test. Without it that one test skips, so a failed install is
# reported, not fatal.
set -uo pipefail

if command -v chromium >/dev/null 2>&1 || [ -n "${CHROME_BIN:-}" ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "note: Chromium is not installed; the Web UI browser test will skip" >&2
  exit 0
fi
echo "installing Chromium for the Web UI browser test"
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq chromium; } >/tmp/payflow-apt.log 2>&1; then
  echo "note: could not install Chromium (see /tmp/payflow-apt.log); the Web UI browser test will skip" >&2
fi
exit 0
