r"""Figures of the chapter "Gradient descent" (Plotly only, built on :mod:`optlab.figures.core`).

* :func:`variants_curves` -- f − f* against epochs for batch GD, mini-batch and SGD (one epoch is
  N sample gradients for every variant, so the x-axis is also the cost);
* :func:`schedule_curves` -- f − f* (top) and the learning rate (bottom) against step, constant vs
  scheduled, on one shared step axis;
* :func:`lr_curve` -- f − f* against step for runs that differ in learning rate;
* :func:`article_fit` -- the article's four points and the lines each method found;
* :func:`article_theta` -- θ of the article's SGD over its iterations, for several seeds;
* :func:`halo` -- white halos under the paths of a contour, so a path stays visible on every
  colour of the surface (the paths end on its darkest part, the minimum).

Every run of this page is ``torch.optim.SGD``: batch GD, mini-batch and SGD differ in the data each
step sees, momentum and schedules in one setting.  So they are variants of SGD in the colour
registry (:mod:`optlab.figures.style`, rule 2): :data:`VARIANTS` names the variant of each setting
(batch GD, constant lr and plain GD keep SGD's own colour; mini-batch, a schedule and momentum
take the first variant colour, stochastic the second), the same on every figure of the page, and
the legends say how each relates to SGD.  Widths (:data:`WIDTHS`) tell them apart without colour
too; every trace carries its tag (``meta``).

Numbers in labels go through :func:`fmt_num` / :func:`fmt_line` (one place to format: a minus
sign, not a hyphen; ``—`` for a value that is not a number).
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .. import format as fmt
from ..i18n import domain
from . import core, style

_, N_, ngettext = domain("gradient_descent")

MINUS = fmt.MINUS
DASH = fmt.UNDEFINED


# ----------------------------------------------------------------------------------------------
# Numbers in text: optlab.format (one way to write numbers on every page), with this page's defaults
# ----------------------------------------------------------------------------------------------
def fmt_num(v: Any, digits: int = 4) -> str:
    """``v`` with ``digits`` significant digits (:func:`optlab.format.number`: a real minus sign,
    thousands separators, an exponent outside 1e-4 … 1e6); ``—`` for None, NaN and ±∞."""
    return fmt.number(v, digits)


def fmt_factor(v: Any, digits: int = 3) -> str:
    """A factor near 1 with enough digits to tell it from 1 (0.999998, not 1)."""
    x = fmt.value(v)
    if x is not None and x != 1 and abs(1 - abs(x)) < 10.0 ** (1 - digits):
        digits = min(15, int(math.ceil(-math.log10(abs(1 - abs(x))))) + 2)
    return fmt_num(v, digits)


def fmt_gap(v: Any, floor: float, digits: int = 4) -> str:
    """f − f* as text: "≈ 0" at or below the rounding ``floor`` (not a number to compare)."""
    x = fmt.value(v)
    return "≈ 0" if x is not None and x <= floor else fmt_num(v, digits)


def fmt_signed(v: Any, digits: int = 4) -> str:
    """``+ 0.5`` or ``− 9.2e-16``: a term added to what precedes it (:func:`optlab.format.signed`)."""
    return fmt.signed(v, digits)


def fmt_line(w: float, b: float, *, w_digits: int = 6, b_digits: int = 2) -> str:
    """The fitted line as text: ``ŷ = 1·x − 9.2e-16`` (:func:`optlab.format.term`, each sign once)."""
    return f"ŷ = {fmt.term(w, 'x', w_digits, first=True)} {fmt.term(b, '', b_digits)}"


# ----------------------------------------------------------------------------------------------
# Colours: variants of SGD in the registry, one per kind of run
# ----------------------------------------------------------------------------------------------
# kind -> the SGD variant it is drawn as (0: SGD's own colour); the article's seeds are all SGD with
# batch size 1, told apart by their dash
VARIANTS = {
    "batch": 0, "minibatch": 1, "sgd": 2,
    "constant": 0, "scheduled": 1,
    "gd": 0, "momentum": 1,
    "seed0": 2, "seed1": 2, "seed2": 2,
}
# kind -> line width: wider = more samples per step (or the smoother run)
WIDTHS = {"batch": 3.0, "minibatch": 2.2, "sgd": 1.3, "constant": 1.6, "scheduled": 2.4, "gd": 2.2,
          "momentum": 2.6, "seed0": 2.2, "seed1": 2.2, "seed2": 2.2}
SEED_DASHES = ("solid", "dash", "dot")
MAX_POINTS = 3000  # per curve: long SGD runs are thinned (evenly, last point kept) to keep figures small


def shade(kind: str) -> str:
    """The registry's colour of a kind of run (SGD's variant :data:`VARIANTS`\\[kind])."""
    return style.optimizer_color("sgd", VARIANTS[kind])


def meta(kind: str) -> dict:
    """The trace tag of a kind of run (SGD, variant :data:`VARIANTS`\\[kind])."""
    return style.optimizer_meta("sgd", VARIANTS[kind])


def width(kind: str) -> float:
    return WIDTHS[kind]


def _thin(x: np.ndarray, y: np.ndarray, max_points: int = MAX_POINTS):
    n = len(x)
    if n <= max_points:
        return x, y
    idx = np.unique(np.r_[np.linspace(0, n - 1, max_points).round().astype(int), n - 1])
    return x[idx], y[idx]


def _gap(losses, f_star: float, floor: float) -> np.ndarray:
    g = np.asarray(losses, dtype=float) - f_star
    return np.where(np.isfinite(g), np.maximum(g, floor), np.nan)


def running_mean(y: np.ndarray, window: int) -> np.ndarray:
    """Mean of the last ``window`` values at each point (fewer at the start); NaN stays NaN."""
    y = np.asarray(y, dtype=float)
    w = max(1, int(window))
    if w == 1 or y.size == 0:
        return y.copy()
    ok = np.isfinite(y)
    c = np.concatenate([[0.0], np.cumsum(np.where(ok, y, 0.0))])
    k = np.concatenate([[0], np.cumsum(ok)])
    i = np.arange(1, y.size + 1)
    lo = np.maximum(i - w, 0)
    cnt = k[i] - k[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (c[i] - c[lo]) / cnt
    return np.where(ok, out, np.nan)


def _legend_top(fig: go.Figure) -> go.Figure:
    """Legend above the plot, left-aligned, wrapping into rows (it pushes the plot down, so it
    never meets an axis title, whatever the width)."""
    fig.update_layout(legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0.0,
                                  bgcolor="rgba(255,255,255,0)", font=dict(size=13)),
                      margin=dict(t=10, l=10, r=10, b=10))
    return fig


def decade_ticks(fig: go.Figure, values, **where) -> go.Figure:
    """A log axis labelled at powers of ten only (no crowded 2 and 5 between decades), at most
    about seven labels whatever the range."""
    parts = [np.ravel(np.asarray(a, dtype=float)) for a in values if a is not None]
    v = np.concatenate(parts) if parts else np.zeros(0)
    v = v[np.isfinite(v) & (v > 0)]
    if v.size:
        lo, hi = math.floor(math.log10(v.min())), math.ceil(math.log10(v.max()))
        step = max(1, math.ceil((hi - lo) / 6))
        fig.update_yaxes(dtick=step, tick0=0, minor=dict(showgrid=False), **where)
    return fig


def halo(fig: go.Figure, width_px: float = 2.5) -> go.Figure:
    """A white line under every path of a contour figure (lines only: not markers, not the
    contour), so paths stay visible on the dark minimum as on the light rim."""
    data = list(fig.data)
    out = []
    for tr in data:
        if tr.type == "scatter" and tr.mode == "lines" and tr.line is not None and tr.line.color:
            out.append(go.Scatter(x=tr.x, y=tr.y, mode="lines", showlegend=False, hoverinfo="skip",
                                  line=dict(color="rgba(255,255,255,0.85)", width=(tr.line.width or 2) + width_px)))
        out.append(tr)
    fig.data = ()
    fig.add_traces(out)
    return fig


# ----------------------------------------------------------------------------------------------
# Curves
# ----------------------------------------------------------------------------------------------
def variants_curves(runs: Sequence[tuple[str, Any, int, str]], n_samples: int, f_star: float, *,
                    height: int = 380, floor: float = 1e-10, smooth: float = 0.05) -> go.Figure:
    """f − f* (log) against epochs; one epoch is N sample gradients for every variant, so this is
    progress at equal cost.

    ``runs``: ``(label, trajectory, batch_size, kind)`` with ``kind`` a key of :data:`VARIANTS`; step
    t has used t·b sample gradients, i.e. t·b/N epochs.  A noisy run (b < N with more than 40
    steps) is drawn faint with its running mean over ``smooth`` of its steps on top.  Diverged
    runs stop at their last finite value, marked ✕."""
    fig = go.Figure()
    for label, tr, b, kind in sorted(runs, key=lambda r: r[2]):  # noisiest first: drawn underneath
        g = _gap(tr.losses, f_star, floor)
        t = np.arange(len(g), dtype=float)
        x = t * b / n_samples
        color, w = shade(kind), width(kind)
        noisy = b < n_samples and len(g) > 40
        xx, yy = _thin(x, g)
        hover = (f"{label}<br>" + _("epoch {x}").format(x="%{x:.3g}") + "<br>f − f* = %{y:.4g}<extra></extra>")
        fig.add_trace(go.Scatter(x=xx, y=yy, mode="lines", name=label, legendgroup=label, showlegend=not noisy,
                                 opacity=0.35 if noisy else 1.0, line=dict(color=color, width=1 if noisy else w),
                                 hovertemplate=hover, meta=meta(kind)))
        if noisy:
            m = running_mean(g, max(2, int(len(g) * smooth)))
            mx, my = _thin(x, m)
            fig.add_trace(go.Scatter(x=mx, y=my, mode="lines", name=label, legendgroup=label, meta=meta(kind),
                                     line=dict(color=color, width=max(w, 2.2)),
                                     hovertemplate=(f"{label}<br>" + _("epoch {x}").format(x="%{x:.3g}")
                                                    + "<br>" + _("running mean of f − f*") + " = %{y:.4g}"
                                                    + "<extra></extra>")))
        fin = np.nonzero(np.isfinite(g))[0]
        if tr.diverged and fin.size:
            k = int(fin[-1])
            fig.add_trace(go.Scatter(
                x=[x[k]], y=[g[k]], mode="markers", showlegend=False, legendgroup=label, meta=meta(kind),
                marker=dict(symbol="x", size=13, color=color, line=dict(color="white", width=1)),
                name=_("{label} diverged").format(label=label),
                hovertemplate=_("{label} diverged at step {k}").format(label=label, k=tr.diverged_at)
                + "<extra></extra>"))
    core.apply_layout(fig, None, height, hovermode="closest")
    fig.update_yaxes(type="log", exponentformat="power", title_text=_("f − f* (log scale)"))
    decade_ticks(fig, [t.y for t in fig.data])
    fig.update_xaxes(title_text=_("epochs (1 epoch = N = {n} sample gradients)").format(n=n_samples),
                     rangemode="tozero")
    return _legend_top(fig)


def schedule_curves(runs: Sequence[tuple[str, Any, str]], f_star: float, *, height: int = 420,
                    floor: float = 1e-10, smooth: float = 0.05) -> go.Figure:
    """f − f* (log, top, with running means) and the learning rate (bottom) against step for each
    ``(label, trajectory, kind)``: one shared step axis, titles on the axes (no subplot titles
    to collide at narrow widths)."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06, row_heights=[0.68, 0.32])
    for label, tr, kind in runs:
        color, w = shade(kind), width(kind)
        g = _gap(tr.losses, f_star, floor)
        t = np.arange(len(g), dtype=float)
        noisy = len(g) > 40
        xx, yy = _thin(t, g)
        hover = f"{label}<br>" + _("step {k}").format(k="%{x}") + "<br>f − f* = %{y:.4g}<extra></extra>"
        fig.add_trace(go.Scatter(x=xx, y=yy, mode="lines", name=label, legendgroup=label, showlegend=not noisy,
                                 opacity=0.3 if noisy else 1.0, line=dict(color=color, width=1 if noisy else w),
                                 hovertemplate=hover, meta=meta(kind)), row=1, col=1)
        if noisy:
            m = running_mean(g, max(2, int(len(g) * smooth)))
            mx, my = _thin(t, m)
            fig.add_trace(go.Scatter(x=mx, y=my, mode="lines", name=label, legendgroup=label, meta=meta(kind),
                                     line=dict(color=color, width=max(w, 2.2)),
                                     hovertemplate=(f"{label}<br>" + _("step {k}").format(k="%{x}") + "<br>"
                                                    + _("running mean of f − f*") + " = %{y:.4g}<extra></extra>")),
                          row=1, col=1)
        lr = np.asarray(tr.lrs, dtype=float).reshape(-1)
        lx, ly = _thin(np.arange(1, len(lr) + 1, dtype=float), lr)
        fig.add_trace(go.Scatter(x=lx, y=ly, mode="lines", name=label, legendgroup=label, showlegend=False, meta=meta(kind),
                                 line=dict(color=color, width=max(w, 2.2)),
                                 hovertemplate=f"{label}<br>" + _("step {k}").format(k="%{x}")
                                 + "<br>lr = %{y:.4g}<extra></extra>"), row=2, col=1)
    core.apply_layout(fig, None, height, hovermode="closest")
    fig.update_yaxes(type="log", exponentformat="power", title_text=_("f − f* (log)"), row=1, col=1)
    decade_ticks(fig, [t.y for t in fig.data if t.yaxis in (None, "y")], row=1, col=1)
    fig.update_yaxes(title_text=_("lr γₖ"), rangemode="tozero", nticks=4, row=2, col=1)
    fig.update_xaxes(title_text=_("step"), row=2, col=1)
    return _legend_top(fig)


