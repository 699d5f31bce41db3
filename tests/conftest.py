import pytest

from tests import harness


def pytest_generate_tests(metafunc):
    # Parametrize over what exists now, so that a new assignment is tested without edits here.
    if "assignment" in metafunc.fixturenames:
        metafunc.parametrize("assignment", harness.assignments())
    if "mutant_case" in metafunc.fixturenames:
        cases = [(a, m) for a in harness.assignments() for m in harness.load_mutants(a)]
        metafunc.parametrize("mutant_case", cases, ids=[f"{a}:{m.cell}:{m.description}" for a, m in cases])
    if "rule_case" in metafunc.fixturenames:
        cases = [(a, m) for a in harness.assignments() for m in harness.load_rule_breakers(a)]
        metafunc.parametrize("rule_case", cases, ids=[f"{a}:{m.cell}:{m.description}" for a, m in cases])
    if "copy_case" in metafunc.fixturenames:
        cases = [(a, m) for a in harness.assignments() for m in harness.chapter_copies(a)]
        metafunc.parametrize("copy_case", cases, ids=[f"{a}:{m.cell}:{m.description}" for a, m in cases])


@pytest.fixture(scope="session")
def repo():
    return harness.REPO
