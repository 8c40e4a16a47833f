"""One colour per optimizer on every page, and roles that never borrow one (optlab.figures.style).

Every page found on disk is rendered under AppTest in its default state and in every section of
its section controls (a segmented control or radio labelled "Section", the arena's "View", the
adaptive page's Adam-family "difference"); the arena also races SGD and Adam twice each. All the
Plotly charts shown are checked together by :func:`colors_check.problems` (the rule is written
there and in the style module's docstring).  ``test_checker_*`` prove that the check fails on a
page that hard-codes a wrong colour, draws a role in an optimizer's colour, or leaves a trace
untagged.
"""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from colors_check import collect, problems
from conftest import APP_DIR
from optlab.figures import style

NAV_LABELS = {"Section", "View", "difference"}
MAX_STATES = 24  # a page with more sections than this is cut (and the test says so)


def _options(w) -> list:
    if w.type == "button_group":
        return [(o.content_icon + " " + o.content) if o.content_icon else o.content for o in w.proto.options]
    return list(w.options)


def _nav(at) -> list:
    return [w for w in list(at.radio) + list(at.button_group) if w.label in NAV_LABELS and w.key]


def page_items(page: str, query: dict[str, str] | None = None) -> list:
    """What ``page`` shows in its default state and in each section (two levels deep)."""
    at = AppTest.from_file(str(APP_DIR / "app.py"), default_timeout=120)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    if page != "app.py":
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    items = collect(at, "default")
    states = 1
    for w in _nav(at):
        first = _options(w)
        for o in first[1:] + first[:1]:
            at.session_state[w.key] = o
            at.run()
            assert not at.exception, (o, [e.value for e in at.exception])
            items += collect(at, f"{w.label}={o}")
            states += 1
            for w2 in _nav(at):
                if w2.key == w.key:
                    continue
                for o2 in _options(w2)[1:]:
                    at.session_state[w2.key] = o2
                    at.run()
                    assert not at.exception, (o, o2, [e.value for e in at.exception])
                    items += collect(at, f"{w.label}={o} / {w2.label}={o2}")
                    states += 1
                at.session_state[w2.key] = _options(w2)[0]
            assert states <= MAX_STATES, f"{page} has more than {MAX_STATES} sections: raise MAX_STATES"
    return items


def test_page_colours(page_file):
    items = page_items(page_file)
    assert items or page_file == "app.py", f"{page_file} shows no chart"
    bad = problems(items)
    assert not bad, f"{page_file} breaks the colour rule:\n" + "\n".join(bad)


def test_arena_repeated_optimizers_get_variant_colours():
    # the race as its link writes it
    race = {"s": "rosenbrock", "x": "-1.5,2", "n": "100",
            "o": "sgd:lr=0.001;sgd:lr=0.001,momentum=0.9;adam:lr=0.05;adam:lr=0.01;newton"}
    items = page_items("pages/7_Optimizer_arena.py", race)
    bad = problems(items)
    assert not bad, "\n".join(bad)
    lines = {(it.meta["optimizer"], it.meta["variant"]): it.colours[0][1] for it in items
             if it.state == "default" and it.kind == "trace" and isinstance(it.meta, dict)
             and isinstance(it.meta.get("optimizer"), str) and it.colours and it.colours[0][0] == "line.color"}
    # the race order decides: SGD, SGD (1st variant), Adam, Adam (2nd variant), Newton
    assert lines[("sgd", 0)] == style.optimizer_color("sgd")
    assert lines[("sgd", 1)] == style.VARIANT_COLORS[0]
    assert lines[("adam", 0)] == style.optimizer_color("adam")
    assert lines[("adam", 2)] == style.VARIANT_COLORS[1]
    assert lines[("newton", 0)] == style.optimizer_color("newton")
    assert len(set(lines.values())) == len(lines)


# ----------------------------------------------------------------------------------------------
# The check can fail
# ----------------------------------------------------------------------------------------------
PAGE_HEAD = """
import streamlit as st
from optlab import figures, ui
from optlab.figures import style
s = ui.get_surface(("rosenbrock", ()))
sgd = ui.cached_run(("rosenbrock", ()), "sgd", (("lr", 0.001),), (-1.5, 2.0), 50)
adam = ui.cached_run(("rosenbrock", ()), "adam", (("lr", 0.05),), (-1.5, 2.0), 50)
fig = figures.contour(s, [sgd, adam], n=30)
"""


def _script_items(body: str) -> list:
    at = AppTest.from_string(PAGE_HEAD + body, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return collect(at)


def test_checker_passes_the_registry():
    assert not problems(_script_items("ui.show_figure(fig)"))


def test_checker_fails_a_hard_coded_optimizer_colour():
    # the Gradient descent page once drew SGD in pink
    bad = problems(_script_items("for t in fig.data:\n"
                                 "    if t.name == sgd.label:\n"
                                 "        t.line.color = '#CC79A7'\n"
                                 "ui.show_figure(fig)"))
    assert any("but sgd (variant 0) is #0072B2" in b for b in bad), bad


def test_checker_fails_a_role_in_an_optimizer_colour():
    # vermilion meant Adam and "validation error" on one page
    bad = problems(_script_items(
        "fig.add_scatter(x=[0, 1], y=[0, 1], name='validation error', line=dict(color='#D55E00'),"
        " meta=style.role_meta('validation'))\nui.show_figure(fig)"))
    assert any("'validation error' (validation)" in b and "adam" in b for b in bad), bad


def test_checker_fails_a_near_copy_of_an_optimizer_colour():
    bad = problems(_script_items(
        "fig.add_scatter(x=[0, 1], y=[0, 1], name='MSE', line=dict(color='#0A74B0'), meta=style.role_meta('loss'))\n"
        "ui.show_figure(fig)"))
    assert any("'MSE' (loss)" in b and "sgd" in b for b in bad), bad


def test_checker_fails_an_untagged_trace_and_a_shared_look():
    bad = problems(_script_items(
        "fig.add_scatter(x=[0, 1], y=[0, 1], name='mystery', line=dict(color='#117733'))\n"
        "fig2 = figures.contour(s, [(n, sgd.xs, {'name': 'sgd', 'variant': 0}) for n in ('SGD', 'SGD again')], n=30)\n"
        "ui.show_figure(fig)\nui.show_figure(fig2)"))
    assert any("'mystery': no tag" in b for b in bad), bad
    assert any("are all drawn #0072B2 solid" in b for b in bad), bad  # two runs, one look


@pytest.mark.parametrize("name", sorted(style.OPTIMIZER_COLORS))
def test_every_optimizer_has_a_colour_no_role_has(name):
    c = style.optimizer_color(name)
    assert c not in style.ROLE_COLORS.values() and c not in style.SERIES_COLORS and c not in style.VARIANT_COLORS
