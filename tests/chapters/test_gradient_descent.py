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


# ----------------------------------------------------------------------------------------------
# The noise-free twin, the verdicts the captions are chosen by, budgets, formatting
# ----------------------------------------------------------------------------------------------
ARTICLE = (("article",), "mse", (), None)


@pytest.mark.parametrize("spec", [BMI, ARTICLE])
def test_noise_free_gaps_are_full_batch_gd_exactly(spec):
    s = specs.data_surface(spec)
    x0 = np.array([0.3, -0.2])
    tr = optlab.run(s, optlab.optimizers.make("sgd", lr=0.05), x0, 60, record="path")
    np.testing.assert_allclose(gd.noise_free_gaps(s, x0, np.full(60, 0.05)), tr.losses - s.min_value, rtol=1e-9,
                               atol=1e-12 * max(1.0, s.min_value))
    sched = specs.schedule_from_spec(gd.schedule_spec("cosine", 60))
    tr = optlab.run(s, optlab.optimizers.make("sgd", lr=0.05), x0, 60, record="path", schedule=sched)
    np.testing.assert_allclose(gd.noise_free_gaps(s, x0, np.asarray(tr.lrs).ravel()), tr.losses - s.min_value,
                               rtol=1e-9, atol=1e-12 * max(1.0, s.min_value))
    # and it is the mean of SGD: 40 seeds of b = 1 average around it (within 4 standard errors)
    if spec is BMI:
        runs = [optlab.run(s, optlab.optimizers.make("sgd", lr=0.01), x0, 30, batch_size=1, seed=k, record="path")
                for k in range(40)]
        xs = np.array([r.xs[-1] for r in runs])
        star = s.minima[0]
        e = np.prod(1 - 0.01 * 2.0 * np.ones(30)) * (x0 - star) + star  # H = 2I on standardized x
        assert np.all(np.abs(xs.mean(axis=0) - e) < 4 * xs.std(axis=0) / np.sqrt(40) + 1e-9)
    assert np.isinf(gd.noise_free_gaps(s, x0, np.full(3000, 5.0))[-1])  # divergent steps: inf, no warning


def _variant_runs(lr, b, epochs, seed=0):
    s = specs.data_surface(BMI)
    n = s.n_samples
    (w0, w1), (b0, b1) = s.window
    x0 = (round(w0 + 0.15 * (w1 - w0), 3), round(b0 + 0.85 * (b1 - b0), 3))
    trs = [optlab.run(s, optlab.optimizers.make("sgd", lr=lr), x0, epochs, record="path"),
           optlab.run(s, optlab.optimizers.make("sgd", lr=lr), x0, gd.epochs_to_steps(epochs, b, n), batch_size=b,
                      seed=seed, record="path"),
           optlab.run(s, optlab.optimizers.make("sgd", lr=lr), x0, gd.epochs_to_steps(epochs, 1, n), batch_size=1,
                      seed=seed, record="path")]
    return s, x0, trs


@pytest.mark.parametrize("lr,b,epochs", [(0.1, 16, 3), (0.1, 16, 1), (0.3, 16, 5), (0.003, 16, 3), (0.5, 256, 2),
                                         (0.5, 2, 2), (0.01, 2, 1), (0.2, 64, 4)])
def test_variants_verdict_claims_hold_on_their_numbers(lr, b, epochs):
    s, x0, trs = _variant_runs(lr, b, epochs)
    v = gd.variants_verdict(s, trs, x0, lr)
    finals = [np.inf if t.diverged else t.losses[-1] - s.min_value for t in trs]
    if v.closest is None:
        assert all(t.diverged for t in trs)
    else:
        assert finals[v.closest] == min(finals)
        assert all(finals[i] <= gd.SAME_FACTOR * finals[v.closest] + gd.gap_floor(s) for i in v.ties)
        assert all(i in v.ties or finals[i] > gd.SAME_FACTOR * finals[v.closest] for i in range(3)
                   if np.isfinite(finals[i]))
    tails = [gd.tail_gap(t.losses, s.min_value) for t in trs]
    if v.jitter == "noise":  # "the smaller batch jitters more … both have reached their noise floor"
        assert tails[2] > gd.SAME_FACTOR * tails[1]
        assert all(tails[i] > gd.NOISE_DOMINATED * v.biases[i] for i in (1, 2))
    elif v.jitter == "descending":
        assert any(tails[i] <= gd.NOISE_DOMINATED * v.biases[i] for i in (1, 2))
    elif v.jitter == "diverged":
        assert trs[1].diverged or trs[2].diverged
    elif v.jitter == "similar":
        assert 1 / gd.SAME_FACTOR <= tails[2] / tails[1] <= gd.SAME_FACTOR
    elif v.jitter == "reverse":
        assert tails[2] < tails[1] / gd.SAME_FACTOR


