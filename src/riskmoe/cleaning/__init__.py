"""Data-quality steps for risk data, and the pipeline that runs them with a report.

=========================  ===========================================================
missing values             :class:`DropMissingColumns`, :class:`DropMissingRows`,
                           :class:`Imputer`
duplicates                 :class:`DropDuplicates`
logic rules (as data)      :class:`Range`, :class:`NonNegative`, :class:`Sentinel`,
                           :class:`Unique`, :func:`parse_rules`, :class:`ApplyRules`
outliers                   :class:`ZScoreOutliers`, :class:`IQROutliers`,
                           :class:`KNNOutliers`, :class:`LOFOutliers` (Minkowski ``p``)
choosing ``p``             :func:`select_minkowski_p`, :func:`inject_outliers`
pipeline and report        :class:`CleaningPipeline`, :class:`CleaningReport`
=========================  ===========================================================

Every step is a scikit-learn transformer on DataFrames that learns in ``fit`` only and
follows one protocol (:class:`~riskmoe.cleaning.step.CleaningStep`).
"""

from riskmoe.cleaning.duplicates import DropDuplicates
from riskmoe.cleaning.minkowski_selection import (
    MinkowskiSelection,
    inject_outliers,
    select_minkowski_p,
)
from riskmoe.cleaning.missing import DropMissingColumns, DropMissingRows, Imputer
from riskmoe.cleaning.outliers import (
    MINKOWSKI_P_GRID,
    IQROutliers,
    KNNOutliers,
    LOFOutliers,
    ZScoreOutliers,
)
from riskmoe.cleaning.pipeline import CleaningPipeline, CleaningResult
from riskmoe.cleaning.report import CleaningReport, ColumnChange, StepReport
from riskmoe.cleaning.rules import (
    ApplyRules,
    NonNegative,
    Range,
    Rule,
    Sentinel,
    Unique,
    parse_rules,
)
from riskmoe.cleaning.step import CleaningStep, StepOutcome

__all__ = [
    "MINKOWSKI_P_GRID",
    "ApplyRules",
    "CleaningPipeline",
    "CleaningReport",
    "CleaningResult",
    "CleaningStep",
    "ColumnChange",
    "DropDuplicates",
    "DropMissingColumns",
    "DropMissingRows",
    "IQROutliers",
    "Imputer",
    "KNNOutliers",
    "LOFOutliers",
    "MinkowskiSelection",
    "NonNegative",
    "Range",
    "Rule",
    "Sentinel",
    "StepOutcome",
    "StepReport",
    "Unique",
    "ZScoreOutliers",
    "inject_outliers",
    "parse_rules",
    "select_minkowski_p",
]
