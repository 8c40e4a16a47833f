"""Is a rendered page Chinese?  ``assert_chinese(at)`` for any AppTest, reusable by every chapter.

    from i18n_check import assert_chinese, open_in           # tests/*.py (tests/ is on sys.path)

    def test_newton_page_is_chinese():
        at = open_in("zh", "pages/3_Newton_method.py")        # AppTest run with ?lang=zh
        assert_chinese(at)                                      # every text element of the page
        at.segmented_control(key="nt_section").set_value("saddle").run()
        assert_chinese(at, allow={"Levenberg", "Marquardt"})   # a section, names of this chapter

What is checked: titles, headers, markdown, captions, text, info/warning/error/success, toasts,
widget labels, help texts, placeholders, options (as drawn by format_func), slider formats, button
and page-link labels, expander/tab/popover labels, metric labels/values/deltas, dataframe and
table headers and their text cells, and in every Plotly figure (frames too) the titles, axis and
colour-bar titles, legend titles, trace names shown in a legend or hover, annotations,
hover templates, hover text, button and slider labels.

What may stay as it is: formulas (``$…$``, ``$$…$$``, st.latex), code (`` `…` ``, code blocks), numbers
and units, URLs, identifiers (``weight_decay``, ``x0``, ``torch.optim.Adam``), single letters
(variables), citations (text after "📖", "Name (2015)", "（Name 等，2004）", "Name 等"), the
language selector, and the names in
:data:`ALLOWED` plus what a test passes as ``allow=``.  Any other Latin word of two or more letters
is reported with the element it was found in.
"""
from __future__ import annotations

import json
import re
from typing import Iterable, Iterator

#: Latin names that stay Latin in a Chinese page: optimizers, losses and surfaces named after
#: people or papers, libraries, units and acronyms (the convention of 《动手学深度学习》); "hot" is the
#: seed article's own spelling in its term "一hot编码损失" (one-hot encoding loss).
ALLOWED = frozenset("""
SGD Adam AdamW AdaGrad Adagrad RMSProp RMSprop NAdam RAdam Adadelta ADADELTA AMSGrad amsgrad BFGS L-BFGS LBFGS
Nesterov Polyak Armijo Wolfe Levenberg Marquardt Levenberg–Marquardt Newton–Raphson Lion Lookahead
MSE RMSE MAE BCE Huber log-cosh Focal focal ReLU sigmoid softmax tanh logit logits
Rosenbrock Rastrigin Himmelblau Beale Ackley Booth Matyas Goldstein Price Goldstein–Price Styblinski Tang
Styblinski–Tang McCormick
PyTorch NumPy SciPy SymPy Plotly Streamlit OptLab optlab TensorFlow Python Jupyter notebook KaTeX LaTeX
torch optim numpy np scipy sympy
CPU GPU CSV HTML URL PNG SVG JSON API BLAS MLP CNN SVM UCI ReLU ML AI LR CV SAM PCGrad GradNorm FedAvg DP-SGD
Ctrl Shift Alt Cmd Esc Enter
English
hot
sin cos tan tanh sinh cosh exp log ln sqrt abs max min argmin argmax atan2 arctan sign sgn det tr diag pi
lr eps betas ms px dB KB MB GB kHz Hz NaN nan inf Inf
""".split())

_MATH = re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$|\\\(.*?\\\)|\\\[.*?\\\]", re.S)
_CODE = re.compile(r"```.*?```|`[^`]*`", re.S)
_URL = re.compile(r"(?:https?://|www\.)\S+|\?[a-z_]+=[^\s,;)）]*")
_MD_LINK_TARGET = re.compile(r"\]\([^)]*\)")
_TAG = re.compile(r"<[^<>]*>|&[a-z]+;|&#\d+;")
_PLOTLY_FIELD = re.compile(r"%\{[^}]*\}")
_PRINTF = re.compile(r"%[-+ 0#]*\d*(?:\.\d+)?[a-zA-Z%]")
_CITATION = re.compile(
    r"📖[^\n]*"                                                        # a reference line
    r"|[（(][^()（）]*?(?:19|20)\d{2}[a-z]?[^()（）]*[）)]"                # (Efron 等，2004), (Kingma & Ba 2015)
    r"|\b[A-Z][\w'’\-]+(?:\s*(?:&|and|,|、)\s*[A-Z][\w'’\-]+)*\s*(?:et al\.\s*)?[（(](?:19|20)\d{2}[a-z]?[）)]"
    r"|\b[A-Z][\w'’\-]+\s*等人?")                                       # Polyak (1964), Sutskever 等
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.'’\-–]*[A-Za-z0-9_]|[A-Za-z]")
CHINESE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


