"""The overfitting chapter's experiments (optlab.chapters.overfitting): each one checked against a
closed form, an optimality condition or an independent computation, plus the figure builders of
its page (optlab.figures.overfitting)."""
from __future__ import annotations

import dataclasses

import numpy as np
import plotly.graph_objects as go
import pytest

from optlab.chapters import overfitting as ex
from optlab import mlp, polynomial
from optlab.errors import OptlabError
from optlab.figures import figure_size_bytes
from optlab.figures import overfitting as chfig


# ---------------------------------------------------------------------------- overfitting
def test_degree_fit_is_the_least_squares_polynomial_and_the_u_curve_is_consistent():
    fit = ex.degree_fit(30, 0.25, 5, seed=3)
    # the same polynomial as NumPy's own least-squares fit in the power basis
    ref = np.polynomial.Polynomial.fit(fit.train.x, fit.train.y, 5)
    np.testing.assert_allclose(fit.y_fit, ref(fit.x_grid), atol=1e-8)
    i = ex.DEGREES.index(5)
    assert fit.train_mse == pytest.approx(np.mean((ref(fit.train.x) - fit.train.y) ** 2), rel=1e-9)
    assert fit.val_mse == pytest.approx(np.mean((ref(fit.val.x) - fit.val.y) ** 2), rel=1e-9)
    assert fit.curve.train[i] == fit.train_mse and fit.curve.val[i] == fit.val_mse
    # nested models: the training error never rises with the degree
    assert np.all(np.diff(fit.curve.train) <= 1e-12)
    assert fit.best_degree == int(np.argmin(fit.curve.val))
    assert fit.noise_var == pytest.approx(0.0625)
    np.testing.assert_allclose(fit.y_truth, np.sin(np.pi * fit.x_grid))


def test_validation_data_are_an_independent_draw():
    tr, va = ex.poly_split(20, 0.3, seed=1)
    tr2, va2 = ex.poly_split(20, 0.3, seed=1)
    np.testing.assert_array_equal(tr.x, tr2.x)
    np.testing.assert_array_equal(va.y, va2.y)
    assert len(va.x) == ex.N_VAL and not np.isin(tr.x, va.x).any()


def test_interpolating_fit_has_zero_training_error():
    fit = ex.degree_fit(10, 0.3, 12, seed=0)
    assert fit.interpolates
    assert fit.train_mse < 1e-20
    assert fit.val_over_train is None          # a ratio over round-off is not a number
    v = ex.fit_verdict(fit)
    assert v.train_side == "zero" and v.ratio is None


def test_learning_curve_tames_a_flexible_model():
    lc = ex.learning_curve(9, 0.25, reps=15)
    assert lc.sizes[0] < 10 < 200 == lc.sizes[-1]
    # far more points than coefficients: validation error close to the noise floor, training error
    # below it (the fit uses 10 of its degrees of freedom on the noise: E = σ²(1 − p/n))
    assert lc.val[-1] == pytest.approx(lc.noise_var, rel=0.2)
    assert lc.train[-1] == pytest.approx(lc.noise_var * (1 - 10 / 200), rel=0.2)
    # with about as many points as coefficients it is far worse
    assert lc.val[0] > 10 * lc.val[-1]
    assert lc.val_at(int(lc.sizes[3])) == pytest.approx(lc.val[3])


# ---------------------------------------------------------------------------- regularization
def test_ridge_at_zero_is_least_squares_and_its_norm_shrinks_with_lambda():
    rs = ex.regularization_study(25, 0.25, 10, 1e-3, 1e-2, seed=2)
    r = rs.ridge
    np.testing.assert_allclose(r.path[0], polynomial.fit_ridge(rs.train.x, rs.train.y, 10, r.lams[0]))
    ls = polynomial.fit_ridge(rs.train.x, rs.train.y, 10, 0.0)
    np.testing.assert_allclose(rs.ls_coef, ls)
    # ‖w'(λ)‖ is non-increasing in λ (a theorem for ridge), and no coefficient is ever exactly zero
    norms = np.linalg.norm(r.path[:, 1:], axis=1)
    assert np.all(np.diff(norms) <= 1e-12)
    assert np.all(r.path_nonzero == 10) and r.nonzero == 10
    assert 0 < r.shrinkage < 1


