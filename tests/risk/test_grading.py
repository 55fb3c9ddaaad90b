"""Master scale (grades, tiers, boundaries, serialisation), re-grading and cohort migration
matrices on hand-made histories."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from riskmoe.exceptions import DataError, SchemaError
from riskmoe.risk import (
    DEFAULT_BOUNDS,
    DEFAULT_GRADE,
    MasterScale,
    migration_matrix,
    regrade,
)

# ---------------------------------------------------------------------------------------
# Master scale
# ---------------------------------------------------------------------------------------


def test_default_scale_is_geometric_from_the_basel_floor_to_one():
    bounds = np.asarray(DEFAULT_BOUNDS)
    assert len(bounds) == 10 and bounds[0] == 0.0003 and bounds[-1] == 1.0
    np.testing.assert_allclose(bounds[1:] / bounds[:-1], (1 / 0.0003) ** (1 / 9))
    scale = MasterScale()
    assert scale.n_grades == 10 and scale.grades == tuple(range(1, 11))
    assert scale.table()["tier"].tolist() == ["low"] * 4 + ["medium"] * 3 + ["high"] * 3


def test_pd_exactly_on_a_bound_takes_the_better_grade():
    # convention: grade g covers b[g-1] < PD <= b[g]; grade 1 covers 0 <= PD <= b[1]
    scale = MasterScale()
    for g, bound in enumerate(scale.bounds, start=1):
        assert scale.grade(bound) == g
        if g < scale.n_grades:
            assert scale.grade(float(np.nextafter(bound, 1.0))) == g + 1
    assert scale.grade(0.0) == 1 and scale.grade(1.0) == 10
    custom = MasterScale(bounds=(0.01, 0.05, 0.2, 1.0), tier_cutoffs=(1, 2))
    assert custom.grade([0.0, 0.01, 0.0100001, 0.05, 0.2, 0.21, 1.0]).tolist() == [
        1, 1, 2, 2, 3, 4, 4,
    ]
    assert custom.tier([0.01, 0.02, 0.05, 0.06, 1.0]).tolist() == [
        "low", "medium", "medium", "high", "high",
    ]


def test_tier_boundaries_follow_the_grade_cutoffs():
    scale = MasterScale()
    low_end, medium_end = scale.bounds[3], scale.bounds[6]  # upper bounds of grades 4 and 7
    assert scale.tier(low_end) == "low"
    assert scale.tier(float(np.nextafter(low_end, 1.0))) == "medium"
    assert scale.tier(medium_end) == "medium"
    assert scale.tier(float(np.nextafter(medium_end, 1.0))) == "high"
    assert [scale.tier_of_grade(g) for g in (1, 4, 5, 7, 8, 10)] == [
        "low", "low", "medium", "medium", "high", "high",
    ]
    assert scale.tier_of_grade(DEFAULT_GRADE) == "default"


def test_grade_and_tier_are_vectorised_and_match_scalars():
    scale = MasterScale()
    pds = np.concatenate([np.random.default_rng(0).uniform(size=200) ** 4, scale.bounds])
    grades = scale.grade(pds)
    tiers = scale.tier(pds)
    assert grades.dtype == np.int64 and grades.shape == pds.shape
    assert grades.tolist() == [scale.grade(float(p)) for p in pds]
    assert tiers.tolist() == [scale.tier(float(p)) for p in pds]
    assert isinstance(scale.grade(0.01), int) and isinstance(scale.tier(0.01), str)
    series = pd.Series([0.001, 0.5], index=["x", "y"])
    assert scale.grade(series).to_dict() == {"x": 3, "y": 10}
    assert scale.tier(series).to_dict() == {"x": "low", "y": "high"}
    assert scale.grade(np.array([[0.0003, 1.0]])).tolist() == [[1, 10]]


def test_scale_serialises_and_round_trips():
    scale = MasterScale(bounds=[0.001, 0.01, 0.1, 1.0], tier_cutoffs=(1, 3))
    data = json.loads(json.dumps(scale.to_dict()))
    assert data == {"bounds": [0.001, 0.01, 0.1, 1.0], "tier_cutoffs": [1, 3]}
    assert MasterScale.from_dict(data) == scale
    assert scale.bounds == (0.001, 0.01, 0.1, 1.0)  # lists become tuples (hashable, frozen)


@pytest.mark.parametrize(
    ("bounds", "message"),
    [
        ((0.01, 0.005, 1.0), r"strictly increasing; bounds\[1\]=0.005 <= bounds\[0\]=0.01"),
        ((0.01, 0.01, 1.0), r"strictly increasing; bounds\[1\]=0.01 <= bounds\[0\]=0.01"),
        ((0.0, 0.5, 1.0), r"bounds must lie in \(0, 1\]; got 0 at position 0"),
        ((0.1, 1.5), r"bounds must lie in \(0, 1\]; got 1.5 at position 1"),
        ((0.1, float("nan"), 1.0), r"bounds must lie in \(0, 1\]; got nan at position 1"),
        ((0.1, 0.5, 0.9), r"the last bound must be 1 .*; got 0.9"),
        ((1.0,), r"bounds must define at least 2 grades; got 1"),
        (("a", 1.0), r"bounds must be a sequence of numbers"),
    ],
)
def test_invalid_bounds_are_refused(bounds, message):
    with pytest.raises(ValueError, match=message):
        MasterScale(bounds=bounds, tier_cutoffs=(1, 2) if len(bounds) > 2 else (1, 1))


@pytest.mark.parametrize("cutoffs", [(7, 4), (0, 3), (4, 10), (4, 4), (4,), (4.0, 7)])
def test_invalid_tier_cutoffs_are_refused(cutoffs):
    with pytest.raises(ValueError, match=r"tier_cutoffs must be two grades .* n_grades=10"):
        MasterScale(tier_cutoffs=cutoffs)


def test_from_dict_refuses_unknown_keys_and_bad_pds():
    with pytest.raises(ValueError, match=r"exactly the keys \['bounds', 'tier_cutoffs'\]"):
        MasterScale.from_dict({"bounds": [0.5, 1.0], "tier_cutoffs": [1, 1], "extra": 1})
    scale = MasterScale()
    with pytest.raises(DataError, match=r"pd must be in \[0, 1\]; got 1.3 at position 4\."):
        scale.grade([0.1, 0.2, 0.3, 0.4, 1.3])
    with pytest.raises(DataError, match=r"pd must not be NaN; found NaN at position 0\."):
        scale.tier(float("nan"))
    with pytest.raises(ValueError, match=r"grade 11 is not on the scale; allowed: 1..10 or 'D'"):
        scale.tier_of_grade(11)


# ---------------------------------------------------------------------------------------
# Re-grading
# ---------------------------------------------------------------------------------------

# A hand-made history on the default scale (grade 3: 0.074 %-0.18 %, 5: 0.45 %-1.10 %,
# 6: 1.10 %-2.72 %, 7: 2.72 %-6.69 %).
HISTORY = pd.DataFrame({
    "entity": ["A", "A", "B", "C"],
    "as_of": pd.to_datetime(["2023-12-31", "2024-03-31", "2024-03-31", "2024-03-31"]),
    "pd": [0.001, 0.008, 0.03, 0.015],
    "grade": [3, 5, 7, 6],
    "model_version": ["v1", "v1", "v1", "v1"],
})


def test_regrade_lists_upgrades_and_downgrades():
    new = pd.DataFrame({
        "entity": ["A", "B", "C", "E", "A"],
        "as_of": ["2024-06-30", "2024-06-30", "2024-06-30", "2024-06-30", "2024-09-30"],
        "pd": [0.02, 0.005, 0.02, 0.001, 0.5],
        "model_version": ["v2"] * 5,
    })
    history, changes = regrade(HISTORY, new)
    # A: 5 -> 6 (downgrade) then 6 -> 10 (downgrade); B: 7 -> 5 (upgrade);
    # C: 6 -> 6 (no change); E: new entity (not a change)
    assert changes[["entity", "old_grade", "new_grade", "direction", "notches"]].to_dict(
        "records"
    ) == [
        {"entity": "A", "old_grade": 5, "new_grade": 6, "direction": "downgrade", "notches": 1},
        {"entity": "A", "old_grade": 6, "new_grade": 10, "direction": "downgrade", "notches": 4},
        {"entity": "B", "old_grade": 7, "new_grade": 5, "direction": "upgrade", "notches": -2},
    ]
    assert changes["previous_as_of"].tolist() == list(
        pd.to_datetime(["2024-03-31", "2024-06-30", "2024-03-31"])
    )
    assert changes["old_pd"].tolist() == [0.008, 0.02, 0.03]
    assert changes["new_tier"].tolist() == ["medium", "high", "medium"]
    assert changes["model_version"].tolist() == ["v2", "v2", "v2"]
    assert len(history) == len(HISTORY) + len(new)
    assert list(history.columns) == ["entity", "as_of", "pd", "grade", "model_version"]
    assert history["grade"].dtype == np.int64
    assert history.groupby("entity")["as_of"].apply(lambda s: s.is_monotonic_increasing).all()
    assert history.loc[history["entity"] == "E", "grade"].tolist() == [3]
    json.dumps(regrade(HISTORY, new).to_dict())


def test_regrade_defaults_and_first_run():
    new = pd.DataFrame({
        "entity": ["A", "B"], "as_of": ["2024-06-30"] * 2, "pd": [0.2, 0.03],
        "model_version": ["v2"] * 2, "defaulted": [True, False],
    })
    history, changes = regrade(HISTORY, new)
    assert changes[["entity", "old_grade", "new_grade", "new_tier", "notches"]].to_dict(
        "records"
    ) == [{"entity": "A", "old_grade": 5, "new_grade": DEFAULT_GRADE, "new_tier": "default",
           "notches": 6}]
    assert history["grade"].tolist() == [3, 5, "D", 7, 7, 6]
    # history read back from a text column that holds "D": digits are accepted
    again = pd.DataFrame({
        "entity": ["A"], "as_of": ["2024-12-31"], "pd": [0.001], "model_version": ["v2"],
    })
    stored = history.astype({"grade": str})
    _, changes = regrade(stored, again)
    assert changes[["old_grade", "new_grade", "direction"]].to_dict("records") == [
        {"old_grade": "D", "new_grade": 3, "direction": "upgrade"}
    ]
    first, none = regrade(None, again)
    assert len(first) == 1 and none.empty


def test_regrade_refuses_bad_input():
    new = pd.DataFrame({
        "entity": ["A"], "as_of": ["2024-03-31"], "pd": [0.01], "model_version": ["v2"],
    })
    with pytest.raises(DataError, match=r"entity 'A' has a new row at 2024-03-31 but history "
                                         r"up to 2024-03-31"):
        regrade(HISTORY, new)
    with pytest.raises(DataError, match=r"new has 1 duplicated \(entity, as_of\) rows"):
        regrade(HISTORY, pd.concat([new, new]).assign(as_of="2024-06-30"))
    with pytest.raises(SchemaError, match=r"new lacks required columns \['model_version'\]"):
        regrade(HISTORY, new.drop(columns="model_version"))
    with pytest.raises(DataError, match=r"new.pd must be in \[0, 1\]; got 1.5 at position 0"):
        regrade(HISTORY, new.assign(pd=1.5, as_of="2024-06-30"))
    with pytest.raises(DataError, match=r"history.grade: row 0: grade 'X' is not on the scale"):
        regrade(HISTORY.assign(grade=["X", 5, 7, 6]), new.assign(as_of="2024-06-30"))
    with pytest.raises(DataError, match=r"new.defaulted must be boolean"):
        regrade(HISTORY, new.assign(as_of="2024-06-30", defaulted=["yes"]))


# ---------------------------------------------------------------------------------------
# Migration matrix (cohort method)
# ---------------------------------------------------------------------------------------

# Ten entities graded at 2023-12-31 and 2024-12-31 (and some in between):
#   from 1: P, Q stay 1; R -> 2
#   from 2: S stays 2; T -> 1; U -> 3; V defaults mid-year and is re-graded 2 later (D sticks)
#   from 3: W -> 3 (not re-graded: grade in force), X -> D at year end
#   Y is first graded in 2024 (not in the cohort); Z is D at the start (absorbing)
MIGRATION_HISTORY = pd.DataFrame(
    [
        ("P", "2023-12-31", 1), ("P", "2024-12-31", 1),
        ("Q", "2023-06-30", 1), ("Q", "2024-12-31", 1),
        ("R", "2023-12-31", 1), ("R", "2024-12-31", 2),
        ("S", "2023-12-31", 2), ("S", "2024-12-31", 2),
        ("T", "2023-12-31", 2), ("T", "2024-06-30", 1),
        ("U", "2023-12-31", 2), ("U", "2024-12-31", 3),
        ("V", "2023-12-31", 2), ("V", "2024-05-31", "D"), ("V", "2024-11-30", 2),
        ("W", "2023-12-31", 3),
        ("X", "2023-12-31", 3), ("X", "2024-12-31", "D"),
        ("Y", "2024-03-31", 1), ("Y", "2024-12-31", 1),
        ("Z", "2023-09-30", "D"),
        ("P", "2025-06-30", 3),  # after the horizon: ignored
    ],
    columns=["entity", "as_of", "grade"],
)


def test_migration_matrix_counts_and_probabilities_match_hand_count():
    m = migration_matrix(MIGRATION_HISTORY, "2023-12-31", "2024-12-31")
    assert m.grades == [1, 2, 3, "D"]
    expected_counts = [
        [2, 1, 0, 0],
        [1, 1, 1, 1],
        [0, 0, 1, 1],
        [0, 0, 0, 1],
    ]
    assert m.counts.to_numpy().tolist() == expected_counts
    assert m.row_totals.tolist() == [3, 4, 2, 1]
    assert m.n_entities == 10  # P..X and Z; Y joined after the start
    np.testing.assert_allclose(m.probabilities.loc[1].to_numpy(), [2 / 3, 1 / 3, 0, 0])
    np.testing.assert_allclose(m.probabilities.loc[2].to_numpy(), [0.25] * 4)
    np.testing.assert_allclose(m.probabilities.sum(axis=1).to_numpy(), 1.0)
    assert m.probabilities.loc["D", "D"] == 1.0
    data = json.loads(json.dumps(m.to_dict()))
    assert data["grades"] == ["1", "2", "3", "D"] and data["row_totals"] == [3, 4, 2, 1]


def test_migration_matrix_on_the_full_scale_marks_empty_rows():
    m = migration_matrix(MIGRATION_HISTORY, "2023-12-31", "2024-12-31",
                         grades=MasterScale().grades)
    assert m.grades == [*range(1, 11), "D"]
    assert m.counts.shape == (11, 11) and int(m.counts.to_numpy().sum()) == 10
    assert m.empty_rows == list(range(4, 11))
    assert m.probabilities.loc[4].isna().all()
    non_empty = m.row_totals > 0
    np.testing.assert_allclose(m.probabilities[non_empty].sum(axis=1).to_numpy(), 1.0)
    assert json.loads(json.dumps(m.to_dict()))["probabilities"][3][0] is None


def test_migration_matrix_without_defaults_is_integer_labelled():
    history = MIGRATION_HISTORY[~MIGRATION_HISTORY["entity"].isin(["V", "X", "Z"])]
    history = history.astype({"grade": "int64"})
    m = migration_matrix(history, "2023-12-31", "2024-12-31")
    assert m.grades == [1, 2, 3] and m.counts.index.dtype == np.int64
    assert m.counts.loc[1, 2] == 1
    np.testing.assert_allclose(m.probabilities.sum(axis=1).to_numpy(), 1.0)


def test_migration_matrix_refuses_bad_input():
    with pytest.raises(DataError, match=r"start must be before end; got start=2024-12-31"):
        migration_matrix(MIGRATION_HISTORY, "2024-12-31", "2023-12-31")
    with pytest.raises(SchemaError, match=r"history lacks required columns \['grade'\]"):
        migration_matrix(MIGRATION_HISTORY.drop(columns="grade"), "2023-12-31", "2024-12-31")
    with pytest.raises(DataError, match=r"duplicated \(entity, as_of\) rows, e.g. \('P', "):
        migration_matrix(pd.concat([MIGRATION_HISTORY, MIGRATION_HISTORY.iloc[:1]]),
                         "2023-12-31", "2024-12-31")
    with pytest.raises(DataError, match=r"grades \[3\] are observed but not among"):
        migration_matrix(MIGRATION_HISTORY, "2023-12-31", "2024-12-31", grades=[1, 2])
    with pytest.raises(DataError, match=r"history.as_of must hold ISO 8601 dates or datetimes; "
                                         r"Time data not a date"):
        migration_matrix(MIGRATION_HISTORY.assign(as_of="not a date"), "2023-12-31",
                         "2024-12-31")
