r"""Languages of OptLab's text: English (the msgids) and Simplified Chinese (gettext catalogs).

Every module that shows text binds its gettext domain once, at the top::

    from optlab.i18n import domain            # (inside optlab: from ..i18n import domain)
    _, N_, ngettext = domain("newton")         # a chapter stem, or "optlab" for shared text

    TITLE = N_("Newton's method")              # module level: only marked, translated when shown
    st.title(_(TITLE))                         # at display time
    msg = _("{name} diverged at step {k}").format(name=label, k=k)   # named fields, never f-strings
    ngettext("{n} run diverged", "{n} runs diverged", n).format(n=n)  # plural forms

Look-up order for a message: the domain's catalog, then the shared "optlab" catalog, then the
English msgid itself, so a string that has no translation yet shows in English instead of failing.

Catalogs: ``locales/zh_CN/LC_MESSAGES/<domain>.po`` (edited by people, updated by
``tools/i18n.py``) and the compiled ``.mo`` next to it (committed; ``tools/i18n.py check`` and
``tests/test_i18n_catalogs.py`` fail when one is out of date).  English needs no catalog.

Which language is active is decided per script run, never stored in a module global:

1. :func:`activate` / :func:`using` set a :class:`contextvars.ContextVar` (per thread / task). The
   Streamlit UI sets it at the top of every page run; a notebook or a test can set it too.
2. When it is not set in the running context (a ``st.fragment`` rerun or a widget callback runs in
   a fresh Streamlit thread), the Streamlit side (``optlab.ui.i18n.session_language``, if
   ``optlab.ui`` is loaded) is asked for the running session's language, and :func:`current` keeps
   the answer in the context for the next look-ups.
3. Otherwise English.

This module imports only the standard library (gettext), so ``import optlab`` stays NumPy-only.
"""
from __future__ import annotations

import contextlib
import functools
import gettext
import sys
import unicodedata
from contextvars import ContextVar
from pathlib import Path
from typing import Callable, Iterable, Iterator

__all__ = ["LANGUAGES", "DEFAULT", "NAMES", "LOCALE_DIR", "CATALOG_LOCALES", "SHARED_DOMAIN", "activate",
           "current", "using", "deactivate", "bind_language", "negotiate", "domain", "Domain", "translations",
           "sentence_gap", "sentences", "listing"]

LANGUAGES = ("en", "zh")
DEFAULT = "en"
#: the name of each language in itself (what the language selector shows)
NAMES = {"en": "English", "zh": "中文"}
#: gettext locale folder of each language that has catalogs (English is the msgid)
CATALOG_LOCALES = {"zh": "zh_CN"}
SHARED_DOMAIN = "optlab"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locales"

_LANG: ContextVar[str | None] = ContextVar("optlab_language", default=None)
_SESSION_SIDE = "optlab.ui.i18n"  # answers for the running Streamlit session, when it is loaded

# ----------------------------------------------------------------------------------------------
# The active language
# ----------------------------------------------------------------------------------------------
def negotiate(tag: object, default: str | None = None) -> str | None:
    """The supported language for a language tag, else ``default``.

    ``"zh"``, ``"zh-CN"``, ``"zh_Hans"``, ``"zh-TW"`` → ``"zh"``; ``"en-US"`` → ``"en"``;
    ``"fr"``, ``None``, ``""`` → ``default``.  (Traditional Chinese readers get Simplified rather
    than English: closer to what they asked for.)
    """
    if not isinstance(tag, str):
        return default
    primary = tag.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in LANGUAGES else default


def activate(lang: str) -> str:
    """Make ``lang`` (a tag :func:`negotiate` understands) the language of the running context.

    Returns the language code.  Raises ``ValueError`` for a language OptLab does not have.
    Prefer :func:`using` outside Streamlit: it restores the previous language.
    """
    code = negotiate(lang)
    if code is None:
        raise ValueError(f"unsupported language {lang!r}; choose one of: {', '.join(LANGUAGES)}")
    _LANG.set(code)
    return code


def deactivate() -> None:
    """Forget the language set in this context (the session, or English, decides again)."""
    _LANG.set(None)


@contextlib.contextmanager
def using(lang: str) -> Iterator[str]:
    """``with using("zh"): …`` — the language inside the block, the previous one after it."""
    code = negotiate(lang)
    if code is None:
        raise ValueError(f"unsupported language {lang!r}; choose one of: {', '.join(LANGUAGES)}")
    token = _LANG.set(code)
    try:
        yield code
    finally:
        _LANG.reset(token)


def current() -> str:
    """The active language code: the context's (:func:`activate`), else the running Streamlit
    session's, else "en"."""
    code = _LANG.get()
    if code is not None:
        return code
    code = _session_language()
    if code in LANGUAGES:
        # Remember it in this context: the next look-ups of this fragment rerun or callback take
        # the fast path (the thread belongs to this session; a language change activates anew).
        _LANG.set(code)
        return code
    return DEFAULT


def _session_language() -> str | None:
    """The running Streamlit session's language, if the Streamlit side is loaded (it is imported by
    ``optlab.ui``; a notebook never loads it).  Looked up, not imported: the library does not depend
    on the UI, and nothing is registered in a module global."""
    side = sys.modules.get(_SESSION_SIDE)
    if side is None:
        return None
    try:
        return side.session_language()
    except Exception:  # the session side must never break a page: fall back to English
        return None


def bind_language(fn: Callable) -> Callable:
    """``fn`` wrapped to run in the language active *now* — for work handed to another thread
    (a ``ThreadPoolExecutor`` worker sees neither this context's language nor the Streamlit
    session): ``pool.map(bind_language(work), items)``."""
    lang = current()

    @functools.wraps(fn)
    def run(*args, **kwargs):
        with using(lang):
            return fn(*args, **kwargs)

    return run


