"""Multi-task pre-training on several credit datasets' shared features, then fine-tuning.

Credit datasets describe borrowers with different columns, but a few quantities recur:
age, the amount lent (or the credit limit), the term, the number of open credits, income,
the debt ratio and dependents. :func:`shared_features` maps a dataset's own columns to that
shared schema (:data:`SHARED_COLUMNS`; absent quantities are NaN, which the MoE encodes
with a missing indicator; amounts and incomes as ``log1p`` in the source currency).

:func:`pretrain` fits one :class:`MoERiskClassifier` on the pooled rows of several
datasets: the main task is the pooled default flag, and every source dataset adds an
auxiliary task (its own default flag, missing on the other datasets' rows) with its own
gate (MMoE), so experts can specialise by source. :func:`fine_tune` then continues training
the pre-trained network -- encoder (bins) and all weights as initial values -- on a small
dataset's rows in the shared schema, with early stopping and a fresh calibration.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, cast

import numpy as np
import pandas as pd
import torch

from riskmoe.models.moe._calibration import fit_calibrator
from riskmoe.models.moe._estimator import MoERiskClassifier, _auto_batch_size, _seed_from
from riskmoe.models.moe._inputs import align_columns, as_frame, encode_target
from riskmoe.models.moe._network import MoEEnsemble, MoENetwork
from riskmoe.models.moe._training import TaskKind, TrainConfig, make_batch, train_network

__all__ = ["SHARED_COLUMNS", "SHARED_FEATURE_MAPS", "fine_tune", "pretrain", "shared_features"]

SHARED_COLUMNS = (
    "age_years",
    "log_amount",
    "term_months",
    "n_credits",
    "log_monthly_income",
    "debt_ratio",
    "n_dependents",
)
"""The shared schema, in order."""

SHARED_FEATURE_MAPS: dict[str, dict[str, str]] = {
    "german_credit": {
        "age_years": "age_in_years",
        "log_amount": "credit_amount",
        "term_months": "duration_in_month",
        "n_credits": "number_of_existing_credits_at_this_bank",
        "n_dependents": "number_of_people_being_liable_to_provide_maintenance_for",
    },
    "taiwan_credit_card": {"age_years": "AGE", "log_amount": "LIMIT_BAL"},
    "give_me_some_credit": {
        "age_years": "age",
        "n_credits": "NumberOfOpenCreditLinesAndLoans",
        "log_monthly_income": "MonthlyIncome",
        "debt_ratio": "DebtRatio",
        "n_dependents": "NumberOfDependents",
    },
    "lending_club": {
        "log_amount": "loan_amnt",
        "term_months": "term_months",
        "n_credits": "open_acc",
        "log_monthly_income": "annual_inc",
        "debt_ratio": "dti",
    },
}
"""Per dataset: shared column -> the dataset's own column."""

_LOG = {"log_amount", "log_monthly_income"}


def shared_features(dataset: str, X: pd.DataFrame) -> pd.DataFrame:
    """Map a credit dataset's columns to :data:`SHARED_COLUMNS`.

    Amounts and incomes become ``log1p`` (Lending Club's annual income is divided by 12, its
    ``dti`` percentage by 100, so every ``debt_ratio`` is a fraction); absent quantities
    are NaN.

    Parameters
    ----------
    dataset : str
        A key of :data:`SHARED_FEATURE_MAPS`.
    X : DataFrame
        The dataset's features (``Dataset.X_y()[0]``).

    Returns
    -------
    DataFrame
        Same index, columns :data:`SHARED_COLUMNS`, float64.

    Raises
    ------
    ValueError
        For a dataset without a mapping.
    SchemaError
        If X lacks a mapped column.

    Examples
    --------
    >>> X = pd.DataFrame({"AGE": [30, 41], "LIMIT_BAL": [20000.0, 0.0]})
    >>> shared_features("taiwan_credit_card", X).round(3).iloc[:, :3]
       age_years  log_amount  term_months
    0       30.0       9.904          NaN
    1       41.0       0.000          NaN
    """
    from riskmoe.exceptions import SchemaError

    if dataset not in SHARED_FEATURE_MAPS:
        raise ValueError(
            f"no shared-feature map for dataset {dataset!r}; known: {sorted(SHARED_FEATURE_MAPS)}."
        )
    mapping = SHARED_FEATURE_MAPS[dataset]
    lacking = [c for c in mapping.values() if c not in X.columns]
    if lacking:
        raise SchemaError(f"{dataset} frame lacks columns {lacking!r} of its shared-feature map.")
    out = pd.DataFrame(index=X.index)
    for name in SHARED_COLUMNS:
        if name not in mapping:
            out[name] = np.nan
            continue
        col = pd.to_numeric(X[mapping[name]], errors="coerce").astype(float)
        if dataset == "lending_club" and name == "log_monthly_income":
            col = col / 12.0
        if dataset == "lending_club" and name == "debt_ratio":
            col = col / 100.0
        out[name] = np.log1p(col.clip(lower=0)) if name in _LOG else col
    return out


