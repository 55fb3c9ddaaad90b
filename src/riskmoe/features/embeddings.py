"""Per-feature embeddings: piecewise-linear or periodic for numbers, tables for categories.

Each input column becomes one ``d_embedding``-wide token; the experts read (subsets of)
these tokens. Numeric encodings use the encoder's quantile bin edges, so the numeric path
is "quantile transform, then embed" (Gorishniy et al., 2022).

References
----------
.. [1] Y. Gorishniy, I. Rubachev, A. Babenko, "On Embeddings for Numerical Features in
   Tabular Deep Learning", NeurIPS 2022.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from typing import Literal, cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from riskmoe.features.encoder import UNSEEN_INDEX

__all__ = [
    "CategoricalEmbedding",
    "FeatureEmbedding",
    "NumericEmbeddingKind",
    "PeriodicEmbedding",
    "PiecewiseLinearEmbedding",
    "lookup_enabled",
]

NumericEmbeddingKind = Literal["piecewise_linear", "periodic"]


def _bin_buffers(edges: Sequence[Sequence[float]]) -> tuple[Tensor, Tensor, Tensor]:
    """Left edges, widths and a validity mask, each (n_features, max_bins)."""
    n_bins = max(len(e) - 1 for e in edges)
    left = torch.zeros(len(edges), n_bins, dtype=torch.float64)
    width = torch.ones(len(edges), n_bins, dtype=torch.float64)
    mask = torch.zeros(len(edges), n_bins, dtype=torch.float64)
    for j, e in enumerate(edges):
        t = torch.tensor(e, dtype=torch.float64)
        k = t.numel() - 1
        left[j, :k] = t[:-1]
        width[j, :k] = t[1:] - t[:-1]
        mask[j, :k] = 1.0
    return left.float(), width.float(), mask.float()


class _PerFeatureLinear(nn.Module):
    """A separate linear map per feature: (b, F, d_in) -> (b, F, d_out)."""

    def __init__(self, n_features: int, d_in: int, d_out: int) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(d_in)
        self.weight = nn.Parameter(torch.empty(n_features, d_in, d_out).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(n_features, d_out).uniform_(-bound, bound))

    def forward(self, x: Tensor) -> Tensor:
        return torch.einsum("bfi,fio->bfo", x, self.weight) + self.bias


class PiecewiseLinearEmbedding(nn.Module):
    r"""Piecewise-linear encoding over quantile bins, then a per-feature linear map and ReLU.

    For a value :math:`x` and bins :math:`[b_{t-1}, b_t)`,

    .. math:: \mathrm{PLE}_t(x) = \mathrm{clip}\left(\frac{x - b_{t-1}}{b_t - b_{t-1}}, 0, 1\right),

    i.e. the bins left of :math:`x` are 1, the bin holding it the fraction covered, the rest
    0; with quantile edges this is a quantile transform split across bins. Values outside
    the training range saturate (infinities included). The missing indicator is appended
    as one more input channel.

    Parameters
    ----------
    edges : sequence of sequence of float
        Strictly increasing bin edges per feature (at least two each).
    d_embedding : int
        Output width per feature.

    Notes
    -----
    ``forward(x, missing)`` maps ``x`` (batch, n_features) and ``missing``
    (batch, n_features) to (batch, n_features, d_embedding).
    """

    left: Tensor
    width: Tensor
    mask: Tensor

    def __init__(self, edges: Sequence[Sequence[float]], d_embedding: int) -> None:
        super().__init__()
        left, width, mask = _bin_buffers(edges)
        self.register_buffer("left", left)
        self.register_buffer("width", width)
        self.register_buffer("mask", mask)
        self.linear = _PerFeatureLinear(len(edges), left.shape[1] + 1, d_embedding)
        #: evaluate by lookup out of training (see :meth:`embed_located`); per-row
        #: gradients under ``torch.func.vmap`` switch it off (:func:`lookup_enabled`)
        self.lookup = True

    def encode(self, x: Tensor, missing: Tensor) -> Tensor:
        """PLE plus missing flag: (batch, F) x2 -> (batch, F, n_bins + 1)."""
        ple = ((x.unsqueeze(-1) - self.left) / self.width).clamp(0.0, 1.0) * self.mask
        return torch.cat([ple, missing.unsqueeze(-1)], dim=-1)

    def forward(
        self, x: Tensor, missing: Tensor, location: tuple[Tensor, Tensor] | None = None
    ) -> Tensor:
        """Tokens (batch, F, d_embedding); ``location`` is :meth:`locate` of ``x``, if known."""
        if not self.uses_lookup:
            return torch.relu(self.linear(self.encode(x, missing)))
        return self.embed_located(*(location or self.locate(x)), missing).relu_()

    @property
    def uses_lookup(self) -> bool:
        """Out of training, unless switched off, and not in an ONNX export (no search op)."""
        return self.lookup and not self.training and not torch.onnx.is_in_onnx_export()

    def locate(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Where each value falls: its bin and the fraction of that bin below it.

        Returns
        -------
        index : Tensor, int64 (batch, F)
            ``f * (n_bins + 1) + k`` with ``k`` the number of feature ``f``'s bins whose
            right edge is <= the value (0..n_bins).
        fraction : Tensor, float (batch, F)
            The value's position in bin ``k``, clipped to [0, 1] (0 past the last bin).

        Notes
        -----
        Depends only on the bin edges, so networks that share them (the members of an
        ensemble) can share one call; the search is most of the cost of an evaluation.
        """
        n_features, n_bins = self.left.shape
        # each bin's right edge, +inf past a feature's last bin; a pad bin after the last
        right = torch.where(self.mask > 0, self.left + self.width, math.inf)
        # values feature by feature, with canonical strides even for one row
        by_feature = x.t().contiguous().reshape(-1).view(n_features, -1)
        k = torch.searchsorted(right, by_feature, right=True).t()
        index = k + torch.arange(n_features, device=x.device) * (n_bins + 1)
        flat = index.reshape(-1)
        left = F.pad(self.left, (0, 1)).reshape(-1).take(flat).view_as(x)
        width = F.pad(self.width, (0, 1), value=1.0).reshape(-1).take(flat).view_as(x)
        return index, ((x - left) / width).clamp(0.0, 1.0)

    def embed_located(
        self, index: Tensor, fraction: Tensor, missing: Tensor, out: Tensor | None = None
    ) -> Tensor:
        """``linear(encode(x, missing))`` from :meth:`locate` of ``x``, before the ReLU.

        A value in bin ``k`` encodes as ones for the ``k`` bins left of it, its fraction
        of bin ``k`` and zeros after, so the linear map is the sum of the first ``k`` bin
        weights plus the fraction times bin ``k``'s: a prefix sum looked up per value, in
        O(batch x F x d) instead of the encoding's O(batch x F x n_bins x d). The same
        function (and gradient) as the encoding, equal to it up to float rounding (tested).
        ``out`` (batch, F, d), which may be a strided view, receives the result when no
        gradient is recorded (``out=`` is not differentiable).
        """
        table, missing_weight = self.lookup_table()
        d = missing_weight.shape[-1]
        rows = table.index_select(0, index.reshape(-1)).view(*index.shape, 2 * d)
        if out is None:
            out = torch.addcmul(rows[..., :d], fraction.unsqueeze(-1), rows[..., d:])
        else:
            torch.addcmul(rows[..., :d], fraction.unsqueeze(-1), rows[..., d:], out=out)
        return out.addcmul_(missing.unsqueeze(-1), missing_weight)

    def lookup_table(self) -> tuple[Tensor, Tensor]:
        """What :meth:`embed_located` reads: the table and the missing flag's weights.

        Returns
        -------
        table : Tensor, (F * (n_bins + 1), 2 * d)
            Row ``f * (n_bins + 1) + k`` holds the bias plus the sum of feature ``f``'s
            first ``k`` bin weights, then bin ``k``'s weight (zero past the last bin).
        missing_weight : Tensor, (F, d)
        """
        n_bins = self.left.shape[1]
        weight = self.linear.weight  # (F, n_bins + 1, d); the last row is the missing flag
        d = weight.shape[-1]
        bins = weight[:, :n_bins] * self.mask.unsqueeze(-1)
        prefix = F.pad(bins.cumsum(1), (0, 0, 1, 0)) + self.linear.bias.unsqueeze(1)
        table = torch.cat([prefix, F.pad(bins, (0, 0, 0, 1))], dim=-1).reshape(-1, 2 * d)
        return table, weight[:, n_bins]


