r"""The figure kit: Plotly builders for surfaces, optimizer paths, curves and animations.

Every builder returns a ``plotly.graph_objects.Figure`` (no Streamlit here, so they work in a
notebook too).  Trajectories are :class:`optlab.Trajectory` objects or ``(label, xs)`` pairs
(optionally ``(label, xs, {"losses": …, "grad_norms": …, "diverged_at": …, "color": …})``);
``xs`` is ``(T+1, 2)`` for one run or ``(T+1, B, 2)`` for a batch, drawn as several thin lines of
one colour.  Colours follow the registry of :mod:`optlab.figures.style`: each optimizer keeps its
colour in every figure; a further run of an optimizer already drawn (say "Adam (tuned)") is a
variant and takes the next variant colour (or the ``"variant"`` the caller names in ``extra``);
every trace carries ``meta`` saying which optimizer (and variant) or which role it shows.

Size discipline: coordinates are rounded to 5 decimals and sent as float32, contour grids are at
most 150², animations have a bounded number of frames, so a 6-optimizer × 500-step figure stays
well under 1 MB of JSON.
"""
from __future__ import annotations

import base64
import functools
import itertools
import re
import threading

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from . import style
from ..i18n import domain, text_width

_, N_, ngettext = domain("optlab")

MAX_GRID = 150
LOG_EPS = 1e-3          # log10(f − f_min + ε): ε sets how deep the log contours go near the minimum
PAD = 0.0               # paths are clipped to the window (grown by this fraction per side)
EDGE = 0.015            # markers on the border are moved this fraction inside, so they show whole
DASHES = ("solid", "dash", "dot", "dashdot", "longdash")
CASING = "rgba(255,255,255,0.75)"   # under single paths on a contour (see _path_traces)

__all__ = [
    "contour", "surface3d", "loss_curves", "grad_norm_curves", "curves", "animated_contour",
    "apply_layout", "line_figure", "heatmap", "vector_arrows", "add_click_grid", "figure_size_bytes",
    "normalize_runs", "RunPath", "clip_path", "surface_grid", "frame_steps", "window_of", "base_layout",
    "surface_image", "figure_dict", "LazyFigure",
]


# ----------------------------------------------------------------------------------------------
# Inputs
# ----------------------------------------------------------------------------------------------
@dataclass
class RunPath:
    """One optimizer's path(s) in the form the builders draw: always batched ``(T+1, B, 2)``."""

    label: str
    name: str                      # colour key (optimizer name)
    xs: np.ndarray                 # (T+1, B, 2), NaN after a divergence
    losses: np.ndarray | None      # (T+1, B)
    grad_norms: np.ndarray | None  # (T+1, B)
    diverged_at: np.ndarray        # (B,), −1 where the run did not diverge
    reasons: list[str]
    batched: bool
    color: str
    dash: str
    variant: int = 0               # 0: the optimizer's own colour; k ≥ 1: its k-th variant colour
    meta: dict | None = None       # the trace tag (style.optimizer_meta / style.role_meta)

    @property
    def steps(self) -> int:
        return self.xs.shape[0] - 1


def _col(a, T1: int, B: int) -> np.ndarray | None:
    if a is None:
        return None
    a = np.asarray(a, dtype=float)
    return a.reshape(T1, B) if a.size == T1 * B else None


def _last_finite_diverged(xs: np.ndarray) -> np.ndarray:
    """Step of the first non-finite position per run (−1: none), for paths given without flags."""
    bad = ~np.isfinite(xs).all(axis=-1)  # (T+1, B)
    first = np.where(bad.any(axis=0), bad.argmax(axis=0), -1)
    return first


def normalize_runs(trajectories: Iterable[Any]) -> list[RunPath]:
    """Turn Trajectory objects / ``(label, xs[, extra])`` tuples into :class:`RunPath` records.

    Colours come from the optimizer name (the Trajectory's ``optimizer``, else ``extra["name"]``,
    else the label's first word): the first run of an optimizer takes its colour, every further
    run of an optimizer already drawn the next free variant colour (:mod:`.style`, rule 2), unless
    ``extra["variant"]`` names it.  A path whose name is no optimizer is a role: ``extra["color"]``
    (default ink) and ``extra["role"]`` (default ``"path"``).
    """
    items = list(trajectories)
    runs: list[RunPath] = []
    seen: set[str] = set()
    taken = {int(t[2]["variant"]) for t in items
             if isinstance(t, (tuple, list)) and len(t) == 3 and t[2].get("variant") is not None}
    next_variant = 1
    for i, tr in enumerate(items):
        extra: Mapping[str, Any] = {}
        if isinstance(tr, (tuple, list)):
            if len(tr) == 3:
                label, xs, extra = tr
            else:
                label, xs = tr
            name = str(extra.get("name", label))
            losses, gns = extra.get("losses"), extra.get("grad_norms")
            dv, reasons = extra.get("diverged_at"), extra.get("diverged_reason")
        else:
            if getattr(tr, "xs", None) is None:
                raise ValueError(f"trajectory {getattr(tr, 'label', i)!r} has no positions; run it with record='path' or 'full'")
            label, xs, name = tr.label, tr.xs, tr.optimizer
            losses, gns = tr.losses, tr.grad_norms
            dv, reasons = tr.diverged_at, tr.diverged_reason
            extra = getattr(tr, "extra", None) or {}
        xs = np.asarray(xs, dtype=float)
        if xs.ndim == 2:
            xs = xs[:, None, :]
            batched = False
        elif xs.ndim == 3:
            batched = True
        else:
            raise ValueError(f"positions of {label!r} must have shape (T+1, 2) or (T+1, B, 2); got {xs.shape}")
        if xs.shape[-1] != 2:
            raise ValueError(f"positions of {label!r} must be 2-D points; got shape {xs.shape}")
        T1, B = xs.shape[:2]
        dv = _last_finite_diverged(xs) if dv is None else np.asarray(dv, dtype=int).reshape(-1)
        if dv.size != B:
            dv = np.broadcast_to(dv, (B,)).copy()
        if reasons is None:
            reasons = [""] * B
        elif isinstance(reasons, str):
            reasons = [reasons] * B
        else:
            reasons = [str(r) for r in np.asarray(reasons, dtype=object).reshape(-1)]
        key = style.optimizer_key(name)
        if key:
            variant = extra.get("variant")
            if variant is None:
                variant = 0
                if key in seen:
                    while next_variant in taken:
                        next_variant += 1
                    variant, next_variant = next_variant, next_variant + 1
            seen.add(key)
            variant = int(variant)
            color, meta = style.optimizer_color(key, variant), style.optimizer_meta(key, variant)
            dash = extra.get("dash") or style.optimizer_dash(key, variant)
        else:
            variant = 0
            color = extra.get("color") or style.INK
            meta = style.role_meta(extra.get("role", "path"))
            dash = extra.get("dash") or "solid"
        runs.append(RunPath(str(label), str(name), xs, _col(losses, T1, B), _col(gns, T1, B),
                            dv, list(reasons), batched, color, dash, variant, meta))
    return runs


def window_of(surface, window=None):
    """``((x0, x1), (y0, y1))`` from an explicit window or the surface's."""
    (x0, x1), (y0, y1) = window or surface.window
    return (float(x0), float(x1)), (float(y0), float(y1))


def _f32(a) -> np.ndarray:
    return np.round(np.asarray(a, dtype=float), 5).astype(np.float32)


# ----------------------------------------------------------------------------------------------
# Geometry: clipping paths to the (padded) window
# ----------------------------------------------------------------------------------------------
def _padded(window, pad: float = PAD):
    (x0, x1), (y0, y1) = window
    dx, dy = (x1 - x0) * pad, (y1 - y0) * pad
    return (x0 - dx, x1 + dx), (y0 - dy, y1 + dy)


def _inside(p, box, frac: float = EDGE) -> np.ndarray:
    """``p`` moved just inside ``box``: a marker centred on the border would be cut in half."""
    (x0, x1), (y0, y1) = box
    ex, ey = frac * (x1 - x0), frac * (y1 - y0)
    return np.array([min(max(p[0], x0 + ex), x1 - ex), min(max(p[1], y0 + ey), y1 - ey)])


def _clip_segment(p, q, box):
    """Liang–Barsky: the part ``[t0, t1]`` of segment p→q inside ``box`` (None if none)."""
    (xmin, xmax), (ymin, ymax) = box
    d = q - p
    t0, t1 = 0.0, 1.0
    for pk, qk in ((-d[0], p[0] - xmin), (d[0], xmax - p[0]), (-d[1], p[1] - ymin), (d[1], ymax - p[1])):
        if pk == 0:
            if qk < 0:
                return None
        else:
            r = float(qk) / float(pk)  # Python floats: a huge ratio is ±inf or ±1e308, no warning
            if pk < 0:
                t0 = max(t0, r)
            else:
                t1 = min(t1, r)
    if t0 > t1:
        return None
    return p + t0 * d, p + t1 * d, t0 > 0, t1 < 1


