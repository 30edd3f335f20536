#!/usr/bin/env bash
# Create .venv from requirements.lock. A second run with the same lock and Python is a
# no-op that takes well under a second. See docs/decisions/0001-one-environment-rasa-on-3.11.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
LOCK="$ROOT/requirements.lock"

supported() {  # prints "3.10" or "3.11" when $1 is a supported interpreter
  "$1" -c 'import sys; v=sys.version_info[:2]; print("%d.%d" % v) if v in ((3,10),(3,11)) else sys.exit(1)' 2>/dev/null
}

PY="${RIC_PYTHON:-}"
if [[ -n "$PY" ]]; then
  if ! command -v "$PY" >/dev/null 2>&1; then
    echo "error: RIC_PYTHON=$PY was not found." >&2; exit 2
  fi
  if ! supported "$PY" >/dev/null; then
    found="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo unknown)"
    echo "error: the Reader Interaction Center needs Python 3.10 or 3.11 (Rasa 3.6), but $PY is Python $found." >&2
    echo "       Install Python 3.11 and run again, or point RIC_PYTHON at a 3.10/3.11 interpreter." >&2
    exit 2
  fi
else
  for candidate in python3.11 python3.10 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && supported "$candidate" >/dev/null; then PY="$candidate"; break; fi
  done
  if [[ -z "$PY" ]]; then
    found="$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo none)"
    echo "error: the Reader Interaction Center needs Python 3.10 or 3.11 (Rasa 3.6); found Python $found." >&2
    echo "       Install Python 3.11 (python3.11 on PATH) or set RIC_PYTHON to one." >&2
    exit 2
  fi
fi
VERSION="$(supported "$PY")"
STAMP="$(cat "$LOCK" | sha256sum | cut -c1-16)-py$VERSION"

if [[ -f "$VENV/.ric-installed" && "$(cat "$VENV/.ric-installed")" == "$STAMP" ]]; then
  exit 0  # already installed from this exact lock
fi

if [[ -x "$VENV/bin/python" ]] && [[ "$(supported "$VENV/bin/python" || true)" != "$VERSION" ]]; then
  echo "Recreating .venv for Python $VERSION"; rm -rf "$VENV"
fi
[[ -x "$VENV/bin/python" ]] || "$PY" -m venv "$VENV"
echo "Installing the pinned environment into .venv (a few minutes the first time)…"
# Every version is pinned, so ignoring Requires-Python is safe (rasa 3.6 declares <3.11).
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
  --no-deps --ignore-requires-python -r "$LOCK" 2>&1 | grep -v "is ignored: it is neither" || true
"$VENV/bin/python" -W ignore -c "import rasa, rasa_sdk, sanic, sqlalchemy, alembic, apscheduler, playwright" 2>/dev/null \
  || { echo "error: the environment is incomplete after install; see the pip output above." >&2; exit 1; }
echo "$STAMP" > "$VENV/.ric-installed"
echo "Environment ready (Python $VERSION)."
