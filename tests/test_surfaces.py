"""Tests of optlab.surfaces: every derivative against finite differences, every listed minimum and
saddle against its definition, shapes, the registry, parameter errors and the cliff demo."""
from __future__ import annotations

import math

import numpy as np
import pytest

from optlab import surfaces
from optlab.errors import UnknownNameError

# Every surface with its defaults, plus parameter settings that move things around.
CASES = [(name, {}) for name in surfaces.names()] + [
    ("quadratic", {"condition": 25.0, "angle": 30.0}),
    ("quadratic", {"condition": 0.2, "angle": -70.0}),
    ("rosenbrock", {"a": -0.5, "b": 10.0}),
    ("rastrigin", {"A": 3.0}),
    ("ackley", {"a": 10.0, "b": 0.5, "c": math.pi}),
    ("cliff", {"h": 1.0, "s": 20.0}),
    ("cliff", {"h": 50.0, "s": 0.5}),
]
IDS = [name + "".join(f"-{k}={v:g}" for k, v in kw.items()) for name, kw in CASES]

EXPECTED = {"quadratic", "rosenbrock", "beale", "himmelblau", "booth", "saddle", "monkey_saddle",
            "rastrigin", "ackley", "six_hump_camel", "goldstein_price", "cliff", "styblinski_tang",
            "matyas"}


@pytest.fixture(params=CASES, ids=IDS)
def surface(request):
    name, kw = request.param
    return surfaces.get(name, **kw)


def window_points(s, n=200, seed=0):
    """n random points in the window, plus points on the cliff's wall, minus Ackley's kink."""
    rng = np.random.default_rng(seed)
    (x0, x1), (y0, y1) = s.window
    P = np.stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)], -1)
    if s.name == "cliff":  # random points almost never hit a wall 1/s wide
        d = rng.uniform(-3, 3, 40) / s.params["s"]
        P = np.concatenate([P, np.stack([1.5 + d, rng.uniform(y0, y1, 40)], -1)])
    if s.name == "ackley":
        P = P[np.hypot(P[:, 0], P[:, 1]) > 0.05]
    return P


# --------------------------------------------------------------------------------------------
# Derivatives
# --------------------------------------------------------------------------------------------
EPS = 1e-6


def test_catalogue_is_registered():
    assert EXPECTED <= set(surfaces.names())


def test_gradient_matches_central_differences(surface):
    P = window_points(surface)
    g = surface.grad(P)
    fd = np.empty_like(g)
    for i in range(2):
        e = np.zeros(2)
        e[i] = EPS
        fd[:, i] = (surface.value(P + e) - surface.value(P - e)) / (2 * EPS)
    err = np.linalg.norm(fd - g, axis=-1)
    scale = np.linalg.norm(g, axis=-1) + np.abs(surface.value(P)) + 1.0
    worst = int(np.argmax(err / scale))
    assert np.all(err <= 1e-7 * scale), (P[worst], g[worst], fd[worst])


def test_hessian_matches_differences_of_gradient_and_is_symmetric(surface):
    P = window_points(surface, seed=1)
    H = surface.hessian(P)
    assert H.shape == P.shape[:-1] + (2, 2)
    np.testing.assert_array_equal(H, np.swapaxes(H, -1, -2))
    fd = np.empty_like(H)
    for j in range(2):
        e = np.zeros(2)
        e[j] = EPS
        fd[:, :, j] = (surface.grad(P + e) - surface.grad(P - e)) / (2 * EPS)
    err = np.linalg.norm(fd - H, axis=(-2, -1))
    scale = np.linalg.norm(H, axis=(-2, -1)) + np.linalg.norm(surface.grad(P), axis=-1) + 1.0
    worst = int(np.argmax(err / scale))
    assert np.all(err <= 1e-6 * scale), (P[worst], H[worst], fd[worst])
    # the two mixed differences ∂gx/∂y and ∂gy/∂x agree: the gradient really is a gradient
    asym = np.abs(fd[:, 0, 1] - fd[:, 1, 0])
    assert np.all(asym <= 1e-6 * scale)


def test_value_and_grad_agree_with_value_and_grad(surface):
    P = window_points(surface, n=20, seed=2)
    v, g = surface.value_and_grad(P)
    np.testing.assert_array_equal(v, surface.value(P))
    np.testing.assert_array_equal(g, surface.grad(P))


