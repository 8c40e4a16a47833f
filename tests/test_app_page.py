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
    for tip in ("present=1", "teacher=1", "Commit", "Lessons", "Shareable links"):
        assert tip in text
    spec = plotly_spec(at, 0)
    names = [t.get("name") for t in spec["data"]]
    assert "SGD (lr = 0.001)" in names and "Adam (lr = 0.05)" in names
    colours = {t["name"]: t["line"]["color"] for t in spec["data"]
               if t.get("mode") == "lines" and t.get("meta", {}).get("role") != "halo"}  # not the white casings
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


# ----------------------------------------------------------------------------------------------
# The chapter map keeps its promises
# ----------------------------------------------------------------------------------------------
# Topics a promise may name, each with the words that show the page covers it (any of them).
TOPICS = {
    "momentum": ("momentum",), "Nesterov": ("Nesterov",), "narrow valley": ("narrow", "condition number"),
    "mini-batch": ("mini-batch",), "stochastic": ("stochastic", "SGD"), "schedule": ("schedule",),
    "learning rate": ("learning rate", "lr"), "diverges": ("diverg",), "Huber": ("Huber",),
    "cross-entropy": ("cross-entropy",), "absolute": ("absolute", "MAE"), "gradient": ("gradient",),
    "Hessian": ("Hessian",), "saddle": ("saddle",), "quadratic": ("quadratic",), "AdaGrad": ("AdaGrad",),
    "RMSProp": ("RMSProp",), "Adam": ("Adam",), "regularization": ("regulari",), "validation": ("validation",),
    "vanishing": ("vanishing",), "exploding": ("exploding",), "clipping": ("clipping",), "tune": ("tune",),
    "link": ("link",), "race": ("race",), "coordinate": ("coordinate",),
    "machines": ("machine",), "stale": ("stale",), "tasks": ("task",), "privacy": ("privacy",),
    "poor minimum": ("poor minimum", "poor local minimum"),
}
NAV = {"Section", "View", "difference"}


def promises() -> dict[str, str]:
    """page file -> what the home page says it teaches (read from app.py's source, not run)."""
    import ast

    tree = ast.parse((REPO / "app.py").read_text())
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name, value = node.targets[0].id, node.value
            if name == "CHAPTERS" and isinstance(value, ast.List):   # (file, title, icon, teaches)
                for t in value.elts:
                    file, _t, _i, text = (ast.literal_eval(e) for e in t.elts)
                    found[file] = text
            if name == "TEACHES" and isinstance(value, ast.Dict):    # page name -> N_("teaches")
                for k, v in zip(value.keys, value.values):
                    text = ast.literal_eval(v.args[0] if isinstance(v, ast.Call) else v)
                    file = next((f for f in CHAPTER_FILES if f.endswith(f"_{ast.literal_eval(k)}.py")), None)
                    if file:
                        found[file] = text
    return found


def page_text(file: str) -> str:
    """Everything the page writes (titles, markdown, captions, labels, options) over its sections."""
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.run()
    at.switch_page(file).run()

    def texts():
        # what the page says about its topics; not the update rules it quotes (SGD's names momentum)
        out = [e.value for kind in ("title", "header", "subheader", "markdown", "caption", "info")
               for e in getattr(at, kind)
               if not e.value.startswith("**torch vs textbook:**") and " = `torch.optim." not in e.value]
        for w in list(at.radio) + list(at.selectbox) + list(at.slider) + list(at.button_group) + list(at.button):
            out.append(str(getattr(w, "label", "")))
            out += [str(o) for o in getattr(w, "options", []) or []]
        out += [p.proto.popover.label for p in at.get("popover")]  # "🔗 Copy link"
        return out

    seen = texts()
    for w in [w for w in list(at.radio) + list(at.button_group) if w.label in NAV and w.key]:
        opts = ([(o.content_icon + " " + o.content) if o.content_icon else o.content for o in w.proto.options]
                if w.type == "button_group" else list(w.options))
        for o in opts[1:]:
            at.session_state[w.key] = o
            at.run()
            seen += texts()
        at.session_state[w.key] = opts[0]
    return " ".join(seen)


def test_every_chapter_keeps_its_promises():
    import re

    found = promises()
    existing = [f for f in CHAPTER_FILES if (REPO / f).exists()]
    assert set(existing) <= set(found), "a chapter has no promise on the home page"
    broken = []
    for file in existing:
        promise = found[file]
        named = [t for t in TOPICS if re.search(rf"\b{re.escape(t)}", promise, re.IGNORECASE)]
        assert named, f"no topic of {file}'s promise is known to this test: {promise!r}"
        text = page_text(file).lower()
        broken += [f"{file} promises {t!r} but never mentions it" for t in named
                   if not any(w.lower() in text for w in TOPICS[t])]
    assert not broken, "\n".join(broken)
