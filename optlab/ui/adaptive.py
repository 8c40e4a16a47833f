r"""Cached computations and small widgets for the chapter page "Adaptive methods" (pages/4_…).

Everything heavy the page shows goes through a ``st.cache_data`` function here, keyed by hashable
arguments (surface specs, hyperparameter items), so a slider move only recomputes what changed.
"""
from __future__ import annotations

import math
from typing import Any

import streamlit as st

from .. import lr_finder, optimizers, theory
from ..chapters import adaptive as model
from ..optimizers import variants
from ..runner import run
from ..specs import hyper_items, schedule_from_spec
from ..sweeps import SweepResult, steps_to_tolerance
from . import lessons, state
from .i18n import cache_data as text_cache_data, cache_resource as text_cache_resource
from .widgets import cached_run, get_surface

# Slider values: "nice" learning rates 1e-4 … 5 (1, 1.5, 2, 3, 5, 7 per decade)
LR_CHOICES = [round(m * 10.0 ** e, 10) for e in range(-4, 1) for m in (1, 1.5, 2, 3, 5, 7)] + [1.0, 1.5, 2.0, 3.0, 5.0]
LR_CHOICES = sorted(set(LR_CHOICES))
KAPPAS = [1, 2, 5, 10, 25, 50, 100, 250, 1000]
BETA_CHOICES = [0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9999]

# Learning rates that show each optimizer at work on the 6-wide windows of the catalogue
# (torch's defaults are tuned for networks, where steps of 1e-3 matter)
PAGE_DEFAULTS: dict[str, dict[str, Any]] = {
    "sgd": {"lr": 0.05, "momentum": 0.9},
    "adagrad": {"lr": 0.5},
    "rmsprop": {"lr": 0.05},
    "adadelta": {"lr": 1.0},
    "adam": {"lr": 0.1},
    "adamw": {"lr": 0.1},
    "nadam": {"lr": 0.1},
    "radam": {"lr": 0.1},
}


def nearest(choices, value) -> float:
    """The entry of ``choices`` nearest to ``value`` on a log scale (for select sliders)."""
    v = float(value)
    return min(choices, key=lambda c: abs(math.log(max(c, 1e-300)) - math.log(max(v, 1e-300))))


def quadratic_spec(kappa: float, angle: float = 0.0) -> tuple:
    return ("quadratic", (("angle", float(angle)), ("condition", float(kappa))))


# ----------------------------------------------------------------------------------------------
# Momentum phase diagram
# ----------------------------------------------------------------------------------------------
@st.cache_data(max_entries=24, show_spinner=False)
def phase_sweep(kappa: float, steps: int, nesterov: bool, lr_lo: float, lr_hi: float, x0: tuple,
                shrink: float = 1e6, n_lr: int = 48, n_beta: int = 45) -> SweepResult:
    """:func:`optlab.chapters.adaptive.phase_sweep` on the quadratic of condition κ, cached."""
    return model.phase_sweep(get_surface(quadratic_spec(kappa)), steps, nesterov, lr_lo, lr_hi, x0, shrink,
                             n_lr, n_beta)


# ----------------------------------------------------------------------------------------------
# Runs of teaching variants (registered optimizers use ui.cached_run)
# ----------------------------------------------------------------------------------------------
@text_cache_data(max_entries=128, show_spinner=False)  # holds text: keyed by language
def variant_run(surface_spec: tuple, name: str, items: tuple, x0: tuple, steps: int, *, schedule=None,
                record: str = "full"):
    """``optlab.run`` of teaching variant ``name`` (see :mod:`optlab.optimizers.variants`), cached."""
    s = get_surface(tuple(surface_spec))
    opt = variants.variant(name, **{k: (tuple(v) if isinstance(v, list) else v) for k, v in items})
    return run(s, opt, x0, int(steps), schedule=schedule_from_spec(schedule), record=record)


