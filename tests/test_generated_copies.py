"""One source of truth: exercises/ and the inlined helper cells are generated, never hand-edited."""
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
        + "\n".join(f"{path} (neuron2gpt/{name}.py)" for path, name in drifted))
