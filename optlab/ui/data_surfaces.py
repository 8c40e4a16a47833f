r"""Cached data sets, their (w, b) loss surfaces, runs and contour panels, shared by the chapter pages
"Loss functions" and "Gradient descent".

Pages pass hashable specs (:mod:`optlab.specs`: a data spec, a data-surface spec
``(data_spec, loss, params_items, window)``, a run tuple) and get back the objects and numbers,
computed once per spec.  A labelled run for the figures is ``(label, variant, run_tuple)``: label
None means the optimizer's own; variant None lets the figure number repeated optimizers (rule 2
of :mod:`optlab.figures.style`), an int names the variant colour (0: the optimizer's own).
"""
from __future__ import annotations

import math

import streamlit as st

from .. import data, optimizers, specs
from ..figures import core
from ..i18n import domain
from ..runner import run
from .i18n import cache_data, cache_resource
from .widgets import pinned_signature

_, N_, ngettext = domain("optlab")


@cache_data(max_entries=64, show_spinner=False)  # its label is text
def dataset(spec: tuple):
    """``(x, y, mask, label)`` for a data spec (:func:`optlab.specs.dataset`), cached."""
    return specs.dataset(spec)


@st.cache_resource(max_entries=16, show_spinner=False)
def _dataset_info(name: str) -> tuple[tuple[str, ...], str]:
    # data.load reads the CSV file: once per server, not on every run of two pages
    ds = data.load(name)
    return tuple(ds.feature_names), str(ds.description)


def feature_names(name: str) -> tuple[str, ...]:
    return _dataset_info(name)[0]


def dataset_description(name: str) -> str:
    """The data set's description in the active language."""
    return _(_dataset_info(name)[1])


@cache_resource(max_entries=96, show_spinner=False)  # its title is text
def surface(spec: tuple):
    """The (w, b) DataSurface of a surface spec (shared: surfaces are read-only once built)."""
    return specs.data_surface(spec, dataset(spec[0]))


@st.cache_data(max_entries=96, show_spinner=False)
def grid(spec: tuple, n: int = 110, window: tuple | None = None):
    """``surface(spec).grid(n, window)``, cached: a contour's grid is the costly part of a redraw."""
    return surface(spec).grid(int(n), window=window)


class Gridded:
    """A surface whose plotting grid is already computed; :func:`optlab.figures.core.contour`
    asks it for ``grid`` and reads everything else from the surface."""

    def __init__(self, surf, xs_ys_z, window=None):
        self._surface, self._grid = surf, xs_ys_z
        self.window = window or surf.window

    def grid(self, n=None, window=None):
        return self._grid

    def __getattr__(self, name):
        return getattr(self._surface, name)


def gridded(spec: tuple, n: int = 110, window: tuple | None = None) -> Gridded:
    return Gridded(surface(spec), grid(spec, n, window), window)


@cache_data(max_entries=256, show_spinner=False)  # a run's divergence reasons are text
@pinned_signature
def trajectory(spec: tuple, opt_name: str, hyper: tuple, x0: tuple, steps: int, batch_size: int | None = None,
               seed: int = 0, schedule: tuple | None = None):
    """``optlab.run`` on a data surface (path recorded); ``batch_size`` draws real mini-batches."""
    opt = optimizers.make(opt_name, **dict(hyper))
    return run(surface(spec), opt, x0, int(steps), batch_size=batch_size, seed=int(seed),
               schedule=specs.schedule_from_spec(schedule), record="path")


def run_of(spec: tuple, r: tuple):
    """The run of a run tuple (:func:`optlab.specs.run_tuple`) on the surface of ``spec``."""
    return trajectory(spec, *r)


def minimum(spec: tuple) -> tuple[float, float]:
    m = surface(spec).minima[0]
    return float(m[0]), float(m[1])


def min_value(spec: tuple) -> float:
    return float(surface(spec).min_value)


def distance(spec: tuple, point) -> float:
    """Distance from ``point`` to the surface's minimum (inf for a diverged run's NaN)."""
    d = float(surface(spec).distance_to_minimum(point))
    return d if math.isfinite(d) else math.inf


def gap(spec: tuple, value: float) -> float:
    """f − f* (inf if not finite)."""
    g = float(value) - min_value(spec)
    return g if math.isfinite(g) else math.inf


def corner_start(window) -> tuple[float, float]:
    """A start in the upper-left part of the window, away from every minimum."""
    (w0, w1), (b0, b1) = window
    return (round(w0 + 0.15 * (w1 - w0), 3), round(b0 + 0.85 * (b1 - b0), 3))


def _paths(spec: tuple, labelled: tuple) -> list:
    out = []
    for label, variant, r in labelled:
        tr = run_of(spec, r)
        if label is None and variant is None:
            out.append(tr)
            continue
        out.append((label or tr.label, tr.xs, {"name": r[0], "variant": variant, "losses": tr.losses,
                                               "diverged_at": tr.diverged_at, "diverged_reason": tr.diverged_reason}))
    return out


@cache_data(max_entries=160, show_spinner=False)  # a figure's titles and hover texts
def fig_surface(spec: tuple, labelled_runs: tuple = (), *, title: str | None = None, height: int = 400,
                colorbar: bool = False, n: int = 90, window: tuple | None = None, extra_points: tuple = (),
                xlabel: str | None = None, ylabel: str | None = None):
    """Contour of a data surface with runs ``((label, variant, run), …)`` (label and variant None:
    the optimizer's) and labelled points ``((label, (w, b)), …)``.  Building a Plotly figure costs
    far more than unpickling a cached one, so the figure is keyed on the hashable inputs."""
    return core.surface_panel(gridded(spec, n, window), _paths(spec, labelled_runs), title=title, height=height,
                              colorbar=colorbar, window=window, extra_points=dict(extra_points),
                              xlabel=xlabel, ylabel=ylabel)


__all__ = ["dataset", "feature_names", "dataset_description", "surface", "grid", "Gridded", "gridded", "trajectory",
           "run_of", "minimum", "min_value", "distance", "gap", "corner_start", "fig_surface"]
