"""The language in a real browser: links keep it across pages, the selector switches it, a fragment
rerun and a callback stay in it, two sessions at once keep theirs, KaTeX renders next to Chinese,
and the Chinese home page at 1024×768 has no clipped label.

Screenshots (look at them): test-results/screenshots/i18n_home_zh_1024.png,
i18n_katex_zh.png, i18n_home_zh_sidebar.png.

`clipped_texts(page)` is reusable: any chapter's browser test can call it on its page in zh.
"""
from __future__ import annotations

import re
import shutil
import sys
import textwrap
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import serve  # noqa: E402

from .conftest import APP_IDLE  # noqa: E402

# Text that does not fit its box: an element with text whose content overflows a box that hides
# the overflow (or ends in an ellipsis) by more than a rounding pixel or two, or a page wider than
# the window.  KaTeX's own boxes are left out: a formula is the same in every language.
CLIPPED_JS = """() => {
  const out = [];
  const root = document.querySelector('[data-testid="stApp"]');
  const sel = ['[data-testid="stWidgetLabel"]', '[data-testid="stMarkdownContainer"]', 'button', 'a',
               '[data-testid="stCaptionContainer"]', '[data-testid="stHeading"]', 'summary', '[role="tab"]',
               '[data-testid="stMetricLabel"]', '[data-testid="stMetricValue"]', 'label', 'p', 'span'];
  for (const el of root.querySelectorAll(sel.join(','))) {
    const text = (el.innerText || '').trim();
    if (!text || el.offsetParent === null || el.clientWidth <= 1) continue;  // hidden, or for screen readers
    if (el.closest('.katex') || el.querySelector('.katex')) continue;  // formulas: the same in every language
    const cs = getComputedStyle(el);
    const hides = ['hidden', 'clip'].includes(cs.overflowX) || ['hidden', 'clip'].includes(cs.overflowY)
                  || cs.textOverflow === 'ellipsis';
    if (hides && (el.scrollWidth > el.clientWidth + 2 || el.scrollHeight > el.clientHeight + 3)) {
      out.push(text.slice(0, 60) + ` [${el.scrollWidth}x${el.scrollHeight} in ${el.clientWidth}x${el.clientHeight}]`);
    }
  }
  const doc = document.scrollingElement;
  if (doc.scrollWidth > window.innerWidth + 1) out.push(`page scrolls sideways: ${doc.scrollWidth} > ${window.innerWidth}`);
  const main = document.querySelector('[data-testid="stMain"]');
  if (main && main.scrollWidth > main.clientWidth + 1) out.push(`main area scrolls sideways: ${main.scrollWidth} > ${main.clientWidth}`);
  return [...new Set(out)];
}"""


def clipped_texts(page) -> list[str]:
    """The texts of the page that are cut off (want: [])."""
    return page.evaluate(CLIPPED_JS)


def wait_idle(page, timeout=60_000):
    page.wait_for_selector(APP_IDLE, timeout=timeout)
    page.wait_for_timeout(300)
    page.wait_for_selector(APP_IDLE, timeout=timeout)


def sidebar_links(page) -> list[str]:
    return [t.strip() for t in page.locator('[data-testid="stSidebar"] [data-testid="stPageLink"]').all_inner_texts()]


# --- the real app -------------------------------------------------------------------------------


def test_home_in_chinese_at_1024_has_no_clipped_labels(page, app_url, wait_for_app_idle, save_screenshot,
                                                       streamlit_exceptions):
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(app_url + "/?lang=zh")
    page.get_by_text("课堂使用指南").wait_for(timeout=60_000)
    wait_for_app_idle(page)
    save_screenshot(page, "i18n_home_zh_1024")
    page.locator('[data-testid="stSidebar"]').screenshot(path=str(ROOT / "test-results" / "screenshots" /
                                                               "i18n_home_zh_sidebar.png"))
    assert streamlit_exceptions(page) == []
    assert clipped_texts(page) == []
    assert sidebar_links(page)[:2] == ["🏠首页", "🎯损失函数"] or sidebar_links(page)[0].endswith("首页")
    # the Chinese in the chart is drawn in a Simplified Chinese face, not a fallback
    family = page.locator('[data-testid="stPlotlyChart"] .xtitle').first.evaluate(
        "el => getComputedStyle(el).fontFamily")
    assert "Noto Sans CJK SC" in family


