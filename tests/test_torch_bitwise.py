"""optlab reproduces torch.optim's order of floating-point operations to the last bit.

The fixture's bitwise cases (``"grad": "optlab"``, made by tools/make_torch_reference.py) are
torch.optim's trajectories fed optlab's own gradients, with torch's portable CPU kernels and a
correctly rounded sqrt: what torch.optim's code computes in IEEE arithmetic. Any difference in the
order of operations shows up here as a failed ``==`` (a tolerance would hide it: one ulp at step 83
grows to 1e-10 by step 188 on Rosenbrock). The general loop, the fused summary loop and a batch of
runs must all give these numbers.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import optlab
from optlab import optimizers as O
from optlab import surfaces as S

FIXTURE = Path(__file__).parent / "fixtures" / "torch_reference.json"
DOC = json.loads(FIXTURE.read_text())
EXACT = [c for c in DOC["cases"] if c.get("grad") == "optlab"]


class _Negated:
    """−f for torch's maximize=True cases (their gradient is exactly −∇f)."""

    def __init__(self, s):
        self.s, self.name, self.extent = s, "neg-" + s.name, s.extent

    def value_and_grad(self, p):
        f, g = self.s.value_and_grad(p)
        return -f, -g


def _setup(case):
    surface = S.get(case["surface"], **case["surface_params"])
    if case.get("negate"):
        surface = _Negated(surface)
    h = dict(case["hyper"])
    if "betas" in h:
        h["betas"] = tuple(h["betas"])
    return surface, O.make(case["optimizer"], **h)


def test_fixture_is_pinned_to_torchs_portable_kernels():
    # AVX2/AVX-512 kernels fuse a + s·b into one FMA: a different (CPU-dependent) reference
    assert DOC["cpu_capability"] == "DEFAULT"
    assert len(EXACT) >= 15
    ids = {c["id"] for c in EXACT}
    assert "rmsprop-bitwise-centered-momentum-wd-rosenbrock" in ids  # issue 13: one ulp at step 83
    assert {c["optimizer"] for c in EXACT} >= set(O.FIRST_ORDER)


@pytest.mark.parametrize("case", EXACT, ids=[c["id"] for c in EXACT])
def test_trajectory_equals_torch_bit_for_bit(case):
    surface, opt = _setup(case)
    tr = optlab.run(surface, opt, case["x0"], case["steps"], record="path", bound=1e12)
    np.testing.assert_array_equal(tr.xs, np.asarray(case["xs"]))
    np.testing.assert_array_equal(tr.losses, np.asarray(case["losses"]))


@pytest.mark.parametrize("case", EXACT, ids=[c["id"] for c in EXACT])
def test_fused_and_batched_runs_equal_torch_bit_for_bit(case):
    surface, opt = _setup(case)
    ref = np.asarray(case["xs"])[-1]
    one = optlab.run(surface, opt, case["x0"], case["steps"], record="summary", bound=1e12)
    np.testing.assert_array_equal(one.final_x, ref)
    # the same start among others: each run of a batch is computed on its own
    x0 = np.array([case["x0"], [0.5, 0.25], case["x0"]])
    batch = optlab.run(surface, opt, x0, case["steps"], record="summary", bound=1e12)
    np.testing.assert_array_equal(batch.final_x[[0, 2]], np.stack([ref, ref]))


def test_radam_rectification_uses_pow_like_torch():
    # torch computes r_t = (…) ** 0.5 on a Python float (C's pow); NumPy's ** 0.5 on an array is a
    # correctly rounded sqrt, one ulp away for β₂ = 0.98 at t = 10.
    b1, b2 = 0.9, 0.98
    opt = O.make("radam", lr=0.01, betas=(b1, b2))
    x = np.array([[0.3, -0.2]])
    st = opt.init(x)
    for t in range(1, 11):
        x, st = opt.step(np.array([[1.0, -2.0]]), st, x, want_aux=True)
    rho_inf = 2 / (1 - b2) - 1
    rho_t = rho_inf - 2 * 10 * (b2 ** 10) / (1 - b2 ** 10)
    arg = (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
    assert arg ** 0.5 != math.sqrt(arg)  # the case where the two differ
    assert float(opt.step_aux(st)["rect"][0, 0]) == arg ** 0.5
    # one value per run (a sweep over β₂) gives each run its own scalar result
    sweep = O.make("radam", lr=0.01, betas=(b1, np.array([0.98, 0.999, 0.98])))
    xs = np.zeros((3, 2))
    st = sweep.init(xs)
    for t in range(1, 11):
        xs, st = sweep.step(np.ones((3, 2)), st, xs, want_aux=True)
    assert float(sweep.step_aux(st)["rect"][0, 0]) == arg ** 0.5 == float(sweep.step_aux(st)["rect"][2, 0])
