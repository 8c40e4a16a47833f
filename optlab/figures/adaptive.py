r"""Figures and the per-step trace table of the chapter "Adaptive methods: from momentum to Adam".

Plotly only (no Streamlit).  Builders take optlab results (Trajectory, SweepResult, RangeTest) and
return ``go.Figure``; :func:`trace_table` returns rows of numbers read from a Trajectory's recorded
optimizer state, each with the formula that produced it.  Colours follow :mod:`.style`: every
optimizer keeps its colour; a second run of the same torch optimizer in a figure (a teaching
variant such as Adam without bias correction, AMSGrad = ``Adam(amsgrad=True)``, a scheduled run)
takes a variant colour, dashed when it is a teaching variant.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from . import core, style
from .core import base_layout, contour, legend_below, vector_arrows, window_of
from ..theory import critical_momentum, polyak_optimum, stability_limit
from ..i18n import domain
from ..optimizers import variants

_, N_, ngettext = domain("adaptive")

GREY = style.REFERENCE
DIVERGED_COLOR = style.DIVERGED
NOT_REACHED_COLOR = style.NOT_REACHED
REF = style.role_meta("reference")


def _fig(traces: Sequence[dict], layout: dict) -> go.Figure:
    # dict traces, no per-property validation, and no Plotly objects until a caller needs them
    # (core.LazyFigure): these builders run on every Streamlit rerun
    return core._figure(traces, layout)


def _f(a) -> list:
    """Rounded float list (small JSON, NaN kept as null)."""
    # Python floats, not NumPy scalars: np.isfinite on each scalar was most of this function's time
    # (the phase diagram calls it ten times per rerun); v - v is 0.0 exactly when v is finite
    return [float(f"{v:.6g}") if v - v == 0 else None for v in np.asarray(a, dtype=float).reshape(-1).tolist()]


def base_name(tr) -> str:
    """Colour key of a trajectory: the optimizer, or the torch optimizer a teaching variant modifies."""
    name = getattr(tr, "optimizer", "")
    return variants.base_of(name) if name in variants.variant_names() else name


def color_of(tr, variant: int = 0) -> str:
    return style.optimizer_color(base_name(tr), variant)


def meta_of(tr, variant: int = 0) -> dict:
    return style.optimizer_meta(base_name(tr), variant)


def variants_of(trs: Sequence[Any]) -> list[int]:
    """The variant of each trajectory in one figure (:mod:`.style` rule 2): the first run of a torch
    optimizer 0, every further run of one already drawn the next variant, counted over the figure."""
    return style.assign_variants([base_name(tr) for tr in trs])


def _dash_of(tr) -> str:
    return "dash" if getattr(tr, "optimizer", "") in variants.variant_names() else style.optimizer_dash(base_name(tr))


def as_run(tr, upto: int | None = None, *, label: str | None = None, dash: str | None = None) -> tuple:
    """``(label, xs, extra)`` for :func:`optlab.figures.core.contour`: the path up to step ``upto``,
    in the colour of its optimizer (variants: of their base optimizer, dashed)."""
    xs = tr.xs if upto is None else tr.xs[: int(upto) + 1]
    losses = None if tr.losses is None else (tr.losses if upto is None else tr.losses[: int(upto) + 1])
    dv = tr.diverged_at
    if upto is not None and np.ndim(dv) == 0 and dv > upto:
        dv = -1
    extra = {"name": base_name(tr), "losses": losses, "diverged_at": dv, "diverged_reason": tr.diverged_reason}
    if dash or getattr(tr, "optimizer", "") in variants.variant_names():
        extra["dash"] = dash or "dash"  # otherwise the contour gives repeated optimizers their own dash
    return (label or tr.label, xs, extra)


def paths(surface, trajectories: Iterable[Any], *, upto: int | None = None, height: int = 480,
          title: str | None = None, window=None, colorbar: bool = False) -> go.Figure:
    """Contour of ``surface`` with the paths (up to step ``upto``), variants dashed in their base colour."""
    return contour(surface, [as_run(t, upto) for t in trajectories], height=height, title=title,
                   window=window, colorbar=colorbar)


def log_axis(*arrays, title: str = "") -> dict:
    """A log y axis whose tick labels stay readable over any range: 1-2-5 steps within two decades,
    powers of ten beyond (Plotly otherwise labels every minor digit of a short log range)."""
    vals = np.concatenate([np.asarray(a, dtype=float).reshape(-1) for a in arrays] or [np.ones(1)])
    vals = vals[np.isfinite(vals) & (vals > 0)]
    axis = dict(type="log", title=dict(text=title), exponentformat="power")
    if vals.size == 0:
        return axis
    lo, hi = np.floor(np.log10(vals.min())), np.ceil(np.log10(vals.max()))
    span = hi - lo
    mant = (1, 2, 5) if span <= 2 else ((1, 3) if span <= 4 else (1,))
    every = max(1, int(np.ceil(span / 8)))
    ticks = [m * 10.0 ** e for e in np.arange(lo, hi + 1, every) for m in mant]
    ticks = [t for t in ticks if vals.min() / 1.5 <= t <= vals.max() * 1.5] or [10.0 ** lo]
    axis.update(tickvals=ticks, ticktext=[_tick(t) for t in ticks])
    return axis


def _tick(v: float) -> str:
    e = int(np.floor(np.log10(v) + 1e-9))
    m = v / 10.0 ** e
    if -2 <= e <= 3:
        return f"{v:g}"
    lead = "" if abs(m - 1) < 1e-9 else f"{m:g}·"
    return f"{lead}10{str(e).translate(_SUP)}"


def _vline(x, *, color: str = style.REFERENCE, dash: str = "dot", xref: str = "x", yref: str = "y domain",
           role: str = "reference") -> dict:
    return dict(type="line", x0=x, x1=x, y0=0, y1=1, xref=xref, yref=yref, line=dict(color=color, width=1.5, dash=dash),
                name=style.tag(style.role_meta(role)))


# ----------------------------------------------------------------------------------------------
# Momentum: the (learning rate, β) phase diagram
# ----------------------------------------------------------------------------------------------
def phase_diagram(res, lam_min: float, lam_max: float, *, current: tuple[float, float] | None = None,
                  theory: bool = True, shrink: float = 1e6, height: int = 480, title: str | None = None) -> go.Figure:
    r"""Steps needed to shrink the loss by ``shrink`` over an (lr, β) grid (one batched sweep).

    ``res`` is an :class:`optlab.SweepResult` over ``{"lr": …, "momentum": …}``.  Cells: steps to
    the target (colour, log scale), grey where the target was not reached within the run, dark red
    where the run diverged.  With ``theory`` the heavy-ball curves for eigenvalues λ_min … λ_max
    are drawn: the critically damped momentum β*(η) = max_λ (1 − √(ηλ))² (white), the stability
    limit η = 2(1 + β)/λ_max (dashed) and Polyak's optimum (star).  ``current`` marks the user's
    (lr, β).
    """
    lrs = np.asarray(res.grid["lr"])[:, 0]
    betas = np.asarray(res.grid["momentum"])[0, :]
    st = np.asarray(res.steps_to_tol, dtype=float).T            # (β, lr)
    dv = np.asarray(res.diverged, dtype=bool).T
    reached = (st >= 0) & ~dv          # a run that reached the target and then blew up counts as diverged
    z = np.where(reached, np.maximum(st, 1), np.nan)
    z_log = np.where(reached, np.log10(z), np.nan)
    lo = float(np.nanmin(z_log)) if reached.any() else 0.0
    hi = float(np.log10(max(res.steps, 2)))
    ticks = [v for v in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000) if lo - 1e-9 <= np.log10(v) <= hi + 1e-9]
    status = np.where(dv, _("diverged"), np.where(reached, "", _("not reached in {n} steps").format(n=res.steps)))
    # a NumPy string array, not .tolist(): go.Figure deep-copies list data item by item (it was most of
    # this figure's server time); Plotly sends a string array as the same JSON list
    custom = np.stack([np.where(reached, z, np.nan), status], axis=-1)
    traces: list[dict] = [
        dict(type="heatmap", x=_f(lrs), y=_f(betas), z=np.where(~reached & ~dv, 0.0, np.nan).tolist(),
             meta=style.role_meta("not reached"),
             colorscale=[[0, NOT_REACHED_COLOR], [1, NOT_REACHED_COLOR]], showscale=False, hoverinfo="skip",
             name=_("not reached")),
        dict(type="heatmap", x=_f(lrs), y=_f(betas), z=np.where(dv, 0.0, np.nan).tolist(), meta=style.role_meta("diverged"),
             colorscale=[[0, DIVERGED_COLOR], [1, DIVERGED_COLOR]], showscale=False, hoverinfo="skip",
             name=_("diverged")),
        dict(type="heatmap", x=_f(lrs), y=_f(betas), z=np.round(z_log, 4).tolist(), customdata=custom,
             colorscale="Viridis", reversescale=True, zmin=lo, zmax=hi, hoverongaps=True, name=_("steps"),
             colorbar=dict(title=dict(text=_("steps to shrink<br>the loss {times}").format(times=_times(shrink)), side="right"),
                           tickvals=[float(np.log10(v)) for v in ticks], ticktext=[str(v) for v in ticks], thickness=14),
             hovertemplate=_("lr = %{x:.3g}<br>β = %{y:.3g}<br>steps: %{customdata[0]:.0f} %{customdata[1]}") + "<extra></extra>"),
    ]
    # legend swatches for the two flat colours
    for name, color, role in ((_("diverged"), DIVERGED_COLOR, "diverged"),
                              (_("not reached in {n} steps").format(n=res.steps), NOT_REACHED_COLOR, "not reached")):
        traces.append(dict(type="scatter", x=[None], y=[None], mode="markers", name=name, meta=style.role_meta(role),
                           marker=dict(symbol="square", size=12, color=color, line=dict(color=style.GUIDE, width=1))))
    b_lo, b_hi = float(betas.min()), float(betas.max())
    if theory:
        eta = np.geomspace(lrs.min(), lrs.max(), 200)
        bstar = critical_momentum(eta, [lam_min, lam_max])
        ok = (bstar >= b_lo) & (bstar <= b_hi)
        cx, cy = _f(np.where(ok, eta, np.nan)), _f(np.where(ok, bstar, np.nan))
        # a dark casing under the white line: visible on light cells and in the (white) legend
        traces.append(dict(type="scatter", x=cx, y=cy, mode="lines", name=_("critical damping β*(lr)"),
                           legendgroup="crit", line=dict(color=style.INK, width=5.5), hoverinfo="skip",
                           meta=style.role_meta("reference")))
        traces.append(dict(type="scatter", x=cx, y=cy, mode="lines", name=_("critical damping β*(lr)"),
                           legendgroup="crit", showlegend=False, line=dict(color="white", width=2.5),
                           meta=style.role_meta("reference"),
                           hovertemplate=_("critically damped: lr = %{x:.3g}, β* = %{y:.3f}") + "<extra></extra>"))
        b_line = np.linspace(b_lo, b_hi, 50)
        lim = stability_limit(b_line, lam_max)
        keep = (lim >= lrs.min()) & (lim <= lrs.max())
        traces.append(dict(type="scatter", x=_f(np.where(keep, lim, np.nan)), y=_f(np.where(keep, b_line, np.nan)),
                           mode="lines", name=_("stability limit lr = 2(1+β)/λ_max"),
                           line=dict(color=DIVERGED_COLOR, width=2.5, dash="dash"), meta=style.role_meta("diverged"),
                           hovertemplate=_("stability limit: lr = %{x:.3g} at β = %{y:.3f}") + "<extra></extra>"))
        p_lr, p_b, p_rho = polyak_optimum(lam_min, lam_max)
        if lrs.min() <= p_lr <= lrs.max() and b_lo <= p_b <= b_hi:
            traces.append(dict(type="scatter", x=[p_lr], y=[p_b], mode="markers", name=_("best pair (Polyak)"),
                               marker=dict(symbol="star", size=18, color=style.MINIMUM_COLOR, line=dict(color="black", width=1)),
                               meta=style.role_meta("highlight"),
                               hovertemplate=_("Polyak's optimum: lr = {lr:.3g}, β = {b:.3f}, rate {rho:.3f}").format(lr=p_lr, b=p_b, rho=p_rho) + "<extra></extra>"))
    if current is not None:
        traces.append(dict(type="scatter", x=[float(current[0])], y=[float(current[1])], mode="markers",
                           name=_("your choice"), marker=dict(symbol="circle-open", size=16, color=style.INK, line=dict(width=3)),
                           meta=style.role_meta("ink"),
                           hovertemplate=_("your choice: lr = %{x:.3g}, β = %{y:.3f}") + "<extra></extra>"))
    layout = base_layout(title, height)
    layout.update(xaxis=dict(log_axis(lrs, title=_("learning rate (log scale)")), showgrid=False),
                  yaxis=dict(title=dict(text=_("momentum β")), range=[b_lo - 0.01, b_hi + 0.01], showgrid=False),
                  plot_bgcolor="white",
                  margin=dict(l=10, r=10, t=30 if title is None else 60, b=10))
    return legend_below(_fig(traces, layout))  # under the axis title, never on it


# ----------------------------------------------------------------------------------------------
# State glyphs at one step
# ----------------------------------------------------------------------------------------------
MOMENT_KEYS = {  # optimizer -> (state key of the arrow in gradient units, its name)
    "sgd": ("momentum_buffer", N_("momentum buffer b")),
    "adam": ("m_hat", N_("first moment m̂")),
    "adamw": ("m_hat", N_("first moment m̂")),
    "radam": ("m_hat", N_("first moment m̂")),
    "nadam": ("exp_avg", N_("first moment m")),
    "adam_no_bias_correction": ("exp_avg", N_("first moment m (uncorrected)")),
}


def glyph_vectors(tr, step: int) -> dict[str, Any] | None:
    """Point θₜ₋₁, gradient gₜ, momentum / first moment (or None) and the actual step Δθₜ of step ``step``
    (1-based) of a full-record trajectory; None if the run had diverged before that step."""
    t = int(step)
    if tr.grads is None or not 1 <= t <= len(tr.grads):
        return None
    p, u = tr.xs[t - 1], tr.updates[t - 1]
    if not (np.all(np.isfinite(p)) and np.all(np.isfinite(u))):
        return None
    key, label = MOMENT_KEYS.get(tr.optimizer, (None, None))
    m = None
    if key and key in tr.states:
        m = np.asarray(tr.states[key][t - 1], dtype=float)
    return dict(point=np.asarray(p, float), grad=np.asarray(tr.grads[t - 1], float), moment=m,
                moment_label=_(label) if label else label, update=np.asarray(u, float))


def glyph_scales(vectors: Sequence[dict | None], window) -> tuple[float, float]:
    """``(gradient scale, step magnification)`` for drawing: gradient-unit arrows (g, m) share one
    scale so that the longest is 22 % of the window's width; steps are drawn to scale, magnified by
    a power of 10 only when the longest would be shorter than 4 % of the width."""
    (x0, x1), (y0, y1) = window
    W = max(x1 - x0, y1 - y0)
    gmax = max([np.linalg.norm(v["grad"]) for v in vectors if v] +
               [np.linalg.norm(v["moment"]) for v in vectors if v and v["moment"] is not None] + [0.0])
    umax = max([np.linalg.norm(v["update"]) for v in vectors if v] + [0.0])
    g_scale = 0.22 * W / gmax if gmax > 0 else 1.0
    mag = 1.0
    if 0 < umax < 0.04 * W:
        mag = float(10 ** np.ceil(np.log10(0.04 * W / umax)))
    return g_scale, mag


def glyph_window(surface, vectors: Sequence[dict | None], *, min_fraction: float = 0.25):
    """A square window around the points where the shown step starts and ends (padded), at least
    ``min_fraction`` of the surface's window wide and never larger than it."""
    (x0, x1), (y0, y1) = window_of(surface)
    W = max(x1 - x0, y1 - y0)
    pts = [v["point"] for v in vectors if v] + [v["point"] + v["update"] for v in vectors if v]
    if not pts:
        return ((x0, x1), (y0, y1))
    P = np.array(pts)
    lo, hi = P.min(axis=0), P.max(axis=0)
    c = (lo + hi) / 2
    h = max(0.75 * float(np.max(hi - lo)), min_fraction * W / 2)
    if 2 * h >= W:
        return ((x0, x1), (y0, y1))
    return ((float(c[0] - h), float(c[0] + h)), (float(c[1] - h), float(c[1] + h)))


