"""Pages "Loss functions" and "Gradient-descent variants" under AppTest, and the numbers behind them.

Each page is rendered once per module; the tests then move its main widgets one after another and
check that the figure the widget drives changed, that diverging choices show a warning naming the
optimizer and the step while the chart is still drawn, and that the guided experiments set their
widgets.  The helpers in optlab.ui.losses that compute the pages' numbers are checked against
closed forms.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from optlab import losses, models
from optlab.ui import losses as lab

P1 = "pages/1_Loss_functions.py"
P2 = "pages/2_Gradient_descent.py"


def _open(app_dir, page):
    at = AppTest.from_file(str(app_dir / "app.py"), default_timeout=120)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture(scope="module")
def page1(app_dir):
    return _open(app_dir, P1)


@pytest.fixture(scope="module")
def page2(app_dir):
    return _open(app_dir, P2)


def chart(at, key) -> dict:
    for c in at.get("plotly_chart"):
        if getattr(c, "key", None) == key:
            return json.loads(c.proto.spec)
    keys = [getattr(c, "key", None) for c in at.get("plotly_chart")]
    raise AssertionError(f"no chart with key {key!r}; charts: {keys}")


def data_of(at, key) -> str:
    return json.dumps(chart(at, key)["data"], sort_keys=True)


def move(at, kind, key, value):
    w = getattr(at, kind)(key=key)
    (w.select(value) if kind == "selectbox" else w.set_value(value)).run()
    assert not at.exception, f"moving {key} to {value!r} raised: {[e.value for e in at.exception]}"
    return at


def warnings(at) -> list[str]:
    return [w.value for w in at.warning]


def check_moves(at, moves):
    for kind, key, value, chart_key in moves:
        before = data_of(at, chart_key)
        move(at, kind, key, value)
        assert getattr(at, kind)(key=key).value == value
        assert data_of(at, chart_key) != before, f"moving {key} to {value!r} did not change chart {chart_key}"


def check_page_frame(at, question_word):
    assert at.title[0].value
    info = [i.value for i in at.info]
    assert any("The question" in v and question_word in v for v in info), info
    experiments = [b for b in at.button if str(b.key).startswith("exp_")]
    assert len(experiments) >= 3
    assert not at.error


# ----------------------------------------------------------------------------------------------
# Page 1: Loss functions
# ----------------------------------------------------------------------------------------------
def test_loss_page_frame_and_engine_latex(page1):
    check_page_frame(page1, "loss")
    shown = [l.value for l in page1.latex]
    for name in losses.names():  # every loss's formula and derivative, from the engine
        L = losses.get(name)
        assert any(L.latex in s for s in shown), name
        assert any(L.grad_latex in s for s in shown), name
    text = " ".join(m.value for m in page1.markdown) + " ".join(c.value for c in page1.caption)
    assert "one-hot" in text and "cross-entropy" in text
    assert "0.886337" in text  # the live check: cross-entropy from labels = from one-hot rows


def test_loss_page_widgets_change_their_figures(page1):
    check_moves(page1, [
        ("slider", "lf_delta", 2.0, "lf_cat_reg"),
        ("slider", "lf_q", 0.9, "lf_cat_reg"),
        ("slider", "lf_gamma", 0.0, "lf_cat_cls"),
        ("slider", "lf_out_count", 7, "lf_lab_fit"),
        ("slider", "lf_out_size", 6.5, "lf_lab_fit"),
        ("radio", "lf_out_side", "down", "lf_lab_fit"),
        ("select_slider", "lf_lab_delta", 0.25, "lf_lab_s_huber"),
        ("selectbox", "lf_lab_opt", "adam", "lf_lab_s_mse"),
        ("number_input", "lf_lab_lr", 0.05, "lf_lab_s_mae"),
        ("slider", "lf_lab_steps", 60, "lf_lab_s_mae"),
        ("selectbox", "lf_cp_feature", "s5", "lf_cp_surface"),
        ("selectbox", "lf_cp_loss", "huber", "lf_cp_surface"),
        ("slider", "lf_cp_delta", 0.3, "lf_cp_surface"),
        ("selectbox", "lf_cp_opt", "rmsprop", "lf_cp_gaps"),
        ("number_input", "lf_cp_lr", 0.03, "lf_cp_gaps"),
        ("slider", "lf_cp_steps", 100, "lf_cp_gaps"),
        ("selectbox", "lf_ce_feature", "mean texture", "lf_ce_s_bce"),
        ("select_slider", "lf_ce_lr", 2.0, "lf_ce_s_mse"),
        ("slider", "lf_ce_steps", 100, "lf_ce_s_bce"),
        ("radio", "lf_ce_start", "at the origin", "lf_ce_s_mse"),
    ])


def test_loss_page_captions_follow_the_sliders(page1):
    move(page1, "slider", "lf_delta", 1.5)
    cap = " ".join(c.value for c in page1.caption)
    assert "Huber with δ = 1.5" in cap and "at most 1.5" in cap
    move(page1, "slider", "lf_q", 0.8)
    assert "costs 4×" in " ".join(c.value for c in page1.caption)  # q/(1 − q) = 0.8/0.2


def test_outliers_move_mse_most(page1):
    move(page1, "selectbox", "lf_lab_opt", "sgd")
    page1.button(key="exp_lf_exp_outliers").click().run()
    assert page1.slider(key="lf_out_count").value == 6 and page1.radio(key="lf_out_side").value == "up"
    metrics = {m.label: float(m.value) for m in page1.metric
               if m.label in ("MSE", "MAE") or m.label.startswith("Huber")}
    huber = next(v for k, v in metrics.items() if k.startswith("Huber"))
    assert metrics["MSE"] > 3 * max(metrics["MAE"], huber), metrics


def test_loss_page_diverging_lr_warns_and_still_draws(page1):
    move(page1, "selectbox", "lf_lab_opt", "sgd")
    before = len(chart(page1, "lf_lab_s_mse")["data"])
    move(page1, "number_input", "lf_lab_lr", 50.0)
    w = [t for t in warnings(page1) if "diverged at step" in t]
    assert w and any("SGD" in t and "lr = 50" in t for t in w), warnings(page1)
    assert len(chart(page1, "lf_lab_s_mse")["data"]) >= before - 1  # contour and the path up to the blow-up
    move(page1, "number_input", "lf_lab_lr", 0.1)
    assert not [t for t in warnings(page1) if "diverged" in t and "lab" in t]


def test_loss_page_bad_hyperparameters_get_a_message(page1):
    move(page1, "selectbox", "lf_cp_opt", "sgd")
    page1.checkbox(key="lf_cp_nesterov").check().run()
    assert not page1.exception
    assert any("not allowed" in e.value and "Nesterov" in e.value for e in page1.error)
    page1.checkbox(key="lf_cp_nesterov").uncheck().run()
    assert not page1.error


def test_loss_page_experiments_set_their_widgets(page1):
    for key, widget, kind, value in [("exp_lf_exp_delta", "lf_delta", "slider", 0.1),
                                     ("exp_lf_exp_bigdelta", "lf_lab_delta", "select_slider", 50.0),
                                     ("exp_lf_exp_mae", "lf_cp_loss", "selectbox", "mae"),
                                     ("exp_lf_exp_ce", "lf_ce_lr", "select_slider", 0.5)]:
        page1.button(key=key).click().run()
        assert not page1.exception
        assert getattr(page1, kind)(key=widget).value == value, key


def test_why_cross_entropy_numbers(page1):
    page1.button(key="exp_lf_exp_ce").click().run()
    m = {x.label: x.value for x in page1.metric}
    g_bce, g_mse = float(m["‖∇L‖ at the start, BCE"]), float(m["‖∇L‖ at the start, MSE on p"])
    assert g_mse < 0.2 * g_bce
    acc_b = float(m["accuracy after 300 steps, BCE"].rstrip("%"))
    acc_m = float(m["accuracy after 300 steps, MSE on p"].rstrip("%"))
    assert acc_b > acc_m + 10


# ----------------------------------------------------------------------------------------------
# Page 2: Gradient-descent variants
# ----------------------------------------------------------------------------------------------
def test_descent_page_frame_and_engine_latex(page2):
    from optlab import article, optimizers

    check_page_frame(page2, "step")
    shown = [l.value for l in page2.latex]
    assert any(optimizers.info("sgd").latex in s for s in shown)
    for key in ("gd", "sgd", "minibatch", "stability", "article_batch", "article_sgd"):
        assert any(article.FORMULAS[key] in s for s in shown), key
    codes = [c.value for c in page2.code]
    assert article.GD_CODE.strip() in [c.strip() for c in codes]
    assert article.SGD_CODE.strip() in [c.strip() for c in codes]


def test_descent_page_shows_the_article_bugs_live(page2):
    text = " ".join(m.value for m in page2.markdown) + " ".join(c.value for c in page2.code)
    assert "(4, 4)" in text and "(1, 4)" in text and "non-broadcastable output operand" in text
    assert "0.3333" in text and "1.3333" in text  # the out-of-place variant's four slopes
    caps = " ".join(c.value for c in page2.caption)
    assert "ratio 0.5" in caps and "4× larger" in caps
    table = page2.dataframe[-1].value
    rows = dict(zip(table["method"], table["‖θ − θ*‖"]))
    assert rows["closed form: np.linalg.lstsq"] == 0
    assert rows["optlab: gradient descent"] < 1e-10 and rows["optlab: SGD, batch size 1"] < 1e-4


def test_descent_page_widgets_change_their_figures(page2):
    check_moves(page2, [
        ("selectbox", "gd_feature", "s5", "gd_var_surface"),
        ("select_slider", "gd_lr", 0.05, "gd_var_curves"),
        ("select_slider", "gd_batch", 64, "gd_var_curves"),
        ("slider", "gd_epochs", 2, "gd_var_surface"),
        ("number_input", "gd_seed", 3, "gd_var_curves"),
        ("radio", "gd_preset", "oscillating", "gd_lr_curve"),
        ("radio", "gd_preset", "custom", "gd_lr_curve"),
        ("number_input", "gd_lr_custom", 0.2, "gd_lr_curve"),
        ("slider", "gd_lr_steps", 40, "gd_lr_surface"),
        ("selectbox", "gd_sched", "step", "gd_sched_curves"),
        ("select_slider", "gd_sched_bs", 4, "gd_sched_curves"),
        ("select_slider", "gd_sched_lr", 0.03, "gd_sched_surface"),
        ("slider", "gd_sched_epochs", 1, "gd_sched_curves"),
        ("select_slider", "gd_art_lr", 0.05, "gd_art_loss"),
        ("slider", "gd_art_steps", 500, "gd_art_loss"),
        ("select_slider", "gd_art_sgd_lr", 0.01, "gd_art_loss"),
        ("slider", "gd_art_sgd_steps", 1000, "gd_art_loss"),
    ])


def test_descent_page_diverging_preset_warns_and_still_draws(page2):
    move(page2, "radio", "gd_preset", "diverging")
    w = [t for t in warnings(page2) if "diverged at step" in t]
    assert w and "SGD" in w[0], warnings(page2)
    spec = chart(page2, "gd_lr_surface")
    assert any(t.get("type") == "contour" for t in spec["data"])
    assert any("diverged" in json.dumps(t) for t in spec["data"])  # the ✕ where the run blew up
    assert any("stopped at step" in c.value for c in page2.caption)
    move(page2, "radio", "gd_preset", "good")
    assert not [t for t in warnings(page2) if "lr = 1.2" in t]


def test_descent_page_article_lr_past_the_limit_warns(page2):
    move(page2, "select_slider", "gd_art_lr", 0.13)
    assert any("diverged at step" in t for t in warnings(page2))
    assert chart(page2, "gd_art_loss")["data"]
    move(page2, "select_slider", "gd_art_lr", 0.1)


def test_descent_page_experiments_set_their_widgets(page2):
    for key, widget, kind, value in [("exp_gd_exp_epoch", "gd_epochs", "slider", 1),
                                     ("exp_gd_exp_noise", "gd_lr", "select_slider", 0.3),
                                     ("exp_gd_exp_diverge", "gd_preset", "radio", "diverging"),
                                     ("exp_gd_exp_cosine", "gd_sched", "selectbox", "cosine"),
                                     ("exp_gd_exp_article", "gd_art_lr", "select_slider", 0.01)]:
        page2.button(key=key).click().run()
        assert not page2.exception
        assert getattr(page2, kind)(key=widget).value == value, key


# ----------------------------------------------------------------------------------------------
# The helpers behind the numbers on the pages
# ----------------------------------------------------------------------------------------------
def test_parameter_facts_are_the_closed_forms():
    f = lab.parameter_facts(delta=0.7, q=0.9, gamma=2.0, p=0.9)
    assert f["huber_pull"] == pytest.approx(0.7)
    assert f["quantile_ratio"] == pytest.approx(0.9 / 0.1)
    assert f["focal_factor"] == pytest.approx((1 - 0.9) ** 2, rel=1e-9)
    assert f["mse_pull_at_10"] == pytest.approx(20.0)


def test_one_hot_demo_is_cross_entropy():
    oh = lab.one_hot_demo()
    assert oh.with_labels == pytest.approx(oh.with_one_hot, rel=1e-14)
    p = np.exp(oh.scores) / np.exp(oh.scores).sum(axis=1, keepdims=True)
    assert oh.with_labels == pytest.approx(-np.mean(np.log(p[np.arange(3), oh.labels])), rel=1e-12)


def test_curvature_presets_and_contraction():
    spec = (("feature", "diabetes", "bmi", False), "mse", (), None)
    cv = lab.curvature(spec)
    assert cv.lam_min == pytest.approx(2.0) and cv.lam_max == pytest.approx(2.0)  # 2·mean(x̃x̃ᵀ), x standardized
    assert cv.critical == pytest.approx(1.0)
    assert lab.contraction(spec, cv.presets["diverging"]) > 1 > lab.contraction(spec, cv.presets["oscillating"])
    assert lab.contraction(spec, cv.presets["good"]) == pytest.approx(0.0, abs=1e-12)
    toy = lab.curvature((("article",), "mse", (), None))
    assert toy.lam_max / toy.lam_min == pytest.approx(16.7006097 / 0.2993903, rel=1e-6)


@pytest.mark.parametrize("name", ["step", "exponential", "cosine", "warmup_cosine"])
def test_schedules_end_near_one_percent_or_less(name):
    steps = 500
    sched = lab.schedule_object(lab.schedule_spec(name, steps))
    end = sched(1.0, steps - 1)
    assert end <= 0.07 and sched(1.0, steps // 2) < 1.0


def test_epochs_and_steps():
    assert lab.epochs_to_steps(3, 1, 442) == 1326
    assert lab.epochs_to_steps(1, 16, 442) == 28
    assert lab.epochs_to_steps(5, 442, 442) == 5


def test_per_sample_curves_bce_and_mse_on_probability():
    s, curves = lab.per_sample_curves(6.0, 41)
    sig = 1 / (1 + np.exp(-s))
    np.testing.assert_allclose(curves["bce"][0], np.log1p(np.exp(-s)), rtol=1e-12)
    np.testing.assert_allclose(curves["bce"][1], sig - 1, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(curves["mse"][0], (sig - 1) ** 2, rtol=1e-12)
    np.testing.assert_allclose(curves["mse"][1], 2 * (sig - 1) * sig * (1 - sig), rtol=1e-10, atol=1e-15)
    g = lab.sample_gradients(-4.0)
    assert g["bce"] / g["mse"] > 20  # confidently wrong: MSE's gradient vanishes


def test_lab_surfaces_share_one_window_and_mse_is_the_closed_form():
    specs = lab.lab_specs(5, 4.0, "up", 1.0)
    wins = {s[3] for s in specs.values()}
    assert len(wins) == 1
    x, y, mask, _ = lab.dataset(specs["mse"][0])
    assert mask.sum() == 5
    np.testing.assert_allclose(lab.minimum(specs["mse"]), models.LinearRegression.closed_form(x, y), rtol=1e-10)
    assert lab.shift(lab.minimum(specs["mse"]), lab.clean_fit()) > lab.shift(lab.minimum(specs["mae"]), lab.clean_fit())


def test_relative_gap_and_tail_gap():
    spec = (("feature", "diabetes", "bmi", False), "mse", (), None)
    r = lab.run_tuple("sgd", {"lr": 0.25}, (0.0, 0.0), 10)
    tr = lab.run_of(spec, r)
    # on a quadratic with Hessian 2I, GD multiplies the gap by (1 − 2·0.25)² per step
    assert lab.relative_final_gap(spec, tr) == pytest.approx(0.25 ** 10, rel=1e-6)
    assert lab.tail_gap(spec, tr, 0.1) == pytest.approx(tr.losses[-1] - lab.min_value(spec), rel=1e-9)
    bad = lab.run_of(spec, lab.run_tuple("sgd", {"lr": 1.5}, (0.0, 0.0), 200))
    assert bad.diverged and math.isinf(lab.relative_final_gap(spec, bad))
