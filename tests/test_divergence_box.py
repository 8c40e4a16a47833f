"""The one divergence box (optlab.ui.widgets): who, when, why, once; Newton and BFGS without an lr."""
from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import optlab
from optlab.ui import widgets
from optlab.ui.widgets import Divergence, divergence_text, divergences

ROSEN = optlab.surfaces.get("rosenbrock")


def run(name, x0=(-1.5, 2.0), steps=30, **hyper):
    tr = optlab.run(ROSEN, optlab.optimizers.make(name, **hyper), x0, steps, record="path")
    return tr


def test_one_line_per_diverged_run_with_its_lr():
    trs = [run("sgd", lr=0.1), run("sgd", lr=0.001), run("adam", lr=0.05)]
    items = divergences(trs)
    assert len(items) == 1
    d = items[0]
    assert d.who == "SGD (lr = 0.1)" and d.step == trs[0].diverged_at > 0
    assert "|x|" not in d.why and "38033" not in d.why and d.why == "the position ran far outside the window"


def test_newton_and_bfgs_have_no_learning_rate():
    tr = optlab.run(optlab.surfaces.get("rosenbrock"), "newton", (-1.5, 2.0), 5, record="path")
    tr.diverged_at, tr.diverged_reason = 2, "the loss became infinite or undefined (NaN)"
    assert divergences([tr])[0].who == tr.label and "lr" not in divergences([tr])[0].who
    tr.hyper = dict(tr.hyper, lr=0.5)
    assert divergences([tr])[0].who.endswith("(step scale 0.5)")
    b = optlab.run(ROSEN, "bfgs", (-1.5, 2.0), 3, record="path")
    b.diverged_at, b.diverged_reason = 1, "x"
    assert "lr" not in divergences([b])[0].who


def test_a_start_outside_is_said_as_such():
    tr = run("adam", x0=(1e6, 0.0), lr=0.05)
    assert tr.diverged_at == 0
    text = divergence_text(divergences([tr]))
    assert "could not start**: the start lies far outside the window" in text
    assert "step 0" not in text and "step 1" not in text


def test_no_repeated_text_and_labels_not_lr_twice():
    d = divergences([run("sgd", lr=0.1)], labels=["SGD, lr = 0.1"])[0]
    assert d.who == "SGD, lr = 0.1"
    echo = Divergence("Adam (lr = 0.5)", 2, "diverged at step 2: the loss or the gradient became inf/nan")
    text = divergence_text([echo])
    assert text.count("diverged at step") == 1 and text.count("step 2") == 1
    assert divergence_text([echo, echo]).count("Adam (lr = 0.5)") == 1


def test_many_runs_one_box_listing_them():
    items = [Divergence(f"run {i}", i + 1, "the loss became infinite or undefined (NaN)") for i in range(9)]
    text = divergence_text(items, others=True)
    assert text.startswith("**Diverged: 9 runs were stopped.**")
    assert text.count("\n- ") == widgets.MAX_LISTED + 1 and "… and 3 more runs." in text
    assert text.endswith("Each path is drawn up to its last finite point (marked ⊗). The other runs are still drawn.")
    assert divergence_text(items[:1], drawn=False).endswith("Its numbers are shown as —.")


def test_batched_runs_are_listed_run_by_run():
    tr = optlab.run(ROSEN, optlab.optimizers.make("sgd", lr=np.array([0.001, 0.1, 0.2])), (-1.5, 2.0), 30,
                    record="path")
    items = divergences([tr])
    assert [d.who for d in items] == ["SGD (lr = 0.1), run 1", "SGD (lr = 0.2), run 2"]


def _page():
    import optlab
    from optlab import ui

    s = optlab.surfaces.get("rosenbrock")
    trs = [optlab.run(s, optlab.optimizers.make("sgd", lr=lr), (-1.5, 2.0), 30, record="path") for lr in (0.1, 0.2, 0.3)]
    for t, name in zip(trs, ("GD", "momentum", "Nesterov")):
        t.label = name
    ui.divergence_warnings(trs)


def test_several_diverging_runs_of_one_chart_give_one_box():
    at = AppTest.from_function(_page, default_timeout=30)
    at.run()
    assert not at.exception
    assert len(at.warning) == 1
    body = at.warning[0].value
    assert body.startswith("**Diverged: 3 runs were stopped.**")
    for name in ("GD (lr = 0.1)", "momentum (lr = 0.2)", "Nesterov (lr = 0.3)"):
        assert f"**{name} diverged at step" in body
