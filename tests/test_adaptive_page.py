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
from optlab.ui import adaptive as ad

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
def test_question_and_inline_question_cards(app):
    assert "What do momentum and adaptive step sizes keep in memory" in app.info[0].value
    assert not [b for b in app.sidebar.button], "guided experiments live in the main column now"
    setups = [b.key for b in app.button if str(b.key).startswith("optlab_setup_")]
    assert "optlab_setup_mom_helps" in setups


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
    at.button_group(key="ad_st_opts").set_value(["adagrad", "rmsprop", "adadelta", "radam"]).run()
    no_exception(at)
    assert [t.label for t in at.tabs] == ["AdaGrad", "RMSProp", "Adadelta", "RAdam"]
    acc = data_of(chart(at, "ad_st_acc"), plotly_array)
    at.slider(key="ad_st_T").set_value(200).run()
    at.slider(key="ad_st_t").set_value(150).run()
    no_exception(at)
    assert data_of(chart(at, "ad_st_acc"), plotly_array) != acc
    assert "At step 150 AdaGrad's √S" in texts(at)


def test_optimizer_pills_keep_at_most_four_and_say_which_click_was_refused(app):
    at = go(app, "State at a step")
    at.button_group(key="ad_st_opts").set_value(["sgd", "rmsprop", "adam", "nadam"]).run()
    assert [t.label for t in at.tabs] == ["SGD", "RMSProp", "Adam", "NAdam"]
    at.button_group(key="ad_st_opts").set_value(["sgd", "rmsprop", "adam", "nadam", "radam"]).run()
    no_exception(at)
    assert at.button_group(key="ad_st_opts").value == ["sgd", "rmsprop", "adam", "nadam"]  # the fifth click undone
    assert [t.label for t in at.tabs] == ["SGD", "RMSProp", "Adam", "NAdam"]
    assert "At most 4 at once: RAdam was not added. Deselect one first." in texts(at)
    at.button_group(key="ad_st_opts").set_value(["sgd", "adam"]).run()
    assert "At most 4" not in texts(at) and [t.label for t in at.tabs] == ["SGD", "Adam"]


def test_trace_table_on_the_page_is_the_engine_trace(app):
    # tests/chapters/test_adaptive.py proves the trace table equal to two Adam steps written out by hand
    at = go(app, "State at a step")
    at.selectbox(key="ad_st_surface").set_value("quadratic").run()
    at.select_slider(key="ad_st_kappa").set_value(10).run()
    at.button_group(key="ad_st_opts").set_value(["adam"]).run()
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


def test_adam_first_step_question_sets_up_its_section(app):
    at = go(app, "State at a step")
    at.button(key="optlab_setup_adam_first").click().run()
    no_exception(at)
    assert at.button_group(key="ad_section").value == "State at a step"
    assert at.slider(key="ad_st_t").value == 1
    assert "ad_st_acc" not in [c.proto.id.split("-")[-1] for c in at.get("plotly_chart")], "hidden until Commit"
    at.radio(key="optlab_pick_adam_first").set_value(0).run()
    at.button(key="optlab_commit_adam_first").click().run()
    no_exception(at)
    assert len(at.success) == 1, "Adam's first step is γ along each coordinate"
    adam = [d.value for d, t in zip(at.dataframe, at.tabs) if t.label == "Adam"][0]
    step = adam[adam["quantity"] == "Δθ₁"].iloc[0]
    assert abs(step["x"]) == pytest.approx(0.1, rel=1e-6) and abs(step["y"]) == pytest.approx(0.1, rel=1e-6)


