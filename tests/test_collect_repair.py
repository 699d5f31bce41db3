"""Collecting LMS downloads and repairing Colab-edited notebooks (autograder.collect, .repair).

The corpus is made here from the real released notebook of 01_neuron: a student fills in
some answers from solutions/, then Colab, the student and the LMS mangle the file the way
they do in practice. One real nbgrader autograde proves that nbgrader accepts the result.
"""
import copy
import hashlib
import io
import json
import os
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path

import nbformat
import pytest

from autograder.collect import UNKNOWN, CollectError, collect, identify, read_roster
from autograder.repair import InvalidSubmission, best_match, repair, similarity
from tests import harness
from tests import test_roundtrip as roundtrip

ASSIGNMENT = "01_neuron"
ANSWERED = ["sigmoid", "relu", "neuron_forward"]   # the parts our student has done
WRITTEN = "Because composing the layers in the other order changes the function computed."


# ---------------------------------------------------------------- the corpus

@pytest.fixture(scope="module")
def released():
    """The released student copy: exercises/ when it is there, else generated as nbgrader does."""
    path = harness.EXERCISES / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    if path.exists():
        return harness.read(path)
    from autograder.release import generate
    with tempfile.TemporaryDirectory() as tmp:
        generate(tmp, [ASSIGNMENT])
        return harness.read(Path(tmp) / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")


@pytest.fixture(scope="module")
def other_released():
    path = harness.EXERCISES / "02_learning" / "02_learning.ipynb"
    if path.exists():
        return harness.read(path)
    return harness.student_copy(harness.read(harness.solution_notebook("02_learning")))


@pytest.fixture(scope="module")
def solution():
    return harness.read(harness.solution_notebook(ASSIGNMENT))


STUBS = {}


@pytest.fixture(scope="module")
def student(released, solution):
    """The released notebook with three parts and the written answer done, as a student would."""
    nb = copy.deepcopy(released)
    STUBS.update({c.metadata["nbgrader"]["grade_id"]: c.source for c in released.cells if "nbgrader" in c.metadata})
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in ANSWERED:
            cell.source = harness.cell_by_id(solution, gid).source
        elif gid == "why_order_matters":
            cell.source = WRITTEN
    nb.cells.insert(6, nbformat.v4.new_code_cell("print(sigmoid(np.array([0.0])))  # my own check", id="mine"))
    return nb


def as_dict(nb):
    return json.loads(nbformat.writes(nb))


def cell(d, cell_id):
    return next(c for c in d["cells"] if c.get("id", c["metadata"].get("id")) == cell_id)


def colabify(nb):
    """What Colab saves: nbformat 4.0, ids in metadata.id, no deletable/editable, its own metadata,
    widget state without 'state', missing output fields on never-run cells."""
    d = as_dict(nb)
    d["nbformat_minor"] = 0
    d["metadata"] = {
        "colab": {"provenance": [], "name": f"Copy of {ASSIGNMENT}.ipynb"},
        "kernelspec": {"name": "python3", "display_name": "Python 3"},
        "language_info": {"name": "python"},
        "accelerator": "GPU",
        "widgets": {"application/vnd.jupyter.widget-state+json": {
            "0a1b2c3d4e5f": {"model_module": "@jupyter-widgets/controls", "model_name": "HBoxModel",
                             "model_module_version": "1.5.0", "state": {"children": []}}}},
    }
    for i, c in enumerate(d["cells"]):
        c["metadata"]["id"] = c.pop("id")
        c["metadata"].pop("deletable", None)
        c["metadata"].pop("editable", None)
        if c["cell_type"] == "code":
            c["metadata"]["colab"] = {"base_uri": "https://localhost:8080/"}
            if i % 2:  # Colab leaves these out of cells it never ran
                c.pop("outputs")
                c.pop("execution_count")
            else:
                c["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["ok\n"]}]
                c["execution_count"] = i
    return json.dumps(d, indent=1).encode()


def student_mangled(nb):
    """A student's damage: answer cell stripped of metadata (and given a new id), a test cell
    deleted, an answer duplicated (the stale stub copy after the answer), an answer turned into
    markdown, a test cell moved to the end, the written answer stripped and re-id'd."""
    d = as_dict(nb)
    sig = cell(d, "sigmoid")
    del sig["metadata"]["nbgrader"]
    sig["id"] = "f00dcafe"
    d["cells"].remove(cell(d, "test_relu"))
    relu = cell(d, "relu")
    stub = copy.deepcopy(relu)
    stub["source"] = released_source(nb, "relu")  # Colab's "copy cell", made before answering
    stub["id"] = "relu-copy"
    d["cells"].insert(d["cells"].index(relu) + 1, stub)
    nf = cell(d, "neuron_forward")
    nf["cell_type"] = "markdown"
    del nf["outputs"], nf["execution_count"]
    moved = cell(d, "test_sigmoid")
    d["cells"].remove(moved)
    d["cells"].append(moved)
    written = cell(d, "why_order_matters")
    del written["metadata"]["nbgrader"]
    written["id"] = "0123abcd"
    return d


def released_source(nb, grade_id):
    """The released stub of an answer cell (the `student` notebook keeps it in metadata only)."""
    return STUBS[grade_id]


def check_repaired(result, released, answers):
    """(a) valid, (b) exactly the released tracked cells in order with their metadata, (c) answers kept."""
    nb = result.notebook
    nbformat.validate(nb)
    assert (nb.nbformat, nb.nbformat_minor) == (4, 5)
    tracked = lambda n: [c.metadata["nbgrader"]["grade_id"] for c in n.cells if "nbgrader" in c.metadata]
    assert tracked(nb) == tracked(released)
    released_meta = {c.metadata["nbgrader"]["grade_id"]: (c.cell_type, c.metadata["nbgrader"])
                     for c in released.cells if "nbgrader" in c.metadata}
    for c in nb.cells:
        if "nbgrader" in c.metadata:
            assert (c.cell_type, c.metadata["nbgrader"]) == released_meta[c.metadata["nbgrader"]["grade_id"]]
    for gid, source in answers.items():
        assert harness.cell_by_id(nb, gid).source == source, gid
    assert len({c.id for c in nb.cells}) == len(nb.cells)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    return nb


def answers(student):
    return {gid: harness.cell_by_id(student, gid).source for gid in ANSWERED + ["why_order_matters"]}


# ---------------------------------------------------------------- repair

def test_untouched_notebook_needs_no_repair(released, student):
    result = repair(nbformat.writes(student).encode(), released)
    assert result.repairs == [] and result.format_fixes == []
    nb = check_repaired(result, released, answers(student))
    assert [c.source for c in nb.cells] == [c.source for c in student.cells]
    assert [c.id for c in nb.cells] == [c.id for c in student.cells]


def test_colab_saved_notebook(released, student):
    raw = colabify(student)
    with pytest.raises(nbformat.ValidationError):  # what Colab saves is not even valid
        nbformat.validate(nbformat.reads(raw.decode(), as_version=4))
    result = repair(raw, released)
    nb = check_repaired(result, released, answers(student))
    assert result.repairs == []
    fixes = " ".join(result.format_fixes)
    assert "nbformat 4.0 upgraded to 4.5" in fixes and "widget" in fixes and "Colab" in fixes
    assert [c.id for c in nb.cells] == [c.id for c in student.cells]  # ids back from metadata.id
    assert all("colab" not in c.metadata and "id" not in c.metadata for c in nb.cells)
    assert "widgets" not in nb.metadata and "colab" not in nb.metadata
    assert harness.cell_by_id(nb, "test_sigmoid").metadata["editable"] is False  # restored


def test_student_mangled_notebook(released, student):
    result = repair(json.dumps(student_mangled(student)).encode(), released, name=ASSIGNMENT)
    nb = check_repaired(result, released, answers(student))
    text = "\n".join(result.repairs)
    assert "cell 'sigmoid' had lost its nbgrader metadata; matched by content" in text
    assert "test cell 'test_relu' was deleted; restored from the released notebook" in text
    assert "cell 'relu' appeared twice; kept the last edited copy" in text
    assert "cell 'neuron_forward' had been changed from code to markdown; changed back to code" in text
    assert "cell 'test_sigmoid' had been moved; put back in its released place" in text
    assert "cell 'why_order_matters' had lost its nbgrader metadata; matched by its position" in text
    assert result.restored == ["test_relu"]
    assert "raise NotImplementedError" not in harness.cell_by_id(nb, "relu").source
    assert sum(c.source.startswith("def relu(z):") for c in nb.cells) == 1  # the stale copy is gone
    assert any(c.source.startswith("print(sigmoid") for c in nb.cells)  # the student's own cell kept


def test_both_manglings_and_deleted_answer(released, student):
    d = student_mangled(student)
    d["cells"].remove(cell(d, "mlp_forward"))
    nb_mangled = nbformat.from_dict(d)
    result = repair(colabify(nb_mangled), released)
    check_repaired(result, released, answers(student))
    assert "answer cell 'mlp_forward' was deleted; restored as the blank stub, which earns no points" in result.repairs
    assert harness.cell_by_id(result.notebook, "mlp_forward").source == harness.cell_by_id(released, "mlp_forward").source


def test_edited_test_cell_and_changed_points_are_reported(released, student):
    d = as_dict(student)
    cell(d, "test_sigmoid")["source"] = "print('all good')"
    cell(d, "test_sigmoid")["metadata"]["nbgrader"]["points"] = 100
    cell(d, "test_relu")["cell_type"] = "raw"
    del cell(d, "test_relu")["outputs"], cell(d, "test_relu")["execution_count"]
    result = repair(json.dumps(d).encode(), released)
    nb = check_repaired(result, released, answers(student))
    assert harness.cell_by_id(nb, "test_sigmoid").source == harness.cell_by_id(released, "test_sigmoid").source
    assert harness.cell_by_id(nb, "test_sigmoid").metadata["nbgrader"]["points"] == 2
    assert any("test_sigmoid" in r and "points" in r for r in result.repairs)
    assert any("'test_sigmoid' had been edited" in r for r in result.repairs)
    assert any("'test_relu' had been changed from code to raw" in r for r in result.repairs)


def test_old_kernel_and_missing_metadata(released, student):
    d = as_dict(student)
    d["metadata"] = {"kernelspec": {"name": "ir", "display_name": "R"}}
    d["nbformat_minor"] = 2
    for c in d["cells"]:
        del c["id"]
    result = repair(json.dumps(d).encode(), released)
    check_repaired(result, released, answers(student))
    assert "kernel set to python3 (was ir)" in result.format_fixes


@pytest.mark.parametrize("raw, message", [
    (b"", "the file is empty"),
    (b"  \n", "the file is empty"),
    (b'{"cells": [', "not valid JSON"),
    (b'{"name": "not a notebook"}', "not a Jupyter notebook"),
    (b"[1, 2, 3]", "not a Jupyter notebook"),
    (b"\xff\xfe\x00garbage\x81", "not"),
    (b"PK\x03\x04rest of a zip", "zip archive"),
    (b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}', "no cells"),
])
def test_invalid_files(released, raw, message):
    with pytest.raises(InvalidSubmission, match=message):
        repair(raw, released)


def test_notebook_of_another_assignment(released, other_released):
    with pytest.raises(InvalidSubmission, match="another assignment: .* of the 15 graded cells of 01_neuron"):
        repair(nbformat.writes(other_released).encode(), released, name=ASSIGNMENT)
    stripped = as_dict(other_released)
    for c in stripped["cells"]:
        c["metadata"].pop("nbgrader", None)
    with pytest.raises(InvalidSubmission, match="another assignment"):
        repair(json.dumps(stripped).encode(), released)


def test_size_limit(released, student):
    raw = nbformat.writes(student).encode()
    with pytest.raises(InvalidSubmission, match="over the .* limit"):
        repair(raw, released, max_bytes=len(raw) - 1)


def test_similarity_tells_notebooks_apart(released, other_released, student):
    raw = colabify(student)
    assert similarity(raw, released) == 1.0
    assert similarity(raw, other_released) < 0.3
    assert similarity(b"not json", released) == 0.0
    assert best_match(raw, {"01_neuron": released, "02_learning": other_released})[0] == "01_neuron"
    assert best_match(nbformat.writes(other_released).encode(), {"01_neuron": released})[0] is None


# ---------------------------------------------------------------- collect

NAMES = [ASSIGNMENT]


def nb_bytes(student, tag):
    nb = copy.deepcopy(student)
    nb.cells.append(nbformat.v4.new_markdown_cell(f"attempt {tag}", id=f"tag-{abs(hash(tag)) % 10**8}"))
    return nbformat.writes(nb).encode()


def tag_of(attempt):
    return "".join(json.loads(attempt.raw)["cells"][-1]["source"])


def make_zip(members, date=(2026, 11, 20, 10, 0, 0)):
    """members: [(name, bytes) or (ZipInfo, bytes)] -> zip bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            info = name if isinstance(name, zipfile.ZipInfo) else zipfile.ZipInfo(name, date_time=date)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buffer.getvalue()


@pytest.mark.parametrize("path, student_id, notebook, late, copy_number", [
    ("Jane Doe_123456_assignsubmission_file_/Copy of 01_neuron.ipynb", "123456", ASSIGNMENT, False, 0),
    ("Jane Doe_123456_assignsubmission_file_01_neuron (2).ipynb", "123456", ASSIGNMENT, False, 2),
    ("doejane_12345_67890_01_neuron-1.ipynb", "12345", ASSIGNMENT, False, 1),
    ("doejane_LATE_12345_67890_Copy_of_01_neuron.ipynb", "12345", ASSIGNMENT, True, 0),
    ("doejane_12345_67890_submission.zip/01_neuron.ipynb", "12345", ASSIGNMENT, False, 0),
    ("Assignment 1_jdoe_attempt_2026-11-20-10-15-00_01_neuron.ipynb", "jdoe", ASSIGNMENT, False, 0),
    ("s1234567_01_neuron (1).ipynb", "s1234567", ASSIGNMENT, False, 1),
    ("Copy of s1234567_01_neuron.ipynb", "s1234567", ASSIGNMENT, False, 0),
    ("s1234567/01_neuron.ipynb", "s1234567", ASSIGNMENT, False, 0),
    ("submissions/s1234567/Copy of 01_neuron (3).ipynb", "s1234567", ASSIGNMENT, False, 3),
    ("submissions/s1234567_01_neuron.ipynb", "s1234567", ASSIGNMENT, False, 0),
    ("s1234567_2026-11-20T10-15-00_01_neuron.ipynb", "s1234567", ASSIGNMENT, False, 0),
    ("s1234567_20261120101500_01_neuron.ipynb", "s1234567", ASSIGNMENT, False, 0),
    ("s1234567_Untitled0.ipynb", "s1234567", UNKNOWN, False, 0),
    ("s1234567/Untitled0.ipynb", "s1234567", UNKNOWN, False, 0),
    ("Copy of 01_neuron.ipynb", None, ASSIGNMENT, False, 0),
])
def test_identify(path, student_id, notebook, late, copy_number):
    who = identify(path, NAMES)
    assert (who.student, who.notebook, who.late, who.copy_number) == (student_id, notebook, late, copy_number)


def test_identify_timestamps_and_pattern():
    assert identify("s1_2026-11-20T10-15-00_01_neuron.ipynb", NAMES).timestamp == datetime(2026, 11, 20, 10, 15)
    assert identify("s1_20261121093000_01_neuron.ipynb", NAMES).timestamp == datetime(2026, 11, 21, 9, 30)
    who = identify("hw1 - Doe, Jane (u998877)/Copy of 01_neuron.ipynb", NAMES, id_pattern=r"\((?P<student>u\d+)\)")
    assert (who.student, who.notebook) == ("u998877", ASSIGNMENT)
    assert identify("nobody/01_neuron.ipynb", NAMES, id_pattern=r"(?P<student>u\d+)").student is None
    assert identify("s1_01_neuron_extra.ipynb", ["01_neuron", "01_neuron_extra"]).notebook == "01_neuron_extra"


def test_collect_moodle_zip_with_attempts_roster_and_junk(tmp_path, student):
    moodle = "Jane Doe_123456_assignsubmission_file_"
    data = make_zip([
        (f"{moodle}/Copy of 01_neuron.ipynb", nb_bytes(student, "jane old")),
        (f"{moodle}/Copy of 01_neuron (1).ipynb", nb_bytes(student, "jane new")),
        (f"{moodle}/notes.txt", b"hello"),
        ("John Roe_222222_assignsubmission_file_/01_neuron.ipynb", nb_bytes(student, "john")),
        ("__MACOSX/John Roe_222222_assignsubmission_file_/._01_neuron.ipynb", b"\x00\x05\x16\x07"),
        ("Eve Ill_333333_assignsubmission_file_/.ipynb_checkpoints/01_neuron-checkpoint.ipynb", b"{}"),
        ("Max Mux_444444_assignsubmission_file_/01_neuron.ipynb", nb_bytes(student, "max")),
    ])
    source = tmp_path / "moodle.zip"
    source.write_bytes(data)
    result = collect(source, NAMES, roster=["123456", "222222", "555555"])
    assert list(result.submissions) == ["123456", "222222", "444444"]
    jane = result.submissions["123456"][ASSIGNMENT]
    assert tag_of(jane) == "attempt jane new"
    assert jane.others == [f"moodle.zip:{moodle}/Copy of 01_neuron.ipynb"]
    assert any("latest by its copy number" in n for n in jane.notes)
    assert result.missing == ["555555"]
    assert result.not_in_roster == ["444444"]
    problems = "\n".join(result.problems)
    assert "notes.txt was ignored: not a notebook" in problems
    assert "checkpoint" in problems
    assert "__MACOSX" not in problems
    assert "444444 is not in the roster" in problems
    assert source.read_bytes() == data  # the original is only read


def test_collect_canvas_flat_zip_late_and_latest(tmp_path, student):
    data = make_zip([
        ("doejane_12345_67890_01_neuron.ipynb", nb_bytes(student, "first")),
        ("doejane_LATE_12345_67990_Copy_of_01_neuron-1.ipynb", nb_bytes(student, "late")),
        ("roebob_23456_67891_01_neuron.ipynb", nb_bytes(student, "bob")),
        ("roebob_23456_67891_01_neuron.py", b"print(1)"),
    ])
    source = tmp_path / "canvas.zip"
    source.write_bytes(data)
    result = collect(source, NAMES)
    assert sorted(result.submissions) == ["12345", "23456"]
    jane = result.submissions["12345"][ASSIGNMENT]
    assert tag_of(jane) == "attempt late" and jane.late
    assert any("late" in n for n in jane.notes)
    assert len(result.superseded) == 1 and result.superseded[0].others == []


def test_collect_timestamps_beat_copy_numbers_and_zip_dates(tmp_path, student):
    data = make_zip([
        (zipfile.ZipInfo("s1_2026-11-21T08-00-00_01_neuron.ipynb", (2026, 1, 1, 0, 0, 0)), nb_bytes(student, "newest")),
        (zipfile.ZipInfo("s1_2026-11-20T10-15-00_01_neuron (5).ipynb", (2026, 12, 1, 0, 0, 0)), nb_bytes(student, "older")),
        (zipfile.ZipInfo("s2_01_neuron.ipynb", (2026, 11, 22, 0, 0, 0)), nb_bytes(student, "s2 by date")),
        (zipfile.ZipInfo("s2_01_neuron (1).ipynb", (2026, 11, 21, 0, 0, 0)), nb_bytes(student, "s2 older")),
    ])
    (tmp_path / "t.zip").write_bytes(data)
    result = collect(tmp_path / "t.zip", NAMES)
    assert tag_of(result.submissions["s1"][ASSIGNMENT]) == "attempt newest"
    assert result.submissions["s1"][ASSIGNMENT].timestamp == datetime(2026, 11, 21, 8, 0)
    assert any("the time in its name" in n for n in result.submissions["s1"][ASSIGNMENT].notes)
    assert tag_of(result.submissions["s2"][ASSIGNMENT]) == "attempt s2 by date"


def test_collect_hostile_zip(tmp_path, student):
    good = nb_bytes(student, "good")
    link = zipfile.ZipInfo("s3_01_neuron.ipynb", (2026, 11, 20, 10, 0, 0))
    link.external_attr = (0o120777 << 16)
    data = make_zip([
        ("../../etc/s1_01_neuron.ipynb", good),
        ("/abs/s2_01_neuron.ipynb", good),
        ("C:\\Users\\s4_01_neuron.ipynb", good),
        (link, b"/etc/passwd"),
        ("bomb_01_neuron.ipynb", b"\x00" * (3 * 1024 * 1024)),  # 3 MB of zeros packs into a few KB
        ("s5_01_neuron.ipynb", good),
    ])
    assert len(data) < 100_000
    (tmp_path / "hostile.zip").write_bytes(data)
    result = collect(tmp_path / "hostile.zip", NAMES, max_notebook_bytes=1024 * 1024)
    assert list(result.submissions) == ["s5"]
    problems = "\n".join(result.problems)
    assert "../../etc/s1_01_neuron.ipynb was skipped: its name leads out of the archive" in problems
    assert "/abs/s2_01_neuron.ipynb was skipped: its name is an absolute path" in problems
    assert "C:/Users/s4_01_neuron.ipynb was skipped: its name is an absolute path" in problems
    assert "s3_01_neuron.ipynb was skipped: it is a symbolic link" in problems
    assert "bomb_01_neuron.ipynb was skipped: it is 3.0 MB unpacked, over the 1 MB limit" in problems
    assert not list(tmp_path.glob("**/*.ipynb"))  # nothing was extracted
    # caps on the total and on the member count
    capped = collect(tmp_path / "hostile.zip", NAMES, max_total_bytes=len(good) - 1)
    assert capped.submissions == {} and "exceed" in "\n".join(capped.problems)
    counted = collect(tmp_path / "hostile.zip", NAMES, max_members=2)
    assert "the rest were not read" in "\n".join(counted.problems)


def test_collect_nested_student_zips(tmp_path, student):
    inner_jane = make_zip([("01_neuron.ipynb", nb_bytes(student, "jane")), ("README.md", b"hi")])
    inner_bob = make_zip([("roebob/Copy of 01_neuron (1).ipynb", nb_bytes(student, "bob")),
                          ("deeper.zip", make_zip([("s9_01_neuron.ipynb", nb_bytes(student, "deep"))]))])
    outer = make_zip([("doejane_12345_67890_submission.zip", inner_jane),
                      ("s7654321.zip", inner_bob),
                      ("broken_01.zip", b"PK\x03\x04 not really")])
    (tmp_path / "outer.zip").write_bytes(outer)
    result = collect(tmp_path / "outer.zip", NAMES)
    assert sorted(result.submissions) == ["12345", "roebob"]
    assert tag_of(result.submissions["12345"][ASSIGNMENT]) == "attempt jane"
    assert result.submissions["12345"][ASSIGNMENT].path == \
        "outer.zip:doejane_12345_67890_submission.zip/01_neuron.ipynb"
    problems = "\n".join(result.problems)
    assert "deeper.zip was skipped: a zip inside a zip inside the submissions" in problems
    assert "README.md was ignored" in problems
    assert "broken_01.zip was skipped: it is not a readable zip" in problems


def test_collect_folder_with_links_odd_names_and_unknown_names(tmp_path, student, released, other_released):
    root = tmp_path / "subs"
    (root / "s1234567").mkdir(parents=True)
    (root / "s1234567" / "Copy of 01_neuron.ipynb").write_bytes(nb_bytes(student, "folder"))
    (root / "s2_Untitled0.ipynb").write_bytes(colabify(student))           # named oddly, is 01_neuron
    (root / "s3_scratch.ipynb").write_bytes(nbformat.writes(other_released).encode())
    (root / "01_neuron.ipynb").write_bytes(nb_bytes(student, "whose?"))
    (root / ".hidden_01_neuron.ipynb").write_bytes(b"{}")
    os.symlink("/etc/passwd", root / "s4_01_neuron.ipynb")
    os.symlink(root / "s1234567", root / "s5")
    os.mkfifo(root / "s6_01_neuron.ipynb")
    odd = os.fsencode(root) + b"/s7_\xff\xfe_01_neuron.ipynb"
    with open(odd, "wb") as handle:
        handle.write(nb_bytes(student, "odd"))
    before = {p: (p.lstat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
              for p in root.rglob("*") if p.is_file() and not p.is_symlink() and p.name != "s6_01_neuron.ipynb"}

    plain = collect(root, NAMES)
    assert plain.submissions["s2"][UNKNOWN]
    result = collect(root, NAMES, released={ASSIGNMENT: released}, roster=["s1234567", "s2", "s8"])
    assert sorted(result.submissions) == ["s1234567", "s2", "s3", "s7"]
    assert tag_of(result.submissions["s1234567"][ASSIGNMENT]) == "attempt folder"
    assert list(result.submissions["s2"]) == [ASSIGNMENT]
    assert any("by content it is 01_neuron" in n for n in result.submissions["s2"][ASSIGNMENT].notes)
    assert list(result.submissions["s3"]) == [UNKNOWN]  # another assignment's notebook stays unknown
    assert [a.path for a in result.unassigned] == ["01_neuron.ipynb"]
    assert result.missing == ["s8"]
    problems = "\n".join(result.problems)
    for expected in ["s4_01_neuron.ipynb was skipped: it is a symbolic link", "s5/ was skipped: it is a symbolic link",
                     "s6_01_neuron.ipynb was skipped: not a regular file", "hidden"]:
        assert expected in problems
    assert "\ufffd" in result.submissions["s7"][ASSIGNMENT].path
    after = {p: (p.lstat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest()) for p in before}
    assert before == after


def test_collect_non_utf8_zip_names(tmp_path, student, monkeypatch):
    # Windows zips name members in cp437 or UTF-8 without saying which.
    monkeypatch.setattr(zipfile.ZipInfo, "_encodeFilenameFlags",
                        lambda self: (self.filename.encode("utf-8"), self.flag_bits))
    data = make_zip([("müller_01_neuron.ipynb", nb_bytes(student, "utf8 unflagged"))])
    monkeypatch.setattr(zipfile.ZipInfo, "_encodeFilenameFlags",
                        lambda self: (self.filename.encode("cp437"), self.flag_bits))
    data2 = make_zip([("çelik_01_neuron.ipynb", nb_bytes(student, "cp437"))])
    monkeypatch.undo()
    (tmp_path / "a.zip").write_bytes(data)
    (tmp_path / "b.zip").write_bytes(data2)
    assert list(collect(tmp_path / "a.zip", NAMES).submissions) == ["müller"]
    assert list(collect(tmp_path / "b.zip", NAMES).submissions) == ["çelik"]


def test_collect_errors_and_roster(tmp_path):
    with pytest.raises(CollectError, match="does not exist"):
        collect(tmp_path / "nope.zip", NAMES)
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    with pytest.raises(CollectError, match="neither a folder nor a readable zip"):
        collect(tmp_path / "bad.zip", NAMES)
    with pytest.raises(CollectError, match="named group 'student'"):
        collect(tmp_path, NAMES, id_pattern=r"s\d+")
    (tmp_path / "roster.csv").write_bytes("\ufeffname;Student_ID;email\nJane;s1;j@x\nBob; s2 ;b@x\n;;\n".encode())
    assert read_roster(tmp_path / "roster.csv") == ["s1", "s2"]
    (tmp_path / "bad.csv").write_text("name,email\nJane,j@x\n")
    with pytest.raises(CollectError, match="no 'student_id' column"):
        read_roster(tmp_path / "bad.csv")


# ---------------------------------------------------------------- nbgrader accepts the repairs

def test_nbgrader_autogrades_repaired_notebooks(released, student):
    """One real autograde: Colab's format and the student's damage together (stripped answer
    metadata, deleted test cell, duplicated answer, answer turned into markdown, moved test)."""
    mangled = nbformat.from_dict(student_mangled(student))
    repaired = repair(colabify(mangled), released).notebook
    with tempfile.TemporaryDirectory(prefix="repair-grade-") as root:
        grades = roundtrip.autograde(ASSIGNMENT, {"mangled": repaired}, root)["mangled"]
    earned = {name: score for name, score in grades.items() if score[0]}
    assert earned == {"test_sigmoid": (2.0, 2.0), "test_relu": (1.0, 1.0), "test_neuron_forward": (1.0, 1.0)}, grades
