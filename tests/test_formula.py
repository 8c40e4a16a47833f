"""optlab.surfaces.formula.from_formula: user-typed surfaces, parsed without ever running the text.

* a corpus of hostile inputs (tests/fixtures/hostile_formulas.json) is refused with a FormulaError,
  with no side effect, no eval/exec/compile/import/open/sympify of the text, and (for all but the
  few that need SymPy to see the problem) before SymPy is reached;
* the whitelist walker alone refuses every hostile input that Python can parse, so the character
  filter in front of it is a second wall, not the only one;
* valid formulas evaluate on (B, 2), (ny, nx, 2) and (2,) to closed-form values, gradients and
  Hessians; random whitelisted formulas match NumPy and central finite differences (hypothesis).
"""
from __future__ import annotations

import ast
import builtins
import importlib
import json
import os
import subprocess
import unicodedata
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import optlab.surfaces.formula as formula
from optlab.errors import FormulaError, OptlabError
from optlab.surfaces.formula import from_formula

FIXTURE = Path(__file__).parent / "fixtures" / "hostile_formulas.json"
HOSTILE = json.loads(FIXTURE.read_text(encoding="utf-8"))
HOSTILE_IDS = [f"{i:03d}-{e['why'][:40]}" for i, e in enumerate(HOSTILE)]


def _text(entry, tmp_path) -> str:
    return entry["text"].replace("{marker}", str(tmp_path / "pwned"))


# ------------------------------------------------------------------------------------------------
# A guard that records any attempt to run code, import, open files or sympify strings.
# ------------------------------------------------------------------------------------------------
_ALLOWED_IMPORT_ROOTS = {"sympy", "mpmath", "numpy", "optlab", "gmpy2"}


@pytest.fixture
def guarded(monkeypatch):
    """``guarded(text) -> (exception or None, calls)``: from_formula with the dangerous doors patched.

    ``calls`` lists every attempt to eval/exec/compile for execution, import an unexpected module,
    open a file, start a process or sympify a string while from_formula ran (and nothing else ran).
    """
    import sympy
    import sympy.parsing.sympy_parser as sympy_parser

    sympify_module = importlib.import_module("sympy.core.sympify")  # the name is also a function
    from_formula("x**2 + sin(y)")  # lazy SymPy imports happen now, not inside the guarded call
    formula._sympy_stage(formula.check_formula("x**2 + sin(y)"))  # … also in this process
    real_compile, real_import = builtins.compile, builtins.__import__
    real_sympify = sympify_module.sympify

    def run(text, stage=None):
        """``stage=None``: from_formula(text) as the server runs it (SymPy in the worker process);
        ``stage="sympy"``: the checked program through the worker's SymPy stage in this process,
        so that the doors are watched where SymPy runs too."""
        calls: list[tuple[str, object]] = []
        program = formula.check_formula(text) if stage == "sympy" else None

        def refuse(name):
            def door(*args, **kwargs):
                calls.append((name, args[:1]))
                raise AssertionError(f"{name} was called")
            return door

        def compile_tree_only(source, filename, mode, flags=0, *args, **kwargs):
            if not flags & ast.PyCF_ONLY_AST:  # ast.parse is allowed: it only builds a tree
                calls.append(("compile", source))
                raise AssertionError("compile for execution")
            return real_compile(source, filename, mode, flags, *args, **kwargs)

        def import_known(name, globals=None, locals=None, fromlist=(), level=0):
            root = ((globals or {}).get("__package__") or "") if level else name
            if str(root).split(".")[0] not in _ALLOWED_IMPORT_ROOTS:
                calls.append(("__import__", name))
            return real_import(name, globals, locals, fromlist, level)

        def sympify_no_text(a, *args, **kwargs):
            if isinstance(a, str):
                calls.append(("sympify", a))
            return real_sympify(a, *args, **kwargs)

        error = None
        with monkeypatch.context() as m:
            for name in ("eval", "exec", "open", "breakpoint", "input"):
                m.setattr(builtins, name, refuse(name))
            m.setattr(builtins, "compile", compile_tree_only)
            m.setattr(os, "system", refuse("os.system"))
            m.setattr(os, "popen", refuse("os.popen"))
            m.setattr(subprocess, "Popen", refuse("subprocess.Popen"))
            m.setattr(sympy, "sympify", sympify_no_text)
            m.setattr(sympify_module, "sympify", sympify_no_text)
            m.setattr(sympy_parser, "parse_expr", refuse("parse_expr"))
            m.setattr(builtins, "__import__", import_known)  # last: setattr itself imports inspect
            try:
                if program is None:
                    from_formula(text)
                else:
                    out = formula._sympy_stage(program)
                    if isinstance(out, tuple):  # a refusal: (msgid, fields)
                        raise FormulaError(out[0].format(**out[1]), text=text)
            except Exception as exc:  # inspected by the test, outside the patched window
                error = exc
        return error, calls

    return run


