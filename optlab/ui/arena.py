r"""The optimizer arena's Streamlit layer: its declaration (what a widget offers and a link may set),
the link's reader, the racers' cards, cached runs within the work budget, the captions' sentences,
and the questions for class with their lesson.

The race keeps the short link it always had (``?s=…&p=…&x=…&n=…&o=sgd:lr=5;adam:lr=0.05``), now
declared with :mod:`optlab.ui.state` like every other page: ``s``, ``n``, ``f``, the view ``v``
and the auto-tune toggle ``t`` are plain widgets; ``p`` (the surface's parameters), ``x`` (the
start) and ``o`` (the racers) are :func:`~optlab.ui.state.Custom` values, each read part by part
against the same :class:`~optlab.ui.state.Param` declarations the widgets are drawn from
(:func:`surface_param`, :data:`START_X`, :func:`hyper_params`, all built from
:mod:`optlab.chapters.arena`).  So a link's value is either used as given or clamped and named in
the one warning; nothing is silently rewritten and no link can raise.
"""
from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, Mapping, Sequence

import streamlit as st

from .. import figures, optimizers, surfaces
from .. import format as fmt
from ..budget import Budget
from ..chapters import arena as model
from ..errors import FormulaError, OptlabError
from ..figures import arena as fig
from ..i18n import domain, sentence_gap
from . import lessons, safe, state
from .i18n import cache_data as text_cache_data
from .i18n import cache_resource as text_cache_resource
from .widgets import FORMULA_EXAMPLE, SURFACE_PARAM_CONTROLS, get_surface

_, N_, ngettext = domain("arena")

P = "arena"                 # widget key prefix
CUSTOM = model.CUSTOM

# ----------------------------------------------------------------------------------------------
# Declarations
# ----------------------------------------------------------------------------------------------
SECTIONS = [N_("Race"), N_("Auto-tune"), N_("Update rules")]
SECTION = state.Section(SECTIONS, f"{P}_section", codes=["race", "tune", "rules"])
VIEWS = [N_("Contour"), N_("3-D surface"), N_("Animation")]
VIEW = state.Choice("v", f"{P}_view", VIEWS, "Contour", codes=["contour", "3d", "anim"], label=N_("View"),
                    section="Race")
TUNE = state.Flag("t", f"{P}_tune", False, label=N_("Find each optimizer's best learning rate"), section="Auto-tune")
SURFACE = state.Choice("s", f"{P}_surface", surfaces.names() + [CUSTOM], model.DEFAULT_SURFACE, label=N_("Surface"))
FORMULA = state.Text("f", f"{P}_formula", FORMULA_EXAMPLE, max_chars=model.MAX_FORMULA, label=N_("formula f(x, y)"))
STEPS = state.Int("n", f"{P}_steps", model.MIN_STEPS, model.MAX_STEPS, model.DEFAULT_STEPS,
                  step=int(model.STEPS.step), label=N_("steps"))


def _param(num: model.Number, url: str, key: str, label: str = "") -> state.Param:
    """The state declaration of one of the chapter's numbers (a slider on its grid, or a free number)."""
    if num.integer:
        return state.Int(url, key, int(num.lo), int(num.hi), int(num.default if num.default is not None else num.lo),
                         step=int(num.step or 1), label=label)
    d = float(num.default if num.default is not None else num.lo)
    return state.Float(url, key, float(num.lo), float(num.hi), d, step=num.step, label=label)


START_X = _param(model.START, "x₀", f"{P}_x0", "x₀")
START_Y = _param(model.START, "y₀", f"{P}_y0", "y₀")

# Parameters of the registry's surfaces: the shared picker's controls, plus Ackley's three numbers.
_EXTRA_SURFACE_PARAMS = {("ackley", "a"): (0.0, 50.0), ("ackley", "b"): (0.01, 2.0), ("ackley", "c"): (0.0, 10.0)}


@functools.lru_cache(maxsize=64)  # one entry per surface name
def surface_params(name: str) -> tuple[state.Param, ...]:
    """The declarations of surface ``name``'s parameters (widget and link), in its own order."""
    if name == CUSTOM:
        return ()
    out = []
    for pname, pdef in surfaces.get(name).params.items():
        if not isinstance(pdef, (int, float)) or isinstance(pdef, bool):
            continue
        key = f"{P}_p_{name}_{pname}"
        ctrl = SURFACE_PARAM_CONTROLS.get((name, pname))
        if ctrl is not None and ctrl[0] == "select":
            out.append(state.Choice(pname, key, [float(o) for o in ctrl[1]], float(pdef), label=ctrl[2]))
        elif ctrl is not None:
            lo, hi, step = ctrl[1]
            out.append(state.Float(pname, key, lo, hi, float(pdef), step=step, label=ctrl[2]))
        else:
            lo, hi = _EXTRA_SURFACE_PARAMS.get((name, pname), (min(0.0, float(pdef)), max(10.0, 2 * abs(float(pdef)))))
            out.append(state.Float(pname, key, lo, hi, float(pdef), label=pname))
    return tuple(out)


@functools.lru_cache(maxsize=256)  # one entry per (optimizer, hyperparameter)
def hyper_params_for(h: model.HyperSpec) -> tuple[state.Param, ...]:
    """One declaration per number of hyperparameter ``h`` (two for betas, none for a flag), from
    :func:`optlab.chapters.arena.hyper_specs`.  Their widget keys are templates: a racer's card
    puts its own (:func:`racer_key`)."""
    urls = ["β₁", "β₂"] if h.kind == "betas" else [h.name]
    return tuple(_param(num, u, f"{P}_r_{h.name}_{i}") for i, (num, u) in enumerate(zip(h.numbers, urls)))


def racer_key(rid: int, hname: str, part: int = 0) -> str:
    """Widget key of a racer's hyperparameter (``part``: β₁ = 0, β₂ = 1; −1: the "set it" box of
    an optional number)."""
    base = f"{P}_r{rid}_{hname}"
    if part == -1:
        return f"{base}_on"
    return f"{base}_{part + 1}" if hname == "betas" else base


# ---- the link's readers -------------------------------------------------------------------------
def _problem(why: str) -> state.Parsed:
    return state.Parsed(None, "bad", why)


def _cap(names: Sequence[str], shown: int = 3) -> str:
    text, rest = safe.names(names, shown=shown, limit=20)
    return text + (_(" and {n} more").format(n=f"{rest:,}") if rest else "")


