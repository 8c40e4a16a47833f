"""Browser-test fixtures: one Streamlit server per test session, Playwright on Debian's Chromium.

Write interaction tests in tests/browser/test_<something>.py:

    import pytest
    from playwright.sync_api import expect

    pytestmark = pytest.mark.browser

    def test_play_moves_marker(page, open_app_page, rerun_after, streamlit_exceptions):
        open_app_page(page, "pages/2_Optimizers.py")
        page.get_by_role("slider").first.focus()
        rerun_after(page, lambda: page.keyboard.press("ArrowRight"))
        chart = page.get_by_test_id("stPlotlyChart").first
        chart.locator(".updatemenu-button").first.click()      # Plotly's Play: no rerun
        assert streamlit_exceptions(page) == []

Fixtures:
    app_server                  .url, .pid, .log_path of the server (one per test session)
    app_url                     "http://127.0.0.1:PORT"
    page                        pytest-playwright's page (a fresh browser context, so a fresh
                                Streamlit session, per test) with its script runs counted
    open_app_page(page, f)      go to page file f ("app.py", "pages/2_X.py"), wait for its run
    rerun_after(page, action)   do action() and wait for the rerun it causes to finish
    wait_for_app_idle(page)     idle, charts drawn, widgets mounted (not proof a rerun happened)
    page_url(f)                 URL of page file f
    streamlit_exceptions(page)  texts of the error boxes shown (want [])
    js_errors                   uncaught JavaScript errors of `page` so far (want [])
    save_screenshot(page, name) whole-page PNG in test-results/screenshots/

Chromium: $CHROMIUM or /usr/bin/chromium (Debian package `chromium`). Never `playwright install`.
If it is missing the browser tests are skipped with a hint, except under CI (CI set), where they
fail: a CI run that silently skips its browser tests proves nothing.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
import urllib.parse
import urllib.request
import weakref
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))  # scripts, not a package
import serve  # noqa: E402  tools/serve.py: the server start/stop the tools use too
# what "the page has settled" means, shared with tools/screenshot_pages.py
from screenshot_pages import APP_IDLE, CHARTS_DRAWN_JS, CHROMIUM_ARGS, SETTLE_JS  # noqa: E402

VIEWPORT = {"width": 1280, "height": 1000}
EXCEPTION = '[data-testid="stException"]'


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def find_chromium() -> str | None:
    return shutil.which(os.environ.get("CHROMIUM") or "/usr/bin/chromium")


def url_path(page_file: str) -> str:
    """URL path of a page, by Streamlit's classic pages/ rules.

    app.py -> "" (the root); pages/3_Learning_rate.py -> "Learning_rate": the leading number and
    separators go, runs of spaces/underscores become one "_", a leading emoji (the page icon) goes.
    """
    if "/" not in page_file:
        return ""
    from streamlit.source_util import page_icon_and_name  # the rule itself, not a copy

    return page_icon_and_name(Path(page_file))[1]


# --- server -------------------------------------------------------------------------------------


@dataclass
class AppServer:
    url: str
    pid: int
    log_path: Path


@pytest.fixture(scope="session")
def app_server(app_dir, tmp_path_factory):
    """`streamlit run app.py` on a free loopback port, with this interpreter (the venv's)."""
    if not (app_dir / "app.py").is_file():
        pytest.fail(f"no app.py in {app_dir}", pytrace=False)
    log_path = tmp_path_factory.mktemp("streamlit") / "server.log"
    try:
        proc, url = serve.start_server(app_dir, log_path)
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        yield AppServer(url=url, pid=proc.pid, log_path=log_path)
    finally:
        serve.stop_server(proc)


@pytest.fixture(scope="session")
def app_url(app_server) -> str:
    return app_server.url


# --- browser (pytest-playwright hooks) ----------------------------------------------------------


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    path = find_chromium()
    if path is None:
        wanted = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
        msg = (
            f"Chromium not found at {wanted}. Browser tests use Debian's Chromium: "
            "`apt-get install chromium fonts-noto-color-emoji` (as root), or set CHROMIUM to a "
            "Chromium binary. Do not run `playwright install`."
        )
        if in_ci():
            pytest.fail("CI is set and " + msg, pytrace=False)
        pytest.skip(msg)
    return path


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, chromium_executable):
    return {
        **browser_type_launch_args,
        "executable_path": chromium_executable,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": VIEWPORT}


# --- script runs, seen on the app's websocket ---------------------------------------------------


class ScriptRuns:
    """Counts the script runs a page's Streamlit session finished, from the websocket frames.

    Exact where DOM attributes are not: a fast rerun can flip the app's script state to "running"
    and back within one render, and the idle state reads "notRunning" before a run begins.
    """

    def __init__(self):
        self.finished = 0  # complete runs (a run interrupted by a newer one does not count)
        self.exceptions = 0  # st.exception elements the server sent

    def attach(self, ws) -> None:
        if ws.url.endswith("/_stcore/stream"):
            ws.on("framereceived", self._on_frame)

    def _on_frame(self, payload) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        if isinstance(payload, str):
            return
        msg = ForwardMsg()
        msg.ParseFromString(payload)
        kind = msg.WhichOneof("type")
        if kind == "script_finished" and msg.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
            self.finished += 1
        elif (
            kind == "delta"
            and msg.delta.WhichOneof("type") == "new_element"
            and msg.delta.new_element.WhichOneof("type") == "exception"
        ):
            self.exceptions += 1


_RUNS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


@pytest.fixture
def page(page):
    """pytest-playwright's page, with its Streamlit script runs counted (see ScriptRuns)."""
    runs = ScriptRuns()
    page.on("websocket", runs.attach)
    _RUNS[page] = runs
    return page


def script_runs(page) -> ScriptRuns:
    if page not in _RUNS:
        raise RuntimeError("use the `page` fixture of tests/browser (it counts script runs)")
    return _RUNS[page]


def _wait_until(page, condition, timeout_ms: float, what: str) -> None:
    # Playwright's sync API delivers websocket events while it waits, so wait in short slices.
    deadline = time.monotonic() + timeout_ms / 1000
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_ms / 1000:.0f} s waiting for {what}")
        page.wait_for_timeout(50)


