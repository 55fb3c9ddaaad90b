"""Warning thresholds: bands learned from a reference period, switched by a market regime,
and their evaluation with the signal approach.

* :class:`BandThreshold` -- ``mean + k * std`` of an indicator over a reference period.
* :class:`RegimeThreshold` -- a stress indicator (SHIBOR jumps, conditional volatility,
  the BAA-AAA spread) above its cut puts the market in the ``stressed`` regime, where the
  warning threshold is tighter (a smaller ``k``): the liquidity warning fires earlier when
  money is tight.
* :func:`evaluate_signals` -- the signal approach of Kaminsky, Lizondo and Reinhart: a
  signal is good when an event starts within ``horizon`` observations; hits, misses, false
  alarms, noise-to-signal ratio, AUROC of the margin over the threshold, and lead time.

References
----------
.. [1] G. Kaminsky, S. Lizondo, C. Reinhart, "Leading Indicators of Currency Crises",
   IMF Staff Papers 45(1), 1998.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from riskmoe.exceptions import DataError

__all__ = [
    "BandThreshold",
    "Regime",
    "RegimeThreshold",
    "SignalEvaluation",
    "episode_starts",
    "evaluate_signals",
]

Regime = Literal["calm", "stressed"]


def _finite(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or arr.size < 2:
        raise DataError(f"{name} needs a 1-d series of at least 2 values; got shape {arr.shape}.")
    if not np.all(np.isfinite(arr)):
        raise DataError(f"{name} holds {int((~np.isfinite(arr)).sum())} missing/infinite values.")
    return arr


@dataclass(frozen=True)
class BandThreshold:
    """``mean + k * std`` (and ``mean - k * std``) of a reference period.

    Examples
    --------
    >>> band = BandThreshold.fit([1.0, 2.0, 3.0, 4.0, 5.0], k=2.0)
    >>> round(band.upper, 4), round(band.lower, 4)
    (6.1623, -0.1623)
    """

    mean: float
    std: float
    k: float

    @classmethod
    def fit(
        cls, reference: Sequence[float] | np.ndarray | pd.Series, k: float = 2.0
    ) -> BandThreshold:
        """Learn the band from reference values (sample standard deviation, ddof=1)."""
        if k <= 0:
            raise ValueError(f"k must be > 0; got k={k}.")
        x = _finite(reference, "reference")
        return cls(float(x.mean()), float(x.std(ddof=1)), float(k))

    @property
    def upper(self) -> float:
        """The upper band (warn above)."""
        return self.mean + self.k * self.std

    @property
    def lower(self) -> float:
        """The lower band (warn below)."""
        return self.mean - self.k * self.std

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {**self.__dict__, "upper": self.upper, "lower": self.lower}


@dataclass(frozen=True)
class RegimeThreshold:
    """A warning threshold that tightens in the stressed regime.

    Parameters
    ----------
    calm, stressed : float
        The threshold in each regime (warn when the indicator exceeds it); ``stressed``
        must not exceed ``calm``.
    stress_cut : float
        The stress indicator above which the market is ``stressed``.

    Examples
    --------
    >>> rule = RegimeThreshold(calm=3.0, stressed=2.0, stress_cut=0.5)
    >>> rule.regime([0.1, 0.9]).tolist(), rule.at([0.1, 0.9]).tolist()
    (['calm', 'stressed'], [3.0, 2.0])
    """

    calm: float
    stressed: float
    stress_cut: float

    def __post_init__(self) -> None:
        if not all(np.isfinite([self.calm, self.stressed, self.stress_cut])):
            raise ValueError("thresholds and the stress cut must be finite.")
        if self.stressed > self.calm:
            raise ValueError(
                f"the stressed threshold tightens: it must be <= the calm one; got "
                f"stressed={self.stressed}, calm={self.calm}."
            )

    @classmethod
    def fit(
        cls,
        indicator: Sequence[float] | np.ndarray | pd.Series,
        stress: Sequence[float] | np.ndarray | pd.Series,
        *,
        k_calm: float = 2.0,
        k_stressed: float = 1.0,
        stress_quantile: float = 0.8,
    ) -> RegimeThreshold:
        """Learn from a reference period: bands ``mean + k * std`` of the indicator and the
        stress cut at a quantile of the stress indicator."""
        if not 0 < stress_quantile < 1:
            raise ValueError(f"stress_quantile must be in (0, 1); got {stress_quantile}.")
        if k_stressed > k_calm:
            raise ValueError(f"k_stressed must be <= k_calm; got {k_stressed} > {k_calm}.")
        s = _finite(stress, "stress")
        calm = BandThreshold.fit(indicator, k_calm).upper
        stressed = BandThreshold.fit(indicator, k_stressed).upper
        return cls(calm, stressed, float(np.quantile(s, stress_quantile)))

    def regime(self, stress: Sequence[float] | np.ndarray | float) -> np.ndarray:
        """``"stressed"`` where the stress indicator is above the cut, else ``"calm"``."""
        s = np.atleast_1d(np.asarray(stress, dtype=float))
        return np.where(s > self.stress_cut, "stressed", "calm")

    def at(self, stress: Sequence[float] | np.ndarray | float) -> np.ndarray:
        """The threshold in force for each stress reading."""
        s = np.atleast_1d(np.asarray(stress, dtype=float))
        return np.where(s > self.stress_cut, self.stressed, self.calm)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class SignalEvaluation:
    """How a warning signal did against known events (signal approach).

    ``tp``, ``fp``, ``fn``, ``tn`` count observations: a signal is correct when an event
    starts within the next ``horizon`` observations; observations inside an event (its
    start to ``horizon`` later) are left out, as the signal approach does. ``hits`` and
    ``misses`` count events (signalled or not in the ``horizon`` before their start);
    ``false_alarms`` counts signal episodes (runs of consecutive signals) followed by no
    event within ``horizon``. ``lead_times`` are observations from the first signal of
    the window to the event start.
    """

    horizon: int
    n_events: int
    hits: int
    misses: int
    false_alarms: int
    tp: int
    fp: int
    fn: int
    tn: int
    noise_to_signal: float | None
    auroc: float | None
    lead_times: tuple[int, ...]

    @property
    def mean_lead_time(self) -> float | None:
        """Mean lead time over hit events."""
        return float(np.mean(self.lead_times)) if self.lead_times else None

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        out = dict(self.__dict__)
        out["lead_times"] = list(self.lead_times)
        out["mean_lead_time"] = self.mean_lead_time
        return out


def _runs(flags: np.ndarray) -> list[int]:
    """Start positions of runs of True."""
    prev = np.r_[False, flags[:-1]]
    return [int(i) for i in np.flatnonzero(flags & ~prev)]


def episode_starts(flags: Sequence[bool] | np.ndarray, min_gap: int) -> list[int]:
    """Start positions of episodes of flagged observations.

    Flagged observations less than ``min_gap`` apart belong to one episode; an episode
    starts at its first flagged observation.

    Examples
    --------
    >>> episode_starts([0, 1, 1, 0, 1, 0, 0, 0, 0, 1], min_gap=3)
    [1, 9]
    """
    if min_gap < 1:
        raise ValueError(f"min_gap must be >= 1; got min_gap={min_gap}.")
    starts: list[int] = []
    last = None
    for i in np.flatnonzero(np.asarray(flags, dtype=bool)):
        if last is None or i - last >= min_gap:
            starts.append(int(i))
        last = int(i)
    return starts


def evaluate_signals(
    indicator: Sequence[float] | np.ndarray,
    threshold: Sequence[float] | np.ndarray | float,
    event_starts: Sequence[int],
    horizon: int,
) -> SignalEvaluation:
    """Evaluate ``indicator > threshold`` as an early warning of events.

    Parameters
    ----------
    indicator : array-like of shape (n,)
    threshold : float or array-like of shape (n,)
        The threshold in force at each observation (static or adaptive).
    event_starts : sequence of int
        Positions at which events start.
    horizon : int
        How many observations ahead a signal may precede an event.

    Notes
    -----
    Noise-to-signal ratio: :math:`\\mathrm{NSR} = \\frac{FP / (FP + TN)}{TP / (TP + FN)}`
    (None when no signal was correct). AUROC ranks the margin ``indicator - threshold``
    against the label "an event starts within ``horizon``" on the same observations.

    Examples
    --------
    >>> x = [0, 0, 0, 5, 5, 0, 0, 0, 0, 0, 0, 0]
    >>> ev = evaluate_signals(x, 1.0, event_starts=[5], horizon=3)
    >>> ev.hits, ev.misses, ev.false_alarms, ev.lead_times
    (1, 0, 0, (2,))
    """
    x = np.asarray(indicator, dtype=float)
    n = x.size
    thr = np.broadcast_to(np.asarray(threshold, dtype=float), (n,))
    if horizon < 1:
        raise ValueError(f"horizon must be >= 1; got horizon={horizon}.")
    events = sorted(int(e) for e in event_starts)
    if any(e < 0 or e >= n for e in events):
        raise DataError(f"event positions must lie in [0, {n}); got {events}.")
    signal = np.isfinite(x) & np.isfinite(thr) & (x > thr)
    label = np.zeros(n, dtype=bool)  # an event starts within (t, t + horizon]
    inside = np.zeros(n, dtype=bool)  # in an event: start .. start + horizon
    hits, lead_times = 0, []
    for e in events:
        label[max(0, e - horizon) : e] = True
        inside[e : min(n, e + horizon + 1)] = True
        before = np.flatnonzero(signal[max(0, e - horizon) : e])
        if before.size:
            hits += 1
            lead_times.append(int(horizon - before[0]) if e >= horizon else int(e - before[0]))
    label &= ~inside
    keep = ~inside & np.isfinite(x) & np.isfinite(thr)
    s, y = signal[keep], label[keep]
    tp, fp = int((s & y).sum()), int((s & ~y).sum())
    fn, tn = int((~s & y).sum()), int((~s & ~y).sum())
    nsr = None
    if tp > 0 and fp + tn > 0:
        nsr = (fp / (fp + tn)) / (tp / (tp + fn))
    auroc = None
    if 0 < y.sum() < y.size:
        auroc = float(roc_auc_score(y, (x - thr)[keep]))
    false_alarms = 0
    for start in _runs(signal & ~inside):
        ahead = [e for e in events if start < e <= start + horizon]
        if not ahead:
            false_alarms += 1
    return SignalEvaluation(
        horizon=horizon,
        n_events=len(events),
        hits=hits,
        misses=len(events) - hits,
        false_alarms=false_alarms,
        tp=tp,
        fp=fp,
        fn=fn,
        tn=tn,
        noise_to_signal=nsr,
        auroc=auroc,
        lead_times=tuple(lead_times),
    )
