"""The arena page under AppTest: widgets move the race, links restore it, divergence, tuning, presets, clicks."""
from __future__ import annotations

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import optlab
from optlab import format as fmt
from optlab.chapters import arena

from conftest import APP_DIR, plotly_array, plotly_charts

PAGE = "pages/7_Optimizer_arena.py"


def open_arena(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(APP_DIR / "app.py"), default_timeout=60)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown_float(text: str) -> float:
    """A table cell written by optlab.format back as a float (its minus sign and thousands commas)."""
    return float(str(text).replace(fmt.MINUS, "-").replace(",", ""))


def specs(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in plotly_charts(at)]


def contour_spec(at) -> dict:
    found = [s for s in specs(at) if s["data"] and s["data"][0]["type"] == "contour"
             and any(t.get("name") == "click to start here" for t in s["data"])]
    assert found, "no clickable contour on the page"
    return found[0]


def paths(spec) -> dict[str, np.ndarray]:
    """Optimizer label -> drawn (x, y) of its line trace."""
    out = {}
    for t in spec["data"]:
        if t.get("type") == "scatter" and t.get("mode") == "lines" and (t.get("meta") or {}).get("role") != "halo":
            out[t["name"]] = np.stack([plotly_array(t["x"]).astype(float), plotly_array(t["y"]).astype(float)], -1)
    return out


def racer_ids(at) -> list[int]:
    return [r["id"] for r in at.session_state["arena_racers"]]


def table(at):
    return at.dataframe[0].value


@pytest.fixture
def at(fresh_streamlit_cache):
    return open_arena()


def test_arena_renders_default_race(at):
    assert at.title[0].value == "Optimizer arena"
    spec = contour_spec(at)
    labels = list(paths(spec))
    assert labels == ["SGD (lr = 0.001)", "SGD (lr = 0.001, momentum = 0.9)", "Adam (lr = 0.05)"]
    assert len(specs(at)) == 3  # contour, loss, gradient norm (3-D and animation are not built)
    assert list(table(at)["optimizer"]) == labels
    assert any("Adam" in l.value or "m_t" in l.value for l in at.latex)  # update rules from the engine
    q = at.query_params
    assert q["s"] == "rosenbrock" and q["o"] == "sgd;sgd:momentum=0.9;adam:lr=0.05"
    at.run()
    assert not at.exception


@pytest.mark.parametrize("move", [
    ("steps", lambda at: at.slider(key="arena_steps").set_value(50)),
    ("x0", lambda at: at.number_input(key="arena_x0").set_value(0.5)),
    ("y0", lambda at: at.number_input(key="arena_y0").set_value(-0.5)),
    ("lr", lambda at: at.number_input(key=f"arena_r{racer_ids(at)[2]}_lr").set_value(0.2)),
    ("momentum", lambda at: at.slider(key=f"arena_r{racer_ids(at)[1]}_momentum").set_value(0.5)),
    ("surface", lambda at: at.selectbox(key="arena_surface").select("himmelblau")),
    ("surface parameter", lambda at: at.slider(key="arena_p_rosenbrock_a").set_value(0.5)),
])
def test_each_main_widget_changes_the_race(at, move):
    name, act = move
    before_paths, before_table = paths(contour_spec(at)), table(at).copy()
    act(at).run()
    assert not at.exception, [e.value for e in at.exception]
    after_paths, after_table = paths(contour_spec(at)), table(at)
    changed = [k for k in after_paths if k not in before_paths or after_paths[k].shape != before_paths[k].shape
               or not np.allclose(after_paths[k], before_paths[k], equal_nan=True)]
    assert changed, f"moving {name} did not change any path"
    assert not after_table.equals(before_table), f"moving {name} did not change the results"


def test_query_params_restore_the_scenario():
    q = {"s": "quadratic", "p": "angle=30,condition=25", "x": "-2,1.25", "n": "150",
         "o": "sgd:lr=0.03,momentum=0.95;adam:betas=0.8/0.99,lr=0.1;newton"}
    at = open_arena(q)
    assert at.selectbox(key="arena_surface").value == "quadratic"
    assert at.select_slider(key="arena_p_quadratic_condition").value == 25
    assert at.slider(key="arena_p_quadratic_angle").value == 30
    assert (at.number_input(key="arena_x0").value, at.number_input(key="arena_y0").value) == (-2.0, 1.25)
    assert at.slider(key="arena_steps").value == 150
    ids = racer_ids(at)
    assert [r["name"] for r in at.session_state["arena_racers"]] == ["sgd", "adam", "newton"]
    assert at.number_input(key=f"arena_r{ids[0]}_lr").value == 0.03
    assert at.slider(key=f"arena_r{ids[0]}_momentum").value == 0.95
    assert at.number_input(key=f"arena_r{ids[1]}_betas_1").value == 0.8
    assert not at.warning  # nothing in the link was rejected
    # the page shows exactly what optlab computes for that scenario
    s = optlab.surfaces.get("quadratic", condition=25, angle=30)
    tr = optlab.run(s, optlab.optimizers.make("adam", lr=0.1, betas=(0.8, 0.99)), [-2, 1.25], 150)
    drawn = paths(contour_spec(at))["Adam (lr = 0.1, betas = (0.8, 0.99))"]
    np.testing.assert_allclose(drawn, tr.xs, atol=1e-4)
    # and the link it writes back is the same scenario
    back = arena.decode({k: at.query_params[k] for k in at.query_params})[0]
    assert back == arena.decode(q)[0]


