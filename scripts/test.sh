#!/usr/bin/env bash
# Set up and run every check: lint, then the whole test suite (unit, integration, app, browser).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The browser tests drive Debian's Chromium (never `playwright install`: it downloads a browser)
# and need a CJK font (Debian's fonts-noto-cjk): without one every Chinese character is a box,
# which tests/browser/test_form_state.py fails on. Each is installed when it is missing.
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
fc-list :lang=zh 2>/dev/null | grep -q . || need+=(fonts-noto-cjk)
if [ ${#need[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}") >/dev/null
  else
    echo "note: install ${need[*]} (Debian: apt-get install ${need[*]}) for the browser tests"
  fi
fi
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
.venv/bin/ruff check .
.venv/bin/ruff format --check . >/dev/null 2>&1 || echo "note: some files are not ruff-formatted (run: .venv/bin/ruff format .)"
.venv/bin/python -m pytest -q --durations=15 "$@"
