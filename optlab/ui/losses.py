r"""Cached computations for the chapter pages "Loss functions" and "Gradient-descent variants".

Pages pass hashable *specs* and get back surfaces, grids, runs and the numbers their captions
quote; every piece of NumPy work of those pages lives here or in :mod:`optlab.article`.

Data specs (tuples, so they can key a cache):

* ``("outliers", count, size, side, seed)``: the outlier lab's synthetic line (40 points,
  y = 2x + 1 + 0.5ε) with ``count`` points shifted by ``size``·std(y) (``optlab.data.add_outliers``);
* ``("feature", dataset, feature, standardize_y)``: one standardized feature of a shipped dataset
  (``optlab.data.feature``), the target standardized too when ``standardize_y``;
* ``("article",)``: the seed article's four points.

A surface spec is ``(data_spec, loss, params_items, window)``; ``window`` None lets the engine choose.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st

from .. import data, losses, models, optimizers, schedules
from ..runner import run
from .widgets import pinned_signature

# The outlier lab's clean data: the engine's make_line defaults, fixed here so the lab is reproducible.
LINE = dict(n=40, slope=2.0, intercept=1.0, noise=0.5)
LAB_HALFWIDTH = 6.0


# ----------------------------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------------------------
@st.cache_data(max_entries=64, show_spinner=False)
def dataset(spec: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """``(x, y, mask, label)`` for a data spec; ``mask`` marks the outliers (all False otherwise)."""
    kind = spec[0]
    if kind == "outliers":
        _, count, size, side, seed = spec
        x, y = data.make_line(seed=int(seed), **LINE)
        x, y, mask = data.add_outliers(x, y, count=int(count), size=float(size), seed=int(seed), side=side)
        return x, y, mask, f"a noisy line with {int(count)} outlier{'s' if count != 1 else ''}"
    if kind == "feature":
        _, name, feat, std_y = spec
        x, y = data.feature(name, feat)
        if std_y:
            y = data.standardize(y)[0]
        label = f"{name}: {feat}" + (" (target standardized)" if std_y else "")
        return x, np.asarray(y, dtype=float), np.zeros(len(x), dtype=bool), label
    if kind == "article":
        ds = data.load("article_toy")
        return np.asarray(ds.X[:, 0], float), np.asarray(ds.y, float), np.zeros(4, dtype=bool), "the article's data"
    raise ValueError(f"unknown data spec {spec!r}")


@st.cache_resource(max_entries=16, show_spinner=False)
def _dataset_info(name: str) -> tuple[tuple[str, ...], str]:
    # data.load reads the CSV file: once per server, not on every run of two pages
    ds = data.load(name)
    return tuple(ds.feature_names), str(ds.description)


def feature_names(name: str) -> tuple[str, ...]:
    return _dataset_info(name)[0]


def dataset_description(name: str) -> str:
    return _dataset_info(name)[1]


def lab_window(seed: int = 0) -> tuple:
    """The outlier lab's fixed (w, b) window: centred on the clean data's least-squares line, so
    the three surfaces and every outlier setting share one view."""
    x, y, _, _ = dataset(("outliers", 0, 0.0, "both", int(seed)))
    w, b = models.LinearRegression.closed_form(x, y)
    h = LAB_HALFWIDTH
    return ((float(w - h), float(w + h)), (float(b - h), float(b + h)))


def lab_start(window) -> tuple[float, float]:
    """A start in the upper-left part of the window, away from every minimum."""
    (w0, w1), (b0, b1) = window
    return (round(w0 + 0.15 * (w1 - w0), 3), round(b0 + 0.85 * (b1 - b0), 3))


# ----------------------------------------------------------------------------------------------
# Surfaces, grids, runs
# ----------------------------------------------------------------------------------------------
@st.cache_resource(max_entries=96, show_spinner=False)
def surface(spec: tuple):
    """The (w, b) DataSurface of a surface spec (shared: surfaces are read-only once built)."""
    data_spec, loss, params, window = spec
    x, y, _, label = dataset(data_spec)
    params = dict(params)
    if data_spec[0] == "feature" and data_spec[1] in ("breast_cancer",):
        return models.logistic_surface_1d(x, y, loss, window=window, label=label, **params)
    return models.loss_surface_1d(x, y, loss, window=window, label=label, **params)


@st.cache_data(max_entries=96, show_spinner=False)
def grid(spec: tuple, n: int = 110, window: tuple | None = None):
    """``surface(spec).grid(n, window)``, cached: a contour's grid is the costly part of a redraw."""
    return surface(spec).grid(int(n), window=window)


