"""The seed article's code samples: each claimed defect measured, and the corrected versions converge.

Nothing here executes the article's strings: the NumPy lines are replayed by optlab.article and the
claims are checked against independent arithmetic (closed forms, finite differences, lstsq).
"""
from __future__ import annotations

import ast
import glob
import re
from pathlib import Path

import numpy as np
import pytest

from optlab import article, data, models

# shared/ sits beside the repository (CI clones it that way), as on the developers' machines
SEEDS = sorted(glob.glob(str(Path(__file__).resolve().parents[2] / "shared" / "seeds" / "*.txt"))
               or glob.glob("/work/shared/seeds/*.txt"))


# ----------------------------------------------------------------------------------------------
# The samples are the article's
# ----------------------------------------------------------------------------------------------
@pytest.mark.skipif(not SEEDS, reason="the seed article is not on this machine")
@pytest.mark.parametrize("key", ["gd", "sgd"])
def test_samples_are_the_seed_text_with_indentation_restored(key):
    seed = [ln.strip() for ln in Path(SEEDS[0]).read_text(encoding="utf-8").splitlines()]
    lines = article.seed_lines(article.SAMPLES[key].code)
    hits = [i for i in range(len(seed) - len(lines) + 1) if seed[i:i + len(lines)] == lines]
    assert len(hits) == 1, f"sample {key} is not a contiguous block of the seed article"


@pytest.mark.parametrize("key", ["gd", "sgd"])
def test_samples_parse_and_define_what_the_page_says(key):
    smp = article.SAMPLES[key]
    tree = ast.parse(smp.code)  # valid Python once indented
    defined = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert defined == ["loss_function", smp.function]
    for zh in re.findall(r"#\s*(\S+)", smp.code):
        assert zh in article.TRANSLATIONS, f"untranslated comment {zh!r}"


# ----------------------------------------------------------------------------------------------
# ① shapes
# ----------------------------------------------------------------------------------------------
def test_gd_shapes_and_the_in_place_update_raises():
    r = article.replay_gd(seed=3)
    assert r.shapes["theta"] == (1, 1) and r.shapes["y"] == (4,)
    assert r.shapes["X.dot(theta)"] == (4, 1)
    assert r.shapes["X.dot(theta) - y"] == (4, 4)  # (4, 1) − (4,) broadcasts
    assert r.shapes["gradients"] == (1, 4)
    assert r.failed_at == 0 and "non-broadcastable output operand" in r.error
    np.testing.assert_array_equal(r.theta, r.theta0)  # nothing was updated
    # the same NumPy rule, independently: a (1, 4) result cannot be written into a (1, 1) array
    with pytest.raises(ValueError, match="non-broadcastable"):
        a = np.zeros((1, 1))
        a -= np.ones((1, 4))


def test_gd_out_of_place_returns_four_slopes_y_over_3():
    r = article.replay_gd(in_place=False, seed=1)
    assert r.error is None and r.theta.shape == (1, 4)
    X, y = article.article_data()
    # column j minimises Σ_i (x_i θ_j − y_j)²: θ_j = y_j Σx / Σx² = y_j · 10 / 30
    expected = y * X[:, 0].sum() / (X[:, 0] ** 2).sum()
    np.testing.assert_allclose(r.theta[0], expected, rtol=1e-12)


def test_sgd_shapes_work_and_it_reaches_theta_1():
    r = article.replay_sgd(seed=0)
    assert r.gradient_shape == ()  # X[i] is (1,): the gradient is a scalar
    assert r.theta.shape == (1, 1)
    assert abs(r.theta[0, 0] - 1.0) < 1e-9
    assert len(r.thetas) == article.ITERATIONS + 1 and set(r.picks) <= {0, 1, 2, 3}


# ----------------------------------------------------------------------------------------------
# ② factors
# ----------------------------------------------------------------------------------------------
def _mse_no_intercept(theta, X, y):
    return np.mean((X[:, 0] * theta - y) ** 2)


@pytest.mark.parametrize("theta", [-1.3, 0.0, 0.5, 2.7])
def test_mse_gradient_matches_finite_differences(theta):
    X, y = article.article_data()
    h = 1e-6
    fd = (_mse_no_intercept(theta + h, X, y) - _mse_no_intercept(theta - h, X, y)) / (2 * h)
    assert article.mse_grad_no_intercept(theta) == pytest.approx(fd, rel=1e-7, abs=1e-9)


@pytest.mark.parametrize("theta", [-1.3, 0.5, 2.7])
def test_batch_gradient_is_half_the_mse_gradient(theta):
    fr = article.factor_report(theta)
    assert fr.batch_ratio == pytest.approx(0.5, rel=1e-12)  # so 4.1 minimises ½·MSE


