"""Optimizers: torch.optim reference trajectories, closed forms, equivalences, argument checks."""
from __future__ import annotations

import inspect
import json
import math
import pydoc
from pathlib import Path

import numpy as np
import pytest

import optlab
from optlab import optimizers as O
from optlab import surfaces as S
from optlab.optimizers import variants as V

FIXTURE = Path(__file__).parent / "fixtures" / "torch_reference.json"
FIRST = list(O.FIRST_ORDER)

# torch 2.x defaults, read from inspect.signature of the torch classes (shared/reference/torch-optim.md)
TORCH_DEFAULTS = {
    "sgd": dict(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False),
    "adam": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False,
                 decoupled_weight_decay=False),
    "adamw": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, maximize=False),
    "nadam": dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
                  decoupled_weight_decay=False, maximize=False),
    "radam": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False, maximize=False),
    "rmsprop": dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False, maximize=False),
    "adagrad": dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10, maximize=False),
    "adadelta": dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False),
}


def loop(surface, opt, x0, steps, **kw):
    """Reference loop written out by hand: θ ← θ + update(∇f(θ))."""
    x = np.atleast_2d(np.asarray(x0, dtype=float)).copy()
    st = opt.init(x)
    xs = [x.copy()]
    for k in range(steps):
        u, st = opt.update(surface.grad(x), st, x, problem=surface, **kw)
        x = x + u
        xs.append(x.copy())
    return np.array(xs)


# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(TORCH_DEFAULTS))
def test_defaults_match_torch(name):
    assert O.make(name).info.defaults == TORCH_DEFAULTS[name]
    assert O.make(name).hyper == {k: (tuple(v) if isinstance(v, tuple) else v)
                                  for k, v in TORCH_DEFAULTS[name].items()}


@pytest.mark.parametrize("name", O.names())
def test_every_optimizer_documents_itself(name):
    info = O.info(name)
    assert info.title and info.reference and info.summary
    assert r"\theta" in info.latex and info.latex.strip().startswith(r"\begin{aligned}")
    assert info.latex.count(r"\begin") == info.latex.count(r"\end")
    for h in info.hyper:
        assert h.meaning, f"{name}.{h.name} has no meaning"
    assert "lr" in [h.name for h in info.hyper]


PUBLIC = [getattr(O, n) for n in O.names()] + [V.adam_no_bias_correction, V.sgd_textbook_momentum]


@pytest.mark.parametrize("factory", PUBLIC, ids=lambda f: f.__name__)
def test_public_constructors_carry_docstring_and_signature_from_their_info(factory):
    info = factory.info
    assert factory(lr=0.1).info is info
    doc = factory.__doc__
    for text in (info.title, info.summary, info.torch, info.reference, info.notes, "Parameters", ".. math::"):
        assert text in doc
    for line in info.latex.strip().splitlines():
        assert line in doc                      # the algorithm box, verbatim
    for h in info.hyper:
        assert f"{h.name} : " in doc and h.meaning in doc
    for key in info.state:
        assert key in doc
    sig = inspect.signature(factory)
    assert [(p.name, p.default, p.kind) for p in sig.parameters.values()] == \
        [(h.name, h.default, inspect.Parameter.KEYWORD_ONLY) for h in info.hyper]
    sig.bind(**{h.name: h.default for h in info.hyper})      # the signature accepts what make() accepts
    assert info.summary in pydoc.render_doc(factory, renderer=pydoc.plaintext)


def test_help_shows_torch_defaults():
    shown = pydoc.render_doc(O.adam, renderer=pydoc.plaintext)
    assert "adam(*, lr: float = 0.001, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-08" in shown
    assert "eps : float, default 1e-08" in shown and "amsgrad : bool, default False" in shown
    assert "min_curvature : float or None, default None" in O.newton.__doc__


