"""The "Challenges ahead" studies: each verdict is chosen by the numbers it talks about, and each study
holds together with the engine call it wraps."""
import numpy as np
import pytest

from optlab import distributed as D
from optlab import multitask as MT
from optlab import problems as PR
from optlab.chapters import challenges_ahead as C


def test_every_article_challenge_has_a_section():
    assert set(C.ARTICLE_CHALLENGES.values()) == set(C.SECTIONS)
    assert len(C.ARTICLE_CHALLENGES) == 5


def test_doubling_regimes():
    B = [1, 2, 4, 8, 16]
    S = [800, 400, 260, 250, 0]
    assert C.doubling_regimes(B, S) == ["perfect", "diminishing", "none", "unknown"]
    assert C.doubling_regimes([1, 4], [100, 25]) == ["perfect"]      # ×4 batch, ÷4 steps


def test_scaling_study():
    st = C.scaling_study(seeds=3)
    r = st.result
    assert np.all(r.steps > 0)
    assert len(st.regimes) == len(r.batch_sizes) - 1
    assert st.regimes == C.doubling_regimes(r.batch_sizes, r.steps)
    assert 1 < st.bend < r.batch_sizes[-1]
    # the exact noise scale, at the point where full-batch GD reaches the same target
    p = PR.problem("diabetes")
    assert st.noise.b_simple == pytest.approx(D.noise_scale(p, D.point_at_loss(p, r.target)).b_simple)
    assert st.noise.b_simple > 1


def test_scaling_study_clamps_seeds():
    st = C.scaling_study(seeds=99, batch_sizes=(8, 64))
    assert st.result.reached.shape[-1] == C.MAX_SEEDS and st.notes


@pytest.mark.parametrize("kw,verdict", [({}, "spike"),
                                        (dict(dataset="diabetes", base_lr=0.02, batch=512), "diverged"),
                                        (dict(base_lr=0.01, batch=16), "no_difference")])
def test_warmup_verdicts(kw, verdict):
    st = C.warmup_study(**kw)
    assert st.verdict == verdict
    l0 = st.losses[0, 0]
    if verdict == "spike":
        assert st.peak_no_warmup > 1.02 * l0 >= st.peak_warmup
    if verdict == "diverged":
        assert np.isnan(st.losses[-1, 1])
        # on the quadratic the scaled rate is beyond 2/λ_max: warm-up cannot save it either
        assert st.lrs[-1, 1] > st.lr_limit


def test_stale_study_matches_the_closed_form():
    st = C.stale_study(lr=0.3, curvature=1.0, tau_max=10, steps=400)
    assert np.array_equal(st.stable, 0.3 < D.stale_lr_limit(st.taus))
    assert np.array_equal(st.stable, st.radius < 1)
    end = np.abs(st.xs[-1])
    assert np.all(end[st.stable] < 0.05)
    assert np.all(~np.isfinite(end[~st.stable]) | (end[~st.stable] > 1))


def test_federated_study_verdicts():
    diab = C.federated_study()                                   # squared error: client drift
    assert diab.verdict == "drift"
    assert diab.non_iid.loss[-1, -1] > diab.non_iid.loss[0, -1]
    assert diab.iid.loss[-1, -1] < diab.iid.loss[0, -1]
    bc = C.federated_study(dataset="breast_cancer", lr=0.5)
    assert bc.verdict == "helps"


def test_tasks_study_and_conflict_view():
    st = C.tasks_study(n_tasks=2, method="mgda", steps=400)
    assert st.ends_pareto
    assert MT.pareto_stationarity(st.tasks, st.pareto).max() < 1e-12
    v = C.conflict_view(2, (0.0, 0.2))                           # between the minima: the tasks disagree
    assert v.conflict and v.cos[0, 1] < 0
    assert abs(v.projected[0] @ v.grads[1]) < 1e-12
    far = C.conflict_view(2, (4.0, 4.0))                         # far away both point the same way
    assert not far.conflict and np.allclose(far.projected, far.grads)


def test_privacy_study():
    st = C.privacy_study(noise_multipliers=(0.0, 1.0, 8.0), steps=120, seeds=2)
    assert np.isinf(st.sweep.epsilon[0]) and st.sweep.epsilon[1] > st.sweep.epsilon[2]
    assert st.norms_start.shape == st.norms_end.shape == (569,)
    assert st.clipped_share_end == pytest.approx(np.mean(st.norms_end > 1.0))
    assert st.norms_end.mean() < st.norms_start.mean()          # trained: most examples fit, small gradients


def test_escape_study():
    st = C.escape_study()
    assert st.winner in ("noise", "restarts", "sam")
    assert st.best["plain"][-1] > st.best["noise"][-1]
    for v in st.best.values():
        assert np.all(np.diff(v) <= 0)


def test_basins_and_slice_studies():
    b = C.basins_study(n=10, steps=200)
    assert set(b) == {"SGD", "SGD + momentum", "Adam"}
    sl = C.slice_study(n=9)
    mid = sl.slice.loss[4, 4]
    assert mid == pytest.approx(sl.history.final_train_loss, rel=1e-12)
    assert sl.n_params == sl.slice.directions.shape[1]


def test_stopped_runs_name_the_diverged_runs():
    st = C.warmup_study(dataset="diabetes", base_lr=0.02, batch=512)
    stopped = dict(C.stopped_runs(st))
    assert set(stopped) == {"scaled", "warm"}
    for name, k in stopped.items():
        col = {"scaled": 1, "warm": 2}[name]
        assert np.isfinite(st.losses[:k, col]).all() and not np.isfinite(st.losses[k, col])
    assert C.stopped_runs(C.warmup_study()) == []
