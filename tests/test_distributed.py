"""Data-parallel SGD, the gradient noise scale, stale gradients and local SGD, each against an
independent computation (a per-example loop, a closed form, a root finder, a plain loop)."""
import numpy as np
import pytest

from optlab import distributed as D
from optlab import problems as P
from optlab.errors import OptlabError
from optlab.models import LinearRegression, LogisticRegression


@pytest.fixture(scope="module")
def bc():
    return P.problem("breast_cancer")


@pytest.fixture(scope="module")
def diab():
    return P.problem("diabetes")


def _loop_grad(problem, theta, idx):
    """Mean per-example gradient by a plain loop over examples (sigmoid/linear written out)."""
    g = np.zeros_like(theta)
    for i in idx:
        x, y = problem.Xt[i], problem.y[i]
        s = float(x @ theta)
        r = (1 / (1 + np.exp(-s)) - y) if problem.kind == "logistic" else 2 * (s - y)
        g += r * x
    return g / len(idx) + problem.penalty_grad(theta)


# ----------------------------------------------------------------------------------------------
# problems: per-sample gradients against optlab.models and a loop
# ----------------------------------------------------------------------------------------------
def test_problem_matches_models_loss_and_grad():
    rng = np.random.default_rng(0)
    for name, model in (("breast_cancer", LogisticRegression()), ("diabetes", LinearRegression())):
        p = P.problem(name, weight_decay=0.0)
        th = 0.3 * rng.standard_normal((4, p.dim))
        X = p.Xt[:, :-1]
        assert np.allclose(p.loss(th), model.loss(th, X, p.y), rtol=1e-12, atol=1e-12)
        assert np.allclose(p.grad(th), model.grad(th, X, p.y), rtol=1e-10, atol=1e-12)
        assert np.allclose(p.hessian(th), model.hessian(th, X, p.y), rtol=1e-10, atol=1e-12)
        assert np.allclose(p.per_sample_grads(th[0]).mean(axis=0), p.grad(th[0]), atol=1e-12)


def test_theta_star_is_stationary(bc, diab):
    for p in (bc, diab):
        assert np.linalg.norm(p.grad(p.theta_star)) < 1e-10
        assert p.loss_star < float(p.loss(np.zeros(p.dim)))


# ----------------------------------------------------------------------------------------------
# data parallel
# ----------------------------------------------------------------------------------------------
def test_k_workers_averaged_is_one_batch_of_kb(bc):
    rng = np.random.default_rng(1)
    theta = 0.2 * rng.standard_normal((3, bc.dim))
    idx = D.worker_batches(bc.n_samples, workers=4, batch=5, runs=3, seed=2)
    g, per = D.data_parallel_grad(bc, theta, idx)
    merged = bc.batch_grad(theta, idx.reshape(3, 20))
    assert np.allclose(g, merged, rtol=1e-13, atol=1e-15)
    for r in range(3):
        assert np.allclose(g[r], _loop_grad(bc, theta[r], idx[r].reshape(-1)), atol=1e-13)
        for k in range(4):
            assert np.allclose(per[r, k], _loop_grad(bc, theta[r], idx[r, k]), atol=1e-13)


def test_data_parallel_training_equals_large_batch_training(bc):
    """Ten steps of K workers × b (averaged) and ten steps of one worker with those K·b examples."""
    rng = np.random.default_rng(3)
    a = np.zeros((1, bc.dim))
    b = np.zeros((1, bc.dim))
    for t in range(10):
        idx = rng.integers(0, bc.n_samples, size=(1, 8, 4))
        a = a - 0.5 * D.data_parallel_grad(bc, a, idx)[0]
        b = b - 0.5 * bc.batch_grad(b, idx.reshape(1, 32))
    assert np.allclose(a, b, rtol=1e-12, atol=1e-14)


def test_sgd_runs_equals_a_plain_loop(diab):
    Bs = np.array([1, 7, 32])
    lrs = np.array([0.01, 0.05, 0.1])
    res = D.sgd_runs(diab, Bs, lrs, 40, seed=5)
    keys = D.run_keys(5, 3)
    for r in range(3):
        th = np.zeros(diab.dim)
        for t in range(1, 41):
            idx = D.example_indices(np.repeat(keys[r], Bs[r]), t, np.arange(Bs[r]), diab.n_samples)
            th = th - lrs[r] * _loop_grad(diab, th, idx)
            assert np.isclose(res.losses[t, r], float(diab.loss(th)), rtol=1e-9)
        assert np.allclose(res.final_theta[r], th, atol=1e-10)


def test_a_run_does_not_depend_on_its_batch_mates(diab):
    full = D.sgd_runs(diab, [4, 16, 64], [0.05, 0.05, 0.05], 30, seed=9)
    alone = D.sgd_runs(diab, [4, 16], [0.05, 0.05], 30, seed=9)
    assert np.array_equal(full.losses[:, :2], alone.losses)


