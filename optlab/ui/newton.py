r"""Cached computations and small widgets for the chapter page "Newton's method" (pages/3_…).

Every run the page steps through is computed once (``st.cache_data`` on hashable arguments); moving
the iteration slider or pressing "next step" only redraws the figure of the chosen iterate.
"""
from __future__ import annotations

import math
from typing import Any

import streamlit as st

from ..chapters import newton as model
from ..specs import hyper_items
from .i18n import cache_data as text_cache_data
from .widgets import cached_run, get_surface, init_state

TOL = 1e-8            # "converged": ‖∇f‖ ≤ TOL (2-D runs and the cost comparison)
TOL_1D = 1e-13        # 1-D runs: close enough to machine precision to show the digits doubling
GD_BUDGET = 20_000    # most gradient-descent steps tried per learning rate
BFGS_STEPS = 200
DELTAS = [0.01, 0.1, 0.5, 1.0, 2.0, 5.0]


# ----------------------------------------------------------------------------------------------
# Cached computations
# ----------------------------------------------------------------------------------------------
@text_cache_data(max_entries=64, show_spinner=False)  # holds text: keyed by language
def run_1d(name: str, x0: float, items: tuple, steps: int = 12) -> model.Newton1D:
    """Newton's iterates on the 1-D function ``name`` (hyperparameters as ``hyper_items``)."""
    return model.newton_1d(name, float(x0), int(steps), tol=TOL_1D, **dict(items))


def run_2d(spec: tuple, items: tuple, x0: tuple, steps: int):
    """The engine's Newton on a surface (cached, record="full": directions and Hessians per step)."""
    return cached_run(spec, "newton", items, tuple(float(v) for v in x0), int(steps), record="full", tol=TOL)


def run_bfgs(spec: tuple, x0: tuple, steps: int = BFGS_STEPS):
    """BFGS with torch-like defaults on a surface (cached, record="full": its inverse-Hessian estimate per step)."""
    return cached_run(spec, "bfgs", hyper_items({}), tuple(float(v) for v in x0), int(steps), record="full", tol=TOL)


@st.cache_data(max_entries=32, show_spinner=False)
def gd_reference(spec: tuple, x0: tuple, steps: int = GD_BUDGET, tol: float = TOL) -> model.GDReference:
    """Gradient descent with the best of 61 learning rates (batched, stopped at the first
    convergence; cached)."""
    return model.best_gd(get_surface(spec), x0, int(steps), tol)


@st.cache_data(max_entries=32, show_spinner=False)
def bfgs_estimates(spec: tuple, x0: tuple, steps: int = BFGS_STEPS):
    """BFGS's estimates B_k, the true Hessians at x_k and the relative errors (cached)."""
    tr = run_bfgs(spec, x0, steps)
    last = max(int(tr.converged_at) if tr.converged_at >= 0 else int(tr.steps), 1)
    return model.bfgs_estimates(get_surface(spec), tr.xs[:last], tr.states["inv_hessian"][:last])


# ----------------------------------------------------------------------------------------------
# Widgets
# ----------------------------------------------------------------------------------------------
def _shift(key: str, by: int, last: int) -> None:
    st.session_state[key] = int(min(max(int(st.session_state.get(key, 0)) + by, 0), last))


def step_control(key: str, last: int, *, label: str = "Iteration k") -> int:
    """An iteration slider 0 … ``last`` with ◀ / ▶ buttons (iterates are precomputed: no rerun cost
    beyond one figure).  Returns k.  Keys: ``key`` (slider), ``key_prev``, ``key_next``."""
    last = int(max(last, 0))
    init_state(key, 0)
    st.session_state[key] = int(min(max(int(st.session_state[key]), 0), last))
    if last == 0:
        st.caption("Only the start x₀: the run stopped before its first step.")
        return 0
    c1, c2, c3 = st.columns([1, 8, 1], vertical_alignment="bottom")
    c1.button("◀", key=f"{key}_prev", on_click=_shift, args=(key, -1, last), help="previous iterate",
              disabled=st.session_state[key] <= 0, width="stretch")
    c3.button("▶", key=f"{key}_next", on_click=_shift, args=(key, 1, last), help="next step",
              disabled=st.session_state[key] >= last, width="stretch")
    with c2:
        k = st.slider(label, min_value=0, max_value=last, step=1, key=key)
    return int(k)


