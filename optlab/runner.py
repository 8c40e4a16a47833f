r"""Run optimizers on surfaces: batched trajectories, stochastic gradients, clipping, divergence flags.

``run(surface, optimizer, x0, steps)`` advances one start ``x0 (2,)`` or a batch ``(B, 2)`` (or one
start with per-run hyperparameters) and returns a :class:`Trajectory`.  A run that produces a
non-finite value or leaves ``|x| ≤ bound`` is stopped and flagged (``diverged_at``); its later
positions are NaN, and it never takes the other runs of the batch down.  Nothing here raises for a
bad numerical outcome, only for bad arguments.

Two loops give the same numbers, bit for bit: the general one here (every option, every record
mode, the optimizer's chain of transforms) and the fused one (:mod:`optlab.optimizers.loop`) for
``record="summary"`` and ``record="path"`` runs of the first-order optimizers without noise,
clipping or ``tol`` (sweeps, basins, auto-tune, the arena, the chapters): it keeps points as
coordinate rows in preallocated buffers and calls the optimizer's fused kernel
(:mod:`optlab.optimizers.fused`).  ``loop.plan`` says which loop a run takes and why;
``tests/test_fused.py`` holds them equal.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .budget import Budget, Cut, Meter, as_budget
from .i18n import domain
from .optimizers import Optimizer, loop, make
from .optimizers.base import batch_size_of
from .schedules import Schedule, get as get_schedule

_, N_, ngettext = domain("optlab")

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
    step with ‖∇f‖ ≤ tol (−1: never);  reached_at: first step with loss ≤ target (−1: never);
    stopped_at: step after which the optimizer itself ended the run, for the reason in stop_reason
    (Newton at f's rounding floor; −1: never).
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
    stopped_at: Any = -1
    stop_reason: Any = ""
    cut: Cut | None = None            # what a budget cut (requested vs done steps), else None
    work: dict[str, Any] | None = None  # with a budget: calls, evals (points), cost, budget

    @property
    def diverged(self):
        """True (per run) where the run was stopped for diverging."""
        return np.asarray(self.diverged_at) >= 0 if self.batched else bool(self.diverged_at >= 0)

    @property
    def success(self):
        return ~np.asarray(self.diverged) if self.batched else not self.diverged

    @property
    def message(self) -> str:
        """One sentence on how the run ended, in the active language."""
        if not self.batched:
            if self.diverged_at >= 0:
                return _("{label} diverged at step {k}: {reason}").format(
                    label=self.label, k=self.diverged_at, reason=_(self.diverged_reason))
            if self.converged_at >= 0:
                return _("{label} converged at step {k} (gradient norm below tolerance)").format(
                    label=self.label, k=self.converged_at)
            if self.stopped_at >= 0:
                return _("{label} stopped at step {k}: {reason}; final loss {loss:.6g}").format(
                    label=self.label, k=self.stopped_at, reason=_(self.stop_reason), loss=self.final_loss)
            return ngettext("{label} ran {n} step; final loss {loss:.6g}", "{label} ran {n} steps; final loss {loss:.6g}",
                            self.steps).format(label=self.label, n=self.steps, loss=self.final_loss)
        n = len(self.diverged_at)
        nd = int(np.sum(np.asarray(self.diverged_at) >= 0))
        nc = int(np.sum(np.asarray(self.converged_at) >= 0))
        ns = int(np.sum(np.asarray(self.stopped_at) >= 0))
        parts = [ngettext("{label}: {n} run", "{label}: {n} runs", n).format(label=self.label, n=n),
                 _("{nd} diverged, {nc} converged").format(nd=nd, nc=nc)]
        if ns:
            parts.append(ngettext("{n} stopped at f's rounding floor", "{n} stopped at f's rounding floor",
                                  ns).format(n=ns))
        parts.append(ngettext("{n} step", "{n} steps", self.steps).format(n=self.steps))
        return _(", ").join(parts)


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
        bound: float | None = None, record: str = "full", budget: Budget | int | None = None) -> Trajectory:
    r"""Run ``optimizer`` on ``surface`` from ``x0`` for ``steps`` steps.

    Parameters
    ----------
    surface : anything with ``value_and_grad`` (and ``value``/``hessian`` for Newton, BFGS) over ``(B, D)``.
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
    budget : an :class:`optlab.budget.Budget`, or a number of evaluations (f/∇f/Hessian at one
        point each, line-search tries included), or None (no limit).  The batch stops at the last
        step that fits: ``steps`` is then the number of steps done, the records end there, and
        ``cut`` says what was requested and what was done.  The cut is deterministic (counted, not
        timed).  Optimizers with a fixed cost per step (first-order ones, Newton without line
        search) are cut before they start; Newton with line search and BFGS count their real
        evaluations and stop before a step that the most expensive step so far would push over.
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
    B, D = X.shape
    kw = dict(noise=noise, batch_size=batch_size, seed=seed, sched=sched, clip_norm=clip_norm,
              clip_value=clip_value, tol=tol, target=target, bound=bound, record=record)

    bud = as_budget(budget)
    requested, cut, work, metered = T, None, None, None
    if bud is not None:
        per_step = fixed_step_calls(opt, batch_size)
        if per_step is not None:  # the cost is known in advance: cut before starting
            T = bud.run_steps(T, B, calls_per_step=per_step)
            calls = 1 + per_step * T
            work = {"calls": calls, "evals": calls * B, "cost": bud.cost(calls, calls * B, T, B),
                    "budget": bud.evals}
        else:
            metered = bud
    kw["budget"] = metered

    fast = loop.plan(opt, record, D, B, T, kw)
    res = None
    if fast == "path":
        res = loop.run_path(surface, opt, X, T, kw)
    elif record == "summary" and metered is None and (fast or (B >= 2 * loop.CHUNK and noise == 0
                                                               and batch_size is None and loop.sliceable(opt))):
        res = loop.run_blocks(surface, opt, X, T, fast == "summary", kw, _run_block)
    if res is None:
        res = _run_block(surface, opt, X, T, **kw)
    if metered is not None:
        T, work = res["budget_steps"], res["work"]
    if T < requested:
        cut = Cut("steps", requested, T, label=ngettext("{n} {name} runner", "{n} {name} runners", B).format(
                      n=B, name=_(opt.info.title)),
                  unit="step", detail={"runs": B, "optimizer": opt.name})
    tr = _trajectory(res, opt, surface, batched, record, batch_size)
    tr.cut, tr.work = cut, work
    return tr


