"""A full classroom: many Streamlit sessions on OptLab, over the app's own websocket.

Each session is what a student's browser tab does, minus the drawing: it loads the page (through
HAProxy that is what hands out the replica cookie), opens every page of the app in turn (a
`rerun_script` with the page's script hash, the list taken from the server's `navigation`
message) and, where the page has a slider, moves one slider once. The script prints the median
and 95th percentile time of a page run as the client sees it (send -> script_finished), the
exceptions the pages showed, the server's memory (PSS and RSS) and its CPU time per page run.

Three ways to serve a class, three modes:

    .venv/bin/python bench/load_sessions.py                         # one process (own server), 50 sessions
    .venv/bin/python bench/load_sessions.py --cpu 0                 # the same, the server pinned to core 0
    .venv/bin/python bench/load_sessions.py --replicas 2 --sessions 100   # deploy/run-local.sh: HAProxy + 2
    .venv/bin/python bench/load_sessions.py --url http://127.0.0.1:8501 --pid 12345   # a running server
    .venv/bin/python bench/load_sessions.py --sessions 20 --ramp 10
    .venv/bin/python bench/load_sessions.py --sessions 0 --reruns 1000   # memory stays bounded?
    .venv/bin/python bench/load_sessions.py --sessions 30 --profile /tmp/prof   # + py-spy, per stage

Through the balancer (--replicas, or --url of a run-local.sh) every session also checks its
affinity: the replica that served its websocket (HAProxy's X-OptLab-Replica header) is the one its
OPTLAB_REPLICA cookie names, and a download link its arena page made (a file that exists only in
that replica's memory) is fetched through the balancer with the session's cookie and served by
the same replica. The report says how many sessions each replica had.

Before the measured sessions, one session per server process opens every page (imports, caches
and first runs are paid there) and one idle session per process stays connected, as a teacher's
tab would. Traffic goes to 127.0.0.1 only; every wait has a timeout and the counts are bounded.
The frame format is Streamlit's internal protocol (checked with Streamlit 1.67): pin Streamlit
when comparing runs. Exit status: 0 when every run finished without an exception and every
affinity check passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.Slider_pb2 import Slider
from streamlit.proto.WidgetStates_pb2 import WidgetState

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from serve import free_port, start_server, stop_server  # noqa: E402  (tools/serve.py)

REPO_ROOT = Path(__file__).resolve().parents[1]
MAX_SESSIONS = 500  # bounded load, whatever is asked
MAX_RERUNS = 20_000
MIB = 2**20
MOVABLE = ("slider", "selectbox", "radio", "checkbox")  # element types varied by --reruns
AFFINITY_COOKIE = "OPTLAB_REPLICA"  # deploy/haproxy.cfg
FULL_RERUNS = False  # --full-reruns: widget moves rerun the whole page (the bench before fragments)
REPLICA_HEADER = "X-OptLab-Replica"


# --- server -------------------------------------------------------------------------------------


def pid_listening_on(port: int) -> int | None:
    try:
        for c in psutil.net_connections(kind="tcp"):
            if c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN and c.pid:
                return c.pid
    except psutil.AccessDenied:
        pass
    return None


def _pids(pid) -> list[int]:
    return [] if pid is None else ([pid] if isinstance(pid, int) else list(pid))


def memory(pid) -> tuple[float, float] | None:
    """(PSS, RSS) in MiB of the server process(es), summed; PSS counts shared pages once."""
    pids = _pids(pid)
    if not pids:
        return None
    pss = rss = 0.0
    for p in pids:
        info = psutil.Process(p).memory_full_info()
        pss += getattr(info, "pss", info.rss) / MIB
        rss += info.rss / MIB
    return pss, rss


def cpu_seconds(pid) -> float | None:
    """User + system CPU seconds of the server process(es), summed."""
    pids = _pids(pid)
    if not pids:
        return None
    total = 0.0
    for p in pids:
        t = psutil.Process(p).cpu_times()
        total += t.user + t.system
    return total


# --- deploy/run-local.sh -----------------------------------------------------------------------


@dataclass
class LocalReplicas:
    """deploy/run-local.sh started by the bench: HAProxy on `url`, replicas on `replica_pids`."""

    proc: subprocess.Popen
    url: str
    replica_pids: list[int]
    haproxy_pid: int | None
    run_dir: Path


def start_local_replicas(n: int, app_dir: Path, timeout: float = 180) -> LocalReplicas:
    """Start deploy/run-local.sh with `n` replicas on free loopback ports; wait until it says it is up."""
    if shutil.which("haproxy") is None and not os.access("/usr/sbin/haproxy", os.X_OK):
        raise SystemExit("--replicas needs HAProxy: apt-get install haproxy (see deploy/run-local.sh)")
    port, ports = free_port(), [free_port() for _ in range(n)]
    run_dir = Path(tempfile.mkdtemp(prefix="optlab-bench-replicas-"))
    env = {**os.environ, "OPTLAB_REPLICAS": str(n), "OPTLAB_PORT": str(port), "OPTLAB_BIND": "127.0.0.1",
           "OPTLAB_REPLICA_PORTS": " ".join(map(str, ports)), "OPTLAB_RUN_DIR": str(run_dir),
           "OPTLAB_PYTHON": sys.executable}
    with open(run_dir / "run-local.log", "wb") as log:  # the child keeps its own copy of the file
        proc = subprocess.Popen(["bash", str(app_dir / "deploy" / "run-local.sh")], env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + timeout
    while b"OptLab is up" not in (run_dir / "run-local.log").read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_local_replicas(LocalReplicas(proc, "", [], None, run_dir))
            raise RuntimeError("deploy/run-local.sh did not come up:\n"
                               + (run_dir / "run-local.log").read_text(errors="replace"))
        time.sleep(0.2)
    kids = psutil.Process(proc.pid).children()
    replicas = [k.pid for k in kids if "streamlit" in " ".join(k.cmdline())]
    haproxy = next((k.pid for k in kids if "haproxy" in k.name()), None)
    return LocalReplicas(proc, f"http://127.0.0.1:{port}", replicas, haproxy, run_dir)


def stop_local_replicas(lr: LocalReplicas) -> list[int]:
    """SIGTERM to run-local.sh (as Ctrl-C or systemd would); returns the PIDs of its processes
    still alive 15 s later (none expected)."""
    tree = [lr.proc.pid]
    try:
        tree += [c.pid for c in psutil.Process(lr.proc.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        pass
    lr.proc.send_signal(signal.SIGTERM)
    try:
        lr.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        pass
    _, alive = psutil.wait_procs([psutil.Process(p) for p in tree if psutil.pid_exists(p)], timeout=5)
    left = [p.pid for p in alive]
    for p in alive:  # the bench leaves nothing behind, whatever the script did
        p.kill()
    if lr.proc.poll() is None:
        lr.proc.kill()
    return left


# --- protocol -----------------------------------------------------------------------------------


@dataclass
class Page:
    script_hash: str
    name: str
    url_path: str


@dataclass
class RunResult:
    seconds: float
    widgets: list  # (kind, proto) of the enabled widgets this bench can move, in page order
    exceptions: list[str]
    pages: list[Page]  # from the navigation message, if the run sent one
    downloads: list[str] = field(default_factory=list)  # URLs of the run's download buttons
    fragments: dict = field(default_factory=dict)  # widget id -> id of the st.fragment drawing it ("": none)

    @property
    def sliders(self) -> list:
        return [w for kind, w in self.widgets if kind == "slider"]


@dataclass
class Stats:
    runs: dict = field(default_factory=dict)  # (page name, "open" | "slider") -> [seconds]
    exceptions: list = field(default_factory=list)  # (page name, message)
    failures: list = field(default_factory=list)  # session-level errors (timeouts, closed sockets)
    replicas: collections.Counter = field(default_factory=collections.Counter)  # sessions per replica
    affinity_checks: int = 0  # websocket + download checks that passed
    affinity_errors: list = field(default_factory=list)

    def add(self, page: str, kind: str, r: RunResult) -> None:
        self.runs.setdefault((page, kind), []).append(r.seconds)
        self.exceptions.extend((page, m) for m in r.exceptions)


def rerun_msg(page_hash: str = "", widgets=(), fragment_id: str = "") -> bytes:
    m = BackMsg()
    m.rerun_script.query_string = ""
    m.rerun_script.page_script_hash = page_hash
    m.rerun_script.widget_states.widgets.extend(widgets)
    if fragment_id:  # a widget inside an st.fragment: the browser reruns that fragment only
        m.rerun_script.fragment_id = fragment_id
    return m.SerializeToString()


FINISHED = (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR,
            ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)


async def run_script(ws, page_hash: str = "", widgets=(), timeout: float = 120, fragment_id: str = "") -> RunResult:
    """Ask for a run and read frames until it has finished (a run cut short by another does not)."""
    t0 = time.perf_counter()
    await ws.send(rerun_msg(page_hash, widgets, fragment_id))
    widgets, exceptions, pages, downloads, fragments = [], [], [], [], {}
    while True:
        fm = ForwardMsg()
        fm.ParseFromString(await asyncio.wait_for(ws.recv(), timeout))
        kind = fm.WhichOneof("type")
        if kind == "navigation":
            pages = [Page(p.page_script_hash, p.page_name, p.url_pathname) for p in fm.navigation.app_pages]
        elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
            el = fm.delta.new_element
            which = el.WhichOneof("type")
            if which in MOVABLE and not getattr(el, which).disabled:
                widgets.append((which, getattr(el, which)))
                fragments[getattr(el, which).id] = fm.delta.fragment_id
            elif which == "exception":
                exceptions.append(f"{el.exception.type}: {el.exception.message}")
            elif which == "download_button" and el.download_button.url:
                downloads.append(el.download_button.url)
        elif kind == "script_finished" and fm.script_finished in FINISHED:
            return RunResult(time.perf_counter() - t0, widgets, exceptions, pages, downloads, fragments)


def moved_slider(s, rng: random.Random | None = None) -> WidgetState:
    """The widget state of slider `s` moved one step from its default (rng: to a random value)."""
    w = WidgetState(id=s.id)
    default = list(s.default)
    if s.type == Slider.SELECT_SLIDER:
        n = len(s.options)
        idx = [int(i) for i in default]
        if rng is not None:
            idx = sorted(rng.randrange(n) for _ in idx)
        else:
            idx[-1] = idx[-1] + 1 if idx[-1] + 1 < n else idx[-1] - 1
            idx.sort()
        w.string_array_value.data.extend(s.options[i] for i in idx)
        return w
    step = s.step or (1 if s.data_type == Slider.INT else (s.max - s.min) / 100)
    n_steps = max(int(round((s.max - s.min) / step)), 1)
    if rng is not None:
        values = sorted(s.min + rng.randint(0, n_steps) * step for _ in default)
    else:
        values = list(default)
        up = values[-1] + step
        values[-1] = up if up <= s.max + 1e-12 else values[-1] - step
        values.sort()
    if s.data_type == Slider.INT:
        values = [float(round(v)) for v in values]
    w.double_array_value.data.extend(min(max(v, s.min), s.max) for v in values)
    return w


def random_widget(kind: str, w, rng: random.Random) -> WidgetState | None:
    """A random valid value for a widget, as the browser would send it."""
    if kind == "slider":
        return moved_slider(w, rng)
    state = WidgetState(id=w.id)
    if kind in ("selectbox", "radio"):
        if not w.options:
            return None
        state.string_value = rng.choice(list(w.options))  # options are the formatted labels
    elif kind == "checkbox":
        state.bool_value = rng.random() < 0.5
    return state


@dataclass
class Target:
    """Where the sessions go: one Streamlit process, or HAProxy in front of replicas."""

    url: str  # http://127.0.0.1:PORT
    pids: list[int]  # server processes (CPU, memory)
    balanced: bool  # HAProxy in front: check the affinity of every session

    @property
    def ws_url(self) -> str:
        parts = urllib.parse.urlsplit(self.url)
        return f"ws://{parts.netloc}{parts.path.rstrip('/')}/_stcore/stream"


def http_get(url: str, cookie: str | None = None, timeout: float = 30) -> tuple[int, dict, bytes]:
    req = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers.items()), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers.items()), b""


def replica_cookie(headers: dict) -> str | None:
    """The value of HAProxy's affinity cookie in a response's Set-Cookie, if any."""
    for k, v in headers.items():
        if k.lower() == "set-cookie":
            m = re.search(rf"{AFFINITY_COOKIE}=([^;]+)", v)
            if m:
                return m.group(1)
    return None


def header(headers, name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


async def open_session(target: Target, replica: str | None = None):
    """A websocket like a browser tab's: through HAProxy the page is loaded first (it sets the
    affinity cookie, or `replica` pins one). Returns (ws, replica cookie value, error or None)."""
    cookie = replica
    if target.balanced and cookie is None:
        status, headers, _ = await asyncio.to_thread(http_get, target.url + "/")
        cookie = replica_cookie(headers)
        if status != 200 or cookie is None:
            return None, None, f"page load: HTTP {status}, affinity cookie {cookie!r}"
    extra = {"Cookie": f"{AFFINITY_COOKIE}={cookie}"} if cookie else None
    ws = await websockets.connect(target.ws_url, subprotocols=["streamlit"], max_size=None,
                                  additional_headers=extra, open_timeout=60)
    if target.balanced:
        served = header(ws.response.headers, REPLICA_HEADER)
        if served != cookie:
            return ws, cookie, f"websocket served by {served!r}, cookie names {cookie!r}"
    return ws, cookie, None


async def discover_pages(target: Target) -> list[Page]:
    ws, _, err = await open_session(target)
    if err:
        raise SystemExit(f"first session: {err}")
    async with ws:
        r = await run_script(ws)
    if r.exceptions:
        print(f"main page shows exceptions: {r.exceptions}", file=sys.stderr)
    return r.pages


async def check_download(target: Target, url: str, cookie: str, stats: Stats) -> None:
    """A download link of this session, fetched through the balancer with the session's cookie:
    the file lives in one replica's memory, so a 200 from the cookie's replica is affinity."""
    full = urllib.parse.urljoin(target.url + "/", url)
    status, headers, body = await asyncio.to_thread(http_get, full, f"{AFFINITY_COOKIE}={cookie}")
    served = header(headers, REPLICA_HEADER)
    if status == 200 and body and served == cookie:
        stats.affinity_checks += 1
    else:
        stats.affinity_errors.append(f"download {url}: HTTP {status}, {len(body)} bytes, "
                                     f"served by {served!r}, cookie names {cookie!r}")


async def student(target: Target, pages: list[Page], stats: Stats, delay: float, timeout: float,
                  replica: str | None = None) -> None:
    """One browser tab: open every page, nudge one slider on each page that has one; through
    HAProxy also check that the websocket and a download stay on the cookie's replica."""
    await asyncio.sleep(delay)
    try:
        ws, cookie, err = await open_session(target, replica)
        if ws is None:
            stats.failures.append(err)
            return
        async with ws:
            if target.balanced:
                stats.replicas[cookie] += 1
                if err:
                    stats.affinity_errors.append(err)
                else:
                    stats.affinity_checks += 1
            downloaded = False
            for p in pages:
                r = await run_script(ws, p.script_hash, timeout=timeout)
                stats.add(p.name, "open", r)
                if target.balanced and r.downloads and not downloaded:
                    await check_download(target, r.downloads[-1], cookie, stats)
                    downloaded = True
                if r.sliders:
                    slider = r.sliders[0]
                    # as the browser: a widget inside an st.fragment reruns that fragment only
                    frag = "" if FULL_RERUNS else r.fragments.get(slider.id, "")
                    r2 = await run_script(ws, p.script_hash, [moved_slider(slider)], timeout, frag)
                    stats.add(p.name, "slider", r2)
            if target.balanced and not downloaded:
                stats.affinity_errors.append("no page offered a download link to check")
    except (OSError, asyncio.TimeoutError, websockets.WebSocketException) as e:
        stats.failures.append(f"{type(e).__name__}: {e}")


