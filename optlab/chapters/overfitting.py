r"""The chapter "Overfitting, regularization and gradient problems": its experiments, assembled
from the engine (:mod:`optlab.polynomial`, :mod:`optlab.validation`, :mod:`optlab.mlp`,
:func:`optlab.run`) as pure functions of hashable settings, so a page can cache them.

Sections and what they compute:

* overfitting: polynomial least squares of every degree on noisy samples of a smooth function;
  training and validation MSE per degree (the U curve) and per number of points (learning curve).
* regularization: ridge (L2) and lasso (L1) fits and their coefficient paths over λ.
* early stopping: a small MLP regressor on the same kind of data, validation loss during
  training, and the patience rule replayed on it.
* learning rate by cross-validation: one batched k-fold grid search over learning rates.
* gradient lab: a deep MLP on two spirals with per-layer gradient norms and activation statistics;
  presets for vanishing and exploding gradients and the usual fixes, one at a time.
* clipping: plain and norm-clipped gradient descent from the edge of the cliff surface.

Validation data are drawn from the same distribution as the training data with a different seed
(``seed + VAL_SEED_OFFSET``), so "validation error" estimates the error on unseen data.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np

from .. import mlp, polynomial, theory, validation
from ..errors import OptlabError, check_choice

N_VAL = 200                 # validation points of the 1-D regression sections
VAL_SEED_OFFSET = 10_000    # validation draw: seed + this, never the training draw
GRID_POINTS = 300           # x grid on which fitted curves are drawn

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


def _grid(n: int = GRID_POINTS) -> np.ndarray:
    return np.linspace(-1.0, 1.0, n)


# ----------------------------------------------------------------------------------------------
# Shared data: noisy samples of a smooth function on [-1, 1]
# ----------------------------------------------------------------------------------------------
class Sample(NamedTuple):
    """Points ``x`` (sorted) and noisy targets ``y`` (plain arrays: results stay picklable for caches)."""

    x: np.ndarray
    y: np.ndarray


def truth(x, func: str = "sin") -> np.ndarray:
    """The noise-free function ``func`` of :data:`optlab.polynomial.TRUTHS` at ``x``."""
    check_choice("truth function", func, polynomial.TRUTHS)
    return polynomial.TRUTHS[func][1](np.asarray(x, dtype=float))


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
    the validation error no model can beat on average.
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

    @property
    def best_degree(self) -> int:
        return self.curve.best_degree

    @property
    def best_val_mse(self) -> float:
        return float(np.min(self.curve.val))

    @property
    def val_over_train(self) -> float:
        """Validation MSE / training MSE: about 1 for a fit that generalises, ≫ 1 for one that memorised."""
        return self.val_mse / max(self.train_mse, 1e-12)

    @property
    def interpolates(self) -> bool:
        """More coefficients than points: the fit passes through every training point."""
        return self.degree + 1 >= len(self.train.x)


def degree_fit(n: int, noise: float, degree: int, seed: int = 0, func: str = "sin") -> DegreeFit:
    """Least-squares polynomial of ``degree`` on ``n`` noisy points, with the U curve over degrees.

    With fewer points than coefficients the minimum-norm interpolant is used (see
    :func:`optlab.polynomial.ridge_design`)."""
    train, val = poly_split(n, noise, seed, func)
    curve = polynomial.degree_curve(train.x, train.y, val.x, val.y, DEGREES)
    coef = polynomial.fit_ridge(train.x, train.y, degree, 0.0)
    x = _grid()
    i = DEGREES.index(int(degree))
    return DegreeFit(train, val, int(degree), coef, x, polynomial.predict(coef, x, degree), truth(x, func),
                     float(curve.train[i]), float(curve.val[i]), curve, float(noise) ** 2)


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


def learning_curve(degree: int, noise: float, sizes=LEARNING_SIZES, reps: int = 20, seed: int = 0,
                   func: str = "sin") -> LearningCurve:
    """Train/validation MSE of the degree-``degree`` least-squares fit for every size in ``sizes``.

    Every repetition draws a new training set (seeds ``seed·1000 + r``); the validation set is one
    fixed draw of :data:`N_VAL` points. The median over draws shows the trend: near interpolation
    (n ≈ degree + 1) a single unlucky draw can have a validation MSE of 10⁹, which would swamp a mean.
    """
    sizes = np.asarray(sizes, dtype=int)
    _, val = poly_split(1, noise, seed, func)
    tr = np.zeros((len(sizes), reps))
    va = np.zeros((len(sizes), reps))
    for i, n in enumerate(sizes):
        for r in range(reps):
            d = polynomial.make_data(int(n), noise, seed * 1000 + r + 1, func)
            coef = polynomial.fit_ridge(d.x, d.y, degree, 0.0)
            tr[i, r] = polynomial.mse(polynomial.predict(coef, d.x, degree), d.y)
            va[i, r] = polynomial.mse(polynomial.predict(coef, val.x, degree), val.y)
    return LearningCurve(sizes, np.median(tr, 1), np.median(va, 1), int(degree), float(noise) ** 2, int(reps))


# ----------------------------------------------------------------------------------------------
# Regularization: ridge and lasso
# ----------------------------------------------------------------------------------------------
LAMBDA_OPTIONS = tuple(float(f"{10.0 ** (k / 4):.3g}") for k in range(-24, 5))   # 1e-6 … 10, 4 per decade
PATH_LAMBDAS = np.logspace(-6, 1, 71)
ZERO_TOL = 1e-12   # |w| below this counts as exactly zero (the lasso's zeros are exact 0.0)


@dataclass
class PenaltyFit:
    """One penalty ("ridge" or "lasso") at the chosen λ and along the λ grid ``lams``."""

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

    @property
    def nonzero(self) -> int:
        """Non-intercept coefficients that are not exactly zero."""
        return int(np.count_nonzero(np.abs(self.coef[1:]) > ZERO_TOL))

    @property
    def path_nonzero(self) -> np.ndarray:
        return np.count_nonzero(np.abs(self.path[:, 1:]) > ZERO_TOL, axis=1)

    @property
    def best_lam(self) -> float:
        return float(self.lams[int(np.argmin(self.path_val))])

    @property
    def best_val_mse(self) -> float:
        return float(np.min(self.path_val))

    @property
    def shrinkage(self) -> float:
        """‖w'(λ)‖₁ / ‖w'(0)‖₁: how much of the unpenalised coefficients' size is left."""
        ls = np.abs(self.path[0, 1:]).sum()
        return float(np.abs(self.coef[1:]).sum() / ls) if ls > 0 else 0.0