def test_example_indices_are_uniform():
    idx = D.example_indices(np.repeat(D.run_keys(0, 1), 200_000), 1, np.arange(200_000), 10)
    counts = np.bincount(idx, minlength=10)
    # χ² with 9 degrees of freedom: 27.9 is its 99.9 % quantile
    chi2 = float(np.sum((counts - 20_000) ** 2 / 20_000))
    assert chi2 < 27.9


def test_divergence_is_stopped_and_named(diab):
    lmax = np.linalg.eigvalsh(diab.hessian(np.zeros(diab.dim)))[-1]
    res = D.sgd_runs(diab, [442, 442], [1.0 / lmax, 3.0 / lmax], 200, seed=0)
    assert res.diverged_at[0] == -1 and res.diverged_at[1] > 0
    assert np.isnan(res.losses[-1, 1]) and np.isfinite(res.losses[-1, 0])


def test_batch_scaling_race_is_exact_and_shows_diminishing_returns(diab):
    kw = dict(batch_sizes=(1, 4, 16, 64, 256), target_gap=0.02, seeds=3, max_steps=3000, seed=1)
    fast = D.batch_scaling(diab, **kw)
    slow = D.batch_scaling(diab, race=False, **kw)
    assert np.array_equal(fast.steps, slow.steps)
    assert np.array_equal(fast.best_lr, slow.best_lr, equal_nan=True)
    assert np.all(fast.steps > 0)
    # steps fall fast while B is small; past the bend they stop falling and the samples grow
    assert fast.steps[0] > 4 * fast.steps[2]
    assert fast.steps[3] < 2 * fast.steps[4] + 5
    assert fast.samples[-1] > 2 * fast.samples[2] and fast.samples[-1] > 4 * fast.samples[0]
    s_min, e_min, b_crit = fast.fit()
    assert 0 < s_min <= fast.steps[-1] * 1.5 and 1 < b_crit < 256


def test_goyal_schedule():
    sch = D.goyal_schedule(0.1, 32, [32, 256, 256], 20, warmup_steps=[0, 0, 10])
    assert sch.shape == (20, 3)
    assert np.allclose(sch[:, 0], 0.1) and np.allclose(sch[:, 1], 0.8)
    assert np.isclose(sch[0, 2], 0.1) and np.isclose(sch[5, 2], 0.45) and np.allclose(sch[10:, 2], 0.8)


# ----------------------------------------------------------------------------------------------
# gradient noise scale
# ----------------------------------------------------------------------------------------------
def test_noise_scale_exact(bc):
    theta = D.point_at_loss(bc, 0.2)
    ns = D.noise_scale(bc, theta)
    g = np.array([_loop_grad(bc, theta, [i]) - bc.penalty_grad(theta) for i in range(bc.n_samples)])
    cov = np.cov(g.T, bias=True)
    G = bc.grad(theta)
    H = bc.hessian(theta)
    assert np.isclose(ns.trace_sigma, np.trace(cov), rtol=1e-10)
    assert np.isclose(ns.b_simple, np.trace(cov) / (G @ G), rtol=1e-10)
    assert np.isclose(ns.b_noise, np.trace(H @ cov) / (G @ H @ G), rtol=1e-10)


def test_batch_gradient_variance_is_trace_sigma_over_b(diab):
    theta = D.point_at_loss(diab, 0.6)
    ns = D.noise_scale(diab, theta)
    b = 8
    idx = D.worker_batches(diab.n_samples, 1, b, runs=40_000, seed=4)[:, 0]
    gb = diab.batch_grad(np.repeat(theta[None], idx.shape[0], axis=0), idx)
    err = np.sum((gb - ns.G) ** 2, axis=1)
    se = err.std() / np.sqrt(err.size)
    assert abs(err.mean() - ns.trace_sigma / b) < 4 * se


def test_two_batch_estimator_is_unbiased(diab):
    theta = D.point_at_loss(diab, 0.6)
    ns = D.noise_scale(diab, theta)
    est = D.noise_scale_two_batch(diab, theta, b_small=4, b_big=32, n=40_000, seed=7)
    for vals, exact in ((est.g2, ns.g_norm2), (est.trace, ns.trace_sigma)):
        assert abs(vals.mean() - exact) < 4 * vals.std() / np.sqrt(vals.size)
    assert abs(est.b_simple / ns.b_simple - 1) < 0.1
    with pytest.raises(OptlabError):
        D.noise_scale_two_batch(diab, theta, b_small=4, b_big=10)


