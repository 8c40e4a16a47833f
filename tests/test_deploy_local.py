"""deploy/run-local.sh: replicas behind HAProxy on one machine, started and stopped for real.

Loopback only, free ports, every wait bounded.  Checked through the balancer: health; two
sessions (a page load hands each its replica cookie) whose websockets are served by the replica
their cookie names; a download link each session made is served to that session by its replica,
and is missing on the other replica (so the check can fail); the shared cookie secret; a clean
stop on Ctrl-C (SIGINT to the process group, as a terminal sends it) and on SIGTERM, with no
process left (the replicas' formula workers included); /_stcore/metrics refused at the
balancer; a replica dying stops the rest; no HAProxy: a clear message.  Needs Debian's
haproxy (.ci/run installs it); skipped with a hint without it, except in CI.
"""
from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import psutil
import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "deploy" / "run-local.sh"
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tools"))
import load_sessions as bench  # noqa: E402  (bench/load_sessions.py: the protocol client)
from serve import free_port  # noqa: E402

HAPROXY = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.access("/usr/sbin/haproxy", os.X_OK) else None)
CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
needs_haproxy = pytest.mark.skipif(HAPROXY is None and not CI,
                                   reason="HAProxy not installed (apt-get install haproxy; .ci/run does it)")
ARENA = "Optimizer arena"


class Running:
    """deploy/run-local.sh in its own process group (like a terminal's foreground job)."""

    def __init__(self, tmp: Path, replicas: int, secret: str | None = None):
        self.port = free_port()
        self.ports = [free_port() for _ in range(replicas)]
        self.log = tmp / "run-local.log"
        env = {**os.environ, "OPTLAB_REPLICAS": str(replicas), "OPTLAB_PORT": str(self.port),
               "OPTLAB_BIND": "127.0.0.1", "OPTLAB_REPLICA_PORTS": " ".join(map(str, self.ports)),
               "OPTLAB_RUN_DIR": str(tmp / "run"), "OPTLAB_PYTHON": sys.executable}
        env.pop("OPTLAB_COOKIE_SECRET", None)
        if secret:
            env["OPTLAB_COOKIE_SECRET"] = secret
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(["bash", str(SCRIPT)], cwd=tmp, env=env, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 180
        while "OptLab is up" not in self.text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.kill_all()
                pytest.fail(f"run-local.sh did not come up:\n{self.text()}")
            time.sleep(0.2)
        self.tree = self.processes()

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def processes(self) -> list[psutil.Process]:
        p = psutil.Process(self.proc.pid)
        return [p, *p.children(recursive=True)]

    def replicas(self) -> list[psutil.Process]:
        return [p for p in self.tree[1:] if "streamlit" in " ".join(p.cmdline())]

    def alive(self) -> list[str]:
        out = []
        for p in self.tree:
            try:
                if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                    out.append(f"{p.pid} {' '.join(p.cmdline())[:80]}")
            except psutil.NoSuchProcess:
                pass
        return out

    def wait_all_gone(self, timeout: float = 20) -> list[str]:
        deadline = time.monotonic() + timeout
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.2)
        return self.alive()

    def kill_all(self) -> None:
        for p in getattr(self, "tree", None) or [psutil.Process(self.proc.pid)]:
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass


@pytest.fixture
def running(tmp_path):
    made = []

    def start(replicas: int, secret: str | None = None) -> Running:
        r = Running(tmp_path, replicas, secret)
        made.append(r)
        return r

    yield start
    for r in made:  # whatever a test did, nothing outlives it
        r.kill_all()


async def two_sessions(url: str) -> list[dict]:
    """Two browser tabs through the balancer: cookie, websocket replica; the first tab opens the
    arena, whose download links are files in its replica's memory only (a file's URL is its
    content's hash, so the second tab opens no page with the same files)."""
    target = bench.Target(url, [], True)
    out = []
    sockets = []
    try:
        for k in range(2):
            ws, cookie, err = await bench.open_session(target)
            assert ws is not None, err
            sockets.append(ws)
            served = bench.header(ws.response.headers, bench.REPLICA_HEADER)
            r = await bench.run_script(ws)
            if k == 0:
                arena = next(p for p in r.pages if p.name == ARENA)
                r = await bench.run_script(ws, arena.script_hash)
                assert r.downloads, "the arena offers a download link"
            assert not r.exceptions, r.exceptions
            out.append(dict(cookie=cookie, served=served, err=err, downloads=r.downloads))
        # the first tab's files, fetched with its own cookie and with the other replica's
        for s in out:
            s["own"] = []
            s["other"] = []
            for url_path in s["downloads"]:
                full = urllib.parse.urljoin(url + "/", url_path)
                other = next(o["cookie"] for o in out if o["cookie"] != s["cookie"])
                for key, cookie in (("own", s["cookie"]), ("other", other)):
                    status, headers, body = await asyncio.to_thread(
                        bench.http_get, full, f"{bench.AFFINITY_COOKIE}={cookie}")
                    s[key].append((status, bench.header(headers, bench.REPLICA_HEADER), len(body)))
    finally:
        for ws in sockets:
            await ws.close()
    return out


