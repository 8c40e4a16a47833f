r"""The maths of the "Challenges ahead" page: one study per section, each a single call a page caches.

The seed article ends with five challenges (section 5): data too large for one machine, models too
complex, many tasks, heterogeneous computing, security and privacy.  Each study below turns one of
them into numbers, with the widget limits that keep a rerun inside the page budget (≤ 1 s worst
case; measured by ``bench/bench_challenges.py``) and *verdicts* computed from the numbers, so a
caption can only claim what the current numbers show.  Pure NumPy (plus dp-accounting for ε); no
Streamlit, no text for people (the page's catalog holds the sentences, keyed by the verdicts).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import distributed as D
from .. import landscapes as LS
from .. import mlp
from .. import multitask as MT
from .. import privacy as PV
from .. import problems as PR
from ..errors import OptlabError
from ..optimizers import make
from ..surfaces import get as get_surface

SECTIONS = ("scale", "stale", "tasks", "privacy", "landscape")
# the article's five challenges, in its order, and the section of this page that answers each
ARTICLE_CHALLENGES = {
    "big_data": "scale",            # 大数据处理
    "model_complexity": "landscape",  # 模型复杂性
    "multi_task": "tasks",          # 多任务学习
    "heterogeneous": "stale",       # 异构计算
    "privacy": "privacy",           # 安全与隐私
}

# Widget limits (the largest settings a page may offer; the bench times them)
BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
TARGET_GAPS = (0.05, 0.02, 0.01)
MAX_SEEDS = 5
MAX_TAU = 20
MAX_WORKERS = 10
LOCAL_STEPS = (1, 2, 5, 10, 20)
MAX_ROUNDS = 60
MAX_MT_STEPS = 600
NOISE_MULTIPLIERS = (0.0, 0.5, 0.7, 1.0, 1.5, 2.0, 4.0, 8.0)
MAX_DP_STEPS = 400
MAX_SLICE_GRID = 41
MAX_BASIN_GRID = 40
MAX_RESTARTS = 50


def _clamp(name: str, v, lo, hi, notes: list):
    if v < lo or v > hi:
        notes.append(f"{name} clamped to [{lo}, {hi}]: got {v}")
        return type(v)(min(max(v, lo), hi))
    return v


# ----------------------------------------------------------------------------------------------
# 1. More data than one machine
# ----------------------------------------------------------------------------------------------
def doubling_regimes(batch_sizes, steps, perfect: float = 0.75, none: float = 0.25) -> list[str]:
    r"""For each step up in batch size B_i → B_{i+1}, how much of the ideal speed-up it gave, on a log
    scale: e = log(S_i/S_{i+1}) / log(B_{i+1}/B_i) (1: steps fell as fast as B grew, 0: no fewer
    steps); ``"perfect"`` if e ≥ 0.75, ``"diminishing"`` if 0.25 ≤ e < 0.75, ``"none"`` below, and
    ``"unknown"`` where a batch size never reached the target."""
    B = np.asarray(batch_sizes, dtype=float)
    S = np.asarray(steps, dtype=float)
    out = []
    for i in range(len(B) - 1):
        if S[i] <= 0 or S[i + 1] <= 0:
            out.append("unknown")
            continue
        e = np.log(S[i] / S[i + 1]) / np.log(B[i + 1] / B[i])
        out.append("perfect" if e >= perfect else "diminishing" if e >= none else "none")
    return out


@dataclass
class ScalingStudy:
    """Steps/samples to target against batch size, the fitted bend, and the noise scale at the target."""

    dataset: str
    result: D.ScalingResult
    fit: tuple[float, float, float]         # S_min, E_min, B_crit
    noise: D.NoiseScale                     # exact, at the point where full-batch GD reaches the target
    regimes: list[str]                      # measured, per step up in B (noisy: seeds are few)
    notes: list[str] = field(default_factory=list)

    @property
    def bend(self) -> float:
        """The fitted critical batch B_crit = E_min/S_min: where the fitted steps are twice S_min."""
        return self.fit[2]

    @property
    def b_noise(self) -> float:
        return self.noise.b_simple


def scaling_study(dataset: str = "diabetes", target_gap: float = 0.02, seeds: int = 3,
                  batch_sizes=BATCH_SIZES, seed: int = 0) -> ScalingStudy:
    """Section 1: :func:`optlab.distributed.batch_scaling` on a shipped dataset (linear regression on
    diabetes by default: its full loss costs O(P²) per run, so the sweep fits the page budget; the
    logistic datasets cost N·P per run and step), B_noise = tr Σ/|G|² at the target, the fit of
    S = S_min(1 + B_crit/B), and the verdict of every doubling."""
    notes: list[str] = []
    seeds = _clamp("seeds", int(seeds), 1, MAX_SEEDS, notes)
    p = PR.problem(dataset)
    res = D.batch_scaling(p, batch_sizes, target_gap=float(target_gap), seeds=seeds, seed=seed,
                          max_steps=3000 if p.kind == "linear" else 1500, eval_every=1 if p.kind == "linear" else 2)
    noise = D.noise_scale(p, D.point_at_loss(p, res.target))
    return ScalingStudy(dataset=dataset, result=res, fit=res.fit(), noise=noise,
                        regimes=doubling_regimes(res.batch_sizes, res.steps), notes=notes)


@dataclass
class WarmupStudy:
    """Loss curves (T+1, 3): the base batch at the base lr, the large batch at the scaled lr with and
    without warm-up; ``verdict`` about the no-warm-up run: ``"diverged"``, ``"spike"`` (its loss
    rose above the start while the warmed-up run's did not), ``"both_spike"`` (both rose: the scaled
    rate is too large even after warm-up), ``"no_warmup"`` (0 warm-up steps: the two large-batch runs
    share one schedule and differ only in their batches), or ``"no_difference"``."""

    losses: np.ndarray
    lrs: np.ndarray
    labels: tuple[str, str, str]
    batch_sizes: np.ndarray
    lr_limit: float                 # 2/λ_max of the Hessian at the start (the full-batch stability limit)
    verdict: str
    peak_no_warmup: float
    peak_warmup: float


def warmup_study(dataset: str = "breast_cancer", base_lr: float = 0.2, base_batch: int = 8, batch: int = 512,
                 warmup_steps: int = 50, steps: int = 200, seed: int = 0) -> WarmupStudy:
    """Section 1: Goyal et al.'s linear scaling rule with and without warm-up, in one batched call.

    On logistic regression the curvature is largest at θ = 0 and falls as θ grows, so a scaled rate
    above 2/λ_max(H(0)) makes the loss jump at the start unless it is warmed up; on the quadratic
    (diabetes) the curvature never falls, and warm-up only delays a divergence."""
    p = PR.problem(dataset)
    B = np.array([base_batch, batch, batch])
    sched = D.goyal_schedule(base_lr, base_batch, B, steps, [0, 0, warmup_steps])
    res = D.sgd_runs(p, B, sched, steps, seed=seed)
    lmax = float(np.linalg.eigvalsh(p.hessian(np.zeros(p.dim)))[-1])
    L = res.losses
    l0 = float(L[0, 0])
    peak_no = float(np.nanmax(L[:, 1])) if np.isfinite(L[:, 1]).any() else float("inf")
    peak_w = float(np.nanmax(L[:, 2])) if np.isfinite(L[:, 2]).any() else float("inf")
    if res.diverged_at[1] >= 0:
        verdict = "diverged"
    elif int(warmup_steps) == 0:
        verdict = "no_warmup"       # both large-batch runs have the same schedule: nothing to compare
    elif peak_no > l0 * 1.02 and peak_w <= l0 * 1.02:
        verdict = "spike"
    elif peak_no > l0 * 1.02 and peak_w > l0 * 1.02:
        verdict = "both_spike"      # the scaled rate is too large even after warm-up
    else:
        verdict = "no_difference"
    return WarmupStudy(losses=L, lrs=res.lrs, labels=("base", "scaled", "scaled+warmup"), batch_sizes=B,
                       lr_limit=2.0 / lmax, verdict=verdict, peak_no_warmup=peak_no, peak_warmup=peak_w)


# ----------------------------------------------------------------------------------------------
# 2. Stale and uneven workers
# ----------------------------------------------------------------------------------------------
@dataclass
class StaleStudy:
    """Per delay τ = 0 … τ_max: the closed-form limit η_max(τ), the spectral radius of the delayed
    iteration at the chosen lr, and a simulated run ``xs`` (T+1, τ_max+1) from θ₀ = 1; ``stable`` per τ."""

    taus: np.ndarray
    limit: np.ndarray
    radius: np.ndarray
    xs: np.ndarray
    stable: np.ndarray
    lr: float
    curvature: float


def stale_study(lr: float = 0.3, curvature: float = 1.0, tau_max: int = 10, steps: int = 150) -> StaleStudy:
    """Section 2: asynchronous SGD on f = ½λθ² (closed form, checked against roots and simulation)."""
    notes: list[str] = []
    tau_max = _clamp("tau_max", int(tau_max), 0, MAX_TAU, notes)
    taus = np.arange(tau_max + 1)
    limit = D.stale_lr_limit(taus, curvature)
    radius = np.array([D.stale_spectral_radius(lr * curvature, int(t)) for t in taus])
    xs = D.async_sgd([curvature], [1.0], lr, taus, steps=steps)[:, :, 0]
    return StaleStudy(taus=taus, limit=limit, radius=radius, xs=xs, stable=lr < limit, lr=float(lr),
                      curvature=float(curvature))


@dataclass
class FederatedStudy:
    """Local SGD for each H in ``local_steps`` on an IID and a non-IID split: ``iid``/``non_iid``
    are :class:`~optlab.distributed.LocalSGDResult` with one run per H; ``verdict``: ``"drift"`` if
    on the non-IID split the largest H ends with a higher loss than H = 1 at the same number of
    rounds while on the IID split it ends lower, ``"helps"`` if more local steps help on both,
    ``"mixed"`` otherwise."""

    local_steps: np.ndarray
    iid: D.LocalSGDResult
    non_iid: D.LocalSGDResult
    verdict: str
    loss_star: float


def federated_study(dataset: str = "diabetes", workers: int = 5, local_steps=LOCAL_STEPS,
                    rounds: int = 30, lr: float = 0.05, non_iid: float = 1.0, seed: int = 0) -> FederatedStudy:
    """Section 2: communication rounds against loss for several H, IID against non-IID shards, one
    batched :func:`~optlab.distributed.local_sgd` call (full local gradients).  On diabetes (squared
    error) the end point is known in closed form (:func:`optlab.distributed.local_sgd_fixed_point`);
    on breast cancer the logistic loss is forgiving and extra local steps help even non-IID."""
    notes: list[str] = []
    workers = _clamp("workers", int(workers), 2, MAX_WORKERS, notes)
    rounds = _clamp("rounds", int(rounds), 1, MAX_ROUNDS, notes)
    p = PR.problem(dataset)
    H = np.asarray(local_steps, dtype=int)
    shards = np.stack([D.split_workers(p, workers, 0.0, seed), D.split_workers(p, workers, float(non_iid), seed)])
    both = D.local_sgd(p, np.repeat(shards, H.size, axis=0), np.tile(H, 2), rounds=rounds, lr=lr)
    k = H.size

    def part(sl):
        return D.LocalSGDResult(loss=both.loss[sl], accuracy=both.accuracy[sl], drift=both.drift[sl],
                                theta=both.theta[sl], steps_per_round=both.steps_per_round[sl], rounds=rounds)

    iid, non = part(slice(0, k)), part(slice(k, 2 * k))
    i_gain = iid.loss[-1, -1] < iid.loss[0, -1]
    n_gain = non.loss[-1, -1] < non.loss[0, -1]
    verdict = "drift" if (i_gain and not n_gain) else "helps" if (i_gain and n_gain) else "mixed"
    return FederatedStudy(local_steps=H, iid=iid, non_iid=non, verdict=verdict, loss_star=p.loss_star)


# ----------------------------------------------------------------------------------------------
# 3. Many tasks, one model
# ----------------------------------------------------------------------------------------------
@dataclass
class TasksStudy:
    """A multi-task run, the Pareto set (closed form), and the tasks (for their faint contours)."""

    tasks: list
    run: MT.MultiTaskRun
    pareto: np.ndarray          # (M, 2) points of the Pareto set
    pareto_weights: np.ndarray  # (M, n)
    ends_pareto: bool           # the run's end is Pareto-stationary (‖min-norm‖ < 1e-3)


def tasks_study(n_tasks: int = 2, method: str = "pcgrad", x0=(2.0, 2.0), steps: int = 200, lr: float = 0.05,
                weights=None, seed: int = 0) -> TasksStudy:
    """Section 3: one combiner's trajectory over the default tasks, and their Pareto set."""
    notes: list[str] = []
    steps = _clamp("steps", int(steps), 1, MAX_MT_STEPS, notes)
    tasks = MT.default_tasks(int(n_tasks))
    run = MT.run_multitask(tasks, method, x0=x0, steps=steps, optimizer=make("sgd", lr=lr), weights=weights,
                           seed=seed)
    w = MT.simplex_grid(len(tasks), 60 if len(tasks) == 2 else 24)
    pareto = MT.pareto_quadratic(tasks, w)
    return TasksStudy(tasks=tasks, run=run, pareto=pareto, pareto_weights=w,
                      ends_pareto=bool(run.stationarity[-1].max() < 1e-3))


