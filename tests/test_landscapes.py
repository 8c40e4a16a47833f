"""Annealed gradient noise, restarts, basins per optimizer and filter-normalized slices of the MLP."""
import numpy as np
import pytest

import optlab
from optlab import landscapes as L
from optlab import mlp
from optlab.optimizers import make


# ----------------------------------------------------------------------------------------------
# filter-normalized directions and slices (Li et al. 2018)
# ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained():
    X, y = mlp.two_spirals(200, seed=1)
    out = {}
    for bn in (False, True):
        cfg = mlp.MLPConfig(depth=2, width=12, activation="relu", init="he", batch_norm=bn, seed=3)
        h = mlp.train(cfg, X, y, "adam", {"lr": 0.02}, steps=150, batch_size=50, seed=0)
        out[bn] = (cfg, h)
    return X, y, out


@pytest.mark.parametrize("bn", [False, True])
def test_filter_normalization(trained, bn):
    _, _, out = trained
    cfg, h = out[bn]
    d = L.filter_normalized_directions(cfg, h.params, n=2, seed=4)
    for spec in mlp.param_layout(cfg):
        sl = slice(spec.offset, spec.offset + spec.size)
        if spec.name == "W":
            w = h.params[sl].reshape(spec.shape)
            for k in range(2):
                dk = d[k, sl].reshape(spec.shape)
                for j in range(spec.shape[1]):                  # every filter: the weights into unit j
                    assert np.isclose(np.linalg.norm(dk[:, j]), np.linalg.norm(w[:, j]), rtol=1e-12)
        else:                                                   # biases, γ, β: zero (the paper's choice)
            assert np.all(d[:, sl] == 0)
    copy = L.filter_normalized_directions(cfg, h.params, n=1, seed=4, ignore_biasbn=False)
    for spec in mlp.param_layout(cfg):
        if spec.name != "W":
            sl = slice(spec.offset, spec.offset + spec.size)
            assert np.array_equal(copy[0, sl], h.params[sl])
    # same seed, same directions; the random part is not the same across filters
    assert np.array_equal(d, L.filter_normalized_directions(cfg, h.params, n=2, seed=4))


@pytest.mark.parametrize("bn", [False, True])
def test_slice_centre_is_the_trained_loss_and_points_are_networks(trained, bn):
    X, y, out = trained
    cfg, h = out[bn]
    sl = L.loss_slice(cfg, h.params, X, y, bn_state=h.bn_state, n=9, span=0.8, seed=2)
    assert sl.loss[4, 4] == pytest.approx(h.final_train_loss, rel=1e-12)
    assert sl.center_loss == pytest.approx(h.final_train_loss, rel=1e-12)
    for i, j in ((0, 0), (2, 7), (8, 3)):
        theta = h.params + sl.alphas[j] * sl.directions[0] + sl.betas[i] * sl.directions[1]
        loss, acc = mlp.evaluate(cfg, theta, X, y, h.bn_state)
        assert sl.loss[i, j] == pytest.approx(loss, rel=1e-10)
        assert sl.accuracy[i, j] == pytest.approx(acc)
    assert sl.loss.min() <= sl.center_loss + 1e-12 or sl.loss.min() < sl.loss.max()


def test_slice_regression_and_bad_input():
    X = np.linspace(-1, 1, 30)[:, None]
    y = np.sin(3 * X)
    cfg = mlp.MLPConfig(depth=1, width=8, activation="tanh", init="xavier", n_in=1, n_out=1, task="regression")
    h = mlp.train(cfg, X, y, "adam", {"lr": 0.05}, steps=100, batch_size=None)
    sl = L.loss_slice(cfg, h.params, X, y, n=5)
    assert sl.accuracy is None and sl.loss[2, 2] == pytest.approx(h.final_train_loss, rel=1e-12)
    with pytest.raises(optlab.OptlabError):
        L.loss_slice(cfg, h.params, X, y, n=1)
    with pytest.raises(optlab.OptlabError):
        L.loss_slice(cfg, h.params, X, y, directions=np.zeros((2, 3)))


