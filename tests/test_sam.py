"""SAM as an optimizer transform: against a hand-written loop, ρ = 0 == its base, batching over ρ."""
import numpy as np
import pytest

import optlab
from optlab import landscapes as L
from optlab.optimizers import make, names, wrappers


@pytest.fixture(scope="module")
def rosen():
    return optlab.surfaces.get("rosenbrock")


def _sam_loop(surface, x0, steps, rho, lr, base="sgd", momentum=0.0, betas=(0.9, 0.999), eps=1e-8):
    """SAM written out (davda54/sam's first_step/second_step around a plain SGD or Adam step)."""
    x = np.array(x0, dtype=float)
    buf = m = v = None
    for t in range(1, steps + 1):
        g = surface.grad(x)
        e = rho * g / (np.linalg.norm(g) + 1e-12)
        g = surface.grad(x + e)
        if base == "sgd":
            buf = g.copy() if buf is None else momentum * buf + g
            x = x - lr * (buf if momentum else g)
        else:
            b1, b2 = betas
            m = (1 - b1) * g if m is None else b1 * m + (1 - b1) * g
            v = (1 - b2) * g * g if v is None else b2 * v + (1 - b2) * g * g
            mhat, vhat = m / (1 - b1 ** t), v / (1 - b2 ** t)
            x = x - lr * mhat / (np.sqrt(vhat) + eps)
    return x


@pytest.mark.parametrize("base,kw", [("sgd", dict(lr=1e-3)), ("sgd", dict(lr=1e-3, momentum=0.9)),
                                     ("adam", dict(lr=0.02))])
def test_sam_matches_a_hand_written_loop(rosen, base, kw):
    tr = optlab.run(rosen, make("sam", base=base, rho=0.05, **kw), [-1.5, 2.0], 150)
    ref = _sam_loop(rosen, [-1.5, 2.0], 150, 0.05, kw["lr"], base, kw.get("momentum", 0.0))
    assert np.allclose(tr.xs[-1], ref, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("base", ["sgd", "adam", "rmsprop"])
def test_rho_zero_is_the_base_optimizer(rosen, base):
    a = optlab.run(rosen, make("sam", base=base, rho=0.0, lr=1e-3), [-1.5, 2.0], 100)
    b = optlab.run(rosen, make(base, lr=1e-3), [-1.5, 2.0], 100)
    assert np.array_equal(a.xs, b.xs)


def test_rho_per_run_equals_separate_runs(rosen):
    rhos = np.array([0.0, 0.02, 0.1])
    batch = optlab.run(rosen, make("sam", base="sgd", rho=rhos, lr=1e-3, momentum=0.9), [-1.5, 2.0], 80)
    for i, r in enumerate(rhos):
        one = optlab.run(rosen, make("sam", base="sgd", rho=float(r), lr=1e-3, momentum=0.9), [-1.5, 2.0], 80)
        assert np.allclose(batch.xs[:, i], one.xs, rtol=1e-12, atol=1e-14)


def test_sam_documents_itself_and_stays_out_of_names():
    o = make("sam", base="adam", rho=0.1, lr=0.01)
    assert "sam" in wrappers() and "sam" not in names()
    assert o.info.hyper[0].name == "rho" and o.hyper["rho"] == 0.1 and o.hyper["lr"] == 0.01
    assert r"\rho" in o.info.latex and "Foret" in o.info.reference
    assert o.info.title == "SAM (Adam)"


def test_sam_errors():
    with pytest.raises(ValueError, match="objective"):
        o = make("sam", base="sgd", lr=0.1)
        st = o.init(np.zeros((1, 2)))
        o.update(np.ones((1, 2)), st, np.zeros((1, 2)))
    for bad in (dict(base="newton"), dict(base="sgd", rho=-1.0), dict(base="sgd", maximize=True),
                dict(base="sgd", rho="big")):
        with pytest.raises(ValueError):
            make("sam", **bad)


def test_sam_ends_in_the_sharp_valley_from_fewer_starts_as_rho_grows():
    s = L.two_valleys()
    assert s.value(s.minima[0]) < s.value(s.minima[1])          # the sharp minimum is deeper …
    sh = L.sharpness(s, s.minima, 0.3)
    assert sh[0] > 5 * sh[1]                                     # … and far sharper
    share = []
    for rho in (0.0, 0.2, 0.5):
        b = optlab.basins(s, make("sam", base="sgd", lr=0.02, rho=rho), n=20, steps=1500, radius=0.1)
        fx = b.final_x.reshape(-1, 2)
        share.append(np.mean(np.linalg.norm(fx - s.minima[0], axis=1) < 0.1))
    assert share[0] > 0.05 and share[0] > share[1] > share[2] and share[2] == 0
