"""Feature groups: which columns each specialised expert sees.

A :class:`FeatureGroup` is an analyst-meaningful set of columns (repayment history,
balance sheet, cash flow...). The MoE gives one or more routed experts to each group
and lets shared experts see every column.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from riskmoe.exceptions import SchemaError

__all__ = ["FeatureGroup", "FeatureGroupsSpec", "infer_feature_groups", "resolve_feature_groups"]

FeatureGroupsSpec = Mapping[str, Sequence[str]] | Literal["auto"] | None

_STEM = re.compile(r"[\s_\-.]*\d+$")


@dataclass(frozen=True)
class FeatureGroup:
    """A named set of columns one expert view is built from.

    Parameters
    ----------
    name : str
        Group name, used to name experts (``routed_2[repayment_history]``).
    columns : tuple of str
        Column names, in frame order.

    Examples
    --------
    >>> FeatureGroup("payments", ("PAY_AMT1", "PAY_AMT2")).to_dict()
    {'name': 'payments', 'columns': ['PAY_AMT1', 'PAY_AMT2']}
    """

    name: str
    columns: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        """Plain-JSON form."""
        return {"name": self.name, "columns": list(self.columns)}


def infer_feature_groups(columns: Sequence[str], max_groups: int) -> tuple[FeatureGroup, ...]:
    """Group columns by their name stem (the name without a trailing number).

    ``BILL_AMT1 .. BILL_AMT6`` form the group ``BILL_AMT``; stems with a single column are
    pooled into ``other``. When there are more stems than ``max_groups``, the largest
    ``max_groups - 1`` stems are kept and the rest join ``other``. With fewer than two
    groups, every column forms the single group ``all``.

    Parameters
    ----------
    columns : sequence of str
        Column names in frame order.
    max_groups : int
        Upper bound on the number of groups (the number of routed experts).

    Returns
    -------
    tuple of FeatureGroup

    Examples
    --------
    >>> cols = ["AGE", "BILL_AMT1", "BILL_AMT2", "PAY_AMT1", "PAY_AMT2"]
    >>> [g.name for g in infer_feature_groups(cols, max_groups=4)]
    ['BILL_AMT', 'PAY_AMT', 'other']
    """
    stems: dict[str, list[str]] = {}
    for col in columns:
        stem = _STEM.sub("", col) or col
        stems.setdefault(stem, []).append(col)
    multi = [(stem, cols) for stem, cols in stems.items() if len(cols) > 1]
    has_singles = any(len(cols) == 1 for cols in stems.values())
    if len(multi) + int(has_singles) > max_groups:
        # largest stems first (sorted is stable: ties keep frame order); the rest join "other"
        multi = sorted(multi, key=lambda item: -len(item[1]))[: max(max_groups - 1, 0)]
    keep = multi
    kept = {col for _, cols in keep for col in cols}
    other = tuple(c for c in columns if c not in kept)
    groups = [FeatureGroup(stem, tuple(cols)) for stem, cols in keep]
    if other:
        groups.append(FeatureGroup("other", other))
    if len(groups) < 2:
        return (FeatureGroup("all", tuple(columns)),)
    order = {c: i for i, c in enumerate(columns)}
    groups.sort(key=lambda g: order[g.columns[0]] if g.name != "other" else len(order))
    return tuple(groups)


def resolve_feature_groups(
    spec: FeatureGroupsSpec, columns: Sequence[str], *, max_groups: int
) -> tuple[FeatureGroup, ...]:
    """Turn the ``feature_groups`` parameter into validated :class:`FeatureGroup` objects.

    Parameters
    ----------
    spec : mapping of str to sequence of str, ``"auto"`` or None
        None: one group of every column. ``"auto"``: :func:`infer_feature_groups`.
        A mapping: group name -> columns (e.g. ``Dataset.feature_groups``); columns of
        the frame that belong to no group are still seen by the router and the shared
        experts.
    columns : sequence of str
        Columns of the training frame.
    max_groups : int
        Upper bound on the number of groups (the number of routed experts).

    Returns
    -------
    tuple of FeatureGroup
        Columns inside each group follow frame order.

    Raises
    ------
    SchemaError
        If a group names columns that are not in the frame.
    ValueError
        If ``spec`` is not one of the allowed forms, a group is empty, or there are
        more groups than ``max_groups``.

    Examples
    --------
    >>> resolve_feature_groups({"a": ["x1"], "b": ["x2", "x0"]}, ["x0", "x1", "x2"], max_groups=4)
    (FeatureGroup(name='a', columns=('x1',)), FeatureGroup(name='b', columns=('x0', 'x2')))
    """
    if spec is None:
        return (FeatureGroup("all", tuple(columns)),)
    if isinstance(spec, str):
        if spec != "auto":
            raise ValueError(
                f"feature_groups must be None, 'auto' or a mapping of group name to columns; "
                f"got the string {spec!r}."
            )
        return infer_feature_groups(columns, max_groups)
    if not isinstance(spec, Mapping):
        raise ValueError(
            "feature_groups must be None, 'auto' or a mapping of group name to columns; "
            f"got {type(spec).__name__}."
        )
    if len(spec) > max_groups:
        raise ValueError(
            f"n_experts must be >= the number of feature groups, so every group gets an "
            f"expert; got n_experts={max_groups} and {len(spec)} groups ({', '.join(spec)})."
        )
    order = {c: i for i, c in enumerate(columns)}
    groups = []
    for name, cols in spec.items():
        if isinstance(cols, str):
            raise ValueError(
                f"feature group {name!r} must be a sequence of column names, not the string "
                f"{cols!r}."
            )
        cols = list(cols)
        if not cols:
            raise ValueError(f"feature group {name!r} is empty; give it at least one column.")
        unknown = [c for c in cols if c not in order]
        if unknown:
            raise SchemaError(
                f"feature group {name!r} names columns that are not in X: "
                f"{', '.join(map(repr, unknown))}."
            )
        groups.append(FeatureGroup(str(name), tuple(sorted(set(cols), key=order.__getitem__))))
    return tuple(groups)
