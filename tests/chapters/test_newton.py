"""The Newton chapter's maths (optlab.chapters.newton) and figure builders (optlab.figures.newton).

Derivatives against finite differences, the Taylor model's second-order accuracy, quadratic and
linear convergence rates with their closed-form constants, the model's stationary point against
the engine's own Newton step, exact level curves, the line-search replay against the engine's
backtracking, and the cost model's arithmetic.
"""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import pytest

import optlab
from optlab import optimizers, surfaces
from optlab.chapters import newton as qm
from optlab.errors import UnknownNameError
from optlab.surfaces import from_formula

FUNS = qm.names_1d()


# ----------------------------------------------------------------------------------------------
# 1-D catalogue
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", FUNS)
def test_1d_derivatives_match_finite_differences(name):
    fun = qm.get_1d(name)
    lo, hi = fun.window
    x = np.linspace(lo + 0.05, hi - 0.05, 41)
    h = 1e-5
    d1 = (fun.f(x + h) - fun.f(x - h)) / (2 * h)
    d2 = (fun.df(x + h) - fun.df(x - h)) / (2 * h)
    np.testing.assert_allclose(fun.df(x), d1, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(fun.d2f(x), d2, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", FUNS)
def test_taylor_model_matches_f_to_second_order(name):
    """|f(x + h) − q(x + h)| = O(h³): the ratio to h³ stays bounded as h shrinks, and the error
    drops ~8× per halving of h (unless f is itself quadratic there, when it is round-off)."""
    fun = qm.get_1d(name)
    for x in np.linspace(*fun.window, 7)[1:-1]:
        fx, gx, hx = float(fun.f(x)), float(fun.df(x)), float(fun.d2f(x))
        errs = []
        for h in (1e-1, 5e-2, 2.5e-2, 1.25e-2):
            errs.append(abs(float(fun.f(x + h)) - float(qm.taylor_1d(fx, gx, hx, x, x + h))))
        errs = np.array(errs)
        hs = np.array([1e-1, 5e-2, 2.5e-2, 1.25e-2])
        assert np.all(errs / hs ** 3 < 50), (name, x, errs / hs ** 3)
        if errs[0] > 1e-10:
            assert errs[-1] < errs[0] / 100  # three halvings: ≥ 8³/5 smaller for a cubic error


def test_1d_catalogue_critical_points_are_critical():
    for name in FUNS:
        fun = qm.get_1d(name)
        for m in fun.minima:
            assert abs(float(fun.df(m))) < 1e-12 and float(fun.d2f(m)) >= 0
        for m in fun.maxima:
            assert abs(float(fun.df(m))) < 1e-12 and float(fun.d2f(m)) < 0
    quartic = qm.get_1d("quartic")
    (a, b), = quartic.negative_curvature()
    assert a == pytest.approx(-math.sqrt(2 / 3), abs=3e-3) and b == pytest.approx(math.sqrt(2 / 3), abs=3e-3)


def test_unknown_names_are_rejected():
    with pytest.raises(UnknownNameError, match="quartic"):
        qm.get_1d("sextic")
    with pytest.raises(UnknownNameError, match="damped"):
        qm.newton_variant("halley")


def test_newton_1d_converges_quadratically_with_the_closed_form_constant():
    """On eˣ − 2x (minimum ln 2): e_{k+1}/e_k² → |f'''|/(2f'') = 2/(2·2) = 1/2."""
    res = qm.newton_1d("exp", 2.5, 12)
    assert res.converged_at > 0 and res.diverged_at == -1
    x_star = math.log(2.0)
    assert res.xs[res.last] == pytest.approx(x_star, abs=1e-15)
    e, lin, quad = qm.convergence_ratios(res.xs[: res.last + 1], x_star)
    ok = np.isfinite(quad) & (e[:-1] > 1e-6)
    assert ok.sum() >= 3
    assert np.all(quad[ok] < 2.0)                   # bounded …
    assert quad[ok][-1] == pytest.approx(0.5, rel=0.02)  # … by the Taylor constant


def test_newton_1d_is_linear_at_a_degenerate_minimum():
    """x⁴: the vertex of the parabola at x is 2x/3, so e_{k+1}/e_k = 2/3 exactly."""
    res = qm.newton_1d("x4", 1.5, 12)
    np.testing.assert_allclose(res.xs[1:13] / res.xs[0:12], 2 / 3, rtol=1e-12)
    _, lin, _ = qm.convergence_ratios(res.xs, 0.0)
    np.testing.assert_allclose(lin, 2 / 3, rtol=1e-12)


@pytest.mark.parametrize("name, good, bad", [("log_cosh", 1.08, 1.10), ("arctan", 1.38, 1.40)])
def test_pure_newton_diverges_beyond_the_documented_radius(name, good, bad):
    """log cosh: |x₀| < 1.0887; ∫arctan: |x₀| < 1.3917 (stated in the functions' descriptions).
    The divergent run is flagged, never raised, and its last finite point is kept."""
    assert qm.newton_1d(name, good, 40).converged_at > 0
    res = qm.newton_1d(name, bad, 40)
    assert res.diverged_at > 0 and res.converged_at == -1
    assert np.isfinite(res.xs[res.last]) and not np.isfinite(res.xs[res.diverged_at])
    assert res.diverged_reason
    # damped Newton converges from the same start
    assert qm.newton_1d(name, bad, 40, line_search=True).converged_at > 0


def test_negative_curvature_sends_pure_newton_uphill():
    quartic = qm.get_1d("quartic")
    res = qm.newton_1d(quartic, 0.5, 12)
    assert res.kind[0] == "maximum" and res.hs[0] < 0
    assert res.xs[1] == pytest.approx(0.5 - float(quartic.df(0.5)) / float(quartic.d2f(0.5)))
    assert res.xs[res.last] == pytest.approx(quartic.maxima[0], abs=1e-12)   # stuck on the hump
    damped = qm.newton_1d(quartic, 0.5, 30, line_search=True)
    assert min(abs(damped.xs[damped.last] - m) for m in quartic.minima) < 1e-10
    assert damped.fs[1] < damped.fs[0]


def test_newton_1d_model_uses_the_engines_damping():
    res = qm.newton_1d("quartic", 0.3, 8, line_search=True, damping=0.2, min_curvature=0.5)
    used = np.asarray(res.trajectory.states["damping_used"]).reshape(-1)
    steps = res.converged_at if res.converged_at >= 0 else len(used)
    np.testing.assert_allclose(res.mus[:steps], used[:steps], rtol=1e-12)
    assert np.all(res.model_h[: steps] >= 0.5 - 1e-12)
    assert all(k == "minimum" for k in res.kind[:steps])


# ----------------------------------------------------------------------------------------------
# 2-D local model
# ----------------------------------------------------------------------------------------------
POINTS = [("himmelblau", (1.0, 2.5)), ("himmelblau", (0.0, 0.0)), ("rosenbrock", (-1.2, 1.0)),
          ("beale", (1.0, 1.5)), ("six_hump_camel", (0.5, -0.3)), ("booth", (-3.0, -1.0))]


@pytest.mark.parametrize("name, x", POINTS)
def test_model_stationary_point_is_the_engines_pure_newton_step(name, x):
    s = surfaces.get(name)
    m = qm.local_model(s, x)
    tr = optlab.run(s, optimizers.make("newton"), np.array(x), 1, record="full")
    np.testing.assert_allclose(m.center, tr.xs[1], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(m.step, tr.states["direction"][0], rtol=1e-10, atol=1e-12)
    # the model's gradient vanishes at its centre, its value there is q_c
    h = 1e-6
    for i in range(2):
        e = np.zeros(2); e[i] = h
        assert abs(m.value(m.center + e) - m.value(m.center - e)) / (2 * h) < 1e-6 * max(1, abs(m.f))
    assert float(m.value(m.center)) == pytest.approx(m.center_value, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("name, x", POINTS)
def test_eigendecomposition_reconstructs_the_hessian(name, x):
    m = qm.local_model(surfaces.get(name), x)
    V, lam = m.eigvecs, m.eigvals
    np.testing.assert_allclose(V @ np.diag(lam) @ V.T, m.H, rtol=1e-12, atol=1e-10 * np.abs(m.H).max())
    np.testing.assert_allclose(V.T @ V, np.eye(2), atol=1e-12)
    assert lam[0] <= lam[1]


def test_model_agrees_with_f_to_second_order():
    s = surfaces.get("himmelblau")
    x = np.array([1.0, 2.5])
    m = qm.local_model(s, x)
    d = np.array([0.6, -0.8])
    errs = [abs(float(s.value(x + t * d)) - float(m.value(x + t * d))) for t in (1e-1, 5e-2, 2.5e-2)]
    assert errs[1] < errs[0] / 6 and errs[2] < errs[1] / 6   # O(t³)


def test_model_kinds():
    assert qm.local_model(surfaces.get("quadratic", condition=100), (1.0, 1.0)).kind == "minimum"
    assert qm.local_model(surfaces.get("saddle"), (1.0, 1.0)).kind == "saddle"
    assert qm.local_model(surfaces.get("himmelblau"), (0.0, 0.0)).kind == "maximum"
    flat = qm.local_model(from_formula("(x - 1)**2"), (0.0, 0.0))
    assert flat.kind == "degenerate" and not np.any(np.isfinite(flat.center)) and not flat.descent
    # Levenberg–Marquardt's δ turns the saddle model into a bowl with λ_min = δ
    lm = qm.local_model(surfaces.get("saddle"), (1.0, 1.0), min_curvature=0.5)
    assert lm.kind == "minimum" and lm.eigvals[0] == pytest.approx(0.5) and lm.mu == pytest.approx(2.5)
    assert lm.descent


def test_model_of_a_quadratic_is_the_quadratic():
    s = surfaces.get("quadratic", condition=25, angle=30)
    m = qm.local_model(s, (-2.0, 1.0))
    xs, ys, Q = m.grid(20, window=s.window)
    P = np.stack(np.meshgrid(xs, ys), -1)
    np.testing.assert_allclose(Q, s.value(P), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(m.center, [0.0, 0.0], atol=1e-12)


def _q(q0, b, A, y):
    return q0 + y @ b + 0.5 * np.einsum("ni,ij,nj->n", y, A, y)


LEVEL_CASES = [
    ("ellipse", 1.0, [0.3, -0.2], [[3.0, 1.0], [1.0, 2.0]], 2.0),
    ("hyperbola", 1.0, [0.3, -0.2], [[2.0, 0.5], [0.5, -1.0]], 2.5),
    ("hyperbola, other family", 1.0, [0.3, -0.2], [[2.0, 0.5], [0.5, -1.0]], -1.0),
    ("parabola", 0.5, [1.0, 2.0], [[0.0, 0.0], [0.0, 4.0]], 1.5),
    ("parallel lines", 0.5, [0.0, 2.0], [[0.0, 0.0], [0.0, 4.0]], 1.5),
    ("line", 0.5, [1.0, -1.0], [[0.0, 0.0], [0.0, 0.0]], 2.0),
]


@pytest.mark.parametrize("case, q0, b, A, level", LEVEL_CASES, ids=[c[0] for c in LEVEL_CASES])
def test_level_curves_lie_on_their_level(case, q0, b, A, level):
    b, A = np.array(b), np.array(A)
    pts = qm.level_curve(q0, b, A, level, radius=10.0)
    fin = pts[np.isfinite(pts).all(axis=1)]
    assert len(fin) >= 2
    np.testing.assert_allclose(_q(q0, b, A, fin), level, atol=1e-9 * max(1.0, np.abs(fin).max() ** 2))


def test_level_curves_saddle_asymptotes_and_empty_levels():
    A = np.diag([2.0, -8.0])
    pts = qm.level_curve(0.0, np.zeros(2), A, 0.0, radius=5.0)     # asymptotes y = ±x/2
    fin = pts[np.isfinite(pts).all(axis=1)]
    np.testing.assert_allclose(np.abs(fin[:, 1]), np.abs(fin[:, 0]) / 2, atol=1e-12)
    assert len(qm.level_curve(0.0, np.zeros(2), np.eye(2), -1.0, radius=5.0)) == 0   # below a bowl's minimum
    assert len(qm.level_curve(0.0, np.zeros(2), np.full((2, 2), np.nan), 1.0, radius=5.0)) == 0


@pytest.mark.parametrize("name, x", POINTS + [("saddle", (1.0, 0.5)), ("monkey_saddle", (1.5, 0.3))])
def test_model_curves_include_the_level_through_x(name, x):
    s = surfaces.get(name)
    m = qm.local_model(s, x)
    curves = m.curves(s.window)
    through = [c for c in curves if c[1]]
    assert len(through) == 1 and through[0][0] == pytest.approx(m.f)
    for level, _, pts in curves:
        fin = pts[np.isfinite(pts).all(axis=1)]
        if len(fin):
            np.testing.assert_allclose(m.value(fin), level, rtol=1e-8, atol=1e-8 * max(1, abs(m.f)))
    axes = m.axes(s.window)
    assert len(axes) == 2
    for (o, v, lam), li in zip(axes, m.eigvals):
        assert lam == li
        assert abs(float(v @ m.eigvecs[:, 0 if lam == m.eigvals[0] else 1])) == pytest.approx(np.hypot(*v))


def test_model_latex_is_balanced():
    m = qm.local_model(surfaces.get("himmelblau"), (1.0, 2.5), damping=1.5)
    for tex in m.latex().values():
        assert tex.count("{") == tex.count("}")
        assert tex.count(r"\begin") == tex.count(r"\end")
    assert r"\mu = 1.5" in m.latex()["hessian"]
    assert qm._tex_num(1.234e-7) == r"1.234\cdot 10^{-7}"
    assert "pmatrix" in qm.tex_matrix(np.eye(2))


# ----------------------------------------------------------------------------------------------
# Line search
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, x0, hyper, backtracks", [
    ("himmelblau", (1.0, 2.5), {"line_search": True}, True),
    ("himmelblau", (0.0, 0.0), {"line_search": True}, True),
    ("rosenbrock", (-1.5, 2.0), {"line_search": True}, True),
    ("himmelblau", (-0.5, 2.5), {"line_search": True, "min_curvature": 1.0}, True),
    ("beale", (1.0, 1.5), {"line_search": True, "shrink": 0.3, "c1": 0.2}, False),
])
def test_line_search_trace_agrees_with_the_engine(name, x0, hyper, backtracks):
    s = surfaces.get(name)
    opt = optimizers.make("newton", **hyper)
    tr = optlab.run(s, opt, np.array(x0), 25, record="full", tol=1e-10)
    steps = tr.converged_at if tr.converged_at >= 0 else 25
    assert steps > 1
    h = opt.hyper
    saw_backtrack = False
    for k in range(steps):
        t = qm.line_search_trace(s, tr.xs[k], tr.states["direction"][k], h["lr"], h["c1"], h["shrink"],
                                 h["max_backtracks"])
        assert t.step == tr.states["step_length"][k, 0]
        assert t.n_backtracks == tr.states["n_backtracks"][k, 0]
        np.testing.assert_allclose(tr.xs[k] + t.step * t.d, tr.xs[k + 1], rtol=0, atol=0)
        # Armijo: every rejected try lies above its bound, the accepted one on or below
        if t.accepted >= 0:
            assert t.values[t.accepted] <= t.bounds[t.accepted]
        assert np.all(~(t.values[: max(t.accepted, 0)] <= t.bounds[: max(t.accepted, 0)]))
        np.testing.assert_allclose(t.steps, h["lr"] * h["shrink"] ** np.arange(len(t.steps)), rtol=1e-14)
        saw_backtrack |= len(t.steps) > 1
    assert saw_backtrack or not backtracks


def test_line_search_with_no_acceptable_step_stays_put():
    s = surfaces.get("quadratic", condition=1)
    t = qm.line_search_trace(s, (1.0, 0.0), (1.0, 0.0), max_backtracks=5)   # uphill direction
    assert t.accepted == -1 and t.step == 0.0 and len(t.steps) == 6 and not t.descent


# ----------------------------------------------------------------------------------------------
# Cost and comparisons
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 2, 10, 1000, 1e6])
def test_cost_table_arithmetic(n):
    rows = {r.name: r for r in qm.cost_table(n)}
    tot = qm.cost_totals(np.array([float(n)]))
    for name, r in rows.items():
        assert r.total == pytest.approx(sum(p[1] for p in r.parts), rel=1e-15)
        assert r.total == pytest.approx(float(tot[name][0]), rel=1e-12)
    assert rows["sgd"].total == 3 * n
    assert rows["newton"].total == pytest.approx(n ** 3 / 3 + 3 * n ** 2 + 3 * n)
    assert rows["bfgs"].total == pytest.approx(8 * n ** 2 + 3 * n)
    assert rows["newton"].memory == n * n + 3 * n
    if n >= 100:
        assert rows["sgd"].total < rows["bfgs"].total < rows["newton"].total
    with pytest.raises(ValueError, match="n must be"):
        qm.cost_table(0)


def test_best_gd_reports_the_fastest_learning_rate():
    s = surfaces.get("quadratic", condition=10)
    x0 = (-2.5, 1.5)
    lrs = np.logspace(-2, 0.5, 26)
    ref = qm.best_gd(s, x0, 2000, 1e-8, lrs=lrs)
    assert ref.best_steps > 0
    conv = ref.converged_at[ref.converged_at >= 0]
    assert ref.best_steps == conv.min()
    tr = optlab.run(s, optimizers.make("sgd", lr=ref.best_lr), np.array(x0), 2000, tol=1e-8, record="path")
    assert tr.converged_at == ref.best_steps
    # GD's best rate on a quadratic is about 2/(λmin + λmax) = 2/11
    assert ref.best_lr == pytest.approx(2 / 11, rel=0.3)
    none = qm.best_gd(s, x0, 3, 1e-8, lrs=lrs)           # budget too small: nothing converges
    assert none.best_steps == -1


@pytest.mark.parametrize("name, x0", [("himmelblau", (1.0, 2.5)), ("booth", (-3.0, -1.0))])
def test_best_gd_in_chunks_equals_one_batched_run(name, x0):
    """SGD is stateless, so advancing the batch in chunks and stopping at the first convergence
    finds exactly what one long batched run finds."""
    s = surfaces.get(name)
    lrs = np.logspace(-4, 0, 21)
    ref = qm.best_gd(s, x0, 3000, 1e-8, lrs=lrs, first_chunk=7)
    full = optlab.run(s, optimizers.make("sgd", lr=lrs), np.broadcast_to(np.array(x0), (21, 2)), 3000, tol=1e-8,
                      record="summary")
    c = np.asarray(full.converged_at)
    ok = (c >= 0) & (np.asarray(full.diverged_at) < 0)
    assert ok.any() and ref.best_steps == c[ok].min() and ref.best_lr == lrs[ok][np.argmin(c[ok])]
    seen = ref.diverged_at >= 0          # divergences before the stop, at the same step as in the long run
    assert seen.any()
    np.testing.assert_array_equal(ref.diverged_at[seen], np.asarray(full.diverged_at)[seen])


def test_bfgs_learns_a_constant_hessian():
    s = surfaces.get("quadratic", condition=100, angle=30)
    tr = optlab.run(s, optimizers.make("bfgs"), np.array([-2.5, 1.5]), 50, record="full", tol=1e-8)
    n = tr.converged_at
    est, true, err = qm.bfgs_estimates(s, tr.xs[:n], tr.states["inv_hessian"][:n])
    np.testing.assert_allclose(est[0], np.eye(2))           # B₀ = I
    np.testing.assert_allclose(est @ tr.states["inv_hessian"][:n], np.broadcast_to(np.eye(2), est.shape), atol=1e-9)
    np.testing.assert_allclose(true, np.broadcast_to(s.hessian(np.zeros(2)), true.shape))
    assert err[0] > 0.9 and err[-1] < 1e-6


def test_newton_variants_build_engine_optimizers():
    for v in qm.VARIANTS:
        opt = optimizers.make("newton", **qm.newton_variant(v, damping=0.5, min_curvature=1.0))
        assert opt.hyper["lr"] == 1.0
    assert qm.newton_variant("pure")["line_search"] is False
    lm = qm.newton_variant("lm", damping=0.5, min_curvature=None, line_search=False)
    assert lm == {"lr": 1.0, "line_search": False, "damping": 0.5, "min_curvature": None}


def test_summarize_names_the_point_a_run_ends_at():
    s = surfaces.get("himmelblau")
    pure = optlab.run(s, optimizers.make("newton"), np.array([1.0, 2.5]), 30, tol=1e-8, record="path")
    damped = optlab.run(s, optimizers.make("newton", line_search=True), np.array([1.0, 2.5]), 30, tol=1e-8,
                        record="path")
    assert qm.summarize(s, pure).kind == "saddle"
    assert qm.summarize(s, damped).kind == "minimum"
    assert qm.summarize(s, damped).final_x == pytest.approx([3.0, 2.0])


# ----------------------------------------------------------------------------------------------
# Figures (Plotly only): valid against Plotly's schema, small, showing what they claim
# ----------------------------------------------------------------------------------------------
def _valid(fig) -> dict:
    spec = fig.to_plotly_json()
    go.Figure(spec)  # validates every property
    assert len(fig.to_json()) < 1_000_000
    return spec


def test_figures_validate_and_draw_their_parts():
    from optlab.figures import newton as nfig

    fun = qm.get_1d("quartic")
    res = qm.newton_1d(fun, 0.5, 12)
    spec = _valid(nfig.taylor_1d(fun, res, 1))
    names = [t.get("name", "") for t in spec["data"]]
    assert any("Taylor parabola" in n for n in names) and any("maximum" in n for n in names)
    assert spec["layout"]["shapes"]          # the f'' < 0 band
    _valid(nfig.error_1d(res, 1, float(res.xs[res.last])))
    div = qm.newton_1d("log_cosh", 1.5, 12)
    spec = _valid(nfig.taylor_1d(qm.get_1d("log_cosh"), div, div.last))
    assert any(f"step {div.diverged_at}" in a.get("text", "") for a in spec["layout"]["annotations"])

    s = surfaces.get("himmelblau")
    tr = optlab.run(s, optimizers.make("newton", line_search=True), np.array([1.0, 2.5]), 20, record="full", tol=1e-8)
    m = qm.local_model(s, tr.xs[0])
    t = qm.line_search_trace(s, tr.xs[0], tr.states["direction"][0])
    spec = _valid(nfig.model_2d(s, tr.xs, 0, m, next_x=tr.xs[1], trace=t))
    names = [d.get("name", "") for d in spec["data"]]
    assert any("level through" in n and "saddle" in n for n in names)
    assert any("curves up" in n for n in names) and any("curves down" in n for n in names)
    assert any("rejected" in n for n in names) and any("accepted" in n for n in names)
    _valid(nfig.line_search(t))
    _valid(nfig.cost(1e6))
    _valid(nfig.iterations([("Newton", "newton", 5, 50), ("GD", "sgd", -1, 1000)]))
    b = optlab.run(s, optimizers.make("bfgs"), np.array([1.0, 2.5]), 30, record="full", tol=1e-8)
    est, true, err = qm.bfgs_estimates(s, b.xs[:5], b.states["inv_hessian"][:5])
    spec = _valid(nfig.bfgs_hessian(s, b.xs, 3, true[3], est[3]))
    assert {"true Hessian ∇²f(xₖ)", "BFGS estimate Bₖ"} <= {d.get("name") for d in spec["data"]}
    _valid(nfig.bfgs_error(err, 2))


def test_curvature_curve_is_drawn_at_its_own_scale():
    from optlab.figures import newton as nfig

    for M in (np.diag([1.0, 100.0]), np.diag([-3.0, 12.0]), np.diag([-2.0, -5.0])):
        pts = nfig.curvature_curve(M, (0.0, 0.0), 2.0, 50.0)
        fin = pts[np.isfinite(pts).all(axis=1)]
        q = 0.5 * np.einsum("ni,ij,nj->n", fin, M, fin)
        c = 0.5 * 4.0 * np.abs(np.linalg.eigvalsh(M)).min()
        np.testing.assert_allclose(np.abs(q), c, rtol=1e-9)


# ----------------------------------------------------------------------------------------------
# What the captions read off a run
# ----------------------------------------------------------------------------------------------
def test_read_rate_tells_quadratic_from_linear_convergence():
    quad = qm.read_rate(qm.get_1d("log_cosh"), qm.newton_1d("log_cosh", 0.8, 12, tol=1e-13))
    assert quad.kind == "quadratic" and abs(quad.x_star) < 1e-12 and quad.curvature == pytest.approx(1.0)
    assert len(quad.quadratic_ratios) >= 1 and max(quad.quadratic_ratios) < 1.0      # e_{k+1} ≤ C e_k², bounded
    lin = qm.read_rate(qm.get_1d("x4"), qm.newton_1d("x4", 1.0, 12, tol=1e-13))
    assert lin.kind == "linear" and lin.factor == pytest.approx(2 / 3, abs=1e-3)        # x⁴: e ← (2/3)e
    assert lin.errors[:3] == pytest.approx((1.0, 2 / 3, 4 / 9))


def test_read_rate_without_a_rate():
    div = qm.newton_1d("log_cosh", 1.5, 12, tol=1e-13)                 # pure Newton diverges from 1.5
    assert div.diverged_at >= 0 and qm.read_rate(qm.get_1d("log_cosh"), div).kind == "diverged"
    one = qm.newton_1d("log_cosh", 0.8, 1, tol=1e-13)
    assert qm.read_rate(qm.get_1d("log_cosh"), one).kind in ("too_few", "far")


def test_starts_and_last_iterates():
    log = from_formula("log(x) + y**2")                                 # undefined for x ≤ 0
    p = qm.suggested_start(log)
    assert qm.defined_at(log, p) and p[0] > 0 and not qm.defined_at(log, (-1.0, 0.0))
    s = surfaces.get("quadratic", condition=4)
    tr = optlab.run(s, optimizers.make("newton"), [2.0, 1.0], 10, tol=1e-10)
    assert qm.last_iterate(tr) == tr.converged_at == 1
    far = optlab.run(s, optimizers.make("sgd", lr=2.0), [2.0, 1.0], 50)
    assert far.diverged_at > 0 and qm.last_iterate(far) == far.diverged_at - 1