def _penalty(train, val, degree, penalty, lam, lams) -> PenaltyFit:
    check_choice("penalty", penalty, ("ridge", "lasso"))
    fit = polynomial.ridge_path if penalty == "ridge" else polynomial.lasso_path
    lams = np.asarray(lams, dtype=float)
    both = fit(train.x, train.y, degree, np.r_[lams, lam])
    path, coef = both[:-1], both[-1]
    phi_tr = polynomial.features(train.x, degree)
    phi_va = polynomial.features(val.x, degree)
    x = _grid()
    return PenaltyFit(
        penalty, float(lam), coef, polynomial.predict(coef, x, degree),
        float(polynomial.mse(phi_tr @ coef, train.y)), float(polynomial.mse(phi_va @ coef, val.y)),
        lams, path, polynomial.mse(path @ phi_tr.T, train.y), polynomial.mse(path @ phi_va.T, val.y))


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
    ls_val = float(polynomial.mse(polynomial.predict(ls, val.x, degree), val.y))
    return RegularizationStudy(
        train, val, int(degree), x, truth(x, func), ls, polynomial.predict(ls, x, degree), ls_val,
        _penalty(train, val, degree, "ridge", lam_l2, lams), _penalty(train, val, degree, "lasso", lam_l1, lams),
        float(noise) ** 2, polynomial.lasso_lambda_max(train.x, train.y, degree))


