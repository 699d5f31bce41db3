"""Static checks of the notebooks that catch nbgrader traps before grading does."""
import re

import nbformat
import pytest

from tests import harness

BOOK_PAGES = sorted(p for p in (harness.REPO / "book").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
SOURCES = [harness.solution_notebook(a) for a in harness.assignments()]


def nbgrader_meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


@pytest.mark.parametrize("path", BOOK_PAGES + SOURCES, ids=lambda p: str(p.relative_to(harness.REPO)))
def test_notebook_is_valid_clean_and_runs_on_python3(path):
    nb = nbformat.read(str(path), as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", "kernelspec must be python3 (Colab)"
    with_outputs = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not with_outputs, f"commit notebooks without outputs; cells {with_outputs} have some"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.parent.name)
def test_graded_cells_are_well_formed(path):
    nb = nbformat.read(str(path), as_version=4)
    ids = [nbgrader_meta(c)["grade_id"] for c in nb.cells if nbgrader_meta(c)]
    assert len(ids) == len(set(ids)), "grade_ids must be unique"
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if not meta:
            continue
        gid = meta["grade_id"]
        if meta.get("solution") and cell.cell_type == "code":
            # without markers nbgrader replaces the whole cell, signature included
            assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source, gid
        if meta.get("grade") and not meta.get("solution"):
            assert meta.get("locked"), f"test cell {gid} must be locked"
            assert meta.get("points", 0) > 0, f"test cell {gid} has no points"
            last = [line for line in cell.source.strip().splitlines() if not line.startswith("### ")][-1]
            # a bare number as the last expression would become partial credit
            assert last.startswith("print("), f"test cell {gid} must end with a print(...) line"
        if meta.get("grade") and not meta.get("solution"):
            assert "### BEGIN HIDDEN TESTS" in cell.source, f"test cell {gid} has no hidden tests"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.parent.name)
def test_markers_appear_only_in_the_cells_they_belong_to(path):
    # nbgrader acts on these markers wherever they appear: in prose they break generation,
    # outside a test cell a hidden block would reach students.
    for index, cell in enumerate(nbformat.read(str(path), as_version=4).cells):
        meta = nbgrader_meta(cell)
        if not meta.get("solution"):
            assert "BEGIN SOLUTION" not in cell.source, f"cell {index} mentions BEGIN SOLUTION but is no answer cell"
        if not (meta.get("grade") and not meta.get("solution")):
            assert "BEGIN HIDDEN TESTS" not in cell.source, f"cell {index} has hidden tests but is no test cell"


def test_part_one_has_a_manually_graded_answer():
    written = [nbgrader_meta(c)["grade_id"] for path in SOURCES for c in nbformat.read(str(path), as_version=4).cells
               if c.cell_type == "markdown" and nbgrader_meta(c).get("grade") and nbgrader_meta(c).get("solution")]
    assert written, "Part I needs at least one manually graded written answer"


CLOCK = re.compile(r"\btime\.(time|perf_counter|monotonic|process_time)\b|\bdatetime\.now\b|\btimeit\b")


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.parent.name)
def test_no_test_cell_reads_the_clock(path):
    # A check on seconds fails a correct answer on a slow or busy machine (the instructor's, CI's):
    # tests count work (steps, calls) instead, and timing belongs in tests/bench.py.
    for cell in nbformat.read(str(path), as_version=4).cells:
        meta = nbgrader_meta(cell)
        if meta.get("grade") and not meta.get("solution"):
            found = CLOCK.search(cell.source)
            assert not found, f"test cell {meta['grade_id']} reads the clock ({found.group(0)})"


COLAB_LINK = re.compile(r"https://colab\.research\.google\.com/github/[^\s)\"'>]+")
RELATIVE_EXERCISE_LINK = re.compile(r"\]\((?:\.\./|\./)*exercises/[^)]*\)")


@pytest.mark.parametrize("path", BOOK_PAGES, ids=lambda p: str(p.relative_to(harness.REPO)))
def test_links_to_notebooks_work_in_colab_too(path):
    # A chapter opened in Colab has no neighbours: a relative link to an exercise breaks there.
    # Links go to Colab, built from _config.yml's repository (so they follow a change of it).
    from autograder.book import colab_url
    for index, cell in enumerate(nbformat.read(str(path), as_version=4).cells):
        if cell.cell_type != "markdown":
            continue
        relative = RELATIVE_EXERCISE_LINK.search(cell.source)
        assert not relative, f"cell {index}: relative link {relative.group(0)}; use the Colab link"
        for url in COLAB_LINK.findall(cell.source):
            target = url.split("/blob/", 1)[-1].split("/", 1)[-1]
            assert (harness.REPO / target).is_file(), f"cell {index}: {url} names no notebook of this repository"
            assert url == colab_url(target), f"cell {index}: {url} is not {colab_url(target)} (_config.yml)"


def test_the_benchmark_page_times_every_chapter_and_exercise_and_can_be_updated_in_part():
    from tests import bench
    rows = bench.rows_on_the_page()
    expected = [str(p.relative_to(harness.REPO)) for p in bench.chapter_pages()]
    expected += [f"solutions/{a} (solutions filled in)" for a in harness.assignments()]
    assert [row[1] for row in rows] == expected, "run `python -m tests.bench --write` (or --only NAME ...)"
    assert not [row[1] for row in rows if row[4]], "a notebook on the benchmark page had errors"
    again = bench.merged(rows, [("chapter", rows[0][1], 1.5, None, [])])
    assert again[0][2] == 1.5 and again[1:] == rows[1:]
