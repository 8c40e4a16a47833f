r"""Cached computations and small widgets for the chapter page "Adaptive methods" (pages/4_…).

Everything heavy the page shows goes through a ``st.cache_data`` function here, keyed by hashable
arguments (surface specs, hyperparameter items), so a slider move only recomputes what changed.
"""
from __future__ import annotations

import math
from typing import Any

import streamlit as st

from .. import lr_finder, optimizers, surfaces as _surfaces, theory
from ..chapters import adaptive as model
from ..i18n import domain
from ..specs import LR_MAX, LR_MIN
from ..optimizers import variants
from ..runner import run
from ..specs import hyper_items, schedule_from_spec
from ..sweeps import SweepResult, steps_to_tolerance
from . import lessons, state
from .i18n import cache_data as text_cache_data, cache_resource as text_cache_resource
from .widgets import FORMULA_EXAMPLE, cached_run, get_surface

_, N_, ngettext = domain("adaptive")

# Slider values: "nice" learning rates over the app's range specs.LR_MIN … LR_MAX (1e-6 … 10:
# 1, 1.5, 2, 3, 5, 7 per decade); a link's value in between goes to the nearest, said
LR_CHOICES = sorted({round(m * 10.0 ** e, 12) for e in range(-6, 2) for m in (1, 1.5, 2, 3, 5, 7)
                     if LR_MIN <= m * 10.0 ** e <= LR_MAX})
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
    """:func:`optlab.chapters.adaptive.phase_sweep` on the quadratic of condition κ, cached (plan
    ``n_lr``, ``n_beta`` and ``steps`` within the budget with :func:`model.phase_grid` first)."""
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
    return surfaces.from_data(x, y, "mse", label=_("synthetic line y = 2x + 1 + noise ({n} points)").format(n=n))


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
    lines = ["| " + " | ".join((_("torch keyword"), _("symbol"), _("torch default"), _("what it means"))) + " |",
             "| --- | --- | --- | --- |"]
    for h in info.hyper:
        if h.name == "maximize":
            continue
        sym = f"${h.symbol}$" if h.symbol else ""
        d = h.default
        ds = "(" + ", ".join(f"{x:g}" for x in d) + ")" if isinstance(d, tuple) else (str(d) if isinstance(d, bool) or d is None else f"{d:g}")
        lines.append(f"| `{h.name}` | {sym} | `{ds}` | {_(h.meaning)} |")
    return "\n".join(lines)


def state_markdown(name: str) -> str:
    """What the optimizer keeps in memory between steps (torch's state names), as Markdown."""
    info = optimizers.info(name)
    if not info.state:
        return _("Nothing: each step uses only the current gradient.")
    out = []
    for key, text in info.state.items():
        sym, _sep, meaning = _(text).partition(":")  # the engine's text is in the shared catalog
        out.append(f"- `state['{key}']` — ${sym.strip()}$: {meaning.strip()}")
    return "\n".join(out)


def memory_rows(names) -> list[dict[str, str]]:
    """One row per optimizer: what it keeps between steps, and its one-line summary."""
    rows = []
    for n in names:
        info = optimizers.info(n)
        kept = ", ".join(k for k in info.state) or _("(nothing)")
        rows.append({_("optimizer"): info.title, _("keeps between steps (torch's state)"): kept,
                     _("in one line"): _(info.summary)})
    return rows


__all__ = ["LR_CHOICES", "KAPPAS", "PAGE_DEFAULTS", "phase_sweep", "variant_run", "l2_point",
           "regression_surface", "problem_surface", "range_test", "problem_run", "curvature_limit", "lr_select",
           "schedule_from_widgets", "default_schedule_spec", "schedule_curves", "hyper_markdown", "state_markdown",
           "memory_rows", "quadratic_spec", "nearest"]


# ----------------------------------------------------------------------------------------------
# Linkable state (optlab/ui/state.py): every widget of the page, section by section
# ----------------------------------------------------------------------------------------------
SECTIONS = [N_("Momentum"), N_("Update rules"), N_("State at a step"), N_("Adam family"), N_("Schedules"),
            N_("LR finder")]
FAMILY = [N_("Bias correction"), N_("AdamW vs L2"), N_("AMSGrad"), N_("NAdam"), N_("RAdam")]
ADAPTIVE = ["adagrad", "rmsprop", "adadelta", "adam", "adamw", "nadam", "radam"]
FIRST_ORDER = list(optimizers.FIRST_ORDER)
SHRINK = 1e6  # "converged": the loss shrunk by this factor (the momentum section's target)
CUSTOM = "custom"
ST_SURFACES = list(_surfaces.names()) + [CUSTOM]
LR_CODES = {"sgd": "lsg", "adagrad": "lag", "rmsprop": "lrm", "adadelta": "lad", "adam": "lam", "adamw": "law",
            "nadam": "lna", "radam": "lra"}
