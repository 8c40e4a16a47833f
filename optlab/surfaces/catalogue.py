r"""The built-in two-dimensional test surfaces, with analytic value, gradient and Hessian.

``get(name, **params)`` builds one from the registry; ``names()`` lists them, ``defaults(name)``
gives a surface's keyword parameters and ``info_table()`` one summary row per surface.

Derivatives are written by hand (no autodiff, no SymPy at run time) and checked against finite
differences in ``tests/test_surfaces.py``. ``minima`` lists every known minimum inside the plotting
window, global ones first (``n_global`` of them); ``saddles`` the known saddle points. Where a
surface has a lattice of critical points (Rastrigin, Ackley, Styblinski–Tang) or parameters that
move them (cliff), they are computed when the surface is built, to machine precision, by bisection
(separable cases) or Newton's method from the lattice, never by sampling.
"""
from __future__ import annotations

import inspect
import math
from typing import Any, Callable

import numpy as np

from ..errors import OptlabError, UnknownNameError
from ..i18n import domain
from .base import Array, Surface

# Titles and descriptions are in the language active when a surface is built (a cache of surfaces
# that a page shows has the language in its key: optlab.ui.cache_resource).
_, N_, ngettext = domain("optlab")


# ----------------------------------------------------------------------------------------------
# Registry
# ----------------------------------------------------------------------------------------------
_REGISTRY: dict[str, Callable[..., Surface]] = {}


def register(name: str):
    """Decorator: add a surface factory ``factory(**params) -> Surface`` under ``name``."""

    def deco(factory):
        _REGISTRY[name] = factory
        return factory

    return deco


def names() -> list[str]:
    """Registry keys of the built-in surfaces, in display order."""
    return list(_REGISTRY)


def get(name: str, **params) -> Surface:
    """Build the surface ``name`` with keyword ``params`` (e.g. ``get("quadratic", condition=25)``).

    Raises :class:`UnknownNameError` for an unknown surface or parameter name and a ``ValueError``
    naming the value for a parameter out of range.
    """
    if not isinstance(name, str) or name not in _REGISTRY:
        raise UnknownNameError("surface", name, _REGISTRY)
    allowed = defaults(name)
    for key in params:
        if key not in allowed:
            raise UnknownNameError(f"parameter of surface {name!r}", key, allowed)
    return _REGISTRY[name](**params)


def defaults(name: str) -> dict[str, Any]:
    """Keyword parameters of surface ``name`` with their default values (``{}`` if it has none)."""
    if not isinstance(name, str) or name not in _REGISTRY:
        raise UnknownNameError("surface", name, _REGISTRY)
    sig = inspect.signature(_REGISTRY[name])
    return {k: p.default for k, p in sig.parameters.items() if p.kind is p.POSITIONAL_OR_KEYWORD
            or p.kind is p.KEYWORD_ONLY}


def info_table() -> list[dict[str, Any]]:
    """One row per built-in surface with default parameters: name, title, convex, n_minima, n_saddles."""
    rows = []
    for name in names():
        s = get(name)
        rows.append({"name": name, "title": s.title, "convex": s.convex,
                     "n_minima": len(s.minima), "n_saddles": len(s.saddles)})
    return rows


# ----------------------------------------------------------------------------------------------
# Helpers for the catalogue: parameter checks and exact critical points
# ----------------------------------------------------------------------------------------------
def _number(name: str, value, lo: float | None = None, hi: float | None = None,
            lo_open: bool = True) -> float:
    """``float(value)`` if it is a finite number in (lo, hi] (or [lo, hi]); else a ValueError naming it."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = math.nan
    ok = math.isfinite(v) and (lo is None or (v > lo if lo_open else v >= lo)) and (hi is None or v <= hi)
    if not ok:
        if lo is None and hi is None:
            rule = "a finite number"
        elif hi is None:
            rule = f"a number {'>' if lo_open else '≥'} {lo:g}"
        else:
            rule = f"a number in {'(' if lo_open else '['}{lo:g}, {hi:g}]"
        raise OptlabError(f"{name} must be {rule}; got {value!r}")
    return v


def _roots_1d(g: Callable[[Array], Array], lo: float, hi: float, n: int = 4001) -> Array:
    """Every root of ``g`` on [lo, hi] where it changes sign between ``n`` samples, to machine precision.

    Bisection (not Newton) so that a root is never lost to a jump into a neighbouring basin.
    """
    x = np.linspace(lo, hi, n)
    v = g(x)
    exact = x[v == 0]
    i = np.flatnonzero(np.sign(v[:-1]) * np.sign(v[1:]) < 0)
    a, b, ga = x[i], x[i + 1], v[i]
    for _ in range(80):  # the bracket halves each time: 80 halvings reach adjacent floats
        m = 0.5 * (a + b)
        gm = g(m)
        same = np.sign(gm) == np.sign(ga)
        a, ga, b = np.where(same, m, a), np.where(same, gm, ga), np.where(same, b, m)
    r = np.where(np.abs(g(a)) <= np.abs(g(b)), a, b)
    return np.sort(np.concatenate([exact, r]))


def _product(u: Array, v: Array) -> Array:
    """All points (uᵢ, vⱼ) as a (len(u)·len(v), 2) array."""
    U, V = np.meshgrid(u, v, indexing="ij")
    return np.stack([U.ravel(), V.ravel()], axis=-1)


def _separable_critical(dF, d2F, lo: float, hi: float) -> tuple[Array, Array]:
    """Minima and saddles of f = F(x) + F(y) on [lo, hi]²: products of F's 1-D minima and maxima."""
    r = _roots_1d(dF, lo, hi)
    curv = d2F(r)
    mins, maxs = r[curv > 0], r[curv < 0]
    return _product(mins, mins), np.concatenate([_product(mins, maxs), _product(maxs, mins)])


