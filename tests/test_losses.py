"""Losses: textbook values, torch's formulas re-derived by hand, finite differences, parameters."""
import math

import numpy as np
import pytest

from optlab import losses
from optlab.errors import UnknownNameError

LN2 = math.log(2.0)


# ----------------------------------------------------------------------------------------------
# Textbook values on tiny hand-computed cases
# ----------------------------------------------------------------------------------------------
Y = np.array([1.0, 2.0, 3.0])
YHAT = np.array([1.5, 2.0, 1.0])  # residuals r = ŷ − y = (0.5, 0, −2)


@pytest.mark.parametrize("name, params, expected", [
    ("mse", {}, (0.25 + 0 + 4) / 3),
    ("rmse", {}, math.sqrt(4.25 / 3)),
    ("mae", {}, 2.5 / 3),
    ("huber", {"delta": 1.0}, (0.125 + 0 + 1.0 * (2 - 0.5)) / 3),
    ("huber", {"delta": 3.0}, (0.125 + 0 + 2.0) / 3),
    ("log_cosh", {}, (math.log(math.cosh(0.5)) + math.log(math.cosh(2.0))) / 3),
    # r' = y − ŷ = (−0.5, 0, 2): pinball max(q r', (q − 1) r')
    ("quantile", {"q": 0.9}, (0.1 * 0.5 + 0 + 0.9 * 2) / 3),
    ("quantile", {"q": 0.5}, 2.5 / 3 / 2),
])
def test_regression_textbook_values(name, params, expected):
    assert losses.get(name, **params).value(Y, YHAT) == pytest.approx(expected, rel=1e-12)


def test_classification_textbook_values():
    # BCE: labels (1, 0), scores (0, ln 3) -> p = (1/2, 3/4): −(ln ½ + ln ¼)/2 = 1.5 ln 2
    assert losses.get("bce").value([1, 0], [0.0, math.log(3)]) == pytest.approx(1.5 * LN2, rel=1e-12)
    # hinge: t = (1, −1, 1), s = (2, 0.5, −1) -> margins (2, −0.5, −1) -> (0, 1.5, 2)
    lab, s = np.array([1, 0, 1]), np.array([2.0, 0.5, -1.0])
    assert losses.get("hinge").value(lab, s) == pytest.approx(3.5 / 3, rel=1e-12)
    assert losses.get("squared_hinge").value(lab, s) == pytest.approx((0 + 2.25 + 4) / 3, rel=1e-12)
    # focal γ = 2: (label 1, s = 0) p_t = ½ -> ¼ ln 2; (label 0, s = ln 3) p_t = ¼ -> (¾)² ln 4
    f = losses.get("focal", gamma=2.0)
    assert f.value([1], [0.0]) == pytest.approx(0.25 * LN2, rel=1e-12)
    assert f.value([0], [math.log(3)]) == pytest.approx(0.5625 * math.log(4), rel=1e-12)
    # cross-entropy: equal scores over 3 classes -> ln 3; (1, 2, 3) label 0 -> log(e + e² + e³) − 1
    ce = losses.get("cross_entropy")
    assert ce.value([2], [[0.0, 0.0, 0.0]]) == pytest.approx(math.log(3), rel=1e-12)
    expected = math.log(math.e + math.e ** 2 + math.e ** 3) - 1
    assert ce.value([0], [[1.0, 2.0, 3.0]]) == pytest.approx(expected, rel=1e-12)


def test_quantile_sign_convention():
    q = losses.get("quantile", q=0.9)
    under, over = q.value([0.0], [-1.0]), q.value([0.0], [1.0])  # ŷ below y, ŷ above y
    assert under == pytest.approx(0.9) and over == pytest.approx(0.1)
    assert q.grad([0.0], [-1.0])[0] == pytest.approx(-0.9)  # raising ŷ lowers the loss
    assert q.grad([0.0], [1.0])[0] == pytest.approx(0.1)


