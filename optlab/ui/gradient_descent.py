r"""The chapter page "Gradient descent" (pages/2_…): its linkable state, cached runs (each planned
against a work budget), the sentences its captions choose from the verdicts of
:mod:`optlab.chapters.gradient_descent`, its questions and its lesson.

Every caption that claims something (closest, jitters, shrinks the cloud, diverges, crawls,
faster …) is chosen here from a verdict code computed on the runs the page draws; the question
cards read their answers off the same runs (one function for both).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import streamlit as st

from .. import schedules, specs
from ..chapters import gradient_descent as model
from ..figures import gradient_descent as fig
from ..figures.gradient_descent import DASH, fmt_factor, fmt_gap, fmt_line, fmt_num
from ..i18n import domain, listing, sentences
from . import lessons, state
from .data_surfaces import (corner_start, dataset, dataset_description, feature_names, fig_surface, gap, min_value,
                            minimum, run_of, surface)
from .i18n import cache_data as text_cache_data, cache_resource as text_cache_resource

_, N_, ngettext = domain("gradient_descent")

DIAB = "diabetes"
ARTICLE = (("article",), "mse", (), None)
FEATURES = ("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6")
# What the diabetes columns measure (scikit-learn's description of the data set: s1 tc, s2 ldl,
# s3 hdl, s4 tch, s5 ltg, s6 glu); the column name is the value, this is what the student reads.
FEATURE_LABELS = {"age": N_("age"), "sex": N_("sex"), "bmi": N_("bmi (body mass index)"),
                  "bp": N_("bp (blood pressure)"), "s1": N_("s1 (serum: total cholesterol)"),
                  "s2": N_("s2 (serum: LDL cholesterol)"), "s3": N_("s3 (serum: HDL cholesterol)"),
                  "s4": N_("s4 (serum: total / HDL cholesterol)"), "s5": N_("s5 (serum: log triglycerides)"),
                  "s6": N_("s6 (blood sugar)")}


def feature_label(name: str) -> str:
    return _(FEATURE_LABELS.get(name, name))


def mse_spec(feature: str) -> tuple:
    """The (w, b) MSE surface of a line fitted to one standardized diabetes feature."""
    return (("feature", DIAB, feature, False), "mse", (), None)


# ----------------------------------------------------------------------------------------------
# Linkable state (optlab/ui/state.py): one declaration per widget
# ----------------------------------------------------------------------------------------------
SECTIONS = [N_("Batch vs SGD"), N_("Learning rate"), N_("Momentum"), N_("Schedules"), N_("Article's code"),
            N_("Fixed code")]
SEC_VAR, SEC_LR, SEC_MOM, SEC_SCHED, SEC_ART, SEC_FIX = SECTIONS
SECTION = state.Section(SECTIONS, "gd_section", codes=["variants", "lr", "momentum", "schedules", "article", "fixed"])

V_LRS = (0.003, 0.01, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5)
V_BATCHES = (2, 4, 8, 16, 32, 64, 128, 256)
V_FEATURE = state.Choice("f", "gd_feature", FEATURES, "bmi", label=N_("feature x (standardized)"), section=SEC_VAR)
V_LR = state.Choice("lr", "gd_lr", V_LRS, 0.1, label=N_("learning rate (same for all three)"), section=SEC_VAR)
V_BATCH = state.Choice("b", "gd_batch", V_BATCHES, 16, label=N_("mini-batch size b"), section=SEC_VAR)
V_EPOCHS = state.Int("e", "gd_epochs", 1, 10, 3, label=N_("epochs (passes over the data)"), section=SEC_VAR)
V_SEED = state.Int("s", "gd_seed", 0, 10_000, 0, label=N_("seed (which samples are drawn)"), section=SEC_VAR)

PRESETS = ("too small", "good", "oscillating", "diverging", "custom")
PRESET_LABELS = {"too small": N_("too small"), "good": N_("good"), "oscillating": N_("oscillating"),
                 "diverging": N_("diverging"), "custom": N_("custom")}
# The custom box takes any number a student types (a bounded number box would refuse 1e6 in the
# browser, with a tooltip only): the page clamps it into specs.LR_MIN … LR_MAX and says so.
TYPED_LIMIT = 1e300
L_PRESET = state.Choice("p", "gd_preset", PRESETS, "good", codes=["small", "good", "osc", "div", "custom"],
                        label=N_("learning-rate preset (batch gradient descent)"), section=SEC_LR)
L_CUSTOM = state.Float("c", "gd_lr_custom", -TYPED_LIMIT, TYPED_LIMIT, 0.3, label=N_("custom learning rate"),
                       section=SEC_LR)
L_STEPS = state.Int("n", "gd_lr_steps", 20, 200, 80, step=10, label=N_("steps"), section=SEC_LR)

M_LRS = (0.01, 0.02, 0.05, 0.1, 0.11, 0.15, 0.2)
M_LR = state.Choice("ml", "gd_mo_lr", M_LRS, 0.1, label=N_("learning rate γ"), section=SEC_MOM)
M_BETA = state.Float("mb", "gd_mo_beta", 0.0, 0.99, 0.9, step=0.01, label=N_("momentum β"), section=SEC_MOM)
M_STEPS = state.Int("mn", "gd_mo_steps", 50, 1000, 300, step=50, label=N_("steps"), section=SEC_MOM)

SCHEDULES = ("step", "exponential", "cosine", "warmup_cosine")
SC_NAME = state.Choice("sc", "gd_sched", SCHEDULES, "cosine", label=N_("schedule"), section=SEC_SCHED)
SC_BATCH = state.Choice("sb", "gd_sched_bs", (1, 2, 4, 8, 16, 32, 64), 1, label=N_("batch size"), section=SEC_SCHED)
SC_LR = state.Choice("sg", "gd_sched_lr", (0.01, 0.03, 0.1, 0.2, 0.3), 0.1, label=N_("base learning rate γ₀"),
                    section=SEC_SCHED)
SC_EPOCHS = state.Int("se", "gd_sched_epochs", 1, 6, 3, label=N_("epochs"), section=SEC_SCHED)

F_LR = state.Choice("gl", "gd_art_lr", (0.001, 0.003, 0.01, 0.03, 0.05, 0.1, 0.11, 0.13, 0.2), 0.1,
                    label=N_("GD learning rate"), section=SEC_FIX)
F_STEPS = state.Int("gn", "gd_art_steps", 50, 3000, 1000, step=50, label=N_("GD steps"), section=SEC_FIX)
F_SGD_LR = state.Choice("sl", "gd_art_sgd_lr", (0.001, 0.003, 0.01, 0.02, 0.05, 0.1), 0.02,
                        label=N_("SGD learning rate"), section=SEC_FIX)
F_SGD_STEPS = state.Int("sn", "gd_art_sgd_steps", 100, 5000, 2000, step=100, label=N_("SGD steps"), section=SEC_FIX)

PAGE = state.Page("Gradient_descent", [SECTION, V_FEATURE, V_LR, V_BATCH, V_EPOCHS, V_SEED, L_PRESET, L_CUSTOM,
                                       L_STEPS, M_LR, M_BETA, M_STEPS, SC_NAME, SC_BATCH, SC_LR, SC_EPOCHS, F_LR,
                                       F_STEPS, F_SGD_LR, F_SGD_STEPS],
                  title=N_("Gradient descent"), domain="gradient_descent")


def schedule_title(name: str) -> str:
    return _(schedules.get(name).title)


def preset_label(cv: model.Curvature, p: str) -> str:
    if p == "custom":
        return _(PRESET_LABELS[p])
    return _("{preset} (lr = {lr})").format(preset=_(PRESET_LABELS[p]), lr=fmt_num(cv.presets[p]))


# ----------------------------------------------------------------------------------------------
# Layout helpers (CSS only: no maths)
# ----------------------------------------------------------------------------------------------
# Two charts side by side need ~900 px; the main column is ~560 px at 1024 px with the sidebar
# open.  A container query (on the column's own width, not the window's) stacks the pair then.
_PAIR_CSS = """
<style>
[class*="st-key-gd_pair_"], [class*="st-key-gd_ctl_"] { container-type: inline-size; }
@container (max-width: 820px) {
  [class*="st-key-gd_pair_"] [data-testid="stHorizontalBlock"] { flex-wrap: wrap; }
  [class*="st-key-gd_pair_"] [data-testid="stColumn"] { min-width: 100% !important; flex: 1 1 100% !important; }
  [class*="st-key-gd_ctl_"] [data-testid="stHorizontalBlock"] { flex-wrap: wrap; row-gap: 0.2rem; }
  [class*="st-key-gd_ctl_"] [data-testid="stColumn"] { min-width: 160px !important; flex: 1 1 160px !important; }
  .st-key-gd_top [data-testid="stHorizontalBlock"] { flex-wrap: wrap; row-gap: 0.3rem; }
  .st-key-gd_top [data-testid="stColumn"] { min-width: 100% !important; flex: 1 1 100% !important; }
}
.st-key-gd_top { container-type: inline-size; }
/* the Section control wraps into rows instead of scrolling sideways (sections hidden off-screen) */
.st-key-gd_section [role="radiogroup"] { flex-wrap: wrap; overflow-x: visible; row-gap: 0.25rem; }
</style>
"""


def pair_css() -> None:
    """Once per run, before the page's chart pairs: stack a pair when its container is narrow."""
    st.html(_PAIR_CSS)