def clip_path(xy: np.ndarray, box) -> tuple[np.ndarray, np.ndarray, list[tuple[np.ndarray, float, int]]]:
    """Clip a finite polyline ``(N, 2)`` to ``box``.

    Returns the drawn points (NaN rows break the line where it leaves), the step index of each
    drawn point (for hover; −1 at breaks) and the exits: ``(border point, angle in degrees, step)``
    where the path leaves the box, for an arrow marker.  Parts outside are replaced by straight
    lines to the border, so a run that shoots off to 10⁶ does not stretch the axes.
    """
    (xmin, xmax), (ymin, ymax) = box
    inside = (xy[:, 0] >= xmin) & (xy[:, 0] <= xmax) & (xy[:, 1] >= ymin) & (xy[:, 1] <= ymax)
    steps = np.arange(len(xy))
    if inside.all():
        return xy, steps, []
    pts: list[np.ndarray] = []
    idx: list[int] = []
    exits: list[tuple[np.ndarray, float, int]] = []
    if inside[0]:
        pts.append(xy[0]); idx.append(0)
    for k in range(len(xy) - 1):
        p, q = xy[k], xy[k + 1]
        if inside[k] and inside[k + 1]:
            pts.append(q); idx.append(k + 1)
            continue
        c = _clip_segment(p, q, box)
        if c is None:
            continue
        a, b, entered, left = c
        if entered:
            if pts and not np.isnan(pts[-1][0]):
                pts.append(np.array([np.nan, np.nan])); idx.append(-1)
            pts.append(a); idx.append(k)
        pts.append(b); idx.append(k + 1 if not left else k)
        if left:
            d = q - p
            exits.append((b, float(np.degrees(np.arctan2(d[0], d[1]))), k + 1))
            pts.append(np.array([np.nan, np.nan])); idx.append(-1)
    if not pts:
        return np.zeros((0, 2)), np.zeros(0, dtype=int), exits
    return np.array(pts), np.array(idx), exits

# ----------------------------------------------------------------------------------------------
# Assembly: traces and layout are plain dicts, validated by Plotly's schema in the tests only.
# ----------------------------------------------------------------------------------------------
# Building go.Scatter objects one by one validates every property (≈1 ms per trace, 15–30 ms per
# figure); a Streamlit page rebuilds its figures on every rerun, so the builders assemble dicts and
# create the Figure once without validation.  tests/test_figures.py re-validates each figure type.
def _merge(a: dict, b: Mapping) -> dict:
    """Deep merge ``b`` into ``a`` (dicts only; other values replace)."""
    for k, v in b.items():
        if isinstance(v, Mapping) and isinstance(a.get(k), dict):
            _merge(a[k], v)
        else:
            a[k] = dict(v) if isinstance(v, Mapping) else v
    return a


class LazyFigure(go.Figure):
    """A ``go.Figure`` kept as its plain dict (``{"data", "layout"[, "frames"]}``) until code uses it
    as a figure: the first ``update_layout``, ``add_trace``, ``.data``, ``.show()`` … builds Plotly's
    objects from the dict, exactly as ``go.Figure(spec, _validate=False)`` would have at once.

    Most figures a page builds are only drawn: :func:`figure_dict` reads the dict as it is, so
    Plotly's objects (and their deep copies of every list) are never made for them.  ``typed``:
    the dict already holds Plotly's typed arrays and no trace ``uid`` (what :func:`figure_dict`
    returns), as a figure read back from a cache does.
    """

    def __init__(self, spec: dict, typed: bool = False):  # noqa: D107 - Plotly's state is made on first use
        d = self.__dict__
        d["_optlab_spec"], d["_optlab_typed"] = spec, typed
        d["_optlab_lock"], d["_optlab_building"] = threading.RLock(), False  # one build, whoever asks

    def __getattr__(self, name):  # only for attributes not set yet: Plotly's, before they are built
        d = self.__dict__
        lock = d.get("_optlab_lock")
        if lock is None:
            raise AttributeError(name)
        with lock:  # a figure shared by sessions (st.cache_resource) may be asked from two threads
            if d["_optlab_building"]:  # Plotly's own __init__ looking for what it has not set yet
                raise AttributeError(name)
            if "_optlab_spec" in d:
                d["_optlab_building"] = True
                try:
                    go.Figure.__init__(self, d["_optlab_spec"], _validate=False)
                finally:
                    d["_optlab_building"] = False
                del d["_optlab_spec"], d["_optlab_typed"]  # after the build: readers saw the dict until now
        return object.__getattribute__(self, name)


def unbuilt_spec(fig, data: bool = False) -> dict | None:
    """The dict of a :class:`LazyFigure` whose Plotly objects are not built yet (with ``data``: only
    if its traces still hold NumPy arrays or lists, not typed arrays read back from a cache), else
    None. A figure helper that edits this dict instead of calling ``update_layout`` keeps the
    figure a dict."""
    d = fig.__dict__
    spec = d.get("_optlab_spec")
    if spec is None or (data and d.get("_optlab_typed")):
        return None
    return spec


def _lazy_ok(traces, layout, frames) -> bool:
    """Whether the dict alone says what Plotly would: every trace a dict with its type, and a
    template in the layout (Plotly adds its default template to a figure that has none)."""
    return (isinstance(layout, dict) and "template" in layout
            and all(type(t) is dict and "type" in t for t in traces)
            and all(type(f) is dict for f in frames or ()))


def _figure(traces: Sequence[dict], layout: dict, frames: Sequence[dict] | None = None) -> go.Figure:
    traces = list(traces)
    if _lazy_ok(traces, layout, frames):
        spec = {"data": traces, "layout": layout}
        if frames:
            spec["frames"] = list(frames)
        return LazyFigure(spec)
    return go.Figure(data=traces, layout=layout, frames=frames, _validate=False)


def _template() -> dict:
    """A small plotly_white-like template: the named template weighs ~6 kB of JSON and ~10 ms of
    validation per figure."""
    axis = dict(gridcolor="#EBF0F8", linecolor="#EBF0F8", zerolinecolor="#EBF0F8", ticks="",
                title=dict(standoff=10), automargin=True)
    scene_axis = dict(backgroundcolor="white", gridcolor="#DFE8F3", showbackground=True)
    return dict(layout=dict(
        paper_bgcolor="white", plot_bgcolor="white", colorway=list(style.SERIES_COLORS), font=dict(style.FONT),
        xaxis=axis, yaxis=axis, hovermode="closest",
        scene=dict(xaxis=scene_axis, yaxis=scene_axis, zaxis=scene_axis)))


# Top margin of a figure with a title: the title (17 px, at the top edge) and under it one row of
# the legend above the plot.
TITLE_TOP_PX = 76


def base_layout(title: str | None = None, height: int | None = None, **layout) -> dict:
    """OptLab's layout as a dict (template, font, margins, legend above the plot)."""
    out = dict(
        template=_template(), font=dict(style.FONT),
        margin=dict(l=10, r=10, t=TITLE_TOP_PX if title else 30, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0.0,
                    bgcolor="rgba(255,255,255,0.6)"),
        hoverlabel=dict(font=dict(size=13, family=style.FONT_FAMILY)),
    )
    if title is not None:
        # at the top edge, over the legend row (Plotly's default puts it halfway down the margin,
        # where a legend above the plot runs into it), from the figure's left edge (a narrow chart's
        # title needs the width of its tick labels too)
        out["title"] = dict(text=title, x=0.0, xanchor="left", xref="container", y=1.0, yref="container",
                            yanchor="top", pad=dict(t=6, l=4), font=dict(size=17))
    if height is not None:
        out["height"] = int(height)
    return _merge(out, layout)


@functools.lru_cache(maxsize=1)
def _template_object() -> go.layout.Template:
    return go.layout.Template(_template())


def apply_layout(fig: go.Figure, title: str | None = None, height: int | None = None, **layout) -> go.Figure:
    """Give any figure OptLab's look: template, font, compact margins, legend above the plot.

    The small template is assigned as a ready object first: merging a layout into Plotly's big
    default template walks all of it (≈60–90 ms per figure, measured) instead of ≈5 ms.
    """
    lay = base_layout(title, height, **layout)
    lay.pop("template", None)
    fig.layout.template = _template_object()
    fig.update_layout(lay)
    return fig


LEGEND_WRAP = 40        # characters per legend line: a half-width chart on a 1024 px projector
LEGEND_LINE_PX = 21     # one legend line (14 px font)
AXIS_BELOW_PX = 64      # x tick labels and the x-axis title under a plot


PRESENTER_SCALE = 1.25  # chart text on a projector (the page's own text is 1.3×: optlab.ui.state)


def _scaled_font(font, factor: float, default: float | None = None):
    if not isinstance(font, dict):
        return dict(size=round(default * factor)) if default else font
    size = font.get("size", default)
    return {**font, "size": round(size * factor)} if isinstance(size, (int, float)) else font


