r"""Figures of the chapter "Newton's method" (Plotly only, built on :mod:`optlab.figures.core`).

* :func:`taylor_1d` -- a curve, the tangent parabola at the current iterate and the jump to its vertex;
* :func:`error_1d` -- |x_k − x*| and |f'(x_k)| against k (quadratic vs linear convergence);
* :func:`model_2d` -- a surface with the path so far, the local quadratic model at the current
  iterate as level curves (ellipses / hyperbolas), the Hessian's eigenvectors as axes, the Newton
  step and every step length the line search tried;
* :func:`line_search` -- φ(s) = f(x + s d) with the Armijo line and the tried step lengths;
* :func:`cost` -- flops per iteration against the dimension n;
* :func:`bfgs_hessian` / :func:`bfgs_error` -- BFGS's Hessian estimate beside the true one.

Traces are plain dicts assembled into one unvalidated Figure (as in :mod:`.core`); the tests
validate every builder against Plotly's schema.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import plotly.graph_objects as go

from ..chapters import newton as qm
from ..i18n import domain
from . import core, style

_, N_, ngettext = domain("newton")

NEWTON = style.optimizer_color("newton")
BFGS = style.optimizer_color("bfgs")
NEWTON_META = style.optimizer_meta("newton")
BFGS_META = style.optimizer_meta("bfgs")
# roles (never an optimizer's colour, see .style)
UP = style.POSITIVE       # positive curvature (the model curves up along this axis)
DOWN = style.NEGATIVE     # negative curvature
FLAT = style.REFERENCE    # zero curvature
CURVE = style.INK         # the function itself
REJECTED = style.NEGATIVE
ACCEPTED = style.POSITIVE
NEGATIVE_FILL = "rgba(204,51,17,0.10)"  # NEGATIVE, faint: where f'' < 0

KIND_TEXT = {"minimum": N_("minimum"), "maximum": N_("maximum"), "saddle": N_("saddle point"),
             "degenerate": N_("no unique stationary point"), "undefined": N_("undefined"), "flat": N_("no vertex (flat)")}


def _f32(a) -> np.ndarray:
    return np.round(np.asarray(a, dtype=float), 6).astype(np.float32)


BOTTOM_LEGEND = dict(orientation="h", yanchor="top", y=-0.09, xanchor="left", x=0.0, font=dict(size=12),
                     bgcolor="rgba(255,255,255,0)")


def _surface_base(surface, n: int, title: str | None, height: int) -> tuple[list[dict], dict, Any]:
    """Traces and layout of :func:`core.contour` without paths, as dicts (adding traces to a built
    Figure would validate each one: ~30 ms per rerun)."""
    win = core.window_of(surface)
    traces = [core._contour_trace(surface, n, win, None, colorbar=False)]
    traces += core._critical_points(surface, win, True, True)
    layout = core.base_layout(title, height, hovermode="closest")
    core._merge(layout, core._fixed_axes(win))
    # the legend starts a fixed ~54 px under the plot, below the tick labels and the "x" title (at
    # y = −0.09 it sat on the title when the chart is short: presenter mode, 420 px)
    # (the plot's height once Plotly has grown the bottom margin for ~2 legend rows below that gap)
    plot_px = max(height - (20 if title is None else 60) - 10 - 54 - 40, 100)
    core._merge(layout, dict(showlegend=True, legend=dict(BOTTOM_LEGEND, y=-54.0 / plot_px),
                             margin=dict(l=10, r=10, t=20 if title is None else 60, b=10)))
    return traces, layout, win


def _fig(traces: Sequence[dict], layout: dict) -> go.Figure:
    # dict traces, no per-property validation, and no Plotly objects until a caller needs them
    # (core.LazyFigure): these builders run on every Streamlit rerun
    return core._figure(traces, layout)


_SUPS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def _sci(v: float) -> str:
    """3.3·10¹⁷ (plain digits below 10⁴)."""
    if not np.isfinite(v) or v <= 0:
        return f"{v:g}"
    if v < 1e4:
        return f"{v:,.0f}"
    e = int(math.floor(math.log10(v)))
    return f"{v / 10 ** e:.2g}·10{str(e).translate(_SUPS)}"


def _fmt(v: float) -> str:
    return f"{v:.4g}" if np.isfinite(v) else "—"


def _clip_segment(p, q, box):
    """The part of segment p→q inside ``box`` as (a, b, q_inside), or None."""
    pts, _idx, _clips = core.clip_path(np.array([p, q], dtype=float), box)
    fin = pts[np.isfinite(pts).all(axis=1)] if len(pts) else pts
    if len(fin) < 2:
        return None
    inside = bool(np.allclose(fin[-1], q))
    return fin[0], fin[-1], inside


def _arrow(p, q, box, color, *, width=2.5, dash=None, text="") -> dict | None:
    """An annotation arrow p → q clipped to ``box`` (the head only where q is inside)."""
    c = _clip_segment(np.asarray(p, float), np.asarray(q, float), box)
    if c is None:
        return None
    a, b, inside = c
    if np.allclose(a, b):
        return None
    return dict(x=float(b[0]), y=float(b[1]), ax=float(a[0]), ay=float(a[1]), xref="x", yref="y", axref="x",
                ayref="y", showarrow=True, arrowhead=2 if inside else 0, arrowsize=1.2, arrowwidth=width,
                arrowcolor=color, text=text, standoff=0, startstandoff=0)


# ----------------------------------------------------------------------------------------------
# One dimension
# ----------------------------------------------------------------------------------------------
def _y_range(fun: qm.Function1D, xs) -> tuple[float, float]:
    with np.errstate(all="ignore"):
        y = np.asarray(fun.f(xs), dtype=float)
    y = y[np.isfinite(y)]
    lo, hi = float(y.min()), float(y.max())
    pad = 0.12 * (hi - lo if hi > lo else 1.0)
    return lo - pad, hi + pad


def taylor_1d(fun: qm.Function1D, res: qm.Newton1D, k: int, *, height: int = 440,
              title: str | None = None, show_step: bool = True) -> go.Figure:
    r"""The curve f, the iterates up to ``k``, the tangent parabola at :math:`x_k` (and the damped
    model when μ > 0), its vertex and (``show_step``) the step to :math:`x_{k+1}`; regions with
    f'' < 0 shaded."""
    lo, hi = fun.window
    t = np.linspace(lo, hi, 400)
    ylo, yhi = _y_range(fun, t)
    k = int(min(max(k, 0), res.last))
    box = ((lo, hi), (ylo, yhi))
    traces: list[dict] = [dict(type="scatter", x=_f32(t), y=_f32(fun.f(t)), mode="lines", name="f(x)",
                               line=dict(color=CURVE, width=3), meta=style.role_meta("curve"),
                               hovertemplate="x = %{x:.4f}<br>f = %{y:.4g}<extra></extra>")]
    shapes, annotations = [], []
    for a, b in fun.negative_curvature():
        shapes.append(dict(type="rect", xref="x", yref="paper", x0=a, x1=b, y0=0, y1=1, line=dict(width=0),
                           fillcolor=NEGATIVE_FILL, layer="below", name=style.tag(style.role_meta("negative"))))
        annotations.append(dict(x=0.5 * (a + b), y=1.0, xref="x", yref="paper", yanchor="top", showarrow=False,
                                text="f″ < 0", font=dict(color=DOWN, size=13), name=style.tag(style.role_meta("negative"))))
    xk, fk = float(res.xs[k]), float(res.fs[k])
    finite_model = np.isfinite(res.model_h[k]) and np.isfinite(xk)
    if finite_model:
        with np.errstate(all="ignore"):
            q = res.parabola(k, t)
        traces.append(dict(type="scatter", x=_f32(t), y=_f32(np.clip(q, ylo - 10 * (yhi - ylo), yhi + 10 * (yhi - ylo))),
                           mode="lines", name=_("Taylor parabola at x{k}").format(k=_sub(k)),
                           line=dict(color=NEWTON, width=2.5, dash="dash"), meta=NEWTON_META,
                           hovertemplate=_("parabola") + ": %{y:.4g}<extra></extra>"))
        if res.mus[k] != 0:
            with np.errstate(all="ignore"):
                qd = res.model(k, t)
            traces.append(dict(type="scatter", x=_f32(t), y=_f32(np.clip(qd, ylo - 10 * (yhi - ylo), yhi + 10 * (yhi - ylo))),
                               mode="lines", name=_("damped model (f″ + μ, μ = {mu})").format(mu=f"{res.mus[k]:.3g}"),
                               line=dict(color=NEWTON, width=2, dash="dot"), meta=NEWTON_META,
                               hovertemplate=_("damped model") + ": %{y:.4g}<extra></extra>"))
        v = float(res.vertex[k])
        kind = _(KIND_TEXT[res.kind[k]])
        if np.isfinite(v):
            qv = float(res.model(k, v))
            inside = lo <= v <= hi and ylo <= qv <= yhi
            if inside:
                traces.append(dict(type="scatter", x=[v], y=[qv], mode="markers", name=_("vertex: the parabola's {kind}").format(kind=kind),
                                   marker=dict(symbol="star" if res.kind[k] == "minimum" else "triangle-down", size=15,
                                               color=NEWTON, line=dict(color="white", width=1)), meta=NEWTON_META,
                                   hovertemplate=_("vertex ({kind}) at x = {x}").format(kind=kind, x="%{x:.5g}") + "<extra></extra>"))
            else:
                annotations.append(dict(x=min(max(v, lo), hi), y=min(max(qv, ylo), yhi), xref="x", yref="y",
                                        showarrow=False, xanchor="right" if v > hi else "left",
                                        text=(_("vertex at x = {x} →") if v > hi else _("← vertex at x = {x}")).format(x=f"{v:.3g}"),
                                        font=dict(color=NEWTON, size=13), bgcolor="rgba(255,255,255,0.8)",
                                        name=style.tag(NEWTON_META)))
    # iterates so far
    P = np.arange(k + 1)
    traces.append(dict(type="scatter", x=_f32(res.xs[: k + 1]), y=_f32(res.fs[: k + 1]), mode="markers+text",
                       name=_("iterates"), showlegend=False, text=[f"x{_sub(i)}" for i in P], textposition="top center",
                       textfont=dict(color=NEWTON, size=13),
                       marker=dict(color=[NEWTON] * k + ["white"], size=[8] * k + [14],
                                   line=dict(color=NEWTON, width=2.5)), meta=NEWTON_META,
                       customdata=P, hovertemplate="x%{customdata} = %{x:.6g}<br>f = %{y:.5g}<extra></extra>"))
    if show_step and (k < res.last or (res.diverged_at >= 0 and k == res.last)):
        nxt = float(res.xs[k + 1]) if k + 1 < len(res.xs) else math.nan
        if np.isfinite(nxt):
            a = _arrow((xk, fk), (nxt, float(res.fs[k + 1])), box, NEWTON)
            if a:
                annotations.append(dict(a, name=style.tag(NEWTON_META)))
            if not lo <= nxt <= hi:
                annotations.append(dict(x=hi if nxt > hi else lo, y=0.08, xref="x", yref="paper", showarrow=False,
                                        xanchor="right" if nxt > hi else "left",
                                        text=_("x{k} = {x} (off the chart)").format(k=_sub(k + 1), x=f"{nxt:.4g}"),
                                        font=dict(color=NEWTON, size=13), bgcolor="rgba(255,255,255,0.8)",
                                        name=style.tag(NEWTON_META)))
        else:
            annotations.append(dict(x=0.5, y=0.06, xref="paper", yref="paper", showarrow=False,
                                    text=_("step {k}: {reason}").format(k=k + 1, reason=_(res.diverged_reason) if res.diverged_reason
                                                                         else _("the iterate is undefined")),
                                    font=dict(color=style.DIVERGED, size=14), bgcolor="rgba(255,255,255,0.85)",
                                    name=style.tag(style.role_meta("diverged"))))
    layout = core.base_layout(title, height, hovermode="closest")
    core._merge(layout, dict(
        xaxis=dict(range=[lo, hi], autorange=False, title=dict(text="x"), zeroline=False),
        yaxis=dict(range=[ylo, yhi], autorange=False, title=dict(text="f(x)"), zeroline=False),
        shapes=shapes, annotations=annotations, uirevision=f"1d:{fun.name}"))
    return _fig(traces, layout)


_SUBS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _sub(i: int) -> str:
    return str(int(i)).translate(_SUBS)


def error_1d(res: qm.Newton1D, k: int, x_star: float | None, *, height: int = 300,
             floor: float = 1e-17) -> go.Figure:
    """|x_k − x*| (when x* is known) and |f'(x_k)| against k on a log axis; the current k marked."""
    last = res.last
    K = np.arange(last + 1)
    ys: dict[str, Any] = {}
    if x_star is not None and np.isfinite(x_star):
        ys["|xₖ − x*|"] = np.maximum(np.abs(res.xs[: last + 1] - x_star), floor)
    ys["|f′(xₖ)|"] = np.maximum(np.abs(res.gs[: last + 1]), floor)
    fig = core.line_figure(K, ys, log_y=True, xlabel=_("iteration k"), ylabel=_("(log scale)"), mode="lines+markers",
                           metas=[NEWTON_META], height=height, dashes={"|f′(xₖ)|": "dot"})
    return _with_vline(fig, min(k, last), dtick=1 if last <= 20 else None, log_dtick=_decade_step(*ys.values()))


