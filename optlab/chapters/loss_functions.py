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
from typing import Any

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


__all__ = ["LAB_LOSSES", "LAB_HALFWIDTH", "catalogue", "parameter_facts", "loss_table", "OneHot", "one_hot_demo",
           "lab_window", "lab_specs", "clean_fit", "shift", "relative_final_gap", "grad_norm", "per_sample_curves",
           "sample_gradients", "accuracy", "probability_range"]
