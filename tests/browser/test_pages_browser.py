"""Every page opens in headless Chromium with no error box, is photographed, and survives one
step of its first slider.

Screenshots: test-results/screenshots/<page file stem>.png (kept as CI artifacts; look at them).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from playwright.sync_api import expect

from .conftest import url_path

pytestmark = pytest.mark.browser


def test_page_opens_and_survives_a_slider_step(
    page, page_file, open_app_page, rerun_after, streamlit_exceptions, js_errors, save_screenshot
):
    open_app_page(page, page_file)
    save_screenshot(page, Path(page_file).stem)  # first, so a failing page is pictured too

    assert streamlit_exceptions(page) == [], f"{page_file} shows an exception"
    assert js_errors == [], f"{page_file}: uncaught JavaScript errors"

    # The cheapest interaction every page with a slider supports: one keyboard step of its first
    # slider (main area or sidebar) reruns the page, and the page must survive it. (Selected by
    # the input: get_by_role("slider") misses some, the inputs being visually hidden.)
    sliders = page.locator('[data-testid="stSlider"] input[type="range"]')
    if sliders.count() == 0:
        return
    slider = sliders.first  # the low thumb of a range slider
    before = float(slider.input_value())
    slider.focus()
    at_max = before >= float(slider.get_attribute("max"))
    rerun_after(page, lambda: page.keyboard.press("ArrowLeft" if at_max else "ArrowRight"))

    assert float(slider.input_value()) != before
    assert streamlit_exceptions(page) == [], f"{page_file} shows an exception after a slider step"
    assert js_errors == [], f"{page_file}: uncaught JavaScript errors after a slider step"


def test_sidebar_links_every_page(page, app_page_files, open_app_page, page_url):
    # Streamlit's own page list is off (client.showSidebarNavigation = false): every page draws
    # translated st.page_link entries instead, which carry ?lang=… (optlab/ui/i18n.py).
    open_app_page(page, "app.py")

    links = page.locator('[data-testid="stSidebar"] [data-testid="stPageLink"] a')
    expect(links).to_have_count(len(app_page_files))
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert [h.split("?")[0].rstrip("/").rsplit("/", 1)[-1] for h in hrefs] == [url_path(f) for f in app_page_files]
    assert all("lang=" in h for h in hrefs)
    assert page.get_by_test_id("stSidebarNav").count() == 0
