r"""The optimizer arena without Streamlit: scenarios, shareable links, results, exports, presets.

A *scenario* is everything that defines a race: the surface (a registry name with its parameters,
or a typed formula), the start point, the number of steps and the optimizers with the
hyperparameters that differ from torch's defaults.  It round-trips through URL query parameters::

    ?s=rosenbrock&x=-1.5,2&n=200&o=adam:lr=0.05;sgd:lr=0.001,momentum=0.9

``decode`` never raises: whatever it cannot read is replaced by a default and explained in the
returned warnings, so a mangled link still opens a working page.
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import numpy as np

from .. import optimizers, surfaces
from ..optimizers.base import resolve
from ..specs import surface_from_spec
from ..sweeps import steps_to_tolerance

MAX_STEPS = 2000
MAX_OPTIMIZERS = 8
MAX_FORMULA = 300
DEFAULT_SURFACE = "rosenbrock"
DEFAULT_STEPS = 300
TOL = 1e-4           # "reached the minimum": f − f* ≤ TOL (results table, auto-tune)

# hyperparameters the arena does not expose: they only flip signs or tune line searches
HIDDEN = {"maximize"}


# ----------------------------------------------------------------------------------------------
# Hyperparameters
# ----------------------------------------------------------------------------------------------
def non_defaults(name: str, hyper: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of ``hyper`` that differ from torch's defaults (what a link needs to carry)."""
    rec = optimizers.info(name)
    out = {}
    for h in rec.hyper:
        if h.name not in hyper:
            continue
        v, d = hyper[h.name], h.default
        if h.kind == "betas":
            if tuple(float(x) for x in v) != tuple(float(x) for x in d):
                out[h.name] = tuple(float(x) for x in v)
        elif h.kind == "bool":
            if bool(v) != bool(d):
                out[h.name] = bool(v)
        elif v is None or d is None:
            if v is not d:
                out[h.name] = v
        elif float(v) != float(d):
            out[h.name] = v
    return out


def _num(v) -> str:
    """Shortest text that reads back as the same float (repr is exact and short for floats)."""
    v = float(v)
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)


# ----------------------------------------------------------------------------------------------
# Scenario and query parameters
# ----------------------------------------------------------------------------------------------
@dataclass
class Racer:
    """One optimizer in the race: its name and the hyperparameters that differ from torch's."""

    name: str
    hyper: dict[str, Any] = field(default_factory=dict)

    def make(self):
        return optimizers.make(self.name, **self.hyper)


@dataclass
class Scenario:
    surface: str = DEFAULT_SURFACE
    surface_params: dict[str, float] = field(default_factory=dict)
    formula: str | None = None
    start: tuple[float, float] | None = None      # None: the surface's first suggested start
    steps: int = DEFAULT_STEPS
    racers: list[Racer] = field(default_factory=lambda: [
        Racer("sgd", {"lr": 1e-3}), Racer("sgd", {"lr": 1e-3, "momentum": 0.9}), Racer("adam", {"lr": 0.05})])

    def surface_spec(self) -> tuple:
        if self.surface == "custom" and self.formula:
            return ("formula", self.formula, None)
        return (self.surface, tuple(sorted((k, float(v)) for k, v in self.surface_params.items())))

    def build_surface(self):
        return surface_from_spec(self.surface_spec())

    def start_point(self, surface=None) -> tuple[float, float]:
        if self.start is not None:
            return self.start
        s = surface or self.build_surface()
        if s.starts:
            return tuple(float(v) for v in s.starts[0])
        (x0, x1), (y0, y1) = s.window
        return (x0 + 0.2 * (x1 - x0), y0 + 0.8 * (y1 - y0))


