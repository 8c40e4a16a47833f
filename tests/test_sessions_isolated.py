"""Two people using the app at once never see each other's settings.

1. Two AppTest sessions of the same page, interleaved: A moves a widget that changes its output;
   B's next rerun shows exactly what it showed before (charts, numbers, texts, widget values),
   and the other way round.  Pages are discovered from pages/.  The arena gets an explicit check
   with different surfaces and learning rates, compared on the chart data.
2. A real server (127.0.0.1) and two sessions speaking Streamlit's websocket protocol (no
   browser): A sets a slider while B reruns, concurrently; B still renders its own values.
3. Static checks: no module-level mutable state in optlab/ (registries filled at    only), no global random state, pages and optlab.ui never write to imported modules, and
   objects shared through st.cache_resource are never mutated — st.session_state is the only
   store that outlives a rerun.
"""
from __future__ import annotations

import ast
import asyncio
import functools
import json
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
APP_DIR = Path(os.environ.get("OPTLAB_APP_DIR") or REPO).resolve()
sys.path.insert(0, str(REPO / "tools"))  # scripts, not a package
import fuzz_pages as fuzz  # noqa: E402  (tools/fuzz_pages.py: page discovery and widget driving)
import serve  # noqa: E402  (tools/serve.py)

CHAPTERS = [p for p in fuzz.page_files(APP_DIR) if p != "app.py"]


# ----------------------------------------------------------------------------------------------
# 1. AppTest: two sessions, interleaved
# ----------------------------------------------------------------------------------------------
def _canonical(spec: str) -> str:
    """A chart's content: key order ignored, named colour scales spelled out ("Viridis" and its
    list of colours draw the same chart; a figure rebuilt from a cache carries the list)."""
    import plotly.colors

    def norm(o):
        if isinstance(o, dict):
            out = {}
            for k, v in o.items():
                if k == "colorscale" and isinstance(v, str):
                    try:
                        v = [list(x) for x in plotly.colors.get_colorscale(v)]
                    except Exception:  # noqa: BLE001 - an unknown name stays as it is
                        pass
                out[k] = norm(v)
            return out
        if isinstance(o, (list, tuple)):
            return [norm(x) for x in o]
        if isinstance(o, float):
            return float(f"{o:.12g}")  # 0.7777777777777777 vs …78 from two ways of spelling a scale
        return o

    return json.dumps(norm(json.loads(spec)), sort_keys=True)


def fingerprint(at) -> dict:
    """What a reader sees: chart specs, metrics, texts, alerts and every keyed widget's value."""
    widgets = {}
    for kind in fuzz.WIDGET_ACCESSORS:
        if kind == "button":
            continue
        for w in getattr(at, kind):
            if w.key:
                try:
                    widgets[f"{kind}:{w.key}"] = repr(w.value)
                except Exception as e:  # noqa: BLE001 - a value AppTest cannot read is still a value
                    widgets[f"{kind}:{w.key}"] = f"<{type(e).__name__}>"
    return {
        "charts": [_canonical(c.proto.spec) for c in at.get("plotly_chart")],
        "metrics": [(m.label, m.value) for m in at.metric],
        "text": [m.value for m in at.markdown] + [c.value for c in at.caption] + [x.value for x in at.latex],
        "alerts": [e.value for e in (*at.error, *at.warning, *at.info, *at.success)],
        "widgets": widgets,
        "exceptions": [e.value for e in at.exception],
    }


def output_changed(before: dict, after: dict) -> bool:
    return any(before[k] != after[k] for k in ("charts", "metrics", "text"))


def diff(before: dict, after: dict) -> str:
    out = []
    for k in before:
        if before[k] != after[k]:
            if isinstance(before[k], dict):
                keys = sorted(set(before[k]) | set(after[k]))
                ch = [f"{x}: {before[k].get(x)} -> {after[k].get(x)}" for x in keys if before[k].get(x) != after[k].get(x)]
                out.append(f"{k}: " + "; ".join(ch[:8]))
            else:
                out.append(f"{k}: {len(before[k])} -> {len(after[k])} items, first differing: " + next(
                    (f"{str(a)[:200]!r} -> {str(b)[:200]!r}" for a, b in zip(before[k], after[k]) if a != b),
                    "(lengths differ)"))
    return "\n".join(out)


