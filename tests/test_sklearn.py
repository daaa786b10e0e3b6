"""The scikit-learn estimators: scikit-learn's own checks, pipelines, and digits accuracy."""

import pickle
import time

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

import chainrule as cr
from chainrule.sklearn import MLPClassifier, MLPRegressor


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    "estimator",
    [MLPClassifier(max_iter=50), MLPRegressor(max_iter=50)],
    ids=["classifier", "regressor"],
)
def test_check_estimator(estimator):
    results = check_estimator(estimator, on_fail=None)  # no expected failures
    failed = [r["check_name"] for r in results if r["status"] not in ("passed", "skipped")]
    assert failed == []
    names = {r["check_name"] for r in results if r["status"] == "passed"}
    assert "check_sample_weight_equivalence_on_dense_data" in names and len(names) > 50
    # the only skip: array-API inputs need the optional array_api_compat package
    skipped = [r["check_name"] for r in results if r["status"] == "skipped"]
    assert skipped in ([], ["check_array_api_input"])


def test_weight_two_is_a_repeated_sample():
    X, y = cr.datasets.gaussians(40, seed=3, classes=2)
    w = np.arange(40) % 3  # weights 0, 1, 2: dropped, kept, repeated
    settings = dict(hidden_layer_sizes=(5,), batch_size=200, max_iter=40, alpha=0.1, random_state=0)
    weighted = MLPClassifier(**settings).fit(X, y, sample_weight=w)
    repeated = MLPClassifier(**settings).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-9)
    assert weighted.network_.l2 == pytest.approx(0.1 / w.sum())


def test_pipeline_and_grid_search():
    X, y = cr.datasets.moons(200, noise=0.1, seed=0)
    search = GridSearchCV(
        make_pipeline(StandardScaler(), MLPClassifier(max_iter=100, random_state=0)),
        {"mlpclassifier__hidden_layer_sizes": [(4,), (16,)]},
        cv=3,
    )
    search.fit(X, y)
    assert search.best_score_ > 0.85
    assert search.best_estimator_.predict(X).shape == (200,)


def test_digits_accuracy_matches_scikit_learn():
    X, y = cr.datasets.digits()
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    scaler = StandardScaler().fit(Xtr)
    Xtr, Xte = scaler.transform(Xtr), scaler.transform(Xte)
    settings = dict(
        hidden_layer_sizes=(100,),
        solver="sgd",
        learning_rate_init=0.05,
        momentum=0.9,
        batch_size=32,
        max_iter=30,
        alpha=1e-4,
        random_state=0,
    )
    t0 = time.perf_counter()
    ours = MLPClassifier(**settings).fit(Xtr, ytr).score(Xte, yte)
    t1 = time.perf_counter()
    with pytest.warns(Warning):  # scikit-learn warns that 30 iterations did not converge
        theirs = SkMLPClassifier(**settings).fit(Xtr, ytr).score(Xte, yte)
    t2 = time.perf_counter()
    print(
        f"\ndigits: chainrule {ours:.4f} in {t1 - t0:.2f} s, "
        f"scikit-learn {theirs:.4f} in {t2 - t1:.2f} s"
    )
    assert abs(ours - theirs) <= 0.01
    assert ours >= 0.96


def test_partial_fit_class_weight_and_warm_start():
    X, y = cr.datasets.gaussians(300, seed=1, classes=3)
    clf = MLPClassifier(hidden_layer_sizes=(8,), random_state=0, learning_rate_init=0.05)
    for _ in range(30):
        clf.partial_fit(X, y, classes=[0, 1, 2])
    assert clf.n_iter_ == 30 and len(clf.loss_curve_) == 30
    assert clf.score(X, y) > 0.8
    with pytest.raises(ValueError, match="not in classes"):
        clf.partial_fit(X, np.full(len(X), 5))
    weighted = MLPClassifier(
        hidden_layer_sizes=(8,), random_state=0, max_iter=50, class_weight={0: 10.0, 1: 1.0, 2: 1.0}
    ).fit(X, y)
    plain = MLPClassifier(hidden_layer_sizes=(8,), random_state=0, max_iter=50).fit(X, y)
    assert (weighted.predict(X) == 0).sum() >= (plain.predict(X) == 0).sum()
    warm = MLPClassifier(hidden_layer_sizes=(8,), random_state=0, max_iter=5, warm_start=True)
    warm.fit(X, y)
    before = warm.network_.theta.copy()
    warm.fit(X, y)
    assert not np.array_equal(before, warm.network_.theta)  # continued, not restarted


def test_early_stopping_records_validation_scores():
    X, y = cr.datasets.moons(300, noise=0.2, seed=2)
    clf = MLPClassifier(
        early_stopping=True, random_state=0, max_iter=300, learning_rate_init=0.05
    ).fit(X, y)
    assert len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_) > 0.8


def test_estimators_pickle_and_regress():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = X @ [1.0, -2.0, 0.5]
    reg = MLPRegressor(
        hidden_layer_sizes=(16,), random_state=0, learning_rate_init=0.01, max_iter=300
    ).fit(X, y)
    assert reg.score(X, y) > 0.95
    again = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(again.predict(X), reg.predict(X))
