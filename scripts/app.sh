#!/usr/bin/env bash
# Set up (first time) and start the app on http://localhost:8501
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1} TOKENIZERS_PARALLELISM=false
# The browser's upload limit follows the engine's (.streamlit/config.toml has the default).
if [ -n "${METACORE_MAX_FILE_MB:-}" ] && [ "${METACORE_MAX_FILE_MB%%.*}" -ge 1 ] 2>/dev/null; then
  export STREAMLIT_SERVER_MAX_UPLOAD_SIZE=${STREAMLIT_SERVER_MAX_UPLOAD_SIZE:-${METACORE_MAX_FILE_MB%%.*}}
fi
exec .venv/bin/streamlit run app.py "$@"
