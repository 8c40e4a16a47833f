r"""A small multilayer perceptron in NumPy with hand-written backpropagation.

Hidden layer :math:`\ell = 1..L` (``L = depth``), input :math:`h_0 = x`:

.. math::
    z_\ell = h_{\ell-1}W_\ell\,(+\,b_\ell),\quad
    u_\ell = \mathrm{BN}_{\gamma_\ell,\beta_\ell}(z_\ell)\ \text{or}\ z_\ell,\quad
    a_\ell = \varphi(u_\ell),\quad
    h_\ell = h_{\ell-1} + a_\ell\ \text{(residual)}\ \text{or}\ a_\ell

and the output layer :math:`o = h_L W_{L+1} + b_{L+1}`, trained on softmax cross-entropy
(classification) or mean squared error (regression). With batch normalization the linear bias
:math:`b_\ell` is dropped (β plays its part, and the batch mean would cancel it anyway).

All parameters live in ONE flat vector ``theta`` (P,), layer after layer, so any engine optimizer
(``optlab.optimizers.make``; state of shape (1, P)) trains the network; :func:`unflatten` gives the
per-layer arrays as views of it. Examples are the batch axis (first), features the last.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

import numpy as np

from .errors import OptlabError, check_choice
from .i18n import domain

_, N_, ngettext = domain("optlab")

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu")
INITS = ("normal", "xavier", "he")
TASKS = ("classification", "regression")
BN_EPS = 1e-5          # torch.nn.BatchNorm1d defaults
BN_MOMENTUM = 0.1
LEAKY_SLOPE = 0.01     # torch.nn.LeakyReLU default
FLAT_FRACTION = 0.1    # a unit counts as saturated/dead where φ'(u) < 10 % of max φ'

ACTIVATION_LATEX = {
    "sigmoid": r"\sigma(u) = \frac{1}{1+e^{-u}},\quad \sigma'(u) = \sigma(u)\,(1-\sigma(u)) \le \tfrac14",
    "tanh": r"\tanh(u),\quad \tanh'(u) = 1-\tanh^2(u) \le 1",
    "relu": r"\mathrm{ReLU}(u) = \max(u, 0),\quad \mathrm{ReLU}'(u) = \mathbf{1}[u>0]",
    "leaky_relu": r"\mathrm{LReLU}(u) = \max(u, 0.01\,u),\quad \mathrm{LReLU}'(u) \in \{0.01, 1\}",
}
INIT_LATEX = {
    "normal": r"W_{ij} \sim \mathcal N(0, s^2)",
    "xavier": r"W_{ij} \sim \mathcal N\!\Big(0, \frac{2}{n_{\mathrm{in}} + n_{\mathrm{out}}}\Big)",
    "he": r"W_{ij} \sim \mathcal N\!\Big(0, \frac{2}{n_{\mathrm{in}}}\Big)",
}
BATCH_NORM_LATEX = (
    r"\begin{aligned}"
    r"\mu_B &= \tfrac1N\sum_i z_i,\quad \sigma_B^2 = \tfrac1N\sum_i (z_i-\mu_B)^2,\quad"
    r"\hat z_i = \frac{z_i-\mu_B}{\sqrt{\sigma_B^2+\epsilon}},\quad u_i = \gamma\hat z_i + \beta \\"
    r"\frac{\partial L}{\partial z_i} &= \frac{\gamma}{N\sqrt{\sigma_B^2+\epsilon}}"
    r"\Big(N\,\delta_i - \sum_j \delta_j - \hat z_i\sum_j \delta_j\hat z_j\Big),"
    r"\quad \delta_i = \frac{\partial L}{\partial u_i}"
    r"\end{aligned}"
)
BACKPROP_LATEX = (
    r"\begin{aligned}"
    r"\delta_{L+1} &= \frac{\partial L}{\partial o},\quad "
    r"\frac{\partial L}{\partial W_\ell} = h_{\ell-1}^\top \frac{\partial L}{\partial z_\ell} \\"
    r"\frac{\partial L}{\partial u_\ell} &= \frac{\partial L}{\partial h_\ell}\odot\varphi'(u_\ell),\quad"
    r"\frac{\partial L}{\partial h_{\ell-1}} = \frac{\partial L}{\partial z_\ell}W_\ell^\top"
    r"\;\big(+\,\frac{\partial L}{\partial h_\ell}\text{ with a residual}\big)"
    r"\end{aligned}"
)
CLIP_LATEX = (
    r"\text{norm: } g \leftarrow g\cdot\min\Big(1, \frac{c}{\lVert g\rVert_2 + 10^{-6}}\Big)"
    r"\qquad \text{value: } g_i \leftarrow \min(\max(g_i, -c), c)"
)
LOSS_LATEX = {
    "classification": r"L = \frac1N\sum_i\Big(\log\sum_c e^{o_{ic}} - o_{i,y_i}\Big)",
    "regression": r"L = \frac{1}{N\,K}\sum_{i,k}(o_{ik}-y_{ik})^2",
}


# ----------------------------------------------------------------------------------------------
# Configuration and parameter layout
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MLPConfig:
    """Architecture. ``depth`` hidden layers of ``width`` units, then a linear output layer.

    ``init_scale`` is the standard deviation ``s`` of the "normal" initialisation (ignored by
    "xavier" and "he"). ``residual`` adds the skip ``h + φ(...)`` on hidden layers whose input
    width equals ``width`` (all but the first unless ``n_in == width``).
    """

    depth: int = 6
    width: int = 32
    activation: str = "relu"
    init: str = "he"
    init_scale: float = 1.0
    batch_norm: bool = False
    residual: bool = False
    n_in: int = 2
    n_out: int = 2
    task: str = "classification"
    seed: int = 0

    def __post_init__(self):
        check_choice("activation", self.activation, ACTIVATIONS)
        check_choice("initialisation", self.init, INITS)
        check_choice("task", self.task, TASKS)
        for name, lo in (("depth", 0), ("width", 1), ("n_in", 1), ("n_out", 1)):
            v = getattr(self, name)
            if int(v) != v or v < lo:
                raise OptlabError(f"{name} must be an integer >= {lo}, got {v!r}")
        if not (np.isfinite(self.init_scale) and self.init_scale > 0):
            raise OptlabError(f"init_scale must be a positive number, got {self.init_scale!r}")
        if self.task == "classification" and self.n_out < 2:
            raise OptlabError(f"classification needs n_out >= 2 classes, got {self.n_out!r}")

    @property
    def n_layers(self) -> int:
        """Number of weight layers: ``depth`` hidden + 1 output."""
        return self.depth + 1

    def fan(self, layer: int) -> tuple[int, int]:
        """(fan_in, fan_out) of weight layer ``layer`` (0-based; ``depth`` is the output layer)."""
        fan_in = self.n_in if layer == 0 else self.width
        fan_out = self.width if layer < self.depth else self.n_out
        return fan_in, fan_out

    def has_residual(self, layer: int) -> bool:
        return self.residual and layer < self.depth and self.fan(layer)[0] == self.width


class ParamSpec(NamedTuple):
    layer: int          # 0-based weight layer
    name: str           # "W", "b", "gamma" or "beta"
    shape: tuple
    offset: int

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def label(self) -> str:
        return f"layer{self.layer + 1}.{self.name}"


def param_layout(config: MLPConfig) -> list[ParamSpec]:
    """Where every parameter array sits in the flat vector, layer by layer."""
    specs, off = [], 0
    for l in range(config.n_layers):
        fi, fo = config.fan(l)
        hidden = l < config.depth
        names = [("W", (fi, fo))]
        names += [("gamma", (fo,)), ("beta", (fo,))] if hidden and config.batch_norm else [("b", (fo,))]
        for name, shape in names:
            specs.append(ParamSpec(l, name, shape, off))
            off += int(np.prod(shape))
    return specs


def n_params(config: MLPConfig) -> int:
    s = param_layout(config)[-1]
    return s.offset + s.size


def layer_offsets(config: MLPConfig) -> np.ndarray:
    """Start of each layer's block in the flat vector, plus the end: (n_layers + 1,)."""
    starts = {}
    for s in param_layout(config):
        starts.setdefault(s.layer, s.offset)
    return np.array([starts[l] for l in range(config.n_layers)] + [n_params(config)])


