"""Steps per second of ``optlab.run`` (Adam on Rosenbrock) against torch.optim.Adam and a memory floor.

    .venv/bin/python bench/bench_optimizers.py            # B = 1, 100, 1e4, 1e6
    .venv/bin/python bench/bench_optimizers.py --quick    # fewer repeats

For each batch size B (B independent 2-D runs), one whole run of ``steps`` steps (200; 100 at
B = 10⁶), setup included, is timed (best of ``repeats``):
* optlab: ``optlab.run(rosenbrock, adam, X0, steps, record="summary")`` — gradient, Adam update,
  divergence check, best loss, all in NumPy float64 (the runner's fused loop: see
  ``optlab/optimizers/fused.py``; batches from 65,536 runs on go in blocks over two threads);
* torch: a ``(B, 2)`` float64 leaf tensor, ``torch.optim.Adam``, and per step ``zero_grad``,
  ``rosenbrock(p).sum().backward()``, ``opt.step()`` (autograd doing the same work), if torch is
  installed (``pip install torch==2.13.0``; not needed for the app or the tests);
* floor: the time of the memory traffic one Adam step needs — reading θ, g, m, v and writing
  θ, m, v (7 arrays of B×2 float64) — at the bandwidth measured here by a large ``np.add``.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import optlab


def best_time(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bench_optlab(B: int, steps: int, repeats: int) -> float:
    s = optlab.surfaces.get("rosenbrock")
    X0 = np.random.default_rng(0).uniform([-2, -1], [2, 3], size=(B, 2))
    opt = optlab.optimizers.make("adam", lr=1e-3)
    x0 = X0[0] if B == 1 else X0
    return best_time(lambda: optlab.run(s, opt, x0, steps, record="summary"), repeats) / steps


def bench_torch(B: int, steps: int, repeats: int) -> float | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_default_dtype(torch.float64)
    X0 = torch.tensor(np.random.default_rng(0).uniform([-2, -1], [2, 3], size=(B, 2)))

    def go():
        p = X0.clone().requires_grad_(True)
        opt = torch.optim.Adam([p], lr=1e-3)
        for _ in range(steps):
            opt.zero_grad()
            x, y = p[:, 0], p[:, 1]
            loss = ((1 - x) ** 2 + 100 * (y - x * x) ** 2).sum()
            loss.backward()
            opt.step()

    return best_time(go, repeats) / steps


def bandwidth() -> float:
    """Bytes per second of a large streaming ``np.add`` (2 reads + 1 write)."""
    n = 16_000_000
    a, b, c = np.ones(n), np.ones(n), np.empty(n)
    t = best_time(lambda: np.add(a, b, out=c), 5)
    return 3 * n * 8 / t


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--sizes", default="1,100,10000,1000000")
    args = ap.parse_args()
    bw = bandwidth()
    print(f"memory bandwidth (np.add, 128 MB arrays): {bw / 1e9:.1f} GB/s")
    print(f"{'B':>9} {'steps':>6} {'optlab steps/s':>15} {'torch steps/s':>14} {'speed-up':>9} "
          f"{'floor steps/s':>14} {'× floor':>8}")
    for B in (int(float(b)) for b in args.sizes.split(",")):
        # a sweep's length; at B = 10⁶ a run's setup (buffers, the first gradient, the results'
        # memory) is spread over 100 steps, as in a real sweep, rather than 20
        steps = 200 if B <= 10_000 else 100
        rep = 2 if args.quick else (7 if B <= 10_000 else 3)
        t_o = bench_optlab(B, steps, rep)
        t_t = bench_torch(B, steps, rep)
        floor = 7 * B * 2 * 8 / bw
        sp = f"{t_t / t_o:8.2f}×" if t_t else "      n/a"
        ts = f"{1 / t_t:14,.0f}" if t_t else f"{'(no torch)':>14}"
        print(f"{B:>9,} {steps:>6} {1 / t_o:15,.0f} {ts} {sp} {1 / floor:14,.0f} {t_o / floor:7.1f}×")
    print("speed-up = torch time / optlab time (higher is better); × floor = optlab time / memory floor")


if __name__ == "__main__":
    main()
