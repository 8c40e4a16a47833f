r"""More data than one machine: data-parallel SGD, the gradient noise scale, stale and local workers.

Four pieces, each batched over a leading axis of runs (a sweep is one call) and deterministic given
``seed``:

* **Data parallel.**  K workers each average the gradients of b examples; averaging the K results
  is one step with batch K·b (:func:`data_parallel_grad`).  :func:`sgd_runs` runs many SGD
  trainings with per-run total batch sizes and learning rates in one loop; :func:`batch_scaling`
  measures steps-to-target and samples-to-target against the batch size (best learning rate per
  batch size), and :func:`goyal_schedule` builds the linear-scaling rule with warm-up.
* **Gradient noise scale** (McCandlish et al. 2018): :func:`noise_scale` (exact, from every
  per-example gradient) and :func:`noise_scale_two_batch` (the paper's unbiased estimator from
  two batch sizes, which data-parallel training gets for free).
* **Stale gradients** (asynchronous SGD): :func:`stale_lr_limit` (closed form),
  :func:`stale_spectral_radius` (roots of the characteristic polynomial), :func:`async_sgd`.
* **Local SGD / federated averaging**: :func:`split_workers` (IID … sorted shards),
  :func:`local_sgd` and, on squared error, the exact fixed point :func:`local_sgd_fixed_point`
  that shows client drift.

Mini-batches are drawn **with replacement** (i.i.d. examples): the setting in which the noise-scale
formulas are exact; without replacement every variance gets the factor (N − B)/(N − 1).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import OptlabError
from .problems import DataProblem

Array = np.ndarray

MAX_RUNS = 4096
MAX_STEPS = 20_000
MAX_BATCH = 8192

DATA_PARALLEL_LATEX = (
    r"g = \frac1K\sum_{k=1}^{K}\underbrace{\frac1b\sum_{i\in\mathcal B_k}\nabla\ell_i(\theta)}_{\text{worker }k}"
    r"= \frac{1}{Kb}\sum_{i\in\mathcal B_1\cup\dots\cup\mathcal B_K}\nabla\ell_i(\theta)")
NOISE_SCALE_LATEX = (
    r"B_{\text{simple}} = \frac{\operatorname{tr}\Sigma}{\lVert G\rVert^2},\qquad "
    r"B_{\text{noise}} = \frac{\operatorname{tr}(H\Sigma)}{G^\top H G},\qquad "
    r"\Sigma = \operatorname{Cov}_i[\nabla\ell_i],\ G = \nabla L")
TWO_BATCH_LATEX = (
    r"\lVert\mathcal G\rVert^2 \approx \frac{B_{\text{big}}\lVert G_{B_{\text{big}}}\rVert^2 - "
    r"B_{\text{small}}\lVert G_{B_{\text{small}}}\rVert^2}{B_{\text{big}} - B_{\text{small}}},\qquad "
    r"\mathcal S \approx \frac{\lVert G_{B_{\text{small}}}\rVert^2 - \lVert G_{B_{\text{big}}}\rVert^2}"
    r"{1/B_{\text{small}} - 1/B_{\text{big}}}")
SCALING_LATEX = (r"S = S_{\min}\Big(1 + \frac{B_{\text{noise}}}{B}\Big),\qquad "
                 r"E = SB = E_{\min}\Big(1 + \frac{B}{B_{\text{noise}}}\Big)")
GOYAL_LATEX = (r"\eta_B = \eta_{\text{base}}\,\frac{B}{B_{\text{base}}},\qquad "
               r"\eta_t = \eta_{\text{base}} + (\eta_B - \eta_{\text{base}})\min\!\Big(1, \frac{t}{T_{\text{warm}}}\Big)")
STALE_LATEX = (r"\theta_{t+1} = \theta_t - \eta\,\nabla f(\theta_{t-\tau}),\quad "
               r"z^{\tau+1} - z^{\tau} + \eta\lambda = 0,\quad "
               r"\text{stable} \iff \eta\lambda < 2\sin\frac{\pi}{2(2\tau+1)}")
LOCAL_SGD_LATEX = (r"\theta_k \leftarrow \theta_k - \eta\,\nabla L_k(\theta_k)\ \ (H\text{ times, each worker on its "
                   r"own data}),\qquad \theta_1 = \dots = \theta_K \leftarrow \frac1K\sum_k \theta_k")

REFERENCES = {
    "noise_scale": "McCandlish, Kaplan, Amodei & OpenAI Dota Team (2018), An Empirical Model of Large-Batch "
                   "Training, arXiv:1812.06162 (§2 and Appendix A.1)",
    "goyal": "Goyal et al. (2017), Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour, arXiv:1706.02677",
    "stale": "Asynchronous SGD with delay τ: Recht et al. (2011) Hogwild!; the delayed linear recurrence "
             "z^{τ+1} − z^τ + a = 0 (Levin & May 1976; e.g. Mitliagkas et al. 2016 for momentum from asynchrony)",
    "local_sgd": "McMahan et al. (2017), Communication-Efficient Learning of Deep Networks from Decentralized "
                 "Data (FedAvg); Stich (2019), Local SGD Converges Fast and Communicates Little; client drift: "
                 "Karimireddy et al. (2020), SCAFFOLD",
}


# ----------------------------------------------------------------------------------------------
# argument checks
# ----------------------------------------------------------------------------------------------
def _ints(name: str, v, lo: int, hi: int) -> Array:
    a = np.asarray(v)
    if a.size == 0 or not np.all(np.isfinite(a.astype(float))) or np.any(a.astype(float) != np.round(a.astype(float))):
        raise OptlabError(f"{name} must be whole numbers; got {v!r}")
    a = a.astype(np.int64)
    if np.any(a < lo) or np.any(a > hi):
        raise OptlabError(f"{name} must be from {lo} to {hi}; got {v!r}")
    return a


def _positive(name: str, v, allow_zero: bool = False) -> Array:
    a = np.asarray(v, dtype=float)
    bad = ~np.isfinite(a) | ((a < 0) if allow_zero else (a <= 0))
    if a.size == 0 or np.any(bad):
        raise OptlabError(f"{name} must be {'≥ 0' if allow_zero else 'positive'} and finite; got {v!r}")
    return a


# ----------------------------------------------------------------------------------------------
# Counter-based example sampling
# ----------------------------------------------------------------------------------------------
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_STEP_MIX = np.uint64(0xD1B54A32D192ED03)
_POS_MIX = np.uint64(0x8CB92BA72F3D8DD7)


def _splitmix64(x: Array) -> Array:
    """SplitMix64's finaliser on a uint64 array (wrapping arithmetic): a well-mixed hash."""
    x = np.asarray(x, dtype=np.uint64)
    z = x + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def run_keys(seed: int | None, runs: int) -> Array:
    """One 64-bit key per run, from ``seed`` and the run's index."""
    base = np.uint64((0 if seed is None else int(seed)) * 0x9E3779B97F4A7C15 % (1 << 64))
    with np.errstate(over="ignore"):
        return _splitmix64(base + np.arange(int(runs), dtype=np.uint64))