def _read_params(text: str, values: Mapping[str, Any]) -> state.Parsed:
    """``angle=30,condition=25`` for the surface the link names, each number checked by its widget's
    declaration; the surface's other parameters keep their defaults."""
    name = values.get("s", model.DEFAULT_SURFACE)
    items = [t for t in text.split(",") if t.strip()]
    if not items:
        return state.Parsed(())
    decl = {p.url: p for p in surface_params(name)}
    if not decl:
        return state.Parsed((), "changed", notes=(_("{surface} has no parameters: {text} is not used").format(
            surface=safe.code(name), text=safe.code(text)),))
    got: dict[str, float] = {}
    notes, unknown = [], []
    for item in items:
        k, eq, raw = item.partition("=")
        k = k.strip()
        p = decl.get(k)
        if p is None:
            unknown.append(k)
            continue
        if not eq:
            notes.append(_("{name} has no value: its default is used").format(name=safe.code(k)))
            continue
        r = p.parse(raw)
        if r.status == "bad":
            notes.append(_("{name} = {value} {why}: the default, {default}, is used").format(
                name=safe.code(k), value=safe.code(raw), why=r.note, default=safe.code(p.code(p.default))))
            got.pop(k, None)
            continue
        if r.status == "changed":
            notes.append(_("{name} = {value} {why}").format(name=safe.code(k), value=safe.code(raw), why=r.note))
        if k in got:
            notes.append(_("{name} is given twice: the last one is used").format(name=safe.code(k)))
        got[k] = float(r.value)
    if unknown:
        notes.append(ngettext("{names} is not a parameter of {surface} ({known}): ignored",
                              "{names} are not parameters of {surface} ({known}): ignored", len(unknown)).format(
            names=_cap(unknown), surface=safe.code(name), known=", ".join(safe.code(k) for k in decl)))
    value = tuple(sorted((k, v) for k, v in got.items() if v != decl[k].default))
    try:
        surfaces.get(name, **dict(value))
    except (ValueError, OptlabError) as e:
        notes.append(_("these parameters do not make a surface ({reason}): the defaults are used").format(
            reason=safe.code(str(e), 80)))
        value = ()
    return state.Parsed(value, "changed" if notes else "ok", notes=tuple(notes))


def _write_params(value) -> str:
    return ",".join(f"{k}={model.num_text(v)}" for k, v in value)


def _read_start(text: str, values: Mapping[str, Any]) -> state.Parsed:
    """``x,y``: two numbers, each in the start widgets' range."""
    parts = text.split(",")
    if len(parts) != 2:
        return state.Parsed(None, "bad", notes=(_("{value} is not two numbers x,y: the surface's own start is used").format(
            value=safe.code(text)),))
    out, notes = [], []
    for p, raw in zip((START_X, START_Y), parts):
        r = p.parse(raw)
        if r.status == "bad":
            return state.Parsed(None, "bad", notes=(_("{name} = {value} {why}: the surface's own start is used").format(
                name=p.url, value=safe.code(raw), why=r.note),))
        if r.status == "changed":
            notes.append(_("{name} = {value} {why}").format(name=p.url, value=safe.code(raw), why=r.note))
        out.append(float(r.value))
    value = (out[0], out[1])
    own = _own_start(values)
    if own is not None and max(abs(value[0] - own[0]), abs(value[1] - own[1])) < 5e-4:
        value = None  # the surface's own start: what the page keeps (and writes) for it
    return state.Parsed(value, "changed" if notes else "ok", notes=tuple(notes))


def _own_start(values: Mapping[str, Any]) -> tuple[float, float] | None:
    """The suggested start of the surface the link's values name (None when it cannot be built)."""
    name = values.get("s", SURFACE.default)
    spec = model.surface_spec_of(name, values.get("p", ()), values.get("f", FORMULA.default))
    try:
        return model.default_start(get_surface(spec))
    except (FormulaError, OptlabError, ValueError):
        return None


def _write_start(value) -> str:
    if value is None:
        return ""
    x, y = value
    return f"{model.num_text(x)},{model.num_text(y)}"


def _read_value(h: model.HyperSpec, raw: str, who: str, notes: list[str]):
    """One hyperparameter's URL text read against its declarations; ``(ok, value)``."""
    name = safe.code(h.name)
    raw = raw.strip()
    if h.kind == "flag":
        low = raw.lower()
        if low in ("1", "true", "yes", "on"):
            return True, True
        if low in ("0", "false", "no", "off"):
            return True, False
        notes.append(_("{who}: {name} = {value} is not 1 or 0: the default, {default}, is used").format(
            who=who, name=name, value=safe.code(raw), default=safe.code(model.value_text(h.default))))
        return False, None
    if h.kind == "optional" and raw.lower() in ("none", ""):
        return True, None
    parts = raw.split("/") if h.kind == "betas" else [raw]
    decls = hyper_params_for(h)
    if len(parts) != len(decls):
        notes.append(_("{who}: {name} = {value} is not {n} numbers a/b: the default, {default}, is used").format(
            who=who, name=name, value=safe.code(raw), n=len(decls), default=safe.code(model.value_text(h.default))))
        return False, None
    vals = []
    for p, part in zip(decls, parts):
        r = p.parse(part)
        shown = safe.code(h.name if len(decls) == 1 else p.url)
        if r.status == "bad":
            notes.append(_("{who}: {name} = {value} {why}: the default, {default}, is used").format(
                who=who, name=shown, value=safe.code(part), why=r.note,
                default=safe.code(model.value_text(h.default))))
            return False, None
        if r.status == "changed":
            notes.append(_("{who}: {name} = {value} {why}").format(who=who, name=shown, value=safe.code(part),
                                                                  why=r.note))
        vals.append(r.value)
    return True, (tuple(float(v) for v in vals) if h.kind == "betas" else vals[0])


