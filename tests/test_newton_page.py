"""The Newton chapter page: every caption claim against its numbers (over widget grids, extremes
included), the page under AppTest (sections, widgets, links, state that never changes behind the
student's back, predictions, presenter mode, two languages)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from optlab import surfaces
from optlab.chapters import newton as qm
from optlab.specs import hyper_items
from optlab.ui import newton as nw
from state_checks import fuzz_links, link_warnings, no_exception, open_page, roundtrip, url_state, widget

PAGE = "pages/3_Newton_method.py"
SECTIONS = {"1d": "One dimension", "2d": "Two dimensions", "cost": "What it costs", "bfgs": "BFGS"}
CHARTS = {"1d": ("nw1_fig", "nw1_err"), "2d": ("nw2_fig", "nw2_curves", "nw2_grads"), "cost": ("nw3_iter", "nw3_cost"),
          "bfgs": ("nw3_bfgs", "nw3_bfgs_err")}


def chart(at, key: str) -> dict:
    for c in at.get("plotly_chart"):
        if c.proto.id.endswith(f"-{key}"):
            return json.loads(c.proto.spec)
    raise AssertionError(f"no chart {key!r}; have {chart_keys(at)}")


def chart_keys(at) -> set[str]:
    return {c.proto.id.rsplit("-", 1)[-1] for c in at.get("plotly_chart")}


def texts(at) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption] + [w.value for w in at.warning]
                     + [e.value for e in at.error] + [i.value for i in at.info] + [s.value for s in at.success])


def open_section(sec: str, **query):
    at = open_page(PAGE, {"sec": sec, **{k: str(v) for k, v in query.items()}})
    no_exception(at)
    return at


# ----------------------------------------------------------------------------------------------
# Every caption true: the sentence is the one the numbers call for (no Streamlit run needed)
# ----------------------------------------------------------------------------------------------
VARIANTS = [("pure", {}), ("damped", {}), ("lm", dict(mu=0.0, dl=True, d=1.0, ls=True)),
            ("lm", dict(mu=10.0, dl=False, d=1.0, ls=False)), ("lm", dict(mu=0.0, dl=True, d=0.01, ls=False))]


def _hyper(variant, kw):
    return nw.hyper_of(variant, kw.get("mu", 0.0), kw.get("dl", True), kw.get("d", 1.0), kw.get("ls", True))


def test_1d_captions_say_what_each_step_did():
    """Over every function × start (window edges included) × method × iterate: each clause of the
    caption is present exactly when the step's verdict calls for it."""
    for name in qm.names_1d():
        fun = qm.get_1d(name)
        lo, hi = fun.window
        for x0 in (lo, hi, 0.5, 1.2, 1.5, 0.5 * (lo + hi) + 0.1):
            x0 = nw.x0_1d(name, x0)
            for variant, kw in VARIANTS:
                hyper = _hyper(variant, kw)
                label = nw.variant_label(variant, hyper)
                res = nw.run_1d(name, x0, hyper_items(hyper))
                for k in range(res.last + 1):
                    r = qm.read_step_1d(res, k, bool(hyper["line_search"]))
                    t = nw.caption_1d(res, k, hyper, label)
                    assert ("**minimum**" in t) == (r.kind == "minimum")
                    assert ("a **maximum**" in t) == (r.kind == "maximum")
                    assert ("jumps to that maximum regardless" in t) == (r.to_vertex and r.kind == "maximum"
                                                                         and not r.fallback)
                    assert ("The step goes to the vertex." in t) == (r.to_vertex and r.kind != "maximum"
                                                                     and not r.fallback)
                    assert ("goes along −f′ instead" in t) == (r.fallback and np.isfinite(r.next_x))
                    assert ("(downhill)" in t) == (r.direction == "downhill")
                    assert ("(uphill)" in t) == (r.direction == "uphill")
                    assert ("The line search accepted s =" in t) == (r.searched and not r.stayed
                                                                     and np.isfinite(r.next_x))
                    assert ("Converged" in t) == r.converged
                    assert "lr = 1" not in t and "(lr" not in t          # Newton has no learning rate
                    assert "nan" not in t.replace("NaN", "") and "inf" not in t.replace("infinite", "") and "None" not in t


def test_rate_captions_follow_the_rate_verdict():
    seen = set()
    for name in qm.names_1d():
        fun = qm.get_1d(name)
        for x0 in np.linspace(*fun.window, 7):
            for variant, kw in VARIANTS[:3]:
                res = nw.run_1d(name, float(x0), hyper_items(_hyper(variant, kw)))
                r = qm.read_rate(fun, res)
                t = nw.rate_caption(fun, res)
                seen.add(r.kind)
                assert ("**linear**" in t) == (r.kind == "linear")
                assert ("**quadratic**" in t) == (r.kind == "quadratic")
                assert ("**faster than quadratic**" in t) == (r.kind == "faster")
                assert ("No convergence" in t) == (r.kind == "diverged")
                assert ("not near a known minimum" in t) == (r.kind == "far")
                assert ("**maximum** of f" in t) == (r.kind not in ("diverged", "far") and r.curvature < 0)
                if r.kind == "linear":
                    assert f"{r.factor:.3f}" in t
    assert {"linear", "quadratic", "faster", "diverged"} <= seen


