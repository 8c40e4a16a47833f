r"""Reusable Streamlit widgets and cached runs shared by every OptLab page.

Conventions: every widget key is page-prefixed by the caller (``key="gd"`` -> ``"gd_lr"`` …);
initial values are written to ``st.session_state`` before a widget is created (never also passed
as ``value=``), so presets, guided experiments and shared links can set any widget by its key.
Pure work is cached with ``st.cache_data(max_entries=…)`` on hashable arguments.
"""
from __future__ import annotations

import functools
import hashlib
import inspect
import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

import plotly.graph_objects as go
import streamlit as st
from plotly.basedatatypes import BaseFigure

from .. import format as fmt
from .. import optimizers, surfaces
from ..errors import FormulaError, OptlabError
from ..i18n import current, domain, sentence_gap, sentences, using
from ..figures.core import figure_dict, presenter_fonts
from ..runner import run
from ..specs import hyper_items, schedule_from_spec, surface_from_spec, surface_spec
from ..sweeps import lr_grid, tune_lr
from . import i18n as _i18n

PAGE_ICON = "📉"
CUSTOM = "custom"
FORMULA_EXAMPLE = "x**2 + 3*y**2 + sin(2*x)"

# Controls for the parameters of parametrised surfaces: (kind, options or (lo, hi, step), label, help);
# label and help are msgids, translated where the widget is drawn.
_, N_, ngettext = domain("optlab")
SURFACE_PARAM_CONTROLS: dict[tuple[str, str], tuple] = {
    ("quadratic", "condition"): ("select", [1, 2, 5, 10, 25, 50, 100, 250, 1000], N_("condition number κ"),
                                 N_("ratio of the steepest to the flattest curvature: the larger, the narrower "
                                    "the bowl")),
    ("quadratic", "angle"): ("slider", (0.0, 90.0, 5.0), N_("rotation θ (degrees)"),
                             N_("rotates the bowl's axes away from x and y (per-coordinate methods care)")),
    ("rosenbrock", "a"): ("slider", (-2.0, 2.0, 0.5), N_("a (minimum at (a, a²))"), None),
    ("rosenbrock", "b"): ("select", [1, 10, 100, 1000], N_("b (steepness of the valley walls)"), None),
    ("rastrigin", "A"): ("slider", (0.0, 20.0, 1.0), N_("A (height of the bumps)"), None),
    ("cliff", "h"): ("slider", (0.5, 10.0, 0.5), N_("h (height of the cliff)"), None),
    ("cliff", "s"): ("select", [5, 20, 50, 100, 200, 500], N_("s (steepness of the cliff)"), None),
}


def pinned_signature(func):
    """Store ``func``'s signature on it (``__signature__``); put it under ``@st.cache_data``.

    st.cache_data names each positional argument of every call by running ``inspect.signature``
    on the cached function again, once per argument (4 % of the server's CPU under load, py-spy);
    a stored signature is read at once.
    """
    func.__signature__ = inspect.signature(func)
    return func


# ----------------------------------------------------------------------------------------------
# Page frame
# ----------------------------------------------------------------------------------------------
# Every page's style sheet (st.html with only <style> takes no room in the page):
# * buttons in narrow columns (a projector at 1024 px with the sidebar open, or Chinese labels)
#   keep their whole label: it wraps onto another line instead of ending at the edge ("Vanishing:
#   sigmoid, naive i" at 1024 px);
# * pills and segmented controls wrap onto more rows (Streamlit scrolls them sideways: in a control
#   column at 1024 px the optimizer pills showed "SGD AdaGrad R" and hid five);
# * on a short screen (a projector's 768 px) Streamlit's 6rem above the title and its 2.75rem
#   title leave a section's chart at the bottom of the first screen: less of both there (not under
#   4rem: Streamlit's header bar, 3.75rem, lies over the top of the page and would cut the title).
_FIT_CSS = """
<style>
[data-testid^="stBaseButton"] p { white-space: normal !important; overflow: visible !important; }
[data-testid="stButtonGroup"] div:has(> button) { flex-wrap: wrap !important; overflow-x: visible !important;
                                                  row-gap: 0.4rem; }
@media (max-height: 820px) {
  [data-testid="stMainBlockContainer"] { padding-top: 4rem; }
  [data-testid="stMain"] h1 { font-size: 2.1rem; padding-top: 0.25rem; }
}
</style>
"""


