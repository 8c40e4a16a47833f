"""Calibrate optlab.budget: what one evaluation, one call and one step cost, and what a budget costs.

    .venv/bin/python bench/bench_budget.py            # measure, propose constants, check them
    .venv/bin/python bench/bench_budget.py --quick    # fewer repeats

1. Unit costs, CPU time (``time.process_time``, one thread), median of repeats:
   * per point: the surface on 4,096 points, minus one call, divided by 4,095 (value, value and
     gradient, Hessian: the dearest counts), on the slowest surfaces: typed formulas near the
     formula size limits, Goldstein–Price, Beale;
   * per call: the same on one point;
   * per step: the runner's general loop (record="full") on a cheap surface, minus its calls, for
     Adam, Newton (solve), BFGS (update and line-search loop), 8 and 512 runs.
   The proposed constants: one *evaluation* is the dearest point; CALL_COST and STEP_COST are
   the dearest call and step in evaluations; RERUN is 0.8 s and CLICK 0.1 s in evaluations.
2. Check: scenarios that ask for far more than a budget (the issue's 8 BFGS × 2,000 steps on
   Goldstein–Price with c1 = 0.5, shrink = 0.9, max_backtracks = 60, line-search Newton on Beale,
   auto-tune sweeps, basins, a typed formula near the limits, an MLP) run with Budget() and
   Budget(CLICK): the CPU each one took, which must stay ≤ 0.8 s and ≤ 0.1 s.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

try:  # as in the server (optlab/ui/__init__.py): one BLAS thread, or MLP timings measure thrashing
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")
except ImportError:
    pass

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import optlab  # noqa: E402
from optlab import budget as B  # noqa: E402
from optlab import mlp, optimizers, surfaces  # noqa: E402
from optlab.surfaces import from_formula  # noqa: E402

# Typed formulas near the size limits (gradient ≈ 330-500 SymPy nodes, Hessian ≈ 1,000-2,500).
FORMULAS = {
    "typed Goldstein-Price": "(1 + (x + y + 1)**2*(19 - 14*x + 3*x**2 - 14*y + 6*x*y + 3*y**2))*(30 + (2*x - 3*y)**2*(18 - 32*x + 12*x**2 + 48*y - 36*x*y + 27*y**2))",
    "typed cross-in-tray": "-0.0001*(abs(sin(x)*sin(y)*exp(abs(100 - sqrt(x**2+y**2)/pi)))+1)**0.1",
    "typed 13-term trig sum": "+".join(f"sin(x*{i})*cos(y*{i})" for i in range(1, 14)),
    "typed nested abs": "abs(sin(x)*abs(cos(y)*abs(sin(x*y)*abs(cos(x+y)*abs(sin(x-y)*abs(x*y+1))))))",
}


def cpu(fn, repeats: int) -> float:
    """Median CPU seconds of fn() over `repeats` runs (after one warm-up)."""
    fn()
    out = []
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        out.append(time.process_time() - t0)
    return statistics.median(out)


def unit_costs(surfs: dict, repeats: int) -> tuple[float, float, dict]:
    """(µs per point, µs per call, table) over the surfaces, the dearest of value/v&g/Hessian."""
    rng = np.random.default_rng(0)
    P1, PN = rng.uniform(-1.5, 1.5, (1, 2)), rng.uniform(-1.5, 1.5, (4096, 2))
    rows, per_point, per_call = {}, 0.0, 0.0
    for name, s in surfs.items():
        row = {}
        for kind in ("value", "value_and_grad", "hessian"):
            f = getattr(s, kind)
            n1 = 200
            t1 = cpu(lambda: [f(P1) for _ in range(n1)], repeats) / n1
            tn = cpu(lambda: f(PN), repeats)
            pp = max(tn - t1, 0.0) / 4095
            row[kind] = (t1 * 1e6, pp * 1e6)
            per_point, per_call = max(per_point, pp * 1e6), max(per_call, t1 * 1e6)
        rows[name] = row
    return per_point, per_call, rows


def step_costs(repeats: int) -> tuple[float, float, dict]:
    """(µs per step, µs per run and step) of the general loop beyond its surface calls (cheap
    surface, record="full"): the dearest optimizer at 8 runs, and the growth from 8 to 512 runs."""
    q = surfaces.get("quadratic", condition=10.0)
    rng = np.random.default_rng(1)
    table, worst, per_run = {}, 0.0, 0.0
    # the quadratic's own calls, to subtract
    P8 = rng.uniform(-1, 1, (8, 2))
    t_call = cpu(lambda: [q.value_and_grad(P8) for _ in range(500)], repeats) / 500
    for name, hyper in (("adam", {}), ("sgd", {"momentum": 0.9}), ("newton", {}),
                        ("newton", {"line_search": True}), ("bfgs", {})):
        for runs in (8, 512):
            X0 = rng.uniform(-2, 2, (runs, 2))
            opt = optimizers.make(name, **hyper)
            steps = 200
            meter = B.Meter(q)
            optlab.run(meter, opt, X0, steps, record="full")
            t = cpu(lambda: optlab.run(q, opt, X0, steps, record="full"), repeats)
            over = (t - meter.calls * t_call) / steps
            label = name + (" (line search)" if hyper.get("line_search") else "")
            table[(label, runs)] = (t / steps * 1e6, over * 1e6, meter.calls / steps)
            if runs == 8:
                worst = max(worst, over * 1e6)
        per_run = max(per_run, (table[(label, 512)][1] - table[(label, 8)][1]) / 504)
    return worst, per_run, table


def mlp_costs(repeats: int, unit: float) -> list:
    """mlp.train, measured and as optlab.mlp.train_cost predicts it (µs per step): the estimate
    must not be below the measure."""
    X, y = mlp.two_spirals(400)
    rows = []
    for depth, width, bn in ((1, 4, False), (30, 32, False), (20, 16, False), (10, 64, False), (4, 128, False),
                             (12, 96, False), (20, 32, True), (30, 32, True)):
        cfg = mlp.MLPConfig(depth=depth, width=width, batch_norm=bn)
        steps = 100
        t = cpu(lambda: mlp.train(cfg, X, y, steps=steps, batch_size=64), max(1, repeats // 2))
        predicted = mlp.train_cost(cfg, len(X), steps=steps, batch_size=64) * unit / steps
        rows.append((depth, width, bn, t / steps * 1e6, predicted))
    return rows


def scenarios(gp_typed, trig):
    """(label, callable(budget) -> (what it did, cut)) for the check."""
    gp, beale = surfaces.get("goldstein_price"), surfaces.get("beale")
    rng = np.random.default_rng(2)
    X8 = rng.uniform(-2, 2, (8, 2))
    bfgs = optimizers.make("bfgs", c1=0.5, shrink=0.9, max_backtracks=60)
    newton_ls = optimizers.make("newton", line_search=True, c1=0.5, shrink=0.9, max_backtracks=60)

    def race(surface, opt, steps=2000, runs=X8, record="path"):
        def go(b):
            tr = optlab.run(surface, opt, runs, steps, record=record, budget=b)
            return f"{tr.steps} steps", tr.cut
        return go

    def tune(surface, name, steps=2000, n=60):
        def go(b):
            best, res = optlab.tune_lr(surface, name, [-1.0, 1.5], steps, lrs=optlab.sweeps.lr_grid(name, n),
                                       budget=b)
            return f"{res.shape[0]} lrs × {res.steps} steps", (list(res.cuts) or [None])[0]
        return go

    def basins(surface, name, n=60, steps=500):
        def go(b):
            res = optlab.basins(surface, optimizers.make(name), n=n, steps=steps, budget=b)
            return f"{res.n}×{res.n} starts × {res.steps} steps", (res.cuts or [None])[0]
        return go

    def train(b):
        cfg = mlp.MLPConfig(depth=30, width=32)
        X, y = mlp.two_spirals(400)
        steps = 400
        if b is not None:
            steps, cut = b.fit_cost(steps, lambda k: mlp.train_cost(cfg, len(X), steps=k, batch_size=64),
                                    what="steps", label="An MLP of 30 layers × 32 units", unit="step")
        else:
            cut = None
        if steps:
            mlp.train(cfg, X, y, steps=steps, batch_size=64)
        return f"{steps} steps", cut

    return [
        ("8 BFGS × 2000, Goldstein-Price, c1=0.5 shrink=0.9 mb=60", race(gp, bfgs)),
        ("8 BFGS × 2000, typed Goldstein-Price, same line search", race(gp_typed, bfgs)),
        ("8 line-search Newton × 2000, Beale", race(beale, newton_ls)),
        ("8 line-search Newton × 2000, typed Goldstein-Price", race(gp_typed, newton_ls)),
        ("8 Newton × 5000, typed Goldstein-Price (record=full)", race(gp_typed, optimizers.make("newton"), 5000, record="full")),
        ("8 Adam × 20000, typed Goldstein-Price", race(gp_typed, optimizers.make("adam"), 20000)),
        ("8 BFGS × 2000, typed 13-term trig sum, same line search", race(trig, bfgs)),
        ("512 Adam × 2000, typed 13-term trig sum (record=full)", race(trig, optimizers.make("adam"), 2000,
                                                                       rng.uniform(-2, 2, (512, 2)), "full")),
        ("basins SGD 60×60 × 500, typed 13-term trig sum", basins(trig, "sgd")),
        ("auto-tune Adam: 60 lrs × 2000, typed Goldstein-Price", tune(gp_typed, "adam")),
        ("auto-tune BFGS: 60 lrs × 2000, Goldstein-Price", tune(gp, "bfgs")),
        ("basins SGD 60×60 × 500, typed Goldstein-Price", basins(gp_typed, "sgd")),
        ("MLP 30 layers × 32 units, 400 spirals, 400 steps", train),
    ]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3 repeats instead of 5")
    args = ap.parse_args(argv)
    repeats = 3 if args.quick else 5

    surfs = {k: from_formula(v) for k, v in FORMULAS.items()}
    surfs["Goldstein-Price"] = surfaces.get("goldstein_price")
    surfs["Beale"] = surfaces.get("beale")
    pp, pc, rows = unit_costs(surfs, repeats)
    print("1. Unit costs (CPU µs; per call on 1 point, per extra point on 4,096)")
    print(f"   {'surface':26s} {'value':>15s} {'value&grad':>15s} {'Hessian':>15s}")
    for name, row in rows.items():
        cells = "".join(f"{c:8.1f} +{p:5.2f}/pt" for c, p in row.values())
        print(f"   {name:26s} {cells}")
    ps, pr, table = step_costs(repeats)
    print(f"\n   general loop, record='full', quadratic surface: µs per step (beyond its calls), calls per step")
    for (label, runs), (tot, over, cps) in table.items():
        print(f"   {label:24s} {runs:4d} runs: {tot:8.1f} µs/step, {over:8.1f} beyond calls, {cps:5.1f} calls/step")
    unit = pp
    print(f"\n   dearest point {pp:.2f} µs = 1 evaluation; dearest call {pc:.0f} µs = {pc / unit:.0f} evaluations; "
          f"dearest step (8 runs) {ps:.0f} µs = {ps / unit:.0f} evaluations; per run and step {pr:.2f} µs = "
          f"{pr / unit:.2f} evaluations")
    print(f"   proposed: CALL_COST = {pc / unit:.0f}, STEP_COST = {ps / unit:.0f}, RUN_STEP_COST = "
          f"{max(1, round(pr / unit))}, RERUN = {0.8e6 / unit:,.0f}, CLICK = {0.1e6 / unit:,.0f}")
    print(f"   in optlab/budget.py: CALL_COST = {B.CALL_COST}, STEP_COST = {B.STEP_COST}, RUN_STEP_COST = "
          f"{B.RUN_STEP_COST}, RERUN = {B.RERUN:,}, CLICK = {B.CLICK:,}")

    print("\n   MLP training steps (batch 64, 400 two-spirals points, a record every 2 steps), µs per step,"
          f" measured vs optlab.mlp.train_cost at {unit:.2f} µs per evaluation:")
    for depth, width, bn, us, pred in mlp_costs(repeats, unit):
        print(f"   {depth:3d} layers × {width:3d} units{' + BN' if bn else '     '}: measured {us:8.0f}, estimated {pred:8.0f}"
              f"  ({'ok' if pred >= us else 'UNDER-ESTIMATED'})")

    print("\n2. Scenarios far over budget, run with Budget() (target ≤ 0.8 s) and Budget(CLICK) (≤ 0.1 s);"
          " CPU seconds")
    print(f"   {'scenario':58s} {'no budget':>10s} {'RERUN':>7s} {'CLICK':>7s}  what RERUN allowed")
    worst = {"RERUN": 0.0, "CLICK": 0.0}
    for label, go in scenarios(surfs["typed Goldstein-Price"], surfs["typed 13-term trig sum"]):
        full = None
        if "20000" not in label and "5000" not in label and "512" not in label:  # slow without a budget
            t0 = time.process_time()
            go(None)
            full = time.process_time() - t0
        res = {}
        for key, b in (("RERUN", B.Budget()), ("CLICK", B.Budget(B.CLICK))):
            times = []
            for _ in range(3):  # median of 3: the machine is shared
                t0 = time.process_time()
                did, cut = go(b)
                times.append(time.process_time() - t0)
            res[key] = (statistics.median(times), did, cut)
            worst[key] = max(worst[key], res[key][0])
        full_s = f"{full:10.2f}" if full is not None else f"{'—':>10s}"
        print(f"   {label:58s} {full_s} {res['RERUN'][0]:7.3f} {res['CLICK'][0]:7.3f}  {res['RERUN'][1]}")
        if res["RERUN"][2] is not None:
            print(f"   {'':58s} {'':10s} {'':7s} {'':7s}  “{res['RERUN'][2].sentence()}”")
    print(f"\n   load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"   worst: Budget() {worst['RERUN']:.3f} s (target ≤ 0.8), Budget(CLICK) {worst['CLICK']:.3f} s (target ≤ 0.1)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