@pytest.mark.parametrize("n", nw.DIMS + [15])
def test_cost_text_says_which_iteration_is_cheaper(n):
    """The trial's bug: at n = 2 the table said Newton 21 flops and BFGS 38, and the text called BFGS
    "0.54 times cheaper".  Now the sentence follows the verdict and every factor is ≥ 1."""
    v = qm.cost_verdict(n)
    t = nw.cost_text(n)
    assert "cheaper" not in t or v.cheaper == "newton"
    assert ("BFGS avoids the n³ solve" in t) == (v.cheaper == "bfgs")
    assert ("costs more than Newton's solve" in t) == (v.cheaper == "newton")
    assert ("costs exactly as much" in t) == (v.cheaper == "equal")
    if v.cheaper != "equal":
        assert f"**{nw.fmt_times(v.factor)} times**" in t and v.factor >= 1
    assert f"**{nw.fmt_times(v.newton_over_gd)} times** a gradient step" in t
    table = nw.cost_table_markdown(n)
    for row in qm.cost_table(n):
        assert f"| {row.title} | ${row.latex}$ | {nw.fmt_flops(row.total)} |" in table
    if n == 2:
        assert "one BFGS iteration costs **1.8 times** as much as one Newton iteration" in t
        assert "| Newton | $\\tfrac13 n^3 + 3n^2 + 3n$ | 21 |" in table and "| BFGS | $8n^2 + 3n$ | 38 |" in table


def _entry(key, status, at, kind="minimum", reason="", budget=200):
    opt = {"gd": "sgd", "bfgs": "bfgs"}.get(key, "newton")
    return nw.Entry(key, opt, qm.Ending(status, at, budget, kind, np.zeros(2), 0.0, 0.0, reason), budget)


GD = qm.GDReference(np.logspace(-5, 1, 61), None, None, None, 0.0158, 45, 20_000, 1e-8)


def test_bars_and_race_text_for_every_ending():
    """A run that stops at f's rounding floor shows that reason, never "not reached"; ties, no
    minimum, gradient descent without a learning rate that gets there, saddles and maxima."""
    floor = "f is at its rounding floor: the predicted decrease |gᵀd| = 1.0e-15 is below …"
    entries = [_entry("pure", "floor", 7, reason=floor), _entry("damped", "converged", 7),
               _entry("lm", "diverged", 3, kind="undefined", reason="the loss became infinite"),
               _entry("gd", "converged", 45), _entry("bfgs", "steps", 200, kind="saddle")]
    rows = nw.bar_rows(entries)
    assert [r[4] for r in rows] == ["7 (f's rounding floor)", "7", "diverged at step 3", "45", "not within 200"]
    assert [r[3] for r in rows] == [True, True, False, True, False]
    assert all("not reached" not in r[4] for r in rows)
    text, warn = nw.race_text(entries, GD)
    assert "Fewest iterations to a minimum, a tie: **Newton (pure)**, **Newton (damped)** (7 steps each)." in text
    assert f"Newton (pure) stopped at step 7: {floor}." in text
    assert "needed 6.4 times fewer iterations than gradient descent (7 against 45)" in text
    assert warn is None                                          # the saddle run did not get there
    entries = [_entry("pure", "converged", 4, kind="maximum"), _entry("damped", "converged", 6, kind="saddle"),
               _entry("lm", "steps", 200, kind="saddle"), _entry("gd", "steps", 20_000, kind="undefined"),
               _entry("bfgs", "converged", 80)]
    gd = qm.GDReference(GD.lrs, None, None, None, 0.0158, -1, 20_000, 1e-8)
    text, warn = nw.race_text(entries, gd)
    assert "Fewest iterations to a minimum: **BFGS** (80 steps)." in text
    assert [r[4] for r in nw.bar_rows(entries)][:2] == ["4 (a maximum)", "6 (a saddle point)"]  # the bar says it too
    assert "none of 61 learning rates from 10⁻⁵ to 10 reached ‖∇f‖ ≤ 10⁻⁸ within 20,000 steps" in text
    assert "fewer iterations than gradient descent" not in text   # gradient descent did not get there
    assert warn == ("Fast is not the same as right: Newton (pure), Newton (damped) stopped at a maximum / a saddle "
                    "point, not at a minimum.")
    entries = [_entry(k, "steps", 200, kind="saddle") for k in ("pure", "damped", "lm", "bfgs")]
    entries.insert(3, _entry("gd", "converged", 300, kind="saddle"))
    text, warn = nw.race_text(entries, GD)
    assert text.startswith("No method reached a minimum")
    assert "Gradient descent" in warn                            # gradient descent ended at a saddle point


