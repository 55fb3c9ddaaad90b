"""MoERiskClassifier: raw frames in, determinism, fitted attributes, auxiliary tasks, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

from riskmoe.exceptions import DataError, NotFittedError, SchemaError
from riskmoe.models import MoERiskClassifier

SMALL = dict(
    n_experts=3,
    top_k=2,
    expert_hidden=16,
    d_embedding=4,
    n_bins=8,
    max_epochs=4,
    patience=2,
    n_ensemble=1,
    random_state=0,
)


def credit_frame(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Synthetic applications: NaN in numbers, a category, a string column with gaps."""
    rng = np.random.default_rng(seed)
    income = rng.lognormal(10, 0.5, n)
    income[rng.random(n) < 0.1] = np.nan
    util = rng.uniform(0, 1.2, n)
    late = rng.poisson(0.5, n)
    status = rng.choice(["paid duly", "revolving", "late"], n, p=[0.5, 0.3, 0.2])
    region = rng.choice(["north", "south", "east"], n).astype(object)
    region[rng.random(n) < 0.05] = None
    z = -1.2 + 2.5 * (util - 0.6) + 0.8 * late + 1.5 * (status == "late")
    z = z - 0.5 * np.nan_to_num(np.log(income) - 10)
    y = pd.Series((rng.random(n) < 1 / (1 + np.exp(-z))).astype(int), name="default")
    X = pd.DataFrame(
        {
            "income": income,
            "utilisation": util,
            "months_late": late,
            "PAY_STATUS_1": pd.Categorical(status),
            "region": pd.Series(region, dtype="string"),
        }
    )
    return X, y


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    # tiny models: a second intra-op thread only adds synchronisation, and on a busy
    # machine it stalls; restored afterwards so other tests see the default
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.Series]:
    return credit_frame()


@pytest.fixture(scope="module")
def fitted(data: tuple[pd.DataFrame, pd.Series]) -> MoERiskClassifier:
    X, y = data
    return MoERiskClassifier(**SMALL).fit(X, y)


def test_fits_raw_frame_and_predicts_probabilities(fitted: MoERiskClassifier, data):
    X, y = data
    proba = fitted.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    assert ((proba >= 0) & (proba <= 1)).all()
    assert set(np.unique(fitted.predict(X))) <= {0, 1}
    assert fitted.n_features_in_ == 5
    assert list(fitted.feature_names_in_) == list(X.columns)
    assert fitted.classes_.tolist() == [0, 1]


def test_fitted_attributes(fitted: MoERiskClassifier):
    assert fitted.expert_usage_.shape == (3,)
    # each row picks top_k experts: the shares of rows add up to top_k
    assert fitted.expert_usage_.sum() == pytest.approx(2.0)
    assert 0 < fitted.n_active_parameters_ < fitted.n_parameters_
    assert fitted.expert_names_ == ["routed_0[all]", "routed_1[all]", "routed_2[all]"]
    assert len(fitted.history_[0]) == fitted.best_epochs_[0] + 2 or len(fitted.history_[0]) == 4


def test_unseen_and_missing_categories_are_scored(fitted: MoERiskClassifier, data):
    X, _ = data
    odd = X.head(3).copy()
    odd["PAY_STATUS_1"] = pd.Categorical(["never seen", None, "late"])
    odd["region"] = pd.Series(["atlantis", None, "north"], dtype="string", index=odd.index)
    odd.loc[odd.index[0], "income"] = np.nan
    proba = fitted.predict_proba(odd)
    assert np.isfinite(proba).all()


def test_columns_are_matched_by_name(fitted: MoERiskClassifier, data):
    X, _ = data
    reordered = X[list(reversed(X.columns))]
    np.testing.assert_array_equal(fitted.predict_proba(reordered), fitted.predict_proba(X))


def test_same_random_state_gives_identical_probabilities(data):
    X, y = data
    a = MoERiskClassifier(**SMALL).fit(X, y).predict_proba(X)
    b = MoERiskClassifier(**SMALL).fit(X, y).predict_proba(X)
    c = MoERiskClassifier(**{**SMALL, "random_state": 1}).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_fit_leaves_global_generators_alone(data):
    X, y = data
    torch_state = torch.random.get_rng_state()
    np_state = np.random.get_state()[1].copy()  # noqa: NPY002 - the legacy global on purpose
    MoERiskClassifier(**SMALL).fit(X, y)
    MoERiskClassifier(**{**SMALL, "random_state": None}).fit(X, y)
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    np.testing.assert_array_equal(np.random.get_state()[1], np_state)  # noqa: NPY002