# Textbook formulas, written independently of the module's (expanded, factored) code.
TEXTBOOK = {
    "beale": lambda x, y: ((1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2
                           + (2.625 - x + x * y ** 3) ** 2),
    "himmelblau": lambda x, y: (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2,
    "booth": lambda x, y: (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2,
    "saddle": lambda x, y: x ** 2 - y ** 2,
    "monkey_saddle": lambda x, y: x ** 3 - 3 * x * y ** 2,
    "rastrigin": lambda x, y: 20 + x ** 2 - 10 * np.cos(2 * np.pi * x) + y ** 2 - 10 * np.cos(2 * np.pi * y),
    "ackley": lambda x, y: (-20 * np.exp(-0.2 * np.sqrt(0.5 * (x ** 2 + y ** 2)))
                            - np.exp(0.5 * (np.cos(2 * np.pi * x) + np.cos(2 * np.pi * y))) + np.e + 20),
    "six_hump_camel": lambda x, y: ((4 - 2.1 * x ** 2 + x ** 4 / 3) * x ** 2 + x * y
                                    + (-4 + 4 * y ** 2) * y ** 2),
    "goldstein_price": lambda x, y: (
        (1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x ** 2 - 14 * y + 6 * x * y + 3 * y ** 2))
        * (30 + (2 * x - 3 * y) ** 2 * (18 - 32 * x + 12 * x ** 2 + 48 * y - 36 * x * y + 27 * y ** 2))),
    "styblinski_tang": lambda x, y: 0.5 * (x ** 4 - 16 * x ** 2 + 5 * x + y ** 4 - 16 * y ** 2 + 5 * y),
    "matyas": lambda x, y: 0.26 * (x ** 2 + y ** 2) - 0.48 * x * y,
    "cliff": lambda x, y: np.sqrt(1 + x ** 2 + y ** 2) - 1 + 3 * np.tanh(200 * (x - 1.5)),
    "rosenbrock": lambda x, y: (1 - x) ** 2 + 100 * (y - x ** 2) ** 2,
    "quadratic": lambda x, y: 0.5 * (x ** 2 + 10 * y ** 2),
}


@pytest.mark.parametrize("name", sorted(TEXTBOOK))
def test_value_matches_textbook_formula(name):
    s = surfaces.get(name)
    P = window_points(s, n=300, seed=3)
    ref = TEXTBOOK[name](P[:, 0], P[:, 1])
    np.testing.assert_allclose(s.value(P), ref, rtol=1e-12, atol=1e-12)


# Published values: (point, value)
REFERENCE = {
    "beale": ((3.0, 0.5), 0.0),
    "himmelblau": ((3.0, 2.0), 0.0),
    "booth": ((1.0, 3.0), 0.0),
    "rastrigin": ((0.0, 0.0), 0.0),
    "ackley": ((0.0, 0.0), 0.0),
    "six_hump_camel": ((0.0898, -0.7126), -1.0316),
    "goldstein_price": ((0.0, -1.0), 3.0),
    "styblinski_tang": ((-2.903534, -2.903534), -39.16617 * 2),
    "matyas": ((0.0, 0.0), 0.0),
}


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_global_minimum_matches_published_value(name):
    s = surfaces.get(name)
    point, value = REFERENCE[name]
    np.testing.assert_allclose(s.global_minima[0], point, atol=1e-4)
    assert s.min_value == pytest.approx(value, abs=1e-4)


# --------------------------------------------------------------------------------------------
# Minima and saddles
# --------------------------------------------------------------------------------------------
def _circle(p, r, n=16):
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return p + r * np.stack([np.cos(t), np.sin(t)], -1)


def _inside(s, P):
    (x0, x1), (y0, y1) = s.window
    return np.all((P[:, 0] >= x0) & (P[:, 0] <= x1) & (P[:, 1] >= y0) & (P[:, 1] <= y1))


def test_minima_values_gradients_and_curvature(surface):
    s = surface
    if s.min_value is None:
        assert len(s.minima) == 0 and s.n_global == 0
        return
    assert 1 <= s.n_global <= len(s.minima)
    assert _inside(s, s.minima)
    v = s.value(s.minima)
    tol = 1e-12 * (1 + abs(s.min_value))
    np.testing.assert_allclose(v[: s.n_global], s.min_value, rtol=0, atol=tol)
    assert np.all(v[s.n_global:] > s.min_value + tol), "a listed local minimum is as low as the global one"
    # every value on the window grid is at least the global minimum
    assert np.nanmin(s.grid(60)[2]) >= s.min_value - tol
    H = s.hessian(s.minima)
    hn = np.linalg.norm(H, axis=(-2, -1))
    assert np.all(np.linalg.norm(s.grad(s.minima), axis=-1) <= 1e-9 * (1 + hn))
    assert np.all(np.linalg.eigvalsh(H)[:, 0] >= -1e-9 * hn)
    for p in s.minima:  # a true local minimum: no lower point on a small circle around it
        assert np.all(s.value(_circle(p, 1e-3)) >= s.value(p) - tol)
    # listed minima are distinct
    d = np.linalg.norm(s.minima[:, None] - s.minima[None], axis=-1) + np.eye(len(s.minima))
    assert d.min() > 1e-6


def test_saddles_are_flat_and_indefinite(surface):
    s = surface
    assert _inside(s, s.saddles)
    for p in s.saddles:
        H = s.hessian(p)
        hn = np.linalg.norm(H)
        assert np.linalg.norm(s.grad(p)) <= 1e-9 * (1 + hn)
        (lo, hi), V = np.linalg.eigh(H)
        if hn <= 1e-12:
            # degenerate (the monkey saddle): higher and lower points all around it
            dv = s.value(_circle(p, 1e-3)) - s.value(p)
            assert dv.min() < 0 < dv.max()
            continue
        assert lo < -1e-9 * hn and hi > 1e-9 * hn, (p, lo, hi)
        # f falls both ways along the negative-curvature direction and rises along the other
        r = 1e-4
        assert np.all(s.value(p + r * np.outer([1, -1], V[:, 0])) < s.value(p))
        assert np.all(s.value(p + r * np.outer([1, -1], V[:, 1])) > s.value(p))


def test_known_counts():
    counts = {row["name"]: (row["n_minima"], row["n_saddles"]) for row in surfaces.info_table()}
    assert counts["himmelblau"] == (4, 4)
    assert counts["six_hump_camel"] == (6, 7)
    assert counts["goldstein_price"] == (4, 4)
    assert counts["styblinski_tang"] == (4, 4)
    assert counts["beale"] == (1, 2)
    assert counts["saddle"] == (0, 1) and counts["monkey_saddle"] == (0, 1)
    # one minimum near each integer point of [-5, 5]², saddles between neighbours
    assert counts["rastrigin"] == (121, 220)
    assert counts["ackley"] == (121, 220)
    assert surfaces.get("himmelblau").n_global == 4
    assert surfaces.get("six_hump_camel").n_global == 2


def test_goldstein_price_critical_values_are_exact():
    s = surfaces.get("goldstein_price")
    np.testing.assert_allclose(s.value(s.minima), [3, 30, 84, 840], rtol=1e-14)
    np.testing.assert_allclose(np.sort(s.value(s.saddles)), [35, 99, 980, 990], rtol=1e-14)
    np.testing.assert_allclose(s.grad(np.concatenate([s.minima, s.saddles])), 0.0, atol=1e-11)


def test_rastrigin_minima_sit_near_the_integer_lattice():
    s = surfaces.get("rastrigin")
    off = s.minima - np.round(s.minima)
    assert np.abs(off).max() < 0.06
    # the pull of the bowl moves each local minimum towards the origin
    assert np.all(np.abs(s.minima) <= np.abs(np.round(s.minima)) + 1e-15)


def test_distance_to_minimum_global_only():
    s = surfaces.get("rastrigin")
    local = s.minima[1]
    assert s.distance_to_minimum(local) == pytest.approx(0.0, abs=1e-15)
    assert s.distance_to_minimum(local, global_only=True) == pytest.approx(np.linalg.norm(local))
    assert np.isnan(surfaces.get("saddle").distance_to_minimum(np.zeros((3, 2)))).all()


def test_ackley_origin_is_handled():
    s = surfaces.get("ackley")
    o = np.zeros(2)
    assert s.value(o) == 0.0
    np.testing.assert_array_equal(s.grad(o), [0.0, 0.0])
    for r in (1e-300, 5e-324, 1e-12):
        p = np.array([r, 0.0])
        assert np.all(np.isfinite(s.grad(p))) and np.all(np.isfinite(s.hessian(p)))
    # just off the origin the cone's slope a·b/√2 shows: the gradient is not continuous there
    assert np.linalg.norm(s.grad([1e-12, 0.0])) == pytest.approx(20 * 0.2 / math.sqrt(2), rel=1e-6)
    assert np.linalg.eigvalsh(s.hessian(o))[0] > 0


# --------------------------------------------------------------------------------------------
# Shapes and evaluation
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", surfaces.names())
def test_shapes_and_grid_equals_pointwise(name):
    s = surfaces.get(name)
    (x0, x1), (y0, y1) = s.window
    xs, ys = np.linspace(x0, x1, 7), np.linspace(y0, y1, 5)
    G = np.stack(np.meshgrid(xs, ys), -1)              # (ny, nx, 2)
    B = G.reshape(-1, 2)
    p = G[2, 3]
    assert s.value(p).shape == () and s.grad(p).shape == (2,) and s.hessian(p).shape == (2, 2)
    assert s.value(B).shape == (35,) and s.grad(B).shape == (35, 2) and s.hessian(B).shape == (35, 2, 2)
    assert s.value(G).shape == (5, 7) and s.grad(G).shape == (5, 7, 2) and s.hessian(G).shape == (5, 7, 2, 2)
    for i in range(5):
        for j in range(7):
            np.testing.assert_allclose(s.value(G)[i, j], s.value(G[i, j]), rtol=1e-14, atol=1e-300)
            np.testing.assert_allclose(s.grad(G)[i, j], s.grad(G[i, j]), rtol=1e-14, atol=1e-300)
            np.testing.assert_allclose(s.hessian(G)[i, j], s.hessian(G[i, j]), rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(s.value(G).ravel(), s.value(B), rtol=1e-14)
    gx, gy, Z = s.grid(9)
    assert Z.shape == (9, 9)
    np.testing.assert_allclose(Z[4, 2], s.value([gx[2], gy[4]]), rtol=1e-14)
    with pytest.raises(ValueError, match="shape"):
        s.value(np.zeros((4, 3)))


def test_quadratic_condition_25_is_exactly_half_x2_plus_25y2():
    s = surfaces.get("quadratic", condition=25)
    P = np.random.default_rng(4).uniform(-3, 3, (100, 2))
    x, y = P[:, 0], P[:, 1]
    np.testing.assert_allclose(s.value(P), 0.5 * (x ** 2 + 25 * y ** 2), rtol=1e-15, atol=0)
    np.testing.assert_array_equal(s.grad(P), np.stack([x, 25 * y], -1))
    np.testing.assert_array_equal(s.hessian(P[0]), [[1.0, 0.0], [0.0, 25.0]])


@pytest.mark.parametrize("angle", [0.0, 30.0, 90.0, -45.0, 200.0])
def test_quadratic_angle_rotates_the_eigenvectors(angle):
    kappa = 8.0
    H = surfaces.get("quadratic", condition=kappa, angle=angle).hessian([0.3, -0.2])
    th = np.deg2rad(angle)
    u, v = np.array([np.cos(th), np.sin(th)]), np.array([-np.sin(th), np.cos(th)])
    np.testing.assert_allclose(H @ u, 1.0 * u, atol=1e-14)
    np.testing.assert_allclose(H @ v, kappa * v, atol=1e-13)


# --------------------------------------------------------------------------------------------
# Metadata
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", surfaces.names())
def test_metadata(name):
    s = surfaces.get(name)
    assert s.name == name and isinstance(s.title, str) and s.title
    assert s.latex.startswith("f(x,y)=") or s.latex.startswith(r"\begin{aligned}f(x,y)=")
    assert s.latex.count("{") == s.latex.count("}") and s.latex.count(r"\left") == s.latex.count(r"\right")
    assert "algorithm" not in s.latex
    assert s.description.endswith(".") and s.description.count(". ") == 0
    (x0, x1), (y0, y1) = s.window
    assert x0 < x1 and y0 < y1
    starts = np.asarray(s.starts, dtype=float)
    assert 2 <= len(starts) <= 4 and _inside(s, starts)
    assert np.all(np.isfinite(s.value(starts)))
    # no suggested start sits on a minimum
    if len(s.minima):
        assert np.all(s.distance_to_minimum(starts) > 0.1)


@pytest.mark.parametrize("name", surfaces.names())
def test_convex_flag_is_true(name):
    s = surfaces.get(name)
    P = window_points(s, n=400, seed=5)
    lowest = np.linalg.eigvalsh(s.hessian(P))[:, 0]
    if s.convex:
        assert np.all(lowest >= -1e-12)
    else:
        assert np.any(lowest < 0)


@pytest.mark.parametrize("name", surfaces.names())
def test_log_scale_where_values_span_orders_of_magnitude(name):
    s = surfaces.get(name)
    Z = s.grid(80)[2]
    if s.log_scale:
        assert Z.min() >= 0 and Z.max() / (Z.min() + 1) > 1e3
    else:
        assert np.ptp(Z) < 1e4


@pytest.mark.parametrize("name,kw", [c for c in CASES if c[1]], ids=[i for i, c in zip(IDS, CASES) if c[1]])
def test_parameters_are_substituted_in_latex_and_recorded(name, kw):
    s = surfaces.get(name, **kw)
    for k, v in kw.items():
        assert s.params[k] == v
        shown = r"\pi" if v == math.pi else f"{v:g}"
        assert shown in s.latex or (k == "c" and "3.14159" in s.latex), (k, s.latex)


def test_info_table():
    rows = surfaces.info_table()
    assert [r["name"] for r in rows] == surfaces.names()
    for r in rows:
        assert set(r) == {"name", "title", "convex", "n_minima", "n_saddles"}
        s = surfaces.get(r["name"])
        assert (r["title"], r["convex"], r["n_minima"], r["n_saddles"]) == (
            s.title, s.convex, len(s.minima), len(s.saddles))


def test_defaults_lists_keyword_parameters():
    assert surfaces.defaults("cliff") == {"h": 3.0, "s": 200.0}
    assert surfaces.defaults("booth") == {}
    assert set(surfaces.defaults("ackley")) == {"a", "b", "c"}


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------
def test_unknown_surface_lists_the_allowed_ones():
    with pytest.raises(UnknownNameError) as info:
        surfaces.get("rosenbrok")
    assert isinstance(info.value, ValueError)
    msg = str(info.value)
    assert "rosenbrok" in msg
    for name in surfaces.names():
        assert name in msg


def test_unknown_parameter_lists_the_allowed_ones():
    with pytest.raises(UnknownNameError, match=r"'kappa'.*angle, condition"):
        surfaces.get("quadratic", kappa=3)
    with pytest.raises(ValueError, match="'A'"):
        surfaces.get("booth", A=3)


BAD = [
    ("quadratic", {"condition": 0}),
    ("quadratic", {"condition": -4.0}),
    ("quadratic", {"condition": float("nan")}),
    ("quadratic", {"angle": float("inf")}),
    ("rosenbrock", {"b": -1.0}),
    ("rastrigin", {"A": -1.0}),
    ("rastrigin", {"A": "ten"}),
    ("ackley", {"a": 0.0}),
    ("ackley", {"b": -0.2}),
    ("ackley", {"c": 0.0}),
    ("cliff", {"h": 0.0}),
    ("cliff", {"h": "tall"}),
    ("cliff", {"s": -5.0}),
    ("cliff", {"s": 1e9}),
]


@pytest.mark.parametrize("name,kw", BAD, ids=[f"{n}-{k}={v}" for n, d in BAD for k, v in d.items()])
def test_bad_parameters_raise_value_error_naming_the_value(name, kw):
    (key, value), = kw.items()
    with pytest.raises(ValueError) as info:
        surfaces.get(name, **kw)
    msg = str(info.value)
    assert key in msg and repr(value) in msg


# --------------------------------------------------------------------------------------------
# The cliff demo: exploding gradient vs gradient clipping
# --------------------------------------------------------------------------------------------
def descend(s, x0, lr, steps=100, clip=None):
    """Plain gradient descent x ← x − lr·g, with g rescaled to norm ≤ clip if clip is given."""
    x = np.array(x0, dtype=float)
    xs = [x.copy()]
    for _ in range(steps):
        g = s.grad(x)
        if clip is not None:
            g = g * min(1.0, clip / np.linalg.norm(g))
        x = x - lr * g
        xs.append(x.copy())
    return np.array(xs)


@pytest.mark.parametrize("lr", [0.05, 0.1])
def test_cliff_throws_plain_gd_and_clipping_walks_down(lr):
    s = surfaces.get("cliff")
    size = max(b - a for a, b in s.window)
    x0 = s.starts[0]
    xs = descend(s, x0, lr)
    steps = np.linalg.norm(np.diff(xs, axis=0), axis=-1)
    k = int(np.argmax(steps))
    assert steps[k] > size                                    # one step longer than the window
    assert abs(xs[k, 0] - 1.5) < 3 / s.params["s"]            # taken on the cliff face
    assert s.distance_to_minimum(xs).max() > size              # thrown far beyond the minimum

    xc = descend(s, x0, lr, clip=1.0)
    assert np.linalg.norm(np.diff(xc, axis=0), axis=-1).max() <= lr * (1 + 1e-12)
    assert s.distance_to_minimum(xc[-1]) < 0.05                # walked down and reached the minimum
    assert s.value(xc[-1]) < s.value(x0) - 2 * s.params["h"] + 0.01
