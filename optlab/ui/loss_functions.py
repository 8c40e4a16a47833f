r"""Cached computations, figures, caption wording and the linkable state of the chapter page "Loss
functions" (pages/1_…).

The page passes hashable specs (see :mod:`optlab.ui.data_surfaces` and :mod:`optlab.specs`); the
numbers and the verdicts come from :mod:`optlab.chapters.loss_functions`, and this module turns a
verdict into the sentence the page shows (one sentence per verdict code, none written for a
default that a widget can change).  The questions' outcomes call the same functions the page draws
from, so a verdict is always the run on screen.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import streamlit as st

from .. import budget, data, losses, optimizers, specs
from .. import format as fmt
from ..chapters import loss_functions as model
from ..figures import core
from ..figures import loss_functions as fig
from ..i18n import domain, listing, sentences
from . import lessons, state
from .data_surfaces import (corner_start, dataset, dataset_description, distance, feature_names, gap, gridded,
                            min_value, minimum, run_of, surface)
from .i18n import cache_data as text_cache_data

_, N_, ngettext = domain("loss_functions")

DIAB, BC = "diabetes", "breast_cancer"
FIRST_ORDER = tuple(optimizers.FIRST_ORDER)
# Learning rates of every lr control of the page: 1, 2, 5 per decade over the app's one range
# (specs.LR_MIN … specs.LR_MAX); a link's value between two of them goes to the nearest, said.
LR_CHOICES = tuple(sorted({round(m * 10.0 ** e, 12) for e in range(-6, 2) for m in (1, 2, 5)
                           if specs.LR_MIN <= round(m * 10.0 ** e, 12) <= specs.LR_MAX}))
LAB_DELTAS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0)
ABBREVIATIONS = {"mse": "MSE", "rmse": "RMSE", "mae": "MAE", "bce": "BCE"}

# Work: one rerun's budget (optlab.budget: ≤ 0.8 s of CPU on the slowest surface) is shared by the
# runs a section draws (three in the lab, six under "Optimizer", two under "Cross-entropy").  The
# steps sliders end where that budget ends, so a widget or a link never asks for more; the runs
# are still planned against it (planned_steps), and a cut would be said on the page.
RERUN = budget.Budget()
LAB_RUNS, COUPLING_RUNS, CE_RUNS = 3, len(losses.REGRESSION), 2


def max_steps(runs: int, wanted: int, step: int) -> int:
    """The largest multiple of ``step`` (≤ ``wanted``) that ``runs`` runs may take in one rerun."""
    return RERUN.split(runs).run_steps(int(wanted), 1) // step * step


def planned_steps(requested: int, runs: int) -> tuple[int, str | None]:
    """``(steps, sentence)``: the steps each of ``runs`` runs takes within one rerun's budget, and
    the sentence that says what was cut (None when nothing was)."""
    allowed = RERUN.split(runs).run_steps(int(requested), 1)
    if allowed >= int(requested):
        return int(requested), None
    return allowed, _("{runs} runs × {steps} steps is more than this page computes in one go: each run stops at "
                      "step {allowed}.").format(runs=runs, steps=int(requested), allowed=allowed)


def steps_run(requested: int, runs: int) -> int:
    """The steps each run really takes (:func:`planned_steps`): what a caption counts."""
    return planned_steps(requested, runs)[0]


# ----------------------------------------------------------------------------------------------
# Numbers as the captions write them
# ----------------------------------------------------------------------------------------------
def num(v: Any, digits: int = 3) -> str:
    """``v`` with ``digits`` significant digits, as every page writes numbers
    (:func:`optlab.format.number`: "—" for None, NaN and ±∞, a real minus sign, 2 digits with an
    exponent)."""
    return fmt.number(v, digits)


def pct(v: Any) -> str:
    """A share as a percentage with one decimal: ``0.879 -> "87.9 %"`` ("—" if undefined)."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "—"
    return "—" if not math.isfinite(f) else f"{100 * f:.1f} %"