async def classroom(target, pages, n, ramp, timeout, total_timeout, replica=None) -> tuple[Stats, float]:
    stats = Stats()
    t0 = time.perf_counter()
    delays = [ramp * i / max(n - 1, 1) for i in range(n)]
    await asyncio.wait_for(
        asyncio.gather(*(student(target, pages, stats, d, timeout, replica) for d in delays)), total_timeout
    )
    return stats, time.perf_counter() - t0


async def varied_reruns(target, pages, total, workers, seed, timeout, on_progress) -> Stats:
    """`total` reruns spread over `workers` long-lived sessions, like students exploring.

    Each rerun picks a page at random and changes one or two of its widgets (sliders,
    selectboxes, radios, checkboxes) to random values, keeping the other values it set before,
    as a browser sends every widget's state with each rerun.
    """
    stats = Stats()
    done = 0

    async def worker(k: int) -> None:
        nonlocal done
        rng = random.Random(seed * 1000 + k)
        ws, _, err = await open_session(target)
        if err:
            stats.affinity_errors.append(err)
        if ws is None:
            return
        async with ws:
            widgets_of: dict[str, list] = {}  # page hash -> widgets drawn by its latest run
            states_of: dict[str, dict] = {}  # page hash -> widget id -> WidgetState we set
            while done < total:
                done += 1  # one event loop: no lock needed between the check and the increment
                count = done
                p = rng.choice(pages)
                widgets = widgets_of.get(p.script_hash)
                if widgets is None:  # first visit: see which widgets the page has
                    r = await run_script(ws, p.script_hash, timeout=timeout)
                    stats.add(p.name, "open", r)
                else:
                    live = {w.id for _, w in widgets}
                    states = {i: st for i, st in states_of.get(p.script_hash, {}).items() if i in live}
                    for kind, w in rng.sample(widgets, k=min(2, len(widgets))):
                        new = random_widget(kind, w, rng)
                        if new is not None:
                            states[w.id] = new
                    states_of[p.script_hash] = states
                    r = await run_script(ws, p.script_hash, list(states.values()), timeout)
                    stats.add(p.name, "varied" if widgets else "open", r)
                widgets_of[p.script_hash] = r.widgets
                await on_progress(count)

    await asyncio.gather(*(worker(k) for k in range(workers)))
    return stats


