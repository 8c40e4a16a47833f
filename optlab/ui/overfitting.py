"""Streamlit side of the chapter "Overfitting, regularization and gradient problems": the page's
linkable state (:mod:`optlab.ui.state`), cached wrappers of :mod:`optlab.chapters.overfitting`
planned within one rerun's work budget (:mod:`optlab.budget`), the predictions and the lesson
(:mod:`optlab.ui.lessons`).  No NumPy maths here: every number and verdict comes from the chapter.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping

import streamlit as st

from .. import mlp, polynomial, surfaces
from ..budget import Budget
from ..chapters import overfitting as model
from ..i18n import domain
from . import lessons, state
from .i18n import cache_data as text_cache_data

_, N_, ngettext = domain("overfitting")

# ----------------------------------------------------------------------------------------------
# The page's state (URL keys of 1-2 letters)
# ----------------------------------------------------------------------------------------------
SECTIONS = [N_("Overfitting"), N_("Penalties"), N_("Early stop"), N_("CV for lr"), N_("Gradients"), N_("Clipping")]
FIT, REG, ES, CV, LAB, CLIFF = SECTIONS
SECTION = state.Section(SECTIONS, "ov_section", codes=["fit", "reg", "es", "cv", "lab", "cliff"])

FUNCS = tuple(polynomial.TRUTHS)
# data of the first two sections (page-wide: both draw the same sample)
N = state.Int("n", "ov_n", 8, 200, 20, label=N_("training points n"))
NOISE = state.Float("s", "ov_noise", 0.0, 1.0, 0.25, step=0.05, label=N_("noise σ"))
FUNC = state.Choice("f", "ov_func", FUNCS, "sin", label=N_("true function f"))
SEED = state.Int("r", "ov_seed", 0, 9999, 0, label=N_("sample"))
# 1. overfitting
DEGREE = state.Int("d", "ov_degree", 0, polynomial.MAX_DEGREE, 3, label=N_("polynomial degree d (model complexity)"),
                   section=FIT)
# 2. regularization
REG_DEGREE = state.Int("rd", "ov_reg_degree", 1, polynomial.MAX_DEGREE, 12, label=N_("polynomial degree d"), section=REG)
LAM2 = state.Choice("l2", "ov_lam2", model.LAMBDA_OPTIONS, 0.001, label=N_("λ for L2 (ridge)"), section=REG)
LAM1 = state.Choice("l1", "ov_lam1", model.LAMBDA_OPTIONS, 0.01, label=N_("λ for L1 (lasso)"), section=REG)
# 3. early stopping
_ESD = model.EarlyStopSettings()
PATIENCE = state.Int("p", "ov_patience", 1, 30, 5, label=N_("patience (checks)"), section=ES)
ES_N = state.Choice("en", "ov_es_n", model.ES_SIZES, _ESD.n, label=N_("number of training points"), section=ES)
ES_NOISE = state.Float("es", "ov_es_noise", 0.0, 0.6, _ESD.noise, step=0.05, label=N_("noise σ"), section=ES)
ES_WIDTH = state.Choice("ew", "ov_es_width", model.ES_WIDTHS, _ESD.width, label=N_("hidden units per layer"),
                        section=ES)
ES_EPOCHS = state.Choice("ee", "ov_es_epochs", model.ES_EPOCHS, _ESD.epochs, label=N_("epochs"), section=ES)
# 4. learning rate by cross-validation
CV_OPT = state.Choice("co", "ov_cv_opt", ("sgd", "adam"), "sgd", label=N_("optimizer"), section=CV)
CV_K = state.Int("k", "ov_cv_k", 2, 10, 5, label=N_("folds k"), section=CV)
CV_STEPS = state.Choice("cs", "ov_cv_steps", model.CV_STEPS, 100, label=N_("steps per run"), section=CV)
CV_LO = state.Choice("lo", "ov_cv_lo", model.LR_OPTIONS, 0.001, label=N_("smallest learning rate"), section=CV)
CV_HI = state.Choice("hi", "ov_cv_hi", model.LR_OPTIONS, 3.16, label=N_("largest learning rate"), section=CV)
CV_DEGREE = state.Int("cd", "ov_cv_degree", 1, 12, 8, label=N_("model: polynomial degree"), section=CV)
CV_N = state.Int("cn", "ov_cv_n", 20, 200, 60, step=10, label=N_("data: points"), section=CV)
# 5. gradient lab
_LD = model.LabSettings()
LAB_VIEWS = ("setup", "train", "compare")
LAB_DEPTH = state.Int("L", "ov_lab_depth", 2, 30, _LD.depth, label=N_("hidden layers"), section=LAB)
LAB_WIDTH = state.Choice("w", "ov_lab_width", model.LAB_WIDTHS, _LD.width, label=N_("units per layer"), section=LAB)
LAB_STEPS = state.Choice("t", "ov_lab_steps", model.LAB_STEPS, _LD.steps,
                         label=N_("training steps (mini-batches of 64)"), section=LAB)
LAB_ACT = state.Choice("a", "ov_lab_act", mlp.ACTIVATIONS, _LD.activation, label=N_("activation φ"), section=LAB)
LAB_INIT = state.Choice("i", "ov_lab_init", mlp.INITS, _LD.init, label=N_("initialisation"), section=LAB)
LAB_SCALE = state.Choice("is", "ov_lab_scale", model.LAB_SCALE_OPTIONS, _LD.init_scale,
                         label=N_("s: std of the naive init"), section=LAB)
LAB_BN = state.Flag("bn", "ov_lab_bn", False, label=N_("batch normalization"), section=LAB)
LAB_RES = state.Flag("rc", "ov_lab_res", False, label=N_("residual connections"), section=LAB)
LAB_CLIP = state.Flag("gc", "ov_lab_clip", False, label=N_("gradient clipping"), section=LAB)
LAB_CLIPNORM = state.Choice("gn", "ov_lab_clipnorm", model.LAB_CLIP_OPTIONS, 1.0,
                            label=N_("clip the gradient norm at"), section=LAB)
LAB_OPT = state.Choice("o", "ov_lab_opt", ("sgd", "adam"), _LD.optimizer, label=N_("optimizer"), section=LAB)
LAB_LR = state.Choice("lr", "ov_lab_lr", model.LAB_LR_OPTIONS, _LD.lr, label=N_("learning rate"), section=LAB)
LAB_VIEW = state.Choice("v", "ov_lab_view", LAB_VIEWS, "setup", label=N_("shown"), section=LAB)
LAB_PARAMS = (LAB_DEPTH, LAB_WIDTH, LAB_STEPS, LAB_ACT, LAB_INIT, LAB_SCALE, LAB_BN, LAB_RES, LAB_CLIP,
              LAB_CLIPNORM, LAB_OPT, LAB_LR)
# 6. clipping on a cliff
CLIFF_STARTS = len(surfaces.get("cliff").starts)
CL_OPT = state.Choice("xo", "ov_cl_opt", model.CLIFF_OPTIMIZERS, "sgd", label=N_("optimizer"), section=CLIFF)
CL_LR = state.Choice("xl", "ov_cl_lr", model.CLIFF_LR_OPTIONS, 0.1, label=N_("learning rate"), section=CLIFF)
CL_CLIP = state.Choice("xc", "ov_cl_clip", model.CLIFF_CLIP_OPTIONS, 1.0, label=N_("clip ‖g‖ at"), section=CLIFF)
CL_STEPS = state.Int("xn", "ov_cl_steps", 20, 300, 100, step=10, label=N_("steps"), section=CLIFF)
CL_START = state.Choice("xs", "ov_cl_start", tuple(range(CLIFF_STARTS)), 0, label=N_("start"), section=CLIFF)

PAGE = state.Page("Overfitting_and_gradients",
                  [SECTION, N, NOISE, FUNC, SEED, DEGREE, REG_DEGREE, LAM2, LAM1, PATIENCE, ES_N, ES_NOISE, ES_WIDTH,
                   ES_EPOCHS, CV_OPT, CV_K, CV_STEPS, CV_LO, CV_HI, CV_DEGREE, CV_N, *LAB_PARAMS, LAB_VIEW,
                   CL_OPT, CL_LR, CL_CLIP, CL_STEPS, CL_START],
                  title=N_("Overfitting and gradients"), domain="overfitting")


def _v(values: Mapping[str, Any], p: state.Param):
    """The value of ``p`` in ``values`` (url key -> value), or its default."""
    return values.get(p.url, p.default)


# ----------------------------------------------------------------------------------------------
# Cached computations (each bounded: see the chapter's docstrings and bench/bench_worst_case.py)
# ----------------------------------------------------------------------------------------------
@st.cache_data(max_entries=64, show_spinner=False)
def degree_fit(n: int, noise: float, degree: int, seed: int, func: str) -> model.DegreeFit:
    return model.degree_fit(n, noise, degree, seed, func)


@st.cache_data(max_entries=32, show_spinner=False)
def learning_curve(degree: int, noise: float, seed: int, func: str) -> model.LearningCurve:
    return model.learning_curve(degree, noise, seed=seed, func=func)


@st.cache_data(max_entries=64, show_spinner=False)
def regularization_study(n: int, noise: float, degree: int, lam_l2: float, lam_l1: float, seed: int,
                         func: str) -> model.RegularizationStudy:
    return model.regularization_study(n, noise, degree, lam_l2, lam_l1, seed, func)


@st.cache_data(max_entries=16, show_spinner=False)
def early_stopping_run(settings: model.EarlyStopSettings) -> model.EarlyStopRun:
    """One training run serves every patience (the rule is replayed on it)."""
    return model.train_early_stopping(settings)


def early_stopping(values: Mapping[str, Any]) -> tuple[model.EarlyStopStudy, Any]:
    """``(study, cut)`` of the early-stopping section for the page's ``values`` (url key -> value):
    the epochs planned within one rerun's budget, one cached run, the patience replayed."""
    s = dataclasses.replace(_ESD, n=int(_v(values, ES_N)), noise=float(_v(values, ES_NOISE)),
                            width=int(_v(values, ES_WIDTH)), epochs=int(_v(values, ES_EPOCHS)),
                            seed=int(_v(values, SEED)))
    planned, cut = model.plan_early_stopping(s, TRAIN_BUDGET)
    return model.early_stopping_study(early_stopping_run(planned), int(_v(values, PATIENCE))), cut


