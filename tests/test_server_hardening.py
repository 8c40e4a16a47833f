"""A class server: a cold start under a crowd, no tracebacks to students, a clean stop under attack.

1. Cold start: a fresh server, 15 sessions opening pages at the same instant over Streamlit's
   websocket, three times; no page may raise (it did: "partially initialized module 'pandas' has no
   attribute 'Series'").  And, without a server: once optlab.ui is imported, running every page
   imports no further third-party package (what a page run imports lazily, two sessions can race on).
2. No tracebacks: the repository's .streamlit/config.toml, on a test app whose page raises: the
   browser gets Streamlit's short notice only (no type, no message, no stack, no path), and the
   server's log gets the whole traceback.  /_stcore/metrics answers fast and carries no user data.
3. SIGTERM during an attack: while the formula worker is stuck in a C call that holds its GIL
   (the issue's gcd, sent to the worker directly), the server answers /_stcore/health at once and
   stops on SIGTERM, and its helper processes (the worker and its zygote) are gone with it.
"""
from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
import serve  # noqa: E402  (tools/serve.py)

psutil = pytest.importorskip("psutil")
websockets = pytest.importorskip("websockets")

PAGES = ["", "Loss_functions", "Gradient_descent", "Newton_method", "Adaptive_methods",
         "Overfitting_and_gradients", "Optimizer_arena"]


async def _open(ws_url: str, page_name: str, timeout: float = 120) -> list[tuple[str, object]]:
    """Open one page in a new session; the elements it sent, as (type, proto), once it finished."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    async with websockets.connect(ws_url, subprotocols=["streamlit"], max_size=None) as ws:
        m = BackMsg()
        m.rerun_script.query_string = ""
        m.rerun_script.page_name = page_name
        await ws.send(m.SerializeToString())
        out = []
        while True:
            fm = ForwardMsg()
            fm.ParseFromString(await asyncio.wait_for(ws.recv(), timeout))
            kind = fm.WhichOneof("type")
            if kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                el = fm.delta.new_element
                out.append((el.WhichOneof("type"), getattr(el, el.WhichOneof("type"))))
            elif kind == "script_finished":
                return out


def _exceptions(elements) -> list[str]:
    return [f"{e.type}: {e.message}" for kind, e in elements if kind == "exception"]


def _ws(url: str) -> str:
    return url.replace("http://", "ws://") + "/_stcore/stream"


# ------------------------------------------------------------------------------------------------
# 1. Cold start under a crowd
# ------------------------------------------------------------------------------------------------
def test_fresh_server_serves_fifteen_sessions_opened_at_once(tmp_path):
    for rnd in range(3):
        proc, url = serve.start_server(REPO, tmp_path / f"server{rnd}.log")
        try:
            async def crowd():
                pages = [PAGES[i % len(PAGES)] for i in range(15)]
                return await asyncio.gather(*(_open(_ws(url), p) for p in pages))

            results = asyncio.run(asyncio.wait_for(crowd(), 300))
        finally:
            serve.stop_server(proc)
        problems = [f"{PAGES[i % len(PAGES)] or 'home'}: {x}" for i, r in enumerate(results) for x in _exceptions(r)]
        assert not problems, f"round {rnd}: " + "; ".join(problems[:5])
        assert all(r for r in results), "a session got no page"


def test_page_runs_import_no_third_party_package_after_optlab_ui():
    """What a page run imports lazily, two sessions' threads can import at once, and a library that
    peeks at sys.modules (Plotly does, for pandas) then finds a half-built module."""
    code = f"""
import sys, glob, json
sys.path.insert(0, {str(REPO)!r})
import optlab.ui
assert "pandas" in sys.modules and "pyarrow" in sys.modules  # imported by optlab.ui, once
from streamlit.testing.v1 import AppTest
before = set(sys.modules)
for page in ["app.py"] + sorted(glob.glob("pages/*.py")):
    at = AppTest.from_file({str(REPO)!r} + "/" + page, default_timeout=180)
    at.run()
    assert not at.exception, (page, [e.value for e in at.exception])
new = {{m.split(".")[0] for m in set(sys.modules) - before}}
print(json.dumps(sorted(new)))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    import json

    new = set(json.loads(out.stdout.strip().splitlines()[-1]))
    first_party = {"optlab", "streamlit", "plotly", "_plotly_utils"}  # import locks cover their own lazy parts
    third_party = {m for m in new - first_party if m not in sys.stdlib_module_names and not m.startswith("_")}
    assert not third_party, f"page runs still import {sorted(third_party)}: add them to optlab.ui.STARTUP_IMPORTS"