# ----------------------------------------------------------------------------------------------
# torch's formulas, re-derived by hand
# ----------------------------------------------------------------------------------------------
def test_huber_matches_torch_at_and_around_delta():
    # torch.nn.HuberLoss: 0.5 r² if |r| < δ else δ(|r| − 0.5 δ); both give 0.5 δ² at |r| = δ
    for delta in (0.5, 1.0, 2.0):
        L = losses.get("huber", delta=delta)
        for r in (-delta, delta):
            assert L.value([0.0], [r]) == pytest.approx(0.5 * delta ** 2, rel=1e-15)
            assert L.grad([0.0], [r])[0] == pytest.approx(np.sign(r) * delta, rel=1e-15)
        r = np.array([0.3, -0.7, 1.9, -4.0, 10.0]) * delta
        torch = np.where(np.abs(r) < delta, 0.5 * r * r, delta * (np.abs(r) - 0.5 * delta))
        assert L.value(np.zeros(5), r) == pytest.approx(torch.mean(), rel=1e-14)
        # gradient is continuous across the boundary: limits from both sides agree
        eps = 1e-9
        assert L.pointwise_grad(delta - eps) == pytest.approx(L.pointwise_grad(delta + eps), abs=1e-8)


def test_bce_matches_bce_with_logits_and_stays_finite():
    # torch.nn.BCEWithLogitsLoss: max(s, 0) − s·y + log(1 + exp(−|s|))
    s = np.array([-1000.0, -30.0, -2.0, 0.0, 0.5, 40.0, 1000.0])
    for label in (0.0, 1.0):
        y = np.full_like(s, label)
        torch = np.maximum(s, 0) - s * y + np.log1p(np.exp(-np.abs(s)))
        L = losses.get("bce")
        per = L.value(y[:, None], s[:, None])  # one sample per row: per-sample values
        np.testing.assert_allclose(per, torch, rtol=1e-14, atol=1e-300)
        g = L.grad(y[:, None], s[:, None])[:, 0]
        with np.errstate(over="ignore"):  # the reference σ(s) = 1/(1 + e^(−s)) overflows harmlessly to 0
            np.testing.assert_allclose(g, 1 / (1 + np.exp(-s)) - y, rtol=1e-12, atol=1e-15)
        assert np.all(np.isfinite(L.curvature(y[:, None], s[:, None])))
    assert losses.get("bce").value([0.0], [1000.0]) == pytest.approx(1000.0)


def test_stable_in_the_tails():
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # overflow would raise here
        assert losses.get("log_cosh").value([0.0], [1000.0]) == pytest.approx(1000 - LN2, rel=1e-15)
        assert losses.get("focal", gamma=2).value([1], [-1000.0]) == pytest.approx(1000.0, rel=1e-12)
        assert losses.get("focal", gamma=2).value([1], [1000.0]) == 0.0
        assert losses.get("focal", gamma=0.5).grad([0], [-800.0])[0] == 0.0
        assert losses.get("cross_entropy").value([1], [[1000.0, 0.0]]) == pytest.approx(1000.0)
        assert losses.get("cross_entropy").value([0], [[1000.0, 0.0]]) == 0.0


# ----------------------------------------------------------------------------------------------
# Derivatives against central finite differences, with leading batch axes
# ----------------------------------------------------------------------------------------------
SCALAR = [("mse", {}), ("rmse", {}), ("mae", {}), ("huber", {"delta": 0.8}), ("log_cosh", {}),
          ("quantile", {"q": 0.3}), ("bce", {}), ("hinge", {}), ("squared_hinge", {}),
          ("focal", {"gamma": 2.0}), ("focal", {"gamma": 0.5})]


