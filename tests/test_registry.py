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
