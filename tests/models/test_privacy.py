"""DP-SGD training (Opacus) and routing noise at inference."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from opacus.accountants import PRVAccountant
from scipy.optimize import brentq
from scipy.stats import norm
from sklearn.model_selection import train_test_split

from riskmoe.config import Settings
from riskmoe.data import load_dataset
from riskmoe.exceptions import NotFittedError
from riskmoe.models import MoERiskClassifier
from riskmoe.models.moe import DPMoEClassifier, privacy_spent, routing_noise


def _german(settings: Settings, n: int) -> tuple[pd.DataFrame, pd.Series]:
    X, y = load_dataset("german_credit", settings=settings).X_y()
    Xs, _, ys, _ = train_test_split(X, y, train_size=n, stratify=y, random_state=0)
    return Xs.reset_index(drop=True), ys.reset_index(drop=True)


def _analytic_gaussian_epsilon(sigma: float, delta: float) -> float:
    """Exact epsilon of one Gaussian mechanism with sensitivity 1 and noise std sigma.

    Balle & Wang, "Improving the Gaussian Mechanism for Differential Privacy", ICML 2018,
    Theorem 8: delta(eps) = Phi(1/(2 sigma) - eps sigma) - e^eps Phi(-1/(2 sigma) - eps sigma).
    """

    def gap(eps: float) -> float:
        a, b = 1 / (2 * sigma), eps * sigma
        return float(norm.cdf(a - b) - math.exp(eps) * norm.cdf(-a - b) - delta)

    return float(brentq(gap, 0.0, 100.0))


@pytest.mark.parametrize("sigma", [0.7, 1.0, 2.0, 4.0])
def test_one_full_batch_step_matches_the_analytic_gaussian_mechanism(sigma: float) -> None:
    # q = 1, one step: the RDP bound must be valid (>= the exact epsilon) and close to it
    exact = _analytic_gaussian_epsilon(sigma, 1e-5)
    rdp = privacy_spent(sigma, 1.0, 1, 1e-5)
    assert exact <= rdp <= 1.12 * exact


@pytest.mark.parametrize("sigma", [0.8, 1.0, 2.0])
def test_subsampled_epsilon_agrees_with_the_prv_accountant(sigma: float) -> None:
    # Gopi, Lee, Wutschitz, "Numerical Composition of Differential Privacy", NeurIPS 2021
    # (Opacus' PRV accountant) is tighter than RDP; both bound the same mechanism.
    prv = PRVAccountant()
    prv.history = [(sigma, 0.01, 1000)]
    tight = prv.get_epsilon(delta=1e-5)
    rdp = privacy_spent(sigma, 0.01, 1000, 1e-5)
    assert tight <= rdp <= 1.25 * tight


def test_no_noise_means_no_guarantee() -> None:
    assert privacy_spent(0.0, 0.1, 10, 1e-5) == math.inf


@pytest.mark.slow
def test_epsilon_is_reported_and_falls_as_noise_rises(shared_settings: Settings) -> None:
    X, y = _german(shared_settings, 300)
    reports = []
    for sigma in (0.6, 1.2, 2.4):
        clf = DPMoEClassifier(
            noise_multiplier=sigma,
            epochs=1,
            batch_size=64,
            moe_params={"expert_hidden": 16, "d_embedding": 4},
            random_state=0,
        ).fit(X, y)
        reports.append(clf.privacy_)
        p = clf.predict_proba(X)[:, 1]
        assert np.isfinite(p).all() and ((p >= 0) & (p <= 1)).all()
    eps = [r.epsilon for r in reports]
    assert eps[0] > eps[1] > eps[2] > 0
    for r in reports:
        assert r.delta < 1 / len(X)
        assert r.n_train == len(X)
        assert r.steps == round(len(X) / 64)
        assert r.epsilon == pytest.approx(
            privacy_spent(r.noise_multiplier, r.sample_rate, r.steps, r.delta)
        )
        assert r.to_dict()["epsilon"] == r.epsilon


def test_target_epsilon_is_met_tightly(shared_settings: Settings) -> None:
    X, y = _german(shared_settings, 300)
    clf = DPMoEClassifier(
        target_epsilon=2.0,
        epochs=1,
        batch_size=64,
        moe_params={"expert_hidden": 16, "d_embedding": 4},
        random_state=0,
    ).fit(X, y)
    # Opacus searches sigma to epsilon_tolerance 0.01
    assert 1.9 <= clf.privacy_.epsilon <= 2.0
    assert clf.privacy_.noise_multiplier > 0
    assert clf.model_.dispatch == "dense"
    assert clf.model_.n_ensemble_ == 1


def test_infinite_epsilon_trains_without_noise(shared_settings: Settings) -> None:
    X, y = _german(shared_settings, 300)
    clf = DPMoEClassifier(
        target_epsilon=math.inf,
        epochs=1,
        batch_size=64,
        moe_params={"expert_hidden": 16, "d_embedding": 4},
        random_state=0,
    ).fit(X, y)
    assert clf.privacy_.noise_multiplier == 0.0
    assert clf.privacy_.epsilon == math.inf
    assert clf.privacy_.to_dict()["epsilon"] is None


def test_bad_privacy_parameters_are_refused(shared_settings: Settings) -> None:
    X, y = _german(shared_settings, 200)
    with pytest.raises(ValueError, match=r"target_delta must be in \(0, 1/n\)"):
        DPMoEClassifier(target_delta=0.01).fit(X, y)
    with pytest.raises(ValueError, match="target_epsilon must be a number > 0"):
        DPMoEClassifier(target_epsilon=0).fit(X, y)
    with pytest.raises(ValueError, match="noise_multiplier must be None or a number >= 0"):
        DPMoEClassifier(noise_multiplier=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="epochs must be an integer >= 1"):
        DPMoEClassifier(epochs=0).fit(X, y)
    with pytest.raises(NotFittedError, match="not fitted"):
        DPMoEClassifier().predict_proba(X)


def test_routing_noise_changes_expert_choice_and_is_removed_on_exit(
    shared_settings: Settings,
) -> None:
    X, y = _german(shared_settings, 400)
    clf = MoERiskClassifier(max_epochs=3, n_ensemble=1, random_state=0).fit(X, y)
    clean = clf.predict_proba(X)
    clean_gates = clf.explain(X.head(50), n_steps=2).gate_weights
    with routing_noise(clf, std=0.0):
        np.testing.assert_array_equal(clf.predict_proba(X), clean)
    with routing_noise(clf, std=3.0, random_state=1):
        noisy = clf.predict_proba(X)
        noisy_gates = clf.explain(X.head(50), n_steps=2).gate_weights
    assert not np.array_equal(np.asarray(noisy_gates) > 0, np.asarray(clean_gates) > 0), (
        "strong routing noise must change some rows' expert selection"
    )
    assert np.abs(noisy - clean).max() > 0
    np.testing.assert_array_equal(clf.predict_proba(X), clean)
    with pytest.raises(ValueError, match="std must be a number >= 0"):
        with routing_noise(clf, std=-1.0):
            pass
