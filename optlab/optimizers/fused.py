r"""Fused steps: every first-order optimizer with each operation written into preallocated buffers.

torch.optim keeps a readable single-tensor implementation of each algorithm next to faster
``foreach``/``fused`` ones that give the same numbers; optlab has the same split.  The transform
chains (:mod:`.sgd`, :mod:`.adam`, :mod:`.rms`) are the reference: readable, composable, and
they report m̂, v̂ … for the app.  A kernel here repeats one algorithm as a flat sequence of ufunc
calls with ``out=`` buffers, **in the chain's (= torch's) order of floating-point operations**, so a
run through a kernel is bit-identical to one through the chain (``tests/test_fused.py`` checks every
option set).  The fused loop (:mod:`.loop`) uses a kernel for ``record="summary"`` runs (sweeps,
basins, auto-tune) and ``record="path"`` runs (the arena, the chapters), where the chain's per-step
objects and temporaries were most of the time.  Every first-order optimizer has one: SGD, Adam,
AdamW, Adagrad, RMSprop, Adadelta, NAdam and RAdam.

Layout: ``n = D·B`` parameters stored coordinate-major (all runs' x, then all runs' y), so a surface
gets contiguous coordinate rows.  A scalar hyperparameter becomes a 0-d array (the cheapest ufunc
operand); one value per run becomes its ``(B,)`` values tiled D times.

A kernel is ``step(k, lr, g, p, out)``: read θ_{k−1} from ``p`` and ∇f(θ_{k−1}) from ``g`` (flat,
length n), advance the optimizer state in place and write θ_k into ``out``: ``p`` itself (summary
runs), or the next row of a path run's records, in which case ``p`` is never read after ``out`` is
written.
``g`` may be used as scratch: the caller computes a new gradient every step anyway, and one
buffer less per run keeps bigger blocks inside the L2 cache.
``lr`` is this step's learning rate: a float, or a flat array of length n (per run).
"""
from __future__ import annotations

import math
import threading
import weakref
from typing import Callable

import numpy as np

from .base import is_zero

Kernel = Callable[[int, object, np.ndarray, np.ndarray, np.ndarray], None]

_add, _sub, _mul, _div = np.add, np.subtract, np.multiply, np.divide
_sqrt, _neg, _maximum = np.sqrt, np.negative, np.maximum