def prob(v: Any) -> str:
    """A probability: 3 significant digits, but "> 0.999" / "< 0.001" near the ends (σ never
    reaches 1, so "1" would be false)."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "—"
    if not math.isfinite(f):
        return "—"
    return "> 0.999" if 0.999 < f < 1.0 else num(f)


def times(v: Any) -> str:
    """A factor: "3.2×" ("—" if undefined)."""
    text = num(v)
    return text if text == "—" else _("{k}×").format(k=text)


def loss_name(name: str, params: Mapping[str, float] | None = None) -> str:
    """A loss as captions and legends name it: the abbreviation when it has one ("MSE"), else
    its title, with its parameters ("Huber (δ = 1)")."""
    if name in ABBREVIATIONS:
        return ABBREVIATIONS[name]
    return losses.get(name, **dict(params or {})).label


def opt_title(name: str) -> str:
    return optimizers.info(name).title


# ----------------------------------------------------------------------------------------------
# The page's state: sections and every widget (URL keys 1–3 letters)
# ----------------------------------------------------------------------------------------------
CATALOGUE, OUTLIERS, COUPLING, WHY_CE = N_("Catalogue"), N_("Outliers"), N_("Optimizer"), N_("Cross-entropy")
SECTIONS = [CATALOGUE, OUTLIERS, COUPLING, WHY_CE]
SECTION = state.Section(SECTIONS, "lf_section", codes=["catalogue", "outliers", "optimizer", "ce"])

KINDS = ("regression", "classification")
KIND_LABELS = {"regression": N_("Regression: over the residual r = ŷ − y"),
               "classification": N_("Classification: over the margin m = t·s")}
CAT_KIND = state.Choice("k", "lf_kind", KINDS, "regression", codes=["reg", "cls"], label=N_("curves of"),
                        section=CATALOGUE)
CAT_DELTA = state.Float("d", "lf_delta", 0.1, 3.0, 1.0, step=0.1, label=N_("Huber δ"), section=CATALOGUE)
CAT_Q = state.Float("q", "lf_q", 0.05, 0.95, 0.5, step=0.05, label=N_("quantile q"), section=CATALOGUE)
CAT_GAMMA = state.Float("g", "lf_gamma", 0.0, 5.0, 2.0, step=0.5, label=N_("focal γ"), section=CATALOGUE)

SIDES = ("up", "down", "both")
SIDE_LABELS = {"up": N_("up"), "down": N_("down"), "both": N_("both ways")}
LAB_COUNT = state.Int("n", "lf_out_count", 0, 10, 4, label=N_("number of outliers"), section=OUTLIERS)
LAB_SIZE = state.Float("sz", "lf_out_size", 0.0, 8.0, 4.0, step=0.5, label=N_("outlier size (× std of y)"),
                       section=OUTLIERS)
LAB_SIDE = state.Choice("sd", "lf_out_side", SIDES, "up", label=N_("pushed"), section=OUTLIERS)
LAB_DELTA = state.Choice("hd", "lf_lab_delta", LAB_DELTAS, 1.0, label=N_("Huber δ"), section=OUTLIERS)
LAB_OPT = state.Choice("o", "lf_lab_opt", FIRST_ORDER, "sgd", label=N_("optimizer"), section=OUTLIERS)
LAB_LR = state.Choice("lr", "lf_lab_lr", LR_CHOICES, 0.1, label=N_("learning rate"), section=OUTLIERS)
LAB_STEPS = state.Int("t", "lf_lab_steps", 10, max_steps(LAB_RUNS, 500, 10), 150, step=10, label=N_("steps"),
                      section=OUTLIERS)

# Feature names are the data sets' own (English ids in links); shown through these msgids.
DIAB_FEATURE_LABELS = {"age": N_("age"), "sex": N_("sex"), "bmi": N_("bmi"), "bp": N_("bp"), "s1": N_("s1"),
                       "s2": N_("s2"), "s3": N_("s3"), "s4": N_("s4"), "s5": N_("s5"), "s6": N_("s6")}
BC_PARTS = {"mean": N_("mean {quantity}"), "error": N_("{quantity} error"), "worst": N_("worst {quantity}")}
BC_QUANTITIES = {"radius": N_("radius"), "texture": N_("texture"), "perimeter": N_("perimeter"), "area": N_("area"),
                 "smoothness": N_("smoothness"), "compactness": N_("compactness"), "concavity": N_("concavity"),
                 "concave points": N_("concave points"), "symmetry": N_("symmetry"),
                 "fractal dimension": N_("fractal dimension")}


def feature_label(name: str) -> str:
    """A feature of the diabetes or breast-cancer data in the active language ("mean radius")."""
    if name in DIAB_FEATURE_LABELS:
        return _(DIAB_FEATURE_LABELS[name])
    for part, template in BC_PARTS.items():
        q = name[len(part) + 1:] if part == "mean" or part == "worst" else name[: -len(part) - 1]
        if (name.startswith(part + " ") or name.endswith(" " + part)) and q in BC_QUANTITIES:
            return _(template).format(quantity=_(BC_QUANTITIES[q]))
    return name


DIAB_FEATURES = tuple(data.load(DIAB).feature_names)
BC_FEATURES = tuple(data.load(BC).feature_names)
CP_FEATURE = state.Choice("x", "lf_cp_feature", DIAB_FEATURES, "bmi", label=N_("diabetes feature x"), section=COUPLING)
CP_LOSS = state.Choice("l", "lf_cp_loss", tuple(losses.REGRESSION), "mse", label=N_("training loss"), section=COUPLING)
CP_DELTA = state.Float("cd", "lf_cp_delta", 0.1, 3.0, 1.0, step=0.1, label=N_("Huber δ"), section=COUPLING)
CP_Q = state.Float("cq", "lf_cp_q", 0.05, 0.95, 0.5, step=0.05, label=N_("quantile q"), section=COUPLING)
CP_OPT = state.Choice("co", "lf_cp_opt", FIRST_ORDER, "sgd", label=N_("optimizer"), section=COUPLING)
CP_LR = state.Choice("clr", "lf_cp_lr", LR_CHOICES, 0.1, label=N_("learning rate"), section=COUPLING)
CP_STEPS = state.Int("ct", "lf_cp_steps", 20, max_steps(COUPLING_RUNS, 600, 20), 200, step=20, label=N_("steps"),
                     section=COUPLING)

STARTS = ("wrong", "origin")
START_LABELS = {"wrong": N_("confidently wrong"), "origin": N_("at the origin")}
CE_FEATURE = state.Choice("cf", "lf_ce_feature", BC_FEATURES, "mean radius", label=N_("breast-cancer feature x"),
                          section=WHY_CE)
CE_LR = state.Choice("elr", "lf_ce_lr", LR_CHOICES, 0.5, label=N_("learning rate"), section=WHY_CE)
CE_STEPS = state.Int("et", "lf_ce_steps", 20, max_steps(CE_RUNS, 1000, 20), 300, step=20, label=N_("steps"),
                     section=WHY_CE)
CE_START = state.Choice("st", "lf_ce_start", STARTS, "wrong", label=N_("start"), section=WHY_CE)

PAGE = state.Page("Loss_functions", [SECTION, CAT_KIND, CAT_DELTA, CAT_Q, CAT_GAMMA,
                                     LAB_COUNT, LAB_SIZE, LAB_SIDE, LAB_DELTA, LAB_OPT, LAB_LR, LAB_STEPS,
                                     CP_FEATURE, CP_LOSS, CP_DELTA, CP_Q, CP_OPT, CP_LR, CP_STEPS,
                                     CE_FEATURE, CE_LR, CE_STEPS, CE_START],
                  title="Loss functions", domain="loss_functions")


def keep_values(page: state.Page = PAGE) -> None:
    """Keep the values of the sections that are not shown.  Streamlit forgets the value of a
    widget that a run does not draw, so without this a section switch would put the other
    sections' widgets back to their defaults; a value written through session state is kept."""
    ss = st.session_state
    for p in page.params:
        if p.key in ss:
            ss[p.key] = ss[p.key]


# ----------------------------------------------------------------------------------------------
# 1. Catalogue
# ----------------------------------------------------------------------------------------------
@st.cache_data(max_entries=64, show_spinner=False)
def catalogue_facts(delta: float, q: float, gamma: float) -> model.CatalogueFacts:
    return model.catalogue_facts(float(delta), float(q), float(gamma))


@text_cache_data(max_entries=64, show_spinner=False)  # holds text: keyed by language
def fig_catalogue(kind: str, delta: float, q: float, gamma: float, hide: tuple = ()):
    """The curves of one kind of loss; ``hide``: losses left out (a prediction about them is open)."""
    shown = [L for L in model.catalogue(kind, delta, q, gamma) if L.name not in hide]
    return fig.catalogue(shown, labels={L.name: loss_name(L.name, L.params) for L in shown}, height=340)