def presenter_fonts(spec: dict, factor: float = PRESENTER_SCALE) -> dict:
    """A figure dict with its text ``factor`` times larger, for a projector: the default font, the
    axes' tick labels and titles, the legend, annotations, titles and traces' own text (each
    explicit size scaled, the rest following the default), and, for a legend under the plot
    (:func:`legend_below`), the bottom margin it was given and the height with it, so the legend
    does not run into the axis titles.  Only the dicts on the way are copied; data arrays are shared."""
    lay = dict(spec.get("layout") or {})
    lay["font"] = _scaled_font(lay.get("font"), factor, style.FONT["size"])
    for key, val in list(lay.items()):
        if isinstance(val, dict) and (key.startswith(("xaxis", "yaxis")) or key in ("legend", "title", "coloraxis")):
            val = dict(val)
            for part in ("font", "tickfont"):
                if isinstance(val.get(part), dict):
                    val[part] = _scaled_font(val[part], factor)
            if isinstance(val.get("title"), dict) and isinstance(val["title"].get("font"), dict):
                val["title"] = {**val["title"], "font": _scaled_font(val["title"]["font"], factor)}
            lay[key] = val
    if isinstance(lay.get("annotations"), (list, tuple)):
        lay["annotations"] = [{**a, "font": _scaled_font(a["font"], factor)} if isinstance(a, dict) and
                              isinstance(a.get("font"), dict) else a for a in lay["annotations"]]
    legend, margin = lay.get("legend"), lay.get("margin")
    if isinstance(legend, dict) and legend.get("yref") == "container" and isinstance(margin, dict) \
            and isinstance(margin.get("b"), (int, float)):
        extra = round(margin["b"] * (factor - 1))
        lay["margin"] = {**margin, "b": margin["b"] + extra}
        if isinstance(lay.get("height"), (int, float)):
            lay["height"] = lay["height"] + extra
    data = []
    for tr in spec.get("data") or []:
        if isinstance(tr, dict) and isinstance(tr.get("textfont"), dict):
            tr = {**tr, "textfont": _scaled_font(tr["textfont"], factor)}
        data.append(tr)
    return {**spec, "layout": lay, "data": data}


# A wide character (Chinese, full-width punctuation) is one token and takes two columns; a run of
# other non-space characters is one word; marks that must not start a line stay with the one before.
_TOKENS = re.compile(r"[\u2E80-\u9FFF\uF900-\uFAFF\uFF00-\uFFEF\u3000-\u303F]|[^\s\u2E80-\u9FFF\uF900-\uFAFF\uFF00-\uFFEF\u3000-\u303F]+|\s+")
_NO_LINE_START = set("，。、；：！？）》」』】〕〉,.;:!?)")
_NO_LINE_END = set("（《「『【〔〈(")


def wrap_text(text: str, chars: int = LEGEND_WRAP) -> str:
    """``text`` broken with ``<br>`` so that no line is wider than ``chars`` columns (a Chinese
    character counts two): at spaces, and between Chinese characters except before a closing mark
    (，。）…) or after an opening one (（…); a longer word stays whole.  Text that already holds ``<br>`` is left alone."""
    if "<br>" in text or text_width(text) <= chars:
        return text
    lines, line = [], ""
    for tok in _TOKENS.findall(text):
        if tok.isspace():
            if line:
                line += " "
            continue
        if line and text_width(line + tok) > chars and tok not in _NO_LINE_START:
            carry = ""
            while line and line[-1] in _NO_LINE_END:  # an opening mark goes with what it opens
                line, carry = line[:-1], line[-1] + carry
            if line.strip():
                lines.append(line.rstrip())
            line = carry + tok
        else:
            line += tok
    return "<br>".join(lines + [line.rstrip()])


def wrap_legend(fig: go.Figure, chars: int = LEGEND_WRAP) -> go.Figure:
    """Break long legend entries over several lines (Plotly cuts a legend at the figure's edge:
    "optlab SGD: ŷ = 0.999999·x + 1.49e-0" at 1024 px).  A figure still held as a dict
    (:func:`unbuilt_spec`) stays one."""
    spec = unbuilt_spec(fig)
    if spec is not None:
        for t in spec["data"]:
            if isinstance(t.get("name"), str):
                t["name"] = wrap_text(t["name"], chars)
        return fig
    for t in fig.data:
        if isinstance(t.name, str):
            t.name = wrap_text(t.name, chars)
    return fig


# Trace types Plotly leaves out of the legend unless showlegend is set: a colour scale is their key
NO_LEGEND_BY_DEFAULT = frozenset(("heatmap", "contour", "surface", "histogram2d", "histogram2dcontour",
                                  "densitymapbox", "choropleth"))


def _in_legend(kind: str | None, showlegend, name, visible) -> bool:
    if not name or visible is False or showlegend is False:
        return False
    return showlegend is True or (kind or "scatter") not in NO_LEGEND_BY_DEFAULT


def legend_entries(fig: go.Figure) -> list[str]:
    """Names the legend shows, one per entry (traces hidden from the legend left out)."""
    return [t.name for t in fig.data if _in_legend(t.type, t.showlegend, t.name, t.visible)]


def _title_text(axis: dict) -> str:
    t = axis.get("title")
    t = t.get("text") if isinstance(t, dict) else t
    return t if isinstance(t, str) else ""


def legend_below(fig: go.Figure, rows: int | None = None, *, wrap: int | None = LEGEND_WRAP,
                 grow: bool = True) -> go.Figure:
    """The legend in one column at the bottom of the figure, under the x-axis titles, never on them.

    Above the plot a legend covers subplot titles; just under the axes (paper coordinates) it runs
    into the axis title when the chart is narrow (1024 px), and a horizontal legend wraps into an
    unknown number of rows.  Here the legend is anchored to the figure's bottom edge (container
    coordinates), one entry per line, long names wrapped at ``wrap`` characters, and the bottom
    margin is the axis labels (an x-axis title wrapped with ``<br>`` counts its lines) plus
    exactly the legend's lines; with ``grow`` the figure grows by
    the legend's height so that the plot keeps its size.  ``rows``: at least this many lines.
    """
    spec = unbuilt_spec(fig)
    traces = spec["data"] if spec is not None else None  # still a dict: edit it, build nothing
    if wrap:
        if traces is None:
            wrap_legend(fig, wrap)
        else:
            for t in traces:
                if isinstance(t.get("name"), str):
                    t["name"] = wrap_text(t["name"], wrap)
    names = legend_entries(fig) if traces is None else [
        t["name"] for t in traces if _in_legend(t.get("type"), t.get("showlegend"), t.get("name"), t.get("visible"))]
    lines = sum(1 + name.count("<br>") for name in names)
    lines = max(lines, rows or 0, 1)
    legend_px = lines * LEGEND_LINE_PX + 8
    lay = spec["layout"] if traces is not None else fig.layout.to_plotly_json()
    below = AXIS_BELOW_PX + LEGEND_LINE_PX * max(
        [_title_text(v).count("<br>") for k, v in lay.items() if k.startswith("xaxis") and isinstance(v, dict)] or [0])
    update = dict(legend=dict(orientation="v", yref="container", yanchor="bottom", y=0.0, xanchor="left", x=0.0,
                              bgcolor="rgba(255,255,255,0)", tracegroupgap=0),
                  margin=dict(b=below + legend_px))
    if traces is not None:
        layout = spec["layout"]
        _merge(layout, update)
        if grow and layout.get("height"):
            layout["height"] = int(layout["height"]) + legend_px
        return fig
    fig.update_layout(**update)
    if grow and fig.layout.height:
        fig.update_layout(height=int(fig.layout.height) + legend_px)
    return fig


def _fixed_axes(window, *, equal: bool = True, uirevision: str = "window") -> dict:
    """Layout fragment: axis ranges fixed to the window, (near) equal aspect, stable uirevision."""
    (x0, x1), (y0, y1) = window
    lay = dict(
        xaxis=dict(range=[x0, x1], autorange=False, title=dict(text="x"), constrain="domain",
                   showgrid=False, zeroline=False),
        yaxis=dict(range=[y0, y1], autorange=False, title=dict(text="y"), showgrid=False, zeroline=False),
        # uirevision keeps the user's zoom across Streamlit reruns while the window stays the same
        uirevision=f"{uirevision}:{x0:g},{x1:g},{y0:g},{y1:g}",
    )
    ratio = (y1 - y0) / (x1 - x0) if x1 > x0 else 1.0
    if equal and 1 / 3 <= ratio <= 3:
        lay["yaxis"].update(scaleanchor="x", scaleratio=1, constrain="domain")
    return lay


def figure_size_bytes(fig: go.Figure) -> int:
    """Size of the figure's JSON (what Streamlit sends to the browser)."""
    import plotly.io as pio

    return len(pio.to_json(fig, validate=False).encode())


_SCALARS = (str, int, float, bool, type(None))
_SCALAR_TYPES = frozenset(_SCALARS)
_SEQUENCES = frozenset((list, tuple))
_CONTAINERS = frozenset((list, tuple, dict))  # never arrays for plotly (is_homogeneous_array is slow)
# NumPy dtypes plotly.js reads as typed arrays (int64 is narrowed by plotly first: left to plotly)
_BDATA = {"int8": "i1", "uint8": "u1", "int16": "i2", "uint16": "u2", "int32": "i4", "uint32": "u4",
          "float32": "f4", "float64": "f8"}
_SKIPPED_KEYS = frozenset(("geojson", "layer", "layers", "range"))  # plotly leaves these as they are


