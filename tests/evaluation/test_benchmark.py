"""The credit benchmark: a quick smoke on German credit, the record format, model wiring."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskmoe.evaluation.benchmark import (
    EXTRA_KEYS,
    RECORD_KEYS,
    REQUIRED_KEYS,
    CreditBenchmarkConfig,
    credit_model_specs,
    run_credit_benchmark,
)
from riskmoe.evaluation.cv import FoldContext
from riskmoe.evaluation.plots import plot_expert_usage, usage_by_group, usage_table
from riskmoe.exceptions import ConfigError

BASELINES = ["lightgbm", "random_forest", "logistic", "mlp"]
SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "credit_models.py"


def test_quick_benchmark_on_german_credit_writes_the_required_records(isolated_settings, tmp_path):
    # the quick design, with fewer timing calls to keep the test fast
    config = dataclasses.replace(
        CreditBenchmarkConfig.quick(), latency_calls=3, throughput_rows=500
    )
    res = run_credit_benchmark(
        ["german_credit"],
        BASELINES,
        quick=True,
        out_dir=tmp_path,
        settings=isolated_settings,  # the bundled German credit file: no shared data needed
        config=config,
    )
    records = json.loads((tmp_path / "credit_models.json").read_text())
    assert isinstance(records, list) and len(records) == 2 * len(BASELINES)
    for rec in records:
        assert set(rec) == set(RECORD_KEYS)
        assert set(REQUIRED_KEYS) <= set(rec)
        for key in REQUIRED_KEYS[3:]:
            assert isinstance(rec[key], float) and math.isfinite(rec[key]), key
        assert rec["dataset"] == "german_credit"
        assert 0.0 <= rec["auc"] <= 1.0 and 0.0 <= rec["ece"] <= 1.0
    assert {r["model"] for r in records} == set(BASELINES)
    folds = {m: sorted(r["fold"] for r in records if r["model"] == m) for m in BASELINES}
    assert all(f == [0, 1] for f in folds.values())
    assert {r["n_parameters"] for r in records if r["model"] == "mlp"} != {None}
    # a smoke test, not a result; only the stable reference must be clearly above chance
    assert np.mean([r["auc"] for r in records if r["model"] == "logistic"]) > 0.7

    md = (tmp_path / "credit_models.md").read_text()
    assert "| german_credit |" in md and "0.7967 (RealMLP)" in md  # the target beside ours
    assert "subsampled (stratified) to at most 5,000 rows" in md
    png = tmp_path / "credit_models_german_credit.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    meta = json.loads((tmp_path / "credit_models.meta.json").read_text())
    assert meta["datasets"][0]["folds"] == 2 and meta["config"]["n_trials"] == 1
    assert res.summary.loc[("german_credit", "logistic"), ("folds", "n")] == 2


def test_record_keys_are_the_issue_keys_plus_documented_extras():
    assert REQUIRED_KEYS == (
        "dataset",
        "model",
        "fold",
        "auc",
        "ks",
        "pr_auc",
        "brier",
        "logloss",
        "ece",
        "fit_seconds",
        "predict_rows_per_s",
    )
    assert RECORD_KEYS == REQUIRED_KEYS + EXTRA_KEYS
    assert not set(REQUIRED_KEYS) & set(EXTRA_KEYS)


def test_full_design_repeats_small_and_rare_datasets():
    config = CreditBenchmarkConfig()
    assert config.design("german_credit", 1_000) == (5, 3)
    assert config.design("cn_distress", 6_673) == (5, 3)
    assert config.design("give_me_some_credit", 150_000) == (5, 1)
    assert CreditBenchmarkConfig.quick().design("cn_distress", 5_000) == (2, 1)


def test_the_mlp_takes_the_moes_active_parameter_count():
    specs, _ = credit_model_specs(["mlp"], CreditBenchmarkConfig(mlp_parameters=7_000))
    (mlp,) = specs

    class FittedMoE:
        n_active_parameters_ = 4_321

    def context(fitted: dict[str, object]) -> FoldContext:
        return FoldContext("d", 0, 0, 3, {}, 100, fitted)

    assert mlp.build(context({"moe": FittedMoE()})).n_parameters == 4_321
    assert mlp.build(context({})).n_parameters == 7_000
    assert mlp.build(context({})).random_state == 3


def test_model_order_puts_the_moe_before_the_mlp():
    specs, notes = credit_model_specs(["mlp", "logistic", "moe"])
    names = [s.name for s in specs]
    assert names.index("logistic") < names.index("mlp")
    if "moe" in names:
        assert names.index("moe") < names.index("mlp")
    else:
        assert any("moe" in n and "skipped" in n for n in notes)


def test_bad_names_raise_config_errors(isolated_settings):
    with pytest.raises(ConfigError, match=r"unknown model\(s\) \['xgboost'\]"):
        credit_model_specs(["xgboost"])
    with pytest.raises(ConfigError, match=r"unknown dataset\(s\) \['nope'\]"):
        run_credit_benchmark(["nope"], ["logistic"], settings=isolated_settings)


def test_the_script_reports_bad_arguments_with_exit_code_2(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("credit_models_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    code = script.main(["--datasets", "nope", "--quick", "--out", str(tmp_path), "--no-progress"])
    assert code == 2
    assert "unknown dataset(s) ['nope']" in capsys.readouterr().err
    args = script.parse_args(["--datasets", "german_credit,lending_club", "--models", "moe"])
    assert args.datasets == ["german_credit", "lending_club"] and args.models == ["moe"]


def test_usage_table_averages_folds_and_keeps_expert_names():
    names = ["routed_0[a]", "routed_1[b]"]
    table = usage_table([np.array([1.0, 0.5]), np.array([0.0, 1.5])], labels=names)
    assert list(table.columns) == names
    np.testing.assert_allclose(table.to_numpy(), [[0.5, 1.0]])
    frames = usage_table([pd.DataFrame({"x": [1.0, 2.0]}), pd.DataFrame({"x": [3.0, 4.0]})])
    np.testing.assert_allclose(frames["x"], [2.0, 3.0])
    with pytest.raises(ValueError, match="differs in shape across folds"):
        usage_table([np.ones(2), np.ones(3)])
    with pytest.raises(ValueError, match="no expert usage"):
        usage_table([])


def test_usage_by_group_sums_each_groups_experts_and_plots(tmp_path):
    a = pd.DataFrame([[0.5, 0.25, 1.25]], columns=["routed_0[x]", "routed_1[y]", "routed_2[x]"])
    b = pd.DataFrame([[1.0, 1.0]], columns=["routed_0[z]", "routed_1[y]"])
    by_group = usage_by_group({"a": a, "b": b})
    assert list(by_group.columns) == ["x", "y", "z"]
    np.testing.assert_allclose(by_group.loc["a"], [1.75, 0.25, np.nan])
    np.testing.assert_allclose(by_group.loc["b"], [np.nan, 1.0, 1.0])
    png = plot_expert_usage({"a": a, "b": b}, path=tmp_path / "usage.png")
    assert png.read_bytes()[:4] == b"\x89PNG"
