r"""The chapter "Adaptive methods": momentum's (lr, β) phase diagram, where Adam with L2 stops, and
the other numbers the page computes beyond single runs.

The heavy-ball closed forms the phase diagram is checked against are in :mod:`optlab.theory`; the
optimizers, their teaching variants and the LR finder are library modules.  Here:

* :func:`phase_range` and :func:`phase_sweep`: the learning-rate span of the diagram and one batched
  SGD sweep over (lr, β) on a quadratic;
* :func:`l2_minimum`: the point where a deterministic run with coupled L2 can stop.
"""
from __future__ import annotations

import numpy as np

from ..sweeps import SweepResult, sweep


def phase_range(lam_max: float, lr: float) -> tuple[float, float]:
    """Learning-rate span of the phase diagram: three decades below the stability limit of
    momentum 0.99 (4/λ_max), widened to hold the user's ``lr``; rounded so the cache key is stable."""
    hi = 4.2 / lam_max
    lo = hi / 10 ** 2.5
    lo, hi = min(lo, lr / 1.5), max(hi, lr * 1.5)
    return float(f"{lo:.3g}"), float(f"{hi:.3g}")


def phase_sweep(surface, steps: int, nesterov: bool, lr_lo: float, lr_hi: float, x0, shrink: float = 1e6,
                n_lr: int = 48, n_beta: int = 45) -> SweepResult:
    """One batched SGD sweep over log-spaced lr × β ∈ [0, 0.98] (Nesterov: from 0.02) on ``surface``
    from ``x0``; the target is f(x0)/shrink."""
    lrs = np.geomspace(lr_lo, lr_hi, n_lr)
    betas = np.linspace(0.02 if nesterov else 0.0, 0.98, n_beta)
    x0 = np.asarray(x0, dtype=float)
    f0 = float(surface.value(x0))
    return sweep(surface, "sgd", {"lr": lrs, "momentum": betas}, x0, int(steps),
                 target=f0 / shrink, fixed={"nesterov": bool(nesterov)})


def l2_minimum(surface, weight_decay: float, x0, iters: int = 50) -> np.ndarray:
    r"""The minimizer of ``f(θ) + ½λ‖θ‖²`` near ``x0`` by Newton's method (exact Hessian).

    Coupled L2 (torch's ``weight_decay`` in Adam, SGD …) adds ``λθ`` to the gradient, so a
    deterministic run can only stop where ``∇f(θ) + λθ = 0``: this point.  Decoupled decay (AdamW)
    has no such fixed point in general: its decay ``γλθ`` is not divided by √v̂.
    """
    lam = float(weight_decay)
    if not np.isfinite(lam) or lam < 0:
        raise ValueError(f"weight_decay must be ≥ 0; got {weight_decay!r}")
    x = np.asarray(x0, dtype=float).reshape(1, -1).copy()
    eye = np.eye(x.shape[1])
    for _ in range(int(iters)):
        g = surface.grad(x)[0] + lam * x[0]
        H = surface.hessian(x)[0] + lam * eye
        try:
            d = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(d)):
            break
        # damped when the Hessian is not positive definite: do not climb to a saddle
        if np.dot(d, g) <= 0:
            d = g / max(1.0, float(np.linalg.norm(g)))
        x[0] -= d
        if np.linalg.norm(d) < 1e-13 * (1 + np.linalg.norm(x[0])):
            break
    return x[0]


__all__ = ["phase_range", "phase_sweep", "l2_minimum"]
