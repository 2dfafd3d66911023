#!/usr/bin/env bash
# Create .venv and install metacore with its test tools. Idempotent: a second run is quick.
# torch is pinned to 2.13.0 here because this machine kind has that CPU wheel on disk; the
# package itself asks only for torch>=2.4,<2.14, so elsewhere you keep your usual (CUDA/MPS) build.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# A quiet first start: no pip upgrade notice, no warning about running as root (a container),
# and not setuptools' note that an editable install reads this folder (it is meant to).
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
export PYTHONWARNINGS="${PYTHONWARNINGS:+$PYTHONWARNINGS,}ignore::UserWarning:setuptools.command.editable_wheel"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  .venv/bin/python -m pip install -q "torch==2.13.0" || .venv/bin/python -m pip install -q "torch>=2.4,<2.14"
fi
.venv/bin/python -m pip install -q -e ".[test,setfit,onnx,ray]"
