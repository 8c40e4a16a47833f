"""Chapter 5 page (pages/5_Overfitting_and_gradients.py): every section renders with a chart in its
first columns, every claim of a caption matches the numbers it rests on over a grid of widget values
(extremes included), the state round-trips through the URL, hostile links follow the rules, the
predictions flip with the run, and every computation a widget or a link can start fits one rerun's
work budget (a second click on the comparison trains nothing)."""
from __future__ import annotations

import itertools
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from state_checks import fuzz_links, no_exception, open_page, roundtrip, url_state  # noqa: E402

from optlab import polynomial  # noqa: E402
from optlab.budget import Budget  # noqa: E402
from optlab.chapters import overfitting as model  # noqa: E402
from optlab.ui import overfitting as view  # noqa: E402

PAGE = "pages/5_Overfitting_and_gradients.py"
CODES = dict(zip(view.SECTIONS, view.SECTION.codes))


def _captions(at) -> str:
    return "\n".join(c.value for c in at.caption)


# ---------------------------------------------------------------------------------------------- sections
@pytest.mark.parametrize("section", view.SECTIONS)
def test_every_section_renders_a_chart_and_a_claim(section):
    at = open_page(PAGE, {"sec": CODES[section]})
    no_exception(at)
    assert at.session_state["ov_section"] == section
    assert len(at.get("plotly_chart")) >= 1
    assert url_state(at).get("sec", "fit") == CODES[section]


def test_default_degree_3_is_not_called_underfitting():
    """Issue 13: at the default state the caption said "Degree 3 underfits … both high" while the
    training MSE was half of σ² and the chart showed a cubic hugging sin(πx)."""
    at = open_page(PAGE)
    no_exception(at)
    text = _captions(at)
    fit = model.degree_fit(20, 0.25, 3)
    v = model.fit_verdict(fit)
    assert v.code != "underfit"
    assert "underfits" not in text
    assert "Degree 3" in text


def test_no_noise_prints_no_ratio_of_round_off():
    at = open_page(PAGE, {"s": "0", "d": "15", "n": "10"})
    no_exception(at)
    text = _captions(at)
    assert "Validation error / training error" not in text
    assert "not a number" in text


# ---------------------------------------------------------------------------------------------- captions
FIT_GRID = list(itertools.product((0, 1, 3, 8, 15), (8, 20, 200), (0.0, 0.25, 1.0), ("sin", "runge")))


@pytest.mark.parametrize("degree, n, noise, func", FIT_GRID)
def test_fit_claims_rest_on_their_numbers(degree, n, noise, func):
    fit = model.degree_fit(n, noise, degree, 0, func)
    v = model.fit_verdict(fit)
    gap = v.vs_best
    if v.code == "best":
        assert fit.degree == fit.best_degree
    elif v.code == "tie":
        assert not gap.clear
    else:
        assert gap.clear and gap.diff > 0                      # clearly worse on the same validation points
        if v.code == "underfit":
            assert fit.degree < fit.best_degree
        else:
            assert fit.degree > fit.best_degree
            assert (v.code == "overfit") == (noise > 0)
    if v.ratio is None:
        assert model.is_zero_mse(fit.train_mse) or not (fit.val_mse < float("inf"))
    else:
        assert v.ratio == pytest.approx(fit.val_mse / fit.train_mse)
    assert v.floor in ("noise", "model", "exact")
    if v.floor == "model":
        assert v.vs_truth.clear


@pytest.mark.parametrize("degree, noise", [(0, 0.25), (3, 0.25), (15, 0.25), (15, 0.0), (3, 1.0)])
def test_learning_curve_claims(degree, noise):
    lc = model.learning_curve(degree, noise, reps=5)
    v = model.learning_verdict(lc)
    if v.val_trend == "falls":
        assert lc.val[-1] < lc.val[0]
    if v.end == "floor" and noise > 0:
        assert lc.val[-1] <= 1.25 * noise ** 2
    if v.train == "rises_to_floor":
        assert lc.train[0] < noise ** 2 and lc.train[-1] > lc.train[0]


@pytest.mark.parametrize("lam", [model.LAMBDA_OPTIONS[0], 0.01, 0.1, 1.0, model.LAMBDA_OPTIONS[-1]])
@pytest.mark.parametrize("n, noise", [(8, 0.0), (20, 0.25), (200, 1.0)])
def test_penalty_claims(lam, n, noise):
    rs = model.regularization_study(n, noise, 12, lam, lam)
    for which in ("ridge", "lasso"):
        p = rs.ridge if which == "ridge" else rs.lasso
        v = model.penalty_verdict(rs, which)
        assert v.zeros == rs.degree - p.nonzero
        if v.all_zero:
            assert p.nonzero == 0
        if v.shrink == "shrinks":
            assert p.shrinkage < model.BARELY
    vr = model.penalty_verdict(rs, "ridge")
    assert vr.zeros == 0 and vr.path_all_nonzero                   # ridge never makes an exact zero