def _read_race(text: str, values: Mapping[str, Any]) -> state.Parsed:
    """``sgd:lr=0.001,momentum=0.9;adam:lr=0.05``: each racer's name and hyperparameters, every
    value checked by the declaration its card's widget is drawn from."""
    notes: list[str] = []
    racers: list[model.Racer] = []
    unknown_names: list[str] = []
    chunks = [c for c in text.split(";") if c.strip()]
    for i, chunk in enumerate(chunks, 1):
        name, _colon, rest = chunk.partition(":")
        name = name.strip().lower()
        if name not in optimizers.names():
            unknown_names.append(name or chunk)
            continue
        if len(racers) == model.MAX_OPTIMIZERS:
            notes.append(ngettext("more than {n} optimizer: the first {n} race",
                                  "more than {n} optimizers: the first {n} race", model.MAX_OPTIMIZERS).format(
                n=model.MAX_OPTIMIZERS))
            break
        title = _(optimizers.info(name).title)
        who = _("optimizer {i} ({title})").format(i=len(racers) + 1, title=title)
        first_note = len(notes)
        specs = {h.name: h for h in model.hyper_specs(name)}
        hyper: dict[str, Any] = {}
        unknown, hidden = [], []
        for item in (t for t in rest.split(",") if t.strip()):
            k, eq, raw = item.partition("=")
            k = k.strip()
            h = specs.get(k)
            if h is None:
                (hidden if k in model.HIDDEN else unknown).append(k)
                continue
            if not eq:
                notes.append(_("{who}: {name} has no value: the default, {default}, is used").format(
                    who=who, name=safe.code(k), default=safe.code(model.value_text(h.default))))
                continue
            if k in hyper:
                notes.append(_("{who}: {name} is given twice: the last one is used").format(who=who, name=safe.code(k)))
            ok, v = _read_value(h, raw, who, notes)
            if ok:
                hyper[k] = v
            else:
                hyper.pop(k, None)
        if hidden:
            notes.append(_("{who}: {names} is not offered in the arena (the race would climb instead of descend): "
                           "ignored").format(who=who, names=_cap(hidden)))
        if unknown:
            notes.append(ngettext("{who}: {names} is not a hyperparameter of {title}: ignored",
                                  "{who}: {names} are not hyperparameters of {title}: ignored", len(unknown)).format(
                who=who, names=_cap(unknown), title=title))
        racer = model.Racer.of(name, hyper)
        err = racer.error()
        if err:
            notes.append(_("{who}: torch refuses this combination ({reason}): the settings are kept, fix them in "
                           "its card").format(who=who, reason=safe.code(err, 80)))
        racers.append(racer)
        mine = notes[first_note:]
        for j in range(1, len(mine)):  # the racer is named once, on its first problem
            mine[j] = mine[j].replace(who + ": ", "", 1) if mine[j].startswith(who + ": ") else mine[j]
        notes[first_note:] = mine
    if unknown_names:
        notes.insert(0, ngettext("{names} is not an optimizer of the arena: left out",
                                 "{names} are not optimizers of the arena: left out", len(unknown_names)).format(
            names=_cap(unknown_names)))
    if not racers:
        notes.append(_("no optimizer of the arena in the link: the default race is used"))
        return state.Parsed(None, "bad", notes=tuple(notes))
    return state.Parsed(tuple(racers), "changed" if notes else "ok", notes=tuple(notes))


PARAMS = state.Custom("p", f"{P}_params", (), read=_read_params, write=_write_params, max_chars=300,
                      label=N_("surface parameters"))
START = state.Custom("x", f"{P}_start", None, read=_read_start, write=_write_start, max_chars=80,
                     label=N_("start point"))
RACE = state.Custom("o", f"{P}_race", model.DEFAULT_RACE, read=_read_race, write=model.race_text, max_chars=2000,
                    label=N_("optimizers"))

# ----------------------------------------------------------------------------------------------
# Session bookkeeping: the cards and widgets shown for the declared values
# ----------------------------------------------------------------------------------------------
CARDS = f"{P}_racers"         # [{"id": int, "name": str}]: the cards on screen (not a URL value)
SHOWN = f"{P}_shown"          # {"race": race, "params": (surface, params), "start": start} the widgets show
NEXT_ID = f"{P}_next_id"


def _write_hyper(ss, rid: int, racer: model.Racer) -> None:
    """Write a racer's values (torch's defaults for the rest) into its card's widget keys."""
    given = racer.kwargs
    for h in model.hyper_specs(racer.name):
        v = given.get(h.name, h.default)
        if h.kind == "flag":
            ss[racer_key(rid, h.name)] = bool(v)
        elif h.kind == "betas":
            ss[racer_key(rid, h.name, 0)], ss[racer_key(rid, h.name, 1)] = float(v[0]), float(v[1])
        elif h.kind == "optional":
            ss[racer_key(rid, h.name, -1)] = v is not None
            ss[racer_key(rid, h.name)] = float(v if v is not None else h.numbers[0].lo)
        elif h.numbers[0].integer:
            ss[racer_key(rid, h.name)] = int(v)
        else:
            ss[racer_key(rid, h.name)] = float(v)


def _card_keys(rid: int, name: str) -> list[str]:
    keys = []
    for h in model.hyper_specs(name):
        if h.kind == "betas":
            keys += [racer_key(rid, h.name, 0), racer_key(rid, h.name, 1)]
        elif h.kind == "optional":
            keys += [racer_key(rid, h.name, -1), racer_key(rid, h.name)]
        else:
            keys.append(racer_key(rid, h.name))
    return keys


def sync(ss=None) -> None:
    """Before any widget: make the cards, the surface's parameter widgets and the start widgets show
    the declared values (after a link, a question's "Set it up", a lesson step, a callback), and
    give back any widget value Streamlit forgot while another section was shown."""
    ss = st.session_state if ss is None else ss
    shown = ss.setdefault(SHOWN, {})
    race = ss.get(RACE.key, RACE.default)
    cards = ss.get(CARDS) or []
    if (shown.get("race") != race or len(cards) != len(race)
            or any(k not in ss for c in cards for k in _card_keys(c["id"], c["name"]))):
        new = []
        for i, r in enumerate(race):
            if i < len(cards) and cards[i]["name"] == r.name:
                rid = cards[i]["id"]
            else:
                rid = int(ss.get(NEXT_ID, 0))
                ss[NEXT_ID] = rid + 1
            new.append({"id": rid, "name": r.name})
            _write_hyper(ss, rid, r)
        ss[CARDS] = new
        shown["race"] = race
    name = ss.get(SURFACE.key, SURFACE.default)
    params = ss.get(PARAMS.key, ())
    decl = surface_params(name)
    if shown.get("params") != (name, params) or any(p.key not in ss for p in decl):
        given = dict(params)
        for p in decl:
            ss[p.key] = given.get(p.url, p.default)
        shown["params"] = (name, params)
    start = ss.get(START.key)
    if start is not None and (shown.get("start") != start or START_X.key not in ss or START_Y.key not in ss):
        ss[START_X.key], ss[START_Y.key] = float(start[0]), float(start[1])
        shown["start"] = start