# ------------------------------------------------------------------------------------------------
# Hostile corpus
# ------------------------------------------------------------------------------------------------
def test_hostile_corpus_covers_the_brief():
    texts = [e["text"] for e in HOSTILE]
    assert len(texts) >= 100
    assert len(set(texts)) == len(texts)
    for needle in ("__import__('os')", "__subclasses__", "open('/etc/passwd')", "exec(", "eval(",
                   "getattr(", "lambda", " for x in ", "f'", ":=", "x[0]", "x[1:2]", "{x: y}",
                   "x.__class__", "__builtins__", "Symbol(", "Integral(", "sympify(", "9**9**9",
                   "10**10**10", "2**(2**100)", "x**-9**9", "99999999999999999999999999", "1e309",
                   "nan", "1j", "b'x'", " and ", " < ", " if ", ";", "\n", "#", "\\", "\x00",
                   "\u0445", "\u200b", "\u202e", "\uff58"):
        assert any(needle in t for t in texts), needle
    assert any(t.startswith("(" * 500) for t in texts)
    assert any(len(t) >= 10_000 for t in texts)
    assert {e["stage"] for e in HOSTILE} == {"text", "tree", "sympy"}


@pytest.mark.parametrize("entry", HOSTILE, ids=HOSTILE_IDS)
def test_hostile_input_is_refused_without_side_effects(entry, tmp_path, guarded):
    text = _text(entry, tmp_path)
    err, calls = guarded(text)
    assert calls == []
    assert not (tmp_path / "pwned").exists()
    assert isinstance(err, FormulaError), repr(err)
    assert isinstance(err, ValueError) and err.text == text
    assert str(err) and "Traceback" not in str(err)
    if "position" in entry:
        assert err.position == entry["position"], str(err)
    if err.position is not None:
        assert 0 <= err.position <= len(text)


@pytest.mark.parametrize("entry", [e for e in HOSTILE if e["stage"] == "sympy" and len(e["text"]) <= formula.MAX_LENGTH],
                         ids=[i for i, e in zip(HOSTILE_IDS, HOSTILE)
                              if e["stage"] == "sympy" and len(e["text"]) <= formula.MAX_LENGTH])
def test_sympy_stage_refuses_without_side_effects(entry, tmp_path, guarded):
    """The SymPy stage itself (as the worker process runs it) opens no door either."""
    text = _text(entry, tmp_path)
    err, calls = guarded(text, stage="sympy")
    assert calls == []
    assert isinstance(err, FormulaError), repr(err)


@pytest.mark.parametrize("entry", [e for e in HOSTILE if e["stage"] != "sympy"],
                         ids=[i for i, e in zip(HOSTILE_IDS, HOSTILE) if e["stage"] != "sympy"])
