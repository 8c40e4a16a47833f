r"""The chapter "Gradient descent": learning rates read off the curvature, batch / mini-batch /
stochastic runs and schedules on a data set's (w, b) surface, and the seed article's code.

Learning rates from curvature (:func:`curvature`, :func:`contraction`) use the closed forms of
:mod:`optlab.theory` on the Hessian at the minimum; the variants are measured in epochs and
sample gradients (:func:`epochs_to_steps`), the schedules are fitted to the run's length
(:func:`schedule_spec`), and SGD's noise floor is read off a run's tail (:func:`tail_gap`,
:func:`zoom_window`).

The seed article (``/work/shared/seeds/``, in Chinese) illustrates gradient descent (4.1) and
stochastic gradient descent (4.2) with two short Python programs that import TensorFlow.  This
module keeps them as text (:data:`GD_CODE`, :data:`SGD_CODE`), reproduces their NumPy lines
faithfully -- never by executing the strings, and without TensorFlow, which they import but never
use -- and measures each defect:

1. shapes: ``theta = np.random.randn(1, 1)`` against ``y`` of shape ``(4,)``: ``X.dot(theta) - y``
   broadcasts ``(4, 1) − (4,)`` to ``(4, 4)``, the "gradient" is ``(1, 4)`` and the in-place
   ``theta -= alpha * gradients`` raises (``theta = theta - …`` would run and return four slopes);
2. factors: the batch gradient ``(1/m)·Xᵀ(Xθ − y)`` is the gradient of ½·MSE; the SGD gradient
   ``(2/m)·x_i(x_iθ − y_i)`` is the per-sample squared-error gradient ``2·x_i(x_iθ − y_i)`` shrunk by
   ``m``, so in expectation it is ∇MSE / m;
3. no intercept (the model is ``y = θ·x``);
4. ``loss_function`` is written with TensorFlow and never called;
5. ``np.random.randn`` / ``np.random.randint`` without a seed: every run differs.

:func:`corrected` runs the fixed versions with optlab (intercept, torch's SGD, seeded) and compares
them with the least-squares closed form.  NumPy only (``ast`` reads the samples' structure).
"""
from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from .. import data as _data
from .. import models as _models
from .. import schedules, specs, theory
from ..budget import RERUN, Budget, Cut
from ..i18n import domain
from ..optimizers import make as _make
from ..runner import Trajectory, run as _run
from ..surfaces.data import loss_surface_1d

Array = np.ndarray
_, N_, ngettext = domain("gradient_descent")

# ----------------------------------------------------------------------------------------------
# Learning rates from curvature
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Curvature:
    lam_max: float
    lam_min: float
    critical: float      # 2 / λ_max: above it GD diverges on this quadratic
    presets: dict        # name -> lr


PRESET_FACTORS = {"too small": 0.01, "good": None, "oscillating": 0.9, "diverging": 1.2}


def curvature(surface) -> Curvature:
    """Eigenvalues of the Hessian at the surface's minimum and the learning-rate presets they imply:
    too small = 1 % of 2/λ_max, good = 2/(λ_max + λ_min) (the best constant step on a quadratic),
    oscillating = 90 % and diverging = 120 % of the critical 2/λ_max."""
    lam = theory.hessian_eigenvalues(surface, surface.minima[0])
    lo, hi = float(lam[0]), float(lam[-1])
    crit = float(theory.stability_limit(0.0, hi))
    presets = {k: (theory.gd_best_lr(lo, hi) if f is None else f * crit) for k, f in PRESET_FACTORS.items()}
    return Curvature(hi, lo, crit, {k: float(f"{v:.4g}") for k, v in presets.items()})


def contraction(surface, lr: float) -> float:
    """max |1 − η λ| over the Hessian's eigenvalues at the minimum: GD's error shrinks by this
    factor per step."""
    return float(theory.gd_rate(lr, theory.hessian_eigenvalues(surface, surface.minima[0])))


# ----------------------------------------------------------------------------------------------
# Batch, mini-batch, stochastic; schedules
# ----------------------------------------------------------------------------------------------
def epochs_to_steps(epochs: float, batch_size: int, n: int) -> int:
    """Optimizer steps that process ``epochs``·N sample gradients with mini-batches of ``batch_size``."""
    return max(1, int(round(epochs * n / batch_size)))


