"""The loss-functions chapter's maths (optlab.chapters.loss_functions), checked against closed forms,
without Streamlit."""
from __future__ import annotations

import math

import numpy as np
import pytest

import optlab
from optlab import models, specs
from optlab.chapters import loss_functions as lf


def test_parameter_facts_are_the_closed_forms():
    f = lf.parameter_facts(delta=0.7, q=0.9, gamma=2.0, p=0.9)
    assert f["huber_pull"] == pytest.approx(0.7)
    assert f["quantile_ratio"] == pytest.approx(0.9 / 0.1)
    assert f["focal_factor"] == pytest.approx((1 - 0.9) ** 2, rel=1e-9)
    assert f["mse_pull_at_10"] == pytest.approx(20.0)


def test_catalogue_and_table():
    reg = lf.catalogue("regression", 0.5, 0.8, 2.0)
    assert [L.name for L in reg] == list(optlab.losses.REGRESSION)
    assert next(L for L in reg if L.name == "huber").params == {"delta": 0.5}
    cls = lf.catalogue("classification", 0.5, 0.8, 3.0)
    assert next(L for L in cls if L.name == "focal").params == {"gamma": 3.0}
    rows = lf.loss_table()
    assert [r["name"] for r in rows] == optlab.losses.names()


def test_one_hot_demo_is_cross_entropy():
    oh = lf.one_hot_demo()
    assert oh.with_labels == pytest.approx(oh.with_one_hot, rel=1e-14)
    p = np.exp(oh.scores) / np.exp(oh.scores).sum(axis=1, keepdims=True)
    assert oh.with_labels == pytest.approx(-np.mean(np.log(p[np.arange(3), oh.labels])), rel=1e-12)


