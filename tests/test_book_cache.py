"""The book build's cache (issue 11): fast rebuilds, yet no stored output can hide a failing page.

The book executes its pages through Jupyter Book's cache (`execute_notebooks: cache`), so an
author's rebuild re-runs only the pages whose code changed. CI builds with `.ci/build-book`,
which deletes `_build` (and the cache in it) first. These tests build a one-page book with the
course's execution settings: a page whose text changed but not its code is rebuilt without
running it again, and a page changed to fail fails the next build even though the cache holds a
good run of its earlier version.
"""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import yaml

from tests import harness

CONFIG = yaml.safe_load((harness.REPO / "_config.yml").read_text())


def test_ci_builds_from_clean_with_all_pages_and_warnings_as_errors():
    assert CONFIG["execute"]["execute_notebooks"] == "cache"
    script = (harness.REPO / ".ci" / "build-book").read_text()
    clean, build = script.index("rm -rf _build"), script.index("jupyter-book build --all -W")
    assert clean < build, ".ci/build-book must delete _build (and its cache) before it builds"


def _book(folder, code, title="Page"):
    folder.mkdir(exist_ok=True)
    config = {"title": "cache test", "only_build_toc_files": True,
              "execute": {key: CONFIG["execute"][key] for key in ("execute_notebooks", "timeout", "allow_errors")},
              "sphinx": {"config": {"nb_output_stderr": "warn"}}}
    (folder / "_config.yml").write_text(yaml.safe_dump(config))
    (folder / "_toc.yml").write_text("format: jb-book\nroot: page\n")
    page = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"# {title}"),
                                           nbformat.v4.new_code_cell(code)])
    page.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(page, str(folder / "page.ipynb"))


def _build(folder):
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    return subprocess.run([str(jupyter_book), "build", "-W", "--keep-going", str(folder)],
                          capture_output=True, text=True, timeout=300)


def _printed_pid(book):
    html = (book / "_build" / "html" / "page.html").read_text()
    return re.search(r"run (\d+)", html).group(1)


def test_a_rebuild_reuses_the_run_of_unchanged_code_and_still_fails_a_page_that_now_fails(tmp_path):
    book = tmp_path / "book"
    _book(book, "import os\nprint('run', os.getpid())")
    first = _build(book)
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    pid = _printed_pid(book)
    _book(book, "import os\nprint('run', os.getpid())", title="Page, its text edited")  # same code
    second = _build(book)
    assert second.returncode == 0
    assert "its text edited" in (book / "_build" / "html" / "page.html").read_text(), "the page was not rebuilt"
    assert _printed_pid(book) == pid, "a page whose code did not change was run again"
    _book(book, "raise ValueError('this page is broken now')")
    third = _build(book)
    assert third.returncode != 0, "a page that fails must fail the build, cache or not"
    assert "Executing notebook failed" in third.stdout + third.stderr
    shutil.rmtree(book / "_build", ignore_errors=True)
