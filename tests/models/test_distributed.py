"""DistributedDataParallel training: two torchrun processes (gloo) versus one process."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from riskmoe.config import Settings
from riskmoe.data import load_dataset
from riskmoe.exceptions import ConfigError
from riskmoe.models import MoERiskClassifier
from riskmoe.workflow import models as model_jobs
from riskmoe.workflow.distributed import train_distributed

# No per-rank randomness (dropout, gating noise) and no batch-coupled router loss: DDP's
# averaged gradient then equals the single-process gradient up to float round-off. Dense
# dispatch on both sides (DDP trains dense): sparse gathers give other float32 round-off,
# which Adam's normalised steps amplify on near-zero gradients (measured: 0.17 apart).
DETERMINISTIC = {
    "n_ensemble": 1,
    "max_epochs": 4,
    "patience": 4,
    "expert_hidden": 16,
    "d_embedding": 4,
    "dropout": 0.0,
    "noisy_gating": False,
    "balance_coef": 0.0,
    "z_loss_coef": 0.0,
    "batch_size": 64,
    "dispatch": "dense",
}


@pytest.mark.slow
def test_two_process_ddp_matches_single_process_training(
    shared_settings: Settings, tmp_path: Path
) -> None:
    ddp = train_distributed(
        "german_credit",
        tmp_path / "ddp",
        shared_settings,
        nproc=2,
        model_params=DETERMINISTIC,
    )
    assert ddp.world_size == 2 and ddp.backend == "gloo"
    single_settings = shared_settings.model_copy(update={"home": tmp_path / "single_home"})
    single = model_jobs.train(
        "german_credit", tmp_path / "single", single_settings, model_params=DETERMINISTIC
    )
    X, _ = load_dataset("german_credit", settings=shared_settings).X_y()
    a = MoERiskClassifier.load(tmp_path / "ddp").predict_proba(X)[:, 1]
    b = MoERiskClassifier.load(single.path).predict_proba(X)[:, 1]
    # float32 sums over two shards instead of one batch: measured max |dp| = 7.6e-8
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)
    assert ddp.train["n_train"] == single.n_train
    assert ddp.train["metrics"]["auc"] == pytest.approx(single.metrics.auc, abs=1e-6)
    # rank 0 registered the model in the caller's store; the scratch ranks did not
    with model_jobs.Store(shared_settings.resolved_store_path) as store:
        registry = model_jobs.registered_models(store)
    assert list(registry["path"]) == [str((tmp_path / "ddp").resolve())]


def test_bad_launch_parameters_are_refused(shared_settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nproc must be an integer >= 1"):
        train_distributed("german_credit", tmp_path / "m", shared_settings, nproc=0)
    with pytest.raises(ConfigError, match="backend must be 'gloo'"):
        train_distributed(
            "german_credit",
            tmp_path / "m",
            shared_settings,
            backend="mpi",  # type: ignore[arg-type]
        )