def _newton_critical(df, d2f, seeds: Array, window, iters: int = 50) -> tuple[Array, Array]:
    """Minima and saddles reached by Newton's method on ∇f = 0 from ``seeds`` (k, 2), inside ``window``.

    Only points where the gradient vanishes to rounding error are kept; duplicates are merged.
    """
    x, y = np.array(seeds[:, 0], dtype=float), np.array(seeds[:, 1], dtype=float)
    with np.errstate(all="ignore"):
        for _ in range(iters):
            gx, gy = df(x, y)
            a, b, d = d2f(x, y)
            det = a * d - b * b
            x, y = x - (d * gx - b * gy) / det, y - (a * gy - b * gx) / det
        gx, gy = df(x, y)
        a, b, d = d2f(x, y)
    (x0, x1), (y0, y1) = window
    scale = 1.0 + np.abs(a) + np.abs(b) + np.abs(d)
    ok = (np.isfinite(x) & np.isfinite(y) & (np.hypot(gx, gy) <= 1e-11 * scale)
          & (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))
    pts, a, b, d = np.stack([x[ok], y[ok]], -1), a[ok], b[ok], d[ok]
    _, first = np.unique(np.round(pts, 7), axis=0, return_index=True)
    first = np.sort(first)
    pts, a, b, d = pts[first], a[first], b[first], d[first]
    det, tr = a * d - b * b, a + d
    return pts[(det > 0) & (tr > 0)], pts[det < 0]


def _global_first(f, pts: Array, rtol: float = 1e-9) -> tuple[Array, float, int]:
    """``pts`` sorted by value, the lowest value and how many points attain it (to ``rtol``)."""
    v = f(pts[:, 0], pts[:, 1])
    order = np.argsort(v, kind="stable")
    pts, v = pts[order], v[order]
    vmin = float(v[0])
    return pts, vmin, int(np.sum(v <= vmin + rtol * (1.0 + abs(vmin))))


# ----------------------------------------------------------------------------------------------
# Built-in surfaces
# ----------------------------------------------------------------------------------------------
def _rosenbrock_fg(a, b):
    """Value and gradient sharing a − x and y − x², rounded exactly like ``f`` and ``df``."""
    def fg(x, y):
        ax = a - x
        r = y - x * x
        return ax * ax + b * (r * r), -2 * ax - 4 * b * x * r, 2 * b * r
    return fg


def _rosenbrock_fg_into(a, b):
    """``_rosenbrock_fg`` writing into the caller's rows (same rounding, no allocation)."""
    a_, b_, m2, b4, b2 = (np.array(float(v)) for v in (a, b, -2, 4 * b, 2 * b))
    sub, mul, add = np.subtract, np.multiply, np.add

    def fg_into(x, y, f, gx, gy, w):
        sub(a_, x, gx)  # a − x
        mul(x, x, w)
        sub(y, w, w)  # r = y − x²
        mul(gx, gx, f)
        mul(w, w, gy)  # gy is scratch until its turn
        mul(b_, gy, gy)
        add(f, gy, f)
        mul(m2, gx, gx)
        mul(b4, x, gy)
        mul(gy, w, gy)
        sub(gx, gy, gx)
        mul(b2, w, gy)

    return fg_into


def _quadratic_fg_into(a, b, d):
    """½(a x² + 2b xy + d y²) and (a x + b y, b x + d y), rounded as the lambdas below."""
    a_, b2_, b_, d_, half = (np.array(float(v)) for v in (a, 2 * b, b, d, 0.5))
    mul, add = np.multiply, np.add

    def fg_into(x, y, f, gx, gy, w):
        mul(a_, x, w)
        mul(w, x, f)
        mul(b2_, x, gy)
        mul(gy, y, gy)
        add(f, gy, f)
        mul(d_, y, gy)
        mul(gy, y, gy)
        add(f, gy, f)
        mul(half, f, f)
        mul(b_, y, gx)
        add(w, gx, gx)
        mul(d_, y, w)
        mul(b_, x, gy)
        add(gy, w, gy)

    return fg_into