def pair(key: str, spec=(2, 3)):
    """Two columns that stack when the page is narrow (see :data:`_PAIR_CSS`)."""
    box = st.container(key=f"gd_pair_{key}")
    return box.columns(list(spec), gap="medium")


def top_row():
    """(section control, copy link): side by side, or one under the other when the page is narrow."""
    box = st.container(key="gd_top")
    return box.columns([5, 1.3], vertical_alignment="bottom")


def controls(key: str, spec):
    """A row of widgets that wraps (at least 160 px each) when the page is narrow."""
    box = st.container(key=f"gd_ctl_{key}")
    return box.columns(spec if isinstance(spec, int) else list(spec))


# ----------------------------------------------------------------------------------------------
# Budgets: what was cut, said in one sentence of the page's language
# ----------------------------------------------------------------------------------------------
def cut_sentence_epochs(cut) -> str:
    return ngettext("{requested} epochs of every variant are more than this page computes in one go: each runs "
                    "{allowed} epoch instead, so the comparison stays at equal cost.",
                    "{requested} epochs of every variant are more than this page computes in one go: each runs "
                    "{allowed} epochs instead, so the comparison stays at equal cost.",
                    cut.allowed).format(requested=cut.requested, allowed=cut.allowed)


def cut_sentence_steps(cut, allowed: Mapping[str, int]) -> str:
    parts = listing(_("{run}: {n}").format(run=k, n=v) for k, v in allowed.items())
    return _("{requested} steps in all are more than this page computes in one go: each run keeps its share of "
             "the work ({parts} steps).").format(requested=f"{cut.requested:,}", parts=parts)


# ----------------------------------------------------------------------------------------------
# 1. Batch, mini-batch, SGD
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Variants:
    """The variants section's setup: ``runs`` = ((label, kind, run tuple), …) in the order batch,
    mini-batch, SGD; ``epochs`` actually run (≤ asked: the budget), ``cut`` (None: as asked)."""

    spec: tuple
    n: int
    start: tuple
    lr: float
    batch: int
    epochs: int
    runs: tuple
    cut: Any


def variants(feature: str, lr: float, batch: int, epochs: int, seed: int) -> Variants:
    spec = mse_spec(feature)
    n = surface(spec).n_samples
    start = corner_start(surface(spec).window)
    e, cut = model.fit_epochs(int(epochs), [None, int(batch), 1], n)
    e = max(e, 1)
    runs = (
        (_("batch GD (b = N = {n})").format(n=n), "batch", specs.run_tuple("sgd", {"lr": lr}, start, e)),
        (_("mini-batch (b = {b})").format(b=batch), "minibatch",
         specs.run_tuple("sgd", {"lr": lr}, start, model.epochs_to_steps(e, batch, n), batch_size=int(batch),
                         seed=int(seed))),
        (_("SGD (b = 1)"), "sgd", specs.run_tuple("sgd", {"lr": lr}, start, model.epochs_to_steps(e, 1, n),
                                                  batch_size=1, seed=int(seed))),
    )
    return Variants(spec, n, start, float(lr), int(batch), e, runs, cut)


def variants_of(v: Mapping[str, Any]) -> Variants:
    return variants(str(v["f"]), float(v["lr"]), int(v["b"]), int(v["e"]), int(v["s"]))


def variants_runs(setup: Variants) -> list:
    return [run_of(setup.spec, r) for _label, _kind, r in setup.runs]


def variants_verdict(setup: Variants, trs=None) -> model.VariantsVerdict:
    trs = trs if trs is not None else variants_runs(setup)
    return model.variants_verdict(surface(setup.spec), trs, setup.start, setup.lr)


def floor_of(spec: tuple) -> float:
    """f − f* below which a gap is "≈ 0" on this surface (:func:`optlab.chapters.gradient_descent.gap_floor`)."""
    return model.gap_floor(surface(spec))


def variant_name(i: int) -> str:
    return (_("batch GD"), _("mini-batch"), _("SGD"))[i]


