r"""Cached computations and figures of the chapter page "Loss functions" (pages/1_…).

The page passes hashable specs (see :mod:`optlab.ui.data_surfaces` and :mod:`optlab.specs`); the
numbers come from :mod:`optlab.chapters.loss_functions`, and every figure of the page is cached on
the inputs it is drawn from.
"""
from __future__ import annotations

import streamlit as st

from .. import losses
from ..chapters import loss_functions as model
from ..figures import loss_functions as fig
from .data_surfaces import (corner_start, dataset, dataset_description, distance, feature_names, fig_surface, gap,
                            min_value, minimum, run_of, surface)
from .i18n import cache_data as text_cache_data


@st.cache_resource(max_entries=1, show_spinner=False)
def loss_table():
    """:func:`optlab.chapters.loss_functions.loss_table` as an Arrow table, built once (st.dataframe
    turned the rows into a DataFrame and then Arrow on every run of the page)."""
    import pyarrow as pa

    return pa.Table.from_pylist(model.loss_table())


# ----------------------------------------------------------------------------------------------
# Outlier lab
# ----------------------------------------------------------------------------------------------
def _clean(seed: int):
    x, y, _, _ = dataset(("outliers", 0, 0.0, "both", int(seed)))
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


# ----------------------------------------------------------------------------------------------
# Numbers quoted by the captions
# ----------------------------------------------------------------------------------------------
def relative_final_gap(spec: tuple, tr) -> float:
    """(f_T − f*)/(f₀ − f*) of a run on the surface of ``spec`` (inf if it diverged)."""
    return model.relative_final_gap(tr.losses, min_value(spec), tr.diverged)


def grad_norm(spec: tuple, point) -> float:
    return model.grad_norm(surface(spec), point)


def accuracy(spec: tuple, theta) -> float:
    """Share of correctly classified examples of the surface's data at ``theta`` (NaN for a diverged run)."""
    x, y, _, _ = dataset(spec[0])
    return model.accuracy(x, y, theta)


def probability_range(spec: tuple, theta) -> tuple[float, float]:
    """Smallest and largest predicted probability σ(w·x + b) over the surface's data at ``theta``."""
    x, _, _, _ = dataset(spec[0])
    return model.probability_range(x, theta)


# ----------------------------------------------------------------------------------------------
# Cached figures
# ----------------------------------------------------------------------------------------------
@text_cache_data(max_entries=64, show_spinner=False)  # holds text: keyed by language
def fig_catalogue(kind: str, delta: float, q: float, gamma: float):
    return fig.catalogue(model.catalogue(kind, delta, q, gamma))


@text_cache_data(max_entries=64, show_spinner=False)  # holds text: keyed by language
def fig_outliers(count: int, size: float, side: str, delta: float, seed: int = 0):
    specs = lab_specs(count, size, side, delta, seed)
    x, y, mask, _ = dataset(specs["mse"][0])
    fits = {n: minimum(s) for n, s in specs.items()}
    labels = {n: losses.get(n, **dict(specs[n][2])).label for n in specs}
    return fig.outlier_fits(x, y, mask, fits, clean_fit(seed), labels=labels, height=430)


@text_cache_data(max_entries=64, show_spinner=False)  # holds text: keyed by language
def fig_relative_gap(specs: tuple, run: tuple, title: str):
    """(f − f*)/(f₀ − f*) of one run setting on several surfaces ``((loss_name, spec), …)``."""
    return fig.relative_gap({n: (run_of(s, run).losses, min_value(s)) for n, s in specs}, title=title, height=430)


@text_cache_data(max_entries=16, show_spinner=False)  # holds text: keyed by language
def fig_per_sample(mark: float, labels: tuple):
    s, curves = model.per_sample_curves()
    return fig.per_sample(s, curves, labels=dict(labels), mark=mark, height=330)


__all__ = ["lab_window", "lab_specs", "clean_fit", "relative_final_gap", "grad_norm", "accuracy", "probability_range",
           "fig_catalogue", "fig_outliers", "fig_relative_gap", "fig_per_sample",
           # shared with the gradient-descent page (optlab.ui.data_surfaces)
           "corner_start", "dataset", "dataset_description", "distance", "feature_names", "fig_surface", "gap",
           "min_value", "minimum", "run_of", "surface"]