@st.cache_data(max_entries=32, show_spinner=False)
def l2_point(surface_spec: tuple, weight_decay: float, x0: tuple) -> tuple[float, float]:
    """Minimizer of f + ½λ‖θ‖² (where Adam with L2 can stop), from Newton started at ``x0``."""
    p = model.l2_minimum(get_surface(tuple(surface_spec)), weight_decay, x0)
    return float(p[0]), float(p[1])


# ----------------------------------------------------------------------------------------------
# LR finder
# ----------------------------------------------------------------------------------------------
@text_cache_resource(max_entries=8, show_spinner=False)  # holds text: keyed by language
def regression_surface(n: int = 200, noise: float = 0.5, seed: int = 0):
    """Mean squared error of ŷ = w·x + b on synthetic data (``optlab.data.make_line``), with real
    mini-batches; built once per setting and shared (read-only)."""
    from .. import data, surfaces

    x, y = data.make_line(n=n, slope=2.0, intercept=1.0, noise=noise, seed=seed)
    return surfaces.from_data(x, y, "mse", label=f"synthetic line y = 2x + 1 + noise ({n} points)")


def problem_surface(problem: tuple):
    """``("quadratic", κ)`` or ``("regression", n)``."""
    if problem[0] == "regression":
        return regression_surface(int(problem[1]))
    return get_surface(quadratic_spec(problem[1]))


@text_cache_data(max_entries=48, show_spinner=False)  # holds text: keyed by language
def range_test(problem: tuple, optimizer: str, items: tuple, lr_min: float, lr_max: float, steps: int,
               smooth: float, batch_size: int | None, seed: int = 0):
    """:func:`optlab.lr_finder.lr_range_test` on a cached problem (see :func:`problem_surface`)."""
    s = problem_surface(problem)
    return lr_finder.lr_range_test(s, optimizer, s.starts[0], lr_min=lr_min, lr_max=lr_max, steps=steps,
                                   hyper=dict(items), smooth=smooth, batch_size=batch_size, seed=seed)


@text_cache_data(max_entries=48, show_spinner=False)  # holds text: keyed by language
def problem_run(problem: tuple, optimizer: str, items: tuple, steps: int, batch_size: int | None, seed: int = 0):
    """A path-record run on a problem of :func:`problem_surface` (mini-batches if ``batch_size``)."""
    s = problem_surface(problem)
    opt = optimizers.make(optimizer, **dict(items))
    return run(s, opt, s.starts[0], int(steps), batch_size=batch_size, seed=seed, record="path")


def curvature_limit(problem: tuple, momentum: float = 0.0) -> float:
    s = problem_surface(problem)
    return theory.curvature_limit(s, s.starts[0], momentum)


# ----------------------------------------------------------------------------------------------
# Widgets
# ----------------------------------------------------------------------------------------------
def lr_select(label: str, key: str, default: float, help: str | None = None, choices=None) -> float:
    """A learning-rate select slider over :data:`LR_CHOICES` (a value set elsewhere snaps to the
    nearest choice)."""
    choices = list(choices or LR_CHOICES)
    if key not in st.session_state:
        st.session_state[key] = nearest(choices, default)
    elif st.session_state[key] not in choices:
        st.session_state[key] = nearest(choices, st.session_state[key])
    return float(st.select_slider(label, options=choices, key=key, help=help, format_func=lambda v: f"{v:g}"))