def catalogue_sentences(kind: str, f: model.CatalogueFacts, delta: float, q: float, gamma: float) -> list[str]:
    """The catalogue's caption, one sentence per claim, each chosen by its check."""
    out = []
    if kind == "regression":
        out.append(_("Huber with δ = {delta}: quadratic for |r| ≤ {delta}, linear beyond; however far away an "
                     "outlier is, it pulls with a force of at most {pull} (MSE pulls with {mse} at r = 10).").format(
            delta=num(delta), pull=num(f.huber_pull), mse=num(f.mse_pull_at_10)))
        if f.quantile_order == "under":
            out.append(_("Quantile with q = {q}: under-predicting by 1 costs {k} as much as over-predicting "
                         "by 1.").format(q=num(q), k=times(f.quantile_ratio)))
        elif f.quantile_order == "over":
            out.append(_("Quantile with q = {q}: over-predicting by 1 costs {k} as much as under-predicting "
                         "by 1.").format(q=num(q), k=times(1.0 / f.quantile_ratio)))
        else:
            out.append(_("Quantile with q = {q}: under- and over-predicting by 1 cost the same; the loss is half "
                         "of MAE.").format(q=num(q)))
        if f.rmse_is_mae:
            out.append(_("RMSE per sample is |r| (dotted, on top of MAE): it differs from MAE only once averaged, "
                         "as √(mean r²)."))
    else:
        if f.focal_is_bce:
            out.append(_("Focal with γ = 0 is BCE itself: its curve lies on BCE's."))
        else:
            out.append(_("Focal with γ = {gamma}: an example the model already gets right with p = {p} keeps {k} "
                         "of its BCE loss.").format(gamma=num(gamma), p=num(f.p), k=times(f.focal_factor)))
        if f.hinge_zero_beyond:
            out.append(_("Hinge is exactly 0 beyond the margin m = 1."))
        if f.softmax_is_bce:
            out.append(_("Two-class cross-entropy on m = s_true − s_other is BCE (dotted, on top)."))
    return out


def huber_shape_index(v: Mapping[str, Any]) -> int:
    """Which curve Huber's looks like at the link values ``v``: 0 MAE, 1 half of MSE, 2 neither."""
    return model.HUBER_SHAPES.index(model.huber_shape(float(v["d"]))[0])


def one_hot_sentence(oh) -> str:
    same = math.isclose(oh.with_labels, oh.with_one_hot, rel_tol=1e-12)
    head = _("Check on three samples and three classes (labels {labels}): cross-entropy computed from the class "
             "labels = **{a}**, computed from the one-hot rows {rows} = **{b}**.").format(
        labels=oh.labels.tolist(), a=f"{oh.with_labels:.6f}", rows=oh.targets.astype(int).tolist(),
        b=f"{oh.with_one_hot:.6f}")
    if same:
        return sentences([head, _("The same loss: a one-hot row only picks −log p of the true class ({values}).").format(
            values=", ".join(f"{v:.3f}" for v in oh.neg_log_p_true))])
    return sentences([head, _("They differ by {d}.").format(d=num(abs(oh.with_labels - oh.with_one_hot)))])


def loss_table_rows() -> list[dict]:
    """The taxonomy table in the active language (headers too; the PyTorch column is code)."""
    rows = []
    for r in model.loss_table():
        L = losses.get(r["name"])
        rows.append({
            _("loss"): _(L.title),
            _("the article's family"): (_("continuous (连续型): regression") if L.kind == "regression"
                                        else _("discrete (离散型): classification")),
            _("convex"): _("yes") if L.convex else _("no"),
            "PyTorch": r["PyTorch"],
        })
    return rows


@text_cache_data(max_entries=4, show_spinner=False)  # its cells are text: one table per language
def loss_table() -> str:
    """:func:`loss_table_rows` as a Markdown table, built once per language.  Markdown, not a data
    frame: its cells wrap, so the PyTorch column is read whole at 1024 px instead of being cut at
    the frame's edge (the cells are the catalogue's own text; the code is shown as code)."""
    rows = loss_table_rows()
    head = list(rows[0])

    def cell(k, v):
        v = str(v).replace("|", "\\|")
        return f"`{v}`" if k == "PyTorch" and v else v

    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(cell(k, r[k]) for k in head) + " |" for r in rows]
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# 2. Outlier lab
# ----------------------------------------------------------------------------------------------
def _clean(seed: int):
    x, y, _m, _l = dataset(("outliers", 0, 0.0, "both", int(seed)))
    return x, y


def lab_window(seed: int = 0) -> tuple:
    """The outlier lab's fixed (w, b) window (:func:`optlab.chapters.loss_functions.lab_window`)."""
    return model.lab_window(*_clean(seed))


def lab_specs(count: int, size: float, side: str, delta: float, seed: int = 0) -> dict[str, tuple]:
    """Surface specs of MSE, MAE and Huber on the lab's data, in one shared window."""
    return model.lab_specs(count, size, side, delta, seed, lab_window(seed))


def clean_fit(seed: int = 0) -> tuple[float, float]:
    """The least-squares (w, b) of the lab's data without outliers."""
    return model.clean_fit(*_clean(seed))


@dataclass(frozen=True)
class LabResult:
    specs: dict           # loss -> surface spec (with the outliers)
    fits: dict            # loss -> (w, b) minimising it with the outliers
    clean_fits: dict      # loss -> (w, b) minimising it without them
    verdict: model.LabVerdict
    clean_spread: float   # the largest distance between two losses' clean fits


@st.cache_data(max_entries=64, show_spinner=False)
def lab_result(count: int, size: float, side: str, delta: float, seed: int = 0) -> LabResult:
    """The lab's fits and verdict: the page's metrics and caption and the questions' outcomes."""
    sp = lab_specs(count, size, side, delta, seed)
    clean = lab_specs(0, 0.0, side, delta, seed)
    fits = {n: minimum(s) for n, s in sp.items()}
    clean_fits = {n: minimum(s) for n, s in clean.items()}
    x, y, _m, _l = dataset(sp["mse"][0])
    verdict = model.lab_verdict(fits, clean_fits, count, size, delta, model.max_residual(x, y, fits["mse"]))
    names = list(clean_fits)
    spread = max((model.shift(clean_fits[a], clean_fits[b]) for a in names for b in names), default=0.0)
    return LabResult(sp, fits, clean_fits, verdict, spread)


def lab_from(v: Mapping[str, Any]) -> LabResult:
    return lab_result(int(v["n"]), float(v["sz"]), str(v["sd"]), float(v["hd"]))