def test_sparse_and_dense_dispatch_score_the_same(fitted: MoERiskClassifier, data):
    X, _ = data
    clf = clone(fitted).fit(*data)
    sparse = clf.predict_proba(X)
    clf.set_params(dispatch="dense")  # the fitted network follows the parameter
    np.testing.assert_allclose(clf.predict_proba(X), sparse, rtol=1e-6, atol=1e-7)
    assert clf.module_.members[0].dispatch == "dense"
    np.testing.assert_array_equal(clf.set_params(dispatch="sparse").predict_proba(X), sparse)


def test_feature_groups_give_experts_views(data):
    X, y = data
    groups = {
        "repayment": ["months_late", "PAY_STATUS_1"],
        "capacity": ["income", "utilisation"],
    }
    clf = MoERiskClassifier(**{**SMALL, "n_experts": 4, "feature_groups": groups}).fit(X, y)
    assert clf.expert_names_ == [
        "routed_0[repayment]",
        "routed_1[capacity]",
        "routed_2[repayment]",
        "routed_3[capacity]",
    ]
    layer = clf.module_.members[0].moe
    d = clf.d_embedding
    # numeric tokens first (income, utilisation, months_late), then categoricals
    assert layer.experts[0].net[0].in_features == 2 * d
    assert layer.shared[0].net[0].in_features == 5 * d


def test_auto_feature_groups_use_name_stems():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(120, 5)), columns=["BILL1", "BILL2", "PAY1", "PAY2", "AGE"])
    y = (X["BILL1"] + rng.normal(size=120) > 0).astype(int)
    clf = MoERiskClassifier(**{**SMALL, "feature_groups": "auto"}).fit(X, y)
    assert [g.name for g in clf.feature_groups_] == ["BILL", "PAY", "other"]


def test_string_labels_and_class_weights(data):
    X, y = data
    labels = np.where(y == 1, "bad", "good")
    clf = MoERiskClassifier(**{**SMALL, "class_weight": "balanced"}).fit(X, labels)
    assert clf.classes_.tolist() == ["bad", "good"]
    assert set(clf.predict(X)) <= {"bad", "good"}
    MoERiskClassifier(**{**SMALL, "class_weight": {"bad": 3.0}}).fit(X, labels)


@pytest.mark.parametrize("calibration", ["sigmoid", "isotonic", None])
def test_calibration_options(data, calibration):
    X, y = data
    clf = MoERiskClassifier(**{**SMALL, "calibration": calibration}).fit(X, y)
    p = clf.predict_proba(X)[:, 1]
    logits = clf.decision_logits(X)
    assert clf.calibrator_.kind == (calibration or "identity")
    if calibration != "isotonic":  # monotone maps keep the ranking exactly
        assert (np.diff(p[np.argsort(logits)]) >= -1e-12).all()


def test_auxiliary_targets_get_their_own_gates(data):
    X, y = data
    aux = pd.DataFrame(
        {
            "ever_late": (X["months_late"] > 0).astype(int),
            "utilisation_next": X["utilisation"] * 1.1 + 0.05,
        }
    )
    aux.loc[aux.index[:10], "utilisation_next"] = np.nan  # gaps are masked
    clf = MoERiskClassifier(**SMALL).fit(X, y, aux_targets=aux)
    assert len(clf.module_.members[0].moe.routers) == 3
    out = clf.predict_aux(X)
    assert list(out.columns) == ["ever_late", "utilisation_next"]
    assert out["ever_late"].between(0, 1).all()
    assert [t.kind for t in clf.aux_tasks_] == ["binary", "regression"]
    assert clf.predict_proba(X).shape == (len(X), 2)


def test_predict_aux_without_aux_targets(fitted: MoERiskClassifier, data):
    with pytest.raises(ValueError, match="fitted without aux_targets"):
        fitted.predict_aux(data[0])