def test_garbage_link_warns_and_still_races():
    at = open_arena({"s": "nope", "x": "1,zz", "n": "-3", "o": "adam:lr=x;foo"})
    texts = " ".join(w.value for w in at.warning)
    for part in ("unknown surface 'nope'", "start point", "steps", "unknown optimizer 'foo'", "for lr is not valid"):
        assert part in texts
    assert list(paths(contour_spec(at))) == ["Adam (lr = 0.001)"]


def test_divergence_is_named_and_the_rest_is_drawn():
    at = open_arena({"s": "rosenbrock", "x": "-1.5,2", "n": "200", "o": "sgd:lr=5;adam:lr=0.05"})
    s = optlab.surfaces.get("rosenbrock")
    sgd = optlab.run(s, optlab.optimizers.make("sgd", lr=5.0), [-1.5, 2], 200)
    warn = [w.value for w in at.warning]
    assert len(warn) == 1
    assert f"SGD (lr = 5) diverged at step {sgd.diverged_at}" in warn[0]
    assert "The other runs are still drawn" in warn[0]
    spec = contour_spec(at)
    drawn = paths(spec)
    assert drawn["Adam (lr = 0.05)"].shape == (201, 2)  # the other racer: its whole path
    mark = [t for t in spec["data"] if t.get("name") == "SGD (lr = 5) diverged"]
    assert mark and f"diverged at step {sgd.diverged_at}" in mark[0]["hovertext"][0]
    row = table(at).set_index("optimizer").loc["SGD (lr = 5)"]
    assert row["diverged at step"] == str(sgd.diverged_at)
    assert row["final loss"] == "—" and row["final x"] == "—"  # not the grid's "None"
    adam = table(at).set_index("optimizer").loc["Adam (lr = 0.05)"]
    assert shown_float(adam["final loss"]) >= 0 and abs(shown_float(adam["final x"])) < 3


def test_auto_tune_shows_tuned_values_and_applies_them(at):
    at.toggle(key="arena_tune").set_value(True).run()
    assert not at.exception
    tuned = at.dataframe[1].value
    s = optlab.surfaces.get("rosenbrock")
    ids = racer_ids(at)
    best, _ = optlab.tune_lr(s, "adam", [-1.5, 2.0], 300, fixed={}, tol=arena.TOL)
    adam_row = tuned[tuned["optimizer"] == "Adam"].iloc[0]
    # the table shows numbers as optlab.format writes them (3 significant digits, "—" if undefined)
    assert adam_row["tuned lr"] == fmt.number(best) and shown_float(adam_row["tuned lr"]) == pytest.approx(best, rel=5e-3)
    assert adam_row["torch default lr"] == "0.001" and adam_row["your lr"] == "0.05"
    titles = [s_["layout"].get("title", {}).get("text") for s_ in specs(at)]
    assert "torch's default learning rates" in titles and "tuned learning rates" in titles
    at.button(key="arena_use_tuned").click().run()
    assert at.number_input(key=f"arena_r{ids[2]}_lr").value == pytest.approx(best)


@pytest.mark.parametrize("preset", arena.PRESETS, ids=lambda p: p.key)
def test_presets_apply(at, preset):
    at.button(key=f"arena_preset_{preset.key}").click().run()
    assert not at.exception
    # the address is the race plus the language (?lang=…, kept by ui.i18n.with_language)
    assert {k: at.query_params[k] for k in at.query_params} == {**arena.encode(arena.canonical(preset.scenario())),
                                                                 "lang": "en"}
    assert any(preset.question in i.value for i in at.info)
    anim = [s for s in specs(at) if s.get("frames")]
    assert anim and len(anim[0]["frames"]) <= 60  # a preset opens the animation, ready to play


