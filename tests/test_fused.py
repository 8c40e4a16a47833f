"""The fused kernels and the fused loop (summary and path runs) give the chain's numbers, bit for bit.

The chain transforms are checked against torch.optim (test_optimizers.py); everything here checks
the fast path against them with ``assert_array_equal``, never a tolerance.  The reference is the
general loop itself: :func:`general` runs ``optlab.run`` with the fused loop switched off.
"""
from __future__ import annotations

import threading
from unittest import mock

import numpy as np
import pytest

import optlab
import optlab.runner as R
from optlab import optimizers as O
from optlab import surfaces as S
from optlab.optimizers import fused, loop

B7 = 7
CONFIGS = [
    ("sgd", dict(lr=0.01)),
    ("sgd", dict(lr=0.01, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("sgd", dict(lr=0.02, momentum=0.8, dampening=0.3, maximize=True)),
    ("sgd", dict(lr=np.geomspace(1e-4, 1, B7), momentum=np.linspace(0, 0.95, B7))),
    ("adam", dict(lr=0.05)),
    ("adam", dict(lr=0.3, amsgrad=True, weight_decay=0.1)),
    ("adam", dict(lr=0.1, betas=(0.6, 0.9), maximize=True)),
    ("adam", dict(lr=0.05, decoupled_weight_decay=True, weight_decay=0.3)),
    ("adam", dict(lr=np.geomspace(1e-3, 3, B7))),
    ("adamw", dict(lr=0.05)),
    ("adamw", dict(lr=np.geomspace(1e-3, 1, B7), weight_decay=0.5, amsgrad=True)),
    ("adagrad", dict(lr=0.5, lr_decay=0.01, initial_accumulator_value=0.1)),
    ("adagrad", dict(lr=np.geomspace(1e-2, 10, B7), weight_decay=0.2, maximize=True)),
    ("rmsprop", dict(lr=0.01)),
    ("rmsprop", dict(lr=0.01, centered=True, momentum=0.9, alpha=0.3)),
    ("rmsprop", dict(lr=np.geomspace(1e-3, 1, B7), centered=True, alpha=np.linspace(0.2, 0.99, B7),
                     momentum=np.linspace(0, 0.9, B7))),
    ("nadam", dict(lr=0.05)),
    ("nadam", dict(lr=0.1, betas=(0.6, 0.9), momentum_decay=0.1, weight_decay=0.1, maximize=True)),
    ("nadam", dict(lr=np.geomspace(1e-3, 1, B7), weight_decay=0.3, decoupled_weight_decay=True)),
    ("radam", dict(lr=0.05)),
    ("radam", dict(lr=0.1, betas=(0.6, 0.5), weight_decay=0.1)),  # ρ∞ = 3: never rectified
    ("radam", dict(lr=np.geomspace(1e-3, 1, B7), betas=(0.9, 0.99), weight_decay=0.2,
                   decoupled_weight_decay=True, maximize=True)),
    ("adadelta", dict(lr=1.0)),
    ("adadelta", dict(lr=0.5, rho=0.3, eps=1e-3, weight_decay=0.1, maximize=True)),
    ("adadelta", dict(lr=np.geomspace(1e-2, 10, B7), rho=np.linspace(0.2, 0.99, B7), eps=np.geomspace(1e-8, 1e-2, B7))),
]
SUMMARY_KEYS = ("final_x", "final_loss", "best_loss", "diverged_at", "reached_at", "converged_at", "steps")
PATH_KEYS = ("xs", "losses", "grad_norms", "lrs") + SUMMARY_KEYS


@pytest.fixture(autouse=True)
def poisoned_records(monkeypatch):
    """Every path's records come from a pooled buffer full of a stale run's numbers, as a reused
    buffer of :data:`fused.RECORDS` would be: a cell the loop forgets to write (a row after an early
    stop, a diverged run's tail) then shows a number where the general loop has its own, and the
    comparisons below fail.  (A fresh page from the kernel would hide it as a 0.)"""
    pool = fused.RecordPool(min_floats=1)  # every path's records through the pool
    take = pool.take

    def stale(n):
        buf = take(n)
        buf.fill(-123.25)
        return buf

    monkeypatch.setattr(pool, "take", stale)
    monkeypatch.setattr(fused, "RECORDS", pool)
    return pool


def general(*args, **kw):
    """``optlab.run`` through the general loop (the fused loop switched off): the reference."""
    with mock.patch.object(loop, "plan", return_value=None):
        return optlab.run(*args, **kw)


def starts(s, n, seed=0):
    rng = np.random.default_rng(seed)
    (x0, x1), (y0, y1) = s.window
    return np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)])


