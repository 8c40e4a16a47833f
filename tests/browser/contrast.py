"""Measure text contrast in the browser: computed colours, the background behind them, WCAG ratios.

    from tests.browser.contrast import measure, ratio
    rows = measure(page)      # [{"kind", "text", "color", "background", "opacity", "size", "ratio"}, …]

``measure`` runs one script in the page: for every element of the kinds below that shows text it
reads ``getComputedStyle`` (``color``, or ``fill`` for SVG text), multiplies the opacities of the
element and its ancestors, and finds the background by walking up to the first opaque
``background-color`` (translucent ones are composited on the way, as the browser paints them).
The ratio is WCAG 2.1's, of the text colour composited over that background.
"""
from __future__ import annotations

KINDS = {
    "caption": '[data-testid="stCaptionContainer"]',
    "alert": '[data-testid="stAlertContainer"] [data-testid="stMarkdownContainer"]',
    "widget label": '[data-testid="stWidgetLabel"]',
    "help icon": '[data-testid="stTooltipIcon"] svg, [data-testid="stTooltipHoverTarget"] svg',
    "tooltip": '[data-testid="stTooltipContent"]',
    "slider tick": '[data-testid="stSliderTickBarMin"], [data-testid="stSliderTickBarMax"]',
    "slider value": '[data-testid="stSliderThumbValue"]',
    "metric label": '[data-testid="stMetricLabel"]',
    "markdown": '[data-testid="stMain"] [data-testid="stMarkdownContainer"] p',
    "sidebar nav": '[data-testid="stSidebarNav"] span',
    "expander": '[data-testid="stExpander"] summary',
    "tab": '[data-testid="stTab"]',
    "chart text": '[data-testid="stPlotlyChart"] .main-svg text',
}

MEASURE_JS = r"""
(kinds) => {
  const parse = (s) => {
    const m = s && s.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (fg, bg) => [0, 1, 2].map(i => fg[i] * fg[3] + bg[i] * (1 - fg[3]));
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let bg = [255, 255, 255];
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg;
  };
  const opacity = (el) => {
    let o = 1;
    for (let e = el; e; e = e.parentElement) o *= parseFloat(getComputedStyle(e).opacity || "1");
    return o;
  };
  const out = [];
  for (const [kind, sel] of Object.entries(kinds)) {
    for (const el of document.querySelectorAll(sel)) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) continue;
      const cs = getComputedStyle(el);
      if (cs.visibility === "hidden" || cs.display === "none") continue;
      const svg = el instanceof SVGElement;
      let col = parse(svg ? (cs.fill !== "none" ? cs.fill : cs.stroke) : cs.color);
      if (svg && el.tagName.toLowerCase() === "text") {
        const fo = parseFloat(cs.fillOpacity || "1");
        col = col && [col[0], col[1], col[2], col[3] * fo];
      }
      if (!col) continue;
      const text = (el.textContent || "").trim();
      if (!svg && !text) continue;
      if (svg && el.tagName.toLowerCase() === "text" && !text) continue;
      // the value above a slider's thumb sits on the page, not on the thumb that holds it
      const onThumb = el.closest('[data-testid="stSliderThumbValue"]');
      if (onThumb && kind !== "slider value") continue;
      const anchor = onThumb ? el.closest('[data-testid="stSlider"]') : (svg ? el.closest("div") : el);
      // an inactive widget is exempt (WCAG 1.4.3): report it, do not judge it
      const widget = el.closest('[data-testid="stWidgetLabel"]') && el.closest('[data-testid="stElementContainer"]');
      const disabled = !!((widget && widget.querySelector('input:disabled, button:disabled, [aria-disabled="true"]'))
                          || el.closest('button:disabled, [aria-disabled="true"]'));
      out.push({kind, text: text.slice(0, 60), color: col, background: background(anchor),
                opacity: opacity(el), size: parseFloat(cs.fontSize), disabled});
    }
  }
  return out;
}
"""


def _lum(rgb) -> float:
    def lin(v):
        v /= 255.0
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4
    r, g, b = (lin(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def ratio(fg, bg) -> float:
    """WCAG 2.1 contrast of two opaque sRGB triples."""
    a, b = sorted((_lum(fg), _lum(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def shown_colour(row) -> tuple[float, float, float]:
    """The text colour as painted: its alpha and the element's opacity composited over the background."""
    (r, g, b, a), bg = row["color"], row["background"]
    alpha = a * row["opacity"]
    return tuple(c * alpha + k * (1 - alpha) for c, k in zip((r, g, b), bg))


def measure(page, kinds: dict[str, str] = KINDS) -> list[dict]:
    rows = page.evaluate(MEASURE_JS, kinds)
    for row in rows:
        row["shown"] = shown_colour(row)
        row["ratio"] = ratio(row["shown"], row["background"])
    return rows