def test_a_zh_link_stays_chinese_across_pages_and_the_selector_switches(page, app_url, wait_for_app_idle):
    page.goto(app_url + "/?lang=zh")
    page.get_by_text("课堂使用指南").wait_for(timeout=60_000)
    wait_for_app_idle(page)
    arena = page.locator('[data-testid="stSidebar"] [data-testid="stPageLink"]').filter(has_text="优化器竞技场")
    arena.click()
    page.wait_for_url(re.compile(r"/Optimizer_arena\?(.*&)?lang=zh"), timeout=60_000)
    wait_for_app_idle(page)
    assert any(t.endswith("首页") for t in sidebar_links(page))           # still Chinese on the next page
    # the race's controls (in the main column) are Chinese too
    expect(page.locator('[data-testid="stMain"]').get_by_text("曲面", exact=True).first).to_be_visible()

    page.locator('[data-testid="stSidebar"] button').filter(has_text="English").click()
    page.wait_for_url(re.compile(r"lang=en"), timeout=30_000)
    page.locator('[data-testid="stSidebar"] [data-testid="stPageLink"]').filter(has_text="Home").wait_for()
    wait_for_app_idle(page)
    assert "/Optimizer_arena" in page.url                                  # same page, other language


def test_the_browser_language_is_the_default(page, app_url, wait_for_app_idle):
    """No ?lang in the link: a browser set to Chinese gets Chinese, and the address then says so."""
    ctx = page.context.browser.new_context(locale="zh-CN")
    try:
        p = ctx.new_page()
        p.goto(app_url + "/")
        p.get_by_text("课堂使用指南").wait_for(timeout=60_000)
        p.wait_for_url(re.compile(r"lang=zh"), timeout=30_000)
    finally:
        ctx.close()
    page.goto(app_url + "/")                                   # pytest-playwright's default: en-US
    page.get_by_text("Using this in class").wait_for(timeout=60_000)
    page.wait_for_url(re.compile(r"lang=en"), timeout=30_000)


# --- a throwaway app: fragments, callbacks, concurrent sessions, KaTeX beside Chinese ----------

TOY = '''
import time
import streamlit as st
from optlab import i18n, ui
from optlab.i18n import domain, current

_, N_, ngettext = domain("optlab")
ui.page_config(_("Home"))

slow = int(st.query_params.get("slow", "0"))
t0 = time.time()
seen = []
for _i in range(slow):           # a slow run, so two sessions overlap
    seen.append(_("Home"))
    time.sleep(0.02)
st.markdown(f"run-lang={current()} seen={'|'.join(sorted(set(seen)))} t0={t0:.3f} t1={time.time():.3f}")
st.markdown("学习率 $\\\\eta$ 决定每一步走多远：$\\\\theta_{t+1} = \\\\theta_t - \\\\eta\\\\,\\\\nabla f(\\\\theta_t)$。")
st.latex(r"\\theta_{t+1} = \\theta_t - \\eta\\,\\nabla f(\\theta_t),\\qquad \\kappa = \\lambda_{\\max} / \\lambda_{\\min}")
st.caption("海森矩阵 $\\\\nabla^2 f$ 的条件数 $\\\\kappa$ 越大，碗越狭长，梯度下降就越容易来回振荡。")


def remember():
    st.session_state["cb_ctx"] = i18n._LANG.get()   # what the callback's thread knew before it looked up
    st.session_state["cb_text"] = _("Home")


@st.fragment
def section():
    before = i18n._LANG.get()    # what this thread knew before its first look-up
    n = st.session_state["n"] = st.session_state.get("n", 0) + 1
    st.button(_("Set it up"), key="frag_btn", on_click=remember)
    st.button(_("Play"), key="frag_plain")                # a fragment rerun without a callback
    st.markdown(f"frag-lang={current()} frag-text={_('What to look for')} "
                f"cb={st.session_state.get('cb_text', '-')} ctxvar={before} "
                f"cbctx={st.session_state.get('cb_ctx', '-')} n={n}")


section()
'''


