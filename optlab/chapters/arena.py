r"""The optimizer arena without Streamlit: what a race is, what its widgets and links accept, its
runs within a work budget, its results, the verdicts its captions and questions are chosen by, and
its exports.

A *race* is a surface (a registry name with its parameters, or a typed formula), a start point, a
number of steps and up to :data:`MAX_OPTIMIZERS` optimizers with the hyperparameters that differ
from torch's defaults.  Its link keeps the short form it always had::

    ?s=rosenbrock&x=-1.5,2&n=200&o=adam:lr=0.05;sgd:lr=0.001,momentum=0.9

One declaration per value decides what a widget offers and what a link may set:
:data:`STEPS`, :data:`START` and :func:`hyper_specs` (every hyperparameter of every optimizer:
range, slider grid, default).  ``optlab.ui.arena`` builds both the widgets and the link's reader
from them, so a value a link sets is always one a widget can show.

Runs may be shorter than the steps asked for: the work budget (:func:`race_budget`) stops a run
that would cost too much, Newton's method stops at f's rounding floor, and a diverged run ends
where it blew up.  Everything here (:func:`truncate`, :func:`results_rows`, :func:`race_verdict`,
:func:`trajectories_csv`) reads the steps a run really has.
"""
from __future__ import annotations

import csv
import dataclasses
import functools
import io
import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from .. import optimizers, surfaces
from ..budget import Budget, Cut
from ..i18n import domain
from ..optimizers.base import resolve
from ..runner import run
from ..specs import LR_MAX, LR_MIN, surface_from_spec
from ..sweeps import lr_grid, steps_to_tolerance, tune_lr

_, N_, ngettext = domain("arena")  # optimizer titles in the reader's language (the engine's words come from "optlab")

MAX_OPTIMIZERS = 8
MAX_FORMULA = 300
DEFAULT_SURFACE = "rosenbrock"
TOL = 1e-4           # "reached the minimum": f − f* ≤ TOL (results table, verdicts, auto-tune)
TUNE_GRID = 60       # learning rates of one auto-tune sweep (before the budget thins it)
CUSTOM = "custom"    # the surface name of a typed formula

# hyperparameters the arena does not offer: maximize only flips the sign (the race would climb)
HIDDEN = frozenset({"maximize"})


# ----------------------------------------------------------------------------------------------
# Declarations: what a widget offers and a link may set
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Number:
    """One number's range: ``[lo, hi]``, on the grid ``lo + k·step`` (a slider) or free (``step``
    None: a number input), a whole number when ``integer``."""

    lo: float
    hi: float
    default: float | None
    step: float | None = None
    integer: bool = False
    log: bool = False


STEPS = Number(5, 2000, 300, step=5, integer=True)
START = Number(-100.0, 100.0, 0.0)          # each coordinate of the start point
MIN_STEPS, MAX_STEPS, DEFAULT_STEPS = int(STEPS.lo), int(STEPS.hi), int(STEPS.default)


@dataclass(frozen=True)
class HyperSpec:
    """One hyperparameter as the arena offers it: ``kind`` is "number", "flag", "betas" (two
    numbers) or "optional" (a number that may be unset, torch's None); ``numbers`` their ranges."""

    name: str
    kind: str
    default: Any
    numbers: tuple[Number, ...] = ()
    meaning: str = ""


def _on_grid(v: float, lo: float, step: float) -> bool:
    k = (v - lo) / step
    return abs(k - round(k)) < 1e-6


def _grid(lo: float, hi: float, default: float) -> float:
    """The coarsest slider step (0.01 up to 1, 0.1 up to 10, then 1) that holds lo, hi and the default."""
    step = 0.01 if hi <= 1 else 0.1 if hi <= 10 else 1.0
    while not all(_on_grid(v, lo, step) for v in (hi, default)) and step > 1e-6:
        step /= 10
    return float(f"{step:.1g}")


def is_second_order(name: str) -> bool:
    """Newton's method and BFGS: their ``lr`` is a step scale (1 = the full step), not a learning rate."""
    return name in optimizers.SECOND_ORDER