def flatten(params) -> np.ndarray:
    """List of arrays (in :func:`param_layout` order) -> one flat vector (P,)."""
    return np.concatenate([np.ravel(p) for p in params])


def unflatten(config: MLPConfig, theta) -> list[np.ndarray]:
    """Flat vector (P,) or (1, P) -> list of arrays that are VIEWS of it (writes go through)."""
    flat = np.asarray(theta).reshape(-1)
    if flat.shape[0] != n_params(config):
        raise OptlabError(f"theta has {flat.shape[0]} entries; this network has {n_params(config)}")
    return [flat[s.offset:s.offset + s.size].reshape(s.shape) for s in param_layout(config)]


def _by_layer(config: MLPConfig, arrays: list[np.ndarray]) -> list[dict]:
    layers = [dict() for _ in range(config.n_layers)]
    for s, a in zip(param_layout(config), arrays):
        layers[s.layer][s.name] = a
    return layers


def init_params(config: MLPConfig, seed: int | None = None) -> np.ndarray:
    """Initial flat vector: weights by ``config.init``, biases and β at 0, γ at 1."""
    rng = np.random.default_rng(config.seed if seed is None else seed)
    theta = np.zeros(n_params(config))
    for s, a in zip(param_layout(config), unflatten(config, theta)):
        if s.name == "W":
            fi, fo = s.shape
            std = {"normal": config.init_scale, "xavier": np.sqrt(2.0 / (fi + fo)),
                   "he": np.sqrt(2.0 / fi)}[config.init]
            a[...] = std * rng.standard_normal(s.shape)
        elif s.name == "gamma":
            a[...] = 1.0
    return theta


