"""The checks' signed record (issue 10): written by the checks cell, verified by the grader.

The whole story, from a hostile class to held-back points, is in test_grader.py; these tests pin
the pieces: the record's format and signature, what the sandboxed kernel may do with its files,
the grader's verdict per test cell, and the checks' own refusal to run on a tampered notebook.
"""
import copy
import functools
import os
import subprocess

import nbformat
import numpy as np
import pytest
import torch

from autograder import integrity
from autograder.sandbox import SandboxLimits, prepare_scratch, sandbox_command, sandbox_problem
from neuron2gpt import checks
from tests import harness

SETUP, CHECKS = (harness.read(harness.solution_notebook("01_neuron")).cells[i] for i in (1, 2))


def tiny_notebook(test_source):
    """Set-up, checks, and one graded test cell."""
    test = nbformat.v4.new_code_cell(test_source)
    test.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "grade_id": "test_it",
                                 "points": 1, "schema_version": 3}
    return nbformat.v4.new_notebook(cells=[copy.deepcopy(SETUP), copy.deepcopy(CHECKS), test])


@pytest.fixture
def recorded(tmp_path, monkeypatch):
    """Run a notebook with the record on, as the grader does; returns (executed notebook, folder)."""
    def run(nb):
        folder = integrity.prepare(str(tmp_path / f"record{len(list(tmp_path.iterdir()))}"))
        monkeypatch.setenv(integrity.ENVIRONMENT, folder)
        return harness.execute(nb, grading=True), folder
    return run


PASSING = 'check_close("twice", 2 * np.ones(3), np.full(3, 2.0))\ncheck_true(True, "never shown")\n'


def test_record_lists_each_check_of_a_test_cell_and_is_signed(recorded):
    nb, folder = recorded(tiny_notebook(PASSING))
    record = integrity.read(folder)
    assert record.problem is None
    assert integrity.passing_checks(nb, record) == {"test_it": ["check_close: twice", "check_true"]}
    ends = [line for line in record.lines if line.kind == "end"]
    assert [line.count for line in ends] == [2, 3] and all(line.ok for line in ends)
    assert integrity.review(nb, record, {"test_it": ["check_close: twice", "check_true"]}) == ([], {})


def test_an_altered_or_restarted_record_is_not_trusted(recorded):
    nb, folder = recorded(tiny_notebook('check_true(False, "wrong")'))
    path = os.path.join(folder, "record")
    text = open(path).read()
    assert "\tfail\t" in text
    with open(path, "w") as f:
        f.write(text.replace("\tfail\t", "\tpass\t"))
    assert "altered" in integrity.read(folder).problem
    with open(path, "w") as f:
        f.write(text)
    with open(os.path.join(folder, "key"), "a") as f:
        f.write("00" * 32 + "\n")
    assert "started 2 times" in integrity.read(folder).problem
    flags, held = integrity.review(nb, integrity.read(folder), {})
    assert flags and held == {}  # nothing was credited here, so nothing is held back


def test_a_process_forked_from_the_kernel_writes_nothing_to_the_record(recorded):
    # CI once saw a fork bomb's children, interrupted with the kernel's process group, unwind into
    # the cell hooks and append lines that repeated the kernel's numbers: the record read as altered
    fork = ('import os\npid = os.fork()\nif pid == 0:\n    check_true(True, "in the child")\n'
            '    get_ipython().events.trigger("post_run_cell", None)\n    os._exit(0)\n'
            'os.waitpid(pid, 0)\n' + PASSING)
    nb, folder = recorded(tiny_notebook(fork))
    record = integrity.read(folder)
    assert record.problem is None
    assert integrity.passing_checks(nb, record) == {"test_it": ["check_close: twice", "check_true"]}


