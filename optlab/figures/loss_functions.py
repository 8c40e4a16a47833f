r"""Figures of the chapter "Loss functions" (Plotly only, built on :mod:`optlab.figures.core`).

* :func:`catalogue` -- every loss of a kind as a curve over the residual or the margin, and its derivative;
* :func:`outlier_fits` -- the lab's data, outliers marked, with the line each loss fits;
* :func:`relative_gap` -- (f − f*)/(f₀ − f*) against step, one line per training loss;
* :func:`per_sample` -- loss and gradient of one positive example against its score, BCE vs MSE on σ(s);
* :func:`surfaces_row` -- several (w, b) loss surfaces side by side on one window, a path on each.

Losses keep one colour each (:func:`loss_color`), from the role colours of :mod:`.style` (a loss is
never drawn in an optimizer's colour: the page's gradient-descent paths are SGD's blue); optimizer
paths keep the optimizer's colour.  Legends sit under the plots (:func:`core.legend_below`).
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..format import equation
from ..i18n import domain
from . import core, style

_, N_, ngettext = domain("loss_functions")

# One colour per loss, fixed on every figure of the chapter, from the role series of .style (none
# is an optimizer's colour). MSE and BCE differ, since "why cross-entropy" draws them side by side.
_RED, _GREEN, _SLATE, _MAGENTA, _MUSTARD, _INK, _GREY = style.SERIES_COLORS
LOSS_COLORS = {
    "mse": _RED, "rmse": _SLATE, "mae": _GREEN, "huber": _MAGENTA, "log_cosh": _MUSTARD, "quantile": _GREY,
    "bce": _SLATE, "hinge": _GREEN, "squared_hinge": _MUSTARD, "focal": _MAGENTA, "cross_entropy": _INK,
}
LOSS_DASH = {"rmse": "dot", "cross_entropy": "dot"}  # they overlap MAE and BCE per sample: dotted on top
OUTLIER_COLOR = style.INK
POINT_COLOR = style.REFERENCE
LOSS_META = style.role_meta("loss")


def legend_columns(fig: go.Figure, cols: int = 2, wrap: int = 30) -> go.Figure:
    """:func:`core.legend_below` in ``cols`` columns: the legend under the x-axis titles, anchored to
    the figure's bottom edge, entries filling rows of ``cols`` (each entry ``1/cols`` of the width,
    long names wrapped at ``wrap`` characters), the figure grown by exactly the legend's rows.  Six
    losses take three lines instead of six, so a chart and its caption stay in one 1024×768 screen.  For
    charts a full column wide: in half a column at 1024 px two entries would run into each other."""
    core.wrap_legend(fig, wrap)
    names = core.legend_entries(fig)
    lines = sum(max(1 + n.count("<br>") for n in names[i:i + cols]) for i in range(0, len(names), cols)) or 1
    legend_px = lines * core.LEGEND_LINE_PX + 8
    fig.update_layout(legend=dict(orientation="h", entrywidthmode="fraction", entrywidth=0.98 / cols,
                                  yref="container", yanchor="bottom", y=0.0, xanchor="left", x=0.0,
                                  bgcolor="rgba(255,255,255,0)", tracegroupgap=0),
                      margin=dict(b=core.AXIS_BELOW_PX + legend_px))
    if fig.layout.height:
        fig.update_layout(height=int(fig.layout.height) + legend_px)
    return fig


def loss_color(name: str) -> str:
    return LOSS_COLORS.get(name, style.series_color(len(name)))


def short_name(L) -> str:
    """"MSE" for "Mean squared error (MSE)"; titles without an abbreviation stay whole."""
    t = L.title
    return t[t.index("(") + 1:t.rindex(")")] if t.endswith(")") and "(" in t else t


def _break_at(u: np.ndarray, v: np.ndarray, kink: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Insert a gap at a kink so a jump in the derivative is not drawn as a vertical segment."""
    if kink is None:
        return u, v
    j = int(np.searchsorted(u, kink))
    return np.insert(u, j, np.nan), np.insert(v, j, np.nan)


