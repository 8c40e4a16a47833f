r"""The chapter "Overfitting, regularization and gradient problems": its experiments, assembled
from the engine (:mod:`optlab.polynomial`, :mod:`optlab.validation`, :mod:`optlab.mlp`,
:func:`optlab.run`) as pure functions of hashable settings, so a page can cache them, and the
**verdicts** its captions are chosen by.

Sections and what they compute:

* overfitting: polynomial least squares of every degree on noisy samples of a smooth function;
  training and validation MSE per degree (the U curve) and per number of points (learning curve).
* regularization: ridge (L2) and lasso (L1) fits and their coefficient paths over λ.
* early stopping: a small MLP regressor on the same kind of data, validation loss during
  training, and the patience rule replayed on it (one run serves every patience).
* learning rate by cross-validation: one batched k-fold grid search over learning rates.
* gradient lab: a deep MLP on two spirals with per-layer gradient norms and activation statistics;
  presets for vanishing and exploding gradients and the usual fixes, one at a time, within a work
  budget (:mod:`optlab.budget`).
* clipping: plain and norm-clipped gradient descent from the edge of the cliff surface.

Validation data are drawn from the same distribution as the training data with a different seed
(``seed + VAL_SEED_OFFSET``), so "validation error" estimates the error on unseen data.

**What a caption may claim.** Every claim of the page ("underfits", "overfits", "near the noise
floor", "helped", "diverged from lr = … up", "thrown off course" …) is a verdict computed here from
the numbers on screen: a ``*_verdict`` function returns a code, the page picks the sentence, and
every other case (ties, no noise, divergence, degenerate settings) has a code and a sentence of its
own.  Two numbers measured on the same validation points are compared with a *paired* test: the
mean difference of the squared errors must exceed :data:`CLEAR` standard errors (:class:`Gap`), so
"clearly worse" is never said of a difference the 200 validation points cannot resolve.  An MSE
below :data:`ZERO_MSE` is round-off and reads "≈ 0"; a ratio of two such numbers is not a number.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np

from .. import mlp, polynomial, theory, validation
from ..budget import Budget, Cut
from ..errors import OptlabError, check_choice
from ..i18n import domain

_, N_, ngettext = domain("overfitting")

N_VAL = 200                 # validation points of the 1-D regression sections
VAL_SEED_OFFSET = 10_000    # validation draw: seed + this, never the training draw
GRID_POINTS = 300           # x grid on which fitted curves are drawn

ZERO_MSE = 1e-12            # an MSE below this is round-off (targets are of order 1): "≈ 0"
CLEAR = 2.0                 # "clearly": a paired difference of more than this many standard errors …
CLEAR_RATIO = 2.0           # … or an error at least twice as large (see Gap)

MSE_LATEX = r"\mathrm{MSE} = \frac1n\sum_{i=1}^{n}\big(\hat y(x_i) - y_i\big)^2"
NOISE_FLOOR_LATEX = (r"\mathbb E\big[(\hat y(x) - y)^2\big] = "
                     r"\underbrace{\big(\hat y(x) - f(x)\big)^2}_{\text{model error}}"
                     r" + \underbrace{\sigma^2}_{\text{noise}} \;\ge\; \sigma^2")
RESIDUAL_LATEX = (r"\text{plain: } h_\ell = \varphi(u_\ell) \qquad"
                  r"\text{residual: } h_\ell = h_{\ell-1} + \varphi(u_\ell)\;\Rightarrow\;"
                  r"\frac{\partial h_\ell}{\partial h_{\ell-1}} = I + \frac{\partial \varphi(u_\ell)}{\partial h_{\ell-1}}")
VANISHING_LATEX = (r"\frac{\partial L}{\partial h_{1}} = \frac{\partial L}{\partial h_{L}}"
                   r"\prod_{\ell=2}^{L} \frac{\partial h_\ell}{\partial h_{\ell-1}},\qquad"
                   r"\Big\lVert\frac{\partial h_\ell}{\partial h_{\ell-1}}\Big\rVert \approx c"
                   r"\;\Rightarrow\; \text{gradient} \propto c^{L}:\ "
                   r"c<1 \text{ vanishes},\ c>1 \text{ explodes}")
GAP_LATEX = (r"\bar d = \frac1m\sum_{i=1}^{m}\big(e_{a,i}^2 - e_{b,i}^2\big),\quad"
             r"\mathrm{se} = \frac{s_d}{\sqrt m},\quad \text{“clearly”: } \bar d > 2\,\mathrm{se}")


def _grid(n: int = GRID_POINTS) -> np.ndarray:
    return np.linspace(-1.0, 1.0, n)


# ----------------------------------------------------------------------------------------------
# Verdict helpers: is a difference measured on the same points more than noise?
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Gap:
    """Two mean errors ``a`` and ``b`` measured on the same ``m`` points, their mean difference
    ``diff`` = a − b and its standard error ``se``.

    ``clear`` (a is clearly above b): the difference exceeds :data:`CLEAR` standard errors, or a is
    at least :data:`CLEAR_RATIO` times b.  The ratio rule is for heavy tails: a wild polynomial can
    be 1,000 times worse at the three validation points beyond its training points and equal
    elsewhere, and those few points inflate the standard error as much as the mean; an error twice
    as large is never within the noise of a comparison on the same points.  Both need a difference
    above round-off (:data:`ZERO_MSE`).
    """

    a: float
    b: float
    se: float
    m: int

    @property
    def diff(self) -> float:
        with np.errstate(invalid="ignore"):
            return float(self.a - self.b)

    @staticmethod
    def _above(x: float, y: float, d: float, se: float) -> bool:
        if not np.isfinite(d):
            return bool(d > 0)
        if d <= ZERO_MSE:
            return False
        return bool(d > CLEAR * se or x >= CLEAR_RATIO * y)

    @property
    def clear(self) -> bool:
        return self._above(self.a, self.b, self.diff, self.se)

    @property
    def clear_below(self) -> bool:
        return self._above(self.b, self.a, -self.diff, self.se)

    @property
    def side(self) -> str:
        """"above", "below" or "same" (within the noise of the points)."""
        return "above" if self.clear else "below" if self.clear_below else "same"


def paired_gap(err_a, err_b) -> Gap:
    """:class:`Gap` of two arrays of per-point errors (squared errors, or 0/1 mistakes) on the same
    points.  Non-finite errors make a mean infinite (a blown-up model is clearly worse)."""
    a = np.asarray(err_a, dtype=float).ravel()
    b = np.asarray(err_b, dtype=float).ravel()
    m = a.size
    with np.errstate(invalid="ignore", over="ignore"):
        ma = float(np.mean(a)) if np.all(np.isfinite(a)) else float("inf")
        mb = float(np.mean(b)) if np.all(np.isfinite(b)) else float("inf")
        d = a - b
    se = float(np.std(d, ddof=1) / np.sqrt(m)) if m > 1 and np.all(np.isfinite(d)) else 0.0
    return Gap(ma, mb, se, m)


def is_zero_mse(v: float) -> bool:
    """An MSE that is round-off (or exactly 0)."""
    return bool(np.isfinite(v) and abs(v) < ZERO_MSE)


def ratio_or_none(num: float, den: float) -> float | None:
    """``num / den``, or None when the ratio is not a number worth printing: a denominator that is
    round-off (≈ 0), or a value that is not finite."""
    if not (np.isfinite(num) and np.isfinite(den)) or is_zero_mse(den):
        return None
    return float(num / den)


# ----------------------------------------------------------------------------------------------
# Shared data: noisy samples of a smooth function on [-1, 1]
# ----------------------------------------------------------------------------------------------
class Sample(NamedTuple):
    """Points ``x`` (sorted) and noisy targets ``y`` (plain arrays: results stay picklable for caches)."""

    x: np.ndarray
    y: np.ndarray


TRUTH_TITLES = {"sin": N_("sine wave sin(πx)"), "cubic": N_("cubic x³ − x/2"),
                "runge": N_("Runge's bump 1/(1 + 25x²)")}


def truth(x, func: str = "sin") -> np.ndarray:
    """The noise-free function ``func`` of :data:`optlab.polynomial.TRUTHS` at ``x``."""
    check_choice("truth function", func, polynomial.TRUTHS)
    return polynomial.TRUTHS[func][1](np.asarray(x, dtype=float))


def truth_latex(func: str) -> str:
    """The LaTeX of the noise-free function ``func``."""
    check_choice("truth function", func, polynomial.TRUTHS)
    return polynomial.TRUTHS[func][0]


def poly_split(n: int, noise: float, seed: int = 0, func: str = "sin", n_val: int = N_VAL) -> tuple[Sample, Sample]:
    """``(train, val)`` of ``n`` and ``n_val`` points: two independent draws of
    :math:`y = f(x) + \\varepsilon` (:func:`optlab.polynomial.make_data`; validation seed
    ``seed + VAL_SEED_OFFSET``)."""
    tr = polynomial.make_data(n, noise, seed, func)
    va = polynomial.make_data(n_val, noise, seed + VAL_SEED_OFFSET, func)
    return Sample(tr.x, tr.y), Sample(va.x, va.y)


# ----------------------------------------------------------------------------------------------
# Overfitting: degree and number of points
# ----------------------------------------------------------------------------------------------
DEGREES = tuple(range(polynomial.MAX_DEGREE + 1))
LEARNING_SIZES = (8, 10, 12, 15, 20, 25, 30, 40, 50, 70, 100, 140, 200)


@dataclass
class DegreeFit:
    """One polynomial fit and the U curve around it.

    ``curve``: training/validation MSE for every degree in :data:`DEGREES`; ``noise_var`` = σ²,
    the validation error no model can beat on average.  ``val_sq`` / ``best_val_sq`` /
    ``truth_val_sq``: squared errors on each validation point of this fit, of the best degree's
    fit and of the true f itself (for the paired tests of :func:`fit_verdict`); ``best_train_mse``:
    the best degree's training MSE.
    """

    train: Sample
    val: Sample
    degree: int
    coef: np.ndarray
    x_grid: np.ndarray
    y_fit: np.ndarray
    y_truth: np.ndarray
    train_mse: float
    val_mse: float
    curve: polynomial.DegreeCurve
    noise_var: float
    val_sq: np.ndarray
    best_val_sq: np.ndarray
    truth_val_sq: np.ndarray
    best_train_mse: float

    @property
    def best_degree(self) -> int:
        return self.curve.best_degree

    @property
    def best_val_mse(self) -> float:
        return float(np.min(self.curve.val))

    @property
    def truth_val_mse(self) -> float:
        """What the true f itself scores on these validation points: the noise floor as measured."""
        return float(np.mean(self.truth_val_sq))

    @property
    def val_over_train(self) -> float | None:
        """Validation MSE / training MSE (about 1 for a fit that generalises, ≫ 1 for one that
        memorised), or None when the training error is round-off: the ratio is not a number then."""
        return ratio_or_none(self.val_mse, self.train_mse)

    @property
    def interpolates(self) -> bool:
        """As many coefficients as points or more: the fit passes through every training point."""
        return self.degree + 1 >= len(self.train.x)


def degree_fit(n: int, noise: float, degree: int, seed: int = 0, func: str = "sin") -> DegreeFit:
    """Least-squares polynomial of ``degree`` on ``n`` noisy points, with the U curve over degrees.

    With fewer points than coefficients the minimum-norm interpolant is used (see
    :func:`optlab.polynomial.ridge_design`)."""
    train, val = poly_split(n, noise, seed, func)
    curve = polynomial.degree_curve(train.x, train.y, val.x, val.y, DEGREES)
    degree = int(degree)
    coef = polynomial.fit_ridge(train.x, train.y, degree, 0.0)
    best = int(curve.best_degree)
    best_coef = polynomial.fit_ridge(train.x, train.y, best, 0.0)
    x = _grid()
    i = DEGREES.index(degree)
    with np.errstate(over="ignore", invalid="ignore"):
        val_sq = (polynomial.predict(coef, val.x, degree) - val.y) ** 2
        best_sq = (polynomial.predict(best_coef, val.x, best) - val.y) ** 2
    return DegreeFit(train, val, degree, coef, x, polynomial.predict(coef, x, degree), truth(x, func),
                     float(curve.train[i]), float(curve.val[i]), curve, float(noise) ** 2, val_sq, best_sq,
                     (truth(val.x, func) - val.y) ** 2, float(curve.train[DEGREES.index(best)]))


@dataclass(frozen=True)
class FitVerdict:
    """What the caption of a degree fit may say.

    ``code``: ``"best"`` (the lowest validation error of the curve), ``"tie"`` (another degree is
    lowest, but not clearly: within the noise of the validation points), ``"underfit"`` (a lower
    degree than the best and clearly worse on new points), ``"overfit"`` (a higher degree, clearly
    worse, with noise to fit), ``"swings"`` (the same with no noise at all: the polynomial swings
    between the points).
    ``floor``: ``"noise"`` (the validation error is not clearly above what the true f scores on the
    same points: what is left is noise), ``"model"`` (clearly above: part of it is the model's
    error), ``"exact"`` (no noise and a validation error that is round-off).
    ``train_side``: the training error against σ²: ``"above"``, ``"below"``, ``"zero"`` (round-off).
    ``lower_train``: the training error is below the best degree's (what "overfits" rests on).
    """

    code: str
    floor: str
    train_side: str
    lower_train: bool
    vs_best: Gap
    vs_truth: Gap
    ratio: float | None


def fit_verdict(fit: DegreeFit) -> FitVerdict:
    """The verdict on ``fit`` against the validation curve and the noise floor (see :class:`FitVerdict`)."""
    vs_best = paired_gap(fit.val_sq, fit.best_val_sq)
    vs_truth = paired_gap(fit.val_sq, fit.truth_val_sq)
    noisy = fit.noise_var > 0
    if fit.degree == fit.best_degree:
        code = "best"
    elif not vs_best.clear:
        code = "tie"
    elif fit.degree < fit.best_degree:
        code = "underfit"
    else:
        code = "overfit" if noisy else "swings"
    if not noisy and is_zero_mse(fit.val_mse):
        floor = "exact"
    else:
        floor = "model" if vs_truth.clear else "noise"
    if is_zero_mse(fit.train_mse):
        side = "zero"
    else:
        side = "above" if noisy and fit.train_mse > fit.noise_var else "below"
    return FitVerdict(code, floor, side, bool(fit.train_mse < fit.best_train_mse), vs_best, vs_truth,
                      fit.val_over_train)


@dataclass
class LearningCurve:
    """Median training and validation MSE of a fixed-degree fit against the number of points,
    over ``reps`` independent draws of the training data."""

    sizes: np.ndarray
    train: np.ndarray
    val: np.ndarray
    degree: int
    noise_var: float
    reps: int

    def val_at(self, n: int) -> float:
        """Validation MSE at ``n`` points (interpolated on log n between the measured sizes)."""
        return float(np.interp(np.log(n), np.log(self.sizes), self.val))

    def train_at(self, n: int) -> float:
        return float(np.interp(np.log(n), np.log(self.sizes), self.train))


def learning_curve(degree: int, noise: float, sizes=LEARNING_SIZES, reps: int = 20, seed: int = 0,
                   func: str = "sin") -> LearningCurve:
    """Train/validation MSE of the degree-``degree`` least-squares fit for every size in ``sizes``.

    Every repetition draws a new training set (seeds ``seed·1000 + r``); the validation set is one
    fixed draw of :data:`N_VAL` points. The median over draws shows the trend: near interpolation
    (n ≈ degree + 1) a single unlucky draw can have a validation MSE of 10⁹, which would swamp a mean.
    The work is fixed (13 sizes × 20 draws of at most 200 points: ≈ 0.1 s), whatever the widgets.
    """
    sizes = np.asarray(sizes, dtype=int)
    _unused, val = poly_split(1, noise, seed, func)
    tr = np.zeros((len(sizes), reps))
    va = np.zeros((len(sizes), reps))
    for i, n in enumerate(sizes):
        for r in range(reps):
            d = polynomial.make_data(int(n), noise, seed * 1000 + r + 1, func)
            coef = polynomial.fit_ridge(d.x, d.y, degree, 0.0)
            tr[i, r] = polynomial.mse(polynomial.predict(coef, d.x, degree), d.y)
            va[i, r] = polynomial.mse(polynomial.predict(coef, val.x, degree), val.y)
    return LearningCurve(sizes, np.median(tr, 1), np.median(va, 1), int(degree), float(noise) ** 2, int(reps))


NEAR_FLOOR = 0.25           # a median error within 25 % of σ² (above it) is "at the noise floor"
TREND = 0.1                 # a median that moves by less than 10 % "stays"


@dataclass(frozen=True)
class LearningVerdict:
    """What the learning-curve caption may say.

    ``val_trend``: ``"falls"``, ``"flat"`` or ``"rises"`` from the fewest to the most points;
    ``end``: the validation error with the most points is ``"floor"`` (within :data:`NEAR_FLOOR`
    of σ², or round-off without noise) or ``"above"`` (the model's own error remains);
    ``train``: the training error ``"rises_to_floor"`` (from below σ² to near it: the fit stops
    following the noise), ``"above_floor"`` (ends above σ²: the model misses f even at the
    training points), ``"zero"`` (round-off at every size: no noise and a model that can follow f)
    or ``"other"``.
    """

    val_trend: str
    end: str
    train: str


def learning_verdict(lc: LearningCurve) -> LearningVerdict:
    v0, v1 = float(lc.val[0]), float(lc.val[-1])
    t0, t1 = float(lc.train[0]), float(lc.train[-1])
    s2 = lc.noise_var
    if v1 < (1 - TREND) * v0:
        trend = "falls"
    elif v1 > (1 + TREND) * v0 and not is_zero_mse(v1):
        trend = "rises"
    else:
        trend = "flat"
    if s2 > 0:
        end = "floor" if v1 <= (1 + NEAR_FLOOR) * s2 else "above"
    else:
        end = "floor" if is_zero_mse(v1) else "above"
    if s2 == 0 and all(is_zero_mse(t) for t in lc.train):
        train = "zero"
    elif s2 > 0 and t1 > (1 + NEAR_FLOOR) * s2:
        train = "above_floor"
    elif s2 > 0 and t0 < (1 - NEAR_FLOOR) * s2 and abs(t1 - s2) <= NEAR_FLOOR * s2 and t1 > t0:
        train = "rises_to_floor"
    else:
        train = "other"
    return LearningVerdict(trend, end, train)


# ----------------------------------------------------------------------------------------------
# Regularization: ridge and lasso
# ----------------------------------------------------------------------------------------------
LAMBDA_OPTIONS = tuple(float(f"{10.0 ** (k / 4):.3g}") for k in range(-24, 5))   # 1e-6 … 10, 4 per decade
PATH_LAMBDAS = np.logspace(-6, 1, 71)
ZERO_TOL = 1e-12   # |w| below this counts as exactly zero (the lasso's zeros are exact 0.0)
BARELY = 0.995     # ridge coefficients keeping ≥ 99.5 % of their length are "barely shrunk"


@dataclass
class PenaltyFit:
    """One penalty ("ridge" or "lasso") at the chosen λ and along the λ grid ``lams``.

    ``val_sq`` (m,): squared errors of the chosen fit on the validation points; ``path_val_sq``
    (L, m) the same along the path (for the paired tests of :func:`penalty_verdict`)."""

    penalty: str
    lam: float
    coef: np.ndarray          # (p,)
    y_fit: np.ndarray         # on the x grid
    train_mse: float
    val_mse: float
    lams: np.ndarray          # (L,)
    path: np.ndarray          # (L, p)
    path_train: np.ndarray    # (L,)
    path_val: np.ndarray      # (L,)
    val_sq: np.ndarray
    path_val_sq: np.ndarray

    @property
    def nonzero(self) -> int:
        """Non-intercept coefficients that are not exactly zero."""
        return int(np.count_nonzero(np.abs(self.coef[1:]) > ZERO_TOL))

    @property
    def path_nonzero(self) -> np.ndarray:
        return np.count_nonzero(np.abs(self.path[:, 1:]) > ZERO_TOL, axis=1)

    @property
    def best_index(self) -> int:
        return int(np.argmin(self.path_val))

    @property
    def best_lam(self) -> float:
        return float(self.lams[self.best_index])

    @property
    def best_val_mse(self) -> float:
        return float(np.min(self.path_val))

    @property
    def shrinkage(self) -> float:
        """‖w(λ)‖₂ / ‖w(λ_min of the path)‖₂ over w₁…w_d: how much of the (nearly) unpenalised
        coefficients' length is left.  Never above 1 for ridge (a theorem); NaN when there is
        nothing to shrink."""
        ls = float(np.linalg.norm(self.path[0, 1:]))
        return float(np.linalg.norm(self.coef[1:]) / ls) if ls > 0 else float("nan")


def _penalty(train, val, degree, penalty, lam, lams) -> PenaltyFit:
    check_choice("penalty", penalty, ("ridge", "lasso"))
    fit = polynomial.ridge_path if penalty == "ridge" else polynomial.lasso_path
    lams = np.asarray(lams, dtype=float)
    both = fit(train.x, train.y, degree, np.r_[lams, lam])
    path, coef = both[:-1], both[-1]
    phi_tr = polynomial.features(train.x, degree)
    phi_va = polynomial.features(val.x, degree)
    x = _grid()
    path_val_sq = (path @ phi_va.T - val.y) ** 2
    val_sq = (phi_va @ coef - val.y) ** 2
    return PenaltyFit(
        penalty, float(lam), coef, polynomial.predict(coef, x, degree),
        float(polynomial.mse(phi_tr @ coef, train.y)), float(np.mean(val_sq)),
        lams, path, polynomial.mse(path @ phi_tr.T, train.y), path_val_sq.mean(axis=1), val_sq, path_val_sq)


@dataclass
class RegularizationStudy:
    """Least squares, ridge and lasso on the same data; ``lasso_lambda_max`` is the smallest λ at
    which the lasso sets every non-intercept coefficient to zero."""

    train: Sample
    val: Sample
    degree: int
    x_grid: np.ndarray
    y_truth: np.ndarray
    ls_coef: np.ndarray       # λ = 0 (least squares)
    y_ls: np.ndarray
    ls_val_mse: float
    ls_val_sq: np.ndarray
    ridge: PenaltyFit
    lasso: PenaltyFit
    noise_var: float
    lasso_lambda_max: float


def regularization_study(n: int, noise: float, degree: int, lam_l2: float, lam_l1: float, seed: int = 0,
                         func: str = "sin", lams=PATH_LAMBDAS) -> RegularizationStudy:
    """Least squares, ridge at ``lam_l2`` and lasso at ``lam_l1`` on the same data, with both paths."""
    train, val = poly_split(n, noise, seed, func)
    x = _grid()
    ls = polynomial.fit_ridge(train.x, train.y, degree, 0.0)
    ls_sq = (polynomial.predict(ls, val.x, degree) - val.y) ** 2
    return RegularizationStudy(
        train, val, int(degree), x, truth(x, func), ls, polynomial.predict(ls, x, degree), float(np.mean(ls_sq)),
        ls_sq, _penalty(train, val, degree, "ridge", lam_l2, lams), _penalty(train, val, degree, "lasso", lam_l1, lams),
        float(noise) ** 2, polynomial.lasso_lambda_max(train.x, train.y, degree))


@dataclass(frozen=True)
class PenaltyVerdict:
    """What the captions may say about one penalty (ridge or lasso).

    ``zeros``: how many of w₁…w_d are exactly zero at the chosen λ; ``all_zero``: every one (the
    fit is the constant mean); ``shrink``: ``"shrinks"`` / ``"barely"`` (ridge: the length kept,
    :data:`BARELY`) or ``""``; ``vs_ls``: the chosen fit against least squares on the validation
    points (``"below"`` = clearly better, ``"same"``, ``"above"`` = clearly worse); ``best_at``:
    ``"low"`` (the smallest λ of the path is the best: the penalty does not help), ``"high"``
    (the largest), ``"inside"``; ``small_end``/``large_end``: the path's two ends against its best
    λ: ``"overfits"`` (clearly worse, with a lower training error), ``"underfits"`` (clearly worse,
    training error higher), ``"same"`` (not clearly worse); ``path_zeros_fall``: the number of
    non-zero coefficients falls along the path; ``path_all_nonzero``: none is ever exactly zero.
    """

    zeros: int
    all_zero: bool
    shrink: str
    vs_ls: str
    best_at: str
    small_end: str
    large_end: str
    path_zeros_fall: bool
    path_all_nonzero: bool


def _end(p: PenaltyFit, i: int) -> str:
    b = p.best_index
    if i == b or not paired_gap(p.path_val_sq[i], p.path_val_sq[b]).clear:
        return "same"
    return "overfits" if p.path_train[i] < p.path_train[b] else "underfits"


def penalty_verdict(rs: RegularizationStudy, which: str) -> PenaltyVerdict:
    check_choice("penalty", which, ("ridge", "lasso"))
    p = rs.ridge if which == "ridge" else rs.lasso
    d = rs.degree
    zeros = d - p.nonzero
    shrink = ""
    if which == "ridge":
        k = p.shrinkage
        shrink = "barely" if not np.isfinite(k) or k >= BARELY else "shrinks"
    L = len(p.lams)
    nz = p.path_nonzero
    return PenaltyVerdict(
        zeros, p.nonzero == 0 and d > 0, shrink, paired_gap(p.val_sq, rs.ls_val_sq).side,
        "low" if p.best_index == 0 else "high" if p.best_index == L - 1 else "inside",
        _end(p, 0), _end(p, L - 1), bool(nz[-1] < nz[0]), bool(np.all(nz == d)))


# ----------------------------------------------------------------------------------------------
# Early stopping: an MLP regressor that overfits when trained for long
# ----------------------------------------------------------------------------------------------
ES_SIZES = (15, 20, 30, 40, 60)   # ≤ 60 points: (n×64)(64×64) stays below OpenBLAS's threading threshold
ES_WIDTHS = (8, 16, 32, 64)
ES_EPOCHS = (250, 500, 750, 1000)   # more is over one rerun's budget (optlab.budget) for most settings
ES_QUANTUM = 20                    # epochs are cut to a multiple of the check interval


@dataclass(frozen=True)
class EarlyStopSettings:
    """A small MLP regressor on ``n`` noisy points (full batch: one step = one epoch), Adam,
    validation loss checked every ``check_every`` epochs."""

    n: int = 30
    noise: float = 0.3
    width: int = 32
    depth: int = 2
    lr: float = 0.02
    epochs: int = 1000
    check_every: int = 20
    seed: int = 0
    func: str = "sin"

    def config(self) -> mlp.MLPConfig:
        return mlp.MLPConfig(depth=self.depth, width=self.width, activation="tanh", init="xavier",
                             n_in=1, n_out=1, task="regression", seed=self.seed)


def early_stopping_cost(settings: EarlyStopSettings, epochs: int | None = None) -> float:
    """Work of :func:`train_early_stopping` in budget evaluations (:func:`optlab.mlp.train_cost`)."""
    return mlp.train_cost(settings.config(), settings.n, steps=settings.epochs if epochs is None else epochs,
                          batch_size=None, n_val=N_VAL + GRID_POINTS, record_every=settings.check_every)


def plan_early_stopping(settings: EarlyStopSettings, budget: Budget | None = None
                        ) -> tuple[EarlyStopSettings, Cut | None]:
    """``settings`` with the epochs one rerun can afford (a multiple of the check interval), and
    the :class:`optlab.budget.Cut` when that is fewer than asked."""
    budget = Budget() if budget is None else budget
    q = settings.check_every
    units, cut = budget.fit_cost(settings.epochs // q, lambda k: early_stopping_cost(settings, k * q),
                                 what="epochs")
    if cut is None:
        return settings, None
    epochs = max(q, units * q)
    return (dataclasses.replace(settings, epochs=epochs),
            Cut("epochs", settings.epochs, epochs, Cut.why, "", "epoch"))


@dataclass
class EarlyStopRun:
    """One full training run of the early-stopping regressor: the curves at every check and what
    the network predicted there (on the drawing grid and on the validation points), so that the
    patience rule can be replayed for any patience without training again."""

    settings: EarlyStopSettings
    epochs: np.ndarray        # check epochs (R,)
    train_loss: np.ndarray    # (R,) evaluation-mode training MSE
    val_loss: np.ndarray      # (R,)
    grid_pred: np.ndarray     # (R, GRID_POINTS)
    val_pred: np.ndarray      # (R, N_VAL)
    train: Sample
    val: Sample
    x_grid: np.ndarray
    y_truth: np.ndarray
    final_train: float
    final_val: float
    y_final: np.ndarray
    val_final_pred: np.ndarray  # (N_VAL,) the final weights' prediction at the validation points
    seconds: float


def train_early_stopping(settings: EarlyStopSettings, callback: Callable[[int, int], None] | None = None
                         ) -> EarlyStopRun:
    """Train the regressor of ``settings`` for all its epochs (full batch, Adam), keeping its
    predictions at every check (:func:`optlab.mlp.train` with ``snapshot_X``)."""
    train, val = poly_split(settings.n, settings.noise, settings.seed, settings.func)
    x = _grid()
    hist = mlp.train(settings.config(), train.x[:, None], train.y, "adam", {"lr": settings.lr},
                     steps=settings.epochs, batch_size=None, seed=settings.seed,
                     X_val=val.x[:, None], y_val=val.y, record_every=settings.check_every,
                     callback=callback, snapshot_X=np.r_[x, val.x][:, None])
    snaps = hist.snapshots[:, :, 0]
    final = mlp.predict(settings.config(), hist.params, np.r_[x, val.x][:, None])[:, 0]
    return EarlyStopRun(settings, hist.record_steps, hist.train_loss_eval, hist.val_loss, snaps[:, :len(x)],
                        snaps[:, len(x):], train, val, x, truth(x, settings.func), float(hist.final_train_loss),
                        float(hist.final_val_loss), final[:len(x)], final[len(x):], float(hist.seconds))


@dataclass
class EarlyStopStudy:
    """The full run's curves, the patience rule replayed on them, and the restored weights' score.

    ``best_epoch``/``stop_epoch`` are epochs (steps); ``stopped`` False means the patience never
    ran out and training used every epoch. ``restored_val`` is the validation MSE of the weights
    early stopping returns; ``final_val`` that of the weights after all epochs; ``lowest_val`` the
    lowest of any check.  ``code`` (see :func:`early_stopping_study`) is what the caption may say.
    """

    settings: EarlyStopSettings
    patience: int
    epochs: np.ndarray
    train_loss: np.ndarray
    val_loss: np.ndarray
    best_epoch: int
    stop_epoch: int
    stopped: bool
    restored_val: float
    restored_train: float
    final_val: float
    final_train: float
    lowest_val: float
    lowest_epoch: int
    train: Sample
    val: Sample
    x_grid: np.ndarray
    y_truth: np.ndarray
    y_final: np.ndarray
    y_restored: np.ndarray
    noise_var: float
    final_vs_restored: Gap
    restored_vs_lowest: Gap
    final_vs_lowest: Gap
    code: str

    @property
    def epochs_saved(self) -> int:
        return int(self.settings.epochs - (self.stop_epoch + 1)) if self.stopped else 0

    @property
    def lowest_after_stop(self) -> bool:
        """The run's lowest validation loss came after the stop (patience ran out on a bump)."""
        return bool(self.stopped and self.lowest_epoch > self.stop_epoch)


def early_stopping_study(run: EarlyStopRun, patience: int) -> EarlyStopStudy:
    """Replay the patience rule on ``run``; no training.

    ``code``: ``"helped"`` (stopped; the final weights are clearly worse on the validation points
    than the restored ones), ``"no_gain"`` (stopped, but the difference is within the noise of the
    validation points), ``"too_early"`` (stopped, and the restored weights are clearly worse than
    the final ones: the validation loss went on falling), ``"never"`` (the patience never ran out:
    all epochs used)."""
    s = run.settings
    rule = validation.early_stopping(run.val_loss, patience)
    val_sq = (run.val_pred - run.val.y) ** 2          # (R, m): every check's weights on the validation points
    end_sq = (run.val_final_pred - run.val.y) ** 2    # the weights after the last epoch
    b = int(rule.best_epoch)
    low = int(np.nanargmin(run.val_loss))
    if rule.stopped:
        restored_val, restored_train = float(run.val_loss[b]), float(run.train_loss[b])
        y_restored, restored_sq = run.grid_pred[b], val_sq[b]
    else:
        restored_val, restored_train = run.final_val, run.final_train
        y_restored, restored_sq = run.y_final, end_sq
    final_vs_restored = paired_gap(end_sq, restored_sq)
    restored_vs_lowest = paired_gap(restored_sq, val_sq[low])
    final_vs_lowest = paired_gap(end_sq, val_sq[low])
    if not rule.stopped:
        code = "never"
    elif final_vs_restored.clear:
        code = "helped"
    elif final_vs_restored.clear_below:
        code = "too_early"
    else:
        code = "no_gain"
    steps = run.epochs
    return EarlyStopStudy(
        s, int(patience), steps, run.train_loss, run.val_loss, int(steps[b]), int(steps[rule.stop_epoch]),
        bool(rule.stopped), restored_val, restored_train, run.final_val, run.final_train,
        float(run.val_loss[low]), int(steps[low]), run.train, run.val, run.x_grid, run.y_truth, run.y_final,
        y_restored, float(s.noise) ** 2, final_vs_restored, restored_vs_lowest, final_vs_lowest, code)


# ----------------------------------------------------------------------------------------------
# Choosing the learning rate: k-fold cross-validated grid search
# ----------------------------------------------------------------------------------------------
LR_OPTIONS = tuple(float(f"{10.0 ** (k / 4):.3g}") for k in range(-24, 5))   # 1e-6 … 10 = specs.LR_MIN … LR_MAX
CV_STEPS = (10, 20, 50, 100, 200, 500)
CV_COUNT = 15               # learning rates in the grid
CV_NOISE = 0.3


@dataclass
class LRSearch:
    """A cross-validated learning-rate grid search on polynomial features of noisy data.

    ``result``: :class:`optlab.validation.GridSearchResult`; ``val_mean_curve`` (steps+1, n_lr)
    the validation MSE over steps averaged over folds (NaN once a fold diverged);
    ``gd_limit``: the largest learning rate for which plain gradient descent is stable on every
    fold's training loss, :math:`1/\\lambda_{\\max}(\\Phi_T^\\top\\Phi_T/m)` (meaningful for SGD only).
    """

    result: validation.GridSearchResult
    optimizer: str
    steps: int
    k: int
    degree: int
    n: int
    val_mean_curve: np.ndarray
    gd_limit: float
    noise_var: float

    @property
    def chosen(self) -> int:
        return self.result.best_index

    @property
    def n_diverged(self) -> int:
        return int(np.count_nonzero(self.result.diverged.any(1)))

    @property
    def smallest_diverged_lr(self) -> float | None:
        d = self.result.diverged.any(1)
        return float(self.result.lrs[d].min()) if d.any() else None

    def divergence_step(self, i: int) -> int:
        """First step at which some fold of learning rate ``i`` was stopped as diverged (−1: none)."""
        curves = self.result.train_curves[:, i, :]          # (steps+1, k), NaN from the divergence on
        bad = ~np.isfinite(curves)
        return int(np.argmax(bad.any(1))) if bad.any() else -1

    def rows(self) -> list[dict]:
        """One table row per learning rate (English keys, the page translates the headers): mean and
        spread of the validation MSE (None where a fold diverged), diverged folds, the choice."""
        r = self.result
        out = []
        for i, lr in enumerate(r.lrs):
            nd = int(r.diverged[i].sum())
            out.append({"learning rate": float(lr),
                        "mean validation MSE": float(r.mean[i]) if np.isfinite(r.mean[i]) else None,
                        "std over folds": float(r.std[i]) if np.isfinite(r.std[i]) else None,
                        "diverged folds": nd, "chosen": i == r.best_index})
        return out


GD_LIMIT_LATEX = (r"L_T(w) = \frac1m\lVert \Phi_T w - y_T\rVert^2,\quad \nabla^2 L_T = \frac2m\Phi_T^\top\Phi_T"
                  r"\;\Rightarrow\; \text{gradient descent is stable for } "
                  r"\gamma < \frac{2}{\lambda_{\max}(\nabla^2 L_T)} = \frac{1}{\lambda_{\max}(\Phi_T^\top\Phi_T/m)}")


def lr_grid(lr_min: float, lr_max: float, count: int = CV_COUNT) -> np.ndarray:
    """``count`` log-spaced learning rates from ``lr_min`` to ``lr_max``."""
    if not (0 < lr_min < lr_max):
        raise OptlabError(f"need 0 < lr_min < lr_max, got {lr_min!r} and {lr_max!r}")
    return np.logspace(np.log10(lr_min), np.log10(lr_max), int(count))


def lr_search(n: int = 60, noise: float = CV_NOISE, degree: int = 8, k: int = 5, steps: int = 100,
              optimizer: str = "sgd", lr_min: float = 1e-3, lr_max: float = 3.0, count: int = CV_COUNT,
              seed: int = 0, func: str = "sin") -> LRSearch:
    """k-fold CV of the learning rate for gradient descent on the degree-``degree`` polynomial
    least-squares loss (:func:`optlab.validation.lr_grid_search_cv`, one batched run).  Its work is
    bounded by the widgets' ranges: 15 rates × 10 folds × 500 steps on 200 points of 13 features
    at most (≈ 0.15 s)."""
    train, _unused = poly_split(n, noise, seed, func)
    phi = polynomial.features(train.x, degree)
    res = validation.lr_grid_search_cv(phi, train.y, lr_grid(lr_min, lr_max, count), k=k, steps=steps,
                                       optimizer=optimizer, seed=seed)
    with np.errstate(invalid="ignore"):
        curve = res.val_curves.mean(axis=2)   # NaN where any fold diverged
    # the training loss of fold T is a quadratic with Hessian (2/m)·Φ_TᵀΦ_T
    limit = min(theory.stability_limit(0.0, np.linalg.eigvalsh(2.0 * (phi[tr].T @ phi[tr]) / len(tr))[-1])
                for tr, _v in res.folds)
    return LRSearch(res, optimizer, int(steps), int(k), int(degree), int(n), curve, float(limit), float(noise) ** 2)


@dataclass(frozen=True)
class SearchVerdict:
    """What the search's captions may say.

    ``code``: ``"all_diverged"`` or ``"chosen"``.  ``plateau`` (lo, hi): the learning rates around
    the chosen one whose validation MSE is not clearly higher on the same folds (:func:`paired_gap`
    over the k folds) — a flat floor when it holds more than one rate (any of them would do); ``edge``: the chosen rate is the
    ``"largest"`` or ``"smallest"`` of the grid (the best may lie beyond), else ``""``.
    ``diverged``: ``"none"``, ``"above"`` (every rate from the smallest diverged one up diverged:
    "from lr = … up") or ``"scattered"``.  ``theory`` (SGD only, else ``""``): ``"agrees"`` (the
    runs diverged exactly above the stability limit), ``"slow"`` (some rates above the limit had not
    reached the blow-up threshold within the steps: ``slow_lrs``), ``"differs"``.
    ``smallest``: the smallest rate against the chosen one on the same folds: ``"too_slow"``
    (clearly worse), ``"as_good"``, ``"chosen"`` (it is the chosen one) or ``"diverged"``.
    """

    code: str
    plateau: tuple[float, float] | None
    plateau_count: int
    edge: str
    diverged: str
    theory: str
    slow_lrs: tuple[float, ...]
    smallest: str


def search_verdict(search: LRSearch) -> SearchVerdict:
    r = search.result
    lrs = np.asarray(r.lrs, dtype=float)
    div = r.diverged.any(1)
    if div.any():
        first = int(np.flatnonzero(div)[0])
        div_code = "above" if div[first:].all() else "scattered"
    else:
        div_code = "none"
    theory_code, slow = "", ()
    if search.optimizer == "sgd":
        above = lrs > search.gd_limit
        slow = tuple(float(v) for v in lrs[above & ~div])
        if np.array_equal(above, div):
            theory_code = "agrees"
        elif not (div & ~above).any():
            theory_code = "slow"
        else:
            theory_code = "differs"
    b = r.best_index
    if b < 0:
        return SearchVerdict("all_diverged", None, 0, "", div_code, theory_code, slow, "diverged")
    ok = np.array([np.isfinite(r.mean[i]) and not paired_gap(r.scores[i], r.scores[b]).clear
                   for i in range(len(lrs))])
    # the contiguous run of rates around the chosen one that are not clearly worse on the same folds
    lo = hi = b
    while lo - 1 >= 0 and ok[lo - 1]:
        lo -= 1
    while hi + 1 < len(lrs) and ok[hi + 1]:
        hi += 1
    edge = "largest" if b == len(lrs) - 1 else "smallest" if b == 0 else ""
    if b == 0:
        smallest = "chosen"
    elif div[0]:
        smallest = "diverged"
    else:
        smallest = "too_slow" if paired_gap(r.scores[0], r.scores[b]).clear else "as_good"
    return SearchVerdict("chosen", (float(lrs[lo]), float(lrs[hi])), int(hi - lo + 1), edge, div_code, theory_code,
                         slow, smallest)


def fold_spread(search: LRSearch) -> float:
    """The median over the learning rates that never diverged of the spread (std) of the folds'
    validation MSE: how much a score depends on which points validate it."""
    r = search.result
    ok = np.isfinite(r.std)
    return float(np.median(r.std[ok])) if ok.any() else float("nan")


# ----------------------------------------------------------------------------------------------
# Gradient lab: a deep MLP on two spirals
# ----------------------------------------------------------------------------------------------
LAB_LR_OPTIONS = (1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0)
LAB_SCALE_OPTIONS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0)
LAB_CLIP_OPTIONS = (0.1, 0.3, 1.0, 3.0, 10.0)
# Why no 64: a (64×64)(64×64) product reaches OpenBLAS's threading threshold (2^18 multiply-adds);
# on a busy 2-core server its threads wait for each other and training gets ~10× slower.
LAB_WIDTHS = (8, 16, 32)
LAB_STEPS = (100, 200, 300, 400, 600)
LAB_TRAIN = 600
LAB_VAL = 300
LAB_NOISE = 0.05
LAB_BATCH = 64
LAB_RECORDS = 30            # activation statistics and evaluation losses: at most ~30 checks per run
HIST_BINS = 40
STEP_QUANTUM = 10           # a run cut by the budget trains a multiple of 10 steps
FLOW_VANISH, FLOW_EXPLODE = 1e-2, 1e2   # ‖g₁‖/‖g_out‖ below / above: the gradient vanishes / grows