def canonical(sc: Scenario) -> Scenario:
    """The same scenario with every value that equals its default left out (the shortest link)."""
    params = {}
    if sc.surface != "custom":
        defaults = surfaces.get(sc.surface).params
        params = {k: float(v) for k, v in sc.surface_params.items() if defaults.get(k) != float(v)}
    racers = [Racer(r.name, non_defaults(r.name, resolve(optimizers.info(r.name), dict(r.hyper)))) for r in sc.racers]
    return Scenario(surface=sc.surface, surface_params=params, formula=sc.formula if sc.surface == "custom" else None,
                    start=sc.start, steps=sc.steps, racers=racers)


def encode(sc: Scenario) -> dict[str, str]:
    """Query parameters for ``sc`` (short keys: s surface, p its parameters, f formula, x start,
    n steps, o optimizers as ``name:key=value,key=value;name2:…``)."""
    q: dict[str, str] = {"s": sc.surface}
    if sc.surface == "custom" and sc.formula:
        q["f"] = sc.formula
    if sc.surface_params:
        q["p"] = ",".join(f"{k}={_num(v)}" for k, v in sorted(sc.surface_params.items()))
    if sc.start is not None:
        q["x"] = f"{_num(sc.start[0])},{_num(sc.start[1])}"
    q["n"] = str(int(sc.steps))
    parts = []
    for r in sc.racers:
        kv = []
        for k, v in sorted(r.hyper.items()):
            if isinstance(v, (tuple, list)):
                kv.append(f"{k}={'/'.join(_num(x) for x in v)}")
            elif isinstance(v, (bool, np.bool_)):
                kv.append(f"{k}={'1' if v else '0'}")
            elif v is None:
                kv.append(f"{k}=none")
            else:
                kv.append(f"{k}={_num(v)}")
        parts.append(r.name + (":" + ",".join(kv) if kv else ""))
    q["o"] = ";".join(parts)
    return q


def _first(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, (list, tuple)):
        v = v[-1] if v else None
    return None if v is None else str(v)


def _float(text: str) -> float:
    v = float(text)
    if not math.isfinite(v):
        raise ValueError(text)
    return v


def _parse_racer(text: str, warn: list[str]) -> Racer | None:
    name, _, rest = text.partition(":")
    name = name.strip().lower()
    if name not in optimizers.names():
        warn.append(f"unknown optimizer {name!r} ignored (known: {', '.join(optimizers.names())})")
        return None
    rec = optimizers.info(name)
    hyper: dict[str, Any] = {}
    for item in filter(None, (s.strip() for s in rest.split(","))):
        k, eq, v = item.partition("=")
        k = k.strip()
        try:
            h = rec.hyper_by_name(k)
        except KeyError:
            warn.append(f"{rec.title}: unknown hyperparameter {k!r} ignored")
            continue
        try:
            if not eq:
                raise ValueError(item)
            v = v.strip()
            if h.kind == "bool":
                if v.lower() not in ("1", "0", "true", "false"):
                    raise ValueError(v)
                hyper[k] = v.lower() in ("1", "true")
            elif h.kind == "betas":
                b = tuple(_float(x) for x in v.split("/"))
                if len(b) != 2:
                    raise ValueError(v)
                hyper[k] = b
            elif v.lower() == "none" and h.default is None:
                hyper[k] = None
            else:
                x = _float(v)
                hyper[k] = int(x) if isinstance(h.default, int) and not isinstance(h.default, bool) and x.is_integer() else x
        except ValueError:
            warn.append(f"{rec.title}: value {v!r} for {k} is not valid; torch's default is used")
    try:
        optimizers.make(name, **hyper)
    except ValueError as e:
        warn.append(f"{rec.title}: {e}; torch's defaults are used")
        hyper = {}
    return Racer(name, hyper)