SCHEDULES = ["step", "exponential", "cosine", "warmup_cosine"]
FINDER_PROBLEMS = [N_("Quadratic bowl"), N_("Linear regression (mini-batches)")]
FINDER_LO = [c for c in LR_CHOICES if c < 1e-2]
FINDER_HI = [c for c in LR_CHOICES if c >= 1e-2]

SECTION = state.Section(SECTIONS, "ad_section", codes=["momentum", "rules", "state", "family", "schedules", "finder"])
_M, _R, _S, _F, _C, _L = SECTIONS

MO_KAPPA = state.Choice("k", "ad_mo_kappa", KAPPAS, 25, label=N_("condition number κ (steepest / flattest curvature)"),
                        section=_M)
MO_LR = state.Choice("lr", "ad_mo_lr", LR_CHOICES, 0.03, label=N_("learning rate γ"), section=_M)
MO_BETA = state.Float("b", "ad_mo_beta", 0.0, 0.99, 0.9, step=0.01, label=N_("momentum β"), section=_M)
MO_STEPS = state.Int("n", "ad_mo_steps", 20, 500, 200, step=10, label=N_("steps"), section=_M)
MO_PHASE = state.Choice("ph", "ad_mo_phase", [N_("heavy ball"), N_("Nesterov")], "heavy ball",
                        codes=["hb", "nesterov"], label=N_("phase diagram for"), section=_M)

RU_OPT = state.Choice("o", "ad_rule_opt", ADAPTIVE + ["sgd"], "adam", label=N_("optimizer"), section=_R)

ST_SURFACE = state.Choice("s", "ad_st_surface", ST_SURFACES, "quadratic", label=N_("Surface"), section=_S)
ST_KAPPA = state.Choice("sk", "ad_st_kappa", KAPPAS, 10, label=N_("condition number κ"), section=_S)
ST_FORMULA = state.Text("f", "ad_st_formula", FORMULA_EXAMPLE, max_chars=300, label="f(x, y) =", section=_S)
ST_OPTS = state.Multi("os", "ad_st_opts", FIRST_ORDER, ("sgd", "rmsprop", "adam"), max_items=4,
                      label=N_("optimizers"), section=_S)
ST_T = state.Int("T", "ad_st_T", 5, 500, 100, step=5, label=N_("steps to run"), section=_S)
ST_STEP = state.Int("t", "ad_st_t", 1, 500, 10, label=N_("show step t"), section=_S)
ST_ZOOM = state.Flag("z", "ad_st_zoom", True, label=N_("zoom on step t"), section=_S)
ST_LR = {n: state.Float(LR_CODES[n], f"ad_st_{n}_lr", LR_MIN, LR_MAX, float(PAGE_DEFAULTS[n]["lr"]),
                        label=N_("learning rate γ"), section=_S) for n in FIRST_ORDER}
ST_MOM = state.Float("msg", "ad_st_sgd_momentum", 0.0, 0.99, 0.9, step=0.01, label=N_("momentum β"), section=_S)

FAM = state.Choice("d", "ad_fam", FAMILY, "Bias correction", codes=["bias", "decay", "amsgrad", "nadam", "radam"],
                   label=N_("difference"), section=_F)
BC_KAPPA = state.Choice("bk", "ad_bc_kappa", KAPPAS, 10, label=N_("condition number κ"), section=_F)
BC_LR = state.Choice("bl", "ad_bc_lr", LR_CHOICES, 0.05, label=N_("learning rate γ"), section=_F)
BC_B1 = state.Choice("b1", "ad_bc_b1", BETA_CHOICES[:6], 0.9, label="β₁", section=_F)
BC_B2 = state.Choice("b2", "ad_bc_b2", BETA_CHOICES[3:], 0.999, label="β₂", section=_F)
BC_STEPS = state.Int("bn", "ad_bc_steps", 10, 500, 100, step=10, label=N_("steps"), section=_F)
WD_SURFACE = state.Choice("ws", "ad_wd_surface", ["rosenbrock", "booth", "himmelblau"], "rosenbrock",
                          label=N_("Surface"), section=_F)