def lr_curve(runs: Sequence[tuple[str, Any, str]], f_star: float, *, height: int = 360, floor: float = 1e-12,
             title: str | None = None) -> go.Figure:
    """f − f* (log) against step for runs that differ in learning rate (diverged runs marked ✕)."""
    fig = go.Figure()
    for label, tr, kind in runs:
        color = shade(kind)
        g = _gap(tr.losses, f_star, floor)
        fig.add_trace(go.Scatter(x=np.arange(len(g)), y=g, mode="lines+markers", name=label, meta=meta(kind),
                                 line=dict(color=color, width=2.4), marker=dict(size=4),
                                 hovertemplate=f"{label}<br>" + _("step {k}").format(k="%{x}")
                                 + "<br>f − f* = %{y:.4g}<extra></extra>"))
        fin = np.nonzero(np.isfinite(g))[0]
        if tr.diverged and fin.size:
            k = int(fin[-1])
            fig.add_trace(go.Scatter(x=[k], y=[g[k]], mode="markers+text", meta=meta(kind), textfont=dict(color=style.INK),
                                     text=[_("diverged at step {k}").format(k=tr.diverged_at)],
                                     textposition="top left", showlegend=False, name=_("diverged"),
                                     hovertemplate=_("diverged at step {k}").format(k=tr.diverged_at)
                                     + "<extra></extra>",
                                     marker=dict(symbol="x", size=14, color=color)))
    core.apply_layout(fig, title, height, hovermode="x unified")
    fig.update_xaxes(title_text=_("step"))
    fig.update_yaxes(type="log", exponentformat="power", title_text=_("f − f* (log scale)"))
    decade_ticks(fig, [t.y for t in fig.data])
    return _legend_top(fig)


