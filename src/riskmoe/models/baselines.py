"""Configured baseline models: wrappers of scikit-learn estimators, never re-implementations."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

__all__ = ["make_logistic", "positive_scores"]


def make_logistic(*, C: float = 1.0, random_state: int | None = 0) -> Pipeline:
    """Scorecard-style logistic regression: one-hot categoricals, scaled numerics.

    Numeric columns are median-imputed and standardised; categorical (non-numeric)
    columns are mode-imputed and one-hot encoded with unseen categories ignored at
    predict time. Class weights are balanced so the rare class is not ignored.

    Parameters
    ----------
    C : float
        Inverse L2 regularisation strength.
    random_state : int or None
        Seed for the solver.

    Returns
    -------
    sklearn.pipeline.Pipeline
        An unfitted pipeline taking a DataFrame.
    """
    if C <= 0:
        raise ValueError(f"C must be > 0; got {C}.")
    numeric = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    categorical = make_pipeline(
        SimpleImputer(strategy="most_frequent"),
        OneHotEncoder(handle_unknown="ignore", sparse_output=False),
    )
    pre = ColumnTransformer(
        [
            ("numeric", numeric, make_column_selector(dtype_include=np.number)),
            ("categorical", categorical, make_column_selector(dtype_exclude=np.number)),
        ]
    )
    model = LogisticRegression(
        C=C, class_weight="balanced", max_iter=2000, random_state=random_state
    )
    return Pipeline([("preprocess", pre), ("model", model)])


def positive_scores(model: Pipeline, X: pd.DataFrame) -> np.ndarray:
    """Probability of class 1 from a fitted binary classifier."""
    return np.asarray(model.predict_proba(X))[:, 1]
