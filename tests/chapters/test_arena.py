"""The arena's pure logic (optlab/chapters/arena.py): racers and their labels, runs within the
work budget, results, the verdicts the captions and questions are chosen by (over grids, ties and
divergence included), auto-tune, exports."""
from __future__ import annotations

import csv
import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import optlab
from optlab.chapters import arena

REPO = Path(__file__).resolve().parents[2]


def runs(surface, racers, start, steps, budget=None):
    return [arena.racer_run(surface, r, start, steps, budget) for r in racers]


# ----------------------------------------------------------------------------------------------
# Declarations and racers
# ----------------------------------------------------------------------------------------------
def test_non_defaults_keeps_only_changes():
    full = optlab.optimizers.make("adam", lr=0.05, betas=(0.9, 0.99)).hyper
    assert arena.non_defaults("adam", full) == {"lr": 0.05, "betas": (0.9, 0.99)}
    assert arena.non_defaults("sgd", optlab.optimizers.make("sgd").hyper) == {}


def test_every_offered_hyperparameter_is_inside_the_engines_range_and_lr_uses_the_apps_range():
    for name in optlab.optimizers.names():
        for h in arena.hyper_specs(name):
            assert h.name not in arena.HIDDEN
            for num in h.numbers:
                assert num.lo <= (num.default if h.kind != "betas" else num.default) <= num.hi
            if h.name == "lr" and not arena.is_second_order(name):
                assert (h.numbers[0].lo, h.numbers[0].hi) == (optlab.specs.LR_MIN, optlab.specs.LR_MAX)
    bfgs = arena.hyper_spec("bfgs", "max_backtracks").numbers[0]
    assert bfgs.integer and bfgs.hi == 60


def test_two_runners_of_one_optimizer_have_different_labels_everywhere():
    racers = (arena.Racer.of("sgd", {"lr": 0.01}), arena.Racer.of("sgd", {"lr": 0.01, "momentum": 0.9}),
              arena.Racer.of("sgd", {"lr": 0.01}), arena.Racer.of("newton"))
    labels = arena.racer_labels(racers)
    assert len(set(labels)) == 4
    assert labels[0] == "SGD (lr = 0.01)" and labels[1] == "SGD (lr = 0.01, momentum = 0.9)"
    assert labels[2] == "SGD (lr = 0.01) #2"
    assert "lr" not in labels[3]  # Newton has no learning rate: no "(lr = 1)"


def test_race_text_round_trips_through_racer_of():
    racers = (arena.Racer.of("adam", {"lr": 0.05, "betas": (0.8, 0.99), "amsgrad": True}),
              arena.Racer.of("newton", {"line_search": True}), arena.Racer.of("sgd"))
    text = arena.race_text(racers)
    assert text == "adam:amsgrad=1,betas=0.8/0.99,lr=0.05;newton:line_search=1;sgd"


# ----------------------------------------------------------------------------------------------
# Runs shorter than asked for
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, hyper", [("adam", {"lr": 0.05}), ("sgd", {"lr": 0.001, "momentum": 0.9}),
                                         ("sgd", {"lr": 5.0}), ("newton", {})])
def test_truncate_equals_the_shorter_run(name, hyper):
    s = optlab.surfaces.get("rosenbrock")
    long = optlab.run(s, optlab.optimizers.make(name, **hyper), [-1.5, 2], 500, record="path")
    for n in (1, 37, 300, 500):
        short = optlab.run(s, optlab.optimizers.make(name, **hyper), [-1.5, 2], n, record="path")
        cut = arena.truncate(long, n)
        for f in ("xs", "losses", "grad_norms", "final_x"):
            np.testing.assert_array_equal(getattr(cut, f), getattr(short, f), err_msg=f"{f} at n={n}")
        assert cut.diverged_at == short.diverged_at
    assert [arena.step_bucket(k) for k in (1, 50, 51, 300, 2000)] == [50, 50, 100, 500, 2000]


def _cpu(fn):
    import time

    t = time.process_time()
    out = fn()
    return out, time.process_time() - t


@pytest.mark.parametrize("surface, racer, start", [
    ("goldstein_price", "bfgs", (-1.5, 1.5)), ("beale", "newton", (1.0, 1.5))])
