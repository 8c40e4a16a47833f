r"""Caches, linkable state, captions, questions and the lesson of the page "Challenges ahead" (pages/6_…).

The maths lives in :mod:`optlab.chapters.challenges_ahead` (one study per section, verdict codes
chosen by the numbers); the figures in :mod:`optlab.figures.challenges_ahead`.  This module caches
them (numbers with ``st.cache_data``, figures that hold translated text with ``ui.cache_data``),
declares the page's widgets for the URL (:mod:`optlab.ui.state`) and picks every claim's sentence
from a verdict code.  No NumPy here: arrays are read with ``float()`` and indexing only.
"""
from __future__ import annotations

import math

import streamlit as st

from .. import multitask as MT
from ..format import number
from .. import privacy as PV
from ..chapters import challenges_ahead as model
from ..figures import challenges_ahead as fig
from ..i18n import domain, listing, sentence_gap
from ..surfaces import get as get_surface
from . import lessons, state
from .widgets import Divergence
from .i18n import cache_data as text_cache_data

_, N_, ngettext = domain("challenges_ahead")

# ----------------------------------------------------------------------------------------------
# Widget values (the engine's limits are in the chapter module; the bench times the largest)
# ----------------------------------------------------------------------------------------------
WU_LRS = (0.05, 0.1, 0.2, 0.3, 0.5)
WU_BATCHES = (64, 128, 256, 512)
WU_BASE_BATCH = 8
WU_STEPS_RUN = 200
FL_DATASETS = ("diabetes", "breast_cancer")
FL_LR = {"diabetes": 0.05, "breast_cancer": 0.5}
MT_LRS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3)
MT_X0 = (2.0, 2.0)
PV_SIGMAS = tuple(s for s in model.NOISE_MULTIPLIERS if s > 0)   # the sweep adds σ = 0 (no privacy)
PV_RATES = (0.01, 0.02, 0.05, 0.1)
PV_CLIPS = (0.1, 0.3, 1.0, 3.0, 10.0)
PV_DELTAS = (1e-3, 1e-4, 1e-5, 1e-6)
PV_SEEDS = 3
PV_DATASET = "breast_cancer"
PV_N = 569                      # examples of the breast-cancer data (δ must stay below 1/N)
LS_SURFACES = ("six_hump_camel", "himmelblau")
LS_X0 = {"six_hump_camel": (1.5, 0.8), "himmelblau": (0.0, 0.0)}
LS_ETAS = (0.0, 10.0, 30.0, 100.0, 300.0)
LS_RHOS = (0.05, 0.1, 0.2, 0.5)
LS_SPANS = (0.25, 0.5, 1.0, 2.0)
ESCAPE_STEPS = 400
ESCAPE_RUNS = 16
SCALE_DATASET = "diabetes"

# ----------------------------------------------------------------------------------------------
# Linkable state
# ----------------------------------------------------------------------------------------------
SECTIONS = [N_("Data parallel"), N_("Stale workers"), N_("Many tasks"), N_("Privacy"), N_("Landscapes")]
S_SCALE, S_STALE, S_TASKS, S_PRIVACY, S_LAND = SECTIONS
SECTION = state.Section(SECTIONS, "ch_section", codes=list(model.SECTIONS))

SC_GAP = state.Choice("g", "ch_sc_gap", model.TARGET_GAPS, 0.02, section=S_SCALE,
                      label=N_("target: loss within this much of the best (relative)"))
SC_SEEDS = state.Int("sd", "ch_sc_seeds", 1, model.MAX_SEEDS, 3, section=S_SCALE,
                     label=N_("seeds per batch size (the median is plotted)"))
WU_LR = state.Choice("wlr", "ch_wu_lr", WU_LRS, 0.2, section=S_SCALE, label=N_("base learning rate (batch 8)"))
WU_BATCH = state.Choice("B", "ch_wu_batch", WU_BATCHES, 512, section=S_SCALE, label=N_("large batch B"))
WU_WARM = state.Int("w", "ch_wu_warm", 0, 100, 50, step=10, section=S_SCALE, label=N_("warm-up steps"))

ST_LR = state.Float("sl", "ch_st_lr", 0.05, 2.5, 0.3, step=0.05, section=S_STALE,
                    label=N_("learning rate × curvature, η·λ"))
ST_TAU = state.Int("tau", "ch_st_tau", 0, model.MAX_TAU, 10, section=S_STALE, label=N_("largest delay τ shown"))
FL_DATA = state.Choice("d", "ch_fl_data", FL_DATASETS, "diabetes", codes=["diabetes", "cancer"], section=S_STALE,
                       label=N_("data set"))
FL_K = state.Int("K", "ch_fl_k", 2, model.MAX_WORKERS, 5, section=S_STALE, label=N_("workers K"))
FL_ROUNDS = state.Int("R", "ch_fl_rounds", 5, model.MAX_ROUNDS, 30, step=5, section=S_STALE,
                      label=N_("communication rounds"))
FL_NONIID = state.Float("ni", "ch_fl_noniid", 0.0, 1.0, 1.0, step=0.1, section=S_STALE,
                        label=N_("how different the workers' data are (0: same mix, 1: sorted by target)"))

MT_N = state.Choice("nt", "ch_mt_n", (2, 3), 2, section=S_TASKS, label=N_("tasks"))
MT_METHOD = state.Choice("m", "ch_mt_method", MT.METHODS, "pcgrad", section=S_TASKS, label=N_("how the tasks are combined"))
MT_STEPS = state.Int("ms", "ch_mt_steps", 20, model.MAX_MT_STEPS, 200, step=20, section=S_TASKS, label=N_("steps"))
MT_LR = state.Choice("mlr", "ch_mt_lr", MT_LRS, 0.05, section=S_TASKS, label=N_("learning rate"))
MT_AT = state.Int("at", "ch_mt_at", 0, model.MAX_MT_STEPS, 0, step=1, section=S_TASKS,
                  label=N_("gradients drawn at step"))

