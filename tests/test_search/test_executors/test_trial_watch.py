"""How long an executor's driver may block, and when the watch says nothing (no early
stopping): checked against the deadlines and the rule's poll interval by hand."""
import time

import pytest

from mmautoloss.search.early_stopping import ASHAStopping
from mmautoloss.search.executors.trial_watch import TrialWatch
from mmautoloss.search.trial import TrialSpec


def test_the_wait_ends_at_the_earliest_deadline_or_the_next_look():
    watch = TrialWatch(timeout_s=30.0, early_stopping=None)
    now = time.monotonic()
    assert watch.deadline(now) == now + 30.0
    assert watch.wait_s(()) is None  # nothing to wait for: as long as it takes
    assert watch.wait_s([now + 5.0, now + 2.0]) == pytest.approx(2.0, abs=0.1)
    assert watch.wait_s([now - 1.0]) == 0.0  # a deadline already passed
    asha = TrialWatch(30.0, ASHAStopping('mIoU', poll_interval_s=0.5))
    assert asha.wait_s(()) == 0.5
    assert asha.wait_s([now + 5.0]) == 0.5
    assert asha.wait_s([now + 0.1]) == pytest.approx(0.1, abs=0.05)


def test_without_a_rule_no_trial_is_hopeless(tmp_path):
    watch = TrialWatch(30.0, None)
    spec = TrialSpec(trial_id='t', candidate=[0.5], overrides={}, work_dir=str(tmp_path))
    watch.starting('t')
    watch.finished(spec)
    assert watch.hopeless(spec, time.monotonic()) is None