@contextlib.contextmanager
def lookup_enabled(module: nn.Module, enabled: bool) -> Iterator[None]:
    """Switch the lookup form of every piecewise-linear embedding in ``module`` for a block.

    Examples
    --------
    >>> emb = PiecewiseLinearEmbedding([(0.0, 1.0, 2.0)], d_embedding=2).eval()
    >>> with lookup_enabled(emb, False):
    ...     emb.uses_lookup
    False
    >>> emb.uses_lookup
    True
    """
    found = [m for m in module.modules() if isinstance(m, PiecewiseLinearEmbedding)]
    before = [m.lookup for m in found]
    for m in found:
        m.lookup = enabled
    try:
        yield
    finally:
        for m, value in zip(found, before, strict=True):
            m.lookup = value


class PeriodicEmbedding(nn.Module):
    r"""Quantile transform, then periodic features with learned frequencies, linear and ReLU.

    The value is mapped to its quantile position :math:`u \in [0, 1]` (piecewise-linear
    between the quantile edges), centred to :math:`s = 2u - 1`, and embedded as

    .. math:: [\cos(2\pi c_i s), \sin(2\pi c_i s)]_{i=1..k},\ c_i \sim N(0, \sigma^2)
       \text{ learned},

    followed by a per-feature linear map and ReLU (the "PLR" embedding of Gorishniy 2022).
    The missing indicator is appended as one more input channel.

    Parameters
    ----------
    edges : sequence of sequence of float
        Quantile edges per feature.
    d_embedding : int
        Output width per feature.
    n_frequencies : int, default=16
    sigma : float, default=1.0
        Standard deviation of the initial frequencies.

    Notes
    -----
    ``forward(x, missing)``: (batch, F), (batch, F) -> (batch, F, d_embedding).
    """

    left: Tensor
    width: Tensor
    mask: Tensor

    def __init__(
        self,
        edges: Sequence[Sequence[float]],
        d_embedding: int,
        n_frequencies: int = 16,
        sigma: float = 1.0,
    ) -> None:
        super().__init__()
        left, width, mask = _bin_buffers(edges)
        self.register_buffer("left", left)
        self.register_buffer("width", width)
        self.register_buffer("mask", mask)
        self.frequencies = nn.Parameter(torch.randn(len(edges), n_frequencies) * sigma)
        self.linear = _PerFeatureLinear(len(edges), 2 * n_frequencies + 1, d_embedding)

    def encode(self, x: Tensor, missing: Tensor) -> Tensor:
        """Periodic features plus missing flag: (batch, F) x2 -> (batch, F, 2k + 1)."""
        ple = ((x.unsqueeze(-1) - self.left) / self.width).clamp(0.0, 1.0) * self.mask
        u = ple.sum(-1) / self.mask.sum(-1)
        angle = 2 * math.pi * self.frequencies * (2 * u - 1).unsqueeze(-1)
        return torch.cat([torch.cos(angle), torch.sin(angle), missing.unsqueeze(-1)], dim=-1)

    def forward(self, x: Tensor, missing: Tensor) -> Tensor:
        return torch.relu(self.linear(self.encode(x, missing)))