@register("quadratic")
def quadratic(condition: float = 10.0, angle: float = 0.0) -> Surface:
    r"""½(λ₁u² + λ₂v²) with λ₁ = 1, λ₂ = ``condition``, in axes (u, v) rotated by ``angle`` degrees.

    ``get("quadratic", condition=25)`` is ½(x² + 25y²): the Hessian is A = RᵀΛR, constant.
    """
    condition = float(condition)
    if not np.isfinite(condition) or condition <= 0:
        raise ValueError(f"condition must be a positive number; got {condition!r}")
    angle = _number("angle", angle)
    th = np.deg2rad(angle)
    c, s = np.cos(th), np.sin(th)
    l1, l2 = 1.0, condition
    # A = Rᵀ diag(l1, l2) R with u = c x + s y, v = -s x + c y
    a = l1 * c * c + l2 * s * s
    b = (l1 - l2) * c * s
    d = l1 * s * s + l2 * c * c
    r = 3.0
    return Surface(
        name="quadratic",
        title=_("Quadratic bowl (κ = {condition:g})").format(condition=condition),
        latex=(r"f(x,y)=\tfrac12\left(u^2+\kappa\,v^2\right),\quad "
               r"\begin{pmatrix}u\\v\end{pmatrix}=R_{\theta}\begin{pmatrix}x\\y\end{pmatrix},"
               rf"\ \kappa={condition:g},\ \theta={float(angle):g}^\circ"),
        f=lambda x, y: 0.5 * (a * x * x + 2 * b * x * y + d * y * y),
        df=lambda x, y: (a * x + b * y, b * x + d * y),
        fg_into=_quadratic_fg_into(a, b, d),
        d2f=lambda x, y: (a + 0 * x, b + 0 * x, d + 0 * x),
        window=((-r, r), (-r, r)),
        minima=[(0.0, 0.0)],
        min_value=0.0,
        starts=((-2.5, 1.5), (2.5, 2.0), (-1.0, -2.5)),
        convex=True,
        params={"condition": condition, "angle": float(angle)},
        description=_("A convex bowl whose condition number κ sets how elongated it is."),
    )


@register("rosenbrock")
def rosenbrock(a: float = 1.0, b: float = 100.0) -> Surface:
    r"""Rosenbrock's banana: (a − x)² + b(y − x²)², minimum at (a, a²)."""
    a, b = _number("a", a, lo=-10.0, hi=10.0, lo_open=False), _number("b", b, lo=0.0, hi=1e6)
    return Surface(
        name="rosenbrock",
        title=_("Rosenbrock"),
        latex=rf"f(x,y)=({a:g}-x)^2+{b:g}\,(y-x^2)^2",
        f=lambda x, y: (a - x) ** 2 + b * (y - x * x) ** 2,
        df=lambda x, y: (-2 * (a - x) - 4 * b * x * (y - x * x), 2 * b * (y - x * x)),
        fg=_rosenbrock_fg(a, b),
        fg_into=_rosenbrock_fg_into(a, b),
        d2f=lambda x, y: (2 - 4 * b * (y - x * x) + 8 * b * x * x, -4 * b * x, 2 * b + 0 * x),
        # the default window, widened only if another ``a`` moves the minimum out of it
        window=((min(-2.0, a - 1.0), max(2.0, a + 1.0)), (min(-1.0, a * a - 1.0), max(3.0, a * a + 1.0))),
        minima=[(a, a * a)],
        min_value=0.0,
        starts=((-1.5, 2.0), (-1.0, 1.0), (0.0, 2.5)),
        convex=False,
        params={"a": a, "b": b},
        description=_("A curved, flat-bottomed valley: easy to find, slow to follow to its end."),
        log_scale=True,
    )


@register("beale")
def beale() -> Surface:
    r"""Beale: Σᵢ (cᵢ − x + x yⁱ)² with (c₁, c₂, c₃) = (1.5, 2.25, 2.625); minimum 0 at (3, 0.5).

    With tᵢ = cᵢ − x + x yⁱ: ∂ₓtᵢ = yⁱ − 1, ∂ᵧtᵢ = i x yⁱ⁻¹, and f is quadratic in x (∂ₓₓtᵢ = 0).
    """
    cs = (1.5, 2.25, 2.625)

    def terms(x, y):
        # (tᵢ, ∂ₓtᵢ, ∂ᵧtᵢ, ∂ₓᵧtᵢ, ∂ᵧᵧtᵢ) for i = 1, 2, 3
        y2 = y * y
        yi = (y, y2, y2 * y)
        dyi = (1.0 + 0 * y, 2 * y, 3 * y2)
        d2yi = (0 * y, 2.0 + 0 * y, 6 * y)
        return [(c - x + x * p, p - 1, x * dp, dp, x * d2p) for c, p, dp, d2p in zip(cs, yi, dyi, d2yi)]

    def f(x, y):
        return sum(t * t for t, *_ in terms(x, y))

    def df(x, y):
        T = terms(x, y)
        return 2 * sum(t * tx for t, tx, *_ in T), 2 * sum(t * ty for t, _, ty, *_ in T)

    def d2f(x, y):
        T = terms(x, y)
        return (2 * sum(tx * tx for _, tx, *_ in T),
                2 * sum(tx * ty + t * txy for t, tx, ty, txy, _ in T),
                2 * sum(ty * ty + t * tyy for t, _, ty, _, tyy in T))

    return Surface(
        name="beale",
        title=_("Beale"),
        latex=r"f(x,y)=(1.5-x+xy)^2+(2.25-x+xy^2)^2+(2.625-x+xy^3)^2",
        f=f, df=df, d2f=d2f,
        window=((-4.5, 4.5), (-4.5, 4.5)),
        minima=[(3.0, 0.5)],
        min_value=0.0,
        # computed once by Newton's method from a 150×150 grid of seeds (gradient < 1e-13 there)
        saddles=[(0.0, 1.0), (0.10053793732415843, -2.644513585023124)],
        starts=((1.0, 1.5), (-2.0, 2.0), (2.0, -1.5)),
        convex=False,
        description=_("Flat plateaus and steep walls that grow like y³: step sizes that suit one region "
                    "explode in another."),
        log_scale=True,
    )


