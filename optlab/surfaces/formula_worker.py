r"""The SymPy stage of typed formulas (:func:`optlab.surfaces.from_formula`) in a worker process
with a hard time limit.

Why a process.  Everything a Streamlit server's sessions compute shares one GIL, and some SymPy work
is one long C call that holds it (a gcd of two million-digit integers): a thread cannot be
interrupted there, and a timer in the same process never gets to run.  A separate process can be
killed at any moment, and while it computes, the server's own threads keep serving everyone else.

The design, for a class server:

* **one small pool** of worker processes (:data:`WORKERS`, 1 on a 2-core machine: the server's
  scripts keep one core, the worker has the other), started lazily on the first formula, shared by
  every session; a request takes an idle worker or waits for one (at most :data:`QUEUE_LIMIT`);
* **a hard limit per formula**: the parent watches the worker's CPU time (``/proc``) and kills it
  past :data:`CPU_LIMIT`, or past :data:`WALL_LIMIT` of wall time if the machine is so loaded that
  the worker is starved; a killed worker is replaced at once (forked from a *fork server* that has
  SymPy imported already, a few milliseconds);
* **one job per formula at a time**: identical requests that arrive together (a class opening the
  same shared link) wait for the first one's answer instead of queueing copies;
* the worker dies with the server (``PR_SET_PDEATHSIG`` on Linux, SIGTERM from multiprocessing's
  exit handler, end of file on its pipe), and ignores the terminal's Ctrl-C.

What crosses the pipe is JSON, both ways: the checked *program* (a nested list of numbers, operator
names and function names, see :class:`optlab.surfaces.formula._Checker`) goes in; LaTeX strings, two flags
and three Python function definitions written by SymPy's NumPy printer (``lambdify``'s code) come
back.  No pickle is ever loaded from the worker (unpickling can run arbitrary code and would rebuild
SymPy objects under the server's GIL).  The generated code is not trusted either: before it is
compiled, :func:`optlab.surfaces.formula_code.load_function` parses it and checks every node against a small whitelist (one
``def`` of ``(x, y)``, assignments to local names, ``+ - * / **``, unary signs, numbers, calls of
named NumPy functions such as ``sin`` or ``arctan2``, a returned list) and its size; it runs with no
builtins and only those NumPy functions in scope.  So the text a student typed never reaches
``eval``/``exec``/``compile`` (it is parsed into the program by :mod:`ast`), and even a compromised
worker could only hand back arithmetic.
"""
from __future__ import annotations

import json
import os
import queue
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from typing import Any

from ..i18n import domain

# Reasons travel as msgids of the shared catalog (plus str.format fields in "fields"): the worker has
# no student's language; optlab.surfaces.formula translates them where it raises FormulaError.
_, N_, ngettext = domain("optlab")

# ---------------------------------------------------------------------------------------------
# Limits (seconds, bytes)
# ---------------------------------------------------------------------------------------------
CPU_LIMIT = 0.8        # worker CPU for one formula: the hard limit (classic test functions: ≤ 0.3 s)
# Wall time for one formula.  On a class server the worker has a core of its own and reaches the
# CPU limit in about as much wall time; this only fires when the machine is so overloaded that the
# worker gets a fraction of a core, and then says "busy" (not cached) instead of refusing a formula
# that would have been fine.
WALL_LIMIT = 4.0
QUEUE_LIMIT = 20.0     # longest wait for a free worker before "busy, try again" (24 formulas at once: ~6 s)
POLL = 0.01            # how often the parent looks at the worker's CPU time
MAX_REPLY_BYTES = 4_000_000
MAX_JOB_BYTES = 1_000_000
MAX_JOBS_PER_WORKER = 500   # then the worker is replaced: SymPy's caches never grow for days
MEMORY_HEADROOM = 1 << 30   # address space a worker may add to what it has after start-up
WORKERS = max(1, min(2, (os.cpu_count() or 2) - 1))

TIME_MESSAGE = N_("this formula takes too long to differentiate (more than {seconds} s of "
                  "computing): shorten it or use fewer nested functions, products and powers")
