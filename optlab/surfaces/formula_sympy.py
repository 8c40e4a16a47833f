r"""The SymPy stage of a typed formula: program -> SymPy -> exact derivatives -> NumPy code and LaTeX.

Runs in the formula worker process (:mod:`optlab.surfaces.formula_worker`), never in the server's
own threads.  The input is the checked *program* of :class:`optlab.surfaces.formula._Checker` (a
nested tuple, or lists after JSON: numbers, operator names, ``x y pi e`` and whitelisted function
names), built into a SymPy expression node by node; no text is ever sympified.  The derivatives are
bounded in size as they come; the output is plain data: the code of f, ∇f and ∇²f as SymPy's NumPy
printer writes it (checked by :func:`optlab.surfaces.formula_code.check_code` here, and again by
the server before it compiles it), the LaTeX, and two flags.

SymPy is imported inside the functions: importing this module loads NumPy only.
"""
from __future__ import annotations

import inspect

import numpy as np

from ..i18n import domain
from .formula_code import check_code

_, N_, ngettext = domain("optlab")  # refusals are msgids: the parent process translates them

MAX_GRADIENT_SIZE = 500     # SymPy tree nodes in f_x and f_y together (Goldstein-Price: 328)
MAX_HESSIAN_SIZE = 2500     # SymPy tree nodes in f_xx, f_xy, f_yy together (Cross-in-tray: 1721)
MAX_HESSIAN_ENTRY = 1000    # ... and in any one of them (Cross-in-tray: 575), checked as it comes
MAX_LATEX_SIZE = 400        # SymPy tree nodes of a derivative shown as LaTeX (else LONG_LATEX)
LONG_LATEX = r"\text{(too long to show)}"


def _sympy_from_program(prog: tuple, sp, x, y):
    kind = prog[0]
    if kind == "int":
        return sp.Integer(prog[1])
    if kind == "float":
        return sp.Float(prog[1])
    if kind == "name":
        return {"x": x, "y": y, "pi": sp.pi, "e": sp.E}[prog[1]]
    if kind == "neg":
        return -_sympy_from_program(prog[1], sp, x, y)
    if kind == "call":
        args = [_sympy_from_program(p, sp, x, y) for p in prog[2]]
        name = prog[1]
        if name == "log10":
            return sp.log(args[0], 10)
        fn = {"sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "arcsin": sp.asin, "arccos": sp.acos,
              "arctan": sp.atan, "arctan2": sp.atan2, "sinh": sp.sinh, "cosh": sp.cosh,
              "tanh": sp.tanh, "exp": sp.exp, "log": sp.log, "sqrt": sp.sqrt, "abs": sp.Abs}[name]
        return fn(*args)
    a = _sympy_from_program(prog[1], sp, x, y)
    b = _sympy_from_program(prog[2], sp, x, y)
    if kind == "+":
        return a + b
    if kind == "-":
        return a - b
    if kind == "*":
        return a * b
    if kind == "/":
        return a / b
    if kind == "**":
        return a**b
    raise AssertionError(f"unknown program node {kind!r}")  # pragma: no cover


def _tree_size(expr, limit: int) -> int:
    """Number of nodes of a SymPy expression tree, counting stops just past ``limit``."""
    import sympy as sp

    n = 0
    for _ in sp.preorder_traversal(expr):
        n += 1
        if n > limit:
            break
    return n


