r"""A page's state in its URL: one declaration per page, the widgets built from it, links checked.

A page declares what a link may set, once::

    KAPPA = state.Choice("k", "ad_mo_kappa", KAPPAS, 25, label="condition number κ", section="Momentum")
    BETA = state.Float("b", "ad_mo_beta", 0.0, 0.99, 0.9, step=0.01, label="momentum β", section="Momentum")
    SECTION = state.Section(SECTIONS, "ad_section")
    PAGE = state.Page("Adaptive_methods", [SECTION, KAPPA, BETA, ...])

and builds its widgets from the declarations, so a link and a widget accept the same values::

    state.open(PAGE)                         # first thing after ui.page_config
    section = state.section(SECTION)         # the "Section" segmented control, kept in the URL
    kappa = state.select_slider(KAPPA)       # label, options and range from KAPPA
    beta = state.slider(BETA)

What happens, and when:

* :func:`open` — on the page's first run in a session, and whenever the URL's query string differs
  from what this mechanism last wrote (a link opened, back/forward) — reads ``st.query_params``,
  validates every value against its declaration and writes the result into ``st.session_state``
  *before* any widget exists.  A value outside its range is clamped, a value between the choices
  of a select slider goes to the nearest choice, a value off the slider's step is rounded: each of
  these is used *and said*.  Unknown names and unusable values are named.  Everything is said in
  one warning per link, capped (the first :data:`MAX_SHOWN` problems, then "and N more"), with the
  link's text shown as code (:mod:`optlab.ui.safe`), never as markdown or HTML.  No link can
  raise: every problem is a message.
* Every widget function writes its value back to the URL right after the widget is created, only
  when it differs from the declared default (short URLs) and only when it changed (no message is
  sent otherwise).  This also works inside ``st.fragment`` reruns.
* A parameter declared with ``section=`` is in the URL only while its section is shown, so the
  URL holds what is on the screen.

Global keys, shared by every page: ``lang`` (the language, owned by :mod:`optlab.i18n`: never
touched here), ``present`` and ``teacher`` (view flags, see :func:`presenting`, :func:`teaching`:
they stay on for the session once a link sets them, ``=0`` turns them off), ``lesson``, ``step``
and ``ask`` (read by :mod:`optlab.ui.lessons`), ``embed``/``embed_options`` (Streamlit's own:
``st.query_params`` never shows them).

Why not Streamlit's own ``bind="query-params"`` widget option: it drops an invalid value without
a word (a link's ``?b=7`` simply disappears), keeps every bound value in the URL (not only the
non-default ones), cannot tell a value that was clamped from one that was used, and its URL
updates are invisible to ``AppTest``, so none of the link rules could be tested.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence
from urllib.parse import urlencode

import streamlit as st

from . import safe

from ..i18n import domain, listing, name_and_detail, sentence_gap, text_width

_, N_, ngettext = domain("optlab")

# Keys every page shares.  "lang" belongs to optlab.i18n; "embed"/"embed_options" to Streamlit.
LANG = "lang"
FLAGS = ("present", "teacher")
LESSON_KEYS = ("lesson", "step", "ask")
FOREIGN = (LANG, "embed", "embed_options")
TOO_LONG = "too_long"  # set by the browser when Streamlit had to drop a link (see _GUARD_JS)
GLOBAL_KEYS = frozenset(FLAGS + LESSON_KEYS + FOREIGN + (TOO_LONG,))
# Streamlit ignores a whole query string beyond these limits (streamlit.runtime.state.query_params)
MAX_FIELDS, MAX_QUERY_CHARS = 1000, 512 * 1024

MAX_SHOWN = 5          # problems named in a link's warning before "and N more"
MAX_RAW = 200          # characters of one URL value that are looked at (a longer one is refused)
LINK_ICON = "🔗"

# Keys of this mechanism in st.session_state (not widget keys)
_PAGE = "_optlab_page"            # the Page of the current run
_WRITTEN = "_optlab_url"          # page path -> the last few {url key: values} this mechanism wrote
_FLAG_STATE = "_optlab_flags"     # {"present": bool, "teacher": bool}
_WARNING = "_optlab_link_warning"  # the last link's warning (markdown), for tests and re-display
_OPENED = "_optlab_link_opened"   # how many links were read in this session
_LAST_OPEN = "_optlab_last_open"  # path of the page that called open() last
_HISTORY = 8                      # states of the URL remembered per page
_SNAP = "_optlab_query"           # the URL's query as this mechanism left it ({key: [values]})
_KEYS = "_optlab_page_keys"       # page path -> the session-state keys of that page's parameters

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


# ----------------------------------------------------------------------------------------------
# Declarations
# ----------------------------------------------------------------------------------------------
def _fmt_num(v: float) -> str:
    """A number as the URL shows it: 12 significant digits, no trailing zeros (0.1, 25, 1e-05)."""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, int):
        return str(v)
    s = f"{float(v):.12g}"
    return s


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


@dataclass(frozen=True)
class Parsed:
    """One URL value read against its declaration.  ``status``: "ok" (used as given), "changed"
    (used after clamping/rounding, ``note`` says how) or "bad" (not usable, the default is used).
    ``notes``: a :func:`Custom` value's problems, one per part (each named in the link's warning)."""

    value: Any
    status: str = "ok"
    note: str = ""
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Param:
    """One linkable value of a page: its URL key, its widget key, its type and valid values.

    Build with :class:`Float`, :class:`Int`, :class:`Choice`, :class:`Multi`, :class:`Flag`,
    :class:`Text` or :class:`Section`.  ``section``: the page section the widget lives in (the
    value is then in the URL only while that section is shown); ``label``: the widget's label,
    also used to name the value in a link's warning.
    """

    url: str
    key: str
    kind: str
    default: Any
    lo: float | None = None
    hi: float | None = None
    step: float | None = None
    options: tuple = ()
    codes: tuple[str, ...] = ()
    max_chars: int = 300
    max_items: int | None = None
    label: str = ""
    section: str | None = None
    is_section: bool = False
    reader: Callable[[str, Mapping[str, Any]], Parsed] | None = None  # Custom: URL text -> Parsed
    writer: Callable[[Any], str] | None = None                        # Custom: value -> URL text

    # -- URL text -------------------------------------------------------------------------------
    def code(self, value: Any) -> str:
        """The URL text of ``value`` (a valid value of this parameter)."""
        if self.kind in ("float", "int"):
            return _fmt_num(int(value) if self.kind == "int" else float(value))
        if self.kind == "flag":
            return "1" if value else "0"
        if self.kind == "choice":
            return self.codes[self._index(value)]
        if self.kind == "multi":
            return ",".join(self.codes[self._index(v)] for v in value)
        if self.kind == "custom":
            return str(self.writer(value))
        return str(value)

    def _index(self, value: Any) -> int:
        for i, o in enumerate(self.options):
            if o == value and type(o) is type(value) or o == value and _is_number(o) and _is_number(value):
                return i
        raise ValueError(f"{value!r} is not an option of {self.url!r}")

    def is_default(self, value: Any) -> bool:
        try:
            return self.code(value) == self.code(self.default)
        except (ValueError, TypeError, IndexError):
            return False

    # -- validation -----------------------------------------------------------------------------
    def coerce(self, value: Any) -> Any:
        """A valid value near ``value`` (for values a page or an old preset put in session state;
        links go through :meth:`parse`, which says what it changed)."""
        try:
            if self.kind in ("float", "int"):
                v = float(value)
                if not math.isfinite(v):
                    return self.default
                return self._snap(min(max(v, self.lo), self.hi))
            if self.kind == "flag":
                return bool(value)
            if self.kind == "choice":
                return self.options[self._index(value)] if value in self.options else self._nearest_option(value)
            if self.kind == "multi":
                seen = []
                for v in value or ():
                    if v in self.options and v not in seen:
                        seen.append(self.options[self._index(v)])
                return seen[: self.max_items] if self.max_items else seen
            if self.kind == "custom":
                self.writer(value)  # a value the writer cannot write is no value of this parameter
                return value
            return str(value)[: self.max_chars]
        except Exception:  # noqa: BLE001 - a value this parameter cannot hold is replaced by its default
            return self.default

    def _snap(self, v: float):
        if self.step:
            k = round((v - self.lo) / self.step)
            v = self.lo + k * self.step
            v = float(f"{v:.12g}")
            v = min(max(v, self.lo), self.hi)
        return int(round(v)) if self.kind == "int" else float(v)

    def _nearest_option(self, value: Any):
        if all(_is_number(o) for o in self.options) and _is_number(value):
            return self.options[self._nearest_index(float(value))]
        return self.default

    def _nearest_index(self, v: float) -> int:
        opts = [float(o) for o in self.options]
        log = all(o > 0 for o in opts) and v > 0
        key = (lambda o: abs(math.log(o) - math.log(v))) if log else (lambda o: abs(o - v))
        return min(range(len(opts)), key=lambda i: key(opts[i]))

    def parse(self, raw: str, values: Mapping[str, Any] | None = None) -> Parsed:
        """Read the URL text ``raw``: never raises.  ``values`` (url key -> value, what the link
        gave for the other parameters) is passed to a :func:`Custom` reader."""
        raw = str(raw)
        limit = self.max_chars if self.kind in ("text", "custom") else MAX_RAW
        if len(raw) > limit and self.kind != "text":
            return Parsed(self.default, "bad", _("is too long to be a value ({n} characters)").format(n=len(raw)))
        s = raw.strip()
        try:
            if self.kind == "custom":
                got = self.reader(raw, dict(values or {}))
                return got if isinstance(got, Parsed) else Parsed(got)
            if self.kind in ("float", "int"):
                return self._parse_number(s)
            if self.kind == "flag":
                if s.lower() in _TRUE:
                    return Parsed(True)
                if s.lower() in _FALSE:
                    return Parsed(False)
                return Parsed(self.default, "bad", _("is not 1 or 0"))
            if self.kind == "choice":
                return self._parse_choice(s)
            if self.kind == "multi":
                return self._parse_multi(s)
            if len(raw) > self.max_chars:
                return Parsed(raw[: self.max_chars], "changed",
                              _("is longer than {n} characters: cut to {n}").format(n=self.max_chars))
            return Parsed(raw)
        except Exception:  # noqa: BLE001 - a link must never raise; this is a bug, said as a bad value
            return Parsed(self.default, "bad", _("could not be read"))

    def _parse_number(self, s: str) -> Parsed:
        try:
            v = float(s)
        except ValueError:
            return Parsed(self.default, "bad", _("is not a number"))
        if not math.isfinite(v):
            return Parsed(self.default, "bad", _("is not a finite number"))
        notes = []
        if v < self.lo:
            notes.append(_("is below the smallest value, {lo}").format(lo=_fmt_num(self.lo)))
            v = float(self.lo)
        elif v > self.hi:
            notes.append(_("is above the largest value, {hi}").format(hi=_fmt_num(self.hi)))
            v = float(self.hi)
        snapped = self._snap(v)
        if not notes and abs(snapped - v) > 1e-9 * max(1.0, abs(v)):
            if self.kind == "int" and not self.step or self.kind == "int" and self.step == 1:
                notes.append(_("is not a whole number"))
            else:
                notes.append(_("is not on the slider's steps of {step}").format(step=_fmt_num(self.step)))
        if notes:
            return Parsed(snapped, "changed", _("{why}: {used} is used").format(why=notes[0], used=self.code(snapped)))
        return Parsed(snapped)

    def _match(self, s: str) -> int | None:
        for i, c in enumerate(self.codes):
            if c == s:
                return i
        low = s.casefold()
        for i, c in enumerate(self.codes):
            if c.casefold() == low:
                return i
        if all(_is_number(o) for o in self.options):
            try:
                v = float(s)
            except ValueError:
                return None
            for i, o in enumerate(self.options):
                if math.isfinite(v) and abs(float(o) - v) <= 1e-9 * max(1.0, abs(v)):
                    return i
        return None

    def _parse_choice(self, s: str) -> Parsed:
        i = self._match(s)
        if i is not None:
            return Parsed(self.options[i])
        if all(_is_number(o) for o in self.options):
            try:
                v = float(s)
            except ValueError:
                v = math.nan
            if math.isfinite(v):
                lo, hi = min(self.options), max(self.options)
                if v < lo:
                    why = _("is below the smallest choice, {lo}").format(lo=_fmt_num(lo))
                elif v > hi:
                    why = _("is above the largest choice, {hi}").format(hi=_fmt_num(hi))
                else:
                    why = _("is not one of the choices")
                o = self.options[self._nearest_index(v)]
                return Parsed(o, "changed", _("{why}: the nearest, {used}, is used").format(why=why, used=self.code(o)))
        return Parsed(self.default, "bad", _("is not one of {choices}").format(choices=self._choices_text()))

    def _choices_text(self) -> str:
        shown = [safe.code(c, 20) for c in self.codes[:6]]
        more = len(self.codes) - len(shown)
        return ", ".join(shown) + (_(" … ({n} in all)").format(n=len(self.codes)) if more > 0 else "")

    def _parse_multi(self, s: str) -> Parsed:
        if s == "":
            return Parsed([])
        parts = s.split(",")
        chosen, unknown = [], []
        for part in parts:
            i = self._match(part.strip())
            if i is None:
                unknown.append(part)
            elif self.options[i] not in chosen:
                chosen.append(self.options[i])
        notes = []
        if unknown:
            shown, rest = safe.names(unknown, shown=3, limit=20)
            notes.append(_("has unknown items {names}").format(names=shown)
                         + (_(" and {n} more").format(n=rest) if rest else ""))
        if self.max_items and len(chosen) > self.max_items:
            chosen = chosen[: self.max_items]
            notes.append(_("has more than {n} items: the first {n} are used").format(n=self.max_items))
        if notes:
            return Parsed(chosen, "changed", listing(notes, ";"))
        return Parsed(chosen)

    # -- naming ---------------------------------------------------------------------------------
    def name(self, tr=None) -> str:
        """How a warning names this value: the URL key as code, and the (translated) label."""
        label = (tr or _)(self.label) if self.label else ""
        return safe.code(self.url) + (f" ({label})" if label else "")


def _codes(options: Sequence, codes: Sequence[str] | None) -> tuple[str, ...]:
    if codes is not None:
        out = tuple(str(c) for c in codes)
    else:
        out = tuple(_fmt_num(o) if _is_number(o) or isinstance(o, bool) else str(o) for o in options)
    if len(out) != len(options):
        raise ValueError("one URL code per option")
    if len(set(out)) != len(out) or len({c.casefold() for c in out}) != len(out):
        raise ValueError(f"URL codes must differ (also in case): {out}")
    return out


def Float(url: str, key: str, lo: float, hi: float, default: float, *, step: float | None = None,
          label: str = "", section: str | None = None) -> Param:
    """A real number in [lo, hi] (a slider with ``step``, or a number input without)."""
    if not lo <= default <= hi:
        raise ValueError(f"default {default} of {url!r} outside [{lo}, {hi}]")
    return Param(url, key, "float", float(default), lo=float(lo), hi=float(hi),
                 step=float(step) if step else None, label=label, section=section)


def Int(url: str, key: str, lo: int, hi: int, default: int, *, step: int = 1, label: str = "",
        section: str | None = None) -> Param:
    """A whole number in [lo, hi] on the grid lo + k·step."""
    if not lo <= default <= hi:
        raise ValueError(f"default {default} of {url!r} outside [{lo}, {hi}]")
    return Param(url, key, "int", int(default), lo=int(lo), hi=int(hi), step=int(step), label=label, section=section)


def Choice(url: str, key: str, options: Sequence, default: Any, *, codes: Sequence[str] | None = None,
           label: str = "", section: str | None = None) -> Param:
    """One of ``options`` (select box, radio, select slider, segmented control).  In the URL an
    option is its ``codes`` entry (default: the number, or the text itself)."""
    options = tuple(options)
    if default not in options:
        raise ValueError(f"default {default!r} of {url!r} is not an option")
    return Param(url, key, "choice", default, options=options, codes=_codes(options, codes), label=label,
                 section=section)


def Multi(url: str, key: str, options: Sequence, default: Sequence = (), *, codes: Sequence[str] | None = None,
          max_items: int | None = None, label: str = "", section: str | None = None) -> Param:
    """Several of ``options`` (:func:`pills`); comma-separated codes in the URL."""
    options = tuple(options)
    cs = _codes(options, codes)
    if any("," in c for c in cs):
        raise ValueError("codes of a Multi may not contain ','")
    if any(d not in options for d in default):
        raise ValueError(f"default of {url!r} has a value that is not an option")
    return Param(url, key, "multi", list(default), options=options, codes=cs, max_items=max_items, label=label,
                 section=section)


def Flag(url: str, key: str, default: bool = False, *, label: str = "", section: str | None = None) -> Param:
    """On/off (toggle, checkbox): 1 or 0 in the URL."""
    return Param(url, key, "flag", bool(default), label=label, section=section)


def Text(url: str, key: str, default: str = "", *, max_chars: int = 300, label: str = "",
         section: str | None = None) -> Param:
    """Free text of at most ``max_chars`` characters (a formula box): the page checks its content."""
    return Param(url, key, "text", str(default), max_chars=int(max_chars), label=label, section=section)


def Custom(url: str, key: str, default: Any, *, read: Callable[[str, Mapping[str, Any]], Parsed],
           write: Callable[[Any], str], max_chars: int = 2000, label: str = "", section: str | None = None) -> Param:
    """A value built from several widgets (a race of optimizers, a start point "x,y"), kept in
    ``st.session_state[key]`` (not a widget key) and in the URL as ``write(value)``.

    ``read(text, values)`` reads a link's text against the widgets' own declarations and returns a
    :class:`Parsed` whose ``notes`` name every part it clamped, rounded or left out (each one is
    a problem of the link's one warning, with the link's text shown through :mod:`optlab.ui.safe`);
    ``values`` holds what the link gave for the page's other parameters (read first), so a value
    may depend on another (the parameters of the chosen surface).  It must never raise.  The page
    draws the widgets from ``st.session_state[key]`` and stores their result with :func:`put`."""
    if not callable(read) or not callable(write):
        raise TypeError(f"{url!r}: read and write must be functions")
    write(default)
    return Param(url, key, "custom", default, max_chars=int(max_chars), label=label, section=section,
                 reader=read, writer=write)


def Section(options: Sequence[str], key: str, *, url: str = "sec", default: str | None = None,
            codes: Sequence[str] | None = None) -> Param:
    """The page's sections, shown by :func:`section` as the "Section" segmented control."""
    options = tuple(options)
    d = options[0] if default is None else default
    return Param(url, key, "choice", d, options=options, codes=_codes(options, codes), label=N_("Section"),
                 is_section=True)