WD_LAM = state.Float("wl", "ad_wd_lam", 0.0, 0.5, 0.1, step=0.01, label=N_("weight decay λ"), section=_F)
WD_LR = state.Choice("wr", "ad_wd_lr", LR_CHOICES, 0.05, label=N_("learning rate γ"), section=_F)
WD_STEPS = state.Int("wn", "ad_wd_steps", 10, 1000, 600, step=10, label=N_("steps"), section=_F)
AM_SURFACE = state.Choice("as", "ad_am_surface", ["rosenbrock", "cliff", "quadratic"], "rosenbrock",
                          label=N_("Surface"), section=_F)
AM_LR = state.Choice("ar", "ad_am_lr", LR_CHOICES, 0.05, label=N_("learning rate γ"), section=_F)
AM_B2 = state.Choice("a2", "ad_am_b2", BETA_CHOICES[3:], 0.99, label="β₂", section=_F)
AM_STEPS = state.Int("an", "ad_am_steps", 10, 1000, 400, step=10, label=N_("steps"), section=_F)
NA_KAPPA = state.Choice("nk", "ad_na_kappa", KAPPAS, 50, label=N_("condition number κ"), section=_F)
NA_LR = state.Choice("nr", "ad_na_lr", LR_CHOICES, 0.05, label=N_("learning rate γ"), section=_F)
NA_PSI = state.Choice("np", "ad_na_psi", [0.0, 0.001, 0.002, 0.004, 0.01, 0.02, 0.05, 0.1], 0.004,
                      label="momentum_decay ψ", section=_F)
NA_STEPS = state.Int("nn", "ad_na_steps", 10, 500, 200, step=10, label=N_("steps"), section=_F)
RA_SURFACE = state.Choice("rs", "ad_ra_surface", ["quadratic", "rosenbrock", "booth"], "quadratic",
                          label=N_("Surface"), section=_F)
RA_LR = state.Choice("rr", "ad_ra_lr", LR_CHOICES, 0.05, label=N_("learning rate γ"), section=_F)
RA_B2 = state.Choice("r2", "ad_ra_b2", BETA_CHOICES[3:], 0.999, label="β₂", section=_F)
RA_STEPS = state.Int("rn", "ad_ra_steps", 10, 500, 60, step=10, label=N_("steps"), section=_F)

SC_NAME = state.Choice("sn", "ad_sc_name", SCHEDULES, "step", label=N_("schedule"), section=_C)
SC_OPT = state.Choice("so", "ad_sc_opt", ["sgd", "adam"], "sgd", label=N_("optimizer"), section=_C)
SC_LR = state.Choice("sl", "ad_sc_lr", LR_CHOICES, 0.03, label=N_("base learning rate γ₀"), section=_C)
SC_KAPPA = state.Choice("sc", "ad_sc_kappa", KAPPAS, 25, label=N_("condition number κ"), section=_C)
SC_STEPS = state.Int("st", "ad_sc_steps", 10, 500, 120, step=10, label=N_("steps"), section=_C)
SC_STEP_SIZE = state.Int("sz", "ad_sc_step_size", 1, 500, 30, label=N_("step_size (steps between drops)"), section=_C)
SC_GAMMA = state.Float("sg", "ad_sc_gamma", 0.05, 0.95, 0.3, step=0.05, label=N_("gamma (factor at each drop)"),
                       section=_C)
SC_EGAMMA = state.Float("se", "ad_sc_egamma", 0.9, 0.999, 0.98, step=0.001, label=N_("gamma (factor per step)"),
                        section=_C)
SC_ETA_MIN = state.Float("sm", "ad_sc_eta_min", 0.0, 1.0, 0.0, step=0.001, label=N_("eta_min (final lr)"), section=_C)
SC_WARMUP = state.Int("sw", "ad_sc_warmup", 1, 499, 12, label=N_("warm-up steps"), section=_C)
SC_START = state.Float("sf", "ad_sc_start_factor", 0.01, 1.0, 0.1, step=0.01,
                       label=N_("start_factor (first lr / lr)"), section=_C)

LF_PROBLEM = state.Choice("fp", "ad_lf_problem", FINDER_PROBLEMS, "Linear regression (mini-batches)",
                          codes=["bowl", "regression"], label=N_("problem"), section=_L)
