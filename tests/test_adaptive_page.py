"""The chapter page "Adaptive methods" under AppTest, and its engine-side pieces (trace table, figures).

Every section renders; each main widget changes a figure or a number; a diverging choice shows the
warning with the chart still drawn; the per-step trace table shows the engine's numbers, checked
against two Adam steps computed by hand.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

import optlab
from optlab import optimizers as O
from optlab.figures import adaptive as fig
from optlab import theory as HB

PAGE = "pages/4_Adaptive_methods.py"
SECTIONS = ["Momentum", "Update rules", "State at a step", "Adam family", "Schedules", "LR finder"]
FAMILY = ["Bias correction", "AdamW vs L2", "AMSGrad", "NAdam", "RAdam"]


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------
def chart(at, key: str) -> dict:
    for c in at.get("plotly_chart"):
        if c.proto.id.endswith("-" + key):
            return json.loads(c.proto.spec)
    raise AssertionError(f"no chart with key {key!r}; have {[c.proto.id.split('-')[-1] for c in at.get('plotly_chart')]}")


def data_of(spec: dict, plotly_array) -> list:
    """Every trace's x/y/z as rounded lists (comparable before/after a widget move)."""
    out = []
    for tr in spec["data"]:
        for k in ("x", "y", "z"):
            if k in tr and tr[k] is not None:
                a = plotly_array(tr[k]) if isinstance(tr[k], dict) else np.asarray(tr[k], dtype=object)
                out.append((k, str(a.tolist())[:4000]))
    return out


