"""The rendered book, opened page by page in a headless Chromium.

The book must be built first (.ci/build-book writes _build/html) and .ci/system-setup must
have installed /usr/bin/chromium and the local copies of the CDN files in .cache/web.
Every page of the site is served from 127.0.0.1 and visited once; the browser reaches nothing
else: the CDN files come from .cache/web (tests/site_assets.py), the Colab badge from a local
SVG, and any other outside request is aborted and reported. The visits are collected in one
module-scoped fixture; each test below checks one property over all pages.

Environment: NEURON2GPT_SITE (default: _build/html of this repository) is the built site;
NEURON2GPT_SITE_SOURCE (default: the folder that holds its _build) the book it was built from,
whose _toc.yml and notebooks say which pages are notebooks.

    python -m pytest tests/test_site.py
    NEURON2GPT_SITE=/tmp/sitetest/_build/html python -m pytest tests/test_site.py
"""
import functools
import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from autograder.book import colab_url
from tests import site_assets

REPO = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("NEURON2GPT_SITE") or REPO / "_build" / "html").resolve()
SOURCE = Path(os.environ.get("NEURON2GPT_SITE_SOURCE") or SITE.parent.parent).resolve()
CHROMIUM = os.environ.get("NEURON2GPT_CHROMIUM") or "/usr/bin/chromium"
# Debian's Chromium as root on a machine without network (see .ci/system-setup); Playwright
# passes a fresh --user-data-dir itself (launch_persistent_context below).
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]

NOT_PAGES = {"search.html", "genindex.html", "py-modindex.html"}  # Sphinx's generated pages
NOT_PAGE_DIRS = {"_static", "_sources", "_images"}
CHAPTER_PAGES = re.compile(r"book/part\d+/[^/]+\.html")  # each must show at least one figure
COLAB = "https://colab.research.google.com"
COLAB_BADGE = f"{COLAB}/assets/colab-badge.svg"
BADGE_SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="117" height="20">'
             b'<rect width="117" height="20" rx="3" fill="#f9ab00"/>'
             b'<text x="8" y="14" font-size="11" font-family="sans-serif">Open in Colab</text></svg>')
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# Errors of the toolchain itself, the same on every Jupyter Book 1 page and harmless to a reader.
# Keep this short: anything else in the console fails test_pages_load_without_errors.
KNOWN_PAGE_ERRORS = [
    # Jupyter Book 1.0.4 writes sphinx-thebe's inline config (`const THEBE_JS_URL = ...`) into <head>
    # twice; the second copy throws. Thebe (live code) is not used by this book.
    re.compile(r"^Identifier 'THEBE_JS_URL' has already been declared$"),
    # @jupyter-widgets/html-manager 1.0.6 typesets widget labels with MathJax 2's MathJax.Hub.Queue;
    # the book loads MathJax 3, which has no Hub. The label is shown, as plain text.
    re.compile(r"^Cannot read properties of undefined \(reading 'Queue'\)$"),
]
# Same-site files that the toolchain asks for and never ships: html-manager 1.0.6 looks for its
# Font Awesome fonts next to the page (<page folder>/@jupyter-widgets/html-manager/dist/<hash>.woff2),
# which 404s on the published site too; the theme ships its own Font Awesome.
KNOWN_MISSING_FILES = re.compile(r"/@jupyter-widgets/html-manager/dist/[0-9a-f]{20}\.(woff2?|ttf|eot|svg)$")
KNOWN_CONSOLE_ERRORS = [
    # pydata-sphinx-theme, on the first page of a fresh profile (no colour mode in localStorage yet).
    re.compile(r"^Got invalid theme mode: .*Resetting to auto\.$"),
]
MATHJAX_TIMEOUT_MS = 30_000
WIDGET_TIMEOUT_MS = 20_000


# ---------------------------------------------------------------- what the site should hold