# Chinese text joined the English way: a space after a full-width mark ("。 下一句", a markdown
# hard break "。␠␠\n" excepted), or a Chinese character followed by a Latin comma, semicolon or
# full stop and a space ("梯度, 动量").  optlab.i18n.sentences / listing join pieces per language.
_WESTERN_JOIN = re.compile(r"[。，；：！？、](?: +(?=\S))|[\u3400-\u9fff][,;.] (?=\S)")


def western_joins(text: str) -> list[str]:
    """The places in ``text`` where Chinese is joined with English punctuation or spacing."""
    for rx in (_CODE, _MATH, _URL, _MD_LINK_TARGET, _TAG, _PLOTLY_FIELD, _PRINTF):
        text = rx.sub("X", text)  # a formula or code stands in the sentence as a word does
    return [text[max(0, m.start() - 8):m.end() + 8] for m in _WESTERN_JOIN.finditer(text)]


def strip_allowed_parts(text: str) -> str:
    """The text without formulas, code, URLs, markup, template fields and references."""
    for rx in (_CODE, _MATH, _CITATION, _URL, _MD_LINK_TARGET, _TAG, _PLOTLY_FIELD, _PRINTF):
        text = rx.sub(" ", text)
    return text


def english_words(text: str, allow: Iterable[str] = ()) -> list[str]:
    """The Latin words of ``text`` that are not allowed on a Chinese page (see the module doc)."""
    allowed = ALLOWED | set(allow)
    out = []
    for m in _WORD.finditer(strip_allowed_parts(text)):
        tok = m.group(0).rstrip(".'’-–")
        if len(re.sub(r"[^A-Za-z]", "", tok)) <= 1:
            continue                                   # a variable, a unit letter, 1e-3
        if "_" in tok or re.search(r"\d", tok) or tok.startswith(("torch.", "optlab.", "np.", "st.")):
            continue                                   # an identifier: weight_decay, x0, torch.optim.Adam
        if tok in allowed or tok.lower() in allowed:
            continue
        if all(part in allowed or len(part) <= 1 for part in re.split(r"[-–.]", tok) if part):
            continue                                   # Adam-W, AdaGrad–RMSProp
        out.append(tok)
    return out


# ----------------------------------------------------------------------------------------------
# Collecting the text of a rendered page
# ----------------------------------------------------------------------------------------------
_TEXT_FIELDS = {"body", "label", "help", "placeholder", "options", "content", "message", "format",
                "delta", "text", "caption", "title"}
_SKIPPED_TYPES = {"latex", "code", "json", "exception", "plotly_chart", "dataframe", "table", "arrow_data_frame",
                  "vega_lite_chart", "deck_gl_json_chart", "graphviz_chart", "image", "imgs", "audio", "video",
                  "html", "iframe", "empty", "divider"}
LANGUAGE_SELECTOR_KEY = "optlab_lang_choice"


def _repeated(field) -> bool:
    is_repeated = getattr(field, "is_repeated", None)  # protobuf >= 5.28 (no .label in upb)
    if is_repeated is not None:
        return bool(is_repeated)
    return field.label == field.LABEL_REPEATED


