"""Every section of every page, in English and in Chinese, at 1024×768 (a classroom projector, the
sidebar open) and at 1400 px: no clipped text (labels, captions, buttons, the chosen option of a
select box), no chart text outside its chart or on top of another, no legend on the plot, nothing
scrolling sideways (the page, or options inside it), no Streamlit exception and no KaTeX error.

The loss-function page's sections are left to its own test, which makes the same checks and more.
The chapters' own browser tests check what is particular to them (a chart in the first screen, a
slider that redraws its caption); this one holds the whole app to the same layout checks, so a long
Chinese label or a long option on any page is caught where it is.
Screenshots of a failing case: test-results/screenshots/every_<page>_<section>_<lang>_<width>.png
(tools/screenshot_pages.py shoots them all).
"""
from __future__ import annotations

import pytest

from optlab.ui import adaptive, arena, challenges_ahead, gradient_descent, newton, overfitting

from .test_i18n_browser import clipped_texts
from .test_loss_functions_browser import CHART_TEXT_JS

from screenshot_pages import SETTLE_JS  # noqa: E402  (tools/, on the path through test_i18n_browser)

pytestmark = pytest.mark.browser

PROJECTOR = {"width": 1024, "height": 768}
WIDE = {"width": 1400, "height": 1000}
PAGES = {
    "app.py": None,
    "pages/1_Loss_functions.py": None,  # its sections: test_loss_functions_browser.py, the same checks and more
    "pages/2_Gradient_descent.py": gradient_descent.SECTION,
    "pages/3_Newton_method.py": newton.SECTION,
    "pages/4_Adaptive_methods.py": adaptive.SECTION,
    "pages/5_Overfitting_and_gradients.py": overfitting.SECTION,
    "pages/6_Challenges_ahead.py": challenges_ahead.SECTION,
    "pages/7_Optimizer_arena.py": arena.SECTION,
}
CASES = [(p, code) for p, section in PAGES.items() if p != "pages/1_Loss_functions.py"
         for code in (section.codes if section else [None])]


# A legend placed outside the plot (above it, or under it in the figure's margin) that covers the
# plot area: what plotly.js#6492 did to a legend above the plot after the window widened (24 of
# the sections here, before optlab.ui.state's _LEGEND_JS placed such legends again).
LEGEND_ON_PLOT_JS = """() => {
  const out = [];
  document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot').forEach((plot, i) => {
    const lay = plot._fullLayout, legend = plot.querySelector('.legend');
    if (!lay || !lay.showlegend || !legend || !lay.legend) return;
    const L = lay.legend, outside = L.yref === 'container' || L.y > 1 || L.y < 0;
    if (!outside) return;
    const lb = legend.getBoundingClientRect();
    plot.querySelectorAll('.draglayer .nsewdrag').forEach(bg => {
      const r = bg.getBoundingClientRect();
      const dy = Math.min(lb.bottom, r.bottom) - Math.max(lb.top, r.top);
      const dx = Math.min(lb.right, r.right) - Math.max(lb.left, r.left);
      if (r.width > 0 && dy > 3 && dx > 3) out.push(`chart ${i}: the legend covers ${Math.round(dy)} px of the plot`);
    });
  });
  return [...new Set(out)];
}"""


# Content that scrolls sideways inside the page, out of sight (pills and segmented controls that
# Streamlit scrolls rather than wraps); code blocks, tables and formulas may scroll by design.
SIDEWAYS_JS = r"""() => {
  const out = [];
  const skip = '[data-testid="stCode"], [data-testid="stDataFrame"], [data-testid="stTable"], .katex-display, .katex, pre, .js-plotly-plot';
  document.querySelectorAll('[data-testid="stMain"] *').forEach(el => {
    if (el.closest(skip) || el.offsetParent === null) return;
    const ox = getComputedStyle(el).overflowX;
    if ((ox === 'auto' || ox === 'scroll') && el.scrollWidth > el.clientWidth + 2 && el.clientWidth > 1)
      out.push(`"${(el.innerText || '').trim().replace(/\s+/g, ' ').slice(0, 40)}" scrolls sideways [${el.scrollWidth} in ${el.clientWidth}]`);
  });
  return [...new Set(out)];
}"""


# The page's title under Streamlit's header bar (it lies over the top of the page): a short
# screen's style sheet that takes away too much of the space above the title cuts its top.
TITLE_JS = """() => {
  const bar = document.querySelector('[data-testid="stHeader"]'), title = document.querySelector('[data-testid="stMain"] h1');
  if (!bar || !title || bar.offsetParent === null || getComputedStyle(bar).display === 'none') return [];
  const b = bar.getBoundingClientRect().bottom, t = title.getBoundingClientRect().top;
  return b > 0 && t < b - 1 ? [`the title starts under the header bar (${Math.round(t)} < ${Math.round(b)})`] : [];
}"""


def test_the_cases_cover_every_page(app_page_files):
    assert sorted(PAGES) == sorted(app_page_files)


def settle(page) -> None:
    """Plotly lays out legends and resizes charts after the first draw and after a resize: wait
    until the page has been still for 0.5 s (at most 8 s)."""
    page.evaluate(SETTLE_JS, [500, 8000])


def _problems(page, streamlit_exceptions) -> list[str]:
    return (streamlit_exceptions(page) + [f"KaTeX error: {t}" for t in page.locator(".katex-error").all_inner_texts()]
            + clipped_texts(page) + page.evaluate(CHART_TEXT_JS) + page.evaluate(LEGEND_ON_PLOT_JS)
            + page.evaluate(SIDEWAYS_JS))


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("page_file,sec", CASES, ids=[f"{p.split('/')[-1][:-3]}-{s}" for p, s in CASES])
def test_every_section_is_readable_at_1024_and_1400(page, page_url, wait_for_app_idle, streamlit_exceptions,
                                                   save_screenshot, page_file, sec, lang):
    query = f"lang={lang}" + (f"&sec={sec}" if sec else "")
    name = f"every_{page_file.split('/')[-1][:-3]}_{sec or 'home'}_{lang}"
    page.set_viewport_size(PROJECTOR)
    page.goto(page_url(page_file) + "?" + query, timeout=90_000)
    wait_for_app_idle(page, timeout=90_000)
    settle(page)
    found = {"1024": _problems(page, streamlit_exceptions) + page.evaluate(TITLE_JS)}
    if found["1024"]:  # (a screenshot stretches the window to the page's height: only when needed)
        save_screenshot(page, f"{name}_1024")
    page.set_viewport_size(WIDE)
    wait_for_app_idle(page)
    settle(page)
    found["1400"] = _problems(page, streamlit_exceptions)
    if found["1400"]:
        save_screenshot(page, f"{name}_1400")
    assert found == {"1024": [], "1400": []}
