r"""Hashable specs: tuples of names and numbers that describe a surface, a run, a schedule or a data
set, rebuild it, and key the app's caches.

A Streamlit cache keys on its arguments, so pages and ``optlab.ui`` pass specs rather than objects,
and the chapter models rebuild the objects from them.  One module holds every kind:

* surface: ``(name, ((param, value), …))`` for a built-in surface, ``("formula", text, window)`` for a
  typed one (:func:`surface_spec`, :func:`surface_from_spec`);
* hyperparameters: ``(("betas", (0.9, 0.999)), ("lr", 0.1))``, sorted (:func:`hyper_items`);
* schedule: None (constant), a name, or ``(name, ((param, value), …))`` (:func:`schedule_from_spec`);
* data: ``("outliers", count, size, side, seed)`` (the outlier lab's line of :data:`LINE` with
  ``count`` points shifted by ``size``·std(y)), ``("feature", dataset, feature, standardize_y)`` (one
  standardized feature of a shipped data set) or ``("article",)`` (the seed article's four points)
  (:func:`dataset`);
* data surface: ``(data_spec, loss, params_items, window)``, the (w, b) loss of a line fitted to
  that data (window None: the engine's) (:func:`data_surface`);
* run on a data surface: ``(opt_name, hyper_items, x0, steps, batch_size, seed, schedule)``
  (:func:`run_tuple`).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from . import data, schedules, surfaces
from .i18n import domain
from .surfaces.data import logistic_surface_1d, loss_surface_1d

# One range for every learning-rate input of the app (slider, number box, link): a student meets the
# same limits on every page, and a value outside them is clamped and said, never silently dropped.
LR_MIN = 1e-6
LR_MAX = 10.0

# The data's label is in the active language (a cache of data sets that a page shows has the
# language in its key: optlab.ui.cache_data).
_, N_, ngettext = domain("optlab")

# The outlier lab's clean data: the engine's make_line defaults, fixed here so the lab is reproducible.
LINE = dict(n=40, slope=2.0, intercept=1.0, noise=0.5)


# ----------------------------------------------------------------------------------------------
# Surfaces
# ----------------------------------------------------------------------------------------------
def surface_spec(surface) -> tuple:
    """A hashable description that rebuilds ``surface``: ``("formula", text, window)`` for a typed
    formula, else ``(name, ((param, value), …))``."""
    params = getattr(surface, "params", {}) or {}
    if "formula" in params:
        (x0, x1), (y0, y1) = surface.window
        return ("formula", str(params["formula"]), ((float(x0), float(x1)), (float(y0), float(y1))))
    items = tuple(sorted((k, float(v)) for k, v in params.items() if isinstance(v, (int, float))))
    return (surface.name, items)


def surface_from_spec(spec: Sequence) -> surfaces.Surface:
    """Inverse of :func:`surface_spec` (raises ``FormulaError``/``UnknownNameError`` on bad input)."""
    if spec[0] == "formula":
        window = spec[2] if len(spec) > 2 else None
        return surfaces.from_formula(spec[1], window=window)
    return surfaces.get(spec[0], **dict(spec[1] if len(spec) > 1 else ()))


# ----------------------------------------------------------------------------------------------
# Hyperparameters and schedules
# ----------------------------------------------------------------------------------------------
def hyper_items(hyper: Mapping[str, Any]) -> tuple:
    """``{"lr": 0.1, "betas": (0.9, 0.999)}`` -> ``(("betas", (0.9, 0.999)), ("lr", 0.1))``: hashable."""
    out = []
    for k, v in sorted(hyper.items()):
        if isinstance(v, (tuple, list)):
            v = tuple(float(x) for x in v)
        elif isinstance(v, (bool, np.bool_)):
            v = bool(v)
        elif isinstance(v, (int, np.integer)):
            v = int(v)
        elif v is not None:
            v = float(v)
        out.append((k, v))
    return tuple(out)


def schedule_from_spec(spec) -> schedules.Schedule | None:
    """The schedule of a spec: None for None (constant learning rate), ``schedules.get(name)`` for a
    name, ``schedules.get(name, **params)`` for ``(name, ((param, value), …))``."""
    if spec is None:
        return None
    if isinstance(spec, str):
        return schedules.get(spec)
    return schedules.get(spec[0], **dict(spec[1] if len(spec) > 1 else ()))


# ----------------------------------------------------------------------------------------------
# Data and the (w, b) surfaces of data
# ----------------------------------------------------------------------------------------------
def dataset(spec: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """``(x, y, mask, label)`` for a data spec; ``mask`` marks the outliers (all False otherwise)."""
    kind = spec[0]
    if kind == "outliers":
        _kind, count, size, side, seed = spec
        x, y = data.make_line(seed=int(seed), **LINE)
        x, y, mask = data.add_outliers(x, y, count=int(count), size=float(size), seed=int(seed), side=side)
        return x, y, mask, ngettext("a noisy line with {n} outlier", "a noisy line with {n} outliers",
                                    int(count)).format(n=int(count))
    if kind == "feature":
        _kind, name, feat, std_y = spec
        x, y = data.feature(name, feat)
        if std_y:
            y = data.standardize(y)[0]
        label = (_("{dataset}: {feature} (target standardized)") if std_y else "{dataset}: {feature}").format(
            dataset=name, feature=feat)
        return x, np.asarray(y, dtype=float), np.zeros(len(x), dtype=bool), label
    if kind == "article":
        ds = data.load("article_toy")
        return np.asarray(ds.X[:, 0], float), np.asarray(ds.y, float), np.zeros(4, dtype=bool), _("the article's data")
    raise ValueError(f"unknown data spec {spec!r}")


def data_surface(spec: tuple, data_set: tuple | None = None):
    """The (w, b) :class:`~optlab.surfaces.data.DataSurface` of a data-surface spec; ``data_set`` is
    :func:`dataset` of its data spec when the caller has it already (a cache)."""
    data_spec, loss, params, window = spec
    x, y, _, label = data_set if data_set is not None else dataset(data_spec)
    params = dict(params)
    if data_spec[0] == "feature" and data_spec[1] in ("breast_cancer",):
        return logistic_surface_1d(x, y, loss, window=window, label=label, **params)
    return loss_surface_1d(x, y, loss, window=window, label=label, **params)


def run_tuple(opt_name: str, hyper: dict, x0, steps: int, batch_size: int | None = None, seed: int = 0,
              schedule: tuple | None = None) -> tuple:
    """The hashable description of a run on a data surface (see the module docstring)."""
    return (opt_name, hyper_items(hyper), tuple(float(v) for v in x0), int(steps),
            None if batch_size is None else int(batch_size), int(seed), schedule)


__all__ = ["surface_spec", "surface_from_spec", "hyper_items", "schedule_from_spec", "LINE", "dataset",
           "data_surface", "run_tuple"]
