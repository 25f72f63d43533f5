"""Shared fixtures.

mmengine keeps the default scope of the most recent Runner (or ``init_default_scope``) as a
process-wide setting, and ``Registry.build`` switches to that scope's registry. A test that
builds mmdet or mmseg components straight from a registry therefore names its scope, so
it does not depend on which test ran before it.
"""
import importlib.util

import pytest
from mmengine.registry import DefaultScope

from mmautoloss.testing import PLAN_TOOL, SEARCH_TOOL


@pytest.fixture
def mmdet_scope():
    with DefaultScope.overwrite_default_scope('mmdet'):
        yield


@pytest.fixture
def mmseg_scope():
    with DefaultScope.overwrite_default_scope('mmseg'):
        yield


def _tool_main(name: str, path: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


@pytest.fixture(scope='session')
def search_main():
    """``tools/search.py``'s ``main(argv) -> exit code``, run in this process."""
    return _tool_main('search_tool', SEARCH_TOOL)


@pytest.fixture(scope='session')
def plan_main():
    """``tools/plan_search.py``'s ``main(argv) -> exit code``, run in this process."""
    return _tool_main('plan_tool', PLAN_TOOL)
