"""Caches are bounded: a server that many students use for a whole lesson must not grow forever.

- Static: every `st.cache_data` / `st.cache_resource` in pages/, app.py and optlab/ (the UI
  helpers in optlab/ui/ above all) is called with `max_entries=` (not None); every
  `functools.lru_cache` has a finite maxsize and `functools.cache` (unbounded) is not used.
- Runtime: every cached function that the optlab.ui modules expose carries that bound.
- Behaviour: the shared caches really evict — after max_entries + 1 distinct calls the oldest
  entry is computed again, the newest is still served from the cache.
"""
from __future__ import annotations

import ast
import importlib
import os
import pkgutil
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
APP_DIR = Path(os.environ.get("OPTLAB_APP_DIR") or REPO).resolve()
CACHE_DECORATORS = {"cache_data", "cache_resource", "experimental_memo", "experimental_singleton"}


def _sources() -> list[Path]:
    files = [APP_DIR / "app.py"] if (APP_DIR / "app.py").is_file() else []
    for d in ("pages", "optlab"):
        if (APP_DIR / d).is_dir():
            files += sorted((APP_DIR / d).rglob("*.py"))
    return files


def _name(node) -> str | None:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return None


def _streamlit_aliases(tree) -> set[str]:
    """Names under which streamlit's cache decorators can be reached in this module."""
    aliases = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Import):
            aliases |= {a.asname or a.name for a in n.names if a.name == "streamlit"}
        elif isinstance(n, ast.ImportFrom) and n.module == "streamlit":
            aliases |= {a.asname or a.name for a in n.names if a.name in CACHE_DECORATORS}
    return aliases


def _is_cache_ref(node, aliases) -> bool:
    """`st.cache_data` (any alias of streamlit) or a bare imported `cache_data`."""
    if isinstance(node, ast.Attribute) and node.attr in CACHE_DECORATORS:
        root = node.value
        return isinstance(root, ast.Name) and root.id in aliases
    return isinstance(node, ast.Name) and node.id in CACHE_DECORATORS and node.id in aliases


def unbounded_caches(tree, filename: str = "<src>") -> list[str]:
    """Every Streamlit cache use without max_entries, and every unbounded functools cache."""
    aliases = _streamlit_aliases(tree)
    problems = []
    seen_refs = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Call) and _is_cache_ref(n.func, aliases):
            seen_refs.add(id(n.func))
            kw = {k.arg: k.value for k in n.keywords}
            where = f"{filename}:{n.lineno}"
            if "max_entries" not in kw:
                problems.append(f"{where}: {ast.unparse(n.func)}(...) without max_entries=")
            elif isinstance(kw["max_entries"], ast.Constant) and kw["max_entries"].value is None:
                problems.append(f"{where}: {ast.unparse(n.func)}(max_entries=None) is unbounded")
            # st.cache_data(func) used as a plain call wraps func with the defaults
            if n.args and not isinstance(n.args[0], ast.Constant):
                problems.append(f"{where}: {ast.unparse(n.func)}({ast.unparse(n.args[0])}) wraps a function "
                                "without max_entries=")
    for n in ast.walk(tree):
        if _is_cache_ref(n, aliases) and id(n) not in seen_refs:
            problems.append(f"{filename}:{n.lineno}: bare @{ast.unparse(n)} (no max_entries=)")
        if isinstance(n, (ast.Attribute, ast.Name)) and _name(n) == "cache" and isinstance(n, ast.Attribute) \
                and isinstance(n.value, ast.Name) and n.value.id == "functools":
            problems.append(f"{filename}:{n.lineno}: functools.cache is unbounded (use lru_cache(maxsize=…))")
        if isinstance(n, ast.ImportFrom) and n.module == "functools" and any(a.name == "cache" for a in n.names):
            problems.append(f"{filename}:{n.lineno}: functools.cache is unbounded (use lru_cache(maxsize=…))")
        if isinstance(n, ast.Call) and _name(n.func) == "lru_cache":
            kw = {k.arg: k.value for k in n.keywords}
            size = kw.get("maxsize", n.args[0] if n.args else None)
            if size is None or (isinstance(size, ast.Constant) and size.value is None):
                problems.append(f"{filename}:{n.lineno}: lru_cache without a finite maxsize")
    # a bare @functools.lru_cache (no call) defaults to 128: bounded, fine
    return problems