def state_glyphs(surface, trajectories: Sequence[Any], step: int, *, zoom: bool = True, height: int = 540,
                 title: str | None = None) -> go.Figure:
    """Contour with each path up to step ``step`` and, at the point θₜ₋₁ where step t starts, three
    arrows in the optimizer's colour: −gₜ (dotted), −(momentum or first moment) (dashed), the step
    Δθₜ actually taken (thick).  Gradient-unit arrows share one scale; the step is drawn to scale
    (or magnified by a stated power of 10), see :func:`glyph_scales`.  With ``zoom`` the view is
    :func:`glyph_window` around the step."""
    vecs = [glyph_vectors(t, step) for t in trajectories]
    win = glyph_window(surface, vecs) if zoom else window_of(surface)
    fig = contour(surface, [as_run(t, step) for t in trajectories], height=height, title=title, colorbar=False,
                  window=win)
    g_scale, mag = glyph_scales(vecs, win)
    for tr, v in zip(trajectories, vecs):
        if v is None:
            continue
        c, meta = color_of(tr), meta_of(tr)
        p = v["point"]
        g, u = v["grad"], v["update"]
        vector_arrows(p, -g, fig=fig, color=c, scale=g_scale, width=2, dash="dot", showlegend=False, meta=meta,
                      name=_("{name}: −g").format(name=tr.label), hovertext=[f"{tr.label}: −g{_sub(step)} = ({-g[0]:.4g}, {-g[1]:.4g})"])
        if v["moment"] is not None:
            m = v["moment"]
            vector_arrows(p, -m, fig=fig, color=c, scale=g_scale, width=2.5, dash="dash", showlegend=False, meta=meta,
                          name=f"{tr.label}: −{v['moment_label']}",
                          hovertext=[f"{tr.label}: −{v['moment_label']} = ({-m[0]:.4g}, {-m[1]:.4g})"])
        vector_arrows(p, u, fig=fig, color=c, scale=mag, width=5, head_size=15, showlegend=False, meta=meta,
                      name=_("{name}: step Δθ").format(name=tr.label),
                      hovertext=[f"{tr.label}: Δθ{_sub(step)} = ({u[0]:.4g}, {u[1]:.4g})"
                                 + (_(", drawn ×{m:g}").format(m=mag) if mag != 1 else _(", to scale"))])
    keys = ((_("−g (gradient, dotted)"), "dot", 2), (_("−momentum / first moment (dashed)"), "dash", 2.5),
            (_("step Δθ ×{m:g}").format(m=mag) if mag != 1 else _("step Δθ (to scale)"), "solid", 5))
    for name, dash, width in keys:
        fig.add_trace(dict(type="scatter", x=[None], y=[None], mode="lines", name=name, meta=REF,
                           line=dict(color=GREY, dash=dash, width=width), hoverinfo="skip"))
    fig.update_layout(legend=dict(font=dict(size=12)))
    return fig