def catalogue(loss_list: Iterable[Any], *, u_max: float = 3.0, n: int = 301, height: int = 380,
              title: str | None = None, labels: Mapping[str, str] | None = None) -> go.Figure:
    r"""ℓ(u) and ℓ'(u) side by side for each loss; u is the residual r = ŷ − y (regression) or the
    margin m = t·s (classification), read from the losses' ``variable``.  ``labels``: legend names
    by loss name (default: each loss's label)."""
    loss_list = list(loss_list)
    var = loss_list[0].variable if loss_list else "u"
    sym = "r" if var == "residual" else "m"
    u = np.linspace(-u_max, u_max, n)
    if any(L.kink is not None for L in loss_list):
        u = np.union1d(u, [L.kink for L in loss_list if L.kink is not None])
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.09,
                        subplot_titles=(_("loss of one sample ℓ({u})").format(u=sym),
                                        _("its derivative ℓ′({u})").format(u=sym)))
    for L in loss_list:
        c, dash = loss_color(L.name), LOSS_DASH.get(L.name, "solid")
        lab = (labels or {}).get(L.name, L.label)
        val = L.pointwise(u)
        du, dv = _break_at(u, L.pointwise_grad(u), L.kink)
        common = dict(mode="lines", legendgroup=L.name, line=dict(color=c, width=2.4, dash=dash), meta=LOSS_META)
        fig.add_trace(go.Scatter(x=u, y=val, name=lab, **common,
                                 hovertemplate=f"{lab}<br>{sym} = %{{x:.2f}}<br>ℓ = %{{y:.3f}}<extra></extra>"),
                      row=1, col=1)
        fig.add_trace(go.Scatter(x=du, y=dv, name=lab, showlegend=False, **common,
                                 hovertemplate=f"{lab}<br>{sym} = %{{x:.2f}}<br>ℓ′ = %{{y:.3f}}<extra></extra>"),
                      row=1, col=2)
    core.apply_layout(fig, title, height, hovermode="closest")
    xlabel = _("residual r = ŷ − y") if sym == "r" else _("margin m = t·s (t = ±1): > 0 means correct")
    fig.update_xaxes(title_text=xlabel, zeroline=True, zerolinecolor="#BBBBBB")
    fig.update_yaxes(zeroline=True, zerolinecolor="#BBBBBB")
    # keep the steep losses (MSE, squared hinge) from flattening the others
    ends = np.array([-u_max * 0.75, u_max * 0.75])
    top = max(float(np.nanmax(L.pointwise(ends))) for L in loss_list) if loss_list else 1
    fig.update_yaxes(range=[-0.3, min(top, 6.0) * 1.1], row=1, col=1)
    gmax = max(float(np.nanmax(np.abs(L.pointwise_grad(ends)))) for L in loss_list) if loss_list else 1
    g = min(gmax, 4.5) * 1.15
    fig.update_yaxes(range=[-g, g], row=1, col=2)
    fig.update_layout(margin=dict(t=70 if title else 40))
    return legend_columns(fig)