def fixed_step_calls(opt: Optimizer, batch_size: int | None = None) -> int | None:
    """Calls of the surface per step when they are the same at every step (each on every run):
    first-order optimizers 1 (``value_and_grad``; 2 with mini-batches), Newton without line search
    2 (and the Hessian).  None when a line search makes it vary (Newton with line search, BFGS)."""
    extra = 1 if batch_size is not None else 0
    if opt.order == 1:
        return 1 + extra
    if opt.name == "newton" and not opt.hyper.get("line_search"):
        return 2 + extra
    return None


# Divergence reasons are stored in the trajectory in the language of the run (a cache of runs that a
# page shows must have the language in its key: optlab.ui.cache_data).  The fused loop writes the
# same ones (optlab/optimizers/loop.py holds the texts).
_NONFINITE = loop.NONFINITE
_UNDEFINED_START = N_("the surface is undefined at the start")
_left_region = loop.far_reason


def _run_block(surface, opt, X, T, *, noise, batch_size, seed, sched, clip_norm, clip_value, tol, target,
               bound, record, budget: Budget | None = None) -> dict:
    """The step loop for one block of runs; returns the raw per-step records as lists/arrays.

    With a ``budget`` the surface is wrapped in a :class:`~optlab.budget.Meter` that counts every
    evaluation (line-search tries included), and the loop stops before a step whose cost, taken as
    the most expensive step so far, would not fit (``budget_steps``: the steps done)."""
    meter = None
    if budget is not None:
        surface = meter = Meter(surface)
    x = np.array(X, dtype=float)  # own, writeable copy
    B, D = x.shape
    rng = np.random.default_rng(seed) if (noise > 0 or batch_size is not None) else None
    full, path = record == "full", record in ("full", "path")
    need_gn = path or tol is not None
    clip = clip_norm is not None or clip_value is not None
    constant_lr = sched.name == "constant"
    # an optimizer may end a run (Newton at f's rounding floor): only meaningful when the next
    # steps would see the same gradient and learning rate
    honour_stop = constant_lr and noise == 0 and batch_size is None

    with np.errstate(all="ignore"):
        f, g = surface.value_and_grad(x)
        f = np.asarray(f, dtype=float).reshape(B)
        g = np.asarray(g, dtype=float).reshape(B, D)
        gn = np.sqrt(np.einsum("bi,bi->b", g, g))
        active = np.ones(B, dtype=bool)
        n_dead = 0  # runs frozen (diverged or converged): the fast path skips masking while 0
        diverged_at = np.full(B, -1)
        reason = np.array([""] * B, dtype=object)
        converged_at = np.full(B, -1)
        reached_at = np.full(B, -1)
        stopped_at, stop_reason = np.full(B, -1), np.full(B, "", dtype=object)
        best = f.copy()
        bad0 = ~np.isfinite(f) | ~np.isfinite(g).all(axis=1)
        far0 = ~(np.abs(x) <= bound).all(axis=1) & ~bad0
        if np.any(bad0) or np.any(far0):
            diverged_at[bad0], reason[bad0], active[bad0] = 0, _(_UNDEFINED_START), False
            diverged_at[far0], reason[far0], active[far0] = 0, _(loop.FAR_START), False
            bad0 = bad0 | far0
            f[bad0], g[bad0] = np.nan, 0.0
        if tol is not None:
            c0 = active & (gn <= tol)
            converged_at[c0], active[c0] = 0, False
        n_dead = int(B - active.sum())
        div = (diverged_at >= 0) if bad0.any() else None  # mask of diverged runs, once there are any
        if target is not None:
            reached_at[f <= target] = 0

        xs = [x.copy()] if path else None
        fs = [f.copy()] if path else None
        gns = [gn.copy()] if path else None
        lrs = [] if path else None
        gs, us, st_rec = ([], [], {}) if full else (None, None, None)
        state = opt.init(x)
        base_lr = opt.hyper["lr"]
        lr_k = base_lr
        done_at = T
        if meter is not None:
            spent = meter.cost(budget)
            worst_step = budget.cost(2, 2 * B, 1, B)  # before any step: a guess (one try, one f0)
        for k in range(1, T + 1):
            if meter is not None:
                if spent + worst_step > budget.evals:
                    T = done_at = k - 1  # the budget ends the batch here: no padding
                    break
            if batch_size is not None:
                g_used = np.asarray(surface.minibatch_grad(x, rng, batch_size), dtype=float).reshape(B, D)
            elif noise > 0:
                g_used = g + noise * rng.standard_normal((B, D))
            else:
                g_used = g
            if clip:
                g_used = clip_grads(g_used, clip_norm, clip_value)
            if not constant_lr:
                lr_k = sched(base_lr, k - 1)
            x_new, state = opt.step(g_used, state, x, lr=lr_k, problem=surface, want_aux=full)
            if n_dead:
                x_new[~active] = x[~active]  # frozen runs stay where they are
            f, g = surface.value_and_grad(x_new)
            if f.shape != (B,):
                f = np.asarray(f, dtype=float).reshape(B)
                g = np.asarray(g, dtype=float).reshape(B, D)
            if need_gn:
                gn = np.sqrt(np.einsum("bi,bi->b", g, g))
            # divergence: one cheap global test; per-run work only when something is off
            fsum = float(np.add.reduce(f))
            if not (fsum == fsum and abs(fsum) != np.inf and x_new.max() <= bound and x_new.min() >= -bound):
                nonfinite = ~np.isfinite(f) | ~np.isfinite(x_new).all(axis=1)
                far = ~(np.abs(x_new) <= bound).all(axis=1) & ~nonfinite
                bad = active & (nonfinite | far)
                if np.any(bad):
                    diverged_at[bad] = k
                    reason[bad & nonfinite] = _(_NONFINITE)
                    reason[bad & far] = _left_region(bound)
                    active[bad] = False
                    n_dead = int(B - active.sum())
                    x_new[bad] = x[bad]  # dead runs stay finite inside; they are recorded as NaN
                    g[bad] = 0.0
                    div = diverged_at >= 0
            if div is not None:
                f[div] = np.nan
                if need_gn:
                    gn[div] = np.nan
            x = x_new
            np.fmin(best, f, best)
            if tol is not None:
                c = active & (gn <= tol)
                if c.any():
                    converged_at[c], active[c] = k, False
                    n_dead = int(B - active.sum())
            stop = state.get("_stop") if honour_stop else None
            if stop is not None:
                c = active & (stop != "")
                if c.any():
                    stopped_at[c], stop_reason[c], active[c] = k, stop[c], False
                    n_dead = int(B - active.sum())
            if target is not None:
                r = (reached_at < 0) & (f <= target)
                reached_at[r] = k
            if path:
                xk = x.copy()
                if n_dead:
                    xk[diverged_at >= 0] = np.nan
                xs.append(xk)
                fs.append(f.copy())
                gns.append(gn.copy())
                lrs.append(np.broadcast_to(np.asarray(lr_k, dtype=float).reshape(-1), (B,)).copy())
            if full:
                gs.append(np.array(g_used, dtype=float))
                u = xk - xs[-2]
                us.append(u)
                rec = {kk: v for kk, v in state.items() if isinstance(v, np.ndarray) and not kk.startswith("_")}
                rec.update(opt.step_aux(state))
                for kk, v in rec.items():
                    v = np.asarray(v, dtype=float)
                    v = np.broadcast_to(v, (B,) + v.shape[1:]) if v.ndim and v.shape[0] in (1, B) else v
                    st_rec.setdefault(kk, []).append(np.array(v, dtype=float))
            if meter is not None:
                now = meter.cost(budget, k, B)
                worst_step = max(worst_step if k > 1 else 0.0, now - spent)
                spent = now
            if n_dead == B:
                done_at = k
                break

        # all runs stopped early (converged or diverged): pad the records to the full length
        pad = T - done_at
        if path and pad:
            xs.extend([xs[-1]] * pad)
            fs.extend([fs[-1]] * pad)
            gns.extend([gns[-1]] * pad)
            lrs.extend([np.full(B, np.nan)] * pad)
            if full:
                gs.extend([np.full((B, D), np.nan)] * pad)
                us.extend([np.where(np.isnan(xs[-1]), np.nan, 0.0)] * pad)
                for v in st_rec.values():
                    v.extend([v[-1]] * pad)

    final_x = x.copy()
    final_x[diverged_at >= 0] = np.nan
    final_f = np.where(diverged_at >= 0, np.nan, f)
    out = dict(xs=xs, fs=fs, gns=gns, lrs=lrs, gs=gs, us=us, st=st_rec, diverged_at=diverged_at,
               reason=reason, converged_at=converged_at, reached_at=reached_at, final_x=final_x,
               final_f=final_f, best=best, steps=done_at if T else 0, B=B, D=D,
               stopped_at=stopped_at, stop_reason=stop_reason)
    if meter is not None:
        out["budget_steps"] = T
        out["work"] = {"calls": meter.calls, "evals": meter.points,
                       "cost": meter.cost(budget, done_at if T else 0, B), "budget": budget.evals}
    return out


