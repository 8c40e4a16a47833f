#!/usr/bin/env python3
"""Extract, update, compile and check OptLab's gettext catalogs (one domain per chapter + "optlab").

    python tools/i18n.py update [DOMAIN ...]   extract the strings, merge them into
                                               locales/zh_CN/LC_MESSAGES/<domain>.po, compile the .mo
    python tools/i18n.py compile               .po -> .mo for every domain
    python tools/i18n.py check                 exit 1 and list every problem (what CI runs through
                                               tests/test_i18n_catalogs.py)
    python tools/i18n.py untranslated [DOMAIN ...] the entries still to translate (empty or fuzzy)
    python tools/i18n.py domains               which file belongs to which domain

Which file belongs to which domain (the chapter rule of PLAN.md):
    optlab/chapters/X.py, optlab/figures/X.py, optlab/ui/X.py  ->  X   when X is a chapter stem
    pages/N_Name.py  ->  the domain the page binds (``domain("newton")``), else the chapter module
                         named in it (3_Newton_method -> newton), else its name in lower case
    everything else (app.py, the engine, figures/core, ui/widgets …)  ->  "optlab"
Chapter stems are the modules of optlab/chapters/ plus the domains the pages bind.

Babel does the work through its Python API (what ``pybabel`` runs). For one domain it amounts to
    pybabel extract --no-wrap -o optlab.pot app.py optlab/runner.py …   (that domain's files)
    pybabel update --no-wrap --ignore-obsolete -D optlab -i optlab.pot -d locales -l zh_CN
    pybabel compile -D optlab -d locales
but pybabel takes one file list per domain, which this script computes from the rule above, and
it writes no dates-only changes (fewer merge conflicts between branches).
The compiled .mo files are committed: a fresh clone runs the app with no build step and without
Babel; ``check`` fails when a .mo differs from its .po.  On a merge conflict in a .mo, take
either side and run ``python tools/i18n.py compile``.
"""
from __future__ import annotations

import argparse
import ast
import csv
import gettext
import io
import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "locales"
GLOSSARY = LOCALES / "glossary.csv"
SHARED = "optlab"
CATALOG_LOCALE = "zh_CN"
LAYERS = ("chapters", "figures", "ui")
KEYWORDS = dict(DEFAULT_KEYWORDS)
COMMENT_TAGS = ("TRANSLATORS:",)
_DOMAIN_CALL = re.compile(r"""\bdomain\(\s*["']([a-z0-9_]+)["']\s*\)""")
_PAGE_FILE = re.compile(r"[0-9]*[_ -]*(.*)\.py")


# ----------------------------------------------------------------------------------------------
# Files and domains
# ----------------------------------------------------------------------------------------------
def source_files(root: Path | None = None) -> list[Path]:
    """Every file whose strings the app can show: app.py, pages/*.py, optlab/**/*.py."""
    root = root or ROOT
    files = [root / "app.py"] if (root / "app.py").is_file() else []
    files += sorted(p for p in (root / "pages").glob("*.py") if not p.name.startswith("."))
    files += sorted(p for p in (root / "optlab").rglob("*.py") if "__pycache__" not in p.parts)
    return files


def declared_domains(path: Path) -> set[str]:
    """The domains a file binds with ``domain("…")``."""
    return set(_DOMAIN_CALL.findall(path.read_text(encoding="utf-8")))


def _chapter_modules(root: Path) -> set[str]:
    return {p.stem for p in (root / "optlab" / "chapters").glob("*.py") if not p.stem.startswith("_")}


def page_domain(path: Path, root: Path | None = None) -> str:
    """The domain a page binds (``domain("newton")``); else the chapter module whose words all
    appear in the page's name (3_Newton_method → newton, 7_Optimizer_arena → arena); else the
    page's name in lower case."""
    declared = declared_domains(path) - {SHARED}
    if len(declared) == 1:
        return declared.pop()
    name = _PAGE_FILE.fullmatch(path.name).group(1).lower()
    words = set(re.split(r"[_ -]+", name))
    fits = [m for m in _chapter_modules(root or ROOT) if set(m.split("_")) <= words]
    return max(fits, key=len) if fits else name


def chapter_stems(root: Path | None = None) -> set[str]:
    root = root or ROOT
    stems = _chapter_modules(root)
    stems |= {page_domain(p, root) for p in (root / "pages").glob("*.py") if not p.name.startswith(".")}
    return stems