def _proto_strings(msg, name: str = "") -> Iterator[tuple[str, str]]:
    for field, value in msg.ListFields():
        fname = field.name
        if field.type == field.TYPE_MESSAGE:
            items = value if _repeated(field) else [value]
            for v in items:
                yield from _proto_strings(v, fname)
        elif field.type == field.TYPE_STRING and (fname in _TEXT_FIELDS or (name in _TEXT_FIELDS and fname in
                                                                              ("content", "label", "value"))):
            items = value if _repeated(field) else [value]
            for v in items:
                if v:
                    yield fname, v


def _nodes(node) -> Iterator:
    yield node
    kids = getattr(node, "children", None)
    if kids:
        for k in (kids.values() if isinstance(kids, dict) else kids):
            yield from _nodes(k)


def _plotly_texts(spec: dict) -> Iterator[tuple[str, str]]:
    def title(obj, where):
        t = obj.get("title") if isinstance(obj, dict) else None
        if isinstance(t, dict):
            t = t.get("text")
        if isinstance(t, str) and t:
            yield where, t

    def layout_texts(lay: dict, where: str):
        yield from title(lay, f"{where}.title")
        for k, v in lay.items():
            if isinstance(v, dict) and re.match(r"(x|y)axis\d*$|coloraxis\d*$|legend\d*$", k):
                yield from title(v, f"{where}.{k}.title")
                if "colorbar" in v:
                    yield from title(v["colorbar"], f"{where}.{k}.colorbar")
            if k.startswith("scene") and isinstance(v, dict):
                for ax in ("xaxis", "yaxis", "zaxis"):
                    yield from title(v.get(ax, {}), f"{where}.{k}.{ax}.title")
        for i, a in enumerate(lay.get("annotations", []) or []):
            if a.get("text"):
                yield f"{where}.annotations[{i}]", a["text"]
        for i, menu in enumerate(lay.get("updatemenus", []) or []):
            for b in menu.get("buttons", []) or []:
                if b.get("label"):
                    yield f"{where}.updatemenus[{i}].button", b["label"]
        for i, sl in enumerate(lay.get("sliders", []) or []):
            cv = sl.get("currentvalue", {}) or {}
            for part in ("prefix", "suffix"):
                if cv.get(part):
                    yield f"{where}.sliders[{i}].currentvalue.{part}", cv[part]
            for st in sl.get("steps", []) or []:
                if st.get("label"):
                    yield f"{where}.sliders[{i}].step", st["label"]

    def trace_texts(tr: dict, where: str):
        if tr.get("name") and (tr.get("showlegend") is not False or "hovertemplate" not in tr
                               or "%{fullData.name}" in str(tr.get("hovertemplate"))):
            yield f"{where}.name", tr["name"]
        for k in ("hovertemplate", "texttemplate"):
            vals = tr.get(k)
            for v in (vals if isinstance(vals, list) else [vals]):
                if isinstance(v, str) and v:
                    yield f"{where}.{k}", v
        for k in ("hovertext", "text"):
            vals = tr.get(k)
            if isinstance(vals, str):
                vals = [vals]
            if isinstance(vals, list):
                for v in dict.fromkeys(v for v in vals if isinstance(v, str) and v):
                    yield f"{where}.{k}", v
        if isinstance(tr.get("colorbar"), dict):
            yield from title(tr["colorbar"], f"{where}.colorbar")
        if isinstance(tr.get("legendgrouptitle"), dict) and tr["legendgrouptitle"].get("text"):
            yield f"{where}.legendgrouptitle", tr["legendgrouptitle"]["text"]
        header = tr.get("header", {}) if tr.get("type") == "table" else {}
        for v in (header.get("values") or []):
            if isinstance(v, str):
                yield f"{where}.header", v

    yield from layout_texts(spec.get("layout", {}) or {}, "layout")
    for i, tr in enumerate(spec.get("data", []) or []):
        yield from trace_texts(tr, f"data[{i}]")
    for j, fr in enumerate(spec.get("frames", []) or []):
        yield from layout_texts(fr.get("layout", {}) or {}, f"frames[{j}].layout")
        for i, tr in enumerate(fr.get("data", []) or []):
            yield from trace_texts(tr, f"frames[{j}].data[{i}]")