def assert_same(a, b, keys=SUMMARY_KEYS):
    for k in keys:
        x, y = np.asarray(getattr(a, k)), np.asarray(getattr(b, k))
        assert x.shape == y.shape, k
        np.testing.assert_array_equal(x, y, err_msg=k)
    assert (list(np.asarray(a.diverged_reason, dtype=object).reshape(-1))
            == list(np.asarray(b.diverged_reason, dtype=object).reshape(-1)))


def assert_same_summary(a, b):
    assert_same(a, b, SUMMARY_KEYS)


def assert_same_path(a, b):
    assert_same(a, b, PATH_KEYS)
    assert a.grads is a.updates is b.grads is b.updates is None and a.states == b.states == {}


def spy(monkeypatch):
    """Count which loop ran: the fused one (summary or path records) or the general one."""
    calls = {"summary": 0, "path": 0, "general": 0}
    depth = threading.local()  # a single summary run calls the loop again as two copies of itself

    def counting(kind, fn):
        def f(*a, **k):
            depth.n = getattr(depth, "n", 0) + 1
            try:
                res = fn(*a, **k)
            finally:
                depth.n -= 1
            if depth.n == 0 and res is not None:
                calls[kind] += 1
            return res
        return f

    monkeypatch.setattr(loop, "run_fused", counting("summary", loop.run_fused))
    monkeypatch.setattr(loop, "run_fused_path", counting("path", loop.run_fused_path))
    monkeypatch.setattr(R, "_run_block", counting("general", R._run_block))
    return calls


@pytest.mark.parametrize("name,hyper", CONFIGS, ids=lambda v: v if isinstance(v, str) else None)
@pytest.mark.parametrize("schedule,target", [(None, None), ("cosine", 0.1)])
def test_fused_summary_and_path_equal_the_general_loop_on_every_surface(name, hyper, schedule, target):
    opt = O.make(name, **hyper)
    for sname in S.names():
        s = S.get(sname)
        X = starts(s, B7)
        kw = dict(schedule=schedule, target=target)
        ref = general(s, opt, X, 60, record="path", **kw)
        assert_same_summary(optlab.run(s, opt, X, 60, record="summary", **kw), ref)
        assert_same_path(optlab.run(s, opt, X, 60, record="path", **kw), ref)
        assert_same_path(optlab.run(s, opt, X[3], 60, record="path", **kw),
                         general(s, opt, X[3], 60, record="path", **kw))


def test_the_fused_loop_is_the_one_that_ran(monkeypatch):
    calls = spy(monkeypatch)
    s = S.get("rosenbrock")
    X = starts(s, 5)
    optlab.run(s, O.make("adam", lr=0.01), X, 20, record="summary")
    assert calls == {"summary": 1, "path": 0, "general": 0}
    for name in ("sgd", "adam", "adamw", "adagrad", "rmsprop", "adadelta", "nadam", "radam"):
        optlab.run(s, O.make(name), X, 20, record="path")
        optlab.run(s, O.make(name), X[0], 20, record="path", schedule="cosine", target=1.0)
    assert calls == {"summary": 1, "path": 16, "general": 0}
    # what the kernels do not cover goes through the general loop
    optlab.run(s, O.make("adam", betas=(np.full(5, 0.9), 0.999)), X, 20, record="summary")
    optlab.run(s, O.make("nadam", momentum_decay=np.full(5, 0.004)), X, 20, record="path")
    optlab.run(s, O.make("adam"), X, 20, record="summary", tol=1e-3)
    optlab.run(s, O.make("adam"), X, 20, record="path", noise=0.1)
    optlab.run(s, O.make("adam"), X, 20, record="path", clip_norm=1.0)
    optlab.run(s, O.make("adam"), X, 20, record="path", clip_value=1.0)
    optlab.run(s, O.make("adam"), X, 20, record="full")
    optlab.run(s, O.make("newton"), X, 5, record="path")
    assert calls == {"summary": 1, "path": 16, "general": 8}


