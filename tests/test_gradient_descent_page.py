"""The page "Gradient descent" under AppTest: six sections, each drawing its chart and the sentence its
verdict chose; the trial's state bugs (a custom lr of 1e6 or −0.5, a section or language switch) as
regressions; links, questions, budgets, presenter and teacher views; every section in Chinese.

The claims themselves are checked against their numbers over widget grids in
tests/chapters/test_gradient_descent.py; here the page must show exactly the sentence the verdict
picks, and hide it until a prediction is committed.
"""
from __future__ import annotations

import json

import pytest

from i18n_check import assert_chinese, open_in, switch_language
from state_checks import check_link, fuzz_links, hostile_links, link_warnings, no_exception, open_page, roundtrip, url_state, widget

P = "pages/2_Gradient_descent.py"
FEATURES = ("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6")


@pytest.fixture(scope="module")
def view():
    from optlab.ui import gradient_descent as v

    return v


def chart(at, key) -> dict:
    for c in at.get("plotly_chart"):
        if getattr(c, "key", None) == key:
            return json.loads(c.proto.spec)
    raise AssertionError(f"no chart {key!r}: {[getattr(c, 'key', None) for c in at.get('plotly_chart')]}")


def charts(at) -> list[str]:
    return [getattr(c, "key", None) for c in at.get("plotly_chart")]


def texts(at) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption])


def warnings(at) -> list[str]:
    return [w.value for w in at.warning]


def go(at, section):
    at.button_group(key="gd_section").set_value(section).run()
    no_exception(at)
    return at


# ----------------------------------------------------------------------------------------------
# Sections: chart and chosen sentence
# ----------------------------------------------------------------------------------------------
SECTION_CHARTS = {"variants": ["gd_var_surface", "gd_var_curves"], "lr": ["gd_lr_surface", "gd_lr_curve"],
                  "momentum": ["gd_mo_surface", "gd_mo_curves"], "schedules": ["gd_sched_surface", "gd_sched_curves"],
                  "article": ["gd_art_theta"], "fixed": ["gd_art_fit", "gd_art_loss"]}


@pytest.mark.parametrize("code", list(SECTION_CHARTS))
def test_each_section_draws_its_charts_and_nothing_of_the_others(code):
    at = open_page(P, {"sec": code})
    no_exception(at)
    assert link_warnings(at) == []
    assert charts(at) == SECTION_CHARTS[code]
    assert at.button_group(key="gd_section").value == dict(zip(SECTION_CHARTS, [
        "Batch vs SGD", "Learning rate", "Momentum", "Schedules", "Article's code", "Fixed code"]))[code]


VARIANT_LINKS = [{}, {"e": "1"}, {"lr": "0.3", "e": "5"}, {"lr": "0.003"}, {"lr": "0.5", "b": "256", "e": "10"},
                 {"lr": "0.5", "b": "2", "e": "10", "f": "s5", "s": "10000"}]


@pytest.mark.parametrize("q", VARIANT_LINKS)
def test_variants_caption_is_the_verdicts_sentence(q, view):
    at = open_page(P, {"sec": "variants", **q})
    no_exception(at)
    setup = view.variants_of(view.PAGE.current(at.session_state))
    trs = view.variants_runs(setup)
    vd = view.variants_verdict(setup, trs)
    assert view.variants_caption(setup, trs, vd) in [m.value for m in at.markdown]
    table = at.table[0].value
    assert list(table.iloc[:, 1]) == [f"{t.steps:,}" for t in trs]      # the runs the caption talks about
    if vd.closest is not None and len(vd.ties) == 1:
        assert "** ends closest" in texts(at)
    if any(t.diverged for t in trs):
        assert any("diverged at step" in w for w in warnings(at))


def test_schedules_trial_case_no_longer_claims_the_cloud_shrank(view):
    # Step decay, batch 64, 6 epochs: 4.518 constant against 61.65 scheduled, and the page said
    # "shrinking the rate at the end shrinks the cloud".
    at = open_page(P, {"sec": "schedules", "sc": "step", "sb": "64", "se": "6"})
    no_exception(at)
    t = texts(at)
    assert "4.518" in t and "61.65" in t
    assert "shrank the cloud" not in t and "shrinks the cloud" not in t
    assert "ends 13.6× farther" in t and "descent still to go" in t
    at = open_page(P, {"sec": "schedules"})  # cosine, batch 1: there it is true, and said
    assert "shrank the cloud" in texts(at)


def test_learning_rate_sentences_follow_the_regime():
    cases = {"good": "one step lands on the minimum", "too small": "shrinks without overshooting",
             "oscillating": "flips sign every step", "diverging": "so the run diverges"}
    at = open_page(P, {"sec": "lr"})
    for preset, sentence in cases.items():
        at.radio(key="gd_preset").set_value(preset).run()
        no_exception(at)
        assert sentence in texts(at), (preset, texts(at))
    at.radio(key="gd_preset").set_value("custom").run()
    at.number_input(key="gd_lr_custom").set_value(1.0).run()  # exactly 2/λ: ρ = 1
    assert "neither closer nor farther" in texts(at) and "shrinks" not in texts(at).split("With lr = 1")[1][:90]