class Gridded:
    """A surface whose plotting grid is already computed; :func:`optlab.figures.core.contour`
    asks it for ``grid`` and reads everything else from the surface."""

    def __init__(self, surf, xs_ys_z, window=None):
        self._surface, self._grid = surf, xs_ys_z
        self.window = window or surf.window

    def grid(self, n=None, window=None):
        return self._grid

    def __getattr__(self, name):
        return getattr(self._surface, name)


def gridded(spec: tuple, n: int = 110, window: tuple | None = None) -> Gridded:
    return Gridded(surface(spec), grid(spec, n, window), window)


def _schedule(spec):
    if spec is None:
        return None
    name, items = spec
    return schedules.get(name, **dict(items))


@st.cache_data(max_entries=256, show_spinner=False)
@pinned_signature
def trajectory(spec: tuple, opt_name: str, hyper: tuple, x0: tuple, steps: int, batch_size: int | None = None,
               seed: int = 0, schedule: tuple | None = None):
    """``optlab.run`` on a data surface (path recorded); ``batch_size`` draws real mini-batches."""
    opt = optimizers.make(opt_name, **dict(hyper))
    return run(surface(spec), opt, np.asarray(x0, dtype=float), int(steps), batch_size=batch_size, seed=int(seed),
               schedule=_schedule(schedule), record="path")


def minimum(spec: tuple) -> tuple[float, float]:
    m = surface(spec).minima[0]
    return float(m[0]), float(m[1])


def min_value(spec: tuple) -> float:
    return float(surface(spec).min_value)


def distance(spec: tuple, point) -> float:
    """Distance from ``point`` to the surface's minimum (inf for a diverged run's NaN)."""
    d = float(surface(spec).distance_to_minimum(np.asarray(point, dtype=float)))
    return d if math.isfinite(d) else math.inf


def gap(spec: tuple, value: float) -> float:
    """f − f* (inf if not finite)."""
    g = float(value) - min_value(spec)
    return g if math.isfinite(g) else math.inf


def tail_gap(spec: tuple, tr, fraction: float = 0.1) -> float:
    """Mean of f − f* over the last ``fraction`` of a run's steps: the noise floor SGD hovers at."""
    ls = np.asarray(tr.losses, dtype=float)
    k = max(1, int(len(ls) * fraction))
    tail = ls[-k:] - min_value(spec)
    return float(np.mean(tail)) if np.all(np.isfinite(tail)) else math.inf


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


def curvature(spec: tuple) -> Curvature:
    """Eigenvalues of the Hessian at the minimum and the learning-rate presets they imply:
    too small = 1 % of 2/λ_max, good = 2/(λ_max + λ_min) (the best constant step on a quadratic),
    oscillating = 90 % and diverging = 120 % of the critical 2/λ_max."""
    s = surface(spec)
    lam = np.linalg.eigvalsh(s.hessian(s.minima[0]))
    lo, hi = float(lam[0]), float(lam[-1])
    crit = 2.0 / hi
    presets = {k: (2.0 / (hi + lo) if f is None else f * crit) for k, f in PRESET_FACTORS.items()}
    return Curvature(hi, lo, crit, {k: float(f"{v:.4g}") for k, v in presets.items()})