def test_arrays_are_accepted(data):
    X, y = data
    arr = X[["income", "utilisation", "months_late"]].to_numpy()
    clf = MoERiskClassifier(**SMALL).fit(arr, y.to_numpy())
    assert not hasattr(clf, "feature_names_in_")
    assert clf.predict_proba(arr).shape == (len(arr), 2)
    with pytest.raises(ValueError, match="X has 2 features, but MoERiskClassifier is expecting 3"):
        clf.predict_proba(arr[:, :2])


# -- bad input: each gets its own specific error ------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"n_experts": 2, "top_k": 3}, r"n_experts must be >= top_k; got n_experts=2, top_k=3\."),
        ({"top_k": 0}, r"top_k must be an integer >= 1; got top_k=0\."),
        ({"dropout": 1.5}, r"dropout must be a number in \[0.0, 0.99\]; got dropout=1.5\."),
        ({"dispatch": "lazy"}, r"dispatch must be one of \('sparse', 'dense'\); got dispatch='l"),
        ({"class_weight": "heavy"}, r"class_weight must be 'balanced_sqrt', 'balanced', a dict"),
        ({"d_embedding": 0}, r"d_embedding must be an integer >= 1; got d_embedding=0\."),
        ({"d_embedding": "wide"}, r"d_embedding must be an integer >= 1; got d_embedding='wide'"),
        (
            {"stopping_metric": "gini"},
            r"stopping_metric must be one of \('auto', 'auc', 'log_loss'\); got stopping_metric='g",
        ),
        (
            {"min_category_frequency": 0},
            r"min_category_frequency must be an integer >= 1; got min_category_frequency=0\.",
        ),
        (
            {"validation_fraction": 0.0},
            r"calibration='sigmoid' is fitted on held-out rows; set validation_fraction > 0",
        ),
        ({"feature_groups": "magic"}, r"feature_groups must be None, 'auto' or a mapping"),
        (
            {"feature_groups": {g: ["income"] for g in "abcd"}},
            r"n_experts must be >= the number of feature groups.*n_experts=3 and 4 groups",
        ),
    ],
)
def test_bad_parameters(data, params, message):
    X, y = data
    with pytest.raises(ValueError, match=message):
        MoERiskClassifier(**{**SMALL, **params}).fit(X, y)


def test_feature_group_with_unknown_column(data):
    X, y = data
    with pytest.raises(SchemaError, match=r"group 'g' names columns that are not in X: 'nope'"):
        MoERiskClassifier(**{**SMALL, "feature_groups": {"g": ["income", "nope"]}}).fit(X, y)


def test_missing_column_at_predict(fitted: MoERiskClassifier, data):
    X, _ = data
    with pytest.raises(SchemaError, match=r"missing columns seen at fit time: 'income'"):
        fitted.predict_proba(X.drop(columns=["income"]))


def test_unknown_column_at_predict(fitted: MoERiskClassifier, data):
    X, _ = data
    with pytest.raises(SchemaError, match=r"columns not seen at fit time: 'extra'"):
        fitted.predict_proba(X.assign(extra=1.0))


def test_text_in_numeric_column(fitted: MoERiskClassifier, data):
    X, _ = data
    bad = X.head(5).astype({"income": object})
    bad.loc[bad.index[1], "income"] = "12k"
    with pytest.raises(
        SchemaError, match=r"column 'income' was numeric at fit time but holds non-numeric.*'12k'"
    ):
        fitted.predict_proba(bad)


def test_datetime_column_is_refused(data):
    X, y = data
    with pytest.raises(SchemaError, match=r"column 'opened' has dtype datetime64"):
        MoERiskClassifier(**SMALL).fit(X.assign(opened=pd.Timestamp("2020-01-01")), y)


def test_single_class_target(data):
    X, _ = data
    with pytest.raises(ValueError, match=r"y contains only one class \(0\); the classifier needs"):
        MoERiskClassifier(**SMALL).fit(X, np.zeros(len(X), dtype=int))


def test_empty_frame(data):
    X, _ = data
    with pytest.raises(DataError, match=r"X is empty: 0 rows"):
        MoERiskClassifier(**SMALL).fit(X.iloc[:0], [])


