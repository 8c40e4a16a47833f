"""The Newton chapter page under AppTest: it renders, every main widget changes what is shown,
diverging and undefined runs are explained in place, the typed-formula surface works (bad and
good), the guided experiments set the page up, and the captions carry the computed numbers."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

from optlab import optimizers, surfaces
from optlab.chapters import newton as qm

PAGE = "pages/3_Newton_method.py"


@pytest.fixture(scope="module")
def page_at(app_dir):
    """One AppTest on the Newton page shared by the read-only tests of this module."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(app_dir / "app.py"), default_timeout=120)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture
def at(app_test):
    a = app_test(PAGE, timeout=120)
    assert not a.exception, [e.value for e in a.exception]
    return a


def chart(at, key: str) -> dict:
    """The figure JSON of the plotly chart whose key is ``key``."""
    for c in at.get("plotly_chart"):
        if c.proto.id.endswith(f"-{key}"):
            return json.loads(c.proto.spec)
    raise AssertionError(f"no chart with key {key!r}; have {[c.proto.id.rsplit('-', 1)[-1] for c in at.get('plotly_chart')]}")


def texts(at) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption] + [w.value for w in at.warning]
                     + [e.value for e in at.error] + [i.value for i in at.info])


def latex(at) -> list[str]:
    return [x.value for x in at.latex]


def ok(at):
    assert not at.exception, "\n".join(f"{e.value}\n" + "\n".join(e.stack_trace or []) for e in at.exception)


# ----------------------------------------------------------------------------------------------
def test_page_states_question_formulas_and_update_rules(page_at):
    info = " ".join(i.value for i in page_at.info)
    assert "What does knowing the curvature buy you" in info
    tex = "\n".join(latex(page_at))
    assert qm.TAYLOR_1D_LATEX in tex and qm.MODEL_LATEX in tex
    assert optimizers.info("newton").latex.strip() in tex and optimizers.info("bfgs").latex.strip() in tex
    assert qm.get_1d("quartic").d2latex in tex
    # the engine's notes on conventions are on screen
    assert "torch vs textbook" in texts(page_at)
    # three or more guided experiments
    assert len([b for b in page_at.button if b.key and b.key.startswith("exp_")]) >= 3
    for key in ("nw1_fig", "nw1_err", "nw2_fig", "nw2_curves", "nw3_iter", "nw3_cost", "nw3_bfgs", "nw3_bfgs_err"):
        assert chart(page_at, key)["data"]


def test_captions_are_computed_from_the_current_run(page_at):
    """Default: damped Newton on Himmelblau from (0, 0); the page's numbers are the engine's."""
    s = surfaces.get("himmelblau")
    ref = qm.best_gd(s, np.array([0.0, 0.0]), 20_000, 1e-8)
    import optlab

    pure = optlab.run(s, optimizers.make("newton"), np.array([0.0, 0.0]), 50, tol=1e-8, record="path")
    t = texts(page_at)
    assert f"needed **{ref.best_steps:,} steps**" in t
    assert f"**Newton (pure)** reached ‖∇f‖ ≤ 1e-08 in **{pure.converged_at} steps**" in t
    assert "stopped at a maximum" in t           # pure Newton climbs to Himmelblau's hump from (0, 0)
    # the 1-D caption names the current iterate's numbers
    fun = qm.get_1d("quartic")
    assert f"f″ = {float(fun.d2f(np.array(fun.start))):.4g}" in t


# ----------------------------------------------------------------------------------------------
def test_1d_widgets_change_the_figure(at):
    base = chart(at, "nw1_fig")
    at.slider(key="nw1_k").set_value(2).run(); ok(at)
    moved = chart(at, "nw1_fig")
    assert moved["data"] != base["data"]
    at.button(key="nw1_k_next").click().run(); ok(at)
    assert at.slider(key="nw1_k").value == 3
    at.slider(key="nw1_x0").set_value(-0.4).run(); ok(at)
    assert chart(at, "nw1_fig")["data"] != moved["data"]
    before = texts(at)
    at.radio(key="nw1_variant").set_value("damped").run(); ok(at)
    assert texts(at) != before
    at.radio(key="nw1_variant").set_value("lm").run(); ok(at)
    at.slider(key="nw1_mu").set_value(2.0).run(); ok(at)
    assert "μ = 2" in texts(at)
    at.selectbox(key="nw1_fun").set_value("exp").run(); ok(at)
    spec = chart(at, "nw1_fig")
    assert spec["layout"]["xaxis"]["range"] == list(qm.get_1d("exp").window)
    assert at.slider(key="nw1_x0").value == qm.get_1d("exp").start   # a new function starts at its own x₀


def test_1d_divergence_is_explained_and_still_drawn(at):
    at.selectbox(key="nw1_fun").set_value("log_cosh").run()
    at.slider(key="nw1_x0").set_value(1.5).run(); ok(at)
    res = qm.newton_1d("log_cosh", 1.5, 12, tol=1e-13)
    warn = [w.value for w in at.warning if "diverged" in w.value]
    assert warn and f"diverged at step {res.diverged_at}" in warn[0] and "Newton (pure)" in warn[0]
    assert "No convergence" in texts(at)
    spec = chart(at, "nw1_fig")
    assert spec["data"] and at.slider(key="nw1_k").value <= res.last
    at.slider(key="nw1_k").set_value(res.last).run(); ok(at)
    assert f"Step {res.diverged_at} fails" in texts(at)


