"""The Newton chapter in headless Chromium: it opens without an error box or a KaTeX error, and
stepping Newton's iterates with the ▶ button redraws the surface figure (a fragment rerun)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PAGE = "pages/3_Newton_method.py"


def test_newton_page_steps_through_iterates(page, open_app_page, rerun_after, streamlit_exceptions, js_errors,
                                            save_screenshot):
    open_app_page(page, PAGE)
    save_screenshot(page, "3_Newton_method-opened")
    assert streamlit_exceptions(page) == []
    assert page.locator(".katex-error").count() == 0, "a formula failed to render"
    expect(page.get_by_text("What does knowing the curvature buy you", exact=False)).to_be_visible()

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
    assert streamlit_exceptions(page) == []
    assert page.locator(".katex-error").count() == 0
    assert js_errors == []
    save_screenshot(page, "3_Newton_method-step1")
