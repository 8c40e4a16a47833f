r"""Linear and logistic models whose loss, gradient and Hessian are batched over parameter vectors.

Parameters are θ = (w₁, …, w_D, b) on the last axis, so ``theta`` of shape ``(..., D+1)`` is a batch
of models (B runs, or a grid): ``loss`` -> ``(...)``, ``grad`` -> ``(..., D+1)``,
``hessian`` -> ``(..., D+1, D+1)``. With x̃ = (x, 1) and score s_i = θ·x̃_i the chain rule gives

.. math::  ∇_θ L = \sum_i \frac{∂L}{∂s_i}\,x̃_i, \qquad ∇²_θ L = \sum_i \frac{∂²L}{∂s_i²}\,x̃_i x̃_iᵀ

(plus a rank-one term for RMSE, whose Hessian in ŷ is not diagonal).

The (w, b) loss surfaces of a one-feature model fitted to data are built on these objectives in
:mod:`optlab.surfaces.data`.
"""
from __future__ import annotations

import numpy as np

from . import losses as _losses
from .errors import OptlabError
from .losses import Loss, sigmoid, softplus

Array = np.ndarray

# Largest number of (point, sample) pairs evaluated at once: bounds the temporaries of a grid
# evaluation (a few arrays of this many float64, i.e. a few MB each) whatever the grid and N.
_CHUNK = 1 << 18


# ----------------------------------------------------------------------------------------------
# Objective: a loss composed with a link (identity, or sigmoid for "MSE on probabilities")
# ----------------------------------------------------------------------------------------------
def _as_loss(loss, params) -> Loss:
    if isinstance(loss, Loss):
        if params:
            raise OptlabError(f"pass parameters {sorted(params)} to optlab.losses.get, not with a Loss object")
        return loss
    return _losses.get(loss, **params)


def _labels01(y, what="labels") -> Array:
    y = np.asarray(y, dtype=float)
    ok = (y == 0.0) | (y == 1.0)
    if not np.all(ok):
        raise OptlabError(f"{what} must be 0 or 1; got {np.unique(y[~ok])[:5].tolist()}")
    return y


class _Objective:
    """Mean loss of the scores s = X̃θ: value, gradient and Hessian in θ, batched.

    ``link="identity"``: the loss sees s itself (ŷ = s, or the logit s for margin losses).
    ``link="sigmoid"``: a regression loss sees p = σ(s) (e.g. MSE on probabilities), with
    ∂ℓ/∂s = ℓ'(p)·σ' and ∂²ℓ/∂s² = ℓ''(p)·σ'² + ℓ'(p)·σ'', σ' = p(1 − p), σ'' = σ'(1 − 2p).
    """

    def __init__(self, loss: Loss, link: str = "identity"):
        self.loss, self.link = loss, link

    @property
    def convex(self) -> bool:
        return self.loss.convex and self.link == "identity"

    @property
    def piecewise_linear(self) -> bool:
        return self.loss.piecewise_linear and self.link == "identity"

    def terms(self, y: Array, s: Array, order: int) -> tuple:
        """Per-sample (ℓ, ∂ℓ/∂s, ∂²ℓ/∂s²), no 1/N."""
        if self.link == "identity":
            return self.loss._terms(y, s, order)
        p = sigmoid(s)
        out = self.loss._terms(y, p, order)
        res = [out[0]]
        if order >= 1:
            dp = np.exp(-softplus(s) - softplus(-s))  # σ(s)σ(−s), no cancellation in the tails
            res.append(out[1] * dp)
        if order >= 2:
            res.append(out[2] * dp * dp + out[1] * dp * np.tanh(-0.5 * s))  # 1 − 2σ(s) = tanh(−s/2)
        return tuple(res)

    def evaluate(self, theta: Array, Xt: Array, y: Array, order: int) -> tuple:
        """(value (...), grad (..., P), hessian (..., P, P)) up to ``order`` for θ (..., P).

        ``Xt`` is the design matrix with its column of ones, (N, P), or (..., N, P) with its own
        samples per model (mini-batches); ``y`` is (N,) or (..., N).
        """
        s = (Xt @ theta[..., None])[..., 0]
        n = s.shape[-1]
        L = self.loss
        v = None
        if self.link == "identity" and not L.separable:  # rmse
            val = L.value(y, s)
            if order >= 1:
                gs = L.grad(y, s)
            if order >= 2:
                c, v = L._hessian_parts(y, s)
        else:
            t = self.terms(y, s, order)
            val = np.mean(t[0], axis=-1)
            if order >= 1:
                gs = t[1] / n
            if order >= 2:
                c = t[2] / n
        out = [val]
        if order >= 1:
            out.append((gs[..., None, :] @ Xt)[..., 0, :])
        if order >= 2:
            H = (np.swapaxes(Xt, -1, -2) * c[..., None, :]) @ Xt
            if v is not None:
                u = (v[..., None, :] @ Xt)[..., 0, :]
                H = H - u[..., :, None] * u[..., None, :]
            out.append(H)
        return tuple(out)


