"""Figures of the optimizer arena that :mod:`optlab.figures.core` does not draw: the race before its
outcome is shown (the setup of a prediction) and a 3-D view light enough for a classroom laptop."""
from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

import numpy as np

from ..i18n import domain
from . import core, style

_, N_, ngettext = domain("arena")

MAX_3D_POINTS = 400   # points per path in the 3-D view (the last 40 steps always kept)


def setup_contour(surface, start: Sequence[float], racers: Sequence[tuple[str, str]], *, height: int = 560,
                  title: str | None = None):
    """The surface, the start point and who races (``(label, optimizer name)`` pairs, in the legend
    with their colours), but no path: what a prediction is made on."""
    start = np.asarray(start, dtype=float).reshape(1, 2)
    runs = core.normalize_runs([(label, start, {"name": name}) for label, name in racers])
    fig = core.contour(surface, [], height=height, title=title)
    for r in runs:
        fig.add_scatter(x=[None], y=[None], mode="lines", name=r.label, line=dict(color=r.color, width=3, dash=r.dash),
                        hoverinfo="skip", showlegend=True, meta=getattr(r, "meta", None))
    fig.add_scatter(x=start[:, 0], y=start[:, 1], mode="markers", name=_("start"), showlegend=False,
                    marker=dict(symbol=style.MARKERS["start"], size=13, color="white",
                                line=dict(color="black", width=2)),
                    hovertemplate=_("start") + " (%{x:.3f}, %{y:.3f})<extra></extra>")
    return fig


def fit_race_chart(fig):
    """The race's contour in a column of any width: the square plot sits right under its legend
    (not centred in the figure's height, which leaves a gap at narrow widths) and the legend is
    compact.  In place; returns ``fig``."""
    spec = core.unbuilt_spec(fig)
    if spec is not None:  # still its dict (core.LazyFigure): edit that, build no Plotly objects
        layout = spec["layout"]
        for k in [k for k in layout if k.startswith("yaxis")] or ["yaxis"]:
            layout[k] = {**(layout.get(k) or {}), "constraintoward": "top"}
        core._merge(layout, dict(legend=dict(font=dict(size=13), tracegroupgap=0, itemwidth=30)))
        return fig
    fig.update_yaxes(constraintoward="top")
    fig.update_layout(legend=dict(font=dict(size=13), tracegroupgap=0, itemwidth=30))
    return fig


MAX_DECADE_TICKS = 6


def decade_step(values: Iterable[Any], max_ticks: int = MAX_DECADE_TICKS) -> int:
    """Decades between two labels of a log axis over ``values`` so that at most ``max_ticks``
    labels show (1: every decade; 4 for 10⁻¹⁶ … 10⁸)."""
    lo, hi = math.inf, -math.inf
    for v in values:
        a = np.asarray(v if v is not None else [], dtype=float).ravel()
        a = a[np.isfinite(a) & (a > 0)]
        if a.size:
            lo, hi = min(lo, float(np.log10(a.min()))), max(hi, float(np.log10(a.max())))
    if not math.isfinite(lo):
        return 1
    return max(1, math.ceil((math.ceil(hi) - math.floor(lo)) / max(1, max_ticks - 1)))


def decades(fig):
    """Log axes labelled at whole decades only (10⁻⁴, 10⁻², 1 …), at most :data:`MAX_DECADE_TICKS`
    labels: the minor 2s and 5s, or 25 decades of a run that reached f's rounding floor, overprint
    each other in a short chart.  In place; returns ``fig``."""
    spec = core.unbuilt_spec(fig, data=True)
    if spec is not None:  # still its dict: edit that (see fit_race_chart)
        step = decade_step(t.get("y") for t in spec["data"])
        layout = spec["layout"]
        for k in [k for k in layout if k.startswith("yaxis") and (layout[k] or {}).get("type") == "log"]:
            layout[k] = {**layout[k], "dtick": step, "minor": dict(ticks="", showgrid=False)}
        return fig
    step = decade_step(getattr(t, "y", None) for t in fig.data)
    fig.update_yaxes(dtick=step, minor=dict(ticks="", showgrid=False), selector=dict(type="log"))
    return fig


def _thin(P: np.ndarray, n: int = MAX_3D_POINTS, tail: int = 40) -> np.ndarray:
    if len(P) <= n:
        return P
    head = np.unique(np.round(np.linspace(0, len(P) - tail - 1, n - tail)).astype(int))
    return np.concatenate([P[head], P[-tail:]])