# ----------------------------------------------------------------------------------------------
# A page
# ----------------------------------------------------------------------------------------------
@dataclass
class Link:
    """What a link asked for, read against a page's declaration (see :meth:`Page.read`)."""

    values: dict[str, Any]            # url key -> value, for every parameter (defaults where absent or bad)
    given: dict[str, Any] = field(default_factory=dict)   # url key -> value for the ones the link set
    problems: list[str] = field(default_factory=list)     # markdown, link text as code, one per problem
    problem_keys: set[str] = field(default_factory=set)   # url keys named in problems
    extra: dict[str, str] = field(default_factory=dict)   # lesson / step / ask / present / teacher as given

    def warning(self) -> str | None:
        """The one warning for this link (capped), or None."""
        return _warning(self.problems)


def _warning(problems: list[str]) -> str | None:
    if not problems:
        return None
    shown = problems[:MAX_SHOWN]
    rest = len(problems) - len(shown)
    if rest:
        return _("Part of this link was not used as written: {problems}").format(problems=listing(shown, ";")) \
            + sentence_gap() + ngettext("… and {n} more problem.", "… and {n} more problems.", rest).format(n=rest)
    return _("Part of this link was not used as written: {problems}.").format(problems=listing(shown, ";"))


class Page:
    """The linkable state of one page: its URL path and its parameters.

    ``path``: the page's URL path ("Adaptive_methods"; "" for the home page).  ``own_keys``: URL
    keys the page reads itself (an older decoder): never warned about nor removed here.
    ``domain``: the page's message catalogue (its chapter stem): labels, section names, questions
    and lessons are msgids translated with it where they are shown (:meth:`tr`).
    """

    def __init__(self, path: str, params: Iterable[Param], *, own_keys: Iterable[str] = (), title: str = "",
                 domain: str = "optlab"):
        self.path = path
        self.title = title
        self.domain = domain
        self.params: tuple[Param, ...] = tuple(params)
        self.own_keys = frozenset(own_keys)
        by_url: dict[str, Param] = {}
        by_key: dict[str, Param] = {}
        for p in self.params:
            if p.url in GLOBAL_KEYS or p.url in self.own_keys:
                raise ValueError(f"URL key {p.url!r} is reserved")
            if p.url in by_url:
                raise ValueError(f"URL key {p.url!r} declared twice")
            if p.key in by_key:
                raise ValueError(f"widget key {p.key!r} declared twice")
            by_url[p.url], by_key[p.key] = p, p
        self.by_url, self.by_key = by_url, by_key
        sections = [p for p in self.params if p.is_section]
        if len(sections) > 1:
            raise ValueError("one Section per page")
        self.section_param: Param | None = sections[0] if sections else None
        if self.section_param is not None:
            for p in self.params:
                if p.section is not None and p.section not in self.section_param.options:
                    raise ValueError(f"{p.url!r}: unknown section {p.section!r}")

    def __repr__(self) -> str:
        return f"Page({self.path!r}, {len(self.params)} params)"

    def tr(self, text: str) -> str:
        """``text`` (a msgid of this page's domain) in the active language."""
        return domain(self.domain)[0](text) if text else text

    # -- values ---------------------------------------------------------------------------------
    def defaults(self) -> dict[str, Any]:
        return {p.url: p.default for p in self.params}

    def current(self, state: Mapping | None = None) -> dict[str, Any]:
        """url key -> the value in session state now (the default where a widget has none)."""
        state = st.session_state if state is None else state
        out = {}
        for p in self.params:
            try:
                out[p.url] = state[p.key] if p.key in state else p.default
            except Exception:  # noqa: BLE001 - session state of a stale widget
                out[p.url] = p.default
        return out

    def in_scope(self, p: Param, section: str | None) -> bool:
        return p.section is None or section is None or p.section == section

    def query(self, values: Mapping[str, Any]) -> dict[str, str]:
        """The short URL query of ``values`` (url key -> value): non-default values of the
        parameters in scope of the section in ``values``, in declaration order."""
        sec = values.get(self.section_param.url) if self.section_param is not None else None
        out = {}
        for p in self.params:
            if p.url not in values or not self.in_scope(p, sec):
                continue
            v = p.coerce(values[p.url])
            if not p.is_default(v):
                out[p.url] = p.code(v)
        return out

    def link(self, values: Mapping[str, Any] | None = None, *, base: str = "", **extra: Any) -> str:
        """A link to this page: ``base`` (the app's address, may be "") + path + query of
        ``values`` (raw URL text or values) and ``extra`` keys (``ask=``, ``lesson=``, ``step=``)."""
        vals = self.defaults()
        if values:
            vals.update(self.read({k: str(v) if k not in self.by_url else _as_text(self.by_url[k], v)
                                   for k, v in values.items()}).given)
        q = self.query(vals)
        q.update({k: str(v) for k, v in extra.items() if v is not None})
        root = base.rstrip("/")
        path = f"{root}/{self.path}" if self.path else (root or "/")
        return path + ("?" + urlencode(q) if q else "")

    # -- reading a link -------------------------------------------------------------------------
    def knows(self, key: str) -> bool:
        return key in self.by_url or key in GLOBAL_KEYS or key in self.own_keys

    def _take(self, link: Link, key: str, p: Param, texts: list[str]) -> None:
        """Read one parameter's URL text(s) into ``link``: the value used, and what is said."""
        got = p.parse(texts[-1], link.values)
        if len(texts) > 1:
            link.problems.append(_("{name} is given {n} times: the last one, {value}, is read").format(
                name=p.name(self.tr), n=len(texts), value=safe.code(texts[-1])))
            link.problem_keys.add(key)
        if got.status != "ok" and got.notes:  # a Custom value says each of its parts (named once)
            link.problems.append(_("{name}: {problem}").format(name=p.name(self.tr), problem=got.notes[0]))
            link.problems.extend(got.notes[1:])
            link.problem_keys.add(key)
        elif got.status == "bad":
            link.problems.append(_("{name} = {value} {why}: the default, {default}, is used").format(
                name=p.name(self.tr), value=safe.code(texts[-1]), why=got.note, default=safe.code(p.code(p.default))))
            link.problem_keys.add(key)
        elif got.status == "changed":
            link.problems.append(_("{name} = {value} {why}").format(
                name=p.name(self.tr), value=safe.code(texts[-1]), why=got.note))
            link.problem_keys.add(key)
        if got.status == "bad":
            return
        link.values[key] = got.value
        link.given[key] = got.value

    def read(self, query: Mapping[str, str | Sequence[str]]) -> Link:
        """Read a link's query (``{key: text or [texts]}``) against this page.  Never raises."""
        values = self.defaults()
        link = Link(values=values)
        unknown: list[str] = []
        deferred: dict[str, list[str]] = {}
        for key, raw in query.items():
            try:
                texts = [raw] if isinstance(raw, str) else list(raw)
            except TypeError:
                texts = [str(raw)]
            key = str(key)
            if key in FOREIGN or key in self.own_keys:
                continue
            if key == TOO_LONG:
                n = str(texts[-1]) if texts else ""
                shown = f"{int(n):,}" if n.isdigit() and len(n) < 12 else safe.code(n)
                link.problems.append(_("this link had {n} settings, more than the {limit:,} a page reads: none of "
                                       "them was used").format(n=shown, limit=MAX_FIELDS))
                continue
            if key in FLAGS or key in LESSON_KEYS:
                link.extra[key] = str(texts[-1]) if texts else ""
                if len(texts) > 1:
                    link.problems.append(_("{name} is given {n} times: the last one is used").format(
                        name=safe.code(key), n=len(texts)))
                continue
            p = self.by_url.get(key)
            if p is None:
                unknown.append(key)
                continue
            if not texts:
                continue
            if p.kind == "custom":  # read after the others: it may depend on them
                deferred[key] = texts
                continue
            self._take(link, key, p, texts)
        for p in self.params:
            if p.url in deferred:
                self._take(link, p.url, p, deferred[p.url])
        for key in FLAGS:
            if key in link.extra and link.extra[key].strip().lower() not in _TRUE | _FALSE:
                link.problems.append(_("{name} = {value} is not 1 or 0: ignored").format(
                    name=safe.code(key), value=safe.code(link.extra[key])))
        # values for a section that the link does not show are not used: say so
        if self.section_param is not None:
            sec = values[self.section_param.url]
            off = [k for k in link.given if not self.in_scope(self.by_url[k], sec)]
            if off:
                shown, rest = safe.names(off, shown=3)
                link.problems.append(
                    ngettext("{names} belongs to another section than {section}: not used",
                             "{names} belong to another section than {section}: not used", len(off)).format(
                        names=shown + (_(" and {n} more").format(n=rest) if rest else ""),
                        section=safe.code(self.section_param.code(sec))))
                link.problem_keys.update(off)
                for k in off:
                    values[k] = self.by_url[k].default
                    link.given.pop(k)
        if unknown:
            shown, rest = safe.names(unknown, shown=3)
            more = _(" and {n} more").format(n=f"{rest:,}") if rest else ""
            link.problems.insert(0, ngettext("{names}{more} is not a setting of this page: ignored",
                                             "{names}{more} are not settings of this page: ignored",
                                             len(unknown)).format(names=shown, more=more))
        return link


