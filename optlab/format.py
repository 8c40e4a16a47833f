r"""Numbers as a reader sees them: in captions, tables, legends and warnings (plain Python, no NumPy).

One module so that every page writes numbers the same way:

* **undefined is "—"**: ``None``, NaN, ±∞ and values past a meaningful range (``limit=``) are
  shown as :data:`UNDEFINED`, never as ``None``, ``nan``, ``inf`` or ``3.327596047967557e+70``;
* **significant digits for a caption** (3 by default); a number that needs an exponent
  (``|v| < 1e-4`` or ``≥ 1e6``) keeps 2, because its size is the message: ``9.2e-16``, ``3.3e+70``;
* **English thousands separators** in plain notation: ``12,345``, ``6,833.7``;
* **a real minus sign** (U+2212) and **signed terms**: ``ŷ = 1·x − 9.2e-16``, never ``+ -9.16e-16``.

>>> number(0.029312)
'0.0293'
>>> number(float("nan")), number(None), number(3.3e70, limit=1e12)
('—', '—', '—')
>>> equation("ŷ", [(1.0, "x"), (-9.16e-16, "")])
'ŷ = 1·x − 9.2e-16'

Values arrive as Python floats or anything ``float()`` accepts (a NumPy scalar too); nothing here
computes with arrays, so the ``ui`` layer and the pages may call it freely.
"""
from __future__ import annotations

import math
from typing import Any, Iterable, Mapping, Sequence

UNDEFINED = "—"
MINUS = "\u2212"
SCI_SMALL = 1e-4        # below this (and not 0) a number is written with an exponent
SCI_LARGE = 1e6         # from this on too
SCI_DIGITS = 2          # significant digits of a number written with an exponent

__all__ = ["UNDEFINED", "MINUS", "value", "is_defined", "number", "integer", "signed", "percent", "times",
           "term", "equation", "plural", "steps", "point", "cells", "table"]


def value(v: Any) -> float | None:
    """``float(v)``, or None for None, a non-number, NaN or ±∞."""
    if v is None or isinstance(v, bool):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def is_defined(v: Any, limit: float | None = None) -> bool:
    """True for a finite number within ``|v| ≤ limit`` (when a limit is given)."""
    f = value(v)
    return f is not None and (limit is None or abs(f) <= limit)


def _minus(text: str, minus: str) -> str:
    return text.replace("-", minus, 1) if text.startswith("-") else text


def number(v: Any, digits: int = 3, *, limit: float | None = None, minus: str = MINUS,
           undefined: str = UNDEFINED, thousands: bool = True) -> str:
    """``v`` with ``digits`` significant digits for a caption or a table cell.

    Plain notation between 1e-4 and 1e6 (trailing zeros dropped, thousands separated:
    ``12,345``), an exponent outside with 2 significant digits (``9.2e-16``); ``undefined`` for
    None, NaN, ±∞ or ``|v| > limit``.  Integers (Python ``int``) keep all their digits.
    """
    f = value(v)
    if f is None or (limit is not None and abs(f) > limit):
        return undefined
    if isinstance(v, int) and not isinstance(v, bool):
        return integer(v, minus=minus)
    if f == 0:
        return "0"
    if abs(float(f"{f:.{max(1, digits)}g}")) >= SCI_LARGE or abs(f) < SCI_SMALL:
        r = float(f"{f:.{max(1, min(digits, SCI_DIGITS))}g}")
        if SCI_SMALL <= abs(r) < SCI_LARGE:  # rounding crossed the boundary: 9.99e-5 -> 0.0001
            return number(r, digits, minus=minus, thousands=thousands)
        mant, exp = f"{r:.{max(1, min(digits, SCI_DIGITS)) - 1}e}".split("e")
        mant = mant.rstrip("0").rstrip(".") if "." in mant else mant
        return _minus(f"{mant}e{exp[0]}{int(exp[1:]):02d}", minus)
    text = f"{f:.{max(1, digits)}g}"
    if "e" in text:  # e.g. 123456 with 3 digits: write the rounded value out
        text = f"{float(text):.0f}"
    if thousands and "." not in text and abs(float(text)) >= 1000:
        text = f"{float(text):,.0f}"
    elif thousands and abs(float(text)) >= 1000:
        whole, frac = text.split(".")
        text = f"{int(whole):,}.{frac}"
    return _minus(text, minus)


