r"""Hold-out splits, k-fold cross-validation, early stopping and a batched learning-rate grid search.

The grid search trains one linear model :math:`\hat y = Xw` per (learning rate, fold) pair by
gradient descent on the training MSE, all pairs at once: the runs are the batch axis of one
optimizer (``B = n_lr·k``), the learning rates a per-run hyperparameter array.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .errors import OptlabError, check_choice

KFOLD_LATEX = (
    r"\mathrm{CV}(\gamma) = \frac1k\sum_{j=1}^{k}\ \frac{1}{|V_j|}\sum_{i\in V_j}"
    r"\big(x_i^\top w_j(\gamma) - y_i\big)^2,\qquad"
    r"w_j(\gamma) = \text{GD with step }\gamma\text{ on the data outside fold }V_j"
)
EARLY_STOPPING_LATEX = (
    r"t^\star = \arg\min_{t\le T} L_{\mathrm{val}}(t),\qquad"
    r"\text{stop at } T = \min\{t : t - t^\star(t) = p\},\qquad"
    r"\text{return } \theta_{t^\star}"
)


def _rng(seed):
    return np.random.default_rng(seed)


def train_val_test_split(n: int, val: float = 0.2, test: float = 0.2, seed: int = 0,
                         shuffle: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index arrays ``(train, val, test)`` partitioning ``range(n)``.

    Sizes: ``round(test·n)`` test and ``round(val·n)`` validation indices, the rest train
    (at least one). The same ``seed`` gives the same split.
    """
    n = int(n)
    for name, f in (("val", val), ("test", test)):
        if not (0.0 <= f < 1.0):
            raise OptlabError(f"{name} must be a fraction in [0, 1), got {f!r}")
    n_test, n_val = int(round(test * n)), int(round(val * n))
    if n_test + n_val >= n:
        raise OptlabError(f"val={val!r} and test={test!r} leave no training data out of n={n}")
    idx = _rng(seed).permutation(n) if shuffle else np.arange(n)
    return idx[n_test + n_val:], idx[n_test:n_test + n_val], idx[:n_test]


def kfold(n: int, k: int, seed: int = 0, shuffle: bool = True) -> list[tuple[np.ndarray, np.ndarray]]:
    """``k`` pairs ``(train_idx, val_idx)``: the validation folds partition ``range(n)``, their
    sizes differ by at most one, and each ``train_idx`` is the complement of its fold (sorted)."""
    n, k = int(n), int(k)
    if not (2 <= k <= n):
        raise OptlabError(f"k must be between 2 and n={n}, got {k!r}")
    idx = _rng(seed).permutation(n) if shuffle else np.arange(n)
    folds = np.array_split(idx, k)
    out = []
    for j in range(k):
        mask = np.ones(n, bool)
        mask[folds[j]] = False
        out.append((np.flatnonzero(mask), np.sort(folds[j])))
    return out


class EarlyStop(NamedTuple):
    """``best_epoch``: weights to restore; ``stop_epoch``: last epoch evaluated; ``stopped``:
    whether the patience ran out (else the data ended first and ``stop_epoch`` is the last one)."""

    best_epoch: int
    stop_epoch: int
    stopped: bool


def early_stopping(val_losses, patience: int, min_delta: float = 0.0) -> EarlyStop:
    """Early stopping replayed on a validation-loss curve (0-based epochs), as Keras does it.

    Epoch ``t`` improves when ``val_losses[t] < best − min_delta`` (a non-finite loss never
    improves). Training stops after the first epoch ``t`` with ``patience`` epochs in a row without
    improvement, i.e. ``stop_epoch = best_epoch + patience``, and the weights of ``best_epoch`` are
    restored. If that never happens, ``stop_epoch`` is the last epoch and ``stopped`` is False.
    Unpacks as ``best_epoch, stop_epoch, stopped``.
    """
    v = np.asarray(val_losses, dtype=float).ravel()
    if v.size == 0:
        raise OptlabError("val_losses is empty")
    if int(patience) != patience or patience < 1:
        raise OptlabError(f"patience must be a positive integer, got {patience!r}")
    best, best_t = np.inf, 0
    for t, loss in enumerate(v):
        if np.isfinite(loss) and loss < best - min_delta:
            best, best_t = loss, t
        elif t - best_t >= patience:
            return EarlyStop(best_t, t, True)
    return EarlyStop(best_t, len(v) - 1, False)


@dataclass
class GridSearchResult:
    """Cross-validated learning-rate grid search (arrays indexed [lr, fold] or [step, lr, fold]).

    ``mean``/``std`` are over folds of the final validation MSE; a learning rate with a diverged
    fold gets ``mean = inf`` and ``std = nan``. ``best_index`` is -1 if every rate diverged.
    """

    lrs: np.ndarray           # (n_lr,)
    scores: np.ndarray        # (n_lr, k) final validation MSE (inf where diverged)
    mean: np.ndarray          # (n_lr,)
    std: np.ndarray           # (n_lr,)
    diverged: np.ndarray      # (n_lr, k) bool
    train_curves: np.ndarray  # (steps+1, n_lr, k) training MSE (nan after divergence)
    val_curves: np.ndarray    # (steps+1, n_lr, k) validation MSE (nan after divergence)
    params: np.ndarray        # (n_lr, k, p) final weights
    best_index: int
    folds: list

    @property
    def best_lr(self) -> float:
        return float(self.lrs[self.best_index]) if self.best_index >= 0 else float("nan")


