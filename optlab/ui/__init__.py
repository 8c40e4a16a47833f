"""The Streamlit layer: the shared widgets and cached runs (this face), and one module per chapter
(``optlab.ui.newton`` …) with that page's caches, widgets and caption wording.  Importing it
imports Streamlit.

Importing it also limits BLAS to one thread in the server process: a classroom server runs many
sessions at once on few cores, and OpenBLAS's own threads then fight over them (measured on 2
cores under load: an MLP training run took 58 s instead of 4 s).  threadpoolctl does this at run
time, after NumPy is loaded, which an environment variable set here no longer could.
"""
import copyreg

import plotly.graph_objects as go


def _rebuild_figure(spec: dict) -> go.Figure:
    return go.Figure(spec, _validate=False)


def _reduce_figure(fig: go.Figure):
    return _rebuild_figure, (fig.to_plotly_json(),)


# st.cache_data hands every reader an unpickled copy, and unpickling a go.Figure re-validates every
# property (measured: ~40 ms per run of the loss-functions page, a third of its server time). A
# cached figure was valid when it was stored, so it travels as its JSON dict and is rebuilt as is.
copyreg.pickle(go.Figure, _reduce_figure)

try:
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")
except ImportError:  # optional: without it BLAS keeps its default thread count
    pass

from .widgets import (Divergence, cached_run, cached_tune_lr, divergence_box, divergence_warnings, divergences,
                      experiment, get_surface, hyper_error,
                      hyper_widget_keys, init_state, number_column, optimizer_controls, page_config, page_header,
                      run_spec,
                      selected_point, set_hyper_state, show_figure, show_surface_formula, show_update_rule,
                      surface_picker)

__all__ = ["page_config", "page_header", "show_figure", "selected_point", "init_state", "surface_picker",
           "show_surface_formula", "get_surface", "optimizer_controls", "hyper_widget_keys", "set_hyper_state",
           "hyper_error", "show_update_rule", "divergence_warnings", "divergence_box", "divergences", "Divergence",
           "experiment", "cached_run", "cached_tune_lr",
           "run_spec", "number_column"]
