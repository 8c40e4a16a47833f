"""Teaching variants (Adam without bias correction, textbook momentum), checked against hand loops
and against torch's conventions they switch off."""
from __future__ import annotations

import numpy as np
import pytest

import optlab
from optlab import optimizers as O
from optlab.errors import UnknownNameError
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