def variants_caption(setup: Variants, trs, vd: model.VariantsVerdict) -> str:
    """The sentences of the variants section: which run ends closest, and what the noise does."""
    fl = floor_of(setup.spec)
    out = []
    if vd.closest is None:
        out.append(_("All three runs diverged at this learning rate."))
    elif len(vd.ties) > 1:
        names = [variant_name(i) for i in vd.ties]
        out.append(ngettext("After {e} epoch {names} end about as close to the least-squares point (f − f\\* = "
                            "{gaps}): within ×{f} of each other, a difference the draw of samples can turn round.",
                            "After {e} epochs {names} end about as close to the least-squares point (f − f\\* = "
                            "{gaps}): within ×{f} of each other, a difference the draw of samples can turn round.",
                            setup.epochs).format(
            e=setup.epochs, names=_(" and ").join(names), f=fmt_num(model.SAME_FACTOR),
            gaps=_(" and ").join(fmt_gap(vd.finals[i], fl) for i in vd.ties)))
    else:
        out.append(ngettext("After {e} epoch **{name}** ends closest to the least-squares point (f − f\\* = {gap}).",
                            "After {e} epochs **{name}** ends closest to the least-squares point (f − f\\* = {gap}).",
                            setup.epochs).format(e=setup.epochs, name=variant_name(vd.closest),
                                                 gap=fmt_gap(vd.finals[vd.closest], fl)))
    if vd.jitter == "noise":
        out.append(_("Near the minimum the smaller batch jitters more: over the last 10 % of the steps SGD's "
                     "f − f\\* averages {r}× mini-batch's. Both have reached their noise floor (without "
                     "sampling noise SGD would be at {b2} and mini-batch at {b1}), and a mini-batch gradient's "
                     "variance falls like 1/b.").format(r=fmt_num(vd.ratio, 3), b1=fmt_gap(vd.biases[1], fl, 2),
                                                        b2=fmt_gap(vd.biases[2], fl, 2)))
    elif vd.jitter == "similar":
        out.append(_("Near the minimum SGD and mini-batch jitter about as much: over the last 10 % of the steps they "
                     "average {t2} and {t1}, within ×{f} of each other.").format(
            f=fmt_num(model.SAME_FACTOR), t2=fmt_gap(vd.tails[2], fl), t1=fmt_gap(vd.tails[1], fl)))
    elif vd.jitter == "reverse":
        out.append(_("In this draw mini-batch stays farther from the minimum than SGD over the last 10 % of the "
                     "steps ({t1} against {t2}), although on average a smaller batch jitters more: another seed "
                     "may turn it round.").format(t1=fmt_gap(vd.tails[1], fl), t2=fmt_gap(vd.tails[2], fl)))
    elif vd.jitter == "descending":
        out.append(_("The noisy runs have not reached their noise floor yet: without sampling noise mini-batch "
                     "would still be at f − f\\* ≈ {b1} and SGD at {b2} over the last 10 % of the steps, so what they "
                     "have left is mostly descent still to go. More epochs or a larger learning rate get them "
                     "there.").format(b1=fmt_gap(vd.biases[1], fl, 3), b2=fmt_gap(vd.biases[2], fl, 3)))
    elif vd.jitter == "none":
        out.append(_("Mini-batch and SGD both end at the minimum, to rounding: no noise is left to compare."))
    return sentences(out)


def variants_table(setup: Variants, trs, vd: model.VariantsVerdict) -> list[dict]:
    fl = floor_of(setup.spec)
    rows = []
    for i, ((label, _kind, r), tr) in enumerate(zip(setup.runs, trs)):
        b = r[4] or setup.n
        rows.append({_("variant"): label, _("steps"): f"{tr.steps:,}", _("sample gradients"): f"{tr.steps * b:,}",
                     _("final f − f*"): fmt_gap(vd.finals[i], fl), _("last 10 %: mean f − f*"): fmt_gap(vd.tails[i], fl),
                     _("without noise"): fmt_gap(vd.biases[i], fl, 3)})
    return rows


# ----------------------------------------------------------------------------------------------
# 2. Learning rate
# ----------------------------------------------------------------------------------------------
LR_SPEC = mse_spec("bmi")


def curvature(spec: tuple) -> model.Curvature:
    """Hessian eigenvalues at the minimum and the learning-rate presets they imply."""
    return model.curvature(surface(spec))


def contraction(spec: tuple, lr: float) -> float:
    """max |1 − η λ| at the minimum: GD's error shrinks by this factor per step."""
    return model.contraction(surface(spec), lr)


@dataclass(frozen=True)
class LrRun:
    lr: float            # the learning rate run (clamped into the app's range)
    typed: float | None  # what the custom box holds, when it was clamped
    clamped: str | None  # "low", "high", "nan" or None
    steps: int
    run: tuple
    cut: Any


def lr_run(preset: str, custom: float, steps: int) -> LrRun:
    cv = curvature(LR_SPEC)
    clamped, typed = None, None
    if preset == "custom":
        lr, clamped = model.clamp_lr(custom)
        typed = float(custom) if clamped else None
    else:
        lr = cv.presets[preset]
    (n,), cut = model.fit_steps([(int(steps), None)])
    start = corner_start(surface(LR_SPEC).window)
    return LrRun(float(lr), typed, clamped, n, specs.run_tuple("sgd", {"lr": lr}, start, n), cut)


def lr_run_of(v: Mapping[str, Any]) -> LrRun:
    return lr_run(str(v["p"]), float(v["c"]), int(v["n"]))


def clamp_sentence(r: LrRun) -> str | None:
    if r.clamped is None:
        return None
    if r.clamped == "high":
        why = _("is above the largest learning rate this app runs, {hi}").format(hi=fmt_num(specs.LR_MAX))
    elif r.clamped == "low":
        why = _("is below the smallest learning rate this app runs, {lo} (a learning rate is positive)").format(
            lo=fmt_num(specs.LR_MIN))
    else:
        why = _("is not a number")
    return _("The custom learning rate {typed} {why}: the run uses lr = {used}. Your number stays in the box.").format(
        typed=fmt_num(r.typed, 6), why=why, used=fmt_num(r.lr))


def lr_caption(r: LrRun, tr) -> str:
    cv = curvature(LR_SPEC)
    rho = contraction(LR_SPEC, r.lr)
    regime = model.lr_regime(cv, r.lr)
    if cv.lam_max <= cv.lam_min * (1 + 1e-9):
        eig = _("Here the Hessian of the MSE, `2·mean(x̃ x̃ᵀ)` with x̃ = (x, 1), has both eigenvalues equal to λ = {lam} "
                "(x is standardized: the bowl is round), so gradient descent is stable for lr < 2/λ = {crit}.").format(
            lam=fmt_num(cv.lam_max), crit=fmt_num(cv.critical))
    else:
        eig = _("Here the Hessian of the MSE has eigenvalues λ_min = {lo} and λ_max = {hi}, so gradient descent is "
                "stable for lr < 2/λ_max = {crit}.").format(lo=fmt_num(cv.lam_min), hi=fmt_num(cv.lam_max),
                                                           crit=fmt_num(cv.critical))
    ratio = _("With lr = {lr} ({x}× that limit)").format(lr=fmt_num(r.lr), x=fmt_num(r.lr / cv.critical, 3))
    verdict = {
        "newton": _("{ratio} one step lands on the minimum: with equal curvatures lr = 1/λ is exactly Newton's "
                    "step."),
        "monotone": _("{ratio} the error is multiplied by {rho} per step: it shrinks without overshooting."),
        "overshoot": _("{ratio} the error is multiplied by −{rho} per step: it flips sign every step (the path "
                       "zig-zags across the minimum) while it shrinks."),
        "marginal": _("{ratio} the error is multiplied by −1 per step: it flips sign and keeps its size, so the "
                      "path jumps between two points forever, neither closer nor farther."),
        "diverges": _("{ratio} the error is multiplied by −{rho} per step: it flips sign and grows, so the run "
                      "diverges."),
    }[regime].format(ratio=ratio, rho=fmt_factor(rho))
    f0 = gap(LR_SPEC, tr.losses[0])
    fl = floor_of(LR_SPEC)
    if tr.diverged:
        after = _("The run was stopped at step {k}.").format(k=tr.diverged_at)
    else:
        g = gap(LR_SPEC, tr.final_loss)
        if g <= fl:
            after = ngettext("After {n} step the run is at the minimum, to rounding (f − f\\* ≈ 0).",
                             "After {n} steps the run is at the minimum, to rounding (f − f\\* ≈ 0).",
                             tr.steps).format(n=tr.steps)
        else:
            after = ngettext("After {n} step f − f\\* = {g}", "After {n} steps f − f\\* = {g}", tr.steps).format(
                n=tr.steps, g=fmt_num(g, 3)) + _share(g, f0)
    return sentences([eig, verdict, after])