# ----------------------------------------------------------------------------------------------
# URL state: every section round-trips; hostile links are clamped and said
# ----------------------------------------------------------------------------------------------
ROUNDTRIPS = {
    "Momentum": {"ad_mo_kappa": 50, "ad_mo_lr": 0.02, "ad_mo_beta": 0.5, "ad_mo_phase": "Nesterov"},
    "Update rules": {"ad_section": "Update rules", "ad_rule_opt": "rmsprop"},
    "State at a step": {"ad_section": "State at a step", "ad_st_surface": "rosenbrock",
                        "ad_st_opts": ["adagrad", "adam"], "ad_st_T": 200, "ad_st_t": 150, "ad_st_adam_lr": 0.02,
                        "ad_st_zoom": False},
    "Adam family": {"ad_section": "Adam family", "ad_fam": "NAdam", "ad_na_kappa": 100, "ad_na_psi": 0.01,
                    "ad_na_steps": 300},
    "Schedules": {"ad_section": "Schedules", "ad_sc_name": "exponential", "ad_sc_opt": "adam", "ad_sc_lr": 0.05,
                  "ad_sc_egamma": 0.95},
    "LR finder": {"ad_section": "LR finder", "ad_lf_problem": "Quadratic bowl", "ad_lf_kappa": 50,
                  "ad_lf_opt": "rmsprop", "ad_lf_steps": 200, "ad_lf_smooth": 0.5},
}


@pytest.mark.parametrize("section", list(ROUNDTRIPS))
def test_every_section_round_trips_through_its_link(section):
    from state_checks import roundtrip

    query, _fresh = roundtrip(PAGE, ROUNDTRIPS[section])
    if section != "Momentum":
        assert query["sec"] == ad.SECTION.code(section)


@pytest.mark.parametrize("section", SECTIONS)
def test_hostile_links(section):
    from state_checks import check_link, hostile_links

    links = hostile_links(ad.PAGE, n=6, section=section)
    # the 20,000-name link never reaches a page (Streamlit drops a query of more than 1,000 fields
    # before any script runs: the browser reopens it as ?too_long=N); opened once, for the default section
    links = [q for q in links if len(q) < 1000] if section != "Momentum" else links
    for q in links:
        check_link(PAGE, ad.PAGE, q)


def test_learning_rate_outside_the_app_range_is_clamped_and_said():
    from state_checks import link_warnings, open_page, widget

    at = open_page(PAGE, {"sec": "state", "os": "adam", "lam": "1e6"})
    no_exception(at)
    (text,) = link_warnings(at)
    assert "lam" in text and "10" in text
    assert widget(at, "ad_st_adam_lr").value == optlab.specs.LR_MAX
    at = open_page(PAGE, {"lr": "1e-9"})
    (text,) = link_warnings(at)
    assert widget(at, "ad_mo_lr").value == ad.LR_CHOICES[0] == optlab.specs.LR_MIN
    assert max(ad.LR_CHOICES) == optlab.specs.LR_MAX


# ----------------------------------------------------------------------------------------------
# State bugs: no value jumps behind the student's back
# ----------------------------------------------------------------------------------------------
def test_formula_typo_keeps_every_other_value_and_the_text():
    from state_checks import open_page, widget

    at = open_page(PAGE, {"sec": "state", "s": "custom", "os": "adam,sgd", "T": "200", "t": "40", "lam": "0.02"})
    no_exception(at)
    good = "x**2 + 3*y**2"
    at.text_input(key="ad_st_formula").set_value(good).run()
    before = {k: widget(at, k).value for k in ("ad_st_opts", "ad_st_T", "ad_st_t", "ad_st_adam_lr")}
    at.text_input(key="ad_st_formula").set_value("x**2 + (3*y").run()
    no_exception(at)
    assert at.error and "cannot be used" in at.error[0].value
    assert at.text_input(key="ad_st_formula").value == "x**2 + (3*y", "the typed text is kept"
    at.text_input(key="ad_st_formula").set_value(good).run()
    no_exception(at)
    assert {k: widget(at, k).value for k in before} == before


def test_step_after_the_last_step_is_clamped_and_said():
    from state_checks import open_page, widget

    at = open_page(PAGE, {"sec": "state", "T": "200", "t": "150"})
    at.slider(key="ad_st_T").set_value(50).run()
    no_exception(at)
    assert widget(at, "ad_st_t").value == 50
    assert any("t = 50 is shown" in c.value for c in at.caption)