def variant_controls(key: str, *, default: str = "damped", lm_line_search: bool = True) -> tuple[str, dict[str, Any]]:
    """Pure / damped / Levenberg–Marquardt Newton; for LM its μ and minimum curvature δ.
    Returns ``(variant, hyperparameters for the engine's newton)``.  Keys: ``{key}_variant``,
    ``{key}_mu``, ``{key}_delta_on``, ``{key}_delta``, ``{key}_ls``."""
    vkey = f"{key}_variant"
    init_state(vkey, default)
    variant = st.radio("Method", list(model.VARIANTS), key=vkey, format_func=model.VARIANTS.get, horizontal=False)
    if variant != "lm":
        return variant, model.newton_variant(variant)
    init_state(f"{key}_mu", 0.0)
    init_state(f"{key}_delta_on", True)
    init_state(f"{key}_delta", 1.0)
    init_state(f"{key}_ls", lm_line_search)
    mu = st.slider("damping μ (added to every eigenvalue)", 0.0, 10.0, step=0.1, key=f"{key}_mu",
                   help="solve (H + μI) d = −g: large μ makes the step a short gradient step −g/μ")
    on = st.checkbox("raise μ where the Hessian is indefinite", key=f"{key}_delta_on",
                     help="μ ← max(μ, δ − λ_min(H)): every eigenvalue of H + μI is at least δ, the model is a bowl")
    delta = None
    if on:
        if st.session_state[f"{key}_delta"] not in DELTAS:
            st.session_state[f"{key}_delta"] = 1.0
        delta = st.select_slider("minimum curvature δ", DELTAS, key=f"{key}_delta")
    ls = st.checkbox("with Armijo backtracking", key=f"{key}_ls")
    return variant, model.newton_variant("lm", damping=float(mu), min_curvature=delta, line_search=bool(ls))


def variant_label(variant: str, hyper: dict[str, Any]) -> str:
    """A short label for legends and warnings, e.g. "Newton (LM, μ = 0, δ = 1)"."""
    if variant == "pure":
        return "Newton (pure)"
    if variant == "damped":
        return "Newton (damped)"
    parts = [f"μ = {hyper.get('damping', 0):g}"]
    if hyper.get("min_curvature") is not None:
        parts.append(f"δ = {hyper['min_curvature']:g}")
    if not hyper.get("line_search"):
        parts.append("no line search")
    return "Newton (LM, " + ", ".join(parts) + ")"


def fmt_steps(n: int, budget: int) -> str:
    """"5 steps" or "not within 20000 steps"."""
    if n < 0:
        return f"not within {budget:,} steps"
    return f"{n:,} step{'s' if n != 1 else ''}"