def race_3d(surface, trajectories: Iterable[Any], *, height: int = 560, title: str | None = None):
    """The surface in 3-D with the paths lifted onto it, built to appear quickly: no projected
    contour lines, at most :data:`MAX_3D_POINTS` points per path, solid lines (a dashed 3-D line is
    drawn segment by segment); five ticks an axis and short axis titles (x, y; the value's name on
    the colour bar only), so that nothing overlaps at 1024 px; the camera close enough that the
    surface fills the chart."""
    win = core.window_of(surface)
    (x0, x1), (y0, y1) = win
    xs, ys, Z, info = core.surface_grid(surface, 80, win)
    zlo, zhi = info["zrange"]
    off = 0.01 * (zhi - zlo if zhi > zlo else 1.0)

    def lift(P):
        with np.errstate(all="ignore"):
            f = np.asarray(surface.value(P), dtype=float)
            z = np.log10(f - info["fmin"] + core.LOG_EPS) if info["log"] else f
        return np.clip(z, zlo, zhi) + off

    traces = [dict(type="surface", x=core._f32(xs), y=core._f32(ys), z=np.round(Z, 4).astype(np.float32),
                   colorscale=style.SURFACE_COLORSCALE, opacity=0.92, showscale=True, name=_("surface"),
                   colorbar=dict(title=dict(text=info["label"], side="top"), thickness=12, len=0.55, x=1.0),
                   hovertemplate=f"x=%{{x:.3f}}<br>y=%{{y:.3f}}<br>{info['label']}=%{{z:.4g}}<extra></extra>")]
    for run in core.normalize_runs(trajectories):
        P = run.xs[:, 0]
        ok = np.isfinite(P).all(axis=1) & (P[:, 0] >= x0) & (P[:, 0] <= x1) & (P[:, 1] >= y0) & (P[:, 1] <= y1)
        if not ok.any():
            continue
        last = int(np.nonzero(ok)[0][-1])
        Q = _thin(np.where(ok[:, None], P, np.nan)[: last + 1])
        good = np.isfinite(Q).all(axis=1)
        z = np.where(good, lift(np.where(good[:, None], Q, 0.0)), np.nan)
        meta = getattr(run, "meta", None)
        traces.append(dict(type="scatter3d", x=core._f32(Q[:, 0]), y=core._f32(Q[:, 1]), z=core._f32(z), mode="lines",
                           name=run.label, legendgroup=run.label, line=dict(color=run.color, width=6), meta=meta,
                           hovertemplate=f"{run.label}<br>(%{{x:.3f}}, %{{y:.3f}})<extra></extra>"))
        traces.append(dict(type="scatter3d", x=core._f32(Q[-1:, 0]), y=core._f32(Q[-1:, 1]), z=core._f32(z[-1:]),
                           mode="markers", showlegend=False, legendgroup=run.label, meta=meta,
                           name=_("{label}: last point").format(label=run.label),
                           marker=dict(size=5, color=run.color, symbol="x" if run.diverged_at[0] >= 0 else "circle"),
                           hovertemplate=_("{label}: last point").format(label=run.label) + "<extra></extra>"))
    M = np.asarray(getattr(surface, "minima", np.zeros((0, 2))), dtype=float).reshape(-1, 2)
    M = M[: (getattr(surface, "n_global", None) or 1)] if len(M) > core.MANY_POINTS else M
    M = M[(M[:, 0] >= x0) & (M[:, 0] <= x1) & (M[:, 1] >= y0) & (M[:, 1] <= y1)]
    if len(M):
        traces.append(dict(type="scatter3d", x=core._f32(M[:, 0]), y=core._f32(M[:, 1]), z=core._f32(lift(M)),
                           mode="markers", name=_("minimum"), showlegend=False, meta=style.role_meta("minimum"),
                           marker=dict(size=6, color=style.MINIMUM_COLOR, symbol="diamond",
                                       line=dict(color="black", width=1)),
                           hovertemplate=_("minimum") + " (%{x:.3g}, %{y:.3g})<extra></extra>"))
    axis = dict(showspikes=False, tickfont=dict(size=11), title=dict(font=dict(size=13)), nticks=5)
    layout = core.base_layout(title, height)
    core._merge(layout, dict(
        uirevision=f"3d:{x0:g},{x1:g},{y0:g},{y1:g}",
        legend=dict(orientation="h", yanchor="top", y=0.0, xanchor="left", x=0.0),
        scene=dict(xaxis=dict(axis, title=dict(text="x"), range=[x0, x1]),
                   yaxis=dict(axis, title=dict(text="y"), range=[y0, y1]),
                   zaxis=dict(axis, title=dict(text=""), nticks=4), aspectmode="manual",
                   domain=dict(x=[0.0, 0.9], y=[0.0, 1.0]), aspectratio=dict(x=1, y=1, z=0.6),
                   camera=dict(eye=dict(x=-1.25, y=-1.35, z=0.85), center=dict(x=0, y=0, z=-0.12))),
        margin=dict(l=0, r=0, t=40 if title else 10, b=0)))
    return core._figure(traces, layout)


__all__ = ["setup_contour", "race_3d", "fit_race_chart", "decades"]