# ----------------------------------------------------------------------------------------------
# annealed noise, best-so-far, restarts, basins
# ----------------------------------------------------------------------------------------------
def test_noise_schedule():
    assert np.allclose(L.noise_std([0, 1, 3], 0.3, 0.55) ** 2, 0.3 / np.array([1.0, 2.0, 4.0]) ** 0.55)


def test_noisy_descent_without_noise_is_the_runner():
    s = optlab.surfaces.get("rastrigin")
    x0 = np.array([[2.2, -1.1], [0.4, 3.3]])
    e = L.noisy_descent(s, make("sgd", lr=0.002, momentum=0.9), x0, 200, eta=0.0)
    tr = optlab.run(s, make("sgd", lr=0.002, momentum=0.9), x0, 200)
    assert np.allclose(e.xs, tr.xs) and np.allclose(e.losses, tr.losses)


def test_noisy_descent_noise_and_best_so_far():
    s = optlab.surfaces.get("six_hump_camel")
    x0 = np.tile([[1.5, 0.8]], (64, 1))
    a = L.noisy_descent(s, make("sgd", lr=0.02), x0, 600, eta=100.0, seed=5)
    b = L.noisy_descent(s, make("sgd", lr=0.02), x0, 600, eta=100.0, seed=5)
    assert np.array_equal(a.xs, b.xs)
    assert np.all(np.diff(a.best, axis=0) <= 0)
    assert np.allclose(a.best[-1], np.nanmin(a.losses, axis=0))
    assert np.allclose(s.value(a.best_x), a.best[-1])
    quiet = L.noisy_descent(s, make("sgd", lr=0.02), x0[:1], 600, eta=0.0)
    assert quiet.best[-1, 0] > 2.0                                  # without noise: a poor local minimum
    # with annealed noise nearly every run finds a better minimum, most of them a global one (−1.03)
    assert np.mean(a.best[-1] < quiet.best[-1, 0] - 1.0) > 0.9
    assert np.mean(a.best[-1] < s.min_value + 0.05) > 0.5
    weak = L.noisy_descent(s, make("sgd", lr=0.02), x0, 600, eta=1.0, seed=5)
    assert np.mean(weak.best[-1] < quiet.best[-1, 0] - 1e-6) < 0.1   # too little noise: stuck like GD


def test_noisy_descent_stops_diverging_runs():
    s = optlab.surfaces.get("quadratic")
    e = L.noisy_descent(s, make("sgd", lr=0.5), [[1.0, 1.0]], 200, eta=0.0)
    assert e.diverged_at[0] > 0 and np.isnan(e.losses[-1, 0]) and np.isfinite(e.best[-1, 0])


def test_restarts():
    s = optlab.surfaces.get("six_hump_camel")
    r = L.restarts(s, make("adam", lr=0.05), n_starts=30, steps=300, seed=1)
    assert np.array_equal(r.best_after, np.minimum.accumulate(r.best_loss))
    assert r.evals[-1] == 30 * 300
    assert r.best_after[-1] == pytest.approx(s.min_value, abs=1e-6)       # found a global minimum
    again = L.restarts(s, make("adam", lr=0.05), n_starts=30, steps=300, seed=1)
    assert np.array_equal(r.starts, again.starts)


def test_basins_by_optimizer():
    s = optlab.surfaces.get("himmelblau")
    opts = {"SGD": make("sgd", lr=0.005), "Adam": make("adam", lr=0.05)}
    res = L.basins_by_optimizer(s, opts, n=12, steps=300)
    for label, o in opts.items():
        one = optlab.basins(s, o, n=12, steps=300)
        assert np.array_equal(res[label].basin, one.basin)
    assert L.global_share(res["SGD"], s.n_global) > 0.9     # Himmelblau: all four minima are global