PV_SIGMA = state.Choice("sig", "ch_pv_sigma", PV_SIGMAS, 1.0, section=S_PRIVACY, label=N_("noise multiplier σ"))
PV_Q = state.Choice("q", "ch_pv_q", PV_RATES, 0.05, section=S_PRIVACY, label=N_("sampling rate q"))
PV_STEPS = state.Int("T", "ch_pv_steps", 50, model.MAX_DP_STEPS, 200, step=50, section=S_PRIVACY,
                     label=N_("training steps T"))
PV_CLIP = state.Choice("C", "ch_pv_clip", PV_CLIPS, 1.0, section=S_PRIVACY, label=N_("clipping norm C"))
PV_DELTA = state.Choice("dl", "ch_pv_delta", PV_DELTAS, 1e-5, section=S_PRIVACY, label=N_("δ"))

LS_SURF = state.Choice("s", "ch_ls_surface", LS_SURFACES, "six_hump_camel", codes=["camel", "himmelblau"],
                       section=S_LAND, label=N_("surface"))
LS_GRID = state.Int("bg", "ch_ls_grid", 10, model.MAX_BASIN_GRID, 30, step=5, section=S_LAND,
                    label=N_("starts per side (basins map)"))
LS_ETA = state.Choice("eta", "ch_ls_eta", LS_ETAS, 100.0, section=S_LAND, label=N_("gradient-noise scale η"))
LS_RHO = state.Choice("rho", "ch_ls_rho", LS_RHOS, 0.2, section=S_LAND, label=N_("SAM radius ρ"))
LS_RESTARTS = state.Int("r", "ch_ls_restarts", 1, model.MAX_RESTARTS, 16, section=S_LAND, label=N_("restarts"))
LS_N = state.Int("n", "ch_ls_n", 11, model.MAX_SLICE_GRID, 21, step=2, section=S_LAND,
                 label=N_("slice grid (points per side)"))
LS_SPAN = state.Choice("sp", "ch_ls_span", LS_SPANS, 1.0, section=S_LAND, label=N_("slice half-width"))
LS_DIR = state.Int("dir", "ch_ls_dir", 0, 9, 0, section=S_LAND, label=N_("random directions (seed)"))

PAGE = state.Page("Challenges_ahead",
                  [SECTION, SC_GAP, SC_SEEDS, WU_LR, WU_BATCH, WU_WARM, ST_LR, ST_TAU, FL_DATA, FL_K, FL_ROUNDS,
                   FL_NONIID, MT_N, MT_METHOD, MT_STEPS, MT_LR, MT_AT, PV_SIGMA, PV_Q, PV_STEPS, PV_CLIP,
                   PV_DELTA, LS_SURF, LS_GRID, LS_ETA, LS_RHO, LS_RESTARTS, LS_N, LS_SPAN, LS_DIR],
                  title=N_("Challenges ahead"), domain="challenges_ahead")

# names shown for engine ids (msgids)
METHOD_NAMES = {"weights": N_("fixed weights (a sweep of five)"), "mgda": N_("MGDA (min-norm direction)"),
                "pcgrad": N_("PCGrad (project conflicts away)"), "uncertainty": N_("uncertainty weighting"),
                "gradnorm": N_("GradNorm")}
DATASET_NAMES = {"diabetes": N_("diabetes (linear, squared error)"),
                 "breast_cancer": N_("breast cancer (logistic)")}
SURFACE_NAMES = {"six_hump_camel": N_("six-hump camel (6 minima, 2 global)"),
                 "himmelblau": N_("Himmelblau (4 equal minima)")}
WAY_NAMES = {"plain": N_("plain gradient descent"), "noise": N_("annealed gradient noise"), "sam": N_("SAM"),
             "restarts": N_("restarts")}
OPTIMIZER_NAMES = {"SGD": N_("SGD"), "SGD + momentum": N_("SGD + momentum"), "Adam": N_("Adam")}


def fmt(v: float, digits: int = 3) -> str:
    """A number for a sentence (:func:`optlab.format.number`: "—" when undefined, a true minus,
    thousands separated)."""
    return number(v, digits)


# ----------------------------------------------------------------------------------------------
# 1. data parallel
# ----------------------------------------------------------------------------------------------
@st.cache_data(max_entries=16, show_spinner=False)
def scaling(gap: float, seeds: int) -> model.ScalingStudy:
    return model.scaling_study(SCALE_DATASET, target_gap=float(gap), seeds=int(seeds))


@st.cache_data(max_entries=32, show_spinner=False)
def warmup(lr: float, batch: int, warm: int) -> model.WarmupStudy:
    return model.warmup_study(base_lr=float(lr), base_batch=WU_BASE_BATCH, batch=int(batch), warmup_steps=int(warm),
                              steps=WU_STEPS_RUN)


@text_cache_data(max_entries=16, show_spinner=False)
def scaling_figure(gap: float, seeds: int, height: int):
    return fig.scaling_figure(scaling(gap, seeds), height=height, labels={
        "steps": _("steps to target"), "samples": _("examples to target"),
        "fit": _("fit S = S_min(1 + B_crit/B)"), "perfect": _("perfect scaling"),
        "b_crit": _("B_crit (fit)"), "b_noise": _("B_noise at target"), "batch": _("batch size B = K·b")})


@text_cache_data(max_entries=32, show_spinner=False)
def warmup_figure(lr: float, batch: int, warm: int, height: int):
    s = warmup(lr, batch, warm)
    return fig.warmup_figure(s, height=height, labels={
        "base": _("B = {b}, base rate").format(b=WU_BASE_BATCH),
        "scaled": _("B = {b}, scaled rate, no warm-up").format(b=batch),
        "warm": _("B = {b}, scaled rate, warm-up").format(b=batch),
        "limit": _("2/λ_max at the start"), "step": _("step"), "loss": _("loss (all data)"),
        "lr": _("learning rate")})