LF_KAPPA = state.Choice("fk", "ad_lf_kappa", KAPPAS, 10, label=N_("condition number κ"), section=_L)
LF_BATCH = state.Choice("fb", "ad_lf_bs", [1, 4, 16, 64, 200], 16, label=N_("mini-batch size"), section=_L)
LF_OPT = state.Choice("fo", "ad_lf_opt", FIRST_ORDER, "sgd", label=N_("optimizer"), section=_L)
LF_MOM = state.Float("fm", "ad_lf_mom", 0.0, 0.95, 0.0, step=0.05, label=N_("momentum β"), section=_L)
LF_LO = state.Choice("fl", "ad_lf_lrmin", FINDER_LO, 1e-4, label=N_("start lr"), section=_L)
LF_HI = state.Choice("fh", "ad_lf_lrmax", FINDER_HI, 5.0, label=N_("end lr"), section=_L)
LF_STEPS = state.Int("fn", "ad_lf_steps", 30, 300, 100, step=10, label=N_("steps (one run)"), section=_L)
LF_SMOOTH = state.Float("fs", "ad_lf_smooth", 0.0, 0.98, 0.9, step=0.02, label=N_("smoothing β (fastai: 0.98)"),
                        section=_L)

PAGE = state.Page("Adaptive_methods", [
    SECTION, MO_KAPPA, MO_LR, MO_BETA, MO_STEPS, MO_PHASE, RU_OPT,
    ST_SURFACE, ST_KAPPA, ST_FORMULA, ST_OPTS, ST_T, ST_STEP, ST_ZOOM, *ST_LR.values(), ST_MOM,
    FAM, BC_KAPPA, BC_LR, BC_B1, BC_B2, BC_STEPS, WD_SURFACE, WD_LAM, WD_LR, WD_STEPS,
    AM_SURFACE, AM_LR, AM_B2, AM_STEPS, NA_KAPPA, NA_LR, NA_PSI, NA_STEPS, RA_SURFACE, RA_LR, RA_B2, RA_STEPS,
    SC_NAME, SC_OPT, SC_LR, SC_KAPPA, SC_STEPS, SC_STEP_SIZE, SC_GAMMA, SC_EGAMMA, SC_ETA_MIN, SC_WARMUP, SC_START,
    LF_PROBLEM, LF_KAPPA, LF_BATCH, LF_OPT, LF_MOM, LF_LO, LF_HI, LF_STEPS, LF_SMOOTH,
], title=N_("Adaptive methods"), domain="adaptive")


# ----------------------------------------------------------------------------------------------
# The runs the page draws and the questions judge (one function each, budgeted)
# ----------------------------------------------------------------------------------------------
def momentum_runs(kappa: float, lr: float, beta: float, steps: int) -> tuple:
    """``(surface, gd, heavy_ball, nesterov)`` of the momentum section (the last two None when
    β = 0), from the cached runner: the page draws these and the questions judge these.  Within
    the section's budget (half of a catalogue rerun for the three runs: never cut within the
    slider's 500 steps, see :func:`momentum_plan`)."""
    spec = quadratic_spec(kappa)
    surface = get_surface(spec)
    x0 = tuple(float(v) for v in surface.starts[0])
    steps = momentum_plan(steps)[0]
    gd = cached_run(spec, "sgd", hyper_items({"lr": lr}), x0, int(steps))
    hb = nv = None
    if beta > 0:
        hb = cached_run(spec, "sgd", hyper_items({"lr": lr, "momentum": beta}), x0, int(steps))
        nv = cached_run(spec, "sgd", hyper_items({"lr": lr, "momentum": beta, "nesterov": True}), x0, int(steps))
    return surface, gd, hb, nv


def momentum_plan(steps: int):
    """``(steps', cut)`` of the momentum section's three runs (half of a catalogue rerun)."""
    return model.plan_runs(model.CATALOGUE_RERUN.scaled(0.5), int(steps), 3, label=N_("the three runs"))


def phase_plan(steps: int):
    """``(n_lr, n_beta, steps', cuts)`` of the phase diagram (the other half of the rerun)."""
    return model.phase_grid(model.CATALOGUE_RERUN.scaled(0.5), int(steps), label=N_("the phase diagram"))


def steps_to_shrink(surface, tr) -> float:
    """Steps until the loss shrank :data:`SHRINK` times (inf: diverged or not within the run)."""
    if tr is None or int(tr.diverged_at) >= 0:
        return math.inf
    k = steps_to_tolerance(surface, tr, float(tr.losses[0]) / SHRINK)
    return math.inf if k < 0 else float(k)