@pytest.mark.parametrize("name, x0", [("himmelblau", (0.0, 0.0)), ("himmelblau", (1.0, 2.5)),
                                      ("himmelblau", (-0.5, 2.5)), ("rosenbrock", (-1.5, 2.0)),
                                      ("saddle", (-1.8, 0.01)), ("booth", (-3.0, -1.0)),
                                      ("goldstein_price", (-1.5, 1.5))])
def test_race_text_on_real_runs(name, x0):
    spec = (name, ())
    entries, gd = nw.race(spec, x0)
    text, warn = nw.race_text(entries, gd)
    at_min = [e.ending.iterations if e.ending.reached and e.ending.kind == "minimum" else -1 for e in entries]
    best = qm.fewest(at_min)
    if best:
        assert f"**{nw.entry_label(entries[best[0]])}**" in text.splitlines()[0]
        assert nw.n_steps(at_min[best[0]]) in text.splitlines()[0]
    else:
        assert text.startswith("No method reached a minimum")
    bad = [e for e in entries if e.ending.reached and e.ending.kind in ("saddle", "maximum")]
    assert (warn is not None) == bool(bad)
    for e, row in zip(entries, nw.bar_rows(entries)):
        assert row[3] == e.ending.reached
        if e.ending.status == "converged":
            kind = {"saddle": " (a saddle point)", "maximum": " (a maximum)"}.get(e.ending.kind, "")
            assert row[4] == f"{e.ending.at:,}{kind}" and row[2] == max(e.ending.at, 1)


def test_summary_captions_name_how_the_run_ended():
    s = surfaces.get("himmelblau")
    for x0, variant, want in [((1.0, 2.5), "pure", "a **saddle point** (!)"), ((0.0, 0.0), "pure", "a **maximum** (!)"),
                              ((0.0, 0.0), "damped", "a **minimum**")]:
        tr = nw.run_2d(("himmelblau", ()), hyper_items(qm.newton_variant(variant)), x0, 50)
        end = qm.ending(s, tr)
        t = nw.summary_caption(end, "N")
        assert t.startswith(f"N reached ‖∇f‖ ≤ 10⁻⁸ in {nw.n_steps(end.at)}") and t.endswith(want + ".")
    floor = qm.Ending("floor", 7, 50, "minimum", np.array([1.0, 2.0]), 3.0, 2e-8, "f is at its rounding floor")
    t = nw.summary_caption(floor, "N")
    assert t.startswith("N stopped at step 7: f is at its rounding floor.") and "reached" not in t
    steps = qm.Ending("steps", 5, 5, "undefined", np.array([np.nan, 1.0]), np.nan, np.nan)
    t = nw.summary_caption(steps, "N")
    assert "did not reach" in t and "nan" not in t.lower() and "(—, 1)" in t


def test_bfgs_captions_follow_the_estimate():
    for name, x0 in (("himmelblau", (0.0, 0.0)), ("himmelblau", (1.0, 2.5)), ("quadratic", (-2.5, 1.5))):
        spec = (name, (("angle", 30.0), ("condition", 100.0)) if name == "quadratic" else ())
        est, true, err = nw.bfgs_estimates(spec, x0)
        for k in range(len(err)):
            r = qm.read_bfgs(est, true, err, k)
            text, shape = nw.bfgs_caption(est, true, err, k)
            assert ("B₀ is the identity" in text) == (k == 0)
            assert ("first matched the true Hessian" in text) == (r.learned_at >= 0)
            assert ("indefinite (a saddle" in shape) == (r.true_kind == "saddle")
            assert ("negative definite" in shape) == (r.true_kind == "maximum")
            assert ("both matrices are positive definite" in shape) == (r.true_kind == "minimum")


# ----------------------------------------------------------------------------------------------
# The page under AppTest
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("sec", list(SECTIONS))
def test_each_section_renders_its_charts(sec):
    at = open_section(sec)
    assert at.button_group(key="nw_section").value == SECTIONS[sec]
    for key in CHARTS[sec]:
        assert chart(at, key)["data"], key
    assert not at.error
    # "Copy link" in every section, holding this section's address
    link = at.get("popover")[0].children[0].value
    assert len(at.get("popover")) == 1 and link.startswith("/Newton_method?")
    assert (f"sec={sec}" in link) == (sec != "1d")                # the default section is left out