def test_variants_verdict_covers_the_cases_the_captions_name():
    seen = set()
    for lr, b, e in [(0.1, 16, 3), (0.003, 16, 3), (0.5, 2, 2)]:
        s, x0, trs = _variant_runs(lr, b, e)
        seen.add(gd.variants_verdict(s, trs, x0, lr).jitter)
    assert {"noise", "descending", "diverged"} <= seen
    # batch GD never keeps jumping; at lr 0.3 over 5 epochs SGD and mini-batch do (the question's answer)
    s, x0, trs = _variant_runs(0.3, 16, 5)
    assert gd.jumping(s, trs, x0, 0.3) == (False, True, True)
    s, x0, trs = _variant_runs(0.003, 16, 1)  # noisy but still descending, far from the minimum: not "around" it
    assert gd.jumping(s, trs, x0, 0.003) == (False, False, False)


def test_lr_regimes_from_curvature():
    cv = gd.curvature(specs.data_surface(BMI))
    assert gd.lr_regime(cv, cv.presets["good"]) == "newton"
    assert gd.lr_regime(cv, cv.presets["too small"]) == "monotone"
    assert gd.lr_regime(cv, cv.presets["oscillating"]) == "overshoot"
    assert gd.lr_regime(cv, cv.presets["diverging"]) == "diverges"
    assert gd.lr_regime(cv, cv.critical) == "marginal"          # ρ = 1: neither shrinks nor grows
    assert gd.lr_regime(cv, 1e-6) == "monotone"
    toy = gd.curvature(specs.data_surface(ARTICLE))
    assert gd.lr_regime(toy, 1 / toy.lam_max) == "monotone"     # the steep direction zeroed, no overshoot


@pytest.mark.parametrize("typed,used,side", [(1e6, 10.0, "high"), (-0.5, 1e-6, "low"), (0.0, 1e-6, "low"),
                                             (0.3, 0.3, None), (float("nan"), 1e-6, "nan"), (float("inf"), 10.0, "high")])
def test_clamp_lr_into_the_app_range(typed, used, side):
    assert gd.clamp_lr(typed) == (used, side)
    assert (specs.LR_MIN, specs.LR_MAX) == (1e-6, 10.0)


def _schedule_pair(name, b, lr, epochs):
    s = specs.data_surface(BMI)
    n = s.n_samples
    (w0, w1), (b0, b1) = s.window
    x0 = (round(w0 + 0.15 * (w1 - w0), 3), round(b0 + 0.85 * (b1 - b0), 3))
    steps = gd.epochs_to_steps(epochs, b, n)
    sched = specs.schedule_from_spec(gd.schedule_spec(name, steps))
    trs = [optlab.run(s, optlab.optimizers.make("sgd", lr=lr), x0, steps, batch_size=b, seed=0, record="path"),
           optlab.run(s, optlab.optimizers.make("sgd", lr=lr), x0, steps, batch_size=b, seed=0, record="path",
                      schedule=sched)]
    return s, x0, trs


SCHEDULE_GRID = [("cosine", 1, 0.1, 3), ("step", 64, 0.1, 6), ("cosine", 64, 0.1, 3), ("cosine", 1, 0.01, 3),
                 ("exponential", 8, 0.3, 2), ("warmup_cosine", 2, 0.03, 1), ("step", 1, 0.3, 1), ("cosine", 32, 0.3, 6)]


