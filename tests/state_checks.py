"""Reusable checks for pages that keep their state in the URL (optlab.ui.state).

One line per page or section in a page's tests::

    from state_checks import roundtrip, fuzz_links

    def test_momentum_state_round_trips():
        roundtrip("pages/4_Adaptive_methods.py",
                  {"ad_section": "Momentum", "ad_mo_kappa": 50, "ad_mo_beta": 0.5, "ad_mo_lr": 0.02})

    def test_hostile_links():
        fuzz_links("pages/4_Adaptive_methods.py", ad.PAGE, section="Momentum")

``roundtrip`` moves the widgets (by key, in order: put the section first), reads the page's URL
query (``at.query_params``), opens a fresh session with it and checks that every widget shows the
same value and that the link gave no warning.  ``fuzz_links`` opens hostile links built from the
page's declaration (out-of-range numbers, NaN, unknown options, phishing markdown, repeated keys,
thousands of unknown names) and checks the link rules: no exception; at most one link warning; no
link or image element rendered from it (CommonMark + GFM autolinks via markdown-it-py); every value
the link gave is either used as given or named in the warning.
"""
from __future__ import annotations

import math
import random
from typing import Any, Mapping

from conftest import APP_DIR

PHISHING = "**Session expired** [log in again](https://evil.example/login) ![](http://host/pixel.png)"
HOSTILE_TEXT = [
    PHISHING, "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "www.evil.example", "https://evil.example",
    ":red[alarm] :material/warning:", "$$\\frac{1}{0}$$", "`` ` ``", "a\u202eb", "\x00", "x" * 5000, "é" * 300,
]
WIDGET_TYPES = ("slider", "select_slider", "number_input", "text_input", "text_area", "selectbox", "multiselect",
                "radio", "checkbox", "toggle", "button_group")


# ----------------------------------------------------------------------------------------------
# AppTest plumbing
# ----------------------------------------------------------------------------------------------
def open_page(page_file: str, query: Mapping[str, Any] | None = None, *, timeout: float = 120, context=None):
    """A fresh AppTest session of ``page_file`` opened with the URL query ``query``."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP_DIR / "app.py"), default_timeout=timeout)
    if context:
        at.context.update(context)
    at.query_params.update(dict(query or {}))  # the session's first run sees the link (as in a browser)
    at.run()
    if page_file != "app.py":
        at.query_params.clear()
        at.query_params.update(dict(query or {}))
        at.switch_page(page_file)
        at.run()
    return at


def widget(at, key: str):
    """The widget with ``key`` on the page (any type)."""
    for kind in WIDGET_TYPES:
        try:
            return getattr(at, kind)(key=key)
        except (KeyError, AttributeError):
            continue
    raise AssertionError(f"no widget with key {key!r} on the page")


def no_exception(at) -> None:
    assert not at.exception, "\n".join(str(e.value) + "\n" + "\n".join(e.stack_trace or []) for e in at.exception)


def link_warnings(at) -> list[str]:
    """The link warnings on the page (text), recognised by their 🔗 icon."""
    return [w.value for w in at.warning if getattr(w, "icon", None) == "🔗"]


def url_state(at) -> dict:
    """The page's URL query without the language (which every page writes)."""
    return {k: v for k, v in dict(at.query_params).items() if k != "lang"}


def same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        try:
            return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
        except (TypeError, ValueError):
            return False
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


# ----------------------------------------------------------------------------------------------
# Round trip
# ----------------------------------------------------------------------------------------------
def roundtrip(page_file: str, changes: Mapping[str, Any], *, query: Mapping[str, str] | None = None):
    """Change widgets (``{widget key: value}``, in order), take the URL, reopen it fresh, find
    the same values.  Returns ``(query, fresh AppTest)``."""
    at = open_page(page_file, query)
    no_exception(at)
    for key, value in changes.items():
        widget(at, key).set_value(value).run()
        no_exception(at)
        assert same(widget(at, key).value, value), f"{key}: set {value!r}, page shows {widget(at, key).value!r}"
    got = url_state(at)
    fresh = open_page(page_file, got)
    no_exception(fresh)
    assert link_warnings(fresh) == [], link_warnings(fresh)
    for key, value in changes.items():
        shown = widget(fresh, key).value
        assert same(shown, value), f"{key}: {value!r} before, {shown!r} after opening {got}"
    assert url_state(fresh) == got, "reopening the link changed it"
    return got, fresh