def _shown_indices(kind: str, w) -> set[int]:
    """Indices of the option(s) a choice widget shows now (its default if AppTest cannot tell)."""
    try:
        if kind in ("selectbox", "radio"):
            return {w.index}
        if kind == "button_group":
            return set(w.indices)
        if kind == "select_slider":
            return {w.options.index(str(w.format_func(w.value)))}
    except Exception:  # noqa: BLE001 - format_func of a label, value not an option …
        pass
    d = w.proto.default
    return {int(d)} if isinstance(d, int) else {int(i) for i in d}


def _candidate_steps(at, rng) -> list:
    """Widget changes to try, most telling first: sliders and numbers to an end of their range,
    another option of a select box or radio, a flipped checkbox."""
    order = {"slider": 0, "select_slider": 1, "number_input": 2, "selectbox": 3, "radio": 4,
             "button_group": 5, "checkbox": 6, "toggle": 7}
    steps = []
    for kind, w, nth in fuzz.interactable(at):
        if kind not in order or not w.key:
            continue
        v = None
        if kind == "slider" and not fuzz._is_range(w):
            v = w.proto.max if w.value != w.proto.max else w.proto.min
            v = int(v) if w.proto.data_type == 0 else float(v)
        elif kind == "number_input":
            cur = float(w.value or 0.0)
            hi = w.proto.max if w.proto.has_max else float("inf")
            lo = w.proto.min if w.proto.has_min else float("-inf")
            v = min(max(cur * 3 + 0.5, lo), hi)
            if v == cur:
                v = lo if cur != lo and lo > float("-inf") else cur - 1.0
            if w.proto.data_type == 0:
                v = int(v)
        elif kind in ("selectbox", "radio", "select_slider", "button_group"):
            labels = fuzz._labels(w)
            if kind == "select_slider" and fuzz._is_range(w):
                continue
            shown = _shown_indices(kind, w)
            others = [lab for i, lab in enumerate(labels) if i not in shown]
            if not others:
                continue
            v = others[-1] if kind == "select_slider" else rng.choice(others)
        elif kind in ("checkbox", "toggle"):
            v = not w.value
        if v is not None:
            steps.append((order[kind], fuzz.Step(kind, w.key, w.label, nth, v)))
    steps.sort(key=lambda s: s[0])
    return [s for _, s in steps]


def _change_something(at, rng, avoid=()) -> tuple:
    """Apply the first candidate change that visibly changes `at`'s output; (step, before, after)."""
    before = fingerprint(at)
    for step in _candidate_steps(at, rng)[:12]:
        if step.key in avoid:
            continue
        fuzz.apply_step(at, step)
        at.run()
        assert not at.exception, f"{step.describe()} raised: {[e.value for e in at.exception]}"
        after = fingerprint(at)
        if output_changed(before, after):
            return step, before, after
        before = after
    return None, before, before