# ----------------------------------------------------------------------------------------------
# Early stopping: an MLP regressor that overfits when trained for long
# ----------------------------------------------------------------------------------------------
ES_SIZES = (15, 20, 30, 40, 60)   # ≤ 60 points: (n×64)(64×64) stays below OpenBLAS's threading threshold
ES_WIDTHS = (8, 16, 32, 64)
ES_EPOCHS = (500, 1000, 2000, 3000)


@dataclass(frozen=True)
class EarlyStopSettings:
    """A small MLP regressor on ``n`` noisy points (full batch: one step = one epoch), Adam,
    validation loss checked every ``check_every`` epochs."""

    n: int = 30
    noise: float = 0.3
    width: int = 64
    depth: int = 2
    lr: float = 0.02
    epochs: int = 2000
    check_every: int = 20
    seed: int = 0
    func: str = "sin"

    def config(self) -> mlp.MLPConfig:
        return mlp.MLPConfig(depth=self.depth, width=self.width, activation="tanh", init="xavier",
                             n_in=1, n_out=1, task="regression", seed=self.seed)


def train_early_stopping(settings: EarlyStopSettings, patience: int | None = None,
                         callback: Callable[[int, int], None] | None = None) -> mlp.TrainingHistory:
    """Train the regressor of ``settings``; with ``patience`` (in checks) stop early and restore the
    best weights (:func:`optlab.mlp.train`)."""
    train, val = poly_split(settings.n, settings.noise, settings.seed, settings.func)
    return mlp.train(settings.config(), train.x[:, None], train.y, "adam", {"lr": settings.lr},
                     steps=settings.epochs, batch_size=None, seed=settings.seed,
                     X_val=val.x[:, None], y_val=val.y, record_every=settings.check_every,
                     patience=patience, callback=callback)


@dataclass
class EarlyStopStudy:
    """The full run's curves, the patience rule replayed on them, and the restored weights' score.

    ``best_epoch``/``stop_epoch`` are epochs (steps); ``stopped`` False means the patience never
    ran out and training used every epoch. ``restored_val`` is the validation MSE of the weights
    early stopping returns; ``final_val`` that of the weights after all epochs.
    """

    settings: EarlyStopSettings
    patience: int
    epochs: np.ndarray        # check epochs (R,)
    train_loss: np.ndarray    # (R,) evaluation-mode training MSE
    val_loss: np.ndarray      # (R,)
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

    @property
    def epochs_saved(self) -> int:
        return int(self.settings.epochs - (self.stop_epoch + 1)) if self.stopped else 0


def early_stopping_study(settings: EarlyStopSettings, patience: int, full: mlp.TrainingHistory | None = None,
                         stopped_run: mlp.TrainingHistory | None = None) -> EarlyStopStudy:
    """Assemble the early-stopping picture; pass the (cached) runs or they are trained here."""
    full = full if full is not None else train_early_stopping(settings)
    es = stopped_run if stopped_run is not None else train_early_stopping(settings, patience)
    rule = validation.early_stopping(full.val_loss, patience)
    steps = full.record_steps
    train, val = poly_split(settings.n, settings.noise, settings.seed, settings.func)
    x = _grid()
    cfg = settings.config()
    y_final = mlp.predict(cfg, full.params, x[:, None])[:, 0]
    # The patience run stops at the same check as the replay (tests/test_mlp.py proves it) and
    # returns the best weights; if the patience never ran out it keeps its final weights.
    restored = es.params if es.stopped_at >= 0 else full.params
    y_restored = mlp.predict(cfg, restored, x[:, None])[:, 0]
    restored_val = float(full.val_loss[rule.best_epoch]) if rule.stopped else float(full.final_val_loss)
    restored_train = float(full.train_loss_eval[rule.best_epoch]) if rule.stopped else float(full.final_train_loss)
    low = int(np.nanargmin(full.val_loss))
    return EarlyStopStudy(
        settings, int(patience), steps, full.train_loss_eval, full.val_loss,
        int(steps[rule.best_epoch]), int(steps[rule.stop_epoch]), bool(rule.stopped),
        restored_val, restored_train, float(full.final_val_loss), float(full.final_train_loss),
        float(full.val_loss[low]), int(steps[low]), train, val, x, truth(x, settings.func), y_final, y_restored,
        float(settings.noise) ** 2)


