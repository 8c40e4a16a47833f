"""optlab.sweeps: one batched call over a grid equals the loop of single runs; tune_lr, basins and
steps_to_tolerance."""
from __future__ import annotations

import numpy as np
import pytest

import optlab
from optlab import optimizers as O
from optlab import surfaces as S
from optlab.sweeps import steps_to_tolerance


def test_sweep_over_learning_rates_is_one_batched_call_equal_to_loop():
    q = S.get("quadratic", condition=10)
    lrs = np.logspace(-3, 0, 12)
    res = optlab.sweep(q, "sgd", {"lr": lrs}, [2.0, 1.0], 100)
    assert res.final_loss.shape == (12,)
    for i in (0, 5, 11):
        tr = optlab.run(q, O.make("sgd", lr=float(lrs[i])), [2.0, 1.0], 100)
        if tr.diverged:
            assert res.diverged_at[i] == tr.diverged_at
        else:
            assert res.final_loss[i] == pytest.approx(tr.final_loss, rel=1e-12)
    # GD on κ=10 diverges iff η > 2/λ_max = 0.2
    assert np.all(res.diverged[lrs > 0.21]) and not np.any(res.diverged[lrs < 0.19])


def test_sweep_two_dimensional_grid_phase_diagram():
    q = S.get("quadratic", condition=20)
    res = optlab.sweep(q, "sgd", {"lr": np.logspace(-3, -1, 5), "momentum": np.linspace(0, 0.95, 4)},
                       [2.0, 1.0], 150)
    assert res.final_loss.shape == (5, 4) and res.grid["momentum"].shape == (5, 4)
    best = res.best()
    assert set(best) >= {"lr", "momentum", "final_loss", "steps_to_tol"}


def test_tune_lr_picks_a_converging_rate():
    q = S.get("quadratic", condition=10)
    lr, res = optlab.tune_lr(q, "sgd", [2.0, 1.0], 100)
    assert lr < 0.2  # stable
    tr = optlab.run(q, O.make("sgd", lr=lr), [2.0, 1.0], 100)
    assert tr.final_loss < optlab.run(q, O.make("sgd"), [2.0, 1.0], 100).final_loss


def test_basins_of_himmelblau():
    if "himmelblau" not in S.names():
        pytest.skip("himmelblau surface not registered yet")
    h = S.get("himmelblau")
    b = optlab.basins(h, O.make("sgd", lr=0.01), n=12, steps=400)
    assert b.basin.shape == (12, 12)
    assert len(set(b.basin[b.basin >= 0].ravel())) == 4  # all four minima have a basin


# ----------------------------------------------------------------------------------------------


def test_steps_to_tolerance_is_the_first_step_within_tol():
    q = S.get("quadratic", condition=2)
    tr = optlab.run(q, O.make("sgd", lr=0.5), [2.0, 1.0], 30, record="path")
    k = steps_to_tolerance(q, tr, 1e-6)
    assert k > 0 and tr.losses[k] <= 1e-6 < tr.losses[k - 1]
    assert steps_to_tolerance(q, tr, 1e-300) == -1
    unknown = S.Surface(name="bowl", title="bowl", latex="", f=lambda x, y: x * x + y * y,
                        df=lambda x, y: (2 * x, 2 * y), d2f=lambda x, y: (2 + 0 * x, 0 * x, 2 + 0 * x),
                        window=((-1, 1), (-1, 1)))                  # no known minimum value
    assert steps_to_tolerance(unknown, optlab.run(unknown, "sgd", [1.0, 1.0], 5), 10.0) == -1