@text_cache_data(max_entries=64, show_spinner=False)  # holds text (divergence reasons): keyed by language
def lr_search(n: int, noise: float, degree: int, k: int, steps: int, optimizer: str, lr_min: float,
              lr_max: float, seed: int, func: str) -> model.LRSearch:
    return model.lr_search(n, noise, degree, k, steps, optimizer, lr_min, lr_max, seed=seed, func=func)


def cv_search(values: Mapping[str, Any]) -> model.LRSearch | None:
    """The search of the CV section (None when the range is empty: smallest ≥ largest)."""
    lo, hi = float(_v(values, CV_LO)), float(_v(values, CV_HI))
    if lo >= hi:
        return None
    return lr_search(int(_v(values, CV_N)), model.CV_NOISE, int(_v(values, CV_DEGREE)), int(_v(values, CV_K)),
                     int(_v(values, CV_STEPS)), str(_v(values, CV_OPT)), lo, hi, int(_v(values, SEED)), "sin")


@text_cache_data(max_entries=64, show_spinner=False)  # holds text (labels): keyed by language
def cliff_demo(lr: float, clip_norm: float, steps: int, start: int, optimizer: str) -> model.CliffDemo:
    return model.cliff_demo(lr, clip_norm, steps, start, optimizer)


def cliff(values: Mapping[str, Any]) -> model.CliffDemo:
    return cliff_demo(float(_v(values, CL_LR)), float(_v(values, CL_CLIP)), int(_v(values, CL_STEPS)),
                      int(_v(values, CL_START)), str(_v(values, CL_OPT)))