# ----------------------------------------------------------------------------------------------
# stale gradients
# ----------------------------------------------------------------------------------------------
def test_stale_limit_closed_form_matches_root_finding():
    assert np.isclose(D.stale_lr_limit(0), 2.0) and np.isclose(D.stale_lr_limit(1), 1.0)
    for tau in range(0, 13):
        closed = float(D.stale_lr_limit(tau, curvature=2.5))
        assert abs(D.stale_lr_limit_numeric(tau, curvature=2.5) - closed) < 1e-9
        assert abs(D.stale_spectral_radius(closed * 2.5, tau) - 1.0) < 1e-9
        assert D.stale_spectral_radius(0.99 * closed * 2.5, tau) < 1.0 < D.stale_spectral_radius(1.01 * closed * 2.5, tau)


def test_stale_limit_matches_simulated_runs():
    taus = np.arange(0, 9)
    lam = np.array([3.0])
    lim = D.stale_lr_limit(taus, 3.0)
    lr = np.concatenate([0.97 * lim, 1.03 * lim])
    xs = D.async_sgd(lam, [1.0], lr, np.concatenate([taus, taus]), steps=4000)
    end = np.abs(xs[-1, :, 0])
    assert np.all(end[: taus.size] < 1e-3)                              # below the limit: converges
    assert np.all(~np.isfinite(end[taus.size:]) | (end[taus.size:] > 1e3))  # above: blows up


def test_async_sgd_is_the_delayed_recurrence():
    xs = D.async_sgd([2.0, 0.5], [1.0, -1.0], 0.3, 2, steps=12)
    ref = [np.array([1.0, -1.0])]
    for t in range(12):
        old = ref[max(t - 2, 0)]
        ref.append(ref[t] - 0.3 * np.array([2.0, 0.5]) * old)
    assert np.allclose(xs[:, 0], np.array(ref), atol=1e-15)


# ----------------------------------------------------------------------------------------------
# local SGD / federated averaging
# ----------------------------------------------------------------------------------------------
def test_split_workers(diab):
    iid = D.split_workers(diab, 4, 0.0, seed=0)
    sorted_ = D.split_workers(diab, 4, 1.0, seed=0)
    assert iid.shape == sorted_.shape == (4, diab.n_samples // 4)
    assert len(np.unique(iid)) == iid.size
    ys = diab.y[sorted_]
    assert np.all(ys.max(axis=1)[:-1] <= ys.min(axis=1)[1:])        # each worker its own range of y
    spread = np.ptp(diab.y[iid].mean(axis=1))
    assert spread < 0.3 * np.ptp(ys.mean(axis=1))


def test_local_sgd_h1_is_gradient_descent_on_the_union(diab):
    shards = D.split_workers(diab, 4, 0.7, seed=1)
    res = D.local_sgd(diab, shards, 1, rounds=25, lr=0.1)
    ix = shards.reshape(-1)
    th = np.zeros(diab.dim)
    for _ in range(25):
        th = th - 0.1 * _loop_grad(diab, th, ix)
    assert np.allclose(res.theta[0], th, atol=1e-12)


def test_client_drift_fixed_point(diab):
    shards_non = D.split_workers(diab, 4, 1.0, seed=0)
    shards_iid = D.split_workers(diab, 4, 0.0, seed=0)
    lr, H = 0.05, 10
    fp = D.local_sgd_fixed_point(diab, shards_non, H, lr)
    res = D.local_sgd(diab, shards_non, H, rounds=2000, lr=lr)
    # the simulation reaches the closed form (slowest mode: (1 − ηλ_min)^20000 ≈ 1e-7)
    assert np.allclose(res.theta[0], fp, atol=1e-5)
    assert np.linalg.norm(res.theta[0] - fp) < 1e-3 * np.linalg.norm(fp - D.union_minimiser(diab, shards_non))
    star = D.union_minimiser(diab, shards_non)
    assert np.allclose(D.local_sgd_fixed_point(diab, shards_non, 1, lr), star, atol=1e-10)
    drift_non = np.linalg.norm(fp - star)
    drift_iid = np.linalg.norm(D.local_sgd_fixed_point(diab, shards_iid, H, lr) - D.union_minimiser(diab, shards_iid))
    assert drift_non > 0.05 and drift_non > 5 * drift_iid


def test_local_sgd_batched_over_h_and_splits(bc):
    shards = np.stack([D.split_workers(bc, 5, p, seed=0) for p in (0.0, 1.0)])
    res = D.local_sgd(bc, np.repeat(shards, 2, axis=0), [1, 8, 1, 8], rounds=10, lr=0.5)
    assert res.loss.shape == (4, 11) and np.all(np.isfinite(res.loss))
    one = D.local_sgd(bc, shards[1], 8, rounds=10, lr=0.5)
    assert np.allclose(one.loss[0], res.loss[3], atol=1e-12)
    assert res.drift[3].mean() > res.drift[1].mean()                 # non-IID workers drift apart more
    assert res.loss[1, -1] < res.loss[0, -1]                          # more local work per round helps (IID)