def test_issue_11_worst_races_stay_within_the_budget_and_say_where_they_were_cut(surface, racer, start):
    hyper = {"c1": 0.5, "shrink": 0.9, "max_backtracks": 60}
    if racer == "newton":
        hyper["line_search"] = True
    r = arena.Racer.of(racer, hyper)
    spec = arena.surface_spec_of(surface)
    s = arena.build_surface(spec)
    budget = arena.race_budget(spec, 8)
    trs, cpu = _cpu(lambda: runs(s, [r] * 8, start, 2000, budget))
    assert cpu < 1.5, f"8 runs cost {cpu:.2f} s of CPU"  # ≤ 1 s on an idle machine; bench/ has the figure
    cut = [arena.cut_at(t, 2000) for t in trs]
    done = [arena.steps_done(t) for t in trs]
    for c, d, t in zip(cut, done, trs):
        # either the run ended by itself (stopped, diverged) or the budget's cut is where it ends
        assert c is None and (t.stopped_at >= 0 or t.diverged_at >= 0 or d == 2000) or c == d


def test_cut_at_names_only_budget_cuts():
    s = optlab.surfaces.get("quadratic", condition=10)
    spec = arena.surface_spec_of("quadratic", (("condition", 10.0),))
    tiny = arena.race_budget(spec, 200)
    long = arena.racer_run(s, arena.Racer.of("sgd", {"lr": 0.01}), (-2.5, 1.5), 2000, tiny)
    assert arena.cut_at(long, 2000) is not None and arena.cut_at(long, 2000) == arena.steps_done(long) < 2000
    # a diverged run ends where it blew up: no cut
    bad = arena.racer_run(s, arena.Racer.of("sgd", {"lr": 0.25}), (-2.5, 1.5), 300)
    assert bad.diverged_at >= 0 and arena.cut_at(bad, 300) is None


# ----------------------------------------------------------------------------------------------
# Results and the race's verdict
# ----------------------------------------------------------------------------------------------
def test_results_rows_match_the_runs():
    s = optlab.surfaces.get("quadratic", condition=10)
    good, bad = runs(s, [arena.Racer.of("sgd", {"lr": 0.15}), arena.Racer.of("sgd", {"lr": 0.25})], (-2.5, 1.5), 60)
    rows = arena.results_rows(s, [good, bad], ["a", "b"], 60)
    k = rows[0]["steps to tolerance"]
    assert good.losses[k] <= 1e-4 < good.losses[k - 1]
    assert rows[0]["final loss"] == pytest.approx(good.final_loss)
    assert rows[0]["distance to nearest minimum"] == pytest.approx(np.linalg.norm(good.final_x))
    assert rows[1]["diverged at step"] == bad.diverged_at > 0
    assert rows[1]["final loss"] is None and rows[1]["final x"] is None and rows[1]["steps to tolerance"] is None


def _lr_grid_runs(lrs, steps=60):
    s = optlab.surfaces.get("quadratic", condition=10)
    return s, runs(s, [arena.Racer.of("sgd", {"lr": lr}) for lr in lrs], (-2.5, 1.5), steps)


@pytest.mark.parametrize("lrs", [(0.15, 0.25), (0.01, 0.15), (0.15, 0.15), (0.25, 0.3), (0.001, 0.002),
                                 (0.19, 0.05), (1e-6, 10.0)])
def test_race_verdict_over_a_grid(lrs):
    s, trs = _lr_grid_runs(lrs)
    v = arena.race_verdict(s, trs, 60)
    reach = [optlab.sweeps.steps_to_tolerance(s, t, arena.TOL) for t in trs]
    div = [t.diverged_at >= 0 for t in trs]
    if all(div):
        assert v.code == "all_diverged"
    elif any(k >= 0 for k in reach):
        assert v.code == "reached"
        k0 = min(k for k in reach if k >= 0)
        assert v.step == k0 and set(v.first) == {i for i, k in enumerate(reach) if k == k0}
        assert set(v.later) == {i for i, k in enumerate(reach) if k > k0}
    else:
        assert v.code == "closest"
        gaps = [math.inf if d else float(t.final_loss) for t, d in zip(trs, div)]
        assert all(gaps[i] == min(gaps) for i in v.first)
        assert not any(div[i] for i in v.first)
    if lrs[0] == lrs[1]:
        assert len(v.first) == 2  # a tie names both