def test_one_pass_over_the_widgets_of_every_section():
    at = open_section("1d")
    base = chart(at, "nw1_fig")
    at.slider(key="nw1_k").set_value(2).run(); no_exception(at)
    assert chart(at, "nw1_fig")["data"] != base["data"]
    at.button(key="nw1_k_next").click().run(); no_exception(at)
    assert at.slider(key="nw1_k").value == 3
    at.radio(key="nw1_variant").set_value("lm").run()
    at.slider(key="nw1_mu").set_value(2.0).run(); no_exception(at)
    assert "μ = 2" in texts(at)
    at.selectbox(key="nw1_fun").set_value("exp").run(); no_exception(at)
    assert at.slider(key="nw1_x0").value == qm.get_1d("exp").start          # the student chose a new function
    assert chart(at, "nw1_fig")["layout"]["xaxis"]["range"] == list(qm.get_1d("exp").window)

    at.button_group(key="nw_section").set_value("Two dimensions").run(); no_exception(at)
    at.number_input(key="nw2_x0").set_value(1.0).run()
    at.number_input(key="nw2_y0").set_value(2.5).run()
    at.radio(key="nw2_variant").set_value("pure").run(); no_exception(at)
    assert "a **saddle point** (!)" in texts(at) and "nw2_linesearch" not in chart_keys(at)
    at.radio(key="nw2_variant").set_value("damped").run(); no_exception(at)
    assert "nw2_linesearch" in chart_keys(at)
    at.slider(key="nw2_steps").set_value(5).run()
    at.selectbox(key="nw2_surface").set_value("booth").run(); no_exception(at)
    assert (at.number_input(key="nw2_x0").value, at.number_input(key="nw2_y0").value) == surfaces.get("booth").starts[0]

    at.button_group(key="nw_section").set_value("What it costs").run(); no_exception(at)
    at.select_slider(key="nw3_n").set_value(2).run(); no_exception(at)
    assert "one BFGS iteration costs **1.8 times** as much as one Newton iteration" in texts(at)
    at.button_group(key="nw_section").set_value("BFGS").run(); no_exception(at)
    at.slider(key="nw3_k").set_value(1).run(); no_exception(at)
    assert any(r"B_{1}" in x.value for x in at.latex)


def test_no_learning_rate_is_named_for_newton():
    """The divergence box of a Newton run says no "(lr = 1)": Newton has no learning rate."""
    at = open_section("1d", fn="log_cosh", x=1.5, m="pure")
    warns = [w.value for w in at.warning if "diverged" in w.value]
    assert warns and "Newton (pure) diverged at step" in warns[0]
    assert "lr =" not in texts(at)
    at = open_section("2d", s="custom", f="(x - 1)**2", x0=-1.5, y0=1.5, m2="pure")
    assert any("diverged at step 1" in w.value for w in at.warning) and "lr =" not in texts(at)


def test_a_formula_typo_changes_nothing_else():
    """Trial: a valid formula, then a typo, then the valid one again: the start jumped to (0, 0), the
    steps to 5, the Method showed "Pure" while the caption said "damped", the chart kept the old run."""
    at = open_section("2d", s="custom", f="x**2 + 3*y**2 - x*y", x0=1.25, y0=-0.75, m2="lm", mu2=0.5, n=35,
                      dl2=0, ls2=0)
    kept = {"nw2_x0": 1.25, "nw2_y0": -0.75, "nw2_variant": "lm", "nw2_mu": 0.5, "nw2_steps": 35,
            "nw2_delta_on": False, "nw2_ls": False}

    def check_kept():
        for key, value in kept.items():
            assert widget(at, key).value == value, key

    check_kept()
    at.text_input(key="nw2_formula").input("x**2 + 3*y**2 - x*y +").run(); no_exception(at)
    err = [e.value for e in at.error]
    assert err and err[0].startswith("This formula cannot be used") and "```text" in err[0]   # said, with a caret
    assert at.text_input(key="nw2_formula").value == "x**2 + 3*y**2 - x*y +"                  # the text kept
    assert "nw2_fig" not in chart_keys(at)                                   # no stale chart of the old run
    check_kept()
    at.text_input(key="nw2_formula").input("x**2 + 3*y**2 - x*y").run(); no_exception(at)
    check_kept()
    assert not at.error
    label = nw.variant_label("lm", nw.hyper_of("lm", 0.5, False, 1.0, False))
    assert label == "Newton (LM, μ = 0.5, no line search)"
    assert at.radio(key="nw2_variant").value == "lm"
    summaries = [m.value for m in at.markdown if " reached ‖∇f‖" in m.value or " did not reach" in m.value]
    assert summaries and all(m.startswith(label) for m in summaries)      # the caption names the method shown
    spec = chart(at, "nw2_fig")                                              # the chart is this run's
    tr = nw.run_2d(("formula", "x**2 + 3*y**2 - x*y", ((-3.0, 3.0), (-3.0, 3.0))),
                   hyper_items(nw.hyper_of("lm", 0.5, False, 1.0, False)), (1.25, -0.75), 35)
    path = next(d for d in spec["data"] if d.get("name", "").startswith(label))
    from conftest import plotly_array

    np.testing.assert_allclose(plotly_array(path["x"])[0], 1.25, atol=1e-5)
    assert url_state(at)["x0"] == "1.25" and url_state(at)["n"] == "35" and "f" in url_state(at)
    assert tr.xs[0].tolist() == [1.25, -0.75]


