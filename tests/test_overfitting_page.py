"""Chapter 5 page (pages/5_Overfitting_and_gradients.py) under AppTest: every section renders, its
main widgets change what is drawn, presets and guided experiments set the widgets, the gradient
lab trains on demand and shows its heat map, the cliff shows the thrown and the clipped run."""
from __future__ import annotations

import json

import pytest

from optlab.chapters import overfitting as ex

PAGE = "pages/5_Overfitting_and_gradients.py"
SECTIONS = ["📈 Overfitting", "🧲 Regularization", "⏱️ Early stopping", "🎚️ Learning rate by CV",
            "🧪 Gradient lab", "🧗 Clipping on a cliff"]


def _errors(at) -> str:
    return "\n\n".join(f"{e.value}\n" + "\n".join(e.stack_trace or []) for e in at.exception)


def _run(at):
    at.run()
    assert not at.exception, _errors(at)
    return at


def _specs(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _section(at, name: str):
    at.segmented_control(key="ov_section").set_value(name)
    return _run(at)


def _captions(at) -> str:
    return "\n".join(c.value for c in at.caption)


@pytest.fixture
def chapter(app_test):
    at = app_test(PAGE, timeout=120)
    assert not at.exception, _errors(at)
    return at


@pytest.mark.parametrize("section, charts", [(SECTIONS[0], 3), (SECTIONS[1], 6), (SECTIONS[2], 2), (SECTIONS[3], 2),
                                             (SECTIONS[4], 0), (SECTIONS[5], 3)])
def test_each_section_renders_with_its_question_and_experiments(chapter, section, charts):
    at = _section(chapter, section)
    assert "question" in at.info[0].value.lower()                      # the page's question on top
    assert len(at.get("plotly_chart")) == charts
    assert len([b for b in at.button if b.key and b.key.startswith("exp_")]) >= 3
    assert any(m.value.startswith("*") and m.value.rstrip().endswith("*") for m in at.markdown)  # section question
    _run(at)                                                           # a plain rerun keeps it intact


def test_overfitting_degree_and_data_size_change_the_figures(chapter, plotly_array):
    at = chapter
    before = _specs(at)
    caption = _captions(at)
    at.slider(key="ov_degree").set_value(12)
    _run(at)
    after = _specs(at)
    fit0, fit1 = before[0]["data"][2], after[0]["data"][2]                 # the fitted curve
    assert fit1["name"] == "degree 12 fit" and fit0["name"] == "degree 3 fit"
    assert not (plotly_array(fit0["y"]) == plotly_array(fit1["y"])).all()
    assert after[1]["layout"]["shapes"][0]["x0"] == 12                     # the U curve marks the degree
    assert "overfits" in _captions(at) and _captions(at) != caption
    at.slider(key="ov_n").set_value(150)
    _run(at)
    more = _specs(at)
    assert len(plotly_array(more[0]["data"][-1]["x"])) == 150              # the training points
    assert more[2]["layout"]["shapes"][0]["x0"] == 150                     # the learning curve marks n
    pts = plotly_array(more[0]["data"][-1]["x"]).copy()
    at.button(key="ovb_new_sample_ov_n").click()
    _run(at)
    assert not (plotly_array(_specs(at)[0]["data"][-1]["x"]) == pts).all()


def test_interpolating_degree_is_explained(chapter):
    at = chapter
    at.slider(key="ov_n").set_value(10)
    at.slider(key="ov_degree").set_value(12)
    _run(at)
    assert any("pass through every training point" in w.value for w in at.warning)


def test_regularization_l1_sets_coefficients_exactly_to_zero(chapter):
    at = _section(chapter, SECTIONS[1])

    def zeros(at):
        bars = _specs(at)[1]["data"]
        return [tr["text"].count("0") for tr in bars]      # least squares, ridge, lasso

    z0 = zeros(at)
    assert z0[0] == 0 and z0[1] == 0
    at.select_slider(key="ov_lam1").set_value(0.1)
    _run(at)
    z1 = zeros(at)
    assert z1[2] > z0[2] and z1[1] == 0
    assert f"{12 - z1[2]} of 12 are non-zero" in _captions(at)
    ridge_before = _specs(at)[0]["data"][2]["y"]
    at.select_slider(key="ov_lam2").set_value(1.0)
    _run(at)
    assert _specs(at)[0]["data"][2]["y"] != ridge_before
    assert zeros(at)[1] == 0                                  # L2 shrinks, never zeros
    assert "λ = 1" in json.dumps(_specs(at)[2]["layout"]["annotations"], ensure_ascii=False)


def test_early_stopping_patience_moves_the_stop(chapter):
    at = _section(chapter, SECTIONS[2])
    at.slider(key="ov_patience").set_value(1)
    _run(at)
    stop1 = {m.label: m.value for m in at.metric}["stopped at epoch"]
    at.slider(key="ov_patience").set_value(20)
    _run(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["stopped at epoch"] != stop1
    assert "restored" in _captions(at)
    shapes = _specs(at)[0]["layout"]["shapes"]
    assert any(s.get("type") == "rect" for s in shapes)      # the epochs saved are shaded


def test_learning_rate_search_reacts_and_explains_a_bad_range(chapter):
    at = _section(chapter, SECTIONS[3])
    cap = _captions(at)
    assert "Chosen: **lr =" in cap and "stable below" in cap
    spec = _specs(at)[0]
    assert any(tr["name"].startswith("chosen") for tr in spec["data"])
    assert any(tr["name"].startswith("diverged") for tr in spec["data"])
    assert any("SGD diverged" in w.value and "still drawn" in w.value for w in at.warning)
    at.slider(key="ov_cv_k").set_value(3)
    _run(at)
    assert "× 3 folds" in _captions(at)
    assert _specs(at)[0]["data"][0]["name"] == "each of the 3 folds"
    at.select_slider(key="ov_cv_lo").set_value(1.0)
    at.select_slider(key="ov_cv_hi").set_value(0.1)
    _run(at)
    assert any("must be below" in e.value for e in at.error)


def test_gradient_lab_presets_set_the_widgets_and_training_draws_the_heat_map(chapter, plotly_array):
    at = _section(chapter, SECTIONS[4])
    assert any("Train" in i.value for i in at.info)           # nothing trained yet: an invitation
    at.button(key="ovb_lab_preset_exploding").click()
    _run(at)
    p = ex.lab_preset("exploding").settings
    assert at.selectbox(key="ov_lab_act").value == p.activation
    assert at.select_slider(key="ov_lab_scale").value == p.init_scale
    assert any("predict first" in i.value.lower() for i in at.info)
    at.button(key="ovb_train").click()
    _run(at)
    assert any("diverged at step" in w.value for w in at.warning)      # the exploding run is flagged
    specs = _specs(at)
    assert specs[0]["data"][0]["type"] == "heatmap"
    # a small network trains fast: the heat map has one row per layer, one column per step
    at.slider(key="ov_lab_depth").set_value(3)
    at.select_slider(key="ov_lab_width").set_value(8)
    at.select_slider(key="ov_lab_steps").set_value(100)
    at.button(key="ovb_train").click()
    _run(at)
    heat = _specs(at)[0]["data"][0]
    assert len(plotly_array(heat["y"])) == 4 and len(plotly_array(heat["x"])) == 100
    assert {m.label for m in at.metric} >= {"validation accuracy", "‖g₁‖ / ‖g_out‖ at step 0"}
    assert not any("changed since" in i.value for i in at.info)
    at.toggle(key="ov_lab_bn").set_value(True)                # settings changed: the last run stays shown
    _run(at)
    assert any("changed since" in i.value for i in at.info)


def test_gradient_lab_compares_every_fix(chapter):
    at = _section(chapter, SECTIONS[4])
    at.slider(key="ov_lab_depth").set_value(3)
    at.select_slider(key="ov_lab_width").set_value(8)
    at.select_slider(key="ov_lab_steps").set_value(100)
    at.button(key="ovb_compare").click()
    _run(at)
    names = {tr["name"] for tr in _specs(at)[-1]["data"]}
    assert {"baseline", "+ batch norm", "+ residual connections", "+ Adam (lr 0.001)"} <= names
    assert len(at.dataframe) == 1 and len(at.dataframe[0].value) == 1 + len(ex.FIXES)
    assert "Best single fix" in _captions(at)


def test_guided_experiment_trains_the_vanishing_network(chapter):
    at = _section(chapter, SECTIONS[4])
    at.button(key="exp_ov_x_lab_vanish").click()
    _run(at)
    assert at.slider(key="ov_lab_depth").value == 20 and at.selectbox(key="ov_lab_act").value == "sigmoid"
    ratio = {m.label: m.value for m in at.metric}["‖g₁‖ / ‖g_out‖ at step 0"]
    assert float(ratio) < 1e-2                                # the gradient vanishes towards the input
    assert "vanishes" in _captions(at)


def test_cliff_unclipped_run_is_thrown_and_clipped_run_reaches_the_minimum(chapter, plotly_array):
    at = _section(chapter, SECTIONS[5])
    assert any("thrown off course" in w.value and "253" in w.value for w in at.warning)
    assert any("reached the minimum" in s.value for s in at.success)
    contour = _specs(at)[0]
    names = [tr.get("name", "") for tr in contour["data"]]
    assert "SGD, no clipping" in names and "SGD, clipped to ‖g‖ ≤ 1" in names
    steps = _specs(at)[1]["data"]
    assert plotly_array(steps[0]["y"])[0] == pytest.approx(25.27, rel=1e-3)   # lr · ‖∇f‖ on the wall
    assert plotly_array(steps[1]["y"]).max() <= 0.1 + 1e-6
    at.select_slider(key="ov_cl_lr").set_value(0.005)
    _run(at)
    assert not any("thrown off course" in w.value for w in at.warning)
    at.button(key="exp_ov_x_cl_adam").click()
    _run(at)
    assert at.selectbox(key="ov_cl_opt").value == "adam"
    assert "Adam, no clipping" in [tr.get("name", "") for tr in _specs(at)[0]["data"]]


def test_guided_experiments_set_their_widgets(chapter):
    at = chapter
    at.button(key="exp_ov_x_degree").click()
    _run(at)
    assert at.slider(key="ov_degree").value == 15
    at = _section(at, SECTIONS[1])
    at.button(key="exp_ov_x_l1").click()
    _run(at)
    assert at.select_slider(key="ov_lam1").value == 0.1


def test_widget_values_survive_a_visit_to_another_section(chapter):
    at = chapter
    at.slider(key="ov_degree").set_value(9)
    _run(at)
    _section(at, SECTIONS[5])
    _section(at, SECTIONS[0])
    assert at.slider(key="ov_degree").value == 9
