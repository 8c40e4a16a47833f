"""The adaptive page's sections in presenter mode at 1024×768 (a classroom projector): each
section's main chart is in the first screen, nothing scrolls sideways; in English and Chinese."""
from __future__ import annotations

import pytest

from tests.browser.test_presenter import PROJECTOR, assert_fits, open_url  # the momentum section's checks

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("sec", ["state", "family", "schedules", "finder"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_section_main_chart_fits_a_projector(page, page_url, wait_for_app_idle, streamlit_exceptions, sec, lang,
                                             save_screenshot):
    page.set_viewport_size(PROJECTOR)
    open_url(page, page_url, wait_for_app_idle, f"?present=1&sec={sec}&lang={lang}")
    save_screenshot(page, f"4_Adaptive_methods-present-{sec}-{lang}")
    assert_fits(page)
    assert streamlit_exceptions(page) == []