@pytest.mark.parametrize("name,b,lr,epochs", SCHEDULE_GRID)
def test_schedule_verdict_claims_hold_on_their_numbers(name, b, lr, epochs):
    s, x0, trs = _schedule_pair(name, b, lr, epochs)
    v = gd.schedule_verdict(s, trs, x0)
    tc, ts = (gd.tail_gap(t.losses, s.min_value) for t in trs)
    bc, bs = v.biases
    if v.code == "closer_noise":  # "shrinking the rate at the end shrank the cloud"
        assert ts < tc / gd.SAME_FACTOR and tc > gd.NOISE_DOMINATED * bc
    elif v.code == "closer":
        assert ts < tc / gd.SAME_FACTOR and tc <= gd.NOISE_DOMINATED * bc
    elif v.code == "farther_descent":  # "even without noise it would end at … most of its gap is descent"
        assert ts > gd.SAME_FACTOR * tc and bs > 0.5 * ts
    elif v.code == "farther":
        assert ts > gd.SAME_FACTOR * tc and bs <= 0.5 * ts
    elif v.code == "similar":
        assert 1 / gd.SAME_FACTOR <= ts / tc <= gd.SAME_FACTOR
    else:
        assert v.code in ("diverged", "rounding")


def test_the_trial_case_is_a_schedule_that_decays_too_soon():
    # Step decay, batch 64, 6 epochs: 4.518 constant against 61.65 scheduled. The page used to say
    # "shrinking the rate at the end shrinks the cloud"; the verdict says why the schedule lost.
    s, x0, trs = _schedule_pair("step", 64, 0.1, 6)
    v = gd.schedule_verdict(s, trs, x0)
    assert v.code == "farther_descent"
    assert v.tails[0] == pytest.approx(4.518, rel=1e-3) and v.tails[1] == pytest.approx(61.65, rel=1e-3)
    s, x0, trs = _schedule_pair("cosine", 1, 0.1, 3)
    assert gd.schedule_verdict(s, trs, x0).code == "closer_noise"


def _momentum_pair(lr, beta, steps=300):
    s = specs.data_surface(ARTICLE)
    x0 = s.starts[0]
    return s, (optlab.run(s, optlab.optimizers.make("sgd", lr=lr), x0, steps, record="path"),
               optlab.run(s, optlab.optimizers.make("sgd", lr=lr, momentum=beta), x0, steps, record="path"))


@pytest.mark.parametrize("lr,beta,code", [(0.1, 0.9, "both"), (0.1, 0.0, "same"), (0.15, 0.9, "gd_diverges"),
                                          (0.2, 0.5, "both_diverge"), (0.1, 0.99, "gd_only"),
                                          (0.01, 0.9, "hb_only")])
def test_momentum_verdicts(lr, beta, code):
    s, (g, h) = _momentum_pair(lr, beta)
    v = gd.momentum_verdict(s, g, h, lr, beta)
    assert v.code == code
    for k, tr in zip(v.steps, (g, h)):
        if k >= 0:
            gaps = np.asarray(tr.losses) - s.min_value
            assert gaps[k] <= gaps[0] / gd.MOMENTUM_SHRINK and np.all(gaps[:k] > gaps[0] / gd.MOMENTUM_SHRINK)
    lam = np.linalg.eigvalsh(s.hessian(s.minima[0]))
    assert v.rates[0] == pytest.approx(max(abs(1 - lr * lam)), rel=1e-12)
    assert gd.momentum_faster(v) == (code in ("both", "gd_diverges", "hb_only") and
                                     (v.steps[1] >= 0 and (v.steps[0] < 0 or v.steps[1] < v.steps[0])))


def test_loss_shape_and_crawl():
    assert gd.loss_shape([1.0, 2.0, 4.0]) == 0
    assert gd.loss_shape([3.0, 2.0, 2.5]) == 1
    assert gd.loss_shape([3.0, 2.0, 1.0]) == 2
    assert gd.loss_shape([3.0, 2.0, 1.0], diverged=True) == 1
    assert gd.crawl_steps(0.997006) == 768 and gd.crawl_steps(1.2) == np.inf and gd.crawl_steps(0.0) == 0
    assert gd.matches_closed_form(4e-5) and not gd.matches_closed_form(6e-5) and not gd.matches_closed_form(np.nan)


