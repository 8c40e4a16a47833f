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
from ..specs import schedule_from_spec
from ..sweeps import SweepResult
from .widgets import get_surface

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
@st.cache_data(max_entries=128, show_spinner=False)
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
@st.cache_resource(max_entries=8, show_spinner=False)
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


@st.cache_data(max_entries=48, show_spinner=False)
def range_test(problem: tuple, optimizer: str, items: tuple, lr_min: float, lr_max: float, steps: int,
               smooth: float, batch_size: int | None, seed: int = 0):
    """:func:`optlab.lr_finder.lr_range_test` on a cached problem (see :func:`problem_surface`)."""
    s = problem_surface(problem)
    return lr_finder.lr_range_test(s, optimizer, s.starts[0], lr_min=lr_min, lr_max=lr_max, steps=steps,
                                   hyper=dict(items), smooth=smooth, batch_size=batch_size, seed=seed)


@st.cache_data(max_entries=48, show_spinner=False)
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
