"""The arena's pure logic (optlab/chapters/arena.py): links, defensive decoding, results, exports, presets."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hst

import optlab
from optlab.chapters import arena

REPO = Path(__file__).resolve().parents[1]
FORMULAS = ["x**2 + 3*y**2", "(1 - x)**2 + 5*(y - x**2)**2", "sin(x) + cos(y) + 0.1*(x**2 + y**2)"]
SURFACE_PARAMS = {  # values each parametrised surface accepts
    "quadratic": {"condition": hst.floats(1, 1000), "angle": hst.floats(0, 90)},
    "rosenbrock": {"a": hst.floats(-2, 2), "b": hst.floats(1, 1000)},
    "rastrigin": {"A": hst.floats(0, 20)},
    "cliff": {"h": hst.floats(0.5, 10), "s": hst.floats(1, 500)},
}


@hst.composite
def racers(draw):
    name = draw(hst.sampled_from(optlab.optimizers.names()))
    info = optlab.optimizers.info(name)
    hyper = {}
    for h in info.hyper:
        if h.name in arena.HIDDEN or not draw(hst.booleans()):
            continue
        if h.kind == "bool":
            hyper[h.name] = draw(hst.booleans())
        elif h.kind == "betas":
            hyper[h.name] = (draw(hst.floats(0, 0.99)), draw(hst.floats(0, 0.9999)))
        elif isinstance(h.default, int) and not isinstance(h.default, bool):
            hyper[h.name] = draw(hst.integers(int(h.low), int(h.high)))
        elif h.default is None:
            hyper[h.name] = draw(hst.one_of(hst.none(), hst.floats(h.low or 0.0, h.high or 1.0)))
        else:
            lo, hi = (h.low or 0.0), (h.high if h.high is not None else 1.0)
            hyper[h.name] = draw(hst.floats(max(lo, 1e-9) if h.log else lo, hi))
    try:
        optlab.optimizers.make(name, **hyper)
    except ValueError:  # e.g. Nesterov without momentum: not a scenario the page can produce
        hyper = {k: v for k, v in hyper.items() if k != "nesterov"}
        optlab.optimizers.make(name, **hyper)
    return arena.Racer(name, hyper)


@hst.composite
def scenarios(draw):
    name = draw(hst.sampled_from(optlab.surfaces.names() + ["custom"]))
    sc = arena.Scenario(surface=name)
    if name == "custom":
        sc.formula = draw(hst.sampled_from(FORMULAS))
    elif name in SURFACE_PARAMS:
        for k, strat in SURFACE_PARAMS[name].items():
            if draw(hst.booleans()):
                sc.surface_params[k] = draw(strat)
    if draw(hst.booleans()):
        sc.start = (draw(hst.floats(-1e5, 1e5)), draw(hst.floats(-1e5, 1e5)))
    sc.steps = draw(hst.integers(1, arena.MAX_STEPS))
    sc.racers = draw(hst.lists(racers(), min_size=1, max_size=arena.MAX_OPTIMIZERS))
    return sc


def through_url(q: dict[str, str]) -> dict[str, list[str]]:
    """What a browser hands back after the query string went through a real URL."""
    return parse_qs(urlencode(q), keep_blank_values=True)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_link_round_trip_restores_the_scenario_exactly(sc):
    back, warnings = arena.decode(through_url(arena.encode(sc)))
    assert warnings == []
    assert back == sc


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_canonical_link_drops_defaults_but_not_meaning(sc):
    c = arena.canonical(sc)
    assert arena.canonical(c) == c
    assert arena.decode(through_url(arena.encode(c)))[0] == c
    for r, rc in zip(sc.racers, c.racers):
        assert r.make().hyper == rc.make().hyper  # the same optimizer, hyperparameter for hyperparameter
        assert all(v != optlab.optimizers.info(r.name).defaults[k] for k, v in rc.hyper.items())
    if sc.surface != "custom":
        assert sc.build_surface().params == c.build_surface().params


@settings(max_examples=200, deadline=None)
@given(hst.dictionaries(hst.sampled_from(["s", "p", "f", "x", "n", "o", "zz"]),
                        hst.one_of(hst.text(max_size=60), hst.lists(hst.text(max_size=20), max_size=3))))
def test_garbage_links_give_a_working_scenario(params):
    sc, warnings = arena.decode(params)  # must not raise
    assert all(isinstance(w, str) and w for w in warnings)
    assert 1 <= sc.steps <= arena.MAX_STEPS
    assert 1 <= len(sc.racers) <= arena.MAX_OPTIMIZERS
    for r in sc.racers:
        r.make()
    if sc.surface != "custom":
        sc.build_surface()


@pytest.mark.parametrize("params, expect", [
    ({"s": "nonsense"}, "unknown surface 'nonsense'"),
    ({"x": "1;2"}, "start point"),
    ({"x": "nan,1"}, "start point"),
    ({"n": "0"}, "steps"),
    ({"n": "1e9"}, "steps"),
    ({"o": "adam:lr=-1"}, "Adam: Invalid learning rate"),
    ({"o": "adam:betas=0.9"}, "value '0.9' for betas"),
    ({"o": "sgd:nesterov=1"}, "Nesterov momentum requires"),
    ({"o": "lbfgs"}, "unknown optimizer 'lbfgs'"),
    ({"o": "adam:foo=1"}, "unknown hyperparameter 'foo'"),
    ({"s": "quadratic", "p": "condition=-3"}, "surface parameters rejected"),
    ({"s": "quadratic", "p": "kappa=3"}, "surface parameter 'kappa' ignored"),
    ({"s": "custom"}, "without a usable formula"),
])
def test_each_bad_part_is_named_and_replaced(params, expect):
    sc, warnings = arena.decode(params)
    assert any(expect in w for w in warnings), warnings
    defaults = arena.Scenario()
    if "o" in params and "lbfgs" not in params["o"]:
        assert all(r.hyper == {} for r in sc.racers)  # the rejected values fell back to torch's defaults
    if "n" in params:
        assert sc.steps == defaults.steps


def test_encoding_is_compact_and_readable():
    sc = arena.Scenario(surface="rosenbrock", start=(-1.5, 2.0), steps=200,
                        racers=[arena.Racer("adam", {"lr": 0.05}), arena.Racer("sgd", {"lr": 0.001, "momentum": 0.9})])
    assert arena.encode(sc) == {"s": "rosenbrock", "x": "-1.5,2", "n": "200",
                                "o": "adam:lr=0.05;sgd:lr=0.001,momentum=0.9"}


def test_non_defaults_keeps_only_changes():
    full = optlab.optimizers.make("adam", lr=0.05, betas=(0.9, 0.99)).hyper
    assert arena.non_defaults("adam", full) == {"lr": 0.05, "betas": (0.9, 0.99)}
    assert arena.non_defaults("sgd", optlab.optimizers.make("sgd").hyper) == {}


def test_results_rows_match_the_runs():
    s = optlab.surfaces.get("quadratic", condition=10)
    good = optlab.run(s, optlab.optimizers.make("sgd", lr=0.15), [-2.5, 1.5], 60, record="path")
    bad = optlab.run(s, optlab.optimizers.make("sgd", lr=0.25), [-2.5, 1.5], 60, record="path")
    rows = arena.results_rows(s, [good, bad], tol=1e-4)
    col = "steps to f − f* ≤ 0.0001"
    k = rows[0][col]
    assert good.losses[k] <= 1e-4 < good.losses[k - 1]  # the first step within tolerance
    assert rows[0]["final loss"] == pytest.approx(good.final_loss)
    assert rows[0]["distance to nearest minimum"] == pytest.approx(np.linalg.norm(good.final_x))
    assert rows[0]["diverged at step"] is None
    assert rows[1]["diverged at step"] == bad.diverged_at > 0
    assert rows[1][col] is None and np.isnan(rows[1]["final loss"])
    assert rows[0]["hyperparameters"] == "lr = 0.15"


def test_csv_export_columns_and_values():
    s = optlab.surfaces.get("rosenbrock")
    trs = [optlab.run(s, optlab.optimizers.make("adam", lr=0.05), [-1.5, 2], 20, record="path"),
           optlab.run(s, optlab.optimizers.make("sgd", lr=5.0), [-1.5, 2], 20, record="path")]
    rows = list(csv.DictReader(io.StringIO(arena.trajectories_csv(trs))))
    assert list(rows[0]) == ["optimizer", "label", "step", "x", "y", "loss", "grad_norm"]
    assert len(rows) == 2 * 21
    adam = [r for r in rows if r["optimizer"] == "adam"]
    np.testing.assert_array_equal([float(r["x"]) for r in adam], trs[0].xs[:, 0])  # exact (repr)
    np.testing.assert_array_equal([float(r["loss"]) for r in adam], trs[0].losses)
    sgd = [r for r in rows if r["optimizer"] == "sgd"]
    assert sgd[-1]["x"] == "nan"  # after the divergence


@pytest.mark.parametrize("sc", [
    arena.Scenario(surface="quadratic", surface_params={"condition": 25.0, "angle": 30.0}, start=(-2.5, 1.5),
                   steps=120, racers=[arena.Racer("sgd", {"lr": 0.03, "momentum": 0.95}),
                                      arena.Racer("adam", {"lr": 0.05, "betas": (0.8, 0.99)}),
                                      arena.Racer("newton", {"line_search": True})]),
    arena.Scenario(surface="custom", formula="(1 - x)**2 + 5*(y - x**2)**2", start=(-1.0, 1.5), steps=50,
                   racers=[arena.Racer("rmsprop", {"lr": 0.01}), arena.Racer("bfgs")]),
], ids=["quadratic", "formula"])
def test_python_snippet_runs_and_reproduces_the_race(sc, tmp_path):
    code = arena.python_snippet(sc) + "\nimport json\nprint('RESULT', json.dumps({n: [float(v) for v in tr.final_x] for n, tr in runs.items()}))\n"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.split("RESULT", 1)[1])
    s = sc.build_surface()
    for r in sc.racers:
        tr = optlab.run(s, r.make(), sc.start_point(s), sc.steps)
        np.testing.assert_array_equal(got[r.name], tr.final_x)


@pytest.mark.parametrize("name, hyper", [("adam", {"lr": 0.05}), ("sgd", {"lr": 0.001, "momentum": 0.9}),
                                         ("sgd", {"lr": 5.0}), ("newton", {}), ("adagrad", {"lr": 0.3})])
def test_truncate_equals_the_shorter_run(name, hyper):
    s = optlab.surfaces.get("rosenbrock")
    long = optlab.run(s, optlab.optimizers.make(name, **hyper), [-1.5, 2], 500, record="path")
    for n in (1, 2, 37, 300, 500):
        short = optlab.run(s, optlab.optimizers.make(name, **hyper), [-1.5, 2], n, record="path")
        cut = arena.truncate(long, n)
        for f in ("xs", "losses", "grad_norms", "lrs", "final_x"):
            np.testing.assert_array_equal(getattr(cut, f), getattr(short, f), err_msg=f"{f} at n={n}")
        for f in ("diverged_at", "converged_at", "reached_at", "steps"):
            assert getattr(cut, f) == getattr(short, f), (f, n)
        assert cut.final_loss == short.final_loss or (np.isnan(cut.final_loss) and np.isnan(short.final_loss))
        assert cut.best_loss == short.best_loss or (np.isnan(cut.best_loss) and np.isnan(short.best_loss))
    assert [arena.step_bucket(k) for k in (1, 50, 51, 300, 2000)] == [50, 50, 100, 500, 2000]


# ----------------------------------------------------------------------------------------------
# Presets: each one decodes cleanly, and what it tells the class is what happens
# ----------------------------------------------------------------------------------------------
def preset_runs(key):
    p = arena.preset(key)
    sc, warnings = arena.decode(p.params)
    assert warnings == []
    s = sc.build_surface()
    return s, [optlab.run(s, r.make(), sc.start_point(s), sc.steps, record="path") for r in sc.racers]


def test_presets_are_complete():
    assert {"momentum_overshoots", "adam_vs_sgd_rosenbrock", "saddle_escape"} <= {p.key for p in arena.PRESETS}
    for p in arena.PRESETS:
        assert p.question.endswith("?") and p.look_for
        assert arena.encode(p.scenario()) == arena.encode(arena.decode(arena.encode(p.scenario()))[0])


def test_preset_momentum_overshoots():
    _, (sgd, mom) = preset_runs("momentum_overshoots")
    assert np.all(np.diff(sgd.losses) <= 0)  # plain GD: the loss only goes down
    assert np.any(np.diff(mom.losses) > 0)  # heavy momentum: up and down
    assert mom.final_loss > sgd.final_loss


def test_preset_adam_vs_sgd_on_rosenbrock():
    _, (sgd, mom, adam) = preset_runs("adam_vs_sgd_rosenbrock")
    assert sgd.final_loss > 10 * max(mom.final_loss, adam.final_loss)


def test_preset_saddle_escape():
    s, (sgd, adam, newton) = preset_runs("saddle_escape")
    np.testing.assert_allclose(newton.final_x, s.saddles[0], atol=1e-12)  # Newton sits on the saddle
    assert abs(adam.xs[20, 1]) > abs(sgd.xs[20, 1])  # Adam leaves first …
    assert abs(sgd.xs[-1, 1]) > abs(adam.xs[-1, 1])  # … exponential SGD overtakes later


def test_preset_too_large_lr():
    _, (small, large) = preset_runs("too_large_lr")
    assert small.diverged_at < 0 and small.final_loss < 1e-6
    assert large.diverged_at > 0  # lr = 0.25 > 2/λ_max = 0.2


def test_preset_many_minima_disagree():
    s, runs = preset_runs("many_minima")
    basins = {int(np.argmin(np.linalg.norm(s.minima - tr.final_x, axis=1))) for tr in runs}
    assert len(basins) >= 2
