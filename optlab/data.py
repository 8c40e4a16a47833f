"""Datasets: small real ones shipped as CSV inside the package, the seed article's toy data, and
reproducible synthetic lines with outliers.

``load(name)`` -> :class:`Dataset`; ``names()`` lists them; ``feature(name, column)`` gives one
standardized feature and the target, ready for a (w, b) loss surface; ``standardize``,
``make_line`` and ``add_outliers`` are the helpers the labs use. NumPy only, no download.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import OptlabError, UnknownNameError
from .i18n import domain

_, N_, ngettext = domain("optlab")

Array = np.ndarray

_DIR = Path(__file__).resolve().parent / "datasets"

# name -> (task, short description, class names); the CSV holds the data, column names and provenance.
# Description and class names are English msgids of the shared catalog: show them with _().
_SPECS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "article_toy": ("regression",
                    N_("The seed article's example: X = [[1], [2], [3], [4]], y = [1, 2, 3, 4]; "
                    "the line y = x fits it exactly (w = 1, b = 0, loss 0)."), ()),
    "diabetes": ("regression",
                 N_("Diabetes (Efron et al. 2004): 442 patients, 10 baseline variables (age, sex, bmi, bp and six "
                 "blood serum measurements s1..s6), target = disease progression one year later."), ()),
    "breast_cancer": ("classification",
                      N_("Breast Cancer Wisconsin (Diagnostic), UCI: 569 tumours, 30 measurements of cell nuclei; "
                      "label 0 = malignant, 1 = benign."), (N_("malignant"), N_("benign"))),
    "digits": ("classification",
               N_("Handwritten digits (UCI optdigits test set): 1797 images of 8×8 pixels with values 0..16, "
               "labels 0..9."), tuple(str(i) for i in range(10))),
}


def names() -> list[str]:
    """Names accepted by :func:`load`."""
    return list(_SPECS)


@dataclass(frozen=True, eq=False)
class Dataset:
    """A dataset: ``X`` (N, D) float features, ``y`` (N,) target (float for regression, int labels
    for classification), column names, a description with its source, and the task."""

    X: Array
    y: Array
    feature_names: tuple[str, ...]
    target_name: str
    description: str
    task: str
    name: str = ""
    class_names: tuple[str, ...] = ()
    source: str = field(default="", repr=False)

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    def column(self, feature: str) -> Array:
        """The raw values of one feature, by name (spaces and underscores are interchangeable)."""
        return self.X[:, _feature_index(self, feature)]

    def __repr__(self) -> str:
        return f"Dataset({self.name!r}, N={self.n_samples}, D={self.n_features}, task={self.task!r})"


def _norm(s: str) -> str:
    return s.strip().lower().replace("_", " ")


def _feature_index(ds: Dataset, feature: str) -> int:
    keys = [_norm(f) for f in ds.feature_names]
    if not isinstance(feature, str) or _norm(feature) not in keys:
        raise UnknownNameError(f"feature of {ds.name or 'the dataset'}", feature, ds.feature_names)
    return keys.index(_norm(feature))


def _read_csv(path: Path) -> tuple[list[str], list[str], Array]:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    comments = [ln[1:].strip() for ln in lines if ln.startswith("#")]
    body = [ln for ln in lines if ln.strip() and not ln.startswith("#")]
    header = body[0].split(",")
    values = np.loadtxt(io.StringIO("\n".join(body[1:])), delimiter=",", ndmin=2)
    return header, comments, values


def load(name: str) -> Dataset:
    """Load a dataset by name (see :func:`names`); arrays are read-only copies fresh from disk."""
    if name not in _SPECS:
        raise UnknownNameError("dataset", name, names())
    task, description, classes = _SPECS[name]
    if name == "article_toy":
        X = np.array([[1.0], [2.0], [3.0], [4.0]])
        y = np.array([1.0, 2.0, 3.0, 4.0])
        header, source = ["x", "y"], "Seed article, section 4.1 (gradient descent example)."
    else:
        header, comments, values = _read_csv(_DIR / f"{name}.csv")
        X, y = values[:, :-1], values[:, -1]
        source = "\n".join(comments)
    if task == "classification":
        y = y.astype(np.int64)
    X.setflags(write=False)
    y.setflags(write=False)
    return Dataset(X=X, y=y, feature_names=tuple(header[:-1]), target_name=header[-1],
                   description=description, task=task, name=name, class_names=classes, source=source)


def standardize(X, mean=None, std=None) -> tuple[Array, Array, Array]:
    """Z = (X − mean) / std per column, with the statistics of ``X`` itself (the training set)
    unless ``mean`` and ``std`` are given (to transform test data with the training statistics).

    Returns ``(Z, mean, std)``; a constant column gets std 1 so it maps to 0 instead of NaN.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim not in (1, 2) or X.shape[0] == 0:
        raise OptlabError(f"X must have shape (N,) or (N, D) with N ≥ 1; got shape {X.shape}")
    if mean is None:
        mean = X.mean(axis=0)
    if std is None:
        std = X.std(axis=0)
        std = np.where(std > 0, std, 1.0)
    mean, std = np.asarray(mean, dtype=float), np.asarray(std, dtype=float)
    if np.any(std <= 0):
        raise OptlabError(f"std must be positive; got {std!r}")
    return (X - mean) / std, mean, std