def fill_default_start(ss, surface) -> None:
    """With no start of its own (``x`` at its default) the race starts at the surface's suggested
    start: put it in the start widgets (before they exist) when the surface changed, or when
    Streamlit forgot them."""
    if ss.get(START.key) is not None:
        return
    shown = ss.setdefault(SHOWN, {})
    key = (surface.name, surface.window, tuple(surface.starts[:1]))
    if shown.get("start_for") != key or shown.get("start") is not None or START_X.key not in ss or START_Y.key not in ss:
        x, y = model.default_start(surface)
        ss[START_X.key], ss[START_Y.key] = float(x), float(y)
        shown["start_for"], shown["start"] = key, None


def on_surface_change() -> None:
    """A new surface: its own parameters (defaults) and its own suggested start (the old one may be
    off its window); said under the start widgets."""
    ss = st.session_state
    ss[PARAMS.key] = ()
    ss[START.key] = None
    ss[f"{P}_start_note"] = True


def add_racer(name: str) -> None:
    ss = st.session_state
    race = tuple(ss.get(RACE.key, RACE.default))
    if len(race) < model.MAX_OPTIMIZERS:
        ss[RACE.key] = race + (model.Racer.of(name, {}),)


def remove_racer(index: int) -> None:
    ss = st.session_state
    race = list(ss.get(RACE.key, RACE.default))
    cards = list(ss.get(CARDS) or [])
    if 0 <= index < len(race) and len(race) > 1:
        del race[index]
        if index < len(cards):
            del cards[index]
        ss[CARDS] = cards
        ss[RACE.key] = tuple(race)


def use_tuned(lrs: Mapping[int, float]) -> None:
    """The race with the tuned learning rates, shown in the Race section."""
    ss = st.session_state
    race = list(ss.get(RACE.key, RACE.default))
    for i, lr in lrs.items():
        if 0 <= i < len(race):
            race[i] = model.tuned(race[i], lr)
    ss[RACE.key] = tuple(race)
    ss[SECTION.key] = "Race"


# ----------------------------------------------------------------------------------------------
# Widgets
# ----------------------------------------------------------------------------------------------
def _surface_title(name: str) -> str:
    from .widgets import _surface_title as title

    return title(name)


def surface_controls():
    """Surface picker, its parameters or the formula box; returns ``(surface or None, spec)``.

    A formula that cannot be used is said in place, with the text kept (shown as code); the page
    goes on drawing every widget (the race is not run until the formula is fixed)."""
    name = state.selectbox(SURFACE, format_func=_surface_title, on_change=on_surface_change)
    if name == CUSTOM:
        text = state.text_input(FORMULA, "f(x, y) =", help=_(
            "Use x and y, numbers, `+ - * / **` (or `^`), parentheses and functions such as sin, cos, exp, log, "
            "sqrt, abs, tanh. Example: `(1 - x)**2 + 100*(y - x**2)**2`"))
        spec = model.surface_spec_of(CUSTOM, formula=text)
        try:
            return get_surface(spec), spec
        except (FormulaError, OptlabError) as e:
            where = ""
            pos = getattr(e, "position", None)
            if pos is not None and "\n" not in text and len(text) <= 80:
                where = "\n\n" + safe.code(text, None) + "\n\n" + _("the problem is at character {k}").format(k=pos + 1)
            st.error(_("This formula cannot be used: {reason}").format(reason=safe.plain(str(e), 200)) + where,
                     icon="✏️")
            return None, spec
    values = []
    for p in surface_params(name):
        ctrl = SURFACE_PARAM_CONTROLS.get((name, p.url))
        help_ = _(ctrl[3]) if ctrl and ctrl[3] else None
        label = _(p.label) if p.label != p.url else p.url
        if p.kind == "choice":
            v = state.select_slider(p, label, help=help_)
        elif p.step:
            v = state.slider(p, label, help=help_)
        else:
            v = state.number_input(p, label, help=help_)
        values.append((p.url, float(v)))
    given = tuple(sorted((k, v) for k, v in values if v != next(p.default for p in surface_params(name) if p.url == k)))
    state.put(PARAMS, given)
    st.session_state[SHOWN]["params"] = (name, given)
    spec = model.surface_spec_of(name, given)
    try:
        return get_surface(spec), spec
    except (ValueError, OptlabError) as e:  # not reachable with the declared ranges; said, never raised
        st.error(_("These surface parameters are not allowed: {reason}").format(reason=safe.plain(str(e), 200)))
        return None, spec


def start_controls(surface) -> tuple[float, float]:
    """The start point: two number inputs (or a click on the contour); ``x`` leaves the URL when it
    is the surface's own suggested start."""
    ss = st.session_state
    if surface is not None:
        fill_default_start(ss, surface)
    c1, c2 = st.columns(2)
    with c1:
        x0 = state.number_input(START_X, "x₀", step=0.1, format="%.3f")
    with c2:
        y0 = state.number_input(START_Y, "y₀", step=0.1, format="%.3f")
    start = (float(x0), float(y0))
    if surface is not None:
        own = model.default_start(surface)
        value = None if max(abs(start[0] - own[0]), abs(start[1] - own[1])) < 5e-4 else start
        state.put(START, value)
        ss[SHOWN]["start"] = value
        ss[SHOWN]["start_for"] = (surface.name, surface.window, tuple(surface.starts[:1]))
        if ss.pop(f"{P}_start_note", False):
            st.caption(_("A new surface starts at its own suggested start point."))
    return start


def racer_colors(race: Sequence[model.Racer]) -> list[str]:
    """The colour of each racer as the charts draw it (the registry: a further run of an optimizer
    already in the race is a variant with its own colour; a racer torch refuses is not drawn and
    takes no variant)."""
    style = figures.style
    drawn = [r.name for r in race if r.error() is None]
    variants = iter(style.assign_variants(drawn))
    return [style.optimizer_color(r.name, next(variants) if r.error() is None else 0) for r in race]


def _hyper_label(name: str, h: model.HyperSpec) -> str:
    if h.name == "lr":
        return _("lr (step scale)") if model.is_second_order(name) else _("lr (learning rate)")
    word = model.hyper_word(h.name)
    return h.name if word == h.name else f"{word} (`{h.name}`)"


