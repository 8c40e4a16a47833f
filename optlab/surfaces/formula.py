r"""A loss surface typed by the user: ``from_formula("x**2 + 3*y**2")`` -> :class:`Surface`.

The gradient and Hessian are exact: SymPy differentiates the formula and ``lambdify`` compiles
:math:`f`, :math:`\nabla f = (f_x, f_y)` and :math:`\nabla^2 f = \begin{pmatrix}f_{xx}&f_{xy}\\
f_{xy}&f_{yy}\end{pmatrix}` to NumPy, so the surface evaluates batches ``(B, 2)`` and grids
``(ny, nx, 2)`` like the built-in ones.

Safety: the text is never run. It is never given to ``eval``/``exec``/``compile`` (except
``ast.parse``, which only builds a syntax tree) nor to ``sympify``/``parse_expr``. The pipeline is

1. :func:`_normalize` — length limit, a whitelist of characters (a few maths symbols such as
   ``−``, ``×``, ``π``, ``²`` are translated), ``^`` rewritten as ``**``;
2. ``ast.parse(text, mode="eval")`` and :class:`_Checker` — every node must be one of
   ``BinOp(+ - * / **)``, ``UnaryOp(- +)``, a real number, ``x y pi e`` or a call of a
   whitelisted function with the right number of positional arguments; node count, nesting depth,
   exponents, the size of constant parts and the number of digits of every exact number SymPy will
   build (:class:`_Size`: fractions, integers and their powers, also inside ``(2*x)**100``) are
   bounded *before* SymPy sees anything, so SymPy never computes a huge number. The result is a
   plain nested tuple (the "program");
3. :func:`~optlab.surfaces.formula_sympy._sympy_stage`, in a worker process
   (:mod:`optlab.surfaces.formula_worker`) killed past 0.8 s of CPU — builds the SymPy expression from the program, differentiates it with size limits
   on the derivatives, and prints f, ∇f, ∇²f as NumPy code; :func:`_compile` checks that code
   against a whitelist of arithmetic (:mod:`optlab.surfaces.formula_code`) and compiles it here; cached per program with a bounded
   ``lru_cache``. While SymPy works, the server's threads keep running (no GIL is shared).

Every rejection is a :class:`~optlab.errors.FormulaError` whose ``position`` is the 0-based column of
the offending part in the text as typed.

SymPy is imported lazily: ``import optlab`` loads NumPy only.
"""
from __future__ import annotations

import ast
import functools
import inspect
import itertools
import keyword
import math
import unicodedata
from typing import Callable, NamedTuple

import numpy as np

from ..errors import FormulaError, OptlabError
from ..i18n import domain
from .base import Surface
from .formula_sympy import (LONG_LATEX, MAX_GRADIENT_SIZE, MAX_HESSIAN_ENTRY, MAX_HESSIAN_SIZE,  # noqa: F401
                            MAX_LATEX_SIZE, _sympy_from_program, _sympy_stage, _tree_size)

# Messages are in the language active when the formula is checked (a student reads them);
# the refusals of the cached compile step are msgids, translated where they are raised.
_, N_, ngettext = domain("optlab")

# ---------------------------------------------------------------------------------------------
# Limits. Classic test functions (Goldstein-Price, Ackley, Cross-in-tray) compile in ≤ 0.2 s of
# SymPy work; formulas crafted against these limits cost at most ~0.3 s (2-core machine), and the
# worker process is killed past formula_worker.CPU_LIMIT (0.8 s) whatever happens.
# ---------------------------------------------------------------------------------------------
MAX_LENGTH = 300            # characters of the typed text
MAX_NODES = 200             # numbers, names, operators and calls in the syntax tree
MAX_DEPTH = 40              # nesting of parentheses / calls / powers / unary signs
MAX_EXPONENT = 100          # |p| for a power a**p whose exponent p is a constant
MAX_INTEGER = 10**15        # integer literals (write 1e20 for a big float)
MAX_CONSTANT = 1e300        # |value| of any constant part such as 10**200 * 10**200 ...
MIN_CONSTANT = 1e-300       # ... and of any nonzero one, such as 10**-200 * 10**-200
MAX_EXACT_DIGITS = 250      # exact numbers SymPy may build (fractions, integers, their powers) ...
MAX_EXACT_BITS = math.ceil(MAX_EXACT_DIGITS * math.log2(10))  # ... in bits: derivatives stay < 10^308
MAX_POWER_DIGITS = 18       # exponents of nested powers such as (x**100)**100 (= x**10000) ...
MAX_POWER_BITS = math.ceil(MAX_POWER_DIGITS * math.log2(10))  # ... in bits
CACHE_SIZE = 128

DEFAULT_WINDOW = ((-3.0, 3.0), (-3.0, 3.0))
EMPTY_MESSAGE = N_("type a formula in x and y, e.g. x**2 + 3*y**2")

VARIABLES = ("x", "y")
CONSTANTS = ("pi", "e")