def contraction(spec: tuple, lr: float) -> float:
    """max |1 − η λ| over the Hessian's eigenvalues: GD's error shrinks by this factor per step."""
    s = surface(spec)
    lam = np.linalg.eigvalsh(s.hessian(s.minima[0]))
    return float(np.max(np.abs(1.0 - lr * lam)))


# ----------------------------------------------------------------------------------------------
# Loss catalogue helpers
# ----------------------------------------------------------------------------------------------
def catalogue(kind: str, delta: float, q: float, gamma: float) -> list:
    """The losses of one kind (``"regression"`` / ``"classification"``) with the chosen parameters."""
    params = {"huber": {"delta": delta}, "quantile": {"q": q}, "focal": {"gamma": gamma}}
    group = losses.REGRESSION if kind == "regression" else losses.CLASSIFICATION
    return [losses.get(n, **params.get(n, {})) for n in group]


def parameter_facts(delta: float, q: float, gamma: float, p: float = 0.9) -> dict[str, float]:
    """Numbers that describe the chosen δ, q, γ, read off the losses themselves:
    Huber's largest pull (its slope far out), the quantile loss's cost ratio under/over, and the
    factor by which focal loss scales BCE at a margin where the model gives the true class p."""
    hub = losses.get("huber", delta=delta)
    qu = losses.get("quantile", q=q)
    foc, bce = losses.get("focal", gamma=gamma), losses.get("bce")
    m = math.log(p / (1 - p))  # σ(m) = p
    return {
        "huber_pull": float(hub.pointwise_grad(1e6)),
        "mse_pull_at_10": float(losses.get("mse").pointwise_grad(10.0)),
        "quantile_ratio": float(qu.pointwise(-1.0) / qu.pointwise(1.0)),
        "focal_factor": float(foc.pointwise(m) / bce.pointwise(m)),
        "p": p,
    }


@st.cache_resource(max_entries=1, show_spinner=False)
def loss_table():
    """One row per loss: the seed article's taxonomy next to the engine's catalogue, as an Arrow
    table (built once: st.dataframe turned the rows into a DataFrame and Arrow on every run)."""
    import pyarrow as pa

    return pa.Table.from_pylist(loss_rows())


def loss_rows() -> list[dict[str, Any]]:
    """The rows of :func:`loss_table` as dicts."""
    rows = []
    for n in losses.names():
        L = losses.get(n)
        rows.append({
            "loss": L.title, "name": n,
            "article's class": ("continuous (连续型): regression" if L.kind == "regression"
                                else "discrete (离散型): classification"),
            "curve over": L.variable, "convex": "yes" if L.convex else "no",
            "PyTorch": L.torch_equivalent or "",
        })
    return rows


@dataclass(frozen=True)
class OneHot:
    scores: np.ndarray
    labels: np.ndarray
    targets: np.ndarray
    with_labels: float
    with_one_hot: float
    neg_log_p_true: np.ndarray


def one_hot_demo() -> OneHot:
    """Cross-entropy of three samples and three classes, given class labels and given one-hot
    targets: the same number (the seed's "one-hot encoding loss" is cross-entropy)."""
    scores = np.array([[2.0, 0.5, -1.0], [0.2, 1.5, 0.3], [-0.5, 0.1, 0.4]])
    labels = np.array([0, 2, 2])
    ce = losses.get("cross_entropy")
    targets = losses.one_hot(labels, 3)
    nl = -losses.log_softmax(scores)[np.arange(3), labels]
    return OneHot(scores, labels, targets, float(ce.value(labels, scores)), float(ce.value(targets, scores)), nl)


# ----------------------------------------------------------------------------------------------
# Outlier lab
# ----------------------------------------------------------------------------------------------
LAB_LOSSES = ("mse", "mae", "huber")


