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
    expect(chart.locator(".scatterlayer .trace path.js-line")).to_have_count(3)
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
    expect(x0).not_to_have_value("-1.500", timeout=30_000)
    wait_for_app_idle(page)
    assert abs(float(x0.input_value()) - 1.0) < 0.11 and abs(float(y0.input_value()) - 0.0) < 0.11
    assert "x=" in page.url and streamlit_exceptions(page) == []
