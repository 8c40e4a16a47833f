"""The house rules of ARCHITECTURE.md, read off the sources' imports (``ast``), not kept by hand.

Layers, bottom to top (a module may import its own layer and the ones below it):

0. library: every ``optlab`` module outside the three below (``optlab/*.py``, ``surfaces/``,
   ``optimizers/``, ``datasets/``);
1. ``optlab/chapters/``: one pure-NumPy model per page;
2. ``optlab/figures/``: Plotly figures;
3. ``optlab/ui/``: Streamlit caching, layout and captions;
4. ``pages/`` and ``app.py``.

A *chapter module* is ``chapters/X.py``, ``figures/X.py`` or ``ui/X.py`` where ``chapters/X.py``
exists; every other module of those three packages is *shared* (``figures/core``, ``ui/widgets`` …).

Rules checked on every import, module-level or inside a function (a lazy import still ties the
modules together):

- ``streamlit``: Streamlit is imported only in ``pages/``, ``app.py`` and ``optlab/ui/``;
- ``numeric``: no NumPy, SciPy, SymPy, pandas, torch or scikit-learn in ``pages/``, ``app.py`` or
  ``optlab/ui/`` (the maths lives in ``optlab``; a view reads results, e.g. ``arr.tolist()``).
  No exception is needed today; one would go in :data:`VIEW_NUMERIC_ALLOWED` with its reason;
- ``cycle``: no import cycle among ``optlab``'s modules;
- ``upward``: no ``optlab`` module imports one of a higher layer;
- ``chapter``: a chapter module imports no other chapter's modules, and a shared module imports no
  chapter module (what two chapters share goes down a layer);
- ``page``: a page (or ``app.py``) imports the chapter modules of at most one chapter.

And ``import optlab`` loads nothing but the standard library, NumPy and ``optlab``'s library
modules (checked in a fresh interpreter).

Each rule is also run on small synthetic trees with one bad import planted, so every check is
shown to fail when it should.
"""
from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LIBRARY, CHAPTERS, FIGURES, UI, PAGES = range(5)
LAYER_NAMES = ("library", "chapters", "figures", "ui", "pages")
CHAPTER_PACKAGES = {"chapters": CHAPTERS, "figures": FIGURES, "ui": UI}
NUMERIC = {"numpy", "scipy", "sympy", "pandas", "torch", "sklearn"}
VIEW_NUMERIC_ALLOWED: dict[str, str] = {}   # module -> why it needs a numerical library (none today)


@dataclass(frozen=True)
class Module:
    name: str          # "optlab.ui.newton", "optlab.surfaces" (a package's __init__), "pages.3_Newton_method", "app"
    path: Path
    is_package: bool


@dataclass(frozen=True)
class Import:
    importer: str
    target: str        # the module imported, as far as it is one of ours; else the name as written
    line: int


@dataclass(frozen=True)
class Violation:
    rule: str
    module: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.module}:{self.line}: {self.message}"


# ----------------------------------------------------------------------------------------------
# Reading the sources
# ----------------------------------------------------------------------------------------------
def find_modules(root: Path) -> dict[str, Module]:
    out: dict[str, Module] = {}
    for f in sorted((root / "optlab").rglob("*.py")):
        parts = list(f.relative_to(root).with_suffix("").parts)
        package = parts[-1] == "__init__"
        if package:
            parts = parts[:-1]
        out[".".join(parts)] = Module(".".join(parts), f, package)
    for f in sorted((root / "pages").glob("*.py")):
        out[f"pages.{f.stem}"] = Module(f"pages.{f.stem}", f, False)
    if (root / "app.py").is_file():
        out["app"] = Module("app", root / "app.py", False)
    return out


