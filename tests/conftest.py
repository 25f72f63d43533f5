"""Shared fixtures.

mmengine keeps the default scope of the most recent Runner (or ``init_default_scope``) as a
process-wide setting, and ``Registry.build`` switches to that scope's registry. A test that
builds mmdet or mmseg components straight from a registry therefore names its scope, so
it does not depend on which test ran before it.
"""
import pytest
from mmengine.registry import DefaultScope


@pytest.fixture
def mmdet_scope():
    with DefaultScope.overwrite_default_scope('mmdet'):
        yield


@pytest.fixture
def mmseg_scope():
    with DefaultScope.overwrite_default_scope('mmseg'):
        yield
