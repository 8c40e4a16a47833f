r"""Work budgets: how much one rerun may compute, and a record of what was cut to stay within it.

A class server runs every student's reruns in one process: whatever one rerun computes, everyone
waits for.  A :class:`Budget` bounds the work of one computation, in **evaluations**, a unit that
does not depend on the machine or its load, so that what a budget allows is deterministic (the same
request is cut at the same step on every server: results stay cacheable and shareable links stay
exact):

* one *evaluation* is the surface (f, ∇f, f and ∇f, or the Hessian) at one point; Armijo
  line-search tries count like any other evaluation;
* every *call* of the surface also costs :data:`CALL_COST` evaluations, its fixed overhead (a
  batch of 8 runners costs little more than 1, a batch of 4,096 much more), every *step* of the
  runner's loop :data:`STEP_COST` (the optimizer's update and the records) and every step of
  every run :data:`RUN_STEP_COST` (the per-run part of that update);
* the calibration (``bench/bench_budget.py``) makes :data:`RERUN` evaluations ≤ 0.8 s of CPU on
  the slowest surface (a typed formula near the size limits, Goldstein–Price with BFGS and a long
  line search) on the project's 2-core machines, and :data:`CLICK` ≤ 0.1 s.

Where work is cut, a :class:`Cut` says what (``what``, ``requested``, ``allowed``, ``why``) and
:meth:`Cut.sentence` turns it into the plain sentence a page shows ("8 BFGS runners × 2,000 steps is
more than this page computes in one go: stopped at step 400.").

Engine entry points: ``optlab.run(..., budget=...)`` (counts real evaluations, stops the batch at a
step; :attr:`optlab.runner.Trajectory.cut`), ``sweep``/``tune_lr``/``basins(..., budget=...)``
(thin the grid down to a floor, then cut steps), :func:`optlab.mlp.train_cost` with
:meth:`Budget.fit` (epochs of an MLP).  Pure Python: no NumPy, no Streamlit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from .i18n import domain

# Cut sentences are built when shown (Cut.sentence), in the active language.
_, N_, ngettext = domain("optlab")

# Calibrated by bench/bench_budget.py (2-core machine, see its output in the README):
# One evaluation ≈ 1.8 µs (the dearest point: ∇f of a typed 13-term trigonometric sum).  Measured
# on the project's 2-core machines while shared (load average 4-8), bench/bench_budget.py:
CALL_COST = 100         # one call of a surface, in evaluations (its fixed overhead: ≤ 170 µs)
STEP_COST = 170         # one step of the runner's loop (update, records; Newton/BFGS 8 runs: ≤ 305 µs)
RUN_STEP_COST = 1       # one step of one run (the per-run part of the update: ≤ 1.9 µs)
RERUN = 400_000         # evaluations in one rerun: ≤ 0.8 s of CPU on the slowest surface
CLICK = 50_000          # a typical slider move: ≤ 0.1 s
MLP_FLOPS_PER_EVAL = 8_000  # multiply-adds of an MLP's forward+backward worth one evaluation
# The Python around them (mlp.train_cost), measured on 20-30 layers x 8-96 units while the machine was
# shared (load average 12-16), with a margin of ~1.2-1.3x (bench/bench_budget.py prints both):
MLP_STEP_EVALS = 40     # fixed cost of one MLP training step (optimizer, norms, bookkeeping), in evaluations
MLP_LAYER_EVALS = 10    # and per layer of the network (Python and small arrays per layer)
MLP_RECORD_EVALS = 150  # fixed cost of one record (losses, accuracy, activation statistics)
MLP_CHUNK_EVALS = 6     # per layer and per row chunk of a record's evaluation passes
MLP_BN_FACTOR = 2.5     # batch normalization: a step costs this many times as much (measured 2.1-2.7x),
#                         a record half as much again (1.5-1.7x)


def _fmt(n: int) -> str:
    return f"{int(n):,}"


def _amount(what: str, unit: str, n: int) -> str:
    """"2,000 steps", "1 learning rate": a count of the quantities the engine cuts, translated (other
    quantities a caller names are shown as given)."""
    k = _fmt(n)
    if what == "steps":
        return ngettext("{n} step", "{n} steps", n).format(n=k)
    if what == "grid points":
        return ngettext("{n} grid point", "{n} grid points", n).format(n=k)
    if what == "learning rates":
        return ngettext("{n} learning rate", "{n} learning rates", n).format(n=k)
    if what == "starts":
        return ngettext("{n} start", "{n} starts", n).format(n=k)
    if what == "starts per side":
        return ngettext("{n} start per side", "{n} starts per side", n).format(n=k)
    if what == "epochs":
        return ngettext("{n} epoch", "{n} epochs", n).format(n=k)
    if what == "runs":
        return ngettext("{n} run", "{n} runs", n).format(n=k)
    return f"{k} {what if n != 1 else (unit or what.rstrip('s'))}"


@dataclass(frozen=True)
class Cut:
    """What was cut to stay within a budget.

    ``what`` is the quantity ("steps", "grid", "epochs", "runs" …), ``requested`` and ``allowed``
    its values before and after, ``why`` the reason in a few words, ``label`` who did the work
    ("8 BFGS runners", "the learning-rate sweep"), ``unit`` the singular of ``what`` for sentences.
    """

    what: str
    requested: int
    allowed: int
    why: str = N_("more than this page computes in one go")
    label: str = ""
    unit: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    def sentence(self) -> str:
        """One plain sentence for the page, in the active language: "8 BFGS runners × 2,000 steps
        is more than this page computes in one go: stopped at step 400." for steps, "The
        learning-rate sweep with 60 learning rates is more than this page computes in one go: 12
        learning rates instead." for the rest.  ``label`` and ``why`` are shown through the catalog
        (a msgid, or text already translated when the cut was made)."""
        why, who = _(self.why), _(self.label) if self.label else ""
        if self.what == "steps":
            if who:
                text = _("{who} × {amount} is {why}: stopped at step {step}.")
            else:
                text = _("{amount} is {why}: stopped at step {step}.")
            text = text.format(who=who, amount=_amount(self.what, self.unit, self.requested), why=why,
                               step=_fmt(self.allowed))
        else:
            text = _("{who} with {amount} is {why}: {allowed} instead.") if who else \
                _("{amount} is {why}: {allowed} instead.")
            text = text.format(who=who, amount=_amount(self.what, self.unit, self.requested), why=why,
                               allowed=_amount(self.what, self.unit, self.allowed))
        return text[:1].upper() + text[1:]

    def as_dict(self) -> dict[str, Any]:
        return {"what": self.what, "requested": int(self.requested), "allowed": int(self.allowed),
                "why": self.why, "label": self.label, "unit": self.unit, **self.detail}


@dataclass(frozen=True)
class Budget:
    """An allowance of ``evals`` evaluations; each call of the surface costs ``call_cost`` more,
    each step of a run ``step_cost`` more.

    ``Budget()`` is one rerun (:data:`RERUN`); ``Budget(CLICK)`` a typical click; ``Budget(5000,
    0, 0, 0)`` is literally 5,000 point evaluations (what ``optlab.run(budget=5000)`` means).
    """

    evals: float = RERUN
    call_cost: float = CALL_COST
    step_cost: float = STEP_COST
    run_step_cost: float = RUN_STEP_COST

    def __post_init__(self):
        if not (isinstance(self.evals, (int, float)) and math.isfinite(self.evals) and self.evals >= 0):
            raise ValueError(f"a budget needs a number of evaluations ≥ 0; got {self.evals!r}")
        for name in ("call_cost", "step_cost", "run_step_cost"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0):
                raise ValueError(f"{name} must be ≥ 0; got {v!r}")

    # -- arithmetic ---------------------------------------------------------------------------
    def cost(self, calls: float, points: float, steps: float = 0, runs: int = 1) -> float:
        """Evaluations charged for ``calls`` calls of the surface on ``points`` points in all, in
        ``steps`` steps of a batch of ``runs`` runs."""
        return calls * self.call_cost + points + steps * (self.step_cost + runs * self.run_step_cost)

    def split(self, n: int) -> "Budget":
        """One of ``n`` equal shares (a page that runs ``n`` computations in one rerun)."""
        return replace(self, evals=self.evals / max(1, int(n)))

    def scaled(self, factor: float) -> "Budget":
        return replace(self, evals=self.evals * float(factor))

    def minus(self, spent: float) -> "Budget":
        """What is left after ``spent`` evaluations."""
        return replace(self, evals=max(0.0, self.evals - float(spent)))

    # -- planning -----------------------------------------------------------------------------
    def steps(self, requested: int, per_step: float, fixed: float = 0.0) -> int:
        """Most steps (≤ ``requested``) whose cost ``fixed + steps · per_step`` fits."""
        requested = int(requested)
        if per_step <= 0:
            return requested
        return max(0, min(requested, int((self.evals - fixed) // per_step)))

    def run_steps(self, requested: int, runs: int, calls_per_step: float = 1, points_per_run: float = 1,
                  initial_calls: float = 1) -> int:
        """Steps a batch of ``runs`` runs may take: each step calls the surface
        ``calls_per_step`` times on ``points_per_run`` points per run; the start costs one call
        per ``initial_calls`` on every run."""
        per_step = self.cost(calls_per_step, calls_per_step * points_per_run * runs, 1, runs)
        fixed = self.cost(initial_calls, initial_calls * runs)
        return self.steps(requested, per_step, fixed)

    def fit(self, requested: int, per_unit: float, *, what: str, label: str = "", unit: str = "",
            fixed: float = 0.0, why: str | None = None) -> tuple[int, Cut | None]:
        """``(allowed, cut)``: the most of ``requested`` units of ``per_unit`` evaluations each
        (after ``fixed``) that fit, and the :class:`Cut` if that is fewer (else None)."""
        allowed = self.steps(requested, per_unit, fixed)
        if allowed >= requested:
            return int(requested), None
        return allowed, Cut(what, int(requested), allowed, why or Cut.why, label, unit)

    def fit_cost(self, requested: int, cost_of, *, what: str, label: str = "", unit: str = "",
                 why: str | None = None) -> tuple[int, Cut | None]:
        """Like :meth:`fit` for a cost that is not linear: ``cost_of(k)`` (non-decreasing in k) is
        what k units cost; the largest k ≤ ``requested`` that fits, by bisection."""
        requested = int(requested)
        if cost_of(requested) <= self.evals:
            return requested, None
        lo, hi = 0, requested  # cost_of(lo) fits or lo = 0; cost_of(hi) does not
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if cost_of(mid) <= self.evals:
                lo = mid
            else:
                hi = mid
        return lo, Cut(what, requested, lo, why or Cut.why, label, unit)

    def plan_grid(self, grid: int, steps: int, *, calls_per_step: float = 1, points_per_run: float = 1,
                  min_grid: int = 12, label: str = "", grid_what: str = "grid points",
                  grid_unit: str = "grid point") -> tuple[int, int, list[Cut]]:
        """``(grid', steps', cuts)`` for a batched sweep of ``grid`` runs × ``steps`` steps: first
        thin the grid (not below ``min_grid``), then cut steps.  A sweep's answer depends on its
        horizon, so steps are kept as long as the grid can shrink."""
        grid, steps = int(grid), int(steps)

        def fits(g, t):
            return self.cost(calls_per_step * (t + 1), calls_per_step * points_per_run * g * (t + 1), t, g) <= self.evals

        cuts: list[Cut] = []
        g = grid
        if not fits(g, steps):
            lo = min(grid, max(1, int(min_grid)))
            # the largest grid in [lo, grid] that fits with every step
            per_run = calls_per_step * points_per_run * (steps + 1) + steps * self.run_step_cost
            room = self.evals - self.cost(calls_per_step * (steps + 1), 0, steps, 0)
            g = max(lo, min(grid, int(room // per_run) if per_run > 0 else grid))
            if g < grid:
                cuts.append(Cut(grid_what, grid, g, Cut.why, label, grid_unit))
        if not fits(g, steps):
            t = self.run_steps(steps, g, calls_per_step, points_per_run)
            runs = ngettext("{label} ({n} run)", "{label} ({n} runs)", g).format(label=_(label), n=_fmt(g))
            cuts.append(Cut("steps", steps, t, Cut.why, runs if label else "", "step"))
            steps = t
        return g, steps, cuts


def as_budget(budget) -> Budget | None:
    """``None`` (no limit), a :class:`Budget`, or a number (literal point evaluations, no call cost)."""
    if budget is None or isinstance(budget, Budget):
        return budget
    if isinstance(budget, bool) or not isinstance(budget, (int, float)):
        raise ValueError(f"budget must be a Budget, a number of evaluations or None; got {budget!r}")
    return Budget(float(budget), 0.0, 0.0, 0.0)


_COUNTED = ("value", "grad", "value_and_grad", "hessian", "minibatch_grad")


class Meter:
    """Counts the calls of a surface and the points evaluated (the runner wraps the surface in it).

    The methods the engine evaluates (``value``, ``grad``, ``value_and_grad``, ``hessian``,
    ``minibatch_grad``) are counted where the surface has them; every other attribute is the
    surface's own."""

    def __init__(self, surface):
        self._s = surface
        self.calls = 0
        self.points = 0

    def cost(self, budget: "Budget", steps: int = 0, runs: int = 1) -> float:
        return budget.cost(self.calls, self.points, steps, runs)

    def __getattr__(self, name):
        attr = getattr(self._s, name)  # AttributeError where the surface has no such method
        if name not in _COUNTED:
            return attr

        def counted(p, *args, **kwargs):
            self.calls += 1
            shape = getattr(p, "shape", None)
            self.points += int(math.prod(shape[:-1])) if shape else 1
            return attr(p, *args, **kwargs)

        self.__dict__[name] = counted  # found directly from now on
        return counted


__all__ = ["Budget", "Cut", "Meter", "as_budget", "CALL_COST", "STEP_COST", "RUN_STEP_COST", "RERUN", "CLICK", "MLP_FLOPS_PER_EVAL", "MLP_LAYER_EVALS", "MLP_BN_FACTOR",
           "MLP_RECORD_EVALS", "MLP_CHUNK_EVALS",
           "MLP_STEP_EVALS"]
