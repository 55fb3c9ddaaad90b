"""Evaluation: metrics, timing, tuning, the cross-validation runner and the credit benchmark."""

from riskmoe.evaluation.benchmark import (
    CREDIT_DATASETS,
    CREDIT_MODELS,
    CreditBenchmarkConfig,
    CreditBenchmarkResult,
    run_credit_benchmark,
)
from riskmoe.evaluation.cv import (
    CVResult,
    FoldContext,
    FoldRecord,
    FoldSplit,
    ModelSpec,
    cross_validate_models,
    cv_splits,
    summarize,
)
from riskmoe.evaluation.metrics import (
    CalibrationCurve,
    DiscriminationReport,
    ProbabilityMetrics,
    calibrated_ece_draws,
    calibration_data,
    discrimination,
    ece_noise_floor,
    expected_calibration_error,
    gini,
    ks_statistic,
    pr_auc,
    probability_metrics,
)
from riskmoe.evaluation.timing import predict_rows_per_second, single_row_latency_ms
from riskmoe.evaluation.tuning import Trial, TuningResult, tune

__all__ = [
    "CREDIT_DATASETS",
    "CREDIT_MODELS",
    "CVResult",
    "CalibrationCurve",
    "CreditBenchmarkConfig",
    "CreditBenchmarkResult",
    "DiscriminationReport",
    "FoldContext",
    "FoldRecord",
    "FoldSplit",
    "ModelSpec",
    "ProbabilityMetrics",
    "Trial",
    "TuningResult",
    "calibrated_ece_draws",
    "calibration_data",
    "cross_validate_models",
    "cv_splits",
    "discrimination",
    "ece_noise_floor",
    "expected_calibration_error",
    "gini",
    "ks_statistic",
    "pr_auc",
    "predict_rows_per_second",
    "probability_metrics",
    "run_credit_benchmark",
    "single_row_latency_ms",
    "summarize",
    "tune",
]