def test_click_on_contour_sets_the_start(at):
    at.session_state["arena_chart"] = {"selection": {"points": [{"x": 0.25, "y": -0.5, "curve_number": 9,
                                                                  "point_index": 3}],
                                                      "point_indices": [3], "box": [], "lasso": []}}
    at.run()
    assert not at.exception
    assert (at.number_input(key="arena_x0").value, at.number_input(key="arena_y0").value) == (0.25, -0.5)
    for xy in paths(contour_spec(at)).values():
        np.testing.assert_allclose(xy[0], [0.25, -0.5], atol=1e-6)
    assert at.query_params["x"] == "0.25,-0.5"
    # the same selection on later reruns does not undo a typed start
    at.number_input(key="arena_x0").set_value(1.0).run()
    assert at.number_input(key="arena_x0").value == 1.0


def test_add_and_remove_racers(at):
    at.selectbox(key="arena_add").select("rmsprop").run()
    at.button(key="arena_add_btn").click().run()
    assert [r["name"] for r in at.session_state["arena_racers"]][-1] == "rmsprop"
    assert "RMSProp (lr = 0.01)" in paths(contour_spec(at))
    first = racer_ids(at)[0]
    at.button(key=f"arena_rm{first}").click().run()
    assert not at.exception
    assert "SGD (lr = 0.001)" not in paths(contour_spec(at))


def test_views_and_custom_formula(at):
    at.session_state["arena_view"] = "3-D surface"
    at.run()
    assert any(s["data"][0]["type"] == "surface" for s in specs(at))
    at.session_state["arena_view"] = "Animation"
    at.run()
    anim = [s for s in specs(at) if s.get("frames")][0]
    assert 2 <= len(anim["frames"]) <= 60 and anim["layout"]["updatemenus"][0]["buttons"][0]["label"] == "▶ Play"
    at.session_state["arena_view"] = "Contour"
    at.selectbox(key="arena_surface").select("custom").run()
    at.text_input(key="arena_formula").input("x**2 + 3*y**2").run()
    assert not at.exception
    assert any(r"\nabla f" in l.value and "6 y" in l.value for l in at.latex)  # exact gradient shown
    assert at.query_params["s"] == "custom" and at.query_params["f"] == "x**2 + 3*y**2"
    at.text_input(key="arena_formula").input("x**2 + (").run()
    assert not at.exception
    assert at.error and "x**2 + (" in at.error[0].value  # the typed text is kept in the message
    assert at.text_input(key="arena_formula").value == "x**2 + ("


def test_exports(at):
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Trajectories (CSV)", "Figure (standalone HTML)", "Python snippet (.py)"]
    code = [c.value for c in at.code]
    assert any("optlab.run(surface, opt, x0, steps)" in c for c in code)
    assert any("s=rosenbrock" in c and "o=sgd" in c for c in code)  # the shareable link


# ----------------------------------------------------------------------------------------------
# The shared widgets the arena is built from (chapter pages use them too)
# ----------------------------------------------------------------------------------------------
def _widget_script():
    import streamlit as st

    import optlab
    from optlab import ui

    h = ui.optimizer_controls("adam", "w_adam", defaults={"lr": 0.05})
    st.session_state["w_result"] = h
    st.session_state["w_hyper"] = optlab.optimizers.make("adam", **h).hyper
    ui.experiment("Big steps", "What happens with lr = 0.5 and β₁ = 0.5?",
                  {"w_adam_lr": 0.5, "w_adam_betas_1": 0.5, "w_adam_amsgrad": True}, "Look at the zig-zag.",
                  key="big")
    ui.show_update_rule("adam")


def test_optimizer_controls_and_guided_experiment():
    at = AppTest.from_function(_widget_script, default_timeout=60)
    at.run()
    assert not at.exception
    h = at.session_state["w_result"]
    assert h["lr"] == 0.05 and h["betas"] == (0.9, 0.999) and h["amsgrad"] is False and h["maximize"] is False
    assert at.session_state["w_hyper"] == optlab.optimizers.make("adam", lr=0.05).hyper
    # every visible hyperparameter has a widget, its meaning as help, torch's default as start value
    info = optlab.optimizers.info("adam")
    assert at.number_input(key="w_adam_eps").value == info.defaults["eps"]
    assert at.number_input(key="w_adam_eps").proto.help == info.hyper_by_name("eps").meaning
    assert at.checkbox(key="w_adam_amsgrad").value is False
    with pytest.raises(KeyError):
        at.checkbox(key="w_adam_maximize")  # hidden: it only flips the sign
    assert any("torch.optim.Adam" in c.value for c in at.caption)
    assert any(r"\hat m_t" in l.value for l in at.latex)  # the engine's LaTeX, not a copy
    assert "Predict first" in " ".join(m.value for m in at.markdown)
    at.button(key="exp_big").click().run()
    h = at.session_state["w_result"]
    assert h["lr"] == 0.5 and h["betas"] == (0.5, 0.999) and h["amsgrad"] is True
    at.number_input(key="w_adam_lr").set_value(0.01).run()  # the user can still move it afterwards
    assert at.session_state["w_result"]["lr"] == 0.01