@dataclass(frozen=True)
class LabSettings:
    """Everything that defines one gradient-lab run (hashable: a cache key)."""

    depth: int = 20
    width: int = 32
    activation: str = "sigmoid"
    init: str = "normal"
    init_scale: float = 1.0
    batch_norm: bool = False
    residual: bool = False
    optimizer: str = "sgd"
    lr: float = 0.1
    clip_norm: float | None = None
    steps: int = 200
    seed: int = 0

    def config(self) -> mlp.MLPConfig:
        return mlp.MLPConfig(depth=self.depth, width=self.width, activation=self.activation, init=self.init,
                             init_scale=self.init_scale, batch_norm=self.batch_norm, residual=self.residual,
                             n_in=2, n_out=2, task="classification", seed=self.seed)

    def describe(self) -> str:
        """The settings in a few words, in the active language."""
        init = f"N(0, {self.init_scale:g}²)" if self.init == "normal" else {"xavier": "Xavier", "he": "He"}[self.init]
        parts = [_("{depth} × {width} {activation}").format(depth=self.depth, width=self.width,
                                                             activation=self.activation),
                 _("{init} init").format(init=init)]
        if self.batch_norm:
            parts.append(_("batch norm"))
        if self.residual:
            parts.append(_("residual"))
        parts.append(_("{optimizer} lr {lr}").format(optimizer="SGD" if self.optimizer == "sgd" else "Adam",
                                                      lr=f"{self.lr:g}"))
        if self.clip_norm is not None:
            parts.append(_("clip ‖g‖ ≤ {c}").format(c=f"{self.clip_norm:g}"))
        return _(", ").join(parts)