def racer_card(index: int, card: dict, label: str, color: str, *, can_remove: bool) -> dict[str, Any]:
    """One racer's card: its colour and name, the learning rate, the other hyperparameters in an
    expander, a remove button; returns the keyword dict for ``optimizers.make``."""
    rid, name = card["id"], card["name"]
    info = optimizers.info(name)
    out: dict[str, Any] = {}
    with st.container(border=True, key=f"{P}_card{rid}"):
        st.markdown(f"<span style='color:{color};font-size:1.25em'>●</span> **{safe.plain(label, 80)}**",
                    unsafe_allow_html=True)
        specs = model.hyper_specs(name)
        lr = next(h for h in specs if h.name == "lr")
        out["lr"] = _hyper_widget(rid, lr, hyper_params_for(lr), _hyper_label(name, lr))
        rest = [h for h in specs if h.name != "lr"]
        with st.expander(_("More settings"), expanded=False):
            st.caption(_("`{torch}`: hover ⓘ for what each one does.").format(torch=info.torch))
            for h in rest:
                out[h.name] = _hyper_widget(rid, h, hyper_params_for(h), _hyper_label(name, h))
        st.button(_("Remove"), key=f"{P}_rm{rid}", on_click=remove_racer, args=(index,), type="tertiary",
                  icon=":material/close:", disabled=not can_remove,
                  help=_("Take {label} out of the race").format(label=label))
    return out


def _hyper_widget(rid: int, h: model.HyperSpec, decl: Sequence[state.Param], label: str) -> Any:
    help_ = _(h.meaning) if h.meaning else None
    if h.kind == "flag":
        k = racer_key(rid, h.name)
        if k not in st.session_state:
            st.session_state[k] = bool(h.default)
        return bool(st.checkbox(_hyper_label("", h), key=k, help=help_))
    if h.kind == "betas":
        c1, c2 = st.columns(2)
        vals = []
        for i, (col, p, step) in enumerate(zip((c1, c2), decl, (0.01, 0.001))):
            with col:
                vals.append(state.number_input(dataclasses.replace(p, key=racer_key(rid, h.name, i)),
                                               f"β{'₁₂'[i]} (betas[{i}])", step=step, help=help_))
        return (float(vals[0]), float(vals[1]))
    p = dataclasses.replace(decl[0], key=racer_key(rid, h.name))
    if h.kind == "optional":
        on_key = racer_key(rid, h.name, -1)
        if on_key not in st.session_state:
            st.session_state[on_key] = False
        on = st.checkbox(_("set {name}").format(name=model.hyper_word(h.name)), key=on_key, help=help_)
        v = state.slider(p, label, help=help_)
        return float(v) if on else None
    if p.kind == "int":
        return int(state.number_input(p, label, help=help_))
    if p.step:
        return float(state.slider(p, label, help=help_))
    # A free number (a learning rate, ε, c₁): the box takes any number a student types (a bounded
    # box would refuse 1e6 in the browser, with a tooltip only); the race uses it clamped into the
    # range, and the card says so while the typed number stays in the box.
    num = h.numbers[0]
    wide = dataclasses.replace(p, lo=-TYPED_LIMIT, hi=TYPED_LIMIT)
    v = float(st.session_state.get(p.key, num.default))
    step = 10 ** math.floor(math.log10(v)) if 0 < v < TYPED_LIMIT else num.lo
    typed = float(state.number_input(wide, label, step=float(step), format="%g", help=help_))
    used = min(max(typed, num.lo), num.hi)
    if used != typed:
        st.warning(clamp_sentence(h.name, typed, used, num), icon="✂️")
    return used


TYPED_LIMIT = 1e300


def clamp_sentence(name: str, typed: float, used: float, num: model.Number) -> str:
    """What the race does with a typed number outside its range (said in the card)."""
    why = (_("is above the largest value, {hi}") if typed > num.hi else _("is below the smallest value, {lo}")).format(
        hi=model.num_text(num.hi), lo=model.num_text(num.lo))
    return _("{name} = {typed} {why}: the race uses {used}. Your number stays in the box.").format(
        name=name, typed=f"{typed:g}", why=why, used=model.num_text(used))


def racer_cards(race: Sequence[model.Racer]) -> tuple[model.Racer, ...]:
    """Every racer's card, four to a row, and the "add an optimizer" button; stores the race the
    cards now show (URL ``o``) and returns it."""
    ss = st.session_state
    cards = ss.get(CARDS) or []
    labels = model.racer_labels(race)
    colors = racer_colors(race)
    per_row = 2 if state.presenting() else 4
    out = []
    for start in range(0, len(cards) + 1, per_row):
        cols = st.columns(per_row)
        for j, col in enumerate(cols):
            i = start + j
            with col:
                if i < len(cards):
                    hyper = racer_card(i, cards[i], labels[i], colors[i], can_remove=len(cards) > 1)
                    out.append(model.Racer.of(cards[i]["name"], hyper))
                elif i == len(cards):
                    add_button(len(cards))
        if start + per_row > len(cards):
            break
    new = tuple(out)
    state.put(RACE, new)
    ss[SHOWN]["race"] = new
    return new


def add_button(n: int) -> None:
    if n >= model.MAX_OPTIMIZERS:
        st.caption(_("{n} optimizers race at most.").format(n=model.MAX_OPTIMIZERS))
        return
    with st.popover(_("➕ Add an optimizer"), width="stretch"):
        for name in optimizers.names():
            st.button(_(optimizers.info(name).title), key=f"{P}_add_{name}", on_click=add_racer, args=(name,),
                      width="stretch")


# ----------------------------------------------------------------------------------------------
# Layout
# ----------------------------------------------------------------------------------------------
# The chart and its side column stack, and the racers' cards go two to a row, when the page's main
# column is narrow (1024 px with the sidebar open leaves it 560 px wide): a CSS container query on
# the page's own keyed containers, so nothing is cut or squeezed into one-word lines.
_LAYOUT_CSS = """
<style>
.st-key-arena_top, .st-key-arena_cards, .st-key-arena_setup, .st-key-arena_rules { container-type: inline-size; }
.st-key-arena_rules .katex-display { overflow-x: auto; overflow-y: hidden; padding-bottom: 0.2rem; }
[class*="st-key-arena_tbl_"] td:not(:first-child), [class*="st-key-arena_tbl_"] th:not(:first-child) {
  text-align: right !important; }
@container (max-width: 760px) { .st-key-arena_rules .katex-display > .katex { font-size: 1em; } }
@container (max-width: 760px) {
  .st-key-arena_top [data-testid="stHorizontalBlock"], .st-key-arena_setup [data-testid="stHorizontalBlock"] {
    flex-wrap: wrap; }
  .st-key-arena_top [data-testid="stHorizontalBlock"] > [data-testid="stColumn"],
  .st-key-arena_setup [data-testid="stHorizontalBlock"] > [data-testid="stColumn"] {
    flex: 1 1 100% !important; width: 100% !important; min-width: 100% !important; }
}
@container (max-width: 900px) {
  .st-key-arena_cards [data-testid="stHorizontalBlock"] { flex-wrap: wrap; row-gap: 1rem; }
  .st-key-arena_cards [data-testid="stHorizontalBlock"] > [data-testid="stColumn"] {
    flex: 1 1 45% !important; width: 45% !important; min-width: 45% !important; }
}
</style>
"""