def test_review_holds_back_a_test_that_passed_without_its_checks(recorded):
    # an earlier cell removes the checks' cell hooks and wraps every later cell in try/except
    forgive = ("import ast, sys\n"
               "shell = sys.modules['IPython'].core.interactiveshell.InteractiveShell.instance()\n"
               "shell.events.callbacks['pre_run_cell'].clear()\n"
               "shell.events.callbacks['post_run_cell'].clear()\n"
               "class Forgive(ast.NodeTransformer):\n"
               "    def visit_Module(self, node):\n"
               "        anything = ast.ExceptHandler(type=None, name=None, body=[ast.Pass()])\n"
               "        node.body = [ast.Try(body=node.body, handlers=[anything], orelse=[], finalbody=[])]\n"
               "        return ast.fix_missing_locations(node)\n"
               "shell.ast_transformers.append(Forgive())\n")
    nb = tiny_notebook("check_close('twice', 2 * np.ones(3), np.zeros(3))")
    nb.cells.insert(2, nbformat.v4.new_code_cell(forgive))
    nb, folder = recorded(nb)
    assert integrity.test_cells(nb) == [("test_it", 4, 1, 1)], "plain nbgrader gives the point"
    flags, held = integrity.review(nb, integrity.read(folder), {"test_it": ["check_close: twice"]})
    assert "the checks found replaced helpers or hooks in it" in held["test_it"]
    assert "its end was not recorded" in held["test_it"] and "first missing is 'check_close: twice'" in held["test_it"]
    assert any("IPython's ast_transformers" in flag for flag in flags), flags


def test_review_explains_each_way_a_credited_cell_falls_short():
    cell = nbformat.v4.new_code_cell("", execution_count=7)
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "test_it", "points": 2}
    nb = nbformat.v4.new_notebook(cells=[cell])
    line = integrity.Line
    start = line("start", 2, "checks", True)
    reference = {"test_it": ["check_close: a", "check_true"]}
    cases = {
        "its check 'check_close: a' failed, yet the cell showed no error": [
            line("check", 7, "check_close: a", False), line("check", 7, "check_true", True), line("end", 7, "cell", True)],
        "it ended with an error that did not show in its output": [
            line("check", 7, "check_close: a", True), line("check", 7, "check_true", True), line("end", 7, "cell", False)],
        "only 1 of the 2 checks it runs passed in order; the first missing is 'check_true'": [
            line("check", 7, "check_close: a", True), line("end", 7, "cell", True)],
    }
    for reason, lines in cases.items():
        flags, held = integrity.review(nb, integrity.Record([start] + lines), reference)
        assert reason in held["test_it"] and any(reason in flag for flag in flags), (reason, held)
    fine = [line("check", 7, "check_close: a", True), line("check", 7, "mine", True),
            line("check", 7, "check_true", True), line("end", 7, "cell", True)]
    assert integrity.review(nb, integrity.Record([start] + fine), reference) == ([], {})
    assert set(integrity.review(nb, integrity.Record(problem="was altered"), reference)[1]) == {"test_it"}


def test_first_missing_check_in_order():
    assert integrity._first_missing(["a", "b"], ["x", "a", "y", "b"]) is None
    assert integrity._first_missing(["a", "b"], ["b", "a"]) == 1
    assert integrity._first_missing(["a"], []) == 0


def test_student_code_above_the_checks_is_moved_below_them():
    nb = tiny_notebook(PASSING)
    nb.cells.insert(0, nbformat.v4.new_code_cell("import math"))
    nb.cells.insert(0, nbformat.v4.new_markdown_cell("my notes"))
    assert integrity.move_code_below_checks(nb) == 1
    kinds = [c.metadata.get("nbgrader", {}).get("grade_id") or c.source for c in nb.cells]
    assert kinds == ["my notes", "setup", "checks", "import math", "test_it"]