class Workspace:
    """float64 memory handed out as arrays, all taken back by :meth:`reset`.

    A large batch runs as blocks, one after another on each thread; with one workspace per thread
    every block reuses memory that is already mapped and in cache.  (Fresh arrays per block cost a
    page fault per 4 kB, and under two threads those faults serialize in the kernel.)
    """

    _ALIGN = 8  # elements: 64-byte aligned slices
    _CHUNK = 1 << 16

    def __init__(self):
        self._chunks: list[np.ndarray] = []
        self._i = 0
        self._off = 0

    def empty(self, shape) -> np.ndarray:
        n = shape if isinstance(shape, int) else math.prod(shape)
        while self._i < len(self._chunks):
            c = self._chunks[self._i]
            if self._off + n <= c.size:
                a = c[self._off:self._off + n].reshape(shape)
                self._off += -(-n // self._ALIGN) * self._ALIGN
                return a
            self._i, self._off = self._i + 1, 0
        self._chunks.append(aligned(max(n, self._CHUNK)))
        return self.empty(shape)

    def zeros(self, shape) -> np.ndarray:
        a = self.empty(shape)
        a.fill(0.0)
        return a

    def reset(self) -> None:
        self._i, self._off = 0, 0


def aligned(n: int) -> np.ndarray:
    """``n`` float64 starting on a 64-byte boundary (a cache line).  NumPy's arrays are only 16-byte
    aligned (a large one starts 16 bytes past a page), and its AVX-512 loops then straddle two
    lines per vector: an add or a multiply of 2,000 floats takes 1.4 µs misaligned, 0.8 µs aligned
    (divisions and roots, bound by their own throughput, the same either way)."""
    raw = np.empty(n + 7)
    skip = (-raw.ctypes.data % 64) // 8
    return raw[skip:skip + n]


class RecordPool:
    """Large 64-byte-aligned float64 buffers for path records, taken back for the next run once the
    last array that uses one is gone (as CuPy's memory pool and PyTorch's caching allocator keep
    freed blocks).

    A path of B = 10⁴ runs over 200 steps writes 64 MB of records.  glibc serves a block that
    large with a fresh ``mmap`` and unmaps it on ``free`` (above 32 MB always; smaller blocks can
    go the same way), so every run's records cost the kernel's zeroing of fresh pages: 5-6 ms a
    run here, 25-30 µs a step, more than half of an SGD summary step.  A buffer from the pool is
    already mapped.

    * Only blocks of at least ``min_floats`` floats (4 MB) are pooled; smaller ones come from
      :func:`aligned` (malloc's own lists serve them).
    * A buffer is reused for a request of between half its size and its size.
    * At most ``limit`` bytes wait idle in the pool; a buffer given back beyond that is freed.
      :meth:`clear` frees them all (``optlab.optimizers.fused.RECORDS.clear()``).
    * A returned array's ``base`` is a ``memoryview`` of the buffer.  That memoryview lives as long
      as any view of the records (NumPy points every view at it), and its finalizer gives the buffer
      back.  Thread-safe: sessions of a server run paths on several threads.
    """

    def __init__(self, limit: int = 128 << 20, min_floats: int = 1 << 19):
        self.limit, self.min_floats = limit, min_floats
        self._idle: list[np.ndarray] = []
        self._lock = threading.RLock()  # a finalizer may run inside take() on the same thread

    def take(self, n: int) -> np.ndarray:
        """``n`` float64 on a 64-byte boundary, uninitialised (as :func:`aligned`)."""
        if n < self.min_floats:
            return aligned(n)
        want = n + 7
        with self._lock:
            fits = [i for i, r in enumerate(self._idle) if want <= r.size <= 2 * want]
            raw = self._idle.pop(min(fits, key=lambda i: self._idle[i].size)) if fits else None
        if raw is None:
            raw = np.empty(want)
        view = np.frombuffer(memoryview(raw), dtype=np.float64)
        weakref.finalize(view.base, self._give_back, raw).atexit = False
        skip = (-view.ctypes.data % 64) // 8
        return view[skip:skip + n]

    def _give_back(self, raw: np.ndarray) -> None:
        with self._lock:
            if self.idle_bytes() + raw.nbytes <= self.limit:
                self._idle.append(raw)

    def idle_bytes(self) -> int:
        """Bytes waiting in the pool for the next large path."""
        with self._lock:
            return sum(r.nbytes for r in self._idle)

    def clear(self) -> None:
        """Free every idle buffer."""
        with self._lock:
            self._idle.clear()


RECORDS = RecordPool()


def _ws(ws: Workspace | None) -> Workspace:
    return ws if ws is not None else Workspace()


def flat(v, B: int, D: int):
    """A hyperparameter in kernel layout: 0-d array (scalar) or tiled ``(D·B,)`` (one per run)."""
    if isinstance(v, np.ndarray) and v.ndim >= 1:
        return np.tile(np.asarray(v, dtype=float).reshape(B), D)
    return np.array(float(v))


def _per_run(*values) -> bool:
    return any(isinstance(v, np.ndarray) for v in values)


def _lerp(m, g, t, w, one_minus_w, low: bool) -> None:
    """In place ``m ← m + w·(g − m)`` (t: scratch), in torch's two-branch form like ``base.lerp_``."""
    _sub(g, m, t)
    if low:
        _mul(w, t, t)
        _add(m, t, m)
    else:
        _mul(t, one_minus_w, t)
        _sub(g, t, m)


def _ema_sq(v, g, t, decay, one_minus_decay) -> None:
    """In place ``v ← decay·v + ((1 − decay)·g)·g`` (t: scratch), like ``base.ema_sq_``."""
    _mul(v, decay, v)
    _mul(one_minus_decay, g, t)
    _mul(t, g, t)
    _add(v, t, v)


def _g_prep(h, B: int, D: int, n: int, coupled_decay: bool, ws: Workspace):
    """maximize (g ← −g), then coupled L2 (g ← g + λθ), as the chain's first transforms; returns
    ``prep(g, p) -> g'`` or None when neither is on."""
    maximize = h["maximize"]
    decay = coupled_decay and not is_zero(h["weight_decay"])
    if not (maximize or decay):
        return None
    wd = flat(h["weight_decay"], B, D)
    gbuf, tmp = ws.empty(n), ws.empty(n)

    def prep(g, p):
        if maximize:
            _neg(g, gbuf)
            g = gbuf
        if decay:
            _mul(wd, p, tmp)  # torch: grad.add(param, alpha=λ) = g + (λ·θ)
            _add(g, tmp, gbuf)
        return gbuf

    return prep


def sgd(h, B: int, D: int, ws: Workspace | None = None) -> Kernel:
    """``torch.optim.SGD``: b ← μb + (1 − τ)g (b₁ = g); d = g + μb (Nesterov) or b; θ ← θ + (−γ)·d."""
    n, ws = B * D, _ws(ws)
    prep = _g_prep(h, B, D, n, True, ws)
    use_mom = not is_zero(h["momentum"])
    mom, omd = flat(h["momentum"], B, D), flat(1.0 - np.asarray(h["dampening"], dtype=float), B, D)
    nesterov = h["nesterov"]
    mom_zero = (mom == 0) if (use_mom and mom.ndim and not np.all(mom)) else None  # runs with μ = 0 in a sweep
    buf, t, d, c = ws.zeros(n), ws.empty(n), ws.empty(n), ws.empty(n)
    nlr = np.array(0.0)  # per-step scalars are written into 0-d arrays: the cheapest ufunc operand

    def step(k, lr, g, p, out):
        if prep is not None:
            g = prep(g, p)
        if use_mom:
            if k == 1:
                np.copyto(buf, g)  # torch starts the buffer at g
            else:
                _mul(buf, mom, buf)
                _mul(omd, g, t)
                _add(buf, t, buf)
            if nesterov:
                _mul(mom, buf, d)
                _add(g, d, d)
                dd = d
            elif mom_zero is not None:
                dd = np.where(mom_zero, g, buf)
            else:
                dd = buf
        else:
            dd = g
        if type(lr) is float:
            nlr[()] = -lr
            _mul(nlr, dd, t)
        else:
            _mul(_neg(lr, c), dd, t)
        _add(p, t, out)

    return step


def adam(h, B: int, D: int, ws: Workspace | None = None, *, decoupled: bool) -> Kernel | None:
    """``torch.optim.Adam``/``AdamW``: m ← lerp(m, g, 1 − β₁); v ← β₂v + ((1 − β₂)g)g;
    θ ← θ(1 − γλ)? + (−γ/bc₁)·m / (√v/√bc₂ + ε).  Scalar betas, eps and weight decay only."""
    b1, b2 = h["betas"]
    if _per_run(b1, b2, h["eps"], h["weight_decay"]):
        return None
    n, ws = B * D, _ws(ws)
    prep = _g_prep(h, B, D, n, not decoupled, ws)
    wd_dec = decoupled and not is_zero(h["weight_decay"])
    wd = float(h["weight_decay"])
    amsgrad = h["amsgrad"]
    w = 1.0 - b1
    low = abs(w) < 0.5  # lerp's two branches, as torch switches them
    w_, omw, b2_, c2, eps = (np.array(v) for v in (w, 1.0 - w, b2, 1.0 - b2, float(h["eps"])))
    m, v = ws.zeros(n), ws.zeros(n)
    vmax = ws.zeros(n) if amsgrad else None
    t, c = ws.empty(n), ws.empty(n)
    bc2s, value, factor = np.array(1.0), np.array(0.0), np.array(1.0)

    def step(k, lr, g, p, out):
        if prep is not None:
            g = prep(g, p)
        _lerp(m, g, t, w_, omw, low)
        _ema_sq(v, g, t, b2_, c2)
        vv = v
        if amsgrad:
            _maximum(vmax, v, out=vmax)  # max of the raw v, bias-corrected with today's t
            vv = vmax
        bc1 = 1.0 - b1 ** k
        _sqrt(vv, t)
        bc2s[()] = (1.0 - b2 ** k) ** 0.5
        _div(t, bc2s, t)
        _add(t, eps, t)  # t is the denominator now; g is not needed any more: it takes the step
        if type(lr) is float:
            value[()] = -(lr / bc1)
            _mul(value, m, g)
        else:
            _mul(_div(lr, -bc1, c), m, g)  # x/(−y) is exactly −(x/y)
        _div(g, t, g)
        if wd_dec:
            if type(lr) is float:
                factor[()] = 1 - lr * wd
                _mul(p, factor, out)
            else:
                _mul(lr, wd, c)
                _sub(1, c, c)
                _mul(p, c, out)
            _add(out, g, out)
        else:
            _add(p, g, out)

    return step


def adagrad(h, B: int, D: int, ws: Workspace | None = None) -> Kernel:
    """``torch.optim.Adagrad``: S ← S + g·g; θ ← θ + (−γ/(1 + (t−1)η))·g / (√S + ε)."""
    n, ws = B * D, _ws(ws)
    prep = _g_prep(h, B, D, n, True, ws)
    decay, eps = h["lr_decay"], flat(h["eps"], B, D)
    decay = flat(decay, B, D) if isinstance(decay, np.ndarray) else float(decay)
    value = np.array(0.0)
    S = ws.zeros(n)
    S += flat(h["initial_accumulator_value"], B, D)  # torch: zeros + value
    t1, t2 = ws.empty(n), ws.empty(n)

    def step(k, lr, g, p, out):
        if prep is not None:
            g = prep(g, p)
        clr = lr / (1 + (k - 1) * decay)
        _mul(g, g, t1)  # addcmul(S, g, g, value=1): (1·g)·g, and 1·g is exact
        _add(S, t1, S)
        _sqrt(S, t2)
        _add(t2, eps, t2)
        if type(clr) is float:
            value[()] = -clr
            _mul(value, g, t1)
        else:
            _mul(_neg(clr), g, t1)
        _div(t1, t2, t1)
        _add(p, t1, out)

    return step


def rmsprop(h, B: int, D: int, ws: Workspace | None = None) -> Kernel:
    """``torch.optim.RMSprop``: v ← αv + ((1 − α)g)g; (centered: v − ḡ²); a = √· + ε;
    momentum: b ← μb + g/a, θ ← θ + (−γ)b; else θ ← θ + (−γ)·g / a."""
    n, ws = B * D, _ws(ws)
    prep = _g_prep(h, B, D, n, True, ws)
    alpha = h["alpha"]
    a_, c_ = flat(alpha, B, D), flat(1.0 - np.asarray(alpha, dtype=float), B, D)
    eps, mom = flat(h["eps"], B, D), flat(h["momentum"], B, D)
    centered = h["centered"]
    use_mom = not np.all(np.asarray(h["momentum"]) == 0)
    v = ws.zeros(n)
    gbar = ws.zeros(n) if centered else None
    buf = ws.zeros(n) if use_mom else None
    t1, t2, c = ws.empty(n), ws.empty(n), ws.empty(n)
    # lerp(ḡ, g, 1 − α): torch's branch depends on the weight, per run when α is per run
    w = 1.0 - np.asarray(alpha, dtype=float)
    w_flat = flat(w, B, D)
    low = np.abs(w_flat) < 0.5
    all_low, no_low = bool(np.all(low)), not np.any(low)
    one_minus_w = flat(1.0 - w, B, D)
    nlr_ = np.array(0.0)

    def step(k, lr, g, p, out):
        if prep is not None:
            g = prep(g, p)
        _ema_sq(v, g, t1, a_, c_)
        if centered:
            if all_low or no_low:
                _lerp(gbar, g, t1, w_flat, one_minus_w, all_low)
            else:
                _sub(g, gbar, t1)
                gbar[...] = np.where(low, gbar + w_flat * t1, g - t1 * one_minus_w)
            _mul(gbar, -1.0, t2)  # v + (−1·ḡ)·ḡ
            _mul(t2, gbar, t2)
            _add(v, t2, t2)
            _sqrt(t2, t2)
        else:
            _sqrt(v, t2)
        _add(t2, eps, t2)
        if type(lr) is float:
            nlr_[()] = -lr
            nlr = nlr_
        else:
            nlr = _neg(lr, c)
        if use_mom:
            _mul(buf, mom, buf)
            _div(g, t2, t1)
            _add(buf, t1, buf)
            _mul(nlr, buf, t1)
        else:
            _mul(nlr, g, t1)
            _div(t1, t2, t1)
        _add(p, t1, out)

    return step


def _decoupled_factor(lr, wd: float, factor, c):
    """AdamW's ``1 − γλ`` for this step: into the 0-d ``factor`` (scalar lr) or the flat ``c``."""
    if type(lr) is float:
        factor[()] = 1 - lr * wd
        return factor
    _mul(lr, wd, c)
    _sub(1, c, c)
    return c


def nadam(h, B: int, D: int, ws: Workspace | None = None) -> Kernel | None:
    """``torch.optim.NAdam``: m ← lerp(m, g, 1 − β₁); v ← β₂v + ((1 − β₂)g)g; d = √(v/bc₂) + ε;
    μₜ = β₁(1 − ½·0.96^(tψ)), Πₜ = Πₜ₋₁μₜ;  θ ← θ(1 − γλ)? + ((−γ(1 − μₜ))/(1 − Πₜ))·g/d
    + ((−γμₜ₊₁)/(1 − Πₜμₜ₊₁))·m/d (torch's two ``addcdiv_``, the gradient term first).
    Scalar betas, eps, weight decay and momentum decay only."""
    b1, b2 = h["betas"]
    psi = h["momentum_decay"]
    if _per_run(b1, b2, h["eps"], h["weight_decay"], psi):
        return None
    decoupled = h["decoupled_weight_decay"]
    n, ws = B * D, _ws(ws)
    prep = _g_prep(h, B, D, n, not decoupled, ws)
    wd_dec = decoupled and not is_zero(h["weight_decay"])
    wd = float(h["weight_decay"])
    w = 1.0 - b1
    low = abs(w) < 0.5
    w_, omw, b2_, c2, eps = (np.array(v) for v in (w, 1.0 - w, b2, 1.0 - b2, float(h["eps"])))
    m, v = ws.zeros(n), ws.zeros(n)
    t, c1, c2_, c3 = ws.empty(n), ws.empty(n), ws.empty(n), ws.empty(n)
    bc2, s1, s2, factor = np.array(1.0), np.array(0.0), np.array(0.0), np.array(1.0)
    prod = 1.0  # Πₜ: the chain's mu_product, a float here (the same IEEE products)

    def step(k, lr, g, p, out):
        nonlocal prod
        if prep is not None:
            g = prep(g, p)
        _lerp(m, g, t, w_, omw, low)
        _ema_sq(v, g, t, b2_, c2)
        bc2[()] = 1.0 - b2 ** k
        _div(v, bc2, t)  # denominator √(v/bc₂) + ε in t
        _sqrt(t, t)
        _add(t, eps, t)
        mu = b1 * (1.0 - 0.5 * (0.96 ** (k * psi)))
        mu_next = b1 * (1.0 - 0.5 * (0.96 ** ((k + 1) * psi)))
        prod *= mu
        prod_next = prod * mu_next
        if type(lr) is float:
            s1[()] = (-lr * (1.0 - mu)) / (1.0 - prod)
            s2[()] = (-lr * mu_next) / (1.0 - prod_next)
            v1, v2 = s1, s2
        else:
            v1, v2 = _neg(lr, c1), _neg(lr, c2_)
            _mul(v1, 1.0 - mu, v1)
            _div(v1, 1.0 - prod, v1)
            _mul(v2, mu_next, v2)
            _div(v2, 1.0 - prod_next, v2)
        _mul(v1, g, g)  # g is scratch from here on
        _div(g, t, g)
        if wd_dec:
            _mul(p, _decoupled_factor(lr, wd, factor, c3), out)
            _add(out, g, out)
        else:
            _add(p, g, out)
        _mul(v2, m, g)
        _div(g, t, g)
        _add(out, g, out)

    return step


def radam(h, B: int, D: int, ws: Workspace | None = None) -> Kernel | None:
    """``torch.optim.RAdam``: m, v as Adam; m̂ = m/bc₁; ρₜ = ρ∞ − 2tβ₂ᵗ/bc₂; when ρₜ > 5
    θ ← θ(1 − γλ)? − ((m̂·γ)·((1/(√v + ε))·√bc₂))·rₜ, else θ ← θ(1 − γλ)? − m̂·γ.
    Scalar betas, eps and weight decay only."""
    b1, b2 = h["betas"]
    if _per_run(b1, b2, h["eps"], h["weight_decay"]):
        return None
    decoupled = h["decoupled_weight_decay"]
    n, ws = B * D, _ws(ws)
    prep = _g_prep(h, B, D, n, not decoupled, ws)
    wd_dec = decoupled and not is_zero(h["weight_decay"])
    wd = float(h["weight_decay"])
    w = 1.0 - b1
    low = abs(w) < 0.5
    w_, omw, b2_, c2, eps = (np.array(v) for v in (w, 1.0 - w, b2, 1.0 - b2, float(h["eps"])))
    rho_inf = 2.0 / (1.0 - b2) - 1.0
    m, v = ws.zeros(n), ws.zeros(n)
    t, c = ws.empty(n), ws.empty(n)
    bc1_, sbc2, r_, lr_, factor = (np.array(1.0) for _ in range(5))

    def step(k, lr, g, p, out):
        if prep is not None:
            g = prep(g, p)
        _lerp(m, g, t, w_, omw, low)
        _ema_sq(v, g, t, b2_, c2)
        bc1, bc2 = 1.0 - b1 ** k, 1.0 - b2 ** k
        rho_t = rho_inf - 2.0 * k * (b2 ** k) / bc2
        bc1_[()] = bc1
        _div(m, bc1_, t)  # m̂
        if type(lr) is float:
            lr_[()] = lr
            _mul(t, lr_, t)
        else:
            _mul(t, lr, t)
        if rho_t > 5.0:
            # rₜ with C's pow on a float, as torch (and the chain's _pow_half): not NumPy's sqrt
            r_[()] = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            sbc2[()] = bc2 ** 0.5
            _sqrt(v, g)  # g is scratch from here on
            _add(g, eps, g)
            _div(1.0, g, g)  # torch's float / tensor: reciprocal(tensor) · float
            _mul(g, sbc2, g)
            _mul(t, g, t)
            _mul(t, r_, t)
        if wd_dec:
            _mul(p, _decoupled_factor(lr, wd, factor, c), out)
            _sub(out, t, out)  # θ + (−1·d) is θ − d, exactly
        else:
            _sub(p, t, out)

    return step


def adadelta(h, B: int, D: int, ws: Workspace | None = None) -> Kernel:
    """``torch.optim.Adadelta``: v ← ρv + ((1 − ρ)g)g; Δ = (√(u + ε)/√(v + ε))·g;
    u ← ρu + ((1 − ρ)Δ)Δ; θ ← θ + (−γ)·Δ.  rho and eps may be per run."""
    n, ws = B * D, _ws(ws)
    prep = _g_prep(h, B, D, n, True, ws)
    rho = h["rho"]
    r_, omr = flat(rho, B, D), flat(1.0 - np.asarray(rho, dtype=float), B, D)
    eps = flat(h["eps"], B, D)
    v, u = ws.zeros(n), ws.zeros(n)
    t, d, c = ws.empty(n), ws.empty(n), ws.empty(n)
    nlr = np.array(0.0)

    def step(k, lr, g, p, out):
        if prep is not None:
            g = prep(g, p)
        _ema_sq(v, g, t, r_, omr)
        _add(v, eps, t)  # √(v + ε)
        _sqrt(t, t)
        _add(u, eps, d)  # Δ = √(u + ε) / √(v + ε) · g
        _sqrt(d, d)
        _div(d, t, d)
        _mul(d, g, d)
        _ema_sq(u, d, t, r_, omr)
        if type(lr) is float:
            nlr[()] = -lr
            _mul(nlr, d, t)
        else:
            _mul(_neg(lr, c), d, t)
        _add(p, t, out)

    return step
