"""optlab.theory: the closed forms on ½θᵀAθ (gradient descent and heavy-ball rates, stability
limits, β*, Polyak), checked against eigenvalues of the iteration and against runs of the engine."""
from __future__ import annotations

import numpy as np
import pytest

import optlab
from optlab import theory as HB

Q10 = optlab.surfaces.get("quadratic", condition=10)
X0 = np.array([-2.5, 1.5])


# ----------------------------------------------------------------------------------------------
# Gradient descent
# ----------------------------------------------------------------------------------------------
def test_hessian_eigenvalues_are_the_curvatures():
    q = optlab.surfaces.get("quadratic", condition=25, angle=30)
    np.testing.assert_allclose(HB.hessian_eigenvalues(q, [0.3, -0.7]), [1.0, 25.0], rtol=1e-12)
    saddle = optlab.surfaces.get("saddle")
    lam = HB.hessian_eigenvalues(saddle, [0.0, 0.0])
    assert lam[0] < 0 < lam[1]


def test_gd_rate_is_heavy_ball_without_momentum_and_allows_any_eigenvalue():
    rng = np.random.default_rng(1)
    lams = [0.5, 4.0, 30.0]
    lr = rng.uniform(1e-3, 0.2, 300)
    np.testing.assert_allclose(HB.gd_rate(lr, lams), HB.heavy_ball_rate(lr, 0.0, lams), rtol=1e-15)
    assert float(HB.gd_rate(0.1, [-2.0, 1.0])) == pytest.approx(1.2)   # a negative curvature: growth
    assert HB.gd_rate(np.array([[0.1, 0.2]]), [1.0, 10.0]).shape == (1, 2)


def test_gd_rate_is_the_measured_contraction_of_a_run():
    for lr in (0.02, 0.1, 0.15):   # the two factors |1 − ηλ| differ: the slower one dominates fast
        tr = optlab.run(Q10, optlab.optimizers.make("sgd", lr=lr), X0, 120, record="path")
        err = np.linalg.norm(tr.xs, axis=1)          # the minimum is the origin
        measured = (err[120] / err[60]) ** (1 / 60)
        assert measured == pytest.approx(float(HB.gd_rate(lr, [1.0, 10.0])), rel=1e-6)


def test_best_constant_learning_rate():
    lam_min, lam_max = 2.0, 50.0
    lr = HB.gd_best_lr(lam_min, lam_max)
    assert lr == pytest.approx(2 / 52)
    grid = np.linspace(0.5 * lr, 1.5 * lr, 2001)
    assert grid[np.argmin(HB.gd_rate(grid, [lam_min, lam_max]))] == pytest.approx(lr, rel=1e-3)
    assert HB.gd_best_rate(lam_min, lam_max) == pytest.approx(float(HB.gd_rate(lr, [lam_min, lam_max])))
    assert HB.gd_best_rate(1.0, 25) == pytest.approx(24 / 26)


def test_curvature_limit_is_the_stability_limit_of_the_local_hessian():
    q = optlab.surfaces.get("quadratic", condition=4, angle=20)
    assert HB.curvature_limit(q, X0) == pytest.approx(0.5)
    assert HB.curvature_limit(q, X0, momentum=0.5) == pytest.approx(float(HB.stability_limit(0.5, 4.0)))
    # no positive curvature at all: no limit to quote
    concave = optlab.surfaces.from_formula("-(x**2 + y**2)")
    assert np.isnan(HB.curvature_limit(concave, [0.5, 0.5]))
    # GD just below the limit converges, just above it diverges
    lim = HB.curvature_limit(q, X0)
    ok = optlab.run(q, optlab.optimizers.make("sgd", lr=0.98 * lim), X0, 2000)
    bad = optlab.run(q, optlab.optimizers.make("sgd", lr=1.02 * lim), X0, 2000)
    assert ok.diverged_at == -1 and bad.diverged_at > 0


# ----------------------------------------------------------------------------------------------
# Heavy ball on a quadratic
# ----------------------------------------------------------------------------------------------
def _companion_radius(lr, mu, lams):
    r = 0.0
    for lam in lams:
        M = np.array([[1 + mu - lr * lam, -mu], [1.0, 0.0]])
        r = max(r, np.abs(np.linalg.eigvals(M)).max())
    return r


