"""Cached runs and figures of the chapter page "Optimizer arena" (pages/7_…)."""
from __future__ import annotations

import streamlit as st

from .. import figures
from ..chapters import arena as model
from .i18n import cache_resource as text_cache_resource
from .widgets import cached_run, get_surface


def race_run(spec: tuple, name: str, items: tuple, start: tuple, steps: int):
    """One racer's run: computed (and cached) at the next bucket length and sliced, so moving the
    steps slider reuses cached runs (:func:`optlab.chapters.arena.truncate`)."""
    return model.truncate(cached_run(spec, name, items, start, model.step_bucket(steps)), steps)


@text_cache_resource(max_entries=16, show_spinner=False)  # holds text: keyed by language
def animation_figure(spec: tuple, runs_key: tuple, start: tuple, steps: int, labels: tuple):
    """The animated race, built only when its view is open, and kept: a 60-frame figure takes ~0.1 s
    to assemble.  ``runs_key`` is ``((name, hyper_items), …)``, one per racer, with its ``labels``."""
    trs = []
    for (name, items), label in zip(runs_key, labels):
        tr = race_run(spec, name, items, start, steps)
        tr.label = label
        trs.append(tr)
    return figures.animated_contour(get_surface(spec), trs, max_frames=60, duration_ms=90, height=600)


__all__ = ["race_run", "animation_figure"]
