"""Start and stop an OptLab server on 127.0.0.1: the one helper for scripts and tests.

    from serve import start_server, stop_server      # tools/ on sys.path
    proc, url = start_server(app_dir, log_path)      # waits for /_stcore/health
    ...
    stop_server(proc)

Loopback only, no file watcher (every new session starts faster without it), no usage stats.
Used by the benchmarks, tools/screenshot_pages.py, tests/browser/conftest.py and
tests/test_sessions_isolated.py.  A server that dies or never turns healthy raises RuntimeError
with its log.
"""
from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(app_dir: Path, log_path: Path | None = None, timeout: float = 60.0,
                 cpus: Iterable[int] | None = None) -> tuple[subprocess.Popen, str]:
    """Run ``streamlit run app.py`` in ``app_dir`` on a free loopback port; return (process, url).
    ``cpus``: run it on these cores only (``taskset -c``, as deploy/run-local.sh pins a replica)."""
    port = free_port()
    log = open(log_path, "wb") if log_path else subprocess.DEVNULL
    pin = ["taskset", "-c", ",".join(str(int(c)) for c in cpus)] if cpus else []
    proc = subprocess.Popen(
        pin + [sys.executable, "-m", "streamlit", "run", "app.py",
         "--server.headless", "true", "--server.address", "127.0.0.1",
         "--server.port", str(port), "--server.fileWatcherType", "none",
         "--browser.gatherUsageStats", "false"],
        cwd=app_dir, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            detail = log_path.read_text(errors="replace") if log_path else ""
            raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{detail}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop_server(proc)
            raise RuntimeError(f"streamlit not healthy after {timeout:g} s" + (f", see {log_path}" if log_path else ""))
        time.sleep(0.2)


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()  # this PID only
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
