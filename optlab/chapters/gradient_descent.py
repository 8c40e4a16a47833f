r"""The chapter "Gradient descent": learning rates read off the curvature, batch / mini-batch /
stochastic runs and schedules on a data set's (w, b) surface, and the seed article's code.

Learning rates from curvature (:func:`curvature`, :func:`contraction`) use the closed forms of
:mod:`optlab.theory` on the Hessian at the minimum; the variants are measured in epochs and
sample gradients (:func:`epochs_to_steps`), the schedules are fitted to the run's length
(:func:`schedule_spec`), and SGD's noise floor is read off a run's tail (:func:`tail_gap`,
:func:`zoom_window`).

The seed article (``/work/shared/seeds/``, in Chinese) illustrates gradient descent (4.1) and
stochastic gradient descent (4.2) with two short Python programs that import TensorFlow.  This
module keeps them as text (:data:`GD_CODE`, :data:`SGD_CODE`), reproduces their NumPy lines
faithfully -- never by executing the strings, and without TensorFlow, which they import but never
use -- and measures each defect:

1. shapes: ``theta = np.random.randn(1, 1)`` against ``y`` of shape ``(4,)``: ``X.dot(theta) - y``
   broadcasts ``(4, 1) − (4,)`` to ``(4, 4)``, the "gradient" is ``(1, 4)`` and the in-place
   ``theta -= alpha * gradients`` raises (``theta = theta - …`` would run and return four slopes);
2. factors: the batch gradient ``(1/m)·Xᵀ(Xθ − y)`` is the gradient of ½·MSE; the SGD gradient
   ``(2/m)·x_i(x_iθ − y_i)`` is the per-sample squared-error gradient ``2·x_i(x_iθ − y_i)`` shrunk by
   ``m``, so in expectation it is ∇MSE / m;
3. no intercept (the model is ``y = θ·x``);
4. ``loss_function`` is written with TensorFlow and never called;
5. ``np.random.randn`` / ``np.random.randint`` without a seed: every run differs.

:func:`corrected` runs the fixed versions with optlab (intercept, torch's SGD, seeded) and compares
them with the least-squares closed form.  NumPy only (``ast`` reads the samples' structure).
"""
from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import data as _data
from .. import models as _models
from .. import schedules, specs, theory
from ..optimizers import make as _make
from ..runner import Trajectory, run as _run
from ..surfaces.data import loss_surface_1d

Array = np.ndarray

# ----------------------------------------------------------------------------------------------
# Learning rates from curvature
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Curvature:
    lam_max: float
    lam_min: float
    critical: float      # 2 / λ_max: above it GD diverges on this quadratic
    presets: dict        # name -> lr


PRESET_FACTORS = {"too small": 0.01, "good": None, "oscillating": 0.9, "diverging": 1.2}


def curvature(surface) -> Curvature:
    """Eigenvalues of the Hessian at the surface's minimum and the learning-rate presets they imply:
    too small = 1 % of 2/λ_max, good = 2/(λ_max + λ_min) (the best constant step on a quadratic),
    oscillating = 90 % and diverging = 120 % of the critical 2/λ_max."""
    lam = theory.hessian_eigenvalues(surface, surface.minima[0])
    lo, hi = float(lam[0]), float(lam[-1])
    crit = float(theory.stability_limit(0.0, hi))
    presets = {k: (theory.gd_best_lr(lo, hi) if f is None else f * crit) for k, f in PRESET_FACTORS.items()}
    return Curvature(hi, lo, crit, {k: float(f"{v:.4g}") for k, v in presets.items()})


def contraction(surface, lr: float) -> float:
    """max |1 − η λ| over the Hessian's eigenvalues at the minimum: GD's error shrinks by this
    factor per step."""
    return float(theory.gd_rate(lr, theory.hessian_eigenvalues(surface, surface.minima[0])))


# ----------------------------------------------------------------------------------------------
# Batch, mini-batch, stochastic; schedules
# ----------------------------------------------------------------------------------------------
def epochs_to_steps(epochs: float, batch_size: int, n: int) -> int:
    """Optimizer steps that process ``epochs``·N sample gradients with mini-batches of ``batch_size``."""
    return max(1, int(round(epochs * n / batch_size)))


