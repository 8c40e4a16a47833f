"""Every widget combination is valid or explained: random and extreme interactions on every page.

Drives at least 300 random interactions (default; OPTLAB_FUZZ_N to change, OPTLAB_FUZZ_SEED for
another seed) across all pages found on disk under AppTest: extreme slider and number values,
every option, hostile text ("1e309", "nan", "x**9**9", "__import__('os')", 5,000 characters,
unicode), button presses, chart selections and hostile shared links.  `st.error` / `st.warning`
are fine (the input was explained); an uncaught exception or a script run over the timeout is a
failure, printed with page, widget, value, message and a reproduction.

The fuzzer itself is tools/fuzz_pages.py (also a CLI for longer manual runs); pages run in two
worker processes with a hard time limit each, so a hanging page fails this test instead of
blocking the suite.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))  # scripts, not a package
import fuzz_pages as fuzz  # noqa: E402  (tools/fuzz_pages.py, also a CLI)

N = int(os.environ.get("OPTLAB_FUZZ_N", fuzz.DEFAULT_N))
SEED = int(os.environ.get("OPTLAB_FUZZ_SEED", fuzz.DEFAULT_SEED))


@pytest.fixture(scope="module")
def fuzz_run():
    pages = fuzz.page_files()
    if len(pages) < 2:
        pytest.skip("no pages/ yet")
    lines: list[str] = []
    out = fuzz.run_all(pages, N, SEED, jobs=2, timeout=fuzz.RUN_TIMEOUT, log=lines.append)
    out["log"] = lines
    print("\n".join(lines))
    return out


def test_every_interaction_is_valid_or_explained(fuzz_run):
    report = "\n\n".join(fuzz.format_failure(f) for f in fuzz_run["failures"])
    assert not fuzz_run["failures"], (
        f"{len(fuzz_run['failures'])} distinct failure(s) in {fuzz_run['interactions']} interactions "
        f"(seed {SEED}):\n\n{report}"
    )


def test_enough_interactions_on_every_page(fuzz_run):
    assert fuzz_run["interactions"] >= N, "\n".join(fuzz_run["log"])
    # every chapter page has widgets: a page the fuzzer could not touch was not tested at all
    untouched = {r["page"] for r in fuzz_run["results"] if r["page"] != "app.py"} - {
        r["page"] for r in fuzz_run["results"] if r["interactions"] > 0}
    assert not untouched, f"no interaction possible on {sorted(untouched)}"


def test_fuzzer_covers_hostile_kinds(fuzz_run):
    # The fuzzer must really exercise sliders, numbers, options and buttons, not only reruns.
    kinds: dict[str, int] = {}
    for r in fuzz_run["results"]:
        for k, c in r["widgets"].items():
            kinds[k] = kinds.get(k, 0) + c
    for needed in ("slider", "number_input", "selectbox", "button"):
        assert kinds.get(needed, 0) > 0, f"no {needed} was touched: {kinds}"


def test_fuzzer_detects_a_broken_page(tmp_path, monkeypatch):
    """The harness must fail on a page that raises for an extreme value (a test that cannot fail
    proves nothing): a throwaway app whose slider divides by its value."""
    (tmp_path / "pages").mkdir()
    (tmp_path / "app.py").write_text("import streamlit as st\nst.title('home')\n")
    (tmp_path / "pages" / "1_Bad.py").write_text(
        "import streamlit as st\n"
        "v = st.slider('v', 0, 10, 5, key='bad_v')\n"
        "t = st.text_input('t', 'ok', key='bad_t')\n"
        "st.write(10 / v)\n"
    )
    monkeypatch.setattr(fuzz, "APP_DIR", tmp_path)
    res = fuzz.fuzz_page("pages/1_Bad.py", 20, fuzz.DEFAULT_SEED, timeout=30)
    assert res["interactions"] == 20
    fails = res["failures"]
    assert any(f["kind"] == "exception" and "ZeroDivisionError" in f["message"] for f in fails), fails
    f = next(f for f in fails if "ZeroDivisionError" in f["message"])
    assert f["step"]["key"] == "bad_v" and f["step"]["value"] == 0
    assert f["reproduced"] and f["steps"][-1]["key"] == "bad_v"
    text = fuzz.format_failure(f)
    assert "bad_v" in text and "--replay" in text and "ZeroDivisionError" in text


def test_reproduction_is_shrunk_to_the_steps_that_matter(tmp_path, monkeypatch):
    """A failure that needs two actions (arm, then slider to 0) is reported with just those two."""
    (tmp_path / "pages").mkdir()
    (tmp_path / "app.py").write_text("import streamlit as st\nst.title('home')\n")
    (tmp_path / "pages" / "1_Armed.py").write_text(
        "import streamlit as st\n"
        "armed = st.checkbox('arm', key='arm')\n"
        "v = st.slider('v', 0, 10, 5, key='v')\n"
        "st.write(1 / v if armed else v)\n"
    )
    monkeypatch.setattr(fuzz, "APP_DIR", tmp_path)
    S = fuzz.Step
    history = [S("slider", "v", "v", 0, 3), S("checkbox", "arm", "arm", 0, True), S("slider", "v", "v", 0, 7),
               S("slider", "v", "v", 0, 0)]
    failure = fuzz.run_steps("pages/1_Armed.py", history, timeout=30)
    assert failure and failure[0] == "exception" and "ZeroDivisionError" in failure[1]
    ok, steps = fuzz._minimise("pages/1_Armed.py", history, 30, *failure)
    assert ok
    assert [(s["key"], s["value"]) for s in steps] == [("arm", True), ("v", 0)]


def test_a_slow_run_is_reported_as_a_timeout(tmp_path, monkeypatch):
    """A rerun over the time limit is a failure naming the widget, not something to wait out."""
    (tmp_path / "pages").mkdir()
    (tmp_path / "app.py").write_text("import streamlit as st\nst.title('home')\n")
    (tmp_path / "pages" / "1_Slow.py").write_text(
        "import time\nimport streamlit as st\n"
        "v = st.slider('v', 0, 10, 5, key='slow_v')\n"
        "slot = st.empty()\n"
        "for i in range(200 if v == 10 else 0):\n"
        "    time.sleep(0.05)\n"
        "    slot.write(i)  # a Streamlit call, where AppTest's stop request lands\n"
    )
    monkeypatch.setattr(fuzz, "APP_DIR", tmp_path)
    res = fuzz.fuzz_page("pages/1_Slow.py", 6, fuzz.DEFAULT_SEED, timeout=4, minimise=False)
    timeouts = [f for f in res["failures"] if f["kind"] == "timeout"]
    assert timeouts and timeouts[0]["step"]["key"] == "slow_v" and timeouts[0]["step"]["value"] == 10, res["failures"]
    assert "timed out" in timeouts[0]["message"]
