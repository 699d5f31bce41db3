"""Local stand-ins for the CDN files that the rendered book loads, for tests/test_site.py.

.ci/system-setup unpacks pinned npm packages into .cache/web/npm/<package>@<version>/
(e.g. .cache/web/npm/mathjax@3.2.2/es5/tex-mml-chtml.js). ``local_file(url)`` maps a CDN URL
onto that folder generically, by package, version range and path, so that whatever a script
loads relative to itself (MathJax's fonts and components, the widget manager's chunks) resolves
too. A CDN URL whose package is not cached raises ``MissingAsset``, naming what to add to
.ci/system-setup.
"""
import json
import mimetypes
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

REPO = Path(__file__).resolve().parent.parent
WEB = REPO / ".cache" / "web" / "npm"

# Hosts that serve npm packages as /<prefix><package>@<range>/<path>.
NPM_CDNS = {"cdn.jsdelivr.net": "/npm/", "unpkg.com": "/"}
# cdnjs serves /ajax/libs/<library>/<version>/<file>: its library names and file names differ from npm's.
CDNJS_HOST = "cdnjs.cloudflare.com"
CDNJS = {
    # library: (npm package, {cdnjs file: file in the npm package})
    "require.js": ("requirejs", {"require.min.js": "require.js"}),
}

CONTENT_TYPES = {
    ".js": "application/javascript; charset=utf-8",
    ".mjs": "application/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".eot": "application/vnd.ms-fontobject",
}


class MissingAsset(LookupError):
    """A CDN file that .cache/web does not hold."""


def content_type(path):
    path = Path(path)
    return CONTENT_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def _version_key(version):
    return tuple(int(part) for part in re.findall(r"\d+", version.split("-")[0]))


def cached_versions(package):
    """{version: folder} of a package's unpacked copies in .cache/web/npm."""
    parent = WEB / package.rsplit("/", 1)[0] if "/" in package else WEB
    name = package.rsplit("/", 1)[-1]
    found = {}
    if parent.is_dir():
        for folder in parent.glob(f"{name}@*"):
            if (folder / "package.json").is_file():
                found[folder.name[len(name) + 1:]] = folder
    return found


def satisfies(version, spec):
    """Whether a cached version fits a CDN version spec: '', '*', 'latest', '3', '3.2', '3.2.2', '^1.0.1', '~1.0.1'."""
    spec = spec.strip()
    if spec in ("", "*", "latest", "x"):
        return True
    have = _version_key(version)
    if spec[0] in "^~":
        want = _version_key(spec[1:])
        if not want or have < want:
            return False
        if spec[0] == "~":
            return have[:2] == want[:2]
        # ^: the first non-zero part is fixed
        fixed = next((i for i, part in enumerate(want) if part != 0), len(want) - 1) + 1
        return have[:fixed] == want[:fixed]
    if re.fullmatch(r"\d+(\.\d+){0,2}(\.x)?", spec):
        want = _version_key(spec.removesuffix(".x"))
        return have[:len(want)] == want
    return version == spec


def _package_file(package, spec, path, url):
    versions = cached_versions(package)
    matching = sorted((v for v in versions if satisfies(v, spec)), key=_version_key)
    if not matching:
        have = ", ".join(sorted(versions)) or "none"
        raise MissingAsset(f"{url}: no cached copy of npm package {package}@{spec or 'latest'} "
                           f"(cached versions: {have}); add it to PACKAGES in .ci/system-setup")
    folder = matching[-1]
    root = versions[folder]
    if not path:  # the package's entry point, as jsdelivr/unpkg choose it
        meta = json.loads((root / "package.json").read_text())
        path = meta.get("jsdelivr") or meta.get("unpkg") or meta.get("browser") or meta.get("main") or "index.js"
        if not isinstance(path, str):
            path = meta.get("main") or "index.js"
    target = (root / path.removeprefix("./").lstrip("/")).resolve()
    if root.resolve() not in target.parents:
        raise MissingAsset(f"{url}: path leaves the package folder")
    if not target.is_file() and target.with_suffix(target.suffix + ".js").is_file():
        target = target.with_suffix(target.suffix + ".js")  # require.js asks for modules without .js
    if not target.is_file():
        raise MissingAsset(f"{url}: {package}@{folder} has no file {path}")
    return target


def is_cdn(url):
    """Whether the URL is on one of the CDNs that local_file knows."""
    host = urlsplit(url).hostname or ""
    return host in NPM_CDNS or host == CDNJS_HOST


def local_file(url):
    """The local copy of a CDN URL; MissingAsset if it is a CDN URL we have no copy of, None if not a CDN URL."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    path = unquote(parts.path)
    if host in NPM_CDNS:
        prefix = NPM_CDNS[host]
        if not path.startswith(prefix):
            raise MissingAsset(f"{url}: not an npm package URL")
        rest = path[len(prefix):]
        match = re.fullmatch(r"((?:@[^/@]+/)?[^/@]+)(?:@([^/]*))?(?:/(.*))?", rest)
        if not match:
            raise MissingAsset(f"{url}: cannot read the package name")
        package, spec, file = match.group(1), match.group(2) or "", match.group(3) or ""
        return _package_file(package, spec, file, url)
    if host == CDNJS_HOST:
        match = re.fullmatch(r"/ajax/libs/([^/]+)/([^/]+)/(.+)", path)
        if not match or match.group(1) not in CDNJS:
            raise MissingAsset(f"{url}: unknown cdnjs library; map it to an npm package in tests/site_assets.py")
        library, version, file = match.groups()
        package, renames = CDNJS[library]
        return _package_file(package, version, renames.get(file, file), url)
    return None


def substituted(url):
    """Whether local_file(url) is another build of the file than the CDN's (cdnjs's minified
    require.min.js is served as npm's require.js), so that a Subresource Integrity hash of the
    CDN's bytes cannot match it."""
    parts = urlsplit(url)
    if parts.hostname != CDNJS_HOST:
        return False
    match = re.fullmatch(r"/ajax/libs/([^/]+)/([^/]+)/(.+)", unquote(parts.path))
    return bool(match and match.group(1) in CDNJS and match.group(3) in CDNJS[match.group(1)][1])


def drop_substituted_integrity(html):
    """The page without the integrity attribute of the <script> tags whose file is substituted()."""
    def fix(tag):
        tag = tag.group(0)
        src = re.search(r'\bsrc="([^"]+)"', tag)
        if src and substituted(src.group(1)):
            tag = re.sub(r'\s+integrity="[^"]*"', "", tag)
        return tag
    return re.sub(r"<script\b[^>]*>", fix, html)


if __name__ == "__main__":  # python -m tests.site_assets URL...: where each URL is served from
    import sys
    for arg in sys.argv[1:]:
        try:
            print(arg, "->", local_file(arg))
        except MissingAsset as error:
            print("MISSING", error)
