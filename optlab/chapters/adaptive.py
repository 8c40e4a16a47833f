r"""The chapter "Adaptive methods": momentum's (lr, β) phase diagram, where Adam with L2 stops, and
the other numbers the page computes beyond single runs.

The heavy-ball closed forms the phase diagram is checked against are in :mod:`optlab.theory`; the
optimizers, their teaching variants and the LR finder are library modules.  Here:

* :func:`phase_range` and :func:`phase_sweep`: the learning-rate span of the diagram and one batched
  SGD sweep over (lr, β) on a quadratic;
* :func:`l2_minimum`: the point where a deterministic run with coupled L2 can stop.
"""
from __future__ import annotations

import math

import numpy as np

from .. import budget as _budget
from ..budget import Budget, Cut
from ..sweeps import SweepResult, sweep
from ..theory import critical_momentum, heavy_ball_rate, stability_limit


def phase_range(lam_max: float, lr: float) -> tuple[float, float]:
    """Learning-rate span of the phase diagram: three decades below the stability limit of
    momentum 0.99 (4/λ_max), widened to hold the user's ``lr``; rounded so the cache key is stable."""
    hi = 4.2 / lam_max
    lo = hi / 10 ** 2.5
    lo, hi = min(lo, lr / 1.5), max(hi, lr * 1.5)
    return float(f"{lo:.3g}"), float(f"{hi:.3g}")


def phase_sweep(surface, steps: int, nesterov: bool, lr_lo: float, lr_hi: float, x0, shrink: float = 1e6,
                n_lr: int = 48, n_beta: int = 45, budget: Budget | None = None) -> SweepResult:
    """One batched SGD sweep over log-spaced lr × β ∈ [0, 0.98] (Nesterov: from 0.02) on ``surface``
    from ``x0``; the target is f(x0)/shrink.  ``budget`` cuts the steps of the whole grid (plan the
    grid's size first with :func:`phase_grid`)."""
    lrs = np.geomspace(lr_lo, lr_hi, n_lr)
    betas = np.linspace(0.02 if nesterov else 0.0, 0.98, n_beta)
    x0 = np.asarray(x0, dtype=float)
    f0 = float(surface.value(x0))
    return sweep(surface, "sgd", {"lr": lrs, "momentum": betas}, x0, int(steps),
                 target=f0 / shrink, fixed={"nesterov": bool(nesterov)}, budget=budget)


def l2_minimum(surface, weight_decay: float, x0, iters: int = 50) -> np.ndarray:
    r"""The minimizer of ``f(θ) + ½λ‖θ‖²`` near ``x0`` by Newton's method (exact Hessian).

    Coupled L2 (torch's ``weight_decay`` in Adam, SGD …) adds ``λθ`` to the gradient, so a
    deterministic run can only stop where ``∇f(θ) + λθ = 0``: this point.  Decoupled decay (AdamW)
    has no such fixed point in general: its decay ``γλθ`` is not divided by √v̂.
    """
    lam = float(weight_decay)
    if not np.isfinite(lam) or lam < 0:
        raise ValueError(f"weight_decay must be ≥ 0; got {weight_decay!r}")
    x = np.asarray(x0, dtype=float).reshape(1, -1).copy()
    eye = np.eye(x.shape[1])
    for _ in range(int(iters)):
        g = surface.grad(x)[0] + lam * x[0]
        H = surface.hessian(x)[0] + lam * eye
        try:
            d = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(d)):
            break
        # damped when the Hessian is not positive definite: do not climb to a saddle
        if np.dot(d, g) <= 0:
            d = g / max(1.0, float(np.linalg.norm(g)))
        x[0] -= d
        if np.linalg.norm(d) < 1e-13 * (1 + np.linalg.norm(x[0])):
            break
    return x[0]


