#!/usr/bin/env bash
# The benchmarks in one command: `bash bench/run.sh [python -m bench options]`.
# Installs the bench extra (the eventsourcing peer, profilers) into .venv on first use.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=.venv/bin/python
if ! "$PY" -c "import eventsourcing" 2>/dev/null; then
  .venv/bin/pip install -q -e '.[bench]'
fi
exec "$PY" -m bench "$@"