@functools.lru_cache(maxsize=64)  # one entry per optimizer name
def hyper_specs(name: str) -> tuple[HyperSpec, ...]:
    """The hyperparameters of optimizer ``name`` that the arena offers, with their ranges.

    The learning rate of a first-order method takes the app's one range, ``specs.LR_MIN …
    specs.LR_MAX`` (a free number: tuned rates are not on a grid); Newton's and BFGS's step scale
    its engine range on a 0.01 grid; the other numbers the engine's range (``Info.hyper``), on a
    slider grid unless they are log-scaled (ε, c₁); whole numbers stay whole."""
    out = []
    for h in optimizers.info(name).hyper:
        if h.name in HIDDEN:
            continue
        if h.kind == "bool":
            out.append(HyperSpec(h.name, "flag", bool(h.default), meaning=h.meaning))
        elif h.kind == "betas":
            out.append(HyperSpec(h.name, "betas", tuple(float(b) for b in h.default), (
                Number(0.0, 0.9999, float(h.default[0])), Number(0.0, 0.99999, float(h.default[1]))),
                meaning=h.meaning))
        elif h.name == "lr" and not is_second_order(name):
            out.append(HyperSpec("lr", "number", float(h.default), (Number(LR_MIN, LR_MAX, float(h.default), log=True),),
                                 meaning=h.meaning))
        elif isinstance(h.default, int) and not isinstance(h.default, bool):
            out.append(HyperSpec(h.name, "number", int(h.default), (
                Number(int(h.low), int(h.high), int(h.default), step=1, integer=True),), meaning=h.meaning))
        else:
            lo, hi = float(h.low), float(h.high)
            d = float(h.default) if h.default is not None else lo
            num = Number(lo, hi, d, log=True) if h.log else Number(lo, hi, d, step=_grid(lo, hi, d))
            out.append(HyperSpec(h.name, "optional" if h.default is None else "number",
                                 None if h.default is None else d, (num,), meaning=h.meaning))
    return tuple(out)


def hyper_spec(name: str, key: str) -> HyperSpec:
    for h in hyper_specs(name):
        if h.name == key:
            return h
    raise KeyError(key)


# ----------------------------------------------------------------------------------------------
# Racers
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Racer:
    """One optimizer in the race: its name and the hyperparameters that differ from torch's
    defaults, as sorted ``(name, value)`` pairs (hashable: a racer keys the caches)."""

    name: str
    hyper: tuple = ()

    @classmethod
    def of(cls, name: str, hyper: Mapping[str, Any] | None = None) -> "Racer":
        """The racer with ``hyper`` (any keyword dict, defaults included), reduced to what differs."""
        return cls(name, tuple(sorted(non_defaults(name, dict(hyper or {})).items())))

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self.hyper)

    def error(self) -> str | None:
        """torch's complaint about this combination (Nesterov without momentum …), or None."""
        try:
            optimizers.make(self.name, **self.kwargs)
        except ValueError as e:
            return str(e)
        return None

    def make(self):
        return optimizers.make(self.name, **self.kwargs)


def _norm(h: HyperSpec | None, v: Any) -> Any:
    if isinstance(v, (tuple, list)):
        return tuple(float(x) for x in v)
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if v is None:
        return None
    if h is not None and h.numbers and h.numbers[0].integer:
        return int(v)
    return float(v)