# ----------------------------------------------------------------------------------------------
# Choosing the learning rate: k-fold cross-validated grid search
# ----------------------------------------------------------------------------------------------
LR_OPTIONS = tuple(float(f"{10.0 ** (k / 4):.3g}") for k in range(-20, 5))   # 1e-5 … 10


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
        """One table row per learning rate: mean and spread of the validation MSE, diverged folds."""
        r = self.result
        out = []
        for i, lr in enumerate(r.lrs):
            nd = int(r.diverged[i].sum())
            out.append({"learning rate": float(lr),
                        "mean validation MSE": float(r.mean[i]) if np.isfinite(r.mean[i]) else None,
                        "std over folds": float(r.std[i]) if np.isfinite(r.std[i]) else None,
                        "diverged folds": f"{nd} of {self.k}" if nd else "",
                        "chosen": "★" if i == r.best_index else ""})
        return out


GD_LIMIT_LATEX = (r"L_T(w) = \frac1m\lVert \Phi_T w - y_T\rVert^2,\quad \nabla^2 L_T = \frac2m\Phi_T^\top\Phi_T"
                  r"\;\Rightarrow\; \text{gradient descent is stable for } "
                  r"\gamma < \frac{2}{\lambda_{\max}(\nabla^2 L_T)} = \frac{1}{\lambda_{\max}(\Phi_T^\top\Phi_T/m)}")


def lr_grid(lr_min: float, lr_max: float, count: int = 15) -> np.ndarray:
    """``count`` log-spaced learning rates from ``lr_min`` to ``lr_max``."""
    if not (0 < lr_min < lr_max):
        raise OptlabError(f"need 0 < lr_min < lr_max, got {lr_min!r} and {lr_max!r}")
    return np.logspace(np.log10(lr_min), np.log10(lr_max), int(count))


def lr_search(n: int = 60, noise: float = 0.3, degree: int = 8, k: int = 5, steps: int = 100,
              optimizer: str = "sgd", lr_min: float = 1e-3, lr_max: float = 3.0, count: int = 15,
              seed: int = 0, func: str = "sin") -> LRSearch:
    """k-fold CV of the learning rate for gradient descent on the degree-``degree`` polynomial
    least-squares loss (:func:`optlab.validation.lr_grid_search_cv`, one batched run)."""
    train, _ = poly_split(n, noise, seed, func)
    phi = polynomial.features(train.x, degree)
    res = validation.lr_grid_search_cv(phi, train.y, lr_grid(lr_min, lr_max, count), k=k, steps=steps,
                                       optimizer=optimizer, seed=seed)
    with np.errstate(invalid="ignore"):
        curve = res.val_curves.mean(axis=2)   # NaN where any fold diverged
    # the training loss of fold T is a quadratic with Hessian (2/m)·Φ_TᵀΦ_T
    limit = min(theory.stability_limit(0.0, np.linalg.eigvalsh(2.0 * (phi[tr].T @ phi[tr]) / len(tr))[-1])
                for tr, _ in res.folds)
    return LRSearch(res, optimizer, int(steps), int(k), int(degree), int(n), curve, float(limit), float(noise) ** 2)


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
LAB_RECORDS = 30            # activation statistics and evaluation losses: ~30 checks per run
HIST_BINS = 40


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
    steps: int = 300
    seed: int = 0

    def config(self) -> mlp.MLPConfig:
        return mlp.MLPConfig(depth=self.depth, width=self.width, activation=self.activation, init=self.init,
                             init_scale=self.init_scale, batch_norm=self.batch_norm, residual=self.residual,
                             n_in=2, n_out=2, task="classification", seed=self.seed)

    def describe(self) -> str:
        init = f"N(0, {self.init_scale:g}²)" if self.init == "normal" else {"xavier": "Xavier", "he": "He"}[self.init]
        parts = [f"{self.depth} × {self.width} {self.activation}", f"{init} init"]
        if self.batch_norm:
            parts.append("batch norm")
        if self.residual:
            parts.append("residual")
        parts.append(f"{'SGD' if self.optimizer == 'sgd' else self.optimizer.capitalize()} lr {self.lr:g}")
        if self.clip_norm is not None:
            parts.append(f"clip ‖g‖ ≤ {self.clip_norm:g}")
        return ", ".join(parts)