def pretrain(
    sources: Mapping[str, tuple[pd.DataFrame, Any]],
    **moe_params: Any,
) -> MoERiskClassifier:
    """Fit one MoE on the pooled rows of several datasets in the shared schema.

    Parameters
    ----------
    sources : mapping of str to (DataFrame, array-like)
        Dataset name -> (features in :data:`SHARED_COLUMNS`, 0/1 default flag).
    **moe_params
        :class:`MoERiskClassifier` parameters.

    Returns
    -------
    MoERiskClassifier
        Main task: the pooled default flag; auxiliary task ``default_<name>`` per source.

    Raises
    ------
    ValueError
        For fewer than two sources or a target that is not 0/1.
    """
    if len(sources) < 2:
        raise ValueError(f"pre-training needs at least two sources; got {len(sources)}.")
    frames, targets, aux = [], [], {}
    for name, (X, y) in sources.items():
        yv = np.asarray(y)
        if not set(np.unique(yv).tolist()) <= {0, 1}:
            raise ValueError(f"source {name!r}: the target must be 0/1; got {np.unique(yv)[:5]!r}.")
        frames.append(pd.DataFrame(X, columns=list(SHARED_COLUMNS)).reset_index(drop=True))
        targets.append(yv.astype(int))
    pooled = pd.concat(frames, ignore_index=True)
    y_all = np.concatenate(targets)
    start = 0
    for (name, _), t in zip(sources.items(), targets, strict=True):
        col = np.full(len(y_all), np.nan)
        col[start : start + len(t)] = t
        aux[f"default_{name}"] = col
        start += len(t)
    return MoERiskClassifier(**moe_params).fit(pooled, y_all, aux_targets=aux)


def fine_tune(
    pretrained: MoERiskClassifier,
    X: Any,
    y: Any,
    *,
    max_epochs: int = 100,
    patience: int = 16,
    learning_rate: float | None = None,
    random_state: Any = None,
) -> MoERiskClassifier:
    """Continue training a pre-trained MoE on new rows (default task only).

    The pre-trained model is copied, not modified. Its encoder (quantile bins, vocabularies)
    is kept, so ``X`` must have the pre-training columns. Each member gets an inner
    stratified split (``validation_fraction`` of the pre-trained model) for early stopping;
    the calibration is refitted on the out-of-bag logits.

    Parameters
    ----------
    pretrained : MoERiskClassifier
    X : DataFrame
    y : array-like
        0/1 (or the pre-trained model's two classes).
    max_epochs, patience : int
    learning_rate : float or None
        None takes the pre-trained model's.
    random_state : int or None

    Returns
    -------
    MoERiskClassifier

    Raises
    ------
    ValueError
        If y's classes differ from the pre-trained model's.
    SchemaError
        For missing or unknown columns.
    """
    pretrained._check_fitted()
    model = copy.deepcopy(pretrained)
    frame, has_names = as_frame(X)
    frame = align_columns(
        frame,
        has_names,
        list(model.encoder_.columns_),
        hasattr(model, "feature_names_in_"),
        "fine_tune",
    )
    y01, classes = encode_target(y, frame.shape[0], "fine_tune")
    if not np.array_equal(np.asarray(classes), np.asarray(model.classes_)):
        raise ValueError(
            f"y has classes {np.asarray(classes).tolist()!r}; the pre-trained model has "
            f"{np.asarray(model.classes_).tolist()!r}."
        )
    n, n_tasks = frame.shape[0], 1 + len(model.aux_tasks_)
    targets = np.zeros((n, n_tasks), np.float32)
    targets[:, 0] = y01
    mask = np.zeros((n, n_tasks), np.float32)
    mask[:, 0] = 1.0
    full = make_batch(
        model.encoder_.transform(frame), targets, mask, model._row_weights(y01, classes)
    )
    kinds: list[TaskKind] = ["binary"]
    kinds += ["binary" if t.kind == "binary" else "regression" for t in model.aux_tasks_]
    n_train = n - int(round(model.validation_fraction * n))
    config = TrainConfig(
        learning_rate=float(model.learning_rate if learning_rate is None else learning_rate),
        weight_decay=float(model.weight_decay),
        l1=float(model.l1),
        max_epochs=int(max_epochs),
        patience=int(patience),
        batch_size=_auto_batch_size(n_train)
        if model.batch_size == "auto"
        else int(model.batch_size),
        aux_task_weight=0.0,
    )
    members = [cast(MoENetwork, m) for m in model.module_.members]
    seeds = np.random.default_rng(_seed_from(random_state)).integers(
        2**63 - 1, size=(len(members), 3)
    )
    oob_sum, oob_count = np.zeros(n), np.zeros(n)
    results = []
    with torch.random.fork_rng(devices=[]):
        for member, (split_seed, torch_seed, order_seed) in zip(
            members, seeds.tolist(), strict=True
        ):
            train_idx, val_idx = model._split(y01, split_seed)
            train = full.take(torch.from_numpy(train_idx))
            val = full.take(torch.from_numpy(val_idx)) if val_idx.size else None
            torch.manual_seed(torch_seed)
            generator = torch.Generator().manual_seed(order_seed)
            results.append(train_network(member, train, val, kinds, config, generator))
            if val is not None:
                oob_sum[val_idx] += model._logits(MoEEnsemble([member]), val, [0])[:, 0]
                oob_count[val_idx] += 1
    oob = oob_count > 0
    logits = np.divide(oob_sum, oob_count, out=np.zeros(n), where=oob)
    model.calibrator_ = fit_calibrator(
        model.calibration if oob.any() else None, logits[oob], y01[oob]
    )
    model.module_ = MoEEnsemble(members).eval()
    model.best_epochs_ = [r.best_epoch for r in results]
    model.history_ = [r.history for r in results]
    model.expert_usage_ = model._usage(model.module_, full)
    return model