def lr_grid_search_cv(X, y, lrs, *, k: int = 5, steps: int = 200, optimizer: str = "sgd",
                      hyper: dict | None = None, seed: int = 0, shuffle: bool = True, w0=None,
                      blowup: float = 1e8) -> GridSearchResult:
    r"""Grid search of the learning rate by k-fold CV, as ONE batched gradient-descent run.

    Model :math:`\hat y = Xw` (``X`` is any design matrix, e.g. :func:`optlab.polynomial.features`),
    training loss :math:`\frac1m\lVert X_{T}w - y_{T}\rVert^2` on the fold's training rows, full
    batch, ``steps`` updates from ``w0`` (zeros). Run ``b = i·k + j`` uses ``lrs[i]`` and fold ``j``;
    the optimizer is ``optlab.optimizers.make(optimizer, lr=<(B,) array>, **hyper)``.
    A run is diverged (and frozen) once its training loss is non-finite or exceeds
    ``blowup × `` its initial value.
    """
    from . import optimizers  # late import: keeps this module importable on its own

    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float).ravel()
    if X.ndim != 2 or X.shape[0] != y.shape[0]:
        raise OptlabError(f"X must be (n, p) with n = len(y) = {y.shape[0]}, got shape {X.shape}")
    lrs = np.atleast_1d(np.asarray(lrs, dtype=float))
    if lrs.ndim != 1 or np.any(~np.isfinite(lrs)) or np.any(lrs <= 0):
        raise OptlabError(f"learning rates must be positive numbers, got {lrs!r}")
    check_choice("optimizer for the grid search", optimizer, optimizers.FIRST_ORDER)
    hyper = dict(hyper or {})
    if "lr" in hyper:
        raise OptlabError("pass the learning rates as lrs, not in hyper")
    n, p = X.shape
    n_lr = len(lrs)
    folds = kfold(n, k, seed=seed, shuffle=shuffle)
    train_mask = np.zeros((k, n))
    for j, (tr, _) in enumerate(folds):
        train_mask[j, tr] = 1.0
    # batch layout b = i·k + j: learning rate i, fold j
    mask = np.tile(train_mask, (n_lr, 1))          # (B, n)
    vmask = 1.0 - mask
    m_tr = mask.sum(1)
    m_va = vmask.sum(1)
    B = n_lr * k

    opt = optimizers.make(optimizer, lr=np.repeat(lrs, k), **hyper)
    W = np.zeros((B, p)) if w0 is None else np.array(np.broadcast_to(np.asarray(w0, float), (B, p)))
    state = opt.init(W)
    train_curves = np.full((steps + 1, B), np.nan)
    val_curves = np.full((steps + 1, B), np.nan)
    diverged = np.zeros(B, bool)
    Xt = X.T

    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps + 1):
            R = W @ Xt - y                           # (B, n) residuals on every row
            sq = R * R
            tr_loss = np.einsum("bn,bn->b", sq, mask) / m_tr
            va_loss = np.einsum("bn,bn->b", sq, vmask) / m_va
            if t == 0:
                limit = blowup * np.maximum(tr_loss, 1e-300)
            bad = ~np.isfinite(tr_loss) | (tr_loss > limit)
            diverged |= bad
            live = ~diverged
            train_curves[t, live] = tr_loss[live]
            val_curves[t, live] = va_loss[live]
            if t == steps:
                break
            grads = (R * mask) @ X * (2.0 / m_tr)[:, None]
            grads[diverged] = 0.0
            updates, state = opt.update(grads, state, W)
            updates[diverged] = 0.0                 # frozen: a diverged run stops moving
            W += updates

    scores = np.where(diverged, np.inf, val_curves[-1]).reshape(n_lr, k)
    div = diverged.reshape(n_lr, k)
    any_div = div.any(1)
    mean = np.where(any_div, np.inf, np.where(any_div[:, None], 0.0, scores).mean(1))
    std = np.where(any_div, np.nan, np.where(any_div[:, None], 0.0, scores).std(1))
    best = int(np.argmin(mean)) if np.isfinite(mean).any() else -1
    return GridSearchResult(
        lrs=lrs, scores=scores, mean=mean, std=std, diverged=div,
        train_curves=train_curves.reshape(steps + 1, n_lr, k),
        val_curves=val_curves.reshape(steps + 1, n_lr, k),
        params=W.reshape(n_lr, k, p), best_index=best, folds=folds,
    )