def lab_names(delta: float) -> dict[str, str]:
    return {"mse": "MSE", "mae": "MAE", "huber": _("Huber (δ = {delta})").format(delta=num(delta))}


def lab_sentence(res: LabResult, count: int, size: float, side: str, delta: float) -> str:
    """The verdict caption of the lab."""
    v, names = res.verdict, lab_names(delta)
    m = v.moves
    setting = ngettext("With {n} outlier of size {size}·std(y) pushed {side}",
                       "With {n} outliers of size {size}·std(y) pushed {side}", int(count)).format(
        n=int(count), size=num(size), side=_(SIDE_LABELS[side]))
    if v.code == "none":
        if int(count) == 0:
            return _("No outliers: the data are the clean line, so no fitted line moves. Add some with the "
                     "sliders.")
        return _("Outliers of size 0 sit on the clean data: no fitted line moves. Make them larger.")
    if v.code == "small":
        return _("{setting}: {verdict}").format(setting=setting, verdict=_(
            "no line moved more than {d} in (w, b). Outliers this close to the data hardly matter to any of the three "
            "losses; push them further out.").format(d=num(max(m.values()))))
    if v.code == "huber_as_mse":
        return _("{setting}: {verdict}").format(setting=setting, verdict=_(
            "{huber} moved exactly as far as MSE ({d}). δ is larger than every residual (the largest is {r}), so Huber "
            "is ½·r² on every point: half of MSE, with the same minimum. MAE moved {mae}.").format(
            huber=names["huber"], d=num(m["mse"]), r=num(v.max_residual), mae=num(m["mae"])))
    if v.code == "mse_most":
        if math.isinf(v.ratio):
            ratio = _("; {least} did not move measurably").format(least=names[v.least])
        else:
            ratio = _(" — {k} as far as {least}").format(k=times(v.ratio), least=names[v.least])
        return sentences([
            _("{setting}: {verdict}").format(setting=setting, verdict=_(
                "MSE moved most ({d}), {least} least ({d_least}){ratio}.").format(
                d=num(m["mse"]), least=names[v.least], d_least=num(m[v.least]), ratio=ratio)),
            _("That is the answer to the FAQ: on clean data the three lines lie within {spread} of each other; with "
              "outliers the loss decides which line you get. A squared loss lets a far point pull in proportion to "
              "its distance, MAE and Huber cap the pull.").format(spread=num(res.clean_spread))])
    if v.code == "similar":
        return _("{setting}: {verdict}").format(setting=setting, verdict=_(
            "the three lines moved by similar amounts (MSE {mse}, MAE {mae}, {huber} {hd}): the largest move is less "
            "than twice the smallest. Push the outliers further out to see the losses part.").format(
            mse=num(m["mse"]), mae=num(m["mae"]), huber=names["huber"], hd=num(m["huber"])))
    return _("{setting}: {verdict}").format(setting=setting, verdict=_(
        "{most} moved most ({d}), {least} least ({d_least}); MSE moved {mse}.").format(
        most=names[v.most], d=num(m[v.most]), least=names[v.least], d_least=num(m[v.least]), mse=num(m["mse"])))


def lab_runs(res: LabResult, opt: str, lr: float, steps: int) -> tuple[tuple, dict]:
    """The run tuple of the lab's optimizer and its trajectory on each loss's surface (labelled
    "SGD on MSE", so a divergence box names the loss)."""
    run = specs.run_tuple(opt, {"lr": float(lr)}, corner_start(res.specs["mse"][3]),
                          planned_steps(steps, LAB_RUNS)[0])
    trs = {}
    for n, s in res.specs.items():
        tr = run_of(s, run)
        tr.label = _("{optimizer} on {loss}").format(optimizer=opt_title(opt), loss=loss_name(n))
        trs[n] = tr
    return run, trs


def path_sentence(spec: tuple, fit, tr, steps: int) -> str:
    """Under one of the lab's surfaces: where its minimum is and where the path ended."""
    where = _("minimum at w = {w}, b = {b}").format(w=num(fit[0], 4), b=num(fit[1], 4))
    steps = steps_run(steps, LAB_RUNS)
    if tr.diverged:
        return where + _("; the path diverged (see the box above).")
    d = distance(spec, tr.final_x)
    if d < model.ROUNDING_DISTANCE:
        return where + _("; after {n} steps the path is on it (closer than 10⁻⁸).").format(n=int(steps))
    return where + _("; after {n} steps the path is {d} from it.").format(n=int(steps), d=num(d))


@text_cache_data(max_entries=64, show_spinner=False)  # holds text: keyed by language
def fig_outliers(count: int, size: float, side: str, delta: float, hide_fits: bool = False, height: int = 420,
                 seed: int = 0):
    """The lab's data, outliers marked, and (unless hidden) the line each loss fits."""
    res = lab_result(count, size, side, delta, seed)
    x, y, mask, _l = dataset(res.specs["mse"][0])
    fits = {} if hide_fits else res.fits
    names = lab_names(delta)
    # the legend names the lines only: their (w, b) are in the table under the chart, and six long
    # entries took half of the chart's height at 1024 px
    legend = {n: names[n] for n in fits}
    return fig.outlier_fits(x, y, mask, fits, None if hide_fits else clean_fit(seed), labels=names, legend=legend,
                            height=height)


@text_cache_data(max_entries=64, show_spinner=False)  # holds text: keyed by language
def fig_lab_surfaces(count: int, size: float, side: str, delta: float, opt: str, lr: float, steps: int,
                     hide: bool = False, seed: int = 0):
    """The three loss surfaces over (w, b) side by side, one path on each (none while hidden)."""
    res = lab_result(count, size, side, delta, seed)
    run, trs = lab_runs(res, opt, lr, steps)
    names = lab_names(delta)
    panels = [(gridded(s, 70), [] if hide else [trs[n]], names[n]) for n, s in res.specs.items()]
    return fig.surfaces_row(panels, height=330)


# ----------------------------------------------------------------------------------------------
# 3. Loss ↔ optimizer
# ----------------------------------------------------------------------------------------------
def coupling_params(loss: str, delta: float, q: float) -> tuple:
    if loss == "huber":
        return (("delta", float(delta)),)
    if loss == "quantile":
        return (("q", float(q)),)
    return ()


@dataclass(frozen=True)
class CouplingResult:
    spec: tuple                 # the chosen loss's surface spec
    others: tuple               # ((loss, spec), …) every regression loss (the chosen one with its parameter)
    run: tuple
    verdict: model.CouplingVerdict