def feature(name: str, feature: str) -> tuple[Array, Array]:
    """One standardized feature x (mean 0, std 1) and the target y of dataset ``name``,
    e.g. ``feature("diabetes", "bmi")`` for the line ŷ = w·x + b over (w, b)."""
    ds = load(name)
    x = standardize(ds.column(feature))[0]
    return x, np.array(ds.y)


def make_line(n: int = 40, slope: float = 2.0, intercept: float = 1.0, noise: float = 0.5,
              seed: int | None = 0, x_range: tuple[float, float] = (-2.0, 2.0)) -> tuple[Array, Array]:
    """Synthetic data y = slope·x + intercept + noise·ε, ε ~ N(0, 1), with x uniform on ``x_range``
    (sorted). Same ``seed``, same data."""
    n = int(n)
    if n < 1:
        raise OptlabError(f"n must be at least 1; got {n}")
    if not np.isfinite(noise) or noise < 0:
        raise OptlabError(f"noise must be a number ≥ 0; got {noise!r}")
    lo, hi = float(x_range[0]), float(x_range[1])
    if not hi > lo:
        raise OptlabError(f"x_range must be (low, high) with low < high; got {x_range!r}")
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(lo, hi, n))
    y = slope * x + intercept + noise * rng.standard_normal(n)
    return x, y


def add_outliers(x, y, count: int = 3, size: float = 5.0, seed: int | None = 0,
                 side: str = "both") -> tuple[Array, Array, Array]:
    """Copy of the data where ``count`` points have y shifted by ±``size``·std(y).

    Which points and which signs depend only on ``seed`` and N: raising ``count`` keeps the
    previous outliers and adds new ones (a slider that only adds). ``side`` is ``"both"`` (random
    signs), ``"up"`` or ``"down"``. Returns ``(x, y_new, mask)`` with ``mask`` True at the outliers.
    """
    x = np.array(x, dtype=float)
    y = np.array(y, dtype=float)
    if y.ndim != 1 or x.shape != y.shape:
        raise OptlabError(f"x and y must be 1-D of the same length; got shapes {x.shape} and {y.shape}")
    n = y.shape[0]
    count = int(count)
    if not 0 <= count <= n:
        raise OptlabError(f"count must be between 0 and the number of points {n}; got {count}")
    if side not in ("both", "up", "down"):
        raise UnknownNameError("outlier side", side, ("both", "up", "down"))
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    signs = rng.choice(np.array([-1.0, 1.0]), size=n)
    if side != "both":
        signs[:] = 1.0 if side == "up" else -1.0
    idx = order[:count]
    scale = float(np.std(y)) if n > 1 and np.std(y) > 0 else 1.0
    y[idx] += signs[:count] * float(size) * scale
    mask = np.zeros(n, dtype=bool)
    mask[idx] = True
    return x, y, mask
