"""The adaptive-methods chapter's maths (optlab.chapters.adaptive) and figures (optlab.figures.adaptive),
without Streamlit: the phase sweep against the heavy-ball theory, where Adam with L2 stops, the
per-step trace table against two Adam steps written out by hand."""
from __future__ import annotations

import numpy as np
import pytest

import optlab
from optlab import optimizers as O
from optlab import theory
from optlab.chapters import adaptive as model
from optlab.figures import adaptive as fig
from optlab.figures.core import figure_size_bytes
from optlab.optimizers import variants as V


# ----------------------------------------------------------------------------------------------
# The phase diagram
# ----------------------------------------------------------------------------------------------
def test_phase_range_holds_the_stability_limits_and_the_users_lr():
    lo, hi = model.phase_range(25.0, 0.01)
    assert hi >= float(theory.stability_limit(0.99, 25.0)) and lo == pytest.approx(hi / 10 ** 2.5, rel=1e-2)
    lo2, hi2 = model.phase_range(25.0, 1.0)          # a learning rate beyond the span widens it
    assert hi2 == pytest.approx(1.5) and lo2 == lo
    assert (lo, hi) == (float(f"{lo:.3g}"), float(f"{hi:.3g}"))


def test_phase_sweep_diverges_where_the_theory_says():
    q = optlab.surfaces.get("quadratic", condition=10)
    res = model.phase_sweep(q, 300, False, 0.01, 0.5, q.starts[0], n_lr=12, n_beta=9)
    assert res.shape == (12, 9) and res.grid["momentum"][0, -1] == pytest.approx(0.98)
    rate = theory.heavy_ball_rate(res.grid["lr"], res.grid["momentum"], [1.0, 10.0])
    clear = np.abs(rate - 1) > 0.02                   # away from the edge, where 300 steps decide
    np.testing.assert_array_equal(res.diverged[clear], (rate > 1)[clear])
    nes = model.phase_sweep(q, 50, True, 0.01, 0.5, q.starts[0], n_lr=4, n_beta=3)
    assert nes.grid["momentum"][0, 0] == pytest.approx(0.02)     # Nesterov needs momentum > 0


# ----------------------------------------------------------------------------------------------
# Where Adam with L2 stops
# ----------------------------------------------------------------------------------------------
def test_l2_minimum_is_where_adam_with_l2_stops():
    s = optlab.surfaces.get("booth")
    lam = 0.3
    p = model.l2_minimum(s, lam, s.minima[0])
    np.testing.assert_allclose(s.grad(p[None])[0] + lam * p, 0.0, atol=1e-10)
    tr = optlab.run(s, O.make("adam", lr=0.02, weight_decay=lam), s.starts[0], 3000)
    assert np.linalg.norm(tr.final_x - p) < 1e-3
    w = optlab.run(s, O.make("adamw", lr=0.02, weight_decay=lam), s.starts[0], 3000)
    assert np.linalg.norm(w.final_x - p) > 0.05  # decoupled decay is not an L2 penalty for Adam
    with pytest.raises(ValueError):
        model.l2_minimum(s, -1.0, p)


# ----------------------------------------------------------------------------------------------
# Figures
# ----------------------------------------------------------------------------------------------
def adam_two_steps_by_hand(lr=0.1, b1=0.9, b2=0.999, eps=1e-8):
    """Adam on ½(x² + 10y²) from (−2.5, 1.5), written out: the rows of step 2."""
    grad = lambda p: np.array([p[0], 10.0 * p[1]])  # noqa: E731
    th0 = np.array([-2.5, 1.5])
    g1 = grad(th0)
    m1, v1 = (1 - b1) * g1, (1 - b2) * g1 ** 2
    th1 = th0 - lr * (m1 / (1 - b1)) / (np.sqrt(v1 / (1 - b2)) + eps)
    g2 = grad(th1)
    m2 = b1 * m1 + (1 - b1) * g2
    v2 = b2 * v1 + (1 - b2) * g2 ** 2
    mh, vh = m2 / (1 - b1 ** 2), v2 / (1 - b2 ** 2)
    den = np.sqrt(vh) + eps
    step = -lr * mh / den
    return {"θ₁": th1, "g₂": g2, "m₂": m2, "v₂": v2, "m̂₂": mh, "v̂₂": vh, "√v̂ₜ + ε": den, "Δθ₂": step,
            "θ₂": th1 + step}


def test_trace_table_direct_and_formulas():
    q = optlab.surfaces.get("quadratic", condition=10)
    tr = optlab.run(q, O.make("adam", lr=0.1), [-2.5, 1.5], 5)
    rows = fig.trace_table(tr, 2)
    got = {r["quantity"]: (r["x"], r["y"]) for r in rows}
    for k, v in adam_two_steps_by_hand().items():
        np.testing.assert_allclose(got[k], v, rtol=1e-12, atol=1e-15, err_msg=k)
    formulas = {r["quantity"]: r["formula"] for r in rows}
    assert formulas["m̂₂"] == f"mₜ/(1 − β₁ᵗ) = mₜ/{1 - 0.9 ** 2:.6g}"
    with pytest.raises(ValueError):
        fig.trace_table(tr, 6)


