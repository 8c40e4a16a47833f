r"""Closed forms on a quadratic ``f = ½θᵀAθ``: rates, stability limits, critical damping (one home).

Gradient descent with learning rate η multiplies the error along an eigenvector of A (eigenvalue λ)
by ``1 − ηλ`` per step, so it converges at the rate ``max |1 − ηλ|`` and only while
``η < 2/λ_max``; the best constant η is ``2/(λ_min + λ_max)``, with rate ``(κ − 1)/(κ + 1)``.
SGD with torch-style momentum (lr η, momentum μ) is a linear recursion whose per-eigenvalue
characteristic equation is ``z² − (1 + μ − ηλ) z + μ = 0``; its roots give the convergence rate,
the critically damped μ and the stability limit ``2(1 + μ)/λ_max``.

Every page that quotes one of these numbers (learning-rate presets on the gradient-descent page, the
momentum phase diagram, the LR finder's curvature line, the cross-validated learning rates) calls
this module; the tests check each formula against runs of the engine.
"""
from __future__ import annotations

import numpy as np


def _eig(eigenvalues) -> np.ndarray:
    lam = np.asarray(eigenvalues, dtype=float).reshape(-1)
    if lam.size == 0 or not np.all(np.isfinite(lam)) or np.any(lam <= 0):
        raise ValueError(f"eigenvalues must be positive finite numbers; got {eigenvalues!r}")
    return lam


def hessian_eigenvalues(surface, x) -> np.ndarray:
    r"""Eigenvalues (ascending) of ``surface``'s Hessian at the point ``x``: the curvatures λ of its
    local quadratic model, to which every formula below applies (exactly on a quadratic)."""
    H = np.asarray(surface.hessian(np.asarray(x, dtype=float).reshape(1, -1)), dtype=float)[0]
    return np.linalg.eigvalsh(0.5 * (H + H.T))


# ----------------------------------------------------------------------------------------------
# Gradient descent
# ----------------------------------------------------------------------------------------------
def gd_rate(lr, eigenvalues) -> np.ndarray:
    r"""``max_λ |1 − ηλ|``: the factor by which gradient descent with learning rate η shrinks the
    error per step on ``½θᵀAθ`` (≥ 1: no convergence).  Any real eigenvalues; ``lr`` broadcasts.
    It equals :func:`heavy_ball_rate` with μ = 0 where both apply."""
    lam = np.asarray(eigenvalues, dtype=float).reshape(-1)
    return np.max(np.abs(1.0 - np.multiply.outer(np.asarray(lr, dtype=float), lam)), axis=-1)


def gd_best_lr(lam_min: float, lam_max: float) -> float:
    r"""The constant learning rate with the fastest worst-case rate: ``η = 2/(λ_min + λ_max)``."""
    return 2.0 / (float(lam_max) + float(lam_min))


def gd_best_rate(lam_min: float, lam_max: float) -> float:
    r"""Gradient descent's rate at :func:`gd_best_lr`: ``(κ − 1)/(κ + 1)`` with ``κ = λ_max/λ_min``."""
    kappa = float(lam_max) / float(lam_min)
    return (kappa - 1) / (kappa + 1)


# ----------------------------------------------------------------------------------------------
# Heavy ball (SGD with momentum)
# ----------------------------------------------------------------------------------------------
def heavy_ball_rate(lr, momentum, eigenvalues) -> np.ndarray:
    r"""Asymptotic convergence rate ρ (error ∝ ρᵗ) of SGD with momentum on ``½θᵀAθ``.

    For each eigenvalue λ of A the two roots of ``z² − (1 + μ − ηλ) z + μ = 0`` have

    * ``|z| = √μ`` (both) when the discriminant ``(1 + μ − ηλ)² − 4μ`` is < 0 (under-damped, it spirals),
    * ``|z| = (|1 + μ − ηλ| + √disc)/2`` for the larger one otherwise (over-damped);

    ρ is the largest over the eigenvalues.  ρ ≥ 1 means no convergence (ρ > 1: divergence), which
    happens exactly when ``ηλ_max ≥ 2(1 + μ)``.  ``lr`` and ``momentum`` broadcast (e.g. a grid).
    Plain gradient descent (μ = 0) gives ``max |1 − ηλ|``.
    """
    lam = _eig(eigenvalues)
    lr, mu = np.broadcast_arrays(np.asarray(lr, dtype=float), np.asarray(momentum, dtype=float))
    rate = np.zeros(lr.shape)
    for l in lam:
        a = 1.0 + mu - lr * l
        disc = a * a - 4.0 * mu
        over = (np.abs(a) + np.sqrt(np.maximum(disc, 0.0))) / 2.0
        r = np.where(disc >= 0, over, np.sqrt(np.maximum(mu, 0.0)))
        np.maximum(rate, r, out=rate)
    return rate


