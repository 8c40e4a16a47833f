"""The gradient-descent chapter's maths (optlab.chapters.gradient_descent): learning rates from
curvature, schedules and noise floors, and the seed article's code samples, each claimed defect
measured and the corrected versions converging.

Nothing here executes the article's strings: the NumPy lines are replayed by the chapter module and
the claims are checked against independent arithmetic (closed forms, finite differences, lstsq).
"""
from __future__ import annotations

import ast
import glob
import re
from pathlib import Path

import numpy as np
import pytest

import optlab
from optlab import data, models, specs
from optlab.chapters import gradient_descent as gd

# shared/ sits beside the repository (CI clones it that way), as on the developers' machines
SEEDS = sorted(glob.glob(str(Path(__file__).resolve().parents[3] / "shared" / "seeds" / "*.txt"))
               or glob.glob("/work/shared/seeds/*.txt"))


# ----------------------------------------------------------------------------------------------
# The samples are the article's
# ----------------------------------------------------------------------------------------------
@pytest.mark.skipif(not SEEDS, reason="the seed article is not on this machine")
@pytest.mark.parametrize("key", ["gd", "sgd"])
def test_samples_are_the_seed_text_with_indentation_restored(key):
    seed = [ln.strip() for ln in Path(SEEDS[0]).read_text(encoding="utf-8").splitlines()]
    lines = gd.seed_lines(gd.SAMPLES[key].code)
    hits = [i for i in range(len(seed) - len(lines) + 1) if seed[i:i + len(lines)] == lines]
    assert len(hits) == 1, f"sample {key} is not a contiguous block of the seed article"


@pytest.mark.parametrize("key", ["gd", "sgd"])
def test_samples_parse_and_define_what_the_page_says(key):
    smp = gd.SAMPLES[key]
    tree = ast.parse(smp.code)  # valid Python once indented
    defined = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert defined == ["loss_function", smp.function]
    for zh in re.findall(r"#\s*(\S+)", smp.code):
        assert zh in gd.TRANSLATIONS, f"untranslated comment {zh!r}"


# ----------------------------------------------------------------------------------------------
# ① shapes
# ----------------------------------------------------------------------------------------------
def test_gd_shapes_and_the_in_place_update_raises():
    r = gd.replay_gd(seed=3)
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
    r = gd.replay_gd(in_place=False, seed=1)
    assert r.error is None and r.theta.shape == (1, 4)
    X, y = gd.article_data()
    # column j minimises Σ_i (x_i θ_j − y_j)²: θ_j = y_j Σx / Σx² = y_j · 10 / 30
    expected = y * X[:, 0].sum() / (X[:, 0] ** 2).sum()
    np.testing.assert_allclose(r.theta[0], expected, rtol=1e-12)


def test_sgd_shapes_work_and_it_reaches_theta_1():
    r = gd.replay_sgd(seed=0)
    assert r.gradient_shape == ()  # X[i] is (1,): the gradient is a scalar
    assert r.theta.shape == (1, 1)
    assert abs(r.theta[0, 0] - 1.0) < 1e-9
    assert len(r.thetas) == gd.ITERATIONS + 1 and set(r.picks) <= {0, 1, 2, 3}


# ----------------------------------------------------------------------------------------------
# ② factors
# ----------------------------------------------------------------------------------------------
def _mse_no_intercept(theta, X, y):
    return np.mean((X[:, 0] * theta - y) ** 2)


@pytest.mark.parametrize("theta", [-1.3, 0.0, 0.5, 2.7])
def test_mse_gradient_matches_finite_differences(theta):
    X, y = gd.article_data()
    h = 1e-6
    fd = (_mse_no_intercept(theta + h, X, y) - _mse_no_intercept(theta - h, X, y)) / (2 * h)
    assert gd.mse_grad_no_intercept(theta) == pytest.approx(fd, rel=1e-7, abs=1e-9)


@pytest.mark.parametrize("theta", [-1.3, 0.5, 2.7])
def test_batch_gradient_is_half_the_mse_gradient(theta):
    fr = gd.factor_report(theta)
    assert fr.batch_ratio == pytest.approx(0.5, rel=1e-12)  # so 4.1 minimises ½·MSE


@pytest.mark.parametrize("theta", [-1.3, 0.5, 2.7])
def test_sgd_gradient_is_the_per_sample_gradient_divided_by_m(theta):
    X, y = gd.article_data()
    fr = gd.factor_report(theta)
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
    r = gd.intercept_report(x, y)
    np.testing.assert_allclose(r.w_origin, r.wb[0], rtol=1e-10)  # same slope when x is centred
    assert r.mse_origin - r.mse_wb == pytest.approx(np.mean(y) ** 2, rel=1e-9)
    toy = gd.intercept_report(*[np.asarray(a, float).ravel() for a in gd.article_data()])
    assert toy.w_origin == pytest.approx(1.0) and toy.mse_origin == pytest.approx(0.0, abs=1e-20)


@pytest.mark.parametrize("key", ["gd", "sgd"])
def test_tensorflow_is_imported_and_unused(key):
    f = gd.code_facts(gd.SAMPLES[key].code)
    assert "tensorflow" in f.imports
    assert f.unused_functions == ["loss_function"]
    assert f.tensorflow_only_in == ["loss_function"]


def test_code_facts_sees_calls_and_seeds():
    f = gd.code_facts("import numpy as np\nnp.random.seed(0)\ndef g():\n    return 1\ng()\n")
    assert f.unused_functions == [] and f.unseeded_calls == [] and f.tensorflow_only_in == []