# name typed -> (canonical name, number of arguments). Aliases share the canonical name so that
# `atan(x)` and `arctan(x)` are one cache entry.
FUNCTIONS: dict[str, tuple[str, int]] = {
    "sin": ("sin", 1), "cos": ("cos", 1), "tan": ("tan", 1),
    "arcsin": ("arcsin", 1), "asin": ("arcsin", 1),
    "arccos": ("arccos", 1), "acos": ("arccos", 1),
    "arctan": ("arctan", 1), "atan": ("arctan", 1),
    "atan2": ("arctan2", 2), "arctan2": ("arctan2", 2),
    "sinh": ("sinh", 1), "cosh": ("cosh", 1), "tanh": ("tanh", 1),
    "exp": ("exp", 1), "log": ("log", 1), "ln": ("log", 1), "log10": ("log10", 1),
    "sqrt": ("sqrt", 1), "abs": ("abs", 1),
}
# NumPy twins of the canonical functions, used to estimate constant parts in float64.
_NUMPY_FUNCTIONS: dict[str, Callable] = {
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "arcsin": np.arcsin, "arccos": np.arccos,
    "arctan": np.arctan, "arctan2": np.arctan2, "sinh": np.sinh, "cosh": np.cosh,
    "tanh": np.tanh, "exp": np.exp, "log": np.log, "log10": np.log10, "sqrt": np.sqrt,
    "abs": np.abs,
}
_FUNCTION_LIST = ", ".join(sorted(FUNCTIONS))


def _allowed_names() -> str:
    return _("x, y, pi, e or one of the functions {functions}").format(functions=_FUNCTION_LIST)

# Characters a student may paste from a textbook or a web page, and what they mean.
_TRANSLATIONS = {
    "\u2212": "-",  # − minus sign
    "\u2013": "-",  # – en dash
    "\u00d7": "*",  # ×
    "\u22c5": "*",  # ⋅ dot operator
    "\u00b7": "*",  # · middle dot
    "\u00f7": "/",  # ÷
    "\u03c0": "pi",  # π
    "\u00b2": "**2",  # ²
    "\u00b3": "**3",  # ³
    "\u00a0": " ",  # no-break space
}
_ASCII_OK = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_ \t.+-*/^(),")
_CHARACTER_MESSAGES = {
    "'": N_("quotes are not allowed: a formula contains no text"),
    '"': N_("quotes are not allowed: a formula contains no text"),
    "[": N_("square brackets are not allowed: use ( ) for grouping"),
    "]": N_("square brackets are not allowed: use ( ) for grouping"),
    "{": N_("curly braces are not allowed: use ( ) for grouping"),
    "}": N_("curly braces are not allowed: use ( ) for grouping"),
    "=": N_("`=` is not allowed: type only the expression, e.g. x**2 + y**2 (no `f =`, no comparisons)"),
    "<": N_("comparisons (`<`, `>`) are not allowed: a formula gives one number per point"),
    ">": N_("comparisons (`<`, `>`) are not allowed: a formula gives one number per point"),
    "!": N_("`!` is not allowed (no factorials, no `!=`)"),
    ";": N_("only one expression is allowed: remove the `;`"),
    "#": N_("comments (`#`) are not allowed"),
    "\n": N_("the formula must be on one line"),
    "\r": N_("the formula must be on one line"),
    "\\": N_("backslashes are not allowed"),
    "|": N_("`|` is not allowed: write abs(x) for |x|"),
    ":": N_("`:` is not allowed (no lambdas, slices or `:=`)"),
    "@": N_("`@` is not allowed: use * for a product"),
    "%": N_("`%` is not allowed: use + - * / and ** (or ^)"),
    "&": N_("`&` is not allowed: use + - * / and ** (or ^)"),
    "~": N_("`~` is not allowed: use + - * / and ** (or ^)"),
    "$": N_("`$` is not allowed: type the formula without LaTeX, e.g. x**2 + y**2"),
    "`": N_("backquotes are not allowed"),
    "?": N_("`?` is not allowed"),
}

# Node types that are never part of a formula, with words a student knows.
_FORBIDDEN_NODES = {
    "Attribute": N_("attribute access is not allowed (`.`)"),
    "Subscript": N_("indexing and slicing with [ ] are not allowed"),
    "Slice": N_("slices are not allowed"),
    "Compare": N_("comparisons are not allowed: a formula gives one number per point"),
    "BoolOp": N_("`and` / `or` are not allowed: a formula gives one number per point"),
    "IfExp": N_("`... if ... else ...` is not allowed: write one formula"),
    "Lambda": N_("lambdas are not allowed"),
    "Tuple": N_("a formula is one expression: commas only separate the arguments of atan2"),
    "List": N_("lists are not allowed"),
    "Set": N_("sets are not allowed"),
    "Dict": N_("dictionaries are not allowed"),
    "ListComp": N_("comprehensions are not allowed"),
    "SetComp": N_("comprehensions are not allowed"),
    "DictComp": N_("comprehensions are not allowed"),
    "GeneratorExp": N_("generator expressions are not allowed"),
    "JoinedStr": N_("f-strings are not allowed"),
    "FormattedValue": N_("f-strings are not allowed"),
    "NamedExpr": N_("`:=` is not allowed"),
    "Starred": N_("`*` unpacking is not allowed"),
    "Await": N_("`await` is not allowed"),
    "Yield": N_("`yield` is not allowed"),
    "YieldFrom": N_("`yield` is not allowed"),
}
_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_OTHER_BINOPS = {"FloorDiv": "//", "Mod": "%", "MatMult": "@", "BitOr": "|", "BitAnd": "&",
                 "BitXor": "^", "LShift": "<<", "RShift": ">>"}
# Operators whose left operand continues the same flat chain (a + b - c + d): no deeper nesting.
_CHAIN = {ast.Add: 0, ast.Sub: 0, ast.Mult: 1, ast.Div: 1}


