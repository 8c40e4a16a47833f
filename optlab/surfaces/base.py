r"""The :class:`Surface` record: a 2-D objective with its derivatives, evaluated on ``(..., 2)`` arrays.

Every surface evaluates points of shape ``(..., 2)`` (coordinates on the last axis), so one call
handles a batch of runs ``(B, 2)`` and a plotting grid ``(ny, nx, 2)`` alike:

* ``value(p)``   -> ``(...)``
* ``grad(p)``    -> ``(..., 2)``
* ``hessian(p)`` -> ``(..., 2, 2)``

The built-in surfaces are in :mod:`.catalogue`, typed formulas in :mod:`.formula` and the loss
surfaces of data in :mod:`.data`; all of them are ``Surface`` objects.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

Array = np.ndarray


def _xy(p) -> tuple[Array, Array]:
    if type(p) is not np.ndarray or p.dtype != np.float64:  # the runner's arrays skip the copy
        p = np.asarray(p, dtype=float)
    if p.shape[-1:] != (2,):
        raise ValueError(f"points must have shape (..., 2); got shape {p.shape}")
    return p[..., 0], p[..., 1]


def _stack_grad(gx, gy) -> Array:
    return np.stack(np.broadcast_arrays(gx, gy), axis=-1)


def _stack_hess(hxx, hxy, hyy) -> Array:
    hxx, hxy, hyy = np.broadcast_arrays(hxx, hxy, hyy)
    return np.stack([np.stack([hxx, hxy], -1), np.stack([hxy, hyy], -1)], -2)


@dataclass(eq=False)
class Surface:
    r"""A 2-D objective ``f(x, y)`` with its derivatives and the facts a page needs to draw it.

    Attributes
    ----------
    name : registry key (``"rosenbrock"``); title : display name; latex : the formula.
    window : ``((xmin, xmax), (ymin, ymax))`` plotting window.
    minima : ``(k, 2)`` known global/local minima, global first; min_value : ``f`` at the global
    minimum (or None). n_global : how many leading rows of ``minima`` are global (default: 1 if any).
    saddles : ``(k, 2)`` known saddle points. starts : suggested start points.
    convex : whether ``f`` is convex. params : the keyword arguments it was built with.
    log_scale : whether contours read better on a log scale (large dynamic range).
    """

    name: str
    title: str
    latex: str
    f: Callable[[Array, Array], Array]
    df: Callable[[Array, Array], tuple[Array, Array]]
    d2f: Callable[[Array, Array], tuple[Array, Array, Array]]
    window: tuple[tuple[float, float], tuple[float, float]]
    minima: Array = field(default_factory=lambda: np.zeros((0, 2)))
    min_value: float | None = None
    saddles: Array = field(default_factory=lambda: np.zeros((0, 2)))
    starts: tuple[tuple[float, float], ...] = ()
    convex: bool = False
    params: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    log_scale: bool = False
    n_global: int | None = None
    fg: Callable[[Array, Array], tuple[Array, Array, Array]] | None = None  # (f, ∂f/∂x, ∂f/∂y) at once
    fg_into: Callable[..., None] | None = None  # (x, y, f, gx, gy, work): all three into buffers

    def __post_init__(self):
        self.minima = np.asarray(self.minima, dtype=float).reshape(-1, 2)
        self.saddles = np.asarray(self.saddles, dtype=float).reshape(-1, 2)
        if self.n_global is None:
            self.n_global = min(1, len(self.minima))
        if not 0 <= self.n_global <= len(self.minima):
            raise ValueError(f"n_global must be in [0, {len(self.minima)}]; got {self.n_global!r}")

    # -- evaluation ---------------------------------------------------------------------------
    def value(self, p) -> Array:
        x, y = _xy(p)
        return np.asarray(self.f(x, y), dtype=float) + np.zeros(x.shape)

    def grad(self, p) -> Array:
        x, y = _xy(p)
        return _stack_grad(*self.df(x, y))

    def hessian(self, p) -> Array:
        x, y = _xy(p)
        return _stack_hess(*self.d2f(x, y))

    def _f_df(self, x, y) -> tuple[Array, Array, Array]:
        """``(f, ∂f/∂x, ∂f/∂y)``, through ``fg`` (shared subexpressions) where the surface has it."""
        if self.fg is not None:
            return self.fg(x, y)
        return (self.f(x, y), *self.df(x, y))

    def value_and_grad(self, p) -> tuple[Array, Array]:
        """``(value(p), grad(p))`` in one pass; surfaces with ``fg`` share subexpressions (the
        runner's inner loop calls this once per step)."""
        x, y = _xy(p)
        f, gx, gy = self._f_df(x, y)
        G = np.empty(x.shape + (2,))
        G[..., 0] = gx
        G[..., 1] = gy
        if type(f) is not np.ndarray or f.shape != x.shape:
            f = np.asarray(f, dtype=float) + np.zeros(x.shape)
        return f, G

    def value_and_grad_into(self, x: Array, y: Array, f: Array, gx: Array, gy: Array, work: Array) -> None:
        """Write ``f(x, y)``, ∂f/∂x and ∂f/∂y into ``f``, ``gx``, ``gy`` (``work``: scratch, same shape).

        The runner's fused loop keeps its points as coordinate rows (all x, then all y) and its
        buffers preallocated; this fills them directly, rounded exactly like :meth:`value_and_grad`."""
        if self.fg_into is not None:
            self.fg_into(x, y, f, gx, gy, work)
            return
        v, a, b = self._f_df(x, y)
        np.copyto(f, v)
        np.copyto(gx, a)
        np.copyto(gy, b)

    # -- geometry ------------------------------------------------------------------------------
    @property
    def dim(self) -> int:
        return 2

    @property
    def extent(self) -> float:
        """Largest absolute coordinate of the plotting window."""
        (x0, x1), (y0, y1) = self.window
        return float(max(abs(x0), abs(x1), abs(y0), abs(y1)))

    @property
    def global_minima(self) -> Array:
        """``(n_global, 2)``: the leading rows of ``minima``, where ``f = min_value``."""
        return self.minima[: self.n_global]

    def distance_to_minimum(self, p, global_only: bool = False) -> Array:
        """Euclidean distance from ``p`` (..., 2) to the nearest known minimum (NaN if none known).

        ``global_only=True`` measures to the nearest *global* minimum, so a run stuck in a local
        minimum of Rastrigin or Ackley does not count as close.
        """
        p = np.asarray(p, dtype=float)
        m = self.global_minima if global_only else self.minima
        if len(m) == 0:
            return np.full(p.shape[:-1], np.nan)
        d = np.linalg.norm(p[..., None, :] - m, axis=-1)
        return d.min(axis=-1)

    def grid(self, n: int = 120, window=None) -> tuple[Array, Array, Array]:
        """``(xs, ys, Z)`` on an ``n × n`` grid over the window, for contour and 3-D plots."""
        (x0, x1), (y0, y1) = window or self.window
        xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
        P = np.stack(np.meshgrid(xs, ys), axis=-1)
        with np.errstate(all="ignore"):
            Z = self.value(P)
        return xs, ys, Z

    def __repr__(self) -> str:
        extra = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"Surface({self.name}{', ' + extra if extra else ''})"
