r"""The language of a Streamlit session, the language selector, the translated sidebar navigation,
and caches whose results contain text.

How the language flows (see also ``optlab/i18n.py`` and ``docs/i18n.md``):

* **URL → session**: on a session's first run the language comes from ``?lang=zh`` / ``?lang=en``,
  else from the browser (``st.context.locale``), else English.  It is then kept in
  ``st.session_state[LANG_KEY]`` (not a widget key, so it survives page switches).
* **session → URL**: every run writes ``?lang=…`` back, and the sidebar's page links carry it, so
  the address in the bar always opens the page in the language on screen.
* **session → run**: :func:`setup` (called by ``ui.page_config`` at the top of every page) activates
  the language for the run (a ContextVar, fast).  A ``st.fragment`` rerun or a widget callback runs
  in a new thread without it; there :func:`optlab.i18n.current` asks :func:`session_language`
  (this module, when loaded), which reads the same session state.
* **selector → session**: the selector's ``on_change`` callback writes the new language to the
  session and the URL; the rerun that follows draws the page in it.  Widgets keep their values:
  Streamlit identifies a keyed widget by its key, not by its (translated) label.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, NamedTuple

import streamlit as st
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from .. import i18n
from ..i18n import LANGUAGES, NAMES, negotiate

_, N_, ngettext = i18n.domain("optlab")

LANG_KEY = "optlab_lang"             # the session's language ("en" / "zh"); not a widget key
SELECTOR_KEY = "optlab_lang_choice"  # the selector widget's key
QUERY_KEY = "lang"                   # ?lang=zh
#: query parameters the sidebar's page links carry to the next page (another feature may add its own)
CARRIED_QUERY_PARAMS: tuple[str, ...] = (QUERY_KEY,)


# ----------------------------------------------------------------------------------------------
# The session's language
# ----------------------------------------------------------------------------------------------
def _requested() -> tuple[str | None, str | None]:
    """(language asked for by the URL or the browser, the URL's value if it was not understood)."""
    raw = st.query_params.get(QUERY_KEY)
    code = negotiate(raw)
    if code is not None:
        return code, None
    bad = raw if raw not in (None, "") else None
    return negotiate(st.context.locale), bad


def session_language() -> str | None:
    """The language of the Streamlit session running this thread (None outside a session).

    :func:`optlab.i18n.current` asks it where :func:`setup` has not run in this thread (fragment
    reruns, callbacks, and the arguments of ``page_config`` on a first run).
    """
    # no import here: every translation outside an activated context comes through this function
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None:
        return None
    try:
        code = ctx.session_state[LANG_KEY]
    except KeyError:
        code = None
    if code in LANGUAGES:
        return code
    return _requested()[0]



def _write_url(code: str) -> None:
    if st.query_params.get(QUERY_KEY) != code:
        st.query_params[QUERY_KEY] = code


def setup() -> str:
    """Decide this run's language (session, else URL, else browser, else English), keep it in the
    session and the URL, activate it for the run, and return it.  ``ui.page_config`` calls it."""
    code = st.session_state.get(LANG_KEY)
    bad = None
    if code not in LANGUAGES:
        requested, bad = _requested()
        code = requested or i18n.DEFAULT
        st.session_state[LANG_KEY] = code
    i18n.activate(code)
    _write_url(code)
    if bad is not None:
        # link text is never rendered as markdown: shown as code, cut to a sane length
        shown = str(bad)[:24].replace("`", "'")
        st.sidebar.warning(_("The link asks for language `{value}`, which OptLab does not have; "
                             "showing {language}.").format(value=shown, language=NAMES[code]), icon="🌐")
    return code


def set_language(code: str) -> None:
    """Switch the session to ``code`` (for a callback or a test); the next run draws in it."""
    code = negotiate(code)
    if code is None:
        raise ValueError(f"unsupported language; choose one of: {', '.join(LANGUAGES)}")
    st.session_state[LANG_KEY] = code
    st.query_params[QUERY_KEY] = code
    i18n.activate(code)


def _on_select() -> None:
    choice = st.session_state.get(SELECTOR_KEY)
    if choice in LANGUAGES:
        set_language(choice)


def language_selector() -> str:
    """The English | 中文 switch at the top of the sidebar (each language named in itself)."""
    code = i18n.current()
    st.session_state[SELECTOR_KEY] = code  # the session's language, whatever page set it
    st.sidebar.segmented_control(
        "🌐 " + _("Language"), LANGUAGES, format_func=NAMES.__getitem__, key=SELECTOR_KEY, required=True,
        on_change=_on_select, label_visibility="collapsed", width="stretch")
    return code


# ----------------------------------------------------------------------------------------------
# Translated sidebar navigation (client.showSidebarNavigation = false in .streamlit/config.toml)
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PageEntry:
    """A page of the sidebar: Streamlit's page name (the URL path, "" for the home page), its
    title (an ``N_`` msgid, translated when drawn) and its icon."""

    name: str
    title: str
    icon: str


#: every page in sidebar order, by Streamlit's page name (file number and order may change)
PAGES: tuple[PageEntry, ...] = (
    PageEntry("", N_("Home"), "🏠"),
    PageEntry("Loss_functions", N_("Loss functions"), "🎯"),
    PageEntry("Gradient_descent", N_("Gradient descent"), "⛰️"),
    PageEntry("Newton_method", N_("Newton's method"), "📐"),
    PageEntry("Adaptive_methods", N_("Adaptive methods"), "⚙️"),
    PageEntry("Overfitting_and_gradients", N_("Overfitting and gradients"), "📈"),
    PageEntry("Challenges_ahead", N_("Challenges ahead"), "🧭"),
    PageEntry("Optimizer_arena", N_("Optimizer arena"), "🏁"),
)


_PAGE_FILE = re.compile(r"([0-9]*)[_ -]*(.*)\.py")


@functools.lru_cache(maxsize=4)
def page_files(app_dir: str) -> tuple[tuple[str, str], ...]:
    """``((page name, file relative to app_dir), …)``: app.py, then pages/*.py in Streamlit's order."""
    from streamlit.source_util import page_icon_and_name

    root = Path(app_dir)
    out = [("", "app.py")] if (root / "app.py").is_file() else []
    found = []
    for p in (root / "pages").glob("*.py"):
        if p.name.startswith(".") or p.name == "__init__.py":
            continue
        m = _PAGE_FILE.fullmatch(p.name)
        number = float(m.group(1)) if m and m.group(1) else float("inf")
        found.append((number, p.name.lower(), page_icon_and_name(p)[1], f"pages/{p.name}"))
    out += [(name, rel) for _n, _l, name, rel in sorted(found)]
    return tuple(out)


class NavEntry(NamedTuple):
    name: str    # Streamlit's page name ("" for the home page)
    file: str    # "app.py", "pages/3_Newton_method.py"
    title: str   # msgid: translate with _() where it is drawn
    icon: str


def navigation_entries(app_dir: str | Path) -> list[NavEntry]:
    """The pages that exist, in :data:`PAGES` order; a page file that :data:`PAGES` does not list
    yet comes last under its file name."""
    files = dict(page_files(str(app_dir)))
    out, seen = [], set()
    for entry in PAGES:
        if entry.name in files:
            out.append(NavEntry(entry.name, files[entry.name], entry.title, entry.icon))
            seen.add(entry.name)
    for name, rel in page_files(str(app_dir)):
        if name not in seen:
            out.append(NavEntry(name, rel, name.replace("_", " "), "📄"))
    return out


def _app_dir() -> Path:
    ctx = get_script_run_ctx(suppress_warning=True)
    return Path(ctx.main_script_path).resolve().parent if ctx else Path.cwd()


def carried_query_params() -> dict[str, str]:
    """The query parameters a page link keeps (the language, always)."""
    out = {k: st.query_params[k] for k in CARRIED_QUERY_PARAMS if k in st.query_params}
    out[QUERY_KEY] = i18n.current()
    return out


def with_language(query: dict[str, str]) -> dict[str, str]:
    """``query`` plus ``lang`` (and :data:`CARRIED_QUERY_PARAMS`): pass it to
    ``st.query_params.from_dict`` when a page writes its whole query string, so the address keeps
    the language (a link copied from it opens in the same language)."""
    return {**query, **carried_query_params()}


def page_link(file: str, title: str, icon: str | None = None, **kwargs) -> None:
    """``st.page_link`` that keeps the language (and :data:`CARRIED_QUERY_PARAMS`) in the URL."""
    st.page_link(file, label=title, icon=icon, query_params=carried_query_params(), **kwargs)


def sidebar_navigation() -> None:
    """The sidebar's page links with translated titles (Streamlit's own list is switched off)."""
    entries = navigation_entries(_app_dir())
    if len(entries) < 2:  # a one-page app has nowhere to go (and Streamlit cannot link its only page)
        return
    params = carried_query_params()
    with st.sidebar:
        for entry in entries:
            st.page_link(entry.file, label=_(entry.title), icon=entry.icon, query_params=params)
        st.divider()


# ----------------------------------------------------------------------------------------------
# Caches whose results contain text
# ----------------------------------------------------------------------------------------------
_LANG_ARG = "optlab_language"


def _language_keyed(func: Callable | None, make: Callable[[Callable, Any], Callable], show_spinner: Any):
    def decorate(f: Callable) -> Callable:
        @functools.wraps(f)  # Streamlit reads the source and the parameter names through __wrapped__
        def keyed(*args, optlab_language: str, **kw):
            return f(*args, **kw)

        if callable(show_spinner):
            # A spinner text in each language: one Streamlit wrapper per language, built now, all on
            # the same function (so the same cache storage; the language is in the key anyway).
            by_language = {}
            for code in LANGUAGES:
                with i18n.using(code):
                    by_language[code] = make(keyed, show_spinner())
            cached = by_language[i18n.DEFAULT]

            @functools.wraps(f)
            def call(*args, **kw):
                code = i18n.current()
                return by_language[code](*args, optlab_language=code, **kw)

            call.by_language = by_language
        else:
            cached = make(keyed, show_spinner)

            @functools.wraps(f)
            def call(*args, **kw):
                return cached(*args, optlab_language=i18n.current(), **kw)

        call.clear = cached.clear
        call.cached = cached
        call._info = cached._info  # the cache's bound, for tests/test_cache_bounds.py
        return call

    return decorate(func) if func is not None else decorate


def cache_data(func: Callable | None = None, *, max_entries: int, show_spinner: Any = True, **kwargs) -> Callable:
    """``st.cache_data`` with the active language in the key: use it for a function whose result
    holds text (a figure with titles, a table with headers, a caption, a run with its messages).

    ``@ui.cache_data(max_entries=64, show_spinner=False)``; ``f.clear()`` empties it.  Results that
    are numbers only can stay on ``st.cache_data`` (shared by both languages).  The language is a
    keyword argument of the cached call, so ``_``-prefixed parameters keep their meaning.  A spinner
    text is a callable, so it is translated: ``show_spinner=lambda: _("Training the network…")``.
    """
    return _language_keyed(func, lambda f, spinner: st.cache_data(max_entries=max_entries, show_spinner=spinner,
                                                                  **kwargs)(f), show_spinner)


def cache_resource(func: Callable | None = None, *, max_entries: int, show_spinner: Any = True,
                   **kwargs) -> Callable:
    """``st.cache_resource`` with the active language in the key (a shared object holding text)."""
    return _language_keyed(func, lambda f, spinner: st.cache_resource(max_entries=max_entries, show_spinner=spinner,
                                                                      **kwargs)(f), show_spinner)