def check_two_sessions(page: str, seed: int = 3) -> None:
    """A and B on `page`: A's change never shows in B's rerun and the other way round."""
    import random

    rng = random.Random(seed)
    a = fuzz.open_page(page)
    b = fuzz.open_page(page)
    assert not a.exception and not b.exception
    b.run()  # the first run may initialise state; compare reruns
    b_before = fingerprint(b)
    b.run()
    b_again = fingerprint(b)
    stable = {k for k in b_before if b_before[k] == b_again[k]}
    assert {"charts", "widgets"} <= stable, f"{page} renders differently on a plain rerun:\n{diff(b_before, b_again)}"

    step_a, _, a_after = _change_something(a, rng)
    if step_a is None:
        pytest.skip(f"{page}: no slider/number/option/checkbox changed any chart, metric or text")

    b.run()
    b_after = fingerprint(b)
    changed = {k for k in stable if b_before[k] != b_after[k]}
    assert not changed, (
        f"{page}: session A set {step_a.describe()}; session B's rerun changed:\n{diff(b_before, b_after)}")

    # and the other way round, with another widget, so the two sessions now disagree twice
    step_b, _, b_after2 = _change_something(b, rng, avoid={step_a.key})
    a.run()
    a_again = fingerprint(a)
    changed = {k for k in stable if a_after[k] != a_again[k]}
    assert not changed, (
        f"{page}: session B set {step_b.describe() if step_b else 'nothing'}; session A's rerun changed:\n"
        f"{diff(a_after, a_again)}")
    if step_b is not None:
        b.run()
        b_final = fingerprint(b)
        assert all(b_final[k] == b_after2[k] for k in stable), diff(b_after2, b_final)


@pytest.mark.parametrize("page", CHAPTERS, ids=[Path(p).stem for p in CHAPTERS])
def test_two_apptest_sessions_do_not_share_settings(page):
    check_two_sessions(page)