def _chunked(obj: _Objective, theta: Array, Xt: Array, y: Array, order: int) -> tuple:
    """``obj.evaluate`` over any batch of θ with shared samples, a bounded number of rows at a time."""
    lead, P = theta.shape[:-1], theta.shape[-1]
    flat = theta.reshape(-1, P)
    k = max(1, _CHUNK // (Xt.shape[0] * P))
    if flat.shape[0] <= k:
        out = obj.evaluate(flat, Xt, y, order)
    else:
        parts = [obj.evaluate(flat[i:i + k], Xt, y, order) for i in range(0, flat.shape[0], k)]
        out = tuple(np.concatenate([q[j] for q in parts], axis=0) for j in range(order + 1))
    return tuple(o.reshape(lead + o.shape[1:]) for o in out)


def _design(X) -> Array:
    """(N,) or (N, D) features -> (N, D+1) design matrix X̃ = [X, 1]."""
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or X.shape[0] == 0:
        raise OptlabError(f"X must have shape (N,) or (N, D) with N ≥ 1; got shape {X.shape}")
    return np.concatenate([X, np.ones((X.shape[0], 1))], axis=1)


def _theta(theta, P: int) -> Array:
    theta = np.asarray(theta, dtype=float)
    if theta.shape[-1:] != (P,):
        raise OptlabError(f"theta must have shape (..., {P}) = (w_1..w_{P - 1}, b); got shape {theta.shape}")
    return theta


class _LinearModel:
    """Shared machinery: θ = (w, b), score s = X w + b."""

    def __init__(self, obj: _Objective):
        self._obj = obj

    @property
    def loss_fn(self) -> Loss:
        return self._obj.loss

    def _prep(self, theta, X, y):
        Xt = _design(X)
        theta = _theta(theta, Xt.shape[1])
        y = self._targets(y)
        if y.shape != (Xt.shape[0],):
            raise OptlabError(f"X has {Xt.shape[0]} samples, so y must have shape ({Xt.shape[0]},); got {y.shape}")
        return theta, Xt, y

    def decision_function(self, theta, X) -> Array:
        """Scores s = X w + b, shape (..., N)."""
        Xt = _design(X)
        return (Xt @ _theta(theta, Xt.shape[1])[..., None])[..., 0]

    def loss(self, theta, X, y) -> Array:
        """Mean loss, shape (...)."""
        return _chunked(self._obj, *self._prep(theta, X, y), 0)[0]

    def grad(self, theta, X, y) -> Array:
        """∇_θ of the mean loss, shape (..., D+1)."""
        return _chunked(self._obj, *self._prep(theta, X, y), 1)[1]

    def value_and_grad(self, theta, X, y) -> tuple[Array, Array]:
        return _chunked(self._obj, *self._prep(theta, X, y), 1)

    def hessian(self, theta, X, y) -> Array:
        """∇²_θ of the mean loss, shape (..., D+1, D+1)."""
        return _chunked(self._obj, *self._prep(theta, X, y), 2)[2]


class LinearRegression(_LinearModel):
    r"""ŷ = X w + b trained with a regression loss (``mse`` by default; any of ``losses.REGRESSION``)."""

    def __init__(self, loss="mse", **loss_params):
        L = _as_loss(loss, loss_params)
        if L.kind != "regression":
            raise OptlabError(f"LinearRegression needs a regression loss ({', '.join(_losses.REGRESSION)}); "
                              f"got {L.name!r}")
        super().__init__(_Objective(L, "identity"))

    def _targets(self, y):
        return np.asarray(y, dtype=float)

    def predict(self, theta, X) -> Array:
        """ŷ = X w + b, shape (..., N)."""
        return self.decision_function(theta, X)

    @staticmethod
    def closed_form(X, y) -> Array:
        """Least-squares θ = (w, b) via ``np.linalg.lstsq``: the minimiser of MSE (and RMSE)."""
        Xt = _design(X)
        return np.linalg.lstsq(Xt, np.asarray(y, dtype=float), rcond=None)[0]

    def __repr__(self):
        return f"LinearRegression(loss={self.loss_fn!r})"


class LogisticRegression(_LinearModel):
    r"""p = σ(X w + b) for labels in {0, 1}.

    ``loss`` is a binary classification loss on the score s (``bce``, ``hinge``, ``squared_hinge``,
    ``focal``), or a regression loss on the probability p (``mse``: the non-convex "MSE on
    probabilities" whose gradient vanishes on confidently wrong predictions; also ``mae``, ``huber``,
    ``log_cosh``, ``quantile``).
    """

    SCORE_LOSSES = ("bce", "hinge", "squared_hinge", "focal")
    PROBABILITY_LOSSES = ("mse", "mae", "huber", "log_cosh", "quantile")

    def __init__(self, loss="bce", **loss_params):
        super().__init__(_logistic_objective(_as_loss(loss, loss_params)))

    def _targets(self, y):
        return _labels01(y)

    def predict_proba(self, theta, X) -> Array:
        """p = σ(X w + b), shape (..., N)."""
        return sigmoid(self.decision_function(theta, X))

    def predict(self, theta, X) -> Array:
        """Labels 1 where s > 0, else 0."""
        return (self.decision_function(theta, X) > 0).astype(np.int64)

    def __repr__(self):
        return f"LogisticRegression(loss={self.loss_fn!r}, link={self._obj.link!r})"


def _logistic_objective(L: Loss) -> _Objective:
    if L.name in LogisticRegression.SCORE_LOSSES:
        return _Objective(L, "identity")
    if L.name in LogisticRegression.PROBABILITY_LOSSES:
        return _Objective(L, "sigmoid")
    raise OptlabError(f"a logistic model takes one of {', '.join(LogisticRegression.SCORE_LOSSES)} (on scores) or "
                      f"{', '.join(LogisticRegression.PROBABILITY_LOSSES)} (on probabilities); got {L.name!r}")
