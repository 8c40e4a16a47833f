"""The figure kit (optlab.figures.core): traces, colours, fixed axes, animation frames, size, NaN.

Every figure is also re-validated against Plotly's schema (the builders skip validation for speed).
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst

import optlab
from optlab import figures
from optlab.figures import core, style

ROSEN = optlab.surfaces.get("rosenbrock")
X0 = [-1.5, 2.0]
SIX = [("sgd", 1e-3), ("adam", 0.05), ("rmsprop", 0.01), ("adagrad", 0.3), ("nadam", 0.05), ("adamw", 0.05)]


def arr(v):
    """Plotly data as a float array (the builders send float32/int16 arrays)."""
    return np.asarray(v, dtype=float)


@pytest.fixture(scope="module")
def six_runs():
    return [optlab.run(ROSEN, optlab.optimizers.make(n, lr=lr), X0, 500, record="path") for n, lr in SIX]


@pytest.fixture(scope="module")
def diverging():
    """SGD with lr = 5 on Rosenbrock: thrown far out in its first steps, flagged, NaN afterwards."""
    tr = optlab.run(ROSEN, optlab.optimizers.make("sgd", lr=5.0), X0, 100, record="path")
    assert tr.diverged_at > 0
    return tr


def valid(fig: go.Figure) -> go.Figure:
    go.Figure(fig.to_dict())  # raises ValueError on any property Plotly does not know
    return fig


def by_name(fig, name):
    # the light casing under a single path carries the path's name (role "halo"): not the path
    found = [t for t in fig.data if t.name == name and ((t.meta or {}).get("role") != "halo")]
    assert found, f"no trace named {name!r}; have {[t.name for t in fig.data]}"
    return found[0]


def in_box(x, y, box):
    (x0, x1), (y0, y1) = box
    ok = np.isfinite(x) & np.isfinite(y)
    return np.all((x[ok] >= x0 - 1e-4) & (x[ok] <= x1 + 1e-4) & (y[ok] >= y0 - 1e-4) & (y[ok] <= y1 + 1e-4))


# ----------------------------------------------------------------------------------------------
def test_contour_traces_colours_markers_and_fixed_axes(six_runs):
    fig = valid(figures.contour(ROSEN, six_runs))
    assert fig.data[0].type == "contour"
    assert len(arr(fig.data[0].z).reshape(-1)) <= core.MAX_GRID ** 2
    for tr in six_runs:
        line = by_name(fig, tr.label)
        assert line.line.color == style.optimizer_color(tr.optimizer)
        # the drawn line is the trajectory (inside the window nothing is clipped)
        np.testing.assert_allclose(arr(line.x), tr.xs[:, 0], atol=1e-4)
        np.testing.assert_allclose(arr(line.y), tr.xs[:, 1], atol=1e-4)
        start = by_name(fig, f"{tr.label} start")
        assert start.marker.symbol == "circle"
        np.testing.assert_allclose([arr(start.x)[0], arr(start.y)[0]], X0, atol=1e-6)
        end = by_name(fig, f"{tr.label} end")
        assert end.marker.symbol == "x"
        np.testing.assert_allclose([arr(end.x)[0], arr(end.y)[0]], tr.final_x, atol=1e-4)
    minimum = by_name(fig, "minimum")
    assert minimum.marker.symbol == "star" and (arr(minimum.x)[0], arr(minimum.y)[0]) == (1.0, 1.0)
    assert "minimum (1, 1)" in minimum.text[0]
    (x0, x1), (y0, y1) = ROSEN.window
    assert tuple(fig.layout.xaxis.range) == (x0, x1) and fig.layout.xaxis.autorange is False
    assert tuple(fig.layout.yaxis.range) == (y0, y1) and fig.layout.yaxis.autorange is False
    assert fig.layout.uirevision  # zoom survives Streamlit reruns
    assert fig.layout.yaxis.scaleanchor == "x"  # equal aspect: a round bowl looks round
    assert "log" in fig.data[0].colorbar.title.text  # Rosenbrock is drawn on a log scale, and says so


def test_saddles_marked_and_lattices_not_cluttered():
    fig = valid(figures.contour(optlab.surfaces.get("saddle")))
    saddle = by_name(fig, "saddle point")
    assert saddle.marker.symbol == "diamond" and "saddle point (0, 0)" in saddle.text[0]
    ras = optlab.surfaces.get("rastrigin")
    fig = valid(figures.contour(ras))
    assert not [t for t in fig.data if t.name == "saddle point"]  # 220 saddles would hide the surface
    assert len(arr(by_name(fig, "global minimum").x)) == ras.n_global
    assert by_name(fig, "local minimum").marker.size < by_name(fig, "global minimum").marker.size
    fig = figures.contour(ras, show_saddles="always")
    assert len(arr(by_name(fig, "saddle point").x)) == len(ras.saddles)


def test_diverged_run_is_clipped_and_flagged(diverging, six_runs):
    fig = valid(figures.contour(ROSEN, [six_runs[1], diverging]))
    box = core._padded(ROSEN.window)
    raw = diverging.xs[np.isfinite(diverging.xs).all(axis=1)]
    assert np.abs(raw).max() > 100  # the raw path really does leave the window by far
    for t in fig.data[1:]:
        assert in_box(arr(t.x), arr(t.y), box), f"{t.name} is drawn outside the padded window"
    mark = by_name(fig, f"{diverging.label} diverged")
    assert mark.marker.symbol == "circle-x-open"
    assert f"diverged at step {diverging.diverged_at}" in mark.hovertext[0]
    assert not [t for t in fig.data if t.name == f"{diverging.label} end"]  # no "end" for a dead run
    arrows = by_name(fig, f"{diverging.label} leaves the window")
    assert arrows.marker.symbol == "arrow" and "leaves the window at step 1" in arrows.text[0]
    # the other run is drawn in full
    np.testing.assert_allclose(arr(by_name(fig, six_runs[1].label).x), six_runs[1].xs[:, 0], atol=1e-4)


def test_pairs_with_nan_tails_and_batches():
    xs = np.array([[-1.0, 1.0], [0.0, 0.5], [0.5, 0.5], [np.nan, np.nan], [np.nan, np.nan]])
    B = optlab.run(ROSEN, optlab.optimizers.make("adam", lr=np.array([0.01, 0.05, 0.1])), X0, 50, record="path")
    fig = valid(figures.contour(ROSEN, [("adam (mine)", xs), B]))
    mine = by_name(fig, "adam (mine)")
    assert np.isfinite(arr(mine.x)).sum() == 3
    assert mine.line.color == style.optimizer_color("adam")
    d = by_name(fig, "adam (mine) diverged")  # inferred from the NaN tail: first NaN at step 3
    assert "diverged at step 3" in d.hovertext[0]
    np.testing.assert_allclose([arr(d.x)[0], arr(d.y)[0]], [0.5, 0.5])
    batch = by_name(fig, B.label)
    assert np.isnan(arr(batch.x)).sum() == 3  # three runs, one trace, NaN-separated
    assert len(arr(by_name(fig, f"{B.label} start").x)) == 3
    # the second Adam in the figure is a variant: the first variant colour, tagged as such
    assert batch.line.color == style.VARIANT_COLORS[0] != mine.line.color
    assert batch.meta == {"optimizer": "adam", "variant": 1} and mine.meta == {"optimizer": "adam", "variant": 0}


@settings(max_examples=60, deadline=None)
@given(hst.lists(hst.tuples(hst.floats(-1e4, 1e4), hst.floats(-1e4, 1e4)), min_size=1, max_size=30))
def test_clip_path_stays_in_box_and_keeps_inside_points(points):
    box = ((-2.0, 2.0), (-1.0, 3.0))
    P = np.array(points, dtype=float)
    pts, idx, exits = core.clip_path(P, box)
    assert in_box(pts[:, 0], pts[:, 1], box) if len(pts) else True
    inside = (np.abs(P[:, 0]) <= 2) & (P[:, 1] >= -1) & (P[:, 1] <= 3)
    drawn = {(round(x, 9), round(y, 9)) for x, y in pts if np.isfinite(x)}
    for p in P[inside]:
        assert (round(p[0], 9), round(p[1], 9)) in drawn  # no inside point is lost
    for p, _, k in exits:  # an exit is on the border, at a step whose point is outside
        assert 1 <= k < len(P) and not inside[k]
        assert min(abs(p[0] + 2), abs(p[0] - 2), abs(p[1] + 1), abs(p[1] - 3)) < 1e-6


def test_surface3d_lifts_paths_onto_the_surface(six_runs, diverging):
    fig = valid(figures.surface3d(ROSEN, [six_runs[0], diverging]))
    assert fig.data[0].type == "surface"
    path = by_name(fig, six_runs[0].label)
    assert path.line.color == style.optimizer_color("sgd")
    x, y, z = arr(path.x), arr(path.y), arr(path.z)
    ok = np.isfinite(z)
    surf = np.log10(ROSEN.value(np.stack([x[ok], y[ok]], -1)) + core.LOG_EPS)  # Rosenbrock: log z
    assert np.all(z[ok] >= surf - 1e-3)  # on or just above the surface
    dead = by_name(fig, diverging.label)
    assert in_box(arr(dead.x), arr(dead.y), ROSEN.window)
    assert fig.layout.scene.xaxis.range == (-2.0, 2.0)


def test_curves_log_gap_floor_and_diverged_marker(six_runs, diverging):
    fig = valid(figures.loss_curves(six_runs + [diverging], gap_to=0.0))
    assert fig.layout.yaxis.type == "log"
    for tr in six_runs:
        c = by_name(fig, tr.label)
        assert c.line.color == style.optimizer_color(tr.optimizer)
        np.testing.assert_allclose(arr(c.y), np.maximum(tr.losses, 1e-16), rtol=1e-12)
    x = by_name(fig, f"{diverging.label} diverged")
    assert x.marker.symbol == "x" and f"diverged at step {diverging.diverged_at}" in x.text[0]
    camel = optlab.surfaces.get("six_hump_camel")  # minimum f* < 0: a plain log axis is impossible
    tr = optlab.run(camel, optlab.optimizers.make("adam", lr=0.05), [0.3, -0.5], 200, record="path")
    assert tr.final_loss < 0
    assert figures.loss_curves([tr]).layout.yaxis.type == "linear"
    assert figures.loss_curves([tr], gap_to=camel.min_value).layout.yaxis.type == "log"
    g = valid(figures.grad_norm_curves(six_runs))
    np.testing.assert_allclose(arr(by_name(g, six_runs[0].label).y), np.maximum(six_runs[0].grad_norms, 1e-16))
    both = valid(figures.curves(six_runs, gap_to=0.0))
    assert {t.xaxis for t in both.data} == {"x", "x2"}
    assert sum(t.showlegend is not False for t in both.data if t.mode == "lines") == len(six_runs)


def test_animation_frames_update_only_moving_traces(six_runs, diverging):
    runs = six_runs + [diverging]
    fig = valid(figures.animated_contour(ROSEN, runs, max_frames=40))
    assert 2 <= len(fig.frames) <= 40
    moving = set(fig.frames[0].traces)
    # the surface is a layout image (plotly.js drops contour traces during redraw=False frames)
    image = fig.layout.images[0]
    assert image.source.startswith("data:image/png;base64,") and image.layer == "below"
    assert (image.x, image.y - image.sizey) < (ROSEN.window[0][0], ROSEN.window[1][0])
    assert not [t for t in fig.data if t.type in ("contour", "heatmap")]
    static = {i for i, t in enumerate(fig.data) if t.name in ("colour scale", "minimum")}
    assert len(static) == 2 and not static & moving  # colour bar and minimum are drawn once
    assert len(moving) == len(runs) + 1  # one path per optimizer + one head trace
    assert all(set(f.traces) == moving for f in fig.frames)
    assert all(len(f.data) == len(f.traces) for f in fig.frames)
    names = [f.name for f in fig.frames]
    assert names[0] == "0" and names[-1] == "500"
    # controls: play/pause, a slider step per frame, fixed axes, no redraw
    buttons = fig.layout.updatemenus[0].buttons
    assert [b.label for b in buttons] == ["▶ Play", "❚❚ Pause"]
    assert buttons[0].args[1]["frame"]["redraw"] is False
    assert [s.args[0][0] for s in fig.layout.sliders[0].steps] == names
    assert fig.layout.xaxis.autorange is False and tuple(fig.layout.xaxis.range) == ROSEN.window[0]
    # the head marker ends on each run's final point; the diverged head shows ⊗ and says so
    head = fig.frames[-1].data[-1]
    hx, hy = arr(head.x), arr(head.y)
    for i, tr in enumerate(six_runs):
        np.testing.assert_allclose([hx[i], hy[i]], tr.final_x, atol=1e-4)
        assert head.marker.color[i] == style.optimizer_color(tr.optimizer)
    assert head.marker.symbol[-1] == "circle-x-open" and "diverged" in head.text[-1]
    # the path so far grows and begins at the start
    first_path = fig.frames[1].data[1]
    assert np.isfinite(arr(first_path.x)).sum() < np.isfinite(arr(fig.frames[-1].data[1].x)).sum()
    np.testing.assert_allclose(arr(fig.frames[-1].data[0].x)[0], X0[0], atol=1e-6)


def test_background_png_is_the_banded_surface():
    import base64
    import io

    from PIL import Image

    fig = figures.animated_contour(optlab.surfaces.get("quadratic"), [])
    png = base64.b64decode(fig.layout.images[0].source.split(",", 1)[1])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    decoded = Image.open(io.BytesIO(png))
    assert decoded.format == "PNG" and decoded.mode == "RGBA"
    img = np.asarray(decoded)
    h, w = img.shape[:2]
    assert (w, h) == (220, 220)  # twice the default contour grid (n = 110): pixels are cheap
    centre, corner = img[h // 2, w // 2, :3].astype(int), img[0, 0, :3].astype(int)
    viridis_low, viridis_high = np.array([0x44, 0x01, 0x54]), np.array([0xfd, 0xe7, 0x25])
    # the bowl's bottom (centre) is dark violet, its rim (corner) yellow-green
    assert np.abs(centre - viridis_low).sum() < np.abs(corner - viridis_low).sum()
    assert np.abs(corner - viridis_high).sum() < np.abs(centre - viridis_high).sum()
    assert len({tuple(p) for p in img[::4, ::4, :3].reshape(-1, 3)}) <= 24  # banded like a filled contour


def test_frame_steps_bounded_and_complete():
    for T in (0, 1, 5, 59, 60, 61, 500, 2000):
        for m in (2, 10, 60):
            s = core.frame_steps(T, m)
            assert s[0] == 0 and s[-1] == T and len(s) <= max(m, 2) and np.all(np.diff(s) > 0)


def test_json_size_under_1mb_for_six_optimizers_500_steps(six_runs):
    c = figures.add_click_grid(figures.contour(ROSEN, six_runs), ROSEN)
    a = figures.animated_contour(ROSEN, six_runs, max_frames=60)
    assert figures.figure_size_bytes(c) < 300_000
    assert figures.figure_size_bytes(a) < 1_000_000
    assert figures.figure_size_bytes(figures.curves(six_runs)) < 300_000


def test_one_colour_per_optimizer_across_figures(six_runs):
    figs = [figures.contour(ROSEN, six_runs), figures.surface3d(ROSEN, six_runs), figures.loss_curves(six_runs),
            figures.grad_norm_curves(six_runs), figures.curves(six_runs)]
    for tr in six_runs:
        colours = {by_name(f, tr.label).line.color for f in figs}
        assert colours == {style.optimizer_color(tr.optimizer)}
    anim = figures.animated_contour(ROSEN, six_runs)
    assert {by_name(anim, tr.label).line.color for tr in six_runs} == {style.optimizer_color(n) for n, _ in SIX}
    assert len({style.optimizer_color(n) for n in optlab.optimizers.names()}) == len(optlab.optimizers.names())


def test_every_registered_surface_draws_a_finite_contour():
    for name in optlab.surfaces.names():
        s = optlab.surfaces.get(name)
        z = arr(figures.contour(s).data[0].z)
        assert np.isfinite(z).mean() > 0.9, name


def test_click_grid_covers_the_window():
    fig = figures.add_click_grid(figures.contour(ROSEN), ROSEN, n=20)
    g = fig.data[-1]
    assert len(arr(g.x)) == 400 and g.mode == "markers"
    assert arr(g.x).min() == -2 and arr(g.x).max() == 2 and arr(g.y).min() == -1 and arr(g.y).max() == 3
    np.testing.assert_allclose(arr(g.customdata), ROSEN.value(np.stack([arr(g.x), arr(g.y)], -1)), rtol=1e-3, atol=1e-4)


def test_small_builders():
    a = valid(figures.vector_arrows([[0, 0], [1, 1]], [[1, 0], [0, 2]], scale=0.5, name="g", color="#123456"))
    t = a.data[0]
    np.testing.assert_allclose(arr(t.x)[[0, 1, 3, 4]], [0, 0.5, 1, 1])
    np.testing.assert_allclose(arr(t.y)[[0, 1, 3, 4]], [0, 0, 1, 2])
    assert list(t.marker.size[:3]) == [0, 11, 0] and t.marker.angleref == "previous"
    lf = valid(figures.line_figure(np.arange(4), {"adam": [1, 2, 3, 4], "other": [4, 3, 2, 1]}, log_y=True))
    assert lf.data[0].line.color == style.optimizer_color("adam") and lf.layout.yaxis.type == "log"
    hm = valid(figures.heatmap([1e-3, 1e-2], [0.0, 0.9], [[1, 2], [3, 4]], log_x=True, zlabel="loss"))
    assert hm.data[0].type == "heatmap" and hm.layout.xaxis.type == "log"
    f = valid(figures.apply_layout(go.Figure(), title="T", height=300))
    assert f.layout.title.text == "T" and f.layout.height == 300


def test_a_line_search_try_number_sits_on_the_side_with_room():
    """Each try's number goes above or below its marker, whichever side has more room before the
    tangent or the Armijo line: an accepted try under both lines has its number below it (above,
    it sat on the tangent); a rejected try above both keeps it above."""
    import numpy as np

    from optlab.chapters.newton import LineSearchTrace
    from optlab.figures import newton as nfig

    s = np.array([1.0, 0.5, 0.25, 0.125])
    f0, slope = 170.0, -630.0
    trace = LineSearchTrace(np.zeros(2), np.ones(2), f0, slope, 1.0, 1e-4, 0.5, s,
                            np.array([600.0, 500.0, 400.0, 30.0]), f0 + 1e-4 * slope * s, 3, 0.125,
                            np.linspace(0, 1, 20), np.r_[170.0, 30.0, np.linspace(100, 600, 18)])
    spec = nfig.line_search(trace).to_plotly_json()
    tries = {t["name"]: t for t in spec["data"] if t.get("mode") == "markers+text"}
    assert list(tries["accepted try"]["textposition"]) == ["bottom center"]  # tangent at s: 91 > 30
    trace.values[3] = 150.0  # between the tangent (91) and the Armijo line (≈170): more room below
    spec = nfig.line_search(trace).to_plotly_json()
    tries = {t["name"]: t for t in spec["data"] if t.get("mode") == "markers+text"}
    assert list(tries["accepted try"]["textposition"]) == ["bottom center"]
    trace.values[3] = 100.0  # just over the tangent, far below the Armijo line: room above
    spec = nfig.line_search(trace).to_plotly_json()
    tries = {t["name"]: t for t in spec["data"] if t.get("mode") == "markers+text"}
    assert list(tries["accepted try"]["textposition"]) == ["top center"]


def test_presenter_fonts_scale_the_text_and_the_room_a_legend_below_needs():
    """On a projector the chart's text grows with the page's: the default font and every explicit
    size; a legend under the plot gets its bottom margin (and the figure its height) scaled with
    it, so it does not run into the axis titles; data arrays are shared, the input untouched."""
    xs = np.arange(5.0)
    fig = core.legend_below(core._figure(
        [dict(type="scatter", x=xs, y=xs, name="a", textfont=dict(size=12)),
         dict(type="scatter", x=xs, y=xs, name="b")],
        core.base_layout("t", 300, xaxis=dict(tickfont=dict(size=10)),
                         annotations=[dict(text="n", x=0, y=0, font=dict(size=11))])))
    spec = core.figure_dict(fig)
    before = json_of(spec)
    out = core.presenter_fonts(spec, 1.25)
    assert json_of(spec) == before, "the figure itself is not changed"
    lay, was = out["layout"], spec["layout"]
    assert lay["font"]["size"] == round(style.FONT["size"] * 1.25)
    assert lay["title"]["font"]["size"] == round(was["title"]["font"]["size"] * 1.25)
    assert lay["xaxis"]["tickfont"]["size"] == 12 and lay["annotations"][0]["font"]["size"] == 14
    assert out["data"][0]["textfont"]["size"] == 15 and out["data"][0]["x"] is spec["data"][0]["x"]
    extra = lay["margin"]["b"] - was["margin"]["b"]
    assert extra == round(was["margin"]["b"] * 0.25) and lay["height"] == was["height"] + extra


def json_of(spec) -> str:
    import json

    return json.dumps(spec, default=lambda a: a.tolist(), sort_keys=True)


def test_a_legend_below_counts_only_the_entries_the_legend_draws():
    """A heatmap or a contour is not in a legend unless asked (its key is the colour bar): the room
    under the plot is for the entries drawn, not a gap for each of them."""
    xs = np.arange(3.0)
    base = [dict(type="scatter", x=xs, y=xs, name="a"), dict(type="scatter", x=xs, y=xs, name="b")]
    extra = [dict(type="heatmap", z=np.eye(3), name="steps"), dict(type="contour", z=np.eye(3), name="f"),
             dict(type="heatmap", z=np.eye(3), name="shown", showlegend=True)]
    two = core.figure_dict(core.legend_below(core._figure(base, core.base_layout(None, 300))))
    more = core.figure_dict(core.legend_below(core._figure(base + extra, core.base_layout(None, 300))))
    line = core.LEGEND_LINE_PX
    assert more["layout"]["margin"]["b"] - two["layout"]["margin"]["b"] == line  # only "shown" adds a line
    assert core.legend_entries(go.Figure(base + extra)) == ["a", "b", "shown"]


def test_wrapped_text_counts_chinese_as_two_columns_and_breaks_between_characters():
    # Chinese has no spaces: it used to stay one line ("SGD，普通梯度下降（lr = 0.03）" ran past a
    # narrow chart's edge at 1024 px)
    assert core.wrap_text("SGD，普通梯度下降（lr = 0.03）", 20) == "SGD，普通梯度下降<br>（lr = 0.03）"
    assert core.wrap_text("textbook momentum, step decay", 20) == "textbook momentum,<br>step decay"
    assert core.wrap_text("梯度消失：sigmoid，朴素初始化", 20) == "梯度消失：sigmoid，<br>朴素初始化"  # "，" never starts a line
    assert core.wrap_text("short", 20) == "short" and core.wrap_text("a<br>b c d e f g h", 3) == "a<br>b c d e f g h"
    for text in ("健康：ReLU，He 初始化，Adam", "communication rounds (same data mix)", "λ = 0.001 and words"):
        lines = core.wrap_text(text, 16).split("<br>")
        assert all(core.text_width(l) <= 16 or " " not in l and not any(core.text_width(c) == 2 for c in l)
                   for l in lines), lines
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")


def test_a_legend_below_makes_room_for_an_x_title_on_two_lines():
    def fig(title):
        return go.Figure([go.Scatter(x=[0, 1], y=[0, 1], name="a")], layout=dict(xaxis=dict(title=dict(text=title))))

    one = core.legend_below(fig("rounds")).layout.margin.b
    two = core.legend_below(fig("communication rounds<br>(same data mix)")).layout.margin.b
    assert two == one + core.LEGEND_LINE_PX
