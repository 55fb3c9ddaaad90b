"""A scored portfolio in a real DuckDB store, built the way ``riskmoe run``'s credit stage does.

The PDs come from a logistic regression on the bundled German credit data (fast and real;
the MoE is exercised by the run tests), so the advice jobs can be tested without a full run.
"""

from __future__ import annotations

import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from riskmoe.config import Settings
from riskmoe.data import load_dataset
from riskmoe.data.store import Store, TableVersion
from riskmoe.risk import credit_portfolio_summary


def scored_german_portfolio(settings: Settings, seed: int = 0) -> pd.DataFrame:
    """Held-out German credit cases graded with EL / RWA like ``stage_credit``."""
    data = load_dataset("german_credit", settings=settings)
    X = pd.get_dummies(data.frame.drop(columns=[data.target]), dtype=float)
    y = data.frame[data.target].astype(int)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)
    model = LogisticRegression(max_iter=2000).fit((X_tr - X_tr.mean()) / X_tr.std(), y_tr)
    pd_ = model.predict_proba((X_te - X_tr.mean()) / X_tr.std())[:, 1]
    purpose = data.frame.loc[X_te.index, "purpose"].astype(str).to_numpy()
    exposures = pd.DataFrame(
        {
            "pd": pd_,
            "lgd": 0.45,
            "ead": X_te["credit_amount"].to_numpy(),
            "asset_class": "other_retail",
            "segment": purpose,
        }
    )
    summary = credit_portfolio_summary(exposures)
    graded = summary.exposures.assign(row=X_te.index.to_numpy(), y=y_te.to_numpy())
    graded["grade"] = graded["grade"].astype(str)
    return graded.reset_index(drop=True)


def store_portfolio(
    settings: Settings, dataset: str = "german_credit", seed: int = 0
) -> TableVersion:
    """Ingest the portfolio as ``<dataset>_portfolio`` in the settings' store."""
    settings.home.mkdir(parents=True, exist_ok=True)
    with Store(settings.resolved_store_path) as store:
        return store.ingest(f"{dataset}_portfolio", scored_german_portfolio(settings, seed))