TIME_FIELDS = {"seconds": f"{CPU_LIMIT:g}"}
BUSY_MESSAGE = N_("the server is too busy to differentiate this formula right now "
                  "(other formulas are being computed): try again in a moment")
MEMORY_MESSAGE = N_("SymPy stopped while differentiating this formula (it needs too much memory): "
                    "shorten it or use fewer nested functions, products and powers")


class WorkerBusy(Exception):
    """No answer for reasons that are not the formula's (no free worker, a starved worker)."""


# ---------------------------------------------------------------------------------------------
# Messages: a 4-byte length, then JSON
# ---------------------------------------------------------------------------------------------
def _send(sock: socket.socket, obj: Any) -> None:
    data = json.dumps(obj, separators=(",", ":")).encode()
    sock.sendall(struct.pack(">I", len(data)) + data)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = sock.recv(min(n - got, 1 << 20))
        if not chunk:
            raise EOFError("the other end closed the connection")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _recv(sock: socket.socket, limit: int) -> Any:
    (n,) = struct.unpack(">I", _recv_exact(sock, 4))
    if n > limit:
        raise ValueError(f"message of {n} bytes, more than {limit}")
    return json.loads(_recv_exact(sock, n))


# ---------------------------------------------------------------------------------------------
# Worker side: a zygote process imports SymPy once; each worker is forked from it
# ---------------------------------------------------------------------------------------------
def _die_with_parent(parent: int) -> None:
    """Linux: the kernel kills this worker when the zygote's thread that forked it (its only
    thread) exits, even while the worker is deep in a C call.  If the zygote died before the
    request was made, exit now."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - not Linux: end of file on the sockets does it
        pass
    if os.getppid() != parent:
        os._exit(0)


def _limit_memory() -> None:
    try:
        import resource

        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[0])
        want = pages * os.sysconf("SC_PAGE_SIZE") + MEMORY_HEADROOM
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or want < hard:
            resource.setrlimit(resource.RLIMIT_AS, (want, hard))
    except Exception:  # noqa: BLE001 - no /proc or no resource module: the time limit still holds
        pass


def _answer(job: Any) -> dict:
    from .formula_sympy import _sympy_stage

    t0 = time.process_time()
    try:
        out = _sympy_stage(job["program"])
        if isinstance(out, tuple):  # a refusal: (msgid, fields)
            reply = {"ok": False, "reason": out[0], "fields": out[1]}
        else:
            reply = {"ok": True, **out}
    except MemoryError:
        reply = {"ok": False, "reason": MEMORY_MESSAGE, "limit": "memory"}
    except RecursionError:
        reply = {"ok": False, "reason": N_("this formula is nested too deeply for SymPy")}
    except Exception as exc:  # noqa: BLE001 - a SymPy failure on a checked formula: say so, go on
        reply = {"ok": False, "reason": N_("SymPy could not differentiate this formula ({error})"),
                 "fields": {"error": type(exc).__name__}}
    reply["cpu"] = time.process_time() - t0
    return reply


def _serve(sock: socket.socket) -> None:
    """A worker: say it is ready, then answer jobs on ``sock`` until end of file."""
    _limit_memory()
    _send(sock, {"ready": os.getpid()})
    while True:
        try:
            job = _recv(sock, MAX_JOB_BYTES)
        except (EOFError, OSError, ValueError):
            return
        try:
            reply = _answer(job)
        except MemoryError:
            reply = {"ok": False, "reason": MEMORY_MESSAGE, "limit": "memory"}
        try:
            _send(sock, reply)
        except OSError:
            return


def _warm() -> None:
    """Import SymPy and run one small formula, so that forked workers start hot."""
    from .formula_sympy import _sympy_stage

    _sympy_stage(("+", ("**", ("name", "x"), ("int", 2)), ("call", "sin", (("name", "y"),))))


def zygote_main(fd: int) -> None:
    """The zygote: warm up, then fork one worker per request on control socket ``fd``.

    A request is one byte with one file descriptor attached (the worker's end of a socket pair);
    the answer is the worker's pid as a line.  End of file on ``fd`` (the server went away): exit.
    """
    # No parent-death signal here: the kernel ties it to the *thread* that started this process,
    # and a server starts the zygote from a short-lived warm-up thread.  The zygote only ever waits
    # on its control socket, which reads end of file as soon as the server process is gone.
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C in the server's terminal is the server's
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # workers are reaped by the kernel
    import ctypes  # noqa: F401 - imported once here, so that a forked worker arms its signal at once

    ctrl = socket.socket(fileno=fd)
    try:
        _warm()
    except Exception as exc:  # noqa: BLE001 - each worker then loads what it needs on its first job
        print(f"optlab formula zygote: warm-up failed: {exc!r}", file=sys.stderr)
    ctrl.sendall(b"ready\n")
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(ctrl, 16, 1)
        except OSError:
            os._exit(0)
        if not msg:
            os._exit(0)
        if not fds:
            continue
        zygote = os.getpid()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                ctrl.close()
                _die_with_parent(zygote)
                _serve(socket.socket(fileno=fds[0]))
            except BaseException:  # noqa: BLE001 - a worker never returns into the zygote's loop
                code = 1
            finally:
                os._exit(code)
        os.close(fds[0])
        try:
            ctrl.sendall(f"{pid}\n".encode())
        except OSError:
            os._exit(0)


# ---------------------------------------------------------------------------------------------
# Parent side
# ---------------------------------------------------------------------------------------------
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # above optlab/


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process ``pid`` from /proc (None where there is no /proc)."""
    try:
        fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
        try:
            raw = os.read(fd, 4096)
        finally:
            os.close(fd)
        fields = raw[raw.rindex(b")") + 2:].split()
        return (int(fields[11]) + int(fields[12])) / _TICK
    except (OSError, ValueError, IndexError):
        return None


class _Zygote:
    """The process workers are forked from (SymPy imported once, pages shared copy-on-write)."""

    START_TIMEOUT = 60.0

    def __init__(self):
        here, there = socket.socketpair()
        env = dict(os.environ)
        env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH")) if p)
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-c",
                 f"from optlab.surfaces.formula_worker import zygote_main; zygote_main({there.fileno()})"],
                pass_fds=(there.fileno(),), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                env=env, cwd=_PACKAGE_ROOT, start_new_session=True)
        finally:
            there.close()
        self.ctrl = here
        self._buf = b""
        self.lock = threading.Lock()
        try:
            ready = self._line(self.START_TIMEOUT)
        except BaseException:
            self.close()
            raise
        if ready != "ready":
            self.close()
            raise OSError(f"the formula worker did not start (said {ready!r})")

    def _line(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.ctrl], [], [], left)[0]:
                raise OSError("the formula worker did not answer in time")
            chunk = self.ctrl.recv(4096)
            if not chunk:
                raise OSError("the formula worker exited")
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return line.decode("ascii", "replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def fork(self) -> tuple[socket.socket, int]:
        """A new worker: (our end of its socket, its pid)."""
        here, there = socket.socketpair()
        try:
            with self.lock:
                socket.send_fds(self.ctrl, [b"F"], [there.fileno()])
                pid = int(self._line(10.0))
        except BaseException:
            here.close()
            raise
        finally:
            there.close()
        return here, pid

    def close(self) -> None:
        try:
            self.ctrl.close()
        except OSError:
            pass
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass


class _Over(Exception):
    def __init__(self, kind: str, cpu: float | None, wall: float):
        super().__init__(kind)
        self.kind, self.cpu, self.wall = kind, cpu, wall


class _Worker:
    START_TIMEOUT = 10.0

    def __init__(self, zygote: _Zygote):
        self.sock, self.pid = zygote.fork()
        self.pidfd = None
        if hasattr(os, "pidfd_open"):  # a handle on this very process: no pid-reuse race on kill
            try:
                self.pidfd = os.pidfd_open(self.pid)
            except OSError:
                self.pidfd = None
        self.jobs = 0
        self.dead = False
        try:  # the worker has armed its parent-death signal and set its limits
            if not select.select([self.sock], [], [], self.START_TIMEOUT)[0]:
                raise OSError("the formula worker did not start in time")
            hello = _recv(self.sock, 1024)
            if not isinstance(hello, dict) or hello.get("ready") != self.pid:
                raise OSError(f"the formula worker said {hello!r}")
        except (OSError, EOFError, ValueError) as exc:
            self.kill()
            raise OSError(f"the formula worker did not start ({exc})") from None

    def ask(self, job: Any, cpu_limit: float, wall_limit: float) -> dict:
        cpu0 = _cpu_seconds(self.pid)
        t0 = time.monotonic()
        _send(self.sock, job)
        self.jobs += 1
        while not select.select([self.sock], [], [], POLL)[0]:
            wall = time.monotonic() - t0
            cpu = _cpu_seconds(self.pid)
            used = (cpu - cpu0) if (cpu is not None and cpu0 is not None) else wall
            if used > cpu_limit:
                raise _Over("cpu", used, wall)
            if wall > wall_limit:
                raise _Over("wall", used, wall)
        reply = _recv(self.sock, MAX_REPLY_BYTES)  # EOFError if the worker died
        if not isinstance(reply, dict):
            raise ValueError("malformed reply")
        reply["wall"] = time.monotonic() - t0
        return reply

    def kill(self) -> None:
        if self.dead:
            return
        self.dead = True
        try:
            if self.pidfd is not None:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            else:
                os.kill(self.pid, signal.SIGKILL)
        except (OSError, AttributeError):
            pass  # already gone
        for close in (self.sock.close, (lambda: os.close(self.pidfd)) if self.pidfd is not None else None):
            if close is not None:
                try:
                    close()
                except OSError:
                    pass


class _Flight:
    """One job being computed, and the callers waiting for it."""

    def __init__(self):
        self.done = threading.Event()
        self.reply: dict | None = None
        self.error: BaseException | None = None


class Pool:
    """Worker processes shared by every thread of the server; safe to call from many threads.

    ``size`` workers at most; each request takes an idle one or waits.  Nothing starts until the
    first request (or :meth:`warm`)."""

    def __init__(self, size: int = WORKERS):
        self.size = int(size)
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._lock = threading.Lock()
        self._zygote_lock = threading.Lock()
        self._zygote_proc: _Zygote | None = None
        self._started = 0              # workers alive or being started
        self._inflight: dict[str, _Flight] = {}
        self.stats = {"jobs": 0, "killed_cpu": 0, "killed_wall": 0, "died": 0, "shared": 0, "busy": 0,
                      "started": 0}

    # -- processes ----------------------------------------------------------------------------
    def _zygote(self) -> _Zygote:
        with self._zygote_lock:
            z = self._zygote_proc
            if z is None or not z.alive():
                if z is not None:
                    z.close()
                self._zygote_proc = None
                z = self._zygote_proc = _Zygote()
            return z

    def _take(self, deadline: float) -> _Worker:
        while True:
            try:
                return self._idle.get_nowait()
            except queue.Empty:
                pass
            with self._lock:
                create = self._started < self.size
                if create:
                    self._started += 1
            if create:
                try:
                    w = _Worker(self._zygote())
                except BaseException:
                    with self._lock:
                        self._started -= 1
                    raise
                self.stats["started"] += 1
                return w
            left = deadline - time.monotonic()
            if left <= 0:
                raise WorkerBusy(BUSY_MESSAGE)
            try:
                return self._idle.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue

    def _retire(self, w: _Worker) -> None:
        w.kill()
        with self._lock:
            self._started -= 1

    def _give_back(self, w: _Worker) -> None:
        if w.jobs >= MAX_JOBS_PER_WORKER or w.dead:
            self._retire(w)
        else:
            self._idle.put(w)

    def warm(self) -> None:
        """Start the zygote and one worker now (a server calls this at start-up)."""
        self._give_back(self._take(time.monotonic() + QUEUE_LIMIT))

    def close(self) -> None:
        """Stop the idle workers and the zygote (busy workers die with the zygote)."""
        while True:
            try:
                w = self._idle.get_nowait()
            except queue.Empty:
                break
            self._retire(w)
        with self._zygote_lock:
            if self._zygote_proc is not None:
                self._zygote_proc.close()
                self._zygote_proc = None

    # -- jobs ---------------------------------------------------------------------------------
    def run(self, job: dict, cpu_limit: float | None = None, wall_limit: float | None = None) -> dict:
        """The worker's reply to ``job`` (a dict with ``ok`` and, if not ok, ``reason``).

        A job over its CPU limit gets ``{"ok": False, "reason": TIME_MESSAGE, "fields": TIME_FIELDS, "limit": "cpu"}``; a
        worker that dies gets :data:`MEMORY_MESSAGE`; no free worker within :data:`QUEUE_LIMIT`, or
        a worker starved past ``wall_limit``, raises :class:`WorkerBusy`.  Identical jobs running
        at the same time are computed once: the later callers wait for the first one's reply."""
        key = json.dumps(job, separators=(",", ":"))
        if len(key) > MAX_JOB_BYTES:
            return {"ok": False, "reason": N_("this formula is too large to send to SymPy")}
        if not hasattr(os, "fork"):  # no fork (Windows): SymPy in this process, without a time limit
            return _answer(json.loads(key))
        with self._lock:
            flight = self._inflight.get(key)
            first = flight is None
            if first:
                flight = self._inflight[key] = _Flight()
        if not first:
            self.stats["shared"] += 1
            flight.done.wait()
            if flight.error is not None:
                raise WorkerBusy(str(flight.error))
            return dict(flight.reply)
        try:
            flight.reply = self._run_one(job, CPU_LIMIT if cpu_limit is None else cpu_limit,
                                         WALL_LIMIT if wall_limit is None else wall_limit)
            return dict(flight.reply)
        except BaseException as exc:
            flight.error = exc if isinstance(exc, WorkerBusy) else WorkerBusy(BUSY_MESSAGE)
            raise
        finally:
            with self._lock:
                del self._inflight[key]
            flight.done.set()

    def _run_one(self, job: Any, cpu_limit: float, wall_limit: float) -> dict:
        self.stats["jobs"] += 1
        for attempt in (1, 2):  # a worker found dead (its zygote was restarted …) gets one retry
            try:
                w = self._take(time.monotonic() + QUEUE_LIMIT)
            except OSError as exc:
                raise WorkerBusy(BUSY_MESSAGE) from None
            try:
                reply = w.ask(job, cpu_limit, wall_limit)
            except _Over as over:
                self._retire(w)
                if over.kind == "cpu":
                    self.stats["killed_cpu"] += 1
                    return {"ok": False, "reason": TIME_MESSAGE, "fields": TIME_FIELDS, "limit": "cpu", "cpu": over.cpu,
                            "wall": over.wall}
                self.stats["killed_wall"] += 1
                self.stats["busy"] += 1
                raise WorkerBusy(BUSY_MESSAGE) from None
            except (EOFError, OSError, ValueError):
                self._retire(w)
                self.stats["died"] += 1
                if attempt == 1:
                    continue
                return {"ok": False, "reason": MEMORY_MESSAGE, "limit": "memory"}
            except BaseException:
                self._retire(w)
                raise
            self._give_back(w)
            return reply
        raise AssertionError("unreachable")  # pragma: no cover


POOL = Pool()   # the process's pool: no process starts before the first formula


def warm_up(background: bool = True) -> None:
    """Start the formula worker ahead of the first formula (the zygote imports SymPy once)."""
    if background:
        threading.Thread(target=_warm_quietly, name="optlab-formula-warm-up", daemon=True).start()
    else:
        POOL.warm()


def _warm_quietly() -> None:
    try:
        POOL.warm()
    except Exception as exc:  # noqa: BLE001 - the first formula will try again and say what failed
        print(f"optlab: formula worker not started ahead: {exc!r}", file=sys.stderr)