def page_config(title: str | None = None) -> None:
    """Call first on every page: ``st.set_page_config`` (OptLab's icon, wide layout), then the
    run's language (URL → session → run, see :mod:`optlab.ui.i18n`), the language selector and
    the translated page links at the top of the sidebar.  ``title`` is already translated
    (``ui.page_config(_("Newton's method"))``)."""
    st.set_page_config(page_title=f"{title} · OptLab" if title else "OptLab", page_icon=PAGE_ICON, layout="wide")
    st.html(_FIT_CSS)
    _i18n.setup()
    _i18n.language_selector()
    _i18n.sidebar_navigation()


def page_header(title: str, question: str, intro: str | None = None) -> None:
    """Title, the question the page answers, and an optional short introduction (all translated
    by the caller; the introduction is left out in presenter mode and when embedded, see
    :func:`optlab.ui.state.compact`; a projected lesson shows its own bar instead of the header)."""
    from . import state

    if state.presenting() and "lesson" in st.query_params:
        return  # the projected lesson's bar names the lesson and the step instead
    st.title(title)
    st.info(_("**The question:** {question}").format(question=question), icon="❓")
    if intro and not state.compact():
        st.markdown(intro)


class _FigureDict(BaseFigure):
    """A figure handed to ``st.plotly_chart`` as its finished dict (:func:`optlab.figures.core.figure_dict`).

    ``st.plotly_chart`` turns a figure into JSON with ``fig.to_dict()``, which deep-copies every
    array and list, and then ``plotly.io.to_json`` on that dict.  This stand-in answers
    ``to_dict`` with the dict made without copies, so Streamlit sends the same JSON for less work.
    It is never a full figure: nothing but ``st.plotly_chart`` sees it.
    """

    def __init__(self, spec: dict):  # no BaseFigure.__init__: no traces to validate or build
        self._spec = spec

    def to_dict(self) -> dict:
        # plotly.io.to_json pops "uid" from each trace dict: give it its own (shallow) ones
        return {**self._spec, "data": [dict(t) for t in self._spec["data"]]}

    def to_plotly_json(self) -> dict:
        return self.to_dict()


def show_figure(fig, *, key: str | None = None, on_select: str | Callable = "ignore",
                selection_mode=("points",), height: int | None = None):
    """``st.plotly_chart`` with OptLab's defaults (our own template, no Plotly logo, full width).

    With ``on_select="rerun"`` it returns the selection event; read it with item access
    (``ev["selection"]["points"]``), which also works under AppTest.
    """
    kw: dict[str, Any] = dict(theme=None, key=key, config={"displaylogo": False, "scrollZoom": False})
    if on_select != "ignore":
        kw.update(on_select=on_select, selection_mode=selection_mode)
    if not isinstance(fig, go.Figure):  # a dict or a list of traces: Streamlit's own path
        if height is not None:
            fig.update_layout(height=height)
        return st.plotly_chart(fig, **kw)
    spec = figure_dict(fig)
    if height is not None:
        spec["layout"] = {**spec["layout"], "height": height}
    from . import state

    if state.presenting():  # on a projector the chart's text grows with the page's
        spec = presenter_fonts(spec)
    return st.plotly_chart(_FigureDict(spec), **kw)


def selected_point(event) -> tuple[float, float] | None:
    """``(x, y)`` of the first selected point of a plotly selection event (None if none)."""
    if not event:
        return None
    try:
        pts = event["selection"]["points"]
    except (KeyError, TypeError, AttributeError):
        return None
    for p in pts or ():
        try:
            x, y = float(p["x"]), float(p["y"])
        except (KeyError, TypeError, ValueError):
            continue
        if math.isfinite(x) and math.isfinite(y):
            return x, y
    return None


