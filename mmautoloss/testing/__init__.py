"""Helpers of this repository's test suite (as ``mmdet.testing``): search-job builders, a
short ToyDet training run, brute-force references of what the ParamAP heads hand their
loss. They import OpenMMLab libraries and need a source checkout; the package itself never
imports them."""
from .search_jobs import (
                          OBJECTIVE_JOB,
                          PLAN_TOOL,
                          REPO,
                          SEARCH_TOOL,
                          env_with_counter,
                          killed_and_resumed,
                          objective,
                          search_cmd,
                          search_config_text,
                          sigkill_after_trials,
                          trial_events,
                          write_proxy,
                          write_search_config,
)

__all__ = ['OBJECTIVE_JOB', 'PLAN_TOOL', 'REPO', 'SEARCH_TOOL', 'env_with_counter',
           'killed_and_resumed', 'objective', 'search_cmd', 'search_config_text',
           'sigkill_after_trials', 'trial_events', 'write_proxy', 'write_search_config']
