"""One look for every figure: the colour registry (who is drawn in which colour) and the fonts.

The rule
--------
1. **An optimizer has one colour on every page** (:data:`OPTIMIZER_COLORS`, keyed by torch's
   names). A teaching variant (``adam_no_bias_correction``) and a label such as ``"Adam (tuned)"``
   resolve to their torch optimizer (:func:`optimizer_key`).
2. **Runs of one optimizer shown together get distinct colours.** In one figure the first run of
   an optimizer keeps its colour (variant 0); every further run of an optimizer already drawn is a
   *variant* and takes the next colour of :data:`VARIANT_COLORS` (variant 1, 2, …), counted over
   the whole figure so that no two runs share a colour. Pages that compare fixed settings name the
   variant themselves (plain GD = 0, heavy-ball momentum = 1, Nesterov = 2; batch = 0,
   mini-batch = 1, stochastic = 2; constant lr = 0, scheduled = 1), so the same setting keeps its
   colour across the page. **The legend says how a variant relates to its optimizer** ("SGD,
   momentum 0.9"). Variant colours belong to no optimizer. Past the last variant colour the
   colours repeat with a dash (:func:`optimizer_dash`).
3. **Roles never borrow an optimizer's colour.** Everything that is not an optimizer's run —
   data, the true function, closed-form answers, references, losses, training vs validation,
   model fits, layers, fixes, tasks — takes a role colour (:data:`ROLE_COLORS`,
   :data:`SERIES_COLORS`, :func:`ramp`), none of which is an optimizer or variant colour. On a page
   no role is drawn in a colour close to (CIEDE2000 < 10) that of an optimizer the page shows;
   ``tests/test_colors_pages.py`` renders every page and checks it.
4. **Every trace says what it shows**: ``meta=optimizer_meta(name, variant)`` on a trace that draws
   an optimizer's run (paths, curves, markers, arrows, bars), ``meta=role_meta(role)`` on any other
   trace; shapes and annotations carry the same tag in their ``name`` (:func:`tag`).
   Colour = who (optimizer or role), dash = what (−g dotted, momentum dashed, step solid).

Readable on a projector: every line colour has a contrast of at least 3:1 against the white
background (WCAG 2.1 SC 1.4.11 for graphics; ``contrast_ratio``), so there are no pale yellow or
sky-blue lines. Colour-blind safe: the colours build on Okabe & Ito (2008) and Paul Tol's
palettes; the optimizers that the chapters show side by side (SGD, RMSProp, Adam; Adam and each
of its family; a plain run and its variants) stay apart under protanopia and deuteranopia
(Machado et al. 2009; tested in ``tests/test_style.py``). In the arena, where any eight runs may
race, the legend names every run and the second-order methods (Newton dashed, BFGS dotted) and
repeated variants carry a dash as well.
"""
from __future__ import annotations

from typing import Sequence

# ----------------------------------------------------------------------------------------------
# Optimizers
# ----------------------------------------------------------------------------------------------
OPTIMIZER_COLORS = {
    "sgd": "#0072B2",       # blue (Okabe–Ito)
    "adagrad": "#009E73",   # bluish green (Okabe–Ito)
    "rmsprop": "#882255",   # wine (Tol): dark, so it stays apart from SGD's blue and Adam's vermilion
    "adadelta": "#AA4499",  # purple (Tol)
    "adam": "#D55E00",      # vermilion (Okabe–Ito)
    "adamw": "#CC79A7",     # reddish purple, pink (Okabe–Ito)
    "nadam": "#2D8FCB",     # sky blue, darkened to 3.6:1 (Okabe–Ito's #56B4E9 is 2.3:1)
    "radam": "#0F7E8A",     # teal
    "newton": "#6A3D9A",    # violet, dashed
    "bfgs": "#8B4513",      # brown, dotted
}
OPTIMIZER_DASH = {"newton": "dash", "bfgs": "dot"}

# Further runs of an optimizer in one figure (variant 1, 2, 3): dark indigo, dark orange, olive.
# Indigo and orange both stand apart from SGD's blue and from each other for every reader; Adam's
# single variants take indigo first.
VARIANT_COLORS = ("#332288", "#B87300", "#999933")
VARIANT_DASHES = ("solid", "dash", "dot", "dashdot", "longdash")