def init_state(key: str, value: Any) -> None:
    """Give widget ``key`` its first value (only if the user has not set it yet)."""
    try:
        st.session_state[key]
    except KeyError:
        st.session_state[key] = value


# ----------------------------------------------------------------------------------------------
# Surfaces
# ----------------------------------------------------------------------------------------------
@_i18n.cache_resource(max_entries=64, show_spinner=False)  # titles and notes are in the language of the build
@pinned_signature
def _surface(spec: tuple):
    # Surfaces are read-only after construction; some (Rastrigin, Ackley, formulas) take a few ms to
    # build (critical points, SymPy), so share them instead of rebuilding on every rerun.
    return surface_from_spec(spec)


def get_surface(spec: tuple):
    """The surface for a hashable spec (see :func:`optlab.specs.surface_spec`), cached."""
    return _surface(tuple(spec))


@functools.lru_cache(maxsize=128)
def _registry_title(name: str, lang: str) -> str:
    # a format_func runs for every option on every rerun: keep it a dictionary lookup
    try:
        with using(lang):
            return surfaces.get(name).title
    except Exception:  # a surface another module is still adding must not break the picker
        return name


def short_title(title: str) -> str:
    """A translated title without its parenthesis: "Rosenbrock valley (banana)" → "Rosenbrock valley"."""
    return re.split(r" \(|（", title, maxsplit=1)[0]


def _surface_title(name: str) -> str:
    return _("✏️ Your own surface (type a formula)") if name == CUSTOM else short_title(_registry_title(name, current()))


def _param_control(surface_name: str, pname: str, default: float, key: str) -> float:
    ctrl = SURFACE_PARAM_CONTROLS.get((surface_name, pname))
    init_state(key, default)
    if ctrl is None:
        return float(st.number_input(pname, key=key, format="%g"))
    kind, opts, label, help_ = ctrl
    label, help_ = _(label), (_(help_) if help_ else None)
    if kind == "select":
        opts = sorted(set(float(o) for o in opts) | {float(st.session_state[key])})
        if st.session_state[key] not in opts:
            st.session_state[key] = float(st.session_state[key])
        return float(st.select_slider(label, options=opts, key=key, help=help_, format_func=lambda v: f"{v:g}"))
    lo, hi, step = opts
    v = float(st.session_state[key])
    st.session_state[key] = min(max(v, lo), hi)
    return float(st.slider(label, min_value=lo, max_value=hi, step=step, key=key, help=help_))


def surface_picker(key: str, default: str = "rosenbrock", allow_custom: bool = True, params: bool = True,
                   label: str | None = None, names: Sequence[str] | None = None, show_formula: bool = True):
    """Choose a surface: every registered one (by title), their parameters, and "your own surface".

    Returns the :class:`~optlab.surfaces.Surface`, or None when the typed formula is invalid (the
    error is shown in place with the text kept; the page should ``st.stop()``).  Widget keys:
    ``{key}_surface``, ``{key}_p_<param>``, ``{key}_formula``.
    """
    options = list(names or surfaces.names())
    if allow_custom:
        options.append(CUSTOM)
    skey = f"{key}_surface"
    init_state(skey, default if default in options else options[0])
    if st.session_state[skey] not in options:
        st.session_state[skey] = options[0]
    name = st.selectbox(label or _("Surface"), options, key=skey, format_func=_surface_title)
    if name == CUSTOM:
        fkey = f"{key}_formula"
        init_state(fkey, FORMULA_EXAMPLE)
        text = st.text_input("f(x, y) =", key=fkey, max_chars=300,
                             help=_("Use x and y, numbers, `+ - * / **` (or `^`), parentheses and functions such "
                                    "as sin, cos, exp, log, sqrt, abs, tanh. Example: "
                                    "`(1 - x)**2 + 100*(y - x**2)**2`"))
        try:
            surface = get_surface(("formula", text, None))
        except FormulaError as e:
            where = ""
            if getattr(e, "position", None) is not None and "\n" not in text and "`" not in text:
                where = f"\n\n```text\n{text}\n{' ' * e.position}^\n```"
            st.error(_("This formula cannot be used: {reason}").format(reason=e) + where, icon="✏️")
            return None
        except OptlabError as e:
            st.error(_("This formula cannot be used: {reason}").format(reason=e), icon="✏️")
            return None
        if show_formula:
            show_surface_formula(surface)
        return surface
    values: dict[str, float] = {}
    if params:
        defaults = get_surface((name, ())).params
        for pname, pdef in defaults.items():
            if isinstance(pdef, (int, float)) and not isinstance(pdef, bool):
                values[pname] = _param_control(name, pname, float(pdef), f"{key}_p_{name}_{pname}")
    try:
        surface = get_surface((name, tuple(sorted(values.items()))))
    except ValueError as e:
        st.error(_("These surface parameters are not allowed: {reason}").format(reason=e))
        surface = get_surface((name, ()))
    if show_formula:
        show_surface_formula(surface)
    return surface


