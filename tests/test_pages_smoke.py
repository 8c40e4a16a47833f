"""Every page found on disk renders under AppTest: no exception, a heading, no unfinished text.

Pages are discovered (app.py + pages/*.py), so a new page is covered as soon as it exists.
Detailed per-page tests (widgets moved, figures checked) live in the page authors' test files.
"""

from __future__ import annotations

import json
import re

UNFINISHED = re.compile(r"coming soon|\bTODO\b|\bTBD\b|placeholder|lorem ipsum", re.IGNORECASE)
# Markdown headings written as st.markdown("## …") count as headings too.
MARKDOWN_HEADING = re.compile(r"^\s{0,3}#{1,3}\s+\S", re.MULTILINE)


def _proto_strings(msg, skip=("id", "form_id", "spec", "data", "arrow_data")):
    """Every string shown to the reader that a protobuf message carries (labels, bodies, help…)."""
    for field, value in msg.ListFields():
        if field.name in skip:
            continue
        if field.type == field.TYPE_STRING:
            yield from ([value] if isinstance(value, str) else value)  # single or repeated
        elif field.type == field.TYPE_MESSAGE:
            for sub in [value] if hasattr(value, "ListFields") else value:
                if hasattr(sub, "ListFields"):  # map fields iterate as keys
                    yield from _proto_strings(sub, skip)


def _json_strings(obj, skip=("template", "bdata", "dtype", "shape")):
    """Strings of a Plotly figure (titles, names, annotations, hover templates), not its data."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k not in skip:
                yield from _json_strings(v, skip)
    elif isinstance(obj, list):
        for v in obj:
            yield from _json_strings(v, skip)
    elif isinstance(obj, str):
        yield obj


def exception_report(at) -> str:
    return "\n\n".join(f"{e.value}\n" + "\n".join(e.stack_trace or []) for e in at.exception)


def _shown_texts(at) -> list[str]:
    texts = []
    for root in (at.main, at.sidebar):
        for node in root:
            proto = getattr(node, "proto", None)
            if proto is None or not hasattr(proto, "ListFields"):
                continue
            texts.extend(_proto_strings(proto))
            if getattr(node, "type", None) == "plotly_chart":
                texts.extend(_json_strings(json.loads(proto.spec)))
    return texts


def test_app_entrypoint_exists(app_dir, app_page_files):
    assert (app_dir / "app.py").is_file(), f"no app.py in {app_dir}"
    assert app_page_files[0] == "app.py"


def test_page_renders(page_file, app_test):
    at = app_test(page_file)

    assert not at.exception, f"{page_file} raised:\n{exception_report(at)}"

    headings = [h.value for h in (*at.title, *at.header, *at.subheader)]
    headings += [m.value for m in at.markdown if MARKDOWN_HEADING.search(m.value)]
    assert headings, f"{page_file} shows no title or heading"

    unfinished = sorted({t for t in _shown_texts(at) if UNFINISHED.search(t)})
    assert not unfinished, f"{page_file} shows unfinished text: {unfinished}"

    # A rerun with nothing changed (the user pressing "R") must not break the page: it catches
    # state kept in st.session_state that is only valid on the first run.
    at.run()
    assert not at.exception, f"{page_file} raised on a plain rerun:\n{exception_report(at)}"

