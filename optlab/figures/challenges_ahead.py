"""Figures of the chapter "Challenges ahead" (Plotly, no Streamlit): one builder per study of
:mod:`optlab.chapters.challenges_ahead`, each returning a ``go.Figure``.

Axis titles are English defaults that a page may replace (``labels=``) with its catalog's text.
Arrays go out as float32 where precision does not matter, so the figures stay small.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import plotly.graph_objects as go

from . import style
from .core import _contour_trace, _figure, _fixed_axes, base_layout, heatmap, legend_below, vector_arrows, wrap_text


def _f32(a) -> np.ndarray:
    return np.asarray(a, dtype=float).astype(np.float32)


def _ramp(n: int) -> list[str]:
    """An ordered family that is not an optimizer (delays τ, local steps H): the registry's greys."""
    return style.ramp(max(n, 1))[:n]


SGD = "sgd"                     # every run of this chapter is torch's SGD (data-parallel, delayed, DP, local)
FIT, NOISE_SCALE = style.series_color(2), style.series_color(1)
BEFORE, AFTER = style.series_color(0), style.series_color(1)
TASK_COLORS = (style.series_color(0), style.series_color(1), style.series_color(3))
# the minima of a basins map: categorical roles kept away from the SGD variants this chapter draws
# (the registry's mustard is too close to the orange of SGD's variant 2)
MINIMA_COLORS = (style.series_color(0), style.series_color(1), style.series_color(2), style.series_color(3),
                 "#44AA99", style.REFERENCE)


def _role(role: str) -> dict:
    return style.role_meta(role)


def _opt(variant: int = 0) -> dict:
    return style.optimizer_meta(SGD, variant)


def _sgd(variant: int = 0) -> str:
    return style.optimizer_color(SGD, variant)


def _lab(labels: Mapping[str, str] | None, key: str, default: str) -> str:
    return (labels or {}).get(key, default)


# ----------------------------------------------------------------------------------------------
# 1. data parallel
# ----------------------------------------------------------------------------------------------
def scaling_figure(study, *, labels: Mapping[str, str] | None = None, height: int = 380) -> go.Figure:
    """Steps (left) and samples (right) to the target against the batch size, log-log: measured
    points, the fitted S = S_min(1 + B_crit/B), the perfect-scaling line through the smallest batch,
    and vertical markers at B_crit (fitted bend) and B_noise (measured at the target)."""
    r = study.result
    ok = r.steps > 0
    B = r.batch_sizes.astype(float)
    s_min, e_min, b_crit = study.fit
    fine = np.logspace(np.log10(B.min()), np.log10(B.max()), 80)
    traces = []
    for axis, y, fit, name in (("", r.steps, s_min + e_min / fine, _lab(labels, "steps", "steps to target")),
                               ("2", r.samples, (s_min + e_min / fine) * fine, _lab(labels, "samples", "examples to target"))):
        xa, ya = "x" + axis, "y" + axis
        traces.append(dict(type="scatter", x=_f32(B[ok]), y=_f32(y[ok]), mode="markers+lines", name=name,
                           xaxis=xa, yaxis=ya, line=dict(color=_sgd(), width=2), showlegend=axis == "",
                           marker=dict(size=8, color=_sgd()), meta=_opt()))
        if np.isfinite(s_min) and s_min > 0:
            traces.append(dict(type="scatter", x=_f32(fine), y=_f32(fit), mode="lines", xaxis=xa, yaxis=ya,
                               name=_lab(labels, "fit", "fit S = S_min(1 + B_crit/B)"), showlegend=axis == "",
                               line=dict(color=FIT, dash="dash", width=1.6), meta=_role("fit")))
        if ok.any():
            b0, s0 = B[ok][0], float(r.steps[ok][0])
            ideal = s0 * b0 / fine if axis == "" else np.full_like(fine, s0 * b0)
            traces.append(dict(type="scatter", x=_f32(fine), y=_f32(ideal), mode="lines", xaxis=xa, yaxis=ya,
                               name=_lab(labels, "perfect", "perfect scaling"), showlegend=axis == "",
                               line=dict(color=style.GUIDE, dash="dot", width=1.4), meta=_role("guide")))
    shapes, notes = [], []
    for value, text, color in ((b_crit, _lab(labels, "b_crit", "B_crit (fit)"), FIT),
                               (study.b_noise, _lab(labels, "b_noise", "B_noise at target"), NOISE_SCALE)):
        if not (np.isfinite(value) and value > 0):
            continue
        for xref in ("x", "x2"):
            shapes.append(dict(type="line", xref=xref, yref="paper", x0=value, x1=value, y0=0, y1=1,
                               name=style.tag(_role("reference")),
                               line=dict(color=color, width=1.2, dash="dashdot")))
        # named in the legend under the plot, not by text at the top of the lines: two marks close
        # together on the log axis printed their labels over each other, and text at the lines
        # widened a narrow panel's autorange
        traces.append(dict(type="scatter", x=[None], y=[None], mode="lines", name=text, hoverinfo="skip",
                           line=dict(color=color, width=1.2, dash="dashdot"), meta=_role("reference")))
    layout = base_layout(None, height, shapes=shapes, annotations=notes,
                         xaxis=dict(type="log", dtick=1, domain=[0, 0.36],
                                    title=dict(text=_lab(labels, "batch", "batch size B = K·b"))),
                         yaxis=dict(type="log", dtick=1, title=dict(text=_lab(labels, "steps", "steps to target"))),
                         xaxis2=dict(type="log", dtick=1, domain=[0.64, 1], anchor="y2",
                                     title=dict(text=_lab(labels, "batch", "batch size B = K·b"))),
                         yaxis2=dict(type="log", dtick=1, anchor="x2",
                                     title=dict(text=_lab(labels, "samples", "examples to target"))))
    return legend_below(_figure(traces, layout))  # under the axis title, never on it


