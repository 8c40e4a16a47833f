"""A full classroom: many Streamlit sessions on one OptLab server, over the app's own websocket.

Each session is what a student's browser tab does, minus the drawing: it opens every page of the
app in turn (a `rerun_script` with the page's script hash, the list taken from the server's
`navigation` message) and, where the page has a slider, moves one slider once. The script prints
the median and 95th percentile time of a page run as the client sees it (send -> script_finished),
the exceptions the pages showed, and the server's memory (PSS and RSS) and CPU time.

    .venv/bin/python bench/load_sessions.py                     # 50 sessions, own server
    .venv/bin/python bench/load_sessions.py --sessions 20 --ramp 10
    .venv/bin/python bench/load_sessions.py --sessions 0 --reruns 1000   # memory stays bounded?
    .venv/bin/python bench/load_sessions.py --url http://127.0.0.1:8501 --pid 12345

By default it starts its own server (loopback, no file watcher) and stops it at the end. Traffic
goes to 127.0.0.1 only; every wait has a timeout and the counts are bounded. The frame format is
Streamlit's internal protocol (checked with Streamlit 1.67): pin Streamlit when comparing runs.
Exit status: 0 when every run finished without an exception, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
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
from serve import start_server, stop_server  # noqa: E402  (tools/serve.py)

REPO_ROOT = Path(__file__).resolve().parents[1]
MAX_SESSIONS = 500  # bounded load, whatever is asked
MAX_RERUNS = 20_000
MIB = 2**20
MOVABLE = ("slider", "selectbox", "radio", "checkbox")  # element types varied by --reruns


# --- server -------------------------------------------------------------------------------------


def pid_listening_on(port: int) -> int | None:
    try:
        for c in psutil.net_connections(kind="tcp"):
            if c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN and c.pid:
                return c.pid
    except psutil.AccessDenied:
        pass
    return None


def memory(pid: int | None) -> tuple[float, float] | None:
    """(PSS, RSS) of the server process in MiB; PSS counts shared pages once."""
    if pid is None:
        return None
    info = psutil.Process(pid).memory_full_info()
    return getattr(info, "pss", info.rss) / MIB, info.rss / MIB


def cpu_seconds(pid: int | None) -> float | None:
    if pid is None:
        return None
    t = psutil.Process(pid).cpu_times()
    return t.user + t.system


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

    @property
    def sliders(self) -> list:
        return [w for kind, w in self.widgets if kind == "slider"]


@dataclass
class Stats:
    runs: dict = field(default_factory=dict)  # (page name, "open" | "slider") -> [seconds]
    exceptions: list = field(default_factory=list)  # (page name, message)
    failures: list = field(default_factory=list)  # session-level errors (timeouts, closed sockets)

    def add(self, page: str, kind: str, r: RunResult) -> None:
        self.runs.setdefault((page, kind), []).append(r.seconds)
        self.exceptions.extend((page, m) for m in r.exceptions)


def rerun_msg(page_hash: str = "", widgets=()) -> bytes:
    m = BackMsg()
    m.rerun_script.query_string = ""
    m.rerun_script.page_script_hash = page_hash
    m.rerun_script.widget_states.widgets.extend(widgets)
    return m.SerializeToString()


async def run_script(ws, page_hash: str = "", widgets=(), timeout: float = 120) -> RunResult:
    """Ask for a run and read frames until it has finished (a run cut short by another does not)."""
    t0 = time.perf_counter()
    await ws.send(rerun_msg(page_hash, widgets))
    widgets, exceptions, pages = [], [], []
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
            elif which == "exception":
                exceptions.append(f"{el.exception.type}: {el.exception.message}")
        elif kind == "script_finished" and fm.script_finished in (
            ForwardMsg.FINISHED_SUCCESSFULLY,
            ForwardMsg.FINISHED_WITH_COMPILE_ERROR,
        ):
            return RunResult(time.perf_counter() - t0, widgets, exceptions, pages)


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


async def discover_pages(ws_url: str) -> list[Page]:
    async with websockets.connect(ws_url, subprotocols=["streamlit"], max_size=None) as ws:
        r = await run_script(ws)
    if r.exceptions:
        print(f"main page shows exceptions: {r.exceptions}", file=sys.stderr)
    return r.pages


async def student(ws_url: str, pages: list[Page], stats: Stats, delay: float, timeout: float) -> None:
    """One browser tab: open every page, nudge one slider on each page that has one."""
    await asyncio.sleep(delay)
    try:
        async with websockets.connect(ws_url, subprotocols=["streamlit"], max_size=None) as ws:
            for p in pages:
                r = await run_script(ws, p.script_hash, timeout=timeout)
                stats.add(p.name, "open", r)
                if r.sliders:
                    r2 = await run_script(ws, p.script_hash, [moved_slider(r.sliders[0])], timeout)
                    stats.add(p.name, "slider", r2)
    except (OSError, asyncio.TimeoutError, websockets.WebSocketException) as e:
        stats.failures.append(f"{type(e).__name__}: {e}")


async def classroom(ws_url, pages, n, ramp, timeout, total_timeout) -> tuple[Stats, float]:
    stats = Stats()
    t0 = time.perf_counter()
    delays = [ramp * i / max(n - 1, 1) for i in range(n)]
    await asyncio.wait_for(
        asyncio.gather(*(student(ws_url, pages, stats, d, timeout) for d in delays)), total_timeout
    )
    return stats, time.perf_counter() - t0


async def varied_reruns(ws_url, pages, total, workers, seed, timeout, on_progress) -> Stats:
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
        async with websockets.connect(ws_url, subprotocols=["streamlit"], max_size=None) as ws:
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


def fmt_mem(m) -> str:
    return "n/a" if m is None else f"PSS {m[0]:7.1f} MiB  RSS {m[1]:7.1f} MiB"


# --- main ---------------------------------------------------------------------------------------


async def main_async(args, url: str, pid: int | None) -> int:
    parts = urllib.parse.urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("load is sent to this machine only: use a 127.0.0.1 URL")
    ws_url = f"ws://{parts.netloc}{parts.path.rstrip('/')}/_stcore/stream"
    mem = {"server started": memory(pid)}
    cpu0 = cpu_seconds(pid)

    pages = await asyncio.wait_for(discover_pages(ws_url), args.timeout)
    if not pages:
        raise SystemExit("the server sent no page list (navigation message)")
    print("pages: " + ", ".join(f"{p.name} (/{p.url_path})" for p in pages))

    # One session through every page first: imports, caches and first-run costs are paid here,
    # so the classroom numbers are what the 50th student sees as much as the first.
    warm, _ = await classroom(ws_url, pages, 1, 0, args.timeout, args.total_timeout)
    mem["after one warm-up session"] = memory(pid)
    failed = bool(warm.exceptions or warm.failures)
    if failed:
        print_runs(warm, "warm-up session")

    if args.sessions:
        c0 = cpu_seconds(pid)
        stats, wall = await classroom(
            ws_url, pages, args.sessions, args.ramp, args.timeout, args.total_timeout
        )
        c1 = cpu_seconds(pid)
        mem[f"after {args.sessions} sessions"] = memory(pid)
        n_runs = sum(len(v) for v in stats.runs.values())
        print_runs(
            stats,
            f"{args.sessions} concurrent sessions x {len(pages)} pages "
            f"(ramp {args.ramp:g} s): {n_runs} runs in {wall:.1f} s = {n_runs / wall:.1f} runs/s",
        )
        if c0 is not None and c1 is not None and n_runs:
            # Runs share one Python process (GIL): this, not the core count, sets the capacity.
            print(f"  server CPU: {c1 - c0:.1f} s = {(c1 - c0) / n_runs * 1000:.0f} ms per run")
        failed |= bool(stats.exceptions or stats.failures)

    if args.reruns:
        checkpoints = []
        step = max(args.reruns // 10, 1)

        async def progress(count):
            if count % step == 0 or count == args.reruns:
                checkpoints.append((count, memory(pid)))

        t0 = time.perf_counter()
        stats = await asyncio.wait_for(
            varied_reruns(ws_url, pages, args.reruns, args.workers, args.seed, args.timeout, progress),
            args.total_timeout,
        )
        wall = time.perf_counter() - t0
        print_runs(stats, f"{args.reruns} varied reruns over {args.workers} sessions in {wall:.1f} s")
        failed |= bool(stats.exceptions or stats.failures)
        if pid is not None:
            print("  server memory during the reruns:")
            for count, m in sorted(checkpoints, key=lambda c: c[0]):
                print(f"    after {count:6d} reruns: {fmt_mem(m)}")
            half = [m for c, m in sorted(checkpoints, key=lambda c: c[0]) if c >= args.reruns // 2]
            if len(half) >= 2:
                print(f"  PSS change over the second half: {half[-1][0] - half[0][0]:+.1f} MiB "
                      "(bounded caches: close to 0)")
            mem[f"after {args.reruns} reruns"] = checkpoints[-1][1] if checkpoints else memory(pid)

    print("\nserver memory:")
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
    ap.add_argument("--reruns", type=int, default=0,
                    help="then this many varied reruns, memory sampled every tenth (e.g. 1000)")
    ap.add_argument("--workers", type=int, default=4, help="sessions sharing the --reruns (default 4)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--url", help="use this running server (127.0.0.1 only) instead of starting one")
    ap.add_argument("--pid", type=int, help="server PID for memory figures (found from the port if omitted)")
    ap.add_argument("--app-dir", type=Path, default=Path(os.environ.get("OPTLAB_APP_DIR") or REPO_ROOT),
                    help="folder with app.py (default: the repository, or $OPTLAB_APP_DIR)")
    ap.add_argument("--timeout", type=float, default=120, help="seconds one run may take (default 120)")
    ap.add_argument("--total-timeout", type=float, default=1200, help="seconds a phase may take")
    args = ap.parse_args(argv)
    if not 0 <= args.sessions <= MAX_SESSIONS or not 0 <= args.reruns <= MAX_RERUNS:
        ap.error(f"--sessions must be 0..{MAX_SESSIONS}, --reruns 0..{MAX_RERUNS}")
    args.workers = max(1, min(args.workers, 50))

    import streamlit

    proc = None
    if args.url:
        url = args.url.rstrip("/")
        pid = args.pid or pid_listening_on(urllib.parse.urlsplit(url).port or 80)
    else:
        log_path = Path(tempfile.mkdtemp(prefix="optlab-bench-")) / "server.log"
        proc, url = start_server(args.app_dir.resolve(), log_path)
        pid = proc.pid
        print(f"server: {url} (pid {pid}, app {args.app_dir.resolve()}, log {log_path})")
    print(f"streamlit {streamlit.__version__}, python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs, server pid {pid or 'unknown (pass --pid for memory)'}")
    try:
        return asyncio.run(main_async(args, url, pid))
    finally:
        if proc is not None:
            stop_server(proc)


if __name__ == "__main__":
    sys.exit(main())