def article_fit(x, y, lines: Mapping[str, tuple[float, float]], *, kinds: Mapping[str, str] | None = None,
                height: int = 360, title: str | None = None) -> go.Figure:
    """The article's points and each method's line ŷ = w·x + b (``lines``: label -> (w, b);
    ``kinds``: label -> a key of :data:`VARIANTS`, or "closed" for the closed form)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    fig = go.Figure(go.Scatter(x=x, y=y, mode="markers", name=_("the article's data"), meta=style.role_meta("data"),
                               marker=dict(size=12, color=style.INK),
                               hovertemplate="(%{x:g}, %{y:g})<extra></extra>"))
    xl = np.array([0.0, float(x.max()) + 0.5])
    dashes = ("solid", "dash", "dot", "dashdot")
    for i, (label, (w, b)) in enumerate(lines.items()):
        kind = (kinds or {}).get(label, "")
        if kind in VARIANTS:
            color, tag = shade(kind), meta(kind)
        elif kind == "closed":
            color, tag = style.role_color("closed form"), style.role_meta("closed form")
        else:
            color, tag = style.series_color(i), style.role_meta("model fit")
        fig.add_trace(go.Scatter(x=xl, y=w * xl + b, mode="lines", name=f"{label}: {fmt_line(w, b)}", meta=tag,
                                 line=dict(color=color, width=2.5, dash=dashes[i % len(dashes)]),
                                 hovertemplate=f"{label}<br>{fmt_line(w, b)}<extra></extra>"))
    core.apply_layout(fig, title, height, hovermode="closest")
    fig.update_xaxes(title_text="x")
    fig.update_yaxes(title_text="y")
    return _legend_top(fig)


def article_theta(series: Mapping[str, np.ndarray], target: float | None = None, *, height: int = 320,
                  title: str | None = None) -> go.Figure:
    """θ against iteration for the article's SGD, one line per run (e.g. per seed)."""
    fig = go.Figure()
    for i, (label, th) in enumerate(series.items()):
        th = np.asarray(th, dtype=float)
        xx, yy = _thin(np.arange(len(th), dtype=float), th)
        kind = f"seed{i % 3}"
        fig.add_trace(go.Scatter(x=xx, y=yy, mode="lines", name=label, meta=meta(kind),
                                 line=dict(color=shade(kind), width=width(kind), dash=SEED_DASHES[i % 3]),
                                 hovertemplate=f"{label}<br>" + _("iteration {k}").format(k="%{x}")
                                 + "<br>θ = %{y:.4f}<extra></extra>"))
    if target is not None:
        truth = style.tag(style.role_meta("truth"))
        fig.add_hline(y=target, line=dict(color=style.INK, dash="dash", width=1), name=truth, annotation_name=truth,
                      annotation_text=_("least squares θ = {value}").format(value=fmt_num(target)),
                      annotation_position="bottom right")
    core.apply_layout(fig, title, height, hovermode="x unified")
    fig.update_xaxes(title_text=_("iteration"))
    fig.update_yaxes(title_text="θ")
    return _legend_top(fig)


__all__ = ["fmt_num", "fmt_factor", "fmt_gap", "fmt_signed", "fmt_line", "VARIANTS", "WIDTHS", "shade", "meta", "width", "halo", "running_mean",
           "decade_ticks", "variants_curves", "schedule_curves", "lr_curve", "article_fit", "article_theta", "DASH", "MINUS"]
