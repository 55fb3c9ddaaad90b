"""The one protocol every cleaning step follows, and the frame checks they share.

A step is a scikit-learn transformer on pandas frames with two extra methods:

* ``fit_apply(X) -> StepOutcome`` -- fit on ``X`` and clean it;
* ``apply(X) -> StepOutcome`` -- clean ``X`` with what was learned in ``fit``.

A :class:`StepOutcome` carries the cleaned frame, the mask of input rows that survived
and the :class:`~riskmoe.cleaning.report.StepReport`. :class:`CleaningStep` implements
the protocol once; a concrete step writes only ``_learn`` (what ``fit`` learns) and
``_change`` (what it does to a frame).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple, Protocol, Self, runtime_checkable

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError
from sklearn.utils.validation import check_is_fitted

from riskmoe.cleaning.report import StepReport, build_step_report
from riskmoe.exceptions import DataError, NotFittedError, SchemaError

__all__ = [
    "CleaningStep",
    "Change",
    "StepOutcome",
    "SupportsCleaning",
    "check_frame",
    "check_share",
    "numeric_columns",
    "require_columns",
]


class Change(NamedTuple):
    """What a step's ``_change`` returns: the new frame, surviving rows, facts."""

    frame: pd.DataFrame
    kept: np.ndarray | None = None
    details: dict[str, Any] | None = None


class StepOutcome(NamedTuple):
    """The result of applying one step.

    Attributes
    ----------
    frame : DataFrame
        The cleaned frame; its rows are the input rows where ``kept`` is true.
    kept : ndarray of bool, shape (n_input_rows,)
        Which input rows survived.
    report : StepReport
        What changed.
    """

    frame: pd.DataFrame
    kept: np.ndarray
    report: StepReport


@runtime_checkable
class SupportsCleaning(Protocol):
    """What :class:`~riskmoe.cleaning.CleaningPipeline` needs from a step."""

    def fit_apply(self, X: pd.DataFrame) -> StepOutcome: ...

    def apply(self, X: pd.DataFrame) -> StepOutcome: ...


def check_frame(X: Any, owner: str) -> pd.DataFrame:
    """Return ``X`` if it is a usable DataFrame, else raise a specific error.

    Raises
    ------
    DataError
        If ``X`` is not a DataFrame.
    SchemaError
        If ``X`` has duplicated column names.
    """
    if not isinstance(X, pd.DataFrame):
        raise DataError(f"{owner} needs a pandas DataFrame; got {type(X).__name__}.")
    duplicated = X.columns[X.columns.duplicated()].unique().tolist()
    if duplicated:
        raise SchemaError(f"{owner}: column names must be unique; duplicated: {duplicated}.")
    return X


