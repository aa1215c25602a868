#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
deploy/dev-setup.sh
export STATETEE_PYTHON="$root/.venv/bin/python"
swift build --build-tests
swift test --skip-build
"$STATETEE_PYTHON" -m pytest -q fixtures deploy/tests