def test_lr_preset_labels_and_the_custom_box_range(view):
    at = open_page(P, {"sec": "lr"})
    labels = at.radio(key="gd_preset").options
    assert labels[:4] == ["too small (lr = 0.01)", "good (lr = 0.5)", "oscillating (lr = 0.9)", "diverging (lr = 1.2)"]


# ----------------------------------------------------------------------------------------------
# State: nothing changes behind the student's back
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("typed,used,said", [(1e6, "10", "above the largest learning rate this app runs, 10"),
                                             (-0.5, "1e-06", "below the smallest learning rate this app runs, 1e-06")])
def test_a_custom_lr_out_of_range_is_kept_clamped_and_said_in_the_page(typed, used, said):
    at = open_page(P, {"sec": "lr", "p": "custom"})
    at.number_input(key="gd_lr_custom").set_value(typed).run()
    no_exception(at)
    assert at.number_input(key="gd_lr_custom").value == typed        # the input is kept
    w = [x for x in warnings(at) if said in x]
    assert w and f"the run uses lr = {used}" in w[0]                  # said in the page, not in a tooltip
    assert f"With lr = {used} " in texts(at)                          # and that is the run drawn
    names = [t.get("name", "") for t in chart(at, "gd_lr_surface")["data"]]
    assert f"batch GD, lr = {used}" in names


def test_a_custom_lr_link_is_used_the_same_way():
    at = open_page(P, {"sec": "lr", "p": "custom", "c": "1e6"})
    no_exception(at)
    assert at.number_input(key="gd_lr_custom").value == 1e6
    assert any("the run uses lr = 10" in w for w in warnings(at))


def test_presets_never_touch_the_custom_value():
    at = open_page(P, {"sec": "lr", "p": "custom"})
    at.number_input(key="gd_lr_custom").set_value(0.7).run()
    for p in ("good", "diverging", "custom"):
        at.radio(key="gd_preset").set_value(p).run()
        assert at.number_input(key="gd_lr_custom").value == 0.7


def test_a_section_switch_keeps_every_widget():
    at = open_page(P)
    at.slider(key="gd_epochs").set_value(5).run()
    at.select_slider(key="gd_lr").set_value(0.3).run()
    go(at, "Learning rate")
    at.radio(key="gd_preset").set_value("custom").run()
    at.number_input(key="gd_lr_custom").set_value(0.7).run()
    go(at, "Schedules")
    go(at, "Batch vs SGD")
    assert at.slider(key="gd_epochs").value == 5 and at.select_slider(key="gd_lr").value == 0.3
    assert url_state(at) == {"e": "5", "lr": "0.3"}
    go(at, "Learning rate")
    assert at.radio(key="gd_preset").value == "custom" and at.number_input(key="gd_lr_custom").value == 0.7


def test_a_language_switch_keeps_the_page_state():
    at = open_in("en", P, timeout=120)
    go(at, "Learning rate")
    at.radio(key="gd_preset").set_value("custom").run()
    at.number_input(key="gd_lr_custom").set_value(0.7).run()
    at.slider(key="gd_lr_steps").set_value(40).run()
    switch_language(at, "zh")
    no_exception(at)
    assert at.button_group(key="gd_section").value == "Learning rate"
    assert at.radio(key="gd_preset").value == "custom"
    assert at.number_input(key="gd_lr_custom").value == 0.7 and at.slider(key="gd_lr_steps").value == 40
    assert "自定义" in at.radio(key="gd_preset").options[-1]


@pytest.mark.parametrize("changes", [
    {"gd_feature": "s5", "gd_lr": 0.05, "gd_batch": 64, "gd_epochs": 2, "gd_seed": 7},
    {"gd_section": "Learning rate", "gd_preset": "custom", "gd_lr_custom": 0.7, "gd_lr_steps": 40},
    {"gd_section": "Momentum", "gd_mo_lr": 0.15, "gd_mo_beta": 0.5, "gd_mo_steps": 500},
    {"gd_section": "Schedules", "gd_sched": "step", "gd_sched_bs": 8, "gd_sched_lr": 0.3, "gd_sched_epochs": 2},
    {"gd_section": "Article's code"},
    {"gd_section": "Fixed code", "gd_art_lr": 0.01, "gd_art_steps": 500, "gd_art_sgd_lr": 0.05,
     "gd_art_sgd_steps": 300},
], ids=["variants", "lr", "momentum", "schedules", "article", "fixed"])
def test_every_section_round_trips_through_its_link(changes):
    roundtrip(P, changes)