def lab_specs(count: int, size: float, side: str, delta: float, seed: int = 0) -> dict[str, tuple]:
    """Surface specs of MSE, MAE and Huber on the lab's data, in one shared window."""
    d = ("outliers", int(count), float(size), side, int(seed))
    win = lab_window(seed)
    return {n: (d, n, (("delta", float(delta)),) if n == "huber" else (), win) for n in LAB_LOSSES}


def clean_fit(seed: int = 0) -> tuple[float, float]:
    x, y, _, _ = dataset(("outliers", 0, 0.0, "both", int(seed)))
    w, b = models.LinearRegression.closed_form(x, y)
    return float(w), float(b)


def shift(fit, ref) -> float:
    """How far a fitted (w, b) moved from the clean fit (Euclidean, in parameter space)."""
    return float(np.hypot(fit[0] - ref[0], fit[1] - ref[1]))


# ----------------------------------------------------------------------------------------------
# Why cross-entropy
# ----------------------------------------------------------------------------------------------
def per_sample_curves(s_max: float = 8.0, n: int = 161) -> tuple[np.ndarray, dict[str, tuple]]:
    """Loss and d(loss)/ds of one positive example (y = 1) against its score s, for BCE and for MSE
    on the probability σ(s): computed by the engine's logistic models on a one-sample data set."""
    s = np.linspace(-s_max, s_max, n)
    theta = np.stack([s, np.zeros_like(s)], axis=-1)  # w = s, b = 0, x = 1: the score is s
    X, y = np.array([1.0]), np.array([1])
    out = {}
    for name in ("bce", "mse"):
        mdl = models.LogisticRegression(name)
        out[name] = (mdl.loss(theta, X, y), mdl.grad(theta, X, y)[:, 0])
    return s, out


def sample_gradients(s: float) -> dict[str, float]:
    """d(loss)/ds at score ``s`` of a positive example, for BCE and MSE on σ(s)."""
    theta = np.array([float(s), 0.0])
    return {n: float(models.LogisticRegression(n).grad(theta, np.array([1.0]), np.array([1]))[0])
            for n in ("bce", "mse")}


def accuracy(spec: tuple, theta) -> float:
    """Share of correctly classified examples at ``theta`` (NaN for a diverged run)."""
    theta = np.asarray(theta, dtype=float)
    if not np.all(np.isfinite(theta)):
        return float("nan")
    x, y, _, _ = dataset(spec[0])
    return float(np.mean(models.LogisticRegression("bce").predict(theta, x) == y))


def grad_norm(spec: tuple, point) -> float:
    return float(np.linalg.norm(surface(spec).grad(np.asarray(point, dtype=float))))


def sigmoid_of_score(spec: tuple, theta) -> tuple[float, float]:
    """Smallest and largest predicted probability σ(w·x + b) over the data at ``theta``."""
    x, _, _, _ = dataset(spec[0])
    p = models.LogisticRegression("bce").predict_proba(np.asarray(theta, dtype=float), x)
    return float(p.min()), float(p.max())


# ----------------------------------------------------------------------------------------------
# Gradient-descent variants
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


def schedule_object(spec):
    return _schedule(spec) if spec is not None else schedules.get("constant")


def zoom_window(spec: tuple, trs, keep: float = 0.5, pad: float = 1.6) -> tuple:
    """A square window around the minimum that holds the last ``keep`` share of every run."""
    c = np.array(minimum(spec))
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
# Cached figures: building a Plotly figure costs far more than unpickling a cached one, so every
# figure of the two pages is keyed on the hashable inputs it is drawn from.
# A run is ``(opt_name, hyper_items, x0, steps, batch_size, seed, schedule)``; a labelled run adds
# ``(label, colour)`` in front (colour None: the optimizer's).
# ----------------------------------------------------------------------------------------------
def run_tuple(opt_name: str, hyper: dict, x0, steps: int, batch_size: int | None = None, seed: int = 0,
              schedule: tuple | None = None) -> tuple:
    """The hashable run description the cached figures take."""
    from ..arena import hyper_items

    return (opt_name, hyper_items(hyper), tuple(float(v) for v in x0), int(steps),
            None if batch_size is None else int(batch_size), int(seed), schedule)


