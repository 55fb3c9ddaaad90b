"""Configured baseline models: wrappers of scikit-learn and LightGBM, never re-implementations.

Every factory returns an *unfitted* estimator that takes the raw feature frame of a
dataset (numeric columns with NaN, pandas ``category`` and string columns) and learns its
preprocessing in ``fit``, so cross-validation fits every step on the training fold only.

========================  ===================================================================
factory                   model
========================  ===================================================================
:func:`make_logistic`     one-hot + standardised logistic regression (missing indicators)
:func:`make_scorecard`    scorecard: quantile bins -> weight of evidence -> logistic regression
:func:`make_random_forest`  random forest on ordinal-encoded categoricals, NaN handled natively
:func:`make_lightgbm`     :class:`LightGBMClassifier`: native categoricals and NaN, early stopping
:func:`make_mlp`          :class:`ParameterMatchedMLP`: dense MLP sized to a parameter budget
========================  ===================================================================

The hyper-parameter defaults are the ones the benchmark uses untuned; each tunable factory
has a search space beside it (``*_SPACE``) for :func:`riskmoe.evaluation.tune`.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Literal

import lightgbm
import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import logit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    KBinsDiscretizer,
    OneHotEncoder,
    OrdinalEncoder,
    QuantileTransformer,
    StandardScaler,
    TargetEncoder,
)
from sklearn.utils.validation import check_is_fitted

from riskmoe.exceptions import DataError, NotFittedError, SchemaError

__all__ = [
    "LIGHTGBM_SPACE",
    "LightGBMClassifier",
    "MLP_SPACE",
    "ParameterMatchedMLP",
    "RANDOM_FOREST_SPACE",
    "make_lightgbm",
    "make_logistic",
    "make_mlp",
    "make_random_forest",
    "make_scorecard",
    "mlp_parameter_count",
    "positive_scores",
    "solve_hidden_width",
]

_NUMERIC = make_column_selector(dtype_include=np.number)
_NON_NUMERIC = make_column_selector(dtype_exclude=np.number)


def _levels_as_strings(X: pd.DataFrame) -> pd.DataFrame:
    """Categorical levels as ``str`` objects with ``np.nan`` for missing.

    Category columns may carry nullable-integer levels whose missing value is ``pd.NA``,
    which scikit-learn's imputers and encoders cannot compare; a single level type per
    column is what its encoders require. Done on the numpy array: column-wise pandas
    conversions cost milliseconds per call, which single-row scoring pays every time.
    """
    values = X.to_numpy(dtype=object)
    missing = pd.isna(values)
    out = values.astype(str).astype(object)
    out[missing] = np.nan
    return pd.DataFrame(out, columns=X.columns, index=X.index, dtype=object)


def _string_levels() -> FunctionTransformer:
    return FunctionTransformer(_levels_as_strings, feature_names_out="one-to-one")


def _onehot_scaled(
    numeric: Literal["standard", "quantile"] = "standard", n_rows: int = 1_000
) -> ColumnTransformer:
    """Numeric: median-impute (+ missing indicators) and scale; others: one-hot.

    ``numeric="standard"`` standardises; ``"quantile"`` maps each column through its
    empirical CDF to a standard normal (``min(1000, n_rows)`` quantiles), which tames
    the heavy tails of financial ratios. Missing categorical values become their own level
    (``"__missing__"``); a category first seen at predict time is encoded as all zeros.
    """
    scaler: Any = (
        StandardScaler()
        if numeric == "standard"
        else QuantileTransformer(
            n_quantiles=max(2, min(1_000, n_rows)),
            output_distribution="normal",
            subsample=None,
            random_state=0,
        )
    )
    numeric_steps = make_pipeline(SimpleImputer(strategy="median", add_indicator=True), scaler)
    categorical = make_pipeline(
        _string_levels(),
        SimpleImputer(strategy="constant", fill_value="__missing__"),
        OneHotEncoder(handle_unknown="ignore", sparse_output=False),
    )
    return ColumnTransformer(
        [("numeric", numeric_steps, _NUMERIC), ("categorical", categorical, _NON_NUMERIC)]
    )


def make_logistic(
    *,
    C: float = 1.0,
    class_weight: Literal["balanced"] | None = "balanced",
    random_state: int | None = 0,
) -> Pipeline:
    """Scorecard-style logistic regression: one-hot categoricals, scaled numerics.

    Numeric columns are median-imputed, get a missing indicator when they had missing
    values in training, and are standardised; categorical (non-numeric) columns are
    one-hot encoded with missing as its own level and unseen categories ignored at
    predict time. Class weights are balanced by default so the rare class is not ignored;
    pass ``class_weight=None`` for probabilities that estimate default rates (balanced
    weights shift every probability towards 0.5, which calibration metrics punish).

    Parameters
    ----------
    C : float
        Inverse L2 regularisation strength.
    class_weight : "balanced" or None
        Passed to :class:`~sklearn.linear_model.LogisticRegression`.
    random_state : int or None
        Seed for the solver.

    Returns
    -------
    sklearn.pipeline.Pipeline
        An unfitted pipeline taking a DataFrame.

    Raises
    ------
    ValueError
        If ``C`` is not positive.
    """
    if not C > 0:
        raise ValueError(f"C must be > 0; got {C}.")
    model = LogisticRegression(
        C=C, class_weight=class_weight, max_iter=2000, random_state=random_state
    )
    return Pipeline([("preprocess", _onehot_scaled()), ("model", model)])


class _ScorecardBins(KBinsDiscretizer):
    """Quantile binning for a scorecard, quiet about bins that collapse.

    Count-like columns (number of dependants, times 30 days late) have fewer distinct
    values than bins; scikit-learn merges the duplicate edges and warns. For a
    scorecard that merge is the intended behaviour, so the warning is dropped here and
    only here.
    """

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> _ScorecardBins:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Bins whose width are too small")
            super().fit(X, y, sample_weight=sample_weight)
        return self


def make_scorecard(*, n_bins: int = 10, C: float = 1.0, random_state: int | None = 0) -> Pipeline:
    """Binned weight-of-evidence logistic regression, the classic credit scorecard.

    Each numeric column is median-imputed and cut into ``n_bins`` quantile bins
    (:class:`~sklearn.preprocessing.KBinsDiscretizer`); each bin and each categorical
    level is replaced by its weight of evidence, and a logistic regression weighs the
    WoE columns. Numeric columns with missing values in training also get a 0/1
    missing indicator (the "missing" bin of a scorecard).

    Notes
    -----
    WoE of a bin is ``ln(share of bads / share of goods)`` = ``logit(bad rate in the
    bin) - logit(overall bad rate)``. The bin bad rate comes from
    :class:`~sklearn.preprocessing.TargetEncoder` (an m-estimate with 10 pseudo-rows at the
    overall rate, cross-fitted on the training rows so a row does not set its own WoE); the
    ``logit`` turns it into WoE up to a constant, which the intercept absorbs.

    Parameters
    ----------
    n_bins : int
        Quantile bins per numeric column (>= 2); fewer remain where values tie.
    C : float
        Inverse L2 regularisation strength of the logistic regression.
    random_state : int or None
        Seed for the target encoder's cross-fitting and the solver.

    Returns
    -------
    sklearn.pipeline.Pipeline
        An unfitted pipeline taking a DataFrame.

    Raises
    ------
    ValueError
        If ``n_bins < 2`` or ``C`` is not positive.

    References
    ----------
    Siddiqi, N. (2017). *Intelligent Credit Scoring*, 2nd ed., Wiley, ch. 10.
    """
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 2:
        raise ValueError(f"n_bins must be an integer >= 2; got {n_bins!r}.")
    if not C > 0:
        raise ValueError(f"C must be > 0; got {C}.")

    def woe() -> TargetEncoder:
        folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=random_state)
        # An m-estimate (smooth=m pseudo-rows at the overall rate) keeps a pure bin's rate
        # strictly inside (0, 1), so its WoE is finite; "auto" smoothing would not.
        return TargetEncoder(target_type="binary", smooth=10.0, cv=folds)

    binned = make_pipeline(
        SimpleImputer(strategy="median"),
        _ScorecardBins(n_bins=n_bins, encode="ordinal", strategy="quantile"),
        woe(),
        FunctionTransformer(logit, feature_names_out="one-to-one"),
    )
    categorical = make_pipeline(
        _string_levels(), woe(), FunctionTransformer(logit, feature_names_out="one-to-one")
    )
    pre = ColumnTransformer(
        [
            ("binned", binned, _NUMERIC),
            ("missing", MissingIndicator(features="missing-only", error_on_new=False), _NUMERIC),
            ("categorical", categorical, _NON_NUMERIC),
        ]
    )
    model = LogisticRegression(C=C, max_iter=2000, random_state=random_state)
    return Pipeline([("preprocess", pre), ("model", model)])


RANDOM_FOREST_SPACE: dict[str, Any] = {
    "min_samples_leaf": [1, 2, 5, 10, 20, 50],
    "max_features": ["sqrt", 0.3, 0.5, 0.7],
    "class_weight": [None, "balanced_subsample"],
}
"""Search space of :func:`make_random_forest` (for :func:`riskmoe.evaluation.tune`)."""


def make_random_forest(
    *,
    n_estimators: int = 300,
    min_samples_leaf: int = 5,
    max_features: float | Literal["sqrt"] = "sqrt",
    max_samples: float | None = None,
    class_weight: Literal["balanced_subsample"] | None = None,
    n_jobs: int | None = 1,
    random_state: int | None = 0,
) -> Pipeline:
    """Random forest; categoricals ordinal-encoded, missing values handled by the trees.

    scikit-learn's forests route missing values natively (since 1.4), so numeric NaN is
    passed through; categorical levels become integer codes (a level first seen at
    predict time becomes missing). ``min_samples_leaf=5`` keeps leaf probabilities away
    from exact 0 and 1, which log loss and calibration punish.

    Parameters
    ----------
    n_estimators, min_samples_leaf, max_features, max_samples, class_weight
        Passed to :class:`~sklearn.ensemble.RandomForestClassifier`.
    n_jobs : int or None
        Parallel trees (``-1``: every core). One by default: a forest uses ``n_jobs`` for
        ``predict_proba`` too, and starting a thread pool per call costs about 50 ms, which
        swamps single-row scoring (measured: ~60 ms per row with ``-1`` on 2 cores).
    random_state : int or None
        Seed of the bootstrap and feature sampling.

    Returns
    -------
    sklearn.pipeline.Pipeline
        An unfitted pipeline taking a DataFrame.
    """
    encode = OrdinalEncoder(
        handle_unknown="use_encoded_value", unknown_value=np.nan, encoded_missing_value=np.nan
    )
    pre = ColumnTransformer(
        [
            ("numeric", "passthrough", _NUMERIC),
            ("categorical", make_pipeline(_string_levels(), encode), _NON_NUMERIC),
        ]
    )
    model = RandomForestClassifier(
        n_estimators=n_estimators,
        min_samples_leaf=min_samples_leaf,
        max_features=max_features,
        max_samples=max_samples,
        class_weight=class_weight,
        n_jobs=n_jobs,
        random_state=random_state,
    )
    return Pipeline([("preprocess", pre), ("model", model)])


def _check_frame(X: Any, owner: str) -> pd.DataFrame:
    if not isinstance(X, pd.DataFrame):
        if isinstance(X, np.ndarray) and X.ndim == 2:
            return pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
        raise DataError(
            f"{owner} takes a pandas DataFrame or a 2-d numpy array; got {type(X).__name__}."
        )
    if X.shape[0] == 0:
        raise DataError(f"{owner} got an empty frame (0 rows).")
    return X


def _check_binary_target(y: Any, n_rows: int, owner: str) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim != 1 or len(arr) != n_rows:
        raise DataError(
            f"{owner}: y must be 1-d with one label per row ({n_rows}); got {arr.shape}."
        )
    if pd.isna(arr).any():
        raise DataError(f"{owner}: y contains missing labels.")
    classes = np.unique(arr)
    if len(classes) != 2:
        raise DataError(
            f"{owner} needs a binary target with both classes; got classes {classes.tolist()}."
        )
    return arr


def _check_fit_input(X: Any, y: Any, owner: str) -> tuple[pd.DataFrame, np.ndarray]:
    """The frame and binary target of ``fit``, with at least 2 rows of each class for a
    stratified validation split."""
    frame = _check_frame(X, owner)
    target = _check_binary_target(y, len(frame), owner)
    counts = pd.Series(target).value_counts()
    if counts.min() < 2:
        raise DataError(
            f"{owner} needs at least 2 rows of each class for its stratified "
            f"validation split; class counts are {counts.to_dict()}."
        )
    return frame, target


LIGHTGBM_SPACE: dict[str, Any] = {
    "learning_rate": stats.loguniform(0.01, 0.1),
    "num_leaves": [7, 15, 31, 63, 127],
    "min_child_samples": [5, 10, 20, 50, 100],
    "cat_smooth": [1.0, 10.0, 50.0, 100.0],
    "colsample_bytree": stats.uniform(0.4, 0.6),
    "subsample": stats.uniform(0.5, 0.5),
    "reg_lambda": stats.loguniform(1e-3, 10.0),
}
"""Search space of :class:`LightGBMClassifier` (for :func:`riskmoe.evaluation.tune`)."""


class LightGBMClassifier(ClassifierMixin, BaseEstimator):
    """LightGBM on a raw frame, with early stopping on an inner stratified validation split.

    A thin wrapper of :class:`lightgbm.LGBMClassifier`: numeric columns keep their NaN
    (LightGBM learns a direction for missing values), pandas ``category`` columns are
    used as native categoricals, and string / object columns are turned into
    categoricals whose levels are fixed at ``fit`` (a level first seen at predict time
    becomes missing). ``fit`` holds out ``validation_fraction`` of the rows (stratified)
    and stops adding trees once the validation log loss has not improved for
    ``early_stopping_rounds`` rounds; the model keeps the best iteration.

    Parameters
    ----------
    n_estimators : int
        Upper bound on boosting rounds.
    subsample, colsample_bytree, reg_lambda
        Passed to :class:`lightgbm.LGBMClassifier` (``subsample`` draws rows every round).
    learning_rate, num_leaves, min_child_samples, cat_smooth
        Passed to :class:`lightgbm.LGBMClassifier`. The defaults (learning rate 0.03,
        15 leaves, ``cat_smooth=50``) were fixed after a 3-fold pilot: against LightGBM's
        usual 0.05 / 31 / 10 they gained 0.009 AUC on German credit and 0.015 on Lending
        Club (whose 837 ZIP-code levels overfit with little smoothing), and stayed within
        0.003 on Taiwan and Australian credit.
    validation_fraction : float
        Share of the training rows held out for early stopping, in (0, 0.5].
    early_stopping_rounds : int
        Patience, in boosting rounds.
    n_jobs : int or None
        LightGBM threads (``None``: LightGBM's default, every core). One by default: on
        tables of this size OpenMP synchronisation costs more than a second thread saves,
        and far more on a busy machine (5,900 rows x 64 columns: 1.9 s with one thread,
        3.8-8.4 s with two while other jobs ran).
    random_state : int
        Seed of the validation split and of LightGBM's sampling.

    Attributes
    ----------
    model_ : lightgbm.LGBMClassifier
        The fitted booster wrapper.
    best_iteration_ : int
        Boosting rounds kept (``n_estimators`` when early stopping never triggered).
    classes_ : ndarray
        The two class labels.
    feature_names_in_ : ndarray of str
        Columns seen in ``fit``; ``predict_proba`` needs them all.
    n_features_in_ : int
        Number of columns seen in ``fit``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"a": rng.normal(size=400), "b": rng.choice(["x", "y"], 400)})
    >>> y = (X["a"] + rng.normal(size=400) > 0).astype(int)
    >>> clf = LightGBMClassifier(random_state=0).fit(X, y)
    >>> clf.predict_proba(X.head(2)).shape
    (2, 2)
    """

    def __init__(
        self,
        *,
        n_estimators: int = 2000,
        learning_rate: float = 0.03,
        num_leaves: int = 15,
        min_child_samples: int = 20,
        cat_smooth: float = 50.0,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        reg_lambda: float = 1.0,
        validation_fraction: float = 0.15,
        early_stopping_rounds: int = 100,
        n_jobs: int | None = 1,
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.cat_smooth = cat_smooth
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.validation_fraction = validation_fraction
        self.early_stopping_rounds = early_stopping_rounds
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _check_params(self) -> None:
        if not isinstance(self.n_estimators, int | np.integer) or self.n_estimators < 1:
            raise ValueError(f"n_estimators must be an integer >= 1; got {self.n_estimators!r}.")
        if not 0.0 < self.validation_fraction <= 0.5:
            raise ValueError(
                f"validation_fraction must be in (0, 0.5]; got {self.validation_fraction!r}."
            )
        if (
            not isinstance(self.early_stopping_rounds, int | np.integer)
            or self.early_stopping_rounds < 1
        ):
            raise ValueError(
                "early_stopping_rounds must be an integer >= 1; "
                f"got {self.early_stopping_rounds!r}."
            )

    def _encode(self, X: pd.DataFrame) -> pd.DataFrame:
        """Strings to categoricals with the levels fixed in ``fit``; other columns as they are."""
        out = X.copy()
        for col, levels in self.string_levels_.items():
            raw = out[col]
            text = raw.astype(str).where(raw.notna())
            # levels unseen in fit become missing (LightGBM sends them down the NaN branch)
            out[col] = pd.Categorical(text.where(text.isin(levels)), categories=levels)
        return out

    def fit(self, X: Any, y: Any) -> LightGBMClassifier:
        """Fit on a frame; hold out ``validation_fraction`` of the rows for early stopping."""
        self._check_params()
        X, target = _check_fit_input(X, y, "LightGBMClassifier")
        levels: dict[str, list[Any]] = {}
        for col in X.columns:
            dtype = X[col].dtype
            if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_numeric_dtype(dtype):
                continue
            if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
                levels[str(col)] = sorted(X[col].dropna().astype(str).unique().tolist())
            else:
                raise SchemaError(
                    f"LightGBMClassifier: column {col!r} has dtype {dtype}; allowed are numeric, "
                    "bool, category and string."
                )
        self.string_levels_ = levels
        self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        self.n_features_in_ = X.shape[1]
        Xe = self._encode(X)
        X_fit, X_val, y_fit, y_val = train_test_split(
            Xe,
            target,
            test_size=self.validation_fraction,
            stratify=target,
            random_state=self.random_state,
        )
        self.model_ = lightgbm.LGBMClassifier(
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples,
            cat_smooth=self.cat_smooth,
            subsample=self.subsample,
            subsample_freq=1 if self.subsample < 1.0 else 0,
            colsample_bytree=self.colsample_bytree,
            reg_lambda=self.reg_lambda,
            n_jobs=self.n_jobs,
            random_state=self.random_state,
            verbose=-1,
        )
        self.model_.fit(
            X_fit,
            y_fit,
            eval_X=(X_val,),
            eval_y=(y_val,),
            eval_metric="binary_logloss",
            callbacks=[lightgbm.early_stopping(self.early_stopping_rounds, verbose=False)],
        )
        best = self.model_.best_iteration_
        self.best_iteration_ = int(best) if best else int(self.n_estimators)
        self.classes_ = self.model_.classes_
        return self

    def _checked(self, X: Any) -> pd.DataFrame:
        try:
            check_is_fitted(self, "model_")
        except _SklearnNotFittedError:
            raise NotFittedError("LightGBMClassifier is not fitted yet; call fit first.") from None
        X = _check_frame(X, "LightGBMClassifier")
        missing = [c for c in self.feature_names_in_ if c not in X.columns]
        if missing:
            raise SchemaError(f"LightGBMClassifier: columns {missing} seen in fit are missing.")
        return self._encode(X[list(self.feature_names_in_)])

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape ``(n_rows, 2)``, best iteration only."""
        Xe = self._checked(X)
        return np.asarray(self.model_.predict_proba(Xe, num_iteration=self.best_iteration_))

    def predict(self, X: Any) -> np.ndarray:
        """Most likely class per row."""
        proba = self.predict_proba(X)
        return np.asarray(self.classes_)[np.argmax(proba, axis=1)]


