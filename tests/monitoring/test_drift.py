"""PSI, KS and ADWIN against the issue's reference value, plain loops, scipy and river."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from river.drift import ADWIN
from scipy import stats

from riskmoe.exceptions import DataError, SchemaError
from riskmoe.monitoring import (
    adwin_change_points,
    drift_report,
    population_stability_index,
    psi,
    psi_band,
)


def test_psi_matches_the_reference_value():
    # issue 6 (and Siddiqi 2006, ch. 8, for the formula): E = (0.4, 0.3, 0.3),
    # A = (0.35, 0.25, 0.40) -> 0.04456
    assert population_stability_index([0.4, 0.3, 0.3], [0.35, 0.25, 0.40]) == pytest.approx(
        0.04456, abs=5e-6
    )


def test_psi_matches_a_plain_loop():
    rng = np.random.default_rng(3)
    e = rng.dirichlet(np.ones(12))
    a = rng.dirichlet(np.ones(12))
    loop = 0.0
    for ei, ai in zip(e, a, strict=True):
        loop += (ai - ei) * math.log(ai / ei)
    assert population_stability_index(e, a) == pytest.approx(loop, rel=1e-12)


def test_psi_on_raw_values_bins_by_expected_deciles():
    rng = np.random.default_rng(1)
    ref, cur = rng.normal(size=2000), rng.normal(0.3, 1.2, 1500)
    edges = np.quantile(ref, np.linspace(0, 1, 11)[1:-1])
    e = np.bincount(np.searchsorted(edges, ref), minlength=10) / ref.size
    a = np.bincount(np.searchsorted(edges, cur), minlength=10) / cur.size
    assert e == pytest.approx(np.full(10, 0.1))
    assert psi(ref, cur) == pytest.approx(population_stability_index(e, a))


def test_psi_bands():
    assert [psi_band(v) for v in (0.0, 0.0999, 0.1, 0.25, 0.2501)] == [
        "stable",
        "stable",
        "moderate",
        "moderate",
        "significant",
    ]


def test_bad_proportions_are_refused():
    with pytest.raises(DataError, match="must sum to 1"):
        population_stability_index([0.5, 0.4], [0.5, 0.5])
    with pytest.raises(DataError, match="same length"):
        population_stability_index([0.5, 0.5], [0.2, 0.3, 0.5])


def test_drift_report_ks_matches_scipy_and_names_missing_columns():
    rng = np.random.default_rng(2)
    ref = pd.DataFrame({"x": rng.normal(size=500), "k": rng.choice(["a", "b"], 500)})
    cur = pd.DataFrame({"x": rng.normal(0.5, 1, 400), "k": rng.choice(["a", "b", "c"], 400)})
    report = drift_report(ref, cur, score_reference=ref["x"], score_current=cur["x"])
    x = next(f for f in report.features if f.feature == "x")
    expected = stats.ks_2samp(ref["x"], cur["x"])
    assert x.ks_statistic == pytest.approx(expected.statistic)
    assert x.ks_pvalue == pytest.approx(expected.pvalue)
    k = next(f for f in report.features if f.feature == "k")
    assert k.kind == "categorical" and k.ks_statistic is None and k.band == "significant"
    assert report.score is not None and report.score.psi == pytest.approx(x.psi)
    with pytest.raises(SchemaError, match=r"\['z'\]"):
        drift_report(ref, cur, columns=["z"])


def test_adwin_fires_where_river_does_on_a_seeded_stream():
    rng = np.random.default_rng(7)
    stream = np.r_[rng.normal(0.0, 1.0, 1500), rng.normal(2.0, 1.0, 1000)]
    fired = adwin_change_points(stream)
    detector, direct = ADWIN(), []
    for i, v in enumerate(stream):
        detector.update(float(v))
        if detector.drift_detected:
            direct.append(i)
    assert fired == direct
    assert fired and 1500 <= fired[0] < 1600  # after the change, within 100 observations
    assert adwin_change_points(rng.normal(size=2500)) == []  # no change: no alarm