def test_a_start_where_f_is_undefined_is_said_and_kept():
    at = open_section("2d", s="custom", f="log(x) + y**2", x0=-1.0, y0=0.5)
    assert any("not defined at the start (−1, 0.5)" in w.value or "not defined at the start (-1, 0.5)" in w.value
               for w in at.warning)
    assert (at.number_input(key="nw2_x0").value, at.number_input(key="nw2_y0").value) == (-1.0, 0.5)
    assert "nw2_fig" not in chart_keys(at)
    at.button(key="nw2_use_start").click().run(); no_exception(at)
    assert at.number_input(key="nw2_x0").value > 0 and chart(at, "nw2_fig")["data"]


def test_a_section_switch_keeps_every_value():
    at = open_section("2d", s="rosenbrock", x0=-1.0, y0=1.0, m2="lm", mu2=2.0, n=120)
    at.slider(key="nw2_k").set_value(3).run()
    at.button_group(key="nw_section").set_value("One dimension").run(); no_exception(at)
    at.slider(key="nw1_x0").set_value(-0.4).run()
    at.button_group(key="nw_section").set_value("Two dimensions").run(); no_exception(at)
    assert (at.selectbox(key="nw2_surface").value, at.number_input(key="nw2_x0").value,
            at.radio(key="nw2_variant").value, at.slider(key="nw2_mu").value, at.slider(key="nw2_steps").value,
            at.slider(key="nw2_k").value) == ("rosenbrock", -1.0, "lm", 2.0, 120, 3)
    at.button_group(key="nw_section").set_value("One dimension").run(); no_exception(at)
    assert at.slider(key="nw1_x0").value == -0.4
    at.button_group(key="nw_section").set_value("What it costs").run(); no_exception(at)
    assert at.selectbox(key="nw2_surface").value == "rosenbrock"             # one surface for every section


def test_link_values_outside_the_current_range_are_clamped_and_said():
    at = open_section("1d", fn="quartic", x=5.0)
    assert at.slider(key="nw1_x0").value == 2.4
    assert any("x₀ = 5 is outside this function's window [-2.4, 2.4]: 2.4 is used" in c.value for c in at.caption)
    at = open_section("2d", it=150)
    last = at.slider(key="nw2_k").value
    assert last < 150 and any(f"Iteration 150 does not exist" in c.value for c in at.caption)


@pytest.mark.parametrize("changes", [
    {"nw_section": "One dimension", "nw1_fun": "x4", "nw1_x0": 1.2, "nw1_variant": "lm", "nw1_mu": 1.5,
     "nw1_k": 2},
    {"nw_section": "Two dimensions", "nw2_surface": "rosenbrock", "nw2_x0": -1.0, "nw2_y0": 1.5,
     "nw2_variant": "pure", "nw2_steps": 30, "nw2_k": 2},
    {"nw_section": "Two dimensions", "nw2_surface": "quadratic", "nw2_p_quadratic_condition": 100.0,
     "nw2_p_quadratic_angle": 30.0, "nw2_variant": "lm", "nw2_delta_on": False, "nw2_mu": 3.0},
    {"nw_section": "What it costs", "nw2_surface": "booth", "nw3_n": 10},
    {"nw_section": "BFGS", "nw2_surface": "rosenbrock", "nw3_k": 4},
], ids=["1d", "2d", "2d-quadratic-lm", "cost", "bfgs"])
def test_state_round_trips(changes):
    roundtrip(PAGE, changes)


@pytest.mark.parametrize("sec", list(SECTIONS.values()))
def test_hostile_links(sec):
    fuzz_links(PAGE, nw.PAGE, section=sec, n=6)


def test_a_formula_from_a_link_is_checked_and_said():
    at = open_page(PAGE, {"sec": "2d", "s": "custom", "f": "__import__('os')"})
    no_exception(at)
    assert at.error and "cannot be used" in at.error[0].value and not link_warnings(at)
    assert at.text_input(key="nw2_formula").value == "__import__('os')"


# ----------------------------------------------------------------------------------------------
# Predict, commit, reveal, check
# ----------------------------------------------------------------------------------------------
def test_outcomes_are_hidden_until_commit_and_the_verdict_comes_from_the_run():
    at = open_section("2d")
    card = "optlab_setup_nw_saddle"
    at.button(key=card).click().run(); no_exception(at)
    assert at.radio(key="nw2_variant").value == "pure" and at.number_input(key="nw2_x0").value == 1.0
    t = texts(at)
    assert "reached ‖∇f‖" not in t and "saddle point** (!)" not in t            # no verdict yet
    assert "nw2_curves" not in chart_keys(at) and "nw2_fig" in chart_keys(at)     # the setup is drawn
    assert at.slider(key="nw2_k").disabled
    at.radio(key="optlab_pick_nw_saddle").set_value(1).run()
    at.button(key="optlab_commit_nw_saddle").click().run(); no_exception(at)
    assert any("Right" in s.value for s in at.success)
    assert "a **saddle point** (!)" in texts(at) and "nw2_curves" in chart_keys(at)
    # the verdict is computed from the run: another method, another answer
    v = nw.PAGE.current(at.session_state)
    assert nw.outcome_where_2d(v) == 1
    assert nw.outcome_where_2d({**v, "m2": "damped"}) == 0
    assert nw.outcome_where_2d({**v, "m2": "lm", "dl2": True, "d2": 1.0}) == 0


