"""The page "Gradient descent" in headless Chromium: it opens, draws its charts, formulas and the
article's programs, warns about a diverging preset, and never shows a Streamlit exception or a
KaTeX error."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

P2 = "pages/2_Gradient_descent.py"


def _no_errors(page, streamlit_exceptions, js_errors):
    assert streamlit_exceptions(page) == []
    assert page.locator(".katex-error").count() == 0  # KaTeX shows unparsable LaTeX as red text
    assert js_errors == []


def test_gradient_descent_page_diverging_preset(page, open_app_page, rerun_after, streamlit_exceptions, js_errors,
                                                save_screenshot):
    """One section at a time: Batch vs SGD shows its two charts; Learning rate's "diverging" preset
    shows the named divergence box; the Article's code section shows the article's two programs."""
    open_app_page(page, P2)
    assert page.locator('[data-testid="stPlotlyChart"]').count() >= 2  # the surface and the progress curves
    rerun_after(page, lambda: page.get_by_text("Learning rate", exact=True).click())
    assert page.locator('[data-testid="stPlotlyChart"]').count() >= 2
    option = page.get_by_text("diverging (lr = 1.2)", exact=True)
    rerun_after(page, lambda: option.click())
    alert = page.locator('[data-testid="stAlert"]').filter(has_text="diverged at step")
    expect(alert.first).to_be_visible()
    _no_errors(page, streamlit_exceptions, js_errors)
    save_screenshot(page, "2_Gradient_descent_diverging")
    rerun_after(page, lambda: page.get_by_text("Article's code", exact=True).click())
    assert page.locator('[data-testid="stCode"]').count() >= 2  # the article's two programs
    _no_errors(page, streamlit_exceptions, js_errors)
