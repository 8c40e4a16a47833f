"""The server's shortcuts for less CPU per page run change nothing a student sees.

1. ``optlab.figures.core.figure_dict`` builds what ``fig.to_dict()`` returns without its deep
   copies, and ``ui.show_figure`` hands it to ``st.plotly_chart``.  On every figure every page
   draws (AppTest, default widgets) the JSON Streamlit sends equals the JSON of Plotly's own path,
   the figure itself is left as it was, builders' figures go as ``LazyFigure`` dicts (no Plotly
   objects), and a rerun (figures read back from st.cache_data, also lazy) sends the same charts; plus the cases the pages may not reach (2-D arrays,
   int64, bool and object arrays, frames, arrays inside lists, ``uid``).
2. ``ui.pinned_signature`` (st.cache_data's per-call signature lookups) gives Streamlit's answer.
"""
from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from optlab.figures.core import figure_dict


def plotly_json(fig: go.Figure) -> dict:
    """What st.plotly_chart sends for a figure on Plotly's own path (to_dict, then to_json)."""
    return json.loads(pio.to_json(fig.to_dict(), validate=False))


def fast_json(fig: go.Figure) -> dict:
    from optlab.ui.widgets import _FigureDict

    return json.loads(pio.to_json(_FigureDict(figure_dict(fig)).to_dict(), validate=False))


def test_page_figures_are_sent_unchanged(page_file, app_test, monkeypatch):
    import optlab.ui.widgets as widgets

    from optlab.ui.widgets import _FigureDict

    seen, kinds = [], []

    def recording(fig):
        lazy = "_optlab_spec" in fig.__dict__
        out = figure_dict(fig)  # first: plotly_json builds a LazyFigure's Plotly objects
        before = plotly_json(fig)
        assert json.loads(pio.to_json(_FigureDict(out).to_dict(), validate=False)) == before
        seen.append((before, fig))
        kinds.append(lazy)
        return out

    monkeypatch.setattr(widgets, "figure_dict", recording)
    at = app_test(page_file)
    assert not at.exception
    if page_file != "app.py":
        assert seen, f"{page_file} drew no figure through ui.show_figure"
    sent = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    for before, fig in seen:
        assert plotly_json(fig) == before, "the figure was changed by drawing it"
    # every chart on the page is one of the recorded figures, sent as Plotly would have sent it
    # (show_figure's height= is applied on the way, so compare with the height the chart got)
    expected = [before for before, _ in seen]
    for spec in sent:
        matches = [e for e in expected
                   if {**e, "layout": {**e["layout"], "height": spec["layout"].get("height")}} == spec
                   or e == spec]
        assert matches, f"a chart of {page_file} differs from Plotly's JSON for its figure"
    if page_file in ("pages/4_Adaptive_methods.py", "pages/7_Optimizer_arena.py"):
        assert any(kinds), "figures.core builders give LazyFigures: their dict is sent, no Plotly objects"
    # a rerun reads figures back from st.cache_data (LazyFigures of the stored dict, never built)
    at.run()
    assert not at.exception
    assert [json.loads(c.proto.spec) for c in at.get("plotly_chart")] == sent


def test_cached_figure_is_sent_as_plotly_would_send_the_original():
    import pickle

    import optlab.ui  # noqa: F401  (registers how figures are pickled)
    from optlab.figures.core import LazyFigure
    from optlab.ui.widgets import _FigureDict

    fig = _odd_figure()
    fig.frames = []
    back = pickle.loads(pickle.dumps(fig))  # what st.cache_data hands a reader
    assert isinstance(back, LazyFigure) and "_optlab_spec" in back.__dict__
    sent = json.loads(pio.to_json(_FigureDict(figure_dict(back)).to_dict(), validate=False))
    assert "_optlab_spec" in back.__dict__, "sending it did not build Plotly's objects"
    assert sent == plotly_json(fig)
    assert "_optlab_spec" in pickle.loads(pickle.dumps(back)).__dict__  # stored again: still a dict
    back.update_layout(height=321)  # used as a figure: built on first use, then an ordinary go.Figure
    assert "_optlab_spec" not in back.__dict__ and back.layout.height == 321 and len(back.data) == 3
    assert plotly_json(back) == {**plotly_json(fig), "layout": {**plotly_json(fig)["layout"], "height": 321}}


def _odd_figure() -> go.Figure:
    z = np.arange(12, dtype=float).reshape(3, 4)
    z[1, 2] = np.nan
    fig = go.Figure(_validate=False)
    fig.add_trace(go.Heatmap(z=z, x=np.arange(4, dtype=np.int64), y=np.array([10**12, 2, 3], dtype=np.int64),
                             customdata=np.array([["a"] * 4] * 3, dtype=object), uid="keep-out"))
    fig.add_trace(go.Scatter(x=[0.5, float("nan"), 2.0], y=np.array([1, 2, 3], dtype=np.float32),
                             marker=dict(color=np.array([True, False, True]), size=np.array([3, 4, 5], dtype=np.uint8)),
                             text=["<b>x</b>", "y", "z"]))
    fig.add_trace(go.Scatter(x=np.array([], dtype=float), y=np.array([], dtype=float)))
    fig.update_layout(shapes=[dict(type="line", x0=0, x1=1, y0=0, y1=1)],
                      annotations=[dict(x=1, y=2, text="a & b < c")],
                      xaxis=dict(range=np.array([0.0, 3.0]), tickvals=np.array([0.0, 1.5, 3.0])))
    fig.frames = [go.Frame(data=[dict(type="scatter", x=np.linspace(0, 1, 5), y=np.linspace(1, 2, 5))], name="f0")]
    return fig