def test_plan_names_the_loop():
    kw = dict(noise=0.0, batch_size=None, clip_norm=None, clip_value=None, tol=None, budget=None)
    adam = O.make("adam")
    assert loop.plan(adam, "path", 2, 10, 100, kw) == "path"
    assert loop.plan(adam, "summary", 5, 10, 100, kw) == "summary"
    assert loop.plan(adam, "path", 3, 10, 100, kw) is None  # D ≠ 2: the general loop's einsum norm
    assert loop.plan(adam, "full", 2, 10, 100, kw) is None
    assert loop.plan(O.make("bfgs"), "path", 2, 10, 100, kw) is None
    for k, v in dict(noise=0.1, batch_size=4, clip_norm=1.0, clip_value=1.0, tol=1e-6,
                     budget=optlab.budget.as_budget(10 ** 6)).items():
        assert loop.plan(adam, "summary", 2, 10, 100, dict(kw, **{k: v})) is None, k


def test_a_budget_cuts_fused_runs_where_it_cuts_general_ones(monkeypatch):
    """A first-order run's budget is a number of steps, fixed before either loop starts; a surface
    wrapped in the budget's Meter is evaluated through its counted value_and_grad."""
    calls = spy(monkeypatch)
    s = S.get("rosenbrock")
    X = starts(s, 30)
    for record in ("summary", "path"):
        a = optlab.run(s, O.make("nadam"), X, 5000, record=record, budget=20_000)
        b = general(s, O.make("nadam"), X, 5000, record=record, budget=20_000)
        assert a.cut is not None and a.steps == a.cut.allowed < 5000
        assert a.cut == b.cut and a.work == b.work
        (assert_same_path if record == "path" else assert_same_summary)(a, b)
    assert calls == {"summary": 1, "path": 1, "general": 2}
    m = optlab.budget.Meter(s)
    metered = optlab.run(m, O.make("nadam"), X, 40, record="path")
    assert_same_path(metered, general(s, O.make("nadam"), X, 40, record="path"))
    assert calls["path"] == 2 and m.calls == 41 and m.points == 41 * 30


def test_diverging_runs_are_cut_with_the_general_loops_step_reason_and_best(monkeypatch):
    calls = spy(monkeypatch)
    s = S.get("rosenbrock")
    X = starts(s, 60, seed=2)
    opt = O.make("adam", lr=np.geomspace(1e-3, 1e3, 60))
    a = optlab.run(s, opt, X, 100, record="summary", target=1e-2)
    p = optlab.run(s, opt, X, 100, record="path", target=1e-2)
    b = general(s, opt, X, 100, record="path", target=1e-2)
    assert calls == {"summary": 1, "path": 1, "general": 1}
    assert a.diverged.any() and not a.diverged.all()
    assert_same_summary(a, b)
    assert_same_path(p, b)
    assert np.isnan(a.final_x[a.diverged]).all() and np.isfinite(a.final_x[~a.diverged]).all()
    k = p.diverged_at[p.diverged]  # NaN from the step a run diverged on, finite before
    assert np.isnan(p.losses[k.min():, p.diverged]).any() and np.isfinite(p.losses[:k.min()]).all()