# ----------------------------------------------------------------------------------------------
# Activations
# ----------------------------------------------------------------------------------------------
def activate(name: str, u: np.ndarray) -> np.ndarray:
    if name == "sigmoid":
        return 0.5 * (1.0 + np.tanh(0.5 * u))  # = 1/(1+e^-u) without overflow for large |u|
    if name == "tanh":
        return np.tanh(u)
    if name == "relu":
        return np.maximum(u, 0.0)
    return np.where(u > 0, u, LEAKY_SLOPE * u)


def activation_grad(name: str, u: np.ndarray, a: np.ndarray) -> np.ndarray:
    """φ'(u), from the output ``a`` where that is cheaper."""
    if name == "sigmoid":
        return a * (1.0 - a)
    if name == "tanh":
        return 1.0 - a * a
    if name == "relu":
        return (u > 0).astype(float)
    return np.where(u > 0, 1.0, LEAKY_SLOPE)


def _flat_region(name: str, u, a) -> np.ndarray:
    """Boolean: φ'(u) below 10 % of its maximum (saturated sigmoid/tanh; ReLU at zero)."""
    peak = 0.25 if name == "sigmoid" else 1.0
    return activation_grad(name, u, a) < FLAT_FRACTION * peak


# msgids of the shared catalog: show them with _()
FLAT_LABEL = {"sigmoid": N_("saturated"), "tanh": N_("saturated"), "relu": N_("zero (dead)"),
              "leaky_relu": N_("negative side (slope 0.01)")}


# ----------------------------------------------------------------------------------------------
# Forward and backward
# ----------------------------------------------------------------------------------------------
class _Cache(NamedTuple):
    h_in: np.ndarray
    u: np.ndarray
    a: np.ndarray
    xhat: np.ndarray | None
    inv_std: np.ndarray | None


def _forward(config, layers, X, *, train: bool, bn_state=None):
    """Returns (output, caches, batch_stats). ``train`` uses batch statistics for BN."""
    h = X
    caches, stats = [], []
    for l in range(config.depth):
        p = layers[l]
        z = h @ p["W"]
        xhat = inv = None
        if config.batch_norm:
            if train:
                mu = z.mean(0)
                var = z.var(0)
                stats.append((mu, var))
            else:
                mu, var = bn_state["mean"][l], bn_state["var"][l]
            inv = 1.0 / np.sqrt(var + BN_EPS)
            xhat = (z - mu) * inv
            u = xhat * p["gamma"] + p["beta"]
        else:
            u = z + p["b"]
        a = activate(config.activation, u)
        caches.append(_Cache(h, u, a, xhat, inv))
        h = h + a if config.has_residual(l) else a
    out = h @ layers[-1]["W"] + layers[-1]["b"]
    caches.append(_Cache(h, out, out, None, None))
    return out, caches, stats


def _loss_and_dout(config, out, y):
    """Mean loss and ∂loss/∂output."""
    n = out.shape[0]
    if config.task == "classification":
        m = out.max(axis=1, keepdims=True)
        shifted = out - m
        lse = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        logp = shifted - lse
        loss = -logp[np.arange(n), y].mean()
        d = np.exp(logp)
        d[np.arange(n), y] -= 1.0
        d /= n
        return loss, d
    diff = out - y
    loss = np.mean(diff * diff)
    return loss, diff * (2.0 / diff.size)


def _backward(config, layers, grads, caches, dout):
    """Fill the per-layer gradient arrays ``grads`` (views of the flat gradient) in place."""
    h_last = caches[-1].h_in
    g = grads[-1]
    np.matmul(h_last.T, dout, out=g["W"])
    g["b"][...] = dout.sum(0)
    dh = dout @ layers[-1]["W"].T
    for l in range(config.depth - 1, -1, -1):
        c, p, g = caches[l], layers[l], grads[l]
        du = dh * activation_grad(config.activation, c.u, c.a)
        if config.batch_norm:
            g["gamma"][...] = np.einsum("ij,ij->j", du, c.xhat)
            g["beta"][...] = du.sum(0)
            dxhat = du * p["gamma"]
            n = du.shape[0]
            dz = (c.inv_std / n) * (n * dxhat - dxhat.sum(0) - c.xhat * np.einsum("ij,ij->j", dxhat, c.xhat))
        else:
            g["b"][...] = du.sum(0)
            dz = du
        np.matmul(c.h_in.T, dz, out=g["W"])
        if l > 0:  # the gradient w.r.t. the input data is not needed
            dh_in = dz @ p["W"].T
            if config.has_residual(l):
                dh_in += dh
            dh = dh_in