def _sympy_stage(prog) -> dict | tuple[str, dict]:
    """Build, differentiate and print a checked program (runs in the formula worker process).

    Returns plain data (JSON): the NumPy code of f, ∇f and ∇²f as written by ``lambdify``, the
    LaTeX, and two flags; or ``(msgid, fields)``, the reason the formula was refused.  ``prog`` may come back
    from JSON with lists where :class:`_Checker` made tuples.
    """
    import sympy as sp


    x, y = sp.symbols("x y", real=True)
    expr = _sympy_from_program(prog, sp, x, y)
    if expr.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
        return (N_("SymPy finds this formula infinite or undefined everywhere (a division by zero such "
                   "as 1/(x-x), or tan(pi/2))"), {})

    def no_kinks(e):
        # d/dx sign(u) = 2 δ(u): zero wherever the derivative exists, which is all NumPy evaluates.
        return e.replace(sp.DiracDelta, lambda *args: sp.S.Zero)

    grad = []
    for v in (x, y):
        grad.append(no_kinks(sp.diff(expr, v)))
        if sum(_tree_size(g, MAX_GRADIENT_SIZE) for g in grad) > MAX_GRADIENT_SIZE:
            return (N_("the derivatives of this formula are too large to compute quickly (more than "
                       "{limit} parts): shorten it or use fewer nested functions and products"),
                    {"limit": MAX_GRADIENT_SIZE})
    hess = []
    for g, v in ((0, x), (0, y), (1, y)):
        hess.append(no_kinks(sp.diff(grad[g], v)))
        if (_tree_size(hess[-1], MAX_HESSIAN_ENTRY) > MAX_HESSIAN_ENTRY
                or sum(_tree_size(h, MAX_HESSIAN_SIZE) for h in hess) > MAX_HESSIAN_SIZE):
            return (N_("the second derivatives (Hessian) of this formula are too large to compute "
                       "quickly (more than {limit} parts): shorten it or use fewer nested "
                       "functions and products"), {"limit": MAX_HESSIAN_SIZE})

    args = (x, y)
    # The docstring lambdify writes (str of the whole expression) costs more than the code itself.
    quiet = {}
    if "docstring_limit" in inspect.signature(sp.lambdify).parameters:  # not in older SymPy
        quiet["docstring_limit"] = 0
    code = {}
    try:
        f_raw = sp.lambdify(args, expr, modules="numpy", **quiet)
        df_raw = sp.lambdify(args, grad, modules="numpy", cse=True, **quiet)
        d2f_raw = sp.lambdify(args, hess, modules="numpy", cse=True, **quiet)
        probe = np.array([0.3, -1.2, 2.1]), np.array([0.7, 0.4, -1.6])
        with np.errstate(all="ignore"):
            f_raw(*probe), df_raw(*probe), d2f_raw(*probe)
        for key, fn in (("f", f_raw), ("df", df_raw), ("d2f", d2f_raw)):
            code[key] = inspect.getsource(fn)
            check_code(code[key])  # the parent checks again: this gives the reason here
    except OverflowError:
        return (N_("this formula holds numbers too large for floating point (beyond 10^308), "
                   "for instance after differentiating: use smaller constants and exponents"), {})
    except Exception as exc:  # a SymPy function without a NumPy printer (CodeError …): say so
        return (N_("this formula could not be compiled to NumPy ({error})"),
                {"error": f"{type(exc).__name__}: {exc}"})

    not_real = any(e.has(sp.I) for e in [expr, *grad, *hess])
    psd = False
    if all(h.is_number for h in hess) and not expr.has(sp.Abs, sp.sign) and not not_real:
        hxx, hxy, hyy = (float(h) for h in hess)
        psd = hxx >= 0 and hyy >= 0 and hxx * hyy - hxy * hxy >= 0

    def lx(e):
        # Printing is the slowest step for long derivatives, and nobody reads 5,000 characters.
        if _tree_size(e, MAX_LATEX_SIZE) > MAX_LATEX_SIZE:
            return LONG_LATEX
        return sp.latex(e)

    hxy = lx(hess[1])
    return dict(
        code=code,
        latex=sp.latex(expr),
        grad_latex=[lx(grad[0]), lx(grad[1])],
        hessian_latex=[[lx(hess[0]), hxy], [hxy, lx(hess[2])]],
        constant_psd_hessian=bool(psd), not_real=bool(not_real),
    )
