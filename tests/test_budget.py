"""Work budgets (optlab.budget) and the engine's use of them: counted, deterministic, said.

* fixed-cost optimizers are cut before they start, at the step the cost model gives, on the fused
  and the general loop alike (same numbers, same cut);
* Newton with line search and BFGS count every evaluation, line-search tries included (checked
  against the optimizer's own record of its backtracks), and stop at a step: the budgeted run is
  exactly the first steps of the unbudgeted one, and it is the same every time;
* sweeps thin their grid (ends kept, not below a floor) before cutting steps; basins coarsen the
  grid of starts; the MLP estimate grows like layers × units² × samples × epochs;
* every cut is a record (what, requested, allowed, why) with one plain sentence.
"""
from __future__ import annotations

import numpy as np
import pytest

import optlab
from optlab import budget as B
from optlab import mlp, optimizers, surfaces
from optlab.budget import Budget, Cut, Meter

GP = surfaces.get("goldstein_price")
X8 = np.random.default_rng(0).uniform(-2, 2, (8, 2))


def test_cut_sentence_and_record():
    c = Cut("steps", 2000, 400, label="8 BFGS runners", unit="step")
    assert c.sentence() == ("8 BFGS runners × 2,000 steps is more than this page computes in one go: "
                            "stopped at step 400.")
    g = Cut("learning rates", 60, 12, label="the learning-rate sweep", unit="learning rate")
    assert g.sentence() == ("The learning-rate sweep with 60 learning rates is more than this page computes "
                            "in one go: 12 learning rates instead.")
    assert c.as_dict() == {"what": "steps", "requested": 2000, "allowed": 400,
                           "why": "more than this page computes in one go", "label": "8 BFGS runners",
                           "unit": "step"}


def test_budget_arithmetic_and_validation():
    b = Budget(10_000, call_cost=10, step_cost=5, run_step_cost=1)
    assert b.cost(3, 40, 2, 8) == 30 + 40 + 2 * (5 + 8)
    # 8 runs, one call per step: start 10 + 8, each step 10 + 8 + 5 + 8 = 31
    assert b.run_steps(10_000, 8) == (10_000 - 18) // 31
    assert b.split(4).evals == 2_500 and b.minus(20_000).evals == 0
    assert b.fit(100, 50, what="epochs") == (100, None)
    n, cut = b.fit(1000, 50, what="epochs", label="the MLP")
    assert n == 200 and cut.requested == 1000 and cut.allowed == 200
    n, cut = b.fit_cost(10**6, lambda k: k * k, what="steps")
    assert n == 100 and cut.allowed == 100
    for bad in (-1, float("nan"), "lots"):
        with pytest.raises(ValueError):
            Budget(bad)
    with pytest.raises(ValueError):
        B.as_budget(True)
    assert B.as_budget(None) is None and B.as_budget(500) == Budget(500, 0, 0, 0)


def test_meter_counts_calls_and_points_and_passes_the_rest():
    m = Meter(GP)
    m.value(np.zeros((5, 2)))
    m.value_and_grad(np.zeros((3, 2)))
    m.hessian(np.zeros((4, 6, 2)))
    m.grad(np.zeros(2))
    assert (m.calls, m.points) == (4, 5 + 3 + 24 + 1)
    assert m.name == GP.name and m.window == GP.window
    assert not hasattr(m, "minibatch_grad")  # the surface has none: neither has its meter


# ------------------------------------------------------------------------------------------------
# run(): fixed cost, cut before starting
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, hyper", [("sgd", {"lr": 1e-6, "momentum": 0.9}), ("adam", {"lr": 0.01}),
                                         ("rmsprop", {"lr": 1e-3}), ("newton", {"damping": 1.0})])
def test_fixed_cost_optimizers_are_cut_before_they_start(name, hyper):
    opt = optimizers.make(name, **hyper)
    b = Budget(20_000)
    calls = optlab.runner.fixed_step_calls(opt)
    expected = b.run_steps(5000, 8, calls_per_step=calls)
    tr = optlab.run(GP, opt, X8, 5000, record="path", budget=b)
    assert expected < 5000
    assert tr.xs.shape == (expected + 1, 8, 2) and tr.losses.shape == (expected + 1, 8)
    assert tr.steps == expected or (tr.diverged.all() and tr.steps < expected)
    assert tr.cut == Cut("steps", 5000, expected, label=f"8 {opt.info.title} runners", unit="step",
                         detail={"runs": 8, "optimizer": name})
    assert tr.work["cost"] <= b.evals
    # and it is the same numbers as an unbudgeted run of that many steps
    ref = optlab.run(GP, opt, X8, expected, record="path")
    np.testing.assert_array_equal(tr.xs, ref.xs)
    # the meter agrees with the cost model (what the general loop would count)
    m = Meter(GP)
    optlab.run(m, opt, X8, expected, record="path")
    assert b.cost(m.calls, m.points, expected, 8) == tr.work["cost"]