def texts(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [w.value for w in at.warning]
    parts += [str(mt.value) for mt in at.metric]
    return "\n".join(parts)


def no_exception(at):
    assert not at.exception, "\n".join(str(e.value) + "\n" + "\n".join(e.stack_trace or []) for e in at.exception)


@pytest.fixture(scope="module")
def app():
    from streamlit.testing.v1 import AppTest

    from tests.conftest import APP_DIR, clear_streamlit_cache

    clear_streamlit_cache()
    at = AppTest.from_file(str(APP_DIR / "app.py"), default_timeout=120)
    at.run()
    at.switch_page(PAGE).run()
    no_exception(at)
    return at


def go(at, section: str):
    at.button_group(key="ad_section").set_value(section).run()
    no_exception(at)
    return at


# ----------------------------------------------------------------------------------------------
# The page
# ----------------------------------------------------------------------------------------------
def test_question_and_guided_experiments(app):
    assert "What do momentum and adaptive step sizes keep in memory" in app.info[0].value
    predictions = [m.value for m in app.sidebar.markdown if m.value.startswith("*Predict first:*")]
    assert len(predictions) >= 3
    assert len([b for b in app.sidebar.button]) >= 3


@pytest.mark.parametrize("section", SECTIONS)
def test_every_section_renders_small_figures(app, section):
    at = go(app, section)
    sections = FAMILY if section == "Adam family" else [None]
    for fam in sections:
        if fam:
            at.radio(key="ad_fam").set_value(fam).run()
            no_exception(at)
        charts = at.get("plotly_chart")
        if section != "Update rules":
            assert charts, f"{section} {fam or ''} draws no chart"
        for c in charts:
            assert len(c.proto.spec) < 1_000_000, f"{c.proto.id}: {len(c.proto.spec)} bytes"
        assert not [w for w in at.warning if "diverged" in w.value], f"{section} {fam}: default diverges"


def test_momentum_widgets_change_the_figures(app, plotly_array):
    at = go(app, "Momentum")
    keys = ("ad_mo_contour", "ad_mo_phase_fig")
    before = {k: data_of(chart(at, k), plotly_array) for k in keys}
    caption = texts(at)
    at.select_slider(key="ad_mo_kappa").set_value(50).run()
    no_exception(at)
    after = {k: data_of(chart(at, k), plotly_array) for k in keys}
    assert all(before[k] != after[k] for k in keys)
    assert "λ = 1 and 50" in texts(at) and texts(at) != caption
    for key, value in (("ad_mo_beta", 0.5), ("ad_mo_steps", 300)):
        prev = data_of(chart(at, "ad_mo_contour"), plotly_array)
        at.slider(key=key).set_value(value).run()
        no_exception(at)
        assert data_of(chart(at, "ad_mo_contour"), plotly_array) != prev, key
    prev = chart(at, "ad_mo_phase_fig")
    at.select_slider(key="ad_mo_lr").set_value(0.01).run()
    mark = [t for t in chart(at, "ad_mo_phase_fig")["data"] if t.get("name") == "your choice"][0]
    assert mark["x"] == [0.01] and mark["y"] == [0.5]
    at.radio(key="ad_mo_phase").set_value("Nesterov").run()
    no_exception(at)
    names = [t.get("name") for t in chart(at, "ad_mo_phase_fig")["data"]]
    assert "critical damping β*(lr)" not in names and chart(at, "ad_mo_phase_fig") != prev


def test_phase_diagram_marks_critical_damping_from_the_engine(app, plotly_array):
    at = go(app, "Momentum")
    at.radio(key="ad_mo_phase").set_value("heavy ball").run()
    at.select_slider(key="ad_mo_kappa").set_value(25).run()
    spec = chart(at, "ad_mo_phase_fig")
    crit = [t for t in spec["data"] if t.get("name") == "critical damping β*(lr)"][0]
    x = np.array([np.nan if v is None else v for v in crit["x"]], dtype=float)
    y = np.array([np.nan if v is None else v for v in crit["y"]], dtype=float)
    ok = np.isfinite(x)
    assert ok.sum() > 20
    np.testing.assert_allclose(y[ok], HB.critical_momentum(x[ok], [1.0, 25.0]), rtol=1e-4)


def test_diverging_learning_rate_warns_and_still_draws(app):
    at = go(app, "Momentum")
    at.select_slider(key="ad_mo_kappa").set_value(25).run()
    at.select_slider(key="ad_mo_lr").set_value(0.15).run()   # γλ_max = 3.75 > 2: GD diverges
    no_exception(at)
    warns = [w.value for w in at.warning]
    assert any("GD (lr = 0.15)" in w and "diverged at step" in w for w in warns), warns
    spec = chart(at, "ad_mo_contour")
    assert any("diverged" in str(t.get("name", "")) or "diverged" in str(t.get("text", "")) for t in spec["data"])
    at.select_slider(key="ad_mo_lr").set_value(0.03).run()


def test_state_section_step_slider_and_optimizers(app, plotly_array):
    at = go(app, "State at a step")
    before = (data_of(chart(at, "ad_st_glyphs"), plotly_array), at.dataframe[0].value.to_dict())
    at.slider(key="ad_st_t").set_value(3).run()
    no_exception(at)
    after = (data_of(chart(at, "ad_st_glyphs"), plotly_array), at.dataframe[0].value.to_dict())
    assert before[0] != after[0] and before[1] != after[1]
    assert at.dataframe[0].value["quantity"].iloc[0] == "θ₂"
    at.multiselect(key="ad_st_opts").set_value(["adagrad", "rmsprop", "adadelta", "radam"]).run()
    no_exception(at)
    assert [t.label for t in at.tabs] == ["AdaGrad", "RMSProp", "Adadelta", "RAdam"]
    acc = data_of(chart(at, "ad_st_acc"), plotly_array)
    at.slider(key="ad_st_T").set_value(200).run()
    at.slider(key="ad_st_t").set_value(150).run()
    no_exception(at)
    assert data_of(chart(at, "ad_st_acc"), plotly_array) != acc
    assert "At step 150 AdaGrad's √S" in texts(at)


def test_trace_table_on_the_page_is_the_engine_trace(app):
    # tests/chapters/test_adaptive.py proves the trace table equal to two Adam steps written out by hand
    at = go(app, "State at a step")
    at.selectbox(key="ad_st_surface").set_value("quadratic").run()
    at.select_slider(key="ad_st_p_quadratic_condition").set_value(10.0).run()
    at.multiselect(key="ad_st_opts").set_value(["adam"]).run()
    at.number_input(key="ad_st_adam_lr").set_value(0.1).run()
    at.slider(key="ad_st_t").set_value(2).run()
    no_exception(at)
    df = at.dataframe[0].value
    rows = {q: (x, y) for q, x, y in zip(df["quantity"], df["x"], df["y"])}
    q = optlab.surfaces.get("quadratic", condition=10)
    want = fig.trace_table(optlab.run(q, O.make("adam", lr=0.1), q.starts[0], 5), 2)
    assert set(rows) == {r["quantity"] for r in want}
    for r in want:
        np.testing.assert_allclose(rows[r["quantity"]], (r["x"], r["y"]), rtol=1e-12, atol=1e-15, err_msg=r["quantity"])


def test_adam_family_widgets(app, plotly_array):
    at = go(app, "Adam family")
    cases = {"Bias correction": [("select_slider", "ad_bc_b2", 0.99, "ad_bc_steps_fig")],
             "AdamW vs L2": [("slider", "ad_wd_lam", 0.3, "ad_wd_paths")],
             "AMSGrad": [("select_slider", "ad_am_b2", 0.999, "ad_am_denoms")],
             "NAdam": [("select_slider", "ad_na_psi", 0.05, "ad_na_mu")],
             "RAdam": [("select_slider", "ad_ra_b2", 0.99, "ad_ra_fig")]}
    for fam, moves in cases.items():
        at.radio(key="ad_fam").set_value(fam).run()
        no_exception(at)
        for kind, key, value, fig_key in moves:
            prev, cap = data_of(chart(at, fig_key), plotly_array), texts(at)
            getattr(at, kind)(key=key).set_value(value).run()
            no_exception(at)
            assert data_of(chart(at, fig_key), plotly_array) != prev, (fam, key)
            assert texts(at) != cap, (fam, key)
    at.radio(key="ad_fam").set_value("Bias correction").run()
    at.select_slider(key="ad_bc_b2").set_value(0.999).run()
    assert "theory (1 − β₁)/√(1 − β₂) = 3.16" in texts(at)
    assert "Not a torch optimizer" in texts(at)  # torch vs textbook, from the engine's notes


def test_schedules_and_lr_finder_widgets(app, plotly_array):
    at = go(app, "Schedules")
    def thick(spec):
        return [t["name"] for t in spec["data"] if t["line"]["width"] == 3]

    assert thick(chart(at, "ad_sc_curve")) == ["Step decay"]
    at.radio(key="ad_sc_name").set_value("cosine").run()
    no_exception(at)
    assert thick(chart(at, "ad_sc_curve")) == ["Cosine annealing"]
    assert any("CosineAnnealingLR" in c.value for c in at.caption)
    prev = data_of(chart(at, "ad_sc_paths"), plotly_array)
    at.radio(key="ad_sc_opt").set_value("adam").run()
    no_exception(at)
    assert data_of(chart(at, "ad_sc_paths"), plotly_array) != prev

    at = go(app, "LR finder")
    prev, cap = data_of(chart(at, "ad_lf_fig"), plotly_array), texts(at)
    at.slider(key="ad_lf_smooth").set_value(0.5).run()
    no_exception(at)
    assert data_of(chart(at, "ad_lf_fig"), plotly_array) != prev
    at.radio(key="ad_lf_problem").set_value("Quadratic bowl").run()
    at.select_slider(key="ad_lf_kappa").set_value(1).run()
    at.slider(key="ad_lf_smooth").set_value(0.0).run()
    no_exception(at)
    txt = texts(at)
    assert "2/λ_max = 2" in txt and "the test stopped at γ =" in txt and txt != cap
    prev = data_of(chart(at, "ad_lf_fig"), plotly_array)
    at.selectbox(key="ad_lf_opt").set_value("adam").run()
    no_exception(at)
    assert data_of(chart(at, "ad_lf_fig"), plotly_array) != prev
    assert "has no 2/λ_max limit" in texts(at)


def test_experiment_button_sets_up_its_section(app):
    at = app
    btn = [b for b in at.sidebar.button if b.key == "exp_ad_exp_adam1"][0]
    btn.click().run()
    no_exception(at)
    assert at.button_group(key="ad_section").value == "State at a step"
    assert at.slider(key="ad_st_t").value == 1
    adam = [d.value for d, t in zip(at.dataframe, at.tabs) if t.label == "Adam"][0]
    step = adam[adam["quantity"] == "Δθ₁"].iloc[0]
    assert abs(step["x"]) == pytest.approx(0.1, rel=1e-6) and abs(step["y"]) == pytest.approx(0.1, rel=1e-6)