def coupling_result(feature: str, loss: str, delta: float, q: float, opt: str, lr: float,
                    steps: int) -> CouplingResult:
    """Every regression loss trained with one optimizer setting from one start, and the verdict
    (the page's charts and caption and the question's outcome)."""
    data_spec = ("feature", DIAB, feature, True)
    params = coupling_params(loss, delta, q)
    spec = (data_spec, loss, params, None)
    run = specs.run_tuple(opt, {"lr": float(lr)}, corner_start(surface(spec).window),
                          planned_steps(steps, COUPLING_RUNS)[0])
    others = tuple((n, (data_spec, n, params if n == loss else (), None)) for n in losses.REGRESSION)
    gaps, diverged = {}, []
    for n, s in others:
        tr = run_of(s, run)
        gaps[n] = model.relative_final_gap(tr.losses, min_value(s), tr.diverged)
        if tr.diverged:
            diverged.append(n)
    return CouplingResult(spec, others, run, model.coupling_verdict(gaps, diverged))


def coupling_from(v: Mapping[str, Any]) -> CouplingResult:
    return coupling_result(str(v["x"]), str(v["l"]), float(v["cd"]), float(v["cq"]), str(v["co"]), float(v["clr"]),
                           int(v["ct"]))


def coupling_runs(res: CouplingResult, opt: str) -> list:
    """The runs of every loss, labelled "SGD on MAE" for the divergence boxes."""
    out = []
    for n, s in res.others:
        tr = run_of(s, res.run)
        tr.label = _("{optimizer} on {loss}").format(optimizer=opt_title(opt), loss=loss_name(n, dict(s[2])))
        out.append(tr)
    return out


def gap_text(g: float) -> str:
    if not math.isfinite(g):
        return _("diverged")
    if g <= model.ROUNDING_GAP:
        return _("≈ 0 (at the minimum, to rounding)")
    if g > 1.0:
        return _("{g} (above its start)").format(g=num(g, 2))
    return num(g, 2)


def coupling_sentences(res: CouplingResult, opt: str, lr: float, steps: int) -> list[str]:
    """The caption under the coupling charts: the chosen run, the ranking, the verdict."""
    v = res.verdict
    steps = steps_run(steps, COUPLING_RUNS)
    spec, tr = res.spec, run_of(res.spec, res.run)
    name = loss_name(spec[1], dict(spec[2]))
    out = []
    if tr.diverged:
        out.append(_("{optimizer} on {loss} diverged (see the box above).").format(optimizer=opt_title(opt),
                                                                                     loss=name))
    else:
        g, d = gap(spec, tr.final_loss), distance(spec, tr.final_x)
        f0 = gap(spec, float(tr.losses[0]))
        if g <= model.ROUNDING_GAP * max(1.0, f0):
            where = _("f = f* to rounding")
        else:
            where = _("f − f* = {gap}").format(gap=num(g))
        dist = (_("on the minimum (closer than 10⁻⁸)") if d < model.ROUNDING_DISTANCE
                else _("{d} from the minimum").format(d=num(d)))
        out.append(_("{optimizer} on {loss}: after {n} steps {where}, {dist}.").format(
            optimizer=opt_title(opt), loss=name, n=int(steps), where=where, dist=dist))
    names = {n: loss_name(n, dict(s[2])) for n, s in res.others}
    at_min = [n for n in v.ranked if math.isfinite(v.gaps[n]) and v.gaps[n] <= model.ROUNDING_GAP]
    parts = []
    if at_min:
        parts.append(ngettext("{names} ≈ 0 (at its minimum, to rounding)", "{names} ≈ 0 (at their minima, to rounding)",
                              len(at_min)).format(names=listing(names[n] for n in at_min)))
    parts += [f"{names[n]} {gap_text(v.gaps[n])}" for n in v.ranked if n not in at_min]
    out.append(_("Share of the initial gap left after {n} steps, with the same optimizer, learning rate and "
                 "start: {ranking}.").format(n=int(steps), ranking=listing(parts, ";")))
    if v.diverged and v.code != "all_diverged":
        out.append(ngettext("{names} diverged (the box above names the step).",
                            "{names} diverged (the boxes above name the steps).", len(v.diverged)).format(
            names=listing(names[n] for n in v.diverged)))
    if v.worse:
        out.append(ngettext("{names} ended above where it started.", "{names} ended above where they started.",
                            len(v.worse)).format(names=listing(names[n] for n in v.worse)))
    smooth = listing(names[n] for n in model.SMOOTH)
    kinked = _("{a} and {b}").format(a=names["mae"], b=names["quantile"])
    if v.code == "all_diverged":
        out.append(_("Every run diverged: at lr = {lr} {optimizer} is unstable on all six losses from this "
                     "start.").format(lr=num(lr), optimizer=opt_title(opt)))
    elif v.code == "none_near":
        out.append(_("No run got near its minimum (every one keeps more than 10 % of its initial gap), so the shape "
                     "of each loss near its minimum does not show yet: give it more steps or another learning "
                     "rate."))
    elif v.code == "smooth_ahead":
        out.append(_("The smooth, curved losses ({smooth}) let the gradient shrink as the path arrives, and each of "
                     "them got at least 10 times closer to its minimum than {kinked}. Those two are piecewise "
                     "linear: their pull keeps the same size up to the kink, so a step that does not shrink by "
                     "itself overshoots it.").format(smooth=smooth, kinked=kinked))
    elif v.code == "kinked_ahead":
        out.append(_("Here {kinked} got at least 10 times closer to their minima than every smooth loss: how a "
                     "loss's shape plays out depends on the optimizer's step rule and on the learning rate.").format(
            kinked=kinked))
    else:
        best, worst = v.ranked[0], [n for n in v.ranked if n not in v.diverged][-1]
        out.append(_("No clean split between the smooth losses and the piecewise-linear ones here: {best} got "
                     "closest, {worst} stayed furthest.").format(
            best=names[best], worst=names[worst]))
    return out


def mae_settles_like_mse(v: Mapping[str, Any]) -> int:
    """The MAE question's outcome: 0 when MAE's run settles as MSE's does (its gap within 100× of
    MSE's), 1 when it levels off far above."""
    res = coupling_from({**v, "l": "mae"})
    return 0 if model.settles_like(res.verdict.gaps["mae"], res.verdict.gaps["mse"]) else 1