def scaling_sentences(gap: float, seeds: int) -> list[str]:
    s = scaling(gap, seeds)
    v = model.scaling_verdict(s)
    out = []
    shape = v["shape"]
    if shape == "bend":
        out.append(_("**Perfect scaling gives way to diminishing returns.** Up to the middle batch size, doubling "
                     "the batch cut the steps almost in half (efficiency {e1:.2f}, 1 = perfect); above it, much less "
                     "({e2:.2f}): the extra examples per step mostly average away noise that no longer limits "
                     "progress.").format(e1=v["e_small"], e2=v["e_large"]))
    elif shape == "perfect":
        out.append(_("Over this whole range, doubling the batch still cut the steps nearly in half (efficiency "
                     "{e1:.2f} and {e2:.2f}; 1 = perfect): the bend lies beyond the largest batch shown.").format(
            e1=v["e_small"], e2=v["e_large"]))
    elif shape == "flat":
        out.append(_("Larger batches barely reduced the steps anywhere in this range (efficiency {e1:.2f} and "
                     "{e2:.2f}; 1 = perfect): at this target even small batches are past the bend.").format(
            e1=v["e_small"], e2=v["e_large"]))
    elif shape == "mixed":
        out.append(_("No clean bend at these settings (efficiency {e1:.2f} for small batches, {e2:.2f} for large "
                     "ones; 1 = perfect): with few seeds the step counts are noisy. Add seeds.").format(
            e1=v["e_small"], e2=v["e_large"]))
    else:
        out.append(_("Only {k} of {n} batch sizes reached the target within the step limit: too few to tell how "
                     "the steps scale.").format(k=v["reached"], n=v["total"]))
    if v["agree"] is True:
        out.append(_("The fitted bend B_crit ≈ {bc} and the noise scale B_noise = tr Σ/|G|² ≈ {bn}, measured from "
                     "the data at the target, agree within a factor 3, as McCandlish et al. predict.").format(
            bc=fmt(s.bend), bn=fmt(s.b_noise)))
    elif v["agree"] is False:
        out.append(_("The fitted bend B_crit ≈ {bc} and the noise scale B_noise = tr Σ/|G|² ≈ {bn} differ by more "
                     "than a factor 3 here: B_noise is measured at one point (the target) with the plain trace "
                     "of Σ, while the bend comes from whole runs with the best tuned rate; McCandlish et al. "
                     "found the two agree only to within an order of magnitude.").format(
            bc=fmt(s.bend), bn=fmt(s.b_noise)))
    else:
        out.append(_("The bend could not be fitted (fewer than two batch sizes reached the target), so it is not "
                     "compared with B_noise ≈ {bn}.").format(bn=fmt(s.b_noise)))
    return out


def warmup_sentence(lr: float, batch: int, warm: int) -> str:
    s = warmup(lr, batch, warm)
    scaled = lr * batch / WU_BASE_BATCH
    code = s.verdict
    if code == "diverged":
        return _("**Without warm-up the scaled rate {r} diverges** (the full-batch limit at the start is "
                 "2/λ_max = {lim}).").format(r=fmt(scaled), lim=fmt(s.lr_limit))
    if code == "spike":
        return _("**Without warm-up the loss first jumps** to {p} (from {l0}): the scaled rate {r} is above "
                 "2/λ_max = {lim} at the start. With {w} warm-up steps the rate grows while the curvature falls, "
                 "and the loss never rises.").format(p=fmt(s.peak_no_warmup), l0=fmt(s.losses[0, 0]), r=fmt(scaled),
                                                      lim=fmt(s.lr_limit), w=warm)
    if code == "both_spike":
        return _("**Both large-batch runs jump** (to {p} without warm-up, {pw} with {w} warm-up steps): the scaled "
                 "rate {r} is too large for this model even after warm-up; the linear rule has its limits.").format(
            p=fmt(s.peak_no_warmup), pw=fmt(s.peak_warmup), w=warm, r=fmt(scaled))
    if code == "no_warmup":
        return _("With 0 warm-up steps both large-batch runs follow the same schedule (they differ only in the "
                 "batches they draw): set some warm-up steps to compare.")
    return _("Warm-up makes no visible difference here: the scaled rate {r} stays below the start's limit "
             "2/λ_max = {lim}, or close enough that the loss never rises.").format(r=fmt(scaled), lim=fmt(s.lr_limit))


# ----------------------------------------------------------------------------------------------
# 2. stale and uneven workers
# ----------------------------------------------------------------------------------------------
@st.cache_data(max_entries=32, show_spinner=False)
def stale(lr: float, tau: int) -> model.StaleStudy:
    return model.stale_study(lr=float(lr), curvature=1.0, tau_max=int(tau), steps=150)


@text_cache_data(max_entries=32, show_spinner=False)
def stale_figure(lr: float, tau: int, height: int):
    return fig.stale_figure(stale(lr, tau), height=height, labels={
        "limit": _("largest stable η·λ: 2 sin(π/(2(2τ+1)))"), "chosen": _("your η·λ"),
        "tau": _("delay τ (steps)"), "step": _("step")})


def stale_sentence(lr: float, tau: int) -> str:
    s = stale(lr, tau)
    v = model.stale_verdict(s)
    case = v["case"]
    if case == "all_stable":
        text = _("At η·λ = {lr} **every delay up to τ = {t} still converges** (closed form: the limit at τ = {t} "
                 "is {lim}).").format(lr=fmt(lr), t=tau, lim=fmt(float(s.limit[-1])))
    elif case == "none_stable":
        text = _("At η·λ = {lr} **even fresh gradients (τ = 0) diverge**: the limit is η·λ < 2.").format(lr=fmt(lr))
    elif case == "threshold":
        k = v["last_stable"]
        text = _("At η·λ = {lr} **delays up to τ = {k} converge; from τ = {k1} on the run diverges** (closed "
                 "form: the limit falls to {lim} at τ = {k1}). A rate that is safe for fresh gradients is not "
                 "safe for stale ones.").format(lr=fmt(lr), k=k, k1=k + 1, lim=fmt(float(s.limit[k + 1])))
    else:
        text = _("At η·λ = {lr} stability does not fall steadily with τ here; read the chart.").format(lr=fmt(lr))
    if not v["simulated_agrees"]:
        text += sentence_gap() + _("(The simulated runs and the closed form disagree for a τ right at the limit, where the "
                                   "error neither grows nor shrinks within the steps drawn.)")
    return text


