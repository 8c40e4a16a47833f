"""optlab.format: numbers as captions and tables show them."""
from __future__ import annotations

import math

import numpy as np
import pytest

from optlab import format as fmt


@pytest.mark.parametrize("v", [None, float("nan"), float("inf"), -float("inf"), np.nan, np.float64("inf"), "abc", True])
def test_undefined_is_a_dash(v):
    assert fmt.number(v) == "—" == fmt.UNDEFINED
    assert fmt.integer(v) == "—" and fmt.percent(v) == "—" and fmt.times(v) == "—"


def test_past_a_meaningful_range_is_a_dash():
    assert fmt.number(3.327596047967557e+70, limit=1e12) == "—"
    assert fmt.number(3.327596047967557e+70) == "3.3e+70"          # without a limit: its size
    assert fmt.number(-5e12, limit=1e12) == "—" and fmt.number(5e11, limit=1e12) == "5e+11"


@pytest.mark.parametrize("v,text", [
    (0.029312, "0.0293"), (0.0657, "0.0657"), (4.518, "4.52"), (1.0, "1"), (0.5, "0.5"), (0.0, "0"),
    (-0.5, "−0.5"), (12345.6, "12,300"), (6833.668, "6,830"), (2000, "2,000"), (123456, "123,456"),
    (999.96, "1,000"), (1234.5, "1,230"), (-9.16e-16, "−9.2e-16"), (1.49e-06, "1.5e-06"), (3.3e70, "3.3e+70"),
    (9.99e-05, "0.0001"), (999999.9, "1e+06"), (1e-300, "1e-300"), (0.0001, "0.0001"), (np.float32(0.25), "0.25"),
])
def test_significant_digits_separators_and_exponents(v, text):
    assert fmt.number(v) == text


def test_digits_and_plain_minus():
    assert fmt.number(61.654, 4) == "61.65"
    assert fmt.number(-2.5, minus="-") == "-2.5"
    assert fmt.number(1234.5, 6, thousands=False) == "1234.5"


def test_signed_terms_never_print_plus_minus():
    assert fmt.equation("ŷ", [(1.0, "x"), (-9.16e-16, "")]) == "ŷ = 1·x − 9.2e-16"
    assert fmt.equation("ŷ", [(-2.5, "x"), (3, "")]) == "ŷ = −2.5·x + 3"
    assert fmt.equation("y", []) == "y = 0"
    assert "+ -" not in fmt.equation("ŷ", [(0.3, "x"), (-0.7, "")])
    assert fmt.signed(-0.5) == "− 0.5" and fmt.signed(0.5, space=False) == "+0.5"
    assert fmt.term(float("nan"), "x") == "—·x"


def test_words_and_points():
    assert fmt.plural(1, "step") == "1 step" and fmt.plural(2000, "step") == "2,000 steps"
    assert fmt.plural(3, "fold") == "3 folds" and fmt.steps(1) == "1 step"
    assert fmt.point((0.5, -1.234)) == "(0.5, −1.23)" and fmt.point((math.nan, 1)) == "—"
    assert fmt.percent(0.879) == "88 %" and fmt.percent(0.8634, 1) == "86.3 %"
    assert fmt.times(0.54) == "0.54×"


def test_tables_turn_numbers_into_text_and_keep_the_rest():
    rows = [{"optimizer": "SGD", "final loss": 0.123456, "steps": 1200, "diverged at step": None},
            {"optimizer": "Adam", "final loss": float("nan"), "steps": None, "diverged at step": 7}]
    out = fmt.table(rows, {"final loss": 4, "steps": fmt.integer, "diverged at step": fmt.integer})
    assert out == [{"optimizer": "SGD", "final loss": "0.1235", "steps": "1,200", "diverged at step": "—"},
                   {"optimizer": "Adam", "final loss": "—", "steps": "—", "diverged at step": "7"}]