def show_surface_formula(surface, *, derivatives: bool | None = None) -> None:
    """The surface's LaTeX; for a typed formula also its gradient and Hessian (exact, from SymPy)."""
    st.latex(surface.latex)
    p = getattr(surface, "params", {}) or {}
    if derivatives is None:
        derivatives = "grad_latex" in p
    if derivatives and "grad_latex" in p:
        gx, gy = p["grad_latex"]
        (hxx, hxy), (_hyx, hyy) = p["hessian_latex"]
        st.latex(rf"\nabla f=\begin{{pmatrix}}{gx}\\ {gy}\end{{pmatrix}},\qquad "
                 rf"\nabla^2 f=\begin{{pmatrix}}{hxx} & {hxy}\\ {hxy} & {hyy}\end{{pmatrix}}")
        for note in p.get("notes", []) or []:
            st.caption(_(note))


# ----------------------------------------------------------------------------------------------
# Optimizers
# ----------------------------------------------------------------------------------------------
def _fmt(v) -> str:
    if isinstance(v, tuple):
        return "(" + ", ".join(f"{x:g}" for x in v) + ")"
    if isinstance(v, bool) or v is None:
        return str(v)
    return f"{v:g}"


def _number_widget(h, key: str, label: str):
    """A float hyperparameter: log-scale ones as a free number input (any value, e.g. a tuned lr),
    bounded linear ones as a slider."""
    v = st.session_state[key]
    if isinstance(h.default, int) and not isinstance(h.default, bool):
        st.session_state[key] = int(v)
        return int(st.number_input(label, min_value=int(h.low or 0), max_value=int(h.high or 10**6), step=1,
                                   key=key, help=_(h.meaning)))
    if h.log or h.low is None or h.high is None:
        v = float(v)
        st.session_state[key] = v
        step = 10 ** math.floor(math.log10(abs(v))) if v > 0 else 0.01
        return float(st.number_input(label, min_value=0.0, max_value=1e6, step=float(step), key=key,
                                     format="%g", help=_(h.meaning)))
    lo, hi = float(h.low), float(h.high)
    v = min(max(float(v), lo), hi)
    st.session_state[key] = v
    step = 0.01 if hi <= 1 else (0.1 if hi <= 10 else 1.0)
    return float(st.slider(label, min_value=lo, max_value=hi, step=step, key=key, help=_(h.meaning)))