@dataclass(frozen=True)
class LabPreset:
    key: str
    title: str                # msgid
    settings: LabSettings


LAB_PRESETS = (
    LabPreset("vanishing", N_("Vanishing: sigmoid, naive init"),
              LabSettings(depth=20, activation="sigmoid", init="normal", init_scale=1.0, optimizer="sgd", lr=0.1)),
    LabPreset("exploding", N_("Exploding: ReLU, large init"),
              LabSettings(depth=20, activation="relu", init="normal", init_scale=0.5, optimizer="sgd", lr=0.1)),
    LabPreset("healthy", N_("Healthy: ReLU, He init, Adam"),
              LabSettings(depth=20, activation="relu", init="he", optimizer="adam", lr=0.003)),
)


def lab_preset(key: str) -> LabPreset:
    for p in LAB_PRESETS:
        if p.key == key:
            return p
    raise OptlabError(f"unknown lab preset {key!r}; choose one of {[p.key for p in LAB_PRESETS]}")


# (key, label msgid, changes): each fix changes one thing; "he" also picks the activation He init is for.
FIXES = (
    ("batch_norm", N_("+ batch norm"), dict(batch_norm=True)),
    ("residual", N_("+ residual connections"), dict(residual=True)),
    ("he", N_("+ ReLU with He init"), dict(activation="relu", init="he")),
    ("adam", N_("+ Adam (lr 0.001)"), dict(optimizer="adam", lr=0.001)),
    ("clip", N_("+ gradient clipping (‖g‖ ≤ 1)"), dict(clip_norm=1.0)),
)
BASELINE = N_("baseline")


