"""The page "Loss functions" in headless Chromium.

Every section, in English and in Chinese, at 1024×768 (a classroom projector, sidebar open) and at
1400 px: no clipped text (widget labels, select boxes, captions, tables), no chart text outside its
chart or on top of another (legend entries, subplot and axis titles), a chart in the first screen,
at most about 3 screens long at 1400 px, no Streamlit exception and no KaTeX error.  Presenter mode
at 1024×768 shows each section's main chart in the first screen with nothing scrolling sideways;
a projected lesson step puts its question beside the chart.  A slider redraws the caption.
Screenshots: test-results/screenshots/loss_*.png.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .test_i18n_browser import clipped_texts

pytestmark = pytest.mark.browser

P1 = "pages/1_Loss_functions.py"
SECTIONS = ["catalogue", "outliers", "optimizer", "ce"]
PROJECTOR = {"width": 1024, "height": 768}
WIDE = {"width": 1400, "height": 1000}

# Text drawn by Plotly (SVG) that leaves its chart, or two titles/legends drawn over each other.
CHART_TEXT_JS = """() => {
  const out = [];
  const box = el => el.getBoundingClientRect();
  const meets = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot').forEach((plot, i) => {
    const svg = plot.querySelector('.main-svg');
    if (!svg) return;
    const s = box(svg);
    const texts = [...plot.querySelectorAll('.legendtext, .gtitle, .xtitle, .ytitle, .annotation-text, .g-xtitle text, .g-ytitle text')]
      .filter(t => (t.textContent || '').trim() && box(t).width > 0);
    for (const t of texts) {
      const r = box(t);
      if (r.left < s.left - 1 || r.right > s.right + 1 || r.top < s.top - 1 || r.bottom > s.bottom + 1)
        out.push(`chart ${i}: "${t.textContent.slice(0, 40)}" outside its chart`);
    }
    const titles = [...plot.querySelectorAll('.gtitle, .xtitle, .ytitle, .annotation-text')].filter(t => box(t).width > 0);
    const legend = plot.querySelector('.legend');
    for (let a = 0; a < titles.length; a++) {
      for (let b = a + 1; b < titles.length; b++)
        if (meets(box(titles[a]), box(titles[b])))
          out.push(`chart ${i}: "${titles[a].textContent.slice(0, 30)}" on "${titles[b].textContent.slice(0, 30)}"`);
      if (legend && meets(box(titles[a]), box(legend)))
        out.push(`chart ${i}: the legend on "${titles[a].textContent.slice(0, 30)}"`);
    }
  });
  // select boxes: the chosen option cut off (BaseWeb's value box, or since Streamlit 1.6x the
  // combo box's input, which holds the option's text as its value)
  document.querySelectorAll('[data-baseweb="select"] [title], [data-baseweb="select"] div').forEach(el => {
    const t = (el.innerText || '').trim();
    if (!t || el.children.length || el.clientWidth <= 1) return;
    if (el.scrollWidth > el.clientWidth + 2) out.push(`select box "${t.slice(0, 40)}" cut`);
  });
  document.querySelectorAll('[data-testid="stSelectbox"] input').forEach(el => {
    const t = (el.value || '').trim();
    if (!t || el.clientWidth <= 1) return;
    if (el.scrollWidth > el.clientWidth + 2) out.push(`select box "${t.slice(0, 40)}" cut`);
  });
  return [...new Set(out)];
}"""

GEOMETRY_JS = """() => {
  const c = document.querySelector('[data-testid="stPlotlyChart"]');
  const r = c.getBoundingClientRect();
  const main = document.querySelector('[data-testid="stMain"]');
  return {top: r.top, bottom: r.bottom, right: r.right, height: main.scrollHeight,
          scrollWidth: Math.max(main.scrollWidth, document.documentElement.scrollWidth),
          clientWidth: Math.min(main.clientWidth, document.documentElement.clientWidth)};
}"""


def _open(page, page_url, wait_for_app_idle, query: str, size: dict):
    page.set_viewport_size(size)
    page.goto(page_url(P1) + "?" + query, timeout=90_000)
    page.wait_for_selector('[data-testid="stPlotlyChart"] .js-plotly-plot .main-svg', timeout=90_000)
    wait_for_app_idle(page)
    page.wait_for_timeout(600)  # Plotly lays out its legends after the first draw


def _check(page, streamlit_exceptions, size):
    assert streamlit_exceptions(page) == []
    assert page.locator(".katex-error").count() == 0
    assert clipped_texts(page) == []
    assert page.evaluate(CHART_TEXT_JS) == []
    g = page.evaluate(GEOMETRY_JS)
    assert g["top"] < size["height"], f"no chart in the first screen: {g}"
    return g  # (sideways scrolling is one of clipped_texts' findings)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("sec", SECTIONS)
def test_section_is_readable_at_1024_and_1400(page, page_url, wait_for_app_idle, streamlit_exceptions,
                                              save_screenshot, sec, lang):
    _open(page, page_url, wait_for_app_idle, f"sec={sec}&lang={lang}", PROJECTOR)
    _check(page, streamlit_exceptions, PROJECTOR)
    save_screenshot(page, f"loss_{sec}_{lang}_1024")
    page.set_viewport_size(WIDE)
    page.wait_for_timeout(800)
    wait_for_app_idle(page)
    g = _check(page, streamlit_exceptions, WIDE)
    assert g["height"] <= 3.2 * WIDE["height"], f"section {sec} is {g['height'] / WIDE['height']:.1f} screens long"


@pytest.mark.parametrize("sec", SECTIONS)
def test_presenter_mode_shows_the_main_chart_in_the_first_screen(page, page_url, wait_for_app_idle,
                                                                 streamlit_exceptions, save_screenshot, sec):
    _open(page, page_url, wait_for_app_idle, f"sec={sec}&present=1", PROJECTOR)
    g = page.evaluate(GEOMETRY_JS)
    assert 0 <= g["top"] and g["bottom"] <= PROJECTOR["height"] + 1, f"main chart not in the first screen: {g}"
    assert g["right"] <= PROJECTOR["width"] and g["scrollWidth"] <= g["clientWidth"] + 1, g
    assert streamlit_exceptions(page) == [] and page.evaluate(CHART_TEXT_JS) == []
    save_screenshot(page, f"loss_present_{sec}")


def test_projected_lesson_step_asks_beside_the_chart(page, page_url, wait_for_app_idle, streamlit_exceptions,
                                                     save_screenshot):
    _open(page, page_url, wait_for_app_idle, "lesson=losses&step=3&present=1", PROJECTOR)
    card = page.locator(".st-key-optlab_card_outliers_drag")
    expect(card).to_be_visible()
    chart = page.locator('[data-testid="stPlotlyChart"]').first.bounding_box()
    c = card.bounding_box()
    assert c["x"] > chart["x"] + chart["width"] - 5, "the question is not beside the chart"
    assert chart["y"] + chart["height"] <= PROJECTOR["height"] + 1
    card.get_by_text("A. MSE's").click()
    wait_for_app_idle(page)
    card.get_by_role("button", name="Commit").click()
    wait_for_app_idle(page)
    expect(page.get_by_text("Right.", exact=False).first).to_be_visible()
    assert streamlit_exceptions(page) == []
    save_screenshot(page, "loss_present_lesson_step3")


def test_slider_redraws_the_caption(page, open_app_page, rerun_after, streamlit_exceptions, js_errors):
    open_app_page(page, P1)
    expect(page.get_by_text("Huber with δ = 1:", exact=False).first).to_be_visible()
    slider = page.get_by_role("slider").first  # Huber δ, step 0.1
    slider.focus()
    rerun_after(page, lambda: page.keyboard.press("ArrowRight"))
    expect(page.get_by_test_id("stSliderThumbValue").first).to_have_text("1.10")
    expect(page.get_by_text("Huber with δ = 1.1:", exact=False).first).to_be_visible()
    assert "d=1.1" in page.url                                   # the state is in the address
    assert streamlit_exceptions(page) == [] and js_errors == []