def layout_css() -> None:
    st.html(_LAYOUT_CSS)


# ----------------------------------------------------------------------------------------------
# Runs: cached, within the work budget
# ----------------------------------------------------------------------------------------------
@text_cache_data(max_entries=256, show_spinner=False)  # a run's divergence reasons are text
def _run(spec: tuple, racer: model.Racer, start: tuple, steps: int, budget: Budget):
    return model.racer_run(get_surface(spec), racer, start, steps, budget)


def race_runs(race: model.Race, *, fraction: float = 1.0, lr_of=None) -> list:
    """The race's runs, labelled, each computed at its step bucket within its share of the rerun's
    budget (a share per racer: ``fraction`` of the rerun split between them) and cut to the race's
    steps.  ``lr_of(i, racer)`` replaces a racer (auto-tune's default and tuned learning rates)."""
    ok = [r.error() is None for r in race.racers]  # a racer torch refuses is not run (its card says why)
    budget = model.race_budget(race.surface, max(1, sum(ok)), fraction)
    out = []
    for i, (r, label) in enumerate(zip(race.racers, race.labels())):
        if not ok[i]:
            continue
        if lr_of is not None:
            r = lr_of(i, r)
        tr = model.truncate(_run(race.surface, r, tuple(race.start), model.step_bucket(race.steps), budget), race.steps)
        out.append(dataclasses.replace(tr, label=label))
    return out


@st.cache_data(max_entries=64, show_spinner=False)  # numbers only: shared by both languages
def _tune(spec: tuple, racer: model.Racer, start: tuple, steps: int, budget: Budget) -> dict:
    out = model.tune(get_surface(spec), racer, start, steps, budget)
    out["cuts"] = tuple(c.as_dict() for c in out["cuts"])
    return out


TUNE_SHARE = {"sweep": 0.6, "default": 0.2, "tuned": 0.2}   # of one rerun, split between the racers


def tune_race(race: model.Race) -> list[dict | None]:
    """Auto-tune of every first-order racer (None for Newton's method and BFGS), cached."""
    budget = model.race_budget(race.surface, len(race.racers), TUNE_SHARE["sweep"])
    return [None if model.is_second_order(r.name) else _tune(race.surface, r, tuple(race.start), race.steps, budget)
            for r in race.racers]


def race_of(values: Mapping[str, Any]):
    """``(surface, race)`` for a page's URL values (the page's and the questions' one door), or
    ``(None, race)`` when the typed formula cannot be used."""
    name = values.get("s", SURFACE.default)
    spec = model.surface_spec_of(name, values.get("p", ()), values.get("f", FORMULA.default))
    try:
        surface = get_surface(spec)
    except (FormulaError, OptlabError, ValueError):
        return None, None
    start = values.get("x")
    start = tuple(start) if start is not None else model.default_start(surface)
    racers = tuple(values.get("o", RACE.default))
    return surface, model.Race(spec, (float(start[0]), float(start[1])), int(values.get("n", STEPS.default)), racers)


def race_for(values: Mapping[str, Any]):
    """``(surface, trajectories)`` of the race at ``values``: the runs the page draws (cached)."""
    surface, race = race_of(values)
    if surface is None:
        return None, []
    return surface, race_runs(race)


# ----------------------------------------------------------------------------------------------
# Figures (cached: they hold text)
# ----------------------------------------------------------------------------------------------
@text_cache_resource(max_entries=16, show_spinner=False)
def animation_figure(race: model.Race, height: int):
    """The animated race, built only when its view is open, and kept."""
    return fig.fit_race_chart(figures.animated_contour(get_surface(race.surface), race_runs(race), max_frames=60,
                                                       duration_ms=90, height=height))


@text_cache_resource(max_entries=16, show_spinner=False)
def surface3d_figure(race: model.Race, height: int):
    return fig.race_3d(get_surface(race.surface), race_runs(race), height=height)


# ----------------------------------------------------------------------------------------------
# Sentences chosen by the numbers
# ----------------------------------------------------------------------------------------------
def _names(labels: Sequence[str]) -> str:
    many = len(labels) > 3  # three names and "5 more" rather than a paragraph of eight
    shown = [f"**{safe.plain(x, 80)}**" for x in labels[:2 if many else 3]]
    if many:
        shown.append(_("{n} more").format(n=len(labels) - 2))
    return _(", ").join(shown[:-1]) + (_(" and ") + shown[-1] if len(shown) > 1 else shown[0])


LOSS_LIMIT = 1e15  # a loss past this has run away even if the run was not stopped: "—"


def tol_text(tol: float = model.TOL) -> str:
    return "10⁻⁴" if tol == 1e-4 else f"{tol:g}"


def race_sentence(v: model.RaceVerdict, labels: Sequence[str], steps: int) -> str:
    """The race's outcome in one sentence (every verdict code has its own)."""
    tol = tol_text()
    if v.code == "none":
        return _("No optimizer is racing.")
    if v.code == "all_diverged":
        return _("Every optimizer diverged: none of them reached the bottom.")
    names = _names([labels[i] for i in v.first])
    if v.code == "reached":
        text = ngettext("{names} reached f − f* ≤ {tol} first, at step {k}.",
                        "{names} reached f − f* ≤ {tol} together first, at step {k}.", len(v.first)).format(
            names=names, tol=tol, k=f"{v.step:,}")
        if v.later:
            text += sentence_gap() + ngettext("{names} got there later.", "{names} got there later.", len(v.later)).format(
                names=_names([labels[i] for i in v.later]))
        return text
    if v.code == "closest":
        text = ngettext("No optimizer reached f − f* ≤ {tol} in {n} steps; {names} ended closest (f − f* = {gap}).",
                        "No optimizer reached f − f* ≤ {tol} in {n} steps; {names} ended equally close "
                        "(f − f* = {gap}).", len(v.first)).format(tol=tol, n=f"{steps:,}", names=names,
                                                                   gap=fmt.number(v.gap, 3, limit=LOSS_LIMIT))
        return text
    return ngettext("This surface has no known minimum value; {names} ended lowest (f = {f}).",
                    "This surface has no known minimum value; {names} ended equally low (f = {f}).",
                    len(v.first)).format(names=names, f=fmt.number(v.gap, 4, limit=LOSS_LIMIT))


