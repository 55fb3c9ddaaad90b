"""Multi-task pre-training on several credit datasets' shared features, then fine-tuning."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.model_selection import train_test_split

from riskmoe.config import Settings
from riskmoe.data import load_dataset
from riskmoe.exceptions import SchemaError
from riskmoe.models.moe import SHARED_COLUMNS, fine_tune, pretrain, shared_features

FAST = {"max_epochs": 2, "n_ensemble": 1, "expert_hidden": 16, "d_embedding": 4, "random_state": 0}


def _shared(settings: Settings, name: str, n: int) -> tuple[pd.DataFrame, pd.Series]:
    X, y = load_dataset(name, settings=settings).X_y()
    Xs, _, ys, _ = train_test_split(X, y, train_size=n, stratify=y, random_state=0)
    return shared_features(name, Xs).reset_index(drop=True), ys.reset_index(drop=True)


def test_shared_features_of_the_first_german_row(shared_settings: Settings) -> None:
    X, _ = load_dataset("german_credit", settings=shared_settings).X_y()
    row = shared_features("german_credit", X).iloc[0]
    # UCI german.data, first line: "A11 6 A34 A43 1169 A65 A75 4 A93 A101 4 A121 67 A143
    # A152 2 A173 1 A192 A201 1" -> duration 6, amount 1169, age 67, 2 credits, 1 dependent
    assert row["term_months"] == 6
    assert row["log_amount"] == pytest.approx(np.log1p(1169))
    assert row["age_years"] == 67
    assert row["n_credits"] == 2
    assert row["n_dependents"] == 1
    assert np.isnan(row["log_monthly_income"]) and np.isnan(row["debt_ratio"])
    assert list(shared_features("german_credit", X).columns) == list(SHARED_COLUMNS)


def test_pretrain_then_fine_tune_starts_from_the_pretrained_weights(
    shared_settings: Settings,
) -> None:
    sources = {
        "taiwan_credit_card": _shared(shared_settings, "taiwan_credit_card", 600),
        "give_me_some_credit": _shared(shared_settings, "give_me_some_credit", 600),
    }
    pre = pretrain(sources, **FAST)
    assert [t.name for t in pre.aux_tasks_] == [
        "default_taiwan_credit_card",
        "default_give_me_some_credit",
    ]
    before = {k: v.clone() for k, v in pre.module_.state_dict().items()}
    Xg, yg = _shared(shared_settings, "german_credit", 300)

    # a vanishing learning rate leaves the network where pre-training put it
    still = fine_tune(pre, Xg, yg, max_epochs=1, learning_rate=1e-12, random_state=0)
    np.testing.assert_allclose(still.decision_logits(Xg), pre.decision_logits(Xg), atol=1e-5)

    tuned = fine_tune(pre, Xg, yg, max_epochs=3, random_state=0)
    # the pre-trained model is not modified; the fine-tuned one kept its encoder
    for k, v in pre.module_.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert tuned.encoder_ is not pre.encoder_
    assert tuned.encoder_.to_dict() == pre.encoder_.to_dict()
    assert np.abs(tuned.decision_logits(Xg) - pre.decision_logits(Xg)).max() > 1e-3
    p = tuned.predict_proba(Xg)
    assert p.shape == (len(Xg), 2) and np.isfinite(p).all()
    assert len(tuned.best_epochs_) == 1


def test_bad_inputs_are_refused(shared_settings: Settings) -> None:
    with pytest.raises(ValueError, match="no shared-feature map for dataset 'nope'"):
        shared_features("nope", pd.DataFrame({"a": [1]}))
    with pytest.raises(SchemaError, match="lacks columns"):
        shared_features("taiwan_credit_card", pd.DataFrame({"AGE": [1]}))
    X, y = _shared(shared_settings, "taiwan_credit_card", 200)
    with pytest.raises(ValueError, match="at least two sources"):
        pretrain({"taiwan_credit_card": (X, y)})
    with pytest.raises(ValueError, match="the target must be 0/1"):
        pretrain({"a": (X, y), "b": (X, y + 1)})
