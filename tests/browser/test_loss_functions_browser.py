"""The page "Loss functions" in headless Chromium: it opens, draws its charts and formulas, reacts
to a slider, and never shows a Streamlit exception or a KaTeX error."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

P1 = "pages/1_Loss_functions.py"


def _no_errors(page, streamlit_exceptions, js_errors):
    assert streamlit_exceptions(page) == []
    assert page.locator(".katex-error").count() == 0  # KaTeX shows unparsable LaTeX as red text
    assert js_errors == []


def test_loss_functions_page_slider_redraws(page, open_app_page, rerun_after, streamlit_exceptions, js_errors,
                                            save_screenshot):
    open_app_page(page, P1)
    assert page.locator('[data-testid="stPlotlyChart"]').count() >= 8
    assert page.locator(".katex").count() >= 10
    caption = page.get_by_text("Huber with δ = 1:", exact=False).first
    expect(caption).to_be_visible()
    slider = page.get_by_role("slider").first  # Huber δ, step 0.1
    slider.focus()
    rerun_after(page, lambda: page.keyboard.press("ArrowRight"))
    expect(page.get_by_test_id("stSliderThumbValue").first).to_have_text("1.10")
    expect(page.get_by_text("Huber with δ = 1.1:", exact=False).first).to_be_visible()
    _no_errors(page, streamlit_exceptions, js_errors)
    save_screenshot(page, "1_Loss_functions_after_slider")