@pytest.mark.parametrize("q, changed, before, after", [
    ("Q_NEGATIVE", {"m": "damped"}, 1, 0),
    ("Q_FLAT", {"x": 0.9}, 1, 0),
    ("Q_X4", {"fn": "exp", "x": 2.5}, 1, 0),
    ("Q_KAPPA", {"m2": "lm", "mu2": 0.1, "dl2": False}, 0, 1),
    ("Q_LINESEARCH", {"m2": "lm", "mu2": 0.0, "dl2": True, "d2": 1.0}, 1, 0),
    ("Q_SINGULAR", {"m2": "damped"}, 1, 0),
    ("Q_GD", {"qk": 1.0}, 2, 0),
    ("Q_CROSSOVER", {"nd": 100}, 1, 0),
    ("Q_BFGS", {"s": "rosenbrock", "x0": -1.5, "y0": 2.0}, 0, 3),
])
def test_every_verdict_flips_when_the_run_changes(q, changed, before, after):
    question = getattr(nw, q)
    values = nw.PAGE.read({k: nw.state._as_text(nw.PAGE.by_url[k], v) for k, v in question.state.items()}).values
    assert question.outcome(values) == before
    assert question.outcome({**values, **changed}) == after


def test_the_gd_verdict_reads_the_comparison_the_page_draws(monkeypatch):
    """Q_GD's outcome comes from the race the cost section draws (the same gradient-descent search,
    with what is left of the rerun's budget), never from a second search with another budget."""
    values = nw.PAGE.read({k: nw.state._as_text(nw.PAGE.by_url[k], v) for k, v in nw.Q_GD.state.items()}).values
    entries, gd = nw.race(nw.surface_spec(nw.surface_of(values)), nw.start_of(values))
    assert nw.outcome_gd_steps(values) == 2 and entries[3].ending.at == gd.best_steps
    calls = []

    def fake_race(spec, x0):
        calls.append((spec, x0))
        return entries, qm.GDReference(gd.lrs, gd.converged_at, gd.diverged_at, gd.final_loss, gd.best_lr, 42,
                                       gd.steps, gd.tol, gd.best_x)

    monkeypatch.setattr(nw, "race", fake_race)
    assert nw.outcome_gd_steps(values) == 0 and calls == [(nw.surface_spec(nw.surface_of(values)), (-2.5, 1.5))]


def test_the_x4_factor_question_reads_two_thirds():
    values = nw.PAGE.read({k: nw.state._as_text(nw.PAGE.by_url[k], v) for k, v in nw.Q_X4_FACTOR.state.items()}).values
    assert nw.Q_X4_FACTOR.outcome(values) == pytest.approx(2 / 3, abs=1e-9)
    assert nw.Q_X4_FACTOR.right(0.67, 2 / 3) and not nw.Q_X4_FACTOR.right(0.5, 2 / 3)


def test_the_lesson_steps_open_with_their_question():
    lesson = nw.LESSON
    assert 3 <= len(lesson.steps) <= 10
    at = open_page(PAGE, {"lesson": "newton", "step": "6"})
    no_exception(at)
    assert not link_warnings(at)
    assert at.button_group(key="nw_section").value == "Two dimensions"
    assert at.number_input(key="nw2_x0").value == 1.0 and at.radio(key="nw2_variant").value == "pure"
    assert "nw2_curves" not in chart_keys(at)                                    # outcome hidden


@pytest.mark.parametrize("sec", list(SECTIONS))
def test_presenter_mode_shows_the_chart_without_the_cards(sec):
    at = open_page(PAGE, {"sec": sec, "present": "1"})
    no_exception(at)
    assert chart(at, CHARTS[sec][0])["data"]
    assert not [b for b in at.button if b.key and b.key.startswith("optlab_setup_")]
    assert not at.get("popover")                                  # no Copy link on a projector
    if sec == "bfgs":  # the run's key numbers, beside the chart: where it ended, when the estimate matched
        t = texts(at)
        assert "BFGS reached ‖∇f‖ ≤ 10⁻⁸ in " in t
        assert t.count("Within this run the estimate never came within 10⁻⁶ of the true Hessian") == 2  # + under it


# ----------------------------------------------------------------------------------------------
# Two languages
# ----------------------------------------------------------------------------------------------
# names (Levenberg, Marquardt, Armijo, Cholesky), units, and the matrix of ½dᵀMd
ALLOW = {"Levenberg", "Marquardt", "Levenberg–Marquardt", "Armijo", "Cholesky", "LM", "Md", "TB", "GB",
         "MB", "kB", "ns", "ms"}


