"""Splits, k-fold, early stopping and the batched learning-rate grid search."""
from __future__ import annotations

import numpy as np
import pytest

from optlab import polynomial as P
from optlab import validation as V
from optlab.errors import OptlabError


# ---------------------------------------------------------------------------- splits
def test_split_partitions_and_is_reproducible():
    tr, va, te = V.train_val_test_split(101, val=0.2, test=0.1, seed=5)
    assert (len(va), len(te), len(tr)) == (20, 10, 71)
    np.testing.assert_array_equal(np.sort(np.concatenate([tr, va, te])), np.arange(101))
    again = V.train_val_test_split(101, val=0.2, test=0.1, seed=5)
    for a, b in zip((tr, va, te), again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(V.train_val_test_split(101, 0.2, 0.1, seed=6)[1], va)


@pytest.mark.parametrize("val, test", [(0.6, 0.5), (-0.1, 0.2), (0.2, 1.0)])
def test_split_rejects_bad_fractions(val, test):
    with pytest.raises(OptlabError):
        V.train_val_test_split(10, val, test)


@pytest.mark.parametrize("n, k", [(10, 2), (23, 5), (7, 7), (100, 3)])
@pytest.mark.parametrize("shuffle", [True, False])
def test_kfold_disjoint_complete_balanced(n, k, shuffle):
    folds = V.kfold(n, k, seed=1, shuffle=shuffle)
    assert len(folds) == k
    vals = [v for _, v in folds]
    np.testing.assert_array_equal(np.sort(np.concatenate(vals)), np.arange(n))  # complete, disjoint
    sizes = [len(v) for v in vals]
    assert max(sizes) - min(sizes) <= 1
    for tr, va in folds:
        assert np.intersect1d(tr, va).size == 0
        assert len(tr) + len(va) == n


def test_kfold_rejects_bad_k():
    with pytest.raises(OptlabError, match="k must"):
        V.kfold(5, 6)
    with pytest.raises(OptlabError, match="k must"):
        V.kfold(5, 1)


# ---------------------------------------------------------------------------- early stopping
def test_early_stopping_hand_worked():
    losses = [3.0, 2.0, 1.0, 1.5, 1.2, 1.1, 0.9, 1.0]
    assert V.early_stopping(losses, patience=3) == (2, 5, True)   # epochs 3,4,5 did not improve
    assert V.early_stopping(losses, patience=4) == (6, 7, False)  # 0.9 at epoch 6 came in time
    best, stop, stopped = V.early_stopping(losses, patience=1)
    assert (best, stop, stopped) == (2, 3, True)


def test_early_stopping_min_delta_and_nan():
    assert V.early_stopping([1.0, 0.99, 0.98, 0.97], patience=2, min_delta=0.05) == (0, 2, True)
    assert V.early_stopping([1.0, np.nan, 0.5], patience=2) == (2, 2, False)
    assert V.early_stopping([1.0, np.nan, np.inf], patience=2) == (0, 2, True)


def test_early_stopping_rejects_bad_patience():
    with pytest.raises(OptlabError, match="patience"):
        V.early_stopping([1.0, 2.0], patience=0)


# ---------------------------------------------------------------------------- grid search
@pytest.fixture
def design():
    d = P.make_data(60, 0.2, seed=4)
    return P.features(d.x, 5), d.y


def _plain_gd(X, y, lr, tr, va, steps):
    w = np.zeros(X.shape[1])
    for _ in range(steps):
        w -= lr * 2.0 / len(tr) * X[tr].T @ (X[tr] @ w - y[tr])
    return np.mean((X[va] @ w - y[va]) ** 2), w


def test_grid_search_equals_plain_gradient_descent_loop(design):
    X, y = design
    lrs = np.array([0.003, 0.03, 0.3])
    res = V.lr_grid_search_cv(X, y, lrs, k=4, steps=60, seed=2)
    folds = V.kfold(len(y), 4, seed=2)
    for i, lr in enumerate(lrs):
        for j, (tr, va) in enumerate(folds):
            score, w = _plain_gd(X, y, lr, tr, va, 60)
            assert res.scores[i, j] == pytest.approx(score, rel=1e-10)
            np.testing.assert_allclose(res.params[i, j], w, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(res.mean, res.scores.mean(1))
    np.testing.assert_allclose(res.std, res.scores.std(1))
    assert res.best_lr == lrs[np.argmin(res.mean)]
    # curves: step 0 is the initial model (w = 0), the last step gives the scores
    np.testing.assert_allclose(res.val_curves[-1], res.scores)
    np.testing.assert_allclose(res.val_curves[0, 0, 0], np.mean(y[folds[0][1]] ** 2))


@pytest.mark.parametrize("optimizer, hyper", [("sgd", {"momentum": 0.9}), ("adam", {}), ("rmsprop", {})])
def test_grid_search_batched_equals_per_lr_loop(design, optimizer, hyper):
    X, y = design
    lrs = np.array([1e-3, 1e-2, 5e-2, 0.2])
    batched = V.lr_grid_search_cv(X, y, lrs, k=3, steps=40, optimizer=optimizer, hyper=hyper)
    for i, lr in enumerate(lrs):
        single = V.lr_grid_search_cv(X, y, [lr], k=3, steps=40, optimizer=optimizer, hyper=hyper)
        np.testing.assert_allclose(batched.scores[i], single.scores[0], rtol=1e-12)
        np.testing.assert_allclose(batched.val_curves[:, i], single.val_curves[:, 0], rtol=1e-12)


def test_grid_search_flags_divergence_beyond_two_over_L(design):
    X, y = design
    k = 3
    folds = V.kfold(len(y), k, seed=0)
    # GD on (1/m)|Xw - y|^2 diverges iff lr > 2 / lambda_max(2/m X^T X)
    L = [np.linalg.eigvalsh(2.0 / len(tr) * X[tr].T @ X[tr])[-1] for tr, _ in folds]
    safe, unsafe = 0.9 * 2 / max(L), 1.5 * 2 / min(L)
    res = V.lr_grid_search_cv(X, y, [safe, unsafe], k=k, steps=200)
    assert not res.diverged[0].any() and res.diverged[1].all()
    assert np.isfinite(res.mean[0]) and res.mean[1] == np.inf
    assert res.best_index == 0
    assert np.all(np.isfinite(res.params))  # frozen, not overflowed


def test_grid_search_rejects_bad_input(design):
    X, y = design
    with pytest.raises(OptlabError, match="lrs"):
        V.lr_grid_search_cv(X, y, [0.1], hyper={"lr": 0.1})
    with pytest.raises(OptlabError, match="positive"):
        V.lr_grid_search_cv(X, y, [0.1, -1.0])
    with pytest.raises(OptlabError, match="sgd"):
        V.lr_grid_search_cv(X, y, [0.1], optimizer="newton")
    with pytest.raises(OptlabError, match="shape"):
        V.lr_grid_search_cv(X[:-1], y, [0.1])