def test_session_check_catches_a_leak(tmp_path, monkeypatch):
    """The check fails on a page that keeps its last value in an imported module (a test that
    cannot fail proves nothing)."""
    modname = f"optlab_leaky_{os.getpid()}"
    (tmp_path / f"{modname}.py").write_text("LAST = {}\n")
    (tmp_path / "pages").mkdir()
    (tmp_path / "app.py").write_text("import streamlit as st\nst.title('home')\n")
    (tmp_path / "pages" / "1_Leaky.py").write_text(
        "import streamlit as st\n"
        f"import {modname} as shared\n"
        "v = st.slider('v', 0, 10, 5, key='leak_v')\n"
        "st.markdown(f'value {v}, previous value {shared.LAST.get(\"v\")}')\n"
        "shared.LAST['v'] = v\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(fuzz, "APP_DIR", tmp_path)
    with pytest.raises(AssertionError, match="session B's rerun changed"):
        check_two_sessions("pages/1_Leaky.py")


ARENA = "pages/7_Optimizer_arena.py"


@pytest.mark.skipif(not (APP_DIR / ARENA).is_file(), reason="arena page not there yet")
def test_arena_sessions_race_on_their_own_surface_and_lr(plotly_array):
    import numpy as np

    def traces(at):
        spec = json.loads(at.get("plotly_chart")[0].proto.spec)
        paths = [(t.get("name"), plotly_array(t["x"]).astype(float), plotly_array(t["y"]).astype(float))
                 for t in spec["data"] if t.get("type", "scatter") == "scatter" and "x" in t and t.get("name")]
        zs = [plotly_array(t["z"]) for t in spec["data"] if "z" in t]
        return paths, zs

    a = fuzz.open_page(ARENA)
    b = fuzz.open_page(ARENA)
    b_paths, b_z = traces(b)
    b_surface = b.selectbox(key="arena_surface").index
    surfaces = fuzz._labels(a.selectbox(key="arena_surface"))
    other = next(s for s in surfaces if "Rosenbrock" not in s and "own surface" not in s)
    fuzz.apply_step(a, fuzz.Step("selectbox", "arena_surface", "", 0, other))
    a.run()
    lr_key = next(w.key for w in a.number_input if w.key.endswith("_lr"))
    a.number_input(key=lr_key).set_value(0.0123).run()
    assert not a.exception
    a_paths, a_z = traces(a)
    assert a.selectbox(key="arena_surface").index == surfaces.index(other)
    assert not any(np.array_equal(za, zb) for za in a_z for zb in b_z), "A's contour is still B's surface"
    assert any("0.0123" in (n or "") for n, _, _ in a_paths), [n for n, _, _ in a_paths]

    b.run()
    b_paths2, b_z2 = traces(b)
    assert b.selectbox(key="arena_surface").index == b_surface != surfaces.index(other)
    assert b.number_input(key=lr_key).value != 0.0123
    assert not any("0.0123" in (n or "") for n, _, _ in traces(b)[0])
    assert len(b_z2) == len(b_z) and all(np.array_equal(x, y) for x, y in zip(b_z, b_z2))
    assert [n for n, _, _ in b_paths2] == [n for n, _, _ in b_paths]
    for (n, x1, y1), (_, x2, y2) in zip(b_paths, b_paths2):
        np.testing.assert_array_equal(x1, x2, err_msg=f"B's path {n!r} moved after A's change")
        np.testing.assert_array_equal(y1, y2)
    # and A still has its own race after B's rerun
    a.run()
    a_paths2, _ = traces(a)
    for (n, x1, y1), (_, x2, y2) in zip(a_paths, a_paths2):
        np.testing.assert_array_equal(x1, x2, err_msg=f"A's path {n!r} changed")


# ----------------------------------------------------------------------------------------------
# 2. A real server, two websocket sessions (Streamlit's own protocol, no browser)
# ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    """`streamlit run app.py` on a loopback port for this module (own fixture: the browser
    conftest's app_server lives under tests/browser/ and is not visible here), as
    ``127.0.0.1:PORT``."""
    pytest.importorskip("websockets")
    log_path = tmp_path_factory.mktemp("isolation_server") / "server.log"
    try:
        proc, url = serve.start_server(APP_DIR, log_path)
    except RuntimeError as e:
        pytest.fail(str(e))
    try:
        yield url.removeprefix("http://")
    finally:
        serve.stop_server(proc)


class WsSession:
    """One browser tab's worth of Streamlit session, spoken over the websocket."""

    def __init__(self, ws, page_name: str):
        self.ws = ws
        self.page_name = page_name
        self.page_hash = ""
        self.states: dict[str, object] = {}  # widget id -> WidgetState the "user" has set

    async def rerun(self, change=None) -> list:
        from streamlit.proto.BackMsg_pb2 import BackMsg

        if change is not None:
            self.states[change.id] = change
        m = BackMsg()
        m.rerun_script.query_string = ""
        m.rerun_script.page_script_hash = self.page_hash
        m.rerun_script.page_name = self.page_name
        m.rerun_script.widget_states.widgets.extend(self.states.values())
        await self.ws.send(m.SerializeToString())
        return await self._until_finished()

    async def _until_finished(self) -> list:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        elements = {}
        while True:
            fm = ForwardMsg()
            fm.ParseFromString(await asyncio.wait_for(self.ws.recv(), 90))
            kind = fm.WhichOneof("type")
            if kind == "navigation":
                # the hash of the page being shown: later reruns must name it, as the browser does
                self.page_hash = fm.navigation.page_script_hash
                shown = [p.url_pathname for p in fm.navigation.app_pages if p.page_script_hash == self.page_hash]
                assert shown == [self.page_name], f"server shows {shown}, not {self.page_name}"
            elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                path = tuple(fm.metadata.delta_path)
                elements[path] = fm.delta.new_element
            elif kind == "script_finished":
                if fm.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    elements = {}
                    continue
                return [elements[k] for k in sorted(elements)]


def ws_fingerprint(elements) -> dict:
    out = {"charts": [], "metrics": [], "text": [], "exceptions": [], "widgets": {}}
    for e in elements:
        t = e.WhichOneof("type")
        if t == "plotly_chart":
            out["charts"].append(_canonical(e.plotly_chart.spec))
        elif t == "metric":
            out["metrics"].append((e.metric.label, e.metric.body))
        elif t == "markdown":
            out["text"].append(e.markdown.body)
        elif t == "exception":
            out["exceptions"].append(f"{e.exception.type}: {e.exception.message}")
        elif t in ("slider", "number_input", "selectbox", "checkbox"):
            w = getattr(e, t)
            out["widgets"][w.id] = (list(w.default) if hasattr(w.default, "__len__") else w.default,
                                    getattr(w, "value", None) if w.set_value else None)
    return out


@pytest.mark.parametrize("page", CHAPTERS, ids=[Path(p).stem for p in CHAPTERS])
def test_two_server_sessions_keep_their_own_slider(server_url, page):
    import websockets
    from streamlit.proto.WidgetStates_pb2 import WidgetState
    from streamlit.source_util import page_icon_and_name

    page_name = page_icon_and_name(Path(page))[1]
    ws_url = f"ws://{server_url}/_stcore/stream"

    async def scenario():
        async with websockets.connect(ws_url, subprotocols=["streamlit"], max_size=None) as wa, \
                websockets.connect(ws_url, subprotocols=["streamlit"], max_size=None) as wb:
            a, b = WsSession(wa, page_name), WsSession(wb, page_name)
            ea, eb = await asyncio.gather(a.rerun(), b.rerun())
            # the first run of a session may differ from its reruns (state initialised, URL
            # written): the baseline is a plain rerun, and a second one must match it
            ea, eb = await asyncio.gather(a.rerun(), b.rerun())
            fa0, fb0 = ws_fingerprint(ea), ws_fingerprint(eb)
            fb0_again = ws_fingerprint(await b.rerun())
            assert fb0_again == fb0, f"{page} renders differently on a plain rerun:\n{diff(fb0, fb0_again)}"
            assert not fa0["exceptions"] and not fb0["exceptions"], (fa0["exceptions"], fb0["exceptions"])
            assert fa0["charts"] and fa0["charts"] == fb0["charts"], "two fresh sessions render differently"
            sliders = [e.slider for e in ea if e.WhichOneof("type") == "slider" and not e.slider.options
                       and len(e.slider.default) == 1 and not e.slider.disabled]
            if not sliders:
                return f"{page} shows no plain slider on its first screen"
            results = []
            for s in sliders:  # the first slider whose move changes a chart
                current = (s.value if s.set_value else s.default)[0]
                target = s.max if current != s.max else s.min
                w = WidgetState(id=s.id)
                w.double_array_value.data.append(target)
                # A moves its slider while B reruns with its own (unchanged) settings, at once
                ea1, eb1 = await asyncio.gather(a.rerun(w), b.rerun())
                fa1, fb1 = ws_fingerprint(ea1), ws_fingerprint(eb1)
                results.append((s.id, fa1, fb1))
                if fa1["charts"] != fa0["charts"]:
                    break
            sid, fa1, fb1 = results[-1]
            if fa1["charts"] == fa0["charts"]:
                return f"no slider on {page} changed a chart"
            assert not fa1["exceptions"] and not fb1["exceptions"]
            assert fb1 == fb0, f"B's page changed when A moved slider {sid}:\n{diff(fb0, fb1)}"
            # B's next plain rerun, after A's change has settled, still shows B's defaults
            fb2 = ws_fingerprint(await b.rerun())
            assert fb2 == fb0, f"B's plain rerun after A's change:\n{diff(fb0, fb2)}"
            # and A keeps its value on its own plain rerun
            fa2 = ws_fingerprint(await a.rerun())
            assert fa2["charts"] == fa1["charts"]

    skipped = asyncio.run(asyncio.wait_for(scenario(), 180))
    if skipped:
        pytest.skip(skipped)


# ----------------------------------------------------------------------------------------------
# 3. Static checks
# ----------------------------------------------------------------------------------------------
MUTABLE_CALLS = {"dict", "list", "set", "defaultdict", "OrderedDict", "deque", "Counter", "bytearray"}
MUTATING_METHODS = {"append", "extend", "insert", "update", "setdefault", "pop", "popitem", "clear", "add",
                    "discard", "remove", "sort", "reverse", "__setitem__", "__delitem__", "appendleft",
                    "extendleft", "difference_update", "intersection_update", "symmetric_difference_update"}
# numpy's / random's generator constructors are fine; the module-level functions share one state
RNG_OK = {"default_rng", "Generator", "SeedSequence", "PCG64", "PCG64DXSM", "Philox", "MT19937", "SFC64",
          "BitGenerator", "Random", "SystemRandom"}
# per-session stores a page may write to
SESSION_STORES = ("st.session_state", "st.query_params", "streamlit.session_state", "streamlit.query_params")


def _py_files(*roots) -> list[Path]:
    files = []
    for r in roots:
        p = APP_DIR / r
        files += [p] if p.suffix == ".py" and p.is_file() else sorted(p.rglob("*.py")) if p.is_dir() else []
    return files


@functools.lru_cache(maxsize=None)
def _parse(p: Path) -> ast.Module:
    return ast.parse(p.read_text(), filename=str(p))


def _rel(p: Path) -> str:
    try:
        return str(p.relative_to(APP_DIR))
    except ValueError:
        return str(p)


def _is_mutable_display(v) -> bool:
    if isinstance(v, (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)):
        return True
    if isinstance(v, ast.Call):
        f = v.func
        name = f.id if isinstance(f, ast.Name) else (f.attr if isinstance(f, ast.Attribute) else None)
        return name in MUTABLE_CALLS
    return False


def _module_names(tree) -> dict[str, int]:
    names = {}
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            for t in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(t, ast.Name):
                    names[t.id] = node.lineno
    return names


def _mutable_module_names(tree) -> dict[str, int]:
    out = {}
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None and _is_mutable_display(node.value):
            for t in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(t, ast.Name):
                    out[t.id] = node.lineno
    return out


def _mutation_target(n) -> ast.AST | None:
    """The object a statement/expression mutates in place (x[...] = , x.append(), del x[...])."""
    if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in MUTATING_METHODS:
        return n.func.value
    if isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
        targets = n.targets if isinstance(n, (ast.Assign, ast.Delete)) else [n.target]
        for t in targets:
            if isinstance(t, (ast.Subscript, ast.Attribute)):
                return t.value if isinstance(t, ast.Subscript) else t
    return None


def _root_name(node) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _dotted(node) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _functions_with_parents(tree):
    """(function node, top-level function it sits in) for every def."""
    for top in tree.body:
        if isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for n in ast.walk(top):
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    yield n, top
        elif isinstance(top, ast.ClassDef):
            for n in ast.walk(top):
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    yield n, n


def _locally_bound(fn) -> set[str]:
    names = {a.arg for a in (*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs)}
    names |= {a.arg for a in (fn.args.vararg, fn.args.kwarg) if a is not None}
    for n in ast.walk(fn):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            names.add(n.id)
    globals_ = {g for n in ast.walk(fn) if isinstance(n, ast.Global) for g in n.names}
    return names - globals_


def _used_only_at_import_time(func_name: str, trees: dict) -> tuple[bool, list[str]]:
    """Is every call of `func_name` (or `x.func_name`) a decorator of a module-level def/class or a
    module-level statement?  Then what it fills is built once, at import, and read-only afterwards."""
    runtime = []
    for path, tree in trees.items():
        top_level_ok = set()
        for top in tree.body:
            if isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                for d in top.decorator_list:
                    top_level_ok |= {id(n) for n in ast.walk(d)}
            elif not isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                top_level_ok |= {id(n) for n in ast.walk(top)}
        for n in ast.walk(tree):
            if isinstance(n, ast.Call):
                f = n.func
                name = f.id if isinstance(f, ast.Name) else (f.attr if isinstance(f, ast.Attribute) else None)
                if name == func_name and id(n) not in top_level_ok:
                    runtime.append(f"{_rel(path)}:{n.lineno}")
    return not runtime, runtime


def _imported_names(tree) -> set[str]:
    names = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Import):
            names |= {(a.asname or a.name).split(".")[0] for a in n.names}
        elif isinstance(n, ast.ImportFrom):
            names |= {a.asname or a.name for a in n.names}
    return names


