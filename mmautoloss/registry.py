"""Registries used by mmautoloss.

Every mmautoloss component is registered in mmengine's *root* registries. mmdet, mmseg and
mmpose registries are children of the root, and a child falls back to its parent when a
name is not its own, so ``type='AutoSegLoss'`` resolves under any of the three default
scopes once ``custom_imports=dict(imports=['mmautoloss'])`` has imported this package.
"""
from mmengine.registry import DATASETS, HOOKS, METRICS, MODELS, TRANSFORMS

__all__ = ['DATASETS', 'HOOKS', 'METRICS', 'MODELS', 'TRANSFORMS']