def _as_text(p: Param, v: Any) -> str:
    """URL text for a value given either as text or as a value of the parameter."""
    if p.kind == "choice" and any(v == o and type(v) is type(o) for o in p.options):
        return p.code(v)
    if isinstance(v, str) and p.kind != "text":
        return v
    try:
        return p.code(p.coerce(v) if p.kind in ("float", "int") else v)
    except (ValueError, TypeError, IndexError):
        return str(v)


# ----------------------------------------------------------------------------------------------
# The run: read a link, write the URL
# ----------------------------------------------------------------------------------------------
def _query_lists() -> dict[str, list[str]]:
    qp = st.query_params
    out = {}
    for k in qp:
        try:
            out[k] = list(qp.get_all(k))
        except Exception:  # noqa: BLE001
            out[k] = [str(qp.get(k, ""))]
    return out


def _owned(page: Page, query: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    return {k: tuple(v) for k, v in query.items() if k in page.by_url or k in LESSON_KEYS}


def current_page() -> Page | None:
    """The Page opened by :func:`open` in this session's current run."""
    return st.session_state.get(_PAGE)


def open(page: Page, *, underlay: Callable[[Link], Mapping[str, str]] | None = None,
         show_warning: bool = True) -> Link | None:
    """Start a page's run: read a link when there is a new one, set the view flags, apply the
    presenter / embedded CSS.  Call it right after ``ui.page_config``, before any widget.

    A link is read on the page's first run in the session, on arrival from another page, when the
    URL has keys the page does not know, and when the page's keys in the URL are none of the last
    few states this mechanism wrote (a link opened, back/forward).  A URL that is merely one or two
    writes behind (the browser sent a rerun before it applied the last write) is not a new link.

    Returns the :class:`Link` when a link was read on this run (None otherwise).  ``underlay``
    (used by :mod:`optlab.ui.lessons`) is called with that link and returns URL values applied
    *under* the link's own (a lesson step's or a question's state).
    """
    ss = st.session_state
    arrival = ss.get(_LAST_OPEN) != page.path
    if arrival:
        _forget_other_pages(page)
    ss[_PAGE] = page
    ss[_LAST_OPEN] = page.path
    query = _query_lists()
    ss[_SNAP] = {k: list(v) for k, v in query.items()}
    history = ss.setdefault(_WRITTEN, {}).get(page.path)
    owned = _owned(page, query)
    unknown = any(not page.knows(k) for k in query)
    link = None
    if arrival or history is None or unknown or owned not in history:
        link = page.read(query)
        if underlay is not None:
            base = dict(underlay(link) or {})
            if base:
                under = page.read({k: v for k, v in base.items() if k in page.by_url})
                for k, v in under.given.items():
                    if k not in link.given:
                        link.values[k] = v
        for p in page.params:
            ss[p.key] = link.values[p.url]
        ss[_OPENED] = ss.get(_OPENED, 0) + 1
        ss[_WARNING] = link.warning()
        _write_query(page, page.query(link.values), drop_unknown=True)
    else:
        # Streamlit forgets the value of a widget that a run does not draw (another section is
        # shown): stored again as plain session state, it survives until its section comes back.
        for p in page.params:
            if p.key in ss:
                ss[p.key] = ss[p.key]
    _set_flags(query, link)
    _style()
    if link is not None and show_warning and link.warning():
        st.warning(link.warning(), icon=LINK_ICON)
    return link


def _forget_other_pages(page: Page) -> None:
    """On arrival at ``page``, drop the parameters of the pages this session left.  Arrival reads
    every parameter of a page from its link anyway, so they held nothing a student could come back
    to; kept, they made every widget slower: Streamlit's number inputs and select boxes copy the
    whole session state on every run (``filtered_state``), 0.7 ms each with the 236 keys of all
    seven chapters, against a page's own 20-50."""
    ss = st.session_state
    kept = ss.setdefault(_KEYS, {})
    mine = {p.key for p in page.params}
    for path in [path for path in kept if path != page.path]:
        for key in kept.pop(path):
            if key not in mine and key in ss:
                del ss[key]
    kept[page.path] = sorted(mine)


def last_warning() -> str | None:
    """The warning of the last link read in this session (None if it had no problem)."""
    return st.session_state.get(_WARNING)


def _write_query(page: Page, target: Mapping[str, str], *, drop_unknown: bool = False) -> None:
    """Make the page's own keys of the URL equal to ``target`` (other keys untouched, unknown
    ones dropped when asked); one message to the browser at most."""
    qp = st.query_params
    current = _query_lists()
    remove = [k for k in current if (k in page.by_url and k not in target)
              or (drop_unknown and (not page.knows(k) or k == TOO_LONG))]
    update = {k: v for k, v in target.items() if current.get(k) != [v]}
    if remove or update:
        if remove and not update and len(remove) == 1:
            del qp[remove[0]]
        else:
            keep = {k: (v if len(v) > 1 else v[0]) for k, v in current.items() if k not in remove}
            keep.update(update)
            qp.from_dict(keep)
        current = {k: v for k, v in current.items() if k not in remove}
        current.update({k: [v] for k, v in update.items()})
    st.session_state[_SNAP] = current
    _remember(page)


def _remember(page: Page) -> None:
    """Note the page's keys of the URL as written by this mechanism (the last few states)."""
    history = st.session_state.setdefault(_WRITTEN, {}).setdefault(page.path, [])
    now = _owned(page, _snapshot())
    if not history or history[-1] != now:
        history.append(now)
        del history[:-_HISTORY]


def _snapshot() -> dict[str, list[str]]:
    snap = st.session_state.get(_SNAP)
    if snap is None:
        snap = st.session_state[_SNAP] = _query_lists()
    return snap


def _set_one(key: str, value: str | None) -> bool:
    """Make ``key`` of the URL ``value`` (None: absent) if it is not already; True if written."""
    snap = _snapshot()
    have = snap.get(key, [])
    if value is None:
        if not have:
            return False
        snap.pop(key, None)
        if key in st.query_params:
            del st.query_params[key]
        return True
    if have == [value]:
        return False
    snap[key] = [value]
    st.query_params[key] = value
    return True


def set_url(key: str, value: str | None) -> None:
    """Set (or with None remove) one global key of the URL (``lesson``, ``step``, ``ask``…) and
    remember it as written, so it is not taken for a new link on the next run."""
    if _set_one(key, value):
        page = current_page()
        if page is not None:
            _remember(page)


def _after_widget(p: Param, value: Any) -> None:
    """Write a widget's value to the URL (only when it differs from what is there)."""
    page = current_page()
    if page is None or p.url not in page.by_url:
        return
    sec = None
    if page.section_param is not None and not p.is_section and p.section is not None:
        sec = st.session_state.get(page.section_param.key, page.section_param.default)
    want = None if (p.is_default(value) or not page.in_scope(p, sec)) else p.code(value)
    if _set_one(p.url, want):
        _remember(page)


def _prepare(p: Param) -> None:
    """Give the widget a valid value in session state before it is created."""
    ss = st.session_state
    if p.key not in ss:
        ss[p.key] = p.default
        return
    v = ss[p.key]
    good = p.coerce(v)
    if p.kind == "multi":
        if list(v or ()) != good:
            ss[p.key] = good
    elif good != v or type(good) is not type(v) and not (_is_number(good) and _is_number(v)):
        ss[p.key] = good


def put(p: Param, value: Any) -> Any:
    """Store the value of a parameter that no single widget holds (a :func:`Custom` value the page
    builds from its widgets) and write it to the URL, as a widget function does for its own."""
    value = p.coerce(value)
    st.session_state[p.key] = value
    _after_widget(p, value)
    return value


def set_values(page: Page, values: Mapping[str, Any], state=None, *, reset: bool = True) -> None:
    """Write URL values (text or values) into session state, e.g. in an ``on_click`` callback:
    every other parameter goes back to its default when ``reset`` (what opening the same link does)."""
    state = st.session_state if state is None else state
    link = page.read({k: _as_text(page.by_url[k], v) for k, v in values.items() if k in page.by_url})
    for p in page.params:
        if p.url in link.given:
            state[p.key] = link.given[p.url]
        elif reset:
            state[p.key] = p.default


# ----------------------------------------------------------------------------------------------
# Widgets built from declarations (each one: label from the declaration unless given; extra
# keyword arguments go to the Streamlit widget)
# ----------------------------------------------------------------------------------------------
def _label(p: Param, label: str | None) -> str:
    if label is not None:
        return label
    page = current_page()
    return (page.tr(p.label) if page is not None else _(p.label)) if p.label else p.url


def _format_options(p: Param, kw: dict) -> None:
    """Text options are msgids: shown translated (their values, the URL codes and the widget
    state stay the English ids)."""
    if "format_func" not in kw and all(isinstance(o, str) for o in p.options):
        page = current_page()
        kw["format_func"] = page.tr if page is not None else _


def slider(p: Param, label: str | None = None, *, lo: float | None = None, hi: float | None = None, **kw):
    """``st.slider`` over ``[p.lo, p.hi]`` with ``p.step``.

    ``lo``/``hi`` narrow the range for this run (a range that depends on another value: the
    iterates of a run, a function's window); the value is clamped into it first.  Links are still
    read against the declared range, so the page says when it clamped a link's value."""
    if p.kind not in ("float", "int"):
        raise TypeError(f"{p.url!r} is not a number")
    _prepare(p)
    a = max(p.lo, lo) if lo is not None else p.lo
    b = min(p.hi, hi) if hi is not None else p.hi
    b = max(a, b)
    v0 = st.session_state[p.key]
    if v0 < a or v0 > b:
        v1 = min(max(v0, a), b)
        st.session_state[p.key] = int(v1) if p.kind == "int" else float(v1)
    if p.kind == "int":
        v = st.slider(_label(p, label), min_value=int(a), max_value=int(b), step=int(p.step or 1), key=p.key, **kw)
    else:
        v = st.slider(_label(p, label), min_value=float(a), max_value=float(b), step=p.step, key=p.key, **kw)
    _after_widget(p, v)
    return v


def number_input(p: Param, label: str | None = None, **kw):
    """``st.number_input`` bounded by ``[p.lo, p.hi]``."""
    if p.kind not in ("float", "int"):
        raise TypeError(f"{p.url!r} is not a number")
    _prepare(p)
    if p.kind == "int":
        v = st.number_input(_label(p, label), min_value=int(p.lo), max_value=int(p.hi), step=int(p.step or 1),
                            key=p.key, **kw)
    else:
        kw.setdefault("format", "%g")
        step = kw.pop("step", p.step if p.step else None)  # the +/− increment, when the value has no grid
        v = st.number_input(_label(p, label), min_value=float(p.lo), max_value=float(p.hi),
                            step=step, key=p.key, **kw)
    _after_widget(p, v)
    return v


def _choice_widget(fn, p: Param, label, **kw):
    if p.kind != "choice":
        raise TypeError(f"{p.url!r} is not a Choice")
    _prepare(p)
    _format_options(p, kw)
    v = fn(_label(p, label), p.options, key=p.key, **kw)
    _after_widget(p, v)
    return v


def select_slider(p: Param, label: str | None = None, **kw):
    """``st.select_slider`` over ``p.options``."""
    _format_options(p, kw)
    kw.setdefault("format_func", lambda v: f"{v:g}" if _is_number(v) else str(v))
    _prepare(p)
    v = st.select_slider(_label(p, label), options=p.options, key=p.key, **kw)
    _after_widget(p, v)
    return v


# Columns of text a select box shows whole in a control column at 1024 px (about 150 px)
SELECT_FITS = 16


def selectbox(p: Param, label: str | None = None, **kw):
    """``st.selectbox`` over ``p.options``.

    The box shows its option in one line of an input, cut at the box's edge ("bmi (body mass
    index" at 1024 px).  When an option's label is longer than :data:`SELECT_FITS` columns and
    every label is "name (detail)" with names that tell the options apart, the box and its list
    show the names and the chosen option's detail is the caption under the box."""
    _format_options(p, kw)
    fmt = kw.get("format_func", str)
    full = {o: str(fmt(o)) for o in p.options}
    parts = {o: name_and_detail(t) for o, t in full.items()}
    names = [n for n, _d in parts.values()]
    if max(map(text_width, full.values()), default=0) <= SELECT_FITS or len(set(names)) < len(names):
        return _choice_widget(st.selectbox, p, label, **kw)
    kw["format_func"] = lambda o: parts[o][0] if o in parts else str(fmt(o))
    v = _choice_widget(st.selectbox, p, label, **kw)
    detail = parts.get(v, ("", ""))[1]
    if detail:
        st.caption(safe.plain(detail, limit=None))
    return v


def radio(p: Param, label: str | None = None, **kw):
    """``st.radio`` over ``p.options``."""
    return _choice_widget(st.radio, p, label, **kw)


def segmented_control(p: Param, label: str | None = None, **kw):
    """``st.segmented_control`` over ``p.options`` (one always selected)."""
    kw.setdefault("required", True)
    return _choice_widget(st.segmented_control, p, label, **kw)


def pills(p: Param, label: str | None = None, **kw):
    """``st.pills`` over ``p.options``, several at once (a :func:`Multi`): every option stays in view
    and the pills wrap at any width.  (A multiselect in a narrow column showed two of its chosen
    chips and scrolled the rest out of sight, "RMSP…" cut, at 1024 px.)  At most ``p.max_items``:
    a click that would choose one more is undone, and the page says which option was not added."""
    if p.kind != "multi":
        raise TypeError(f"{p.url!r} is not a Multi")
    _prepare(p)
    _format_options(p, kw)
    ss, prev_key, refused_key = st.session_state, f"_{p.key}__prev", f"_{p.key}__refused"
    ss[prev_key] = list(ss[p.key])

    def cap():
        new = list(ss[p.key] or [])
        if p.max_items and len(new) > p.max_items:
            prev = ss.get(prev_key, [])
            ss[refused_key] = [o for o in new if o not in prev]
            ss[p.key] = [o for o in new if o in prev][: p.max_items]

    v = st.pills(_label(p, label), p.options, selection_mode="multi", key=p.key, on_change=cap, **kw)
    refused = ss.pop(refused_key, None)
    if refused:
        fmt = kw.get("format_func", str)
        st.caption(ngettext("At most {n} at once: {names} was not added. Deselect one first.",
                            "At most {n} at once: {names} were not added. Deselect one first.", len(refused)).format(
            n=p.max_items, names=listing(str(fmt(o)) for o in refused)))
    v = list(v or [])
    _after_widget(p, v)
    return v


def toggle(p: Param, label: str | None = None, **kw) -> bool:
    """``st.toggle``."""
    _prepare(p)
    v = st.toggle(_label(p, label), key=p.key, **kw)
    _after_widget(p, bool(v))
    return bool(v)


def checkbox(p: Param, label: str | None = None, **kw) -> bool:
    """``st.checkbox``."""
    _prepare(p)
    v = st.checkbox(_label(p, label), key=p.key, **kw)
    _after_widget(p, bool(v))
    return bool(v)


def text_input(p: Param, label: str | None = None, **kw) -> str:
    """``st.text_input`` limited to ``p.max_chars``."""
    _prepare(p)
    kw.setdefault("max_chars", p.max_chars)
    v = st.text_input(_label(p, label), key=p.key, **kw)
    _after_widget(p, v)
    return v


def section(p: Param, label: str | None = None, **kw) -> str:
    """The page's "Section" control (a segmented control, one section always selected), kept in
    the URL as ``sec``; values of the other sections leave the URL."""
    if not p.is_section:
        raise TypeError(f"{p.url!r} is not a Section")
    kw.setdefault("required", True)
    if presenting():
        kw.setdefault("label_visibility", "collapsed")
    v = _choice_widget(st.segmented_control, p, label, **kw)
    page = current_page()
    if page is not None:
        snap = _snapshot()
        stale = [q.url for q in page.params if q.section is not None and q.section != v and q.url in snap]
        if stale:
            _write_query(page, {k: vv[-1] for k, vv in _query_lists().items() if k in page.by_url and k not in stale})
    return v


# ----------------------------------------------------------------------------------------------
# Views: presenter, teacher, embedded
# ----------------------------------------------------------------------------------------------
def _set_flags(query: Mapping[str, Sequence[str]], link: Link | None) -> None:
    """present / teacher: a link sets them (=1 on, =0 off); they stay for the session and are put
    back into the URL after a page change (Streamlit clears the query on navigation)."""
    ss = st.session_state
    flags = ss.setdefault(_FLAG_STATE, {"present": False, "teacher": False})
    for key in FLAGS:
        if key in query and query[key]:
            raw = str(query[key][-1]).strip().lower()
            if raw in _TRUE:
                flags[key] = True
            elif raw in _FALSE:
                flags[key] = False
        want = "1" if flags[key] else None
        have = query.get(key)
        if want is None and have is not None or want is not None and have != [want]:
            set_url(key, want)


def set_flag(key: str, on: bool) -> None:
    """Turn presenter / teacher mode on or off for this session (e.g. from a button callback)."""
    if key not in FLAGS:
        raise ValueError(key)
    st.session_state.setdefault(_FLAG_STATE, {"present": False, "teacher": False})[key] = bool(on)


def _flag(key: str) -> bool:
    # The URL decides when it names the flag (so the page header, drawn before open(), already
    # knows); otherwise the session remembers it.
    try:
        got = _snapshot().get(key)
        raw = got[-1] if got else None
    except Exception:  # noqa: BLE001 - no script run context
        raw = None
    if raw is not None:
        r = str(raw).strip().lower()
        if r in _TRUE:
            return True
        if r in _FALSE:
            return False
    return bool(st.session_state.get(_FLAG_STATE, {}).get(key))


def presenting() -> bool:
    """Presenter mode (``?present=1``): chart first, larger text, no sidebar nor chrome."""
    return _flag("present")


def teaching() -> bool:
    """Teacher mode (``?teacher=1``): answers and "What to look for" shown up front, worksheets."""
    return _flag("teacher")


def embedded() -> bool:
    """The page is in an iframe with ``?embed=true`` (Streamlit's own flag)."""
    try:
        return bool(st.context.is_embedded)
    except Exception:  # noqa: BLE001 - older Streamlit or no browser context
        return False


def compact() -> bool:
    """Presenter mode or embedded: the page header drops its introduction."""
    return presenting() or embedded()


def chart_height(normal: int, present: int | None = None) -> int:
    """A chart's height: ``normal``, or in presenter mode ``present`` (default: 430 px, what fits
    beside the header in a 1024×768 screen at 1.3× text)."""
    if presenting():
        return int(present if present is not None else min(normal, 430))
    return int(normal)


def chart_first_columns(spec=(1, 2.3), *, present=None, **kw):
    """``(controls, chart)`` columns with widths ``spec``: controls on the left normally; in
    presenter mode the chart comes first (left) and the controls sit to its right, with widths
    ``present`` (default ``spec``)."""
    if presenting():
        c, g = present or spec
        chart, controls = st.columns([g, c], **kw)
    else:
        controls, chart = st.columns(list(spec), **kw)
    return controls, chart


# One style sheet per view; st.html with only <style> takes no room in the page.
_PRESENT_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"],
[data-testid="stSidebarNav"] { display: none !important; }
html { font-size: 130%; }
[data-testid="stMainBlockContainer"] { padding: 0.6rem 1.2rem 1rem 1.2rem !important; max-width: 100% !important; }
[data-testid="stMain"] h1 { font-size: 1.6rem; padding: 0.2rem 0 0.3rem 0; }
[data-testid="stMain"] h2 { font-size: 1.3rem; padding: 0.2rem 0; }
[data-testid="stMain"] h3 { font-size: 1.1rem; padding: 0.15rem 0; }
[data-testid="stVerticalBlock"] { gap: 0.55rem; }
[data-testid="stCaptionContainer"] { font-size: 0.85rem; }
</style>
"""
# Embedded (?embed=true, in an LMS page or slides): Streamlit hides its header; the iframe is narrow,
# so the sidebar (navigation, language, sidebar experiments) goes too and the page is tighter.
_EMBED_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"]
{ display: none !important; }
[data-testid="stMainBlockContainer"] { padding: 0.5rem 1rem 1rem 1rem !important; max-width: 100% !important; }
[data-testid="stMain"] h1 { font-size: 1.5rem; padding: 0.2rem 0 0.3rem 0; }
[data-testid="stMain"] h2 { font-size: 1.25rem; }
</style>
"""


# Streamlit drops a query string of more than 1,000 fields or 512 KiB before the script sees it,
# without a word to the user.  This script (it runs in the page, not in an iframe) reads the address
# the tab was opened with (the navigation entry: Streamlit may have rewritten location already) and,
# when it is over those limits, reopens the page with a short marker instead, so the page can say
# what happened.  Sent once per session (a reopened page is a new session with a short address).
_GUARD_JS = """
<script>
(function () {
  var nav = (performance.getEntriesByType && performance.getEntriesByType('navigation')[0]) || null;
  var href = nav && nav.name ? nav.name : window.location.href;
  var i = href.indexOf('?');
  if (i < 0) { return; }
  var q = href.slice(i + 1).split('#')[0];
  var fields = q.split('&').length;
  if (fields > %d || q.length > %d) {
    window.location.replace(window.location.pathname + '?%s=' + fields);
  }
})();
</script>
""" % (MAX_FIELDS, MAX_QUERY_CHARS, TOO_LONG)
_GUARDED = "_optlab_link_guard"

# plotly.js#6492 (open): a legend above or under the plot that wrapped onto more rows at one width
# keeps its place when the chart gets wider (the window widens, the sidebar closes) while the plot
# moves up to the smaller margin, so the legend covers the top of the plot.  Re-setting the
# legend's own y makes plotly.js place it again.  Each chart is watched for a change of width (a
# ResizeObserver, attached to every chart as it appears); 400 ms after the last change the legends
# outside the plot are placed again.  Sent once per session: the observers stay with the page.
_LEGEND_JS = """
<script>
(function () {
  if (window.__optlabLegends) { return; }
  window.__optlabLegends = true;
  var seen = new WeakSet(), timers = new WeakMap(), widths = new WeakMap();
  function place(gd) {
    var L = gd._fullLayout && gd._fullLayout.legend;
    if (!window.Plotly || !L || !gd._fullLayout.showlegend || L.yref === 'container') { return; }
    if (L.y > 1 || L.y < 0) { window.Plotly.relayout(gd, {'legend.y': L.y}); }
  }
  var watch = new ResizeObserver(function (entries) {
    entries.forEach(function (e) {
      var gd = e.target, w = Math.round(e.contentRect.width);
      if (widths.get(gd) === w) { return; }
      var first = !widths.has(gd);
      widths.set(gd, w);
      if (first) { return; }
      clearTimeout(timers.get(gd));
      timers.set(gd, setTimeout(function () { place(gd); }, 400));
    });
  });
  function attach() {
    document.querySelectorAll('.js-plotly-plot').forEach(function (gd) {
      if (!seen.has(gd)) { seen.add(gd); watch.observe(gd); }
    });
  }
  new MutationObserver(attach).observe(document.body, {childList: true, subtree: true});
  attach();
})();
</script>
"""


def _style() -> None:
    if presenting():
        st.html(_PRESENT_CSS)
    elif embedded():
        st.html(_EMBED_CSS)
    if not st.session_state.get(_GUARDED):  # the session's first page run
        st.session_state[_GUARDED] = True
        st.html(_GUARD_JS + _LEGEND_JS, unsafe_allow_javascript=True)


# ----------------------------------------------------------------------------------------------
# Copy link
# ----------------------------------------------------------------------------------------------
def base_url() -> str:
    """The app's address as the browser sees it (``st.context.url`` without the page), or ""
    outside a browser (AppTest)."""
    try:
        url = st.context.url
    except Exception:  # noqa: BLE001
        url = None
    url = (url or "").split("?")[0].rstrip("/")
    page = current_page()
    if page is not None and page.path and url.endswith("/" + page.path):
        url = url[: -len(page.path) - 1]  # Streamlit trims the page path; be sure of it
    return url


def page_link(page: Page | None = None, *, extra: Mapping[str, str] | None = None,
              base: str | None = None) -> str:
    """The full address of the page's current state (without view flags)."""
    page = page or current_page()
    if page is None:
        return ""
    q = page.query(page.current())
    for k in LESSON_KEYS:
        if k in st.query_params:
            q[k] = st.query_params[k]
    if LANG in st.query_params:
        q[LANG] = st.query_params[LANG]
    q.update(extra or {})
    root = base_url() if base is None else base
    path = f"{root}/{page.path}" if page.path else (root or "/")
    return path + ("?" + urlencode(q) if q else "")


def copy_link(label: str | None = None, *, key: str = "optlab_copy_link", help: str | None = None) -> str:
    """A "Copy link" popover holding the address of this state (``st.code`` has a copy button);
    returns the address."""
    url = page_link()
    with st.popover(label or _("🔗 Copy link"), help=help or _("The address of exactly this state: paste it in "
                                                                "slides, a message or a worksheet.")):
        st.code(url, language=None, wrap_lines=True)
        st.caption(_("Whoever opens it sees this page with these settings."))
    return url
