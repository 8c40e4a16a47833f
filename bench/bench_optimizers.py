"""Steps per second of ``optlab.run`` on Rosenbrock against torch.optim, in summary and path mode.

    .venv/bin/python bench/bench_optimizers.py                   # Adam, B = 1, 100, 1e4, 1e6
    .venv/bin/python bench/bench_optimizers.py --opts adam,nadam,radam,adadelta --sizes 1,100,10000
    .venv/bin/python bench/bench_optimizers.py --quick           # fewer repeats
    .venv/bin/python bench/bench_optimizers.py --clock cpu       # CPU time: for a busy machine

For each optimizer and batch size B (B independent 2-D runs), one whole run of ``steps`` steps
(200; 100 at B = 10⁶), setup included, is timed (best of ``repeats``), in two modes:
* summary: ``optlab.run(rosenbrock, opt, X0, steps, record="summary")`` — gradient, update,
  divergence check, best loss, all in NumPy float64 (the fused loop: ``optlab/optimizers/loop.py``;
  batches from 65,536 runs on go in blocks over two threads);  torch: a ``(B, 2)`` float64 leaf
  tensor, the torch.optim class, and per step ``zero_grad``, ``rosenbrock(p).sum().backward()``,
  ``opt.step()`` (autograd doing the same work);
* path: ``record="path"`` — the same, plus every step's positions, losses and gradient norms in
  ``(T+1, B, …)`` arrays;  torch: the same loop writing ``p``, the per-run losses and
  ``p.grad.norm(dim=1)`` into preallocated tensors each step (and one last forward/backward for the
  final point's loss and gradient).  Path runs at B = 10⁶ (1.6 GB of positions) are not timed.
torch (``pip install torch==2.13.0``) is optional; without it the torch columns say n/a.
Each optimizer runs with torch's default hyperparameters (Adam's lr 1e-3, NAdam's 2e-3 …); the
script checks that no run diverged (a diverged batch stops early and would flatter optlab).
Also printed: the floor of an Adam step's memory traffic (θ, g, m, v read, θ, m, v written: 7 arrays
of B×2 float64) at the bandwidth of a large ``np.add`` here; and, for path runs, what writing the
records alone costs (``records``: a ``(T+1, 4, B)`` float64 array from the record pool, as a path
run's, positions, loss and gradient norm filled one step at a time from a row in cache) and what
the gradient norms alone cost (``norms``: a square, a sum and a square root per run and step, the
root ≈ 1 ns a float here), next to what the path run costs on top of the summary run
(``path − summary``); ``floor`` = (summary + records + norms) / summary, the least path/summary
can be.  At B = 10⁴ a step writes 320 kB that no cache holds.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

import optlab
from optlab.optimizers import fused

TORCH_NAMES = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "nadam": "NAdam", "radam": "RAdam",
               "adadelta": "Adadelta", "adagrad": "Adagrad", "rmsprop": "RMSprop"}
# torch.optim.SGD has no default lr; the others run with torch's defaults
HYPER = {"sgd": dict(lr=1e-3)}


def best_time(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


CLOCK = time.perf_counter


def best_times(fns: dict, repeats: int) -> dict:
    """Best time of each callable, taken in rounds (one call of each per round), so that the
    contenders see the same machine: the ratios hold up better than the absolute times when
    other processes share the cores."""
    best = {k: float("inf") for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            t0 = CLOCK()
            fn()
            best[k] = min(best[k], CLOCK() - t0)
    return best


def starts(B: int) -> np.ndarray:
    return np.random.default_rng(0).uniform([-2, -1], [2, 3], size=(B, 2))


def optlab_run(name: str, B: int, steps: int, record: str):
    s = optlab.surfaces.get("rosenbrock")
    X0 = starts(B)
    opt = optlab.optimizers.make(name, **HYPER.get(name, {}))
    x0 = X0[0] if B == 1 else X0
    tr = optlab.run(s, opt, x0, steps, record=record)
    if np.any(tr.diverged):
        raise SystemExit(f"{name} diverged on some of the {B} runs: pick another lr for the benchmark")
    return lambda: optlab.run(s, opt, x0, steps, record=record)


def torch_run(name: str, B: int, steps: int, record: str):
    try:
        import torch
    except ImportError:
        return None
    torch.set_default_dtype(torch.float64)
    if CLOCK is time.process_time:
        torch.set_num_threads(1)  # its OpenMP workers spin while they wait: CPU time would count that
    X0 = torch.tensor(starts(B))
    cls = getattr(torch.optim, TORCH_NAMES[name])
    hyper = HYPER.get(name, {})

    def rosenbrock(p):
        x, y = p[:, 0], p[:, 1]
        return (1 - x) ** 2 + 100 * (y - x * x) ** 2

    def summary():
        p = X0.clone().requires_grad_(True)
        opt = cls([p], **hyper)
        for _ in range(steps):
            opt.zero_grad()
            rosenbrock(p).sum().backward()
            opt.step()

    def path():
        p = X0.clone().requires_grad_(True)
        opt = cls([p], **hyper)
        xs, fs, gns = torch.empty(steps + 1, B, 2), torch.empty(steps + 1, B), torch.empty(steps + 1, B)
        for k in range(steps + 1):
            opt.zero_grad()
            f = rosenbrock(p)
            f.sum().backward()
            with torch.no_grad():
                xs[k] = p
                fs[k] = f
                gns[k] = p.grad.norm(dim=1)
            if k < steps:
                opt.step()

    return summary if record == "summary" else path


def bandwidth() -> float:
    """Bytes per second of a large streaming ``np.add`` (2 reads + 1 write)."""
    n = 16_000_000
    a, b, c = np.ones(n), np.ones(n), np.empty(n)
    t = best_time(lambda: np.add(a, b, out=c), 5)
    return 3 * n * 8 / t


def records_time(B: int, steps: int, repeats: int) -> float:
    """Seconds per step to write a path's records (positions, loss, gradient norm: 4 float64 per run)
    into fresh memory, one step at a time: the least a path run costs on top of a summary run."""
    row = np.ones((4, B))

    def fill():
        rec = fused.RECORDS.take((steps + 1) * 4 * B).reshape(steps + 1, 4, B)
        for k in range(steps + 1):
            np.copyto(rec[k], row)

    return best_time(fill, repeats) / steps


def norms_time(B: int, steps: int, repeats: int) -> float:
    """Seconds per step for a path's gradient norms alone, √(gx² + gy²) of B runs from rows in cache
    (square, sum, root: as the path loop computes them, bit for bit the general loop's)."""
    G, SQ, out = np.random.default_rng(1).standard_normal((2, B)), np.empty((2, B)), np.empty(B)

    def norms():
        for _ in range(steps):
            np.square(G, SQ)
            np.add(SQ[0], SQ[1], out)
            np.sqrt(out, out)

    return best_time(norms, repeats) / steps


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--sizes", default="1,100,10000,1000000")
    ap.add_argument("--opts", default="adam", help="comma-separated optimizer names (torch.optim's)")
    ap.add_argument("--repeats", type=int, help="rounds per batch size (default 7; 3 from B = 10⁵ on)")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="wall: elapsed time (the default; on a quiet machine); cpu: the process's CPU time, "
                         "which other processes on shared cores inflate far less; torch then runs on one "
                         "thread (its OpenMP workers would count their spinning; below 32,768 elements "
                         "it computes on one thread anyway)")
    args = ap.parse_args()
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    print(f"clock: {args.clock}; load average {' '.join(f'{v:.1f}' for v in os.getloadavg())} "
          f"on {os.cpu_count()} cores")
    bw = bandwidth()
    print(f"memory bandwidth (np.add, 128 MB arrays): {bw / 1e9:.1f} GB/s")
    print(f"{'optimizer':>9} {'B':>9} {'steps':>5} | {'optlab steps/s':>14} {'torch steps/s':>13} {'speed-up':>8} | "
          f"{'path steps/s':>14} {'torch path/s':>13} {'speed-up':>8} | {'path/summary':>12} | {'× floor':>7} | "
          f"{'path − summary':>14} {'records':>9} {'norms':>8} | {'floor':>6}")
    for name in args.opts.split(","):
        for B in (int(float(b)) for b in args.sizes.split(",")):
            # a sweep's length; at B = 10⁶ a run's setup (buffers, the first gradient, the results'
            # memory) is spread over 100 steps, as in a real sweep, rather than 20
            steps = 200 if B <= 10_000 else 100
            rep = args.repeats or (2 if args.quick else (7 if B <= 10_000 else 3))
            fns = {}
            for record in ("summary", "path"):
                if record == "path" and B > 100_000:
                    continue
                fns["optlab", record] = optlab_run(name, B, steps, record)
                if (t := torch_run(name, B, steps, record)) is not None:
                    fns["torch", record] = t
            best = {k: v / steps for k, v in best_times(fns, rep).items()}
            cols = [(best.get(("optlab", r)), best.get(("torch", r))) for r in ("summary", "path")]
            cells = []
            for t_o, t_t in cols:
                if t_o is None:
                    cells.append(f"{'—':>14} {'—':>13} {'—':>8}")
                    continue
                ts = f"{1 / t_t:13,.0f}" if t_t else f"{'n/a':>13}"
                sp = f"{t_t / t_o:7.2f}×" if t_t else f"{'n/a':>8}"
                cells.append(f"{1 / t_o:14,.0f} {ts} {sp}")
            (s_o, _), (p_o, _) = cols
            ratio = f"{p_o / s_o:11.2f}×" if p_o else f"{'—':>12}"
            floor = 7 * B * 2 * 8 / bw
            if p_o:
                rec, nrm = records_time(B, steps, rep), norms_time(B, steps, rep)
                extra = (f"{(p_o - s_o) * 1e6:11.1f} µs {rec * 1e6:6.1f} µs {nrm * 1e6:5.1f} µs | "
                         f"{(s_o + rec + nrm) / s_o:5.2f}×")
            else:
                extra = f"{'—':>14} {'—':>9} {'—':>8} | {'—':>6}"
            print(f"{name:>9} {B:>9,} {steps:>5} | {cells[0]} | {cells[1]} | {ratio} | "
                  f"{s_o / floor:6.1f}× | {extra}")
    print("speed-up = torch time / optlab time (higher is better); path/summary = optlab's path time / its "
          "summary time; × floor = optlab summary time / an Adam step's memory traffic;\n"
          "path − summary = what a path step costs more than a summary step; records = writing a step's "
          "records alone (per step); norms = the step's gradient norms alone; floor = (summary + records + "
          "norms) / summary, the least path/summary can be while the records are written and the norms computed")


if __name__ == "__main__":
    main()