def test_hostile_links_follow_the_rules(view):
    assert fuzz_links(P, view.PAGE, n=8, section="Batch vs SGD") == 10
    # another section: the same links but the 20,000-name one, which Streamlit drops whole before the
    # script runs (in a browser the page then reopens with ?too_long=…, which is named)
    links = [q for q in hostile_links(view.PAGE, n=6, seed=1, section="Learning rate") if len(q) < 1000]
    for q in links:
        check_link(P, view.PAGE, q)
    assert len(links) == 7


# ----------------------------------------------------------------------------------------------
# Budget: what a link or a widget can start is bounded, and a cut is said
# ----------------------------------------------------------------------------------------------
def test_the_dearest_variants_link_is_cut_to_equal_epochs_and_said(view):
    at = open_page(P, {"sec": "variants", "b": "2", "e": "10", "lr": "0.05"})
    no_exception(at)
    note = [i.value for i in at.info if "more than this page computes in one go" in i.value]
    setup = view.variants(" bmi".strip(), 0.05, 2, 10, 0)
    assert setup.cut is not None and note and f"each runs {setup.epochs} epochs instead" in note[0]
    steps = [int(s.replace(",", "")) for s in at.table[0].value.iloc[:, 1]]
    assert steps == [setup.epochs, setup.epochs * 221, setup.epochs * 442]
    assert at.slider(key="gd_epochs").value == 10                     # the widget keeps what was asked


def test_fixed_code_steps_are_cut_together_and_said():
    at = open_page(P, {"sec": "fixed", "gn": "3000", "sn": "5000"})
    no_exception(at)
    assert any("8,000 steps in all are more than this page computes" in i.value for i in at.info)


# ----------------------------------------------------------------------------------------------
# Edge cases read well
# ----------------------------------------------------------------------------------------------
def test_fixed_code_table_shows_a_dash_for_a_diverged_run_and_the_line_with_a_minus():
    at = open_page(P, {"sec": "fixed", "gl": "0.13"})
    no_exception(at)
    table = at.table[0].value
    gd_row = table[table["method"] == "optlab: gradient descent"].iloc[0]
    assert gd_row["w"] == "—" and gd_row["‖θ − θ*‖"] == "—" and gd_row["MSE"] == "—"
    assert "inf" not in table.to_string().lower() and "nan" not in table.to_string().lower()
    names = [t.get("name", "") for t in chart(at, "gd_art_fit")["data"]]
    assert "closed form: ŷ = 1·x − 9.2e-16" in names
    assert any("diverged at step" in w for w in warnings(at))
    assert "GD diverges" in texts(at) and "crawls" not in texts(at)


def test_article_section_claims_are_computed():
    at = open_page(P, {"sec": "article"})
    t = texts(at)
    assert "All three print `[[1.]]`" in t and "but their paths differ" in t
    assert "ratio 0.5" in t and "4× larger" in t and "½·MSE" in t
    assert "MSE 0 (to rounding)" in t and "e-31" not in t          # no round-off number as a fact
    assert "(4, 4) matrix" in t and "non-broadcastable output operand" in "\n".join(c.value for c in at.code)


# ----------------------------------------------------------------------------------------------
# Predict, commit, reveal, check
# ----------------------------------------------------------------------------------------------
def test_outcomes_flip_when_the_run_changes(view):
    cur = view.PAGE.defaults()

    from optlab.ui import state

    def ans(q, **over):
        vals = view.PAGE.read({k: state._as_text(view.PAGE.by_url[k], v) for k, v in {**q.state, **over}.items()})
        assert not vals.problems, vals.problems
        return q.outcome({**cur, **vals.values})

    assert ans(view.Q_COSINE) == 0 and ans(view.Q_COSINE, sc="step", sb=64, se=6) == 1
    assert ans(view.Q_STEP_EARLY) == 1 and ans(view.Q_STEP_EARLY, sc="cosine", sb=1, se=3) == 0
    assert ans(view.Q_MOMENTUM) == 0 and ans(view.Q_MOMENTUM, mb=0.99) == 1
    assert ans(view.Q_RESCUE) == 0 and ans(view.Q_RESCUE, mb=0.5, ml=0.2) == 1
    assert ans(view.Q_ARTICLE_LR) == 1 and ans(view.Q_ARTICLE_LR, gl=0.1) == 0
    assert ans(view.Q_DIVERGE) == 0 and ans(view.Q_DIVERGE, p="oscillating") == 2
    assert ans(view.Q_EPOCH) == 1 and ans(view.Q_EPOCH, e=3, lr=0.5, b=256) == 0
    assert ans(view.Q_JUMP) == 1 and ans(view.Q_JUMP, lr=0.003, e=1) in (3, None)