def decode(params: Mapping[str, Any]) -> tuple[Scenario, list[str]]:
    """Scenario from query parameters; anything unreadable falls back to a default, with a warning."""
    warn: list[str] = []
    sc = Scenario()
    s = _first(params.get("s"))
    if s is not None:
        if s == "custom":
            f = _first(params.get("f"))
            if f and len(f) <= MAX_FORMULA:
                sc.surface, sc.formula = "custom", f
            else:
                warn.append("the link names a custom surface without a usable formula; Rosenbrock is shown")
        elif s in surfaces.names():
            sc.surface = s
        else:
            warn.append(f"unknown surface {s!r} ignored (known: {', '.join(surfaces.names())})")
    p = _first(params.get("p"))
    if p and sc.surface != "custom":
        defaults = surfaces.get(sc.surface).params
        for item in filter(None, p.split(",")):
            k, _, v = item.partition("=")
            if k not in defaults:
                warn.append(f"surface parameter {k!r} ignored ({sc.surface} has: {', '.join(defaults) or 'none'})")
                continue
            try:
                sc.surface_params[k] = _float(v)
            except ValueError:
                warn.append(f"surface parameter {k}={v!r} is not a number; default used")
        try:
            surfaces.get(sc.surface, **sc.surface_params)
        except ValueError as e:
            warn.append(f"surface parameters rejected ({e}); defaults used")
            sc.surface_params = {}
    x = _first(params.get("x"))
    if x is not None:
        try:
            a, b = (_float(t) for t in x.split(","))
            if max(abs(a), abs(b)) > 1e6:
                raise ValueError(x)
            sc.start = (a, b)
        except ValueError:
            warn.append(f"start point {x!r} is not two numbers 'x,y'; the surface's default start is used")
    n = _first(params.get("n"))
    if n is not None:
        try:
            k = int(_float(n))
            if not 1 <= k <= MAX_STEPS:
                raise ValueError(n)
            sc.steps = k
        except ValueError:
            warn.append(f"steps {n!r} must be a whole number from 1 to {MAX_STEPS}; {DEFAULT_STEPS} used")
    o = _first(params.get("o"))
    if o is not None:
        # the same optimizer may race several times (SGD with and without momentum)
        uniq = [r for r in (_parse_racer(t, warn) for t in o.split(";") if t.strip()) if r is not None]
        if len(uniq) > MAX_OPTIMIZERS:
            warn.append(f"at most {MAX_OPTIMIZERS} optimizers; the rest are ignored")
            uniq = uniq[:MAX_OPTIMIZERS]
        if uniq:
            sc.racers = uniq
        else:
            warn.append("no usable optimizer in the link; SGD and Adam are shown")
    return sc, warn


# ----------------------------------------------------------------------------------------------
# Reusing longer runs
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
    """The first ``steps`` steps of a single (unbatched) ``record="path"`` trajectory.

    A run is a deterministic sequence (a constant or step-indexed learning rate, seeded noise), so
    its prefix is exactly the shorter run: ``truncate(run(…, 500), 300) == run(…, 300)``.
    """
    import dataclasses

    if tr.batched:
        raise ValueError("truncate takes a single run, not a batch")
    steps = int(steps)
    if tr.xs is None or steps >= tr.xs.shape[0] - 1:
        return tr
    xs, fs = tr.xs[: steps + 1], tr.losses[: steps + 1]

    def first(k):
        return int(k) if 0 <= int(k) <= steps else -1

    dv = first(tr.diverged_at)
    with np.errstate(invalid="ignore"):
        best = float(np.nanmin(fs)) if np.isfinite(fs).any() else float("nan")
    return dataclasses.replace(
        tr, xs=xs, losses=fs, grad_norms=tr.grad_norms[: steps + 1],
        lrs=tr.lrs[:steps] if tr.lrs is not None else None,
        diverged_at=dv, diverged_reason=tr.diverged_reason if dv >= 0 else "",
        converged_at=first(tr.converged_at), reached_at=first(tr.reached_at),
        final_x=np.array(xs[-1], dtype=float), final_loss=float(fs[-1]), best_loss=best,
        steps=min(int(tr.steps), steps))


