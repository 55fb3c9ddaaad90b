"""The cleaning report: counts, JSON form, HTML form."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from riskmoe.cleaning import CleaningPipeline, DropDuplicates, Imputer, IQROutliers
from riskmoe.cleaning.report import build_step_report


def test_counts_of_a_hand_made_change():
    before = pd.DataFrame(
        {
            "x": [1.0, np.nan, 3.0, 4.0],
            "s": pd.Series(["a", None, "c", "d"], dtype="str"),
            "gone": [1, 2, 3, 4],
        }
    )
    after = pd.DataFrame(
        {
            "x": [1.0, np.nan, 30.0],  # row 1 still missing (not a change), row 2 changed
            "s": pd.Series(["a", "b", "c"], dtype="str"),  # row 1 filled
            "flag": [False, False, True],
        },
        index=[0, 1, 2],
    )
    report = build_step_report(
        name="demo", before=before, after=after, kept=np.array([True, True, True, False])
    )
    assert (report.rows_before, report.rows_after, report.rows_dropped) == (4, 3, 1)
    assert report.rows_changed == 2 and report.rows_touched == 3
    assert report.column("x").cells_changed == 1
    assert report.column("s").cells_changed == 1
    assert report.column("flag").cells_changed == 1
    assert report.cells_changed == 3
    assert report.columns_dropped == ("gone",) and report.columns_added == ("flag",)
    x = report.column("x")
    assert (x.missing_before, x.missing_after) == (1, 1)
    assert (x.min_before, x.max_before, x.min_after, x.max_after) == (1.0, 4.0, 1.0, 30.0)
    assert report.column("s").min_before is None


def test_categorical_and_integer_changes():
    before = pd.DataFrame({"c": pd.Categorical(["a", None]), "n": [1, 2]})
    after = pd.DataFrame({"c": pd.Categorical(["a", "a"]), "n": [1.0, 2.5]})
    report = build_step_report(name="d", before=before, after=after, kept=np.ones(2, bool))
    assert report.column("c").cells_changed == 1
    assert report.column("n").cells_changed == 1


def test_inconsistent_mask_is_refused():
    frame = pd.DataFrame({"x": [1, 2]})
    with pytest.raises(ValueError, match=r"kept mask must have one entry per input row"):
        build_step_report(name="d", before=frame, after=frame, kept=np.array([True, False]))


@pytest.fixture()
def run():
    X = pd.DataFrame(
        {
            "x": [1.0, 1.0, np.nan, 4.0, 5.0, 6.0, 7.0, 8.0, 200.0],
            "c": ["a", "a", None, "b", "b", "a", "a", "b", "<b>x</b>"],
        }
    )
    pipe = CleaningPipeline(
        [("dedup", DropDuplicates()), ("fill", Imputer()), ("tukey", IQROutliers(action="clip"))]
    )
    out = pipe.fit_transform(X)
    return X, out, pipe.report_


def test_report_counts_equal_what_changed(run):
    X, out, report = run
    assert report.rows_before == len(X) and report.rows_after == len(out)
    assert report.step("dedup").rows_dropped == int(X.duplicated().sum())
    survivors = X.loc[out.index]
    fill = report.step("fill")
    assert fill.cells_changed == int(survivors.isna().sum().sum())
    clip = report.step("tukey").column("x")
    imputed = survivors["x"].fillna(survivors["x"].median())
    assert clip.cells_changed == int((imputed != out["x"]).sum()) == 1
    assert clip.max_after == out["x"].max()


def test_report_to_dict_is_plain_json(run):
    _, _, report = run
    data = report.to_dict()
    text = json.dumps(data, allow_nan=False)
    assert json.loads(text) == data
    assert [s["name"] for s in data["steps"]] == ["dedup", "fill", "tukey"]
    assert data["steps"][2]["details"]["bounds"]["x"][1] == pytest.approx(
        report.step("tukey").details["bounds"]["x"][1]
    )


def test_report_to_html_is_self_contained(run):
    _, _, report = run
    html = report.to_html()
    assert html.startswith("<!DOCTYPE html>")
    for name in ("dedup", "fill", "tukey"):
        assert f"<h2>{name} " in html
    assert "<script" not in html and "<link" not in html and "src=" not in html


def test_report_html_escapes_column_names():
    X = pd.DataFrame({"<i>amount</i>": [1.0, None, 3.0]})
    pipe = CleaningPipeline([Imputer()])
    pipe.fit(X)
    html = pipe.report_.to_html()
    assert "&lt;i&gt;amount&lt;/i&gt;" in html and "<i>amount</i>" not in html


def test_unknown_step_name(run):
    with pytest.raises(KeyError, match=r"no step named 'nope'; steps: dedup, fill, tukey"):
        run[2].step("nope")


def test_report_to_frame(run):
    frame = run[2].to_frame()
    assert set(frame["step"]) == {"dedup", "fill", "tukey"}
    assert frame.loc[frame["step"] == "fill", "cells_changed"].sum() == 2
