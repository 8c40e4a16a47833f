"""Hostile numbers: every optimizer at learning rates from 1e-6 to 1e3 on every surface.

Nothing raises; every run ends finite or is flagged diverged, with NaN positions from that step on.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import optlab
from optlab import optimizers as O
from optlab import surfaces as S

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