def test_hostile_input_is_refused_before_sympy(entry, tmp_path, monkeypatch):
    def no_compile(program):
        raise AssertionError(f"SymPy stage reached with {program!r}")

    monkeypatch.setattr(formula, "_compile", no_compile)
    with pytest.raises(FormulaError):
        formula.check_formula(_text(entry, tmp_path))
    with pytest.raises(FormulaError):
        from_formula(_text(entry, tmp_path))


@pytest.mark.parametrize("entry", HOSTILE, ids=HOSTILE_IDS)
def test_tree_walker_alone_refuses_what_python_can_parse(entry, tmp_path):
    """Second wall: skip the character filter and feed Python's own parse to the walker."""
    text = _text(entry, tmp_path)
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return  # Python itself cannot read it; nothing for the walker to see
    src = formula._Text(text, text, tuple(range(len(text))), ())
    try:
        formula._Checker(src).program(tree)
    except formula._Reject:
        return
    # What passes the walker is made of whitelisted nodes only. The corpus entries that may pass are
    # SymPy-stage problems and text that Python reads as a harmless formula although the character
    # filter refuses it: comments, a line continuation, lookalikes that Python's NFKC
    # normalisation of identifiers turns into x, y, sin.
    assert entry["stage"] != "tree", text
    assert entry["stage"] == "sympy" or ("#" in text or "\\" in text
                                         or unicodedata.normalize("NFKC", text) != text), text


def test_valid_formula_is_never_sympified_as_text(monkeypatch):
    """SymPy builds the expression from the checked tree: no string reaches sympify/parse_expr."""
    import sympy
    import sympy.parsing.sympy_parser as sympy_parser

    sympify_module = importlib.import_module("sympy.core.sympify")
    real = sympify_module.sympify
    texts = []

    def record(a, *args, **kwargs):
        if isinstance(a, str):
            texts.append(a)
        return real(a, *args, **kwargs)

    for target in (sympy, sympify_module):
        monkeypatch.setattr(target, "sympify", record)
    monkeypatch.setattr(sympy_parser, "parse_expr", lambda *a, **k: texts.append(a))
    text = "atan2(y, x) + abs(x)^3 + log10(y**2 + 1) - sqrt(x**2 + 1)*exp(-y)"
    out = formula._sympy_stage(formula.check_formula(text))  # what the worker process runs
    assert texts == []
    assert isinstance(out, dict) and set(out["code"]) == {"f", "df", "d2f"}
    formula._compile.cache_clear()
    s = from_formula(text)
    assert np.isfinite(s.hessian([[0.3, 0.2]])).all()


def test_formula_module_never_calls_eval_or_sympify():
    """Static check of optlab/surfaces/formula.py: no door that could run or parse text as code."""
    tree = ast.parse(Path(formula.__file__).read_text(encoding="utf-8"))
    forbidden = {"eval", "exec", "compile", "sympify", "parse_expr", "S", "__import__", "N",
                 "simplify", "nsimplify", "Symbol"}
    called = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            called.add(f.id if isinstance(f, ast.Name) else getattr(f, "attr", None))
    assert not called & forbidden
    top_imports = {a.name.split(".")[0] for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))
                   for a in n.names} | {(n.module or "").split(".")[0] for n in tree.body
                                        if isinstance(n, ast.ImportFrom)}
    assert "sympy" not in top_imports  # import optlab stays NumPy-only
    # the only place that compiles code is the loader of checked, generated code (formula_code.py);
    # the SymPy stage (formula_sympy.py) never sympifies text either
    sym = ast.parse(Path(formula.__file__).with_name("formula_sympy.py").read_text(encoding="utf-8"))
    assert not {n.func.id if isinstance(n.func, ast.Name) else getattr(n.func, "attr", None)
                for n in ast.walk(sym) if isinstance(n, ast.Call)} & forbidden
    worker = ast.parse(Path(formula.__file__).with_name("formula_code.py").read_text(encoding="utf-8"))
    compiles = [n for n in ast.walk(worker) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                and n.func.id in ("eval", "exec", "compile")]
    loader = next(n for n in worker.body if isinstance(n, ast.FunctionDef) and n.name == "load_function")
    assert compiles and all(any(c is m for m in ast.walk(loader)) for c in compiles)
    assert "check_code" in {n.func.id for n in ast.walk(loader) if isinstance(n, ast.Call)
                            and isinstance(n.func, ast.Name)}