def state_runs(spec: tuple, names, lrs: dict, momentum: float, T: int, is_formula: bool):
    """The State-at-a-step section's runs: ``(runs, accumulators, steps', cut)`` — one full-record
    run per chosen optimizer at its learning rate (SGD with ``momentum``), plus AdaGrad and RMSProp
    at the page's rates when they are not chosen (the accumulator panel), all within one rerun's
    budget (:func:`optlab.chapters.adaptive.rerun_budget`)."""
    surface = get_surface(tuple(spec))
    x0 = tuple(float(v) for v in surface.starts[0]) if surface.starts else (0.5, 0.5)
    extra = [n for n in ("adagrad", "rmsprop") if n not in names]
    T2, cut = model.plan_runs(model.rerun_budget(is_formula), int(T), len(names) + len(extra),
                              label=ngettext("{n} run", "{n} runs", len(names) + len(extra)).format(
                                  n=len(names) + len(extra)))
    runs = {}
    for n in names:
        h = {"lr": float(lrs[n])}
        if n == "sgd":
            h["momentum"] = float(momentum)
        runs[n] = cached_run(tuple(spec), n, hyper_items(h), x0, T2, record="full")
    acc = {}
    for n in ("adagrad", "rmsprop"):
        acc[n] = runs[n] if n in runs else cached_run(tuple(spec), n, hyper_items({"lr": PAGE_DEFAULTS[n]["lr"]}),
                                                      x0, T2, record="full")
    return runs, acc, T2, cut


def pair_runs(spec: tuple, a: tuple, b: tuple, steps: int, *, record: str = "full"):
    """Two runs of the Adam-family sections, ``a``/``b`` = ``(optimizer or variant, hyper)``;
    ``(run_a, run_b, steps', cut)`` within one catalogue rerun."""
    surface = get_surface(tuple(spec))
    x0 = tuple(float(v) for v in surface.starts[0])
    T, cut = model.plan_runs(model.CATALOGUE_RERUN, int(steps), 2, label=N_("the two runs"))
    out = []
    for name, h in (a, b):
        if name in variants.variant_names():
            out.append(variant_run(tuple(spec), name, hyper_items(h), x0, T, record=record))
        else:
            out.append(cached_run(tuple(spec), name, hyper_items(h), x0, T, record=record))
    return out[0], out[1], T, cut


def bias_runs(v) -> tuple:
    h = {"lr": float(v["bl"]), "betas": (float(v["b1"]), float(v["b2"]))}
    return pair_runs(quadratic_spec(v["bk"]), ("adam", h), ("adam_no_bias_correction", h), int(v["bn"]))


def accumulator_verdicts(spec: tuple, ada, rms) -> tuple[str, str]:
    """:func:`optlab.chapters.adaptive.still_moving` of the AdaGrad and RMSProp runs."""
    from ..figures.core import window_of

    win = window_of(get_surface(tuple(spec)))
    lengths = [[float(x) for x in (((u[0] ** 2 + u[1] ** 2) ** 0.5) for u in tr.updates)] for tr in (ada, rms)]
    return tuple(model.still_moving(lengths[i], win, diverged=int(tr.diverged_at) >= 0)
                 for i, tr in enumerate((ada, rms)))


def range_test_run(v):
    """The LR finder's range test at URL values ``v`` (``fp fk fb fo fm fl fh fn fs``)."""
    if v["fp"] == "Quadratic bowl":
        problem, batch = ("quadratic", float(v["fk"])), None
    else:
        problem, batch = ("regression", 200), (None if int(v["fb"]) >= 200 else int(v["fb"]))
    opt = v["fo"]
    items = hyper_items({"momentum": float(v["fm"])} if opt == "sgd" and float(v["fm"]) > 0 else {})
    return problem, batch, items, range_test(problem, opt, items, float(v["fl"]), float(v["fh"]), int(v["fn"]),
                                             float(v["fs"]), batch)


def _full(v) -> dict:
    """URL values of a question's state, completed with the page defaults (what its link opens)."""
    return {**PAGE.defaults(), **v}


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


def _state_values(v) -> tuple:
    v = _full(v)
    spec = quadratic_spec(v["sk"]) if v["s"] == "quadratic" else (v["s"], ())
    names = list(v["os"])
    lrs = {n: float(v[LR_CODES[n]]) for n in FIRST_ORDER}
    return spec, names, lrs, float(v["msg"]), int(v["T"])


def _adam_first_step(v) -> int | None:
    """0: Adam's first step is γ along each coordinate (sign of g); 1: it is γ·g like SGD's."""
    spec, names, lrs, mom, T = _state_values(v)
    if "adam" not in names:
        return None
    tr = state_runs(spec, names, lrs, mom, T, False)[0]["adam"]
    u, g, lr = tr.updates[0], tr.grads[0], lrs["adam"]
    if all(abs(abs(float(u[i])) - lr) <= 1e-3 * lr for i in range(2)):
        return 0
    if all(abs(abs(float(u[i])) - lr * abs(float(g[i]))) <= 1e-3 * lr * abs(float(g[i])) for i in range(2)):
        return 1
    return None