def test_unseeded_calls_found_and_runs_differ_by_seed():
    assert gd.code_facts(gd.GD_CODE).unseeded_calls == ["np.random.randn"]
    assert gd.code_facts(gd.SGD_CODE).unseeded_calls == ["np.random.randint", "np.random.randn"]
    a, b, a2 = gd.replay_sgd(seed=0), gd.replay_sgd(seed=1), gd.replay_sgd(seed=0)
    assert a.theta0[0, 0] != b.theta0[0, 0] and not np.array_equal(a.picks, b.picks)
    np.testing.assert_array_equal(a.thetas, a2.thetas)  # with a seed it is reproducible


# ----------------------------------------------------------------------------------------------
# Corrected versions against the closed form
# ----------------------------------------------------------------------------------------------
def _lstsq_toy():
    X, y = gd.article_data()
    A = np.column_stack([X[:, 0], np.ones(4)]).astype(float)
    return np.linalg.lstsq(A, y.astype(float), rcond=None)[0]


def test_minimal_numpy_fixes_converge_to_lstsq():
    X, y = gd.article_data()
    star = _lstsq_toy()
    np.testing.assert_allclose(gd.fixed_numpy_gd(X, y, alpha=0.1, iterations=2000), star, atol=1e-10)
    np.testing.assert_allclose(gd.fixed_numpy_sgd(X, y, alpha=0.02, iterations=5000), star, atol=1e-5)
    # with the article's own lr the intercept's flat direction is not done after 1000 steps
    err = np.linalg.norm(gd.fixed_numpy_gd(X, y) - star)
    assert 1e-4 < err < 0.1


def test_corrected_runs_reach_the_closed_form():
    c = gd.corrected()
    np.testing.assert_allclose(c.closed_form, _lstsq_toy(), atol=1e-14)
    assert c.gd_error < 1e-10 and not c.gd.diverged
    assert c.sgd_error < 1e-4 and not c.sgd.diverged
    assert c.sgd.batch_size == 1 and c.gd.batch_size is None


def test_corrected_gd_diverges_past_two_over_lambda_max():
    c0 = gd.corrected()
    lam = np.linalg.eigvalsh(c0.surface.hessian(c0.surface.minima[0]))
    crit = 2.0 / lam[-1]
    ok = gd.corrected(lr_gd=0.95 * crit, steps_gd=3000, steps_sgd=10)
    bad = gd.corrected(lr_gd=1.05 * crit, steps_gd=3000, steps_sgd=10)
    assert not ok.gd.diverged and bad.gd.diverged
    assert "diverged at step" in bad.gd.message


def test_formulas_are_plain_katex():
    for name, tex in gd.FORMULAS.items():
        assert tex.count("{") == tex.count("}"), name
        assert "algorithm" not in tex and "\\\\[" not in tex, name


def test_surface_of_the_corrected_run_is_the_mse_of_the_line():
    c = gd.corrected(steps_gd=5, steps_sgd=5)
    P = np.array([[0.3, -0.2], [1.0, 0.0], [2.0, 1.5]])
    mdl = models.LinearRegression("mse")
    np.testing.assert_allclose(c.surface.value(P), mdl.loss(P, c.x, c.y), rtol=1e-12, atol=1e-14)


# ----------------------------------------------------------------------------------------------
# Learning rates from curvature, schedules, noise floors
# ----------------------------------------------------------------------------------------------
BMI = (("feature", "diabetes", "bmi", False), "mse", (), None)


def test_curvature_presets_and_contraction():
    s = specs.data_surface(BMI)
    cv = gd.curvature(s)
    assert cv.lam_min == pytest.approx(2.0) and cv.lam_max == pytest.approx(2.0)  # 2·mean(x̃x̃ᵀ), x standardized
    assert cv.critical == pytest.approx(1.0)
    assert gd.contraction(s, cv.presets["diverging"]) > 1 > gd.contraction(s, cv.presets["oscillating"])
    assert gd.contraction(s, cv.presets["good"]) == pytest.approx(0.0, abs=1e-12)
    toy = gd.curvature(specs.data_surface((("article",), "mse", (), None)))
    assert toy.lam_max / toy.lam_min == pytest.approx(16.7006097 / 0.2993903, rel=1e-6)
    assert toy.presets["good"] == pytest.approx(2 / (toy.lam_max + toy.lam_min), rel=1e-3)   # 4 digits shown


@pytest.mark.parametrize("name", ["step", "exponential", "cosine", "warmup_cosine"])
def test_schedules_end_near_one_percent_or_less(name):
    steps = 500
    sched = gd.schedule_object(gd.schedule_spec(name, steps))
    end = sched(1.0, steps - 1)
    assert end <= 0.07 and sched(1.0, steps // 2) < 1.0
    assert gd.schedule_object(gd.schedule_spec("constant", steps))(1.0, steps - 1) == 1.0


def test_epochs_and_steps():
    assert gd.epochs_to_steps(3, 1, 442) == 1326
    assert gd.epochs_to_steps(1, 16, 442) == 28
    assert gd.epochs_to_steps(5, 442, 442) == 5


def test_tail_gap_and_zoom_window():
    s = specs.data_surface(BMI)
    tr = optlab.run(s, optlab.optimizers.make("sgd", lr=0.25), (0.0, 0.0), 10, record="path")
    assert gd.tail_gap(tr.losses, s.min_value, 0.1) == pytest.approx(tr.losses[-1] - s.min_value, rel=1e-9)
    assert gd.tail_gap([1.0, np.inf], 0.0) == np.inf
    win = gd.zoom_window(s.minima[0], [tr], keep=0.5, pad=1.6)
    tail = tr.xs[5:]
    r = 1.6 * np.max(np.abs(tail - s.minima[0]))
    np.testing.assert_allclose(np.ravel(win), [s.minima[0][0] - r, s.minima[0][0] + r,
                                               s.minima[0][1] - r, s.minima[0][1] + r], rtol=1e-12)
