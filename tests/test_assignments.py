"""Each assignment runs alone like in Colab, and its tests discriminate."""
import time

from tests import harness

STUDENT_BUDGET_S = 60  # an exercise with solutions filled in, on 2 CPU cores


def test_solution_runs_alone_in_an_empty_folder_with_full_marks(assignment):
    # harness.execute uses an empty temporary folder and a kernel that cannot import
    # this repository, as Colab would; no NBGRADER_EXECUTION, so the full schedule runs.
    start = time.time()
    executed = harness.execute(harness.read(harness.solution_notebook(assignment)), grading=False)
    elapsed = time.time() - start
    problems = harness.problem_cells(executed)
    assert not problems, f"cells that fail or write to stderr: {problems}"
    lost = [s for s in harness.score(executed) if s.points != s.max_points]
    assert not lost, f"the solution loses points when run as a student would: {lost}"
    assert elapsed < STUDENT_BUDGET_S * 1.5, f"took {elapsed:.0f} s; the budget is {STUDENT_BUDGET_S} s on 2 cores"


def test_every_graded_part_has_three_mutants(assignment):
    nb = harness.read(harness.solution_notebook(assignment))
    parts = [c.metadata.nbgrader["grade_id"] for c in nb.cells
             if c.cell_type == "code" and c.get("metadata", {}).get("nbgrader", {}).get("solution")]
    counts = {part: 0 for part in parts}
    for mutant in harness.load_mutants(assignment):
        assert mutant.cell in counts, f"mutant {mutant.description!r} names unknown cell {mutant.cell!r}"
        counts[mutant.cell] += 1
    few = {part: n for part, n in counts.items() if n < 3}
    assert not few, f"graded parts with fewer than three mutants: {few}"


def test_mutant_loses_points(mutant_case):
    assignment, mutant = mutant_case
    nb = harness.apply_mutant(harness.read(harness.solution_notebook(assignment)), mutant)
    # Run as nbgrader grades (NBGRADER_EXECUTION set), stopping at the first check that fails.
    _, failed = harness.execute_until_a_test_fails(nb, grading=True)
    assert failed, f"{assignment}: the mistake '{mutant.description}' in {mutant.cell} passes every test"


def test_hidden_tests_are_not_in_the_student_copy(assignment):
    exercise = harness.EXERCISES / assignment / harness.solution_notebook(assignment).name
    text = exercise.read_text()
    assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text