def test_lasso_solution_satisfies_the_kkt_conditions():
    rs = ex.regularization_study(25, 0.25, 10, 1e-3, 0.03, seed=2)
    l = rs.lasso
    phi = polynomial.features(rs.train.x, 10)
    g = phi.T @ (phi @ l.coef - rs.train.y) / len(rs.train.x)   # gradient of 1/(2n)‖Φw − y‖²
    assert abs(g[0]) < 1e-7                                       # the intercept is not penalised
    nz = np.abs(l.coef[1:]) > ex.ZERO_TOL
    np.testing.assert_allclose(g[1:][nz], -l.lam * np.sign(l.coef[1:][nz]), atol=1e-7)
    assert np.all(np.abs(g[1:][~nz]) <= l.lam + 1e-7)
    assert 0 < l.nonzero < 10                                     # some, not all, exactly zero


def test_lasso_lambda_max_zeroes_everything():
    rs = ex.regularization_study(25, 0.25, 10, 1e-3, 1e-2, seed=2)
    l = rs.lasso
    above = l.lams >= rs.lasso_lambda_max * 1.0001
    assert above.any() and np.all(l.path_nonzero[above] == 0)
    below = l.lams <= rs.lasso_lambda_max * 0.9
    assert np.all(l.path_nonzero[below] > 0)
    # counts fall (weakly) along the path: the lasso drops coefficients as λ grows
    assert l.path_nonzero[0] == 10
    assert l.best_lam in l.lams and l.best_val_mse == l.path_val.min()


def test_lambda_options_are_log_spaced_and_contain_the_presets():
    opts = np.array(ex.LAMBDA_OPTIONS)
    assert opts[0] == 1e-6 and opts[-1] == 10
    np.testing.assert_allclose(np.diff(np.log10(opts)), 0.25, atol=0.01)
    for v in (0.001, 0.01, 0.1, 1.0):
        assert v in ex.LAMBDA_OPTIONS