# ------------------------------------------------------------------------------------------------
# Messages and positions
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, position, words", [
    ("", 0, ["type a formula in x and y, e.g. x**2 + 3*y**2"]),
    ("x + foo(y)", 4, ["unknown function 'foo'", "sin", "cos"]),
    ("x + foo", 4, ["unknown name 'foo'", "use x, y, pi, e", "sin"]),
    ("x.real", 1, ["attribute access is not allowed (`.`)"]),
    ("x^2 + y.real", 7, ["attribute access", "y.real"]),          # ^ -> ** shifts columns back
    ("x\u00b2 + bar", 5, ["unknown name 'bar'"]),                  # ² -> **2 shifts columns back
    ("sin(**x)", 4, ["keyword arguments are not allowed"]),
    ("x if y else 0", 0, ["not allowed"]),
    ("x in y", 0, ["comparisons are not allowed"]),
    ("x < y", 2, ["comparisons"]),
    ("x*(y + 1", 2, ["syntax error at column 3", "never closed"]),
    ("2x + y", 0, ["syntax error at column 1", "2*x"]),
    ("x**2 +", 5, ["ends with `+`"]),
    ("sin(x, y)", 0, ["sin takes 1 argument, got 2"]),
    ("x**500", 3, ["exponent", "100"]),
    ("\u0445**2", 0, ["U+0445", "CYRILLIC"]),
    ("x " + "x" * 400, 300, ["too long"]),
])
def test_messages_name_the_offending_part(text, position, words):
    with pytest.raises(FormulaError) as info:
        from_formula(text)
    assert info.value.position == position
    for w in words:
        assert w in str(info.value)


def test_size_limits_name_the_derivative_that_is_too_large():
    with pytest.raises(FormulaError, match="derivatives of this formula are too large"):
        from_formula("**".join(["x"] * 30))
    with pytest.raises(FormulaError, match=r"second derivatives \(Hessian\)"):
        from_formula("exp(x*" * 8 + "y" + ")" * 8)
    from_formula("exp(x*" * 6 + "y" + ")" * 6)  # shallower nesting is fine


def test_non_text_input_is_a_formula_error():
    for bad in (None, b"x**2", 3, ["x"]):
        with pytest.raises(FormulaError, match="must be text"):
            from_formula(bad)


# ------------------------------------------------------------------------------------------------
# Valid formulas: values, gradients, Hessians in closed form, on batches and grids
# ------------------------------------------------------------------------------------------------
def _sq(a):
    return a * a