def _share(g: float, f0: float) -> str:
    """What is left of the start's f − f*, as the end of a sentence."""
    x = g / f0 if f0 > 0 else math.nan
    if not math.isfinite(x) or x <= 0:
        return "."
    if x >= 0.01:
        digits = 3 if not 0.99 < x < 1 else max(3, int(math.ceil(-math.log10(1 - x))) + 2)
        return _(" ({p} % of where it started).").format(p=fmt_num(100 * x, digits))
    return _(" ({x} times smaller than at the start).").format(x=fmt_num(1 / x, 3))


def lr_growth_warning(r: LrRun, tr) -> str | None:
    """Above the stability limit, the run not yet stopped: say that it will be, and roughly when."""
    rho = contraction(LR_SPEC, r.lr)
    if tr.diverged or rho <= 1:
        return None
    s = surface(LR_SPEC)
    err0 = float(s.distance_to_minimum(tr.xs[0]))
    (w0, w1), (b0, b1) = s.window
    bound = 100.0 * max(abs(w0), abs(w1), abs(b0), abs(b1))
    k = model.steps_to_leave(rho, err0, bound)
    return _("**lr = {lr} is above the stability limit 2/λ_max = {crit}**: the error grows ×{rho} per step. After "
             "{n} steps the run has not left the region yet; at this rate it does after about {k} steps.").format(
        lr=fmt_num(r.lr), crit=fmt_num(curvature(LR_SPEC).critical), rho=fmt_factor(rho), n=tr.steps,
        k=fmt_num(k, 3))


# ----------------------------------------------------------------------------------------------
# 3. Momentum on the article's data with an intercept (a narrow valley)
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Momentum:
    lr: float
    beta: float
    steps: int
    gd: tuple
    hb: tuple
    cut: Any


def momentum(lr: float, beta: float, steps: int) -> Momentum:
    (n1, n2), cut = model.fit_steps([(int(steps), None), (int(steps), None)])
    n = min(n1, n2)
    x0 = tuple(float(v) for v in surface(ARTICLE).starts[0])
    gd = specs.run_tuple("sgd", {"lr": lr}, x0, n)
    hb = specs.run_tuple("sgd", {"lr": lr, "momentum": beta}, x0, n)
    return Momentum(float(lr), float(beta), n, gd, hb, cut)


def momentum_of(v: Mapping[str, Any]) -> Momentum:
    return momentum(float(v["ml"]), float(v["mb"]), int(v["mn"]))


def momentum_verdict(m: Momentum) -> tuple[Any, Any, model.MomentumVerdict]:
    gd, hb = run_of(ARTICLE, m.gd), run_of(ARTICLE, m.hb)
    return gd, hb, model.momentum_verdict(surface(ARTICLE), gd, hb, m.lr, m.beta)


def _steps_text(k: int, n: int) -> str:
    return ngettext("{k} step", "{k} steps", k).format(k=k) if k >= 0 else _("not within {n} steps").format(n=n)


def momentum_caption(m: Momentum, v: model.MomentumVerdict) -> str:
    cv = curvature(ARTICLE)
    head = _("The article's four points fitted with an intercept: the Hessian's eigenvalues are {lo} and {hi} "
             "(κ = {k}), a valley {k} times steeper across than along.").format(
        lo=fmt_num(cv.lam_min, 3), hi=fmt_num(cv.lam_max, 3), k=fmt_num(cv.lam_max / cv.lam_min, 3))

    def rate(r):
        return (_("shrinks ×{r} per step").format(r=fmt_factor(r, 4)) if r < 1
                else _("grows ×{r} per step").format(r=fmt_factor(r, 4)))

    rates = _("Predicted for the error: GD {gd}, momentum {hb}.").format(gd=rate(v.rates[0]), hb=rate(v.rates[1]))
    g, h = v.steps
    shrink = _("Steps to shrink f − f\\* 10⁶×: GD {g}, momentum {h}.").format(g=_steps_text(g, m.steps),
                                                                         h=_steps_text(h, m.steps))
    verdict = {
        "same": _("With β = 0 momentum is plain gradient descent: the two paths are one."),
        "both_diverge": _("At lr = {lr} both diverge: even momentum's larger stability limit 2(1 + β)/λ_max = {lim} "
                          "is below it."),
        "gd_diverges": _("At lr = {lr} plain GD diverges (its limit is 2/λ_max = {crit}) but momentum converges: "
                         "its limit is 2(1 + β)/λ_max = {lim}."),
        "hb_diverges": _("At lr = {lr} momentum diverges while plain GD does not."),
        "both": (_("**Momentum gets there {x}× faster** than plain GD.") if h < g else
                 _("**Momentum is slower here** than plain GD ({x}× the steps): with this β the path spirals too "
                   "long.") if h > g else _("Both get there in the same number of steps.")),
        "hb_only": _("**Only momentum gets there** within {n} steps: plain GD crawls along the flat direction."),
        "gd_only": _("**Only plain GD gets there** within {n} steps: with this β momentum keeps spiralling."),
        "neither": _("Neither gets there within {n} steps."),
    }[v.code].format(lr=fmt_num(m.lr), n=m.steps, crit=fmt_num(cv.critical, 3),
                     lim=fmt_num(2 * (1 + m.beta) / cv.lam_max, 3),
                     x=fmt_num((g / h) if (h > 0 and g > 0 and h < g) else (h / g if g > 0 else math.nan), 3))
    if v.code in ("same", "both_diverge", "gd_diverges", "hb_diverges"):
        return sentences([head, verdict, rates])
    return sentences([head, rates, shrink, verdict])