def non_defaults(name: str, hyper: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of ``hyper`` that differ from torch's defaults (what a link needs to carry),
    normalised (floats, whole numbers, bools, pairs)."""
    out = {}
    for h in optimizers.info(name).hyper:
        if h.name not in hyper:
            continue
        spec = next((s for s in hyper_specs(name) if s.name == h.name), None)
        v, d = _norm(spec, hyper[h.name]), _norm(spec, h.default)
        if v != d:
            out[h.name] = v
    return out


DEFAULT_RACE: tuple[Racer, ...] = (Racer.of("sgd", {"lr": 1e-3}), Racer.of("sgd", {"lr": 1e-3, "momentum": 0.9}),
                                   Racer.of("adam", {"lr": 0.05}))


def num_text(v: float) -> str:
    """A number as a link and the Python snippet write it: 12 significant digits, no trailing zeros
    (``0.05``, ``1e-05``, ``300``), as every page's link does."""
    v = float(v)
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else f"{v:.12g}"


def value_text(v: Any) -> str:
    """A hyperparameter value as a link writes it: ``0.05``, ``0.9/0.999``, ``1``/``0``, ``none``."""
    if isinstance(v, (tuple, list)):
        return "/".join(num_text(x) for x in v)
    if isinstance(v, (bool, np.bool_)):
        return "1" if v else "0"
    if v is None:
        return "none"
    return num_text(v)


def race_text(racers: Sequence[Racer]) -> str:
    """``sgd:lr=0.001;adam:lr=0.05``: the racers as the link's ``o`` holds them."""
    parts = []
    for r in racers:
        kv = ",".join(f"{k}={value_text(v)}" for k, v in r.hyper)
        parts.append(r.name + (":" + kv if kv else ""))
    return ";".join(parts)


def _short(v: Any) -> str:
    if isinstance(v, tuple):
        return "(" + ", ".join(f"{float(x):g}" for x in v) + ")"
    if isinstance(v, bool) or v is None:
        return str(v)
    return f"{float(v):.4g}"


# A hyperparameter's name in a label: torch's keyword in English, the reader's word in Chinese
# (动量 = 0.9); the cards show both (动量 `momentum`), the link and the snippet the keyword.
HYPER_WORDS = {
    "alpha": N_("alpha"), "amsgrad": N_("amsgrad"), "betas": N_("betas"), "c1": N_("c1"), "centered": N_("centered"),
    "dampening": N_("dampening"), "damping": N_("damping"), "decoupled_weight_decay": N_("decoupled_weight_decay"),
    "eps": N_("eps"), "initial_accumulator_value": N_("initial_accumulator_value"), "line_search": N_("line_search"),
    "lr": N_("lr"), "lr_decay": N_("lr_decay"), "max_backtracks": N_("max_backtracks"),
    "min_curvature": N_("min_curvature"), "momentum": N_("momentum"), "momentum_decay": N_("momentum_decay"),
    "nesterov": N_("nesterov"), "rho": N_("rho"), "shrink": N_("shrink"), "weight_decay": N_("weight_decay"),
}


def hyper_word(name: str) -> str:
    """A hyperparameter's name as a label shows it, in the reader's language."""
    return _(HYPER_WORDS[name]) if name in HYPER_WORDS else name


def hyper_text(racer: Racer) -> str:
    """``"lr = 0.05, momentum = 0.9"``: what tells this racer apart (torch's keywords).  A
    first-order method always shows its learning rate; Newton's method and BFGS only a step
    scale that is not 1 (they have no learning rate)."""
    full = resolve(optimizers.info(racer.name), racer.kwargs)
    parts = [] if is_second_order(racer.name) else [f"lr = {_short(full['lr'])}"]
    for k, v in racer.hyper:
        if k == "lr" and not is_second_order(racer.name) or k in HIDDEN:
            continue
        parts.append(f"{hyper_word(k)} = {_short(v)}")
    return ", ".join(parts)


def racer_labels(racers: Sequence[Racer]) -> list[str]:
    """One label per racer that tells it apart from every other: "SGD (lr = 0.001, momentum = 0.9)";
    two racers with the same settings get "#2", "#3" (legend, cards, tables, CSV, snippet)."""
    out, seen = [], {}
    for r in racers:
        text = hyper_text(r)
        base = _(optimizers.info(r.name).title) + (f" ({text})" if text else "")
        seen[base] = seen.get(base, 0) + 1
        out.append(base if seen[base] == 1 else f"{base} #{seen[base]}")
    return out


# ----------------------------------------------------------------------------------------------
# The race
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Race:
    """Everything that defines a race, hashable: ``surface`` is a surface spec
    (:func:`optlab.specs.surface_spec`), ``start`` the start point, ``racers`` a tuple of :class:`Racer`."""

    surface: tuple
    start: tuple[float, float]
    steps: int
    racers: tuple[Racer, ...]

    def labels(self) -> list[str]:
        return racer_labels(self.racers)


def surface_spec_of(name: str, params: Iterable = (), formula: str | None = None) -> tuple:
    """The surface spec of a race's surface: ``("formula", text, None)`` for a typed one, else
    ``(name, ((param, value), …))`` with the non-default parameters."""
    if name == CUSTOM:
        return ("formula", str(formula or ""), None)
    return (name, tuple(sorted((str(k), float(v)) for k, v in params)))


def default_start(surface) -> tuple[float, float]:
    """The surface's suggested start (the middle of its window when it has none)."""
    if surface.starts:
        x, y = surface.starts[0]
    else:
        (x0, x1), (y0, y1) = surface.window
        x, y = 0.5 * (x0 + x1), 0.5 * (y0 + y1)
    return (float(f"{x:.12g}"), float(f"{y:.12g}"))  # 2.1, not 2.0999999999999996 (a window's fraction)


# ----------------------------------------------------------------------------------------------
# Work budget
# ----------------------------------------------------------------------------------------------
# The engine's Budget() is calibrated on its dearest surface: a typed formula near the size
# limits, where one call costs up to 170 µs.  The registry's surfaces are plain NumPy: measured on
# the project's 2-core machines (bench/bench_arena.py --budget), one call of one point costs
# 20-45 µs and one step of a first-order run 30-90 µs, a BFGS step with 60 line-search tries
# ≤ 2.9 ms; in the engine's unit (one evaluation ≈ 2 µs of the rerun's 0.8 s) that is 30 per
# call and 30 per step, which keeps every registry surface within the rerun's 0.8 s while three
# first-order racers still run all 2,000 steps.
CATALOGUE_CALL_COST = 30
CATALOGUE_STEP_COST = 30


def race_budget(surface: tuple, share: int = 1, fraction: float = 1.0) -> Budget:
    """The budget of one of ``share`` equal computations of a rerun (``fraction`` of the rerun):
    the engine's calibration for a typed formula, the registry's measured costs otherwise."""
    b = Budget() if surface[0] == "formula" else Budget(call_cost=CATALOGUE_CALL_COST, step_cost=CATALOGUE_STEP_COST)
    return b.scaled(fraction).split(share)


def racer_run(surface, racer: Racer, start, steps: int, budget: Budget | None = None):
    """One racer's run (``record="path"``), within ``budget``."""
    return run(surface, racer.make(), list(start), int(steps), record="path", budget=budget)


# ----------------------------------------------------------------------------------------------
# Runs shorter than asked for
# ----------------------------------------------------------------------------------------------
STEP_BUCKETS = (50, 100, 200, 500, 1000, 2000)


def step_bucket(steps: int) -> int:
    """The run length actually computed for ``steps``: the next bucket, so moving the steps slider
    within a bucket only slices a cached run (see :func:`truncate`)."""
    for b in STEP_BUCKETS:
        if steps <= b:
            return b
    return int(steps)


def truncate(tr, steps: int):
    """The first ``steps`` steps of a single (unbatched) ``record="path"`` trajectory; a run with
    fewer steps (cut by a budget, stopped by the optimizer, diverged) is returned whole.

    A run is a deterministic sequence (a constant learning rate, no noise), so its prefix is
    exactly the shorter run: ``truncate(run(…, 500), 300) == run(…, 300)``.  A budget cut beyond
    ``steps`` is no cut of the shorter run, and goes.
    """
    if tr.batched:
        raise ValueError("truncate takes a single run, not a batch")
    steps = int(steps)
    if tr.xs is None or steps >= tr.xs.shape[0] - 1:
        if tr.cut is not None and tr.cut.requested > steps:
            # the run asked for more than the caller wants: the cut is the caller's only below steps
            cut = Cut("steps", steps, tr.cut.allowed, tr.cut.why, tr.cut.label, tr.cut.unit, dict(tr.cut.detail))
            return dataclasses.replace(tr, cut=cut if tr.cut.allowed < steps else None)
        return tr
    xs, fs = tr.xs[: steps + 1], tr.losses[: steps + 1]

    def first(k):
        return int(k) if 0 <= int(k) <= steps else -1

    dv = first(tr.diverged_at)
    stop = first(tr.stopped_at)
    with np.errstate(invalid="ignore"):
        best = float(np.nanmin(fs)) if np.isfinite(fs).any() else float("nan")
    return dataclasses.replace(
        tr, xs=xs, losses=fs, grad_norms=tr.grad_norms[: steps + 1],
        lrs=tr.lrs[:steps] if tr.lrs is not None else None,
        diverged_at=dv, diverged_reason=tr.diverged_reason if dv >= 0 else "",
        stopped_at=stop, stop_reason=tr.stop_reason if stop >= 0 else "",
        converged_at=first(tr.converged_at), reached_at=first(tr.reached_at),
        final_x=np.array(xs[-1], dtype=float), final_loss=float(fs[-1]), best_loss=best,
        steps=min(int(tr.steps), steps), cut=None)


def steps_done(tr) -> int:
    """Steps the run really has (fewer than asked for after a cut, a stop or a divergence)."""
    if tr.xs is None:
        return int(tr.steps)
    # a path is kept at full length after a stop or a divergence (constant or NaN): its steps say how far it went
    return min(int(tr.xs.shape[0] - 1), int(tr.steps))


def cut_at(tr, steps: int) -> int | None:
    """The step where the budget stopped this run before ``steps`` (None: it was not cut; a run
    that stopped by itself or diverged earlier was not cut either)."""
    c = getattr(tr, "cut", None)
    if c is None or c.allowed >= steps:
        return None
    if 0 <= int(tr.diverged_at) <= c.allowed or 0 <= int(getattr(tr, "stopped_at", -1)) < c.allowed:
        return None
    return int(c.allowed)


# ----------------------------------------------------------------------------------------------
# Results and verdicts
# ----------------------------------------------------------------------------------------------
def _gap(surface, tr) -> float:
    """f − f* at the end (f itself when f* is unknown); ∞ for a diverged run."""
    if int(tr.diverged_at) >= 0 or not math.isfinite(float(tr.final_loss)):
        return math.inf
    mv = surface.min_value
    return float(tr.final_loss) - (float(mv) if mv is not None else 0.0)


def results_rows(surface, trajectories: Sequence[Any], labels: Sequence[str], steps: int,
                 tol: float = TOL) -> list[dict[str, Any]]:
    """One row per racer (English column ids; the page translates the headers): the steps it
    really ran, final loss, distance to the nearest known minimum, the first step with
    f − f* ≤ tol, where it diverged, stopped or was cut.  Undefined values are None."""
    rows = []
    for tr, label in zip(trajectories, labels):
        dv = int(tr.diverged_at)
        fx = np.asarray(tr.final_x, dtype=float)
        ok = dv < 0 and bool(np.isfinite(fx).all())
        reach = steps_to_tolerance(surface, tr, tol)
        stop = int(getattr(tr, "stopped_at", -1))
        rows.append({
            "optimizer": label,
            "steps run": steps_done(tr),
            "final loss": float(tr.final_loss) if ok else None,
            "distance to nearest minimum": float(surface.distance_to_minimum(fx)) if ok and len(surface.minima) else None,
            "steps to tolerance": reach if reach >= 0 else None,
            "diverged at step": dv if dv >= 0 else None,
            "stopped at step": stop if stop >= 0 and dv < 0 else None,
            "cut at step": cut_at(tr, steps),
            "final x": float(fx[0]) if ok else None,
            "final y": float(fx[1]) if ok else None,
        })
    return rows


@dataclass(frozen=True)
class RaceVerdict:
    """Who won, by a test on the runs (the caption is chosen by ``code``):

    * ``"reached"``: ``first`` reached f − f* ≤ tol first, at step ``step`` (several: a tie);
      ``later`` reached it afterwards;
    * ``"closest"``: nobody reached it; ``first`` ended with the smallest f − f* (``gap``);
    * ``"lowest"``: f* is unknown (a typed formula, a saddle); ``first`` ended lowest (``gap`` = f);
    * ``"all_diverged"``: every run diverged;
    * ``"none"``: no run.
    A tie of final values (within 1e-9 relative) lists every runner in ``first``.  ``diverged``
    lists the runs that diverged, ``cut`` those the budget stopped early."""

    code: str
    first: tuple[int, ...] = ()
    step: int = -1
    later: tuple[int, ...] = ()
    gap: float = math.nan
    diverged: tuple[int, ...] = ()
    cut: tuple[int, ...] = ()


def race_verdict(surface, trajectories: Sequence[Any], steps: int, tol: float = TOL) -> RaceVerdict:
    trs = list(trajectories)
    if not trs:
        return RaceVerdict("none")
    diverged = tuple(i for i, t in enumerate(trs) if int(t.diverged_at) >= 0)
    cut = tuple(i for i, t in enumerate(trs) if cut_at(t, steps) is not None)
    if len(diverged) == len(trs):
        return RaceVerdict("all_diverged", diverged=diverged, cut=cut)
    if surface.min_value is not None:
        reach = [steps_to_tolerance(surface, t, tol) for t in trs]
        hit = [(k, i) for i, k in enumerate(reach) if k >= 0]
        if hit:
            k0 = min(k for k, _i in hit)
            first = tuple(i for k, i in hit if k == k0)
            later = tuple(i for k, i in sorted(hit) if k > k0)
            return RaceVerdict("reached", first, k0, later, diverged=diverged, cut=cut)
    gaps = [_gap(surface, t) for t in trs]
    best = min(gaps)
    first = tuple(i for i, g in enumerate(gaps) if g <= best + 1e-9 * max(1.0, abs(best)))
    return RaceVerdict("closest" if surface.min_value is not None else "lowest", first, gap=best,
                       diverged=diverged, cut=cut)


def first_step(values: np.ndarray, test) -> int:
    """First index where ``test(values)`` holds (−1: never)."""
    with np.errstate(invalid="ignore"):
        hit = np.nonzero(test(np.asarray(values, dtype=float)))[0]
    return int(hit[0]) if hit.size else -1


def loss_rises(tr) -> int:
    """How many steps of the run made its loss go up (the overshoots of momentum)."""
    f = np.asarray(tr.losses, dtype=float)
    f = f[np.isfinite(f)]
    return int(np.sum(np.diff(f) > 0))


def basin(surface, tr, radius: float = 0.05) -> int:
    """Index of the known minimum the run ended at (within ``radius``), −1 for none or diverged."""
    if int(tr.diverged_at) >= 0 or not len(surface.minima):
        return -1
    d = np.linalg.norm(np.asarray(surface.minima, dtype=float) - np.asarray(tr.final_x, dtype=float), axis=1)
    i = int(np.argmin(d))
    return i if d[i] <= radius else -1


def escape_step(surface, tr, drop: float = 1.0) -> int:
    """First step whose loss is ``drop`` below f at the surface's first saddle point: the run has
    got away from the saddle downhill (−1: never)."""
    if not len(getattr(surface, "saddles", ())):
        return -1
    level = float(surface.value(np.asarray(surface.saddles[0], dtype=float)[None, :])[0]) - drop
    return first_step(tr.losses, lambda f: f <= level)


# Verdicts of the questions for class (the page's cards): each reads the race the page draws.
def verdict_lower_final(surface, trs: Sequence[Any], tol: float = TOL) -> int | None:
    """Two racers: 2 if both reach f − f* ≤ tol, else 0 or 1 for the one that ends lower (a
    diverged run never); None when both diverged or they end level."""
    if len(trs) != 2:
        return None
    reach = [steps_to_tolerance(surface, t, tol) for t in trs]
    if all(k >= 0 for k in reach):
        return 2
    g = [_gap(surface, t) for t in trs]
    if math.isinf(g[0]) and math.isinf(g[1]) or g[0] == g[1]:
        return None
    return 0 if g[0] < g[1] else 1


def verdict_closest(surface, trs: Sequence[Any]) -> int | None:
    """The racer whose end point is nearest a known minimum (a diverged run never); None on a tie."""
    d = [float(surface.distance_to_minimum(np.asarray(t.final_x, dtype=float))) if int(t.diverged_at) < 0
         else math.inf for t in trs]
    if not trs or all(math.isinf(x) or math.isnan(x) for x in d):
        return None
    best = min(d)
    winners = [i for i, x in enumerate(d) if x == best]
    return winners[0] if len(winners) == 1 else None


def verdict_escape(surface, trs: Sequence[Any]) -> int | None:
    """The racer that first drops 1 below the saddle point's value (index), ``len(trs)`` when none
    does within the steps, None on a tie."""
    ks = [escape_step(surface, t) for t in trs]
    hit = [k for k in ks if k >= 0]
    if not hit:
        return len(trs)
    k0 = min(hit)
    winners = [i for i, k in enumerate(ks) if k == k0]
    return winners[0] if len(winners) == 1 else None


def verdict_converges(surface, trs: Sequence[Any], tol: float = TOL) -> int | None:
    """Two racers: 0 only the first reaches f − f* ≤ tol, 1 only the second, 2 both, 3 neither."""
    if len(trs) != 2:
        return None
    a, b = (steps_to_tolerance(surface, t, tol) >= 0 for t in trs)
    return {(True, False): 0, (False, True): 1, (True, True): 2, (False, False): 3}[(a, b)]


def verdict_valleys(surface, trs: Sequence[Any]) -> int | None:
    """0 every racer ends in the same minimum, 1 some share one and some do not, 2 all in
    different minima; None when a racer ends in none (diverged, or not at a minimum)."""
    b = [basin(surface, t) for t in trs]
    if len(b) < 2 or any(x < 0 for x in b):
        return None
    k = len(set(b))
    return 0 if k == 1 else 2 if k == len(b) else 1


# ----------------------------------------------------------------------------------------------
# Auto-tune
# ----------------------------------------------------------------------------------------------
def tune(surface, racer: Racer, start, steps: int, budget: Budget | None = None, tol: float = TOL) -> dict[str, Any]:
    """The best learning rate of one batched sweep of ``racer`` (its other hyperparameters fixed),
    within ``budget``: ``lr``, the grid, and what the budget cut (``cuts``)."""
    if is_second_order(racer.name):
        raise ValueError(f"{racer.name} has no learning rate to tune")
    fixed = {k: v for k, v in racer.hyper if k != "lr"}
    # the page's one lr range, and rates of 3 significant digits (what a student can type and a link carries)
    lrs = np.unique([float(f"{v:.3g}") for v in np.clip(lr_grid(racer.name, TUNE_GRID), LR_MIN, LR_MAX)])
    best, res = tune_lr(surface, racer.name, list(start), int(steps), lrs=lrs, fixed=fixed, tol=tol, budget=budget)
    return {"lr": float(best), "grid": int(np.size(res.final_loss)), "steps": int(res.steps), "cuts": tuple(res.cuts)}


def tuned(racer: Racer, lr: float | None) -> Racer:
    """The racer with learning rate ``lr`` (None: torch's default)."""
    h = racer.kwargs
    if lr is None:
        h.pop("lr", None)
    else:
        h["lr"] = float(lr)
    return Racer.of(racer.name, h)


def tune_verdict(surface, default_tr, tuned_tr, steps: int, tol: float = TOL) -> str:
    """How the tuned learning rate compares with torch's default on this race: "faster" (reaches
    f − f* ≤ tol in fewer steps), "only_tuned" (only the tuned one reaches it), "only_default",
    "same" (same step, or both end level), "lower" / "higher" (neither reaches it: the tuned one
    ends lower / higher), "both_diverged"."""
    kd, kt = steps_to_tolerance(surface, default_tr, tol), steps_to_tolerance(surface, tuned_tr, tol)
    if kd >= 0 and kt >= 0:
        return "faster" if kt < kd else "slower" if kt > kd else "same"
    if kt >= 0:
        return "only_tuned"
    if kd >= 0:
        return "only_default"
    gd, gt = _gap(surface, default_tr), _gap(surface, tuned_tr)
    if math.isinf(gd) and math.isinf(gt):
        return "both_diverged"
    if gt == gd or abs(gt - gd) <= 1e-9 * max(1.0, abs(gd)):
        return "same"
    return "lower" if gt < gd else "higher"


# ----------------------------------------------------------------------------------------------
# Exports
# ----------------------------------------------------------------------------------------------
def trajectories_csv(trajectories: Iterable[Any], labels: Sequence[str]) -> str:
    """Long-format CSV with English headers (stable for notebooks): ``optimizer, label, step, x,
    y, loss, grad_norm``, one row per step each run really has; ``label`` tells racers apart."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["optimizer", "label", "step", "x", "y", "loss", "grad_norm"])
    for tr, label in zip(trajectories, labels):
        xs = np.asarray(tr.xs, dtype=float)
        fs = np.asarray(tr.losses, dtype=float)
        gs = np.asarray(tr.grad_norms, dtype=float)
        for k in range(xs.shape[0]):
            w.writerow([tr.optimizer, label, k, repr(float(xs[k, 0])), repr(float(xs[k, 1])),
                        repr(float(fs[k])), repr(float(gs[k]))])
    return buf.getvalue()


def _py(v) -> str:
    if isinstance(v, (tuple, list)):
        return "(" + ", ".join(num_text(x) for x in v) + ")"
    if isinstance(v, (bool, np.bool_)) or v is None:
        return repr(None if v is None else bool(v))
    return num_text(v)


def python_snippet(race: Race, *, cut_at_step: int | None = None) -> str:
    """Python that reproduces the race with optlab (paste it into a notebook): every racer under
    its own label, so two SGD runners stay two runs."""
    spec = race.surface
    lines = ["import optlab", ""]
    if spec[0] == "formula":
        lines.append(f"surface = optlab.surfaces.from_formula({spec[1]!r})")
    else:
        args = "".join(f", {k}={num_text(v)}" for k, v in spec[1])
        lines.append(f"surface = optlab.surfaces.get({spec[0]!r}{args})")
    lines.append(f"x0 = [{num_text(race.start[0])}, {num_text(race.start[1])}]")
    lines.append(f"steps = {int(race.steps)}")
    if cut_at_step is not None:
        lines.append(f"# the page stopped its race at step {int(cut_at_step)} (its work budget); this runs every step")
    lines.append("")
    lines.append("racers = {")
    for r, label in zip(race.racers, race.labels()):
        args = ", ".join(f"{k}={_py(v)}" for k, v in r.hyper)
        lines.append(f"    {label!r}: optlab.optimizers.make({r.name!r}{', ' + args if args else ''}),")
    lines.append("}")
    lines.append("runs = {label: optlab.run(surface, opt, x0, steps) for label, opt in racers.items()}")
    lines.append("for label, tr in runs.items():")
    lines.append("    print(label, '|', tr.message, '| final point', tr.final_x)")
    lines.append("")
    lines.append("# the picture (needs plotly):")
    lines.append("# from optlab import figures")
    lines.append("# for label, tr in runs.items():")
    lines.append("#     tr.label = label")
    lines.append("# figures.contour(surface, list(runs.values())).show()")
    return "\n".join(lines) + "\n"


def build_surface(spec: tuple):
    return surface_from_spec(spec)


__all__ = ["MAX_OPTIMIZERS", "MAX_FORMULA", "DEFAULT_SURFACE", "TOL", "CUSTOM", "HIDDEN", "Number", "STEPS",
           "START", "HyperSpec", "hyper_specs", "hyper_spec", "is_second_order", "Racer", "non_defaults",
           "DEFAULT_RACE", "num_text", "value_text", "race_text", "hyper_text", "racer_labels", "Race",
           "surface_spec_of", "default_start", "race_budget", "racer_run", "step_bucket", "truncate", "steps_done",
           "cut_at", "results_rows", "RaceVerdict", "race_verdict", "first_step", "loss_rises", "basin",
           "escape_step", "verdict_lower_final", "verdict_closest", "verdict_escape", "verdict_converges",
           "verdict_valleys", "tune", "tuned", "tune_verdict", "trajectories_csv", "python_snippet",
           "build_surface", "surfaces"]