_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _sub(k) -> str:
    return str(int(k)).translate(_SUB)


_SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def _times(factor: float) -> str:
    """``1e6`` -> ``"10⁶×"`` (a power of ten), else ``"1234×"``."""
    k = np.log10(float(factor))
    return f"10{str(int(round(k))).translate(_SUP)}×" if abs(k - round(k)) < 1e-9 else f"{factor:g}×"


def accumulators(adagrad_tr, rmsprop_tr, step: int, *, height: int = 360) -> go.Figure:
    r"""AdaGrad's √Sₜ (a growing sum of g²) against RMSProp's √vₜ (a decaying average of g²), per
    coordinate: left, their history over the steps (log scale) with step t marked; right, their
    values at step t as bars on one axis (to scale), with the per-coordinate step size γ/(√· + ε)
    in the hover."""
    traces = []
    t = int(step)
    hist = []
    for (tr, key, sym), variant in zip(((adagrad_tr, "sum", "√S"), (rmsprop_tr, "square_avg", "√v")),
                                       variants_of((adagrad_tr, rmsprop_tr))):
        acc = np.sqrt(np.asarray(tr.states[key], dtype=float))          # (T, 2)
        hist.append(acc)
        c, meta = color_of(tr, variant), meta_of(tr, variant)
        short = tr.label.split(" (")[0]
        for i, (coord, dash) in enumerate((("x", "solid"), ("y", "dash"))):
            traces.append(dict(type="scatter", x=list(range(1, len(acc) + 1)), y=_f(acc[:, i]), mode="lines",
                               name=f"{tr.label}: {sym} ({coord})", line=dict(color=c, width=2.2, dash=dash),
                               xaxis="x", yaxis="y", meta=meta,
                               hovertemplate=f"{short} {sym}({coord})<br>" + _("step %{x}: %{y:.4g}") + "<extra></extra>"))
        vals = acc[t - 1] if t <= len(acc) else np.full(2, np.nan)
        lr = float(np.asarray(tr.lrs)[t - 1]) if tr.lrs is not None and t <= len(tr.lrs) else np.nan
        if "lr_t" in tr.states:  # AdaGrad's decayed γ̃
            lr = float(np.asarray(tr.states["lr_t"][t - 1]).reshape(-1)[0])
        denom = np.asarray(tr.states["denom"][t - 1], dtype=float) if "denom" in tr.states else np.full(2, np.nan)
        hover = [_("{name} {sym}({coord}) at step {t} = {v:.4g}<br>per-coordinate step size γ/({sym}+ε) = {s:.4g}").format(
                     name=short, sym=sym, coord=coord, t=t, v=v, s=lr / d)
                 for coord, v, d in zip("xy", vals, denom)]
        traces.append(dict(type="bar", x=["x", "y"], y=_f(vals), name=_("{name} at step {t}").format(name=short, t=t), marker=dict(color=c), meta=meta,
                           xaxis="x2", yaxis="y2", showlegend=False, hovertext=hover,
                           hovertemplate="%{hovertext}<extra></extra>", text=[f"{short}<br>{v:.3g}" for v in vals],
                           textposition="outside", cliponaxis=False, textfont=dict(size=11)))
    top = max([float(np.nanmax(h[t - 1])) for h in hist if t <= len(h)] + [1e-12])
    layout = base_layout(None, height, hovermode="closest", barmode="group")
    layout.update(
        xaxis=dict(domain=[0.0, 0.6], title=dict(text=_("step t"))),
        yaxis=log_axis(*hist, title=_("accumulator (root, log scale)")),
        xaxis2=dict(domain=[0.7, 1.0], anchor="y2", title=dict(text=_("coordinate"))),
        yaxis2=dict(anchor="x2", title=dict(text=_("value at step {t}").format(t=t)), range=[0, top * 1.3]),
        shapes=[_vline(t)],
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0.0, font=dict(size=12)),
    )
    return _fig(traces, layout)


