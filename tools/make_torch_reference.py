r"""Generate ``tests/fixtures/torch_reference.json``: torch.optim trajectories on optlab's surfaces.

Run from the repository root (torch is a tools-only dependency, see ``tools/README.md``)::

    .venv/bin/python tools/make_torch_reference.py

Each case minimises f(p) for a 2-vector ``p`` (float64) with one ``torch.optim`` optimizer for
``steps`` steps (zero_grad, loss = f(p), backward, step[, scheduler.step()]) and records
p_0 … p_steps, f(p_k), and for schedule cases the lr used by step k = 1 … steps.

``hyper`` holds exactly the keywords passed to the torch class (optlab uses the same names);
hyperparameters left out are torch's defaults, so those cases also check optlab's defaults.
A case with ``"negate": true`` minimises −f with ``maximize=True``; its losses are values of −f.

For each case the script also prints the final point/loss and the largest deviation from a
rerun that feeds hand-written (optlab-style) gradients instead of autograd's: this is the
round-off sensitivity of the trajectory, i.e. how closely a NumPy port can be expected to agree,
and the smallest change of the path when one non-lr keyword is dropped: a case where that is tiny
could not catch an implementation that ignores the keyword, so it is flagged.

Bitwise cases (``EXACT``, ``"grad": "optlab"``) feed torch the gradients of optlab's own surfaces
and run torch.optim with a correctly rounded square root, so the fixture holds exactly the numbers
that torch.optim's order of operations gives; the tests compare them with ``==``.

torch's CPU numbers depend on the CPU: its AVX2/AVX-512 kernels fuse ``a + s*b`` into one FMA
(``add(alpha=)``, ``addcmul``, ``lerp``), its portable kernels do not, and MKL picks its code path
per CPU. The script pins the portable kernels and MKL's compatible path (before torch is imported),
so the fixture is the same on every x86-64 machine. See tools/README.md.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
from pathlib import Path

# Before torch loads: the portable kernels run torch.optim's operations as written (no FMA
# contraction), and MKL's compatible path does not depend on the CPU either.
os.environ["ATEN_CPU_CAPABILITY"] = "default"
os.environ["MKL_CBWR"] = "COMPATIBLE"

import numpy as np  # noqa: E402
import torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "fixtures" / "torch_reference.json"
STEPS = 200

TORCH_CLASS = {
    "sgd": "SGD", "adagrad": "Adagrad", "rmsprop": "RMSprop", "adadelta": "Adadelta",
    "adam": "Adam", "adamw": "AdamW", "nadam": "NAdam", "radam": "RAdam",
}


# ------------------------------------------------------------------------------------------
# Surfaces: same formulas as optlab.surfaces (value for autograd, hand gradient for the check)
# ------------------------------------------------------------------------------------------
def _quad_coeffs(condition, angle):
    th = math.radians(angle)
    return math.cos(th), math.sin(th), float(condition)


def f_torch(surface, params, p):
    """Loss as a torch scalar, written from the surface's defining formula."""
    x, y = p[0], p[1]
    if surface == "rosenbrock":
        a, b = params["a"], params["b"]
        return (a - x) ** 2 + b * (y - x * x) ** 2
    if surface == "quadratic":
        c, s, k = _quad_coeffs(params["condition"], params["angle"])
        u, v = c * x + s * y, -s * x + c * y
        return 0.5 * (u * u + k * v * v)
    if surface == "beale":
        return ((1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2
                + (2.625 - x + x * y ** 3) ** 2)
    if surface == "himmelblau":
        return (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2
    raise KeyError(surface)


def grad_by_hand(surface, params, p):
    """Analytic gradient, in the expanded form a NumPy implementation would use."""
    x, y = float(p[0]), float(p[1])
    if surface == "rosenbrock":
        a, b = params["a"], params["b"]
        g = (-2 * (a - x) - 4 * b * x * (y - x * x), 2 * b * (y - x * x))
    elif surface == "quadratic":
        c, s, k = _quad_coeffs(params["condition"], params["angle"])
        A, B, D = c * c + k * s * s, (1 - k) * c * s, s * s + k * c * c
        g = (A * x + B * y, B * x + D * y)
    elif surface == "beale":
        t1, t2, t3 = 1.5 - x + x * y, 2.25 - x + x * y * y, 2.625 - x + x * y ** 3
        g = (2 * t1 * (y - 1) + 2 * t2 * (y * y - 1) + 2 * t3 * (y ** 3 - 1),
             2 * t1 * x + 4 * t2 * x * y + 6 * t3 * x * y * y)
    elif surface == "himmelblau":
        t1, t2 = x * x + y - 11, x + y * y - 7
        g = (4 * x * t1 + 2 * t2, 2 * t1 + 4 * y * t2)
    else:
        raise KeyError(surface)
    return torch.tensor(g)


# (surface, surface_params, x0, short tag used in case ids)
ROSEN = ("rosenbrock", {"a": 1.0, "b": 100.0}, [-1.5, 2.0], "rosenbrock")
QUAD10 = ("quadratic", {"condition": 10.0, "angle": 30.0}, [-2.5, 1.5], "quad10r30")
QUAD25 = ("quadratic", {"condition": 25.0, "angle": 0.0}, [2.5, 2.0], "quad25")
BEALE = ("beale", {}, [1.0, 1.5], "beale")
HIMMEL = ("himmelblau", {}, [0.0, 0.0], "himmelblau")


# ------------------------------------------------------------------------------------------
# Cases: (optimizer, tag, hyper, [(surface, lr or None), ...])
# lr=None leaves lr out of ``hyper`` (torch's default); other keywords are shared by the
# surfaces of one line. Each optimizer's first line runs on 3 surfaces, the rest on one each,
# rotating so that every optimizer meets at least 3 surfaces. Weight decay stays off the
# axis-aligned bowl (quad25): there L2 only rescales each coordinate's gradient, which the
# per-coordinate adaptive methods almost cancel (Adam's path moved by 1e-9), so such a case
# could not catch an implementation that ignores weight_decay.
# ------------------------------------------------------------------------------------------
CONFIGS = [
    ("sgd", "plain", {}, [(ROSEN, None), (QUAD10, 0.05), (HIMMEL, 0.005)]),
    ("sgd", "momentum", {"momentum": 0.9}, [(QUAD25, 0.01)]),
    ("sgd", "momentum-dampening", {"momentum": 0.9, "dampening": 0.5}, [(BEALE, 0.005)]),
    ("sgd", "nesterov-wd", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
     [(ROSEN, 5e-4)]),
    ("sgd", "wd", {"weight_decay": 0.1}, [(HIMMEL, 0.005)]),

    ("adagrad", "default", {}, [(QUAD10, None), (ROSEN, 0.5), (BEALE, 0.1)]),
    ("adagrad", "lr-decay", {"lr_decay": 0.01}, [(HIMMEL, 0.5)]),
    ("adagrad", "init-acc-eps", {"initial_accumulator_value": 0.5, "eps": 1e-6}, [(QUAD25, 0.5)]),
    ("adagrad", "wd", {"weight_decay": 0.05}, [(ROSEN, 0.3)]),

    ("rmsprop", "default", {}, [(QUAD25, None), (ROSEN, 0.01), (HIMMEL, 0.02)]),
    ("rmsprop", "centered", {"centered": True}, [(BEALE, 0.01)]),
    ("rmsprop", "momentum", {"momentum": 0.9}, [(QUAD10, 0.002)]),
    ("rmsprop", "centered-momentum-wd", {"centered": True, "momentum": 0.9, "weight_decay": 0.01},
     [(ROSEN, 0.002)]),
    ("rmsprop", "alpha-eps", {"alpha": 0.9, "eps": 1e-6}, [(HIMMEL, 0.02)]),

    ("adadelta", "default", {}, [(ROSEN, None), (QUAD10, None), (HIMMEL, None)]),
    ("adadelta", "rho-eps", {"rho": 0.95, "eps": 1e-5}, [(BEALE, 0.5)]),
    ("adadelta", "wd", {"weight_decay": 0.1}, [(ROSEN, None)]),

    ("adam", "default", {}, [(ROSEN, 0.05), (QUAD10, 0.1), (BEALE, 0.05)]),
    ("adam", "amsgrad", {"amsgrad": True}, [(ROSEN, 0.05)]),
    ("adam", "betas-eps", {"betas": [0.5, 0.9], "eps": 1e-6}, [(HIMMEL, 0.05)]),
    ("adam", "wd", {"weight_decay": 0.1}, [(QUAD10, 0.1)]),
    ("adam", "amsgrad-wd", {"amsgrad": True, "weight_decay": 0.05}, [(BEALE, 0.05)]),

    ("adamw", "default", {}, [(ROSEN, 0.05), (QUAD25, 0.1), (HIMMEL, 0.05)]),
    ("adamw", "wd", {"weight_decay": 0.3}, [(QUAD10, 0.1)]),
    ("adamw", "amsgrad", {"amsgrad": True}, [(BEALE, 0.05)]),

    ("nadam", "default", {}, [(QUAD10, None), (ROSEN, 0.05), (HIMMEL, 0.05)]),
    ("nadam", "momentum-decay", {"momentum_decay": 0.01}, [(BEALE, 0.05)]),
    ("nadam", "wd", {"weight_decay": 0.05}, [(QUAD10, 0.1)]),
    ("nadam", "decoupled-wd", {"decoupled_weight_decay": True, "weight_decay": 0.1},
     [(ROSEN, 0.05)]),

    ("radam", "default", {}, [(ROSEN, 0.01), (QUAD25, 0.1), (BEALE, 0.01)]),
    ("radam", "wd", {"weight_decay": 0.05}, [(HIMMEL, 0.05)]),
    ("radam", "decoupled-wd", {"decoupled_weight_decay": True, "weight_decay": 0.1},
     [(QUAD10, 0.1)]),
]

# (optimizer, tag, hyper incl. lr, surface, schedule)
SCHEDULED = [
    ("sgd", "momentum-steplr", {"lr": 5e-4, "momentum": 0.9}, ROSEN,
     {"name": "step", "step_size": 50, "gamma": 0.5}),
    ("adam", "exponentiallr", {"lr": 0.1}, QUAD10, {"name": "exponential", "gamma": 0.99}),
    ("rmsprop", "cosinelr", {"lr": 0.02}, HIMMEL, {"name": "cosine", "T_max": 200, "eta_min": 1e-4}),
]

# maximize=True on −f: the same path as minimising f, reached through the sign flip.
MAXIMIZE = [
    ("sgd", "momentum-maximize", {"lr": 0.01, "momentum": 0.9, "maximize": True}, QUAD10),
    ("adam", "maximize", {"lr": 0.1, "maximize": True}, QUAD25),
]

# Bitwise cases: torch.optim fed optlab's own gradients, with a correctly rounded sqrt (torch's
# float64 sqrt is off by one ulp for ~0.6 % of inputs). optlab must give these numbers exactly.
# The first ones differed by one ulp or more before optlab was fixed (issue 13): centered RMSprop
# with momentum and weight decay (the case that drifted from step 83), and RAdam (torch evaluates
# `float / tensor` as reciprocal(tensor) * float, and its rectification r_t with C's pow). The
# others pin every optimizer's options to the bit.
EXACT = [
    ("rmsprop", "centered-momentum-wd", {"lr": 0.003, "alpha": 0.9, "momentum": 0.5, "weight_decay": 0.01,
                                         "centered": True}, ROSEN),
    ("rmsprop", "momentum-wd", {"lr": 0.01, "alpha": 0.9, "momentum": 0.5, "weight_decay": 0.01}, QUAD10),
    ("radam", "default", {"lr": 0.05}, HIMMEL),
    ("radam", "wd", {"lr": 0.1, "weight_decay": 0.01}, QUAD10),
    ("radam", "decoupled-wd", {"lr": 0.02, "weight_decay": 0.01, "decoupled_weight_decay": True}, HIMMEL),
    ("radam", "beta2-0.98", {"lr": 0.01, "betas": [0.9, 0.98]}, BEALE),
    ("sgd", "nesterov-wd", {"lr": 5e-4, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}, ROSEN),
    ("sgd", "dampening-wd", {"lr": 0.05, "momentum": 0.9, "dampening": 0.5, "weight_decay": 0.01}, QUAD10),
    ("adagrad", "all-options", {"lr": 0.3, "lr_decay": 0.01, "weight_decay": 0.01,
                                "initial_accumulator_value": 0.5}, ROSEN),
    ("rmsprop", "centered", {"lr": 0.02, "centered": True}, HIMMEL),
    ("adadelta", "wd", {"weight_decay": 0.01}, ROSEN),
    ("adam", "amsgrad-wd", {"lr": 0.05, "amsgrad": True, "weight_decay": 0.01}, ROSEN),
    ("adam", "decoupled-wd", {"lr": 0.1, "weight_decay": 0.01, "decoupled_weight_decay": True}, QUAD10),
    ("adamw", "amsgrad", {"lr": 0.05, "amsgrad": True}, HIMMEL),
    ("nadam", "wd", {"lr": 0.1, "weight_decay": 0.01}, QUAD10),
    ("nadam", "decoupled-wd", {"lr": 0.05, "weight_decay": 0.01, "decoupled_weight_decay": True}, ROSEN),
    ("adam", "maximize", {"lr": 0.1, "maximize": True}, HIMMEL),
]


def build_cases():
    cases = []
    for opt, tag, hyper, runs in CONFIGS:
        for (surface, sp, x0, stag), lr in runs:
            h = dict(hyper) if lr is None else {"lr": lr, **hyper}
            cases.append(_case(opt, tag, h, surface, sp, x0, stag))
    for opt, tag, hyper, (surface, sp, x0, stag), sched in SCHEDULED:
        cases.append(_case(opt, tag, dict(hyper), surface, sp, x0, stag, schedule=sched))
    for opt, tag, hyper, (surface, sp, x0, stag) in MAXIMIZE:
        cases.append(_case(opt, tag, dict(hyper), surface, sp, x0, stag, negate=True))
    for opt, tag, hyper, (surface, sp, x0, stag) in EXACT:
        cases.append(_case(opt, f"bitwise-{tag}", dict(hyper), surface, sp, x0, stag,
                           negate=bool(hyper.get("maximize")), exact=True))
    ids = [c["id"] for c in cases]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    return cases


def _case(opt, tag, hyper, surface, sp, x0, stag, schedule=None, negate=False, exact=False):
    c = {"id": f"{opt}-{tag}-{stag}", "optimizer": opt, "torch_class": TORCH_CLASS[opt],
         "hyper": hyper, "surface": surface, "surface_params": dict(sp), "x0": list(x0),
         "steps": STEPS, "schedule": schedule}
    if negate:
        c["negate"] = True
    if exact:
        c["grad"] = "optlab"
    return c


# ------------------------------------------------------------------------------------------
# Running
# ------------------------------------------------------------------------------------------
def make_scheduler(opt, schedule):
    if schedule is None:
        return None
    sch = torch.optim.lr_scheduler
    name = schedule["name"]
    if name == "step":
        return sch.StepLR(opt, step_size=schedule["step_size"], gamma=schedule["gamma"])
    if name == "exponential":
        return sch.ExponentialLR(opt, gamma=schedule["gamma"])
    if name == "cosine":
        return sch.CosineAnnealingLR(opt, T_max=schedule["T_max"], eta_min=schedule["eta_min"])
    raise KeyError(name)


def closed_form_lr(lr0, schedule, k):
    """lr of step k (0-based) from the schedule's closed form, to compare with torch's recursion."""
    n = schedule["name"]
    if n == "step":
        return lr0 * schedule["gamma"] ** (k // schedule["step_size"])
    if n == "exponential":
        return lr0 * schedule["gamma"] ** k
    if n == "cosine":
        e, T = schedule["eta_min"], schedule["T_max"]
        return e + (lr0 - e) * (1 + math.cos(math.pi * k / T)) / 2
    raise KeyError(n)


@contextlib.contextmanager
def ieee_sqrt():
    """torch's float64 sqrt, correctly rounded (as IEEE 754, NumPy and optlab compute it)."""
    def sqrt(t):
        return torch.from_numpy(np.sqrt(t.detach().numpy()))

    def sqrt_(t):
        t.copy_(sqrt(t))
        return t

    saved = torch.Tensor.sqrt, torch.Tensor.sqrt_, torch.sqrt
    torch.Tensor.sqrt, torch.Tensor.sqrt_, torch.sqrt = sqrt, sqrt_, sqrt
    try:
        yield
    finally:
        torch.Tensor.sqrt, torch.Tensor.sqrt_, torch.sqrt = saved


def run_exact(case):
    """A bitwise case: torch.optim on optlab's own values and gradients, with ieee_sqrt."""
    import optlab

    surf = optlab.surfaces.get(case["surface"], **case["surface_params"])
    sign = -1.0 if case.get("negate") else 1.0
    hyper = dict(case["hyper"])
    if "betas" in hyper:
        hyper["betas"] = tuple(hyper["betas"])
    p = torch.tensor(case["x0"])
    opt = getattr(torch.optim, case["torch_class"])([p], foreach=False, **hyper)
    xs, losses = [p.tolist()], []
    with ieee_sqrt():
        for _ in range(case["steps"]):
            f, g = surf.value_and_grad(np.array([p.tolist()]))
            losses.append(sign * float(f[0]))
            p.grad = torch.tensor([sign * float(v) for v in g[0]])
            opt.step()
            xs.append(p.tolist())
    losses.append(sign * float(surf.value_and_grad(np.array([p.tolist()]))[0][0]))
    return xs, losses, [float(opt.param_groups[0]["lr"])] * case["steps"]


def run(case, hand_grad=False):
    """Return (xs, losses, lrs) as Python floats. ``hand_grad`` swaps autograd for grad_by_hand."""
    if case.get("grad") == "optlab":
        return run_exact(case)
    surface, sp = case["surface"], case["surface_params"]
    sign = -1.0 if case.get("negate") else 1.0
    hyper = dict(case["hyper"])
    if "betas" in hyper:
        hyper["betas"] = tuple(hyper["betas"])
    p = torch.tensor(case["x0"], requires_grad=True)
    # foreach=False pins the single-tensor code path (already the CPU default) for reproducibility.
    opt = getattr(torch.optim, case["torch_class"])([p], foreach=False, **hyper)
    sched = make_scheduler(opt, case["schedule"])
    xs, losses, lrs = [p.detach().tolist()], [], []
    for _ in range(case["steps"]):
        opt.zero_grad()
        loss = sign * f_torch(surface, sp, p)
        if hand_grad:
            p.grad = sign * grad_by_hand(surface, sp, p.detach())
        else:
            loss.backward()
        lrs.append(float(opt.param_groups[0]["lr"]))
        opt.step()
        if sched is not None:
            sched.step()
        losses.append(loss.item())
        xs.append(p.detach().tolist())
    with torch.no_grad():
        losses.append((sign * f_torch(surface, sp, p)).item())
    return xs, losses, lrs


def _max_gap(xs_a, xs_b):
    return max(abs(a - b) for ra, rb in zip(xs_a, xs_b) for a, b in zip(ra, rb))


def keyword_effects(case, xs):
    """How far the path moves when each non-lr keyword is dropped (reset to torch's default).

    A tiny effect means the case cannot tell an implementation that ignores that keyword. The
    eps keywords move paths by only ~3e-7 (sqrt(v) is far larger), still 1e8 x the round-off.
    """
    effects = {}
    for key in case["hyper"]:
        if key in ("lr", "maximize"):
            continue
        other = dict(case, hyper={k: v for k, v in case["hyper"].items() if k != key})
        try:
            effects[key] = _max_gap(xs, run(other)[0])
        except ValueError:  # e.g. nesterov without momentum is refused by torch
            continue
    return effects


def check(case, xs, losses):
    """Problems that make a case useless as a reference (diverged, stuck, or instantly done)."""
    bad = []
    if not all(math.isfinite(v) for row in xs for v in row) or not all(map(math.isfinite, losses)):
        bad.append("non-finite")
        return bad
    if max(abs(v) for row in xs for v in row) > 20:
        bad.append("left the window (|x| > 20)")
    if abs(max(losses, key=abs)) > 100 * max(abs(losses[0]), 1.0):
        bad.append("loss blew up")
    moved_late = math.dist(xs[2], xs[-1])
    if moved_late < 1e-3:
        bad.append(f"no progress after step 2 (moved {moved_late:.1e})")
    return bad


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)

    torch.set_default_dtype(torch.float64)
    capability = torch.backends.cpu.get_cpu_capability()
    if capability != "DEFAULT":
        print(f"torch runs its {capability} kernels, not the portable ones: set ATEN_CPU_CAPABILITY=default "
              "before torch is imported", file=sys.stderr)
        return 1
    cases = build_cases()
    problems = 0
    print(f"torch {torch.__version__}; {len(cases)} cases, {STEPS} steps each")
    print(f"{'id':45s} {'final x':>12s} {'final y':>12s} {'final loss':>11s}  {'|Δ| hand grad':>12s} {'min effect':>10s}")
    for case in cases:
        xs, losses, lrs = run(case)
        dev = 0.0 if case.get("grad") == "optlab" else _max_gap(xs, run(case, hand_grad=True)[0])
        effects = keyword_effects(case, xs)
        case["xs"], case["losses"] = xs, losses
        if case["schedule"] is not None:
            case["lrs"] = lrs
        bad = check(case, xs, losses)
        bad += [f"{k} barely matters ({e:.0e})" for k, e in effects.items() if e < 1e-8]
        problems += bool(bad)
        flag = ("  <-- " + "; ".join(bad)) if bad else ""
        print(f"{case['id']:45s} {xs[-1][0]:12.6g} {xs[-1][1]:12.6g} {losses[-1]:11.4g}  "
              f"{dev:12.2e} {min(effects.values(), default=float('nan')):10.1e}{flag}")
        if case["schedule"] is not None:
            lr0 = case["hyper"]["lr"]
            gap = max(abs(v - closed_form_lr(lr0, case["schedule"], k)) / lr0
                      for k, v in enumerate(lrs))
            print(f"{'':45s} lrs {lrs[0]:.4g} -> {lrs[-1]:.4g}; max rel. gap to closed form "
                  f"{gap:.1e}")

    doc = {"torch_version": torch.__version__, "dtype": "float64", "cpu_capability": capability,
           "mkl_cbwr": os.environ["MKL_CBWR"], "cases": cases}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    # One case per line: compact, yet diffs stay readable case by case.
    body = ",\n".join(json.dumps(c, separators=(",", ":"), allow_nan=False) for c in cases)
    head = json.dumps({k: doc[k] for k in ("torch_version", "dtype", "cpu_capability", "mkl_cbwr")})[:-1]
    args.out.write_text(f'{head}, "cases": [\n{body}\n]}}\n')
    json.loads(args.out.read_text())  # round-trip check
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)")
    if problems:
        print(f"{problems} case(s) flagged above", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