def _case(L, rng, N=6):
    """y and a (3, 4, N) batch of predictions with every residual / margin away from the kinks
    (r = 0, |r| = δ, margin 1), where finite differences would straddle two pieces."""
    kinks = [0.0, 1.0] + ([L.params["delta"], -L.params["delta"]] if "delta" in L.params else [])
    while True:
        if L.kind == "regression":
            y = rng.normal(size=N)
            yp = y + rng.choice([-1, 1], size=(3, 4, N)) * rng.uniform(0.05, 2.5, size=(3, 4, N))
            u = yp - y
        else:
            y = (rng.random(N) < 0.5).astype(float)
            yp = rng.normal(scale=2.5, size=(3, 4, N))
            u = (2 * y - 1) * yp
        if all(np.min(np.abs(u - k)) > 1e-3 for k in kinks):
            return y, yp


@pytest.mark.parametrize("name, params", SCALAR)
def test_grad_and_curvature_match_finite_differences(name, params):
    L = losses.get(name, **params)
    y, yp = _case(L, np.random.default_rng(len(name) + 7))
    g, c = L.grad(y, yp), L.curvature(y, yp)
    assert g.shape == yp.shape and c.shape == yp.shape
    assert L.value(y, yp).shape == (3, 4)
    h = 1e-6
    for i in range(yp.shape[-1]):
        e = np.zeros_like(yp)
        e[..., i] = h
        fd = (L.value(y, yp + e) - L.value(y, yp - e)) / (2 * h)
        np.testing.assert_allclose(g[..., i], fd, rtol=1e-6, atol=1e-9)
        fd2 = (L.grad(y, yp + e)[..., i] - L.grad(y, yp - e)[..., i]) / (2 * h)
        np.testing.assert_allclose(c[..., i], fd2, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("name, params", SCALAR)
def test_pointwise_derivatives_and_one_sample_value(name, params):
    L = losses.get(name, **params)
    u = np.array([-3.1, -0.7, 0.45, 1.6, 2.9])
    h = 1e-6
    np.testing.assert_allclose(L.pointwise_grad(u), (L.pointwise(u + h) - L.pointwise(u - h)) / (2 * h),
                               rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(L.pointwise_curvature(u),
                               (L.pointwise_grad(u + h) - L.pointwise_grad(u - h)) / (2 * h), rtol=1e-5, atol=1e-8)
    # with one sample, the mean loss is the pointwise curve at r = ŷ − y or m = t·s
    if L.kind == "regression":
        per = L.value(np.full((5, 1), 0.25), (0.25 + u)[:, None])
    else:
        per = np.concatenate([L.value(np.ones((5, 1)), u[:, None]), L.value(np.zeros((5, 1)), -u[:, None])])
        u = np.concatenate([u, u])
    np.testing.assert_allclose(per, L.pointwise(u), rtol=1e-13)


def test_cross_entropy_grad_and_hessian_blocks():
    L = losses.get("cross_entropy")
    rng = np.random.default_rng(3)
    N, C = 4, 3
    labels = rng.integers(0, C, N)
    s = rng.normal(scale=2.0, size=(2, 5, N, C))
    g, H = L.grad(labels, s), L.curvature(labels, s)
    assert L.value(labels, s).shape == (2, 5) and g.shape == s.shape and H.shape == (2, 5, N, C, C)
    h = 1e-6
    for i in range(N):
        for c in range(C):
            e = np.zeros_like(s)
            e[..., i, c] = h
            fd = (L.value(labels, s + e) - L.value(labels, s - e)) / (2 * h)
            np.testing.assert_allclose(g[..., i, c], fd, rtol=1e-6, atol=1e-10)
            fd2 = (L.grad(labels, s + e)[..., i, :] - L.grad(labels, s - e)[..., i, :]) / (2 * h)
            np.testing.assert_allclose(H[..., i, :, c], fd2, rtol=1e-5, atol=1e-9)


def test_cross_entropy_is_the_one_hot_loss():
    rng = np.random.default_rng(5)
    labels = np.array([0, 2, 1, 2, 0])
    s = rng.normal(size=(7, 5, 3))
    L = losses.get("cross_entropy")
    logsm = s - np.log(np.exp(s).sum(-1, keepdims=True))
    by_hand = -np.mean(np.take_along_axis(logsm, np.broadcast_to(labels[:, None], s.shape[:-1] + (1,)), -1)[..., 0], -1)
    np.testing.assert_allclose(L.value(labels, s), by_hand, rtol=1e-13)
    T = losses.one_hot(labels, 3)
    assert T.shape == (5, 3) and np.all(T.sum(1) == 1) and np.all(T[np.arange(5), labels] == 1)
    np.testing.assert_allclose(L.value(T, s), L.value(labels, s), rtol=1e-14)
    np.testing.assert_allclose(L.grad(T, s), L.grad(labels, s), rtol=1e-14)
    assert "one-hot" in L.when_to_use


def test_two_class_cross_entropy_equals_bce_on_score_difference():
    rng = np.random.default_rng(8)
    labels = rng.integers(0, 2, 9)
    s = rng.normal(scale=3, size=(4, 9, 2))
    ce = losses.get("cross_entropy").value(labels, s)
    bce = losses.get("bce").value(labels, s[..., 1] - s[..., 0])
    np.testing.assert_allclose(ce, bce, rtol=1e-13)


def test_focal_with_gamma_zero_is_bce():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 8)
    s = rng.normal(scale=4, size=(3, 8))
    f, b = losses.get("focal", gamma=0.0), losses.get("bce")
    for m in ("value", "grad", "curvature"):
        np.testing.assert_allclose(getattr(f, m)(y, s), getattr(b, m)(y, s), rtol=1e-13, atol=1e-300)
    assert f.convex and not losses.get("focal").convex


def test_rmse_at_zero_residual_and_subgradients_at_kinks():
    L = losses.get("rmse")
    assert L.value([1.0, 2.0], [1.0, 2.0]) == 0.0
    np.testing.assert_array_equal(L.grad([1.0, 2.0], [1.0, 2.0]), [0.0, 0.0])
    np.testing.assert_array_equal(L.curvature([1.0, 2.0], [1.0, 2.0]), [0.0, 0.0])
    assert losses.get("mae").grad([3.0], [3.0])[0] == 0.0
    assert losses.get("quantile", q=0.2).grad([3.0], [3.0])[0] == 0.0
    # RMSE gradient = MSE gradient / (2 RMSE)
    y, yp = np.array([0.0, 1.0, 5.0]), np.array([1.0, -1.0, 4.0])
    np.testing.assert_allclose(L.grad(y, yp), losses.get("mse").grad(y, yp) / (2 * L.value(y, yp)))


def test_batch_equals_loop():
    rng = np.random.default_rng(11)
    y = rng.normal(size=5)
    P = rng.normal(size=(6, 5))
    for name in losses.REGRESSION:
        L = losses.get(name)
        np.testing.assert_allclose(L.value(y, P), [L.value(y, p) for p in P], rtol=1e-14)
        np.testing.assert_allclose(L.grad(y, P), np.stack([L.grad(y, p) for p in P]), rtol=1e-14)
    # a different mini-batch per run: y_true (B, n) with y_pred (B, n)
    Yb = rng.normal(size=(6, 5))
    L = losses.get("huber")
    np.testing.assert_allclose(L.value(Yb, P), [L.value(a, b) for a, b in zip(Yb, P)], rtol=1e-14)


# ----------------------------------------------------------------------------------------------
# Parameters, names, metadata
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, params, shown", [
    ("huber", {"delta": 0.0}, "0.0"), ("huber", {"delta": -2.5}, "-2.5"), ("huber", {"delta": float("nan")}, "nan"),
    ("quantile", {"q": 0.0}, "0.0"), ("quantile", {"q": 1.0}, "1.0"), ("quantile", {"q": 1.7}, "1.7"),
    ("focal", {"gamma": -0.5}, "-0.5"), ("focal", {"gamma": "lots"}, "lots"),
])
def test_bad_params_raise_value_error_naming_the_value(name, params, shown):
    with pytest.raises(ValueError, match=shown):
        losses.get(name, **params)


