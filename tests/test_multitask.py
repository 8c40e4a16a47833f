"""Multi-task combiners against independent computations: the Pareto set in closed form, the
min-norm point by brute force over the simplex, PCGrad against the paper's loop, the fixed points of
uncertainty weighting and GradNorm."""
import numpy as np
import pytest

from optlab import multitask as M
from optlab import optimizers
from optlab.errors import OptlabError


@pytest.fixture(scope="module")
def tasks2():
    return M.default_tasks(2)


@pytest.fixture(scope="module")
def tasks3():
    return M.default_tasks(3)


def test_quadratic_task_derivatives():
    t = M.quadratic_task((0.5, -1.0), (2.0, 0.5), angle=0.7, floor=0.3)
    p = np.random.default_rng(0).normal(size=(20, 2))
    h = 1e-6
    for k in range(2):
        e = np.zeros(2)
        e[k] = h
        fd = (t.value(p + e) - t.value(p - e)) / (2 * h)
        assert np.allclose(t.grad(p)[:, k], fd, atol=1e-7)
    assert np.isclose(float(t.value(np.array([0.5, -1.0]))), 0.3)
    assert np.allclose(np.linalg.eigvalsh(t.hessian(p[:1])[0]), [0.5, 2.0])
    with pytest.raises(OptlabError):
        M.quadratic_task((0, 0), (1.0, -1.0))


@pytest.mark.parametrize("n", [2, 3])
def test_pareto_set_is_pareto_stationary(n, tasks2, tasks3):
    tasks = tasks2 if n == 2 else tasks3
    w = M.simplex_grid(n, 40)
    P = M.pareto_quadratic(tasks, w)
    assert M.pareto_stationarity(tasks, P).max() < 1e-12
    # the weighted sum's gradient vanishes there (the definition, checked directly)
    _, G = M.task_values_and_grads(tasks, P)
    assert np.abs(np.einsum("mi,mid->md", w, G)).max() < 1e-12
    # off the set: a clearly positive min-norm (points pushed away from every task's centre)
    centre = np.mean([t.params["center"] for t in tasks], axis=0)
    far = P + 3.0 * (P - centre) / np.linalg.norm(P - centre, axis=1, keepdims=True)
    assert M.pareto_stationarity(tasks, far).min() > 1e-3
    assert np.allclose(M.pareto_numeric(tasks, w), P, atol=1e-10)


def test_pareto_points_are_not_dominated(tasks2):
    P = M.pareto_quadratic(tasks2, M.simplex_grid(2, 60))
    L, _ = M.task_values_and_grads(tasks2, P)
    rng = np.random.default_rng(1)
    Q = rng.uniform(-3, 3, size=(20_000, 2))
    Lq, _ = M.task_values_and_grads(tasks2, Q)
    dominated = np.all(Lq[:, None, :] <= L[None, :, :] - 1e-9, axis=2)
    assert not dominated.any()


@pytest.mark.parametrize("n", [2, 3])
def test_min_norm_point_against_brute_force(n):
    rng = np.random.default_rng(n)
    G = rng.normal(size=(500, n, 2)) * rng.uniform(0.1, 3, size=(500, n, 1))
    a = M.min_norm_weights(G)
    assert np.allclose(a.sum(1), 1) and np.all(a >= -1e-12)
    v = np.linalg.norm(np.einsum("bi,bid->bd", a, G), axis=1)
    W = M.simplex_grid(n, 400 if n == 2 else 150)
    brute = np.linalg.norm(np.einsum("mi,bid->bmd", W, G), axis=2).min(axis=1)
    assert np.all(v <= brute + 1e-12)                 # never worse than any grid point
    assert np.all(brute - v < 0.05 * np.max(np.linalg.norm(G, axis=2), axis=1))


def test_min_norm_is_zero_when_gradients_oppose():
    G = np.array([[[1.0, 0.0], [-2.0, 0.0]], [[1.0, 1.0], [2.0, 2.0]]])
    a = M.min_norm_weights(G)
    assert np.allclose(a[0], [2 / 3, 1 / 3])
    assert np.allclose(M.min_norm_point(G)[0], 0)
    assert np.allclose(M.min_norm_point(G)[1], [1.0, 1.0])   # same direction: the shorter one


@pytest.mark.parametrize("n", [2, 3])
def test_pcgrad_matches_the_papers_loop(n):
    rng = np.random.default_rng(10 + n)
    G = rng.normal(size=(300, n, 2))
    d, proj = M.pcgrad(G, np.random.default_rng(42))
    assert np.allclose(d, M.pcgrad_loop(G, np.random.default_rng(42)), atol=1e-13)
    assert np.allclose(d, proj.sum(1))