# ----------------------------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------------------------
def hyper_text(name: str, hyper: Mapping[str, Any], *, only_changed: bool = True) -> str:
    """``"lr = 0.05, momentum = 0.9"``: the hyperparameters worth showing (those that differ from
    torch's defaults, and always lr)."""
    full = resolve(optimizers.info(name), dict(hyper))
    shown = non_defaults(name, full) if only_changed else full
    parts = [f"lr = {float(full['lr']):.4g}"]
    for k, v in shown.items():
        if k == "lr" or k in HIDDEN:
            continue
        if isinstance(v, tuple):
            parts.append(f"{k} = ({', '.join(f'{float(x):g}' for x in v)})")
        elif isinstance(v, bool):
            parts.append(f"{k} = {v}")
        elif v is None:
            parts.append(f"{k} = None")
        else:
            parts.append(f"{k} = {float(v):.4g}")
    return ", ".join(parts)


def results_rows(surface, trajectories: Iterable[Any], tol: float = TOL) -> list[dict[str, Any]]:
    """One row per trajectory: final loss, distance to the nearest known minimum, the step at
    which f − f* ≤ tol and the step where it diverged (None when not applicable)."""
    rows = []
    for tr in trajectories:
        dv = int(tr.diverged_at)
        fx = np.asarray(tr.final_x, dtype=float)
        dist = float(surface.distance_to_minimum(fx)) if dv < 0 else float("nan")
        reach = steps_to_tolerance(surface, tr, tol)
        rows.append({
            "optimizer": tr.label,
            "hyperparameters": hyper_text(tr.optimizer, tr.hyper),
            "final loss": float(tr.final_loss) if dv < 0 else float("nan"),
            "distance to nearest minimum": dist,
            f"steps to f − f* ≤ {tol:g}": reach if reach >= 0 else None,
            "diverged at step": dv if dv >= 0 else None,
            "final x": float(fx[0]) if dv < 0 else float("nan"),
            "final y": float(fx[1]) if dv < 0 else float("nan"),
        })
    return rows