def test_unknown_names_and_params():
    with pytest.raises(UnknownNameError, match="mse") as e:
        losses.get("l2")
    assert isinstance(e.value, ValueError) and "l2" in str(e.value)
    with pytest.raises(ValueError, match="delta"):
        losses.get("mse", delta=1.0)
    with pytest.raises(ValueError, match=r"\[2.0\]"):
        losses.get("bce").value([0, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="outside"):
        losses.one_hot([0, 3], 3)
    with pytest.raises(ValueError, match="shape"):
        losses.get("mse").value(np.zeros(3), np.zeros((2, 4)))


def test_catalogue_metadata():
    assert losses.names() == list(losses.REGRESSION) + list(losses.CLASSIFICATION)
    assert losses.get("huber").params == {"delta": 1.0}
    assert losses.get("quantile").params == {"q": 0.5}
    assert losses.get("focal").params == {"gamma": 2.0}
    assert losses.get("huber", delta=2).torch_equivalent == "torch.nn.HuberLoss(delta=2)"
    for name in losses.names():
        L = losses.get(name)
        assert L.name == name and L.kind == ("regression" if name in losses.REGRESSION else "classification")
        for text in (L.title, L.latex, L.grad_latex, L.when_to_use, L.torch_equivalent):
            assert isinstance(text, str) and text.strip()
        for tex in (L.latex, L.grad_latex):  # KaTeX-safe: balanced braces and environments
            assert tex.count("{") == tex.count("}"), (name, tex)
            assert tex.count(r"\begin") == tex.count(r"\end") and "algorithm" not in tex
        assert set(L.param_info) == set(L.params)


# ----------------------------------------------------------------------------------------------
# log-cosh to the last bits, from 1e-300 to 1e300 (issue 13: 122 % error at r = 1e-8)
# ----------------------------------------------------------------------------------------------
def _mp(fn, x):
    """fn(x) in mpmath, with enough bits that cosh x − 1 ≈ x²/2 survives next to the 1."""
    import mpmath  # ships with SymPy, a requirement of the app

    with mpmath.workprec(80 + 2 * max(0, -math.frexp(x)[1]) if x else 80):
        return float(fn(mpmath.mpf(x)))


def _ulps(got, want):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    return np.abs(got - want) / np.spacing(np.abs(want))  # spacing of subnormals: absolute


def test_log_cosh_keeps_relative_accuracy_from_1e_minus_300_to_1e300():
    import mpmath

    mag = np.logspace(-300, 300, 601)
    r = np.concatenate([-mag[::-1], mag, np.linspace(-40.0, 40.0, 801)])
    L = losses.get("log_cosh")
    ref = np.array([_mp(lambda t: mpmath.log(mpmath.cosh(t)), x) for x in r])
    tanh = np.array([_mp(mpmath.tanh, x) for x in r])
    sech2 = np.array([_mp(lambda t: mpmath.sech(t) ** 2, x) for x in r])
    assert np.max(_ulps(losses.log_cosh(r), ref)) <= 4
    assert np.max(_ulps(L.pointwise(r), ref)) <= 4
    assert np.max(_ulps(L.pointwise_grad(r), tanh)) <= 4
    assert np.max(_ulps(L.pointwise_curvature(r), sech2)) <= 4
    # the mean over samples keeps it: log cosh(1e-8) = 5e-17, not 1.1e-16
    assert L.value([0.0], [1e-8]) == pytest.approx(5e-17, rel=1e-15)
    assert L.value([0.0, 0.0], [1e300, -1e300]) == 1e300


def test_log_cosh_is_one_helper():
    from optlab.chapters import newton as qm

    assert qm.get_1d("log_cosh").f is losses.log_cosh