def _decade_step(*arrays, ticks: int = 5) -> int:
    """A log axis' tick step in decades: about ``ticks`` labels over the data's range (powers of ten
    only, never the 2 and 5 minor labels that overprint on a narrow chart)."""
    vals = np.concatenate([np.asarray(a, dtype=float).reshape(-1) for a in arrays]) if arrays else np.ones(1)
    vals = vals[np.isfinite(vals) & (vals > 0)]
    if not vals.size:
        return 1
    span = float(np.log10(vals.max()) - np.log10(vals.min()))
    return max(1, int(math.ceil(span / ticks)))


def _with_vline(fig: go.Figure, x: float, dtick=None, log_dtick=None) -> go.Figure:
    """The figure rebuilt with a dashed vertical line at x (``add_vline`` would validate it)."""
    layout = fig.layout.to_plotly_json()
    if layout.get("yaxis", {}).get("type") == "log":
        layout["yaxis"]["dtick"] = 1 if log_dtick is None else log_dtick  # powers of ten only: no 2, 5 ticks
    layout["shapes"] = [dict(type="line", xref="x", yref="paper", x0=float(x), x1=float(x), y0=0, y1=1,
                             line=dict(color=style.GUIDE, width=1, dash="dash"), name=style.tag(style.role_meta("guide")))]
    if dtick is not None:
        layout.setdefault("xaxis", {})["dtick"] = dtick
    return _fig([t.to_plotly_json() for t in fig.data], layout)