def _hyper_widget(h, key: str) -> Any:
    label = h.name  # torch's keyword: what students will type later
    if h.kind == "bool":
        init_state(key, bool(h.default))
        return bool(st.checkbox(h.name, key=key, help=_(h.meaning)))
    if h.kind == "betas":
        k1, k2 = f"{key}_1", f"{key}_2"
        init_state(k1, float(h.default[0]))
        init_state(k2, float(h.default[1]))
        c1, c2 = st.columns(2)
        with c1:
            b1 = st.number_input("β₁ (betas[0])", min_value=0.0, max_value=0.9999, step=0.01, key=k1,
                                 format="%g", help=_("decay of the first moment m: {meaning}").format(
                                     meaning=_(h.meaning)))
        with c2:
            b2 = st.number_input("β₂ (betas[1])", min_value=0.0, max_value=0.99999, step=0.001, key=k2,
                                 format="%g", help=_("decay of the second moment v: {meaning}").format(
                                     meaning=_(h.meaning)))
        return (float(b1), float(b2))
    if h.default is None:  # optional number (e.g. Newton's min_curvature)
        on_key = f"{key}_on"
        init_state(on_key, False)
        on = st.checkbox(_("set {name}").format(name=h.name), key=on_key, help=_(h.meaning))
        if not on:
            return None
        init_state(key, float(h.low or 0.0))
        return _number_widget(h, key, label)
    init_state(key, h.default)
    return _number_widget(h, key, label)


def hyper_widget_keys(name: str, key: str) -> dict[str, Any]:
    """Widget key(s) of each hyperparameter of ``name`` under prefix ``key`` (betas: two keys,
    optional numbers: ``(on_key, key)``), so presets can set them in ``st.session_state``."""
    out: dict[str, Any] = {}
    for h in optimizers.info(name).hyper:
        k = f"{key}_{h.name}"
        out[h.name] = (f"{k}_1", f"{k}_2") if h.kind == "betas" else ((f"{k}_on", k) if h.default is None else k)
    return out


def set_hyper_state(name: str, key: str, hyper: Mapping[str, Any], state=None) -> None:
    """Write ``hyper`` (torch's defaults for the rest) into the widget keys of
    :func:`optimizer_controls` (use it in an ``on_click`` callback, before the widgets exist)."""
    state = st.session_state if state is None else state
    keys = hyper_widget_keys(name, key)
    for h in optimizers.info(name).hyper:
        v = hyper.get(h.name, h.default)
        k = keys[h.name]
        if h.kind == "betas":
            state[k[0]], state[k[1]] = float(v[0]), float(v[1])
        elif h.default is None:
            state[k[0]] = v is not None
            if v is not None:
                state[k[1]] = float(v)
        elif h.kind == "bool":
            state[k] = bool(v)
        elif isinstance(h.default, int) and not isinstance(h.default, bool):
            state[k] = int(v)
        else:
            state[k] = float(v)


def optimizer_controls(name: str, key: str, defaults: Mapping[str, Any] | None = None, *,
                       hidden: Iterable[str] = ("maximize",), expander: bool = True,
                       lr_label: str | None = None) -> dict[str, Any]:
    """Widgets for optimizer ``name``'s hyperparameters, generated from its ``Info.hyper``.

    The learning rate is shown first; the others sit in an expander titled with torch's defaults,
    each with its one-line meaning as help.  ``defaults`` overrides torch's initial values (e.g. a
    page that starts Adam at lr = 0.05).  Returns the keyword dict for ``optimizers.make`` (hidden
    hyperparameters keep torch's defaults).  Keys: ``{key}_{hyperparameter}``.  Do not call it
    inside another expander with ``expander=True`` (Streamlit forbids nested expanders).
    """
    info = optimizers.info(name)
    defaults = dict(defaults or {})
    hidden = set(hidden)
    out: dict[str, Any] = {}
    for h in info.hyper:
        if h.name in defaults and h.name not in hidden:
            k = f"{key}_{h.name}"
            if h.kind == "betas":
                init_state(f"{k}_1", float(defaults[h.name][0]))
                init_state(f"{k}_2", float(defaults[h.name][1]))
            elif h.default is None:
                init_state(f"{k}_on", defaults[h.name] is not None)
                if defaults[h.name] is not None:
                    init_state(k, float(defaults[h.name]))
            else:
                init_state(k, defaults[h.name])
    lr = info.hyper_by_name("lr")
    init_state(f"{key}_lr", lr.default)
    out["lr"] = _number_widget(lr, f"{key}_lr", lr_label or _("lr (learning rate)"))
    rest = [h for h in info.hyper if h.name != "lr" and h.name not in hidden]
    if rest:
        box = st.expander(_("More hyperparameters (torch defaults)"), expanded=False) if expander else st.container()
        with box:
            st.caption(_("`{torch}` defaults: {values}. Hover ⓘ for what each one does.").format(
                torch=info.torch, values=", ".join(f"{h.name} = {_fmt(h.default)}" for h in rest)))
            for h in rest:
                out[h.name] = _hyper_widget(h, f"{key}_{h.name}")
    for h in info.hyper:
        if h.name in hidden:
            out[h.name] = defaults.get(h.name, h.default)
    return out


