"""The NumPy MLP: backprop against finite differences, batch norm, residuals, clipping, divergence."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from optlab import mlp as M
from optlab.errors import OptlabError, UnknownNameError
from optlab.validation import train_val_test_split


def _numeric_grad(cfg, theta, X, y, h=1e-6):
    g = np.zeros_like(theta)
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = h
        g[i] = (M.loss_and_grad(cfg, theta + e, X, y)[0] - M.loss_and_grad(cfg, theta - e, X, y)[0]) / (2 * h)
    return g


def _problem(task, n_in=3, n=7, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_in))
    y = rng.integers(0, 3, n) if task == "classification" else rng.standard_normal((n, 2))
    return X, y


@pytest.mark.parametrize("activation, batch_norm, residual, task", list(itertools.product(
    M.ACTIVATIONS, [False, True], [False, True], M.TASKS)))
def test_backprop_matches_central_differences(activation, batch_norm, residual, task):
    # n_in == width, so the residual also wraps the first hidden layer
    n_in = 4 if residual else 3
    cfg = M.MLPConfig(depth=3, width=4, activation=activation, init="xavier", batch_norm=batch_norm,
                      residual=residual, n_in=n_in, n_out=3 if task == "classification" else 2,
                      task=task, seed=1)
    X, y = _problem(task, n_in=n_in)
    rng = np.random.default_rng(2)
    theta = M.init_params(cfg) + 0.1 * rng.standard_normal(M.n_params(cfg))  # γ ≠ 1, β ≠ 0, b ≠ 0
    loss, grad = M.loss_and_grad(cfg, theta, X, y)
    num = _numeric_grad(cfg, theta, X, y)
    rel = np.linalg.norm(num - grad) / (np.linalg.norm(num) + np.linalg.norm(grad))
    assert rel < 1e-6
    assert np.linalg.norm(grad) > 1e-3  # not a vacuous comparison of zeros


def test_layout_counts_and_views():
    cfg = M.MLPConfig(depth=2, width=3, n_in=2, n_out=2)
    assert M.n_params(cfg) == (2 * 3 + 3) + (3 * 3 + 3) + (3 * 2 + 2)
    bn = M.MLPConfig(depth=2, width=3, n_in=2, n_out=2, batch_norm=True)
    assert M.n_params(bn) == (6 + 3 + 3) + (9 + 3 + 3) + (6 + 2)
    assert [s.label for s in M.param_layout(bn)][:3] == ["layer1.W", "layer1.gamma", "layer1.beta"]
    np.testing.assert_array_equal(M.layer_offsets(cfg), [0, 9, 21, 29])
    theta = np.arange(M.n_params(cfg), dtype=float)
    arrays = M.unflatten(cfg, theta)
    np.testing.assert_array_equal(M.flatten(arrays), theta)
    arrays[2][0, 0] = -1.0  # views: writes reach the flat vector
    assert theta[9] == -1.0
    with pytest.raises(OptlabError, match="entries"):
        M.unflatten(cfg, np.zeros(5))


@pytest.mark.parametrize("init, expected", [("normal", 0.3), ("xavier", np.sqrt(2 / 400)),
                                            ("he", np.sqrt(2 / 200))])
def test_initialisation_scales(init, expected):
    cfg = M.MLPConfig(depth=2, width=200, n_in=200, init=init, init_scale=0.3, batch_norm=True)
    arrays = M.unflatten(cfg, M.init_params(cfg))
    W = arrays[3]  # layer 2: 200 -> 200
    assert W.std() == pytest.approx(expected, rel=0.02)
    np.testing.assert_array_equal(arrays[1], 1.0)  # gamma
    np.testing.assert_array_equal(arrays[2], 0.0)  # beta


def test_batch_norm_normalises_the_batch():
    cfg = M.MLPConfig(depth=2, width=5, n_in=3, batch_norm=True, init="normal", init_scale=3.0)
    X = np.random.default_rng(0).normal(2.0, 4.0, (64, 3))
    layers = M._by_layer(cfg, M.unflatten(cfg, M.init_params(cfg)))
    layers[0]["gamma"][...] = 2.0
    layers[0]["beta"][...] = -1.0
    _, caches, stats = M._forward(cfg, layers, X, train=True)
    u = caches[0].u
    np.testing.assert_allclose(u.mean(0), -1.0, atol=1e-12)
    z = X @ layers[0]["W"]
    np.testing.assert_allclose(u.std(0), 2.0 * z.std(0) / np.sqrt(z.var(0) + M.BN_EPS), rtol=1e-12)
    np.testing.assert_allclose(stats[0][1], z.var(0))  # biased variance for normalising


def test_batch_norm_running_statistics_follow_torch():
    # lr = 0 keeps the weights, full batch keeps the batch: closed-form running statistics
    cfg = M.MLPConfig(depth=1, width=4, n_in=2, batch_norm=True, seed=3)
    X, y = M.two_spirals(50, 0.1, seed=1)
    hist = M.train(cfg, X, y, "sgd", {"lr": 0.0}, steps=7, batch_size=None)
    z = X @ M.unflatten(cfg, hist.params)[0]
    keep = 0.9 ** 7
    np.testing.assert_allclose(hist.bn_state["mean"][0], (1 - keep) * z.mean(0), rtol=1e-12)
    np.testing.assert_allclose(hist.bn_state["var"][0], keep + (1 - keep) * z.var(0, ddof=1), rtol=1e-12)


def test_residual_block_with_zero_weights_is_the_identity():
    cfg = M.MLPConfig(depth=3, width=4, n_in=2, residual=True, activation="tanh", init="xavier")
    short = M.MLPConfig(depth=1, width=4, n_in=2, activation="tanh", init="xavier")
    theta = M.init_params(cfg)
    arrays = M.unflatten(cfg, theta)
    for a in arrays[2:6]:  # layers 2 and 3: W and b
        a[...] = 0.0       # tanh(0) = 0, so h + 0 = h
    theta_short = M.flatten(arrays[:2] + arrays[6:])
    X = np.random.default_rng(0).standard_normal((5, 2))
    np.testing.assert_allclose(M.predict(cfg, theta, X), M.predict(short, theta_short, X), rtol=1e-14)


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    cfg = M.MLPConfig(n_out=3)
    out = np.array([[1000.0, 0.0, -1000.0], [0.0, 0.0, 0.0]])
    loss, d = M._loss_and_dout(cfg, out, np.array([1, 2]))
    assert loss == pytest.approx((1000.0 + np.log(3)) / 2)
    np.testing.assert_allclose(d[0], [0.5, -0.5, 0.0], atol=1e-300)
    np.testing.assert_allclose(d.sum(1), 0, atol=1e-15)


# ---------------------------------------------------------------------------- clipping
def test_training_with_clip_norm_bounds_the_applied_gradient():
    X, y = M.two_spirals(300, 0.05, seed=0)
    cfg = M.MLPConfig(depth=4, width=16, activation="relu", init="normal", init_scale=1.0)
    hist = M.train(cfg, X, y, "sgd", {"lr": 1e-3}, steps=40, batch_size=32, clip_norm=0.5)
    assert not hist.diverged
    assert np.all(hist.grad_norm_clipped <= 0.5 + 1e-12)
    big = hist.grad_norm > 0.5
    assert big.any()  # the clip was active
    np.testing.assert_allclose(hist.grad_norm_clipped[~big], hist.grad_norm[~big])
    np.testing.assert_allclose(np.sqrt((hist.grad_norms ** 2).sum(1)), hist.grad_norm, rtol=1e-12)
    hv = M.train(cfg, X, y, "sgd", {"lr": 1e-3}, steps=10, batch_size=32, clip_value=1e-3)
    assert np.all(hv.grad_norm_clipped <= 1e-3 * np.sqrt(M.n_params(cfg)) + 1e-12)


def test_clipped_sgd_moves_at_most_lr_times_max_norm():
    X, y = M.two_spirals(200, 0.05, seed=0)
    cfg = M.MLPConfig(depth=3, width=8, init="normal", init_scale=2.0)
    theta0 = M.init_params(cfg)
    hist = M.train(cfg, X, y, "sgd", {"lr": 0.1}, steps=1, batch_size=None, clip_norm=0.25)
    assert hist.grad_norm[0] > 0.25
    assert np.linalg.norm(hist.params - theta0) == pytest.approx(0.1 * 0.25, rel=1e-5)


# ---------------------------------------------------------------------------- gradient problems
def test_huge_init_is_flagged_as_diverged_without_raising():
    X, y = M.two_spirals(200, 0.05, seed=0)
    cfg = M.MLPConfig(depth=10, width=16, activation="relu", init="normal", init_scale=50.0)
    hist = M.train(cfg, X, y, "sgd", {"lr": 1.0}, steps=50, batch_size=32)
    assert hist.diverged and 0 <= hist.diverged_at < 50
    assert hist.steps_done == hist.diverged_at + 1 == len(hist.loss) == len(hist.grad_norms)
    assert not np.isfinite(hist.loss[-1]) or not np.isfinite(hist.grad_norm[-1])
    assert np.all(np.isfinite(hist.params))
    assert "diverged" in hist.message
    assert hist.grad_norm[0] > 1e10  # exploding gradient measured at the first step
    assert not np.isinf(hist.activation_samples_init).any()


def test_deep_sigmoid_with_naive_init_has_vanishing_gradients():
    X, y = M.two_spirals(400, 0.05, seed=0)
    cfg = M.MLPConfig(depth=20, width=32, activation="sigmoid", init="normal", init_scale=1.0)
    hist = M.train(cfg, X, y, "sgd", {"lr": 0.1}, steps=5, batch_size=64)
    first, last = hist.grad_norms[0, 0], hist.grad_norms[0, -1]
    assert first < 1e-2 * last
    # with batch norm and residual connections the early layers get a real gradient
    fixed = M.train(M.MLPConfig(depth=20, width=32, activation="sigmoid", init="normal",
                                batch_norm=True, residual=True), X, y, "sgd", {"lr": 0.1},
                    steps=5, batch_size=64)
    assert fixed.grad_norms[0, 0] > 0.1 * fixed.grad_norms[0, -1]


def test_relu_flat_fraction_is_about_half_at_he_init():
    X, y = M.two_spirals(300, 0.05, seed=0)
    cfg = M.MLPConfig(depth=3, width=16, activation="relu", init="he")
    hist = M.train(cfg, X, y, "sgd", {"lr": 1e-3}, steps=3, batch_size=64, record_every=1)
    assert hist.act_flat.shape == hist.dead_units.shape == (3, 3)
    assert np.all((hist.act_flat > 0.2) & (hist.act_flat < 0.8))  # about half of ReLU outputs are 0
    assert np.all(hist.dead_units <= hist.act_flat)
    assert hist.flat_label == "zero (dead)"
    np.testing.assert_array_equal(hist.record_steps, [0, 1, 2])


# ---------------------------------------------------------------------------- training
def test_default_preset_learns_two_spirals_and_reports_everything():
    X, y = M.two_spirals(1000, 0.05, seed=0)
    Xv, yv = M.two_spirals(300, 0.05, seed=1)
    calls = []
    hist = M.train(M.MLPConfig(), X, y, "adam", {"lr": 0.01}, steps=300, batch_size=64,
                   X_val=Xv, y_val=yv, callback=lambda s, t: calls.append((s, t)))
    assert not hist.diverged and hist.steps_done == 300
    assert hist.train_accuracy > 0.9 and hist.final_val_accuracy > 0.85
    assert hist.loss.shape == (300,) and hist.grad_norms.shape == (300, 7)
    R = len(hist.record_steps)
    assert hist.act_mean.shape == (R, 6) and hist.val_loss.shape == (R,) and hist.val_accuracy.shape == (R,)
    assert hist.val_loss[-1] < hist.val_loss[0]
    assert hist.activation_samples.shape[0] == 6 == hist.activation_samples_init.shape[0]
    assert calls[-1] == (300, 300) and len(calls) <= 101
    proba = hist.predict(Xv)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    assert np.mean(proba.argmax(1) == yv) == pytest.approx(hist.final_val_accuracy)


def test_training_is_reproducible_and_epochs_set_steps():
    X, y = M.two_spirals(200, 0.05, seed=0)
    cfg = M.MLPConfig(depth=2, width=8, batch_norm=True)
    a = M.train(cfg, X, y, "adam", {"lr": 0.01}, epochs=3, batch_size=64, seed=4)
    b = M.train(cfg, X, y, "adam", {"lr": 0.01}, epochs=3, batch_size=64, seed=4)
    assert a.steps_done == 3 * (200 // 64)
    np.testing.assert_array_equal(a.loss, b.loss)
    np.testing.assert_array_equal(a.params, b.params)


def test_regression_task_fits_a_sine():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (256, 1))
    y = np.sin(np.pi * X)
    cfg = M.MLPConfig(depth=2, width=32, activation="tanh", init="xavier", n_in=1, n_out=1, task="regression")
    hist = M.train(cfg, X, y, "adam", {"lr": 0.01}, steps=400, batch_size=64)
    assert hist.train_accuracy is None
    assert hist.final_train_loss < 0.05 * np.mean(y ** 2)


def test_bad_arguments_are_named():
    with pytest.raises(UnknownNameError, match="sigmoid"):
        M.MLPConfig(activation="swish")
    with pytest.raises(UnknownNameError, match="adam"):
        M.train(M.MLPConfig(), *M.two_spirals(20), optimizer="newton")
    with pytest.raises(OptlabError, match="labels"):
        M.train(M.MLPConfig(), np.zeros((3, 2)), np.array([0, 1, 5]))
    with pytest.raises(OptlabError, match=r"shape \(n, 2\)"):
        M.train(M.MLPConfig(), np.zeros((3, 3)), np.array([0, 1, 1]))


def test_two_spirals_shape_and_balance():
    X, y = M.two_spirals(101, 0.0, seed=2)
    assert X.shape == (101, 2) and y.dtype == np.int64
    assert abs(int(y.sum()) - 50) <= 1
    r = np.linalg.norm(X, axis=1)
    assert r.max() <= 1.0 + 1e-12
    # without noise, the two arms are the same curve rotated by pi
    ang = np.arctan2(X[:, 1], X[:, 0]) - np.pi * y
    t = r * 2 * np.pi * 1.5
    np.testing.assert_allclose(np.cos(ang), np.cos(t), atol=1e-9)


def test_digits_from_optlab_data_train_with_ten_classes():
    from optlab import data

    ds = data.load("digits")
    X, _, _ = data.standardize(ds.X)
    tr, va, _ = train_val_test_split(len(ds.y), 0.2, 0.0, seed=0)
    cfg = M.MLPConfig(depth=2, width=32, n_in=64, n_out=10, activation="relu", init="he")
    hist = M.train(cfg, X[tr], ds.y[tr], "adam", {"lr": 0.01}, steps=150, batch_size=64,
                   X_val=X[va], y_val=ds.y[va])
    assert hist.final_val_accuracy > 0.9


def test_early_stopping_in_training_matches_the_replayed_rule():
    from optlab.validation import early_stopping

    X, y = M.two_spirals(80, 0.25, seed=0)   # few noisy points and a wide net: it overfits
    Xv, yv = M.two_spirals(400, 0.25, seed=1)
    cfg = M.MLPConfig(depth=3, width=64, activation="relu", init="he")
    kw = dict(steps=300, batch_size=None, X_val=Xv, y_val=yv, record_every=10)
    full = M.train(cfg, X, y, "adam", {"lr": 0.01}, **kw)
    es = M.train(cfg, X, y, "adam", {"lr": 0.01}, patience=5, **kw)
    best, stop, stopped = early_stopping(full.val_loss, 5)
    assert stopped
    assert es.stopped_at == full.record_steps[stop] and es.steps_done == es.stopped_at + 1
    assert es.best_step == full.record_steps[best] == full.best_step
    np.testing.assert_array_equal(es.val_loss, full.val_loss[:stop + 1])
    # the best weights were restored
    assert es.final_val_loss == pytest.approx(full.val_loss[best], rel=1e-12)
    assert es.final_val_loss < full.final_val_loss
    np.testing.assert_array_equal(es.params, es.best_params)


def test_snapshots_are_the_predictions_of_the_weights_at_each_record():
    """One full run gives what early stopping restores for every patience: the output at the
    snapshot inputs at each record equals the prediction of the weights kept there."""
    X, y = M.two_spirals(80, 0.25, seed=0)
    Xv, yv = M.two_spirals(200, 0.25, seed=1)
    grid = np.linspace(-1, 1, 7)[:, None] * np.ones((1, 2))
    cfg = M.MLPConfig(depth=3, width=16, activation="tanh", init="xavier")
    kw = dict(steps=120, batch_size=None, X_val=Xv, y_val=yv, record_every=10)
    full = M.train(cfg, X, y, "adam", {"lr": 0.01}, snapshot_X=grid, **kw)
    assert full.snapshots.shape == (len(full.record_steps), 7, 2)
    best = int(np.argmin(full.val_loss))
    logits = M.predict(cfg, full.best_params, grid)  # probabilities
    snap = full.snapshots[best]
    e = np.exp(snap - snap.max(1, keepdims=True))
    np.testing.assert_allclose(e / e.sum(1, keepdims=True), logits, rtol=1e-12, atol=1e-15)
    last = M.train(cfg, X, y, "adam", {"lr": 0.01}, **kw)
    np.testing.assert_array_equal(last.val_loss, full.val_loss)   # snapshots change nothing else
    assert last.snapshots is None


def test_batch_norm_costs_more_in_the_budget_estimate():
    from optlab.budget import MLP_BN_FACTOR

    plain, bn = M.MLPConfig(depth=20, width=32), M.MLPConfig(depth=20, width=32, batch_norm=True)
    # steps cost MLP_BN_FACTOR times as much, records half as much again: in between overall
    ratio = M.train_cost(bn, 600, steps=100) / M.train_cost(plain, 600, steps=100)
    assert 0.5 * (1 + MLP_BN_FACTOR) < ratio < MLP_BN_FACTOR
    no_records = dict(steps=100, record_every=10**6)
    assert M.train_cost(bn, 600, **no_records) > 0.9 * MLP_BN_FACTOR * M.train_cost(plain, 600, **no_records)