# English names of the colours, for captions that name them ("SGD (blue)").
COLOR_NAMES = {
    "#0072B2": "blue", "#009E73": "green", "#882255": "wine red", "#AA4499": "purple", "#D55E00": "vermilion",
    "#CC79A7": "pink", "#2D8FCB": "sky blue", "#0F7E8A": "teal", "#6A3D9A": "violet", "#8B4513": "brown",
    "#332288": "indigo", "#B87300": "orange", "#999933": "olive",
    "#000000": "black", "#6E6E6E": "grey", "#949494": "light grey", "#FFD700": "gold", "#8B1A1A": "dark red",
    "#117733": "green", "#CC3311": "red", "#7570B3": "slate violet", "#EE3377": "magenta", "#A6761D": "mustard",
}

# ----------------------------------------------------------------------------------------------
# Roles: everything that is not an optimizer's run
# ----------------------------------------------------------------------------------------------
INK = "#000000"          # data points, the true function, closed-form answers, the plotted f itself
REFERENCE = "#6E6E6E"    # a secondary reference: least squares, the textbook's β₁, noise level, limits
GUIDE = "#949494"        # faint guides (3.0:1): tangents, the current-step line, zero lines
HIGHLIGHT = "#FFD700"    # gold markers, always with an ink outline: the minimum, the chosen value
DIVERGED = "#8B1A1A"     # dark red: diverged cells and stops, the stability limit
POSITIVE = "#117733"     # green: curves up, accepted, training
NEGATIVE = "#CC3311"     # red: curves down, rejected, validation
NOT_REACHED = "#E5E5E5"  # a fill only (cells that did not reach the target)

ROLE_COLORS = {
    "ink": INK, "data": INK, "truth": INK, "closed form": INK, "curve": INK,
    "reference": REFERENCE, "guide": GUIDE, "highlight": HIGHLIGHT, "minimum": HIGHLIGHT,
    "diverged": DIVERGED, "not reached": NOT_REACHED,
    "positive": POSITIVE, "negative": NEGATIVE,
    "training": POSITIVE, "validation": NEGATIVE,
}
# Categorical roles (losses, model fits, fixes, tasks …), in order; none is an optimizer colour.
SERIES_COLORS = ("#CC3311", "#117733", "#7570B3", "#EE3377", "#A6761D", "#000000", "#6E6E6E")

MARKERS = {"start": "circle", "end": "x", "minimum": "star", "saddle": "diamond"}
MINIMUM_COLOR = HIGHLIGHT
SADDLE_COLOR = "#FFFFFF"
SURFACE_COLORSCALE = "Viridis"

# Latin text in Streamlit's own face; Chinese in a Simplified Chinese face (Debian's fonts-noto-cjk
# or fonts-wqy-microhei, macOS's PingFang SC, Windows's Microsoft YaHei) rather than whatever CJK
# fallback the browser picks, which may be a Japanese one (other glyph shapes for the same code points).
FONT_FAMILY = ('"Source Sans Pro", "Source Sans", "Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Micro Hei", '
               '"PingFang SC", "Microsoft YaHei", sans-serif')
FONT = dict(family=FONT_FAMILY, size=14)


# ----------------------------------------------------------------------------------------------
# Look-ups
# ----------------------------------------------------------------------------------------------
def optimizer_key(name: str) -> str:
    """The torch optimizer a name stands for: ``"adam"``, ``"Adam (tuned)"`` -> ``"adam"``;
    a teaching variant (``"adam_no_bias_correction"``) -> the optimizer it modifies; unknown -> ``""``."""
    n = str(name).strip().lower()
    if n in OPTIMIZER_COLORS:
        return n
    try:  # the teaching variants (optlab.optimizers.variants) name their torch optimizer
        from ..optimizers import variants

        if n in variants.variant_names():
            return variants.base_of(n)
    except Exception:  # pragma: no cover - a variant module that fails must not break a figure
        pass
    base = n.split(" ")[0].split(",")[0].split("(")[0].strip()
    return base if base in OPTIMIZER_COLORS else ""


def is_optimizer(name: str) -> bool:
    return bool(optimizer_key(name))


def variant_color(variant: int) -> str:
    """Colour of variant ``variant`` ≥ 1 (the colours repeat past the last one, see :func:`optimizer_dash`)."""
    return VARIANT_COLORS[(int(variant) - 1) % len(VARIANT_COLORS)]


