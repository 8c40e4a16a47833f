"""The page "Gradient descent" under AppTest: each main widget changes the figure it drives, diverging
choices show a warning naming the optimizer and the step while the chart is still drawn, and the
guided experiments set their widgets.  The numbers behind the page are checked without Streamlit
in tests/chapters/test_gradient_descent.py.
"""
from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

P2 = "pages/2_Gradient_descent.py"


def _open(app_dir, page):
    at = AppTest.from_file(str(app_dir / "app.py"), default_timeout=120)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


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
# Page 2: Gradient-descent variants
# ----------------------------------------------------------------------------------------------
def test_descent_page_frame_and_engine_latex(page2):
    from optlab import optimizers
    from optlab.chapters import gradient_descent as article

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
