"""The colour rule of optlab.figures.style, checked on rendered pages (AppTest) — a helper for tests.

    from colors_check import collect, problems
    items = collect(at, state="Section=Momentum")     # every coloured trace/shape/annotation shown
    assert not problems(items)                        # [] or sentences naming what breaks the rule

What it checks, on everything one page shows over all the states given (its sections):

1. every trace carries a tag (``meta``): ``{"optimizer", "variant"}`` or ``{"role"}``;
2. a trace tagged with an optimizer is drawn in exactly the registry's colour for that optimizer
   and variant (``style.optimizer_color``) — so a page that hard-codes a colour fails;
3. in one figure two legend entries of optimizers' runs never share colour and dash;
4. nothing that is not an optimizer's run (a role, or an untagged shape/annotation) is drawn in a
   colour close to one the page uses for an optimizer (CIEDE2000 < ``MIN_DELTA_E``).

White, near-transparent and colour-scale (contour, heatmap, surface) elements are not judged, nor
ink and greys on an optimizer's trace (white outlines, text labels in ink).
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from optlab.figures import style

MIN_DELTA_E = 10.0        # CIEDE2000: below ~10 two line colours read as "the same colour family"
SKIP_TYPES = {"contour", "heatmap", "surface", "image"}
NAMED = {"black": "#000000", "white": "#FFFFFF", "grey": "#808080", "gray": "#808080"}


@dataclass
class Item:
    state: str
    chart: int
    kind: str                      # "trace", "shape", "annotation"
    name: str
    meta: Any                      # trace meta, or the parsed tag of a shape/annotation (None: untagged)
    colours: list[tuple[str, str]] = field(default_factory=list)   # (attribute, colour)
    dash: str = "solid"
    legend: bool = False           # a trace with its own legend entry


# ----------------------------------------------------------------------------------------------
# Colours
# ----------------------------------------------------------------------------------------------
def rgba(c: Any) -> tuple[int, int, int, float] | None:
    """(r, g, b, alpha) of a CSS colour as Plotly takes it, None if not a plain colour."""
    if not isinstance(c, str):
        return None
    s = NAMED.get(c.strip().lower(), c.strip())
    if s.startswith("#"):
        h = s[1:]
        if len(h) == 3:
            h = "".join(ch * 2 for ch in h)
        if len(h) != 6:
            return None
        return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), 1.0
    m = re.fullmatch(r"rgba?\(([^)]*)\)", s.replace(" ", ""))
    if not m:
        return None
    parts = [float(p) for p in m.group(1).split(",")]
    return int(parts[0]), int(parts[1]), int(parts[2]), (parts[3] if len(parts) > 3 else 1.0)


def judged(c: Any) -> bool:
    """Colours that carry meaning: not white, not (nearly) transparent."""
    v = rgba(c)
    return v is not None and v[3] >= 0.3 and v[:3] != (255, 255, 255)


def hexof(c: str) -> str:
    r, g, b, _ = rgba(c)
    return "#%02X%02X%02X" % (r, g, b)


def _lab(c: str) -> tuple[float, float, float]:
    r, g, b, _ = rgba(c)

    def lin(v):
        v /= 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    R, G, B = lin(r), lin(g), lin(b)
    X = (0.4124 * R + 0.3576 * G + 0.1805 * B) / 0.95047
    Y = 0.2126 * R + 0.7152 * G + 0.0722 * B
    Z = (0.0193 * R + 0.1192 * G + 0.9505 * B) / 1.08883

    def f(t):
        return t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29

    fx, fy, fz = f(X), f(Y), f(Z)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def delta_e(c1: str, c2: str) -> float:
    """CIEDE2000 colour difference (Sharma, Wu & Dalal 2005)."""
    L1, a1, b1 = _lab(c1)
    L2, a2, b2 = _lab(c2)
    C1, C2 = math.hypot(a1, b1), math.hypot(a2, b2)
    Cb = (C1 + C2) / 2
    G = 0.5 * (1 - math.sqrt(Cb ** 7 / (Cb ** 7 + 25 ** 7)))
    a1p, a2p = (1 + G) * a1, (1 + G) * a2
    C1p, C2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1p = math.degrees(math.atan2(b1, a1p)) % 360
    h2p = math.degrees(math.atan2(b2, a2p)) % 360
    dLp, dCp = L2 - L1, C2p - C1p
    dh = 0.0 if C1p * C2p == 0 else h2p - h1p
    if dh > 180:
        dh -= 360
    elif dh < -180:
        dh += 360
    dHp = 2 * math.sqrt(C1p * C2p) * math.sin(math.radians(dh / 2))
    Lbp, Cbp = (L1 + L2) / 2, (C1p + C2p) / 2
    if C1p * C2p == 0:
        hbp = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        hbp = (h1p + h2p) / 2
    else:
        hbp = (h1p + h2p + 360) / 2 if h1p + h2p < 360 else (h1p + h2p - 360) / 2
    T = (1 - 0.17 * math.cos(math.radians(hbp - 30)) + 0.24 * math.cos(math.radians(2 * hbp))
         + 0.32 * math.cos(math.radians(3 * hbp + 6)) - 0.20 * math.cos(math.radians(4 * hbp - 63)))
    dth = 30 * math.exp(-((hbp - 275) / 25) ** 2)
    Rc = 2 * math.sqrt(Cbp ** 7 / (Cbp ** 7 + 25 ** 7))
    Sl = 1 + 0.015 * (Lbp - 50) ** 2 / math.sqrt(20 + (Lbp - 50) ** 2)
    Sc, Sh = 1 + 0.045 * Cbp, 1 + 0.015 * Cbp * T
    Rt = -math.sin(math.radians(2 * dth)) * Rc
    return math.sqrt((dLp / Sl) ** 2 + (dCp / Sc) ** 2 + (dHp / Sh) ** 2 + Rt * (dCp / Sc) * (dHp / Sh))


# ----------------------------------------------------------------------------------------------
# Collecting what a page shows
# ----------------------------------------------------------------------------------------------
TRACE_COLOURS = (("line", "color"), ("marker", "color"), ("marker", "line", "color"), ("textfont", "color"),
                 ("fillcolor",), ("error_y", "color"))


def _get(d: Any, path: tuple[str, ...]) -> Any:
    for p in path:
        d = d.get(p) if isinstance(d, dict) else None
    return d


def _parse_tag(name: Any) -> dict | None:
    if not isinstance(name, str):
        return None
    if name.startswith("optimizer:"):
        _, opt, variant = name.split(":")
        return {"optimizer": opt, "variant": int(variant)}
    if name.startswith("role:"):
        return {"role": name[5:]}
    return None


def items_of_figure(spec: dict, state: str, chart: int) -> list[Item]:
    out: list[Item] = []
    for tr in spec.get("data", []):
        if tr.get("type") in SKIP_TYPES:
            continue
        it = Item(state, chart, "trace", str(tr.get("name")), tr.get("meta"),
                  dash=str(_get(tr, ("line", "dash")) or "solid"),
                  legend=tr.get("showlegend") is not False and bool(tr.get("name")) and tr.get("x") != [None])
        for path in TRACE_COLOURS:
            v = _get(tr, path)
            vals = v if isinstance(v, list) else [v]
            for i, c in enumerate(vals):
                if judged(c):
                    it.colours.append((".".join(path) + (f"[{i}]" if isinstance(v, list) else ""), c))
        if it.colours:
            out.append(it)
    lay = spec.get("layout", {})
    for kind, paths in (("shape", (("line", "color"), ("fillcolor",))),
                        ("annotation", (("font", "color"), ("arrowcolor",)))):
        for obj in lay.get(kind + "s", []) or []:
            it = Item(state, chart, kind, str(obj.get("text") or obj.get("name") or kind), _parse_tag(obj.get("name")))
            for path in paths:
                c = _get(obj, path)
                if judged(c):
                    it.colours.append((".".join(path), c))
            if it.colours:
                out.append(it)
    return out


def collect(at, state: str = "") -> list[Item]:
    """Every coloured trace, shape and annotation of the Plotly charts an AppTest shows."""
    out: list[Item] = []
    for i, el in enumerate(at.get("plotly_chart")):
        out += items_of_figure(json.loads(el.proto.spec), state, i)
    return out


# ----------------------------------------------------------------------------------------------
# The rule
# ----------------------------------------------------------------------------------------------
def _expected(meta: dict, index: int | None) -> tuple[str, int] | None:
    """(optimizer, variant) a point of an optimizer-tagged item stands for (list tags: per point)."""
    opt, var = meta.get("optimizer"), meta.get("variant", 0)
    if isinstance(opt, list):
        if index is None or index >= len(opt):
            return None
        opt, var = opt[index], (var[index] if isinstance(var, list) else var)
    return str(opt), int(var or 0)


def _index(attr: str) -> int | None:
    m = re.search(r"\[(\d+)\]$", attr)
    return int(m.group(1)) if m else None


def problems(items: Iterable[Item], min_delta_e: float = MIN_DELTA_E) -> list[str]:
    items = list(items)
    out: list[str] = []
    optimizer_colours: dict[str, set[tuple[str, int]]] = {}   # hex -> identities using it on this page
    per_chart: dict[tuple[str, int], dict[tuple[str, str], set[str]]] = {}   # legend entries by look
    for it in items:
        where = f"[{it.state or 'default'}] chart {it.chart} {it.kind} {it.name!r}"
        meta = it.meta if isinstance(it.meta, dict) else None
        if it.kind == "trace" and meta is None:
            out.append(f"{where}: no tag — give it meta=style.optimizer_meta(…) or style.role_meta(…)")
            continue
        if meta is None or "optimizer" not in meta:
            continue
        for attr, c in it.colours:
            if len(set(hexof(c)[1:][i:i + 2] for i in (0, 2, 4))) == 1:
                continue  # ink or grey on an optimizer's trace: an outline or a text label, readable by design
            ident = _expected(meta, _index(attr))
            if ident is None:
                continue
            opt, var = ident
            try:
                want = style.optimizer_color(opt, var)
            except KeyError:
                out.append(f"{where}: tagged with {opt!r}, which is no optimizer of the registry")
                continue
            if hexof(c) != hexof(want):
                out.append(f"{where}: {attr} is {c}, but {opt} (variant {var}) is {want} on every page")
                continue
            optimizer_colours.setdefault(hexof(c), set()).add(ident)
            if it.legend and attr == "line.color":
                per_chart.setdefault((it.state, it.chart), {}).setdefault((hexof(c), it.dash), set()).add(it.name)
    # one figure: two legend entries never share a colour and a dash
    for (state, chart), looks in per_chart.items():
        for (c, dash), names in looks.items():
            if len(names) > 1:
                out.append(f"[{state or 'default'}] chart {chart}: {sorted(names)} are all drawn {c} {dash}")
    # roles keep away from the optimizer colours of the page
    for it in items:
        meta = it.meta if isinstance(it.meta, dict) else None
        if meta is not None and "optimizer" in meta:
            continue
        for attr, c in it.colours:
            for oc, who in optimizer_colours.items():
                d = delta_e(c, oc)
                if d < min_delta_e:
                    role = (meta or {}).get("role", "untagged")
                    out.append(f"[{it.state or 'default'}] chart {it.chart} {it.kind} {it.name!r} ({role}): {attr} {c} "
                               f"is {d:.1f} from {oc}, the colour of {sorted(who)} on this page")
                    break
    return out
