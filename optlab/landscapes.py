r"""Complex, non-convex landscapes: ways out of a poor minimum, basins, and a slice of a real network.

* :func:`noisy_descent` — gradient noise with annealing (Neelakantan et al. 2015): the optimizer sees
  g_t + N(0, σ_t² I) with σ_t² = η/(1 + t)^γ, and the best loss so far is tracked.
* :func:`restarts` — the same optimizer from several random starts (one batched run), and the best
  loss found against the total number of gradient evaluations.
* :func:`basins_by_optimizer` — :func:`optlab.sweeps.basins` for several optimizers on one surface.
* :func:`two_valleys` — a sharp deep valley next to a wide shallower one: where SAM
  (``optimizers.make("sam", …)``) and plain descent part ways.
* :func:`filter_normalized_directions` and :func:`loss_slice` — the loss of a trained
  :mod:`optlab.mlp` network on the plane θ* + α d₁ + β d₂ spanned by two random directions scaled
  filter by filter (Li et al. 2018).  A slice is a 2-D cut through P dimensions, not the landscape.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import mlp as _mlp
from .errors import OptlabError
from .optimizers import Optimizer, make
from .surfaces import Surface
from .sweeps import BasinResult, basins

Array = np.ndarray

LATEX = {
    "noise": r"g_t \leftarrow \nabla f(\theta_t) + \mathcal N(0, \sigma_t^2 I),\qquad \sigma_t^2 = \frac{\eta}{(1+t)^{\gamma}}",
    "best": r"f^{\text{best}}_t = \min_{s \le t} f(\theta_s)",
    "filter_norm": (r"d_{i,j} \leftarrow \frac{d_{i,j}}{\lVert d_{i,j}\rVert}\,\lVert\theta_{i,j}\rVert\ "
                    r"\text{(filter } j \text{ of layer } i\text{)},\qquad "
                    r"f(\alpha, \beta) = L(\theta^\star + \alpha d_1 + \beta d_2)"),
    "two_valleys": (r"f(\theta) = 1 - a\,e^{-\lVert\theta - c_1\rVert^2/(2s_1^2)} - b\,e^{-\lVert\theta - c_2\rVert^2/(2s_2^2)}"
                    r" + \tfrac{k}{2}\lVert\theta\rVert^2"),
}
REFERENCES = {
    "noise": "Neelakantan, Vilnis, Le, Sutskever, Kaiser, Kurach & Martens (2015), Adding Gradient Noise Improves "
             "Learning for Very Deep Networks, arXiv:1511.06807 (η ∈ {0.01, 0.3, 1}, γ = 0.55)",
    "restarts": "Random restarts (multi-start local search); e.g. Loshchilov & Hutter (2017), SGDR, for restarts in "
                "deep learning",
    "sam": "Foret, Kleiner, Mobahi & Neyshabur (2021), Sharpness-Aware Minimization, ICLR",
    "slice": "Li, Xu, Taylor, Studer & Goldstein (2018), Visualizing the Loss Landscape of Neural Nets, NeurIPS",
}

MAX_GRID = 81
MAX_POINTS_PER_CHUNK = 1 << 21   # (grid points × examples × width) per batched forward chunk


# ----------------------------------------------------------------------------------------------
# Gradient noise with annealing, best loss so far
# ----------------------------------------------------------------------------------------------
def noise_std(t, eta: float, gamma: float = 0.55) -> Array:
    """σ_t = sqrt(η/(1+t)^γ) for steps t = 0, 1, … (Neelakantan et al. 2015)."""
    return np.sqrt(float(eta) / (1.0 + np.asarray(t, dtype=float)) ** float(gamma))


def best_so_far(losses, axis: int = 0) -> Array:
    """Running minimum along ``axis`` (NaN, e.g. after a divergence, is skipped)."""
    a = np.asarray(losses, dtype=float)
    return np.fmin.accumulate(np.where(np.isnan(a), np.inf, a), axis=axis)


@dataclass
class Exploration:
    """:func:`noisy_descent`: ``xs`` (T+1, B, 2), ``losses`` (T+1, B), ``best`` (T+1, B) the best loss
    so far, ``best_x`` (B, 2) where it was seen, ``diverged_at`` (B,) (−1: never)."""

    xs: Array
    losses: Array
    best: Array
    best_x: Array
    diverged_at: Array
    eta: float
    gamma: float


def noisy_descent(surface, optimizer, x0, steps: int = 300, *, eta: float = 0.3, gamma: float = 0.55,
                  seed: int | None = 0, bound: float | None = None) -> Exploration:
    r"""Run ``optimizer`` on ``surface`` with annealed gradient noise σ_t² = η/(1+t)^γ (η = 0: no
    noise), batched over starts ``x0`` (B, 2) (or one start).  Positions leaving |x| ≤ ``bound``
    (default 100 × the surface's window) or a non-finite loss stop that run (NaN afterwards).
    Deterministic given ``seed``."""
    opt = make(optimizer) if isinstance(optimizer, str) else optimizer
    if not isinstance(opt, Optimizer):
        raise OptlabError(f"optimizer must be an optlab optimizer or a name; got {optimizer!r}")
    if not np.isfinite(eta) or eta < 0 or not np.isfinite(gamma) or gamma < 0:
        raise OptlabError(f"eta and gamma must be numbers ≥ 0; got eta={eta!r}, gamma={gamma!r}")
    X = np.asarray(x0, dtype=float)
    X = X[None] if X.ndim == 1 else X.copy()
    B, D = X.shape
    T = int(steps)
    if bound is None:
        from .runner import default_bound
        bound = default_bound(surface)
    rng = np.random.default_rng(seed)
    sig = noise_std(np.arange(T), eta, gamma)
    xs = np.full((T + 1, B, D), np.nan)
    fs = np.full((T + 1, B), np.nan)
    dead = np.full(B, -1)
    state = opt.init(X)
    x = X
    with np.errstate(all="ignore"):
        f, g = surface.value_and_grad(x)
        xs[0], fs[0] = x, f
        for t in range(T):
            noisy = g + sig[t] * rng.standard_normal((B, D)) if eta > 0 else g
            x_new, state = opt.step(noisy, state, x, problem=surface)
            alive = dead < 0
            x_new = np.where(alive[:, None], x_new, x)
            f, g = surface.value_and_grad(x_new)
            bad = alive & (~np.isfinite(f) | ~(np.abs(x_new) <= bound).all(axis=1))
            if bad.any():
                dead[bad] = t + 1
                x_new[bad] = x[bad]
                g = np.where(bad[:, None], 0.0, g)
            x = x_new
            ok = dead < 0
            xs[t + 1, ok], fs[t + 1, ok] = x[ok], f[ok]
    best = best_so_far(fs)
    arg = np.argmin(np.where(np.isnan(fs), np.inf, fs), axis=0)
    best_x = xs[arg, np.arange(B)]
    return Exploration(xs=xs, losses=fs, best=best, best_x=best_x, diverged_at=dead, eta=float(eta),
                       gamma=float(gamma))


@dataclass
class RestartResult:
    """:func:`restarts`: ``starts`` (K, 2), each restart's ``final_x``/``final_loss``/``best_loss``
    (K,), ``best_after`` (K,) the best loss after k + 1 restarts run one after another, ``evals``
    (K,) the gradient evaluations spent by then, ``global_min`` the surface's minimum value."""

    starts: Array
    final_x: Array
    final_loss: Array
    best_loss: Array
    best_after: Array
    evals: Array
    global_min: float | None


def restarts(surface, optimizer, n_starts: int = 20, steps: int = 200, *, seed: int | None = 0,
             window=None) -> RestartResult:
    """Run ``optimizer`` from ``n_starts`` starts drawn uniformly in the window (one batched
    :func:`optlab.run`) and report the best loss as if the restarts ran one after another."""
    from .runner import run

    n = int(n_starts)
    if not 1 <= n <= 10_000:
        raise OptlabError(f"n_starts must be from 1 to 10000; got {n_starts!r}")
    (x0, x1), (y0, y1) = window or surface.window
    rng = np.random.default_rng(seed)
    starts = np.stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)], axis=1)
    tr = run(surface, optimizer, starts, steps, record="summary")
    final = np.asarray(tr.final_loss, dtype=float)
    best = np.asarray(tr.best_loss, dtype=float)
    return RestartResult(starts=starts, final_x=np.asarray(tr.final_x), final_loss=final, best_loss=best,
                         best_after=best_so_far(best), evals=(np.arange(n) + 1) * int(steps),
                         global_min=getattr(surface, "min_value", None))