# ----------------------------------------------------------------------------------------------
def test_2d_widgets_change_the_figure(at):
    base = chart(at, "nw2_fig")
    at.slider(key="nw2_k").set_value(1).run(); ok(at)
    k1 = chart(at, "nw2_fig")
    assert k1["data"] != base["data"]
    tex0 = latex(at)
    at.button(key="nw2_k_next").click().run(); ok(at)
    assert at.slider(key="nw2_k").value == 2 and latex(at) != tex0
    at.number_input(key="nw2_x0").set_value(1.0).run()
    at.number_input(key="nw2_y0").set_value(2.5).run(); ok(at)
    moved = chart(at, "nw2_fig")
    assert moved["data"] != k1["data"]
    at.radio(key="nw2_variant").set_value("pure").run(); ok(at)
    assert "saddle point" in texts(at)
    assert not any(c.proto.id.endswith("-nw2_linesearch") for c in at.get("plotly_chart"))  # no line search
    at.radio(key="nw2_variant").set_value("lm").run()
    at.slider(key="nw2_k").set_value(0).run(); ok(at)   # the Hessian at (1, 2.5) is indefinite: μ > 0
    assert "Levenberg–Marquardt added μ" in texts(at)
    at.select_slider(key="nw2_delta").set_value(5.0).run(); ok(at)
    assert "δ = 5" in texts(at)
    at.slider(key="nw2_steps").set_value(5).run(); ok(at)
    at.selectbox(key="nw2_surface").set_value("booth").run(); ok(at)
    spec = chart(at, "nw2_fig")
    assert spec["layout"]["xaxis"]["range"] == list(surfaces.get("booth").window[0])
    assert (at.number_input(key="nw2_x0").value, at.number_input(key="nw2_y0").value) == surfaces.get("booth").starts[0]


def test_2d_line_search_tries_are_drawn(at):
    at.number_input(key="nw2_x0").set_value(1.0).run()
    at.number_input(key="nw2_y0").set_value(2.5).run(); ok(at)
    spec = chart(at, "nw2_linesearch")
    names = {d.get("name") for d in spec["data"]}
    assert {"rejected try", "accepted try"} <= names
    assert re.search(r"tried \d+ step lengths and accepted s = 0\.0625", texts(at))


def test_cost_and_bfgs_widgets(at):
    t0 = texts(at)
    at.select_slider(key="nw3_n").set_value(100).run(); ok(at)
    t1 = texts(at)
    assert t1 != t0 and "At n = 100," in t1
    row = {r.name: r for r in qm.cost_table(100)}
    from optlab.ui import newton as nw

    assert f"| Newton | ${row['newton'].latex}$ | {nw.fmt_flops(row['newton'].total)} |" in t1
    assert nw.fmt_flops(row["newton"].total) == "3.6·10⁵"
    base = chart(at, "nw3_bfgs")
    at.slider(key="nw3_k").set_value(3).run(); ok(at)
    assert chart(at, "nw3_bfgs")["data"] != base["data"]
    assert any(r"B_{3}" in x for x in latex(at))


def test_custom_surface_bad_then_good_formula(at):
    at.selectbox(key="nw2_surface").set_value("custom").run(); ok(at)
    at.text_input(key="nw2_formula").input("x**2 + (y").run(); ok(at)
    errors = [e.value for e in at.error]
    assert errors and "This formula cannot be used" in errors[0] and "column" in errors[0]
    assert at.text_input(key="nw2_formula").value == "x**2 + (y"          # the text is kept
    assert chart(at, "nw1_fig")["data"]                                     # part 1 still drawn
    at.text_input(key="nw2_formula").input("x**2 + 3*y**2 - x*y").run(); ok(at)
    assert not at.error
    tex = "\n".join(latex(at))
    assert r"\nabla f=" in tex and r"\nabla^2 f=" in tex
    assert "reached ‖∇f‖ ≤ 1e-08 in 1 step" in texts(at)               # a quadratic: one step
    assert chart(at, "nw2_fig")["data"]


# ----------------------------------------------------------------------------------------------
def test_experiments_set_the_page_up(at):
    at.button(key="exp_nw2_kappa").click().run(); ok(at)
    assert at.selectbox(key="nw2_surface").value == "quadratic"
    assert "Newton (pure) reached ‖∇f‖ ≤ 1e-08 in 1 step" in texts(at)
    at.button(key="exp_nw2_saddle").click().run(); ok(at)
    assert (at.number_input(key="nw2_x0").value, at.number_input(key="nw2_y0").value) == (1.0, 2.5)
    assert "a **saddle point** (!)" in texts(at)
    at.button(key="exp_nw2_lm").click().run(); ok(at)
    assert at.radio(key="nw2_variant").value == "damped" and "a **saddle point** (!)" in texts(at)
    at.button(key="exp_nw2_singular").click().run(); ok(at)
    warn = " ".join(w.value for w in at.warning)
    assert "diverged at step 1" in warn and "undefined" in warn
    assert "singular" in texts(at)
    assert chart(at, "nw2_fig")["data"]                                      # still drawn
    at.button(key="exp_nw1_negative").click().run(); ok(at)
    assert at.slider(key="nw1_x0").value == 0.5 and "**maximum**" in texts(at)
    at.button(key="exp_nw1_flat").click().run(); ok(at)
    assert any("diverged at step" in w.value for w in at.warning)
    at.button(key="exp_nw1_x4").click().run(); ok(at)
    assert "**linear** convergence" in texts(at) and "0.667" in texts(at)
    at.button(key="exp_nw3_bfgs_learn").click().run(); ok(at)
    assert at.slider(key="nw3_k").value == 0
