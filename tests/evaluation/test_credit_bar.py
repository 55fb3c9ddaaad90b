"""The credit benchmark's bar: AUC against LightGBM, pooled calibration, speed against the MLP."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmoe.evaluation import calibrated_ece_draws, ece_noise_floor, summarize
from riskmoe.evaluation.credit_bar import bar_markdown, credit_bar, pooled_calibration


def _summary(rows: dict[tuple[str, str], tuple[float, float, float]]) -> pd.DataFrame:
    """Two folds per (dataset, model) with the given mean AUC, ECE and rows/s."""
    records = [
        {
            "dataset": ds,
            "model": m,
            "fold": f,
            "auc": auc + d,
            "ece": ece,
            "predict_rows_per_s": rps,
        }
        for (ds, m), (auc, ece, rps) in rows.items()
        for f, d in enumerate((-0.001, 0.001))
    ]
    return summarize(pd.DataFrame(records))


def _calibration(ece: float, p95: float) -> dict[str, dict[str, float]]:
    return {"moe": {"ece": ece, "noise_floor": p95 / 2, "noise_p95": p95, "rows": 1000}}


def test_bar_checks_mean_and_worst_auc_gap_ece_and_speed():
    summary = _summary(
        {
            ("a", "moe"): (0.80, 0.01, 2000.0),
            ("a", "lightgbm"): (0.79, 0.01, 9000.0),
            ("a", "mlp"): (0.75, 0.01, 1000.0),
            ("b", "moe"): (0.700, 0.01, 3000.0),
            ("b", "lightgbm"): (0.704, 0.01, 9000.0),
            ("b", "mlp"): (0.70, 0.01, 3000.0),
        }
    )
    calibration = {"a": _calibration(0.015, 0.01), "b": _calibration(0.03, 0.05)}
    bar = credit_bar(summary, calibration)
    assert bar["auc"]["mean"]["moe"] == pytest.approx(0.75)
    assert bar["auc"]["worst"]["dataset"] == "b"
    assert bar["auc"]["worst"]["gap"] == pytest.approx(-0.004)
    assert bar["auc"]["met"] is True
    # b's 0.03 is over the limit but inside what a calibrated model shows on its rows
    assert [r["met"] for r in bar["ece"]["rows"]] == [True, False]
    assert bar["ece"]["met"] is False and bar["ece"]["met_or_within_noise"] is True
    assert [r["ratio"] for r in bar["speed"]["rows"]] == pytest.approx([2.0, 1.0])
    assert bar["speed"]["met"] is True
    assert bar["met"] is False
    text = "\n".join(bar_markdown(bar))
    assert "| b | 0.7000 | 0.7040 | -0.0040 |" in text
    assert "worst dataset b (-0.0040)" in text


def test_bar_fails_on_one_dataset_too_far_below_or_slower():
    summary = _summary(
        {
            ("a", "moe"): (0.90, 0.01, 500.0),
            ("a", "lightgbm"): (0.80, 0.01, 1.0),
            ("a", "mlp"): (0.80, 0.01, 1000.0),
            ("b", "moe"): (0.70, 0.01, 5000.0),
            ("b", "lightgbm"): (0.71, 0.01, 1.0),
            ("b", "mlp"): (0.70, 0.01, 1000.0),
        }
    )
    bar = credit_bar(summary, {"a": _calibration(0.01, 0.02), "b": _calibration(0.01, 0.02)})
    assert bar["auc"]["mean"]["moe"] > bar["auc"]["mean"]["lightgbm"]
    assert bar["auc"]["met"] is False  # b trails by 0.01 > 0.005
    assert bar["speed"]["met"] is False  # a is at half the MLP's rows/s
    assert bar["ece"]["met"] is True


def test_bar_without_the_reference_model_is_not_checked():
    summary = _summary({("a", "moe"): (0.8, 0.01, 1.0)})
    bar = credit_bar(summary, {})
    assert bar["auc"]["met"] is None and bar["speed"]["met"] is None and bar["met"] is None
    assert "not checked" in "\n".join(bar_markdown(bar))


def test_pooled_calibration_tells_noise_from_miscalibration():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.02, 0.6, 800)
    y = (rng.random(800) < p).astype(int)
    oof = {"calibrated": p, "too_high": np.clip(p + 0.1, 0, 1), "unscored": np.full(800, np.nan)}
    out = pooled_calibration(y, oof)
    assert set(out) == {"calibrated", "too_high"}
    assert out["calibrated"]["ece"] <= out["calibrated"]["noise_p95"]
    assert out["too_high"]["ece"] > out["too_high"]["noise_p95"]
    assert out["calibrated"]["rows"] == 800


def test_noise_floor_shrinks_with_rows_and_rejects_bad_probabilities():
    small = ece_noise_floor(np.full(100, 0.3))
    large = ece_noise_floor(np.full(10_000, 0.3))
    # one bin: E|mean(y) - p| ~ sqrt(2 p (1 - p) / (pi n)), 10x smaller for 100x the rows
    assert small == pytest.approx(np.sqrt(2 * 0.21 / (np.pi * 100)), rel=0.1)
    assert large == pytest.approx(small / 10, rel=0.15)
    assert calibrated_ece_draws([0.2, 0.4], n_draws=7).shape == (7,)
    with pytest.raises(ValueError, match="within \\[0, 1\\]"):
        ece_noise_floor([0.5, 1.5])
    with pytest.raises(ValueError, match="at least one"):
        ece_noise_floor([])
