r"""Text that came from a link or an input, made safe to put inside markdown.

Streamlit renders ``st.warning``/``st.markdown`` bodies as GitHub-flavoured markdown: links,
images, autolinked addresses (``www.evil.example``), ``:red[...]`` directives, ``:material/...:``
icons and ``$...$`` LaTeX.  A value quoted from a link must never become any of those.  The one
markdown construct whose content is not parsed at all is a code span, so :func:`code` puts the
text in a code span whose backtick fence is longer than any backtick run inside it (CommonMark's
rule), after cutting it to a bounded length and making invisible characters visible (bidi
overrides, zero-width spaces and control characters could otherwise disguise the text).

    >>> code("**Session expired** [log in](https://evil.example)")
    '`**Session expired** [log in](https://evil.example)`'
    >>> code("a`b")
    '``a`b``'

:func:`plain` escapes every ASCII punctuation character instead (CommonMark allows a backslash
before any of them), for text that should read as prose, not as code.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Iterable

LIMIT = 40  # characters of a quoted value shown before "…"

_BACKTICKS = re.compile(r"`+")
_PUNCT = re.compile(r"([!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])")


def visible(text: str, limit: int | None = LIMIT) -> str:
    """``text`` cut to ``limit`` characters (with "…"), its control, format (bidi, zero-width) and
    line-separator characters shown as ``\\uXXXX``, so what is shown is what was sent."""
    s = str(text)
    cut = limit is not None and len(s) > limit
    if cut:
        s = s[:limit]
    out = []
    for ch in s:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn") and ch != " ":
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    return "".join(out) + ("…" if cut else "")


def code(text: str, limit: int | None = LIMIT) -> str:
    """``text`` as one markdown code span (never parsed as markdown, links, HTML, LaTeX or
    Streamlit directives), cut to ``limit`` characters."""
    s = visible(text, limit)
    if s == "":
        return "` `"  # an empty value still shows as a (blank) code span
    longest = max((len(m) for m in _BACKTICKS.findall(s)), default=0)
    fence = "`" * (longest + 1)
    # A space inside the fence when the text starts or ends with a backtick or a space (CommonMark
    # strips one space on each side, so the text itself is unchanged).
    pad = " " if s[0] in "` " or s[-1] in "` " else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def plain(text: str, limit: int | None = LIMIT) -> str:
    """``text`` with every ASCII punctuation character backslash-escaped: reads as prose, renders
    no markdown construct."""
    return _PUNCT.sub(r"\\\1", visible(text, limit))


def names(items: Iterable[str], *, shown: int = 5, limit: int | None = LIMIT) -> tuple[str, int]:
    """The first ``shown`` items as code spans joined by ", ", and how many were left out."""
    out, rest = [], 0
    for i, item in enumerate(items):
        if i < shown:
            out.append(code(item, limit))
        else:
            rest += 1
    return ", ".join(out), rest