# ----------------------------------------------------------------------------------------------
# 4. Schedules
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Schedules:
    spec: tuple
    start: tuple
    name: str
    batch: int
    lr: float
    epochs: int
    steps: int
    sched_spec: Any
    runs: tuple  # ((label, kind, run tuple): constant, scheduled)
    cut: Any


def schedule_runs(name: str, batch: int, lr: float, epochs: int) -> Schedules:
    spec = LR_SPEC
    n = surface(spec).n_samples
    start = corner_start(surface(spec).window)
    e, cut = model.fit_epochs(int(epochs), [int(batch), int(batch)], n)
    e = max(e, 1)
    steps = model.epochs_to_steps(e, batch, n)
    sspec = model.schedule_spec(name, steps)
    runs = ((_("constant lr"), "constant", specs.run_tuple("sgd", {"lr": lr}, start, steps, batch_size=batch, seed=0)),
            (schedule_title(name), "scheduled",
             specs.run_tuple("sgd", {"lr": lr}, start, steps, batch_size=batch, seed=0, schedule=sspec)))
    return Schedules(spec, start, name, int(batch), float(lr), e, steps, sspec, runs, cut)


def schedules_of(v: Mapping[str, Any]) -> Schedules:
    return schedule_runs(str(v["sc"]), int(v["sb"]), float(v["sg"]), int(v["se"]))


def schedule_verdict(s: Schedules):
    trs = [run_of(s.spec, r) for _label, _kind, r in s.runs]
    return trs, model.schedule_verdict(surface(s.spec), trs, s.start)


def schedule_caption(s: Schedules, v: model.ScheduleVerdict) -> str:
    sched = model.schedule_object(s.sched_spec)
    head = ngettext("SGD with batch size {b}, {n} steps ({e} epoch), base lr {lr}.",
                    "SGD with batch size {b}, {n} steps ({e} epochs), base lr {lr}.", s.epochs).format(
        b=s.batch, n=f"{s.steps:,}", e=s.epochs, lr=fmt_num(s.lr))
    tc, ts = v.tails
    fl = floor_of(s.spec)
    nums = _("Over the last 10 % of the steps f − f\\* averages {tc} with a constant lr and {ts} with {name}; without "
             "sampling noise the two would end at {bc} and {bs}.").format(
        tc=fmt_gap(tc, fl), ts=fmt_gap(ts, fl), name=schedule_title(s.name), bc=fmt_gap(v.biases[0], fl, 3),
        bs=fmt_gap(v.biases[1], fl, 3))
    verdict = {
        "diverged": _("A run diverged: see the warning."),
        "rounding": _("Both runs end at the minimum, to rounding: nothing is left for the schedule to shrink."),
        "closer_noise": _("**The schedule ends {x}× closer.** The constant-rate run sits in its noise cloud (its gap is "
                          "mostly noise, not descent still to go), and the noise that remains is proportional to the "
                          "learning rate: shrinking the rate at the end shrank the cloud."),
        "closer": _("**The schedule ends {x}× closer**, although the constant-rate run has not reached its noise "
                    "cloud yet: here the smaller steps helped the descent itself."),
        "similar": _("**About the same:** the two end within ×{f} of each other ({x}×), no clear effect of the "
                     "schedule at these settings."),
        "farther_descent": _("**The schedule ends {x}× farther.** It shrank the rate before the run got near the "
                             "minimum: even without noise it would end at f − f\\* ≈ {bs}, so most of its gap is descent "
                             "still to go. A schedule pays off once the constant-rate run has reached its noise "
                             "floor: give it more steps (more epochs or a smaller batch)."),
        "farther": _("**The schedule ends {x}× farther** in this draw, and its gap is mostly noise: at these "
                     "settings the schedule did not shrink the cloud."),
    }[v.code].format(x=fmt_num(1 / v.ratio if v.ratio < 1 else v.ratio, 3), f=fmt_num(model.SAME_FACTOR),
                     bs=fmt_gap(v.biases[1], fl, 3))
    torch = _("torch: `{torch}`, stepped once per optimizer step.").format(torch=sched.torch)
    if v.code in ("diverged", "rounding"):
        return sentences([head, verdict, torch])
    return sentences([head, nums, verdict, torch])


def zoom_window(spec: tuple, trs, keep: float = 0.5, pad: float = 1.6) -> tuple:
    """A square window around the minimum that holds the last ``keep`` share of every run."""
    return model.zoom_window(minimum(spec), trs, keep, pad)


# ----------------------------------------------------------------------------------------------
# 5-6. The article's code and the corrected version
# ----------------------------------------------------------------------------------------------
@text_cache_resource(max_entries=32, show_spinner=False)  # holds text: keyed by language
def article_corrected(lr_gd: float, steps_gd: int, lr_sgd: float, steps_sgd: int, seed: int = 0):
    """:func:`optlab.chapters.gradient_descent.corrected`, shared (it holds a surface; read-only)."""
    return model.corrected(lr_gd=lr_gd, steps_gd=steps_gd, lr_sgd=lr_sgd, steps_sgd=steps_sgd, seed=seed)


@st.cache_data(max_entries=8, show_spinner=False)
def article_replays(seeds: tuple = (0, 1, 2)):
    """The article's GD (in place, as written, and out of place) and its SGD for a few seeds."""
    return (model.replay_gd(seed=seeds[0]), model.replay_gd(seed=seeds[0], in_place=False),
            {s: model.replay_sgd(seed=s) for s in seeds})


@st.cache_data(max_entries=8, show_spinner=False)
def article_numpy_fixes(seed: int = 0):
    X, y = model.article_data()
    return model.fixed_numpy_gd(X, y, seed=seed), model.fixed_numpy_sgd(X, y, seed=seed)


@dataclass(frozen=True)
class Fixed:
    lr_gd: float
    steps_gd: int
    lr_sgd: float
    steps_sgd: int
    cut: Any


def fixed(lr_gd: float, steps_gd: int, lr_sgd: float, steps_sgd: int) -> Fixed:
    (a, b), cut = model.fit_steps([(int(steps_gd), None), (int(steps_sgd), 1)])
    return Fixed(float(lr_gd), a, float(lr_sgd), b, cut)


def fixed_of(v: Mapping[str, Any]) -> Fixed:
    return fixed(float(v["gl"]), int(v["gn"]), float(v["sl"]), int(v["sn"]))


def fixed_run(f: Fixed):
    return article_corrected(f.lr_gd, f.steps_gd, f.lr_sgd, f.steps_sgd, 0)


ROW_LABELS = {"closed": N_("closed form: np.linalg.lstsq"), "gd": N_("optlab: gradient descent"),
              "sgd": N_("optlab: SGD, batch size 1"), "numpy_gd": N_("article's loop, minimally fixed: GD"),
              "numpy_sgd": N_("article's loop, minimally fixed: SGD")}