def test_fused_and_general_loops_cut_at_the_same_step():
    opt = optimizers.make("adam", lr=np.logspace(-4, -1, 40))
    b = Budget(60_000)
    fused = optlab.run(GP, opt, [-1.0, 1.5], 3000, record="summary", budget=b)
    general = optlab.run(GP, opt, [-1.0, 1.5], 3000, record="path", budget=b)
    assert fused.steps == general.steps == fused.cut.allowed < 3000
    np.testing.assert_array_equal(fused.final_x, general.final_x)


def test_no_budget_changes_nothing():
    opt = optimizers.make("bfgs")
    tr = optlab.run(GP, opt, X8, 50, record="path")
    assert tr.cut is None and tr.work is None and tr.steps == 50 and tr.xs.shape == (51, 8, 2)
    big = optlab.run(GP, opt, X8, 50, record="path", budget=Budget(1e12))
    assert big.cut is None and big.steps == 50
    np.testing.assert_array_equal(big.xs, tr.xs)


# ------------------------------------------------------------------------------------------------
# run(): line searches, counted step by step
# ------------------------------------------------------------------------------------------------
LINE_SEARCHERS = [("bfgs", dict(c1=0.5, shrink=0.9, max_backtracks=60)),
                  ("newton", dict(line_search=True, c1=0.5, shrink=0.9, max_backtracks=60)),
                  ("newton", dict(line_search=True))]


@pytest.mark.parametrize("name, hyper", LINE_SEARCHERS)
def test_line_search_tries_are_counted(name, hyper):
    """Points evaluated = the start, ∇f after each step, f at each step's start (the Armijo
    reference), the Hessian for Newton, and every try of the line search: n_backtracks + 1 per run
    (at most max_backtracks + 1), as the optimizer itself records them."""
    opt = optimizers.make(name, **hyper)
    m = Meter(GP)
    tr = optlab.run(m, opt, X8, 25, record="full")
    assert (tr.diverged_at < 0).all(), "the check assumes no run diverged"
    T = tr.steps  # Newton ends the batch once every run sits at f's rounding floor
    k = tr.states["n_backtracks"][:T]
    k = k[..., 0] if k.ndim == 3 else k
    tries = np.minimum(k + 1, opt.hyper["max_backtracks"] + 1)
    per_step = 2 + (1 if name == "newton" else 0)  # ∇f (with f), f at the start, Hessian
    expected = 8 + per_step * 8 * T + int(tries.sum())  # a stopped run still goes through the step
    assert T >= 5 and m.points == expected
    # with a budget that is not reached, the work record counts the same
    tb = optlab.run(GP, opt, X8, 25, record="full", budget=Budget(1e9))
    assert tb.cut is None and tb.work["evals"] == expected and tb.work["calls"] == m.calls
    assert tb.work["cost"] == Budget(1e9).cost(m.calls, m.points, T, 8)
    assert m.points > (1 + per_step * T) * 8  # the tries are real work


@pytest.mark.parametrize("name, hyper, evals", [(*LINE_SEARCHERS[0], 60_000), (*LINE_SEARCHERS[1], 10_000)])
def test_line_search_runs_stop_at_a_step_and_repeat_exactly(name, hyper, evals):
    opt = optimizers.make(name, **hyper)
    b = Budget(evals)  # Newton's runs reach f's rounding floor by step 14: cut before that
    full = optlab.run(GP, opt, X8, 400, record="path")
    a = optlab.run(GP, opt, X8, 400, record="path", budget=b)
    again = optlab.run(GP, opt, X8, 400, record="path", budget=b)
    k = a.steps
    assert 0 < k < 400 and a.cut.allowed == k and a.cut.requested == 400
    assert again.steps == k
    np.testing.assert_array_equal(a.xs, again.xs)
    np.testing.assert_array_equal(a.xs, full.xs[:k + 1])  # the first k steps of the unbudgeted run
    # within budget, and it stopped for a reason: the largest step so far would not have fitted
    costs = []
    for j in range(k + 1):
        m = Meter(GP)
        optlab.run(m, opt, X8, j, record="path")
        costs.append(b.cost(m.calls, m.points, j, 8))
    assert a.work["cost"] == costs[k] <= b.evals
    assert costs[k] + max(np.diff(costs)) > b.evals