# --- report -------------------------------------------------------------------------------------


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(round(q / 100 * (len(xs) - 1)))))]


def print_runs(stats: Stats, title: str) -> None:
    rows = []
    every = [x for v in stats.runs.values() for x in v]
    if every:
        rows.append(("all pages, every run", every))
    for kind in ("open", "slider", "varied"):
        xs = [x for (p, k), v in stats.runs.items() if k == kind for x in v]
        if xs:
            rows.append((f"all pages, {kind}", xs))
    for (p, k), xs in sorted(stats.runs.items()):
        rows.append((f"  {p}, {k}", xs))
    print(f"\n{title}")
    print(f"  {'':34s} {'runs':>6s} {'p50 s':>8s} {'p95 s':>8s} {'max s':>8s}")
    for name, xs in rows:
        print(f"  {name:34.34s} {len(xs):6d} {statistics.median(xs):8.3f} {pct(xs, 95):8.3f} {max(xs):8.3f}")
    print(f"  exceptions shown: {len(stats.exceptions)}   failed sessions: {len(stats.failures)}")
    for page, msg in sorted(set(stats.exceptions))[:10]:
        print(f"    {page}: {msg[:200]}")
    for f in sorted(set(stats.failures))[:10]:
        print(f"    session failed: {f[:200]}")
    if stats.replicas or stats.affinity_errors:
        spread = ", ".join(f"{r}: {n}" for r, n in sorted(stats.replicas.items()))
        print(f"  sessions per replica: {spread}   affinity checks passed: {stats.affinity_checks}, "
              f"failed: {len(stats.affinity_errors)}")
        for e in sorted(set(stats.affinity_errors))[:10]:
            print(f"    affinity: {e[:200]}")