@needs_haproxy
def test_two_replicas_keep_each_session_and_stop_on_ctrl_c(running):
    secret = "test-secret-" + "x" * 20
    r = running(2, secret)
    assert len(r.replicas()) == 2
    # health through the balancer, and the cookie that pins the tab
    status, headers, body = bench.http_get(r.url + "/_stcore/health")
    assert status == 200 and body == b"ok"
    assert bench.replica_cookie(headers) in ("r1", "r2")
    assert bench.header(headers, bench.REPLICA_HEADER) == bench.replica_cookie(headers)

    # one core each (OPTLAB_PIN_CPUS, default on): a replica's threads take turns on the GIL without
    # being moved between cores; two cores or more: not the same one
    cores = [tuple(p.cpu_affinity()) for p in r.replicas()]
    assert all(len(c) == 1 for c in cores), cores
    if len(os.sched_getaffinity(0)) >= 2:
        assert cores[0] != cores[1], cores
    assert "one core each" in r.text()

    # one secret for both replicas, from the environment (not visible in `ps`)
    for p in r.replicas():
        assert p.environ().get("STREAMLIT_SERVER_COOKIE_SECRET") == secret
        assert secret not in " ".join(p.cmdline())

    sessions = asyncio.run(asyncio.wait_for(two_sessions(r.url), 180))
    assert {s["cookie"] for s in sessions} == {"r1", "r2"}, "leastconn sends the second tab to the idle replica"
    assert sessions[0]["downloads"] and not sessions[1]["downloads"]
    for s in sessions:
        assert s["err"] is None and s["served"] == s["cookie"], s
        assert all(st == 200 and rep == s["cookie"] and n > 0 for st, rep, n in s["own"]), s["own"]
        # the same link through the other replica's cookie: that replica never had the file
        assert all(st == 404 and rep != s["cookie"] for st, rep, _ in s["other"]), s["other"]

    # the balancer keeps Streamlit's metrics to itself
    status, _, _ = bench.http_get(r.url + "/_stcore/metrics")
    assert status == 403

    # Ctrl-C in a terminal: SIGINT to the whole foreground process group
    r.tree = r.processes()  # with whatever the replicas started since (the formula worker)
    os.killpg(r.proc.pid, signal.SIGINT)
    assert r.proc.wait(timeout=30) == 0, r.text()
    assert r.wait_all_gone() == [], f"left running after Ctrl-C:\n{r.text()}"
    assert "stopped" in r.text()
    with pytest.raises(OSError):
        bench.http_get(r.url + "/_stcore/health", timeout=2)


@needs_haproxy
def test_sigterm_stops_everything(running):
    r = running(1)
    assert len(r.tree) >= 3  # the script, a replica, HAProxy
    r.tree = r.processes()
    r.proc.send_signal(signal.SIGTERM)  # the script only, as `kill` or systemd sends it
    assert r.proc.wait(timeout=30) == 0, r.text()
    assert r.wait_all_gone() == [], f"left running after SIGTERM:\n{r.text()}"


@needs_haproxy
def test_a_replica_that_dies_stops_the_rest(running):
    r = running(1)
    r.replicas()[0].kill()
    assert r.proc.wait(timeout=30) == 1, r.text()
    assert r.wait_all_gone() == [], r.text()
    assert "stopping the rest" in r.text()


def test_no_haproxy_gives_a_clear_message(tmp_path):
    env = {**os.environ, "OPTLAB_HAPROXY": str(tmp_path / "no-haproxy-here"), "OPTLAB_PORT": str(free_port())}
    t0 = time.monotonic()
    res = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 1
    assert "HAProxy is not installed" in res.stderr and "apt-get install haproxy" in res.stderr
    assert time.monotonic() - t0 < 30  # refuses before starting anything


@pytest.mark.parametrize("env, message", [
    ({"OPTLAB_REPLICAS": "0"}, "OPTLAB_REPLICAS must be"),
    ({"OPTLAB_REPLICAS": "2", "OPTLAB_REPLICA_PORTS": "9001"}, "lists 1 ports for 2 replicas"),
    ({"OPTLAB_PYTHON": "/nonexistent/python"}, "no Python with OptLab's requirements"),
    ({"OPTLAB_PIN_CPUS": "yes"}, "OPTLAB_PIN_CPUS must be 0 or 1"),
])
def test_bad_settings_are_named(env, message):
    res = subprocess.run(["bash", str(SCRIPT)], env={**os.environ, "OPTLAB_HAPROXY": "/bin/true", **env},
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 1 and message in res.stderr, res.stderr


@needs_haproxy
def test_busy_port_is_named(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        busy = s.getsockname()[1]
        env = {**os.environ, "OPTLAB_REPLICAS": "1", "OPTLAB_PORT": str(busy), "OPTLAB_BIND": "127.0.0.1",
               "OPTLAB_PYTHON": sys.executable, "OPTLAB_RUN_DIR": str(tmp_path)}
        res = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 1 and f"port {busy} is not free" in res.stderr, res.stderr
