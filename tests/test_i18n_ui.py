"""The language in the Streamlit app: URL → session → run, the selector, navigation, state, caches.

A throwaway app (written to tmp_path) holds one widget of every kind with a translated label and
translated option names; its msgids are in the shared catalog, so the mechanism is tested without
depending on any chapter.  The real home page is tested in test_i18n_home.py; fragment reruns
and concurrent sessions need a real server (AppTest runs whole scripts, one app at a time):
tests/browser/test_i18n_browser.py.
"""
from __future__ import annotations

import textwrap

import pytest
from streamlit.testing.v1 import AppTest

from i18n_check import CHINESE, switch_language
from optlab import i18n
from optlab.ui.i18n import LANG_KEY, SELECTOR_KEY

APP = '''
import streamlit as st
from optlab import ui
from optlab.i18n import domain, current

_, N_, ngettext = domain("optlab")
ui.page_config(_("Home"))

NAMES = {"a": N_("Loss functions"), "b": N_("Gradient descent"), "c": N_("Newton's method")}
name = lambda o: _(NAMES[o])

st.selectbox(_("Surface"), list(NAMES), key="t_sel", format_func=name)
st.radio(_("Chapters"), list(NAMES), key="t_radio", format_func=name)
st.segmented_control(_("Chapters"), list(NAMES), key="t_seg", format_func=name)
st.pills(_("Chapters"), list(NAMES), key="t_pills", format_func=name)
st.multiselect(_("Chapters"), list(NAMES), key="t_multi", format_func=name)
st.slider(_("condition number κ"), 1, 100, 10, key="t_slider")
st.select_slider(_("rotation θ (degrees)"), [0, 15, 30, 45], key="t_sslider")
st.number_input(_("lr (learning rate)"), 0.0, 1.0, 0.1, key="t_num", format="%g")
st.checkbox(_("set {name}").format(name="x"), key="t_check")
st.toggle(_("Set it up"), key="t_toggle")
st.text_input(_("Surface"), key="t_text")
st.markdown(f"lang={current()}")
st.caption(_("What to look for"))

@ui.cache_data(max_entries=4, show_spinner=False)
def cached_text(n):
    st.session_state["computed"] = st.session_state.get("computed", 0) + 1
    return _("Home") + str(n)

st.caption(cached_text(1))
'''

OTHER_PAGE = '''
import streamlit as st
from optlab import ui
from optlab.i18n import domain

_, N_, ngettext = domain("optlab")
ui.page_config(_("Loss functions"))
st.title(_("Loss functions"))
'''


@pytest.fixture
def toy_app(tmp_path):
    (tmp_path / "app.py").write_text(textwrap.dedent(APP))
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "1_Loss_functions.py").write_text(textwrap.dedent(OTHER_PAGE))
    return tmp_path


def run(app_dir, lang=None, locale=None, page=None):
    at = AppTest.from_file(str(app_dir / "app.py"), default_timeout=60)
    i18n.activate(i18n.negotiate(lang) or i18n.negotiate(locale) or "en")  # AppTest's format_func calls
    if lang is not None:
        at.query_params["lang"] = lang
    if locale is not None:
        at.context["locale"] = locale
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def lang_of(at) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("lang=")).split("=")[1]


def nav_labels(at) -> list[str]:
    return [e.proto.label for e in at.sidebar.get("page_link")]


@pytest.mark.parametrize("lang, locale, expected", [
    ("zh", None, "zh"), ("en", "zh-CN", "en"),    # the link wins over the browser
    (None, "zh-CN", "zh"), (None, "zh-TW", "zh"), (None, "en-GB", "en"), (None, "fr-FR", "en"), (None, None, "en"),
])
def test_language_from_link_then_browser_then_english(toy_app, lang, locale, expected):
    at = run(toy_app, lang, locale)
    assert lang_of(at) == expected and at.session_state[LANG_KEY] == expected
    assert at.query_params["lang"] == expected                  # the address always says it
    assert nav_labels(at)[0] == ("首页" if expected == "zh" else "Home")


def test_a_link_in_a_language_the_app_lacks_says_so_as_code(toy_app):
    at = run(toy_app, "**fr**<b>")
    assert lang_of(at) == "en" and at.query_params["lang"] == "en"
    (warning,) = at.sidebar.warning
    assert "`**fr**<b>`" in warning.value                        # shown as code, never as markdown
    at.run()
    assert not at.sidebar.warning                                 # said once, then the URL is fixed


