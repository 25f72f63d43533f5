#!/usr/bin/env bash
# The README's test command on a fresh machine: install what is missing (tools/install.sh,
# seconds when everything is there), then run the whole suite. Extra arguments go to
# pytest (e.g. -m "not training" for the fast tests, -x, -k NAME).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install.sh
exec python3 -m pytest tests "$@"
