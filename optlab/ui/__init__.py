"""The Streamlit layer: the shared widgets and cached runs (this face), and one module per chapter
(``optlab.ui.newton`` …) with that page's caches, widgets and caption wording.  Importing it
imports Streamlit.

Importing it also limits BLAS to one thread in the server process: a classroom server runs many
sessions at once on few cores, and OpenBLAS's own threads then fight over them (measured on 2
cores under load: an MLP training run took 58 s instead of 4 s).  threadpoolctl does this at run
time, after NumPy is loaded, which an environment variable set here no longer could.

**Start-up imports.**  Every page imports this package before it draws anything, and Python runs a
module's body once while other threads that import it wait on the module's import lock: this is
the one place where the whole server imports, once, what pages would otherwise import lazily in
parallel script threads.  That matters: Plotly looks pandas up in ``sys.modules`` without importing
it (``_plotly_utils.optional_imports.get_module(..., should_load=False)``), so while one session's
thread was still importing pandas (Streamlit's data elements do, lazily), another session building a
figure found the half-initialised module and failed with "partially initialized module 'pandas'
has no attribute 'Series'" (8 of 15 sessions opened at the same instant on a fresh server).
:data:`STARTUP_IMPORTS` lists the modules that page runs used to import lazily
(``tests/test_server_hardening.py`` checks that no page run imports another third-party package, and
opens 15 sessions at once on fresh servers).  The SymPy worker for typed formulas is started here
too, in the background (:mod:`optlab.surfaces.formula_worker`), so the first formula does not wait for it.
"""
import copyreg
import importlib

# Lazily imported by Streamlit (dataframes, Arrow serialisation), Plotly (narwhals) and pandas
# itself during page runs; import them before any session's script can race on them.
STARTUP_IMPORTS = ("pandas", "pyarrow", "pyarrow.pandas_compat", "narwhals", "narwhals._interchange.dataframe",
                   "pyarrow.vendored.version", "dateutil", "packaging.tags", "packaging.utils", "packaging.version",
                   "zoneinfo", "glob",
                   "orjson", "plotly.graph_objects", "plotly.io", "plotly.io._json", "plotly.subplots", "plotly.colors",
                   "_plotly_utils.colors", "streamlit", "streamlit.emojis", "streamlit.material_icon_names",
                   "streamlit.runtime.scriptrunner.magic_funcs",
                   # the privacy accountant of "Challenges ahead" (SciPy under it: ~1-2 s of CPU, paid at
                   # start rather than by the first student who opens the privacy section)
                   "dp_accounting", "dp_accounting.rdp.rdp_privacy_accountant",
                   "dp_accounting.pld.pld_privacy_accountant")
for _name in STARTUP_IMPORTS:
    try:
        importlib.import_module(_name)
    except ImportError:  # optional for some Streamlit versions: the page imports it if it needs it
        pass

import plotly.graph_objects as go  # noqa: E402

from ..surfaces import formula_worker as _formula_worker  # noqa: E402

_formula_worker.warm_up(background=True)

from ..figures.core import LazyFigure, figure_dict


def _rebuild_figure(spec: dict) -> go.Figure:
    # read back from st.cache_data: the stored dict, built into Plotly's objects only if code uses
    # it as a figure; most cached figures go straight to show_figure, which sends the dict as it is
    # (building go.Figure(spec) on every cache read was 7.5 % of the server's CPU under load)
    return LazyFigure(spec, typed=True)


def _reduce_figure(fig: go.Figure):
    return _rebuild_figure, (figure_dict(fig),)


# st.cache_data hands every reader an unpickled copy, and unpickling a go.Figure re-validates every
# property (measured: ~40 ms per run of the loss-functions page, a third of its server time). A
# cached figure was valid when it was stored, so it travels as its JSON dict and is rebuilt as is,
# and only if it is used as more than a chart to draw.
copyreg.pickle(go.Figure, _reduce_figure)
copyreg.pickle(LazyFigure, _reduce_figure)

try:
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")
except ImportError:  # optional: without it BLAS keeps its default thread count
    pass

from .i18n import cache_data, cache_resource, page_link, set_language
from .widgets import (Divergence, cached_run, cached_tune_lr, divergence_box, divergence_warnings, divergences,
                      experiment, get_surface, hyper_error, hyper_widget_keys, init_state, number_column,
                      optimizer_controls, page_config, page_header, pinned_signature, run_spec,
                      selected_point, set_hyper_state, show_figure, show_surface_formula, show_update_rule,
                      surface_picker)

__all__ = ["cache_data", "cache_resource", "page_link", "set_language", "page_config", "page_header", "show_figure",
           "selected_point", "init_state", "surface_picker",
           "show_surface_formula", "get_surface", "optimizer_controls", "hyper_widget_keys", "set_hyper_state",
           "hyper_error", "show_update_rule", "divergence_warnings", "divergence_box", "divergences", "Divergence",
           "experiment", "cached_run", "cached_tune_lr",
           "run_spec", "number_column", "pinned_signature"]