@register("himmelblau")
def himmelblau() -> Surface:
    r"""Himmelblau: (x² + y − 11)² + (x + y² − 7)²; four global minima with f = 0."""
    def f(x, y):
        u, v = x * x + y - 11, x + y * y - 7
        return u * u + v * v

    def df(x, y):
        u, v = x * x + y - 11, x + y * y - 7
        return 4 * x * u + 2 * v, 2 * u + 4 * y * v

    def d2f(x, y):
        u, v = x * x + y - 11, x + y * y - 7
        return 4 * u + 8 * x * x + 2, 4 * (x + y), 4 * v + 8 * y * y + 2

    return Surface(
        name="himmelblau",
        title=_("Himmelblau"),
        latex=r"f(x,y)=(x^2+y-11)^2+(x+y^2-7)^2",
        f=f, df=df, d2f=d2f,
        window=((-5.0, 5.0), (-5.0, 5.0)),
        # (3, 2) is exact; the others are roots of a quartic, refined by Newton to the last digit
        minima=[(3.0, 2.0), (-2.805118086952745, 3.131312518250573),
                (-3.779310253377747, -3.2831859912861696), (3.5844283403304917, -1.8481265269644036)],
        min_value=0.0,
        n_global=4,
        saddles=[(3.385154183607021, 0.07385187983774928), (0.08667750455539634, 2.884254701174776),
                 (-3.0730257507643897, -0.08135304428796751), (-0.12796134673068005, -1.9537149802445766)],
        starts=((0.0, 0.0), (-1.0, 0.0), (-0.5, -1.5), (0.5, -2.0)),
        convex=False,
        description=_("Four equally good minima around one hill: which one you reach depends on where "
                    "you start."),
    )


@register("booth")
def booth() -> Surface:
    r"""Booth: (x + 2y − 7)² + (2x + y − 5)²; convex quadratic, minimum 0 at (1, 3).

    Its Hessian is the constant [[10, 8], [8, 10]] (eigenvalues 2 and 18).
    """
    def f(x, y):
        u, v = x + 2 * y - 7, 2 * x + y - 5
        return u * u + v * v

    def df(x, y):
        u, v = x + 2 * y - 7, 2 * x + y - 5
        return 2 * u + 4 * v, 4 * u + 2 * v

    return Surface(
        name="booth",
        title=_("Booth"),
        latex=r"f(x,y)=(x+2y-7)^2+(2x+y-5)^2",
        f=f, df=df, d2f=lambda x, y: (10.0 + 0 * x, 8.0 + 0 * x, 10.0 + 0 * x),
        window=((-4.0, 6.0), (-2.0, 8.0)),
        minima=[(1.0, 3.0)],
        min_value=0.0,
        starts=((-3.0, -1.0), (5.0, 7.5), (-3.5, 6.0)),
        convex=True,
        description=_("A tilted convex bowl (Hessian eigenvalues 2 and 18): one minimum, a long "
                    "diagonal valley."),
    )


@register("saddle")
def saddle() -> Surface:
    r"""Saddle x² − y²: a saddle point at the origin and no minimum (f → −∞ along y)."""
    return Surface(
        name="saddle",
        title=_("Saddle"),
        latex=r"f(x,y)=x^2-y^2",
        f=lambda x, y: x * x - y * y,
        df=lambda x, y: (2 * x, -2 * y),
        d2f=lambda x, y: (2.0 + 0 * x, 0.0 * x, -2.0 + 0 * x),
        window=((-2.0, 2.0), (-2.0, 2.0)),
        minima=np.zeros((0, 2)),
        min_value=None,
        saddles=[(0.0, 0.0)],
        # exactly on the x-axis gradient descent walks into the saddle and stays; a hair off it escapes
        starts=((-1.8, 0.01), (-1.8, 0.0), (1.5, 1.2)),
        convex=False,
        description=_("Downhill along y, uphill along x: gradient descent slows down near the saddle "
                    "before it escapes, and there is no minimum to find."),
    )


