#!/usr/bin/env bash
# Install what the project needs into the work tree: .venv (Python 3.11) and node_modules.
# Idempotent and quick when everything is already there. Sourced by demo.sh and test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
fi
# Reinstall only when pyproject.toml changed since the last install.
stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)-${1:-base}
if [ ! -f "$stamp" ]; then
  echo "==> installing Python packages (${1:-base})"
  .venv/bin/python -m pip install --quiet --upgrade pip
  if [ "${1:-base}" = test ]; then
    .venv/bin/python -m pip install --quiet -e '.[test]'
  else
    .venv/bin/python -m pip install --quiet -e .
  fi
  rm -f .venv/.installed-*
  touch "$stamp"
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> installing front-end packages (npm)"
  npm ci --no-audit --no-fund --loglevel=error
fi