def warmup_figure(study, *, labels: Mapping[str, str] | None = None, height: int = 360) -> go.Figure:
    """Full-data loss per step of the base batch, the scaled rate without and with warm-up (left), and
    the learning-rate schedules with the full-batch stability limit 2/λ_max (right)."""
    T = study.losses.shape[0]
    names = [_lab(labels, k, d) for k, d in (("base", f"B = {study.batch_sizes[0]}, base lr"),
                                              ("scaled", f"B = {study.batch_sizes[1]}, scaled lr, no warm-up"),
                                              ("warm", f"B = {study.batch_sizes[2]}, scaled lr, warm-up"))]
    colors = [_sgd(0), _sgd(1), _sgd(2)]
    traces = []
    for i in range(3):
        traces.append(dict(type="scatter", x=np.arange(T), y=_f32(study.losses[:, i]), mode="lines", name=names[i],
                           line=dict(color=colors[i], width=2), meta=_opt(i)))
        traces.append(dict(type="scatter", x=np.arange(1, T), y=_f32(study.lrs[:, i]), mode="lines", showlegend=False,
                           xaxis="x2", yaxis="y2", line=dict(color=colors[i], width=2), name=names[i], meta=_opt(i)))
    traces.append(dict(type="scatter", x=[0, T - 1], y=[study.lr_limit] * 2, mode="lines", xaxis="x2", yaxis="y2",
                       name=_lab(labels, "limit", "2/λ_max at the start"), line=dict(color=style.DIVERGED, dash="dot"),
                       meta=_role("diverged")))
    layout = base_layout(None, height,
                         xaxis=dict(domain=[0, 0.55], title=dict(text=_lab(labels, "step", "step"))),
                         yaxis=dict(type="log", dtick=1, title=dict(text=_lab(labels, "loss", "loss (all data)"))),
                         xaxis2=dict(domain=[0.65, 1], anchor="y2", title=dict(text=_lab(labels, "step", "step"))),
                         yaxis2=dict(anchor="x2", type="log", dtick=1, title=dict(text=_lab(labels, "lr", "learning rate"))))
    return legend_below(_figure(traces, layout))  # under the axis title, never on it