def fixed_rows(c, ngd, nsgd) -> list[dict]:
    """The results table as text: '—' where a value is undefined (a diverged run), "≈ 0" for an
    MSE below rounding (the data lie exactly on a line)."""
    fl = model.gap_floor(c.surface)
    out = []
    for r in model.article_rows(c, ngd, nsgd):
        if r["key"] == "closed":
            how = _("exact")
        elif r["key"].startswith("numpy"):
            how = _("lr {lr}, {n} iterations (the article's)").format(lr=fmt_num(r["lr"]), n=f"{r['steps']:,}")
        else:
            how = ngettext("{n} step, lr {lr}", "{n} steps, lr {lr}", r["steps"]).format(
                n=f"{r['steps']:,}", lr=fmt_num(r["lr"]))
            if r["key"] == "sgd":
                how = _("{how}, seeded").format(how=how)
        out.append({_("method"): _(ROW_LABELS[r["key"]]), "w": fmt_num(r["w"], 10), "b": fmt_num(r["b"], 3),
                    "‖θ − θ*‖": fmt_num(r["error"], 3), "MSE": fmt_gap(r["mse"], fl, 3), _("run"): how})
    return out


def fixed_caption(c, f: Fixed) -> str:
    cv = curvature(ARTICLE)
    rho = contraction(ARTICLE, f.lr_gd)

    def end(tr, err):
        if tr.diverged:
            return _("diverged at step {k}").format(k=tr.diverged_at)
        return (_("ends on it, to rounding") if err < 1e-12 else _("ends {err} from it").format(err=fmt_num(err, 3)))

    head = _("Closed form: {line}. optlab's gradient descent {gd}; SGD {sgd}.").format(
        line=fmt_line(*c.closed_form), gd=end(c.gd, c.gd_error), sgd=end(c.sgd, c.sgd_error))
    cond = _("With the intercept the Hessian's eigenvalues are {lo} and {hi} (κ = {k}), so GD needs lr < 2/λ_max = "
             "{crit}.").format(lo=fmt_num(cv.lam_min, 3), hi=fmt_num(cv.lam_max, 3),
                               k=fmt_num(cv.lam_max / cv.lam_min, 3), crit=fmt_num(cv.critical, 3))
    if rho > 1:
        reg = _("At lr = {lr} the error grows ×{rho} per step along the steep direction: GD diverges.").format(
            lr=fmt_num(f.lr_gd), rho=fmt_factor(rho, 4))
    elif rho > 0.9:
        reg = _("At lr = {lr} the error shrinks by at most ×{rho} per step, set by the flat direction: GD crawls "
                "along it, {k} steps for every 10× closer.").format(lr=fmt_num(f.lr_gd), rho=fmt_factor(rho, 4),
                                                                    k=fmt_num(model.crawl_steps(rho), 4))
    else:
        reg = _("At lr = {lr} the error shrinks by at least ×{rho} per step: {k} steps for every 10× closer.").format(
            lr=fmt_num(f.lr_gd), rho=fmt_factor(rho, 4), k=fmt_num(model.crawl_steps(rho), 4))
    return sentences([head, cond, reg])


# ----------------------------------------------------------------------------------------------
# Presenter mode: the key numbers of a section in one line above its charts
# ----------------------------------------------------------------------------------------------
def key_variants(setup: Variants, vd: model.VariantsVerdict) -> str:
    fl = floor_of(setup.spec)
    return ngettext("**f − f\\* after {e} epoch:** batch GD {a} · mini-batch {b} · SGD {c}",
                    "**f − f\\* after {e} epochs:** batch GD {a} · mini-batch {b} · SGD {c}", setup.epochs).format(
        e=setup.epochs, a=fmt_gap(vd.finals[0], fl, 3), b=fmt_gap(vd.finals[1], fl, 3), c=fmt_gap(vd.finals[2], fl, 3))


def key_lr(r: LrRun, tr) -> str:
    g = gap(LR_SPEC, tr.final_loss)
    end = (_("diverged at step {k}").format(k=tr.diverged_at) if tr.diverged
           else fmt_gap(g, floor_of(LR_SPEC), 3))
    return _("**lr = {lr}** · error ×{rho} per step · f − f\\* after {n} steps: {end}").format(
        lr=fmt_num(r.lr), rho=fmt_factor(contraction(LR_SPEC, r.lr)), n=tr.steps, end=end)


def key_momentum(m: Momentum, v: model.MomentumVerdict) -> str:
    g, h = v.steps
    return _("**Steps to shrink f − f\\* 10⁶×:** GD {g} · momentum {h}").format(
        g=_steps_text(g, m.steps), h=_steps_text(h, m.steps))


def key_schedules(s: Schedules, v: model.ScheduleVerdict) -> str:
    fl = floor_of(s.spec)
    return _("**Last 10 % of the steps, mean f − f\\*:** constant {tc} · {name} {ts}").format(
        tc=fmt_gap(v.tails[0], fl), ts=fmt_gap(v.tails[1], fl), name=schedule_title(s.name))


def key_fixed(c) -> str:
    def err(tr, e):
        return _("diverged") if tr.diverged else fmt_num(e, 3)

    return _("**‖θ − θ\\*‖ at the end:** GD {gd} · SGD {sgd}").format(gd=err(c.gd, c.gd_error),
                                                                   sgd=err(c.sgd, c.sgd_error))


# ----------------------------------------------------------------------------------------------
# Cached figures
# ----------------------------------------------------------------------------------------------
@text_cache_data(max_entries=64, show_spinner=False)  # holds text: keyed by language
def fig_paths(spec: tuple, labelled_runs: tuple, *, height: int = 430, window: tuple | None = None,
              extra_points: tuple = ()):
    """The (w, b) contour with the runs ``((label, kind, run), …)`` as their SGD variants, paths haloed."""
    coloured = tuple((label, fig.VARIANTS[kind], r) for label, kind, r in labelled_runs)
    f = fig_surface(spec, coloured, height=height, window=window, extra_points=extra_points)
    f = fig.halo(f)
    f.update_layout(showlegend=False, margin=dict(t=10))  # the curves beside it name the runs
    return f


@text_cache_data(max_entries=64, show_spinner=False)  # holds text: keyed by language
def fig_variants_curves(spec: tuple, labelled_runs: tuple, height: int = 380):
    n = surface(spec).n_samples
    rows = [(label, run_of(spec, r), r[4] or n, kind) for label, kind, r in labelled_runs]
    return fig.variants_curves(rows, n, min_value(spec), height=height)


@text_cache_data(max_entries=64, show_spinner=False)  # holds text: keyed by language
def fig_schedule(spec: tuple, labelled_runs: tuple, height: int = 420):
    return fig.schedule_curves([(label, run_of(spec, r), kind) for label, kind, r in labelled_runs],
                               min_value(spec), height=height)


@text_cache_data(max_entries=64, show_spinner=False)  # holds text: keyed by language
def fig_lr_curve(spec: tuple, labelled_runs: tuple, height: int = 360):
    return fig.lr_curve([(label, run_of(spec, r), kind) for label, kind, r in labelled_runs], min_value(spec),
                        height=height)