# ------------------------------------------------------------------------------------------------
# 2. No tracebacks to the browser
# ------------------------------------------------------------------------------------------------
FAILING_APP = '''
import streamlit as st
st.title("A page that fails")
def helper():
    raise ValueError("secret detail in /srv/optlab/private/file.py")
helper()
'''


def test_a_failing_page_shows_students_no_traceback_and_logs_it(tmp_path):
    (tmp_path / ".streamlit").mkdir()
    shutil.copy(REPO / ".streamlit" / "config.toml", tmp_path / ".streamlit" / "config.toml")
    assert 'showErrorDetails = "none"' in (REPO / ".streamlit" / "config.toml").read_text()
    (tmp_path / "app.py").write_text(FAILING_APP)
    log = tmp_path / "server.log"
    proc, url = serve.start_server(tmp_path, log)
    try:
        elements = asyncio.run(asyncio.wait_for(_open(_ws(url), ""), 120))
        t0 = time.perf_counter()
        with urllib.request.urlopen(url + "/_stcore/metrics", timeout=10) as r:
            metrics = r.read().decode()
        metrics_s = time.perf_counter() - t0
    finally:
        serve.stop_server(proc)
    exc = [e for kind, e in elements if kind == "exception"]
    assert len(exc) == 1
    e = exc[0]
    shown = f"{e.type} {e.message} {' '.join(e.stack_trace)}"
    assert e.type == "" and list(e.stack_trace) == []
    assert "ValueError" not in shown and "secret" not in shown and "/srv" not in shown and "helper" not in shown
    assert e.message.startswith("This app has encountered an error.")
    logged = log.read_text(errors="replace")
    assert "Uncaught app execution" in logged and "secret detail in /srv/optlab/private/file.py" in logged
    assert 'in helper' in logged
    # the metrics endpoint: quick, and nothing about who the users are
    assert metrics_s < 2.0
    assert "user_session_events" not in metrics and "email" not in metrics


# ------------------------------------------------------------------------------------------------
# 3. SIGTERM during an attack
# ------------------------------------------------------------------------------------------------
ATTACK_APP = '''
import streamlit as st
import optlab.surfaces.formula_worker as fw
# The issue's formula as a program, straight to the worker (the checker would refuse the text):
# one C-level gcd of million-digit integers. A long limit, so that it is running at SIGTERM.
BOMB = ("*", ("**", ("**", ("**", ("/", ("int", 1000001), ("int", 1000000)), ("int", 100)),
                       ("int", 100)), ("int", 100)), ("name", "x"))
st.write(fw.POOL.run({"program": BOMB}, cpu_limit=120.0, wall_limit=240.0).get("reason"))
'''


def _helpers(pid: int) -> list:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def test_server_stops_on_sigterm_while_sympy_holds_a_worker(tmp_path):
    (tmp_path / "app.py").write_text(ATTACK_APP)
    proc, url = serve.start_server(tmp_path, tmp_path / "server.log")
    helpers = []
    try:
        async def attack():
            from streamlit.proto.BackMsg_pb2 import BackMsg

            ws = await websockets.connect(_ws(url), subprotocols=["streamlit"], max_size=None)
            m = BackMsg()
            m.rerun_script.query_string = ""
            m.rerun_script.page_name = ""
            await ws.send(m.SerializeToString())
            return ws

        loop = asyncio.new_event_loop()
        ws = loop.run_until_complete(attack())
        # wait until a worker is busy in SymPy (some CPU burnt by a grandchild of the server)
        deadline = time.monotonic() + 60
        busy = False
        while time.monotonic() < deadline and not busy:
            helpers = _helpers(proc.pid)
            # a worker is a child of the zygote, which is the server's child
            busy = any(h.ppid() != proc.pid and h.cpu_times().user > 0.5 for h in helpers)
            time.sleep(0.2)
        assert busy, "the attack never reached the worker"
        t0 = time.perf_counter()
        with urllib.request.urlopen(url + "/_stcore/health", timeout=5) as r:
            assert r.status == 200
        assert time.perf_counter() - t0 < 1.0, "the server stalled during the attack"
        proc.send_signal(signal.SIGTERM)
        t0 = time.perf_counter()
        proc.wait(timeout=15)
        stop_s = time.perf_counter() - t0
        loop.run_until_complete(ws.close())
        loop.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    assert stop_s < 10, f"SIGTERM took {stop_s:.1f} s"
    deadline = time.monotonic() + 10
    alive = helpers
    while alive and time.monotonic() < deadline:
        alive = [h for h in helpers if h.is_running() and h.status() != psutil.STATUS_ZOMBIE]
        time.sleep(0.2)
    assert not alive, f"helper processes outlived the server: {[h.cmdline()[:3] for h in alive]}"