# ----------------------------------------------------------------------------------------------
# 2. stale and uneven workers
# ----------------------------------------------------------------------------------------------
def stale_figure(study, *, labels: Mapping[str, str] | None = None, height: int = 360) -> go.Figure:
    """Left: the stable learning-rate limit η_max(τ)·λ (closed form) with the chosen η·λ; right: the
    simulated |θ_t| for every τ (log scale; stable runs fall, unstable ones grow)."""
    taus = study.taus
    col = _ramp(len(taus))
    traces = [dict(type="scatter", x=taus, y=_f32(study.limit * study.curvature), mode="lines+markers",
                   name=_lab(labels, "limit", "largest stable η·λ: 2 sin(π/(2(2τ+1)))"),
                   line=dict(color=style.DIVERGED, width=2), meta=_role("diverged")),
              dict(type="scatter", x=[taus[0], taus[-1]], y=[study.lr * study.curvature] * 2, mode="lines",
                   name=_lab(labels, "chosen", "your η·λ"), line=dict(color=style.INK, dash="dash"), meta=_role("ink"))]
    T = study.xs.shape[0]
    for i, t in enumerate(taus):
        y = np.abs(study.xs[:, i])
        traces.append(dict(type="scatter", x=np.arange(T), y=_f32(np.where(y > 0, y, np.nan)), mode="lines",
                           xaxis="x2", yaxis="y2", showlegend=False, name=f"τ = {t}",
                           line=dict(color=col[i], width=1.6, dash="solid" if study.stable[i] else "dot"),
                           meta=_role("delay"),
                           hovertemplate=f"τ = {t}<br>{_lab(labels, 'step', 'step')} %{{x}}<br>|θ| = %{{y:.3g}}"
                                         "<extra></extra>"))
    layout = base_layout(None, height,
                         xaxis=dict(domain=[0, 0.45], title=dict(text=_lab(labels, "tau", "delay τ (steps)"))),
                         yaxis=dict(type="log", tickvals=[0.02, 0.05, 0.1, 0.2, 0.5, 1, 2], title=dict(text="η·λ")),
                         xaxis2=dict(domain=[0.55, 1], anchor="y2", title=dict(text=_lab(labels, "step", "step"))),
                         yaxis2=dict(anchor="x2", type="log", dtick=10, exponentformat="power", title=dict(text="|θ_t|")))
    return legend_below(_figure(traces, layout))  # under the axis title, never on it


def federated_figure(study, *, labels: Mapping[str, str] | None = None, height: int = 360) -> go.Figure:
    """Loss of the averaged model against communication rounds, one line per H, IID (left) and
    non-IID (right) shards, with the best loss L* dotted."""
    H = study.local_steps
    col = _ramp(len(H))
    traces = []
    for axis, res in (("", study.iid), ("2", study.non_iid)):
        R = res.loss.shape[1]
        for i, h in enumerate(H):
            traces.append(dict(type="scatter", x=np.arange(R), y=_f32(res.loss[i] - study.loss_star + 1e-12),
                               mode="lines", name=f"H = {h}", showlegend=axis == "", xaxis="x" + axis,
                               yaxis="y" + axis, line=dict(color=col[i], width=2), meta=_role("local steps")))
    layout = base_layout(None, height,
                         xaxis=dict(domain=[0, 0.46],
                                    title=dict(text=wrap_text(_lab(labels, "rounds", "communication rounds (IID)"), 24))),
                         yaxis=dict(type="log", dtick=1, exponentformat="power", title=dict(text=_lab(labels, "gap", "loss − L*"))),
                         xaxis2=dict(domain=[0.54, 1], anchor="y2",
                                     title=dict(text=wrap_text(_lab(labels, "rounds_non", "communication rounds (non-IID)"), 24))),
                         yaxis2=dict(anchor="x2", type="log", matches="y", dtick=1, exponentformat="power"))
    return legend_below(_figure(traces, layout))  # under the axis title, never on it


