"""add_expert: a new expert on a new feature group, the old experts frozen bit for bit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.model_selection import train_test_split

from riskmoe.config import Settings, default_shared_data_dirs
from riskmoe.data import load_dataset
from riskmoe.exceptions import SchemaError
from riskmoe.features import FeatureGroup
from riskmoe.models import MoERiskClassifier
from riskmoe.models.moe import ExtendedMoEClassifier, add_expert

MACRO = ("UNRATE", "FEDFUNDS", "BAAFFM", "T10YFFM")

# Lending Club + FRED-MD load and a base fit: about 20-60 s on a busy 2-core machine
pytestmark = pytest.mark.slow


def _lending_club_with_macro(settings: Settings, n: int) -> tuple[pd.DataFrame, pd.Series]:
    """Lending Club rows joined to FRED-MD of the month before each loan's issue month."""
    ds = load_dataset("lending_club", settings=settings)
    X, y = ds.X_y()
    fred = load_dataset("fred_md", settings=settings).frame
    month = ds.frame["issue_d"].dt.to_period("M") - 1
    macro = fred[list(MACRO)].set_axis(pd.PeriodIndex(fred["date"].dt.to_period("M")), axis=0)
    X = X.join(pd.DataFrame(macro.reindex(month).to_numpy(), columns=MACRO, index=X.index))
    Xs, _, ys, _ = train_test_split(X, y, train_size=n, stratify=y, random_state=0)
    return Xs.reset_index(drop=True), ys.reset_index(drop=True).astype(int)


@pytest.fixture(scope="module")
def data_and_base() -> tuple[pd.DataFrame, pd.Series, MoERiskClassifier]:
    if not any(d.is_dir() for d in default_shared_data_dirs()):
        pytest.skip("../shared/data is not beside the project")
    settings = Settings(offline=True)
    X, y = _lending_club_with_macro(settings, 2000)
    base_cols = [c for c in X.columns if c not in MACRO]
    base = MoERiskClassifier(
        max_epochs=3, n_ensemble=2, expert_hidden=16, d_embedding=4, random_state=0
    ).fit(X.loc[:999, base_cols], y.loc[:999])
    return X, y, base


def test_frozen_experts_stay_bit_identical(
    data_and_base: tuple[pd.DataFrame, pd.Series, MoERiskClassifier],
) -> None:
    X, y, base = data_and_base
    before = {k: v.clone() for k, v in base.module_.state_dict().items()}
    base_cols = list(base.encoder_.columns_)
    p_before = base.predict_proba(X[base_cols])
    new = X.loc[1000:]
    ext = add_expert(base, {"macro": MACRO}, new, y.loc[1000:], max_epochs=3, random_state=0)
    assert isinstance(ext, ExtendedMoEClassifier)
    # the base model object is untouched ...
    after = base.module_.state_dict()
    assert before.keys() == after.keys()
    for k, v in before.items():
        assert torch.equal(v, after[k]), k
    np.testing.assert_array_equal(base.predict_proba(X[base_cols]), p_before)
    # ... and so are the copies inside the extended members, which never get gradients
    for member, original in zip(ext.members_, base.module_.members, strict=True):
        for (name, p), (_, q) in zip(
            member.base.named_parameters(), original.named_parameters(), strict=True
        ):
            assert torch.equal(p, q), name
            assert not p.requires_grad
        assert any(p.requires_grad for p in member.expert.parameters())
    assert ext.expert_names_[-1] == f"routed_{base.n_experts_}[macro]"
    assert len(ext.members_) == base.n_ensemble_ == 2
    p = ext.predict_proba(X)
    assert p.shape == (len(X), 2) and np.isfinite(p).all()
    usage = ext.expert_usage(X)
    assert usage.shape == (base.n_experts_ + 1,)
    assert usage.sum() == pytest.approx(base.top_k)


def test_new_expert_input_matters(
    data_and_base: tuple[pd.DataFrame, pd.Series, MoERiskClassifier],
) -> None:
    X, y, base = data_and_base
    ext = add_expert(
        base,
        FeatureGroup("macro", MACRO),
        X.loc[1000:],
        y.loc[1000:],
        max_epochs=3,
        random_state=0,
    )
    shifted = X.copy()
    shifted["UNRATE"] = shifted["UNRATE"] + 5.0
    assert np.abs(ext.decision_logits(shifted) - ext.decision_logits(X)).max() > 0


def test_bad_extensions_are_refused(
    data_and_base: tuple[pd.DataFrame, pd.Series, MoERiskClassifier],
) -> None:
    X, y, base = data_and_base
    with pytest.raises(SchemaError, match="already uses"):
        add_expert(base, {"dup": ["int_rate"]}, X, y)
    with pytest.raises(SchemaError, match="lacks columns"):
        add_expert(base, {"macro": MACRO}, X.drop(columns=["UNRATE"]), y)
    with pytest.raises(ValueError, match="one-item mapping"):
        add_expert(base, {"a": ["UNRATE"], "b": ["FEDFUNDS"]}, X, y)
    with pytest.raises(ValueError, match="validation_fraction must be in"):
        add_expert(base, {"macro": MACRO}, X, y, validation_fraction=0.0)
    with pytest.raises(ValueError, match="the model was fitted on"):
        add_expert(base, {"macro": MACRO}, X, y.map({0: "good", 1: "bad"}))
    ext = add_expert(base, {"macro": MACRO}, X.loc[1000:], y.loc[1000:], max_epochs=1)
    with pytest.raises(SchemaError, match="lacks the new expert's columns"):
        ext.predict_proba(X.drop(columns=["FEDFUNDS"]))
