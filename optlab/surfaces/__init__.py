r"""Two-dimensional loss surfaces with value, gradient and Hessian on ``(..., 2)`` arrays.

>>> from optlab import surfaces
>>> s = surfaces.get("rosenbrock")                      # a built-in surface (see names())
>>> s.value([[-1.5, 2.0]]), s.grad([[-1.5, 2.0]]), s.hessian([[-1.5, 2.0]])
>>> mine = surfaces.from_formula("x**2 + 3*sin(y)")     # parsed safely, never eval-ed
>>> line = surfaces.from_data(x, y, "huber")            # the (w, b) loss of ŷ = w·x + b on data

This is the package's face; the modules behind it may move:
:mod:`.base` (the :class:`Surface` record), :mod:`.catalogue` (the built-in surfaces and their
registry), :mod:`.formula` (typed formulas: SymPy, imported on first use) and :mod:`.data` (loss
surfaces of data, with real mini-batches).
"""
from __future__ import annotations

from .base import Surface
from .catalogue import defaults, get, info_table, names, register


def from_formula(text: str, **kwargs) -> Surface:
    """A surface from a formula in x and y typed by a user, parsed safely (never ``eval``-ed).

    See :func:`optlab.surfaces.formula.from_formula`; raises :class:`optlab.FormulaError` with a
    message a student understands.  SymPy is imported on first use only.
    """
    from .formula import from_formula as _from_formula

    return _from_formula(text, **kwargs)


def from_data(x, y, loss: str = "mse", **params) -> Surface:
    """The loss of the line ŷ = w·x + b over (w, b) for data (x, y) and a regression ``loss``.

    See :func:`optlab.surfaces.data.loss_surface_1d`; the result supports real mini-batch sampling
    (``optlab.run(..., batch_size=k)``).
    """
    from .data import loss_surface_1d

    return loss_surface_1d(x, y, loss, **params)


__all__ = ["Surface", "get", "names", "defaults", "info_table", "register", "from_formula", "from_data"]
