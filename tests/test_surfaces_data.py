"""optlab.surfaces.data: the (w, b) loss surfaces of data — finite differences, closed forms,
mini-batches, grids."""
import tracemalloc

import numpy as np
import pytest

from optlab import data, losses
from optlab.models import LinearRegression, LogisticRegression
from optlab.surfaces import Surface
from optlab.surfaces.data import DataSurface, logistic_surface_1d, loss_surface_1d


def _fd_grad(fun, theta, h=1e-6):
    """Central differences of a batched scalar function (..., P) -> (...), per coordinate."""
    out = np.zeros_like(theta)
    for k in range(theta.shape[-1]):
        e = np.zeros_like(theta)
        e[..., k] = h
        out[..., k] = (fun(theta + e) - fun(theta - e)) / (2 * h)
    return out


def _fd_jac(fun, theta, h=1e-6):
    """Central differences of a batched vector function (..., P) -> (..., P): (..., P, P)."""
    cols = []
    for k in range(theta.shape[-1]):
        e = np.zeros_like(theta)
        e[..., k] = h
        cols.append((fun(theta + e) - fun(theta - e)) / (2 * h))
    return np.stack(cols, axis=-1)


@pytest.fixture(scope="module")
def diabetes_bmi():
    return data.feature("diabetes", "bmi")


@pytest.fixture(scope="module")
def cancer_radius():
    return data.feature("breast_cancer", "mean radius")


# ----------------------------------------------------------------------------------------------
# (w, b) surfaces
# ----------------------------------------------------------------------------------------------
REG = [("mse", {}), ("rmse", {}), ("mae", {}), ("huber", {"delta": 40.0}), ("log_cosh", {}),
       ("quantile", {"q": 0.9})]
CLS = [("bce", {}), ("hinge", {}), ("squared_hinge", {}), ("focal", {"gamma": 2.0}), ("mse", {})]


def test_surface_is_a_surface_with_the_least_squares_centre(diabetes_bmi):
    x, y = diabetes_bmi
    s = loss_surface_1d(x, y, "mse", label="diabetes: bmi")
    assert isinstance(s, Surface) and isinstance(s, DataSurface) and s.n_samples == 442
    star = LinearRegression.closed_form(x, y)
    (w0, w1), (b0, b1) = s.window
    np.testing.assert_allclose([(w0 + w1) / 2, (b0 + b1) / 2], star, rtol=1e-12)
    assert w0 < 0 < w1 and b0 < 0 < b1  # the origin, where runs often start, is in view
    assert s.convex and "diabetes" in s.title and s.latex
    np.testing.assert_allclose(s.min_value, LinearRegression("mse").loss(star, x, y), rtol=1e-12)