def test_section_and_language_switches_keep_the_values():
    from i18n_check import switch_language
    from state_checks import open_page, widget

    at = open_page(PAGE, {"k": "50", "b": "0.5"})
    at.button_group(key="ad_section").set_value("Schedules").run()
    at.select_slider(key="ad_sc_kappa").set_value(100).run()
    at.button_group(key="ad_section").set_value("Momentum").run()
    no_exception(at)
    assert widget(at, "ad_mo_kappa").value == 50 and widget(at, "ad_mo_beta").value == 0.5
    switch_language(at, "zh")
    no_exception(at)
    assert widget(at, "ad_mo_kappa").value == 50 and widget(at, "ad_mo_beta").value == 0.5
    at.button_group(key="ad_section").set_value("Schedules").run()
    assert widget(at, "ad_sc_kappa").value == 100
    switch_language(at, "en")


# ----------------------------------------------------------------------------------------------
# Questions: the verdict is read off the run, and flips when the run changes
# ----------------------------------------------------------------------------------------------
def _values(q, **change):
    from optlab.ui import state

    v = ad.PAGE.read({k: state._as_text(ad.PAGE.by_url[k], x) for k, x in q.state.items()}).values
    return {**v, **change}


def test_new_questions_flip_with_their_runs():
    assert ad.Q_ADAM_FIRST.outcome(_values(ad.Q_ADAM_FIRST)) == 0
    assert ad.Q_ADAM_FIRST.outcome(_values(ad.Q_ADAM_FIRST, os=["sgd"])) is None  # no Adam run: no answer
    assert ad.Q_ACCUMULATORS.outcome(_values(ad.Q_ACCUMULATORS)) == 1       # only RMSProp still moves
    assert ad.Q_ACCUMULATORS.outcome(_values(ad.Q_ACCUMULATORS, lrm=1e-6)) != 1
    assert ad.Q_BIAS.outcome(_values(ad.Q_BIAS)) == 0                        # larger: (1 − 0.9)/√(1 − 0.999)
    assert ad.Q_BIAS.outcome(_values(ad.Q_BIAS, b1=0.95, b2=0.9)) == 1       # (1 − 0.95)/√(1 − 0.9) = 0.16: smaller
    assert ad.Q_FINDER.outcome(_values(ad.Q_FINDER)) == 2                    # beyond 2/λ_max
    assert ad.Q_FINDER.outcome(_values(ad.Q_FINDER, fk=100)) == 0            # λ_max = 100: stops below 1


# ----------------------------------------------------------------------------------------------
# 中文: every section, with its main widgets moved
# ----------------------------------------------------------------------------------------------
ZH_ALLOW = {"GD", "optax", "fastai", "step_size", "gamma", "eta_min", "start_factor", "momentum_decay",
            "weight_decay", "T_max", "state"}
ZH_MOVES = {
    "Momentum": [("select_slider", "ad_mo_kappa", 1000), ("select_slider", "ad_mo_lr", 7.0),
                 ("radio", "ad_mo_phase", "Nesterov")],
    "Update rules": [("radio", "ad_rule_opt", "radam")],
    "State at a step": [("button_group", "ad_st_opts", ["adagrad", "rmsprop", "nadam", "radam"]),
                        ("slider", "ad_st_t", 3)],
    "Adam family": [("radio", "ad_fam", f) for f in FAMILY],
    "Schedules": [("radio", "ad_sc_name", "warmup_cosine"), ("radio", "ad_sc_opt", "adam")],
    "LR finder": [("radio", "ad_lf_problem", "Quadratic bowl"), ("selectbox", "ad_lf_opt", "adam")],
}


@pytest.mark.parametrize("section", SECTIONS)
def test_every_section_is_chinese(section):
    from i18n_check import assert_chinese, open_in

    at = open_in("zh", PAGE, timeout=120)
    at.button_group(key="ad_section").set_value(section).run()
    assert_chinese(at, allow=ZH_ALLOW)
    for kind, key, value in ZH_MOVES[section]:
        getattr(at, kind)(key=key).set_value(value).run()
        assert_chinese(at, allow=ZH_ALLOW)