def test_race_verdict_without_a_known_minimum_is_lowest():
    s = optlab.surfaces.get("saddle")
    trs = runs(s, [arena.Racer.of("sgd", {"lr": 0.01}), arena.Racer.of("adam", {"lr": 0.1})], (-1.0, 0.5), 50)
    v = arena.race_verdict(s, trs, 50)
    assert s.min_value is None and v.code == "lowest"
    assert v.gap == min(float(t.final_loss) for t in trs)
    assert arena.race_verdict(s, [], 100).code == "none"


# ----------------------------------------------------------------------------------------------
# The questions' verdicts: computed from the run, and they flip when the run changes
# ----------------------------------------------------------------------------------------------
def test_verdict_converges_flips_with_the_learning_rate():
    s, trs = _lr_grid_runs((0.15, 0.25))
    assert arena.verdict_converges(s, trs) == 0
    assert arena.verdict_converges(s, _lr_grid_runs((0.25, 0.15))[1]) == 1
    assert arena.verdict_converges(s, _lr_grid_runs((0.15, 0.1))[1]) == 2
    assert arena.verdict_converges(s, _lr_grid_runs((0.25, 0.3))[1]) == 3
    assert arena.verdict_converges(s, trs[:1]) is None


def test_verdict_lower_final_momentum_and_ties():
    s = optlab.surfaces.get("quadratic", condition=25, angle=30)
    plain, heavy = runs(s, [arena.Racer.of("sgd", {"lr": 0.03}), arena.Racer.of("sgd", {"lr": 0.03, "momentum": 0.95})],
                        (-2.5, 1.5), 120)
    v = arena.verdict_lower_final(s, [plain, heavy])
    assert v == (0 if plain.final_loss < heavy.final_loss else 1)
    assert arena.verdict_lower_final(s, [plain, plain]) is None  # a tie
    mild = runs(s, [arena.Racer.of("sgd", {"lr": 0.03, "momentum": 0.5})], (-2.5, 1.5), 120)[0]
    assert arena.verdict_lower_final(s, [plain, mild]) != v or mild.final_loss < plain.final_loss
    s2, both = _lr_grid_runs((0.25, 0.3))
    assert arena.verdict_lower_final(s2, both) is None  # both diverged


def test_verdict_closest_and_escape_and_valleys_read_the_runs():
    rb = optlab.surfaces.get("rosenbrock")
    racers = [arena.Racer.of("sgd", {"lr": 1e-3}), arena.Racer.of("sgd", {"lr": 5e-4, "momentum": 0.9}),
              arena.Racer.of("adam", {"lr": 0.05})]
    trs = runs(rb, racers, (-1.5, 2.0), 500)
    d = [rb.distance_to_minimum(t.final_x) for t in trs]
    assert arena.verdict_closest(rb, trs) == int(np.argmin(d))
    assert arena.verdict_closest(rb, [trs[0], trs[0]]) is None

    sd = optlab.surfaces.get("saddle")
    trs = runs(sd, [arena.Racer.of("sgd", {"lr": 0.05}), arena.Racer.of("adam", {"lr": 0.05}),
                    arena.Racer.of("newton")], (-1.8, 0.01), 80)
    ks = [arena.escape_step(sd, t) for t in trs]
    hit = [k for k in ks if k >= 0]
    assert arena.verdict_escape(sd, trs) == (ks.index(min(hit)) if hit else 3)
    assert arena.verdict_escape(sd, trs[2:]) == 1  # Newton alone never escapes: "none of them"

    hb = optlab.surfaces.get("himmelblau")
    trs = runs(hb, [arena.Racer.of("sgd", {"lr": 0.01}), arena.Racer.of("adam", {"lr": 0.1}),
                    arena.Racer.of("rmsprop", {"lr": 0.02})], (-0.3, -0.9), 300)
    b = [arena.basin(hb, t) for t in trs]
    v = arena.verdict_valleys(hb, trs)
    assert v == (None if min(b) < 0 else 0 if len(set(b)) == 1 else 2 if len(set(b)) == 3 else 1)
    assert arena.verdict_valleys(hb, [trs[0], trs[0]]) == 0