def basins_by_optimizer(surface, optimizers: dict, n: int = 40, steps: int = 300, **run_kwargs) -> dict:
    """``{label: BasinResult}``: :func:`optlab.sweeps.basins` for each optimizer (label → optimizer or
    name), on the same n × n grid of starts.  See :func:`global_share` for a one-number summary."""
    return {label: basins(surface, o, n=n, steps=steps, **run_kwargs) for label, o in optimizers.items()}


def global_share(result: BasinResult, n_global: int = 1) -> float:
    """Fraction of the grid's starts that end in one of the first ``n_global`` (global) minima."""
    b = np.asarray(result.basin)
    return float(np.mean((b >= 0) & (b < n_global)))


# ----------------------------------------------------------------------------------------------
# A sharp valley and a wide one
# ----------------------------------------------------------------------------------------------
def two_valleys(sharp_depth: float = 1.0, sharp_width: float = 0.12, wide_depth: float = 0.85,
                wide_width: float = 0.8, bowl: float = 0.02) -> Surface:
    r"""A narrow, deeper valley near c₁ = (−0.8, 0) beside a wide, shallower one near c₂ = (0.9, 0.2),
    on a faint bowl:  f = 1 − a e^{−‖θ−c₁‖²/2s₁²} − b e^{−‖θ−c₂‖²/2s₂²} + (k/2)‖θ‖².

    The sharp minimum has the lower loss, the wide one the lower *sharpness* (:func:`sharpness`:
    the rise of f within a radius ρ).  Measured on a 30 × 30 grid of starts (a 20 × 20 one in
    ``tests/test_sam.py``; lr 0.02, 1500 steps): plain descent ends in the sharp minimum from 12 % of the starts, SAM with
    ρ = 0.2 from 7 %, with ρ = 0.5 from none.  The starts SAM turns away do not all reach the wide
    valley: deterministic SAM stops where ∇f(θ + ρĝ) = 0, ρ short of a critical point such as the
    col between the valleys.  A 2-D full-batch picture, not SAM's behaviour in a large stochastic
    network.  Minima are found by Newton's method from each centre (global first)."""
    a, s1, b, s2, k = (float(v) for v in (sharp_depth, sharp_width, wide_depth, wide_width, bowl))
    c1, c2 = np.array([-0.8, 0.0]), np.array([0.9, 0.2])

    def parts(x, y):
        u1, v1 = x - c1[0], y - c1[1]
        u2, v2 = x - c2[0], y - c2[1]
        e1 = a * np.exp(-(u1 * u1 + v1 * v1) / (2 * s1 * s1))
        e2 = b * np.exp(-(u2 * u2 + v2 * v2) / (2 * s2 * s2))
        return u1, v1, u2, v2, e1, e2

    def f(x, y):
        *_, e1, e2 = parts(x, y)
        return 1.0 - e1 - e2 + 0.5 * k * (x * x + y * y)

    def df(x, y):
        u1, v1, u2, v2, e1, e2 = parts(x, y)
        return (e1 * u1 / s1**2 + e2 * u2 / s2**2 + k * x, e1 * v1 / s1**2 + e2 * v2 / s2**2 + k * y)

    def d2f(x, y):
        u1, v1, u2, v2, e1, e2 = parts(x, y)
        i1, i2 = 1 / s1**2, 1 / s2**2
        hxx = e1 * i1 * (1 - u1 * u1 * i1) + e2 * i2 * (1 - u2 * u2 * i2) + k
        hyy = e1 * i1 * (1 - v1 * v1 * i1) + e2 * i2 * (1 - v2 * v2 * i2) + k
        hxy = -e1 * i1 * i1 * u1 * v1 - e2 * i2 * i2 * u2 * v2
        return hxx, hxy, hyy

    mins = []
    for c in (c1, c2):
        p = c.copy()
        for _ in range(100):
            gx, gy = df(p[0], p[1])
            hxx, hxy, hyy = d2f(p[0], p[1])
            step = np.linalg.solve(np.array([[hxx, hxy], [hxy, hyy]]), np.array([gx, gy]))
            p = p - step
            if np.max(np.abs(step)) < 1e-14:
                break
        mins.append(p)
    mins = np.array(mins)
    vals = np.array([f(*m) for m in mins])
    order = np.argsort(vals)
    return Surface(name="two_valleys", title="Sharp and wide valleys", latex=LATEX["two_valleys"], f=f, df=df,
                   d2f=d2f, window=((-2.5, 3.0), (-2.0, 2.0)), minima=mins[order], min_value=float(vals[order][0]),
                   starts=((-2.0, 1.5), (0.0, 1.5)), convex=False,
                   params=dict(sharp_depth=a, sharp_width=s1, wide_depth=b, wide_width=s2, bowl=k),
                   description="A deep narrow minimum and a shallower wide one: sharpness against depth.")