# -- gradient lab --------------------------------------------------------------------------------
# A training gets 3/4 of one rerun's budget: the rest of the rerun draws the page (≈ 0.1-0.2 s of
# charts, widgets and captions, measured with bench/bench_worst_case.py).
TRAIN_BUDGET = Budget().scaled(0.75)
def lab_settings(values: Mapping[str, Any]) -> model.LabSettings:
    clip = bool(_v(values, LAB_CLIP))
    return model.LabSettings(
        depth=int(_v(values, LAB_DEPTH)), width=int(_v(values, LAB_WIDTH)), activation=str(_v(values, LAB_ACT)),
        init=str(_v(values, LAB_INIT)), init_scale=float(_v(values, LAB_SCALE)), batch_norm=bool(_v(values, LAB_BN)),
        residual=bool(_v(values, LAB_RES)), optimizer=str(_v(values, LAB_OPT)), lr=float(_v(values, LAB_LR)),
        clip_norm=float(_v(values, LAB_CLIPNORM)) if clip else None, steps=int(_v(values, LAB_STEPS)))


@st.cache_data(max_entries=32, show_spinner=False)
def initial_gradients(settings: model.LabSettings) -> model.InitGradients:
    return model.initial_gradients(dataclasses.replace(settings, steps=1))


@text_cache_data(max_entries=24, show_spinner=False)  # holds text (labels, divergence messages)
def lab_run(settings: model.LabSettings) -> model.LabResult:
    """One lab network trained for exactly ``settings.steps`` steps (planned by the caller to fit
    one rerun): a click that changes nothing finds it here instead of training again."""
    return model.train_lab(settings)