# ----------------------------------------------------------------------------------------------
# The per-step trace table
# ----------------------------------------------------------------------------------------------
def _n(v) -> str:
    return f"{float(v):.6g}"


def trace_table(tr, step: int) -> list[dict[str, Any]]:
    r"""The numbers of step ``step`` (1-based) of a full-record trajectory, one row per quantity.

    Rows: ``quantity``, ``formula`` (with this run's hyperparameters substituted), ``x`` and ``y``
    (the two coordinates; a scalar such as m̂'s factor is in ``x`` with ``y`` None).  Every number is
    read from the engine's record (``tr.grads``, ``tr.states``, ``tr.updates``), never recomputed,
    so the table shows what the optimizer did; the formulas are torch's (see the optimizer's LaTeX).
    """
    t = int(step)
    if tr.grads is None:
        raise ValueError("trace_table needs a trajectory run with record='full'")
    T = len(tr.grads)
    if not 1 <= t <= T:
        raise ValueError(f"step must be between 1 and {T}; got {step!r}")
    h = tr.hyper
    S = tr.states
    name = tr.optimizer
    rows: list[dict[str, Any]] = []

    def vec(q, formula, v):
        v = np.asarray(v, dtype=float).reshape(-1)
        rows.append(dict(quantity=q, formula=formula, x=float(v[0]), y=float(v[1]) if v.size > 1 else None))

    def scal(q, formula, v):
        rows.append(dict(quantity=q, formula=formula, x=float(np.asarray(v, dtype=float).reshape(-1)[0]), y=None))

    def st(key):
        return np.asarray(S[key][t - 1], dtype=float)

    lr = float(np.asarray(tr.lrs)[t - 1]) if tr.lrs is not None else float(np.asarray(h["lr"]))
    theta = np.asarray(tr.xs[t - 1], dtype=float)
    vec(f"θ{_sub(t - 1)}", _("position before the step"), theta)
    g = np.asarray(tr.grads[t - 1], dtype=float)
    vec(f"g{_sub(t)}", f"∇f(θ{_sub(t - 1)})", g)
    wd = h.get("weight_decay", 0.0)
    decoupled = name == "adamw" or bool(h.get("decoupled_weight_decay", False))
    if wd and not decoupled:
        g = g + float(wd) * theta
        vec(f"g{_sub(t)} + λθ", _("L2 term added first: g + {wd}·θ{t}").format(wd=_n(wd), t=_sub(t - 1)), g)
    if wd and decoupled:
        vec("decay −γλθ", _("decoupled: θ ← θ·(1 − {lr}·{wd}) before the step").format(lr=_n(lr), wd=_n(wd)), -lr * float(wd) * theta)

    if name == "sgd":
        mu = float(h.get("momentum", 0.0))
        if mu:
            damp = float(h.get("dampening", 0.0))
            first = _("b₁ = g₁ (torch starts the buffer at g)")
            later = f"{_n(mu)}·bₜ₋₁ + {_n(1 - damp)}·gₜ"
            vec(f"b{_sub(t)}", first if t == 1 else later, st("momentum_buffer"))
            if h.get("nesterov"):
                vec("gₜ + μbₜ", _("Nesterov direction: gₜ + {mu}·bₜ").format(mu=_n(mu)), g + mu * st("momentum_buffer"))
                vec(f"Δθ{_sub(t)}", f"−γ·(gₜ + μbₜ) = −{_n(lr)}·(gₜ + μbₜ)", tr.updates[t - 1])
            else:
                vec(f"Δθ{_sub(t)}", f"−γ·bₜ = −{_n(lr)}·bₜ", tr.updates[t - 1])
        else:
            vec(f"Δθ{_sub(t)}", f"−γ·gₜ = −{_n(lr)}·gₜ", tr.updates[t - 1])
    elif name == "adagrad":
        tau = float(h.get("initial_accumulator_value", 0.0))
        vec(f"S{_sub(t)}", f"Sₜ₋₁ + gₜ²  (S₀ = {_n(tau)})", st("sum"))
        vec("√Sₜ + ε", f"√Sₜ + {_n(h['eps'])}", st("denom"))
        scal("γ̃ₜ", f"γ/(1 + (t−1)·η) = {_n(lr)}/(1 + {t - 1}·{_n(h.get('lr_decay', 0.0))})", st("lr_t"))
        vec(f"Δθ{_sub(t)}", "−γ̃ₜ·gₜ/(√Sₜ + ε)", tr.updates[t - 1])
    elif name == "rmsprop":
        a = float(h["alpha"])
        vec(f"v{_sub(t)}", _("{a}·vₜ₋₁ + {b}·gₜ²  (v₀ = 0, no bias correction)").format(a=_n(a), b=_n(1 - a)), st("square_avg"))
        if h.get("centered"):
            vec(f"ḡ{_sub(t)}", f"{_n(a)}·ḡₜ₋₁ + {_n(1 - a)}·gₜ", st("grad_avg"))
            vec("√(vₜ − ḡₜ²) + ε", f"√(vₜ − ḡₜ²) + {_n(h['eps'])}", st("denom"))
        else:
            vec("√vₜ + ε", f"√vₜ + {_n(h['eps'])}", st("denom"))
        mu = float(h.get("momentum", 0.0))
        if mu:
            vec(f"b{_sub(t)}", f"{_n(mu)}·bₜ₋₁ + gₜ/(√vₜ + ε)  (b₀ = 0)", st("momentum_buffer"))
            vec(f"Δθ{_sub(t)}", f"−γ·bₜ = −{_n(lr)}·bₜ", tr.updates[t - 1])
        else:
            vec(f"Δθ{_sub(t)}", f"−γ·gₜ/(√vₜ + ε) = −{_n(lr)}·gₜ/(√vₜ + ε)", tr.updates[t - 1])
    elif name == "adadelta":
        r = float(h["rho"])
        vec(f"v{_sub(t)}", f"{_n(r)}·vₜ₋₁ + {_n(1 - r)}·gₜ²", st("square_avg"))
        vec("√(vₜ + ε)", f"√(vₜ + {_n(h['eps'])})", st("denom"))
        vec(f"u{_sub(t)}", _("{a}·uₜ₋₁ + {b}·Δxₜ²  (after the step)").format(a=_n(r), b=_n(1 - r)), st("acc_delta"))
        vec(f"Δθ{_sub(t)}", f"−γ·√(uₜ₋₁ + ε)/√(vₜ + ε)·gₜ, γ = {_n(lr)}", tr.updates[t - 1])
    elif name in ("adam", "adamw", "adam_no_bias_correction", "nadam", "radam"):
        b1, b2 = (float(np.asarray(b)) for b in h["betas"])
        bc1, bc2 = 1 - b1 ** t, 1 - b2 ** t
        vec(f"m{_sub(t)}", f"{_n(b1)}·mₜ₋₁ + {_n(1 - b1)}·gₜ", st("exp_avg"))
        vec(f"v{_sub(t)}", f"{_n(b2)}·vₜ₋₁ + {_n(1 - b2)}·gₜ²", st("exp_avg_sq"))
        eps = _n(h["eps"])
        if name == "adam_no_bias_correction":
            vec("√vₜ + ε", _("√vₜ + {eps}  (no bias correction)").format(eps=eps), st("denom"))
            vec(f"Δθ{_sub(t)}", f"−γ·mₜ/(√vₜ + ε) = −{_n(lr)}·mₜ/(√vₜ + ε)", tr.updates[t - 1])
        elif name in ("adam", "adamw"):
            if h.get("amsgrad"):
                vec(f"v{_sub(t)}ᵐᵃˣ", _("max(vᵐᵃˣₜ₋₁, vₜ)  (max of the raw v)"), st("max_exp_avg_sq"))
            vec(f"m̂{_sub(t)}", f"mₜ/(1 − β₁ᵗ) = mₜ/{_n(bc1)}", st("m_hat"))
            vhat_src = "vᵐᵃˣₜ" if h.get("amsgrad") else "vₜ"
            vec(f"v̂{_sub(t)}", f"{vhat_src}/(1 − β₂ᵗ) = {vhat_src}/{_n(bc2)}", st("v_hat"))
            vec("√v̂ₜ + ε", f"√v̂ₜ + {eps}", st("denom"))
            vec(f"Δθ{_sub(t)}", f"−γ·m̂ₜ/(√v̂ₜ + ε) = −{_n(lr)}·m̂ₜ/(√v̂ₜ + ε)"
                + ("  (+ the decay)" if decoupled and wd else ""), tr.updates[t - 1])
        elif name == "nadam":
            psi = float(h["momentum_decay"])
            vec(f"v̂{_sub(t)}", f"vₜ/(1 − β₂ᵗ) = vₜ/{_n(bc2)}", st("v_hat"))
            vec("√v̂ₜ + ε", f"√v̂ₜ + {eps}", st("denom"))
            scal(f"μ{_sub(t)}", f"β₁(1 − ½·0.96^(t·ψ)) = {_n(b1)}·(1 − ½·0.96^({t}·{_n(psi)}))", st("mu_t"))
            scal(f"Π{_sub(t)}", "μ₁·μ₂·…·μₜ", st("mu_product"))
            vec(f"Δθ{_sub(t)}", f"−γ(1−μₜ)/(1−Πₜ)·gₜ/(√v̂ₜ+ε) − γμₜ₊₁/(1−Πₜμₜ₊₁)·mₜ/(√v̂ₜ+ε), γ = {_n(lr)}",
                tr.updates[t - 1])
        else:  # radam
            vec(f"m̂{_sub(t)}", f"mₜ/(1 − β₁ᵗ) = mₜ/{_n(bc1)}", st("m_hat"))
            rho = float(st("rho_t").reshape(-1)[0])
            scal(f"ρ{_sub(t)}", f"ρ∞ − 2t·β₂ᵗ/(1 − β₂ᵗ), ρ∞ = {_n(2 / (1 - b2) - 1)}", rho)
            if rho > 5:
                scal(f"r{_sub(t)}", "√((ρₜ−4)(ρₜ−2)ρ∞ / ((ρ∞−4)(ρ∞−2)ρₜ))", st("rect"))
                vec(f"Δθ{_sub(t)}", f"ρₜ > 5: −γ·m̂ₜ·rₜ·√(1−β₂ᵗ)/(√vₜ + ε), γ = {_n(lr)}", tr.updates[t - 1])
            else:
                vec(f"Δθ{_sub(t)}", _("ρₜ ≤ 5, warm-up: −γ·m̂ₜ = −{lr}·m̂ₜ (no division by √v)").format(lr=_n(lr)),
                    tr.updates[t - 1])
    else:
        vec(f"Δθ{_sub(t)}", "θₜ − θₜ₋₁", tr.updates[t - 1])
    vec(f"θ{_sub(t)}", f"θ{_sub(t - 1)} + Δθ{_sub(t)}", tr.xs[t])
    return rows