# ----------------------------------------------------------------------------------------------
# 3. many tasks
# ----------------------------------------------------------------------------------------------
def tasks_figure(study, *, weights=None, window=((-3.0, 3.0), (-3.0, 3.0)), n: int = 90,
                 labels: Mapping[str, str] | None = None, height: int = 480, conflict=None) -> go.Figure:
    """The combined loss Σ wᵢLᵢ as filled contours, each task's contours faint on top, the Pareto set,
    the run's trajectories, and (``conflict``: a :class:`ConflictView` at its point) the task
    gradients before and after PCGrad as arrows."""
    from ..multitask import combined_surface

    tasks = study.tasks
    w = np.full(len(tasks), 1.0 / len(tasks)) if weights is None else np.asarray(weights, dtype=float)
    comb = combined_surface(tasks, w)
    traces = [{**_contour_trace(comb, n, window, False, colorbar=False), "meta": _role("surface")}]
    xs = np.linspace(*window[0], n)
    ys = np.linspace(*window[1], n)
    P = np.stack(np.meshgrid(xs, ys), axis=-1)
    for i, t in enumerate(tasks):
        traces.append(dict(type="contour", x=_f32(xs), y=_f32(ys), z=_f32(t.value(P)), showscale=False,
                           contours=dict(coloring="none"), ncontours=10, name=_lab(labels, f"task{i + 1}", t.name),
                           showlegend=False,
                           line=dict(color=TASK_COLORS[i], width=1), opacity=0.55, hoverinfo="skip",
                           meta=_role("task")))
        c = t.params["center"]
        traces.append(dict(type="scatter", x=[c[0]], y=[c[1]], mode="markers", name=_lab(labels, f"task{i + 1}", t.name),
                           marker=dict(symbol="star", size=13, color=TASK_COLORS[i],
                                       line=dict(color="#000000", width=1)), meta=_role("task")))
    par = study.pareto
    traces.append(dict(type="scatter", x=_f32(par[:, 0]), y=_f32(par[:, 1]),
                       mode="lines" if len(tasks) == 2 else "markers", name=_lab(labels, "pareto", "Pareto set"),
                       line=dict(color="#000000", width=3), marker=dict(size=3, color="#000000"), meta=_role("ink")))
    xs_run = study.run.xs
    for b in range(xs_run.shape[1]):
        traces.append(dict(type="scatter", x=_f32(xs_run[:, b, 0]), y=_f32(xs_run[:, b, 1]), mode="lines",
                           name=_lab(labels, "path", study.run.method) if b == 0 else None, showlegend=b == 0,
                           line=dict(color=_sgd(), width=2.5), meta=_opt()))
    layout = base_layout(None, height, **_fixed_axes(window))
    fig = _figure(traces, layout)
    if conflict is not None:
        pt = np.asarray(conflict.point, dtype=float)
        for i, (g, gp) in enumerate(zip(conflict.grads, conflict.projected)):
            c = TASK_COLORS[i]
            vector_arrows(pt, -g, fig=fig, color=c, name=_lab(labels, f"grad{i + 1}", f"−∇L{i + 1}"), scale=0.3)
            vector_arrows(pt, -gp, fig=fig, color=c, name=_lab(labels, f"proj{i + 1}", f"−∇L{i + 1} (PCGrad)"),
                          scale=0.3, dash="dot")
            fig.data[-2].meta = _role("task")
            fig.data[-1].meta = _role("task")
    return legend_below(fig)  # under the axis title, never on it