def hyper_error(name: str, hyper: Mapping[str, Any]) -> str | None:
    """torch's complaint about this combination (e.g. Nesterov without momentum), or None."""
    try:
        optimizers.make(name, **dict(hyper))
    except ValueError as e:
        return str(e)
    return None


def show_update_rule(name: str, *, notes: bool = True, reference: bool = True) -> None:
    """The optimizer's update rule (``st.latex`` of the engine's LaTeX), reference and the notes on
    torch's conventions versus the textbook's."""
    info = optimizers.info(name)
    st.latex(info.latex)
    if reference:
        st.caption(f"{_(info.title)} = `{info.torch}` · 📖 {_(info.reference)}")
    if notes and info.notes:
        st.markdown(_("**torch vs textbook:** {notes}").format(notes=_(info.notes)))


def _per_run(v) -> list:
    """A run record's value as a list with one entry per run: a batched run's array (any shape,
    e.g. a per-run learning rate as a (B, 1) column) flattened, a single value as a list of one."""
    return v.reshape(-1).tolist() if hasattr(v, "reshape") else [v]


# ----------------------------------------------------------------------------------------------
# Divergence: one named box per chart or table
# ----------------------------------------------------------------------------------------------
DIVERGED_TITLE = N_("Diverged")
DIVERGED_ICON = "💥"
MAX_LISTED = 6          # a box lists at most this many runs, then says how many more
_ECHO = re.compile(r"^\s*(?:[^:]*\s)?diverged at step \d+\s*[:,.]\s*", re.IGNORECASE)
_LR_IN_LABEL = re.compile(r"(?:\blr\b|γ|learning rate)\s*=", re.IGNORECASE)


@dataclass(frozen=True)
class Divergence:
    """One run that was stopped for diverging, as the divergence box lists it.

    ``who`` names the run ("Adam (lr = 0.05)"), ``step`` is the step at which it was stopped
    (0: at its start), ``why`` the reason in a sentence (the engine's ``diverged_reason``)."""

    who: str
    step: int
    why: str = ""


def _lr_text(label: str, tr, b: int) -> str:
    """" (lr = 0.05)" for a first-order optimizer whose label does not say it already; nothing for
    Newton and BFGS, whose ``lr`` is a step scale (said only when it is not 1)."""
    if _LR_IN_LABEL.search(label):
        return ""
    lrs = _per_run(tr.hyper.get("lr"))
    lr = lrs[b if len(lrs) > 1 else 0] if lrs and lrs[0] is not None else None
    if lr is None or not math.isfinite(float(lr)):
        return ""
    base = tr.optimizer if tr.optimizer in optimizers.names() else ""
    if base in optimizers.SECOND_ORDER or (not base and "newton" in tr.optimizer):
        return "" if float(lr) == 1.0 else _(" (step scale {s})").format(s=fmt.number(float(lr)))
    return f" (lr = {fmt.number(float(lr), 4)})"


def _reason(text: Any) -> str:
    """The reason as a clause, translated: no echo of "… diverged at step k:", no final full stop."""
    why = _ECHO.sub("", _(str(text)) if text else "").strip().rstrip(".。")
    return why or _("it left the region where the surface is defined")


