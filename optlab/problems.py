r"""A shipped dataset bound to a linear or logistic model, with per-sample gradients.

The data-parallel, federated and differentially-private experiments all need the same few things
of one real problem: the mean loss and its gradient for a batch of parameter vectors, the gradient
of every single example (clipping, the gradient noise scale), and the minimiser θ*.  For a linear
model the per-sample gradient is a scalar times the example's features,

.. math::  \nabla_\theta \ell_i(\theta) = r_i(\theta)\,\tilde x_i,\qquad
           r_i = \frac{\partial \ell_i}{\partial s_i},\quad s_i = \theta^\top \tilde x_i,\quad
           \tilde x_i = (x_i, 1),

with :math:`r_i = \sigma(s_i) - y_i` for the logistic loss (BCE on the logit, torch's
``BCEWithLogitsLoss``) and :math:`r_i = 2(s_i - y_i)` for squared error (torch's ``MSELoss``).
So a per-sample gradient never has to be stored: its norm is :math:`|r_i|\,\lVert\tilde x_i\rVert`
and a weighted sum over examples is one product :math:`(w \odot r)^\top \tilde X`.

``theta`` is ``(..., P)`` with ``P = D + 1`` (weights, then the bias), as in :mod:`optlab.models`.
An optional L2 penalty :math:`\tfrac{\lambda}{2}\lVert w\rVert^2` (bias excluded) keeps the
logistic minimiser finite on separable data; it is added once to a batch gradient, never to a
per-sample gradient (DP-SGD clips the data term only).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import data as _data
from .errors import OptlabError, check_choice
from .losses import sigmoid, softplus

Array = np.ndarray

KINDS = ("logistic", "linear")
# dataset -> model kind; digits is multi-class, so it is used as "digit 0 against the rest"
DATASETS = {"breast_cancer": "logistic", "diabetes": "linear", "digits": "logistic"}


@dataclass(frozen=True, eq=False)
class DataProblem:
    r"""Mean loss :math:`L(\theta) = \frac1N\sum_i \ell_i(\theta) + \frac{\lambda}{2}\lVert w\rVert^2`.

    ``Xt`` (N, P) is the standardized design matrix with its column of ones, ``y`` (N,) the target
    (0/1 labels for ``"logistic"``, a standardized number for ``"linear"``).
    """

    name: str
    kind: str
    Xt: Array
    y: Array
    weight_decay: float = 0.0
    description: str = ""
    _cache: dict = field(default_factory=dict, repr=False)

    # -- sizes ----------------------------------------------------------------------------------
    @property
    def n_samples(self) -> int:
        return int(self.Xt.shape[0])

    @property
    def dim(self) -> int:
        return int(self.Xt.shape[1])

    @property
    def row_norms(self) -> Array:
        """‖x̃ᵢ‖ for every example (N,): a per-sample gradient norm is |rᵢ|·‖x̃ᵢ‖."""
        if "row_norms" not in self._cache:
            self._cache["row_norms"] = np.sqrt(np.einsum("ij,ij->i", self.Xt, self.Xt))
        return self._cache["row_norms"]

    def _decay_mask(self) -> Array:
        m = np.ones(self.dim)
        m[-1] = 0.0  # no penalty on the bias
        return m

    # -- per-sample pieces -------------------------------------------------------------------
    def scores(self, theta, idx=None) -> Array:
        """sᵢ = θ·x̃ᵢ: ``(..., N)`` for all examples, or ``(..., b)`` for ``idx`` of shape (..., b)."""
        theta = np.asarray(theta, dtype=float)
        if idx is None:
            return theta @ self.Xt.T
        return np.einsum("...bp,...p->...b", self.Xt[idx], theta)

    def sample_losses(self, s: Array, y: Array) -> Array:
        """ℓᵢ from the scores ``s`` and targets ``y`` (same shape)."""
        if self.kind == "logistic":
            return softplus(s) - y * s  # log(1 + e^s) − y s, BCE on the logit
        d = s - y
        return d * d

    def residuals(self, s: Array, y: Array) -> Array:
        """rᵢ = ∂ℓᵢ/∂sᵢ (same shape as ``s``)."""
        if self.kind == "logistic":
            # σ(s) = ½(1 + tanh(s/2)): ~4× faster than the log-domain form and exact to round-off in
            # absolute terms, which is all σ(s) − y needs (the hot line of every loop here)
            t = np.tanh(0.5 * s)
            t += 1.0
            t *= 0.5
            t -= y
            return t
        return 2.0 * (s - y)

    def per_sample_grads(self, theta, idx=None) -> Array:
        r"""∇ℓᵢ(θ) = rᵢ x̃ᵢ for examples ``idx`` (..., b) (all N if None): ``(..., b, P)``.

        The data term only (no L2 penalty).  Materialises the array: for clipping and norms the
        cheaper route is :attr:`row_norms` and :meth:`weighted_grad`."""
        theta = np.asarray(theta, dtype=float)
        if idx is None:
            s = theta @ self.Xt.T
            return self.residuals(s, self.y)[..., None] * self.Xt
        X = self.Xt[idx]
        s = np.einsum("...bp,...p->...b", X, theta)
        return self.residuals(s, self.y[idx])[..., None] * X

    def penalty_grad(self, theta) -> Array:
        """∇(λ/2 ‖w‖²) = λ w (bias entry 0)."""
        theta = np.asarray(theta, dtype=float)
        if self.weight_decay == 0:
            return np.zeros_like(theta)
        return self.weight_decay * theta * self._decay_mask()

    def batch_grad(self, theta, idx) -> Array:
        """Mini-batch gradient: mean of the per-sample gradients of ``idx`` (R, b) + λw: ``(R, P)``."""
        theta = np.asarray(theta, dtype=float)
        X = self.Xt[idx]
        s = np.einsum("...bp,...p->...b", X, theta)
        r = self.residuals(s, self.y[idx])
        return np.einsum("...b,...bp->...p", r, X) / idx.shape[-1] + self.penalty_grad(theta)

    def weighted_grad(self, theta, weights) -> Array:
        """Σᵢ wᵢ ∇ℓᵢ(θ) over all examples with weights (R, N), + λw: ``(R, P)`` (no 1/N)."""
        theta = np.asarray(theta, dtype=float)
        r = self.residuals(theta @ self.Xt.T, self.y)
        return (weights * r) @ self.Xt + self.penalty_grad(theta)

    # -- full-data objective -----------------------------------------------------------------
    def loss(self, theta) -> Array:
        """Mean loss over all N examples + penalty: ``(...)``."""
        theta = np.asarray(theta, dtype=float)
        if self.kind == "linear":  # a quadratic: from sufficient statistics, O(P²) per run
            A, b, c = self._quadratic()
            v = 0.5 * np.einsum("...i,ij,...j->...", theta, A, theta) - theta @ b + c
            return np.maximum(v, 0.0) if self.weight_decay == 0 else v
        s = theta @ self.Xt.T
        out = np.mean(self.sample_losses(s, self.y), axis=-1)
        if self.weight_decay:
            w = theta * self._decay_mask()
            out = out + 0.5 * self.weight_decay * np.einsum("...i,...i->...", w, w)
        return out

    def grad(self, theta) -> Array:
        """Full-batch gradient ``(..., P)``."""
        theta = np.asarray(theta, dtype=float)
        if self.kind == "linear":
            A, b, _ = self._quadratic()
            return theta @ A - b
        r = self.residuals(theta @ self.Xt.T, self.y)
        return r @ self.Xt / self.n_samples + self.penalty_grad(theta)

    def hessian(self, theta) -> Array:
        """∇²L ``(..., P, P)``."""
        theta = np.asarray(theta, dtype=float)
        if self.kind == "linear":
            return np.broadcast_to(self._quadratic()[0], theta.shape[:-1] + (self.dim, self.dim)).copy()
        p = sigmoid(theta @ self.Xt.T)
        c = p * (1.0 - p) / self.n_samples
        H = np.einsum("...n,ni,nj->...ij", c, self.Xt, self.Xt)
        return H + self.weight_decay * np.diag(self._decay_mask())

    def _quadratic(self):
        """L(θ) = ½θᵀAθ − bᵀθ + c for squared error (with the penalty in A)."""
        if "quad" not in self._cache:
            N = self.n_samples
            A = 2.0 * self.Xt.T @ self.Xt / N + self.weight_decay * np.diag(self._decay_mask())
            b = 2.0 * self.Xt.T @ self.y / N
            c = float(self.y @ self.y / N)
            self._cache["quad"] = (A, b, c)
        return self._cache["quad"]

    def accuracy(self, theta) -> Array:
        """Fraction of examples classified right (logistic) — or R² (linear): ``(...)``."""
        s = self.scores(theta)
        if self.kind == "logistic":
            return np.mean((s > 0) == (self.y > 0.5), axis=-1)
        ss = np.sum((self.y - self.y.mean()) ** 2)
        return 1.0 - np.sum((s - self.y) ** 2, axis=-1) / ss

    @property
    def theta_star(self) -> Array:
        """The minimiser θ* (Newton's method to machine precision; a linear solve for squared error)."""
        if "theta_star" not in self._cache:
            if self.kind == "linear":
                A, b, _ = self._quadratic()
                t = np.linalg.lstsq(A, b, rcond=None)[0]
            else:
                t = np.zeros(self.dim)
                for _ in range(100):
                    g = self.grad(t)
                    step = np.linalg.lstsq(self.hessian(t), g, rcond=None)[0]
                    t = t - step
                    if np.max(np.abs(step)) < 1e-12 * max(1.0, np.max(np.abs(t))):
                        break
            t.setflags(write=False)
            self._cache["theta_star"] = t
        return self._cache["theta_star"]

    @property
    def loss_star(self) -> float:
        """L(θ*), the lowest loss the model can reach."""
        return float(self.loss(self.theta_star))

    def __repr__(self) -> str:
        return f"DataProblem({self.name!r}, {self.kind}, N={self.n_samples}, P={self.dim}, λ={self.weight_decay:g})"


def problem(name: str = "breast_cancer", weight_decay: float | None = None) -> DataProblem:
    """A shipped dataset as a model: ``breast_cancer`` (logistic, N = 569, P = 31), ``diabetes``
    (linear, squared error on the standardized target, N = 442, P = 11) or ``digits`` (logistic,
    "is it a 0?", N = 1797, P = 65).  Features are standardized (constant pixels map to 0).

    ``weight_decay`` λ defaults to 10⁻³ for the logistic problems (breast cancer is nearly
    separable: without it θ* drifts off to infinity) and 0 for diabetes.
    """
    check_choice("dataset", name, DATASETS)
    kind = DATASETS[name]
    if weight_decay is None:
        weight_decay = 1e-3 if kind == "logistic" else 0.0
    weight_decay = float(weight_decay)
    if not np.isfinite(weight_decay) or weight_decay < 0:
        raise OptlabError(f"weight_decay must be a number ≥ 0; got {weight_decay!r}")
    ds = _data.load(name)
    Z = _data.standardize(ds.X)[0]
    Xt = np.concatenate([Z, np.ones((Z.shape[0], 1))], axis=1)
    if name == "digits":
        y = (ds.y == 0).astype(float)
        desc = "digits: is the handwritten digit a 0? (logistic regression on 64 standardized pixels)"
    elif kind == "logistic":
        y = np.asarray(ds.y, dtype=float)
        desc = f"{name}: logistic regression on {ds.n_features} standardized features"
    else:
        y = _data.standardize(np.asarray(ds.y, dtype=float))[0]
        desc = f"{name}: linear regression (squared error) on {ds.n_features} standardized features, standardized target"
    Xt.setflags(write=False)
    y.setflags(write=False)
    return DataProblem(name=name, kind=kind, Xt=Xt, y=y, weight_decay=weight_decay, description=desc)