def cut_sentence(trs: Sequence[Any], labels: Sequence[str], steps: int) -> str | None:
    """One sentence for what the work budget cut, or None."""
    cut = [(labels[i], model.cut_at(t, steps)) for i, t in enumerate(trs) if model.cut_at(t, steps) is not None]
    if not cut:
        return None
    steps_cut = {k for _n, k in cut}
    if len(cut) == len(trs) and len(steps_cut) == 1:
        return ngettext("{n} optimizer × {steps} steps is more than this page computes in one go, so it was stopped "
                        "at step {k}. Fewer steps run in full.",
                        "{n} optimizers × {steps} steps is more than this page computes in one go, so every run was "
                        "stopped at step {k}. Fewer steps or fewer optimizers run in full.", len(trs)).format(
            n=len(trs), steps=f"{steps:,}", k=f"{steps_cut.pop():,}")
    parts = [_("{name} at step {k}").format(name=safe.plain(n, 60), k=f"{k:,}") for n, k in cut[:4]]
    if len(cut) > 4:
        parts.append(_("{n} more").format(n=len(cut) - 4))
    return ngettext("{n} optimizer × {steps} steps is more than this page computes in one go, so it was stopped "
                    "early: {list}. Fewer steps or fewer optimizers run in full.",
                    "{n} optimizers × {steps} steps is more than this page computes in one go, so some were stopped "
                    "early: {list}. Fewer steps or fewer optimizers run in full.", len(trs)).format(
        n=len(trs), steps=f"{steps:,}", list=_("; ").join(parts))


def tune_sentence(code: str, label: str, kd: int, kt: int) -> str:
    """Auto-tune's verdict for one racer (its tuned rate against torch's default)."""
    name = f"**{safe.plain(label, 80)}**"
    tol = tol_text()
    return {
        "faster": _("{name}: the tuned rate reaches f − f* ≤ {tol} at step {kt}, torch's default at step {kd}."),
        "slower": _("{name}: torch's default reaches f − f* ≤ {tol} first (step {kd}); the sweep's pick gets there at "
                    "step {kt}."),
        "same": _("{name}: the tuned rate and torch's default do equally well."),
        "only_tuned": _("{name}: only the tuned rate reaches f − f* ≤ {tol} (at step {kt}); torch's default does not."),
        "only_default": _("{name}: torch's default reaches f − f* ≤ {tol} (step {kd}); the tuned rate does not."),
        "lower": _("{name}: neither reaches f − f* ≤ {tol}; the tuned rate ends lower."),
        "higher": _("{name}: neither reaches f − f* ≤ {tol}; torch's default ends lower."),
        "both_diverged": _("{name}: both learning rates diverge."),
    }[code].format(name=name, tol=tol, kd=f"{kd:,}", kt=f"{kt:,}")


def tune_cut_sentence(results: Sequence[dict | None], labels: Sequence[str]) -> str | None:
    """What the budget cut of the sweeps, in one sentence (grid first, then steps), or None."""
    cut = []
    for res, label in zip(results, labels):
        if not res or not res["cuts"]:
            continue
        grid = next((c for c in res["cuts"] if c["what"] != "steps"), None)
        steps = next((c for c in res["cuts"] if c["what"] == "steps"), None)
        bits = []
        if grid:
            bits.append(_("{n} learning rates instead of {m}").format(n=grid["allowed"], m=grid["requested"]))
        if steps:
            bits.append(_("stopped at step {k}").format(k=f"{steps['allowed']:,}"))
        cut.append(_("{name}: {what}").format(name=safe.plain(label, 60), what=_(", ").join(bits)))
    if not cut:
        return None
    return _("The sweeps are more than this page computes in one go, so they were made smaller: {list}.").format(
        list=_("; ").join(cut[:4]) + (_("; {n} more").format(n=len(cut) - 4) if len(cut) > 4 else ""))


# ----------------------------------------------------------------------------------------------
# Questions for class (predict, commit, reveal) and the lesson
# ----------------------------------------------------------------------------------------------
def _outcome(verdict):
    def outcome(values: Mapping[str, Any]):
        surface, trs = race_for(values)
        if surface is None or not trs:
            return None
        return verdict(surface, trs)
    return outcome


def _q_state(key: str, s: str, x: str, n: int, o: str, p: str = "") -> dict[str, Any]:
    """A question's state as the page writes it: ``x`` and ``p`` only where they differ from the
    surface's own start and parameters (the same link the page shows after "Set it up")."""
    out = {"sec": "Race", "pr": key, "s": s, "n": n, "o": o, "v": "Animation"}
    if p:
        out["p"] = p
    if x:
        out["x"] = x
    return out


Q_TOO_LARGE = lessons.Question(
    "too_large_lr", N_("A learning rate too large"),
    N_("Gradient descent with lr = 0.15 and with lr = 0.25 on a bowl whose steepest curvature is 10, for 60 steps. "
       "Which of them reaches the bottom (f − f* ≤ 10⁻⁴)?"),
    _q_state("too_large_lr", "quadratic", "", 60, "sgd:lr=0.15;sgd:lr=0.25"),
    choices=(N_("Only lr = 0.15"), N_("Only lr = 0.25: larger steps get there sooner"), N_("Both"), N_("Neither")),
    outcome=_outcome(model.verdict_converges),
    explanation=N_("On a quadratic, gradient descent converges only when lr < 2 / (largest curvature) = 0.2. With "
                   "lr = 0.25 every step overshoots the bottom by more than it started from: the loss grows at every "
                   "step and the run is stopped when it diverges. With lr = 0.15 it settles."))

