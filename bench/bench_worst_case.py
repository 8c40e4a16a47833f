"""Worst-case and typical reruns of every page: server CPU per rerun, worst and median per page.

    .venv/bin/python bench/bench_worst_case.py                 # every case of CASES
    .venv/bin/python bench/bench_worst_case.py --page arena    # the cases of pages whose file matches
    .venv/bin/python bench/bench_worst_case.py --kind worst    # only the worst cases

Each case opens a page in a fresh AppTest session (Streamlit's caches cleared first, so every case
pays for its own computations, as the first student to ask does), optionally through a link (query
parameters), then applies its actions one rerun at a time: widget values written into the
session state (what a browser sends), and button clicks.  The CPU time of the process is measured
around every rerun: the opening one (cold caches: the first visitor after a start), a plain rerun
of it ("again": warm caches), then each step (``time.process_time``: all threads of this
process, which is what the server's GIL would serve; the formula worker is another process and
is reported apart).  Typical cases are what a student does every minute; worst cases are the
dearest thing a widget range or a link allows (the issue-11 list).

To add a case, append a :class:`Case` to ``CASES``: a page file, a label, ``"typical"`` or
``"worst"``, an optional ``query`` (a link's parameters), and ``steps``: a list of reruns, each a
dict of ``{widget key: value}`` to set and/or ``{"click": key}`` to press a button.

The target (issue 11): no rerun above 1 s of server CPU, a typical one ≤ 0.1 s.  Pages that do not
apply a budget yet show it here.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tools"))

HOSTILE_FORMULA = "(((1000001/1000000)**100)**100)**100*x"
NEWTON_FORMULA = "+".join(f"sin(x*{i})*cos(y*{i})" for i in range(1, 14))   # near the formula size limits
BFGS_SLOW = "bfgs:c1=0.5,max_backtracks=60,shrink=0.9"
NEWTON_LS = "newton:c1=0.5,line_search=1,max_backtracks=60,shrink=0.9"
ARENA = "pages/7_Optimizer_arena.py"
LOSS = "pages/1_Loss_functions.py"
NEWTON = "pages/3_Newton_method.py"
ADAPTIVE = "pages/4_Adaptive_methods.py"
OVERFIT = "pages/5_Overfitting_and_gradients.py"
GD = "pages/2_Gradient_descent.py"
CHALLENGES = "pages/6_Challenges_ahead.py"


@dataclass
class Case:
    page: str                      # page file, relative to the repository
    label: str
    kind: str                      # "typical" or "worst"
    steps: list[dict[str, Any]] = field(default_factory=list)  # one rerun each
    query: dict[str, str] | None = None                          # a link's parameters
    note: str = ""


def race(surface: str, racers: list[str], n: int, **extra) -> dict[str, str]:
    return {"s": surface, "n": str(n), "o": ";".join(racers), **extra}


CASES: list[Case] = [
    # --- home -------------------------------------------------------------------------------
    Case("app.py", "open the home page", "typical"),
    # --- loss functions ---------------------------------------------------------------------
    Case(LOSS, "open", "typical"),
    Case(LOSS, "catalogue: move Huber's δ", "typical", [{"lf_delta": 1.5}]),
    Case(LOSS, "outliers: move the outlier size", "typical", [{"lf_section": "Outliers"}, {"lf_out_size": 6.0}]),
    Case(LOSS, "outliers: Adam × 480 steps (the most) on the three surfaces", "worst",
         [{"lf_section": "Outliers"}, {"lf_lab_opt": "adam", "lf_lab_steps": 480, "lf_out_count": 10}]),
    Case(LOSS, "optimizer: move the learning rate", "typical", [{"lf_section": "Optimizer"}, {"lf_cp_lr": 0.05}]),
    Case(LOSS, "optimizer: Adadelta × 240 steps (the most) on six losses", "worst",
         [{"lf_section": "Optimizer"}, {"lf_cp_opt": "adadelta", "lf_cp_lr": 10.0, "lf_cp_steps": 240,
                                        "lf_cp_loss": "log_cosh"}]),
    Case(LOSS, "optimizer: NAdam × 240 steps, then another feature", "worst",
         [{"lf_section": "Optimizer"}, {"lf_cp_opt": "nadam", "lf_cp_steps": 240}, {"lf_cp_feature": "s5"}]),
    Case(LOSS, "cross-entropy: move the steps", "typical", [{"lf_section": "Cross-entropy"}, {"lf_ce_steps": 400}]),
    Case(LOSS, "cross-entropy: 720 steps (the most) on another feature", "worst",
         [{"lf_section": "Cross-entropy"}, {"lf_ce_feature": "worst area", "lf_ce_steps": 720, "lf_ce_lr": 10.0}]),
    Case(LOSS, "cross-entropy opened cold from a link: another feature, 720 steps", "worst",
         query={"sec": "ce", "cf": "worst concavity", "et": "720", "elr": "10", "st": "origin"}),
    Case(LOSS, "optimizer opened cold from a link: quantile, RAdam × 240 steps, another feature", "worst",
         query={"sec": "optimizer", "x": "s3", "l": "quantile", "cq": "0.9", "co": "radam", "clr": "5", "ct": "240"}),
    # --- gradient descent -------------------------------------------------------------------
    Case(GD, "open", "typical"),
    Case(GD, "Batch vs SGD: move lr, batch, epochs, seed", "typical",
         [{"gd_lr": 0.2}, {"gd_batch": 64}, {"gd_epochs": 5}, {"gd_seed": 7}, {"gd_feature": "s5"}]),
    Case(GD, "open each section by its link", "typical",
         [{"gd_section": s} for s in ("Learning rate", "Momentum", "Schedules", "Article's code", "Fixed code")]),
    Case(GD, "Learning rate: presets, a custom lr, 200 steps", "typical",
         [{"gd_preset": "oscillating"}, {"gd_preset": "custom"}, {"gd_lr_custom": 0.05}, {"gd_lr_steps": 200}],
         query={"sec": "lr"}),
    Case(GD, "Momentum: β and γ moved, 1,000 steps", "typical",
         [{"gd_mo_beta": 0.5}, {"gd_mo_lr": 0.2}, {"gd_mo_steps": 1000}], query={"sec": "momentum"}),
    Case(GD, "Schedules: each schedule, batch 64", "typical",
         [{"gd_sched": "step"}, {"gd_sched_bs": 64}, {"gd_sched_epochs": 6}, {"gd_sched": "warmup_cosine"}],
         query={"sec": "schedules"}),
    Case(GD, "Batch vs SGD at 10 epochs, b = 2, every new seed (link)", "worst",
         [{"gd_seed": 9999}, {"gd_feature": "s6"}],
         query={"sec": "variants", "e": "10", "b": "2", "lr": "0.5", "s": "1234"}),
    Case(GD, "Schedules: batch 1 × 6 epochs (link)", "worst", [{"gd_sched": "step"}],
         query={"sec": "schedules", "sb": "1", "se": "6", "sg": "0.3"}),
    Case(GD, "Fixed code: 3,000 GD steps and 5,000 SGD steps (link)", "worst", [{"gd_art_sgd_lr": 0.1}],
         query={"sec": "fixed", "gn": "3000", "sn": "5000"}),
    Case(GD, "Learning rate: custom lr 1e300, then −1e300 (link)", "worst", [{"gd_lr_custom": -1e300}],
         query={"sec": "lr", "p": "custom", "c": "1e300", "n": "200"}),
    # --- Newton -----------------------------------------------------------------------------
    Case(NEWTON, "open, move the 1-D start", "typical", [{"nw1_x0": 0.5}]),
    Case(NEWTON, "1-D: step through the iterates", "typical", [{"nw1_k": 1}, {"nw1_k": 2}]),
    Case(NEWTON, "2-D: open the section, most iterations 200", "typical",
         [{"nw_section": "Two dimensions"}, {"nw2_steps": 200}]),
    Case(NEWTON, "2-D: step through the iterates, switch to LM", "typical",
         [{"nw_section": "Two dimensions"}, {"nw2_k": 3}, {"nw2_variant": "lm"}]),
    Case(NEWTON, "cost: open the comparison (Himmelblau), move n", "typical",
         [{"nw_section": "What it costs"}, {"nw3_n": 10}]),
    Case(NEWTON, "BFGS: open, step through", "typical", [{"nw_section": "BFGS"}, {"nw3_k": 3}]),
    Case(NEWTON, "hostile formula in the 2-D formula box", "worst",
         [{"nw_section": "Two dimensions"}, {"nw2_surface": "custom"}, {"nw2_formula": HOSTILE_FORMULA}]),
    Case(NEWTON, "typed formula near the size limits in the 2-D box, damped, 200 steps", "worst",
         [{"nw_section": "Two dimensions"}, {"nw2_surface": "custom"}, {"nw2_formula": NEWTON_FORMULA},
          {"nw2_steps": 200}]),
    Case(NEWTON, "… the comparison on it (3 Newtons, BFGS, 61 gradient-descent rates)", "worst",
         [{"nw_section": "What it costs"}], query={"sec": "cost", "s": "custom", "f": NEWTON_FORMULA}),
    Case(NEWTON, "… BFGS on it", "worst", query={"sec": "bfgs", "s": "custom", "f": NEWTON_FORMULA}),
    Case(NEWTON, "the comparison on Rosenbrock (gradient descent's search runs out of budget)", "worst",
         query={"sec": "cost", "s": "rosenbrock", "x0": "-1.5", "y0": "2"}),
    Case(NEWTON, "the comparison on Goldstein–Price from (1, 1.6) (BFGS 200 steps)", "worst",
         query={"sec": "cost", "s": "goldstein_price", "x0": "1", "y0": "1.6"}),
    Case(NEWTON, "BFGS section on Goldstein–Price from (1, 1.6)", "worst",
         query={"sec": "bfgs", "s": "goldstein_price", "x0": "1", "y0": "1.6"}),
    Case(NEWTON, "2-D: LM δ = 0.01 with line search on Beale from (−4, 4), 200 steps", "worst",
         query={"sec": "2d", "s": "beale", "x0": "-4", "y0": "4", "m2": "lm", "d2": "0.01", "n": "200"}),
    Case(NEWTON, "the comparison on the typed formula + 100·x (no minimum: every search to its work limit)", "worst",
         query={"sec": "cost", "s": "custom", "f": NEWTON_FORMULA + "+100*x", "x0": "0.3", "y0": "0.2"}),
    Case(NEWTON, "BFGS section on |x| + |y| (line searches keep failing: stopped by the work limit)", "worst",
         query={"sec": "bfgs", "s": "custom", "f": "abs(x)+abs(y)", "x0": "1.3", "y0": "0.7"}),
    Case(NEWTON, "teacher mode, the comparison section (every answer computed up front)", "worst",
         query={"sec": "cost", "teacher": "1", "s": "rosenbrock", "x0": "-1.5", "y0": "2"}),
    # --- adaptive methods -------------------------------------------------------------------
    Case(ADAPTIVE, "open", "typical"),
    Case(ADAPTIVE, "State at a step: 2000 steps", "typical",
         [{"ad_section": "State at a step"}, {"ad_st_T": 2000}]),
    Case(ADAPTIVE, "hostile formula in the State-at-a-step formula box", "worst",
         [{"ad_section": "State at a step"}, {"ad_st_surface": "custom"}, {"ad_st_formula": HOSTILE_FORMULA}]),
    Case(ADAPTIVE, "Momentum: move β", "typical", [{"ad_mo_beta": 0.5}, {"ad_mo_beta": 0.8}]),
    Case(ADAPTIVE, "Momentum: κ 1000, 500 steps, Nesterov phase diagram (48 × 45 runs)", "worst",
         [{"ad_mo_kappa": 1000, "ad_mo_steps": 500}, {"ad_mo_phase": "Nesterov"}, {"ad_mo_lr": 5.0}]),
    Case(ADAPTIVE, "Momentum: a link to the dearest phase diagram", "worst",
         query={"sec": "momentum", "k": "1000", "n": "500", "ph": "nesterov", "lr": "0.0001"}),
    Case(ADAPTIVE, "State at a step: 4 optimizers × 500 steps on a typed formula near the size limits", "worst",
         [{"ad_section": "State at a step"},
          {"ad_st_opts": ["adadelta", "radam", "nadam", "adam"], "ad_st_T": 500, "ad_st_t": 500},
          {"ad_st_surface": "custom"},
          {"ad_st_formula": "+".join(f"sin(x*{i})*cos(y*{i})" for i in range(1, 14))}]),
    Case(ADAPTIVE, "Adam family: every difference at 1,000 / 500 steps", "worst",
         [{"ad_section": "Adam family", "ad_fam": "AdamW vs L2", "ad_wd_steps": 1000, "ad_wd_surface": "himmelblau"},
          {"ad_fam": "AMSGrad", "ad_am_steps": 1000}, {"ad_fam": "Bias correction", "ad_bc_steps": 500},
          {"ad_fam": "NAdam", "ad_na_steps": 500}, {"ad_fam": "RAdam", "ad_ra_steps": 500}]),
    Case(ADAPTIVE, "Schedules: warm-up cosine, 500 steps", "worst",
         [{"ad_section": "Schedules", "ad_sc_name": "warmup_cosine", "ad_sc_steps": 500}]),
    Case(ADAPTIVE, "LR finder: mini-batch 1, 300 steps, Adam", "worst",
         [{"ad_section": "LR finder", "ad_lf_bs": 1, "ad_lf_steps": 300}, {"ad_lf_opt": "adam"}]),
    # --- overfitting and gradients ----------------------------------------------------------
    Case(OVERFIT, "open", "typical"),
    Case(OVERFIT, "overfitting: degree 15, then 200 points", "typical", [{"ov_degree": 15}, {"ov_n": 200}]),
    Case(OVERFIT, "regularization: open, move the lasso's λ", "typical",
         [{"ov_section": "Penalties"}, {"ov_lam1": 0.1}]),
    Case(OVERFIT, "early stopping: open, patience 20", "typical",
         [{"ov_section": "Early stop"}, {"ov_patience": 20}]),
    Case(OVERFIT, "early stopping: 60 points × 64 units × 1,000 epochs (link)", "worst",
         query={"sec": "es", "en": "60", "ew": "64", "ee": "1000", "es": "0.6"}),
    Case(OVERFIT, "learning rate by CV: Adam, 10 folds × 500 steps, 200 points, degree 12 (link)", "worst",
         query={"sec": "cv", "co": "adam", "k": "10", "cs": "500", "cn": "200", "cd": "12", "lo": "1e-06", "hi": "10"}),
    Case(OVERFIT, "gradient lab: open, move the depth", "typical", [{"ov_section": "Gradients"},
                                                                      {"ov_lab_depth": 25}]),
    Case(OVERFIT, "gradient lab: train the default network, then the same again", "typical",
         [{"ov_section": "Gradients"}, {"ov_lab_view": "train"}, {}]),
    Case(OVERFIT, "gradient lab: 30 × 32 batch norm, residual, 600 steps, train (link)", "worst",
         query={"sec": "lab", "L": "30", "w": "32", "t": "600", "bn": "1", "rc": "1", "v": "train"}),
    Case(OVERFIT, "gradient lab: compare the fixes at 30 layers × 32 units, 600 steps, twice", "worst",
         [{"ov_section": "Gradients"}, {"ov_lab_depth": 30, "ov_lab_width": 32, "ov_lab_steps": 600},
          {"ov_lab_view": "compare"}, {}]),
    Case(OVERFIT, "clipping: Adam, 300 steps", "typical",
         [{"ov_section": "Clipping"}, {"ov_cl_opt": "adam", "ov_cl_steps": 300}]),
    # --- challenges ahead -------------------------------------------------------------------
    Case(CHALLENGES, "open (data parallel), move the warm-up steps", "typical", [{"ch_wu_warm": 30}]),
    Case(CHALLENGES, "data parallel: target 1 %, 5 seeds, batch 256 without warm-up", "worst",
         [{"ch_sc_gap": 0.01, "ch_sc_seeds": 5, "ch_wu_batch": 256, "ch_wu_warm": 0}]),
    Case(CHALLENGES, "stale workers: move η·λ, then the workers", "typical",
         [{"ch_section": "Stale workers"}, {"ch_st_lr": 0.5}, {"ch_fl_k": 6}]),
    Case(CHALLENGES, "stale workers: breast cancer, 10 workers, 60 rounds, τ ≤ 20 (link)", "worst",
         query={"sec": "stale", "d": "cancer", "K": "10", "R": "60", "tau": "20", "sl": "2.5"}),
    Case(CHALLENGES, "many tasks: move the step of the arrows, switch to MGDA", "typical",
         [{"ch_section": "Many tasks"}, {"ch_mt_at": 50}, {"ch_mt_method": "mgda"}]),
    Case(CHALLENGES, "many tasks: GradNorm, 3 tasks, 600 steps (link)", "worst",
         query={"sec": "tasks", "nt": "3", "m": "gradnorm", "ms": "600", "at": "600"}),
    Case(CHALLENGES, "privacy: open the section (7 accountant curves + 24 DP-SGD runs)", "worst",
         [{"ch_section": "Privacy"}]),
    Case(CHALLENGES, "privacy: move σ, then δ (cached runs and curves)", "typical",
         [{"ch_section": "Privacy"}, {"ch_pv_sigma": 2.0}, {"ch_pv_delta": 1e-6}]),
    Case(CHALLENGES, "privacy: q 0.01, 400 steps, C 0.1 (link, cold accountant)", "worst",
         query={"sec": "privacy", "q": "0.01", "T": "400", "C": "0.1"}),
    Case(CHALLENGES, "landscapes: open, then 40×40 basins, 50 restarts, 41×41 slice", "worst",
         [{"ch_section": "Landscapes"}, {"ch_ls_grid": 40, "ch_ls_restarts": 50, "ch_ls_n": 41}]),
    Case(CHALLENGES, "landscapes: move ρ, then the slice's directions", "typical",
         [{"ch_section": "Landscapes"}, {"ch_ls_rho": 0.1}, {"ch_ls_dir": 1}]),
    # --- arena ------------------------------------------------------------------------------
    Case(ARENA, "open (default race)", "typical"),
    Case(ARENA, "move the steps slider", "typical", [{"arena_steps": 500}]),
    Case(ARENA, "switch the view to Animation", "typical", [{"arena_view": "Animation"}]),
    Case(ARENA, "Auto-tune section, sweep on (default race)", "typical",
         [{"arena_section": "Auto-tune"}, {"arena_tune": True}]),
    Case(ARENA, "8 BFGS × 2,000 steps on Goldstein–Price (c1 0.5, shrink 0.9, 60 backtracks)", "worst",
         query=race("goldstein_price", [BFGS_SLOW] * 8, 2000, x="-1.5,1.5")),
    Case(ARENA, "… and auto-tune on", "worst", [{"arena_section": "Auto-tune"}, {"arena_tune": True}],
         query=race("goldstein_price", [BFGS_SLOW] * 8, 2000, x="-1.5,1.5")),
    Case(ARENA, "… as one link, Auto-tune section with the sweep on", "worst",
         query=race("goldstein_price", [BFGS_SLOW] * 8, 2000, x="-1.5,1.5", sec="tune", t="1")),
    Case(ARENA, "8 line-search Newtons × 2,000 steps on Beale", "worst",
         query=race("beale", [NEWTON_LS] * 8, 2000, x="1,1.5")),
    Case(ARENA, "… and auto-tune on", "worst", [{"arena_section": "Auto-tune"}, {"arena_tune": True}],
         query=race("beale", [NEWTON_LS] * 8, 2000, x="1,1.5")),
    Case(ARENA, "8 Adam × 2,000 steps on Ackley, auto-tune on (8 full sweeps)", "worst",
         query=race("ackley", ["adam:lr=0.01"] * 8, 2000, sec="tune", t="1")),
    Case(ARENA, "8 BFGS × 2,000 steps, Animation view", "worst",
         query=race("goldstein_price", [BFGS_SLOW] * 8, 2000, x="-1.5,1.5", v="anim")),
    Case(ARENA, "8 BFGS × 2,000 steps, 3-D view", "worst",
         query=race("goldstein_price", [BFGS_SLOW] * 8, 2000, x="-1.5,1.5", v="3d")),
    Case(ARENA, "8 racers × 2,000 steps on a typed formula near the size limits", "worst",
         query={"s": "custom", "n": "2000", "f": "+".join(f"sin(x*{i})*cos(y*{i})" for i in range(1, 14)),
                "o": ";".join(["adam:lr=0.01"] * 4 + [BFGS_SLOW] * 4)}),
    Case(ARENA, "hostile formula as a link", "worst", query={"s": "custom", "f": HOSTILE_FORMULA}),
    Case(ARENA, "hostile formula typed in the formula box", "worst",
         [{"arena_surface": "custom"}, {"arena_formula": HOSTILE_FORMULA}]),
    Case(ARENA, "a 100 kB link of 20,000 unknown optimizer names", "worst",
         query={"o": ";".join(f"zz{i}" for i in range(20_000))}),
]


def _children_cpu() -> float:
    """CPU of this process's children and grandchildren (the formula worker), if psutil is there."""
    try:
        import psutil
    except ImportError:
        return float("nan")
    total = 0.0
    for c in psutil.Process().children(recursive=True):
        try:
            t = c.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


