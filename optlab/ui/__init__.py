"""Streamlit widgets for OptLab pages (importing this package imports Streamlit).

Importing it also limits BLAS to one thread in the server process: a classroom server runs many
sessions at once on few cores, and OpenBLAS's own threads then fight over them (measured on 2
cores under load: an MLP training run took 58 s instead of 4 s).  threadpoolctl does this at run
time, after NumPy is loaded, which an environment variable set here no longer could.
"""
import copyreg
import functools

import plotly.graph_objects as go

from ..figures.core import figure_dict


class CachedFigure(go.Figure):
    """A figure read back from ``st.cache_data``: its JSON dict, made into Plotly objects only when
    code uses it as a figure (``update_layout``, ``add_trace``, ``.data`` …).

    Most cached figures go straight to :func:`show_figure`, which sends the dict as it is; building
    Plotly's objects for them (``go.Figure(spec)``) was 7.5 % of the server's CPU under load.
    """

    def __init__(self, spec: dict):  # noqa: D107 - Plotly's state is made on first use
        self.__dict__["_optlab_spec"] = spec

    def __getattr__(self, name):  # only for attributes not set yet: Plotly's, before they are built
        spec = self.__dict__.pop("_optlab_spec", None)
        if spec is None:
            raise AttributeError(name)
        go.Figure.__init__(self, spec, _validate=False)
        return getattr(self, name)


def _rebuild_figure(spec: dict) -> go.Figure:
    return CachedFigure(spec)


def _reduce_figure(fig: go.Figure):
    spec = fig.__dict__.get("_optlab_spec")
    return _rebuild_figure, (figure_dict(fig) if spec is None else spec,)


# st.cache_data hands every reader an unpickled copy, and unpickling a go.Figure re-validates every
# property (measured: ~40 ms per run of the loss-functions page, a third of its server time). A
# cached figure was valid when it was stored, so it travels as its JSON dict and is rebuilt as is,
# and only if it is used as more than a chart to draw.
copyreg.pickle(go.Figure, _reduce_figure)
copyreg.pickle(CachedFigure, _reduce_figure)

def _pin_signature_lookups() -> None:
    """st.cache_data names each positional argument of every call by running inspect.signature on
    the cached function again (once per argument: 4 % of the server's CPU under load, py-spy).  A
    function's signature does not change, so the lookup is remembered per function object (LRU:
    functions defined inside a page script are new objects on every run)."""
    from streamlit import type_util
    from streamlit.runtime.caching import cache_utils

    lookup = getattr(type_util, "get_func_parameters", None)
    if lookup is None or hasattr(lookup, "cache_info"):  # another Streamlit, or done already
        return

    @functools.lru_cache(maxsize=512)
    def remembered(func):
        return tuple(lookup(func))

    def get_func_parameters(func):
        try:
            return remembered(func)
        except TypeError:  # an unhashable callable: look it up every time, as Streamlit does
            return lookup(func)

    get_func_parameters.cache_info = remembered.cache_info
    if getattr(cache_utils, "type_util", None) is type_util:
        type_util.get_func_parameters = get_func_parameters


_pin_signature_lookups()

try:
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")
except ImportError:  # optional: without it BLAS keeps its default thread count
    pass

from .widgets import (cached_run, cached_tune_lr, divergence_warnings, experiment, get_surface, hyper_error,
                      hyper_widget_keys, init_state, optimizer_controls, page_config, page_header, run_spec,
                      selected_point, set_hyper_state, show_figure, show_surface_formula, show_update_rule,
                      surface_picker)

__all__ = ["CachedFigure", "page_config", "page_header", "show_figure", "selected_point", "init_state", "surface_picker",
           "show_surface_formula", "get_surface", "optimizer_controls", "hyper_widget_keys", "set_hyper_state",
           "hyper_error", "show_update_rule", "divergence_warnings", "experiment", "cached_run", "cached_tune_lr",
           "run_spec"]
