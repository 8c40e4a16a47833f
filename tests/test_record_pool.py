"""The pool of large path records (:class:`optlab.optimizers.fused.RecordPool`): a buffer goes back
to the pool only when no array uses it any more, two live results never share memory, the idle
bytes stay under the limit, and threads that take and drop records at once never get the same one.
(That the numbers are right with reused buffers is ``tests/test_fused.py``'s job: there every path's
records come from the pool, filled with a stale run's numbers.)"""
from __future__ import annotations

import pickle
import threading

import numpy as np

import optlab
from optlab import optimizers as O
from optlab.optimizers import fused

N = 1 << 10


def small_pool(**kw):
    return fused.RecordPool(**{"min_floats": N, "limit": 64 * N * 8, **kw})


def addr(a) -> int:
    return a.__array_interface__["data"][0]


def test_a_buffer_comes_back_only_when_the_last_view_of_it_is_gone():
    pool = small_pool()
    a = pool.take(N)
    assert a.shape == (N,) and a.dtype == np.float64 and addr(a) % 64 == 0 and a.flags.writeable
    where = addr(a)
    views = [a[4:].reshape(-1, 4).T, np.broadcast_to(a[:8], (4, 8)), a[::2]]
    del a
    for i in range(len(views)):
        assert pool.idle_bytes() == 0, "given back while a view still uses it"
        b = pool.take(N)
        assert not np.shares_memory(b, views[-1])
        del b  # a fresh one, given back now: the pool holds it
        pool.clear()
        views.pop()
    assert pool.idle_bytes() >= N * 8
    again = pool.take(N)
    assert addr(again) == where


def test_live_results_never_share_memory():
    pool = small_pool()
    dropped = [pool.take(N) for _ in range(3)]
    del dropped  # three idle buffers
    held = [pool.take(N) for _ in range(5)]
    for i, a in enumerate(held):
        a.fill(i)
    for i, a in enumerate(held):
        assert np.all(a == i)
        assert not any(np.shares_memory(a, b) for b in held[i + 1:])


def test_small_requests_bypass_the_pool_and_idle_memory_stays_under_the_limit():
    pool = small_pool(limit=3 * N * 8 + 1024)
    tiny = pool.take(N - 1)
    del tiny
    assert pool.idle_bytes() == 0
    taken = [pool.take(N) for _ in range(5)]
    del taken
    assert 0 < pool.idle_bytes() <= 3 * N * 8 + 1024
    big = pool.take(4 * N)  # an idle buffer less than half this size is not used
    assert pool.idle_bytes() > 0
    del big
    pool.clear()
    assert pool.idle_bytes() == 0


def test_a_request_takes_an_idle_buffer_of_up_to_twice_its_size_not_more():
    pool = small_pool()
    b = pool.take(3 * N)
    where = addr(b)
    del b
    assert addr(pool.take(4 * N)) != where  # bigger than the buffer: a new one
    c = pool.take(2 * N)
    assert addr(c) == where  # 2N within 3N: reused
    del c
    assert addr(pool.take(N)) != where  # the 3N buffer is more than twice N: not used for N


def test_threads_taking_and_dropping_at_once_never_share_a_buffer():
    pool = small_pool(limit=8 * N * 8)
    errors = []

    def work(i):
        try:
            for j in range(300):
                a = pool.take(N + (j % 3) * 100)
                a.fill(i)
                b = pool.take(N)
                b.fill(-i)
                if not (np.all(a == i) and np.all(b == -i)):
                    errors.append((i, j))
                del a, b
        except Exception as e:  # noqa: BLE001 — reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(1, 7)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert pool.idle_bytes() <= 8 * N * 8


def test_a_large_path_reuses_the_records_of_a_dropped_one_and_not_of_a_kept_one(monkeypatch):
    pool = fused.RecordPool(min_floats=1 << 12)
    monkeypatch.setattr(fused, "RECORDS", pool)
    s = optlab.surfaces.get("rosenbrock")
    X = np.random.default_rng(0).uniform([-2, -1], [2, 3], size=(500, 2))
    opt = O.make("adam", lr=0.01)
    kept = optlab.run(s, opt, X, 30, record="path")
    ref = [np.array(a) for a in (kept.xs, kept.losses, kept.grad_norms)]
    other = optlab.run(s, opt, X[::-1].copy(), 30, record="path")
    assert not np.shares_memory(kept.xs, other.xs) and not np.shares_memory(kept.losses, other.losses)
    where = addr(other.losses)
    del other
    again = optlab.run(s, opt, X, 30, record="path")
    assert addr(again.losses) == where  # the dropped run's buffer, already mapped
    for a, b in zip(ref, (again.xs, again.losses, again.grad_norms)):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(ref, (kept.xs, kept.losses, kept.grad_norms)):
        np.testing.assert_array_equal(a, b)  # untouched by the runs after it
    back = pickle.loads(pickle.dumps(kept))  # how st.cache_data stores a run
    np.testing.assert_array_equal(back.xs, kept.xs)