def fmt_mem(m) -> str:
    return "n/a" if m is None else f"PSS {m[0]:7.1f} MiB  RSS {m[1]:7.1f} MiB"


# --- main ---------------------------------------------------------------------------------------


# --- profile -----------------------------------------------------------------------------------

# Stages of a page run, for py-spy's samples: the first rule that matches any frame of a sample's
# stack names it (so "JSON" inside st.plotly_chart is not counted as "other Streamlit elements").
PROFILE_STAGES = [
    ("st.plotly_chart: fig.to_dict (Plotly's deep copy)", r"BaseFigure\.to_dict"),
    ("st.plotly_chart: figures.core.figure_dict", r"figure_dict|_typed_arrays"),
    ("st.plotly_chart: JSON (plotly.io.to_json)", r"to_json_plotly|plotly/io/_json"),
    ("st.plotly_chart: element id (hash of the JSON)", r"compute_and_register_element_id"),
    ("st.cache_data read: rebuild figure / unpickle", r"_rebuild_figure|_read_from_mem_cache|pickle"),
    ("st.cache_data: hash the arguments", r"_make_value_key|_make_function_key|caching/hashing\.py"),
    ("figure building (optlab.figures, Plotly objects)",
     r"optlab/figures/|plotly/graph_objs|plotly/basedatatypes|_plotly_utils"),
    ("computation (optlab engine)", r"optlab/(?!ui|figures)"),
    ("protobuf + send (enqueue, message hash, websocket)",
     r"_enqueue_forward_msg|serialize_forward_msg|populate_hash|websocket|_on_scriptrunner_event"),
    ("st.plotly_chart: rest", r"PlotlyMixin\.plotly_chart"),
    ("other Streamlit elements (markdown, widgets, layout)", r"streamlit/elements|delta_generator"),
    ("page scripts (pages/, optlab.ui)", r"pages/|/\d_\w+\.py|optlab/ui/"),
    ("Streamlit's script runner (pages, events, compile)", r"streamlit/"),
]