@dataclass(frozen=True)
class LabPreset:
    key: str
    title: str
    settings: LabSettings
    question: str
    look_for: str


LAB_PRESETS = (
    LabPreset(
        "vanishing", "Vanishing: sigmoid + naive init, 20 layers",
        LabSettings(depth=20, activation="sigmoid", init="normal", init_scale=1.0, optimizer="sgd", lr=0.1),
        "20 sigmoid layers with weights drawn from N(0, 1). In the heat map, which layers will receive "
        "almost no gradient: the first ones (near the input) or the last ones?",
        "The first layers: the gradient is multiplied by σ'(u)·W once per layer on its way back, and "
        "σ' ≤ ¼ while the saturated units give σ' ≈ 0. The heat map darkens from the output (top) to the "
        "input (bottom) by several powers of ten, and the loss stays at log 2 ≈ 0.69: the network "
        "guesses 50/50."),
    LabPreset(
        "exploding", "Exploding: large init, 20 ReLU layers",
        LabSettings(depth=20, activation="relu", init="normal", init_scale=0.5, optimizer="sgd", lr=0.1),
        "20 ReLU layers with weights N(0, 0.5²), twice He's scale √(2/32) = 0.25. How large will the "
        "first loss be, and what will the first SGD step do?",
        "Each layer doubles the signal (0.5/0.25), so 20 layers multiply it by about 2²⁰ ≈ 10⁶: the "
        "first loss is in the tens of thousands, the gradient is as large, and one step of lr·‖g‖ "
        "throws the weights so far that the loss overflows within a few steps: the run is stopped "
        "and flagged."),
    LabPreset(
        "healthy", "Healthy: ReLU + He init + Adam",
        LabSettings(depth=20, activation="relu", init="he", optimizer="adam", lr=0.003),
        "The same 20 layers with ReLU, He initialisation (std √(2/fan-in)) and Adam. Will the heat map "
        "still fade towards the input?",
        "No: He's scale keeps the variance of the signal the same from layer to layer (ReLU halves it, the "
        "factor 2 restores it), so every layer's gradient norm stays within a factor of ten or so of the "
        "others, and the network learns the spirals."),
)


def lab_preset(key: str) -> LabPreset:
    for p in LAB_PRESETS:
        if p.key == key:
            return p
    raise OptlabError(f"unknown lab preset {key!r}; choose one of {[p.key for p in LAB_PRESETS]}")


# (key, label, changes): each fix changes one thing; "he" also picks the activation He init is for.
FIXES = (
    ("batch_norm", "+ batch norm", dict(batch_norm=True)),
    ("residual", "+ residual connections", dict(residual=True)),
    ("he", "+ ReLU with He init", dict(activation="relu", init="he")),
    ("adam", "+ Adam (lr 0.001)", dict(optimizer="adam", lr=0.001)),
    ("clip", "+ gradient clipping (‖g‖ ≤ 1)", dict(clip_norm=1.0)),
)


def apply_fix(settings: LabSettings, key: str) -> LabSettings | None:
    """``settings`` with fix ``key`` applied, or None if it is already in place."""
    for k, _, changes in FIXES:
        if k == key:
            new = dataclasses.replace(settings, **changes)
            return None if new == settings else new
    raise OptlabError(f"unknown fix {key!r}; choose one of {[f[0] for f in FIXES]}")


# Work budgets in "units" (steps × weight layers × (width/32)², ×1.6 with batch norm): the default
# run is 6,300 units (≈ 0.4 s on one free core of the 2-core server), the default comparison of six
# runs ≈ 42,000. Bigger settings train fewer steps instead of keeping a class waiting.
LAB_BUDGET = 25_000
COMPARE_BUDGET = 45_000