def test_frame_without_columns():
    with pytest.raises(DataError, match=r"0 feature\(s\)"):
        MoERiskClassifier(**SMALL).fit(pd.DataFrame(index=range(5)), [0, 1, 0, 1, 0])


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (np.nan, r"y contains 1 NaN value\(s\) \(first at position 7\)"),
        (np.inf, r"y contains 1 infinite value\(s\)"),
    ],
)
def test_nan_or_inf_in_target(data, bad, message):
    X, y = data
    y = np.array(y, dtype=float)
    y[7] = bad
    with pytest.raises(DataError, match=message):
        MoERiskClassifier(**SMALL).fit(X, y)


def test_multiclass_and_continuous_targets(data):
    X, _ = data
    with pytest.raises(ValueError, match="Only binary classification is supported"):
        MoERiskClassifier(**SMALL).fit(X, np.arange(len(X)) % 3)
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        MoERiskClassifier(**SMALL).fit(X, np.linspace(0, 1, len(X)))


def test_length_mismatch(data):
    X, y = data
    with pytest.raises(ValueError, match=r"X has 400 rows but y has 399 values"):
        MoERiskClassifier(**SMALL).fit(X, y.iloc[:-1])


def test_bad_aux_targets(data):
    X, y = data
    with pytest.raises(ValueError, match=r"aux target 'grade' holds 3 distinct non-numeric"):
        MoERiskClassifier(**SMALL).fit(
            X, y, aux_targets={"grade": np.resize(["A", "B", "C"], len(X))}
        )
    with pytest.raises(ValueError, match=r"aux target 'short' has 3 values but X has 400 rows"):
        MoERiskClassifier(**SMALL).fit(X, y, aux_targets={"short": [1, 0, 1]})


def test_not_fitted():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        MoERiskClassifier().predict_proba(pd.DataFrame({"a": [1.0]}))


def test_auto_experts_and_ensemble(data):
    X, y = data
    groups = {g: [c] for g, c in zip("abcde", X.columns, strict=True)}
    params = {**SMALL, "n_experts": "auto", "n_ensemble": "auto", "max_epochs": 1}
    clf = MoERiskClassifier(**{**params, "feature_groups": groups}).fit(X, y)
    assert clf.n_experts_ == 5  # max(4, five groups): every group gets an expert
    assert clf.n_ensemble_ == 10  # 400 rows: min(10, ceil(40000 / 400))
    assert len(clf.module_.members) == 10
    assert MoERiskClassifier(**params).fit(X, y).n_experts_ == 4
    rare = np.zeros(len(y), dtype=int)
    rare[::16] = 1  # 25 of 400: min(16, ceil(1200 / 25)) members beat the rows' 10
    assert MoERiskClassifier(**params).fit(X, rare).n_ensemble_ == 16
    with pytest.raises(ValueError, match=r"n_experts must be >= top_k; got n_experts=4 \(resolved"):
        MoERiskClassifier(**{**params, "top_k": 5}).fit(X, y)


def test_ensemble_members_use_different_splits(data):
    X, y = data
    clf = MoERiskClassifier(**{**SMALL, "n_ensemble": 3, "max_epochs": 2}).fit(X, y)
    a, b, _ = (m.head_bias.detach().clone() for m in clf.module_.members)
    assert not torch.equal(a, b)
    assert len(clf.best_epochs_) == 3
    # averaged member logits
    members = [type(clf.module_)([m]) for m in clf.module_.members]
    encoded = clf._batch(clf.encoder_.transform(X))
    mean = np.mean([clf._logits(m, encoded, [0])[:, 0] for m in members], axis=0)
    np.testing.assert_allclose(clf.decision_logits(X), mean, atol=1e-5)
    # ... though the ensemble searched each value's bin once for all members
    assert clf.module_._shared_location(encoded.numeric) is not None


def test_l1_penalty_shrinks_weights(data):
    X, y = data

    def mean_abs_weight(clf: MoERiskClassifier) -> float:
        params = [p for p in clf.module_.parameters() if p.ndim > 1]
        return float(torch.cat([p.detach().abs().flatten() for p in params]).mean())

    plain = MoERiskClassifier(**SMALL).fit(X, y)
    shrunk = MoERiskClassifier(**{**SMALL, "l1": 1e-2}).fit(X, y)
    assert mean_abs_weight(shrunk) < mean_abs_weight(plain)