def sharpness(surface, points, rho: float, n_dirs: int = 64) -> Array:
    """max over ‖ε‖ = ρ of f(θ + ε) − f(θ) for 2-D ``points`` (..., 2), sampled on ``n_dirs`` directions
    of the circle: the quantity SAM keeps small."""
    P = np.asarray(points, dtype=float)
    ang = np.linspace(0.0, 2 * np.pi, int(n_dirs), endpoint=False)
    ring = float(rho) * np.stack([np.cos(ang), np.sin(ang)], axis=1)
    vals = surface.value(P[..., None, :] + ring)
    return vals.max(axis=-1) - surface.value(P)


# ----------------------------------------------------------------------------------------------
# Filter-normalized slices of the chapter-5 MLP (Li et al. 2018)
# ----------------------------------------------------------------------------------------------
def filter_normalized_directions(config: _mlp.MLPConfig, theta, n: int = 2, seed: int | None = 0,
                                 ignore_biasbn: bool = True) -> Array:
    r"""``n`` random directions ``(n, P)`` in parameter space, normalized filter by filter as in Li et
    al. (2018): d ~ N(0, I), then for every weight matrix W (fan_in, fan_out) and every unit j (a
    "filter": the column W[:, j] of weights into unit j — a row of torch's Linear.weight)
    d[:, j] ← d[:, j]/‖d[:, j]‖ · ‖θ[:, j]‖, so each filter's direction has the norm of that filter.

    Biases and batch-norm γ, β (1-D parameters): set to 0 with ``ignore_biasbn`` (the paper's code,
    ``--xignore biasbn``, which its figures use), else copied from θ (the code's other option).
    The scale invariance of ReLU and batch-norm networks makes un-normalized directions compare
    badly across networks; this normalization removes it.
    """
    theta = np.asarray(theta, dtype=float).reshape(-1)
    P = _mlp.n_params(config)
    if theta.size != P:
        raise OptlabError(f"theta has {theta.size} entries; this network has {P}")
    rng = np.random.default_rng(seed)
    d = rng.standard_normal((int(n), P))
    for s in _mlp.param_layout(config):
        sl = slice(s.offset, s.offset + s.size)
        if s.name == "W":
            w = theta[sl].reshape(s.shape)
            dd = d[:, sl].reshape((int(n),) + s.shape)
            dn = np.sqrt(np.einsum("kij,kij->kj", dd, dd))
            wn = np.sqrt(np.einsum("ij,ij->j", w, w))
            dd *= (wn / np.where(dn > 0, dn, 1.0))[:, None, :]
            d[:, sl] = dd.reshape(int(n), -1)
        elif ignore_biasbn:
            d[:, sl] = 0.0
        else:
            d[:, sl] = theta[sl]
    return d