def test_pcgrad_two_tasks_geometry():
    g1, g2 = np.array([1.0, 0.0]), np.array([-1.0, 1.0])
    d, proj = M.pcgrad(np.array([[g1, g2]]), 0)
    assert abs(proj[0, 0] @ g2) < 1e-15 and abs(proj[0, 1] @ g1) < 1e-15   # each on the other's normal plane
    no_conflict = np.array([[[1.0, 0.2], [0.5, 1.0]]])
    assert np.allclose(M.pcgrad(no_conflict, 0)[0], no_conflict.sum(1))


def test_pcgrad_order_depends_on_seed_only():
    G = np.random.default_rng(3).normal(size=(50, 3, 2))
    assert np.array_equal(M.pcgrad(G, 7)[0], M.pcgrad(G, 7)[0])


def test_fixed_weightings_sweep_along_the_pareto_set(tasks2):
    w = M.simplex_grid(2, 8)[1:-1]
    run = M.run_multitask(tasks2, "weights", x0=(2.0, 2.0), steps=3000, weights=w,
                          optimizer=optimizers.make("sgd", lr=0.1))
    assert np.allclose(run.xs[-1], M.pareto_quadratic(tasks2, w), atol=1e-8)


def test_mgda_ends_pareto_stationary(tasks3):
    starts = np.random.default_rng(0).uniform(-2, 2, size=(10, 2))
    run = M.run_multitask(tasks3, "mgda", x0=starts, steps=2000, optimizer=optimizers.make("sgd", lr=0.05))
    assert run.stationarity[-1].max() < 1e-3
    # MGDA never increases any task's loss much along the way (a common descent direction)
    assert np.all(np.diff(run.losses, axis=0) < 1e-6)


def test_uncertainty_weighting_fixed_point(tasks2):
    run = M.run_multitask(tasks2, "uncertainty", x0=[[2.0, 2.0], [-2.0, 1.0]], steps=3000,
                          optimizer=optimizers.make("sgd", lr=0.05))
    L = run.losses[-1]
    assert np.allclose(run.log_var[-1], np.log(L), atol=1e-8)           # s_i = log L_i
    assert run.stationarity[-1].max() < 1e-8                           # on the Pareto set
    w = (1 / L) / (1 / L).sum(axis=1, keepdims=True)                   # weights ∝ 1/L_i
    assert np.allclose(run.xs[-1], M.pareto_quadratic(tasks2, w), atol=1e-8)


def test_gradnorm_balances_weighted_gradient_norms(tasks2):
    """θ frozen (lr 0) and α = 0: GradNorm's weights go to w_i ∝ 1/‖∇L_i‖ (sum n)."""
    run = M.run_multitask(tasks2, "gradnorm", x0=(1.5, -1.0), steps=4000, alpha=0.0, weight_lr=0.002,
                          optimizer=optimizers.make("sgd", lr=0.0))
    _, G = M.task_values_and_grads(tasks2, np.array([[1.5, -1.0]]))
    gn = np.linalg.norm(G[0], axis=1)
    target = 2 * (1 / gn) / (1 / gn).sum()
    assert np.allclose(run.weights[-1, 0], target, atol=0.01)
    assert np.allclose(run.xs[-1], [[1.5, -1.0]])


def test_gradnorm_weight_step_by_hand():
    w = np.array([[1.0, 1.0]])
    G = np.array([[[3.0, 4.0], [0.0, 1.0]]])            # norms 5 and 1
    out = M.gradnorm_weight_step(w, G, np.array([[1.0, 1.0]]), np.array([[1.0, 1.0]]), alpha=0.0, lr=0.01)
    # G_i = (5, 1), mean 3: task 1 too strong (grad_w = +5), task 2 too weak (−1); then renormalise to 2
    raw = np.array([1 - 0.05, 1 + 0.01])
    assert np.allclose(out, 2 * raw / raw.sum())


def test_bad_arguments(tasks2):
    with pytest.raises(OptlabError):
        M.run_multitask(tasks2, "nope")
    with pytest.raises(OptlabError):
        M.run_multitask(tasks2, "weights", weights=[1.0, -1.0])
    with pytest.raises(OptlabError):
        M.run_multitask(tasks2, "mgda", optimizer="newton")
    with pytest.raises(OptlabError):
        M.pareto_quadratic([tasks2[0], __import__("optlab").surfaces.get("rosenbrock")], M.simplex_grid(2, 3))