def domain_of(path: Path, root: Path | None = None, stems: set[str] | None = None) -> str:
    """The gettext domain of a source file (see the module docstring)."""
    root = root or ROOT
    rel = path.resolve().relative_to(root)
    stems = chapter_stems(root) if stems is None else stems
    if rel.parts[0] == "pages":
        return page_domain(path, root)
    if len(rel.parts) == 3 and rel.parts[0] == "optlab" and rel.parts[1] in LAYERS and path.stem in stems:
        return path.stem
    return SHARED


def domain_files(root: Path | None = None) -> dict[str, list[Path]]:
    root = root or ROOT
    stems = chapter_stems(root)
    out: dict[str, list[Path]] = {}
    for f in source_files(root):
        out.setdefault(domain_of(f, root, stems), []).append(f)
    return dict(sorted(out.items()))


def po_path(dom: str) -> Path:
    return LOCALES / CATALOG_LOCALE / "LC_MESSAGES" / f"{dom}.po"


def mo_path(dom: str) -> Path:
    return po_path(dom).with_suffix(".mo")


def catalog_domains() -> list[str]:
    return sorted(p.stem for p in (LOCALES / CATALOG_LOCALE / "LC_MESSAGES").glob("*.po"))


# ----------------------------------------------------------------------------------------------
# Extraction
# ----------------------------------------------------------------------------------------------
def extract(dom: str, files: list[Path]) -> Catalog:
    """The template of one domain: every marked string of its files, in file and line order."""
    cat = Catalog(project="OptLab", domain=dom, charset="utf-8", fuzzy=False)
    for f in files:
        rel = f.relative_to(ROOT).as_posix()
        for lineno, message, comments, context in extract_from_file(
                "python", str(f), keywords=KEYWORDS, comment_tags=COMMENT_TAGS, strip_comment_tags=True):
            cat.add(message, None, [(rel, lineno)], auto_comments=comments, context=context)
    return cat


def _read(path: Path) -> Catalog:
    with open(path, "rb") as fp:
        return read_po(fp, locale=CATALOG_LOCALE, domain=path.stem)


def _po_text(cat: Catalog) -> str:
    buf = io.BytesIO()
    write_po(buf, cat, width=0, include_lineno=False, ignore_obsolete=True, include_previous=True)
    return buf.getvalue().decode("utf-8")


_DATE_LINES = re.compile(r'^"(POT-Creation-Date|PO-Revision-Date|Generated-By):.*\n', re.M)


def update(dom: str, files: list[Path]) -> tuple[int, int]:
    """Merge the extracted strings into the domain's .po (new ones empty, changed ones fuzzy with
    the old translation as a suggestion, removed ones dropped) and compile it.
    Returns (messages, still to translate)."""
    template = extract(dom, files)
    path = po_path(dom)
    if path.exists():
        cat = _read(path)
        cat.update(template, update_header_comment=False)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        cat = Catalog(locale=CATALOG_LOCALE, domain=dom, project="OptLab", version="1", charset="utf-8",
                      fuzzy=False, language_team="OptLab <zh_CN>", last_translator="OptLab",
                      msgid_bugs_address="",
                      header_comment=f"# Simplified Chinese translation of OptLab ({dom} domain).\n"
                                     "# Terms: locales/glossary.csv. Update: python tools/i18n.py update\n")
        cat.update(template)
    text = _po_text(cat)
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if _DATE_LINES.sub("", old) != _DATE_LINES.sub("", text):  # no churn from dates alone
        path.write_text(text, encoding="utf-8")
    compile_domain(dom)
    msgs = [m for m in _read(path) if m.id]
    return len(msgs), sum(1 for m in msgs if m.fuzzy or not _translated(m))


def compile_domain(dom: str) -> None:
    cat = _read(po_path(dom))
    for m in list(cat):
        # Babel writes a plural entry whose forms are all empty ("" for every count at run time):
        # leave every untranslated entry out, so the English msgid shows instead
        if m.id and not _translated(m):
            cat.delete(m.id, m.context)
    buf = io.BytesIO()
    write_mo(buf, cat, use_fuzzy=False)
    if not mo_path(dom).exists() or mo_path(dom).read_bytes() != buf.getvalue():
        mo_path(dom).write_bytes(buf.getvalue())


# ----------------------------------------------------------------------------------------------
# Checks
# ----------------------------------------------------------------------------------------------
def _translated(m) -> bool:
    return all(s for s in m.string) if isinstance(m.string, (list, tuple)) else bool(m.string)


_FIELD = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)(?:[.\[][^{}]*)?(?:![rsa])?(?::[^{}]*)?\}(?!\})")


def placeholders(text: str) -> set[str]:
    """The ``{name}`` / ``{name:.3g}`` fields of a ``str.format`` template."""
    return set(_FIELD.findall(text))


