r"""Figures of the chapter "Gradient descent" (Plotly only, built on :mod:`optlab.figures.core`).

* :func:`variants_curves` -- f − f* against epochs and against sample-gradient evaluations;
* :func:`schedule_curves` -- f − f* and the learning rate against step, constant vs scheduled;
* :func:`article_fit` -- the article's four points and the lines each method found;
* :func:`article_theta` -- θ of the article's SGD over its iterations, for several seeds.

Batch GD, mini-batch and SGD are all ``torch.optim.SGD``: they differ in the data each step sees,
not in the update rule, so they are variants of SGD (:data:`VARIANTS`): batch GD keeps SGD's colour,
mini-batch and stochastic take the variant colours of :mod:`.style`, the same on every figure of
the page; a scheduled run is a variant of the constant one.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from . import core, style

# variant of torch.optim.SGD each setting is drawn as (style rule 2): 0 = SGD's own colour
VARIANTS = {"batch": 0, "minibatch": 1, "sgd": 2, "constant": 0, "scheduled": 1}


def _look(tr, variant) -> tuple[str, dict]:
    """Colour and trace tag of a run of ``tr.optimizer`` drawn as ``variant``."""
    name = getattr(tr, "optimizer", "sgd")
    return style.optimizer_color(name, variant or 0), style.optimizer_meta(name, variant or 0)
MAX_POINTS = 3000  # per curve: long SGD runs are thinned (evenly, last point kept) to keep figures small


def _thin(x: np.ndarray, y: np.ndarray, max_points: int = MAX_POINTS):
    n = len(x)
    if n <= max_points:
        return x, y
    idx = np.unique(np.r_[np.linspace(0, n - 1, max_points).round().astype(int), n - 1])
    return x[idx], y[idx]


def _gap(losses, f_star: float, floor: float) -> np.ndarray:
    g = np.asarray(losses, dtype=float) - f_star
    return np.where(np.isfinite(g), np.maximum(g, floor), np.nan)


def variants_curves(runs: Sequence[tuple[str, Any, int, str]], n_samples: int, f_star: float, *,
                    height: int = 360, floor: float = 1e-10, title: str | None = None) -> go.Figure:
    """f − f* (log) against epochs (left) and against sample-gradient evaluations (right).

    ``runs``: ``(label, trajectory, batch_size, variant)``; step t has used t·b sample gradients,
    i.e. t·b/N epochs.  Diverged runs stop at their last finite value, marked ✕.
    """
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.09,
                        subplot_titles=("f − f* against epochs", "f − f* against gradients computed"))
    # the noisiest (smallest batch) first, so the smoother curves are drawn on top of its band
    for label, tr, b, variant in sorted(runs, key=lambda r: r[2]):
        color, meta = _look(tr, variant)
        g = _gap(tr.losses, f_star, floor)
        t = np.arange(len(g), dtype=float)
        for col, x in ((1, t * b / n_samples), (2, t * b)):
            xx, yy = _thin(x, g)
            fig.add_trace(go.Scatter(
                x=xx, y=yy, mode="lines", name=label, legendgroup=label, showlegend=col == 1,
                opacity=0.75 if b == 1 else 1.0,
                line=dict(color=color, width=1 if b == 1 else (2 if b < n_samples else 2.6)), meta=meta,
                hovertemplate=(f"{label}<br>{'epoch' if col == 1 else 'gradients'} %{{x:.4g}}"
                               "<br>f − f* = %{y:.4g}<extra></extra>")), row=1, col=col)
            fin = np.nonzero(np.isfinite(g))[0]
            if tr.diverged and fin.size:
                k = int(fin[-1])
                fig.add_trace(go.Scatter(x=[x[k]], y=[g[k]], mode="markers+text", text=["diverged"],
                                         textposition="top center", showlegend=False, legendgroup=label,
                                         marker=dict(symbol="x", size=12, color=color), meta=meta,
                                         textfont=dict(color=style.INK),
                                         hovertemplate=f"{label} diverged at step {tr.diverged_at}<extra></extra>"),
                              row=1, col=col)
    core.apply_layout(fig, title, height, hovermode="closest")
    fig.update_layout(margin=dict(t=80 if title else 60))
    fig.update_yaxes(type="log", exponentformat="power", title_text="f − f* (log scale)", row=1, col=1)
    fig.update_yaxes(type="log", exponentformat="power", row=1, col=2)
    fig.update_xaxes(title_text="epochs (passes over the N samples)", row=1, col=1)
    fig.update_xaxes(title_text="sample gradients ∇ℓᵢ computed", row=1, col=2)
    fig.update_layout(margin=dict(t=40))
    core.legend_below(fig)
    fig.update_layout(legend_traceorder="reversed")
    return fig


def schedule_curves(runs: Sequence[tuple[str, Any, str]], f_star: float, *, height: int = 360,
                    floor: float = 1e-10, title: str | None = None) -> go.Figure:
    """f − f* (log) and the learning rate against step for each ``(label, trajectory, variant)``."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.09,
                        subplot_titles=("f − f* against step", "learning rate γₖ against step"))
    for label, tr, variant in runs:
        color, meta = _look(tr, variant)
        g = _gap(tr.losses, f_star, floor)
        xx, yy = _thin(np.arange(len(g), dtype=float), g)
        fig.add_trace(go.Scatter(x=xx, y=yy, mode="lines", name=label, legendgroup=label, meta=meta,
                                 line=dict(color=color, width=1.6),
                                 hovertemplate=f"{label}<br>step %{{x}}<br>f − f* = %{{y:.4g}}<extra></extra>"),
                      row=1, col=1)
        lr = np.asarray(tr.lrs, dtype=float)
        lx, ly = _thin(np.arange(1, len(lr) + 1, dtype=float), lr)
        fig.add_trace(go.Scatter(x=lx, y=ly, mode="lines", name=label, legendgroup=label, showlegend=False,
                                 line=dict(color=color, width=2.4), meta=meta,
                                 hovertemplate=f"{label}<br>step %{{x}}<br>lr = %{{y:.4g}}<extra></extra>"),
                      row=1, col=2)
    core.apply_layout(fig, title, height, hovermode="closest")
    fig.update_layout(margin=dict(t=80 if title else 60))
    fig.update_yaxes(type="log", exponentformat="power", title_text="f − f* (log scale)", row=1, col=1)
    fig.update_yaxes(title_text="lr", rangemode="tozero", row=1, col=2)
    fig.update_xaxes(title_text="step")
    fig.update_layout(margin=dict(t=40))
    return core.legend_below(fig)


