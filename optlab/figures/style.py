"""One look for every figure: a colour-blind-safe palette with one fixed colour per optimizer.

Colours are Okabe & Ito's (2008) palette, which stays distinguishable under the common colour-vision
deficiencies and on a classroom projector; each optimizer keeps its colour on every page.
"""
from __future__ import annotations

# One colour per optimizer, fixed everywhere.  Ten optimizers, eight Okabe–Ito colours: the two
# second-order methods also get a dash so they never rely on colour alone.
OPTIMIZER_COLORS = {
    "sgd": "#0072B2",       # blue
    "adagrad": "#009E73",   # green
    "rmsprop": "#E69F00",   # orange
    "adadelta": "#56B4E9",  # sky blue
    "adam": "#D55E00",      # vermillion
    "adamw": "#CC79A7",     # reddish purple
    "nadam": "#8C6D00",     # dark yellow (yellow itself is too pale on white)
    "radam": "#000000",     # black
    "newton": "#6A3D9A",    # violet
    "bfgs": "#7F7F7F",      # grey
}
OPTIMIZER_DASH = {"newton": "dash", "bfgs": "dot"}

# For anything that is not an optimizer (losses, data, layers …), in order.
SEQUENCE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#8C6D00"]

MARKERS = {"start": "circle", "end": "x", "minimum": "star", "saddle": "diamond"}
MINIMUM_COLOR = "#FFD700"
SADDLE_COLOR = "#FFFFFF"
SURFACE_COLORSCALE = "Viridis"

# Latin text in Streamlit's own face; Chinese in a Simplified Chinese face (Debian's fonts-noto-cjk
# or fonts-wqy-microhei, macOS's PingFang SC, Windows's Microsoft YaHei) rather than whatever CJK
# fallback the browser picks, which may be a Japanese one (other glyph shapes for the same code points).
FONT_FAMILY = ('"Source Sans Pro", "Source Sans", "Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Micro Hei", '
               '"PingFang SC", "Microsoft YaHei", sans-serif')
FONT = dict(family=FONT_FAMILY, size=14)


def optimizer_color(name: str, i: int = 0) -> str:
    """The fixed colour of optimizer ``name`` (variants such as ``"adam (tuned)"`` keep their base colour)."""
    base = name.split(" ")[0].split("(")[0].strip().lower()
    return OPTIMIZER_COLORS.get(base, SEQUENCE[i % len(SEQUENCE)])


def optimizer_dash(name: str) -> str:
    base = name.split(" ")[0].split("(")[0].strip().lower()
    return OPTIMIZER_DASH.get(base, "solid")


def series_color(i: int) -> str:
    return SEQUENCE[i % len(SEQUENCE)]