def test_every_streamlit_cache_has_max_entries():
    files = _sources()
    assert any(f.parent.name == "pages" for f in files) or files, "no sources found"
    problems = []
    n_caches = 0
    for f in files:
        tree = ast.parse(f.read_text(), filename=str(f))
        aliases = _streamlit_aliases(tree)
        n_caches += sum(isinstance(n, ast.Call) and _is_cache_ref(n.func, aliases) for n in ast.walk(tree))
        problems += unbounded_caches(tree, str(f.relative_to(APP_DIR)))
    assert n_caches > 0, "no st.cache_data / st.cache_resource found at all: is the scan looking in the right place?"
    assert not problems, "unbounded caches:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    "src, bad",
    [
        ("import streamlit as st\n@st.cache_data\ndef f(x): return x\n", True),
        ("import streamlit as st\n@st.cache_data(show_spinner=False)\ndef f(x): return x\n", True),
        ("import streamlit as st\n@st.cache_resource(max_entries=None)\ndef f(x): return x\n", True),
        ("import streamlit as stl\n@stl.cache_resource(ttl=3)\ndef f(x): return x\n", True),
        ("from streamlit import cache_data\n@cache_data\ndef f(x): return x\n", True),
        ("import streamlit as st\ndef f(x): return x\ng = st.cache_data(f)\n", True),
        ("import functools\n@functools.lru_cache(maxsize=None)\ndef f(x): return x\n", True),
        ("import functools\n@functools.cache\ndef f(x): return x\n", True),
        ("from functools import cache\n@cache\ndef f(x): return x\n", True),
        ("import streamlit as st\n@st.cache_data(max_entries=8, show_spinner=False)\ndef f(x): return x\n", False),
        ("import streamlit as st\nN = 4\n@st.cache_resource(max_entries=N)\ndef f(x): return x\n", False),
        ("import functools\n@functools.lru_cache(maxsize=64)\ndef f(x): return x\n", False),
        ("import functools\n@functools.lru_cache\ndef f(x): return x\n", False),
        ("def cache_data(x): return x\n@cache_data\ndef f(x): return x\n", False),  # not streamlit's
    ],
)
def test_scanner_flags_unbounded_caches(src, bad):
    assert bool(unbounded_caches(ast.parse(src))) is bad


def _ui_modules():
    import optlab.ui

    names = [m.name for m in pkgutil.iter_modules(optlab.ui.__path__) if not m.name.startswith("_")]
    mods = []
    for n in names:
        try:
            mods.append(importlib.import_module(f"optlab.ui.{n}"))
        except ImportError as e:  # a module another helper is still writing
            pytest.fail(f"optlab.ui.{n} does not import: {e}")
    return mods


def test_cached_functions_carry_their_bound_at_run_time():
    from streamlit.runtime.caching.cache_utils import CachedFunc

    found = {}
    for mod in _ui_modules():
        for attr, obj in vars(mod).items():
            if isinstance(obj, CachedFunc) and getattr(obj, "__module__", mod.__name__) == mod.__name__:
                found[f"{mod.__name__}.{attr}"] = obj._info.max_entries
    assert found, "no cached functions found in optlab.ui"
    unbounded = {k: v for k, v in found.items() if v is None or v <= 0}
    assert not unbounded, f"cached without a bound: {unbounded}"


def _evicts(func, args_for, counter, max_entries: int) -> None:
    """Fill `func`'s cache with max_entries + 1 distinct calls: the oldest is evicted (computed
    again), the newest is a hit (not computed)."""
    func.clear()
    for i in range(max_entries + 1):
        func(*args_for(i))
    assert counter[0] == max_entries + 1, "every distinct call should have been computed once"
    func(*args_for(max_entries))
    assert counter[0] == max_entries + 1, "the newest entry was not served from the cache"
    func(*args_for(0))
    assert counter[0] == max_entries + 2, f"the oldest entry was not evicted after {max_entries + 1} entries"
    func.clear()


def test_shared_surface_cache_evicts(monkeypatch):
    """optlab.ui.widgets._surface (st.cache_resource): one Surface per spec, at most max_entries."""
    from optlab.ui import widgets

    counter = [0]
    real = widgets.surface_from_spec

    def counting(spec):
        counter[0] += 1
        return real(spec)

    monkeypatch.setattr(widgets, "surface_from_spec", counting)
    n = widgets._surface._info.max_entries
    _evicts(widgets._surface, lambda i: (("quadratic", (("condition", float(i + 1)),)),), counter, n)


def test_shared_run_cache_evicts(monkeypatch):
    """optlab.ui.widgets.cached_run (st.cache_data): the runs every page shares."""
    from optlab.ui import widgets

    counter = [0]
    real = widgets.run

    def counting(*a, **k):
        counter[0] += 1
        return real(*a, **k)

    monkeypatch.setattr(widgets, "run", counting)
    n = widgets.cached_run._info.max_entries
    assert n <= 4096, f"cached_run keeps up to {n} trajectories: is that bound meant?"
    lrs = np.linspace(1e-4, 1e-2, n + 1)
    _evicts(widgets.cached_run, lambda i: (("quadratic", ()), "sgd", (("lr", float(lrs[i])),), (1.0, 1.0), 1),
            counter, n)
