"""Monitoring: stream scoring, drift, adaptive thresholds, alerts, input guard."""

from riskmoe.monitoring.alerts import ALERT_TABLE, Alert, Severity, alert_id_for

__all__ = ["ALERT_TABLE", "Alert", "Severity", "alert_id_for"]