@st.cache_data(max_entries=32, show_spinner=False)
def federated(data: str, k: int, rounds: int, non_iid: float) -> model.FederatedStudy:
    return model.federated_study(dataset=data, workers=int(k), rounds=int(rounds), lr=FL_LR[data],
                                 non_iid=float(non_iid))


@text_cache_data(max_entries=32, show_spinner=False)
def federated_figure(data: str, k: int, rounds: int, non_iid: float, height: int):
    return fig.federated_figure(federated(data, k, rounds, non_iid), height=height, labels={
        "rounds": _("communication rounds (same data mix)"), "rounds_non": _("communication rounds (different data)"),
        "gap": _("loss − L*")})


def federated_sentence(data: str, k: int, rounds: int, non_iid: float) -> str:
    s = federated(data, k, rounds, non_iid)
    v = model.federated_verdict(s)
    hmax = int(s.local_steps[-1])
    words = {"helps": N_("lower than with H = 1 (more local steps helped)"),
             "hurts": N_("higher than with H = 1 (more local steps hurt)"),
             "same": N_("as low as with H = 1"), "diverged": N_("not finite (diverged)")}
    text = _("After {r} rounds, H = {h} local steps per round ends {iid} when every worker has the same mix of "
             "data, and {non} when the workers' data differ.").format(
        r=rounds, h=hmax, iid=_(words[v["iid"]]), non=_(words[v["non_iid"]]))
    if v["iid"] == "helps" and v["non_iid"] == "hurts":
        text += sentence_gap() + _("**This is client drift:** between averagings each worker walks towards the minimum of "
                                   "its own data, and the average of those is not the minimum of all the data.")
    elif non_iid == 0:
        text += sentence_gap() + _("Both panels use the same mix here (difference 0): move the slider up to see drift.")
    return text


# ----------------------------------------------------------------------------------------------
# 3. many tasks
# ----------------------------------------------------------------------------------------------
@st.cache_resource(max_entries=32, show_spinner=False)
def tasks(n: int, method: str, steps: int, lr: float) -> model.TasksStudy:
    """Shared, never mutated (the tasks are surfaces with closures: not picklable for cache_data)."""
    if method == "weights":
        w = model.WEIGHT_SWEEPS[int(n)]
        x0 = tuple(MT_X0 for _w in w)
        return model.tasks_study(int(n), "weights", x0=x0, steps=int(steps), lr=float(lr), weights=w)
    return model.tasks_study(int(n), method, x0=MT_X0, steps=int(steps), lr=float(lr))


@st.cache_data(max_entries=64, show_spinner=False)
def conflict(n: int, method: str, steps: int, lr: float, at: int) -> model.ConflictView:
    s = tasks(n, method, steps, lr)
    p = s.run.xs[min(int(at), int(steps)), 0]
    return model.conflict_view(int(n), (float(p[0]), float(p[1])))


@text_cache_data(max_entries=32, show_spinner=False)
def tasks_figure(n: int, method: str, steps: int, lr: float, at: int, height: int):
    s = tasks(n, method, steps, lr)
    labels = {"pareto": _("Pareto set"), "path": _(METHOD_NAMES[method])}
    labels.update({f"task{i + 1}": _("task {i} minimum").format(i=i + 1) for i in range(int(n))})
    labels.update({f"grad{i + 1}": _("−∇L{i} (task {i})").format(i=i + 1) for i in range(int(n))})
    labels.update({f"proj{i + 1}": _("−∇L{i} after PCGrad").format(i=i + 1) for i in range(int(n))})
    return fig.tasks_figure(s, height=height, labels=labels, conflict=conflict(n, method, steps, lr, at))


def tasks_sentences(n: int, method: str, steps: int, lr: float, at: int) -> list[str]:
    s = tasks(n, method, steps, lr)
    cv = conflict(n, method, steps, lr, at)
    v = model.tasks_verdict(s, cv)
    out = []
    if v["ends"] == "diverged":
        out.append(_("**The run left the picture** (the learning rate is too large for these tasks): no point of "
                     "the Pareto set is reached."))
    elif v["ends"] == "pareto":
        if method == "weights":
            if v["spread"] > 0.05:
                out.append(_("**Every fixed weighting ends on the Pareto set, each at a different point** (the ends "
                             "are up to {d} apart): choosing the weights chooses the compromise.").format(
                    d=fmt(v["spread"], 2)))
            else:
                out.append(_("Every fixed weighting ends on the Pareto set, and the ends lie close together "
                             "(at most {d} apart).").format(d=fmt(v["spread"], 2)))
        else:
            out.append(_("**The run ends on the Pareto set**: no direction lowers every task at once there (the "
                         "shortest combination of the tasks' gradients is below 0.001)."))
    else:
        out.append(_("**Not on the Pareto set yet** after {t} steps: a direction still lowers every task at once "
                     "(its length {g}). More steps or a larger rate.").format(t=steps, g=fmt(v["stationarity"], 2)))
    if v["conflict"]:
        out.append(_("At step {k} the tasks' gradients **conflict** (smallest cosine {c}): one task's step raises "
                     "another's loss. PCGrad removes from each gradient its part along a conflicting one (dotted "
                     "arrows).").format(k=min(at, steps), c=fmt(v["min_cos"], 2)))
    elif v["conflict"] is False:
        out.append(_("At step {k} the tasks' gradients **agree** (smallest cosine {c} ≥ 0): every task gains from "
                     "the same step, and PCGrad changes nothing (the dotted arrows lie on the solid ones).").format(
            k=min(at, steps), c=fmt(v["min_cos"], 2)))
    return out