def test_square_root_class_weights(data):
    """balanced_sqrt weighs each class by the square root of the balanced weight; rows
    are normalised to mean 1 (hand-computed: 10 defaults in 100 rows)."""
    y01 = np.array([1.0] * 10 + [0.0] * 90)
    classes = np.array([0, 1])
    sqrt = MoERiskClassifier(class_weight="balanced_sqrt")._row_weights(y01, classes)
    full = MoERiskClassifier(class_weight="balanced")._row_weights(y01, classes)
    # balanced: 0.5/0.1 = 5 vs 0.5/0.9 = 0.556 (ratio 9); square roots: ratio 3
    assert full[0] / full[-1] == pytest.approx(9.0)
    assert sqrt[0] / sqrt[-1] == pytest.approx(3.0)
    assert sqrt.mean() == pytest.approx(1.0) and full.mean() == pytest.approx(1.0)
    X, y = data
    MoERiskClassifier(**SMALL).fit(X, y)  # the default is balanced_sqrt


def test_stopping_metric_auto_needs_forty_rows_of_each_class_in_the_holdout(data):
    y01 = np.array([1.0] * 200 + [0.0] * 800)
    clf = MoERiskClassifier(validation_fraction=0.2)
    assert clf._stopping(y01) == "auc"  # 40 defaults in the holdout
    assert clf.set_params(validation_fraction=0.15)._stopping(y01) == "log_loss"  # 30
    assert clf.set_params(stopping_metric="auc")._stopping(y01) == "auc"
    assert clf.set_params(stopping_metric="log_loss")._stopping(y01[::-1]) == "log_loss"


def test_auc_stopping_keeps_the_epoch_with_the_best_holdout_auc():
    """History records 1 - AUC of the member's holdout, and the kept epoch is its minimum."""
    from sklearn.metrics import roc_auc_score

    X, y = credit_frame(n=1000, seed=3)
    clf = MoERiskClassifier(
        **{**SMALL, "max_epochs": 6, "patience": 6, "stopping_metric": "auc"}
    ).fit(X, y)
    assert clf.stopping_metric_ == "auc"
    history = np.asarray(clf.history_[0])
    assert ((history >= 0) & (history <= 1)).all()
    assert clf.best_epochs_[0] == int(np.argmin(history)) + 1
    # the kept weights score the holdout at exactly the best recorded AUC
    from riskmoe.models.moe._base import holdout

    seeds = np.random.default_rng(0).integers(2**63 - 1, size=(1, 3))
    _, val = holdout(len(y), 0.2, int(seeds[0, 0]), stratify=y.to_numpy())
    auc = roc_auc_score(y.iloc[val], clf.decision_logits(X.iloc[val]))
    assert 1 - auc == pytest.approx(history.min(), abs=1e-6)


def test_auto_embedding_width_follows_the_column_count(data):
    X, y = data
    assert MoERiskClassifier(**{**SMALL, "d_embedding": "auto"}).fit(X, y).d_embedding_ == 16
    rng = np.random.default_rng(0)
    wide = pd.DataFrame(rng.normal(size=(300, 64)), columns=[f"r{i}" for i in range(64)])
    target = (wide["r0"] + rng.normal(size=300) > 0).astype(int)
    clf = MoERiskClassifier(**{**SMALL, "d_embedding": "auto"}).fit(wide, target)
    assert clf.d_embedding_ == 8
    assert clf.module_.members[0].embedding.d_embedding == 8


def test_rare_categories_share_the_unseen_embedding(data):
    X, y = data
    X = X.assign(region=X["region"].astype(object))
    X.loc[X.index[:3], "region"] = "island"  # 3 rows: under min_category_frequency
    clf = MoERiskClassifier(**{**SMALL, "min_category_frequency": 5}).fit(X, y)
    column = next(c for c in clf.encoder_.categorical_ if c.name == "region")
    assert "island" not in column.categories
    probe = X.iloc[:3].copy()
    unseen = probe.assign(region="never seen")
    np.testing.assert_array_equal(clf.predict_proba(probe), clf.predict_proba(unseen))
