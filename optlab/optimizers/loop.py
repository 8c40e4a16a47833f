r"""The fused loop: runs driven by an optimizer's fused kernel (:mod:`.fused`), no per-step objects.

:func:`optlab.run` (``optlab/runner.py``) owns the arguments, the general loop (every option, every
record mode, the optimizer's chain of transforms) and the :class:`~optlab.runner.Trajectory`; it asks
:func:`plan` whether a run can go through here instead, and then calls :func:`run_blocks`
(``record="summary"``) or :func:`run_path` (``record="path"``).  Both give the general loop's
numbers bit for bit (``tests/test_fused.py`` holds them equal over random cases):

* positions are coordinate rows ``(D, B)`` in buffers allocated once (a :class:`~.fused.Workspace`),
  the surface fills f and ∇f into rows, the kernel updates the rows in place;
* divergence is one test of two or three reductions per step; per-run work only when it fails;
* a run that diverged is parked at its start (finite) and reported as the general loop reports it
  (NaN positions, losses and gradient norms from that step on, its step and reason);
* summary runs of 65,536 runs and more go in blocks of runs over two threads; path runs go in one
  (their records are the memory traffic, and a path of a million runs is not a teaching figure);
* a path run's records are one allocation (large ones from a pool of buffers already mapped,
  :class:`.fused.RecordPool`), ``(T+1, …)`` each, filled block by block: its steps
  run in buffers that stay in cache, and each full block of steps goes into the records in three
  calls (``PATH_BLOCK``).  For more than 256 runs (or 2²⁰ run-steps), ``xs`` is the
  ``(T+1, B, D)`` view of the ``(T+1, D, B)`` rows (a transposing copy would cost a pass over the
  largest record) and ``lrs``, when the rate is one number per step or one per run, a read-only
  broadcast.

What goes to the general loop instead (:func:`plan`): ``record="full"`` (optimizer state and the
chain's m̂, v̂ … per step: the chains compute those, the kernels don't); gradient noise or
mini-batches (``noise``, ``batch_size``); clipping (``clip_norm``, ``clip_value``); ``tol`` (runs
freeze at different steps); a metered evaluation budget (``kw["budget"]``: optimizers whose cost
per step varies; a first-order run's budget is a number of steps, cut by :func:`optlab.run` before
either loop starts, so the fused loop honours it); optimizers without a kernel (Newton, BFGS); and,
for ``record="path"``,
points of D ≠ 2 coordinates: the general loop's gradient norm is ``√einsum('bi,bi->b')``, which
for two terms is ``√(g₀² + g₁²)`` on every SIMD path (two products, zeros), what this loop writes,
but for more terms sums in an order that depends on the CPU.  Also back to the general loop, when
the fused loop returns None: options a kernel does not take (per-run betas, eps, weight decay or
momentum decay in the Adam family), and starts where the surface is undefined (the general loop
reports them).
"""
from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Callable

import numpy as np

from ..i18n import bind_language, domain
from . import fused, make, names
from .base import Optimizer, batch_size_of

_, N_, ngettext = domain("optlab")

