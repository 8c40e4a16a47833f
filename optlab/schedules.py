r"""Learning-rate schedules, as torch.optim.lr_scheduler computes them (stepped once per step).

A schedule maps the base learning rate γ₀ and the number ``k`` of scheduler steps taken so far
(k = 0 for the first optimizer step) to the learning rate used at that step::

    sched = get("cosine", T_max=200, eta_min=1e-4)
    lr_k = sched(gamma0, k)          # γ₀ may be an array (one per run)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .errors import UnknownNameError
from .i18n import domain

_, N_, ngettext = domain("optlab")


@dataclass(frozen=True)
class Schedule:
    """A named learning-rate schedule ``lr(γ₀, k)`` with its LaTeX and torch equivalent.
    ``title`` is an English msgid of the shared catalog: show it with ``_()``."""

    name: str
    title: str
    latex: str
    torch: str
    fn: Callable[[Any, int], Any] = field(repr=False)
    params: dict = field(default_factory=dict)

    def __call__(self, base_lr, k: int):
        return self.fn(base_lr, int(k))

    def curve(self, base_lr: float, steps: int) -> np.ndarray:
        """Learning rate at optimizer steps 1…steps (for plotting)."""
        return np.array([float(np.asarray(self(base_lr, k)).reshape(-1)[0]) for k in range(steps)])


def _pos_int(name, v):
    if isinstance(v, bool) or not float(v).is_integer() or int(v) < 1:
        raise ValueError(f"{name} must be a positive whole number; got {v!r}")
    return int(v)


def _in(name, v, lo, hi, lo_open=False, hi_open=False):
    v = float(v)
    if not np.isfinite(v) or (v <= lo if lo_open else v < lo) or (v >= hi if hi_open else v > hi):
        raise ValueError(f"{name} must be in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}; got {v!r}")
    return v


def constant() -> Schedule:
    return Schedule("constant", N_("Constant"), r"\gamma_k = \gamma_0", N_("(no scheduler)"), lambda lr, k: lr)


def step(step_size: int = 50, gamma: float = 0.5) -> Schedule:
    """``StepLR``: γ₀·gamma^⌊k / step_size⌋."""
    n, g = _pos_int("step_size", step_size), _in("gamma", gamma, 0.0, 1.0, lo_open=True)
    return Schedule("step", N_("Step decay"), rf"\gamma_k = \gamma_0 \cdot {g:g}^{{\lfloor k / {n} \rfloor}}",
                    f"torch.optim.lr_scheduler.StepLR(step_size={n}, gamma={g:g})",
                    lambda lr, k: lr * g ** (k // n), {"step_size": n, "gamma": g})


def exponential(gamma: float = 0.99) -> Schedule:
    """``ExponentialLR``: γ₀·gammaᵏ."""
    g = _in("gamma", gamma, 0.0, 1.0, lo_open=True)
    return Schedule("exponential", N_("Exponential decay"), rf"\gamma_k = \gamma_0 \cdot {g:g}^{{k}}",
                    f"torch.optim.lr_scheduler.ExponentialLR(gamma={g:g})",
                    lambda lr, k: lr * g ** k, {"gamma": g})


def cosine(T_max: int = 100, eta_min: float = 0.0) -> Schedule:
    """``CosineAnnealingLR`` (closed form): η_min + (γ₀ − η_min)(1 + cos(πk/T_max))/2."""
    T, e = _pos_int("T_max", T_max), _in("eta_min", eta_min, 0.0, math.inf, hi_open=True)

    def fn(lr, k):
        return e + (lr - e) * (1 + math.cos(math.pi * k / T)) / 2

    return Schedule("cosine", N_("Cosine annealing"),
                    rf"\gamma_k = {e:g} + (\gamma_0 - {e:g})\,\tfrac12\big(1 + \cos(\pi k / {T})\big)",
                    f"torch.optim.lr_scheduler.CosineAnnealingLR(T_max={T}, eta_min={e:g})", fn,
                    {"T_max": T, "eta_min": e})


def warmup_cosine(warmup: int = 10, T_max: int = 100, eta_min: float = 0.0, start_factor: float = 0.1) -> Schedule:
    """Linear warm-up from start_factor·γ₀ to γ₀ over ``warmup`` steps, then cosine to η_min.

    Matches ``SequentialLR([LinearLR(start_factor, 1.0, total_iters=warmup),
    CosineAnnealingLR(T_max - warmup, eta_min)], milestones=[warmup])`` in closed form.
    """
    w, T = _pos_int("warmup", warmup), _pos_int("T_max", T_max)
    e = _in("eta_min", eta_min, 0.0, math.inf, hi_open=True)
    sf = _in("start_factor", start_factor, 0.0, 1.0, lo_open=True)
    if T <= w:
        raise ValueError(f"T_max ({T}) must be larger than warmup ({w})")

    def fn(lr, k):
        if k < w:
            return lr * (sf + (1.0 - sf) * k / w)
        return e + (lr - e) * (1 + math.cos(math.pi * (k - w) / (T - w))) / 2

    return Schedule("warmup_cosine", N_("Warm-up then cosine"),
                    rf"\gamma_k = \begin{{cases}} \gamma_0\big({sf:g} + (1-{sf:g})\,k/{w}\big) & k < {w} \\"
                    rf" {e:g} + (\gamma_0 - {e:g})\,\tfrac12\big(1+\cos(\pi (k-{w})/{T - w})\big) & k \ge {w} \end{{cases}}",
                    "torch.optim.lr_scheduler.SequentialLR(LinearLR → CosineAnnealingLR)", fn,
                    {"warmup": w, "T_max": T, "eta_min": e, "start_factor": sf})


_SCHEDULES = {"constant": constant, "step": step, "exponential": exponential, "cosine": cosine,
              "warmup_cosine": warmup_cosine}


def names() -> list[str]:
    return list(_SCHEDULES)


def get(name: str | Schedule | None, **params) -> Schedule:
    """Build schedule ``name`` (or pass a :class:`Schedule` through; None means constant)."""
    if name is None:
        return constant()
    if isinstance(name, Schedule):
        return name
    if name not in _SCHEDULES:
        raise UnknownNameError("schedule", name, _SCHEDULES)
    return _SCHEDULES[name](**params)