def _targets(config, y, n):
    if config.task == "classification":
        y = np.asarray(y).ravel()
        if y.shape[0] != n:
            raise OptlabError(f"X has {n} rows but y has {y.shape[0]} labels")
        yi = y.astype(np.int64)
        if np.any(yi != y) or yi.min() < 0 or yi.max() >= config.n_out:
            raise OptlabError(f"class labels must be integers in 0..{config.n_out - 1}")
        return yi
    y = np.asarray(y, dtype=float).reshape(n, -1)
    if y.shape[1] != config.n_out:
        raise OptlabError(f"y has {y.shape[1]} target columns; the network has n_out={config.n_out}")
    return y


def _check_X(config, X):
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != config.n_in:
        raise OptlabError(f"X must have shape (n, {config.n_in}), got {X.shape}")
    return X


def _eval_forward(config, layers, X, bn_state):
    """Evaluation-mode output, computed in row chunks.

    Why chunks: OpenBLAS splits a product over threads once m·n·k ≥ 2^18; on a busy 2-core
    server those threads wait for each other and a (1000×32)(32×32) product gets ~10× slower
    than single-threaded. Rows are independent in evaluation mode (BN uses running statistics),
    so chunking changes nothing but the speed.
    """
    widest = max(a * b for a, b in (config.fan(l) for l in range(config.n_layers)))
    chunk = max(16, 2**17 // widest)
    if X.shape[0] <= chunk:
        return _forward(config, layers, X, train=False, bn_state=bn_state)[0]
    return np.concatenate([_forward(config, layers, X[i:i + chunk], train=False, bn_state=bn_state)[0]
                           for i in range(0, X.shape[0], chunk)])


def loss_and_grad(config: MLPConfig, theta, X, y) -> tuple[float, np.ndarray]:
    """Training-mode (batch statistics) mean loss on (X, y) and its gradient (P,) w.r.t. ``theta``."""
    X = _check_X(config, X)
    y = _targets(config, y, X.shape[0])
    layers = _by_layer(config, unflatten(config, np.asarray(theta, dtype=float)))
    grad = np.zeros(n_params(config))
    out, caches, _ = _forward(config, layers, X, train=True)
    loss, dout = _loss_and_dout(config, out, y)
    _backward(config, layers, _by_layer(config, unflatten(config, grad)), caches, dout)
    return float(loss), grad


def new_bn_state(config: MLPConfig) -> dict | None:
    """Running statistics of batch norm (torch's start: mean 0, var 1), or None without BN."""
    if not config.batch_norm or config.depth == 0:
        return None
    return {"mean": np.zeros((config.depth, config.width)), "var": np.ones((config.depth, config.width))}


def predict(config: MLPConfig, theta, X, bn_state=None) -> np.ndarray:
    """Evaluation mode: class probabilities (n, n_out) or regression outputs (n, n_out).

    Batch norm uses the running statistics ``bn_state`` (torch's ``model.eval()``).
    """
    X = _check_X(config, X)
    if config.batch_norm and bn_state is None:
        raise OptlabError("a batch-norm network needs its running statistics (history.bn_state) to predict")
    layers = _by_layer(config, unflatten(config, np.asarray(theta, dtype=float)))
    with np.errstate(over="ignore", invalid="ignore"):
        out = _eval_forward(config, layers, X, bn_state)
        if config.task == "classification":
            e = np.exp(out - out.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)
    return out


def evaluate(config: MLPConfig, theta, X, y, bn_state=None) -> tuple[float, float | None]:
    """(mean loss, accuracy or None for regression) in evaluation mode."""
    X = _check_X(config, X)
    y = _targets(config, y, X.shape[0])
    layers = _by_layer(config, unflatten(config, np.asarray(theta, dtype=float)))
    return _evaluate(config, layers, X, y, bn_state)


def _evaluate(config, layers, X, y, bn_state) -> tuple[float, float | None]:
    """:func:`evaluate` on checked data and per-layer arrays (the training loop's own views)."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        out = _eval_forward(config, layers, X, bn_state)
        loss, _unused = _loss_and_dout(config, out, y)
    acc = float(np.mean(out.argmax(1) == y)) if config.task == "classification" else None
    return float(loss), acc


# ----------------------------------------------------------------------------------------------
# Training
# ----------------------------------------------------------------------------------------------
@dataclass
class TrainingHistory:
    """Everything a page plots about one training run.

    Per step (length ``steps_done``): ``loss`` (mini-batch loss), ``grad_norms`` (steps, depth+1)
    the 2-norm of each layer's whole gradient (W, b, γ, β) BEFORE clipping, ``grad_norm`` /
    ``grad_norm_clipped`` the global norm before/after clipping.

    At ``record_steps`` (R,) (0-based step index, taken before that step's update): per hidden
    layer (R, depth) ``act_mean``, ``act_std`` of the activations a = φ(u) of the training batch,
    ``act_flat`` the fraction of entries in the activation's flat region (φ' < 10 % of its
    maximum: saturated sigmoid/tanh, ReLU output 0; see ``flat_label``), ``dead_units`` the
    fraction of units flat for EVERY example of the batch; ``train_loss_eval`` (and
    ``val_loss``/``val_accuracy`` if validation data were given) in evaluation mode.

    ``activation_samples_init`` / ``activation_samples`` (depth, S): activation values of each
    hidden layer on a fixed subset of training inputs at initialisation and at the end (for
    histograms; batch statistics for BN; nan where values overflowed).

    ``diverged_at`` is the step whose loss or gradient was non-finite (-1 if none): training stops
    there and ``params`` holds the weights of the step before (the last finite loss).
    ``best_step``/``best_params``: lowest validation loss among the records (-1/None without
    validation data); ``stopped_at``: the step where early stopping (``patience``) ended the run.
    ``snapshots`` (R, m, n_out): the evaluation-mode output at ``snapshot_X`` at every record (None
    unless asked for): what the network predicted at each check, e.g. the weights early stopping
    would restore for any patience, from one run.
    """

    config: MLPConfig
    optimizer: str
    hyper: dict
    steps: int
    steps_done: int = 0
    batch_size: int = 0
    loss: np.ndarray = field(default_factory=lambda: np.empty(0))
    grad_norms: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))
    grad_norm: np.ndarray = field(default_factory=lambda: np.empty(0))
    grad_norm_clipped: np.ndarray = field(default_factory=lambda: np.empty(0))
    record_steps: np.ndarray = field(default_factory=lambda: np.empty(0, int))
    act_mean: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))
    act_std: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))
    act_flat: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))
    dead_units: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))
    train_loss_eval: np.ndarray = field(default_factory=lambda: np.empty(0))
    val_loss: np.ndarray | None = None
    val_accuracy: np.ndarray | None = None
    activation_samples_init: np.ndarray | None = None
    activation_samples: np.ndarray | None = None
    train_accuracy: float | None = None
    final_val_accuracy: float | None = None
    final_train_loss: float = float("nan")
    final_val_loss: float | None = None
    diverged_at: int = -1
    stopped_at: int = -1
    best_step: int = -1
    best_params: np.ndarray | None = None
    best_bn_state: dict | None = None
    snapshots: np.ndarray | None = None
    message: str = ""
    params: np.ndarray | None = None
    bn_state: dict | None = None
    seconds: float = 0.0

    @property
    def diverged(self) -> bool:
        return self.diverged_at >= 0

    @property
    def flat_label(self) -> str:
        return _(FLAT_LABEL[self.config.activation])

    def predict(self, X) -> np.ndarray:
        return predict(self.config, self.params, X, self.bn_state)


def _act_samples(config, layers, X, rng, n_max=4096):
    if config.depth == 0:
        return np.empty((0, 0))
    with np.errstate(over="ignore", invalid="ignore"):
        _, caches, _ = _forward(config, layers, X, train=True)
    acts = [c.a.ravel() for c in caches[:-1]]
    size = acts[0].size
    pick = rng.choice(size, size=min(n_max, size), replace=False) if size > n_max else slice(None)
    out = np.stack([a[pick] for a in acts])
    out[~np.isfinite(out)] = np.nan  # an exploded layer: nan is skipped by histograms, inf is not
    return out


def _eval_chunks(config: MLPConfig, n: int) -> int:
    """How many row chunks :func:`_eval_forward` evaluates ``n`` points in."""
    if n <= 0:
        return 0
    widest = max(a * b for a, b in (config.fan(l) for l in range(config.n_layers)))
    return -(-int(n) // max(16, 2**17 // widest))


def train_cost(config: MLPConfig, n_samples: int, *, steps: int = 300, epochs: int | None = None,
               batch_size: int | None = 64, n_val: int = 0, record_every: int | None = None) -> float:
    """Estimated work of :func:`train` with these arguments, in :mod:`optlab.budget` evaluations.

    Multiply-adds: a step's forward and backward pass costs ``3 · batch · W`` with ``W`` the weights
    (≈ layers × units²), each record evaluates the training (and validation) set forward
    (``n · W``), all at :data:`~optlab.budget.MLP_FLOPS_PER_EVAL` multiply-adds per evaluation.
    Python and small arrays: a step costs :data:`~optlab.budget.MLP_STEP_EVALS` (optimizer, norms,
    bookkeeping) plus :data:`~optlab.budget.MLP_LAYER_EVALS` per layer; a record
    :data:`~optlab.budget.MLP_RECORD_EVALS` (losses, activation statistics) plus
    :data:`~optlab.budget.MLP_CHUNK_EVALS` per layer and per row chunk of its evaluation passes.
    So ``epochs`` full passes cost ≈ 3 · layers · units² · samples · epochs. Batch normalization
    multiplies the steps by :data:`~optlab.budget.MLP_BN_FACTOR` and the records by half as much
    again (normalisation, statistics and their backward pass on every hidden layer).
    ``bench/bench_budget.py`` measures it against :func:`train` (the estimate must not be below).
    """
    from .budget import (MLP_BN_FACTOR, MLP_CHUNK_EVALS, MLP_FLOPS_PER_EVAL, MLP_LAYER_EVALS, MLP_RECORD_EVALS,
                         MLP_STEP_EVALS)

    n = int(n_samples)
    bs = n if batch_size is None or batch_size >= n else max(1, int(batch_size))
    if epochs is not None:
        steps = int(epochs) * max(1, n // bs)
    steps = max(0, int(steps))
    W = sum(a * b for a, b in (config.fan(l) for l in range(config.n_layers)))
    L = config.n_layers
    every = max(1, steps // 50) if record_every is None else max(1, int(record_every))
    records = -(-steps // every) if steps else 0
    n_val = int(n_val)
    n_eval = n + n_val
    chunks = _eval_chunks(config, n) + _eval_chunks(config, n_val)
    bn = config.batch_norm and config.depth > 0
    # per step: forward + backward of a batch, and the Python around it
    step = (3 * bs * W / MLP_FLOPS_PER_EVAL + MLP_STEP_EVALS + MLP_LAYER_EVALS * L) * (MLP_BN_FACTOR if bn else 1.0)
    # per record: the training (and validation) set forward, in chunks, and the statistics
    record = (n_eval * W / MLP_FLOPS_PER_EVAL + MLP_RECORD_EVALS + MLP_CHUNK_EVALS * L * chunks) * (
        0.5 * (1.0 + MLP_BN_FACTOR) if bn else 1.0)
    # once: two activation samples (≤ 512 points each) and the final evaluation
    once = (2 * min(n, 512) + n_eval) * W / MLP_FLOPS_PER_EVAL + 2 * MLP_RECORD_EVALS
    return step * (steps + 1) + record * records + once


def train(config: MLPConfig, X, y, optimizer: str = "adam", hyper: dict | None = None, *,
          steps: int = 300, epochs: int | None = None, batch_size: int | None = 64,
          clip_norm: float | None = None, clip_value: float | None = None, seed: int = 0,
          X_val=None, y_val=None, record_every: int | None = None, patience: int | None = None,
          callback: Callable[[int, int], None] | None = None, snapshot_X=None) -> TrainingHistory:
    """Train the MLP with mini-batch gradients and the engine optimizer ``optimizer``.

    Mini-batches: a fresh permutation each epoch, ``n // batch_size`` full batches per epoch
    (the remainder is dropped, like ``DataLoader(drop_last=True)``); ``batch_size=None`` or
    ``>= n`` is full batch. ``epochs``, if given, sets ``steps = epochs · batches per epoch``.
    Clipping (``optlab.runner.clip_grads``: torch's ``clip_grad_value_`` then ``clip_grad_norm_``)
    acts on the flat gradient of the whole network: one global norm, as torch computes it.
    ``record_every`` (default: ~50 records) sets how often activation statistics and evaluation
    losses are recorded. ``callback(step, total)`` is called at most ~100 times (progress bars).
    A non-finite loss or gradient stops the run and sets ``diverged_at``; nothing is raised.

    With validation data the weights of the lowest validation loss (at a record step) are kept
    (``best_step``, ``best_params``). ``patience`` (in records) turns on early stopping with the
    rule of :func:`optlab.validation.early_stopping`: stop after ``patience`` records in a row
    without improvement (``stopped_at``) and restore the best weights into ``params``.
    ``snapshot_X``: inputs at which the evaluation-mode output is kept at every record
    (``snapshots``).
    """
    from . import optimizers  # late imports: keep this module importable on its own
    from .runner import clip_grads

    t0 = time.perf_counter()
    X = _check_X(config, X)
    n = X.shape[0]
    y = _targets(config, y, n)
    check_choice("optimizer for the MLP", optimizer, optimizers.FIRST_ORDER)
    hyper = dict(hyper or {})
    opt = optimizers.make(optimizer, **hyper)
    if X_val is not None:
        X_val = _check_X(config, X_val)
        y_val = _targets(config, y_val, X_val.shape[0])
    if snapshot_X is not None:
        snapshot_X = _check_X(config, snapshot_X)
    if patience is not None and (X_val is None or int(patience) != patience or patience < 1):
        raise OptlabError(f"patience must be a positive integer and needs validation data, got {patience!r}")
    bs = n if batch_size is None or batch_size >= n else int(batch_size)
    if bs < 1 or (config.batch_norm and bs < 2):
        raise OptlabError(f"batch_size must be >= {2 if config.batch_norm else 1}, got {batch_size!r}")
    per_epoch = max(1, n // bs)
    if epochs is not None:
        steps = int(epochs) * per_epoch
    steps = int(steps)
    if steps < 1:
        raise OptlabError(f"steps must be >= 1, got {steps!r}")
    for name, c in (("clip_norm", clip_norm), ("clip_value", clip_value)):
        if c is not None and not (np.isfinite(c) and c > 0):
            raise OptlabError(f"{name} must be a positive number or None, got {c!r}")
    every = max(1, steps // 50) if record_every is None else max(1, int(record_every))
    cb_every = max(1, steps // 100)

    rng = np.random.default_rng(seed)
    theta = init_params(config)[None, :]          # (1, P): one run for the optimizer
    grad = np.zeros_like(theta)
    layers = _by_layer(config, unflatten(config, theta))
    glayers = _by_layer(config, unflatten(config, grad))
    bounds = layer_offsets(config)
    bn_state = new_bn_state(config)
    state = opt.init(theta)

    sample_idx = rng.choice(n, size=min(n, 512), replace=False)
    hist = TrainingHistory(config=config, optimizer=optimizer, hyper=hyper, steps=steps, batch_size=bs)
    hist.activation_samples_init = _act_samples(config, layers, X[sample_idx], rng)

    L, D = config.n_layers, config.depth
    loss_a = np.full(steps, np.nan)
    gn_layers = np.full((steps, L), np.nan)
    gn = np.full(steps, np.nan)
    gn_clip = np.full(steps, np.nan)
    rec = list(range(0, steps, every))
    R = len(rec)
    a_mean, a_std, a_flat, a_dead = (np.full((R, D), np.nan) for _ in range(4))
    tr_eval = np.full(R, np.nan)
    va_loss = np.full(R, np.nan) if X_val is not None else None
    va_acc = np.full(R, np.nan) if X_val is not None and config.task == "classification" else None
    snaps = None if snapshot_X is None else np.full((R, snapshot_X.shape[0], config.n_out), np.nan)
    last_good = theta.copy()
    bn_good = None if bn_state is None else {k: v.copy() for k, v in bn_state.items()}
    best_val, best_r = np.inf, 0

    perm = rng.permutation(n)
    pos = 0
    r = 0
    done = 0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for t in range(steps):
            if pos + bs > n:
                perm = rng.permutation(n)
                pos = 0
            idx = perm[pos:pos + bs]
            pos += bs
            xb = X[idx]
            yb = y[idx]
            out, caches, stats = _forward(config, layers, xb, train=True)
            loss, dout = _loss_and_dout(config, out, yb)
            _backward(config, layers, glayers, caches, dout)
            g = grad[0]
            sq = np.add.reduceat(g * g, bounds[:-1])
            gn_layers[t] = np.sqrt(sq)
            total = float(np.sqrt(sq.sum()))
            loss_a[t] = loss
            gn[t] = total
            done = t + 1
            if not (np.isfinite(loss) and np.isfinite(total)):
                hist.diverged_at = t
                hist.message = _("diverged at step {k}: the loss or the gradient became inf/nan (exploding "
                                 "values); training stopped and the last finite weights kept").format(k=t)
                break
            if clip_norm is not None or clip_value is not None:
                grad[...] = clip_grads(grad, clip_norm, clip_value)  # the runner's torch-style clipping
                gn_clip[t] = np.sqrt(np.einsum("i,i->", g, g))  # not BLAS ddot: no thread pool per step
            else:
                gn_clip[t] = total
            last_good[...] = theta  # weights whose loss is finite: what a divergence falls back to
            if bn_state is not None:
                for k in bn_state:
                    bn_good[k][...] = bn_state[k]
            if r < R and rec[r] == t:
                for l in range(D):
                    a = caches[l].a
                    a_mean[r, l] = a.mean()
                    a_std[r, l] = a.std()
                    flat = _flat_region(config.activation, caches[l].u, a)
                    a_flat[r, l] = flat.mean()
                    a_dead[r, l] = flat.all(axis=0).mean()
                tr_eval[r] = _evaluate(config, layers, X, y, bn_state)[0]
                if snaps is not None:
                    snaps[r] = _eval_forward(config, layers, snapshot_X, bn_state)
                if X_val is not None:
                    vl, vacc = _evaluate(config, layers, X_val, y_val, bn_state)
                    va_loss[r] = vl
                    if va_acc is not None:
                        va_acc[r] = vacc
                    if np.isfinite(vl) and vl < best_val:
                        best_val, best_r = vl, r
                        hist.best_step = t
                        hist.best_params = theta[0].copy()
                        hist.best_bn_state = None if bn_state is None else {k: v.copy() for k, v in bn_state.items()}
                    elif patience is not None and r - best_r >= patience:
                        hist.stopped_at = t
                        r += 1
                        break
                r += 1
            if bn_state is not None:
                for l, (mu, var) in enumerate(stats):
                    # torch updates the running variance with the unbiased batch variance
                    bn_state["mean"][l] += BN_MOMENTUM * (mu - bn_state["mean"][l])
                    unbiased = var * (bs / (bs - 1))
                    bn_state["var"][l] += BN_MOMENTUM * (unbiased - bn_state["var"][l])
            updates, state = opt.update(grad, state, theta)
            theta += updates
            if callback is not None and ((t + 1) % cb_every == 0 or t + 1 == steps):
                callback(t + 1, steps)

    if not hist.diverged and not np.all(np.isfinite(theta)):
        hist.diverged_at = done - 1  # the very last update overflowed
        hist.message = _("diverged: the last update made the weights inf/nan; the previous weights kept")
    if (hist.diverged or hist.stopped_at >= 0) and callback is not None:
        callback(steps, steps)
    if hist.diverged:
        theta[...] = last_good
        bn_state = bn_good
    elif hist.stopped_at >= 0:
        theta[0] = hist.best_params
        bn_state = hist.best_bn_state
    keep = np.array(rec[:r], dtype=int)
    hist.steps_done = done
    hist.loss, hist.grad_norms = loss_a[:done], gn_layers[:done]
    hist.grad_norm, hist.grad_norm_clipped = gn[:done], gn_clip[:done]
    hist.record_steps = keep
    hist.act_mean, hist.act_std, hist.act_flat, hist.dead_units = a_mean[:r], a_std[:r], a_flat[:r], a_dead[:r]
    hist.train_loss_eval = tr_eval[:r]
    hist.val_loss = None if va_loss is None else va_loss[:r]
    hist.val_accuracy = None if va_acc is None else va_acc[:r]
    hist.snapshots = None if snaps is None else snaps[:r]
    hist.params = theta[0].copy()
    hist.bn_state = bn_state
    hist.activation_samples = _act_samples(config, layers, X[sample_idx], rng)
    hist.final_train_loss, hist.train_accuracy = evaluate(config, hist.params, X, y, bn_state)
    if X_val is not None:
        hist.final_val_loss, hist.final_val_accuracy = evaluate(config, hist.params, X_val, y_val, bn_state)
    if hist.stopped_at >= 0:
        hist.message = ngettext(
            "early stopping at step {k}: no better validation loss for {n} record; restored the weights of "
            "step {best}",
            "early stopping at step {k}: no better validation loss for {n} records; restored the weights of "
            "step {best}", patience).format(k=hist.stopped_at, n=patience, best=hist.best_step)
    elif not hist.diverged:
        hist.message = ngettext("trained {n} step", "trained {n} steps", done).format(n=done)
    hist.seconds = time.perf_counter() - t0
    return hist


# ----------------------------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------------------------
def two_spirals(n: int = 1000, noise: float = 0.05, seed: int = 0, turns: float = 1.5):
    r"""Two interleaved spirals in [-1, 1]², labels 0/1: ``(X (n, 2), y (n,) int)``.

    Class c: :math:`t\in[0, 2\pi\,\text{turns}]`, radius :math:`r = t/(2\pi\,\text{turns})`,
    :math:`x = r(\cos(t+c\pi), \sin(t+c\pi)) + N(0, \text{noise}^2 I)`; :math:`t\propto\sqrt{U}` so
    points are spread evenly along the arms. Not linearly separable: a deep enough net is needed.
    """
    n = int(n)
    if n < 2:
        raise OptlabError(f"n must be >= 2, got {n!r}")
    if noise < 0:
        raise OptlabError(f"noise must be >= 0, got {noise!r}")
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    tmax = 2 * np.pi * turns
    t = np.sqrt(rng.uniform(0.0, 1.0, n)) * tmax
    r = t / tmax
    ang = t + np.pi * y
    X = np.stack([r * np.cos(ang), r * np.sin(ang)], axis=1) + noise * rng.standard_normal((n, 2))
    order = rng.permutation(n)
    return X[order], y[order].astype(np.int64)
