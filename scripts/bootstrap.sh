#!/usr/bin/env bash
# Install what Walkaround needs on a fresh Debian machine with Python 3.11.
#   scripts/bootstrap.sh run   -> Python venv, app dependencies, front-end libraries, translations
#   scripts/bootstrap.sh test  -> the above plus test dependencies, Chromium and a CJK font
# System packages are installed with apt-get when missing and we are root (or have sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-run}"
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"

apt_install() {
  local missing=("$@")
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then sudo="sudo"; else
      echo "Missing system packages: ${missing[*]} (install them as root)" >&2; return 1
    fi
  fi
  echo "Installing system packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

need=()
"$PYTHON" -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
command -v npm >/dev/null || need+=(nodejs npm)
# WeasyPrint renders the customer's PDF with Pango; the CJK font is embedded in it.
ldconfig -p | grep -q libpangoft2-1.0 || need+=(libpango-1.0-0 libpangoft2-1.0-0)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need+=(fonts-noto-cjk)
if [ "$mode" = test ]; then
  [ -x /usr/bin/chromium ] || need+=(chromium)
  # The scale-out test puts two app processes behind a real nginx.
  [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || need+=(nginx)
fi
# `walkaround backup` on PostgreSQL uses pg_dump and pg_restore.
command -v pg_dump >/dev/null || need+=(postgresql-client)
apt_install "${need[@]}"

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.installed-$mode"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  "$VENV/bin/pip" install -q --upgrade pip
  if [ "$mode" = test ]; then
    "$VENV/bin/pip" install -q -e '.[test]'
  else
    "$VENV/bin/pip" install -q -e .
  fi
  touch "$stamp"
fi
scripts/vendor.sh
"$VENV/bin/pybabel" compile -d app/translations -D messages
