r"""Figures of the chapter "Loss functions" (Plotly only, built on :mod:`optlab.figures.core`).

* :func:`catalogue` -- every loss of a kind as a curve over the residual or the margin, and its derivative;
* :func:`outlier_fits` -- the lab's data, outliers marked, with the line each loss fits;
* :func:`relative_gap` -- (f − f*)/(f₀ − f*) against step, one line per training loss;
* :func:`per_sample` -- loss and gradient of one positive example against its score, BCE vs MSE on σ(s).

Losses keep one colour each (:func:`loss_color`), from the role colours of :mod:`.style` (a loss is
never drawn in an optimizer's colour: the page's gradient-descent paths are SGD's blue); optimizer
paths keep the optimizer's colour.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .. import losses as _losses
from ..format import equation, number
from . import core, style

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
              title: str | None = None) -> go.Figure:
    r"""ℓ(u) and ℓ'(u) side by side for each loss; u is the residual r = ŷ − y (regression) or the
    margin m = t·s (classification), read from the losses' ``variable``."""
    loss_list = list(loss_list)
    var = loss_list[0].variable if loss_list else "u"
    sym = "r" if var == "residual" else "m"
    u = np.linspace(-u_max, u_max, n)
    if any(L.kink is not None for L in loss_list):
        u = np.union1d(u, [L.kink for L in loss_list if L.kink is not None])
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.09,
                        subplot_titles=(f"loss of one sample ℓ({sym})", f"its derivative ℓ′({sym})"))
    for L in loss_list:
        c, dash = loss_color(L.name), LOSS_DASH.get(L.name, "solid")
        val = L.pointwise(u)
        du, dv = _break_at(u, L.pointwise_grad(u), L.kink)
        common = dict(mode="lines", legendgroup=L.name, line=dict(color=c, width=2.4, dash=dash), meta=LOSS_META)
        fig.add_trace(go.Scatter(x=u, y=val, name=L.label, **common,
                                 hovertemplate=f"{L.label}<br>{sym} = %{{x:.2f}}<br>ℓ = %{{y:.3f}}<extra></extra>"),
                      row=1, col=1)
        fig.add_trace(go.Scatter(x=du, y=dv, name=L.label, showlegend=False, **common,
                                 hovertemplate=f"{L.label}<br>{sym} = %{{x:.2f}}<br>ℓ′ = %{{y:.3f}}<extra></extra>"),
                      row=1, col=2)
    core.apply_layout(fig, title, height, hovermode="closest")
    xlabel = "residual r = ŷ − y" if sym == "r" else "margin m = t·s (t = ±1): > 0 means correct"
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
    return core.legend_below(fig, rows=2)


def outlier_fits(x, y, mask, fits: Mapping[str, tuple[float, float]], clean: tuple[float, float] | None = None,
                 *, labels: Mapping[str, str] | None = None, height: int = 420, title: str | None = None) -> go.Figure:
    """The data (outliers as red ✕) and the line ŷ = w·x + b that minimises each loss."""
    x, y, mask = np.asarray(x, float), np.asarray(y, float), np.asarray(mask, bool)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x[~mask], y=y[~mask], mode="markers", name="data", meta=style.role_meta("data"),
                             marker=dict(color=POINT_COLOR, size=8, opacity=0.8),
                             hovertemplate="x = %{x:.2f}<br>y = %{y:.2f}<extra>data</extra>"))
    if mask.any():
        fig.add_trace(go.Scatter(x=x[mask], y=y[mask], mode="markers", name="outliers", meta=style.role_meta("data"),
                                 marker=dict(color=OUTLIER_COLOR, size=12, symbol="x"),
                                 hovertemplate="x = %{x:.2f}<br>y = %{y:.2f}<extra>outlier</extra>"))
    xl = np.array([x.min() - 0.2, x.max() + 0.2])
    if clean is not None:
        fig.add_trace(go.Scatter(x=xl, y=clean[0] * xl + clean[1], mode="lines", name="MSE fit without outliers",
                                 line=dict(color=style.REFERENCE, width=1.5, dash="dash"), hoverinfo="skip",
                                 meta=style.role_meta("reference")))
    for name, (w, b) in fits.items():
        lab = (labels or {}).get(name, name)
        fig.add_trace(go.Scatter(x=xl, y=w * xl + b, mode="lines", name=f"{lab}: w = {number(w)}, b = {number(b)}",
                                 line=dict(color=loss_color(name), width=3, dash=LOSS_DASH.get(name, "solid")),
                                 meta=LOSS_META,
                                 hovertemplate=f"{lab}<br>{equation('ŷ', [(w, 'x'), (b, '')], 4)}<extra></extra>"))
    core.apply_layout(fig, title, height, hovermode="closest")
    fig.update_xaxes(title_text="x")
    fig.update_yaxes(title_text="y")
    return core.legend_below(fig, rows=3)