def test_no_module_level_mutable_state_in_optlab():
    """Module-level lists/dicts/sets in optlab/ are constants: ALL_CAPS (or __all__), never mutated
    after import.  A registry filled by a decorator is fine only if that decorator is applied at
    module level and nowhere at run time.  No module writes into another module."""
    files = _py_files("optlab")
    assert files, "no optlab/ sources found"
    trees = {p: _parse(p) for p in files}
    callers = {**trees, **{p: _parse(p) for p in _py_files("pages", "app.py")}}
    problems = set()
    for path, tree in trees.items():
        module_names = _module_names(tree)
        for name, line in _mutable_module_names(tree).items():
            if not (name.lstrip("_").isupper() or name == "__all__"):
                problems.add(f"{_rel(path)}:{line}: module-level {name!r} is a mutable container that is not an "
                             "ALL_CAPS constant (make it a tuple/frozenset/MappingProxyType, or build it in a function)")
        for fn, top in _functions_with_parents(tree):
            local = _locally_bound(fn)
            for n in ast.walk(fn):
                if isinstance(n, ast.Global):
                    problems.add(f"{_rel(path)}:{n.lineno}: `global {', '.join(n.names)}` in {fn.name}(): "
                                 "module state changed at run time")
                tgt = _mutation_target(n)
                root = _root_name(tgt) if tgt is not None else None
                if root and root in module_names and root not in local:
                    ok, where = _used_only_at_import_time(top.name, callers)
                    if not ok:
                        problems.add(f"{_rel(path)}:{n.lineno}: {fn.name}() mutates module-level {root!r} and "
                                     f"{top.name}() runs after import, at {', '.join(where[:5])}")
        imported = _imported_names(tree)
        for n in ast.walk(tree):
            tgt = _mutation_target(n)
            if isinstance(tgt, ast.Attribute) and _root_name(tgt) in imported and not _dotted(tgt).startswith(
                    SESSION_STORES):
                problems.add(f"{_rel(path)}:{n.lineno}: writes into imported {_dotted(tgt)}")
    assert not problems, "module-level mutable state:\n" + "\n".join(sorted(problems))