def schedule_spec(name: str, steps: int) -> tuple | None:
    """A schedule fitted to a run of ``steps`` steps: it ends near 1 % of the base learning rate
    (step: halved four times; exponential: 0.01 at the end; cosine and warm-up: T_max = steps)."""
    steps = max(int(steps), 2)
    if name == "constant":
        return None
    if name == "step":
        return ("step", (("gamma", 0.5), ("step_size", max(1, steps // 5))))
    if name == "exponential":
        return ("exponential", (("gamma", float(0.01 ** (1.0 / steps))),))
    if name == "cosine":
        return ("cosine", (("T_max", steps), ("eta_min", 0.0)))
    if name == "warmup_cosine":
        return ("warmup_cosine", (("T_max", steps), ("warmup", max(1, steps // 10))))
    raise ValueError(f"unknown schedule {name!r}; choose one of: {', '.join(schedules.names())}")


def schedule_object(spec) -> schedules.Schedule:
    """The schedule of a :func:`schedule_spec` (the constant one for None)."""
    return specs.schedule_from_spec(spec) if spec is not None else schedules.get("constant")


def tail_gap(losses, f_star: float, fraction: float = 0.1) -> float:
    """Mean of f − f* over the last ``fraction`` of a run's losses: the noise floor SGD hovers at
    (inf once the run diverged)."""
    ls = np.asarray(losses, dtype=float)
    k = max(1, int(len(ls) * fraction))
    tail = ls[-k:] - f_star
    return float(np.mean(tail)) if np.all(np.isfinite(tail)) else math.inf


def zoom_window(center, trs, keep: float = 0.5, pad: float = 1.6) -> tuple:
    """A square window around ``center`` (the minimum) that holds the last ``keep`` share of every run."""
    c = np.array(center)
    r = 0.0
    for tr in trs:
        xs = np.asarray(tr.xs, dtype=float)
        tail = xs[int(len(xs) * (1 - keep)):]
        tail = tail[np.isfinite(tail).all(axis=1)]
        if len(tail):
            r = max(r, float(np.max(np.abs(tail - c))))
    r = pad * r if r > 0 else 1.0
    return ((float(c[0] - r), float(c[0] + r)), (float(c[1] - r), float(c[1] + r)))


# ----------------------------------------------------------------------------------------------
# What the noise does: the noise-free twin of a run, and the verdicts the captions are chosen by
# ----------------------------------------------------------------------------------------------
def noise_free_gaps(surface, x0, lrs) -> Array:
    r"""f − f* along full-batch gradient descent from ``x0`` with step sizes ``lrs`` (one per step):
    ``T + 1`` values, the start first.

    On an MSE surface (an exact quadratic, Hessian H) the error obeys
    :math:`e_{k+1} = (I - \gamma_k H)\,e_k`, and a mini-batch gradient is the full one plus zero-mean
    noise, so this is the *mean* path of SGD with the same steps: what is left of f − f* without
    the sampling noise.  Computed per eigen-direction of H in log space (no overflow for a divergent
    ``lrs``: the gap is then inf)."""
    lrs = np.asarray(lrs, dtype=float).reshape(-1)
    star = np.asarray(surface.minima[0], dtype=float)
    H = np.asarray(surface.hessian(star[None, :]), dtype=float).reshape(2, 2)
    lam, V = np.linalg.eigh(0.5 * (H + H.T))
    c0 = V.T @ (np.asarray(x0, dtype=float) - star)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        f = 1.0 - lrs[:, None] * lam[None, :]
        logs = np.vstack([np.zeros(len(lam)), np.cumsum(np.log(np.abs(f)), axis=0)])
        c = c0[None, :] * np.exp(logs)  # the sign does not matter: the gap is quadratic
        gaps = 0.5 * np.sum(lam[None, :] * c * c, axis=1)
    return np.where(np.isnan(gaps), np.inf, gaps)


# A run is "in its noise cloud" when what it has left of f − f* is mostly noise: its tail is more
# than NOISE_DOMINATED times what the noise-free twin has left over the same steps.
NOISE_DOMINATED = 2.0
# Two gaps are "about the same" within this factor (either way): finer differences between two
# noisy runs change with the draw of samples.
SAME_FACTOR = 1.25


def gap_floor(surface) -> float:
    """The smallest f − f* a run can show on ``surface``: below it the loss is f* to rounding (the
    larger of the loss's own rounding, 1e-12·|f*|, and what a position rounded to 1e-15·‖θ*‖
    leaves: λ_max·(1e-15·‖θ*‖)²).  Gaps below it are said as "≈ 0", never compared."""
    star = np.asarray(surface.minima[0], dtype=float)
    lam = float(np.max(theory.hessian_eigenvalues(surface, star)))
    pos = 1e-15 * max(1.0, float(np.linalg.norm(star)))
    return max(1e-12 * abs(float(surface.min_value)), lam * pos * pos, 1e-300)


def noise_dominated(tail: float, bias: float) -> bool:
    """The run's remaining gap is mostly sampling noise (see :data:`NOISE_DOMINATED`)."""
    return math.isfinite(tail) and tail > NOISE_DOMINATED * max(bias, 0.0) and tail > 0


def rises(losses, f_star: float, fraction: float = 0.5, share: float = 0.2) -> bool:
    """The loss rises in at least ``share`` of the steps of the last ``fraction`` of a run (rises
    above round-off only): the path keeps jumping instead of settling."""
    g = np.asarray(losses, dtype=float)
    if g.size < 3 or not np.all(np.isfinite(g)):
        return False
    tail = g[int(len(g) * (1 - fraction)):]
    tol = 1e-10 * max(abs(float(f_star)), 1.0)
    d = np.diff(tail)
    return bool(d.size and np.mean(d > tol) >= share)


VARIANTS = ("batch", "minibatch", "sgd")  # the order of the variants section's runs


@dataclass(frozen=True)
class VariantsVerdict:
    """What the variants section may claim about its three runs (batch, mini-batch, SGD).

    ``closest``: index of the variant whose last point is nearest the minimum (None: all
    diverged); ``ties``: the variants that end within ×:data:`SAME_FACTOR` of it (itself included:
    more than one means "about as close"); ``finals``/``tails``/``biases``: final f − f*, its mean over the last 10 % of
    steps and the noise-free twin's mean over the same steps (inf: diverged); ``jitter``: the
    noise claim, one of "noise" (both noisy runs sit in their noise clouds and the smaller batch's
    is larger), "similar", "reverse", "descending" (at least one has not reached its cloud),
    "none" (both at the minimum to rounding: no noise left), "diverged"; ``ratio``: SGD's tail over mini-batch's (nan unless both are in their clouds)."""

    closest: int | None
    ties: tuple[int, ...]
    finals: tuple[float, ...]
    tails: tuple[float, ...]
    biases: tuple[float, ...]
    jitter: str
    ratio: float

    @property
    def in_cloud(self) -> tuple[bool, ...]:
        return tuple(noise_dominated(t, b) for t, b in zip(self.tails, self.biases))


def variants_verdict(surface, trs, x0, lr: float) -> VariantsVerdict:
    """The verdict on the runs ``trs`` = (batch GD, mini-batch, SGD) at constant ``lr`` from ``x0``."""
    f_star = float(surface.min_value)
    finals, tails, biases = [], [], []
    for tr in trs:
        dv = bool(tr.diverged)
        finals.append(math.inf if dv else max(float(tr.losses[-1]) - f_star, 0.0))
        tails.append(math.inf if dv else max(tail_gap(tr.losses, f_star), 0.0))
        biases.append(math.inf if dv else tail_gap(noise_free_gaps(surface, x0, np.full(tr.steps, lr)), 0.0))
    ok = [i for i, f in enumerate(finals) if math.isfinite(f)]
    closest = min(ok, key=lambda i: finals[i]) if ok else None
    floor = gap_floor(surface)
    ties = () if closest is None else tuple(
        i for i in ok if finals[i] <= max(SAME_FACTOR * finals[closest], floor))
    ratio = math.nan
    if not (math.isfinite(tails[1]) and math.isfinite(tails[2])):
        jitter = "diverged"
    elif tails[1] <= floor and tails[2] <= floor:
        jitter = "none"
    elif not (noise_dominated(tails[1], biases[1]) and noise_dominated(tails[2], biases[2])):
        jitter = "descending"
    else:
        ratio = tails[2] / tails[1]
        jitter = "noise" if ratio > SAME_FACTOR else ("reverse" if ratio < 1 / SAME_FACTOR else "similar")
    return VariantsVerdict(closest, ties, tuple(finals), tuple(tails), tuple(biases), jitter, ratio)


def jumping(surface, trs, x0, lr: float) -> tuple[bool, ...]:
    """Which runs (at constant ``lr`` from ``x0``) keep jumping around the minimum at the end: their
    loss keeps rising and falling (:func:`rises`) and they are near it, in their noise cloud
    (:func:`noise_dominated`: not a noisy descent still going on)."""
    f_star = float(surface.min_value)
    out = []
    for tr in trs:
        if tr.diverged:
            out.append(False)
            continue
        bias = tail_gap(noise_free_gaps(surface, x0, np.full(tr.steps, lr)), 0.0)
        out.append(rises(tr.losses, f_star) and noise_dominated(max(tail_gap(tr.losses, f_star), 0.0), bias))
    return tuple(out)


# -- learning rates -------------------------------------------------------------------------------
def lr_regime(cv: Curvature, lr: float) -> str:
    """What constant-step GD does on a quadratic with the curvatures ``cv``:
    "newton" (one step lands on the minimum: ρ = 0), "monotone" (shrinks, no overshoot),
    "overshoot" (shrinks, flipping sign along the steepest direction), "marginal" (ρ = 1: the
    error neither grows nor shrinks), "diverges" (ρ > 1)."""
    rho = float(theory.gd_rate(lr, np.array([cv.lam_min, cv.lam_max])))
    if rho < 1e-9:
        return "newton"
    if abs(rho - 1.0) <= 1e-9:
        return "marginal"
    if rho > 1.0:
        return "diverges"
    return "overshoot" if lr * cv.lam_max > 1.0 + 1e-12 else "monotone"


def clamp_lr(lr: float) -> tuple[float, str | None]:
    """A learning rate inside ``specs.LR_MIN … specs.LR_MAX`` and which side it was clamped on
    ("low", "high", "nan") or None (used as given)."""
    try:
        v = float(lr)
    except (TypeError, ValueError):
        return specs.LR_MIN, "nan"
    if not math.isfinite(v):
        return (specs.LR_MAX, "high") if v == math.inf else (specs.LR_MIN, "nan" if math.isnan(v) else "low")
    if v < specs.LR_MIN:
        return specs.LR_MIN, "low"
    if v > specs.LR_MAX:
        return specs.LR_MAX, "high"
    return v, None


def steps_to_leave(rho: float, start: float, bound: float) -> float:
    """Steps until an error that starts at ``start`` and grows ×``rho`` per step passes ``bound``
    (inf when it does not grow)."""
    if not (rho > 1 and start > 0 and bound > start):
        return math.inf
    return math.ceil(math.log(bound / start) / math.log(rho))


# -- schedules --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScheduleVerdict:
    """The schedules section's claim: ``code`` is "diverged", "rounding" (both at the minimum to
    rounding: nothing to compare), "closer_noise" (the scheduled run
    ends closer and the constant one sits in its noise cloud: the smaller steps at the end shrank
    the cloud), "closer", "similar", "farther_descent" (the schedule shrank the steps before the
    run got near the minimum: even without noise it would end farther) or "farther";
    ``tails``/``biases`` as in :class:`VariantsVerdict`, constant first; ``ratio`` scheduled over
    constant tail (nan when a run diverged)."""

    code: str
    tails: tuple[float, float]
    biases: tuple[float, float]
    ratio: float


def schedule_verdict(surface, trs, x0) -> ScheduleVerdict:
    """Verdict on ``trs`` = (constant-lr run, scheduled run), same draws of samples, same start."""
    f_star = float(surface.min_value)
    tails, biases = [], []
    for tr in trs:
        if tr.diverged:
            tails.append(math.inf)
            biases.append(math.inf)
            continue
        tails.append(max(tail_gap(tr.losses, f_star), 0.0))
        biases.append(tail_gap(noise_free_gaps(surface, x0, np.asarray(tr.lrs, dtype=float).reshape(-1)), 0.0))
    if not all(math.isfinite(t) for t in tails):
        return ScheduleVerdict("diverged", tuple(tails), tuple(biases), math.nan)
    tc, ts = tails
    floor = gap_floor(surface)
    if tc <= floor and ts <= floor:
        return ScheduleVerdict("rounding", (tc, ts), (biases[0], biases[1]), math.nan)
    ratio = ts / max(tc, floor)
    if ratio < 1 / SAME_FACTOR:
        code = "closer_noise" if noise_dominated(tc, biases[0]) else "closer"
    elif ratio > SAME_FACTOR:
        code = "farther_descent" if biases[1] > 0.5 * ts else "farther"
    else:
        code = "similar"
    return ScheduleVerdict(code, (tc, ts), (biases[0], biases[1]), ratio)


# -- momentum ---------------------------------------------------------------------------------------
MOMENTUM_SHRINK = 1e6  # "there": f − f* shrunk this many times from the start


def steps_to_shrink(tr, f_star: float, shrink: float = MOMENTUM_SHRINK) -> int:
    """First step at which f − f* ≤ (f − f* at the start)/``shrink`` (−1: not within the run, or diverged)."""
    if tr.diverged:
        return -1
    g = np.asarray(tr.losses, dtype=float) - f_star
    hit = np.nonzero(g <= g[0] / shrink)[0]
    return int(hit[0]) if hit.size else -1


@dataclass(frozen=True)
class MomentumVerdict:
    """``code``: "same" (β = 0: the two runs are one), "both_diverge", "gd_diverges" (momentum
    converges where GD does not), "hb_diverges", "both" (both get there: compare ``steps``),
    "hb_only", "gd_only", "neither"; ``steps``: (GD, momentum) steps to shrink f − f* 10⁶× (−1:
    not there); ``rates``: the predicted error factor per step (GD max|1 − γλ|, heavy ball's
    spectral radius)."""

    code: str
    steps: tuple[int, int]
    rates: tuple[float, float]


def momentum_verdict(surface, gd, hb, lr: float, beta: float) -> MomentumVerdict:
    f_star = float(surface.min_value)
    lam = theory.hessian_eigenvalues(surface, surface.minima[0])
    rates = (float(theory.gd_rate(lr, lam)), float(theory.heavy_ball_rate(lr, beta, lam)))
    steps = (steps_to_shrink(gd, f_star), steps_to_shrink(hb, f_star))
    if beta == 0:
        code = "same"
    elif gd.diverged and hb.diverged:
        code = "both_diverge"
    elif gd.diverged:
        code = "gd_diverges"
    elif hb.diverged:
        code = "hb_diverges"
    elif steps[0] >= 0 and steps[1] >= 0:
        code = "both"
    elif steps[1] >= 0:
        code = "hb_only"
    elif steps[0] >= 0:
        code = "gd_only"
    else:
        code = "neither"
    return MomentumVerdict(code, steps, rates)


def momentum_faster(v: MomentumVerdict) -> bool:
    """Momentum gets there in fewer steps than GD (or gets there where GD does not)."""
    g, h = v.steps
    return h >= 0 and (g < 0 or h < g)


# -- the corrected version ------------------------------------------------------------------------
def crawl_steps(rho: float, factor: float = 10.0) -> float:
    """Steps for an error that shrinks ×``rho`` per step to shrink ``factor`` times (inf if it does not)."""
    if not (0 < rho < 1):
        return 0.0 if rho == 0 else math.inf
    return math.ceil(math.log(factor) / -math.log(rho))


MATCH_DIGITS = 4


def matches_closed_form(error: float, digits: int = MATCH_DIGITS) -> bool:
    """‖θ − θ*‖ small enough that (w, b) agree with the closed form to ``digits`` decimals."""
    return math.isfinite(error) and error < 0.5 * 10.0 ** (-digits)


# ----------------------------------------------------------------------------------------------
# Work budget: every run a widget or a link of the page can start is planned against optlab.budget
# ----------------------------------------------------------------------------------------------
# One step of the runner on a (w, b) data surface, in budget evaluations (optlab.budget: ≈ 1.8 µs
# each): measured by bench/bench_gd_budget.py on the project's 2-core machine while shared (full
# batch ≈ 65 µs a step, mini-batches of the 442 diabetes patients ≈ 110 µs: one uniform key per
# sample is drawn each step), with a margin of about a quarter.
STEP_EVALS_FULL = 45
STEP_EVALS_MINIBATCH = 75
# Of one rerun's budget (optlab.budget.RERUN), the share the runs may take: the rest is for the
# figures (contour grid, curves thinned to 3,000 points), the tables and a cold cache (a section's
# first visitor also pays for its shared figures): at 0.8 the dearest link (Fixed code, 3,000 +
# 5,000 steps) cost 0.98 s of CPU on a loaded machine (bench/bench_worst_case.py, load 18).  Every
# section's default still runs uncut (Schedules, batch 1 × 3 epochs: 199,050 of 240,000).
RUNS_SHARE = 0.6


def runs_budget() -> Budget:
    """What the runs of one rerun of the page may cost."""
    return Budget(RERUN).scaled(RUNS_SHARE)


def run_cost(steps: int, batch_size: int | None) -> float:
    """Budget evaluations of a run of ``steps`` steps (``batch_size`` None: full batch)."""
    per = STEP_EVALS_FULL if batch_size is None else STEP_EVALS_MINIBATCH
    return float(per) * (int(steps) + 1)


def fit_epochs(epochs: int, batch_sizes, n: int, budget: Budget | None = None) -> tuple[int, Cut | None]:
    """The most epochs (≤ ``epochs``) that runs with these batch sizes (None: full batch) can all
    take within ``budget`` (default :func:`runs_budget`): every run gets the same epochs, so a
    comparison at equal cost stays one.  ``(epochs, None)`` when everything fits."""
    budget = budget or runs_budget()

    def cost_of(e: int) -> float:
        return sum(run_cost(epochs_to_steps(e, b or n, n), b) for b in batch_sizes) if e > 0 else 0.0

    return budget.fit_cost(int(epochs), cost_of, what="epochs", unit="epoch")


def fit_steps(requested: Sequence[tuple[int, int | None]], budget: Budget | None = None) -> tuple[list[int], Cut | None]:
    """Steps for runs ``requested`` = ``[(steps, batch_size), …]`` within ``budget``: all as asked
    when they fit, else each cut by the same factor (a run keeps its share of the work).  The
    :class:`~optlab.budget.Cut` counts the steps of all the runs."""
    budget = budget or runs_budget()
    total = sum(run_cost(s, b) for s, b in requested)
    if total <= budget.evals:
        return [int(s) for s, _b in requested], None
    f = budget.evals / total
    allowed = [max(1, int(s * f)) for s, _b in requested]
    while sum(run_cost(s, b) for s, (_s0, b) in zip(allowed, requested)) > budget.evals and max(allowed) > 1:
        i = int(np.argmax(allowed))
        allowed[i] -= 1
    return allowed, Cut("steps", sum(s for s, _b in requested), sum(allowed), unit="step")


# ----------------------------------------------------------------------------------------------
# The seed article's code
# ----------------------------------------------------------------------------------------------
# The seed text as stored lost every leading space; the indentation below is restored (and is the
# only change): strip each line and you get the seed's lines back (tests/chapters/test_gradient_descent.py checks it).
GD_CODE = '''import numpy as np
import tensorflow as tf
# 定义损失函数
def loss_function(y_true, y_pred):
    return tf.reduce_mean(tf.square(y_true - y_pred))
# 定义梯度下降法
def gradient_descent(X, y, theta, alpha, iterations):
    m = len(y)
    for i in range(iterations):
        gradients = (1 / m) * X.T.dot(X.dot(theta) - y)
        theta -= alpha * gradients
    return theta
# 生成数据
X = np.array([[1], [2], [3], [4]])
y = np.array([1, 2, 3, 4])
# 初始化模型参数
theta = np.random.randn(1, 1)
# 设置学习率和迭代次数
alpha = 0.01
iterations = 1000
# 优化模型参数
theta = gradient_descent(X, y, theta, alpha, iterations)
print("优化后的模型参数:", theta)
'''

SGD_CODE = '''import numpy as np
import tensorflow as tf
# 定义损失函数
def loss_function(y_true, y_pred):
    return tf.reduce_mean(tf.square(y_true - y_pred))
# 定义随机梯度下降法
def stochastic_gradient_descent(X, y, theta, alpha, iterations):
    m = len(y)
    for i in range(iterations):
        random_index = np.random.randint(m)
        gradients = (2 / m) * X[random_index].dot(X[random_index].dot(theta) - y[random_index])
        theta -= alpha * gradients
    return theta
# 生成数据
X = np.array([[1], [2], [3], [4]])
y = np.array([1, 2, 3, 4])
# 初始化模型参数
theta = np.random.randn(1, 1)
# 设置学习率和迭代次数
alpha = 0.01
iterations = 1000
# 优化模型参数
theta = stochastic_gradient_descent(X, y, theta, alpha, iterations)
print("优化后的模型参数:", theta)
'''

# The Chinese comments and the printed label, in English.
TRANSLATIONS = {
    "定义损失函数": N_("define the loss function"),
    "定义梯度下降法": N_("define gradient descent"),
    "定义随机梯度下降法": N_("define stochastic gradient descent"),
    "生成数据": N_("generate the data"),
    "初始化模型参数": N_("initialise the model parameters"),
    "设置学习率和迭代次数": N_("set the learning rate and the number of iterations"),
    "优化模型参数": N_("optimise the model parameters"),
    "优化后的模型参数:": N_("model parameters after optimisation:"),
}


@dataclass(frozen=True)
class Sample:
    key: str
    section: str
    title: str
    code: str
    function: str  # name of the optimisation routine the sample defines


SAMPLES = {
    "gd": Sample("gd", "4.1", N_("gradient descent example"), GD_CODE, "gradient_descent"),
    "sgd": Sample("sgd", "4.2", N_("SGD example"), SGD_CODE, "stochastic_gradient_descent"),
}

ALPHA = 0.01        # the article's learning rate
ITERATIONS = 1000   # and number of iterations

# The article's sections 3.1-3.4 announce "数学模型公式为:" ("the mathematical model is:") and then
# show nothing: the formulas were lost.  Here they are, in the notation of this app.
FORMULAS = {
    "objective": r"L(\theta)=\frac{1}{N}\sum_{i=1}^{N}\ell\big(f_\theta(x_i),\,y_i\big)",
    "gd": (r"\theta_{t+1}=\theta_t-\eta\,\nabla L(\theta_t)"
           r"=\theta_t-\eta\,\frac{1}{N}\sum_{i=1}^{N}\nabla\ell_i(\theta_t)"),
    "sgd": r"\theta_{t+1}=\theta_t-\eta\,\nabla\ell_{i_t}(\theta_t),\qquad i_t\sim\mathcal U\{1,\dots,N\}",
    "minibatch": (r"\theta_{t+1}=\theta_t-\eta\,\frac{1}{|B_t|}\sum_{i\in B_t}\nabla\ell_i(\theta_t),"
                  r"\qquad B_t\subset\{1,\dots,N\},\ |B_t|=b"),
    "unbiased": r"\mathbb E_{B_t}\Big[\frac{1}{|B_t|}\sum_{i\in B_t}\nabla\ell_i(\theta)\Big]=\nabla L(\theta)",
    "newton": r"\theta_{t+1}=\theta_t-\big[\nabla^2L(\theta_t)\big]^{-1}\nabla L(\theta_t)",
    "epochs": r"\text{epochs}=\frac{t\cdot b}{N},\qquad \text{sample gradients}=t\cdot b",
    "stability": (r"\theta_{t+1}-\theta^*=(I-\eta H)(\theta_t-\theta^*)\ \Rightarrow\ "
                  r"\text{stable iff }\ 0<\eta<\frac{2}{\lambda_{\max}(H)}"),
    "article_batch": (r"g=\frac{1}{m}X^\top(X\theta-y)=\nabla_\theta\Big[\frac{1}{2m}\sum_{i=1}^{m}(x_i\theta-y_i)^2\Big]"
                      r"=\tfrac12\nabla\,\mathrm{MSE}"),
    "article_sgd": (r"g=\frac{2}{m}\,x_i(x_i\theta-y_i)=\frac{1}{m}\nabla_\theta(x_i\theta-y_i)^2,"
                    r"\qquad \mathbb E_i[g]=\frac{1}{m}\nabla\,\mathrm{MSE}"),
    "per_sample": (r"\nabla_\theta (x_i\theta-y_i)^2=2\,x_i(x_i\theta-y_i),"
                   r"\qquad \mathbb E_i\big[2x_i(x_i\theta-y_i)\big]=\nabla\,\mathrm{MSE}"),
}


def article_data() -> tuple[Array, Array]:
    """The article's data exactly as it builds it: integer ``X`` of shape (4, 1) and ``y`` of shape (4,)."""
    return np.array([[1], [2], [3], [4]]), np.array([1, 2, 3, 4])


def seed_lines(code: str) -> list[str]:
    """The sample's non-blank lines with indentation stripped: the form the seed text stores."""
    return [ln.strip() for ln in code.splitlines() if ln.strip()]


# ----------------------------------------------------------------------------------------------
# Bug 1: shapes.  The article's NumPy lines, reproduced one by one (the strings are never executed).
# ----------------------------------------------------------------------------------------------
@dataclass
class GDReplay:
    """What the article's ``gradient_descent`` does with its own data.

    ``shapes``: shape of every intermediate of the first iteration; ``error``: NumPy's message when
    the in-place update fails (None if it ran); ``failed_at``: that iteration (−1: none);
    ``theta``: the result (the start when it failed).
    """

    theta0: Array
    shapes: dict[str, tuple]
    error: str | None
    failed_at: int
    theta: Array
    in_place: bool


def replay_gd(theta0=None, alpha: float = ALPHA, iterations: int = ITERATIONS, *, in_place: bool = True,
              seed: int = 0) -> GDReplay:
    """The article's 4.1 loop on its data, line for line.

    ``in_place=True`` is the article's ``theta -= alpha * gradients``: NumPy refuses to write a
    (1, 4) result into the (1, 1) ``theta`` and raises at the first iteration.
    ``in_place=False`` is ``theta = theta - alpha * gradients``: it runs, and ``theta`` becomes
    (1, 4): column j fits the constant target y_j, so it converges to y_j·Σx/Σx² = y_j/3.
    """
    X, y = article_data()
    theta = np.random.default_rng(seed).standard_normal((1, 1)) if theta0 is None else np.array(theta0, dtype=float)
    start = theta.copy()
    m = len(y)
    pred = X.dot(theta)
    resid = pred - y
    grads = (1 / m) * X.T.dot(resid)
    shapes = {"X": X.shape, "y": y.shape, "theta": theta.shape, "X.dot(theta)": pred.shape,
              "X.dot(theta) - y": resid.shape, "gradients": grads.shape}
    error, failed_at = None, -1
    for i in range(int(iterations)):
        gradients = (1 / m) * X.T.dot(X.dot(theta) - y)
        if in_place:
            try:
                theta -= alpha * gradients
            except ValueError as e:  # "non-broadcastable output operand with shape (1,1) …"
                error, failed_at = str(e), i
                break
        else:
            theta = theta - alpha * gradients
    shapes["theta after"] = theta.shape
    return GDReplay(start, shapes, error, failed_at, theta, in_place)


@dataclass
class SGDReplay:
    """The article's ``stochastic_gradient_descent`` with its ``np.random`` calls made explicit."""

    theta0: Array
    thetas: Array          # (iterations + 1,) the scalar θ after each iteration, θ₀ first
    picks: Array           # the random indices drawn
    gradient_shape: tuple  # the shape of ``gradients`` (a 0-d scalar: X[i] is (1,))
    theta: Array           # the result, shape (1, 1)


def replay_sgd(seed: int | None = 0, alpha: float = ALPHA, iterations: int = ITERATIONS, theta0=None) -> SGDReplay:
    """The article's 4.2 loop on its data, line for line, with the global ``np.random`` replaced by a
    generator seeded with ``seed`` (the article uses no seed, so each run of it is a different one of these).

    Here the shapes work out: ``X[i]`` is (1,), ``X[i].dot(theta)`` is (1,), the gradient a scalar.
    """
    rng = np.random.default_rng(seed)
    X, y = article_data()
    theta = rng.standard_normal((1, 1)) if theta0 is None else np.array(theta0, dtype=float).reshape(1, 1)
    start = theta.copy()
    m = len(y)
    thetas = [float(theta[0, 0])]
    picks = []
    shape = None
    for i in range(int(iterations)):
        random_index = int(rng.integers(m))
        gradients = (2 / m) * X[random_index].dot(X[random_index].dot(theta) - y[random_index])
        shape = np.shape(gradients)
        theta -= alpha * gradients
        thetas.append(float(theta[0, 0]))
        picks.append(random_index)
    return SGDReplay(start, np.array(thetas), np.array(picks, dtype=int), shape, theta)


# ----------------------------------------------------------------------------------------------
# Bug 2: the gradients' factors, measured against optlab's MSE gradient
# ----------------------------------------------------------------------------------------------
def mse_grad_no_intercept(theta: float, X=None, y=None) -> float:
    """dMSE/dθ of the article's model ŷ = θ·x, from optlab's model (its ∂/∂w at b = 0)."""
    if X is None:
        X, y = article_data()
    model = _models.LinearRegression("mse")
    return float(model.grad(np.array([float(theta), 0.0]), np.asarray(X, float), np.asarray(y, float))[0])


def article_batch_gradient(theta: float) -> float:
    """The article's batch gradient ``(1/m)·Xᵀ(Xθ − y)`` with consistent shapes (θ a scalar)."""
    X, y = article_data()
    m = len(y)
    return float((1 / m) * X[:, 0].dot(X[:, 0] * theta - y))


def article_sgd_gradient(theta: float, i: int) -> float:
    """The article's SGD gradient ``(2/m)·x_i(x_iθ − y_i)`` for sample ``i``."""
    X, y = article_data()
    m = len(y)
    return float((2 / m) * X[i, 0] * (X[i, 0] * theta - y[i]))


def per_sample_gradient(theta: float, i: int) -> float:
    """The gradient of the one-sample squared error (x_iθ − y_i)², from optlab's MSE on one sample."""
    X, y = article_data()
    return mse_grad_no_intercept(theta, X[i:i + 1], y[i:i + 1])


@dataclass
class FactorReport:
    theta: float
    mse_grad: float            # ∇MSE(θ)
    batch_grad: float          # the article's batch gradient
    batch_ratio: float         # batch_grad / mse_grad  (= 1/2)
    sample_grads: Array        # article's per-sample SGD gradients, i = 0..m−1
    correct_sample_grads: Array  # 2 x_i (x_i θ − y_i)
    sample_ratio: float        # correct / article (= m)
    sgd_mean: float            # mean over i of the article's SGD gradient (= ∇MSE / m)
    m: int


def factor_report(theta: float = 0.5) -> FactorReport:
    """Every gradient of the two samples at ``theta``, next to optlab's MSE gradient."""
    X, y = article_data()
    m = len(y)
    g = mse_grad_no_intercept(theta)
    b = article_batch_gradient(theta)
    art = np.array([article_sgd_gradient(theta, i) for i in range(m)])
    ok = np.array([per_sample_gradient(theta, i) for i in range(m)])
    nz = art != 0
    ratio = float(np.median(ok[nz] / art[nz])) if nz.any() else float("nan")
    return FactorReport(float(theta), g, b, b / g if g else float("nan"), art, ok, ratio, float(art.mean()), m)


# ----------------------------------------------------------------------------------------------
# Bugs 3-5: intercept, TensorFlow, seeds
# ----------------------------------------------------------------------------------------------
@dataclass
class InterceptReport:
    w_origin: float        # best slope of ŷ = w·x (no intercept)
    mse_origin: float
    wb: Array              # best (w, b) of ŷ = w·x + b
    mse_wb: float
    label: str


def intercept_report(x, y, label: str = "data") -> InterceptReport:
    """Best line through the origin (the article's model) against the best line with an intercept."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    w0 = float(np.linalg.lstsq(x[:, None], y, rcond=None)[0][0])
    wb = _models.LinearRegression.closed_form(x, y)
    mse = _models.LinearRegression("mse")
    return InterceptReport(w0, float(mse.loss(np.array([w0, 0.0]), x, y)), wb, float(mse.loss(wb, x, y)), label)


@dataclass
class CodeFacts:
    imports: list[str]              # module names ("numpy", "tensorflow")
    defined: list[str]
    called: list[str]
    unused_functions: list[str]     # defined, never called
    tensorflow_only_in: list[str]   # the functions whose body is the only place ``tf`` appears
    unseeded_calls: list[str]       # np.random.* calls while no seed is ever set


def code_facts(code: str) -> CodeFacts:
    """What a sample imports, defines and calls, read with ``ast`` (the code is parsed, never run)."""
    tree = ast.parse(code)
    imports = [a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names]
    defs = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    defined = [d.name for d in defs]
    called = sorted({n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)})
    tf_in = set()
    tf_outside = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == "tf":
            owner = [d.name for d in defs if d.lineno <= node.lineno <= (d.end_lineno or d.lineno)]
            if owner:
                tf_in.update(owner)
            else:
                tf_outside = True
    rand = []
    seeded = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            txt = ast.unparse(node.func)
            if txt.startswith("np.random."):
                if txt.endswith(("seed", "default_rng")):
                    seeded = True
                else:
                    rand.append(txt)
    return CodeFacts(imports, defined, called, [d for d in defined if d not in called],
                     [] if tf_outside else sorted(tf_in), [] if seeded else sorted(set(rand)))


# ----------------------------------------------------------------------------------------------
# Corrected versions
# ----------------------------------------------------------------------------------------------
def fixed_numpy_gd(X, y, alpha: float = ALPHA, iterations: int = ITERATIONS, seed: int = 0) -> Array:
    """The article's 4.1 loop, minimally repaired: a column of ones for the intercept, θ a vector
    (so ``Xθ − y`` stays (m,)), the MSE gradient ``(2/m)·Xᵀ(Xθ − y)`` and a seeded start."""
    Xt = np.column_stack([np.asarray(X, float).reshape(len(y), -1), np.ones(len(y))])
    y = np.asarray(y, float)
    theta = np.random.default_rng(seed).standard_normal(Xt.shape[1])
    m = len(y)
    for _ in range(int(iterations)):
        theta = theta - alpha * (2 / m) * Xt.T.dot(Xt.dot(theta) - y)
    return theta


def fixed_numpy_sgd(X, y, alpha: float = ALPHA, iterations: int = ITERATIONS, seed: int = 0) -> Array:
    """The article's 4.2 loop, minimally repaired: intercept, θ a vector, the per-sample gradient
    ``2·x_i(x_iθ − y_i)`` (no 1/m) and one seeded generator for the start and the picks."""
    rng = np.random.default_rng(seed)
    Xt = np.column_stack([np.asarray(X, float).reshape(len(y), -1), np.ones(len(y))])
    y = np.asarray(y, float)
    theta = rng.standard_normal(Xt.shape[1])
    for _ in range(int(iterations)):
        i = int(rng.integers(len(y)))
        theta = theta - alpha * 2 * Xt[i] * (Xt[i].dot(theta) - y[i])
    return theta


@dataclass
class Corrected:
    """Optlab's runs on the article's data next to the closed form ``np.linalg.lstsq``."""

    closed_form: Array          # (w, b)
    gd: Trajectory
    sgd: Trajectory
    gd_error: float             # ‖θ_GD − θ*‖
    sgd_error: float
    surface: Any = field(repr=False)
    x: Array = field(repr=False, default=None)
    y: Array = field(repr=False, default=None)


def corrected(lr_gd: float = 0.1, steps_gd: int = 1000, lr_sgd: float = 0.02, steps_sgd: int = 2000,
              seed: int = 0, x0=(0.0, 0.0), dataset: str = "article_toy") -> Corrected:
    """GD and SGD (batch size 1) on ŷ = w·x + b with MSE, run by optlab (torch.optim.SGD's rule on
    the data-built (w, b) surface), and the least-squares solution they should reach."""
    ds = _data.load(dataset)
    x, y = np.asarray(ds.X[:, 0], float), np.asarray(ds.y, float)
    surface = loss_surface_1d(x, y, "mse", label="the article's data")
    star = _models.LinearRegression.closed_form(x, y)
    gd = _run(surface, _make("sgd", lr=lr_gd), np.asarray(x0, float), int(steps_gd), record="path")
    sgd = _run(surface, _make("sgd", lr=lr_sgd), np.asarray(x0, float), int(steps_sgd), batch_size=1, seed=seed,
               record="path")

    def err(tr):
        return float(np.linalg.norm(tr.final_x - star)) if not tr.diverged else float("inf")

    return Corrected(star, gd, sgd, err(gd), err(sgd), surface, x, y)


ROW_KEYS = ("closed", "gd", "sgd", "numpy_gd", "numpy_sgd")


def article_rows(c: Corrected, numpy_gd, numpy_sgd) -> list[dict[str, Any]]:
    """Result table: each method's (w, b), its distance to the closed form and its MSE (NaN and inf
    for a diverged run), with what it ran: ``key`` one of :data:`ROW_KEYS`, ``steps`` and ``lr``
    (None for the closed form; the article's settings for its two loops)."""
    mse = _models.LinearRegression("mse")
    rows = []
    for key, th, steps, lr in (("closed", c.closed_form, None, None),
                               ("gd", c.gd.final_x, c.gd.steps, c.gd.hyper["lr"]),
                               ("sgd", c.sgd.final_x, c.sgd.steps, c.sgd.hyper["lr"]),
                               ("numpy_gd", numpy_gd, ITERATIONS, ALPHA),
                               ("numpy_sgd", numpy_sgd, ITERATIONS, ALPHA)):
        th = np.asarray(th, dtype=float)
        ok = bool(np.all(np.isfinite(th)))
        nan = float("nan")
        rows.append({"key": key, "w": float(th[0]) if ok else nan, "b": float(th[1]) if ok else nan,
                     "error": float(np.linalg.norm(th - c.closed_form)) if ok else float("inf"),
                     "mse": float(mse.loss(th, c.x, c.y)) if ok else float("inf"), "steps": steps,
                     "lr": None if lr is None else float(lr)})
    return rows


def loss_shape(losses, diverged: bool = False) -> int:
    """How a loss curve starts: 0 it rises at the first step, 1 it falls first and rises later
    (or the run diverged later), 2 it never rises."""
    g = np.asarray(losses, dtype=float)
    if g.size > 1 and not g[1] <= g[0]:
        return 0
    d = np.diff(g)
    return 1 if (diverged or bool(np.any(~(d <= 0)))) else 2


def article_prints(theta) -> str:
    """What the article's ``print`` shows for ``theta`` (NumPy's own rendering)."""
    return np.array2string(np.asarray(theta))


def same_print(thetas) -> bool:
    """Every run prints the same θ."""
    return len({article_prints(t) for t in thetas}) == 1


def paths_differ(runs) -> bool:
    """At least two of the article's SGD runs took different paths."""
    ths = [np.asarray(r.thetas) for r in runs]
    return any(not np.array_equal(ths[0], t) for t in ths[1:])


def is_close(a: float, b: float, tol: float = 1e-12) -> bool:
    """|a − b| ≤ tol·max(1, |b|): a claim such as "ratio ½" or "the same MSE" holds to rounding."""
    a, b = float(a), float(b)
    return math.isfinite(a) and math.isfinite(b) and abs(a - b) <= tol * max(1.0, abs(b))