POSITIVES = {
    "x**2 + 3*y**2": (
        lambda x, y: x**2 + 3 * y**2,
        lambda x, y: (2 * x, 6 * y),
        lambda x, y: (2 + 0 * x, 0 * x, 6 + 0 * x)),
    "sin(x)*cos(y)": (
        lambda x, y: np.sin(x) * np.cos(y),
        lambda x, y: (np.cos(x) * np.cos(y), -np.sin(x) * np.sin(y)),
        lambda x, y: (-np.sin(x) * np.cos(y), -np.cos(x) * np.sin(y), -np.sin(x) * np.cos(y))),
    "exp(-(x**2+y**2))": (
        lambda x, y: np.exp(-(x**2 + y**2)),
        lambda x, y: (-2 * x * np.exp(-(x**2 + y**2)), -2 * y * np.exp(-(x**2 + y**2))),
        lambda x, y: ((4 * x**2 - 2) * np.exp(-(x**2 + y**2)), 4 * x * y * np.exp(-(x**2 + y**2)),
                      (4 * y**2 - 2) * np.exp(-(x**2 + y**2)))),
    "log(1 + x**2 + y**2)": (
        lambda x, y: np.log(1 + x**2 + y**2),
        lambda x, y: (2 * x / (1 + x**2 + y**2), 2 * y / (1 + x**2 + y**2)),
        lambda x, y: (2 / (1 + x**2 + y**2) - 4 * x**2 / _sq(1 + x**2 + y**2),
                      -4 * x * y / _sq(1 + x**2 + y**2),
                      2 / (1 + x**2 + y**2) - 4 * y**2 / _sq(1 + x**2 + y**2))),
    "abs(x) + y^2": (
        lambda x, y: np.abs(x) + y**2,
        lambda x, y: (np.sign(x), 2 * y),
        lambda x, y: (0 * x, 0 * x, 2 + 0 * x)),
    "2": (lambda x, y: 2 + 0 * x, lambda x, y: (0 * x, 0 * x), lambda x, y: (0 * x, 0 * x, 0 * x)),
    "x**0*3": (lambda x, y: 3 + 0 * x, lambda x, y: (0 * x, 0 * x),
               lambda x, y: (0 * x, 0 * x, 0 * x)),
    "sqrt(x**2+y**2+1)": (
        lambda x, y: np.sqrt(x**2 + y**2 + 1),
        lambda x, y: (x / np.sqrt(x**2 + y**2 + 1), y / np.sqrt(x**2 + y**2 + 1)),
        lambda x, y: (1 / np.sqrt(x**2 + y**2 + 1) - x**2 / (x**2 + y**2 + 1) ** 1.5,
                      -x * y / (x**2 + y**2 + 1) ** 1.5,
                      1 / np.sqrt(x**2 + y**2 + 1) - y**2 / (x**2 + y**2 + 1) ** 1.5)),
    "atan2(y, x)": (
        lambda x, y: np.arctan2(y, x),
        lambda x, y: (-y / (x**2 + y**2), x / (x**2 + y**2)),
        lambda x, y: (2 * x * y / _sq(x**2 + y**2), (y**2 - x**2) / _sq(x**2 + y**2),
                      -2 * x * y / _sq(x**2 + y**2))),
    "\u2212x\u00b2 + 2\u00d7y": (   # −x² + 2×y pasted from a textbook
        lambda x, y: -x**2 + 2 * y,
        lambda x, y: (-2 * x, 2 + 0 * x),
        lambda x, y: (-2 + 0 * x, 0 * x, 0 * x)),
    "x*y^3 - 1e-3*x + .5": (
        lambda x, y: x * y**3 - 1e-3 * x + 0.5,
        lambda x, y: (y**3 - 1e-3, 3 * x * y**2),
        lambda x, y: (0 * x, 3 * y**2, 6 * x * y)),
}


def _points(shape, seed=0):
    return np.random.default_rng(seed).uniform(-2.5, 2.5, size=shape + (2,))


@pytest.mark.parametrize("text", list(POSITIVES))
@pytest.mark.parametrize("shape", [(7,), (4, 5), ()], ids=["batch", "grid", "point"])
def test_values_gradients_hessians_match_closed_forms(text, shape):
    f, g, h = POSITIVES[text]
    s = from_formula(text)
    p = _points(shape)
    x, y = p[..., 0], p[..., 1]
    v, gr, H = s.value(p), s.grad(p), s.hessian(p)
    assert v.shape == shape and gr.shape == shape + (2,) and H.shape == shape + (2, 2)
    assert v.dtype == gr.dtype == H.dtype == np.float64
    np.testing.assert_allclose(v, f(x, y), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gr, np.stack(g(x, y), -1), rtol=1e-12, atol=1e-12)
    hxx, hxy, hyy = h(x, y)
    np.testing.assert_allclose(H, np.stack([np.stack([hxx, hxy], -1), np.stack([hxy, hyy], -1)], -2),
                               rtol=1e-11, atol=1e-11)
    xs, ys, Z = s.grid(9)
    assert Z.shape == (9, 9) and np.isfinite(Z).all()