@register("monkey_saddle")
def monkey_saddle() -> Surface:
    r"""Monkey saddle x³ − 3xy² = r³cos 3θ: three valleys meet at a degenerate saddle (zero Hessian) at 0."""
    return Surface(
        name="monkey_saddle",
        title=_("Monkey saddle"),
        latex=r"f(x,y)=x^3-3xy^2",
        f=lambda x, y: x * x * x - 3 * x * y * y,
        df=lambda x, y: (3 * (x * x - y * y), -6 * x * y),
        d2f=lambda x, y: (6 * x, -6 * y, -6 * x),
        window=((-2.0, 2.0), (-2.0, 2.0)),
        minima=np.zeros((0, 2)),
        min_value=None,
        saddles=[(0.0, 0.0)],
        starts=((1.5, 0.0), (1.5, 0.3), (-0.5, 1.5)),
        convex=False,
        description=_("Three valleys meet at a flat point whose Hessian is zero: second-order methods "
                    "see nothing there."),
    )


@register("rastrigin")
def rastrigin(A: float = 10.0) -> Surface:
    r"""Rastrigin: 2A + Σ (xᵢ² − A cos 2πxᵢ); global minimum 0 at the origin, a lattice of local minima.

    Separable, f = F(x) + F(y) + const, so its critical points are products of the roots of
    F'(x) = 2x + 2πA sin 2πx (computed by bisection when built; all of those inside the window).
    """
    A = _number("A", A, lo=0.0, hi=100.0, lo_open=False)
    two_pi = 2 * np.pi

    def f(x, y):
        return 2 * A + x * x + y * y - A * (np.cos(two_pi * x) + np.cos(two_pi * y))

    def df(x, y):
        return 2 * x + two_pi * A * np.sin(two_pi * x), 2 * y + two_pi * A * np.sin(two_pi * y)

    def d2f(x, y):
        k = two_pi * two_pi * A
        return 2 + k * np.cos(two_pi * x), 0.0 * x, 2 + k * np.cos(two_pi * y)

    r = 5.12
    minima, saddles = _separable_critical(lambda t: df(t, t)[0], lambda t: d2f(t, t)[0], -r, r)
    minima, min_value, n_global = _global_first(f, minima)
    return Surface(
        name="rastrigin",
        title=_("Rastrigin"),
        latex=rf"f(x,y)={2 * A:g}+x^2+y^2-{A:g}\,\left(\cos 2\pi x+\cos 2\pi y\right)",
        f=f, df=df, d2f=d2f,
        window=((-r, r), (-r, r)),
        minima=minima,
        min_value=min_value,
        n_global=n_global,
        saddles=saddles,
        starts=((4.3, 3.1), (-2.6, 4.4), (-1.4, -0.6)),
        convex=A == 0.0,
        params={"A": A},
        description=_("An egg-crate of local minima on a bowl: gradient descent stops in the nearest "
                    "dimple; momentum or noise can hop over the bumps."),
    )