def trajectories_csv(trajectories: Iterable[Any]) -> str:
    """Long-format CSV: ``optimizer, label, step, x, y, loss, grad_norm`` (NaN after a divergence)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["optimizer", "label", "step", "x", "y", "loss", "grad_norm"])
    for tr in trajectories:
        xs = np.asarray(tr.xs, dtype=float)
        fs = np.asarray(tr.losses, dtype=float)
        gs = np.asarray(tr.grad_norms, dtype=float)
        for k in range(xs.shape[0]):
            w.writerow([tr.optimizer, tr.label, k, repr(float(xs[k, 0])), repr(float(xs[k, 1])),
                        repr(float(fs[k])), repr(float(gs[k]))])
    return buf.getvalue()


def python_snippet(sc: Scenario, start: tuple[float, float] | None = None) -> str:
    """Python that reproduces the race with optlab (paste it into a notebook)."""
    spec = sc.surface_spec()
    lines = ["import optlab", ""]
    if spec[0] == "formula":
        lines.append(f"surface = optlab.surfaces.from_formula({spec[1]!r})")
    else:
        args = "".join(f", {k}={_num(v)}" for k, v in spec[1])
        lines.append(f"surface = optlab.surfaces.get({spec[0]!r}{args})")
    x0 = start if start is not None else sc.start
    if x0 is None:
        lines.append("x0 = surface.starts[0]")
    else:
        lines.append(f"x0 = [{_num(x0[0])}, {_num(x0[1])}]")
    lines.append(f"steps = {int(sc.steps)}")
    lines.append("")
    lines.append("optimizers = {")
    for r in sc.racers:
        args = ", ".join(f"{k}={_py(v)}" for k, v in sorted(r.hyper.items()))
        lines.append(f"    {r.name!r}: optlab.optimizers.make({r.name!r}{', ' + args if args else ''}),")
    lines.append("}")
    lines.append("runs = {name: optlab.run(surface, opt, x0, steps) for name, opt in optimizers.items()}")
    lines.append("for name, tr in runs.items():")
    lines.append("    print(tr.message, '| final point', tr.final_x)")
    lines.append("")
    lines.append("# the picture (needs plotly):")
    lines.append("# from optlab import figures")
    lines.append("# figures.contour(surface, list(runs.values())).show()")
    return "\n".join(lines) + "\n"


def _py(v) -> str:
    if isinstance(v, (tuple, list)):
        return "(" + ", ".join(_num(x) for x in v) + ")"
    if isinstance(v, (bool, np.bool_)) or v is None:
        return repr(None if v is None else bool(v))
    return _num(v)


# ----------------------------------------------------------------------------------------------
# Presets for class
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Preset:
    key: str
    title: str
    question: str          # for the student to predict before pressing play
    look_for: str          # what to notice afterwards
    params: dict[str, str]  # query parameters of the scenario

    def scenario(self) -> Scenario:
        return decode(self.params)[0]


PRESETS: tuple[Preset, ...] = (
    Preset("momentum_overshoots", "Momentum overshoots",
           "On a long, narrow bowl, will heavy momentum (μ = 0.95) reach the bottom before plain gradient "
           "descent with the same learning rate, or fly past it?",
           "Momentum builds speed along the valley floor and swings back and forth across it; plain SGD "
           "creeps. Look at the loss curve: momentum's loss goes up and down before settling.",
           {"s": "quadratic", "p": "angle=30,condition=25", "x": "-2.5,1.5", "n": "120",
            "o": "sgd:lr=0.03;sgd:lr=0.03,momentum=0.95"}),
    Preset("adam_vs_sgd_rosenbrock", "Adam vs SGD on Rosenbrock",
           "All three start on the slope of the banana valley. After 500 steps, which is closest to the "
           "minimum at (1, 1): plain SGD, SGD with momentum, or Adam?",
           "Plain SGD dives into the valley and then crawls along its flat, curved floor: its loss hardly "
           "moves after the first steps. Momentum and Adam both keep going along the floor — momentum by "
           "building up speed, Adam by rescaling each coordinate — and end far closer to (1, 1).",
           {"s": "rosenbrock", "x": "-1.5,2", "n": "500",
            "o": "sgd:lr=0.001;sgd:lr=0.0005,momentum=0.9;adam:lr=0.05"}),
    Preset("saddle_escape", "Saddle escape",
           "Starting almost exactly on the ridge of a saddle (y = 0.01), which optimizer gets away from "
           "the saddle point first: SGD, Adam or Newton's method?",
           "Adam divides by the gradient's size, so it moves away at full speed from the first step. SGD's "
           "escape starts tiny and grows exponentially: slow at first, then it overtakes. Newton's method "
           "jumps straight onto the saddle point: it looks for a zero gradient, not for a low loss.",
           {"s": "saddle", "x": "-1.8,0.01", "n": "80", "o": "sgd:lr=0.05;adam:lr=0.05;newton"}),
    Preset("too_large_lr", "A learning rate too large",
           "Gradient descent with lr = 0.25 and with lr = 0.15 on a bowl whose steepest curvature is 10: "
           "which one converges?",
           "On a quadratic, gradient descent converges only when lr < 2 / (largest curvature) = 0.2: the "
           "run with lr = 0.25 bounces out further every step and is stopped when it diverges.",
           {"s": "quadratic", "p": "angle=0,condition=10", "x": "-2.5,1.5", "n": "60",
            "o": "sgd:lr=0.15;sgd:lr=0.25"}),
    Preset("many_minima", "Which valley? (Himmelblau)",
           "Himmelblau's function has four minima. From the same start, do SGD, Adam and RMSProp end in "
           "the same one?",
           "Different update rules follow different paths, and a small difference early on decides the "
           "basin: optimizers can disagree on the answer, not just on the speed.",
           {"s": "himmelblau", "x": "-0.3,-0.9", "n": "300", "o": "sgd:lr=0.01;adam:lr=0.1;rmsprop:lr=0.02"}),
)


def preset(key: str) -> Preset:
    for p in PRESETS:
        if p.key == key:
            return p
    from ..errors import UnknownNameError

    raise UnknownNameError("preset", key, [p.key for p in PRESETS])
