r"""Loss functions with their gradient, curvature, LaTeX and a note on when to use each.

``L = get("huber", delta=1.0)``; ``names()``, ``REGRESSION``, ``CLASSIFICATION`` list them.

Shapes (batch axes first, samples on the last axis):

* ``y_true``: ``(N,)`` targets -- floats for regression, labels in {0, 1} for the binary
  classification losses, integer classes ``0..C-1`` for ``cross_entropy`` (which also accepts
  ``(N, C)`` one-hot / probability targets). Any shape broadcastable to ``y_pred`` works too, so a
  different mini-batch per run is one call.
* ``y_pred``: ``(..., N)`` predictions ŷ (regression) or raw scores s (logits, classification);
  ``(..., N, C)`` class scores for ``cross_entropy``. Leading axes are independent models: a
  ``(ny, nx)`` parameter grid or ``B`` runs.

Methods:

* ``value(y_true, y_pred)`` -> ``(...)``: the **mean** loss over the sample axis.
* ``grad(y_true, y_pred)`` -> shape of ``y_pred``: ∂value/∂ŷ_i, so it includes the 1/N.
* ``curvature(y_true, y_pred)`` -> shape of ``y_pred``: ∂²value/∂ŷ_i² (with the 1/N), 0 where the
  loss is piecewise linear. For every loss but ``rmse`` and ``cross_entropy`` the Hessian in ŷ is
  diagonal, so this is all of it. ``rmse`` returns the diagonal of its full Hessian;
  ``cross_entropy`` returns the per-sample C×C blocks ``(..., N, C, C)``.
* ``pointwise(u)``, ``pointwise_grad(u)``, ``pointwise_curvature(u)``: the loss of one sample as a
  function of the residual ``r = ŷ − y`` (regression) or the margin ``m = t·s`` with
  ``t = 2y − 1 ∈ {−1, +1}`` (classification), for the catalogue curves.

Metadata on every loss: ``name, title, kind, latex, grad_latex, when_to_use, params, param_info,
torch_equivalent, convex, variable, variable_latex``.  ``title``, ``when_to_use``, ``param_info``
and ``variable`` are English msgids of the shared catalog: show them with ``_()`` (``label`` is
already translated into the active language).
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from .errors import OptlabError, UnknownNameError
from .i18n import domain

_, N_, ngettext = domain("optlab")

Array = np.ndarray

REGRESSION: tuple[str, ...] = ("mse", "rmse", "mae", "huber", "log_cosh", "quantile")
CLASSIFICATION: tuple[str, ...] = ("bce", "hinge", "squared_hinge", "focal", "cross_entropy")


def names() -> list[str]:
    """All loss names: regression first, then classification."""
    return list(REGRESSION + CLASSIFICATION)


# ----------------------------------------------------------------------------------------------
# Small numerically stable helpers
# ----------------------------------------------------------------------------------------------
def softplus(x) -> Array:
    """log(1 + eˣ), without overflow for large x."""
    return np.logaddexp(0.0, x)


def sigmoid(x) -> Array:
    """σ(x) = 1/(1 + e⁻ˣ) as exp(−softplus(−x)): keeps full relative precision in both tails."""
    return np.exp(-np.logaddexp(0.0, np.negative(x)))


def log_cosh(x) -> Array:
    """log cosh x to within 2 ulps for every float64 x (checked against mpmath).

    Near 0 cosh x − 1 ≈ x²/2 is lost against the 1, so |x| < 1 uses log cosh x =
    log1p(2 sinh²(x/2)); beyond, |x| + log1p(e^{−2|x|}) − log 2 never evaluates cosh, so it
    cannot overflow (log cosh 1e300 = 1e300).
    """
    ax = np.abs(np.asarray(x, dtype=float))
    small = np.log1p(2.0 * np.sinh(0.5 * np.minimum(ax, 1.0)) ** 2)
    return np.where(ax < 1.0, small, ax + np.log1p(np.exp(-2.0 * ax)) - math.log(2.0))


def log_softmax(s, axis: int = -1) -> Array:
    """log softmax(s) = s − logsumexp(s), shifted by the max so no exp overflows."""
    s = np.asarray(s, dtype=float)
    top = np.max(s, axis=axis, keepdims=True)
    z = s - top
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


def one_hot(labels, C: int) -> Array:
    """Integer labels ``(...)`` in ``0..C-1`` -> float one-hot rows ``(..., C)``."""
    labels = _int_labels(labels, "labels")
    C = int(C)
    if C < 1:
        raise OptlabError(f"number of classes C must be at least 1; got {C}")
    if labels.size and (labels.min() < 0 or labels.max() >= C):
        bad = labels[(labels < 0) | (labels >= C)].ravel()[0]
        raise OptlabError(f"label {bad} is outside the classes 0..{C - 1}")
    return (labels[..., None] == np.arange(C)).astype(float)


def _int_labels(labels, what: str) -> Array:
    arr = np.asarray(labels)
    if arr.dtype.kind in "iub":
        return arr.astype(np.int64)
    arr = arr.astype(float)
    if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
        raise OptlabError(f"{what} must be whole numbers (class indices); got {labels!r}")
    return arr.astype(np.int64)


# ----------------------------------------------------------------------------------------------
# Pointwise kernels: u -> (ℓ(u), ℓ'(u), ℓ''(u)), only as many as ``order`` asks for
# ----------------------------------------------------------------------------------------------
Kernel = Callable[[Array, int], tuple]


def _mse_kernel(r, order):
    out = [r * r]
    if order >= 1:
        out.append(2.0 * r)
    if order >= 2:
        out.append(np.full_like(r, 2.0))
    return tuple(out)


def _abs_kernel(r, order):
    out = [np.abs(r)]
    if order >= 1:
        out.append(np.sign(r))  # subgradient 0 at r = 0, like torch's L1Loss
    if order >= 2:
        out.append(np.zeros_like(r))
    return tuple(out)


def _huber_kernel(delta):
    def k(r, order):
        a = np.abs(r)
        inner = a <= delta
        out = [np.where(inner, 0.5 * r * r, delta * (a - 0.5 * delta))]
        if order >= 1:
            out.append(np.clip(r, -delta, delta))
        if order >= 2:
            out.append(inner.astype(float))
        return tuple(out)

    return k


def _log_cosh_kernel(r, order):
    out = [log_cosh(r)]
    if order >= 1:
        out.append(np.tanh(r))
    if order >= 2:
        e = np.exp(-2.0 * np.abs(r))  # ≤ 1: cosh never evaluated, so no overflow for large |r|
        out.append(4.0 * e / (1.0 + e) ** 2)  # sech²(r), accurate in the tails
    return tuple(out)


def _quantile_kernel(q):
    def k(r, order):
        # r = ŷ − y: over-predicting (r > 0) costs (1 − q)·r, under-predicting costs q·|r|
        out = [np.maximum(-q * r, (1.0 - q) * r)]
        if order >= 1:
            out.append(np.where(r > 0, 1.0 - q, np.where(r < 0, -q, 0.0)))
        if order >= 2:
            out.append(np.zeros_like(r))
        return tuple(out)

    return k


def _logistic_kernel(m, order):
    out = [softplus(-m)]
    if order >= 1:
        out.append(-sigmoid(-m))
    if order >= 2:
        out.append(np.exp(-softplus(m) - softplus(-m)))  # σ(m)σ(−m) without cancellation
    return tuple(out)


def _hinge_kernel(m, order):
    out = [np.maximum(0.0, 1.0 - m)]
    if order >= 1:
        out.append(np.where(m < 1.0, -1.0, 0.0))
    if order >= 2:
        out.append(np.zeros_like(m))
    return tuple(out)


def _squared_hinge_kernel(m, order):
    h = np.maximum(0.0, 1.0 - m)
    out = [h * h]
    if order >= 1:
        out.append(-2.0 * h)
    if order >= 2:
        out.append(np.where(m < 1.0, 2.0, 0.0))
    return tuple(out)


def _focal_kernel(gamma):
    def k(m, order):
        # p_t = σ(m); b = −log p_t = softplus(−m); a = (1 − p_t)^γ = exp(−γ·softplus(m))
        b = softplus(-m)
        sp = softplus(m)
        a = np.exp(-gamma * sp)
        out = [a * b]
        if order >= 1:
            pt, qt = np.exp(-b), np.exp(-sp)  # σ(m), σ(−m)
            out.append(-a * (gamma * pt * b + qt))
        if order >= 2:
            pq = np.exp(-b - sp)
            out.append(a * (gamma * gamma * pt * pt * b - gamma * pq * b + (2.0 * gamma + 1.0) * pq))
        return tuple(out)

    return k


# ----------------------------------------------------------------------------------------------
# Loss objects
# ----------------------------------------------------------------------------------------------
class Loss:
    """A mean loss over samples whose per-sample term depends on one variable u.

    u is the residual r = ŷ − y (``kind == "regression"``) or the margin m = t·s with t = 2y − 1
    (``kind == "classification"``). ``kink`` is the u where a piecewise-linear loss bends (None
    for smooth losses); ``piecewise_linear`` says the curvature is 0 almost everywhere.
    """

    separable = True

    def __init__(self, *, name: str, title: str, kind: str, latex: str, grad_latex: str,
                 when_to_use: str, kernel: Kernel, params: dict[str, Any] | None = None,
                 param_info: dict[str, str] | None = None, torch_equivalent: str | None = None,
                 convex: bool = True, kink: float | None = None, piecewise_linear: bool = False,
                 reference: str = ""):
        self.name, self.title, self.kind = name, title, kind
        self.latex, self.grad_latex, self.when_to_use = latex, grad_latex, when_to_use
        self.params = dict(params or {})
        self.param_info = dict(param_info or {})
        self.torch_equivalent = torch_equivalent
        self.convex, self.kink, self.piecewise_linear = convex, kink, piecewise_linear
        self.reference = reference
        self._kernel = kernel
        if kind == "regression":
            self.variable, self.variable_latex = N_("residual"), r"r=\hat y-y"
        else:
            self.variable, self.variable_latex = N_("margin"), r"m=t\,s,\ t=2y-1\in\{-1,+1\}"

    # -- display -----------------------------------------------------------------------------
    @property
    def label(self) -> str:
        """Title with parameter values in the active language, e.g. ``Huber (δ = 1)``."""
        if not self.params:
            return _(self.title)
        sym = {"delta": "δ", "q": "q", "gamma": "γ"}
        return f"{_(self.title)} ({', '.join(f'{sym.get(k, k)} = {v:g}' for k, v in self.params.items())})"

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"Loss({self.name}{extra})"

    # -- one sample, for plotting --------------------------------------------------------------
    def pointwise(self, u) -> Array:
        """Loss of one sample as a function of the residual r (regression) or margin m."""
        return self._kernel(np.asarray(u, dtype=float), 0)[0]

    def pointwise_grad(self, u) -> Array:
        """dℓ/du of :meth:`pointwise`."""
        return self._kernel(np.asarray(u, dtype=float), 1)[1]

    def pointwise_curvature(self, u) -> Array:
        """d²ℓ/du² of :meth:`pointwise` (0 where it is piecewise linear)."""
        return self._kernel(np.asarray(u, dtype=float), 2)[2]

    # -- mean over samples ---------------------------------------------------------------------
    def value(self, y_true, y_pred) -> Array:
        """Mean loss over the last (sample) axis: ``(..., N)`` -> ``(...)``."""
        yt, yp = self._check(y_true, y_pred)
        return np.mean(self._terms(yt, yp, 0)[0], axis=-1)

    def grad(self, y_true, y_pred) -> Array:
        """∂(mean loss)/∂ŷ_i, shape of ``y_pred`` (includes the 1/N)."""
        yt, yp = self._check(y_true, y_pred)
        return self._terms(yt, yp, 1)[1] / yp.shape[-1]

    def curvature(self, y_true, y_pred) -> Array:
        """∂²(mean loss)/∂ŷ_i², shape of ``y_pred`` (includes the 1/N)."""
        yt, yp = self._check(y_true, y_pred)
        return self._terms(yt, yp, 2)[2] / yp.shape[-1]

    def value_and_grad(self, y_true, y_pred) -> tuple[Array, Array]:
        yt, yp = self._check(y_true, y_pred)
        l, d = self._terms(yt, yp, 1)
        return np.mean(l, axis=-1), d / yp.shape[-1]

    # -- internals shared with optlab.models ---------------------------------------------------
    def _terms(self, yt: Array, yp: Array, order: int) -> tuple:
        """Per-sample (ℓ, ∂ℓ/∂ŷ, ∂²ℓ/∂ŷ²) without the 1/N; inputs already checked."""
        if self.kind == "regression":
            return self._kernel(yp - yt, order)
        t = 2.0 * yt - 1.0
        out = self._kernel(t * yp, order)
        if order >= 1:
            out = (out[0], t * out[1]) + out[2:]  # dm/ds = t and t² = 1
        return out

    def _hessian_parts(self, yt: Array, yp: Array) -> tuple[Array, Array | None]:
        """(c, v) with ∂²(mean loss)/∂ŷ∂ŷᵀ = diag(c) − v vᵀ (v is None for separable losses)."""
        return self._terms(yt, yp, 2)[2] / yp.shape[-1], None

    def _check(self, y_true, y_pred) -> tuple[Array, Array]:
        yp = np.asarray(y_pred, dtype=float)
        yt = np.asarray(y_true, dtype=float)
        if yp.ndim == 0:
            raise OptlabError(f"y_pred must have a sample axis (shape (..., N)); got a scalar {y_pred!r}")
        try:
            np.broadcast_shapes(yt.shape, yp.shape)
        except ValueError:
            raise OptlabError(f"y_true of shape {yt.shape} does not match y_pred of shape {yp.shape} "
                              "(expected (N,) and (..., N))") from None
        if self.kind == "classification":
            ok = (yt == 0.0) | (yt == 1.0)
            if not np.all(ok):
                bad = np.unique(yt[~ok])[:5].tolist()
                raise OptlabError(f"loss {self.name!r} needs labels 0 or 1; got {bad}")
        return yt, yp


class _RMSE(Loss):
    r"""√(mean r²). Not separable: ∂²/∂ŷ_i∂ŷ_j = δ_ij/(N R) − r_i r_j/(N² R³)."""

    separable = False

    def value(self, y_true, y_pred):
        yt, yp = self._check(y_true, y_pred)
        r = yp - yt
        return np.sqrt(np.mean(r * r, axis=-1))

    def grad(self, y_true, y_pred):
        yt, yp = self._check(y_true, y_pred)
        r, R, n = self._rR(yt, yp)
        safe = np.where(R > 0, R, 1.0)
        return np.where(R > 0, r / (n * safe), 0.0)  # RMSE = 0: return 0 (a kink, like |r| at 0)

    def value_and_grad(self, y_true, y_pred):
        return self.value(y_true, y_pred), self.grad(y_true, y_pred)

    def curvature(self, y_true, y_pred):
        c, v = self._hessian_parts(*self._check(y_true, y_pred))
        return c - v * v

    def _rR(self, yt, yp):
        r = yp - yt
        r = r + np.zeros(np.broadcast_shapes(yt.shape, yp.shape))
        n = r.shape[-1]
        R = np.sqrt(np.mean(r * r, axis=-1, keepdims=True))
        return r, R, n

    def _terms(self, yt, yp, order):
        raise OptlabError("rmse is not a mean of per-sample terms; use value/grad/curvature")

    def _hessian_parts(self, yt, yp):
        r, R, n = self._rR(yt, yp)
        safe = np.where(R > 0, R, 1.0)
        c = np.where(R > 0, 1.0 / (n * safe), 0.0) + np.zeros_like(r)
        v = np.where(R > 0, r / (n * safe ** 1.5), 0.0)
        return c, v


class _CrossEntropy(Loss):
    """Softmax cross-entropy on class scores ``(..., N, C)``; labels ``(N,)`` or targets ``(N, C)``."""

    separable = False

    def _targets(self, y_true, y_pred) -> tuple[Array, Array]:
        s = np.asarray(y_pred, dtype=float)
        if s.ndim < 2:
            raise OptlabError(f"cross_entropy needs scores of shape (..., N, C); got shape {s.shape}")
        C = s.shape[-1]
        yt = np.asarray(y_true)
        if yt.dtype.kind == "f" and yt.ndim >= 2 and yt.shape[-1] == C and yt.shape[-2] == s.shape[-2]:
            t = yt.astype(float)  # one-hot or class-probability targets, as torch accepts
        else:
            if yt.shape[-1:] != s.shape[-2:-1]:
                raise OptlabError(f"labels of shape {yt.shape} do not match scores of shape {s.shape} "
                                  "(expected (N,) labels and (..., N, C) scores)")
            t = one_hot(yt, C)
        try:
            np.broadcast_shapes(t.shape, s.shape)
        except ValueError:
            raise OptlabError(f"targets of shape {t.shape} do not match scores of shape {s.shape}") from None
        return t, s

    def value(self, y_true, y_pred):
        t, s = self._targets(y_true, y_pred)
        return -np.mean(np.sum(t * log_softmax(s), axis=-1), axis=-1)

    def grad(self, y_true, y_pred):
        t, s = self._targets(y_true, y_pred)
        return (np.exp(log_softmax(s)) - t) / s.shape[-2]

    def value_and_grad(self, y_true, y_pred):
        t, s = self._targets(y_true, y_pred)
        ls = log_softmax(s)
        return -np.mean(np.sum(t * ls, axis=-1), axis=-1), (np.exp(ls) - t) / s.shape[-2]

    def curvature(self, y_true, y_pred):
        """Per-sample Hessian blocks (diag(p) − p pᵀ)/N, shape ``(..., N, C, C)``."""
        t, s = self._targets(y_true, y_pred)
        p = np.exp(log_softmax(s))
        H = -p[..., :, None] * p[..., None, :]
        idx = np.arange(s.shape[-1])
        H[..., idx, idx] += p
        return H / s.shape[-2]

    def _terms(self, yt, yp, order):
        raise OptlabError("cross_entropy works on (..., N, C) scores; use value/grad/curvature")

    def _hessian_parts(self, yt, yp):
        raise OptlabError("cross_entropy's Hessian is block diagonal; use curvature()")


# ----------------------------------------------------------------------------------------------
# The catalogue
# ----------------------------------------------------------------------------------------------
_MEAN = r"\frac{1}{N}\sum_{i=1}^{N}"
_R = r"r_i=\hat y_i-y_i"
_T = r"t_i=2y_i-1\in\{-1,+1\}"


def _positive(name: str, value, allow_zero: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise OptlabError(f"{name} must be a number; got {value!r}") from None
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        need = "≥ 0" if allow_zero else "> 0"
        raise OptlabError(f"{name} must be a finite number {need}; got {value!r}")
    return v


def _mse() -> Loss:
    return Loss(
        name="mse", title=N_("Mean squared error (MSE)"), kind="regression",
        latex=rf"L={_MEAN}\left(\hat y_i-y_i\right)^2",
        grad_latex=r"\frac{\partial L}{\partial \hat y_i}=\frac{2}{N}\left(\hat y_i-y_i\right)",
        when_to_use=N_("The default for regression with roughly Gaussian noise: smooth and convex, "
                     "but a residual twice as large costs four times as much, so outliers pull the fit."),
        kernel=_mse_kernel, torch_equivalent="torch.nn.MSELoss()",
    )


def _rmse() -> Loss:
    return _RMSE(
        name="rmse", title=N_("Root mean squared error (RMSE)"), kind="regression",
        latex=rf"L=\sqrt{{{_MEAN}\left(\hat y_i-y_i\right)^2}}",
        grad_latex=r"\frac{\partial L}{\partial \hat y_i}=\frac{\hat y_i-y_i}{N\,L}",
        when_to_use=N_("Report it rather than train on it: it is √MSE, so it has the same minimiser and is in "
                     "the target's units, but its gradient is the MSE gradient divided by 2·RMSE. "
                     "Per sample (N = 1) it is |r|, which is what its catalogue curve shows."),
        kernel=_abs_kernel, torch_equivalent="torch.sqrt(torch.nn.MSELoss()(y_pred, y))",
    )


def _mae() -> Loss:
    return Loss(
        name="mae", title=N_("Mean absolute error (MAE)"), kind="regression",
        latex=rf"L={_MEAN}\left|\hat y_i-y_i\right|",
        grad_latex=r"\frac{\partial L}{\partial \hat y_i}=\frac{1}{N}\operatorname{sign}\left(\hat y_i-y_i\right)",
        when_to_use=N_("When outliers should not dominate: every residual pulls with the same force, so the fit "
                     "follows the median. Its gradient never shrinks near the minimum, so plain gradient "
                     "descent with a fixed learning rate ends up zig-zagging around it."),
        kernel=_abs_kernel, torch_equivalent="torch.nn.L1Loss()", kink=0.0, piecewise_linear=True,
    )


def _huber(delta: float = 1.0) -> Loss:
    delta = _positive("delta", delta)
    return Loss(
        name="huber", title=N_("Huber"), kind="regression",
        latex=(rf"L={_MEAN}\ell_\delta(r_i),\quad \ell_\delta(r)=\begin{{cases}}\tfrac12 r^2 & |r|\le\delta\\"
               rf"\delta\left(|r|-\tfrac12\delta\right) & |r|>\delta\end{{cases}},\quad {_R}"),
        grad_latex=r"\frac{\partial L}{\partial \hat y_i}=\frac{1}{N}\operatorname{clip}\left(r_i,-\delta,\delta\right)",
        when_to_use=N_("A compromise: squared error for small residuals (smooth near the minimum), absolute error "
                     "beyond δ (outliers pull with a force capped at δ). Choose δ about the size of a normal residual."),
        kernel=_huber_kernel(delta), params={"delta": delta},
        param_info={"delta": N_("δ > 0: residual size where the loss turns from quadratic to linear.")},
        torch_equivalent=f"torch.nn.HuberLoss(delta={delta:g})",
    )


def _log_cosh() -> Loss:
    return Loss(
        name="log_cosh", title=N_("Log-cosh"), kind="regression",
        latex=rf"L={_MEAN}\log\cosh\left(\hat y_i-y_i\right)",
        grad_latex=r"\frac{\partial L}{\partial \hat y_i}=\frac{1}{N}\tanh\left(\hat y_i-y_i\right)",
        when_to_use=N_("Like Huber with δ ≈ 1 but smooth everywhere (its second derivative exists), so it suits "
                     "Newton-type methods; behaves like r²/2 for small and |r| − log 2 for large residuals."),
        kernel=_log_cosh_kernel,
        torch_equivalent="torch.mean(torch.log(torch.cosh(y_pred - y)))  # no built-in class",
    )


def _quantile(q: float = 0.5) -> Loss:
    try:
        qv = float(q)
    except (TypeError, ValueError):
        raise OptlabError(f"q must be a number in (0, 1); got {q!r}") from None
    if not (0.0 < qv < 1.0):
        raise OptlabError(f"q must be strictly between 0 and 1; got {q!r}")
    return Loss(
        name="quantile", title=N_("Quantile / pinball"), kind="regression",
        latex=(rf"L={_MEAN}\max\left(q\,(y_i-\hat y_i),\ (q-1)\,(y_i-\hat y_i)\right)"),
        grad_latex=(r"\frac{\partial L}{\partial \hat y_i}=\frac{1}{N}\begin{cases}-q & \hat y_i<y_i\\"
                    r"1-q & \hat y_i>y_i\end{cases}"),
        when_to_use=N_("To predict a quantile instead of the mean: with q = 0.9 under-predicting costs 9 times more "
                     "than over-predicting, so the fit lies above about 90 % of the points. q = 0.5 is MAE / 2."),
        kernel=_quantile_kernel(qv), params={"q": qv},
        param_info={"q": N_("0 < q < 1: the quantile to predict; the cost of under-prediction relative to over-prediction is q : (1 − q).")},
        torch_equivalent="torch.mean(torch.maximum(q * (y - y_pred), (q - 1) * (y - y_pred)))  # no built-in class",
        kink=0.0, piecewise_linear=True,
    )


def _bce() -> Loss:
    return Loss(
        name="bce", title=N_("Binary cross-entropy (log loss)"), kind="classification",
        latex=(rf"L=-{_MEAN}\left[y_i\log\sigma(s_i)+(1-y_i)\log\left(1-\sigma(s_i)\right)\right]"
               rf"={_MEAN}\left[\log\left(1+e^{{s_i}}\right)-y_i s_i\right]"),
        grad_latex=r"\frac{\partial L}{\partial s_i}=\frac{1}{N}\left(\sigma(s_i)-y_i\right)",
        when_to_use=N_("The default for two classes with a probability output (logistic regression): convex in the "
                     "score, and a confidently wrong prediction gets a large gradient, unlike MSE on probabilities."),
        kernel=_logistic_kernel, torch_equivalent="torch.nn.BCEWithLogitsLoss()",
    )


def _hinge() -> Loss:
    return Loss(
        name="hinge", title=N_("Hinge"), kind="classification",
        latex=rf"L={_MEAN}\max\left(0,\,1-t_i s_i\right),\quad {_T}",
        grad_latex=r"\frac{\partial L}{\partial s_i}=\begin{cases}-t_i/N & t_i s_i<1\\0 & t_i s_i\ge 1\end{cases}",
        when_to_use=N_("The linear SVM's loss: points beyond the margin (t·s ≥ 1) cost nothing, so only the points "
                     "near the boundary shape it. It gives scores, not probabilities."),
        kernel=_hinge_kernel, kink=1.0, piecewise_linear=True,
        torch_equivalent="torch.mean(torch.clamp(1 - t * s, min=0))  # t = 2y − 1; no built-in binary class",
    )


def _squared_hinge() -> Loss:
    return Loss(
        name="squared_hinge", title=N_("Squared hinge"), kind="classification",
        latex=rf"L={_MEAN}\max\left(0,\,1-t_i s_i\right)^2,\quad {_T}",
        grad_latex=r"\frac{\partial L}{\partial s_i}=-\frac{2}{N}\,t_i\max\left(0,\,1-t_i s_i\right)",
        when_to_use=N_("A hinge with a smooth gradient (scikit-learn's LinearSVC default): still ignores points "
                     "beyond the margin but punishes violations quadratically."),
        kernel=_squared_hinge_kernel,
        torch_equivalent="torch.mean(torch.clamp(1 - t * s, min=0) ** 2)  # t = 2y − 1",
    )


def _focal(gamma: float = 2.0) -> Loss:
    gamma = _positive("gamma", gamma, allow_zero=True)
    return Loss(
        name="focal", title=N_("Focal"), kind="classification",
        latex=rf"L=-{_MEAN}\left(1-p_{{t,i}}\right)^{{\gamma}}\log p_{{t,i}},\quad p_{{t,i}}=\sigma(t_i s_i),\ {_T}",
        grad_latex=(r"\frac{\partial L}{\partial s_i}=-\frac{t_i}{N}\left(1-p_{t,i}\right)^{\gamma}"
                    r"\left(1-p_{t,i}-\gamma\,p_{t,i}\log p_{t,i}\right)"),
        when_to_use=N_("For heavy class imbalance (object detection): the factor (1 − p_t)^γ turns down the loss of "
                     "examples that are already right, so training focuses on hard ones. γ = 0 is plain BCE."),
        kernel=_focal_kernel(gamma), params={"gamma": gamma},
        param_info={"gamma": N_("γ ≥ 0: focusing strength; larger γ ignores easy (well-classified) examples more.")},
        torch_equivalent=(f"torchvision.ops.sigmoid_focal_loss(s, y, alpha=-1, gamma={gamma:g}, reduction='mean')"),
        convex=(gamma == 0.0), reference="Lin, Goyal, Girshick, He, Dollár (2017), Focal Loss for Dense Object Detection",
    )


def _cross_entropy() -> Loss:
    return _CrossEntropy(
        name="cross_entropy", title=N_("Cross-entropy (softmax)"), kind="classification",
        latex=(rf"L=-{_MEAN}\log\frac{{e^{{s_{{i,y_i}}}}}}{{\sum_{{c=1}}^{{C}}e^{{s_{{i,c}}}}}}"
               rf"=-{_MEAN}\sum_{{c=1}}^{{C}}t_{{i,c}}\log\operatorname{{softmax}}(s_i)_c"),
        grad_latex=r"\frac{\partial L}{\partial s_{i,c}}=\frac{1}{N}\left(\operatorname{softmax}(s_i)_c-t_{i,c}\right)",
        when_to_use=N_("The default for C ≥ 2 classes: softmax turns scores into probabilities and the loss is −log "
                     "of the true class's probability. The seed article's \"one-hot encoding loss\" is exactly this "
                     "loss written with one-hot targets t_i (t_{i,c} = 1 for the true class, 0 otherwise). "
                     "Its catalogue curve is the two-class case, m = s_true − s_other."),
        kernel=_logistic_kernel, torch_equivalent="torch.nn.CrossEntropyLoss()",
    )


_FACTORIES: dict[str, Callable[..., Loss]] = {
    "mse": _mse, "rmse": _rmse, "mae": _mae, "huber": _huber, "log_cosh": _log_cosh,
    "quantile": _quantile, "bce": _bce, "hinge": _hinge, "squared_hinge": _squared_hinge,
    "focal": _focal, "cross_entropy": _cross_entropy,
}
_PARAMS = {"huber": ("delta",), "quantile": ("q",), "focal": ("gamma",)}


def get(name: str, **params) -> Loss:
    """Build the loss ``name`` (see :func:`names`) with its parameters, e.g. ``get("quantile", q=0.9)``."""
    if name not in _FACTORIES:
        raise UnknownNameError("loss", name, names())
    allowed = _PARAMS.get(name, ())
    for k in params:
        if k not in allowed:
            has = ", ".join(allowed) if allowed else "none"
            raise OptlabError(f"loss {name!r} has no parameter {k!r}; its parameters: {has}")
    return _FACTORIES[name](**params)


def defaults(name: str) -> dict[str, float]:
    """Default parameters of loss ``name`` (``{}`` when it has none)."""
    return dict(get(name).params)
