"""optlab.specs: hashable descriptions rebuild the same objects, and equal settings give equal keys."""
from __future__ import annotations

import numpy as np
import pytest

import optlab
from optlab import specs
from optlab.errors import FormulaError, UnknownNameError
from optlab.surfaces.data import DataSurface


@pytest.mark.parametrize("name", optlab.surfaces.names())
def test_surface_spec_round_trips(name):
    s = optlab.surfaces.get(name)
    spec = specs.surface_spec(s)
    hash(spec)
    again = specs.surface_from_spec(spec)
    assert again.name == s.name and again.params == s.params
    np.testing.assert_array_equal(again.value(np.array(s.starts)), s.value(np.array(s.starts)))


def test_surface_spec_of_parameters_and_formulas():
    q = optlab.surfaces.get("quadratic", condition=25, angle=30)
    assert specs.surface_spec(q) == ("quadratic", (("angle", 30.0), ("condition", 25.0)))
    f = optlab.surfaces.from_formula("x**2 + 3*y**2", window=((-2, 2), (-1, 1)))
    spec = specs.surface_spec(f)
    assert spec == ("formula", "x**2 + 3*y**2", ((-2.0, 2.0), (-1.0, 1.0)))
    assert specs.surface_from_spec(spec).window == ((-2.0, 2.0), (-1.0, 1.0))
    with pytest.raises(FormulaError):
        specs.surface_from_spec(("formula", "import os", None))
    with pytest.raises(UnknownNameError):
        specs.surface_from_spec(("no_such_surface", ()))


def test_hyper_items_are_sorted_plain_and_hashable():
    items = specs.hyper_items({"lr": np.float64(0.1), "betas": [0.9, np.float32(0.5)], "nesterov": np.bool_(True),
                               "max_backtracks": np.int64(30), "min_curvature": None})
    assert items == (("betas", (0.9, 0.5)), ("lr", 0.1), ("max_backtracks", 30), ("min_curvature", None),
                     ("nesterov", True))
    assert all(type(v) in (tuple, float, int, bool, type(None)) for _, v in items)
    assert hash(items) == hash(specs.hyper_items({"nesterov": True, "lr": 0.1, "betas": (0.9, 0.5),
                                                  "min_curvature": None, "max_backtracks": 30}))


def test_schedule_from_spec():
    assert specs.schedule_from_spec(None) is None
    assert specs.schedule_from_spec("cosine").name == "cosine"
    s = specs.schedule_from_spec(("step", (("gamma", 0.5), ("step_size", 3))))
    assert [s(1.0, k) for k in (0, 2, 3, 6)] == pytest.approx([1.0, 1.0, 0.5, 0.25])
    assert specs.schedule_from_spec(("constant", ()))(0.3, 10) == pytest.approx(0.3)


def test_datasets():
    x, y, mask, label = specs.dataset(("outliers", 3, 4.0, "up", 0))
    assert len(x) == specs.LINE["n"] and mask.sum() == 3 and "3 outliers" in label
    clean = specs.dataset(("outliers", 0, 0.0, "both", 0))
    np.testing.assert_array_equal(clean[0], x)
    assert not clean[2].any() and (y[mask] > clean[1][mask]).all()     # shifted upwards
    x, y, mask, label = specs.dataset(("feature", "diabetes", "bmi", True))
    assert len(x) == 442 and abs(float(np.mean(y))) < 1e-12 and "standardized" in label
    x, y, _, _ = specs.dataset(("article",))
    assert len(x) == 4
    with pytest.raises(ValueError, match="unknown data spec"):
        specs.dataset(("nothing",))


def test_data_surfaces():
    spec = (("feature", "diabetes", "bmi", True), "huber", (("delta", 1.0),), None)
    s = specs.data_surface(spec)
    assert isinstance(s, DataSurface) and s.loss_fn.name == "huber" and s.n_samples == 442
    same = specs.data_surface(spec, specs.dataset(spec[0]))
    np.testing.assert_array_equal(same.minima, s.minima)
    cls = specs.data_surface((("feature", "breast_cancer", "mean radius", False), "bce", (), None))
    assert cls.link == "identity" and cls.name == "logistic_bce"
    win = ((0.0, 4.0), (-1.0, 3.0))
    assert specs.data_surface((("outliers", 0, 0.0, "both", 0), "mse", (), win)).window == win


def test_run_tuple_is_hashable_and_plain():
    r = specs.run_tuple("sgd", {"lr": np.float64(0.1)}, np.array([1.0, 2.0]), np.int64(10), batch_size=np.int64(8))
    assert r == ("sgd", (("lr", 0.1),), (1.0, 2.0), 10, 8, 0, None)
    hash(r)
