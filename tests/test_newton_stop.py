"""Newton ends a run at f's rounding floor, and never sooner (issue 13).

Damped Newton with a line search on Goldstein–Price used to spend ~990 of 1000 steps wandering at
the minimum: once the predicted decrease |gᵀd| is below f's rounding the Armijo test compares f
with itself and accepts or refuses steps at random. Now the line search lets f rise within its
rounding there, and the run stops (``stopped_at``, ``stop_reason``, ``message``) once the predicted
decrease no longer shrinks at a positive definite Hessian.
"""
from __future__ import annotations

import numpy as np
import pytest

import optlab
from optlab import optimizers, surfaces
from optlab.chapters import newton as qm
from optlab.optimizers import second_order

LM1 = {"line_search": True, "damping": 1.0}


def _moving_steps(tr):
    return int(np.sum(np.any(np.diff(tr.xs, axis=0) != 0, axis=-1)))


@pytest.mark.parametrize("x0, f_min", [((-1.5, 1.5), 30.0), ((1.0, 1.6), 840.0)])
def test_damped_newton_ends_at_the_minimum_of_goldstein_price(x0, f_min):
    # before: 1000 steps, 988 of them moving at the floor (from (−1.5, 1.5)); or stuck at ‖∇f‖ = 2.6e-7
    # with every later step refused or accepted at random (from (1.0, 1.6), f = 840)
    s = surfaces.get("goldstein_price")
    tr = optlab.run(s, optimizers.make("newton", **LM1), x0, 1000, record="path")
    assert 0 < tr.stopped_at <= 20 and tr.steps == tr.stopped_at
    assert _moving_steps(tr) <= tr.stopped_at
    assert f"Newton stopped at step {tr.stopped_at}: " in tr.message and tr.stop_reason in tr.message
    assert tr.final_loss == pytest.approx(f_min, rel=1e-13)
    assert tr.grad_norms[tr.steps] <= 1e-8  # steps are no longer refused by noise: ‖∇f‖ reaches its floor
    assert np.linalg.eigvalsh(s.hessian(tr.final_x[None]))[0, 0] > 0
    assert np.all(tr.xs[tr.stopped_at:] == tr.final_x)  # frozen after the stop, as a converged run is


def test_the_message_says_f_is_at_its_rounding_floor():
    # damped Newton at a local minimum of Rastrigin (f ≈ 9.95): used to move for all 500 steps
    s = surfaces.get("rastrigin")
    tr = optlab.run(s, optimizers.make("newton", line_search=True), (-1.4, -0.6), 500, record="path")
    assert 0 < tr.stopped_at <= 12
    assert tr.stop_reason.startswith("f is at its rounding floor: the predicted decrease |gᵀd| = ")
    assert "no longer shrinks, at a positive definite Hessian" in tr.message
    assert tr.final_loss == pytest.approx(9.9495602985803018, rel=1e-15)


def test_a_step_that_changes_nothing_ends_the_run():
    # pure Newton lands exactly on the bowl's minimum: the next step is 0, and so would every later one be
    s = surfaces.get("quadratic")
    tr = optlab.run(s, optimizers.make("newton"), (1.0, 2.0), 50, record="path")
    assert tr.stopped_at == 2 and tr.stop_reason == second_order.STOP_FIXED
    assert np.all(tr.final_x == 0.0)


def test_batched_runs_stop_one_by_one_and_the_message_counts_them():
    s = surfaces.get("goldstein_price")
    X = np.array(s.starts, dtype=float)
    tr = optlab.run(s, optimizers.make("newton", **LM1), X, 300, record="summary")
    assert np.all(tr.stopped_at > 0)
    assert f"{len(X)} stopped at f's rounding floor" in tr.message
    big = optlab.run(s, optimizers.make("newton", **LM1), np.repeat(X, 2, axis=0), 300, record="summary")
    np.testing.assert_array_equal(big.stopped_at, np.repeat(tr.stopped_at, 2))


def test_the_stop_waits_for_deterministic_steps():
    # with noisy gradients or a schedule a step that changes nothing now may change something later
    s = surfaces.get("quadratic")
    noisy = optlab.run(s, optimizers.make("newton"), (1.0, 2.0), 30, noise=1e-3, seed=1, record="path")
    assert noisy.stopped_at == -1 and noisy.steps == 30
    sched = optlab.run(s, optimizers.make("newton"), (1.0, 2.0), 30, schedule="cosine", record="path")
    assert sched.stopped_at == -1


VARIANTS = [{"line_search": True}, {"line_search": True, "lr": 0.5}, {"line_search": False},
            {"line_search": True, "damping": 0.1}, {"line_search": True, "damping": 1.0},
            {"line_search": True, "damping": 3.0, "min_curvature": 1.0},
            {"line_search": True, "damping": 10.0}, {"line_search": True, "damping": 1.0, "min_curvature": 0.1}]


@pytest.mark.parametrize("name", surfaces.names())
def test_no_surface_or_variant_stops_before_the_tolerance(name, monkeypatch):
    """Every run that reached ‖∇f‖ ≤ 1e-8 without the rounding stop still reaches it, no later; a
    run stopped at the floor sits at a positive definite Hessian."""
    s = surfaces.get(name)
    (x0, x1), (y0, y1) = s.window
    rng = np.random.default_rng(3)
    X = np.array(list(s.starts) + [(rng.uniform(x0, x1), rng.uniform(y0, y1)) for _ in range(5)], dtype=float)
    for hyper in VARIANTS:
        opt = optimizers.make("newton", **hyper)
        new = optlab.run(s, opt, X, 200, tol=1e-8, record="summary")
        with monkeypatch.context() as m:
            m.setattr(second_order, "ROUNDING", 0.0)  # no slack, no rounding stop: the line search as before
            old = optlab.run(s, opt, X, 200, tol=1e-8, record="summary")
        reached = old.converged_at >= 0
        assert np.all(new.converged_at[reached] >= 0), (hyper, old.converged_at, new.converged_at)
        assert np.all(new.converged_at[reached] <= old.converged_at[reached]), hyper
        floor = new.stop_reason != ""
        floor &= new.stop_reason != second_order.STOP_FIXED
        if floor.any():
            lam = np.linalg.eigvalsh(s.hessian(new.final_x[floor]))
            assert np.all(lam[:, 0] > 0), hyper


def test_line_search_trace_follows_the_engine_at_the_floor():
    s = surfaces.get("goldstein_price")
    opt = optimizers.make("newton", **LM1)
    tr = optlab.run(s, opt, (-1.5, 1.5), 40, record="full")
    h = opt.hyper
    blind = 0
    for k in range(tr.steps):
        t = qm.line_search_trace(s, tr.xs[k], tr.states["direction"][k], h["lr"], h["c1"], h["shrink"],
                                 h["max_backtracks"])
        assert t.step == tr.states["step_length"][k, 0]
        assert t.n_backtracks == tr.states["n_backtracks"][k, 0]
        blind += bool(second_order.rounding_slack(t.slope, t.f0))
    assert blind >= 2  # the last steps were taken at the floor, with the rounding slack
