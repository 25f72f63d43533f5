#!/usr/bin/env bash
# Loss search on one multi-GPU node: tools/dist_search.sh CONFIG GPUS [search.py args ...]
# The search driver runs in this process and launches each trial on its own GPU slot(s).
set -euo pipefail
if [ "$#" -lt 2 ]; then
  echo "usage: $0 CONFIG GPUS [search.py args ...]" >&2
  exit 2
fi
CONFIG=$1
GPUS=$2
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" \
exec "${PYTHON:-python3}" "$ROOT/tools/search.py" "$CONFIG" --gpus "$GPUS" "${@:3}"
