r"""The learning-rate range test ("LR finder", Smith 2017; fastai's ``lr_find``).

One run whose learning rate grows exponentially, step by step, from ``lr_min`` to ``lr_max``::

    γ_k = lr_min · (lr_max / lr_min)^{k/(n−1)},   k = 0 … n−1

The loss is recorded after every step; the run stops as soon as the (optionally smoothed) loss
exceeds ``diverge_factor`` × the best loss so far (4 in fastai).  Read the curve from the left:
flat (the steps are too small to matter), falling (useful learning rates), then the blow-up.
Two customary suggestions: the learning rate where the curve falls fastest (``"steepest"``), and
the learning rate of the lowest loss divided by 10 (``"min/10"``).

Conventions (said here because implementations differ): the loss paired with ``γ_k`` is the loss
*after* the step taken with ``γ_k`` — for plain gradient descent on a quadratic it then cannot
rise while every ``γ ≤ 2/λ_max`` — and it is the exact (full-data) loss even when the gradients
are mini-batch ones, so the curve is the loss you care about.  Smoothing is fastai's debiased
exponential average ``s_k = β s_{k−1} + (1 − β) ℓ_k``, reported as ``s_k / (1 − β^{k+1})``.
The steepest point is fastai's: the most negative slope of the (smoothed) loss against log(lr),
looked for before the minimum only.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from .optimizers import Optimizer, make
from .runner import run
from .schedules import Schedule

SUGGESTIONS = ("steepest", "min/10")


@dataclass
class RangeTest:
    """Result of :func:`lr_range_test` (arrays cut at the step where the test stopped, included)."""

    lrs: np.ndarray            # learning rate of each step
    losses: np.ndarray         # loss after that step
    smoothed: np.ndarray       # the curve the stop rule and the suggestions use
    start_loss: float          # loss at x0, before any step
    best_index: int            # index of the lowest smoothed loss
    stopped_at: int            # index where smoothed > diverge_factor × best (−1: ran to lr_max)
    reason: str
    steepest_index: int        # index of the steepest descent of log(loss) per log(lr) (−1: none)
    optimizer: str
    label: str
    diverge_factor: float
    smooth: float
    lr_min: float
    lr_max: float

    @property
    def best_lr(self) -> float:
        return float(self.lrs[self.best_index])

    @property
    def stop_lr(self) -> float | None:
        """Learning rate at which the test stopped (None if it reached ``lr_max``)."""
        return float(self.lrs[self.stopped_at]) if self.stopped_at >= 0 else None

    def suggestion(self, method: str = "steepest") -> float:
        """The suggested learning rate: ``"steepest"`` or ``"min/10"`` (lr of the lowest loss / 10)."""
        if method == "min/10":
            return self.best_lr / 10.0
        if method == "steepest":
            i = self.steepest_index if self.steepest_index >= 0 else self.best_index
            return float(self.lrs[i])
        from .errors import UnknownNameError

        raise UnknownNameError("suggestion", method, SUGGESTIONS)

    @property
    def message(self) -> str:
        if self.stopped_at >= 0:
            return (f"{self.label}: the loss passed {self.diverge_factor:g}× its best value at lr = "
                    f"{self.stop_lr:.3g} (step {self.stopped_at + 1}); {self.reason}")
        return f"{self.label}: the loss never passed {self.diverge_factor:g}× its best value up to lr = {self.lr_max:.3g}"


def exponential_range(lr_min: float, lr_max: float, steps: int) -> Schedule:
    r"""The range test's schedule as a :class:`~optlab.schedules.Schedule` on base lr = ``lr_min``:
    ``γ_k = γ₀·r^k`` with ``r = (lr_max/lr_min)^{1/(steps−1)}``."""
    r = (lr_max / lr_min) ** (1.0 / max(steps - 1, 1))
    return Schedule("range_test", "Range test (exponential increase)",
                    rf"\gamma_k = \gamma_{{\min}}\,\big(\gamma_{{\max}}/\gamma_{{\min}}\big)^{{k/{steps - 1}}}",
                    "(fastai lr_find / torch-lr-finder ExponentialLR with gamma > 1)",
                    lambda lr, k: lr * r ** k, {"lr_min": lr_min, "lr_max": lr_max, "steps": steps})


def _smooth(losses: np.ndarray, beta: float) -> np.ndarray:
    if beta == 0:
        return losses.copy()
    out = np.empty_like(losses)
    avg = 0.0
    for k, l in enumerate(losses):
        avg = beta * avg + (1.0 - beta) * l
        out[k] = avg / (1.0 - beta ** (k + 1))
    return out


def lr_range_test(surface, optimizer: str | Optimizer = "sgd", x0=None, *, lr_min: float = 1e-5,
                  lr_max: float = 10.0, steps: int = 100, hyper: Mapping[str, Any] | None = None,
                  smooth: float = 0.0, diverge_factor: float = 4.0, noise: float = 0.0,
                  batch_size: int | None = None, seed: int = 0) -> RangeTest:
    r"""Run the learning-rate range test of ``optimizer`` on ``surface`` from ``x0``.

    ``hyper`` are the other hyperparameters (the learning rate is the test's); ``noise`` or
    ``batch_size`` make the gradients stochastic as in :func:`optlab.run`.  ``smooth`` is the
    averaging β (0: none; fastai uses 0.98 for noisy mini-batch losses).  Never raises for a run
    that blows up: that is the point of the test.
    """
    lr_min, lr_max = float(lr_min), float(lr_max)
    if not (np.isfinite(lr_min) and np.isfinite(lr_max) and 0 < lr_min < lr_max):
        raise ValueError(f"need 0 < lr_min < lr_max; got lr_min={lr_min!r}, lr_max={lr_max!r}")
    if isinstance(steps, bool) or int(steps) != steps or not 5 <= int(steps) <= 10_000:
        raise ValueError(f"steps must be a whole number from 5 to 10000; got {steps!r}")
    steps = int(steps)
    smooth = float(smooth)
    if not 0 <= smooth < 1:
        raise ValueError(f"smooth must be in [0, 1); got {smooth!r}")
    diverge_factor = float(diverge_factor)
    if not diverge_factor > 1:
        raise ValueError(f"diverge_factor must be > 1; got {diverge_factor!r}")
    if isinstance(optimizer, Optimizer):
        opt = optimizer
        name = opt.name
    else:
        name = optimizer
        opt = make(name, **{**dict(hyper or {}), "lr": lr_min})
    if x0 is None:
        x0 = surface.starts[0]
    tr = run(surface, opt, np.asarray(x0, dtype=float), steps, schedule=exponential_range(lr_min, lr_max, steps),
             noise=noise, batch_size=batch_size, seed=seed, record="path")
    lrs = lr_min * (lr_max / lr_min) ** (np.arange(steps) / (steps - 1))
    losses = np.asarray(tr.losses[1:], dtype=float)
    start = float(tr.losses[0])

    # the stop rule on the smoothed curve; a non-finite loss (runner flagged divergence) stops too
    sm = _smooth(np.where(np.isfinite(losses), losses, np.inf), smooth)
    stop, reason = -1, ""
    best = np.inf
    for k in range(steps):
        if not np.isfinite(sm[k]):
            stop, reason = k, str(tr.diverged_reason) or "the loss became infinite or undefined"
            break
        if k > 0 and sm[k] > diverge_factor * best:
            stop, reason = k, f"the loss rose above {diverge_factor:g}× its lowest value"
            break
        best = min(best, sm[k])
    end = steps if stop < 0 else stop + 1
    lrs, losses, sm = lrs[:end], losses[:end], sm[:end]
    ok = np.isfinite(sm)
    best_index = int(np.argmin(np.where(ok, sm, np.inf)))

    steepest = -1
    if best_index >= 2:
        # fastai's "steep": the most negative d(loss)/d(log lr) before the minimum
        slope = np.gradient(sm[: best_index + 1], np.log(lrs[: best_index + 1]))
        steepest = int(np.argmin(slope))
    return RangeTest(lrs=lrs, losses=losses, smoothed=sm, start_loss=start, best_index=best_index,
                     stopped_at=stop, reason=reason, steepest_index=steepest, optimizer=name,
                     label=opt.info.title, diverge_factor=diverge_factor, smooth=smooth,
                     lr_min=lr_min, lr_max=lr_max)


__all__ = ["lr_range_test", "RangeTest", "exponential_range", "SUGGESTIONS"]
