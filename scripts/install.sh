#!/usr/bin/env bash
# Create or update .venv from the locks.
#   scripts/install.sh         the runtime lock, requirements.lock (what `./ric up` needs)
#   scripts/install.sh --dev   also requirements-dev.lock: ruff, mypy, pytest, Playwright, … (`./ric test`)
#                              and .venv-fuzz/ from requirements-fuzz.lock (the schemathesis CLI)
# A second run with the same locks and Python is a no-op that takes well under a second; a
# runtime run on a .venv that already has the dev tools is one too (they are kept).
# torch is installed in a step of its own from the PyTorch CPU index, pinned to its +cpu
# build, so no CUDA wheel is ever fetched. Packages no longer in either lock are removed.
# RIC_PYTHON picks the interpreter, RIC_VENV another target than .venv (e.g. for a trial),
# RIC_TORCH_INDEX_URL a mirror of the PyTorch CPU index.
# See docs/decisions/0001-one-environment-rasa-on-3.11.md and 0003-environment-weight.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${RIC_VENV:-$ROOT/.venv}"
LOCK="$ROOT/requirements.lock"
DEV_LOCK="$ROOT/requirements-dev.lock"
# Where the +cpu torch wheels are; point it at a mirror of that index if you have one.
TORCH_INDEX="${RIC_TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}"

DEV=0
case "${1:-}" in
  "") ;;
  --dev) DEV=1 ;;
  *) echo "usage: scripts/install.sh [--dev]" >&2; exit 2 ;;
esac

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
RUNTIME_HASH="$(sha256sum < "$LOCK" | cut -c1-16)"
DEV_HASH="$(sha256sum < "$DEV_LOCK" | cut -c1-16)"
# --dev also fills .venv-fuzz/, a tool environment of its own for the schemathesis CLI
# (requirements-fuzz.lock; its jsonschema and pytest pins clash with Rasa's), the way pipx
# isolates a CLI. Rebuilt from scratch only when that lock or the Python version changes.
if (( DEV )); then
  FUZZ_VENV="${RIC_FUZZ_VENV:-$ROOT/.venv-fuzz}"
  FUZZ_WANT="$(sha256sum < "$ROOT/requirements-fuzz.lock" | cut -c1-16)-py$VERSION"
  if [[ "$(cat "$FUZZ_VENV/.ric-installed" 2>/dev/null || true)" != "$FUZZ_WANT" ]]; then
    echo "Installing the pinned schemathesis tool environment into ${FUZZ_VENV#"$ROOT"/}…"
    rm -rf "$FUZZ_VENV"
    "$PY" -m venv "$FUZZ_VENV"
    "$FUZZ_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
      -r "$ROOT/requirements-fuzz.lock" 2>&1 | grep -v "is ignored: it is neither" || true
    "$FUZZ_VENV/bin/schemathesis" --version >/dev/null
    echo "$FUZZ_WANT" > "$FUZZ_VENV/.ric-installed"
  fi
fi
# The stamp names what .venv holds: "<runtime>-pyX.Y" or "<runtime>+dev<dev>-pyX.Y".
if (( DEV )); then WANT="$RUNTIME_HASH+dev$DEV_HASH-py$VERSION"; else WANT="$RUNTIME_HASH-py$VERSION"; fi
HAVE="$(cat "$VENV/.ric-installed" 2>/dev/null || true)"
if [[ "$HAVE" == "$WANT" ]]; then exit 0; fi  # already installed from these exact locks
if (( ! DEV )) && [[ "$HAVE" == "$RUNTIME_HASH+dev"*"-py$VERSION" ]]; then exit 0; fi  # runtime + dev tools

if [[ -x "$VENV/bin/python" ]] && [[ "$(supported "$VENV/bin/python" || true)" != "$VERSION" ]]; then
  echo "Recreating ${VENV#"$ROOT"/} for Python $VERSION"; rm -rf "$VENV"
fi
[[ -x "$VENV/bin/python" ]] || "$PY" -m venv "$VENV"
rm -f "$VENV/.ric-installed"  # until the install below has succeeded
if (( DEV )); then what="runtime + dev"; else what="runtime"; fi
echo "Installing the pinned $what environment into ${VENV#"$ROOT"/} (a few minutes the first time)…"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
TORCH_RE='^[[:space:]]*torch[[:space:]]*(==|;)'
grep -vE "$TORCH_RE" "$LOCK" > "$TMP/main.lock"
grep -E "$TORCH_RE" "$LOCK" > "$TMP/torch.lock" || true
locks=(-r "$TMP/main.lock")
(( DEV )) && locks+=(-r "$DEV_LOCK")

pip_install() {  # pip's own output minus the noise of this machine's unused index entries
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    --no-deps --ignore-requires-python "$@" 2>&1 | grep -v "is ignored: it is neither" || true
}
# Every version is pinned, so ignoring Requires-Python is safe (rasa 3.6 declares <3.11).
pip_install "${locks[@]}"
# torch alone may look at the PyTorch CPU index: a pin with a +cpu local version is never on
# PyPI, so it cannot resolve to a CUDA build. Already-installed pins are not looked up at all.
[[ -s "$TMP/torch.lock" ]] && pip_install --extra-index-url "$TORCH_INDEX" -r "$TMP/torch.lock"

# Remove what neither lock names (e.g. jax after it left the lock); dev tools stay in a runtime run.
stale="$("$VENV/bin/python" - "$LOCK" "$DEV_LOCK" <<'EOF'
import importlib.metadata, re, sys
canon = lambda name: re.sub(r"[-_.]+", "-", name).lower()
keep = {"pip"}
for path in sys.argv[1:]:
    for line in open(path, encoding="utf-8"):
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            keep.add(canon(re.split(r"[\s=<>!~;\[]", line, maxsplit=1)[0]))
names = {canon(d.metadata["Name"]) for d in importlib.metadata.distributions() if d.metadata["Name"]}
print(" ".join(sorted(names - keep)))
EOF
)"
if [[ -n "$stale" ]]; then
  echo "Removing packages no longer in the locks: $stale"
  # shellcheck disable=SC2086
  "$VENV/bin/python" -m pip uninstall --quiet --yes $stale
fi

check="import rasa, rasa_sdk, sanic, sqlalchemy, alembic, apscheduler, tenacity, torch
assert torch.version.cuda is None, 'torch is a CUDA build; the lock pins the CPU one'"
(( DEV )) && check="$check
import pytest, mypy, ruff, importlinter, playwright, aiosmtpd"
if ! err="$("$VENV/bin/python" -W ignore -c "$check" 2>&1)"; then
  echo "$err" | tail -n 3 >&2
  echo "error: the environment is incomplete after install; see the pip output above." >&2; exit 1
fi
echo "$WANT" > "$VENV/.ric-installed"
echo "Environment ready (Python $VERSION, $what)."