def integer(v: Any, *, minus: str = MINUS, undefined: str = UNDEFINED) -> str:
    """A whole number with thousands separators: ``2,000``; undefined for None/NaN/±∞."""
    f = value(v)
    if f is None:
        return undefined
    return _minus(f"{round(f):,}", minus)


def signed(v: Any, digits: int = 3, *, space: bool = True, **kw) -> str:
    """``"+ 0.5"`` / ``"− 0.5"`` (with ``space``) or ``"+0.5"`` / ``"−0.5"``: a term that follows another."""
    f = value(v)
    if f is None:
        return number(v, digits, **kw)
    sign = kw.get("minus", MINUS) if f < 0 else "+"
    return f"{sign}{' ' if space else ''}{number(abs(f), digits, **kw)}"


def percent(v: Any, digits: int = 0, *, undefined: str = UNDEFINED) -> str:
    """A fraction as a percentage: ``0.879 -> "88 %"`` (``digits`` decimals)."""
    f = value(v)
    if f is None:
        return undefined
    return _minus(f"{100 * f:.{digits}f} %", MINUS)


def times(v: Any, digits: int = 3, **kw) -> str:
    """A factor: ``3.2×`` (undefined: "—")."""
    text = number(v, digits, **kw)
    return text if text == kw.get("undefined", UNDEFINED) else f"{text}×"


def term(coefficient: Any, symbol: str = "", digits: int = 3, *, first: bool = False, **kw) -> str:
    """One term of a sum: ``"− 9.2e-16"``, ``"+ 2·x"``, ``"1·x"`` (first term: no ``+``)."""
    f = value(coefficient)
    body = number(abs(f), digits, **kw) if f is not None else number(coefficient, digits, **kw)
    body = f"{body}·{symbol}" if symbol else body
    if f is None:
        return body
    if first:
        return f"{kw.get('minus', MINUS)}{body}" if f < 0 else body
    return f"{kw.get('minus', MINUS) if f < 0 else '+'} {body}"


def equation(lhs: str, terms: Sequence[tuple[Any, str]], digits: int = 3, **kw) -> str:
    """``lhs = c₁·s₁ ± c₂·s₂ …`` with every sign written once: ``ŷ = 1·x − 9.2e-16``."""
    parts = [term(c, s, digits, first=i == 0, **kw) for i, (c, s) in enumerate(terms)]
    return f"{lhs} = {' '.join(parts) if parts else '0'}"


def plural(n: Any, word: str, plural_word: str | None = None) -> str:
    """``"1 step"``, ``"2,000 steps"`` (English; pages with a catalog use its ngettext)."""
    f = value(n)
    if f is None:
        return f"{UNDEFINED} {plural_word or word + 's'}"
    return f"{integer(f)} {word if round(f) == 1 else (plural_word or word + 's')}"


def steps(n: Any) -> str:
    return plural(n, "step")


def point(xy: Iterable[Any], digits: int = 3, **kw) -> str:
    """``(0.5, −1.2)``; ``—`` if a coordinate is undefined."""
    parts = [number(v, digits, **kw) for v in xy]
    return UNDEFINED if UNDEFINED in parts else f"({', '.join(parts)})"


def cells(row: Mapping[str, Any], formats: Mapping[str, Any], default: Any = None) -> dict[str, Any]:
    """One table row with its numbers as text: ``formats`` maps a column to ``digits`` (int), to a
    function ``value -> str`` or to None (keep the value).  Columns not named use ``default`` (None:
    keep).  Undefined numbers become "—"."""
    out = {}
    for k, v in row.items():
        f = formats.get(k, default)
        if f is None:
            out[k] = v
        elif callable(f):
            out[k] = f(v)
        else:
            out[k] = number(v, int(f))
    return out


def table(rows: Iterable[Mapping[str, Any]], formats: Mapping[str, Any], default: Any = None) -> list[dict]:
    """:func:`cells` for every row (e.g. for ``st.dataframe``)."""
    return [cells(r, formats, default) for r in rows]