@text_cache_data(max_entries=32, show_spinner=False)  # holds text: keyed by language
def fig_momentum_curves(labelled_runs: tuple, height: int = 380):
    from ..figures import core

    paths = []
    for label, kind, r in labelled_runs:
        tr = run_of(ARTICLE, r)
        paths.append((label, tr.xs, {"name": "sgd", "variant": fig.VARIANTS[kind], "losses": tr.losses,
                                     "diverged_at": tr.diverged_at,
                                     "diverged_reason": tr.diverged_reason}))
    f = core.loss_curves(paths, gap_to=min_value(ARTICLE), height=height, floor=1e-30)
    f.update_traces(line=dict(width=2.6), selector=dict(mode="lines"))
    fig.decade_ticks(f, [t.y for t in f.data])
    return fig._legend_top(f)


@text_cache_data(max_entries=32, show_spinner=False)  # holds text: keyed by language
def fig_article(lr_gd: float, steps_gd: int, lr_sgd: float, steps_sgd: int, seed: int = 0, height: int = 360):
    """(fit figure, loss-curve figure) of the corrected runs."""
    from ..figures import core

    c = article_corrected(lr_gd, steps_gd, lr_sgd, steps_sgd, seed)
    closed, gdl, sgdl = _("closed form"), _("optlab GD"), _("optlab SGD")
    lines = {closed: tuple(c.closed_form)}
    for label, tr in ((gdl, c.gd), (sgdl, c.sgd)):
        if not tr.diverged:
            lines[label] = tuple(tr.final_x)
    fit = fig.article_fit(c.x, c.y, lines, kinds={closed: "closed", gdl: "batch", sgdl: "sgd"}, height=height)
    paths = [(label, tr.xs, {"name": "sgd", "variant": fig.VARIANTS[k], "losses": tr.losses,
                             "diverged_at": tr.diverged_at})
             for label, tr, k in ((_("gradient descent"), c.gd, "batch"), (_("SGD, batch size 1"), c.sgd, "sgd"))]
    curves = fig._legend_top(core.loss_curves(paths, gap_to=c.surface.min_value, height=height))
    fig.decade_ticks(curves, [t.y for t in curves.data])
    return fit, curves


@text_cache_data(max_entries=8, show_spinner=False)  # holds text: keyed by language
def fig_article_theta(seeds: tuple = (0, 1, 2), height: int = 320):
    _gd, _out, sgd = article_replays(seeds)
    return fig.article_theta({_("seed {s}: θ₀ = {t}").format(s=s, t=fmt_num(r.theta0[0, 0], 3)): r.thetas
                              for s, r in sgd.items()}, target=1.0, height=height)


# ----------------------------------------------------------------------------------------------
# Questions (predict, commit, reveal, check) and the lesson
# ----------------------------------------------------------------------------------------------
def _closest(v) -> int | None:
    vd = variants_verdict(variants_of(v))
    return vd.closest if len(vd.ties) == 1 else None


def _jumping(v) -> int | None:
    """Which paths keep jumping around the minimum: 0 only SGD, 1 SGD and mini-batch, 2 all three,
    3 none (None: another combination)."""
    setup = variants_of(v)
    j = model.jumping(surface(setup.spec), variants_runs(setup), setup.start, setup.lr)
    return {(False, False, True): 0, (False, True, True): 1, (True, True, True): 2,
            (False, False, False): 3}.get(tuple(j))


def _lr_first_step(v) -> int:
    """0: the loss rises from the first step; 1: it falls for a while, then rises; 2: it never rises."""
    tr = run_of(LR_SPEC, lr_run_of(v).run)
    return model.loss_shape(tr.losses, tr.diverged)


def _momentum_faster(v) -> int:
    _gd, _hb, vd = momentum_verdict(momentum_of(v))
    return 0 if model.momentum_faster(vd) else 1


def _momentum_rescues(v) -> int:
    _gd, hb, _vd = momentum_verdict(momentum_of(v))
    return 1 if hb.diverged else 0


def _schedule_closer(v) -> int:
    _trs, vd = schedule_verdict(schedules_of(v))
    return 0 if vd.code in ("closer_noise", "closer") else 1


def _matches(v) -> int:
    c = fixed_run(fixed_of(v))
    return 0 if model.matches_closed_form(c.gd_error) else 1


Q_EPOCH = lessons.Question(
    "gd_one_epoch", N_("One pass over the data"),
    N_("One epoch each at lr 0.1: batch GD takes 1 step on all 442 patients, mini-batch (b = 16) takes 28 steps and "
       "SGD 442, for the same 442 sample gradients. Which one ends closest to the least-squares point?"),
    state={"sec": SEC_VAR, "e": 1, "lr": 0.1, "b": 16},
    choices=(N_("batch GD"), N_("mini-batch (b = 16)"), N_("SGD (b = 1)")),
    outcome=_closest,
    explanation=N_("Read the table: batch GD has taken a single step of size 0.1·∇f, so most of the way is still "
                   "ahead; the noisy variants took many cheaper steps for the same number of sample gradients. Per "
                   "unit of computation, noisy steps win early: that is why deep learning trains with mini-batches."))

Q_JUMP = lessons.Question(
    "gd_noise_floor", N_("Noise near the minimum"),
    N_("lr 0.3 for all three, 5 epochs, mini-batches of 16. At the end, which paths keep jumping around the "
       "minimum (their loss going up and down) instead of settling?"),
    state={"sec": SEC_VAR, "lr": 0.3, "e": 5, "b": 16},
    choices=(N_("only SGD (b = 1)"), N_("SGD and mini-batch"), N_("all three"), N_("none of them")),
    outcome=_jumping,
    explanation=N_("Batch GD's error shrinks by |1 − 0.3·2| = 0.4 per step, every step: its loss never rises. SGD and "
                   "mini-batch follow the same mean path, but each step adds noise the size of lr × the gradient's "
                   "sampling noise, so near the minimum they hover in a cloud (the running means in the chart flatten "
                   "out) whose size grows with lr and shrinks with b. The **Schedules** section shows the cure."))

Q_DIVERGE = lessons.Question(
    "gd_past_limit", N_("Past the limit"),
    N_("Preset \"diverging\": lr is 20 % above the stability limit 2/λ. Does the loss fall for a while before it "
       "blows up, or rise from the very first step?"),
    state={"sec": SEC_LR, "p": "diverging", "n": 80},
    choices=(N_("It rises from the first step"), N_("It falls first, then rises"), N_("It never rises")),
    outcome=_lr_first_step,
    explanation=N_("Every step multiplies the error by the same factor 1 − lr·λ, here −1.4: the error flips sign and "
                   "grows by 40 % from the first step, so there is no good phase first. The path zig-zags across the "
                   "minimum with growing amplitude until the run leaves the region and is stopped (the warning names "
                   "the step). Compare \"oscillating\": the same zig-zag, shrinking (×0.8 per step)."))