def _typed_arrays(obj):
    """``obj`` with every NumPy array that is a dict value turned into Plotly's typed-array spec
    (``{"dtype", "bdata"[, "shape"]}``), as ``BaseFigure.to_dict`` does; containers without an
    array are returned as they are (shared, not copied)."""
    from _plotly_utils.basevalidators import is_homogeneous_array
    from _plotly_utils.utils import to_typed_array_spec

    if isinstance(obj, dict):
        out = None
        for k, v in obj.items():
            if type(v) in _SCALARS or k in _SKIPPED_KEYS:
                continue
            if type(v) is np.ndarray and v.dtype.name in _BDATA and v.size:  # plotly's encoding, minus its
                nv = {"dtype": _BDATA[v.dtype.name],                         # generic dataframe checks
                      "bdata": base64.b64encode(np.ascontiguousarray(v)).decode("ascii")}
                if v.ndim > 1:
                    nv["shape"] = str(v.shape)[1:-1]
            elif type(v) is np.ndarray and v.dtype.kind in "Ub":  # strings, booleans: plotly sends them
                nv = v.tolist()                                     # as a plain list (via an object array)
            elif type(v) not in _CONTAINERS and is_homogeneous_array(v):
                nv = to_typed_array_spec(v)
                if type(nv) is np.ndarray and nv.dtype == object:  # strings, booleans: plotly sends
                    nv = nv.tolist()                                # a plain list (orjson can't encode
                                                                    # object arrays: slow fallback)
            else:
                nv = _typed_arrays(v)
            if nv is not v:
                if out is None:
                    out = dict(obj)
                out[k] = nv
        return obj if out is None else out
    if isinstance(obj, (list, tuple)):
        kinds = set(map(type, obj))  # at C speed: a long list of numbers, or of rows of numbers
        if _SCALAR_TYPES.issuperset(kinds) or (
                kinds <= _SEQUENCES and _SCALAR_TYPES.issuperset(map(type, itertools.chain.from_iterable(obj)))):
            return obj
        out = None
        for i, v in enumerate(obj):
            if type(v) in _SCALARS:
                continue
            nv = _typed_arrays(v)  # plotly converts arrays under dicts only, not list items
            if nv is not v:
                if out is None:
                    out = list(obj)
                out[i] = nv
        if out is None:
            return obj
        return out if isinstance(obj, list) else tuple(out)
    return obj


def figure_dict(fig: go.Figure) -> dict:
    """``fig.to_dict()`` without its deep copies: the same dict (arrays as Plotly's base64 typed
    arrays, trace ``uid`` left out as ``plotly.io.to_json`` does), sharing every list and nested
    dict that holds no array with the figure.  ``to_dict`` deep-copies every array and list first
    (measured: a third of the server time of drawing a chart in Streamlit).  A :class:`LazyFigure`
    is read from its dict, without building Plotly's objects.  Read-only: the shared parts belong
    to ``fig``; the top level and each trace dict are new."""
    spec = fig.__dict__.get("_optlab_spec")
    if spec is not None and fig.__dict__.get("_optlab_typed"):
        return {**spec, "data": [dict(t) for t in spec["data"]]}
    if spec is not None:
        traces, layout, frames = spec["data"], spec["layout"], spec.get("frames") or ()
    else:  # plotly's own storage of the properties (to_dict reads them too)
        traces, layout, frames = fig._data, fig._layout, [f._props for f in fig._frame_objs]
    data = []
    for trace in traces:
        t = _typed_arrays(trace)
        t = dict(t) if t is trace else t
        t.pop("uid", None)
        data.append(t)
    out = {"data": data, "layout": dict(_typed_arrays(layout))}
    frames = [_typed_arrays(f) for f in frames]
    if frames:
        out["frames"] = frames
    return out


# ----------------------------------------------------------------------------------------------
# Surfaces
# ----------------------------------------------------------------------------------------------
def surface_grid(surface, n: int = 120, window=None, log: bool | None = None, max_n: int = MAX_GRID):
    """``(xs, ys, Z, info)`` for drawing: Z is f, or log₁₀(f − f_min + ε) on log-scale surfaces.

    Non-finite values are NaN; linear surfaces are clipped at the 99th percentile so that a few
    huge values (a cliff, a formula's pole) do not wash out the colour scale.  ``info`` holds
    ``log``, ``label`` (for the colour bar), ``fmin`` and ``zrange``.
    """
    n = int(min(max(n, 10), max_n))
    xs, ys, Z = surface.grid(n, window=window)
    Z = np.where(np.isfinite(Z), Z, np.nan)
    finite = Z[np.isfinite(Z)]
    if finite.size == 0:
        return xs, ys, Z, dict(log=False, label="f", fmin=0.0, zrange=(0.0, 1.0))
    fmin = float(finite.min())
    mv = getattr(surface, "min_value", None)
    if mv is not None and np.isfinite(mv):
        fmin = min(fmin, float(mv))
    if log is None:
        log = bool(getattr(surface, "log_scale", False))
        if not log:  # large dynamic range: most of the plot would be one colour on a linear scale
            p50, p99 = np.percentile(finite, [50, 99])
            log = bool((p99 - fmin) > 200 * max(p50 - fmin, 1e-12))
    if log:
        with np.errstate(all="ignore"):
            Zd = np.log10(Z - fmin + LOG_EPS)
        label = f"log₁₀(f − {fmin:.3g} + 10⁻³)" if fmin != 0 else "log₁₀(f + 10⁻³)"
    else:
        hi = float(np.percentile(finite, 99.0))
        Zd = np.minimum(Z, hi)
        label = "f(x, y)"
    fz = Zd[np.isfinite(Zd)]
    return xs, ys, Zd, dict(log=bool(log), label=label, fmin=fmin, zrange=(float(fz.min()), float(fz.max())))


def _point_label(kind: str, p, surface) -> str:
    with np.errstate(all="ignore"):
        f = float(np.asarray(surface.value(np.asarray(p, dtype=float))))
    return f"{kind} ({p[0]:.4g}, {p[1]:.4g})<br>f = {f:.4g}"


MANY_POINTS = 24  # beyond this many local minima / saddles (Rastrigin, Ackley) markers become clutter


def _critical_points(surface, window, show_minima, show_saddles) -> list[dict]:
    """Stars at minima (global ones large, local ones small), diamonds at saddles.

    With more than ``MANY_POINTS`` saddles they are hidden unless ``show_saddles="always"``;
    that many local minima are drawn small and faint.
    """
    (x0, x1), (y0, y1) = window
    out: list[dict] = []

    def within(P):
        P = np.asarray(P, dtype=float).reshape(-1, 2)
        return P[(P[:, 0] >= x0) & (P[:, 0] <= x1) & (P[:, 1] >= y0) & (P[:, 1] <= y1)]

    def add(P, name, symbol, size, color, opacity=1.0, kind="minimum"):
        if len(P):
            out.append(dict(
                type="scatter", x=_f32(P[:, 0]), y=_f32(P[:, 1]), mode="markers", name=name,
                marker=dict(symbol=symbol, size=size, color=color, opacity=opacity, line=dict(color="black", width=1)),
                text=[_point_label(name, p, surface) for p in P],
                hovertemplate="%{text}<extra></extra>", showlegend=False, meta=style.role_meta(kind),
                unselected=dict(marker=dict(opacity=opacity))))

    if show_minima:
        M = np.asarray(getattr(surface, "minima", np.zeros((0, 2))), dtype=float).reshape(-1, 2)
        ng = getattr(surface, "n_global", None)
        ng = min(1, len(M)) if ng is None else int(ng)
        glob, local = within(M[:ng]), within(M[ng:])
        many = len(local) > MANY_POINTS
        add(glob, _("global minimum") if len(local) else _("minimum"), style.MARKERS["minimum"], 17,
            style.MINIMUM_COLOR)
        add(local, _("local minimum"), style.MARKERS["minimum"], 7 if many else 12, style.MINIMUM_COLOR,
            0.55 if many else 1.0)
    if show_saddles:
        S = within(getattr(surface, "saddles", np.zeros((0, 2))))
        if len(S) <= MANY_POINTS or show_saddles == "always":
            add(S, _("saddle point"), style.MARKERS["saddle"], 11, style.SADDLE_COLOR, kind="saddle")
    return out


def _contour_trace(surface, n, window, log, colorbar=True) -> dict:
    xs, ys, Z, info = surface_grid(surface, n, window, log)
    tr = dict(
        type="contour", x=_f32(xs), y=_f32(ys), z=np.round(Z, 4).astype(np.float32),
        colorscale=style.SURFACE_COLORSCALE, ncontours=28 if info["log"] else 24,
        contours=dict(coloring="fill", showlines=True), line=dict(width=0.5, color="rgba(255,255,255,0.35)"),
        showscale=bool(colorbar), hoverongaps=False, name="surface", showlegend=False,
        hovertemplate=f"x=%{{x:.3f}}<br>y=%{{y:.3f}}<br>{info['label']}=%{{z:.4g}}<extra></extra>")
    if colorbar:
        tr["colorbar"] = dict(title=dict(text=info["label"], side="right"), thickness=14, len=0.9)
    return tr


# ----------------------------------------------------------------------------------------------
# Paths on a contour
# ----------------------------------------------------------------------------------------------
def _tagged(traces: list[dict], meta: Mapping | None) -> list[dict]:
    """Give every trace of one run (or role) its ``meta`` tag (see :mod:`.style`, rule 4)."""
    for t in traces:
        t["meta"] = dict(meta or {})
    return traces


def _steps_dtype(T: int):
    return np.int16 if T < 32000 else np.int32


