"""The "Adaptive methods" page in headless Chromium: it opens without an error box, a section can be
chosen, the step slider reruns the page, and the update rules render as KaTeX (no red errors)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PAGE = "pages/4_Adaptive_methods.py"


def test_adaptive_page_state_section(page, open_app_page, rerun_after, streamlit_exceptions, js_errors,
                                     save_screenshot):
    open_app_page(page, PAGE)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("What do momentum and adaptive step sizes keep in memory", exact=False)).to_be_visible()
    assert page.locator(".katex-error").count() == 0

    rerun_after(page, lambda: main.get_by_text("State at a step", exact=True).first.click())
    expect(main.get_by_text("What each optimizer holds at one step")).to_be_visible()

    slider = main.get_by_role("slider", name="show step t")
    before = float(slider.input_value())
    slider.focus()
    rerun_after(page, lambda: page.keyboard.press("ArrowRight"))
    assert float(slider.input_value()) == before + 1
    expect(main.get_by_text(f"Step {int(before) + 1}, number by number")).to_be_visible()

    save_screenshot(page, "4_Adaptive_methods-state")
    assert streamlit_exceptions(page) == []
    assert page.locator(".katex-error").count() == 0
    assert js_errors == []