def test_info_is_a_lookup_not_a_construction(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("info() built an optimizer")

    monkeypatch.setattr(O.Optimizer, "__init__", refuse)
    for name in O.names():
        assert O.info(name) is getattr(O, name).info
    assert O.info("AdamW") is O.adamw.info               # torch's class name, as make() accepts
    with pytest.raises(optlab.UnknownNameError):
        O.info("adamx")


def _fixture_cases():
    if not FIXTURE.exists():
        return []
    return json.loads(FIXTURE.read_text())["cases"]


CASES = _fixture_cases()


def test_fixture_present_and_covers_every_first_order_optimizer():
    assert CASES, "tests/fixtures/torch_reference.json is missing: run tools/make_torch_reference.py"
    covered = {c["optimizer"] for c in CASES}
    assert set(FIRST) <= covered
    assert len({c["surface"] for c in CASES}) >= 3


def _hyper(c):
    h = dict(c["hyper"])
    if "betas" in h:
        h["betas"] = tuple(h["betas"])
    return h


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_matches_torch_reference_trajectory(case):
    surface = S.get(case["surface"], **case.get("surface_params", {}))
    if case.get("negate"):  # torch maximized −f: same ascent on g = ∇(−f)
        surface = _Negated(surface)
    opt = O.make(case["optimizer"], **_hyper(case))
    ref = np.asarray(case["xs"])
    tr = optlab.run(surface, opt, case["x0"], case["steps"], schedule=_schedule(case), bound=1e12)
    assert tr.diverged_at == -1
    np.testing.assert_allclose(tr.xs, ref, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(tr.losses, case["losses"], rtol=1e-9, atol=1e-11)
    if case.get("lrs"):
        np.testing.assert_allclose(tr.lrs, case["lrs"][: case["steps"]], rtol=1e-12)


class _Negated:
    def __init__(self, s):
        self.s, self.name, self.extent = s, "neg-" + s.name, s.extent

    def value_and_grad(self, p):
        f, g = self.s.value_and_grad(p)
        return -f, -g


def _schedule(case):
    s = case.get("schedule")
    if not s:
        return None
    s = dict(s)
    return optlab.schedules.get(s.pop("name"), **s)


# ----------------------------------------------------------------------------------------------
# closed forms
def test_gd_on_quadratic_is_matrix_power():
    q = S.get("quadratic", condition=10, angle=30)
    A = q.hessian(np.zeros(2))
    eta, x0, k = 0.05, np.array([2.0, -1.0]), 40
    tr = optlab.run(q, O.make("sgd", lr=eta), x0, k)
    expected = np.linalg.matrix_power(np.eye(2) - eta * A, k) @ x0
    np.testing.assert_allclose(tr.xs[-1], expected, rtol=1e-12, atol=1e-14)


def test_heavy_ball_on_1d_quadratic_closed_form():
    # f = ½ a x²: torch momentum b_k = μ b_{k-1} + g_k, x_k = x_{k-1} − η b_k  (b₁ = g₁)
    a, eta, mu = 3.0, 0.1, 0.8
    q = S.get("quadratic", condition=a)  # ½(x² + a y²): use the y coordinate
    tr = optlab.run(q, O.make("sgd", lr=eta, momentum=mu), [0.0, 1.0], 30)
    y, b = 1.0, 0.0
    for k in range(1, 31):
        g = a * y
        b = g if k == 1 else mu * b + g
        y = y - eta * b
    assert tr.xs[-1, 1] == pytest.approx(y, rel=1e-12)


def test_newton_solves_quadratic_in_one_step():
    q = S.get("quadratic", condition=25)
    tr = optlab.run(q, O.make("newton"), [2.5, -1.7], 1)
    np.testing.assert_allclose(tr.xs[1], [0.0, 0.0], atol=1e-14)


def test_pure_newton_jumps_to_the_saddle():
    s = S.get("saddle")
    tr = optlab.run(s, O.make("newton"), [1.0, 0.5], 1)
    np.testing.assert_allclose(tr.xs[1], [0.0, 0.0], atol=1e-14)


def test_damped_newton_escapes_the_saddle():
    s = S.get("saddle")
    tr = optlab.run(s, O.make("newton", line_search=True, min_curvature=0.1), [1.0, 0.5], 1)
    assert tr.losses[1] < tr.losses[0] - 1.0  # went downhill, away from the saddle at (0, 0)
    assert abs(tr.xs[1, 1]) > 1.0 and abs(tr.xs[1, 0]) < 1.0


@pytest.mark.parametrize("opt", [O.make("newton", line_search=True), O.make("newton", line_search=True, min_curvature=1e-3),
                                 O.make("bfgs")])
def test_second_order_solve_rosenbrock(opt):
    r = S.get("rosenbrock")
    tr = optlab.run(r, opt, [-1.5, 2.0], 100, tol=1e-8)
    np.testing.assert_allclose(tr.final_x, [1.0, 1.0], atol=1e-5)
    assert tr.converged_at > 0


def test_line_search_accepts_only_armijo_steps():
    r = S.get("rosenbrock")
    tr = optlab.run(r, O.make("newton", line_search=True), [-1.5, 2.0], 30)
    assert np.all(np.diff(tr.losses) <= 1e-12)  # monotone decrease
    assert np.all(tr.states["step_length"] <= 1.0)


def test_bfgs_inverse_hessian_learns_a_quadratic():
    q = S.get("quadratic", condition=5, angle=20)
    tr = optlab.run(q, O.make("bfgs"), [2.0, 1.5], 30, tol=1e-10)
    H_true = q.hessian(np.zeros(2))
    assert 0 < tr.converged_at <= 15
    # every update satisfies the secant equation B·y = s for the step it has just seen
    for k in range(2, tr.converged_at):
        s_k = tr.xs[k] - tr.xs[k - 1]
        y_k = q.grad(tr.xs[k]) - q.grad(tr.xs[k - 1])
        if np.linalg.norm(s_k) > 1e-5:  # below that, round-off in y dominates
            np.testing.assert_allclose(tr.states["inv_hessian"][k] @ y_k, s_k, rtol=1e-6, atol=1e-12)
    # and the estimate has learned the true inverse Hessian's scale along the path
    est = tr.states["inv_hessian"][tr.converged_at - 1]
    assert np.allclose(np.sort(np.linalg.eigvalsh(est)), np.sort(1 / np.linalg.eigvalsh(H_true)), rtol=0.3)


# ----------------------------------------------------------------------------------------------
# equivalences
@pytest.mark.parametrize("name", FIRST)
def test_batch_equals_loop_of_single_runs(name):
    r = S.get("rosenbrock")
    X0 = np.array([[-1.5, 2.0], [0.5, -0.5], [1.2, 1.0]])
    opt = O.make(name, lr=O.make(name).hyper["lr"] * 3)
    batch = optlab.run(r, opt, X0, 60)
    for i in range(3):
        single = optlab.run(r, opt, X0[i], 60)
        np.testing.assert_array_equal(batch.xs[:, i], single.xs)


@pytest.mark.parametrize("name", FIRST)
def test_per_run_hyperparameters_equal_separate_optimizers(name):
    r = S.get("beale") if "beale" in S.names() else S.get("quadratic", condition=10)
    lrs = np.array([1e-3, 3e-3, 1e-2])
    batch = optlab.run(r, O.make(name, lr=lrs), [1.0, 1.0], 40)
    assert batch.xs.shape == (41, 3, 2)
    for i, lr in enumerate(lrs):
        single = optlab.run(r, O.make(name, lr=float(lr)), [1.0, 1.0], 40)
        np.testing.assert_allclose(batch.xs[:, i], single.xs, rtol=1e-15, atol=0)


def test_per_run_betas_and_momentum():
    r = S.get("rosenbrock")
    b1 = np.array([0.0, 0.5, 0.9])
    batch = optlab.run(r, O.make("adam", lr=0.01, betas=(b1, 0.999)), [-1.0, 1.0], 30)
    for i, b in enumerate(b1):
        single = optlab.run(r, O.make("adam", lr=0.01, betas=(float(b), 0.999)), [-1.0, 1.0], 30)
        np.testing.assert_allclose(batch.xs[:, i], single.xs, rtol=1e-15)
    mus = np.array([0.0, 0.5, 0.9])
    batch = optlab.run(r, O.make("sgd", lr=1e-3, momentum=mus, dampening=0.3), [-1.0, 1.0], 30)
    for i, m in enumerate(mus):
        single = optlab.run(r, O.make("sgd", lr=1e-3, momentum=float(m), dampening=0.3), [-1.0, 1.0], 30)
        np.testing.assert_allclose(batch.xs[:, i], single.xs, rtol=1e-15)


def test_adamw_without_decay_is_adam():
    r = S.get("rosenbrock")
    a = optlab.run(r, O.make("adam", lr=0.02), [-1.5, 2.0], 100)
    w = optlab.run(r, O.make("adamw", lr=0.02, weight_decay=0.0), [-1.5, 2.0], 100)
    np.testing.assert_array_equal(a.xs, w.xs)


def test_adam_decoupled_flag_is_adamw():
    r = S.get("rosenbrock")
    a = optlab.run(r, O.make("adam", lr=0.02, weight_decay=0.1, decoupled_weight_decay=True), [-1.5, 2.0], 100)
    w = optlab.run(r, O.make("adamw", lr=0.02, weight_decay=0.1), [-1.5, 2.0], 100)
    np.testing.assert_array_equal(a.xs, w.xs)


def test_sgd_without_momentum_is_plain_gd():
    r = S.get("rosenbrock")
    tr = optlab.run(r, O.make("sgd", lr=1e-3), [-1.5, 2.0], 50)
    x = np.array([-1.5, 2.0])
    for _ in range(50):
        x = x - 1e-3 * r.grad(x)
    np.testing.assert_array_equal(tr.xs[-1], x)


def test_rmsprop_is_adam_without_first_moment_or_bias_correction_at_large_t():
    # RMSprop(α) and Adam(β₁=0, β₂=α) differ only by Adam's √(1−β₂ᵗ) factor, which → 1.
    q = S.get("quadratic", condition=4)
    x = np.array([[1.0, 1.0]])
    rms, adm = O.make("rmsprop", lr=1e-3, alpha=0.9), O.make("adam", lr=1e-3, betas=(0.0, 0.9))
    s1, s2 = rms.init(x), adm.init(x)
    for _ in range(400):
        g = q.grad(x)
        u1, s1 = rms.update(g, s1, x)
        u2, s2 = adm.update(g, s2, x)
    np.testing.assert_allclose(u1, u2, rtol=1e-8)


def test_amsgrad_never_increases_the_denominator_history():
    r = S.get("rosenbrock")
    tr = optlab.run(r, O.make("adam", lr=0.05, amsgrad=True), [-1.5, 2.0], 100)
    vmax = tr.states["max_exp_avg_sq"]
    assert np.all(np.diff(vmax, axis=0) >= 0)
    assert np.all(vmax >= tr.states["exp_avg_sq"] - 1e-300)


def test_first_adam_step_moves_lr_along_sign_of_gradient():
    # m̂₁ = g, v̂₁ = g² ⇒ the first step is −γ·g/(|g| + ε) ≈ −γ·sign(g)
    r = S.get("rosenbrock")
    tr = optlab.run(r, O.make("adam", lr=0.1), [-1.5, 2.0], 1)
    g = r.grad(np.array([-1.5, 2.0]))
    np.testing.assert_allclose(tr.xs[1] - tr.xs[0], -0.1 * np.sign(g), rtol=1e-8)


def test_two_adam_steps_by_hand():
    g1, g2 = np.array([0.3, -2.0]), np.array([-0.1, 4.0])
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    opt = O.make("adam", lr=lr)
    x = np.zeros((1, 2))
    st = opt.init(x)
    u1, st = opt.update(g1[None], st, x)
    u2, st = opt.update(g2[None], st, x + u1)
    m1, v1 = (1 - b1) * g1, (1 - b2) * g1 ** 2
    m2, v2 = b1 * m1 + (1 - b1) * g2, b2 * v1 + (1 - b2) * g2 ** 2
    step2 = -lr * (m2 / (1 - b1 ** 2)) / (np.sqrt(v2 / (1 - b2 ** 2)) + eps)
    np.testing.assert_allclose(u2[0], step2, rtol=1e-12)


def test_nadam_first_step_by_hand():
    g = np.array([2.0, -0.5])
    lr, b1, b2, eps, psi = 2e-3, 0.9, 0.999, 1e-8, 4e-3
    opt = O.make("nadam")
    x = np.zeros((1, 2))
    u, st = opt.update(g[None], opt.init(x), x)
    mu1 = b1 * (1 - 0.5 * 0.96 ** (1 * psi))
    mu2 = b1 * (1 - 0.5 * 0.96 ** (2 * psi))
    m, v = (1 - b1) * g, (1 - b2) * g ** 2
    denom = np.sqrt(v / (1 - b2)) + eps
    expected = -lr * (1 - mu1) / (1 - mu1) * g / denom - lr * mu2 / (1 - mu1 * mu2) * m / denom
    np.testing.assert_allclose(u[0], expected, rtol=1e-12)


def test_radam_warmup_steps_are_plain_momentum():
    g = np.array([1.0, -3.0])
    opt = O.make("radam", lr=0.1)
    x = np.zeros((1, 2))
    u, st = opt.update(g[None], opt.init(x), x)
    np.testing.assert_allclose(u[0], -0.1 * g, rtol=1e-12)  # m̂₁ = g, ρ₁ ≤ 5


def test_adagrad_lr_decay_and_accumulator():
    opt = O.make("adagrad", lr=0.5, lr_decay=0.1, initial_accumulator_value=0.25)
    x = np.zeros((1, 1))
    st = opt.init(x)
    g1, g2 = 2.0, -1.0
    u1, st = opt.update(np.array([[g1]]), st, x)
    u2, st = opt.update(np.array([[g2]]), st, x)
    assert u1[0, 0] == pytest.approx(-0.5 * g1 / (math.sqrt(0.25 + 4) + 1e-10), rel=1e-14)
    assert u2[0, 0] == pytest.approx(-(0.5 / 1.1) * g2 / (math.sqrt(0.25 + 4 + 1) + 1e-10), rel=1e-14)


def test_lr_schedule_scales_the_step():
    q = S.get("quadratic", condition=1)
    tr = optlab.run(q, O.make("sgd", lr=0.1), [1.0, 0.0], 4, schedule=optlab.schedules.get("step", step_size=2, gamma=0.5))
    np.testing.assert_allclose(tr.lrs, [0.1, 0.1, 0.05, 0.05])
    np.testing.assert_allclose(tr.xs[:, 0], [1.0, 0.9, 0.81, 0.81 * 0.95, 0.81 * 0.95 ** 2])


def test_maximize_climbs():
    q = S.get("quadratic", condition=2)
    tr = optlab.run(q, O.make("adam", lr=0.1, maximize=True), [0.5, 0.5], 10)
    assert tr.losses[-1] > tr.losses[0]


# ----------------------------------------------------------------------------------------------
# bad arguments: ValueError naming the bad value and the allowed ones
def test_unknown_optimizer_lists_allowed():
    with pytest.raises(ValueError) as e:
        O.make("adamm")
    assert "adamm" in str(e.value) and "adam" in str(e.value) and "sgd" in str(e.value)


@pytest.mark.parametrize("name,kw,word", [
    ("sgd", dict(lr=-0.1), "-0.1"),
    ("adam", dict(lr=-1), "-1"),
    ("sgd", dict(nesterov=True), "momentum"),
    ("sgd", dict(nesterov=True, momentum=0.9, dampening=0.1), "dampening"),
    ("adam", dict(betas=(1.0, 0.999)), "1.0"),
    ("adam", dict(betas=(0.9,)), "betas"),
    ("rmsprop", dict(alpha=-0.5), "-0.5"),
    ("adam", dict(eps=float("nan")), "nan"),
    ("adam", dict(momentum=0.9), "momentum"),
    ("adagrad", dict(lr="fast"), "fast"),
    ("sgd", dict(lr=np.array([0.1, -0.1])), "learning rate"),
])
def test_bad_hyperparameters_raise_value_error(name, kw, word):
    with pytest.raises(ValueError) as e:
        O.make(name, **kw)
    assert word in str(e.value)


def test_second_order_needs_problem():
    opt = O.make("newton")
    x = np.zeros((1, 2))
    with pytest.raises(ValueError, match="problem"):
        opt.update(np.ones((1, 2)), opt.init(x), x)


def test_torch_spellings_are_accepted():
    # class names as in torch.optim, and implementation-only flags that do not change the numbers
    a = O.make("AdamW", lr=0.01, foreach=False, fused=None, capturable=False, differentiable=False)
    b = O.make("adamw", lr=0.01)
    assert a.hyper == b.hyper and a.name == "adamw"
    assert O.make("RMSprop").name == "rmsprop" and O.make("SGD", lr=0.1).hyper["lr"] == 0.1
    with pytest.raises(ValueError, match="foreach"):
        O.make("adam", foreach="yes")