def _path_traces(run: RunPath, box, *, legend: bool = True) -> list[dict]:
    """Line (one trace for all runs of a batch), start/end, divergence and exit markers."""
    T = run.steps
    B = run.xs.shape[1]
    width = 2.5 if B == 1 else 1.2
    lines_x: list[Any] = []
    lines_y: list[Any] = []
    steps_all: list[Any] = []
    starts, ends, div_pts, div_txt, exit_pts, exit_ang, exit_txt = [], [], [], [], [], [], []
    (xmin, xmax), (ymin, ymax) = box
    for b in range(B):
        xy = run.xs[:, b]
        fin = xy[np.isfinite(xy).all(axis=1)]
        if not len(fin):
            continue
        pts, idx, exits = clip_path(fin, box)
        if len(pts):
            lines_x.append(pts[:, 0]); lines_y.append(pts[:, 1]); steps_all.append(idx)
            if B > 1:
                lines_x.append([np.nan]); lines_y.append([np.nan]); steps_all.append([-1])
            if idx[0] == 0:
                starts.append(pts[0])
        for p, ang, k in exits:
            exit_pts.append(_inside(p, box)); exit_ang.append(ang)
            exit_txt.append(_("{label}: leaves the window at step {k}").format(label=run.label, k=k))
        dv = int(run.diverged_at[b])
        if dv >= 0:
            # the last finite point; if it is off the window, the border point where the path left
            fl = fin[-1]
            if not (xmin <= fl[0] <= xmax and ymin <= fl[1] <= ymax):
                fl = exits[-1][0] if exits else np.clip(fl, [xmin, ymin], [xmax, ymax])
            why = _(run.reasons[b]) if b < len(run.reasons) and run.reasons[b] else _("the run blew up")
            div_pts.append(_inside(fl, box))
            who = _("{label} (run {b})").format(label=run.label, b=b) if B > 1 else run.label
            div_txt.append(_("{label} diverged at step {k}").format(label=who, k=dv) + f"<br>{why}")
        elif len(pts) and np.isfinite(pts[-1]).all():
            ends.append(pts[-1])
    group = run.label
    if lines_x:
        lx = np.concatenate([np.asarray(a, float) for a in lines_x])
        ly = np.concatenate([np.asarray(a, float) for a in lines_y])
        st = np.concatenate([np.asarray(a) for a in steps_all]).astype(_steps_dtype(T))
    else:
        lx = ly = np.zeros(0)
        st = np.zeros(0, dtype=np.int16)
    keep = dict(marker=dict(opacity=1))  # a click selection must not dim the paths
    traces = [dict(
        type="scatter", x=_f32(lx), y=_f32(ly), mode="lines", name=run.label, legendgroup=group,
        showlegend=legend, line=dict(color=run.color, width=width, dash=run.dash), customdata=st,
        hovertemplate=f"{run.label}<br>" + _("step {k}").format(k="%{customdata}")
                      + "<br>(%{x:.4f}, %{y:.4f})<extra></extra>",
        unselected=keep)]
    if starts:
        S = np.array(starts)
        traces.append(dict(
            type="scatter", x=_f32(S[:, 0]), y=_f32(S[:, 1]), mode="markers", name=_("{label} start").format(label=run.label),
            legendgroup=group, showlegend=False, unselected=keep,
            marker=dict(symbol=style.MARKERS["start"], size=10 if B == 1 else 5, color=run.color,
                        line=dict(color="white", width=1.5)),
            hovertemplate=_("{label}: start").format(label=run.label) + " (%{x:.3f}, %{y:.3f})<extra></extra>"))
    if ends:
        E = np.array(ends)
        traces.append(dict(
            type="scatter", x=_f32(E[:, 0]), y=_f32(E[:, 1]), mode="markers", name=_("{label} end").format(label=run.label),
            legendgroup=group, showlegend=False, unselected=keep,
            marker=dict(symbol=style.MARKERS["end"], size=12 if B == 1 else 6, color=run.color,
                        line=dict(color="white", width=1)),
            hovertemplate=ngettext("{label}: end after {n} step", "{label}: end after {n} steps", T).format(
                label=run.label, n=T) + "<br>(%{x:.4f}, %{y:.4f})<extra></extra>"))
    if exit_pts:
        X = np.array(exit_pts)
        traces.append(dict(
            type="scatter", x=_f32(X[:, 0]), y=_f32(X[:, 1]), mode="markers", name=_("{label} leaves the window").format(label=run.label),
            legendgroup=group, showlegend=False, text=exit_txt, unselected=keep,
            marker=dict(symbol="arrow", size=14, color=run.color, angle=[float(a) for a in exit_ang],
                        line=dict(color="white", width=1)),
            hovertemplate="%{text}<extra></extra>"))
    if div_pts:
        D = np.array(div_pts)
        tr = dict(
            type="scatter", x=_f32(D[:, 0]), y=_f32(D[:, 1]), mode="markers+text" if B == 1 else "markers",
            name=_("{label} diverged").format(label=run.label), legendgroup=group, showlegend=False,
            hovertext=div_txt,
            textposition="top center", textfont=dict(color=style.INK, size=13), unselected=keep,
            marker=dict(symbol="circle-x-open", size=18, color=run.color, line=dict(color=run.color, width=2.5)),
            hovertemplate="%{hovertext}<extra></extra>")
        if B == 1:
            tr["text"] = [_("diverged")] * len(D)
        traces.append(tr)
    traces = _tagged(traces, run.meta)
    if B == 1 and len(lx):
        # a light casing under a single path: dark colours (indigo, wine, violet) stay visible on
        # the dark end of Viridis, and every colour on its yellow end
        traces.insert(0, dict(type="scatter", x=traces[0]["x"], y=traces[0]["y"], mode="lines",
                              name=run.label, legendgroup=group, showlegend=False, hoverinfo="skip",
                              unselected=keep, line=dict(color=CASING, width=width + 2.5), meta=style.role_meta("halo")))
    return traces


def contour(surface, trajectories: Iterable[Any] = (), *, n: int = 120, log: bool | None = None,
            show_minima: bool = True, show_saddles: bool | str = True, title: str | None = None,
            height: int = 520, window=None, colorbar: bool = True, showlegend: bool = True) -> go.Figure:
    r"""Filled contour of ``surface`` over its window with every trajectory drawn on it.

    Log-scale surfaces (``surface.log_scale``, or a huge dynamic range) show
    log₁₀(f − f_min + 10⁻³), named on the colour bar.  Each path: its optimizer's colour, a circle
    at the start, an ✕ at the end, a circled ✕ labelled "diverged" at the last finite point of a
    run that blew up (hover: the step and the reason), arrows where a path leaves the window (it is
    drawn up to the border only, so the axes stay on the window).  Minima are stars, saddles
    diamonds.  Trace 0 is the contour; axis ranges are fixed to the window.
    """
    win = window_of(surface, window)
    traces = [_contour_trace(surface, n, win, log, colorbar=colorbar)]
    traces += _critical_points(surface, win, show_minima, show_saddles)
    box = _padded(win)
    for run in normalize_runs(trajectories):
        traces += _path_traces(run, box, legend=showlegend)
    layout = base_layout(title, height, hovermode="closest")
    _merge(layout, _fixed_axes(win))
    return _figure(traces, layout)


def add_click_grid(fig: go.Figure, surface_or_window, n: int = 40, *, name: str | None = None) -> go.Figure:
    """Add an invisible ``n × n`` grid of clickable points over the window (in place; returns fig).

    A click on a filled contour selects no point in Plotly; these transparent markers make any
    click select the nearest grid point, which ``st.plotly_chart(on_select="rerun")`` reports.
    The hover shows the point and f there.
    """
    name = _("click to start here") if name is None else name
    surface = surface_or_window if hasattr(surface_or_window, "value") else None
    (x0, x1), (y0, y1) = window_of(surface) if surface is not None else window_of(None, surface_or_window)
    gx, gy = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    gx, gy = gx.ravel(), gy.ravel()
    tr = dict(
        type="scatter", x=_f32(gx), y=_f32(gy), mode="markers", name=name, showlegend=False,
        marker=dict(size=max(6, int(360 / n)), color="rgba(255,255,255,0.01)"), meta=style.role_meta("click grid"),
        hovertemplate=f"{name}<br>(%{{x:.2f}}, %{{y:.2f}})<extra></extra>",
        selected=dict(marker=dict(opacity=0.01)), unselected=dict(marker=dict(opacity=1)))
    if surface is not None:
        with np.errstate(all="ignore"):
            fv = surface.value(np.stack([gx, gy], -1))
        tr["customdata"] = np.round(np.where(np.isfinite(fv), fv, np.nan), 4).astype(np.float32)
        tr["hovertemplate"] = f"{name}<br>(%{{x:.2f}}, %{{y:.2f}})<br>f = %{{customdata:.4g}}<extra></extra>"
    fig.add_trace(tr)
    return fig