def divergences(trajectories: Iterable[Any], labels: Sequence[str] | None = None) -> list[Divergence]:
    """The diverged runs of ``trajectories`` (batched ones run by run), named by their label or by
    ``labels`` (one per trajectory, e.g. when a cached run must keep its own label)."""
    out: list[Divergence] = []
    for i, tr in enumerate(trajectories):
        label = labels[i] if labels is not None else tr.label
        dv, reasons = _per_run(tr.diverged_at), _per_run(tr.diverged_reason)
        for b, k in enumerate(dv):
            if k is None or int(k) < 0:
                continue
            run = _(", run {b}").format(b=b) if len(dv) > 1 else ""
            who = f"{label}{_lr_text(label, tr, b)}{run}"
            out.append(Divergence(who, int(k), _reason(reasons[b] if b < len(reasons) else "")))
    return out


def divergence_text(items: Sequence[Divergence], *, drawn: bool = True, others: bool = False,
                    note: str | None = None) -> str:
    """The box's markdown: one line per run (at most :data:`MAX_LISTED`), who diverged when and
    why, under a count when there are several, then what the chart shows (``note`` replaces that)."""
    seen, lines = set(), []
    for d in items:
        head = (_("{who} could not start").format(who=d.who) if d.step <= 0 else
                _("{who} diverged at step {k}").format(who=d.who, k=fmt.integer(d.step)))
        line = _("**{head}**: {why}.").format(head=head, why=_reason(d.why))
        if line not in seen:
            seen.add(line)
            lines.append(line)
    more = len(lines) - MAX_LISTED
    if more > 0:
        lines = lines[:MAX_LISTED] + [ngettext("… and {n} more run.", "… and {n} more runs.", more).format(n=more)]
    if len(lines) == 1:
        body = lines[0]
    else:
        body = (ngettext("**{title}: {n} run was stopped.**", "**{title}: {n} runs were stopped.**", len(items))
                .format(title=_(DIVERGED_TITLE), n=len(items)) + "\n\n" + "\n".join(f"- {ln}" for ln in lines))
    if note:
        tail = note
    elif drawn:
        tail = (_("Its path is drawn up to its last finite point (marked ⊗).") if len(items) == 1
                else _("Each path is drawn up to its last finite point (marked ⊗)."))
        if others:
            tail += sentence_gap() + _("The other runs are still drawn.")
    else:
        tail = _("Its numbers are shown as —.") if len(items) == 1 else _("Their numbers are shown as —.")
    return sentences([body, tail]) if len(lines) == 1 else f"{body}\n\n{tail}"


def divergence_box(items: Sequence[Divergence], *, drawn: bool = True, others: bool = False,
                   note: str | None = None) -> int:
    """Show the one divergence box for ``items`` (nothing when there are none); returns how many.

    Every page shows a divergence this way, one box per chart or table: ``drawn`` says that the
    paths are drawn up to their last finite point (False: a table or caption shows "—" instead),
    ``others`` that runs which did not diverge are drawn too; ``note`` (translated by the caller)
    replaces that sentence."""
    items = list(items)
    if items:
        st.warning(divergence_text(items, drawn=drawn, others=others, note=note), icon=DIVERGED_ICON)
    return len(items)


def divergence_warnings(trajectories: Iterable[Any], *, labels: Sequence[str] | None = None,
                        extra: Iterable[Divergence] = (), drawn: bool = True) -> int:
    """One divergence box for every diverged run of ``trajectories`` (and ``extra`` items): who
    (with its learning rate, never Newton's or BFGS's), at which step or at the start, why.
    Returns how many runs diverged."""
    trs, extra = list(trajectories), list(extra)
    items = divergences(trs, labels) + extra
    n_runs = sum(len(_per_run(t.diverged_at)) for t in trs) + len(extra)
    return divergence_box(items, drawn=drawn, others=n_runs > len(items))


# ----------------------------------------------------------------------------------------------
# Tables: numbers as text (optlab.format), right-aligned like numbers
# ----------------------------------------------------------------------------------------------
def number_column(label: str | None = None, *, help: str | None = None):
    """``st.column_config`` for a column of numbers written by :mod:`optlab.format` (text, so that
    an undefined value reads "—" and not "None"), aligned to the right like numbers."""
    return st.column_config.TextColumn(label, help=help, alignment="right")


# ----------------------------------------------------------------------------------------------
# Guided experiments
# ----------------------------------------------------------------------------------------------
def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:40]


