"""Teaching variants (Adam without bias correction, textbook momentum) and the heavy-ball theory
behind the momentum phase diagram, checked against hand loops, eigenvalues and one batched sweep."""
from __future__ import annotations

import numpy as np
import pytest

import optlab
from optlab import optimizers as O
from optlab.errors import UnknownNameError
from optlab import momentum as HB
from optlab.optimizers import variants as V

Q10 = optlab.surfaces.get("quadratic", condition=10)
X0 = np.array([-2.5, 1.5])


# ----------------------------------------------------------------------------------------------
# Variants
# ----------------------------------------------------------------------------------------------
def test_variants_are_not_registered():
    for name in V.variant_names():
        assert name not in O.names()
        with pytest.raises(UnknownNameError):
            O.make(name)
    with pytest.raises(UnknownNameError):
        V.variant("adam_without_anything")
    assert V.base_of("adam_no_bias_correction") == "adam" and V.base_of("sgd_textbook_momentum") == "sgd"


def test_adam_without_bias_correction_equals_hand_loop():
    lr, b1, b2, eps = 0.1, 0.8, 0.99, 1e-8
    tr = optlab.run(Q10, V.variant("adam_no_bias_correction", lr=lr, betas=(b1, b2), eps=eps), X0, 5)
    x, m, v = X0.copy(), np.zeros(2), np.zeros(2)
    for k in range(5):
        g = Q10.grad(x)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        x = x - lr * m / (np.sqrt(v) + eps)
        np.testing.assert_allclose(tr.xs[k + 1], x, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(tr.states["exp_avg"][-1], m, rtol=1e-13)
    np.testing.assert_allclose(tr.states["denom"][-1], np.sqrt(v) + eps, rtol=1e-13)


def test_adam_without_bias_correction_l2_and_validation():
    tr = optlab.run(Q10, V.variant("adam_no_bias_correction", lr=0.1, weight_decay=0.5), X0, 1)
    g = Q10.grad(X0) + 0.5 * X0
    step = -0.1 * (0.1 * g) / (np.sqrt(0.001 * g * g) + 1e-8)
    np.testing.assert_allclose(tr.updates[0], step, rtol=1e-12)
    with pytest.raises(ValueError, match="beta"):
        V.variant("adam_no_bias_correction", betas=(1.2, 0.9))
    with pytest.raises(ValueError, match="amsgrad"):
        V.variant("adam_no_bias_correction", amsgrad=True)


@pytest.mark.parametrize("b1,b2", [(0.9, 0.999), (0.5, 0.9), (0.0, 0.99)])
def test_uncorrected_step_factor_for_a_steady_gradient(b1, b2):
    # a constant gradient: Adam moves γ·sign(g) every step, the raw variant (1−β₁ᵗ)/√(1−β₂ᵗ) times that
    T = 40
    g = np.array([[3.0, -0.02]])
    a, raw = O.make("adam", lr=0.1, betas=(b1, b2), eps=1e-14), V.variant(
        "adam_no_bias_correction", lr=0.1, betas=(b1, b2), eps=1e-14)
    p = np.zeros((1, 2))
    sa, sr = a.init(p), raw.init(p)
    for t in range(1, T + 1):
        ua, sa = a.update(g, sa, p)
        ur, sr = raw.update(g, sr, p)
        np.testing.assert_allclose(ua, -0.1 * np.sign(g), rtol=1e-10)
        np.testing.assert_allclose(ur / ua, V.uncorrected_step_factor(b1, b2, t), rtol=1e-10)
    assert V.uncorrected_step_factor(0.9, 0.999, 1) == pytest.approx(0.1 / np.sqrt(0.001))


def test_textbook_momentum_matches_torch_while_lr_is_constant_and_not_after_a_drop():
    torch_like = optlab.run(Q10, O.make("sgd", lr=0.05, momentum=0.9), X0, 60)
    textbook = optlab.run(Q10, V.variant("sgd_textbook_momentum", lr=0.05, momentum=0.9), X0, 60)
    np.testing.assert_allclose(textbook.xs, torch_like.xs, rtol=1e-12, atol=1e-14)

    sched = optlab.schedules.get("step", step_size=10, gamma=0.1)
    tb = optlab.run(Q10, V.variant("sgd_textbook_momentum", lr=0.05, momentum=0.9), X0, 20, schedule=sched)
    x, v = X0.copy(), np.zeros(2)
    for k in range(20):
        lr = 0.05 * 0.1 ** (k // 10)
        v = 0.9 * v + lr * Q10.grad(x)
        x = x - v
        np.testing.assert_allclose(tb.xs[k + 1], x, rtol=1e-12, atol=1e-14)
    tt = optlab.run(Q10, O.make("sgd", lr=0.05, momentum=0.9), X0, 20, schedule=sched)
    np.testing.assert_allclose(tt.xs[:11], tb.xs[:11], rtol=1e-12, atol=1e-14)
    assert np.abs(tt.xs[12] - tb.xs[12]).max() > 1e-3  # the two conventions part at the first drop


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


# ----------------------------------------------------------------------------------------------
# Where Adam with L2 stops
# ----------------------------------------------------------------------------------------------
def test_l2_minimum_is_where_adam_with_l2_stops():
    s = optlab.surfaces.get("booth")
    lam = 0.3
    p = V.l2_minimum(s, lam, s.minima[0])
    np.testing.assert_allclose(s.grad(p[None])[0] + lam * p, 0.0, atol=1e-10)
    tr = optlab.run(s, O.make("adam", lr=0.02, weight_decay=lam), s.starts[0], 3000)
    assert np.linalg.norm(tr.final_x - p) < 1e-3
    w = optlab.run(s, O.make("adamw", lr=0.02, weight_decay=lam), s.starts[0], 3000)
    assert np.linalg.norm(w.final_x - p) > 0.05  # decoupled decay is not an L2 penalty for Adam
    with pytest.raises(ValueError):
        V.l2_minimum(s, -1.0, p)