def lab_cost(settings: LabSettings, steps: int | None = None) -> float:
    """Rough cost of training ``settings`` (see the budgets above)."""
    width = max(1.0, (settings.width / 32) ** 2)
    steps = settings.steps if steps is None else steps
    return steps * (settings.depth + 1) * width * (1.6 if settings.batch_norm else 1.0)


def steps_within(runs: list[LabSettings], budget: float, quantum: int = 50) -> int:
    """The largest number of steps (≤ the runs' own, a multiple of ``quantum``, at least
    ``quantum``) for which training every run in ``runs`` costs at most ``budget``."""
    steps = min(s.steps for s in runs)
    per_step = sum(lab_cost(s, 1) for s in runs)
    fit = int(budget / per_step) // quantum * quantum
    return int(min(steps, max(quantum, fit)))


def within_budget(settings: LabSettings, budget: float = LAB_BUDGET) -> LabSettings:
    """``settings`` with fewer steps if training them would cost more than ``budget``."""
    steps = steps_within([settings], budget)
    return settings if steps == settings.steps else dataclasses.replace(settings, steps=steps)


def lab_data(seed: int = 0):
    """``(X, y, X_val, y_val)``: two spirals, 600 training and 300 validation points."""
    X, y = mlp.two_spirals(LAB_TRAIN, LAB_NOISE, seed=seed)
    Xv, yv = mlp.two_spirals(LAB_VAL, LAB_NOISE, seed=seed + 1)
    return X, y, Xv, yv


@dataclass
class LabResult:
    """What the lab draws about one run (a lean copy of :class:`optlab.mlp.TrainingHistory`).

    ``grad_norms`` (steps_done, depth+1): 2-norm of each layer's gradient per step (before
    clipping; layer depth+1 is the output layer). ``hist_init``/``hist_end`` (depth, HIST_BINS):
    the fraction of a layer's activations in each bin of ``bin_edges``, at initialisation and at
    the end (values beyond the edges counted in the outer bins).
    """

    settings: LabSettings
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
        """‖∂L/∂W₁‖ / ‖∂L/∂W_out‖ at the first step: ≪ 1 vanishing, ≫ 1 exploding towards the input."""
        g = self.grad_norms[0]
        return float(g[0] / g[-1]) if g[-1] > 0 else float("inf")


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
            counts, _ = np.histogram(np.clip(s, edges[0], edges[-1]), bins=edges)
            out[l] = counts / s.size
    return out


def summarize_lab(settings: LabSettings, hist: mlp.TrainingHistory, label: str | None = None) -> LabResult:
    """The lean :class:`LabResult` of a training history."""
    init = hist.activation_samples_init
    edges = _bin_edges(settings.activation, init if init is not None else np.zeros((0, 0)))
    va = hist.val_accuracy if hist.val_accuracy is not None else np.full(len(hist.record_steps), np.nan)
    vl = hist.val_loss if hist.val_loss is not None else np.full(len(hist.record_steps), np.nan)
    return LabResult(
        settings=settings, label=label or settings.describe(), loss=hist.loss, grad_norms=hist.grad_norms,
        grad_norm=hist.grad_norm, grad_norm_clipped=hist.grad_norm_clipped, record_steps=hist.record_steps,
        train_loss=hist.train_loss_eval, val_loss=vl, val_accuracy=va, act_std=hist.act_std,
        act_flat=hist.act_flat, flat_label=hist.flat_label, bin_edges=edges,
        hist_init=layer_histograms(init, edges), hist_end=layer_histograms(hist.activation_samples, edges),
        train_accuracy=float(hist.train_accuracy), final_val_accuracy=float(hist.final_val_accuracy),
        final_train_loss=float(hist.final_train_loss), diverged_at=int(hist.diverged_at), message=hist.message,
        seconds=float(hist.seconds), steps=int(hist.steps))