def test_navigation_links_carry_the_language_and_it_survives_a_page_switch(toy_app):
    at = run(toy_app, "zh")
    links = at.sidebar.get("page_link")
    assert [e.proto.label for e in links] == ["首页", "损失函数"]
    assert {e.proto.query_string for e in links} == {"lang=zh"}
    assert links[0].proto.icon == "🏠"
    at.query_params.clear()                                       # a page switch without ?lang
    at.switch_page("pages/1_Loss_functions.py").run()
    assert not at.exception
    assert at.title[0].value == "损失函数" and nav_labels(at) == ["首页", "损失函数"]
    assert at.query_params["lang"] == "zh"                        # written back to the address


WIDGETS = {
    "t_sel": ("selectbox", "c"), "t_radio": ("radio", "b"), "t_seg": ("button_group", "c"),
    "t_pills": ("button_group", "b"), "t_multi": ("multiselect", ["a", "c"]), "t_slider": ("slider", 42),
    "t_sslider": ("select_slider", 30), "t_num": ("number_input", 0.25), "t_check": ("checkbox", True),
    "t_toggle": ("toggle", True), "t_text": ("text_input", "x**2 + y"),
}


def _widget(at, kind, key):
    return getattr(at, kind)(key=key)


def test_switching_language_keeps_every_widget_value(toy_app):
    at = run(toy_app, "en")
    for key, (kind, value) in WIDGETS.items():
        _widget(at, kind, key).set_value(value)
    at.run()
    before = {key: _widget(at, kind, key).value for key, (kind, _v) in WIDGETS.items()}
    assert before == {key: v for key, (_k, v) in WIDGETS.items()}
    labels_en = {key: _widget(at, kind, key).label for key, (kind, _v) in WIDGETS.items()}

    switch_language(at, "zh")                                     # the sidebar's 中文 button
    assert not at.exception
    assert lang_of(at) == "zh" and at.query_params["lang"] == "zh"
    after = {key: _widget(at, kind, key).value for key, (kind, _v) in WIDGETS.items()}
    assert after == before                                        # nothing reset
    labels_zh = {key: _widget(at, kind, key).label for key, (kind, _v) in WIDGETS.items()}
    assert all(CHINESE.search(labels_zh[k]) and labels_zh[k] != labels_en[k] for k in labels_zh)
    assert at.selectbox(key="t_sel").options == ["损失函数", "梯度下降", "牛顿法"]   # format_func, translated

    switch_language(at, "en")                                     # and back
    assert lang_of(at) == "en"
    assert {key: _widget(at, kind, key).value for key, (kind, _v) in WIDGETS.items()} == before


def test_language_keyed_cache_computes_once_per_language(toy_app):
    from streamlit.runtime.caching import cache_data_api  # noqa: F401  (imported for the cache)
    import streamlit as st

    st.cache_data.clear()
    at = run(toy_app, "en")
    assert at.caption[-1].value == "Home1"
    at.run()
    assert at.session_state["computed"] == 1                     # cached
    switch_language(at, "zh")
    assert at.caption[-1].value == "首页1"                        # not the English entry
    assert at.session_state["computed"] == 2
    switch_language(at, "en")
    assert at.caption[-1].value == "Home1" and at.session_state["computed"] == 2
    st.cache_data.clear()


def test_cache_wrappers_keep_streamlit_semantics():
    """ui.cache_data: the language is a keyword of the cached call, so positional parameter names
    (and Streamlit's "_ means not hashed" rule) stay those of the function."""
    import streamlit as st

    from optlab import ui

    calls = []

    @ui.cache_data(max_entries=8, show_spinner=False)
    def f(a, _ignored, *, b=0):
        calls.append((a, b))
        return (a, b, i18n.current())

    st.cache_data.clear()
    assert f(1, object(), b=2) == (1, 2, "en")
    assert f(1, object(), b=2) == (1, 2, "en") and len(calls) == 1     # _ignored is not hashed
    with i18n.using("zh"):
        assert f(1, object(), b=2) == (1, 2, "zh") and len(calls) == 2
    assert f._info.max_entries == 8 and f.__name__ == "f"
    f.clear()
    assert f(1, None, b=2) and len(calls) == 3
    st.cache_data.clear()


def test_a_spinner_text_is_translated_and_the_cache_shared():
    import streamlit as st

    from optlab import ui
    from optlab.i18n import domain

    _, _N, _ng = domain("optlab")
    calls = []

    @ui.cache_data(max_entries=4, show_spinner=lambda: _("Home"))
    def g(x):
        calls.append(x)
        return x * 2

    st.cache_data.clear()
    assert {k: f._info.show_spinner for k, f in g.by_language.items()} == {"en": "Home", "zh": "首页"}
    assert g(2) == 4 and g(2) == 4 and len(calls) == 1
    with i18n.using("zh"):
        assert g(2) == 4 and g(2) == 4 and len(calls) == 2
    assert g(2) == 4 and len(calls) == 2                   # the English entry is still there
    g.clear()
    assert g(2) == 4 and len(calls) == 3
    st.cache_data.clear()