# Runs per block and threads, measured with Adam on Rosenbrock at B = 10⁶ on 2 cores (ms per step):
# one thread 24.5 (8,192 runs) / 23.8 (16,384); two threads 28.9 (8,192) / 23.2 (16,384) / 18.1 (65,536).
# Smaller blocks pay Python overhead per call and fight for the GIL; larger ones leave the caches.
CHUNK = 65536
THREADS = 2
# The fused loop allocates nothing per step and makes ~30 ufunc calls.  Two threads pay only when
# each call is long: with calls of a few µs, waking the thread that waits for the GIL costs more
# than the call (B = 10⁴: 100 µs per step on one thread, 130-140 on two).  Measured at B = 10⁶
# (ms per step, two threads): 16,384 runs per block 10.8, 32,768: 8.5, 40,960: 8.6, 65,536: 9.4.
FUSED_CHUNK = 32768
FUSED_SPLIT = 65536
# Path runs up to this many runs (and 2²⁰ run-steps) get their records in the general loop's
# layout (contiguous, writeable); larger ones get xs as a transposed view and lrs as a broadcast.
PATH_SMALL = 256
# Path runs step in blocks of steps that stay in cache (this many floats of positions, as many of
# squared gradients: 128 kB each, L2 is 2 MB a core here; from B = 8,192 a block is one step): the
# kernel reads a step's positions from one row of the block and writes the next, the surface
# writes the losses straight into their record, each step squares its gradient rows (one call),
# and a full block goes into the records in three calls: its positions, and the sum and the root
# of its squares (the gradient norms).  Against a step's own mul, add and sqrt (1.8 µs at B = 100,
# sqrt's call alone 0.8 µs), 0.6-1.2 µs a step less at B = 100-1,000.  One way for every B: with
# the records aligned, stepping straight in them (as up to B = 4,096 before) and stepping in
# buffers copied into them every step (as above) ran at the same speed at B = 1,000-10⁴.  The
# records are the only fresh memory: a small path used to step in a copy of xs made runs-first at
# the end and to keep every step's gradient rows, and glibc gave those pages back to the kernel
# after each run (in the benchmark's pattern 350 page faults a run at B = 100, 900 at B = 256, at
# 1.1-1.6 µs each; now 20-30): SGD's path/summary went from 1.5-1.6× to 1.24× at B = 100 and from
# 1.9-2.35× to 1.33× at B = 256.
PATH_BLOCK = 1 << 14

# Divergence reasons, in the language of the run (the general loop in optlab/runner.py uses these)
NONFINITE = N_("the loss became infinite or undefined (NaN)")


# where a run leaves the region it is followed in (|xᵢ| ≤ bound, 100× the window by default): said
# without the bound's number, which means nothing to a reader ("|x| ≤ 38033.4")
FAR = N_("the position ran far outside the window")
FAR_START = N_("the start lies far outside the window")


def far_reason(bound: float) -> str:
    return _(FAR)


def plan(opt: Optimizer, record: str, D: int, B: int, T: int, kw: dict) -> str | None:
    """``"summary"`` or ``"path"`` when this run can go through the fused loop, else None (the
    general loop).  ``kw`` holds :func:`optlab.run`'s options (noise, batch_size, clip_norm, …)."""
    if not opt.has_kernel or record == "full":
        return None
    if kw["noise"] != 0 or kw["batch_size"] is not None or kw["clip_norm"] is not None \
            or kw["clip_value"] is not None or kw["tol"] is not None:
        return None
    if kw.get("budget") is not None:
        return None  # a metered budget (line searches): the general loop counts every evaluation
    if record == "path" and D != 2:
        return None
    return record


# ----------------------------------------------------------------------------------------------
# Summary runs: blocks and threads
# ----------------------------------------------------------------------------------------------
def summary_out(B: int, D: int) -> dict:
    """The per-run results of a summary run, filled block by block."""
    return dict(diverged_at=np.empty(B, dtype=int), reason=None, converged_at=np.empty(B, dtype=int),
                reached_at=np.empty(B, dtype=int), final_x=np.empty((B, D)), final_f=np.empty(B),
                best=np.empty(B), steps=0, xs=None, fs=None, gns=None, lrs=None, gs=None, us=None,
                st=None, B=B, D=D)


def sliceable(opt: Optimizer) -> bool:
    """Blocks need the optimizer rebuilt per block when hyperparameters are per run; only the
    registry's optimizers can be rebuilt from their hyperparameters."""
    return batch_size_of(opt.hyper) is None or opt.name in names()