def lr_curve(runs: Sequence[tuple[str, Any, str]], f_star: float, *, height: int = 340, floor: float = 1e-12,
             title: str | None = None) -> go.Figure:
    """f − f* (log) against step for ``(label, trajectory, variant)`` runs that differ in learning
    rate (diverged runs marked ✕)."""
    fig = go.Figure()
    for label, tr, variant in runs:
        color, meta = _look(tr, variant)
        g = _gap(tr.losses, f_star, floor)
        fig.add_trace(go.Scatter(x=np.arange(len(g)), y=g, mode="lines+markers", name=label, meta=meta,
                                 line=dict(color=color, width=2.2), marker=dict(size=4),
                                 hovertemplate=f"{label}<br>step %{{x}}<br>f − f* = %{{y:.4g}}<extra></extra>"))
        fin = np.nonzero(np.isfinite(g))[0]
        if tr.diverged and fin.size:
            k = int(fin[-1])
            fig.add_trace(go.Scatter(x=[k], y=[g[k]], mode="markers+text", text=[f"diverged at step {tr.diverged_at}"],
                                     textposition="top left", showlegend=False, meta=meta,
                                     textfont=dict(color=style.INK), marker=dict(symbol="x", size=14, color=color)))
    core.apply_layout(fig, title, height, hovermode="x unified")
    fig.update_xaxes(title_text="step")
    fig.update_yaxes(type="log", exponentformat="power", title_text="f − f* (log scale)")
    return fig


def article_fit(x, y, lines: Mapping[str, tuple[float, float]], *, metas: Mapping[str, dict] | None = None,
                height: int = 360, title: str | None = None) -> go.Figure:
    """The article's points and each method's line ŷ = w·x + b (``lines``: label -> (w, b)).
    ``metas``: label -> trace tag (:mod:`.style`): an optimizer's line takes its colour; a line
    without a tag is the closed form (ink)."""
    from ..format import equation

    x, y = np.asarray(x, float), np.asarray(y, float)
    fig = go.Figure(go.Scatter(x=x, y=y, mode="markers", name="the article's data", meta=style.role_meta("data"),
                               marker=dict(size=12, color=style.INK)))
    xl = np.array([0.0, float(x.max()) + 0.5])
    dashes = ("solid", "dash", "dot", "dashdot")
    for i, (label, (w, b)) in enumerate(lines.items()):
        meta = (metas or {}).get(label) or style.role_meta("closed form")
        c = (style.optimizer_color(meta["optimizer"], meta.get("variant", 0)) if "optimizer" in meta
             else style.role_color(meta["role"]))
        fig.add_trace(go.Scatter(x=xl, y=w * xl + b, mode="lines", name=f"{label}: {equation('ŷ', [(w, 'x'), (b, '')])}",
                                 line=dict(color=c, width=2.5, dash=dashes[i % len(dashes)]), meta=meta))
    core.apply_layout(fig, title, height, hovermode="closest")
    fig.update_xaxes(title_text="x")
    fig.update_yaxes(title_text="y")
    return core.legend_below(fig, rows=len(lines))


def article_theta(series: Mapping[str, np.ndarray], target: float | None = None, *, height: int = 320,
                  title: str | None = None, variant: int = VARIANTS["sgd"]) -> go.Figure:
    """θ against iteration for the article's SGD, one line per run (e.g. per seed): all are SGD
    with batch size 1, so all take that variant's colour (the page's "SGD (b = 1)"); the dash tells
    the runs apart."""
    fig = go.Figure()
    color, meta = style.optimizer_color("sgd", variant), style.optimizer_meta("sgd", variant)
    for i, (label, th) in enumerate(series.items()):
        th = np.asarray(th, dtype=float)
        xx, yy = _thin(np.arange(len(th), dtype=float), th)
        fig.add_trace(go.Scatter(x=xx, y=yy, mode="lines", name=label, meta=meta,
                                 line=dict(color=color, width=2, dash=core.DASHES[i % len(core.DASHES)])))
    if target is not None:
        fig.add_hline(y=target, line=dict(color=style.INK, dash="dash", width=1), name=style.tag(style.role_meta("truth")),
                      annotation_text=f"least squares θ = {target:g}", annotation_position="bottom right",
                      annotation_name=style.tag(style.role_meta("truth")))
    core.apply_layout(fig, title, height, hovermode="x unified")
    fig.update_xaxes(title_text="iteration")
    fig.update_yaxes(title_text="θ")
    return fig
