"""Polynomial regression: basis, ridge closed form, lasso by proximal gradient, U curve."""
from __future__ import annotations

import numpy as np
import pytest

from optlab import polynomial as P
from optlab.errors import OptlabError, UnknownNameError


@pytest.fixture
def data():
    return P.make_data(40, noise=0.2, seed=3)


# ---------------------------------------------------------------------------- data and basis
def test_make_data_reproducible_sorted_and_noise_free_limit():
    a, b = P.make_data(30, 0.3, seed=7), P.make_data(30, 0.3, seed=7)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)
    assert np.all(np.diff(a.x) >= 0) and a.x.min() >= -1 and a.x.max() <= 1
    clean = P.make_data(30, 0.0, seed=7, func="cubic")
    np.testing.assert_allclose(clean.y, clean.x**3 - 0.5 * clean.x, atol=1e-15)
    assert not np.array_equal(P.make_data(30, 0.3, seed=8).y, a.y)


def test_make_data_rejects_unknown_truth():
    with pytest.raises(UnknownNameError, match="sin"):
        P.make_data(10, 0.1, 0, func="tan")


def test_features_are_orthonormal_legendre():
    # Gauss-Legendre with 20 nodes integrates polynomials of degree <= 39 exactly
    nodes, weights = np.polynomial.legendre.leggauss(20)
    phi = P.features(nodes, 15)
    gram = (phi * weights[:, None]).T @ phi / 2.0
    np.testing.assert_allclose(gram, np.eye(16), atol=1e-12)
    # phi_1 = sqrt(3) x, phi_2 = sqrt(5) (3x^2 - 1)/2
    np.testing.assert_allclose(phi[:, 1], np.sqrt(3) * nodes, atol=1e-14)
    np.testing.assert_allclose(phi[:, 2], np.sqrt(5) * (1.5 * nodes**2 - 0.5), atol=1e-14)


def test_features_much_better_conditioned_than_monomials():
    x = np.linspace(-1, 1, 200)
    assert np.linalg.cond(P.features(x, 15)) < 10
    assert np.linalg.cond(np.vander(x, 16)) > 1e5


def test_exact_polynomial_is_recovered_and_predict_broadcasts():
    x = np.linspace(-1, 1, 25)
    truth = lambda t: 2 - t + 0.5 * t**3
    coef = P.fit_ridge(x, truth(x), 3, 0.0)
    xt = np.linspace(-1, 1, 7)
    np.testing.assert_allclose(P.predict(coef, xt, 3), truth(xt), atol=1e-12)
    both = P.predict(np.stack([coef, 2 * coef]), xt)
    assert both.shape == (2, 7)
    np.testing.assert_allclose(both[1], 2 * truth(xt), atol=1e-12)


@pytest.mark.parametrize("degree", [-1, 16, 2.5])
def test_bad_degree_is_rejected(degree):
    with pytest.raises(OptlabError, match="degree"):
        P.features(np.zeros(3), degree)


# ---------------------------------------------------------------------------- ridge
def test_ridge_matches_normal_equations(data):
    x, y, d, lam = data.x, data.y, 9, 0.03
    phi = np.vander(x, d + 1, increasing=True)  # a different basis spanning the same space
    n = len(x)
    # same objective written with the Legendre basis: penalty on w[1:]
    F = P.features(x, d)
    D = np.diag(np.r_[0.0, np.ones(d)])
    w_ref = np.linalg.solve(F.T @ F + n * lam * D, F.T @ y)
    w = P.fit_ridge(x, y, d, lam)
    np.testing.assert_allclose(w, w_ref, rtol=1e-10, atol=1e-12)
    # the gradient of (1/n)|y - Fw|^2 + lam |w'|^2 vanishes at the solution
    grad = -2 / n * F.T @ (y - F @ w) + 2 * lam * D @ w
    np.testing.assert_allclose(grad, 0, atol=1e-12)
    # lambda = 0 is least squares, whatever the basis
    ls = np.linalg.lstsq(phi, y, rcond=None)[0]
    np.testing.assert_allclose(P.predict(P.fit_ridge(x, y, d, 0.0), x), phi @ ls, atol=1e-9)


def test_ridge_is_stable_with_fewer_points_than_coefficients():
    x = np.linspace(-1, 1, 12)
    y = np.sin(3 * x)
    F = P.features(x, 15)
    n, lam = len(x), 1e-8
    # reference: the same objective as an augmented least-squares problem (no normal equations)
    A = np.vstack([F, np.sqrt(n * lam) * np.diag(np.r_[0.0, np.ones(15)])])
    w_ref = np.linalg.lstsq(A, np.r_[y, np.zeros(16)], rcond=None)[0]
    np.testing.assert_allclose(P.fit_ridge(x, y, 15, lam), w_ref, rtol=1e-6, atol=1e-8)
    # lambda = 0: an interpolant (12 equations, 16 unknowns)
    w0 = P.fit_ridge(x, y, 15, 0.0)
    np.testing.assert_allclose(P.predict(w0, x), y, atol=1e-9)


def test_ridge_does_not_penalise_the_intercept(data):
    w = P.fit_ridge(data.x, data.y, 7, 1e12)
    assert w[0] == pytest.approx(data.y.mean(), abs=1e-9)
    np.testing.assert_allclose(w[1:], 0, atol=1e-9)


