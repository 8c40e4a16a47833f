"""Time every call the "Challenges ahead" page makes, at its defaults and at the largest settings a
widget may allow, against the page budget (≈ 100 ms typical, ≤ 1 s worst), and the import cost of
the privacy accountant.

    .venv/bin/python bench/bench_challenges.py            # best of 3
    .venv/bin/python bench/bench_challenges.py --quick    # best of 1

BLAS is limited to one thread, as in the server (optlab/ui/__init__.py): on a shared 2-core
machine OpenBLAS's own threads make these small products several times slower, not faster.
The first-use cost of dp-accounting (an import that pulls in SciPy) is measured in a fresh
interpreter, with ``import optlab`` alone for comparison.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time

import numpy as np

try:
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")
except ImportError:  # pragma: no cover
    pass

from optlab import distributed as D  # noqa: E402
from optlab import landscapes as LS  # noqa: E402
from optlab import privacy as PV  # noqa: E402
from optlab import problems as PR  # noqa: E402
from optlab.chapters import challenges_ahead as C  # noqa: E402

TYPICAL, WORST = 0.1, 1.0
CURVES: list = []


def best_time(fn, repeats: int) -> tuple[float, float]:
    """(CPU seconds of this process, wall seconds), best of ``repeats``: the budget is server CPU,
    which a busy shared machine inflates far less than wall time."""
    cpu = wall = float("inf")
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        cpu = min(cpu, time.process_time() - c0)
        wall = min(wall, time.perf_counter() - t0)
    return cpu, wall


def fresh_import(code: str, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", "import time; t = time.perf_counter(); " + code +
                              "; print(time.perf_counter() - t)"], capture_output=True, text=True, check=True)
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    rep = 1 if args.quick else 3

    print("first use of the accountant (fresh interpreter, best of %d)" % rep)
    t_optlab = fresh_import("import optlab", rep)
    t_dpa = fresh_import("import optlab.privacy as V; V.epsilon(1.0, 0.01, 100)", rep)
    print(f"  import optlab                          {t_optlab * 1e3:8.0f} ms")
    print(f"  import optlab.privacy + first epsilon  {t_dpa * 1e3:8.0f} ms  (dp-accounting + SciPy, once per process)")

    PV.epsilon(1.0, 0.01, 10)  # warm: the import is paid above
    _ = C.train_slice_network()  # the page caches the trained network; time the slice alone
    hist, X, y = C.train_slice_network()
    bc = PR.problem("breast_cancer")
    global CURVES
    CURVES = [PV.rdp_curve(s, 0.05) for s in C.NOISE_MULTIPLIERS if s > 0]

    cases = [
        # (label, kind, callable)
        ("scaling_study  diabetes gap 0.02 seeds 3", "typical", lambda: C.scaling_study()),
        ("scaling_study  diabetes gap 0.01 seeds 5", "worst", lambda: C.scaling_study(target_gap=0.01, seeds=5)),
        ("batch_scaling  breast_cancer gap 0.05 (logistic)", "worst",
         lambda: D.batch_scaling(bc, target_gap=0.05, seeds=3, eval_every=2, max_steps=1500)),
        ("warmup_study   breast_cancer B 512, 200 steps", "typical", lambda: C.warmup_study()),
        ("warmup_study   breast_cancer B 512, 400 steps", "worst", lambda: C.warmup_study(steps=400)),
        ("stale_study    tau 0..10", "typical", lambda: C.stale_study()),
        ("stale_study    tau 0..20, 400 steps", "worst", lambda: C.stale_study(tau_max=20, steps=400)),
        ("federated_study diabetes K 5, 30 rounds", "typical", lambda: C.federated_study()),
        ("federated_study diabetes K 10, 60 rounds", "worst", lambda: C.federated_study(workers=10, rounds=60)),
        ("federated_study breast_cancer K 10, 60 rounds", "worst",
         lambda: C.federated_study(dataset="breast_cancer", workers=10, rounds=60, lr=0.5)),
        ("tasks_study    pcgrad 2 tasks 200 steps", "typical", lambda: C.tasks_study()),
        ("tasks_study    gradnorm 3 tasks 600 steps", "worst", lambda: C.tasks_study(3, "gradnorm", steps=600)),
        ("conflict_view  3 tasks", "typical", lambda: C.conflict_view(3, (1.0, 1.0))),
        ("epsilon        RDP, sigma 1.0", "typical", lambda: PV.epsilon(1.0, 0.05, 200)),
        ("epsilon        RDP, sigma 0.5 (slowest sigma)", "worst", lambda: PV.epsilon(0.5, 0.05, 400)),
        ("epsilon        PLD, sigma 1.0 (not the default)", "worst", lambda: PV.epsilon(1.0, 0.05, 200, accountant="pld")),
        ("rdp_curve      8 sigmas (once per q; cache it)", "worst",
         lambda: [PV.rdp_curve(s, 0.05) for s in C.NOISE_MULTIPLIERS if s > 0]),
        ("RdpCurve.epsilon 8 sigmas (T or delta moved)", "typical", lambda: [c.epsilon(300, 1e-5) for c in CURVES]),
        ("privacy_study  cached curves, 8 x 3, 200 steps", "typical",
         lambda: C.privacy_study(epsilons=[np.inf] + [c.epsilon(200, 569 ** -1.1) for c in CURVES])),
        ("privacy_study  8 sigmas x 3 seeds, 200 steps", "typical", lambda: C.privacy_study()),
        ("privacy_study  8 sigmas x 5 seeds, 400 steps", "worst", lambda: C.privacy_study(steps=400, seeds=5)),
        ("  of which dp_sgd 8 x 5 runs, 400 steps", "worst",
         lambda: PV.dp_sgd(bc, np.repeat(C.NOISE_MULTIPLIERS, 5), steps=400)),
        ("escape_study   six-hump camel", "typical", lambda: C.escape_study()),
        ("escape_study   50 restarts, 64 noisy runs, 600 steps", "worst",
         lambda: C.escape_study(n_restarts=50, runs=64, steps=600)),
        ("basins_study   3 optimizers 30x30", "typical", lambda: C.basins_study()),
        ("basins_study   3 optimizers 40x40", "worst", lambda: C.basins_study(n=40)),
        ("slice_study    25x25 (trained net cached)", "typical", lambda: C.slice_study(25, history=hist, data=(X, y))),
        ("slice_study    41x41 (trained net cached)", "worst", lambda: C.slice_study(41, history=hist, data=(X, y))),
        ("train_slice_network (once per server)", "worst", lambda: C.train_slice_network()),
        ("SAM basins     two valleys 30x30, 1500 steps", "worst",
         lambda: __import__("optlab").basins(LS.two_valleys(), __import__("optlab").optimizers.make(
             "sam", base="sgd", lr=0.02, rho=0.2), n=30, steps=1500)),
    ]
    print(f"\nload average {open('/proc/loadavg').read().split()[0]} on {__import__('os').cpu_count()} cores")
    print(f"{'call':52s} {'kind':>8s} {'CPU ms':>8s} {'wall ms':>8s}  budget (CPU)")
    over = []
    for label, kind, fn in cases:
        t, w = best_time(fn, rep)
        budget = TYPICAL if kind == "typical" else WORST
        flag = "ok" if t <= budget else "OVER"
        if t > budget:
            over.append(label)
        print(f"{label:52s} {kind:>8s} {t * 1e3:8.1f} {w * 1e3:8.1f}  {flag} (≤ {budget * 1e3:.0f} ms)")
    print(f"\n{len(cases) - len(over)} of {len(cases)} within budget" + (f"; over: {', '.join(over)}" if over else ""))


if __name__ == "__main__":
    main()