@dataclass
class LossSlice:
    """:func:`loss_slice`: ``alphas`` (n,), ``betas`` (n,), ``loss`` (n, n) indexed [β, α] (rows = y),
    ``accuracy`` (n, n) or None, ``directions`` (2, P), ``center_loss`` the loss at θ* (α = β = 0)."""

    alphas: Array
    betas: Array
    loss: Array
    accuracy: Array | None
    directions: Array
    center_loss: float


def _batched_forward(config: _mlp.MLPConfig, thetas: Array, X: Array, bn_state) -> Array:
    """Evaluation-mode outputs ``(G, N, n_out)`` for parameter vectors ``thetas`` (G, P) at once: the
    same layer arithmetic as :func:`optlab.mlp.evaluate`, with a leading axis of networks."""
    G = thetas.shape[0]
    layers = [dict() for _ in range(config.n_layers)]
    for s in _mlp.param_layout(config):
        layers[s.layer][s.name] = thetas[:, s.offset:s.offset + s.size].reshape((G,) + s.shape)
    h = np.broadcast_to(X, (G,) + X.shape)
    for l in range(config.depth):
        p = layers[l]
        z = h @ p["W"]
        if config.batch_norm:
            inv = 1.0 / np.sqrt(bn_state["var"][l] + _mlp.BN_EPS)
            u = (z - bn_state["mean"][l]) * inv * p["gamma"][:, None, :] + p["beta"][:, None, :]
        else:
            u = z + p["b"][:, None, :]
        a = _mlp.activate(config.activation, u)
        h = h + a if config.has_residual(l) else a
    return h @ layers[-1]["W"] + layers[-1]["b"][:, None, :]