# ----------------------------------------------------------------------------------------------
# Work budgets of the page (optlab.budget)
# ----------------------------------------------------------------------------------------------
# optlab.budget counts work in "evaluations" calibrated on the dearest surface there is (a typed
# formula near the size limits: ~1.8 µs a point, ~170 µs a call).  The catalogue's surfaces are
# fixed NumPy code, far cheaper; measured on the project's 2-core machines, shared (load 4–6), the
# dearest of each (``bench/bench_worst_case.py --catalogue``): a call ≤ 55 µs (Goldstein–Price),
# a point in a batch ≤ 0.092 µs (Ackley), one step of one run with the full record ≤ 231 µs
# (Goldstein–Price, Adam) and the per-run part of a batched SGD step ≤ 0.3 µs.  In units of
# 0.1 µs (a catalogue "point") a rerun's 0.8 s is 8,000,000:
CATALOGUE_RERUN = Budget(evals=8_000_000, call_cost=600, step_cost=1_800, run_step_cost=3)
# A typed formula: optlab.budget's own calibration (one rerun).
FORMULA_RERUN = Budget()


def rerun_budget(is_formula: bool) -> Budget:
    """What one rerun of a section may compute on a typed formula or on a catalogue surface."""
    return FORMULA_RERUN if is_formula else CATALOGUE_RERUN


def plan_runs(budget: Budget, steps: int, runs: int, *, label: str = "") -> tuple[int, Cut | None]:
    """``(steps', cut)``: the steps each of ``runs`` separate single runs (first-order: one call
    per step) may take so that all of them fit in ``budget``; the :class:`~optlab.budget.Cut` when
    fewer than ``steps``.  Deterministic: the same request is cut the same way on every server."""
    share = budget.split(max(1, int(runs)))
    allowed = share.run_steps(int(steps), 1)
    if allowed >= int(steps):
        return int(steps), None
    return max(1, allowed), Cut("steps", int(steps), max(1, allowed), Cut.why, label, "step")


def phase_grid(budget: Budget, steps: int, n_lr: int = 48, n_beta: int = 45, *, label: str = "",
               min_side: int = 12) -> tuple[int, int, int, list[Cut]]:
    """``(n_lr', n_beta', steps', cuts)`` of the phase diagram's batched sweep within ``budget``:
    the grid is thinned first (both sides alike, not below ``min_side``), then steps are cut."""
    g, t, cuts = budget.plan_grid(int(n_lr) * int(n_beta), int(steps), min_grid=min_side * min_side, label=label)
    if g >= n_lr * n_beta:
        return int(n_lr), int(n_beta), int(t), cuts
    f = math.sqrt(g / (n_lr * n_beta))
    a, b = max(min_side, int(n_lr * f)), max(min_side, int(n_beta * f))
    while a * b > g and (a > min_side or b > min_side):
        if a >= b and a > min_side:
            a -= 1
        elif b > min_side:
            b -= 1
        else:
            break
    return a, b, int(t), cuts


# ----------------------------------------------------------------------------------------------
# Verdicts: every claim of the page is chosen by one of these, on the numbers it rests on
# ----------------------------------------------------------------------------------------------
def damping(lr: float, beta: float, kappa: float, tol: float = 5e-3) -> str:
    """The heavy-ball regime on ½θᵀdiag(1, κ)θ at (γ, β):

    ``"gd_unstable"``  β = 0 and γ·λ_max ≥ 2 (gradient descent diverges);
    ``"gd"``           β = 0, stable;
    ``"no_beta"``      β* ≥ 1: no momentum makes the slowest mode critically damped (β* is then not
                       a momentum and is not printed); with ``"unstable"`` taking precedence;
    ``"unstable"``     γ·λ_max ≥ 2(1 + β): heavy ball diverges;
    ``"critical"``     |β − β*| ≤ ``tol``;  ``"under"`` β > β* (spirals);  ``"over"`` β < β*.
    """
    lr, beta, kappa = float(lr), float(beta), float(kappa)
    lam_max = max(1.0, kappa)
    if not all(math.isfinite(v) for v in (lr, beta, kappa)):
        return "unstable"
    if beta <= 0:
        return "gd_unstable" if lr * lam_max >= 2 else "gd"
    if lr >= float(stability_limit(beta, lam_max)):
        return "unstable"
    b_star = float(critical_momentum(lr, [1.0, kappa]))
    if not b_star < 1:
        return "no_beta"
    if abs(beta - b_star) <= tol:
        return "critical"
    return "under" if beta > b_star else "over"


