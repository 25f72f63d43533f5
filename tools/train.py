"""Train a model from an mmengine config (mmdet / mmseg / mmpose) with mmautoloss loaded.

Usage: python tools/train.py CONFIG [--work-dir D] [--resume] [--cfg-options k=v ...]
A thin wrapper around :mod:`mmautoloss.engine.train_job`.
"""
from mmautoloss.engine.train_job import main

if __name__ == '__main__':
    main()