def optimizer_color(name: str, variant: int = 0) -> str:
    """The colour of optimizer ``name`` (torch name, a label such as ``"Adam (tuned)"`` or a teaching
    variant); ``variant`` ≥ 1: the colour of the variant-th further run of an optimizer in a figure.
    Raises ``KeyError`` for a name that is no optimizer: use :func:`role_color` for those."""
    if int(variant) > 0:
        return variant_color(variant)
    key = optimizer_key(name)
    if not key:
        raise KeyError(f"{name!r} is not an optimizer; give it a role colour (style.role_color)")
    return OPTIMIZER_COLORS[key]


def optimizer_dash(name: str, variant: int = 0) -> str:
    """Newton dashed, BFGS dotted, others solid; variants past the variant colours get a dash so that
    two runs with the same colour still differ."""
    v = int(variant)
    if v > len(VARIANT_COLORS):
        return VARIANT_DASHES[1 + ((v - 1) // len(VARIANT_COLORS) - 1) % (len(VARIANT_DASHES) - 1)]
    return OPTIMIZER_DASH.get(optimizer_key(name), "solid") if v == 0 else "solid"


def optimizer_meta(name: str, variant: int = 0) -> dict:
    """The trace tag of an optimizer's run: ``{"optimizer": torch name, "variant": k}``."""
    return {"optimizer": optimizer_key(name) or str(name), "variant": int(variant)}


def role_color(role: str) -> str:
    """The colour of a named role (``"data"``, ``"validation"``, ``"diverged"`` …)."""
    return ROLE_COLORS[role]


def role_meta(role: str) -> dict:
    """The trace tag of anything that is not an optimizer's run: ``{"role": role}``."""
    return {"role": str(role)}


def series_color(i: int) -> str:
    """The i-th colour for categorical roles (losses, fits, fixes …): never an optimizer's colour."""
    return SERIES_COLORS[int(i) % len(SERIES_COLORS)]


def ramp(n: int, dark: str = INK, light: str = GUIDE) -> list[str]:
    """``n`` greys from ``dark`` to ``light`` for an ordered family (coefficients by degree, learning
    rates from small to large): every step keeps 3:1 against white and none is a hue an optimizer has."""
    a, b = _rgb(dark), _rgb(light)
    if n <= 1:
        return [dark]
    return ["#%02X%02X%02X" % tuple(round(a[k] + (b[k] - a[k]) * i / (n - 1)) for k in range(3)) for i in range(n)]


def tag(meta: dict) -> str:
    """A layout shape's or annotation's ``name`` carrying a trace tag: ``"optimizer:newton:0"``,
    ``"role:diverged"`` (they have no ``meta``; the colour test reads this)."""
    if "optimizer" in meta:
        return f"optimizer:{meta['optimizer']}:{int(meta.get('variant', 0))}"
    return f"role:{meta['role']}"


def color_name(name: str, variant: int = 0) -> str:
    """English name of an optimizer's (or a variant's) colour, for a caption: ``"blue"``."""
    return COLOR_NAMES.get(optimizer_color(name, variant), "")


# ----------------------------------------------------------------------------------------------
# Contrast (WCAG 2.1)
# ----------------------------------------------------------------------------------------------
def _rgb(color: str) -> tuple[float, float, float]:
    c = color.strip().lstrip("#")
    if len(c) == 3:
        c = "".join(ch * 2 for ch in c)
    return tuple(int(c[i:i + 2], 16) for i in (0, 2, 4))


def relative_luminance(color: str) -> float:
    """WCAG 2.1 relative luminance of ``#rrggbb``."""
    def lin(v: float) -> float:
        v /= 255.0
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(v) for v in _rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(foreground: str, background: str = "#FFFFFF") -> float:
    """WCAG 2.1 contrast ratio (1 … 21) of two opaque colours."""
    hi, lo = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def assign_variants(names: Sequence[str]) -> list[int]:
    """The variant of each run of one figure, in drawing order (rule 2): the first run of an
    optimizer 0, every further run of an optimizer already drawn the next variant (1, 2, …, counted
    over the figure); names that are no optimizer get 0."""
    seen: set[str] = set()
    out, nxt = [], 1
    for n in names:
        key = optimizer_key(n)
        if key and key in seen:
            out.append(nxt)
            nxt += 1
        else:
            out.append(0)
            seen.add(key)
    return out
