r"""The chapter "Loss functions": the catalogue of losses, the outlier lab, switching the training loss
under one optimizer, and why cross-entropy beats MSE for classification.

Everything the page's captions quote is computed here from the engine's losses and models:
the numbers behind the parameter sliders (:func:`parameter_facts`), the outlier lab's shared window
and fits (:func:`lab_window`, :func:`lab_specs`, :func:`clean_fit`, :func:`shift`), the per-sample
curves of BCE and MSE on σ(s) (:func:`per_sample_curves`, :func:`sample_gradients`) and what a
classifier's parameters give on the data (:func:`accuracy`, :func:`probability_range`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from .. import losses, models

LAB_LOSSES = ("mse", "mae", "huber")
LAB_HALFWIDTH = 6.0


# ----------------------------------------------------------------------------------------------
# Loss catalogue
# ----------------------------------------------------------------------------------------------
def catalogue(kind: str, delta: float, q: float, gamma: float) -> list:
    """The losses of one kind (``"regression"`` / ``"classification"``) with the chosen parameters."""
    params = {"huber": {"delta": delta}, "quantile": {"q": q}, "focal": {"gamma": gamma}}
    group = losses.REGRESSION if kind == "regression" else losses.CLASSIFICATION
    return [losses.get(n, **params.get(n, {})) for n in group]


def parameter_facts(delta: float, q: float, gamma: float, p: float = 0.9) -> dict[str, float]:
    """Numbers that describe the chosen δ, q, γ, read off the losses themselves:
    Huber's largest pull (its slope far out), the quantile loss's cost ratio under/over, and the
    factor by which focal loss scales BCE at a margin where the model gives the true class p."""
    hub = losses.get("huber", delta=delta)
    qu = losses.get("quantile", q=q)
    foc, bce = losses.get("focal", gamma=gamma), losses.get("bce")
    m = math.log(p / (1 - p))  # σ(m) = p
    return {
        "huber_pull": float(hub.pointwise_grad(1e6)),
        "mse_pull_at_10": float(losses.get("mse").pointwise_grad(10.0)),
        "quantile_ratio": float(qu.pointwise(-1.0) / qu.pointwise(1.0)),
        "focal_factor": float(foc.pointwise(m) / bce.pointwise(m)),
        "p": p,
    }


def loss_table() -> list[dict[str, Any]]:
    """One row per loss: the seed article's taxonomy next to the engine's catalogue."""
    rows = []
    for n in losses.names():
        L = losses.get(n)
        rows.append({
            "loss": L.title, "name": n,
            "article's class": ("continuous (连续型): regression" if L.kind == "regression"
                                else "discrete (离散型): classification"),
            "curve over": L.variable, "convex": "yes" if L.convex else "no",
            "PyTorch": L.torch_equivalent or "",
        })
    return rows


@dataclass(frozen=True)
class OneHot:
    scores: np.ndarray
    labels: np.ndarray
    targets: np.ndarray
    with_labels: float
    with_one_hot: float
    neg_log_p_true: np.ndarray


def one_hot_demo() -> OneHot:
    """Cross-entropy of three samples and three classes, given class labels and given one-hot
    targets: the same number (the seed's "one-hot encoding loss" is cross-entropy)."""
    scores = np.array([[2.0, 0.5, -1.0], [0.2, 1.5, 0.3], [-0.5, 0.1, 0.4]])
    labels = np.array([0, 2, 2])
    ce = losses.get("cross_entropy")
    targets = losses.one_hot(labels, 3)
    nl = -losses.log_softmax(scores)[np.arange(3), labels]
    return OneHot(scores, labels, targets, float(ce.value(labels, scores)), float(ce.value(targets, scores)), nl)


# ----------------------------------------------------------------------------------------------
# Outlier lab: MSE, MAE and Huber on a line with outliers (data spec "outliers" of optlab.specs)
# ----------------------------------------------------------------------------------------------
def lab_window(x, y) -> tuple:
    """The outlier lab's fixed (w, b) window: centred on the clean data's least-squares line, so
    the three surfaces and every outlier setting share one view."""
    w, b = models.LinearRegression.closed_form(x, y)
    h = LAB_HALFWIDTH
    return ((float(w - h), float(w + h)), (float(b - h), float(b + h)))


def lab_specs(count: int, size: float, side: str, delta: float, seed: int, window: tuple) -> dict[str, tuple]:
    """Surface specs of MSE, MAE and Huber on the lab's data, in one shared ``window``."""
    d = ("outliers", int(count), float(size), side, int(seed))
    return {n: (d, n, (("delta", float(delta)),) if n == "huber" else (), window) for n in LAB_LOSSES}


def clean_fit(x, y) -> tuple[float, float]:
    """The least-squares (w, b) of the clean data."""
    w, b = models.LinearRegression.closed_form(x, y)
    return float(w), float(b)


def shift(fit, ref) -> float:
    """How far a fitted (w, b) moved from the clean fit (Euclidean, in parameter space)."""
    return float(np.hypot(fit[0] - ref[0], fit[1] - ref[1]))


# ----------------------------------------------------------------------------------------------
# Switching the loss under one optimizer
# ----------------------------------------------------------------------------------------------
def relative_final_gap(run_losses, f_star: float, diverged: bool) -> float:
    """(f_T − f*)/(f₀ − f*): the share of the initial gap that is left at the end (inf if diverged)."""
    ls = np.asarray(run_losses, dtype=float) - f_star
    if diverged or not np.isfinite(ls[-1]):
        return math.inf
    return float(max(ls[-1], 0.0) / ls[0]) if ls[0] > 0 else 0.0


def grad_norm(surface, point) -> float:
    """‖∇f‖ at ``point``."""
    return float(np.linalg.norm(surface.grad(np.asarray(point, dtype=float))))


# ----------------------------------------------------------------------------------------------
# Why cross-entropy
# ----------------------------------------------------------------------------------------------
def per_sample_curves(s_max: float = 8.0, n: int = 161) -> tuple[np.ndarray, dict[str, tuple]]:
    """Loss and d(loss)/ds of one positive example (y = 1) against its score s, for BCE and for MSE
    on the probability σ(s): computed by the engine's logistic models on a one-sample data set."""
    s = np.linspace(-s_max, s_max, n)
    theta = np.stack([s, np.zeros_like(s)], axis=-1)  # w = s, b = 0, x = 1: the score is s
    X, y = np.array([1.0]), np.array([1])
    out = {}
    for name in ("bce", "mse"):
        mdl = models.LogisticRegression(name)
        out[name] = (mdl.loss(theta, X, y), mdl.grad(theta, X, y)[:, 0])
    return s, out


def sample_gradients(s: float) -> dict[str, float]:
    """d(loss)/ds at score ``s`` of a positive example, for BCE and MSE on σ(s)."""
    theta = np.array([float(s), 0.0])
    return {n: float(models.LogisticRegression(n).grad(theta, np.array([1.0]), np.array([1]))[0])
            for n in ("bce", "mse")}


def accuracy(x, y, theta) -> float:
    """Share of the examples (x, y) classified correctly at ``theta`` = (w, b) (NaN for a diverged run)."""
    theta = np.asarray(theta, dtype=float)
    if not np.all(np.isfinite(theta)):
        return float("nan")
    return float(np.mean(models.LogisticRegression("bce").predict(theta, x) == y))


def probability_range(x, theta) -> tuple[float, float]:
    """Smallest and largest predicted probability σ(w·x + b) over the data at ``theta``."""
    p = models.LogisticRegression("bce").predict_proba(np.asarray(theta, dtype=float), x)
    return float(p.min()), float(p.max())


# ----------------------------------------------------------------------------------------------
# Verdicts: what the page's captions claim, decided on the current numbers
# ----------------------------------------------------------------------------------------------
# A relative gap (f − f*)/(f₀ − f*) below this is the minimum to rounding: f is a mean of squares
# whose rounding error is ~1e-16 of its size, so smaller gaps are noise, never printed as numbers.
ROUNDING_GAP = 1e-12
# A distance in (w, b) below this is "at the minimum" (the minima are found to ~1e-10).
ROUNDING_DISTANCE = 1e-8
SMOOTH = ("mse", "rmse", "huber", "log_cosh")   # differentiable everywhere: the gradient shrinks at the minimum
KINKED = ("mae", "quantile")                    # piecewise linear: a kink at the minimum, a pull of constant size
NEAR = 0.1            # "near its minimum": less than 10 % of the initial gap left
CLEAR = 10.0          # one group of losses is "clearly ahead" when its worst gap is 10× below the other's best
SMALL_MOVE = 0.05     # the lab: a line that moved less than this in (w, b) "hardly moved"
CLEAR_RATIO = 2.0     # the lab: the most-moved line moved at least twice as far as the least-moved one
SHAPE_TOL = 0.025     # Huber "looks like" a curve when it is within 2.5 % of the curve's height everywhere


@dataclass(frozen=True)
class CatalogueFacts:
    """What the catalogue's captions say about the chosen δ, q, γ, each checked on the losses."""

    huber_pull: float           # Huber's largest pull (its slope far out): δ
    mse_pull_at_10: float       # MSE's pull at r = 10: 20
    quantile_ratio: float       # cost of under-predicting by 1 / cost of over-predicting by 1
    quantile_order: str         # "under" (under-predicting costs more), "over", "equal"
    focal_factor: float         # focal / BCE at a margin where the true class gets probability p
    p: float
    focal_is_bce: bool          # γ = 0: focal loss is BCE
    rmse_is_mae: bool           # per sample RMSE is |r|, the same curve as MAE
    hinge_zero_beyond: bool     # hinge is exactly 0 for m ≥ 1
    softmax_is_bce: bool        # two-class cross-entropy on m is BCE


def catalogue_facts(delta: float, q: float, gamma: float, p: float = 0.9, u_max: float = 3.0) -> CatalogueFacts:
    """:func:`parameter_facts` and the claims of the catalogue's captions, checked on a grid of
    residuals / margins over the plotted range."""
    f = parameter_facts(delta, q, gamma, p)
    u = np.linspace(-u_max, u_max, 601)
    ratio = f["quantile_ratio"]
    order = "equal" if math.isclose(ratio, 1.0, rel_tol=1e-12) else ("under" if ratio > 1 else "over")
    bce = losses.get("bce").pointwise(u)
    m = u[u >= 1.0]
    return CatalogueFacts(
        huber_pull=f["huber_pull"], mse_pull_at_10=f["mse_pull_at_10"], quantile_ratio=ratio, quantile_order=order,
        focal_factor=f["focal_factor"], p=p,
        focal_is_bce=bool(np.allclose(losses.get("focal", gamma=gamma).pointwise(u), bce, rtol=1e-12, atol=0)),
        rmse_is_mae=bool(np.array_equal(losses.get("rmse").pointwise(u), losses.get("mae").pointwise(u))),
        hinge_zero_beyond=bool(np.all(losses.get("hinge").pointwise(m) == 0.0)),
        softmax_is_bce=bool(np.allclose(losses.get("cross_entropy").pointwise(u), bce, rtol=1e-12, atol=1e-15)),
    )


HUBER_SHAPES = ("mae", "mse", "blend")


def huber_shape(delta: float, u_max: float = 3.0, n: int = 301, tol: float = SHAPE_TOL) -> tuple[str, float, float]:
    """What Huber's curve looks like over the plotted residuals |r| ≤ ``u_max``:
    ``("mae", …)`` MAE scaled by δ and shifted down (δ·|r| − δ²/2 within ``tol`` of the curve's
    height everywhere), ``("mse", …)`` half of MSE (½·r² within ``tol``), ``("blend", …)``
    neither.  Returns the shape and the two relative misfits."""
    u = np.linspace(-u_max, u_max, n)
    d = float(delta)
    h = losses.get("huber", delta=d).pointwise(u)
    span = float(h.max() - h.min()) or 1.0
    to_mae = float(np.max(np.abs(h - (d * np.abs(u) - d * d / 2))) / span)
    to_mse = float(np.max(np.abs(h - 0.5 * u * u)) / span)
    if to_mse <= tol and to_mse <= to_mae:
        return "mse", to_mae, to_mse
    if to_mae <= tol:
        return "mae", to_mae, to_mse
    return "blend", to_mae, to_mse


# -- outlier lab --------------------------------------------------------------------------------
@dataclass(frozen=True)
class LabVerdict:
    """How far each loss's fitted line moved because of the outliers, and what the caption may say.

    ``code``: ``"none"`` (no outliers: nothing moved), ``"small"`` (every line moved less than
    :data:`SMALL_MOVE`), ``"huber_as_mse"`` (Huber's δ exceeds every residual: its line *is* MSE's),
    ``"mse_most"`` (MSE moved most, at least :data:`CLEAR_RATIO` times as far as the least),
    ``"similar"`` (the largest move is less than :data:`CLEAR_RATIO` times the smallest), or
    ``"other_most"`` (a loss other than MSE moved clearly most).  ``ratio`` is most/least (inf when
    the least did not move measurably)."""

    code: str
    moves: dict
    most: str
    least: str
    ratio: float
    max_residual: float      # largest |residual| at MSE's line (Huber is ½·r² everywhere when δ ≥ it)


def lab_verdict(fits: Mapping[str, Sequence[float]], clean_fits: Mapping[str, Sequence[float]], count: int,
                size: float, delta: float, max_residual: float) -> LabVerdict:
    """The lab's verdict from each loss's fit with and without the outliers (``{loss: (w, b)}``)."""
    moves = {n: shift(fits[n], clean_fits[n]) for n in fits}
    order = sorted(moves, key=lambda n: (moves[n], n))
    least, most = order[0], order[-1]
    lo, hi = moves[least], moves[most]
    ratio = hi / lo if lo > ROUNDING_DISTANCE else math.inf
    if int(count) == 0 or float(size) == 0.0 or hi <= ROUNDING_DISTANCE:
        code = "none"
    elif hi < SMALL_MOVE:
        code = "small"
    elif ("huber" in fits and "mse" in fits and float(delta) >= max_residual
          and shift(fits["huber"], fits["mse"]) <= 1e-6 * (1.0 + math.hypot(*fits["mse"]))):
        code = "huber_as_mse"
    elif ratio < CLEAR_RATIO:
        code = "similar"
    elif most == "mse" or moves.get("mse", -1.0) >= hi * (1 - 1e-9):
        code, most = "mse_most", "mse"
    else:
        code = "other_most"
    return LabVerdict(code, moves, most, least, ratio, float(max_residual))


def max_residual(x, y, fit) -> float:
    """The largest |ŷ − y| of the line ``fit`` = (w, b) on the data."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return float(np.max(np.abs(fit[0] * x + fit[1] - y)))


def huber_coincides(fits: Mapping[str, Sequence[float]], tol: float = 1e-6) -> int:
    """Whose line Huber's lies on: 0 MSE's, 1 MAE's, 2 neither (within ``tol``·(1 + |fit|))."""
    h = fits["huber"]
    for i, n in enumerate(("mse", "mae")):
        if shift(h, fits[n]) <= tol * (1.0 + math.hypot(*fits[n])):
            return i
    return 2


# -- loss ↔ optimizer ---------------------------------------------------------------------------
@dataclass(frozen=True)
class CouplingVerdict:
    """Which training losses got near their minimum under one optimizer, and what the caption may
    say.  ``code``: ``"all_diverged"``, ``"none_near"`` (no run kept less than :data:`NEAR` of its
    gap), ``"smooth_ahead"`` (every smooth loss :data:`CLEAR` times closer than every kinked one),
    ``"kinked_ahead"`` (the reverse) or ``"mixed"``.  ``diverged``: losses whose run blew up;
    ``worse``: losses whose run ended above its start."""

    code: str
    gaps: dict
    diverged: tuple
    worse: tuple
    ranked: tuple


def coupling_verdict(gaps: Mapping[str, float], diverged: Iterable[str] = ()) -> CouplingVerdict:
    """The verdict from each loss's relative final gap (:func:`relative_final_gap`)."""
    gaps = {n: float(g) for n, g in gaps.items()}
    div = tuple(n for n in gaps if n in set(diverged) or not math.isfinite(gaps[n]))
    ok = {n: g for n, g in gaps.items() if n not in div}
    worse = tuple(n for n, g in ok.items() if g > 1.0)
    ranked = tuple(sorted(ok, key=lambda n: (ok[n], n))) + div
    smooth = [ok[n] for n in SMOOTH if n in ok]
    kinked = [ok[n] for n in KINKED if n in ok]
    if not ok:
        code = "all_diverged"
    elif min(ok.values()) >= NEAR:
        code = "none_near"
    elif smooth and kinked and max(max(smooth), ROUNDING_GAP) * CLEAR <= min(kinked):
        code = "smooth_ahead"
    elif smooth and kinked and max(max(kinked), ROUNDING_GAP) * CLEAR <= min(smooth):
        code = "kinked_ahead"
    else:
        code = "mixed"
    return CouplingVerdict(code, gaps, div, worse, ranked)


def settles_like(gap: float, reference: float) -> bool:
    """A run "settles like" a reference run: its relative gap within 100× of the reference's
    (both floored at the rounding level :data:`ROUNDING_GAP`)."""
    if not (math.isfinite(gap) and math.isfinite(reference)):
        return False
    return max(gap, ROUNDING_GAP) <= 100.0 * max(reference, ROUNDING_GAP)


# -- why cross-entropy --------------------------------------------------------------------------
CONFIDENT = 0.95      # a prediction is "confident" when it gives one class at least this probability


@dataclass(frozen=True)
class StartFacts:
    """The classifier at its start: the range of its probabilities and how sure it is."""

    pmin: float
    pmax: float
    all_half: bool          # every p is 0.5 (the origin: score 0 everywhere)
    confident: float        # share of examples predicted with max(p, 1 − p) ≥ CONFIDENT
    confidently_wrong: float  # share whose true class gets p ≤ 1 − CONFIDENT


def start_facts(x, y, theta) -> StartFacts:
    p = models.LogisticRegression("bce").predict_proba(np.asarray(theta, dtype=float), x)
    y = np.asarray(y)
    p_true = np.where(y == 1, p, 1.0 - p)
    return StartFacts(float(p.min()), float(p.max()), bool(np.all(p == 0.5)),
                      float(np.mean(np.maximum(p, 1 - p) >= CONFIDENT)), float(np.mean(p_true <= 1 - CONFIDENT)))


def gradient_verdict(g_bce: float, g_mse: float, facts: StartFacts) -> str:
    """What the caption may say about the two gradients at the start: ``"undefined"`` (both ≈ 0:
    no ratio), ``"half"`` (every p = 0.5: MSE on p's gradient is exactly half of BCE's),
    ``"plateau"`` (MSE's at most a third of BCE's and at least a quarter of the examples
    confidently wrong), ``"smaller"`` or ``"not_smaller"``."""
    if not (math.isfinite(g_bce) and math.isfinite(g_mse)) or max(g_bce, g_mse) < 1e-12:
        return "undefined"
    if facts.all_half:
        return "half"
    ratio = g_mse / g_bce if g_bce > 0 else math.inf
    if ratio <= 1 / 3 and facts.confidently_wrong >= 0.25:
        return "plateau"
    return "smaller" if ratio < 1 else "not_smaller"


def gradient_ratio_bucket(g_bce: float, g_mse: float) -> int | None:
    """BCE's gradient over MSE on p's: 0 about the same (< 1.5×), 1 about 2× (< 4×), 2 about 10×
    (< 30×), 3 more; None when undefined."""
    if not (math.isfinite(g_bce) and math.isfinite(g_mse)) or g_mse <= 0 or max(g_bce, g_mse) < 1e-12:
        return None
    r = g_bce / g_mse
    return 0 if r < 1.5 else 1 if r < 4 else 2 if r < 30 else 3


def predictions(x, theta) -> np.ndarray:
    return models.LogisticRegression("bce").predict(np.asarray(theta, dtype=float), x)


TRAINED_MARGIN = 0.02   # "got the classifier right": within 2 points of the accuracy at its own minimum


def ce_fate(x, y, theta, theta_min, diverged: bool) -> tuple[str, float, float]:
    """What a run on the breast-cancer data did: ``("diverged" | "one_class" | "trained" |
    "partway", accuracy, accuracy at the loss's own minimum)``.  ``one_class``: the classifier
    answers the same class for every example (a plateau's classifier); ``trained``: within
    :data:`TRAINED_MARGIN` of the accuracy at the minimum."""
    best = accuracy(x, y, theta_min)
    if diverged or not np.all(np.isfinite(np.asarray(theta, dtype=float))):
        return "diverged", float("nan"), best
    acc = accuracy(x, y, theta)
    pred = predictions(x, theta)
    if np.all(pred == pred[0]):
        return "one_class", acc, best
    if acc >= best - TRAINED_MARGIN:
        return "trained", acc, best
    return "partway", acc, best


def compare_accuracy(acc_bce: float, acc_mse: float, n: int) -> str:
    """``"bce"``, ``"mse"`` (more examples right) or ``"tie"`` (the same number); ``"undefined"``
    when a run diverged."""
    if not (math.isfinite(acc_bce) and math.isfinite(acc_mse)):
        return "undefined"
    a, b = round(acc_bce * n), round(acc_mse * n)
    return "tie" if a == b else ("bce" if a > b else "mse")


def nonconvex_on_grid(Z) -> bool:
    """True when the grid values ``Z`` (ny, nx) of a surface break convexity somewhere: a negative
    second difference along w, b or a diagonal beyond the rounding of the values."""
    Z = np.asarray(Z, dtype=float)
    tol = 1e-9 * max(1.0, float(np.nanmax(np.abs(Z))))
    d = [Z[:, :-2] - 2 * Z[:, 1:-1] + Z[:, 2:], Z[:-2, :] - 2 * Z[1:-1, :] + Z[2:, :],
         Z[:-2, :-2] - 2 * Z[1:-1, 1:-1] + Z[2:, 2:], Z[:-2, 2:] - 2 * Z[1:-1, 1:-1] + Z[2:, :-2]]
    return any(bool(np.nanmin(v) < -tol) for v in d)


def bce_stable_lr(x) -> float:
    """2 / L for BCE's gradient descent: L = ¼·λ_max(mean [x, 1][x, 1]ᵀ) bounds its curvature
    everywhere (σ′ ≤ ¼), so every learning rate below this value is stable."""
    x = np.asarray(x, dtype=float)
    M = np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]])
    return float(2.0 / (0.25 * np.linalg.eigvalsh(M)[-1]))


__all__ = ["LAB_LOSSES", "LAB_HALFWIDTH", "catalogue", "parameter_facts", "loss_table", "OneHot", "one_hot_demo",
           "lab_window", "lab_specs", "clean_fit", "shift", "relative_final_gap", "grad_norm", "per_sample_curves",
           "sample_gradients", "accuracy", "probability_range",
           "ROUNDING_GAP", "ROUNDING_DISTANCE", "SMOOTH", "KINKED", "NEAR", "CLEAR", "SMALL_MOVE", "CLEAR_RATIO",
           "SHAPE_TOL", "CatalogueFacts", "catalogue_facts", "HUBER_SHAPES", "huber_shape", "LabVerdict", "lab_verdict",
           "max_residual", "huber_coincides", "CouplingVerdict", "coupling_verdict", "settles_like", "CONFIDENT",
           "StartFacts", "start_facts", "gradient_verdict", "gradient_ratio_bucket", "predictions", "TRAINED_MARGIN",
           "ce_fate", "compare_accuracy", "nonconvex_on_grid", "bce_stable_lr"]