# ----------------------------------------------------------------------------------------------
# Bounded work: over the budget the page says what it cut
# ----------------------------------------------------------------------------------------------
def test_typed_formula_runs_are_cut_and_said():
    from state_checks import open_page

    at = open_page(PAGE, {"sec": "state", "s": "custom", "f": "x**2 + 3*y**2", "os": "adadelta,radam,nadam,adam",
                          "T": "500", "t": "500"})
    no_exception(at)
    cuts = [i.value for i in at.info if "stopped at step" in i.value]
    assert len(cuts) == 1 and "6 runs" in cuts[0], [i.value for i in at.info]
    steps, cut = ad.model.plan_runs(ad.model.FORMULA_RERUN, 500, 6)
    assert f"stopped at step {steps}" in cuts[0]
    assert at.slider(key="ad_st_t").value == 500, "the widget keeps the student's value"


def test_dearest_phase_diagram_is_thinned_and_said():
    from state_checks import open_page

    at = open_page(PAGE, {"k": "1000", "n": "500", "ph": "nesterov"})
    no_exception(at)
    said = [i.value for i in at.info if "phase diagram" in i.value]
    assert said and "instead" in said[0]
    spec = chart(at, "ad_mo_phase_fig")
    n_lr, n_beta, _t, _c = ad.phase_plan(500)
    assert len(spec["data"][2]["x"]) == n_lr < 48


def test_momentum_captions_over_a_grid_of_widgets():
    """Each damping claim on the page is the verdict of the numbers; β* is printed only when it is
    a momentum (< 1); the issue's case (κ = 1000, γ = 7) says divergence, not "β* = 6833"."""
    from optlab import theory
    from state_checks import open_page

    for k, lr, b in ((1000, 7.0, 0.9), (1000, 7.0, 0.0), (25, 0.03, 0.9), (25, 0.03, 0.3), (1, 1e-6, 0.99),
                     (50, 0.05, 0.0), (2, 10.0, 0.5)):
        at = open_page(PAGE, {"k": str(k), "lr": str(lr), "b": str(b)})
        no_exception(at)
        txt = texts(at)
        verdict = ad.model.damping(lr, b, k)
        b_star = float(theory.critical_momentum(lr, [1.0, float(k)]))
        assert ("β\\* = " in txt) == (b_star < 1), (k, lr, b, b_star)
        expect = {"under": "under-damped", "over": "over-damped", "critical": "critically damped",
                  "unstable": "beyond the stability limit", "gd_unstable": "beyond its stability limit",
                  "gd": "plain gradient descent (β = 0)"}[verdict]
        assert expect in txt, (k, lr, b, verdict)
        for other in ("under-damped", "over-damped", "critically damped**"):
            if other not in expect:
                assert other not in txt.replace("critically damped momentum", ""), (k, lr, b, verdict, other)


@pytest.mark.parametrize("qkey, pick, chart_key", [("bias_off", 0, "ad_bc_steps_fig"), ("acc_moving", 1, "ad_st_acc"),
                                                   ("finder_stop", 2, "ad_lf_fig")])
def test_question_outcomes_hidden_until_commit_then_checked(qkey, pick, chart_key):
    from state_checks import open_page

    q = {x.key: x for x in ad.CHAPTER.all_questions()}[qkey]
    at = open_page(PAGE, {"sec": ad.SECTION.code(q.state["sec"]) if q.state["sec"] in ad.SECTIONS else q.state["sec"]})
    at.button(key=f"optlab_setup_{qkey}").click().run()
    no_exception(at)
    keys = [c.proto.id.split("-")[-1] for c in at.get("plotly_chart")]
    assert chart_key not in keys, f"{qkey}: the outcome shows before Commit"
    at.radio(key=f"optlab_pick_{qkey}").set_value(pick).run()
    at.button(key=f"optlab_commit_{qkey}").click().run()
    no_exception(at)
    assert chart_key in [c.proto.id.split("-")[-1] for c in at.get("plotly_chart")]
    assert len(at.success) == 1, f"{qkey}: answer {pick} is the run's outcome"