def test_rosenbrock_typed_in_equals_the_builtin():
    from optlab import surfaces

    typed = from_formula("(1 - x)^2 + 100*(y - x^2)^2")
    ref = surfaces.get("rosenbrock")
    p = _points((30,), seed=3)
    np.testing.assert_allclose(typed.value(p), ref.value(p), rtol=1e-13)
    np.testing.assert_allclose(typed.grad(p), ref.grad(p), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(typed.hessian(p), ref.hessian(p), rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("text, value", [
    ("2^3^2", 512.0),            # right-associative, as in maths
    ("-2**2", -4.0),             # the power binds tighter than the sign
    ("2**-1", 0.5),
    ("(-2)**2", 4.0),
    ("12/4/3", 1.0),             # left-associative division
    ("2*pi - pi", np.pi),
    ("ln(e**2)", 2.0),
    ("log10(1000)", 3.0),
    ("acos(0) + asin(0) + atan(1)", np.pi / 2 + np.pi / 4),
    ("arccos(1) + arcsin(1) + arctan(0)", np.pi / 2),
    ("tanh(0) + cosh(0) + sinh(0) + tan(0)", 1.0),
    ("1_000 * 1e-3", 1.0),
    ("+-+2", -2.0),
])
def test_precedence_and_constants(text, value):
    s = from_formula(text)
    np.testing.assert_allclose(s.value(_points((3,))), value, rtol=1e-14)
    np.testing.assert_array_equal(s.grad(_points((3,))), 0.0)


def test_unary_minus_binds_looser_than_power_with_variables():
    s = from_formula("-x**2")
    np.testing.assert_allclose(s.value([[3.0, 0.0]]), [-9.0])


# ------------------------------------------------------------------------------------------------
# Non-finite values are quiet NaN / inf, never complex, never a warning
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, point, expect", [
    ("log(x)", (-1.0, 0.0), np.nan),
    ("sqrt(x)", (-1.0, 0.0), np.nan),
    ("arcsin(x)", (2.0, 0.0), np.nan),
    ("exp(x)", (1000.0, 0.0), np.inf),
    ("1/x", (0.0, 1.0), np.inf),
    ("x^y", (-2.0, 0.5), np.nan),
    ("sqrt(-x**2)", (1.0, 0.0), np.nan),   # SymPy rewrites it as i|x|: complex means NaN here
    ("sqrt(-x**2)", (0.0, 0.0), 0.0),
    ("log(-1 - x**2) + y", (0.5, 0.0), np.nan),
])
def test_bad_points_evaluate_quietly(text, point, expect):
    s = from_formula(text)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v, g, H = s.value(point), s.grad(point), s.hessian(point)
    assert v.dtype == g.dtype == H.dtype == np.float64
    np.testing.assert_array_equal(v, expect)


def test_imaginary_formula_is_flagged_in_notes():
    s = from_formula("sqrt(-x**2) + y")
    assert any("not real" in n for n in s.params["notes"])


# ------------------------------------------------------------------------------------------------
# LaTeX, params, caching, window, minima, starts, convexity
# ------------------------------------------------------------------------------------------------
def test_latex_and_derivative_latex():
    import sympy as sp

    s = from_formula("x^2 + 3*y^2")
    x, y = sp.symbols("x y", real=True)
    assert s.latex == "f(x,y)=" + sp.latex(x**2 + 3 * y**2)
    assert s.params["formula"] == "x^2 + 3*y^2"
    assert s.params["grad_latex"] == ["2 x", "6 y"]
    assert s.params["hessian_latex"] == [["2", "0"], ["0", "6"]]
    assert any("`^` is read as `**`" in n for n in s.params["notes"])
    assert from_formula("x**2 + 3*y**2").params["notes"] == []
    assert "\\begin{algorithm}" not in s.latex
    assert s.name == "custom" and from_formula("x", name="mine").name == "mine"


