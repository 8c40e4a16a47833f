r"""Sweeps: one batched run over a grid of hyperparameters or of start points.

``sweep(surface, "sgd", {"lr": lrs, "momentum": betas}, x0, steps)`` runs the whole Cartesian grid as
one batch (every hyperparameter is one value per run), and reports per grid point the final loss,
the steps needed to reach a tolerance and where a run diverged.  It is the engine behind
"auto-tune the learning rate", the momentum (lr, β) phase diagram and basins of attraction.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from .budget import Budget, Cut, as_budget
from .i18n import domain
from .optimizers import make
from .runner import fixed_step_calls, run

_, N_, ngettext = domain("optlab")


@dataclass
class SweepResult:
    """Per grid point (arrays of shape ``shape``): final loss, steps to tolerance, divergence."""

    grid: dict[str, np.ndarray]      # hyperparameter -> values, shape ``shape``
    shape: tuple[int, ...]
    final_loss: np.ndarray
    best_loss: np.ndarray
    final_x: np.ndarray              # shape + (D,)
    steps_to_tol: np.ndarray         # first step with loss ≤ target (−1: never)
    diverged_at: np.ndarray          # −1: never
    target: float | None
    steps: int                       # steps done (fewer than requested when a budget cut them)
    cuts: tuple[Cut, ...] = field(default=())  # what a budget cut: grid points, then steps

    @property
    def cut(self) -> Cut | None:
        """The first cut, or None."""
        return self.cuts[0] if self.cuts else None

    @property
    def diverged(self) -> np.ndarray:
        return self.diverged_at >= 0

    def best_index(self) -> tuple[int, ...]:
        """Grid index of the best run: the fastest to reach the target (ties: lower final loss),
        else, if no run reached it, the lowest final loss; diverged runs never win."""
        ok = (~self.diverged & np.isfinite(self.final_loss)).ravel()
        loss = np.where(ok, self.final_loss.ravel(), np.inf)
        if not ok.any():
            return np.unravel_index(int(np.argmax(self.diverged_at)), self.shape)
        reached = ok & (self.steps_to_tol.ravel() >= 0)
        if reached.any():
            speed = np.where(reached, self.steps_to_tol.ravel(), np.iinfo(np.int64).max)
            flat = np.lexsort((loss, speed))[0]
        else:
            flat = int(np.argmin(loss))
        return np.unravel_index(int(flat), self.shape)

    def best(self) -> dict[str, Any]:
        """Hyperparameters and outcome of the best run."""
        i = self.best_index()
        out = {k: float(v[i]) for k, v in self.grid.items()}
        out.update(final_loss=float(self.final_loss[i]), steps_to_tol=int(self.steps_to_tol[i]),
                   diverged_at=int(self.diverged_at[i]))
        return out


def default_target(surface, tol: float) -> float | None:
    mv = getattr(surface, "min_value", None)
    return None if mv is None else float(mv) + tol


def steps_to_tolerance(surface, tr, tol: float) -> int:
    """First step of the (unbatched, recorded) run ``tr`` with f − f* ≤ tol (−1: never, or f* unknown)."""
    mv = getattr(surface, "min_value", None)
    if mv is None or tr.losses is None:
        return -1
    with np.errstate(invalid="ignore"):
        hit = np.nonzero(np.asarray(tr.losses) - mv <= tol)[0]
    return int(hit[0]) if hit.size else -1


def sweep(surface, optimizer: str, grid: Mapping[str, Any], x0, steps: int = 200, *,
          tol: float = 1e-6, target: float | None = None, fixed: Mapping[str, Any] | None = None,
          budget: Budget | int | None = None, **run_kwargs) -> SweepResult:
    r"""Run ``optimizer`` for every point of the Cartesian product of ``grid`` in ONE batched call.

    ``grid`` maps hyperparameter names (``"lr"``, ``"momentum"``, ``"beta1"``/``"beta2"`` for the
    betas pair …) to 1-D value arrays; ``fixed`` holds the other hyperparameters.  ``target`` is
    the loss that counts as solved (default: the surface's known minimum + ``tol``).  ``budget``
    (see :mod:`optlab.budget`) cuts the steps of the whole grid, deterministically (``cuts``);
    :func:`tune_lr` and :func:`basins` thin their grid first.
    """
    if not grid:
        raise ValueError("grid must name at least one hyperparameter")
    names = list(grid)
    axes = [np.asarray(grid[n], dtype=float).reshape(-1) for n in names]
    if any(a.size == 0 for a in axes):
        raise ValueError("every grid axis needs at least one value")
    mesh = np.meshgrid(*axes, indexing="ij")
    shape = mesh[0].shape
    flat = {n: m.ravel() for n, m in zip(names, mesh)}
    hyper = dict(fixed or {})
    if "beta1" in flat or "beta2" in flat:
        b = hyper.pop("betas", (0.9, 0.999))
        hyper["betas"] = (flat.pop("beta1", b[0]), flat.pop("beta2", b[1]))
    hyper.update(flat)
    opt = make(optimizer, **hyper)
    B = mesh[0].size
    x0 = np.asarray(x0, dtype=float)
    X0 = np.broadcast_to(x0, (B, x0.shape[-1])) if x0.ndim == 1 else x0
    if target is None:
        target = default_target(surface, tol)
    tr = run(surface, opt, X0, steps, target=target, record="summary", budget=budget, **run_kwargs)
    return SweepResult(
        grid={n: m for n, m in zip(names, mesh)},
        shape=shape,
        final_loss=np.asarray(tr.final_loss).reshape(shape),
        best_loss=np.asarray(tr.best_loss).reshape(shape),
        final_x=np.asarray(tr.final_x).reshape(shape + (X0.shape[-1],)),
        steps_to_tol=np.asarray(tr.reached_at).reshape(shape),
        diverged_at=np.asarray(tr.diverged_at).reshape(shape),
        target=target,
        steps=int(tr.steps) if tr.cut is not None else int(steps),
        cuts=(tr.cut,) if tr.cut is not None else (),
    )


def lr_grid(optimizer: str, n: int = 60) -> np.ndarray:
    """A log-spaced learning-rate grid around the optimizer's torch default (10⁻³·default … 10³·default, clipped)."""
    d = float(make(optimizer).hyper["lr"])
    lo, hi = np.log10(d) - 3.0, min(np.log10(d) + 3.0, 1.5)
    return np.logspace(lo, hi, int(n))


def thin(values, n: int) -> np.ndarray:
    """``n`` of ``values`` spread evenly, both ends kept (a coarser grid over the same range)."""
    values = np.asarray(values)
    if n >= len(values):
        return values
    return values[np.unique(np.round(np.linspace(0, len(values) - 1, max(1, int(n)))).astype(int))]


def _plan(budget: Budget | None, opt_name: str, hyper: Mapping[str, Any], runs: int, steps: int,
          min_grid: int, label: str, grid_what: str = "grid points", grid_unit: str = "grid point"):
    """(runs', steps', cuts) for a sweep under ``budget``: the grid first, then the steps."""
    if budget is None:
        return runs, steps, []
    per_step = fixed_step_calls(make(opt_name, **{k: v for k, v in hyper.items()}))
    # a line search makes the calls per step vary: plan with 3, the run then counts the real ones
    return budget.plan_grid(runs, steps, calls_per_step=per_step or 3, min_grid=min_grid, label=label,
                            grid_what=grid_what, grid_unit=grid_unit)


def tune_lr(surface, optimizer: str, x0, steps: int = 200, *, lrs=None, fixed: Mapping[str, Any] | None = None,
            tol: float = 1e-6, budget: Budget | int | None = None, min_grid: int = 12,
            **run_kwargs) -> tuple[float, SweepResult]:
    """Best learning rate for ``optimizer`` on this surface and start, from one batched sweep.

    With a ``budget`` the learning-rate grid is thinned first (evenly over the same range, not
    below ``min_grid`` values), then the steps are cut; ``result.cuts`` says what."""
    lrs = lr_grid(optimizer) if lrs is None else np.asarray(lrs, dtype=float)
    bud = as_budget(budget)
    n, steps_ok, cuts = _plan(bud, optimizer, dict(fixed or {}), len(lrs), int(steps), min_grid,
                              N_("the learning-rate sweep"), "learning rates", "learning rate")
    if n < len(lrs):
        lrs = thin(lrs, n)
    res = sweep(surface, optimizer, {"lr": lrs}, x0, steps_ok, tol=tol, fixed=fixed, budget=bud, **run_kwargs)
    if cuts or res.cuts:
        steps_cut = [c for c in cuts if c.what == "steps"]
        more = [c for c in res.cuts if c.what == "steps"]
        if more and steps_cut:  # the run cut further than planned (line searches): one record
            more = [Cut("steps", int(steps), more[0].allowed, more[0].why, steps_cut[0].label, "step")]
            cuts = [c for c in cuts if c.what != "steps"]
        elif more:
            more = [Cut("steps", int(steps), more[0].allowed, more[0].why, more[0].label, "step")]
        res.cuts = tuple(cuts + more)
    return res.best()["lr"], res


@dataclass
class BasinResult:
    """Where each start point of a grid ends up: index of the nearest known minimum (−1: none/diverged)."""

    xs: np.ndarray
    ys: np.ndarray
    final_x: np.ndarray
    basin: np.ndarray
    diverged_at: np.ndarray
    final_loss: np.ndarray
    n: int = 0                       # starts per side (fewer than requested after a cut)
    steps: int = 0                   # steps done
    cuts: tuple[Cut, ...] = ()


def basins(surface, optimizer, n: int = 40, steps: int = 300, radius: float = 0.1, window=None,
           budget: Budget | int | None = None, min_n: int = 16, **run_kwargs) -> BasinResult:
    """Run ``optimizer`` from an ``n × n`` grid of starts; label each by the minimum it reaches.

    With a ``budget`` the grid of starts is made coarser first (not below ``min_n`` per side),
    then the steps are cut; ``cuts`` says what."""
    bud = as_budget(budget)
    cuts: list[Cut] = []
    n, steps = int(n), int(steps)
    if bud is not None:
        name = optimizer if isinstance(optimizer, str) else optimizer.name
        hyper = {} if isinstance(optimizer, str) else optimizer.hyper
        g, t, planned = _plan(bud, name, hyper, n * n, steps, min(n, min_n) ** 2, N_("the basin map"),
                              "starts", "start")
        m = max(min(n, min_n), int(np.sqrt(g)))
        if m < n:
            cuts.append(Cut("starts per side", n, m, Cut.why, N_("the basin map"), "start per side"))
        n = m
        if t < steps:
            cuts += [c for c in planned if c.what == "steps"]
            steps = t
    (x0, x1), (y0, y1) = window or surface.window
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    P = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    tr = run(surface, optimizer, P, steps, record="summary", budget=bud, **run_kwargs)
    if tr.cut is not None:
        cuts = [c for c in cuts if c.what != "steps"] + [tr.cut]
        steps = tr.steps
    fx = np.asarray(tr.final_x)
    basin = np.full(len(P), -1)
    if len(surface.minima):
        d = np.linalg.norm(fx[:, None, :] - surface.minima[None], axis=-1)
        with np.errstate(invalid="ignore"):
            near = np.nanmin(np.where(np.isfinite(d), d, np.inf), axis=1) <= radius
        basin[near] = np.argmin(np.where(np.isfinite(d), d, np.inf), axis=1)[near]
    return BasinResult(xs, ys, fx.reshape(n, n, 2), basin.reshape(n, n),
                       np.asarray(tr.diverged_at).reshape(n, n), np.asarray(tr.final_loss).reshape(n, n),
                       n=n, steps=int(steps), cuts=tuple(cuts))
