"""One source of truth: exercises/ and the inlined helper cells are generated, never hand-edited."""
import nbformat
import pytest

from autograder import release
from neuron2gpt import inline


def test_exercises_are_exactly_what_nbgrader_generates_from_solutions():
    problems = release.differences()
    assert not problems, (
        "exercises/ has drifted from solutions/; run `python -m autograder release` and commit:\n"
        + "\n".join(problems))


def test_inlined_helper_cells_match_their_modules():
    drifted = inline.sync(check_only=True)
    assert not drifted, (
        "notebook copies of neuron2gpt modules differ; run `python -m neuron2gpt.inline`:\n"
        + "\n".join(f"{path} (neuron2gpt/{label})" for path, label in drifted))


def test_a_module_cut_into_parts_is_shown_whole_each_part_in_the_open_on_one_page():
    # seq2seq.py is chapter 3.1's code, transformer.py Part IV's: nothing but imports comes before the
    # first part, and each part is shown unfolded on exactly one chapter page, the one that teaches it
    modules = sorted(path.stem for path in inline.PACKAGE.glob("*.py") if inline.module_parts(path.stem))
    assert {"seq2seq", "transformer"} <= set(modules)
    for module in modules:
        header = inline.module_source(module).split("\n# %% ")[0]
        code = [line for line in header.splitlines()
                if line.strip() and not line.startswith(("#", "import ", "from "))]
        assert not code, f"{module}.py has code before its first part, which no chapter shows: {code}"
        shown = []
        for folder, path in inline.notebooks():
            nb = nbformat.read(str(path), as_version=4)
            shown += [(path.name, part) for cell, name, part in inline.marked_cells(nb)
                      if name == module and part and "hide-input" not in cell.metadata.get("tags", [])]
        names = list(inline.module_parts(module))
        assert sorted(part for _, part in shown) == sorted(names), f"{module}.py: parts shown {shown}, parts {names}"
        if module == "transformer":
            assert {page for page, part in shown if part == "attention"} == {"11_multi_head.ipynb"}


def test_sync_rewrites_parts_in_the_open_and_whole_modules_folded(tmp_path, monkeypatch):
    (tmp_path / "book").mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("stale", metadata={"neuron2gpt": {"inline": "seq2seq"}}),
                nbformat.v4.new_code_cell("stale", metadata={"neuron2gpt": {"inline": "seq2seq", "part": "task"}})]
    page = tmp_path / "book" / "page.ipynb"
    nbformat.write(nb, str(page))
    monkeypatch.setattr(inline, "REPO", tmp_path)
    assert sorted(label for _, label in inline.sync(check_only=True)) == [
        "seq2seq.py", "seq2seq.py", "seq2seq.py, part task"]  # the whole copy: its text and its fold
    inline.sync()
    whole, part = nbformat.read(str(page), as_version=4).cells
    assert whole.source == inline.module_source("seq2seq") and whole.metadata.tags == ["hide-input"]
    assert part.source.startswith("ONES = [") and "def make_pair" in part.source and "# %%" not in part.source
    assert "tags" not in part.metadata
    assert inline.sync(check_only=True) == []
    with pytest.raises(KeyError, match="no part 'nothing'"):
        inline.module_source("seq2seq", "nothing")
