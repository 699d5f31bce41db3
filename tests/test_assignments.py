"""Each assignment runs alone like in Colab, and its tests discriminate."""
import time

import pytest

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


def test_an_answer_that_breaks_the_rule_loses_the_points_of_its_part(rule_case):
    assignment, breaker = rule_case
    nb = harness.apply_mutant(harness.read(harness.solution_notebook(assignment)), breaker)
    _, failed = harness.execute_until_a_test_fails(nb, grading=True)
    assert failed, f"{assignment}: '{breaker.description}' in {breaker.cell} breaks the rule but passes every test"
    assert failed.grade_id == f"test_{breaker.cell}", (
        f"{assignment}: '{breaker.description}' loses points in {failed.grade_id}, not in test_{breaker.cell}")
    assert "Rule broken" in failed.message, f"the failure does not name the rule: {failed.message}"


def test_a_copy_of_the_chapter_code_does_not_earn_the_points(copy_case):
    assignment, copied = copy_case
    nb = harness.apply_mutant(harness.read(harness.solution_notebook(assignment)), copied)
    _, failed = harness.execute_until_a_test_fails(nb, grading=True)
    assert failed, (f"{assignment}: the answer {copied.cell} {copied.description} and passes every test: "
                    "the exercise must ask for something the chapter did not write out")


def test_a_kernel_that_died_at_start_is_started_again_but_other_errors_are_not():
    attempts = []

    def flaky():
        attempts.append(1)
        if len(attempts) < 3:
            raise RuntimeError("Kernel died before replying to kernel_info")
        return "ran"

    assert harness.retrying_kernel_start(flaky) == "ran" and len(attempts) == 3

    def always(message):
        def run():
            attempts.append(1)
            raise RuntimeError(message)
        return run

    attempts.clear()
    with pytest.raises(RuntimeError, match="Kernel died"):
        harness.retrying_kernel_start(always("Kernel died before replying to kernel_info"))
    assert len(attempts) == 3, "three tries, then the error goes through"
    attempts.clear()
    with pytest.raises(RuntimeError, match="something else"):
        harness.retrying_kernel_start(always("something else"))
    assert len(attempts) == 1, "any other error is not retried"
