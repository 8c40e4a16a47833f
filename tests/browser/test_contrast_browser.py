"""Text on every page reads from the back row: WCAG 2.1 AA measured in Chromium.

Computed colours (``getComputedStyle``) of captions, info/warning/success/error boxes, widget
labels, help icons and an open help tooltip, slider values and ticks, metric labels, markdown,
tabs, the sidebar's links and every text of the Plotly charts (tick labels, legends, titles,
annotations), composited over the background actually behind them (tests/browser/contrast.py).
Text needs 4.5:1, icons 3:1 (SC 1.4.3 and 1.4.11); inactive widgets and invisible elements are
exempt. Streamlit's captions are its text colour at 60 % opacity, so the theme's text colour in
.streamlit/config.toml decides them (3.9:1 with Streamlit's default, 4.9:1 with ours).
"""
from __future__ import annotations

import pytest

from .contrast import measure

pytestmark = pytest.mark.browser

TEXT_MIN, ICON_MIN = 4.5, 3.0


def _open_tooltip(page) -> bool:
    """Hover the first widget help icon that can be hovered; True when its tooltip shows."""
    icons = page.locator('[data-testid="stWidgetLabel"] [data-testid="stTooltipHoverTarget"]')
    for i in range(min(icons.count(), 4)):
        try:
            icons.nth(i).hover(timeout=3_000)
            page.locator('[data-testid="stTooltipContent"]').first.wait_for(timeout=3_000)
            page.wait_for_timeout(600)  # its fade-in
            return True
        except Exception:  # covered by another element: try the next one
            continue
    return False


def _failures(rows) -> list[str]:
    bad = []
    for r in rows:
        if r["disabled"] or r["opacity"] < 0.1 or r["color"][3] == 0:
            continue
        need = ICON_MIN if r["kind"] == "help icon" else TEXT_MIN
        if r["ratio"] < need:
            bad.append(f"{r['kind']} {r['text']!r}: {r['ratio']:.2f}:1 (shown {tuple(round(c) for c in r['shown'])} "
                       f"on {tuple(round(c) for c in r['background'])}), needs {need}:1")
    return bad


def test_text_contrast(page, open_app_page, page_file):
    open_app_page(page, page_file)
    rows = measure(page)
    if _open_tooltip(page):
        rows += [r for r in measure(page) if r["kind"] == "tooltip"]
    bad = _failures(rows)
    assert not bad, f"{page_file}:\n" + "\n".join(bad)


def test_captions_and_boxes_of_every_kind(page, page_url, wait_for_app_idle):
    """Success, warning and error boxes and sidebar captions, beside the pages' defaults."""
    rows = []
    page.goto(page_url("pages/5_Overfitting_and_gradients.py") + "?sec=cliff", timeout=60_000)  # the cliff section
    wait_for_app_idle(page)
    rows += measure(page)
    page.goto(page_url("pages/7_Optimizer_arena.py") + "?s=custom&f=x**&o=sgd", timeout=60_000)
    wait_for_app_idle(page)
    rows += measure(page)
    kinds = {r["kind"] for r in rows}
    assert {"caption", "alert"} <= kinds, kinds
    boxes = page.locator('[data-testid="stAlertContainer"]').count()
    assert boxes, "the arena with a formula typo shows no error box"
    bad = _failures(rows)
    assert not bad, "\n".join(bad)
    captions = [r["ratio"] for r in rows if r["kind"] == "caption"]
    print(f"captions: {min(captions):.2f}:1 … {max(captions):.2f}:1 over {len(captions)}")