def _who_moves(v) -> int:
    spec, names, lrs, mom, T = _state_values(v)
    _r, acc, _T, _c = state_runs(spec, names, lrs, mom, T, False)
    return model.who_moves(*accumulator_verdicts(spec, acc["adagrad"], acc["rmsprop"]))


def _bias_larger(v) -> int | None:
    a, raw = bias_runs(_full(v))[:2]
    verdict = model.ratio_verdict(float(raw.updates[0][0] ** 2 + raw.updates[0][1] ** 2) ** 0.5,
                                  float(a.updates[0][0] ** 2 + a.updates[0][1] ** 2) ** 0.5)
    return {"larger": 0, "smaller": 1, "same": 2}.get(verdict)


def _finder_stop(v) -> int:
    rt = range_test_run(_full(v))[3]
    s = rt.stop_lr
    return 3 if not s else 0 if s < 1 else 1 if s < 2 else 2


Q_MOMENTUM = lessons.Question(
    "mom_helps", N_("Momentum on a narrow valley"),
    N_("κ = 50, γ = 0.02. Plain gradient descent needs many steps along the flat direction. With momentum "
       "β = 0.9 the path overshoots and spirals. Does momentum still shrink the loss 10⁶× in **fewer** steps "
       "than plain GD?"),
    state={"sec": "Momentum", "k": 50, "lr": 0.02, "b": 0.9, "n": 300},
    choices=(N_("Yes: momentum gets there in fewer steps"),
             N_("No: the overshoot costs more steps (or it never gets there)")),
    outcome=_momentum_beats_gd,
    explanation=N_("Compare the caption's step counts. β = 0.9 is above the critically damped β\\* (the page "
                   "prints it), so the path spirals, yet the error along the flat direction shrinks by √β ≈ 0.95 "
                   "per step instead of GD's 1 − γ·λ_min = 0.98. In the phase diagram your choice is the black "
                   "circle; the white curve is β\\*."))

Q_GD_STEPS = lessons.Question(
    "gd_steps", N_("Plain gradient descent in a narrow valley"),
    N_("κ = 50 (the bowl is 50 times steeper across than along), γ = 0.02, no momentum. How many steps does "
       "gradient descent need to shrink the loss 10⁶×?"),
    state={"sec": "Momentum", "k": 50, "lr": 0.02, "b": 0.0, "n": 300},
    choices=(N_("Fewer than 100"), N_("100 to 199"), N_("200 to 300"), N_("It does not get there within 300 steps")),
    outcome=_gd_bucket,
    explanation=N_("Along the flat direction (λ = 1) each step keeps 1 − γ·λ = 0.98 of the error, so the loss "
                   "(its square) shrinks by 0.98² per step. Most of the starting loss lies in the steep direction "
                   "(λ = 50), which empties within a few steps, so the flat part only has to shrink about "
                   "53,000×: ln(53,000)/(−2 ln 0.98) ≈ 270 steps. γ is limited by the steep direction; the flat "
                   "one is slow."))

Q_MORE_MEMORY = lessons.Question(
    "more_memory", N_("More memory: β = 0.99"),
    N_("Same valley (κ = 50, γ = 0.02), momentum β = 0.99 instead of 0.9. Faster or slower than β = 0.9?"),
    state={"sec": "Momentum", "k": 50, "lr": 0.02, "b": 0.99, "n": 300},
    choices=(N_("Faster: more memory, more speed"), N_("Slower: it spirals for a long time")),
    outcome=_more_memory,
    explanation=N_("Above the critically damped β\\* the error shrinks only by √β per step: √0.99 ≈ 0.995, "
                   "slower than √0.9 ≈ 0.95. Too much memory makes the ball roll back and forth along the "
                   "valley. The fastest β for this γ is β\\* itself."))

Q_GD_TOO_FAST = lessons.Question(
    "gd_too_fast", N_("A learning rate too large for gradient descent"),
    N_("κ = 50, γ = 0.05, no momentum: γ·λ_max = 2.5. What does gradient descent do?"),
    state={"sec": "Momentum", "k": 50, "lr": 0.05, "b": 0.0, "n": 300},
    choices=(N_("Converges, more slowly than at γ = 0.02"), N_("Converges faster than at γ = 0.02"), N_("Diverges")),
    outcome=_gd_fate,
    explanation=N_("Along the steep direction each step multiplies the error by 1 − γ·λ_max = −1.5: it flips "
                   "sign and grows. Gradient descent is stable only for γ < 2/λ_max = 0.04."))

