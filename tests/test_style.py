"""The colour registry (optlab.figures.style): readable on a projector, apart for colour-blind readers,
one colour per optimizer, variants numbered per figure, roles that never take an optimizer's colour."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from colors_check import delta_e
import optlab
from optlab.figures import core, style

OPTIMIZER_LINES = list(style.OPTIMIZER_COLORS.values()) + list(style.VARIANT_COLORS)
ROLE_LINES = [style.INK, style.REFERENCE, style.GUIDE, style.DIVERGED, style.POSITIVE, style.NEGATIVE,
              *style.SERIES_COLORS]

# Machado, Oliveira & Fernandes (2009), severity 1: linear-RGB matrices simulating protanopia and
# deuteranopia (together ~6 % of men; tritanopia, ~0.01 %, is left out).
MACHADO = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
}


def simulate(color: str, kind: str) -> str:
    rgb = np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)]) / 255.0
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    out = np.clip(MACHADO[kind] @ lin, 0, 1)
    srgb = np.where(out <= 0.0031308, 12.92 * out, 1.055 * out ** (1 / 2.4) - 0.055)
    return "#%02X%02X%02X" % tuple(int(round(v * 255)) for v in srgb)


def cvd_distance(a: str, b: str) -> float:
    """The smallest CIEDE2000 difference for a reader with normal vision, protanopia or deuteranopia."""
    return min([delta_e(a, b)] + [delta_e(simulate(a, k), simulate(b, k)) for k in MACHADO])


@pytest.mark.parametrize("color", OPTIMIZER_LINES + ROLE_LINES)
def test_every_line_colour_reads_on_white(color):
    # WCAG 2.1 SC 1.4.11 (graphical objects): 3:1; no pale yellow or sky blue on a projector
    assert style.contrast_ratio(color) >= 3.0, color


def test_contrast_ratio_matches_wcag():
    assert style.contrast_ratio("#000000") == pytest.approx(21.0)
    assert style.contrast_ratio("#FFFFFF") == pytest.approx(1.0)
    assert style.contrast_ratio("#767676") == pytest.approx(4.54, abs=0.01)   # the classic AA grey


def test_one_colour_per_optimizer_and_none_shared_with_a_role():
    colours = list(style.OPTIMIZER_COLORS.values())
    assert len(set(colours)) == len(colours)
    assert not set(colours) & set(style.VARIANT_COLORS)
    roles = set(ROLE_LINES) | set(style.ROLE_COLORS.values())
    assert not (set(colours) | set(style.VARIANT_COLORS)) & roles
    for name in optlab.optimizers.names():
        assert style.optimizer_color(name) == style.OPTIMIZER_COLORS[name]


# The runs the chapters draw together; each pair must stay apart for colour-blind readers too.
SHOWN_TOGETHER = [
    ("sgd", "adam"), ("sgd", "rmsprop"), ("rmsprop", "adam"), ("adagrad", "rmsprop"), ("sgd", "adagrad"),
    ("adam", "adamw"), ("adam", "nadam"), ("adam", "radam"), ("newton", "bfgs"), ("bfgs", "sgd"),
    (("sgd", 0), ("sgd", 1)), (("sgd", 0), ("sgd", 2)), (("sgd", 1), ("sgd", 2)), (("adam", 0), ("adam", 1)),
]


@pytest.mark.parametrize("a,b", SHOWN_TOGETHER, ids=lambda p: p if isinstance(p, str) else f"{p[0]}{p[1]}")
def test_runs_shown_together_differ_for_colour_blind_readers(a, b):
    ca = style.optimizer_color(*a) if isinstance(a, tuple) else style.optimizer_color(a)
    cb = style.optimizer_color(*b) if isinstance(b, tuple) else style.optimizer_color(b)
    assert cvd_distance(ca, cb) >= 12.0, (a, b, ca, cb, cvd_distance(ca, cb))


def test_newton_and_gd_differ_by_dash_where_colour_is_not_enough():
    # violet and blue are close under deuteranopia: Newton is dashed in every figure
    assert cvd_distance(style.optimizer_color("newton"), style.optimizer_color("sgd")) < 12
    assert style.optimizer_dash("newton") != style.optimizer_dash("sgd")


def test_optimizer_key_reads_torch_names_labels_and_teaching_variants():
    assert style.optimizer_key("Adam (tuned)") == "adam"
    assert style.optimizer_key("SGD, momentum 0.9") == "sgd"
    assert style.optimizer_key("adam_no_bias_correction") == "adam"
    assert style.optimizer_key("sgd_textbook_momentum") == "sgd"
    assert style.optimizer_key("validation error") == ""
    with pytest.raises(KeyError):
        style.optimizer_color("validation error")


def test_variants_are_numbered_over_the_figure():
    assert style.assign_variants(["sgd", "sgd", "adam", "adam", "sgd"]) == [0, 1, 0, 2, 3]
    assert style.assign_variants(["adam", "validation", "adam_no_bias_correction"]) == [0, 0, 1]
    colours = [style.optimizer_color(n, v) for n, v in zip(["sgd"] * 4, range(4))]
    assert len(set(colours)) == 4
    # past the variant colours the colours repeat, with a dash
    k = len(style.VARIANT_COLORS)
    assert style.optimizer_color("sgd", k + 1) == style.optimizer_color("sgd", 1)
    assert style.optimizer_dash("sgd", k + 1) != style.optimizer_dash("sgd", 1)


def test_normalize_runs_gives_repeats_variant_colours_and_tags():
    xs = np.zeros((3, 2))
    runs = core.normalize_runs([("SGD", xs, {"name": "sgd"}), ("SGD, momentum 0.9", xs, {"name": "sgd"}),
                                ("Adam", xs, {"name": "adam"}), ("data path", xs, {"name": "data"}),
                                ("Adam (tuned)", xs, {"name": "adam", "variant": 2})])
    assert [r.color for r in runs] == [style.optimizer_color("sgd"), style.VARIANT_COLORS[0],
                                      style.optimizer_color("adam"), style.INK, style.VARIANT_COLORS[1]]
    assert runs[1].meta == {"optimizer": "sgd", "variant": 1} and runs[3].meta == {"role": "path"}


def test_ramp_is_grey_and_readable():
    r = style.ramp(12)
    assert r[0] == style.INK and r[-1] == style.GUIDE
    assert all(style.contrast_ratio(c) >= 3.0 for c in r)
    assert all(c[1:3] == c[3:5] == c[5:7] for c in r)  # greys: no hue an optimizer has


def test_color_names_cover_the_optimizers_and_variants():
    for c in OPTIMIZER_LINES:
        assert style.COLOR_NAMES.get(c), c
    assert style.color_name("sgd") == "blue" and style.color_name("sgd", 1) == "indigo"


@pytest.mark.parametrize("a,b", list(itertools.combinations(style.VARIANT_COLORS, 2)))
def test_variant_colours_differ(a, b):
    assert delta_e(a, b) >= 20
