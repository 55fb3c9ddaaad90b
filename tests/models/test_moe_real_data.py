"""Sanity on real data: the bundled UCI German credit file, default hyper-parameters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from riskmoe.config import Settings
from riskmoe.data import load_dataset
from riskmoe.models import MoERiskClassifier


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_german_credit_held_out_auc(tmp_path: Path):
    settings = Settings(home=tmp_path / "home", use_shared_data=False, offline=True)
    ds = load_dataset("german_credit", settings=settings)
    X, y = ds.X_y()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    clf = MoERiskClassifier(feature_groups=dict(ds.feature_groups), random_state=0)
    clf.fit(X_train, y_train)
    p = clf.predict_proba(X_test)[:, 1]
    assert roc_auc_score(y_test, p) > 0.7
    # calibrated: the mean predicted default rate is close to the observed one
    assert abs(p.mean() - np.mean(y_test)) < 0.05
    codes = clf.explain(X_test.head(3)).reason_codes
    assert all(code.split(" = ")[0] in X.columns for row in codes for code in row)
