"""optlab.i18n without Streamlit: language negotiation, per-context activation, the domain chain."""
from __future__ import annotations

import io
import sys
import threading

import pytest

from optlab import i18n


def _write_mo(path, messages, plural_forms="nplurals=1; plural=0;"):
    """Compile a tiny catalog with Babel (the same compiler tools/i18n.py uses)."""
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    cat = Catalog(locale="zh_CN")
    for msgid, msgstr in messages.items():
        cat.add(msgid, msgstr)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    write_mo(buf, cat)
    path.write_bytes(buf.getvalue())


@pytest.fixture
def tmp_catalogs(tmp_path, monkeypatch):
    """A throwaway locales/ folder with a chapter domain and the shared one."""
    root = tmp_path / "locales"
    lc = root / "zh_CN" / "LC_MESSAGES"
    _write_mo(lc / "optlab.mo", {"Learning rate": "学习率", "Step": "步",
                                 ("{n} run diverged", "{n} runs diverged"): ("{n} 次运行发散",)})
    _write_mo(lc / "newton.mo", {"Step": "迭代步", "Newton's method": "牛顿法"})
    monkeypatch.setattr(i18n, "LOCALE_DIR", root)
    i18n.translations.cache_clear()
    yield root
    i18n.translations.cache_clear()


def test_negotiate_tags():
    for tag in ("zh", "zh-CN", "zh_CN", "zh-Hans-CN", "ZH-tw", " zh "):
        assert i18n.negotiate(tag) == "zh"
    for tag in ("en", "en-US", "en_GB"):
        assert i18n.negotiate(tag) == "en"
    for tag in ("fr", "", None, 3, "english"):
        assert i18n.negotiate(tag) is None
    assert i18n.negotiate("fr", "en") == "en"


def test_default_is_english_and_using_restores():
    assert i18n.current() == "en"
    with i18n.using("zh-CN") as code:
        assert code == "zh" and i18n.current() == "zh"
        with i18n.using("en"):
            assert i18n.current() == "en"
        assert i18n.current() == "zh"
    assert i18n.current() == "en"
    with pytest.raises(ValueError, match="unsupported language 'fr'"):
        i18n.activate("fr")


def test_domain_chain_and_fallback(tmp_catalogs):
    _, N_, ngettext = i18n.domain("newton")
    shared, _n, _ng = i18n.domain("optlab")
    assert N_("Step") == "Step"                   # N_ only marks
    assert _("Step") == "Step"                    # English: the msgid
    with i18n.using("zh"):
        assert _("Step") == "迭代步"               # the chapter's own translation wins
        assert shared("Step") == "步"              # the shared domain has its own
        assert _("Learning rate") == "学习率"        # chapter → "optlab" fallback
        assert _("Not translated yet") == "Not translated yet"   # → English msgid
        assert _("") == ""                         # never the catalog header
        assert ngettext("{n} run diverged", "{n} runs diverged", 3).format(n=3) == "3 次运行发散"
        assert i18n.domain("no_catalog_yet").gettext("Learning rate") == "学习率"   # a new chapter, no .mo
    assert ngettext("{n} run diverged", "{n} runs diverged", 1).format(n=1) == "1 run diverged"
    assert ngettext("{n} run diverged", "{n} runs diverged", 2).format(n=2) == "2 runs diverged"


def test_domain_object_and_pgettext(tmp_catalogs):
    d = i18n.domain("newton")
    assert d is i18n.domain("newton") and d.name == "newton"
    _, N_, ngettext = d
    assert d.gettext is _ and d.N_ is N_ and d.ngettext is ngettext
    assert d.pgettext("axis", "Step") == "Step"
    with i18n.using("zh"):
        assert d.pgettext("axis", "Step") == "Step"    # no such context in the catalog: English
    with pytest.raises(ValueError):
        i18n.domain("../etc")