@text_cache_data(max_entries=64, show_spinner=False)  # holds text: keyed by language
def fig_relative_gap(others: tuple, run: tuple, opt: str, height: int = 400, legend_cols: int = 1):
    """(f − f*)/(f₀ − f*) of one run setting on every regression loss (``legend_cols``: see
    :func:`optlab.figures.loss_functions.relative_gap`)."""
    curves = {n: (run_of(s, run).losses, min_value(s)) for n, s in others}
    labels = {n: loss_name(n, dict(s[2])) for n, s in others}
    return fig.relative_gap(curves, labels=labels, height=height, legend_cols=legend_cols)


# ----------------------------------------------------------------------------------------------
# Shared: one (w, b) surface with paths, without a legend (the heading names the path)
# ----------------------------------------------------------------------------------------------
# Grid points per side of a contour panel.  A data surface costs one pass over its examples per
# grid point (569 on the breast-cancer data): 64² points are half of 90²'s CPU, and the contours
# of these smooth surfaces look the same.  The convexity check reads the same grid (one cache).
PANEL_GRID = 64


@text_cache_data(max_entries=96, show_spinner=False)  # titles and hover texts
def fig_panel(spec: tuple, runs: tuple = (), *, height: int = 400, colorbar: bool = False, start: tuple | None = None,
              n: int = PANEL_GRID):
    """Contour of a data surface with the runs ``(run_tuple, …)`` drawn on it; ``start``: a point
    marked as the start instead (an open prediction hides the path)."""
    paths = [run_of(spec, r) for r in runs]
    extra = {_("start"): start} if start is not None else None
    f = core.surface_panel(gridded(spec, n), paths, height=height, colorbar=colorbar, extra_points=extra)
    # w and b are different parameters: no equal aspect, the panel fills its column at any width
    f.update_yaxes(scaleanchor=False)
    f.update_layout(showlegend=False, margin=dict(t=10))
    return f


# ----------------------------------------------------------------------------------------------
# 4. Why cross-entropy
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CEResult:
    pair: dict               # "bce"/"mse" -> surface spec
    start: tuple
    run: tuple
    facts: model.StartFacts
    g0: dict                 # ‖∇L‖ at the start
    gradient: str            # model.gradient_verdict
    fates: dict              # loss -> (fate, accuracy, accuracy at its minimum)
    comparison: str          # model.compare_accuracy
    n: int                   # examples
    nonconvex: dict          # loss -> True when its grid breaks convexity


@st.cache_data(max_entries=64, show_spinner=False)
def ce_result(feature: str, lr: float, steps: int, start_kind: str) -> CEResult:
    data_spec = ("feature", BC, feature, False)
    pair = {n: (data_spec, n, (), None) for n in ("bce", "mse")}
    s_bce = surface(pair["bce"])
    start = tuple(float(c) for c in s_bce.starts[0]) if start_kind == "wrong" else (0.0, 0.0)
    run = specs.run_tuple("sgd", {"lr": float(lr)}, start, planned_steps(steps, CE_RUNS)[0])
    x, y, _m, _l = dataset(data_spec)
    facts = model.start_facts(x, y, start)
    g0 = {n: model.grad_norm(surface(s), start) for n, s in pair.items()}
    fates = {}
    for n, s in pair.items():
        tr = run_of(s, run)
        fates[n] = model.ce_fate(x, y, tr.final_x, minimum(s), bool(tr.diverged))
    comparison = model.compare_accuracy(fates["bce"][1], fates["mse"][1], len(x))
    nonconvex = {n: model.nonconvex_on_grid(gridded(s, PANEL_GRID).grid()[2]) for n, s in pair.items()}
    return CEResult(pair, start, run, facts, g0, model.gradient_verdict(g0["bce"], g0["mse"], facts), fates,
                    comparison, len(x), nonconvex)


def ce_from(v: Mapping[str, Any]) -> CEResult:
    return ce_result(str(v["cf"]), float(v["elr"]), int(v["et"]), str(v["st"]))


CE_LABELS = {"bce": N_("binary cross-entropy"), "mse": N_("MSE on p = σ(s)")}


def ce_runs(res: CEResult) -> list:
    out = []
    for n, s in res.pair.items():
        tr = run_of(s, res.run)
        tr.label = _("gradient descent on {loss}").format(loss=_(CE_LABELS[n]))
        out.append(tr)
    return out


def ce_start_sentence(res: CEResult) -> str:
    f = res.facts
    if f.all_half:
        return _("At the origin (w = 0, b = 0) every score is 0, so the model gives every example p = 0.5: it is "
                 "sure of nothing.")
    return _("At the start (w = {w}, b = {b}) the model's probabilities range from {pmin} to {pmax}; it is "
             "confident (p ≥ 0.95 for one class) on {conf} of the examples and confidently wrong on {wrong}.").format(
        w=num(res.start[0]), b=num(res.start[1]), pmin=prob(f.pmin), pmax=prob(f.pmax), conf=pct(f.confident),
        wrong=pct(f.confidently_wrong))


def ce_gradient_sentence(res: CEResult) -> str:
    g_b, g_m = res.g0["bce"], res.g0["mse"]
    k = g_b / g_m if g_m > 0 else math.inf
    if res.gradient == "undefined":
        return _("Both gradients are ≈ 0 at this start: there is no ratio to show.")
    if res.gradient == "half":
        return _("There MSE on p's gradient is exactly half of BCE's: MSE's extra factor 2·p(1 − p) is ½ at p = 0.5. "
                 "No plateau here.")
    if res.gradient == "plateau":
        return _("There MSE on p has a gradient {k} smaller than BCE's: σ′(s) = p(1 − p) multiplies it and is ≈ 0 "
                 "where the model is sure, so gradient descent starts on a plateau.").format(k=times(k))
    if res.gradient == "smaller":
        return _("MSE on p's gradient is {k} smaller than BCE's here, but too few examples are confidently wrong "
                 "for a plateau.").format(k=times(k))
    return _("Here MSE on p's gradient is not smaller than BCE's (BCE's is {k} MSE's).").format(k=times(k))


