"""The "Challenges ahead" figures: built from the chapter's studies, with the data they claim to show."""
import numpy as np
import pytest

pytest.importorskip("plotly")

from optlab.chapters import challenges_ahead as C  # noqa: E402
from optlab.figures import challenges_ahead as F  # noqa: E402
from optlab.figures import figure_size_bytes  # noqa: E402


def _small(fig, limit=400_000):
    assert figure_size_bytes(fig) < limit
    return fig


def test_scaling_figure_points_are_the_measured_ones():
    st = C.scaling_study(batch_sizes=(4, 32, 256), seeds=1)
    fig = _small(F.scaling_figure(st))
    first = fig.data[0]
    assert np.allclose(first.y, st.result.steps[st.result.steps > 0])
    assert fig.layout.xaxis.type == "log"
    assert len(fig.layout.shapes) >= 2                            # B_crit / B_noise markers on both panels


def test_warmup_and_stale_and_federated_figures():
    w = F.warmup_figure(C.warmup_study(steps=60))
    assert len(w.data) == 7
    st = C.stale_study(tau_max=4, steps=50)
    s = _small(F.stale_figure(st))
    assert np.allclose(s.data[0].y, st.limit.astype(np.float32))
    fed = C.federated_study(rounds=5)
    f = _small(F.federated_figure(fed))
    assert len(f.data) == 2 * len(fed.local_steps)


def test_tasks_figure_draws_tasks_pareto_path_and_arrows():
    st = C.tasks_study(steps=50)
    cv = C.conflict_view(2, (0.0, 0.2))
    fig = _small(F.tasks_figure(st, conflict=cv))
    names = [t.name for t in fig.data]
    assert "Pareto set" in names and "task 1" in names and "−∇L1 (PCGrad)" in names


def test_privacy_best_so_far_basins_slice_figures():
    p = _small(F.privacy_figure(C.privacy_study(noise_multipliers=(0.0, 1.0, 4.0), steps=40, seeds=1)))
    assert p.layout.xaxis.type == "log"
    esc = C.escape_study(steps=60, runs=4, n_restarts=4)
    b = _small(F.best_so_far_figure(esc))
    assert np.all(np.diff(np.asarray(b.data[0].y, dtype=float)) <= 0)
    res = C.basins_study(n=8, steps=50)
    from optlab.surfaces import get
    _small(F.basins_figure(res["Adam"], get("himmelblau")))
    sl = C.slice_study(n=7)
    fig = _small(F.slice_figure(sl))
    assert fig.data[0].type == "contour"