# ----------------------------------------------------------------------------------------------
# 4. privacy
# ----------------------------------------------------------------------------------------------
@st.cache_data(max_entries=64, show_spinner=False)
def rdp_curve(sigma: float, q: float):
    """dp-accounting's RDP of ONE step (σ, q), cached: ε for any T and δ is then ~0.2 ms."""
    return PV.rdp_curve(float(sigma), float(q))


def epsilon(sigma: float, q: float, steps: int, delta: float) -> float:
    """ε of DP-SGD from dp-accounting's RDP accountant (a cached one-step curve, or a fresh
    composition when the library does not expose it); ∞ for σ = 0."""
    if sigma == 0:
        return math.inf
    curve = rdp_curve(sigma, q)
    if curve is None:
        return float(PV.epsilon(sigma, q, int(steps), float(delta)))
    return float(curve.epsilon(int(steps), float(delta)))


@st.cache_data(max_entries=16, show_spinner=False)
def privacy_runs(q: float, steps: int, clip: float) -> model.PrivacyStudy:
    """The training sweep (σ = 0 and every σ of the sweep × 3 seeds); ε is put in by :func:`privacy`."""
    sig = (0.0,) + PV_SIGMAS
    return model.privacy_study(PV_DATASET, noise_multipliers=sig, clip_norm=float(clip), sample_rate=float(q),
                               steps=int(steps), seeds=PV_SEEDS, epsilons=[math.inf] * len(sig))


def privacy(q: float, steps: int, clip: float, delta: float) -> model.PrivacyStudy:
    s = privacy_runs(q, steps, clip)
    eps = [epsilon(float(sg), q, steps, delta) for sg in s.sweep.noise_multiplier]
    return model.with_epsilons(s, eps, delta)


@text_cache_data(max_entries=32, show_spinner=False)
def privacy_figure(q: float, steps: int, clip: float, delta: float, sigma: float, height: int):
    s = privacy(q, steps, clip, delta)
    return fig.privacy_figure(s, height=height, highlight=sigma, labels={
        "dp": _("DP-SGD (mean of 3 seeds)"), "nonprivate": _("no noise (ε = ∞)"),
        "before": _("‖gᵢ‖ before clipping"), "after": _("after clipping at C"),
        "eps": _("ε (δ = {d})").format(d=f"{delta:.0e}"), "acc": _("accuracy (training data)"),
        "norm": _("per-example gradient norm"), "count": _("examples (log)"), "yours": _("your σ"),
        "acc_hover": _("accuracy")})


def privacy_sentences(sigma: float, q: float, steps: int, clip: float, delta: float) -> list[str]:
    s = privacy(q, steps, clip, delta)
    v = model.privacy_verdict(s, sigma)
    out = []
    cost = v["cost"]
    acc = dict(a=f"{100 * v['accuracy']:.1f}", a0=f"{100 * v['accuracy_nonprivate']:.1f}", d=f"{v['drop']:.1f}")
    if cost == "none":
        out.append(_("At σ = {s}, DP-SGD reaches {a} % accuracy against {a0} % without noise: **no measurable "
                     "cost** (within the spread of the seeds).").format(s=fmt(sigma), **acc))
    elif cost == "small":
        out.append(_("At σ = {s}, DP-SGD reaches {a} % accuracy against {a0} % without noise: **privacy costs "
                     "{d} points**.").format(s=fmt(sigma), **acc))
    elif cost == "large":
        out.append(_("At σ = {s}, DP-SGD reaches {a} % accuracy against {a0} % without noise: **privacy costs "
                     "{d} points**, a large price.").format(s=fmt(sigma), **acc))
    if v["clipped"] == "most":
        out.append(_("Clipping at C = {c} shortens **most** examples' gradients ({p} % at the end of the "
                     "non-private run): the update is biased towards the many small gradients.").format(
            c=fmt(clip), p=f"{100 * v['share']:.0f}"))
    elif v["clipped"] == "some":
        out.append(_("Clipping at C = {c} shortens {p} % of the examples' gradients at the end of the non-private "
                     "run: only the largest ones.").format(c=fmt(clip), p=f"{100 * v['share']:.0f}"))
    else:
        out.append(_("At C = {c} no example's gradient is clipped at the end of the non-private run: clipping "
                     "changes nothing there, but the noise σ·C is still added.").format(c=fmt(clip)))
    return out


# ----------------------------------------------------------------------------------------------
# 5. landscapes
# ----------------------------------------------------------------------------------------------
@st.cache_data(max_entries=32, show_spinner=False)
def escape(surface: str, eta: float, rho: float, restarts: int) -> model.EscapeStudy:
    return model.escape_study(surface, x0=LS_X0[surface], eta=float(eta), rho=float(rho), runs=ESCAPE_RUNS,
                              steps=ESCAPE_STEPS, n_restarts=int(restarts))


@st.cache_data(max_entries=8, show_spinner=False)
def basins(surface: str, n: int) -> dict:
    return model.basins_study(surface, n=int(n))


@st.cache_resource(max_entries=1, show_spinner=False)
def slice_network():
    """The chapter-5 MLP trained once per server (≈ 0.1 s); every slice reuses it."""
    return model.train_slice_network()


@st.cache_data(max_entries=16, show_spinner=False)
def loss_slice(n: int, span: float, direction_seed: int) -> model.SliceStudy:
    h, X, y = slice_network()
    return model.slice_study(int(n), span=float(span), direction_seed=int(direction_seed), history=h, data=(X, y))


@text_cache_data(max_entries=32, show_spinner=False)
def escape_figure(surface: str, eta: float, rho: float, restarts: int, height: int):
    return fig.best_so_far_figure(escape(surface, eta, rho, restarts), height=height, labels={
        "plain": _(WAY_NAMES["plain"]), "noise": _(WAY_NAMES["noise"]), "sam": _("SAM (2 gradients per step)"),
        "restarts": _(WAY_NAMES["restarts"]), "global": _("global minimum"), "evals": _("gradient evaluations"),
        "best": _("best loss so far")})


