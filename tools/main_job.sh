#!/usr/bin/env bash
# The README's main job on a fresh machine: install what is missing (tools/install.sh,
# seconds when everything is there), generate ToySeg when data/toyseg is missing, then run
# the small Auto Seg-Loss search (PPO2 over the mIoU surrogate, 2 rounds x 3 candidates).
# Extra arguments go to tools/search.py (e.g. --resume, --work-dir D).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install.sh
if [ -z "$(ls -A data/toyseg/ann_dir/val 2>/dev/null)" ] || \
   [ -z "$(ls -A data/toyseg/img_dir/val 2>/dev/null)" ]; then
  echo "[main job] data/toyseg is missing: generating ToySeg (python tools/generate_toyseg.py)"
  python3 tools/generate_toyseg.py
fi
exec python3 tools/search.py configs/search/asl_miou_toyseg.py "$@"
