r"""Generated code for typed formulas: checked against a whitelist, then compiled with no builtins.

The formula worker (:mod:`optlab.surfaces.formula_worker`) sends back f, ∇f and ∇²f as the Python
function definitions SymPy's NumPy printer writes (``lambdify``'s code).  That text is not trusted:
:func:`check_code` parses it and accepts exactly one ``def f(x, y)`` made of assignments to fresh
local names and one ``return`` of arithmetic (``+ - * / **``, unary signs) on numbers, ``x``, ``y``,
those locals and calls of the NumPy functions in :data:`NUMPY_NAMES`, within size limits, with no
exact integer powers or products that could grow without bound; :func:`load_function` compiles
the checked tree and runs it with an empty ``__builtins__``.  So even a compromised worker could
only hand back arithmetic, and loading costs milliseconds.  The text a student typed never gets
here: it was parsed into a program with :mod:`ast` and checked (:mod:`optlab.surfaces.formula`).
"""
from __future__ import annotations

import ast
from typing import Any, Callable

import numpy as np

MAX_CODE_CHARS = 200_000    # one generated function (Hessians at the formula limits: ~20 kB) ...
MAX_CODE_NODES = 50_000     # ... so compiling it here costs milliseconds
MAX_INT_BITS = 4096         # integer literals in generated code (the formula limits keep them < 900)

# Names SymPy's NumPy printer uses for the functions a formula and its derivatives can contain.
NUMPY_NAMES = ("sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh", "tanh",
               "arcsinh", "arccosh", "arctanh", "exp", "expm1", "log", "log1p", "log2", "log10",
               "sqrt", "cbrt", "abs", "absolute", "sign", "real", "imag", "conjugate", "angle",
               "hypot", "heaviside", "power", "square", "reciprocal", "pi", "e", "inf", "nan")
_NAMESPACE = {name: getattr(np, name) for name in NUMPY_NAMES}
_OPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd)


class CodeError(ValueError):
    """Generated code that is not plain arithmetic on (x, y)."""


def check_code(src: str) -> ast.Module:
    """Parse ``src`` and raise :class:`CodeError` unless it is exactly one ``def f(x, y)`` made of
    assignments to fresh local names and one ``return`` of arithmetic on numbers, ``x``, ``y``,
    those locals and the functions in :data:`NUMPY_NAMES`."""
    if not isinstance(src, str) or len(src) > MAX_CODE_CHARS:
        raise CodeError("generated code is missing or too long")
    try:
        tree = ast.parse(src, mode="exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise CodeError(f"generated code does not parse ({type(exc).__name__})") from None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef):
        raise CodeError("generated code must be one function definition")
    fn = tree.body[0]
    a = fn.args
    if (fn.decorator_list or fn.returns or a.posonlyargs or a.vararg or a.kwonlyargs or a.kwarg
            or a.defaults or a.kw_defaults or [p.arg for p in a.args] != ["x", "y"]
            or any(p.annotation for p in a.args) or getattr(fn, "type_params", None)):
        raise CodeError("generated code must define f(x, y) and nothing else")
    if not fn.body or not isinstance(fn.body[-1], ast.Return) or fn.body[-1].value is None:
        raise CodeError("generated code must end with a return")
    known = {"x", "y"}
    int_locals: set[str] = set()  # locals holding a Python int (their arithmetic is exact)
    count = 0

    def is_int(n: ast.AST) -> bool:
        """An expression whose value is a Python int: literals, signs, + - * of such, int locals."""
        if isinstance(n, ast.Constant):
            return isinstance(n.value, int) and not isinstance(n.value, bool)
        if isinstance(n, ast.UnaryOp):
            return is_int(n.operand)
        if isinstance(n, ast.BinOp) and isinstance(n.op, (ast.Add, ast.Sub, ast.Mult)):
            return is_int(n.left) and is_int(n.right)
        return isinstance(n, ast.Name) and n.id in int_locals

    def expr(node: ast.AST, top: bool = False) -> None:
        nonlocal count
        stack = [(node, top)]
        while stack:
            n, is_top = stack.pop()
            count += 1
            if count > MAX_CODE_NODES:
                raise CodeError("generated code is too large")
            if isinstance(n, ast.BinOp) and isinstance(n.op, _OPS):
                # Python's exact ints could be made to grow without bound (10**10**10, or a
                # square of a square of ... through locals): SymPy folds its numbers, so its code
                # never multiplies or powers two ints unless both are literals (bounded below).
                if isinstance(n.op, (ast.Pow, ast.Mult)) and is_int(n.left) and is_int(n.right) and (
                        isinstance(n.op, ast.Pow) or not all(isinstance(m, ast.Constant)
                                                             for m in (n.left, n.right))):
                    raise CodeError("generated code does exact integer powers or products")
                stack += [(n.left, False), (n.right, False)]
            elif isinstance(n, ast.UnaryOp) and isinstance(n.op, _OPS):
                stack.append((n.operand, False))
            elif isinstance(n, ast.Constant):
                v = n.value
                if isinstance(v, bool) or not isinstance(v, (int, float, complex)):
                    raise CodeError(f"generated code holds a constant that is not a number: {v!r:.40}")
                if isinstance(v, int) and v.bit_length() > MAX_INT_BITS:
                    raise CodeError("generated code holds a huge integer")
            elif isinstance(n, ast.Name):
                if not isinstance(n.ctx, ast.Load) or (n.id not in known and n.id not in _NAMESPACE):
                    raise CodeError(f"generated code uses the name {n.id!r}")
            elif isinstance(n, ast.Call):
                if (not isinstance(n.func, ast.Name) or n.func.id not in _NAMESPACE or n.keywords
                        or any(isinstance(arg, ast.Starred) for arg in n.args)):
                    raise CodeError(f"generated code calls something else than a NumPy function: "
                                    f"{ast.dump(n.func)[:60]}")
                stack += [(arg, False) for arg in n.args]
            elif isinstance(n, (ast.List, ast.Tuple)) and is_top and isinstance(n.ctx, ast.Load):
                stack += [(e, False) for e in n.elts]
            else:
                raise CodeError(f"generated code holds a {type(n).__name__}")

    for stmt in fn.body[:-1]:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)):
            raise CodeError(f"generated code holds a {type(stmt).__name__} statement")
        name = stmt.targets[0].id
        if name in known or name in _NAMESPACE or name.startswith("_"):
            raise CodeError(f"generated code assigns to {name!r}")
        expr(stmt.value)
        known.add(name)
        if is_int(stmt.value):
            int_locals.add(name)
    expr(fn.body[-1].value, top=True)
    return tree


def load_function(src: str) -> Callable:
    """The function defined by generated code ``src``, after :func:`check_code` accepted it.

    It is compiled from the checked syntax tree and runs with an empty ``__builtins__`` and only
    the NumPy functions of :data:`NUMPY_NAMES` in scope."""
    tree = check_code(src)
    namespace: dict[str, Any] = {"__builtins__": {}, **_NAMESPACE}
    exec(compile(tree, "<optlab formula>", "exec"), namespace)  # checked arithmetic only, see above
    return namespace[tree.body[0].name]