# ---------------------------------------------------------------------------- early stopping
def test_early_stopping_study_restores_the_best_checked_weights():
    s = ex.EarlyStopSettings(epochs=1000)
    run = ex.train_early_stopping(s)
    study = ex.early_stopping_study(run, 5)
    assert study.stopped
    assert study.stop_epoch - study.best_epoch == 5 * s.check_every
    i = list(study.epochs).index(study.best_epoch)
    assert study.restored_val == pytest.approx(run.val_loss[i], rel=1e-12)
    assert study.restored_val <= study.final_val
    # the drawn "restored" curve is what a patience run returns: train with patience and compare
    tr, va = ex.poly_split(s.n, s.noise, s.seed, s.func)
    es_run = mlp.train(s.config(), tr.x[:, None], tr.y, "adam", {"lr": s.lr}, steps=s.epochs, batch_size=None,
                       seed=s.seed, X_val=va.x[:, None], y_val=va.y, record_every=s.check_every, patience=5)
    assert es_run.stopped_at == study.stop_epoch and es_run.best_step == study.best_epoch
    cfg = s.config()
    np.testing.assert_allclose(study.y_restored, mlp.predict(cfg, es_run.params, study.x_grid[:, None])[:, 0],
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(study.y_final, mlp.predict(cfg, run_params(s), study.x_grid[:, None])[:, 0])
    assert study.epochs_saved == s.epochs - study.stop_epoch - 1
    # the verdict rests on the paired comparison of the final and restored weights
    assert study.code in ("helped", "no_gain", "too_early")
    assert (study.code == "helped") == study.final_vs_restored.clear


def run_params(s):
    tr, va = ex.poly_split(s.n, s.noise, s.seed, s.func)
    return mlp.train(s.config(), tr.x[:, None], tr.y, "adam", {"lr": s.lr}, steps=s.epochs, batch_size=None,
                     seed=s.seed, X_val=va.x[:, None], y_val=va.y, record_every=s.check_every).params


def test_patience_that_never_runs_out_keeps_the_final_weights():
    s = ex.EarlyStopSettings(epochs=200, check_every=20)
    study = ex.early_stopping_study(ex.train_early_stopping(s), 50)
    assert not study.stopped and study.code == "never" and study.epochs_saved == 0
    np.testing.assert_allclose(study.y_restored, study.y_final)
    assert study.restored_val == study.final_val


# ---------------------------------------------------------------------------- learning rate by CV
def test_lr_search_respects_the_gradient_descent_stability_limit():
    search = ex.lr_search(n=60, degree=6, k=4, steps=200, lr_min=1e-3, lr_max=3.0)
    r = search.result
    div = r.diverged.any(1)
    # GD on the fold's quadratic loss is stable below 1/λmax(ΦᵀΦ/m) and, past 1.5× of it, grows
    # at least 2× per step: 2^200 beats the engine's blow-up factor of 1e8
    assert not div[r.lrs < 0.95 * search.gd_limit].any()
    assert div[r.lrs > 1.5 * search.gd_limit].all()
    assert search.smallest_diverged_lr == r.lrs[div].min()
    assert 0 <= search.chosen < len(r.lrs) and not div[search.chosen]
    assert search.n_diverged == int(div.sum())
    first = int(np.flatnonzero(div)[0])
    assert 0 < search.divergence_step(first) <= 200
    assert np.isnan(r.train_curves[search.divergence_step(first), first]).any()
    assert np.isfinite(r.train_curves[: search.divergence_step(first), first]).all()
    assert search.divergence_step(search.chosen) == -1


def test_lr_search_curves_start_at_the_zero_model_and_rows_mark_the_choice():
    search = ex.lr_search(n=40, degree=5, k=5, steps=30)
    tr, _ = ex.poly_split(40, 0.3)
    y = tr.y
    # at step 0 every run has w = 0: validation MSE = mean of y² over each fold, averaged
    expect = np.mean([np.mean(y[va] ** 2) for _, va in search.result.folds])
    np.testing.assert_allclose(search.val_mean_curve[0], expect)
    rows = search.rows()
    assert [r["chosen"] for r in rows].count(True) == 1
    assert rows[search.chosen]["chosen"] is True
    with pytest.raises(OptlabError, match="lr_min"):
        ex.lr_grid(1.0, 0.1)


# ---------------------------------------------------------------------------- gradient lab
def _first_step(settings):
    return ex.train_lab(dataclasses.replace(settings, steps=1))


def test_presets_show_vanishing_exploding_and_healthy_gradients():
    van = _first_step(ex.lab_preset("vanishing").settings)
    assert van.first_to_last < 1e-2
    healthy = _first_step(ex.lab_preset("healthy").settings)
    assert 1e-2 < healthy.first_to_last < 1e2
    exploding = ex.train_lab(dataclasses.replace(ex.lab_preset("exploding").settings, steps=20))
    assert exploding.diverged and exploding.diverged_at < 20
    assert exploding.loss[0] > 1e3
    with pytest.raises(OptlabError, match="vanishing"):
        ex.lab_preset("nope")


def test_lab_result_histograms_and_shapes():
    s = ex.LabSettings(depth=4, width=8, activation="tanh", init="xavier", steps=30)
    r = ex.train_lab(s)
    assert r.grad_norms.shape == (30, 5) and r.steps_done == 30
    assert r.hist_init.shape == r.hist_end.shape == (4, ex.HIST_BINS)
    np.testing.assert_allclose(r.hist_init.sum(1), 1.0)
    np.testing.assert_allclose(r.bin_edges[[0, -1]], [-1.0, 1.0])
    assert r.act_std.shape[1] == 4 and len(r.record_steps) == len(r.val_accuracy) == len(r.train_loss)
    assert r.label == s.describe() and "tanh" in r.label


def test_layer_histograms_count_outliers_in_the_end_bins():
    edges = np.linspace(0.0, 1.0, 5)
    samples = np.array([[0.1, 0.1, 0.6, 5.0], [np.nan, -3.0, 0.3, 0.9]])
    h = ex.layer_histograms(samples, edges)
    np.testing.assert_allclose(h[0], [0.5, 0.0, 0.25, 0.25])
    np.testing.assert_allclose(h[1], [1 / 3, 1 / 3, 0.0, 1 / 3])


def test_fixes_change_one_thing_each_and_skip_what_is_on():
    base = ex.lab_preset("vanishing").settings
    runs = ex.fix_runs(base)
    assert [label for label, _ in runs][0] == "baseline" and len(runs) == 1 + len(ex.FIXES)
    for (_, s), (key, _, changes) in zip(runs[1:], ex.FIXES):
        diff = {f.name for f in dataclasses.fields(s) if getattr(s, f.name) != getattr(base, f.name)}
        assert diff == set(changes) - {k for k, v in changes.items() if getattr(base, k) == v}
    on = dataclasses.replace(base, batch_norm=True, clip_norm=1.0)
    assert ex.apply_fix(on, "batch_norm") is None and ex.apply_fix(on, "clip") is None
    assert len(ex.fix_runs(on)) == len(ex.FIXES) - 1
    with pytest.raises(OptlabError, match="batch_norm"):
        ex.apply_fix(base, "dropout")


def test_compare_fixes_reports_progress_over_all_runs():
    s = ex.LabSettings(depth=3, width=8, steps=50)
    calls = []
    planned, cut = ex.plan_comparison(s)
    assert cut is None
    runs = ex.compare_fixes(planned, lambda done, total: calls.append((done, total)))
    assert len(runs) == 1 + len(ex.FIXES)
    total = calls[-1][1]
    assert total == 50 * len(runs) and calls[-1][0] == total
    assert all(b >= a for (a, _), (b, _) in zip(calls, calls[1:]))
    assert runs[0].settings == s and runs[1].settings.batch_norm


def test_budgets_shorten_big_runs_only():
    from optlab.budget import Budget

    d = ex.LabSettings()
    assert ex.plan_lab(d) == (d, None)
    big = ex.LabSettings(depth=30, width=32, steps=600, batch_norm=True)
    small, cut = ex.plan_lab(big)
    assert cut is not None and cut.requested == 600 and cut.allowed == small.steps
    assert small.steps < big.steps and small.steps % ex.STEP_QUANTUM == 0
    assert ex.lab_cost(small) <= Budget().evals < ex.lab_cost(big)
    planned, cut = ex.plan_comparison(big)
    assert cut is not None and len({s.steps for _k, s in planned}) == 1
    assert sum(ex.lab_cost(s) for _k, s in planned) <= Budget().evals
    assert cut.sentence()                                                  # says what it cut


# ---------------------------------------------------------------------------- clipping on the cliff
def test_cliff_demo_unclipped_step_is_lr_times_the_wall_gradient():
    demo = ex.cliff_demo(lr=0.1, clip_norm=1.0, steps=100)
    from optlab import surfaces

    s = surfaces.get("cliff")
    g0 = np.linalg.norm(s.grad(np.array(s.starts[0])))
    assert g0 > 200
    p, c = demo.plain, demo.clipped
    assert p.longest_at == 0 and p.longest_step == pytest.approx(0.1 * g0, rel=1e-12)
    assert p.grad_at_longest == pytest.approx(g0, rel=1e-12)
    assert p.thrown and p.left_window_at == 1 and p.final_distance > 5
    # clipped: no step longer than lr·c (torch's ε makes it a hair shorter), minimum reached
    assert c.longest_step <= 0.1 * 1.0 + 1e-12
    assert not c.thrown and 0 <= c.reached_at <= 100 and c.final_distance < demo.reach_tol


def test_cliff_small_lr_is_not_thrown_but_slow():
    demo = ex.cliff_demo(lr=0.005, clip_norm=1.0, steps=100)
    assert not demo.plain.thrown and demo.plain.reached_at == -1 and demo.clipped.reached_at == -1
    with pytest.raises(OptlabError, match="start"):
        ex.cliff_demo(start=7)


# ---------------------------------------------------------------------------- figures
def _valid(fig):
    go.Figure(fig.to_plotly_json())          # re-validated against Plotly's schema
    assert figure_size_bytes(fig) < 1_000_000
    return fig


def test_figure_builders_make_valid_small_figures():
    fit = ex.degree_fit(20, 0.25, 12)
    _valid(chfig.fit_figure(fit.x_grid, fit.y_truth, fit.train, [("fit", fit.y_fit, "#000000", "solid")],
                            val=fit.val, title="t"))
    _valid(chfig.error_curve(ex.DEGREES, fit.curve.train, fit.curve.val, selected=12, best=fit.best_degree,
                             noise_var=fit.noise_var, title="t"))
    rs = ex.regularization_study(20, 0.25, 12, 1e-3, 1e-2)
    fig = _valid(chfig.coef_paths(rs.lasso.lams, rs.lasso.path, rs.lasso.lam))
    assert len(fig.data) == 12 + 1
    bars = _valid(chfig.coef_bars({"ridge": rs.ridge.coef, "lasso": rs.lasso.coef}))
    assert list(bars.data[1].text).count("0") == 12 - rs.lasso.nonzero
    es = ex.early_stopping_study(ex.train_early_stopping(ex.EarlyStopSettings(epochs=500)), 3)
    _valid(chfig.early_stopping_figure(es.epochs, es.train_loss, es.val_loss, best_epoch=es.best_epoch,
                                       stop_epoch=es.stop_epoch, stopped=es.stopped, noise_var=es.noise_var))
    search = ex.lr_search(steps=50)
    r = search.result
    _valid(chfig.cv_scores_figure(r.lrs, r.scores, r.mean, r.std, r.diverged, r.best_index, gd_limit=search.gd_limit))
    _valid(chfig.cv_curves_figure(search.val_mean_curve, r.lrs, r.best_index))
    lab = ex.train_lab(ex.LabSettings(depth=5, width=8, steps=40))
    heat = _valid(chfig.grad_heatmap(lab.grad_norms))
    np.testing.assert_allclose(np.asarray(heat.data[0].z, float), np.round(np.log10(lab.grad_norms.T), 3), atol=1e-3)
    _valid(chfig.grad_profile({"0": lab.grad_first_step, "end": lab.grad_last_step}))
    _valid(chfig.activation_histograms(lab.bin_edges, lab.hist_init, lab.hist_end, activation="sigmoid"))
    _valid(chfig.activation_stats(lab.act_std[0], lab.act_std[-1], lab.act_flat[0], lab.act_flat[-1],
                                  flat_label=lab.flat_label))
    _valid(chfig.training_curves([("a", lab, "#000000")], minibatch=True, title="t"))
    demo = ex.cliff_demo()
    _valid(chfig.step_lengths_figure([("p", demo.plain.step_lengths, "#000000", "solid")]))


def test_log_ticks_are_readable():
    assert chfig.log_ticks(1e-6, 10) == {"dtick": 2}
    assert chfig.log_ticks(1e-3, 3.0) == {"dtick": 1}
    t = chfig.log_ticks(8, 200)
    assert t["tickvals"] == [10, 20, 50, 100, 200] and t["ticktext"][-1] == "200"
    assert chfig.log_ticks(0.0, 1.0) == {}


def test_the_noise_label_goes_to_the_end_where_the_curves_keep_away_from_its_line():
    # error against n: both curves meet the noise line at the right end, under a right-end label
    n = np.array([10, 20, 40, 80, 160, 320, 640], dtype=float)
    val, train = 0.0625 * (1 + 40 / n), 0.0625 * (1 - 5 / n)
    fig = chfig.error_curve(n, train, val, noise_var=0.0625, xlabel="n", log_x=True)
    note = [a for a in fig.layout.annotations if a.text.startswith("noise")][0]
    assert (note.x, note.xanchor) == (0.0, "left")
    # a U curve whose left end sits on the line: the label stays right
    deg = np.arange(1, 8, dtype=float)
    fig = chfig.error_curve(deg, 0.0625 * (1 + 0.01 * deg), 0.0625 * (1 + 0.3 * deg), noise_var=0.0625, xlabel="degree")
    note = [a for a in fig.layout.annotations if a.text.startswith("noise")][0]
    assert (note.x, note.xanchor) == (1.0, "right")
