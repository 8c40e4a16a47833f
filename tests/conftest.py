"""Shared test helpers: where the app is, its pages, AppTest and Plotly decoding.

The app under test is `app.py` + `pages/*.py` in the repository root, or in the folder named by
the environment variable OPTLAB_APP_DIR (used to develop these fixtures against a throwaway app).

Fixtures for page tests (AppTest, no browser):
    app_dir                      Path of the folder holding app.py
    app_page_files               ["app.py", "pages/1_….py", …] in sidebar order
    page_file                    a test that takes this argument runs once per page (see
                                 pytest_generate_tests below)
    app_test(page=None)          AppTest of app.py, run, then switched to `page` and run
    fresh_streamlit_cache        clears st.cache_data / st.cache_resource before and after
    plotly_spec(at, i=0)         the i-th st.plotly_chart of an AppTest as a figure dict
    plotly_array(v)              a Plotly data array (plain list or base64 "bdata") as NumPy

The same helpers are plain functions too: `from conftest import APP_DIR, page_files, plotly_spec,
plotly_array, plotly_charts, clear_streamlit_cache` works in tests/*.py (tests/browser is a
package, so its own conftest does not take the module name `conftest`).
Browser tests (headless Chromium) and their fixtures: tests/browser/conftest.py. They run after
all other tests (see pytest_collection_modifyitems).
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
APP_DIR = Path(os.environ.get("OPTLAB_APP_DIR") or REPO_ROOT).resolve()

# .streamlit/config.toml hides exception details from students (showErrorDetails = "none"); the
# in-process AppTests of this suite need them to say what failed. Servers started by the tests
# keep the file's setting (tests/test_server_hardening.py checks what a browser gets).
from streamlit import config as _st_config  # noqa: E402

_st_config.set_option("client.showErrorDetails", "full")

# Streamlit's classic pages/ rule (streamlit.source_util.PAGE_FILENAME_REGEX): an optional number
# sets the order, the rest of the file name is the page name and URL path.
_PAGE_FILENAME = re.compile(r"([0-9]*)[_ -]*(.*)\.py")


def _page_sort_key(path: Path) -> tuple[float, str]:
    number, label = _PAGE_FILENAME.fullmatch(path.name).groups()
    return (float(number) if number else float("inf"), label.lower())


def page_files(app_dir: Path = APP_DIR) -> list[str]:
    """Page scripts relative to app_dir: the entrypoint first, then pages/ in sidebar order."""
    if not (app_dir / "app.py").is_file():
        return []
    pages = [
        p
        for p in (app_dir / "pages").glob("*.py")
        if not p.name.startswith(".") and p.name != "__init__.py"  # Streamlit's own rule
    ]
    return ["app.py"] + [f"pages/{p.name}" for p in sorted(pages, key=_page_sort_key)]


def page_id(page_file: str) -> str:
    """Short name of a page for test ids and screenshot files: the file stem ("app", "1_Loss")."""
    return Path(page_file).stem


def clear_streamlit_cache() -> None:
    """Empty Streamlit's process-global caches, which outlive AppTest instances."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()


def plotly_array(v) -> np.ndarray:
    """Decode a Plotly data array: plotly >= 6 sends NumPy arrays as {"dtype", "bdata"[, "shape"]}."""
    if isinstance(v, dict) and "bdata" in v:
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        if "shape" in v:
            shape = v["shape"]
            shape = [int(s) for s in shape.split(",")] if isinstance(shape, str) else list(shape)
            a = a.reshape(shape)
        return a
    return np.asarray(v)


def plotly_charts(at) -> list:
    """All st.plotly_chart elements of an AppTest (there is no typed accessor)."""
    return list(at.get("plotly_chart"))


