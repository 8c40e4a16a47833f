"""optlab's losses and linear models against scikit-learn, as a student would check them.

scikit-learn is the reference a student meets first for losses and linear models: the mean of each
loss is its metric (``sklearn.metrics``), the least-squares fit is ``LinearRegression``, and the
unpenalised logistic fit is ``LogisticRegression(C=np.inf)``, where optlab's gradient must
vanish and its loss must equal ``log_loss``.
"""
from __future__ import annotations

import numpy as np
import pytest

from optlab import data, losses
from optlab.models import LinearRegression, LogisticRegression

metrics = pytest.importorskip("sklearn.metrics")
linear_model = pytest.importorskip("sklearn.linear_model")

rng = np.random.default_rng(20261206)


def _regression(n=200):
    y = rng.normal(size=n) * 3
    return y, y + rng.standard_t(3, size=n)  # heavy tails: MAE, MSE and the pinball loss differ


def _binary(n=200):
    y = rng.integers(0, 2, size=n)
    return y, rng.normal(size=n) * 2 + (2 * y - 1)


def test_regression_losses_are_sklearn_metrics():
    y, p = _regression()
    assert losses.get("mse").value(y, p) == pytest.approx(metrics.mean_squared_error(y, p), rel=1e-13)
    assert losses.get("rmse").value(y, p) == pytest.approx(metrics.root_mean_squared_error(y, p), rel=1e-13)
    assert losses.get("mae").value(y, p) == pytest.approx(metrics.mean_absolute_error(y, p), rel=1e-13)
    for q in (0.1, 0.5, 0.9):
        assert losses.get("quantile", q=q).value(y, p) == pytest.approx(
            metrics.mean_pinball_loss(y, p, alpha=q), rel=1e-13)


def test_classification_losses_are_sklearn_metrics():
    y, s = _binary()
    prob = 1 / (1 + np.exp(-s))
    assert losses.get("bce").value(y, s) == pytest.approx(metrics.log_loss(y, prob), rel=1e-12)
    # hinge_loss takes the labels {0, 1} as {−1, +1}, as optlab's margin m = (2y − 1)·s does
    assert losses.get("hinge").value(y, s) == pytest.approx(metrics.hinge_loss(y, s), rel=1e-13)


def test_cross_entropy_is_sklearn_log_loss():
    C, n = 4, 150
    y = rng.integers(0, C, size=n)
    S = rng.normal(size=(n, C)) * 2
    P = np.exp(S - S.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    ref = metrics.log_loss(y, P, labels=list(range(C)))
    assert losses.get("cross_entropy").value(y, S) == pytest.approx(ref, rel=1e-12)
    # one-hot targets give the same mean
    assert losses.get("cross_entropy").value(losses.one_hot(y, C), S) == pytest.approx(ref, rel=1e-12)


def test_least_squares_is_sklearn_linear_regression():
    d = data.load("diabetes")
    theta = LinearRegression.closed_form(d.X, d.y)
    sk = linear_model.LinearRegression().fit(d.X, d.y)
    np.testing.assert_allclose(theta[:-1], sk.coef_, rtol=1e-8, atol=1e-8)
    assert theta[-1] == pytest.approx(sk.intercept_, rel=1e-10)
    # at the fit, optlab's MSE gradient vanishes and its loss is sklearn's metric
    model = LinearRegression("mse")
    g = model.grad(theta, d.X, d.y)
    assert np.abs(g).max() < 1e-6 * np.abs(model.grad(np.zeros_like(theta), d.X, d.y)).max()
    assert model.loss(theta, d.X, d.y) == pytest.approx(metrics.mean_squared_error(d.y, sk.predict(d.X)), rel=1e-12)


def test_logistic_fit_is_where_optlab_gradient_vanishes():
    d = data.load("breast_cancer")
    X = (d.X - d.X.mean(axis=0)) / d.X.std(axis=0)
    X = X[:, :5]  # separable with all 30 standardised features: no finite unpenalised optimum
    sk = linear_model.LogisticRegression(C=np.inf, solver="newton-cg", tol=1e-12, max_iter=1000).fit(X, d.y)
    theta = np.concatenate([sk.coef_[0], sk.intercept_])
    model = LogisticRegression("bce")
    assert np.linalg.norm(model.grad(theta, X, d.y)) < 1e-7
    assert model.loss(theta, X, d.y) == pytest.approx(metrics.log_loss(d.y, sk.predict_proba(X)[:, 1]), rel=1e-10)
    np.testing.assert_array_equal(model.predict(theta, X), sk.predict(X))
    # the Hessian is positive definite there, so this is the unique minimum, and one Newton step stays put
    H = model.hessian(theta, X, d.y)
    assert np.linalg.eigvalsh(H).min() > 0
    step = np.linalg.solve(H, model.grad(theta, X, d.y))
    assert np.abs(step).max() < 1e-6