# ----------------------------------------------------------------------------------------------
# Two dimensions
# ----------------------------------------------------------------------------------------------
def _curve_trace(pts: np.ndarray, name: str, color: str, width: float, dash: str, *, legend: bool,
                 group: str, hover: str, meta: dict | None = None) -> dict:
    return dict(type="scatter", x=_f32(pts[:, 0]), y=_f32(pts[:, 1]), mode="lines", name=name, legendgroup=group,
                showlegend=legend, line=dict(color=color, width=width, dash=dash), hoverinfo="text",
                hovertext=hover, connectgaps=False, meta=dict(meta or style.role_meta("curve")))


def model_traces(model: qm.LocalModel, window, *, optimizer: str = "newton", name: str | None = None,
                 show_axes: bool = True, show_center: bool = True) -> list[dict]:
    """Level curves of ``model`` (the one through x thick) in ``optimizer``'s colour, its eigen-axes
    and stationary point."""
    color, meta = style.optimizer_color(optimizer), style.optimizer_meta(optimizer)
    traces: list[dict] = []
    curves = model.curves(window)
    kind = _(KIND_TEXT.get(model.kind, model.kind))
    name = name or _("quadratic model at xₖ")
    thin_x, thin_y = [], []
    for lv, through, pts in curves:
        if not len(pts):
            continue
        if through:
            # a white halo keeps the violet curve readable on the dark end of the colour scale
            traces.append(_curve_trace(pts, "", "rgba(255,255,255,0.75)", 6.0, "solid", legend=False,
                                       group="model", hover="", meta=style.role_meta("halo")))
            traces[-1]["hoverinfo"] = "skip"
            traces.append(_curve_trace(pts, _("{name} ({kind})").format(name=name, kind=kind), color,
                                       3.0, "solid", legend=True, group="model",
                                       hover=_("model level q = f(xₖ) = {v}").format(v=f"{lv:.4g}"), meta=meta))
        else:
            thin_x += [pts[:, 0], [np.nan]]
            thin_y += [pts[:, 1], [np.nan]]
    if thin_x:
        traces.append(dict(type="scatter", x=_f32(np.concatenate(thin_x)), y=_f32(np.concatenate(thin_y)), mode="lines",
                           name=_("other levels of the model"), legendgroup="model", showlegend=False,
                           line=dict(color=color, width=1.2, dash="dot"), hoverinfo="skip", meta=meta))
    if show_axes:
        seen: set[str] = set()
        for origin, v, lam in model.axes(window):
            sign = UP if lam > 0 else (DOWN if lam < 0 else FLAT)
            zero = model.kind == "degenerate" and abs(lam) <= qm.REL_ZERO * float(np.max(np.abs(model.eigvals)) or 1.0)
            label = (_("axis, λ = 0 (flat)") if zero else
                     (_("axis, λ > 0 (curves up)") if lam > 0 else _("axis, λ < 0 (curves down)")))
            P = np.array([origin - v, origin + v])
            traces.append(dict(type="scatter", x=_f32(P[:, 0]), y=_f32(P[:, 1]), mode="lines+markers",
                               name=label, legendgroup=f"axis{label}",
                               showlegend=label not in seen,
                               line=dict(color=FLAT if zero else sign, width=3.5, dash="dot" if zero else "solid"),
                               marker=dict(size=[0, 0], color=FLAT if zero else sign),
                               meta=style.role_meta("reference" if zero else ("positive" if lam > 0 else "negative")),
                               hoverinfo="text", hovertext=_("eigenvalue λ = {lam}<br>direction ({a}, {b})").format(
                                   lam=f"{lam:.4g}", a=f"{v[0] / max(np.hypot(*v), 1e-300):.3f}",
                                   b=f"{v[1] / max(np.hypot(*v), 1e-300):.3f}")))
            seen.add(label)
    if show_center and np.all(np.isfinite(model.center)):
        c = model.center
        traces.append(dict(type="scatter", x=[float(c[0])], y=[float(c[1])], mode="markers",
                           name=_("model's {kind}: pure Newton's next point").format(kind=kind), legendgroup="model",
                           marker=dict(symbol="x-thin-open" if model.kind != "minimum" else "circle-x-open", size=16,
                                       color=color, line=dict(color=color, width=3)), meta=meta,
                           hovertemplate=_("model's {kind}").format(kind=kind) + "<br>(%{x:.4g}, %{y:.4g})<extra></extra>"))
    return traces