def plan_one(settings: model.LabSettings):
    """``(planned settings, cut)`` of a single network within one rerun's budget."""
    return model.plan_lab(settings, TRAIN_BUDGET)


def plan_comparison(settings: model.LabSettings):
    """``([(key, planned settings)], cut)``: the baseline and each fix alone, all with the same
    steps, each network within one rerun's budget (the page trains one network per rerun)."""
    runs = model.fix_runs(settings)
    steps = min(model.plan_lab(s, TRAIN_BUDGET)[0].steps for _k, s in runs)
    cut = None
    if steps < settings.steps:
        from ..budget import Cut

        cut = Cut("steps", settings.steps, steps, Cut.why,
                  ngettext("{n} network", "{n} networks", len(runs)).format(n=len(runs)), "step")
    return [(k, dataclasses.replace(s, steps=steps)) for k, s in runs], cut


DONE = "ovs_lab_done"   # settings trained in this session (their results are in the cache)


def trained(settings: model.LabSettings) -> bool:
    return settings in st.session_state.get(DONE, ())


def mark_trained(settings: model.LabSettings) -> None:
    done = list(st.session_state.get(DONE, ()))
    if settings not in done:
        done.append(settings)
    st.session_state[DONE] = done[-48:]


def labelled(r: model.LabResult, key: str) -> model.LabResult:
    return dataclasses.replace(r, key=key, label=model.fix_label(key))


# ----------------------------------------------------------------------------------------------
# Questions: each outcome is read off the run the page draws (the same cached functions)
# ----------------------------------------------------------------------------------------------
def _fit_verdict(v) -> model.FitVerdict:
    fit = degree_fit(int(_v(v, N)), float(_v(v, NOISE)), int(_v(v, DEGREE)), int(_v(v, SEED)), str(_v(v, FUNC)))
    return model.fit_verdict(fit)


def _out_degree(v) -> int:
    code = _fit_verdict(v).code
    return 0 if code in ("overfit", "swings") else 1 if code in ("best", "tie") else 2


def _out_more_data(v) -> int:
    return 0 if _fit_verdict(v).floor in ("noise", "exact") else 1


def _out_no_noise(v) -> int:
    return 0 if _fit_verdict(v).code in ("best", "tie") else 1


def _penalty(v, which: str) -> model.PenaltyVerdict:
    rs = regularization_study(int(_v(v, N)), float(_v(v, NOISE)), int(_v(v, REG_DEGREE)), float(_v(v, LAM2)),
                              float(_v(v, LAM1)), int(_v(v, SEED)), str(_v(v, FUNC)))
    return model.penalty_verdict(rs, which)


def _out_l1_zeros(v) -> int:
    z = _penalty(v, "lasso").zeros
    d = int(_v(v, REG_DEGREE))
    return 0 if z == 0 else 1 if z <= d // 2 else 2