def apply_fix(settings: LabSettings, key: str) -> LabSettings | None:
    """``settings`` with fix ``key`` applied, or None if it is already in place."""
    for k, _label, changes in FIXES:
        if k == key:
            new = dataclasses.replace(settings, **changes)
            return None if new == settings else new
    raise OptlabError(f"unknown fix {key!r}; choose one of {[f[0] for f in FIXES]}")


def fix_runs(settings: LabSettings) -> list[tuple[str, LabSettings]]:
    """``[("baseline", settings), (fix key, settings with that fix), …]``: fixes already in place
    are left out."""
    runs = [("baseline", settings)]
    for key, _label, _changes in FIXES:
        new = apply_fix(settings, key)
        if new is not None:
            runs.append((key, new))
    return runs


def fix_label(key: str) -> str:
    """The label of a comparison run (``"baseline"`` or a fix key), in the active language."""
    if key == "baseline":
        return _(BASELINE)
    return _(next(label for k, label, _c in FIXES if k == key))


LAB_MIN_GAP = 5             # a record evaluates 900 points (≈ 4 training steps): at most one every 5 steps


def lab_record_every(steps: int) -> int:
    """Steps between records: about :data:`LAB_RECORDS` records per run, never more often than
    every :data:`LAB_MIN_GAP` steps (a short run spends its budget on training, not on checks)."""
    return max(LAB_MIN_GAP, -(-int(steps) // LAB_RECORDS))


def lab_cost(settings: LabSettings, steps: int | None = None) -> float:
    """Work of training ``settings`` (for ``steps`` steps) in budget evaluations
    (:func:`optlab.mlp.train_cost`: mini-batches of 64, the records' evaluations included)."""
    steps = settings.steps if steps is None else int(steps)
    return mlp.train_cost(settings.config(), LAB_TRAIN, steps=steps, batch_size=LAB_BATCH, n_val=LAB_VAL,
                          record_every=lab_record_every(steps))


def _cut_steps(requested: int, allowed: int, label: str) -> tuple[int, Cut | None]:
    if allowed >= requested:
        return requested, None
    steps = max(1, allowed // STEP_QUANTUM * STEP_QUANTUM) if allowed >= STEP_QUANTUM else max(1, allowed)
    return steps, Cut("steps", requested, steps, Cut.why, label, "step")


def plan_lab(settings: LabSettings, budget: Budget | None = None) -> tuple[LabSettings, Cut | None]:
    """``settings`` with the steps one rerun can train (:class:`optlab.budget.Budget`), and the
    :class:`~optlab.budget.Cut` when that is fewer than asked."""
    budget = Budget() if budget is None else budget
    allowed, cut = budget.fit_cost(settings.steps, lambda k: lab_cost(settings, k), what="steps")
    steps, cut = _cut_steps(settings.steps, allowed, "one network")
    return (settings if cut is None else dataclasses.replace(settings, steps=steps)), cut


def plan_comparison(settings: LabSettings, budget: Budget | None = None
                    ) -> tuple[list[tuple[str, LabSettings]], Cut | None]:
    """The baseline and every fix alone (:func:`fix_runs`), all with the same number of steps: as
    many as one rerun's budget affords for all of them together (the budget split across the
    trainings in proportion to their cost), and the :class:`~optlab.budget.Cut` if fewer than asked."""
    budget = Budget() if budget is None else budget
    runs = fix_runs(settings)
    allowed, _cut = budget.fit_cost(settings.steps, lambda k: sum(lab_cost(s, k) for _k, s in runs), what="steps")
    steps, cut = _cut_steps(settings.steps, allowed, f"{len(runs)} networks")
    if cut is not None:
        cut = dataclasses.replace(cut, detail={"runs": len(runs)})
    return [(k, dataclasses.replace(s, steps=steps)) for k, s in runs], cut


def lab_data(seed: int = 0):
    """``(X, y, X_val, y_val)``: two spirals, 600 training and 300 validation points."""
    X, y = mlp.two_spirals(LAB_TRAIN, LAB_NOISE, seed=seed)
    Xv, yv = mlp.two_spirals(LAB_VAL, LAB_NOISE, seed=seed + 1)
    return X, y, Xv, yv


@dataclass(frozen=True)
class InitGradients:
    """The untrained network's gradient, layer by layer, on all 600 training points: ``norms``
    (depth+1,) input side first, the output layer last; ``loss`` the starting loss."""

    norms: np.ndarray
    loss: float

    @property
    def ratio(self) -> float:
        """‖∂L/∂θ₁‖ / ‖∂L/∂θ_out‖: ≪ 1 vanishing, ≫ 1 exploding towards the input (NaN if undefined)."""
        g = self.norms
        if not (np.all(np.isfinite(g)) and g[-1] > 0):
            return float("nan")
        return float(g[0] / g[-1])


def initial_gradients(settings: LabSettings) -> InitGradients:
    """One forward and backward pass of the untrained network on the whole training set (a few
    milliseconds: the page draws it on every change, before any training)."""
    cfg = settings.config()
    X, y, _xv, _yv = lab_data(settings.seed)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        loss, g = mlp.loss_and_grad(cfg, mlp.init_params(cfg), X, y)
        norms = np.sqrt(np.add.reduceat(g * g, mlp.layer_offsets(cfg)[:-1]))
    return InitGradients(norms, float(loss))


HUGE_GRAD = 1e3             # a layer gradient norm above this is "huge" (the signal blew up on its way)


def flow_code(norms) -> str:
    """How the gradient reaches the layers (``norms``: per layer, input side first, output last):
    ``"undefined"`` (a norm is NaN/∞ or the output layer's is 0), ``"huge"`` (every layer's norm is
    above :data:`HUGE_GRAD`: the values exploded on the way through the network), ``"vanishes"``
    (‖g₁‖/‖g_out‖ < 10⁻²), ``"grows"`` (> 10²: larger towards the input), ``"flows"`` (within 100×)."""
    g = np.asarray(norms, dtype=float)
    if g.size == 0 or not np.all(np.isfinite(g)) or g[-1] <= 0:
        return "undefined"
    if np.all(g > HUGE_GRAD):
        return "huge"
    ratio = g[0] / g[-1]
    return "vanishes" if ratio < FLOW_VANISH else "grows" if ratio > FLOW_EXPLODE else "flows"


@dataclass
class LabResult:
    """What the lab draws about one run (a lean copy of :class:`optlab.mlp.TrainingHistory`).

    ``grad_norms`` (steps_done, depth+1): 2-norm of each layer's gradient per step (before
    clipping; layer depth+1 is the output layer). ``hist_init``/``hist_end`` (depth, HIST_BINS):
    the fraction of a layer's activations in each bin of ``bin_edges``, at initialisation and at
    the end (values beyond the edges counted in the outer bins).
    """

    settings: LabSettings
    key: str
    label: str
    loss: np.ndarray
    grad_norms: np.ndarray
    grad_norm: np.ndarray
    grad_norm_clipped: np.ndarray
    record_steps: np.ndarray
    train_loss: np.ndarray
    val_loss: np.ndarray
    val_accuracy: np.ndarray
    act_std: np.ndarray
    act_flat: np.ndarray
    flat_label: str
    bin_edges: np.ndarray
    hist_init: np.ndarray
    hist_end: np.ndarray
    train_accuracy: float
    final_val_accuracy: float
    final_train_loss: float
    diverged_at: int
    message: str
    seconds: float
    steps: int

    @property
    def diverged(self) -> bool:
        return self.diverged_at >= 0

    @property
    def steps_done(self) -> int:
        return int(len(self.grad_norms))

    @property
    def grad_first_step(self) -> np.ndarray:
        """Gradient norm per layer (input side first, output layer last) at the first step."""
        return self.grad_norms[0]

    @property
    def grad_last_step(self) -> np.ndarray:
        return self.grad_norms[-1]

    @property
    def flat_at_start(self) -> float:
        """Share of all hidden activations in the activation's flat region at the first check."""
        return float(np.nanmean(self.act_flat[0])) if len(self.act_flat) else float("nan")

    @property
    def first_to_last(self) -> float:
        """‖∂L/∂W₁‖ / ‖∂L/∂W_out‖ at the first step: ≪ 1 vanishing, ≫ 1 exploding towards the input
        (NaN when undefined)."""
        g = self.grad_norms[0]
        return float(g[0] / g[-1]) if np.all(np.isfinite(g)) and g[-1] > 0 else float("nan")


def _bin_edges(activation: str, samples: np.ndarray) -> np.ndarray:
    if activation == "sigmoid":
        return np.linspace(0.0, 1.0, HIST_BINS + 1)
    if activation == "tanh":
        return np.linspace(-1.0, 1.0, HIST_BINS + 1)
    s = samples[np.isfinite(samples)]
    if s.size == 0:
        return np.linspace(0.0, 1.0, HIST_BINS + 1)
    lo = min(0.0, float(np.quantile(s, 0.01)))
    hi = float(np.quantile(s, 0.99))
    if not hi > lo:
        hi = lo + 1.0
    return np.linspace(lo, hi, HIST_BINS + 1)


def layer_histograms(samples: np.ndarray | None, edges: np.ndarray) -> np.ndarray:
    """(depth, bins) fraction of each layer's finite samples per bin; outliers go to the end bins."""
    if samples is None or samples.size == 0:
        return np.zeros((0, len(edges) - 1))
    out = np.zeros((samples.shape[0], len(edges) - 1))
    for l, s in enumerate(samples):
        s = s[np.isfinite(s)]
        if s.size:
            counts, _edges = np.histogram(np.clip(s, edges[0], edges[-1]), bins=edges)
            out[l] = counts / s.size
    return out


def summarize_lab(settings: LabSettings, hist: mlp.TrainingHistory, key: str = "", label: str | None = None
                  ) -> LabResult:
    """The lean :class:`LabResult` of a training history."""
    init = hist.activation_samples_init
    edges = _bin_edges(settings.activation, init if init is not None else np.zeros((0, 0)))
    va = hist.val_accuracy if hist.val_accuracy is not None else np.full(len(hist.record_steps), np.nan)
    vl = hist.val_loss if hist.val_loss is not None else np.full(len(hist.record_steps), np.nan)
    return LabResult(
        settings=settings, key=key, label=label or settings.describe(), loss=hist.loss, grad_norms=hist.grad_norms,
        grad_norm=hist.grad_norm, grad_norm_clipped=hist.grad_norm_clipped, record_steps=hist.record_steps,
        train_loss=hist.train_loss_eval, val_loss=vl, val_accuracy=va, act_std=hist.act_std,
        act_flat=hist.act_flat, flat_label=hist.flat_label, bin_edges=edges,
        hist_init=layer_histograms(init, edges), hist_end=layer_histograms(hist.activation_samples, edges),
        train_accuracy=float(hist.train_accuracy), final_val_accuracy=float(hist.final_val_accuracy),
        final_train_loss=float(hist.final_train_loss), diverged_at=int(hist.diverged_at), message=hist.message,
        seconds=float(hist.seconds), steps=int(hist.steps))


def train_lab(settings: LabSettings, callback: Callable[[int, int], None] | None = None,
              key: str = "", label: str | None = None) -> LabResult:
    """Train the lab network of ``settings`` on two spirals (mini-batches of 64) for exactly
    ``settings.steps`` steps (plan them with :func:`plan_lab`)."""
    X, y, Xv, yv = lab_data(settings.seed)
    hist = mlp.train(settings.config(), X, y, settings.optimizer, {"lr": settings.lr}, steps=settings.steps,
                     batch_size=LAB_BATCH, clip_norm=settings.clip_norm, seed=settings.seed, X_val=Xv, y_val=yv,
                     record_every=lab_record_every(settings.steps), callback=callback)
    return summarize_lab(settings, hist, key, label)


def compare_fixes(runs: list[tuple[str, LabSettings]], callback: Callable[[int, int], None] | None = None
                  ) -> list[LabResult]:
    """Train the planned ``runs`` (:func:`plan_comparison`) one after the other on the same data.
    ``callback(done, total)`` reports progress over all runs together (in steps)."""
    total = sum(s.steps for _k, s in runs)
    out, done = [], 0
    for key, s in runs:
        cb = None
        if callback is not None:
            cb = (lambda off: (lambda step, _n: callback(off + step, total)))(done)
        out.append(train_lab(s, cb, key=key, label=fix_label(key)))
        done += s.steps
        if callback is not None:
            callback(done, total)
    return out


def accuracy_gap(a: float, b: float, n: int = LAB_VAL) -> float:
    """How many standard errors accuracy ``a`` is above ``b`` (binomial, ``n`` points each)."""
    se = math.sqrt(max(a * (1 - a), 1e-12) / n + max(b * (1 - b), 1e-12) / n)
    return (a - b) / se


def learn_code(r: LabResult) -> str:
    """``"diverged"``, ``"learns"`` (validation accuracy clearly above the 50 % of a guess) or ``"guesses"``."""
    if r.diverged:
        return "diverged"
    return "learns" if accuracy_gap(r.final_val_accuracy, 0.5) > CLEAR else "guesses"


@dataclass(frozen=True)
class CompareVerdict:
    """What the comparison's caption may say: ``best`` the fix keys with the highest validation
    accuracy (several when they tie within :data:`CLEAR` standard errors of it; diverged runs never
    win unless all diverged, then ``best`` is empty); ``helped`` the fixes clearly above the
    baseline, ``hurt`` those clearly below it; ``baseline`` its :func:`learn_code`."""

    best: tuple[str, ...]
    best_accuracy: float
    helped: tuple[str, ...]
    hurt: tuple[str, ...]
    baseline: str


def compare_verdict(runs: list[LabResult]) -> CompareVerdict:
    base, fixes = runs[0], [r for r in runs[1:] if not r.diverged]
    b_acc = base.final_val_accuracy if not base.diverged else 0.5
    if not fixes:
        return CompareVerdict((), float("nan"), (), tuple(r.key for r in runs[1:]), learn_code(base))
    top = max(r.final_val_accuracy for r in fixes)
    best = tuple(r.key for r in fixes if accuracy_gap(top, r.final_val_accuracy) <= CLEAR)
    helped = tuple(r.key for r in fixes if accuracy_gap(r.final_val_accuracy, b_acc) > CLEAR)
    hurt = tuple(r.key for r in runs[1:] if r.diverged or accuracy_gap(b_acc, r.final_val_accuracy) > CLEAR)
    return CompareVerdict(best, float(top), helped, hurt, learn_code(base))


# ----------------------------------------------------------------------------------------------
# Clipping on the cliff
# ----------------------------------------------------------------------------------------------
CLIFF_LR_OPTIONS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)
CLIFF_CLIP_OPTIONS = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)
CLIFF_OPTIMIZERS = ("sgd", "adam")
REACH_TOL = 1e-2


@dataclass
class CliffRun:
    """One run from the cliff's edge with the numbers a caption needs."""

    trajectory: object        # optlab.Trajectory
    step_lengths: np.ndarray  # (T,) ‖x_{t+1} − x_t‖
    longest_step: float
    longest_at: int           # step index (0-based) of the longest step
    grad_at_longest: float
    left_window_at: int       # first step whose point is outside the surface's window (−1: never)
    final_distance: float     # to the minimum
    reached_at: int           # first step within ``reach_tol`` of the minimum (−1: never)
    largest_grad: float       # the longest gradient met along the path (before clipping)
    diverged_at: int          # −1: never

    @property
    def thrown(self) -> bool:
        return self.left_window_at >= 0

    @property
    def fate(self) -> str:
        """``"diverged"``, ``"reached"`` (within the tolerance of the minimum at some step),
        ``"thrown"`` (it left the window and did not come back to the minimum) or ``"short"``
        (still on its way when the steps ran out)."""
        if self.diverged_at >= 0:
            return "diverged"
        if self.reached_at >= 0:
            return "reached"
        return "thrown" if self.thrown else "short"


@dataclass
class CliffDemo:
    """Both runs; the surface is ``optlab.surfaces.get("cliff", **surface_params)`` (not stored:
    its functions are closures, and results must pickle for caching)."""

    surface_params: dict
    start: tuple
    optimizer: str
    lr: float
    clip_norm: float
    steps: int
    plain: CliffRun
    clipped: CliffRun
    reach_tol: float

    @property
    def clipping_active(self) -> bool:
        """Some gradient along the clipped run was longer than the clip norm (so clipping acted)."""
        return bool(self.clipped.largest_grad > self.clip_norm)


def _cliff_run(surface, tr, reach_tol) -> CliffRun:
    xs = np.asarray(tr.xs, dtype=float)
    steps = np.linalg.norm(np.diff(xs, axis=0), axis=-1)
    steps = np.where(np.isfinite(steps), steps, np.inf)
    i = int(np.argmax(steps)) if steps.size else 0
    (x0, x1), (y0, y1) = surface.window
    outside = ~((xs[:, 0] >= x0) & (xs[:, 0] <= x1) & (xs[:, 1] >= y0) & (xs[:, 1] <= y1))
    dist = np.asarray(surface.distance_to_minimum(xs), dtype=float)
    reached = np.flatnonzero(dist <= reach_tol)
    fin = dist[np.isfinite(dist)]
    g = np.asarray(tr.grad_norms, dtype=float)
    return CliffRun(tr, steps, float(steps[i]) if steps.size else 0.0, i, float(g[i]),
                    int(np.argmax(outside)) if outside.any() else -1,
                    float(fin[-1]) if fin.size else float("inf"),
                    int(reached[0]) if reached.size else -1,
                    float(np.nanmax(g)) if np.isfinite(g).any() else float("inf"), int(tr.diverged_at))


def cliff_demo(lr: float = 0.1, clip_norm: float = 1.0, steps: int = 100, start: int = 0,
               optimizer: str = "sgd", h: float = 3.0, s: float = 200.0, reach_tol: float = REACH_TOL) -> CliffDemo:
    """The same optimizer from the same start on the cliff surface, without and with norm clipping
    (``optlab.run(..., clip_norm=…)``, torch's ``clip_grad_norm_``).  Two runs of at most 300
    steps on a 2-D surface: a millisecond or two."""
    from .. import optimizers, surfaces
    from ..runner import run

    surface = surfaces.get("cliff", h=h, s=s)
    if not 0 <= int(start) < len(surface.starts):
        raise OptlabError(f"start must be 0..{len(surface.starts) - 1}, got {start!r}")
    x0 = np.asarray(surface.starts[int(start)], dtype=float)
    name = optimizers.info(optimizer).title
    plain = run(surface, optimizers.make(optimizer, lr=lr), x0, steps)
    plain.label = _("{name}, no clipping").format(name=name)
    clipped = run(surface, optimizers.make(optimizer, lr=lr), x0, steps, clip_norm=clip_norm)
    clipped.label = _("{name}, clipped to ‖g‖ ≤ {c}").format(name=name, c=f"{clip_norm:g}")
    return CliffDemo({"h": float(h), "s": float(s)}, tuple(float(v) for v in x0), optimizer, float(lr),
                     float(clip_norm), int(steps),
                     _cliff_run(surface, plain, reach_tol), _cliff_run(surface, clipped, reach_tol), reach_tol)


@dataclass(frozen=True)
class CliffVerdict:
    """What the cliff's captions may say: each run's :attr:`CliffRun.fate`; ``clipping``:
    ``"inactive"`` (no gradient along the clipped path was longer than the clip norm: clipping
    changed nothing), ``"shortened"`` (the longest clipped step is shorter than the longest plain
    step by more than a tenth), ``"similar"`` (clipping acted, yet the longest steps are within a
    tenth of each other: Adam's steps hardly depend on the gradient's length); ``bound``: for SGD
    the clipped steps are at most lr·c (+ torch's 10⁻⁶ in the norm), checked."""

    plain: str
    clipped: str
    clipping: str
    bound_holds: bool


def cliff_verdict(demo: CliffDemo) -> CliffVerdict:
    p, c = demo.plain, demo.clipped
    if not demo.clipping_active:
        clipping = "inactive"
    elif c.longest_step < 0.9 * p.longest_step:
        clipping = "shortened"
    else:
        clipping = "similar"
    bound = demo.optimizer != "sgd" or bool(c.longest_step <= demo.lr * demo.clip_norm * (1 + 1e-9))
    return CliffVerdict(p.fate, c.fate, clipping, bound)


def first_step_bucket(demo: CliffDemo) -> int:
    """Where the first unclipped step lands: 0 shorter than 1, 1 inside the 6-wide window, 2 out of it."""
    s = float(demo.plain.step_lengths[0]) if len(demo.plain.step_lengths) else 0.0
    return 0 if s < 1.0 else 1 if demo.plain.left_window_at != 1 else 2


def chosen_position(search: LRSearch) -> str:
    """Where the chosen learning rate sits among the rates that never diverged: ``"top"`` (the
    largest such rate or the one below it), ``"middle"``, or ``"none"`` (every rate diverged)."""
    r = search.result
    b = r.best_index
    ok = np.flatnonzero(~r.diverged.any(1))
    if b < 0 or ok.size == 0:
        return "none"
    return "top" if b >= int(ok[-1]) - 1 else "middle"
