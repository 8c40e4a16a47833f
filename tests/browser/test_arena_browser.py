"""The optimizer arena in headless Chromium: opens clean, the animation plays, a click sets the start."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PAGE = "pages/7_Optimizer_arena.py"
CONTOUR = '[data-testid="stPlotlyChart"] .js-plotly-plot .contourlayer path'


def test_arena_opens_clean(page, open_app_page, streamlit_exceptions, js_errors, save_screenshot):
    open_app_page(page, PAGE)
    page.wait_for_selector(CONTOUR, timeout=60_000)
    assert streamlit_exceptions(page) == []
    assert js_errors == []
    # every optimizer's path is drawn: three line traces in the contour's scatter layer
    chart = page.locator('[data-testid="stPlotlyChart"]').first
    # (each path has a light casing under it: a trace of role "halo", not counted)
    paths = chart.locator(".js-plotly-plot").first.evaluate(
        "gd => gd._fullData.filter(t => t.mode === 'lines' && !(t.meta && t.meta.role === 'halo')).length")
    assert paths == 3
    expect(chart.locator(".scatterlayer .trace path.js-line")).to_have_count(6)
    save_screenshot(page, "arena")


def test_play_animates_the_race(page, open_app_page, wait_for_app_idle, streamlit_exceptions, save_screenshot):
    open_app_page(page, PAGE)
    page.locator("[data-testid=\"stButtonGroup\"] button", has_text="Animation").first.click()
    button = page.locator('[data-testid="stPlotlyChart"] .updatemenu-button').first
    button.wait_for(timeout=60_000)
    wait_for_app_idle(page)
    plot = page.locator('[data-testid="stPlotlyChart"] .js-plotly-plot').first
    # the head markers are the last trace; read their positions from Plotly's own state
    heads = "gd => Array.from(gd._fullData[gd._fullData.length - 1].x)"
    before = plot.evaluate(heads)
    assert len(before) == 3  # one head per racer of the default race
    label = page.locator('[data-testid="stPlotlyChart"] .slider-container .slider-label').first
    assert label.text_content().strip() == "step 0"
    button.click()  # ▶ Play
    page.wait_for_function(
        """() => { const gd = document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot');
                   return gd && gd._fullLayout && gd._fullLayout._currentFrame
                          && gd._fullLayout._currentFrame !== '0'; }""", timeout=30_000)
    page.wait_for_timeout(800)
    after = plot.evaluate(heads)
    assert after != before, "the head markers did not move"
    # the surface (a layout image) is still drawn while playing
    assert plot.evaluate("gd => gd.querySelectorAll('image').length") >= 1
    assert label.text_content().strip() != "step 0"
    assert streamlit_exceptions(page) == []
    save_screenshot(page, "arena_animation")


def test_click_on_contour_sets_the_start(page, open_app_page, wait_for_app_idle, streamlit_exceptions):
    open_app_page(page, PAGE)
    page.wait_for_selector(CONTOUR, timeout=60_000)
    x0, y0 = page.get_by_label("x₀"), page.get_by_label("y₀")
    assert (x0.input_value(), y0.input_value()) == ("-1.500", "2.000")
    drag = page.locator('[data-testid="stPlotlyChart"]').first.locator(".nsewdrag").first
    box = drag.bounding_box()
    # Rosenbrock's window is x ∈ [-2, 2], y ∈ [-1, 3]: 75 % across, 75 % down is about (1, 0)
    page.mouse.click(box["x"] + 0.75 * box["width"], box["y"] + 0.75 * box["height"])
    # while the rerun draws, Streamlit keeps the old input beside the new one: wait, then read the one left
    page.wait_for_function("""() => { const v = [...document.querySelectorAll('input[aria-label="x₀"]')];
                                      return v.length === 1 && v[0].value !== '-1.500'; }""", timeout=30_000)
    wait_for_app_idle(page)
    assert abs(float(x0.input_value()) - 1.0) < 0.11 and abs(float(y0.input_value()) - 0.0) < 0.11
    assert "x=" in page.url and streamlit_exceptions(page) == []


PROJECTOR = {"width": 1024, "height": 768}
FIRST_SCREEN_JS = """(sel) => {
  const main = document.querySelector('[data-testid="stMain"]');
  const c = document.querySelector('[data-testid="stPlotlyChart"]').getBoundingClientRect();
  const key = [...document.querySelectorAll(sel)].filter(e => e.offsetParent !== null)
                .map(e => e.getBoundingClientRect()).filter(r => r.height > 0);
  return {chart: [c.top, c.bottom, c.right], key: key.length ? [key[0].top, key[0].bottom] : null,
          scroll: Math.max(main.scrollWidth, document.documentElement.scrollWidth) - main.clientWidth};
}"""


@pytest.mark.parametrize("query, key", [
    ("sec=race&lang=en", '[data-testid="stMarkdownContainer"] strong'),          # the race's verdict
    ("sec=race&lang=zh", '[data-testid="stMarkdownContainer"] strong'),
    ("sec=tune&t=1&s=quadratic&n=200&lang=en", '[data-testid="stMarkdownContainer"] li'),  # tune verdicts
    ("sec=rules&lang=zh", ".katex-display"),                                       # the update rule
], ids=["race-en", "race-zh", "tune-en", "rules-zh"])
def test_presenter_mode_shows_chart_and_key_numbers_in_the_first_screen(page, page_url, wait_for_app_idle,
                                                                        streamlit_exceptions, query, key):
    page.set_viewport_size(PROJECTOR)
    page.goto(page_url(PAGE) + "?present=1&" + query, timeout=60_000)
    page.wait_for_selector('[data-testid="stPlotlyChart"]', timeout=60_000)
    wait_for_app_idle(page)
    g = page.evaluate(FIRST_SCREEN_JS, key)
    top, bottom, right = g["chart"]
    assert top >= 0 and bottom <= PROJECTOR["height"] and right <= PROJECTOR["width"], g
    assert g["scroll"] <= 1, g
    if "rules" not in query:  # the rule itself is the section's number; it sits under its chart
        assert g["key"] is not None and g["key"][1] <= PROJECTOR["height"], g
    assert streamlit_exceptions(page) == []