@pytest.mark.parametrize("theta", [-1.3, 0.5, 2.7])
def test_sgd_gradient_is_the_per_sample_gradient_divided_by_m(theta):
    X, y = article.article_data()
    fr = article.factor_report(theta)
    assert fr.m == 4 and fr.sample_ratio == pytest.approx(4.0, rel=1e-12)
    for i in range(4):
        h = 1e-6
        one = lambda t: (X[i, 0] * t - y[i]) ** 2  # noqa: E731
        fd = (one(theta + h) - one(theta - h)) / (2 * h)
        assert fr.correct_sample_grads[i] == pytest.approx(fd, rel=1e-7, abs=1e-9)
        assert fr.sample_grads[i] == pytest.approx(fd / 4, rel=1e-7, abs=1e-9)
    # in expectation over the random index it is ∇MSE / m
    assert fr.sgd_mean == pytest.approx(fr.mse_grad / 4, rel=1e-12)


# ----------------------------------------------------------------------------------------------
# ③ intercept, ④ TensorFlow, ⑤ seeds
# ----------------------------------------------------------------------------------------------
def test_intercept_costs_mean_y_squared_on_centred_data():
    x, y = data.feature("diabetes", "bmi")  # x standardized: mean 0
    r = article.intercept_report(x, y)
    np.testing.assert_allclose(r.w_origin, r.wb[0], rtol=1e-10)  # same slope when x is centred
    assert r.mse_origin - r.mse_wb == pytest.approx(np.mean(y) ** 2, rel=1e-9)
    toy = article.intercept_report(*[np.asarray(a, float).ravel() for a in article.article_data()])
    assert toy.w_origin == pytest.approx(1.0) and toy.mse_origin == pytest.approx(0.0, abs=1e-20)


@pytest.mark.parametrize("key", ["gd", "sgd"])
def test_tensorflow_is_imported_and_unused(key):
    f = article.code_facts(article.SAMPLES[key].code)
    assert "tensorflow" in f.imports
    assert f.unused_functions == ["loss_function"]
    assert f.tensorflow_only_in == ["loss_function"]


def test_code_facts_sees_calls_and_seeds():
    f = article.code_facts("import numpy as np\nnp.random.seed(0)\ndef g():\n    return 1\ng()\n")
    assert f.unused_functions == [] and f.unseeded_calls == [] and f.tensorflow_only_in == []


def test_unseeded_calls_found_and_runs_differ_by_seed():
    assert article.code_facts(article.GD_CODE).unseeded_calls == ["np.random.randn"]
    assert article.code_facts(article.SGD_CODE).unseeded_calls == ["np.random.randint", "np.random.randn"]
    a, b, a2 = article.replay_sgd(seed=0), article.replay_sgd(seed=1), article.replay_sgd(seed=0)
    assert a.theta0[0, 0] != b.theta0[0, 0] and not np.array_equal(a.picks, b.picks)
    np.testing.assert_array_equal(a.thetas, a2.thetas)  # with a seed it is reproducible


# ----------------------------------------------------------------------------------------------
# Corrected versions against the closed form
# ----------------------------------------------------------------------------------------------
def _lstsq_toy():
    X, y = article.article_data()
    A = np.column_stack([X[:, 0], np.ones(4)]).astype(float)
    return np.linalg.lstsq(A, y.astype(float), rcond=None)[0]


def test_minimal_numpy_fixes_converge_to_lstsq():
    X, y = article.article_data()
    star = _lstsq_toy()
    np.testing.assert_allclose(article.fixed_numpy_gd(X, y, alpha=0.1, iterations=2000), star, atol=1e-10)
    np.testing.assert_allclose(article.fixed_numpy_sgd(X, y, alpha=0.02, iterations=5000), star, atol=1e-5)
    # with the article's own lr the intercept's flat direction is not done after 1000 steps
    err = np.linalg.norm(article.fixed_numpy_gd(X, y) - star)
    assert 1e-4 < err < 0.1


def test_corrected_runs_reach_the_closed_form():
    c = article.corrected()
    np.testing.assert_allclose(c.closed_form, _lstsq_toy(), atol=1e-14)
    assert c.gd_error < 1e-10 and not c.gd.diverged
    assert c.sgd_error < 1e-4 and not c.sgd.diverged
    assert c.sgd.batch_size == 1 and c.gd.batch_size is None


def test_corrected_gd_diverges_past_two_over_lambda_max():
    c0 = article.corrected()
    lam = np.linalg.eigvalsh(c0.surface.hessian(c0.surface.minima[0]))
    crit = 2.0 / lam[-1]
    ok = article.corrected(lr_gd=0.95 * crit, steps_gd=3000, steps_sgd=10)
    bad = article.corrected(lr_gd=1.05 * crit, steps_gd=3000, steps_sgd=10)
    assert not ok.gd.diverged and bad.gd.diverged
    assert "diverged at step" in bad.gd.message


def test_formulas_are_plain_katex():
    for name, tex in article.FORMULAS.items():
        assert tex.count("{") == tex.count("}"), name
        assert "algorithm" not in tex and "\\\\[" not in tex, name


def test_surface_of_the_corrected_run_is_the_mse_of_the_line():
    c = article.corrected(steps_gd=5, steps_sgd=5)
    P = np.array([[0.3, -0.2], [1.0, 0.0], [2.0, 1.5]])
    mdl = models.LinearRegression("mse")
    np.testing.assert_allclose(c.surface.value(P), mdl.loss(P, c.x, c.y), rtol=1e-12, atol=1e-14)
