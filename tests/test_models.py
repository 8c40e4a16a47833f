"""optlab.models: batched losses, gradients and Hessians of linear and logistic models against
finite differences and closed forms."""
import numpy as np
import pytest

from optlab import data
from optlab.models import LinearRegression, LogisticRegression


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
def regression_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(25, 3))
    y = X @ np.array([1.5, -2.0, 0.5]) + 0.3 + rng.standard_t(3, size=25)
    return X, y


@pytest.fixture(scope="module")
def classification_data():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 2))
    y = (X @ np.array([2.0, -1.0]) + rng.normal(size=30) > 0).astype(int)
    return X, y


# ----------------------------------------------------------------------------------------------
# Models: batched gradients and Hessians against finite differences
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("loss, params", [("mse", {}), ("rmse", {}), ("mae", {}), ("huber", {"delta": 0.7}),
                                          ("log_cosh", {}), ("quantile", {"q": 0.8})])
def test_linear_regression_grad_and_hessian(regression_data, loss, params):
    X, y = regression_data
    model = LinearRegression(loss, **params)
    theta = np.random.default_rng(2).normal(size=(2, 3, 4))  # a (2, 3) batch of θ = (w1, w2, w3, b)
    assert model.predict(theta, X).shape == (2, 3, 25)
    assert model.loss(theta, X, y).shape == (2, 3)
    g = model.grad(theta, X, y)
    np.testing.assert_allclose(g, _fd_grad(lambda t: model.loss(t, X, y), theta), rtol=1e-6, atol=1e-8)
    H = model.hessian(theta, X, y)
    assert H.shape == (2, 3, 4, 4)
    np.testing.assert_allclose(H, _fd_jac(lambda t: model.grad(t, X, y), theta), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("loss, params", [("bce", {}), ("hinge", {}), ("squared_hinge", {}),
                                          ("focal", {"gamma": 2.0}), ("mse", {}), ("log_cosh", {})])
def test_logistic_regression_grad_and_hessian(classification_data, loss, params):
    X, y = classification_data
    model = LogisticRegression(loss, **params)
    theta = np.random.default_rng(3).normal(scale=1.5, size=(5, 3))
    p = model.predict_proba(theta, X)
    assert p.shape == (5, 30) and np.all((p > 0) & (p < 1))
    g = model.grad(theta, X, y)
    np.testing.assert_allclose(g, _fd_grad(lambda t: model.loss(t, X, y), theta), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(model.hessian(theta, X, y), _fd_jac(lambda t: model.grad(t, X, y), theta),
                               rtol=1e-5, atol=1e-7)


def test_mse_gradient_is_the_articles_formula(regression_data):
    # the seed article's gradient descent uses (1/m)·Xᵀ(Xθ − y), the gradient of ½·MSE
    X, y = regression_data
    theta = np.array([0.3, -0.1, 0.2, 1.0])
    Xt = np.c_[X, np.ones(len(X))]
    article = (1 / len(y)) * Xt.T @ (Xt @ theta - y)
    np.testing.assert_allclose(LinearRegression("mse").grad(theta, X, y), 2 * article, rtol=1e-13)


def test_closed_form_zeroes_the_gradient_and_beats_neighbours(regression_data):
    X, y = regression_data
    model = LinearRegression("mse")
    star = model.closed_form(X, y)
    assert np.linalg.norm(model.grad(star, X, y)) < 1e-12
    near = star + np.random.default_rng(4).normal(scale=0.05, size=(50, 4))
    assert np.all(model.loss(near, X, y) > model.loss(star, X, y))
    # the seed article's toy data: y = x exactly
    toy = data.load("article_toy")
    np.testing.assert_allclose(model.closed_form(toy.X, toy.y), [1.0, 0.0], atol=1e-12)


def test_bad_inputs_raise(regression_data, classification_data):
    X, y = regression_data
    with pytest.raises(ValueError, match="bce"):
        LinearRegression("bce")
    with pytest.raises(ValueError, match="cross_entropy"):
        LogisticRegression("cross_entropy")
    with pytest.raises(ValueError, match=r"\(3, 3\)"):
        LinearRegression().loss(np.zeros((3, 3)), X, y)
    Xc, yc = classification_data
    with pytest.raises(ValueError, match="0 or 1"):
        LogisticRegression().loss(np.zeros(3), Xc, yc + 1)