# ----------------------------------------------------------------------------------------------
# The Adam family's differences
# ----------------------------------------------------------------------------------------------
def step_lengths(tr) -> np.ndarray:
    """‖Δθₜ‖ for t = 1…T."""
    return np.linalg.norm(np.asarray(tr.updates, dtype=float), axis=-1)


def bias_correction_figure(tr_adam, tr_raw, beta1: float, beta2: float, *, height: int = 360) -> go.Figure:
    r"""Step length ‖Δθₜ‖ of Adam and of Adam without bias correction (left axis, log), and the factor
    (1 − β₁ᵗ)/√(1 − β₂ᵗ) by which the uncorrected step is longer for a steady gradient (right axis)."""
    T = len(tr_adam.updates)
    t = np.arange(1, T + 1)
    traces = []
    for tr, variant in zip((tr_adam, tr_raw), variants_of((tr_adam, tr_raw))):
        traces.append(dict(type="scatter", x=t.tolist(), y=_f(step_lengths(tr)), mode="lines", name=f"{tr.label}: ‖Δθₜ‖",
                           line=dict(color=color_of(tr, variant), width=2.4, dash=_dash_of(tr)), meta=meta_of(tr, variant),
                           hovertemplate=f"{tr.label}<br>" + _("step %{x}: ‖Δθ‖ = %{y:.4g}") + "<extra></extra>"))
    fac = variants.uncorrected_step_factor(beta1, beta2, t)
    traces.append(dict(type="scatter", x=t.tolist(), y=_f(fac), mode="lines", yaxis="y2",
                       name=_("(1 − β₁ᵗ)/√(1 − β₂ᵗ) (right axis)"), line=dict(color=GREY, width=2, dash="dot"), meta=REF,
                       hovertemplate=_("step %{x}: uncorrected/corrected = %{y:.3f}") + "<extra></extra>"))
    layout = base_layout(None, height, hovermode="x unified")
    layout.update(xaxis=dict(title=dict(text=_("step t"))),
                  yaxis=log_axis(step_lengths(tr_adam), step_lengths(tr_raw), title=_("step length ‖Δθₜ‖")),
                  yaxis2=dict(title=dict(text=_("length ratio (dotted)")), overlaying="y", side="right",
                              range=[0, float(np.nanmax(fac)) * 1.1], tickmode="auto", nticks=6, showgrid=False,
                              zeroline=False),
                  legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0.0, font=dict(size=12)))
    return _fig(traces, layout)