def model_2d(surface, xs, k: int, model: qm.LocalModel, *, next_x=None, trace: qm.LineSearchTrace | None = None,
             label: str = "Newton", optimizer: str = "newton", n: int = 110, height: int = 680,
             title: str | None = None) -> go.Figure:
    r"""The surface, the path :math:`x_0 … x_k`, the local model at :math:`x_k` (level curves,
    eigen-axes, stationary point), the full Newton step to the model's stationary point, the
    line search's tries and the step actually taken to ``next_x``."""
    base, layout, win = _surface_base(surface, n, title, height)
    (x0, x1), (y0, y1) = win
    box = ((x0, x1), (y0, y1))
    xs = np.asarray(xs, dtype=float)
    k = int(k)
    color, meta = style.optimizer_color(optimizer), style.optimizer_meta(optimizer)
    traces = model_traces(model, win, optimizer=optimizer)
    # path so far
    path = xs[: k + 1]
    path = path[np.isfinite(path).all(axis=1)]
    if len(path):
        pts, idx, _clips = core.clip_path(path, core._padded(win))
        traces.append(dict(type="scatter", x=_f32(pts[:, 0]), y=_f32(pts[:, 1]), mode="lines+markers",
                           name=_("{label}: x₀ … x{k}").format(label=label, k=_sub(k)), showlegend=False,
                           line=dict(color="white", width=2), marker=dict(color="white", size=6, line=dict(color=color, width=1.5)),
                           customdata=idx, hovertemplate="x%{customdata}<br>(%{x:.4f}, %{y:.4f})<extra></extra>", meta=meta))
        xk = path[-1]
        traces.append(dict(type="scatter", x=[float(xk[0])], y=[float(xk[1])], mode="markers",
                           name=_("x{k} (now)").format(k=_sub(k)), showlegend=False,
                           marker=dict(color=color, size=15, line=dict(color="white", width=2.5)), meta=meta,
                           hovertemplate=f"x{_sub(k)} = (%{{x:.5g}}, %{{y:.5g}})<extra></extra>"))
    annotations = []
    if trace is not None:
        P = trace.x[None, :] + trace.steps[:, None] * trace.d[None, :]
        acc = np.zeros(len(P), dtype=bool)
        if trace.accepted >= 0:
            acc[trace.accepted] = True
        text = [_("try {j}: s = {s}<br>f = {f} vs Armijo bound {b}<br>{verdict}").format(
            j=j + 1, s=f"{s:.4g}", f=_fmt(v), b=f"{b:.4g}", verdict=_("accepted") if a else _("rejected"))
            for j, (s, v, b, a) in enumerate(zip(trace.steps, trace.values, trace.bounds, acc))]
        inside = (P[:, 0] >= x0) & (P[:, 0] <= x1) & (P[:, 1] >= y0) & (P[:, 1] <= y1)
        rej = ~acc & inside
        if rej.any():
            traces.append(dict(type="scatter", x=_f32(P[rej, 0]), y=_f32(P[rej, 1]), mode="markers",
                               name=_("line search: rejected"), marker=dict(symbol="x", size=11, color=REJECTED,
                                                                             line=dict(color="white", width=1)),
                               meta=style.role_meta("negative"),
                               hovertext=[t for t, r in zip(text, rej) if r], hoverinfo="text"))
        if acc.any() and inside[acc].all():
            traces.append(dict(type="scatter", x=_f32(P[acc, 0]), y=_f32(P[acc, 1]), mode="markers",
                               name=_("line search: accepted"), marker=dict(symbol="circle", size=12, color=ACCEPTED,
                                                                             line=dict(color="white", width=1.5)),
                               meta=style.role_meta("positive"),
                               hovertext=[t for t, a in zip(text, acc) if a], hoverinfo="text"))
        far = trace.x + trace.steps[0] * trace.d
        a = _arrow(trace.x, far, box, "rgba(255,255,255,0.9)", width=1.5)
        if a:
            annotations.append(a)
    if len(path) and np.all(np.isfinite(model.center)):
        a = _arrow(path[-1], model.center, box, color, width=1.8)
        if a and trace is None:
            annotations.append(dict(a, name=style.tag(meta)))
    if next_x is not None and len(path):
        nx = np.asarray(next_x, dtype=float)
        if np.all(np.isfinite(nx)) and not np.allclose(nx, path[-1]):
            a = _arrow(path[-1], nx, box, color, width=3.5)
            if a:
                annotations.append(dict(a, name=style.tag(meta)))
    layout["annotations"] = annotations
    return _fig(base + traces, layout)


