"""Explanations: gate weights, expert contributions and integrated-gradients reason codes.

Attributions use integrated gradients over the column tokens (the embedded inputs),
relative to a baseline row of training medians (numeric) and modes (categorical):

.. math:: \\mathrm{IG}_j(x) = \\sum_{i \\in \\mathrm{token}\\ j} (e_i(x) - e_i(x'))
   \\int_0^1 \\frac{\\partial z(e(x') + \\alpha (e(x) - e(x')))}{\\partial e_i}\\, d\\alpha

computed with Gauss-Legendre quadrature; a column's attribution is the sum over its
token. Completeness: :math:`\\sum_j \\mathrm{IG}_j(x) = z(x) - z(x')` for a smooth
network; top-k routing is discontinuous where the selected experts switch along the path,
so the gap is reported per row as ``delta``.

References
----------
.. [1] M. Sundararajan, A. Taly, Q. Yan, "Axiomatic Attribution for Deep Networks",
   ICML 2017.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from riskmoe.features import EncodedFrame
from riskmoe.models.moe._network import MoENetwork

if TYPE_CHECKING:
    from riskmoe.models.moe._estimator import MoERiskClassifier

__all__ = ["Explanation", "explain_rows", "format_value", "integrated_gradients"]

_CHUNK = 1024


@dataclass(frozen=True, eq=False)
class Explanation:
    """Per-row explanation of default-task scores.

    Attributes
    ----------
    index : tuple
        Row labels of the explained frame.
    feature_names : tuple of str
        Input columns, in training order (columns of ``attributions``).
    expert_names : tuple of str
        Routed experts (columns of ``gate_weights``), ``routed_{n}[{group}]``; prefixed
        ``m{k}.`` per ensemble member.
    term_names : tuple of str
        Columns of ``contributions``: shared experts then routed experts.
    gate_weights : ndarray of shape (n_rows, n_routed)
        Default-task gates; per member they sum to 1 with ``top_k`` non-zeros.
    contributions : ndarray of shape (n_rows, n_terms)
        Each expert's additive share of the logit; ``contributions.sum(1) + bias == logit``.
    bias : float
        Head bias (member mean).
    logit : ndarray of shape (n_rows,)
        Raw default-task logit.
    probability : ndarray of shape (n_rows,)
        Calibrated default probability.
    baseline_logit : float
        Logit of the baseline row (training medians / modes).
    attributions : ndarray of shape (n_rows, n_features)
        Integrated-gradients attribution of each column to ``logit - baseline_logit``.
    delta : ndarray of shape (n_rows,)
        Completeness gap ``logit - baseline_logit - attributions.sum(1)``.
    reason_codes : tuple of tuple of str
        Per row, e.g. ``"PAY_STATUS_1 = late (raises risk)"``, largest attributions first.
    """

    index: tuple[Any, ...]
    feature_names: tuple[str, ...]
    expert_names: tuple[str, ...]
    term_names: tuple[str, ...]
    gate_weights: np.ndarray
    contributions: np.ndarray
    bias: float
    logit: np.ndarray
    probability: np.ndarray
    baseline_logit: float
    attributions: np.ndarray
    delta: np.ndarray
    reason_codes: tuple[tuple[str, ...], ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form: shared metadata plus one record per row."""
        rows = []
        for i, label in enumerate(self.index):
            rows.append(
                {
                    "index": label.item() if isinstance(label, np.generic) else label,
                    "logit": float(self.logit[i]),
                    "probability": float(self.probability[i]),
                    "delta": float(self.delta[i]),
                    "gate_weights": dict(
                        zip(self.expert_names, map(float, self.gate_weights[i]), strict=True)
                    ),
                    "contributions": dict(
                        zip(self.term_names, map(float, self.contributions[i]), strict=True)
                    ),
                    "attributions": dict(
                        zip(self.feature_names, map(float, self.attributions[i]), strict=True)
                    ),
                    "reason_codes": list(self.reason_codes[i]),
                }
            )
        return {
            "feature_names": list(self.feature_names),
            "expert_names": list(self.expert_names),
            "term_names": list(self.term_names),
            "bias": self.bias,
            "baseline_logit": self.baseline_logit,
            "rows": rows,
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per explained row: logit, probability, gates, contributions, reasons."""
        parts: dict[str, Any] = {"logit": self.logit, "probability": self.probability}
        for j, name in enumerate(self.expert_names):
            parts[f"gate:{name}"] = self.gate_weights[:, j]
        for j, name in enumerate(self.term_names):
            parts[f"contribution:{name}"] = self.contributions[:, j]
        width = max((len(r) for r in self.reason_codes), default=0)
        for k in range(width):
            parts[f"reason_{k + 1}"] = [r[k] if k < len(r) else None for r in self.reason_codes]
        return pd.DataFrame(parts, index=pd.Index(list(self.index)))


def integrated_gradients(
    net: MoENetwork, tokens: Tensor, baseline: Tensor, n_steps: int = 32, task: int = 0
) -> Tensor:
    """Integrated gradients of a task logit with respect to the column tokens.

    Parameters
    ----------
    net : MoENetwork
        In eval mode.
    tokens : Tensor, shape (batch, n_tokens, d_embedding)
    baseline : Tensor, shape (1, n_tokens, d_embedding)
    n_steps : int, default=32
        Gauss-Legendre nodes on [0, 1].
    task : int, default=0

    Returns
    -------
    Tensor, shape (batch, n_tokens)
        Attribution per token (summed over the embedding width).
    """
    nodes, weights = np.polynomial.legendre.leggauss(n_steps)
    alphas = (nodes + 1.0) / 2.0
    weights = weights / 2.0
    diff = (tokens - baseline).detach()
    grad_sum = torch.zeros_like(diff)
    for alpha, w in zip(alphas, weights, strict=True):
        z = (baseline + float(alpha) * diff).detach().requires_grad_(True)
        out = net.forward_tokens(z, [task]).logits[:, 0]
        (grad,) = torch.autograd.grad(out.sum(), z)
        grad_sum += float(w) * grad
    return (diff * grad_sum).sum(-1)


def format_value(value: Any) -> str:
    """How a raw value appears in a reason code: whole numbers as integers, others to six
    significant digits, missing values as ``missing``.

    Examples
    --------
    >>> [format_value(v) for v in (50000.0, 0.14792, float("nan"), "late")]
    ['50000', '0.14792', 'missing', 'late']
    """
    try:
        if pd.isna(value):
            return "missing"
    except (TypeError, ValueError):
        pass
    if isinstance(value, float | np.floating):
        v = float(value)
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return f"{v:.6g}"
    return str(value)


def _reason_codes(
    frame: pd.DataFrame, attributions: np.ndarray, names: tuple[str, ...], n_reasons: int
) -> tuple[tuple[str, ...], ...]:
    codes = []
    values = [frame[name].to_numpy(dtype=object) for name in names]
    for i in range(attributions.shape[0]):
        order = np.argsort(-np.abs(attributions[i]), kind="stable")[:n_reasons]
        row = []
        for j in order:
            a = attributions[i, j]
            if a == 0:
                continue
            direction = "raises risk" if a > 0 else "lowers risk"
            row.append(f"{names[j]} = {format_value(values[j][i])} ({direction})")
        codes.append(tuple(row))
    return tuple(codes)


def explain_rows(
    model: MoERiskClassifier,
    frame: pd.DataFrame,
    encoded: EncodedFrame,
    *,
    n_reasons: int,
    n_steps: int,
) -> Explanation:
    """Build the :class:`Explanation` of ``frame`` (already aligned and encoded)."""
    if n_reasons < 0:
        raise ValueError(f"n_reasons must be >= 0; got n_reasons={n_reasons}.")
    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1; got n_steps={n_steps}.")
    members = [m for m in model.module_.members if isinstance(m, MoENetwork)]
    n_members = len(members)
    encoder = model.encoder_
    token_names = encoder.feature_names
    to_column = [token_names.index(c) for c in encoder.columns_]
    base = encoder.baseline()
    b_num, b_miss, b_cat = (torch.from_numpy(a) for a in base)
    x_num, x_miss, x_cat = (torch.from_numpy(np.ascontiguousarray(a)) for a in encoded)
    n = x_num.shape[0]

    attributions = np.zeros((n, len(token_names)))
    logit = np.zeros(n)
    baseline_logit = 0.0
    gates, terms, bias = [], [], 0.0
    for net in members:
        net.eval()
        with torch.no_grad():
            b_tok = net.tokens(b_num, b_miss, b_cat)
            baseline_logit += float(net.forward_tokens(b_tok, [0]).logits[0, 0]) / n_members
            bias += float(net.head_bias[0]) / n_members
        member_terms, member_gates = [], []
        for start in range(0, n, _CHUNK):
            sl = slice(start, min(start + _CHUNK, n))
            with torch.no_grad():
                tok = net.tokens(x_num[sl], x_miss[sl], x_cat[sl])
                t, g = net.contributions(tok, task=0)
                logit[sl] += (t.sum(1) + net.head_bias[0]).double().numpy() / n_members
            attr = integrated_gradients(net, tok, b_tok, n_steps=n_steps)
            attributions[sl] += attr.double().numpy() / n_members
            member_terms.append(t.double().numpy() / n_members)
            member_gates.append(g.double().numpy())
        terms.append(np.concatenate(member_terms))
        gates.append(np.concatenate(member_gates))

    n_shared = members[0].moe.shared.__len__()
    local_terms = [f"shared_{s}" for s in range(n_shared)] + list(model.expert_names_)
    prefix = (lambda m: f"m{m}.") if n_members > 1 else (lambda m: "")
    term_names = tuple(prefix(m) + t for m in range(n_members) for t in local_terms)
    expert_names = tuple(prefix(m) + e for m in range(n_members) for e in model.expert_names_)
    columns = tuple(encoder.columns_)
    col_attr = attributions[:, to_column]
    return Explanation(
        index=tuple(frame.index),
        feature_names=columns,
        expert_names=expert_names,
        term_names=term_names,
        gate_weights=np.concatenate(gates, axis=1),
        contributions=np.concatenate(terms, axis=1),
        bias=bias,
        logit=logit,
        probability=model.calibrator_.transform(logit),
        baseline_logit=baseline_logit,
        attributions=col_attr,
        delta=logit - baseline_logit - col_attr.sum(1),
        reason_codes=_reason_codes(frame, col_attr, columns, n_reasons),
    )