def test_no_global_random_state():
    """np.random.<function> and random.<function> share one generator across all sessions: a
    student's run would depend on what other visitors did.  Use np.random.default_rng(seed)."""
    problems = []
    for path in _py_files("optlab", "pages", "app.py"):
        tree = _parse(path)
        stdlib_random = any(isinstance(n, ast.Import) and any(a.name == "random" and not a.asname for a in n.names)
                            for n in ast.walk(tree))
        for n in ast.walk(tree):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute):
                dotted = _dotted(n.func)
                parts = dotted.split(".")
                if len(parts) == 3 and parts[0] in ("np", "numpy") and parts[1] == "random" and parts[2] not in RNG_OK:
                    problems.append(f"{_rel(path)}:{n.lineno}: {dotted}() uses NumPy's global generator")
                if stdlib_random and len(parts) == 2 and parts[0] == "random" and parts[1] not in RNG_OK:
                    problems.append(f"{_rel(path)}:{n.lineno}: {dotted}() uses the random module's global state")
    assert not problems, "\n".join(problems)


def _shared_returning_functions(trees: dict) -> set[str]:
    """Names of functions returning an object shared between sessions: st.cache_resource-decorated
    ones, and (to a fixpoint) functions returning what those return."""
    shared = set()
    defs = {}
    for tree in trees.values():
        for n in ast.walk(tree):
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                defs.setdefault(n.name, []).append(n)
                for d in n.decorator_list:
                    if "cache_resource" in ast.unparse(d):
                        shared.add(n.name)

    def call_name(c):
        f = c.func
        return f.id if isinstance(f, ast.Name) else (f.attr if isinstance(f, ast.Attribute) else None)

    changed = True
    while changed:
        changed = False
        for name, fns in defs.items():
            if name in shared:
                continue
            for fn in fns:
                bound = {t.id for a in ast.walk(fn) if isinstance(a, ast.Assign) and isinstance(a.value, ast.Call)
                         and call_name(a.value) in shared for t in a.targets if isinstance(t, ast.Name)}
                for r in ast.walk(fn):
                    if isinstance(r, ast.Return) and r.value is not None:
                        v = r.value
                        if (isinstance(v, ast.Call) and call_name(v) in shared) or (
                                isinstance(v, ast.Name) and v.id in bound):
                            shared.add(name)
                            changed = True
                            break
                if name in shared:
                    break
    return shared