def _out_l2_zeros(v) -> int:
    return 0 if _penalty(v, "ridge").zeros == 0 else 1


def _out_patience(v) -> int:
    study, _cut = early_stopping(v)
    return {"helped": 0, "no_gain": 1, "too_early": 2, "never": 3}[study.code]


def _out_cv_edge(v) -> int:
    s = cv_search(v)
    return {"top": 0, "middle": 1, "none": 2}[model.chosen_position(s) if s is not None else "none"]


def _out_cv_adam(v) -> int:
    s = cv_search(v)
    return 0 if s is not None and model.search_verdict(s).diverged != "none" else 1


def _out_flow(v) -> int:
    code = model.flow_code(initial_gradients(lab_settings(v)).norms)
    return {"vanishes": 0, "flows": 1, "grows": 2, "huge": 2}.get(code, 1)


def _out_learns(v) -> int:
    planned, _cut = plan_one(lab_settings(v))
    return {"learns": 0, "guesses": 1, "diverged": 2}[model.learn_code(lab_run(planned))]


def _out_cliff_first(v) -> int:
    return model.first_step_bucket(cliff(v))


def _out_cliff_adam(v) -> int:
    return 0 if model.cliff_verdict(cliff(v)).clipping in ("inactive", "similar") else 1


_VAN = model.lab_preset("vanishing").settings


def _lab_state(s: model.LabSettings, view: str = "train") -> dict:
    d = {"sec": "lab", "L": s.depth, "w": s.width, "t": s.steps, "a": s.activation, "i": s.init,
         "is": s.init_scale, "bn": s.batch_norm, "rc": s.residual, "gc": s.clip_norm is not None, "o": s.optimizer,
         "lr": s.lr, "v": view}
    if s.clip_norm is not None:
        d["gn"] = s.clip_norm
    return d


Q_DEGREE = lessons.Question(
    "ov_degree", N_("Crank up the degree"),
    N_("20 noisy points of sin(πx), σ = 0.25. Raise the degree from 3 to 15: what happens on **new** points?"),
    state={"sec": "fit", "d": 15, "n": 20, "s": 0.25, "f": "sin", "r": 0},
    choices=(N_("It overfits: clearly worse on new points than the best degree"),
             N_("About as good as the best degree"),
             N_("It underfits: too stiff")),
    outcome=_out_degree,
    explanation=N_("The training error keeps falling (16 coefficients for 20 points), while the validation error "
                   "rises: the wiggles between the points fit the noise, not f. The U curve's bottom sits at a "
                   "small degree."))
Q_MORE_DATA = lessons.Question(
    "ov_more_data", N_("More data tames the flexible model"),
    N_("Keep degree 15 and use 200 points instead of 20. Will its validation error be within the noise of what "
       "the true f itself scores on the same points?"),
    state={"sec": "fit", "d": 15, "n": 200, "s": 0.25, "f": "sin", "r": 0},
    choices=(N_("Yes: what is left is noise"), N_("No: clearly above, the model's own error remains")),
    outcome=_out_more_data,
    explanation=N_("With 200 points, 16 coefficients can no longer chase every point, and the fit follows f. The "
                   "learning curve below shows the same: the validation error falls towards σ² as n grows."))
Q_NO_NOISE = lessons.Question(
    "ov_no_noise", N_("Overfitting needs noise"),
    N_("Set the noise to 0, with 20 points of Runge's bump 1/(1 + 25x²) and degree 15. Is degree 15 still among "
       "the best degrees?"),
    state={"sec": "fit", "d": 15, "n": 20, "s": 0.0, "f": "runge", "r": 0},
    choices=(N_("Yes: without noise there is nothing to overfit"), N_("No: it swings between the points")),
    outcome=_out_no_noise,
    explanation=N_("Without noise, a polynomial can still swing between the points (Runge's phenomenon, near the "
                   "ends of the interval). Compare with sin(πx), where a smooth f is followed closely."))