def test_long_derivatives_are_not_printed():
    s = from_formula("-0.0001*(abs(sin(x)*sin(y)*exp(abs(100 - sqrt(x**2+y**2)/pi)))+1)**0.1")
    flat = [s.params["grad_latex"][0], *sum(s.params["hessian_latex"], [])]
    assert formula.LONG_LATEX in flat
    assert all(len(t) < 5000 for t in flat)


def test_compiled_once_per_normalized_formula():
    formula._compile.cache_clear()
    from_formula("x**2 + sin(y)")
    from_formula("x^2+sin(y)")          # same program: ^ is **, spaces do not matter
    from_formula("x ** 2 + sin( y )", window=((-1, 1), (-2, 2)))
    info = formula._compile.cache_info()
    assert (info.misses, info.hits) == (1, 2)
    assert info.maxsize == formula.CACHE_SIZE
    from_formula("x**2.0 + sin(y)")     # a float exponent is a different formula
    assert formula._compile.cache_info().misses == 2


def test_surfaces_are_independent_objects():
    a, b = from_formula("x**2 + y**2"), from_formula("x**2 + y**2")
    assert a is not b and a.params is not b.params
    a.params["notes"].append("changed")
    assert b.params["notes"] == []


def test_window_default_custom_and_invalid():
    assert from_formula("x + y").window == ((-3.0, 3.0), (-3.0, 3.0))
    s = from_formula("(x - 5)**2 + (y + 1)**2", window=((0, 10), (-4, 2)))
    assert s.window == ((0.0, 10.0), (-4.0, 2.0))
    np.testing.assert_allclose(s.minima, [[5.0, -1.0]], atol=1e-8)
    for bad in (((1, 0), (0, 1)), ((0, 1),), ((0, np.inf), (0, 1)), "big", ((0, 1), (2, 2))):
        with pytest.raises(OptlabError, match="window"):
            from_formula("x", window=bad)


@pytest.mark.parametrize("text, minima, min_value", [
    ("(x - 1)**2 + 2*(y + 0.5)**2", [[1.0, -0.5]], 0.0),
    ("abs(x) + abs(y)", [[0.0, 0.0]], 0.0),                     # a kink: no gradient needed
    ("sqrt(x**2 + y**2)", [[0.0, 0.0]], 0.0),                   # a cone
    # six-hump camel: two global minima, f* = -1.031628453489877
    ("(4 - 2.1*x**2 + x**4/3)*x**2 + x*y + (-4 + 4*y**2)*y**2",
     [[0.08984201368301331, -0.7126564032704135], [-0.08984201368301331, 0.7126564032704135]],
     -1.031628453489877),
    ("x**2 - y**2", [], None),         # saddle: lowest values on the border
    ("x**2", [], None),                # flat valley: no single lowest point
    ("2", [], None),                   # flat
    ("exp(-(x**2 + y**2))", [], None),  # maximum in the middle
])
def test_lowest_point_seen(text, minima, min_value):
    s = from_formula(text)
    got = s.minima[np.lexsort(s.minima.T[::-1])] if len(s.minima) else s.minima
    want = np.array(minima, dtype=float).reshape(-1, 2)
    want = want[np.lexsort(want.T[::-1])] if len(want) else want
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=1e-7)
    if min_value is None:
        assert s.min_value is None
    else:
        assert s.min_value == pytest.approx(min_value, abs=1e-10)
        np.testing.assert_allclose(s.distance_to_minimum(want), 0.0, atol=1e-7)


def test_starts_lie_in_the_window_where_finite():
    s = from_formula("log(x)", window=((-2, 2), (-1, 1)))
    assert s.starts
    pts = np.array(s.starts)
    assert np.all((pts[:, 0] > 0) & (pts[:, 0] <= 2) & (np.abs(pts[:, 1]) <= 1))
    assert np.isfinite(s.value(pts)).all()