def line_search(trace: qm.LineSearchTrace, *, height: int = 330, title: str | None = None) -> go.Figure:
    r"""φ(s) = f(x + s d) for s ∈ [0, s₀], the tangent :math:`f + s\,g^\top d`, the Armijo line
    :math:`f + c_1 s\,g^\top d` and the tried step lengths (rejected ✕, accepted ●)."""
    s, f = trace.curve_s, trace.curve_f
    fin = np.isfinite(f)
    lo = float(np.min(np.r_[f[fin], trace.f0])) if fin.any() else trace.f0 - 1
    span = max(trace.f0 - lo, abs(trace.slope) * trace.lr * 0.5, 1e-12)
    ylo, yhi = lo - 0.15 * span, trace.f0 + 1.2 * span
    traces = [dict(type="scatter", x=_f32(s), y=np.asarray(f, float), mode="lines", name="φ(s)",
                   line=dict(color=CURVE, width=2.5), hovertemplate="s = %{x:.4g}<br>f = %{y:.5g}<extra></extra>",
                   meta=style.role_meta("curve")),
              dict(type="scatter", x=[0.0, float(s[-1])], y=[trace.f0, trace.f0 + trace.slope * float(s[-1])], mode="lines",
                   name=_("tangent"), line=dict(color=style.GUIDE, width=1.5, dash="dot"), hoverinfo="skip",
                   meta=style.role_meta("guide")),
              dict(type="scatter", x=[0.0, float(s[-1])], y=[trace.f0, trace.f0 + trace.c1 * trace.slope * float(s[-1])],
                   mode="lines", name=_("Armijo line (c₁ = {c1})").format(c1=f"{trace.c1:g}"),
                   line=dict(color=ACCEPTED, width=2, dash="dash"), hoverinfo="skip", meta=style.role_meta("positive"))]
    acc = np.arange(len(trace.steps)) == trace.accepted
    vals = np.asarray(trace.values, float)
    # a try far above the window (or not finite) is drawn as ▲ just inside its top edge, its number
    # below it: half a marker cut by the frame read as a glitch (its value is in the hover)
    above = ~np.isfinite(vals) | (vals > yhi)
    shown = np.where(above, yhi - 0.05 * (yhi - ylo), np.clip(np.nan_to_num(vals, nan=yhi), ylo, yhi))
    symbols = np.where(above, "triangle-up", "")
    # a try's number goes on the side of its marker with more room before the tangent or the Armijo
    # line (an accepted try lies between them, or under both): above it, the number sat on the tangent
    with np.errstate(invalid="ignore"):
        lines = np.array([trace.f0 + trace.slope * np.asarray(trace.steps, float),
                          trace.f0 + trace.c1 * trace.slope * np.asarray(trace.steps, float)])
        up = np.where(lines > shown, lines - shown, np.inf).min(axis=0)
        down = np.where(lines < shown, shown - lines, np.inf).min(axis=0)
    where = np.where(above, "bottom center", np.where(up >= down, "top center", "bottom center"))
    low = ~above & (where == "bottom center")
    if low.any():  # room under the lowest such marker for its number (a label is ~18 % of the plot)
        ylo = min(ylo, float(shown[low].min()) - 0.18 * (yhi - ylo))
    text = [str(j + 1) for j in range(len(trace.steps))]
    hover = [_("try {j}: s = {s}<br>f = {f}<br>bound = {b}<br>{verdict}").format(
        j=j + 1, s=f"{st:.4g}", f=_fmt(v), b=f"{b:.5g}", verdict=_("accepted") if a else _("rejected"))
        for j, (st, v, b, a) in enumerate(zip(trace.steps, vals, trace.bounds, acc))]
    for mask, name, sym, col in ((~acc, _("rejected try"), "x", REJECTED), (acc, _("accepted try"), "circle", ACCEPTED)):
        if mask.any():
            traces.append(dict(type="scatter", x=_f32(trace.steps[mask]), y=np.asarray(shown[mask], float),
                               mode="markers+text", name=name, text=[t for t, m in zip(text, mask) if m],
                               textposition=[str(w) for w in where[mask]], textfont=dict(color=col, size=12),
                               marker=dict(symbol=[str(y) or sym for y in symbols[mask]], size=12, color=col,
                                           line=dict(color="white", width=1)),
                               hovertext=[h for h, m in zip(hover, mask) if m], hoverinfo="text",
                               meta=style.role_meta("negative" if col == REJECTED else "positive")))
    layout = core.base_layout(title, height, hovermode="closest")
    core._merge(layout, dict(xaxis=dict(title=dict(text=_("step length s")), range=[0, float(s[-1])]),
                             yaxis=dict(title=dict(text="f(x + s·d)"), range=[ylo, yhi]),
                             legend=dict(font=dict(size=12), y=1.02), margin=dict(t=95 if title is None else 120)))
    return _fig(traces, layout)