def test_divergence_reasons_are_in_the_language_of_the_run(monkeypatch):
    """Fused summary (threaded blocks too), fused path and general loop write the same reasons, in
    the caller's language."""
    s = optlab.surfaces.from_formula("log(x + 2) + y**2")  # undefined for x ≤ −2
    X = np.tile(np.array([[0.0, 1.0], [1.5, -1.0], [0.5, 0.5], [1.0, 2.5]]), (50, 1))
    opt = O.make("sgd", lr=np.tile([3.0, 0.01, 2.5, 0.4], 50))
    monkeypatch.setattr(loop, "FUSED_SPLIT", 100)
    monkeypatch.setattr(loop, "FUSED_CHUNK", 64)
    with optlab.i18n.using("zh_CN"):
        ref = general(s, opt, X, 30, record="path", bound=2.0)
        assert_same_summary(optlab.run(s, opt, X, 30, record="summary", bound=2.0), ref)
        assert_same_path(optlab.run(s, opt, X, 30, record="path", bound=2.0), ref)
    reasons = set(ref.diverged_reason) - {""}
    # blown up (NaN), left the window, and a start already outside it ([1, 2.5] with bound 2)
    assert len(reasons) == 3 and not any(r.isascii() for r in reasons)


def test_a_loss_that_turns_undefined_is_flagged_at_the_same_step():
    s = optlab.surfaces.from_formula("log(x + 2) + y**2")  # undefined for x ≤ −2
    X = np.array([[0.0, 1.0], [1.5, -1.0], [0.5, 0.5]])
    opt = O.make("sgd", lr=np.array([3.0, 0.01, 2.5]))
    a = optlab.run(s, opt, X, 30, record="summary")
    b = general(s, opt, X, 30, record="path")
    assert_same_summary(a, b)
    assert_same_path(optlab.run(s, opt, X, 30, record="path"), b)
    assert (a.diverged_at[[0, 2]] > 0).all() and a.diverged_at[1] == -1
    assert "undefined" in a.diverged_reason[0] or "infinite" in a.diverged_reason[0]


def test_huge_finite_losses_are_false_alarms_and_a_later_divergence_still_stops_its_run(monkeypatch):
    """Losses near 1e200 overflow the quick test's dot product at every step: false alarms, which
    settle dismisses (the runs go on, the best loss taken as usual), for all 40 steps without the
    run whose rate triples its distance each step, and until step 6 with it (it leaves the window
    there).  Summary and path (in blocks of 1, 3 or all steps) equal the general loop."""
    calls = spy(monkeypatch)
    s = optlab.surfaces.from_formula("1e200 * (x**2 + y**2)")
    X = np.array([[0.5, -1.0], [1.0, 1.0], [-2.0, 0.3], [0.1, 0.1]])
    lr = np.array([1e-201, 5e-202, 2e-200, 2e-201])
    for runs, diverged_at in [([0, 1, 3], [-1, -1, -1]), ([0, 1, 2, 3], [-1, -1, 6, -1])]:
        opt = O.make("sgd", lr=lr[runs])
        ref = general(s, opt, X[runs], 40, record="path")
        assert list(ref.diverged_at) == diverged_at
        assert (ref.losses[:, ref.diverged_at == -1] > 1e154).all()  # F² = inf: the quick test fails
        assert_same_summary(optlab.run(s, opt, X[runs], 40, record="summary"), ref)
        for block in (1 << 14, 24, 1):
            monkeypatch.setattr(loop, "PATH_BLOCK", block)
            assert_same_path(optlab.run(s, opt, X[runs], 40, record="path"), ref)
    assert calls == {"summary": 2, "path": 6, "general": 2}


def test_all_runs_diverging_stops_early_like_the_general_loop():
    s = S.get("rosenbrock")
    X = starts(s, 4)
    a = optlab.run(s, O.make("sgd", lr=5.0), X, 50, record="summary")
    b = general(s, O.make("sgd", lr=5.0), X, 50, record="path")
    p = optlab.run(s, O.make("sgd", lr=5.0), X, 50, record="path")
    assert a.diverged.all() and a.steps < 50
    assert_same_summary(a, b)
    assert_same_path(p, b)  # records padded to 50 steps: NaN positions, losses, norms and rates
    assert np.isnan(p.lrs[p.steps:]).all() and (p.lrs[:p.steps] == 5.0).all()