def schedule_spec(name: str, steps: int) -> tuple | None:
    """A schedule fitted to a run of ``steps`` steps: it ends near 1 % of the base learning rate
    (step: halved four times; exponential: 0.01 at the end; cosine and warm-up: T_max = steps)."""
    steps = max(int(steps), 2)
    if name == "constant":
        return None
    if name == "step":
        return ("step", (("gamma", 0.5), ("step_size", max(1, steps // 5))))
    if name == "exponential":
        return ("exponential", (("gamma", float(0.01 ** (1.0 / steps))),))
    if name == "cosine":
        return ("cosine", (("T_max", steps), ("eta_min", 0.0)))
    if name == "warmup_cosine":
        return ("warmup_cosine", (("T_max", steps), ("warmup", max(1, steps // 10))))
    raise ValueError(f"unknown schedule {name!r}; choose one of: {', '.join(schedules.names())}")


def schedule_object(spec) -> schedules.Schedule:
    """The schedule of a :func:`schedule_spec` (the constant one for None)."""
    return specs.schedule_from_spec(spec) if spec is not None else schedules.get("constant")


def tail_gap(losses, f_star: float, fraction: float = 0.1) -> float:
    """Mean of f − f* over the last ``fraction`` of a run's losses: the noise floor SGD hovers at
    (inf once the run diverged)."""
    ls = np.asarray(losses, dtype=float)
    k = max(1, int(len(ls) * fraction))
    tail = ls[-k:] - f_star
    return float(np.mean(tail)) if np.all(np.isfinite(tail)) else math.inf


def zoom_window(center, trs, keep: float = 0.5, pad: float = 1.6) -> tuple:
    """A square window around ``center`` (the minimum) that holds the last ``keep`` share of every run."""
    c = np.array(center)
    r = 0.0
    for tr in trs:
        xs = np.asarray(tr.xs, dtype=float)
        tail = xs[int(len(xs) * (1 - keep)):]
        tail = tail[np.isfinite(tail).all(axis=1)]
        if len(tail):
            r = max(r, float(np.max(np.abs(tail - c))))
    r = pad * r if r > 0 else 1.0
    return ((float(c[0] - r), float(c[0] + r)), (float(c[1] - r), float(c[1] + r)))


# ----------------------------------------------------------------------------------------------
# The seed article's code
# ----------------------------------------------------------------------------------------------
# The seed text as stored lost every leading space; the indentation below is restored (and is the
# only change): strip each line and you get the seed's lines back (tests/chapters/test_gradient_descent.py checks it).
GD_CODE = '''import numpy as np
import tensorflow as tf
# 定义损失函数
def loss_function(y_true, y_pred):
    return tf.reduce_mean(tf.square(y_true - y_pred))
# 定义梯度下降法
def gradient_descent(X, y, theta, alpha, iterations):
    m = len(y)
    for i in range(iterations):
        gradients = (1 / m) * X.T.dot(X.dot(theta) - y)
        theta -= alpha * gradients
    return theta
# 生成数据
X = np.array([[1], [2], [3], [4]])
y = np.array([1, 2, 3, 4])
# 初始化模型参数
theta = np.random.randn(1, 1)
# 设置学习率和迭代次数
alpha = 0.01
iterations = 1000
# 优化模型参数
theta = gradient_descent(X, y, theta, alpha, iterations)
print("优化后的模型参数:", theta)
'''

SGD_CODE = '''import numpy as np
import tensorflow as tf
# 定义损失函数
def loss_function(y_true, y_pred):
    return tf.reduce_mean(tf.square(y_true - y_pred))
# 定义随机梯度下降法
def stochastic_gradient_descent(X, y, theta, alpha, iterations):
    m = len(y)
    for i in range(iterations):
        random_index = np.random.randint(m)
        gradients = (2 / m) * X[random_index].dot(X[random_index].dot(theta) - y[random_index])
        theta -= alpha * gradients
    return theta
# 生成数据
X = np.array([[1], [2], [3], [4]])
y = np.array([1, 2, 3, 4])
# 初始化模型参数
theta = np.random.randn(1, 1)
# 设置学习率和迭代次数
alpha = 0.01
iterations = 1000
# 优化模型参数
theta = stochastic_gradient_descent(X, y, theta, alpha, iterations)
print("优化后的模型参数:", theta)
'''

# The Chinese comments and the printed label, in English.
TRANSLATIONS = {
    "定义损失函数": "define the loss function",
    "定义梯度下降法": "define gradient descent",
    "定义随机梯度下降法": "define stochastic gradient descent",
    "生成数据": "generate the data",
    "初始化模型参数": "initialise the model parameters",
    "设置学习率和迭代次数": "set the learning rate and the number of iterations",
    "优化模型参数": "optimise the model parameters",
    "优化后的模型参数:": "model parameters after optimisation:",
}


@dataclass(frozen=True)
class Sample:
    key: str
    section: str
    title: str
    code: str
    function: str  # name of the optimisation routine the sample defines


SAMPLES = {
    "gd": Sample("gd", "4.1", "梯度下降法实例 (gradient descent example)", GD_CODE, "gradient_descent"),
    "sgd": Sample("sgd", "4.2", "随机梯度下降法实例 (stochastic gradient descent example)", SGD_CODE,
                  "stochastic_gradient_descent"),
}

ALPHA = 0.01        # the article's learning rate
ITERATIONS = 1000   # and number of iterations

# The article's sections 3.1-3.4 announce "数学模型公式为:" ("the mathematical model is:") and then
# show nothing: the formulas were lost.  Here they are, in the notation of this app.
FORMULAS = {
    "objective": r"L(\theta)=\frac{1}{N}\sum_{i=1}^{N}\ell\big(f_\theta(x_i),\,y_i\big)",
    "gd": (r"\theta_{t+1}=\theta_t-\eta\,\nabla L(\theta_t)"
           r"=\theta_t-\eta\,\frac{1}{N}\sum_{i=1}^{N}\nabla\ell_i(\theta_t)"),
    "sgd": r"\theta_{t+1}=\theta_t-\eta\,\nabla\ell_{i_t}(\theta_t),\qquad i_t\sim\mathcal U\{1,\dots,N\}",
    "minibatch": (r"\theta_{t+1}=\theta_t-\eta\,\frac{1}{|B_t|}\sum_{i\in B_t}\nabla\ell_i(\theta_t),"
                  r"\qquad B_t\subset\{1,\dots,N\},\ |B_t|=b"),
    "unbiased": r"\mathbb E_{B_t}\Big[\frac{1}{|B_t|}\sum_{i\in B_t}\nabla\ell_i(\theta)\Big]=\nabla L(\theta)",
    "newton": r"\theta_{t+1}=\theta_t-\big[\nabla^2L(\theta_t)\big]^{-1}\nabla L(\theta_t)",
    "epochs": r"\text{epochs}=\frac{t\cdot b}{N},\qquad \text{sample gradients}=t\cdot b",
    "stability": (r"\theta_{t+1}-\theta^*=(I-\eta H)(\theta_t-\theta^*)\ \Rightarrow\ "
                  r"\text{stable iff }\ 0<\eta<\frac{2}{\lambda_{\max}(H)}"),
    "article_batch": (r"g=\frac{1}{m}X^\top(X\theta-y)=\nabla_\theta\Big[\frac{1}{2m}\sum_{i=1}^{m}(x_i\theta-y_i)^2\Big]"
                      r"=\tfrac12\nabla\,\mathrm{MSE}"),
    "article_sgd": (r"g=\frac{2}{m}\,x_i(x_i\theta-y_i)=\frac{1}{m}\nabla_\theta(x_i\theta-y_i)^2,"
                    r"\qquad \mathbb E_i[g]=\frac{1}{m}\nabla\,\mathrm{MSE}"),
    "per_sample": (r"\nabla_\theta (x_i\theta-y_i)^2=2\,x_i(x_i\theta-y_i),"
                   r"\qquad \mathbb E_i\big[2x_i(x_i\theta-y_i)\big]=\nabla\,\mathrm{MSE}"),
}


def article_data() -> tuple[Array, Array]:
    """The article's data exactly as it builds it: integer ``X`` of shape (4, 1) and ``y`` of shape (4,)."""
    return np.array([[1], [2], [3], [4]]), np.array([1, 2, 3, 4])


def seed_lines(code: str) -> list[str]:
    """The sample's non-blank lines with indentation stripped: the form the seed text stores."""
    return [ln.strip() for ln in code.splitlines() if ln.strip()]


# ----------------------------------------------------------------------------------------------
# Bug 1: shapes.  The article's NumPy lines, reproduced one by one (the strings are never executed).
# ----------------------------------------------------------------------------------------------
@dataclass
class GDReplay:
    """What the article's ``gradient_descent`` does with its own data.

    ``shapes``: shape of every intermediate of the first iteration; ``error``: NumPy's message when
    the in-place update fails (None if it ran); ``failed_at``: that iteration (−1: none);
    ``theta``: the result (the start when it failed).
    """

    theta0: Array
    shapes: dict[str, tuple]
    error: str | None
    failed_at: int
    theta: Array
    in_place: bool


def replay_gd(theta0=None, alpha: float = ALPHA, iterations: int = ITERATIONS, *, in_place: bool = True,
              seed: int = 0) -> GDReplay:
    """The article's 4.1 loop on its data, line for line.

    ``in_place=True`` is the article's ``theta -= alpha * gradients``: NumPy refuses to write a
    (1, 4) result into the (1, 1) ``theta`` and raises at the first iteration.
    ``in_place=False`` is ``theta = theta - alpha * gradients``: it runs, and ``theta`` becomes
    (1, 4): column j fits the constant target y_j, so it converges to y_j·Σx/Σx² = y_j/3.
    """
    X, y = article_data()
    theta = np.random.default_rng(seed).standard_normal((1, 1)) if theta0 is None else np.array(theta0, dtype=float)
    start = theta.copy()
    m = len(y)
    pred = X.dot(theta)
    resid = pred - y
    grads = (1 / m) * X.T.dot(resid)
    shapes = {"X": X.shape, "y": y.shape, "theta": theta.shape, "X.dot(theta)": pred.shape,
              "X.dot(theta) - y": resid.shape, "gradients": grads.shape}
    error, failed_at = None, -1
    for i in range(int(iterations)):
        gradients = (1 / m) * X.T.dot(X.dot(theta) - y)
        if in_place:
            try:
                theta -= alpha * gradients
            except ValueError as e:  # "non-broadcastable output operand with shape (1,1) …"
                error, failed_at = str(e), i
                break
        else:
            theta = theta - alpha * gradients
    shapes["theta after"] = theta.shape
    return GDReplay(start, shapes, error, failed_at, theta, in_place)


@dataclass
class SGDReplay:
    """The article's ``stochastic_gradient_descent`` with its ``np.random`` calls made explicit."""

    theta0: Array
    thetas: Array          # (iterations + 1,) the scalar θ after each iteration, θ₀ first
    picks: Array           # the random indices drawn
    gradient_shape: tuple  # the shape of ``gradients`` (a 0-d scalar: X[i] is (1,))
    theta: Array           # the result, shape (1, 1)


def replay_sgd(seed: int | None = 0, alpha: float = ALPHA, iterations: int = ITERATIONS, theta0=None) -> SGDReplay:
    """The article's 4.2 loop on its data, line for line, with the global ``np.random`` replaced by a
    generator seeded with ``seed`` (the article uses no seed, so each run of it is a different one of these).

    Here the shapes work out: ``X[i]`` is (1,), ``X[i].dot(theta)`` is (1,), the gradient a scalar.
    """
    rng = np.random.default_rng(seed)
    X, y = article_data()
    theta = rng.standard_normal((1, 1)) if theta0 is None else np.array(theta0, dtype=float).reshape(1, 1)
    start = theta.copy()
    m = len(y)
    thetas = [float(theta[0, 0])]
    picks = []
    shape = None
    for i in range(int(iterations)):
        random_index = int(rng.integers(m))
        gradients = (2 / m) * X[random_index].dot(X[random_index].dot(theta) - y[random_index])
        shape = np.shape(gradients)
        theta -= alpha * gradients
        thetas.append(float(theta[0, 0]))
        picks.append(random_index)
    return SGDReplay(start, np.array(thetas), np.array(picks, dtype=int), shape, theta)


# ----------------------------------------------------------------------------------------------
# Bug 2: the gradients' factors, measured against optlab's MSE gradient
# ----------------------------------------------------------------------------------------------
def mse_grad_no_intercept(theta: float, X=None, y=None) -> float:
    """dMSE/dθ of the article's model ŷ = θ·x, from optlab's model (its ∂/∂w at b = 0)."""
    if X is None:
        X, y = article_data()
    model = _models.LinearRegression("mse")
    return float(model.grad(np.array([float(theta), 0.0]), np.asarray(X, float), np.asarray(y, float))[0])


def article_batch_gradient(theta: float) -> float:
    """The article's batch gradient ``(1/m)·Xᵀ(Xθ − y)`` with consistent shapes (θ a scalar)."""
    X, y = article_data()
    m = len(y)
    return float((1 / m) * X[:, 0].dot(X[:, 0] * theta - y))


def article_sgd_gradient(theta: float, i: int) -> float:
    """The article's SGD gradient ``(2/m)·x_i(x_iθ − y_i)`` for sample ``i``."""
    X, y = article_data()
    m = len(y)
    return float((2 / m) * X[i, 0] * (X[i, 0] * theta - y[i]))


def per_sample_gradient(theta: float, i: int) -> float:
    """The gradient of the one-sample squared error (x_iθ − y_i)², from optlab's MSE on one sample."""
    X, y = article_data()
    return mse_grad_no_intercept(theta, X[i:i + 1], y[i:i + 1])


@dataclass
class FactorReport:
    theta: float
    mse_grad: float            # ∇MSE(θ)
    batch_grad: float          # the article's batch gradient
    batch_ratio: float         # batch_grad / mse_grad  (= 1/2)
    sample_grads: Array        # article's per-sample SGD gradients, i = 0..m−1
    correct_sample_grads: Array  # 2 x_i (x_i θ − y_i)
    sample_ratio: float        # correct / article (= m)
    sgd_mean: float            # mean over i of the article's SGD gradient (= ∇MSE / m)
    m: int


def factor_report(theta: float = 0.5) -> FactorReport:
    """Every gradient of the two samples at ``theta``, next to optlab's MSE gradient."""
    X, y = article_data()
    m = len(y)
    g = mse_grad_no_intercept(theta)
    b = article_batch_gradient(theta)
    art = np.array([article_sgd_gradient(theta, i) for i in range(m)])
    ok = np.array([per_sample_gradient(theta, i) for i in range(m)])
    nz = art != 0
    ratio = float(np.median(ok[nz] / art[nz])) if nz.any() else float("nan")
    return FactorReport(float(theta), g, b, b / g if g else float("nan"), art, ok, ratio, float(art.mean()), m)


# ----------------------------------------------------------------------------------------------
# Bugs 3-5: intercept, TensorFlow, seeds
# ----------------------------------------------------------------------------------------------
@dataclass
class InterceptReport:
    w_origin: float        # best slope of ŷ = w·x (no intercept)
    mse_origin: float
    wb: Array              # best (w, b) of ŷ = w·x + b
    mse_wb: float
    label: str


def intercept_report(x, y, label: str = "data") -> InterceptReport:
    """Best line through the origin (the article's model) against the best line with an intercept."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    w0 = float(np.linalg.lstsq(x[:, None], y, rcond=None)[0][0])
    wb = _models.LinearRegression.closed_form(x, y)
    mse = _models.LinearRegression("mse")
    return InterceptReport(w0, float(mse.loss(np.array([w0, 0.0]), x, y)), wb, float(mse.loss(wb, x, y)), label)


@dataclass
class CodeFacts:
    imports: list[str]              # module names ("numpy", "tensorflow")
    defined: list[str]
    called: list[str]
    unused_functions: list[str]     # defined, never called
    tensorflow_only_in: list[str]   # the functions whose body is the only place ``tf`` appears
    unseeded_calls: list[str]       # np.random.* calls while no seed is ever set


def code_facts(code: str) -> CodeFacts:
    """What a sample imports, defines and calls, read with ``ast`` (the code is parsed, never run)."""
    tree = ast.parse(code)
    imports = [a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names]
    defs = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    defined = [d.name for d in defs]
    called = sorted({n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)})
    tf_in = set()
    tf_outside = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == "tf":
            owner = [d.name for d in defs if d.lineno <= node.lineno <= (d.end_lineno or d.lineno)]
            if owner:
                tf_in.update(owner)
            else:
                tf_outside = True
    rand = []
    seeded = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            txt = ast.unparse(node.func)
            if txt.startswith("np.random."):
                if txt.endswith(("seed", "default_rng")):
                    seeded = True
                else:
                    rand.append(txt)
    return CodeFacts(imports, defined, called, [d for d in defined if d not in called],
                     [] if tf_outside else sorted(tf_in), [] if seeded else sorted(set(rand)))


# ----------------------------------------------------------------------------------------------
# Corrected versions
# ----------------------------------------------------------------------------------------------
def fixed_numpy_gd(X, y, alpha: float = ALPHA, iterations: int = ITERATIONS, seed: int = 0) -> Array:
    """The article's 4.1 loop, minimally repaired: a column of ones for the intercept, θ a vector
    (so ``Xθ − y`` stays (m,)), the MSE gradient ``(2/m)·Xᵀ(Xθ − y)`` and a seeded start."""
    Xt = np.column_stack([np.asarray(X, float).reshape(len(y), -1), np.ones(len(y))])
    y = np.asarray(y, float)
    theta = np.random.default_rng(seed).standard_normal(Xt.shape[1])
    m = len(y)
    for _ in range(int(iterations)):
        theta = theta - alpha * (2 / m) * Xt.T.dot(Xt.dot(theta) - y)
    return theta


def fixed_numpy_sgd(X, y, alpha: float = ALPHA, iterations: int = ITERATIONS, seed: int = 0) -> Array:
    """The article's 4.2 loop, minimally repaired: intercept, θ a vector, the per-sample gradient
    ``2·x_i(x_iθ − y_i)`` (no 1/m) and one seeded generator for the start and the picks."""
    rng = np.random.default_rng(seed)
    Xt = np.column_stack([np.asarray(X, float).reshape(len(y), -1), np.ones(len(y))])
    y = np.asarray(y, float)
    theta = rng.standard_normal(Xt.shape[1])
    for _ in range(int(iterations)):
        i = int(rng.integers(len(y)))
        theta = theta - alpha * 2 * Xt[i] * (Xt[i].dot(theta) - y[i])
    return theta


@dataclass
class Corrected:
    """Optlab's runs on the article's data next to the closed form ``np.linalg.lstsq``."""

    closed_form: Array          # (w, b)
    gd: Trajectory
    sgd: Trajectory
    gd_error: float             # ‖θ_GD − θ*‖
    sgd_error: float
    surface: Any = field(repr=False)
    x: Array = field(repr=False, default=None)
    y: Array = field(repr=False, default=None)


def corrected(lr_gd: float = 0.1, steps_gd: int = 1000, lr_sgd: float = 0.02, steps_sgd: int = 2000,
              seed: int = 0, x0=(0.0, 0.0), dataset: str = "article_toy") -> Corrected:
    """GD and SGD (batch size 1) on ŷ = w·x + b with MSE, run by optlab (torch.optim.SGD's rule on
    the data-built (w, b) surface), and the least-squares solution they should reach."""
    ds = _data.load(dataset)
    x, y = np.asarray(ds.X[:, 0], float), np.asarray(ds.y, float)
    surface = loss_surface_1d(x, y, "mse", label="the article's data")
    star = _models.LinearRegression.closed_form(x, y)
    gd = _run(surface, _make("sgd", lr=lr_gd), np.asarray(x0, float), int(steps_gd), record="path")
    sgd = _run(surface, _make("sgd", lr=lr_sgd), np.asarray(x0, float), int(steps_sgd), batch_size=1, seed=seed,
               record="path")

    def err(tr):
        return float(np.linalg.norm(tr.final_x - star)) if not tr.diverged else float("inf")

    return Corrected(star, gd, sgd, err(gd), err(sgd), surface, x, y)


ARTICLE_SETTINGS = "lr 0.01, 1000 iterations (the article's)"


def article_rows(c: Corrected, numpy_gd, numpy_sgd) -> list[dict[str, Any]]:
    """Result table: each method's (w, b), its distance to the closed form and its MSE."""
    mse = _models.LinearRegression("mse")
    rows = []
    for label, th, how in (("closed form: np.linalg.lstsq", c.closed_form, "exact"),
                           ("optlab: gradient descent", c.gd.final_x, f"{c.gd.steps} steps, lr {c.gd.hyper['lr']:g}"),
                           ("optlab: SGD, batch size 1", c.sgd.final_x,
                            f"{c.sgd.steps} steps, lr {c.sgd.hyper['lr']:g}, seeded"),
                           ("article's loop, minimally fixed: GD", numpy_gd, ARTICLE_SETTINGS),
                           ("article's loop, minimally fixed: SGD", numpy_sgd, ARTICLE_SETTINGS)):
        th = np.asarray(th, dtype=float)
        ok = bool(np.all(np.isfinite(th)))
        nan = float("nan")
        rows.append({"method": label, "w": float(th[0]) if ok else nan, "b": float(th[1]) if ok else nan,
                     "‖θ − θ*‖": float(np.linalg.norm(th - c.closed_form)) if ok else float("inf"),
                     "MSE": float(mse.loss(th, c.x, c.y)) if ok else float("inf"), "run": how})
    return rows