@text_cache_data(max_entries=8, show_spinner=False)
def basins_figures(surface: str, n: int, height: int) -> list:
    res = basins(surface, n)
    s = get_surface(surface)
    return [fig.basins_figure(r, s, title=_(OPTIMIZER_NAMES.get(k, k)), height=height, labels={"start": _("start"), "minima": _("minima")})
            for k, r in res.items()]


@text_cache_data(max_entries=16, show_spinner=False)
def slice_figure(n: int, span: float, direction_seed: int, height: int):
    return fig.slice_figure(loss_slice(n, span, direction_seed), height=height,
                            labels={"z": _("log₁₀ loss"), "trained": _("trained θ*")})


def escape_sentences(surface: str, eta: float, rho: float, restarts: int) -> list[str]:
    s = escape(surface, eta, rho, restarts)
    v = model.escape_verdict(s)
    out = []
    if v["winner"] is None:
        return [_("Every run diverged: nothing to compare.")]
    names = listing(_(WAY_NAMES[k]) for k in v["tie"])
    if not v["plain_stuck"]:
        out.append(_("Plain gradient descent from this start already reaches the lowest loss found ({b}): there is "
                     "no poor minimum to escape from here.").format(b=fmt(v["finals"]["plain"], 4)))
    elif len(v["tie"]) == 1:
        out.append(_("**Lowest loss found: {w}** ({b}); plain gradient descent stays at {p}.").format(
            w=names, b=fmt(v["finals"][v["winner"]], 4), p=fmt(v["finals"]["plain"], 4)))
    else:
        out.append(_("**Lowest loss found, a tie within 0.001: {w}** ({b}); plain gradient descent stays at "
                     "{p}.").format(w=names, b=fmt(v["finals"][v["winner"]], 4), p=fmt(v["finals"]["plain"], 4)))
    if v["global"] is True:
        out.append(_("That is the surface's global minimum."))
    elif v["global"] is False:
        out.append(_("None of them reached the global minimum within this budget."))
    sam, plain = v["finals"]["sam"], v["finals"]["plain"]
    if math.isfinite(sam) and math.isfinite(plain) and abs(sam - plain) <= 1e-3:
        out.append(_("SAM ends where plain descent does: it prefers flat neighbourhoods but, from one start, "
                     "does not jump to another basin."))
    elif math.isfinite(sam) and math.isfinite(plain) and sam > plain:
        out.append(_("SAM's best loss ({s}) stays above plain descent's ({p}): SAM settles where the gradient "
                     "taken ρ uphill vanishes, which is near the minimum, not at it.").format(s=fmt(sam, 4),
                                                                                             p=fmt(plain, 4)))
    elif not math.isfinite(sam):
        out.append(_("SAM diverged at this radius ρ."))
    return out


def basins_sentence(surface: str, n: int) -> str:
    v = model.basins_verdict(basins(surface, n))
    parts = []
    for k, d in v["differs"].items():
        if k == v["reference"]:
            continue
        parts.append(_("{name}: {p} %").format(name=_(OPTIMIZER_NAMES.get(k, k)), p=f"{100 * d:.0f}"))
    most = max((d for k, d in v["differs"].items() if k != v["reference"]), default=0.0)
    if most > 0.1:
        head = _("**The optimizer changes where a start ends up.**")
    elif most > 0:
        head = _("The maps are nearly the same: the optimizer changes the basin of only a few starts.")
    else:
        head = _("The maps are the same: every start ends in the same basin whatever the optimizer.")
    return head + sentence_gap() + _("Starts that end in a different minimum than with SGD: {list}.").format(
        list=listing(parts, ";"))


def slice_sentence(n: int, span: float, direction_seed: int) -> str:
    s = loss_slice(n, span, direction_seed)
    v = model.slice_verdict(s)
    if v["centre_lowest"]:
        head = _("In this slice the trained network θ* is the lowest point (loss {c}); at the edge (±{sp}) the loss "
                 "is up to {r}× higher.").format(c=fmt(v["centre"]), sp=fmt(span), r=fmt(v["rise"]))
    else:
        head = _("In this slice a point other than θ* is lower ({lo} against {c} at θ*): the trained network is "
                 "not a minimum along these two directions (training stopped early, or the slice is wide).").format(
            lo=fmt(v["lowest"]), c=fmt(v["centre"]))
    return head + sentence_gap() + _("**A slice is not the landscape:** two random directions out of {p} parameters show a "
                                     "2-D cut; other directions (and other seeds) can look quite different.").format(
        p=f"{s.n_params:,}")


# ----------------------------------------------------------------------------------------------
# Questions: each outcome read off the run the page draws (the same cached studies)
# ----------------------------------------------------------------------------------------------
def _warmup_outcome(v) -> int | None:
    code = warmup(float(v["wlr"]), int(v["B"]), int(v["w"])).verdict
    return {"spike": 0, "both_spike": 1, "no_difference": 2, "diverged": 3}.get(code)  # no_warmup: none


def _doubling_outcome(v) -> int | None:
    s = scaling(float(v["g"]), int(v["sd"]))
    code = s.regimes[-1]
    return {"perfect": 0, "diminishing": 1, "none": 2}.get(code)


def _stale_outcome(v) -> int | None:
    sv = model.stale_verdict(stale(float(v["sl"]), int(v["tau"])))
    if sv["case"] == "all_stable":
        return 3
    k = sv["last_stable"]
    if k < 0:
        return None
    return 0 if k <= 1 else 1 if k <= 6 else 2


def _drift_outcome(v) -> int | None:
    code = model.federated_verdict(federated(v["d"], int(v["K"]), int(v["R"]), float(v["ni"])))["non_iid"]
    return {"helps": 0, "hurts": 1, "same": 2}.get(code)


def _pareto_outcome(v) -> int | None:
    tv = model.tasks_verdict(tasks(int(v["nt"]), v["m"], int(v["ms"]), float(v["mlr"])))
    if tv["ends"] != "pareto":
        return 2
    return 1 if tv["spread"] > 0.05 else 0