def test_an_undefined_start_falls_back_to_the_general_loop(monkeypatch):
    calls = spy(monkeypatch)
    s = optlab.surfaces.from_formula("log(x) + y**2")
    X = np.array([[-1.0, 0.0], [1.0, 1.0]])
    a = optlab.run(s, O.make("adam"), X, 10, record="summary")
    b = optlab.run(s, O.make("adam"), X, 10, record="path")
    assert calls == {"summary": 0, "path": 0, "general": 2}
    assert a.diverged_at[0] == 0 and a.diverged_at[1] == -1
    assert np.isnan(b.losses[:, 0]).all() and np.isfinite(b.losses[:, 1]).all()


@pytest.mark.parametrize("name,hyper", [("adam", dict(lr=0.02)), ("sgd", dict(lr=1e-3, momentum=0.9))])
def test_a_single_start_equals_the_first_run_of_a_batch(name, hyper):
    s = S.get("rosenbrock")
    X = starts(s, 3)
    one = optlab.run(s, O.make(name, **hyper), X[0], 150, record="summary")
    full = optlab.run(s, O.make(name, **hyper), X[0], 150, record="full")
    batch = optlab.run(s, O.make(name, **hyper), X, 150, record="summary")
    path = optlab.run(s, O.make(name, **hyper), X[0], 150, record="path")
    assert not one.batched and not path.batched
    assert path.xs.shape == (151, 2) and path.xs.flags.c_contiguous and path.losses.shape == (151,)
    for k in ("xs", "losses", "grad_norms", "lrs"):
        np.testing.assert_array_equal(getattr(path, k), getattr(full, k), err_msg=k)
    np.testing.assert_array_equal(one.final_x, full.final_x)
    np.testing.assert_array_equal(one.final_x, batch.final_x[0])
    assert one.best_loss == full.best_loss == batch.best_loss[0]
    assert one.final_loss == full.final_loss and one.diverged_at == -1 and one.diverged_reason == ""


def test_threaded_blocks_equal_one_block(monkeypatch):
    calls = spy(monkeypatch)
    s = S.get("himmelblau")
    X = starts(s, 1000, seed=5)
    lrs = np.geomspace(1e-4, 3.0, 1000)  # the large ones diverge
    monkeypatch.setattr(loop, "FUSED_SPLIT", 100)
    monkeypatch.setattr(loop, "FUSED_CHUNK", 128)
    a = optlab.run(s, O.make("sgd", lr=lrs, momentum=0.5), X, 40, record="summary", target=1e-3)
    assert calls["summary"] == 8
    monkeypatch.setattr(loop, "FUSED_SPLIT", 10 ** 9)
    b = optlab.run(s, O.make("sgd", lr=lrs, momentum=0.5), X, 40, record="summary", target=1e-3)
    c = general(s, O.make("sgd", lr=lrs, momentum=0.5), X, 40, record="path", target=1e-3)
    assert a.diverged.any() and not a.diverged.all() and (a.reached_at > 0).any()
    assert_same_summary(a, b)
    assert_same_summary(a, c)


def test_objects_that_are_not_surfaces_use_their_value_and_grad():
    class Bowl:  # any object with value_and_grad over (B, D), here D = 3
        name = "bowl"

        def value_and_grad(self, p):
            return 0.5 * (p * p).sum(axis=-1) * np.array([1.0]), p * np.array([1.0, 2.0, 3.0])

    X = np.random.default_rng(1).normal(size=(6, 3))
    a = optlab.run(Bowl(), O.make("adam", lr=0.1), X, 30, record="summary")
    b = general(Bowl(), O.make("adam", lr=0.1), X, 30, record="path")
    assert_same_summary(a, b)
    assert_same_path(optlab.run(Bowl(), O.make("adam", lr=0.1), X, 30, record="path"), b)  # (general: D = 3)


def test_data_built_surfaces_take_the_fused_path_without_minibatches():
    rng = np.random.default_rng(0)
    x = rng.normal(size=40)
    y = 2 * x - 1 + 0.1 * rng.normal(size=40)
    s = S.from_data(x, y, "mse")
    X = np.array([[0.0, 0.0], [3.0, 2.0]])
    a = optlab.run(s, O.make("rmsprop", lr=0.05), X, 50, record="summary")
    b = general(s, O.make("rmsprop", lr=0.05), X, 50, record="path")
    assert_same_summary(a, b)
    assert_same_path(optlab.run(s, O.make("rmsprop", lr=0.05), X, 50, record="path"), b)