# ----------------------------------------------------------------------------------------------
# Joining translated pieces
# ----------------------------------------------------------------------------------------------
def sentence_gap() -> str:
    """What goes between two sentences in the active language: a space after an English full stop,
    nothing after a Chinese "。"."""
    return "" if current() == "zh" else " "


def sentences(parts: Iterable[str | None]) -> str:
    """Sentences of a caption joined as the active language writes them, empty parts left out:
    ``sentences(["It converged.", "", "Fast."])`` is "It converged. Fast." in English and
    "收敛了。很快。" (no space) in Chinese."""
    return sentence_gap().join(p for p in parts if p)


def listing(items: Iterable[str], sep: str = ",") -> str:
    """Items of a list as the active language writes them: "a, b" / "a、b"; with ``sep=";"``,
    "a; b" / "a；b"."""
    zh = current() == "zh"
    joiner = ("、" if zh else ", ") if sep == "," else ("；" if zh else "; ")
    return joiner.join(items)


def text_width(text: str) -> int:
    """Columns ``text`` takes on screen: two for a wide (East Asian) character, one for any other."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def name_and_detail(label: str) -> tuple[str, str]:
    """A label "name (detail)" / "名称（细节）" split into its name and the detail in its final
    brackets: ``("bmi", "body mass index")``; ``(label, "")`` when it has none.  Brackets inside
    the name stay ("normal N(0, s²) (naive)" → "normal N(0, s²)", "naive")."""
    for open_, close in ((" (", ")"), ("（", "）")):
        i = label.rfind(open_)
        if i > 0 and label.endswith(close):
            head, detail = label[:i].rstrip(), label[i + len(open_):-len(close)].strip()
            if head and detail and detail.count("(") == detail.count(")"):
                return head, detail
    return label, ""


# ----------------------------------------------------------------------------------------------
# Catalogs
# ----------------------------------------------------------------------------------------------
def _load(lang: str, name: str) -> gettext.NullTranslations | None:
    path = LOCALE_DIR / CATALOG_LOCALES[lang] / "LC_MESSAGES" / f"{name}.mo"
    try:
        with open(path, "rb") as fp:
            return gettext.GNUTranslations(fp)
    except FileNotFoundError:
        return None


@functools.lru_cache(maxsize=64)  # (language, domain) pairs: a handful
def translations(lang: str, name: str) -> gettext.NullTranslations:
    """The gettext chain of domain ``name`` in ``lang``: its catalog → "optlab" → the English msgid.

    Loaded once per process (catalogs are read-only after loading).  A missing ``.mo`` is skipped,
    so a new chapter works (in English) before its first catalog exists.
    """
    if lang not in CATALOG_LOCALES:
        return gettext.NullTranslations()
    chain = [t for t in (_load(lang, name), _load(lang, SHARED_DOMAIN) if name != SHARED_DOMAIN else None) if t]
    if not chain:
        return gettext.NullTranslations()
    for outer, inner in zip(chain, chain[1:]):
        outer.add_fallback(inner)
    return chain[0]


def _identity(message: str) -> str:
    return message


class Domain(tuple):
    """``(_, N_, ngettext)`` of one gettext domain, with ``pgettext``/``npgettext`` as attributes.

    Unpack it (``_, N_, ngettext = domain("newton")``) or keep it (``d = domain("newton")``,
    ``d.pgettext("axis", "step")``).
    """

    name: str

    def __new__(cls, name: str):
        def _(message: str) -> str:
            """Translate ``message`` into the active language (the English msgid is the fallback)."""
            if not message:  # gettext("") would return the catalog's header
                return message
            lang = current()
            if lang == DEFAULT:
                return message
            return translations(lang, name).gettext(message)

        def ngettext(singular: str, plural: str, n: int) -> str:
            """The singular or plural form for count ``n`` (Chinese has one form)."""
            lang = current()
            if lang == DEFAULT:
                return singular if n == 1 else plural
            return translations(lang, name).ngettext(singular, plural, n)

        self = super().__new__(cls, (_, _identity, ngettext))
        self.name = name
        return self

    @property
    def gettext(self) -> Callable[[str], str]:
        return self[0]

    @property
    def N_(self) -> Callable[[str], str]:  # noqa: N802 (gettext's own name)
        return self[1]

    @property
    def ngettext(self) -> Callable[[str, str, int], str]:
        return self[2]

    def pgettext(self, context: str, message: str) -> str:
        """``message`` translated in ``context`` (when one English word needs two translations)."""
        lang = current()
        if lang == DEFAULT or not message:
            return message
        return translations(lang, self.name).pgettext(context, message)

    def npgettext(self, context: str, singular: str, plural: str, n: int) -> str:
        lang = current()
        if lang == DEFAULT:
            return singular if n == 1 else plural
        return translations(lang, self.name).npgettext(context, singular, plural, n)

    def __repr__(self) -> str:
        return f"Domain({self.name!r})"


@functools.lru_cache(maxsize=256)
def domain(name: str) -> Domain:
    """``(_, N_, ngettext)`` bound to gettext domain ``name`` (a chapter stem, or "optlab").

    ``_`` translates into the active language (see :func:`current`), ``N_`` only marks a
    module-level constant for extraction (translate it with ``_`` where it is shown), ``ngettext``
    picks the plural form.  Missing messages fall back to the "optlab" domain, then to English.
    """
    if not name or not name.replace("_", "").isalnum():
        raise ValueError(f"a gettext domain is a chapter stem such as 'newton'; got {name!r}")
    return Domain(name)