def decay_figure(surface, tr_l2, tr_w, l2_point, *, height: int = 480) -> go.Figure:
    """Paths of Adam with L2 and AdamW, the minimum of f (★) and the minimizer of f + ½λ‖θ‖² (◆),
    where a coupled-L2 run can stop."""
    fig = paths(surface, [tr_l2, tr_w], height=height)
    p = np.asarray(l2_point, dtype=float)
    fig.add_trace(dict(type="scatter", x=[float(p[0])], y=[float(p[1])], mode="markers",
                       name=_("minimum of f + ½λ‖θ‖²"), marker=dict(symbol="diamond", size=13, color="white",
                                                           line=dict(color=style.INK, width=2)),
                       meta=style.role_meta("closed form"),
                       hovertemplate=_("minimum of f + ½λ‖θ‖²: (%{x:.4g}, %{y:.4g})") + "<extra></extra>"))
    return fig


def decay_pull_figure(tr_l2, tr_w, weight_decay: float, *, height: int = 320) -> go.Figure:
    r"""How hard the weight decay pulls each coordinate per step: AdamW moves θᵢ by γλ|θᵢ| (in
    parameter units, whatever the gradients); in Adam with L2 the term λθᵢ goes through the
    adaptive division, ≈ γλ|θᵢ|/(√v̂ᵢ + ε), so coordinates with a large gradient history are
    barely regularized."""
    traces = []
    lam = float(weight_decay)
    for (tr, coupled), variant in zip(((tr_l2, True), (tr_w, False)), variants_of((tr_l2, tr_w))):
        xs = np.asarray(tr.xs[:-1], dtype=float)
        lr = np.asarray(tr.lrs, dtype=float).reshape(-1, 1)
        pull = lr * lam * np.abs(xs)
        if coupled:
            pull = pull / np.asarray(tr.states["denom"], dtype=float)
        for i, (coord, dash) in enumerate((("x", "solid"), ("y", "dot"))):
            traces.append(dict(type="scatter", x=list(range(1, len(pull) + 1)),
                               y=_f(np.where(pull[:, i] > 1e-12, pull[:, i], np.nan)),
                               mode="lines", name=f"{tr.label} ({coord})", meta=meta_of(tr, variant),
                               line=dict(color=color_of(tr, variant), width=2.2, dash=dash),
                               hovertemplate=f"{tr.label} ({coord})<br>" + _("step %{x}: pull %{y:.3g}") + "<extra></extra>"))
    layout = base_layout(None, height, hovermode="x unified")
    layout.update(xaxis=dict(title=dict(text=_("step t"))),
                  yaxis=log_axis(*[t["y"] for t in traces if t["y"]], title=_("decay's move per step")))
    return _fig(traces, layout)