def train_lab(settings: LabSettings, callback: Callable[[int, int], None] | None = None,
              label: str | None = None) -> LabResult:
    """Train the lab network of ``settings`` on two spirals (mini-batches of 64)."""
    X, y, Xv, yv = lab_data(settings.seed)
    hyper = {"lr": settings.lr}
    hist = mlp.train(settings.config(), X, y, settings.optimizer, hyper, steps=settings.steps,
                     batch_size=LAB_BATCH, clip_norm=settings.clip_norm, seed=settings.seed, X_val=Xv, y_val=yv,
                     record_every=max(1, settings.steps // LAB_RECORDS), callback=callback)
    return summarize_lab(settings, hist, label)


def fix_runs(settings: LabSettings) -> list[tuple[str, LabSettings]]:
    """``[("baseline", settings), (fix label, settings with that fix), …]``: fixes already in
    place are left out."""
    runs = [("baseline", settings)]
    for key, label, _ in FIXES:
        new = apply_fix(settings, key)
        if new is not None:
            runs.append((label, new))
    return runs


def compare_fixes(settings: LabSettings, callback: Callable[[int, int], None] | None = None,
                  budget: float = COMPARE_BUDGET) -> list[LabResult]:
    """Train the baseline and every fix applied alone (same data, seed and steps; fewer steps for
    all of them if the whole comparison would cost more than ``budget``).

    ``callback(done, total)`` reports progress over all runs together (in steps)."""
    runs = fix_runs(settings)
    steps = steps_within([s for _, s in runs], budget)
    runs = [(label, dataclasses.replace(s, steps=steps)) for label, s in runs]
    total = len(runs) * steps
    out = []
    for i, (label, s) in enumerate(runs):
        cb = None
        if callback is not None:
            cb = (lambda off: (lambda step, _n: callback(off + step, total)))(i * steps)
        out.append(train_lab(s, cb, label=label))
        if callback is not None:
            callback((i + 1) * steps, total)
    return out


# ----------------------------------------------------------------------------------------------
# Clipping on the cliff
# ----------------------------------------------------------------------------------------------
CLIFF_LR_OPTIONS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)
CLIFF_CLIP_OPTIONS = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)


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

    @property
    def thrown(self) -> bool:
        return self.left_window_at >= 0


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
    return CliffRun(tr, steps, float(steps[i]) if steps.size else 0.0, i, float(tr.grad_norms[i]),
                    int(np.argmax(outside)) if outside.any() else -1,
                    float(fin[-1]) if fin.size else float("inf"),
                    int(reached[0]) if reached.size else -1)


def cliff_demo(lr: float = 0.1, clip_norm: float = 1.0, steps: int = 100, start: int = 0,
               optimizer: str = "sgd", h: float = 3.0, s: float = 200.0, reach_tol: float = 1e-2) -> CliffDemo:
    """The same optimizer from the same start on the cliff surface, without and with norm clipping
    (``optlab.run(..., clip_norm=…)``, torch's ``clip_grad_norm_``)."""
    from .. import optimizers, surfaces
    from ..runner import run

    surface = surfaces.get("cliff", h=h, s=s)
    if not 0 <= int(start) < len(surface.starts):
        raise OptlabError(f"start must be 0..{len(surface.starts) - 1}, got {start!r}")
    x0 = np.asarray(surface.starts[int(start)], dtype=float)
    name = optimizers.info(optimizer).title
    plain = run(surface, optimizers.make(optimizer, lr=lr), x0, steps)
    plain.label = f"{name}, no clipping"
    clipped = run(surface, optimizers.make(optimizer, lr=lr), x0, steps, clip_norm=clip_norm)
    clipped.label = f"{name}, clipped to ‖g‖ ≤ {clip_norm:g}"
    return CliffDemo({"h": float(h), "s": float(s)}, tuple(float(v) for v in x0), optimizer, float(lr),
                     float(clip_norm), int(steps),
                     _cliff_run(surface, plain, reach_tol), _cliff_run(surface, clipped, reach_tol), reach_tol)


TRUTH_TITLES = {"sin": "sine wave sin(πx)", "cubic": "cubic x³ − x/2", "runge": "Runge's bump 1/(1 + 25x²)"}


def truth_latex(func: str) -> str:
    """The LaTeX of the noise-free function ``func``."""
    check_choice("truth function", func, polynomial.TRUTHS)
    return polynomial.TRUTHS[func][0]
