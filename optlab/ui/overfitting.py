"""Streamlit helpers of the chapter page "Overfitting, regularization and gradient problems":
cached wrappers of :mod:`optlab.chapters.overfitting`, a progress-bar callback, and the per-session store
of gradient-lab runs (trained only when the student presses Train)."""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

import streamlit as st

from ..chapters import overfitting as model
from .i18n import cache_data as text_cache_data

STORE_LAB = "ovs_lab_runs"          # non-widget session keys: they survive every rerun
STORE_COMPARE = "ovs_lab_compare"
MAX_STORED = 6


def keep_widget_state(prefix: str) -> None:
    """Keep the values of this page's widgets while their section is hidden.

    Streamlit drops a widget's state on a run that does not draw it; writing the value back at the
    top of the script marks it as set by the user, so it survives (the documented pattern). Only
    keys starting with ``prefix`` are touched: buttons must use another prefix (their state
    cannot be written)."""
    for k in list(st.session_state.keys()):
        if isinstance(k, str) and k.startswith(prefix):
            st.session_state[k] = st.session_state[k]


def progress_callback(bar, text: str) -> Callable[[int, int], None]:
    """``callback(step, total)`` for :func:`optlab.mlp.train` that moves ``bar`` (an ``st.progress``)."""

    def update(step: int, total: int) -> None:
        frac = min(max(step / total, 0.0), 1.0) if total else 1.0
        bar.progress(frac, text=f"{text}: step {step} of {total}")

    return update


# ----------------------------------------------------------------------------------------------
# Cached pure computations (hashable arguments only)
# ----------------------------------------------------------------------------------------------
@st.cache_data(max_entries=64, show_spinner=False)
def degree_fit(n: int, noise: float, degree: int, seed: int, func: str) -> model.DegreeFit:
    return model.degree_fit(n, noise, degree, seed, func)


@st.cache_data(max_entries=32, show_spinner=False)
def learning_curve(degree: int, noise: float, seed: int, func: str) -> model.LearningCurve:
    return model.learning_curve(degree, noise, seed=seed, func=func)


@st.cache_data(max_entries=64, show_spinner=False)
def regularization_study(n: int, noise: float, degree: int, lam_l2: float, lam_l1: float, seed: int,
                         func: str) -> model.RegularizationStudy:
    return model.regularization_study(n, noise, degree, lam_l2, lam_l1, seed, func)


@text_cache_data(max_entries=16, show_spinner="Training the network for every epoch…")  # holds text: keyed by language
def early_stopping_full(settings: model.EarlyStopSettings):
    return model.train_early_stopping(settings)


@text_cache_data(max_entries=64, show_spinner="Training with early stopping…")  # holds text: keyed by language
def early_stopping_with_patience(settings: model.EarlyStopSettings, patience: int):
    return model.train_early_stopping(settings, patience)


def early_stopping_study(settings: model.EarlyStopSettings, patience: int) -> model.EarlyStopStudy:
    """The study from two cached runs: the full one (shared by every patience) and the stopped one."""
    return model.early_stopping_study(settings, patience, early_stopping_full(settings),
                                   early_stopping_with_patience(settings, patience))


@text_cache_data(max_entries=64, show_spinner=False)  # holds text: keyed by language
def lr_search(n: int, noise: float, degree: int, k: int, steps: int, optimizer: str, lr_min: float,
              lr_max: float, seed: int, func: str) -> model.LRSearch:
    return model.lr_search(n, noise, degree, k, steps, optimizer, lr_min, lr_max, seed=seed, func=func)


@text_cache_data(max_entries=64, show_spinner=False)  # holds text: keyed by language
def cliff_demo(lr: float, clip_norm: float, steps: int, start: int, optimizer: str) -> model.CliffDemo:
    return model.cliff_demo(lr, clip_norm, steps, start, optimizer)


# ----------------------------------------------------------------------------------------------
# Gradient lab: runs live in this session, trained on demand
# ----------------------------------------------------------------------------------------------
def _store(name: str) -> dict:
    if name not in st.session_state:
        st.session_state[name] = {}
    return st.session_state[name]


def _put(name: str, key: Any, value: Any) -> None:
    store = _store(name)
    store.pop(key, None)
    store[key] = value                      # newest last
    while len(store) > MAX_STORED:
        store.pop(next(iter(store)))


def stored_lab(settings: model.LabSettings) -> model.LabResult | None:
    return _store(STORE_LAB).get(settings)


def last_lab() -> model.LabResult | None:
    store = _store(STORE_LAB)
    return next(reversed(store.values())) if store else None


def stored_comparison(settings: model.LabSettings) -> list[model.LabResult] | None:
    return _store(STORE_COMPARE).get(settings)


def train_lab(settings: model.LabSettings) -> model.LabResult:
    """Train one lab run (fewer steps if it is over :data:`optlab.chapters.overfitting.LAB_BUDGET`) with a
    progress bar (removed when done) and keep it in the session under ``settings``."""
    bar = st.progress(0.0, text="Training…")
    try:
        res = model.train_lab(model.within_budget(settings), progress_callback(bar, "Training"))
    finally:
        bar.empty()
    _put(STORE_LAB, settings, res)
    return res


def compare_fixes(settings: model.LabSettings) -> list[model.LabResult]:
    """Train the baseline and each fix alone with one progress bar; keep them in the session."""
    bar = st.progress(0.0, text="Training the baseline and each fix…")
    try:
        runs = model.compare_fixes(settings, progress_callback(bar, "Baseline and fixes"))
    finally:
        bar.empty()
    _put(STORE_COMPARE, settings, runs)
    if runs[0].settings == settings:   # the baseline is also the single run of these settings
        _put(STORE_LAB, settings, dataclasses.replace(runs[0], label=settings.describe()))
    return runs
