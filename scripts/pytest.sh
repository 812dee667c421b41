#!/usr/bin/env bash
# The Python worker's test suite (workers/torch), run with Debian's python (it has torch); `pnpm test:py`.
# Exits non-zero when a test fails or when torch/pytest are missing; prints pytest's summary.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${XFER_PYTHON:-/usr/bin/python3}"
if ! "$python" -c 'import torch, pytest' 2>/dev/null; then
  echo "pytest.sh: $python cannot import torch and pytest (apt-get install -y python3-torch python3-pytest)" >&2
  exit 1
fi
cd "$root/workers/torch"
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}" OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" PYTHONDONTWRITEBYTECODE=1
exec "$python" -m pytest -p no:cacheprovider -r fE "$@" tests
