"""The page "Loss functions" under AppTest: each main widget changes the figure it drives, diverging
choices show a warning naming the optimizer and the step while the chart is still drawn, and the
guided experiments set their widgets.  The numbers behind the page are checked without Streamlit
in tests/chapters/test_loss_functions.py.
"""
from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from optlab import losses

P1 = "pages/1_Loss_functions.py"


def _open(app_dir, page):
    at = AppTest.from_file(str(app_dir / "app.py"), default_timeout=120)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture(scope="module")
def page1(app_dir):
    return _open(app_dir, P1)


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