def fmt_flops(v: float) -> str:
    """Engineering notation for a flop count, e.g. 3.3·10¹⁷ (plain below 10⁴, one decimal below 10)."""
    if v < 10:
        return f"{v:.2g}"
    if v < 1e4:
        return f"{v:,.0f}"
    e = math.floor(math.log10(v))
    m = v / 10 ** e
    sup = str(e).translate(str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻"))
    return f"{m:.2g}·10{sup}"


def fmt_bytes(v: float) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if v >= size:
            return f"{v / size:.3g} {unit}"
    return f"{v:.0f} B"


def fmt_seconds(s: float) -> str:
    for unit, size in (("years", 3.156e7), ("days", 86400.0), ("hours", 3600.0), ("minutes", 60.0), ("s", 1.0),
                       ("ms", 1e-3), ("µs", 1e-6)):
        if s >= size:
            return f"{s / size:.3g} {unit}"
    return f"{s * 1e9:.3g} ns"


def _n(v: float, d: int = 4) -> str:
    if not math.isfinite(v):
        return "undefined"
    return f"{v:.{d}g}"


def sub(k: int) -> str:
    """k as subscript digits (x₁₂)."""
    return str(int(k)).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def caption_1d(fun: model.Function1D, res: model.Newton1D, k: int, hyper: dict[str, Any]) -> str:
    """What happens at iterate k, from the numbers (curvature sign, vertex type, step, line search)."""
    xk, gk, hk, mk = (float(a[k]) for a in (res.xs, res.gs, res.hs, res.model_h))
    parts = [f"At x{sub(k)} = {_n(xk, 6)}: f′ = {_n(gk)}, f″ = {_n(hk)}"]
    mu = float(res.mus[k])
    if mu:
        parts[-1] += f"; with μ = {_n(mu)} the model's curvature is f″ + μ = {_n(mk)}"
    kind = res.kind[k]
    if kind == "minimum":
        parts.append(f"the parabola opens upwards and its vertex, at {_n(float(res.vertex[k]), 6)}, is its **minimum**")
    elif kind == "maximum":
        parts.append(f"the parabola opens **downwards**: its vertex, at {_n(float(res.vertex[k]), 6)}, is a **maximum** "
                     "and pure Newton goes there regardless")
    else:
        parts.append("the parabola is a straight line with no vertex: the Newton step −f′/f″ is undefined")
    text = "; ".join(parts) + "."
    took_step = k < res.last or (res.diverged_at >= 0 and k == res.last)
    if took_step:
        nxt = float(res.xs[k + 1]) if k + 1 < len(res.xs) else float("nan")
        if math.isfinite(nxt):
            df = float(res.fs[k + 1]) - float(res.fs[k])
            direction = "downhill" if df < 0 else ("uphill" if df > 0 else "level")
            text += f" The step goes to x{sub(k + 1)} = {_n(nxt, 6)}: f changes by {_n(df, 3)} ({direction})."
            if hyper.get("line_search") and k < len(res.step_length):
                s, nb = float(res.step_length[k]), int(res.n_backtracks[k])
                text += (f" The line search accepted s = {_n(s)} after {nb} halving{'s' if nb != 1 else ''}."
                         if s > 0 else " The line search found no step that decreases f enough: it stayed put.")
        else:
            text += f" Step {k + 1} fails: {res.diverged_reason}."
    elif res.converged_at >= 0:
        text += f" Converged: |f′| ≤ {TOL_1D:g} after {res.converged_at} step{'s' if res.converged_at != 1 else ''}."
    return text


def rate_caption(fun: model.Function1D, res: model.Newton1D) -> str:
    """How fast the error shrinks: the ratios e_{k+1}/e_k² (quadratic) or e_{k+1}/e_k (linear)."""
    r = model.read_rate(fun, res)
    if r.kind == "diverged":
        return f"No convergence: the run diverged at step {res.diverged_at} ({res.diverged_reason})."
    if r.kind == "far":
        return "The iterates are not near a known minimum yet: no rate to read."
    errs = ", ".join(f"{v:.1e}" for v in r.errors)
    if r.kind == "too_few":
        return f"Errors |xₖ − x*| = {errs}: too few steps to read a rate."
    if r.kind == "linear":
        return (f"Errors |xₖ − x*| = {errs}: each step multiplies the error by about {r.factor:.3f} — "
                f"**linear** convergence (at a minimum with f″(x*) = {_n(r.curvature)}).")
    where = ""
    if r.curvature < 0:
        where = f" Careful: x* = {_n(r.x_star, 6)} is a **maximum** of f (f″ < 0 there)."
    return (f"Errors |xₖ − x*| = {errs}: the number of correct digits roughly doubles each step — "
            f"**quadratic** convergence; eₖ₊₁/eₖ² over the last steps: "
            + ", ".join(f"{v:.3g}" for v in r.quadratic_ratios) + " (bounded)." + where)


def step_details(surface, tr, k: int, hyper: dict[str, Any]):
    """At iterate k of a 2-D Newton run: the local model (with the μ the engine used), the line
    search's tries (if it searched) and the next iterate (None if no step was taken from x_k)."""
    stop = int(tr.converged_at) if tr.converged_at >= 0 else (int(tr.diverged_at) if tr.diverged_at >= 0 else int(tr.steps))
    x = tr.xs[k]
    local = model.local_model(surface, x, damping=float(hyper.get("damping", 0.0) or 0.0),
                              min_curvature=hyper.get("min_curvature"))
    if k >= stop:
        return local, None, None
    nxt = tr.xs[k + 1]
    trace = None
    if hyper.get("line_search"):
        trace = model.line_search_trace(surface, x, tr.states["direction"][k], float(hyper.get("lr", 1.0)),
                                        float(hyper.get("c1", 1e-4)), float(hyper.get("shrink", 0.5)),
                                        int(hyper.get("max_backtracks", 30)))
    return local, trace, nxt


KIND_SENTENCE = {
    "minimum": "both eigenvalues are positive: the model is a **bowl** and its stationary point is its minimum",
    "maximum": "both eigenvalues are negative: the model is an upside-down bowl and its stationary point is a **maximum**",
    "saddle": "the eigenvalues have opposite signs: the model is a **saddle** (hyperbolas) and its stationary point is a saddle point",
    "degenerate": "an eigenvalue is zero: the Hessian is **singular**, the model has no unique stationary point and the Newton step is undefined",
    "undefined": "the derivatives are not finite here",
}


def caption_2d(local: model.LocalModel, trace, nxt, k: int, label: str) -> str:
    lam = ", ".join(_n(v) for v in local.eigvals)
    text = f"At x{sub(k)} the model's Hessian has eigenvalues λ = ({lam}): {KIND_SENTENCE.get(local.kind, local.kind)}."
    if local.mu:
        text += f" Levenberg–Marquardt added μ = {_n(local.mu)} to both eigenvalues of ∇²f."
    if trace is not None:
        if not local.descent:
            text += (" The Newton direction does not go downhill (gᵀd ≥ 0 or undefined), so the line search uses "
                     "the steepest-descent direction −∇f instead.")
        tries = len(trace.steps)
        if trace.accepted >= 0:
            text += (f" It tried {tries} step length{'s' if tries != 1 else ''} and accepted s = {_n(trace.step)} "
                     f"(f: {_n(trace.f0)} → {_n(float(trace.values[trace.accepted]))}).")
        else:
            text += f" None of its {tries} tries decreased f enough: the step is 0."
    elif nxt is not None and local.kind in ("maximum", "saddle"):
        text += f" {label} jumps to that {('maximum' if local.kind == 'maximum' else 'saddle point')} of the model regardless."
    if nxt is not None and not all(math.isfinite(float(v)) for v in nxt):
        text += " The step from here is not finite: the run stops (see the warning)."
    return text


def summary_caption(surface, tr, label: str) -> str:
    """Where a 2-D run ended and what kind of point that is."""
    s = model.summarize(surface, tr)
    where = f"({_n(float(s.final_x[0]))}, {_n(float(s.final_x[1]))})"
    kind = {"minimum": "a **minimum**", "maximum": "a **maximum** (!)", "saddle": "a **saddle point** (!)",
            "degenerate": "a point with a singular Hessian", "undefined": "an undefined point"}.get(s.kind, s.kind)
    if s.diverged_at >= 0:
        return f"{label} diverged at step {s.diverged_at}; its last finite point is {where}."
    if s.converged_at >= 0:
        return (f"{label} reached ‖∇f‖ ≤ {TOL:g} in {fmt_steps(s.converged_at, tr.steps)}, at {where} with "
                f"f = {_n(s.final_f, 6)}: {kind}.")
    return (f"{label} did not reach ‖∇f‖ ≤ {TOL:g} within {tr.steps} steps; it is at {where} "
            f"(f = {_n(s.final_f, 6)}, ‖∇f‖ = {_n(s.grad_norm, 3)}).")


def comparison(spec: tuple, start: tuple, steps: int, variant: str, hyper: dict[str, Any]):
    """The runs part 3 compares on one surface and start: pure and damped Newton (plus the page's
    LM setting), gradient descent with its best learning rate, BFGS.  Returns ``(runs, gd, bfgs,
    rows)`` with ``runs`` = [(label, trajectory)] of the Newton variants and ``rows`` =
    [(label, optimizer name, iterations to TOL or −1, budget)] for :func:`figures.newton.iterations`."""
    runs = []
    for v in ("pure", "damped"):
        h = model.newton_variant(v)
        runs.append((variant_label(v, h), run_2d(spec, hyper_items(h), start, steps)))
    if variant == "lm":
        runs.append((variant_label(variant, hyper), run_2d(spec, hyper_items(hyper), start, steps)))
    gd = gd_reference(spec, start)
    bfgs = run_bfgs(spec, start)
    bfgs.label = "BFGS"
    rows = []
    for lbl, tr in runs:
        tr.label = lbl
        rows.append((lbl, "newton", int(tr.converged_at) if tr.diverged_at < 0 else -1, int(tr.steps)))
    rows.append((f"Gradient descent (best lr = {gd.best_lr:.3g})", "sgd", gd.best_steps, gd.steps))
    rows.append(("BFGS", "bfgs", int(bfgs.converged_at) if bfgs.diverged_at < 0 else -1, int(bfgs.steps)))
    return runs, gd, bfgs, rows


def comparison_text(surface, runs, gd: model.GDReference, rows) -> tuple[str, str | None]:
    """The sentence under the iteration bars, and a warning when a fast run stopped at a saddle or maximum."""
    kinds = {lbl: model.summarize(surface, tr).kind for lbl, tr in runs}
    name = {"saddle": "saddle point", "degenerate": "point with a singular Hessian", "undefined": "point where f is undefined"}
    best = min((r for r in rows if r[1] == "newton" and r[2] >= 0), key=lambda r: r[2], default=None)
    bfgs = rows[-1]
    if best is not None:
        text = (f"**{best[0]}** reached ‖∇f‖ ≤ {TOL:g} in **{fmt_steps(best[2], best[3])}** (at a "
                f"{name.get(kinds[best[0]], kinds[best[0]])}); gradient descent with the best of {len(gd.lrs)} "
                f"learning rates (lr = {gd.best_lr:.3g}) needed **{fmt_steps(gd.best_steps, gd.steps)}**; BFGS "
                f"**{fmt_steps(bfgs[2], bfgs[3])}**.")
    else:
        text = (f"No Newton variant reached ‖∇f‖ ≤ {TOL:g} here; gradient descent (best lr = {gd.best_lr:.3g}) "
                f"needed {fmt_steps(gd.best_steps, gd.steps)}, BFGS {fmt_steps(bfgs[2], bfgs[3])}.")
    converged = {lbl for lbl, tr in runs if tr.converged_at >= 0 and tr.diverged_at < 0}
    bad = [lbl for lbl, kd in kinds.items() if kd in ("saddle", "maximum") and lbl in converged]
    warn = None
    if bad:
        warn = ("Fast is not the same as right: " + ", ".join(bad) + " stopped at a "
                + " / ".join(sorted({name.get(kinds[b], kinds[b]) for b in bad})) + ", not a minimum.")
    return text, warn


FLOPS_PER_SECOND = 1e12


def cost_text(n: int, iters: dict[str, tuple[str, int]]) -> tuple[str, list[str], str]:
    """For dimension n: a markdown table of the cost model, the sentence comparing the methods, and
    captions (total work if the iteration counts carried over; the parts of each total)."""
    table = model.cost_table(n)
    by = {r.name: r for r in table}
    lines = ["| method | flops per iteration | at this n | memory (floats) | memory at this n (float64) |",
             "|---|---|---|---|---|"]
    for row in table:
        lines.append(f"| {row.title} | ${row.latex}$ | {fmt_flops(row.total)} | ${row.memory_latex}$ | "
                     f"{fmt_bytes(8 * row.memory)} |")
    newton, sgd, bfgs = by["newton"].total, by["sgd"].total, by["bfgs"].total
    text = (f"At n = {n:,}, one Newton iteration costs **{fmt_flops(newton / sgd)} times** a gradient step "
            f"({fmt_seconds(newton / FLOPS_PER_SECOND)} against {fmt_seconds(sgd / FLOPS_PER_SECOND)} at 10¹² flops "
            f"per second), and its Hessian alone takes {fmt_bytes(8.0 * n * n)}. BFGS avoids the solve "
            f"({fmt_flops(newton / bfgs)} times cheaper than Newton per iteration) but still keeps an n × n matrix.")
    captions = []
    if iters:
        parts = [f"{lbl}: {fmt_flops(it * by[name].total)}" for lbl, (name, it) in iters.items()]
        captions.append("If the iteration counts above carried over to n dimensions (they do not exactly: gradient "
                        "descent slows down with the condition number, Newton does not), the total work would be "
                        + "; ".join(parts) + " flops.")
    for row in table:
        captions.append(f"{row.title}: " + ", ".join(f"{what} {fmt_flops(fl)}" for what, fl, _ in row.parts))
    return "\n".join(lines), captions, text


def until_stop(tr) -> tuple:
    """``(label, xs, extra)`` of a run cut after its last meaningful iterate, for the curve figures
    (a converged run is padded to its full length in the record)."""
    n = model.last_iterate(tr) + (2 if tr.diverged_at >= 0 else 1)
    return (tr.label, tr.xs[:n], {"name": tr.optimizer, "losses": tr.losses[:n], "grad_norms": tr.grad_norms[:n],
                                  "diverged_at": tr.diverged_at, "diverged_reason": tr.diverged_reason})


def trajectory_1d(res: model.Newton1D, label: str):
    """The 1-D run's engine trajectory, labelled (for :func:`divergence_warnings`)."""
    tr = res.trajectory
    tr.label = label
    return tr


__all__ = ["TOL", "TOL_1D", "GD_BUDGET", "run_1d", "run_2d", "run_bfgs", "gd_reference", "bfgs_estimates",
           "step_control", "variant_controls", "variant_label", "fmt_steps", "fmt_flops",
           "fmt_bytes", "fmt_seconds", "caption_1d", "rate_caption", "step_details", "caption_2d",
           "summary_caption", "trajectory_1d", "comparison", "comparison_text", "cost_text", "until_stop",
           "sub"]
