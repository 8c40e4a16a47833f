"""Figures of the chapter "Overfitting, regularization and gradient problems" (Plotly, no Streamlit).

Built on :mod:`optlab.figures.core` (layout, template, heat map); every builder returns a
``go.Figure``. Arrays go out as float32 where precision does not matter, so the figures stay small.
Colours are roles of :mod:`.style` (training, validation, the truth, fits, fixes, layers): none is an
optimizer's colour, since the page also draws SGD and Adam; a run of an optimizer (the lab's
network, the cliff) takes the optimizer's colour through its trace tag.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from . import style
from ..i18n import domain
from .core import _figure, _merge, _yaxis, base_layout, heatmap, legend_below, wrap_text

_, N_, ngettext = domain("overfitting")

TRAIN_COLOR = style.role_color("training")       # green
VAL_COLOR = style.role_color("validation")       # red
TRUTH_COLOR = style.INK
NOISE_COLOR = style.REFERENCE
CHOSEN_COLOR = style.HIGHLIGHT
_RED, _GREEN, _SLATE, _MAGENTA, _MUSTARD, _INK, _GREY = style.SERIES_COLORS
FIT_COLOR = _SLATE                               # a model's fitted curve
LS_COLOR, RIDGE_COLOR, LASSO_COLOR = style.REFERENCE, _SLATE, _MAGENTA
# the gradient lab's runs: the baseline in ink, then one role colour per fix (never an optimizer's)
FIX_COLORS = (_INK, _SLATE, _GREEN, _MAGENTA, _MUSTARD, _RED, _GREY)


def _look(spec) -> tuple[str, dict]:
    """Colour and trace tag from a colour (a role series) or a tag (an optimizer's: its colour)."""
    if isinstance(spec, dict):
        if "optimizer" in spec:
            return style.optimizer_color(spec["optimizer"], spec.get("variant", 0)), dict(spec)
        return style.role_color(spec["role"]), dict(spec)
    return str(spec), style.role_meta("series")


def _f32(a) -> np.ndarray:
    return np.asarray(a, dtype=float).astype(np.float32)


def _ramp(n: int) -> list[str]:
    """``n`` greys from dark to light (:func:`.style.ramp`): an ordered family with no optimizer's hue,
    every line at least 3:1 on white."""
    return style.ramp(n, dark="#3A3A3A")


def _floor(v, floor: float) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    return np.where(np.isfinite(v), np.maximum(v, floor), np.nan)


def _vline(x, text: str, color: str = style.REFERENCE, dash: str = "dot", position: str = "top",
           log_x: bool = False, role: str = "reference") -> tuple[dict, dict]:
    """A vertical line at data ``x`` over the whole plot height, with a label inside the plot at its
    top (or bottom): above the plot it ran into the legend."""
    name = style.tag(style.role_meta(role))
    shape = dict(type="line", x0=x, x1=x, y0=0, y1=1, xref="x", yref="paper", name=name,
                 line=dict(color=color, width=1.5, dash=dash))
    # annotations on a log axis are placed in log10 units, shapes in data units (plotly.js)
    ax = float(np.log10(x)) if log_x else x
    ann = dict(x=ax, y=1.0 if position == "top" else 0.0, xref="x", yref="paper", text=text, showarrow=False,
               yanchor="top" if position == "top" else "bottom", xanchor="left", font=dict(size=12, color=color), bgcolor="rgba(255,255,255,0.75)",
               name=name)
    return shape, ann


def _hline(y, text: str, color: str = NOISE_COLOR, log_y: bool = True, side: str = "right") -> tuple[dict, dict]:
    """A dashed horizontal line at data ``y`` across the plot, labelled at its right (or left) end."""
    name = style.tag(style.role_meta("reference"))
    shape = dict(type="line", x0=0, x1=1, y0=y, y1=y, xref="paper", yref="y", name=name,
                 line=dict(color=color, width=1.5, dash="dash"))
    ann = dict(x=1.0 if side == "right" else 0.0, y=float(np.log10(y)) if log_y else y, xref="paper", yref="y",
               text=text, showarrow=False, xanchor=side, yanchor="bottom", font=dict(size=12, color=color), name=name,
               bgcolor="rgba(255,255,255,0.85)")  # readable where the curves cross the label
    return shape, ann


def _clear_side(level: float, curves) -> str:
    """``"right"`` or ``"left"``: the end of a log-scale plot where the curves keep farther from a
    horizontal line at ``level``, for the line's label (the error against n meets the noise line at
    its right end, just under the label)."""
    lv = np.log10(level)

    def gap(part) -> float:
        vals = [np.abs(np.log10(c[part][np.isfinite(c[part]) & (c[part] > 0)]) - lv) for c in curves]
        vals = [v for v in vals if v.size]
        return float(min(np.min(v) for v in vals)) if vals else np.inf

    n = min(len(c) for c in curves)
    k = max(1, n // 6)
    return "left" if gap(slice(0, k)) > gap(slice(n - k, n)) else "right"


def _layout(title: str | None, height: int, **kw) -> dict:
    """:func:`base_layout` (its title at the very top) with room for two legend rows under a title."""
    layout = base_layout(title, height, **kw)
    if title:
        _merge(layout, dict(margin=dict(t=100)))
    return layout


def log_ticks(lo: float, hi: float) -> dict:
    """Tick settings for a log axis spanning data values ``lo…hi``: powers of ten only when it spans
    more than two decades, else 1-2-5 steps with plain labels (no crowd of small "2 5" labels)."""
    if not (np.isfinite(lo) and np.isfinite(hi) and 0 < lo < hi):
        return {}
    decades = np.log10(hi / lo)
    if decades > 2.0:
        return dict(dtick=2 if decades > 5.5 else 1)
    vals = [m * 10.0 ** e for e in range(int(np.floor(np.log10(lo))) - 1, int(np.ceil(np.log10(hi))) + 1)
            for m in (1, 2, 5)]
    vals = [v for v in vals if lo <= v <= hi]
    return dict(tickmode="array", tickvals=vals, ticktext=[f"{v:g}" for v in vals]) if len(vals) >= 2 else {}


def _logy(title: str, values, floor: float, pad: float = 0.15) -> dict:
    """A log y axis fitted to the finite positive ``values`` (floored), with readable ticks."""
    ax = _yaxis(title, True)
    rng = _log_range(values, floor, pad)
    if rng:
        ax["range"] = rng
        ax.update(log_ticks(10 ** rng[0], 10 ** rng[1]))
    return ax


def _log_range(values, floor: float, pad: float = 0.25) -> list[float] | None:
    v = np.asarray([x for x in np.ravel(values) if np.isfinite(x) and x > 0], dtype=float)
    if v.size == 0:
        return None
    lo = np.log10(max(v.min(), floor))
    hi = np.log10(v.max())
    if hi - lo < 0.5:
        lo, hi = lo - 0.25, hi + 0.25
    return [lo - pad, hi + pad]


# ----------------------------------------------------------------------------------------------
# 1-D fits
# ----------------------------------------------------------------------------------------------
def fit_figure(x_grid, y_truth, train, fits: Sequence[tuple], *, val=None, title: str | None = None,
               height: int = 400, truth_label: str = N_("true f(x)")) -> go.Figure:
    """Training points, the noise-free function and fitted curves on [-1, 1].

    ``fits``: ``(label, y on x_grid, colour, dash)`` tuples (role colours such as :data:`FIT_COLOR`,
    :data:`RIDGE_COLOR`). The y axis is fixed around the data (a wild high-degree polynomial leaves
    the plot instead of squashing it).
    """
    traces = []
    truth_label = _(truth_label)
    if val is not None:
        traces.append(dict(type="scatter", x=_f32(val.x), y=_f32(val.y), mode="markers", name=_("validation points"),
                           marker=dict(color="rgba(120,120,120,0.35)", size=5), meta=style.role_meta("validation"),
                           hovertemplate=_("validation") + " (%{x:.2f}, %{y:.2f})<extra></extra>"))
    traces.append(dict(type="scatter", x=_f32(x_grid), y=_f32(y_truth), mode="lines", name=truth_label,
                       line=dict(color=TRUTH_COLOR, width=2, dash="dash"), hoverinfo="skip", meta=style.role_meta("truth")))
    for label, y, color, dash in fits:
        traces.append(dict(type="scatter", x=_f32(x_grid), y=_f32(y), mode="lines", name=label,
                           line=dict(color=color, width=3, dash=dash), meta=style.role_meta("fit"),
                           hovertemplate=f"{label}<br>x = %{{x:.2f}}<br>ŷ = %{{y:.3f}}<extra></extra>"))
    traces.append(dict(type="scatter", x=_f32(train.x), y=_f32(train.y), mode="markers", name=_("training points"),
                       meta=style.role_meta("training"),
                       marker=dict(color=TRAIN_COLOR, size=9, line=dict(color="white", width=1)),
                       hovertemplate=_("training") + " (%{x:.2f}, %{y:.2f})<extra></extra>"))
    ys = np.concatenate([np.ravel(train.y), np.ravel(y_truth)] + ([np.ravel(val.y)] if val is not None else []))
    lo, hi = float(np.min(ys)), float(np.max(ys))
    pad = 0.35 * max(hi - lo, 0.5)
    layout = _layout(title, height, hovermode="closest")
    _merge(layout, dict(xaxis=dict(title=dict(text="x"), range=[-1.05, 1.05]),
                        yaxis=dict(title=dict(text="y"), range=[lo - pad, hi + pad])))
    return _figure(traces, layout)


def error_curve(x, train, val, *, selected=None, best=None, noise_var: float | None = None, xlabel: str = "",
                log_x: bool = False, title: str | None = None, height: int = 400, floor: float = 1e-6,
                selected_label: str = N_("you"), best_label: str = N_("lowest validation error"),
                train_name: str = N_("training error"), val_name: str = N_("validation error")) -> go.Figure:
    """Training and validation MSE against a complexity knob (degree, λ, n) on a log y axis:
    the U curve. ``selected`` gets a vertical line, ``best`` a star on the validation curve,
    ``noise_var`` a dashed horizontal line (the error no model beats on average)."""
    selected_label, best_label, train_name, val_name = _(selected_label), _(best_label), _(train_name), _(val_name)
    x = np.asarray(x, dtype=float)
    tr, va = _floor(train, floor), _floor(val, floor)
    mode = "lines+markers" if len(x) <= 30 else "lines"
    traces = [
        dict(type="scatter", x=_f32(x), y=tr, mode=mode, name=train_name,
             line=dict(color=TRAIN_COLOR, width=2.5), marker=dict(size=6), meta=style.role_meta("training"),
             hovertemplate=f"{xlabel} = %{{x:.3g}}<br>{train_name} = %{{y:.4g}}<extra></extra>"),
        dict(type="scatter", x=_f32(x), y=va, mode=mode, name=val_name,
             line=dict(color=VAL_COLOR, width=2.5), marker=dict(size=6), meta=style.role_meta("validation"),
             hovertemplate=f"{xlabel} = %{{x:.3g}}<br>{val_name} = %{{y:.4g}}<extra></extra>"),
    ]
    shapes, anns = [], []
    if best is not None:
        i = int(np.argmin(np.abs(x - best)))
        traces.append(dict(type="scatter", x=[float(x[i])], y=[float(va[i])], mode="markers", name=best_label,
                           meta=style.role_meta("highlight"),
                           marker=dict(symbol="star", size=18, color=CHOSEN_COLOR, line=dict(color="black", width=1)),
                           hovertemplate=f"{best_label}<br>{xlabel} = %{{x:.3g}}<br>%{{y:.4g}}<extra></extra>"))
    if selected is not None:
        s, a = _vline(float(selected), selected_label, log_x=log_x)
        shapes.append(s)
        anns.append(a)
    if noise_var is not None and noise_var > 0:
        level = max(noise_var, floor)
        s, a = _hline(level, _("noise σ² = {v}").format(v=f"{noise_var:.3g}"), side=_clear_side(level, [tr, va]))
        shapes.append(s)
        anns.append(a)
    layout = _layout(title, height, hovermode="closest")
    xaxis = dict(title=dict(text=xlabel), type="log" if log_x else "linear", exponentformat="power")
    if log_x:
        xaxis.update(log_ticks(float(np.min(x)), float(np.max(x))))
    yaxis = _logy(_("mean squared error (log scale)"), np.r_[tr, va, noise_var or np.nan], floor)
    _merge(layout, dict(xaxis=xaxis, yaxis=yaxis, shapes=shapes, annotations=anns))
    return legend_below(_figure(traces, layout))  # above the plot it sat on the curves and the "d = 3" label


# ----------------------------------------------------------------------------------------------
# Regularization
# ----------------------------------------------------------------------------------------------
def coef_paths(lams, path, lam: float, *, title: str | None = None, height: int = 400,
               zero_tol: float = 1e-12) -> go.Figure:
    """Every non-intercept coefficient :math:`w_k(\\lambda)` against λ (log x), one colour per k
    (dark: low degree, light: high degree); the current λ as a vertical line. Exact zeros are
    drawn as zeros (the lasso's flat stretches on the axis)."""
    lams = np.asarray(lams, dtype=float)
    path = np.asarray(path, dtype=float)
    d = path.shape[1] - 1
    colors = _ramp(d)
    traces = []
    for k in range(1, d + 1):
        w = path[:, k]
        traces.append(dict(type="scatter", x=_f32(lams), y=_f32(np.where(np.abs(w) > zero_tol, w, 0.0)), mode="lines",
                           name=f"w{k}", line=dict(color=colors[k - 1], width=2), showlegend=False,
                           meta=style.role_meta("coefficient"),
                           hovertemplate=f"w<sub>{k}</sub> = %{{y:.4g}}<br>λ = %{{x:.3g}}<extra></extra>"))
    # a legend-sized hint for the colours instead of d entries
    traces.append(dict(type="scatter", x=[None], y=[None], mode="markers", name=_("w₁ … w{k} (dark → light)").format(k=_sub(d)),
                       marker=dict(color=colors[len(colors) // 2], size=10), hoverinfo="skip",
                       meta=style.role_meta("coefficient")))
    s, a = _vline(float(lam), f"λ = {lam:.3g}", log_x=True)
    layout = _layout(title, height, hovermode="closest")
    _merge(layout, dict(xaxis=dict(title=dict(text=_("λ (log scale)")), type="log", exponentformat="power"),
                        yaxis=dict(title=dict(text=_("coefficient w_k")), zeroline=True, zerolinecolor="#888888",
                                   zerolinewidth=1.5),
                        shapes=[s], annotations=[a]))
    return _figure(traces, layout)


_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _sub(k: int) -> str:
    return str(k).translate(_SUB)


def coef_bars(coefs: Mapping[str, np.ndarray], *, colors: Mapping[str, str] | None = None, title: str | None = None,
              height: int = 360, zero_tol: float = 1e-12) -> go.Figure:
    """Grouped bars of the coefficients w₀ … w_d of several fits; an exact zero is labelled "0"."""
    traces = []
    for i, (label, c) in enumerate(coefs.items()):
        c = np.asarray(c, dtype=float)
        k = np.arange(len(c))
        zero = np.abs(c) <= zero_tol
        color = (colors or {}).get(label, style.series_color(i))
        traces.append(dict(type="bar", x=[f"w{_sub(j)}" for j in k], y=_f32(c), name=label, marker=dict(color=color),
                           meta=style.role_meta("fit"),
                           text=["0" if z else "" for z in zero], textposition="outside",
                           textfont=dict(color=color, size=13),
                           hovertemplate=f"{label}<br>%{{x}} = %{{y:.4g}}<extra></extra>"))
    layout = _layout(title, height, hovermode="closest", barmode="group")
    _merge(layout, dict(xaxis=dict(title=dict(text=_("coefficient (Legendre basis, w₀ = intercept)"))),
                        yaxis=dict(title=dict(text=_("value")), zeroline=True, zerolinecolor="#888888")))
    return _figure(traces, layout)


# ----------------------------------------------------------------------------------------------
# Early stopping
# ----------------------------------------------------------------------------------------------
def early_stopping_figure(epochs, train, val, *, best_epoch: int, stop_epoch: int, stopped: bool,
                          noise_var: float | None = None, title: str | None = None, height: int = 420,
                          floor: float = 1e-6) -> go.Figure:
    """Training and validation loss at every check, the epoch whose weights early stopping
    restores (★), where it stopped, and the epochs it saved (shaded)."""
    epochs = np.asarray(epochs, dtype=float)
    tr, va = _floor(train, floor), _floor(val, floor)
    traces = [
        dict(type="scatter", x=_f32(epochs), y=tr, mode="lines", name=_("training loss"),
             line=dict(color=TRAIN_COLOR, width=2.5), meta=style.role_meta("training"),
             hovertemplate=_("epoch %{x}<br>training MSE %{y:.4g}") + "<extra></extra>"),
        dict(type="scatter", x=_f32(epochs), y=va, mode="lines+markers", name=_("validation loss"),
             line=dict(color=VAL_COLOR, width=2.5), marker=dict(size=4), meta=style.role_meta("validation"),
             hovertemplate=_("epoch %{x}<br>validation MSE %{y:.4g}") + "<extra></extra>"),
    ]
    i = int(np.argmin(np.abs(epochs - best_epoch)))
    traces.append(dict(type="scatter", x=[float(epochs[i])], y=[float(va[i])], mode="markers",
                       name=_("restored weights (epoch {e})").format(e=best_epoch), meta=style.role_meta("highlight"),
                       marker=dict(symbol="star", size=20, color=CHOSEN_COLOR, line=dict(color="black", width=1)),
                       hovertemplate=_("restored: epoch %{x}<br>validation MSE %{y:.4g}") + "<extra></extra>"))
    shapes, anns = [], []
    s, a = _vline(best_epoch, _("best: epoch {e}").format(e=best_epoch), color=style.INK, role="ink")
    shapes.append(s)
    anns.append(a)
    if stopped:
        s, a = _vline(stop_epoch, _("stop: epoch {e}").format(e=stop_epoch), color=VAL_COLOR, dash="dash", position="bottom",
                      role="validation")
        shapes.append(s)
        anns.append(a)
        shapes.append(dict(type="rect", x0=stop_epoch, x1=float(epochs[-1]), y0=0, y1=1, xref="x", yref="paper",
                           fillcolor="rgba(120,120,120,0.12)", line=dict(width=0), layer="below",
                           name=style.tag(style.role_meta("reference"))))
        anns.append(dict(x=0.5 * (stop_epoch + float(epochs[-1])), y=0.5, xref="x", yref="paper",
                         text=_("epochs saved<br>by early stopping"), showarrow=False,
                         font=dict(size=13, color=style.REFERENCE), name=style.tag(style.role_meta("reference"))))
    if noise_var:
        s, a = _hline(max(noise_var, floor), _("noise σ² = {v}").format(v=f"{noise_var:.3g}"))
        shapes.append(s)
        anns.append(a)
    layout = _layout(title, height, hovermode="x unified")
    _merge(layout, dict(xaxis=dict(title=dict(text=_("epoch (full-batch steps)"))),
                        yaxis=_logy(_("mean squared error (log scale)"), np.r_[tr, va, noise_var or np.nan], floor),
                        shapes=shapes, annotations=anns))
    return legend_below(_figure(traces, layout))  # the epoch labels sit at the top of the plot


# ----------------------------------------------------------------------------------------------
# Learning rate by cross-validation
# ----------------------------------------------------------------------------------------------
def cv_scores_figure(lrs, scores, mean, std, diverged, best_index: int, *, gd_limit: float | None = None,
                     noise_var: float | None = None, title: str | None = None, height: int = 420) -> go.Figure:
    """Validation MSE per learning rate: every fold (small grey dots), the mean ± one standard
    deviation over folds, rates with a diverged fold as ✕ along the top, the chosen rate as ★."""
    lrs = np.asarray(lrs, dtype=float)
    scores = np.asarray(scores, dtype=float)
    mean = np.asarray(mean, dtype=float)
    std = np.asarray(std, dtype=float)
    div = np.asarray(diverged, dtype=bool).any(1)
    k = scores.shape[1]
    fx = np.repeat(lrs, k)
    fy = scores.ravel()
    ok = np.isfinite(fy)
    finite = np.r_[fy[ok], mean[np.isfinite(mean)]]
    top = float(np.max(finite)) * 3 if finite.size else 1.0
    traces = [
        dict(type="scatter", x=_f32(fx[ok]), y=fy[ok], mode="markers", name=_("each of the {k} folds").format(k=k),
             marker=dict(color="rgba(90,90,90,0.45)", size=6), meta=style.role_meta("validation"),
             hovertemplate=_("lr = %{x:.3g}<br>fold validation MSE %{y:.4g}") + "<extra></extra>"),
        dict(type="scatter", x=_f32(lrs[~div]), y=mean[~div], mode="lines+markers", name=_("mean ± std over folds"),
             line=dict(color=VAL_COLOR, width=2.5), marker=dict(size=8), meta=style.role_meta("validation"),
             error_y=dict(type="data", array=np.nan_to_num(std[~div]), visible=True, color=VAL_COLOR, thickness=1.5),
             hovertemplate=_("lr = %{x:.3g}<br>mean validation MSE %{y:.4g}") + "<extra></extra>"),
    ]
    if div.any():
        nd = diverged.sum(1)[div]
        traces.append(dict(type="scatter", x=_f32(lrs[div]), y=np.full(int(div.sum()), top), mode="markers",
                           name=_("diverged (in at least one fold)"), meta=style.role_meta("diverged"),
                           marker=dict(symbol="x", size=13, color=style.DIVERGED, line=dict(color="white", width=1)),
                           customdata=nd,
                           hovertemplate=_("lr = %{{x:.3g}}: diverged in %{{customdata}} of {k} folds").format(k=k) + "<extra></extra>"))
    if best_index >= 0:
        traces.append(dict(type="scatter", x=[float(lrs[best_index])], y=[float(mean[best_index])], mode="markers",
                           name=_("chosen: lr = {lr}").format(lr=f"{lrs[best_index]:.3g}"), meta=style.role_meta("highlight"),
                           marker=dict(symbol="star", size=22, color=CHOSEN_COLOR, line=dict(color="black", width=1)),
                           hovertemplate=_("chosen lr = %{x:.3g}<br>mean validation MSE %{y:.4g}") + "<extra></extra>"))
    shapes, anns = [], []
    if gd_limit is not None and np.isfinite(gd_limit):
        s, a = _vline(float(gd_limit), _("stability limit {v}").format(v=f"{gd_limit:.3g}"), color=style.DIVERGED, dash="dash", log_x=True,
                      role="diverged")
        shapes.append(s)
        anns.append(a)
    if noise_var:
        s, a = _hline(noise_var, _("noise σ² = {v}").format(v=f"{noise_var:.3g}"))
        shapes.append(s)
        anns.append(a)
    layout = _layout(title, height, hovermode="closest")
    xaxis = dict(title=dict(text=_("learning rate (log scale)")), type="log", exponentformat="power")
    xaxis.update(log_ticks(float(lrs.min()), float(lrs.max())))
    _merge(layout, dict(xaxis=xaxis, yaxis=_logy(_("validation MSE (log scale)"), np.r_[finite, top], 1e-12, pad=0.2),
                        shapes=shapes, annotations=anns))
    return legend_below(_figure(traces, layout))  # the stability limit's label sits at the top


def cv_curves_figure(curves, lrs, best_index: int, *, title: str | None = None, height: int = 420,
                     floor: float = 1e-6) -> go.Figure:
    """Validation MSE (mean over folds) against step, one line per learning rate in greys from small
    (dark) to large (light); the chosen rate thick, in the validation colour; lines end where a fold
    diverged."""
    curves = np.asarray(curves, dtype=float)
    lrs = np.asarray(lrs, dtype=float)
    steps = np.arange(curves.shape[0], dtype=float)
    colors = _ramp(len(lrs))
    traces = []
    for i, lr in enumerate(lrs):
        y = _floor(curves[:, i], floor)
        chosen = i == best_index
        traces.append(dict(type="scatter", x=_f32(steps), y=y, mode="lines",
                           name=(_("lr = {lr} (chosen)") if chosen else "lr = {lr}").format(lr=f"{lr:.3g}"),
                           line=dict(color=VAL_COLOR if chosen else colors[i], width=4.5 if chosen else 1.5),
                           meta=style.role_meta("validation" if chosen else "learning rate"),
                           showlegend=bool(chosen or i in (0, len(lrs) - 1)),
                           hovertemplate=f"lr = {lr:.3g}<br>" + _("step %{x}<br>validation MSE %{y:.4g}") + "<extra></extra>"))
    # the axis ends a decade above the common starting value: diverging runs leave the plot
    # instead of squashing the interesting part (the first row is the same for every rate)
    start = curves[0][np.isfinite(curves[0])]
    finite = curves[np.isfinite(curves)]
    hi = 10 * float(start.max()) if start.size else None
    lo = float(max(finite.min(), floor)) if finite.size else None
    layout = _layout(title, height, hovermode="closest")
    yaxis = _yaxis(_("validation MSE, mean over folds (log scale)"), True)
    if hi and lo and hi > lo:
        yaxis.update(range=[np.log10(lo) - 0.1, np.log10(hi)], **log_ticks(lo, hi))
    _merge(layout, dict(xaxis=dict(title=dict(text=_("gradient-descent step"))), yaxis=yaxis))
    return _figure(traces, layout)


# ----------------------------------------------------------------------------------------------
# Gradient lab
# ----------------------------------------------------------------------------------------------
def _layer_labels(n_layers: int) -> list[str]:
    return [f"{l}" for l in range(1, n_layers)] + [_("out")]


def grad_heatmap(grad_norms, *, diverged_at: int = -1, title: str | None = None, height: int = 440,
                 max_steps: int = 400, floor: float = 1e-30) -> go.Figure:
    """log₁₀ of each layer's gradient norm (rows: layer 1 at the bottom, the output layer "out" on
    top) at every step (columns; at most ``max_steps`` columns, evenly subsampled)."""
    g = np.asarray(grad_norms, dtype=float)
    T, L = g.shape
    idx = np.unique(np.linspace(0, T - 1, min(T, max_steps)).round().astype(int)) if T else np.zeros(0, int)
    sub = g[idx]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(np.isfinite(sub) & (sub > 0), np.log10(np.maximum(sub, floor)), np.nan).T   # (L, steps)
    fin = z[np.isfinite(z)]
    zmin, zmax = (float(np.percentile(fin, 1)), float(np.percentile(fin, 99))) if fin.size else (-1.0, 1.0)
    if zmax - zmin < 1:
        zmin, zmax = zmin - 0.5, zmax + 0.5
    labels = _layer_labels(L)
    fig = heatmap(idx, np.arange(1, L + 1), np.round(z, 3), xlabel=_("training step"),
                  ylabel=_("layer (1 = next to the input)"),
                  zlabel="log₁₀ ‖∂L/∂θ_ℓ‖", title=title, colorscale="Viridis", zmin=zmin, zmax=zmax, height=height,
                  hovertemplate=_("step %{x}<br>layer %{y}") + "<br>log₁₀ ‖g‖ = %{z:.2f}<extra></extra>")
    fig.update_yaxes(tickmode="array", tickvals=list(range(1, L + 1)), ticktext=labels)
    if diverged_at >= 0:
        s, a = _vline(diverged_at, _("diverged at step {k}").format(k=diverged_at), color=style.DIVERGED, dash="solid", role="diverged")
        fig.add_shape(s)
        fig.add_annotation(a)
    return fig


def grad_profile(profiles: Mapping[str, np.ndarray], *, title: str | None = None, height: int = 360,
                 floor: float = 1e-30, colors: Sequence[str] | None = None) -> go.Figure:
    """Gradient norm against layer (log y), one line per named profile (e.g. the first and the last step)."""
    traces = []
    for i, (label, g) in enumerate(profiles.items()):
        g = np.asarray(g, dtype=float)
        L = len(g)
        c = (colors or (style.REFERENCE, style.INK))[i % len(colors or (style.REFERENCE, style.INK))]
        traces.append(dict(type="scatter", x=_layer_labels(L), y=_floor(g, floor), mode="lines+markers", name=label,
                           line=dict(color=c, width=2.5), marker=dict(size=7), meta=style.role_meta("layer profile"),
                           hovertemplate=f"{label}<br>" + _("layer %{x}") + "<br>‖g‖ = %{y:.3g}<extra></extra>"))
    layout = _layout(title, height, hovermode="x unified")
    values = np.concatenate([np.ravel(v) for v in profiles.values()])
    # a third of the page at 1024 px: the axis title on two lines rather than past the chart's edge
    _merge(layout, dict(xaxis=dict(title=dict(text=wrap_text(_("layer (1 = next to the input, out = output layer)"), 30)),
                                   type="category"),
                        yaxis=_logy(_("gradient norm (log scale)"), values, floor)))
    return _figure(traces, layout)


def activation_histograms(edges, hist_init, hist_end, *, activation: str, title: str | None = None,
                          height: int = 420) -> go.Figure:
    """Side by side: the distribution of every hidden layer's activations at initialisation and at
    the end (rows: layers, columns: value bins, colour: fraction of the layer's activations; values
    beyond the axis are counted in the outer bins)."""
    edges = np.asarray(edges, dtype=float)
    centers = 0.5 * (edges[1:] + edges[:-1])
    D = np.asarray(hist_init).shape[0]
    layers = np.arange(1, D + 1)
    zmax = float(max(np.max(hist_init, initial=0), np.max(hist_end, initial=0))) or 1.0
    traces = []
    for j, (h, axis) in enumerate(((hist_init, ("x", "y")), (hist_end, ("x2", "y2")))):
        traces.append(dict(type="heatmap", x=_f32(centers), y=layers, z=np.round(np.asarray(h, float), 4),
                           xaxis=axis[0], yaxis=axis[1], colorscale="Viridis", zmin=0, zmax=zmax, showscale=j == 1,
                           colorbar=dict(title=dict(text=_("fraction"), side="right"), thickness=14),
                           hovertemplate=_("layer %{y}<br>φ ≈ %{x:.3g}<br>fraction %{z:.3f}") + "<extra></extra>"))
    layout = _layout(title, height)
    sub = dict(xref="paper", yref="paper", y=1.0, yanchor="bottom", showarrow=False, font=dict(size=15))
    xt = _("activation value {f}(u)").format(f=activation) if activation in ("sigmoid", "tanh") else _("activation value")
    _merge(layout, dict(
        margin=dict(t=80 if title else 40),
        xaxis=dict(domain=[0.0, 0.45], title=dict(text=xt), anchor="y"),
        xaxis2=dict(domain=[0.53, 0.98], title=dict(text=xt), anchor="y2"),
        yaxis=dict(title=dict(text=_("hidden layer")), anchor="x"),
        yaxis2=dict(anchor="x2", matches="y"),
        annotations=[dict(sub, text=_("at initialisation"), x=0.225, xanchor="center"),
                     dict(sub, text=_("after training"), x=0.755, xanchor="center")]))
    return _figure(traces, layout)


def activation_stats(act_std_first, act_std_last, flat_first, flat_last, *, flat_label: str,
                     title: str | None = None, height: int = 360, floor: float = 1e-30) -> go.Figure:
    """Per hidden layer: the spread (standard deviation) of its activations (left, log scale) and
    the fraction in the activation's flat region (right), at the first and the last check."""
    D = len(act_std_first)
    x = [str(l) for l in range(1, D + 1)]
    c0, c1 = style.REFERENCE, style.INK    # at the start grey, at the end ink (roles: no optimizer here)
    start, end = style.role_meta("start"), style.role_meta("end")
    traces = [
        dict(type="scatter", x=x, y=_floor(act_std_first, floor), mode="lines+markers", name=_("at the start"),
             line=dict(color=c0, width=2.5), xaxis="x", yaxis="y", legendgroup="start", meta=start,
             hovertemplate=_("layer %{x}<br>std %{y:.3g}") + "<extra></extra>"),
        dict(type="scatter", x=x, y=_floor(act_std_last, floor), mode="lines+markers", name=_("at the end"),
             line=dict(color=c1, width=2.5), xaxis="x", yaxis="y", legendgroup="end", meta=end,
             hovertemplate=_("layer %{x}<br>std %{y:.3g}") + "<extra></extra>"),
        dict(type="scatter", x=x, y=_f32(flat_first), mode="lines+markers", name=_("at the start"), showlegend=False,
             line=dict(color=c0, width=2.5), xaxis="x2", yaxis="y2", legendgroup="start", meta=start,
             hovertemplate=_("layer %{x}") + f"<br>{flat_label}: %{{y:.0%}}<extra></extra>"),
        dict(type="scatter", x=x, y=_f32(flat_last), mode="lines+markers", name=_("at the end"), showlegend=False,
             line=dict(color=c1, width=2.5), xaxis="x2", yaxis="y2", legendgroup="end", meta=end,
             hovertemplate=_("layer %{x}") + f"<br>{flat_label}: %{{y:.0%}}<extra></extra>"),
    ]
    layout = _layout(title, height, hovermode="x unified")
    sub = dict(xref="paper", yref="paper", y=1.0, yanchor="bottom", showarrow=False, font=dict(size=15))
    _merge(layout, dict(
        margin=dict(t=130 if title else 70), legend=dict(y=1.12),
        xaxis=dict(domain=[0.0, 0.45], title=dict(text=_("hidden layer")), anchor="y", type="category"),
        xaxis2=dict(domain=[0.55, 1.0], title=dict(text=_("hidden layer")), anchor="y2", type="category"),
        yaxis=dict(_yaxis("", True), anchor="x"),
        yaxis2=dict(anchor="x2", range=[0, 1.02], tickformat=".0%"),
        annotations=[dict(sub, text=_("spread of the activations (std, log scale)"), x=0.225, xanchor="center"),
                     dict(sub, text=_("share of activations {what}").format(what=flat_label), x=0.775, xanchor="center")]))
    return _figure(traces, layout)


def training_curves(runs: Sequence[tuple], *, title: str | None = None, height: int = 400,
                    minibatch: bool = False, floor: float = 1e-8) -> go.Figure:
    """Loss (log, left) and validation accuracy (right) against step for several lab runs.

    ``runs``: ``(label, LabResult-like, look)``, the look a role colour (a fix, see :data:`FIX_COLORS`)
    or an optimizer's trace tag (``style.optimizer_meta(name)``: its colour); uses ``record_steps``, ``train_loss``,
    ``val_accuracy``, ``diverged_at`` and, with ``minibatch``, the per-step ``loss`` (thin line).
    A diverged run ends with ✕ at its last finite loss.
    """
    traces = []
    for label, r, look in runs:
        color, meta = _look(look)
        steps = np.asarray(r.record_steps, dtype=float)
        if minibatch:
            mb = np.asarray(r.loss, dtype=float)
            traces.append(dict(type="scatter", x=_f32(np.arange(len(mb))), y=_floor(mb, floor), mode="lines",
                               name=_("{label}: mini-batch loss").format(label=label), line=dict(color=color, width=1), opacity=0.35,
                               xaxis="x", yaxis="y", meta=meta,
                               hovertemplate=_("step %{x}<br>mini-batch loss %{y:.4g}") + "<extra></extra>"))
        traces.append(dict(type="scatter", x=_f32(steps), y=_floor(r.train_loss, floor), mode="lines+markers",
                           name=label, legendgroup=label, line=dict(color=color, width=2.5), marker=dict(size=4),
                           xaxis="x", yaxis="y", meta=meta,
                           hovertemplate=f"{label}<br>" + _("step %{x}<br>training loss %{y:.4g}") + "<extra></extra>"))
        traces.append(dict(type="scatter", x=_f32(steps), y=_f32(r.val_accuracy), mode="lines+markers",
                           name=label, legendgroup=label, showlegend=False, line=dict(color=color, width=2.5),
                           marker=dict(size=4), xaxis="x2", yaxis="y2", meta=meta,
                           hovertemplate=f"{label}<br>" + _("step %{x}<br>validation accuracy %{y:.1%}") + "<extra></extra>"))
        if r.diverged_at >= 0:
            fin = np.flatnonzero(np.isfinite(np.asarray(r.loss, dtype=float)))
            if fin.size:
                k = int(fin[-1])
                traces.append(dict(type="scatter", x=[float(k)], y=[float(max(r.loss[k], floor))], mode="markers+text",
                                   text=["diverged"], textposition="top center", textfont=dict(color=style.INK),
                                   showlegend=False, legendgroup=label, xaxis="x", yaxis="y", meta=meta,
                                   marker=dict(symbol="x", size=14, color=color),
                                   hovertemplate=_("{label}: diverged at step {k}").format(label=label, k=r.diverged_at) + "<extra></extra>"))
    layout = _layout(title, height, hovermode="closest")
    sub = dict(xref="paper", yref="paper", y=1.0, yanchor="bottom", showarrow=False, font=dict(size=15))
    _merge(layout, dict(
        margin=dict(t=150 if title else 90), legend=dict(y=1.14),
        xaxis=dict(domain=[0.0, 0.45], title=dict(text=_("training step")), anchor="y"),
        xaxis2=dict(domain=[0.55, 1.0], title=dict(text=_("training step")), anchor="y2"),
        yaxis=dict(_logy("", np.concatenate([np.ravel(r.train_loss) for _, r, _ in runs]
                                            + [np.ravel(r.loss) for _, r, _ in runs if minibatch]), floor),
                   anchor="x"),
        yaxis2=dict(anchor="x2", range=[0.4, 1.02], tickformat=".0%"),
        annotations=[dict(sub, text=_("training loss (log scale)"), x=0.225, xanchor="center"),
                     dict(sub, text=_("validation accuracy"), x=0.775, xanchor="center")]))
    return _figure(traces, layout)


# ----------------------------------------------------------------------------------------------
# Cliff
# ----------------------------------------------------------------------------------------------
def step_lengths_figure(runs: Sequence[tuple], *, title: str | None = None, height: int = 340,
                        floor: float = 1e-12) -> go.Figure:
    """Length of every step ‖x_{t+1} − x_t‖ (log y) for ``(label, step_lengths, look, dash)`` runs, the
    look an optimizer's trace tag (``style.optimizer_meta(name, variant)``) or a role colour."""
    traces = []
    for label, steps, look, dash in runs:
        color, meta = _look(look)
        s = np.asarray(steps, dtype=float)
        traces.append(dict(type="scatter", x=_f32(np.arange(1, len(s) + 1)), y=_floor(s, floor), mode="lines+markers",
                           name=label, line=dict(color=color, width=2.2, dash=dash), marker=dict(size=4), meta=meta,
                           hovertemplate=f"{label}<br>" + _("step %{x}<br>length %{y:.3g}") + "<extra></extra>"))
    layout = _layout(title, height, hovermode="x unified")
    _merge(layout, dict(xaxis=dict(title=dict(text=_("step"))),
                        yaxis=_logy(_("step length ‖Δx‖ (log scale)"), np.concatenate([np.ravel(r[1]) for r in runs]),
                                    floor)))
    return _figure(traces, layout)