def test_budget_plans_fit_and_keep_the_comparison_fair():
    from optlab import budget as B

    allow = gd.runs_budget()
    assert allow.evals == pytest.approx(B.RERUN * gd.RUNS_SHARE)
    e, cut = gd.fit_epochs(10, [None, 2, 1], 442)
    assert cut is not None and cut.requested == 10 and cut.allowed == e >= 1
    cost = sum(gd.run_cost(gd.epochs_to_steps(e, b or 442, 442), b) for b in (None, 2, 1))
    assert cost <= allow.evals
    more = sum(gd.run_cost(gd.epochs_to_steps(e + 1, b or 442, 442), b) for b in (None, 2, 1))
    assert more > allow.evals                                      # the most that fits
    assert gd.fit_epochs(3, [None, 16, 1], 442) == (3, None)       # the default is not cut
    steps, cut = gd.fit_steps([(3000, None), (5000, 1)])
    assert cut is not None and sum(gd.run_cost(s, b) for s, b in zip(steps, (None, 1))) <= allow.evals
    assert abs(steps[0] / 3000 - steps[1] / 5000) < 0.01           # each keeps its share
    assert gd.fit_steps([(1000, None), (2000, 1)]) == ([1000, 2000], None)


def test_rounding_floor_and_closeness():
    s = specs.data_surface(BMI)
    assert gd.gap_floor(s) == pytest.approx(1e-12 * s.min_value)
    toy = specs.data_surface(ARTICLE)
    assert 1e-30 < gd.gap_floor(toy) < 1e-27 and toy.min_value < gd.gap_floor(toy)
    assert gd.is_close(0.5 + 1e-15, 0.5) and not gd.is_close(0.51, 0.5) and not gd.is_close(np.nan, 0.5)


def test_numbers_in_text_have_a_minus_sign_and_no_round_off_noise():
    from optlab.figures import gradient_descent as fig

    assert fig.fmt_line(1.0, -9.158872928e-16) == "ŷ = 1·x − 9.2e-16"  # the trial's "1·x + -9.16e-16"
    assert fig.fmt_line(0.9999994844, 1.5e-6) == "ŷ = 0.999999·x + 1.5e-06"  # optlab.format's exponents
    assert fig.fmt_num(1e6) == "1e+06" and fig.fmt_num(-0.5) == "−0.5" and fig.fmt_num(1e-5) == "1e-05"
    assert fig.fmt_num(13380.2) == "13,380"
    assert fig.fmt_num(float("nan")) == fig.fmt_num(float("inf")) == fig.fmt_num(None) == "—"
    assert fig.fmt_factor(0.999998) == "0.999998" and fig.fmt_factor(0.9701, 4) == "0.9701"
    assert fig.fmt_gap(2.6e-229, 1e-9) == "≈ 0" and fig.fmt_gap(16.29, 1e-9) == "16.29"


def test_progress_and_schedule_figures_have_no_colliding_titles():
    from optlab.figures import gradient_descent as fig

    s, x0, trs = _variant_runs(0.1, 16, 2)
    f = fig.variants_curves([("batch", trs[0], 442, "batch"), ("mini", trs[1], 16, "minibatch"),
                             ("sgd", trs[2], 1, "sgd")], 442, s.min_value)
    lay = f.to_plotly_json()["layout"]
    assert not lay.get("annotations")                  # no subplot titles to print over each other
    assert lay["legend"]["orientation"] == "h" and lay["legend"]["y"] > 1  # above the plot: never on an axis title
    assert "xaxis2" not in lay                          # one panel: epochs are the cost
    s2, x02, pair = _schedule_pair("cosine", 4, 0.1, 1)
    f2 = fig.schedule_curves([("c", pair[0], "constant"), ("s", pair[1], "scheduled")], s2.min_value)
    lay2 = f2.to_plotly_json()["layout"]
    assert not lay2.get("annotations") and lay2["legend"]["y"] > 1
    assert lay2["xaxis"]["matches"] == "x2" or lay2["xaxis"].get("anchor") == "y"  # one shared step axis
    assert lay2["yaxis"]["domain"][0] > lay2["yaxis2"]["domain"][1]  # loss above, lr below: stacked
    # every run of the page is SGD: its variants in the registry, told apart within each comparison
    from optlab.figures import style

    assert fig.shade("batch") == style.optimizer_color("sgd")
    assert set(fig.VARIANTS) >= {"batch", "minibatch", "sgd", "constant", "scheduled", "gd", "momentum"}
    for group in (("batch", "minibatch", "sgd"), ("constant", "scheduled"), ("gd", "momentum")):
        assert len({fig.shade(k) for k in group}) == len(group)
        assert all(fig.meta(k) == style.optimizer_meta("sgd", fig.VARIANTS[k]) for k in group)
    for t in f2.data:
        assert t.meta["optimizer"] == "sgd" and t.line.color == style.optimizer_color("sgd", t.meta["variant"])