# ----------------------------------------------------------------------------------------------
# The kernels and the surfaces' row evaluation on their own
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,hyper", CONFIGS, ids=lambda v: v if isinstance(v, str) else None)
def test_kernel_steps_equal_optimizer_steps(name, hyper):
    opt = O.make(name, **hyper)
    B, D = B7, 3
    rng = np.random.default_rng(4)
    p = rng.normal(size=(B, D))
    state = opt.init(p)
    step = opt.kernel(B, D)
    q = np.ascontiguousarray(p.T).reshape(-1)
    lr = opt.hyper["lr"]
    lr_flat = fused.flat(lr, B, D) if isinstance(lr, np.ndarray) else float(lr)
    for k in range(1, 40):
        g = rng.normal(size=(B, D)) * 3
        p, state = opt.step(g, state, p)
        step(k, lr_flat, np.ascontiguousarray(g.T).reshape(-1), q, q)  # g: a copy, clobbered
        np.testing.assert_array_equal(q.reshape(D, B).T, p, err_msg=f"step {k}")


def test_every_first_order_optimizer_has_a_kernel_and_second_order_ones_do_not():
    for name in O.FIRST_ORDER:
        assert O.make(name).has_kernel and O.make(name).kernel(3, 2) is not None
    for name in O.SECOND_ORDER:
        assert not O.make(name).has_kernel and O.make(name).kernel(3, 2) is None
    # per-run options the Adam family's kernels do not take: chain only
    assert O.make("adam", eps=np.full(3, 1e-8)).kernel(3, 2) is None
    assert O.make("nadam", momentum_decay=np.full(3, 0.004)).kernel(3, 2) is None
    assert O.make("radam", betas=(0.9, np.full(3, 0.999))).kernel(3, 2) is None
    assert O.make("adadelta", rho=np.full(3, 0.9)).kernel(3, 2) is not None  # per-run ρ, ε: fine


@pytest.mark.parametrize("name", S.names())
def test_value_and_grad_into_equals_value_and_grad(name):
    s = S.get(name)
    P = starts(s, 50, seed=7)
    f, g = s.value_and_grad(P)
    x, y = np.ascontiguousarray(P.T)
    F, gx, gy, W = (np.full(50, np.nan) for _ in range(4))
    s.value_and_grad_into(x, y, F, gx, gy, W)
    np.testing.assert_array_equal(F, f)
    np.testing.assert_array_equal(np.column_stack([gx, gy]), g)


def test_workspace_hands_out_disjoint_aligned_arrays_and_reuses_them():
    ws = fused.Workspace()
    a, b, c = ws.zeros(10), ws.empty((2, 5)), ws.zeros(100_000)
    assert not np.shares_memory(a, b) and not np.shares_memory(b, c) and c.shape == (100_000,)
    assert a.ctypes.data % 64 == 0 and b.ctypes.data % 64 == 0
    ws.reset()
    a2 = ws.empty(10)
    assert np.shares_memory(a, a2)  # the same memory again: nothing new to map
    assert (ws.zeros(10) == 0).all()


# ----------------------------------------------------------------------------------------------
# Random cases: surfaces with undefined regions, tiny bounds, schedules, targets, per-run rates
# ----------------------------------------------------------------------------------------------
from hypothesis import given, settings, strategies as hst  # noqa: E402

FORMULAS = ("log(x**2 + 0.01) - sqrt(abs(y) + 1e-3)", "1/(x - 0.3) + y**2")