def require_columns(frame: pd.DataFrame, columns: Iterable[Any], owner: str) -> None:
    """Raise :class:`SchemaError` naming every column of ``columns`` absent from ``frame``."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"{owner}: column(s) {missing} not found in the frame; "
            f"it has {len(frame.columns)} columns: {list(frame.columns)[:20]}."
        )


def check_share(value: float, name: str, *, low_open: bool = False) -> float:
    """Check that ``value`` is a share in [0, 1] (or (0, 1] with ``low_open``)."""
    ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    ok = ok and (0.0 < value <= 1.0 if low_open else 0.0 <= value <= 1.0)
    if not ok:
        interval = "(0, 1]" if low_open else "[0, 1]"
        raise ValueError(f"{name} must be a number in {interval}; got {value!r}.")
    return float(value)


def numeric_columns(
    frame: pd.DataFrame,
    columns: Sequence[Any] | None,
    exclude: Sequence[Any],
    owner: str,
) -> list[Any]:
    """The numeric (non-boolean) columns a step works on.

    ``columns=None`` means every numeric, non-boolean column not in ``exclude``; named
    columns must exist and be numeric.

    Raises
    ------
    SchemaError
        If a named column is missing or not numeric.
    """
    if columns is None:
        chosen = [
            c
            for c in frame.columns
            if pd.api.types.is_numeric_dtype(frame[c].dtype)
            and not pd.api.types.is_bool_dtype(frame[c].dtype)
            and c not in exclude
        ]
    else:
        chosen = [c for c in columns if c not in exclude]
        require_columns(frame, chosen, owner)
        bad = {
            c: str(frame[c].dtype)
            for c in chosen
            if not pd.api.types.is_numeric_dtype(frame[c].dtype)
            or pd.api.types.is_bool_dtype(frame[c].dtype)
        }
        if bad:
            raise SchemaError(f"{owner} needs numeric columns; got non-numeric {bad}.")
    return chosen


# auto_wrap_output_keys=None: rows may be dropped, so sklearn's set_output wrapper must not
# re-index the output with the input's index.
class CleaningStep(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):  # type: ignore[call-arg]
    """Base class of the cleaning steps: ``fit`` / ``apply`` / ``fit_apply`` once.

    ``transform`` returns ``apply(X).frame`` -- possibly fewer rows than ``X`` for steps
    that drop rows; ``apply(X).kept`` says which. Subclasses implement ``_learn(X)`` and
    ``_change(X) -> Change``, and may override ``_validate_arguments``.
    """

    # -- the protocol ---------------------------------------------------------------------

    def fit(self, X: pd.DataFrame, y: Any = None) -> Self:
        """Learn what the step needs from the training frame ``X``; return ``self``."""
        frame = check_frame(X, type(self).__name__)
        self._validate_arguments()
        self._learn(frame)
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.n_features_in_ = frame.shape[1]
        return self

    def apply(self, X: pd.DataFrame) -> StepOutcome:
        """Clean ``X`` with the fitted statistics (nothing is re-learned)."""
        frame = self._checked_input(X)
        return self._outcome(frame, self._change(frame))

    def fit_apply(self, X: pd.DataFrame) -> StepOutcome:
        """Fit on ``X``, then clean ``X``."""
        self.fit(X)
        return self._outcome(X, self._change_training(X))

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """The cleaned frame of :meth:`apply` (may have fewer rows than ``X``)."""
        return self.apply(X).frame

    def fit_transform(self, X: pd.DataFrame, y: Any = None, **fit_params: Any) -> pd.DataFrame:
        """The cleaned frame of :meth:`fit_apply`."""
        if fit_params:
            raise TypeError(f"{type(self).__name__}.fit_transform takes no fit parameters.")
        return self.fit_apply(X).frame

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Output column names for the fitted input columns."""
        self._require_fitted()
        return np.asarray(self._output_columns(list(self.feature_names_in_)), dtype=object)

    # -- hooks for subclasses -------------------------------------------------------------

    def _validate_arguments(self) -> None:
        """Check constructor arguments (called by ``fit``)."""

    def _learn(self, X: pd.DataFrame) -> None:
        raise NotImplementedError

    def _change(self, X: pd.DataFrame) -> Change:
        raise NotImplementedError

    def _change_training(self, X: pd.DataFrame) -> Change:
        """Clean the training frame just fitted; distance detectors override this."""
        return self._change(X)

    def _output_columns(self, columns: list[Any]) -> list[Any]:
        return columns

    # -- shared machinery -----------------------------------------------------------------

    def _require_fitted(self) -> None:
        try:
            check_is_fitted(self)
        except _SklearnNotFittedError:
            raise NotFittedError(
                f"{type(self).__name__} is not fitted yet; call fit first."
            ) from None

    def _checked_input(self, X: Any) -> pd.DataFrame:
        self._require_fitted()
        frame = check_frame(X, type(self).__name__)
        seen = list(self.feature_names_in_)
        missing = [c for c in seen if c not in frame.columns]
        extra = [c for c in frame.columns if c not in set(seen)]
        if missing or extra:
            raise SchemaError(
                f"{type(self).__name__}: the frame's columns differ from those seen in fit; "
                f"missing {missing}, unexpected {extra}."
            )
        return frame

    def _outcome(self, before: pd.DataFrame, change: Change) -> StepOutcome:
        kept = (
            np.ones(len(before), dtype=bool)
            if change.kept is None
            else np.asarray(change.kept, dtype=bool)
        )
        report = build_step_report(
            name=type(self).__name__,
            before=before,
            after=change.frame,
            kept=kept,
            details=change.details,
        )
        return StepOutcome(change.frame, kept, report)