class _Reject(Exception):
    """Internal: a message and the column of the offending part in the normalized text."""

    def __init__(self, message: str, start: int | None = None):
        super().__init__(message)
        self.message, self.start = message, start


# ---------------------------------------------------------------------------------------------
# 1. Text
# ---------------------------------------------------------------------------------------------
class _Text(NamedTuple):
    """The typed text, what the parser sees, and for each parser column the typed column."""

    original: str
    normalized: str
    origin: tuple[int, ...]
    notes: tuple[str, ...]

    def position(self, col: int | None) -> int | None:
        """Typed column of parser column ``col`` (past the end: just after the last character)."""
        if col is None:
            return None
        if col < len(self.origin):
            return self.origin[max(col, 0)]
        return self.origin[-1] + 1 if self.origin else 0

    def segment(self, node: ast.AST) -> str:
        """The typed text of ``node`` (as the user wrote it, with ``^`` and unicode)."""
        start = self.position(getattr(node, "col_offset", None))
        end_col = getattr(node, "end_col_offset", None)
        if start is None or end_col is None:
            return ""
        end = self.position(end_col - 1) + 1
        snippet = self.original[start:end]
        return snippet if len(snippet) <= 40 else snippet[:37] + "..."


def _describe_char(ch: str) -> str:
    name = unicodedata.name(ch, "")
    code = f"U+{ord(ch):04X}"
    if unicodedata.category(ch) in ("Cc", "Cf", "Zs", "Zl", "Zp"):
        return _("invisible character {code} {name}").format(code=code, name=name).rstrip()
    return _("character {char!r} ({code} {name})").format(char=ch, code=code, name=name).replace(" )", ")")


def _normalize(text: object) -> _Text:
    """Check length and characters; translate maths symbols; rewrite ``^`` as ``**``."""
    if not isinstance(text, str):
        raise FormulaError(_("the formula must be text; got {kind}").format(kind=type(text).__name__))
    if not text.strip():
        raise FormulaError(_(EMPTY_MESSAGE), position=0, text=text)
    if len(text) > MAX_LENGTH:
        raise FormulaError(_("the formula is too long ({n} characters; at most {most})").format(
            n=len(text), most=MAX_LENGTH), position=MAX_LENGTH, text=text)
    out: list[str] = []
    origin: list[int] = []
    notes: list[str] = []
    for i, ch in enumerate(text):
        if ch in _ASCII_OK:
            piece = "**" if ch == "^" else ch
        elif ch in _TRANSLATIONS:
            piece = _TRANSLATIONS[ch]
            note = _("`{char}` is read as `{meaning}`").format(char=ch, meaning=piece.strip())
            if note not in notes:
                notes.append(note)
        elif ch in "<>" and text[i:i + 2] in ("<<", ">>"):
            raise FormulaError(_("`{op}` (bit shift) is not allowed: use + - * / and ** (or ^)").format(
                op=text[i:i + 2]), position=i, text=text)
        elif ch in _CHARACTER_MESSAGES:
            raise FormulaError(_(_CHARACTER_MESSAGES[ch]), position=i, text=text)
        elif ch.isascii() and ch.isprintable():
            raise FormulaError(_("`{char}` is not allowed: use + - * / ** ( ) and the names {names}").format(
                char=ch, names=_allowed_names()), position=i, text=text)
        else:
            raise FormulaError(_("{char} is not allowed: type the formula with plain letters a-z, digits and "
                                 "+ - * / ^ ( )").format(char=_describe_char(ch)), position=i, text=text)
        out.append(piece)
        origin.extend([i] * len(piece))
    if "^" in text:
        notes.insert(0, _("`^` is read as `**` (power), as in maths; in Python `^` would be XOR"))
    normalized = "".join(out)
    # Leading spaces would be an IndentationError; strip them, keeping the column map.
    lead = len(normalized) - len(normalized.lstrip(" \t"))
    normalized = normalized[lead:].rstrip(" \t")
    origin = origin[lead:lead + len(normalized)]
    return _Text(text, normalized, tuple(origin), tuple(notes))


def _parse(src: _Text) -> ast.Expression:
    """``ast.parse(mode="eval")``: builds a syntax tree, runs nothing. Errors name the column."""
    text = src.normalized
    if text[-1] in "+-*/(,":
        raise _Reject(_("the formula ends with `{char}`: something is missing after it").format(
            char=src.original.rstrip()[-1]), len(text) - 1)
    if text[0] in "*/)":
        raise _Reject(_("the formula cannot start with `{char}`").format(char=src.original.lstrip()[0]), 0)
    try:
        return ast.parse(text, mode="eval")
    except SyntaxError as exc:
        col = (exc.offset or 1) - 1 if exc.lineno in (None, 1) else len(text)
        col = min(max(col, 0), len(text))
        msg = (exc.msg or "invalid syntax").split(". Perhaps")[0]
        hint = _syntax_hint(text, col, msg)
        where = src.position(col)
        # Python's own message stays as Python wrote it (shown as code)
        raise _Reject(_("syntax error at column {col}: `{msg}`{hint}").format(col=where + 1, msg=msg, hint=hint),
                      col) from None
    except (ValueError, RecursionError, MemoryError):  # null bytes, absurd nesting
        raise _Reject(_("the formula could not be read (too deeply nested?)"), 0) from None