def make_lightgbm(**params: Any) -> LightGBMClassifier:
    """:class:`LightGBMClassifier` with the benchmark defaults; ``params`` override them."""
    return LightGBMClassifier(**params)


def mlp_parameter_count(
    n_inputs: int, hidden_layer_sizes: tuple[int, ...], n_outputs: int = 1
) -> int:
    """Weights plus biases of a dense MLP: ``sum((fan_in + 1) * fan_out)`` over layers.

    A binary :class:`~sklearn.neural_network.MLPClassifier` has one output unit.

    Examples
    --------
    >>> mlp_parameter_count(10, (8, 8))  # 11*8 + 9*8 + 9*1
    169
    """
    sizes = [n_inputs, *hidden_layer_sizes, n_outputs]
    return int(sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:], strict=True)))


def solve_hidden_width(n_parameters: int, n_inputs: int, n_hidden_layers: int = 2) -> int:
    """Hidden width ``h`` whose MLP ``n_inputs -> h x n_hidden_layers -> 1`` has closest to
    ``n_parameters`` weights and biases.

    Notes
    -----
    With ``L`` hidden layers of width ``h`` on ``d`` inputs and one output,
    ``P(h) = (L - 1) h^2 + (d + L + 1) h + 1``. The positive root of ``P(h) = target`` is
    rounded down and up and the closer of the two kept, so the count misses the target
    by at most half a width step, ``(P(h + 1) - P(h)) / 2``.

    Raises
    ------
    ValueError
        If the target is below the size of the smallest such network (``h = 1``).

    Examples
    --------
    >>> h = solve_hidden_width(10_000, n_inputs=40, n_hidden_layers=2)
    >>> h, mlp_parameter_count(40, (h, h))
    (81, 10045)
    """
    if n_hidden_layers < 1:
        raise ValueError(f"n_hidden_layers must be >= 1; got {n_hidden_layers}.")
    if n_inputs < 1:
        raise ValueError(f"n_inputs must be >= 1; got {n_inputs}.")
    smallest = mlp_parameter_count(n_inputs, (1,) * n_hidden_layers)
    if n_parameters < smallest:
        raise ValueError(
            f"n_parameters={n_parameters} is below the smallest MLP with {n_hidden_layers} "
            f"hidden layer(s) on {n_inputs} inputs ({smallest} parameters at width 1)."
        )
    a = n_hidden_layers - 1
    b = n_inputs + n_hidden_layers + 1
    c = 1 - n_parameters
    root = -c / b if a == 0 else (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)
    candidates = {max(1, math.floor(root)), max(1, math.ceil(root))}
    return min(
        sorted(candidates),
        key=lambda h: abs(mlp_parameter_count(n_inputs, (h,) * n_hidden_layers) - n_parameters),
    )


