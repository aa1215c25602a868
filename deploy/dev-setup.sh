#!/usr/bin/env bash
# Idempotent set-up of a development or CI machine for StateTee (Debian/Ubuntu):
#  - system libraries the Swift build links against (SQLite, OpenSSL, curl)
#  - a Python venv at .venv with the legacy stack pinned in fixtures/legacy-server/requirements.txt
#  - the socket.io browser client for the fixture's pages (from a PyPI wheel; optional)
# Safe to run any number of times; it only installs what is missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

need=()
for pkg in libsqlite3-dev libssl-dev libcurl4-openssl-dev python3-venv; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
# python3-venv is only needed when the interpreter lacks ensurepip (Debian's own python3).
if [ ${#need[@]} -gt 0 ] && printf '%s\n' "${need[@]}" | grep -qx python3-venv && python3 -c 'import ensurepip' 2>/dev/null; then
  mapfile -t need < <(printf '%s\n' "${need[@]}" | grep -vx python3-venv || true)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "dev-setup: installing ${need[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

req="fixtures/legacy-server/requirements.txt"
stamp=".venv/.requirements.sha"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "dev-setup: creating .venv from $req"
  python3 -m venv .venv
  .venv/bin/python -m pip install -q --disable-pip-version-check -r "$req"
  echo "$want" > "$stamp"
fi

if [ -x fixtures/legacy-server/fetch-client.sh ]; then
  PYTHON="$root/.venv/bin/python" fixtures/legacy-server/fetch-client.sh \
    || echo "dev-setup: warning: could not fetch the socket.io browser client; pages will say so (tests do not need it)"
fi
echo "dev-setup: ready"
