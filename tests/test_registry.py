"""``custom_imports=['mmautoloss']`` makes every component resolvable by bare name in
mmdet, mmseg and mmpose default scopes (issue: package foundation)."""
import importlib

import pytest
from mmengine.config import Config
from mmengine.registry import DATASETS, HOOKS, METRICS, MODELS, DefaultScope
from mmengine.utils import import_modules_from_strings

ROOTS = {'MODELS': MODELS, 'METRICS': METRICS, 'HOOKS': HOOKS, 'DATASETS': DATASETS}


def own_components():
    import_modules_from_strings(['mmautoloss'])
    found = []
    for registry_name, registry in ROOTS.items():
        for name, cls in registry.module_dict.items():
            if cls.__module__.startswith('mmautoloss.'):
                found.append((registry_name, name, cls))
    return found


def test_components_are_registered():
    names = {name for _, name, _ in own_components()}
    expected = {'AutoSegLoss', 'ParamAPLoss', 'NonFiniteLossHook', 'MetricsDumpHook',
                'ParamAPRetinaHead', 'ParamAPRPNHead', 'ParamAPBBoxHead',
                'ParamAPDeformableDETRHead', 'FWIoUMetric', 'BoundaryIoUMetric',
                'BoundaryF1Metric', 'ToySegDataset'}
    assert expected <= names, f'missing: {sorted(expected - names)}'


@pytest.mark.parametrize('scope', ['mmdet', 'mmseg', 'mmpose'])
def test_bare_names_resolve_under_each_default_scope(scope):
    cfg = Config(dict(custom_imports=dict(imports=['mmautoloss'], allow_failed_imports=False),
                      default_scope=scope))
    import_modules_from_strings(**cfg.custom_imports)
    library = importlib.import_module(f'{scope}.registry')
    components = own_components()
    assert components
    with DefaultScope.overwrite_default_scope(scope):
        for registry_name, name, cls in components:
            child = getattr(library, registry_name)
            assert child.scope == scope
            assert child.get(name) is cls, f'{registry_name}.{name} not found from {scope}'


def test_search_registries_import_their_modules_when_a_type_is_built():
    """mmautoloss.registry holds the engine's registries with ``locations``: asking for a
    type imports the module that registers it (checked in a fresh interpreter)."""
    import subprocess
    import sys
    code = '''
import sys
from mmautoloss.registry import EXECUTORS, FILTERS, SEARCHERS, SPACES
assert 'mmautoloss.search.searchers.ppo2' not in sys.modules
for registry, name in ((SEARCHERS, 'PPO2Searcher'), (SEARCHERS, 'ConvergenceSimulationSearcher'),
                       (SPACES, 'FormulaSpace'), (EXECUTORS, 'LocalExecutor'),
                       (FILTERS, 'ConvergenceCheck'), (FILTERS, 'LossRejection')):
    assert registry.get(name).__name__ == name, (registry, name)
space = SPACES.build(dict(type='ASLSpace', metric='mIoU'))
assert type(space).__name__ == 'ASLSpace'
'''
    done = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_every_search_config_type_is_registered_where_the_config_builds_it():
    import glob
    import os

    from mmautoloss.registry import EXECUTORS, SEARCHERS, SPACES
    from mmautoloss.search.validation import load_search_config
    from mmautoloss.testing import REPO as repo
    configs = sorted(glob.glob(os.path.join(repo, 'configs', 'search', '*.py')))
    assert len(configs) >= 18
    for path in configs:
        cfg = load_search_config(path)
        assert SEARCHERS.get(cfg.searcher['type']) is not None, path
        assert SPACES.get(cfg.search_space['type']) is not None, path
        assert EXECUTORS.get(cfg.get('executor', {}).get('type', 'LocalExecutor')), path
