"""``CleaningPipeline``: cleaning steps in order, as one scikit-learn transformer."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Any, NamedTuple, Self

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError
from sklearn.utils.validation import check_is_fitted

from riskmoe.cleaning.duplicates import DropDuplicates
from riskmoe.cleaning.missing import DropMissingColumns, Imputer
from riskmoe.cleaning.outliers import IQROutliers
from riskmoe.cleaning.report import CleaningReport, Stage, StepReport
from riskmoe.cleaning.rules import ApplyRules, Rule, Unique
from riskmoe.cleaning.step import SupportsCleaning, check_frame
from riskmoe.exceptions import NotFittedError

__all__ = ["CleaningPipeline", "CleaningResult"]


class CleaningResult(NamedTuple):
    """What one pipeline run returns.

    Attributes
    ----------
    frame : DataFrame
        The cleaned frame (rows are a subset of the input rows, in order).
    kept : ndarray of bool, shape (n_input_rows,)
        Which input rows survived every step; ``y[kept]`` aligns a target.
    report : CleaningReport
    """

    frame: pd.DataFrame
    kept: np.ndarray
    report: CleaningReport


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", name).lower()


def _run(steps: Sequence[tuple[str, Any]], X: pd.DataFrame, stage: Stage) -> CleaningResult:
    """The one loop: feed each step the previous step's output, compose the row masks."""
    kept = np.ones(len(X), dtype=bool)
    reports: list[StepReport] = []
    frame = X
    for name, step in steps:
        outcome = step.fit_apply(frame) if stage == "fit" else step.apply(frame)
        kept[np.flatnonzero(kept)[~outcome.kept]] = False
        reports.append(dataclasses.replace(outcome.report, name=name))
        frame = outcome.frame
    report = CleaningReport(tuple(reports), rows_before=len(X), rows_after=len(frame), stage=stage)
    return CleaningResult(frame, kept, report)


