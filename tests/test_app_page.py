"""The home page (app.py): the question, a chapter map of the chapters that exist, class tips, teaser."""
from __future__ import annotations

import shutil
from pathlib import Path

from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parents[1]
QUESTION = ("How does a machine find the bottom of a loss function — and why do some optimizers get there "
            "faster, or not at all?")
CHAPTER_FILES = ["pages/1_Loss_functions.py", "pages/2_Gradient_descent.py", "pages/3_Newton_method.py",
                 "pages/4_Adaptive_methods.py", "pages/5_Overfitting_and_gradients.py",
                 "pages/6_Challenges_ahead.py", "pages/7_Optimizer_arena.py"]


def links(at) -> list[str]:
    """The chapter map's links (the sidebar's page links are the navigation, tested in test_i18n_ui)."""
    return [e.proto.page for e in at.main.get("page_link")]


def test_home_renders_question_map_and_teaser(app_test, plotly_spec):
    at = app_test()
    assert not at.exception
    assert at.title[0].value.endswith("OptLab")
    assert any(QUESTION in m.value for m in at.markdown)
    existing = [f for f in CHAPTER_FILES if (REPO / f).exists()]
    assert len(links(at)) == len(existing) >= 1  # one link per chapter that exists
    assert "Optimizer_arena" in links(at)
    assert any("Using this in class" in s.value for s in at.subheader)
    text = " ".join(m.value for m in at.markdown)
    for tip in ("embed=true", "Presets", "Shareable links", "wide mode"):
        assert tip in text
    spec = plotly_spec(at, 0)
    names = [t.get("name") for t in spec["data"]]
    assert "SGD (lr = 0.001)" in names and "Adam (lr = 0.05)" in names
    colours = {t["name"]: t["line"]["color"] for t in spec["data"] if t.get("mode") == "lines"}
    assert colours == {"SGD (lr = 0.001)": "#0072B2", "Adam (lr = 0.05)": "#D55E00"}  # the caption names them
    at.run()
    assert not at.exception


def test_unbuilt_chapters_are_not_listed(tmp_path):
    """A copy of app.py next to a pages/ folder holding only one chapter links that chapter only."""
    shutil.copy(REPO / "app.py", tmp_path / "app.py")
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "3_Newton_method.py").write_text("import streamlit as st\nst.title('Newton')\n")
    at = AppTest.from_file(str(tmp_path / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    assert links(at) == ["Newton_method"]
    assert [e.proto.label for e in at.main.get("page_link")] == ["**Newton's method**"]