@pytest.fixture(scope="module")
def toy_url(tmp_path_factory):
    d = tmp_path_factory.mktemp("i18n_toy")
    (d / "app.py").write_text(textwrap.dedent(TOY))
    shutil.copytree(ROOT / ".streamlit", d / ".streamlit")
    proc, url = serve.start_server(d, d / "server.log")
    try:
        yield url
    finally:
        serve.stop_server(proc)


def _line(page, prefix: str) -> str:
    loc = page.locator('[data-testid="stMarkdownContainer"] p').filter(has_text=prefix).first
    loc.wait_for(timeout=60_000)
    return loc.inner_text()


def test_fragment_rerun_and_callback_keep_the_language(page, toy_url):
    page.goto(toy_url + "/?lang=zh")
    first = _line(page, "frag-lang=")
    wait_idle(page)
    assert "frag-lang=zh" in first and "frag-text=观察要点" in first and "n=1" in first
    runs = _line(page, "run-lang=")
    page.get_by_role("button", name="一键设置").click()                     # reruns the fragment only
    expect(page.locator('[data-testid="stMarkdownContainer"] p').filter(has_text="n=2")).to_be_visible(timeout=30_000)
    wait_idle(page)
    after = _line(page, "frag-lang=")
    assert "frag-lang=zh" in after and "frag-text=观察要点" in after
    assert "cb=首页" in after                                                # the callback translated too
    # the callback and the fragment ran in a fresh thread where no language was activated: the
    # session's language was looked up (without that they would have been English)
    assert "cbctx=None" in after
    page.get_by_role("button", name="播放").click()                         # no callback this time
    expect(page.locator('[data-testid="stMarkdownContainer"] p').filter(has_text="n=3")).to_be_visible(timeout=30_000)
    wait_idle(page)
    plain = _line(page, "frag-lang=")
    assert "frag-lang=zh" in plain and "frag-text=观察要点" in plain and "ctxvar=None" in plain
    assert _line(page, "run-lang=") == runs                                  # the page itself did not rerun


def test_two_sessions_at_the_same_time_keep_their_own_language(page, toy_url):
    other = page.context.browser.new_context()
    try:
        p2 = other.new_page()
        page.goto(toy_url + "/?lang=zh&slow=40", wait_until="commit")
        p2.goto(toy_url + "/?lang=en&slow=40", wait_until="commit")
        zh, en = _line(page, "run-lang="), _line(p2, "run-lang=")
        assert "run-lang=zh" in zh and "seen=首页 " in zh
        assert "run-lang=en" in en and "seen=Home " in en

        def span(s):
            return [float(x) for x in re.findall(r"t[01]=([0-9.]+)", s)]

        (a0, a1), (b0, b1) = span(zh), span(en)
        assert a0 < b1 and b0 < a1, "the two runs did not overlap: the test proved nothing"
    finally:
        other.close()


def test_katex_renders_next_to_chinese(page, toy_url, save_screenshot):
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(toy_url + "/?lang=zh")
    _line(page, "frag-lang=")
    wait_idle(page)
    page.locator(".katex").first.wait_for()
    assert page.locator(".katex").count() >= 4                             # inline ×3 (+ caption ×2) and display
    assert page.locator(".katex-error").count() == 0
    para = page.locator('[data-testid="stMarkdownContainer"] p').filter(has_text="学习率").first
    assert para.locator(".katex").count() == 2
    box_text = para.locator(".katex").first.bounding_box()
    assert box_text and box_text["height"] > 8 and box_text["width"] > 5
    save_screenshot(page, "i18n_katex_zh")