def schedule_from_widgets(name: str, key: str, steps: int) -> tuple:
    """Widgets for the parameters of schedule ``name``; returns its hashable spec ``(name, items)``.
    Cosine schedules anneal over the whole run (T_max = steps)."""
    def init(k, v):
        if k not in st.session_state:
            st.session_state[k] = v

    if name == "step":
        init(f"{key}_step_size", max(1, steps // 4))
        st.session_state[f"{key}_step_size"] = min(max(int(st.session_state[f"{key}_step_size"]), 1), steps)
        n = st.slider("step_size (steps between drops)", 1, steps, key=f"{key}_step_size")
        init(f"{key}_gamma", 0.3)
        g = st.slider("gamma (factor at each drop)", 0.05, 0.95, step=0.05, key=f"{key}_gamma")
        return ("step", (("gamma", float(g)), ("step_size", int(n))))
    if name == "exponential":
        init(f"{key}_egamma", 0.98)
        g = st.slider("gamma (factor per step)", 0.9, 0.999, step=0.001, key=f"{key}_egamma", format="%.3f")
        return ("exponential", (("gamma", float(g)),))
    if name == "cosine":
        init(f"{key}_eta_min", 0.0)
        e = st.number_input("eta_min (final lr)", min_value=0.0, max_value=1.0, step=0.001, format="%g", key=f"{key}_eta_min")
        return ("cosine", (("T_max", int(steps)), ("eta_min", float(e))))
    if name == "warmup_cosine":
        init(f"{key}_warmup", max(1, steps // 10))
        st.session_state[f"{key}_warmup"] = min(max(int(st.session_state[f"{key}_warmup"]), 1), steps - 1)
        w = st.slider("warm-up steps", 1, steps - 1, key=f"{key}_warmup")
        init(f"{key}_start_factor", 0.1)
        sf = st.slider("start_factor (first lr / lr)", 0.01, 1.0, step=0.01, key=f"{key}_start_factor")
        return ("warmup_cosine", (("T_max", int(steps)), ("eta_min", 0.0), ("start_factor", float(sf)),
                                  ("warmup", int(w))))
    return ("constant", ())


def default_schedule_spec(name: str, steps: int) -> tuple:
    """The spec of schedule ``name`` with the page's initial parameters (for the faint comparison curves)."""
    steps = int(steps)
    return {"step": ("step", (("gamma", 0.3), ("step_size", max(1, steps // 4)))),
            "exponential": ("exponential", (("gamma", 0.98),)),
            "cosine": ("cosine", (("T_max", steps), ("eta_min", 0.0)))
            , "warmup_cosine": ("warmup_cosine", (("T_max", steps), ("eta_min", 0.0), ("start_factor", 0.1),
                                                  ("warmup", max(1, steps // 10))))}.get(name, ("constant", ()))


@st.cache_data(max_entries=64, show_spinner=False)
def schedule_curves(specs: tuple, lr: float, steps: int) -> dict[str, Any]:
    """``title -> lr curve`` (an array) for each schedule spec."""
    out = {}
    for spec in specs:
        s = schedule_from_spec(spec)
        out[s.title] = s.curve(lr, steps)
    return out


def hyper_markdown(name: str) -> str:
    """The hyperparameters of ``name`` as a Markdown table (symbols in KaTeX): torch keyword, symbol,
    torch default, meaning."""
    info = optimizers.info(name)
    lines = ["| torch keyword | symbol | torch default | what it means |", "| --- | --- | --- | --- |"]
    for h in info.hyper:
        if h.name == "maximize":
            continue
        sym = f"${h.symbol}$" if h.symbol else ""
        d = h.default
        ds = "(" + ", ".join(f"{x:g}" for x in d) + ")" if isinstance(d, tuple) else (str(d) if isinstance(d, bool) or d is None else f"{d:g}")
        lines.append(f"| `{h.name}` | {sym} | `{ds}` | {h.meaning} |")
    return "\n".join(lines)


def state_markdown(name: str) -> str:
    """What the optimizer keeps in memory between steps (torch's state names), as Markdown."""
    info = optimizers.info(name)
    if not info.state:
        return "Nothing: each step uses only the current gradient."
    out = []
    for key, text in info.state.items():
        sym, _, meaning = text.partition(":")
        out.append(f"- `state['{key}']` — ${sym.strip()}$: {meaning.strip()}")
    return "\n".join(out)


def memory_rows(names) -> list[dict[str, str]]:
    """One row per optimizer: what it keeps between steps, and its one-line summary."""
    rows = []
    for n in names:
        info = optimizers.info(n)
        kept = ", ".join(k for k in info.state) or "(nothing)"
        rows.append({"optimizer": info.title, "keeps between steps (torch's state)": kept,
                     "in one line": info.summary})
    return rows


__all__ = ["LR_CHOICES", "KAPPAS", "PAGE_DEFAULTS", "phase_sweep", "variant_run", "l2_point",
           "regression_surface", "problem_surface", "range_test", "problem_run", "curvature_limit", "lr_select",
           "schedule_from_widgets", "default_schedule_spec", "schedule_curves", "hyper_markdown", "state_markdown",
           "memory_rows", "quadratic_spec", "nearest"]


# ----------------------------------------------------------------------------------------------
# Linkable state, questions and the momentum lesson (see optlab/ui/state.py, optlab/ui/lessons.py)
# ----------------------------------------------------------------------------------------------
SECTIONS = ["Momentum", "Update rules", "State at a step", "Adam family", "Schedules", "LR finder"]
SHRINK = 1e6  # "converged": the loss shrunk by this factor (the momentum section's target)

SECTION = state.Section(SECTIONS, "ad_section", codes=["momentum", "rules", "state", "family", "schedules", "finder"])
MO_KAPPA = state.Choice("k", "ad_mo_kappa", KAPPAS, 25, label="condition number κ (steepest / flattest curvature)",
                        section="Momentum")
MO_LR = state.Choice("lr", "ad_mo_lr", LR_CHOICES, 0.03, label="learning rate γ", section="Momentum")
MO_BETA = state.Float("b", "ad_mo_beta", 0.0, 0.99, 0.9, step=0.01, label="momentum β", section="Momentum")
MO_STEPS = state.Int("n", "ad_mo_steps", 20, 500, 200, step=10, label="steps", section="Momentum")
MO_PHASE = state.Choice("ph", "ad_mo_phase", ["heavy ball", "Nesterov"], "heavy ball", codes=["hb", "nesterov"],
                        label="momentum", section="Momentum")

PAGE = state.Page("Adaptive_methods", [SECTION, MO_KAPPA, MO_LR, MO_BETA, MO_STEPS, MO_PHASE],
                  title="Adaptive methods", domain="adaptive")


def momentum_runs(kappa: float, lr: float, beta: float, steps: int) -> tuple:
    """``(surface, gd, heavy_ball, nesterov)`` of the momentum section (the last two None when
    β = 0), from the cached runner: the page draws these and the questions judge these."""
    spec = quadratic_spec(kappa)
    surface = get_surface(spec)
    x0 = tuple(float(v) for v in surface.starts[0])
    gd = cached_run(spec, "sgd", hyper_items({"lr": lr}), x0, int(steps))
    hb = nv = None
    if beta > 0:
        hb = cached_run(spec, "sgd", hyper_items({"lr": lr, "momentum": beta}), x0, int(steps))
        nv = cached_run(spec, "sgd", hyper_items({"lr": lr, "momentum": beta, "nesterov": True}), x0, int(steps))
    return surface, gd, hb, nv


def steps_to_shrink(surface, tr) -> float:
    """Steps until the loss shrank :data:`SHRINK` times (inf: diverged or not within the run)."""
    if tr is None or int(tr.diverged_at) >= 0:
        return math.inf
    k = steps_to_tolerance(surface, tr, float(tr.losses[0]) / SHRINK)
    return math.inf if k < 0 else float(k)


def _runs(v) -> tuple:
    return momentum_runs(float(v["k"]), float(v["lr"]), float(v["b"]), int(v["n"]))


def _gd_bucket(v) -> int:
    surface, gd = _runs(v)[:2]
    k = steps_to_shrink(surface, gd)
    return 0 if k < 100 else 1 if k < 200 else 2 if k <= int(v["n"]) else 3


def _momentum_beats_gd(v) -> int:
    surface, gd, hb = _runs(v)[:3]
    return 0 if steps_to_shrink(surface, hb) < steps_to_shrink(surface, gd) else 1


def _more_memory(v) -> int:
    """β as set against β = 0.9 at the same κ, lr and steps: 0 faster, 1 slower or never."""
    surface, hb = _runs(v)[0], _runs(v)[2]
    ref = _runs({**v, "b": 0.9})[2]
    return 0 if steps_to_shrink(surface, hb) < steps_to_shrink(surface, ref) else 1


def _gd_fate(v) -> int:
    surface, gd = _runs(v)[:2]
    if int(gd.diverged_at) >= 0 or float(gd.losses[-1]) > float(gd.losses[0]):
        return 2
    ref = momentum_runs(float(v["k"]), 0.02, 0.0, int(v["n"]))[1]
    return 1 if steps_to_shrink(surface, gd) < steps_to_shrink(surface, ref) else 0


def _diverges(which: int):
    def outcome(v) -> int:
        tr = _runs(v)[which]
        return 0 if int(tr.diverged_at) >= 0 else 1
    return outcome


Q_MOMENTUM = lessons.Question(
    "mom_helps", "Momentum on a narrow valley",
    "κ = 50, γ = 0.02. Plain gradient descent needs many steps along the flat direction. With momentum "
    "β = 0.9 the path overshoots and spirals. Does momentum still shrink the loss 10⁶× in **fewer** steps "
    "than plain GD?",
    state={"sec": "Momentum", "k": 50, "lr": 0.02, "b": 0.9, "n": 300},
    choices=("Yes: momentum gets there in fewer steps", "No: the overshoot costs more steps (or it never gets there)"),
    outcome=_momentum_beats_gd,
    explanation="Compare the caption's step counts. β = 0.9 is above the critically damped β\\* (the page prints "
                "it), so the path spirals, yet the error along the flat direction shrinks by √β ≈ 0.95 per step "
                "instead of GD's 1 − γ·λ_min = 0.98. In the phase diagram your choice is the black circle; the "
                "white curve is β\\*.")

Q_GD_STEPS = lessons.Question(
    "gd_steps", "Plain gradient descent in a narrow valley",
    "κ = 50 (the bowl is 50 times steeper across than along), γ = 0.02, no momentum. How many steps does "
    "gradient descent need to shrink the loss 10⁶×?",
    state={"sec": "Momentum", "k": 50, "lr": 0.02, "b": 0.0, "n": 300},
    choices=("Fewer than 100", "100 to 199", "200 to 300", "It does not get there within 300 steps"),
    outcome=_gd_bucket,
    explanation="Along the flat direction (λ = 1) each step keeps 1 − γ·λ = 0.98 of the error, so the loss "
                "(its square) shrinks by 0.98² per step. Most of the starting loss lies in the steep direction "
                "(λ = 50), which empties within a few steps, so the flat part only has to shrink about 53,000×: "
                "ln(53,000)/(−2 ln 0.98) ≈ 270 steps. γ is limited by the steep direction; the flat one is slow.")

Q_MORE_MEMORY = lessons.Question(
    "more_memory", "More memory: β = 0.99",
    "Same valley (κ = 50, γ = 0.02), momentum β = 0.99 instead of 0.9. Faster or slower than β = 0.9?",
    state={"sec": "Momentum", "k": 50, "lr": 0.02, "b": 0.99, "n": 300},
    choices=("Faster: more memory, more speed", "Slower: it spirals for a long time"),
    outcome=_more_memory,
    explanation="Above the critically damped β\\* the error shrinks only by √β per step: √0.99 ≈ 0.995, "
                "slower than √0.9 ≈ 0.95. Too much memory makes the ball roll back and forth along the "
                "valley. The fastest β for this γ is β\\* itself.")

Q_GD_TOO_FAST = lessons.Question(
    "gd_too_fast", "A learning rate too large for gradient descent",
    "κ = 50, γ = 0.05, no momentum: γ·λ_max = 2.5. What does gradient descent do?",
    state={"sec": "Momentum", "k": 50, "lr": 0.05, "b": 0.0, "n": 300},
    choices=("Converges, more slowly than at γ = 0.02", "Converges faster than at γ = 0.02", "Diverges"),
    outcome=_gd_fate,
    explanation="Along the steep direction each step multiplies the error by 1 − γ·λ_max = −1.5: it flips sign "
                "and grows. Gradient descent is stable only for γ < 2/λ_max = 0.04.")

Q_MOMENTUM_RESCUES = lessons.Question(
    "mom_rescues", "Does momentum diverge too?",
    "Same γ = 0.05 where plain GD diverged, now with momentum β = 0.9. Does heavy-ball momentum diverge too?",
    state={"sec": "Momentum", "k": 50, "lr": 0.05, "b": 0.9, "n": 300},
    choices=("Yes, it diverges too", "No, it converges"),
    outcome=_diverges(2),
    explanation="With momentum the stability limit moves from γ < 2/λ_max to γ < 2(1 + β)/λ_max = 0.076 "
                "(the red dashes in the phase diagram): the buffer's inertia averages the flips out.")

Q_NESTEROV = lessons.Question(
    "nesterov_lr", "Nesterov's look-ahead",
    "κ = 50, γ = 0.03, β = 0.9: heavy-ball momentum converges here. Nesterov evaluates the gradient ahead, at "
    "the point the momentum is carrying it to. Does Nesterov converge too?",
    state={"sec": "Momentum", "k": 50, "lr": 0.03, "b": 0.9, "n": 300, "ph": "Nesterov"},
    choices=("Yes, and it is safer than heavy ball", "No, it diverges where heavy ball converges"),
    outcome=lambda v: 1 if int(_runs(v)[3].diverged_at) >= 0 else 0,
    explanation="Nesterov's step is γ·(g + β·buf): in the steep direction it takes (1 + β) times the gradient "
                "at once, so its stability limit is lower: γ·λ_max < 2(1 + β)/(1 + 2β) ≈ 1.36 here (γ·λ_max = "
                "1.5). Its phase diagram (switch to Nesterov) shows the dark-red region reaching further left.")

LESSON_MOMENTUM = lessons.Lesson(
    "momentum", "Momentum in a narrow valley",
    steps=(
        lessons.Step("Gradient descent is slow in a valley",
                     "A bowl 50 times steeper across than along. Ask the class first, then commit one answer.",
                     ask=Q_GD_STEPS),
        lessons.Step("Add momentum", "Momentum keeps a running direction: β = 0.9 remembers ~10 steps.",
                     ask=Q_MOMENTUM),
        lessons.Step("Too much memory", "If 0.9 helps, does 0.99 help more?", ask=Q_MORE_MEMORY),
        lessons.Step("A larger step", "Back to no momentum, with γ = 0.05.", ask=Q_GD_TOO_FAST),
        lessons.Step("Momentum's larger stability region", "Keep γ = 0.05 and add β = 0.9.", ask=Q_MOMENTUM_RESCUES),
        lessons.Step("Nesterov is not always safer", "Switch the phase diagram to Nesterov after the verdict.",
                     ask=Q_NESTEROV),
    ),
    summary="Six predictions on one quadratic: why GD is slow in a valley, how momentum helps, when too much "
            "memory hurts, and the stability limits of GD, heavy ball and Nesterov.",
    minutes=20)

CHAPTER = lessons.Chapter(PAGE, "Adaptive methods", questions=(Q_MOMENTUM,), lessons=(LESSON_MOMENTUM,))

__all__ += ["SECTIONS", "SECTION", "PAGE", "MO_KAPPA", "MO_LR", "MO_BETA", "MO_STEPS", "MO_PHASE", "SHRINK",
            "momentum_runs", "steps_to_shrink", "Q_MOMENTUM", "Q_GD_STEPS", "Q_MORE_MEMORY", "Q_GD_TOO_FAST",
            "Q_MOMENTUM_RESCUES", "Q_NESTEROV", "LESSON_MOMENTUM", "CHAPTER"]
