r"""Polynomial regression on [-1, 1]: the overfitting U curve, ridge (L2) and lasso (L1).

Model: :math:`\hat y(x) = \sum_{k=0}^{d} w_k\,\phi_k(x)` with the orthonormal Legendre basis
:math:`\phi_k(x) = \sqrt{2k+1}\,P_k(x)` (see :func:`features`). ``w[0]`` multiplies
:math:`\phi_0 = 1`: it is the intercept and is never penalised.

Objectives (``n`` samples, ``w' = w[1:]``), the conventions of scikit-learn's ``Ridge``/``Lasso``
with the data term taken as a mean:

* ridge: :math:`\frac1n\lVert y-\Phi w\rVert^2 + \lambda\lVert w'\rVert_2^2`
* lasso: :math:`\frac1{2n}\lVert y-\Phi w\rVert^2 + \lambda\lVert w'\rVert_1`

The ``1/2`` in the lasso makes the orthonormal case read :math:`w_k = S_\lambda(w^{LS}_k)`.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np
from numpy.polynomial import legendre

from .errors import OptlabError, check_choice

MAX_DEGREE = 15

FEATURES_LATEX = (
    r"\hat y(x) = \sum_{k=0}^{d} w_k\,\phi_k(x),\qquad \phi_k(x) = \sqrt{2k+1}\,P_k(x),"
    r"\qquad \tfrac12\int_{-1}^{1}\phi_j\phi_k\,dx = \delta_{jk}"
)
RIDGE_LATEX = (
    r"\begin{aligned}"
    r"\min_w\;& \frac1n\lVert y-\Phi w\rVert_2^2 + \lambda\sum_{k\ge 1} w_k^2 \\"
    r"w^\star &= \Big(\tfrac1n\Phi^\top\Phi + \lambda D\Big)^{-1}\tfrac1n\Phi^\top y,"
    r"\quad D = \operatorname{diag}(0,1,\dots,1)"
    r"\end{aligned}"
)
LASSO_LATEX = r"\min_w\; \frac1{2n}\lVert y-\Phi w\rVert_2^2 + \lambda\sum_{k\ge 1} \lvert w_k\rvert"
ISTA_LATEX = (
    r"\begin{aligned}"
    r"w^{t+1} &= S_{\lambda/L}\!\Big(z^{t} - \tfrac1L\,\tfrac1n\Phi^\top(\Phi z^{t}-y)\Big),"
    r"\quad L = \lambda_{\max}\big(\tfrac1n\Phi^\top\Phi\big) \\"
    r"S_\tau(u) &= \operatorname{sign}(u)\max(\lvert u\rvert-\tau,\,0)"
    r"\quad(\text{not applied to } w_0) \\"
    r"z^{t+1} &= w^{t+1} + \tfrac{s_t-1}{s_{t+1}}\,(w^{t+1}-w^{t}),"
    r"\quad s_{t+1} = \tfrac{1+\sqrt{1+4s_t^2}}{2}\quad(\text{FISTA; ISTA: } z^t = w^t)"
    r"\end{aligned}"
)

TRUTHS: dict[str, tuple[str, Callable[[np.ndarray], np.ndarray]]] = {
    "sin": (r"f(x) = \sin(\pi x)", lambda x: np.sin(np.pi * x)),
    "cubic": (r"f(x) = x^3 - \tfrac12 x", lambda x: x**3 - 0.5 * x),
    "runge": (r"f(x) = \frac{1}{1+25x^2}", lambda x: 1.0 / (1.0 + 25.0 * x**2)),
}


class PolyData(NamedTuple):
    """Sorted inputs ``x``, noisy targets ``y``, the noise-free ``truth`` callable and its LaTeX."""

    x: np.ndarray
    y: np.ndarray
    truth: Callable[[np.ndarray], np.ndarray]
    latex: str


class DegreeCurve(NamedTuple):
    """Training and validation MSE per degree (the U curve)."""

    degrees: np.ndarray
    train: np.ndarray
    val: np.ndarray

    @property
    def best_degree(self) -> int:
        return int(self.degrees[int(np.argmin(self.val))])


def make_data(n: int, noise: float = 0.2, seed: int = 0, func: str = "sin") -> PolyData:
    r"""``n`` points :math:`x \sim U[-1,1]` (sorted), :math:`y = f(x) + \varepsilon`,
    :math:`\varepsilon\sim N(0,\text{noise}^2)`; ``func`` in ``TRUTHS``."""
    check_choice("truth function", func, TRUTHS)
    if int(n) < 1:
        raise OptlabError(f"n must be a positive number of points, got {n!r}")
    if noise < 0:
        raise OptlabError(f"noise must be >= 0, got {noise!r}")
    rng = np.random.default_rng(seed)
    latex, truth = TRUTHS[func]
    x = np.sort(rng.uniform(-1.0, 1.0, int(n)))
    y = truth(x) + noise * rng.standard_normal(int(n))
    return PolyData(x, y, truth, latex)


def _check_degree(degree: int) -> int:
    if not (0 <= int(degree) <= MAX_DEGREE) or int(degree) != degree:
        raise OptlabError(f"degree must be an integer in 0..{MAX_DEGREE}, got {degree!r}")
    return int(degree)


def features(x, degree: int) -> np.ndarray:
    r"""Design matrix :math:`\Phi_{ik} = \sqrt{2k+1}\,P_k(x_i)`, shape ``x.shape + (degree+1,)``.

    Why Legendre and not :math:`x^k`: the monomials :math:`x^{10}, x^{12}, \dots` are almost parallel
    on [-1, 1], so the Vandermonde matrix of degree 15 has a condition number around 1e7 and the
    coefficients swing wildly. Legendre polynomials are orthogonal on [-1, 1]; with the factor
    :math:`\sqrt{2k+1}` they are orthonormal for the uniform distribution, so for uniform data
    :math:`\frac1n\Phi^\top\Phi \approx I`: well conditioned, and every coefficient lives on the same
    scale, which matters for a penalty (L1 or L2) that treats all coefficients alike. The span is the
    same as that of :math:`1, x, \dots, x^d`, so the fitted curves are the same polynomials.
    Inputs outside [-1, 1] are allowed but the basis grows fast there.
    """
    degree = _check_degree(degree)
    x = np.asarray(x, dtype=float)
    return legendre.legvander(x, degree) * np.sqrt(2.0 * np.arange(degree + 1) + 1.0)


def predict(coef, x, degree: int | None = None) -> np.ndarray:
    """Evaluate the polynomial(s): ``coef`` (degree+1,) -> (n,), or (L, degree+1) -> (L, n)."""
    coef = np.asarray(coef, dtype=float)
    if degree is None:
        degree = coef.shape[-1] - 1
    if coef.shape[-1] != _check_degree(degree) + 1:
        raise OptlabError(f"coef has {coef.shape[-1]} entries on its last axis, degree {degree} needs {degree + 1}")
    return coef @ features(np.ravel(x), degree).T


def mse(y_pred, y) -> np.ndarray:
    r""":math:`\frac1n\sum_i(\hat y_i - y_i)^2` over the last axis (broadcasts over paths)."""
    d = np.asarray(y_pred, dtype=float) - np.asarray(y, dtype=float)
    return np.mean(d * d, axis=-1)


def _gram(x, y, degree):
    phi = features(np.ravel(x), degree)
    y = np.ravel(np.asarray(y, dtype=float))
    if phi.shape[0] != y.shape[0]:
        raise OptlabError(f"x has {phi.shape[0]} points but y has {y.shape[0]}")
    n = phi.shape[0]
    return phi.T @ phi / n, phi.T @ y / n


def _lams(lams) -> np.ndarray:
    lams = np.atleast_1d(np.asarray(lams, dtype=float))
    if lams.ndim != 1 or np.any(~np.isfinite(lams)) or np.any(lams < 0):
        raise OptlabError(f"lambda must be finite and >= 0, got {lams!r}")
    return lams


def ridge_design(phi, y, lams, rcond: float = 1e-12) -> np.ndarray:
    r"""Ridge for every λ on a design whose column 0 is the constant 1 (unpenalised): (L, p).

    The intercept is profiled out by centring, :math:`w_0 = \bar y - \bar\Phi' w'`, and the rest
    solved through the SVD :math:`\Phi'_c = USV^\top`:
    :math:`w' = V\,\operatorname{diag}\big(s/(s^2+n\lambda)\big)U^\top y_c`, the same as
    :math:`(\tfrac1n\Phi^\top\Phi+\lambda D)^{-1}\tfrac1n\Phi^\top y` but without squaring the
    condition number, one SVD for all λ. For λ = 0 singular values below ``rcond·s_max`` are
    dropped (the minimum-norm least-squares fit when there are fewer points than coefficients).
    """
    lams = _lams(lams)
    phi = np.asarray(phi, dtype=float)
    y = np.asarray(y, dtype=float)
    n, p = phi.shape
    y_mean = y.mean()
    if p == 1:
        return np.full((len(lams), 1), y_mean)
    col_mean = phi[:, 1:].mean(0)
    u, sv, vt = np.linalg.svd(phi[:, 1:] - col_mean, full_matrices=False)
    uty = u.T @ (y - y_mean)
    den = sv * sv + n * lams[:, None]                        # (L, r)
    keep = (sv > rcond * sv[0]) | (lams[:, None] > 0)
    filt = np.where(keep, sv / np.where(den > 0, den, 1.0), 0.0)
    w_rest = (filt * uty) @ vt                               # (L, p-1)
    return np.column_stack([y_mean - w_rest @ col_mean, w_rest])


def fit_ridge(x, y, degree: int, lam: float) -> np.ndarray:
    """Ridge coefficients (degree+1,) in closed form (see module docstring for the objective)."""
    return ridge_path(x, y, degree, [lam])[0]


def ridge_path(x, y, degree: int, lams) -> np.ndarray:
    """Ridge coefficients for every λ in ``lams``: (len(lams), degree+1), one SVD for all."""
    phi = features(np.ravel(x), degree)
    y = np.ravel(np.asarray(y, dtype=float))
    if phi.shape[0] != y.shape[0]:
        raise OptlabError(f"x has {phi.shape[0]} points but y has {y.shape[0]}")
    return ridge_design(phi, y, lams)


def soft_threshold(u, tau):
    r""":math:`S_\tau(u) = \operatorname{sign}(u)\max(|u|-\tau, 0)` (broadcasts)."""
    return np.sign(u) * np.maximum(np.abs(u) - tau, 0.0)


class LassoResult(NamedTuple):
    coef: np.ndarray  # (L, p)
    n_iter: int
    converged: bool


def lasso_solve(gram, rhs, lams, *, fista: bool = True, tol: float = 1e-10, max_iter: int = 20000,
                coef0=None) -> LassoResult:
    r"""Proximal gradient for :math:`\frac12 w^\top G w - c^\top w + \lambda\lVert w_{1:}\rVert_1`.

    This is the lasso with ``G`` = :math:`\frac1n\Phi^\top\Phi`, ``c`` = :math:`\frac1n\Phi^\top y`
    (the constant :math:`\frac1{2n}\lVert y\rVert^2` dropped). All λ are solved at once, one row
    each (batch axis first). Step :math:`1/L`, :math:`L=\lambda_{\max}(G)`: the Lipschitz constant
    of the smooth part's gradient :math:`Gw-c`. FISTA uses gradient-based adaptive restart
    (O'Donoghue & Candès 2015), which keeps its speed on strongly convex problems.
    A row (one λ) stops when it moved by at most ``tol·(1 + max|w|)`` in one step.
    """
    lams = _lams(lams)
    gram = np.asarray(gram, dtype=float)
    rhs = np.asarray(rhs, dtype=float)
    p = gram.shape[0]
    lip = float(np.linalg.eigvalsh(gram)[-1])
    if lip <= 0:
        raise OptlabError("the design matrix is zero: nothing to fit")
    step = 1.0 / lip
    tau = (lams * step)[:, None] * np.r_[0.0, np.ones(p - 1)]  # no shrinkage of the intercept
    w = np.zeros((len(lams), p)) if coef0 is None else np.array(np.broadcast_to(coef0, (len(lams), p)), float)
    out = w.copy()
    rows = np.arange(len(lams))                   # rows still iterating; converged ones are set aside
    z = w.copy()
    s = np.ones((len(lams), 1))
    it = 0
    for it in range(1, int(max_iter) + 1):
        w_new = soft_threshold(z - step * (z @ gram - rhs), tau)
        delta = w_new - w
        if fista:
            # restart momentum for the rows whose step goes against the last move
            restart = np.einsum("ij,ij->i", z - w_new, delta)[:, None] > 0
            s = np.where(restart, 1.0, s)
            s_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * s * s))
            z = w_new + ((s - 1.0) / s_next) * delta
            s = s_next
        else:
            z = w_new
        w = w_new
        done = np.max(np.abs(delta), axis=1) <= tol * (1.0 + np.max(np.abs(w), axis=1))
        if done.any():
            out[rows[done]] = w[done]
            keep = ~done
            rows, w, z, s, tau = rows[keep], w[keep], z[keep], s[keep], tau[keep]
            if rows.size == 0:
                break
    out[rows] = w
    converged = rows.size == 0
    return LassoResult(out, it, converged)


def fit_lasso(x, y, degree: int, lam: float, *, fista: bool = True, tol: float = 1e-10,
              max_iter: int = 20000) -> np.ndarray:
    """Lasso coefficients (degree+1,) by ISTA/FISTA (see :func:`lasso_solve`)."""
    g, c = _gram(x, y, degree)
    return lasso_solve(g, c, lam, fista=fista, tol=tol, max_iter=max_iter).coef[0]


def lasso_path(x, y, degree: int, lams, *, fista: bool = True, tol: float = 1e-10,
               max_iter: int = 20000) -> np.ndarray:
    """Lasso coefficients for every λ: (len(lams), degree+1), all λ iterated together."""
    g, c = _gram(x, y, degree)
    return lasso_solve(g, c, lams, fista=fista, tol=tol, max_iter=max_iter).coef


def lasso_lambda_max(x, y, degree: int) -> float:
    r"""Smallest λ for which every non-intercept coefficient is 0:
    :math:`\lambda_{\max} = \max_{k\ge1}\big|\tfrac1n\phi_k^\top(y-\bar y)\big|`."""
    phi = features(np.ravel(x), degree)
    y = np.ravel(np.asarray(y, dtype=float))
    return float(np.max(np.abs(phi[:, 1:].T @ (y - y.mean()))) / len(y)) if degree > 0 else 0.0


def degree_curve(x_train, y_train, x_val, y_val, degrees, lam: float = 0.0) -> DegreeCurve:
    """Train and validation MSE of the (ridge, λ = ``lam``; least squares for 0) fit per degree.

    With λ = 0 and fewer points than coefficients, the minimum-norm interpolant is used
    (see :func:`ridge_design`).
    """
    degrees = np.asarray(list(degrees), dtype=int)
    train = np.empty(len(degrees))
    val = np.empty(len(degrees))
    for i, d in enumerate(degrees):
        coef = fit_ridge(x_train, y_train, d, lam)
        train[i] = mse(predict(coef, x_train, d), np.ravel(y_train))
        val[i] = mse(predict(coef, x_val, d), np.ravel(y_val))
    return DegreeCurve(degrees, train, val)