Q_MOMENTUM_RESCUES = lessons.Question(
    "mom_rescues", N_("Does momentum diverge too?"),
    N_("Same γ = 0.05 where plain GD diverged, now with momentum β = 0.9. Does heavy-ball momentum diverge too?"),
    state={"sec": "Momentum", "k": 50, "lr": 0.05, "b": 0.9, "n": 300},
    choices=(N_("Yes, it diverges too"), N_("No, it converges")),
    outcome=_diverges(2),
    explanation=N_("With momentum the stability limit moves from γ < 2/λ_max to γ < 2(1 + β)/λ_max = 0.076 "
                   "(the red dashes in the phase diagram): the buffer's inertia averages the flips out."))

Q_NESTEROV = lessons.Question(
    "nesterov_lr", N_("Nesterov's look-ahead"),
    N_("κ = 50, γ = 0.03, β = 0.9: heavy-ball momentum converges here. Nesterov evaluates the gradient ahead, "
       "at the point the momentum is carrying it to. Does Nesterov converge too?"),
    state={"sec": "Momentum", "k": 50, "lr": 0.03, "b": 0.9, "n": 300, "ph": "Nesterov"},
    choices=(N_("Yes, and it is safer than heavy ball"), N_("No, it diverges where heavy ball converges")),
    outcome=lambda v: 1 if int(_runs(v)[3].diverged_at) >= 0 else 0,
    explanation=N_("Nesterov's step is γ·(g + β·buf): in the steep direction it takes (1 + β) times the "
                   "gradient at once, so its stability limit is lower: γ·λ_max < 2(1 + β)/(1 + 2β) ≈ 1.36 here "
                   "(γ·λ_max = 1.5). Its phase diagram (switch to Nesterov) shows the dark-red region reaching "
                   "further left."))

Q_ADAM_FIRST = lessons.Question(
    "adam_first", N_("Adam's first step"),
    N_("Adam (γ = 0.1) and SGD with momentum on a quadratic bowl, step t = 1. How long is Adam's first step "
       "along each coordinate?"),
    state={"sec": "state", "s": "quadratic", "sk": 10, "os": "adam,sgd", "T": 50, "t": 1,
           "lam": 0.1, "lsg": 0.05, "msg": 0.9},
    choices=(N_("γ = 0.1 along each coordinate, however steep the bowl"),
             N_("γ times the gradient, like SGD's first step")),
    outcome=_adam_first_step,
    explanation=N_("At t = 1, m̂₁ = g₁ and v̂₁ = g₁², so the step is −γ·g₁/(|g₁| + ε) ≈ −γ·sign(g₁): **0.1 "
                   "along each coordinate** (length 0.1·√2 ≈ 0.141 diagonally), however steep the surface. "
                   "Compare the Δθ₁ row of the trace table with SGD's, which is γ times the gradient. Change κ "
                   "and look again."))

Q_ACCUMULATORS = lessons.Question(
    "acc_moving", N_("AdaGrad against RMSProp in a long valley"),
    N_("Rosenbrock's curved valley, AdaGrad and RMSProp both at γ = 0.05, 500 steps. Which one is still "
       "moving at the end?"),
    state={"sec": "state", "s": "rosenbrock", "os": "adagrad,rmsprop", "T": 500, "t": 500,
           "lag": 0.05, "lrm": 0.05},
    choices=(N_("Only AdaGrad"), N_("Only RMSProp"), N_("Both"), N_("Neither")),
    outcome=_who_moves,
    explanation=N_("AdaGrad's √S only grows: the steep start fills it, so its steps shrink for good and it "
                   "crawls. RMSProp's √v forgets (α = 0.99: a memory of ~100 steps), so in the flat valley its "
                   "steps grow back and it keeps moving. Compare the accumulators at step 500 and the mean step "
                   "length over the last 50 steps (under the chart)."))

Q_BIAS = lessons.Question(
    "bias_off", N_("Switching off bias correction"),
    N_("Without bias correction Adam's m and v both start at 0. Are its first steps larger or smaller than "
       "Adam's?"),
    state={"sec": "family", "d": "bias", "bk": 10, "bl": 0.05, "b1": 0.9, "b2": 0.999, "bn": 100},
    choices=(N_("Larger"), N_("Smaller"), N_("The same")),
    outcome=_bias_larger,
    explanation=N_("**Larger.** v starts at 0 as well, and with β₂ = 0.999 it is the more biased of the two: "
                   "the raw step is (1 − β₁ᵗ)/√(1 − β₂ᵗ) times Adam's, 3.16× at t = 1 and ~6.5× around t = 10 "
                   "(grey curve)."))