@pytest.mark.parametrize("loss, params", REG)
def test_regression_surface_derivatives(diabetes_bmi, loss, params):
    x, y = diabetes_bmi
    s = loss_surface_1d(x, y, loss, **params)
    rng = np.random.default_rng(5)
    (w0, w1), (b0, b1) = s.window
    P = np.stack([rng.uniform(w0, w1, (3, 4)), rng.uniform(b0, b1, (3, 4))], axis=-1)
    assert s.value(P).shape == (3, 4) and s.grad(P).shape == (3, 4, 2) and s.hessian(P).shape == (3, 4, 2, 2)
    np.testing.assert_allclose(s.grad(P), _fd_grad(s.value, P, h=1e-5), rtol=1e-6, atol=1e-6)
    if not losses.get(loss, **params).piecewise_linear:
        np.testing.assert_allclose(s.hessian(P), _fd_jac(s.grad, P, h=1e-5), rtol=1e-5, atol=1e-6)
    # the generic model agrees with the surface (the mse/rmse surface uses sufficient statistics)
    model = LinearRegression(loss, **params)
    np.testing.assert_allclose(s.value(P), model.loss(P, x, y), rtol=1e-11)
    np.testing.assert_allclose(s.grad(P), model.grad(P, x, y), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("loss, params", REG)
def test_regression_surface_minimum(diabetes_bmi, loss, params):
    x, y = diabetes_bmi
    s = loss_surface_1d(x, y, loss, **params)
    m = s.minima[0]
    assert s.min_value == pytest.approx(float(s.value(m)))
    # no point of a fine grid around it nor of the whole window is lower
    rng = np.random.default_rng(6)
    near = m + rng.normal(scale=0.5, size=(400, 2))
    assert np.all(s.value(near) >= s.min_value - 1e-9 * abs(s.min_value))
    assert np.nanmin(s.grid(80)[2]) >= s.min_value - 1e-9 * abs(s.min_value)
    if not losses.get(loss, **params).piecewise_linear:
        assert np.linalg.norm(s.grad(m)) < 1e-6 * (1 + abs(s.min_value))


def test_numerical_minimum_equals_closed_form(diabetes_bmi):
    # Huber with δ beyond every residual at the optimum is ½·MSE: its Newton minimum is least squares
    x, y = diabetes_bmi
    star = LinearRegression.closed_form(x, y)
    big = 2 * np.max(np.abs(star[0] * x + star[1] - y))
    s = loss_surface_1d(x, y, "huber", delta=big)
    np.testing.assert_allclose(s.minima[0], star, rtol=1e-9)
    np.testing.assert_allclose(loss_surface_1d(x, y, "mse").minima[0], star, rtol=1e-12)
    # pinball at q = ½ is MAE/2: same minimiser value, half the loss
    mae, q = loss_surface_1d(x, y, "mae"), loss_surface_1d(x, y, "quantile", q=0.5)
    assert q.min_value == pytest.approx(mae.min_value / 2, rel=1e-9)


def test_grid_evaluation_equals_pointwise(diabetes_bmi):
    x, y = diabetes_bmi
    for loss in ("mse", "huber", "mae"):
        s = loss_surface_1d(x, y, loss)
        xs, ys, Z = s.grid(17)
        for i, j in [(0, 0), (3, 11), (16, 16), (9, 2)]:
            p = np.array([xs[j], ys[i]])
            assert Z[i, j] == pytest.approx(float(s.value(p)), rel=1e-12)
            assert Z[i, j] == pytest.approx(float(np.mean(losses.get(loss).pointwise(p[0] * x + p[1] - y))), rel=1e-10)


def test_big_grid_is_chunked(diabetes_bmi):
    x, y = diabetes_bmi
    s = loss_surface_1d(x, y, "huber", delta=30.0)
    tracemalloc.start()
    try:
        xs, ys, Z = s.grid(200)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert Z.shape == (200, 200) and np.all(np.isfinite(Z))
    assert peak < 60e6  # 200·200·442 doubles would be 141 MB per temporary
    assert Z[123, 45] == pytest.approx(float(s.value([xs[45], ys[123]])), rel=1e-12)


@pytest.mark.parametrize("loss", ["mse", "huber", "quantile", "rmse"])
def test_minibatch_of_everything_is_the_full_gradient(diabetes_bmi, loss):
    x, y = diabetes_bmi
    s = loss_surface_1d(x, y, loss)
    P = np.array(s.starts)
    g = s.minibatch_grad(P, np.random.default_rng(0), s.n_samples)
    assert g.shape == P.shape
    np.testing.assert_allclose(g, s.grad(P), rtol=1e-12)


@pytest.mark.parametrize("loss", ["mse", "huber", "mae"])
def test_minibatch_gradient_is_unbiased(diabetes_bmi, loss):
    x, y = diabetes_bmi
    s = loss_surface_1d(x, y, loss, delta=30.0) if loss == "huber" else loss_surface_1d(x, y, loss)
    p = np.array(s.starts[1])
    B = 4000
    G = s.minibatch_grad(np.tile(p, (B, 1)), np.random.default_rng(1), 16)  # B runs, own batch each
    assert G.shape == (B, 2)
    assert len(np.unique(G[:, 0])) > B // 2  # the runs did not share one batch
    err = np.abs(G.mean(0) - s.grad(p))
    se = G.std(0) / np.sqrt(B)
    assert np.all(err < 5 * se), (err, se)
    # sampling without replacement: a batch never repeats a sample, so batch_size = N−1 has tiny spread
    G2 = s.minibatch_grad(np.tile(p, (50, 1)), np.random.default_rng(2), s.n_samples - 1)
    assert np.all(G2.std(0) < 0.05 * G.std(0))


def test_minibatch_reproducible_and_validated(diabetes_bmi):
    x, y = diabetes_bmi
    s = loss_surface_1d(x, y, "mse")
    P = np.zeros((5, 2))
    a = s.minibatch_grad(P, np.random.default_rng(9), 8)
    b = s.minibatch_grad(P, np.random.default_rng(9), 8)
    np.testing.assert_array_equal(a, b)
    v, g = s.minibatch_value_and_grad(P, np.random.default_rng(9), 8)
    np.testing.assert_array_equal(g, a)
    assert v.shape == (5,)
    for bad in (0, 443):
        with pytest.raises(ValueError, match=str(bad)):
            s.minibatch_grad(P, np.random.default_rng(0), bad)


@pytest.mark.parametrize("loss, params", CLS)
def test_logistic_surface_derivatives_and_minimum(cancer_radius, loss, params):
    x, y = cancer_radius
    s = logistic_surface_1d(x, y, loss, **params)
    rng = np.random.default_rng(7)
    (w0, w1), (b0, b1) = s.window
    P = np.stack([rng.uniform(w0, w1, (2, 5)), rng.uniform(b0, b1, (2, 5))], axis=-1)
    np.testing.assert_allclose(s.grad(P), _fd_grad(s.value, P), rtol=1e-6, atol=1e-9)
    if loss != "hinge":
        np.testing.assert_allclose(s.hessian(P), _fd_jac(s.grad, P), rtol=1e-5, atol=1e-8)
    model = LogisticRegression(loss, **params)
    np.testing.assert_allclose(s.value(P), model.loss(P, x, y), rtol=1e-12)
    assert np.nanmin(s.grid(60)[2]) >= s.min_value - 1e-9
    G = s.minibatch_grad(P, np.random.default_rng(0), s.n_samples)
    np.testing.assert_allclose(G, s.grad(P), rtol=1e-11, atol=1e-15)


def test_why_cross_entropy(cancer_radius):
    x, y = cancer_radius
    bce, mse = logistic_surface_1d(x, y, "bce"), logistic_surface_1d(x, y, "mse")
    assert bce.window == mse.window  # same view, so the two can be compared side by side
    assert bce.convex and not mse.convex
    xs, ys, _ = bce.grid(40)
    P = np.stack(np.meshgrid(xs, ys), axis=-1)
    assert np.linalg.eigvalsh(bce.hessian(P)).min() > 0  # convex everywhere in view
    assert np.linalg.eigvalsh(mse.hessian(P)).min() < 0  # MSE on probabilities is not
    wrong = np.array(bce.starts[0])  # a confidently wrong model: slope of the wrong sign
    assert np.sign(wrong[0]) != np.sign(bce.minima[0, 0])
    assert np.linalg.norm(mse.grad(wrong)) < 0.2 * np.linalg.norm(bce.grad(wrong))


def test_bad_inputs_raise(diabetes_bmi):
    x, yb = diabetes_bmi
    with pytest.raises(ValueError, match="regression loss"):
        loss_surface_1d(x, yb, "hinge")
    with pytest.raises(ValueError, match="vary"):
        loss_surface_1d(np.ones(5), np.arange(5.0))
    with pytest.raises(ValueError, match="-3"):
        loss_surface_1d(x, yb, "huber", delta=-3)


@pytest.mark.parametrize("link", ["identity", "sigmoid"])
def test_value_and_grad_is_value_and_grad_bitwise(link):
    """The one-pass f and ∇f the runner's loop uses (``fg``) round exactly like f and ∇f apart."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=40)
    y = (x + 0.3 * rng.normal(size=40) > 0).astype(float) if link == "sigmoid" else 2 * x + rng.normal(size=40)
    for loss in (["bce", "mse"] if link == "sigmoid" else ["mse", "mae", "huber", "rmse"]):
        s = (logistic_surface_1d(x, y, loss) if link == "sigmoid" else loss_surface_1d(x, y, loss))
        P = s.minima[0] + rng.normal(size=(9, 2)) * 3
        f, G = s.value_and_grad(P)
        assert s.fg is not None
        assert np.array_equal(f, s.value(P)) and np.array_equal(G, s.grad(P)), loss
