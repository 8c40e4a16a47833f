r"""Many tasks, one model: tasks that share the same 2-D parameters, each with its own loss.

A *task* is any object with ``value_and_grad`` over points ``(B, 2)`` — an
:class:`optlab.surfaces.Surface` (the catalogue's, or :func:`quadratic_task`).  This module holds

* the **Pareto set**: for convex quadratics in closed form (the weighted-sum minimisers,
  :func:`pareto_quadratic`), otherwise numerically (:func:`pareto_numeric`);
* **Pareto-stationarity** (Désidéri 2012, MGDA): the min-norm point of the convex hull of the task
  gradients, :func:`min_norm_point`; it is 0 exactly at Pareto-stationary points;
* **combiners** that turn the per-task gradients ``(B, n, D)`` into one update direction:
  fixed weights, MGDA, PCGrad (Yu et al. 2020), GradNorm (Chen et al. 2018), and uncertainty
  weighting (Kendall et al. 2018), which learns one log-variance per task;
* :func:`run_multitask`: batched trajectories of any combiner through any optlab optimizer.

All functions are batched over the leading run axis and deterministic given a seed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

from .errors import OptlabError, check_choice
from .optimizers import Optimizer, make
from .surfaces import Surface

Array = np.ndarray

METHODS = ("weights", "mgda", "pcgrad", "uncertainty", "gradnorm")

LATEX = {
    "pareto": (r"\theta^\star(w) = \arg\min_\theta \sum_i w_i L_i(\theta) = "
               r"\Big(\sum_i w_i A_i\Big)^{-1}\sum_i w_i A_i c_i,\quad w \in \Delta"),
    "mgda": (r"\alpha^\star = \arg\min_{\alpha\in\Delta}\Big\lVert\sum_i \alpha_i \nabla L_i\Big\rVert^2,"
             r"\quad d = \sum_i\alpha^\star_i\nabla L_i;\quad d = 0 \iff \theta\ \text{Pareto-stationary}"),
    "weights": r"d = \sum_i w_i\,\nabla L_i(\theta)",
    "pcgrad": (r"g_i^{PC} \leftarrow g_i^{PC} - \frac{g_i^{PC}\cdot g_j}{\lVert g_j\rVert^2}\,g_j"
               r"\ \text{ if } g_i^{PC}\cdot g_j < 0\ (j \ne i \text{ in random order}),\quad d = \sum_i g_i^{PC}"),
    "uncertainty": (r"\mathcal L(\theta, s) = \sum_i e^{-s_i} L_i(\theta) + s_i,\quad "
                    r"\frac{\partial\mathcal L}{\partial s_i} = 1 - e^{-s_i}L_i = 0 \iff s_i = \log L_i"),
    "gradnorm": (r"G_i = \lVert w_i \nabla L_i\rVert,\ \ r_i = \frac{\tilde L_i}{\overline{\tilde L}},\ \ "
                 r"\tilde L_i = \frac{L_i(t)}{L_i(0)},\ \ "
                 r"\mathcal L_{\text{grad}} = \sum_i \big|G_i - \bar G\, r_i^{\alpha}\big|,\ \ "
                 r"w \leftarrow n\,\frac{w - \eta_w\nabla_w\mathcal L_{\text{grad}}}{\sum_j(\cdot)_j}"),
}
REFERENCES = {
    "mgda": "Désidéri (2012), Multiple-gradient descent algorithm (MGDA) for multiobjective optimization, "
            "C. R. Acad. Sci. Paris 350; Sener & Koltun (2018), Multi-Task Learning as Multi-Objective Optimization",
    "pcgrad": "Yu, Kumar, Gupta, Levine, Hausman & Finn (2020), Gradient Surgery for Multi-Task Learning (PCGrad), NeurIPS",
    "uncertainty": "Kendall, Gal & Cipolla (2018), Multi-Task Learning Using Uncertainty to Weigh Losses, CVPR",
    "gradnorm": "Chen, Badrinarayanan, Lee & Rabinovich (2018), GradNorm: Gradient Normalization for Adaptive "
                "Loss Balancing in Deep Multitask Networks, ICML",
}


# ----------------------------------------------------------------------------------------------
# Tasks
# ----------------------------------------------------------------------------------------------
def _sym2(curvature, angle: float = 0.0) -> Array:
    """A 2×2 symmetric positive definite matrix from eigenvalues (2,) and a rotation (radians), or as given."""
    c = np.asarray(curvature, dtype=float)
    if c.shape == (2, 2):
        A = 0.5 * (c + c.T)
    elif c.shape in ((), (1,), (2,)):
        lam = np.broadcast_to(c, (2,)).astype(float)
        ca, sa = np.cos(angle), np.sin(angle)
        Q = np.array([[ca, -sa], [sa, ca]])
        A = Q @ np.diag(lam) @ Q.T
    else:
        raise OptlabError(f"curvature must be a number, two eigenvalues or a 2×2 matrix; got shape {c.shape}")
    if not np.all(np.isfinite(A)) or np.linalg.eigvalsh(A)[0] <= 0:
        raise OptlabError(f"a task's curvature must be positive definite; got {A.tolist()}")
    return A


def quadratic_task(center, curvature=(1.0, 1.0), angle: float = 0.0, floor: float = 0.0,
                   name: str = "task") -> Surface:
    r"""L(θ) = ½(θ − c)ᵀA(θ − c) + L₀, minimum L₀ = ``floor`` at ``center`` c; A from eigenvalues and
    an ``angle`` (radians) or a 2×2 SPD matrix.  A full :class:`~optlab.surfaces.Surface`.

    ``floor`` is the task's irreducible loss (its label noise): uncertainty weighting needs it > 0,
    since its weight e^{−s} → 1/L grows without bound on a task that can be fitted exactly."""
    c = np.asarray(center, dtype=float).reshape(2)
    floor = float(floor)
    if not np.isfinite(floor) or floor < 0:
        raise OptlabError(f"floor must be a number ≥ 0; got {floor!r}")
    A = _sym2(curvature, angle)
    a, b, d = A[0, 0], A[0, 1], A[1, 1]
    cx, cy = float(c[0]), float(c[1])

    def f(x, y):
        u, v = x - cx, y - cy
        return 0.5 * (a * u * u + 2 * b * u * v + d * v * v) + floor

    def df(x, y):
        u, v = x - cx, y - cy
        return a * u + b * v, b * u + d * v

    def d2f(x, y):
        z = np.zeros(np.shape(x))
        return a + z, b + z, d + z

    w = 3.0
    s = Surface(name=name, title=name, latex=(rf"\tfrac12(\theta - ({cx:g}, {cy:g}))^\top"
                                              rf"\begin{{pmatrix}}{a:.3g} & {b:.3g}\\ {b:.3g} & {d:.3g}\end{{pmatrix}}"
                                              rf"(\theta - ({cx:g}, {cy:g}))" + (rf" + {floor:g}" if floor else "")),
                f=f, df=df, d2f=d2f, window=((cx - w, cx + w), (cy - w, cy + w)), minima=[c], min_value=floor,
                convex=True, params={"center": (cx, cy), "A": A.tolist(), "floor": floor})
    return s


def default_tasks(n: int = 2) -> list[Surface]:
    """Two or three conflicting quadratic tasks with different centres and curvatures (the chapter's
    default): minima at (−1, 0), (1, 0.5) and (0, −1.2), irreducible losses 0.3, 0.2 and 0.25."""
    specs = [((-1.0, 0.0), (1.0, 4.0), 0.3, 0.3), ((1.0, 0.5), (3.0, 0.7), -0.4, 0.2),
             ((0.0, -1.2), (1.5, 1.5), 0.0, 0.25)]
    if n not in (2, 3):
        raise OptlabError(f"n must be 2 or 3 tasks; got {n!r}")
    return [quadratic_task(c, k, a, fl, name=f"task {i + 1}") for i, (c, k, a, fl) in enumerate(specs[:n])]


def _quad_parts(task) -> tuple[Array, Array]:
    A = getattr(task, "params", {}).get("A")
    if A is None or "center" not in task.params:
        raise OptlabError(f"{getattr(task, 'name', task)!r} is not a quadratic task (use pareto_numeric)")
    return np.asarray(A), np.asarray(task.params["center"], dtype=float)


def task_values_and_grads(tasks, theta) -> tuple[Array, Array]:
    """Losses ``(B, n)`` and gradients ``(B, n, D)`` of every task at ``theta`` (B, D)."""
    theta = np.asarray(theta, dtype=float)
    vals, grads = [], []
    for t in tasks:
        f, g = t.value_and_grad(theta)
        vals.append(np.asarray(f, dtype=float))
        grads.append(np.asarray(g, dtype=float))
    return np.stack(vals, axis=-1), np.stack(grads, axis=-2)


# ----------------------------------------------------------------------------------------------
# The Pareto set
# ----------------------------------------------------------------------------------------------
def simplex_grid(n_tasks: int, m: int = 50) -> Array:
    """Weights on the probability simplex: ``(m+1, 2)`` for two tasks, ``((m+1)(m+2)/2, 3)`` for three."""
    if n_tasks == 2:
        a = np.linspace(0.0, 1.0, m + 1)
        return np.stack([a, 1.0 - a], axis=1)
    if n_tasks == 3:
        i, j = np.meshgrid(np.arange(m + 1), np.arange(m + 1), indexing="ij")
        keep = i + j <= m
        w = np.stack([i[keep], j[keep], m - i[keep] - j[keep]], axis=1) / m
        return w
    raise OptlabError(f"the simplex grid is for 2 or 3 tasks; got {n_tasks}")


def pareto_quadratic(tasks, weights) -> Array:
    r"""Weighted-sum minimisers θ*(w) = (Σ wᵢAᵢ)⁻¹ Σ wᵢAᵢcᵢ for weights ``(M, n)`` (rows on the
    simplex): ``(M, 2)``.  For convex quadratics every Pareto-optimal point is one of these
    (the weighted-sum scalarisation reaches the whole front of a convex problem)."""
    parts = [_quad_parts(t) for t in tasks]
    A = np.stack([p[0] for p in parts])            # (n, 2, 2)
    Ac = np.stack([p[0] @ p[1] for p in parts])    # (n, 2)
    w = np.asarray(weights, dtype=float)
    if w.ndim != 2 or w.shape[1] != len(tasks) or np.any(w < 0):
        raise OptlabError(f"weights must be (M, {len(tasks)}) and ≥ 0; got shape {w.shape}")
    M = np.einsum("mi,ijk->mjk", w, A)
    rhs = np.einsum("mi,ij->mj", w, Ac)
    return np.linalg.solve(M, rhs[..., None])[..., 0]


def pareto_numeric(tasks, weights, x0=(0.0, 0.0), steps: int = 500, lr: float | None = None) -> Array:
    r"""Weighted-sum minimisers found numerically: damped Newton on Σ wᵢLᵢ for every weight row at
    once (B = M runs), for tasks with Hessians (any catalogue surface).  Reaches only the points of
    the front where the weighted sum has a minimum (the convex part of a non-convex front), and
    from ``x0`` only the minimum of its basin — say so next to the picture."""
    w = np.asarray(weights, dtype=float)
    M = w.shape[0]
    x = np.broadcast_to(np.asarray(x0, dtype=float), (M, 2)).copy()
    lr = 1.0 if lr is None else float(lr)
    for _ in range(int(steps)):
        g = np.zeros((M, 2))
        H = np.zeros((M, 2, 2))
        for i, t in enumerate(tasks):
            g += w[:, i, None] * t.grad(x)
            H += w[:, i, None, None] * t.hessian(x)
        lam_min = np.linalg.eigvalsh(H)[:, 0]
        H = H + np.maximum(0.0, 1e-3 - lam_min)[:, None, None] * np.eye(2)  # keep the model convex
        step = np.linalg.solve(H, g[..., None])[..., 0]
        x = x - lr * step
        if np.max(np.abs(step)) < 1e-12:
            break
    return x


# ----------------------------------------------------------------------------------------------
# Min-norm point (MGDA)
# ----------------------------------------------------------------------------------------------
def min_norm_weights(grads) -> Array:
    r"""α* = argmin_{α ∈ simplex} ‖Σᵢ αᵢ gᵢ‖² for gradients ``(B, n, D)``, n = 2 or 3: ``(B, n)``.

    Exact: n = 2 in closed form, α₁ = clip((g₂ − g₁)·g₂ / ‖g₁ − g₂‖², 0, 1); n = 3 by checking every
    face of the simplex (the interior by its KKT system, then the three edges), keeping the best
    feasible candidate.  (Sener & Koltun's Frank–Wolfe solver reaches the same point iteratively.)
    """
    G = np.asarray(grads, dtype=float)
    B, n, _ = G.shape
    if n == 1:
        return np.ones((B, 1))
    if n == 2:
        return _min_norm_2(G[:, 0], G[:, 1])
    if n != 3:
        raise OptlabError(f"min-norm weights are computed exactly for 2 or 3 tasks; got {n}")
    M = np.einsum("bid,bjd->bij", G, G)                   # Gram matrix (B, 3, 3)
    best = np.full(B, np.inf)
    alpha = np.zeros((B, 3))
    for i, j in combinations(range(3), 2):                 # edges (vertices included by the clip)
        a2 = np.zeros((B, 3))
        a = _min_norm_2(G[:, i], G[:, j])
        a2[:, i], a2[:, j] = a[:, 0], a[:, 1]
        v = np.einsum("bi,bij,bj->b", a2, M, a2)
        better = v < best
        best[better], alpha[better] = v[better], a2[better]
    # interior: minimise αᵀMα with Σα = 1 → [M 1; 1ᵀ 0][α; μ] = [0; 1]
    K = np.zeros((B, 4, 4))
    K[:, :3, :3] = M
    K[:, :3, 3] = K[:, 3, :3] = 1.0
    rhs = np.zeros((B, 4))
    rhs[:, 3] = 1.0
    with np.errstate(all="ignore"):
        ok = np.abs(np.linalg.det(K)) > 1e-14 * (1.0 + np.einsum("bii->b", M)) ** 3
        sol = np.zeros((B, 4))
        if ok.any():
            sol[ok] = np.linalg.solve(K[ok], rhs[ok][..., None])[..., 0]
    a3 = sol[:, :3]
    feas = ok & np.all(a3 >= -1e-12, axis=1)
    a3 = np.clip(a3, 0.0, None)
    a3 /= np.where(a3.sum(1, keepdims=True) > 0, a3.sum(1, keepdims=True), 1.0)
    v = np.einsum("bi,bij,bj->b", a3, M, a3)
    better = feas & (v < best)
    alpha[better] = a3[better]
    return alpha


def _min_norm_2(g1: Array, g2: Array) -> Array:
    d = g1 - g2
    dd = np.einsum("bd,bd->b", d, d)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(dd > 0, np.einsum("bd,bd->b", g2 - g1, g2) / dd, 0.5)
    a = np.clip(a, 0.0, 1.0)
    return np.stack([a, 1.0 - a], axis=1)


def min_norm_point(grads) -> Array:
    """The min-norm element Σ αᵢ* gᵢ of the convex hull of the gradients ``(B, n, D)``: ``(B, D)``.
    Its norm is 0 exactly where θ is Pareto-stationary (no direction improves every task)."""
    G = np.asarray(grads, dtype=float)
    return np.einsum("bi,bid->bd", min_norm_weights(G), G)


def pareto_stationarity(tasks, points) -> Array:
    """‖min-norm point‖ at ``points`` (..., 2): 0 on the Pareto set (for any shape of grid)."""
    P = np.asarray(points, dtype=float)
    flat = P.reshape(-1, 2)
    _, G = task_values_and_grads(tasks, flat)
    d = min_norm_point(G)
    return np.sqrt(np.einsum("bd,bd->b", d, d)).reshape(P.shape[:-1])


# ----------------------------------------------------------------------------------------------
# Combiners
# ----------------------------------------------------------------------------------------------
def combine_weights(grads, weights) -> Array:
    """d = Σᵢ wᵢ gᵢ for gradients ``(B, n, D)`` and weights ``(n,)`` or ``(B, n)``."""
    return np.einsum("...i,...id->...d", np.asarray(weights, dtype=float), np.asarray(grads, dtype=float))


def pcgrad(grads, rng: np.random.Generator | int | None = 0) -> tuple[Array, Array]:
    r"""PCGrad (Yu et al. 2020, Algorithm 1), batched: for each task i, for the other tasks j in a
    random order, if g_i^PC·g_j < 0 remove from g_i^PC its component along g_j (the ORIGINAL g_j);
    the update is Σᵢ g_i^PC.

    ``grads`` (B, n, D).  Returns ``(d (B, D), projected (B, n, D))``.  The random order is drawn per
    run and per task from ``rng`` (a Generator or a seed): ``rng.permuted`` of the other tasks' indices,
    the same draws as :func:`pcgrad_loop`, the plain loop it is tested against.
    """
    G = np.asarray(grads, dtype=float)
    B, n, D = G.shape
    rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
    order = _pcgrad_orders(rng, B, n)                        # (B, n, n−1)
    out = G.copy()
    norms2 = np.einsum("bjd,bjd->bj", G, G)
    rows = np.arange(B)
    for i in range(n):
        gi = out[:, i]
        for k in range(n - 1):
            j = order[:, i, k]
            gj = G[rows, j]
            dot = np.einsum("bd,bd->b", gi, gj)
            with np.errstate(divide="ignore", invalid="ignore"):
                coef = np.where((dot < 0) & (norms2[rows, j] > 0), dot / norms2[rows, j], 0.0)
            gi -= coef[:, None] * gj
    return out.sum(axis=1), out


def _pcgrad_orders(rng: np.random.Generator, B: int, n: int) -> Array:
    others = np.array([[j for j in range(n) if j != i] for i in range(n)])  # (n, n−1)
    base = np.broadcast_to(others, (B, n, n - 1))
    return rng.permuted(base, axis=-1) if n > 2 else np.array(base)


def pcgrad_loop(grads, rng: np.random.Generator | int | None = 0) -> Array:
    """PCGrad written as the paper's loop, one run and one task pair at a time (the reference for the
    batched :func:`pcgrad`; same random orders from the same ``rng``)."""
    G = np.asarray(grads, dtype=float)
    B, n, D = G.shape
    rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
    order = _pcgrad_orders(rng, B, n)
    d = np.zeros((B, D))
    for b in range(B):
        for i in range(n):
            g = G[b, i].copy()
            for j in order[b, i]:
                gj = G[b, j]
                dot = float(g @ gj)
                if dot < 0 and float(gj @ gj) > 0:
                    g = g - dot / float(gj @ gj) * gj
            d[b] += g
    return d


def gradnorm_weight_step(weights, grads, losses, losses0, alpha: float = 1.5, lr: float = 0.025) -> Array:
    r"""One GradNorm update of the task weights (Chen et al. 2018), batched over runs.

    With the shared parameters being θ itself (the whole 2-D model, so "the last shared layer" is θ):
    Gᵢ = wᵢ‖∇Lᵢ‖, target Ḡ·rᵢ^α with rᵢ = (Lᵢ/Lᵢ(0)) / mean_j(L_j/L_j(0)) held constant, and
    ∂/∂wᵢ Σ_j |G_j − target_j| = sign(Gᵢ − targetᵢ)·‖∇Lᵢ‖.  After the step the weights are
    renormalised to sum to n (and kept ≥ 10⁻³·n).  ``weights``, ``losses``, ``losses0`` (B, n);
    ``grads`` (B, n, D).  Returns the new weights (B, n).
    """
    w = np.asarray(weights, dtype=float)
    n = w.shape[-1]
    gn = np.sqrt(np.einsum("bid,bid->bi", grads, grads))
    Gi = w * gn
    Gbar = Gi.mean(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.asarray(losses, dtype=float) / np.asarray(losses0, dtype=float)
        r = ratio / ratio.mean(axis=-1, keepdims=True)
        r = np.where(np.isfinite(r), r, 1.0)
    target = Gbar * r ** alpha
    grad_w = np.sign(Gi - target) * gn
    w = np.maximum(w - lr * grad_w, 1e-3 * n)
    return n * w / w.sum(axis=-1, keepdims=True)


# ----------------------------------------------------------------------------------------------
# Trajectories
# ----------------------------------------------------------------------------------------------
@dataclass
class MultiTaskRun:
    """:func:`run_multitask`: ``xs`` (T+1, B, 2) positions, ``losses`` (T+1, B, n) per task,
    ``weights`` (T+1, B, n) the effective weight of each task (fixed, MGDA's α, exp(−s), GradNorm's w),
    ``log_var`` (T+1, B, n) the s of uncertainty weighting (else None), ``directions`` (T, B, 2) the
    combined direction of each step, ``stationarity`` (T+1, B) ‖min-norm point‖."""

    method: str
    xs: Array
    losses: Array
    weights: Array
    directions: Array
    stationarity: Array
    log_var: Array | None = None
    extra: dict = field(default_factory=dict)


def run_multitask(tasks, method: str = "weights", x0=(0.0, 0.0), steps: int = 200, *, optimizer=None,
                  weights=None, seed: int | None = 0, log_var0=0.0, alpha: float = 1.5,
                  weight_lr: float = 0.025) -> MultiTaskRun:
    r"""Train the shared 2-D parameters on all tasks with combiner ``method``:

    * ``"weights"``: d = Σ wᵢ∇Lᵢ with fixed ``weights`` (n,) or one row per run (B, n) — a sweep of
      rows walks along the Pareto set;
    * ``"mgda"``: d = the min-norm point (stops on the Pareto set);
    * ``"pcgrad"``: projected conflicting gradients, seeded by ``seed``;
    * ``"uncertainty"``: joint descent on (θ, s) of Σ e^{−sᵢ}Lᵢ + sᵢ (the optimizer sees the 2 + n
      coordinates; ``log_var0`` the start of s); at its fixed point sᵢ = log Lᵢ, and θ is where
      Σ ∇Lᵢ/Lᵢ = 0 (the minimum of Π Lᵢ).  A task whose loss can reach 0 pulls sᵢ → −∞ and takes
      over (Π Lᵢ = 0 at its minimum): the method assumes each task keeps a noise floor;
    * ``"gradnorm"``: d = Σ wᵢ∇Lᵢ with w updated by :func:`gradnorm_weight_step` each step.

    ``optimizer``: an optlab optimizer (default SGD, lr 0.05) that receives the combined direction
    as its gradient.  ``x0`` (2,) or (B, 2): runs are batched.
    """
    check_choice("multi-task method", method, METHODS)
    opt = make("sgd", lr=0.05) if optimizer is None else (make(optimizer) if isinstance(optimizer, str) else optimizer)
    if not isinstance(opt, Optimizer):
        raise OptlabError(f"optimizer must be an optlab optimizer or a name; got {optimizer!r}")
    if opt.order != 1:
        raise OptlabError("multi-task combiners need a first-order optimizer (the direction is not a gradient of one f)")
    n = len(tasks)
    X = np.asarray(x0, dtype=float)
    X = X[None] if X.ndim == 1 else X
    if weights is not None:
        W = np.asarray(weights, dtype=float)
        if W.shape[-1] != n or np.any(W < 0):
            raise OptlabError(f"weights must have {n} entries ≥ 0 (per run: shape (B, {n})); got {W.shape}")
        if W.ndim == 2 and X.shape[0] == 1:
            X = np.repeat(X, W.shape[0], axis=0)
    else:
        W = np.full(n, 1.0 / n) if method == "weights" else np.ones(n)
    B = X.shape[0]
    T = int(steps)
    rng = np.random.default_rng(seed)

    s = np.broadcast_to(np.asarray(log_var0, dtype=float), (B, n)).copy() if method == "uncertainty" else None
    params = np.concatenate([X, s], axis=1) if s is not None else X.copy()
    state = opt.init(params)
    xs = np.empty((T + 1, B, 2))
    losses = np.empty((T + 1, B, n))
    wts = np.empty((T + 1, B, n))
    dirs = np.empty((T, B, 2))
    stat = np.empty((T + 1, B))
    logv = np.empty((T + 1, B, n)) if s is not None else None
    w_gn = np.broadcast_to(W, (B, n)).astype(float).copy()
    L0 = None
    with np.errstate(all="ignore"):
        for t in range(T + 1):
            theta = params[:, :2]
            L, G = task_values_and_grads(tasks, theta)
            if L0 is None:
                L0 = L.copy()
            xs[t], losses[t] = theta, L
            mn = min_norm_point(G)
            stat[t] = np.sqrt(np.einsum("bd,bd->b", mn, mn))
            if method == "weights":
                eff = np.broadcast_to(W, (B, n))
                d = combine_weights(G, eff)
            elif method == "mgda":
                eff = min_norm_weights(G)
                d = np.einsum("bi,bid->bd", eff, G)
            elif method == "pcgrad":
                eff = np.ones((B, n))
                d, _ = pcgrad(G, rng)
            elif method == "uncertainty":
                sv = params[:, 2:]
                eff = np.exp(-sv)
                logv[t] = sv
                d = combine_weights(G, eff)
            else:  # gradnorm
                eff = w_gn.copy()
                d = combine_weights(G, eff)
                w_gn = gradnorm_weight_step(w_gn, G, L, L0, alpha=alpha, lr=weight_lr)
            wts[t] = eff
            if t == T:
                break
            dirs[t] = d
            full = np.concatenate([d, 1.0 - np.exp(-params[:, 2:]) * L], axis=1) if s is not None else d
            params, state = opt.step(full, state, params)
    return MultiTaskRun(method=method, xs=xs, losses=losses, weights=wts, directions=dirs, stationarity=stat,
                        log_var=logv)


def combined_surface(tasks, weights) -> Surface:
    """The weighted sum Σ wᵢLᵢ as a :class:`~optlab.surfaces.Surface` (for the combined contour)."""
    w = np.asarray(weights, dtype=float).reshape(-1)
    if w.size != len(tasks):
        raise OptlabError(f"need one weight per task ({len(tasks)}); got {w.size}")

    def f(x, y):
        return sum(wi * t.f(x, y) for wi, t in zip(w, tasks))

    def df(x, y):
        gs = [t.df(x, y) for t in tasks]
        return (sum(wi * g[0] for wi, g in zip(w, gs)), sum(wi * g[1] for wi, g in zip(w, gs)))

    def d2f(x, y):
        hs = [t.d2f(x, y) for t in tasks]
        return tuple(sum(wi * h[k] for wi, h in zip(w, hs)) for k in range(3))

    xs = [t.window[0] for t in tasks]
    ys = [t.window[1] for t in tasks]
    window = ((min(a for a, _ in xs), max(b for _, b in xs)), (min(a for a, _ in ys), max(b for _, b in ys)))
    return Surface(name="combined", title="Σ wᵢ Lᵢ", latex=r"\sum_i w_i L_i(\theta)", f=f, df=df, d2f=d2f,
                   window=window, convex=all(getattr(t, "convex", False) for t in tasks),
                   params={"weights": w.tolist()})
