"""Every registry of mmautoloss, in one module (as mmyolo's ``registry.py``).

Components that OpenMMLab runners build (losses, heads, hooks, metrics, datasets,
transforms) are registered in mmengine's *root* registries. mmdet, mmseg and mmpose
registries are children of the root, and a child falls back to its parent when a name is
not its own, so ``type='AutoSegLoss'`` resolves under any of the three default scopes once
``custom_imports=dict(imports=['mmautoloss'])`` has imported this package.

The search engine's registries (searchers, search spaces, executors, filters) are the
package's own, with ``locations``: building a type imports the module that registers it.
A search config's ``searcher`` / ``search_space`` / ``executor`` dicts and the filter fields
of a searcher (``loss_rejection``, ``convergence``, ``simulation``) are built with
``REGISTRY.build(cfg, default_args=...)``.
"""
from mmengine.registry import DATASETS, HOOKS, METRICS, MODELS, TRANSFORMS, Registry

#: search algorithms, from the ``searcher=dict(type=...)`` field of a search config
SEARCHERS = Registry('searcher', scope='mmautoloss',
                     locations=['mmautoloss.search.searchers'])
#: search spaces, from the ``search_space=dict(type=...)`` field
SPACES = Registry('search space', scope='mmautoloss', locations=['mmautoloss.search.spaces'])
#: where trials run, from the ``executor=dict(type=...)`` field
EXECUTORS = Registry('executor', scope='mmautoloss',
                     locations=['mmautoloss.search.executors'])
#: cheap checks a searcher runs before a candidate costs a training job
FILTERS = Registry('search filter', scope='mmautoloss',
                   locations=['mmautoloss.search.filters'])

__all__ = ['DATASETS', 'EXECUTORS', 'FILTERS', 'HOOKS', 'METRICS', 'MODELS', 'SEARCHERS',
           'SPACES', 'TRANSFORMS']