def _conflict_outcome(v) -> int:
    cv = conflict(int(v["nt"]), v["m"], int(v["ms"]), float(v["mlr"]), int(v["at"]))
    return 0 if cv.conflict else 1


def _epsilon_outcome(v) -> int | None:
    T = int(v["T"])
    code = model.epsilon_growth(epsilon(float(v["sig"]), float(v["q"]), T // 2, float(v["dl"])),
                                epsilon(float(v["sig"]), float(v["q"]), T, float(v["dl"])), 2.0)
    return {"linear": 0, "sublinear": 1, "flat": 2}.get(code)


def _cost_outcome(v) -> int | None:
    pv = model.privacy_verdict(privacy(float(v["q"]), int(v["T"]), float(v["C"]), float(v["dl"])), float(v["sig"]))
    return {"none": 0, "small": 1, "large": 2}.get(pv["cost"])


def _sam_outcome(v) -> int | None:
    ev = model.escape_verdict(escape(v["s"], float(v["eta"]), float(v["rho"]), int(v["r"])))
    gm = escape(v["s"], float(v["eta"]), float(v["rho"]), int(v["r"])).restarts.global_min
    if gm is None:
        return None
    return 0 if ev["finals"]["sam"] <= float(gm) + 1e-3 else 1


def _basins_outcome(v) -> int:
    bv = model.basins_verdict(basins(v["s"], int(v["bg"])))
    return 0 if bv["differs"].get("SGD + momentum", 0.0) > 0.1 else 1


Q_WARMUP = lessons.Question(
    "warmup", N_("Eight workers' worth of batch, eight times the rate"),
    N_("Batch 8 trains well at learning rate 0.2. Goyal et al.'s linear rule: batch 512 gets 64 × 0.2 = 12.8. "
       "What does the loss of the large batch do in its first steps, without warm-up and with 50 warm-up steps?"),
    state={"sec": S_SCALE, "wlr": 0.2, "B": 512, "w": 50},
    choices=(N_("Without warm-up it jumps up first; with warm-up it does not"),
             N_("Both jump up: warm-up is not enough"),
             N_("Neither jumps: no difference"),
             N_("Without warm-up it diverges")),
    outcome=_warmup_outcome,
    explanation=N_("On logistic regression the curvature is largest at the start (θ = 0) and falls as the model "
                   "learns. The scaled rate is above 2/λ_max at the start (the dotted line on the right), so the "
                   "first steps overshoot; warm-up raises the rate only as the curvature falls."))

Q_DOUBLING = lessons.Question(
    "doubling", N_("One more doubling of the batch"),
    N_("Linear regression on the diabetes data. The batch goes from 256 to 512 examples per step (twice the "
       "workers). The number of steps to reach the target …"),
    state={"sec": S_SCALE, "g": 0.02, "sd": 3},
    choices=(N_("halves (perfect scaling)"), N_("falls, but by less than half"), N_("does not fall")),
    outcome=_doubling_outcome,
    explanation=N_("Read the last two points of the left chart. Beyond the bend (near B_crit), a larger batch "
                   "averages away noise that no longer limits progress: the steps stop falling and the examples "
                   "used (right chart) grow almost in proportion to the batch."))

Q_STALE = lessons.Question(
    "stale", N_("Stale gradients"),
    N_("Gradient descent on ½λθ² at η·λ = 0.3 converges easily (the limit for fresh gradients is 2). Each worker's "
       "gradient arrives τ steps late. Up to which delay does the run still converge?"),
    state={"sec": S_STALE, "sl": 0.3, "tau": 20},
    choices=(N_("up to τ = 1 only"), N_("up to τ = 2 … 6"), N_("up to τ = 7 … 19"), N_("every delay up to 20")),
    outcome=_stale_outcome,
    explanation=N_("The delayed iteration θ_{t+1} = θ_t − ηλθ_{t−τ} is stable only for ηλ < 2 sin(π/(2(2τ+1))), "
                   "about π/(2τ+1) for large τ: the stable rate shrinks roughly like 1/τ. The left chart shows "
                   "the limit; the dotted runs on the right are the unstable ones."))

Q_DRIFT = lessons.Question(
    "drift", N_("More local steps, different data"),
    N_("Federated averaging, 5 workers, 30 rounds. Each worker's data are sorted by the target (very different). "
       "With 20 local steps per round instead of 1, the final loss is …"),
    state={"sec": S_STALE, "d": "diabetes", "K": 5, "R": 30, "ni": 1.0},
    choices=(N_("lower: more work per round helps"), N_("higher: the workers drift apart"), N_("the same")),
    outcome=_drift_outcome,
    explanation=N_("Each worker walks towards the minimum of its own data; the average of those minima is not the "
                   "minimum of all the data. Compare the two panels: with the same mix (left) more local steps "
                   "save rounds; with different data (right) they pull the average away."))

Q_PARETO = lessons.Question(
    "pareto", N_("Fixed weights"),
    N_("Two tasks share two parameters. Five runs minimize w₁L₁ + w₂L₂ with fixed weights from (0.1, 0.9) to "
       "(0.9, 0.1). Where do they end?"),
    state={"sec": S_TASKS, "nt": 2, "m": "weights", "ms": 200, "mlr": 0.05, "at": 0},
    choices=(N_("All at the same compromise"), N_("Each at a different point of the Pareto set"),
             N_("Not on the Pareto set")),
    outcome=_pareto_outcome,
    explanation=N_("Each weighting has its own minimum, and every such minimum is Pareto-optimal: no point lowers "
                   "both losses at once. The weights do not find 'the' answer; they choose a compromise."))

Q_CONFLICT = lessons.Question(
    "conflict", N_("Gradients at the end"),
    N_("PCGrad, 200 steps. At the run's last point, do the two tasks' gradients conflict (point more than 90° "
       "apart)?"),
    state={"sec": S_TASKS, "nt": 2, "m": "pcgrad", "ms": 200, "mlr": 0.05, "at": 200},
    choices=(N_("Yes, they conflict"), N_("No, they agree")),
    outcome=_conflict_outcome,
    explanation=N_("On the Pareto set between the two minima, lowering one task raises the other: the gradients "
                   "point against each other. At the start, far from both minima, they agreed."))

Q_EPSILON = lessons.Question(
    "epsilon", N_("Twice the training, how much more privacy spent?"),
    N_("DP-SGD with σ = 1, q = 0.05, δ = 10⁻⁵. Training for 400 steps instead of 200, the privacy cost ε …"),
    state={"sec": S_PRIVACY, "sig": 1.0, "q": 0.05, "T": 400, "C": 1.0, "dl": 1e-5},
    choices=(N_("doubles"), N_("grows, but by less than double"), N_("stays the same")),
    outcome=_epsilon_outcome,
    explanation=N_("Each step spends a little privacy, and the accountant adds the steps up in Rényi DP, where "
                   "composition is additive; converted to (ε, δ) the total grows roughly like √T, not like T."))

Q_COST = lessons.Question(
    "dp_cost", N_("The price of privacy"),
    N_("Logistic regression on the breast-cancer data, 200 steps. With σ = 4 (a strong guarantee), how much "
       "accuracy does DP-SGD lose against the same training without noise?"),
    state={"sec": S_PRIVACY, "sig": 4.0, "q": 0.05, "T": 200, "C": 1.0, "dl": 1e-5},
    choices=(N_("Nothing measurable"), N_("Less than 5 points"), N_("5 points or more")),
    outcome=_cost_outcome,
    explanation=N_("Noise of σ·C per step, divided by the expected batch qN ≈ 28, is large against a clipped "
                   "gradient of length ≤ C: the model moves more slowly and less precisely. Read the left chart "
                   "from right (no noise) to left (small ε)."))

Q_SAM = lessons.Question(
    "sam", N_("Does SAM escape?"),
    N_("Six-hump camel from (1.5, 0.8): plain gradient descent stops in a poor local minimum. Sharpness-aware "
       "minimization looks for flat neighbourhoods. Does SAM reach the global minimum?"),
    state={"sec": S_LAND, "s": "six_hump_camel", "eta": 100.0, "rho": 0.2, "r": 16},
    choices=(N_("Yes"), N_("No")),
    outcome=_sam_outcome,
    explanation=N_("SAM takes the gradient at a point ρ uphill from θ, which flattens the sharp walls it sees, "
                   "but from one start it still descends into the basin it is in. Noise and restarts explore; SAM "
                   "does not."))

Q_BASINS = lessons.Question(
    "basins", N_("Same start, other optimizer"),
    N_("Six-hump camel, a grid of starts. Does momentum (β = 0.9) send more than 10 % of the starts to a different "
       "minimum than plain SGD?"),
    state={"sec": S_LAND, "s": "six_hump_camel", "bg": 30},
    choices=(N_("Yes"), N_("No")),
    outcome=_basins_outcome,
    explanation=N_("Momentum carries the point over low ridges, so near the borders of basins (and on the far "
                   "side of a shallow minimum) the same start ends elsewhere. Compare the first two maps."))

LESSON = lessons.Lesson(
    "challenges", N_("The challenges ahead, in numbers"),
    steps=(
        lessons.Step(N_("More workers, larger batches"), N_("Averaging K workers' gradients is one step with a "
                                                             "K times larger batch."), ask=Q_DOUBLING),
        lessons.Step(N_("The linear scaling rule"), N_("A larger batch, a proportionally larger rate: and the first "
                                                       "steps?"), ask=Q_WARMUP),
        lessons.Step(N_("Stale gradients"), N_("Asynchronous workers apply gradients computed a few steps ago."),
                     ask=Q_STALE),
        lessons.Step(N_("Local steps and different data"), N_("Federated averaging saves communication, if the data "
                                                              "allow it."), ask=Q_DRIFT),
        lessons.Step(N_("Many tasks, one model"), N_("Two losses over the same parameters."), ask=Q_PARETO),
        lessons.Step(N_("Conflicting gradients"), N_("Where two tasks pull apart."), ask=Q_CONFLICT),
        lessons.Step(N_("Privacy has a budget"), N_("ε grows with every step that touches the data."),
                     ask=Q_EPSILON),
        lessons.Step(N_("Privacy has a price"), N_("Clipping and noise protect each example, at a cost."),
                     ask=Q_COST),
        lessons.Step(N_("A poor local minimum"), N_("Ways out: noise, restarts, SAM."), ask=Q_SAM),
    ),
    summary=N_("Nine predictions, one per challenge of the article's last section: how far data parallelism "
               "scales, warm-up, stale and drifting workers, conflicting tasks, the privacy budget and its price, "
               "and escaping a poor minimum."),
    minutes=25)

CHAPTER = lessons.Chapter(PAGE, N_("Challenges ahead"),
                          questions=(Q_DOUBLING, Q_WARMUP, Q_STALE, Q_DRIFT, Q_PARETO, Q_CONFLICT, Q_EPSILON,
                                     Q_COST, Q_SAM, Q_BASINS),
                          lessons=(LESSON,))


# ----------------------------------------------------------------------------------------------
# Divergences: the shared named box (ui.divergence_box) for runs that were stopped
# ----------------------------------------------------------------------------------------------
RUN_NAMES = {"base": N_("batch 8, base rate"), "scaled": N_("large batch, scaled rate, no warm-up"),
             "warm": N_("large batch, scaled rate, warm-up"), "plain": WAY_NAMES["plain"],
             "noise": WAY_NAMES["noise"], "sam": WAY_NAMES["sam"], "run": N_("the multi-task run")}


def stopped(study) -> list[Divergence]:
    """The stopped runs of a study, named for the divergence box."""
    why = _("its loss (or position) stopped being a finite number")
    return [Divergence(who=_(RUN_NAMES[k]), step=int(step), why=why) for k, step in model.stopped_runs(study)]