@pytest.mark.parametrize("patience", [1, 5, 30])
def test_early_stopping_claims(patience):
    run = model.train_early_stopping(model.EarlyStopSettings(epochs=500))
    es = model.early_stopping_study(run, patience)
    assert (es.code == "never") == (not es.stopped)
    if es.code == "helped":
        assert es.final_vs_restored.clear and es.final_val > es.restored_val
    if es.code == "too_early":
        assert es.final_vs_restored.clear_below


@pytest.mark.parametrize("opt, steps", [("sgd", 10), ("sgd", 500), ("adam", 20), ("adam", 500)])
def test_search_claims(opt, steps):
    s = model.lr_search(n=60, degree=8, k=5, steps=steps, optimizer=opt, lr_min=1e-3, lr_max=10.0)
    v = model.search_verdict(s)
    r = s.result
    if v.code == "chosen":
        lo, hi = v.plateau
        assert lo <= r.best_lr <= hi
    if v.diverged == "above":
        i = list(r.lrs).index(s.smallest_diverged_lr)
        assert r.diverged.any(1)[i:].all()
    if v.theory == "agrees":
        assert ((r.lrs > s.gd_limit) == r.diverged.any(1)).all()


def test_lab_flow_and_compare_claims():
    van = model.lab_preset("vanishing").settings
    assert model.flow_code(model.initial_gradients(van).norms) == "vanishes"
    healthy = model.lab_preset("healthy").settings
    assert model.flow_code(model.initial_gradients(healthy).norms) == "flows"
    assert model.flow_code([float("nan"), 1.0]) == "undefined"
    assert model.flow_code([1e5, 1e4]) == "huge"


def test_cliff_claims():
    d = model.cliff_demo(lr=0.1, clip_norm=1.0, steps=100, optimizer="sgd")
    v = model.cliff_verdict(d)
    assert v.plain == "thrown" and v.clipped == "reached" and v.clipping == "shortened" and v.bound_holds
    d = model.cliff_demo(lr=0.1, clip_norm=100.0, steps=100, optimizer="sgd", start=2)
    assert model.cliff_verdict(d).clipping in ("inactive", "shortened", "similar")


# ---------------------------------------------------------------------------------------------- budgets
@pytest.mark.parametrize("depth, width, steps, bn, res", [(30, 32, 600, True, True), (30, 32, 600, False, False),
                                                          (2, 8, 100, False, False)])
def test_every_lab_run_fits_one_rerun(depth, width, steps, bn, res):
    s = model.LabSettings(depth=depth, width=width, steps=steps, batch_norm=bn, residual=res)
    planned, cut = view.plan_one(s)
    assert model.lab_cost(planned) <= Budget().evals
    assert (cut is None) == (planned.steps == steps)
    runs, cut = view.plan_comparison(s)
    assert len({r.steps for _k, r in runs}) == 1                     # a fair comparison: the same steps
    assert all(model.lab_cost(r) <= Budget().evals for _k, r in runs)  # one network per rerun


def test_early_stopping_worst_case_fits_one_rerun():
    s = model.EarlyStopSettings(n=max(model.ES_SIZES), width=max(model.ES_WIDTHS), epochs=max(model.ES_EPOCHS))
    planned, _cut = model.plan_early_stopping(s)
    assert model.early_stopping_cost(planned) <= Budget().evals


def test_comparison_is_cached_and_a_second_click_trains_nothing(monkeypatch):
    calls = []
    real = model.train_lab

    def counting(settings, *a, **kw):
        calls.append(settings)
        return real(settings, *a, **kw)

    monkeypatch.setattr(model, "train_lab", counting)
    q = {"sec": "lab", "L": "3", "w": "8", "t": "100", "v": "compare"}
    at = open_page(PAGE, q)
    no_exception(at)
    n_nets = len(model.fix_runs(view.lab_settings({"L": 3, "w": 8, "t": 100})))
    assert len(calls) == n_nets and len(set(calls)) == n_nets    # each network once, one per rerun
    assert "baseline" in _captions(at).lower()
    at.run()
    at.run()
    no_exception(at)
    assert len(calls) == n_nets                                   # nothing retrained


