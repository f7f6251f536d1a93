#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed for the browser tests and prints
# its path. Uses BEACON_CHROMIUM when it is already set; otherwise installs
# the chromium package with apt-get if it is absent.
set -euo pipefail

log() { echo "chromium.sh: $*" >&2; }

if [ -n "${BEACON_CHROMIUM:-}" ]; then
  echo "$BEACON_CHROMIUM"
  exit 0
fi

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi
}

for path in /usr/bin/chromium /usr/bin/chromium-browser; do
  if [ -x "$path" ]; then
    echo "$path"
    exit 0
  fi
done

log "Chromium is not installed; installing Debian's chromium with apt-get"
as_root apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium >&2
echo /usr/bin/chromium