@register("ackley")
def ackley(a: float = 20.0, b: float = 0.2, c: float = 2 * np.pi) -> Surface:
    r"""Ackley: −a·exp(−b·ρ) − exp(½(cos cx + cos cy)) + a + e, with ρ = √(½(x² + y²)).

    The first term is a cone at the origin: f is not differentiable there. ``grad`` returns 0 at the
    origin (a valid subgradient, since the origin is the global minimum) and ``hessian`` drops the
    cone's term there (it grows like 1/r nearby); both are finite everywhere. Local minima and
    saddles are found by Newton's method from the lattice of period 2π/c when the surface is built.
    """
    a = _number("a", a, lo=0.0, hi=1e3)
    b = _number("b", b, lo=0.0, hi=10.0)
    c = _number("c", c, lo=0.0, hi=10 * np.pi)
    sqrt2 = math.sqrt(2.0)

    def cone(x, y):
        # ρ = r/√2, so ∂ρ/∂x = nₓ/√2 and ∂²ρ/∂x² = n_y²/(√2 r) with n = (x, y)/r
        r = np.hypot(x, y)
        rs = np.where(r > 0, r, 1.0)
        nx, ny = np.where(r > 0, x / rs, 0.0), np.where(r > 0, y / rs, 0.0)
        e = np.exp(-b * r / sqrt2)
        inv_r = np.where(r > 0, 1.0 / np.maximum(r, 1e-300), 0.0)
        return e, nx, ny, inv_r

    def f(x, y):
        # written as a·(1 − e^{−bρ}) + e·(1 − e^{½(cos+cos) − 1}) so that f(0, 0) is exactly 0
        rho = np.hypot(x, y) / sqrt2
        return -a * np.expm1(-b * rho) - np.e * np.expm1(0.5 * (np.cos(c * x) + np.cos(c * y)) - 1.0)

    def df(x, y):
        e, nx, ny, _ = cone(x, y)
        E = np.exp(0.5 * (np.cos(c * x) + np.cos(c * y)))
        g1 = a * b * e / sqrt2
        return g1 * nx + 0.5 * c * E * np.sin(c * x), g1 * ny + 0.5 * c * E * np.sin(c * y)

    def d2f(x, y):
        e, nx, ny, inv_r = cone(x, y)
        g1, g2 = a * b * e, -a * b * b * e       # dg/dρ and d²g/dρ² of g(ρ) = −a e^{−bρ}
        k = g1 / sqrt2 * inv_r
        sx, sy, cx, cy = np.sin(c * x), np.sin(c * y), np.cos(c * x), np.cos(c * y)
        E = np.exp(0.5 * (cx + cy))
        q = 0.5 * c * c * E
        hxx = 0.5 * g2 * nx * nx + k * ny * ny + q * (cx - 0.5 * sx * sx)
        hxy = 0.5 * g2 * nx * ny - k * nx * ny - 0.5 * q * sx * sy
        hyy = 0.5 * g2 * ny * ny + k * nx * nx + q * (cy - 0.5 * sy * sy)
        return hxx, hxy, hyy

    w = 5.0
    window = ((-w, w), (-w, w))
    P = 2 * np.pi / c
    k = np.arange(-np.floor(w / P), np.floor(w / P) + 1) * P
    h = np.arange(-np.floor(w / P + 0.5), np.floor(w / P - 0.5) + 1) * P + 0.5 * P
    seeds = np.concatenate([_product(k, k), _product(k, h), _product(h, k)])
    seeds = seeds[np.hypot(seeds[:, 0], seeds[:, 1]) > 1e-9]
    mins, saddles = _newton_critical(df, d2f, seeds, window)
    mins = mins[np.hypot(mins[:, 0], mins[:, 1]) > 1e-6]
    saddles = saddles[np.hypot(saddles[:, 0], saddles[:, 1]) > 1e-6]
    mins, _fmin, _n_global = _global_first(f, mins) if len(mins) else (mins, 0.0, 0)
    c_tex = r"2\pi" if c == 2 * np.pi else f"{c:g}"
    return Surface(
        name="ackley",
        title=_("Ackley"),
        latex=(rf"f(x,y)=-{a:g}\,\exp\!\left(-{b:g}\sqrt{{\tfrac12(x^2+y^2)}}\right)"
               rf"-\exp\!\left(\tfrac12\left(\cos {c_tex}x+\cos {c_tex}y\right)\right)+e+{a:g}"),
        f=f, df=df, d2f=d2f,
        window=window,
        minima=np.concatenate([[(0.0, 0.0)], mins]),
        min_value=0.0,
        saddles=saddles,
        starts=((-4.2, 3.8), (2.4, -1.6), (0.9, 1.2)),
        convex=False,
        params={"a": a, "b": b, "c": c},
        description=_("A cone-shaped funnel to the origin covered in ripples: many shallow local "
                    "minima, one sharp global one."),
    )


@register("six_hump_camel")
def six_hump_camel() -> Surface:
    r"""Six-hump camel: (4 − 2.1x² + x⁴/3)x² + xy + (−4 + 4y²)y²; two global and four local minima."""
    def f(x, y):
        x2, y2 = x * x, y * y
        return (4 - 2.1 * x2 + x2 * x2 / 3) * x2 + x * y + (-4 + 4 * y2) * y2

    def df(x, y):
        x2 = x * x
        return x * (8 - 8.4 * x2 + 2 * x2 * x2) + y, x + y * (-8 + 16 * y * y)

    def d2f(x, y):
        x2 = x * x
        return 8 - 25.2 * x2 + 10 * x2 * x2, 1.0 + 0 * x, -8 + 48 * y * y

    # all critical points, computed once by Newton's method from a dense grid over [-3, 3] × [-2, 2]
    return Surface(
        name="six_hump_camel",
        title=_("Six-hump camel"),
        latex=r"f(x,y)=\left(4-2.1x^2+\tfrac{x^4}{3}\right)x^2+xy+\left(4y^2-4\right)y^2",
        f=f, df=df, d2f=d2f,
        window=((-2.2, 2.2), (-1.2, 1.2)),
        minima=[(0.08984201310031807, -0.7126564030207396), (-0.08984201310031807, 0.7126564030207396),
                (1.7036067149699807, -0.7960835686726251), (-1.7036067149699807, 0.7960835686726251),
                (1.6071047529201976, 0.5686514548841313), (-1.6071047529201976, -0.5686514548841313)],
        min_value=-1.0316284534898774,
        n_global=2,
        saddles=[(0.0, 0.0),
                 (1.1092053368047865, -0.7682680925095399), (-1.1092053368047865, 0.7682680925095399),
                 (1.6380679841897785, 0.22867406904439408), (-1.6380679841897785, -0.22867406904439408),
                 (1.2960702671671092, 0.6050843880386585), (-1.2960702671671092, -0.6050843880386585)],
        starts=((-1.9, -1.0), (0.6, 1.0), (1.9, 0.9)),
        convex=False,
        description=_("Six valleys (two of them equally deepest) separated by seven saddles: a small map "
                    "of a non-convex landscape."),
    )