def critical_momentum(lr, eigenvalues) -> np.ndarray:
    r"""The critically damped momentum for learning rate η: ``β*(η) = max_λ (1 − √(ηλ))²``.

    For one eigenvalue λ, ``β = (1 − √(ηλ))²`` makes the discriminant zero (a double root
    ``z = 1 − √(ηλ)`` if ηλ ≤ 1, ``√(ηλ) − 1`` if 1 ≤ ηλ ≤ 4): smaller β is over-damped (slow, one
    sign), larger β under-damped (spirals with ``|z| = √β``).  The rate of that eigen-direction falls
    with β up to this point and equals √β beyond it, so for the whole quadratic the fastest momentum
    at fixed η is the largest of these values, reached at the slowest eigenvalue λ_min when η is small
    and at the fastest λ_max when η is large (they swap at Polyak's η, :func:`polyak_optimum`).
    The rate there is ``√β*(η) = max_λ |1 − √(ηλ)|``.  Values ≥ 1 mean no momentum converges at η
    (ηλ_max ≥ 4).  Only the extreme eigenvalues matter, as (1 − √(ηλ))² is convex in √λ.
    """
    lam = _eig(eigenvalues)
    lr = np.asarray(lr, dtype=float)
    s = np.sqrt(np.multiply.outer(lr, np.array([lam.min(), lam.max()])))
    return np.max((1.0 - s) ** 2, axis=-1)


def polyak_optimum(lam_min: float, lam_max: float) -> tuple[float, float, float]:
    r"""Polyak's (1964) best heavy-ball pair and its rate, ``(η, β, ρ)``:
    ``η = 4/(√λ_max + √λ_min)²``, ``β = ((√κ − 1)/(√κ + 1))²``, ``ρ = (√κ − 1)/(√κ + 1)``, κ = λ_max/λ_min.

    It is the point of the critical curve β*(η) where both extreme eigenvalues are critically
    damped at once; gradient descent's best rate is (κ − 1)/(κ + 1) instead.
    """
    lo, hi = float(np.min(_eig([lam_min]))), float(np.max(_eig([lam_max])))
    if hi < lo:
        raise ValueError(f"lam_max must be ≥ lam_min; got {lam_min!r}, {lam_max!r}")
    lr = 4.0 / (np.sqrt(hi) + np.sqrt(lo)) ** 2
    rho = (np.sqrt(hi) - np.sqrt(lo)) / (np.sqrt(hi) + np.sqrt(lo))
    return float(lr), float(rho * rho), float(rho)


def stability_limit(momentum, lam_max) -> np.ndarray:
    r"""The largest stable learning rate of heavy ball: ``η < 2(1 + μ)/λ_max`` (2/λ_max for plain GD)."""
    lam = float(np.max(_eig([lam_max])))
    return 2.0 * (1.0 + np.asarray(momentum, dtype=float)) / lam


def curvature_limit(surface, x, momentum: float = 0.0) -> float:
    r"""``2(1 + μ)/λ_max`` of the Hessian at ``x``: the learning rate above which (heavy-ball)
    gradient descent diverges on a quadratic with that Hessian; NaN if the Hessian has no positive
    eigenvalue.  Exact for quadratics (and linear least squares), local elsewhere."""
    lam = float(np.max(hessian_eigenvalues(surface, x)))
    return float(stability_limit(float(momentum), lam)) if lam > 0 else float("nan")


def steps_to_shrink(rate, factor: float) -> np.ndarray:
    r"""Steps for an error ∝ ρᵗ to shrink by ``factor`` (> 1): ``ln(factor)/(−ln ρ)`` (inf if ρ ≥ 1)."""
    rate = np.asarray(rate, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(float(factor)) / -np.log(rate)
    return np.where((rate < 1) & (rate > 0), out, np.where(rate <= 0, 1.0, np.inf))
