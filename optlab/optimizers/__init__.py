"""Optimizers with torch.optim's names, keyword names and defaults.

>>> opt = make("adam", lr=0.05)            # torch.optim.Adam(params, lr=0.05)
>>> state = opt.init(params)               # params: (B, D)
>>> updates, state = opt.update(grads, state, params)
"""
from __future__ import annotations

from ..errors import UnknownNameError
from .adam import adam, adamw, nadam, radam
from .base import Hyper, Info, Optimizer, Step, Transform, chain
from .rms import adadelta, adagrad, rmsprop
from .sam import sam
from .second_order import bfgs, newton
from .sgd import sgd

_FACTORIES = {
    "sgd": sgd,
    "adagrad": adagrad,
    "rmsprop": rmsprop,
    "adadelta": adadelta,
    "adam": adam,
    "adamw": adamw,
    "nadam": nadam,
    "radam": radam,
    "newton": newton,
    "bfgs": bfgs,
}

# Wrappers around another optimizer (make("sam", base="sgd", rho=0.05, ...)).  Kept out of names():
# the arena, the colour registry and the generic per-optimizer tests take optimizers that stand alone.
_WRAPPERS = {"sam": sam}

FIRST_ORDER = ("sgd", "adagrad", "rmsprop", "adadelta", "adam", "adamw", "nadam", "radam")
SECOND_ORDER = ("newton", "bfgs")


def names() -> list[str]:
    """All optimizer names, first-order (torch.optim) first."""
    return list(_FACTORIES)


def wrappers() -> list[str]:
    """Optimizers that wrap a base optimizer (``make("sam", base="adam", rho=0.05, lr=…)``)."""
    return list(_WRAPPERS)


def make(name: str, **hyper) -> Optimizer:
    """Build optimizer ``name`` with torch.optim keyword ``hyper``-parameters (missing ones: torch's defaults).

    Any numeric hyperparameter may be a 1-D array with one value per run (a sweep in one call).
    A wrapper (:func:`wrappers`, e.g. ``"sam"``) takes ``base=`` and the base optimizer's keywords.
    """
    key = name.lower() if isinstance(name, str) else name  # torch's class names work too: "AdamW", "RMSprop"
    if key in _WRAPPERS:
        return _WRAPPERS[key](**hyper)
    if key not in _FACTORIES:
        raise UnknownNameError("optimizer", name, {**_FACTORIES, **_WRAPPERS})
    return _FACTORIES[key](**hyper)


def info(name: str) -> Info:
    """The documentation record (LaTeX update rule, hyperparameters, reference) of ``name``: a
    lookup (the record the constructor's docstring is built from), nothing is constructed."""
    key = name.lower() if isinstance(name, str) else name
    if key not in _FACTORIES:
        raise UnknownNameError("optimizer", name, _FACTORIES)
    return _FACTORIES[key].info


__all__ = ["make", "names", "wrappers", "info", "Optimizer", "Info", "Hyper", "Step", "Transform", "chain",
           "FIRST_ORDER", "SECOND_ORDER"]
