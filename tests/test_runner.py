"""optlab.runner: shapes, divergence flags, stochastic gradients, clipping, properties, and hostile
numbers (every optimizer at learning rates from 1e-6 to 1e3 on every surface: nothing raises;
every run ends finite or is flagged diverged, with NaN positions from that step on)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import optlab
from optlab import optimizers as O
from optlab import surfaces as S


def test_public_api_shapes():
    s = optlab.surfaces.get("rosenbrock")
    opt = optlab.optimizers.make("adam", lr=0.05)
    tr = optlab.run(s, opt, x0=[-1.5, 2.0], steps=200)
    assert tr.xs.shape == (201, 2) and tr.losses.shape == (201,) and tr.grad_norms.shape == (201,)
    assert tr.updates.shape == (200, 2) and tr.grads.shape == (200, 2) and tr.lrs.shape == (200,)
    assert tr.states["exp_avg"].shape == (200, 2)
    X0 = np.array([[-1.5, 2.0], [1.5, 2.0], [0.0, 0.0]])
    tr = optlab.run(s, opt, x0=X0, steps=200)
    assert tr.xs.shape == (201, 3, 2) and tr.losses.shape == (201, 3) and tr.diverged_at.shape == (3,)
    np.testing.assert_allclose(tr.losses, s.value(tr.xs))
    np.testing.assert_allclose(tr.grad_norms, np.linalg.norm(s.grad(tr.xs), axis=-1))


def test_import_is_light():
    import subprocess
    import sys
    code = "import sys, optlab; bad=[m for m in ('streamlit','plotly','sympy','torch') if m in sys.modules]; print(bad)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_diverging_run_is_cut_and_flagged_while_batch_goes_on():
    r = S.get("rosenbrock")
    lrs = np.array([1e-3, 5e-2, 1e-4])  # the middle one blows up
    tr = optlab.run(r, O.make("sgd", lr=lrs), [-1.5, 2.0], 100)
    k = tr.diverged_at[1]
    assert k > 0 and tr.diverged_at[0] == -1 and tr.diverged_at[2] == -1
    assert np.all(np.isnan(tr.xs[k:, 1])) and np.all(np.isfinite(tr.xs[:k, 1]))
    assert np.all(np.isnan(tr.losses[k:, 1]))
    assert np.all(np.isfinite(tr.xs[:, [0, 2]]))
    assert tr.diverged_reason[1]
    single = optlab.run(r, O.make("sgd", lr=1e-3), [-1.5, 2.0], 100)
    np.testing.assert_array_equal(tr.xs[:, 0], single.xs)


def test_single_divergence_message_names_optimizer_and_step():
    tr = optlab.run(S.get("rosenbrock"), O.make("sgd", lr=0.05), [-1.5, 2.0], 100)
    assert tr.diverged and tr.diverged_at > 0
    assert f"step {tr.diverged_at}" in tr.message and "SGD" in tr.message
    assert np.isnan(tr.final_loss)


def test_undefined_surface_is_flagged_not_raised():
    class LogBowl:  # log(x): undefined left of 0
        name = "log"
        extent = 3.0

        def value_and_grad(self, p):
            with np.errstate(all="ignore"):
                return np.log(p[:, 0]) + p[:, 1] ** 2, np.stack([1 / p[:, 0], 2 * p[:, 1]], -1)

    tr = optlab.run(LogBowl(), O.make("sgd", lr=1.0), [0.5, 1.0], 20)
    assert tr.diverged_at > 0


def test_tol_freezes_converged_runs_and_shapes_stay_full():
    q = S.get("quadratic", condition=2)
    tr = optlab.run(q, O.make("sgd", lr=0.3), [[1.0, 1.0], [2.0, 2.0]], 300, tol=1e-6)
    assert tr.xs.shape == (301, 2, 2)
    assert np.all(tr.converged_at > 0)
    k = tr.converged_at[0]
    np.testing.assert_array_equal(tr.xs[k:, 0], np.broadcast_to(tr.xs[k, 0], tr.xs[k:, 0].shape))


def test_noise_is_seeded_and_changes_the_path():
    q = S.get("quadratic", condition=5)
    a = optlab.run(q, O.make("sgd", lr=0.05), [2.0, 2.0], 50, noise=0.5, seed=1)
    b = optlab.run(q, O.make("sgd", lr=0.05), [2.0, 2.0], 50, noise=0.5, seed=1)
    c = optlab.run(q, O.make("sgd", lr=0.05), [2.0, 2.0], 50, noise=0.5, seed=2)
    d = optlab.run(q, O.make("sgd", lr=0.05), [2.0, 2.0], 50)
    np.testing.assert_array_equal(a.xs, b.xs)
    assert not np.allclose(a.xs, c.xs) and not np.allclose(a.xs, d.xs)
    # the recorded loss is the exact one, the noisy gradient is what the optimizer saw
    np.testing.assert_allclose(a.losses, q.value(a.xs))
    assert not np.allclose(a.grads, q.grad(a.xs[:-1]))


def test_clip_by_norm_matches_torch_formula():
    g = np.array([[3.0, 4.0], [0.3, 0.4]])
    c = optlab.clip_grads(g, clip_norm=1.0)
    np.testing.assert_allclose(c[0], g[0] * (1.0 / (5.0 + 1e-6)))
    np.testing.assert_array_equal(c[1], g[1])
    np.testing.assert_array_equal(optlab.clip_grads(g, clip_value=0.35), [[0.35, 0.35], [0.3, 0.35]])


def test_clipping_limits_every_step():
    r = S.get("rosenbrock")
    tr = optlab.run(r, O.make("sgd", lr=0.01), [-1.5, 2.0], 50, clip_norm=2.0)
    assert np.all(np.linalg.norm(tr.grads, axis=-1) <= 2.0 + 1e-9)
    assert np.all(np.linalg.norm(tr.updates, axis=-1) <= 0.02 + 1e-12)


@pytest.mark.parametrize("kw,word", [
    (dict(steps=-1), "steps"), (dict(steps=2.5), "steps"), (dict(x0=[np.nan, 0]), "x0"),
    (dict(x0=[[[1.0, 2.0]]]), "x0"), (dict(noise=-1), "noise"), (dict(clip_norm=0), "clip_norm"),
    (dict(record="everything"), "record"), (dict(batch_size=4), "batch_size"),
])
def test_bad_run_arguments(kw, word):
    args = dict(x0=[0.0, 0.0], steps=10)
    args.update(kw)
    with pytest.raises(ValueError, match=word):
        optlab.run(S.get("rosenbrock"), "sgd", **args)


def test_record_modes_agree():
    r = S.get("rosenbrock")
    full = optlab.run(r, O.make("adam", lr=0.05), [-1.5, 2.0], 80)
    path = optlab.run(r, O.make("adam", lr=0.05), [-1.5, 2.0], 80, record="path")
    summ = optlab.run(r, O.make("adam", lr=0.05), [-1.5, 2.0], 80, record="summary")
    np.testing.assert_array_equal(full.xs, path.xs)
    np.testing.assert_array_equal(full.xs[-1], summ.final_x)
    assert summ.xs is None and summ.final_loss == full.losses[-1]


def test_state_trace_matches_adam_formula():
    r = S.get("rosenbrock")
    tr = optlab.run(r, O.make("adam", lr=0.05), [-1.5, 2.0], 10)
    st = tr.states
    t = np.arange(1, 11)[:, None]
    np.testing.assert_allclose(st["m_hat"], st["exp_avg"] / (1 - 0.9 ** t), rtol=1e-12)
    np.testing.assert_allclose(st["v_hat"], st["exp_avg_sq"] / (1 - 0.999 ** t), rtol=1e-12)
    np.testing.assert_allclose(tr.updates, -0.05 * st["m_hat"] / (np.sqrt(st["v_hat"]) + 1e-8), rtol=1e-10)


# ----------------------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(O.names()),
       x=st.floats(-2, 2), y=st.floats(-1, 3),
       log_lr=st.floats(-6, 3),
       surface=st.sampled_from(["rosenbrock", "quadratic"]))
def test_property_finite_in_finite_or_flagged_out(name, x, y, log_lr, surface):
    s = S.get(surface)
    tr = optlab.run(s, O.make(name, lr=10 ** log_lr), [x, y], 40)
    ok = np.isfinite(tr.xs).all(axis=-1)
    if tr.diverged_at == -1:
        assert ok.all()
    else:
        assert ok[: tr.diverged_at].all() and not ok[tr.diverged_at:].any()


def test_blocked_summary_runs_equal_one_block(monkeypatch):
    from optlab.optimizers import loop
    r = S.get("rosenbrock")
    X = np.random.default_rng(3).uniform([-2, -1], [2, 3], size=(700, 2))
    lrs = np.logspace(-3, 3, 700)  # NAdam on Rosenbrock: the large ones diverge
    # tol keeps the run in the general loop (the fused loop's blocks: test_fused.py)
    monkeypatch.setattr(loop, "CHUNK", 128)
    a = optlab.run(r, O.make("nadam", lr=lrs), X, 30, record="summary", tol=1e-300)
    monkeypatch.setattr(loop, "CHUNK", 10 ** 9)
    b = optlab.run(r, O.make("nadam", lr=lrs), X, 30, record="summary", tol=1e-300)
    np.testing.assert_array_equal(a.final_x, b.final_x)
    np.testing.assert_array_equal(a.diverged_at, b.diverged_at)
    assert a.diverged.any() and not a.diverged.all()


# ----------------------------------------------------------------------------------------------
# Hostile numbers
# ----------------------------------------------------------------------------------------------
LRS = np.logspace(-6, 3, 10)


@pytest.mark.parametrize("surface", S.names())
@pytest.mark.parametrize("name", O.names())
def test_every_optimizer_every_surface_every_lr(surface, name):
    s = S.get(surface)
    x0 = s.starts[0] if s.starts else (0.5, 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning leaks out of the runner either
        tr = optlab.run(s, O.make(name, lr=LRS), x0, 40)
    assert tr.xs.shape == (41, len(LRS), 2)
    for i in range(len(LRS)):
        k = tr.diverged_at[i]
        finite = np.isfinite(tr.xs[:, i]).all(axis=-1)
        if k < 0:
            assert finite.all(), f"{name} lr={LRS[i]:g} on {surface}: non-finite but not flagged"
            assert np.isfinite(tr.losses[:, i]).all()
        else:
            assert finite[:k].all() and not finite[k:].any()
            assert tr.diverged_reason[i]


def test_batch_of_mixed_fates_keeps_survivors_exact():
    s = S.get("beale")
    lrs = np.array([1e-4, 1e3, 1e-3])
    tr = optlab.run(s, O.make("adam", lr=lrs), [1.0, 1.0], 60)
    for i in (0, 2):
        solo = optlab.run(s, O.make("adam", lr=float(lrs[i])), [1.0, 1.0], 60)
        np.testing.assert_array_equal(tr.xs[:, i], solo.xs)


@pytest.mark.parametrize("x0", [[1e300, 1e300], [-1e308, 0.0], [1e-320, -1e-320]])
def test_extreme_starts_do_not_raise(x0):
    tr = optlab.run(S.get("rosenbrock"), "adam", x0, 5)
    assert tr.diverged_at >= 0 or np.isfinite(tr.xs).all()