@pytest.mark.parametrize("name,hyper", [
    ("sgd", {"lr": 0.05}), ("sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("adagrad", {"lr": 0.5}), ("rmsprop", {"lr": 0.05, "momentum": 0.5, "centered": True}),
    ("adadelta", {}), ("adam", {"lr": 0.1, "amsgrad": True, "weight_decay": 0.1}), ("adamw", {"lr": 0.1}),
    ("nadam", {"lr": 0.1}), ("radam", {"lr": 0.1}), ("adam_no_bias_correction", {"lr": 0.1}),
])
def test_trace_table_rows_are_the_engine_record(name, hyper):
    q = optlab.surfaces.get("rosenbrock")
    opt = V.variant(name, **hyper) if name in V.variant_names() else O.make(name, **hyper)
    tr = optlab.run(q, opt, q.starts[0], 8)
    for t in (1, 2, 8):
        rows = fig.trace_table(tr, t)
        by = {r["quantity"]: r for r in rows}
        step = [r for r in rows if r["quantity"].startswith("Δθ")][0]
        np.testing.assert_allclose([step["x"], step["y"]], tr.updates[t - 1], rtol=1e-15)
        last = rows[-1]
        np.testing.assert_allclose([last["x"], last["y"]], tr.xs[t], rtol=1e-15)
        np.testing.assert_allclose([by[f"g{fig._sub(t)}"]["x"], by[f"g{fig._sub(t)}"]["y"]], tr.grads[t - 1])
        assert all(r["formula"] for r in rows)




def test_figures_are_small_and_well_formed():
    q = optlab.surfaces.get("rosenbrock")
    trs = [optlab.run(q, O.make(n, lr=0.05), q.starts[0], 300) for n in ("adam", "rmsprop", "adagrad")]
    for tr in trs:
        tr.label = tr.optimizer
    figs = [fig.state_glyphs(q, trs, 150), fig.accumulators(trs[2], trs[1], 150),
            fig.amsgrad_figure(trs[0], trs[0]), fig.radam_figure(optlab.run(q, O.make("radam"), q.starts[0], 50),
                                                                    optlab.run(q, O.make("adam"), q.starts[0], 50))]
    import plotly.io as pio

    for f in figs:
        assert figure_size_bytes(f) < 1_000_000
        pio.from_json(pio.to_json(f, validate=False))  # Plotly's schema accepts what we built


def test_phase_diagram_cells_are_steps_not_reached_or_diverged():
    q = optlab.surfaces.get("quadratic", condition=25)
    res = optlab.sweep(q, "sgd", {"lr": np.geomspace(1e-3, 0.2, 12), "momentum": np.linspace(0, 0.95, 9)},
                       [-2.5, 1.5], 60, target=1e-3)
    diagram = fig.phase_diagram(res, 1.0, 25.0, current=(0.01, 0.5))
    layers = {t.name: np.isfinite(np.asarray(t.z, dtype=float)) for t in diagram.data if t.type == "heatmap"}
    st, dv = res.steps_to_tol.T, res.diverged.T
    assert np.array_equal(layers["steps"], (st >= 0) & ~dv)
    assert np.array_equal(layers["not reached"], (st < 0) & ~dv)
    assert np.array_equal(layers["diverged"], dv)
    assert (layers["steps"].astype(int) + layers["not reached"] + layers["diverged"] == 1).all()
    assert dv.any() and (st >= 0).any() and ((st < 0) & ~dv).any()


# ----------------------------------------------------------------------------------------------
# Verdicts: every claim of the page over a grid of its widgets (extremes included)
# ----------------------------------------------------------------------------------------------
import math  # noqa: E402

from optlab import theory as _theory  # noqa: E402
from optlab.budget import Budget  # noqa: E402
from optlab.chapters import adaptive as _ch  # noqa: E402

_LRS = [1e-6, 1e-4, 0.003, 0.01, 0.03, 0.05, 0.1, 0.3, 1.0, 2.0, 5.0, 7.0, 10.0]
_BETAS = [0.0, 0.01, 0.3, 0.5, 0.8, 0.9, 0.95, 0.99]
_KAPPAS = [1, 2, 5, 10, 25, 50, 100, 250, 1000]


@pytest.mark.parametrize("kappa", _KAPPAS)
def test_damping_verdict_matches_the_heavy_ball_rate(kappa):
    lam = [1.0, float(kappa)]
    for lr in _LRS:
        for beta in _BETAS:
            v = _ch.damping(lr, beta, kappa)
            rho = float(_theory.heavy_ball_rate(lr, beta, lam))
            b_star = float(_theory.critical_momentum(lr, lam))
            if beta == 0:
                assert v in ("gd", "gd_unstable")
                assert (v == "gd_unstable") == (rho >= 1 - 1e-12), (lr, kappa, rho)
                continue
            if v == "unstable":
                assert rho >= 1 - 1e-9, (lr, beta, kappa, rho)
                continue
            assert rho < 1, (lr, beta, kappa, rho)
            if v == "no_beta":
                assert b_star >= 1   # β* is then not a momentum: the page does not print it
            elif v == "under":
                assert beta > b_star and rho == pytest.approx(math.sqrt(beta), rel=1e-6)
            elif v == "over":
                assert beta < b_star and rho >= math.sqrt(beta) - 1e-12
            else:
                assert v == "critical" and abs(beta - b_star) <= 5e-3


def test_damping_of_the_issue_case_never_claims_a_beta_star():
    # κ = 1000, γ = 7: "β* = 6833.668 … yours is no momentum converges" was printed (issue 13)
    for beta in _BETAS:
        assert _ch.damping(7.0, beta, 1000) in ("unstable", "gd_unstable")
    assert _ch.damping(float("nan"), 0.5, 10) == "unstable"


def test_rate_race_lower_ratio_verdicts_cover_every_case():
    assert [_ch.rate_verdict(r) for r in (0.5, 1.0, 1.5, float("nan"))] == ["shrinks", "stalls", "grows", "nan"]
    assert _ch.race(10, 20) == "a" and _ch.race(20, 10) == "b" and _ch.race(10, 10) == "tie"
    assert _ch.race(-1, math.inf) == "neither" and _ch.race(5, -1) == "a"
    assert _ch.race(5, 3, diverged_b=True) == "a" and _ch.race(1, 1, diverged_a=True, diverged_b=True) == "both_diverged"
    assert _ch.lower(1.0, 2.0) == "a" and _ch.lower(2.0, 1.0) == "b" and _ch.lower(1.0, 1.0000001) == "tie"
    assert _ch.lower(1e-20, 3e-15) == "tie", "both at the round-off floor: no winner"
    assert _ch.lower(float("nan"), 1.0) == "a_nan" and _ch.lower(1.0, float("inf")) == "b_nan"
    assert _ch.lower(float("nan"), float("nan")) == "both_nan"
    assert _ch.ratio_verdict(3.0, 1.0) == "larger" and _ch.ratio_verdict(1.0, 3.0) == "smaller"
    assert _ch.ratio_verdict(1.0, 1.0) == "same"
    assert [_ch.ratio_verdict(*p) for p in ((0.0, 1.0), (1.0, 0.0), (float("nan"), 1.0))] == ["undefined"] * 3
    assert _ch.nearer(0.1, 0.2) == "a" and _ch.nearer(0.2, 0.1) == "b" and _ch.nearer(1e-4, 1e-5) == "both"
    assert _ch.nearer(float("nan"), 0.1) == "undefined" and _ch.nearer(0.5, 0.5) == "tie"


def test_still_moving_reads_the_last_tenth_of_the_steps():
    win = ((-2.0, 2.0), (-1.0, 3.0))
    assert _ch.still_moving([0.1] * 100, win) == "moving"
    assert _ch.still_moving([0.1] * 90 + [1e-6] * 10, win) == "stalled"
    assert _ch.still_moving([0.1, float("nan")], win) == "diverged"
    assert _ch.still_moving([0.1] * 10, win, diverged=True) == "diverged"
    assert [_ch.who_moves(a, r) for a, r in (("moving", "stalled"), ("stalled", "moving"), ("moving", "moving"),
                                             ("stalled", "diverged"))] == [0, 1, 2, 3]


# ----------------------------------------------------------------------------------------------
# Budgets: what the page may compute in one rerun
# ----------------------------------------------------------------------------------------------
def test_plan_runs_fits_the_budget_and_says_what_it_cut():
    b = _ch.FORMULA_RERUN
    steps, cut = _ch.plan_runs(b, 500, 6, label="6 runs")
    assert steps < 500 and cut is not None and cut.allowed == steps and cut.requested == 500
    share = b.split(6)
    assert share.cost(steps + 1, steps + 1, steps, 1) <= share.evals
    assert "stopped at step" in cut.sentence()
    assert _ch.plan_runs(b, 50, 2) == (50, None)
    # the catalogue's cheaper surfaces: the momentum section's three runs are never cut within the slider
    assert _ch.plan_runs(_ch.CATALOGUE_RERUN.scaled(0.5), 500, 3) == (500, None)


@pytest.mark.parametrize("steps", [20, 200, 300, 500])
def test_phase_grid_fits_half_a_rerun(steps):
    b = _ch.CATALOGUE_RERUN.scaled(0.5)
    n_lr, n_beta, t, cuts = _ch.phase_grid(b, steps)
    g = n_lr * n_beta
    assert b.cost(t + 1, g * (t + 1), t, g) <= b.evals
    assert (cuts == []) == (g == 48 * 45 and t == steps)
    assert n_lr >= 12 and n_beta >= 12


def test_phase_sweep_with_a_thinned_grid_keeps_its_shape():
    q = optlab.surfaces.get("quadratic", condition=25.0)
    n_lr, n_beta, t, _cuts = _ch.phase_grid(Budget(60_000_000, 600, 1800, 3), 100)
    res = _ch.phase_sweep(q, t, False, 1e-3, 0.16, q.starts[0], 1e6, n_lr, n_beta)
    assert res.final_loss.shape == (n_lr, n_beta)