# ----------------------------------------------------------------------------------------------
# 4. privacy
# ----------------------------------------------------------------------------------------------
def privacy_figure(study, *, labels: Mapping[str, str] | None = None, height: int = 380,
                   highlight: float | None = None) -> go.Figure:
    """Left: accuracy against ε (log axis; the non-private run as a horizontal line; ``highlight``: the
    noise multiplier whose point is ringed); right: every example's gradient norm before clipping at
    the end of the non-private run, and after (min(‖g‖, C))."""
    sw = study.sweep
    fin = np.isfinite(sw.epsilon) & (sw.epsilon > 0)
    traces = [dict(type="scatter", x=_f32(sw.epsilon[fin]), y=_f32(sw.accuracy[fin]), mode="lines+markers",
                   name=_lab(labels, "dp", "DP-SGD"), error_y=dict(type="data", array=_f32(sw.accuracy_std[fin])),
                   text=[f"σ = {s:g}" for s in sw.noise_multiplier[fin]],
                   hovertemplate="ε = %{x:.3g}<br>" + _lab(labels, "acc_hover", "accuracy") + " %{y:.3f}<br>%{text}"
                                 "<extra></extra>",
                   line=dict(color=_sgd(), width=2), meta=_opt())]
    if (~np.isfinite(sw.epsilon)).any():
        a0 = float(sw.accuracy[~np.isfinite(sw.epsilon)][0])
        lo, hi = (sw.epsilon[fin].min(), sw.epsilon[fin].max()) if fin.any() else (0.1, 10.0)
        traces.append(dict(type="scatter", x=[lo, hi], y=[a0, a0], mode="lines", name=_lab(labels, "nonprivate", "no noise (ε = ∞)"),
                           line=dict(color=style.REFERENCE, dash="dot"), meta=_role("reference")))
    if highlight is not None:
        k = int(np.argmin(np.abs(sw.noise_multiplier - float(highlight))))
        if fin[k]:
            traces.append(dict(type="scatter", x=[float(sw.epsilon[k])], y=[float(sw.accuracy[k])], mode="markers",
                               name=_lab(labels, "yours", "your σ"),
                               marker=dict(size=16, color="rgba(0,0,0,0)", line=dict(color="#000000", width=2.5)),
                               meta=_role("ink")))
    norms = study.norms_end
    bins = dict(start=0.0, end=float(max(norms.max(), study.clip_norm) * 1.02), size=float(max(norms.max(), study.clip_norm)) / 40)
    traces.append(dict(type="histogram", x=_f32(norms), xaxis="x2", yaxis="y2", name=_lab(labels, "before", "‖gᵢ‖ before clipping"),
                       marker=dict(color=BEFORE), opacity=0.6, xbins=bins, meta=_role("data")))
    traces.append(dict(type="histogram", x=_f32(np.minimum(norms, study.clip_norm)), xaxis="x2", yaxis="y2",
                       name=_lab(labels, "after", "after clipping at C"), marker=dict(color=AFTER), meta=_role("data"),
                       opacity=0.6, xbins=bins))
    layout = base_layout(None, height, barmode="overlay",
                         xaxis=dict(type="log", dtick=1, domain=[0, 0.5],
                                    title=dict(text=_lab(labels, "eps", f"ε (δ = {sw.delta:.1e})"))),
                         yaxis=dict(title=dict(text=_lab(labels, "acc", "accuracy (training data)"))),
                         xaxis2=dict(domain=[0.6, 1], anchor="y2", title=dict(text=_lab(labels, "norm", "per-example gradient norm"))),
                         yaxis2=dict(anchor="x2", type="log", dtick=1, title=dict(text=_lab(labels, "count", "examples (log)"))),
                         shapes=[dict(type="line", xref="x2", yref="paper", x0=study.clip_norm, x1=study.clip_norm,
                                      y0=0, y1=1, line=dict(color="#000000", dash="dash"), name=style.tag(_role("ink")))])
    return legend_below(_figure(traces, layout))  # under the axis title, never on it


