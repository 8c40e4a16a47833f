"""The gettext catalogs are complete and current (what CI checks on every change).

`python tools/i18n.py check` lists the same problems from the command line.  Fails when:
a marked string in the code is missing from its domain's .po (someone added text and did not run
`python tools/i18n.py update`), a .po entry is empty or fuzzy, a .po keeps a string the code no
longer has, a committed .mo differs from its .po, a translation drops or renames a {placeholder},
a translation uses a variant the glossary (locales/glossary.csv) bans or lacks an enforced term,
or a file binds a domain other than the one its strings are extracted to.
"""
from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import i18n as tool  # noqa: E402  tools/i18n.py

pytest.importorskip("babel", reason="Babel is in requirements-dev.txt")


def test_catalogs_are_complete_and_current():
    problems = tool.check()
    assert not problems, f"{len(problems)} catalog problem(s) — run `python tools/i18n.py update`, " \
                         "translate, and see `python tools/i18n.py untranslated`:\n" + "\n".join(problems)


def test_every_domain_with_text_has_a_catalog():
    with_text = {d for d, files in tool.domain_files().items() if len(tool.extract(d, files))}
    assert tool.SHARED in with_text
    assert with_text <= set(tool.catalog_domains())


def test_chapter_rule_assigns_files_to_domains(tmp_path):
    root = tmp_path
    for rel in ("app.py", "pages/3_Newton_method.py", "pages/7_Optimizer_arena.py", "optlab/runner.py",
                "optlab/chapters/newton.py", "optlab/chapters/arena.py", "optlab/chapters/overfitting.py", "optlab/figures/newton.py",
                "optlab/figures/core.py", "optlab/ui/newton.py", "optlab/ui/widgets.py", "optlab/ui/arena.py"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("")
    (root / "pages/3_Newton_method.py").write_text('_, N_, ngettext = domain("newton")\n')
    (root / "pages/5_Overfitting_and_gradients.py").write_text("")   # binds nothing: named after its chapter
    (root / "pages/6_Challenges_ahead.py").write_text("")            # no chapter module yet: its own name
    got = {str(f.relative_to(root)): tool.domain_of(f, root) for f in root.rglob("*.py")}
    assert got == {
        "app.py": "optlab", "optlab/runner.py": "optlab", "optlab/figures/core.py": "optlab",
        "optlab/ui/widgets.py": "optlab", "pages/3_Newton_method.py": "newton", "optlab/chapters/newton.py": "newton",
        "optlab/figures/newton.py": "newton", "optlab/ui/newton.py": "newton", "pages/7_Optimizer_arena.py": "arena",
        "optlab/chapters/arena.py": "arena", "optlab/ui/arena.py": "arena", "optlab/chapters/overfitting.py": "overfitting",
        "pages/5_Overfitting_and_gradients.py": "overfitting", "pages/6_Challenges_ahead.py": "challenges_ahead"}


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """A copy of the repository's catalogs and a tiny source tree, for checks that must fail."""
    root = tmp_path
    (root / "pages").mkdir()
    (root / "optlab" / "chapters").mkdir(parents=True)
    (root / "optlab" / "ui").mkdir(parents=True)
    (root / "optlab" / "chapters" / "toy.py").write_text("")
    (root / "optlab" / "ui" / "toy.py").write_text(
        'from ..i18n import domain\n_, N_, ngettext = domain("toy")\n'
        'TITLE = N_("Learning rate")\n'
        'def show(n):\n    return ngettext("{n} step", "{n} steps", n).format(n=n)\n')
    shutil.copytree(ROOT / "locales", root / "locales")
    for mod in (tool,):
        monkeypatch.setattr(mod, "ROOT", root)
        monkeypatch.setattr(mod, "LOCALES", root / "locales")
        monkeypatch.setattr(mod, "GLOSSARY", root / "locales" / "glossary.csv")
    # only the toy domain matters here: forget the real app's files
    monkeypatch.setattr(tool, "source_files", lambda r=None: sorted((root / "optlab").rglob("*.py")))
    for p in (root / "locales" / "zh_CN" / "LC_MESSAGES").glob("*"):
        p.unlink()
    return root


def _po(root):
    return root / "locales" / "zh_CN" / "LC_MESSAGES" / "toy.po"


def test_check_fails_on_new_untranslated_fuzzy_stale_and_bad_placeholders(sandbox):
    problems = tool.check()
    assert any("toy: 2 string(s) marked" in p for p in problems)           # no catalog yet
    assert tool.main(["update", "toy"]) == 0
    problems = tool.check()
    assert sum("not translated" in p for p in problems) == 2                 # new entries are empty
    po = _po(sandbox).read_text()
    po = po.replace('msgid "Learning rate"\nmsgstr ""', 'msgid "Learning rate"\nmsgstr "学习率"')
    po = po.replace('msgstr[0] ""', 'msgstr[0] "{count} 步"')                # renamed placeholder
    _po(sandbox).write_text(po)
    problems = tool.check()
    assert any("placeholders differ" in p for p in problems)
    assert any(".mo is out of date" in p for p in problems)                  # edited .po, not compiled
    _po(sandbox).write_text(po.replace('"{count} 步"', '"{n} 步"'))
    tool.main(["compile"])
    assert tool.check() == []

    src = sandbox / "optlab" / "ui" / "toy.py"
    src.write_text(src.read_text() + 'OTHER = N_("Momentum")\n')                # someone adds text
    assert any("lacks 'Momentum'" in p for p in tool.check())
    tool.main(["update", "toy"])
    assert any("not translated: 'Momentum'" in p for p in tool.check())
    src.write_text(src.read_text().replace('N_("Learning rate")', 'N_("Learning rates")'))
    problems = tool.check()
    assert any("no longer marks" in p for p in problems) and any("lacks 'Learning rates'" in p for p in problems)
    tool.main(["update", "toy"])
    assert any("fuzzy" in p and "Learning rates" in p for p in tool.check())  # old translation offered, flagged


def test_glossary_bans_variants_and_enforces_terms(sandbox):
    from babel.messages.catalog import Catalog

    cat = Catalog(locale="zh_CN")
    cat.add("The learning rate is too large", "学习速率太大了")
    cat.add("Early stopping halts training", "训练会停下来")
    cat.add("Use `momentum` here", "这里用 `momentum`")                       # code is not a term
    problems = tool.glossary_problems("toy", cat, tool.load_glossary())
    assert any("“学习速率”" in p for p in problems)                           # banned variant
    assert any("Early stopping" in p and "早停" in p for p in problems)         # enforced term missing
    assert not any("momentum" in p for p in problems)


def test_committed_mo_files_match_their_po():
    for dom in tool.catalog_domains():
        buf = io.BytesIO()
        from babel.messages.mofile import write_mo

        write_mo(buf, tool._read(tool.po_path(dom)))
        assert tool.mo_problems(dom, tool._read(tool.po_path(dom))) == [], dom


def test_shadowed_translation_function_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(tool, "ROOT", tmp_path)
    f = tmp_path / "page.py"
    f.write_text(
        "from optlab.i18n import domain\n_, N_, ngettext = domain('toy')\n"
        "def show(rows):\n    for _ in rows:\n        pass\n    return _('Title')\n"
        "def fine(rows):\n    n = sum(1 for _ in rows)\n    return _('Title') * n\n"
        "a, _ = 1, 2\nprint(_('x'))\n")
    problems = tool.shadow_problems([f])
    assert len(problems) == 2, problems
    assert "page.py:4: `_` assigned in show()" in problems[1] or "page.py:4: `_` assigned in show()" in problems[0]
    assert any("page.py:10: `_` reassigned at module level" in p for p in problems)