def _syntax_hint(text: str, col: int, msg: str) -> str:
    """A likely cause of a syntax error at ``col``, in a student's words."""
    if "never closed" in msg or "unmatched" in msg or "does not match" in msg:
        return _(" (check the parentheses)")
    if "decimal literal" in msg:
        return _(" (a product needs `*`: write 2*x, not 2x)")
    before = text[:col].rstrip()
    at = text[col:col + 1]
    word = "".join(itertools.takewhile(lambda ch: ch.isalnum() or ch == "_", text[col:]))
    if keyword.iskeyword(word) or keyword.iskeyword(before.split()[-1] if before.split() else ""):
        return _(" (Python keywords such as `import`, `if`, `for` are not part of a formula)")
    if before and (before[-1].isalnum() or before[-1] in "_.)") and (at.isalnum() or at in "_.("):
        word = before.split()[-1] if before.split() else ""
        word = "".join(ch for ch in word if ch.isalnum() or ch == "_")
        if word in FUNCTIONS:
            return _(" (a function's argument goes in parentheses: write {name}(...))").format(name=word)
        return _(" (a product needs `*`: write x*y, 2*x, (x+1)*(y-1))")
    if before and before[-1] in "+-*/" and at in ("*", "/"):
        return _(" (two operators in a row)")
    return ""