def test_ridge_path_matches_single_fits_and_is_monotone(data):
    lams = np.logspace(-6, 2, 50)
    path = P.ridge_path(data.x, data.y, 12, lams)
    assert path.shape == (50, 13)
    for i in (0, 17, 49):
        np.testing.assert_allclose(path[i], P.fit_ridge(data.x, data.y, 12, lams[i]), rtol=1e-9, atol=1e-12)
    # for any penalised fit: the penalty falls and the data misfit rises as lambda grows
    pen = np.sum(path[:, 1:] ** 2, axis=1)
    fit = P.mse(P.predict(path, data.x), data.y)
    assert np.all(np.diff(pen) <= 1e-12 * pen[:-1])
    assert np.all(np.diff(fit) >= -1e-12)


# ---------------------------------------------------------------------------- lasso
def test_soft_threshold():
    np.testing.assert_array_equal(P.soft_threshold(np.array([-3.0, -0.5, 0.0, 0.5, 3.0]), 1.0),
                                  [-2.0, 0.0, 0.0, 0.0, 2.0])


@pytest.mark.parametrize("fista", [True, False])
def test_lasso_orthonormal_design_is_soft_thresholding(fista):
    rng = np.random.default_rng(0)
    n, p = 50, 8
    q, _ = np.linalg.qr(np.column_stack([np.ones(n), rng.standard_normal((n, p - 1))]))
    phi = q * np.sqrt(n)  # (1/n) phi^T phi = I, first column constant (the intercept)
    y = phi @ rng.normal(0, 1, p) + 0.3 * rng.standard_normal(n)
    gram, rhs = phi.T @ phi / n, phi.T @ y / n
    lams = np.array([0.0, 0.2, 0.7, 5.0])
    res = P.lasso_solve(gram, rhs, lams, fista=fista)
    assert res.converged
    expected = np.column_stack([np.broadcast_to(rhs[0], (4,)),
                                P.soft_threshold(rhs[None, 1:], lams[:, None])])
    np.testing.assert_allclose(res.coef, expected, atol=1e-9)
    assert np.all(res.coef[-1, 1:] == 0.0)  # exact zeros, not small numbers


@pytest.mark.parametrize("lam", [1e-3, 0.02, 0.1])
def test_lasso_satisfies_kkt_conditions(data, lam):
    d = 10
    w = P.fit_lasso(data.x, data.y, d, lam)
    F = P.features(data.x, d)
    r = F.T @ (data.y - F @ w) / len(data.y)  # minus the gradient of the smooth part
    assert abs(r[0]) < 1e-8                    # intercept: plain least-squares condition
    active = w[1:] != 0
    np.testing.assert_allclose(r[1:][active], lam * np.sign(w[1:][active]), atol=1e-7)
    assert np.all(np.abs(r[1:][~active]) <= lam + 1e-8)
    assert active.any()
    if lam >= 0.02:
        assert (~active).any()  # the check of the zero coefficients was not vacuous


def test_lasso_lambda_max_zeroes_everything_but_the_intercept(data):
    d = 9
    lmax = P.lasso_lambda_max(data.x, data.y, d)
    w = P.fit_lasso(data.x, data.y, d, lmax * 1.0001)
    assert np.all(w[1:] == 0.0)
    assert w[0] == pytest.approx(data.y.mean(), abs=1e-10)
    assert np.count_nonzero(P.fit_lasso(data.x, data.y, d, 0.9 * lmax)[1:]) >= 1


def test_lasso_ista_and_fista_agree_and_l1_beats_ridge_at_sparsity(data):
    w1 = P.fit_lasso(data.x, data.y, 8, 0.01, fista=True)
    w2 = P.fit_lasso(data.x, data.y, 8, 0.01, fista=False, max_iter=200000)
    np.testing.assert_allclose(w1, w2, atol=1e-7)
    assert np.count_nonzero(P.fit_ridge(data.x, data.y, 8, 0.01)) == 9  # L2 shrinks, never zeroes


def test_lasso_path_matches_single_fits_and_is_monotone(data):
    d = 15
    lams = np.logspace(-4, 0, 50) * P.lasso_lambda_max(data.x, data.y, d)
    path = P.lasso_path(data.x, data.y, d, lams)
    assert path.shape == (50, 16)
    for i in (0, 30, 49):
        np.testing.assert_allclose(path[i], P.fit_lasso(data.x, data.y, d, lams[i]), atol=1e-7)
    pen = np.sum(np.abs(path[:, 1:]), axis=1)
    fit = P.mse(P.predict(path, data.x), data.y)
    assert np.all(np.diff(pen) <= 1e-7)
    assert np.all(np.diff(fit) >= -1e-9)
    assert np.count_nonzero(path[0, 1:]) > np.count_nonzero(path[-1, 1:])


def test_negative_lambda_is_rejected(data):
    with pytest.raises(OptlabError, match="lambda"):
        P.fit_ridge(data.x, data.y, 3, -1.0)


# ---------------------------------------------------------------------------- U curve
def test_degree_curve_train_falls_validation_turns_up():
    train = P.make_data(20, 0.25, seed=1)
    val = P.make_data(200, 0.25, seed=2)
    curve = P.degree_curve(train.x, train.y, val.x, val.y, range(0, 16))
    # nested models fitted by least squares: training error never increases with the degree
    assert np.all(np.diff(curve.train) <= 1e-10)
    assert 2 <= curve.best_degree <= 10
    assert curve.val[-1] > 3 * curve.val.min()  # degree 15 on 20 points overfits badly
    assert curve.train[-1] < curve.train[curve.degrees == curve.best_degree][0]
