"""RecordScorer: PDs of records, bit for bit predict_proba on the frame of the same batch."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
import torch

from riskmoe.config import Settings
from riskmoe.data import load_dataset
from riskmoe.exceptions import NotFittedError, SchemaError
from riskmoe.models import MoERiskClassifier, RecordScorer
from riskmoe.risk import MasterScale
from riskmoe.workflow.models import score_frame, score_records


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    # one-row forward passes are latency-bound; several threads only contend
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> tuple[MoERiskClassifier, list[dict]]:
    """A small two-member MoE on German credit, and the rows as JSON records."""
    home = tmp_path_factory.mktemp("scorer") / "home"
    ds = load_dataset("german_credit", settings=Settings(home=home, offline=True))
    X, y = ds.X_y()
    model = MoERiskClassifier(max_epochs=2, n_ensemble=2, expert_hidden=16, random_state=0)
    model.fit(X.iloc[:800], y[:800])
    records = json.loads(json.dumps(X.iloc[800:].astype(object).to_dict(orient="records")))
    return model, records


def _frame(records: list[dict], model: MoERiskClassifier) -> pd.DataFrame:
    return pd.DataFrame({c: [r[c] for r in records] for c in model.feature_names_in_})


def test_pds_equal_predict_proba_for_batches_and_single_rows(fitted):
    model, records = fitted
    scorer = RecordScorer(model)
    np.testing.assert_array_equal(
        scorer.predict_proba(records), model.predict_proba(_frame(records, model))[:, 1]
    )
    for rec in records[:20]:
        expected = model.predict_proba(_frame([rec], model))[0, 1]
        assert scorer.predict_proba([rec])[0] == expected


def test_edge_cases_score_as_the_frame_path(fitted):
    model, records = fitted
    scorer = RecordScorer(model)
    base = records[0]
    numeric = next(c for c in model.encoder_.numeric_).name
    categorical = next(c for c in model.encoder_.categorical_).name
    odd = [
        dict(base, **{numeric: None}),
        dict(base, **{numeric: math.nan}),
        dict(base, **{numeric: "12"}),  # numeric text: the frame path's to_numeric
        dict(base, **{numeric: True}),
        dict(base, **{categorical: "never seen"}),
        dict(base, **{categorical: None}),
    ]
    for rec in odd:
        assert scorer.predict_proba([rec])[0] == model.predict_proba(_frame([rec], model))[0, 1]
    np.testing.assert_array_equal(
        scorer.predict_proba(odd), model.predict_proba(_frame(odd, model))[:, 1]
    )


def test_score_records_grades_as_score_frame(fitted):
    model, records = fitted
    scored = score_records(RecordScorer(model), records)
    expected = score_frame(model, _frame(records, model))
    np.testing.assert_array_equal(scored.pd, expected["pd"].to_numpy())
    assert scored.grade.tolist() == expected["grade"].tolist()
    assert scored.tier.tolist() == expected["tier"].tolist()
    assert set(scored.tier.tolist()) <= {str(t) for t in MasterScale().tier(scored.pd)}


def test_bad_records_get_the_encoders_errors(fitted):
    model, records = fitted
    scorer = RecordScorer(model)
    numeric = model.encoder_.numeric_[0].name
    with pytest.raises(SchemaError, match=f"column '{numeric}' was numeric at fit time"):
        scorer.predict_proba([dict(records[0], **{numeric: "lots"})])
    with pytest.raises(SchemaError, match=f"lack 1 field.*'{numeric}'"):
        scorer.predict_proba([{k: v for k, v in records[0].items() if k != numeric}])


def test_an_unfitted_model_is_refused():
    with pytest.raises(NotFittedError):
        RecordScorer(MoERiskClassifier())
