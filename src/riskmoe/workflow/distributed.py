"""``riskmoe train --distributed``: the train job under ``torchrun`` with DDP.

:func:`train_distributed` launches ``python -m torch.distributed.run --nproc_per_node N``
with this module as the worker. Every worker joins the process group (gloo on CPU; NCCL when
``backend="nccl"`` on GPUs), runs :func:`riskmoe.workflow.models.train` with
:class:`~riskmoe.models.moe.DistributedMoERiskClassifier` -- same data, split and seeds in
every process, gradients averaged by DDP -- and rank 0 saves and registers the model. The
other ranks train the same weights into a throw-away folder and store.

Multi-node: run the same ``torchrun`` on each machine with ``--nnodes``, ``--node_rank``
and a reachable ``--master_addr`` / ``--master_port`` (see the README); every node needs the
data and the package.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from riskmoe.config import Settings
from riskmoe.exceptions import ConfigError, RiskMoEError

__all__ = ["DistributedTrainResult", "free_port", "torchrun_command", "train_distributed"]

Backend = Literal["gloo", "nccl"]


@dataclass(frozen=True)
class DistributedTrainResult:
    """A model trained by several processes, with rank 0's train result.

    Attributes
    ----------
    world_size : int
    backend : str
    seconds : float
        Wall time of the whole ``torchrun`` launch.
    train : dict
        :meth:`riskmoe.workflow.models.TrainResult.to_dict` of rank 0.
    """

    world_size: int
    backend: str
    seconds: float
    train: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "world_size": self.world_size,
            "backend": self.backend,
            "seconds": self.seconds,
            "train": self.train,
        }


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (for the rendezvous)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def torchrun_command(nproc: int, port: int, spec_path: Path) -> list[str]:
    """The ``torchrun`` command line of a one-node launch of this module's worker.

    Examples
    --------
    >>> cmd = torchrun_command(2, 29500, Path("spec.json"))
    >>> cmd[1:5]
    ['-m', 'torch.distributed.run', '--nproc_per_node', '2']
    >>> cmd[-3:]
    ['riskmoe.workflow.distributed', '--spec', 'spec.json']
    """
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        str(nproc),
        "--nnodes",
        "1",
        "--master_addr",
        "127.0.0.1",
        "--master_port",
        str(port),
        "-m",
        "riskmoe.workflow.distributed",
        "--spec",
        str(spec_path),
    ]


def train_distributed(
    dataset: str,
    out_dir: str | Path,
    settings: Settings,
    *,
    nproc: int = 2,
    backend: Backend = "gloo",
    test_size: float = 0.2,
    model_params: dict[str, Any] | None = None,
    timeout: float = 3600.0,
    **options: Any,
) -> DistributedTrainResult:
    """Train, evaluate, save and register like :func:`riskmoe.workflow.models.train`, with
    ``nproc`` DDP processes on this machine.

    Raises
    ------
    ConfigError
        For ``nproc < 1`` or an unknown backend.
    RiskMoEError
        If a worker fails (its last output lines are in the message) or the launch
        exceeds ``timeout`` seconds.
    """
    if isinstance(nproc, bool) or not isinstance(nproc, int) or nproc < 1:
        raise ConfigError(f"nproc must be an integer >= 1; got nproc={nproc!r}.")
    if backend not in ("gloo", "nccl"):
        raise ConfigError(f"backend must be 'gloo' (CPU) or 'nccl' (GPU); got {backend!r}.")
    with tempfile.TemporaryDirectory(prefix="riskmoe-ddp-") as tmp:
        spec_path, result_path = Path(tmp) / "spec.json", Path(tmp) / "result.json"
        spec = {
            "dataset": dataset,
            "out_dir": str(Path(out_dir).resolve()),
            "settings": settings.model_dump(mode="json"),
            "backend": backend,
            "test_size": test_size,
            "model_params": model_params or {},
            "options": options,
            "result_path": str(result_path),
            "scratch": tmp,
        }
        spec_path.write_text(json.dumps(spec))
        env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
        started = time.perf_counter()
        try:
            proc = subprocess.run(
                torchrun_command(nproc, free_port(), spec_path),
                capture_output=True,
                text=True,
                timeout=timeout,
                env=env,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise RiskMoEError(
                f"distributed training did not finish within {timeout:.0f} s."
            ) from exc
        seconds = time.perf_counter() - started
        if proc.returncode != 0 or not result_path.exists():
            tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
            raise RiskMoEError(
                f"distributed training failed (torchrun exit code {proc.returncode}):\n{tail}"
            )
        result = json.loads(result_path.read_text())
    return DistributedTrainResult(nproc, backend, seconds, result)


def _worker(spec: dict[str, Any]) -> None:
    import torch
    import torch.distributed as dist

    from riskmoe.models.moe import DistributedMoERiskClassifier
    from riskmoe.workflow import models as model_jobs

    torch.set_num_threads(1)
    dist.init_process_group(backend=spec["backend"])
    try:
        rank = dist.get_rank()
        settings = Settings(**spec["settings"])
        out_dir = Path(spec["out_dir"])
        if rank != 0:  # same training, nothing kept: a scratch folder and store
            scratch = Path(spec["scratch"]) / f"rank{rank}"
            out_dir = scratch / "model"
            settings = settings.model_copy(update={"store_path": scratch / "store.duckdb"})
        res = model_jobs.train(
            spec["dataset"],
            out_dir,
            settings,
            test_size=spec["test_size"],
            model_params=spec["model_params"],
            model_class=DistributedMoERiskClassifier,
            **spec["options"],
        )
        dist.barrier()
        if rank == 0:
            Path(spec["result_path"]).write_text(json.dumps(res.to_dict(), default=str))
    finally:
        dist.destroy_process_group()


def main(argv: list[str] | None = None) -> int:
    """Worker entry point (``python -m riskmoe.workflow.distributed --spec FILE``)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != "--spec":
        print("usage: python -m riskmoe.workflow.distributed --spec FILE", file=sys.stderr)
        return 2
    _worker(json.loads(Path(args[1]).read_text()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
