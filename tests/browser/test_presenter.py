"""Presenter mode, lessons and links in headless Chromium.

At 1024×768 (a classroom projector) with ?present=1: the main chart is in the first screen, nothing
scrolls sideways, the sidebar and Streamlit's chrome are hidden.  A projected lesson: the step's
question sits beside the chart, a committed prediction is checked; → and ← step the lesson unless a
slider (or another widget) has the focus.  Hostile links: the phishing link renders no link or
image, and a link Streamlit drops for its size is named.  Screenshots go to
test-results/screenshots/ (presenter-*.png).
"""
from __future__ import annotations

import urllib.parse

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PAGE = "pages/4_Adaptive_methods.py"
PROJECTOR = {"width": 1024, "height": 768}
PHISHING = "**Session expired** [log in again](https://evil.example/login) ![](http://host/pixel.png)"

GEOMETRY_JS = """() => {
  const c = document.querySelector('[data-testid="stPlotlyChart"]');
  const r = c.getBoundingClientRect();
  const main = document.querySelector('[data-testid="stMain"]');
  const vis = s => [...document.querySelectorAll(s)].some(e => e.offsetParent !== null && e.getBoundingClientRect().width > 0);
  return {top: r.top, bottom: r.bottom, left: r.left, right: r.right,
          scrollWidth: Math.max(main.scrollWidth, document.documentElement.scrollWidth),
          clientWidth: Math.min(main.clientWidth, document.documentElement.clientWidth),
          sidebar: vis('[data-testid="stSidebar"]'), header: vis('[data-testid="stHeader"]'),
          toolbar: vis('[data-testid="stToolbar"]'),
          fontSize: parseFloat(getComputedStyle(document.documentElement).fontSize)};
}"""


def query_of(page) -> dict:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(page.url).query))


def open_url(page, page_url, wait_for_app_idle, query: str):
    page.goto(page_url(PAGE) + query, timeout=60_000)
    page.wait_for_selector('[data-testid="stPlotlyChart"]', timeout=60_000)
    wait_for_app_idle(page)


def assert_fits(page):
    g = page.evaluate(GEOMETRY_JS)
    assert g["top"] >= 0 and g["bottom"] <= PROJECTOR["height"], f"main chart not in the first screen: {g}"
    assert g["right"] <= PROJECTOR["width"], g
    assert g["scrollWidth"] <= g["clientWidth"] + 1, f"horizontal scroll: {g}"
    assert not g["sidebar"] and not g["header"] and not g["toolbar"], g
    assert g["fontSize"] >= 16 * 1.29, f"text not enlarged: {g['fontSize']} px"
    return g


@pytest.fixture
def projector(page):
    page.set_viewport_size(PROJECTOR)
    return page


def test_presenter_mode_fits_a_projector(projector, page_url, wait_for_app_idle, streamlit_exceptions, js_errors):
    page = projector
    open_url(page, page_url, wait_for_app_idle, "?present=1&k=50&lr=0.02")
    assert_fits(page)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("ρ per step", exact=False)).to_be_visible()  # the key numbers beside the chart
    numbers = main.get_by_text("ρ per step", exact=False).bounding_box()
    assert numbers["y"] + numbers["height"] <= PROJECTOR["height"], numbers  # the key numbers too
    page.screenshot(path=str(_shot_dir(page) / "presenter-momentum-1024x768.png"))
    assert query_of(page).get("present") == "1"
    assert streamlit_exceptions(page) == [] and js_errors == []


def test_projected_lesson_checks_a_prediction_and_steps_with_the_arrow_keys(
        projector, page_url, wait_for_app_idle, rerun_after, streamlit_exceptions, js_errors):
    page = projector
    open_url(page, page_url, wait_for_app_idle, "?present=1&lesson=momentum&step=2")
    assert_fits(page)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("step 2 of 10", exact=False)).to_be_visible()
    commit = main.get_by_role("button", name="Commit")
    box = commit.bounding_box()
    assert box["y"] + box["height"] <= PROJECTOR["height"], "Commit is in the first screen"
    assert main.locator(".scatterlayer path.js-line").count() == 0, "no path before Commit"
    page.screenshot(path=str(_shot_dir(page) / "presenter-lesson-before-commit.png"))

    rerun_after(page, lambda: main.get_by_text("A. Yes: momentum gets there", exact=False).click())
    rerun_after(page, lambda: commit.click())
    expect(main.get_by_text("Right.", exact=False)).to_be_visible()
    steps = main.get_by_text("Steps to 10⁶×:", exact=True).bounding_box()
    assert steps["y"] + steps["height"] <= PROJECTOR["height"], f"key numbers below the first screen: {steps}"
    assert main.locator(".scatterlayer path.js-line").count() >= 3, "the paths are drawn after Commit"
    page.screenshot(path=str(_shot_dir(page) / "presenter-lesson-checked.png"))

    # → with nothing focused: the next step
    page.evaluate("document.activeElement && document.activeElement.blur()")
    rerun_after(page, lambda: page.keyboard.press("ArrowRight"))
    expect(main.get_by_text("step 3 of 10", exact=False)).to_be_visible()
    assert query_of(page)["step"] == "3" and query_of(page)["b"] == "0.99"

    # → on a focused slider moves the slider, not the lesson
    slider = main.get_by_role("slider").first
    slider.focus()
    before = query_of(page).get("k")
    rerun_after(page, lambda: page.keyboard.press("ArrowRight"))
    assert query_of(page)["step"] == "3" and query_of(page).get("k") != before
    expect(main.get_by_text("step 3 of 10", exact=False)).to_be_visible()

    # ← steps back
    page.evaluate("document.activeElement && document.activeElement.blur()")
    rerun_after(page, lambda: page.keyboard.press("ArrowLeft"))
    expect(main.get_by_text("step 2 of 10", exact=False)).to_be_visible()
    assert streamlit_exceptions(page) == [] and js_errors == []


def test_phishing_link_renders_no_link_or_image(page, page_url, wait_for_app_idle, streamlit_exceptions):
    q = urllib.parse.urlencode({"s": PHISHING, "b": PHISHING})
    open_url(page, page_url, wait_for_app_idle, "?" + q)
    alert = page.get_by_test_id("stAlert").filter(has_text="not used as written")
    expect(alert).to_have_count(1)
    assert alert.locator("a, img").count() == 0
    assert page.locator('a[href*="evil.example"], img[src*="host/pixel"]').count() == 0
    expect(alert.locator("code").first).to_be_visible()
    assert streamlit_exceptions(page) == []


def test_link_too_long_for_streamlit_is_named(page, page_url, wait_for_app_idle):
    # 9,000 names (~100 kB): Streamlit drops a query string of more than 1,000 fields before the
    # script sees it; the page notices in the browser and reopens itself with too_long=N, which the
    # link warning names.  (Past ~128 kB the HTTP server itself answers 400: the app never runs.)
    q = "&".join(f"name{i}=1" for i in range(9_000))
    assert len(q) > 95_000
    page.goto(page_url(PAGE) + "?" + q, timeout=60_000)
    page.wait_for_url("**too_long**", timeout=30_000)
    page.wait_for_selector('[data-testid="stPlotlyChart"]', timeout=60_000)
    wait_for_app_idle(page)
    alert = page.get_by_test_id("stAlert").filter(has_text="settings, more than")
    expect(alert).to_have_count(1)
    assert "9,000" in alert.inner_text()
    assert "too_long" not in page.url


def _shot_dir(page):
    from pathlib import Path

    d = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
    d.mkdir(parents=True, exist_ok=True)
    return d