# ----------------------------------------------------------------------------------------------
# Hostile links
# ----------------------------------------------------------------------------------------------
def rendered_html(markdown_text: str) -> str:
    """What a GFM renderer makes of the text: CommonMark with autolinked addresses (as
    Streamlit's remark-gfm does)."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"linkify": True, "html": True}).enable(["linkify", "table", "strikethrough"])
    return md.render(markdown_text)


def assert_inert(markdown_text: str) -> None:
    """No link, image or HTML element comes out of the text."""
    out = rendered_html(markdown_text)
    for tag in ("<a ", "<img", "<script", "<iframe", "<svg"):
        assert tag not in out, f"{tag} rendered from: {markdown_text[:300]!r}\n{out[:500]}"


def hostile_values(p) -> list[str]:
    """URL texts that test a parameter's rules."""
    vals = ["", " ", "nan", "inf", "-inf", "1e309", "abc", PHISHING, "x" * 300, "１２", "0x10", "1_0"]
    if p.kind in ("float", "int"):
        span = (p.hi - p.lo) or 1.0
        vals += [repr(p.lo - span), repr(p.hi + span), repr(p.hi * 1e6 + 1), repr(p.lo + span / 3 + 1e-7), "-0"]
        if p.step:
            vals.append(repr(p.lo + p.step * 0.37))
    elif p.kind in ("choice", "multi"):
        vals += [c.upper() for c in p.codes[:2]] + ["zzz", ",".join(p.codes[:2]), p.codes[0] + ",zzz"]
        nums = [float(o) for o in p.options if isinstance(o, (int, float)) and not isinstance(o, bool)]
        if len(nums) == len(p.options) and nums:
            vals += [repr(min(nums) / 7), repr(max(nums) * 7 + 1), repr((nums[0] + nums[-1]) / 2 + 1e-3)]
    elif p.kind == "flag":
        vals += ["2", "yes", "TRUE", "off"]
    else:
        vals += HOSTILE_TEXT
    return vals


def hostile_links(page, *, n: int = 12, seed: int = 0, section: str | None = None) -> list[dict[str, Any]]:
    """``n`` hostile queries for ``page`` (each with at most 3 declared values + junk), plus one of
    20,000 unknown names and one with the issue's phishing text as a key and a value."""
    rng = random.Random(seed)
    params = [p for p in page.params if not p.is_section and (section is None or p.section in (None, section))]
    sec = {page.section_param.url: page.section_param.code(section)} if section and page.section_param else {}
    out: list[dict[str, Any]] = [
        {**sec, PHISHING: "1", "s": PHISHING},
        {**sec, **{f"k{i}": "v" for i in range(20_000)}},
    ]
    for _ in range(n):
        q: dict[str, Any] = dict(sec)
        for p in rng.sample(params, k=min(len(params), rng.randint(1, 3))):
            q[p.url] = rng.choice(hostile_values(p))
        r = rng.random()
        if r < 0.3:
            q[rng.choice(HOSTILE_TEXT[:6])] = rng.choice(HOSTILE_TEXT)
        elif r < 0.45 and params:
            p = rng.choice(params)
            q[p.url] = [rng.choice(hostile_values(p)), p.code(p.default)]  # repeated key
        out.append(q)
    return out


def check_link(page_file: str, page, query: Mapping[str, Any]):
    """Open one link and assert the link rules; returns the AppTest."""
    at = open_page(page_file, query)
    no_exception(at)
    warns = link_warnings(at)
    assert len(warns) <= 1, f"{len(warns)} link warnings for one link"
    text = warns[0] if warns else ""
    assert len(text) < 2_000, f"a {len(text)}-character warning"
    assert_inert(text)
    for w in at.warning:
        assert_inert(w.value)
    from optlab.ui.state import MAX_FIELDS

    if len(query) > MAX_FIELDS:
        # Streamlit drops the whole query before the script runs (a browser then reopens the page with
        # ?too_long=N, which is named): no value of it reaches the page, so none can be checked here
        return at
    link = page.read(query)
    for key, raw in query.items():
        p = page.by_url.get(key)
        if p is None:
            continue
        texts = [raw] if isinstance(raw, str) else list(raw)
        got = p.parse(texts[-1], link.values)  # a Custom value reads the link's other values
        named = f"`{key}`" in text or f"``{key}``" in text
        sec_ok = page.in_scope(p, at.session_state[page.section_param.key]) if page.section_param else True
        if got.status != "ok" or len(texts) > 1 or not sec_ok:
            assert named, f"{key}={texts[-1]!r} ({got.status}: {got.note}) is not named in: {text!r}"
        else:
            shown = at.session_state[p.key]
            assert same(shown, got.value) or named, f"{key}={texts[-1]!r}: page uses {shown!r}, silently"
    return at


def fuzz_links(page_file: str, page, *, n: int = 12, seed: int = 0, section: str | None = None) -> int:
    """:func:`check_link` over :func:`hostile_links`; returns how many links were opened."""
    links = hostile_links(page, n=n, seed=seed, section=section)
    for q in links:
        check_link(page_file, page, q)
    return len(links)