def test_pages_keep_cross_rerun_state_only_in_session_state():
    """Pages and optlab/ui: no `global`, no writes into imported modules (only st.session_state
    and st.query_params, which are per session), and no in-place change to an object handed out
    by st.cache_resource (it is the same object in every session)."""
    files = _py_files("pages", "app.py", "optlab/ui")
    trees = {p: _parse(p) for p in files}
    all_trees = {**trees, **{p: _parse(p) for p in _py_files("optlab") if p not in trees}}
    shared = _shared_returning_functions(all_trees)
    problems = []
    for path, tree in trees.items():
        imported = _imported_names(tree)
        # names bound from calls of shared-returning functions (per function, and at module level)
        scopes = [tree] + [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for scope in scopes:
            body_nodes = list(ast.walk(scope)) if scope is not tree else [
                x for top in tree.body if not isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef))
                for x in ast.walk(top)]
            shared_names = set()
            for a in body_nodes:
                if isinstance(a, ast.Assign) and isinstance(a.value, ast.Call):
                    f = a.value.func
                    cname = f.id if isinstance(f, ast.Name) else (f.attr if isinstance(f, ast.Attribute) else None)
                    if cname in shared:
                        shared_names |= {t.id for t in a.targets if isinstance(t, ast.Name)}
            for n in body_nodes:
                if isinstance(n, ast.Global):
                    problems.append(f"{_rel(path)}:{n.lineno}: `global {', '.join(n.names)}`")
                tgt = _mutation_target(n)
                if tgt is None:
                    continue
                root = _root_name(tgt)
                dotted = _dotted(tgt) if isinstance(tgt, ast.Attribute) else (root or "")
                if root in shared_names:
                    problems.append(f"{_rel(path)}:{n.lineno}: changes {dotted or root}, an object shared by every "
                                    "session through st.cache_resource (copy it first, e.g. dataclasses.replace)")
                elif root in imported and isinstance(tgt, ast.Attribute) or (
                        root in imported and isinstance(n, ast.Call) and root not in ("st", "streamlit")):
                    if not dotted.startswith(SESSION_STORES):
                        problems.append(f"{_rel(path)}:{n.lineno}: writes into imported {dotted or root}: shared "
                                        "by every session; keep per-user state in st.session_state")
    assert not problems, "\n".join(sorted(set(problems)))


