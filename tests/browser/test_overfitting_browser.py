"""Chapter 5 in Chromium: the page opens without an error box, and switching to the cliff section
draws the contour with the warning about the thrown run (screenshot in test-results/screenshots/)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PAGE = "pages/5_Overfitting_and_gradients.py"


def test_overfitting_page_opens_and_switches_to_the_cliff(page, open_app_page, rerun_after, streamlit_exceptions,
                                                          js_errors, save_screenshot):
    open_app_page(page, PAGE)
    assert streamlit_exceptions(page) == []
    expect(page.get_by_text("Overfitting: a flexible model memorises the noise")).to_be_visible()
    assert page.get_by_test_id("stPlotlyChart").count() == 3

    rerun_after(page, lambda: page.get_by_role("radio", name="Clipping", exact=True).click())
    expect(page.get_by_text("was thrown out of the window")).to_be_visible()   # the caption's verdict on each run
    expect(page.get_by_text("reached the minimum", exact=False).first).to_be_visible()
    assert page.locator('[data-testid="stPlotlyChart"] .contourlayer path').count() > 0
    save_screenshot(page, "5_Overfitting_and_gradients-cliff")
    assert streamlit_exceptions(page) == []
    assert js_errors == []