def load_glossary(path: Path | None = None) -> list[dict[str, str]]:
    with open(path or GLOSSARY, encoding="utf-8", newline="") as fp:
        return [row for row in csv.DictReader(fp) if row.get("en") and not row["en"].startswith("#")]


_CODE_OR_MATH = re.compile(r"`[^`]*`|\$\$.*?\$\$|\$[^$]*\$", re.S)


def glossary_problems(dom: str, cat: Catalog, glossary: list[dict[str, str]]) -> list[str]:
    """Banned variants in a translation, and enforced terms whose English appears in the msgid
    (outside code and formulas) but whose Chinese term is missing from the translation (unless the
    English words are kept as they are, e.g. in a paper's title)."""
    problems = []
    for m in cat:
        if not m.id or not _translated(m):
            continue
        ids = m.id if isinstance(m.id, (list, tuple)) else (m.id,)
        strs = m.string if isinstance(m.string, (list, tuple)) else (m.string,)
        english = _CODE_OR_MATH.sub(" ", " ".join(ids))
        chinese = " ".join(strs)
        for row in glossary:
            for bad in filter(None, (b.strip() for b in row.get("avoid", "").split(";"))):
                if bad in chinese:
                    problems.append(f"{dom}.po: “{bad}” in the translation of {ids[0][:60]!r}: "
                                    f"the glossary says “{row['zh']}” ({row['en']})")
            if row.get("enforce", "").strip().lower() in ("yes", "y", "1", "true"):
                rx = row["en_regex"] or re.escape(row["en"])
                # kept in English on purpose (a paper's title, a torch keyword): nothing to enforce
                kept = re.search(rx, _CODE_OR_MATH.sub(" ", chinese), re.I)
                if re.search(rx, english, re.I) and not kept and not any(z in chinese for z in row["zh"].split("/")):
                    problems.append(f"{dom}.po: {ids[0][:60]!r} says “{row['en']}” but its translation "
                                    f"lacks “{row['zh']}”")
    return problems


def mo_problems(dom: str, cat: Catalog) -> list[str]:
    if not mo_path(dom).exists():
        return [f"{dom}.mo is missing: run python tools/i18n.py compile"]
    with open(mo_path(dom), "rb") as fp:
        mo = gettext.GNUTranslations(fp)._catalog
    want = {}
    for m in cat:
        if not m.id or m.fuzzy or not _translated(m):
            continue
        base = m.id if isinstance(m.id, str) else m.id[0]
        if m.context:
            base = f"{m.context}\x04{base}"
        if isinstance(m.id, (list, tuple)):
            for i, s in enumerate(m.string):
                want[(base, i)] = s
        else:
            want[base] = m.string
    have = {k: v for k, v in mo.items() if k != ""}
    if have != want:
        return [f"{dom}.mo is out of date with {dom}.po: run python tools/i18n.py compile"]
    return []


def check(verbose: bool = False) -> list[str]:
    """Every catalog problem: untranslated or fuzzy entries, a string in the code that is not in
    its .po (or a .po entry the code no longer has), a .mo that differs from its .po, placeholders
    that differ between English and Chinese, glossary violations."""
    problems: list[str] = []
    glossary = load_glossary()
    by_domain = domain_files()
    for dom, files in by_domain.items():
        template = extract(dom, files)
        ids = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in template if m.id}
        path = po_path(dom)
        if not path.exists():
            if ids:
                problems.append(f"{dom}: {len(ids)} string(s) marked in {', '.join(sorted({str(f.relative_to(ROOT)) for f in files}))[:200]} "
                                f"but no {path.relative_to(ROOT)}: run python tools/i18n.py update {dom}")
            continue
        cat = _read(path)
        have = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in cat if m.id}
        for ctx, mid in sorted(ids - have, key=str):
            problems.append(f"{dom}.po lacks {mid[:70]!r} (new in the code): run python tools/i18n.py update {dom}")
        for ctx, mid in sorted(have - ids, key=str):
            problems.append(f"{dom}.po has {mid[:70]!r}, which the code no longer marks: "
                            f"run python tools/i18n.py update {dom}")
        for m in cat:
            if not m.id:
                continue
            first = m.id if isinstance(m.id, str) else m.id[0]
            if m.fuzzy:
                problems.append(f"{dom}.po: fuzzy (check the translation, then remove the fuzzy flag): {first[:70]!r}")
            elif not _translated(m):
                problems.append(f"{dom}.po: not translated: {first[:70]!r}")
            else:
                ids_ = m.id if isinstance(m.id, (list, tuple)) else (m.id,)
                strs = m.string if isinstance(m.string, (list, tuple)) else (m.string,)
                want = set().union(*(placeholders(i) for i in ids_))
                for s in strs:
                    if placeholders(s) != want and placeholders(s) != placeholders(ids_[-1]):
                        problems.append(f"{dom}.po: placeholders differ in {first[:60]!r}: "
                                        f"{sorted(want)} vs {sorted(placeholders(s))}")
        problems += mo_problems(dom, cat)
        problems += glossary_problems(dom, cat, glossary)
    for dom in set(catalog_domains()) - set(by_domain):
        problems.append(f"{dom}.po belongs to no source file (a renamed chapter?)")
    problems += binding_problems(by_domain)
    problems += shadow_problems([f for files in by_domain.values() for f in files])
    return problems


