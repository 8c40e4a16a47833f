"""What the URL-state and lesson mechanisms cost per script run (optlab.ui.state, optlab.ui.lessons).

    .venv/bin/python bench/bench_lessons.py            # ~1 min on 2 cores

Prints, in one run:
1. reading a link against a page declaration (pure Python): a typical link, a hostile one, 999 names;
2. a rerun of a small page of six widgets, built with plain st widgets and with the state.* wrappers
   (+ state.open, + lessons.open and a question card): the difference is the mechanism's cost per run;
3. a rerun of the adaptive page's momentum section (the real page) for scale.
Medians over repeated AppTest reruns (AppTest runs the script in this process, like the server).
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from optlab.ui import adaptive as ad  # noqa: E402

PLAIN = """
import streamlit as st
st.set_page_config(layout="wide")
for k, v in {"k": 25, "lr": 0.03, "b": 0.9, "n": 200, "ph": "hb", "z": False}.items():
    if "t_" + k not in st.session_state:
        st.session_state["t_" + k] = v
st.select_slider("k", [1, 2, 5, 10, 25, 50, 100], key="t_k")
st.select_slider("lr", [0.001, 0.003, 0.01, 0.03, 0.1], key="t_lr")
st.slider("b", 0.0, 0.99, step=0.01, key="t_b")
st.slider("n", 20, 500, step=10, key="t_n")
st.radio("ph", ["hb", "nesterov"], key="t_ph")
st.toggle("z", key="t_z")
"""

WRAPPED = """
import streamlit as st
from optlab.ui import lessons, state
st.set_page_config(layout="wide")
K = state.Choice("k", "t_k", [1, 2, 5, 10, 25, 50, 100], 25)
LR = state.Choice("lr", "t_lr", [0.001, 0.003, 0.01, 0.03, 0.1], 0.03)
B = state.Float("b", "t_b", 0.0, 0.99, 0.9, step=0.01)
N = state.Int("n", "t_n", 20, 500, 200, step=10)
PH = state.Choice("ph", "t_ph", ["hb", "nesterov"], "hb")
Z = state.Flag("z", "t_z")
PAGE = state.Page("Bench", [K, LR, B, N, PH, Z])
Q = lessons.Question("q", "t", "?", {"k": 50}, choices=("a", "b"), outcome=lambda v: 0 if v["k"] > 10 else 1)
CH = lessons.Chapter(PAGE, "Bench", questions=(Q,))
if MODE == "lessons":
    lessons.open(CH)
else:
    state.open(PAGE)
state.select_slider(K); state.select_slider(LR); state.slider(B); state.slider(N); state.radio(PH); state.toggle(Z)
if MODE == "lessons":
    lessons.ask(Q)
    lessons.hidden()
"""


def median_rerun(script: str, n: int, move) -> float:
    from streamlit.testing.v1 import AppTest

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "page.py"
        path.write_text(textwrap.dedent(script))
        at = AppTest.from_file(str(path), default_timeout=60)
        at.run()
        times = []
        for i in range(n):
            move(at, i)
            t0 = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - t0)
            assert not at.exception, at.exception
        return statistics.median(times)


def mechanism_time(script: str, n: int) -> float:
    """Median per run of the time spent in optlab.ui.state / lessons, minus the Streamlit widget
    calls they make (those a page without the mechanism makes too)."""
    import functools

    import streamlit as st
    from optlab.ui import lessons, state

    clock = {"outer": 0.0, "inner": 0.0, "depth": 0}

    def timed(fn, kind):
        @functools.wraps(fn)
        def g(*a, **k):
            if kind == "outer" and clock["depth"]:
                return fn(*a, **k)
            clock["depth"] += kind == "outer"
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                if kind == "outer" or clock["depth"]:
                    clock[kind] += time.perf_counter() - t0
                clock["depth"] -= kind == "outer"
        return g

    outer = [(state, n_) for n_ in ("open", "slider", "select_slider", "radio", "toggle")]
    outer += [(lessons, n_) for n_ in ("open", "ask", "hidden")]
    inner = [(st, n_) for n_ in ("slider", "select_slider", "radio", "toggle")]
    saved = [(m, n_, getattr(m, n_)) for m, n_ in outer + inner]
    for m, n_ in outer:
        setattr(m, n_, timed(getattr(m, n_), "outer"))
    for m, n_ in inner:
        setattr(m, n_, timed(getattr(m, n_), "inner"))
    try:
        per_run = []

        def move(at, i):
            move_slider(at, i)
            clock["outer"] = clock["inner"] = 0.0

        from streamlit.testing.v1 import AppTest

        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "page.py"
            path.write_text(textwrap.dedent(script))
            at = AppTest.from_file(str(path), default_timeout=60)
            at.run()
            for i in range(n):
                move(at, i)
                at.run()
                per_run.append(clock["outer"] - clock["inner"])
        return statistics.median(per_run)
    finally:
        for m, n_, fn in saved:
            setattr(m, n_, fn)


def move_slider(at, i):
    at.slider(key="t_b").set_value(round(0.5 + 0.01 * (i % 40), 2))


def main() -> None:
    n = 40
    print("1. Reading a link (Page.read, adaptive page declaration)")
    links = {
        "typical (4 values)": {"sec": "momentum", "k": "50", "lr": "0.02", "b": "0.9"},
        "hostile (5 problems)": {"k": "3", "b": "7", "n": "nan", "zz": "**x**", "lr": ["1", "2"]},
        "999 unknown names (~100 kB)": {f"name{i:03d}_" + "x" * 92: "1" for i in range(999)},
    }
    for name, q in links.items():
        reps = 2000 if len(q) < 50 else 50
        t0 = time.perf_counter()
        for _rep in range(reps):
            ad.PAGE.read(q).warning()
        print(f"   {name:30s} {1e6 * (time.perf_counter() - t0) / reps:9.1f} µs")

    print(f"2. The mechanism's own time per rerun of a six-widget page (AppTest, median of {n}, a slider moved)")
    for mode in ("state", "lessons"):
        own = mechanism_time(f"MODE = {mode!r}\n" + WRAPPED, n)
        what = "state.open + 6 state.* widgets" if mode == "state" else "+ lessons.open, ask, hidden"
        print(f"   {what:32s} {1e3 * own:6.3f} ms  (Streamlit's own widget calls excluded)")
    base = median_rerun(PLAIN, n, move_slider)
    print(f"   for scale: the same page with plain st widgets reruns in {1e3 * base:.2f} ms")

    print(f"3. The adaptive page, momentum section (AppTest, median of {n // 2}, β moved; cached runs)")
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/4_Adaptive_methods.py").run()
    betas = [0.5, 0.6]
    for b in betas:  # warm the caches for the two values used below
        at.slider(key="ad_mo_beta").set_value(b).run()
    times = []
    for i in range(n // 2):
        at.slider(key="ad_mo_beta").set_value(betas[i % 2])
        t0 = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t0)
    print(f"   whole page rerun               {1e3 * statistics.median(times):7.2f} ms")


if __name__ == "__main__":
    main()