# ---------------------------------------------------------------------------------------------
# 2. Tree -> program (whitelist)
# ---------------------------------------------------------------------------------------------
def _measure(tree: ast.Expression) -> None:
    """Reject trees with too many nodes or too deep nesting, without recursion.

    The left operand of ``a + b - c`` or ``a * b / c`` continues a flat chain and does not count as
    deeper, so a long sum of terms is fine; parentheses, calls, powers and signs do count.
    """
    count = 0
    stack: list[tuple[ast.AST, int]] = [(tree.body, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise _Reject(_("the formula has too many parts (more than {most} numbers, names and operations)").format(
                most=MAX_NODES), None)
        if depth > MAX_DEPTH:
            raise _Reject(_("the formula is nested too deeply (more than {most} levels of parentheses, functions "
                            "and powers)").format(most=MAX_DEPTH), getattr(node, "col_offset", 0))
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, ast.expr):  # operators, contexts, keywords' wrappers
                if isinstance(child, (ast.keyword, ast.comprehension, ast.arguments)):
                    stack.append((child, depth + 1))
                continue
            same_chain = (isinstance(node, ast.BinOp) and child is node.left
                          and isinstance(child, ast.BinOp)
                          and _CHAIN.get(type(node.op), -1) == _CHAIN.get(type(child.op), -2))
            stack.append((child, depth if same_chain else depth + 1))


def _first_dot(node: ast.Attribute) -> int:
    """Column of the first `.` of ``a.b.c`` (of ``().__class__.__base__``: the one after ``()``)."""
    while isinstance(node.value, ast.Attribute):
        node = node.value
    return node.value.end_col_offset


class _Size(NamedTuple):
    """Upper bounds, in bits, on the exact numbers SymPy will build for a part of the formula.

    SymPy keeps integers and fractions exact and multiplies them out: ``(1000001/1000000)**100``
    has 1,200-digit terms, and three more powers of 100 make million-digit ones (and one C-level
    gcd that holds the GIL for minutes).  ``coefficient`` bounds the numerators and denominators
    of the numbers in the part (a sum adds the bits of its terms plus one, a product adds them, a
    power ``a**k`` multiplies a's by ``|k|``, which also covers ``(2*x)**100 = 2**100 * x**100``);
    ``exponent`` bounds the exponents of nested powers (``(x**100)**100 = x**10000``) and of products
    of powers (``y**4 * y**4 = y**8``); ``x`` itself is ``x**1``, one bit.  Floats are
    not exact and count 0.  Bounds, not estimates: SymPy's numbers are never larger.
    """

    coefficient: int
    exponent: int


class _Checker:
    """Walks a parsed tree against the whitelist and returns the program, a nested tuple:

    ``("int", 3)``, ``("float", 0.5)``, ``("name", "x")``, ``("neg", a)``,
    ``(op, a, b)`` with op in ``+ - * / **``, ``("call", canonical_name, (args...))``.

    Alongside, every constant part is estimated in float64 so that overflowing powers, division by
    zero and non-real constants (``sqrt(-1)``) are refused before SymPy would evaluate them.
    """

    def __init__(self, src: _Text):
        self.src = src

    def reject(self, message: str, node: ast.AST, col: int | None = None, snippet: bool = True):
        part = self.src.segment(node) if snippet else ""
        if part:
            message = _("{message}: `{part}`").format(message=message, part=part)
        raise _Reject(message, getattr(node, "col_offset", None) if col is None else col)

    def program(self, tree: ast.AST) -> tuple:
        if not isinstance(tree, ast.Expression):
            raise _Reject(_("this is not a formula"), 0)
        _measure(tree)
        prog, _value, _size = self.visit(tree.body)
        return prog

    def visit(self, node: ast.AST) -> tuple[tuple, float | None, _Size]:
        kind = type(node).__name__
        method = getattr(self, "visit_" + kind, None)
        if method is None:
            if kind == "Attribute":
                self.reject(_(_FORBIDDEN_NODES[kind]), node, col=_first_dot(node))
            if kind in _FORBIDDEN_NODES:
                self.reject(_(_FORBIDDEN_NODES[kind]), node)
            self.reject(_("this is not a formula: `{kind}` is not allowed").format(kind=kind), node)
        return method(node)

    # -- leaves -----------------------------------------------------------------------------------
    def visit_Constant(self, node: ast.Constant):
        v = node.value
        if isinstance(v, bool) or v is None or v is Ellipsis:
            self.reject(_("`{value!r}` is not a number").format(value=v), node, snippet=False)
        if isinstance(v, complex):
            self.reject(_("complex numbers (`j`) are not allowed: the surface is real"), node)
        if isinstance(v, (str, bytes)):
            self.reject(_("text strings are not allowed"), node)
        if isinstance(v, int):
            if abs(v) > MAX_INTEGER:
                self.reject(_("this integer is too large (at most 10^{digits}; write it as a float such as "
                              "{value:.3g})").format(digits=round(math.log10(MAX_INTEGER)), value=float(v)), node)
            return ("int", v), float(v), _Size(max(1, abs(v).bit_length()), 0)
        if isinstance(v, float):
            if not math.isfinite(v):
                self.reject(_("this number is too large to be a float64"), node)
            return ("float", v), self.constant(v, node), _Size(0, 0)
        self.reject(_("this is not a number"), node)

    def visit_Name(self, node: ast.Name):
        name = node.id
        if name in VARIABLES:
            return ("name", name), None, _Size(0, 1)  # x = x**1: an exponent of one bit
        if name == "pi":
            return ("name", "pi"), math.pi, _Size(0, 0)
        if name == "e":
            return ("name", "e"), math.e, _Size(0, 0)
        if name in FUNCTIONS:
            self.reject(_("`{name}` is a function: write {name}(...) with its argument in parentheses").format(
                name=name), node, snippet=False)
        hint = ""
        if name.lower() in VARIABLES + CONSTANTS or name.lower() in FUNCTIONS:
            hint = _(" (names are lower case: write {name})").format(name=name.lower())
        elif len(name) > 1 and set(name) <= set("xy"):
            hint = _(" (a product needs `*`: write {product})").format(product="*".join(name))
        elif name.startswith("_"):
            hint = _(" (names starting with `_` are never allowed)")
        self.reject(_("unknown name '{name}'{hint}: use {names}").format(name=name, hint=hint, names=_allowed_names()),
                    node, snippet=False)

    # -- operations -------------------------------------------------------------------------------
    def visit_UnaryOp(self, node: ast.UnaryOp):
        if isinstance(node.op, ast.USub):
            prog, val, size = self.visit(node.operand)
            return ("neg", prog), (None if val is None else self.constant(-val, node)), size
        if isinstance(node.op, ast.UAdd):
            return self.visit(node.operand)
        word = "`not`" if isinstance(node.op, ast.Not) else "`~`"
        self.reject(_("{op} is not allowed: use + - * / ** (or ^)").format(op=word), node)

    def visit_BinOp(self, node: ast.BinOp):
        op = _BINOPS.get(type(node.op))
        if op is None:
            sym = _OTHER_BINOPS.get(type(node.op).__name__, type(node.op).__name__)
            self.reject(_("the operator `{op}` is not allowed: use + - * / ** (or ^)").format(op=sym), node)
        left, a, sa = self.visit(node.left)
        right, b, sb = self.visit(node.right)
        value = None
        if op == "**" and b is not None:
            if abs(b) > MAX_EXPONENT:
                self.reject(_("this exponent is too large ({value:.3g}); constant exponents must lie between "
                              "-{most} and {most}").format(value=b, most=MAX_EXPONENT), node.right)
            # SymPy computes powers of exact numbers exactly: bound the digits, large or small.
            digits = abs(b * math.log10(abs(a))) if a else 0.0
            if digits > math.log10(MAX_CONSTANT):
                self.reject(_("this power is too large or too small a number (about 10^±{digits:.0f})").format(
                    digits=digits), node)
        if op == "/" and b == 0:
            self.reject(_("division by zero"), node)
        if a is not None and b is not None:
            with np.errstate(all="ignore"):
                value = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide,
                         "**": np.power}[op](np.float64(a), np.float64(b))
            underflow = value == 0 and a != 0 and (op in ("/", "**") or (op == "*" and b != 0))
            value = self.constant(float(value), node, underflow)
        return (op, left, right), value, self.size(op, sa, sb, a, b, node)

    def visit_Call(self, node: ast.Call):
        func = node.func
        if not isinstance(func, ast.Name):
            if isinstance(func, ast.Attribute):
                self.reject(_("attribute access is not allowed (`.`): call the functions by their bare name, "
                              "e.g. sin(x), not np.sin(x)"), node, col=_first_dot(func))
            self.reject(_("function calls must be one of {functions}").format(functions=_FUNCTION_LIST), node)
        name = func.id
        if name in VARIABLES or name in CONSTANTS:
            self.reject(_("`{name}` is not a function (a product needs `*`: write {name}*(...))").format(name=name),
                        node, snippet=False)
        if name not in FUNCTIONS:
            self.reject(_("unknown function '{name}': function calls must be one of {functions}").format(
                name=name, functions=_FUNCTION_LIST), node, snippet=False)
        if node.keywords:
            self.reject(_("keyword arguments are not allowed"), node.keywords[0])
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                self.reject(_(_FORBIDDEN_NODES["Starred"]), arg)
        canonical, nargs = FUNCTIONS[name]
        if len(node.args) != nargs:
            self.reject(ngettext("{name} takes {n} argument, got {got}", "{name} takes {n} arguments, got {got}",
                                 nargs).format(name=name, n=nargs, got=len(node.args)), node)
        visited = [self.visit(arg) for arg in node.args]
        progs = tuple(p for p, _, _ in visited)
        vals = [v for _, v, _ in visited]
        size = _Size(sum(z.coefficient for _, _, z in visited), max(z.exponent for _, _, z in visited))
        value = None
        if all(v is not None for v in vals):
            with np.errstate(all="ignore"):
                value = float(_NUMPY_FUNCTIONS[canonical](*map(np.float64, vals)))
            value = self.constant(value, node, underflow=canonical == "exp" and value == 0)
        return ("call", canonical, progs), value, size

    def size(self, op: str, sa: _Size, sb: _Size, a: float | None, b: float | None, node: ast.BinOp) -> _Size:
        """Bound the exact numbers SymPy will hold for ``a op b`` (see :class:`_Size`)."""
        if op in ("+", "-"):
            size = _Size(sa.coefficient + sb.coefficient + 1, max(sa.exponent, sb.exponent))
        elif op in ("*", "/"):
            # x**a * x**b = x**(a+b): a sum of two exponents has at most one bit more than the larger
            carry = 1 if sa.exponent and sb.exponent else 0
            size = _Size(sa.coefficient + sb.coefficient, max(sa.exponent, sb.exponent) + carry)
        elif b is not None:  # a**b, b a constant: a's numbers are raised to the power |b|, and
            # b joins the exponent (a constant a: 2**(1/3) keeps b's numbers too)
            size = _Size(sa.coefficient * max(1, math.ceil(abs(b))) + (sb.coefficient if a is not None else 0),
                         sa.exponent + sb.coefficient)
        else:
            size = _Size(sa.coefficient + sb.coefficient, sa.exponent + sb.exponent)
        if size.coefficient > MAX_EXACT_BITS:
            self.reject(_("this part makes SymPy compute exact numbers of more than {digits} digits (it keeps "
                          "fractions and integers exact, and powers multiply them): write decimals, e.g. 1.000001 "
                          "instead of 1000001/1000000").format(digits=MAX_EXACT_DIGITS), node)
        if size.exponent > MAX_POWER_BITS:
            self.reject(_("this power is too large: powers of powers multiply their exponents (and products "
                          "of powers add them), and here they reach more than 10^{digits}").format(
                              digits=MAX_POWER_DIGITS), node)
        return size

    def constant(self, value: float, node: ast.AST, underflow: bool = False) -> float:
        """Refuse a constant part that is not a finite real float64 of sensible size.

        ``underflow``: the float64 estimate is 0 although the exact value is not.
        """
        if math.isnan(value):
            self.reject(_("this part has no real value (e.g. the square root or logarithm of a negative number)"),
                        node)
        if not math.isfinite(value) or abs(value) > MAX_CONSTANT:
            self.reject(_("this part is infinite or too large (|value| > {most:g})").format(most=MAX_CONSTANT), node)
        if underflow or 0 < abs(value) < MIN_CONSTANT:
            self.reject(_("this part is too small a number (0 < |value| < {least:g}); write 0 if you mean 0").format(
                least=MIN_CONSTANT), node)
        return value


