r"""The chapter page "Newton's method" (pages/3_Newton_method.py): its linkable state, cached runs,
widgets, the sentences its captions choose from the numbers, its questions and its lesson.

Every claim a caption makes is chosen by a verdict of :mod:`optlab.chapters.newton` on the current
numbers (``read_step_1d``, ``read_rate``, ``read_step_2d``, ``ending``, ``fewest``,
``cost_verdict``, ``read_bfgs``), with an honest sentence for every other case.  Every run is
computed once per setting (cached, keyed by the language where it holds text) and bounded by a work
budget.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import streamlit as st

from .. import format as fmt
from .. import surfaces
from ..budget import RERUN, Budget
from ..chapters import newton as model
from ..errors import FormulaError, OptlabError
from ..i18n import domain, sentence_gap
from ..specs import hyper_items, surface_spec
from . import lessons, state
from .i18n import cache_data as text_cache_data
from .widgets import CUSTOM, FORMULA_EXAMPLE, SURFACE_PARAM_CONTROLS, get_surface, short_title

_, N_, ngettext = domain("newton")

TOL = 1e-8            # "converged": ‖∇f‖ ≤ TOL (2-D runs and the comparison)
TOL_TEXT = "10⁻⁸"     # TOL as a reader sees it
TOL_1D = 1e-13        # 1-D runs: close enough to machine precision to show the digits
TOL_1D_TEXT = "10⁻¹³"
STEPS_1D = 12         # iterations of a 1-D run
RACE_STEPS = 200      # most Newton / BFGS iterations in the comparison
GD_STEPS = 20_000     # most gradient-descent steps tried per learning rate
BFGS_STEPS = 200
DELTAS = [0.01, 0.1, 0.5, 1.0, 2.0, 5.0]
DIMS = [2, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000]
FLOPS_PER_SECOND = 1e12
START_RANGE = 100.0   # a start (x₀, y₀) is inside ±START_RANGE
LM_RACE = {"damping": 0.0, "min_curvature": 1.0, "line_search": True}  # the comparison's LM

# Work budgets (optlab.budget, in evaluation units calibrated on the dearest surface, a typed formula
# near the size limits): one rerun computes at most RERUN of them.  A section's main run gets a
# quarter; the comparison's Newton and BFGS runs an eighth each, and gradient descent's learning-rate
# search what is left of three quarters of the rerun (RACE_TOTAL: the page's figures, the formula's
# compiled code and a teacher's answers need the rest; measured worst rerun, a typed formula with no
# minimum, in bench/bench_worst_case.py).  The built-in surfaces cost at most half as much per unit as
# that formula (bench/bench_worst_case.py: Goldstein–Price, the dearest, 0.25 µs per unit against
# 0.51 µs), so their budgets are twice as large.  Every budget depends on the settings only: the
# same link is cut at the same step on every server, and results stay cacheable.
SECTION_SHARE = 0.25
RACE_SHARE = 0.125
RACE_TOTAL = 0.75
BUILTIN_FACTOR = 2.0


def budget_for(spec: tuple, share: float, spent: float = 0.0) -> Budget:
    """The work budget of one computation on the surface ``spec``: ``share`` of a rerun (minus what
    the rerun already ``spent``), twice as large on a built-in surface."""
    factor = 1.0 if spec[0] == "formula" else BUILTIN_FACTOR
    return Budget(max(0.0, RERUN * share - spent) * factor)

# ----------------------------------------------------------------------------------------------
# The page's state (in the URL): sections and widgets
# ----------------------------------------------------------------------------------------------
SECTIONS = [N_("One dimension"), N_("Two dimensions"), N_("What it costs"), N_("BFGS")]
S1D, S2D, SCOST, SBFGS = SECTIONS
SECTION = state.Section(SECTIONS, "nw_section", codes=["1d", "2d", "cost", "bfgs"])

VARIANTS = list(model.VARIANTS)
FUNCTIONS = model.names_1d()

FUN1 = state.Choice("fn", "nw1_fun", FUNCTIONS, "quartic", label=N_("Function"), section=S1D)
X1 = state.Float("x", "nw1_x0", -6.0, 6.0, 1.8, step=0.01, label=N_("start x₀"), section=S1D)
M1 = state.Choice("m", "nw1_variant", VARIANTS, "pure", label=N_("Method"), section=S1D)
MU1 = state.Float("mu", "nw1_mu", 0.0, 10.0, 0.0, step=0.1, label=N_("damping μ (added to the curvature)"),
                  section=S1D)
DON1 = state.Flag("dl", "nw1_delta_on", True, label=N_("raise μ where f″ is below δ"), section=S1D)
D1 = state.Choice("d", "nw1_delta", DELTAS, 1.0, label=N_("minimum curvature δ"), section=S1D)
LS1 = state.Flag("ls", "nw1_ls", True, label=N_("with Armijo backtracking"), section=S1D)
K1 = state.Int("k", "nw1_k", 0, STEPS_1D, 0, label=N_("iteration k"), section=S1D)

SURFACE_NAMES = list(surfaces.names()) + [CUSTOM]
SURF = state.Choice("s", "nw2_surface", SURFACE_NAMES, "himmelblau", label=N_("Surface"))
FORMULA = state.Text("f", "nw2_formula", FORMULA_EXAMPLE, max_chars=300, label="f(x, y)")
_PARAM_URL = {("quadratic", "condition"): "qk", ("quadratic", "angle"): "qt", ("rosenbrock", "a"): "ra",
              ("rosenbrock", "b"): "rb", ("rastrigin", "A"): "rs", ("cliff", "h"): "ch", ("cliff", "s"): "cs"}


def _surface_param(sname: str, pname: str) -> state.Param:
    kind, opts, label, _help = SURFACE_PARAM_CONTROLS[(sname, pname)]
    default = float(surfaces.get(sname).params[pname])
    key = f"nw2_p_{sname}_{pname}"
    if kind == "select":
        options = sorted({float(o) for o in opts} | {default})
        return state.Choice(_PARAM_URL[(sname, pname)], key, options, default, label=label)
    lo, hi, step = opts
    return state.Float(_PARAM_URL[(sname, pname)], key, lo, hi, default, step=step, label=label)


SURFACE_PARAMS = {k: _surface_param(*k) for k in _PARAM_URL}
X0 = state.Float("x0", "nw2_x0", -START_RANGE, START_RANGE, 0.0, label=N_("start x₀"))
Y0 = state.Float("y0", "nw2_y0", -START_RANGE, START_RANGE, 0.0, label=N_("start y₀"))

M2 = state.Choice("m2", "nw2_variant", VARIANTS, "damped", label=N_("Method"), section=S2D)
MU2 = state.Float("mu2", "nw2_mu", 0.0, 10.0, 0.0, step=0.1, label=N_("damping μ (added to every eigenvalue)"),
                  section=S2D)
DON2 = state.Flag("dl2", "nw2_delta_on", True, label=N_("raise μ where the Hessian is indefinite"), section=S2D)
D2 = state.Choice("d2", "nw2_delta", DELTAS, 1.0, label=N_("minimum curvature δ"), section=S2D)
LS2 = state.Flag("ls2", "nw2_ls", True, label=N_("with Armijo backtracking"), section=S2D)
N2 = state.Int("n", "nw2_steps", 5, 200, 50, step=5, label=N_("most iterations"), section=S2D)
K2 = state.Int("it", "nw2_k", 0, 200, 0, label=N_("iteration k"), section=S2D)

ND = state.Choice("nd", "nw3_n", DIMS, 1_000_000, label=N_("number of parameters n"), section=SCOST)
KB = state.Int("kb", "nw3_k", 0, BFGS_STEPS, 0, label=N_("BFGS iteration k"), section=SBFGS)

PAGE = state.Page("Newton_method", [SECTION, FUN1, X1, M1, MU1, DON1, D1, LS1, K1, SURF, FORMULA,
                                    *SURFACE_PARAMS.values(), X0, Y0, M2, MU2, DON2, D2, LS2, N2, K2, ND, KB],
                  title=N_("Newton's method"), domain="newton")


def keep_values() -> None:
    """Keep every widget value of the page while its section is not shown.

    Streamlit forgets the value of a widget that a run does not draw, so a section switch would
    put the other sections' widgets back to their defaults.  Writing each value back into session
    state (before any widget exists) makes it the session's own value: it survives until its widget
    is drawn again.  Call once per run, after ``lessons.open`` (which writes a link's values)."""
    ss = st.session_state
    for p in PAGE.params:
        if p.key in ss and not p.is_section:
            ss[p.key] = ss[p.key]


# ----------------------------------------------------------------------------------------------
# Values → settings (the page and the questions' outcomes use the same functions)
# ----------------------------------------------------------------------------------------------
def hyper_of(variant: str, mu: float, delta_on: bool, delta: float, ls: bool) -> dict[str, Any]:
    """The engine's Newton hyperparameters of a Method selection (μ, δ and line search for LM)."""
    if variant != "lm":
        return model.newton_variant(variant)
    return model.newton_variant("lm", damping=float(mu), min_curvature=float(delta) if delta_on else None,
                                line_search=bool(ls))


def hyper_1d(v: Mapping[str, Any]) -> dict[str, Any]:
    return hyper_of(v["m"], v["mu"], v["dl"], v["d"], v["ls"])


def hyper_2d(v: Mapping[str, Any]) -> dict[str, Any]:
    return hyper_of(v["m2"], v["mu2"], v["dl2"], v["d2"], v["ls2"])


def x0_1d(name: str, x0: float) -> float:
    """The start inside the function's window (a link may ask for one outside it)."""
    lo, hi = model.get_1d(name).window
    return float(min(max(float(x0), lo), hi))


def surface_of(v: Mapping[str, Any]):
    """The surface of the page's values (raises FormulaError for a bad formula)."""
    name = v["s"]
    if name == CUSTOM:
        return get_surface(("formula", str(v["f"]), None))
    params = tuple(sorted((p, float(v[SURFACE_PARAMS[(name, p)].url])) for (s, p) in SURFACE_PARAMS if s == name))
    return get_surface((name, params))


def start_of(v: Mapping[str, Any]) -> tuple[float, float]:
    return float(v["x0"]), float(v["y0"])


def variant_label(variant: str, hyper: Mapping[str, Any]) -> str:
    """A short label for legends and warnings, e.g. "Newton (LM, μ = 0, δ = 1)" (no learning rate:
    Newton has none)."""
    if variant == "pure":
        return _("Newton (pure)")
    if variant == "damped":
        return _("Newton (damped)")
    parts = [_("μ = {mu}").format(mu=f"{float(hyper.get('damping', 0)):g}")]
    if hyper.get("min_curvature") is not None:
        parts.append(_("δ = {delta}").format(delta=f"{float(hyper['min_curvature']):g}"))
    if not hyper.get("line_search"):
        parts.append(_("no line search"))
    return _("Newton (LM, {settings})").format(settings=_(", ").join(parts))


# ----------------------------------------------------------------------------------------------
# Cached computations
# ----------------------------------------------------------------------------------------------
@text_cache_data(max_entries=64, show_spinner=False)  # holds the engine's text: keyed by language
def run_1d(name: str, x0: float, items: tuple, steps: int = STEPS_1D) -> model.Newton1D:
    """Newton's iterates on the 1-D function ``name`` (hyperparameters as ``hyper_items``): 12 steps
    of at most 33 evaluations each, well within a section's budget."""
    return model.newton_1d(name, float(x0), int(steps), tol=TOL_1D, budget=Budget(RERUN * SECTION_SHARE),
                           **dict(items))


@text_cache_data(max_entries=128, show_spinner=False)
def run_2d(spec: tuple, items: tuple, x0: tuple, steps: int, optimizer: str = "newton",
           share: float = SECTION_SHARE):
    """The engine's Newton (or BFGS) on a surface, record="full" (directions, Hessians or BFGS's
    estimate per step), stopped at ‖∇f‖ ≤ TOL, within ``share`` of a rerun's work budget."""
    return model.run_method(get_surface(spec), optimizer, dict(items), tuple(float(v) for v in x0), int(steps), TOL,
                            budget=budget_for(spec, share))


def run_bfgs(spec: tuple, x0: tuple, steps: int = BFGS_STEPS, share: float = SECTION_SHARE):
    return run_2d(spec, hyper_items({}), x0, steps, "bfgs", share)


@st.cache_data(max_entries=32, show_spinner=False)
def gd_reference(spec: tuple, x0: tuple, spent: float = 0.0, steps: int = GD_STEPS,
                 tol: float = TOL) -> model.GDReference:
    """Gradient descent with the best of 61 learning rates (batched, stopped at the first
    convergence; cached), within what is left of the comparison's budget after ``spent``."""
    return model.best_gd(get_surface(spec), x0, int(steps), tol, budget=budget_for(spec, RACE_TOTAL, spent))


@st.cache_data(max_entries=32, show_spinner=False)
def bfgs_estimates(spec: tuple, x0: tuple, steps: int = BFGS_STEPS):
    """BFGS's estimates B_k, the true Hessians at x_k and the relative errors (cached)."""
    tr = run_bfgs(spec, x0, steps)
    last = max(model.last_iterate(tr), 1)
    return model.bfgs_estimates(get_surface(spec), tr.xs[:last], tr.states["inv_hessian"][:last])


@dataclass
class Entry:
    """One method of the comparison: ``key`` (pure, damped, lm, gd, bfgs), its optimizer name, how
    it ended, the most steps it was given, its trajectory (None for gradient descent's sweep)."""

    key: str
    optimizer: str
    ending: model.Ending
    budget: int
    trajectory: Any = None


def race(spec: tuple, x0: tuple) -> tuple[list[Entry], model.GDReference]:
    """The comparison of the cost section: pure, damped and LM (δ = 1) Newton, gradient descent
    with its best learning rate, BFGS — on one surface from one start."""
    surface = get_surface(spec)
    out = []
    spent = 0.0
    for key, hyper in (("pure", model.newton_variant("pure")), ("damped", model.newton_variant("damped")),
                       ("lm", model.newton_variant("lm", **LM_RACE))):
        tr = run_2d(spec, hyper_items(hyper), x0, RACE_STEPS, "newton", RACE_SHARE)
        out.append(Entry(key, "newton", model.ending(surface, tr), RACE_STEPS, tr))
        spent += _spent(tr, spec)
    tr = run_bfgs(spec, x0, RACE_STEPS, RACE_SHARE)
    spent += _spent(tr, spec)
    gd = gd_reference(spec, x0, float(spent))          # what is left of the rerun (same on every server)
    out.insert(3, Entry("gd", "sgd", model.ending_gd(surface, gd), gd.steps))
    out.append(Entry("bfgs", "bfgs", model.ending(surface, tr), RACE_STEPS, tr))
    return out, gd


def _spent(tr, spec) -> float:
    """The work a run cost, in a plain rerun's units (a built-in surface's budget is scaled)."""
    factor = 1.0 if spec[0] == "formula" else BUILTIN_FACTOR
    return float(tr.work["cost"]) / factor if tr.work else 0.0


# ----------------------------------------------------------------------------------------------
# Widgets
# ----------------------------------------------------------------------------------------------
def _shift(key: str, by: int, last: int) -> None:
    st.session_state[key] = int(min(max(int(st.session_state.get(key, 0)) + by, 0), last))


def step_control(p: state.Param, last: int, *, disabled: bool = False) -> int:
    """An iteration slider 0 … ``last`` with ◀ / ▶ buttons (iterates are precomputed: a step
    redraws one figure).  A k beyond the run (a link, a shorter new run) is clamped and said."""
    last = int(max(last, 0))
    ss = st.session_state
    asked = int(ss.get(p.key, 0))
    if last == 0:
        ss[p.key] = 0
        state.slider(p, hi=1, disabled=True, label_visibility="collapsed")
        st.caption(_("Only the start x₀: the run stopped before its first step."))
        return 0
    c1, c2, c3 = st.columns([1, 4, 1], vertical_alignment="bottom")
    c1.button("◀", key=f"{p.key}_prev", on_click=_shift, args=(p.key, -1, last), help=_("previous iterate"),
              disabled=disabled or asked <= 0, width="stretch")
    c3.button("▶", key=f"{p.key}_next", on_click=_shift, args=(p.key, 1, last), help=_("next step"),
              disabled=disabled or asked >= last, width="stretch")
    with c2:
        k = state.slider(p, hi=last, disabled=disabled)
    if asked > last:
        st.caption(_("Iteration {asked} does not exist: this run has iterates 0 … {last}, so k = {last} is shown.")
                   .format(asked=asked, last=last))
    return int(k)


def variant_controls(m: state.Param, mu: state.Param, don: state.Param, delta: state.Param,
                     ls: state.Param) -> tuple[str, dict[str, Any]]:
    """Pure / damped / Levenberg–Marquardt Newton; for LM its μ, minimum curvature δ and line
    search.  Every widget is drawn on every run (hidden ones would lose their values)."""
    variant = state.radio(m, format_func=lambda v: _(model.VARIANTS[v]))
    lm = variant == "lm"
    with st.container(border=lm):
        if lm:
            mu_v = state.slider(mu, help=_("solve (H + μI) d = −g: large μ makes the step a short gradient step −g/μ"))
            on = state.checkbox(don, help=_("μ ← max(μ, δ − λ_min(H)): every eigenvalue of H + μI is at least δ"))
            d_v = state.select_slider(delta, disabled=not on)
            ls_v = state.checkbox(ls)
        else:
            mu_v, on, d_v, ls_v = (st.session_state.get(p.key, p.default) for p in (mu, don, delta, ls))
    return variant, hyper_of(variant, mu_v, on, d_v, ls_v)


def function_title(name: str) -> str:
    return model.get_1d(name).title


def _new_function() -> None:
    """A new 1-D function starts at its own suggested x₀ (the student chose it)."""
    ss = st.session_state
    ss[X1.key] = float(model.get_1d(ss[FUN1.key]).start)
    ss[K1.key] = 0


def function_controls() -> tuple[model.Function1D, float]:
    name = state.selectbox(FUN1, format_func=function_title, on_change=_new_function)
    fun = model.get_1d(name)
    lo, hi = fun.window
    ss = st.session_state
    asked = float(ss.get(X1.key, X1.default))
    x0 = state.slider(X1, lo=lo, hi=hi)
    if not lo <= asked <= hi:
        st.caption(_("x₀ = {asked} is outside this function's window [{lo}, {hi}]: {used} is used.").format(
            asked=f"{asked:g}", lo=f"{lo:g}", hi=f"{hi:g}", used=f"{x0:g}"))
    return fun, float(x0)


def surface_title(name: str) -> str:
    if name == CUSTOM:
        return _("✏️ Your formula")
    return short_title(get_surface((name, ())).title)


def _new_surface() -> None:
    """A newly chosen surface starts at its suggested start (the student chose it)."""
    ss = st.session_state
    try:
        surface = surface_of(PAGE.current(ss))
    except (FormulaError, OptlabError):
        return
    ss[X0.key], ss[Y0.key] = model.suggested_start(surface)
    ss[K2.key] = 0
    ss[KB.key] = 0


@dataclass
class Problem:
    """The surface and start the 2-D sections run on (``surface`` None: the formula was refused,
    ``error`` says why; the text is kept)."""

    surface: Any
    spec: tuple | None
    start: tuple[float, float]
    error: str | None = None


def surface_controls(*, params: bool = True) -> Problem:
    """Surface (with its parameters, or a typed formula) and start (x₀, y₀): page-wide values,
    drawn in every section that runs on them.  A bad formula is said in place, the text kept, and
    every other widget keeps its value."""
    name = state.selectbox(SURF, format_func=surface_title, on_change=_new_surface)
    error = None
    surface = None
    if name == CUSTOM:
        text = state.text_input(FORMULA, help=_("Use x and y, numbers, `+ - * / **` (or `^`), parentheses and "
                                                "functions such as sin, cos, exp, log, sqrt, abs, tanh. "
                                                "Example: `(1 - x)**2 + 100*(y - x**2)**2`"))
        try:
            surface = get_surface(("formula", text, None))
        except FormulaError as e:
            error = _("This formula cannot be used: {reason}").format(reason=e)
            if getattr(e, "position", None) is not None and "\n" not in text and "`" not in text:
                error += f"\n\n```text\n{text}\n{' ' * e.position}^\n```"
        except OptlabError as e:
            error = _("This formula cannot be used: {reason}").format(reason=e)
        if error:
            st.error(error, icon="✏️")
    else:
        values = {}
        for (s, pname), p in SURFACE_PARAMS.items():
            if s != name:
                continue
            kind, _opts, _label, help_ = SURFACE_PARAM_CONTROLS[(s, pname)]
            if not params:
                values[pname] = float(st.session_state.get(p.key, p.default))
            elif kind == "select":
                values[pname] = float(state.select_slider(p, help=_(help_) if help_ else None))
            else:
                values[pname] = float(state.slider(p, help=_(help_) if help_ else None))
        surface = get_surface((name, tuple(sorted(values.items()))))
    c1, c2 = st.columns(2)
    with c1:
        x0 = state.number_input(X0, step=0.1, format="%.3f")
    with c2:
        y0 = state.number_input(Y0, step=0.1, format="%.3f")
    start = (float(x0), float(y0))
    if surface is None:
        return Problem(None, None, start, error)
    if not model.defined_at(surface, start):
        st.warning(_("f or its gradient is not defined at the start ({x}, {y}): choose another start.").format(
            x=f"{start[0]:g}", y=f"{start[1]:g}"), icon="✏️")
        sx, sy = model.suggested_start(surface)
        st.button(_("Start at ({x}, {y})").format(x=f"{sx:g}", y=f"{sy:g}"), key="nw2_use_start",
                  on_click=_set_start, args=(sx, sy))
        return Problem(None, None, start, None)
    (a, b), (c, d) = surface.window
    if not (a <= start[0] <= b and c <= start[1] <= d):
        st.caption(_("The start lies outside the drawn window [{a}, {b}] × [{c}, {d}].").format(
            a=f"{a:g}", b=f"{b:g}", c=f"{c:g}", d=f"{d:g}"))
    return Problem(surface, surface_spec(surface), start)


def _set_start(x: float, y: float) -> None:
    st.session_state[X0.key], st.session_state[Y0.key] = float(x), float(y)


# ----------------------------------------------------------------------------------------------
# Numbers as a reader sees them
# ----------------------------------------------------------------------------------------------
UNDEFINED = fmt.UNDEFINED


def num(v: float, d: int = 4) -> str:
    """``v`` with ``d`` significant digits (:func:`optlab.format.number`: "—" when it is not a
    finite number, 2 digits when it needs an exponent)."""
    return fmt.number(v, d)


def point(p, d: int = 4) -> str:
    """(x, y), with "—" for an undefined coordinate only (the other one still says where)."""
    return "(" + ", ".join(num(float(v), d) for v in p) + ")"


def sub(k: int) -> str:
    """k as subscript digits (x₁₂)."""
    return str(int(k)).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def n_steps(n: int) -> str:
    return ngettext("{n} step", "{n} steps", int(n)).format(n=fmt.integer(n))


def fmt_flops(v: float) -> str:
    """Engineering notation for a flop count, e.g. 3.3·10¹⁷ (plain below 10⁴)."""
    if not math.isfinite(v) or v <= 0:
        return UNDEFINED
    if v < 10:
        return f"{v:.2g}"
    if v < 1e4:
        return f"{v:,.0f}"
    e = math.floor(math.log10(v))
    m = v / 10 ** e
    sup = str(e).translate(str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻"))
    return f"{m:.2g}·10{sup}"


def fmt_bytes(v: float) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if v >= size:
            return f"{v / size:.3g} {unit}"
    return f"{v:.0f} B"


def fmt_seconds(s: float) -> str:
    for unit, size in ((N_("years"), 3.156e7), (N_("days"), 86400.0), (N_("hours"), 3600.0),
                       (N_("minutes"), 60.0), ("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if s >= size:
            return f"{s / size:.3g} {_(unit)}"
    return f"{s * 1e9:.3g} ns"


def fmt_times(f: float) -> str:
    """A factor ≥ 1 as "1.8", "12", "4.2·10⁴"."""
    return f"{f:.2g}" if f < 10 else fmt_flops(f)


# ----------------------------------------------------------------------------------------------
# Captions: one dimension
# ----------------------------------------------------------------------------------------------
def caption_1d(res: model.Newton1D, k: int, hyper: Mapping[str, Any], label: str, *, hide_step: bool = False) -> str:
    """What happens at iterate k, every clause chosen by :func:`model.read_step_1d`."""
    r = model.read_step_1d(res, k, bool(hyper.get("line_search")))
    xk, gk, hk = (float(a[r.k]) for a in (res.xs, res.gs, res.hs))
    text = _("At x{k} = {x}: f′ = {g}, f″ = {h}").format(k=sub(r.k), x=num(xk, 6), g=num(gk), h=num(hk))
    if r.mu:
        text += _("; with μ = {mu} the model's curvature is f″ + μ = {mh}").format(
            mu=num(r.mu), mh=num(float(res.model_h[r.k])))
    v = num(float(res.vertex[r.k]), 6)
    if r.kind == "minimum":
        text += _("; the parabola opens upwards and its vertex, at {v}, is its **minimum**.").format(v=v)
    elif r.kind == "maximum":
        text += _("; the parabola opens **downwards**: its vertex, at {v}, is a **maximum**.").format(v=v)
    else:
        text += _("; the parabola is a straight line with no vertex: the Newton step −f′/f″ is undefined.")
    if hide_step:
        return text
    if r.took_step:
        if math.isfinite(r.next_x):
            if r.fallback:
                text += sentence_gap() + _("The vertex is not downhill, so the line search goes along −f′ instead.")
            elif r.to_vertex and r.kind == "maximum":
                text += sentence_gap() + _("{label} jumps to that maximum regardless.").format(label=label)
            elif r.to_vertex:
                text += sentence_gap() + _("The step goes to the vertex.")
            move = {"downhill": _("downhill"), "uphill": _("uphill"), "level": _("no change")}[r.direction]
            text += sentence_gap() + _("x{k1} = {x}: f changes by {df} ({move}).").format(
                k1=sub(r.k + 1), x=num(r.next_x, 6), df=num(r.df, 3), move=move)
            if r.searched:
                if r.stayed:
                    text += sentence_gap() + _("The line search found no step that decreases f enough: x stays.")
                else:
                    text += sentence_gap() + ngettext("The line search accepted s = {s} after {n} halving.",
                                           "The line search accepted s = {s} after {n} halvings.",
                                           r.n_backtracks).format(s=num(r.step_length), n=r.n_backtracks)
        else:
            text += sentence_gap() + _("Step {k1} fails: {reason}.").format(k1=r.k + 1, reason=_(res.diverged_reason))
    elif r.converged:
        text += sentence_gap() + _("Converged: |f′| ≤ {tol} after {steps}.").format(tol=TOL_1D_TEXT, steps=n_steps(r.k))
    else:
        end = model.ending_1d(model.get_1d(res.name), res)
        if end.status in ("floor", "fixed"):
            text += sentence_gap() + _("The run stopped here: {reason}.").format(reason=_(end.reason))
        elif end.status == "steps":
            text += sentence_gap() + _("This is the last of the {n} steps computed; |f′| is still above {tol}.").format(
                n=STEPS_1D, tol=TOL_1D_TEXT)
    return text


def rate_caption(fun: model.Function1D, res: model.Newton1D) -> str:
    """How fast the error shrinks, chosen by :func:`model.read_rate`."""
    r = model.read_rate(fun, res)
    if r.kind == "diverged":
        return _("No convergence: the run diverged at step {k} ({reason}).").format(
            k=res.diverged_at, reason=_(res.diverged_reason))
    if r.kind == "far":
        return _("The iterates are not near a known minimum yet: no rate to read.")
    errs = ", ".join(f"{v:.1e}" for v in r.errors)
    if r.kind == "too_few":
        return _("Errors |xₖ − x*| = {errors}: too few steps before round-off to read a rate.").format(errors=errs)
    if r.kind == "linear":
        text = _("Errors |xₖ − x*| = {errors}: each step multiplies the error by about {factor} — **linear** "
                 "convergence (f″(x*) = {h}).").format(errors=errs, factor=f"{r.factor:.3f}", h=num(r.curvature))
    elif r.kind == "quadratic":
        text = _("Errors |xₖ − x*| = {errors}: each error is about a constant times the square of the one before — "
                 "**quadratic** convergence; eₖ₊₁/eₖ² over the last steps: {ratios}.").format(
            errors=errs, ratios=", ".join(f"{v:.3g}" for v in r.quadratic_ratios))
    elif r.kind == "faster":
        text = _("Errors |xₖ − x*| = {errors}: **faster than quadratic** — eₖ₊₁/eₖ² itself shrinks towards 0 "
                 "({ratios}).").format(errors=errs, ratios=", ".join(f"{v:.3g}" for v in r.quadratic_ratios))
    else:
        text = _("Errors |xₖ − x*| = {errors}: they shrink, but over the last steps neither by a steady factor "
                 "(linear) nor by squaring (quadratic).").format(errors=errs)
    if r.curvature < 0:
        text += sentence_gap() + _("Careful: x* = {x} is a **maximum** of f (f″ < 0 there).").format(x=num(r.x_star, 6))
    return text


# ----------------------------------------------------------------------------------------------
# Captions: two dimensions
# ----------------------------------------------------------------------------------------------
KIND_SENTENCE = {
    "minimum": N_("both eigenvalues are positive: the model is a **bowl** and its stationary point is its minimum"),
    "maximum": N_("both eigenvalues are negative: the model is an upside-down bowl and its stationary point is a "
                  "**maximum**"),
    "saddle": N_("the eigenvalues have opposite signs: the model is a **saddle** (hyperbolas) and its stationary "
                 "point is a saddle point"),
    "degenerate": N_("an eigenvalue is zero: the Hessian is **singular**, the model has no unique stationary point "
                     "and the Newton step is undefined"),
    "undefined": N_("the derivatives are not finite here"),
}
POINT_KIND = {
    "minimum": N_("a **minimum**"), "maximum": N_("a **maximum** (!)"), "saddle": N_("a **saddle point** (!)"),
    "degenerate": N_("a point with a singular Hessian"), "undefined": N_("a point where f is undefined"),
}


def step_details(surface, tr, k: int, hyper: Mapping[str, Any]):
    """At iterate k of a 2-D Newton run: the local model (with the μ the engine used), the line
    search's tries (if it searched) and the next iterate (None if no step was taken from x_k)."""
    stop = model.last_iterate(tr)
    took = k < stop or (tr.diverged_at >= 0 and k == stop)
    x = tr.xs[k]
    local = model.local_model(surface, x, damping=float(hyper.get("damping", 0.0) or 0.0),
                              min_curvature=hyper.get("min_curvature"))
    if not took:
        return local, None, None
    nxt = tr.xs[k + 1]
    trace = None
    if hyper.get("line_search"):
        trace = model.line_search_trace(surface, x, tr.states["direction"][k], float(hyper.get("lr", 1.0)),
                                        float(hyper.get("c1", 1e-4)), float(hyper.get("shrink", 0.5)),
                                        int(hyper.get("max_backtracks", 30)))
    return local, trace, nxt


def caption_2d(local: model.LocalModel, trace, nxt, k: int, label: str) -> str:
    r = model.read_step_2d(local, trace, nxt, k)
    lam = ", ".join(num(v) for v in local.eigvals)
    text = _("At x{k} the model's Hessian has eigenvalues λ = ({lam}): {kind}.").format(
        k=sub(k), lam=lam, kind=_(KIND_SENTENCE[r.kind]))
    if r.mu:
        text += sentence_gap() + _("Levenberg–Marquardt added μ = {mu} to both eigenvalues of ∇²f.").format(mu=num(r.mu))
    if r.searched:
        if r.fallback:
            text += sentence_gap() + _("The Newton direction does not go downhill (gᵀd ≥ 0 or undefined), so the line search "
                            "uses the steepest-descent direction −∇f instead.")
        if r.accepted >= 0:
            text += sentence_gap() + ngettext("It tried {n} step length and accepted s = {s} (f: {f0} → {f1}).",
                                   "It tried {n} step lengths and accepted s = {s} (f: {f0} → {f1}).", r.tries).format(
                n=r.tries, s=num(r.step), f0=num(r.f0), f1=num(r.f_accepted))
        else:
            text += sentence_gap() + ngettext("Its {n} try did not decrease f enough: the step is 0.",
                                   "None of its {n} tries decreased f enough: the step is 0.", r.tries).format(n=r.tries)
    elif r.to_center and r.kind == "maximum":
        text += sentence_gap() + _("{label} jumps to that maximum of the model regardless.").format(label=label)
    elif r.to_center and r.kind == "saddle":
        text += sentence_gap() + _("{label} jumps to that saddle point of the model regardless.").format(label=label)
    elif r.to_center and r.kind == "minimum":
        text += sentence_gap() + _("{label} jumps to the model's minimum.").format(label=label)
    if r.took_step and not r.next_finite:
        text += sentence_gap() + _("The step from here is not finite: the run stops (see the warning).")
    return text


def summary_caption(end: model.Ending, label: str) -> str:
    """Where a 2-D run ended and what kind of point that is (from :func:`model.ending`)."""
    where = point(end.final_x)
    kind = _(POINT_KIND.get(end.kind, POINT_KIND["undefined"]))
    if end.status == "converged":
        return _("{label} reached ‖∇f‖ ≤ {tol} in {steps}, at {where} with f = {f}: {kind}.").format(
            label=label, tol=TOL_TEXT, steps=n_steps(end.at), where=where, f=num(end.final_f, 6), kind=kind)
    if end.status in ("floor", "fixed"):
        return _("{label} stopped at step {k}: {reason}. It is at {where}, f = {f}, ‖∇f‖ = {g}: {kind}.").format(
            label=label, k=end.at, reason=_(end.reason), where=where, f=num(end.final_f, 6),
            g=num(end.grad_norm, 3), kind=kind)
    if end.status == "diverged":
        return _("{label} diverged at step {k}; its last finite point is {where}.").format(
            label=label, k=end.at, where=where)
    if end.status == "cut":
        return _("{label} was stopped after {steps}: more work than this page computes in one go. It is at "
                 "{where} (‖∇f‖ = {g}).").format(label=label, steps=n_steps(end.at), where=where,
                                                  g=num(end.grad_norm, 3))
    return _("{label} did not reach ‖∇f‖ ≤ {tol} within {steps}; it is at {where} (f = {f}, ‖∇f‖ = {g}).").format(
        label=label, tol=TOL_TEXT, steps=n_steps(end.steps), where=where, f=num(end.final_f, 6),
        g=num(end.grad_norm, 3))


def until_stop(tr, label: str) -> tuple:
    """``(label, xs, extra)`` of a run cut after its last meaningful iterate, for the curve figures."""
    n = model.last_iterate(tr) + (2 if tr.diverged_at >= 0 else 1)
    return (label, tr.xs[:n], {"name": tr.optimizer, "losses": tr.losses[:n], "grad_norms": tr.grad_norms[:n],
                               "diverged_at": tr.diverged_at, "diverged_reason": tr.diverged_reason})


def labelled(tr, label: str):
    """The trajectory, labelled for :func:`optlab.ui.divergence_warnings` (a copy: cached runs are
    shared)."""
    import copy

    out = copy.copy(tr)
    out.label = label
    return out


# ----------------------------------------------------------------------------------------------
# Captions: the comparison and the cost
# ----------------------------------------------------------------------------------------------
ENTRY_LABEL = {"pure": N_("Newton (pure)"), "damped": N_("Newton (damped)"), "lm": N_("Newton (LM, δ = 1)"),
               "gd": N_("Gradient descent"), "bfgs": "BFGS"}


def entry_label(e: Entry) -> str:
    return _(ENTRY_LABEL[e.key])


def bar_text(e: Entry) -> str:
    """What the comparison's bar says: the iterations, or how the run ended instead."""
    end = e.ending
    if end.status == "converged" and end.kind in PLAIN_KIND:  # fast, but not to a minimum: said on the bar too
        return _("{k} ({kind})").format(k=f"{end.at:,}", kind=_(PLAIN_KIND[end.kind]))
    if end.status == "converged":
        return f"{end.at:,}"
    if end.status == "floor":
        return _("{k} (f's rounding floor)").format(k=f"{end.at:,}")
    if end.status == "fixed":
        return _("stopped at {k}: θ unchanged").format(k=f"{end.at:,}")
    if end.status == "diverged":
        return _("diverged at step {k}").format(k=f"{end.at:,}")
    if end.status == "cut":
        return _("stopped at {k}: work limit").format(k=f"{end.at:,}")
    return _("not within {n}").format(n=f"{e.budget:,}")


def bar_rows(entries: list[Entry]) -> list[tuple[str, str, float, bool, str]]:
    """``(label, optimizer, length, reached, text)`` per method for :func:`figures.newton.iterations`."""
    rows = []
    for e in entries:
        end = e.ending
        length = end.at if end.status != "steps" else e.budget
        rows.append((entry_label(e), e.optimizer, float(max(length, 1)), end.reached, bar_text(e)))
    return rows


def race_text(entries: list[Entry], gd: model.GDReference) -> tuple[str, str | None]:
    """The sentences under the comparison's bars, and a warning when a run that got there stopped at
    a saddle point or a maximum.  Each claim is chosen by :func:`model.fewest` on the endings: only
    runs that ended at a minimum compete ("fewest iterations to a minimum")."""
    at_min = [e.ending.iterations if e.ending.reached and e.ending.kind == "minimum" else -1 for e in entries]
    best = model.fewest(at_min)
    lines = []
    if not best:
        lines.append(_("No method reached a minimum (‖∇f‖ ≤ {tol}, or f's rounding floor) here.").format(
            tol=TOL_TEXT))
    else:
        names = _(", ").join(f"**{entry_label(entries[i])}**" for i in best)
        fewest = (_("Fewest iterations to a minimum: {names} ({steps}).") if len(best) == 1 else
                  _("Fewest iterations to a minimum, a tie: {names} ({steps} each)."))
        lines.append(fewest.format(names=names, steps=n_steps(at_min[best[0]])))
    g = next(e for e in entries if e.key == "gd")
    lr = f"{gd.best_lr:.3g}"
    if g.ending.reached:
        lines.append(_("Gradient descent: {steps} with its best learning rate, lr = {lr} (the best of {n} from "
                       "10⁻⁵ to 10).").format(steps=n_steps(g.ending.at), lr=lr, n=len(gd.lrs)))
    elif g.ending.status == "cut":
        lines.append(_("Gradient descent: none of {n} learning rates from 10⁻⁵ to 10 had reached ‖∇f‖ ≤ {tol} "
                       "after {steps}, where the search stopped: more work than this page computes in one go.")
                     .format(n=len(gd.lrs), tol=TOL_TEXT, steps=n_steps(g.ending.at)))
    else:
        lines.append(_("Gradient descent: none of {n} learning rates from 10⁻⁵ to 10 reached ‖∇f‖ ≤ {tol} within "
                       "{steps}.").format(n=len(gd.lrs), tol=TOL_TEXT, steps=n_steps(gd.steps)))
    gi = entries.index(g)
    newton = [i for i, e in enumerate(entries) if e.optimizer == "newton" and at_min[i] >= 0]
    if newton and at_min[gi] >= 0:
        i = min(newton, key=lambda j: at_min[j])
        nn, ng = at_min[i], at_min[gi]
        if nn < ng:
            lines.append(_("To a minimum, {name} needed {factor} times fewer iterations than gradient descent ({a} "
                           "against {b}).").format(name=entry_label(entries[i]),
                                                  factor=fmt_times(ng / nn) if nn > 0 else "∞", a=f"{nn:,}",
                                                  b=f"{ng:,}"))
        elif nn == ng:
            lines.append(_("To a minimum, {name} and gradient descent needed the same number of iterations ({a}).")
                         .format(name=entry_label(entries[i]), a=f"{nn:,}"))
        else:
            lines.append(_("Here gradient descent needed fewer iterations to a minimum than every Newton variant ({b} "
                           "against {a}).").format(a=f"{nn:,}", b=f"{ng:,}"))
    for e in entries:
        if e.ending.status in ("floor", "fixed"):
            lines.append(_("{name} stopped at step {k}: {reason}.").format(
                name=entry_label(e), k=e.ending.at, reason=_(e.ending.reason)))
    bad = [e for e in entries if e.ending.reached and e.ending.kind in ("saddle", "maximum")]
    warn = None
    if bad:
        warn = _("Fast is not the same as right: {names} stopped at {kinds}, not at a minimum.").format(
            names=_(", ").join(entry_label(e) for e in bad),
            kinds=_(" / ").join(sorted({_(PLAIN_KIND[e.ending.kind]) for e in bad})))
    return "  \n".join(lines), warn


PLAIN_KIND = {"saddle": N_("a saddle point"), "maximum": N_("a maximum")}


def cost_table_markdown(n: int, *, numbers: bool = True) -> str:
    table = model.cost_table(n)
    head = [_("method"), _("flops per iteration"), _("at this n"), _("memory (floats)"),
            _("memory at this n (float64)")]
    lines = ["| " + " | ".join(head) + " |", "|---|---|---|---|---|"]
    for row in table:
        at = fmt_flops(row.total) if numbers else "🔒"
        mem = fmt_bytes(8 * row.memory) if numbers else "🔒"
        lines.append(f"| {row.title} | ${row.latex}$ | {at} | ${row.memory_latex}$ | {mem} |")
    return "\n".join(lines)


def cost_text(n: int) -> str:
    """The sentences comparing the methods' cost per iteration at n (chosen by
    :func:`model.cost_verdict`)."""
    v = model.cost_verdict(n)
    text = _("At n = {n}, one Newton iteration costs **{r} times** a gradient step ({t1} against {t2} at 10¹² "
             "flops per second), and its Hessian alone takes {mem}.").format(
        n=f"{n:,}", r=fmt_times(v.newton_over_gd), t1=fmt_seconds(v.newton / FLOPS_PER_SECOND),
        t2=fmt_seconds(v.gd / FLOPS_PER_SECOND), mem=fmt_bytes(8.0 * n * n))
    if v.cheaper == "bfgs":
        text += sentence_gap() + _("BFGS avoids the n³ solve: one Newton iteration costs **{f} times** as much as one BFGS "
                        "iteration, but BFGS still keeps an n × n matrix.").format(f=fmt_times(v.factor))
    elif v.cheaper == "newton":
        text += sentence_gap() + _("At so small an n, BFGS's n² bookkeeping (8n²) costs more than Newton's solve (n³/3): one "
                        "BFGS iteration costs **{f} times** as much as one Newton iteration. From n = {cross} on, "
                        "BFGS is the cheaper one.").format(f=fmt_times(v.factor), cross=model.cost_crossover())
    else:
        text += sentence_gap() + _("At this n, one BFGS iteration costs exactly as much as one Newton iteration.")
    return text


def cost_captions(n: int, entries: list[Entry]) -> list[str]:
    table = model.cost_table(n)
    by = {r.name: r for r in table}
    out = []
    parts = []
    for e in entries:
        it = e.ending.iterations
        parts.append(_("{name}: {flops}").format(name=entry_label(e),
                                                  flops=fmt_flops(it * by[e.optimizer].total) if it > 0 else UNDEFINED))
    out.append(_("If the iteration counts above carried over to n dimensions (they do not exactly: gradient descent "
                 "slows down with the condition number, Newton does not), the total work would be {parts} flops "
                 "(— where a method did not get there).").format(parts=_("; ").join(parts)))
    for row in table:
        out.append(_("{name}: {flops}").format(name=row.title, flops=_(", ").join(
            f"{what} {fmt_flops(fl)}" for what, fl, _tex in row.parts)))
    return out


# ----------------------------------------------------------------------------------------------
# Captions: BFGS
# ----------------------------------------------------------------------------------------------
def bfgs_caption(est, true, err, k: int) -> tuple[str, str]:
    """``(error sentence, shape sentence)`` at BFGS iteration k (from :func:`model.read_bfgs`)."""
    r = model.read_bfgs(est, true, err, k)
    text = _("Relative error ‖B{k} − ∇²f(x{k})‖ / ‖∇²f(x{k})‖ = **{e}**.").format(k=sub(r.k), e=num(r.error, 3))
    if r.k == 0 and r.identity:
        text += sentence_gap() + _("B₀ is the identity: BFGS's first step is a gradient step (with a line search).")
    text += sentence_gap() + learned_sentence(r)
    if r.estimate_pd is None:
        shape = _("The estimate is not finite here.")
    elif r.estimate_pd and r.true_kind == "minimum":
        shape = _("Here both matrices are positive definite: two ellipses.")
    elif r.estimate_pd and r.true_kind == "saddle":
        shape = _("Here the true Hessian is indefinite (a saddle: hyperbolas), while BFGS's estimate is positive "
                  "definite (an ellipse): BFGS keeps its estimate positive definite, so its direction always goes "
                  "downhill.")
    elif r.estimate_pd and r.true_kind == "maximum":
        shape = _("Here the true Hessian is negative definite (f curves down in every direction; its ellipse is "
                  "drawn all the same), while BFGS's estimate is positive definite: BFGS keeps it so, and its "
                  "direction always goes downhill.")
    elif r.estimate_pd and r.true_kind == "degenerate":
        shape = _("Here the true Hessian is singular (its curve degenerates into lines), while BFGS's estimate is "
                  "positive definite (an ellipse).")
    elif r.estimate_pd:
        shape = _("BFGS's estimate is positive definite here (an ellipse); the true Hessian is not finite.")
    else:
        shape = _("Here BFGS's estimate is not positive definite (round-off): the engine restarts it from the "
                  "identity when its direction stops going downhill.")
    return text, shape


def learned_sentence(r: model.BFGSReading) -> str:
    if r.learned_at >= 0:
        return _("At iteration {k} the estimate first matched the true Hessian to within 10⁻⁶.").format(
            k=r.learned_at)
    return _("Within this run the estimate never came within 10⁻⁶ of the true Hessian: it only has to be right "
             "along the directions the run moves in.")


def bfgs_key_numbers(spec: tuple, x0: tuple) -> str:
    """What a whole BFGS run says (presenter mode, beside its chart): where it ended and when its
    estimate first matched the Hessian (from :func:`model.ending` and :func:`model.read_bfgs`)."""
    est, true, err = bfgs_estimates(spec, x0)
    end = model.ending(get_surface(spec), run_bfgs(spec, x0))
    return summary_caption(end, "BFGS") + sentence_gap() + learned_sentence(model.read_bfgs(est, true, err, 0))


# ----------------------------------------------------------------------------------------------
# Questions: predict, commit, reveal, check (outcomes from the runs the page draws)
# ----------------------------------------------------------------------------------------------
def _run_1d_of(v) -> tuple[model.Function1D, model.Newton1D]:
    name = v["fn"]
    return model.get_1d(name), run_1d(name, x0_1d(name, v["x"]), hyper_items(hyper_1d(v)))


def _run_2d_of(v):
    surface = surface_of(v)
    spec = surface_spec(surface)
    tr = run_2d(spec, hyper_items(hyper_2d(v)), start_of(v), int(v["n"]))
    return surface, tr


def outcome_where_1d(v) -> int | None:
    """0: a minimum, 1: the maximum, 2: diverged (None: still on its way)."""
    fun, res = _run_1d_of(v)
    end = model.ending_1d(fun, res)
    if end.status == "diverged":
        return 2
    if end.reached:
        return 0 if end.kind == "minimum" else 1 if end.kind == "maximum" else None
    return None


def outcome_converges_1d(v) -> int | None:
    """0: converges, 1: diverges (None: neither within the run)."""
    fun, res = _run_1d_of(v)
    end = model.ending_1d(fun, res)
    return 0 if end.reached else 1 if end.status == "diverged" else None


def outcome_rate_1d(v) -> int | None:
    """0: quadratic (or faster), 1: linear (None: neither could be read)."""
    fun, res = _run_1d_of(v)
    kind = model.read_rate(fun, res).kind
    return 0 if kind in ("quadratic", "faster") else 1 if kind == "linear" else None


def outcome_factor_1d(v) -> float | None:
    fun, res = _run_1d_of(v)
    r = model.read_rate(fun, res)
    return r.factor if r.kind == "linear" else None


def outcome_steps_2d(v) -> int:
    """0: one step, 1: 2–10, 2: 11–100, 3: more, or never."""
    surface, tr = _run_2d_of(v)
    n = model.ending(surface, tr).iterations
    return 3 if n < 0 or n > 100 else 0 if n <= 1 else 1 if n <= 10 else 2


def outcome_where_2d(v) -> int:
    """0: a minimum, 1: a saddle point, 2: a maximum, 3: nowhere (diverged, or not there yet)."""
    surface, tr = _run_2d_of(v)
    end = model.ending(surface, tr)
    if not end.reached:
        return 3
    return {"minimum": 0, "saddle": 1, "maximum": 2}.get(end.kind, 3)


def outcome_singular(v) -> int:
    """0: the minimum in one step, 1: the first step is undefined (the run stops), 2: something else."""
    surface, tr = _run_2d_of(v)
    end = model.ending(surface, tr)
    if end.status == "diverged" and end.at == 1:
        return 1
    return 0 if end.reached and end.iterations == 1 else 2


def outcome_gd_steps(v) -> int:
    """Gradient descent's steps with its best learning rate: 0: < 100, 1: 100–999, 2: 1,000–20,000,
    3: not within 20,000."""
    surface = surface_of(v)
    _entries, gd = race(surface_spec(surface), start_of(v))  # the comparison the page draws (its budget too)
    n = gd.best_steps
    return 3 if n < 0 else 0 if n < 100 else 1 if n < 1000 else 2


def outcome_bfgs_cheaper(v) -> int:
    """0: one BFGS iteration is cheaper than one Newton iteration at n, 1: not cheaper."""
    return 0 if model.cost_verdict(int(v["nd"])).cheaper == "bfgs" else 1


def outcome_bfgs_learns(v) -> int:
    """First iteration at which BFGS's estimate matches the Hessian: 0: 1, 1: 2, 2: 3–10, 3: later or never."""
    surface = surface_of(v)
    est, true, err = bfgs_estimates(surface_spec(surface), start_of(v))
    k = model.read_bfgs(est, true, err, 0).learned_at
    return 3 if k < 0 or k > 10 else 0 if k <= 1 else 1 if k == 2 else 2


WHERE_2D = (N_("At one of the minima"), N_("At a saddle point"), N_("At a maximum"),
            N_("Nowhere: it diverges or does not settle"))

Q_NEGATIVE = lessons.Question(
    "nw_negative", N_("Negative curvature"),
    N_("On the tilted double well, start pure Newton at x₀ = 0.5, where f″ < 0: the tangent parabola opens "
       "downwards. Where does the run end?"),
    state={"sec": "1d", "fn": "quartic", "x": 0.5, "m": "pure"},
    choices=(N_("At the bottom of one of the two valleys"), N_("On top of the hump between them (a maximum)"),
             N_("Nowhere: it diverges")),
    outcome=outcome_where_1d,
    explanation=N_("The parabola at 0.5 opens **downwards**: its vertex is a maximum, and pure Newton jumps to it. "
                   "Step through: the iterates climb to the local **maximum** of f between the two valleys and stop "
                   "there, because f′ = 0 there too. Then choose *Damped Newton*: where the vertex lies uphill the "
                   "line search walks along −f′ instead and ends in a valley."))

Q_FLAT = lessons.Question(
    "nw_flat", N_("Flat far away"),
    N_("log cosh x is convex with a single minimum at 0. Does pure Newton from x₀ = 1.2 find it?"),
    state={"sec": "1d", "fn": "log_cosh", "x": 1.2, "m": "pure"},
    choices=(N_("Yes, in a few steps"), N_("No: the jumps grow and the run diverges")),
    outcome=outcome_converges_1d,
    explanation=N_("Far from 0 the function is almost a straight line (f″ → 0), so the parabola is very flat and "
                   "its vertex far away: each jump lands further out than the last, and the run is stopped with a "
                   "warning. Below |x₀| = 1.0887 pure Newton converges; *Damped Newton* converges from every start "
                   "in the window, because the line search shortens the overshooting jumps."))

Q_X4 = lessons.Question(
    "nw_x4", N_("A flat minimum"),
    N_("f = x⁴ has its minimum at 0, where f″(0) = 0. How does pure Newton's error shrink?"),
    state={"sec": "1d", "fn": "x4", "x": 1.5, "m": "pure"},
    choices=(N_("Each error is about a constant times the square of the one before (quadratic)"),
             N_("By a constant factor per step (linear)")),
    outcome=outcome_rate_1d,
    explanation=N_("The vertex of the parabola at x is at 2x/3, so the error only shrinks by the factor 2/3 per "
                   "step — linear, like gradient descent. Quadratic convergence needs f″(x*) > 0: compare with "
                   "*Convex: eˣ − 2x*."))

Q_X4_FACTOR = lessons.Question(
    "nw_x4_factor", N_("How slow is linear?"),
    N_("Still on f = x⁴ from x₀ = 1.5: by what factor does each pure Newton step multiply the error?"),
    state={"sec": "1d", "fn": "x4", "x": 1.5, "m": "pure"},
    outcome=outcome_factor_1d, tol=0.01,
    explanation=N_("The Newton step is x − f′/f″ = x − 4x³/(12x²) = 2x/3: the factor is exactly 2/3 at every step, "
                   "whatever the start. The error caption shows the ratios."))

Q_KAPPA = lessons.Question(
    "nw_kappa", N_("A long narrow bowl"),
    N_("Gradient descent needs about a thousand steps on a quadratic bowl with condition number κ = 100. How many "
       "does pure Newton need to reach ‖∇f‖ ≤ 10⁻⁸?"),
    state={"sec": "2d", "s": "quadratic", "qk": 100.0, "qt": 30.0, "x0": -2.5, "y0": 1.5, "m2": "pure"},
    choices=(N_("One"), N_("2 to 10"), N_("11 to 100"), N_("More than 100, or never")),
    outcome=outcome_steps_2d,
    explanation=N_("One. A quadratic is its own Taylor model: the ellipse drawn at x₀ is exactly a level curve of f, "
                   "and its centre is the minimum. κ does not matter to Newton: the Hessian's inverse undoes the "
                   "stretching that slows gradient descent down (the section *What it costs* counts gradient "
                   "descent's steps)."))

Q_SADDLE = lessons.Question(
    "nw_saddle", N_("Pure Newton near a saddle"),
    N_("On Himmelblau's function, pure Newton from (1, 2.5) converges quickly. Where to?"),
    state={"sec": "2d", "s": "himmelblau", "x0": 1.0, "y0": 2.5, "m2": "pure"},
    choices=WHERE_2D,
    outcome=outcome_where_2d,
    explanation=N_("To a **saddle point**, where the gradient is zero too. At x₀ the model is already a saddle "
                   "(hyperbolas, one axis curving up and one down), and Newton jumps to the model's stationary point "
                   "every time. Then choose *Damped Newton*: the line search only accepts steps that go downhill, and "
                   "the run escapes to a minimum."))

Q_LINESEARCH = lessons.Question(
    "nw_linesearch", N_("When the line search is not enough"),
    N_("From (−0.5, 2.5) on Himmelblau, where does damped Newton (with its line search) end up?"),
    state={"sec": "2d", "s": "himmelblau", "x0": -0.5, "y0": 2.5, "m2": "damped"},
    choices=WHERE_2D,
    outcome=outcome_where_2d,
    explanation=N_("At a saddle point: along the way the Newton direction still points downhill, so every step passes "
                   "the Armijo test, and the model's stationary point is a saddle. The fix is to change the model, "
                   "not the step: *Levenberg–Marquardt* with *raise μ where the Hessian is indefinite* makes every "
                   "eigenvalue of H + μI at least δ, so the model is a bowl."))

Q_LM = lessons.Question(
    "nw_lm", N_("Levenberg–Marquardt"),
    N_("Same start (−0.5, 2.5) on Himmelblau, now Levenberg–Marquardt: μ is raised until every eigenvalue of "
       "H + μI is at least δ = 1. Where does it end up?"),
    state={"sec": "2d", "s": "himmelblau", "x0": -0.5, "y0": 2.5, "m2": "lm", "mu2": 0.0, "dl2": True, "d2": 1.0},
    choices=WHERE_2D,
    outcome=outcome_where_2d,
    explanation=N_("At a minimum: with every eigenvalue of the model at least δ, the model is a bowl at every "
                   "step (ellipses), its stationary point is a minimum, and the direction always goes downhill. "
                   "Near the minimum the Hessian itself is positive definite with eigenvalues above δ, μ drops to 0 "
                   "and the steps are Newton's again."))

Q_SINGULAR = lessons.Question(
    "nw_singular", N_("A singular Hessian"),
    N_("f = (x − 1)² does not depend on y at all. What does pure Newton do from (−1.5, 1.5)?"),
    state={"sec": "2d", "s": "custom", "f": "(x - 1)**2", "x0": -1.5, "y0": 1.5, "m2": "pure"},
    choices=(N_("Reaches the minimum in one step"), N_("Its first step is undefined: the run stops"),
             N_("Wanders off along y")),
    outcome=outcome_singular,
    explanation=N_("Its Hessian is [[2, 0], [0, 0]]: singular. The model is a valley with a flat floor and the "
                   "linear system for the Newton step has no solution, so the first step is undefined (NaN) and the "
                   "run stops with a warning. *Damped Newton* falls back to −∇f; *Levenberg–Marquardt* adds μ so that "
                   "H + μI is invertible."))

Q_GD = lessons.Question(
    "nw_gd", N_("The price of no curvature"),
    N_("On the quadratic bowl with κ = 100 from (−2.5, 1.5), Newton needs one step. How many does gradient descent "
       "need with the best of 61 learning rates?"),
    state={"sec": "cost", "s": "quadratic", "qk": 100.0, "qt": 30.0, "x0": -2.5, "y0": 1.5},
    choices=(N_("Fewer than 100"), N_("100 to 999"), N_("1,000 to 20,000"), N_("It does not get there within 20,000")),
    outcome=outcome_gd_steps,
    explanation=N_("About a thousand: gradient descent's learning rate is limited by the steepest curvature (λ = 100) "
                   "and the flattest one (λ = 1) then shrinks its error by only about 1 − 2/(κ + 1) per step. Newton "
                   "pays for its one step with the Hessian and a linear solve: the table below says how much."))

Q_CROSSOVER = lessons.Question(
    "nw_crossover", N_("Newton or BFGS: which iteration is cheaper?"),
    N_("A Newton iteration costs about n³/3 + 3n² flops, a BFGS iteration about 8n². At n = 10, which one is "
       "cheaper?"),
    state={"sec": "cost", "nd": 10},
    choices=(N_("BFGS's"), N_("Newton's (or they cost the same)")),
    outcome=outcome_bfgs_cheaper,
    explanation=N_("Newton's: 333 + 300 + 30 = 663 flops against BFGS's 800 + 30 = 830. Only from n = 15 on does "
                   "the n³/3 of the solve make Newton's iteration the dearer one; at n = 10⁶ a Newton iteration costs "
                   "about 40,000 BFGS iterations."))

Q_BFGS = lessons.Question(
    "nw_bfgs", N_("How fast does BFGS learn the curvature?"),
    N_("On the quadratic bowl with κ = 100 (the Hessian is the same everywhere), BFGS starts from the identity. At "
       "which iteration does its estimate first match the true Hessian to within 10⁻⁶?"),
    state={"sec": "bfgs", "s": "quadratic", "qk": 100.0, "qt": 30.0, "x0": -2.5, "y0": 1.5},
    choices=(N_("At iteration 1"), N_("At iteration 2"), N_("Between 3 and 10"), N_("Later, or never")),
    outcome=outcome_bfgs_learns,
    explanation=N_("Step through and read the relative error. Each BFGS update makes the estimate right along the step "
                   "just taken (B·s = y, which on a quadratic is exactly the Hessian times s); in two dimensions the "
                   "estimate can match the whole Hessian after very few updates. On Rosenbrock the true Hessian "
                   "changes along the valley, and the estimate only has to be right along the directions the run "
                   "moves in."))

LESSON = lessons.Lesson(
    "newton", N_("Newton's method: what curvature buys, and what it costs"),
    steps=(
        lessons.Step(N_("The tangent parabola"), N_("Newton jumps to the vertex of the parabola that touches f at xₖ. "
                                                     "What if that vertex is a maximum?"), ask=Q_NEGATIVE),
        lessons.Step(N_("Fast, but not always"), N_("Quadratic convergence needs f″(x*) > 0."), ask=Q_X4),
        lessons.Step(N_("How slow is linear?"), N_("Read the ratios of successive errors."), ask=Q_X4_FACTOR),
        lessons.Step(N_("Curvature undoes the stretching"), N_("The bowl is 100 times steeper across than along."),
                     ask=Q_KAPPA),
        lessons.Step(N_("The price of no curvature"), N_("The same bowl, now for gradient descent."), ask=Q_GD),
        lessons.Step(N_("Newton goes to any stationary point"), N_("Watch the model's hyperbolas."), ask=Q_SADDLE),
        lessons.Step(N_("A line search is not enough"), N_("Damped Newton only shortens the step."), ask=Q_LINESEARCH),
        lessons.Step(N_("Change the model"), N_("Levenberg–Marquardt bends the model into a bowl."), ask=Q_LM),
        lessons.Step(N_("What one iteration costs"), N_("Count flops, not iterations."), ask=Q_CROSSOVER),
    ),
    summary=N_("Nine predictions: the tangent parabola and its vertex, quadratic against linear convergence, why "
               "curvature beats a narrow valley, where Newton goes on a saddle and how damping and "
               "Levenberg–Marquardt fix it, and what a Newton iteration costs against BFGS."),
    minutes=20)

CHAPTER = lessons.Chapter(PAGE, N_("Newton's method"),
                          questions=(Q_NEGATIVE, Q_FLAT, Q_X4, Q_KAPPA, Q_SADDLE, Q_LINESEARCH, Q_SINGULAR, Q_GD,
                                     Q_CROSSOVER, Q_BFGS),
                          lessons=(LESSON,))

__all__ = ["TOL", "TOL_1D", "SECTIONS", "SECTION", "PAGE", "CHAPTER", "LESSON", "keep_values", "run_1d", "run_2d",
           "run_bfgs", "gd_reference", "bfgs_estimates", "race", "step_control", "variant_controls",
           "function_controls", "surface_controls", "caption_1d", "rate_caption", "caption_2d", "summary_caption",
           "race_text", "bar_rows", "cost_text", "cost_captions", "cost_table_markdown", "bfgs_caption",
           "variant_label", "hyper_1d", "hyper_2d", "surface_of", "start_of", "Problem", "Entry"]
