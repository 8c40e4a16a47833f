"""Fuzz every OptLab page with random and extreme widget values under Streamlit's AppTest.

Each page gets its own AppTest session; the fuzzer repeatedly picks a widget shown on the page
(sliders, select sliders, number and text inputs, select boxes, radios, multiselects, checkboxes,
toggles, buttons, pills/segmented controls, colour pickers, a point picked on a selectable chart),
gives it an extreme or random value a browser could send (min, max, 0, a tiny number, any
option, hostile text such as "1e309", "nan", "x**9**9", "__import__('os')", 5,000 characters …),
reruns the page and checks that no uncaught exception is shown.  `st.error` / `st.warning` count
as fine: the input was explained.  A rerun that exceeds the timeout is a failure too.

Every failure is printed with the page, the widget, the value, the exception and a reproduction:
the fuzzer replays the session on fresh ones, drops the steps that are not needed, and prints
what is left both as a `--replay` argument and as a Python snippet.  After a failure the page
gets a fresh session (a broken one would only repeat it); repeats of a failure are counted once.

    .venv/bin/python tools/fuzz_pages.py                      # 300 interactions over all pages
    .venv/bin/python tools/fuzz_pages.py --n 2000 --seed 7    # a longer run
    .venv/bin/python tools/fuzz_pages.py --page pages/7_Optimizer_arena.py --n 200
    .venv/bin/python tools/fuzz_pages.py --replay '<JSON printed for a failure>'
    .venv/bin/python tools/fuzz_pages.py --n 1000 --json-out fuzz.json   # keep every result

Pages run in parallel worker processes (--jobs, default 2) with a hard time limit each, so a page
that hangs (e.g. SymPy expanding x**9**9**9) is killed and reported instead of blocking the run.
Exit status: 0 if no failure, 1 otherwise.  tests/test_fuzz_pages.py runs the same code in CI
(seed OPTLAB_FUZZ_SEED, total OPTLAB_FUZZ_N).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
APP_DIR = Path(os.environ.get("OPTLAB_APP_DIR") or REPO).resolve()

DEFAULT_SEED = 20240607
DEFAULT_N = 300
RUN_TIMEOUT = 60.0  # seconds for one script run (AppTest's default_timeout)

# What a user can type into a text field.  The browser enforces max_chars, so longer strings are
# cut to the field's limit, as the browser would.
HOSTILE_STRINGS = [
    "", " ", "0", "-0", "1e309", "-1e309", "1e-320", "nan", "NaN", "inf", "-inf", "1/0", "0/0",
    "x**9**9", "x**9**9**9", "exp(exp(exp(x)))", "10**10**10", "x^y^x^y", "((((((x))))))",
    "__import__('os').system('echo pwned')", "().__class__.__bases__[0].__subclasses__()",
    "lambda: 0", "x; y", "x y", "x +", "sin(", ")", "y**-1", "log(0*x)", "sqrt(-1 - x**2)",
    "1 if x else y", "'; DROP TABLE x; --", "<script>alert(1)</script>", "$$\\frac{1}{0}$$",
    "{x}", "x\ny", "\t", "\x00", "∞", "x²+y²", "𝑥+𝑦", "é" * 40, "😀" * 20, "x" * 5000,
    "(" * 300 + "x" + ")" * 300, "+".join(["x"] * 400),
]
TEXT_WIDGETS = ("text_input", "text_area")
# accessor name on AppTest -> interaction kind; button_group covers st.pills and st.segmented_control
WIDGET_ACCESSORS = (
    "slider", "select_slider", "number_input", "text_input", "text_area", "selectbox", "multiselect",
    "radio", "checkbox", "toggle", "button", "button_group", "color_picker",
)
# Text inputs are where hostile input lives; give them more of the draws than a single checkbox.
WEIGHT = {"text_input": 10.0, "text_area": 10.0, "number_input": 2.0, "slider": 1.5, "chart_select": 3.0}


# ----------------------------------------------------------------------------------------------
# Pages
# ----------------------------------------------------------------------------------------------
_PAGE_FILENAME = re.compile(r"([0-9]*)[_ -]*(.*)\.py")


def page_files(app_dir: Path | None = None) -> list[str]:
    """app.py, then pages/*.py in sidebar order (the classic pages/ rule)."""
    app_dir = APP_DIR if app_dir is None else app_dir
    def order(p: Path):
        number, label = _PAGE_FILENAME.fullmatch(p.name).groups()
        return (float(number) if number else float("inf"), label.lower())

    pages = [p for p in (app_dir / "pages").glob("*.py") if not p.name.startswith((".", "_"))]
    return ["app.py"] + [f"pages/{p.name}" for p in sorted(pages, key=order)]


# ----------------------------------------------------------------------------------------------
# One interaction, replayable
# ----------------------------------------------------------------------------------------------
@dataclass
class Step:
    """One user action: widget `kind` identified by `key` (or by `label` + `nth` if it has none).

    `value` is what the widget is set to; for option widgets it is the option's *label* as shown
    (what a browser sends), for buttons True (a click), for a "link" the query parameters of a
    freshly opened session, for "chart_select" the selected point.
    """
    kind: str
    key: str | None
    label: str
    nth: int
    value: Any

    def describe(self) -> str:
        who = f"key={self.key!r}" if self.key else f"label={self.label!r} (#{self.nth})"
        v = self.value
        if isinstance(v, str) and len(v) > 60:
            v = f"{v[:40]!r}… ({len(v)} chars)"
        else:
            v = repr(v)
        return f"{self.kind} {who} <- {v}"


@dataclass
class Failure:
    page: str
    kind: str  # "exception" | "timeout" | "harness" | "crash"
    message: str
    step: dict | None
    steps: list[dict] = field(default_factory=list)  # shortest known reproduction
    trace: str = ""
    reproduced: bool | None = None

    def signature(self) -> tuple:
        first = self.message.strip().splitlines()[0][:160] if self.message.strip() else ""
        # numbers vary from value to value: "step 12", "lr = 3.2" -> one failure class
        first = re.sub(r"[-+]?\d[\d.eE+-]*", "#", first)
        widget = (self.step or {}).get("key") or (self.step or {}).get("label")
        return (self.page, self.kind, widget, first)


def _json_safe(v):
    if isinstance(v, float) and not math.isfinite(v):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return [_json_safe(x) for x in v]
    if isinstance(v, dict):
        return {k: _json_safe(x) for k, x in v.items()}
    return v


# ----------------------------------------------------------------------------------------------
# Setting widgets the way a browser does
# ----------------------------------------------------------------------------------------------
_FORCED: dict[type, type] = {}


def _force_state(widget, ws) -> None:
    """Make `widget` report exactly WidgetState `ws` on the next run.

    Option widgets (select boxes, radios, select sliders, pills) are sent as the *label* the
    browser shows; AppTest's own setters want the raw option and re-apply format_func, which fails
    for labels that are not options.  Swapping in a subclass whose state is fixed sends the label
    itself, exactly as the frontend does.
    """
    cls = type(widget)
    if cls not in _FORCED:
        _FORCED[cls] = type(f"Forced{cls.__name__}", (cls,),
                            {"_widget_state": property(lambda self: self._forced_ws)})
    widget.__class__ = _FORCED[cls]
    widget._forced_ws = ws


def _widget_state_proto(widget):
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    ws = WidgetState()
    ws.id = widget.id
    return ws


def _is_range(widget) -> bool:
    try:
        return len(widget.proto.default) == 2
    except TypeError:
        return False


def _labels(widget) -> list[str]:
    return [getattr(o, "content", o) for o in widget.proto.options]


def apply_step(at, step: Step) -> None:
    """Set the widget named by `step` on AppTest `at` (does not run it)."""
    if step.kind == "chart_select":
        at.session_state[step.key] = {"selection": {"points": step.value, "point_indices": list(
            range(len(step.value))), "box": [], "lasso": []}}
        return
    w = find_widget(at, step)
    v = step.value
    if step.kind == "button":
        w.click()
    elif step.kind in ("checkbox", "toggle"):
        w.set_value(bool(v))
    elif step.kind in ("slider",):
        w.set_value(v)
    elif step.kind == "number_input":
        w.set_value(_unjson_number(v))
    elif step.kind in TEXT_WIDGETS or step.kind == "color_picker":
        w.set_value(v)
    elif step.kind in ("selectbox", "radio"):
        ws = _widget_state_proto(w)
        if v is not None:
            ws.string_value = v
        _force_state(w, ws)
    elif step.kind in ("select_slider", "multiselect", "button_group"):
        ws = _widget_state_proto(w)
        vals = v if isinstance(v, list) else ([] if v is None else [v])
        ws.string_array_value.data[:] = vals
        _force_state(w, ws)
    else:
        raise ValueError(f"unknown step kind {step.kind!r}")


def _unjson_number(v):
    if isinstance(v, str):
        return float(v)
    return v


def find_widget(at, step: Step):
    widgets = list(getattr(at, step.kind))
    if step.key:
        for w in widgets:
            if w.key == step.key:
                return w
        raise LookupError(f"no {step.kind} with key {step.key!r} on the page now")
    same = [w for w in widgets if not w.key and getattr(w, "label", "") == step.label]
    if step.nth < len(same):
        return same[step.nth]
    raise LookupError(f"no {step.kind} labelled {step.label!r} (#{step.nth}) on the page now")


def interactable(at) -> list[tuple[str, Any, int]]:
    """(kind, widget, nth-among-unkeyed-with-this-label) for every enabled widget on the page."""
    out = []
    for kind in WIDGET_ACCESSORS:
        counts: dict[str, int] = {}
        try:
            widgets = list(getattr(at, kind))
        except Exception:  # an accessor this Streamlit version lacks
            continue
        for w in widgets:
            label = getattr(w, "label", "") or ""
            nth = counts.get(label, 0)
            if not w.key:
                counts[label] = nth + 1
            if getattr(w.proto, "disabled", False):
                continue
            out.append((kind, w, nth))
    return out


def selectable_charts(at) -> list[tuple[str, dict]]:
    """(key, figure) of every plotly chart with a key and selections switched on."""
    out = []
    for c in at.get("plotly_chart"):
        user_key = getattr(c, "key", None)  # from the element id, as for widgets
        if user_key and list(getattr(c.proto, "selection_mode", [])):
            try:
                out.append((user_key, json.loads(c.proto.spec)))
            except ValueError:
                pass
    return out


def _decode(v):
    import base64

    import numpy as np

    if isinstance(v, dict) and "bdata" in v:
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        return a.reshape(-1).tolist()
    if isinstance(v, list):
        flat = []
        for x in v:
            flat.extend(x if isinstance(x, list) else [x])
        return flat
    return []


def _pick_label(kind: str, w, labels: list[str], rng: random.Random, seen: dict | None) -> str:
    """Any option; half of the time one of the options of this widget chosen least so far, so
    every option (e.g. "your own surface", which brings up a formula box) gets its turn."""
    if seen is not None and rng.random() < 0.5:
        counts = [seen.get((kind, w.key, lab), 0) for lab in labels]
        least = min(counts)
        label = rng.choice([lab for lab, c in zip(labels, counts) if c == least])
    else:
        label = rng.choice(labels)
    if seen is not None:
        seen[(kind, w.key, label)] = seen.get((kind, w.key, label), 0) + 1
    return label


def random_value(kind: str, w, rng: random.Random, seen: dict | None = None):
    """An extreme or random value that a browser could send for widget `w` (`seen` counts the
    options chosen so far, to spread choices over all of them)."""
    p = w.proto
    if kind == "button":
        return True
    if kind in ("checkbox", "toggle"):
        return rng.random() < 0.5 if rng.random() < 0.3 else not bool(w.value)
    if kind in TEXT_WIDGETS:
        s = rng.choice(HOSTILE_STRINGS)
        if rng.random() < 0.15:  # hostile text glued to something plausible
            s = rng.choice(["x**2 + y**2", "sin(x)*cos(y)", "(1 - x)**2"]) + rng.choice(["", " + ", "*"]) + s
        max_chars = getattr(p, "max_chars", 0)
        return s[:max_chars] if max_chars else s
    if kind == "color_picker":
        return "#%06x" % rng.randrange(0, 1 << 24)
    if kind == "slider":
        return _slider_value(w, rng)
    if kind == "number_input":
        return _number_value(w, rng)
    labels = _labels(w)
    if not labels:
        return None
    if kind in ("selectbox", "radio"):
        return _pick_label(kind, w, labels, rng, seen)
    if kind == "select_slider":
        if _is_range(w):
            i, j = sorted(rng.choice([(0, len(labels) - 1), (0, 0), (len(labels) - 1,) * 2,
                                      (rng.randrange(len(labels)), rng.randrange(len(labels)))]))
            return [labels[i], labels[j]]
        return labels[rng.choice([0, len(labels) - 1, rng.randrange(len(labels))])]
    if kind == "multiselect":
        cap = p.max_selections or len(labels)
        r = rng.random()
        if r < 0.2:
            return []
        if r < 0.35:
            return labels[:cap]
        return rng.sample(labels, rng.randint(1, min(cap, len(labels))))
    if kind == "button_group":
        from streamlit.proto.ButtonGroup_pb2 import ButtonGroup

        single = p.click_mode == ButtonGroup.ClickMode.SINGLE_SELECT
        if single:
            if not p.required and rng.random() < 0.15:
                return None  # clicking the selected option again deselects it
            return _pick_label(kind, w, labels, rng, seen)
        r = rng.random()
        if r < 0.2:
            return []
        return rng.sample(labels, rng.randint(1, len(labels)))
    return None


def _slider_value(w, rng: random.Random):
    from streamlit.proto.Slider_pb2 import Slider

    p = w.proto
    if p.data_type not in (Slider.INT, Slider.FLOAT):
        return None  # date/time sliders: none in OptLab
    lo, hi, step = p.min, p.max, p.step or 1

    def one():
        r = rng.random()
        if r < 0.35:
            v = lo
        elif r < 0.7:
            v = hi
        elif r < 0.8:
            v = min(hi, lo + step)  # the smallest non-zero move
        else:
            n = int(round((hi - lo) / step))
            v = lo + step * rng.randint(0, max(n, 0))
        v = min(max(v, lo), hi)
        if p.data_type == Slider.INT:
            return int(round(v))
        # the browser sends values on the step grid; keep them tidy like it does
        return float(round(v, 12))

    if _is_range(w):
        a, b = sorted((one(), one()))
        return [a, b]
    return one()


def _number_value(w, rng: random.Random):
    from streamlit.proto.NumberInput_pb2 import NumberInput

    p = w.proto
    lo = p.min if p.has_min else None
    hi = p.max if p.has_max else None
    is_int = p.data_type == NumberInput.INT
    cands = []
    if lo is not None:
        cands += [lo, lo]
    if hi is not None:
        cands += [hi, hi]
    cands += [0, 1e-12, -1e-12, 1e-300, 5e-324, 1.0, -1.0, 0.5]
    if lo is None:
        cands += [-1e308, -1e12, -1e6]
    if hi is None:
        cands += [1e308, 1e12, 1e6]
    # a random magnitude across the range (log-uniform)
    cands.append(rng.choice([-1, 1]) * 10 ** rng.uniform(-12, 12))
    if lo is not None and hi is not None:
        cands.append(rng.uniform(lo, hi))
    v = rng.choice(cands)
    if lo is not None:
        v = max(v, lo)
    if hi is not None:
        v = min(v, hi)
    if is_int:
        v = int(round(max(min(v, 2**53), -2**53)))
    return v


def chart_selection(fig: dict, rng: random.Random) -> list[dict]:
    """A point of one of the figure's traces, as plotly sends it on a click/box selection."""
    traces = [t for t in fig.get("data", []) if "x" in t and "y" in t]
    rng.shuffle(traces)
    for t in traces:
        xs, ys = _decode(t["x"]), _decode(t["y"])
        n = min(len(xs), len(ys))
        if n == 0:
            continue
        pts = []
        for i in rng.sample(range(n), min(n, rng.choice([1, 1, 2]))):
            x, y = xs[i], ys[i]
            if isinstance(x, (int, float)) and isinstance(y, (int, float)):
                pts.append({"x": _json_safe(float(x)), "y": _json_safe(float(y)), "point_index": i,
                            "curve_number": fig["data"].index(t)})
        if pts:
            return pts
    return []


# ----------------------------------------------------------------------------------------------
# Running a page
# ----------------------------------------------------------------------------------------------
def follow_language(at) -> None:
    """Make the session's language the language of this (the test's) thread: AppTest calls a
    widget's format_func here to find the index of a selectbox/radio value among the options the
    page drew, so after a language switch it must translate like the session does."""
    from optlab import i18n
    from optlab.ui.i18n import LANG_KEY

    try:
        lang = at.session_state[LANG_KEY]
    except (KeyError, AttributeError):
        return
    if lang in i18n.LANGUAGES:
        i18n.activate(lang)


def run(at) -> None:
    """``at.run()``, then follow the session's language (see :func:`follow_language`)."""
    at.run()
    follow_language(at)


def open_page(page: str, timeout: float = RUN_TIMEOUT, query: dict | None = None):
    from streamlit import config
    from streamlit.testing.v1 import AppTest

    # the app's config hides exception details from students; the fuzzer must read them
    config.set_option("client.showErrorDetails", "full")

    at = AppTest.from_file(str(APP_DIR / "app.py"), default_timeout=timeout)
    if query:
        at.query_params.update(query)
    run(at)
    if page != "app.py":
        at.switch_page(page)
        run(at)
    return at


def exception_text(at) -> str | None:
    """Message + stack of every uncaught exception shown (None if none)."""
    excs = list(at.exception)
    if not excs:
        return None
    parts = []
    for e in excs:
        etype = getattr(e.proto, "type", "") or "Exception"
        parts.append(f"{etype}: {e.value}\n" + "\n".join(e.stack_trace or []))
    return "\n\n".join(parts)


def run_steps(page: str, steps: list[Step], timeout: float = RUN_TIMEOUT) -> tuple[str, str] | None:
    """Replay `steps` on a fresh session; returns (kind, message) of the first failure or None."""
    try:
        query = steps[0].value if steps and steps[0].kind == "link" else None
        at = open_page(page, timeout, query)
        if (msg := exception_text(at)) is not None:
            return "exception", msg
        for s in steps:
            if s.kind == "link":
                continue
            apply_step(at, s)
            run(at)
            if (msg := exception_text(at)) is not None:
                return "exception", msg
    except RuntimeError as e:
        if "timed out" in str(e):
            return "timeout", str(e)
        return "harness", f"{type(e).__name__}: {e}"
    except Exception as e:  # widget gone, AppTest cannot serialise a value …
        return "harness", f"{type(e).__name__}: {e}"
    return None


def fuzz_page(page: str, n: int, seed: int, timeout: float = RUN_TIMEOUT, *, minimise: bool = True,
              log=None) -> dict:
    """`n` random interactions on `page` (one session, renewed after a failure).

    Returns {"page", "interactions", "failures": [Failure as dict], "seconds", "run_seconds": [...],
    "widgets": {kind: count}} .
    """
    rng = random.Random(seed ^ zlib.crc32(page.encode()))
    t_start = time.perf_counter()
    failures: list[Failure] = []
    seen: set = set()
    run_seconds: list[float] = []
    widget_kinds: dict[str, int] = {}
    option_counts: dict[tuple, int] = {}
    done = 0
    history: list[Step] = []

    def record(f: Failure):
        if f.signature() in seen:
            return
        seen.add(f.signature())
        if minimise and f.kind in ("exception", "timeout") and f.step is not None:
            f.reproduced, f.steps = _minimise(page, history, timeout, f.kind, f.message)
        else:
            f.steps = [asdict(s) for s in history]
        failures.append(f)
        if log:
            log(format_failure(f))

    def fresh(query=None):
        nonlocal history
        history = [Step("link", None, "", 0, query)] if query else []
        t0 = time.perf_counter()
        at = open_page(page, timeout, query)
        run_seconds.append(time.perf_counter() - t0)
        return at

    try:
        at = fresh()
    except Exception as e:
        f = Failure(page, "crash", f"{type(e).__name__}: {e}", None, trace=traceback.format_exc())
        record(f)
        return _result(page, done, failures, t_start, run_seconds, widget_kinds)
    if (msg := exception_text(at)) is not None:
        record(Failure(page, "exception", msg, None))

    stale = 0
    while done < n:
        choices = interactable(at)
        charts = selectable_charts(at)
        if not choices and not charts:
            break  # nothing to touch (e.g. the home page)
        weights = [WEIGHT.get(k, 1.0) for k, _, _ in choices] + [WEIGHT["chart_select"]] * len(charts)
        q = {k: v for k, v in at.query_params.items()} if page != "app.py" else {}
        link = bool(q) and rng.random() < 0.04
        if link:
            # a shared link with one parameter made hostile, opened in a new session
            qk = rng.choice(sorted(q))
            q[qk] = [rng.choice(HOSTILE_STRINGS[:30] + ["-1", "999999999", "a,b,c", "%%", "[]", "{}"])]
            step = Step("link", None, "", 0, {k: list(v) if isinstance(v, (list, tuple)) else v
                                               for k, v in q.items()})
        else:
            i = rng.choices(range(len(weights)), weights=weights)[0]
            if i < len(choices):
                kind, w, nth = choices[i]
                value = random_value(kind, w, rng, option_counts)
                if value is None and kind not in ("button_group",):
                    stale += 1
                    if stale > 50:
                        break
                    continue
                step = Step(kind, w.key, getattr(w, "label", "") or "", nth, _json_safe(value))
            else:
                key, fig = charts[i - len(choices)]
                pts = chart_selection(fig, rng)
                if not pts:
                    stale += 1
                    if stale > 50:
                        break
                    continue
                step = Step("chart_select", key, "", 0, pts)
        widget_kinds[step.kind] = widget_kinds.get(step.kind, 0) + 1
        done += 1
        t0 = time.perf_counter()
        try:
            if step.kind == "link":
                at = fresh(step.value)
            else:
                history.append(step)
                apply_step(at, step)
                run(at)
        except RuntimeError as e:
            if step.kind == "link":
                history = [step]
            kind = "timeout" if "timed out" in str(e) else "harness"
            record(Failure(page, kind, f"{type(e).__name__}: {e}", asdict(step)))
            at = fresh()
            continue
        except Exception as e:
            record(Failure(page, "harness", f"{type(e).__name__}: {e}", asdict(step),
                           trace=traceback.format_exc()))
            at = fresh()
            continue
        finally:
            run_seconds.append(time.perf_counter() - t0)
        if (msg := exception_text(at)) is not None:
            record(Failure(page, "exception", msg, asdict(step)))
            at = fresh()  # a broken session would only repeat the same failure
    return _result(page, done, failures, t_start, run_seconds, widget_kinds)


def _result(page, done, failures, t_start, run_seconds, widget_kinds) -> dict:
    return {"page": page, "interactions": done, "failures": [asdict(f) for f in failures],
            "seconds": time.perf_counter() - t_start, "run_seconds": run_seconds, "widgets": widget_kinds}


def _same_failure(res, kind: str, message: str) -> bool:
    """Does replay result `res` show the same failure (kind and first line, numbers aside)?"""
    if res is None or res[0] != kind:
        return False
    norm = lambda m: re.sub(r"[-+]?\d[\d.eE+-]*", "#", (m.strip().splitlines() or [""])[0])[:160]
    return norm(res[1]) == norm(message)


def _minimise(page: str, history: list[Step], timeout: float, kind: str, message: str,
              budget: int = 12, seconds: float = 90.0) -> tuple[bool, list[dict]]:
    """Shortest reproduction found with at most `budget` replays (and about `seconds`) on fresh
    sessions: the last step alone, else the whole history shrunk by dropping one earlier step at
    a time.  Returns (reproduced?, steps)."""
    replays = 0
    deadline = time.monotonic() + seconds
    if kind == "timeout":
        budget = 2  # each replay may take the whole timeout

    def fails(steps) -> bool:
        nonlocal replays
        replays += 1
        return _same_failure(run_steps(page, steps, timeout), kind, message)

    if not history:
        return False, []
    link = [history[0]] if history[0].kind == "link" else []
    rest = history[len(link):]
    if rest and fails(link + rest[-1:]):
        return True, [asdict(s) for s in link + rest[-1:]]
    if not fails(history):
        return False, [asdict(s) for s in history]
    steps = list(history)
    i = 0
    while i < len(steps) - 1 and replays < budget and time.monotonic() < deadline:  # the failing step itself stays
        trial = steps[:i] + steps[i + 1:]
        if trial and fails(trial):
            steps = trial
        else:
            i += 1
    return True, [asdict(s) for s in steps]


# ----------------------------------------------------------------------------------------------
# Reports
# ----------------------------------------------------------------------------------------------
def format_failure(f: Failure | dict) -> str:
    f = f if isinstance(f, dict) else asdict(f)
    step = Step(**f["step"]) if f.get("step") else None
    msg = f["message"].strip()
    head = msg.splitlines()[0] if msg else ""
    lines = [
        f"FAIL [{f['kind']}] {f['page']}",
        f"  widget : {step.describe() if step else '(first render)'}",
        f"  error  : {head[:500]}",
    ]
    body = "\n".join(msg.splitlines()[1:])
    if body:
        tail = "\n".join(body.splitlines()[-14:])  # the innermost frames say where
        lines.append("  trace (last frames):\n" + "\n".join("    " + ln for ln in tail.splitlines()))
    if f.get("trace"):
        lines.append("  harness trace:\n" + "\n".join("    " + ln for ln in f["trace"].splitlines()[-8:]))
    steps = f.get("steps") or []
    if steps:
        rep = {"page": f["page"], "steps": steps}
        status = {True: "reproduced on a fresh session", False: "NOT reproduced alone (flaky or "
                  "needs more history)", None: ""}[f.get("reproduced")]
        lines.append(f"  reproduce ({len(steps)} step(s){', ' + status if status else ''}):")
        lines.append("    .venv/bin/python tools/fuzz_pages.py --replay " + _shell_quote(json.dumps(rep)))
        lines.append("  as Python:")
        lines.extend("    " + ln for ln in python_snippet(f["page"], steps).splitlines())
    return "\n".join(lines)


def _shell_quote(s: str) -> str:
    return "'" + s.replace("'", "'\"'\"'") + "'"


def python_snippet(page: str, steps: list[dict]) -> str:
    out = ["import sys; sys.path.insert(0, 'tools')",
           "from fuzz_pages import Step, apply_step, open_page, exception_text, run"]
    link = steps[0]["value"] if steps and steps[0]["kind"] == "link" else None
    out.append(f"at = open_page({page!r}" + (f", query={link!r})" if link else ")"))
    for s in steps:
        if s["kind"] == "link":
            continue
        v = s["value"]
        w = f"key={s['key']!r}" if s["key"] else None
        if s["kind"] == "button" and w:
            out.append(f"at.button({w}).click().run()")
        elif s["kind"] in ("slider", "number_input", "checkbox", "toggle", "text_input", "text_area") and w:
            vv = f"float({v!r})" if isinstance(v, str) and s["kind"] == "number_input" else repr(v)
            if isinstance(v, str) and len(v) > 80 and len(set(v)) == 1:
                vv = f"{v[0]!r} * {len(v)}"
            out.append(f"at.{s['kind']}({w}).set_value({vv}).run()")
        else:  # option labels as the browser sends them, unkeyed widgets
            out.append(f"apply_step(at, Step(**{s!r})); run(at)")
    out.append("print(exception_text(at))")
    return "\n".join(out)


# ----------------------------------------------------------------------------------------------
# Parallel driver: one worker process per page, hard time limit
# ----------------------------------------------------------------------------------------------
def allocate(total: int, pages: list[str]) -> dict[str, int]:
    """Interactions per page: the total split evenly over the chapter pages (the home page has
    no widgets; it is still opened once)."""
    chapters = [p for p in pages if p != "app.py"] or pages
    per = math.ceil(total / max(len(chapters), 1))
    return {p: (per if p in chapters else 5) for p in pages}


def run_all(pages: list[str] | None = None, total: int = DEFAULT_N, seed: int = DEFAULT_SEED, *,
            jobs: int = 2, timeout: float = RUN_TIMEOUT, hard_limit: float | None = None,
            minimise: bool = True, log=print) -> dict:
    """Fuzz `pages` in worker processes; returns {"results": [...], "failures": [...], "seconds"}.

    A worker that exceeds `hard_limit` seconds (default: generous per interaction) is killed —
    its page is reported as a "crash" failure naming the limit.  If pages without widgets leave
    the total short, a second round tops up the pages that have widgets.
    """
    pages = pages or page_files()
    t0 = time.perf_counter()
    plan = allocate(total, pages)
    results = _run_round(plan, seed, jobs, timeout, hard_limit, minimise, log)
    got = sum(r["interactions"] for r in results)
    if got < total:
        live = [r["page"] for r in results if r["interactions"] > 0 and not _crashed(r)]
        if live:
            extra = math.ceil((total - got) / len(live))
            results += _run_round({p: extra for p in live}, seed + 1, jobs, timeout, hard_limit, minimise, log)
    failures = []
    seen = set()
    for r in results:
        for f in r["failures"]:
            sig = Failure(**f).signature()
            if sig not in seen:
                seen.add(sig)
                failures.append(f)
    return {"results": results, "failures": failures, "seconds": time.perf_counter() - t0,
            "interactions": sum(r["interactions"] for r in results)}


def _crashed(r) -> bool:
    return any(f["kind"] == "crash" for f in r["failures"])


def _run_round(plan: dict[str, int], seed: int, jobs: int, timeout: float, hard_limit, minimise, log):
    queue = list(plan.items())
    running: list[tuple[subprocess.Popen, str, Path, float, float]] = []
    results = []
    tmp = Path(tempfile.mkdtemp(prefix="optlab_fuzz_"))
    env = dict(os.environ, PYTHONWARNINGS="ignore", OPTLAB_APP_DIR=str(APP_DIR))
    try:
        while queue or running:
            while queue and len(running) < max(1, jobs):
                page, n = queue.pop(0)
                out = tmp / (re.sub(r"\W", "_", page) + f"_{seed}.json")
                limit = hard_limit or (120 + 3 * timeout + n * 4.0)
                cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--page", page, "--n", str(n),
                       "--seed", str(seed), "--timeout", str(timeout), "--json", str(out)]
                if not minimise:
                    cmd.append("--no-minimise")
                # output to a file, not a pipe: a worker logging many tracebacks must not block on it
                log_path = out.with_suffix(".log")
                with open(log_path, "wb") as log_file:
                    proc = subprocess.Popen(cmd, cwd=str(APP_DIR), env=env, stdout=log_file, stderr=subprocess.STDOUT)
                running.append((proc, page, out, time.monotonic(), limit))
            time.sleep(0.05)
            for item in list(running):
                proc, page, out, started, limit = item
                if proc.poll() is None and time.monotonic() - started <= limit:
                    continue
                if proc.poll() is None:
                    proc.kill()  # only this worker, by its handle
                    proc.wait(timeout=10)
                    output = _tail(out.with_suffix(".log"))
                    results.append({"page": page, "interactions": 0, "seconds": time.monotonic() - started,
                                    "run_seconds": [], "widgets": {}, "failures": [asdict(Failure(
                                        page, "crash", f"worker killed after the hard limit of {limit:.0f} s "
                                        f"(a script run hung past its own {timeout:g} s timeout?)\n{output[-3000:]}",
                                        None))]})
                else:
                    output = _tail(out.with_suffix(".log"))
                    if out.exists():
                        results.append(json.loads(out.read_text()))
                    else:
                        results.append({"page": page, "interactions": 0, "seconds": time.monotonic() - started,
                                        "run_seconds": [], "widgets": {}, "failures": [asdict(Failure(
                                            page, "crash", f"worker exited with {proc.returncode}:\n{output[-3000:]}",
                                            None))]})
                running.remove(item)
                r = results[-1]
                if log:
                    log(f"{page}: {r['interactions']} interactions, {len(r['failures'])} failure(s), "
                        f"{r['seconds']:.1f} s" + _timing(r))
    finally:
        for proc, *_ in running:  # interrupted: stop our own workers, by their handles
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    return results


def _tail(path: Path, n: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return ""


def _timing(r) -> str:
    rs = sorted(r.get("run_seconds") or [])
    if not rs:
        return ""
    return f" (rerun median {rs[len(rs) // 2] * 1000:.0f} ms, max {rs[-1]:.2f} s)"


def _worker(args) -> int:
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    res = fuzz_page(args.page[0], args.n, args.seed, args.timeout, minimise=not args.no_minimise)
    Path(args.json).write_text(json.dumps(res, default=repr))
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=int(os.environ.get("OPTLAB_FUZZ_N", DEFAULT_N)),
                    help="total interactions (with --page: on that page)")
    ap.add_argument("--seed", type=int, default=int(os.environ.get("OPTLAB_FUZZ_SEED", DEFAULT_SEED)))
    ap.add_argument("--page", action="append", help="page file, e.g. pages/7_Optimizer_arena.py (repeatable)")
    ap.add_argument("--jobs", type=int, default=2, help="pages fuzzed at once (worker processes)")
    ap.add_argument("--timeout", type=float, default=RUN_TIMEOUT, help="seconds allowed for one script run")
    ap.add_argument("--no-minimise", action="store_true", help="do not replay failures to shorten them")
    ap.add_argument("--replay", help="JSON {page, steps} printed with a failure: replay it and report")
    ap.add_argument("--json-out", help="also write all results and failures to this JSON file")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--json", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    os.chdir(APP_DIR)

    if args.worker:
        return _worker(args)
    if args.replay:
        rep = json.loads(args.replay)
        steps = [Step(**s) for s in rep["steps"]]
        for s in steps:
            print("  ", s.describe())
        res = run_steps(rep["page"], steps, args.timeout)
        if res is None:
            print("no failure: the page handled these steps")
            return 0
        print(f"[{res[0]}] {res[1]}")
        return 1

    pages = args.page or page_files()
    if args.page:
        for p in args.page:
            if not (APP_DIR / p).is_file():
                ap.error(f"no page {p}; pages: {', '.join(page_files())}")
    print(f"fuzzing {len(pages)} page(s): {args.n} interactions, seed {args.seed}, {args.jobs} job(s)")
    out = run_all(pages, args.n, args.seed, jobs=args.jobs, timeout=args.timeout,
                  minimise=not args.no_minimise, log=print)
    print()
    for f in out["failures"]:
        print(format_failure(f))
        print()
    kinds: dict[str, int] = {}
    for r in out["results"]:
        for k, c in r["widgets"].items():
            kinds[k] = kinds.get(k, 0) + c
    print("interactions by kind: " + ", ".join(f"{k} {c}" for k, c in sorted(kinds.items(), key=lambda x: -x[1])))
    print(f"{out['interactions']} interactions, {len(out['failures'])} distinct failure(s), "
          f"{out['seconds']:.1f} s")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(out, default=repr, indent=1))
    return 1 if out["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