def random_case(seed: int):
    rng = np.random.default_rng(seed)
    names = S.names() + list(FORMULAS)
    sn = str(rng.choice(names))
    s = S.from_formula(sn) if sn in FORMULAS else S.get(sn)
    B = int(rng.choice([1, 2, 3, 17, 40]))
    X = rng.uniform(-3, 3, (B, 2))
    name = str(rng.choice(list(O.FIRST_ORDER)))
    hyper = {"lr": float(10 ** rng.uniform(-4, 2.5)) if rng.random() < 0.7 else 10 ** rng.uniform(-4, 2.5, B)}
    if name == "sgd":
        hyper.update(momentum=float(rng.choice([0, 0.5, 0.99])), maximize=bool(rng.random() < 0.1))
        if hyper["momentum"] > 0 and rng.random() < 0.5:
            hyper["nesterov"] = True
        elif rng.random() < 0.3:
            hyper["dampening"] = 0.5
    elif name in ("adam", "adamw", "nadam", "radam"):
        hyper.update(weight_decay=float(rng.choice([0, 0.1])), maximize=bool(rng.random() < 0.1),
                     betas=(float(rng.choice([0.9, 0.3, 0.0])), float(rng.choice([0.999, 0.5, 0.9]))))
        if name in ("adam", "adamw"):
            hyper["amsgrad"] = bool(rng.random() < 0.3)
        if name in ("adam", "nadam", "radam"):
            hyper["decoupled_weight_decay"] = bool(rng.random() < 0.3)
        if name == "nadam":
            hyper["momentum_decay"] = float(rng.choice([4e-3, 0.0, 0.5]))
    elif name == "adadelta":
        hyper.update(rho=float(rng.choice([0.9, 0.3])), eps=float(rng.choice([1e-6, 1e-2])),
                     weight_decay=float(rng.choice([0, 0.1])))
    elif name == "rmsprop":
        hyper.update(centered=bool(rng.random() < 0.5), momentum=float(rng.choice([0, 0.9])))
    kw = dict(bound=[None, 5.0, 1e4][rng.integers(3)], target=[None, 0.0, 1.0][rng.integers(3)],
              schedule=[None, "cosine", "step"][rng.integers(3)])
    x0 = X if B > 1 or rng.random() < 0.5 else X[0]
    return s, O.make(name, **hyper), x0, int(rng.choice([0, 1, 5, 60])), kw


@settings(max_examples=150, deadline=None)
@given(hst.integers(0, 2 ** 32 - 1), hst.sampled_from([3, 256]), hst.sampled_from([1, 100, 1 << 14]))
def test_random_cases_fused_equals_general(seed, small, block):
    """Summary and path runs through the fused loop equal the general loop's path run; path runs
    with records in the general loop's layout or as views and broadcasts, in blocks of one step,
    a few steps or the whole run."""
    s, opt, x0, T, kw = random_case(seed)
    ref = general(s, opt, x0, T, record="path", **kw)
    assert_same_summary(optlab.run(s, opt, x0, T, record="summary", **kw), ref)
    with mock.patch.object(loop, "PATH_SMALL", small), mock.patch.object(loop, "PATH_BLOCK", block):
        assert_same_path(optlab.run(s, opt, x0, T, record="path", **kw), ref)


def test_a_large_path_batch_equals_the_general_loop(monkeypatch):
    """Past PATH_SMALL, without patching: blocks of one step (B·D > PATH_BLOCK / 2), positions as a
    transposed view, rates as a broadcast; schedules, per-run rates, divergence and a target
    included."""
    calls = spy(monkeypatch)
    s = S.get("rosenbrock")
    B = loop.PATH_BLOCK // 4 + 5
    X = starts(s, B, seed=9)
    for opt, kw in [(O.make("adam", lr=np.geomspace(1e-4, 1e2, B)), dict(target=1e-3)),
                    (O.make("nadam", lr=0.05), dict(schedule="cosine", bound=3.0)),
                    (O.make("sgd", lr=1e-3, momentum=0.9), {})]:
        a = optlab.run(s, opt, X, 30, record="path", **kw)
        b = general(s, opt, X, 30, record="path", **kw)
        assert_same_path(a, b)
    assert calls["path"] == 3 and a.xs.shape == (31, B, 2) and not a.lrs.flags.writeable
    small = optlab.run(s, O.make("adam"), X[:7], 30, record="path")  # the general loop's layout
    assert small.xs.flags.c_contiguous and small.lrs.flags.writeable and small.losses.flags.c_contiguous
