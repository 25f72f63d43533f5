"""The forecast's arithmetic and the budget sized to hours, against hand computations."""
import pytest

from mmautoloss.search.planning.forecast import Forecast, TrialTiming, proxy_trainings, size_budget


def test_a_trial_is_start_up_plus_iterations_plus_validations():
    timing = TrialTiming(startup_s=4.0, iter_s=0.5, val_s=2.0)
    assert timing.trial_s(300) == 4.0 + 150.0 + 2.0
    assert timing.trial_s(100, validations=3) == 4.0 + 50.0 + 6.0


def test_a_search_forecast_counts_rounds_of_concurrent_trials():
    forecast = Forecast(trial_s=100, trainings=10, retrain_trial_s=300, retrain_trainings=9,
                        concurrency=4)
    assert (forecast.search_s, forecast.retrain_s) == (300, 900)  # ceil(10/4), ceil(9/4)
    assert forecast.total_s == 1200
    assert proxy_trainings('alz', rounds=15, samples=3, population=20) == 62
    assert proxy_trainings('asl', rounds=12, samples=8, population=None) == 96


def test_a_budget_fits_the_hours_left_after_re_training():
    # 1 h - 600 s of re-training = 3000 s = 30 trials of 100 s
    assert size_budget('asl', 1, 100, 600, 1, (12, 8), None) == (3, 8, None)
    assert size_budget('alz', 1, 100, 600, 1, (160, 3), 20) == (4, 3, 20)  # 20 + 3 x 3
    assert size_budget('pap', 1, 100, 600, 4, (40, 8), None) == (15, 8, None)  # 120 trials
    assert size_budget('asl', 1, 100, 3450, 1, (12, 8), None) == (1, 1, None)


def test_a_budget_below_one_trial_is_refused_with_both_figures():
    with pytest.raises(ValueError, match=r'one proxy trial takes 100 s and the re-training '
                                         r'stage 600 s'):
        size_budget('asl', 0.1, 100, 600, 1, (12, 8), None)
