#!/usr/bin/env bash
# The README's main job on a fresh machine: install what is missing (tools/install.sh,
# seconds when everything is there), generate ToySeg and its transfer set ToySeg-B when
# they are missing (or were written before the search split), then run the small Auto
# Seg-Loss search (PPO2 over the mIoU surrogate, 2 rounds x 3 candidates) and its
# re-training stage. Extra arguments go to tools/search.py (e.g. --resume, --work-dir D).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install.sh
generate() {  # generate DIR [--shapes b]: write the set unless its three splits are there
  local dir=$1; shift
  for split in train search val; do
    if [ -z "$(ls -A "$dir/ann_dir/$split" 2>/dev/null)" ] || \
       [ -z "$(ls -A "$dir/img_dir/$split" 2>/dev/null)" ]; then
      echo "[main job] $dir has no $split split: generating it (python tools/generate_toyseg.py --out $dir $*)"
      python3 tools/generate_toyseg.py --out "$dir" "$@"
      return
    fi
  done
}
generate data/toyseg
generate data/toyseg-b --shapes b
exec python3 tools/search.py configs/search/asl_miou_toyseg.py "$@"