def start_profilers(pids: list[int], out_dir: Path) -> list[subprocess.Popen]:
    """py-spy (pip install py-spy) on every server process: samples of the thread holding the GIL."""
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not os.access(exe, os.X_OK):
        raise SystemExit("--profile needs py-spy: pip install py-spy (requirements-dev.txt)")
    out_dir.mkdir(parents=True, exist_ok=True)
    return [subprocess.Popen([exe, "record", "--pid", str(p), "--rate", "250", "--nonblocking", "--gil",
                              "--format", "raw", "--output", str(out_dir / f"pyspy-{p}.txt")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for p in pids]


def stop_profilers(procs: list[subprocess.Popen]) -> None:
    for pr in procs:
        pr.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
    for pr in procs:
        try:
            pr.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pr.kill()


def print_profile(out_dir: Path, ms_per_run: float | None) -> None:
    counts: collections.Counter = collections.Counter()
    total = 0
    for f in sorted(out_dir.glob("pyspy-*.txt")):
        for line in f.read_text(errors="replace").splitlines():
            stack, _, n = line.rpartition(" ")
            if not stack or not n.isdigit():
                continue
            frames = stack.split(";")
            stage = next((name for name, rx in PROFILE_STAGES if any(re.search(rx, fr) for fr in frames)),
                         "other (event loop, imports)")
            counts[stage] += int(n)
            total += int(n)
    if not total:
        print(f"\nprofile: no samples in {out_dir}")
        return
    print(f"\nwhere the server's CPU goes (py-spy, {total} samples of the thread holding the GIL; "
          f"raw stacks in {out_dir}):")
    for stage, n in counts.most_common():
        ms = f"{ms_per_run * n / total:6.1f} ms/run" if ms_per_run else ""
        print(f"  {100 * n / total:5.1f} %  {ms}  {stage}")


# --- main ---------------------------------------------------------------------------------------


async def main_async(args, target: Target) -> int:
    parts = urllib.parse.urlsplit(target.url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("load is sent to this machine only: use a 127.0.0.1 URL")
    pid = target.pids or None
    mem = {"server started": memory(pid)}
    cpu0 = cpu_seconds(pid)

    pages = await asyncio.wait_for(discover_pages(target), args.timeout)
    if not pages:
        raise SystemExit("the server sent no page list (navigation message)")
    print("pages: " + ", ".join(f"{p.name} (/{p.url_path})" for p in pages))

    # Every process first: one session through every page (imports, caches and first-run costs
    # are paid here, so the classroom numbers are what the 50th student sees as much as the
    # first), and one idle session each that stays open (a teacher's tab; Streamlit also drops its
    # compiled pages whenever the last session of a process closes).
    replicas = [f"r{i + 1}" for i in range(len(target.pids))] if target.balanced else [None]
    teachers = []
    failed = False
    for rep in replicas:
        ws, _, err = await open_session(target, rep)
        if err or ws is None:
            raise SystemExit(f"warm-up session on {rep}: {err}")
        teachers.append(ws)
        warm, _ = await classroom(target, pages, 1, 0, args.timeout, args.total_timeout, rep)
        if warm.exceptions or warm.failures or warm.affinity_errors:
            print_runs(warm, f"warm-up session{'' if rep is None else ' on ' + rep}")
            failed = True
    mem["after the warm-up sessions"] = memory(pid)

    try:
        if args.sessions:
            profilers = start_profilers(target.pids, args.profile) if args.profile else []
            c0 = cpu_seconds(pid)
            try:
                stats, wall = await classroom(
                    target, pages, args.sessions, args.ramp, args.timeout, args.total_timeout
                )
            finally:
                c1 = cpu_seconds(pid)
                stop_profilers(profilers)
            mem[f"after {args.sessions} sessions"] = memory(pid)
            n_runs = sum(len(v) for v in stats.runs.values())
            print_runs(
                stats,
                f"{args.sessions} concurrent sessions x {len(pages)} pages "
                f"(ramp {args.ramp:g} s): {n_runs} runs in {wall:.1f} s = {n_runs / wall:.1f} runs/s",
            )
            ms_per_run = None
            if c0 is not None and c1 is not None and n_runs:
                # Runs share one Python process (GIL): this, not the core count, sets the capacity.
                ms_per_run = (c1 - c0) / n_runs * 1000
                print(f"  server CPU: {c1 - c0:.1f} s = {ms_per_run:.1f} ms per run"
                      + (f" (summed over {len(target.pids)} processes)" if len(target.pids) > 1 else ""))
                # below the number of processes: other programs had the cores (waits grow with that)
                print(f"  cores the server used: {(c1 - c0) / wall:.2f} on average "
                      f"(of {len(target.pids)} process{'es' if len(target.pids) > 1 else ''}, "
                      f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f})")
            if target.balanced and len(stats.replicas) < len(target.pids):
                stats.affinity_errors.append(f"only {len(stats.replicas)} of {len(target.pids)} replicas got sessions")
            failed |= bool(stats.exceptions or stats.failures or stats.affinity_errors)
            if args.profile:
                print_profile(args.profile, ms_per_run)

        if args.reruns:
            checkpoints = []
            step = max(args.reruns // 10, 1)

            async def progress(count):
                if count % step == 0 or count == args.reruns:
                    checkpoints.append((count, memory(pid)))

            t0 = time.perf_counter()
            stats = await asyncio.wait_for(
                varied_reruns(target, pages, args.reruns, args.workers, args.seed, args.timeout, progress),
                args.total_timeout,
            )
            wall = time.perf_counter() - t0
            print_runs(stats, f"{args.reruns} varied reruns over {args.workers} sessions in {wall:.1f} s")
            failed |= bool(stats.exceptions or stats.failures or stats.affinity_errors)
            if pid is not None:
                print("  server memory during the reruns:")
                for count, m in sorted(checkpoints, key=lambda c: c[0]):
                    print(f"    after {count:6d} reruns: {fmt_mem(m)}")
                half = [m for c, m in sorted(checkpoints, key=lambda c: c[0]) if c >= args.reruns // 2]
                if len(half) >= 2:
                    print(f"  PSS change over the second half: {half[-1][0] - half[0][0]:+.1f} MiB "
                          "(bounded caches: close to 0)")
                mem[f"after {args.reruns} reruns"] = checkpoints[-1][1] if checkpoints else memory(pid)
    finally:
        for ws in teachers:
            await ws.close()

    print("\nserver memory" + (f" (summed over {len(target.pids)} processes):" if len(target.pids) > 1 else ":"))
    for k, m in mem.items():
        print(f"  {k:28s} {fmt_mem(m)}")
    cpu1 = cpu_seconds(pid)
    if cpu0 is not None and cpu1 is not None:
        print(f"server CPU time: {cpu1 - cpu0:.1f} s")
    return 1 if failed else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=50, help="concurrent sessions (default 50; 0: none)")
    ap.add_argument("--ramp", type=float, default=0.0,
                    help="seconds over which the sessions start (default 0: all at once)")
    ap.add_argument("--replicas", type=int, default=0,
                    help="serve with deploy/run-local.sh: HAProxy in front of this many replicas "
                         "(default 0: one Streamlit process, started by the bench)")
    ap.add_argument("--reruns", type=int, default=0,
                    help="then this many varied reruns, memory sampled every tenth (e.g. 1000)")
    ap.add_argument("--workers", type=int, default=4, help="sessions sharing the --reruns (default 4)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--url", help="use this running server (127.0.0.1 only) instead of starting one")
    ap.add_argument("--pid", type=int, nargs="*",
                    help="server PID(s) for CPU and memory figures (with --url; found from the port if omitted)")
    ap.add_argument("--balanced", action="store_true",
                    help="with --url: the URL is HAProxy in front of replicas (check the affinity)")
    ap.add_argument("--profile", type=Path, metavar="DIR",
                    help="record the server(s) with py-spy during the sessions; print where the CPU goes")
    ap.add_argument("--full-reruns", action="store_true",
                    help="a moved widget reruns the whole page, even inside an st.fragment (the browser "
                         "reruns the fragment only; this was the bench's behaviour before)")
    ap.add_argument("--cpu", type=int, metavar="N",
                    help="run the bench's own server on core N only (taskset), as deploy/run-local.sh pins "
                         "a replica, and the clients on the other cores (default: not pinned)")
    ap.add_argument("--app-dir", type=Path, default=Path(os.environ.get("OPTLAB_APP_DIR") or REPO_ROOT),
                    help="folder with app.py (default: the repository, or $OPTLAB_APP_DIR)")
    ap.add_argument("--timeout", type=float, default=120, help="seconds one run may take (default 120)")
    ap.add_argument("--total-timeout", type=float, default=1200, help="seconds a phase may take")
    args = ap.parse_args(argv)
    if not 0 <= args.sessions <= MAX_SESSIONS or not 0 <= args.reruns <= MAX_RERUNS:
        ap.error(f"--sessions must be 0..{MAX_SESSIONS}, --reruns 0..{MAX_RERUNS}")
    if not 0 <= args.replicas <= 16 or (args.replicas and args.url):
        ap.error("--replicas must be 0..16, and not with --url")
    args.workers = max(1, min(args.workers, 50))
    global FULL_RERUNS
    FULL_RERUNS = args.full_reruns

    import streamlit

    proc = local = None
    if args.url:
        url = args.url.rstrip("/")
        pids = args.pid or [p for p in [pid_listening_on(urllib.parse.urlsplit(url).port or 80)] if p]
        target = Target(url, pids, args.balanced)
    elif args.replicas:
        local = start_local_replicas(args.replicas, args.app_dir.resolve())
        target = Target(local.url, local.replica_pids, True)
        print(f"deploy/run-local.sh: {local.url}, {args.replicas} replicas (pids "
              f"{' '.join(map(str, local.replica_pids))}), HAProxy pid {local.haproxy_pid}, files in {local.run_dir}")
    else:
        log_path = Path(tempfile.mkdtemp(prefix="optlab-bench-")) / "server.log"
        cores = sorted(os.sched_getaffinity(0))
        if args.cpu is not None and args.cpu not in cores:
            ap.error(f"--cpu {args.cpu}: this process may use cores {cores}")
        proc, url = start_server(args.app_dir.resolve(), log_path,
                                 cpus=None if args.cpu is None else [args.cpu])
        if args.cpu is not None and len(cores) > 1:
            os.sched_setaffinity(0, [c for c in cores if c != args.cpu])  # the clients: the other cores
        target = Target(url, [proc.pid], False)
        pinned = "not pinned" if args.cpu is None else f"on core {args.cpu}, clients on the other cores"
        print(f"server: {url} (pid {proc.pid}, {pinned}, app {args.app_dir.resolve()}, log {log_path})")
    print(f"streamlit {streamlit.__version__}, python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs, server pid(s) {' '.join(map(str, target.pids)) or 'unknown (pass --pid)'}")
    try:
        return asyncio.run(main_async(args, target))
    finally:
        if proc is not None:
            stop_server(proc)
        if local is not None:
            left = stop_local_replicas(local)
            print("deploy/run-local.sh stopped: " + ("no process left" if not left else f"processes left: {left}"))
            if left:
                return 1  # noqa: B012 - a leftover process is a failure of the stop


if __name__ == "__main__":
    sys.exit(main())
