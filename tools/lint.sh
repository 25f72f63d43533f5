#!/usr/bin/env bash
# The style check (ruff.toml: line length 100, isort order, builtin generics and X | None):
# `bash tools/lint.sh`; `bash tools/lint.sh --fix` rewrites what ruff can fix itself.
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${PYTHON:-python3}" -m ruff check . "$@"
