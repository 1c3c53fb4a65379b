#!/usr/bin/env bash
# Create .venv (once) and install the project with the given extras; idempotent and quiet.
# Usage: scripts/bootstrap.sh edge | train,dev
set -euo pipefail
cd "$(dirname "$0")/.."
extras=${1:-edge}
venv=${EMOTIONS_VENV:-.venv}
stamp="$venv/.installed-$(echo "$extras" | tr ',' '-')"
if [[ ! -x $venv/bin/python ]]; then
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
fi
# Reinstall when setup.cfg changed since the last install of these extras.
if [[ ! -f $stamp || setup.cfg -nt $stamp ]]; then
  echo "installing .[$extras] into $venv (first run takes a few minutes)" >&2
  "$venv/bin/python" -m pip install -q -e ".[$extras]"
  touch "$stamp"
fi