def _frame_texts(df) -> Iterator[tuple[str, str]]:
    for c in list(df.columns) + [n for n in df.index.names if n is not None]:
        if isinstance(c, str):
            yield "header", c
        elif isinstance(c, tuple):
            yield from (("header", x) for x in c if isinstance(x, str))
    for col in df.columns:
        if df[col].dtype == object:
            for v in dict.fromkeys(v for v in df[col].tolist() if isinstance(v, str)):
                yield f"cell[{col}]", v


def page_texts(at) -> list[tuple[str, str]]:
    """``[(where, text), …]``: every user-visible text of a rendered AppTest page."""
    out: list[tuple[str, str]] = []
    for node in _nodes(at._tree):
        kind = getattr(node, "type", None)
        proto = getattr(node, "proto", None)
        if kind == "plotly_chart":
            spec = json.loads(proto.spec)
            out += [(f"plotly_chart {where}", t) for where, t in _plotly_texts(spec)]
            continue
        if kind in ("dataframe", "table", "arrow_data_frame"):
            try:
                df = node.value
            except Exception:  # an element AppTest cannot decode: its headers are not checkable here
                continue
            out += [(f"{kind} {where}", t) for where, t in _frame_texts(df)]
            continue
        if kind in _SKIPPED_TYPES or proto is None or not hasattr(proto, "ListFields"):
            continue
        if getattr(proto, "id", "").endswith(LANGUAGE_SELECTOR_KEY):
            continue
        for fname, text in _proto_strings(proto):
            out.append((f"{kind or type(node).__name__}.{fname}", text))
    return out


def not_chinese(at, allow: Iterable[str] = ()) -> list[str]:
    """One line per text element that has Latin words it should not have."""
    problems = []
    for where, text in page_texts(at):
        words = english_words(text, allow)
        if words:
            problems.append(f"{where}: {', '.join(dict.fromkeys(words))}  ← {text[:120]!r}")
    return problems


def assert_chinese(at, allow: Iterable[str] = (), *, min_texts: int = 3) -> None:
    """Fail with every element of the page that is not Chinese (see the module docstring)."""
    assert not at.exception, [e.value for e in at.exception]
    texts = page_texts(at)
    assert len(texts) >= min_texts, f"only {len(texts)} text elements found: did the page render?"
    assert any(CHINESE.search(t) for _w, t in texts), "no Chinese text on the page at all"
    problems = not_chinese(at, allow)
    problems += [f"{where}: joined the English way {bad}  ← {text[:120]!r}"
                 for where, text in texts if (bad := western_joins(text))]
    assert not problems, f"{len(problems)} text element(s) are not Chinese:\n" + "\n".join(problems)


def open_in(lang: str, page: str | None = None, *, timeout: float = 60, app_dir=None):
    """An AppTest of ``page`` (a file such as "pages/3_Newton_method.py"; None: the home page) opened
    by a link with ``?lang=<lang>`` and run.  The entrypoint runs first, as in a browser.

    It also makes ``lang`` the language of the test's own thread: AppTest calls a widget's
    ``format_func`` there (to find the index of a selectbox/radio value among the drawn options),
    so it must translate like the session does.  tests/conftest.py resets it after each test.
    """
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from optlab import i18n

    root = Path(app_dir) if app_dir else Path(__file__).resolve().parents[1]
    at = AppTest.from_file(str(root / "app.py"), default_timeout=timeout)
    at.query_params["lang"] = lang
    i18n.activate(lang)
    at.run()
    if page not in (None, "app.py"):
        at.switch_page(page).run()
    return at


def switch_language(at, lang: str):
    """Press the sidebar's language selector (English | 中文) and rerun; the test's thread follows
    (see :func:`open_in`).  Returns ``at``."""
    from optlab import i18n

    at.button_group(key=LANGUAGE_SELECTOR_KEY).set_value(lang)
    at.run()               # the widgets' states are read against the options drawn in the old language
    i18n.activate(lang)    # the page is now drawn in the new one
    return at
