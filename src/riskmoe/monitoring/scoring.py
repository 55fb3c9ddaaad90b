"""Scoring a batch of events with the Mixture-of-Experts model, per risk dimension.

:func:`moe_scorer` wraps a fitted :class:`~riskmoe.models.MoERiskClassifier`: for each
row the calibrated PD, each risk dimension's gate share (the router's weight on the
experts that see that feature group, averaged over ensemble members) and contribution to
the logit, and the dimension pushing the score up the most.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskmoe.models import MoERiskClassifier

__all__ = ["ScoredBatch", "Scorer", "dimension_of", "moe_scorer", "reference_shares"]

_GROUP = re.compile(r"(?:m\d+\.)?routed_\d+\[(?P<group>.+)\]$")


def dimension_of(expert_name: str) -> str | None:
    """The feature group a routed expert sees, from its name; None for shared experts.

    Examples
    --------
    >>> dimension_of("m1.routed_3[credit_history]"), dimension_of("shared_0")
    ('credit_history', None)
    """
    m = _GROUP.match(expert_name)
    return m.group("group") if m else None


@dataclass(frozen=True)
class ScoredBatch:
    """PDs with per-dimension gate shares and logit contributions (rows align with input)."""

    probability: np.ndarray
    shares: pd.DataFrame  # one column per dimension, rows sum to 1
    contributions: pd.DataFrame  # one column per dimension (routed experts only)

    @property
    def top_dimension(self) -> list[str]:
        """Per row, the dimension whose experts raise the logit the most."""
        if self.contributions.empty:
            return [""] * len(self.probability)
        return [str(c) for c in self.contributions.idxmax(axis=1)]


Scorer = Callable[[pd.DataFrame], ScoredBatch]


def _by_dimension(values: np.ndarray, names: tuple[str, ...]) -> pd.DataFrame:
    dims = [dimension_of(n) for n in names]
    keep = [i for i, d in enumerate(dims) if d is not None]
    frame = pd.DataFrame(values[:, keep], columns=[dims[i] for i in keep])
    return frame.T.groupby(level=0, sort=False).sum().T


def moe_scorer(model: MoERiskClassifier) -> Scorer:
    """A :data:`Scorer` over a fitted MoE (one integrated-gradients step: gates only)."""

    def score(frame: pd.DataFrame) -> ScoredBatch:
        names = list(model.feature_names_in_)
        ex = model.explain(frame[names], n_reasons=0, n_steps=1)
        n_members = max(1, int(getattr(model, "n_ensemble_", 1)))
        shares = _by_dimension(ex.gate_weights, ex.expert_names) / n_members
        contrib = _by_dimension(ex.contributions, ex.term_names)
        return ScoredBatch(np.asarray(ex.probability, dtype=float), shares, contrib)

    return score


def reference_shares(scored: ScoredBatch) -> dict[str, float]:
    """Mean gate share of each dimension over a reference batch (e.g. the training rows)."""
    return {str(k): float(v) for k, v in scored.shares.mean().items()}
