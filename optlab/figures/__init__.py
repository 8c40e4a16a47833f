"""Plotly figures for OptLab (no Streamlit): surfaces, optimizer paths, curves, animations.

>>> from optlab import figures
>>> fig = figures.contour(surface, [traj_sgd, traj_adam])      # one colour per optimizer
>>> fig = figures.animated_contour(surface, [traj_sgd, traj_adam], max_frames=60)

Each chapter adds its own builders in ``optlab/figures/<chapter>.py`` (same name as the chapter's
page and its ``optlab/chapters/<chapter>.py``) on top of :mod:`.core` and :mod:`.style`.
"""
from . import style
from .core import (RunPath, add_click_grid, animated_contour, apply_layout, base_layout, clip_path, contour, curves,
                   figure_size_bytes, frame_steps, grad_norm_curves, heatmap, legend_below, legend_entries, line_figure,
                   loss_curves, wrap_legend, wrap_text,
                   normalize_runs, surface3d, surface_grid, surface_image, surface_panel, vector_arrows, window_of)
from .style import optimizer_color, optimizer_dash, series_color

__all__ = ["style", "contour", "surface3d", "loss_curves", "grad_norm_curves", "curves", "animated_contour",
           "apply_layout", "base_layout", "line_figure", "heatmap", "vector_arrows", "add_click_grid", "figure_size_bytes",
           "surface_image", "normalize_runs", "RunPath", "clip_path", "surface_grid", "frame_steps", "window_of",
           "surface_panel", "legend_below", "legend_entries", "wrap_legend", "wrap_text",
           "optimizer_color", "optimizer_dash", "series_color"]