def find_imports(mod: Module, known: set[str]) -> list[Import]:
    """Every import statement of ``mod`` (anywhere in the file), resolved to the module it loads:
    ``from ..chapters import newton`` in ``optlab.ui.newton`` is ``optlab.chapters.newton``."""
    tree = ast.parse(mod.path.read_text(encoding="utf-8"), filename=str(mod.path))
    package = mod.name if mod.is_package else mod.name.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [Import(mod.name, a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            for a in node.names:
                sub = f"{prefix}.{a.name}"
                out.append(Import(mod.name, sub if sub in known else prefix, node.lineno))
    return out


def layer(name: str) -> int | None:
    """The layer of one of our modules (None for anything else)."""
    if name == "app" or name.startswith("pages."):
        return PAGES
    parts = name.split(".")
    if parts[0] != "optlab":
        return None
    return CHAPTER_PACKAGES.get(parts[1], LIBRARY) if len(parts) > 1 else LIBRARY


def chapter_stems(modules: dict[str, Module]) -> set[str]:
    return {n.split(".")[2] for n in modules if n.startswith("optlab.chapters.") and n.count(".") == 2}


def chapter_of(name: str, stems: set[str]) -> str | None:
    """X for ``optlab.{chapters,figures,ui}.X`` when X is a chapter; None for shared and other modules."""
    parts = name.split(".")
    if len(parts) == 3 and parts[0] == "optlab" and parts[1] in CHAPTER_PACKAGES and parts[2] in stems:
        return parts[2]
    return None


# ----------------------------------------------------------------------------------------------
# The rules
# ----------------------------------------------------------------------------------------------
def check(root: Path) -> list[Violation]:
    modules = find_modules(root)
    known = set(modules)
    stems = chapter_stems(modules)
    found: list[Violation] = []
    edges: dict[str, set[str]] = {n: set() for n in modules if n.startswith("optlab")}
    where: dict[tuple[str, str], int] = {}
    for mod in modules.values():
        lay = layer(mod.name)
        own = chapter_of(mod.name, stems)
        page_chapters: dict[str, int] = {}
        for imp in find_imports(mod, known):
            top = imp.target.split(".")[0]
            if top == "streamlit" and lay not in (UI, PAGES):
                found.append(Violation("streamlit", mod.name, imp.line,
                                       f"imports {imp.target}: Streamlit belongs to pages/, app.py and optlab/ui/"))
            if top in NUMERIC and lay in (UI, PAGES) and mod.name not in VIEW_NUMERIC_ALLOWED:
                found.append(Violation("numeric", mod.name, imp.line,
                                       f"imports {imp.target}: the maths of a view goes to optlab (a chapter or the "
                                       "library), the view calls it"))
            if imp.target not in known:
                continue
            target_layer = layer(imp.target)
            if lay is not None and lay < PAGES and target_layer > lay:
                found.append(Violation("upward", mod.name, imp.line,
                                       f"imports {imp.target}: {LAYER_NAMES[lay]} may not import "
                                       f"{LAYER_NAMES[target_layer]}"))
            theirs = chapter_of(imp.target, stems)
            if theirs is not None and lay in (CHAPTERS, FIGURES, UI) and theirs != own:
                what = f"chapter {own!r}" if own else "a shared module"
                found.append(Violation("chapter", mod.name, imp.line,
                                       f"imports {imp.target}: {what} may not import chapter {theirs!r}'s modules"))
            if theirs is not None and lay == PAGES:
                page_chapters.setdefault(theirs, imp.line)
            if mod.name in edges and imp.target in edges and imp.target != mod.name:
                edges[mod.name].add(imp.target)
                where.setdefault((mod.name, imp.target), imp.line)
        if len(page_chapters) > 1:
            found.append(Violation("page", mod.name, max(page_chapters.values()),
                                   f"uses the modules of chapters {sorted(page_chapters)}: one page, one chapter"))
    for cycle in cycles(edges):
        found.append(Violation("cycle", cycle[0], where[(cycle[0], cycle[1])], " -> ".join(cycle + [cycle[0]])))
    return found


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    comps: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(comp)

    for v in sorted(edges):
        if v not in index:
            visit(v)
    out = []
    for comp in comps:
        inside, start = set(comp), min(comp)
        path, seen, v = [start], {start}, start
        while True:  # walk inside the component until a module repeats: that loop is a cycle
            v = min(w for w in edges[v] if w in inside)
            if v in seen:
                out.append(path[path.index(v):])
                break
            path.append(v)
            seen.add(v)
    return out


def modules_loaded_by_import(root: Path) -> list[str]:
    """What ``import optlab`` adds to ``sys.modules`` in a fresh interpreter, with ``root`` first on the path."""
    code = ("import json, sys; before = set(sys.modules); import optlab; "
            "print(json.dumps(sorted(set(sys.modules) - before)))")
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def import_violations(loaded: list[str]) -> list[str]:
    bad = []
    for name in loaded:
        top = name.split(".")[0]
        if top == "optlab":
            if layer(name) != LIBRARY:
                bad.append(f"{name} (a {LAYER_NAMES[layer(name)]} module)")
        elif top != "numpy" and top not in sys.stdlib_module_names:
            bad.append(name)
    return bad


# ----------------------------------------------------------------------------------------------
# The repository keeps the rules
# ----------------------------------------------------------------------------------------------
def test_the_layout_exists():
    modules = find_modules(REPO)
    stems = chapter_stems(modules)
    assert {"loss_functions", "gradient_descent", "newton", "adaptive", "overfitting", "arena"} <= stems
    for stem in stems:   # every chapter has a page: its ui module or the model is imported by exactly one page
        users = [n for n, m in modules.items() if layer(n) == PAGES and any(
            chapter_of(i.target, stems) == stem for i in find_imports(m, set(modules)))]
        assert len(users) == 1, (stem, users)


def test_the_repository_keeps_the_house_rules():
    found = check(REPO)
    assert not found, "\n".join(map(str, found))


def test_import_optlab_loads_only_numpy():
    loaded = modules_loaded_by_import(REPO)
    assert "numpy" in loaded and "optlab.runner" in loaded
    assert import_violations(loaded) == []


# ----------------------------------------------------------------------------------------------
# Each check fails when it should
# ----------------------------------------------------------------------------------------------
CLEAN = {
    "optlab/__init__.py": "from . import data, errors\n",
    "optlab/errors.py": "class E(Exception):\n    pass\n",
    "optlab/data.py": "import numpy as np\n\nfrom .errors import E\n",
    "optlab/chapters/__init__.py": '"""chapters"""\n',
    "optlab/chapters/a.py": "import numpy as np\n\nfrom .. import data\n",
    "optlab/chapters/b.py": "from ..errors import E\n",
    "optlab/figures/__init__.py": "from .core import draw\n",
    "optlab/figures/core.py": "def draw():\n    import plotly\n",
    "optlab/figures/a.py": "from ..chapters import a as model\nfrom . import core\n",
    "optlab/figures/b.py": "from ..chapters import b\n",
    "optlab/ui/__init__.py": "from .widgets import show\n",
    "optlab/ui/widgets.py": "import streamlit as st\n\nfrom .. import data\nfrom ..figures import core\n",
    "optlab/ui/a.py": "import streamlit as st\n\nfrom ..chapters import a as model\nfrom ..figures import a as fig\n"
                      "from .widgets import show\n",
    "pages/1_A.py": "import streamlit as st\n\nfrom optlab import figures, ui\nfrom optlab.chapters import a as model\n"
                    "from optlab.figures import a as fig\nfrom optlab.ui import a as view\n",
    "app.py": "import streamlit as st\n\nfrom optlab import ui\n",
}


def _tree(tmp_path: Path, plant: dict[str, str] | None = None) -> Path:
    """The synthetic repository CLEAN with the files of ``plant`` replaced."""
    for rel, src in {**CLEAN, **(plant or {})}.items():
        f = tmp_path / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(src)
    return tmp_path


def test_the_clean_synthetic_tree_passes(tmp_path):
    assert check(_tree(tmp_path)) == []


PLANTED = [
    ("streamlit", "optlab/chapters/a.py", "import streamlit as st"),
    ("streamlit", "optlab/figures/core.py", "def f():\n    from streamlit import cache_data"),
    ("numeric", "optlab/ui/a.py", "import numpy as np"),
    ("numeric", "optlab/ui/widgets.py", "def f():\n    from numpy.linalg import eigvalsh"),
    ("numeric", "pages/1_A.py", "import scipy.optimize"),
    ("numeric", "app.py", "import numpy"),
    ("upward", "optlab/data.py", "from .chapters import b"),
    ("upward", "optlab/chapters/b.py", "from ..figures import core"),
    ("upward", "optlab/figures/b.py", "from ..ui import widgets"),
    ("upward", "optlab/chapters/b.py", "def f():\n    import optlab.ui.widgets"),
    ("chapter", "optlab/chapters/a.py", "from . import b"),
    ("chapter", "optlab/figures/a.py", "from . import b"),
    ("chapter", "optlab/ui/a.py", "from ..chapters import b"),
    ("chapter", "optlab/figures/core.py", "from ..chapters import a"),
    ("chapter", "optlab/ui/widgets.py", "from ..figures import a"),
    ("chapter", "optlab/chapters/__init__.py", "from . import a, b"),
    ("page", "pages/1_A.py", "from optlab.chapters import b"),
    ("cycle", "optlab/errors.py", "def f():\n    from . import data"),
    ("cycle", "optlab/errors.py", "import optlab"),
]


@pytest.mark.parametrize("rule, rel, line", PLANTED, ids=[f"{r}:{p}" for r, p, _ in PLANTED])
def test_a_planted_import_is_found(tmp_path, rule, rel, line):
    root = _tree(tmp_path, {rel: CLEAN[rel] + "\n" + textwrap.dedent(line) + "\n"})
    found = check(root)
    assert found and {v.rule for v in found} == {rule}, [str(v) for v in found]
    assert all(v.module == rel.removesuffix(".py").replace("/", ".").removesuffix(".__init__") for v in found
               if v.rule != "cycle"), [str(v) for v in found]


def test_a_cycle_is_reported_with_its_path(tmp_path):
    root = _tree(tmp_path, {"optlab/errors.py": CLEAN["optlab/errors.py"] + "\ndef f():\n    from . import data\n"})
    (v,) = check(root)
    assert v.rule == "cycle" and v.message in ("optlab.data -> optlab.errors -> optlab.data",
                                               "optlab.errors -> optlab.data -> optlab.errors")


def test_import_check_finds_a_heavy_import(tmp_path):
    copy = tmp_path / "repo"
    shutil.copytree(REPO / "optlab", copy / "optlab", ignore=shutil.ignore_patterns("__pycache__"))
    assert import_violations(modules_loaded_by_import(copy)) == []
    errors = copy / "optlab" / "errors.py"
    errors.write_text(errors.read_text() + "\nimport xml.dom.minidom\nfrom . import figures\n")
    bad = import_violations(modules_loaded_by_import(copy))
    assert "optlab.figures (a figures module)" in bad and any(b.startswith("plotly") for b in bad), bad
    assert not any(b.startswith("xml") for b in bad)                 # the standard library is fine