@pytest.mark.skipif(sandbox_problem() is not None, reason=f"no sandbox: {sandbox_problem()}")
def test_sandboxed_kernel_may_append_to_the_record_but_not_read_or_remove_it(tmp_path):
    folder = integrity.prepare(str(tmp_path / "record"))
    limits = SandboxLimits(uid=61007)
    scratch = prepare_scratch(str(tmp_path / "scratch"), limits.uid)
    probe = f"""
import os
folder = {integrity.MOUNT!r}
open(os.path.join(folder, "record"), "a").write("appended\\n")
for attempt in (lambda: open(os.path.join(folder, "key")).read(), lambda: os.unlink(os.path.join(folder, "key")),
                lambda: os.listdir(folder), lambda: os.chmod(os.path.join(folder, "key"), 0o666)):
    try:
        attempt()
        print("allowed")
    except PermissionError:
        print("refused")
"""
    out = subprocess.run(sandbox_command(["python3", "-c", probe], limits, scratch, record_dir=folder),
                         capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["refused"] * 4, out.stdout + out.stderr
    assert open(os.path.join(folder, "record")).read() == "appended\n"


def test_checks_refuse_to_run_when_what_they_use_was_replaced(monkeypatch):
    monkeypatch.setattr(np, "allclose", lambda *args, **kwargs: True)
    with pytest.raises(AssertionError, match=r"replaced numpy\.allclose\. Tests count only"):
        checks.check_close("x", np.zeros(2), np.ones(2))
    monkeypatch.undo()
    checks.check_close("x", np.ones(2), np.ones(2))
    monkeypatch.setattr(torch.Tensor, "numpy", lambda self: np.ones(2))
    with pytest.raises(AssertionError, match=r"torch\.Tensor\.numpy"):
        checks.check_true(True, "")


def test_a_library_wrapping_its_own_function_is_not_tampering(monkeypatch):
    original = torch.manual_seed
    monkeypatch.setattr(torch, "manual_seed", torch._disable_dynamo(original))  # what torch._dynamo does
    checks.check_true(True, "")
    monkeypatch.setattr(torch, "manual_seed", functools.wraps(original)(lambda seed: None))  # a student's
    with pytest.raises(AssertionError, match=r"torch\.manual_seed"):
        checks.check_true(True, "")
    monkeypatch.undo()  # back to the original: fine again (and no later test sees a changed picture)
    checks.check_true(True, "")


def test_static_review_gives_plain_hints_and_none_for_ordinary_code():
    from autograder.exploits import review_source
    hints = {
        "globals().update(check_close=print)": "rewrites a namespace wholesale",
        "import sys\nmain = sys.modules['__main__']": "sys.modules['__main__']",
        "secret = check_close.__globals__['_STATE']": "internals of functions or frames (__globals__)",
        "import IPython\nIPython.core.interactiveshell.InteractiveShell.instance().ast_transformers.append(1)":
            "changes how IPython runs or reports cells",
    }
    for source, hint in hints.items():
        assert any(hint in finding for finding in review_source(source)), (source, review_source(source))
    ordinary = ("import math, itertools\nfrom collections import OrderedDict\n"
                "def helper(z):\n    return np.maximum(z, 0.0)\nprint(helper(np.arange(3)), math.pi)\n")
    assert review_source(ordinary) == []


def test_a_test_cells_own_reference_rebound_by_the_answer_fails_that_test(recorded):
    answer = nbformat.v4.new_code_cell(
        "def relu(z):\n    import sys\n"
        "    sys.modules['__main__'].__dict__['reference_relu'] = lambda z: 0 * z\n    return 0 * z\n")
    nb = tiny_notebook("def reference_relu(z):\n    return np.maximum(z, 0)\n\n"
                       "got = run_keeping_rule('NumPy only', relu, np.arange(-2.0, 3.0))\n"
                       "check_close('relu(z)', got, reference_relu(np.arange(-2.0, 3.0)))\n")
    nb.cells.insert(2, answer)
    nb, folder = recorded(nb)
    (error,) = [o for o in nb.cells[3].outputs if o.output_type == "error"]
    assert "replaced reference_relu (a function of this test cell)" in error.evalue
    assert any(line.kind == "replaced" for line in integrity.read(folder).lines)