@pytest.mark.parametrize("sec", list(SECTIONS))
def test_every_section_is_chinese(sec):
    from i18n_check import assert_chinese

    at = open_page(PAGE, {"sec": sec, "lang": "zh"})
    no_exception(at)
    from optlab import i18n

    i18n.activate("zh")
    at.run()
    assert_chinese(at, allow=ALLOW)
    if sec == "1d":
        at.radio(key="nw1_variant").set_value("lm").run()
        at.selectbox(key="nw1_fun").set_value("log_cosh").run()
        at.slider(key="nw1_x0").set_value(1.5).run()        # a divergence box too
    elif sec == "2d":
        at.radio(key="nw2_variant").set_value("pure").run()
        at.number_input(key="nw2_x0").set_value(1.0).run()
        at.selectbox(key="nw2_surface").set_value("custom").run()
        at.text_input(key="nw2_formula").input("x**2 + (y").run()   # the formula error
    elif sec == "cost":
        at.select_slider(key="nw3_n").set_value(2).run()
    else:
        at.slider(key="nw3_k").set_value(2).run()
    no_exception(at)
    assert_chinese(at, allow=ALLOW)


def test_switching_language_keeps_the_state():
    from i18n_check import open_in, switch_language

    at = open_in("en", PAGE)
    at.button_group(key="nw_section").set_value("Two dimensions").run()
    at.number_input(key="nw2_x0").set_value(1.0).run()
    at.radio(key="nw2_variant").set_value("lm").run()
    at.slider(key="nw2_mu").set_value(2.5).run()
    before = url_state(at)
    switch_language(at, "zh")
    no_exception(at)
    assert (at.number_input(key="nw2_x0").value, at.radio(key="nw2_variant").value, at.slider(key="nw2_mu").value) \
        == (1.0, "lm", 2.5)
    assert url_state(at) == before


# ----------------------------------------------------------------------------------------------
# Bounded work
# ----------------------------------------------------------------------------------------------
FORMULA_13 = "+".join(f"sin(x*{i})*cos(y*{i})" for i in range(1, 14))


@pytest.mark.parametrize("spec, x0", [(("rosenbrock", (("a", 1.0), ("b", 100.0))), (-1.5, 2.0)),
                                      (("goldstein_price", ()), (1.0, 1.6)),
                                      (("formula", FORMULA_13, ((-3.0, 3.0), (-3.0, 3.0))), (-2.25, -2.25))])
def test_the_comparison_stays_within_one_rerun_and_says_what_it_cut(spec, x0):
    from optlab.budget import RERUN

    entries, gd = nw.race(spec, x0)
    factor = 1.0 if spec[0] == "formula" else nw.BUILTIN_FACTOR
    newton_bfgs = sum(float(e.trajectory.work["cost"]) for e in entries if e.trajectory is not None)
    for e in entries:
        if e.trajectory is not None:
            assert e.trajectory.work["budget"] == RERUN * nw.RACE_SHARE * factor
    # gradient descent's search gets what is left of the comparison's share: never more than that in all
    assert nw.RACE_TOTAL <= 0.75
    assert nw.budget_for(spec, nw.RACE_TOTAL, newton_bfgs / factor).evals + newton_bfgs <= \
        RERUN * nw.RACE_TOTAL * factor + 1e-6
    text, _warn = nw.race_text(entries, gd)
    g = entries[3]
    if spec[0] == "rosenbrock":
        assert g.ending.status == "cut" and gd.cut_at > 0
        assert f"after {gd.cut_at:,} steps, where the search stopped: more work than this page computes" in text
        assert nw.bar_rows(entries)[3][4] == f"stopped at {gd.cut_at:,}: work limit"
    # deterministic: the same request is cut at the same step
    nw.gd_reference.clear()
    again, gd2 = nw.race(spec, x0)
    assert gd2.cut_at == gd.cut_at and gd2.best_steps == gd.best_steps


def test_a_cut_2d_run_is_said():
    end = qm.Ending("cut", 57, 200, "saddle", np.array([0.1, 0.2]), 1.0, 0.5)
    t = nw.summary_caption(end, "N")
    assert t.startswith("N was stopped after 57 steps: more work than this page computes in one go.")
    assert "saddle" not in t                                      # not a stationary point: no kind claimed


def test_the_bfgs_section_says_a_cut_and_names_a_divergence():
    # |x| + |y|: no gradient ever reaches the tolerance, the line search keeps failing, the work limit stops it
    at = open_section("bfgs", s="custom", f="abs(x)+abs(y)", x0=1.3, y0=0.7)
    t = texts(at)
    assert "BFGS was stopped after " in t and "more work than this page computes in one go" in t
    last = int([s for s in at.slider if s.key == "nw3_k"][0].max)
    assert last < nw.BFGS_STEPS and f"stopped after {last + 1:,} steps" in t   # the iterates end at the cut
    # a slope with no minimum: BFGS leaves the region, and the shared box names it
    at = open_section("bfgs", s="custom", f="100*x + sin(y)", x0=1.3, y0=0.7)
    assert any(w.value.startswith("**BFGS diverged at step") for w in at.warning), texts(at)
    assert "was stopped after" not in texts(at)


