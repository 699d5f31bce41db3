import pytest

from tests import harness


def pytest_generate_tests(metafunc):
    # Parametrize over what exists now, so that a new assignment is tested without edits here.
    if "assignment" in metafunc.fixturenames:
        metafunc.parametrize("assignment", harness.assignments())
    for fixture, load in (("mutant_case", harness.load_mutants), ("rule_case", harness.load_rule_breakers),
                          ("copy_case", harness.chapter_copies)):
        if fixture in metafunc.fixturenames:
            cases = [(a, m) for a in harness.assignments() for m in load(a)]
            metafunc.parametrize(fixture, cases, ids=[f"{a}:{m.cell}:{m.description}" for a, m in cases])

@pytest.fixture(scope="session")
def repo():
    return harness.REPO