# ----------------------------------------------------------------------------------------------
# 5. landscapes
# ----------------------------------------------------------------------------------------------
def best_so_far_figure(study, *, labels: Mapping[str, str] | None = None, height: int = 340) -> go.Figure:
    """Best loss so far against gradient evaluations: plain descent, annealed noise (best of its runs),
    SAM (two gradients per step), and restarts one after another."""
    T = len(study.best["plain"])
    steps = np.arange(T)
    series = [("plain", steps, study.best["plain"], _lab(labels, "plain", "gradient descent")),
              ("noise", steps, study.best["noise"], _lab(labels, "noise", "annealed gradient noise")),
              ("sam", 2 * steps, study.best["sam"], _lab(labels, "sam", "SAM"))]
    traces = [dict(type="scatter", x=x, y=_f32(y), mode="lines", name=name, line=dict(color=_sgd(i), width=2),
                   meta=_opt(i))
              for i, (_, x, y, name) in enumerate(series)]
    rs = study.restarts
    traces.append(dict(type="scatter", x=rs.evals, y=_f32(rs.best_after), mode="lines+markers", line_shape="hv",
                       name=_lab(labels, "restarts", "restarts"), line=dict(color=_sgd(3), width=2), meta=_opt(3)))
    if rs.global_min is not None:
        traces.append(dict(type="scatter", x=[0, max(int(rs.evals[-1]), 2 * (T - 1))], y=[rs.global_min] * 2, mode="lines",
                           name=_lab(labels, "global", "global minimum"), line=dict(color="#000000", dash="dot"),
                           meta=_role("reference")))
    layout = base_layout(None, height,
                         xaxis=dict(title=dict(text=_lab(labels, "evals", "gradient evaluations"))),
                         yaxis=dict(title=dict(text=_lab(labels, "best", "best loss so far"))))
    return legend_below(_figure(traces, layout))  # under the axis title, never on it


def basins_figure(result, surface, *, title: str | None = None, height: int = 380,
                  labels: Mapping[str, str] | None = None) -> go.Figure:
    """One optimizer's basins of attraction: each start coloured by the minimum it reached (grey:
    none or diverged), minima as stars."""
    b = np.asarray(result.basin, dtype=float)
    k = max(1, len(surface.minima))
    colors = [MINIMA_COLORS[i % len(MINIMA_COLORS)] for i in range(k)]
    scale = [[0.0, "#BBBBBB"], [1.0 / (k + 1), "#BBBBBB"]]
    for i, c in enumerate(colors):
        scale += [[(i + 1) / (k + 1), c], [(i + 2) / (k + 1), c]]
    z = (b + 1) / (k + 1) + 0.5 / (k + 1)
    fig = heatmap(result.xs, result.ys, z, title=title, colorscale=scale, zmin=0, zmax=1, height=height,
                  hovertemplate=_lab(labels, "start", "start") + " (%{x:.2f}, %{y:.2f})<extra></extra>")
    fig.update_traces(showscale=False, meta=_role("basin"))
    if len(surface.minima):
        fig.add_trace(dict(type="scatter", x=surface.minima[:, 0], y=surface.minima[:, 1], mode="markers",
                           marker=dict(symbol="star", size=14, color=colors, line=dict(color="#000000", width=1)),
                           name=_lab(labels, "minima", "minima"), showlegend=False, meta=_role("minimum")))
    return fig


def slice_figure(study, *, labels: Mapping[str, str] | None = None, height: int = 420, log: bool = True) -> go.Figure:
    """The filter-normalized slice L(θ* + α d₁ + β d₂) as a contour map, θ* marked at the centre."""
    sl = study.slice
    z = np.log10(np.maximum(sl.loss, 1e-12)) if log else sl.loss
    zl = _lab(labels, "z", "log₁₀ loss" if log else "loss")
    tr = dict(type="contour", x=_f32(sl.alphas), y=_f32(sl.betas), z=np.round(z, 5).astype(np.float32),
              colorscale=style.SURFACE_COLORSCALE, ncontours=24,
              contours=dict(coloring="heatmap", showlines=True), line=dict(width=0.5, color="rgba(255,255,255,0.4)"),
              colorbar=dict(title=dict(text=zl, side="right"), thickness=14),
              hovertemplate=f"α = %{{x:.3f}}<br>β = %{{y:.3f}}<br>{zl} = %{{z:.4g}}<extra></extra>", meta=_role("surface"))
    layout = base_layout(None, height,
                         xaxis=dict(title=dict(text="α"), constrain="domain"),
                         yaxis=dict(title=dict(text="β"), scaleanchor="x", scaleratio=1, constrain="domain"))
    fig = _figure([tr], layout)
    fig.add_trace(dict(type="scatter", x=[0.0], y=[0.0], mode="markers", name=_lab(labels, "trained", "trained θ*"),
                       marker=dict(symbol="star", size=14, color=style.MINIMUM_COLOR, line=dict(color="#000000", width=1)),
                       meta=_role("minimum")))
    return fig