def surface_panel(surface, trajectories: Iterable[Any] = (), *, title: str | None = None, height: int = 400,
                  colorbar: bool = False, xlabel: str | None = None, ylabel: str | None = None,
                  window=None, extra_points: Mapping[str, tuple] | None = None) -> go.Figure:
    """A (w, b) loss surface with paths (:func:`contour`), its axes named after the parameters and
    optional labelled points (e.g. the closed-form solution, drawn instead of the minimum's star)."""
    fig = contour(surface, list(trajectories), title=title, height=height, colorbar=colorbar, window=window,
                       show_minima=not extra_points)
    fig.update_xaxes(title_text=_("w (slope)") if xlabel is None else xlabel)
    fig.update_yaxes(title_text=_("b (intercept)") if ylabel is None else ylabel)
    # core names the colour bar after a generic f(x, y); here the surface is a loss over (w, b)
    for tr in fig.data:
        if tr.type == "contour" and tr.colorbar is not None and tr.colorbar.title.text == "f(x, y)":
            tr.colorbar.title.text = _("loss L(w, b)")
    for i, (label, p) in enumerate((extra_points or {}).items()):
        fig.add_trace(go.Scatter(x=[p[0]], y=[p[1]], mode="markers", name=label,
                                 marker=dict(symbol="star-diamond", size=15, color="#FFFFFF",
                                             line=dict(color=style.INK, width=1.5)), meta=style.role_meta("closed form"),
                                 hovertemplate=f"{label}<br>(%{{x:.4g}}, %{{y:.4g}})<extra></extra>"))
    return fig


# ----------------------------------------------------------------------------------------------
# 3-D
# ----------------------------------------------------------------------------------------------
def surface3d(surface, trajectories: Iterable[Any] = (), *, n: int = 80, log: bool | None = None,
              title: str | None = None, height: int = 560, window=None, show_minima: bool = True) -> go.Figure:
    """3-D surface with the trajectories lifted onto it (z = f, or the log transform of
    :func:`surface_grid`, plus a small offset so lines are not hidden inside the surface).

    Points off the window are dropped (the surface is only drawn there), values clipped to the
    plotted z range.
    """
    win = window_of(surface, window)
    xs, ys, Z, info = surface_grid(surface, min(n, 100), win, log)
    zlo, zhi = info["zrange"]
    off = 0.01 * (zhi - zlo if zhi > zlo else 1.0)

    def lift(P):
        with np.errstate(all="ignore"):
            f = np.asarray(surface.value(P), dtype=float)
            z = np.log10(f - info["fmin"] + LOG_EPS) if info["log"] else f
        return np.clip(z, zlo, zhi) + off

    traces = [dict(
        type="surface", x=_f32(xs), y=_f32(ys), z=np.round(Z, 4).astype(np.float32),
        colorscale=style.SURFACE_COLORSCALE, opacity=0.92, showscale=True, name="surface",
        colorbar=dict(title=dict(text=info["label"], side="right"), thickness=14, len=0.8),
        contours=dict(z=dict(show=True, usecolormap=True, project=dict(z=True), width=1)),
        hovertemplate=f"x=%{{x:.3f}}<br>y=%{{y:.3f}}<br>{info['label']}=%{{z:.4g}}<extra></extra>")]
    (x0, x1), (y0, y1) = win
    for run in normalize_runs(trajectories):
        px, py, pz, ends = [], [], [], []
        for b in range(run.xs.shape[1]):
            P = run.xs[:, b]
            ok = np.isfinite(P).all(axis=1) & (P[:, 0] >= x0) & (P[:, 0] <= x1) & (P[:, 1] >= y0) & (P[:, 1] <= y1)
            if not ok.any():
                continue
            Q = np.where(ok[:, None], P, np.nan)
            z = np.where(ok, lift(np.where(ok[:, None], P, 0.0)), np.nan)
            px += [Q[:, 0], [np.nan]]; py += [Q[:, 1], [np.nan]]; pz += [z, [np.nan]]
            last = int(np.nonzero(ok)[0][-1])
            ends.append((Q[last, 0], Q[last, 1], z[last], run.diverged_at[b] >= 0))
        if not px:
            continue
        traces.append(dict(
            type="scatter3d", x=_f32(np.concatenate(px)), y=_f32(np.concatenate(py)), z=_f32(np.concatenate(pz)),
            mode="lines", name=run.label, legendgroup=run.label,
            line=dict(color=run.color, width=6 if run.xs.shape[1] == 1 else 3, dash=run.dash), meta=run.meta,
            hovertemplate=f"{run.label}<br>(%{{x:.3f}}, %{{y:.3f}})<extra></extra>"))
        E = np.array([e[:3] for e in ends], dtype=float)
        traces.append(dict(
            type="scatter3d", x=_f32(E[:, 0]), y=_f32(E[:, 1]), z=_f32(E[:, 2]), mode="markers", showlegend=False,
            legendgroup=run.label, name=_("{label} end").format(label=run.label),
            marker=dict(size=5, color=run.color, symbol=["x" if e[3] else "circle" for e in ends]), meta=run.meta,
            hovertemplate=_("{label}: last point").format(label=run.label) + "<extra></extra>"))
    if show_minima and len(getattr(surface, "minima", ())):
        M = np.asarray(surface.minima, dtype=float)
        ng = getattr(surface, "n_global", None) or 1
        M = M[:ng] if len(M) > MANY_POINTS else M
        M = M[(M[:, 0] >= x0) & (M[:, 0] <= x1) & (M[:, 1] >= y0) & (M[:, 1] <= y1)]
        if len(M):
            traces.append(dict(
                type="scatter3d", x=_f32(M[:, 0]), y=_f32(M[:, 1]), z=_f32(lift(M)), mode="markers", name=_("minimum"),
                showlegend=False,
                marker=dict(size=6, color=style.MINIMUM_COLOR, symbol="diamond", line=dict(color="black", width=1)),
                meta=style.role_meta("minimum"),
                hovertemplate=_("minimum") + " (%{x:.3g}, %{y:.3g})<extra></extra>"))
    layout = base_layout(title, height)
    _merge(layout, dict(
        uirevision=f"3d:{x0:g},{x1:g},{y0:g},{y1:g}",
        scene=dict(xaxis=dict(title=dict(text="x"), range=[x0, x1]), yaxis=dict(title=dict(text="y"), range=[y0, y1]),
                   zaxis=dict(title=dict(text=info["label"])), aspectmode="manual",
                   aspectratio=dict(x=1, y=1, z=0.6), camera=dict(eye=dict(x=-1.4, y=-1.5, z=1.0))),
        margin=dict(l=0, r=0, t=TITLE_TOP_PX if title else 30, b=0)))
    return _figure(traces, layout)


# ----------------------------------------------------------------------------------------------
# Curves
# ----------------------------------------------------------------------------------------------
def _curve_traces(run: RunPath, values: np.ndarray | None, *, floor: float | None, hover: str,
                  legend: bool, axes: tuple[str, str] = ("x", "y")) -> list[dict]:
    if values is None:
        return []
    T1, B = values.shape
    steps = np.arange(T1, dtype=float)
    v = values.astype(float)
    if floor is not None:
        v = np.where(np.isfinite(v), np.maximum(v, floor), v)
    if B == 1:
        x, y = steps, v[:, 0]
    else:  # one trace, runs separated by NaN
        x = np.concatenate([np.append(steps, np.nan)] * B)
        y = np.concatenate([np.append(v[:, b], np.nan) for b in range(B)])
    # float64 for y: losses span 1e-16 … 1e300
    traces = [dict(
        type="scatter", x=x.astype(np.float32), y=np.asarray(y, dtype=np.float64), xaxis=axes[0], yaxis=axes[1],
        mode="lines", name=run.label, legendgroup=run.label, showlegend=legend,
        line=dict(color=run.color, width=2.2 if B == 1 else 1, dash=run.dash),
        hovertemplate=f"{run.label}<br>" + _("step {k}").format(k="%{x}") + f"<br>{hover} = %{{y:.4g}}<extra></extra>")]
    dx, dy, txt = [], [], []
    for b in range(B):
        dv = int(run.diverged_at[b])
        if dv >= 0:
            fin = np.nonzero(np.isfinite(v[:, b]))[0]
            if fin.size:
                k = int(fin[-1])
                dx.append(float(k)); dy.append(float(v[k, b]))
                txt.append(_("{label} diverged at step {k}").format(label=run.label, k=dv))
    if dx:
        traces.append(dict(
            type="scatter", x=dx, y=dy, xaxis=axes[0], yaxis=axes[1], mode="markers", showlegend=False,
            legendgroup=run.label, name=_("{label} diverged").format(label=run.label),
            marker=dict(symbol="x", size=12, color=run.color, line=dict(color="white", width=1)),
            text=txt, hovertemplate="%{text}<extra></extra>"))
    return _tagged(traces, run.meta)


def _loss_values(run: RunPath, gap_to: float | None):
    if run.losses is None:
        return None
    return run.losses - gap_to if gap_to is not None else run.losses


def _log_ok(arrays) -> bool:
    vals = [a[np.isfinite(a)] for a in arrays if a is not None]
    vals = [a for a in vals if a.size]
    return bool(vals) and all(float(a.min()) > 0 for a in vals)


def _loss_setup(runs, log, gap_to, floor):
    vals = [_loss_values(r, gap_to) for r in runs]
    probe = [np.maximum(v, floor) if (v is not None and gap_to is not None) else v for v in vals]
    use_log = bool(log and _log_ok(probe))
    name = "f − f*" if gap_to is not None else _("loss f")
    return vals, use_log, name, (floor if (gap_to is not None and use_log) else None)


def _log_title(title: str, log: bool) -> str:
    return _("{title} (log scale)").format(title=title) if log else title


def _yaxis(title: str, log: bool) -> dict:
    return dict(title=dict(text=title), type="log" if log else "linear", exponentformat="power")