@pytest.mark.parametrize("text, convex", [
    ("x**2 + 3*y**2", True),
    ("(x + 2*y - 7)**2 + (2*x + y - 5)**2", True),
    ("x**2 + x*y + y**2 + 4*x", True),
    ("7", True),
    ("x**2 - y**2", False),          # indefinite
    ("x**4 + y**4", False),          # convex, but not provable from a constant Hessian
    ("x**2 - abs(y)", False),        # constant Hessian after dropping the kink, yet not convex
])
def test_convex_only_when_provable(text, convex):
    assert from_formula(text).convex is convex


# ------------------------------------------------------------------------------------------------
# Property: random whitelisted formulas match NumPy and finite differences
# ------------------------------------------------------------------------------------------------
def _leaf():
    return st.sampled_from([
        ("x", lambda x, y: x), ("y", lambda x, y: y), ("2", lambda x, y: 2.0 + 0 * x),
        ("0.5", lambda x, y: 0.5 + 0 * x), ("1.5e0", lambda x, y: 1.5 + 0 * x),
        ("pi", lambda x, y: np.pi + 0 * x),
    ])


def _extend(children):
    unary = st.sampled_from([
        ("-({})", lambda u: -u), ("sin({})", np.sin), ("cos({})", np.cos), ("tanh({})", np.tanh),
        ("atan({})", np.arctan), ("exp(sin({}))", lambda u: np.exp(np.sin(u))),
        ("log(1 + ({})**2)", lambda u: np.log1p(u * u)), ("sqrt(({})^2 + 1)", lambda u: np.sqrt(u * u + 1)),
        ("({})**2", lambda u: u * u), ("({})^3", lambda u: u**3),
    ])
    binary = st.sampled_from([
        ("({}) + ({})", np.add), ("({}) - ({})", np.subtract), ("({})*({})", np.multiply),
        ("({})/(1 + ({})**2)", lambda a, b: a / (1 + b * b)),
    ])

    def apply_unary(args):
        (fmt, op), (text, fn) = args
        return fmt.format(text), lambda x, y: op(fn(x, y))

    def apply_binary(args):
        (fmt, op), (ta, fa), (tb, fb) = args
        return fmt.format(ta, tb), lambda x, y: op(fa(x, y), fb(x, y))

    return st.one_of(st.tuples(unary, children).map(apply_unary),
                     st.tuples(binary, children, children).map(apply_binary))


FORMULAS = st.recursive(_leaf(), _extend, max_leaves=6)
POINTS = st.tuples(st.floats(-2, 2), st.floats(-2, 2))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FORMULAS, POINTS)
def test_random_formulas_match_numpy_and_finite_differences(case, point):
    text, fn = case
    assume(len(text) <= formula.MAX_LENGTH)
    try:
        s = from_formula(text)
    except FormulaError as exc:  # only the size limits may refuse a whitelisted formula
        assume("too large to compute" not in str(exc))
        raise
    p = np.array(point)
    with np.errstate(all="ignore"):
        expected = fn(p[0], p[1])
    v, g, H = s.value(p), s.grad(p), s.hessian(p)
    assume(np.isfinite(expected) and abs(expected) < 1e4)
    assume(np.isfinite(g).all() and np.isfinite(H).all() and np.abs(H).max() < 1e4)
    np.testing.assert_allclose(v, expected, rtol=1e-10, atol=1e-10)
    np.testing.assert_array_equal(H[0, 1], H[1, 0])

    h = 1e-5
    e = np.eye(2) * h
    fd_grad = np.array([(s.value(p + e[i]) - s.value(p - e[i])) / (2 * h) for i in range(2)])
    fd_hess = np.array([(s.grad(p + e[i]) - s.grad(p - e[i])) / (2 * h) for i in range(2)])
    scale = 1.0 + np.abs(H).max() + np.abs(g).max() + abs(v)
    np.testing.assert_allclose(g, fd_grad, rtol=0, atol=1e-5 * scale)
    np.testing.assert_allclose(H, fd_hess, rtol=0, atol=1e-5 * scale)
