#!/usr/bin/env bash
# The demo command: `bash scripts/demo.sh [demo options...]`.
# Creates .venv if missing, installs Strideline (skipped when nothing changed), runs `strideline demo`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=SCRIPTDIR/lib.sh
source scripts/lib.sh

ensure_venv
ensure_installed ""
exec "$VENV/bin/strideline" demo "$@"