def loss_curves(trajectories: Iterable[Any], *, log: bool = True, gap_to: float | None = None,
                floor: float = 1e-16, title: str | None = None, height: int = 360,
                showlegend: bool = True) -> go.Figure:
    r"""Loss against step for every trajectory; with ``gap_to = f*`` the gap f − f* (floored at
    ``floor`` so exact convergence stays on a log axis).  A log axis falls back to linear when a
    loss is ≤ 0 (e.g. a surface whose minimum is negative and no ``gap_to``).  Diverged runs end
    with an ✕."""
    runs = normalize_runs(trajectories)
    vals, use_log, name, fl = _loss_setup(runs, log, gap_to, floor)
    traces = []
    for r, v in zip(runs, vals):
        traces += _curve_traces(r, v, floor=fl, hover=name, legend=showlegend)
    layout = base_layout(title, height, hovermode="x unified")
    _merge(layout, dict(xaxis=dict(title=dict(text=_("step"))),
                        yaxis=_yaxis(_log_title(name, use_log), use_log)))
    return _figure(traces, layout)


def grad_norm_curves(trajectories: Iterable[Any], *, log: bool = True, floor: float = 1e-16,
                     title: str | None = None, height: int = 360, showlegend: bool = True) -> go.Figure:
    """‖∇f‖ against step for every trajectory (log axis, floored at ``floor``)."""
    traces = []
    for r in normalize_runs(trajectories):
        traces += _curve_traces(r, r.grad_norms, floor=floor if log else None, hover="‖∇f‖", legend=showlegend)
    layout = base_layout(title, height, hovermode="x unified")
    _merge(layout, dict(xaxis=dict(title=dict(text=_("step"))),
                        yaxis=_yaxis(_log_title("‖∇f‖", log), log)))
    return _figure(traces, layout)


def curves(trajectories: Iterable[Any], *, log: bool = True, gap_to: float | None = None, floor: float = 1e-16,
           title: str | None = None, height: int = 380, showlegend: bool = True) -> go.Figure:
    """Loss (or f − f*) and gradient norm side by side, one legend entry per optimizer."""
    runs = normalize_runs(trajectories)
    vals, use_log, name, fl = _loss_setup(runs, log, gap_to, floor)
    traces = []
    for r, v in zip(runs, vals):
        traces += _curve_traces(r, v, floor=fl, hover=name, legend=showlegend, axes=("x", "y"))
        traces += _curve_traces(r, r.grad_norms, floor=floor if log else None, hover="‖∇f‖", legend=False,
                                axes=("x2", "y2"))
    layout = base_layout(title, height, hovermode="x unified")
    sub = dict(xref="paper", yref="paper", y=1.0, yanchor="bottom", showarrow=False, font=dict(size=15))
    _merge(layout, dict(
        margin=dict(t=90 if title else 70),
        legend=dict(y=1.12),
        xaxis=dict(domain=[0.0, 0.45], title=dict(text=_("step")), anchor="y"),
        xaxis2=dict(domain=[0.55, 1.0], title=dict(text=_("step")), anchor="y2"),
        yaxis=dict(_yaxis("", use_log), anchor="x"),
        yaxis2=dict(_yaxis("", log), anchor="x2"),
        annotations=[dict(sub, text=_log_title(name, use_log), x=0.225, xanchor="center"),
                     dict(sub, text=_log_title(_("gradient norm ‖∇f‖"), log), x=0.775, xanchor="center")]))
    return _figure(traces, layout)


# ----------------------------------------------------------------------------------------------
# Animation
# ----------------------------------------------------------------------------------------------
def _png(rgba: np.ndarray) -> bytes:
    """Encode an ``(h, w, 4)`` uint8 image as PNG with Pillow (installed with Streamlit).

    Measured on the surfaces' 240² banded images against the zlib-only encoder this replaces:
    3–5× less CPU (4–20 ms instead of 20–63 ms), 1.4–2× the bytes (5–25 kB, small beside a figure)."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgba, dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def _viridis(t: np.ndarray) -> np.ndarray:
    """Plotly's Viridis colour scale at ``t ∈ [0, 1]`` as RGB floats (linear between its stops)."""
    import plotly.colors as pc

    stops = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in pc.sequential.Viridis], dtype=float)
    pos = np.linspace(0, 1, len(stops))
    return np.stack([np.interp(t, pos, stops[:, k]) for k in range(3)], axis=-1)


def surface_image(surface, n=240, window=None, log=None, levels: int = 24):
    """``(image, colourbar_trace)``: the surface as a banded colour image for ``layout.images`` and
    an invisible scatter that carries its colour bar.  Use it as the background of any animation.

    plotly.js's ``redraw=False`` transitions remove the layer of every trace module that is not
    animatable (contour, heatmap) — plotly.js issue 4491 — so an animated figure cannot keep a
    contour trace; a layout image is left alone, and frames stay cheap.
    """
    # an image costs bytes per pixel, not per JSON number: a finer grid than a contour's is cheap
    window = window_of(surface, window)
    xs, ys, Z, info = surface_grid(surface, n, window, log, max_n=max(int(n), MAX_GRID))
    lo, hi = info["zrange"]
    t = np.clip((Z - lo) / (hi - lo if hi > lo else 1.0), 0, 1)
    t = (np.minimum(np.floor(t * levels), levels - 1) + 0.5) / levels  # bands, as a filled contour
    rgb = _viridis(np.nan_to_num(t))
    rgba = np.concatenate([rgb, np.where(np.isfinite(Z), 255.0, 0.0)[..., None]], axis=-1)
    img = np.round(rgba[::-1]).astype(np.uint8)  # PNG rows run top to bottom: y decreasing
    import base64

    (x0, x1), (y0, y1) = window
    dx, dy = (x1 - x0) / (len(xs) - 1), (y1 - y0) / (len(ys) - 1)
    image = dict(source="data:image/png;base64," + base64.b64encode(_png(img)).decode(), xref="x", yref="y",
                 x=x0 - dx / 2, y=y1 + dy / 2, sizex=x1 - x0 + dx, sizey=y1 - y0 + dy, sizing="stretch",
                 layer="below", opacity=1.0)
    bar = dict(type="scatter", x=[None], y=[None], mode="markers", showlegend=False, hoverinfo="skip",
               name=_("colour scale"), meta=style.role_meta("colour scale"),
               marker=dict(colorscale=style.SURFACE_COLORSCALE, cmin=lo, cmax=hi, color=[lo], showscale=True,
                           colorbar=dict(title=dict(text=info["label"], side="right"), thickness=14, len=0.9)))
    return image, bar


def frame_steps(T: int, max_frames: int) -> np.ndarray:
    """At most ``max_frames`` step numbers from 0 to T (both included), evenly spread."""
    m = int(max(2, min(max_frames, T + 1)))
    return np.unique(np.round(np.linspace(0, T, m)).astype(int))


def _decimate(P: np.ndarray, idx: np.ndarray, max_points: int, keep_tail: int = 40):
    """Keep every point of the last ``keep_tail`` and a regular subsample before: bounds the
    quadratic cost of animation frames that each carry the path so far."""
    n = len(P)
    if n <= max_points:
        return P, idx
    head = n - keep_tail
    stride = int(np.ceil(head / max(max_points - keep_tail, 1)))
    sel = np.r_[np.arange(0, head, stride), np.arange(head, n)]
    return P[sel], idx[sel]