def toc_entries():
    """The 'root' and 'file' entries of _toc.yml, without suffix, e.g. 'book/part1/01_neuron'."""
    toc = yaml.safe_load((SOURCE / "_toc.yml").read_text())
    found = []

    def walk(node):
        if isinstance(node, dict):
            for key in ("root", "file"):
                if isinstance(node.get(key), str):
                    found.append(re.sub(r"\.(ipynb|md|rst)$", "", node[key]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(toc)
    return list(dict.fromkeys(found))


def notebook_pages():
    """{built page: notebook path in the repository} for the toc entries that are notebooks."""
    return {f"{entry}.html": f"{entry}.ipynb" for entry in toc_entries() if (SOURCE / f"{entry}.ipynb").is_file()}


def redirect_target(html):
    match = re.search(r'<meta\s+http-equiv="refresh"\s+content="\d+;\s*url=([^"]+)"', html, re.I)
    return match.group(1) if match else None


def site_pages():
    """Every HTML page of the built site (relative paths), but Sphinx's search and index pages."""
    pages = []
    for path in sorted(SITE.rglob("*.html")):
        rel = path.relative_to(SITE).as_posix()
        if rel in NOT_PAGES or path.relative_to(SITE).parts[0] in NOT_PAGE_DIRS:
            continue
        pages.append(rel)
    return pages


# ---------------------------------------------------------------- serving and visiting

class QuietHandler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".js": "application/javascript",
                      ".mjs": "application/javascript", ".svg": "image/svg+xml", ".woff2": "font/woff2"}

    def log_message(self, *args):
        pass


@dataclass
class Visit:
    page: str
    status: int = 0
    redirect: str = None       # the target of a meta-refresh page (not opened in the browser)
    console_errors: list = field(default_factory=list)
    page_errors: list = field(default_factory=list)
    failed_requests: list = field(default_factory=list)  # same-site resources that did not load
    uses_mathjax: bool = False
    mathjax_problem: str = None
    has_widget_state: bool = False
    widget_problem: str = None
    facts: dict = field(default_factory=dict)  # what COLLECT returned


# Run in the page once it has settled; everything the tests need from the DOM.
COLLECT = r"""
async () => {
  const article = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
  const imgs = Array.from(article.querySelectorAll('img'));
  imgs.forEach(img => { img.loading = 'eager'; });
  await Promise.all(imgs.map(img => img.complete ? null : new Promise(done => {
    img.addEventListener('load', done); img.addEventListener('error', done); setTimeout(done, 10000);
  })));
  const prose = article.cloneNode(true);
  prose.querySelectorAll('pre, code, script, style, textarea, mjx-container, .highlight').forEach(e => e.remove());
  const text = prose.textContent;
  const raw = [];
  for (const m of text.matchAll(/\$\$|\\\(|\\\[|\\begin\{/g)) {
    raw.push(text.slice(Math.max(0, m.index - 30), m.index + 40).replace(/\s+/g, ' '));
  }
  const colabLinks = Array.from(document.querySelectorAll('a[href^="https://colab.research.google.com/"]'));
  return {
    images: imgs.map(img => ({src: img.getAttribute('src'), width: img.naturalWidth})),
    mathElements: document.querySelectorAll('.math').length,
    mjx: document.querySelectorAll('mjx-container').length,
    untypeset: Array.from(document.querySelectorAll('.math')).filter(e => !e.querySelector('mjx-container'))
                 .map(e => e.textContent.trim().slice(0, 60)),
    mathErrors: Array.from(document.querySelectorAll('mjx-merror'))
                 .map(e => e.getAttribute('data-mjx-error') || e.textContent.slice(0, 60)),
    rawMath: raw,
    widgets: document.querySelectorAll('.widget-slider, .jupyter-widgets').length,
    launch: colabLinks.filter(a => !article.contains(a)).map(a => a.href),
    badges: colabLinks.filter(a => article.contains(a) && a.querySelector('img[src*="colab-badge"]')).map(a => a.href),
    links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
    ids: Array.from(document.querySelectorAll('[id], a[name]')).map(e => e.id || e.getAttribute('name')),
  };
}
"""


def visit_all(base, pages):
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    outside = []     # (page, url) of aborted requests to other hosts
    missing = []     # (page, message) of CDN files without a local copy
    visits = {}
    current = {"page": None}

    @functools.lru_cache(maxsize=None)
    def asset(path):
        return path.read_bytes()

    def route(route):
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return route.continue_()
        if parts.hostname in LOOPBACK:
            if route.request.resource_type != "document":
                return route.continue_()
            # The page as built, but for the SRI hash of a CDN file served from another build.
            response = route.fetch()
            html = response.text()
            fixed = site_assets.drop_substituted_integrity(html)
            return route.fulfill(response=response, body=fixed) if fixed != html else route.fulfill(response=response)
        if url.split("?")[0] == COLAB_BADGE:
            return route.fulfill(status=200, content_type="image/svg+xml", body=BADGE_SVG)
        try:
            local = site_assets.local_file(url)
        except site_assets.MissingAsset as error:
            missing.append((current["page"], str(error)))
            return route.abort()
        if local is None:
            outside.append((current["page"], url))
            return route.abort()
        return route.fulfill(status=200, body=asset(local), headers={
            "Content-Type": site_assets.content_type(local), "Access-Control-Allow-Origin": "*"})

    profile = tempfile.mkdtemp(prefix="site-test-chromium-")
    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
            context.route("**/*", route)
            for rel in pages:
                visit = visits[rel] = Visit(rel)
                html = (SITE / rel).read_text(errors="replace")
                visit.redirect = redirect_target(html)
                if visit.redirect:
                    visit.status = 200
                    continue
                visit.uses_mathjax = bool(re.search(r'<script[^>]+src="[^"]*mathjax', html, re.I))
                visit.has_widget_state = "application/vnd.jupyter.widget-state+json" in html
                current["page"] = rel
                page = context.new_page()

                def on_console(message, visit=visit):
                    if message.type != "error" or any(known.search(message.text) for known in KNOWN_CONSOLE_ERRORS):
                        return
                    where = message.location.get("url", "") if message.location else ""
                    if KNOWN_MISSING_FILES.search(urlsplit(where).path):
                        return
                    if where and (urlsplit(where).hostname not in LOOPBACK) and not site_assets.is_cdn(where) \
                            and "Failed to load resource" in message.text:
                        return  # an aborted outside request: reported by test_no_unexpected_external_requests
                    visit.console_errors.append(f"{message.text}  [{where}:{message.location.get('lineNumber', '')}]"
                                                if where else message.text)

                def on_response(response, visit=visit):
                    parts = urlsplit(response.url)
                    if parts.hostname in LOOPBACK and response.status >= 400 and not KNOWN_MISSING_FILES.search(parts.path):
                        visit.failed_requests.append(f"{response.status} {response.url}")

                def on_failed(request, visit=visit):
                    parts = urlsplit(request.url)
                    if parts.hostname in LOOPBACK and not KNOWN_MISSING_FILES.search(parts.path):
                        visit.failed_requests.append(f"{request.failure} {request.url}")

                page.on("console", on_console)
                def on_page_error(error, visit=visit):
                    if not any(known.search(str(error)) for known in KNOWN_PAGE_ERRORS):
                        visit.page_errors.append(str(error))

                page.on("pageerror", on_page_error)
                page.on("response", on_response)
                page.on("requestfailed", on_failed)
                try:
                    response = page.goto(f"{base}/{rel}", wait_until="load")
                    visit.status = response.status if response else 0
                    if visit.uses_mathjax:
                        try:
                            page.wait_for_function(
                                "() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                                timeout=MATHJAX_TIMEOUT_MS)
                            page.evaluate("() => MathJax.startup.promise.then(() => true)")
                        except (PlaywrightTimeout, PlaywrightError) as error:
                            visit.mathjax_problem = f"MathJax did not finish: {error}".splitlines()[0]
                    if visit.has_widget_state:
                        try:
                            page.wait_for_selector(".widget-slider, .jupyter-widgets", state="attached",
                                                   timeout=WIDGET_TIMEOUT_MS)
                        except PlaywrightTimeout:
                            visit.widget_problem = f"no widget rendered within {WIDGET_TIMEOUT_MS / 1000:.0f} s"
                    try:
                        page.wait_for_load_state("networkidle", timeout=10_000)
                    except PlaywrightTimeout:
                        pass
                    visit.facts = page.evaluate(COLLECT)
                except PlaywrightError as error:
                    visit.page_errors.append(f"could not open the page: {error}".splitlines()[0])
                finally:
                    page.close()
            context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return visits, outside, missing


@pytest.fixture(scope="module")
def site():
    if not (SITE / "index.html").is_file():
        pytest.fail(f"no built book at {SITE} (no index.html): run `bash .ci/build-book` first "
                    f"(or point NEURON2GPT_SITE at a built _build/html)", pytrace=False)
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"no Chromium at {CHROMIUM}: run `bash .ci/system-setup` first", pytrace=False)
    if not site_assets.WEB.is_dir():
        pytest.fail(f"no local CDN copies in {site_assets.WEB}: run `bash .ci/system-setup` first", pytrace=False)
    pages = site_pages()
    if not pages:
        pytest.fail(f"no HTML pages in {SITE}", pytrace=False)
    return browse(pages)


def browse(pages):
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(SITE)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        visits, outside, missing = visit_all(base, pages)
    finally:
        server.shutdown()
        server.server_close()
    return {"base": base, "visits": visits, "outside": outside, "missing": missing}


def report(title, problems):
    return f"{title} ({len(problems)}):\n" + "\n".join(f"  {p}" for p in problems)


def opened(site):
    """The visits of real pages (not meta-refresh redirects)."""
    return [v for v in site["visits"].values() if not v.redirect]


# ---------------------------------------------------------------- the checks

def test_every_toc_entry_is_a_page(site):
    missing = [f"{entry} -> {entry}.html" for entry in toc_entries() if f"{entry}.html" not in site["visits"]]
    assert not missing, report(f"_toc.yml entries with no page in {SITE}", missing)


def test_pages_load_without_errors(site):
    problems = []
    for v in site["visits"].values():
        if v.status != 200:
            problems.append(f"{v.page}: HTTP {v.status}")
        problems += [f"{v.page}: console error: {m}" for m in v.console_errors]
        problems += [f"{v.page}: uncaught exception: {m}" for m in v.page_errors]
        problems += [f"{v.page}: failed to load: {m}" for m in v.failed_requests]
    assert not problems, report("pages with load problems", problems)


def test_no_unexpected_external_requests(site):
    problems = [f"{page}: {message}" for page, message in site["missing"]]
    problems += [f"{page}: aborted request to {url}" for page, url in site["outside"]]
    assert not problems, report(
        "requests to the outside that the site test does not serve (a new external dependency? "
        "add a local copy to .ci/system-setup, or remove it from the book)", problems)


def test_math_is_typeset(site):
    problems = []
    for v in opened(site):
        facts = v.facts
        if facts.get("mathElements"):  # Sphinx marks each formula class="math"; MathJax typesets those
            if not v.uses_mathjax:
                problems.append(f"{v.page}: has math but does not load MathJax")
            if v.mathjax_problem:
                problems.append(f"{v.page}: {v.mathjax_problem}")
            if not facts.get("mjx"):
                problems.append(f"{v.page}: has math but no <mjx-container> was rendered")
            problems += [f"{v.page}: math not typeset: {t!r}" for t in facts.get("untypeset", [])]
            problems += [f"{v.page}: MathJax error: {t!r}" for t in facts.get("mathErrors", [])]
        problems += [f"{v.page}: raw TeX left in the text: ...{t}..." for t in facts.get("rawMath", [])]
    assert not problems, report("math problems", problems)


def test_figures_load(site):
    problems = []
    for v in opened(site):
        images = v.facts.get("images", [])
        problems += [f"{v.page}: image did not load: {img['src']}" for img in images if not img["width"]]
        if CHAPTER_PAGES.fullmatch(v.page):
            figures = [img for img in images if "_images/" in (img["src"] or "") or (img["src"] or "").startswith("data:image")]
            if not figures:
                problems.append(f"{v.page}: a chapter page without any figure")
    assert not problems, report("figure problems", problems)


def test_widgets_render(site):
    problems = []
    for v in opened(site):
        if v.has_widget_state:
            if v.widget_problem:
                problems.append(f"{v.page}: saved widget state, but {v.widget_problem}")
            elif not v.facts.get("widgets"):
                problems.append(f"{v.page}: saved widget state, but no .widget-slider/.jupyter-widgets element")
    assert not problems, report("widgets that do not display", problems)


def test_colab_links(site):
    problems = []
    notebooks = notebook_pages()
    assert notebooks, f"no notebook pages found from {SOURCE / '_toc.yml'}"
    for page, notebook in notebooks.items():
        v = site["visits"].get(page)
        if v is None:
            continue  # reported by test_every_toc_entry_is_a_page
        want = colab_url(notebook)
        launch = v.facts.get("launch", [])
        if want not in launch:
            problems.append(f"{page}: no Colab launch button to {want} (found: {launch or 'none'})")
        if notebook.startswith("exercises/"):
            badges = v.facts.get("badges", [])
            if not badges:
                problems.append(f"{page}: no 'Open in Colab' badge in the content")
            problems += [f"{page}: badge points at {href}, not {want}" for href in badges if href != want]
    assert not problems, report("Colab links", problems)


def test_internal_links(site):
    base = site["base"]
    visits = site["visits"]
    ids = {page: set(v.facts.get("ids", [])) for page, v in visits.items() if v.facts}
    targets = {}  # (source page, href) of each same-site link
    for v in visits.values():
        hrefs = list(v.facts.get("links", []))
        if v.redirect:
            hrefs.append(f"{base}/{(Path(v.page).parent / v.redirect).as_posix()}")
        for href in hrefs:
            parts = urlsplit(href)
            if parts.scheme not in ("http", "https") or parts.hostname not in LOOPBACK:
                continue
            targets.setdefault((v.page, href), None)
    broken = []
    for page, href in targets:
        parts = urlsplit(href)
        path = unquote(parts.path).lstrip("/")
        path = os.path.normpath(path).replace(os.sep, "/") if path else ""
        if path in ("", ".") or path.endswith("/") or (SITE / path).is_dir():
            path = f"{path.rstrip('/') + '/' if path not in ('', '.') else ''}index.html"
        file = SITE / path
        shown = href.replace(base + "/", "")
        if not file.is_file():
            broken.append(f"{page}: {shown} (no file {path})")
        elif parts.fragment and path in ids and unquote(parts.fragment) not in ids[path]:
            broken.append(f"{page}: {shown} (no id {parts.fragment!r} on {path})")
    assert not broken, report("broken internal links", sorted(broken))