def test_literal_evaluation_budget():
    """budget=N: N point evaluations, nothing else (8 runs: the start, then 8 per SGD step)."""
    tr = optlab.run(GP, optimizers.make("sgd", lr=1e-4), X8, 1000, record="path", budget=1000)
    assert tr.steps == (1000 - 8) // 8
    assert tr.work["evals"] == 8 * (tr.steps + 1) <= 1000


def test_issue_race_is_bounded():
    """The issue's race (8 BFGS × 2,000 steps, c1 = 0.5, shrink = 0.9, 60 backtracks) within a rerun."""
    opt = optimizers.make("bfgs", c1=0.5, shrink=0.9, max_backtracks=60)
    tr = optlab.run(GP, opt, X8, 2000, record="path", budget=Budget())
    assert tr.cut is not None and tr.steps < 2000 and tr.work["cost"] <= B.RERUN
    assert tr.cut.sentence().startswith("8 BFGS runners × 2,000 steps is more than this page computes")


# ------------------------------------------------------------------------------------------------
# Sweeps, basins, MLP
# ------------------------------------------------------------------------------------------------
def test_tune_lr_thins_the_grid_first_then_cuts_steps():
    lrs = optlab.sweeps.lr_grid("adam", 60)
    b = Budget(150_000)
    best, res = optlab.tune_lr(GP, "adam", [-1.0, 1.5], 2000, lrs=lrs, budget=b)
    kept = res.grid["lr"]
    assert 12 <= len(kept) < 60 and kept[0] == lrs[0] and kept[-1] == lrs[-1]
    assert set(kept) <= set(lrs) and best in set(kept)
    assert res.cuts[0].what == "learning rates" and res.cuts[0].allowed == len(kept)
    again = optlab.tune_lr(GP, "adam", [-1.0, 1.5], 2000, lrs=lrs, budget=b)[1]
    np.testing.assert_array_equal(again.final_loss, res.final_loss)
    if len(kept) == 12:  # the floor: then steps are cut too
        assert res.cuts[-1].what == "steps" and res.steps == res.cuts[-1].allowed < 2000
    tiny = optlab.tune_lr(GP, "adam", [-1.0, 1.5], 2000, lrs=lrs, budget=Budget(20_000))[1]
    assert len(tiny.grid["lr"]) == 12 and tiny.steps < 2000 and [c.what for c in tiny.cuts] == [
        "learning rates", "steps"]
    free = optlab.tune_lr(GP, "adam", [-1.0, 1.5], 100, lrs=lrs, budget=Budget())[1]
    assert free.cuts == () and len(free.grid["lr"]) == 60


def test_tune_lr_with_line_searches_is_bounded():
    best, res = optlab.tune_lr(GP, "bfgs", [-1.0, 1.5], 2000, budget=Budget(100_000),
                               fixed={"c1": 0.5, "shrink": 0.9, "max_backtracks": 60})
    assert res.steps < 2000 and res.cuts and res.cuts[-1].what == "steps"


def test_basins_coarsen_the_grid_of_starts():
    sgd = optimizers.make("sgd", lr=1e-5)
    res = optlab.basins(GP, sgd, n=60, steps=300, budget=Budget(200_000))
    assert 16 <= res.n < 60 and res.basin.shape == (res.n, res.n)
    assert res.cuts[0].what == "starts per side" and res.cuts[0].allowed == res.n
    free = optlab.basins(GP, sgd, n=10, steps=20, budget=Budget())
    assert free.n == 10 and free.cuts == ()


def test_mlp_cost_grows_like_layers_units_squared_samples_epochs():
    def cost(depth, width, n, epochs):  # one record: the training passes alone
        return mlp.train_cost(mlp.MLPConfig(depth=depth, width=width), n, epochs=epochs, batch_size=50,
                              record_every=10**9)

    base = cost(10, 128, 1000, 10)  # big enough for the multiply-adds to dominate
    assert cost(20, 128, 1000, 10) == pytest.approx(2 * base, rel=0.15)
    assert cost(10, 256, 1000, 10) == pytest.approx(4 * base, rel=0.2)
    assert cost(10, 128, 2000, 10) == pytest.approx(2 * base, rel=0.15)
    assert cost(10, 128, 1000, 20) == pytest.approx(2 * base, rel=0.15)
    assert cost(10, 8, 1000, 10) < cost(10, 16, 1000, 10) < cost(10, 32, 1000, 10)
    steps, cut = Budget().fit_cost(
        3000, lambda k: mlp.train_cost(mlp.MLPConfig(depth=30, width=32), 1000, steps=k), what="steps",
        label="An MLP of 30 layers × 32 units", unit="step")
    assert 0 < steps < 3000 and cut.sentence().startswith("An MLP of 30 layers × 32 units × 3,000 steps")