# ----------------------------------------------------------------------------------------------
# Auto-tune
# ----------------------------------------------------------------------------------------------
def test_tune_within_budget_and_tune_verdict_codes():
    s = optlab.surfaces.get("quadratic", condition=10)
    spec = arena.surface_spec_of("quadratic", (("condition", 10.0),))
    r = arena.Racer.of("sgd", {"lr": 0.001})
    res, cpu = _cpu(lambda: arena.tune(s, r, (-2.5, 1.5), 200, arena.race_budget(spec, 1, 0.6)))
    assert optlab.specs.LR_MIN <= res["lr"] <= optlab.specs.LR_MAX and res["grid"] >= 2
    d, t = runs(s, [arena.tuned(r, None), arena.tuned(r, res["lr"])], (-2.5, 1.5), 200)
    code = arena.tune_verdict(s, d, t, 200)
    kd, kt = (optlab.sweeps.steps_to_tolerance(s, x, arena.TOL) for x in (d, t))
    assert code == ("faster" if 0 <= kt < kd else "only_tuned" if kt >= 0 > kd else code)
    assert arena.tune_verdict(s, d, d, 200) == "same"
    b1, b2 = runs(s, [arena.Racer.of("sgd", {"lr": 0.3}), arena.Racer.of("sgd", {"lr": 0.4})], (-2.5, 1.5), 200)
    assert arena.tune_verdict(s, b1, b2, 200) == "both_diverged"
    with pytest.raises(ValueError):
        arena.tune(s, arena.Racer.of("newton"), (-2.5, 1.5), 50)


# ----------------------------------------------------------------------------------------------
# Exports
# ----------------------------------------------------------------------------------------------
def test_csv_export_columns_and_values():
    s = optlab.surfaces.get("rosenbrock")
    trs = runs(s, [arena.Racer.of("adam", {"lr": 0.05}), arena.Racer.of("adam", {"lr": 0.05})], (-1.5, 2), 20)
    rows = list(csv.DictReader(io.StringIO(arena.trajectories_csv(trs, ["Adam", "Adam #2"]))))
    assert list(rows[0]) == ["optimizer", "label", "step", "x", "y", "loss", "grad_norm"]
    assert len(rows) == 2 * 21 and {r["label"] for r in rows} == {"Adam", "Adam #2"}
    np.testing.assert_array_equal([float(r["x"]) for r in rows[:21]], trs[0].xs[:, 0])


def test_python_snippet_keeps_every_runner_and_reproduces_the_race(tmp_path):
    race = arena.Race(arena.surface_spec_of("quadratic", (("angle", 30.0), ("condition", 25.0))), (-2.5, 1.5), 60,
                      (arena.Racer.of("sgd", {"lr": 0.03}), arena.Racer.of("sgd", {"lr": 0.03, "momentum": 0.9}),
                       arena.Racer.of("sgd", {"lr": 0.03}), arena.Racer.of("newton", {"line_search": True})))
    code = arena.python_snippet(race) + (
        "\nimport json\nprint('RESULT', json.dumps({n: [float(v) for v in tr.final_x] for n, tr in runs.items()}))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)},
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.split("RESULT", 1)[1])
    assert list(got) == race.labels()  # 4 runners, 4 results (two plain SGDs stay two)
    s = arena.build_surface(race.surface)
    for r, label in zip(race.racers, race.labels()):
        np.testing.assert_array_equal(got[label], optlab.run(s, r.make(), list(race.start), race.steps).final_x)


def test_steps_run_counts_a_stopped_or_diverged_run_to_where_it_ended():
    s = optlab.surfaces.get("quadratic")
    newton, bad = runs(s, [arena.Racer.of("newton"), arena.Racer.of("sgd", {"lr": 0.25})], (-2.5, 1.5), 100)
    assert arena.steps_done(arena.truncate(newton, 60)) == newton.stopped_at < 60
    rows = arena.results_rows(s, [newton, bad], ["n", "b"], 100)
    assert rows[0]["steps run"] == newton.stopped_at and rows[1]["steps run"] == bad.diverged_at


def test_loss_charts_label_at_most_six_decades():
    from optlab import figures
    from optlab.figures import arena as fig

    s = optlab.surfaces.get("quadratic")
    trs = runs(s, [arena.Racer.of("sgd", {"lr": 0.15}), arena.Racer.of("sgd", {"lr": 0.25}), arena.Racer.of("newton")],
               (-2.5, 1.5), 60)
    f = fig.decades(figures.loss_curves(trs, gap_to=0.0))
    lo, hi = -16, 8  # the floor 1e-16 and the diverged run's last finite loss
    assert (hi - lo) / f.layout.yaxis.dtick <= fig.MAX_DECADE_TICKS
    assert fig.decade_step([[1.0, 10.0, 100.0]]) == 1 and fig.decade_step([[]]) == 1