def test_line_search_tries_above_the_window_are_drawn_inside_it(plotly_array):
    from optlab.figures import newton as fig

    h = surfaces.get("himmelblau")
    tr = qm.run_method(h, "newton", qm.newton_variant("damped"), (0.0, 0.0), 5, 1e-8)
    trace = qm.line_search_trace(h, tr.xs[0], tr.states["direction"][0], 1.0, 1e-4, 0.5, 30)
    d = fig.line_search(trace).to_dict()
    lo, hi = d["layout"]["yaxis"]["range"]
    rejected = next(t for t in d["data"] if t.get("name") == "rejected try")
    ys = plotly_array(rejected["y"]).astype(float)
    vals = np.asarray(trace.values, float)[np.arange(len(trace.steps)) != trace.accepted]
    assert (vals > hi).any()                                     # this run has tries far above the window
    assert np.all((lo <= ys) & (ys < hi))                        # every marker inside the frame, none cut
    assert [s == "triangle-up" for s in rejected["marker"]["symbol"]] == list(vals > hi)


def test_the_explanations_are_true_for_their_setups():
    """"What to look for" is shown after Commit, at the question's setup: each claim it makes there."""
    h = surfaces.get("himmelblau")
    # Q_NEGATIVE: pure Newton climbs to the maximum; damped ends in a valley
    res = qm.newton_1d("quartic", 0.5, 12)
    assert qm.ending_1d(qm.get_1d("quartic"), res).kind == "maximum" and res.kind[0] == "maximum"
    res = qm.newton_1d("quartic", 0.5, 12, **qm.newton_variant("damped"))
    assert qm.ending_1d(qm.get_1d("quartic"), res).kind == "minimum"
    # Q_FLAT: damped converges from every start in the window
    for x0 in np.linspace(*qm.get_1d("log_cosh").window, 17):
        assert qm.newton_1d("log_cosh", x0, 40, **qm.newton_variant("damped")).converged_at >= 0
    # Q_SADDLE: the model is a saddle at every iterate; damped escapes to a minimum
    tr = qm.run_method(h, "newton", qm.newton_variant("pure"), (1.0, 2.5), 50, 1e-8)
    assert {qm.local_model(h, x).kind for x in tr.xs[: tr.converged_at + 1]} == {"saddle"}
    tr = qm.run_method(h, "newton", qm.newton_variant("damped"), (1.0, 2.5), 50, 1e-8)
    assert qm.ending(h, tr).kind == "minimum"
    # Q_LINESEARCH: every step passes the Armijo test at s = 1, the Newton direction goes downhill, the model
    # stays a saddle
    tr = qm.run_method(h, "newton", qm.newton_variant("damped"), (-0.5, 2.5), 50, 1e-8)
    n = tr.converged_at
    assert np.all(tr.states["n_backtracks"][:n] == 0) and np.all(tr.states["step_length"][:n] == 1.0)
    assert all(qm.local_model(h, x).descent and qm.local_model(h, x).kind == "saddle" for x in tr.xs[:n])
    # Q_LM: μ drops to 0 near the minimum, whose Hessian has eigenvalues above δ = 1
    tr = qm.run_method(h, "newton", qm.newton_variant("lm", damping=0.0, min_curvature=1.0), (-0.5, 2.5), 50, 1e-8)
    assert tr.states["damping_used"][tr.converged_at - 1, 0] == 0
    assert np.linalg.eigvalsh(h.hessian(tr.xs[tr.converged_at][None]))[0].min() > 1
    # Q_SINGULAR: damped Newton falls back to −∇f (and gets there)
    f = surfaces.from_formula("(x - 1)**2")
    tr = qm.run_method(f, "newton", qm.newton_variant("damped"), (-1.5, 1.5), 50, 1e-8)
    np.testing.assert_allclose(tr.states["direction"][0], -f.grad(np.array([[-1.5, 1.5]]))[0])
    # Q_GD: the best learning rate's factor on the flat direction is about 1 − 2/(κ + 1), and "about a thousand"
    q = surfaces.get("quadratic", condition=100.0, angle=30.0)
    gd = qm.best_gd(q, np.array([-2.5, 1.5]), 20_000, 1e-8)
    assert 900 <= gd.best_steps <= 1500 and abs((1 - gd.best_lr) - (1 - 2 / 101)) < 0.01
    # Q_CROSSOVER: the numbers it quotes
    by = {r.name: r.total for r in qm.cost_table(10)}
    assert round(by["newton"]) == 663 and by["bfgs"] == 830 and qm.cost_crossover() == 15
    assert 35_000 < qm.cost_verdict(10**6).factor < 45_000
