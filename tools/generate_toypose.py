"""Generate the ToyPose COCO-keypoint set (mmautoloss.datasets.toy_pose).

Example: ``python tools/generate_toypose.py --out data/toypose --seed 0``
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

from mmautoloss.datasets.toy_pose import generate_toypose  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Write the synthetic ToyPose dataset.')
    parser.add_argument('--out', default='data/toypose', help='output directory')
    parser.add_argument('--seed', type=int, default=0, help='dataset seed')
    parser.add_argument('--num-train', type=int, default=200, help='training images')
    parser.add_argument('--num-val', type=int, default=30,
                        help='validation images (the split re-training reports on)')
    parser.add_argument('--num-search', type=int, default=None,
                        help='search-split images, held out from training, on which a proxy '
                        'rewards candidate losses (default: as many as --num-val)')
    parser.add_argument('--size', type=int, default=96, help='image side in pixels')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    counts = generate_toypose(args.out, seed=args.seed, num_train=args.num_train,
                              num_val=args.num_val, size=args.size,
                              num_search=args.num_search)
    print(f'ToyPose written to {args.out}: ' +
          ', '.join(f'{split} {n}' for split, n in counts.items()))


if __name__ == '__main__':
    main()