_SCRIPT_ENDS: list[float] = []   # process CPU at the end of every script run (a step can hold several)


def _count_script_runs() -> None:
    """Note the CPU clock at the end of every script run: a page that spreads work over reruns
    (st.rerun) runs its script several times inside one AppTest run, and the budget is per rerun."""
    from streamlit.testing.v1.local_script_runner import LocalScriptRunner

    if getattr(LocalScriptRunner._on_script_finished, "_timed", False):
        return
    inner = LocalScriptRunner._on_script_finished

    def timed(self, *a, **kw):
        _SCRIPT_ENDS.append(time.process_time())
        return inner(self, *a, **kw)

    timed._timed = True
    LocalScriptRunner._on_script_finished = timed


def run_case(case: Case, timeout: float) -> list[tuple[str, float, float, list[str]]]:
    """(what, server CPU s, worker CPU s, exceptions) for the opening run and each step; a step
    whose page reran itself (st.rerun) is reported once per script run ("step 2 · run 3/6")."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    _count_script_runs()

    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=timeout)
    if case.query:
        at.query_params.update(case.query)
    out = []

    def measured(what, fn):
        w0, c0 = _children_cpu(), time.process_time()
        del _SCRIPT_ENDS[:]
        fn()
        c1, w1 = time.process_time(), _children_cpu()
        ends = [e for e in _SCRIPT_ENDS if c0 <= e <= c1]
        exc = [e.value for e in at.exception]
        if len(ends) > 1:   # one row per script run; AppTest's own work after the last goes to it
            marks = [c0] + ends[:-1] + [c1]
            runs = [b - a for a, b in zip(marks, marks[1:])]
            for i, cpu in enumerate(runs, 1):
                out.append((f"{what} · run {i}/{len(runs)}", cpu, (w1 - w0) if i == 1 else 0.0, exc))
        else:
            out.append((what, c1 - c0, w1 - w0, exc))

    if case.page == "app.py":
        measured("open", at.run)
    else:
        at.run()  # the home page first: switching is how AppTest reaches a page (not measured)
        measured("open", lambda: at.switch_page(case.page).run())
    measured("again", at.run)  # the same page again: what a warm cache makes of it
    for i, step in enumerate(case.steps, 1):
        step = dict(step)
        click = step.pop("click", None)
        for key, value in step.items():
            at.session_state[key] = value
        if click is not None:
            buttons = [b for b in at.button if b.key == click]
            if buttons:
                buttons[0].click()
            else:
                out.append((f"step {i}: no button {click!r} on the page", 0.0, 0.0, []))
                continue
        measured(f"step {i}", at.run)
    return out


def catalogue_costs() -> None:
    """The measured costs behind optlab.chapters.adaptive.CATALOGUE_RERUN: per catalogue surface,
    one call (1 point), one point in a batch of 4,096, one step of one Adam run with the full record
    (call included), and the per-run part of a batched SGD step (the phase diagram's sweep)."""
    import numpy as np

    from optlab import optimizers, surfaces, sweeps
    from optlab.chapters.adaptive import CATALOGUE_RERUN
    from optlab.runner import run

    print(f"{'surface':18s} {'call µs':>8s} {'point µs':>9s} {'Adam step µs':>12s}")
    for n in surfaces.names():
        s = surfaces.get(n)
        x1 = np.asarray(s.starts[0], float).reshape(1, -1)
        xb = np.repeat(x1, 4096, 0)
        c = time.process_time()
        for _i in range(300):
            s.grad(x1)
        call = (time.process_time() - c) / 300
        c = time.process_time()
        for _i in range(10):
            s.grad(xb)
        pt = ((time.process_time() - c) / 10 - call) / 4095
        c = time.process_time()
        run(s, optimizers.make("adam", lr=1e-3), s.starts[0], 300, record="full")
        stp = (time.process_time() - c) / 300
        print(f"{n:18s} {call * 1e6:8.1f} {pt * 1e6:9.3f} {stp * 1e6:12.1f}")
    q = surfaces.get("quadratic", condition=1000.0)
    c = time.process_time()
    sweeps.sweep(q, "sgd", {"lr": np.geomspace(1e-5, 4e-3, 10), "momentum": np.linspace(0.02, 0.98, 10)},
                 q.starts[0], 500, target=1e-12, fixed={"nesterov": True})
    print(f"batched SGD (100 runs × 500 steps): {(time.process_time() - c) / 5e4 * 1e6:.3f} µs per run-step")
    b = CATALOGUE_RERUN
    print(f"CATALOGUE_RERUN in units of 0.1 µs: evals {b.evals:,.0f}, call {b.call_cost:g}, step {b.step_cost:g}, "
          f"run-step {b.run_step_cost:g}")


def teacher_cases() -> list[Case]:
    """Teacher mode (``?teacher=1``) on every section of every chapter: each question's answer is
    computed up front there, so a section's questions run together in one rerun."""
    from optlab.ui import lessons

    pages = {Path(f).stem.split("_", 1)[1]: f for f in map(str, Path(REPO).glob("pages/*.py"))}
    out = []
    for ch in lessons.chapters():
        file = pages.get(ch.page.path)
        sec = ch.page.section_param
        if file is None or sec is None:
            continue
        for code in sec.codes:
            out.append(Case(str(Path(file).relative_to(REPO)), f"teacher mode, section {code}", "worst",
                            query={"sec": code, "teacher": "1"}))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--page", help="only pages whose file name contains this")
    ap.add_argument("--kind", choices=("typical", "worst"), help="only these cases")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds for one rerun (AppTest)")
    ap.add_argument("--catalogue", action="store_true", help="measure the catalogue surfaces' costs (adaptive page)")
    args = ap.parse_args(argv)
    if args.catalogue:
        catalogue_costs()
        return 0
    try:
        from threadpoolctl import threadpool_limits  # as the server does (optlab/ui/__init__.py)

        threadpool_limits(limits=1, user_api="blas")
    except ImportError:
        pass
    import optlab.ui  # noqa: F401 - start-up imports and the formula worker, as in the server
    from streamlit import config

    config.set_option("client.showErrorDetails", "full")  # say which exception a case raised

    cases = [c for c in CASES + teacher_cases() if (not args.page or args.page.lower() in c.page.lower())
             and (not args.kind or c.kind == args.kind)]
    per_page: dict[str, list[tuple[str, float]]] = {}
    print(f"{'page':28s} {'kind':8s} {'case':70s} {'rerun':8s} {'server CPU s':>12s} {'worker s':>9s}")
    for case in cases:
        t0 = time.perf_counter()
        try:
            rows = run_case(case, args.timeout)
        except Exception as exc:  # noqa: BLE001 - one broken case must not hide the others
            print(f"{Path(case.page).stem:28s} {case.kind:8s} {case.label[:70]:70s} FAILED: {type(exc).__name__}: {exc}")
            continue
        for what, cpu, worker, exc in rows:
            per_page.setdefault(case.page, []).append((case.kind, cpu))
            flag = "  EXCEPTION: " + exc[0][:80] if exc else ""
            over = "  > 1 s" if cpu > 1.0 else ("  > 0.1 s" if case.kind == "typical" and cpu > 0.1 else "")
            print(f"{Path(case.page).stem:28s} {case.kind:8s} {case.label[:70]:70s} {what:8s} {cpu:12.3f} "
                  f"{worker:9.3f}{over}{flag}")
        print(f"{'':28s} {'':8s} {'(wall time of the case: %.1f s)' % (time.perf_counter() - t0):70s}")
    print("\nper page: server CPU per rerun (s)")
    print(f"{'page':28s} {'reruns':>6s} {'median':>8s} {'worst':>8s} {'typical worst':>14s}")
    for page, xs in per_page.items():
        cpus = [c for _, c in xs]
        typical = [c for k, c in xs if k == "typical"]
        print(f"{Path(page).stem:28s} {len(cpus):6d} {statistics.median(cpus):8.3f} {max(cpus):8.3f} "
              f"{(max(typical) if typical else float('nan')):14.3f}")
    print(f"\nload average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