def run_of(spec: tuple, r: tuple):
    return trajectory(spec, *r)


def _paths(spec: tuple, labelled: tuple) -> list:
    out = []
    for label, color, r in labelled:
        tr = run_of(spec, r)
        if label is None and color is None:
            out.append(tr)
            continue
        out.append((label or tr.label, tr.xs, {"name": r[0], "color": color, "losses": tr.losses,
                                               "diverged_at": tr.diverged_at, "diverged_reason": tr.diverged_reason}))
    return out


@st.cache_data(max_entries=64, show_spinner=False)
def fig_catalogue(kind: str, delta: float, q: float, gamma: float):
    from ..figures import losses as chfig

    return chfig.catalogue(catalogue(kind, delta, q, gamma))


@st.cache_data(max_entries=64, show_spinner=False)
def fig_outliers(count: int, size: float, side: str, delta: float, seed: int = 0):
    from ..figures import losses as chfig

    specs = lab_specs(count, size, side, delta, seed)
    x, y, mask, _ = dataset(specs["mse"][0])
    fits = {n: minimum(s) for n, s in specs.items()}
    labels = {n: losses.get(n, **dict(specs[n][2])).label for n in specs}
    return chfig.outlier_fits(x, y, mask, fits, clean_fit(seed), labels=labels, height=430)


@st.cache_data(max_entries=160, show_spinner=False)
def fig_surface(spec: tuple, labelled_runs: tuple = (), *, title: str | None = None, height: int = 400,
                colorbar: bool = False, n: int = 90, window: tuple | None = None, extra_points: tuple = (),
                xlabel: str = "w (slope)", ylabel: str = "b (intercept)"):
    """Contour of a data surface with runs ``((label, colour, run), …)`` (label and colour None:
    the optimizer's) and labelled points ``((label, (w, b)), …)``."""
    from ..figures import losses as chfig

    return chfig.surface_panel(gridded(spec, n, window), _paths(spec, labelled_runs), title=title, height=height,
                               colorbar=colorbar, window=window, extra_points=dict(extra_points),
                               xlabel=xlabel, ylabel=ylabel)


@st.cache_data(max_entries=64, show_spinner=False)
def fig_relative_gap(specs: tuple, run: tuple, title: str):
    """(f − f*)/(f₀ − f*) of one run setting on several surfaces ``((loss_name, spec), …)``."""
    from ..figures import losses as chfig

    return chfig.relative_gap({n: (run_of(s, run).losses, min_value(s)) for n, s in specs},
                              title=title, height=430)


@st.cache_data(max_entries=16, show_spinner=False)
def fig_per_sample(mark: float, labels: tuple):
    from ..figures import losses as chfig

    s, curves = per_sample_curves()
    return chfig.per_sample(s, curves, labels=dict(labels), mark=mark, height=330)


@st.cache_data(max_entries=64, show_spinner=False)
def fig_variants_curves(spec: tuple, labelled_runs: tuple):
    """Runs ``((label, colour, run), …)``: f − f* against epochs and sample gradients."""
    from ..figures import descent as dfig

    n = surface(spec).n_samples
    rows = []
    for label, color, r in labelled_runs:
        b = r[4] or n
        rows.append((label, run_of(spec, r), b, color))
    return dfig.variants_curves(rows, n, min_value(spec))


@st.cache_data(max_entries=64, show_spinner=False)
def fig_schedule(spec: tuple, labelled_runs: tuple):
    from ..figures import descent as dfig

    return dfig.schedule_curves([(label, run_of(spec, r), color) for label, color, r in labelled_runs],
                                min_value(spec))


