r"""Loss surfaces of data: the mean loss of a one-feature model ŷ = w·x + b (or p = σ(w·x + b)) over
its two parameters (w, b), as :class:`DataSurface` objects with real mini-batch sampling.

``optlab.surfaces.from_data(x, y, loss)`` builds the linear one (:func:`loss_surface_1d`);
:func:`logistic_surface_1d` the logistic one for labels in {0, 1}.  Values, gradients and Hessians
come from the batched objectives of :mod:`optlab.models`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import losses as _losses
from ..errors import OptlabError
from ..i18n import domain
from ..losses import Loss
from ..models import LinearRegression, _as_loss, _chunked, _labels01, _logistic_objective, _Objective
from .base import Array, Surface

# Titles and descriptions are in the language active when the surface is built.
_, N_, ngettext = domain("optlab")


# ----------------------------------------------------------------------------------------------
# One-feature loss surfaces over (w, b)
# ----------------------------------------------------------------------------------------------
class _Fit1D:
    """Mean loss of s_i = w x_i + b over the data, evaluated at any array of (w, b), chunked."""

    def __init__(self, x: Array, y: Array, obj: _Objective):
        self.x, self.y, self.obj = x, y, obj
        self.n = x.shape[0]
        self.Xt = np.stack([x, np.ones_like(x)], axis=-1)
        self.quad = None
        if obj.link == "identity" and obj.loss.name in ("mse", "rmse"):
            # MSE(θ) = MSE(θ*) + (θ − θ*)ᵀ A (θ − θ*), A = mean x̃x̃ᵀ: O(1) per point, and no
            # cancellation near the minimum since it is written around θ*.
            star = np.linalg.lstsq(self.Xt, y, rcond=None)[0]
            r = self.Xt @ star - y
            A = self.Xt.T @ self.Xt / self.n
            self.quad = (star, float(np.mean(r * r)), A)

    def evaluate(self, w, b, order: int) -> tuple:
        w, b = np.broadcast_arrays(np.asarray(w, dtype=float), np.asarray(b, dtype=float))
        shape = w.shape
        theta = np.stack([w.ravel(), b.ravel()], axis=-1)
        out = self._quadratic(theta, order) if self.quad is not None else \
            _chunked(self.obj, theta, self.Xt, self.y, order)
        return tuple(o.reshape(shape + o.shape[1:]) for o in out)

    def _quadratic(self, theta, order):
        star, fstar, A = self.quad
        d = theta - star
        Ad = d @ A
        mse = fstar + np.einsum("...i,...i->...", d, Ad)
        if self.obj.loss.name == "mse":
            out = [mse, 2.0 * Ad, np.broadcast_to(2.0 * A, d.shape[:-1] + (2, 2)).copy()][: order + 1]
            return tuple(out)
        R = np.sqrt(np.maximum(mse, 0.0))
        pos = R > 0
        safe = np.where(pos, R, 1.0)[..., None]
        out = [R]
        if order >= 1:
            out.append(np.where(pos[..., None], Ad / safe, 0.0))  # ∇√M = ∇M / (2√M)
        if order >= 2:
            H = A / safe[..., None] - Ad[..., :, None] * Ad[..., None, :] / safe[..., None] ** 3
            out.append(np.where(pos[..., None, None], H, 0.0))
        return tuple(out)

    def point(self, p, order: int) -> tuple:
        p = np.asarray(p, dtype=float)
        return self.evaluate(p[..., 0], p[..., 1], order)

    def sample(self, p, rng, batch_size: int, order: int = 1) -> tuple:
        """Value and gradient at each point of ``p`` (..., 2) on its own mini-batch of the data."""
        p = np.asarray(p, dtype=float)
        if p.shape[-1:] != (2,):
            raise OptlabError(f"points must have shape (..., 2); got shape {p.shape}")
        bs = int(batch_size)
        if not 1 <= bs <= self.n:
            raise OptlabError(f"batch_size must be between 1 and the number of samples {self.n}; got {batch_size!r}")
        rng = np.random.default_rng(rng)
        theta = p.reshape(-1, 2)
        M = theta.shape[0]
        if bs == self.n:
            out = self.obj.evaluate(theta, self.Xt, self.y, order)
        else:
            # the bs smallest of N uniform keys form a uniform random subset, drawn independently per run
            idx = np.argpartition(rng.random((M, self.n)), bs - 1, axis=1)[:, :bs]
            out = self.obj.evaluate(theta, self.Xt[idx], self.y[idx], order)
        return tuple(o.reshape(p.shape[:-1] + o.shape[1:]) for o in out)


@dataclass(eq=False)
class DataSurface(Surface):
    """A :class:`~optlab.surfaces.Surface` over (w, b) built from data, with real mini-batches.

    Extra fields: ``x``, ``y`` (the data), ``loss_fn`` (the :class:`~optlab.losses.Loss`), ``link``
    (``"identity"`` or ``"sigmoid"``); ``n_samples`` is N.
    """

    x: Array = field(default_factory=lambda: np.zeros(0))
    y: Array = field(default_factory=lambda: np.zeros(0))
    loss_fn: Loss | None = None
    link: str = "identity"
    evaluator: Any = field(default=None, repr=False)

    @property
    def n_samples(self) -> int:
        return int(self.x.shape[0])

    def minibatch_grad(self, p, rng, batch_size: int) -> Array:
        """Gradient at each point of ``p`` (B, 2) (or (..., 2)) on its own mini-batch of
        ``batch_size`` samples drawn without replacement from ``rng`` (a ``np.random.Generator``).

        Unbiased for every loss except ``rmse`` (the square root of a batch mean is biased).
        """
        return self.evaluator.sample(p, rng, batch_size, 1)[1]

    def minibatch_value_and_grad(self, p, rng, batch_size: int) -> tuple[Array, Array]:
        """Like :meth:`minibatch_grad`, also returning each run's mini-batch loss (...)."""
        return self.evaluator.sample(p, rng, batch_size, 1)