# ----------------------------------------------------------------------------------------------
# Cost
# ----------------------------------------------------------------------------------------------
COST_LABELS = {"sgd": N_("Gradient descent"), "newton": N_("Newton"), "bfgs": "BFGS"}


def cost(n_chosen: float, *, n_max: float = 1e9, height: int = 360, title: str | None = None) -> go.Figure:
    """Flops per iteration against n (log–log) for gradient descent, Newton and BFGS; n_chosen marked."""
    ns = np.logspace(0, math.log10(n_max), 120)
    tot = qm.cost_totals(ns)
    traces = []
    at = qm.cost_totals(np.array([float(n_chosen)]))
    for name, label in COST_LABELS.items():
        label = _(label)
        c = style.optimizer_color(name)
        traces.append(dict(type="scatter", x=ns, y=tot[name], mode="lines", name=label, meta=style.optimizer_meta(name),
                           line=dict(color=c, width=2.6, dash=style.optimizer_dash(name)),
                           hovertemplate=label + "<br>n = %{x:.3g}<br>" + _("{flops} flops per iteration").format(
                               flops="%{y:.3g}") + "<extra></extra>"))
        traces.append(dict(type="scatter", x=[float(n_chosen)], y=[float(at[name][0])], mode="markers+text",
                           showlegend=False, name=_("{label} at n").format(label=label), text=[_sci(float(at[name][0]))],
                           textposition="middle right", textfont=dict(color=c, size=13),
                           marker=dict(color=c, size=11, line=dict(color="white", width=1.5)),
                           meta=style.optimizer_meta(name),
                           hovertemplate=label + ": " + _("{flops} flops per iteration").format(flops="%{y:.4g}")
                           + "<extra></extra>"))
    layout = core.base_layout(title, height, hovermode="closest")
    core._merge(layout, dict(xaxis=dict(type="log", title=dict(text=_("number of parameters n")), exponentformat="power",
                                        automargin=True),
                             yaxis=dict(type="log", title=dict(text=_("flops per iteration")), exponentformat="power",
                                        automargin=True),
                             margin=dict(l=20, r=60),
                             shapes=[dict(type="line", xref="x", yref="paper", x0=float(n_chosen), x1=float(n_chosen),
                                          y0=0, y1=1, line=dict(color=style.GUIDE, width=1, dash="dash"),
                                          name=style.tag(style.role_meta("guide")))]))
    return _fig(traces, layout)


