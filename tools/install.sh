#!/usr/bin/env bash
# One-command install of mmautoloss and the OpenMMLab 2.x stack on a CPU machine
# (Python 3.11). Follows the verified recipe: CPU torch 2.13, mmcv 2.1.0 built from
# source with ops (about 15 min once; pip caches the wheel), mmengine, mmdet 3.3,
# mmsegmentation 1.2.2, mmpose 1.3.2 without its torchvision requirement.
# Every step runs under requirements/constraints.txt so no package can pull a CUDA torch.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# Idempotent: when the whole stack imports, torch is the CPU 2.13 build and mmautoloss is
# this checkout (editable), there is nothing to do (--force reinstalls anyway).
# (The check runs from / so that the checkout itself is not on sys.path: what counts is
# what an installed interpreter imports.)
if [ "${1:-}" != "--force" ] && (cd / && "$PY" - "$OLDPWD") <<'CHECK' 2>/dev/null; then
import os, sys
import torch, mmcv.ops, mmdet, mmseg, mmpose, deap, pytest, pytest_timeout, ray, ruff, optuna, optuna_dashboard, tensorboard, mmautoloss
assert torch.__version__.startswith('2.13.0'), torch.__version__
assert os.path.dirname(os.path.abspath(mmautoloss.__file__)) == os.path.join(sys.argv[1], 'mmautoloss')
CHECK
  echo "[install] everything is installed (tools/install.sh --force reinstalls)"
  exit 0
fi
export PIP_CONSTRAINT="$PWD/requirements/constraints.txt"
pip_install() { "$PY" -m pip install --disable-pip-version-check "$@"; }

echo "[install] torch (CPU build)"
pip_install torch==2.13.0
if ! "$PY" -c "import mmcv, mmcv.ops" 2>/dev/null; then
  # mmcv's setup.py imports pkg_resources, which setuptools >= 70 no longer provides
  # for its build; torch asks for setuptools >= 77, so it is downgraded for this step only.
  echo "[install] mmcv 2.1.0 with ops (built from source once, ~15 min on 2 cores)"
  pip_install "setuptools<70" wheel ninja "numpy<2"
  MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-2} pip_install --no-build-isolation mmcv==2.1.0
fi
# torch's own requirement; below 81 pkg_resources (used by mmengine) still exists.
pip_install "setuptools>=77.0.3,<81" wheel
echo "[install] OpenMMLab libraries and runtime requirements"
pip_install -r requirements/runtime.txt
echo "[install] mmpose (no-deps: its torchvision requirement cannot sit beside CPU torch)"
pip_install --no-deps mmpose==1.3.2
echo "[install] test requirements (pytest, Ray for the Ray executor tests, ruff, the dashboard extra)"
pip_install -r requirements/tests.txt
echo "[install] mmautoloss"
pip_install --no-build-isolation --no-deps -e .
"$PY" -c "import torch, mmcv.ops, mmdet, mmseg, mmpose, mmautoloss; print('[install] ok: torch', torch.__version__, 'mmcv', mmcv.__version__)"