# ---------------------------------------------------------------------------------------------
# 3. Program -> SymPy -> NumPy (cached)
# ---------------------------------------------------------------------------------------------
class _Refusal(NamedTuple):
    """Why a program was refused: a msgid of the shared catalog and its ``str.format`` fields."""

    msgid: str
    fields: tuple = ()

    def text(self) -> str:
        return _(self.msgid).format(**dict(self.fields))


class _Compiled(NamedTuple):
    f: Callable
    df: Callable
    d2f: Callable
    latex: str
    grad_latex: tuple[str, str]
    hessian_latex: tuple[tuple[str, str], tuple[str, str]]
    constant_psd_hessian: bool   # quadratic with PSD Hessian and no kinks: provably convex
    not_real: bool               # SymPy found an imaginary part (sqrt(-x**2) = i|x|)


def _real(v, shape) -> np.ndarray:
    """Broadcast to ``shape`` as float; complex values are NaN unless their imaginary part is 0."""
    v = np.asarray(v)
    if np.iscomplexobj(v):
        v = np.where(v.imag == 0, v.real, np.nan)
    return np.asarray(v, dtype=float) + np.zeros(shape)


def _wrap_value(raw):
    def f(x, y):
        with np.errstate(all="ignore"):
            return _real(raw(x, y), np.broadcast_shapes(np.shape(x), np.shape(y)))
    return f


def _wrap_many(raw):
    def fs(x, y):
        shape = np.broadcast_shapes(np.shape(x), np.shape(y))
        with np.errstate(all="ignore"):
            return tuple(_real(v, shape) for v in raw(x, y))
    return fs