@st.cache_data(max_entries=64, show_spinner=False)
def fig_lr_curve(spec: tuple, labelled_runs: tuple):
    from ..figures import descent as dfig

    return dfig.lr_curve([(label, run_of(spec, r), color) for label, color, r in labelled_runs], min_value(spec))


# ----------------------------------------------------------------------------------------------
# The article's code
# ----------------------------------------------------------------------------------------------
@st.cache_resource(max_entries=32, show_spinner=False)
def article_corrected(lr_gd: float, steps_gd: int, lr_sgd: float, steps_sgd: int, seed: int = 0):
    """:func:`optlab.article.corrected`, shared (it holds a surface; read-only)."""
    from .. import article

    return article.corrected(lr_gd=lr_gd, steps_gd=steps_gd, lr_sgd=lr_sgd, steps_sgd=steps_sgd, seed=seed)


@st.cache_data(max_entries=8, show_spinner=False)
def article_replays(seeds: tuple = (0, 1, 2)):
    """The article's GD (in place, as written, and out of place) and its SGD for a few seeds."""
    from .. import article

    return (article.replay_gd(seed=seeds[0]), article.replay_gd(seed=seeds[0], in_place=False),
            {s: article.replay_sgd(seed=s) for s in seeds})


ARTICLE_SETTINGS = "lr 0.01, 1000 iterations (the article's)"


def article_rows(c, numpy_gd, numpy_sgd) -> list[dict[str, Any]]:
    """Result table: each method's (w, b), its distance to the closed form and its MSE."""
    mse = models.LinearRegression("mse")
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


@st.cache_data(max_entries=8, show_spinner=False)
def article_numpy_fixes(seed: int = 0):
    from .. import article

    X, y = article.article_data()
    return article.fixed_numpy_gd(X, y, seed=seed), article.fixed_numpy_sgd(X, y, seed=seed)


@st.cache_data(max_entries=32, show_spinner=False)
def fig_article(lr_gd: float, steps_gd: int, lr_sgd: float, steps_sgd: int, seed: int = 0):
    """(fit figure, loss-curve figure) of the corrected runs."""
    from ..figures import core
    from ..figures import descent as dfig

    c = article_corrected(lr_gd, steps_gd, lr_sgd, steps_sgd, seed)
    lines = {"closed form": tuple(c.closed_form)}
    for label, tr in (("optlab GD", c.gd), ("optlab SGD", c.sgd)):
        if not tr.diverged:
            lines[label] = tuple(tr.final_x)
    fit = dfig.article_fit(c.x, c.y, lines, colors={"closed form": "#000000", "optlab GD": dfig.VARIANT_COLORS["batch"],
                                                      "optlab SGD": dfig.VARIANT_COLORS["sgd"]})
    paths = [(label, tr.xs, {"losses": tr.losses, "color": dfig.VARIANT_COLORS[k], "diverged_at": tr.diverged_at})
             for label, tr, k in (("gradient descent", c.gd, "batch"), ("SGD, batch size 1", c.sgd, "sgd"))]
    curves = core.loss_curves(paths, gap_to=c.surface.min_value, height=360)
    return fit, curves


@st.cache_data(max_entries=8, show_spinner=False)
def fig_article_theta(seeds: tuple = (0, 1, 2)):
    from ..figures import descent as dfig

    _, _, sgd = article_replays(seeds)
    return dfig.article_theta({f"run with seed {s}: θ₀ = {r.theta0[0, 0]:.3f}": r.thetas for s, r in sgd.items()},
                              target=1.0)


def relative_final_gap(spec: tuple, tr) -> float:
    """(f_T − f*)/(f₀ − f*): the share of the initial gap that is left at the end (inf if diverged)."""
    ls = np.asarray(tr.losses, dtype=float) - min_value(spec)
    if tr.diverged or not np.isfinite(ls[-1]):
        return math.inf
    return float(max(ls[-1], 0.0) / ls[0]) if ls[0] > 0 else 0.0