# --- helpers ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def wait_for_app_idle():
    """wait_for_app_idle(page): connected, no script running, every chart drawn, widgets mounted.

    This alone cannot tell a finished rerun from one not yet begun: after an action that reruns
    the script, use rerun_after(page, action) instead.
    """

    def wait(page, timeout: float = 60_000):
        page.wait_for_selector(APP_IDLE, timeout=timeout)
        page.wait_for_function(CHARTS_DRAWN_JS, timeout=timeout)
        page.evaluate(SETTLE_JS, [250, 5_000])

    return wait


@pytest.fixture(scope="session")
def rerun_after(wait_for_app_idle):
    """rerun_after(page, action): do action() (a key press, a click) and wait until the script
    run it causes has finished and the page has settled."""

    def run(page, action, timeout: float = 60_000):
        runs = script_runs(page)
        before = runs.finished
        action()
        _wait_until(page, lambda: runs.finished > before, timeout, "the rerun to finish")
        wait_for_app_idle(page, timeout)
        return page

    return run


@pytest.fixture(scope="session")
def page_url(app_url):
    """page_url("pages/2_Optimizers.py") -> "http://127.0.0.1:PORT/Optimizers"."""

    def url(page_file: str) -> str:
        return f"{app_url}/{url_path(page_file)}"

    return url


@pytest.fixture(scope="session")
def open_app_page(page_url, wait_for_app_idle):
    """open_app_page(page, "pages/1_X.py"): load it, wait for its first run to finish and settle.

    Fails if Streamlit fell back to the main page (it does that for an unknown URL path).
    """

    def open_(page, page_file: str, timeout: float = 60_000):
        runs = script_runs(page)
        before = runs.finished
        target = page_url(page_file)
        page.goto(target, timeout=timeout)
        _wait_until(page, lambda: runs.finished > before, timeout, f"the first run of {page_file}")
        wait_for_app_idle(page, timeout)
        # Compare paths only: pages may write their settings into the query string.
        at = urllib.parse.urlsplit(page.url).path.rstrip("/")
        assert at == urllib.parse.urlsplit(target).path.rstrip("/"), (
            f"{page_file}: expected {target}, browser is at {page.url} (unknown URL path?)"
        )
        return page

    return open_


@pytest.fixture(scope="session")
def streamlit_exceptions():
    """streamlit_exceptions(page) -> texts of the st.exception boxes shown (want: [])."""

    def texts(page) -> list[str]:
        return page.locator(EXCEPTION).all_inner_texts()

    return texts


@pytest.fixture
def js_errors(page) -> list[str]:
    """Uncaught JavaScript errors of `page` during the test (console noise is not included)."""
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


@pytest.fixture(scope="session")
def screenshot_dir(pytestconfig) -> Path:
    d = pytestconfig.rootpath / "test-results" / "screenshots"
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture(scope="session")
def save_screenshot(screenshot_dir):
    """save_screenshot(page, name) -> Path of a PNG of the whole page (test-results/screenshots/).

    Streamlit scrolls inside its own container, so Playwright's full_page cannot see past the
    window: the viewport is stretched to the content height for the shot, then restored.
    """

    def shoot(page, name: str, max_height: int = 8000) -> Path:
        size = page.viewport_size or VIEWPORT
        height = page.evaluate(
            """() => { const m = document.querySelector('[data-testid="stMain"]');
                       return m ? m.scrollHeight : document.body.scrollHeight; }"""
        )
        tall = {"width": size["width"], "height": min(max(size["height"], height), max_height)}
        page.set_viewport_size(tall)
        try:
            page.evaluate(SETTLE_JS, [250, 3_000])  # Plotly relayouts to the new size
            # pytest-playwright empties test-results/ at the start of every pytest run, including
            # one running beside this one in the same tree: make the folder again if it went.
            screenshot_dir.mkdir(parents=True, exist_ok=True)
            path = screenshot_dir / f"{name}.png"
            page.screenshot(path=str(path))
        finally:
            page.set_viewport_size(size)
        return path

    return shoot


def pytest_configure(config):
    # A failing browser test leaves a screenshot in test-results/<test>/ (a CI artifact), unless
    # the command line asked for something else.
    if getattr(config.option, "screenshot", None) == "off":
        config.option.screenshot = "only-on-failure"