def test_static_checks_catch_examples(tmp_path):
    """The scanners flag what they should (a check that cannot fail proves nothing)."""
    src = (
        "import numpy as np\nimport streamlit as st\nfrom optlab import ui\n"
        "cache = {}\nREG = {}\n"
        "def remember(k, v):\n    cache[k] = v\n"
        "def fill(k):\n    REG.setdefault(k, 0)\n"
        "fill('a')\n"
        "def later():\n    fill('b')\n    np.random.seed(0)\n"
        "@st.cache_resource(max_entries=2)\ndef shared():\n    return {'a': 1}\n"
        "def page():\n    s = shared()\n    s['a'] = 2\n    ui.SETTINGS['x'] = 1\n"
        "    st.session_state['ok'] = 1\n"
    )
    tree = ast.parse(src)
    assert set(_mutable_module_names(tree)) == {"cache", "REG"}
    fake = tmp_path / "m.py"
    trees = {fake: tree}
    assert _used_only_at_import_time("fill", trees)[0] is False  # later() calls it at run time
    assert "shared" in _shared_returning_functions(trees)
    muts = {(_root_name(_mutation_target(n))) for n in ast.walk(tree) if _mutation_target(n) is not None}
    assert {"cache", "REG", "s", "ui", "st"} <= muts
