"""Every page and the language: widget state survives a switch, the navigation names every page,
and a page whose chapter has a Chinese catalog renders in Chinese (tests/i18n_check.py).

The per-section checks of a chapter live with the chapter's own tests (see docs/i18n.md); this file
holds what every page owes, so a new page is covered the day it appears.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conftest import APP_DIR, page_files, page_id
from i18n_check import assert_chinese, open_in, switch_language

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import i18n as tool  # noqa: E402  tools/i18n.py

PAGES = page_files()
CHANGEABLE = ("slider", "number_input", "checkbox", "toggle", "selectbox", "radio", "select_slider")


def _keyed(at) -> dict[str, tuple[str, object]]:
    out = {}
    for kind in CHANGEABLE:
        for w in getattr(at, kind):
            key = getattr(w, "key", None)
            if key and not key.startswith("optlab_lang"):
                out[key] = (kind, w.value)
    return out


def _change(at, kind: str, key: str) -> bool:
    """Move one widget to another valid value (True if it moved)."""
    w = getattr(at, kind)(key=key)
    try:
        if kind in ("checkbox", "toggle"):
            w.set_value(not w.value)
        elif kind == "slider":
            lo, hi = w.min, w.max
            if isinstance(w.value, tuple) or lo == hi:
                return False
            w.set_value(hi if w.value != hi else lo)
        elif kind == "number_input":
            step = w.step or 1
            v = w.value if w.value is not None else 0
            nv = v + step if (w.max is None or v + step <= w.max) else v - step
            if w.min is not None and nv < w.min:
                return False
            w.set_value(type(v)(nv) if isinstance(v, int) else nv)
        elif kind in ("selectbox", "radio"):
            opts = list(w.options)
            if len(opts) < 2:
                return False
            w.select_index((opts.index(w.format_func(w.value)) + 1) % len(opts))
        else:  # select_slider: AppTest's setter wants the raw option, which the proto does not carry
            return False
    except Exception:
        return False
    return True


@pytest.mark.parametrize("page_file", PAGES[1:], ids=[page_id(f) for f in PAGES[1:]])
def test_switching_language_keeps_the_page_state(page_file):
    """Move up to three keyed widgets away from their first values, switch to 中文 and back: every
    keyed widget keeps its value (Streamlit identifies a keyed widget by its key, not its label)."""
    at = open_in("en", page_file)
    assert not at.exception
    moved = 0
    for key, (kind, _v) in list(_keyed(at).items())[:12]:
        if moved >= 3:
            break
        if _change(at, kind, key):
            at.run()
            if at.exception:
                pytest.fail(f"{page_file}: moving {kind} {key!r} raised {[e.value for e in at.exception]}")
            moved += 1
    assert moved >= 1, f"{page_file}: no widget could be moved: the test would prove nothing"
    before = _keyed(at)
    switch_language(at, "zh")
    assert not at.exception, [e.value for e in at.exception]
    assert at.query_params["lang"] == "zh"
    after = _keyed(at)
    common = set(before) & set(after)
    assert common, f"{page_file}: no keyed widget to compare"
    assert {k: after[k] for k in common} == {k: before[k] for k in common}, "a widget lost its value"
    assert set(before) == set(after), "the language switch added or removed widgets"
    switch_language(at, "en")
    assert {k: _keyed(at)[k] for k in common} == {k: before[k] for k in common}


def test_the_navigation_names_every_page():
    """A page the navigation table does not list would show its file name, untranslated."""
    from optlab.ui.i18n import PAGES as NAV, page_files as nav_files

    listed = {e.name for e in NAV}
    missing = [rel for name, rel in nav_files(str(APP_DIR)) if name not in listed]
    assert not missing, f"add these pages to optlab/ui/i18n.py PAGES (title with N_, icon): {missing}"


def _translated_pages() -> list[str]:
    have = set(tool.catalog_domains())
    out = ["app.py"]
    for f in PAGES[1:]:
        if tool.page_domain(APP_DIR / f) in have:
            out.append(f)
    return out


@pytest.mark.parametrize("page_file", PAGES, ids=[page_id(f) for f in PAGES])
def test_a_page_with_a_catalog_is_chinese(page_file):
    """The page's first view in Chinese, once its chapter has a zh catalog (the chapter's own tests
    go through its sections)."""
    if page_file not in _translated_pages():
        pytest.skip(f"{page_file}: its chapter ({tool.page_domain(APP_DIR / page_file)}) has no zh catalog yet")
    assert_chinese(open_in("zh", page_file))