def outlier_fits(x, y, mask, fits: Mapping[str, tuple[float, float]], clean: tuple[float, float] | None = None,
                 *, labels: Mapping[str, str] | None = None, legend: Mapping[str, str] | None = None,
                 height: int = 420, title: str | None = None) -> go.Figure:
    """The data (outliers as red ✕) and the line ŷ = w·x + b that minimises each loss; ``labels``
    name the losses, ``legend`` gives a fit's whole legend entry (default: "label: w = …, b = …")."""
    x, y, mask = np.asarray(x, float), np.asarray(y, float), np.asarray(mask, bool)
    fig = go.Figure()
    t_data, t_out = _("data"), _("outliers")
    fig.add_trace(go.Scatter(x=x[~mask], y=y[~mask], mode="markers", name=t_data, meta=style.role_meta("data"),
                             marker=dict(color=POINT_COLOR, size=8, opacity=0.8),
                             hovertemplate=f"x = %{{x:.2f}}<br>y = %{{y:.2f}}<extra>{t_data}</extra>"))
    if mask.any():
        fig.add_trace(go.Scatter(x=x[mask], y=y[mask], mode="markers", name=t_out, meta=style.role_meta("data"),
                                 marker=dict(color=OUTLIER_COLOR, size=12, symbol="x"),
                                 hovertemplate=f"x = %{{x:.2f}}<br>y = %{{y:.2f}}<extra>{t_out}</extra>"))
    xl = np.array([x.min() - 0.2, x.max() + 0.2])
    if clean is not None:
        fig.add_trace(go.Scatter(x=xl, y=clean[0] * xl + clean[1], mode="lines", name=_("MSE fit without outliers"),
                                 line=dict(color=style.REFERENCE, width=1.5, dash="dash"), hoverinfo="skip",
                                 meta=style.role_meta("reference")))
    for name, (w, b) in fits.items():
        lab = (labels or {}).get(name, name)
        entry = (legend or {}).get(name, f"{lab}: w = {w:.3g}, b = {b:.3g}")
        fig.add_trace(go.Scatter(x=xl, y=w * xl + b, mode="lines", name=entry,
                                 line=dict(color=loss_color(name), width=3, dash=LOSS_DASH.get(name, "solid")),
                                 meta=LOSS_META,
                                 hovertemplate=f"{lab}<br>{equation('ŷ', [(w, 'x'), (b, '')], 4)}<extra></extra>"))
    core.apply_layout(fig, title, height, hovermode="closest")
    fig.update_xaxes(title_text="x")
    fig.update_yaxes(title_text="y")
    return core.legend_below(fig)  # half a column at 1024 px: one entry per line


def relative_gap(curves: Mapping[str, tuple[np.ndarray, float]], *, height: int = 340, title: str | None = None,
                 floor: float = 1e-12, labels: Mapping[str, str] | None = None, legend_cols: int = 1) -> go.Figure:
    """(f − f*)/(f₀ − f*) against step (log axis) for each labelled loss: ``{name: (losses, f*)}``.
    Normalised so losses of different scales share one axis; values below ``floor`` (the rounding
    level) are drawn at the floor.  ``labels``: legend names by loss name; ``legend_cols``: 2 when the
    chart has a whole column to itself (presenter mode), 1 in half a column."""
    fig = go.Figure()
    for name, (ls, fstar) in curves.items():
        ls = np.asarray(ls, dtype=float)
        g = (ls - fstar) / max(ls[0] - fstar, 1e-300)
        g = np.where(np.isfinite(g), np.maximum(g, floor), np.nan)
        lab = (labels or {}).get(name, name)
        fig.add_trace(go.Scatter(x=np.arange(len(g)), y=g, mode="lines", name=lab,
                                 line=dict(color=loss_color(name), width=2.2, dash=LOSS_DASH.get(name, "solid")),
                                 meta=LOSS_META, hovertemplate=f"{lab}: %{{y:.3g}}<extra></extra>"))
    core.apply_layout(fig, title, height, hovermode="x unified")
    fig.update_xaxes(title_text=_("step"))
    fig.update_yaxes(title_text=_("(f − f*) / (f₀ − f*), log scale"), type="log", exponentformat="power")
    return legend_columns(fig, legend_cols) if legend_cols > 1 else core.legend_below(fig)