def example_indices(keys: Array, step: int, positions: Array, n_samples: int) -> Array:
    r"""The examples of step ``step``: index = hash(key of the run, step, position in the batch) mod N.

    Counter-based sampling (i.i.d., with replacement): what run r draws at step t depends on
    (seed, r, t) only — never on which other runs share the batch or have stopped — so a sweep
    that stops finished runs early gives every other run exactly the batches it would have had.
    ``keys`` and ``positions`` are arrays of the same shape (one entry per example drawn)."""
    with np.errstate(over="ignore"):
        x = keys + np.uint64(step) * _STEP_MIX + positions.astype(np.uint64) * _POS_MIX
        return (_splitmix64(x) % np.uint64(n_samples)).astype(np.int64)


# ----------------------------------------------------------------------------------------------
# Data parallel
# ----------------------------------------------------------------------------------------------
def worker_batches(n_samples: int, workers: int, batch: int, runs: int = 1, seed: int | None = 0) -> Array:
    """Example indices ``(runs, workers, batch)`` drawn i.i.d. (with replacement) from ``n_samples``."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, int(n_samples), size=(int(runs), int(workers), int(batch)))


def data_parallel_grad(problem: DataProblem, theta, idx) -> tuple[Array, Array]:
    r"""One data-parallel step's gradient.

    ``theta`` (R, P), ``idx`` (R, K, b): worker k of run r holds examples ``idx[r, k]``.
    Returns ``(g, per_worker)``: the all-reduced average (R, P) and each worker's mini-batch
    gradient (R, K, P).  Because all workers use the same b, the average of the K means is the
    mean over all K·b examples: one step with batch K·b (``tests/test_distributed.py`` checks it).
    """
    theta = np.asarray(theta, dtype=float)
    idx = np.asarray(idx)
    if idx.ndim != 3 or theta.ndim != 2 or idx.shape[0] != theta.shape[0]:
        raise OptlabError(f"theta must be (R, P) and idx (R, K, b); got {theta.shape} and {idx.shape}")
    per_worker = problem.batch_grad(theta[:, None, :], idx)
    return per_worker.mean(axis=1), per_worker


@dataclass
class SGDRuns:
    """Result of :func:`sgd_runs`: per step (T+1, R) full-data ``losses`` (NaN after a divergence),
    ``reached_at`` (R,) first step with loss ≤ target (−1: never), ``diverged_at`` (R,) (−1: never),
    ``final_theta`` (R, P), ``batch_sizes`` (R,), ``lrs`` (T, R) the learning rate of every step."""

    losses: Array
    reached_at: Array
    diverged_at: Array
    final_theta: Array
    batch_sizes: Array
    lrs: Array
    target: float | None
    steps: int

    @property
    def samples_to_target(self) -> Array:
        """Examples processed until the target: steps × batch size (−1 where never reached)."""
        return np.where(self.reached_at >= 0, self.reached_at * self.batch_sizes, -1)


def goyal_schedule(base_lr: float, base_batch: int, batch_sizes, steps: int, warmup_steps=0) -> Array:
    r"""Learning rate per step ``(T, R)`` by the linear scaling rule of Goyal et al. (2017):
    η_B = η_base·B/B_base, reached by a linear warm-up from η_base over ``warmup_steps`` steps
    (0: the scaled rate from the first step).  ``warmup_steps`` may be one value per run.
    """
    B = _ints("batch_sizes", batch_sizes, 1, MAX_BATCH).reshape(-1)
    T = int(_ints("steps", steps, 0, MAX_STEPS))
    W = np.broadcast_to(_ints("warmup_steps", warmup_steps, 0, MAX_STEPS), B.shape).astype(float)
    base_lr = float(_positive("base_lr", base_lr))
    target = base_lr * B / float(_ints("base_batch", base_batch, 1, MAX_BATCH))
    t = np.arange(T, dtype=float)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(W > 0, np.minimum(1.0, t / np.where(W > 0, W, 1.0)), 1.0)
    return base_lr + (target - base_lr) * frac


def sgd_runs(problem: DataProblem, batch_sizes, lr, steps: int = 500, *, theta0=None, seed: int | None = 0,
             target: float | None = None, bound: float = 1e6, eval_every: int = 1,
             stop_at_target: bool = False) -> SGDRuns:
    r"""Plain mini-batch SGD, many runs in one loop: run r uses batch ``batch_sizes[r]`` (the total
    K·b of a data-parallel step) and learning rate ``lr[r]`` (or a per-step schedule ``lr`` of shape
    (T, R), e.g. :func:`goyal_schedule`).

    Each step draws Σ_r B_r example indices with replacement (:func:`example_indices`: run r's
    batches depend on ``seed``, r and the step only) and sums each run's per-sample gradients with
    one ``np.add.reduceat``: the work is Σ_r B_r·P per step, not R·max(B)·P.  The
    full-data loss is recorded every ``eval_every`` steps (squared error: O(P²) per run from
    sufficient statistics; logistic: one (R, N) product).  A run whose loss turns non-finite or
    exceeds ``bound`` × its start loss is stopped (``diverged_at``).  ``stop_at_target`` also stops
    a run once it reaches ``target`` (its later losses are NaN): a steps-to-target sweep then costs
    only the steps each run needs.
    """
    Bs = _ints("batch_sizes", batch_sizes, 1, MAX_BATCH).reshape(-1)
    R = Bs.shape[0]
    if R > MAX_RUNS:
        raise OptlabError(f"at most {MAX_RUNS} runs at once; got {R}")
    T = int(_ints("steps", steps, 0, MAX_STEPS))
    sched = _schedule(lr, T, R)
    every = int(_ints("eval_every", eval_every, 1, 10_000))
    theta = _theta0(problem, theta0, R)
    res = _sgd_loop(problem, Bs, sched, T, theta, run_keys(seed, R), every, target, bound,
                    stop_at_target, None)
    losses, reached, diverged, active = res
    final = np.where(active[:, None] | (reached[:, None] >= 0) & stop_at_target, theta, np.nan)
    return SGDRuns(losses=losses, reached_at=reached, diverged_at=diverged, final_theta=final,
                   batch_sizes=Bs, lrs=np.array(sched), target=target, steps=T)


def _schedule(lr, T: int, R: int) -> Array:
    lr = np.asarray(lr, dtype=float)
    if lr.ndim == 2:
        if lr.shape != (T, R):
            raise OptlabError(f"a learning-rate schedule must have shape (steps, runs) = {(T, R)}; got {lr.shape}")
        sched = lr
    elif lr.ndim == 1 and lr.shape != (R,):
        raise OptlabError(f"lr must be one number, one per run ({R}) or a schedule ({T}, {R}); got shape {lr.shape}")
    else:
        sched = np.broadcast_to(lr, (T, R))
    if sched.size:
        _positive("lr", sched, allow_zero=True)
    return sched


def _theta0(problem: DataProblem, theta0, R: int) -> Array:
    if theta0 is None:
        return np.zeros((R, problem.dim))
    t = np.asarray(theta0, dtype=float)
    if t.shape[-1] != problem.dim or not np.all(np.isfinite(t)):
        raise OptlabError(f"theta0 must be finite with {problem.dim} entries per run; got shape {t.shape}")
    return np.array(np.broadcast_to(t, (R, problem.dim)))


def _sgd_loop(problem, Bs, sched, T, theta, keys, every, target, bound, stop_at_target, stop_rule):
    """The SGD loop over the *active* runs only (a stopped run costs nothing); ``theta`` is updated in
    place.  ``stop_rule(t, reached)`` may return more runs to stop after an evaluation."""
    R = Bs.shape[0]
    N = problem.n_samples
    Xt, y = problem.Xt, problem.y
    losses = np.full((T + 1, R), np.nan)
    reached = np.full(R, -1)
    diverged = np.full(R, -1)
    active = np.ones(R, dtype=bool)
    f0 = problem.loss(theta)
    losses[0] = f0
    limit = bound * np.maximum(f0, 1e-12)
    if target is not None:
        reached[f0 <= target] = 0
        if stop_at_target:
            active &= reached < 0
    act = None
    with np.errstate(all="ignore"):
        for t in range(1, T + 1):
            if act is None:  # (re)build the layout of the active runs' examples
                act = np.nonzero(active)[0]
                if act.size == 0:
                    break
                b = Bs[act]
                offsets = np.concatenate([[0], np.cumsum(b)[:-1]])
                run_of = np.repeat(np.arange(act.size), b)
                pos = np.arange(int(b.sum())) - offsets[run_of]
                key_of = keys[act][run_of]
                bcol = b[:, None].astype(float)
            th = theta[act]
            idx = example_indices(key_of, t, pos, N)
            X = Xt[idx]
            s = np.einsum("np,np->n", X, th[run_of])
            r = problem.residuals(s, y[idx])
            g = np.add.reduceat(r[:, None] * X, offsets, axis=0) / bcol
            if problem.weight_decay:
                g += problem.penalty_grad(th)
            th -= sched[t - 1, act][:, None] * g
            theta[act] = th
            if t % every == 0 or t == T:
                f = problem.loss(th)
                losses[t, act] = f
                bad = ~np.isfinite(f) | (f > limit[act])
                stop = bad.copy()
                if bad.any():
                    diverged[act[bad]] = t
                    losses[t, act[bad]] = np.nan
                if target is not None:
                    hit = (reached[act] < 0) & (f <= target) & ~bad
                    reached[act[hit]] = t
                    if stop_at_target:
                        stop |= hit
                if stop_rule is not None:
                    more = stop_rule(t, reached)
                    stop |= more[act]
                if stop.any():
                    active[act[stop]] = False
                    act = None
    if every > 1 and T > 0:  # carry the last evaluation forward over the skipped rows (for plots)
        rows = np.arange(T + 1)
        last = np.maximum.accumulate(np.where((rows % every == 0) | (rows == T), rows, 0))
        ran = ~np.isnan(losses[last])
        losses = np.where(ran, losses[last], np.nan)
    return losses, reached, diverged, active


@dataclass
class ScalingResult:
    """:func:`batch_scaling`: per batch size (nB,), the best learning rate's median ``steps``
    to the target and ``samples`` (= steps × B; −1: no learning rate reached it), the chosen
    ``lr``, and the grid ``reached`` (nB, nLR, seeds)."""

    batch_sizes: Array
    lrs: Array
    steps: Array
    samples: Array
    best_lr: Array
    reached: Array
    target: float
    max_steps: int

    def fit(self) -> tuple[float, float, float]:
        r"""Fit of McCandlish's S = S_min(1 + B_noise/B) = S_min + E_min/B to the measured points, in
        relative error (least squares on (S_min + E_min/B)/S − 1, so the few-step large batches
        count as much as the many-step small ones): ``(S_min, E_min, B_crit = E_min/S_min)``
        (NaN if fewer than two batch sizes reached the target)."""
        ok = self.steps > 0
        if ok.sum() < 2:
            return float("nan"), float("nan"), float("nan")
        S = self.steps[ok].astype(float)
        A = np.stack([np.ones(ok.sum()), 1.0 / self.batch_sizes[ok]], axis=1) / S[:, None]
        (s_min, e_min), *_ = np.linalg.lstsq(A, np.ones(ok.sum()), rcond=None)
        return float(s_min), float(e_min), float(e_min / s_min) if s_min > 0 else float("nan")


def batch_scaling(problem: DataProblem, batch_sizes=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512), *,
                  lrs=None, target: float | None = None, target_gap: float = 0.1, max_steps: int = 2000,
                  seeds: int = 3, seed: int | None = 0, eval_every: int = 1, race: bool = True) -> ScalingResult:
    r"""Steps and examples to reach ``target`` against the total batch size B, each B with its best
    learning rate from the grid ``lrs``: ONE batched SGD loop over nB × nLR × seeds runs.

    A learning rate's steps are the upper median over its seeds (the (⌊S/2⌋+1)-th arrival).  As soon
    as one learning rate of a batch size has that many seeds at the target, every other run of that
    batch size is stopped: none of them can have an earlier median, so the answer is exact and the
    sweep costs about the steps of each batch size's winner, not ``max_steps`` for every run
    (``race=False`` runs every run to its target or ``max_steps``: same answer, for the tests).

    The default target is L* + ``target_gap``·(L(0) − L*).  Perfect scaling halves the steps when B
    doubles (samples constant); past the critical batch ≈ B_noise the steps stop falling and the
    samples grow (McCandlish et al. 2018: S = S_min(1 + B_noise/B), E = E_min(1 + B/B_noise)).
    The default ``lrs`` is 2⁻⁷ … 2⁰ × the full-batch stability limit 2/λ_max(H(0)), in factors of 2.
    """
    Bs = _ints("batch_sizes", batch_sizes, 1, MAX_BATCH).reshape(-1)
    if lrs is None:
        lmax = float(np.linalg.eigvalsh(problem.hessian(np.zeros(problem.dim)))[-1])
        lrs = (2.0 / lmax) * np.logspace(-7, 0, 8, base=2.0)
    lrs = _positive("lrs", lrs).reshape(-1)
    S = int(_ints("seeds", seeds, 1, 64))
    if target is None:
        l0, ls = float(problem.loss(np.zeros(problem.dim))), problem.loss_star
        target = ls + float(target_gap) * (l0 - ls)
    grid_B = np.repeat(Bs, lrs.size * S)
    grid_lr = np.tile(np.repeat(lrs, S), Bs.size)
    R = grid_B.size
    if R > MAX_RUNS:
        raise OptlabError(f"{Bs.size} batch sizes × {lrs.size} learning rates × {S} seeds = {R} runs; "
                          f"at most {MAX_RUNS}")
    T = int(_ints("max_steps", max_steps, 1, MAX_STEPS))
    need = S // 2 + 1  # the median of S seeds is known once more than half of them arrived

    def race_rule(t, reached):
        # a learning rate whose median is known at step t beats every other learning rate of the
        # same batch size still running (their medians are later): the whole batch size stops
        got = (reached.reshape(Bs.size, lrs.size, S) >= 0).sum(axis=2) >= need
        done = got.any(axis=1)
        return np.repeat(done, lrs.size * S)

    theta = np.zeros((R, problem.dim))
    _, reached, _, _ = _sgd_loop(problem, grid_B, _schedule(grid_lr, T, R), T, theta,
                                 run_keys(seed, R), int(_ints("eval_every", eval_every, 1, 10_000)),
                                 target, 1e6, True, race_rule if race else None)
    reached = reached.reshape(Bs.size, lrs.size, S)
    r = np.where(reached >= 0, reached, -1).astype(float)
    r[reached < 0] = np.inf
    med = np.sort(r, axis=2)[..., S // 2]           # the upper median: most seeds must make it
    best = np.argmin(med, axis=1)
    steps = med[np.arange(Bs.size), best]
    ok = np.isfinite(steps)
    steps_i = np.where(ok, steps, -1).astype(np.int64)
    return ScalingResult(batch_sizes=Bs, lrs=lrs, steps=steps_i, samples=np.where(ok, steps_i * Bs, -1),
                         best_lr=np.where(ok, lrs[best], np.nan), reached=reached, target=float(target),
                         max_steps=int(max_steps))


# ----------------------------------------------------------------------------------------------
# Gradient noise scale
# ----------------------------------------------------------------------------------------------
@dataclass
class NoiseScale:
    """Exact noise statistics at one θ: ``G`` (P,) the full gradient, ``trace_sigma`` tr Σ of the
    per-example gradients, ``b_simple`` = tr Σ/|G|², ``b_noise`` = tr(HΣ)/GᵀHG (Hessian-weighted)."""

    G: Array
    trace_sigma: float
    g_norm2: float
    b_simple: float
    b_noise: float


def noise_scale(problem: DataProblem, theta) -> NoiseScale:
    r"""Exact gradient noise scale at ``theta`` (P,) from all N per-example gradients.

    Σ is the population covariance of ∇ℓᵢ (1/N, the i.i.d.-sampling convention): with batches of
    B examples drawn with replacement E‖G_B − G‖² = tr Σ / B exactly.
    """
    theta = np.asarray(theta, dtype=float).reshape(-1)
    g = problem.per_sample_grads(theta)                 # (N, P): data term only
    G_data = g.mean(axis=0)
    G = G_data + problem.penalty_grad(theta)            # the penalty moves G, not Σ
    c = g - G_data
    trace = float(np.einsum("np,np->", c, c) / g.shape[0])
    g2 = float(G @ G)
    H = problem.hessian(theta)
    trHS = float(np.einsum("ij,ni,nj->", H, c, c) / g.shape[0])
    gHg = float(G @ H @ G)
    with np.errstate(divide="ignore", invalid="ignore"):
        return NoiseScale(G=G, trace_sigma=trace, g_norm2=g2, b_simple=trace / g2 if g2 > 0 else np.inf,
                          b_noise=trHS / gHg if gHg > 0 else np.inf)


@dataclass
class TwoBatchEstimate:
    """:func:`noise_scale_two_batch`: per pair of batches (n,), the unbiased estimates ``g2`` of |G|²
    and ``trace`` of tr Σ; ``b_simple`` = mean(trace)/mean(g2) (ratio of averages, as the paper
    does with moving averages)."""

    g2: Array
    trace: Array
    b_simple: float
    b_small: int
    b_big: int


def noise_scale_two_batch(problem: DataProblem, theta, b_small: int, b_big: int, n: int = 100,
                          seed: int | None = 0) -> TwoBatchEstimate:
    r"""McCandlish et al. (2018), Appendix A.1: from the squared norms of a small-batch gradient
    G_small (b_small examples) and a large-batch gradient G_big (b_big), both unbiased:

    .. math:: |G|^2 \approx \frac{B_{big}|G_{big}|^2 - B_{small}|G_{small}|^2}{B_{big} - B_{small}},
              \qquad \operatorname{tr}\Sigma \approx \frac{|G_{small}|^2 - |G_{big}|^2}{1/B_{small} - 1/B_{big}}

    In data-parallel training G_small is one worker's gradient and G_big the all-reduced one
    (b_big = K·b_small), so the estimate costs nothing extra; here the big batch is the K worker
    batches together, exactly that.  ``n`` independent pairs, one batched call.
    """
    bs = int(_ints("b_small", b_small, 1, MAX_BATCH))
    bb = int(_ints("b_big", b_big, 1, MAX_BATCH))
    if bb % bs or bb <= bs:
        raise OptlabError(f"b_big must be a multiple of b_small larger than it (K workers × b); got {bb} and {bs}")
    n = int(_ints("n", n, 1, 100_000))
    theta = np.asarray(theta, dtype=float).reshape(1, -1)
    idx = worker_batches(problem.n_samples, bb // bs, bs, runs=n, seed=seed)
    g_big, per = data_parallel_grad(problem, np.repeat(theta, n, axis=0), idx)
    g_small = per[:, 0]
    n_big = np.einsum("rp,rp->r", g_big, g_big)
    n_small = np.einsum("rp,rp->r", g_small, g_small)
    g2 = (bb * n_big - bs * n_small) / (bb - bs)
    tr = (n_small - n_big) / (1.0 / bs - 1.0 / bb)
    m = float(np.mean(g2))
    return TwoBatchEstimate(g2=g2, trace=tr, b_simple=float(np.mean(tr)) / m if m > 0 else float("inf"),
                            b_small=bs, b_big=bb)


def point_at_loss(problem: DataProblem, loss: float, max_steps: int = 5000) -> Array:
    """The first point of full-batch gradient descent from 0 (step 1/λ_max) whose loss is ≤ ``loss``:
    where a training run is when it reaches that loss (where to measure the noise scale)."""
    theta = np.zeros(problem.dim)
    lr = 1.0 / float(np.linalg.eigvalsh(problem.hessian(theta))[-1])
    for _ in range(int(max_steps)):
        if problem.loss(theta) <= loss:
            break
        theta = theta - lr * problem.grad(theta)
    return theta


# ----------------------------------------------------------------------------------------------
# Stale gradients (asynchronous SGD)
# ----------------------------------------------------------------------------------------------
def stale_lr_limit(tau, curvature=1.0) -> Array:
    r"""Largest stable learning rate of θ ← θ − η f'(θ_{t−τ}) on f = ½λθ²: the closed form

    .. math:: \eta_{\max}(\tau) = \frac{2}{\lambda}\sin\frac{\pi}{2(2\tau+1)}

    The recurrence θ_{t+1} = θ_t − ηλθ_{t−τ} has characteristic polynomial z^{τ+1} − z^τ + ηλ.
    On the unit circle z = e^{iω}: ηλ = z^τ(1 − z) has modulus 2|sin(ω/2)|, and it is real and
    positive first at ω = π/(2τ+1); the roots leave the unit disc there.  τ = 0 gives 2/λ
    (gradient descent), τ = 1 gives 1/λ; for large τ it is ≈ π/(2λ(2τ+1)), falling like 1/τ.
    Broadcasts over ``tau`` and ``curvature``.
    """
    tau = np.asarray(tau, dtype=float)
    if np.any(tau < 0) or np.any(tau != np.round(tau)):
        raise OptlabError(f"tau must be whole numbers ≥ 0; got {tau!r}")
    lam = _positive("curvature", curvature)
    return 2.0 / lam * np.sin(np.pi / (2.0 * (2.0 * tau + 1.0)))


def stale_spectral_radius(eta_lambda, tau: int) -> Array:
    """Largest |root| of z^{τ+1} − z^τ + ηλ for every value of ``eta_lambda`` (any shape): the
    eigenvalues of the companion matrices, one batched ``np.linalg.eigvals``.  < 1: the delayed
    iteration converges; > 1: it diverges."""
    tau = int(_ints("tau", tau, 0, 1000))
    a = np.asarray(eta_lambda, dtype=float)
    n = tau + 1
    C = np.zeros(a.shape + (n, n))
    C[..., 0, 0] = 1.0            # z^{τ+1} = z^τ − a:  first row (1, 0, …, 0, −a)
    C[..., 0, -1] -= a
    if n > 1:
        C[..., np.arange(1, n), np.arange(n - 1)] = 1.0
    return np.max(np.abs(np.linalg.eigvals(C)), axis=-1)


def stale_lr_limit_numeric(tau: int, curvature: float = 1.0, tol: float = 1e-12) -> float:
    """The same limit found numerically: bisection on ηλ for spectral radius = 1 (an independent
    check of :func:`stale_lr_limit`)."""
    lo, hi = 0.0, 2.0
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        if stale_spectral_radius(mid, tau) < 1.0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi) / float(curvature)


def async_sgd(curvatures, theta0, lr, tau, steps: int = 200, *, noise: float = 0.0, seed: int | None = 0,
              bound: float = 1e6) -> Array:
    r"""Asynchronous SGD on the quadratic f(θ) = ½ Σ_d λ_d θ_d²: every update uses the gradient of
    the parameters τ steps old, θ_{t+1} = θ_t − η (∇f(θ_{t−τ}) + σξ_t), with θ_{−k} = θ_0.

    ``curvatures`` (D,) the λ_d; ``theta0`` (D,) or (R, D); ``lr`` and ``tau`` one value or one per
    run (R,); ``noise`` σ of Gaussian gradient noise.  Returns positions ``(T+1, R, D)``; a run whose
    |θ| passes ``bound`` is NaN from there on.
    """
    lam = _positive("curvatures", curvatures).reshape(-1)
    D = lam.size
    lr = _positive("lr", lr, allow_zero=True)
    tau = _ints("tau", tau, 0, 10_000)
    x0 = np.asarray(theta0, dtype=float)
    R = max(np.size(lr), np.size(tau), x0.shape[0] if x0.ndim == 2 else 1)
    lr = np.broadcast_to(lr.reshape(-1) if lr.ndim else lr, (R,))
    tau = np.broadcast_to(tau.reshape(-1) if tau.ndim else tau, (R,))
    T = int(_ints("steps", steps, 0, MAX_STEPS))
    xs = np.empty((T + 1, R, D))
    xs[0] = np.broadcast_to(x0, (R, D))
    rng = np.random.default_rng(seed) if noise > 0 else None
    rows = np.arange(R)
    with np.errstate(all="ignore"):
        for t in range(T):
            old = xs[np.maximum(t - tau, 0), rows]           # θ_{t−τ_r} for every run r
            g = lam * old
            if rng is not None:
                g = g + noise * rng.standard_normal((R, D))
            xs[t + 1] = xs[t] - lr[:, None] * g
            far = ~(np.abs(xs[t + 1]) <= bound).all(axis=1)
            if far.any():  # NaN from here on: every later step of that run reads a NaN
                xs[t + 1, far] = np.nan
    return xs


# ----------------------------------------------------------------------------------------------
# Local SGD / federated averaging
# ----------------------------------------------------------------------------------------------
def split_workers(problem: DataProblem, workers: int, non_iid: float = 0.0, seed: int | None = 0) -> Array:
    r"""Shards ``(K, n)`` of example indices, n = ⌊N/K⌋ (the rest unused).

    Examples are sorted by the key ``non_iid``·rank(y)/N + (1 − ``non_iid``)·u, u ~ U(0, 1), and cut
    into K consecutive shards: ``non_iid`` = 0 is an IID split, 1 gives each worker its own range of
    targets (for breast cancer: workers with only malignant or only benign tumours).
    """
    K = int(_ints("workers", workers, 1, problem.n_samples))
    p = float(non_iid)
    if not np.isfinite(p) or not 0 <= p <= 1:
        raise OptlabError(f"non_iid must be between 0 and 1; got {non_iid!r}")
    rng = np.random.default_rng(seed)
    N = problem.n_samples
    u = rng.random(N)
    rank = np.argsort(np.argsort(problem.y + 1e-9 * u, kind="stable"), kind="stable") / N
    order = np.argsort(p * rank + (1.0 - p) * u, kind="stable")
    n = N // K
    return order[:K * n].reshape(K, n)


@dataclass
class LocalSGDResult:
    """:func:`local_sgd`, per run (R,) and communication round (rounds+1): ``loss`` and ``accuracy``
    of the averaged model on all the shards' examples, ``drift`` the mean distance ‖θ_k − θ̄‖ of
    the workers just before each averaging, ``theta`` (R, P) the final average, ``steps_per_round``
    the H of each run."""

    loss: Array
    accuracy: Array
    drift: Array
    theta: Array
    steps_per_round: Array
    rounds: int


def local_sgd(problem: DataProblem, shards, local_steps, rounds: int = 30, lr: float = 0.1, *,
              batch_size: int | None = None, theta0=None, seed: int | None = 0) -> LocalSGDResult:
    r"""Local SGD / FedAvg: K workers start each round from the average, take H local steps on their
    own shard, and are averaged (one communication) — ``rounds`` times.

    ``shards`` (K, n) from :func:`split_workers`, or (R, K, n) one split per run;
    ``local_steps`` H, one value or one per run (R,); ``batch_size`` None = full local gradient
    (local gradient descent: deterministic), else b examples with replacement per local step.
    H = 1 with full local gradients is full-batch gradient descent on the union of the shards.
    """
    shards = np.asarray(shards)
    H = _ints("local_steps", local_steps, 1, 1000).reshape(-1)
    if shards.ndim == 2:
        shards = shards[None]
    if shards.ndim != 3:
        raise OptlabError(f"shards must be (K, n) or (R, K, n); got shape {shards.shape}")
    R = max(shards.shape[0], H.size)
    shards = np.broadcast_to(shards, (R,) + shards.shape[1:])
    H = np.broadcast_to(H, (R,))
    K, n = shards.shape[1:]
    rounds = int(_ints("rounds", rounds, 1, 10_000))
    if rounds * int(H.max()) > MAX_STEPS:
        raise OptlabError(f"rounds × H = {rounds * int(H.max())} local steps; at most {MAX_STEPS}")
    lr = float(_positive("lr", lr))
    P = problem.dim
    Xs = problem.Xt[shards]                     # (R, K, n, P)
    ys = problem.y[shards]
    rng = np.random.default_rng(seed)
    theta = np.zeros((R, P)) if theta0 is None else np.array(np.broadcast_to(np.asarray(theta0, float), (R, P)))
    local = np.repeat(theta[:, None, :], K, axis=1)
    Xs = np.ascontiguousarray(Xs)

    def global_eval(rows, th):
        # loss and accuracy of the averaged models ``th`` (m, P) of runs ``rows`` on the union of their shards
        X, yy = Xs[rows], ys[rows]
        s = np.matmul(X, th[:, None, :, None])[..., 0]
        L = problem.sample_losses(s, yy).mean(axis=(1, 2))
        if problem.weight_decay:
            w = th[:, :-1]
            L = L + 0.5 * problem.weight_decay * np.einsum("rp,rp->r", w, w)
        if problem.kind == "logistic":
            acc = np.mean((s > 0) == (yy > 0.5), axis=(1, 2))
        else:
            dev = yy - yy.mean(axis=(1, 2), keepdims=True)
            acc = 1.0 - np.sum((s - yy) ** 2, axis=(1, 2)) / np.sum(dev * dev, axis=(1, 2))
        return L, acc

    quad = problem.kind == "linear" and batch_size is None
    if quad:  # each worker's loss is ½θᵀA_kθ − b_kᵀθ + c: its gradient costs P² instead of n·P
        Ak = 2.0 * np.matmul(np.swapaxes(Xs, -1, -2), Xs) / n + problem.weight_decay * np.diag(problem._decay_mask())
        bk = 2.0 * np.matmul(np.swapaxes(Xs, -1, -2), ys[..., None])[..., 0] / n

    loss = np.full((R, rounds + 1), np.nan)
    acc = np.full((R, rounds + 1), np.nan)
    drift = np.full((R, rounds), np.nan)
    loss[:, 0], acc[:, 0] = global_eval(np.arange(R), theta)
    done = np.zeros(R, dtype=int)
    total = rounds * int(H.max())
    act = None
    with np.errstate(all="ignore"):
        for t in range(total):
            if act is None:  # the runs still communicating; rebuilt only when one finishes
                act = np.nonzero(done < rounds)[0]
                if act.size == 0:
                    break
                full = act.size == R
                Xa, ya = (Xs, ys) if full else (Xs[act], ys[act])
                if quad:
                    Aa, ba = (Ak, bk) if full else (Ak[act], bk[act])
                Ha = H[act]
            L_ = local[act]
            if quad:
                g = np.matmul(Aa, L_[..., None])[..., 0] - ba
            elif batch_size is None:
                s = np.matmul(Xa, L_[..., None])[..., 0]
                r = problem.residuals(s, ya)
                g = np.matmul(r[..., None, :], Xa)[..., 0, :] / n + problem.penalty_grad(L_)
            else:
                m = act.size
                pos = rng.integers(0, n, size=(m, K, int(batch_size)))
                ra, ka = np.arange(m)[:, None, None], np.arange(K)[None, :, None]
                X = Xa[ra, ka, pos]
                s = np.einsum("rkbp,rkp->rkb", X, L_)
                r = problem.residuals(s, ya[ra, ka, pos])
                g = np.einsum("rkb,rkbp->rkp", r, X) / int(batch_size) + problem.penalty_grad(L_)
            L_ -= lr * g
            local[act] = L_
            sync_local = (t + 1) % Ha == 0
            if sync_local.any():
                rows = act[sync_local]
                avg = L_[sync_local].mean(axis=1)
                drift[rows, done[rows]] = np.mean(np.linalg.norm(L_[sync_local] - avg[:, None, :], axis=-1), axis=1)
                local[rows] = avg[:, None, :]
                theta[rows] = avg
                done[rows] += 1
                Lg, ag = global_eval(rows, avg)
                loss[rows, done[rows]] = Lg
                acc[rows, done[rows]] = ag
                if np.any(done[rows] >= rounds):
                    act = None
    return LocalSGDResult(loss=loss, accuracy=acc, drift=drift, theta=theta, steps_per_round=np.array(H),
                          rounds=rounds)


def local_sgd_fixed_point(problem: DataProblem, shards, local_steps: int, lr: float) -> Array:
    r"""Where local gradient descent with averaging (full local gradients) ends up, in closed form,
    for squared error (each worker's loss a quadratic ½θᵀA_kθ − b_kᵀθ + c_k):

    .. math:: M_k = I - \eta A_k,\quad c_k = \eta\sum_{j<H} M_k^j b_k,\quad
              \theta_\infty = \Big(I - \frac1K\sum_k M_k^H\Big)^{-1}\frac1K\sum_k c_k

    H = 1 gives A⁻¹b, the minimiser of the union of the shards; for H > 1 and different A_k, b_k
    (non-IID shards) it is NOT that minimiser: the drift of the workers between averagings biases
    the average (client drift).  Only for ``problem.kind == "linear"``.
    """
    if problem.kind != "linear":
        raise OptlabError("the closed-form fixed point needs squared error (a quadratic per worker)")
    shards = np.asarray(shards)
    H = int(_ints("local_steps", local_steps, 1, 100_000))
    P = problem.dim
    I = np.eye(P)
    Ms, cs = [], []
    for sh in shards:
        X, y = problem.Xt[sh], problem.y[sh]
        A = 2.0 * X.T @ X / len(sh) + problem.weight_decay * np.diag(problem._decay_mask())
        b = 2.0 * X.T @ y / len(sh)
        M = I - lr * A
        Mk, c = I.copy(), np.zeros(P)
        for _ in range(H):
            c = c + Mk @ (lr * b)
            Mk = M @ Mk
        Ms.append(Mk)
        cs.append(c)
    return np.linalg.solve(I - np.mean(Ms, axis=0), np.mean(cs, axis=0))


def union_minimiser(problem: DataProblem, shards) -> Array:
    """The minimiser of the mean loss over the examples of ``shards`` (squared error: a linear solve)."""
    if problem.kind != "linear":
        raise OptlabError("union_minimiser solves squared error only")
    ix = np.asarray(shards).reshape(-1)
    X, y = problem.Xt[ix], problem.y[ix]
    A = 2.0 * X.T @ X / len(ix) + problem.weight_decay * np.diag(problem._decay_mask())
    return np.linalg.solve(A, 2.0 * X.T @ y / len(ix))
