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