def test_heavy_ball_rate_is_the_spectral_radius_of_the_iteration():
    rng = np.random.default_rng(3)
    lams = [0.7, 3.0, 40.0]
    lr = rng.uniform(1e-3, 0.12, 200)
    mu = rng.uniform(0.0, 0.99, 200)
    got = HB.heavy_ball_rate(lr, mu, lams)
    want = [_companion_radius(a, b, lams) for a, b in zip(lr, mu)]
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)  # eigvals of a defective pair: ~1e-8 off
    assert HB.heavy_ball_rate(0.01, 0.0, [1, 10]) == pytest.approx(0.99)  # plain GD: max |1 − ηλ|


def test_critical_momentum_is_the_fastest_momentum_for_each_learning_rate():
    lams = [1.0, 4.0, 25.0]
    for lr in (0.003, 0.02, 0.05, 0.1):
        b = float(HB.critical_momentum(lr, lams))
        assert b == pytest.approx(max((1 - np.sqrt(lr * l)) ** 2 for l in lams))
        betas = np.linspace(0, 0.999, 4001)
        rates = HB.heavy_ball_rate(lr, betas, lams)
        assert betas[np.argmin(rates)] == pytest.approx(b, abs=5e-4)
        assert rates.min() == pytest.approx(np.sqrt(b), rel=1e-3)  # the rate there is √β*


def test_critical_momentum_against_one_batched_sweep():
    # The fastest β on a fine grid, measured by the steps needed to shrink the loss 10²⁰×, sits at
    # β* in both regimes: set by the slowest eigenvalue (small lr) and by the fastest (large lr).
    f0 = float(Q10.value(X0))
    betas = np.linspace(0.0, 0.95, 191)
    for lr, which in ((0.02, 1.0), (0.3, 10.0)):
        res = optlab.sweep(Q10, "sgd", {"lr": [lr], "momentum": betas}, X0, 2000, target=f0 * 1e-20)
        st = np.where(res.steps_to_tol[0] >= 0, res.steps_to_tol[0], 10 ** 9)
        b_star = float(HB.critical_momentum(lr, [1.0, 10.0]))
        assert b_star == pytest.approx((1 - np.sqrt(lr * which)) ** 2)
        assert abs(betas[np.argmin(st)] - b_star) <= 0.025
        # and the measured rate follows the theory over the whole β range
        short = optlab.sweep(Q10, "sgd", {"lr": [lr], "momentum": betas}, X0, 200, target=0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            emp = (short.final_loss[0] / f0) ** (1 / 400)
        theory = HB.heavy_ball_rate(lr, betas, [1.0, 10.0])
        ok = np.isfinite(emp) & (theory < 0.97)
        assert ok.sum() > 50
        np.testing.assert_allclose(emp[ok], theory[ok], rtol=0.02)


def test_polyak_optimum_is_critically_damped_for_both_extreme_eigenvalues():
    lr, b, rho = HB.polyak_optimum(1.0, 100.0)
    assert lr == pytest.approx(4 / 121) and rho == pytest.approx(9 / 11) and b == pytest.approx(rho ** 2)
    assert (1 - np.sqrt(lr)) ** 2 == pytest.approx(b) == pytest.approx((np.sqrt(100 * lr) - 1) ** 2)
    assert float(HB.heavy_ball_rate(lr, b, [1, 100])) == pytest.approx(rho, rel=1e-6)


def test_stability_limit_separates_converging_and_diverging_runs():
    beta, lam_max = 0.5, 10.0
    limit = float(HB.stability_limit(beta, lam_max))
    assert limit == pytest.approx(0.3)
    res = optlab.sweep(Q10, "sgd", {"lr": [0.97 * limit, 1.03 * limit], "momentum": [beta]}, X0, 3000)
    assert res.diverged_at[0, 0] == -1 and res.diverged_at[1, 0] > 0
    assert float(HB.heavy_ball_rate(0.97 * limit, beta, [1, 10])) < 1 < float(HB.heavy_ball_rate(1.03 * limit, beta, [1, 10]))


def test_steps_to_shrink():
    assert float(HB.steps_to_shrink(0.5, 1024)) == pytest.approx(10)
    assert np.isinf(HB.steps_to_shrink(1.0, 10)) and np.isinf(HB.steps_to_shrink(1.5, 10))
    with pytest.raises(ValueError):
        HB.heavy_ball_rate(0.1, 0.5, [1.0, -2.0])