# ----------------------------------------------------------------------------------------------
# BFGS learning the Hessian
# ----------------------------------------------------------------------------------------------
def curvature_curve(M, center, size: float, radius: float) -> np.ndarray:
    r"""The shape of the quadratic form of ``M`` around ``center``: the curves
    :math:`\tfrac12 d^\top M d = \pm c` with c chosen so that the longest semi-axis is ``size``
    (an ellipse for a definite M, two hyperbola pairs for an indefinite one).  Each matrix gets its
    own scale, so the drawing compares shapes and orientations, not sizes."""
    M = np.asarray(M, dtype=float)
    if not np.all(np.isfinite(M)):
        return np.zeros((0, 2))
    lam = np.abs(np.linalg.eigvalsh(0.5 * (M + M.T)))
    lam = lam[lam > qm.REL_ZERO * max(float(lam.max()), 1e-300)]
    if not lam.size:
        return np.zeros((0, 2))
    c = 0.5 * size * size * float(lam.min())
    parts = []
    for level in (c, -c):
        pts = qm.level_curve(0.0, np.zeros(2), M, level, radius)
        if len(pts):
            parts += [pts, np.full((1, 2), np.nan)]
    if not parts:
        return np.zeros((0, 2))
    return np.concatenate(parts[:-1]) + np.asarray(center, float)