@register("goldstein_price")
def goldstein_price() -> Surface:
    r"""Goldstein–Price; global minimum 3 at (0, −1). Values span 3 … 10⁶ on the window.

    In s = x + y and t = 2x − 3y it factorises as f = A(s)·B(t) with
    A = 3s⁴ − 8s³ − 6s² + 24s + 20 = 1 + (s+1)²(19 − 14s + 3s²) and
    B = 3t⁴ − 16t³ + 18t² + 30 = 30 + t²(18 − 16t + 3t²). Both are positive, so ∇f = 0 exactly when
    A'(s) = 12(s − 2)(s² − 1) = 0 and B'(t) = 12t(t − 1)(t − 3) = 0: nine critical points, all rational.
    """
    def AB(x, y):
        s, t = x + y, 2 * x - 3 * y
        A = (((3 * s - 8) * s - 6) * s + 24) * s + 20
        B = (((3 * t - 16) * t + 18) * t) * t + 30
        dA = ((12 * s - 24) * s - 12) * s + 24
        dB = ((12 * t - 48) * t + 36) * t
        d2A = (36 * s - 48) * s - 12
        d2B = (36 * t - 96) * t + 36
        return A, B, dA, dB, d2A, d2B

    def f(x, y):
        A, B, *_ = AB(x, y)
        return A * B

    def df(x, y):
        A, B, dA, dB, _, _ = AB(x, y)
        return dA * B + 2 * A * dB, dA * B - 3 * A * dB

    def d2f(x, y):
        A, B, dA, dB, d2A, d2B = AB(x, y)
        return (d2A * B + 4 * dA * dB + 4 * A * d2B,
                d2A * B - dA * dB - 6 * A * d2B,
                d2A * B - 6 * dA * dB + 9 * A * d2B)

    # (s, t) ∈ {−1, 2} × {0, 3} are minima, mixed pairs saddles; x = (3s + t)/5, y = (2s − t)/5
    return Surface(
        name="goldstein_price",
        title=_("Goldstein–Price"),
        latex=(r"\begin{aligned}f(x,y)=&\left[1+(x+y+1)^2\left(19-14x+3x^2-14y+6xy+3y^2\right)\right]\\"
               r"&\times\left[30+(2x-3y)^2\left(18-32x+12x^2+48y-36xy+27y^2\right)\right]\end{aligned}"),
        f=f, df=df, d2f=d2f,
        window=((-2.0, 2.0), (-2.0, 2.0)),
        minima=[(0.0, -1.0), (-0.6, -0.4), (1.8, 0.2), (1.2, 0.8)],
        min_value=3.0,
        saddles=[(-0.4, -0.6), (1.2, -0.2), (0.6, 0.4), (1.4, 0.6)],
        starts=((-1.5, 1.5), (1.0, 1.6), (0.6, -1.8)),
        convex=False,
        description=_("Values from 3 to about a million: without a log colour scale the landscape looks "
                    "flat, and fixed step sizes struggle."),
        log_scale=True,
    )


@register("styblinski_tang")
def styblinski_tang() -> Surface:
    r"""Styblinski–Tang: ½ Σ (xᵢ⁴ − 16xᵢ² + 5xᵢ); four minima, global −78.33… at x = y ≈ −2.9035.

    Separable: critical points are products of the three roots of F'(x) = 2x³ − 16x + 2.5.
    """
    def F(t):
        t2 = t * t
        return 0.5 * (t2 * t2 - 16 * t2 + 5 * t)

    def dF(t):
        return 2 * t * t * t - 16 * t + 2.5

    def d2F(t):
        return 6 * t * t - 16

    def f(x, y):
        return F(x) + F(y)

    minima, saddles = _separable_critical(dF, d2F, -5.0, 5.0)
    minima, min_value, n_global = _global_first(f, minima)
    return Surface(
        name="styblinski_tang",
        title=_("Styblinski–Tang"),
        latex=r"f(x,y)=\tfrac12\left(x^4-16x^2+5x+y^4-16y^2+5y\right)",
        f=f, df=lambda x, y: (dF(x), dF(y)), d2f=lambda x, y: (d2F(x), 0.0 * x, d2F(y)),
        window=((-5.0, 5.0), (-5.0, 5.0)),
        minima=minima,
        min_value=min_value,
        n_global=n_global,
        saddles=saddles,
        starts=((4.5, 4.0), (0.5, -4.5), (-4.5, 0.4)),
        convex=False,
        description=_("Four basins of different depths: the minimum you reach is local unless you start "
                    "in the lower-left one."),
    )