def _fate_phrase(name: str, fate: tuple, plateau: bool) -> str:
    kind, acc, best = fate
    label = {"bce": "BCE", "mse": _("MSE on p")}[name]
    if kind == "diverged":
        return _("{loss} diverged").format(loss=label)
    if kind == "one_class":
        text = _("{loss} still answers the same class for every example ({acc} right)").format(loss=label,
                                                                                             acc=pct(acc))
        return text + (_(": it has not left the plateau") if plateau and name == "mse" else "")
    if kind == "trained":
        return _("{loss} classifies {acc} right ({best} at its own minimum)").format(loss=label, acc=pct(acc),
                                                                                  best=pct(best))
    return _("{loss} is partway: {acc} right ({best} at its own minimum)").format(loss=label, acc=pct(acc),
                                                                                 best=pct(best))


def ce_outcome_sentence(res: CEResult, steps: int) -> str:
    fb, fm = res.fates["bce"], res.fates["mse"]
    steps = steps_run(steps, CE_RUNS)
    head = _("After {n} steps: {bce}; {mse}.").format(n=int(steps), bce=_fate_phrase("bce", fb, False),
                                                      mse=_fate_phrase("mse", fm, res.gradient == "plateau"))
    if res.comparison == "bce":
        tail = _("BCE ends with the higher accuracy.")
    elif res.comparison == "mse":
        tail = _("MSE on p ends with the higher accuracy here ({a} against {b}). Accuracy is not what either loss "
                 "minimises: at their own minima BCE gets {x} and MSE on p {y}.").format(
            a=pct(fm[1]), b=pct(fb[1]), x=pct(fb[2]), y=pct(fm[2]))
    elif res.comparison == "tie":
        tail = _("Both classify the same number of examples right.")
    else:
        tail = ""
    return sentences([head, tail])


def ce_convexity_sentence(res: CEResult) -> str:
    nc = res.nonconvex
    if nc["mse"] and not nc["bce"]:
        return _("MSE on p is not convex (flat shelves, see its contours), while BCE is convex in (w, b).")
    if nc["mse"] and nc["bce"]:
        return _("On this grid both surfaces show a non-convex stretch.")
    return ""


def ce_fates_index(v: Mapping[str, Any]) -> int:
    """Which loss gets the classifier right: 0 BCE only, 1 MSE on p only, 2 both, 3 neither."""
    res = ce_from(v)
    b, m = res.fates["bce"][0] == "trained", res.fates["mse"][0] == "trained"
    return 2 if b and m else 0 if b else 1 if m else 3


def ce_mse_trained(v: Mapping[str, Any]) -> int:
    """0 when MSE on p gets the classifier right, 1 when not."""
    return 0 if ce_from(v).fates["mse"][0] == "trained" else 1


def ce_gradient_bucket(v: Mapping[str, Any]) -> int | None:
    res = ce_from(v)
    return model.gradient_ratio_bucket(res.g0["bce"], res.g0["mse"])


@text_cache_data(max_entries=16, show_spinner=False)  # holds text: keyed by language
def fig_per_sample(mark: float):
    s, curves = model.per_sample_curves()
    labels = {n: _(t) for n, t in CE_LABELS.items()}
    return fig.per_sample(s, curves, labels=labels, mark=mark, height=330)


# ----------------------------------------------------------------------------------------------
# Predictions and the lesson
# ----------------------------------------------------------------------------------------------
Q_HUBER_SMALL = lessons.Question(
    "huber_small_delta", N_("Huber between MSE and MAE"),
    N_("Huber's δ at its smallest value, 0.1. Over the plotted residuals (−3 to 3), which curve will Huber's loss "
       "look like?"),
    state={"sec": CATALOGUE, "k": "regression", "d": 0.1},
    choices=(N_("MAE, scaled down: a V with a tiny rounded tip"), N_("Half of MSE: the parabola ½·r²"),
             N_("Neither: clearly quadratic in the middle and straight outside")),
    outcome=huber_shape_index,
    explanation=N_("Huber is ½·r² for |r| ≤ δ and δ·|r| − δ²/2 beyond. At δ = 0.1 the quadratic part is tiny: Huber "
                   "is a scaled MAE, and its derivative a step of height ±δ. Move δ up to 3 and the quadratic part "
                   "covers the whole plotted range: Huber becomes ½·r², half of MSE."))

Q_HUBER_BIG = lessons.Question(
    "huber_big_delta", N_("Huber with δ = 3"),
    N_("Now δ = 3, the largest value. Over the plotted residuals (−3 to 3), which curve will Huber's loss look "
       "like?"),
    state={"sec": CATALOGUE, "k": "regression", "d": 3.0},
    choices=Q_HUBER_SMALL.choices, outcome=huber_shape_index,
    explanation=N_("Every plotted residual is within δ = 3, so Huber is ½·r² over the whole range: half of MSE (its "
                   "derivative is the straight line r, half of MSE's 2r). δ is the size of residual you are willing "
                   "to call normal."))

Q_OUTLIERS = lessons.Question(
    "outliers_drag", N_("Outliers drag MSE"),
    N_("Six points pushed 6·std(y) up. Which loss's line will move furthest from the line it fits without the "
       "outliers?"),
    state={"sec": OUTLIERS, "n": 6, "sz": 6.0, "sd": "up", "hd": 1.0},
    choices=(N_("MSE's"), N_("MAE's"), N_("Huber's (δ = 1)")),
    outcome=lambda v: ("mse", "mae", "huber").index(lab_from(v).verdict.most) if lab_from(v).verdict.code != "none"
    else None,
    explanation=N_("MSE's line is lifted towards the outliers: a squared loss lets a point pull in proportion to "
                   "its distance. MAE and Huber cap the pull, so their lines stay with the bulk of the points. "
                   "Compare the three numbers: their ratio is what \"the choice of loss matters\" means here."))

Q_BIG_DELTA = lessons.Question(
    "huber_huge_delta", N_("Huber with a huge δ"),
    N_("Keep the six outliers and set Huber's δ to 50. Which line will Huber's lie on?"),
    state={"sec": OUTLIERS, "n": 6, "sz": 6.0, "sd": "up", "hd": 50.0},
    choices=(N_("MSE's"), N_("MAE's"), N_("Neither: it lies between them")),
    outcome=lambda v: model.huber_coincides(lab_from(v).fits),
    explanation=N_("With δ larger than every residual, Huber is ½·r² on every point: half of MSE, the same "
                   "minimum, so its line lies on MSE's and its surface is MSE's, halved. δ is the size of residual "
                   "you are willing to call normal."))