def plotly_spec(at, i: int = 0) -> dict:
    """Figure JSON (data, layout, frames) of the i-th Plotly chart of an AppTest."""
    charts = plotly_charts(at)
    if i >= len(charts):
        raise AssertionError(f"page has {len(charts)} plotly chart(s); asked for index {i}")
    return json.loads(charts[i].proto.spec)


# --- collection ---------------------------------------------------------------------------------

collect_ignore: list[str] = []
_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
if importlib.util.find_spec("pytest_playwright") is None and not _CI:
    # Only requirements.txt installed: leave the browser tests out instead of erroring on them.
    collect_ignore.append("browser")


# In CI a skip is a failure: a test that cannot run there is a check that silently stopped checking
# (a missing package, Chromium, a catalog). Only what a clean checkout cannot have may skip.
CI_MAY_SKIP = ("the seed article is not on this machine",)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not (_CI and report.skipped) or hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if any(ok in reason for ok in CI_MAY_SKIP):
        return
    report.outcome = "failed"
    report.longrepr = f"skipped in CI (CI is set, so a skip fails): {reason}"


def pytest_report_header(config):
    import importlib.metadata as md

    def version(name):
        try:
            return md.version(name)
        except md.PackageNotFoundError:
            return "not installed"

    lines = [
        f"optlab app: {APP_DIR} ({len(page_files())} pages)",
        "versions: " + ", ".join(
            f"{n} {version(n)}" for n in ("numpy", "streamlit", "plotly", "sympy", "playwright")
        ),
    ]
    if collect_ignore:
        lines.append("browser tests left out: pytest-playwright is not installed (requirements-dev.txt)")
    return lines


def pytest_collection_modifyitems(config, items):
    # Browser tests last (stable sort). pytest-playwright's sync Playwright runs an asyncio loop
    # in the main thread from the first browser test to the end of the session, so asyncio.run()
    # in any test after it fails; and the fast unit tests report first.
    items.sort(
        key=lambda item: item.get_closest_marker("browser") is not None
        or item.path.parent.name == "browser"
    )


def pytest_generate_tests(metafunc):
    # Any test with a `page_file` argument runs once per page found on disk, so new pages are
    # tested without editing the tests.
    explicit = any(
        "page_file" in (m.args[0] if isinstance(m.args[0], (list, tuple)) else m.args[0].split(","))
        for m in metafunc.definition.iter_markers("parametrize")
    )
    if "page_file" in metafunc.fixturenames and not explicit:
        files = page_files()
        metafunc.parametrize("page_file", files, ids=[page_id(f) for f in files])


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _language_of_the_test_thread():
    """Each test starts and ends in English in its own thread (optlab.i18n's ContextVar): a test
    that activates a language (i18n_check.open_in does, for AppTest's format_func calls) does not
    leak it into the next test."""
    from optlab import i18n

    token = i18n._LANG.set(None)
    yield
    i18n._LANG.reset(token)


@pytest.fixture(scope="session")
def app_dir() -> Path:
    return APP_DIR


@pytest.fixture(scope="session")
def app_page_files() -> list[str]:
    return page_files()


@pytest.fixture
def fresh_streamlit_cache():
    clear_streamlit_cache()
    yield
    clear_streamlit_cache()


@pytest.fixture
def app_test(app_dir):
    """Factory: app_test(page="pages/2_X.py", timeout=60) -> AppTest already run on that page.

    The entrypoint runs first (as in a browser, and as switch_page requires); AppTest resolves a
    relative script path against the calling file, so the absolute path is passed here.
    """
    from streamlit.testing.v1 import AppTest

    def make(page: str | None = None, timeout: float = 60):
        at = AppTest.from_file(str(app_dir / "app.py"), default_timeout=timeout)
        at.run()
        if page not in (None, "app.py"):
            at.switch_page(page).run()
        return at

    return make


@pytest.fixture(name="plotly_spec")
def _plotly_spec_fixture():
    return plotly_spec


@pytest.fixture(name="plotly_array")
def _plotly_array_fixture():
    return plotly_array