def _losses_of(config: _mlp.MLPConfig, out: Array, y: Array) -> tuple[Array, Array | None]:
    if config.task == "classification":
        m = out.max(axis=-1, keepdims=True)
        shifted = out - m
        lse = np.log(np.exp(shifted).sum(axis=-1))
        picked = np.take_along_axis(shifted, np.broadcast_to(y[None, :, None], out.shape[:-1] + (1,)), axis=-1)[..., 0]
        loss = np.mean(lse - picked, axis=-1)
        acc = np.mean(out.argmax(-1) == y[None], axis=-1)
        return loss, acc
    diff = out - y[None]
    return np.mean(diff * diff, axis=(-2, -1)), None


def loss_slice(config: _mlp.MLPConfig, theta, X, y, *, bn_state=None, n: int = 21, span: float = 1.0,
               seed: int | None = 0, directions=None, ignore_biasbn: bool = True) -> LossSlice:
    r"""L(θ* + α d₁ + β d₂) on an n × n grid α, β ∈ [−span, span], in evaluation mode (batch norm with
    the running statistics ``bn_state``, as :func:`optlab.mlp.evaluate`), with filter-normalized
    random directions (:func:`filter_normalized_directions`, seeded) unless ``directions`` (2, P) are
    given.  All n² networks go through one batched forward pass (in chunks that bound the memory).

    A slice is one random 2-D plane through a P-dimensional landscape: it can show a basin's width
    around θ* and nothing about the directions it leaves out.
    """
    n = int(n)
    if not 2 <= n <= MAX_GRID:
        raise OptlabError(f"n must be from 2 to {MAX_GRID}; got {n!r}")
    span = float(span)
    if not np.isfinite(span) or span <= 0:
        raise OptlabError(f"span must be a positive number; got {span!r}")
    theta = np.asarray(theta, dtype=float).reshape(-1)
    X = _mlp._check_X(config, X)
    yy = _mlp._targets(config, y, X.shape[0])
    if config.batch_norm and bn_state is None:
        raise OptlabError("a batch-norm network needs its running statistics (bn_state) for the slice")
    d = (filter_normalized_directions(config, theta, 2, seed, ignore_biasbn) if directions is None
         else np.asarray(directions, dtype=float))
    if d.shape != (2, theta.size):
        raise OptlabError(f"directions must have shape (2, {theta.size}); got {d.shape}")
    al = np.linspace(-span, span, n)
    be = np.linspace(-span, span, n)
    A, Bm = np.meshgrid(al, be)                      # rows: β, columns: α
    grid = theta + A.reshape(-1, 1) * d[0] + Bm.reshape(-1, 1) * d[1]
    widest = max(config.width, config.n_out)
    chunk = max(1, MAX_POINTS_PER_CHUNK // (X.shape[0] * widest))
    loss = np.empty(grid.shape[0])
    acc = np.empty(grid.shape[0]) if config.task == "classification" else None
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for i in range(0, grid.shape[0], chunk):
            out = _batched_forward(config, grid[i:i + chunk], X, bn_state)
            l, a = _losses_of(config, out, yy)
            loss[i:i + chunk] = l
            if acc is not None:
                acc[i:i + chunk] = a
        center = _mlp.evaluate(config, theta, X, yy, bn_state)[0]
    return LossSlice(alphas=al, betas=be, loss=loss.reshape(n, n),
                     accuracy=None if acc is None else acc.reshape(n, n), directions=d, center_loss=float(center))