def slice_optimizer(opt: Optimizer, sl: slice, B: int) -> Optimizer:
    """The same optimizer restricted to runs ``sl`` (per-run hyperparameters sliced)."""
    if batch_size_of(opt.hyper) is None:
        return opt

    def cut(v):
        if isinstance(v, tuple):
            return tuple(cut(x) for x in v)
        return v[sl, 0] if isinstance(v, np.ndarray) and v.shape[0] == B else v

    return make(opt.name, **{k: cut(v) for k, v in opt.hyper.items()})


def run_blocks(surface, opt, X, T, fusable: bool, kw: dict, general: Callable[..., dict]) -> dict:
    """Summary runs in independent blocks of runs: each block goes through all steps while its
    arrays stay in cache, and the blocks are shared by two threads (NumPy releases the GIL inside
    ufuncs); in the fused loop each thread reuses one workspace for all its blocks, and every
    block writes its results straight into the batch's arrays.  ``general(surface, opt, X, T,
    **kw)`` is the general loop, for blocks the fused loop does not take (``fusable`` False, or
    :func:`run_fused` returned None)."""
    B, D = X.shape
    if fusable:
        nb = 1 if B < FUSED_SPLIT else max(THREADS, -(-B // FUSED_CHUNK))
    else:
        nb = 1 if B < 2 * CHUNK else -(-B // CHUNK)
    size = -(-B // nb)
    blocks = [slice(i, min(i + size, B)) for i in range(0, B, size)]
    out = summary_out(B, D)
    reasons, stops, steps = {}, {}, []

    def one(sl, ws):
        o = slice_optimizer(opt, sl, B) if len(blocks) > 1 else opt
        part = {k: out[k][sl] for k in ("diverged_at", "reached_at", "final_x", "final_f", "best")}
        out["converged_at"][sl] = -1  # first touch of the memory on the thread that uses it
        res = None
        if fusable:
            ws.reset()
            res = run_fused(surface, o, X[sl], T, kw, ws, part)
        if res is None:
            res = general(surface, o, X[sl], T, **kw)
            for k, v in part.items():
                v[...] = res[k]
            out["converged_at"][sl] = res["converged_at"]
            if np.any(res["stopped_at"] >= 0):
                stops[sl.start] = (sl, res["stopped_at"], res["stop_reason"])
        if res["reason"] is not None:
            reasons[sl.start] = (sl, res["reason"])
        steps.append(res["steps"])

    if len(blocks) == 1:
        one(blocks[0], fused.Workspace())
    else:
        def group(blks):
            ws = fused.Workspace()
            for sl in blks:
                one(sl, ws)

        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            # a worker thread has no language of its own: run it in the caller's (the divergence reasons)
            list(pool.map(bind_language(group), [blocks[i::THREADS] for i in range(THREADS)]))
    if reasons:
        out["reason"] = np.full(B, "", dtype=object)
        for sl, r in reasons.values():
            out["reason"][sl] = r
    else:  # one shared "" for a million runs that all finished (read-only)
        out["reason"] = np.broadcast_to(np.array([""], dtype=object), (B,))
    if stops:  # an optimizer ended some runs itself (Newton at f's rounding floor)
        out["stopped_at"], out["stop_reason"] = np.full(B, -1), np.full(B, "", dtype=object)
        for sl, at, why in stops.values():
            out["stopped_at"][sl], out["stop_reason"][sl] = at, why
    out["steps"] = max(steps)
    return out


# ----------------------------------------------------------------------------------------------
# The loops
# ----------------------------------------------------------------------------------------------
class _Stops:
    """The runs stopped so far (diverged: the fused loop has no ``tol``) and why; ``settle`` finds
    the runs that went bad at step k once the batch-wide test failed, records them and parks them
    at their start, as the general loop stops them (same step, same reason)."""

    __slots__ = ("B", "bound", "X0", "diverged_at", "alive", "dead", "reason")

    def __init__(self, X0, bound: float, diverged_at):
        self.B, self.bound, self.X0, self.diverged_at = X0.shape[1], bound, X0, diverged_at
        self.alive = self.dead = None  # masks, once a run has been stopped
        self.reason = None  # made when a run diverges

    def settle(self, k: int, P, Pf, F) -> None:
        """P (D, B) rows at step k (``Pf`` flat), F (B,) their losses."""
        bound, inf = self.bound, float("inf")
        if np.maximum.reduce(Pf) <= bound and np.minimum.reduce(Pf) >= -bound and -inf < np.add.reduce(F) < inf:
            return  # a false alarm of the quick test (a huge but finite loss, say)
        fin = np.isfinite(F) & np.isfinite(P).all(axis=0)
        inside = (np.abs(P) <= bound).all(axis=0)
        bad = ~(fin & inside)
        if self.alive is not None:
            bad &= self.alive
        if bad.any():
            self.diverged_at[bad] = k
            if self.reason is None:
                self.reason = np.full(self.B, "", dtype=object)
            self.reason[bad & ~fin] = _(NONFINITE)
            self.reason[bad & fin & ~inside] = far_reason(bound)
            if self.alive is None:
                self.alive = np.ones(self.B, dtype=bool)
            self.alive &= ~bad
            self.dead = ~self.alive
            P[:, bad] = self.X0[:, bad]
            F[bad] = np.nan  # only for this step's records: F is rewritten next step


def _track(k: int, F, best, reached_at, target, alive) -> None:
    """After step ``k`` of a fused loop: each live run's best loss so far, and the first step at
    which it reached ``target`` (both loops, summary and path, keep these the same way)."""
    if alive is None:
        np.fmin(best, F, best)
    else:
        np.fmin(best, F, best, where=alive)
    if target is not None:
        r = (reached_at < 0) & (F <= target)
        if alive is not None:
            r &= alive
        reached_at[r] = k


def _quick_test(D: int, B: int):
    """``ok(Pf, P, F)``: True when every run is certainly finite and inside the bound (bound² given).
    Σθ² ≤ bound² implies every |θᵢ| ≤ bound, and a sum is NaN/inf if any term is: dot products
    are the cheapest test.  OpenBLAS threads a dot of more than 10,000 elements, which costs
    more than it saves here (and fights our own threads), so longer vectors go row by row, or,
    for big blocks, straight to ``settle`` (its max/min/sum)."""
    dot, inf = np.dot, float("inf")
    if D * B <= 10_000:
        return lambda Pf, P, F, bsq: dot(Pf, Pf) <= bsq and dot(F, F) < inf
    if B <= 10_000 and D == 2:
        return lambda Pf, P, F, bsq: dot(P[0], P[0]) + dot(P[1], P[1]) <= bsq and dot(F, F) < inf
    return None


def rows_evaluator(surface, G, W, P=None, F=None, rows: bool = False):
    """``evaluate(P, F)``: f at the points ``P (D, B)`` (coordinate rows) into ``F (B,)`` and ∇f
    into ``G (D, B)`` (``W``: scratch, (B,)); with ``P`` and ``F`` given, ``evaluate()`` on those
    rows; with ``rows``, ``evaluate(P, x, y, F)``, ``x`` and ``y`` being ``P``'s two rows already
    taken (a path run keeps them: a view costs ~0.1 µs, a step's whole overhead ~1 µs).  A surface with ``value_and_grad_into`` (an :class:`~optlab.surfaces.Surface`) fills the
    rows itself (allocation-free where it has ``fg_into``); any other object goes through its
    ``value_and_grad`` on the ``(B, D)`` view ``P.T``.  The method is looked up on the class: a
    wrapper that forwards attributes (the budget's :class:`~optlab.budget.Meter`, which counts
    ``value_and_grad`` calls) takes the counted way."""
    D, B = G.shape
    into = None
    if D == 2 and callable(getattr(type(surface), "value_and_grad_into", None)):
        into = getattr(surface, "fg_into", None) or surface.value_and_grad_into
    if into is not None:
        gx, gy = G
        if P is not None:
            return partial(into, P[0], P[1], F, gx, gy, W)
        if rows:
            return lambda P, x, y, F: into(x, y, F, gx, gy, W)
        return lambda P, F: into(P[0], P[1], F, gx, gy, W)

    def evaluate(P, F):
        f, g = surface.value_and_grad(P.T)
        np.copyto(G, np.asarray(g, dtype=float).reshape(B, D).T)
        np.copyto(F, np.asarray(f, dtype=float).reshape(B))

    if rows:
        return lambda P, x, y, F: evaluate(P, F)
    return evaluate if P is None else partial(evaluate, P, F)


def _all_finite(F, G) -> bool:
    inf = float("inf")
    return (-inf < np.add.reduce(F) < inf and -inf < np.add.reduce(G.reshape(-1)) < inf) or (
        bool(np.isfinite(F).all() and np.isfinite(G).all()))


def _single(X, opt) -> bool:
    # NumPy copies its operands before an in-place ufunc on one-element arrays (~0.3 µs per call, a
    # third of a step): a single run goes through the loops as two copies of itself.
    return X.shape[0] == 1 and batch_size_of(opt.hyper) is None


def run_fused(surface, opt, X, T, kw: dict, ws, out: dict) -> dict | None:
    """The summary loop with the optimizer's fused kernel: positions as coordinate rows updated in
    place, and a divergence test of two or three reductions per step; per-run work only when one
    of them is off.  A stopped run is parked at its start (finite and checked) for the remaining
    steps: nothing of it is reported after it diverged, so where it waits does not matter.
    Same results as the general loop, bit for bit, written into ``out``'s arrays (this block's
    slices of the batch's results); returns ``reason`` (None when no run diverged) and ``steps``.
    None when the kernel does not take these options, or the start is already undefined
    somewhere (the general loop reports that)."""
    B, D = X.shape
    if _single(X, opt):
        two = {k: np.empty((2,) + v.shape[1:], v.dtype) for k, v in out.items()}
        res = run_fused(surface, opt, np.repeat(X, 2, axis=0), T, kw, ws, two)
        if res is not None:
            for k, v in out.items():
                v[...] = two[k][:1]
            if res["reason"] is not None:
                res["reason"] = res["reason"][:1]
        return res
    step = opt.kernel(B, D, ws)
    if step is None:
        return None
    sched, bound, target = kw["sched"], kw["bound"], kw["target"]
    X0 = X.T  # (D, B)
    P, G, F = ws.empty((D, B)), ws.empty((D, B)), ws.empty(B)
    np.copyto(P, X0)
    Pf, Gf = P.reshape(-1), G.reshape(-1)
    evaluate = rows_evaluator(surface, G, ws.empty(B), P, F)  # f(P) into F, ∇f(P) into G
    fmin, copyto = np.fmin, np.copyto
    bsq = bound * bound
    quick = _quick_test(D, B)
    with np.errstate(all="ignore"):
        evaluate()
        if not _all_finite(F, G) or not (np.abs(P) <= bound).all():
            return None  # the general loop reports an undefined or far start
        best, diverged_at, reached_at = out["best"], out["diverged_at"], out["reached_at"]
        np.copyto(best, F)
        diverged_at.fill(-1)
        reached_at.fill(-1)
        if target is not None:
            reached_at[F <= target] = 0
        base_lr = opt.hyper["lr"]
        const = sched.name == "constant"
        lr = fused.flat(base_lr, B, D) if isinstance(base_lr, np.ndarray) else float(base_lr)
        stops = _Stops(X0, bound, diverged_at)
        settle = stops.settle

        done_at, k = T, 0
        if const and target is None and quick is not None:
            # The common case (sweeps, the benchmark) until a run goes bad: nothing but the step,
            # the surface, the test and the best loss.
            for k in range(1, T + 1):
                step(k, lr, Gf, Pf, Pf)
                evaluate()
                if not quick(Pf, P, F, bsq):
                    settle(k, P, Pf, F)
                    if stops.alive is not None:
                        fmin(best, F, best, where=stops.alive)
                        if not stops.alive.any():
                            done_at, k = k, T
                        break
                fmin(best, F, best)
            else:
                k = T
        for k in range(k + 1, T + 1):
            if not const:
                lr_k = sched(base_lr, k - 1)
                lr = fused.flat(lr_k, B, D) if isinstance(lr_k, np.ndarray) else float(lr_k)
            step(k, lr, Gf, Pf, Pf)
            if stops.dead is not None:
                copyto(P, X0, where=stops.dead)  # stopped runs stay parked
            evaluate()
            if not (quick is not None and quick(Pf, P, F, bsq)):
                settle(k, P, Pf, F)
            alive = stops.alive
            _track(k, F, best, reached_at, target, alive)
            if alive is not None and not alive.any():
                done_at = k
                break

    _finals(out, P, F, stops)
    return dict(reason=stops.reason, steps=done_at if T else 0)


def _finals(out: dict, P, F, stops: _Stops) -> None:
    final_x, final_f = out["final_x"], out["final_f"]
    np.copyto(final_x, P.T)
    np.copyto(final_f, F)
    if stops.reason is not None:
        div = stops.diverged_at >= 0
        final_x[div] = np.nan
        final_f[div] = np.nan


# ----------------------------------------------------------------------------------------------
# Path runs
# ----------------------------------------------------------------------------------------------
def run_path(surface, opt, X, T, kw: dict) -> dict | None:
    """A ``record="path"`` run through the fused loop: the general loop's result dict (positions,
    losses, gradient norms and learning rates as arrays, not lists), or None when the kernel or
    the start says no (then the general loop runs it)."""
    B, D = X.shape
    if D != 2:
        return None  # gradient norms as the general loop takes them: see the module's docstring
    single = _single(X, opt)
    out = summary_out(2 if single else B, D)
    res = run_fused_path(surface, opt, np.repeat(X, 2, axis=0) if single else X, T, kw,
                         fused.Workspace(), out)
    if res is None:
        return None
    out.update(res)
    if single:
        for k in ("diverged_at", "reached_at", "final_x", "final_f", "best"):
            out[k] = out[k][:1].copy()
        for k in ("xs", "fs", "gns", "lrs"):
            out[k] = np.ascontiguousarray(out[k][:, :1])
        out["reason"] = None if out["reason"] is None else out["reason"][:1]
        out["B"] = 1
    out["converged_at"] = np.full(out["B"], -1)
    if out["reason"] is None:
        out["reason"] = np.full(out["B"], "", dtype=object)
    return out


def run_fused_path(surface, opt, X, T, kw: dict, ws, out: dict) -> dict | None:
    """The path loop: :func:`run_fused`'s steps in blocks of steps (see ``PATH_BLOCK``), every
    step's positions, losses and gradient norms ``√(gx² + gy²)`` (= the general loop's ``√einsum``
    for D = 2) in the records.  Returns ``reason``, ``steps`` and the records ``xs``, ``fs``,
    ``gns``, ``lrs``; the per-run results go into ``out``.  Needs D = 2."""
    B, D = X.shape
    step = opt.kernel(B, D, ws)
    if step is None or D != 2:
        return None
    sched, bound, target = kw["sched"], kw["bound"], kw["target"]
    X0 = X.T  # (D, B)
    small = _small(T, B)
    XS, FR, GN, LR = _records(T, D, B, small)
    XR = XS.transpose(0, 2, 1) if small else XS  # (T+1, D, B) either way
    nb = min(T + 1, max(1, PATH_BLOCK // (D * B)))  # steps per block
    XB, SQ = ws.empty((nb, D, B)), ws.empty((nb, D, B))  # the block's positions and squared gradients
    XBf = XB.reshape(nb, D * B)
    sqx, sqy = SQ[:, 0], SQ[:, 1]
    G = ws.empty((D, B))
    Gf = G.reshape(-1)
    evaluate = rows_evaluator(surface, G, ws.empty(B), rows=True)  # f(P) into F, ∇f(P) into G
    # each block row's views, taken once (six views a step were ~0.6 µs of a B = 1 step's 8)
    views = [(XB[j], XBf[j], SQ[j], XB[j, 0], XB[j, 1]) for j in range(nb)]
    copyto, square, add, sqrt, fmin = np.copyto, np.square, np.add, np.sqrt, np.fmin
    bsq = bound * bound
    quick = _quick_test(D, B)
    k0 = 0  # the step in the block's first row

    def flush(k):
        """Steps k0 … k−1 from the block into the records."""
        nonlocal k0
        n, g = k - k0, GN[k0:k]
        if small:
            # runs-first xs, a coordinate at a time (B = 256: 0.2 µs a step; the whole block in one
            # copy, which loops over the 2 coordinates innermost, 0.95 µs)
            copyto(XR[k0:k, 0], XB[:n, 0])
            copyto(XR[k0:k, 1], XB[:n, 1])
        else:
            copyto(XR[k0:k], XB[:n])
        add(sqx[:n], sqy[:n], g)
        sqrt(g, g)
        k0 = k

    P, Pf, Sq, x, y = views[0]
    F = FR[0]
    copyto(P, X0)
    with np.errstate(all="ignore"):
        evaluate(P, x, y, F)
        if not _all_finite(F, G) or not (np.abs(P) <= bound).all():
            return None  # the general loop reports an undefined or far start
        square(G, SQ[0])
        best, diverged_at, reached_at = out["best"], out["diverged_at"], out["reached_at"]
        np.copyto(best, F)
        diverged_at.fill(-1)
        reached_at.fill(-1)
        if target is not None:
            reached_at[F <= target] = 0
        base_lr = opt.hyper["lr"]
        const = sched.name == "constant"
        lr = fused.flat(base_lr, B, D) if isinstance(base_lr, np.ndarray) else float(base_lr)
        lrs = []
        stops = _Stops(X0, bound, diverged_at)
        settle = stops.settle
        done_at, k = T, 0
        if const and target is None and quick is not None:
            # The common case until a run goes bad, as in run_fused: the step, the surface, the
            # gradient's squares, the test and the best loss (0.1-1.6 µs a step less than the
            # general steps below, B = 100-1,000).
            for k in range(1, T + 1):
                j = k - k0
                if j == nb:
                    flush(k)
                    j = 0
                prev = Pf
                P, Pf, Sq, x, y = views[j]
                F = FR[k]
                step(k, lr, Gf, prev, Pf)
                evaluate(P, x, y, F)
                square(G, Sq)
                if quick(Pf, P, F, bsq):
                    fmin(best, F, best)
                    continue
                settle(k, P, Pf, F)
                alive = stops.alive
                if alive is None:  # a false alarm of the quick test (a huge but finite loss, say)
                    fmin(best, F, best)
                    continue
                fmin(best, F, best, where=alive)  # a run stopped: the general steps from here on
                if not alive.any():
                    done_at, k = k, T
                break
        for k in range(k + 1, T + 1):
            if not const:
                lr_k = sched(base_lr, k - 1)
                lr = fused.flat(lr_k, B, D) if isinstance(lr_k, np.ndarray) else float(lr_k)
                lrs.append(lr_k)
            j = k - k0
            if j == nb:
                flush(k)
                j = 0
            prev = Pf
            P, Pf, Sq, x, y = views[j]
            F = FR[k]
            step(k, lr, Gf, prev, Pf)
            if stops.dead is not None:
                copyto(P, X0, where=stops.dead)  # stopped runs stay parked (NaN in the records)
            evaluate(P, x, y, F)
            square(G, Sq)
            if not (quick is not None and quick(Pf, P, F, bsq)):
                settle(k, P, Pf, F)
            alive = stops.alive
            _track(k, F, best, reached_at, target, alive)
            if alive is not None and not alive.any():
                done_at = k
                break

        flush(done_at + 1)
        _finals(out, P, F, stops)
        LR = _rates(base_lr, const, lrs, B, T, done_at, LR)
        if stops.reason is not None:
            first = np.where(diverged_at >= 0, diverged_at, T + 1)
            gone = np.arange(T + 1)[:, None] >= first  # (T+1, B): each diverged run from its step on
            FR[gone] = np.nan
            GN[gone] = np.nan
            np.copyto(XR, np.nan, where=gone[:, None, :])  # (rows after done_at were never written)
    return dict(reason=stops.reason, steps=done_at if T else 0, xs=XS if small else XS.transpose(0, 2, 1),
                fs=FR, gns=GN, lrs=LR)


def _records(T: int, D: int, B: int, small: bool):
    """A path's records in one allocation, each on a 64-byte boundary (:func:`.fused.aligned`):
    positions, ``(T+1, B, D)`` for a small path (the general loop's layout), ``(T+1, D, B)``
    otherwise (returned as a transposed view: a transposing copy would cost a pass over the largest
    record); losses and gradient norms ``(T+1, B)``; for a small path the learning rates ``(T, B)``
    (None otherwise: see :func:`_rates`).  One allocation (B = 1,000: 1,570 page faults a run as
    three arrays, 550 as one; 10-20 % of the path's extra time), from 4 MB on taken from
    :data:`.fused.RECORDS`, which hands back the records of a path that is no longer used: fresh
    pages cost the kernel's zeroing, 25-30 µs a step at B = 10⁴ (SGD's path/summary 2.7-3.0× with
    fresh pages, 2.1× from the pool; Adam's 1.7× and 1.4×)."""
    shapes = [(T + 1, B, D) if small else (T + 1, D, B), (T + 1, B), (T + 1, B)] + ([(T, B)] if small else [])
    sizes = [math.prod(shape) for shape in shapes]
    buf = fused.RECORDS.take(sum(-(-m // 8) * 8 for m in sizes))
    parts, at = [], 0
    for shape, m in zip(shapes, sizes):
        parts.append(buf[at:at + m].reshape(shape))
        at += -(-m // 8) * 8  # the next part on a 64-byte boundary too
    return tuple(parts) if small else (*parts, None)


def _small(T: int, B: int) -> bool:
    return B <= PATH_SMALL and (T + 1) * B <= 1 << 20


def _rates(base_lr, const: bool, lrs: list, B: int, T: int, done_at: int, LR=None) -> np.ndarray:
    """The learning rate of every step and run, ``(T, B)``, NaN after ``done_at``, written into
    ``LR`` (a small path's, from :func:`_records`) or a new array.  For a large path (LR None), a
    rate that is the same for every run (or for every step) is a read-only broadcast of its
    column (or row): as large as the losses otherwise, for nothing."""
    if const:
        line = np.asarray(base_lr, dtype=float).reshape(1, -1)  # the same every step
    elif all(not isinstance(v, np.ndarray) or v.size == 1 for v in lrs):
        line = np.array([float(np.asarray(v).reshape(-1)[0]) for v in lrs] + [np.nan] * (T - done_at))
        line = line.reshape(-1, 1)  # the same for every run
    else:
        line = None
    if LR is None:
        if line is not None and (const is False or done_at == T):
            return np.broadcast_to(line, (T, B))
        LR = np.empty((T, B))
    if line is None:
        LR[:done_at] = np.array([np.broadcast_to(np.asarray(v, dtype=float).reshape(-1), (B,)) for v in lrs])
    else:
        LR[:done_at] = line[:done_at] if not const else line
    LR[done_at:] = np.nan
    return LR
