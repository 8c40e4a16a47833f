"""The Newton chapter in headless Chromium: stepping the iterates redraws the chart (a fragment rerun);
every section reads at 1024×768 in English and Chinese (no clipped text, no chart text outside its
chart, no KaTeX error); presenter mode puts each section's main chart in the first projector screen."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .test_i18n_browser import clipped_texts

pytestmark = pytest.mark.browser

PAGE = "pages/3_Newton_method.py"
PROJECTOR = {"width": 1024, "height": 768}
MAIN_CHART = {"1d": "nw1_fig", "2d": "nw2_fig", "cost": "nw3_iter", "bfgs": "nw3_bfgs"}

# Text of a Plotly chart (titles, ticks, legend, bar labels, annotations) drawn outside the chart's own
# box is cut off by the page: list every such text.
CHART_TEXT_OUTSIDE_JS = """() => {
  const out = [];
  for (const plot of document.querySelectorAll('.js-plotly-plot')) {
    const box = plot.getBoundingClientRect();
    if (box.width === 0) continue;
    for (const t of plot.querySelectorAll('svg text')) {
      const r = t.getBoundingClientRect();
      if (!t.textContent.trim() || r.width === 0) continue;
      if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1) {
        out.push(t.textContent.trim().slice(0, 50) + ` [${Math.round(r.left)}..${Math.round(r.right)} in `
                 + `${Math.round(box.left)}..${Math.round(box.right)}]`);
      }
    }
  }
  return out;
}"""


def open_newton(page, page_url, wait_for_app_idle, query: str):
    page.goto(page_url(PAGE) + query, timeout=90_000)
    page.wait_for_selector('[data-testid="stPlotlyChart"] .js-plotly-plot .main-svg', timeout=90_000)
    wait_for_app_idle(page)
    page.wait_for_timeout(400)
    wait_for_app_idle(page)


def test_newton_page_steps_through_iterates(page, page_url, wait_for_app_idle, rerun_after, streamlit_exceptions,
                                            js_errors, save_screenshot):
    open_newton(page, page_url, wait_for_app_idle, "?sec=2d")
    assert streamlit_exceptions(page) == []
    assert page.locator(".katex-error").count() == 0, "a formula failed to render"
    figure = page.locator(".st-key-nw2_fig .js-plotly-plot")
    before = figure.evaluate("gd => JSON.stringify(gd.data.map(t => [t.name, t.x && t.x.length]))")
    slider_value = page.locator(".st-key-nw2_k").get_by_test_id("stSliderThumbValue")
    expect(slider_value).to_have_text("0")
    next_button = page.locator(".st-key-nw2_k_next").get_by_role("button", name="▶").first
    next_button.scroll_into_view_if_needed()
    rerun_after(page, next_button.click)
    expect(slider_value).to_have_text("1")
    after = figure.evaluate("gd => JSON.stringify(gd.data.map(t => [t.name, t.x && t.x.length]))")
    assert after != before, "the surface figure did not change with the iterate"
    assert "it=1" in page.url                                    # the iterate is in the address
    assert streamlit_exceptions(page) == [] and js_errors == []
    save_screenshot(page, "3_Newton_method-2d-step1")


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("sec", list(MAIN_CHART))
def test_each_section_reads_at_1024(page, page_url, wait_for_app_idle, streamlit_exceptions, js_errors,
                                    save_screenshot, sec, lang):
    page.set_viewport_size(PROJECTOR)
    open_newton(page, page_url, wait_for_app_idle, f"?sec={sec}&lang={lang}")
    assert streamlit_exceptions(page) == [] and js_errors == []
    assert page.locator(".katex-error").count() == 0
    assert clipped_texts(page) == []
    assert page.evaluate(CHART_TEXT_OUTSIDE_JS) == []
    # the first screen shows the section's main chart (at least its top)
    top = page.locator(f".st-key-{MAIN_CHART[sec]}").bounding_box()
    assert top is not None and top["y"] < PROJECTOR["height"] - 120, top
    save_screenshot(page, f"3_Newton_method-{sec}-{lang}-1024")


@pytest.mark.parametrize("sec", list(MAIN_CHART))
def test_presenter_mode_puts_the_chart_in_the_first_screen(page, page_url, wait_for_app_idle, streamlit_exceptions,
                                                           save_screenshot, sec):
    page.set_viewport_size(PROJECTOR)
    open_newton(page, page_url, wait_for_app_idle, f"?sec={sec}&present=1")
    box = page.locator(f".st-key-{MAIN_CHART[sec]}").bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= PROJECTOR["height"] + 2, box
    assert box["x"] + box["width"] <= PROJECTOR["width"], box
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= PROJECTOR["width"] + 1
    assert clipped_texts(page) == [] and page.evaluate(CHART_TEXT_OUTSIDE_JS) == []
    assert streamlit_exceptions(page) == []
    save_screenshot(page, f"3_Newton_method-{sec}-present-1024")