# ---------------------------------------------------------------------------------------------- URL state
@pytest.mark.parametrize("changes", [
    {"ov_degree": 12, "ov_n": 50, "ov_noise": 0.5},
    {"ov_section": view.REG, "ov_lam1": 0.1, "ov_reg_degree": 8},
    {"ov_section": view.ES, "ov_patience": 12, "ov_es_width": 16},
    {"ov_section": view.CV, "ov_cv_k": 3, "ov_cv_opt": "adam"},
    {"ov_section": view.LAB, "ov_lab_depth": 4, "ov_lab_width": 8, "ov_lab_bn": True},
    {"ov_section": view.CLIFF, "ov_cl_lr": 0.02, "ov_cl_opt": "adam"},
])
def test_state_round_trips(changes):
    roundtrip(PAGE, changes)


@pytest.mark.parametrize("section", ["fit", "lab"])
def test_hostile_links(section):
    sec = dict(zip(view.SECTION.codes, view.SECTIONS))[section]
    assert fuzz_links(PAGE, view.PAGE, n=6, section=sec) > 0


def test_a_lab_setting_that_moves_goes_back_to_the_setup_view():
    at = open_page(PAGE, {"sec": "lab", "L": "3", "w": "8", "t": "100", "v": "train"})
    no_exception(at)
    assert at.session_state["ov_lab_view"] == "train"
    at.slider(key="ov_lab_depth").set_value(4).run()
    no_exception(at)
    assert at.session_state["ov_lab_view"] == "setup"
    assert at.session_state["ov_lab_depth"] == 4                   # the moved value is kept


# ---------------------------------------------------------------------------------------------- predictions
def test_outcomes_flip_with_the_run():
    base = {"sec": "fit", "n": 20, "s": 0.25, "f": "sin", "r": 0}
    assert view._out_degree({**base, "d": 15}) == 0                  # overfits
    best = model.degree_fit(20, 0.25, 3).best_degree
    assert view._out_degree({**base, "d": best}) == 1
    assert view._out_l2_zeros({"sec": "reg", "rd": 12, "l2": 1.0}) == 0
    assert view._out_l1_zeros({"sec": "reg", "rd": 12, "l1": 10.0}) == 2   # everything zero
    assert view._out_l1_zeros({"sec": "reg", "rd": 12, "l1": 1e-6}) in (0, 1)
    van = view._lab_state(model.lab_preset("vanishing").settings)
    healthy = view._lab_state(model.lab_preset("healthy").settings)
    assert view._out_flow(van) == 0 and view._out_flow(healthy) == 1


def test_every_question_state_is_a_valid_link():
    for q in view.CHAPTER.all_questions():
        link = view.PAGE.read({k: str(int(v) if isinstance(v, bool) else v) for k, v in q.state.items()})
        assert not link.problems, (q.key, link.problems)
        assert 0 <= q.outcome(link.values) < len(q.choices)


def test_presenter_mode_renders_every_section():
    for code in view.SECTION.codes:
        at = open_page(PAGE, {"sec": code, "present": "1"})
        no_exception(at)
        assert len(at.get("plotly_chart")) >= 1, code


# names kept in Latin letters in Chinese text (people, methods, libraries)
ALLOW = ("Lasso", "Runge", "Legendre", "FISTA", "scikit-learn", "Keras", "He", "Kaiming", "Xavier", "Glorot", "ReLU",
         "Leaky")


@pytest.mark.parametrize("code, moves", [
    ("fit", {"ov_degree": 15, "ov_noise": 0.0}),
    ("reg", {"ov_lam1": 10.0, "ov_reg_degree": 3}),
    ("es", {"ov_patience": 1, "ov_es_width": 8}),
    ("cv", {"ov_cv_opt": "adam", "ov_cv_steps": 10}),
    ("lab", {"ov_lab_view": "train", "ov_lab_depth": 3, "ov_lab_width": 8}),
    ("lab", {"ov_lab_view": "compare", "ov_lab_depth": 2, "ov_lab_width": 8, "ov_lab_steps": 100}),
    ("cliff", {"ov_cl_opt": "adam", "ov_cl_clip": 100.0}),
])
def test_every_section_reads_in_chinese(code, moves):
    from i18n_check import assert_chinese, open_in

    at = open_in("zh", PAGE, timeout=120)
    at.session_state["ov_section"] = dict(zip(view.SECTION.codes, view.SECTIONS))[code]
    for k, v in moves.items():
        at.session_state[k] = v
    at.run()
    assert_chinese(at, ALLOW)


def test_degrees_cover_the_polynomial_range():
    assert view.DEGREE.hi == polynomial.MAX_DEGREE