def amsgrad_figure(tr_adam, tr_ams, *, height: int = 340) -> go.Figure:
    r"""The denominator √v̂ₜ + ε of each coordinate (one panel each), Adam (solid) against AMSGrad
    (dashed; the same optimizer, ``Adam(amsgrad=True)``): Adam's falls again when the gradients calm
    down, so its steps grow back; AMSGrad's is built on max(v) and cannot fall that way."""
    traces = []
    for (tr, dash), variant in zip(((tr_adam, "solid"), (tr_ams, "dash")), variants_of((tr_adam, tr_ams))):
        d = np.asarray(tr.states["denom"], dtype=float)
        for i, coord in enumerate(("x", "y")):
            ax = "" if i == 0 else "2"
            traces.append(dict(type="scatter", x=list(range(1, len(d) + 1)), y=_f(d[:, i]), mode="lines",
                               name=tr.label, legendgroup=tr.label, showlegend=i == 0, xaxis=f"x{ax}", yaxis=f"y{ax}",
                               line=dict(color=color_of(tr, variant), width=2.4, dash=dash), meta=meta_of(tr, variant),
                               hovertemplate=f"{tr.label} ({coord})<br>" + _("step %{x}: %{y:.4g}") + "<extra></extra>"))
    layout = base_layout(None, height, hovermode="x unified")
    layout.update(xaxis=dict(domain=[0.0, 0.46], title=dict(text=_("step t"))),
                  yaxis=log_axis(*[np.asarray(t.states["denom"])[:, 0] for t in (tr_adam, tr_ams)],
                                 title=_("√v̂ₜ + ε, coordinate x")),
                  xaxis2=dict(domain=[0.58, 1.0], anchor="y2", title=dict(text=_("step t"))),
                  yaxis2=dict(anchor="x2", **log_axis(*[np.asarray(t.states["denom"])[:, 1] for t in (tr_adam, tr_ams)],
                                                     title=_("coordinate y"))))
    return _fig(traces, layout)


def nadam_schedule_figure(tr_nadam, beta1: float, *, height: int = 300) -> go.Figure:
    """torch's NAdam momentum schedule μₜ = β₁(1 − ½·0.96^{tψ}) (recorded by the engine) against the
    constant β₁ of the textbook / optax NAdam."""
    mu = np.asarray(tr_nadam.states["mu_t"], dtype=float).reshape(len(tr_nadam.updates), -1)[:, 0]
    t = list(range(1, len(mu) + 1))
    traces = [dict(type="scatter", x=t, y=_f(mu), mode="lines", name=_("torch: μₜ"), line=dict(color=color_of(tr_nadam), width=2.4),
                   meta=meta_of(tr_nadam),
                   hovertemplate=_("step %{x}: μ = %{y:.4f}") + "<extra></extra>"),
              dict(type="scatter", x=t, y=[float(beta1)] * len(t), mode="lines", name=_("textbook / optax: β₁"),
                   line=dict(color=GREY, width=2, dash="dash"), hovertemplate="β₁ = %{y:.3f}<extra></extra>", meta=REF)]
    layout = base_layout(None, height, hovermode="x unified")
    layout.update(xaxis=dict(title=dict(text=_("step t"))), yaxis=dict(title=dict(text=_("momentum used at step t"))))
    return _fig(traces, layout)


def radam_figure(tr_radam, tr_adam, *, height: int = 380) -> go.Figure:
    r"""Left: step lengths of RAdam and Adam (log); right: RAdam's ρₜ against the threshold 5 and
    its rectifier rₜ — the warm-up steps (ρₜ ≤ 5) are shaded in both."""
    T = len(tr_radam.updates)
    t = np.arange(1, T + 1)
    rho = np.asarray(tr_radam.states["rho_t"], dtype=float).reshape(T, -1)[:, 0]
    rect = np.asarray(tr_radam.states["rect"], dtype=float).reshape(T, -1)[:, 0]
    warm = t[rho <= 5]
    traces = []
    for tr, variant in zip((tr_radam, tr_adam), variants_of((tr_radam, tr_adam))):
        traces.append(dict(type="scatter", x=t.tolist(), y=_f(step_lengths(tr)), mode="lines", name=f"{tr.label}: ‖Δθₜ‖",
                           line=dict(color=color_of(tr, variant), width=2.4), xaxis="x", yaxis="y", meta=meta_of(tr, variant),
                           hovertemplate=f"{tr.label}<br>" + _("step %{x}: ‖Δθ‖ = %{y:.4g}") + "<extra></extra>"))
    traces.append(dict(type="scatter", x=t.tolist(), y=_f(rho), mode="lines", name=_("ρₜ (right panel)"), xaxis="x2",
                       yaxis="y2", line=dict(color=GREY, width=2.2), meta=REF,
                       hovertemplate=_("step %{x}: ρ = %{y:.3f}") + "<extra></extra>"))
    traces.append(dict(type="scatter", x=t.tolist(), y=_f(np.where(rho > 5, rect, np.nan)), mode="lines",
                       name=_("rₜ (right panel, right axis)"), xaxis="x2", yaxis="y3",
                       line=dict(color=GREY, width=2, dash="dash"), meta=REF,
                       hovertemplate=_("step %{x}: r = %{y:.4f}") + "<extra></extra>"))
    shapes = [dict(type="line", x0=0, x1=1, y0=5, y1=5, xref="x2 domain", yref="y2", name=style.tag(REF),
                   line=dict(color=style.INK, width=1.5, dash="dot"))]
    if warm.size:
        for xr in ("x", "x2"):
            shapes.append(dict(type="rect", x0=0.5, x1=float(warm.max()) + 0.5, y0=0, y1=1, xref=xr,
                               yref="y domain" if xr == "x" else "y2 domain", fillcolor="rgba(110,110,110,0.14)",
                               line=dict(width=0), layer="below", name=style.tag(REF)))
    layout = base_layout(None, height, hovermode="x unified")
    layout.update(
        xaxis=dict(domain=[0.0, 0.46], title=dict(text=_("step t"))),
        yaxis=log_axis(step_lengths(tr_radam), step_lengths(tr_adam), title=_("step length ‖Δθₜ‖")),
        xaxis2=dict(domain=[0.58, 0.92], anchor="y2", title=dict(text=_("step t"))),
        yaxis2=dict(anchor="x2", title=dict(text=_("ρₜ (dotted: 5)")), rangemode="tozero"),
        yaxis3=dict(anchor="x2", overlaying="y2", side="right", range=[0, 1.05], title=dict(text=_("rₜ (dashed)")),
                    tickmode="linear", tick0=0, dtick=0.2, showgrid=False, zeroline=False),
        shapes=shapes,
    )
    return _fig(traces, layout)


