r"""The chapter "Newton's method": the local quadratic model behind it, in one and two dimensions.

Near a point :math:`x` Newton's method replaces :math:`f` by its second-order Taylor model

.. math::  q(x + d) = f(x) + \nabla f(x)^\top d + \tfrac12\, d^\top \nabla^2 f(x)\, d

and jumps to the model's stationary point :math:`d = -\nabla^2 f(x)^{-1}\nabla f(x)`.  That point is
the model's minimum only when the Hessian is positive definite; otherwise it is a maximum or a
saddle, and pure Newton happily goes there.  This module computes what the Newton page draws:

* a catalogue of 1-D functions (``get_1d``) with :math:`f, f', f''` and their LaTeX, and
  :func:`newton_1d` (the engine's ``newton`` optimizer run on them) with the Taylor parabola at
  every iterate;
* :func:`local_model`: gradient, Hessian, its eigen-decomposition, the model's stationary point
  and type, values on a grid and exact level curves (ellipses, hyperbolas, parabolas, lines);
* :func:`line_search_trace`: every step length the Armijo backtracking of
  :func:`optlab.optimizers.second_order.backtrack` tries, and which one it accepts;
* :func:`cost_table`: floating-point operations per iteration of gradient descent, Newton and
  BFGS in :math:`n` dimensions; :func:`best_gd` and :func:`bfgs_estimates` for the comparison;
* what the captions read off a run: :func:`read_rate` (linear or quadratic convergence, from the
  error ratios), :func:`suggested_start`, :func:`defined_at`, :func:`last_iterate`.

NumPy only; every function is pure.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .. import optimizers
from ..errors import UnknownNameError
from ..losses import log_cosh
from ..runner import Trajectory, run

Array = np.ndarray

REL_ZERO = 1e-9      # |λ| ≤ REL_ZERO·max|λ| counts as a zero eigenvalue (singular model)

TAYLOR_1D_LATEX = r"q_k(x) = f(x_k) + f'(x_k)\,(x - x_k) + \tfrac12 f''(x_k)\,(x - x_k)^2"
NEWTON_1D_LATEX = r"q_k'(x) = 0 \;\Longrightarrow\; x_{k+1} = x_k - \frac{f'(x_k)}{f''(x_k) + \mu_k}"
MODEL_LATEX = (r"\begin{aligned}q(\theta + d) &= f(\theta) + \nabla f(\theta)^\top d + \tfrac12\, d^\top\big(\nabla^2 f(\theta)"
               r" + \mu I\big)\, d\\ \nabla_d\, q = 0 \;&\Longleftrightarrow\; "
               r"\big(\nabla^2 f(\theta) + \mu I\big)\, d = -\nabla f(\theta)\end{aligned}")
RATE_LATEX = {  # e_k = |x_k − x*|
    "quadratic": r"f''(x^*) > 0:\quad e_{k+1} \approx \frac{|f'''(x^*)|}{2 f''(x^*)}\, e_k^2",
    "linear": r"f = x^p:\quad e_{k+1} = \frac{p-1}{p}\, e_k",
}


# ----------------------------------------------------------------------------------------------
# One dimension: a small catalogue of functions with f, f', f''
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Function1D:
    r"""A function of one variable with its first two derivatives, their LaTeX, and what it shows.

    It also speaks the optimizer's problem interface with ``D = 1`` (``value``, ``grad``,
    ``hessian``, ``value_and_grad`` over ``(B, 1)``), so :func:`optlab.run` runs the engine's
    Newton on it unchanged.
    """

    name: str
    title: str
    latex: str
    dlatex: str
    d2latex: str
    f: Callable[[Array], Array]
    df: Callable[[Array], Array]
    d2f: Callable[[Array], Array]
    window: tuple[float, float]
    minima: tuple[float, ...] = ()
    maxima: tuple[float, ...] = ()
    start: float = 1.0
    description: str = ""

    # -- the (B, 1) problem interface of optlab.run ---------------------------------------------
    def value(self, p) -> Array:
        p = np.asarray(p, dtype=float)
        return np.asarray(self.f(p[..., 0]), dtype=float)

    def grad(self, p) -> Array:
        p = np.asarray(p, dtype=float)
        return np.asarray(self.df(p[..., 0]), dtype=float)[..., None]

    def hessian(self, p) -> Array:
        p = np.asarray(p, dtype=float)
        return np.asarray(self.d2f(p[..., 0]), dtype=float)[..., None, None]

    def value_and_grad(self, p) -> tuple[Array, Array]:
        return self.value(p), self.grad(p)

    @property
    def extent(self) -> float:
        return float(max(abs(self.window[0]), abs(self.window[1])))

    def negative_curvature(self, n: int = 2001) -> list[tuple[float, float]]:
        """Intervals of the window where f'' < 0 (to the grid's resolution)."""
        x = np.linspace(*self.window, n)
        with np.errstate(all="ignore"):
            neg = np.asarray(self.d2f(x)) < 0
        out, i = [], 0
        while i < n:
            if neg[i]:
                j = i
                while j + 1 < n and neg[j + 1]:
                    j += 1
                out.append((float(x[i]), float(x[j])))
                i = j + 1
            else:
                i += 1
        return out


def _sech2(x):
    with np.errstate(over="ignore"):
        return 1.0 / np.cosh(x) ** 2


def _quartic() -> Function1D:
    crit = np.sort(np.roots([1.0, 0.0, -2.0, 0.5]).real)  # f' = x³ − 2x + ½: three real roots
    return Function1D(
        name="quartic", title="Tilted double well ¼x⁴ − x² + ½x",
        latex=r"f(x)=\tfrac14 x^4 - x^2 + \tfrac12 x", dlatex=r"f'(x)=x^3-2x+\tfrac12",
        d2latex=r"f''(x)=3x^2-2",
        f=lambda x: 0.25 * x ** 4 - x * x + 0.5 * x, df=lambda x: x ** 3 - 2 * x + 0.5,
        d2f=lambda x: 3 * x * x - 2.0 + 0 * x,
        window=(-2.4, 2.4), minima=(float(crit[0]), float(crit[2])), maxima=(float(crit[1]),), start=1.8,
        description="Two valleys and a hump between them: for |x| < √(2/3) the curvature is negative, "
                    "the tangent parabola opens downwards and its vertex is a maximum.")


def _exp() -> Function1D:
    return Function1D(
        name="exp", title="Smooth and convex eˣ − 2x",
        latex=r"f(x)=e^{x}-2x", dlatex=r"f'(x)=e^{x}-2", d2latex=r"f''(x)=e^{x}",
        f=lambda x: np.exp(x) - 2 * x, df=lambda x: np.exp(x) - 2.0, d2f=lambda x: np.exp(x),
        window=(-2.0, 3.0), minima=(math.log(2.0),), start=2.5,
        description="Convex with f'' > 0 everywhere: near the minimum ln 2 the error is squared at every "
                    "step (quadratic convergence).")


def _x4() -> Function1D:
    return Function1D(
        name="x4", title="Degenerate minimum x⁴",
        latex=r"f(x)=x^4", dlatex=r"f'(x)=4x^3", d2latex=r"f''(x)=12x^2",
        f=lambda x: x ** 4, df=lambda x: 4 * x ** 3, d2f=lambda x: 12 * x * x,
        window=(-2.0, 2.0), minima=(0.0,), start=1.5,
        description="f''(0) = 0: the minimum is flat, the parabola gets flatter as x → 0 and Newton "
                    "only shrinks the error by the factor 2/3 per step (linear, not quadratic).")


def _log_cosh_fn() -> Function1D:
    return Function1D(
        name="log_cosh", title="Flat far away: log cosh x",
        latex=r"f(x)=\log\cosh x", dlatex=r"f'(x)=\tanh x", d2latex=r"f''(x)=\operatorname{sech}^2 x",
        # losses.log_cosh keeps full relative precision near 0, where the line search compares tiny values
        f=log_cosh, df=np.tanh, d2f=_sech2,
        window=(-4.0, 4.0), minima=(0.0,), start=0.9,
        description="Convex, but almost straight for |x| > 2 (f'' → 0): there the parabola is nearly flat and "
                    "its vertex lies far away. Pure Newton converges only for |x₀| < 1.0887; beyond, "
                    "each jump is larger than the last.")


def _arctan_fn() -> Function1D:
    return Function1D(
        name="arctan", title="Convex, yet Newton overshoots: ∫ arctan",
        latex=r"f(x)=x\arctan x-\tfrac12\log(1+x^2)", dlatex=r"f'(x)=\arctan x",
        d2latex=r"f''(x)=\frac{1}{1+x^2}",
        f=lambda x: x * np.arctan(x) - 0.5 * np.log1p(x * x), df=np.arctan, d2f=lambda x: 1.0 / (1.0 + x * x),
        window=(-6.0, 6.0), minima=(0.0,), start=1.3,
        description="Convex everywhere, but the curvature decays like 1/x²: from |x₀| > 1.3917 every "
                    "Newton step overshoots further to the other side.")


def _parabola_fn() -> Function1D:
    return Function1D(
        name="parabola", title="A parabola 1.5(x − 1)² + 0.5",
        latex=r"f(x)=1.5\,(x-1)^2+0.5", dlatex=r"f'(x)=3\,(x-1)", d2latex=r"f''(x)=3",
        f=lambda x: 1.5 * (x - 1.0) ** 2 + 0.5, df=lambda x: 3.0 * (x - 1.0), d2f=lambda x: 3.0 + 0 * x,
        window=(-2.0, 3.0), minima=(1.0,), start=-1.5,
        description="f is its own Taylor model: Newton lands on the minimum in one step, from anywhere.")


_FUNCTIONS_1D: dict[str, Callable[[], Function1D]] = {
    "quartic": _quartic, "exp": _exp, "x4": _x4, "log_cosh": _log_cosh_fn, "arctan": _arctan_fn,
    "parabola": _parabola_fn,
}


def names_1d() -> list[str]:
    """Names of the 1-D functions, in display order."""
    return list(_FUNCTIONS_1D)


def get_1d(name: str) -> Function1D:
    """The 1-D function ``name`` (raises :class:`UnknownNameError` for an unknown one)."""
    if not isinstance(name, str) or name not in _FUNCTIONS_1D:
        raise UnknownNameError("1-D function", name, _FUNCTIONS_1D)
    return _FUNCTIONS_1D[name]()


def taylor_1d(fx, gx, hx, x, t) -> Array:
    r"""The second-order Taylor model at ``x``: :math:`q(t) = f + f'\,(t-x) + \tfrac12 f''\,(t-x)^2`."""
    dt = np.asarray(t, dtype=float) - x
    return fx + gx * dt + 0.5 * hx * dt * dt


def model_kind_1d(h: float) -> str:
    """``"minimum"`` (h > 0), ``"maximum"`` (h < 0) or ``"flat"`` (h = 0 or undefined) for a parabola's vertex."""
    if not np.isfinite(h) or h == 0:
        return "flat"
    return "minimum" if h > 0 else "maximum"


@dataclass
class Newton1D:
    r"""Newton's iterates on a 1-D function and the parabola behind every step.

    ``xs[k]`` is the k-th iterate (NaN after a divergence); ``fs, gs, hs`` are f, f', f'' there;
    ``model_h = hs + mus`` is the curvature of the model the step minimizes (μ = damping actually
    used, 0 for pure Newton), ``vertex = xs − gs/model_h`` its stationary point and ``kind`` its
    type.  ``last`` is the index of the last meaningful iterate (converged, or the last finite
    point before a divergence).  ``trajectory`` is the engine's record.
    """

    name: str
    xs: Array
    fs: Array
    gs: Array
    hs: Array
    mus: Array
    model_h: Array
    vertex: Array
    kind: list[str]
    step_length: Array
    n_backtracks: Array
    last: int
    converged_at: int
    diverged_at: int
    diverged_reason: str
    trajectory: Trajectory

    def parabola(self, k: int, t) -> Array:
        """The Taylor parabola at iterate ``k`` evaluated at ``t``."""
        return taylor_1d(self.fs[k], self.gs[k], self.hs[k], self.xs[k], t)

    def model(self, k: int, t) -> Array:
        """The parabola the step minimizes at iterate ``k`` (the Taylor one plus ½μ(t − x)²)."""
        return taylor_1d(self.fs[k], self.gs[k], self.model_h[k], self.xs[k], t)


def _mu_rule(h, damping, min_curvature):
    """The engine's damping rule: μ, raised to δ − λ_min when ``min_curvature`` δ is set."""
    mu = np.full(np.shape(h), float(damping))
    if min_curvature is not None:
        with np.errstate(invalid="ignore"):
            mu = np.maximum(mu, float(min_curvature) - np.asarray(h, dtype=float))
    return mu


def newton_1d(fun: Function1D | str, x0: float, steps: int = 12, *, tol: float = 1e-13, **hyper) -> Newton1D:
    """Run the engine's ``newton`` (hyperparameters ``hyper``: lr, line_search, damping, …) on ``fun``.

    The run stops once |f'| ≤ ``tol``; a divergence is flagged, never raised.
    """
    fun = get_1d(fun) if isinstance(fun, str) else fun
    opt = optimizers.make("newton", **hyper)
    tr = run(fun, opt, np.array([float(x0)]), int(steps), record="full", tol=tol)
    tr.label = "Newton"
    xs = np.asarray(tr.xs, dtype=float)[:, 0]
    with np.errstate(all="ignore"):
        fs, gs, hs = fun.f(xs), fun.df(xs), fun.d2f(xs)
        fs, gs, hs = (np.asarray(a, dtype=float) + 0 * xs for a in (fs, gs, hs))
        mus = _mu_rule(hs, opt.hyper["damping"], opt.hyper["min_curvature"])
        model_h = hs + mus
        vertex = xs - gs / model_h
    T = len(xs) - 1
    dv, cv = int(tr.diverged_at), int(tr.converged_at)
    last = cv if cv >= 0 else (dv - 1 if dv >= 0 else T)
    sl = np.asarray(tr.states.get("step_length", np.zeros((T, 1))), dtype=float).reshape(T)
    nb = np.asarray(tr.states.get("n_backtracks", np.zeros((T, 1))), dtype=float).reshape(T)
    return Newton1D(name=fun.name, xs=xs, fs=fs, gs=gs, hs=hs, mus=mus, model_h=model_h, vertex=vertex,
                    kind=[model_kind_1d(h) for h in model_h], step_length=sl, n_backtracks=nb.astype(int),
                    last=int(max(last, 0)), converged_at=cv, diverged_at=dv,
                    diverged_reason=str(tr.diverged_reason), trajectory=tr)


def convergence_ratios(xs, x_star: float) -> tuple[Array, Array, Array]:
    r"""Errors :math:`e_k = |x_k - x^*|` and the ratios :math:`e_{k+1}/e_k` (linear rate) and
    :math:`e_{k+1}/e_k^2` (quadratic constant); NaN where :math:`e_k` is 0 or not finite."""
    e = np.abs(np.asarray(xs, dtype=float) - float(x_star))
    with np.errstate(all="ignore"):
        prev, nxt = e[:-1], e[1:]
        ok = np.isfinite(prev) & (prev > 0) & np.isfinite(nxt)
        lin = np.where(ok, nxt / prev, np.nan)
        quad = np.where(ok, nxt / (prev * prev), np.nan)
    return e, lin, quad


# ----------------------------------------------------------------------------------------------
# Two dimensions: the local quadratic model
# ----------------------------------------------------------------------------------------------
def _classify(lam: Array) -> tuple[str, Array]:
    """Type of the quadratic with Hessian eigenvalues ``lam`` and the mask of its zero eigenvalues."""
    if not np.all(np.isfinite(lam)):
        return "undefined", np.ones(lam.shape, dtype=bool)
    scale = float(np.max(np.abs(lam))) if lam.size else 0.0
    zero = np.abs(lam) <= REL_ZERO * scale if scale > 0 else np.ones(lam.shape, dtype=bool)
    if zero.any():
        return "degenerate", zero
    if np.all(lam > 0):
        return "minimum", zero
    if np.all(lam < 0):
        return "maximum", zero
    return "saddle", zero


def level_curve(q0: float, b, A, level: float, radius: float, n: int = 160) -> Array:
    r"""Points ``y`` (N, 2) with :math:`q_0 + b^\top y + \tfrac12 y^\top A y = \ell` (``ℓ = level``),
    NaN rows between separate pieces.

    By the eigenvalues of the symmetric ``A``: an ellipse, the two branches of a hyperbola (or its
    two asymptotes when ℓ is the saddle's value), a parabola or two parallel lines (one zero
    eigenvalue), a straight line (``A = 0``), or nothing (an empty level).  Unbounded pieces reach
    at least ``radius`` from the model's centre (or from ``y = 0``).
    """
    b = np.asarray(b, dtype=float).reshape(2)
    A = np.asarray(A, dtype=float).reshape(2, 2)
    A = 0.5 * (A + A.T)
    R = float(radius)
    empty = np.zeros((0, 2))
    if not (np.all(np.isfinite(A)) and np.all(np.isfinite(b)) and np.isfinite(q0) and np.isfinite(level)):
        return empty
    lam, V = np.linalg.eigh(A)
    bt = V.T @ b
    _, zero = _classify(lam)
    pieces: list[Array] = []
    if not zero.any():
        uc = -bt / lam
        qc = q0 - 0.5 * float(np.sum(bt * bt / lam))
        r = 2.0 * (level - qc)
        a = r / lam                                  # w_i² along axis i alone
        if r == 0.0:
            if lam[0] * lam[1] < 0:                  # asymptotes of the saddle: √|λ₀| w₀ = ±√|λ₁| w₁
                s = np.linspace(-R, R, 2)
                k = math.sqrt(abs(lam[0] / lam[1]))
                for sign in (1.0, -1.0):
                    pieces.append(np.stack([s, sign * k * s], -1))
            else:
                pieces.append(np.zeros((1, 2)))      # the level of the centre: the centre itself
        elif np.all(a > 0):
            t = np.linspace(0.0, 2.0 * np.pi, n)
            pieces.append(np.stack([np.sqrt(a[0]) * np.cos(t), np.sqrt(a[1]) * np.sin(t)], -1))
        elif np.any(a > 0):
            i = int(np.argmax(a))                    # the axis the branches cross
            j = 1 - i
            ai, aj = math.sqrt(a[i]), math.sqrt(-a[j])
            # far enough for every point within R of the centre: |w_i| = a_i cosh t, |w_j| = a_j sinh t
            T = min(math.acosh(max(R / ai, 1.0)), math.asinh(R / aj)) + 0.3
            t = np.linspace(-T, T, n)
            for sign in (1.0, -1.0):
                w = np.empty((n, 2))
                w[:, i] = sign * ai * np.cosh(t)
                w[:, j] = aj * np.sinh(t)
                pieces.append(w)
        pieces = [p + uc for p in pieces]
    elif zero.all():
        nb = float(np.hypot(*b))
        if nb > 0:                                   # a plane: the level set is a line ⟂ b
            y0 = b * (level - q0) / (nb * nb)
            perp = np.array([-b[1], b[0]]) / nb
            s = np.linspace(-R, R, 2)
            return y0 + s[:, None] * perp
        return empty
    else:
        z, m = (0, 1) if zero[0] else (1, 0)        # z: the zero eigenvalue's axis
        um = -bt[m] / lam[m]                        # vertex along the curved axis
        if abs(bt[z]) > REL_ZERO * max(1.0, float(np.hypot(*bt))):
            # around x (u = 0) and around the parabola's vertex, which may be far away
            s = np.unique(np.concatenate([np.linspace(-R, R, n), np.linspace(um - R, um + R, n // 2)]))
            w = np.empty((len(s), 2))
            w[:, m] = s
            w[:, z] = (level - q0 - bt[m] * s - 0.5 * lam[m] * s * s) / bt[z]
            pieces.append(w)
        else:                                       # a valley (or ridge) of constant height
            c = 2.0 * (level - q0 + 0.5 * bt[m] * bt[m] / lam[m]) / lam[m]
            if c >= 0:
                s = np.linspace(-R, R, 2)
                for sign in (1.0, -1.0):
                    w = np.empty((2, 2))
                    w[:, m] = um + sign * math.sqrt(c)
                    w[:, z] = s
                    pieces.append(w)
    if not pieces:
        return empty
    out = []
    for p in pieces:
        out.append(p @ V.T)                         # back from eigen-coordinates
        out.append(np.full((1, 2), np.nan))
    return np.concatenate(out[:-1])


@dataclass
class LocalModel:
    r"""The quadratic model :math:`q(x+d) = f + g^\top d + \tfrac12 d^\top (H + \mu I) d` at ``x``.

    ``hessian`` is the true Hessian, ``H = hessian + mu·I`` the model's (μ > 0 for
    Levenberg–Marquardt); ``eigvals`` ascending with ``eigvecs[:, i]`` the matching unit vectors;
    ``kind`` is ``"minimum"``, ``"maximum"``, ``"saddle"``, ``"degenerate"`` (a zero eigenvalue:
    no unique stationary point) or ``"undefined"`` (non-finite derivatives).  ``center`` is the
    model's stationary point :math:`x - H^{-1} g` (NaN when degenerate) and ``step`` = center − x,
    the (damped) Newton step.
    """

    x: Array
    f: float
    g: Array
    hessian: Array
    mu: float
    H: Array
    eigvals: Array
    eigvecs: Array
    kind: str
    center: Array
    center_value: float
    step: Array

    @property
    def descent(self) -> bool:
        """Whether the Newton step goes downhill (gᵀd < 0); if not, the engine's line search uses −g."""
        return bool(np.all(np.isfinite(self.step)) and float(self.g @ self.step) < 0)

    def latex(self, digits: int = 4) -> dict[str, str]:
        """The numbers at x as LaTeX: ``gradient``, ``hessian`` (with μI when damped), ``eigen``, ``step``."""
        def num(v):
            return _tex_num(v, digits)

        g, H = self.g, self.hessian
        out = {"gradient": rf"\nabla f = \begin{{pmatrix}}{num(g[0])}\\ {num(g[1])}\end{{pmatrix}}"}
        hess = rf"\nabla^2 f = \begin{{pmatrix}}{num(H[0, 0])} & {num(H[0, 1])}\\ {num(H[1, 0])} & {num(H[1, 1])}\end{{pmatrix}}"
        if self.mu:
            hess += rf",\quad \mu = {num(self.mu)}"
        out["hessian"] = hess
        if np.all(np.isfinite(self.eigvals)):
            lam, V = self.eigvals, self.eigvecs
            sym = r"\nabla^2 f + \mu I" if self.mu else r"\nabla^2 f"
            vec = [rf"\begin{{pmatrix}}{num(V[0, j])}\\ {num(V[1, j])}\end{{pmatrix}}" for j in range(2)]
            out["eigen"] = (rf"\text{{eigen of }} {sym}:\quad \begin{{aligned}}\lambda_1 &= {num(lam[0])}, & v_1 &= {vec[0]}\\ "
                            rf"\lambda_2 &= {num(lam[1])}, & v_2 &= {vec[1]}\end{{aligned}}")
        else:
            out["eigen"] = r"\text{the Hessian is undefined here}"
        if np.all(np.isfinite(self.step)):
            mat = r"\nabla^2 f + \mu I" if self.mu else r"\nabla^2 f"
            out["step"] = (rf"d = -\big({mat}\big)^{{-1}}\nabla f = "
                           rf"\begin{{pmatrix}}{num(self.step[0])}\\ {num(self.step[1])}\end{{pmatrix}}")
        else:
            out["step"] = r"d = -\big(\nabla^2 f\big)^{-1}\nabla f\ \text{is undefined: the matrix is singular}"
        return out

    def value(self, p) -> Array:
        """Model values at points ``p`` (..., 2)."""
        d = np.asarray(p, dtype=float) - self.x
        return self.f + d @ self.g + 0.5 * np.einsum("...i,ij,...j->...", d, self.H, d)

    def grid(self, n: int = 60, window=None) -> tuple[Array, Array, Array]:
        """``(xs, ys, Q)``: model values on an ``n × n`` grid (window default: ±2‖step‖ around x)."""
        if window is None:
            r = float(np.hypot(*self.step)) if np.all(np.isfinite(self.step)) else 1.0
            r = 2.0 * max(r, 1e-3)
            window = ((self.x[0] - r, self.x[0] + r), (self.x[1] - r, self.x[1] + r))
        (x0, x1), (y0, y1) = window
        xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
        return xs, ys, self.value(np.stack(np.meshgrid(xs, ys), -1))

    def levels(self, radii=(0.5, 1.0, 1.5)) -> list[tuple[float, bool]]:
        r"""Levels worth drawing, as ``(level, passes_through_x)``.

        Ellipses/hyperbolas scaled by ``radii`` relative to the one through x
        (:math:`q_c + (f - q_c)\,\rho^2`), for a saddle both families and the asymptotes (level
        :math:`q_c`); for a degenerate model levels f ± a small multiple of ‖g‖.
        """
        f = float(self.f)
        out = [(f, True)]
        if self.kind in ("minimum", "maximum"):
            gap = f - self.center_value
            out += [(self.center_value + gap * r * r, False) for r in radii if r != 1.0]
        elif self.kind == "saddle":
            gap = abs(f - self.center_value)
            if gap == 0:  # x sits on an asymptote: pick a scale from the curvature
                gap = 0.125 * float(np.max(np.abs(self.eigvals))) * max(float(np.hypot(*self.step)), 1e-6) ** 2
            for r in radii:
                for s in (1.0, -1.0):
                    lv = self.center_value + s * gap * r * r
                    if not np.isclose(lv, f, rtol=1e-12, atol=0):
                        out.append((lv, False))
            out.append((self.center_value, False))
        elif self.kind == "degenerate":
            step = 0.25 * max(float(np.hypot(*self.g)), 1e-12)
            out += [(f + s * step * r, False) for r in (1.0, 2.0) for s in (1.0, -1.0)]
        return out

    def curves(self, window, n: int = 160, radii=(0.5, 1.0, 1.5)) -> list[tuple[float, bool, Array]]:
        """Level curves ``(level, passes_through_x, points (N, 2))`` covering ``window``."""
        (x0, x1), (y0, y1) = window
        R = 1.5 * math.hypot(x1 - x0, y1 - y0)
        far = math.hypot(*(self.x - np.clip(self.x, (x0, y0), (x1, y1))))   # x may lie off the window
        if np.all(np.isfinite(self.step)):
            far += float(np.hypot(*self.step))                             # the centre may lie far away
        R += far
        out = []
        for lv, through in self.levels(radii):
            y = level_curve(self.f, self.g, self.H, lv, R, n)
            out.append((lv, through, y + self.x if len(y) else y))
        return out

    def axes(self, window) -> list[tuple[Array, Array, float]]:
        r"""Eigen-axes to draw: ``(origin, half_axis_vector, λ)`` per eigenvalue.

        At the model's centre with the semi-axes of the level curve through x
        (:math:`\sqrt{|2(f-q_c)/\lambda_i|}`), or at x with a fixed length when the model is
        degenerate; lengths kept between 2 % and 60 % of the window's diagonal.
        """
        (x0, x1), (y0, y1) = window
        diag = math.hypot(x1 - x0, y1 - y0)
        lo, hi = 0.02 * diag, 0.6 * diag
        if not np.all(np.isfinite(self.eigvals)):
            return []
        centre = self.center if np.all(np.isfinite(self.center)) else self.x
        gap = abs(self.f - self.center_value) if np.isfinite(self.center_value) else 0.0
        out = []
        for i in range(2):
            lam = float(self.eigvals[i])
            if self.kind in ("minimum", "maximum", "saddle") and gap > 0:
                length = math.sqrt(2.0 * gap / abs(lam))
            else:
                length = 0.12 * diag
            out.append((np.array(centre, dtype=float), self.eigvecs[:, i] * min(max(length, lo), hi), lam))
        return out


def _tex_num(v, digits: int = 4) -> str:
    """A number as KaTeX: 4 significant digits, powers of ten written out."""
    v = float(v)
    if not np.isfinite(v):
        return r"\text{NaN}" if np.isnan(v) else (r"\infty" if v > 0 else r"-\infty")
    if v == 0:
        return "0"
    text = f"{v:.{digits}g}"
    if "e" in text:
        m, e = text.split("e")
        return rf"{m}\cdot 10^{{{int(e)}}}"
    return text


def tex_matrix(M, digits: int = 4) -> str:
    """A 2 × 2 matrix as a KaTeX ``pmatrix``."""
    M = np.asarray(M, dtype=float).reshape(2, 2)
    n = [[_tex_num(v, digits) for v in row] for row in M]
    return rf"\begin{{pmatrix}}{n[0][0]} & {n[0][1]}\\ {n[1][0]} & {n[1][1]}\end{{pmatrix}}"


def local_model(surface, x, *, damping: float = 0.0, min_curvature: float | None = None) -> LocalModel:
    r"""The quadratic model of ``surface`` at ``x`` (2,), with the engine's damping rule:
    :math:`\mu = \max(\text{damping}, \delta - \lambda_{\min}(H))` when ``min_curvature`` δ is set."""
    x = np.asarray(x, dtype=float).reshape(2)
    with np.errstate(all="ignore"):
        f = float(np.asarray(surface.value(x)))
        g = np.asarray(surface.grad(x), dtype=float).reshape(2)
        Ht = np.asarray(surface.hessian(x), dtype=float).reshape(2, 2)
    finite = np.all(np.isfinite(Ht)) and np.all(np.isfinite(g)) and np.isfinite(f)
    mu = float(damping)
    if min_curvature is not None and finite:
        mu = max(mu, float(min_curvature) - float(np.linalg.eigvalsh(Ht)[0]))
    H = Ht + mu * np.eye(2)
    nan2 = np.full(2, np.nan)
    if not finite:
        return LocalModel(x, f, g, Ht, mu, H, nan2.copy(), np.full((2, 2), np.nan), "undefined", nan2.copy(),
                          math.nan, nan2.copy())
    lam, V = np.linalg.eigh(0.5 * (H + H.T))
    kind, _ = _classify(lam)
    if kind == "degenerate":
        center, qc, step = nan2.copy(), math.nan, nan2.copy()
    else:
        step = -np.linalg.solve(H, g)
        center = x + step
        qc = f + 0.5 * float(g @ step)           # q(x + s) with H s = −g
    return LocalModel(x, f, g, Ht, mu, H, lam, V, kind, center, qc, step)


@dataclass
class RunSummary:
    """Where a 2-D run ended: iterations to the tolerance (−1: not reached), divergence step,
    last finite point, f there, and the type of that point (from the local model there)."""

    steps: int
    converged_at: int
    diverged_at: int
    final_x: Array
    final_f: float
    kind: str
    grad_norm: float


def summarize(surface, trajectory) -> RunSummary:
    """Summary of an unbatched :class:`~optlab.Trajectory` (record ``"path"`` or ``"full"``)."""
    xs = np.asarray(trajectory.xs, dtype=float)
    fin = np.flatnonzero(np.isfinite(xs).all(axis=1))
    last = xs[fin[-1]] if fin.size else np.full(2, np.nan)
    m = local_model(surface, last) if fin.size else None
    kind = m.kind if m is not None else "undefined"
    gn = float(np.hypot(*m.g)) if m is not None else math.nan
    return RunSummary(int(trajectory.steps), int(trajectory.converged_at), int(trajectory.diverged_at), last,
                      float(m.f) if m is not None else math.nan, kind, gn)


# ----------------------------------------------------------------------------------------------
# Armijo backtracking, step by step
# ----------------------------------------------------------------------------------------------
@dataclass
class LineSearchTrace:
    r"""Every step length :math:`s_j = s_0\beta^j` the Armijo backtracking tried along ``d`` from ``x``.

    ``values[j] = f(x + s_j d)``, ``bounds[j] = f(x) + c_1 s_j\, g^\top d`` (the sufficient-decrease
    line); ``accepted`` is the index of the accepted try (−1: none, the step is then 0, as in the
    engine); ``curve_s, curve_f`` sample :math:`\varphi(s) = f(x + s d)` for a plot.
    """

    x: Array
    d: Array
    f0: float
    slope: float
    lr: float
    c1: float
    shrink: float
    steps: Array
    values: Array
    bounds: Array
    accepted: int
    step: float
    curve_s: Array
    curve_f: Array

    @property
    def descent(self) -> bool:
        return bool(self.slope < 0)

    @property
    def n_backtracks(self) -> int:
        """Shrinks before the accepted try (the engine's ``n_backtracks``)."""
        return int(self.accepted) if self.accepted >= 0 else len(self.steps)


def line_search_trace(surface, x, d, lr: float = 1.0, c1: float = 1e-4, shrink: float = 0.5,
                      max_backtracks: int = 30, *, n_curve: int = 80) -> LineSearchTrace:
    r"""Replay :func:`optlab.optimizers.second_order.backtrack` for one run, keeping every try.

    Accept the first :math:`s = s_0\beta^j` (j = 0 … max_backtracks) with a finite
    :math:`f(x + s d) \le f(x) + c_1 s\, g^\top d` (plus f's rounding where :math:`|g^\top d|` is below
    it, as the engine does); if none qualifies the step is 0.
    """
    x = np.asarray(x, dtype=float).reshape(1, -1)
    d = np.asarray(d, dtype=float).reshape(1, -1)
    with np.errstate(all="ignore"):
        f0 = float(np.asarray(surface.value(x)).reshape(-1)[0])
        g = np.asarray(surface.grad(x), dtype=float).reshape(1, -1)
        slope = float(np.einsum("bi,bi->b", g, d)[0])   # the engine's gᵀd, same summation
        slack = float(optimizers.second_order.rounding_slack(slope, f0))
        s = float(lr)
        steps, values, bounds = [], [], []
        accepted = -1
        for j in range(int(max_backtracks) + 1):
            f_new = float(np.asarray(surface.value(x + s * d)).reshape(-1)[0])
            bound = f0 + c1 * s * slope
            if slack:
                bound = bound + slack
            steps.append(s); values.append(f_new); bounds.append(bound)
            if np.isfinite(f_new) and f_new <= bound:
                accepted = j
                break
            s *= shrink
        smax = max(float(lr), 1e-12) * 1.08
        cs = np.linspace(0.0, smax, int(n_curve))
        cf = np.asarray(surface.value(x + cs[:, None] * d), dtype=float).reshape(-1)
    return LineSearchTrace(x[0], d[0], f0, slope, float(lr), float(c1), float(shrink), np.array(steps),
                           np.array(values), np.array(bounds), accepted,
                           float(steps[accepted]) if accepted >= 0 else 0.0, cs, cf)


# ----------------------------------------------------------------------------------------------
# What it costs
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CostRow:
    r"""Work of one iteration in n dimensions: ``parts`` as ``(what, flops, latex)``, their ``total``,
    the floats kept in memory, and the LaTeX of the total."""

    name: str
    title: str
    parts: tuple[tuple[str, float, str], ...]
    total: float
    memory: float
    latex: str
    memory_latex: str


def cost_table(n: float) -> list[CostRow]:
    r"""Floating-point operations per iteration in ``n`` dimensions (leading terms).

    Unit: one gradient costs ~n flops (reverse-mode differentiation costs a small constant times
    f itself; that constant is taken as 1 for all three methods alike).

    * gradient descent: gradient n, update :math:`\theta - \gamma g` 2n;
    * Newton: gradient n, Hessian n² (n² entries), Cholesky factorisation n³/3, two triangular
      solves 2n², update 2n;
    * BFGS: gradient n, direction :math:`-B g` 2n², rank-two update of the n × n estimate 6n²
      (:math:`B y` 2n², two outer products 4n²), update 2n.
    """
    n = float(n)
    if not np.isfinite(n) or n < 1:
        raise ValueError(f"n must be a number ≥ 1; got {n!r}")
    rows = [
        ("sgd", "Gradient descent", (("gradient", n, "n"), ("update", 2 * n, "2n")), 2 * n, "3n", "2n"),
        ("newton", "Newton", (("gradient", n, "n"), ("Hessian", n * n, "n^2"),
                              ("Cholesky factorisation", n ** 3 / 3, r"\tfrac13 n^3"),
                              ("two triangular solves", 2 * n * n, "2n^2"), ("update", 2 * n, "2n")),
         n * n + 3 * n, r"\tfrac13 n^3 + 3n^2 + 3n", "n^2 + 3n"),
        ("bfgs", "BFGS", (("gradient", n, "n"), ("direction −B·g", 2 * n * n, "2n^2"),
                          ("rank-two update of B", 6 * n * n, "6n^2"), ("update", 2 * n, "2n")),
         n * n + 5 * n, "8n^2 + 3n", "n^2 + 5n"),
    ]
    return [CostRow(name, title, parts, float(sum(p[1] for p in parts)), float(mem), latex, mem_latex)
            for name, title, parts, mem, latex, mem_latex in rows]


def cost_totals(ns) -> dict[str, Array]:
    """Flops per iteration for each method over an array of dimensions ``ns`` (for a plot)."""
    ns = np.asarray(ns, dtype=float)
    return {"sgd": 3 * ns, "newton": ns ** 3 / 3 + 3 * ns ** 2 + 3 * ns, "bfgs": 8 * ns ** 2 + 3 * ns}


@dataclass
class GDReference:
    """Gradient descent with the best learning rate of a grid: iterations to ‖∇f‖ ≤ tol per lr
    (−1: not reached by the time the fastest one had, or within ``steps``)."""

    lrs: Array
    converged_at: Array
    diverged_at: Array
    final_loss: Array
    best_lr: float
    best_steps: int          # −1: no learning rate of the grid reached the tolerance
    steps: int
    tol: float


def best_gd(surface, x0, steps: int = 5000, tol: float = 1e-8, lrs=None, *, first_chunk: int = 64) -> GDReference:
    r"""Plain gradient descent (``sgd``) for every learning rate of ``lrs`` (default 10⁻⁵ … 10, 10
    per decade), batched; the best one reaches ‖∇f‖ ≤ ``tol`` in the fewest steps (if none does
    within ``steps``: the lowest final loss that did not diverge).

    SGD without momentum has no state, so the batch is advanced in chunks (64, 128, 256 … steps)
    and stops as soon as one learning rate has converged: no other can beat it any more.  Runs
    still going then keep ``converged_at = −1``.
    """
    lrs = np.logspace(-5, 1, 61) if lrs is None else np.asarray(lrs, dtype=float).reshape(-1)
    x0 = np.asarray(x0, dtype=float).reshape(-1)
    B = len(lrs)
    conv = np.full(B, -1)
    div = np.full(B, -1)
    fl = np.full(B, np.nan)
    x = np.array(np.broadcast_to(x0, (B, x0.size)))
    alive = np.arange(B)
    done, chunk = 0, int(first_chunk)
    while alive.size and done < int(steps):
        n = min(chunk, int(steps) - done)
        tr = run(surface, optimizers.make("sgd", lr=lrs[alive]), x[alive], n, tol=tol, record="summary")
        c = np.asarray(tr.converged_at, dtype=int)
        d = np.asarray(tr.diverged_at, dtype=int)
        fl[alive] = np.asarray(tr.final_loss, dtype=float)
        # step 0 of a chunk is the last step of the previous one (already checked there)
        conv[alive[c >= 0]] = done + c[c >= 0]
        div[alive[d >= 0]] = done + d[d >= 0]
        x[alive] = np.asarray(tr.final_x, dtype=float)
        done += n
        if (c >= 0).any():
            break
        alive = alive[(d < 0)]
        chunk *= 2
    ok = (conv >= 0) & (div < 0)
    if ok.any():
        i = int(np.flatnonzero(ok)[np.argmin(conv[ok])])
        best_steps = int(conv[i])
    else:
        good = (div < 0) & np.isfinite(fl)
        i = int(np.flatnonzero(good)[np.argmin(fl[good])]) if good.any() else 0
        best_steps = -1
    return GDReference(lrs, conv, div, fl, float(lrs[i]), best_steps, int(steps), float(tol))


def bfgs_estimates(surface, xs, inv_hessians) -> tuple[Array, Array, Array]:
    r"""BFGS's Hessian estimate :math:`B_k^{-1}` (from its inverse-Hessian state) beside the true
    Hessian at the point where it was used, and the relative error
    :math:`\|B_k - \nabla^2 f(x_k)\|_F / \|\nabla^2 f(x_k)\|_F`.

    ``inv_hessians[k]`` is the state recorded after step k + 1: the estimate used at ``xs[k]``.
    """
    Hinv = np.asarray(inv_hessians, dtype=float)
    K = len(Hinv)
    P = np.asarray(xs, dtype=float)[:K]
    est = np.full_like(Hinv, np.nan)
    with np.errstate(all="ignore"):
        good = np.all(np.isfinite(Hinv.reshape(K, -1)), axis=1) & (np.abs(np.linalg.det(np.nan_to_num(Hinv))) > 0)
        if good.any():
            est[good] = np.linalg.inv(Hinv[good])
        true = np.asarray(surface.hessian(P), dtype=float)
        num = np.linalg.norm((est - true).reshape(K, -1), axis=1)
        den = np.linalg.norm(true.reshape(K, -1), axis=1)
        err = np.where(den > 0, num / den, np.nan)
    return est, true, err


# ----------------------------------------------------------------------------------------------
# The three Newton variants the page compares
# ----------------------------------------------------------------------------------------------
VARIANTS = {
    "pure": "Pure Newton",
    "damped": "Damped Newton (Armijo backtracking)",
    "lm": "Levenberg–Marquardt",
}


def newton_variant(variant: str, *, damping: float = 1.0, min_curvature: float | None = None,
                   line_search: bool = True) -> dict[str, Any]:
    """Hyperparameters of the engine's ``newton`` for a variant: ``"pure"`` (γ = 1, no line search),
    ``"damped"`` (Armijo backtracking), ``"lm"`` (solve (H + μI)d = −g with μ = ``damping``, raised
    to δ − λ_min when ``min_curvature`` δ is set; backtracking if ``line_search``)."""
    if variant not in VARIANTS:
        raise UnknownNameError("Newton variant", variant, VARIANTS)
    if variant == "pure":
        return {"lr": 1.0, "line_search": False}
    if variant == "damped":
        return {"lr": 1.0, "line_search": True}
    return {"lr": 1.0, "line_search": bool(line_search), "damping": float(damping),
            "min_curvature": None if min_curvature is None else float(min_curvature)}


__all__ = [
    "Function1D", "names_1d", "get_1d", "taylor_1d", "model_kind_1d", "Newton1D", "newton_1d",
    "convergence_ratios", "level_curve", "LocalModel", "local_model", "LineSearchTrace", "line_search_trace",
    "CostRow", "cost_table", "cost_totals", "GDReference", "best_gd", "bfgs_estimates", "VARIANTS",
    "newton_variant", "tex_matrix", "RunSummary", "summarize", "TAYLOR_1D_LATEX", "NEWTON_1D_LATEX", "MODEL_LATEX",
    "RATE_LATEX",
]


# ----------------------------------------------------------------------------------------------
# What the captions read off a run
# ----------------------------------------------------------------------------------------------
def suggested_start(surface) -> tuple[float, float]:
    """The first of the surface's suggested starts where f and ∇f are finite (a typed formula such
    as log(x) is undefined on part of its window); else the first such point of a coarse grid."""
    cands = [tuple(map(float, p)) for p in (surface.starts or ())]
    (x0, x1), (y0, y1) = surface.window
    grid = np.stack(np.meshgrid(np.linspace(x0, x1, 9)[1:-1], np.linspace(y0, y1, 9)[1:-1]), -1).reshape(-1, 2)
    cands += [tuple(map(float, p)) for p in grid]
    with np.errstate(all="ignore"):
        for p in cands:
            f, g = surface.value_and_grad(np.array([p]))
            if np.all(np.isfinite(f)) and np.all(np.isfinite(g)) and np.any(g != 0):
                return p
    return cands[0] if cands else (0.5 * (x0 + x1), 0.5 * (y0 + y1))


def defined_at(surface, p) -> bool:
    """Whether f and ∇f are finite at the point p."""
    with np.errstate(all="ignore"):
        f, g = surface.value_and_grad(np.asarray([p], dtype=float))
    return bool(np.all(np.isfinite(f)) and np.all(np.isfinite(g)))


def last_iterate(tr) -> int:
    """Index of the last meaningful iterate of an unbatched 2-D run (see :class:`Newton1D`)."""
    if tr.converged_at >= 0:
        return int(tr.converged_at)
    if tr.diverged_at >= 0:
        return max(int(tr.diverged_at) - 1, 0)
    return int(tr.steps)


def x_star_1d(fun: Function1D, res: Newton1D) -> float | None:
    """The point the 1-D run converges to: its last iterate if it converged, else the nearest known
    minimum within 0.5 (None after a divergence or far from any minimum)."""
    if res.diverged_at >= 0:
        return None
    x = float(res.xs[res.last])
    if res.converged_at >= 0:
        return x
    if fun.minima:
        m = min(fun.minima, key=lambda a: abs(a - x))
        if abs(m - x) < 0.5:
            return float(m)
    return None


@dataclass(frozen=True)
class RateReading:
    """How fast the errors of a 1-D run shrink, as read by :func:`read_rate`.

    ``kind``: ``"diverged"``, ``"far"`` (not near a known minimum), ``"too_few"`` (fewer than two
    ratios before round-off), ``"linear"`` (e_{k+1}/e_k steady: ``factor``) or ``"quadratic"``
    (``quadratic_ratios`` e_{k+1}/e_k² over the last steps); ``errors`` |x_k − x*| (the first 8),
    ``curvature`` f''(x*)."""

    kind: str
    x_star: float | None = None
    errors: tuple = ()
    factor: float = math.nan
    quadratic_ratios: tuple = ()
    curvature: float = math.nan


def read_rate(fun: Function1D, res: Newton1D) -> RateReading:
    """Linear or quadratic convergence, from the ratios e_{k+1}/e_k and e_{k+1}/e_k² of the run's
    errors before round-off takes over (e_k > 10⁻⁷): linear when the last three ratios e_{k+1}/e_k
    agree to 0.05 and stay above 0.05."""
    x_star = x_star_1d(fun, res)
    if x_star is None:
        return RateReading("diverged" if res.diverged_at >= 0 else "far")
    e, lin, quad = convergence_ratios(res.xs[: res.last + 1], x_star)
    errors = tuple(float(v) for v in e[: res.last + 1][:8])
    curvature = float(fun.d2f(np.array(x_star)))
    ok = np.isfinite(lin) & (e[:-1] > 1e-7)       # ratios before round-off takes over
    if ok.sum() < 2:
        return RateReading("too_few", x_star, errors, curvature=curvature)
    L, Q = lin[ok], quad[ok]
    tail = slice(-3, None)
    if np.ptp(L[tail]) < 0.05 and L[-1] > 0.05:
        return RateReading("linear", x_star, errors, factor=float(np.median(L[tail])), curvature=curvature)
    return RateReading("quadratic", x_star, errors, quadratic_ratios=tuple(float(v) for v in Q[-3:]),
                       curvature=curvature)
