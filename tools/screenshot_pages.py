"""Screenshot every page of the app in headless Chromium, whole page, to look at them.

    .venv/bin/python tools/screenshot_pages.py                 # 1400 px wide -> screenshots/
    .venv/bin/python tools/screenshot_pages.py --projector     # also 1024×768 (a classroom projector)
    .venv/bin/python tools/screenshot_pages.py --url http://127.0.0.1:8501 --only Loss --split 1400
    .venv/bin/python tools/screenshot_pages.py --projector --query lang=zh --query lang=zh&present=1

Pages are app.py and pages/*.py of --app-dir (default: the repository, or $OPTLAB_APP_DIR), at
Streamlit's classic URLs (pages/3_Learning_rate.py -> /Learning_rate). Without --url it starts
its own server on 127.0.0.1 and stops it afterwards. Files: screenshots/<page file stem>.png and
<stem>-<width>.png for the other sizes; the paths are printed, with any error box a page shows.
Needs Debian's Chromium (apt-get install chromium fonts-noto-color-emoji; $CHROMIUM overrides).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import serve  # tools/serve.py, beside this script

REPO_ROOT = Path(__file__).resolve().parents[1]
# Also the browser tests' settings (tests/browser/conftest.py imports them from here).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # required as root
    "--disable-gpu",
    "--disable-dev-shm-usage",  # Debian's wrapper skips it when /dev/shm is mounted twice
    # The machine has no internet: stop Chromium from trying to reach Google's services.
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PROJECTOR = (1024, 768)  # a classroom projector's screen: --projector shoots this size too
# Before its first run the app's script state reads "initial", so "notRunning" means a run is done.
APP_IDLE = ('[data-testid="stApp"][data-test-connection-state="CONNECTED"]'
            '[data-test-script-state="notRunning"]')
# Every Plotly chart has drawn, and no lazy-loaded widget still shows its skeleton placeholder.
CHARTS_DRAWN_JS = """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
    .every(c => c.querySelector('.js-plotly-plot .main-svg'))
    && !document.querySelector('[data-testid="stApp"] [data-testid="stSkeleton"]')"""
SETTLE_JS = """([quietMs, capMs]) => new Promise(resolve => {
    // After the skeletons are gone, components still mount and Plotly lays out: wait for quiet.
    // Resolve once the app's DOM has been quiet for quietMs (at most capMs in all).
    const root = document.querySelector('[data-testid="stApp"]') || document.body;
    let timer;
    const done = () => { obs.disconnect(); clearTimeout(cap); resolve(true); };
    const obs = new MutationObserver(() => { clearTimeout(timer); timer = setTimeout(done, quietMs); });
    const cap = setTimeout(done, capMs);
    obs.observe(root, {subtree: true, childList: true, attributes: true, characterData: true});
    timer = setTimeout(done, quietMs);
})"""
_PAGE_FILENAME = re.compile(r"([0-9]*)[_ -]*(.*)\.py")


def page_files(app_dir: Path) -> list[str]:
    def key(p: Path):
        number, label = _PAGE_FILENAME.fullmatch(p.name).groups()
        return (float(number) if number else float("inf"), label.lower())

    pages = [p for p in (app_dir / "pages").glob("*.py")
             if not p.name.startswith(".") and p.name != "__init__.py"]  # Streamlit's own rule
    return ["app.py"] + [f"pages/{p.name}" for p in sorted(pages, key=key)]


def url_path(page_file: str) -> str:
    if "/" not in page_file:
        return ""
    from streamlit.source_util import page_icon_and_name

    return page_icon_and_name(Path(page_file))[1]


def start_server(app_dir: Path) -> tuple[subprocess.Popen, str]:
    return serve.start_server(app_dir, Path(tempfile.mkdtemp(prefix="optlab-shots-")) / "server.log")


stop_server = serve.stop_server


def shoot(browser, url: str, width: int, height: int, path: Path, timeout_ms: float,
          split: int = 0) -> tuple[list[str], list[Path]]:
    """Open url in a fresh session, wait for the page to finish, save a whole-page PNG (and, with
    split > 0, the same page cut into parts `split` px tall, easier to read than one tall image).
    Returns the texts of the error boxes shown and the paths written."""
    ctx = browser.new_context(viewport={"width": width, "height": height})
    try:
        page = ctx.new_page()
        page.goto(url, timeout=timeout_ms)
        page.wait_for_selector(APP_IDLE, timeout=timeout_ms)
        page.wait_for_function(CHARTS_DRAWN_JS, timeout=timeout_ms)
        page.evaluate(SETTLE_JS, [300, 5_000])
        # Streamlit scrolls inside stMain, which full_page cannot see: grow the window instead.
        full = page.evaluate(
            """() => { const m = document.querySelector('[data-testid="stMain"]');
                       return m ? m.scrollHeight : document.body.scrollHeight; }"""
        )
        total = min(max(height, full), 12_000)
        page.set_viewport_size({"width": width, "height": total})
        page.evaluate(SETTLE_JS, [300, 3_000])
        page.screenshot(path=str(path))
        paths = [path]
        for k, y in enumerate(range(0, total, split) if split > 0 and total > split else []):
            part = path.with_name(f"{path.stem}-part{k + 1}.png")
            page.screenshot(path=str(part),
                            clip={"x": 0, "y": y, "width": width, "height": min(split, total - y)})
            paths.append(part)
        return page.locator('[data-testid="stException"]').all_inner_texts(), paths
    finally:
        ctx.close()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", help="a running app (default: start one on 127.0.0.1)")
    ap.add_argument("--app-dir", type=Path, default=Path(os.environ.get("OPTLAB_APP_DIR") or REPO_ROOT))
    ap.add_argument("--out", type=Path, default=REPO_ROOT / "screenshots")
    ap.add_argument("--width", type=int, default=1400)
    ap.add_argument("--height", type=int, default=1000, help="window height (pages are shot whole)")
    ap.add_argument("--projector", action="store_true",
                    help=f"also shoot at {PROJECTOR[0]}×{PROJECTOR[1]}, a classroom projector")
    ap.add_argument("--only", help="only pages whose file name contains this text")
    ap.add_argument("--split", type=int, default=0, metavar="PX",
                    help="also save each page cut into parts PX tall (e.g. 1400)")
    ap.add_argument("--timeout", type=float, default=90, help="seconds per page")
    ap.add_argument("--query", action="append", default=[], metavar="Q",
                    help="also shoot every page with this address query (e.g. 'lang=zh', "
                         "'lang=zh&present=1', 'sec=momentum'); repeatable. Files get the query "
                         "in their name: <stem>-lang-zh-present-1.png")
    args = ap.parse_args(argv)

    chromium = shutil.which(os.environ.get("CHROMIUM") or "/usr/bin/chromium")
    if chromium is None:
        raise SystemExit("Chromium not found: apt-get install chromium fonts-noto-color-emoji "
                         "(or set CHROMIUM); do not run `playwright install`")
    app_dir = args.app_dir.resolve()
    files = [f for f in page_files(app_dir) if not args.only or args.only.lower() in f.lower()]
    if not (app_dir / "app.py").is_file() or not files:
        raise SystemExit(f"no pages to shoot in {app_dir}")
    sizes = [(args.width, args.height)]
    if args.projector and (args.width, args.height) != PROJECTOR:
        sizes.append(PROJECTOR)
    args.out.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    proc = None
    url = (args.url or "").rstrip("/")
    if not url:
        proc, url = start_server(app_dir)
    bad = 0
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            try:
                for f, (w, h), q in ((f, size, q) for f in files for q in [""] + args.query
                                for size in sizes):
                    tag = re.sub(r"[^A-Za-z0-9]+", "-", q).strip("-")
                    name = Path(f).stem + (f"-{tag}" if tag else "") + ("" if (w, h) == sizes[0] else f"-{w}")
                    path = args.out / f"{name}.png"
                    t0 = time.perf_counter()
                    errors, paths = shoot(browser, f"{url}/{url_path(f)}" + (f"?{q}" if q else ""), w, h,
                                          path, args.timeout * 1000, args.split)
                    note = f"  EXCEPTION: {errors[0].splitlines()[0]}" if errors else ""
                    bad += bool(errors)
                    print(f"{path}  ({f}, {w} px, {time.perf_counter() - t0:.1f} s){note}")
                    for extra in paths[1:]:
                        print(f"  {extra}")
            finally:
                browser.close()
    finally:
        if proc is not None:
            stop_server(proc)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
