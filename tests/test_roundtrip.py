"""A real nbgrader round trip: generate, submit, autograde, read the gradebook.

The model solution must earn every autograded point and the untouched student copy none.
"""
import copy
import os
import tempfile
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from nbgrader.validator import Validator

from autograder.gradebook import course_config
from autograder.release import nbgrader_config
from tests import harness


def filled_in(exercise_nb, solution_nb):
    """The released notebook with each answer cell replaced by the model answer, as a student would."""
    nb = copy.deepcopy(exercise_nb)
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution"):
            cell.source = harness.cell_by_id(solution_nb, meta["grade_id"]).source
    return nb


def autograde(assignment, submissions, root):
    """Autograde {student_id: notebook} in a throwaway course at `root`; returns per-student grades."""
    root = Path(root)
    config = course_config(root)
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    result = api.generate_assignment(assignment)
    assert result["success"], result.get("error")
    notebook_name = harness.solution_notebook(assignment).stem
    for student, nb in submissions.items():
        target = root / "submitted" / student / assignment / f"{notebook_name}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(nb, str(target))
        result = api.autograde(assignment, student)
        assert result["success"], f"nbgrader autograde failed for {student}: {result.get('error') or result.get('log')}"
    grades = {}
    with Gradebook(config.CourseDirectory.db_url) as gradebook:
        for student in submissions:
            notebook = gradebook.find_submission_notebook(notebook_name, assignment, student)
            grades[student] = {g.name: (g.auto_score, g.max_score) for g in notebook.grades
                               if g.cell.cell_type == "code"}
    return grades


def test_nbgrader_autograde_gives_solution_full_marks_and_stub_zero(assignment):
    solution = harness.read(harness.solution_notebook(assignment))
    exercise = harness.read(harness.EXERCISES / assignment / harness.solution_notebook(assignment).name)
    with tempfile.TemporaryDirectory(prefix="roundtrip-") as root:
        grades = autograde(assignment, {"solution": filled_in(exercise, solution), "stub": exercise}, root)
    assert grades["solution"], "the assignment has no autograded cells"
    lost = {name: score for name, score in grades["solution"].items() if score[0] != score[1]}
    assert not lost, f"the model solution loses points under nbgrader autograde: {lost}"
    earned = {name: score for name, score in grades["stub"].items() if score[0] != 0}
    assert not earned, f"the blank student copy earns points, so these tests cannot fail: {earned}"


def test_nbgrader_validator_passes_solution(assignment, tmp_path):
    # `nbgrader validate` exits 0 whatever happens, so ask its Validator directly.
    path = tmp_path / harness.solution_notebook(assignment).name
    path.write_bytes(harness.solution_notebook(assignment).read_bytes())
    results = Validator(config=nbgrader_config()).validate(str(path))
    failures = [cell.get("raw_error", cell.get("source", ""))[-400:] for cell in results.get("failed", [])]
    assert not results, f"nbgrader's validator rejects the solution: {sorted(results)} {failures}"


def test_autograde_on_a_busy_machine_still_gives_the_solution_full_marks(monkeypatch):
    # Issue 8: with PyTorch's default of one thread per core, a training exercise next to other
    # CPU-bound work crawled past nbgrader's cell timeout and lost its points. The kernel here
    # inherits no thread setting (as under an instructor's plain nbgrader): the notebook's own
    # set-up cell must choose. Under `pytest -n 2` the other worker adds its own load.
    for name in harness.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assignment = "05_lstm"  # trains a model in its graded cells
    solution = harness.read(harness.solution_notebook(assignment))
    exercise = harness.read(harness.EXERCISES / assignment / harness.solution_notebook(assignment).name)
    submission = filled_in(exercise, solution)
    # the student's last cell reports the thread count of the kernel nbgrader started
    submission.cells.append(nbformat.v4.new_code_cell("print('kernel threads:', torch.get_num_threads())"))
    # one busy process per core: every core the kernel could use is contended
    burners = [harness.cpu_burner(900) for _ in range(os.cpu_count() or 2)]
    try:
        with tempfile.TemporaryDirectory(prefix="roundtrip-busy-") as root:
            grades = autograde(assignment, {"solution": submission}, root)
            graded = harness.read(Path(root) / "autograded" / "solution" / assignment / f"{assignment}.ipynb")
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()
    lost = {name: score for name, score in grades["solution"].items() if score[0] != score[1]}
    assert not lost, f"next to CPU-bound processes the model solution loses points: {lost}"
    printed = "".join(out.get("text", "") for out in graded.cells[-1].get("outputs", []))
    assert printed.strip() == "kernel threads: 1", (
        f"nbgrader's kernel should use one CPU thread (set by the notebook's set-up cell), it printed {printed!r}")