@functools.lru_cache(maxsize=CACHE_SIZE)
def _compile(prog: tuple) -> _Compiled | _Refusal:
    """f, ∇f, ∇²f and their LaTeX for a checked program; a :class:`_Refusal` is the reason it was refused.

    SymPy runs in the formula worker process (:mod:`optlab.surfaces.formula_worker`) under a hard time
    limit; what comes back is checked and compiled here.  Refusals are returned rather than raised
    so that they are cached too (as msgids: the cache serves every language; :func:`from_formula`
    translates them), except "the server is busy" (raised: not the formula's fault).
    """
    from . import formula_code
    from . import formula_worker as fw

    try:
        reply = fw.POOL.run({"program": prog})
    except fw.WorkerBusy as exc:
        raise FormulaError(_(str(exc))) from None
    if not reply.get("ok"):
        fields = reply.get("fields") if isinstance(reply.get("fields"), dict) else {}
        return _Refusal(str(reply.get("reason") or N_("SymPy could not differentiate this formula ({error})")),
                        tuple(sorted({"error": "", **fields}.items())))
    try:
        f_raw, df_raw, d2f_raw = (formula_code.load_function(reply["code"][k]) for k in ("f", "df", "d2f"))
        grad_latex, hessian_latex = reply["grad_latex"], reply["hessian_latex"]
        return _Compiled(
            f=_wrap_value(f_raw), df=_wrap_many(df_raw), d2f=_wrap_many(d2f_raw),
            latex=str(reply["latex"]),
            grad_latex=(str(grad_latex[0]), str(grad_latex[1])),
            hessian_latex=((str(hessian_latex[0][0]), str(hessian_latex[0][1])),
                           (str(hessian_latex[1][0]), str(hessian_latex[1][1]))),
            constant_psd_hessian=reply["constant_psd_hessian"] is True, not_real=reply["not_real"] is True,
        )
    except (formula_code.CodeError, KeyError, IndexError, TypeError) as exc:
        return _Refusal(N_("this formula could not be compiled to NumPy ({error})"),
                        (("error", type(exc).__name__),))


# ---------------------------------------------------------------------------------------------
# Public entry point
# ---------------------------------------------------------------------------------------------
def _check(text: str) -> tuple[_Text, tuple]:
    src = _normalize(text)
    try:
        return src, _Checker(src).program(_parse(src))
    except _Reject as r:
        raise FormulaError(r.message, position=src.position(r.start), text=text) from None


def check_formula(text: str) -> tuple:
    """Parse and check ``text`` without SymPy: return its program or raise :class:`FormulaError`."""
    return _check(text)[1]


def from_formula(text: str, window=None, name: str = "custom") -> Surface:
    r"""The surface :math:`f(x, y)` typed as ``text``, with SymPy's exact gradient and Hessian.

    Allowed: numbers (``2``, ``0.5``, ``1e-3``), ``x``, ``y``, ``pi``, ``e``, ``+ - * / **``
    (``^`` is read as ``**``), unary ``-``/``+``, parentheses and the functions in
    :data:`FUNCTIONS`. Anything else raises :class:`~optlab.errors.FormulaError` naming the part.

    ``window`` is ``((xmin, xmax), (ymin, ymax))``, default ``((-3, 3), (-3, 3))``.
    ``params`` holds ``formula`` (the text), ``grad_latex`` ``[f_x, f_y]``, ``hessian_latex``
    ``[[f_xx, f_xy], [f_xy, f_yy]]`` and ``notes`` (how the text was read, e.g. ``^`` as ``**``).

    ``minima`` / ``min_value`` mark the lowest point seen in the window: grid local minima refined
    by damped Newton steps, kept only when the refinement ends inside the window on a strict local
    minimum at least as low as every grid value (all of them when several tie, as in the six-hump
    camel). It is a numeric estimate, not a proof; when it is unreliable (lowest value on the
    border, a flat valley, a flat surface) ``minima`` is empty and ``min_value`` is None.
    ``convex`` is True only when provable: a constant positive semidefinite Hessian without kinks
    (a convex quadratic).

    Evaluation never raises on bad points: ``log(-1)``, ``sqrt(-1)``, overflow give NaN or inf.
    """
    src, program = _check(text)
    win = _check_window(window)
    compiled = _compile(program)
    if isinstance(compiled, _Refusal):
        raise FormulaError(compiled.text(), position=None, text=text)
    if isinstance(compiled, str):  # a refusal already in words
        raise FormulaError(compiled, position=None, text=text)
    notes = list(src.notes)
    if compiled.not_real:
        notes.append(_("parts of this formula are not real numbers (e.g. the square root or logarithm of a "
                       "negative value): those points evaluate to NaN"))
    surface = Surface(
        name=str(name),
        title=f"f(x, y) = {src.normalized}",
        latex="f(x,y)=" + compiled.latex,
        f=compiled.f, df=compiled.df, d2f=compiled.d2f,
        window=win,
        convex=compiled.constant_psd_hessian,
        params={
            "formula": text,
            "grad_latex": list(compiled.grad_latex),
            "hessian_latex": [list(row) for row in compiled.hessian_latex],
            "notes": notes,
        },
        description=_("Your formula. Gradient and Hessian are exact (SymPy). The marked minimum is the lowest "
                      "point found on a grid over the window, refined by Newton steps: an estimate, not a proof."),
    )
    minima = _lowest_points(surface)
    if len(minima):
        surface.minima = minima
        surface.min_value = float(np.min(surface.value(minima)))
    surface.starts = _starts(surface)
    return surface


def _check_window(window) -> tuple[tuple[float, float], tuple[float, float]]:
    if window is None:
        return DEFAULT_WINDOW
    try:
        (x0, x1), (y0, y1) = window
        x0, x1, y0, y1 = (float(v) for v in (x0, x1, y0, y1))
    except (TypeError, ValueError):
        raise OptlabError(f"window must be ((xmin, xmax), (ymin, ymax)); got {window!r}") from None
    if not all(map(math.isfinite, (x0, x1, y0, y1))) or not (x0 < x1 and y0 < y1):
        raise OptlabError("window must be ((xmin, xmax), (ymin, ymax)) with finite numbers, "
                          f"xmin < xmax and ymin < ymax; got {window!r}")
    return (x0, x1), (y0, y1)