class CategoricalEmbedding(nn.Module):
    """One embedding table per categorical column; the unseen index embeds to zeros.

    Parameters
    ----------
    cardinalities : sequence of int
        Table size per column (vocabulary + the reserved unseen and missing indices).
    d_embedding : int

    Notes
    -----
    ``forward(idx)``: int64 (batch, n_columns) -> (batch, n_columns, d_embedding).
    """

    offsets: Tensor

    def __init__(self, cardinalities: Sequence[int], d_embedding: int) -> None:
        super().__init__()
        offsets = torch.tensor([0, *list(cardinalities)[:-1]], dtype=torch.int64).cumsum(0)
        self.register_buffer("offsets", offsets)
        bound = 1.0 / math.sqrt(d_embedding)
        total = int(sum(cardinalities))
        self.weight = nn.Parameter(torch.empty(total, d_embedding).uniform_(-bound, bound))

    def forward(self, idx: Tensor, out: Tensor | None = None) -> Tensor:
        """Embed ``idx``; ``out`` (batch, n_columns, d), which may be a strided view,
        receives the result when no gradient is recorded (``out=`` is not differentiable).
        """
        # index_select of the flat indices: about 3x faster than advanced indexing on CPU
        rows = self.weight.index_select(0, (idx + self.offsets).reshape(-1))
        rows = rows.view(*idx.shape, self.weight.shape[1])
        keep = (idx != UNSEEN_INDEX).unsqueeze(-1).to(rows.dtype)
        return rows * keep if out is None else torch.mul(rows, keep, out=out)


