"""Evaluation: discrimination and calibration metrics, the benchmark runner."""

from riskmoe.evaluation.metrics import DiscriminationReport, discrimination, gini, ks_statistic

__all__ = ["DiscriminationReport", "discrimination", "gini", "ks_statistic"]
