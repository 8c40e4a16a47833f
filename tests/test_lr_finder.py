"""The learning-rate range test on problems whose answer is known: gradient descent on a quadratic
diverges exactly above 2/λ_max."""
from __future__ import annotations

import numpy as np
import pytest

import optlab
from optlab import data
from optlab.lr_finder import exponential_range, lr_range_test
from optlab.theory import curvature_limit

X0 = np.array([-2.5, 1.5])


def test_isotropic_bowl_closed_form():
    # f = ½‖θ‖² (κ = 1, λ = 1): each GD step multiplies the loss by (1 − γ)², so the whole curve,
    # its lowest point (the last γ ≤ 2) and the stop (the first loss > 4× the lowest) are known.
    q = optlab.surfaces.get("quadratic", condition=1)
    rt = lr_range_test(q, "sgd", X0, lr_min=1e-3, lr_max=10.0, steps=80)
    lrs = 1e-3 * (1e4) ** (np.arange(80) / 79)
    f0 = float(q.value(X0))
    want = f0 * np.cumprod((1 - lrs) ** 2)
    n = len(rt.losses)
    np.testing.assert_allclose(rt.lrs, lrs[:n], rtol=1e-14)
    np.testing.assert_allclose(rt.losses, want[:n], rtol=1e-9)
    assert rt.start_loss == pytest.approx(f0)
    assert rt.best_lr <= 2.0 < lrs[rt.best_index + 1]
    assert rt.stopped_at == n - 1
    stop = next(k for k in range(1, 80) if want[k] > 4 * want[:k].min())
    assert rt.stopped_at == stop and rt.stop_lr > 2.0
    # both suggestions are safe learning rates here
    assert rt.suggestion("steepest") < 2.0 and rt.suggestion("min/10") < 2.0
    assert rt.suggestion("min/10") == pytest.approx(rt.best_lr / 10)
    assert "4×" in rt.message and f"{rt.stop_lr:.3g}" in rt.message


@pytest.mark.parametrize("kappa", [3, 10, 50])
def test_loss_cannot_rise_below_the_divergence_threshold(kappa):
    # |1 − γλ| ≤ 1 for every eigenvalue while γ ≤ 2/λ_max: the loss never increases there, so the
    # test can only stop above the threshold
    q = optlab.surfaces.get("quadratic", condition=kappa, angle=30)
    rt = lr_range_test(q, "sgd", X0, lr_min=1e-4, lr_max=10.0, steps=150)
    thr = curvature_limit(q, X0)
    assert thr == pytest.approx(2.0 / kappa)
    below = rt.lrs <= thr
    assert np.all(np.diff(np.concatenate([[rt.start_loss], rt.losses])[: below.sum() + 1]) <= 1e-12)
    assert rt.stop_lr is not None and rt.stop_lr > thr


def test_momentum_threshold_and_steepest_rule():
    q = optlab.surfaces.get("quadratic", condition=4)
    assert curvature_limit(q, X0, momentum=0.5) == pytest.approx(2 * 1.5 / 4)
    rt = lr_range_test(q, "sgd", X0, lr_min=1e-4, lr_max=3.0, steps=60, smooth=0.5)
    i = rt.steepest_index
    assert 0 <= i <= rt.best_index
    slope = np.gradient(rt.smoothed[: rt.best_index + 1], np.log(rt.lrs[: rt.best_index + 1]))
    assert i == int(np.argmin(slope)) and rt.suggestion("steepest") == pytest.approx(rt.lrs[i])


def test_smoothing_is_debiased_exponential_average():
    q = optlab.surfaces.get("quadratic", condition=1)
    rt = lr_range_test(q, "sgd", X0, lr_min=1e-4, lr_max=1e-3, steps=20, smooth=0.9)
    avg, want = 0.0, []
    for k, l in enumerate(rt.losses):
        avg = 0.9 * avg + 0.1 * l
        want.append(avg / (1 - 0.9 ** (k + 1)))
    np.testing.assert_allclose(rt.smoothed, want, rtol=1e-13)
    assert rt.stopped_at == -1 and rt.stop_lr is None and "never" in rt.message


def test_schedule_is_the_runner_schedule():
    s = exponential_range(1e-3, 1.0, 4)
    assert [s(1e-3, k) for k in range(4)] == pytest.approx([1e-3, 1e-2, 1e-1, 1.0])
    q = optlab.surfaces.get("quadratic", condition=2)
    tr = optlab.run(q, optlab.optimizers.make("sgd", lr=1e-3), X0, 4, schedule=s)
    np.testing.assert_allclose(tr.lrs, [1e-3, 1e-2, 1e-1, 1.0], rtol=1e-12)


def test_linear_regression_with_mini_batches():
    x, y = data.make_line(n=120, noise=0.5, seed=1)
    s = optlab.surfaces.from_data(x, y, "mse")
    X = np.stack([x, np.ones_like(x)], 1)
    lam_max = np.linalg.eigvalsh(2 * X.T @ X / len(x)).max()   # Hessian of the mean squared error
    assert curvature_limit(s, s.starts[0]) == pytest.approx(2 / lam_max, rel=1e-9)
    a = lr_range_test(s, "sgd", s.starts[0], lr_min=1e-4, lr_max=10.0, steps=100, batch_size=8, smooth=0.9, seed=4)
    b = lr_range_test(s, "sgd", s.starts[0], lr_min=1e-4, lr_max=10.0, steps=100, batch_size=8, smooth=0.9, seed=4)
    np.testing.assert_array_equal(a.losses, b.losses)  # seeded
    assert a.stop_lr is not None and a.suggestion("min/10") < 2 / lam_max


def test_adaptive_optimizer_and_bad_arguments():
    q = optlab.surfaces.get("quadratic", condition=10)
    rt = lr_range_test(q, "adam", X0, lr_min=1e-4, lr_max=30.0, steps=100)
    assert rt.optimizer == "adam" and rt.stop_lr is not None  # Adam's steps ≈ γ: it overshoots once γ ~ the distance
    for kw in (dict(lr_min=1.0, lr_max=0.1), dict(lr_min=0.0), dict(steps=2), dict(smooth=1.0), dict(diverge_factor=1.0)):
        with pytest.raises(ValueError):
            lr_range_test(q, "sgd", X0, **kw)
    with pytest.raises(ValueError):
        rt.suggestion("valley")