class FeatureEmbedding(nn.Module):
    """All columns to tokens: numeric tokens first, then categorical tokens.

    Parameters
    ----------
    edges : sequence of sequence of float
        Quantile edges per numeric column (may be empty).
    cardinalities : sequence of int
        Table sizes per categorical column (may be empty).
    d_embedding : int
        Token width.
    kind : {"piecewise_linear", "periodic"}
        Numeric embedding.

    Notes
    -----
    ``forward(numeric, missing, categorical)``: (batch, F_num) float, (batch, F_num) float,
    (batch, F_cat) int64 -> tokens (batch, F_num + F_cat, d_embedding).
    """

    def __init__(
        self,
        edges: Sequence[Sequence[float]],
        cardinalities: Sequence[int],
        d_embedding: int,
        kind: NumericEmbeddingKind = "piecewise_linear",
    ) -> None:
        super().__init__()
        self.d_embedding = d_embedding
        self.n_numeric = len(edges)
        self.n_categorical = len(cardinalities)
        self.numeric: nn.Module | None = None
        if edges:
            if kind == "piecewise_linear":
                self.numeric = PiecewiseLinearEmbedding(edges, d_embedding)
            elif kind == "periodic":
                self.numeric = PeriodicEmbedding(edges, d_embedding)
            else:
                raise ValueError(
                    f"numeric_embedding must be 'piecewise_linear' or 'periodic'; got {kind!r}."
                )
        self.categorical = (
            CategoricalEmbedding(cardinalities, d_embedding) if cardinalities else None
        )

    @property
    def n_tokens(self) -> int:
        """Number of tokens (input columns)."""
        return self.n_numeric + self.n_categorical

    def locate(self, numeric: Tensor) -> tuple[Tensor, Tensor] | None:
        """:meth:`PiecewiseLinearEmbedding.locate` of ``numeric`` when it would use it."""
        if isinstance(self.numeric, PiecewiseLinearEmbedding) and self.numeric.uses_lookup:
            return self.numeric.locate(numeric)
        return None

    def same_bins(self, other: FeatureEmbedding) -> bool:
        """Whether :meth:`locate` gives the same answer here and in ``other``."""
        a, b = self.numeric, other.numeric
        return (
            isinstance(a, PiecewiseLinearEmbedding)
            and isinstance(b, PiecewiseLinearEmbedding)
            and torch.equal(a.left, b.left)
            and torch.equal(a.width, b.width)
            and torch.equal(a.mask, b.mask)
        )

    def forward(
        self,
        numeric: Tensor,
        missing: Tensor,
        categorical: Tensor,
        location: tuple[Tensor, Tensor] | None = None,
    ) -> Tensor:
        if not torch.is_grad_enabled():
            return self._tokens_in_place(numeric, missing, categorical, location)
        parts = []
        if isinstance(self.numeric, PiecewiseLinearEmbedding):
            parts.append(self.numeric(numeric, missing, location))
        elif self.numeric is not None:
            parts.append(self.numeric(numeric, missing))
        if self.categorical is not None:
            parts.append(self.categorical(categorical))
        return torch.cat(parts, dim=1)

    def _tokens_in_place(
        self,
        numeric: Tensor,
        missing: Tensor,
        categorical: Tensor,
        location: tuple[Tensor, Tensor] | None,
    ) -> Tensor:
        """``forward`` without a gradient: each part is written into its slice of one
        output, saving the concatenation (a full copy of the tokens)."""
        batch = numeric.shape[0] if self.n_numeric else categorical.shape[0]
        dtype = (
            self.categorical.weight.dtype
            if self.categorical is not None
            else next(cast(nn.Module, self.numeric).parameters()).dtype
        )
        device = numeric.device if self.n_numeric else categorical.device
        out = torch.empty(batch, self.n_tokens, self.d_embedding, dtype=dtype, device=device)
        head = out[:, : self.n_numeric]
        ple = self.numeric
        if isinstance(ple, PiecewiseLinearEmbedding) and ple.uses_lookup:
            located = location or ple.locate(numeric)
            ple.embed_located(*located, missing, out=head).relu_()
        elif self.numeric is not None:
            head.copy_(self.numeric(numeric, missing))
        if self.categorical is not None:
            self.categorical(categorical, out=out[:, self.n_numeric :])
        return out