def animated_contour(surface, trajectories: Iterable[Any], *, max_frames: int = 60, duration_ms: int = 80,
                     n: int = 110, log: bool | None = None, title: str | None = None, height: int = 560,
                     window=None, max_points_per_frame: int = 160, show_minima: bool = True,
                     show_saddles: bool | str = True) -> go.Figure:
    r"""The race as a browser-side animation: the surface drawn once (as a banded colour image,
    see :func:`surface_image`), frames that update only the moving traces (the path so far of each
    optimizer, and one trace of head markers), a Play/Pause button and a step slider.  At most ``max_frames`` frames (steps subsampled), fixed
    axes, ``redraw=False`` (the surface is not redrawn per frame), so it plays without any
    Streamlit rerun.  Paths in a frame are decimated to ``max_points_per_frame`` points (the last
    40 steps always at full resolution) to keep the figure small.
    """
    win = window_of(surface, window)
    box = _padded(win)
    runs = normalize_runs(trajectories)
    image, bar = surface_image(surface, max(2 * n, 200), win, log)
    traces = [bar]
    traces += _critical_points(surface, win, show_minima, show_saddles)
    T = max((r.steps for r in runs), default=0)
    steps = frame_steps(T, max_frames)
    (xmin, xmax), (ymin, ymax) = box

    def state_at(run: RunPath, k: int):
        """Path so far (clipped, decimated) and the head position(s) at step k."""
        k = min(k, run.steps)
        lx, ly, heads = [], [], []
        per_run = max_points_per_frame // max(1, min(run.xs.shape[1], 4))
        for b in range(run.xs.shape[1]):
            xy = run.xs[: k + 1, b]
            fin = xy[np.isfinite(xy).all(axis=1)]
            if not len(fin):
                continue
            pts, idx, exits = clip_path(fin, box)
            pts, idx = _decimate(pts, idx, per_run)
            if len(pts):
                lx += [pts[:, 0], [np.nan]]
                ly += [pts[:, 1], [np.nan]]
            head = fin[-1]
            if not (xmin <= head[0] <= xmax and ymin <= head[1] <= ymax):
                head = exits[-1][0] if exits else np.clip(head, [xmin, ymin], [xmax, ymax])
                head = _inside(head, box)
            dv = int(run.diverged_at[b])
            dead = 0 <= dv <= k
            heads.append((head[0], head[1], run.color, "circle-x-open" if dead else "circle",
                          _("{label}: diverged at step {k}").format(label=run.label, k=dv) if dead
                          else _("{label}: step {k}").format(label=run.label, k=k), run.meta))
        line = dict(type="scatter", x=_f32(np.concatenate(lx)) if lx else [],
                    y=_f32(np.concatenate(ly)) if ly else [])
        return line, heads

    def head_trace(heads):
        return dict(type="scatter", x=_f32([h[0] for h in heads]), y=_f32([h[1] for h in heads]),
                    text=[h[4] for h in heads],
                    marker=dict(color=[h[2] for h in heads], symbol=[h[3] for h in heads]))

    moving: list[int] = []
    heads0 = []
    for r in runs:
        line0, h0 = state_at(r, 0)
        heads0 += h0
        traces.append(dict(line0, mode="lines", name=r.label, legendgroup=r.label, hoverinfo="skip", meta=r.meta,
                           line=dict(color=r.color, width=2.5 if r.xs.shape[1] == 1 else 1.2, dash=r.dash)))
        moving.append(len(traces) - 1)
    single = all(r.xs.shape[1] == 1 for r in runs)
    h = head_trace(heads0)
    # the heads of all runs in one trace: its tag lists each point's optimizer and variant
    head_meta = [hd[5] or {} for hd in heads0]
    traces.append(dict(h, mode="markers", showlegend=False, name="now", hovertemplate="%{text}<extra></extra>",
                       meta={"optimizer": [m.get("optimizer") for m in head_meta],
                             "variant": [m.get("variant", 0) for m in head_meta]},
                       marker=dict(h["marker"], size=13 if single else 7, line=dict(color="white", width=2))))
    moving.append(len(traces) - 1)

    frames = []
    for k in steps:
        data, heads = [], []
        for r in runs:
            line, hk = state_at(r, int(k))
            data.append(line)
            heads += hk
        data.append(head_trace(heads))
        frames.append(dict(data=data, traces=list(moving), name=str(int(k))))

    still = dict(frame=dict(duration=0, redraw=False), transition=dict(duration=0), mode="immediate")
    layout = base_layout(title, height, hovermode="closest")
    _merge(layout, _fixed_axes(win, uirevision="anim"))
    _merge(layout, dict(
        images=[image],
        margin=dict(l=10, r=10, t=TITLE_TOP_PX if title else 30, b=100),
        updatemenus=[dict(
            type="buttons", direction="left", showactive=False, x=0.0, xanchor="left", y=-0.06, yanchor="top",
            pad=dict(r=8, t=0), bgcolor="#f0f2f6", font=dict(size=14),
            buttons=[dict(label="▶ " + _("Play"), method="animate",
                          args=[None, dict(frame=dict(duration=int(duration_ms), redraw=False),
                                           transition=dict(duration=0), mode="immediate", fromcurrent=True)]),
                     dict(label="❚❚ " + _("Pause"), method="animate", args=[[None], still])])],
        sliders=[dict(
            active=0, x=0.22, len=0.78, xanchor="left", y=-0.03, yanchor="top", pad=dict(t=10, b=0),
            currentvalue=dict(prefix=_("step") + " ", visible=True, xanchor="right", font=dict(size=14, color="#31333F")),
            font=dict(color="rgba(0,0,0,0)"),  # 60 tick labels are unreadable; the current step is shown
            steps=[dict(method="animate", label=str(int(k)), args=[[str(int(k))], still]) for k in steps])]))
    return _figure(traces, layout, frames)


# ----------------------------------------------------------------------------------------------
# Small shared builders
# ----------------------------------------------------------------------------------------------
def line_figure(x, ys: Mapping[str, Any], *, log_y: bool = False, xlabel: str = "", ylabel: str = "",
                colors: Mapping[str, str] | Sequence[str] | None = None, title: str | None = None,
                height: int = 360, dashes: Mapping[str, str] | None = None, mode: str = "lines",
                metas: Mapping[str, dict] | Sequence[dict] | None = None) -> go.Figure:
    """Several named lines over one x axis.  ``metas``: label -> trace tag (or a list, see
    :mod:`.style`): an optimizer's tag gives its colour; ``colors`` (label -> colour or a list) sets
    the colour of role lines.  Default: an optimizer's colour when the label names one, else the
    role series (:func:`.style.series_color`)."""
    x = np.asarray(x)
    traces = []
    for i, (label, y) in enumerate(ys.items()):
        if isinstance(metas, Mapping):
            meta = metas.get(label)
        elif metas is not None:
            meta = list(metas)[i % len(metas)]
        else:
            meta = style.optimizer_meta(label) if style.is_optimizer(label) else None
        if isinstance(colors, Mapping):
            c = colors.get(label)
        elif colors is not None:
            c = list(colors)[i % len(colors)]
        else:
            c = None
        if meta and "optimizer" in meta:
            c = style.optimizer_color(meta["optimizer"], meta.get("variant", 0))
        meta = meta or style.role_meta("series")
        c = c or style.series_color(i)
        traces.append(dict(type="scatter", x=x, y=np.asarray(y, dtype=float), mode=mode, name=str(label),
                           line=dict(color=c, width=2.2, dash=(dashes or {}).get(label, "solid")),
                           marker=dict(color=c), meta=dict(meta)))
    layout = base_layout(title, height, hovermode="x unified")
    _merge(layout, dict(xaxis=dict(title=dict(text=xlabel)), yaxis=_yaxis(ylabel, log_y)))
    return _figure(traces, layout)


def heatmap(x, y, z, *, xlabel: str = "", ylabel: str = "", zlabel: str = "", title: str | None = None,
            colorscale: Any = None, log_x: bool = False, log_y: bool = False, zmin=None, zmax=None,
            height: int = 420, hovertemplate: str | None = None, customdata=None) -> go.Figure:
    """A plain heatmap ``z[i, j]`` at ``(x[j], y[i])`` (e.g. final loss over an (lr, β) grid).
    Log axes place the cells on a log scale (give log-spaced x/y)."""
    z = np.asarray(z, dtype=float)
    tr = dict(type="heatmap", x=np.asarray(x), y=np.asarray(y), z=np.round(z, 6),
              colorscale=colorscale or style.SURFACE_COLORSCALE,
              colorbar=dict(title=dict(text=zlabel, side="right"), thickness=14), hoverongaps=False,
              hovertemplate=hovertemplate or (f"{xlabel or 'x'} = %{{x:.3g}}<br>{ylabel or 'y'} = %{{y:.3g}}"
                                              f"<br>{zlabel or 'z'} = %{{z:.4g}}<extra></extra>"))
    if zmin is not None:
        tr["zmin"] = zmin
    if zmax is not None:
        tr["zmax"] = zmax
    if customdata is not None:
        tr["customdata"] = customdata
    layout = base_layout(title, height)
    _merge(layout, dict(xaxis=dict(title=dict(text=xlabel), type="log" if log_x else "linear"),
                        yaxis=dict(title=dict(text=ylabel), type="log" if log_y else "linear")))
    return _figure([tr], layout)


def vector_arrows(origins, vectors, *, fig: go.Figure | None = None, color: str = "#000000", name: str = "",
                  scale: float = 1.0, width: float = 2.0, head_size: float = 11, showlegend: bool = True,
                  hovertext: Sequence[str] | None = None, dash: str = "solid", xaxis: str = "x",
                  yaxis: str = "y", meta: Mapping | None = None) -> go.Figure:
    """Draw 2-D arrows ``origin → origin + scale·vector`` as one line+marker trace (the arrow heads
    point along each shaft), e.g. the gradient, the momentum buffer or an Adam step at a point.
    ``meta``: the trace tag (an optimizer's gives its colour).  Adds to ``fig`` (a new figure if
    None) and returns it."""
    if meta and "optimizer" in meta:
        color = style.optimizer_color(meta["optimizer"], meta.get("variant", 0))
    O = np.asarray(origins, dtype=float).reshape(-1, 2)
    V = np.asarray(vectors, dtype=float).reshape(-1, 2) * scale
    O, V = np.broadcast_arrays(O, V)
    N = len(O)
    P = np.full((3 * N, 2), np.nan)
    P[0::3], P[1::3] = O, O + V
    size = np.zeros(3 * N)
    size[1::3] = head_size
    tr = dict(type="scatter", x=_f32(P[:, 0]), y=_f32(P[:, 1]), mode="lines+markers", name=name,
              showlegend=bool(showlegend and name), xaxis=xaxis, yaxis=yaxis,
              line=dict(color=color, width=width, dash=dash),
              marker=dict(symbol="arrow", size=size, color=color, angleref="previous", line=dict(width=0)),
              hovertemplate=f"{name}<extra></extra>", meta=dict(meta or style.role_meta("arrow")))
    if hovertext is not None:
        text = np.full(3 * N, "", dtype=object)
        text[0::3] = list(hovertext)
        text[1::3] = list(hovertext)
        tr["text"] = list(text)
        tr["hovertemplate"] = "%{text}<extra></extra>"
    if fig is None:
        fig = _figure([], base_layout())
    fig.add_trace(tr)
    return fig