def bfgs_hessian(surface, xs, k: int, H_true, B_est, *, n: int = 110, height: int = 620,
                 title: str | None = None) -> go.Figure:
    r"""The BFGS path up to :math:`x_k` with the shapes of two quadratic forms at :math:`x_k`
    (:func:`curvature_curve`): the true Hessian (solid) and BFGS's estimate (dashed).  Equal matrices
    give the same curve; the estimate is always positive definite (an ellipse), the true Hessian
    need not be."""
    base, layout, win = _surface_base(surface, n, title, height)
    (x0, x1), (y0, y1) = win
    diag = math.hypot(x1 - x0, y1 - y0)
    xs = np.asarray(xs, dtype=float)
    path = xs[: k + 1]
    path = path[np.isfinite(path).all(axis=1)]
    traces = []
    if len(path):
        pts, idx, _clips = core.clip_path(path, core._padded(win))
        traces.append(dict(type="scatter", x=_f32(pts[:, 0]), y=_f32(pts[:, 1]), mode="lines+markers",
                           name=_("BFGS: x₀ … x{k}").format(k=_sub(k)), line=dict(color="white", width=2), meta=BFGS_META,
                           marker=dict(color="white", size=6, line=dict(color=BFGS, width=1.5)), customdata=idx,
                           hovertemplate="x%{customdata}<br>(%{x:.4f}, %{y:.4f})<extra></extra>"))
        xk = path[-1]
        size = 0.2 * diag
        for M, name, col, dash, meta in ((H_true, _("true Hessian ∇²f(xₖ)"), CURVE, "solid", style.role_meta("truth")),
                                         (B_est, _("BFGS estimate Bₖ"), BFGS, "dash", BFGS_META)):
            c = curvature_curve(M, xk, size, 2 * diag)
            if len(c):
                traces.append(_curve_trace(c, name, col, 3.0, dash, legend=True, group=name,
                                           hover=_("{name}: shape of ½dᵀMd = ±const").format(name=name), meta=meta))
        traces.append(dict(type="scatter", x=[float(xk[0])], y=[float(xk[1])], mode="markers", name=f"x{_sub(k)}",
                           marker=dict(color=BFGS, size=14, line=dict(color="white", width=2.5)), meta=BFGS_META,
                           hovertemplate=f"x{_sub(k)} = (%{{x:.5g}}, %{{y:.5g}})<extra></extra>"))
    return _fig(base + traces, layout)


def bfgs_error(err, k: int, *, height: int = 280, floor: float = 1e-16) -> go.Figure:
    """Relative error ‖Bₖ − ∇²f(xₖ)‖/‖∇²f(xₖ)‖ of BFGS's estimate against k (log axis)."""
    err = np.asarray(err, dtype=float)
    K = np.arange(len(err))
    fig = core.line_figure(K, {"‖Bₖ − ∇²f(xₖ)‖ / ‖∇²f(xₖ)‖": np.maximum(err, floor)}, log_y=True,
                           xlabel=_("iteration k"), ylabel=_("relative error (log scale)"), metas=[BFGS_META],
                           mode="lines+markers", height=height)
    return _with_vline(fig, int(k), log_dtick=_decade_step(np.maximum(err, floor)))


def iterations(rows: Sequence[tuple[str, str, float, bool, str]], *, height: int | None = None,
               title: str | None = None) -> go.Figure:
    """Horizontal bars (log axis): iterations each method needed to reach the tolerance.

    ``rows``: ``(label, optimizer name, length, reached, text)``: a method that got there is a solid
    bar of its iterations; one that did not is hatched up to where it stopped (or its step limit),
    and ``text`` says why ("diverged at step 3", "not within 200", "7 (f's rounding floor)").
    Method names stay on the axis, the counts and reasons at the bars' ends, inside the plot area
    (its range leaves room for them), so nothing is cut at 1024 px.
    """
    labels, vals, colors, texts, patterns, names = [], [], [], [], [], []
    for label, name, length, reached, text in rows:
        labels.append(label)
        names.append(style.optimizer_key(name))
        vals.append(max(float(length), 1.0))
        colors.append(style.optimizer_color(name))
        texts.append(text)
        patterns.append("" if reached else "/")
    tr = dict(type="bar", orientation="h", x=vals, y=labels, marker=dict(color=colors, pattern=dict(shape=patterns)),
              text=texts, textposition="outside", cliponaxis=False, showlegend=False, textfont=dict(size=14),
              meta={"optimizer": names, "variant": [0] * len(names)},
              hovertemplate="%{y}: %{text}<extra></extra>")
    hi = max(vals) if vals else 10.0
    top = math.ceil(math.log10(hi) + 1e-9)
    # room right of the longest bar for its text: ~0.08 decade per character of the longest label
    room = 0.4 + 0.075 * max((len(t) for t in texts), default=4)
    layout = core.base_layout(title, height or 70 + 46 * len(rows))
    core._merge(layout, dict(
        xaxis=dict(type="log", title=dict(text=_("iterations (log scale)")),
                   range=[-0.05, top + room], tickvals=[10 ** e for e in range(0, top + 1)],
                   ticktext=[_sci(10.0 ** e) for e in range(0, top + 1)], automargin=True),
        yaxis=dict(autorange="reversed", automargin=True, tickfont=dict(size=14)),
        margin=dict(l=10, r=20, t=20 if title is None else 60, b=10)))
    return _fig([tr], layout)