def _data_1d(x, y, what_y="y") -> tuple[Array, Array]:
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.ndim != 1 or y.shape != x.shape or x.shape[0] < 2:
        raise OptlabError(f"x and {what_y} must be 1-D arrays of the same length ≥ 2; got shapes {x.shape} and {y.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise OptlabError("x and y must be finite numbers (no NaN or inf)")
    if np.ptp(x) == 0:
        raise OptlabError(f"x must vary; all {x.shape[0]} values equal {x[0]:g}")
    return x, y


def _window(center, h, window):
    if window is not None:
        (a, b_), (c, d) = window
        return ((float(a), float(b_)), (float(c), float(d)))
    h = float(h)
    if not np.isfinite(h) or h <= 0:
        raise OptlabError(f"halfwidth must be a positive number; got {h!r}")
    cw, cb = float(center[0]), float(center[1])
    return ((cw - h, cw + h), (cb - h, cb + h))


def _inside(p, window) -> bool:
    (a, b), (c, d) = window
    return a <= p[0] <= b and c <= p[1] <= d


def _newton(fit: _Fit1D, p, iters: int = 100, box=None) -> Array:
    """Damped Newton with |eigenvalue| regularisation and Armijo backtracking (also fine off
    convexity), or, when ``box`` = ((wmin, wmax), (bmin, bmax)) is given, the projected Newton
    method of Bertsekas (1982): a non-convex loss may have its infimum at infinity (MAE on
    probabilities), and then the best point in view is wanted.

    Projected Newton (D. P. Bertsekas, "Projected Newton methods for optimization problems with
    simple constraints", SIAM J. Control Optim. 20(2), 1982): a coordinate within ε of a bound whose
    gradient pushes outward is *active* and takes a diagonally scaled gradient step, the others a
    Newton step on the *reduced* Hessian (their rows and columns only), and the step is searched
    along the projection arc q(t) = clip(p + t·d) with the sufficient decrease
    f(q) ≤ f(p) − c·gᵀ(p − q). Clipping a full 2×2 Newton step instead keeps the coupling to the
    coordinate that cannot move, points the free one the wrong way, and stalls on the edge.
    """
    lo, hi = (np.array([box[0][0], box[1][0]]), np.array([box[0][1], box[1][1]])) if box else (-np.inf, np.inf)
    # Bertsekas' ε: coordinates this close to a bound may be treated as on it
    eps_box = 1e-6 * (hi - lo) if box else np.zeros(2)
    p = np.clip(np.asarray(p, dtype=float), lo, hi)
    f = float(fit.point(p, 0)[0])
    for _ in range(iters):
        _, g, H = fit.point(p, 2)
        if box:
            eps = np.minimum(eps_box, np.linalg.norm(p - np.clip(p - g, lo, hi)))
            active = ((p <= lo + eps) & (g > 0)) | ((p >= hi - eps) & (g < 0))
        else:
            active = np.zeros(2, dtype=bool)
        free = ~active
        d = np.zeros(2)
        if free.any():
            gf = g[free]
            lam, V = np.linalg.eigh(H[np.ix_(free, free)])
            scale = np.max(np.abs(lam))
            lam = np.maximum(np.abs(lam), 1e-10 * scale if scale > 0 else 1.0)
            df = -V @ ((V.T @ gf) / lam)
            if not float(gf @ df) < 0:
                df = -gf
            d[free] = df
        if active.any():
            h = np.abs(np.diag(H)[active])
            d[active] = -g[active] / np.maximum(h, 1e-10 * max(float(np.max(np.abs(H))), 1e-300))
        slope = float(g[free] @ d[free]) if free.any() else 0.0
        if not slope < 0 and not active.any():
            break
        t = 1.0
        while t > 1e-16:
            q = np.clip(p + t * d, lo, hi)
            fq = float(fit.point(q, 0)[0])
            if fq <= f + 1e-4 * float(g @ (q - p)) and fq <= f:
                break
            t *= 0.5
        else:
            break
        step = np.linalg.norm(q - p)
        p, f = q, fq
        if step <= 1e-13 * (1.0 + np.linalg.norm(p)):
            break
    return p


def _piecewise_min(fit: _Fit1D, wlo: float, whi: float) -> Array:
    """Exact-in-b, golden-section-in-w minimum of a convex piecewise-linear loss (MAE, quantile, hinge).

    For fixed w the loss is convex piecewise linear in b with one kink per sample; its slope
    starts at Σ left slopes and jumps at each kink, so the minimiser is the kink where the slope
    turns non-negative (a weighted quantile). The profile g(w) = min_b L(w, b) is convex.
    """
    L, x, y = fit.obj.loss, fit.x, fit.y
    s_knot = (y + L.kink) if L.kind == "regression" else (2.0 * y - 1.0) * L.kink
    left = L._terms(y, s_knot - 1.0, 1)[1] / fit.n
    jump = L._terms(y, s_knot + 1.0, 1)[1] / fit.n - left
    start = left.sum()

    def best_b(w):
        bk = s_knot - w * x
        order = np.argsort(bk, kind="stable")
        slope_after = start + np.cumsum(jump[order])
        j = min(int(np.searchsorted(slope_after, -1e-12)), fit.n - 1)
        b = bk[order[j]]
        return b, float(fit.evaluate(w, b, 0)[0])

    phi = (np.sqrt(5.0) - 1.0) / 2.0
    a, c = float(wlo), float(whi)
    u, v = c - phi * (c - a), a + phi * (c - a)
    fu, fv = best_b(u)[1], best_b(v)[1]
    for _ in range(200):
        if c - a <= 1e-12 * (1.0 + abs(a) + abs(c)):
            break
        if fu <= fv:
            c, v, fv = v, u, fu
            u = c - phi * (c - a)
            fu = best_b(u)[1]
        else:
            a, u, fu = u, v, fv
            v = a + phi * (c - a)
            fv = best_b(v)[1]
    w = 0.5 * (a + c)
    return np.array([w, best_b(w)[0]])


def _find_minimum(fit: _Fit1D, window, n_grid: int = 41) -> Array:
    (w0, w1), (b0, b1) = window
    if fit.obj.piecewise_linear:
        hw = w1 - w0
        return _piecewise_min(fit, w0 - hw, w1 + hw)
    ws, bs = np.linspace(w0, w1, n_grid), np.linspace(b0, b1, n_grid)
    W, B = np.meshgrid(ws, bs)
    with np.errstate(all="ignore"):
        Z = fit.evaluate(W, B, 0)[0]
    k = int(np.nanargmin(Z))
    return _newton(fit, [W.flat[k], B.flat[k]], box=window)


def _surface(fit: _Fit1D, *, name, title, latex, window, minimum, starts, params, description) -> DataSurface:
    def f(w, b):
        return fit.evaluate(w, b, 0)[0]

    def df(w, b):
        g = fit.evaluate(w, b, 1)[1]
        return g[..., 0], g[..., 1]

    def d2f(w, b):
        H = fit.evaluate(w, b, 2)[2]
        return H[..., 0, 0], H[..., 0, 1], H[..., 1, 1]

    minimum = np.asarray(minimum, dtype=float)
    return DataSurface(
        name=name, title=title, latex=latex, f=f, df=df, d2f=d2f, window=window,
        minima=minimum[None, :], min_value=float(f(minimum[0], minimum[1])),
        starts=tuple((float(a), float(b)) for a, b in starts), convex=fit.obj.convex,
        params=params, description=description,
        x=fit.x, y=fit.y, loss_fn=fit.obj.loss, link=fit.obj.link, evaluator=fit,
    )


def _starts(center, window, extra=()):
    (w0, w1), (b0, b1) = window
    cw, cb = 0.5 * (w0 + w1), 0.5 * (b0 + b1)
    hw, hb = 0.5 * (w1 - w0), 0.5 * (b1 - b0)
    pts = list(extra)
    if _inside((0.0, 0.0), window) and np.hypot((0 - center[0]) / hw, (0 - center[1]) / hb) > 0.3:
        pts.append((0.0, 0.0))
    pts += [(cw - 0.8 * hw, cb + 0.7 * hb), (cw + 0.75 * hw, cb - 0.8 * hb), (cw - 0.7 * hw, cb - 0.75 * hb)]
    return pts[:4]


def loss_surface_1d(x, y, loss="mse", *, halfwidth: float | None = None, window=None,
                    label: str | None = None, **params) -> DataSurface:
    r"""Loss surface over (w, b) of the line ŷ = w·x + b fitted to 1-D data with a regression loss.

    The window is centred on the least-squares solution with half-width
    ``1.5·max(|w*|, |b*|, std(y)/std(x))`` (so the origin is inside) unless ``halfwidth`` or
    ``window`` is given. ``minima`` is the closed form for ``mse``/``rmse`` and a numerical minimum
    otherwise (exact-in-b golden section for MAE/quantile, damped Newton for smooth losses).
    ``params`` are the loss's (``delta``, ``q``).
    """
    x, y = _data_1d(x, y)
    L = _as_loss(loss, params)
    if L.kind != "regression":
        raise OptlabError(f"loss_surface_1d needs a regression loss ({', '.join(_losses.REGRESSION)}); got "
                          f"{L.name!r} (use logistic_surface_1d for labels)")
    fit = _Fit1D(x, y, _Objective(L, "identity"))
    star = LinearRegression.closed_form(x, y)
    if halfwidth is None:
        halfwidth = 1.5 * max(abs(star[0]), abs(star[1]), np.std(y) / np.std(x))
        halfwidth = halfwidth if halfwidth > 0 else 1.0
    win = _window(star, halfwidth, window)
    minimum = star if fit.quad is not None else _find_minimum(fit, win)
    data = label or _("data")
    return _surface(
        fit, name=f"linear_{L.name}",
        title=_("{loss} of ŷ = w·x + b — {data} (N = {n})").format(loss=L.label, data=data, n=x.shape[0]),
        latex=rf"\hat y_i=w\,x_i+b,\quad {L.latex}",
        window=win, minimum=minimum, starts=_starts(star, win),
        params={"loss": L.name, **L.params, "n": int(x.shape[0]), "label": data},
        description=_("{loss} of the line ŷ = w·x + b over its two parameters, on {data}. Least squares gives "
                      "w = {w:.4g}, b = {b:.4g}.").format(loss=L.label, data=data, w=star[0], b=star[1]),
    )


def logistic_surface_1d(x, labels, loss="bce", *, halfwidth: float | None = None, window=None,
                        label: str | None = None, **params) -> DataSurface:
    r"""Loss surface over (w, b) of p = σ(w·x + b) on 1-D data with labels in {0, 1}.

    ``loss`` is ``bce``, ``hinge``, ``squared_hinge``, ``focal`` (on the score s = w·x + b) or
    ``mse``, ``mae``, … on the probability p. The window is the same for every loss on the same data:
    centred on the BCE minimum with half-width ``max(2.5·max(|w*|, |b*|), 4/std(x))``, so it holds
    confidently wrong models (w of the wrong sign), where MSE on probabilities is flat.
    """
    x, y = _data_1d(x, labels, "labels")
    y = _labels01(y)
    L = _as_loss(loss, params)
    fit = _Fit1D(x, y, _logistic_objective(L))
    bce_fit = _Fit1D(x, y, _Objective(_losses.get("bce"), "identity"))
    center = _newton(bce_fit, [0.0, 0.0], iters=50)
    cap = 20.0 / np.std(x)  # separable data has no finite BCE minimum: keep the window finite
    if np.max(np.abs(center)) > cap:
        center = center * (cap / np.max(np.abs(center)))
    if halfwidth is None:
        halfwidth = max(2.5 * float(np.max(np.abs(center))), 4.0 / np.std(x))
    win = _window(center, halfwidth, window)
    minimum = _find_minimum(fit, win)
    (w0, w1), _b_range = win
    sgn = 1.0 if center[0] >= 0 else -1.0
    wrong = (center[0] - sgn * 0.9 * 0.5 * (w1 - w0), center[1])  # slope of the wrong sign: confidently wrong
    data = label or _("data")
    on_prob = fit.obj.link == "sigmoid"
    model = r"p_i=\sigma(w\,x_i+b)" if on_prob else r"s_i=w\,x_i+b"
    latex = (rf"\hat y_i=\sigma(w\,x_i+b),\quad {L.latex}" if on_prob else rf"{model},\quad {L.latex}")
    if on_prob:
        title = _("{loss} on the probability p = σ(w·x + b) — {data} (N = {n})")
        description = _("{loss} on the probability p = σ(w·x + b), over (w, b), on {data}. Not convex: where the "
                        "model is confidently wrong σ'(s) ≈ 0, so the gradient vanishes.")
    else:
        title = _("{loss} on the score s = w·x + b — {data} (N = {n})")
        description = _("{loss} on the score s = w·x + b, over (w, b), on {data}.")
    return _surface(
        fit, name=f"logistic_{L.name}",
        title=title.format(loss=L.label, data=data, n=x.shape[0]),
        latex=latex, window=win, minimum=minimum, starts=_starts(center, win, extra=[wrong]),
        params={"loss": L.name, **L.params, "n": int(x.shape[0]), "label": data},
        description=description.format(loss=L.label, data=data),
    )