def per_sample(s, curves: Mapping[str, tuple[np.ndarray, np.ndarray]], *, labels: Mapping[str, str] | None = None,
               mark: float | None = None, height: int = 340, title: str | None = None) -> go.Figure:
    """Loss and d(loss)/ds of one positive example (y = 1) against its score s; ``mark`` draws a
    vertical line at a score (the confidently wrong prediction)."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.14)
    for name, (val, grad) in curves.items():
        lab = (labels or {}).get(name, name)
        c = loss_color(name)
        fig.add_trace(go.Scatter(x=s, y=val, name=lab, mode="lines", legendgroup=name, line=dict(color=c, width=2.4),
                                 meta=LOSS_META,
                                 hovertemplate=f"{lab}<br>s = %{{x:.2f}}<br>" + _("loss") + " = %{y:.4g}<extra></extra>"),
                      row=1, col=1)
        fig.add_trace(go.Scatter(x=s, y=grad, name=lab, mode="lines", legendgroup=name, showlegend=False,
                                 line=dict(color=c, width=2.4), meta=LOSS_META,
                                 hovertemplate=f"{lab}<br>s = %{{x:.2f}}<br>" + _("gradient") + " = %{y:.4g}<extra></extra>"),
                      row=1, col=2)
    if mark is not None:
        for col in (1, 2):
            fig.add_vline(x=mark, line=dict(color=style.REFERENCE, width=1.5, dash="dash"), row=1, col=col,
                          name=style.tag(style.role_meta("reference")))
    core.apply_layout(fig, title, height, hovermode="x unified")
    fig.update_xaxes(title_text=_("score s = w·x + b"))
    # axis titles instead of subplot titles: they never meet the legend, which sits under the plots
    fig.update_yaxes(title_text=_("loss of one example with y = 1"), row=1, col=1)
    fig.update_yaxes(title_text=_("its gradient ∂ℓ/∂s"), row=1, col=2)
    return legend_columns(fig)


def surfaces_row(panels: Iterable[tuple[Any, Iterable[Any], str]], *, height: int = 330,
                 xlabel: str | None = None, ylabel: str | None = None) -> go.Figure:
    """(w, b) loss surfaces side by side, ``panels`` = ``[(surface, trajectories, title), …]``: one
    contour each (no colour bar: each has its own scale), the paths drawn on it, the windows fixed;
    one y-axis title on the left, no legend (the titles name the surfaces).

    The layout is written out (axis domains, titles as annotations) rather than built with
    ``make_subplots``, whose validation cost more than the three contours (measured ~0.1 s)."""
    panels = list(panels)
    k, gap = len(panels), 0.035
    width = (1.0 - gap * (k - 1)) / max(k, 1)
    data, annotations = [], []
    layout = core.base_layout(None, height, hovermode="closest", showlegend=False,
                              margin=dict(t=36, b=10, l=10, r=10))
    for i, (surf, trajectories, title) in enumerate(panels):
        ax = "" if i == 0 else str(i + 1)
        sub = core.contour(surf, list(trajectories), colorbar=False, showlegend=False)
        for tr in sub.data:
            d = tr.to_plotly_json()
            d.update(xaxis=f"x{ax}", yaxis=f"y{ax}")
            data.append(d)
        (x0, x1), (y0, y1) = core.window_of(surf)
        lo = i * (width + gap)
        layout[f"xaxis{ax}"] = dict(domain=[lo, lo + width], range=[x0, x1], autorange=False, anchor=f"y{ax}",
                                    showgrid=False, zeroline=False,
                                    title=dict(text=_("w (slope)") if xlabel is None else xlabel))
        layout[f"yaxis{ax}"] = dict(domain=[0.0, 1.0], range=[y0, y1], autorange=False, anchor=f"x{ax}",
                                    showgrid=False, zeroline=False, showticklabels=i == 0,
                                    title=dict(text=((_("b (intercept)") if ylabel is None else ylabel)
                                                     if i == 0 else "")))
        annotations.append(dict(text=title, x=lo + width / 2, y=1.0, xref="paper", yref="paper", xanchor="center",
                                yanchor="bottom", showarrow=False, font=dict(size=15)))
    layout["annotations"] = annotations
    return go.Figure(data=data, layout=layout, _validate=False)
