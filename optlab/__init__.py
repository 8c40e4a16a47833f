"""optlab: how loss functions are optimized, in NumPy.

>>> import optlab
>>> s = optlab.surfaces.get("rosenbrock")
>>> opt = optlab.optimizers.make("adam", lr=0.05)       # torch.optim names and defaults
>>> tr = optlab.run(s, opt, x0=[-1.5, 2.0], steps=200)  # tr.xs: (201, 2), tr.losses: (201,)

Importing optlab loads NumPy only; Plotly (``optlab.figures``), SymPy (``from_formula``) and
Streamlit (``optlab.ui``) are imported by the modules that need them, when they are used.
"""
from . import budget, data, losses, mlp, models, optimizers, polynomial, schedules, surfaces, validation
from .errors import FormulaError, OptlabError, UnknownNameError
from .runner import Trajectory, clip_grads, run
from .sweeps import SweepResult, basins, sweep, tune_lr

__version__ = "0.1.0"

__all__ = ["budget", "data", "losses", "mlp", "models", "optimizers", "polynomial", "schedules", "surfaces", "validation", "run", "sweep", "tune_lr", "basins", "Trajectory",
           "SweepResult", "clip_grads", "FormulaError", "OptlabError", "UnknownNameError", "__version__"]
