"""Datasets: shipped files, shapes, standardization, reproducible synthetic data."""
from pathlib import Path

import numpy as np
import pytest

import optlab.data as data
from optlab.errors import UnknownNameError

DATASETS = Path(data.__file__).resolve().parent / "datasets"


@pytest.mark.parametrize("name, shape, task, target", [
    ("article_toy", (4, 1), "regression", "y"),
    ("diabetes", (442, 10), "regression", "progression"),
    ("breast_cancer", (569, 30), "classification", "benign"),
    ("digits", (1797, 64), "classification", "digit"),
])
def test_shapes_and_metadata(name, shape, task, target):
    ds = data.load(name)
    assert ds.X.shape == shape and ds.y.shape == shape[:1]
    assert ds.X.dtype == np.float64 and np.all(np.isfinite(ds.X))
    assert ds.task == task and ds.target_name == target and len(ds.feature_names) == shape[1]
    assert ds.description and ds.name == name
    if task == "classification":
        assert ds.y.dtype.kind == "i" and len(ds.class_names) == ds.y.max() + 1
    with pytest.raises(ValueError):
        ds.X[0, 0] = 1.0  # shared arrays are read-only


def test_known_facts_of_the_real_data():
    toy = data.load("article_toy")
    np.testing.assert_array_equal(toy.X[:, 0], [1, 2, 3, 4])
    np.testing.assert_array_equal(toy.y, [1, 2, 3, 4])
    db = data.load("diabetes")
    assert db.feature_names[:4] == ("age", "sex", "bmi", "bp")
    np.testing.assert_array_equal(db.X[0, :4], [59, 2, 32.1, 101])
    assert db.y[0] == 151 and db.y.min() == 25 and db.y.max() == 346
    bc = data.load("breast_cancer")
    assert np.bincount(bc.y).tolist() == [212, 357] and bc.class_names == ("malignant", "benign")
    assert bc.X[0, 0] == pytest.approx(17.99)
    dg = data.load("digits")
    assert dg.X.min() == 0 and dg.X.max() == 16 and sorted(set(dg.y.tolist())) == list(range(10))


def test_shipped_files_match_scikit_learn():
    sk = pytest.importorskip("sklearn.datasets")
    d = sk.load_diabetes(scaled=False)
    np.testing.assert_array_equal(data.load("diabetes").X, d.data)
    np.testing.assert_array_equal(data.load("diabetes").y, d.target)
    b = sk.load_breast_cancer()
    np.testing.assert_array_equal(data.load("breast_cancer").X, b.data)
    assert data.load("breast_cancer").feature_names == tuple(b.feature_names)
    g = sk.load_digits()
    np.testing.assert_array_equal(data.load("digits").y, g.target)


def test_files_are_small_and_carry_provenance():
    files = sorted(DATASETS.glob("*.csv"))
    assert [f.stem for f in files] == ["breast_cancer", "diabetes", "digits"]
    assert sum(f.stat().st_size for f in files) < 1_000_000
    for f in files:
        head = f.read_text(encoding="utf-8").splitlines()[:12]
        assert any(line.startswith("# Source:") for line in head), f.name
        assert any("license" in line.lower() or "BSD" in line for line in head), f.name
    assert "Efron" in data.load("diabetes").source


def test_standardize():
    X = data.load("diabetes").X
    Z, mean, std = data.standardize(X)
    np.testing.assert_allclose(Z.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(Z.std(0), 1, rtol=1e-12)
    np.testing.assert_allclose(mean, X.mean(0))
    # test data is transformed with the training statistics, not its own
    Zt, m2, s2 = data.standardize(X[:10] + 1.0, mean, std)
    np.testing.assert_allclose(Zt, Z[:10] + 1.0 / std)
    assert m2 is not None and np.array_equal(m2, mean) and np.array_equal(s2, std)
    # a constant column maps to 0, not NaN
    Zc = data.standardize(np.c_[np.ones(5), np.arange(5.0)])[0]
    np.testing.assert_array_equal(Zc[:, 0], 0.0)


def test_feature():
    x, y = data.feature("diabetes", "bmi")
    assert x.shape == y.shape == (442,)
    assert abs(x.mean()) < 1e-12 and x.std() == pytest.approx(1.0)
    raw = data.load("diabetes").column("bmi")
    assert np.corrcoef(x, raw)[0, 1] == pytest.approx(1.0)
    x2, y2 = data.feature("breast_cancer", "mean_radius")  # underscores work for spaces
    assert set(np.unique(y2)) == {0, 1} and x2.shape == (569,)
    with pytest.raises(UnknownNameError, match="bmi"):
        data.feature("diabetes", "height")
    with pytest.raises(UnknownNameError, match="diabetes"):
        data.load("iris")


def test_make_line_is_reproducible():
    a = data.make_line(30, slope=2.0, intercept=-1.0, noise=0.3, seed=4)
    b = data.make_line(30, slope=2.0, intercept=-1.0, noise=0.3, seed=4)
    c = data.make_line(30, slope=2.0, intercept=-1.0, noise=0.3, seed=5)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])
    x, y = data.make_line(12, slope=-0.5, intercept=3.0, noise=0.0, seed=1, x_range=(0, 4))
    np.testing.assert_allclose(y, -0.5 * x + 3.0)
    assert np.all(np.diff(x) >= 0) and x.min() >= 0 and x.max() <= 4
    with pytest.raises(ValueError, match="-1"):
        data.make_line(10, noise=-1)


def test_add_outliers():
    x, y = data.make_line(40, seed=0)
    x0, y0 = x.copy(), y.copy()
    xo, yo, mask = data.add_outliers(x, y, count=5, size=4.0, seed=3)
    np.testing.assert_array_equal(x, x0)  # inputs untouched
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(xo, x)
    assert mask.sum() == 5
    np.testing.assert_array_equal(yo[~mask], y[~mask])
    np.testing.assert_allclose(np.abs(yo[mask] - y[mask]), 4.0 * y.std())
    # reproducible, and a larger count keeps the earlier outliers
    _, yo2, mask2 = data.add_outliers(x, y, count=5, size=4.0, seed=3)
    np.testing.assert_array_equal(yo, yo2)
    _, yo8, mask8 = data.add_outliers(x, y, count=8, size=4.0, seed=3)
    assert np.all(mask8[mask]) and mask8.sum() == 8
    np.testing.assert_array_equal(yo8[mask], yo[mask])
    _, up, m_up = data.add_outliers(x, y, count=6, size=2.0, seed=3, side="up")
    assert np.all(up[m_up] > y[m_up])
    with pytest.raises(ValueError, match="41"):
        data.add_outliers(x, y, count=41)
    with pytest.raises(ValueError, match="sideways"):
        data.add_outliers(x, y, side="sideways")