def _apply_experiment(apply) -> None:
    if callable(apply):
        apply(st.session_state)
    else:
        for k, v in apply.items():
            st.session_state[k] = v


def experiment(title: str, question: str, apply: Callable[[Any], None] | Mapping[str, Any], explanation: str,
               *, key: str | None = None, button: str | None = None) -> bool:
    """A guided experiment: the question to predict first, a button that sets the widgets (by key,
    in an ``on_click`` callback, so the page reruns with them), and what to look for afterwards.

    ``apply`` is a dict ``widget key -> value`` or a callable taking ``st.session_state``.
    Returns True on the rerun right after the button was pressed.

    Superseded by :func:`optlab.ui.lessons.ask` (choices, Commit, a verdict computed from the run,
    outcomes hidden until Commit); kept for the experiments not converted yet.  In teacher mode
    "What to look for" is open.
    """
    from . import state

    # pass key=: a slug of a translated title changes with the language (and is empty in Chinese)
    k = f"exp_{key or _slug(title) or hashlib.sha1(title.encode()).hexdigest()[:10]}"
    with st.container(border=True):
        st.markdown(f"**🔬 {title}**")
        st.markdown(_("*Predict first:* {question}").format(question=question))
        pressed = st.button(button or _("Set it up"), key=k, on_click=_apply_experiment, args=(apply,))
        with st.expander(_("What to look for"), expanded=state.teaching()):
            st.markdown(explanation)
    return bool(pressed)


# ----------------------------------------------------------------------------------------------
# Cached runs
# ----------------------------------------------------------------------------------------------
@_i18n.cache_data(max_entries=512, show_spinner=False)  # the run's divergence reasons are text
@pinned_signature
def cached_run(surface_spec: tuple, opt_name: str, hyper_items: tuple, x0: tuple, steps: int, *,
               record: str = "path", noise: float = 0.0, seed: int = 0, schedule=None,
               clip_norm: float | None = None, clip_value: float | None = None, tol: float | None = None):
    """``optlab.run`` on hashable arguments (cached): the surface is ``(name, ((param, value), …))``
    or ``("formula", text, window)`` and rebuilt inside; ``hyper_items`` from
    :func:`optlab.specs.hyper_items`; ``schedule`` a name or ``(name, ((param, value), …))``."""
    surface = get_surface(tuple(surface_spec))
    opt = optimizers.make(opt_name, **{k: (tuple(v) if isinstance(v, list) else v) for k, v in hyper_items})
    return run(surface, opt, x0, int(steps), record=record, noise=noise, seed=seed,
               schedule=schedule_from_spec(schedule), clip_norm=clip_norm, clip_value=clip_value, tol=tol)


@st.cache_data(max_entries=128, show_spinner=False)
@pinned_signature
def cached_tune_lr(surface_spec: tuple, opt_name: str, hyper_items: tuple, x0: tuple, steps: int,
                   tol: float = 1e-4, n: int = 60) -> dict[str, Any]:
    """Best learning rate of one batched sweep (``optlab.tune_lr``), as a plain dict:
    ``lr``, ``final_loss``, ``steps_to_tol``, ``diverged_at``, ``lrs`` and per-lr ``final_losses``."""
    surface = get_surface(tuple(surface_spec))
    fixed = {k: v for k, v in hyper_items if k != "lr"}
    lrs = lr_grid(opt_name, n)
    best, res = tune_lr(surface, opt_name, x0, int(steps), lrs=lrs, fixed=fixed, tol=tol)
    b = res.best()
    return dict(lr=float(best), final_loss=b["final_loss"], steps_to_tol=b["steps_to_tol"],
                diverged_at=b["diverged_at"], lrs=lrs, final_losses=res.final_loss,
                diverged=res.diverged_at, target=res.target)


def run_spec(surface, optimizer_name: str, hyper: Mapping[str, Any]) -> tuple:
    """``(surface_spec, name, hyper_items)``: the hashable head of a :func:`cached_run` call."""
    return surface_spec(surface), optimizer_name, hyper_items(hyper)