def _stores_underscore(node: ast.AST) -> list[int]:
    """Lines where ``_`` is assigned in this scope (not in nested functions or comprehensions)."""
    lines = []
    stack = list(ast.iter_child_nodes(node))
    while stack:
        n = stack.pop()
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.ListComp,
                          ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            continue
        if isinstance(n, ast.Name) and n.id == "_" and isinstance(n.ctx, ast.Store):
            lines.append(n.lineno)
        stack.extend(ast.iter_child_nodes(n))
    return lines


def _calls_underscore(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "_" for n in ast.walk(node))


def shadow_problems(files: list[Path]) -> list[str]:
    """``_`` reassigned where it is the translation function: ``for _ in …`` or ``a, _ = …`` in a
    function that also calls ``_()`` makes ``_`` local there (a crash or a wrong text), and at module
    level it replaces the translation function for the rest of the file."""
    out = []
    for f in files:
        tree = ast.parse(f.read_text(encoding="utf-8"))
        if not _calls_underscore(tree):
            continue
        rel = f.relative_to(ROOT)
        binding = {n.lineno for n in tree.body if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call)
                   and "domain" in ast.unparse(n.value.func)}
        for line in _stores_underscore(tree):
            if line not in binding:
                out.append(f"{rel}:{line}: `_` reassigned at module level: it is the translation function "
                           "here (use another name, e.g. `for _i in …`)")
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and _calls_underscore(fn):
                for line in _stores_underscore(fn):
                    out.append(f"{rel}:{line}: `_` assigned in {fn.name}(), which also calls _(): "
                               "use another name for the throwaway value")
    return out


def binding_problems(by_domain: dict[str, list[Path]]) -> list[str]:
    """A file must look its strings up in the domain they are extracted to (or in "optlab")."""
    out = []
    for dom, files in by_domain.items():
        for f in files:
            for d in declared_domains(f):
                if d not in (dom, SHARED) and f.name != "i18n.py":
                    out.append(f"{f.relative_to(ROOT)} binds domain({d!r}) but its strings are extracted to "
                               f"{dom!r}: see the chapter rule in tools/i18n.py")
            if dom != SHARED and SHARED in declared_domains(f) and dom not in declared_domains(f):
                out.append(f"{f.relative_to(ROOT)} binds domain('optlab') but belongs to {dom!r}: bind "
                           f"domain({dom!r}) (it falls back to 'optlab' by itself)")
    return out


# ----------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("command", choices=["update", "compile", "check", "untranslated", "domains"])
    ap.add_argument("domains", nargs="*", help="limit update/untranslated to these domains")
    args = ap.parse_args(argv)
    by_domain = domain_files()
    chosen = args.domains or list(by_domain)
    if args.command == "domains":
        for dom, files in by_domain.items():
            print(f"{dom}: " + ", ".join(str(f.relative_to(ROOT)) for f in files))
        return 0
    if args.command == "update":
        for dom in chosen:
            if dom not in by_domain:
                print(f"unknown domain {dom!r}; domains: {', '.join(by_domain)}", file=sys.stderr)
                return 2
            if not extract(dom, by_domain[dom]) and not po_path(dom).exists():
                continue
            n, missing = update(dom, by_domain[dom])
            print(f"{po_path(dom).relative_to(ROOT)}: {n} messages, {missing} to translate")
        return 0
    if args.command == "compile":
        for dom in catalog_domains():
            compile_domain(dom)
        return 0
    if args.command == "untranslated":
        for dom in chosen:
            if po_path(dom).exists():
                for m in _read(po_path(dom)):
                    if m.id and (m.fuzzy or not _translated(m)):
                        print(f"{dom}: {'fuzzy' if m.fuzzy else 'empty'}: {m.id!r}")
        return 0
    problems = check()
    for p in problems:
        print(p)
    print(f"{len(problems)} problem(s) in {len(catalog_domains())} catalog(s)", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