def rate_verdict(rho: float) -> str:
    """``"shrinks"`` (ρ < 1), ``"stalls"`` (ρ = 1 to 1e-12), ``"grows"`` (ρ > 1) or ``"nan"``."""
    rho = float(rho)
    if not math.isfinite(rho):
        return "nan"
    if abs(rho - 1) <= 1e-12:
        return "stalls"
    return "shrinks" if rho < 1 else "grows"


def race(a: float, b: float, *, diverged_a: bool = False, diverged_b: bool = False) -> str:
    """Who reached a target first, from step counts (``inf`` or < 0: never within the run):
    ``"a"``, ``"b"``, ``"tie"`` (same step), ``"neither"``, or ``"both_diverged"``."""
    a = math.inf if (diverged_a or a is None or (isinstance(a, (int, float)) and a < 0)) else float(a)
    b = math.inf if (diverged_b or b is None or (isinstance(b, (int, float)) and b < 0)) else float(b)
    if diverged_a and diverged_b:
        return "both_diverged"
    if math.isinf(a) and math.isinf(b):
        return "neither"
    if a == b:
        return "tie"
    return "a" if a < b else "b"


def lower(a: float, b: float, *, rel: float = 1e-3, floor: float = 1e-12) -> str:
    """Which final loss is lower: ``"a"``, ``"b"``, ``"tie"`` (within ``rel`` or both below
    ``floor``, where round-off decides), ``"a_nan"``/``"b_nan"``/``"both_nan"`` (diverged)."""
    a, b = float(a), float(b)
    fa, fb = math.isfinite(a), math.isfinite(b)
    if not fa and not fb:
        return "both_nan"
    if not fa:
        return "a_nan"
    if not fb:
        return "b_nan"
    if (abs(a) <= floor and abs(b) <= floor) or abs(a - b) <= rel * max(abs(a), abs(b)):
        return "tie"
    return "a" if a < b else "b"


def ratio_verdict(x: float, y: float, *, rel: float = 1e-3) -> str:
    """x against y for a "×-as-far" claim: ``"larger"``, ``"smaller"``, ``"same"`` or
    ``"undefined"`` (a zero, NaN or ∞: the ratio is not printed)."""
    x, y = float(x), float(y)
    if not (math.isfinite(x) and math.isfinite(y)) or y <= 0 or x <= 0:
        return "undefined"
    r = x / y
    if abs(r - 1) <= rel:
        return "same"
    return "larger" if r > 1 else "smaller"


def still_moving(step_lengths, window, *, rel: float = 1e-3, diverged: bool = False) -> str:
    """Is a run still moving at its end?  ``"diverged"``, ``"moving"`` (its mean step over the last
    tenth is more than ``rel`` of the window's width) or ``"stalled"``."""
    if diverged:
        return "diverged"
    a = np.asarray(step_lengths, dtype=float).reshape(-1)
    if a.size == 0 or not np.all(np.isfinite(a)):
        return "diverged"
    (x0, x1), (y0, y1) = window
    W = max(x1 - x0, y1 - y0)
    tail = a[-max(1, a.size // 10):]
    return "moving" if float(tail.mean()) > rel * W else "stalled"


def who_moves(adagrad: str, rmsprop: str) -> int:
    """The AdaGrad-vs-RMSProp question's answer from :func:`still_moving` of each run:
    0 only AdaGrad, 1 only RMSProp, 2 both, 3 neither (stalled or diverged)."""
    a, r = adagrad == "moving", rmsprop == "moving"
    return 2 if a and r else 0 if a else 1 if r else 3


def nearer(d_a: float, d_b: float, *, floor: float = 1e-3) -> str:
    """Which run ended nearer a point: ``"a"``, ``"b"``, ``"both"`` (both within ``floor``),
    ``"tie"``, ``"undefined"`` (a diverged run: NaN)."""
    a, b = float(d_a), float(d_b)
    if not (math.isfinite(a) and math.isfinite(b)):
        return "undefined"
    if a <= floor and b <= floor:
        return "both"
    if abs(a - b) <= 1e-3 * max(a, b):
        return "tie"
    return "a" if a < b else "b"


__all__ = ["phase_range", "phase_sweep", "l2_minimum", "CATALOGUE_RERUN", "FORMULA_RERUN", "rerun_budget",
           "plan_runs", "phase_grid", "damping", "rate_verdict", "race", "lower", "ratio_verdict", "still_moving",
           "who_moves", "nearer"]
