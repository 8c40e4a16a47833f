r"""Cached computations and figures of the chapter page "Gradient descent" (pages/2_…).

The page passes hashable specs (see :mod:`optlab.ui.data_surfaces` and :mod:`optlab.specs`); the
numbers come from :mod:`optlab.chapters.gradient_descent`, and every figure of the page is cached
on the inputs it is drawn from.
"""
from __future__ import annotations

import streamlit as st

from ..chapters import gradient_descent as model
from ..figures import core, style
from ..figures import gradient_descent as fig
from .data_surfaces import (corner_start, dataset, dataset_description, feature_names, fig_surface, gap, min_value,
                            minimum, run_of, surface)
from .i18n import cache_data as text_cache_data, cache_resource as text_cache_resource


# ----------------------------------------------------------------------------------------------
# Numbers quoted by the captions
# ----------------------------------------------------------------------------------------------
def curvature(spec: tuple) -> model.Curvature:
    """Hessian eigenvalues at the minimum and the learning-rate presets they imply."""
    return model.curvature(surface(spec))


def contraction(spec: tuple, lr: float) -> float:
    """max |1 − η λ| at the minimum: GD's error shrinks by this factor per step."""
    return model.contraction(surface(spec), lr)


def tail_gap(spec: tuple, tr, fraction: float = 0.1) -> float:
    """Mean of f − f* over the last ``fraction`` of a run's steps: the noise floor SGD hovers at."""
    return model.tail_gap(tr.losses, min_value(spec), fraction)


def zoom_window(spec: tuple, trs, keep: float = 0.5, pad: float = 1.6) -> tuple:
    """A square window around the minimum that holds the last ``keep`` share of every run."""
    return model.zoom_window(minimum(spec), trs, keep, pad)


# ----------------------------------------------------------------------------------------------
# Cached figures
# ----------------------------------------------------------------------------------------------
@text_cache_data(max_entries=64, show_spinner=False)  # holds text: keyed by language
def fig_variants_curves(spec: tuple, labelled_runs: tuple):
    """Runs ``((label, variant, run), …)``: f − f* against epochs and sample gradients."""
    n = surface(spec).n_samples
    rows = []
    for label, variant, r in labelled_runs:
        b = r[4] or n
        rows.append((label, run_of(spec, r), b, variant))
    return fig.variants_curves(rows, n, min_value(spec))


@text_cache_data(max_entries=64, show_spinner=False)  # holds text: keyed by language
def fig_schedule(spec: tuple, labelled_runs: tuple):
    return fig.schedule_curves([(label, run_of(spec, r), variant) for label, variant, r in labelled_runs],
                               min_value(spec))


@text_cache_data(max_entries=64, show_spinner=False)  # holds text: keyed by language
def fig_lr_curve(spec: tuple, labelled_runs: tuple):
    return fig.lr_curve([(label, run_of(spec, r), variant) for label, variant, r in labelled_runs], min_value(spec))


# ----------------------------------------------------------------------------------------------
# The article's code
# ----------------------------------------------------------------------------------------------
@text_cache_resource(max_entries=32, show_spinner=False)  # holds text: keyed by language
def article_corrected(lr_gd: float, steps_gd: int, lr_sgd: float, steps_sgd: int, seed: int = 0):
    """:func:`optlab.chapters.gradient_descent.corrected`, shared (it holds a surface; read-only)."""
    return model.corrected(lr_gd=lr_gd, steps_gd=steps_gd, lr_sgd=lr_sgd, steps_sgd=steps_sgd, seed=seed)


@st.cache_data(max_entries=8, show_spinner=False)
def article_replays(seeds: tuple = (0, 1, 2)):
    """The article's GD (in place, as written, and out of place) and its SGD for a few seeds."""
    return (model.replay_gd(seed=seeds[0]), model.replay_gd(seed=seeds[0], in_place=False),
            {s: model.replay_sgd(seed=s) for s in seeds})


@st.cache_data(max_entries=8, show_spinner=False)
def article_numpy_fixes(seed: int = 0):
    X, y = model.article_data()
    return model.fixed_numpy_gd(X, y, seed=seed), model.fixed_numpy_sgd(X, y, seed=seed)


@text_cache_data(max_entries=32, show_spinner=False)  # holds text: keyed by language
def fig_article(lr_gd: float, steps_gd: int, lr_sgd: float, steps_sgd: int, seed: int = 0):
    """(fit figure, loss-curve figure) of the corrected runs."""
    c = article_corrected(lr_gd, steps_gd, lr_sgd, steps_sgd, seed)
    lines = {"closed form": tuple(c.closed_form)}
    for label, tr in (("optlab GD", c.gd), ("optlab SGD", c.sgd)):
        if not tr.diverged:
            lines[label] = tuple(tr.final_x)
    V = fig.VARIANTS
    fit = fig.article_fit(c.x, c.y, lines, metas={"optlab GD": style.optimizer_meta("sgd", V["batch"]),
                                                   "optlab SGD": style.optimizer_meta("sgd", V["sgd"])})
    paths = [(label, tr.xs, {"name": "sgd", "losses": tr.losses, "variant": V[k], "diverged_at": tr.diverged_at})
             for label, tr, k in (("gradient descent", c.gd, "batch"), ("SGD, batch size 1", c.sgd, "sgd"))]
    curves = core.loss_curves(paths, gap_to=c.surface.min_value, height=360)
    return fit, curves


@text_cache_data(max_entries=8, show_spinner=False)  # holds text: keyed by language
def fig_article_theta(seeds: tuple = (0, 1, 2)):
    _, _, sgd = article_replays(seeds)
    return fig.article_theta({f"run with seed {s}: θ₀ = {r.theta0[0, 0]:.3f}": r.thetas for s, r in sgd.items()},
                             target=1.0)


__all__ = ["curvature", "contraction", "tail_gap", "zoom_window", "fig_variants_curves", "fig_schedule",
           "fig_lr_curve", "article_corrected", "article_replays", "article_numpy_fixes", "fig_article",
           "fig_article_theta",
           # shared with the loss-functions page (optlab.ui.data_surfaces)
           "corner_start", "dataset", "dataset_description", "feature_names", "fig_surface", "gap", "min_value",
           "minimum", "run_of", "surface"]
