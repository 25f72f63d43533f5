"""The Ray worker's task module: it names the outcome files itself (it may not import
mmautoloss), so its list must stay the one the driver uses."""
from mmautoloss.search.executors.ray_trial_task import STALE_OUTPUTS
from mmautoloss.search.structures import TRIAL_OUTCOME_FILES


def test_a_retried_attempt_removes_every_outcome_file_the_driver_knows():
    # a retry must not append to, or read, the dead attempt's metrics or validation history
    assert sorted(STALE_OUTPUTS) == sorted(TRIAL_OUTCOME_FILES)