Q_MOMENTUM = lessons.Question(
    "gd_momentum", N_("Momentum in the article's valley"),
    N_("The article's four points with an intercept make a narrow valley (κ ≈ 56). At lr 0.1 plain GD crawls along "
       "it. With momentum β = 0.9, does the loss shrink 10⁶× in fewer steps than plain GD?"),
    state={"sec": SEC_MOM, "ml": 0.1, "mb": 0.9, "mn": 300},
    choices=(N_("Yes, in fewer steps"), N_("No: more steps, or never")),
    outcome=_momentum_faster,
    explanation=N_("Compare the step counts under the chart. Plain GD's error along the flat direction shrinks by "
                   "1 − 0.1·0.3 ≈ 0.97 per step; with β = 0.9 the path overshoots and spirals, but its error shrinks "
                   "by about √0.9 ≈ 0.95 per step. The heavy ball keeps a running direction: along the valley the "
                   "gradients agree and add up, across it they alternate and cancel."))

Q_RESCUE = lessons.Question(
    "gd_momentum_limit", N_("Beyond GD's limit"),
    N_("lr 0.15 is above plain GD's stability limit 2/λ_max ≈ 0.12 here: GD diverges. With momentum β = 0.9, does "
       "the heavy ball diverge too?"),
    state={"sec": SEC_MOM, "ml": 0.15, "mb": 0.9, "mn": 300},
    choices=(N_("No, it converges"), N_("Yes, it diverges too")),
    outcome=_momentum_rescues,
    explanation=N_("Momentum's stability limit is 2(1 + β)/λ_max ≈ 0.23 at β = 0.9: the buffer averages the flips "
                   "of the steep direction out. The caption gives both limits."))

Q_COSINE = lessons.Question(
    "gd_cosine", N_("Cosine annealing for SGD"),
    N_("SGD with batch size 1, base lr 0.1, 3 epochs. The scheduled run starts with the same steps and the same "
       "draws of samples, then its rate falls to 0 (cosine). Will it end closer to the minimum than the constant "
       "rate?"),
    state={"sec": SEC_SCHED, "sc": "cosine", "sb": 1, "sg": 0.1, "se": 3},
    choices=(N_("Yes, closer"), N_("No, not closer")),
    outcome=_schedule_closer,
    explanation=N_("Both descend alike while the rates are similar, then the constant-rate run hovers in its noise "
                   "cloud while the cosine rate shrinks the steps, and with them the noise: in the zoomed contour "
                   "the scheduled path contracts onto the minimum. The caption gives both averages."))

Q_STEP_EARLY = lessons.Question(
    "gd_step_early", N_("A schedule that decays too soon"),
    N_("Step decay, batch size 64, 6 epochs: only about 41 steps, and the rate halves every 8. Will the schedule end "
       "closer to the minimum than the constant rate?"),
    state={"sec": SEC_SCHED, "sc": "step", "sb": 64, "sg": 0.1, "se": 6},
    choices=(N_("Yes, closer"), N_("No, not closer")),
    outcome=_schedule_closer,
    explanation=N_("With batches of 64 the noise is small, and 41 steps at lr 0.1 do not even finish the descent "
                   "(each full step shrinks the error only ×0.8). Halving the rate every 8 steps slows the descent "
                   "further: the scheduled run ends farther, and its noise-free twin shows why. A schedule shrinks "
                   "the noise cloud; it cannot replace steps."))

Q_ARTICLE_LR = lessons.Question(
    "gd_article_lr", N_("The article's learning rate, with an intercept"),
    N_("The article's lr 0.01 and its 1,000 iterations, now on ŷ = w·x + b. Will gradient descent match the closed "
       "form to 4 decimals?"),
    state={"sec": SEC_FIX, "gl": 0.01, "gn": 1000},
    choices=(N_("Yes"), N_("No")),
    outcome=_matches,
    explanation=N_("No: the flat direction of the (w, b) surface (λ_min ≈ 0.3) shrinks by only 1 − 0.01·0.3 ≈ 0.997 "
                   "per step, about 770 steps for every 10× closer. The article's model had no intercept, a "
                   "one-dimensional problem where lr 0.01 is plenty. Try lr 0.13, just above 2/λ_max: the run "
                   "diverges, and the warning says when."))

LESSON = lessons.Lesson(
    "gradient_descent", N_("How much data per step, and how large a step"),
    steps=(
        lessons.Step(N_("Equal cost, different steps"),
                     N_("Three ways to spend one pass over the data. Ask the class first, then commit one answer."),
                     ask=Q_EPOCH),
        lessons.Step(N_("The price of noise"), N_("A larger learning rate and five epochs."), ask=Q_JUMP),
        lessons.Step(N_("Too large a step"), N_("Batch gradient descent with lr 20 % above 2/λ."), ask=Q_DIVERGE),
        lessons.Step(N_("A narrow valley"), N_("The article's data with an intercept. Add momentum."), ask=Q_MOMENTUM),
        lessons.Step(N_("Shrinking the steps at the end"), N_("Back to SGD: a cosine schedule."), ask=Q_COSINE),
        lessons.Step(N_("When a schedule does not help"), N_("Same idea, other settings."), ask=Q_STEP_EARLY),
        lessons.Step(N_("Back to the article"), N_("Its learning rate, on the corrected model."), ask=Q_ARTICLE_LR),
    ),
    summary=N_("Seven predictions on real data: batch, mini-batch and SGD at equal cost, SGD's noise floor, the "
               "stability limit, momentum in a narrow valley, when a schedule helps and when it does not, and the "
               "article's own learning rate."),
    minutes=20)

CHAPTER = lessons.Chapter(PAGE, N_("Gradient descent"),
                          questions=(Q_EPOCH, Q_JUMP, Q_DIVERGE, Q_MOMENTUM, Q_RESCUE, Q_COSINE, Q_STEP_EARLY,
                                     Q_ARTICLE_LR),
                          lessons=(LESSON,))


__all__ = ["SECTIONS", "SECTION", "PAGE", "CHAPTER", "LESSON", "mse_spec", "variants", "variants_of",
           "variants_runs", "variants_verdict", "variants_caption", "variants_table", "lr_run", "lr_run_of",
           "clamp_sentence", "lr_caption", "lr_growth_warning", "momentum", "momentum_of", "momentum_verdict",
           "momentum_caption", "schedule_runs", "schedules_of", "schedule_verdict", "schedule_caption", "fixed",
           "fixed_of", "fixed_run", "fixed_rows", "fixed_caption", "fig_paths", "fig_variants_curves", "fig_schedule",
           "fig_lr_curve", "fig_momentum_curves", "fig_article", "fig_article_theta", "article_corrected",
           "article_replays", "article_numpy_fixes", "curvature", "contraction", "zoom_window", "pair", "pair_css",
           "preset_label", "schedule_title", "feature_label", "FEATURE_LABELS", "controls", "top_row", "key_variants", "key_lr", "key_momentum", "key_schedules", "key_fixed", "cut_sentence_epochs", "cut_sentence_steps",
           # shared with the loss-functions page (optlab.ui.data_surfaces)
           "corner_start", "dataset", "dataset_description", "feature_names", "gap", "min_value", "minimum", "run_of",
           "surface"]