# ---------------------------------------------------------------------------------------------
# Lowest point seen in the window, and start points
# ---------------------------------------------------------------------------------------------
def _lowest_points(s: Surface, n: int = 81, candidates: int = 8, iters: int = 60) -> np.ndarray:
    """Strict local minima at the lowest value seen on an ``n × n`` grid (``(k, 2)``, maybe empty).

    Grid local minima (≤ their 8 neighbours) are refined by Levenberg–Marquardt Newton steps
    ``p ← p − (H + μI)⁻¹ g`` with μ raised until ``H + μI`` is positive definite and the value drops,
    then kept if they are strict local minima (see :func:`_strict_local_min`) inside the window, no
    higher than any grid value. A minimum at a kink (``abs``, a cone) counts: no gradient is needed.
    """
    (x0, x1), (y0, y1) = s.window
    xs, ys, Z = s.grid(n)
    finite = np.isfinite(Z)
    if not finite.any():
        return np.zeros((0, 2))
    zmin, zmax = Z[finite].min(), Z[finite].max()
    if zmax - zmin <= 1e-12 * (1 + abs(zmin)):
        return np.zeros((0, 2))  # flat: every point is lowest
    Zp = np.pad(np.where(finite, Z, np.inf), 1, constant_values=np.inf)
    neigh = np.min([Zp[1 + di:n + 1 + di, 1 + dj:n + 1 + dj]
                    for di in (-1, 0, 1) for dj in (-1, 0, 1) if di or dj], axis=0)
    iy, ix = np.nonzero(finite & (Z <= neigh))
    order = np.argsort(Z[iy, ix])[:candidates]
    p = np.stack([xs[ix[order]], ys[iy[order]]], axis=-1)
    lo, hi = np.array([x0, y0]), np.array([x1, y1])
    fp = s.value(p)
    mu = np.full(len(p), 1e-3)
    with np.errstate(all="ignore"):
        for _ in range(iters):
            g, H = s.grad(p), s.hessian(p)
            a, b, c = H[:, 0, 0], H[:, 0, 1], H[:, 1, 1]
            lam_min = 0.5 * (a + c) - np.sqrt(0.25 * (a - c) ** 2 + b * b)
            shift = mu + np.maximum(0.0, -lam_min)
            a, c = a + shift, c + shift
            det = a * c - b * b
            d = -np.stack([c * g[:, 0] - b * g[:, 1], a * g[:, 1] - b * g[:, 0]], -1) / det[:, None]
            d = np.where(np.isfinite(d), d, 0.0)
            trial = np.clip(p + d, lo, hi)
            p_old = p
            ft = s.value(trial)
            better = np.isfinite(ft) & (ft <= fp)
            p = np.where(better[:, None], trial, p)
            fp = np.where(better, ft, fp)
            mu = np.where(better, mu / 3, mu * 4)
            if not np.any(better & (np.abs(trial - p_old) > 1e-13 * (hi - lo)).any(-1)):
                break  # no point moved: converged or stuck
    span = hi - lo
    interior = np.all((p > lo + 1e-6 * span) & (p < hi - 1e-6 * span), axis=-1)
    ok = interior & np.isfinite(fp) & _strict_local_min(s, p, fp, 1e-3 * float(span.max()))
    if not ok.any():
        return np.zeros((0, 2))
    best = fp[ok].min()
    if best > zmin + 1e-9 * (1 + abs(zmin)):
        return np.zeros((0, 2))  # something on the grid is lower: not the lowest point seen
    keep = []
    for q in p[ok & (fp <= best + 1e-9 * (1 + abs(best)))]:
        if all(np.linalg.norm(q - k) > 1e-6 * span.max() for k in keep):
            keep.append(q)
    return np.array(keep)


def _strict_local_min(s: Surface, p: np.ndarray, fp: np.ndarray, r: float) -> np.ndarray:
    """``f(p + r·u) > f(p)`` (beyond rounding) for 8 directions ``u``: a numeric strict local minimum.

    A flat valley (``x**2``: every ``(0, y)`` is lowest) fails it, so no arbitrary point is marked.
    The axis directions are exact so that moving along a flat axis does not nudge the other one.
    """
    c = np.sqrt(0.5)
    u = np.array([(1, 0), (c, c), (0, 1), (-c, c), (-1, 0), (-c, -c), (0, -1), (c, -c)])
    with np.errstate(all="ignore"):
        around = s.value(p[:, None, :] + r * u)
    return np.all(around > fp[:, None] + 1e-12 * (1 + np.abs(fp[:, None])), axis=-1)


def _starts(s: Surface) -> tuple[tuple[float, float], ...]:
    """Up to three points spread over the window where the value and gradient are finite."""
    (x0, x1), (y0, y1) = s.window
    frac = np.array([(0.15, 0.85), (0.85, 0.8), (0.2, 0.15), (0.8, 0.25), (0.5, 0.9)])
    pts = np.stack([x0 + frac[:, 0] * (x1 - x0), y0 + frac[:, 1] * (y1 - y0)], -1)
    with np.errstate(all="ignore"):
        ok = np.isfinite(s.value(pts)) & np.all(np.isfinite(s.grad(pts)), axis=-1)
    return tuple((float(a), float(b)) for a, b in pts[ok][:3])


__all__ = ["from_formula", "check_formula", "FUNCTIONS", "MAX_LENGTH", "MAX_DEPTH", "MAX_NODES",
           "MAX_EXPONENT", "MAX_EXACT_DIGITS", "MAX_POWER_DIGITS"]