Q_FINDER = lessons.Question(
    "finder_stop", N_("Where does the range test blow up?"),
    N_("Plain gradient descent on ½(x² + y²) (κ = 1), learning rate growing from 10⁻⁴ to 5. Where does the "
       "test stop (loss above 4× its lowest)?"),
    state={"sec": "finder", "fp": "bowl", "fk": 1, "fo": "sgd", "fm": 0.0, "fs": 0.0,
           "fl": 1e-4, "fh": 5.0, "fn": 100},
    choices=(N_("Below γ = 1"), N_("Between γ = 1 and 2"), N_("Above γ = 2 = 2/λ_max"), N_("It never stops")),
    outcome=_finder_stop,
    explanation=N_("Each step multiplies the loss by (1 − γ)²: below γ = 2 = 2/λ_max it shrinks, above it grows. "
                   "The red dotted line is 2/λ_max; the test stops a few steps later, when the loss passes 4× "
                   "its lowest value. The suggestions (steepest point, min/10) lie well below it."))

LESSON_MOMENTUM = lessons.Lesson(
    "momentum", N_("From momentum to Adam"),
    steps=(
        lessons.Step(N_("Gradient descent is slow in a valley"),
                     N_("A bowl 50 times steeper across than along. Ask the class first, then commit one answer."),
                     ask=Q_GD_STEPS),
        lessons.Step(N_("Add momentum"), N_("Momentum keeps a running direction: β = 0.9 remembers ~10 steps."),
                     ask=Q_MOMENTUM),
        lessons.Step(N_("Too much memory"), N_("If 0.9 helps, does 0.99 help more?"), ask=Q_MORE_MEMORY),
        lessons.Step(N_("A larger step"), N_("Back to no momentum, with γ = 0.05."), ask=Q_GD_TOO_FAST),
        lessons.Step(N_("Momentum's larger stability region"), N_("Keep γ = 0.05 and add β = 0.9."),
                     ask=Q_MOMENTUM_RESCUES),
        lessons.Step(N_("Nesterov is not always safer"), N_("Switch the phase diagram to Nesterov after the verdict."),
                     ask=Q_NESTEROV),
        lessons.Step(N_("Adaptive steps: Adam's first step"),
                     N_("Adam divides by a running size of the gradient, per coordinate."), ask=Q_ADAM_FIRST),
        lessons.Step(N_("A sum or an average?"), N_("AdaGrad sums every g²; RMSProp keeps a decaying average."),
                     ask=Q_ACCUMULATORS),
        lessons.Step(N_("Why Adam corrects its bias"), N_("Adam without the (1 − βᵗ) corrections."), ask=Q_BIAS),
        lessons.Step(N_("Choosing γ: the range test"), N_("Let the learning rate grow until the loss explodes."),
                     ask=Q_FINDER),
    ),
    summary=N_("Ten predictions: why GD is slow in a valley, how momentum helps and when too much memory hurts, "
               "the stability limits of GD, heavy ball and Nesterov, then Adam's first step, AdaGrad's sum "
               "against RMSProp's average, bias correction and the learning-rate range test."),
    minutes=30)

CHAPTER = lessons.Chapter(PAGE, N_("Adaptive methods"),
                          questions=(Q_MOMENTUM, Q_ADAM_FIRST, Q_ACCUMULATORS, Q_BIAS, Q_FINDER),
                          lessons=(LESSON_MOMENTUM,))

__all__ += ["SECTIONS", "SECTION", "PAGE", "MO_KAPPA", "MO_LR", "MO_BETA", "MO_STEPS", "MO_PHASE", "SHRINK",
            "momentum_runs", "steps_to_shrink", "Q_MOMENTUM", "Q_GD_STEPS", "Q_MORE_MEMORY", "Q_GD_TOO_FAST",
            "Q_MOMENTUM_RESCUES", "Q_NESTEROV", "Q_ADAM_FIRST", "Q_ACCUMULATORS", "Q_BIAS", "Q_FINDER",
            "LESSON_MOMENTUM", "CHAPTER", "state_runs", "pair_runs", "bias_runs", "range_test_run",
            "accumulator_verdicts", "momentum_plan", "phase_plan"]


def keep_values() -> None:
    """Keep every declared value across sections: Streamlit forgets the value of a widget that a
    run does not draw (another section, a section cut short by a formula typo), so each run hands
    them back to session state as plain values; the widgets pick them up when they are drawn
    again.  Without it a section switch or a formula typo reset the other widgets to defaults."""
    ss = st.session_state
    for p in PAGE.params:
        if p.key in ss:
            ss[p.key] = ss[p.key]