def _trajectory(res: dict, opt: Optimizer, surface, batched: bool, record: str, batch_size) -> Trajectory:
    full, path = record == "full", record in ("full", "path")
    B, D = int(len(res["diverged_at"])), int(res["final_x"].shape[-1])

    def stack(a, empty_shape):
        if not isinstance(a, np.ndarray):  # the general loop's lists (the fused loop's arrays as they are)
            a = np.stack(a) if a else np.zeros(empty_shape)
        return a if batched else a[:, 0]

    st = {}
    if full:
        st = {k: stack(v, (0, B)) for k, v in res["st"].items()}
    one = (lambda a: a) if batched else (lambda a: a[0])
    intone = (lambda a: a) if batched else (lambda a: int(a[0]))
    flt = (lambda a: a) if batched else (lambda a: float(a[0]))
    return Trajectory(
        xs=stack(res["xs"], (0, B, D)) if path else None,
        losses=stack(res["fs"], (0, B)) if path else None,
        grad_norms=stack(res["gns"], (0, B)) if path else None,
        grads=stack(res["gs"], (0, B, D)) if full else None,
        updates=stack(res["us"], (0, B, D)) if full else None,
        lrs=stack(res["lrs"], (0, B)) if path else None,
        states=st,
        diverged_at=intone(res["diverged_at"]),
        diverged_reason=one(res["reason"]),
        converged_at=intone(res["converged_at"]),
        reached_at=intone(res["reached_at"]),
        final_x=one(res["final_x"]),
        final_loss=flt(res["final_f"]),
        best_loss=flt(res["best"]),
        steps=res["steps"],
        batched=batched,
        optimizer=opt.name,
        label=opt.info.title,
        hyper=dict(opt.hyper),
        surface=getattr(surface, "name", type(surface).__name__),
        batch_size=batch_size,
        n_samples=getattr(surface, "n_samples", None),
        stopped_at=intone(res.get("stopped_at", np.full(B, -1))),
        stop_reason=one(res.get("stop_reason", np.full(B, "", dtype=object))),
    )