@register("matyas")
def matyas() -> Surface:
    r"""Matyas: 0.26(x² + y²) − 0.48xy; convex, minimum 0 at the origin, Hessian eigenvalues 0.04, 1."""
    return Surface(
        name="matyas",
        title=_("Matyas"),
        latex=r"f(x,y)=0.26\left(x^2+y^2\right)-0.48\,xy",
        f=lambda x, y: 0.26 * (x * x + y * y) - 0.48 * x * y,
        df=lambda x, y: (0.52 * x - 0.48 * y, 0.52 * y - 0.48 * x),
        d2f=lambda x, y: (0.52 + 0 * x, -0.48 + 0 * x, 0.52 + 0 * x),
        window=((-4.0, 4.0), (-4.0, 4.0)),
        minima=[(0.0, 0.0)],
        min_value=0.0,
        starts=((-3.5, 2.5), (3.0, 3.5), (3.5, -1.0)),
        convex=True,
        description=_("A convex bowl with condition number 25 along the diagonal: almost flat along "
                    "x = y, so plain gradient descent crawls."),
    )


@register("cliff")
def cliff(h: float = 3.0, s: float = 200.0) -> Surface:
    r"""A gentle bowl cut by a steep cliff: √(1 + x² + y²) − 1 + h·tanh(s(x − 1.5)).

    The wall at x = 1.5 drops by 2h over a width ≈ 1/s, so its slope reaches h·s (600 by default)
    while the bowl's slope never exceeds 1. The bowl grows linearly far away (slope → 1), so a point
    thrown far stays far for many steps, yet it is curved like ½(x² + y²) near its minimum.

    Intended demo (exploding gradients, gradient clipping), checked in ``tests/test_surfaces.py``:
    start at ``starts[0]`` = (1.5 + 1/s, 1), on the edge of the cliff where ‖∇f‖ ≈ 0.42·h·s.
    Plain gradient descent ``x ← x − lr·∇f`` with lr = 0.05 … 0.1 makes one step of lr·‖∇f‖ ≈ 12 … 25
    (more than the 6-wide window) and lands far beyond the minimum; the same loop with the gradient
    clipped to norm 1 steps over the wall (steps ≤ lr) and reaches the minimum (0, 0) within 100 steps.
    The other starts approach the cliff from the plateau: whether a step lands on the cliff face
    (and is thrown) or steps over it depends on lr — the lottery that makes exploding gradients erratic.

    The only critical point is the minimum, on y = 0 at the root of x/√(1 + x²) + h·s·sech²(s(x − 1.5))
    in x ≤ 0 (there the wall's slope falls and the bowl's rises as x → −∞, so the root is unique); it
    is found by bisection when the surface is built: the origin (to 1e-28) for the default steep wall,
    left of it for gentle, tall walls.
    """
    h = _number("h", h, lo=0.0, hi=1e3)
    s = _number("s", s, lo=0.1, hi=1e3, lo_open=False)
    c = 1.5

    def wall(x):
        # tanh and sech² written with e^{−2|z|} so that they neither overflow nor lose digits far
        # from the wall
        z = s * (x - c)
        e = np.exp(-2 * np.abs(z))
        return np.tanh(z), 4 * e / ((1 + e) * (1 + e))

    def f(x, y):
        t, _ = wall(x)
        return np.sqrt(1 + x * x + y * y) - 1 + h * t

    def df(x, y):
        _, sech2 = wall(x)
        B = np.sqrt(1 + x * x + y * y)
        return x / B + h * s * sech2, y / B

    def d2f(x, y):
        t, sech2 = wall(x)
        B = np.sqrt(1 + x * x + y * y)
        B3 = B * B * B
        return (1 + y * y) / B3 - 2 * h * s * s * t * sech2, -x * y / B3, (1 + x * x) / B3

    # roots only for x < 0 (both slopes are positive for x > 0); for x ≤ −1 the bowl's slope is at
    # least 1/√2, which the wall's tail 4hs·e^{−2s(c−x)} only matches within ln(4√2·hs)/(2s) of c
    lo = min(-1.0, c - max(0.0, math.log(4 * math.sqrt(2) * h * s)) / (2 * s)) - 0.5
    hi = 0.5
    n = int((hi - lo) / min(0.01, 0.05 / s)) + 2
    r = _roots_1d(lambda t: df(t, np.zeros_like(t))[0], lo, hi, n)
    pts = np.stack([r, np.zeros_like(r)], -1)
    minima, min_value, n_global = _global_first(f, pts)
    return Surface(
        name="cliff",
        title=_("Cliff"),
        latex=rf"f(x,y)=\sqrt{{1+x^2+y^2}}-1+{h:g}\,\tanh\!\big({s:g}\,(x-{c:g})\big)",
        f=f, df=df, d2f=d2f,
        # gentle, tall walls push the minimum left of the origin: keep it in view
        window=((min(-2.5, math.floor(minima[0, 0]) - 1.0), 3.5), (-2.5, 2.5)),
        minima=minima,
        min_value=min_value,
        n_global=n_global,
        starts=((c + 1.0 / s, 1.0), (3.0, 1.0), (2.5, -1.5)),
        convex=False,
        params={"h": h, "s": s},
        description=_("A gentle bowl cut by a steep cliff: one plain gradient step on the cliff face is "
                    "huge and throws the point far away; clipping the gradient norm keeps the step short."),
    )
