r"""Run optimizers on surfaces: batched trajectories, stochastic gradients, clipping, divergence flags.

``run(surface, optimizer, x0, steps)`` advances one start ``x0 (2,)`` or a batch ``(B, 2)`` (or one
start with per-run hyperparameters) and returns a :class:`Trajectory`.  A run that produces a
non-finite value or leaves ``|x| ≤ bound`` is stopped and flagged (``diverged_at``); its later
positions are NaN, and it never takes the other runs of the batch down.  Nothing here raises for a
bad numerical outcome, only for bad arguments.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .optimizers import Optimizer, make
from .optimizers.base import batch_size_of
from .schedules import Schedule, get as get_schedule

RECORD_MODES = ("full", "path", "summary")
MAX_STEPS = 100_000


@dataclass
class Trajectory:
    r"""The record of one ``run``; arrays have a run axis only when the run was batched.

    xs (T+1, [B,] D) positions, x₀ first;  losses, grad_norms (T+1, [B]) at those positions (exact,
    also for stochastic runs);  grads, updates (T, [B,] D): the gradient the optimizer saw at step
    k = 1…T and the step it took;  lrs (T, [B]) learning rate per step;  states: optimizer state
    after each step (``"exp_avg"`` …, shapes (T, [B,] …)) and derived quantities (``"m_hat"`` …);
    diverged_at: step whose result was non-finite or out of bounds (−1: never);  converged_at: first
    step with ‖∇f‖ ≤ tol (−1: never);  reached_at: first step with loss ≤ target (−1: never).
    """

    xs: np.ndarray | None
    losses: np.ndarray | None
    grad_norms: np.ndarray | None
    grads: np.ndarray | None
    updates: np.ndarray | None
    lrs: np.ndarray | None
    states: dict[str, np.ndarray]
    diverged_at: Any
    diverged_reason: Any
    converged_at: Any
    reached_at: Any
    final_x: np.ndarray
    final_loss: Any
    best_loss: Any
    steps: int
    batched: bool
    optimizer: str
    label: str
    hyper: dict[str, Any]
    surface: str
    batch_size: int | None = None
    n_samples: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def diverged(self):
        """True (per run) where the run was stopped for diverging."""
        return np.asarray(self.diverged_at) >= 0 if self.batched else bool(self.diverged_at >= 0)

    @property
    def success(self):
        return ~np.asarray(self.diverged) if self.batched else not self.diverged

    @property
    def message(self) -> str:
        if not self.batched:
            if self.diverged_at >= 0:
                return f"{self.label} diverged at step {self.diverged_at}: {self.diverged_reason}"
            if self.converged_at >= 0:
                return f"{self.label} converged at step {self.converged_at} (gradient norm below tolerance)"
            return f"{self.label} ran {self.steps} steps; final loss {self.final_loss:.6g}"
        n = len(self.diverged_at)
        nd = int(np.sum(np.asarray(self.diverged_at) >= 0))
        nc = int(np.sum(np.asarray(self.converged_at) >= 0))
        return f"{self.label}: {n} runs, {nd} diverged, {nc} converged, {self.steps} steps"


def _as_x0(x0) -> np.ndarray:
    x = np.asarray(x0, dtype=float)
    if x.ndim not in (1, 2) or x.shape[-1] < 1:
        raise ValueError(f"x0 must have shape (D,) or (B, D); got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"x0 must be finite; got {x0!r}")
    return x


def _steps(steps) -> int:
    if isinstance(steps, bool) or not float(steps).is_integer() or not 0 <= int(steps) <= MAX_STEPS:
        raise ValueError(f"steps must be a whole number from 0 to {MAX_STEPS}; got {steps!r}")
    return int(steps)


def _positive(name, v):
    if v is None:
        return None
    v = float(v)
    if not np.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a positive number; got {v!r}")
    return v


def default_bound(surface) -> float:
    """How far a run may wander before it counts as diverged: 100× the plotting window (≥ 1000)."""
    ext = getattr(surface, "extent", None)
    return max(1e3, 100.0 * float(ext)) if ext else 1e6


def clip_grads(g: np.ndarray, clip_norm=None, clip_value=None) -> np.ndarray:
    """Per-run gradient clipping as ``torch.nn.utils.clip_grad_value_`` then ``clip_grad_norm_``.

    By norm: ``g ← g · min(1, c / (‖g‖ + 10⁻⁶))`` (torch's formula, ε included).
    """
    if clip_value is not None:
        g = np.clip(g, -clip_value, clip_value)
    if clip_norm is not None:
        norm = np.sqrt(np.einsum("bi,bi->b", g, g))
        coef = np.minimum(clip_norm / (norm + 1e-6), 1.0)
        g = g * coef[:, None]
    return g


def run(surface, optimizer, x0, steps: int = 100, *, noise: float = 0.0, batch_size: int | None = None,
        seed: int | None = 0, schedule: Schedule | str | None = None, clip_norm: float | None = None,
        clip_value: float | None = None, tol: float | None = None, target: float | None = None,
        bound: float | None = None, record: str = "full") -> Trajectory:
    r"""Run ``optimizer`` on ``surface`` from ``x0`` for ``steps`` steps.

    Parameters
    ----------
    surface : anything with ``value``, ``grad`` (and ``hessian`` for Newton) over ``(B, D)``.
    optimizer : an :class:`~optlab.optimizers.Optimizer` or a name (torch defaults).
    x0 : ``(D,)`` one start, or ``(B, D)`` a batch of starts.
    noise : σ of Gaussian noise added to every gradient (stochastic gradient), seeded by ``seed``.
    batch_size : real mini-batch sampling for data-built surfaces (those with ``minibatch_grad``).
    schedule : a :mod:`~optlab.schedules` schedule (or its name) applied to the optimizer's lr.
    clip_norm, clip_value : gradient clipping per run (torch's ``clip_grad_norm_``/``clip_grad_value_``).
    tol : freeze a run once ‖∇f‖ ≤ tol (``converged_at``).  target : record the first step with loss ≤ target.
    bound : a run whose position leaves ``max|xᵢ| ≤ bound`` is flagged diverged (default 100× the window).
    record : ``"full"`` (positions, losses, gradients, steps and optimizer state per step),
        ``"path"`` (positions, losses, gradient norms) or ``"summary"`` (final values only: sweeps).
    """
    opt = make(optimizer) if isinstance(optimizer, str) else optimizer
    if not isinstance(opt, Optimizer):
        raise ValueError(f"optimizer must be an optlab Optimizer or a name; got {optimizer!r}")
    if record not in RECORD_MODES:
        raise ValueError(f"record must be one of {', '.join(RECORD_MODES)}; got {record!r}")
    T = _steps(steps)
    X = _as_x0(x0)
    noise = 0.0 if noise is None else float(noise)
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be ≥ 0; got {noise!r}")
    clip_norm, clip_value = _positive("clip_norm", clip_norm), _positive("clip_value", clip_value)
    tol = _positive("tol", tol) if tol is not None else None
    bound = _positive("bound", bound) if bound is not None else default_bound(surface)
    sched = get_schedule(schedule)
    if batch_size is not None:
        if not hasattr(surface, "minibatch_grad"):
            raise ValueError("batch_size needs a data-built surface (with minibatch_grad); use noise= for others")
        n = int(getattr(surface, "n_samples"))
        if isinstance(batch_size, bool) or int(batch_size) != batch_size or not 1 <= int(batch_size) <= n:
            raise ValueError(f"batch_size must be a whole number from 1 to {n}; got {batch_size!r}")
        batch_size = int(batch_size)

    hyper_B = batch_size_of(opt.hyper)
    batched = X.ndim == 2 or hyper_B is not None
    if X.ndim == 1:
        X = np.broadcast_to(X, (hyper_B or 1, X.shape[0]))
    if hyper_B is not None and X.shape[0] != hyper_B:
        if X.shape[0] == 1:
            X = np.broadcast_to(X, (hyper_B, X.shape[1]))
        else:
            raise ValueError(f"x0 has {X.shape[0]} starts but the hyperparameters have {hyper_B} values")
    x = np.array(X, dtype=float)  # own, writeable copy
    B, D = x.shape
    rng = np.random.default_rng(seed)
    full, path = record == "full", record in ("full", "path")

    with np.errstate(all="ignore"):
        f, g = surface.value_and_grad(x)
        f = np.asarray(f, dtype=float).reshape(B)
        g = np.asarray(g, dtype=float).reshape(B, D)
        gn = np.sqrt(np.einsum("bi,bi->b", g, g))
        active = np.ones(B, dtype=bool)
        diverged_at = np.full(B, -1)
        reason = np.array([""] * B, dtype=object)
        converged_at = np.full(B, -1)
        reached_at = np.full(B, -1)
        best = f.copy()
        bad0 = ~np.isfinite(f) | ~np.isfinite(g).all(axis=1)
        if np.any(bad0):
            diverged_at[bad0], reason[bad0], active[bad0] = 0, "the surface is undefined at the start", False
        if tol is not None:
            c0 = active & (gn <= tol)
            converged_at[c0], active[c0] = 0, False
        if target is not None:
            reached_at[f <= target] = 0

        xs = [x.copy()] if path else None
        fs = [f.copy()] if path else None
        gns = [gn.copy()] if path else None
        gs, us, lrs, st_rec = ([], [], [], {}) if full else (None, None, None, None)
        if path:
            lrs = []
        state = opt.init(x)
        base_lr = opt.hyper["lr"]
        done_at = T
        for k in range(1, T + 1):
            if batch_size is not None:
                g_used = np.asarray(surface.minibatch_grad(x, rng, batch_size), dtype=float).reshape(B, D)
            elif noise > 0:
                g_used = g + noise * rng.standard_normal((B, D))
            else:
                g_used = g
            if clip_norm is not None or clip_value is not None:
                g_used = clip_grads(g_used, clip_norm, clip_value)
            lr_k = sched(base_lr, k - 1)
            u, state = opt.update(g_used, state, x, lr=lr_k, problem=surface, want_aux=full)
            if not active.all():
                u = np.where(active[:, None], u, 0.0)
            x_prev = x.copy() if not active.all() or full else None
            x += u
            f, g = surface.value_and_grad(x)
            f = np.asarray(f, dtype=float).reshape(B)
            g = np.asarray(g, dtype=float).reshape(B, D)
            need_gn = path or tol is not None
            if need_gn:
                gn = np.sqrt(np.einsum("bi,bi->b", g, g))
            # divergence: cheap global test first, per-run work only when something is off
            if not (np.isfinite(f).all() and np.abs(x).max() <= bound and np.isfinite(g).all()):
                nonfinite = ~np.isfinite(f) | ~np.isfinite(g).all(axis=1) | ~np.isfinite(x).all(axis=1)
                far = np.abs(np.nan_to_num(x, nan=0.0, posinf=np.inf, neginf=np.inf)).max(axis=1) > bound
                bad = active & (nonfinite | far)
                if np.any(bad):
                    diverged_at[bad] = k
                    reason[bad & nonfinite] = "the loss or its gradient became infinite or undefined (NaN)"
                    reason[bad & ~nonfinite & far] = f"the position left the region |x| ≤ {bound:g}"
                    active[bad] = False
                    if x_prev is None:
                        x_prev = x - u
                    x[bad] = x_prev[bad]  # keep dead runs finite inside; they are recorded as NaN
                    f[bad], g[bad] = np.nan, 0.0
                    if need_gn:
                        gn[bad] = np.nan
            best = np.fmin(best, f)
            if tol is not None:
                c = active & (gn <= tol)
                converged_at[c], active[c] = k, False
            if target is not None:
                r = (reached_at < 0) & (f <= target)
                reached_at[r] = k
            if path:
                xk = x.copy()
                dead = diverged_at >= 0
                xk[dead] = np.nan
                xs.append(xk)
                fs.append(np.where(dead, np.nan, f))
                gns.append(np.where(dead, np.nan, gn))
                lrs.append(np.broadcast_to(np.asarray(lr_k, dtype=float).reshape(-1), (B,)).copy())
            if full:
                gs.append(g_used.copy())
                us.append(np.where((diverged_at >= 0)[:, None] & (diverged_at < k)[:, None], np.nan, u))
                rec = {kk: v for kk, v in state.items() if isinstance(v, np.ndarray) and not kk.startswith("_")}
                rec.update(opt.step_aux(state))
                for kk, v in rec.items():
                    v = np.asarray(v, dtype=float)
                    v = np.broadcast_to(v, (B,) + v.shape[1:]) if v.ndim and v.shape[0] in (1, B) else v
                    st_rec.setdefault(kk, []).append(np.array(v, dtype=float))
            if not active.any():
                done_at = k
                break

        # runs stopped early (all converged or diverged): pad to the full length
        pad = T - done_at
        if path and pad:
            xlast = xs[-1]
            flast, glast = fs[-1], gns[-1]
            for _ in range(pad):
                xs.append(xlast.copy())
                fs.append(flast.copy())
                gns.append(glast.copy())
                lrs.append(np.full(B, np.nan))
            if full:
                for _ in range(pad):
                    gs.append(np.full((B, D), np.nan))
                    us.append(np.zeros((B, D)))
                for kk, v in st_rec.items():
                    v.extend([v[-1]] * pad)

    final_x = x.copy()
    final_x[diverged_at >= 0] = np.nan
    final_f = np.where(diverged_at >= 0, np.nan, f)

    def out(a, squeeze_axis):
        if a is None:
            return None
        a = np.asarray(a)
        return a if batched else np.take(a, 0, axis=squeeze_axis)

    st = {kk: out(np.stack(v), 1) for kk, v in (st_rec or {}).items()} if full and T else {}
    one = (lambda a: a) if batched else (lambda a: a[0])
    return Trajectory(
        xs=out(np.stack(xs), 1) if path else None,
        losses=out(np.stack(fs), 1) if path else None,
        grad_norms=out(np.stack(gns), 1) if path else None,
        grads=out(np.stack(gs) if gs else np.zeros((0, B, D)), 1) if full else None,
        updates=out(np.stack(us) if us else np.zeros((0, B, D)), 1) if full else None,
        lrs=out(np.stack(lrs) if lrs else np.zeros((0, B)), 1) if path else None,
        states=st,
        diverged_at=one(diverged_at) if batched else int(diverged_at[0]),
        diverged_reason=one(reason),
        converged_at=one(converged_at) if batched else int(converged_at[0]),
        reached_at=one(reached_at) if batched else int(reached_at[0]),
        final_x=one(final_x),
        final_loss=one(final_f) if batched else float(final_f[0]),
        best_loss=one(best) if batched else float(best[0]),
        steps=done_at if T else 0,
        batched=batched,
        optimizer=opt.name,
        label=opt.info.title,
        hyper=dict(opt.hyper),
        surface=getattr(surface, "name", type(surface).__name__),
        batch_size=batch_size,
        n_samples=getattr(surface, "n_samples", None),
    )
