"""What translation costs per page run: one gettext look-up, the language set-up + selector +
navigation of ui.page_config, and whole pages in English and in Chinese.

    .venv/bin/python bench/bench_i18n.py                  # home page + every page file
    .venv/bin/python bench/bench_i18n.py --reruns 30 --pages app.py

Prints (1) the cost of one `_()` call in English (fast path), in Chinese with the language
activated (a full run) and in Chinese through the session resolver (a fragment rerun or callback),
measured inside a real script run; (2) how many `_()`/`ngettext` calls each page makes per run and
what they cost; (3) the median server time of a page rerun under AppTest in en and zh.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

PROBE = '''
import time
import streamlit as st
from optlab import i18n, ui
from optlab.i18n import domain

_, N_, ngettext = domain("optlab")
ui.page_config()
N = 20000
msgs = ["Surface", "Set it up", "What to look for", "step", "Not in any catalog"]

def per_call(lang_mode):
    t = time.perf_counter()
    for i in range(N):
        _(msgs[i % 5])
    return (time.perf_counter() - t) / N

res = {}
with i18n.using("en"):
    res["en"] = per_call("en")
with i18n.using("zh"):
    res["zh (activated)"] = per_call("zh")
def first_call():                       # as in a fragment rerun: only the resolver knows
    t = 0.0
    for i in range(N // 10):
        token = i18n._LANG.set(None)
        t0 = time.perf_counter()
        _(msgs[i % 5])
        t += time.perf_counter() - t0
        i18n._LANG.reset(token)
    return t / (N // 10)
res["zh (resolver, 1st)"] = first_call()
t = time.perf_counter()
for _i in range(200):
    ui.i18n.setup()
t_setup = (time.perf_counter() - t) / 200
t = time.perf_counter()
for _i in range(50):
    ui.i18n.sidebar_navigation()
t_nav = (time.perf_counter() - t) / 50
st.session_state["bench"] = dict(res, setup=t_setup, nav=t_nav)
'''


def probe() -> dict:
    from streamlit.testing.v1 import AppTest

    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "app.py").write_text(textwrap.dedent(PROBE))
        at = AppTest.from_file(str(Path(d) / "app.py"), default_timeout=120)
        at.query_params["lang"] = "zh"
        at.run()
        assert not at.exception, at.exception
        return at.session_state["bench"]


def page_runs(page: str, lang: str, reruns: int) -> tuple[float, int]:
    """(median seconds of a rerun, translation calls per run)."""
    from streamlit.testing.v1 import AppTest

    from optlab import i18n

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.query_params["lang"] = lang
    i18n.activate(lang)
    at.run()
    if page != "app.py":
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    calls = [0]
    real = i18n.current

    def counting():
        calls[0] += 1
        return real()

    i18n.current = counting  # every _()/ngettext asks current() exactly once
    try:
        at.run()
        per_run = calls[0]
        times = []
        for _i in range(reruns):
            t = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - t)
    finally:
        i18n.current = real
    return statistics.median(times), per_run


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reruns", type=int, default=15)
    ap.add_argument("--pages", nargs="*", default=None)
    args = ap.parse_args()
    from conftest import page_files

    pages = args.pages or page_files(ROOT)
    b = probe()
    print("one translation, inside a script run (20 000 calls each):")
    for k in ("en", "zh (activated)", "zh (resolver, 1st)"):
        print(f"  _() {k:<20} {b[k] * 1e6:6.2f} µs")
    print("  (a fragment rerun pays the resolver once, then the activated price)")
    print(f"  ui.i18n.setup() (language from session, URL check)  {b['setup'] * 1e6:6.1f} µs")
    print(f"  ui.i18n.sidebar_navigation() (7 page links)          {b['nav'] * 1e6:6.1f} µs")
    print()
    print(f"{'page':<40} {'calls/run':>9} {'en run':>9} {'zh run':>9} {'zh−en':>8} {'calls×cost':>11}")
    for page in pages:
        t_en, n_en = page_runs(page, "en", args.reruns)
        t_zh, n_zh = page_runs(page, "zh", args.reruns)
        cost = n_zh * b["zh (activated)"]
        print(f"{page:<40} {n_zh:>9} {t_en * 1e3:7.1f}ms {t_zh * 1e3:7.1f}ms {(t_zh - t_en) * 1e3:+6.1f}ms "
              f"{cost * 1e3:9.3f}ms")


if __name__ == "__main__":
    main()