MLP_SPACE: dict[str, Any] = {
    "alpha": stats.loguniform(1e-6, 1e-2),
    "learning_rate_init": stats.loguniform(3e-4, 3e-3),
    "n_hidden_layers": [1, 2, 3],
    "batch_size": [128, 256, 512],
}
"""Search space of :class:`ParameterMatchedMLP` (for :func:`riskmoe.evaluation.tune`)."""


class ParameterMatchedMLP(ClassifierMixin, BaseEstimator):
    """A dense MLP whose weight-and-bias count matches a target (e.g. an MoE's active parameters).

    The input width is known only after preprocessing (one-hot levels, missing
    indicators), so ``fit`` first fits the preprocessing of :func:`make_logistic`, then
    solves for the hidden width (:func:`solve_hidden_width`) and trains a
    :class:`~sklearn.neural_network.MLPClassifier` of ``n_hidden_layers`` equal layers.

    Training runs scikit-learn's Adam one epoch at a time (``partial_fit``) and stops
    when the log loss on a stratified ``validation_fraction`` of the rows has not
    improved for ``n_iter_no_change`` epochs, keeping the best epoch's weights.
    scikit-learn's own ``early_stopping`` scores validation *accuracy*, which is flat when
    defaults are rare: on ``cn_distress`` (1.4 % positives) it stopped after 12 epochs
    and kept the first epoch's weights (test AUC 0.24-0.43).

    Parameters
    ----------
    n_parameters : int
        Target number of weights and biases.
    n_hidden_layers : int
        Hidden layers, all of the solved width.
    numeric : {"quantile", "standard"}
        Scaling of numeric columns after median imputation: a quantile transform to a
        normal distribution (robust to the heavy tails of financial ratios, as tabular
        networks need) or standardisation (exactly :func:`make_logistic`'s).
    alpha : float
        L2 penalty.
    learning_rate_init : float
        Adam step size.
    batch_size : int
        Minibatch size (capped at the number of rows by scikit-learn).
    max_iter : int
        Upper bound on epochs.
    n_iter_no_change : int
        Early-stopping patience, in epochs.
    validation_fraction : float
        Share of rows held out for early stopping, in (0, 0.5].
    random_state : int or None
        Seed of the weights, shuffling and validation split.

    Attributes
    ----------
    preprocess_ : sklearn.compose.ColumnTransformer
        The fitted preprocessing.
    model_ : sklearn.neural_network.MLPClassifier
        The fitted network (best epoch).
    hidden_width_ : int
        The solved width of each hidden layer.
    n_parameters_ : int
        Weights and biases of the fitted network, counted from its arrays.
    n_inputs_ : int
        Input width after preprocessing.
    best_epoch_ : int
        Epoch whose weights were kept.
    validation_loss_ : list of float
        Validation log loss after every epoch.
    classes_ : ndarray
        The two class labels.
    """

    def __init__(
        self,
        n_parameters: int = 10_000,
        *,
        n_hidden_layers: int = 2,
        numeric: Literal["quantile", "standard"] = "quantile",
        alpha: float = 1e-4,
        learning_rate_init: float = 1e-3,
        batch_size: int = 256,
        max_iter: int = 200,
        n_iter_no_change: int = 10,
        validation_fraction: float = 0.1,
        random_state: int | None = 0,
    ) -> None:
        self.n_parameters = n_parameters
        self.n_hidden_layers = n_hidden_layers
        self.numeric = numeric
        self.alpha = alpha
        self.learning_rate_init = learning_rate_init
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.n_iter_no_change = n_iter_no_change
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    def _check_params(self) -> None:
        if isinstance(self.n_parameters, bool) or not isinstance(
            self.n_parameters, int | np.integer
        ):
            raise ValueError(f"n_parameters must be an integer; got {self.n_parameters!r}.")
        if self.numeric not in ("quantile", "standard"):
            raise ValueError(f"numeric must be 'quantile' or 'standard'; got {self.numeric!r}.")
        if not 0.0 < self.validation_fraction <= 0.5:
            raise ValueError(
                f"validation_fraction must be in (0, 0.5]; got {self.validation_fraction!r}."
            )
        for name in ("max_iter", "n_iter_no_change"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1; got {value!r}.")

    def fit(self, X: Any, y: Any) -> ParameterMatchedMLP:
        """Fit the preprocessing, size the network to ``n_parameters``, train, stop early."""
        self._check_params()
        X, target = _check_fit_input(X, y, "ParameterMatchedMLP")
        self.preprocess_ = _onehot_scaled(self.numeric, n_rows=len(X))
        Z = np.asarray(self.preprocess_.fit_transform(X), dtype=float)
        self.n_inputs_ = Z.shape[1]
        self.hidden_width_ = solve_hidden_width(
            int(self.n_parameters), self.n_inputs_, self.n_hidden_layers
        )
        Z_fit, Z_val, y_fit, y_val = train_test_split(
            Z,
            target,
            test_size=self.validation_fraction,
            stratify=target,
            random_state=self.random_state,
        )
        model = MLPClassifier(
            hidden_layer_sizes=(self.hidden_width_,) * self.n_hidden_layers,
            alpha=self.alpha,
            learning_rate_init=self.learning_rate_init,
            batch_size=self.batch_size,
            random_state=self.random_state,
        )
        classes = np.unique(target)
        best_loss, best_epoch, weights = np.inf, 0, None
        self.validation_loss_: list[float] = []
        for epoch in range(1, int(self.max_iter) + 1):
            model.partial_fit(Z_fit, y_fit, classes=classes)
            loss = float(log_loss(y_val, model.predict_proba(Z_val), labels=classes))
            self.validation_loss_.append(loss)
            if loss < best_loss - 1e-7:
                best_loss, best_epoch = loss, epoch
                weights = ([w.copy() for w in model.coefs_], [b.copy() for b in model.intercepts_])
            elif epoch - best_epoch >= self.n_iter_no_change:
                break
        assert weights is not None  # the first epoch always improves on inf
        model.coefs_, model.intercepts_ = weights
        self.model_ = model
        self.best_epoch_ = best_epoch
        self.n_parameters_ = int(
            sum(w.size for w in model.coefs_) + sum(b.size for b in model.intercepts_)
        )
        self.classes_ = model.classes_
        self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        self.n_features_in_ = X.shape[1]
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape ``(n_rows, 2)``."""
        try:
            check_is_fitted(self, "model_")
        except _SklearnNotFittedError:
            raise NotFittedError("ParameterMatchedMLP is not fitted yet; call fit first.") from None
        X = _check_frame(X, "ParameterMatchedMLP")
        Z = np.asarray(self.preprocess_.transform(X), dtype=float)
        return np.asarray(self.model_.predict_proba(Z))

    def predict(self, X: Any) -> np.ndarray:
        """Most likely class per row."""
        proba = self.predict_proba(X)
        return np.asarray(self.classes_)[np.argmax(proba, axis=1)]


def make_mlp(n_parameters: int = 10_000, **params: Any) -> ParameterMatchedMLP:
    """Dense MLP with ``n_parameters`` weights and biases (see :class:`ParameterMatchedMLP`).

    Pass the MoE's ``n_active_parameters_`` so the two have equal per-row capacity and
    any gain can be credited to routing. The achieved count is ``n_parameters_`` after
    ``fit`` and misses the target by at most half a width step (under 1 % for targets
    above about 10,000 with a few dozen inputs).

    Raises
    ------
    ValueError
        At ``fit``, if the target is smaller than a width-1 network on the inputs.
    """
    return ParameterMatchedMLP(n_parameters, **params)


def positive_scores(model: Any, X: pd.DataFrame) -> np.ndarray:
    """Probability of class 1 from a fitted binary classifier."""
    return np.asarray(model.predict_proba(X))[:, 1]
