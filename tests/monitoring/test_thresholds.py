"""Band and regime thresholds; the signal approach counted by hand."""

from __future__ import annotations

import numpy as np
import pytest

from riskmoe.monitoring import BandThreshold, RegimeThreshold, episode_starts, evaluate_signals


def test_band_threshold_is_mean_plus_k_sample_sd():
    x = np.random.default_rng(0).normal(5, 2, 300)
    band = BandThreshold.fit(x, k=2.5)
    assert band.upper == pytest.approx(x.mean() + 2.5 * x.std(ddof=1))
    assert band.lower == pytest.approx(x.mean() - 2.5 * x.std(ddof=1))


def test_adaptive_threshold_switches_on_a_constructed_regime():
    rng = np.random.default_rng(1)
    indicator = rng.normal(0, 1, 1000)
    stress = np.r_[rng.uniform(0, 1, 800), rng.uniform(2, 3, 200)]  # last 200 days stressed
    rule = RegimeThreshold.fit(indicator, stress, k_calm=2.0, k_stressed=1.0, stress_quantile=0.8)
    assert rule.calm == pytest.approx(indicator.mean() + 2 * indicator.std(ddof=1))
    assert rule.stressed == pytest.approx(indicator.mean() + 1 * indicator.std(ddof=1))
    assert rule.stress_cut == pytest.approx(np.quantile(stress, 0.8))
    regimes = rule.regime(stress)
    assert (regimes[:800] == "calm").all() and (regimes[800:] == "stressed").all()
    thr = rule.at(stress)
    assert (thr[:800] == rule.calm).all() and (thr[800:] == rule.stressed).all()
    # an indicator reading between the two bands warns only in the stressed regime
    x = (rule.calm + rule.stressed) / 2
    assert (x > rule.at([0.1, 2.5])).tolist() == [False, True]


def test_a_threshold_that_loosens_under_stress_is_refused():
    with pytest.raises(ValueError, match="tightens"):
        RegimeThreshold(calm=1.0, stressed=2.0, stress_cut=0.0)


def test_signal_counts_against_a_hand_count():
    #         0  1  2  3  4  5  6  7  8  9 10 11 12 13 14 15 16 17 18 19
    x = np.array([0, 0, 9, 0, 0, 0, 0, 9, 9, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0], float)
    # events start at 10 and 19; horizon 4: windows [6, 10) and [15, 19)
    ev = evaluate_signals(x, 5.0, [10, 19], horizon=4)
    assert (ev.hits, ev.misses) == (2, 0)
    assert ev.lead_times == (3, 4)  # first signals at 7 and 15
    # day 2 signals with no event within 4 days: the one false alarm
    assert ev.false_alarms == 1
    # kept: days outside [10, 14] and [19, 19]; labelled: 6-9 and 15-18
    assert (ev.tp, ev.fp, ev.fn, ev.tn) == (3, 1, 5, 5)
    assert ev.noise_to_signal == pytest.approx((1 / 6) / (3 / 8))
    assert ev.auroc is not None and 0.5 < ev.auroc <= 1.0


def test_a_missed_event_and_episodes():
    ev = evaluate_signals(np.zeros(30), 1.0, [20], horizon=5)
    assert (ev.hits, ev.misses, ev.lead_times, ev.noise_to_signal) == (0, 1, (), None)
    assert episode_starts([0, 1, 1, 0, 0, 0, 1, 0, 1], min_gap=3) == [1, 6]