Q_L1 = lessons.Question(
    "ov_l1_zeros", N_("L1 makes zeros"),
    N_("Degree 12, lasso λ = 0.1. How many of the 12 coefficients w₁…w₁₂ will be exactly zero?"),
    state={"sec": "reg", "rd": 12, "l1": 0.1, "l2": 0.001, "n": 20, "s": 0.25, "f": "sin", "r": 0},
    choices=(N_("None"), N_("Some (at most half)"), N_("Most of them")),
    outcome=_out_l1_zeros,
    explanation=N_("Soft-thresholding sets every coefficient whose least-squares size is below about λ to zero. "
                   "The few left are the ones f needs (for sin(πx): odd degrees). The lasso selects features."))
Q_L2 = lessons.Question(
    "ov_l2_zeros", N_("L2 shrinks, never zeros"),
    N_("Degree 12, ridge λ = 1 (strong). Will any ridge coefficient be exactly zero?"),
    state={"sec": "reg", "rd": 12, "l2": 1.0, "l1": 0.01, "n": 20, "s": 0.25, "f": "sin", "r": 0},
    choices=(N_("No: all are smaller, none is zero"), N_("Yes: some are exactly zero")),
    outcome=_out_l2_zeros,
    explanation=N_("Ridge divides each coefficient by about (1 + λ) in this nearly orthonormal basis: smaller, "
                   "never exactly zero. The curve flattens towards the mean instead of losing terms."))
Q_PATIENCE = lessons.Question(
    "ov_patience", N_("Impatient early stopping"),
    N_("Patience 1 (stop after one check without a new best). What will early stopping do here?"),
    state={"sec": "es", "p": 1, "en": 30, "es": 0.3, "ew": 32, "ee": 1000, "r": 0},
    choices=(N_("Stop, and the restored weights are clearly better than the final ones"),
             N_("Stop, but the difference is within the noise"),
             N_("Stop too early: the final weights are clearly better"),
             N_("Never stop")),
    outcome=_out_patience,
    explanation=N_("The validation loss is noisy, so one check without improvement comes early, on a small bump. "
                   "Compare with patience 20: it waits out the bumps but trains longer."))
Q_CV_STEPS = lessons.Question(
    "ov_cv_steps", N_("Short budget, big steps"),
    N_("Only 20 gradient-descent steps per run. Where will the chosen learning rate be?"),
    state={"sec": "cv", "co": "sgd", "cs": 20, "k": 5, "lo": 0.001, "hi": 3.16, "cd": 8, "cn": 60, "r": 0},
    choices=(N_("Among the largest rates that do not diverge"), N_("Somewhere in the middle of the range"),
             N_("Nowhere: every rate diverges")),
    outcome=_out_cv_edge,
    explanation=N_("With few steps a small rate cannot get anywhere, so the winner is near the largest rate that "
                   "does not diverge (the dashed stability limit)."))
Q_CV_ADAM = lessons.Question(
    "ov_cv_adam", N_("Adam on the same grid"),
    N_("Switch to Adam on the same grid (0.001 … 3.16). Will some of the largest rates diverge?"),
    state={"sec": "cv", "co": "adam", "cs": 100, "k": 5, "lo": 0.001, "hi": 3.16, "cd": 8, "cn": 60, "r": 0},
    choices=(N_("Yes, some diverge"), N_("No, none diverges")),
    outcome=_out_cv_adam,
    explanation=N_("Adam's step per coordinate is about lr whatever the gradient's size: a large rate jitters "
                   "around the minimum instead of blowing up, and gradient descent's stability limit does not "
                   "apply. Every optimizer needs its own search."))
Q_VANISH = lessons.Question(
    "ov_vanish", N_("Where does the gradient vanish?"),
    N_("20 sigmoid layers, weights N(0, 1). Before any training: how does the first layer's gradient compare with "
       "the output layer's?"),
    state=_lab_state(_VAN, "setup"),
    choices=(N_("Far smaller: it vanishes on the way back"), N_("About the same"), N_("Far larger: it explodes")),
    outcome=_out_flow,
    explanation=N_("Each layer multiplies the backward signal by σ'(u)·W, and σ' ≤ ¼ while saturated units give "
                   "σ' ≈ 0: after 20 layers the first layer's gradient is orders of magnitude smaller."))