class CleaningPipeline(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):  # type: ignore[call-arg]
    """Cleaning steps applied in order, fitted on training data only.

    Parameters
    ----------
    steps : sequence of step or (name, step)
        Cleaning steps (:class:`~riskmoe.cleaning.step.CleaningStep` or anything with
        ``fit_apply`` / ``apply``). Unnamed steps are named after their class in
        snake case (``drop_duplicates``, ``imputer``; ``_2`` etc. for repeats).

    Attributes
    ----------
    steps_ : list of (str, step)
        Fitted clones of the steps (the ``steps`` argument is never modified).
    named_steps_ : dict
        The same, by name.
    report_ : CleaningReport
        What the last ``fit`` / ``fit_transform`` / ``transform`` did.
    kept_mask_ : ndarray of bool
        Which rows of the last input survived (align a target with ``y[kept_mask_]``).
    kept_index_ : Index
        Their index labels.
    feature_names_in_, n_features_in_
        The training columns.

    Notes
    -----
    Steps that drop rows (duplicates, rules with ``action="drop"``, outlier ``drop``)
    make ``transform`` return **fewer rows than it received**; use ``kept_mask_``,
    ``kept_index_`` or :meth:`align` to keep a target in line, or :meth:`clean` to get
    the frame, mask and report together without touching the fitted attributes.
    ``fit`` fits step *k* on the output of steps 1..k-1 on the training frame; nothing is
    re-learned in ``transform``.

    Examples
    --------
    >>> import pandas as pd
    >>> from riskmoe.cleaning import DropDuplicates, Imputer
    >>> X = pd.DataFrame({"x": [1.0, 1.0, None, 4.0], "c": ["a", "a", "b", None]})
    >>> pipe = CleaningPipeline([DropDuplicates(), Imputer()])
    >>> pipe.fit_transform(X)
         x  c
    0  1.0  a
    2  2.5  b
    3  4.0  a
    >>> pipe.kept_mask_.tolist(), pipe.report_.step("imputer").cells_changed
    ([True, False, True, True], 2)
    """

    def __init__(self, steps: Sequence[Any] = ()) -> None:
        self.steps = steps

    # -- construction -----------------------------------------------------------------------

    @classmethod
    def default(
        cls,
        *,
        rules: Sequence[Rule | dict[str, Any]] = (),
        id_column: str | None = None,
        max_missing_share: float = 0.5,
        iqr_factor: float = 3.0,
    ) -> CleaningPipeline:
        """A sensible cleaning pipeline for tabular credit data.

        1. ``duplicates`` -- drop exact duplicate rows;
        2. ``rules`` -- the given rules (sentinel codes to NaN, ranges), plus
           ``Unique(id_column)`` when an identifier is named (only if any);
        3. ``sparse_columns`` -- drop columns more than ``max_missing_share`` missing in
           training;
        4. ``impute`` -- median for numeric, mode for other columns;
        5. ``winsorize`` -- clip numeric columns to Tukey's far-out fences
           (``iqr_factor`` IQRs beyond the quartiles; zero-IQR columns such as sparse
           counts are left alone), the identifier excluded.

        Examples
        --------
        >>> from riskmoe.data import load_dataset
        >>> X = load_dataset("german_credit").frame.drop(columns="bad")
        >>> pipe = CleaningPipeline.default()
        >>> pipe.fit_transform(X).shape
        (1000, 20)
        >>> pipe.report_.step("winsorize").column("credit_amount").cells_changed
        24
        """
        steps: list[tuple[str, Any]] = [("duplicates", DropDuplicates())]
        all_rules = list(rules) + ([Unique(id_column)] if id_column else [])
        if all_rules:
            steps.append(("rules", ApplyRules(all_rules)))
        exclude = (id_column,) if id_column else ()
        steps += [
            ("sparse_columns", DropMissingColumns(threshold=max_missing_share)),
            ("impute", Imputer()),
            ("winsorize", IQROutliers(factor=iqr_factor, action="clip", exclude=exclude)),
        ]
        return cls(steps)

    def _named_steps(self) -> list[tuple[str, Any]]:
        if isinstance(self.steps, str | bytes) or not isinstance(self.steps, Sequence):
            raise TypeError(f"steps must be a sequence of steps; got {type(self.steps).__name__}.")
        if len(self.steps) == 0:
            raise ValueError("CleaningPipeline needs at least one step; got steps=[].")
        named: list[tuple[str, Any]] = []
        used: set[str] = set()
        for item in self.steps:
            if isinstance(item, tuple):
                if len(item) != 2 or not isinstance(item[0], str):
                    raise TypeError(f"a named step must be a (str, step) pair; got {item!r}.")
                name, step = item
                if name in used:
                    raise ValueError(f"step names must be unique; {name!r} appears twice.")
            else:
                step = item
                base = _snake(type(step).__name__)
                name, i = base, 2
                while name in used:
                    name, i = f"{base}_{i}", i + 1
            if not isinstance(step, SupportsCleaning):
                raise TypeError(
                    f"step {name!r} is a {type(step).__name__}, which lacks fit_apply / apply; "
                    f"use a riskmoe.cleaning step."
                )
            used.add(name)
            named.append((name, step))
        return named

    # -- fitting and applying ---------------------------------------------------------------

    def _fit_run(self, X: Any) -> CleaningResult:
        frame = check_frame(X, type(self).__name__)
        steps = [(name, clone(step)) for name, step in self._named_steps()]
        result = _run(steps, frame, "fit")
        self.steps_ = steps
        self.named_steps_ = dict(steps)
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.n_features_in_ = frame.shape[1]
        self.feature_names_out_ = np.asarray(result.frame.columns, dtype=object)
        self._record(result, frame)
        return result

    def _record(self, result: CleaningResult, X: pd.DataFrame) -> None:
        self.report_ = result.report
        self.kept_mask_ = result.kept
        self.kept_index_ = X.index[result.kept]

    def fit(self, X: pd.DataFrame, y: Any = None) -> Self:
        """Fit every step on the training frame ``X`` (in order); return ``self``."""
        self._fit_run(X)
        return self

    def fit_transform(self, X: pd.DataFrame, y: Any = None, **fit_params: Any) -> pd.DataFrame:
        """Fit on ``X`` and return it cleaned (possibly with fewer rows)."""
        if fit_params:
            raise TypeError("CleaningPipeline.fit_transform takes no fit parameters.")
        return self._fit_run(X).frame

    def clean(self, X: pd.DataFrame) -> CleaningResult:
        """Apply the fitted steps to ``X``; return frame, kept mask and report.

        Unlike :meth:`transform`, sets no attribute.
        """
        try:
            check_is_fitted(self, "steps_")
        except _SklearnNotFittedError:
            raise NotFittedError("CleaningPipeline is not fitted yet; call fit first.") from None
        frame = check_frame(X, type(self).__name__)
        return _run(self.steps_, frame, "transform")

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Apply the fitted steps to ``X`` and return the cleaned frame.

        May return fewer rows than ``X``; ``kept_mask_``, ``kept_index_`` and ``report_``
        then describe this call.
        """
        result = self.clean(X)
        self._record(result, X)
        return result.frame

    def align(self, y: Any) -> Any:
        """Restrict a target (Series, array or list) to the rows kept by the last run.

        Raises
        ------
        ValueError
            If ``y`` has a different length than the last input.
        """
        try:
            check_is_fitted(self, "kept_mask_")
        except _SklearnNotFittedError:
            raise NotFittedError("CleaningPipeline is not fitted yet; call fit first.") from None
        if len(y) != len(self.kept_mask_):
            raise ValueError(
                f"y has {len(y)} rows but the last cleaned frame had {len(self.kept_mask_)}."
            )
        if isinstance(y, pd.Series | pd.DataFrame):
            return y.iloc[np.flatnonzero(self.kept_mask_)]
        return np.asarray(y)[self.kept_mask_]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Columns of the cleaned frame (after dropped and added columns)."""
        try:
            check_is_fitted(self, "feature_names_out_")
        except _SklearnNotFittedError:
            raise NotFittedError("CleaningPipeline is not fitted yet; call fit first.") from None
        return self.feature_names_out_.copy()