@dataclass
class ConflictView:
    """At ``point``: each task's gradient ``grads`` (n, 2), PCGrad's projected ones ``projected``,
    the cosine of every pair ``cos`` (n, n), whether any pair conflicts, and the min-norm point."""

    point: np.ndarray
    grads: np.ndarray
    projected: np.ndarray
    cos: np.ndarray
    conflict: bool
    min_norm: np.ndarray


def conflict_view(n_tasks: int, point, seed: int = 0) -> ConflictView:
    """The vectors a page draws at the current point: gradients before and after PCGrad's surgery."""
    tasks = MT.default_tasks(int(n_tasks))
    point = np.asarray(point, dtype=float).reshape(2)
    _, G = MT.task_values_and_grads(tasks, point.reshape(1, 2))
    _, proj = MT.pcgrad(G, seed)
    g = G[0]
    n = np.linalg.norm(g, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = (g @ g.T) / np.outer(n, n)
    off = ~np.eye(len(g), dtype=bool)
    return ConflictView(point=point, grads=g, projected=proj[0], cos=cos, conflict=bool(np.any(cos[off] < 0)),
                        min_norm=MT.min_norm_point(G)[0])


# ----------------------------------------------------------------------------------------------
# 4. Privacy
# ----------------------------------------------------------------------------------------------
@dataclass
class PrivacyStudy:
    """Accuracy against ε (:class:`~optlab.privacy.PrivacySweep`) and, at the start θ = 0 and at the
    end of the non-private run, every example's gradient norm before clipping (``norms_*``), for the
    before/after-clipping picture (after clipping: min(norm, C))."""

    sweep: PV.PrivacySweep
    norms_start: np.ndarray
    norms_end: np.ndarray
    clip_norm: float
    clipped_share_end: float


def privacy_study(dataset: str = "breast_cancer", noise_multipliers=NOISE_MULTIPLIERS, clip_norm: float = 1.0,
                  sample_rate: float = 0.05, steps: int = 200, seeds: int = 3, delta: float | None = None,
                  seed: int = 0, epsilons=None) -> PrivacyStudy:
    """Section 4: DP-SGD swept over σ (one batched run) with ε from dp-accounting's RDP accountant
    (or ``epsilons`` already computed from cached :func:`optlab.privacy.rdp_curve` objects)."""
    notes: list[str] = []
    steps = _clamp("steps", int(steps), 1, MAX_DP_STEPS, notes)
    seeds = _clamp("seeds", int(seeds), 1, MAX_SEEDS, notes)
    p = PR.problem(dataset)
    sw = PV.accuracy_vs_epsilon(p, noise_multipliers, delta=delta, sample_rate=sample_rate, steps=steps,
                                clip_norm=clip_norm, seeds=seeds, seed=seed, epsilons=epsilons)
    base = PV.dp_sgd(p, 0.0, clip_norm=clip_norm, sample_rate=sample_rate, steps=steps, seed=seed, track_loss=False)
    start = np.abs(p.residuals(np.zeros(p.n_samples), p.y)) * p.row_norms
    end = np.abs(p.residuals(p.scores(base.theta[0]), p.y)) * p.row_norms
    return PrivacyStudy(sweep=sw, norms_start=start, norms_end=end, clip_norm=float(clip_norm),
                        clipped_share_end=float(np.mean(end > clip_norm)))


# ----------------------------------------------------------------------------------------------
# 5. Complex, non-convex landscapes
# ----------------------------------------------------------------------------------------------
@dataclass
class EscapeStudy:
    """Plain descent, annealed noise and SAM from the same starts, and random restarts, on one surface;
    ``best`` maps each method to its best-loss-so-far curve (T+1,) (the best over its runs)."""

    surface: str
    plain: LS.Exploration
    noisy: LS.Exploration
    sam: LS.Exploration
    restarts: LS.RestartResult
    best: dict
    winner: str


def escape_study(surface: str = "six_hump_camel", x0=(1.5, 0.8), lr: float = 0.02, eta: float = 100.0,
                 gamma: float = 0.55, rho: float = 0.2, runs: int = 16, steps: int = 400, n_restarts: int = 16,
                 seed: int = 0) -> EscapeStudy:
    """Section 5: ways out of a poor minimum, each with its best loss so far."""
    notes: list[str] = []
    n_restarts = _clamp("n_restarts", int(n_restarts), 1, MAX_RESTARTS, notes)
    s = get_surface(surface)
    X = np.tile(np.asarray(x0, dtype=float), (int(runs), 1))
    plain = LS.noisy_descent(s, make("sgd", lr=lr), X[:1], steps, eta=0.0)
    noisy = LS.noisy_descent(s, make("sgd", lr=lr), X, steps, eta=eta, gamma=gamma, seed=seed)
    sam = LS.noisy_descent(s, make("sam", base="sgd", lr=lr, rho=rho), X[:1], steps, eta=0.0)
    rs = LS.restarts(s, make("sgd", lr=lr), n_starts=n_restarts, steps=max(1, steps // n_restarts), seed=seed)
    best = {"plain": plain.best[:, 0], "noise": np.min(noisy.best, axis=1), "sam": sam.best[:, 0]}
    finals = {k: float(v[-1]) for k, v in best.items()}
    finals["restarts"] = float(rs.best_after[-1])
    winner = min(finals, key=finals.get)
    return EscapeStudy(surface=surface, plain=plain, noisy=noisy, sam=sam, restarts=rs, best=best, winner=winner)


def basins_study(surface: str = "himmelblau", optimizers=None, n: int = 30, steps: int = 300) -> dict:
    """Section 5: a basins-of-attraction map per optimizer (``{label: BasinResult}``)."""
    notes: list[str] = []
    n = _clamp("n", int(n), 5, MAX_BASIN_GRID, notes)
    s = get_surface(surface)
    if optimizers is None:
        optimizers = {"SGD": make("sgd", lr=0.01), "SGD + momentum": make("sgd", lr=0.01, momentum=0.9),
                      "Adam": make("adam", lr=0.05)}
    return LS.basins_by_optimizer(s, optimizers, n=n, steps=steps)


SLICE_CONFIG = mlp.MLPConfig(depth=2, width=16, activation="relu", init="he", seed=0)


@dataclass
class SliceStudy:
    """The trained chapter-5 MLP and its filter-normalized slice."""

    config: mlp.MLPConfig
    history: mlp.TrainingHistory
    slice: LS.LossSlice
    n_params: int


def train_slice_network(config: mlp.MLPConfig = SLICE_CONFIG, n_points: int = 400, steps: int = 600,
                        seed: int = 0) -> tuple[mlp.TrainingHistory, np.ndarray, np.ndarray]:
    """The network the slice is taken around: the chapter-5 MLP on two spirals, trained with Adam."""
    X, y = mlp.two_spirals(int(n_points), seed=seed)
    h = mlp.train(config, X, y, "adam", {"lr": 0.02}, steps=int(steps), batch_size=64, seed=seed)
    return h, X, y


def slice_study(n: int = 25, span: float = 1.0, direction_seed: int = 0, config: mlp.MLPConfig = SLICE_CONFIG,
                history=None, data=None) -> SliceStudy:
    """Section 5: L(θ* + α d₁ + β d₂) around the trained network (train it, or pass ``history`` and
    ``data`` = (X, y) from a cached :func:`train_slice_network`)."""
    if not 2 <= int(n) <= MAX_SLICE_GRID:
        raise OptlabError(f"n must be from 2 to {MAX_SLICE_GRID}; got {n!r}")
    if history is None:
        history, X, y = train_slice_network(config)
    else:
        X, y = data
    sl = LS.loss_slice(config, history.params, X, y, bn_state=history.bn_state, n=int(n), span=span,
                       seed=direction_seed)
    return SliceStudy(config=config, history=history, slice=sl, n_params=mlp.n_params(config))


# ----------------------------------------------------------------------------------------------
# Verdicts the page's captions are chosen by (one code per claim; the page's catalog has the words)
# ----------------------------------------------------------------------------------------------
def _log_slope(B, S) -> float:
    """−d log S / d log B between the first and last point (1: steps fall as fast as B grows)."""
    return float(np.log(S[0] / S[-1]) / np.log(B[-1] / B[0]))


def scaling_verdict(study: ScalingStudy) -> dict:
    """How steps-to-target scaled with the batch: ``shape`` = ``"bend"`` (the small-batch half scaled
    almost perfectly, e ≥ 0.6, and the large-batch half much less, e ≤ 0.4), ``"perfect"`` (both
    halves ≥ 0.6), ``"flat"`` (both ≤ 0.4), ``"mixed"`` otherwise, ``"unknown"`` if fewer than four
    batch sizes reached the target; ``e_small``/``e_large`` the two efficiencies; ``agree`` whether
    the fitted bend B_crit and the measured B_noise are within a factor 3 of each other (None when
    either is undefined); ``largest_reached`` the largest batch that reached the target."""
    r = study.result
    ok = r.steps > 0
    B = r.batch_sizes[ok].astype(float)
    S = r.steps[ok].astype(float)
    out = {"shape": "unknown", "e_small": float("nan"), "e_large": float("nan"), "agree": None,
           "largest_reached": int(B[-1]) if B.size else 0, "reached": int(ok.sum()), "total": int(ok.size)}
    if B.size >= 4:
        mid = B.size // 2
        e1, e2 = _log_slope(B[:mid + 1], S[:mid + 1]), _log_slope(B[mid:], S[mid:])
        out["e_small"], out["e_large"] = e1, e2
        out["shape"] = ("bend" if e1 >= 0.6 and e2 <= 0.4 else "perfect" if e1 >= 0.6 and e2 >= 0.6
                        else "flat" if e1 <= 0.4 and e2 <= 0.4 else "mixed")
    bc, bn = study.bend, study.b_noise
    if np.isfinite(bc) and bc > 0 and np.isfinite(bn) and bn > 0:
        out["agree"] = bool(max(bc, bn) / min(bc, bn) <= 3.0)
    return out


def stale_verdict(study: StaleStudy) -> dict:
    """``case`` = ``"all_stable"`` (every delay up to τ_max converges at this lr), ``"none_stable"``
    (not even τ = 0: η·λ ≥ 2), ``"threshold"`` (stable up to ``last_stable``, unstable from there on)
    or ``"irregular"`` (stability not monotone in τ: never for this closed form, but said if seen);
    ``simulated_agrees`` whether the simulated runs end smaller than they start exactly where the
    closed form says stable."""
    stable = np.asarray(study.stable, dtype=bool)
    end = np.abs(study.xs[-1])
    shrank = np.isfinite(end) & (end < 1.0)
    out = {"last_stable": -1, "simulated_agrees": bool(np.array_equal(shrank, stable))}
    if stable.all():
        out["case"] = "all_stable"
        out["last_stable"] = int(study.taus[-1])
    elif not stable.any():
        out["case"] = "none_stable"
    else:
        k = int(np.argmin(stable))           # first unstable τ
        out["case"] = "threshold" if not stable[k:].any() else "irregular"
        out["last_stable"] = int(study.taus[k - 1]) if k > 0 else -1
    return out


def tasks_verdict(study: TasksStudy, view: ConflictView | None = None) -> dict:
    """``ends`` = ``"pareto"`` (every run's end is Pareto-stationary), ``"not_yet"`` (finite but not
    stationary), ``"diverged"`` (a coordinate is not finite or left the ±10 box); ``spread`` the
    largest distance between the ends of several runs (a sweep of weightings); ``conflict`` at the
    view's point (None without a view) and the smallest cosine there."""
    ends = study.run.xs[-1]
    if not np.all(np.isfinite(ends)) or np.abs(ends).max() > 10:
        case = "diverged"
    else:
        case = "pareto" if study.ends_pareto else "not_yet"
    spread = 0.0
    if ends.shape[0] > 1 and case != "diverged":
        d = ends[:, None, :] - ends[None, :, :]
        spread = float(np.sqrt((d ** 2).sum(-1)).max())
    out = {"ends": case, "spread": spread, "conflict": None, "min_cos": float("nan"),
           "stationarity": float(np.nanmax(study.run.stationarity[-1]))}
    if view is not None:
        off = ~np.eye(len(view.grads), dtype=bool)
        c = view.cos[off]
        out["conflict"] = view.conflict
        out["min_cos"] = float(np.nanmin(c)) if np.isfinite(c).any() else float("nan")
    return out


def privacy_verdict(study: PrivacyStudy, sigma: float) -> dict:
    """For the chosen σ of the sweep: ``cost`` = ``"none"`` (its accuracy is within two seed
    spreads, or 0.5 points, of the non-private run's), ``"small"`` (below 5 points), ``"large"``
    otherwise, ``"nonprivate"`` when σ = 0; ``drop`` the difference in accuracy (points of %), and
    ``clipped`` = ``"most"``/``"some"``/``"none"``: the share of examples whose gradient at the end of
    the non-private run is longer than C (≥ 50 %, > 0, 0)."""
    sw = study.sweep
    sig = np.asarray(sw.noise_multiplier)
    i = int(np.argmin(np.abs(sig - sigma)))
    j = int(np.argmin(sig))
    drop = float(sw.accuracy[j] - sw.accuracy[i]) * 100
    spread = float(max(sw.accuracy_std[i], sw.accuracy_std[j])) * 100
    if sig[i] == 0:
        cost = "nonprivate"
    elif drop <= max(2 * spread, 0.5):
        cost = "none"
    elif drop < 5:
        cost = "small"
    else:
        cost = "large"
    share = study.clipped_share_end
    clipped = "most" if share >= 0.5 else "some" if share > 0 else "none"
    return {"cost": cost, "drop": drop, "index": i, "epsilon": float(sw.epsilon[i]),
            "accuracy": float(sw.accuracy[i]), "accuracy_nonprivate": float(sw.accuracy[j]),
            "clipped": clipped, "share": float(share)}


def epsilon_growth(eps_short: float, eps_long: float, ratio: float = 2.0) -> str:
    """How ε grew when the steps were multiplied by ``ratio``: ``"linear"`` (≥ 0.8·ratio),
    ``"sublinear"`` (between 1.05 and 0.8·ratio: the square-root-like growth of composition),
    ``"flat"`` (< 1.05×), ``"infinite"`` (σ = 0)."""
    if not (np.isfinite(eps_short) and np.isfinite(eps_long)):
        return "infinite"
    g = eps_long / eps_short if eps_short > 0 else float("inf")
    return "linear" if g >= 0.8 * ratio else "sublinear" if g >= 1.05 else "flat"


def escape_verdict(study: EscapeStudy, tol: float = 1e-3) -> dict:
    """The best loss of each way out and who found the lowest: ``winner``, ``tie`` (the methods within
    ``tol`` of the best, the winner included), ``global`` (the winner is within ``tol`` of the
    surface's global minimum; None when the minimum is not known), ``plain_stuck`` (plain descent's
    best is more than ``tol`` above the best)."""
    finals = {k: float(v[-1]) for k, v in study.best.items()}
    finals["restarts"] = float(study.restarts.best_after[-1])
    ok = {k: v for k, v in finals.items() if np.isfinite(v)}
    if not ok:
        return {"winner": None, "tie": [], "global": None, "plain_stuck": None, "finals": finals}
    best = min(ok.values())
    tie = [k for k, v in ok.items() if v <= best + tol]
    gm = study.restarts.global_min
    return {"winner": min(ok, key=ok.get), "tie": tie, "finals": finals,
            "global": None if gm is None else bool(best <= float(gm) + tol),
            "plain_stuck": bool(finals["plain"] > best + tol) if np.isfinite(finals["plain"]) else True}


def basins_verdict(results: dict, reference: str | None = None) -> dict:
    """Per optimizer the share of starts that reached a known minimum (``reached``) and, against the
    ``reference`` optimizer (the first), the share of starts that end in a *different* basin
    (``differs``; starts where either failed count as different)."""
    names = list(results)
    ref = reference or names[0]
    rb = np.asarray(results[ref].basin)
    out = {"reference": ref, "reached": {}, "differs": {}}
    for k in names:
        b = np.asarray(results[k].basin)
        out["reached"][k] = float(np.mean(b >= 0))
        out["differs"][k] = float(np.mean(b != rb))
    return out


def slice_verdict(study: SliceStudy) -> dict:
    """Whether the trained point is the lowest point of the slice (``centre_lowest``), the lowest
    loss seen in the slice and how far the slice's loss rises at its edge (``rise`` = max/centre)."""
    L = np.asarray(study.slice.loss, dtype=float)
    c = float(study.slice.center_loss)
    lo = float(np.nanmin(L))
    return {"centre_lowest": bool(c <= lo * (1 + 1e-9) + 1e-12), "lowest": lo, "centre": c,
            "rise": float(np.nanmax(L) / c) if c > 0 else float("inf")}


def federated_verdict(study: FederatedStudy) -> dict:
    """Per split (``iid``, ``non_iid``): ``"helps"`` if the largest H ends with a lower loss than H = 1
    after the same rounds, ``"hurts"`` if higher, ``"same"`` within 0.1 % of the gap to L*
    (or not finite: ``"diverged"``); ``gap_h1``/``gap_hmax`` the final gaps to L* of each split."""
    out = {}
    for name, res in (("iid", study.iid), ("non_iid", study.non_iid)):
        a, b = float(res.loss[0, -1]), float(res.loss[-1, -1])
        ga, gb = a - study.loss_star, b - study.loss_star
        if not (np.isfinite(a) and np.isfinite(b)):
            out[name] = "diverged"
        elif abs(gb - ga) <= 1e-3 * max(abs(ga), 1e-12):
            out[name] = "same"
        else:
            out[name] = "helps" if b < a else "hurts"
        out[name + "_gaps"] = (ga, gb)
    return out


def with_epsilons(study: PrivacyStudy, epsilons, delta: float) -> PrivacyStudy:
    """The same study with ε (one per noise multiplier, from cached accountant curves) at ``delta``:
    a page caches the training sweep and moves δ or reads new ε without training again."""
    from dataclasses import replace

    eps = np.asarray(epsilons, dtype=float).reshape(-1)
    if eps.shape != study.sweep.noise_multiplier.shape:
        raise OptlabError("one ε per noise multiplier")
    return replace(study, sweep=replace(study.sweep, epsilon=eps, delta=float(delta)))


# the fixed weightings the tasks section sweeps along the Pareto set (rows sum to 1)
WEIGHT_SWEEPS = {
    2: ((0.1, 0.9), (0.3, 0.7), (0.5, 0.5), (0.7, 0.3), (0.9, 0.1)),
    3: ((0.6, 0.2, 0.2), (0.2, 0.6, 0.2), (0.2, 0.2, 0.6), (1 / 3, 1 / 3, 1 / 3), (0.45, 0.45, 0.1)),
}


def _first_bad(values) -> int:
    """Index of the first non-finite entry along axis 0 of ``values`` (-1: all finite)."""
    bad = ~np.isfinite(np.asarray(values, dtype=float))
    if bad.ndim > 1:
        bad = bad.reshape(bad.shape[0], -1).any(axis=1)
    return int(np.argmax(bad)) if bad.any() else -1


def stopped_runs(study) -> list[tuple[str, int]]:
    """The runs of a study that stopped for diverging, as ``(run id, step)``: the warm-up study's
    runs (``"base"``, ``"scaled"``, ``"warm"``), the escape study's ways (``"plain"``, ``"noise"``,
    ``"sam"``; noise: its first run to stop), and a tasks run that left every finite value."""
    out: list[tuple[str, int]] = []
    if isinstance(study, WarmupStudy):
        for i, name in enumerate(("base", "scaled", "warm")):
            k = _first_bad(study.losses[:, i])
            if k >= 0:
                out.append((name, k))
    elif isinstance(study, EscapeStudy):
        for name, ex in (("plain", study.plain), ("noise", study.noisy), ("sam", study.sam)):
            dv = np.asarray(ex.diverged_at)
            if (dv >= 0).any():
                out.append((name, int(dv[dv >= 0].min())))
    elif isinstance(study, TasksStudy):
        k = _first_bad(study.run.xs)
        if k >= 0:
            out.append(("run", k))
    return out