Q_MOMENTUM = lessons.Question(
    "momentum_overshoots", N_("Momentum overshoots"),
    N_("Plain gradient descent and heavy momentum (μ = 0.95), both with lr = 0.03, on a long, narrow bowl "
       "(κ = 25), for 120 steps. Which one ends lower?"),
    _q_state("momentum_overshoots", "quadratic", "", 120, "sgd:lr=0.03;sgd:lr=0.03,momentum=0.95",
             "angle=30,condition=25"),
    choices=(N_("Plain gradient descent"), N_("Heavy momentum"), N_("Both reach the bottom (f − f* ≤ 10⁻⁴)")),
    outcome=_outcome(model.verdict_lower_final),
    explanation=N_("Momentum keeps most of its speed from step to step. With μ = 0.95 it builds up so much that it "
                   "shoots past the bottom, turns, and shoots past again: look at its loss curve going up and down. "
                   "Plain gradient descent only ever goes downhill, so here it ends lower. Smaller μ (0.5 … 0.9) "
                   "keeps the speed-up and loses the overshoot."))

Q_ROSENBROCK = lessons.Question(
    "adam_vs_sgd_rosenbrock", N_("Adam vs SGD on Rosenbrock"),
    N_("All three start on the slope of the banana valley. After 500 steps, which one is closest to the minimum at "
       "(1, 1)?"),
    _q_state("adam_vs_sgd_rosenbrock", "rosenbrock", "", 500,
             "sgd;sgd:lr=0.0005,momentum=0.9;adam:lr=0.05"),
    choices=(N_("Plain SGD"), N_("SGD with momentum"), N_("Adam")),
    outcome=_outcome(model.verdict_closest),
    explanation=N_("Plain SGD dives into the valley and then crawls along its flat, curved floor: its loss hardly "
                   "moves after the first steps. Momentum builds up speed along the floor, Adam rescales each "
                   "coordinate; both end far closer to (1, 1) than plain SGD. Which of the two wins depends on the "
                   "learning rates: try Adam with lr = 0.02 or 0.1."))

Q_SADDLE = lessons.Question(
    "saddle_escape", N_("Saddle escape"),
    N_("Starting almost exactly on the ridge of a saddle (y = 0.01), which optimizer first gets away from the "
       "saddle point downhill (its loss 1 below the saddle's)?"),
    _q_state("saddle_escape", "saddle", "", 80, "sgd:lr=0.05;adam:lr=0.05;newton"),
    choices=(N_("SGD"), N_("Adam"), N_("Newton's method"), N_("None of them within 80 steps")),
    outcome=_outcome(model.verdict_escape),
    explanation=N_("Adam divides each step by the gradient's size, so it moves away along y at full speed from the "
                   "first steps. SGD's step along y is proportional to y itself: it starts tiny and grows "
                   "exponentially, slow at first. Newton's method jumps straight onto the saddle point and stays: "
                   "it looks for a zero gradient, not for a low loss."))

Q_VALLEYS = lessons.Question(
    "many_minima", N_("Which valley?"),
    N_("Himmelblau's function has four minima. From the same start, SGD, Adam and RMSProp run 300 steps. Where do "
       "they end?"),
    _q_state("many_minima", "himmelblau", "-0.3,-0.9", 300, "sgd:lr=0.01;adam:lr=0.1;rmsprop:lr=0.02"),
    choices=(N_("All three in the same minimum"), N_("Two in one minimum, the third in another"),
             N_("Each in a different minimum")),
    outcome=_outcome(model.verdict_valleys),
    explanation=N_("Different update rules follow different paths, and a small difference early on decides the "
                   "basin: optimizers can disagree on the answer, not just on the speed. Click elsewhere on the "
                   "contour to start from another point and predict again."))

QUESTIONS = (Q_TOO_LARGE, Q_MOMENTUM, Q_ROSENBROCK, Q_SADDLE, Q_VALLEYS)
PICK = state.Choice("pr", f"{P}_pick", [q.key for q in QUESTIONS], QUESTIONS[0].key,
                    codes=["lr", "momentum", "rosenbrock", "saddle", "valleys"], label=N_("Prediction for class"),
                    section="Race")

PAGE = state.Page("Optimizer_arena", [SECTION, SURFACE, FORMULA, PARAMS, START, STEPS, RACE, VIEW, TUNE, PICK],
                  title=N_("Optimizer arena"), domain="arena")

LESSON = lessons.Lesson(
    "race", N_("Five races, five predictions"),
    steps=(
        lessons.Step(N_("A learning rate too large"), N_("Two learning rates on one bowl: predict which one gets to "
                                                          "the bottom, then watch the larger one bounce out."),
                     ask=Q_TOO_LARGE),
        lessons.Step(N_("Momentum overshoots"), N_("Momentum speeds gradient descent up in a valley, until it has too "
                                                   "much of it."), ask=Q_MOMENTUM),
        lessons.Step(N_("The banana valley"), N_("Rosenbrock's valley is easy to find and hard to follow: which "
                                                 "optimizer follows it furthest?"), ask=Q_ROSENBROCK),
        lessons.Step(N_("Escaping a saddle"), N_("On a saddle the gradient vanishes although it is no minimum: who "
                                                 "gets away first?"), ask=Q_SADDLE),
        lessons.Step(N_("Which valley?"), N_("With several minima, the optimizer decides where you end, not only how "
                                             "fast."), ask=Q_VALLEYS),
        lessons.Step(N_("Tune the learning rates"), N_("torch's default learning rates are a start, not an answer: "
                                                       "compare them with the best ones a sweep finds on the Rosenbrock "
                                                       "race."),
                     state={"sec": "Auto-tune", "t": True, "s": "rosenbrock", "n": 500,
                            "o": "sgd;sgd:lr=0.0005,momentum=0.9;adam:lr=0.05"}),
    ),
    summary=N_("Five races to predict, each checked by the run, then auto-tune: learning rate, momentum, "
               "adaptive steps, saddles, basins."),
    minutes=20)

CHAPTER = lessons.Chapter(PAGE, N_("Optimizer arena"), questions=QUESTIONS, lessons=(LESSON,))


def optimizer_title(name: str) -> str:
    """An optimizer's title in the reader's language ("Newton" -> 牛顿法; class names stay)."""
    return _(optimizers.info(name).title)


def question(key: str) -> lessons.Question:
    return next(q for q in QUESTIONS if q.key == key)


__all__ = ["PAGE", "CHAPTER", "SECTION", "VIEW", "TUNE", "SURFACE", "FORMULA", "PARAMS", "START", "STEPS", "RACE",
           "PICK", "QUESTIONS", "LESSON", "sync", "surface_controls", "start_controls", "racer_cards", "race_of",
           "race_for", "race_runs", "tune_race", "animation_figure", "surface3d_figure", "race_sentence",
           "cut_sentence", "tune_sentence", "tune_cut_sentence", "racer_colors", "question"]