def test_explanations_quote_the_numbers_of_their_setups(view):
    from optlab.chapters import gradient_descent as model

    cv = view.curvature(view.ARTICLE)
    assert round(2 / cv.lam_max, 2) == 0.12 and round(2 * 1.9 / cv.lam_max, 2) == 0.23       # Q_RESCUE
    assert round(model.crawl_steps(view.contraction(view.ARTICLE, 0.01)), -1) == 770            # Q_ARTICLE_LR
    assert round(view.contraction(view.ARTICLE, 0.1), 2) == 0.97                                  # Q_MOMENTUM
    bmi = view.curvature(view.LR_SPEC)
    assert view.contraction(view.LR_SPEC, bmi.presets["diverging"]) == pytest.approx(1.4)        # Q_DIVERGE
    assert view.contraction(view.LR_SPEC, 0.3) == pytest.approx(0.4)                             # Q_JUMP
    s = view.schedule_runs("step", 64, 0.1, 6)
    assert s.steps == 41 and dict(s.sched_spec[1])["step_size"] == 8                              # Q_STEP_EARLY
    v = view.variants("bmi", 0.1, 16, 1, 0)
    assert [r[3] for _l, _k, r in v.runs] == [1, 28, 442]                                         # Q_EPOCH


def test_outcome_is_hidden_until_commit_then_checked():
    at = open_page(P)
    at.button(key="optlab_setup_gd_one_epoch").click().run()
    no_exception(at)
    assert at.slider(key="gd_epochs").value == 1
    assert "gd_var_curves" not in charts(at) and not at.table
    assert "** ends closest" not in texts(at)
    assert not [d for d in chart(at, "gd_var_surface")["data"] if d.get("mode") == "lines"]   # no paths yet
    at.radio(key="optlab_pick_gd_one_epoch").set_value(1).run()
    at.button(key="optlab_commit_gd_one_epoch").click().run()
    no_exception(at)
    assert any("Right" in s.value for s in at.success)
    assert "gd_var_curves" in charts(at) and "mini-batch** ends closest" in texts(at)


def test_teacher_mode_shows_every_answer():
    for code in SECTION_CHARTS:
        at = open_page(P, {"sec": code, "teacher": "1"})
        no_exception(at)
        assert not any("could not be computed" in w for w in warnings(at))


def test_presenter_mode_puts_key_numbers_above_the_charts():
    for code, key in [("variants", "f − f\\* after 3 epochs"), ("momentum", "Steps to shrink"),
                      ("schedules", "Last 10 % of the steps"), ("fixed", "at the end:"), ("lr", "error ×")]:
        at = open_page(P, {"sec": code, "present": "1"})
        no_exception(at)
        assert any(key in m.value for m in at.markdown), code


# ----------------------------------------------------------------------------------------------
# Chinese
# ----------------------------------------------------------------------------------------------
ZH_MOVES = {
    "Batch vs SGD": [("select_slider", "gd_lr", 0.5), ("select_slider", "gd_batch", 2), ("slider", "gd_epochs", 1)],
    "Learning rate": [("radio", "gd_preset", "custom"), ("number_input", "gd_lr_custom", 1e6),
                      ("radio", "gd_preset", "diverging")],
    "Momentum": [("select_slider", "gd_mo_lr", 0.15), ("slider", "gd_mo_beta", 0.0)],
    "Schedules": [("selectbox", "gd_sched", "step"), ("select_slider", "gd_sched_bs", 64), ("slider", "gd_sched_epochs", 6)],
    "Article's code": [],
    "Fixed code": [("select_slider", "gd_art_lr", 0.13), ("slider", "gd_art_sgd_steps", 5000)],
}


@pytest.mark.parametrize("section", list(ZH_MOVES))
def test_every_section_is_chinese_with_its_main_widgets_moved(section):
    at = open_in("zh", P, timeout=120)
    go(at, section)
    assert_chinese(at)
    for kind, key, value in ZH_MOVES[section]:
        w = getattr(at, kind)(key=key)
        (w.set_value(value) if kind != "selectbox" else w.select(value)).run()
        no_exception(at)
        assert_chinese(at)


def test_the_feature_box_shows_the_name_and_the_caption_the_detail():
    # "bmi (body mass index)" was cut at 1024 px ("bmi (body mass index"): a select box whose
    # options are longer than a control column holds shows their names, the chosen one's detail
    # under it (optlab.ui.state.selectbox)
    at = open_page(P, timeout=120)
    box = at.selectbox(key="gd_feature")
    assert box.options[:3] == ["age", "sex", "bmi"] and box.value == "bmi"
    assert "body mass index" in [c.value for c in at.caption]
    box.set_value("s5").run()
    no_exception(at)
    assert "serum: log triglycerides" in [c.value.replace("\\", "") for c in at.caption]
    assert "body mass index" not in [c.value for c in at.caption]