def _object_arrays(o) -> int:
    if isinstance(o, np.ndarray):
        return int(o.dtype == object)
    if isinstance(o, dict):
        return sum(_object_arrays(v) for v in o.values())
    if isinstance(o, (list, tuple)):
        return sum(_object_arrays(v) for v in o)
    return 0


def test_odd_figures_match_plotly():
    fig = _odd_figure()
    assert fast_json(fig) == plotly_json(fig)
    # strings and booleans go as lists: an object array makes orjson give up, and Plotly then walks
    # the whole figure in Python (clean_to_json_compatible)
    assert _object_arrays(fig.to_dict()) > 0 and _object_arrays(figure_dict(fig)) == 0


def test_figure_dict_does_not_touch_the_figure():
    fig = _odd_figure()
    before = plotly_json(fig)
    d = figure_dict(fig)
    d["layout"]["height"] = 123
    for t in d["data"]:
        t.pop("uid", None)
    assert plotly_json(fig) == before
    assert fig.data[0].uid == "keep-out"
    assert all("uid" not in t for t in figure_dict(fig)["data"])


@pytest.mark.parametrize("dtype", ["float64", "float32", "int32", "uint16", "int8"])
def test_arrays_encode_as_plotly_does(dtype):
    a = (np.arange(24).reshape(4, 6) % 7).astype(dtype)
    fig = go.Figure(go.Heatmap(z=a, x=a[0], y=a[:, 0]), _validate=False)
    assert figure_dict(fig)["data"][0]["z"] == fig.to_dict()["data"][0]["z"]
    assert fast_json(fig) == plotly_json(fig)


def test_pinned_signature_is_what_cached_calls_look_up():
    """st.cache_data names positional arguments with inspect.signature on every call;
    ui.pinned_signature stores the answer on the function (read back at once, same parameters)."""
    import inspect

    import streamlit as st
    from streamlit import type_util

    from optlab.ui import cached_run, pinned_signature

    def f(a, b, c=1, *args, d=2, **kw):
        return a

    plain = inspect.signature(f)
    g = pinned_signature(f)
    assert g is f and f.__signature__ == plain
    assert list(type_util.get_func_parameters(f)) == list(plain.parameters.values())
    cached = st.cache_data(max_entries=4, show_spinner=False)(f)
    assert cached(1, 2, 3) == cached(1, 2, 3) == 1
    assert "__signature__" in vars(cached_run._info.func)  # the shared cached runs use it


def test_lazy_figure_builds_on_first_use_as_plotly_would():
    from optlab import figures, surfaces
    from optlab.figures.core import LazyFigure

    s = surfaces.get("rosenbrock")
    import optlab

    tr = optlab.run(s, optlab.optimizers.make("adam", lr=0.05), [-1.5, 2.0], 40)
    lazy = figures.contour(s, [tr])
    assert isinstance(lazy, LazyFigure) and "_optlab_spec" in lazy.__dict__
    sent = fast_json(lazy)
    spec_before = json.dumps(lazy.__dict__["_optlab_spec"], default=str)
    assert "_optlab_spec" in lazy.__dict__  # drawing it built nothing
    eager = go.Figure(lazy.__dict__["_optlab_spec"], _validate=False)
    assert sent == plotly_json(eager)
    lazy.update_layout(height=333)  # used as a figure: built now, then an ordinary go.Figure
    assert "_optlab_spec" not in lazy.__dict__ and lazy.layout.height == 333
    assert plotly_json(lazy) == {**plotly_json(eager), "layout": {**plotly_json(eager)["layout"], "height": 333}}
    assert json.dumps(eager.to_dict(), default=str) and spec_before  # building left the dict as it was
    assert len(lazy.data) == len(eager.data)
    # a figure without a template or with typeless traces is built at once (Plotly fills those in)
    assert not isinstance(figures.core._figure([dict(x=[1], y=[2])], {"template": {}}), LazyFigure)
    assert not isinstance(figures.core._figure([dict(type="scatter", x=[1])], {}), LazyFigure)


def test_lazy_figure_built_once_from_many_threads():
    import threading

    from optlab.figures.core import LazyFigure

    fig = LazyFigure({"data": [{"type": "scatter", "x": np.arange(50.0), "y": np.arange(50.0)}],
                      "layout": {"template": {}, "height": 300}})
    sent = fast_json(fig)
    errors, heights = [], []

    def use():
        try:
            heights.append(fig.layout.height)
            assert fast_json(fig) == sent
        except Exception as e:  # noqa: BLE001 - collected for the assertion below
            errors.append(repr(e))

    threads = [threading.Thread(target=use) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors and heights == [300] * 8
    assert "_optlab_spec" not in fig.__dict__ and len(fig.data) == 1
    assert not hasattr(fig, "no_such_property")