def test_per_sample_curves_bce_and_mse_on_probability():
    s, curves = lf.per_sample_curves(6.0, 41)
    sig = 1 / (1 + np.exp(-s))
    np.testing.assert_allclose(curves["bce"][0], np.log1p(np.exp(-s)), rtol=1e-12)
    np.testing.assert_allclose(curves["bce"][1], sig - 1, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(curves["mse"][0], (sig - 1) ** 2, rtol=1e-12)
    np.testing.assert_allclose(curves["mse"][1], 2 * (sig - 1) * sig * (1 - sig), rtol=1e-10, atol=1e-15)
    g = lf.sample_gradients(-4.0)
    assert g["bce"] / g["mse"] > 20  # confidently wrong: MSE's gradient vanishes


def test_lab_surfaces_share_one_window_and_mse_is_the_closed_form():
    x0, y0, _, _ = specs.dataset(("outliers", 0, 0.0, "both", 0))
    window = lf.lab_window(x0, y0)
    w, b = models.LinearRegression.closed_form(x0, y0)
    assert window == ((w - lf.LAB_HALFWIDTH, w + lf.LAB_HALFWIDTH), (b - lf.LAB_HALFWIDTH, b + lf.LAB_HALFWIDTH))
    lab = lf.lab_specs(5, 4.0, "up", 1.0, 0, window)
    assert set(lab) == set(lf.LAB_LOSSES) and {s[3] for s in lab.values()} == {window}
    x, y, mask, _ = specs.dataset(lab["mse"][0])
    assert mask.sum() == 5
    fits = {n: specs.data_surface(s).minima[0] for n, s in lab.items()}
    np.testing.assert_allclose(fits["mse"], models.LinearRegression.closed_form(x, y), rtol=1e-10)
    clean = lf.clean_fit(x0, y0)
    assert clean == pytest.approx((w, b))
    assert lf.shift(fits["mse"], clean) > lf.shift(fits["mae"], clean)   # outliers drag MSE most
    assert lf.shift((3.0, 4.0), (0.0, 0.0)) == pytest.approx(5.0)


def test_relative_final_gap_and_gradient_norm():
    s = specs.data_surface((("feature", "diabetes", "bmi", False), "mse", (), None))
    tr = optlab.run(s, optlab.optimizers.make("sgd", lr=0.25), (0.0, 0.0), 10, record="path")
    # on a quadratic with Hessian 2I, GD multiplies the gap by (1 − 2·0.25)² per step
    assert lf.relative_final_gap(tr.losses, s.min_value, tr.diverged) == pytest.approx(0.25 ** 10, rel=1e-6)
    bad = optlab.run(s, optlab.optimizers.make("sgd", lr=1.5), (0.0, 0.0), 200, record="path")
    assert bad.diverged and math.isinf(lf.relative_final_gap(bad.losses, s.min_value, bad.diverged))
    assert lf.relative_final_gap([s.min_value, s.min_value], s.min_value, False) == 0.0
    assert lf.grad_norm(s, s.minima[0]) == pytest.approx(0.0, abs=1e-12)
    assert lf.grad_norm(s, (0.0, 0.0)) == pytest.approx(float(np.linalg.norm(s.grad(np.zeros(2)))))


def test_accuracy_and_probability_range():
    x, y, _, _ = specs.dataset(("feature", "breast_cancer", "mean radius", False))
    s = specs.data_surface((("feature", "breast_cancer", "mean radius", False), "bce", (), None))
    best = s.minima[0]
    acc = lf.accuracy(x, y, best)
    assert 0.8 < acc <= 1.0
    assert lf.accuracy(x, y, -best) < 0.5                     # the wrong sign classifies the other way round
    assert math.isnan(lf.accuracy(x, y, (np.nan, 0.0)))
    lo, hi = lf.probability_range(x, best)
    assert 0.0 < lo < 0.5 < hi < 1.0
    assert lf.probability_range(x, (0.0, 0.0)) == (0.5, 0.5)  # score 0 everywhere: p = σ(0)


# ----------------------------------------------------------------------------------------------
# Verdicts: each claim's test, checked against the numbers it rests on
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("delta", [0.1, 0.5, 1.0, 2.3, 3.0])
@pytest.mark.parametrize("q", [0.05, 0.5, 0.8, 0.95])
@pytest.mark.parametrize("gamma", [0.0, 0.5, 5.0])
def test_catalogue_facts_hold_on_the_curves(delta, q, gamma):
    f = lf.catalogue_facts(delta, q, gamma)
    r = np.linspace(-1e3, 1e3, 20001)
    assert f.huber_pull == pytest.approx(delta)
    assert np.max(np.abs(optlab.losses.get("huber", delta=delta).pointwise_grad(r))) <= delta * (1 + 1e-12)
    under, over = (optlab.losses.get("quantile", q=q).pointwise(np.array([-1.0, 1.0])))
    assert f.quantile_order == ("equal" if under == pytest.approx(over) else "under" if under > over else "over")
    assert f.quantile_ratio == pytest.approx(under / over)
    m = math.log(0.9 / 0.1)
    ratio = float(optlab.losses.get("focal", gamma=gamma).pointwise(m) / optlab.losses.get("bce").pointwise(m))
    assert f.focal_factor == pytest.approx(ratio) and f.focal_factor == pytest.approx(0.1 ** gamma)
    assert f.focal_is_bce == (gamma == 0.0)
    assert f.rmse_is_mae and f.hinge_zero_beyond and f.softmax_is_bce


@pytest.mark.parametrize("delta", np.round(np.arange(0.1, 3.01, 0.1), 1))
def test_huber_shape_is_what_the_curve_looks_like(delta):
    shape, to_mae, to_mse = lf.huber_shape(delta)
    u = np.linspace(-3, 3, 301)
    h = optlab.losses.get("huber", delta=delta).pointwise(u)
    span = h.max() - h.min()
    if shape == "mse":  # ½·r², half of MSE, within the tolerance of the plot's height
        assert np.max(np.abs(h - 0.5 * u * u)) <= lf.SHAPE_TOL * span + 1e-12
    elif shape == "mae":  # a scaled, shifted MAE
        assert np.max(np.abs(h - (delta * np.abs(u) - delta ** 2 / 2))) <= lf.SHAPE_TOL * span
    else:
        assert to_mae > lf.SHAPE_TOL and to_mse > lf.SHAPE_TOL
    assert {0.1: "mae", 1.0: "blend", 3.0: "mse"}.get(float(delta), shape) == shape


LAB_GRID = [(n, sz, side, d) for n in (0, 1, 3, 6, 10) for sz in (0.0, 0.5, 2.0, 6.0, 8.0)
            for side in ("up", "down", "both") for d in (0.1, 1.0, 50.0)]


def _lab(n, sz, side, d):
    x0, y0, _, _ = specs.dataset(("outliers", 0, 0.0, "both", 0))
    window = lf.lab_window(x0, y0)
    sp, clean = lf.lab_specs(n, sz, side, d, 0, window), lf.lab_specs(0, 0.0, side, d, 0, window)
    fits = {k: tuple(specs.data_surface(s).minima[0]) for k, s in sp.items()}
    cfits = {k: tuple(specs.data_surface(s).minima[0]) for k, s in clean.items()}
    x, y, _, _ = specs.dataset(sp["mse"][0])
    return fits, cfits, x, y


@pytest.mark.parametrize("n,sz,side,d", LAB_GRID[::4] + [(6, 6.0, "up", 50.0), (3, 0.5, "up", 0.1)])
def test_lab_verdict_matches_the_fits(n, sz, side, d):
    fits, cfits, x, y = _lab(n, sz, side, d)
    v = lf.lab_verdict(fits, cfits, n, sz, d, lf.max_residual(x, y, fits["mse"]))
    moves = {k: float(np.hypot(fits[k][0] - cfits[k][0], fits[k][1] - cfits[k][1])) for k in fits}
    assert v.moves == pytest.approx(moves)
    hi, lo = max(moves.values()), min(moves.values())
    if v.code == "none":
        assert n == 0 or sz == 0.0 or hi < 1e-8
    elif v.code == "small":
        assert hi < lf.SMALL_MOVE
    elif v.code == "huber_as_mse":
        assert d >= np.max(np.abs(fits["mse"][0] * x + fits["mse"][1] - y))
        assert moves["huber"] == pytest.approx(moves["mse"], rel=1e-6)
    elif v.code == "mse_most":
        assert moves["mse"] == pytest.approx(hi) and (lo < 1e-8 or hi / lo >= lf.CLEAR_RATIO)
    elif v.code == "similar":
        assert hi / lo < lf.CLEAR_RATIO
    else:
        assert v.code == "other_most" and moves["mse"] < hi
    assert v.code != "none" or n == 0 or sz == 0.0


def test_huber_coincides_with_mse_when_delta_exceeds_every_residual():
    fits, *_ = _lab(6, 6.0, "up", 50.0)
    assert lf.huber_coincides(fits) == 0
    fits, *_ = _lab(6, 6.0, "up", 1.0)
    assert lf.huber_coincides(fits) == 2


def test_coupling_verdict_codes():
    g = {"mse": 0.0, "rmse": 1e-14, "huber": 1e-13, "log_cosh": 1e-12, "mae": 1e-6, "quantile": 2e-5}
    assert lf.coupling_verdict(g).code == "smooth_ahead"
    assert lf.coupling_verdict({**g, "mae": 1e-12}).code == "mixed"
    assert lf.coupling_verdict({k: 0.5 for k in g}).code == "none_near"
    v = lf.coupling_verdict({**g, "mse": math.inf}, ["mse"])
    assert v.diverged == ("mse",) and v.code == "smooth_ahead" and v.ranked[-1] == "mse"
    assert lf.coupling_verdict({k: math.inf for k in g}, list(g)).code == "all_diverged"
    v = lf.coupling_verdict({"mse": 0.5, "rmse": 0.4, "huber": 0.3, "log_cosh": 0.2, "mae": 1e-9, "quantile": 1e-8})
    assert v.code == "kinked_ahead"
    assert lf.coupling_verdict({**g, "rmse": 3.0}).worse == ("rmse",)
    assert lf.settles_like(1e-13, 0.0) and lf.settles_like(5e-9, 1e-10) and not lf.settles_like(9.4e-7, 0.0)
    assert not lf.settles_like(math.inf, 0.0)


def _sigmoid(s):
    return 1 / (1 + np.exp(-s))


@pytest.mark.parametrize("feature", ["mean radius", "worst area", "mean texture"])
def test_start_facts_and_gradient_verdict(feature):
    x, y, _, _ = specs.dataset(("feature", "breast_cancer", feature, False))
    bce = specs.data_surface((("feature", "breast_cancer", feature, False), "bce", (), None))
    mse = specs.data_surface((("feature", "breast_cancer", feature, False), "mse", (), None))
    for start in (tuple(bce.starts[0]), (0.0, 0.0)):
        f = lf.start_facts(x, y, start)
        p = _sigmoid(start[0] * x + start[1])
        p_true = np.where(y == 1, p, 1 - p)
        assert f.pmin == pytest.approx(p.min()) and f.pmax == pytest.approx(p.max())
        assert f.confidently_wrong == pytest.approx(np.mean(p_true <= 0.05))
        g_b, g_m = lf.grad_norm(bce, start), lf.grad_norm(mse, start)
        verdict = lf.gradient_verdict(g_b, g_m, f)
        if start == (0.0, 0.0):
            assert f.all_half and verdict == "half" and g_m / g_b == pytest.approx(0.5, rel=1e-12)
            assert lf.gradient_ratio_bucket(g_b, g_m) == 1
        elif verdict == "plateau":
            assert g_m / g_b <= 1 / 3 and f.confidently_wrong >= 0.25


def test_ce_fate_and_comparison():
    data = ("feature", "breast_cancer", "mean radius", False)
    x, y, _, _ = specs.dataset(data)
    bce = specs.data_surface((data, "bce", (), None))
    mse = specs.data_surface((data, "mse", (), None))
    start = tuple(bce.starts[0])
    tb = optlab.run(bce, optlab.optimizers.make("sgd", lr=0.5), start, 300, record="path")
    tm = optlab.run(mse, optlab.optimizers.make("sgd", lr=0.5), start, 300, record="path")
    fb = lf.ce_fate(x, y, tb.final_x, bce.minima[0], tb.diverged)
    fm = lf.ce_fate(x, y, tm.final_x, mse.minima[0], tm.diverged)
    assert fb[0] == "trained" and fb[1] >= fb[2] - lf.TRAINED_MARGIN
    pred = (tm.final_x[0] * x + tm.final_x[1] > 0).astype(int)
    assert fm[0] == "one_class" and np.all(pred == pred[0])                  # the plateau's classifier
    assert fm[1] == pytest.approx(max(np.mean(y == 0), np.mean(y == 1)))      # the majority class's share
    assert lf.compare_accuracy(fb[1], fm[1], len(x)) == "bce"
    assert lf.compare_accuracy(228 / len(x), (228 + 1e-9) / len(x), len(x)) == "tie"
    assert lf.compare_accuracy(float("nan"), 0.5, len(x)) == "undefined"
    assert lf.ce_fate(x, y, (np.nan, 0.0), bce.minima[0], True)[0] == "diverged"


def test_convexity_check_and_bce_stable_lr():
    data = ("feature", "breast_cancer", "mean radius", False)
    x, _, _, _ = specs.dataset(data)
    bce = specs.data_surface((data, "bce", (), None))
    mse = specs.data_surface((data, "mse", (), None))
    assert not lf.nonconvex_on_grid(bce.grid(60)[2]) and lf.nonconvex_on_grid(mse.grid(60)[2])
    # a convexity violation found independently on MSE on p: a midpoint above the chord
    a, b = np.array([4.0, 0.6]), np.array([-4.0, 0.6])
    assert mse.value((a + b) / 2) > (mse.value(a) + mse.value(b)) / 2 or lf.nonconvex_on_grid(mse.grid(30)[2])
    # BCE's Hessian never exceeds ¼·λ_max(mean [x,1][x,1]ᵀ): gradient descent is stable below 2/L
    L = 2 / lf.bce_stable_lr(x)
    h = (bce.grad(np.array([1e-4, 0.0])) - bce.grad(np.array([-1e-4, 0.0]))) / 2e-4
    assert abs(h[0]) <= L * (1 + 1e-6)


def test_page_numbers_use_the_fixed_numerics():
    # log-cosh near r = 0 keeps its relative accuracy (log1p(2 sinh²(r/2)))
    assert optlab.losses.get("log_cosh").pointwise(np.array([1e-8]))[0] == pytest.approx(5e-17, rel=1e-9)
    data = ("feature", "diabetes", "bmi", True)
    lc = specs.data_surface((data, "log_cosh", (), None))
    x, y, _, _ = specs.dataset(data)
    w, b = lc.minima[0]
    r = w * x + b - y
    assert lc.min_value == pytest.approx(np.mean(np.log1p(2 * np.sinh(r / 2) ** 2)), rel=1e-12)
    # the data-surface minimum is the lowest point of its window (projected Newton on the edges)
    for feature in ("mean radius", "worst area"):
        s = specs.data_surface((("feature", "breast_cancer", feature, False), "mse", (), None))
        assert np.nanmin(s.grid(80)[2]) >= s.min_value - 1e-12