def test_language_is_per_thread(tmp_catalogs):
    """Concurrent sessions (threads) each see their own language, whatever the other does."""
    _, _N, _ng = i18n.domain("newton")
    barrier = threading.Barrier(2)
    seen: dict[str, list[str]] = {}

    def session(lang):
        i18n.activate(lang)
        out = []
        for _i in range(200):
            barrier.wait() if _i == 0 else None
            out.append(_("Newton's method"))
        seen[lang] = out

    threads = [threading.Thread(target=session, args=(lang,)) for lang in ("zh", "en")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(seen["zh"]) == {"牛顿法"} and set(seen["en"]) == {"Newton's method"}
    assert i18n.current() == "en"                  # the test's own thread was never changed


def test_session_side_is_asked_only_when_the_context_has_no_language(tmp_catalogs, monkeypatch):
    """Outside an activated context, current() asks the Streamlit side (optlab.ui.i18n, when it is
    loaded) and keeps the answer in the context; a broken or silent answer means English."""
    import types

    _, _N, _ng = i18n.domain("newton")
    calls = []
    side = types.SimpleNamespace(session_language=lambda: calls.append(1) or "zh")
    monkeypatch.setitem(sys.modules, "optlab.ui.i18n", side)
    try:
        assert i18n.current() == "zh" and _("Newton's method") == "牛顿法"
        assert len(calls) == 1                     # the answer was kept in this context …
        with i18n.using("en"):
            assert _("Newton's method") == "Newton's method" and len(calls) == 1
        i18n.deactivate()                          # … until it is forgotten
        assert i18n.current() == "zh" and len(calls) == 2
        i18n.deactivate()
        side.session_language = lambda: "klingon"  # nonsense: English, not kept
        assert i18n.current() == "en" and i18n._LANG.get() is None
        side.session_language = lambda: 1 / 0      # a broken session side never breaks a page
        assert i18n.current() == "en"
        side.session_language = lambda: None       # outside a session (a test thread, a pool worker)
        assert i18n.current() == "en"
    finally:
        i18n.deactivate()
    monkeypatch.delitem(sys.modules, "optlab.ui.i18n")
    assert i18n.current() == "en"                  # a notebook: the UI is never loaded


def test_import_optlab_i18n_needs_only_the_standard_library():
    import subprocess
    import sys

    code = ("import sys, optlab.i18n; "
            "print(sorted(m for m in ('streamlit', 'plotly', 'babel', 'sympy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# ----------------------------------------------------------------------------------------------
# Joining translated pieces: one way, for every caption (optlab.i18n.sentences / listing)
# ----------------------------------------------------------------------------------------------
def test_sentences_and_lists_are_joined_as_each_language_writes_them():
    from optlab.i18n import listing, sentence_gap, sentences, using

    with using("en"):
        assert sentences(["It converged.", "", None, "Fast."]) == "It converged. Fast."
        assert listing(["a", "b", "c"]) == "a, b, c" and listing(["a", "b"], ";") == "a; b"
        assert sentence_gap() == " "
    with using("zh"):
        assert sentences(["收敛了。", "", "很快。"]) == "收敛了。很快。"
        assert listing(["甲", "乙", "丙"]) == "甲、乙、丙" and listing(["甲", "乙"], ";") == "甲；乙"
        assert sentence_gap() == ""


def test_the_page_check_flags_chinese_joined_the_english_way():
    from i18n_check import western_joins

    assert western_joins("收敛了。 很快。") and western_joins("梯度, 动量") and western_joins("倍. 图中")
    assert not western_joins("收敛了。很快。") and not western_joins("梯度、动量")
    assert not western_joins("第一行。  \n第二行")              # a markdown line break
    assert not western_joins("学习率 0.1，动量 0.9。`x, y` 与 $a, b$")  # numbers, code and formulas
    assert not western_joins("learning rate 0.1. Momentum 0.9, Adam")  # English as English


def test_name_and_detail_and_text_width():
    from optlab.i18n import name_and_detail, text_width

    assert name_and_detail("bmi (body mass index)") == ("bmi", "body mass index")
    assert name_and_detail("normal N(0, s²) (naive)") == ("normal N(0, s²)", "naive")
    assert name_and_detail("六峰驼背函数（6 个最小值，2 个全局最小值）") == ("六峰驼背函数", "6 个最小值，2 个全局最小值")
    for plain in ("sigmoid", "f(x)", "(x)", "a (b) c", "name ()"):
        assert name_and_detail(plain) == (plain, "")
    assert text_width("bmi") == 3 and text_width("体重指数") == 8 and text_width("N（0）") == 6
