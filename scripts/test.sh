#!/usr/bin/env bash
# Set up and run every check: lint, then the whole test suite (unit, integration, app, browser).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The browser test drives Debian's Chromium (never `playwright install`: it downloads a browser).
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk) >/dev/null
fi
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
.venv/bin/ruff check .
.venv/bin/ruff format --check . >/dev/null 2>&1 || echo "note: some files are not ruff-formatted (run: .venv/bin/ruff format .)"
.venv/bin/python -m pytest -q --durations=15 "$@"