Q_BN = lessons.Question(
    "ov_bn", N_("Batch norm to the rescue"),
    N_("The same vanishing network with batch normalization on, trained for 200 steps. Will it learn the spirals?"),
    state=_lab_state(dataclasses.replace(_VAN, batch_norm=True)),
    choices=(N_("Yes: clearly better than a 50/50 guess"), N_("No: it still guesses"), N_("It diverges")),
    outcome=_out_learns,
    explanation=N_("Normalizing every layer's pre-activations keeps the sigmoids out of saturation, so the "
                   "gradient reaches the first layers and the accuracy climbs."))
Q_BASE = lessons.Question(
    "ov_base", N_("Does the vanishing network learn?"),
    N_("The vanishing network (20 sigmoid layers, N(0, 1) weights, SGD) trained for 200 steps. Will it learn?"),
    state=_lab_state(_VAN),
    choices=(N_("Yes: clearly better than a 50/50 guess"), N_("No: it still guesses"), N_("It diverges")),
    outcome=_out_learns,
    explanation=N_("The loss stays near log 2 ≈ 0.69: the first layers receive almost no gradient."))
Q_CLIFF = lessons.Question(
    "ov_cliff", N_("One step from the edge"),
    N_("SGD, lr = 0.1, starting on the cliff's edge where ‖∇f‖ ≈ 253. Where does the first unclipped step land?"),
    state={"sec": "cliff", "xo": "sgd", "xl": 0.1, "xc": 1.0, "xs": 0, "xn": 100},
    choices=(N_("A short step (less than 1)"), N_("A long step that stays in the window"),
             N_("Out of the window")),
    outcome=_out_cliff_first,
    explanation=N_("lr·‖∇f‖ ≈ 25 units, four times the window's width. The clipped run's steps are at most "
                   "lr·c = 0.1 long."))
Q_CLIFF_ADAM = lessons.Question(
    "ov_cliff_adam", N_("Adam on the cliff"),
    N_("Adam divides by a running RMS of the gradient. Does clipping change Adam's longest step much here?"),
    state={"sec": "cliff", "xo": "adam", "xl": 0.1, "xc": 1.0, "xs": 0, "xn": 100},
    choices=(N_("Hardly: clipped and unclipped steps are alike"), N_("Yes: clipping shortens it clearly")),
    outcome=_out_cliff_adam,
    explanation=N_("Adam's first step is about lr in each coordinate whatever the gradient's size (m̂/√v̂ ≈ ±1), "
                   "so the cliff cannot throw it."))

QUESTIONS = {FIT: (Q_DEGREE, Q_MORE_DATA, Q_NO_NOISE), REG: (Q_L1, Q_L2), ES: (Q_PATIENCE,),
             CV: (Q_CV_STEPS, Q_CV_ADAM), LAB: (Q_VANISH, Q_BASE, Q_BN), CLIFF: (Q_CLIFF, Q_CLIFF_ADAM)}

LESSON = lessons.Lesson(
    "overfitting", N_("Overfitting and gradients in 20 minutes"),
    steps=(lessons.Step(N_("A flexible model"), N_("Fit polynomials of growing degree to 20 noisy points."),
                        ask=Q_DEGREE),
           lessons.Step(N_("More data"), N_("The same degree with ten times the points."), ask=Q_MORE_DATA),
           lessons.Step(N_("A penalty that selects"), N_("Keep the flexible model, penalise |w|."), ask=Q_L1),
           lessons.Step(N_("When to stop"), N_("A network trained for long starts fitting the noise."),
                        ask=Q_PATIENCE),
           lessons.Step(N_("A deep sigmoid network"), N_("20 layers, naive initialisation."), ask=Q_VANISH),
           lessons.Step(N_("The cure"), N_("The same network with batch normalization."), ask=Q_BN),
           lessons.Step(N_("A cliff"), N_("One huge gradient, with and without clipping."), ask=Q_CLIFF)),
    summary=N_("Seven predictions: overfitting, data, L1, early stopping, vanishing gradients, batch norm, "
               "clipping."), minutes=20)

CHAPTER = lessons.Chapter(PAGE, N_("Overfitting and gradients"),
                          questions=tuple(q for qs in QUESTIONS.values() for q in qs), lessons=(LESSON,))