# ----------------------------------------------------------------------------------------------
# Schedules and the LR finder
# ----------------------------------------------------------------------------------------------
def schedule_curves(curves: Mapping[str, np.ndarray], *, highlight: str | None = None, height: int = 300,
                    log_y: bool = False) -> go.Figure:
    """Learning rate against step for several schedules; ``highlight`` drawn thick in ink, the others
    thin grey, each with its own dash (schedules are no optimizers: no optimizer colours here)."""
    traces = []
    for i, (label, y) in enumerate(curves.items()):
        y = np.asarray(y, dtype=float)
        on = highlight is None or label == highlight
        traces.append(dict(type="scatter", x=list(range(1, len(y) + 1)), y=_f(y), mode="lines", name=label,
                           line=dict(color=style.INK if on else style.REFERENCE, width=3 if on else 1.4,
                                     dash="solid" if on else ("dash", "dot", "dashdot", "longdash", "longdashdot")[i % 5]),
                           opacity=1.0 if on else 0.8, meta=style.role_meta("schedule"),
                           hovertemplate=f"{label}<br>" + _("step %{x}: lr = %{y:.4g}") + "<extra></extra>"))
    layout = base_layout(None, height, hovermode="x unified")
    layout.update(xaxis=dict(title=dict(text=_("step"))),
                  yaxis=dict(title=dict(text=_("learning rate γₖ")), type="log" if log_y else "linear",
                             exponentformat="power", rangemode="tozero"))
    return _fig(traces, layout)


def lr_finder_figure(rt, *, threshold: float | None = None, threshold_label: str = "2/λ_max",
                     height: int = 420, title: str | None = None) -> go.Figure:
    r"""The range test: loss against learning rate (both log), raw and smoothed, with the lowest
    point, both suggestions, where the test stopped, and (optionally) a known divergence threshold."""
    lrs = np.asarray(rt.lrs, dtype=float)
    c, meta = style.optimizer_color(rt.optimizer), style.optimizer_meta(rt.optimizer)
    pos = lambda a: np.where(np.asarray(a) > 0, a, np.nan)  # noqa: E731 (log axis)
    traces = [dict(type="scatter", x=_f(lrs), y=_f(pos(rt.losses)), mode="lines", name=_("loss after the step"),
                   line=dict(color=c, width=1.2, dash="dot"), opacity=0.6, meta=meta,
                   hovertemplate=_("lr = %{x:.3g}<br>loss = %{y:.4g}") + "<extra></extra>")]
    if rt.smooth > 0:
        traces.append(dict(type="scatter", x=_f(lrs), y=_f(pos(rt.smoothed)), mode="lines",
                           name=_("smoothed (β = {b:g})").format(b=rt.smooth), line=dict(color=c, width=2.8), meta=meta,
                           hovertemplate=_("lr = %{x:.3g}<br>smoothed loss = %{y:.4g}") + "<extra></extra>"))
    else:
        traces[0].update(line=dict(color=c, width=2.8), opacity=1.0)  # one curve: solid
    sm = rt.smoothed
    # the marks are roles: ink (told apart by their symbol), the stop in the divergence colour
    marks = [(_("lowest loss"), rt.best_index, "circle", style.INK, "ink")]
    if rt.steepest_index >= 0:
        marks.append((_("steepest descent: lr = {lr:.3g}").format(lr=rt.suggestion("steepest")), rt.steepest_index, "triangle-down",
                      style.INK, "ink"))
    if rt.stopped_at >= 0:
        marks.append((_("stopped: loss > {f:g}× lowest").format(f=rt.diverge_factor), rt.stopped_at, "x", DIVERGED_COLOR, "diverged"))
    for name, i, sym, col, role in marks:
        traces.append(dict(type="scatter", x=[float(lrs[i])], y=_f(pos([sm[i]])), mode="markers", name=name,
                           meta=style.role_meta(role),
                           marker=dict(symbol=sym, size=14, color=col, line=dict(color="white", width=1)),
                           hovertemplate=f"{name}<br>" + _("lr = %{x:.3g}<br>loss = %{y:.4g}") + "<extra></extra>"))
    s10 = rt.suggestion("min/10")
    ref, div = style.tag(REF), style.tag(style.role_meta("diverged"))
    shapes = [dict(type="line", x0=s10, x1=s10, y0=0, y1=1, xref="x", yref="y domain", name=ref,
                   line=dict(color=style.REFERENCE, width=2, dash="dash"))]
    # inside the plot at the top of its line (above the plot it ran into the legend)
    annotations = [dict(x=np.log10(s10), y=1, xref="x", yref="y domain", text=f"min/10 = {s10:.3g}", showarrow=False,
                        yanchor="top", xanchor="left", bgcolor="rgba(255,255,255,0.75)",
                        font=dict(size=12, color=style.REFERENCE), name=ref)]
    if threshold is not None and np.isfinite(threshold) and threshold > 0:
        shapes.append(dict(type="line", x0=threshold, x1=threshold, y0=0, y1=1, xref="x", yref="y domain", name=div,
                           line=dict(color=DIVERGED_COLOR, width=2, dash="dot")))
        annotations.append(dict(x=np.log10(threshold), y=0.02, xref="x", yref="y domain", showarrow=False,
                                text=f"{threshold_label} = {threshold:.3g}", xanchor="left", yanchor="bottom",
                                font=dict(size=12, color=DIVERGED_COLOR), name=div))
    layout = base_layout(title, height, hovermode="closest")
    layout.update(xaxis=log_axis(lrs, title=_("learning rate (log scale)")),
                  yaxis=log_axis(pos(rt.losses), pos(rt.smoothed), title=_("loss (log scale)")),
                  shapes=shapes, annotations=annotations)
    return _fig(traces, layout)


__all__ = ["phase_diagram", "paths", "as_run", "state_glyphs", "glyph_vectors", "glyph_scales", "accumulators",
           "trace_table", "step_lengths", "glyph_window", "log_axis", "bias_correction_figure", "decay_figure", "decay_pull_figure",
           "amsgrad_figure", "nadam_schedule_figure", "radam_figure", "schedule_curves", "lr_finder_figure",
           "color_of", "meta_of", "variants_of", "base_name"]