def relative_gap(curves: Mapping[str, tuple[np.ndarray, float]], *, height: int = 340, title: str | None = None,
                 floor: float = 1e-12) -> go.Figure:
    """(f − f*)/(f₀ − f*) against step (log axis) for each labelled loss: ``{name: (losses, f*)}``.
    Normalised so losses of different scales share one axis."""
    fig = go.Figure()
    for name, (ls, fstar) in curves.items():
        ls = np.asarray(ls, dtype=float)
        g = (ls - fstar) / max(ls[0] - fstar, 1e-300)
        g = np.where(np.isfinite(g), np.maximum(g, floor), np.nan)
        fig.add_trace(go.Scatter(x=np.arange(len(g)), y=g, mode="lines", name=short_name(_losses.get(name)),
                                 line=dict(color=loss_color(name), width=2.2, dash=LOSS_DASH.get(name, "solid")),
                                 meta=LOSS_META,
                                 hovertemplate=f"{name}<br>step %{{x}}<br>relative gap %{{y:.3g}}<extra></extra>"))
    core.apply_layout(fig, title, height, hovermode="x unified")
    fig.update_xaxes(title_text="step")
    fig.update_yaxes(title_text="(f − f*) / (f₀ − f*)  (log scale)", type="log", exponentformat="power")
    return core.legend_below(fig, rows=2)


def per_sample(s, curves: Mapping[str, tuple[np.ndarray, np.ndarray]], *, labels: Mapping[str, str] | None = None,
               mark: float | None = None, height: int = 340, title: str | None = None) -> go.Figure:
    """Loss and d(loss)/ds of one positive example (y = 1) against its score s; ``mark`` draws a
    vertical line at a score (the confidently wrong prediction)."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=("loss of one example with y = 1", "its gradient d loss / d s"))
    for name, (val, grad) in curves.items():
        lab = (labels or {}).get(name, name)
        c = loss_color(name)
        fig.add_trace(go.Scatter(x=s, y=val, name=lab, mode="lines", legendgroup=name, line=dict(color=c, width=2.4),
                                 meta=LOSS_META,
                                 hovertemplate=f"{lab}<br>s = %{{x:.2f}}<br>loss = %{{y:.4g}}<extra></extra>"),
                      row=1, col=1)
        fig.add_trace(go.Scatter(x=s, y=grad, name=lab, mode="lines", legendgroup=name, showlegend=False,
                                 line=dict(color=c, width=2.4), meta=LOSS_META,
                                 hovertemplate=f"{lab}<br>s = %{{x:.2f}}<br>gradient = %{{y:.4g}}<extra></extra>"),
                      row=1, col=2)
    if mark is not None:
        for col in (1, 2):
            fig.add_vline(x=mark, line=dict(color=style.REFERENCE, width=1.5, dash="dash"), row=1, col=col,
                          name=style.tag(style.role_meta("reference")))
    core.apply_layout(fig, title, height, hovermode="x unified")
    fig.update_xaxes(title_text="score s = w·x + b (σ(s) = predicted P(y = 1))")
    fig.update_layout(margin=dict(t=70 if title else 40))
    return core.legend_below(fig)