Q_MAE = lessons.Question(
    "mae_fixed_lr", N_("MAE and a fixed learning rate"),
    N_("Plain SGD (full batch), lr 0.1, 200 steps, trained on MAE. Will MAE's path settle on its minimum as MSE's "
       "does under the same optimizer?"),
    state={"sec": COUPLING, "l": "mae", "co": "sgd", "clr": 0.1, "ct": 200},
    choices=(N_("Yes: its gap shrinks about as far as MSE's"), N_("No: its curve levels off far above MSE's")),
    outcome=mae_settles_like_mse,
    explanation=N_("MAE's gradient is a mean of signs: its size does not shrink near the minimum, so with a constant "
                   "lr every step has about the same length and the path rattles around the kink (its gap curve "
                   "levels off). MSE's gradient is proportional to the distance, so its steps shrink by "
                   "themselves. Only a learning rate that decays settles MAE exactly."))

Q_CE_WRONG = lessons.Question(
    "ce_wrong_start", N_("Start confidently wrong"),
    N_("Both losses start from the same confidently wrong model (a slope of the wrong sign), plain gradient "
       "descent with lr 0.5, 300 steps. Which one gets the classifier right (within 2 points of the accuracy at "
       "its own minimum)?"),
    state={"sec": WHY_CE, "cf": "mean radius", "st": "wrong", "elr": 0.5, "et": 300},
    choices=(N_("BCE only"), N_("MSE on p only"), N_("Both"), N_("Neither")),
    outcome=ce_fates_index,
    explanation=N_("BCE's gradient on a confidently wrong example is σ(s) − y, close to −1: it walks straight out. "
                   "MSE on p multiplies its gradient by σ′(s) = p(1 − p) ≈ 0 there: it starts on a plateau and, "
                   "after the same steps, still answers the same class for every example."))

Q_CE_LR = lessons.Question(
    "ce_bigger_lr", N_("A larger step for MSE on p"),
    N_("Same confidently wrong start, but lr 2 instead of 0.5. Does MSE on p get the classifier right now?"),
    state={"sec": WHY_CE, "cf": "mean radius", "st": "wrong", "elr": 2.0, "et": 300},
    choices=(N_("Yes"), N_("No: it is still on the plateau")),
    outcome=ce_mse_trained,
    explanation=N_("A larger step makes up for the tiny gradient: MSE on p leaves the plateau within the 300 steps. "
                   "BCE did not need it."))

Q_CE_ORIGIN = lessons.Question(
    "ce_origin", N_("No plateau at the origin"),
    N_("Start at the origin instead: w = b = 0, so every p = 0.5. How many times larger than MSE on p's is BCE's "
       "gradient there?"),
    state={"sec": WHY_CE, "cf": "mean radius", "st": "origin", "elr": 0.5, "et": 300},
    choices=(N_("Less than 1.5×"), N_("1.5× to 4×"), N_("4× to 30×"), N_("More than 30×")),
    outcome=ce_gradient_bucket,
    explanation=N_("At p = 0.5, MSE on p's gradient 2(p − y)·p(1 − p) is (p − y)/2: exactly half of BCE's p − y. The "
                   "plateau needs confident mistakes; a model that is sure of nothing has none."))

LESSON = lessons.Lesson(
    "losses", N_("Which loss, and what it does to training"),
    steps=(
        lessons.Step(N_("A loss between MSE and MAE"),
                     N_("Huber is quadratic for small residuals and linear for large ones. δ sets the border."),
                     ask=Q_HUBER_SMALL),
        lessons.Step(N_("The other end of δ"), N_("Same question with the largest δ."), ask=Q_HUBER_BIG),
        lessons.Step(N_("Outliers"), N_("A line through 40 noisy points, six of them pushed far up."),
                     ask=Q_OUTLIERS),
        lessons.Step(N_("δ larger than every residual"), N_("Same data, Huber's δ = 50."), ask=Q_BIG_DELTA),
        lessons.Step(N_("The loss shapes the optimizer's path"),
                     N_("One optimizer, one learning rate, six regression losses on the same data."), ask=Q_MAE),
        lessons.Step(N_("Classification: a confidently wrong start"),
                     N_("Logistic regression on breast-cancer data, trained with BCE or with MSE on p."),
                     ask=Q_CE_WRONG),
        lessons.Step(N_("A larger learning rate"), N_("Same start, four times the step."), ask=Q_CE_LR),
        lessons.Step(N_("A start that is sure of nothing"), N_("Start at the origin instead."), ask=Q_CE_ORIGIN),
    ),
    summary=N_("Eight predictions: how Huber sits between MSE and MAE, how outliers move each loss's line, how a "
               "kink at the minimum stalls a fixed learning rate, and why cross-entropy, not MSE on probabilities, "
               "trains a classifier out of a confident mistake."),
    minutes=20)

CHAPTER = lessons.Chapter(PAGE, N_("Loss functions"),
                          questions=(Q_HUBER_SMALL, Q_OUTLIERS, Q_BIG_DELTA, Q_MAE, Q_CE_WRONG, Q_CE_ORIGIN),
                          lessons=(LESSON,))


__all__ = ["LR_CHOICES", "num", "pct", "times", "loss_name", "opt_title", "listing", "sentences", "prob", "RERUN", "LAB_RUNS",
           "COUPLING_RUNS", "CE_RUNS", "max_steps", "planned_steps", "steps_run", "SECTIONS", "SECTION", "PAGE", "keep_values",
           "catalogue_facts", "fig_catalogue", "catalogue_sentences", "one_hot_sentence", "loss_table_rows", "loss_table",
           "lab_window", "lab_specs", "clean_fit", "LabResult", "lab_result", "lab_from", "lab_names", "lab_sentence",
           "lab_runs", "path_sentence", "fig_outliers", "fig_lab_surfaces", "coupling_params", "CouplingResult",
           "coupling_result", "coupling_from", "coupling_runs", "coupling_sentences", "mae_settles_like_mse",
           "fig_relative_gap", "fig_panel", "CEResult", "ce_result", "ce_from", "ce_runs", "ce_start_sentence",
           "ce_gradient_sentence", "ce_outcome_sentence", "ce_convexity_sentence", "fig_per_sample", "CHAPTER",
           "LESSON", "Q_HUBER_SMALL", "Q_HUBER_BIG", "Q_OUTLIERS", "Q_BIG_DELTA", "Q_MAE", "Q_CE_WRONG", "Q_CE_LR",
           "Q_CE_ORIGIN",
           # shared with the gradient-descent page (optlab.ui.data_surfaces)
           "feature_label", "corner_start", "dataset", "dataset_description", "distance", "feature_names", "gap", "min_value",
           "minimum", "run_of", "surface"]
